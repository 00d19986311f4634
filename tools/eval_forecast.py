#!/usr/bin/env python3
"""Score a quantile forecast against the truth, and against the seasonal-naive forecast.

Usage:
  eval_forecast.py HISTORY_CSV FUTURE_CSV FORECAST.f32 H Q SEASON [--quantiles 0.1,...,0.9]

HISTORY_CSV / FUTURE_CSV: one series per line, comma-separated, `nan` = missing (the history is
what the model saw; the future its true continuation, same order). FORECAST.f32: raw little-endian
float32 [B, H, Q] (quantiles in the order given by --quantiles; default Q evenly spaced levels
i/(Q+1), i.e. 0.1 ... 0.9 for Q = 9; the 0.5 level must be among them). Missing future values are
skipped. Only numpy is needed.

Metrics, per series and overall (future steps 1..H):
  MASE  mean |y - median| / the in-sample MAE of the seasonal-naive forecast
        (mean over t > SEASON of |y_t - y_{t-SEASON}|, pairs with a missing value skipped): the
        standard definition (Hyndman & Koehler 2006, M4).
  wQL   weighted quantile loss: mean over levels q of 2 * sum_t pinball_q(y_t, f_q,t) / sum_t |y_t|
        (GluonTS mean_wQuantileLoss); it approximates CRPS / sum |y|.
  SQL   scaled quantile loss: mean over t and q of 2 * pinball_q / the MASE denominator
        (a CRPS approximation on the MASE scale).
The seasonal-naive baseline repeats the last SEASON observed values (a missing one is replaced by
the latest observed value at the same phase); as a probabilistic forecast it puts every quantile
on that point (so its wQL is its weighted absolute error). "overall" gives the arithmetic mean of
the per-series MASE, wQL and SQL ("mean"), the aggregate wQL (all series' pinball sums over all
their |y|), and the geometric mean of the per-series model/baseline ratios (the relative score
of the Chronos and TiRex papers).
"""
import argparse
import math
import sys

import numpy as np


