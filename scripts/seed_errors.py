#!/usr/bin/env python3
"""Absolute errors, and the coverage of the prediction intervals, per method over simulator seeds,
from `just evaluate-seeds`.

Usage: seed_errors.py DIR N  (reads DIR/1/predictions.json .. DIR/N/predictions.json)

Coverage is the share of seeds whose actual value (the target's measured accuracy) lies inside the
method's interval, with the intervals' mean width; a 5-95% interval should cover about 90%. When a
seed's run also wrote `backtest.csv` with intervals, the same is reported over its held-out models.
"""
import csv
import json
import pathlib
import sys

root, n = pathlib.Path(sys.argv[1]), int(sys.argv[2])
errors, covered, widths = {}, {}, {}
for seed in range(1, n + 1):
    table = json.loads((root / str(seed) / "predictions.json").read_text())
    for bench, methods in table.items():
        for method, row in methods.items():
            if row["abs_error"] is not None:
                errors.setdefault(method, []).append(100 * row["abs_error"])
            interval, actual = row.get("interval"), row["actual"]
            if interval is not None and actual is not None:
                lo, hi = interval
                covered.setdefault(method, []).append(lo <= actual <= hi)
                widths.setdefault(method, []).append(100 * (hi - lo))
print(f"{'method':<22} {'mean':>6} {'max':>6}   per seed (accuracy points)")
for method, errs in errors.items():
    cells = " ".join(f"{e:5.2f}" for e in errs)
    print(f"{method:<22} {sum(errs) / len(errs):6.2f} {max(errs):6.2f}   {cells}")
if covered:
    print(f"\n{'method':<22} {'coverage':>9} {'width':>7}   (interval holds the actual; mean width in points)")
    for method, hits in covered.items():
        w = widths[method]
        print(f"{method:<22} {sum(hits):>4}/{len(hits):<4} {sum(w) / len(w):7.2f}")

backtest_hits, backtest_widths = {}, {}
for seed in range(1, n + 1):
    path = root / str(seed) / "backtest.csv"
    if not path.exists():
        continue
    with path.open() as f:
        for row in csv.DictReader(f):
            if row["lower"] and row["upper"] and row["actual"]:
                lo, hi, actual = float(row["lower"]), float(row["upper"]), float(row["actual"])
                backtest_hits.setdefault(row["method"], []).append(lo <= actual <= hi)
                backtest_widths.setdefault(row["method"], []).append(100 * (hi - lo))
if backtest_hits:
    print(f"\n{'method':<22} {'coverage':>9} {'width':>7}   (backtests: interval holds the held-out model's actual)")
    for method, hits in backtest_hits.items():
        w = backtest_widths[method]
        print(f"{method:<22} {sum(hits):>4}/{len(hits):<4} {sum(w) / len(w):7.2f}")
