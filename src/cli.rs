use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use cod_artifact::{AnyArtifact, ArtifactKind};
use cod_pipeline::{Cache, Override, Pipeline, Progress, Registry, RunOptions, Runner, StageSpec};

use crate::report;

/// Predict a large language model's benchmark accuracy from a ladder of small models.
///
/// Work is described in pipeline files (`pipelines/*.toml`): stages such as `ingest` and
/// `features`, their parameters and inputs. `cod pipeline run` runs them in order and caches each
/// stage's artifact, so a stage whose inputs and parameters did not change is not run again.
#[derive(Parser)]
#[command(name = "cod", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run and list pipelines.
    #[command(subcommand)]
    Pipeline(PipelineCommand),
    /// Inspect artifacts written by stages.
    #[command(subcommand)]
    Artifact(ArtifactCommand),
    /// Run a pipeline up to its backtest stage and print which method predicts best.
    ///
    /// The backtest stage (`stage = "backtest"` on an eval table, `stage = "ladder-backtest"` on
    /// training runs) holds out the ladder's largest models in turn, predicts each from the
    /// smaller ones with every method, and scores them. Prints its summary: each method's mean
    /// and max absolute error per holdout, and which method wins on each benchmark or task.
    /// Writes `backtest.csv` (every row) and `backtest.md` into the output directory, beside the
    /// artifacts. The stages it depends on are cached as `cod pipeline run` caches them.
    #[command(after_help = "Examples:\n  \
        cod backtest mmlu\n  \
        cod backtest olmo-ladder --set backtest.holdout=2\n  \
        cod backtest bigg --force backtest")]
    Backtest(BacktestArgs),
    /// Check a target run in progress against a ladder pipeline's prediction, checkpoint by
    /// checkpoint.
    ///
    /// Runs PIPELINE up to its `ladder-recommend` stage (or its `ladder` stage, without one;
    /// cached stages are not re-run) and reads FILE as the pipeline's `ingest-runs` stage reads a
    /// run, with the target's N. For each checkpoint it prints, per task, the observed accuracy
    /// and whether it lies in, below or above the band around the prediction Acc(L(N, D)) at that
    /// checkpoint's D: the calibrated 90% interval of the `ladder` method (bootstrap spread,
    /// backtest extrapolation error scaled by the checkpoint's distance in log compute beyond the
    /// ladder's mean, and the task's binomial noise), or the bootstrap band when the pipeline has
    /// no recommend stage. Ends with a per-task table and writes every check to
    /// `monitor-<run>.csv` in the output directory.
    ///
    /// The prediction never reads the target, unless the pipeline says `[monitor] use_target =
    /// true` (or `--set monitor.use_target=true`): then each checkpoint also prints `final`, the
    /// target's final accuracy with step 2 refitted on the ladder and the run's checkpoints so
    /// far. Step 1 is not refitted: a checkpoint before the final learning-rate decay is not a
    /// finished run of its D.
    ///
    /// With `--follow`, keeps reading FILE every `--interval` seconds and checks each checkpoint
    /// appended to it; a file caught mid-write (a missing file, an unfinished last line) is read
    /// again at the next look.
    #[command(after_help = "Examples:\n  \
        cod monitor olmo-ladder --target 7B --run ../shared/data/olmo-ladder/peteish7_eval_full.csv\n  \
        cod monitor olmo-ladder --target 13B --run run.csv --set monitor.use_target=true\n  \
        cod monitor olmo-ladder --target 7B --run run.csv --follow --interval 600")]
    Monitor(crate::monitor::MonitorArgs),
    /// Look at evaluation results before writing a pipeline file.
    #[command(subcommand)]
    Ingest(IngestCommand),
    /// Write a starter pipeline file (and its manifest) for a source of results.
    ///
    /// Looks at PATH as `cod ingest inspect` does and writes `pipelines/NAME.toml` and
    /// `pipelines/manifests/NAME.toml`. The manifest lists the models it found with `0.0` where
    /// the source does not say (parameters, tokens): fill those in, mark the target with
    /// `role = "target"`, then `cod pipeline run NAME`.
    #[command(after_help = "Examples:\n  \
        cod init logs/ --name my-evals\n  \
        cod init results.csv --name scores")]
    Init {
        /// lm-eval output directory, tidy or score table, or a directory of run CSVs.
        path: PathBuf,
        /// The pipeline's name [default: PATH's file name without its extension].
        #[arg(long)]
        name: Option<String>,
        /// Overwrite existing files.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum IngestCommand {
    /// Say what a source holds: models, tasks, items, samples, filters and metrics.
    ///
    /// PATH is an lm-evaluation-harness output directory (one directory per model with
    /// `samples_<task>_<timestamp>.jsonl`), a tidy per-item table, an aggregate score table, or a
    /// directory of training-run CSVs.
    #[command(after_help = "Examples:\n  \
        cod ingest inspect fixtures/lm-eval-mini/lm-eval\n  \
        cod ingest inspect fixtures/mmlu/items.parquet")]
    Inspect { path: PathBuf },
}

