#!/usr/bin/env python3
"""Build a TiRex reference folder (model.ckpt, series.csv, expected.safetensors) with the
NX-AI/tirex reference package, like the golden folders in tests (see their README).

usage: make_tirex_reference.py OUT_DIR [--tirex-src DIR] [hyper-parameters] [series] [options]

  OUT_DIR                  created if missing; gets model.ckpt, series.csv, expected.safetensors
  --tirex-src DIR          a checkout of NX-AI/tirex (its root, or the folder holding the `tirex`
                           package); else `tirex` must be importable (PYTHONPATH)
 hyper-parameters (stored in the checkpoint exactly as the real NX-AI/TiRex model.ckpt nests them):
  --dim D --heads NH --blocks NB --patch P --ff-dim FF --ctx T (train_ctx_len)
  --quantiles 0.1,0.2,...  (must contain 0.5: forecast() returns that column as the mean)
  --ffn-proj-factor F      stored as block_kwargs.ffn_proj_factor; omitted = key absent, as in the
                           real checkpoint (the reference's default is 2.6667)
 series and call:
  --series KIND[,KIND...]  the rows, in order (default: the golden set, see SERIES_KINDS below)
  --series-csv FILE        use these rows instead (one per line, comma-separated, nan = missing)
  --horizon H              prediction_length (default P)
 options:
  --seed S                 weights and series (numpy default_rng; default 0)
  --zip-name NAME          the zip's top folder (torch.save takes it from the file's stem; default
                           "model", as in the real model.ckpt)
  --name NAME              the variant name recorded in the metadata (default: OUT_DIR's basename)
  --ckpt-only              write model.ckpt only (no reference run)
  -t THREADS               torch.set_num_threads (default 1)
  --blas ref|system        ref (default): re-run this script with LD_LIBRARY_PATH pointing at
                           netlib's reference libblas.so.3 (Debian: /usr/lib/x86_64-linux-gnu/blas),
                           which is what the golden outputs were made with; system: the BLAS
                           that libblas.so.3 resolves to (OpenBLAS changes fp32 last bits, and
                           through the bf16 roundings the output by up to ~1e-2 of scale)

Weights are random but shaped like a trained model's statistics (the golden models use the same
recipe): linear and headwise weights N(0, 1/fan_in), linear biases N(0, 0.1^2), norm weights
U(0.6, 1.4), group-norm weight offsets N(0, 0.3^2), sLSTM bias per gate i ~ N(-0.5, 0.5^2),
f ~ U(1, 5) with 7% U(15.5, 18) (past the forget-gate clamp at 15), z ~ N(0, 0.3^2),
o ~ N(0.5, 0.5^2).

expected.safetensors: context F32 [B, L] (rows left-padded with NaN to the longest), horizon I32 [1],
quantiles F32 [B, H, Q], mean F32 [B, H], quantile_levels F32 [Q], loc and scale F32 [B] (the
reference scaler's statistics in the first forecast pass), quantiles_fp32_recurrence F32 [B, H, Q]
(the same call with the sLSTM cell's bf16 casts removed); __metadata__: variant, reference, call,
hyper_parameters (JSON), blas, generator.

The reference needs torch; with torch 1.13 (Debian) the weights_only unpickler lacks the BINFLOAT
opcode that the checkpoint's float hyper-parameters use: this script adds it at run time (in memory).
huggingface_hub and scikit-learn, imported by tirex but unused here, are stubbed when missing.
"""
import argparse
import json
import math
import os
import shutil
import struct
import sys
import tempfile
import types
from collections import OrderedDict

import numpy as np

REF_BLAS_DIR = "/usr/lib/x86_64-linux-gnu/blas"
REFERENCE_DESC = "NX-AI/tirex {ver}, backend=torch, cpu, torch {torch}"


