#!/usr/bin/env python3
"""One table of every method's absolute error on every data set, from `just evaluate`.

Usage: evaluate.py OUT [SEEDS]  (reads OUT/bigg and OUT/olmo-ladder as `just evaluate` writes them,
and SEEDS/*/ (default out/seeds) as `just evaluate-seeds` does; a data set whose folder is missing
is left out, and said)

Per data set and method: how many cells the method predicted (tasks, target × task cells, seeds),
the mean, median and max absolute error in accuracy points over them, and `no-change`'s mean on
exactly the same cells, so a method that predicts only the easy cells cannot look better than it
is. BIG-G's union of tasks (`all-tasks`) is its own data set, not a task. Rows that read the
target's observed values (`ladder-step2`) are marked as diagnostics. `recommended` is the
backtest-chosen prediction. Beside the errors: how many of the method's intervals (the calibrated
90% ones when the pipeline has a `recommend` stage) hold the actual value, and their mean width
divided by the mean error (a calibrated interval is a few times the typical error).
"""
import json
import pathlib
import statistics
import sys

NO_CHANGE = "no-change"
DIAGNOSTICS = {"ladder-step2"}
UNION = "all-tasks"


def load(path):
    return json.loads(path.read_text()) if path.exists() else None


def cells(table, keep, prefix=""):
    """method -> {cell: (error in points, held or None, width in points or None)} over the
    benchmarks `keep` accepts."""
    out = {}
    for bench, methods in table.items():
        if not keep(bench):
            continue
        for method, row in methods.items():
            if row.get("abs_error") is None:
                continue
            interval, actual = row.get("interval"), row.get("actual")
            held = width = None
            if interval is not None and actual is not None:
                held = interval[0] <= actual <= interval[1]
                width = 100 * (interval[1] - interval[0])
            out.setdefault(method, {})[prefix + bench] = (100 * row["abs_error"], held, width)
    return out


def seeds_cells(root):
    out = {}
    for seed_dir in sorted(root.glob("*"), key=lambda p: (len(p.name), p.name)):
        table = load(seed_dir / "predictions.json")
        if table is None:
            continue
        for method, by_cell in cells(table, lambda b: True, f"{seed_dir.name}/").items():
            out.setdefault(method, {}).update(by_cell)
    return out


def print_table(name, by_method):
    if not by_method:
        print(f"\n{name}: no predictions found")
        return
    baseline = by_method.get(NO_CHANGE, {})
    print(f"\n{name}")
    header = (
        f"{'method':<26} {'cells':>5} {'mean':>7} {'median':>7} {'max':>7}   "
        f"{'no-change on the same cells':>27}   {'held':>7} {'width/error':>11}"
    )
    print(header)
    print("-" * len(header))
    rows = sorted(
        by_method.items(), key=lambda kv: statistics.mean(v[0] for v in kv[1].values())
    )
    for method, cells_ in rows:
        values = [v[0] for v in cells_.values()]
        same = [baseline[c][0] for c in cells_ if c in baseline]
        banded = [(held, width) for _, held, width in cells_.values() if held is not None]
        coverage = f"{sum(h for h, _ in banded)}/{len(banded)}" if banded else "-"
        mean_error = statistics.mean(values)
        ratio = (
            f"{statistics.mean(w for _, w in banded) / mean_error:11.1f}"
            if banded and mean_error > 0
            else f"{'-':>11}"
        )
        versus = (
            f"{statistics.mean(same):7.2f} over {len(same)}"
            if same and method != NO_CHANGE
            else ("" if method == NO_CHANGE else "n/a")
        )
        label = method + (" (diagnostic)" if method in DIAGNOSTICS else "")
        print(
            f"{label:<26} {len(values):>5} {mean_error:7.2f} "
            f"{statistics.median(values):7.2f} {max(values):7.2f}   {versus:>27}   "
            f"{coverage:>7} {ratio}"
        )


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "out/evaluate")
    bigg = load(out / "bigg" / "predictions.json")
    if bigg is not None:
        print_table("bigg: per task (8b from 2m..4b)", cells(bigg, lambda b: b != UNION))
        print_table("bigg: union of the tasks", cells(bigg, lambda b: b == UNION))
    else:
        print(f"\nbigg: {out / 'bigg' / 'predictions.json'} not found")
    olmo = load(out / "olmo-ladder" / "predictions.json")
    if olmo is not None:
        print_table("olmo-ladder: 7B and 13B × 8 tasks", cells(olmo, lambda b: True))
    else:
        print(f"\nolmo-ladder: {out / 'olmo-ladder' / 'predictions.json'} not found")
    seeds = pathlib.Path(sys.argv[2] if len(sys.argv) > 2 else "out/seeds")
    if seeds.exists():
        print_table(f"simulator seeds ({seeds})", seeds_cells(seeds))
    else:
        print(f"\nsimulator seeds: {seeds} not found (run `just evaluate-seeds`)")


if __name__ == "__main__":
    main()
