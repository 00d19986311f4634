#!/usr/bin/env python3
"""Generate reference models of the xLSTM-7B architecture ("xLSTM Large") with the official NX-AI code.

usage: make_large_reference_models.py XLSTM_SRC MLSTM_KERNELS_SRC [OUT_DIR] [NAME ...]

XLSTM_SRC is an extracted checkout of NX-AI/xlstm (the directory that contains the `xlstm` package),
MLSTM_KERNELS_SRC one of NX-AI/mlstm_kernels (contains `mlstm_kernels`).  OUT_DIR defaults to
tests/data/large next to this script.  With NAMEs only those models are produced.

The model is NX `xlstm.xlstm_large.model.xLSTMLarge` with mlstm_kernels' native PyTorch kernels
(chunkwise "chunkwise--native_autograd", sequence "native_sequence__native", step "native",
mode "inference").  Triton, numpy and einops are not needed: stand-ins are installed for the
modules that are only imported (triton, numpy) and a small reshape-only `einops.rearrange`.

Every model folder gets:
  config.json          Hugging Face config.json (model_type "xlstm"), same keys as NX-AI/xLSTM-7b's
  model.safetensors    F32 weights under the Hugging Face names (`backbone.embeddings.weight`, ...);
                       model `nx_embedding_name` keeps NX's `embedding.weight`
  expected.safetensors tokens (I32 [S]) and [S, V] F32 logit tables:
                       logits_f64      float64 forward on the f32-rounded weights (the truth)
                       logits_forward  float32, one call over all tokens (chunkwise + recurrent tail)
                       logits_step     float32, one token per call

The float64 run uses norm_reduction_force_float32=False and float64 kernel states (otherwise the
norms and the recurrent state would be rounded to float32); the float32 runs use the config as
written.  The float64 step path and whole-sequence path are checked to agree.
"""
import importlib.abc
import importlib.machinery
import json
import math
import os
import struct
import sys
import types

import torch

torch.set_num_threads(1)


# ----------------------------------------------------------------------------- import stand-ins
class _Anything:
    """Stand-in for attributes of modules that are imported but never executed here (triton)."""

    def __init__(self, *a, **k):
        pass

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _Anything()

    def __call__(self, *a, **k):
        if len(a) == 1 and callable(a[0]) and not k:
            return a[0]  # used as a decorator
        return _Anything()

    def __getitem__(self, key):
        return _Anything()

    def __mro_entries__(self, bases):
        return (object,)


class _StubModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _Anything()


def _not_available(*a, **k):
    raise RuntimeError("triton kernels are not available here; use the native kernels")


class _KernelStubModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _not_available


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """triton and numpy are imported at module level but not used by the native kernels; the
    triton-backed kernel modules of mlstm_kernels (registered next to the native ones) are replaced
    by modules whose functions raise when called."""

    ROOTS = ("triton", "numpy")

    @staticmethod
    def _is_triton_kernel_module(fullname):
        parts = fullname.split(".")
        return parts[0] == "mlstm_kernels" and any(p.startswith("triton") for p in parts[1:])

    def find_spec(self, fullname, path, target=None):
        if fullname.split(".")[0] in self.ROOTS or self._is_triton_kernel_module(fullname):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        m = (_KernelStubModule if self._is_triton_kernel_module(spec.name) else _StubModule)(spec.name)
        m.__path__ = []
        return m

    def exec_module(self, module):
        pass


def _parse_side(side):
    groups, i, toks = [], 0, side.split()
    while i < len(toks):
        t = toks[i]
        if t.startswith("("):
            g = [t[1:]]
            while not toks[i].endswith(")"):
                i += 1
                g.append(toks[i])
            g[-1] = g[-1][:-1]
            groups.append([x for x in g if x])
        else:
            groups.append([t])
        i += 1
    return groups


def rearrange(x, pattern, **sizes):
    """einops.rearrange for pure split/merge patterns (no axis permutation): all the native kernels use."""
    lhs, rhs = (s.strip() for s in pattern.split("->"))
    lg, rg = _parse_side(lhs), _parse_side(rhs)
    assert len(lg) == x.dim(), (pattern, x.shape)
    known = dict(sizes)
    known["1"] = 1
    for g, n in zip(lg, x.shape):
        unknown = [a for a in g if a not in known]
        prod = 1
        for a in g:
            if a in known:
                prod *= known[a]
        if len(unknown) == 1:
            known[unknown[0]] = n // prod
        elif not unknown:
            assert prod == n, (pattern, x.shape)
        else:
            raise ValueError(pattern)
    flat_l = [a for g in lg for a in g if a != "1"]
    flat_r = [a for g in rg for a in g if a != "1"]
    assert flat_l == flat_r, "permuting rearrange not supported: " + pattern
    shape = []
    for g in rg:
        p = 1
        for a in g:
            p *= known[a]
        shape.append(p)
    return x.reshape(shape)


