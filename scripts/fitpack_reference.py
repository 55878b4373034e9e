#!/usr/bin/env python3
"""Reference values from SciPy's FITPACK for cod-map's `spline` mapping (METHODS §1.5).

Writes crates/cod-map/testdata/fitpack_splines.json. Only needed to regenerate it:
    python3 -m pip install scipy numpy
    python3 scripts/fitpack_reference.py

Each case is a set of mapping points (subset accuracy x, full accuracy y, weight w) with the pinned
end points (0, 0) and (1, 1). The cases are
- synthetic ladders: a few to a dozen models, smooth or noisy, concave or convex, with duplicated
  x, with end weights 100 (the default), 10 and 1e4;
- real mapping points, read from crates/cod-map/testdata/mapping_points.json: the mmlu fixture's,
  BIG-G's tasks' and simulated seeds' (the points of the `map` stage's artifacts; that file says
  where each came from).

For every case the script runs the paper's s schedule (s from 1 down geometrically to 1e-8 in 60
steps, the first s whose RMSE on the points is at most T = 0.005), and records, for the schedule's
steps up to two past the chosen one, plus the first, middle and last, `UnivariateSpline(x, y, w, k=3,
s)` evaluated on a grid of [0, 1], at the data and just beyond the last ladder point (where a
prediction is read), with its knots and FITPACK's return code.

FITPACK fails on repeated x (models with the same P′ accuracy, as BIG-G's smallest models all have
0): SciPy then returns NaN, recorded as null, and no s meets T (`chosen` is null). cod-map merges
repeated x into one point, the same weighted least-squares problem, and its test checks that it
stays finite there.
"""
import json
import pathlib
import warnings

import numpy as np
import scipy
from scipy.interpolate import UnivariateSpline

ROOT = pathlib.Path(__file__).resolve().parent.parent
TESTDATA = ROOT / "crates/cod-map/testdata"
RMSE_TARGET = 0.005
SCHEDULE = np.geomspace(1.0, 1e-8, 60)
FIXED_STEPS = [0, 30, 59]


def synthetic_cases():
    rng = np.random.default_rng(20261201)
    cases = []

    def add(name, x, y, end_weight=100.0):
        x = [0.0, *x, 1.0]
        y = [0.0, *y, 1.0]
        w = [end_weight] + [1.0] * (len(x) - 2) + [end_weight]
        cases.append({"name": name, "x": x, "y": y, "w": w})

    # Ladder-like: the subset runs ahead of the full benchmark (all-zero items drag it down).
    for n in [3, 5, 8, 12]:
        sub = np.sort(rng.uniform(0.1, 0.8, n))
        add(f"concave-{n}", sub, 0.92 * sub - 0.05 * sub**2)
        add(f"noisy-{n}", sub, np.clip(0.9 * sub + rng.normal(0, 0.01, n), 0, 1))
    for n in [4, 8]:
        sub = np.sort(rng.uniform(0.3, 0.9, n))
        add(f"convex-{n}", sub, sub**1.6)
        add(f"s-shaped-{n}", sub, 1 / (1 + np.exp(-8 * (sub - 0.55))))
    sub = np.array([0.2, 0.35, 0.35, 0.5, 0.62])
    add("duplicated-x", sub, [0.18, 0.30, 0.31, 0.44, 0.55])
    sub = np.sort(rng.uniform(0.05, 0.6, 8))
    add("end-weight-10", sub, 0.8 * sub, end_weight=10.0)
    add("end-weight-1e4", sub, 0.8 * sub + 0.02 * np.sin(9 * sub), end_weight=1e4)
    add("two-models", [0.4, 0.6], [0.3, 0.5])
    add("tight-top", [0.7, 0.8, 0.9, 0.95], [0.5, 0.62, 0.75, 0.85])
    return cases


def real_cases():
    path = TESTDATA / "mapping_points.json"
    cases = []
    for case in json.loads(path.read_text())["cases"]:
        order = np.argsort(case["x"], kind="stable")
        cases.append(
            {
                "name": case["name"],
                "x": [case["x"][i] for i in order],
                "y": [case["y"][i] for i in order],
                "w": [case["w"][i] for i in order],
            }
        )
    return cases


def finite(values):
    """JSON has no NaN: FITPACK's NaN (repeated x with s below their own spread) becomes null."""
    return [float(v) if np.isfinite(v) else None for v in values]


def fit(x, y, w, s):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spl = UnivariateSpline(x, y, w=w, k=3, s=s)
    return spl


def reference(case):
    x, y, w = (np.array(case[k], dtype=float) for k in ("x", "y", "w"))
    last_ladder = x[-2]
    beyond = np.linspace(last_ladder, 1.0, 12)
    points = np.concatenate([np.linspace(0, 1, 21), x, beyond])
    chosen = None
    steps = []
    for k, s in enumerate(SCHEDULE):
        spl = fit(x, y, w, s)
        rmse = float(np.sqrt(np.mean((spl(x) - y) ** 2)))
        if chosen is None and rmse <= RMSE_TARGET:
            chosen = k
        keep = chosen is None or k <= chosen + 2 or k in FIXED_STEPS
        if keep:
            steps.append(
                {
                    "step": k,
                    "s": float(s),
                    "rmse": rmse if np.isfinite(rmse) else None,
                    "ier": int(spl._data[-1]),
                    "knots": spl.get_knots().tolist(),
                    "values": finite(spl(points)),
                }
            )
    return {**case, "points": points.tolist(), "chosen": chosen, "steps": steps}


def main():
    cases = [reference(c) for c in synthetic_cases() + real_cases()]
    out = {
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "rmse_target": RMSE_TARGET,
        "schedule": SCHEDULE.tolist(),
        "cases": cases,
    }
    path = TESTDATA / "fitpack_splines.json"
    path.write_text(json.dumps(out) + "\n")
    chosen = [c["chosen"] for c in cases]
    print(f"wrote {path}: {len(cases)} cases, chosen steps {chosen}")


if __name__ == "__main__":
    main()
