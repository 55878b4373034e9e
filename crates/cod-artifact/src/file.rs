use std::io::Write;
use std::path::Path;

use crate::{Artifact, ArtifactError, ArtifactKind};

const MAGIC: &[u8; 8] = b"COD-ART\n";
const HEADER_LEN: usize = 8 + 2 + 4 + 8 + 32;

/// The blake3 hash of an artifact's payload: identifies its content independently of the path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ContentHash(pub [u8; 32]);

impl ContentHash {
    #[must_use]
    pub fn to_hex(&self) -> String {
        blake3::Hash::from_bytes(self.0).to_hex().to_string()
    }
}

/// The fixed-size header at the start of every artifact file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub kind: ArtifactKind,
    pub schema_version: u32,
    pub payload_len: u64,
    pub checksum: ContentHash,
}

fn bincode_config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Serializes an artifact to the bytes of a complete file, header included.
pub fn encode<A: Artifact>(artifact: &A) -> Result<Vec<u8>, ArtifactError> {
    let payload = bincode::serde::encode_to_vec(artifact, bincode_config()).map_err(|err| {
        ArtifactError::Encode {
            kind: A::KIND,
            message: err.to_string(),
        }
    })?;
    Ok(frame::<A>(&payload))
}

/// A complete file's bytes: the header for `payload` (kind, schema version, length, checksum), then
/// the payload. Public so that fuzzing reaches the payload decoder with bytes that pass the
/// checksum.
#[must_use]
pub fn frame<A: Artifact>(payload: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER_LEN + payload.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&A::KIND.code().to_le_bytes());
    bytes.extend_from_slice(&A::SCHEMA_VERSION.to_le_bytes());
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(blake3::hash(payload).as_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

/// Parses and checks the header; `path` only names the source in errors.
fn parse_header(bytes: &[u8], path: &Path) -> Result<Header, ArtifactError> {
    if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
        let shown = &bytes[..bytes.len().min(8)];
        return Err(ArtifactError::NotAnArtifact {
            path: path.to_owned(),
            found: if shown.is_empty() {
                "an empty file".to_owned()
            } else if bytes.len() < HEADER_LEN && shown == &MAGIC[..shown.len()] {
                format!("a file of {} bytes, shorter than the header", bytes.len())
            } else {
                format!("`{}`", shown.escape_ascii())
            },
        });
    }
    let code = u16::from_le_bytes([bytes[8], bytes[9]]);
    let kind = ArtifactKind::from_code(code).ok_or_else(|| ArtifactError::UnknownKind {
        path: path.to_owned(),
        code,
    })?;
    let schema_version = u32::from_le_bytes(bytes[10..14].try_into().expect("4 bytes"));
    let payload_len = u64::from_le_bytes(bytes[14..22].try_into().expect("8 bytes"));
    let checksum = ContentHash(bytes[22..54].try_into().expect("32 bytes"));
    Ok(Header {
        kind,
        schema_version,
        payload_len,
        checksum,
    })
}

/// Decodes a payload with a limit on what it may claim: a length read from the payload (a
/// string's, a vector's) is refused once the decoded data would need more than
/// `DECODED_PER_PAYLOAD_BYTE` times the payload's own size (rounded up to 2^16, 2^24, …). So a
/// crafted length is an error, not an allocation that aborts the process; and memory stays within
/// a fixed multiple of the file. (In memory a value takes at most about 24 times its encoding: an
/// empty `Vec` is 24 bytes and encodes as one.)
fn decode_limited<A: Artifact>(payload: &[u8]) -> Result<(A, usize), bincode::error::DecodeError> {
    const DECODED_PER_PAYLOAD_BYTE: usize = 64;
    let config = bincode_config();
    let need = payload
        .len()
        .max(1)
        .saturating_mul(DECODED_PER_PAYLOAD_BYTE);
    // The limit is a const parameter of bincode's configuration: one decoder per tier.
    macro_rules! tiers {
        ($($bits:literal)*) => {
            $(
                if need <= 1usize << $bits {
                    return bincode::serde::decode_from_slice(
                        payload,
                        config.with_limit::<{ 1usize << $bits }>(),
                    );
                }
            )*
        };
    }
    tiers!(16 24 32 40);
    bincode::serde::decode_from_slice(payload, config.with_limit::<{ 1usize << 48 }>())
}

