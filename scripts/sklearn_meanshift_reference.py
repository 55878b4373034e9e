#!/usr/bin/env python3
"""Reference partitions from scikit-learn for cod-cluster's MeanShift tests.

Writes crates/cod-cluster/testdata/sklearn_meanshift.json. Only needed to regenerate that file:
    python3 -m pip install scikit-learn==1.9.1 numpy
    python3 scripts/sklearn_meanshift_reference.py

For each case it stores the points, scikit-learn's estimate_bandwidth at quantile Q, the radius
R = min(bandwidth, sqrt(d)/10), the labels of MeanShift(bandwidth=R, bin_seeding=False), and the
labels of the COD paper's Algorithm 1 (improved MeanShift) written on top of scikit-learn's MeanShift.
"""
import json
import pathlib

import numpy as np
import sklearn
from sklearn.cluster import MeanShift, estimate_bandwidth

Q = 0.1
K = 10


def improved(X, R, k_min):
    """Algorithm 1: repeat MeanShift on unlabelled points; reset far points and small clusters."""
    labels = -np.ones(len(X), dtype=int)
    next_id = 0
    while True:
        idx = np.where(labels == -1)[0]
        if len(idx) < max(k_min, 1):
            break
        ms = MeanShift(bandwidth=R, bin_seeding=False).fit(X[idx])
        new = ms.labels_.copy()
        dist = np.linalg.norm(X[idx] - ms.cluster_centers_[new], axis=1)
        new[dist > R] = -1
        kept = False
        for j in range(len(ms.cluster_centers_)):
            members = idx[new == j]
            if len(members) >= k_min:
                labels[members] = next_id
                next_id += 1
                kept = True
        if not kept:
            break
    return labels


def blobs(rng, n, d, k, spread):
    centres = rng.uniform(0.1, 0.9, size=(k, d))
    which = rng.integers(0, k, size=n)
    return np.clip(centres[which] + rng.normal(0, spread, size=(n, d)), 0, 1)


def cases():
    rng = np.random.default_rng(20250224)
    yield "random-2d", rng.uniform(0, 1, size=(300, 2))
    yield "blobs-2d", blobs(rng, 400, 2, 5, 0.05)
    g = np.linspace(0, 1, 11)
    yield "grid-ties-2d", np.array([(x, y) for x in g for y in g])
    base = blobs(rng, 60, 3, 3, 0.04)
    yield "duplicates-3d", np.repeat(base, 5, axis=0)
    yield "line-1d", np.concatenate([rng.normal(0.2, 0.03, 120), rng.normal(0.7, 0.05, 80)])[:, None]
    yield "blobs-12d", blobs(rng, 400, 12, 4, 0.05)
    # Pass-rate-like: rates in steps of 0.01 over an 8-model ladder, rising with compute.
    diff = rng.normal(0.5, 0.25, size=(500, 1))
    steps = np.linspace(0, 1, 8)[None, :]
    p = 0.25 + 0.75 / (1 + np.exp(-(steps - diff) * 6))
    yield "pass-rates-8d", rng.binomial(100, p) / 100.0


out = []
for name, X in cases():
    X = np.asarray(X, dtype=float)
    d = X.shape[1]
    bandwidth = float(estimate_bandwidth(X, quantile=Q))
    R = min(bandwidth, np.sqrt(d) / 10)
    ms = MeanShift(bandwidth=R, bin_seeding=False).fit(X)
    out.append(
        {
            "name": name,
            "dim": d,
            "points": X.ravel().tolist(),
            "quantile": Q,
            "min_size": K,
            "bandwidth": bandwidth,
            "radius": R,
            "meanshift_labels": ms.labels_.tolist(),
            "improved_labels": improved(X, R, K).tolist(),
        }
    )
    print(f"{name}: n={len(X)} d={d} R={R:.4f} meanshift={len(set(ms.labels_))} clusters")

meta = {"sklearn": sklearn.__version__, "numpy": np.__version__, "cases": out}
path = pathlib.Path(__file__).resolve().parent.parent / "crates/cod-cluster/testdata/sklearn_meanshift.json"
path.write_text(json.dumps(meta) + "\n")
print(f"wrote {path}")
