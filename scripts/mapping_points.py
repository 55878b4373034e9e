#!/usr/bin/env python3
"""Collects real ladders' mapping points for scripts/fitpack_reference.py.

Usage: mapping_points.py NAME=PREDICTIONS.json ...  (each file: `cod artifact show map.bin --json`
of a `map` or `bootstrap` stage's artifact; NAME prefixes its benchmarks' case names)

Writes crates/cod-map/testdata/mapping_points.json: per benchmark that has a mapping, its fit
points (P′ accuracy, full accuracy) with weight 1 for each model and 100 for the pinned end points
(the `spline` form's default), whatever weights the artifact was made with.
"""
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
cases, sources = [], []
for arg in sys.argv[1:]:
    name, path = arg.split("=", 1)
    artifact = json.loads(pathlib.Path(path).read_text())
    sources.append({"name": name, "file": path})
    for bench in artifact["benchmarks"]:
        mapping = bench.get("mapping")
        if not mapping:
            continue
        points = [p for p in mapping["points"]]
        cases.append(
            {
                "name": f"{name}/{bench['name']}",
                "x": [p["subset"] for p in points],
                "y": [p["full"] for p in points],
                "w": [100.0 if p["source"] == "end point" else 1.0 for p in points],
            }
        )
out = ROOT / "crates/cod-map/testdata/mapping_points.json"
out.write_text(json.dumps({"sources": sources, "cases": cases}, indent=1) + "\n")
print(f"wrote {out}: {len(cases)} cases")
