use std::path::{Path, PathBuf};

use cod_artifact::ArtifactKind;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Progress;

/// A pipeline stage: typed parameters in, one artifact out.
///
/// The same implementation serves the runner and the stage's own binary, so both write the same
/// artifact for the same inputs and parameters.
pub trait Stage {
    /// Parameters as written in the pipeline file. Deserialization must reject unknown keys.
    type Params: Serialize + DeserializeOwned;

    /// The name used for `stage = "…"` in pipeline files.
    const KIND: &'static str;
    /// Bump whenever the stage's output for the same inputs and parameters changes; it is part of
    /// the cache key.
    const VERSION: u32;
    /// The artifact the stage writes.
    const OUTPUT: ArtifactKind;
    /// The artifacts the stage reads, in order, one per upstream stage.
    const INPUTS: &'static [ArtifactKind];

    /// Checks the parameters beyond what deserialization checks (ranges, combinations), before
    /// any stage of the pipeline runs.
    fn validate(_params: &Self::Params) -> anyhow::Result<()> {
        Ok(())
    }

    /// Makes the parameters' relative paths absolute. Only stages that read files need it.
    fn resolve_paths(_params: &mut Self::Params, _resolve: &PathResolver) {}

    /// Files the stage reads besides its input artifacts; their bytes are part of the cache key.
    fn files_read(_params: &Self::Params) -> Vec<PathBuf> {
        Vec::new()
    }

    /// Runs the stage. Must write `output` atomically (see `cod_artifact::write`) and only on success.
    fn run(
        params: &Self::Params,
        inputs: &[PathBuf],
        output: &Path,
        progress: &Progress,
    ) -> anyhow::Result<()>;
}

/// Resolves a relative path in a stage's parameters: against the current directory when the key
/// came from `--set` on the command line, else against the pipeline file's directory.
pub struct PathResolver<'a> {
    pub(crate) file_dir: &'a Path,
    pub(crate) cwd: &'a Path,
    pub(crate) overridden: &'a [String],
}

impl PathResolver<'_> {
    /// Resolves the path stored under parameter `key`. A leading `${COD_DATA}` stands for the
    /// shared data directory: `$COD_DATA` when set, else `../shared/data` from the current
    /// directory.
    #[must_use]
    pub fn resolve(&self, key: &str, path: &Path) -> PathBuf {
        if let Ok(rest) = path.strip_prefix("${COD_DATA}") {
            let root = match std::env::var_os("COD_DATA") {
                Some(dir) if !dir.is_empty() => self.cwd.join(dir),
                _ => self.cwd.join("../shared/data"),
            };
            return root.join(rest);
        }
        if path.is_absolute() {
            return path.to_owned();
        }
        let base = if self.overridden.iter().any(|k| k == key) {
            self.cwd
        } else {
            self.file_dir
        };
        // Drop `.` components so messages show `dir/items.csv`, not `dir/./items.csv`.
        base.join(path)
            .components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect()
    }
}

/// Runs a configured stage: input artifacts, output path, progress.
pub(crate) type RunFn = Box<dyn Fn(&[PathBuf], &Path, &Progress) -> anyhow::Result<()>>;

/// A stage with its parameters checked, ready to hash and run.
pub(crate) struct ConfiguredStage {
    pub canonical_params: String,
    pub files_read: Vec<PathBuf>,
    pub run: RunFn,
}

/// Object-safe view of a [`Stage`], for the registry.
pub trait StageEntry: Sync {
    fn kind(&self) -> &'static str;
    fn version(&self) -> u32;
    fn output(&self) -> ArtifactKind;
    fn inputs(&self) -> &'static [ArtifactKind];
    /// Parses and checks the parameters; the error is serde's message (which names the key).
    #[doc(hidden)]
    fn configure(
        &self,
        params: toml::Table,
        resolve: &PathResolver,
    ) -> Result<ConfiguredStageHandle, String>;
}

/// Opaque handle to a configured stage.
pub struct ConfiguredStageHandle(pub(crate) ConfiguredStage);

struct Entry<S>(std::marker::PhantomData<fn() -> S>);

impl<S: Stage + 'static> StageEntry for Entry<S>
where
    S::Params: 'static,
{
    fn kind(&self) -> &'static str {
        S::KIND
    }
    fn version(&self) -> u32 {
        S::VERSION
    }
    fn output(&self) -> ArtifactKind {
        S::OUTPUT
    }
    fn inputs(&self) -> &'static [ArtifactKind] {
        S::INPUTS
    }
    fn configure(
        &self,
        params: toml::Table,
        resolve: &PathResolver,
    ) -> Result<ConfiguredStageHandle, String> {
        let mut params: S::Params = params
            .try_into()
            .map_err(|err: toml::de::Error| err.message().to_owned())?;
        S::validate(&params).map_err(|err| format!("{err:#}"))?;
        let canonical_params = serde_json::to_string(&params).map_err(|err| err.to_string())?;
        S::resolve_paths(&mut params, resolve);
        let files_read = S::files_read(&params);
        Ok(ConfiguredStageHandle(ConfiguredStage {
            canonical_params,
            files_read,
            run: Box::new(move |inputs, output, progress| {
                S::run(&params, inputs, output, progress)
            }),
        }))
    }
}

/// The stages a runner knows, by kind.
pub struct Registry {
    entries: Vec<Box<dyn StageEntry>>,
}

impl Registry {
    #[must_use]
    pub fn new() -> Registry {
        Registry {
            entries: Vec::new(),
        }
    }

    /// Adds stage `S`.
    #[must_use]
    pub fn with<S: Stage + 'static>(mut self) -> Registry {
        self.entries
            .push(Box::new(Entry::<S>(std::marker::PhantomData)));
        self
    }

    #[must_use]
    pub fn get(&self, kind: &str) -> Option<&dyn StageEntry> {
        self.entries
            .iter()
            .find(|e| e.kind() == kind)
            .map(AsRef::as_ref)
    }

    pub fn kinds(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.entries.iter().map(|e| e.kind())
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}