# ----------------------------------------------------------------------------- hyper-parameters
def hyper_parameters(a):
    bk = OrderedDict([("all_slstm", True), ("embedding_dim", a.dim), ("num_blocks", a.blocks),
                      ("num_heads", a.heads), ("return_last_states", True), ("vocab_size", 0)])
    if a.ffn_proj_factor is not None:
        bk["ffn_proj_factor"] = float(a.ffn_proj_factor)
    mc = OrderedDict([("input_patch_size", a.patch), ("output_patch_size", a.patch),
                      ("quantiles", [float(q) for q in a.quantiles]), ("block_kwargs", dict(bk)),
                      ("input_ff_dim", a.ff_dim)])
    return {"model_config": dict(mc), "train_ctx_len": a.ctx}


def up_proj_dim(D, f):
    # tirex.util.round_up_to_next_multiple_of(D * f, 64): floor((D*f + 63) / 64) * 64, f a double
    return int(((D * f + 64 - 1) // 64) * 64)


def state_dict_layout(hp):
    """(name, shape) in the real checkpoint's order: the block stack (blocks, out_norm) under
    `block_stack.`, then the input and output patch embeddings."""
    mc = hp["model_config"]
    bk = mc["block_kwargs"]
    D, NH, NB = bk["embedding_dim"], bk["num_heads"], bk["num_blocks"]
    DH = D // NH
    UP = up_proj_dim(D, bk.get("ffn_proj_factor", 2.6667))
    P, FF, Q = mc["input_patch_size"], mc["input_ff_dim"], len(mc["quantiles"])
    out = []
    for n in range(NB):
        p = f"block_stack.blocks.{n}."
        out += [(p + "norm_slstm.weight", (D,))]
        out += [(p + f"slstm_layer.{g}.weight", (NH, DH, DH)) for g in ("fgate", "igate", "zgate", "ogate")]
        out += [(p + "slstm_layer.slstm_cell._recurrent_kernel_", (NH, DH, 4 * DH)),
                (p + "slstm_layer.slstm_cell._bias_", (NH * 4 * DH,)),
                (p + "slstm_layer.group_norm.weight", (D,)),
                (p + "norm_ffn.weight", (D,)),
                (p + "ffn.proj_up_gate.weight", (UP, D)),
                (p + "ffn.proj_up.weight", (UP, D)),
                (p + "ffn.proj_down.weight", (D, UP))]
    out += [("block_stack.out_norm.weight", (D,))]
    for emb, (i, h, o) in (("input_patch_embedding", (2 * P, FF, D)),
                           ("output_patch_embedding", (D, FF, Q * P))):
        out += [(f"{emb}.hidden_layer.weight", (h, i)), (f"{emb}.hidden_layer.bias", (h,)),
                (f"{emb}.output_layer.weight", (o, h)), (f"{emb}.output_layer.bias", (o,)),
                (f"{emb}.residual_layer.weight", (o, i)), (f"{emb}.residual_layer.bias", (o,))]
    return out


def random_weights(hp, rng):
    NH = hp["model_config"]["block_kwargs"]["num_heads"]
    sd = OrderedDict()
    for name, shape in state_dict_layout(hp):
        if name.endswith("norm_slstm.weight") or name.endswith("norm_ffn.weight") or name.endswith("out_norm.weight"):
            w = rng.uniform(0.6, 1.4, shape)
        elif name.endswith("group_norm.weight"):
            w = rng.normal(0.0, 0.3, shape)  # stored as an offset from 1
        elif name.endswith("._bias_"):
            DH = shape[0] // (4 * NH)
            b = np.empty((NH, 4, DH))
            b[:, 0] = rng.normal(-0.5, 0.5, (NH, DH))  # i
            f = rng.uniform(1.0, 5.0, (NH, DH))  # f: mostly remembering, a few past the clamp
            big = rng.random((NH, DH)) < 0.07
            f[big] = rng.uniform(15.5, 18.0, int(big.sum()))
            b[:, 1] = f
            b[:, 2] = rng.normal(0.0, 0.3, (NH, DH))  # z
            b[:, 3] = rng.normal(0.5, 0.5, (NH, DH))  # o
            w = b.reshape(shape)
        elif name.endswith("_recurrent_kernel_"):
            w = rng.normal(0.0, 1.0 / math.sqrt(shape[1]), shape)  # [NH, DH, 4 DH]: fan-in DH
        elif name.endswith(".bias"):
            w = rng.normal(0.0, 0.1, shape)
        else:  # Linear [out, in] and headwise [NH, DH_out, DH_in]: fan-in is the last dim
            w = rng.normal(0.0, 1.0 / math.sqrt(shape[-1]), shape)
        sd[name] = np.ascontiguousarray(w, dtype=np.float32)
    return sd


# ----------------------------------------------------------------------------- the checkpoint
def checkpoint_object(torch, hp, sd):
    """The real model.ckpt's Lightning structure (top level and state_dict are OrderedDicts, the
    rest plain dicts and lists)."""
    progress = lambda: {"ready": 1, "started": 1, "processed": 1, "completed": 0}  # noqa: E731
    return OrderedDict([
        ("epoch", 0),
        ("global_step", 100000),
        ("pytorch-lightning_version", "2.2.1"),
        ("state_dict", OrderedDict((k, torch.from_numpy(v.copy())) for k, v in sd.items())),
        ("loops", {"fit_loop": {"state_dict": {},
                                "epoch_loop.state_dict": {"_batches_that_stepped": 100000},
                                "epoch_progress": {"total": progress(), "current": progress()}}}),
        ("callbacks", {"ModelCheckpoint{'monitor': None, 'mode': 'min', 'every_n_train_steps': 10000}": {
            "monitor": None, "best_model_score": None, "best_model_path": "", "current_score": None,
            "dirpath": "checkpoints", "best_k_models": {}, "kth_best_model_path": "",
            "kth_value": torch.tensor(float("inf"), dtype=torch.float64), "last_model_path": ""}}),
        ("optimizer_states", []),
        ("lr_schedulers", []),
        ("hparams_name", "kwargs"),
        ("hyper_parameters", hp),
    ])


def save_checkpoint(torch, obj, path, zip_name="model"):
    """torch.save (zip format, pickle protocol 2) with the zip's top folder `zip_name`: torch takes
    that from the file name's stem, so save under <tmp>/<zip_name>.ckpt and move it."""
    if not zip_name or any(c in zip_name for c in "./\\"):
        raise SystemExit(f"--zip-name {zip_name!r}: a plain name without '.', '/' or '\\'")
    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(path))) as tmp:
        p = os.path.join(tmp, zip_name + ".ckpt")
        torch.save(obj, p)
        shutil.move(p, path)


