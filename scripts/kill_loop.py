#!/usr/bin/env python3
"""Crash safety: kill -9 a pipeline run at random moments, then check what is left.

Usage: scripts/kill_loop.py [TRIALS] [PIPELINE] [COD]

Each trial starts `COD pipeline run PIPELINE --force` on one shared cache and output folder
(under target/kill-loop/) and sends SIGKILL after a random delay between 0 and 1.2 times a
clean run's wall time. Afterwards one uninterrupted run must succeed, and then:

- no `.cod-tmp-*` file is left anywhere under the cache or the output folder;
- every cached object passes `cod artifact show` (header, checksum, decoding, validation);
- the outputs are byte-identical to a clean run's in a fresh cache and folder.

Prints the counts and exits non-zero on any failure. Defaults: 100 trials of `mmlu` with
./target/debug/cod.
"""

import filecmp
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

TRIALS = int(sys.argv[1]) if len(sys.argv) > 1 else 100
PIPELINE = sys.argv[2] if len(sys.argv) > 2 else "mmlu"
COD = str(Path(sys.argv[3] if len(sys.argv) > 3 else "target/debug/cod").resolve())
WORK = Path("target/kill-loop")


def run(cache, out, *extra, check=True):
    env = dict(os.environ, COD_CACHE=str(cache))
    args = [COD, "pipeline", "run", PIPELINE, "--out", str(out), *extra]
    result = subprocess.run(args, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        sys.exit(f"`{' '.join(args)}` failed:\n{result.stderr}")
    return result


def temp_files(*roots):
    return [p for root in roots for p in root.rglob(".cod-tmp-*")]


def compare(a, b):
    """Files that differ between two output folders (summary.txt names its folder, so skipped)."""
    diffs = []
    for path in sorted(a.rglob("*")):
        rel = path.relative_to(a)
        if path.is_dir() or rel.name == "summary.txt":
            continue
        other = b / rel
        if not other.exists() or not filecmp.cmp(path, other, shallow=False):
            diffs.append(str(rel))
    return diffs


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    clean_cache, clean_out = WORK / "clean-cache", WORK / "clean-out"
    start = time.monotonic()
    run(clean_cache, clean_out)
    clean_time = time.monotonic() - start

    cache, out = WORK / "cache", WORK / "out"
    rng = random.Random(20261202)
    killed = finished = 0
    for _ in range(TRIALS):
        env = dict(os.environ, COD_CACHE=str(cache))
        proc = subprocess.Popen(
            [COD, "pipeline", "run", PIPELINE, "--out", str(out), "--force"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0, 1.2 * clean_time))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        else:
            finished += 1
        proc.wait()
    left_by_kills = len(temp_files(cache, out))

    run(cache, out)
    leftovers = temp_files(cache, out)
    objects = sorted((cache / "objects").glob("*.bin"))
    corrupt = []
    for obj in objects:
        shown = subprocess.run([COD, "artifact", "show", str(obj)], capture_output=True)
        if shown.returncode != 0:
            corrupt.append(obj.name)
    diffs = compare(clean_out, out)

    print(f"pipeline `{PIPELINE}`: {TRIALS} trials, clean run {clean_time:.2f} s")
    print(f"killed mid-run: {killed}; finished before the kill: {finished}")
    print(f"temp files after the kills: {left_by_kills}; after one more run: {len(leftovers)}")
    print(f"cached objects: {len(objects)}; failing `cod artifact show`: {len(corrupt)}")
    print(f"output files differing from a clean run: {len(diffs)}")
    failed = leftovers or corrupt or diffs
    for what in leftovers + corrupt + diffs:
        print(f"  {what}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
