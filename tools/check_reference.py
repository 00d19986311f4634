#!/usr/bin/env python3
"""Optional cross-check: load a model directory written by tools/train.py (config.json + model.safetensors)
into the *reference* NX-AI `xlstm` package with strict=True and compare its logits with train.py's model.
usage: tools/check_reference.py MODEL_DIR [XLSTM_SRC]
XLSTM_SRC is a directory containing the reference's `xlstm/` package (default: $XLSTM_SRC or /tmp/xlstm_ref;
e.g. `git -C /work/.mirror/NX-AI+xlstm/repo archive HEAD xlstm | tar x -C /tmp/xlstm_ref`)."""
import json
import os
import sys

import torch

d = sys.argv[1]
sys.path.insert(0, sys.argv[2] if len(sys.argv) > 2 else os.environ.get("XLSTM_SRC", "/tmp/xlstm_ref"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xlstm import (FeedForwardConfig, mLSTMBlockConfig, mLSTMLayerConfig, sLSTMBlockConfig,  # noqa: E402
                   sLSTMLayerConfig, xLSTMLMModel, xLSTMLMModelConfig)
import train as T  # noqa: E402

torch.set_num_threads(1)
c = json.load(open(os.path.join(d, "config.json")))
kw = {k: v for k, v in c.items() if not k.startswith("_")}
kw["mlstm_block"] = mLSTMBlockConfig(mlstm=mLSTMLayerConfig(**c["mlstm_block"]["mlstm"])) if c["mlstm_block"] else None
if c["slstm_block"]:
    sb = c["slstm_block"]
    kw["slstm_block"] = sLSTMBlockConfig(slstm=sLSTMLayerConfig(**sb["slstm"]),
                                         feedforward=FeedForwardConfig(**sb["feedforward"]) if sb["feedforward"] else None)
ref = xLSTMLMModel(xLSTMLMModelConfig(**kw)).eval()
sd = {k: v.float() for k, v in T.read_safetensors(os.path.join(d, "model.safetensors")).items()}
print("reference load_state_dict(strict=True):", ref.load_state_dict(sd, strict=True))
ours = T.load_model_dir(d).eval()
torch.manual_seed(0)
x = torch.randint(0, c["vocab_size"], (2, 64))
with torch.no_grad():
    ef = (ref(x) - ours(x)).abs().max().item()
    s1 = s2 = None
    es = 0.0
    for t in range(32):
        la, s1 = ref.step(x[:, t:t + 1], s1)
        lb, s2 = ours.step(x[:, t:t + 1], s2)
        es = max(es, (la - lb).abs().max().item())
print(f"forward max abs diff {ef:.3g}, step max abs diff {es:.3g}")
sys.exit(0 if max(ef, es) <= 2e-4 else 1)
