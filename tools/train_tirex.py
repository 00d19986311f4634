#!/usr/bin/env python3
"""A small TiRex forecaster (NX-AI/tirex architecture), trained by this project, plus its data,
its Lightning-style checkpoint writer and a forecast command.

TiRex (arXiv 2505.23719) is an sLSTM-only xLSTM over patches of a univariate series: per-series
NaN-aware standard scaling, patches of P values plus a P-value "is finite" mask, an input residual
MLP, sLSTM blocks (headwise gate projections, per-head recurrent kernel, multi-head group norm,
SwiGLU FFN), an RMSNorm and an output residual MLP to Q quantiles x P steps of the next patch.
This file is an independent implementation written from the architecture description; the
module tree, parameter names, shapes and the checkpoint layout match the reference so that
`tirex.load_model(.../model.ckpt)` loads what `export` writes (strictly) and xlstm.h reads it.

Commands (use /usr/bin/python3; only torch + numpy, and statsmodels for the real data sets):
  train_tirex.py data   --out-dir DIR [--horizon H]      write heldout.csv / heldout_future.csv
  train_tirex.py train  --work DIR [options]             train (resumable), see --help
  train_tirex.py export --work DIR --out MODEL.ckpt      write the Lightning-style checkpoint
  train_tirex.py forecast MODEL.ckpt SERIES.csv H OUT.f32 [--bf16]
        forecasts with this implementation: raw little-endian float32 [B, H, Q]; --bf16 emulates
        the reference CPU path's bfloat16 roundings inside the sLSTM cell (default: fp32 throughout,
        i.e. the reference with its bf16 casts removed)
  train_tirex.py params [model options]                  print parameter count / file size
  train_tirex.py compare A.f32 B.f32 SERIES.csv H --ctx T  max |A - B| / scale per series

Numerics notes (the reference CPU inference path, which the training here does not need):
the sLSTM cell there casts its gate inputs and recurrent kernel to bf16, does the recurrent
matmul in bf16 and rounds the carried states (h, c, n, m) to bf16 after every step; training
here is plain float32.
"""
import argparse
import collections
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

QUANTILES_DEFAULT = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]


# ============================================================================================
# Model
# ============================================================================================

