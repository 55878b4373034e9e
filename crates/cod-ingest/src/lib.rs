//! Reads users' evaluation results and model manifests into cod artifacts: per-item tidy tables
//! (`ingest`), lm-evaluation-harness sample logs (`ingest-lm-eval`), per-checkpoint training-run
//! exports (`ingest-runs`) and aggregate score tables (`ingest-scores`).
//!
//! This is the only crate that knows input formats and the only one that depends on polars. Every
//! rejection names the file and, for tables, the line (CSV) or row (Parquet) at fault.

mod csv_scan;
mod inspect;
mod lm_eval;
mod manifest;
mod results;
mod runs;
mod scores;
mod stage;
mod tidy;

#[cfg(test)]
mod fuzz;

pub use inspect::{Inspection, inspect};
pub use lm_eval::{
    GoldLoss, LmEvalOptions, SamplesFile, parse_samples_name, read_lm_eval, samples_files,
};
pub use manifest::{ManifestError, read_manifest, write_manifest};
pub use results::{ResultsCheckpoint, ResultsOptions, read_lm_eval_results};
pub use runs::{
    ColumnNames, MetricColumn, Preset, RunEntry, TaskSpec, read_runs, read_runs_manifest,
};
pub use scores::read_scores;
pub use stage::{
    BINARY, IngestLmEvalParams, IngestLmEvalResultsParams, IngestLmEvalResultsStage,
    IngestLmEvalStage, IngestParams, IngestRunsParams, IngestRunsStage, IngestScoresParams,
    IngestScoresStage, IngestStage, LM_EVAL_BINARY, MissingPolicy, RESULTS_BINARY, RUNS_BINARY,
    SCORES_BINARY,
};
pub use tidy::{TidyRows, read_tidy, write_tidy_parquet};