/// Decodes a complete artifact file's bytes, checking kind, version, length and checksum.
pub fn decode<A: Artifact>(bytes: &[u8], path: &Path) -> Result<A, ArtifactError> {
    check_bytes(bytes, A::KIND, path)?;
    let payload = &bytes[HEADER_LEN..];
    let (artifact, used) = decode_limited::<A>(payload).map_err(|err| ArtifactError::Decode {
        path: path.to_owned(),
        kind: A::KIND,
        message: match err {
            bincode::error::DecodeError::LimitExceeded => format!(
                "a length in the payload claims more than its {} bytes can hold",
                payload.len()
            ),
            err => err.to_string(),
        },
    })?;
    if used != payload.len() {
        return Err(ArtifactError::Decode {
            path: path.to_owned(),
            kind: A::KIND,
            message: format!("{} trailing bytes after the payload", payload.len() - used),
        });
    }
    artifact
        .validate()
        .map_err(|message| ArtifactError::Invalid {
            path: path.to_owned(),
            kind: A::KIND,
            message,
        })?;
    Ok(artifact)
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> ArtifactError + '_ {
    move |source| ArtifactError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Checks a file's header against `kind` and this build's schema version, and its payload against the
/// checksum, without decoding it. Returns the header.
pub fn verify(path: &Path, kind: ArtifactKind) -> Result<Header, ArtifactError> {
    let bytes = std::fs::read(path).map_err(io_error(path))?;
    check_bytes(&bytes, kind, path)
}

fn check_bytes(bytes: &[u8], kind: ArtifactKind, path: &Path) -> Result<Header, ArtifactError> {
    let header = parse_header(bytes, path)?;
    check_kind(&header, kind, path)?;
    check_payload(&bytes[HEADER_LEN..], &header, path)?;
    Ok(header)
}

fn check_kind(header: &Header, kind: ArtifactKind, path: &Path) -> Result<(), ArtifactError> {
    if header.kind != kind {
        return Err(ArtifactError::WrongKind {
            path: path.to_owned(),
            expected: kind,
            found: header.kind,
        });
    }
    if header.schema_version != kind.schema_version() {
        return Err(ArtifactError::SchemaVersion {
            path: path.to_owned(),
            kind,
            expected: kind.schema_version(),
            found: header.schema_version,
        });
    }
    Ok(())
}

fn check_payload(payload: &[u8], header: &Header, path: &Path) -> Result<(), ArtifactError> {
    if payload.len() as u64 != header.payload_len {
        return Err(ArtifactError::Truncated {
            path: path.to_owned(),
            expected: header.payload_len,
            found: payload.len() as u64,
        });
    }
    if blake3::hash(payload).as_bytes() != &header.checksum.0 {
        return Err(ArtifactError::Checksum {
            path: path.to_owned(),
        });
    }
    Ok(())
}

/// Reads only the header of an artifact file.
pub fn read_header(path: &Path) -> Result<Header, ArtifactError> {
    use std::io::Read;
    let mut buf = Vec::with_capacity(HEADER_LEN);
    std::fs::File::open(path)
        .map_err(io_error(path))?
        .take(HEADER_LEN as u64)
        .read_to_end(&mut buf)
        .map_err(io_error(path))?;
    parse_header(&buf, path)
}

/// Reads and fully checks an artifact file.
pub fn read<A: Artifact>(path: &Path) -> Result<A, ArtifactError> {
    let bytes = std::fs::read(path).map_err(io_error(path))?;
    decode(&bytes, path)
}

/// Writes an artifact atomically: to a temporary file beside `path`, synced, then renamed over it.
/// On error nothing is left at `path` (an earlier file there stays as it was).
pub fn write<A: Artifact>(path: &Path, artifact: &A) -> Result<(), ArtifactError> {
    let bytes = encode(artifact)?;
    write_bytes_atomically(path, &bytes)
}

fn write_bytes_atomically(path: &Path, bytes: &[u8]) -> Result<(), ArtifactError> {
    write_atomically(path, |file| file.write_all(bytes)).map_err(io_error(path))
}

/// Writes a file atomically: `fill` writes a temporary file in the destination's directory, which
/// is synced and renamed over `path` only if `fill` succeeds. The file is readable by all (0644 on
/// Unix), like a file from `std::fs::write`.
pub fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let prefix = temp_prefix(std::process::id());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let mut tmp = builder.tempfile_in(dir)?;
    fill(tmp.as_file_mut())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|err| err.error)?;
    Ok(())
}

