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

mod clusters;
mod error;
mod eval_table;
mod features;
mod file;
mod fits;
mod ladder;
mod predictions;

pub use clusters::{BenchmarkClusters, Cluster, Clusters};
pub use error::ArtifactError;
pub use eval_table::{BenchmarkEvals, EvalTable};
pub use features::{BenchmarkFeatures, Features};
pub use file::{
    ContentHash, Header, copy_verified, decode, encode, read, read_header, verify, write,
    write_atomically,
};
pub use fits::{BaselineFit, BenchmarkFits, ClusterFit, Fits, Verdict};
pub use ladder::{Model, Role};
pub use predictions::{
    AnchorCheck, BenchmarkPredictions, Mapping, MappingPoint, MethodPrediction, PredictionRow,
    Predictions,
};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The kinds of artifact. The numeric code is part of the file format: never reuse one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArtifactKind {
    EvalTable,
    Features,
    Clusters,
    Fits,
    Predictions,
}

impl ArtifactKind {
    pub const ALL: [ArtifactKind; 5] = [
        ArtifactKind::EvalTable,
        ArtifactKind::Features,
        ArtifactKind::Clusters,
        ArtifactKind::Fits,
        ArtifactKind::Predictions,
    ];

    #[must_use]
    pub fn code(self) -> u16 {
        match self {
            ArtifactKind::EvalTable => 1,
            ArtifactKind::Features => 2,
            ArtifactKind::Clusters => 3,
            ArtifactKind::Fits => 4,
            ArtifactKind::Predictions => 5,
        }
    }

    #[must_use]
    pub fn from_code(code: u16) -> Option<ArtifactKind> {
        Self::ALL.into_iter().find(|kind| kind.code() == code)
    }

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ArtifactKind::EvalTable => "eval-table",
            ArtifactKind::Features => "features",
            ArtifactKind::Clusters => "clusters",
            ArtifactKind::Fits => "fits",
            ArtifactKind::Predictions => "predictions",
        }
    }

    /// The schema version this build writes and reads for the kind.
    #[must_use]
    pub fn schema_version(self) -> u32 {
        match self {
            ArtifactKind::EvalTable => EvalTable::SCHEMA_VERSION,
            ArtifactKind::Features => Features::SCHEMA_VERSION,
            ArtifactKind::Clusters => Clusters::SCHEMA_VERSION,
            ArtifactKind::Fits => Fits::SCHEMA_VERSION,
            ArtifactKind::Predictions => Predictions::SCHEMA_VERSION,
        }
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
}

/// Any artifact, for tools that handle files whose kind they learn from the header.
#[derive(Debug)]
pub enum AnyArtifact {
    EvalTable(EvalTable),
    Features(Features),
    Clusters(Clusters),
    Fits(Fits),
    Predictions(Predictions),
}

impl AnyArtifact {
    /// Reads a file of any kind this build knows.
    pub fn read(path: &std::path::Path) -> Result<AnyArtifact, ArtifactError> {
        let header = read_header(path)?;
        Ok(match header.kind {
            ArtifactKind::EvalTable => AnyArtifact::EvalTable(read(path)?),
            ArtifactKind::Features => AnyArtifact::Features(read(path)?),
            ArtifactKind::Clusters => AnyArtifact::Clusters(read(path)?),
            ArtifactKind::Fits => AnyArtifact::Fits(read(path)?),
            ArtifactKind::Predictions => AnyArtifact::Predictions(read(path)?),
        })
    }

    #[must_use]
    pub fn kind(&self) -> ArtifactKind {
        match self {
            AnyArtifact::EvalTable(_) => ArtifactKind::EvalTable,
            AnyArtifact::Features(_) => ArtifactKind::Features,
            AnyArtifact::Clusters(_) => ArtifactKind::Clusters,
            AnyArtifact::Fits(_) => ArtifactKind::Fits,
            AnyArtifact::Predictions(_) => ArtifactKind::Predictions,
        }
    }

    #[must_use]
    pub fn summary(&self) -> String {
        match self {
            AnyArtifact::EvalTable(a) => a.summary(),
            AnyArtifact::Features(a) => a.summary(),
            AnyArtifact::Clusters(a) => a.summary(),
            AnyArtifact::Fits(a) => a.summary(),
            AnyArtifact::Predictions(a) => a.summary(),
        }
    }

    /// The whole artifact as JSON, for jq and Python.
    pub fn to_json(&self) -> serde_json::Result<String> {
        match self {
            AnyArtifact::EvalTable(a) => serde_json::to_string_pretty(a),
            AnyArtifact::Features(a) => serde_json::to_string_pretty(a),
            AnyArtifact::Clusters(a) => serde_json::to_string_pretty(a),
            AnyArtifact::Fits(a) => serde_json::to_string_pretty(a),
            AnyArtifact::Predictions(a) => serde_json::to_string_pretty(a),
        }
    }
}
