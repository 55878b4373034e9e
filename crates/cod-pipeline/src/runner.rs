use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use cod_artifact::ContentHash;

use crate::cache::hash_file;
use crate::stage::{ConfiguredStage, PathResolver};
use crate::{Cache, Pipeline, Progress, Registry, StageKey};

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

        // Configure every stage before running any, so parameter errors come first.
        let mut configured: Vec<(&crate::StageSpec, ConfiguredStage)> = Vec::new();
        for spec in pipeline
            .stages
            .iter()
            .filter(|s| selected.contains(&s.name))
        {
            let entry = self.registry.get(&spec.kind).expect("checked at load");
            let resolver = PathResolver {
                file_dir: &self.cwd.join(pipeline.dir()),
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

        let mut outputs: BTreeMap<String, (PathBuf, ContentHash)> = BTreeMap::new();
        let mut would_run: BTreeSet<String> = BTreeSet::new();
        let mut written = BTreeMap::new();
        for (spec, stage) in &configured {
            let entry = self.registry.get(&spec.kind).expect("checked at load");
            let forced = options.force_all || options.force.contains(&spec.name);

            if options.dry_run && spec.inputs.iter().any(|i| would_run.contains(i)) {
                would_run.insert(spec.name.clone());
                on_event(&Event {
                    stage: &spec.name,
                    kind: &spec.kind,
                    outcome: Outcome::WouldRun {
                        reason: if forced {
                            RunReason::Forced
                        } else {
                            RunReason::UpstreamWouldRun
                        },
                    },
                });
                continue;
            }

            let file_hashes = stage
                .files_read
                .iter()
                .map(|path| {
                    hash_file(path).with_context(|| {
                        format!("stage `{}`: cannot read `{}`", spec.name, path.display())
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let input_paths: Vec<PathBuf> =
                spec.inputs.iter().map(|i| outputs[i].0.clone()).collect();
            let input_hashes: Vec<ContentHash> = spec.inputs.iter().map(|i| outputs[i].1).collect();
            let key = StageKey::new(
                entry.kind(),
                entry.version(),
                entry.output(),
                &stage.canonical_params,
                &file_hashes,
                &input_hashes,
            );
            let object = self.cache.object_path(&key);

            let reason = if forced {
                Some(RunReason::Forced)
            } else if object.exists() {
                match cod_artifact::verify(&object, entry.output()) {
                    Ok(header) => {
                        outputs.insert(spec.name.clone(), (object.clone(), header.checksum));
                        None
                    }
                    Err(err) => Some(RunReason::CacheCorrupt(err.to_string())),
                }
            } else {
                Some(match self.cache.last_key(&pipeline.name, &spec.name) {
                    None => RunReason::New,
                    Some(last) if last.params != key.params => RunReason::ParamsChanged,
                    Some(last) if last.files != key.files || last.inputs != key.inputs => {
                        RunReason::InputChanged
                    }
                    Some(_) => RunReason::NotInCache,
                })
            };

            let Some(reason) = reason else {
                let outcome = if options.dry_run {
                    Outcome::WouldBeCached
                } else {
                    written.insert(spec.name.clone(), self.publish(spec, &object, options)?);
                    self.cache
                        .record(&pipeline.name, &spec.name, &key)
                        .with_context(|| {
                            format!("cannot write to `{}`", self.cache.root().display())
                        })?;
                    Outcome::Cached
                };
                on_event(&Event {
                    stage: &spec.name,
                    kind: &spec.kind,
                    outcome,
                });
                continue;
            };

            if options.dry_run {
                would_run.insert(spec.name.clone());
                on_event(&Event {
                    stage: &spec.name,
                    kind: &spec.kind,
                    outcome: Outcome::WouldRun { reason },
                });
                continue;
            }

            let start = Instant::now();
            (stage.run)(&input_paths, &object, &self.progress)
                .with_context(|| format!("stage `{}` failed", spec.name))?;
            let elapsed = start.elapsed();
            let header = cod_artifact::verify(&object, entry.output())
                .with_context(|| format!("stage `{}` did not write a valid artifact", spec.name))?;
            outputs.insert(spec.name.clone(), (object.clone(), header.checksum));
            written.insert(spec.name.clone(), self.publish(spec, &object, options)?);
            self.cache
                .record(&pipeline.name, &spec.name, &key)
                .with_context(|| format!("cannot write to `{}`", self.cache.root().display()))?;
            on_event(&Event {
                stage: &spec.name,
                kind: &spec.kind,
                outcome: Outcome::Ran { reason, elapsed },
            });
        }
        Ok(written)
    }

    /// Copies a stage's artifact from the cache to the output directory.
    fn publish(
        &self,
        spec: &crate::StageSpec,
        object: &Path,
        options: &RunOptions,
    ) -> anyhow::Result<PathBuf> {
        let entry = self.registry.get(&spec.kind).expect("checked at load");
        let dest = options.out_dir.join(format!("{}.bin", spec.name));
        cod_artifact::copy_verified(object, &dest, entry.output())?;
        Ok(dest)
    }
}

fn stage_names(pipeline: &Pipeline) -> String {
    let names: Vec<&str> = pipeline.stages.iter().map(|s| s.name.as_str()).collect();
    crate::pipeline::quoted_list(&names)
}