def ffn_up_dim(embedding_dim, factor):
    # The reference rounds D*f up to a multiple of 64 with floor((x + 63) / 64) * 64 on the float
    # x = D*f: not a true ceiling (D=96, f=2.6667 gives 256, not 320).
    x = embedding_dim * factor
    return int(((x + 63) // 64) * 64)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class ResidualBlock(nn.Module):
    """y = W_o relu(W_h x + b_h) + b_o + W_r x + b_r"""

    def __init__(self, in_dim, h_dim, out_dim):
        super().__init__()
        self.hidden_layer = nn.Linear(in_dim, h_dim)
        self.output_layer = nn.Linear(h_dim, out_dim)
        self.residual_layer = nn.Linear(in_dim, out_dim)

    def forward(self, x):
        return self.output_layer(F.relu(self.hidden_layer(x))) + self.residual_layer(x)


class HeadwiseLinear(nn.Module):
    """Block-diagonal projection: out[h*DH + o] = sum_d W[h, o, d] * x[h*DH + d]."""

    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        dh = dim // num_heads
        self.weight = nn.Parameter(torch.empty(num_heads, dh, dh))

    def forward(self, x):
        shp = x.shape
        xh = x.reshape(*shp[:-1], self.num_heads, -1)
        return torch.einsum("...hd,hod->...ho", xh, self.weight).reshape(shp)


class SLSTMCell(nn.Module):
    """Holds the recurrent kernel R [NH, DH, 4*DH] (columns gate-major: i, f, z, o) and the bias
    [NH*4*DH] laid out (head, gate, j)."""

    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self._recurrent_kernel_ = nn.Parameter(torch.zeros(num_heads, self.head_dim, 4 * self.head_dim))
        self._bias_ = nn.Parameter(torch.zeros(num_heads * 4 * self.head_dim))

    def forward(self, wx, bf16=False):
        """wx: [B, S, 4, NH, DH] gate pre-activations from the input, gate order (i, f, z, o).
        Returns h for every step: [B, S, NH, DH]. States start at zero."""
        B, S, G, NH, DH = wx.shape
        bias = self._bias_.view(NH, 4, DH).transpose(0, 1)  # [4, NH, DH]
        R = self._recurrent_kernel_
        if bf16:
            wx = wx.to(torch.bfloat16)
            R = R.to(torch.bfloat16)
        zeros = wx.new_zeros(B, NH, DH, dtype=R.dtype if bf16 else wx.dtype)
        h, c, n, m = zeros, zeros, zeros, zeros
        outs = []
        for t in range(S):
            # recurrent part: per head, h[B, 1, DH] @ R[DH, 4*DH]
            ry = h.reshape(B, NH, 1, DH).matmul(R.unsqueeze(0)).reshape(B, NH, 4, DH).transpose(1, 2)
            raw = wx[:, t].float() + ry.float() + bias
            i_raw, f_raw, z_raw, o_raw = raw.unbind(1)
            cf, nf, mf = c.float(), n.float(), m.float()
            logfm = mf + F.logsigmoid(torch.clamp(f_raw, max=15.0))
            if bool(torch.all(nf == 0.0)):  # first step (n stays > 0 afterwards)
                m_new = i_raw
            else:
                m_new = torch.maximum(i_raw, logfm)
            ig = torch.clamp(torch.exp(i_raw - m_new), max=1.0)
            fg = torch.clamp(torch.exp(logfm - m_new), max=1.0)
            c_new = fg * cf + ig * torch.tanh(z_raw)
            n_new = fg * nf + ig
            h_new = torch.sigmoid(o_raw) * c_new / n_new
            if bf16:
                h, c, n, m = (v.to(torch.bfloat16) for v in (h_new, c_new, n_new, m_new))
            else:
                h, c, n, m = h_new, c_new, n_new, m_new
            outs.append(h.float())
        return torch.stack(outs, dim=1)


class MultiHeadGroupNorm(nn.Module):
    """Group norm over each head's DH values (biased variance, eps 1e-5), scale (1 + weight)."""

    def __init__(self, dim, num_heads, eps=1e-5):
        super().__init__()
        self.num_heads = num_heads
        self.eps = eps
        self.weight = nn.Parameter(torch.zeros(dim))  # stored as an offset from 1

    def forward(self, y):  # y [B, S, NH, DH]
        mu = y.mean(-1, keepdim=True)
        var = (y - mu).pow(2).mean(-1, keepdim=True)
        yn = (y - mu) * torch.rsqrt(var + self.eps)
        B, S, NH, DH = y.shape
        return yn.reshape(B, S, NH * DH) * (1.0 + self.weight)


class SLSTMLayer(nn.Module):
    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        # Crossed naming (as in the xlstm package): the projection called `fgate` feeds the
        # cell's INPUT gate and the one called `igate` its FORGET gate. The cell reads the
        # concatenation (fgate, igate, zgate, ogate) as (i, f, z, o).
        self.fgate = HeadwiseLinear(dim, num_heads)
        self.igate = HeadwiseLinear(dim, num_heads)
        self.zgate = HeadwiseLinear(dim, num_heads)
        self.ogate = HeadwiseLinear(dim, num_heads)
        self.slstm_cell = SLSTMCell(dim, num_heads)
        self.group_norm = MultiHeadGroupNorm(dim, num_heads)

    def forward(self, x, bf16=False):
        B, S, D = x.shape
        NH = self.num_heads
        W = torch.stack([self.fgate.weight, self.igate.weight, self.zgate.weight, self.ogate.weight])
        xh = x.reshape(B, S, NH, D // NH)
        wx = torch.einsum("bshd,ghod->bsgho", xh, W)  # [B, S, 4, NH, DH]
        y = self.slstm_cell(wx, bf16=bf16)
        return self.group_norm(y)


class FeedForward(nn.Module):
    def __init__(self, dim, up):
        super().__init__()
        self.proj_up_gate = nn.Linear(dim, up, bias=False)
        self.proj_up = nn.Linear(dim, up, bias=False)
        self.proj_down = nn.Linear(up, dim, bias=False)

    def forward(self, x):
        return self.proj_down(F.silu(self.proj_up_gate(x)) * self.proj_up(x))


class SLSTMBlock(nn.Module):
    def __init__(self, dim, num_heads, ffn_factor):
        super().__init__()
        self.norm_slstm = RMSNorm(dim)
        self.slstm_layer = SLSTMLayer(dim, num_heads)
        self.norm_ffn = RMSNorm(dim)
        self.ffn = FeedForward(dim, ffn_up_dim(dim, ffn_factor))

    def forward(self, x, bf16=False):
        x = x + self.slstm_layer(self.norm_slstm(x), bf16=bf16)
        return x + self.ffn(self.norm_ffn(x))


class BlockStack(nn.Module):
    def __init__(self, dim, num_heads, num_blocks, ffn_factor):
        super().__init__()
        self.blocks = nn.ModuleList([SLSTMBlock(dim, num_heads, ffn_factor) for _ in range(num_blocks)])
        self.out_norm = RMSNorm(dim)


class TiRexSmall(nn.Module):
    def __init__(self, patch=16, dim=64, num_heads=4, num_blocks=3, ff_dim=128, ctx=512,
                 quantiles=None, ffn_factor=2.6667):
        super().__init__()
        self.patch, self.dim, self.num_heads, self.num_blocks = patch, dim, num_heads, num_blocks
        self.ff_dim, self.ctx, self.ffn_factor = ff_dim, ctx, ffn_factor
        self.quantiles = list(quantiles or QUANTILES_DEFAULT)
        assert 0.5 in self.quantiles and ctx % patch == 0 and dim % num_heads == 0
        # parameter registration order = the real checkpoint's key order
        self.block_stack = BlockStack(dim, num_heads, num_blocks, ffn_factor)
        self.input_patch_embedding = ResidualBlock(2 * patch, ff_dim, dim)
        self.output_patch_embedding = ResidualBlock(dim, ff_dim, len(self.quantiles) * patch)

    def init_weights(self, seed):
        g = torch.Generator().manual_seed(seed)
        D, NH = self.dim, self.num_heads
        DH = D // NH
        nb = self.num_blocks

        def normal_(p, std):
            with torch.no_grad():
                p.copy_(torch.randn(p.shape, generator=g) * std)

        for lin in (self.input_patch_embedding, self.output_patch_embedding):
            for name in ("hidden_layer", "output_layer", "residual_layer"):
                l = getattr(lin, name)
                normal_(l.weight, 1.0 / math.sqrt(l.in_features))
                nn.init.zeros_(l.bias)
        for bi, blk in enumerate(self.block_stack.blocks):
            L = blk.slstm_layer
            for w in (L.fgate.weight, L.igate.weight, L.zgate.weight, L.ogate.weight):
                normal_(w, math.sqrt(2.0 / (5 * DH)))
            nn.init.zeros_(L.slstm_cell._recurrent_kernel_)
            with torch.no_grad():
                b = torch.zeros(NH, 4, DH)
                # forget-gate bias spread over [3, 6] (long memory at start), others 0
                b[:, 1, :] = torch.linspace(3.0, 6.0, DH)
                L.slstm_cell._bias_.copy_(b.reshape(-1))
            nn.init.zeros_(L.group_norm.weight)
            f = blk.ffn
            normal_(f.proj_up_gate.weight, math.sqrt(2.0 / (5 * D)))
            normal_(f.proj_up.weight, math.sqrt(2.0 / (5 * D)))
            normal_(f.proj_down.weight, 2.0 / nb / math.sqrt(f.proj_down.in_features))
        return self

    # ---- forward over tokens ----
    def forward_tokens(self, tok, bf16=False):
        """tok [B, N, 2P] (values with NaN->0, then mask) -> [B, N, Q, P] in scaled units."""
        x = self.input_patch_embedding(tok)
        for blk in self.block_stack.blocks:
            x = blk(x, bf16=bf16)
        x = self.block_stack.out_norm(x)
        y = self.output_patch_embedding(x)
        B, N, _ = y.shape
        return y.view(B, N, len(self.quantiles), self.patch)

    def config_dict(self):
        return dict(patch=self.patch, dim=self.dim, num_heads=self.num_heads, num_blocks=self.num_blocks,
                    ff_dim=self.ff_dim, ctx=self.ctx, quantiles=self.quantiles, ffn_factor=self.ffn_factor)


def scale_window(x):
    """x [B, L] float32 with NaN. The reference's scaler: NaN-ignoring mean and population std;
    no finite value: loc 0, scale 1; scale 0: |loc| + 1e-5."""
    loc = torch.nan_to_num(torch.nanmean(x, dim=-1, keepdim=True), nan=0.0)
    scale = torch.nan_to_num(torch.nanmean((x - loc).square(), dim=-1, keepdim=True).sqrt(), nan=1.0)
    scale = torch.where(scale == 0, loc.abs() + 1e-5, scale)
    return loc, scale


def tokenize(z, patch):
    """z [B, L] scaled (NaN = missing) -> tokens [B, L/P, 2P]."""
    B, L = z.shape
    zp = z.view(B, L // patch, patch)
    mask = torch.isfinite(zp).to(z.dtype)
    return torch.cat([torch.nan_to_num(zp, nan=0.0), mask], dim=-1)


@torch.no_grad()
def forecast(model, series_list, horizon, bf16=False):
    """The reference's rollout: ceil(H/P) passes, pass k sees the context followed by k*P NaN,
    truncated / left-padded with NaN to ctx; one full forward per pass; the last token's [Q, P]
    output rescaled. Returns [B, H, Q] float32."""
    P, T = model.patch, model.ctx
    B = len(series_list)
    Lmax = max(len(s) for s in series_list)
    ctx = torch.full((B, Lmax), float("nan"))
    for b, s in enumerate(series_list):
        if len(s):
            ctx[b, Lmax - len(s):] = torch.as_tensor(np.asarray(s, dtype=np.float32))
    n_pass = -(-horizon // P)
    outs = []
    for k in range(n_pass):
        if k:
            ctx = torch.cat([ctx, torch.full((B, P), float("nan"))], dim=1)
        w = ctx[:, -T:] if ctx.shape[1] >= T else torch.cat(
            [torch.full((B, T - ctx.shape[1]), float("nan")), ctx], dim=1)
        loc, scale = scale_window(w)
        y = model.forward_tokens(tokenize((w - loc) / scale, P), bf16=bf16)[:, -1]  # [B, Q, P]
        outs.append(y * scale.unsqueeze(-1) + loc.unsqueeze(-1))
    q = torch.cat(outs, dim=-1)[..., :horizon]  # [B, Q, H]
    return q.transpose(1, 2).contiguous()


# ============================================================================================
# Checkpoint (Lightning-style, the real TiRex model.ckpt structure)
# ============================================================================================

def hyper_parameters(model):
    hp = {
        "model_config": {
            "input_patch_size": model.patch,
            "output_patch_size": model.patch,
            "quantiles": [float(q) for q in model.quantiles],
            "block_kwargs": {
                "all_slstm": True,
                "embedding_dim": model.dim,
                "num_blocks": model.num_blocks,
                "num_heads": model.num_heads,
                "return_last_states": True,
                "vocab_size": 0,
            },
            "input_ff_dim": model.ff_dim,
        },
        "train_ctx_len": model.ctx,
    }
    if float(model.ffn_factor) != 2.6667:  # the real checkpoint leaves the default out
        hp["model_config"]["block_kwargs"]["ffn_proj_factor"] = float(model.ffn_factor)
    return hp


def save_lightning_ckpt(model, path, global_step):
    sd = collections.OrderedDict(
        (k, v.detach().to(torch.float32).contiguous().clone()) for k, v in model.state_dict().items())
    top = collections.OrderedDict()
    top["epoch"] = 0
    top["global_step"] = int(global_step)
    top["pytorch-lightning_version"] = "2.2.1"
    top["state_dict"] = sd
    top["loops"] = {"fit_loop": {
        "state_dict": {},
        "epoch_loop.state_dict": {"_batches_that_stepped": int(global_step)},
        "epoch_progress": {
            "total": {"ready": 1, "started": 1, "processed": 1, "completed": 0},
            "current": {"ready": 1, "started": 1, "processed": 1, "completed": 0},
        },
    }}
    top["callbacks"] = {"ModelCheckpoint{'monitor': None, 'mode': 'min', 'every_n_train_steps': 10000}": {
        "monitor": None, "best_model_score": None, "best_model_path": "", "current_score": None,
        "dirpath": "checkpoints", "best_k_models": {}, "kth_best_model_path": "",
        "kth_value": torch.tensor(float("inf"), dtype=torch.float64), "last_model_path": "",
    }}
    top["optimizer_states"] = []
    top["lr_schedulers"] = []
    top["hparams_name"] = "kwargs"
    top["hyper_parameters"] = hyper_parameters(model)
    # torch.save names the zip's top folder after the file's stem; the real file's is "model"
    # (readers look for */data.pkl, so write through a temporary "model.ckpt" name)
    d = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(d, ".tmp-save")
    os.makedirs(tmp, exist_ok=True)
    tmp_path = os.path.join(tmp, "model.ckpt")
    torch.save(top, tmp_path)
    os.replace(tmp_path, path)
    os.rmdir(tmp)


def load_lightning_ckpt(path):
    ck = torch.load(path, map_location="cpu")
    hp = ck["hyper_parameters"]
    mc = hp["model_config"]
    bk = mc["block_kwargs"]
    model = TiRexSmall(patch=mc["input_patch_size"], dim=bk["embedding_dim"], num_heads=bk["num_heads"],
                       num_blocks=bk["num_blocks"], ff_dim=mc["input_ff_dim"], ctx=hp["train_ctx_len"],
                       quantiles=mc["quantiles"], ffn_factor=bk.get("ffn_proj_factor", 2.6667))
    model.load_state_dict(ck["state_dict"], strict=True)
    return model.eval()


# ============================================================================================
# Data
# ============================================================================================

# Openly licensed real series: statsmodels' bundled data sets whose COPYRIGHT field says public
# domain (Debian python3-statsmodels 0.13.5).
REAL_SOURCES = {
    "co2": "Mauna Loa weekly atmospheric CO2, 1958-03..2001-12 (Keeling & Whorf, SIO / CDIAC, "
           "US DOE); statsmodels.datasets.co2, COPYRIGHT: 'This is public domain.'",
    "elnino": "Nino 1+2 monthly sea surface temperature 1950-2010 (NOAA NWS CPC, ERSST.V3B); "
              "statsmodels.datasets.elnino, COPYRIGHT: 'This data is in the public domain.'",
    "elec_equip": "Euro area 18 turnover index, manufacture of electrical equipment, monthly "
                  "1995-01..2016-05 (Eurostat); statsmodels.datasets.elec_equip, COPYRIGHT: "
                  "'This is public domain.'",
    "sunspots": "Yearly sunspot numbers 1700-2008 (NOAA NGDC); statsmodels.datasets.sunspots, "
                "COPYRIGHT: 'This data is public domain.'",
    "nile": "Annual Nile flow at Aswan 1871-1970 (Cobb 1978); statsmodels.datasets.nile, "
            "COPYRIGHT: 'This is public domain.'",
    "macrodata": "US macroeconomic quarterly data 1959Q1-2009Q3 (FRED, St. Louis Fed; BLS); "
                 "statsmodels.datasets.macrodata, COPYRIGHT: 'This is public domain.'",
    "danish_data": "Danish money demand quarterly data 1974-1987 (Johansen & Juselius 1990); "
                   "statsmodels.datasets.danish_data, COPYRIGHT: 'This is public domain.'",
}

HELDOUT_HORIZON = 24  # months: held-out rows are all monthly (season 12)
HELDOUT_SEASON = 12
N_SYN_HELDOUT = 4
SYN_HELDOUT_SEED = 777001  # never used for training series (the training pool uses other seeds)


def _load(name):
    import importlib
    return importlib.import_module("statsmodels.datasets." + name).load_pandas().data


def co2_monthly():
    d = _load("co2")["co2"]
    m = d.groupby([d.index.year, d.index.month]).mean()  # NaN if a month has no weekly value
    return m.to_numpy(dtype=np.float64)


def real_series():
    """name -> (values float64 with NaN, is_monthly_heldout)"""
    out = collections.OrderedDict()
    out["co2_monthly"] = (co2_monthly(), True)
    el = _load("elnino")
    out["elnino"] = (el[["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV",
                         "DEC"]].to_numpy(dtype=np.float64).reshape(-1), True)
    out["elec_equip"] = (_load("elec_equip").iloc[:, 0].to_numpy(dtype=np.float64), True)
    out["co2_weekly"] = (_load("co2")["co2"].to_numpy(dtype=np.float64), False)
    out["sunspots"] = (_load("sunspots")["SUNACTIVITY"].to_numpy(dtype=np.float64), False)
    out["nile"] = (_load("nile")["volume"].to_numpy(dtype=np.float64), False)
    md = _load("macrodata")
    for c in ["realgdp", "realcons", "realinv", "realgovt", "realdpi", "cpi", "m1", "tbilrate",
              "unemp", "pop", "infl", "realint"]:
        out["macro_" + c] = (md[c].to_numpy(dtype=np.float64), False)
    dd = _load("danish_data")
    for c in dd.columns:
        out["danish_" + c] = (dd[c].to_numpy(dtype=np.float64), False)
    return out


def real_training_series():
    """Real series for training with every held-out tail removed: the monthly held-out rows lose
    their last HELDOUT_HORIZON months; co2 weekly loses the weeks from the first held-out month on."""
    rs = real_series()
    out = []
    for name, (v, held) in rs.items():
        if held:
            v = v[:-HELDOUT_HORIZON]
        if name == "co2_weekly":
            d = _load("co2")["co2"]
            # held-out months of co2_monthly are the last 24 (year, month) groups
            months = list(dict.fromkeys(zip(d.index.year, d.index.month)))
            cut = months[-HELDOUT_HORIZON]
            keep = ~((d.index.year > cut[0]) | ((d.index.year == cut[0]) & (d.index.month >= cut[1])))
            v = d.to_numpy(dtype=np.float64)[np.asarray(keep)]
        out.append((name, v))
    return out


def synth_series(rng, n, force_period=None):
    """One synthetic series of length n: trend + seasonality + noise mixture (float64)."""
    t = np.arange(n, dtype=np.float64)
    u = t / n
    x = np.zeros(n)
    kind = rng.random()
    if kind < 0.08:  # pure random walk (with drift sometimes)
        x = np.cumsum(rng.normal(rng.normal(0, 0.05) * (rng.random() < 0.4), 1.0, n))
    elif kind < 0.16:  # pure AR(1)/AR(2)
        x = _ar(rng, n)
    else:
        # trend
        r = rng.random()
        if r < 0.35:
            x += rng.normal(0, 1.5) * u
        elif r < 0.6:
            k = rng.integers(1, 4)
            cps = np.sort(rng.random(k))
            slope = rng.normal(0, 2.0)
            x += slope * u
            for cp in cps:
                x += rng.normal(0, 2.5) * np.maximum(u - cp, 0)
        elif r < 0.7:
            x += rng.normal(0, 1.5) * (u ** rng.uniform(1.5, 3.0))
        elif r < 0.78:
            x += rng.normal(0, 1.5) / (1 + np.exp(-(u - rng.uniform(0.2, 0.8)) * rng.uniform(5, 20)))
        # seasonality
        if force_period is not None or rng.random() < 0.8:
            ns = 1 if (force_period is not None or rng.random() < 0.65) else 2
            for si in range(ns):
                if force_period is not None and si == 0:
                    p = float(force_period)
                else:
                    pr = rng.random()
                    if pr < 0.75:
                        p = float(rng.choice([4, 6, 7, 12, 12, 12, 24, 24, 30.4, 52, 52.18, 96, 168, 365.25 / 7]))
                    else:
                        p = float(np.exp(rng.uniform(np.log(3), np.log(150))))
                amp = rng.uniform(0.3, 2.0)
                if rng.random() < 0.3 and p == int(p) and p <= 200:
                    # arbitrary periodic shape (smoothed random pattern)
                    pat = rng.normal(0, 1, int(p))
                    ker = np.ones(max(1, int(rng.integers(1, 4))))
                    pat = np.convolve(np.concatenate([pat, pat, pat]), ker / ker.sum(), "same")[int(p):2 * int(p)]
                    pat = (pat - pat.mean()) / (pat.std() + 1e-9)
                    s = pat[(t + rng.integers(0, int(p))).astype(int) % int(p)]
                else:
                    s = np.zeros(n)
                    nh = int(rng.integers(1, 5))
                    ph = rng.uniform(0, 2 * np.pi)
                    for h in range(1, nh + 1):
                        s += rng.normal(0, 1.0 / h) * np.sin(2 * np.pi * h * t / p + ph + rng.uniform(0, 2 * np.pi) * (h > 1))
                    s /= s.std() + 1e-9
                env = 1.0
                if rng.random() < 0.25:  # slowly changing amplitude / multiplicative seasonality
                    env = 1.0 + rng.uniform(-0.8, 0.8) * u
                x += amp * env * s
        # noise
        sig = rng.uniform(0.02, 0.6)
        nr = rng.random()
        if nr < 0.5:
            x += rng.normal(0, sig, n)
        elif nr < 0.8:
            x += sig * _ar(rng, n) / 2.0
        else:
            x += rng.normal(0, sig, n) * (1 + 0.8 * np.abs(np.sin(2 * np.pi * t / rng.uniform(20, 200))))
        if rng.random() < 0.25:
            x += np.cumsum(rng.normal(0, rng.uniform(0.01, 0.15), n))
        # level shifts
        if rng.random() < 0.2:
            for _ in range(int(rng.integers(1, 4))):
                x[int(rng.integers(1, n)):] += rng.normal(0, 1.5)
        # spikes
        if rng.random() < 0.08:
            idx = rng.integers(0, n, int(rng.integers(1, 6)))
            x[idx] += rng.normal(0, 4.0, len(idx))
    # positive / count-like transforms
    r = rng.random()
    if r < 0.08:
        x = np.exp(0.4 * (x - x.mean()) / (x.std() + 1e-9))
    elif r < 0.12:
        lam = np.exp(np.clip(0.5 * (x - x.mean()) / (x.std() + 1e-9) + rng.uniform(-1, 2.5), -5, 6))
        x = rng.poisson(lam).astype(np.float64)
    elif r < 0.15:
        x = np.round(x / (x.std() + 1e-9) * rng.uniform(1, 6))
    # affine
    x = x * 10 ** rng.uniform(-2, 4) + rng.normal(0, 1) * 10 ** rng.uniform(-2, 4)
    return x


def _ar(rng, n):
    from scipy.signal import lfilter
    burn = 100
    e = rng.normal(0, 1, n + burn)
    if rng.random() < 0.6:
        phi = rng.uniform(0.3, 0.99)
        y = lfilter([1.0], [1.0, -phi], e)
    else:  # AR(2) with complex roots: quasi-cycles of random length
        rad = rng.uniform(0.8, 0.99)
        per = rng.uniform(6, 60)
        y = lfilter([1.0], [1.0, -2 * rad * np.cos(2 * np.pi / per), rad * rad], e)
    y = y[burn:]
    return y / (y.std() + 1e-9)


def inject_missing(rng, x, p_points=0.2, p_gaps=0.15):
    n = len(x)
    x = x.copy()
    if rng.random() < p_points:
        x[rng.random(n) < rng.uniform(0.005, 0.06)] = np.nan
    if rng.random() < p_gaps:
        for _ in range(int(rng.integers(1, 4))):
            g = int(rng.integers(1, 41))
            s = int(rng.integers(0, max(1, n - g)))
            x[s:s + g] = np.nan
    return x


def synth_heldout(n=360, horizon=HELDOUT_HORIZON):
    """Held-out synthetic monthly series (period 12), from a seed never used in training."""
    rng = np.random.default_rng(SYN_HELDOUT_SEED)
    rows = []
    for i in range(N_SYN_HELDOUT):
        x = synth_series(rng, n + horizon, force_period=12)
        hist = x[:n]
        if i == 1:  # one with missing values in its history
            hist = inject_missing(rng, hist, 1.0, 1.0)
        rows.append((f"synthetic_{i}", hist, x[n:]))
    return rows


def heldout_rows(horizon=HELDOUT_HORIZON):
    rows = []
    rs = real_series()
    for name, (v, held) in rs.items():
        if held:
            rows.append((name, v[:-horizon], v[-horizon:]))
    rows += synth_heldout(horizon=horizon)
    return rows


def write_csv(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(",".join("nan" if not np.isfinite(v) else format(float(np.float32(v)), ".9g") for v in r) + "\n")


def read_csv(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(np.array([float(v) for v in line.split(",")], dtype=np.float32))
    return rows


# ---- training windows ----

class WindowSampler:
    def __init__(self, rng, patch, ctx, pool_size, pool_len, real, real_frac, trail_p=0.5):
        self.rng, self.P, self.T = rng, patch, ctx
        self.trail_p = trail_p
        self.pool_len = pool_len
        self.real = [v.astype(np.float32) for _, v in real]
        self.real_w = np.array([max(len(v), 64) for v in self.real], dtype=np.float64)
        self.real_w /= self.real_w.sum()
        self.real_frac = real_frac
        t0 = time.time()
        self.pool = np.stack([inject_missing(rng, synth_series(rng, pool_len)) for _ in range(pool_size)]).astype(np.float32)
        print(f"synthetic pool {self.pool.shape} in {time.time() - t0:.1f}s", flush=True)

    def sample(self, B):
        P, T = self.P, self.T
        W = T + P
        xs = np.full((B, W), np.nan, np.float32)
        for b in range(B):
            if self.rng.random() < self.real_frac:
                v = self.real[self.rng.choice(len(self.real), p=self.real_w)]
                # window end (exclusive, index of the last target value + 1): at least P points of
                # context and one target point
                end = int(self.rng.integers(P + 8, len(v) + 1))
                seg = v[max(0, end - W):end]
                if self.rng.random() < 0.5:
                    seg = -seg
                xs[b, W - len(seg):] = seg
            else:
                i = int(self.rng.integers(0, len(self.pool)))
                s = int(self.rng.integers(0, self.pool_len - W + 1))
                xs[b] = self.pool[i, s:s + W]
        inp = xs[:, :T].copy()
        tgt = xs[:, P:].copy()
        for b in range(B):
            r = self.rng.random()
            if r < 0.3:  # short context: left-pad with NaN (arbitrary length, not patch-aligned)
                keep = int(np.exp(self.rng.uniform(np.log(P), np.log(T))))
                inp[b, :T - keep] = np.nan
            r = self.rng.random()
            if r < self.trail_p:  # trailing masked patches: the rollout's later passes
                m = int(self.rng.choice([1, 1, 1, 2, 2, 3, 4]))
                inp[b, T - m * P:] = np.nan
            if self.rng.random() < 0.1:  # a masked interior span of whole patches
                k = int(self.rng.integers(1, 4))
                s = int(self.rng.integers(0, T // P - k)) * P
                inp[b, s:s + k * P] = np.nan
        return torch.from_numpy(inp), torch.from_numpy(tgt)


def pinball(pred, target, qs):
    """pred [B, N, Q, P], target [B, N, P] (NaN = no target); mean over finite targets and Q."""
    valid = torch.isfinite(target)
    tz = torch.nan_to_num(target, nan=0.0).unsqueeze(2)
    d = tz - pred
    q = qs.view(1, 1, -1, 1)
    l = torch.maximum(q * d, (q - 1) * d).mean(2)  # [B, N, P]
    vf = valid.to(l.dtype)
    return (l * vf).sum() / vf.sum().clamp(min=1.0)


def batch_loss(model, inp, tgt, qs, masked_weight=0.0):
    """Pinball loss of every token's next-patch quantiles (mean over all finite targets), plus
    masked_weight x the same mean over the tokens whose own input patch is all missing (after the
    first observed value): the rollout's later passes, where the last tokens are NaN patches.
    Also returns the last token's loss alone."""
    P = model.patch
    loc, scale = scale_window(inp)
    z = (inp - loc) / scale
    tok = tokenize(z, P)
    pred = model.forward_tokens(tok)  # [B, N, Q, P]
    B, N = pred.shape[:2]
    tz = ((tgt - loc) / scale).clamp(-50, 50).view(B, N, P)
    # no loss from tokens that have seen no value yet (pure left padding)
    seen = torch.cumsum(tok[..., P:].sum(-1), dim=1) > 0  # [B, N]
    tz = torch.where(seen.unsqueeze(-1), tz, torch.full_like(tz, float("nan")))
    last_loss = pinball(pred[:, -1:], tz[:, -1:], qs)
    loss = pinball(pred, tz, qs)
    if masked_weight:
        masked = (tok[..., P:].sum(-1) == 0) & seen  # [B, N]
        tm = torch.where(masked.unsqueeze(-1), tz, torch.full_like(tz, float("nan")))
        loss = loss + masked_weight * pinball(pred, tm, qs)
    return loss, last_loss


# ============================================================================================
# Commands
# ============================================================================================

def add_model_args(ap):
    ap.add_argument("--patch", type=int, default=16)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--blocks", type=int, default=3)
    ap.add_argument("--ff-dim", type=int, default=128)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--ffn-factor", type=float, default=2.6667)


def make_model(a):
    return TiRexSmall(patch=a.patch, dim=a.dim, num_heads=a.heads, num_blocks=a.blocks, ff_dim=a.ff_dim,
                      ctx=a.ctx, ffn_factor=a.ffn_factor)


def cmd_params(a):
    m = make_model(a)
    n = sum(p.numel() for p in m.parameters())
    print(f"{n} parameters, {n * 4 / 1e6:.2f} MB as float32, UP={ffn_up_dim(a.dim, a.ffn_factor)}")


def cmd_data(a):
    os.makedirs(a.out_dir, exist_ok=True)
    rows = heldout_rows(a.horizon)
    write_csv(os.path.join(a.out_dir, "heldout.csv"), [r[1] for r in rows])
    write_csv(os.path.join(a.out_dir, "heldout_future.csv"), [r[2] for r in rows])
    with open(os.path.join(a.out_dir, "heldout_names.txt"), "w") as f:
        for r in rows:
            f.write(f"{r[0]} history={len(r[1])} nan={int(np.isnan(r[1]).sum())} future={len(r[2])}\n")
    for r in rows:
        print(r[0], len(r[1]), int(np.isnan(r[1]).sum()), len(r[2]))


def cmd_train(a):
    torch.set_num_threads(a.threads)
    os.makedirs(a.work, exist_ok=True)
    state_path = os.path.join(a.work, "state.pt")
    rng = np.random.default_rng(a.seed)
    torch.manual_seed(a.seed)
    model = make_model(a).init_weights(a.seed)
    decay, no_decay = [], []
    for n_, p in model.named_parameters():
        (decay if p.ndim >= 2 and "_recurrent_kernel_" not in n_ else no_decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.wd}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.95))
    step, cpu_prior = 0, 0.0
    if a.resume and os.path.exists(state_path):
        st = torch.load(state_path)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        step, cpu_prior = st["step"], st["cpu"]
        rng = np.random.default_rng([a.seed, step])
        torch.manual_seed(a.seed + step)
        print(f"resumed at step {step}, cpu {cpu_prior:.0f}s", flush=True)
    phase_step, phase_cpu = (step, cpu_prior) if (a.resume and a.new_phase) else (0, 0.0)
    qs = torch.tensor(model.quantiles)
    real = real_training_series()
    sampler = WindowSampler(rng, a.patch, a.ctx, a.pool, a.pool_len, real, a.real_frac, a.trail_mask_p)
    vrng = np.random.default_rng(a.seed + 999)
    vs = WindowSampler(vrng, a.patch, a.ctx, 512, a.pool_len, real, 0.0)
    val = [vs.sample(128) for _ in range(4)]
    del vs
    with open(os.path.join(a.work, "args.json"), "w") as f:
        json.dump(vars(a), f, indent=1)

    def validate():
        model.eval()
        with torch.no_grad():
            r = [batch_loss(model, i, t, qs) for i, t in val]
        model.train()
        return sum(x[0].item() for x in r) / len(r), sum(x[1].item() for x in r) / len(r)

    def save():
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "cpu": cpu_used,
                    "config": model.config_dict()}, state_path + ".tmp")
        os.replace(state_path + ".tmp", state_path)

    cpu_used = cpu_prior + time.process_time()  # this process's CPU time counts whole (start-up too)
    ema = None
    model.train()
    while cpu_used < a.cpu_budget:
        # linear warm-up over `warmup` steps, then cosine to min_lr over the CPU budget; with
        # --new-phase (on --resume) the schedule restarts from the resumed step and CPU time
        ws = step - phase_step
        frac = min(1.0, (cpu_used - phase_cpu) / max(1e-9, a.cpu_budget - phase_cpu))
        lr = a.lr * (ws + 1) / a.warmup if ws < a.warmup else \
            a.min_lr + 0.5 * (a.lr - a.min_lr) * (1 + math.cos(math.pi * frac))
        for g in opt.param_groups:
            g["lr"] = lr
        inp, tgt = sampler.sample(a.batch)
        loss, last = batch_loss(model, inp, tgt, qs, a.masked_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        opt.step()
        step += 1
        cpu_used = cpu_prior + time.process_time()
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        if step % a.log_every == 0:
            print(f"step {step} cpu {cpu_used:.0f}s lr {lr:.2e} loss {loss.item():.4f} ema {ema:.4f} "
                  f"last {last.item():.4f} gn {gn:.2f}", flush=True)
        if step % a.val_every == 0:
            vl, vlast = validate()
            print(f"  val step {step}: loss {vl:.4f} last-token {vlast:.4f}", flush=True)
            save()
    vl, vlast = validate()
    cpu_used = cpu_prior + time.process_time()
    print(f"done: step {step} cpu {cpu_used:.0f}s val loss {vl:.4f} last-token {vlast:.4f}", flush=True)
    save()


def cmd_export(a):
    st = torch.load(os.path.join(a.work, "state.pt"))
    c = st["config"]
    model = TiRexSmall(patch=c["patch"], dim=c["dim"], num_heads=c["num_heads"], num_blocks=c["num_blocks"],
                       ff_dim=c["ff_dim"], ctx=c["ctx"], quantiles=c["quantiles"], ffn_factor=c["ffn_factor"])
    model.load_state_dict(st["model"])
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    save_lightning_ckpt(model, a.out, st["step"])
    print(f"wrote {a.out} ({os.path.getsize(a.out)} bytes), step {st['step']}, cpu {st['cpu']:.0f}s")


def cmd_forecast(a):
    torch.set_num_threads(a.threads)
    model = load_lightning_ckpt(a.ckpt)
    rows = read_csv(a.series)
    q = forecast(model, rows, a.horizon, bf16=a.bf16)
    q.numpy().astype("<f4").tofile(a.out)
    print(f"wrote {a.out}: {tuple(q.shape)} (B, H, Q)")


def cmd_compare(a):
    """max |A - B| / scale per series, scale = the scaler's on the first pass window (the last
    ctx points of the history), as in the golden checks."""
    rows = read_csv(a.series)
    B = len(rows)
    x = np.fromfile(a.a, dtype="<f4").reshape(B, a.horizon, -1).astype(np.float64)
    y = np.fromfile(a.b, dtype="<f4").reshape(B, a.horizon, -1).astype(np.float64)
    worst = 0.0
    for b, r in enumerate(rows):
        w = torch.full((1, a.ctx), float("nan"))
        r = torch.as_tensor(r[-a.ctx:])
        w[0, a.ctx - len(r):] = r
        _, sc = scale_window(w)
        e = np.abs(x[b] - y[b]) / float(sc)
        worst = max(worst, float(e.max()))
        print(f"series {b}: scale {float(sc):.4g} max|err|/scale {e.max():.3g} mean {e.mean():.3g}")
    print(f"max over all: {worst:.3g}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("params")
    add_model_args(p)
    p = sub.add_parser("data")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--horizon", type=int, default=HELDOUT_HORIZON)
    p = sub.add_parser("train")
    add_model_args(p)
    p.add_argument("--work", required=True)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--min-lr", type=float, default=1e-4)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--wd", type=float, default=0.05)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--cpu-budget", type=float, default=2400.0, help="seconds of process CPU time")
    p.add_argument("--pool", type=int, default=30000, help="synthetic series in the training pool")
    p.add_argument("--pool-len", type=int, default=640)
    p.add_argument("--real-frac", type=float, default=0.15)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--log-every", type=int, default=25)
    p.add_argument("--val-every", type=int, default=250)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--new-phase", action="store_true", help="on --resume: restart warm-up and cosine")
    p.add_argument("--trail-mask-p", type=float, default=0.5,
                   help="probability that a window's last 1-4 input patches are masked (rollout passes)")
    p.add_argument("--masked-weight", type=float, default=0.0,
                   help="extra loss weight on tokens whose input patch is all missing")
    p = sub.add_parser("export")
    p.add_argument("--work", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("forecast")
    p.add_argument("ckpt")
    p.add_argument("series")
    p.add_argument("horizon", type=int)
    p.add_argument("out")
    p.add_argument("--bf16", action="store_true")
    p.add_argument("--threads", type=int, default=1)
    p = sub.add_parser("compare")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("series")
    p.add_argument("horizon", type=int)
    p.add_argument("--ctx", type=int, required=True, help="the model's train_ctx_len")
    a = ap.parse_args()
    {"compare": cmd_compare, "params": cmd_params, "data": cmd_data, "train": cmd_train, "export": cmd_export,
     "forecast": cmd_forecast}[a.cmd](a)


if __name__ == "__main__":
    main()
