use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use cod_artifact::{ArtifactKind, ContentHash};
use serde::{Deserialize, Serialize};

/// The content-addressed store of stage outputs, plus the last key each pipeline stage ran with (to
/// say why a stage re-runs).
///
/// Layout: `objects/<key>.bin` holds artifacts, `objects/<key>.id` the key and checksum each was
/// stored with, `locks/<key>.lock` the lock taken while computing it; `runs/<pipeline>/<stage>.json`
/// the last [`StageKey`].
#[derive(Clone, Debug)]
pub struct Cache {
    root: PathBuf,
}

/// The parts of a stage's cache key, each a blake3 hex digest, and the key itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageKey {
    pub key: String,
    pub params: String,
    pub files: String,
    pub inputs: String,
}

/// Domain-separates stage keys from any other blake3 use; bump to invalidate every cache.
const KEY_DOMAIN: &str = "cod stage key v2";

impl StageKey {
    /// Hashes each part explicitly and in a fixed order, so the key is stable across platforms and
    /// versions of serde or the standard library.
    #[must_use]
    ///
    /// `code` is every version of the code the stage runs ([`crate::Code::versions`]).
    pub fn new(
        kind: &str,
        code: &BTreeMap<&str, u32>,
        output: ArtifactKind,
        canonical_params: &str,
        file_hashes: &[ContentHash],
        input_hashes: &[ContentHash],
    ) -> StageKey {
        let params = blake3::hash(canonical_params.as_bytes());
        let files = hash_list(file_hashes);
        let inputs = hash_list(input_hashes);
        let mut h = blake3::Hasher::new();
        update_str(&mut h, KEY_DOMAIN);
        update_str(&mut h, kind);
        h.update(&(code.len() as u64).to_le_bytes());
        for (name, version) in code {
            update_str(&mut h, name);
            h.update(&version.to_le_bytes());
        }
        h.update(&output.code().to_le_bytes());
        h.update(&output.schema_version().to_le_bytes());
        h.update(params.as_bytes());
        h.update(files.as_bytes());
        h.update(inputs.as_bytes());
        StageKey {
            key: h.finalize().to_hex().to_string(),
            params: params.to_hex().to_string(),
            files: files.to_hex().to_string(),
            inputs: inputs.to_hex().to_string(),
        }
    }
}

fn update_str(h: &mut blake3::Hasher, s: &str) {
    h.update(&(s.len() as u64).to_le_bytes());
    h.update(s.as_bytes());
}

fn hash_list(hashes: &[ContentHash]) -> blake3::Hash {
    let mut h = blake3::Hasher::new();
    h.update(&(hashes.len() as u64).to_le_bytes());
    for hash in hashes {
        h.update(&hash.0);
    }
    h.finalize()
}

/// Hashes a file's bytes.
pub(crate) fn hash_file(path: &Path) -> std::io::Result<ContentHash> {
    let mut h = blake3::Hasher::new();
    h.update_reader(std::fs::File::open(path)?)?;
    Ok(ContentHash(*h.finalize().as_bytes()))
}

impl Cache {
    #[must_use]
    pub fn new(root: PathBuf) -> Cache {
        Cache { root }
    }

    /// `$COD_CACHE` when set, else `.cod/cache` under `cwd`.
    #[must_use]
    pub fn default_root(cwd: &Path) -> PathBuf {
        match std::env::var_os("COD_CACHE") {
            Some(dir) if !dir.is_empty() => cwd.join(dir),
            _ => cwd.join(".cod").join("cache"),
        }
    }

    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the artifact for `key` lives.
    #[must_use]
    pub fn object_path(&self, key: &StageKey) -> PathBuf {
        self.root.join("objects").join(format!("{}.bin", key.key))
    }

    /// Where the key and checksum of the object for `key` are recorded.
    fn binding_path(&self, key: &StageKey) -> PathBuf {
        self.root.join("objects").join(format!("{}.id", key.key))
    }