def import_reference(xlstm_src, mk_src):
    sys.meta_path.insert(0, _StubFinder())
    einops = types.ModuleType("einops")
    einops.rearrange = rearrange
    sys.modules.setdefault("einops", einops)
    import torch.amp

    if not hasattr(torch.amp, "custom_fwd"):  # torch < 2.4: CUDA-autocast decorators, no-ops on CPU
        def _deco(*a, **k):
            return lambda f: f
        torch.amp.custom_fwd = _deco
        torch.amp.custom_bwd = _deco
    if not hasattr(torch, "compile"):  # torch < 2.0: only decorates triton-path helpers that are never called
        torch.compile = lambda f=None, **k: f if f is not None else (lambda g: g)
    sys.path.insert(0, os.path.abspath(mk_src))
    # load xlstm.xlstm_large without the package __init__ (which pulls in the older xLSTM code)
    pkg = types.ModuleType("xlstm")
    pkg.__path__ = [os.path.join(os.path.abspath(xlstm_src), "xlstm")]
    sys.modules["xlstm"] = pkg
    # generate.py (sampling loop, unused here) decorates with bare `@torch.no_grad`, which torch < 2.0 rejects
    gen = types.ModuleType("xlstm.xlstm_large.generate")
    gen.generate_tokens = gen.get_sampling_fn = None
    sys.modules["xlstm.xlstm_large.generate"] = gen
    from xlstm.xlstm_large.model import xLSTMLarge, xLSTMLargeConfig
    from xlstm.xlstm_large.utils import convert_single_weights_to_fused_weights, round_up_to_next_multiple_of

    return types.SimpleNamespace(Model=xLSTMLarge, Config=xLSTMLargeConfig, to_fused=convert_single_weights_to_fused_weights,
                                 round_up=round_up_to_next_multiple_of)


# ----------------------------------------------------------------------------- safetensors writer
def write_safetensors(path, tensors):
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        vals = t.reshape(-1).tolist()
        if t.dtype == torch.float32:
            raw, dt = struct.pack("<%df" % len(vals), *vals), "F32"
        elif t.dtype == torch.int32:
            raw, dt = struct.pack("<%di" % len(vals), *vals), "I32"
        else:
            raise TypeError(t.dtype)
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    return 8 + len(h) + off


# ----------------------------------------------------------------------------- model specs
BASE = dict(embedding_dim=48, num_heads=2, num_blocks=2, vocab_size=80, use_bias=False, norm_eps=1e-6,
            norm_reduction_force_float32=True, add_out_norm=True, qk_dim_factor=0.5, v_dim_factor=1.0,
            chunk_size=64, eps=1e-6, ffn_proj_factor=2.667, ffn_round_up_to_multiple_of=64, gate_soft_cap=15.0,
            output_logit_soft_cap=30.0, weight_mode="single")

