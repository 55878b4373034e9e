"""Independent SciPy reference for the ladder two-step task scaling law (Bhagia et al., arXiv 2412.04403).

It reads the OLMo ladder (wandb exports, one row per evaluated checkpoint), fits step 1
(task loss from N and D) and step 2 (accuracy from task loss) for the eight paper tasks, and
predicts the 7B and 13B targets, as specified in METHODS.md section 2. Where METHODS.md is silent
it follows allenai/OLMo-ladder (src/scaling/{fitting_functions,utils}.py, src/fitting/step1.py,
step2.py): ceil for "drop the first 10%", L-BFGS-B with ftol=0, gtol=1e-10, maxiter=1e6, and
curve_fit(maxfev=500000).

It is only needed to regenerate crates/cod-ladder/testdata/olmo_reference.json; CI never runs it.

    python3 scripts/ladder_reference.py [DATA_DIR] > crates/cod-ladder/testdata/olmo_reference.json

DATA_DIR defaults to $COD_DATA/olmo-ladder, else ../shared/data/olmo-ladder from the project root.
Generated with Python 3.11, scipy 1.17.1, numpy 2.4.6.
"""
import csv
import json
import math
import os
import sys
from pathlib import Path

import numpy as np
import scipy
from scipy.optimize import curve_fit, minimize
from scipy.special import huber

SIZES = {"190M": 190354176, "370M": 371262464, "760M": 758220288, "1B": 1279395840}
MULTS = ["1xC", "2xC", "5xC", "10xC"]
TASKS = {"mmlu": None, "hellaswag": "hellaswag_val", "arc_challenge": "arc_challenge_test",
         "arc_easy": "arc_easy_test", "piqa": "piqa_val", "csqa": "csqa_val",
         "socialiqa": "socialiqa_val", "openbookqa": "openbookqa_test"}
MMLU = {"mmlu_stem_test": 0.215, "mmlu_humanities_test": 0.335,
        "mmlu_social_sciences_test": 0.219, "mmlu_other_test": 0.231}
CHANCE = {"piqa": 0.5, "socialiqa": 1 / 3, "csqa": 0.2}
TARGETS = {"7B": ("peteish7_eval_anneal.csv", 6887575552, 3945065873408),
           "13B": ("peteish13_eval_final.csv", 13202396160, 5000088518656)}
DELTA = 1e-3


def read_rows(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    if rows and "_step" in rows[0]:
        rows.sort(key=lambda r: float(r["_step"]))
    return rows


def metric(rows, task, kind):
    """Per-row task loss (kind='loss') or accuracy (kind='acc'); MMLU is the weighted group mean."""
    col = (lambda s: f"eval/downstream_bpb/{s}_rc_5shot_bpb") if kind == "loss" else \
          (lambda s: f"eval/downstream/{s}_rc_5shot_len_norm")
    stems = MMLU if TASKS[task] is None else {TASKS[task]: 1.0}
    w = np.array(list(stems.values()))
    vals = np.array([[float(r[col(s)]) for s in stems] for r in rows])
    return vals @ w / w.sum()


def trailing_mean(x, n=5):
    return np.array([x[max(0, i - n + 1):i + 1].mean() for i in range(len(x))])


def law(p, N, D):
    a, b, alpha, beta, E = p
    return np.exp(a - alpha * np.log(N)) + np.exp(b - beta * np.log(D)) + E


def fit_step1(N, D, L):
    def fun(p):
        return huber(DELTA, np.log(law(p, N, D)) - np.log(L)).sum()

    def jac(p):
        a, b, alpha, beta, _ = p
        tn, td = np.exp(a - alpha * np.log(N)), np.exp(b - beta * np.log(D))
        pred = tn + td + p[4]
        g = np.clip(np.log(pred) - np.log(L), -DELTA, DELTA) / pred
        return np.array([g @ tn, g @ td, -g @ (tn * np.log(N)), -g @ (td * np.log(D)), g.sum()])

    return minimize(fun, [3.0, 6.0, 0.1, 0.2, 1.0], jac=jac, method="L-BFGS-B",
                    bounds=[(0, None)] * 5, options={"ftol": 0.0, "gtol": 1e-10, "maxiter": 1000000})


def sigmoid(L, a, L0, k, b):
    return a / (1 + np.exp(-k * (L - L0))) + b


def main():
    root = Path(__file__).resolve().parent.parent
    if len(sys.argv) > 1:
        data = Path(sys.argv[1])
    elif os.environ.get("COD_DATA"):
        data = Path(os.environ["COD_DATA"]) / "olmo-ladder"
    else:
        data = root.parent / "shared" / "data" / "olmo-ladder"
    runs = {f"{s}-{m}": (SIZES[s], read_rows(data / f"{s}-{m}.csv")) for s in SIZES for m in MULTS}
    targets = {t: (read_rows(data / f), n, d) for t, (f, n, d) in TARGETS.items()}

    out = {"generator": "scripts/ladder_reference.py", "scipy": scipy.__version__,
           "numpy": np.__version__, "tasks": {}}
    for task in TASKS:
        # step 1: one point per run
        N = np.array([float(n) for n, _ in runs.values()])
        D = np.array([float(rows[-1]["throughput/total_tokens"]) for _, rows in runs.values()])
        L = np.array([metric(rows[-5:], task, "loss").mean() for _, rows in runs.values()])
        r1 = fit_step1(N, D, L)
        print(f"{task}: step1 {r1.message} (nit={r1.nit}, nfev={r1.nfev})", file=sys.stderr)

        # step 2: pooled smoothed checkpoints, plus the anchor (0, 1)
        xs, ys = [], []
        for _, rows in runs.values():
            rows = rows[math.ceil(0.1 * len(rows)):]
            xs.append(trailing_mean(metric(rows, task, "loss")))
            ys.append(trailing_mean(metric(rows, task, "acc")))
        x, y = np.concatenate(xs + [[0.0]]), np.concatenate(ys + [[1.0]])
        chance = CHANCE.get(task, 0.25)
        p2, _ = curve_fit(sigmoid, x, y, p0=[chance - 1, 0.9, 3.0, 1.0], method="trf",
                          bounds=([-1, 0, 0, 0], [0, np.inf, np.inf, 1]), maxfev=500000)

        var_rows = runs["1B-10xC"][1][-10:]
        res = {"step1": dict(zip(["a", "b", "alpha", "beta", "E"], map(float, r1.x)),
                             cost=float(r1.fun), n_points=len(L)),
               "step2": dict(zip(["a", "L0", "k", "b"], map(float, p2)), n_points=len(x)),
               "variance": {"loss_std": float(np.std(metric(var_rows, task, "loss"))),
                            "acc_std": float(np.std(metric(var_rows, task, "acc"))), "ddof": 0},
               "targets": {}}
        for t, (rows, n, d) in targets.items():
            loss_pred = float(law(r1.x, float(n), float(d)))
            loss_actual = float(metric(rows[-5:], task, "loss").mean())
            res["targets"][t] = {"loss_pred": loss_pred, "loss_actual": loss_actual,
                                 "acc_pred": float(sigmoid(loss_pred, *p2)),
                                 "acc_step2": float(sigmoid(loss_actual, *p2)),
                                 "acc_actual": float(metric(rows[-5:], task, "acc").mean())}
        out["tasks"][task] = res
    json.dump(out, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