    fn lock_path(&self, key: &StageKey) -> PathBuf {
        self.root.join("locks").join(format!("{}.lock", key.key))
    }

    /// Records that the object for `key` has the payload `checksum`, after the object is written.
    pub fn bind(&self, key: &StageKey, checksum: &ContentHash) -> std::io::Result<()> {
        let text = serde_json::to_string(&Binding {
            key: key.key.clone(),
            checksum: checksum.to_hex(),
        })?;
        let path = self.binding_path(key);
        remove_if_directory(&path)?;
        cod_artifact::write_atomically(&path, |file| file.write_all(text.as_bytes()))
    }

    /// Checks that the object for `key`, whose payload hashes to `checksum`, is the one stored
    /// under that key: an object copied or moved from another key, or a binding record that is
    /// missing or names another key, is an error saying which.
    pub fn check_binding(&self, key: &StageKey, checksum: &ContentHash) -> Result<(), String> {
        let path = self.binding_path(key);
        let text = std::fs::read_to_string(&path).map_err(|err| {
            format!(
                "no readable record of what it holds (`{}`: {err})",
                path.display()
            )
        })?;
        let binding: Binding = serde_json::from_str(&text)
            .map_err(|err| format!("its record `{}` is damaged: {err}", path.display()))?;
        if binding.key != key.key {
            return Err(format!(
                "its record says it belongs to key {}…, not {}…",
                binding.key.chars().take(12).collect::<String>(),
                &key.key[..12]
            ));
        }
        if binding.checksum != checksum.to_hex() {
            return Err(
                "its content is not what was stored under this key (replaced by another artifact?)"
                    .to_owned(),
            );
        }
        Ok(())
    }