#[derive(Subcommand)]
enum PipelineCommand {
    /// Run a pipeline, reusing cached stages.
    ///
    /// Prints one line per stage: `ran` with the reason (new, params changed, input changed,
    /// forced, cache entry corrupt, not in cache) and the time, or `cached`. Then prints the
    /// summaries of the stages listed in `pipeline.summary` and writes them to `summary.txt` in the
    /// output directory, beside every stage's artifact (`<stage>.bin`). A pipeline with a `map`
    /// stage also gets `predictions.json` and `predictions.csv`: benchmark → method → prediction,
    /// actual, abs_error; a `ladder` stage also writes `ladder.csv`, its whole table; a `report`
    /// or `ladder-report` stage writes `report.md`, `report.html` and its plots.
    #[command(after_help = "Examples:\n  \
        cod pipeline run mmlu\n  \
        cod pipeline run pipelines/mmlu.toml --dry-run\n  \
        cod pipeline run mmlu --set ingest.path=other.csv --set ingest.missing=drop\n  \
        cod pipeline run mmlu --force features\n  \
        cod pipeline run mmlu --until ingest")]
    Run(RunArgs),
    /// List the pipelines in `pipelines/`.
    List,
}

/// What names a pipeline and how to run it: shared by `cod pipeline run`, `cod backtest` and
/// `cod monitor`.
#[derive(clap::Args)]
pub(crate) struct PipelineArgs {
    /// A pipeline name (`mmlu` for `pipelines/mmlu.toml`) or a path to a pipeline file.
    pipeline: String,
    /// Override a pipeline-file value: `STAGE.KEY=VALUE`. The value is read as TOML when it parses
    /// (`3`, `true`, `"text"`), else as a plain string. Relative paths given here resolve against
    /// the current directory; those in the file resolve against the file's directory.
    #[arg(long = "set", value_name = "STAGE.KEY=VALUE")]
    overrides: Vec<Override>,
    /// Re-run every stage, or only STAGE, even when cached.
    #[arg(long, value_name = "STAGE", num_args = 0..=1, default_missing_value = "")]
    force: Option<String>,
    /// Say which stages would run, and why, without running them.
    #[arg(long)]
    dry_run: bool,
    /// Output directory [default: out/<pipeline name>].
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Cache directory [default: $COD_CACHE, else .cod/cache].
    #[arg(long)]
    cache: Option<PathBuf>,
}

#[derive(clap::Args)]
struct RunArgs {
    #[command(flatten)]
    pipeline: PipelineArgs,
    /// Run only STAGE and the stages it depends on.
    #[arg(long, value_name = "STAGE")]
    until: Option<String>,
}

#[derive(clap::Args)]
struct BacktestArgs {
    #[command(flatten)]
    pipeline: PipelineArgs,
    /// The backtest stage to run, when the pipeline has several [default: its only one].
    #[arg(long, value_name = "STAGE")]
    stage: Option<String>,
}

#[derive(Subcommand)]
enum ArtifactCommand {
    /// Print an artifact's kind, schema version and a readable summary.
    #[command(after_help = "Examples:\n  \
        cod artifact show out/mmlu/features.bin\n  \
        cod artifact show out/mmlu/ingest.bin --json | jq '.models[].name'")]
    Show {
        /// The artifact file.
        file: PathBuf,
        /// Print the whole artifact as JSON instead.
        #[arg(long)]
        json: bool,
    },
}