/// Temporary files are named `.cod-tmp-<pid>-<random>`: the pid tells a later run whether the
/// writer is still alive.
const TEMP_PREFIX: &str = ".cod-tmp-";

fn temp_prefix(pid: u32) -> String {
    format!("{TEMP_PREFIX}{pid}-")
}

/// Removes the temporary files in `dir` (not below it) whose writing process has died, e.g. by
/// `kill -9` between creating and renaming them. Returns how many it removed.
///
/// A process is taken as alive when `/proc/<pid>` exists, so a file is never removed while its
/// writer may still rename it. Without `/proc` (not Linux), nothing is removed. A missing `dir` is
/// not an error.
pub fn remove_stale_temp_files(dir: &Path) -> std::io::Result<usize> {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return Ok(0);
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(err) => return Err(err),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|name| name.strip_prefix(TEMP_PREFIX))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if proc.join(pid.to_string()).exists() || !entry.file_type()?.is_file() {
            continue;
        }
        match std::fs::remove_file(entry.path()) {
            Ok(()) => removed += 1,
            // Another run removed it first.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
    }
    Ok(removed)
}

/// Copies an artifact file atomically after checking it against `kind`, so a copy is never a damaged
/// file. Returns the header.
pub fn copy_verified(from: &Path, to: &Path, kind: ArtifactKind) -> Result<Header, ArtifactError> {
    let bytes = std::fs::read(from).map_err(io_error(from))?;
    let header = check_bytes(&bytes, kind, from)?;
    write_bytes_atomically(to, &bytes)?;
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A temporary file whose writer died is removed; one whose writer lives, and any other file,
    /// stay.
    #[test]
    fn stale_temp_files_of_dead_writers_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        // Pids are below 2^22 on Linux, so this one is not running.
        let dead = dir
            .path()
            .join(format!("{}abc123", temp_prefix(4_294_967_000)));
        let live = dir
            .path()
            .join(format!("{}abc123", temp_prefix(std::process::id())));
        let other = dir.path().join(".cod-tmp-unnamed");
        for path in [&dead, &live, &other] {
            std::fs::write(path, b"partial").unwrap();
        }
        if Path::new("/proc/self").exists() {
            assert_eq!(remove_stale_temp_files(dir.path()).unwrap(), 1);
            assert!(!dead.exists());
        }
        assert!(live.exists() && other.exists());
        assert_eq!(
            remove_stale_temp_files(&dir.path().join("absent")).unwrap(),
            0
        );
    }
    use crate::{EvalTable, Features, Model, Role};

    /// A checksum-valid eval table whose matrix is shorter than its shape is refused when decoded,
    /// before any reader indexes it.
    #[test]
    fn an_inconsistent_artifact_is_invalid_not_a_panic() {
        let mut table = sample();
        table.benchmarks.push(crate::BenchmarkEvals {
            name: "b".to_owned(),
            items: vec!["i1".to_owned(), "i2".to_owned()],
            n_samples: vec![1],
            n_correct: vec![0],
            loss: None,
            dropped_items: vec![],
        });
        let bytes = encode(&table).unwrap();
        let err = decode::<EvalTable>(&bytes, Path::new("t.bin")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`t.bin` is not a valid `eval-table` artifact: benchmark `b`: `n_samples` has 1 cells, \
             expected 2 items × 1 models = 2"
        );
        table.benchmarks[0].n_samples = vec![1, 1];
        table.benchmarks[0].n_correct = vec![0, 2];
        let err = decode::<EvalTable>(&encode(&table).unwrap(), Path::new("t.bin")).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("item `i2`, model `m1`: 2 correct of 1 samples"),
            "{err}"
        );
    }

    /// A string that claims 2^36 bytes in a 9-byte payload is a clean error, not an allocation
    /// that aborts the process.
    #[test]
    fn a_lying_string_length_is_a_decode_error() {
        let mut payload = vec![253u8];
        payload.extend_from_slice(&(1u64 << 36).to_le_bytes());
        let bytes = frame::<crate::Report>(&payload);
        let err = decode::<crate::Report>(&bytes, Path::new("x.bin")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`x.bin` could not be decoded as `report`: a length in the payload claims more than \
             its 9 bytes can hold"
        );
    }

    fn sample() -> EvalTable {
        EvalTable {
            models: vec![Model::new("m1", 1e6, 2e7, None, Role::Ladder)],
            benchmarks: vec![],
            warnings: vec![],
        }
    }

    fn check_err(bytes: &[u8], expected: &str) {
        let err = decode::<EvalTable>(bytes, Path::new("x.art")).unwrap_err();
        assert_eq!(err.to_string(), expected);
    }

    #[test]
    fn round_trip() {
        let bytes = encode(&sample()).unwrap();
        let back: EvalTable = decode(&bytes, Path::new("x.art")).unwrap();
        assert_eq!(back, sample());
    }

    #[test]
    fn rejects_empty_and_foreign_files() {
        check_err(
            b"",
            "`x.art` is not a cod artifact: expected the magic bytes `COD-ART`, found an empty file",
        );
        check_err(
            b"benchmark,item,model\nmmlu,1,m\n................................................",
            "`x.art` is not a cod artifact: expected the magic bytes `COD-ART`, found `benchmar`",
        );
        check_err(
            b"COD-ART\n\x01",
            "`x.art` is not a cod artifact: expected the magic bytes `COD-ART`, found a file of 9 bytes, shorter than the header",
        );
    }

    #[test]
    fn rejects_wrong_kind() {
        let features = Features {
            ladder: vec![],
            benchmarks: vec![],
        };
        let bytes = encode(&features).unwrap();
        check_err(
            &bytes,
            "`x.art` is a `features` artifact, expected `eval-table`",
        );
    }

    #[test]
    fn rejects_other_schema_version() {
        let mut bytes = encode(&sample()).unwrap();
        bytes[10..14].copy_from_slice(&(EvalTable::SCHEMA_VERSION + 1).to_le_bytes());
        let found = EvalTable::SCHEMA_VERSION + 1;
        let expected = EvalTable::SCHEMA_VERSION;
        check_err(
            &bytes,
            &format!(
                "`x.art` is a `eval-table` artifact of schema version {found}, this cod reads version {expected}; re-run the stage that wrote it"
            ),
        );
    }

    #[test]
    fn rejects_truncation_and_bit_flips() {
        let bytes = encode(&sample()).unwrap();
        let len = bytes.len() - HEADER_LEN;
        check_err(
            &bytes[..bytes.len() - 1],
            &format!(
                "`x.art` is truncated: the header announces {len} payload bytes, found {}",
                len - 1
            ),
        );
        let mut flipped = bytes.clone();
        *flipped.last_mut().unwrap() ^= 0x40;
        check_err(
            &flipped,
            "`x.art` is corrupt: the payload does not match its checksum",
        );
    }

    #[test]
    fn unknown_kind_code() {
        let mut bytes = encode(&sample()).unwrap();
        bytes[8..10].copy_from_slice(&999u16.to_le_bytes());
        check_err(
            &bytes,
            "`x.art` has unknown artifact kind code 999; it was written by a newer cod",
        );
    }

    #[test]
    fn atomic_write_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/table.art");
        write(&path, &sample()).unwrap();
        write(&path, &sample()).unwrap();
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["table.art"]);
        assert_eq!(read::<EvalTable>(&path).unwrap(), sample());
        assert_eq!(read_header(&path).unwrap().kind, ArtifactKind::EvalTable);
    }
}