# name -> (config overrides, options).  options: S (tokens), seed, emb_name, logit_scale
MODELS = {
    "heads4_qk025": (dict(embedding_dim=64, num_heads=4, qk_dim_factor=0.25, v_dim_factor=1.0, vocab_size=83,
                          ffn_proj_factor=1.0), dict(S=80)),
    "heads1_v05": (dict(embedding_dim=48, num_heads=1, qk_dim_factor=1.0, v_dim_factor=0.5, vocab_size=71),
                   dict(S=72)),
    # 40*2.0 = 80 -> 96
    "ffn_round32": (dict(embedding_dim=40, num_heads=2, ffn_proj_factor=2.0, ffn_round_up_to_multiple_of=32,
                         vocab_size=66, num_blocks=3), dict(S=64)),
    # 57*1.7 = 96.9: NX's float floor-div rounding gives ((96.9+31)//32)*32 = 96, a true ceil would give 128
    "ffn_frac_1p7": (dict(embedding_dim=57, num_heads=3, qk_dim_factor=1.0, ffn_proj_factor=1.7,
                          ffn_round_up_to_multiple_of=32, vocab_size=61), dict(S=56)),
    "bias_on": (dict(use_bias=True, vocab_size=75), dict(S=70)),
    "caps_off": (dict(gate_soft_cap=None, output_logit_soft_cap=None, vocab_size=67), dict(S=66, logit_scale=4.0)),
    "caps_small": (dict(gate_soft_cap=3.0, output_logit_soft_cap=5.0, vocab_size=69), dict(S=60)),
    "fused": (dict(weight_mode="fused", vocab_size=77), dict(S=68)),
    "fused_bias": (dict(weight_mode="fused", use_bias=True, embedding_dim=40, vocab_size=63), dict(S=50)),
    "nx_embedding_name": (dict(vocab_size=62), dict(S=48, emb_name="embedding.weight")),
    "long": (dict(embedding_dim=32, num_heads=2, vocab_size=60, ffn_proj_factor=2.0, ffn_round_up_to_multiple_of=32),
             dict(S=300)),
    "eps_large": (dict(norm_eps=0.05, eps=1e-2, embedding_dim=56, num_heads=4, ffn_proj_factor=1.3,
                       ffn_round_up_to_multiple_of=32, vocab_size=64), dict(S=90)),
    "no_out_norm": (dict(add_out_norm=False, vocab_size=73), dict(S=60)),
}


def hf_config(c):
    """Hugging Face config.json with the keys of NX-AI/xLSTM-7b's (plus hidden_size / num_hidden_layers)."""
    v_dim = int(c["embedding_dim"] * c["v_dim_factor"])
    return {
        "add_embedding_dropout": False, "add_forward_backend_padding": False, "add_out_norm": c["add_out_norm"],
        "add_post_blocks_norm": True, "add_post_norm": False, "add_qk_norm": False,
        "architectures": ["xLSTMForCausalLM"], "autocast_kernel_dtype": "bfloat16", "bos_token_id": 0,
        "cell_norm_eps": c["norm_eps"], "chunk_size": c["chunk_size"], "chunkwise_kernel": "chunkwise--native_autograd",
        "embedding_dim": c["embedding_dim"], "eos_token_id": 2, "eps": c["eps"], "ffn_proj_factor": c["ffn_proj_factor"],
        "ffn_round_up_to_multiple_of": c["ffn_round_up_to_multiple_of"], "force_bos_token_insert": True,
        "gate_soft_cap": c["gate_soft_cap"], "head_dim": v_dim // c["num_heads"], "hidden_size": c["embedding_dim"],
        "igate_bias_init_range": -10.0, "inference_state_dtype": "float32", "mlstm_round_up_to_multiple_of": 64,
        "mode": "inference", "model_type": "xlstm", "norm_eps": c["norm_eps"],
        "norm_reduction_force_float32": c["norm_reduction_force_float32"], "num_blocks": c["num_blocks"],
        "num_heads": c["num_heads"], "num_hidden_layers": c["num_blocks"],
        "output_logit_soft_cap": c["output_logit_soft_cap"], "pad_token_id": 1, "qk_dim_factor": c["qk_dim_factor"],
        "return_last_states": True, "sequence_kernel": "native_sequence__native", "step_kernel": "native",
        "tie_word_embeddings": False, "torch_dtype": "float32", "transformers_version": "4.48.0.dev0",
        "use_bias": c["use_bias"], "use_cache": True, "v_dim_factor": c["v_dim_factor"],
        "vocab_size": c["vocab_size"], "weight_mode": c["weight_mode"],
    }


def nx_config(ref, c, f64):
    kw = dict(c)
    kw.update(chunkwise_kernel="chunkwise--native_autograd", sequence_kernel="native_sequence__native",
              step_kernel="native", mode="inference", return_last_states=True)
    if f64:  # no float32 rounding inside the norms or of the recurrent state
        kw.update(norm_reduction_force_float32=False, inference_state_dtype="float64")
    return ref.Config(**kw)


