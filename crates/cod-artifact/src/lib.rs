//! Typed artifacts exchanged by `cod`'s stages, and their on-disk form.
//!
//! Every artifact file is a fixed header followed by a bincode payload:
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic, `b"COD-ART\n"` |
//! | 2 | artifact kind code (little endian) |
//! | 4 | schema version of that kind (little endian) |
//! | 8 | payload length in bytes (little endian) |
//! | 32 | blake3 hash of the payload |
//!
//! Readers check all five before decoding, so a file of the wrong kind, an older schema, a truncated
//! file or flipped bits give an [`ArtifactError`] naming the file, never garbage. Writers go through a
//! temporary file in the destination directory and rename it into place, so a reader never sees half
//! a file.
//!
//! Artifact types live only here; stage crates work on these plain types and never on bytes.

mod backtest;
mod calibration;
mod clusters;
mod error;
mod eval_table;
mod features;
mod file;
mod fits;
mod ladder;
mod ladder_fits;
mod methods;
mod predictions;
mod report;
mod runs;
mod validate;

pub use backtest::{
    BACKTEST_CSV, BACKTEST_MD, Backtest, BacktestRow, Coverage, ErrorStats, Holdout, VARIANT_TIE,
    Winner,
};
pub use calibration::{
    CalibratedInterval, Calibration, EntryCalibration, MethodCalibration, RECOMMENDED,
    Recommendation,
};
pub use clusters::{BenchmarkClusters, Cluster, Clusters};
pub use error::ArtifactError;
pub use eval_table::{BenchmarkEvals, EvalTable};
pub use features::{BenchmarkFeatures, Features};
pub use file::{
    ContentHash, Header, copy_verified, decode, encode, frame, read, read_header,
    remove_stale_temp_files, verify, write, write_atomically,
};
pub use fits::{BaselineFit, BenchmarkFits, ClusterFit, Fits, Verdict, entry_name};
pub use ladder::{Model, Role};
pub use ladder_fits::{
    LadderFits, LadderTarget, LadderTask, LadderVariant, LawFit, Monitor, VariantPrediction,
    intermediate,
};
pub use methods::{LadderMethod, PerItemMethod};
pub use predictions::{
    AnchorCheck, BenchmarkPredictions, BootstrapInfo, Mapping, MappingPoint, MethodPrediction,
    PredictionRow, Predictions,
};
pub use report::{REPORT_FILES_DIR, REPORT_HTML, REPORT_MD, Report, write_output_files};
pub use runs::{RUN_WIDE, Series, TaskSource, TrainingRun, TrainingRuns};

use std::fmt::Write;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Declares every artifact kind once: its type, its numeric code in the file format (never reuse
/// one) and its name. Generates [`ArtifactKind`] and [`AnyArtifact`].
macro_rules! artifact_kinds {
    ($($kind:ident = $code:literal, $name:literal;)*) => {
        /// The kinds of artifact.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ArtifactKind {
            $($kind,)*
        }

        impl ArtifactKind {
            pub const ALL: &[ArtifactKind] = &[$(ArtifactKind::$kind,)*];

            #[must_use]
            pub fn code(self) -> u16 {
                match self {
                    $(ArtifactKind::$kind => $code,)*
                }
            }

            #[must_use]
            pub fn from_code(code: u16) -> Option<ArtifactKind> {
                Self::ALL.iter().copied().find(|kind| kind.code() == code)
            }

            #[must_use]
            pub fn name(self) -> &'static str {
                match self {
                    $(ArtifactKind::$kind => $name,)*
                }
            }

            /// The schema version this build writes and reads for the kind.
            #[must_use]
            pub fn schema_version(self) -> u32 {
                match self {
                    $(ArtifactKind::$kind => $kind::SCHEMA_VERSION,)*
                }
            }
        }

        /// Any artifact, for tools that handle files whose kind they learn from the header.
        #[derive(Debug)]
        pub enum AnyArtifact {
            $($kind($kind),)*
        }

        impl AnyArtifact {
            /// Reads a file of any kind this build knows.
            pub fn read(path: &std::path::Path) -> Result<AnyArtifact, ArtifactError> {
                Ok(match read_header(path)?.kind {
                    $(ArtifactKind::$kind => AnyArtifact::$kind(read(path)?),)*
                })
            }

            #[must_use]
            pub fn kind(&self) -> ArtifactKind {
                match self {
                    $(AnyArtifact::$kind(_) => ArtifactKind::$kind,)*
                }
            }

            #[must_use]
            pub fn summary(&self) -> String {
                match self {
                    $(AnyArtifact::$kind(a) => a.summary(),)*
                }
            }

            /// The whole artifact as JSON, for jq and Python.
            pub fn to_json(&self) -> serde_json::Result<String> {
                match self {
                    $(AnyArtifact::$kind(a) => serde_json::to_string_pretty(a),)*
                }
            }
        }
    };
}

