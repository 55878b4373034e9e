use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use cod_artifact::ContentHash;

use crate::cache::hash_file;
use crate::stage::{ConfiguredStage, PathResolver};
use crate::{Cache, Pipeline, Progress, Registry, StageKey, StageSpec};

/// What to run and where to put it.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Re-run every stage, cached or not.
    pub force_all: bool,
    /// Re-run these stages, cached or not.
    pub force: Vec<String>,
    /// Say what would run, and why, without running anything.
    pub dry_run: bool,
    /// Run only this stage and what it depends on.
    pub until: Option<String>,
    /// Where each stage's artifact is copied as `<stage>.bin`.
    pub out_dir: PathBuf,
}

/// Why a stage runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunReason {
    /// The stage has never run in this pipeline with this cache.
    New,
    ParamsChanged,
    InputChanged,
    Forced,
    /// The cached artifact failed its checks; the message says how.
    CacheCorrupt(String),
    /// Same parameters and inputs as last time, but no artifact for them: the implementation or
    /// schema version changed, or the cache entry was removed.
    NotInCache,
    /// Dry run only: an upstream stage would run first, so this stage's inputs are not known yet.
    UpstreamWouldRun,
}

impl std::fmt::Display for RunReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunReason::New => f.write_str("new"),
            RunReason::ParamsChanged => f.write_str("params changed"),
            RunReason::InputChanged => f.write_str("input changed"),
            RunReason::Forced => f.write_str("forced"),
            RunReason::CacheCorrupt(why) => write!(f, "cache entry corrupt: {why}"),
            RunReason::NotInCache => f.write_str("not in cache"),
            RunReason::UpstreamWouldRun => f.write_str("after upstream"),
        }
    }
}

/// What happened to one stage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ran {
        reason: RunReason,
        elapsed: Duration,
    },
    Cached,
    WouldRun {
        reason: RunReason,
    },
    WouldBeCached,
}

/// Reported once per stage, in execution order.
#[derive(Clone, Debug)]
pub struct Event<'a> {
    pub stage: &'a str,
    pub kind: &'a str,
    pub outcome: Outcome,
}

/// Runs pipelines: configures every stage, then runs or reuses each in DAG order.
pub struct Runner<'a> {
    registry: &'a Registry,
    cache: Cache,
    cwd: PathBuf,
    progress: Progress,
}

impl<'a> Runner<'a> {
    #[must_use]
    pub fn new(registry: &'a Registry, cache: Cache, cwd: PathBuf, progress: Progress) -> Self {
        Runner {
            registry,
            cache,
            cwd,
            progress,
        }
    }

    /// Runs `pipeline`. Returns each run stage's artifact path in `options.out_dir`, by stage name
    /// (empty for a dry run).
    pub fn run(
        &self,
        pipeline: &Pipeline,
        options: &RunOptions,
        on_event: &mut dyn FnMut(&Event),
    ) -> anyhow::Result<BTreeMap<String, PathBuf>> {
        let configured = self.configure(pipeline, options)?;
        let mut outputs: BTreeMap<String, (PathBuf, ContentHash)> = BTreeMap::new();
        let mut would_run: BTreeSet<String> = BTreeSet::new();
        let mut written = BTreeMap::new();
        for (spec, stage) in &configured {
            let entry = self.registry.get(&spec.kind).expect("checked at load");
            let forced = options.force_all || options.force.contains(&spec.name);
            let mut report = |outcome| {
                on_event(&Event {
                    stage: &spec.name,
                    kind: &spec.kind,
                    outcome,
                });
            };

            if options.dry_run && spec.inputs.iter().any(|i| would_run.contains(i)) {
                would_run.insert(spec.name.clone());
                let reason = if forced {
                    RunReason::Forced
                } else {
                    RunReason::UpstreamWouldRun
                };
                report(Outcome::WouldRun { reason });
                continue;
            }

            let input_paths: Vec<PathBuf> =
                spec.inputs.iter().map(|i| outputs[i].0.clone()).collect();
            let input_hashes: Vec<ContentHash> = spec.inputs.iter().map(|i| outputs[i].1).collect();
            let key = self.key(spec, stage, &input_hashes)?;
            let object = self.cache.object_path(&key);
            let reason = self.reason_to_run(pipeline, spec, &key, &object, forced);

            match (reason, options.dry_run) {
                (Ok(checksum), true) => {
                    outputs.insert(spec.name.clone(), (object.clone(), checksum));
                    report(Outcome::WouldBeCached);
                }
                (Err(reason), true) => {
                    would_run.insert(spec.name.clone());
                    report(Outcome::WouldRun { reason });
                }
                (Ok(checksum), false) => {
                    outputs.insert(spec.name.clone(), (object.clone(), checksum));
                    written.insert(
                        spec.name.clone(),
                        self.publish(pipeline, spec, &key, options)?,
                    );
                    report(Outcome::Cached);
                }
                (Err(reason), false) => {
                    let start = Instant::now();
                    (stage.run)(&input_paths, &object, &self.progress)
                        .with_context(|| format!("stage `{}` failed", spec.name))?;
                    let elapsed = start.elapsed();
                    let header =
                        cod_artifact::verify(&object, entry.output()).with_context(|| {
                            format!("stage `{}` did not write a valid artifact", spec.name)
                        })?;
                    outputs.insert(spec.name.clone(), (object.clone(), header.checksum));
                    written.insert(
                        spec.name.clone(),
                        self.publish(pipeline, spec, &key, options)?,
                    );
                    report(Outcome::Ran { reason, elapsed });
                }
            }
        }
        Ok(written)
    }

