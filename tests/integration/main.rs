//! End-to-end tests: the `cod` binary, the stage binaries and the fixtures, in one test binary.

#[macro_use]
mod support;

mod artifacts;
mod backtest;
mod bad_input;
mod bigg;
mod cluster;
mod fixture;
mod ladder;
mod lm_eval;
mod monitor;
mod pipeline_runs;
mod readme;
mod report;
mod results;
mod snapshots;
mod stage_binaries;
