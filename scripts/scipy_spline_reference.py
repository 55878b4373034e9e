#!/usr/bin/env python3
"""Reference values from SciPy for cod-map's spline tests.

Writes crates/cod-map/testdata/scipy_splines.json. Only needed to regenerate it:
    python3 -m pip install scipy numpy
    python3 scripts/scipy_spline_reference.py

Cases: make_smoothing_spline (the penalized cubic smoothing spline cod-map implements) at several
penalties and weights, and PchipInterpolator, each evaluated on a grid.
"""
import json
import pathlib

import numpy as np
import scipy
from scipy.interpolate import PchipInterpolator, make_smoothing_spline

grid = np.linspace(0, 1, 41)
# Subset-to-full accuracy points like a ladder's, with the pinned end points.
x = np.array([0.0, 0.28, 0.31, 0.35, 0.41, 0.47, 0.55, 0.69, 0.78, 1.0])
y = np.array([0.0, 0.27, 0.30, 0.33, 0.38, 0.42, 0.49, 0.62, 0.70, 1.0])
w = np.array([1e6, 1, 1, 1, 1, 1, 1, 1, 1, 1e6])

smoothing = []
for lam in [1e-6, 1e-4, 1e-3, 1e-2, 1e-1]:
    for weights in [None, w]:
        s = make_smoothing_spline(x, y, w=weights, lam=lam)
        smoothing.append(
            {
                "lambda": lam,
                "weights": None if weights is None else weights.tolist(),
                "values": s(grid).tolist(),
            }
        )

px = np.array([0.0, 0.2, 0.35, 0.5, 0.8, 1.0])
py = np.array([0.0, 0.1, 0.1, 0.45, 0.7, 1.0])
pchip = PchipInterpolator(px, py)(grid).tolist()

out = {
    "scipy": scipy.__version__,
    "grid": grid.tolist(),
    "x": x.tolist(),
    "y": y.tolist(),
    "smoothing": smoothing,
    "pchip_x": px.tolist(),
    "pchip_y": py.tolist(),
    "pchip": pchip,
}
path = pathlib.Path(__file__).resolve().parent.parent / "crates/cod-map/testdata/scipy_splines.json"
path.parent.mkdir(parents=True, exist_ok=True)
path.write_text(json.dumps(out) + "\n")
print(f"wrote {path}")