    /// Removes the object for `key` and its record, whatever they are (a directory included), so
    /// the stage can write them afresh.
    pub fn clear(&self, key: &StageKey) -> std::io::Result<()> {
        for path in [self.object_path(key), self.binding_path(key)] {
            remove_if_directory(&path)?;
            match std::fs::remove_file(&path) {
                Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err),
                _ => {}
            }
        }
        Ok(())
    }

    /// Takes the lock on `key`, so that of several runs sharing the cache only one computes the
    /// object while the others wait for it. Waits at most `timeout`, calling `on_wait` once if the
    /// lock is held. The lock is released when the guard drops, or by the system when the process
    /// dies.
    pub fn lock(
        &self,
        key: &StageKey,
        timeout: Duration,
        on_wait: impl FnOnce(),
    ) -> anyhow::Result<KeyLock> {
        let path = self.lock_path(key);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create `{}`", dir.display()))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open the lock file `{}`", path.display()))?;
        let start = Instant::now();
        let mut on_wait = Some(on_wait);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(KeyLock { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(err)) => {
                    return Err(err).with_context(|| format!("cannot lock `{}`", path.display()));
                }
            }
            if let Some(on_wait) = on_wait.take() {
                on_wait();
            }
            if start.elapsed() >= timeout {
                bail!(
                    "gave up after {} s waiting for another run to release `{}`; set \
                     `COD_LOCK_TIMEOUT` (seconds) to wait longer",
                    timeout.as_secs(),
                    path.display()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn record_path(&self, pipeline: &str, stage: &str) -> PathBuf {
        self.root
            .join("runs")
            .join(pipeline)
            .join(format!("{stage}.json"))
    }

    /// The key the stage last ran with, if any. An unreadable record counts as none.
    #[must_use]
    pub fn last_key(&self, pipeline: &str, stage: &str) -> Option<StageKey> {
        let text = std::fs::read_to_string(self.record_path(pipeline, stage)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Records the key the stage just ran with, atomically.
    pub fn record(&self, pipeline: &str, stage: &str, key: &StageKey) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(key)?;
        let path = self.record_path(pipeline, stage);
        remove_if_directory(&path)?;
        cod_artifact::write_atomically(&path, |file| file.write_all(text.as_bytes()))
    }
}

/// The record beside each object: the key it was stored under, and its payload's checksum.
#[derive(Serialize, Deserialize)]
struct Binding {
    key: String,
    checksum: String,
}

/// Holds the lock on a cache key; see [`Cache::lock`].
#[derive(Debug)]
pub struct KeyLock {
    _file: std::fs::File,
}

/// A directory where the cache keeps a file can only be debris: remove it.
fn remove_if_directory(path: &Path) -> std::io::Result<()> {
    if std::fs::symlink_metadata(path).is_ok_and(|meta| meta.is_dir()) {
        std::fs::remove_dir_all(path)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(version: u32) -> BTreeMap<&'static str, u32> {
        BTreeMap::from([("features", version)])
    }

    fn key(params: &str, inputs: &[ContentHash]) -> StageKey {
        StageKey::new(
            "features",
            &code(1),
            ArtifactKind::Features,
            params,
            &[],
            inputs,
        )
    }

    #[test]
    fn key_is_stable_across_builds() {
        // A golden value: if this changes, every user's cache is invalidated. Change it only on
        // purpose, together with `KEY_DOMAIN`. (The key hashes the `features` schema version,
        // 2 since features carry the gold-probability signal.)
        let k = key("{}", &[ContentHash([7; 32])]);
        assert_eq!(k.params, blake3::hash(b"{}").to_hex().to_string());
        assert_eq!(
            k.key,
            "016e581c35a5da2be055c31775a5120a41edb424b1cb275f61f231fc8bedd866"
        );
    }

    #[test]
    fn every_part_changes_the_key() {
        let base = key("{}", &[ContentHash([7; 32])]);
        assert_ne!(base.key, key("{\"a\":1}", &[ContentHash([7; 32])]).key);
        assert_ne!(base.key, key("{}", &[ContentHash([8; 32])]).key);
        assert_ne!(base.key, key("{}", &[]).key);
        let other_version = StageKey::new(
            "features",
            &code(2),
            ArtifactKind::Features,
            "{}",
            &[],
            &[ContentHash([7; 32])],
        );
        assert_ne!(base.key, other_version.key);
        let with_file = StageKey::new(
            "features",
            &code(1),
            ArtifactKind::Features,
            "{}",
            &[ContentHash([7; 32])],
            &[],
        );
        // The same hash as a file rather than an input is a different key.
        assert_ne!(key("{}", &[]).key, with_file.key);
    }

    /// A stage that runs another stage's code is re-run when that code's version changes, though
    /// its own did not.
    #[test]
    fn a_called_codes_version_changes_the_key() {
        use crate::Code;
        const FIT_1: Code = Code::new("fit", 1, &[]);
        const FIT_2: Code = Code::new("fit", 2, &[]);
        const MAP_1: Code = Code::new("map", 3, &[&FIT_1]);
        const MAP_2: Code = Code::new("map", 3, &[&FIT_2]);
        let key = |code: &Code| {
            StageKey::new(
                "map",
                &code.versions(),
                ArtifactKind::Predictions,
                "{}",
                &[],
                &[],
            )
            .key
        };
        assert_ne!(key(&MAP_1), key(&MAP_2));
        assert_eq!(MAP_1.versions(), BTreeMap::from([("fit", 1), ("map", 3)]));
    }

    #[test]
    fn records_round_trip_and_bad_records_count_as_none() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_owned());
        assert_eq!(cache.last_key("p", "s"), None);
        let k = key("{}", &[]);
        cache.record("p", "s", &k).unwrap();
        assert_eq!(cache.last_key("p", "s"), Some(k));
        std::fs::write(dir.path().join("runs/p/s.json"), "{not json").unwrap();
        assert_eq!(cache.last_key("p", "s"), None);
    }
}
