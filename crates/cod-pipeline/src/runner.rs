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
        if !options.dry_run {
            self.remove_stale_temp_files(pipeline, options)?;
        }
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
                    let _lock = self
                        .cache
                        .lock(&key, lock_timeout(), || say_waiting(&spec.name))?;
                    // The run we waited for may have stored the object.
                    if !forced && let Ok(checksum) = self.reusable(spec, &key, &object) {
                        outputs.insert(spec.name.clone(), (object.clone(), checksum));
                        written.insert(
                            spec.name.clone(),
                            self.publish(pipeline, spec, &key, options)?,
                        );
                        report(Outcome::Cached);
                        continue;
                    }
                    self.cache.clear(&key).with_context(|| {
                        format!("cannot clear the cache entry `{}`", object.display())
                    })?;
                    let start = Instant::now();
                    (stage.run)(&input_paths, &object, &self.progress)
                        .with_context(|| format!("stage `{}` failed", spec.name))?;
                    let elapsed = start.elapsed();
                    let header =
                        cod_artifact::verify(&object, entry.output()).with_context(|| {
                            format!("stage `{}` did not write a valid artifact", spec.name)
                        })?;
                    self.cache.bind(&key, &header.checksum).with_context(|| {
                        format!("cannot write to `{}`", self.cache.root().display())
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
        if std::fs::symlink_metadata(object).is_ok() {
            return self
                .reusable(spec, key, object)
                .map_err(RunReason::CacheCorrupt);
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

    /// `Ok(checksum)` when the object at `object` is a valid artifact stored under `key`, else
    /// what is wrong with it. Decoded and validated, not only checksummed: an entry that decodes
    /// to an inconsistent artifact is recomputed like a corrupt one, and so is a valid artifact
    /// that was stored under another key.
    fn reusable(
        &self,
        spec: &StageSpec,
        key: &StageKey,
        object: &Path,
    ) -> Result<ContentHash, String> {
        let entry = self.registry.get(&spec.kind).expect("checked at load");
        if object.is_dir() {
            return Err("it is a directory".to_owned());
        }
        let header = entry
            .check_artifact(object)
            .map_err(|err| err.to_string())?;
        self.cache.check_binding(key, &header.checksum)?;
        Ok(header.checksum)
    }

    /// Removes the temporary files that killed runs left in the cache and in the output
    /// directory.
    fn remove_stale_temp_files(
        &self,
        pipeline: &Pipeline,
        options: &RunOptions,
    ) -> anyhow::Result<()> {
        let root = self.cache.root();
        for dir in [
            root.join("objects"),
            root.join("runs").join(&pipeline.name),
            options.out_dir.clone(),
            options.out_dir.join(cod_artifact::REPORT_FILES_DIR),
        ] {
            cod_artifact::remove_stale_temp_files(&dir)
                .with_context(|| format!("cannot clean temporary files in `{}`", dir.display()))?;
        }
        Ok(())
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

/// Said while a run blocks on another's lock, before the stage's own event line.
#[allow(clippy::print_stderr)]
fn say_waiting(stage: &str) {
    eprintln!("waiting for another run that is computing stage `{stage}` …");
}

/// How long a run waits for another to finish computing a stage it needs: `$COD_LOCK_TIMEOUT`
/// seconds, else an hour.
fn lock_timeout() -> Duration {
    std::env::var("COD_LOCK_TIMEOUT")
        .ok()
        .and_then(|secs| secs.parse().ok())
        .map_or(Duration::from_hours(1), Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use cod_artifact::Report;
    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::{Code, Stage};

    /// How many times [`Title`] ran, per title, so each test counts its own runs.
    static RUNS: std::sync::Mutex<BTreeMap<String, usize>> = std::sync::Mutex::new(BTreeMap::new());

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct TitleParams {
        title: String,
        #[serde(default)]
        slow: bool,
    }

    /// A stage that writes a report titled by its parameter.
    struct Title;

    impl Stage for Title {
        type Params = TitleParams;
        type Inputs = ();
        type Output = Report;
        const KIND: &'static str = "title";
        const CODE: Code = Code::new("title", 1, &[]);

        fn run(params: &TitleParams, (): (), _: &Progress) -> anyhow::Result<Report> {
            *RUNS
                .lock()
                .unwrap()
                .entry(params.title.clone())
                .or_default() += 1;
            if params.slow {
                std::thread::sleep(Duration::from_millis(300));
            }
            Ok(Report {
                title: params.title.clone(),
                markdown: String::new(),
                html: String::new(),
                files: Vec::new(),
            })
        }
    }

    fn runs(title: &str) -> usize {
        RUNS.lock().unwrap().get(title).copied().unwrap_or(0)
    }

    struct Setup {
        dir: tempfile::TempDir,
        registry: Registry,
    }

    impl Setup {
        fn new() -> Setup {
            Setup {
                dir: tempfile::tempdir().unwrap(),
                registry: Registry::new().with::<Title>(),
            }
        }

        fn cache(&self) -> Cache {
            Cache::new(self.dir.path().join("cache"))
        }

        fn pipeline(&self, title: &str, slow: bool) -> Pipeline {
            let text = format!("[a]\nstage = \"title\"\ntitle = \"{title}\"\nslow = {slow}\n");
            Pipeline::parse(&text, Path::new("p.toml"), &[], &self.registry).unwrap()
        }

        /// Runs the pipeline; returns what happened to its stage.
        fn run(&self, pipeline: &Pipeline) -> Outcome {
            let runner = Runner::new(
                &self.registry,
                self.cache(),
                self.dir.path().to_owned(),
                Progress::hidden(),
            );
            let options = RunOptions {
                out_dir: self.dir.path().join("out"),
                ..RunOptions::default()
            };
            let mut outcome = None;
            runner
                .run(pipeline, &options, &mut |event| {
                    outcome = Some(event.outcome.clone());
                })
                .unwrap();
            outcome.unwrap()
        }

        fn objects(&self) -> PathBuf {
            self.dir.path().join("cache/objects")
        }

        /// The one object in the cache.
        fn object(&self) -> PathBuf {
            let mut bins: Vec<PathBuf> = std::fs::read_dir(self.objects())
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "bin"))
                .collect();
            assert_eq!(bins.len(), 1, "{bins:?}");
            bins.pop().unwrap()
        }
    }

    fn corrupt_reason(outcome: &Outcome) -> String {
        match outcome {
            Outcome::Ran {
                reason: RunReason::CacheCorrupt(why),
                ..
            } => why.clone(),
            other => panic!("expected a recompute of a corrupt entry, got {other:?}"),
        }
    }

    /// Issue: a valid artifact of the right kind, moved into another key's slot, was used silently.
    #[test]
    fn a_cache_entry_swapped_from_another_key_is_recomputed() {
        let setup = Setup::new();
        let one = setup.pipeline("swap-one", false);
        let two = setup.pipeline("swap-two", false);
        setup.run(&one);
        let one_object = setup.object();
        let one_bytes = std::fs::read(&one_object).unwrap();
        std::fs::remove_file(&one_object).unwrap();
        setup.run(&two);
        let two_object = setup.object();
        std::fs::write(&two_object, &one_bytes).unwrap();

        let why = corrupt_reason(&setup.run(&two));
        assert!(why.contains("not what was stored under this key"), "{why}");
        assert_eq!(runs("swap-two"), 2);
        let report: Report = cod_artifact::read(&setup.dir.path().join("out/a.bin")).unwrap();
        assert_eq!(report.title, "swap-two");
        assert_eq!(setup.run(&two), Outcome::Cached);
    }

    /// An object whose record of its key is missing cannot be trusted either.
    #[test]
    fn a_cache_entry_without_its_record_is_recomputed() {
        let setup = Setup::new();
        let pipeline = setup.pipeline("unbound", false);
        setup.run(&pipeline);
        std::fs::remove_file(setup.object().with_extension("id")).unwrap();
        let why = corrupt_reason(&setup.run(&pipeline));
        assert!(why.contains("no readable record"), "{why}");
        assert_eq!(setup.run(&pipeline), Outcome::Cached);
    }

    /// Issue: an object replaced by a directory was a hard error.
    #[test]
    fn a_cache_object_replaced_by_a_directory_is_recomputed() {
        let setup = Setup::new();
        let pipeline = setup.pipeline("directory", false);
        setup.run(&pipeline);
        let object = setup.object();
        std::fs::remove_file(&object).unwrap();
        std::fs::create_dir_all(object.join("inside")).unwrap();
        let why = corrupt_reason(&setup.run(&pipeline));
        assert_eq!(why, "it is a directory");
        assert!(object.is_file());
        assert_eq!(setup.run(&pipeline), Outcome::Cached);
    }

    /// Issue: temporary files of killed runs stayed forever. A dead writer's are removed by the
    /// next run; a live writer's stay.
    #[test]
    fn a_run_removes_temp_files_of_dead_writers() {
        let setup = Setup::new();
        let pipeline = setup.pipeline("temp", false);
        setup.run(&pipeline);
        let out = setup.dir.path().join("out");
        let dead = [
            setup.objects().join(".cod-tmp-4294967000-abc"),
            out.join(".cod-tmp-4294967001-abc"),
        ];
        let live = out.join(format!(".cod-tmp-{}-abc", std::process::id()));
        for path in dead.iter().chain([&live]) {
            std::fs::write(path, b"partial").unwrap();
        }
        setup.run(&pipeline);
        assert!(dead.iter().all(|p| !p.exists()));
        assert!(live.exists());
    }

    /// Issue: concurrent runs sharing a cache each computed the stage. With the per-key lock, the
    /// second waits and reuses the first's object.
    #[test]
    fn concurrent_runs_compute_a_stage_once() {
        let setup = Setup::new();
        let pipeline = setup.pipeline("concurrent", true);
        let outcomes: Vec<Outcome> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..3)
                .map(|_| scope.spawn(|| setup.run(&pipeline)))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(runs("concurrent"), 1, "{outcomes:?}");
        assert_eq!(
            outcomes.iter().filter(|o| **o == Outcome::Cached).count(),
            2,
            "{outcomes:?}"
        );
    }
}
