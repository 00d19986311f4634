#!/usr/bin/env python3
"""Self-contained PyTorch xLSTM language model (the NX-AI `xlstm` package's xLSTMLMModel,
2024 paper architecture) plus a small byte-level trainer and exporter.

The module tree, parameter names and config keys follow the reference package, so that a
`model.safetensors` written here loads unchanged into `xlstm.xLSTMLMModel` (with
`slstm.backend: "vanilla"`) and into xlstm.h.

Usage (use /usr/bin/python3; only torch + numpy are needed):
  tools/train.py bench  [--dim D --blocks N --slstm-at I --ctx S] [--batch B] [--steps N]   (time a few steps)
  tools/train.py train  --data FILE --out CKPT_DIR [options]   (see --help)
  tools/train.py export CKPT OUTDIR [--dtype f32|bf16]
  tools/train.py eval   MODEL_DIR --data FILE [--val-frac F]
  tools/train.py evalstream MODEL_DIR --data FILE [--n N]   (step mode over one long stretch)
  tools/train.py sample MODEL_DIR [--prompt TEXT] [--n N]
"""
import argparse
import copy
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# --------------------------------------------------------------------------------------------
# Config: the reference's dataclass fields (public ones), with the reference defaults.
# --------------------------------------------------------------------------------------------

MLSTM_LAYER_DEFAULTS = {
    "proj_factor": 2.0,
    "round_proj_up_dim_up": True,
    "round_proj_up_to_multiple_of": 64,
    "conv1d_kernel_size": 4,
    "qkv_proj_blocksize": 4,
    "num_heads": 4,
    "embedding_dim": -1,
    "bias": False,
    "dropout": 0.0,
    "context_length": -1,
}

SLSTM_LAYER_DEFAULTS = {
    "hidden_size": -1,
    "num_heads": 4,
    "num_states": 4,
    "backend": "cuda",
    "function": "slstm",
    "bias_init": "powerlaw_blockdependent",
    "recurrent_weight_init": "zeros",
    "num_gates": 4,
    "gradient_recurrent_cut": False,
    "gradient_recurrent_clipval": None,
    "forward_clipval": None,
    "batch_size": 8,
    "input_shape": "BSGNH",
    "internal_input_shape": "SBNGH",
    "output_shape": "BNSH",
    "constants": {},
    "dtype": "bfloat16",
    "dtype_b": "float32",
    "dtype_r": None,
    "dtype_w": None,
    "dtype_g": None,
    "dtype_s": None,
    "dtype_a": None,
    "enable_automatic_mixed_precision": True,
    "initial_val": 0.0,
    "embedding_dim": -1,
    "conv1d_kernel_size": 4,
    "group_norm_weight": True,
    "dropout": 0.0,
}

FEEDFORWARD_DEFAULTS = {
    "proj_factor": 1.3,
    "round_proj_up_dim_up": True,
    "round_proj_up_to_multiple_of": 64,
    "act_fn": "gelu",
    "embedding_dim": -1,
    "dropout": 0.0,
    "bias": False,
    "ff_type": "ffn_gated",
}

LM_DEFAULTS = {
    "mlstm_block": None,
    "slstm_block": None,
    "context_length": -1,
    "num_blocks": 1,
    "embedding_dim": 128,
    "add_post_blocks_norm": True,
    "bias": False,
    "dropout": 0.0,
    "slstm_at": [],
    "vocab_size": -1,
    "tie_weights": False,
    "weight_decay_on_embedding": False,
    "add_embedding_dropout": False,
}


def _with_defaults(d, defaults):
    out = copy.deepcopy(defaults)
    for k, v in (d or {}).items():
        if not k.startswith("_"):
            out[k] = v
    return out


def proj_up_dim(proj_factor, embedding_dim, multiple_of, round_up):
    x = proj_factor * embedding_dim / multiple_of
    x = math.ceil(x) if round_up else math.floor(x)
    return int(x * multiple_of)


def normalize_config(cfg):
    """Fill defaults and propagate top-level fields like the reference's __post_init__ chain.
    Returns a full public config (what we save as config.json)."""
    c = _with_defaults(cfg, LM_DEFAULTS)
    if c["mlstm_block"] is not None:
        mb = c["mlstm_block"]
        mb = {"mlstm": _with_defaults(mb.get("mlstm"), MLSTM_LAYER_DEFAULTS)}
        m = mb["mlstm"]
        m["embedding_dim"] = c["embedding_dim"]
        m["bias"] = c["bias"]
        m["dropout"] = c["dropout"]
        m["context_length"] = c["context_length"]
        c["mlstm_block"] = mb
    if c["slstm_block"] is not None:
        sb = c["slstm_block"]
        ff = sb.get("feedforward", FEEDFORWARD_DEFAULTS) if "feedforward" in sb else FEEDFORWARD_DEFAULTS
        sb = {
            "slstm": _with_defaults(sb.get("slstm"), SLSTM_LAYER_DEFAULTS),
            "feedforward": None if ff is None else _with_defaults(ff, FEEDFORWARD_DEFAULTS),
        }
        s = sb["slstm"]
        s["dropout"] = c["dropout"]
        s["embedding_dim"] = c["embedding_dim"]
        s["hidden_size"] = c["embedding_dim"]
        if s["num_heads"] <= 0:
            s["num_heads"] = 1
        # dtype fields as filled in by the reference's sLSTMCellConfig.__post_init__ (informational here)
        if s["dtype_b"] is None:
            s["dtype_b"] = s["dtype"]
        if s["dtype_a"] is None:
            s["dtype_a"] = s["dtype_b"]
        if s["dtype_r"] is None:
            s["dtype_r"] = s["dtype"]
        if s["dtype_w"] is None:
            s["dtype_w"] = s["dtype"]
        if s["dtype_s"] is None:
            s["dtype_s"] = s["dtype_w"]
        if s["dtype_g"] is None:
            s["dtype_g"] = s["dtype_r"]
        c["slstm_block"] = sb
    if c["mlstm_block"] is None:
        c["slstm_at"] = "all"
    if c["slstm_at"] == "all":
        c["slstm_at"] = list(range(c["num_blocks"]))
    for i in c["slstm_at"]:
        assert 0 <= i < c["num_blocks"], f"invalid slstm position {i}"
    if c["slstm_at"]:
        assert c["slstm_block"] is not None, "slstm_at set but no slstm_block"
    return c


