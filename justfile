# Tasks for cod. `just --list` shows them.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Run a pipeline by name or path, e.g. `just pipeline mmlu --dry-run`.
pipeline name *args:
    cargo run --quiet --bin cod -- pipeline run {{name}} {{args}}

# Every test. The integration tests build the stage binaries they drive themselves.
test:
    cargo test --workspace

# Formatting and clippy, as CI checks them.
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets --quiet -- -D warnings

# Clustering benchmarks (release build): the mmlu fixture and 40k × 8 simulated items. Each
# scenario runs in its own process; medians of RUNS runs and peak memory are printed. Larger runs
# by hand, e.g. `cargo bench -p cod-cluster --bench cluster -- sim 1000000 10 bins 1`.
bench runs="5":
    cargo run --quiet --bin cod -- pipeline run mmlu --until features > /dev/null
    cargo bench --quiet -p cod-cluster --bench cluster -- mmlu {{runs}}
    cargo bench --quiet -p cod-cluster --bench cluster -- sim 40000 8 both 3

# Wall time of a whole pipeline run with every stage forced (no cache), as `just pipeline` builds
# it: medians of RUNS runs, including process start.
bench-pipeline name="olmo-ladder" runs="7":
    cargo build --quiet --bin cod
    python3 scripts/time_runs.py {{runs}} ./target/debug/cod pipeline run {{name}} --force

# Ingest throughput on lm-eval logs (20 models × 14,042 items × 10 responses, generated under
# target/bench-ingest): cod beside `cat`, python json and jq; medians of RUNS runs, peak memory.
bench-ingest runs="3":
    cargo build --quiet --workspace --bins
    test -d target/bench-ingest/lm-eval || ./target/debug/cod-sim --scenario crates/cod-ingest/benches/lm_eval_20_models.toml --out target/bench-ingest --format lm-eval
    python3 scripts/bench_ingest.py target/bench-ingest {{runs}}

# Every method on the real data sets, beside `no-change` (a benchmark, not a test): BIG-G (8b from
# 2m..4b; per task and the union of tasks), the OLMo ladder (7B and 13B × 8 tasks), and the
# simulator seeds that `just evaluate-seeds` left in out/seeds. Outputs under out/evaluate/.
evaluate:
    cargo build --quiet --bins
    mkdir -p out/evaluate
    ./target/debug/cod pipeline run bigg --out out/evaluate/bigg > out/evaluate/bigg.log
    ./target/debug/cod pipeline run olmo-ladder --out out/evaluate/olmo-ladder > out/evaluate/olmo-ladder.log
    python3 scripts/evaluate.py out/evaluate out/seeds

# COD and the baselines on the mmlu scenario simulated with seeds 1..N (the whole mmlu pipeline;
# ARGS go to `cod pipeline run`): one predictions.json and backtest.csv each under out/seeds/, a
# table of absolute errors (accuracy points) per seed with mean and max, and the intervals'
# coverage of the actual values, for the target and over the backtests' held-out models.
evaluate-seeds n="10" *args:
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --quiet --bins
    for seed in $(seq 1 {{n}}); do
      dir=out/seeds/$seed
      ./target/debug/cod-sim --scenario fixtures/mmlu/scenario.toml --out $dir/data --seed $seed
      ./target/debug/cod pipeline run mmlu --out $dir --set ingest.path=$dir/data/items.parquet \
        --set ingest.manifest=$dir/data/models.toml {{args}} > $dir/run.log
    done
    python3 scripts/seed_errors.py out/seeds {{n}}

# Regenerate the simulated fixtures from their scenario files (bit for bit).
fixtures:
    cargo run --quiet --bin cod-sim -- --scenario fixtures/mmlu/scenario.toml --out fixtures/mmlu
    cargo run --quiet --bin cod-sim -- --scenario fixtures/lm-eval-mini/scenario.toml --out fixtures/lm-eval-mini --format lm-eval

# Review changed insta snapshots (needs `cargo install cargo-insta`).
snapshots:
    cargo insta review

# Fuzz every reader and the artifact decoder with CASES inputs per target (release build); each
# target prints how many inputs it ran. CI runs the short default of `cargo test`.
fuzz cases="1000000":
    COD_FUZZ_CASES={{cases}} cargo test --release -p cod-ingest --lib fuzz -- --nocapture --test-threads 1

# kill -9 a pipeline run TRIALS times at random moments, then check that no temporary file or
# corrupt cache entry is left and that the outputs match a clean run's.
kill-loop trials="100" name="mmlu":
    cargo build --quiet --bin cod
    python3 scripts/kill_loop.py {{trials}} {{name}} target/debug/cod
