use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cod_artifact::{Artifact, ArtifactError, ArtifactKind};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Progress;

/// The code a stage runs, for its cache key: a name and version, and the code it calls.
///
/// A stage's key hashes every version in its tree ([`Code::versions`]), so a stage that re-runs
/// another stage's code (a backtest runs clustering, fits and the mapping) is re-run when that
/// code's version is bumped, without bumping its own.
#[derive(Clone, Copy, Debug)]
pub struct Code {
    pub name: &'static str,
    /// Bump whenever the output for the same inputs and parameters changes.
    pub version: u32,
    /// The stages and libraries whose code this one runs.
    pub calls: &'static [&'static Code],
}

impl Code {
    #[must_use]
    pub const fn new(name: &'static str, version: u32, calls: &'static [&'static Code]) -> Code {
        Code {
            name,
            version,
            calls,
        }
    }

    /// Every name in the tree with its version, each once.
    ///
    /// # Panics
    /// When one name appears with two versions: the tree is declared wrong.
    #[must_use]
    pub fn versions(&self) -> BTreeMap<&'static str, u32> {
        let mut all = BTreeMap::new();
        let mut todo = vec![self];
        while let Some(code) = todo.pop() {
            let seen = *all.entry(code.name).or_insert(code.version);
            assert_eq!(
                seen, code.version,
                "code `{}` appears with versions {seen} and {}",
                code.name, code.version
            );
            todo.extend(code.calls.iter().copied());
        }
        all
    }
}

/// The artifacts a stage reads: `()` or a tuple of artifact types, in the order of the stage's
/// `inputs`.
pub trait Inputs: Sized {
    const KINDS: &'static [ArtifactKind];

    /// Reads and checks every input; `paths` has one path per kind.
    fn read(paths: &[PathBuf]) -> Result<Self, ArtifactError>;
}

impl Inputs for () {
    const KINDS: &'static [ArtifactKind] = &[];

    fn read(_paths: &[PathBuf]) -> Result<(), ArtifactError> {
        Ok(())
    }
}

macro_rules! tuple_inputs {
    ($($t:ident $i:tt),+) => {
        impl<$($t: Artifact),+> Inputs for ($($t,)+) {
            const KINDS: &'static [ArtifactKind] = &[$($t::KIND),+];

            fn read(paths: &[PathBuf]) -> Result<Self, ArtifactError> {
                Ok(($(cod_artifact::read::<$t>(&paths[$i])?,)+))
            }
        }
    };
}
tuple_inputs!(A 0);
tuple_inputs!(A 0, B 1);
tuple_inputs!(A 0, B 1, C 2);
tuple_inputs!(A 0, B 1, C 2, D 3);

/// A pipeline stage: typed parameters and input artifacts in, one artifact out.
///
/// A stage's `run` is its computation only: the runner (and a stage's own binary, through the same
/// [`run_stage`]) reads and checks the inputs, and writes the output atomically and only on
/// success, so both write the same artifact for the same inputs and parameters.
pub trait Stage {
    /// Parameters as written in the pipeline file. Deserialization must reject unknown keys.
    type Params: Serialize + DeserializeOwned;
    /// The artifacts the stage reads, one per upstream stage.
    type Inputs: Inputs;
    /// The artifact the stage writes.
    type Output: Artifact;

    /// The name used for `stage = "…"` in pipeline files.
    const KIND: &'static str;
    /// The stage's code and every code it runs; part of the cache key.
    const CODE: Code;
    /// Kinds of stage whose parameters this one takes as nested tables of the same name, because it
    /// re-runs their code (a backtest's `cluster`, `fit`, `map`). A pipeline fills them from its own
    /// stages of those kinds (see `uses` in [`crate::Pipeline`]), so they cannot disagree.
    const USES: &'static [&'static str] = &[];

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

    /// The stage's computation.
    fn run(
        params: &Self::Params,
        inputs: Self::Inputs,
        progress: &Progress,
    ) -> anyhow::Result<Self::Output>;
}

/// Runs stage `S` on the artifacts at `inputs` and writes its artifact to `output` atomically, only
/// on success.
pub fn run_stage<S: Stage>(
    params: &S::Params,
    inputs: &[PathBuf],
    output: &Path,
    progress: &Progress,
) -> anyhow::Result<()> {
    let expected = <S::Inputs as Inputs>::KINDS.len();
    if inputs.len() != expected {
        anyhow::bail!(
            "the `{}` stage takes {expected} input artifact(s), found {}",
            S::KIND,
            inputs.len()
        );
    }
    let inputs = S::Inputs::read(inputs)?;
    let artifact = S::run(params, inputs, progress)?;
    cod_artifact::write(output, &artifact)?;
    Ok(())
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
    fn code(&self) -> Code;
    fn output(&self) -> ArtifactKind;
    fn inputs(&self) -> &'static [ArtifactKind];
    fn uses(&self) -> &'static [&'static str];
    /// Checks an artifact file of the stage's output kind as fully as a reader would: header,
    /// checksum, decoding and the type's invariants. Returns its header.
    fn check_artifact(&self, path: &Path) -> Result<cod_artifact::Header, ArtifactError>;
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
    fn code(&self) -> Code {
        S::CODE
    }
    fn output(&self) -> ArtifactKind {
        <S::Output as Artifact>::KIND
    }
    fn inputs(&self) -> &'static [ArtifactKind] {
        <S::Inputs as Inputs>::KINDS
    }
    fn uses(&self) -> &'static [&'static str] {
        S::USES
    }
    fn check_artifact(&self, path: &Path) -> Result<cod_artifact::Header, ArtifactError> {
        cod_artifact::read::<S::Output>(path)?;
        cod_artifact::read_header(path)
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
                run_stage::<S>(&params, inputs, output, progress)
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