/// Every stage the `cod` binary can run.
pub fn registry() -> Registry {
    Registry::new()
        .with::<cod_ingest::IngestStage>()
        .with::<cod_features::FeaturesStage>()
        .with::<cod_cluster::ClusterStage>()
        .with::<cod_fit::FitStage>()
        .with::<cod_map::MapStage>()
        .with::<cod_map::BootstrapStage>()
        .with::<cod_ingest::IngestRunsStage>()
        .with::<cod_ingest::IngestLmEvalStage>()
        .with::<cod_ingest::IngestScoresStage>()
        .with::<cod_ingest::IngestLmEvalResultsStage>()
        .with::<cod_ladder::LadderStage>()
        .with::<cod_report::ReportStage>()
        .with::<cod_report::LadderReportStage>()
        .with::<cod_backtest::BacktestStage>()
        .with::<cod_backtest::LadderBacktestStage>()
        .with::<cod_backtest::RecommendStage>()
        .with::<cod_backtest::LadderRecommendStage>()
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Pipeline(PipelineCommand::Run(args)) => run_pipeline(&args),
        Command::Backtest(args) => backtest(&args),
        Command::Monitor(args) => crate::monitor::monitor(&args),
        Command::Pipeline(PipelineCommand::List) => list_pipelines(),
        Command::Ingest(IngestCommand::Inspect { path }) => {
            report::text(&cod_ingest::inspect(&path)?.summary());
            Ok(ExitCode::SUCCESS)
        }
        Command::Init { path, name, force } => init(&path, name, force),
        Command::Artifact(ArtifactCommand::Show { file, json }) => {
            let artifact = AnyArtifact::read(&file)?;
            if json {
                report::text(&artifact.to_json()?);
            } else {
                let kind = artifact.kind();
                report::text(&format!(
                    "{}: {kind} artifact, schema version {}\n{}",
                    file.display(),
                    kind.schema_version(),
                    artifact.summary()
                ));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

const PIPELINE_DIR: &str = "pipelines";

fn init(path: &Path, name: Option<String>, force: bool) -> anyhow::Result<ExitCode> {
    let inspection = cod_ingest::inspect(path)?;
    let name = match name {
        Some(n) => n,
        None => path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .context("give the pipeline a name with `--name`")?,
    };
    if let Err(why) = cod_pipeline::check_name(&name) {
        bail!("`--name`: {why}");
    }
    // Paths in a pipeline file resolve against its directory, `pipelines/`.
    let source = if path.is_absolute() {
        path.display().to_string()
    } else {
        Path::new("..").join(path).display().to_string()
    };
    let (pipeline, manifest) = inspection.starter(&name, source.trim_end_matches('/'));
    let pipeline_path = Path::new(PIPELINE_DIR).join(format!("{name}.toml"));
    let manifest_path = Path::new(PIPELINE_DIR)
        .join("manifests")
        .join(format!("{name}.toml"));
    for p in [&pipeline_path, &manifest_path] {
        if p.exists() && !force {
            bail!(
                "`{}` exists; choose another `--name` or pass `--force`",
                p.display()
            );
        }
    }
    std::fs::create_dir_all(manifest_path.parent().expect("has a parent"))?;
    for (p, text) in [(&pipeline_path, pipeline), (&manifest_path, manifest)] {
        cod_artifact::write_atomically(p, |f| std::io::Write::write_all(f, text.as_bytes()))
            .with_context(|| format!("cannot write `{}`", p.display()))?;
    }
    report::text(&format!(
        "{}wrote `{}` and `{}`; fill in the manifest's 0.0 values and the target, then run `cod pipeline run {name}`",
        inspection.summary(),
        pipeline_path.display(),
        manifest_path.display()
    ));
    Ok(ExitCode::SUCCESS)
}

fn find_pipeline(name: &str) -> anyhow::Result<PathBuf> {
    let as_path = Path::new(name);
    let has_extension = as_path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    if has_extension || name.contains(std::path::MAIN_SEPARATOR) || as_path.is_file() {
        return Ok(as_path.to_owned());
    }
    let path = Path::new(PIPELINE_DIR).join(format!("{name}.toml"));
    if path.is_file() {
        return Ok(path);
    }
    let known = pipeline_names().unwrap_or_default();
    bail!(
        "no pipeline `{name}`: expected `{}`; available: {}",
        path.display(),
        if known.is_empty() {
            "none in `pipelines/`".to_owned()
        } else {
            known.join(", ")
        }
    )
}

fn pipeline_names() -> std::io::Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(PIPELINE_DIR)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    Ok(names)
}

fn list_pipelines() -> anyhow::Result<ExitCode> {
    let registry = registry();
    let names = pipeline_names().with_context(|| format!("cannot list `{PIPELINE_DIR}/`"))?;
    for name in names {
        let path = Path::new(PIPELINE_DIR).join(format!("{name}.toml"));
        match Pipeline::load(&path, &[], &registry) {
            Ok(p) => {
                let stages: Vec<&str> = p.stages.iter().map(|s| s.name.as_str()).collect();
                report::text(&format!(
                    "{name:<16} {}  [{}]",
                    p.description.as_deref().unwrap_or(""),
                    stages.join(" → ")
                ));
            }
            Err(err) => report::text(&format!("{name:<16} (invalid: {err})")),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A pipeline run's artifacts, by stage, and where they were written.
pub(crate) struct Ran {
    pub(crate) written: BTreeMap<String, PathBuf>,
    cwd: PathBuf,
    out_dir: PathBuf,
}

impl Ran {
    /// The summary of stage `name`'s artifact, when it ran or was cached in this run.
    fn summary(&self, name: &str) -> anyhow::Result<Option<String>> {
        let Some(file) = self.written.get(name) else {
            return Ok(None);
        };
        // Paths in the summary are relative to the current directory when they can be.
        let shown = file.strip_prefix(&self.cwd).unwrap_or(file);
        Ok(Some(AnyArtifact::read(file)?.summary_at(shown)))
    }
}

/// The registry and the pipeline `args` name, with their overrides applied.
pub(crate) fn load(args: &PipelineArgs) -> anyhow::Result<(Registry, Pipeline)> {
    let registry = registry();
    let path = find_pipeline(&args.pipeline)?;
    let pipeline = Pipeline::load(&path, &args.overrides, &registry)?;
    Ok((registry, pipeline))
}

/// Runs `pipeline` (up to `until`) as `args` say, reporting each stage, and writes the files
/// derived from its artifacts. `None` for a dry run.
pub(crate) fn execute(
    registry: &Registry,
    pipeline: &Pipeline,
    args: &PipelineArgs,
    until: Option<String>,
) -> anyhow::Result<Option<Ran>> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let cache_root = match &args.cache {
        Some(dir) => cwd.join(dir),
        None => Cache::default_root(&cwd),
    };
    let out_dir = match &args.out {
        Some(dir) => cwd.join(dir),
        None => cwd.join("out").join(&pipeline.name),
    };
    let (force_all, force) = match args.force.as_deref() {
        None => (false, vec![]),
        Some("") => (true, vec![]),
        Some(stage) => (false, vec![stage.to_owned()]),
    };
    let options = RunOptions {
        force_all,
        force,
        dry_run: args.dry_run,
        until,
        out_dir: out_dir.clone(),
    };
    let runner = Runner::new(
        registry,
        Cache::new(cache_root),
        cwd.clone(),
        Progress::stderr(),
    );
    let written = runner.run(pipeline, &options, &mut |event| report::stage_event(event))?;
    if args.dry_run {
        return Ok(None);
    }

    // Files derived from artifacts (predictions.json, the report, …), in pipeline order, so a later
    // stage's predictions (with intervals) replace an earlier stage's. Only the header is read to
    // find the kinds that have any; a damaged file is an error, not skipped.
    let in_order = pipeline.stages.iter().filter_map(|s| written.get(&s.name));
    for file in in_order {
        let kind = cod_artifact::read_header(file)?.kind;
        // What ingest noticed about the data (skipped files, a target inside the ladder), each
        // run, cached or not.
        let warnings = match kind {
            ArtifactKind::EvalTable => {
                cod_artifact::read::<cod_artifact::EvalTable>(file)?.warnings
            }
            ArtifactKind::TrainingRuns => {
                cod_artifact::read::<cod_artifact::TrainingRuns>(file)?.warnings
            }
            _ => Vec::new(),
        };
        for warning in &warnings {
            report::warn(warning);
        }
        if !kind.has_output_files() {
            continue;
        }
        let files = AnyArtifact::read(file)?
            .output_files()
            .with_context(|| format!("cannot render the files of `{}`", file.display()))?;
        cod_artifact::write_output_files(&out_dir, &files)?;
    }
    Ok(Some(Ran {
        written,
        cwd,
        out_dir,
    }))
}

fn run_pipeline(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let (registry, pipeline) = load(&args.pipeline)?;
    let Some(ran) = execute(&registry, &pipeline, &args.pipeline, args.until.clone())? else {
        return Ok(ExitCode::SUCCESS);
    };

    let mut summary = String::new();
    for name in &pipeline.summary {
        if let Some(text) = ran.summary(name)? {
            summary.push('\n');
            summary.push_str(&text);
        }
    }
    if !summary.is_empty() {
        report::text(&summary);
        let summary_path = ran.out_dir.join("summary.txt");
        if let Err(err) = cod_artifact::write_atomically(&summary_path, |f| {
            std::io::Write::write_all(f, summary.trim_start().as_bytes())
        }) {
            report::warn(&format!("cannot write `{}`: {err}", summary_path.display()));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The pipeline's backtest stage: `stage` when given, else the only stage writing a `backtest`
/// artifact. Without one, says what to add.
fn backtest_stage(
    registry: &Registry,
    pipeline: &Pipeline,
    stage: Option<&str>,
) -> anyhow::Result<String> {
    let writes = |s: &StageSpec, kind: ArtifactKind| {
        registry.get(&s.kind).is_some_and(|e| e.output() == kind)
    };
    let backtests: Vec<&str> = pipeline
        .stages
        .iter()
        .filter(|s| writes(s, ArtifactKind::Backtest))
        .map(|s| s.name.as_str())
        .collect();
    if let Some(name) = stage {
        if backtests.contains(&name) {
            return Ok(name.to_owned());
        }
        bail!(
            "`--stage {name}`: not a backtest stage of `{}`; its backtest stages: {}",
            pipeline.path.display(),
            if backtests.is_empty() {
                "none".to_owned()
            } else {
                backtests.join(", ")
            }
        );
    }
    match backtests.as_slice() {
        [one] => Ok((*one).to_owned()),
        [] => {
            let source = |kind| pipeline.stages.iter().find(|s| writes(s, kind));
            let example = if let Some(s) = source(ArtifactKind::EvalTable) {
                format!("[backtest]\ninputs = [\"{}\"]", s.name)
            } else if let Some(s) = source(ArtifactKind::TrainingRuns) {
                format!(
                    "[backtest]\nstage = \"ladder-backtest\"\ninputs = [\"{}\"]",
                    s.name
                )
            } else {
                "[backtest]\ninputs = [\"ingest\"]    # or stage = \"ladder-backtest\" on training runs"
                    .to_owned()
            };
            bail!(
                "`{}` has no backtest stage; add one (with the `cluster`, `fit` and `map` \
                 tables, or the `ladder` table, of the stages it backtests), e.g.\n\n{example}",
                pipeline.path.display()
            )
        }
        several => bail!(
            "`{}` has several backtest stages ({}); choose one with `--stage`",
            pipeline.path.display(),
            several.join(", ")
        ),
    }
}

fn backtest(args: &BacktestArgs) -> anyhow::Result<ExitCode> {
    let (registry, pipeline) = load(&args.pipeline)?;
    let stage = backtest_stage(&registry, &pipeline, args.stage.as_deref())?;
    let Some(ran) = execute(&registry, &pipeline, &args.pipeline, Some(stage.clone()))? else {
        return Ok(ExitCode::SUCCESS);
    };
    if let Some(text) = ran.summary(&stage)? {
        report::text(&format!("\n{text}"));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use cod_pipeline::{Code, StageBinary, stage_command};

    use super::*;

    fn root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    fn load(name: &str, overrides: &[&str]) -> Pipeline {
        let overrides: Vec<Override> = overrides.iter().map(|o| o.parse().unwrap()).collect();
        let path = root().join(format!("pipelines/{name}.toml"));
        Pipeline::load(&path, &overrides, &registry()).unwrap()
    }

    /// The parameters a stage of `pipeline` reads, as JSON with its defaults filled in.
    fn params<P: serde::de::DeserializeOwned + serde::Serialize>(
        table: &toml::Table,
    ) -> serde_json::Value {
        serde_json::to_value(table.clone().try_into::<P>().unwrap()).unwrap()
    }

    /// Every shipped backtest and bootstrap re-runs its pipeline's own stages: the nested tables
    /// are the used stages' parameters, also after `--set` on one of them.
    #[test]
    fn shipped_backtests_and_bootstraps_use_their_pipelines_stages() {
        for (name, overrides) in [
            ("mmlu", vec![]),
            ("mmlu", vec!["cluster.quantile=0.2", "fit.guess=0.2"]),
            ("bigg", vec![]),
        ] {
            let p = load(name, &overrides);
            let backtest = p.stage("backtest").unwrap();
            assert_eq!(
                backtest.uses,
                ["features", "cluster", "fit", "map"],
                "{name}"
            );
            let nested = |key: &str| backtest.params[key].as_table().unwrap().clone();
            assert_eq!(
                params::<cod_cluster::ClusterParams>(&nested("cluster")),
                params::<cod_cluster::ClusterParams>(&p.stage("cluster").unwrap().params)
            );
            assert_eq!(
                params::<cod_fit::FitParams>(&nested("fit")),
                params::<cod_fit::FitParams>(&p.stage("fit").unwrap().params)
            );
            assert_eq!(
                params::<cod_map::MapParams>(&nested("map")),
                params::<cod_map::MapParams>(&p.stage("map").unwrap().params)
            );
            if let Some(bootstrap) = p.stage("bootstrap") {
                assert_eq!(bootstrap.uses, ["fit", "map"]);
                assert_eq!(
                    params::<cod_fit::FitParams>(bootstrap.params["fit"].as_table().unwrap()),
                    params::<cod_fit::FitParams>(&p.stage("fit").unwrap().params)
                );
            }
        }
        let p = load("mmlu", &["cluster.quantile=0.2"]);
        let cluster = &p.stage("backtest").unwrap().params["cluster"];
        assert_eq!(cluster["quantile"].as_float(), Some(0.2));
        let p = load("olmo-ladder", &["ladder.step1_last=3"]);
        let backtest = p.stage("backtest").unwrap();
        assert_eq!(backtest.uses, ["ladder"]);
        assert_eq!(
            backtest.params["ladder"]["step1_last"].as_integer(),
            Some(3)
        );
        assert_eq!(
            params::<cod_ladder::LadderParams>(backtest.params["ladder"].as_table().unwrap()),
            params::<cod_ladder::LadderParams>(&p.stage("ladder").unwrap().params)
        );
    }

    fn contains(code: &Code, name: &str) -> bool {
        code.name == name || code.calls.iter().any(|c| contains(c, name))
    }

    /// A stage that takes another stage's parameters runs that stage's code, so its cache key must
    /// hold that code's version; and a change to any version in a stage's code changes its key.
    #[test]
    fn cache_keys_cover_the_code_of_every_stage_a_stage_reuses() {
        let registry = registry();
        for kind in registry.kinds() {
            let entry = registry.get(kind).unwrap();
            let code = entry.code();
            assert_eq!(code.name, kind, "a stage's code is named after its kind");
            for used in entry.uses() {
                assert!(
                    contains(&code, used),
                    "`{kind}` reuses `{used}`'s parameters but its code does not call `{used}`"
                );
            }
            let key = |versions: &BTreeMap<&str, u32>| {
                cod_pipeline::StageKey::new(kind, versions, entry.output(), "{}", &[], &[]).key
            };
            let versions = code.versions();
            for name in versions.keys() {
                let mut bumped = versions.clone();
                *bumped.get_mut(name).unwrap() += 1;
                assert_ne!(key(&versions), key(&bumped), "`{kind}`: `{name}`");
            }
        }
        let backtest = registry.get("backtest").unwrap().code().versions();
        for called in ["features", "cluster", "fit", "map", "bootstrap"] {
            assert!(backtest.contains_key(called), "{called}");
        }
    }

    /// Every stage binary's command line: no two flags collide, inputs match the stage.
    #[test]
    fn stage_binaries_flags_do_not_collide() {
        fn check<S: cod_pipeline::Stage>(binary: &StageBinary)
        where
            S::Params: clap::Args,
        {
            stage_command::<S>(binary).debug_assert();
        }
        check::<cod_ingest::IngestStage>(&cod_ingest::BINARY);
        check::<cod_ingest::IngestRunsStage>(&cod_ingest::RUNS_BINARY);
        check::<cod_features::FeaturesStage>(&cod_features::BINARY);
        check::<cod_cluster::ClusterStage>(&cod_cluster::BINARY);
        check::<cod_fit::FitStage>(&cod_fit::BINARY);
        check::<cod_map::MapStage>(&cod_map::BINARY);
        check::<cod_ladder::LadderStage>(&cod_ladder::BINARY);
        check::<cod_report::ReportStage>(&cod_report::BINARY);
        check::<cod_report::LadderReportStage>(&cod_report::LADDER_BINARY);
        check::<cod_backtest::BacktestStage>(&cod_backtest::BINARY);
        check::<cod_backtest::LadderBacktestStage>(&cod_backtest::LADDER_BINARY);
        check::<cod_backtest::RecommendStage>(&cod_backtest::RECOMMEND_BINARY);
        check::<cod_backtest::LadderRecommendStage>(&cod_backtest::LADDER_RECOMMEND_BINARY);
    }
}