artifact_kinds! {
    EvalTable = 1, "eval-table";
    Features = 2, "features";
    Clusters = 3, "clusters";
    Fits = 4, "fits";
    Predictions = 5, "predictions";
    TrainingRuns = 6, "training-runs";
    LadderFits = 7, "ladder-fits";
    Report = 8, "report";
    Backtest = 9, "backtest";
}

/// benchmark → method → prediction, actual, absolute error: the shape of `predictions.json`.
/// The `recommended` row, when there is one, comes first.
pub type PredictionTable =
    std::collections::BTreeMap<String, std::collections::BTreeMap<MethodKey, PredictionRow>>;

/// A method's name as a key of [`PredictionTable`]: ordered by name, except that
/// [`RECOMMENDED`] comes first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct MethodKey(pub String);

impl MethodKey {
    fn rank(&self) -> (bool, &str) {
        (self.0 != RECOMMENDED, &self.0)
    }
}

impl Ord for MethodKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank().cmp(&other.rank())
    }
}

impl PartialOrd for MethodKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for MethodKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl AnyArtifact {
    /// The predictions an artifact holds, for the kinds that hold any.
    #[must_use]
    pub fn prediction_table(&self) -> Option<PredictionTable> {
        match self {
            AnyArtifact::Predictions(p) => Some(p.table()),
            AnyArtifact::LadderFits(l) => Some(l.table()),
            _ => None,
        }
    }

    /// Files the artifact's kind writes beside it in a pipeline's output directory, as (path
    /// relative to that directory, bytes): `predictions.json` and `predictions.csv` for the kinds
    /// that hold predictions, `ladder.csv` for the ladder's whole table, a report's files, and a
    /// backtest's `backtest.csv` and `backtest.md`.
    pub fn output_files(&self) -> serde_json::Result<Vec<(String, Vec<u8>)>> {
        let mut files = Vec::new();
        if let AnyArtifact::LadderFits(l) = self {
            files.push(("ladder.csv".to_owned(), l.csv().into_bytes()));
            if l.tasks.iter().any(|t| !t.monitors.is_empty()) {
                files.push(("monitor.csv".to_owned(), l.monitor_csv().into_bytes()));
            }
        }
        if let Some(table) = self.prediction_table() {
            files.push((
                "predictions.json".to_owned(),
                (serde_json::to_string_pretty(&table)? + "\n").into_bytes(),
            ));
            files.push((
                "predictions.csv".to_owned(),
                prediction_csv(&table).into_bytes(),
            ));
        }
        if let AnyArtifact::Report(r) = self {
            files.extend(r.output_files());
        }
        if let AnyArtifact::Backtest(b) = self {
            files.extend(b.output_files());
        }
        Ok(files)
    }
}

impl AnyArtifact {
    /// The summary of the artifact stored as `file`, whose output files were written beside it: a
    /// report and a backtest say where their files are.
    #[must_use]
    pub fn summary_at(&self, file: &std::path::Path) -> String {
        match (self, file.parent()) {
            (AnyArtifact::Report(r), Some(dir)) => r.summary_in(dir),
            (AnyArtifact::Backtest(b), Some(dir)) => b.summary_in(dir),
            _ => self.summary(),
        }
    }
}

impl ArtifactKind {
    /// Whether artifacts of this kind have [`AnyArtifact::output_files`], so a runner can skip
    /// reading the others after looking at their header.
    #[must_use]
    pub fn has_output_files(self) -> bool {
        matches!(
            self,
            ArtifactKind::Predictions
                | ArtifactKind::LadderFits
                | ArtifactKind::Report
                | ArtifactKind::Backtest
        )
    }
}

/// `predictions.csv`: one row per (benchmark, method) of a prediction table.
#[must_use]
pub fn prediction_csv(table: &PredictionTable) -> String {
    let cell = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v}"));
    let mut out = String::from(
        "benchmark,method,prediction,actual,abs_error,lower,upper,chosen,backtest_error\n",
    );
    for (benchmark, methods) in table {
        for (method, row) in methods {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{}",
                csv_field(benchmark),
                csv_field(&method.0),
                cell(row.prediction),
                cell(row.actual),
                cell(row.abs_error),
                cell(row.interval.map(|i| i.0)),
                cell(row.interval.map(|i| i.1)),
                csv_field(row.chosen.as_deref().unwrap_or("")),
                cell(row.backtest_error),
            );
        }
    }
    out
}

/// A CSV field, quoted when it holds a comma, quote or newline.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

impl std::fmt::Display for ArtifactKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A type that can be stored as an artifact file.
pub trait Artifact: Serialize + DeserializeOwned {
    const KIND: ArtifactKind;
    /// Bump on any change to the type's serialized shape or meaning.
    const SCHEMA_VERSION: u32;

    /// A short human-readable description, several lines, for `cod artifact show`.
    fn summary(&self) -> String;

    /// Checks what the type cannot say by itself (lengths that must agree, indices in range,
    /// names that become paths), so that no reader indexes past an end. Every decode calls it.
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }
}
