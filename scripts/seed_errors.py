#!/usr/bin/env python3
"""Absolute errors per method over simulator seeds, from `just evaluate-seeds`.

Usage: seed_errors.py DIR N  (reads DIR/1/predictions.json .. DIR/N/predictions.json)
"""
import json
import pathlib
import sys

root, n = pathlib.Path(sys.argv[1]), int(sys.argv[2])
errors = {}
for seed in range(1, n + 1):
    table = json.loads((root / str(seed) / "predictions.json").read_text())
    for bench, methods in table.items():
        for method, row in methods.items():
            errors.setdefault(method, []).append(100 * row["abs_error"])
print(f"{'method':<22} {'mean':>6} {'max':>6}   per seed (accuracy points)")
for method, errs in errors.items():
    cells = " ".join(f"{e:5.2f}" for e in errs)
    print(f"{method:<22} {sum(errs) / len(errs):6.2f} {max(errs):6.2f}   {cells}")