def read_csv(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(np.array([float(v) for v in line.split(",")], dtype=np.float64))
    return rows


def seasonal_naive(hist, H, m):
    n = len(hist)
    out = np.full(H, np.nan)
    for h in range(H):
        # phase-matched index in the last season, stepping back whole seasons past missing values
        i = n - m + (h % m)
        while i >= 0 and not np.isfinite(hist[i]):
            i -= m
        if i >= 0:
            out[h] = hist[i]
    if not np.all(np.isfinite(out)):  # no observation at that phase: last observed value
        fin = hist[np.isfinite(hist)]
        out[~np.isfinite(out)] = fin[-1] if len(fin) else 0.0
    return out


def insample_scale(hist, m):
    d = np.abs(hist[m:] - hist[:-m])
    d = d[np.isfinite(d)]
    return float(d.mean()) if len(d) else float("nan")


def pinball(y, f, q):
    d = y - f
    return np.maximum(q * d, (q - 1) * d)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("history")
    ap.add_argument("future")
    ap.add_argument("forecast")
    ap.add_argument("H", type=int)
    ap.add_argument("Q", type=int)
    ap.add_argument("season", type=int)
    ap.add_argument("--quantiles", default=None, help="comma-separated levels, in the file's order")
    ap.add_argument("--names", default=None, help="optional file with one series name per line (first word)")
    a = ap.parse_args()

    hist = read_csv(a.history)
    fut = read_csv(a.future)
    B, H, Q, m = len(hist), a.H, a.Q, a.season
    if len(fut) != B:
        sys.exit(f"{a.history} has {B} series, {a.future} has {len(fut)}")
    fc = np.fromfile(a.forecast, dtype="<f4").astype(np.float64)
    if fc.size != B * H * Q:
        sys.exit(f"{a.forecast}: {fc.size} floats, expected B*H*Q = {B}*{H}*{Q} = {B * H * Q}")
    fc = fc.reshape(B, H, Q)
    qs = np.array([float(v) for v in a.quantiles.split(",")]) if a.quantiles else \
        np.array([(i + 1) / (Q + 1) for i in range(Q)])
    if len(qs) != Q:
        sys.exit("--quantiles must list Q levels")
    med = int(np.argmin(np.abs(qs - 0.5)))
    if abs(qs[med] - 0.5) > 1e-9:
        sys.exit("no 0.5 quantile among the levels")
    names = [f"series_{b}" for b in range(B)]
    if a.names:
        with open(a.names) as f:
            nm = [l.split()[0] for l in f if l.strip()]
        if len(nm) == B:
            names = nm
    if not np.all(np.isfinite(fc)):
        print("WARNING: the forecast has non-finite values")

    print(f"B={B} H={H} Q={Q} season={m} quantiles={','.join(f'{q:g}' for q in qs)}")
    hdr = f"{'series':<14} {'n_hist':>6} {'scale':>10} | {'MASE':>7} {'wQL':>8} {'SQL':>7} | " \
          f"{'sn MASE':>7} {'sn wQL':>8} {'sn SQL':>7}"
    print(hdr)
    print("-" * len(hdr))
    res = []
    tot = {"m_pl": 0.0, "s_pl": 0.0, "absy": 0.0}
    for b in range(B):
        y = fut[b][:H]
        if len(y) < H:
            y = np.concatenate([y, np.full(H - len(y), np.nan)])
        ok = np.isfinite(y)
        sc = insample_scale(hist[b], m)
        sn = seasonal_naive(hist[b], H, m)
        f = fc[b]
        yv = y[ok]
        m_ae = np.abs(yv - f[ok, med]).mean()
        s_ae = np.abs(yv - sn[ok]).mean()
        m_pl = np.stack([pinball(yv, f[ok, j], qs[j]) for j in range(Q)])  # [Q, n]
        s_pl = np.stack([pinball(yv, sn[ok], qs[j]) for j in range(Q)])
        absy = np.abs(yv).sum()
        r = {
            "name": names[b], "n": len(hist[b]), "scale": sc,
            "mase": m_ae / sc, "wql": 2 * m_pl.sum(1).mean() / absy, "sql": 2 * m_pl.mean() / sc,
            "sn_mase": s_ae / sc, "sn_wql": 2 * s_pl.sum(1).mean() / absy, "sn_sql": 2 * s_pl.mean() / sc,
        }
        tot["m_pl"] += m_pl.sum(1).mean()
        tot["s_pl"] += s_pl.sum(1).mean()
        tot["absy"] += absy
        res.append(r)
        print(f"{r['name']:<14} {r['n']:>6} {sc:>10.4g} | {r['mase']:>7.3f} {r['wql']:>8.4f} {r['sql']:>7.3f} | "
              f"{r['sn_mase']:>7.3f} {r['sn_wql']:>8.4f} {r['sn_sql']:>7.3f}")
    print("-" * len(hdr))
    mean = lambda k: float(np.mean([r[k] for r in res]))
    gm = lambda k1, k2: float(math.exp(np.mean([math.log(r[k1] / r[k2]) for r in res])))
    agg_m, agg_s = 2 * tot["m_pl"] / tot["absy"], 2 * tot["s_pl"] / tot["absy"]
    print(f"{'mean':<14} {'':>6} {'':>10} | {mean('mase'):>7.3f} {mean('wql'):>8.4f} {mean('sql'):>7.3f} | "
          f"{mean('sn_mase'):>7.3f} {mean('sn_wql'):>8.4f} {mean('sn_sql'):>7.3f}")
    print(f"aggregate wQL (sums over all series, GluonTS style; dominated by large-valued series): "
          f"model {agg_m:.4f}, seasonal naive {agg_s:.4f}")
    print(f"model / seasonal naive, geometric mean over series: MASE {gm('mase', 'sn_mase'):.3f}, "
          f"wQL {gm('wql', 'sn_wql'):.3f}, SQL {gm('sql', 'sn_sql'):.3f}")


if __name__ == "__main__":
    main()
