use std::path::PathBuf;

use crate::ArtifactKind;

/// Why an artifact file could not be read or written. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("`{path}`: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` is not a cod artifact: expected the magic bytes `COD-ART`, found {found}")]
    NotAnArtifact { path: PathBuf, found: String },
    #[error("`{path}` has unknown artifact kind code {code}; it was written by a newer cod")]
    UnknownKind { path: PathBuf, code: u16 },
    #[error("`{path}` is a `{found}` artifact, expected `{expected}`")]
    WrongKind {
        path: PathBuf,
        expected: ArtifactKind,
        found: ArtifactKind,
    },
    #[error(
        "`{path}` is a `{kind}` artifact of schema version {found}, this cod reads version {expected}; \
         re-run the stage that wrote it"
    )]
    SchemaVersion {
        path: PathBuf,
        kind: ArtifactKind,
        expected: u32,
        found: u32,
    },
    #[error("`{path}` is truncated: the header announces {expected} payload bytes, found {found}")]
    Truncated {
        path: PathBuf,
        expected: u64,
        found: u64,
    },
    #[error("`{path}` is corrupt: the payload does not match its checksum")]
    Checksum { path: PathBuf },
    #[error("`{path}` could not be decoded as `{kind}`: {message}")]
    Decode {
        path: PathBuf,
        kind: ArtifactKind,
        message: String,
    },
    /// Decoded, but inconsistent: a matrix shorter than its shape, an index out of range.
    #[error("`{path}` is not a valid `{kind}` artifact: {message}")]
    Invalid {
        path: PathBuf,
        kind: ArtifactKind,
        message: String,
    },
    #[error("could not encode a `{kind}` artifact: {message}")]
    Encode { kind: ArtifactKind, message: String },
}

impl ArtifactError {
    /// True when the file exists but its bytes are damaged (as opposed to being of another kind or
    /// version, or unreadable). Caches use this to decide to recompute.
    #[must_use]
    pub fn is_corrupt(&self) -> bool {
        matches!(
            self,
            ArtifactError::NotAnArtifact { .. }
                | ArtifactError::Truncated { .. }
                | ArtifactError::Checksum { .. }
                | ArtifactError::Decode { .. }
                | ArtifactError::Invalid { .. }
                | ArtifactError::UnknownKind { .. }
        )
    }
}