# --------------------------------------------------------------------------------------------
# Components
# --------------------------------------------------------------------------------------------

ACT_FNS = {
    "gelu": F.gelu,
    "relu": F.relu,
    "relu^2": lambda x: torch.square(F.relu(x)),
    "sigmoid": torch.sigmoid,
    "swish": F.silu,
    "selu": F.selu,
}


def small_init_(p, dim):
    nn.init.normal_(p, mean=0.0, std=math.sqrt(2.0 / (5.0 * dim)))


def wang_init_(p, dim, num_blocks):
    nn.init.normal_(p, mean=0.0, std=2.0 / num_blocks / math.sqrt(dim))


class LayerNorm(nn.Module):
    """LayerNorm without bias whose stored weight is an offset: scale = 1 + weight."""

    def __init__(self, ndim, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(ndim))
        self.eps = eps
        self.ndim = ndim

    def forward(self, x):
        return F.layer_norm(x, (self.ndim,), weight=1.0 + self.weight, bias=None, eps=self.eps)


class MultiHeadLayerNorm(nn.Module):
    """Group norm with one group per head over (..., NH, DH) inputs; offset weight, no bias."""

    def __init__(self, ndim, weight=True, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(ndim)) if weight else None
        self.eps = eps

    def forward(self, x):  # x: (B, S, NH, DH) -> (B, S, NH*DH)
        B, S, NH, DH = x.shape
        y = F.layer_norm(x, (DH,), eps=self.eps).reshape(B, S, NH * DH)
        if self.weight is not None:
            y = y * (1.0 + self.weight)
        return y


