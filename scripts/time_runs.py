"""Runs a command several times and prints each wall time, the median and the range.

    python3 scripts/time_runs.py RUNS COMMAND [ARGS...]

Used by `just bench-pipeline`; the command's own output is discarded.
"""
import statistics
import subprocess
import sys
import time


def main():
    runs, command = int(sys.argv[1]), sys.argv[2:]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    shown = " ".join(f"{t:.3f}" for t in times)
    print(f"{' '.join(command)}\n  runs: {shown}\n  median {statistics.median(times):.3f} s "
          f"(min {min(times):.3f}, max {max(times):.3f}) over {runs} runs")


if __name__ == "__main__":
    main()
