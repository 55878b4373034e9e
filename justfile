# Tasks for cod. `just --list` shows them.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Run a pipeline by name or path, e.g. `just pipeline mmlu --dry-run`.
pipeline name *args:
    cargo run --quiet --bin cod -- pipeline run {{name}} {{args}}

# Build every binary (the tests drive the stage binaries too), then run all tests.
test:
    cargo build --workspace --bins --quiet
    cargo test --workspace

# Formatting and clippy, as CI checks them.
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets --quiet -- -D warnings

# Clustering benchmarks (release build): the mmlu fixture, 140k × 8 and 1M × 10 simulated items.
# Each scenario runs in its own process; medians of RUNS runs and peak memory are printed.
bench runs="5":
    cargo run --quiet --bin cod -- pipeline run mmlu --until features > /dev/null
    cargo bench --quiet -p cod-cluster --bench cluster -- mmlu {{runs}}
    cargo bench --quiet -p cod-cluster --bench cluster -- sim 40000 8 both 3

# Regenerate the simulated fixtures from their scenario files (bit for bit).
fixtures:
    cargo run --quiet --bin cod-sim -- --scenario fixtures/mmlu/scenario.toml --out fixtures/mmlu

# Review changed insta snapshots (needs `cargo install cargo-insta`).
snapshots:
    cargo insta review