# ----------------------------------------------------------------------------- weights
def random_weights(model, c, g, logit_scale):
    """Single-mode state_dict with weights that make the soft caps and the exp(-m) branch matter."""
    D, NH = c["embedding_dim"], c["num_heads"]
    cap = c["gate_soft_cap"] or 15.0
    sd = {}
    for name, p in model.state_dict().items():
        shape = p.shape
        n = lambda: torch.randn(shape, generator=g, dtype=torch.float64)  # noqa: E731
        if name == "embedding.weight":
            t = n()
        elif name.endswith("igate_preact.weight"):
            t = n() * (0.45 * cap) / math.sqrt(D)
        elif name.endswith("fgate_preact.weight"):
            t = n() * (0.35 * cap) / math.sqrt(D)
        elif name.endswith("igate_preact.bias"):
            # spread from strongly negative (exp(-m) lower bound active for long stretches) to positive
            lo = -0.9 * cap if NH > 1 else -0.25 * cap
            t = torch.linspace(lo, 0.25 * cap, NH, dtype=torch.float64)[torch.randperm(NH, generator=g)]
            t = t + 0.3 * n()
        elif name.endswith("fgate_preact.bias"):
            lo = -0.1 * cap if NH > 1 else 0.2 * cap
            t = torch.linspace(lo, 0.5 * cap, NH, dtype=torch.float64)[torch.randperm(NH, generator=g)]
            t = t + 0.3 * n()
        elif name.endswith("norm.weight") or name.endswith("norm_mlstm.weight") or name.endswith("norm_ffn.weight"):
            t = 1.0 + 0.3 * n()
        elif name.endswith(".bias"):
            t = 0.3 * n()
        elif name == "lm_head.weight":
            t = n() * logit_scale / math.sqrt(D)
        elif name.endswith("ogate_preact.weight"):
            t = n() * 2.0 / math.sqrt(D)
        elif name.endswith("out_proj.weight") or name.endswith("proj_down.weight"):
            t = n() * 0.7 / math.sqrt(shape[1])
        elif name.endswith("k.weight"):
            t = n() * 1.5 / math.sqrt(D)
        else:  # q, v, proj_up, proj_up_gate
            t = n() / math.sqrt(D)
        sd[name] = t.float()  # round to f32 first: everything below runs on these values
    return sd


# ----------------------------------------------------------------------------- runs
def run_forward(model, tokens):
    with torch.no_grad():
        out, _ = model(tokens[None])
    return out[0]


def run_step(model, tokens):
    rows, state = [], None
    with torch.no_grad():
        for t in range(tokens.shape[0]):
            out, state = model(tokens[None, t:t + 1], state)
            rows.append(out[0, 0])
    return torch.stack(rows)


class Recorder:
    """Captures gate pre-activations (before the soft cap), q/k/i/f kernel inputs and raw logits."""

    def __init__(self, model):
        self.raw_gates, self.kernel_in, self.raw_logits = [], [], []
        for name, mod in model.named_modules():
            if name.endswith(("igate_preact", "fgate_preact", "ifgate_preact")):
                mod.register_forward_hook(lambda m, a, o: self.raw_gates.append(o.detach()))
            if name.endswith("mlstm_backend"):
                fwd = mod.forward

                def wrapped(*a, _fwd=fwd, **k):
                    self.kernel_in.append({x: k[x].detach() for x in ("q", "k", "i", "f")})
                    return _fwd(*a, **k)
                mod.forward = wrapped
        model.lm_head.register_forward_hook(lambda m, a, o: self.raw_logits.append(o.detach()))


def lower_bound_share(kin, eps):
    """Share of (block, head, t) where exp(-m) > |q.n| (the normaliser's lower bound is active), from m0 = 0."""
    hits = total = 0
    for rec in kin:
        q, k, i, f = rec["q"][0], rec["k"][0], rec["i"][0], rec["f"][0]  # [NH, S, DH], [NH, S]
        NH, S, DHQK = q.shape
        for h in range(NH):
            n = torch.zeros(DHQK, dtype=torch.float64)
            m = torch.zeros((), dtype=torch.float64)
            for t in range(S):
                lf = torch.nn.functional.logsigmoid(f[h, t])
                m_new = torch.maximum(lf + m, i[h, t])
                n = torch.exp(lf + m - m_new) * n + torch.exp(i[h, t] - m_new) * k[h, t]
                m = m_new
                qn = torch.dot(q[h, t] / math.sqrt(DHQK), n).abs()
                hits += int(torch.exp(-m) > qn)
                total += 1
    return hits / max(total, 1)


