//! Pipeline files, the stage DAG, the content-addressed stage cache and the runner.
//!
//! A pipeline file is TOML. Its `[pipeline]` table holds metadata; every other top-level table is a
//! stage, named by its table, with `stage` (the stage kind, defaulting to the table's name), `inputs`
//! (the names of upstream stages) and the stage's own parameters:
//!
//! ```toml
//! [pipeline]
//! description = "Simulated MMLU"
//!
//! [ingest]
//! path = "../fixtures/mmlu/items.parquet"
//! manifest = "../fixtures/mmlu/models.toml"
//!
//! [features]
//! inputs = ["ingest"]
//! ```
//!
//! This crate knows nothing of what stages do: they implement [`Stage`] and are handed to the
//! [`Runner`] in a [`Registry`].

mod binary;
mod cache;
mod pipeline;
mod progress;
mod runner;
mod stage;

pub use binary::{
    StageBinary, params_file_arg, params_from_file, stage_command, stage_main, write_artifact_files,
};
pub use cache::{Cache, KeyLock, StageKey};
pub use pipeline::{
    MonitorSettings, Override, Pipeline, PipelineError, StageSpec, check_name, clip, shorten,
};
pub use progress::Progress;
pub use runner::{Event, Outcome, RunOptions, RunReason, Runner};
pub use stage::{
    Code, ConfiguredStageHandle, Inputs, PathResolver, Registry, Stage, StageEntry, run_stage,
};
