//! Reads users' evaluation results and model manifests into cod artifacts.
//!
//! This is the only crate that knows input formats and the only one that depends on polars. Every
//! rejection names the file and, for tables, the line (CSV) or row (Parquet) at fault.

mod manifest;
mod stage;
mod tidy;

pub use manifest::{ManifestError, read_manifest, write_manifest};
pub use stage::{IngestParams, IngestStage, MissingPolicy};
pub use tidy::{TidyRows, read_tidy, write_tidy_parquet};