# ----------------------------------------------------------------------------- series
def _t(n):
    return np.arange(n, dtype=np.float64)


def s_seasonal_gaps(rng, T, P, arg):
    """seasonal + trend, length T-6, with a 7-value gap, a 2-patch gap and 3 single NaNs"""
    n = max(T - 6, 8)
    t = _t(n)
    x = 0.01 * t + 2.0 * np.sin(2 * np.pi * t / 24) + 0.5 * np.sin(2 * np.pi * t / 7) + 0.3 * rng.standard_normal(n)
    a = n // 5
    x[a:a + 7] = np.nan
    b = n // 2
    x[b:b + min(2 * P, n // 4)] = np.nan
    for i in rng.choice(np.arange(3 * n // 4, n - 1), size=min(3, n // 8), replace=False):
        x[i] = np.nan
    return x


def s_ar1_short(rng, T, P, arg):
    """AR(1) (phi 0.8) around 5, length arg or T/3"""
    n = int(arg) if arg else max(T // 3, 2)
    x = np.empty(n)
    v = 0.0
    for i in range(n):
        v = 0.8 * v + rng.standard_normal()
        x[i] = 5.0 + v
    return x


def s_long_truncated(rng, T, P, arg):
    """longer than T (arg*T, default 1.5 T), the head that truncation drops sits 50 higher"""
    n = int(float(arg or 1.5) * T)
    t = _t(n)
    x = 50.0 + np.sin(2 * np.pi * t / 30) + 0.3 * rng.standard_normal(n)
    x[:n - T] += 50.0
    return x


def s_constant(rng, T, P, arg):
    """constant arg (default 3.25), length T/2 (scale 0: scale = |loc| + 1e-5)"""
    return np.full(max(T // 2, 1), float(arg) if arg else 3.25)


def s_offset(rng, T, P, arg):
    """arg (default 1e4) + 100 sin + 5 noise, length T"""
    t = _t(T)
    return float(arg or 1e4) + 100.0 * np.sin(2 * np.pi * t / 50) + 5.0 * rng.standard_normal(T)


def s_randomwalk_gap(rng, T, P, arg):
    """random walk, length ~1.2 T, a 3-value gap and its last 5 values missing"""
    n = int(1.2 * T)
    x = np.cumsum(rng.standard_normal(n))
    g = int(0.9 * n)
    x[g:g + 3] = np.nan
    x[-5:] = np.nan
    return x


def s_sparse_nan(rng, T, P, arg):
    """random walk + seasonality, length T, a fraction arg (default 0.15) of isolated NaNs"""
    t = _t(T)
    x = np.cumsum(0.3 * rng.standard_normal(T)) + 3 * np.sin(2 * np.pi * t / 12)
    x[rng.random(T) < float(arg or 0.15)] = np.nan
    return x


def s_mostly_nan(rng, T, P, arg):
    """length T, only a fraction arg (default 0.1) present"""
    t = _t(T)
    x = 20 + 4 * np.sin(2 * np.pi * t / 40) + rng.standard_normal(T)
    x[rng.random(T) >= float(arg or 0.1)] = np.nan
    return x


def s_very_long(rng, T, P, arg):
    """length arg*T (default 4), trend + two seasons + noise"""
    n = int(float(arg or 4) * T)
    t = _t(n)
    return -3 + 0.002 * t + np.sin(2 * np.pi * t / 17) + 0.5 * np.cos(2 * np.pi * t / 61) + 0.2 * rng.standard_normal(n)


def s_short(rng, T, P, arg):
    """length arg (default P/2, under one patch)"""
    n = int(arg) if arg else max(P // 2, 2)
    return 7.0 + np.cumsum(rng.standard_normal(n))


def s_len1(rng, T, P, arg):
    """a single value arg (default 2.5)"""
    return np.array([float(arg) if arg else 2.5])


def s_all_nan(rng, T, P, arg):
    """length arg (default T/2), every value missing (loc 0, scale 1)"""
    return np.full(int(arg) if arg else max(T // 2, 1), np.nan)


def s_huge_offset(rng, T, P, arg):
    """arg (default 1e6) + 30 sin + 2 noise, length T - P/2 (fp32 spacing at 1e6 is 0.0625)"""
    n = max(T - P // 2, 2)
    t = _t(n)
    return float(arg or 1e6) + 30.0 * np.sin(2 * np.pi * t / 25) + 2.0 * rng.standard_normal(n)


def s_nan_tail(rng, T, P, arg):
    """length T, its last P+3 values missing"""
    t = _t(T)
    x = 1.0 + 0.5 * np.sin(2 * np.pi * t / 10) + 0.1 * rng.standard_normal(T)
    x[-(P + 3):] = np.nan
    return x


def s_step(rng, T, P, arg):
    """level shift of arg (default 10) two thirds in, length T"""
    x = rng.standard_normal(T)
    x[2 * T // 3:] += float(arg or 10)
    return x


def s_spike(rng, T, P, arg):
    """white noise with one outlier of arg (default 1e3) a few steps before the end, length T"""
    x = rng.standard_normal(T)
    x[-7] = float(arg or 1e3)
    return x


SERIES_KINDS = OrderedDict((f.__name__[2:], f) for f in (
    s_seasonal_gaps, s_ar1_short, s_long_truncated, s_constant, s_offset, s_randomwalk_gap,
    s_sparse_nan, s_mostly_nan, s_very_long, s_short, s_len1, s_all_nan, s_huge_offset,
    s_nan_tail, s_step, s_spike))
DEFAULT_SERIES = "seasonal_gaps,ar1_short,long_truncated,constant,offset,randomwalk_gap"


def make_series(spec, rng, T, P):
    rows = []
    for item in spec.split(","):
        kind, _, arg = item.strip().partition(":")
        if kind not in SERIES_KINDS:
            raise SystemExit(f"unknown series kind {kind!r}; known: {', '.join(SERIES_KINDS)}")
        x = np.asarray(SERIES_KINDS[kind](rng, T, P, arg), dtype=np.float32)
        if x.size == 0:
            raise SystemExit("the reference rejects length-0 series (assert len(tensor) > 0)")
        rows.append(x)
    return rows


def write_csv(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(",".join("nan" if math.isnan(v) else "%.9g" % v for v in r.tolist()) + "\n")


def read_csv(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\r\n")
            rows.append(np.array([float("nan") if t.strip().lower() in ("", "nan") else float(t)
                                  for t in line.split(",")] if line.strip() else [], dtype=np.float32))
    return rows


# ----------------------------------------------------------------------------- safetensors
def write_safetensors(path, tensors, metadata):
    dt = {np.dtype(np.float32): "F32", np.dtype(np.int32): "I32"}
    header, blobs, off = {}, [], 0
    for name, a in tensors.items():
        a = np.ascontiguousarray(a)
        raw = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dt[a.dtype], "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = metadata
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ----------------------------------------------------------------------------- the reference
def _stub(name, **attrs):
    try:
        __import__(name)
        return
    except ImportError:
        pass
    parts = name.split(".")
    for i in range(1, len(parts) + 1):
        n = ".".join(parts[:i])
        if n not in sys.modules:
            sys.modules[n] = types.ModuleType(n)
            if i > 1:
                setattr(sys.modules[".".join(parts[:i - 1])], parts[i - 1], sys.modules[n])
    for k, v in attrs.items():
        setattr(sys.modules[name], k, v)


def _unavailable(*a, **k):
    raise RuntimeError("stubbed out by make_tirex_reference.py")


def import_torch():
    import torch
    import torch._weights_only_unpickler as wou
    src = open(wou.__file__).read()
    if "BINFLOAT" not in src and not getattr(wou, "_binfloat_added", False):
        # torch 1.13: add the opcode to the module in memory (torch.serialization passes the module
        # itself as pickle_module, so re-executing its source with one more branch is enough)
        anchor = "            elif key[0] == BINUNICODE[0]:\n"
        assert src.count(anchor) == 1, "unexpected torch._weights_only_unpickler source"
        src = src.replace(anchor, "            elif key[0] == BINFLOAT[0]:\n"
                                  "                self.append(unpack('>d', read(8))[0])\n" + anchor)
        wou.__dict__["BINFLOAT"] = b"G"
        exec(compile(src, wou.__file__ + " (+BINFLOAT)", "exec"), wou.__dict__)
        wou._binfloat_added = True
    return torch


def import_tirex(tirex_src):
    if tirex_src:
        d = os.path.abspath(tirex_src)
        if os.path.isdir(os.path.join(d, "src", "tirex")):
            d = os.path.join(d, "src")
        sys.path.insert(0, d)
    _stub("huggingface_hub", hf_hub_download=_unavailable)
    _stub("sklearn.model_selection", train_test_split=_unavailable)
    _stub("sklearn.ensemble", RandomForestClassifier=_unavailable, RandomForestRegressor=_unavailable)
    import tirex
    return tirex


def fp32_recurrence_impl(torch):
    def _impl_torch(self, input, state):
        # sLSTMCell._impl_torch without its bf16 casts: input, state, recurrent kernel stay float32
        input = input.to(dtype=torch.float32)
        state = state.to(dtype=torch.float32)
        recurrent_kernel = self._recurrent_kernel_.to(dtype=torch.float32)
        bias = self._bias_.to(dtype=torch.float32)
        input = input.view(input.shape[0], input.shape[1], -1)
        bias = (bias.reshape(self.config.num_heads, self.config.num_gates, self.config.head_dim)
                .permute(1, 0, 2).reshape(-1))
        return self._impl_forward_torch(input, state, recurrent_kernel, bias)
    return _impl_torch


def load_reference(torch, tirex, ckpt):
    """tirex.load_model wants a relative path `org/TiRex...`: link the file as
    <tmp>/NX-AI/TiRex/model.ckpt and load from <tmp>."""
    import contextlib
    import io
    ckpt, old = os.path.abspath(ckpt), os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "NX-AI", "TiRex"))
        os.symlink(ckpt, os.path.join(tmp, "NX-AI", "TiRex", "model.ckpt"))
        os.chdir(tmp)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                model = tirex.load_model("NX-AI/TiRex/model.ckpt", device="cpu", backend="torch")
        finally:
            os.chdir(old)
    return model.eval()


def run_reference(torch, model, rows, H):
    """model.forecast(list of 1-D float32 tensors, prediction_length=H), recording the scaler's
    loc/scale of each batch's first pass."""
    calls = []
    tok = model.tokenizer
    orig = tok.input_transform

    def recording(data):
        out = orig(data)
        calls.append((out[1].loc.reshape(-1).clone(), out[1].scale.reshape(-1).clone()))
        return out

    tok.input_transform = recording
    try:
        q, mean = model.forecast(context=[torch.tensor(r, dtype=torch.float32) for r in rows], prediction_length=H)
    finally:
        tok.input_transform = orig
    passes = -(H // -model.config.output_patch_size)
    firsts = calls[::passes]
    loc = torch.cat([c[0] for c in firsts]).numpy().astype(np.float32)
    scale = torch.cat([c[1] for c in firsts]).numpy().astype(np.float32)
    assert loc.shape[0] == len(rows) and len(calls) == passes * len(firsts)
    return q.numpy().astype(np.float32), mean.numpy().astype(np.float32), loc, scale


def describe(q, q32, loc, scale, levels):
    """How much the output depends on the input and on the bf16 roundings (relative to scale)."""
    z = (q - loc[:, None, None]) / scale[:, None, None]
    med = z[:, :, levels.index(0.5)]
    spread = (z[:, :, -1] - z[:, :, 0]).mean(axis=1)
    d = np.abs(q - q32) / scale[:, None, None]
    lines = ["  per series: loc, scale, normalised median (first step, mean, std over steps), mean quantile spread"]
    for b in range(q.shape[0]):
        lines.append(f"    {b:2d}: loc={loc[b]:<12.6g} scale={scale[b]:<11.5g} med0={med[b, 0]:+.3f} "
                     f"mean={med[b].mean():+.3f} std={med[b].std():.3f} spread={spread[b]:.3f} "
                     f"bf16-vs-fp32 max={d[b].max():.3g}")
    lines.append(f"  across series: std of the normalised median per step, averaged = {med.std(axis=0).mean():.3f}; "
                 f"bf16 vs fp32-recurrence max |diff|/scale = {d.max():.3g}, mean = {d.mean():.3g}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main
def maybe_reexec_with_ref_blas(a):
    if a.blas != "ref" or a.ckpt_only or os.environ.get("TIREX_REF_BLAS_SET") == "1":
        return
    if not os.path.exists(os.path.join(REF_BLAS_DIR, "libblas.so.3")):
        print(f"warning: {REF_BLAS_DIR}/libblas.so.3 not found (Debian: apt-get install libblas3); "
              "running with the system BLAS", file=sys.stderr)
        a.blas = "system"
        return
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = REF_BLAS_DIR + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    env["TIREX_REF_BLAS_SET"] = "1"
    os.execve(sys.executable, [sys.executable, os.path.abspath(__file__)] + sys.argv[1:], env)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir")
    ap.add_argument("--tirex-src", default=None)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--heads", type=int, default=2)
    ap.add_argument("--blocks", type=int, default=2)
    ap.add_argument("--patch", type=int, default=32)
    ap.add_argument("--ff-dim", type=int, default=None, help="input_ff_dim (default 2*dim)")
    ap.add_argument("--ctx", type=int, default=256, help="train_ctx_len")
    ap.add_argument("--quantiles", default="0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9")
    ap.add_argument("--ffn-proj-factor", type=float, default=None)
    ap.add_argument("--series", default=DEFAULT_SERIES)
    ap.add_argument("--series-csv", default=None)
    ap.add_argument("--horizon", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--zip-name", default="model")
    ap.add_argument("--name", default=None)
    ap.add_argument("--ckpt-only", action="store_true")
    ap.add_argument("-t", "--threads", type=int, default=1)
    ap.add_argument("--blas", choices=["ref", "system"], default="ref")
    a = ap.parse_args(argv)
    a.quantiles = [float(x) for x in a.quantiles.split(",")]
    if a.ff_dim is None:
        a.ff_dim = 2 * a.dim
    if a.horizon is None:
        a.horizon = a.patch
    if a.dim % a.heads:
        ap.error("--dim must be a multiple of --heads")
    if a.ctx % a.patch:
        ap.error("--ctx (train_ctx_len) must be a multiple of --patch (the reference asserts it)")
    if 0.5 not in a.quantiles and not a.ckpt_only:
        ap.error("--quantiles must contain 0.5 (forecast() indexes it for the mean)")
    if a.horizon <= 0:
        ap.error("--horizon must be > 0")
    return a


def main(argv):
    a = parse_args(argv)
    maybe_reexec_with_ref_blas(a)
    os.makedirs(a.out_dir, exist_ok=True)
    name = a.name or os.path.basename(os.path.normpath(a.out_dir))
    torch = import_torch()
    torch.set_num_threads(a.threads)
    rng = np.random.default_rng(a.seed)

    hp = hyper_parameters(a)
    sd = random_weights(hp, rng)
    ckpt = os.path.join(a.out_dir, "model.ckpt")
    save_checkpoint(torch, checkpoint_object(torch, hp, sd), ckpt, a.zip_name)
    n_par = sum(v.size for v in sd.values())
    print(f"{ckpt}: {len(sd)} tensors, {n_par} parameters, {os.path.getsize(ckpt)} bytes, zip folder {a.zip_name}/")
    if a.ckpt_only:
        return 0

    if a.series_csv:
        rows = read_csv(a.series_csv)
        if any(r.size == 0 for r in rows):
            raise SystemExit("the reference rejects length-0 series (assert len(tensor) > 0)")
    else:
        rows = make_series(a.series, rng, a.ctx, a.patch)
    csv = os.path.join(a.out_dir, "series.csv")
    write_csv(csv, rows)
    rows = read_csv(csv)  # feed exactly what a user reading series.csv gets

    tirex = import_tirex(a.tirex_src)
    from tirex.models.slstm.cell import sLSTMCell
    model = load_reference(torch, tirex, ckpt)  # the public path: also checks the file loads (strict)
    q, mean, loc, scale = run_reference(torch, model, rows, a.horizon)
    orig_impl = sLSTMCell._impl_torch
    sLSTMCell._impl_torch = fp32_recurrence_impl(torch)
    try:
        q32, _, _, _ = run_reference(torch, model, rows, a.horizon)
    finally:
        sLSTMCell._impl_torch = orig_impl

    L = max(r.size for r in rows)
    context = np.full((len(rows), L), np.nan, dtype=np.float32)
    for b, r in enumerate(rows):
        context[b, L - r.size:] = r
    try:
        from importlib.metadata import version
        ver = version("tirex-ts")
    except Exception:
        ver = "1.4.1"
    meta = {
        "variant": name,
        "reference": REFERENCE_DESC.format(ver=ver, torch=torch.__version__),
        "call": f"load_model(path, device='cpu', backend='torch').forecast(context, prediction_length={a.horizon})",
        "hyper_parameters": json.dumps(hp),
        "blas": ("netlib reference libblas.so.3 (" + REF_BLAS_DIR + ")") if a.blas == "ref" else "system libblas.so.3",
        "generator": "tools/make_tirex_reference.py " + " ".join(argv),
    }
    st = os.path.join(a.out_dir, "expected.safetensors")
    write_safetensors(st, OrderedDict([
        ("context", context), ("horizon", np.array([a.horizon], dtype=np.int32)), ("quantiles", q),
        ("mean", mean), ("quantile_levels", np.array(a.quantiles, dtype=np.float32)),
        ("loc", loc), ("scale", scale), ("quantiles_fp32_recurrence", q32)]), meta)
    B, H, Q = q.shape
    print(f"{st}: B={B} L={L} H={H} Q={Q}; row lengths {[int(r.size) for r in rows]}")
    print(describe(q, q32, loc, scale, a.quantiles))
    if not (np.isfinite(q).all() and np.isfinite(q32).all()):
        print("warning: non-finite outputs", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
