#!/usr/bin/env python3
"""Check tools/train.py's xLSTMLMModel against the golden reference logits.

For each model in ../shared/golden/{mlstm_only,mixed,mixed_cuda_layout,slstm_only} (or the folders
given on the command line): load config.json + model.safetensors (sLSTM weights in the vanilla or the
cuda backend layout), run one parallel forward over `tokens` and a step-by-step recurrent pass, and
compare with `logits_forward` / `logits_step` of expected.safetensors (max abs error <= 2e-4).
Exit 0 when all pass; skip (exit 0) when torch is not installed.
usage: tools/check_golden.py [GOLDEN_DIR ...]
"""
import os
import sys

try:
    import torch
except ImportError:
    print("check_golden: torch not available, skipping")
    sys.exit(0)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from train import load_model_dir, read_safetensors  # noqa: E402

TOL = 2e-4
NAMES = ["mlstm_only", "mixed", "mixed_cuda_layout", "slstm_only"]


def default_root():
    for cand in (os.path.join(HERE, "..", "..", "shared", "golden"), os.path.join(HERE, "..", "tests", "golden")):
        if os.path.isdir(cand):
            return cand
    return os.path.join(HERE, "..", "..", "shared", "golden")


def check(d):
    torch.set_num_threads(min(2, torch.get_num_threads()))
    model = load_model_dir(d).eval()
    exp = read_safetensors(os.path.join(d, "expected.safetensors"))
    toks = exp["tokens"].long().reshape(1, -1)
    with torch.no_grad():
        lf = model(toks)[0]
        state, outs = None, []
        for t in range(toks.shape[1]):
            lo, state = model.step(toks[:, t:t + 1], state)
            outs.append(lo[0, 0])
        ls = torch.stack(outs)
    ef = (lf - exp["logits_forward"]).abs().max().item()
    es = (ls - exp["logits_step"]).abs().max().item()
    ok = ef <= TOL and es <= TOL
    print(f"{os.path.basename(os.path.normpath(d)):18s} forward max abs err {ef:.3g}  step max abs err {es:.3g}  "
          f"{'PASS' if ok else 'FAIL'}")
    return ok


def main():
    dirs = sys.argv[1:] or [os.path.join(default_root(), n) for n in NAMES]
    ok = True
    for d in dirs:
        try:
            ok = check(d) and ok
        except Exception as e:  # report and continue
            print(f"{d}: ERROR {type(e).__name__}: {e}")
            ok = False
    print("all golden checks passed" if ok else "golden checks FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