class LinearHeadwise(nn.Module):
    """Block-diagonal projection, weight (NH, out_per_head, in_per_head), no bias here."""

    def __init__(self, in_features, num_heads, bias=False):
        super().__init__()
        self.num_heads = num_heads
        d = in_features // num_heads
        self.weight = nn.Parameter(torch.empty(num_heads, d, d))
        nn.init.normal_(self.weight, mean=0.0, std=math.sqrt(2 / 5 / d))
        self.bias = nn.Parameter(torch.zeros(in_features)) if bias else None

    def forward(self, x):
        shp = x.shape
        xh = x.reshape(-1, self.num_heads, shp[-1] // self.num_heads).transpose(0, 1)  # (NH, N, d)
        y = torch.bmm(xh, self.weight.transpose(1, 2)).transpose(0, 1).reshape(shp[:-1] + (-1,))
        if self.bias is not None:
            y = y + self.bias
        return y


class CausalConv1d(nn.Module):
    """Depthwise causal conv. Holds `conv` (nn.Conv1d) so the key is `conv1d.conv.weight`."""

    def __init__(self, dim, kernel_size):
        super().__init__()
        self.ks = kernel_size
        if kernel_size > 0:
            self.conv = nn.Conv1d(dim, dim, kernel_size, padding=kernel_size - 1, groups=dim, bias=True)
        else:
            self.conv = None

    def forward(self, x):  # (B, S, D)
        if self.conv is None:
            return x
        S = x.shape[1]
        return self.conv(x.transpose(1, 2))[:, :, :S].transpose(1, 2)

    def step(self, x, state):  # x (B, 1, D); state (B, KS, D) or None
        if self.conv is None:
            return x, state
        B, _, D = x.shape
        if state is None:
            state = x.new_zeros(B, self.ks, D)
        state = torch.cat([state[:, 1:], x], dim=1)
        w = self.conv.weight[:, 0, :].t()  # (KS, D)
        y = (state * w).sum(dim=1, keepdim=True) + self.conv.bias
        return y, state


# --------------------------------------------------------------------------------------------
# mLSTM
# --------------------------------------------------------------------------------------------


def mlstm_parallel(q, k, v, ig, fg, eps=1e-6):
    """Stabilised parallel mLSTM. q,k,v: (B, NH, S, DH); ig, fg: (B, NH, S) pre-activations.
    h_t = sum_j C[t,j] v_j / (max(|sum_j C[t,j]|, exp(-m_t)) + eps),
    C[t,j] = (q_t . k_j / sqrt(DH)) exp(logD[t,j] - m_t),  logD[t,j] = sum_{j<l<=t} log sigmoid(f_l) + i_j,
    m_t = max_{j<=t} logD[t,j]   (row-wise stabiliser, as the reference's parallel form)."""
    B, NH, S, DH = q.shape
    cs = torch.cumsum(F.logsigmoid(fg), dim=-1)  # (B, NH, S)
    mask = torch.ones(S, S, dtype=torch.bool, device=q.device).triu(1)
    logD = (cs.unsqueeze(-1) - (cs - ig).unsqueeze(-2)).masked_fill(mask, float("-inf"))
    mx = logD.amax(dim=-1, keepdim=True)  # (B, NH, S, 1)
    C = (q @ k.transpose(-1, -2)).mul_(1.0 / math.sqrt(DH)) * torch.exp(logD - mx)
    norm = torch.maximum(C.sum(dim=-1, keepdim=True).abs(), torch.exp(-mx)) + eps
    return (C @ v) / norm


def mlstm_step(state, q, k, v, ig, fg, eps=1e-6):
    """One recurrent step. q,k,v: (B, NH, DH); ig, fg: (B, NH). state: (C, n, m) or None."""
    B, NH, DH = q.shape
    if state is None:
        C = q.new_zeros(B, NH, DH, DH)
        n = q.new_zeros(B, NH, DH)
        m = q.new_zeros(B, NH)
    else:
        C, n, m = state
    logf = F.logsigmoid(fg)
    m_new = torch.maximum(logf + m, ig)
    fa = torch.exp(logf + m - m_new)
    ia = torch.exp(ig - m_new)
    ks = k / math.sqrt(DH)
    C = fa[..., None, None] * C + ia[..., None, None] * (ks.unsqueeze(-1) * v.unsqueeze(-2))
    n = fa[..., None] * n + ia[..., None] * ks
    num = (q.unsqueeze(-2) @ C).squeeze(-2)  # (B, NH, DH)
    den = torch.maximum((q * n).sum(-1).abs(), torch.exp(-m_new)) + eps
    return num / den[..., None], (C, n, m_new)


class mLSTMCell(nn.Module):
    def __init__(self, inner_dim, num_heads):
        super().__init__()
        self.nh = num_heads
        self.igate = nn.Linear(3 * inner_dim, num_heads)
        self.fgate = nn.Linear(3 * inner_dim, num_heads)
        self.outnorm = MultiHeadLayerNorm(inner_dim, weight=True)
        nn.init.zeros_(self.fgate.weight)
        with torch.no_grad():
            self.fgate.bias.copy_(torch.linspace(3.0, 6.0, num_heads))
        nn.init.zeros_(self.igate.weight)
        nn.init.normal_(self.igate.bias, mean=0.0, std=0.1)

    def forward(self, q, k, v):  # (B, S, H) each
        B, S, H = q.shape
        gin = torch.cat([q, k, v], dim=-1)
        ig = self.igate(gin).transpose(1, 2)  # (B, NH, S)
        fg = self.fgate(gin).transpose(1, 2)
        sh = lambda t: t.view(B, S, self.nh, -1).transpose(1, 2)
        h = mlstm_parallel(sh(q), sh(k), sh(v), ig, fg)  # (B, NH, S, DH)
        return self.outnorm(h.transpose(1, 2))

    def step(self, q, k, v, state):  # (B, 1, H) each
        B, S, H = q.shape
        gin = torch.cat([q, k, v], dim=-1)[:, 0]
        ig = self.igate(gin)
        fg = self.fgate(gin)
        sh = lambda t: t[:, 0].view(B, self.nh, -1)
        h, state = mlstm_step(state, sh(q), sh(k), sh(v), ig, fg)
        return self.outnorm(h.unsqueeze(1)), state


class mLSTMLayer(nn.Module):
    def __init__(self, cfg, num_blocks):
        super().__init__()
        E = cfg["embedding_dim"]
        inner = proj_up_dim(cfg["proj_factor"], E, cfg["round_proj_up_to_multiple_of"], cfg["round_proj_up_dim_up"])
        self.inner = inner
        nph = inner // cfg["qkv_proj_blocksize"]
        self.proj_up = nn.Linear(E, 2 * inner, bias=cfg["bias"])
        self.q_proj = LinearHeadwise(inner, nph, bias=cfg["bias"])
        self.k_proj = LinearHeadwise(inner, nph, bias=cfg["bias"])
        self.v_proj = LinearHeadwise(inner, nph, bias=cfg["bias"])
        self.conv1d = CausalConv1d(inner, cfg["conv1d_kernel_size"])
        self.mlstm_cell = mLSTMCell(inner, cfg["num_heads"])
        self.learnable_skip = nn.Parameter(torch.ones(inner))
        self.proj_down = nn.Linear(inner, E, bias=cfg["bias"])
        self.dropout = nn.Dropout(cfg["dropout"])
        # init (reference: small_init for in/qkv with dim=E, wang_init for out)
        small_init_(self.proj_up.weight, E)
        wang_init_(self.proj_down.weight, E, num_blocks)
        for p in (self.q_proj, self.k_proj, self.v_proj):
            small_init_(p.weight, E)
        for lin in (self.proj_up, self.proj_down):
            if lin.bias is not None:
                nn.init.zeros_(lin.bias)

    def _core(self, x_m, xc, z, h_tilde):
        h = (h_tilde + self.learnable_skip * xc) * F.silu(z)
        return self.dropout(self.proj_down(h))

    def forward(self, x):
        x_m, z = self.proj_up(x).split(self.inner, dim=-1)
        xc = F.silu(self.conv1d(x_m))
        h_tilde = self.mlstm_cell(self.q_proj(xc), self.k_proj(xc), self.v_proj(x_m))
        return self._core(x_m, xc, z, h_tilde)

    def step(self, x, state):
        state = state or {}
        x_m, z = self.proj_up(x).split(self.inner, dim=-1)
        xc, conv_state = self.conv1d.step(x_m, state.get("conv_state"))
        xc = F.silu(xc)
        h_tilde, mstate = self.mlstm_cell.step(self.q_proj(xc), self.k_proj(xc), self.v_proj(x_m), state.get("mlstm_state"))
        return self._core(x_m, xc, z, h_tilde), {"conv_state": conv_state, "mlstm_state": mstate}


# --------------------------------------------------------------------------------------------
# sLSTM (weights kept in the reference "vanilla" backend layout)
#   _recurrent_kernel_: (NH, 4*DH, DH)  R[h, g*DH + o, i]  (gate order i, f, z, o)
#   _bias_:             (4*H,)           b[g*H + h*DH + d]
# --------------------------------------------------------------------------------------------


def slstm_cuda_to_vanilla(rk, bias, num_heads):
    """cuda-backend state_dict layout -> vanilla layout."""
    NH = num_heads
    DH = rk.shape[1]
    G = rk.shape[2] // DH
    rk_ext = rk.reshape(NH, DH, G, DH)  # (NH, in, G, out)
    rk_van = rk_ext.permute(0, 2, 3, 1).reshape(NH, G * DH, DH)
    b_van = bias.reshape(NH, G, DH).permute(1, 0, 2).reshape(-1)
    return rk_van.contiguous(), b_van.contiguous()


def slstm_vanilla_to_cuda(rk, bias, num_heads):
    NH = num_heads
    DH = rk.shape[2]
    G = rk.shape[1] // DH
    rk_ext = rk.reshape(NH, G, DH, DH).permute(0, 3, 1, 2)  # (NH, in, G, out)
    return rk_ext.reshape(NH, DH, G * DH).contiguous(), bias.reshape(G, NH, DH).permute(1, 0, 2).reshape(-1).contiguous()


class sLSTMCell(nn.Module):
    def __init__(self, hidden, num_heads, bias_init, recurrent_weight_init, block_idx, num_blocks):
        super().__init__()
        self.H, self.NH, self.DH = hidden, num_heads, hidden // num_heads
        NH, DH = self.NH, self.DH
        self._recurrent_kernel_ = nn.Parameter(torch.zeros(NH, 4 * DH, DH))
        self._bias_ = nn.Parameter(torch.zeros(4 * hidden))
        with torch.no_grad():
            if recurrent_weight_init == "standard":
                nn.init.uniform_(self._recurrent_kernel_, -1.0 / math.sqrt(hidden), 1.0 / math.sqrt(hidden))
            b = torch.zeros(4, NH, DH)
            if bias_init == "powerlaw_blockdependent":
                ratio = block_idx / (num_blocks - 1) if num_blocks > 1 else 0.0
                vals = -(-5.0 + 12.0 * (torch.arange(DH) / max(DH - 1, 1)) ** (0.3 + 1.3 * ratio))
                b[1] = vals
            elif bias_init == "small_init":
                b[1] = torch.linspace(3.0, 6.0, DH)
            elif bias_init == "standard":
                b.uniform_(-1 / math.sqrt(hidden), 1 / math.sqrt(hidden))
            self._bias_.copy_(b.reshape(-1))

    def run(self, wx, state=None, detach_m=False):
        """wx: (B, S, 4, NH, DH) gate pre-activations (input part), gate order i, f, z, o.
        state: (4, B, NH, DH) [y, c, n, m] or None (zero state).
        Returns ys (B, S, NH, DH) and the final state."""
        B, S = wx.shape[:2]
        NH, DH = self.NH, self.DH
        Rt = self._recurrent_kernel_.transpose(1, 2)  # (NH, DH_in, 4*DH_out)
        bias = self._bias_.view(4, NH, DH)
        wx = (wx + bias).permute(1, 3, 0, 2, 4)  # (S, NH, B, 4, DH)
        if state is None:
            y = wx.new_zeros(NH, B, DH)
            c = n = m = None
        else:
            y, c, n, m = [s.transpose(0, 1) for s in state.unbind(0)]  # (NH, B, DH)
        ys = []
        for t in range(S):
            raw = wx[t] + torch.bmm(y, Rt).view(NH, B, 4, DH)
            ir, fr, zr, orr = raw.unbind(2)
            if n is None or (state is not None and t == 0 and bool(torch.all(n == 0))):
                # first step from the zero state: m = i, i-gate = 1 (reference behaviour)
                m = ir.detach() if detach_m else ir
                c = torch.tanh(zr)
                n = torch.ones_like(ir)
            else:
                lfm = m + F.logsigmoid(fr)
                m_new = torch.maximum(ir, lfm)
                if detach_m:
                    m_new = m_new.detach()
                ia = torch.exp(ir - m_new)
                fa = torch.exp(lfm - m_new)
                c = fa * c + ia * torch.tanh(zr)
                n = fa * n + ia
                m = m_new
            y = torch.sigmoid(orr) * c / n
            ys.append(y)
        out = torch.stack(ys, dim=0).permute(2, 0, 1, 3)  # (B, S, NH, DH)
        final = torch.stack([y, c, n, m], 0).transpose(1, 2)  # (4, B, NH, DH)
        return out, final


class sLSTMLayer(nn.Module):
    def __init__(self, cfg, block_idx, num_blocks):
        super().__init__()
        E = cfg["embedding_dim"]
        NH = cfg["num_heads"]
        self.E, self.NH = E, NH
        if cfg["conv1d_kernel_size"] > 0:
            self.conv1d = CausalConv1d(E, cfg["conv1d_kernel_size"])
        else:
            self.conv1d = None
        self.fgate = LinearHeadwise(E, NH)
        self.igate = LinearHeadwise(E, NH)
        self.zgate = LinearHeadwise(E, NH)
        self.ogate = LinearHeadwise(E, NH)
        self.slstm_cell = sLSTMCell(E, NH, cfg["bias_init"], cfg["recurrent_weight_init"], block_idx, num_blocks)
        self.group_norm = MultiHeadLayerNorm(E, weight=cfg["group_norm_weight"])
        self.dropout = nn.Dropout(cfg["dropout"])
        for g in (self.igate, self.fgate, self.zgate, self.ogate):
            small_init_(g.weight, E)

    def _gates(self, x, xc):
        B, S, _ = x.shape
        # crossed naming as in the reference: fgate -> cell input gate, igate -> cell forget gate
        g = torch.stack([self.fgate(xc), self.igate(xc), self.zgate(x), self.ogate(x)], dim=2)
        return g.view(B, S, 4, self.NH, self.E // self.NH)

    def forward(self, x, detach_m=False):
        xc = F.silu(self.conv1d(x)) if self.conv1d is not None else x
        ys, _ = self.slstm_cell.run(self._gates(x, xc), None, detach_m=detach_m)
        return self.group_norm(self.dropout(ys))

    def step(self, x, state):
        state = state or {}
        if self.conv1d is not None:
            xc, conv_state = self.conv1d.step(x, state.get("conv_state"))
            xc = F.silu(xc)
        else:
            xc, conv_state = x, None
        ys, sstate = self.slstm_cell.run(self._gates(x, xc), state.get("slstm_state"))
        return self.group_norm(self.dropout(ys)), {"conv_state": conv_state, "slstm_state": sstate}


class GatedFeedForward(nn.Module):
    def __init__(self, cfg, E, num_blocks):
        super().__init__()
        self.up = proj_up_dim(cfg["proj_factor"], E, cfg["round_proj_up_to_multiple_of"], cfg["round_proj_up_dim_up"])
        self.proj_up = nn.Linear(E, 2 * self.up, bias=cfg["bias"])
        self.proj_down = nn.Linear(self.up, E, bias=cfg["bias"])
        self.act = ACT_FNS[cfg["act_fn"]]
        self.dropout = nn.Dropout(cfg["dropout"])
        small_init_(self.proj_up.weight, E)
        wang_init_(self.proj_down.weight, E, num_blocks)
        for lin in (self.proj_up, self.proj_down):
            if lin.bias is not None:
                nn.init.zeros_(lin.bias)

    def forward(self, x):
        g, u = self.proj_up(x).split(self.up, dim=-1)
        return self.dropout(self.proj_down(self.act(g) * u))


class xLSTMBlock(nn.Module):
    def __init__(self, kind, c, idx):
        super().__init__()
        E, nb = c["embedding_dim"], c["num_blocks"]
        self.kind = kind
        self.xlstm_norm = LayerNorm(E)
        if kind == "m":
            self.xlstm = mLSTMLayer(c["mlstm_block"]["mlstm"], nb)
            ff = None
        else:
            self.xlstm = sLSTMLayer(c["slstm_block"]["slstm"], idx, nb)
            ff = c["slstm_block"]["feedforward"]
        if ff is not None:
            self.ffn_norm = LayerNorm(E)
            self.ffn = GatedFeedForward(ff, E, nb)
        else:
            self.ffn_norm = None
            self.ffn = None

    def forward(self, x, detach_m=False):
        if self.kind == "s":
            x = x + self.xlstm(self.xlstm_norm(x), detach_m=detach_m)
        else:
            x = x + self.xlstm(self.xlstm_norm(x))
        if self.ffn is not None:
            x = x + self.ffn(self.ffn_norm(x))
        return x

    def step(self, x, state):
        y, state = self.xlstm.step(self.xlstm_norm(x), state)
        x = x + y
        if self.ffn is not None:
            x = x + self.ffn(self.ffn_norm(x))
        return x, state


class xLSTMBlockStack(nn.Module):
    def __init__(self, c):
        super().__init__()
        s_at = set(c["slstm_at"])
        self.blocks = nn.ModuleList(
            [xLSTMBlock("s" if i in s_at else "m", c, i) for i in range(c["num_blocks"])]
        )
        self.post_blocks_norm = LayerNorm(c["embedding_dim"]) if c["add_post_blocks_norm"] else nn.Identity()

    def forward(self, x, detach_m=False):
        for b in self.blocks:
            x = b(x, detach_m=detach_m)
        return self.post_blocks_norm(x)

    def step(self, x, state):
        state = state if state is not None else {}
        for i, b in enumerate(self.blocks):
            x, state[f"block_{i}"] = b.step(x, state.get(f"block_{i}"))
        return self.post_blocks_norm(x), state


class xLSTMLMModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        c = normalize_config(config)
        self.config = c
        E = c["embedding_dim"]
        self.xlstm_block_stack = xLSTMBlockStack(c)
        self.token_embedding = nn.Embedding(c["vocab_size"], E)
        self.emb_dropout = nn.Dropout(c["dropout"]) if c["add_embedding_dropout"] else nn.Identity()
        self.lm_head = nn.Linear(E, c["vocab_size"], bias=False)
        small_init_(self.token_embedding.weight, E)
        if c["tie_weights"]:
            self.lm_head.weight = self.token_embedding.weight
        else:
            small_init_(self.lm_head.weight, E)

    def forward(self, idx, detach_m=False):
        x = self.emb_dropout(self.token_embedding(idx))
        return self.lm_head(self.xlstm_block_stack(x, detach_m=detach_m))

    def step(self, idx, state=None):
        x = self.emb_dropout(self.token_embedding(idx))
        x, state = self.xlstm_block_stack.step(x, state)
        return self.lm_head(x), state

    def weight_decay_groups(self):
        decay, no_decay = [], []
        for name, p in self.named_parameters():
            if p is self.token_embedding.weight and not self.config["weight_decay_on_embedding"]:
                no_decay.append(p)
            elif "weight" in name and "norm" not in name:
                decay.append(p)
            else:
                no_decay.append(p)
        return decay, no_decay


# --------------------------------------------------------------------------------------------
# safetensors I/O (no dependency on the `safetensors` module)
# --------------------------------------------------------------------------------------------

_ST_DT = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I32": np.int32, "I64": np.int64,
          "I16": np.int16, "I8": np.int8, "U8": np.uint8}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    head = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for k, v in head.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        raw = data[base + a:base + b]
        if v["dtype"] == "BF16":
            u = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            arr = u.view(np.float32)
        else:
            arr = np.frombuffer(raw, dtype=np.dtype(_ST_DT[v["dtype"]]).newbyteorder("<")).copy()
        out[k] = torch.from_numpy(arr.reshape(v["shape"]).copy())
    return out


def write_safetensors(path, tensors, metadata=None):
    header, blobs, off = {}, [], 0
    for k, t in tensors.items():
        t = t.detach().cpu().contiguous()
        if t.dtype == torch.bfloat16:
            raw, dt = t.view(torch.int16).numpy().astype("<i2").tobytes(), "BF16"
        elif t.dtype == torch.float32:
            raw, dt = t.numpy().astype("<f4").tobytes(), "F32"
        elif t.dtype == torch.float16:
            raw, dt = t.numpy().astype("<f2").tobytes(), "F16"
        elif t.dtype == torch.int32:
            raw, dt = t.numpy().astype("<i4").tobytes(), "I32"
        elif t.dtype == torch.int64:
            raw, dt = t.numpy().astype("<i8").tobytes(), "I64"
        else:
            raise ValueError(f"unsupported dtype {t.dtype}")
        header[k] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    if metadata:
        header["__metadata__"] = {str(a): str(b) for a, b in metadata.items()}
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


def load_model_dir(d):
    """Load config.json + model.safetensors (vanilla or cuda sLSTM layout) into xLSTMLMModel."""
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    model = xLSTMLMModel(cfg)
    sd = read_safetensors(os.path.join(d, "model.safetensors"))
    sd = convert_state_dict(sd, model.config)
    if model.config["tie_weights"] and "lm_head.weight" not in sd:
        sd["lm_head.weight"] = sd["token_embedding.weight"]
    sd = {k: v.float() for k, v in sd.items()}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    if missing or unexpected:
        raise RuntimeError(f"state_dict mismatch: missing={missing} unexpected={unexpected}")
    return model


def convert_state_dict(sd, c):
    """Map a reference state_dict (either sLSTM backend layout) to ours (vanilla)."""
    sd = dict(sd)
    if c["slstm_block"] is None:
        return sd
    s = c["slstm_block"]["slstm"]
    NH = s["num_heads"]
    for i in c["slstm_at"]:
        pre = f"xlstm_block_stack.blocks.{i}.xlstm.slstm_cell."
        rk, b = sd[pre + "_recurrent_kernel_"], sd[pre + "_bias_"]
        H = c["embedding_dim"]
        DH = H // NH
        if s["backend"] == "cuda" or tuple(rk.shape) == (NH, DH, 4 * DH):
            rk, b = slstm_cuda_to_vanilla(rk, b, NH)
        sd[pre + "_recurrent_kernel_"], sd[pre + "_bias_"] = rk, b.reshape(-1)
    return sd


def save_model_dir(model, outdir, dtype="f32", extra_meta=None):
    os.makedirs(outdir, exist_ok=True)
    cfg = copy.deepcopy(model.config)
    if cfg["slstm_block"] is not None:
        cfg["slstm_block"]["slstm"]["backend"] = "vanilla"
    sd = model.state_dict()
    tens = {}
    for k, v in sd.items():
        v = v.detach().float()
        if dtype == "bf16":
            v = v.to(torch.bfloat16)
        tens[k] = v
    write_safetensors(os.path.join(outdir, "model.safetensors"), tens, {"format": "pt", **(extra_meta or {})})
    with open(os.path.join(outdir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
        f.write("\n")


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


def demo_config(E=192, num_blocks=7, slstm_at=(3,), ctx=256, mlstm_heads=4, slstm_heads=4, vocab=256, dropout=0.0):
    return normalize_config({
        "mlstm_block": {"mlstm": {"conv1d_kernel_size": 4, "qkv_proj_blocksize": 4, "num_heads": mlstm_heads,
                                  "proj_factor": 2.0}},
        "slstm_block": {
            "slstm": {"backend": "vanilla", "num_heads": slstm_heads, "conv1d_kernel_size": 4,
                      "bias_init": "powerlaw_blockdependent"},
            "feedforward": {"proj_factor": 1.3, "act_fn": "gelu", "dropout": dropout},
        },
        "context_length": ctx,
        "num_blocks": num_blocks,
        "embedding_dim": E,
        "slstm_at": list(slstm_at),
        "vocab_size": vocab,
        "dropout": dropout,  # training-time only (mLSTM/sLSTM layer outputs, FFN output); inference ignores it
    })


def load_bytes(path, val_frac):
    data = np.frombuffer(open(path, "rb").read(), dtype=np.uint8)
    n_val = int(len(data) * val_frac)
    return torch.from_numpy(data[: len(data) - n_val].astype(np.int64)), torch.from_numpy(data[len(data) - n_val:].astype(np.int64))


@torch.no_grad()
def evaluate(model, data, ctx, batch=16, max_windows=None):
    """Mean nats/byte over non-overlapping windows of length ctx (each from the empty state)."""
    model.eval()
    n = (len(data) - 1) // ctx
    if max_windows:
        n = min(n, max_windows)
    tot, cnt = 0.0, 0
    for s in range(0, n, batch):
        idx = torch.arange(s, min(n, s + batch)) * ctx
        x = torch.stack([data[i:i + ctx] for i in idx.tolist()])
        y = torch.stack([data[i + 1:i + 1 + ctx] for i in idx.tolist()])
        logits = model(x)
        tot += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum").item()
        cnt += y.numel()
    model.train()
    return tot / cnt


def lr_at(step, total, peak, warmup, min_lr, frac=None):
    """Linear warmup over `warmup` steps, then cosine decay to min_lr. The decay's progress is
    step-based, or, with a time budget, `frac` = elapsed wall time / budget."""
    if step < warmup:
        return peak * (step + 1) / warmup
    p = frac if frac is not None else (step - warmup) / max(1, total - warmup)
    p = min(1.0, max(0.0, p))
    return min_lr + 0.5 * (peak - min_lr) * (1 + math.cos(math.pi * p))


def save_ckpt(path, model, opt, step, best, args, history, elapsed):
    tmp = path + ".tmp"
    torch.save({"config": model.config, "model": model.state_dict(), "opt": opt.state_dict() if opt else None,
                "step": step, "best_val": best, "args": {k: v for k, v in vars(args).items() if k != "fn"}, "history": history, "elapsed": elapsed}, tmp)
    os.replace(tmp, path)


def cmd_train(args):
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    train, val = load_bytes(args.data, args.val_frac)
    if args.train_on_val:  # final phase: train on the whole file; the val slice is then only a monitor
        train = torch.cat([train, val])
    cfg = demo_config(args.dim, args.blocks, [int(s) for s in args.slstm_at.split(",") if s != ""], args.ctx,
                      args.mlstm_heads, args.slstm_heads, dropout=args.dropout)
    model = xLSTMLMModel(cfg)
    nparams = sum(p.numel() for p in model.parameters())
    decay, no_decay = model.weight_decay_groups()
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    step, best, history, elapsed0 = 0, float("inf"), [], 0.0
    last_path = os.path.join(args.out, "last.pt")
    if args.resume and os.path.exists(last_path):
        ck = torch.load(last_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, best, history, elapsed0 = ck["step"], ck["best_val"], ck["history"], ck["elapsed"]
        print(f"resumed at step {step}", flush=True)
    print(f"config: {json.dumps(cfg)}", flush=True)
    print(f"params: {nparams}  train bytes: {len(train)}  val bytes: {len(val)}  args: {vars(args)}", flush=True)
    gen = torch.Generator().manual_seed(args.seed + step)
    t0 = time.time() - elapsed0
    last_save = time.time()
    model.train()
    tok_acc = 0.0
    # adaptive thread count: the 2 cores are shared with other work; under oversubscription one
    # OpenMP thread is faster than two. Every 50 steps try the other count for 5 steps, keep the faster.
    cur_threads = args.threads
    times = {1: [], 2: []}
    while step < args.steps and (args.time_budget is None or time.time() - t0 < args.time_budget):
        trial = args.adapt_threads and step % 50 >= 45
        nthr = (3 - cur_threads) if trial else cur_threads
        torch.set_num_threads(nthr)
        ts = time.time()
        frac = (time.time() - t0) / args.time_budget if args.time_budget else None
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, args.warmup, args.min_lr, frac)
        ix = torch.randint(0, len(train) - args.ctx - 1, (args.batch,), generator=gen)
        x = torch.stack([train[i:i + args.ctx] for i in ix.tolist()])
        y = torch.stack([train[i + 1:i + 1 + args.ctx] for i in ix.tolist()])
        logits = model(x, detach_m=True)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        step += 1
        if args.adapt_threads:
            times[nthr] = (times[nthr] + [time.time() - ts])[-5:]
            if step % 50 == 0 and len(times[1]) >= 5 and len(times[2]) >= 5:
                m = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
                best_n = min(m, key=m.get)
                if best_n != cur_threads:
                    print(f"threads: switching {cur_threads} -> {best_n} (median step {m})", flush=True)
                cur_threads = best_n
        tok_acc = 0.98 * tok_acc + 0.02 * loss.item() if step > 1 else loss.item()
        if step % args.log_every == 0:
            el = time.time() - t0
            print(f"step {step} loss {loss.item():.4f} ema {tok_acc:.4f} gnorm {gn:.3f} lr {opt.param_groups[0]['lr']:.2e} thr {nthr} "
                  f"elapsed {el:.0f}s ({el / step:.3f}s/step)", flush=True)
        if step % args.eval_every == 0 or step == args.steps:
            v = evaluate(model, val, args.ctx)
            el = time.time() - t0
            history.append({"step": step, "train_ema": round(tok_acc, 4), "val": round(v, 4), "elapsed_s": round(el)})
            print(f"EVAL step {step} val {v:.4f} (best {min(best, v):.4f}) elapsed {el:.0f}s", flush=True)
            if v < best:
                best = v
                save_ckpt(os.path.join(args.out, "best.pt"), model, None, step, best, args, history, el)
            save_ckpt(last_path, model, opt, step, best, args, history, el)
            last_save = time.time()
        elif time.time() - last_save > args.save_secs:
            save_ckpt(last_path, model, opt, step, best, args, history, time.time() - t0)
            last_save = time.time()
    if not history or history[-1]["step"] != step:  # stopped by the time budget: final eval + save
        v = evaluate(model, val, args.ctx)
        el = time.time() - t0
        history.append({"step": step, "train_ema": round(tok_acc, 4), "val": round(v, 4), "elapsed_s": round(el)})
        print(f"EVAL step {step} val {v:.4f} (best {min(best, v):.4f}) elapsed {el:.0f}s", flush=True)
        if v < best:
            best = v
            save_ckpt(os.path.join(args.out, "best.pt"), model, None, step, best, args, history, el)
        save_ckpt(last_path, model, opt, step, best, args, history, el)
    print(f"done: steps {step} best val {best:.4f} wall {time.time() - t0:.0f}s", flush=True)


def cmd_bench(args):
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    cfg = demo_config(args.dim, args.blocks, [int(s) for s in args.slstm_at.split(",") if s != ""], args.ctx,
                      args.mlstm_heads, args.slstm_heads)
    model = xLSTMLMModel(cfg)
    print("params", sum(p.numel() for p in model.parameters()))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randint(0, 256, (args.batch, args.ctx))
    for i in range(args.steps):
        t = time.time()
        loss = F.cross_entropy(model(x, detach_m=True).reshape(-1, 256), x.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        print(f"step {i} {time.time() - t:.3f}s", flush=True)


def cmd_export(args):
    ck = torch.load(args.ckpt)
    model = xLSTMLMModel(ck["config"])
    model.load_state_dict(ck["model"])
    save_model_dir(model, args.outdir, args.dtype)
    print(f"exported step {ck['step']} (best val {ck['best_val']:.4f}) to {args.outdir}")
    print(json.dumps(ck["history"]))


def cmd_eval(args):
    torch.set_num_threads(args.threads)
    model = load_model_dir(args.model_dir)
    ctx = model.config["context_length"]
    _, val = load_bytes(args.data, args.val_frac)
    print(f"val nats/byte (windows of {ctx}): {evaluate(model, val, ctx):.4f}")


@torch.no_grad()
def cmd_evalstream(args):
    """Recurrent (step-mode) evaluation over one long stretch of the validation split, reporting
    nats/byte per position bucket: shows how the model behaves beyond its training context."""
    torch.set_num_threads(args.threads)
    model = load_model_dir(args.model_dir).eval()
    _, val = load_bytes(args.data, args.val_frac)
    n = min(args.n, len(val) - 1)
    state, losses = None, []
    for t in range(n):
        logits, state = model.step(val[t:t + 1].view(1, 1), state)
        losses.append(F.cross_entropy(logits[0], val[t + 1:t + 2]).item())
    edges = [0, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, n]
    for lo, hi in zip(edges[:-1], edges[1:]):
        if lo < n and hi > lo:
            seg = losses[lo:min(hi, n)]
            print(f"positions {lo:6d}-{min(hi, n) - 1:6d}: {sum(seg) / len(seg):.4f} nats/byte")
    print(f"all {n} positions: {sum(losses) / n:.4f} nats/byte")


@torch.no_grad()
def cmd_sample(args):
    torch.manual_seed(args.seed)
    model = load_model_dir(args.model_dir).eval()
    state, out = None, []
    toks = list(args.prompt.encode())
    for t in toks[:-1]:
        _, state = model.step(torch.tensor([[t]]), state)
    cur = toks[-1]
    for _ in range(args.n):
        logits, state = model.step(torch.tensor([[cur]]), state)
        p = torch.softmax(logits[0, -1] / args.temperature, -1)
        cur = int(torch.multinomial(p, 1))
        out.append(cur)
    sys.stdout.write(args.prompt + bytes(out).decode("utf-8", "replace") + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    def model_args(p):
        p.add_argument("--dim", type=int, default=192)
        p.add_argument("--blocks", type=int, default=7)
        p.add_argument("--slstm-at", default="3")
        p.add_argument("--ctx", type=int, default=256)
        p.add_argument("--mlstm-heads", type=int, default=4)
        p.add_argument("--slstm-heads", type=int, default=4)
        p.add_argument("--threads", type=int, default=2)
        p.add_argument("--dropout", type=float, default=0.0)

    p = sub.add_parser("train")
    model_args(p)
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--val-frac", type=float, default=0.05)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--min-lr", type=float, default=1e-4)
    p.add_argument("--warmup", type=int, default=150)
    p.add_argument("--wd", type=float, default=0.1)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--eval-every", type=int, default=200)
    p.add_argument("--log-every", type=int, default=20)
    p.add_argument("--save-secs", type=float, default=300)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--time-budget", type=float, default=None,
                   help="stop when total elapsed wall time (incl. resumed runs) reaches this many seconds; "
                        "the cosine decay then follows elapsed/budget instead of step/steps")
    p.add_argument("--train-on-val", action="store_true",
                   help="train on the whole file (val slice included; its loss is then no longer held-out)")
    p.add_argument("--adapt-threads", action="store_true", help="switch between 1 and 2 threads, whichever is faster")
    p.set_defaults(fn=cmd_train)

    p = sub.add_parser("bench")
    model_args(p)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=4)
    p.set_defaults(fn=cmd_bench)

    p = sub.add_parser("export")
    p.add_argument("ckpt")
    p.add_argument("outdir")
    p.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
    p.set_defaults(fn=cmd_export)

    p = sub.add_parser("eval")
    p.add_argument("model_dir")
    p.add_argument("--data", required=True)
    p.add_argument("--val-frac", type=float, default=0.05)
    p.add_argument("--threads", type=int, default=2)
    p.set_defaults(fn=cmd_eval)

    p = sub.add_parser("evalstream")
    p.add_argument("model_dir")
    p.add_argument("--data", required=True)
    p.add_argument("--val-frac", type=float, default=0.05)
    p.add_argument("--n", type=int, default=4096)
    p.add_argument("--threads", type=int, default=1)
    p.set_defaults(fn=cmd_evalstream)

    p = sub.add_parser("sample")
    p.add_argument("model_dir")
    p.add_argument("--prompt", default="ROMEO:\n")
    p.add_argument("--n", type=int, default=400)
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(fn=cmd_sample)

    args = ap.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()
