#!/usr/bin/env python3
"""Generate reference xLSTM models + expected logits with the reference PyTorch package.

usage: make_reference_models.py REFERENCE_SRC_DIR [OUT_DIR] [NAME ...]

REFERENCE_SRC_DIR is an extracted checkout of NX-AI/xlstm (the directory that contains the
`xlstm` package).  OUT_DIR defaults to tests/data/ref next to this script.  With NAMEs only those
models are produced.

Every model folder gets:
  config.json          the xLSTMLMModelConfig as JSON (user fields, no derived `_` fields)
  model.safetensors    the state_dict under the reference names
  expected.safetensors tokens (I32 [S]), logits_forward and logits_step (F32 [S, V])

Runs on CPU in float32 with the sLSTM "vanilla" backend.  Models that declare backend "cuda"
are built with the vanilla backend and their sLSTM recurrent kernel / bias are converted to the
layout that the cuda backend keeps in its state_dict before saving.
"""
import dataclasses
import json
import os
import struct
import sys

import torch

torch.set_num_threads(1)


# ----------------------------------------------------------------------------- safetensors I/O
_ST_DTYPE = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int32: "I32"}


def _raw_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        raw = _raw_bytes(t)
        header[name] = {"dtype": _ST_DTYPE[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ----------------------------------------------------------------------------- reference import
def import_reference(src):
    sys.path.insert(0, os.path.abspath(src))
    import xlstm  # noqa: F401  (the package __init__ only pulls in the torch modules)
    from xlstm.xlstm_lm_model import xLSTMLMModel, xLSTMLMModelConfig
    from xlstm.blocks.mlstm.block import mLSTMBlockConfig
    from xlstm.blocks.mlstm.layer import mLSTMLayerConfig
    from xlstm.blocks.slstm.block import sLSTMBlockConfig
    from xlstm.blocks.slstm.layer import sLSTMLayerConfig
    from xlstm.blocks.slstm.cell import sLSTMCell_cuda
    from xlstm.components.feedforward import FeedForwardConfig
    from xlstm.components.conv import CausalConv1d
    _patch_conv1(CausalConv1d)
    return dict(Model=xLSTMLMModel, ModelConfig=xLSTMLMModelConfig, mBlock=mLSTMBlockConfig,
                mLayer=mLSTMLayerConfig, sBlock=sLSTMBlockConfig, sLayer=sLSTMLayerConfig,
                FF=FeedForwardConfig, CellCuda=sLSTMCell_cuda)


def _patch_conv1(CausalConv1d):
    """The reference's parallel CausalConv1d.forward slices `y[:, :, :-pad]`, which is empty for
    kernel_size 1 (pad 0), so its parallel forward crashes.  For kernel_size 1 without a conv state
    the causal conv is just the unpadded depthwise conv; route only that case around the slice."""
    orig = CausalConv1d.forward

    def forward(self, x, conv_state=None, return_last_state=False):
        if self.config.kernel_size == 1 and conv_state is None and not return_last_state:
            return self.conv(x.transpose(2, 1)).transpose(2, 1)
        return orig(self, x, conv_state=conv_state, return_last_state=return_last_state)

    CausalConv1d.forward = forward


def build_config(R, d, force_vanilla=True):
    """Build an xLSTMLMModelConfig from a JSON-like dict (like dacite would).  Returns (config, backend)."""
    d = json.loads(json.dumps(d))
    backend = None
    kw = {k: v for k, v in d.items() if k not in ("mlstm_block", "slstm_block")}
    if d.get("mlstm_block") is not None:
        mb = d["mlstm_block"]
        kw["mlstm_block"] = R["mBlock"](mlstm=R["mLayer"](**mb.get("mlstm", {})))
    if d.get("slstm_block") is not None:
        sb = d["slstm_block"]
        sl = dict(sb.get("slstm", {}))
        backend = sl.get("backend", "cuda")
        if force_vanilla:
            sl["backend"] = "vanilla"
        skw = {"slstm": R["sLayer"](**sl)}
        if "feedforward" in sb:
            skw["feedforward"] = None if sb["feedforward"] is None else R["FF"](**sb["feedforward"])
        kw["slstm_block"] = R["sBlock"](**skw)
    return R["ModelConfig"](**kw), backend


def config_to_json(cfg, backend):
    def strip(o):
        if isinstance(o, dict):
            return {k: strip(v) for k, v in o.items() if not k.startswith("_")}
        if isinstance(o, (list, tuple)):
            return [strip(v) for v in o]
        return o
    j = strip(dataclasses.asdict(cfg))
    if j.get("slstm_block") is not None and backend is not None:
        j["slstm_block"]["slstm"]["backend"] = backend
    return j


# ----------------------------------------------------------------------------- model specs
def M(num_heads=4, conv=4, bs=4, pf=2.0, up=True, mult=64, **extra):
    d = {"mlstm": {"num_heads": num_heads, "conv1d_kernel_size": conv, "qkv_proj_blocksize": bs,
                   "proj_factor": pf, "round_proj_up_dim_up": up, "round_proj_up_to_multiple_of": mult}}
    d["mlstm"].update(extra)
    return d


def S(num_heads=4, conv=4, backend="vanilla", function="slstm", gnw=True, ff="default", **ffkw):
    d = {"slstm": {"num_heads": num_heads, "conv1d_kernel_size": conv, "backend": backend,
                   "function": function, "group_norm_weight": gnw}}
    if ff is None:
        d["feedforward"] = None
    else:
        f = {"proj_factor": 1.3, "act_fn": "gelu", "bias": False}
        f.update(ffkw)
        d["feedforward"] = f
    return d


def top(V, E, N, ctx, mb=None, sb=None, slstm_at=None, **kw):
    d = {"vocab_size": V, "embedding_dim": E, "num_blocks": N, "context_length": ctx}
    if mb is not None:
        d["mlstm_block"] = mb
    if sb is not None:
        d["slstm_block"] = sb
    if slstm_at is not None:
        d["slstm_at"] = slstm_at
    d.update(kw)
    return d


# name -> dict(cfg=..., seq=..., [dtype=F16/BF16], [tie="emb_only"|"both"], [raw_config=True])
SPECS = {
    "m_heads2_bs8_conv2_bias": dict(cfg=top(64, 32, 2, 64, mb=M(num_heads=2, conv=2, bs=8, pf=2.0), bias=True), seq=40),
    "m_conv1_round_down": dict(cfg=top(60, 48, 2, 64, mb=M(num_heads=1, conv=1, bs=4, pf=1.5, up=False, mult=16)), seq=32),
    "m_tied_emb_only": dict(cfg=top(80, 32, 2, 64, mb=M(num_heads=2), tie_weights=True, add_post_blocks_norm=False),
                            seq=32, tie="emb_only"),
    "m_tied_both": dict(cfg=top(80, 32, 2, 64, mb=M(num_heads=2), tie_weights=True), seq=32, tie="both"),
    "mixed_swish_cuda": dict(cfg=top(70, 32, 3, 64, mb=M(num_heads=2),
                                     sb=S(num_heads=2, conv=0, backend="cuda", gnw=False, act_fn="swish"),
                                     slstm_at=[0, 2]), seq=36),
    "s_only_relu2_cuda": dict(cfg=top(64, 32, 2, 64, sb=S(num_heads=2, conv=4, backend="cuda",
                                                         act_fn="relu^2", proj_factor=2.0)), seq=32),
    "act_relu": dict(cfg=top(50, 32, 2, 64, mb=M(num_heads=2), sb=S(num_heads=2, act_fn="relu"), slstm_at=[1]), seq=24),
    "act_sigmoid": dict(cfg=top(50, 32, 2, 64, mb=M(num_heads=2), sb=S(num_heads=2, act_fn="sigmoid"), slstm_at=[1]), seq=24),
    "act_selu": dict(cfg=top(50, 32, 2, 64, mb=M(num_heads=2), sb=S(num_heads=2, act_fn="selu"), slstm_at=[1]), seq=24),
    "defaults_omitted": dict(cfg={"vocab_size": 64, "embedding_dim": 32, "num_blocks": 2,
                                  "mlstm_block": {"mlstm": {"num_heads": 2}},
                                  "slstm_block": {"slstm": {"num_heads": 2}},
                                  "slstm_at": [1], "context_length": 64}, seq=30, raw_config=True),
    "bf16_mixed": dict(cfg=top(64, 32, 3, 64, mb=M(num_heads=2), sb=S(num_heads=2), slstm_at=[1]), seq=32, dtype="BF16"),
    "f16_mlstm": dict(cfg=top(64, 32, 2, 64, mb=M(num_heads=2)), seq=32, dtype="F16"),
    "long_mixed": dict(cfg=top(50, 32, 3, 400, mb=M(num_heads=2), sb=S(num_heads=2), slstm_at=[1]), seq=400),
    "slstm_lstm_fn": dict(cfg=top(50, 32, 2, 64, mb=M(num_heads=2), sb=S(num_heads=2, function="lstm"), slstm_at=[1]), seq=32),
    "ffn_bias": dict(cfg=top(50, 32, 2, 64, mb=M(num_heads=2), sb=S(num_heads=2, bias=True), slstm_at=[1]), seq=32),
    "no_ffn": dict(cfg=top(50, 32, 3, 64, mb=M(num_heads=2), sb=S(num_heads=2, ff=None), slstm_at=[0, 2]), seq=32),
}


# ----------------------------------------------------------------------------- generation
def randomise(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            std = 0.15
            if "norm" in name:
                std = 0.3  # LayerNorm / group-norm offsets
            elif "_recurrent_kernel_" in name:
                std = 0.2
            elif "_bias_" in name or name.endswith(".bias"):
                std = 0.3
            elif "conv1d" in name:
                std = 0.3
            elif "learnable_skip" in name:
                std = 0.3
            p.add_(torch.randn(p.shape, generator=g) * std)


def to_cuda_layout(R, cell, sd, prefix):
    """Convert one sLSTM cell's vanilla-internal kernel/bias in sd to the cuda backend's internal layout."""
    rk_ext = cell._recurrent_kernel_int2ext(sd[prefix + "_recurrent_kernel_"])
    b_ext = cell._bias_int2ext(sd[prefix + "_bias_"])
    cuda = R["CellCuda"](cell.config, skip_backend_init=True)
    sd[prefix + "_recurrent_kernel_"] = cuda._recurrent_kernel_ext2int(rk_ext).contiguous()
    sd[prefix + "_bias_"] = cuda._bias_ext2int(b_ext).contiguous()


def make_one(R, name, spec, out_root, seed):
    torch.manual_seed(seed)
    cfg, backend = build_config(R, spec["cfg"])
    model = R["Model"](cfg)
    model.reset_parameters()
    randomise(model, seed + 1)
    model.eval()

    dtype = spec.get("dtype", "F32")
    tdt = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[dtype]
    if tdt != torch.float32:  # round the weights, compute in float32
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(p.to(tdt).float())

    V = cfg.vocab_size
    g = torch.Generator().manual_seed(seed + 2)
    tokens = torch.randint(0, V, (spec["seq"],), generator=g, dtype=torch.int64)

    with torch.no_grad():
        lf = model(tokens[None])[0].float()
        state, rows = None, []
        for t in range(tokens.shape[0]):
            lo, state = model.step(tokens[None, t:t + 1], state=state)
            rows.append(lo[0, -1].float())
        ls = torch.stack(rows)
    if not (torch.isfinite(lf).all() and torch.isfinite(ls).all()):
        raise RuntimeError(f"{name}: non-finite logits")
    diff = (lf - ls).abs().max().item()

    sd = {k: v.detach().clone().float() for k, v in model.state_dict().items()}
    if backend == "cuda":
        for i, block in enumerate(model.xlstm_block_stack.blocks):
            cell = getattr(block.xlstm, "slstm_cell", None)
            if cell is not None:
                to_cuda_layout(R, cell, sd, f"xlstm_block_stack.blocks.{i}.xlstm.slstm_cell.")
    if spec.get("tie") == "emb_only":
        sd.pop("lm_head.weight", None)
    sd = {k: v.to(tdt) for k, v in sd.items()}

    cj = spec["cfg"] if spec.get("raw_config") else config_to_json(cfg, backend)

    out = os.path.join(out_root, name)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cj, f, indent=1)
        f.write("\n")
    write_safetensors(os.path.join(out, "model.safetensors"), sd)
    write_safetensors(os.path.join(out, "expected.safetensors"),
                      {"tokens": tokens.to(torch.int32), "logits_forward": lf.contiguous(),
                       "logits_step": ls.contiguous()})
    tokdir = os.environ.get("XLSTM_REF_TOKENS_DIR", "/tmp/xlstm-ref-tokens")
    os.makedirs(tokdir, exist_ok=True)
    with open(os.path.join(tokdir, name + ".txt"), "w") as f:
        f.write(" ".join(str(int(x)) for x in tokens) + "\n")
    size = os.path.getsize(os.path.join(out, "model.safetensors"))
    print(f"{name:28s} S={tokens.shape[0]:4d} V={V:4d} model={size/1024:7.1f} KB  "
          f"max|logit|={lf.abs().max().item():7.3f}  forward-vs-step max diff={diff:.3g}", flush=True)
    return diff


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    R = import_reference(sys.argv[1])
    here = os.path.dirname(os.path.abspath(__file__))
    out_root = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "tests", "data", "ref")
    names = sys.argv[3:] or list(SPECS)
    for i, name in enumerate(SPECS):
        if name in names:
            make_one(R, name, SPECS[name], out_root, seed=1000 + 17 * i)
    return 0


if __name__ == "__main__":
    sys.exit(main())
