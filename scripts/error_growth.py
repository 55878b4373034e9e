#!/usr/bin/env python3
"""How a ladder backtest's errors grow with extrapolation distance (a diagnostic, not a test).

Usage: error_growth.py OUT [MANIFEST] [DATA]
  OUT       a ladder pipeline's output folder (reads OUT/backtest.csv)
  MANIFEST  default pipelines/manifests/olmo-ladder.toml
  DATA      the runs' folder, default $COD_DATA/olmo-ladder (else ../shared/data/olmo-ladder)

The calibrated intervals scale each backtest error by its distance d, in decades of compute from
the mean log10 compute of the runs the holdout was fitted on, and rescale to the target's d: they
assume |error| grows in proportion to d. This fits |error| ∝ d^γ by least squares on log |error|
against log d over each method's backtest rows, so γ = 1 is that assumption and γ = 0 is no growth.

Compute is 6·N·D: N from the manifest, D the last `throughput/total_tokens` of each run's file
(the targets' D from the manifest). Holdout h is fitted on the ladder runs that neither it nor an
earlier holdout holds out, as `ladder-backtest` does for `by = "size"` and `by = "tokens"`.
Rows with a zero error are left out (log 0). No target accuracy is read.
"""
import csv
import math
import os
import pathlib
import sys
import tomllib


def last_tokens(path):
    with open(path, newline="") as f:
        rows = csv.DictReader(f)
        tokens = [r["throughput/total_tokens"] for r in rows if r.get("throughput/total_tokens")]
    if not tokens:
        sys.exit(f"error: {path}: no `throughput/total_tokens` value in any row")
    return float(tokens[-1])


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = pathlib.Path(sys.argv[1])
    manifest = pathlib.Path(sys.argv[2] if len(sys.argv) > 2 else "pipelines/manifests/olmo-ladder.toml")
    default_data = pathlib.Path(os.environ.get("COD_DATA", "../shared/data")) / "olmo-ladder"
    data = pathlib.Path(sys.argv[3]) if len(sys.argv) > 3 else default_data

    runs = tomllib.loads(manifest.read_text())["run"]
    log_compute, targets = {}, {}
    for run in runs:
        role = run.get("role", "ladder")
        if role not in ("ladder", "target") or run.get("monitor"):
            continue
        tokens = run.get("tokens") or last_tokens(data / run["file"])
        lc = math.log10(6.0 * run["params"] * tokens)
        (targets if role == "target" else log_compute)[run["name"]] = lc

    backtest = out / "backtest.csv"
    with open(backtest, newline="") as f:
        rows = list(csv.DictReader(f))
    held = {}
    for line, r in enumerate(rows, start=2):
        if r["held_out"] not in log_compute:
            sys.exit(f"error: {backtest}:{line}: held-out run `{r['held_out']}` is not a ladder run of {manifest}")
        held.setdefault(int(r["holdout"]), set()).add(r["held_out"])
    fitted, dropped = {}, set()
    for h in sorted(held):
        dropped |= held[h]
        fitted[h] = [c for name, c in log_compute.items() if name not in dropped]
    mean = {h: sum(c) / len(c) for h, c in fitted.items()}

    by_method = {}
    for r in rows:
        if not r["abs_error"] or float(r["abs_error"]) <= 0.0:
            continue
        d = log_compute[r["held_out"]] - mean[int(r["holdout"])]
        if d > 0.0:
            by_method.setdefault(r["method"], []).append((math.log(d), math.log(float(r["abs_error"]))))

    ds = [math.exp(x) for pts in by_method.values() for x, _ in pts]
    print(f"{backtest}: backtest distances {min(ds):.2f}..{max(ds):.2f} decades")
    full = [c for c in log_compute.values()]
    full_mean = sum(full) / len(full)
    for name, c in targets.items():
        print(f"target {name}: {c - full_mean:.2f} decades from the ladder's mean log10 compute")
    print(f"{'method':24} {'rows':>5} {'gamma':>6} {'s.e.':>5}")
    for method, pts in sorted(by_method.items()):
        n = len(pts)
        if n < 3:
            continue
        mx = sum(x for x, _ in pts) / n
        my = sum(y for _, y in pts) / n
        sxx = sum((x - mx) ** 2 for x, _ in pts)
        slope = sum((x - mx) * (y - my) for x, y in pts) / sxx
        resid = sum((y - my - slope * (x - mx)) ** 2 for x, y in pts)
        se = math.sqrt(resid / (n - 2) / sxx)
        print(f"{method:24} {n:>5} {slope:>6.2f} {se:>5.2f}")


if __name__ == "__main__":
    main()