    /// Checks `--until` and `--force`, then configures every selected stage before any runs, so
    /// parameter errors come first.
    fn configure<'p>(
        &self,
        pipeline: &'p Pipeline,
        options: &RunOptions,
    ) -> anyhow::Result<Vec<(&'p StageSpec, ConfiguredStage)>> {
        let selected: BTreeSet<String> = match &options.until {
            Some(until) => {
                if pipeline.stage(until).is_none() {
                    bail!(
                        "`--until {until}`: no such stage in `{}`; stages: {}",
                        pipeline.path.display(),
                        stage_names(pipeline)
                    );
                }
                pipeline.ancestors_of(until)
            }
            None => pipeline.stages.iter().map(|s| s.name.clone()).collect(),
        };
        for name in &options.force {
            if pipeline.stage(name).is_none() {
                bail!(
                    "`--force {name}`: no such stage in `{}`; stages: {}",
                    pipeline.path.display(),
                    stage_names(pipeline)
                );
            }
        }
        let file_dir = match pipeline.path.parent() {
            Some(dir) => self.cwd.join(dir),
            None => self.cwd.clone(),
        };
        let mut configured = Vec::new();
        for spec in pipeline
            .stages
            .iter()
            .filter(|s| selected.contains(&s.name))
        {
            let entry = self.registry.get(&spec.kind).expect("checked at load");
            let resolver = PathResolver {
                file_dir: &file_dir,
                cwd: &self.cwd,
                overridden: &spec.overridden,
            };
            let stage = entry
                .configure(spec.params.clone(), &resolver)
                .map_err(|message| {
                    anyhow::anyhow!(
                        "`{}`: stage `{}`: {message}",
                        pipeline.path.display(),
                        spec.name
                    )
                })?;
            configured.push((spec, stage.0));
        }
        Ok(configured)
    }

    /// The stage's cache key from its parameters, the files it reads and its inputs' hashes.
    fn key(
        &self,
        spec: &StageSpec,
        stage: &ConfiguredStage,
        input_hashes: &[ContentHash],
    ) -> anyhow::Result<StageKey> {
        let entry = self.registry.get(&spec.kind).expect("checked at load");
        let file_hashes = stage
            .files_read
            .iter()
            .map(|path| {
                hash_file(path).with_context(|| {
                    format!("stage `{}`: cannot read `{}`", spec.name, path.display())
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(StageKey::new(
            entry.kind(),
            &entry.code().versions(),
            entry.output(),
            &stage.canonical_params,
            &file_hashes,
            input_hashes,
        ))
    }

    /// `Ok(checksum)` when a valid cached artifact can be reused, else why the stage must run.
    fn reason_to_run(
        &self,
        pipeline: &Pipeline,
        spec: &StageSpec,
        key: &StageKey,
        object: &Path,
        forced: bool,
    ) -> Result<ContentHash, RunReason> {
        if forced {
            return Err(RunReason::Forced);
        }
        let entry = self.registry.get(&spec.kind).expect("checked at load");
        if object.exists() {
            // Decoded and validated, not only checksummed: an entry that decodes to an
            // inconsistent artifact is recomputed like a corrupt one.
            return entry
                .check_artifact(object)
                .map(|header| header.checksum)
                .map_err(|err| RunReason::CacheCorrupt(err.to_string()));
        }
        Err(match self.cache.last_key(&pipeline.name, &spec.name) {
            None => RunReason::New,
            Some(last) if last.params != key.params => RunReason::ParamsChanged,
            Some(last) if last.files != key.files || last.inputs != key.inputs => {
                RunReason::InputChanged
            }
            Some(_) => RunReason::NotInCache,
        })
    }

    /// Copies a stage's artifact from the cache to the output directory and records the key it was
    /// made with.
    fn publish(
        &self,
        pipeline: &Pipeline,
        spec: &StageSpec,
        key: &StageKey,
        options: &RunOptions,
    ) -> anyhow::Result<PathBuf> {
        let entry = self.registry.get(&spec.kind).expect("checked at load");
        let dest = options.out_dir.join(format!("{}.bin", spec.name));
        cod_artifact::copy_verified(&self.cache.object_path(key), &dest, entry.output())?;
        self.cache
            .record(&pipeline.name, &spec.name, key)
            .with_context(|| format!("cannot write to `{}`", self.cache.root().display()))?;
        Ok(dest)
    }
}

fn stage_names(pipeline: &Pipeline) -> String {
    let names: Vec<&str> = pipeline.stages.iter().map(|s| s.name.as_str()).collect();
    crate::pipeline::quoted_list(&names)
}