def make_model(ref, name, out_root):
    over, opt = MODELS[name]
    c = dict(BASE)
    c.update(over)
    S = opt["S"]
    g = torch.Generator().manual_seed(1000 + sorted(MODELS).index(name))
    fused = c["weight_mode"] == "fused"

    # weights in single mode; fused models get them through NX's own converter
    c_single = dict(c, weight_mode="single")
    single32 = ref.Model(nx_config(ref, c_single, f64=False))
    sd_single = random_weights(single32, c, g, opt.get("logit_scale", 9.0))
    sd = ref.to_fused(dict(sd_single)) if fused else sd_single

    m32 = ref.Model(nx_config(ref, c, f64=False))
    m32.load_state_dict(sd, strict=True)
    m32.eval()
    m64 = ref.Model(nx_config(ref, c, f64=True))
    m64.load_state_dict(sd, strict=True)
    m64.double().eval()
    rec = Recorder(m64)

    tokens = torch.randint(0, c["vocab_size"], (S,), generator=g)
    tokens[0] = 0  # BOS

    f64_fwd = run_forward(m64, tokens)
    diag_gates, diag_kin, diag_logits = rec.raw_gates, rec.kernel_in, rec.raw_logits
    rec.raw_gates, rec.kernel_in, rec.raw_logits = [], [], []
    f64_step = run_step(m64, tokens)
    d_f64 = (f64_fwd - f64_step).abs().max().item()
    assert d_f64 < 1e-9, f"{name}: f64 forward vs step differ by {d_f64}"
    if fused:  # the same weights in single mode must give the same result
        ms = ref.Model(nx_config(ref, c_single, f64=True))
        ms.load_state_dict(sd_single, strict=True)
        ms.double().eval()
        d_sf = (run_forward(ms, tokens) - f64_fwd).abs().max().item()
        assert d_sf < 1e-9, f"{name}: fused vs single differ by {d_sf}"
    f32_fwd = run_forward(m32, tokens)
    f32_step = run_step(m32, tokens)

    # save
    out_dir = os.path.join(out_root, name)
    os.makedirs(out_dir, exist_ok=True)
    emb_name = opt.get("emb_name", "backbone.embeddings.weight")
    tensors = {(emb_name if k == "embedding.weight" else k): v.float() for k, v in sd.items()}
    tensors = dict(sorted(tensors.items()))
    model_bytes = write_safetensors(os.path.join(out_dir, "model.safetensors"), tensors)
    assert model_bytes <= 300 * 1024, f"{name}: model.safetensors is {model_bytes} bytes"
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(hf_config(c), f, indent=2, sort_keys=True)
        f.write("\n")
    write_safetensors(os.path.join(out_dir, "expected.safetensors"), {
        "tokens": tokens.to(torch.int32),
        "logits_f64": f64_fwd.float(),
        "logits_forward": f32_fwd.float(),
        "logits_step": f32_step.float(),
    })

    # diagnostics
    gcap = c["gate_soft_cap"]
    graw = torch.cat([x.reshape(-1) for x in diag_gates])
    lraw = torch.cat([x.reshape(-1) for x in diag_logits])
    ocap = c["output_logit_soft_cap"]
    info = {
        "model_bytes": model_bytes,
        "F": ref.round_up(c["embedding_dim"] * c["ffn_proj_factor"], c["ffn_round_up_to_multiple_of"]),
        "f64_fwd_vs_step": d_f64,
        "f32_fwd_err": (f32_fwd - f64_fwd).abs().max().item(),
        "f32_step_err": (f32_step - f64_fwd).abs().max().item(),
        "gate_|raw|max": graw.abs().max().item(),
        "gate_share_|raw|>cap/2": (graw.abs() > gcap / 2).double().mean().item() if gcap else None,
        "logit_|raw|max": lraw.abs().max().item(),
        "logit_|out|max": f64_fwd.abs().max().item(),
        "logit_share_|raw|>cap/2": (lraw.abs() > ocap / 2).double().mean().item() if ocap else None,
        "exp(-m)_bound_share": lower_bound_share(diag_kin, c["eps"]),
    }
    return info


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    ref = import_reference(sys.argv[1], sys.argv[2])
    here = os.path.dirname(os.path.abspath(__file__))
    out_root = os.path.join(here, "..", "tests", "data", "large")
    names = []
    for a in sys.argv[3:]:
        if a in MODELS:
            names.append(a)
        else:
            out_root = a
    for name in names or list(MODELS):
        info = make_model(ref, name, out_root)
        print(name, " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in info.items()),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
