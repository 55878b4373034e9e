"""Ingest throughput on lm-evaluation-harness logs, beside reference parsers of the same files.

    python3 scripts/bench_ingest.py DATA_DIR RUNS

DATA_DIR holds `models.toml` and `lm-eval/<model>/samples_*.jsonl` (from `cod-sim --format
lm-eval`). For each contender it prints the median wall time of RUNS runs, MB/s over the samples
files' bytes and peak resident memory:

- `cat`: reading the bytes (the ceiling);
- `cod`: `cod pipeline run` of an ingest-lm-eval pipeline, `--until ingest --force` (process start,
  manifest, every file parsed, the eval-table artifact written);
- `python json`: `json.loads` of every line, keeping doc_id, filter and exact_match;
- `jq`: `jq -c '[.doc_id, .filter, .exact_match]'` over every file, when jq is installed.

Used by `just bench-ingest`.
"""
import glob
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

PY_PARSE = r"""
import json, sys
n = 0
for path in sys.argv[1:]:
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            n += (r["doc_id"], r["filter"], r["exact_match"]) is not None
print(n)
"""


def measure(command, runs, shell=False):
    """Median seconds and peak RSS (MB) of `command` over `runs` runs, each in a fresh process."""
    times, peaks = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.perf_counter()
        wrapped = ["/usr/bin/time", "-f", "%M"] + (["sh", "-c", command] if shell else command)
        done = subprocess.run(wrapped, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            sys.exit(f"failed: {command}\n{done.stderr}")
        peaks.append(int(done.stderr.strip().splitlines()[-1]) / 1024)
        del before
    return statistics.median(times), max(peaks), times


def main():
    data, runs = sys.argv[1], int(sys.argv[2])
    files = sorted(glob.glob(os.path.join(data, "lm-eval", "*", "samples_*.jsonl")))
    total = sum(os.path.getsize(f) for f in files)
    mb = total / 1e6
    print(f"{len(files)} samples files, {mb:.0f} MB; medians of {runs} runs")
    pipeline = os.path.join(data, "bench.toml")
    with open(pipeline, "w") as f:
        f.write('[ingest]\nstage = "ingest-lm-eval"\nmanifest = "models.toml"\n'
                'dirs = "lm-eval/*"\nfilter = "strict-match"\ngroups = { mmlu = ["mmlu_"] }\n')
    contenders = [
        ("cat", "cat " + " ".join(files) + " > /dev/null", True),
        ("cod", ["./target/debug/cod", "pipeline", "run", pipeline, "--until", "ingest", "--force",
                 "--cache", os.path.join(data, "cache"), "--out", os.path.join(data, "out")], False),
        ("python json", [sys.executable, "-c", PY_PARSE] + files, False),
    ]
    if shutil.which("jq"):
        contenders.append(("jq", "jq -c '[.doc_id, .filter, .exact_match]' " + " ".join(files)
                           + " > /dev/null", True))
    results = {}
    for name, command, shell in contenders:
        median, peak, times = measure(command, runs, shell)
        results[name] = median
        shown = " ".join(f"{t:.2f}" for t in times)
        print(f"  {name:<12} {median:7.2f} s {mb / median:8.0f} MB/s  peak {peak:6.0f} MB  ({shown})")
    print(f"  cod reads at {results['cat'] / results['cod']:.2f}× the speed of `cat`, "
          f"{results['python json'] / results['cod']:.1f}× python json"
          + (f", {results['jq'] / results['cod']:.1f}× jq" if "jq" in results else ""))


if __name__ == "__main__":
    main()
