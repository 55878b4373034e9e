use std::collections::BTreeMap;
use std::path::PathBuf;

use cod_artifact::{EvalTable, TrainingRuns};
use cod_pipeline::{Code, PathResolver, Progress, Stage, StageBinary};
use serde::{Deserialize, Serialize};

/// Parameters of the `ingest` stage.
#[derive(Clone, Debug, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct IngestParams {
    /// Tidy results table, `.csv` or `.parquet`, with columns
    /// `benchmark,item,model,n_samples,n_correct` and optionally `loss`.
    #[arg(long)]
    pub path: PathBuf,
    /// Models manifest (TOML): `[[model]]` tables with `name`, `params`, `tokens`, optional `flops`
    /// and `role` (`ladder`, `target` or `anchor`).
    #[arg(long)]
    pub manifest: PathBuf,
    /// What to do with an item that lacks a result for some ladder model: `error` stops, `drop`
    /// drops the item and records it in the artifact.
    #[arg(long, value_enum, default_value_t = MissingPolicy::Error)]
    #[serde(default)]
    pub missing: MissingPolicy,
    /// Also make one benchmark of this name holding every item of every benchmark (ids become
    /// `benchmark/item`).
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub union: Option<String>,
    /// Rows of models the manifest does not list are an error, rather than skipped and counted
    /// in a warning.
    #[arg(long)]
    #[serde(default)]
    pub strict: bool,
}

/// How ingest treats items with missing ladder results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum MissingPolicy {
    #[default]
    Error,
    Drop,
}

/// Reads a tidy table and a models manifest into an `eval-table` artifact.
pub struct IngestStage;

impl Stage for IngestStage {
    type Params = IngestParams;
    type Inputs = ();
    type Output = EvalTable;
    const KIND: &'static str = "ingest";
    const CODE: Code = Code::new("ingest", 1, &[]);

    fn resolve_paths(params: &mut IngestParams, resolve: &PathResolver) {
        params.path = resolve.resolve("path", &params.path);
        params.manifest = resolve.resolve("manifest", &params.manifest);
    }

    fn files_read(params: &IngestParams) -> Vec<PathBuf> {
        vec![params.path.clone(), params.manifest.clone()]
    }

    fn run(params: &IngestParams, (): (), progress: &Progress) -> anyhow::Result<EvalTable> {
        let spinner = progress.spinner(&format!("reading {}", params.path.display()));
        let models = crate::read_manifest(&params.manifest)?;
        let mut table = crate::read_tidy(&params.path, &models, params.missing, params.strict)?;
        table.warnings.extend(interpolated_targets(&models));
        if let Some(name) = &params.union {
            add_union(&mut table, name)?;
        }
        spinner.finish_and_clear();
        Ok(table)
    }
}

/// A warning per target whose compute is not above every ladder model's: its "prediction" is an
/// interpolation, which says nothing about extrapolation.
fn interpolated_targets(models: &[cod_artifact::Model]) -> Vec<String> {
    let largest = models
        .iter()
        .filter(|m| m.role == cod_artifact::Role::Ladder)
        .max_by(|a, b| a.flops.total_cmp(&b.flops));
    let Some(largest) = largest else {
        return Vec::new();
    };
    models
        .iter()
        .filter(|m| m.role == cod_artifact::Role::Target && m.flops <= largest.flops)
        .map(|m| {
            format!(
                "target `{}` has compute {:.3e} FLOPs, not above the largest ladder model's (`{}`, \
                 {:.3e}): predicting it is interpolation, not extrapolation",
                m.name, m.flops, largest.name, largest.flops
            )
        })
        .collect()
}

/// Appends a benchmark named `name` holding every item of every benchmark.
fn add_union(table: &mut cod_artifact::EvalTable, name: &str) -> anyhow::Result<()> {
    if table.benchmarks.iter().any(|b| b.name == name) {
        anyhow::bail!("`union = \"{name}\"` names an existing benchmark");
    }
    let with_loss = table.benchmarks.iter().all(|b| b.loss.is_some());
    let mut union = cod_artifact::BenchmarkEvals {
        name: name.to_owned(),
        items: Vec::new(),
        n_samples: Vec::new(),
        n_correct: Vec::new(),
        loss: with_loss.then(Vec::new),
        dropped_items: Vec::new(),
    };
    for b in &table.benchmarks {
        union
            .items
            .extend(b.items.iter().map(|i| format!("{}/{i}", b.name)));
        union.n_samples.extend_from_slice(&b.n_samples);
        union.n_correct.extend_from_slice(&b.n_correct);
        if let (Some(all), Some(l)) = (union.loss.as_mut(), &b.loss) {
            all.extend_from_slice(l);
        }
        union
            .dropped_items
            .extend(b.dropped_items.iter().map(|i| format!("{}/{i}", b.name)));
    }
    table.benchmarks.push(union);
    Ok(())
}

/// Parameters of the `ingest-runs` stage. On the command line they are a TOML file
/// (`--params FILE`), since tasks are a list of tables.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestRunsParams {
    /// The directory holding the run files; the manifest's `file` entries are relative to it.
    pub dir: PathBuf,
    /// Runs manifest (TOML): `[[run]]` tables with `name`, `file`, `params` (N), optional
    /// `tokens` (D) and `role` (`ladder` or `target`).
    pub manifest: PathBuf,
    /// Column names: the `olmo` preset (default), or `none`.
    #[serde(default)]
    pub preset: crate::Preset,
    /// Column names replacing the preset's: `step`, `tokens`, `batch_tokens`, and `metrics`
    /// (metric name → column pattern with `{task}`, or `{ column = "…", negate = true }`, or
    /// `complement = true` for 1 − the column).
    #[serde(default)]
    pub columns: crate::ColumnNames,
    /// The tasks: `[[ingest.tasks]]` with `name` and `source` (the name in the columns; default
    /// the name) or `parts` (source → weight, a weighted composite).
    #[serde(default)]
    pub tasks: Vec<crate::TaskSpec>,
}

/// Reads per-checkpoint training-run exports into a `training-runs` artifact.
pub struct IngestRunsStage;

impl Stage for IngestRunsStage {
    type Params = IngestRunsParams;
    type Inputs = ();
    type Output = TrainingRuns;
    const KIND: &'static str = "ingest-runs";
    const CODE: Code = Code::new("ingest-runs", 3, &[]);

    fn validate(params: &IngestRunsParams) -> anyhow::Result<()> {
        if params.tasks.is_empty() {
            anyhow::bail!(
                "no tasks: declare `[[<stage>.tasks]]` tables with a `name` (and `source` or `parts`)"
            );
        }
        Ok(())
    }

    fn resolve_paths(params: &mut IngestRunsParams, resolve: &PathResolver) {
        params.dir = resolve.resolve("dir", &params.dir);
        params.manifest = resolve.resolve("manifest", &params.manifest);
    }

    fn files_read(params: &IngestRunsParams) -> Vec<PathBuf> {
        // The run files are part of the cache key; an unreadable manifest fails later, in `run`.
        let mut files = vec![params.manifest.clone()];
        if let Ok(runs) = crate::read_runs_manifest(&params.manifest) {
            files.extend(runs.iter().map(|r| params.dir.join(&r.file)));
        }
        files
    }

    fn run(params: &IngestRunsParams, (): (), progress: &Progress) -> anyhow::Result<TrainingRuns> {
        let spinner = progress.spinner(&format!("reading runs in {}", params.dir.display()));
        let entries = crate::read_runs_manifest(&params.manifest)?;
        let columns = params.preset.with(&params.columns);
        let runs = crate::read_runs(&params.dir, &entries, &columns, &params.tasks)?;
        spinner.finish_and_clear();
        Ok(runs)
    }
}

/// Parameters of the `ingest-lm-eval` stage.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestLmEvalParams {
    /// Models manifest (TOML), as for `ingest`.
    pub manifest: PathBuf,
    /// Model name → its harness output directory (`<output_path>/<model_name_sanitized>`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub models: BTreeMap<String, PathBuf>,
    /// Or a pattern such as `logs/*`: every matching directory is a model named after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dirs: Option<PathBuf>,
    /// The per-sample metric read as correctness [default: `acc`, else `exact_match`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    /// The filter whose records are read when a task has several (e.g. `strict-match`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// Benchmark → task-name prefixes gathered into it, e.g. `{ mmlu = ["mmlu_"] }`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub missing: MissingPolicy,
    /// Also make one benchmark of this name holding every item of every benchmark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub union: Option<String>,
    /// A multiple-choice item's loss: `gold` (−log p of the gold choice) or `gold-normalized`
    /// (normalized over the logged choices, for `features.signal = "gold-probability"`).
    #[serde(default)]
    pub loss: crate::GoldLoss,
    /// Directories `dirs` finds for models the manifest does not list are an error, rather than
    /// skipped and counted in a warning.
    #[serde(default)]
    pub strict: bool,
}

impl IngestLmEvalParams {
    /// Model name → directory, from `models` and the `dirs` pattern.
    fn directories(&self) -> anyhow::Result<BTreeMap<String, PathBuf>> {
        let dirs = model_directories(&self.models, self.dirs.as_ref())?;
        if dirs.is_empty() {
            anyhow::bail!(
                "no model directories: give `models = {{ NAME = \"DIR\" }}` or `dirs = \"PATTERN\"`"
            );
        }
        Ok(dirs)
    }
}

/// Reads lm-evaluation-harness sample logs into an `eval-table` artifact.
pub struct IngestLmEvalStage;

impl Stage for IngestLmEvalStage {
    type Params = IngestLmEvalParams;
    type Inputs = ();
    type Output = EvalTable;
    const KIND: &'static str = "ingest-lm-eval";
    const CODE: Code = Code::new("ingest-lm-eval", 1, &[]);

    fn resolve_paths(params: &mut IngestLmEvalParams, resolve: &PathResolver) {
        params.manifest = resolve.resolve("manifest", &params.manifest);
        resolve_model_dirs(&mut params.models, params.dirs.as_mut(), resolve);
    }

    fn files_read(params: &IngestLmEvalParams) -> Vec<PathBuf> {
        // Every samples and results file is part of the cache key; errors surface in `run`.
        let mut files = vec![params.manifest.clone()];
        for dir in params.directories().unwrap_or_default().values() {
            if let Ok(entries) = std::fs::read_dir(dir) {
                let mut found: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| {
                        p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with("samples_") || n.starts_with("results_"))
                    })
                    .collect();
                found.sort();
                files.extend(found);
            }
        }
        files
    }

    fn run(params: &IngestLmEvalParams, (): (), progress: &Progress) -> anyhow::Result<EvalTable> {
        let spinner = progress.spinner("reading lm-eval sample logs");
        let models = crate::read_manifest(&params.manifest)?;
        let options = crate::LmEvalOptions {
            metric: params.metric.clone(),
            filter: params.filter.clone(),
            groups: params.groups.clone(),
            missing: params.missing,
            loss: params.loss,
        };
        let mut dirs = params.directories()?;
        let mut unlisted = BTreeMap::new();
        if !params.strict {
            // Folders the pattern found for models the manifest does not list; a name given in
            // `models` must be listed.
            dirs.retain(|name, _| {
                let keep =
                    params.models.contains_key(name) || models.iter().any(|m| &m.name == name);
                if !keep {
                    unlisted.insert(name.clone(), 1);
                }
                keep
            });
        }
        let mut table = crate::read_lm_eval(&models, &dirs, &options)?;
        table
            .warnings
            .extend(crate::tidy::unlisted_warning(&unlisted, "directories"));
        table.warnings.extend(interpolated_targets(&models));
        if let Some(name) = &params.union {
            add_union(&mut table, name)?;
        }
        spinner.finish_and_clear();
        Ok(table)
    }
}

/// Parameters of the `ingest-scores` stage.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestScoresParams {
    /// Aggregate score table, `.csv` or `.parquet`: `model,benchmark,accuracy` and optionally
    /// `loss`, `step`, `tokens`.
    pub path: PathBuf,
    /// Models manifest (TOML), as for `ingest`; it may list several targets.
    pub manifest: PathBuf,
    /// Rows of models the manifest does not list are an error, rather than skipped and counted
    /// in a warning.
    #[serde(default)]
    pub strict: bool,
}

/// Reads an aggregate score table into a `training-runs` artifact (one run per model).
pub struct IngestScoresStage;

impl Stage for IngestScoresStage {
    type Params = IngestScoresParams;
    type Inputs = ();
    type Output = TrainingRuns;
    const KIND: &'static str = "ingest-scores";
    const CODE: Code = Code::new("ingest-scores", 1, &[]);

    fn resolve_paths(params: &mut IngestScoresParams, resolve: &PathResolver) {
        params.path = resolve.resolve("path", &params.path);
        params.manifest = resolve.resolve("manifest", &params.manifest);
    }

    fn files_read(params: &IngestScoresParams) -> Vec<PathBuf> {
        vec![params.path.clone(), params.manifest.clone()]
    }

    fn run(
        params: &IngestScoresParams,
        (): (),
        _progress: &Progress,
    ) -> anyhow::Result<TrainingRuns> {
        let models = crate::read_manifest(&params.manifest)?;
        crate::read_scores(&params.path, &models, params.strict)
    }
}

/// Parameters of the `ingest-lm-eval-results` stage.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestLmEvalResultsParams {
    /// Models manifest (TOML), as for `ingest`.
    pub manifest: PathBuf,
    /// Model name → a folder holding its `results_*.json` files (at any depth).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub models: BTreeMap<String, PathBuf>,
    /// Or a pattern such as `lm_evals/*`: every matching directory is a model named after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dirs: Option<PathBuf>,
    /// Or a pattern matching results files, one per checkpoint, whose model and step
    /// `checkpoint` gives (e.g. `evals/*.json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<PathBuf>,
    /// Where a file's model and step are in its path: `{model}`, `{step}` and `*` in the last
    /// components, e.g. `{model}_step{step}.json` or `{model}/step{step}/results_*.json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
    /// Tokens per training step, to place checkpoints (`{step}` × this).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_per_step: Option<f64>,
    /// The metric read as accuracy [default: `acc`].
    #[serde(default = "default_results_metric")]
    pub metric: String,
    /// Per-task metrics, e.g. `{ gsm8k = "exact_match" }`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, String>,
    /// The filter of `metric,filter` keys, when a task reports several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// The tasks read [default: every task every file has].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<String>,
    /// Task → its subtasks, averaged into it (weighted by `n-samples` when every subtask has it,
    /// else unweighted; the weights are in the artifact's tasks).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, Vec<String>>,
    /// A metric read as each task's loss (`word_perplexity` → its log, `bits_per_byte`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<String>,
    /// Results of models the manifest does not list are an error rather than skipped.
    #[serde(default)]
    pub strict: bool,
}

fn default_results_metric() -> String {
    "acc".to_owned()
}

impl IngestLmEvalResultsParams {
    /// Every checkpoint: a model folder's files, or each file the pattern matches.
    fn checkpoints(&self) -> anyhow::Result<Vec<crate::ResultsCheckpoint>> {
        let mut out = Vec::new();
        let pattern = self.checkpoint.as_deref();
        for (model, dir) in model_directories(&self.models, self.dirs.as_ref())? {
            let files = crate::results::results_files_below(&dir)?;
            match pattern {
                None if files.is_empty() => anyhow::bail!(
                    "`{}` (model `{model}`): no `results_*.json` files in it or below it",
                    dir.display()
                ),
                None => out.push(crate::ResultsCheckpoint {
                    model,
                    step: None,
                    files,
                }),
                Some(pattern) => {
                    for file in files {
                        let Some((_, step)) = crate::results::match_checkpoint(pattern, &file)
                        else {
                            continue;
                        };
                        out.push(crate::ResultsCheckpoint {
                            model: model.clone(),
                            step,
                            files: vec![file],
                        });
                    }
                }
            }
        }
        if let Some(files) = &self.files {
            let Some(pattern) = pattern else {
                anyhow::bail!(
                    "`files` needs a `checkpoint` pattern naming `{{model}}` (and `{{step}}`), \
                     e.g. `checkpoint = \"{{model}}_step{{step}}.json\"`"
                );
            };
            for file in glob_paths(files, "files")? {
                let Some((Some(model), step)) = crate::results::match_checkpoint(pattern, &file)
                else {
                    anyhow::bail!(
                        "`{}` does not match `checkpoint = \"{pattern}\"`, which must name its \
                         `{{model}}`",
                        file.display()
                    );
                };
                out.push(crate::ResultsCheckpoint {
                    model,
                    step,
                    files: vec![file],
                });
            }
        }
        if out.is_empty() {
            anyhow::bail!(
                "no results files: give `models = {{ NAME = \"DIR\" }}`, `dirs = \"PATTERN\"`, \
                 or `files` with `checkpoint`"
            );
        }
        Ok(out)
    }
}

/// Reads lm-evaluation-harness aggregate results into a `training-runs` artifact.
pub struct IngestLmEvalResultsStage;

impl Stage for IngestLmEvalResultsStage {
    type Params = IngestLmEvalResultsParams;
    type Inputs = ();
    type Output = TrainingRuns;
    const KIND: &'static str = "ingest-lm-eval-results";
    const CODE: Code = Code::new("ingest-lm-eval-results", 1, &[]);

    fn resolve_paths(params: &mut IngestLmEvalResultsParams, resolve: &PathResolver) {
        params.manifest = resolve.resolve("manifest", &params.manifest);
        resolve_model_dirs(&mut params.models, params.dirs.as_mut(), resolve);
        if let Some(files) = params.files.as_mut() {
            *files = resolve.resolve("files", files);
        }
    }

    fn files_read(params: &IngestLmEvalResultsParams) -> Vec<PathBuf> {
        // Every results file is part of the cache key; errors surface in `run`.
        let mut files = vec![params.manifest.clone()];
        for checkpoint in params.checkpoints().unwrap_or_default() {
            files.extend(checkpoint.files);
        }
        files
    }

    fn run(
        params: &IngestLmEvalResultsParams,
        (): (),
        progress: &Progress,
    ) -> anyhow::Result<TrainingRuns> {
        let spinner = progress.spinner("reading lm-eval results files");
        let models = crate::read_manifest(&params.manifest)?;
        let options = crate::ResultsOptions {
            metric: params.metric.clone(),
            metrics: params.metrics.clone(),
            filter: params.filter.clone(),
            tasks: params.tasks.clone(),
            groups: params.groups.clone(),
            loss: params.loss.clone(),
            tokens_per_step: params.tokens_per_step,
            strict: params.strict,
        };
        let runs = crate::read_lm_eval_results(&models, &params.checkpoints()?, &options)?;
        spinner.finish_and_clear();
        Ok(runs)
    }
}

/// Resolves the `models` map's directories and the `dirs` pattern of a stage's parameters.
fn resolve_model_dirs(
    models: &mut BTreeMap<String, PathBuf>,
    dirs: Option<&mut PathBuf>,
    resolve: &PathResolver,
) {
    for (name, dir) in models {
        *dir = resolve.resolve(&format!("models.{name}"), dir);
    }
    if let Some(dirs) = dirs {
        *dirs = resolve.resolve("dirs", dirs);
    }
}

/// Model name → directory, from an explicit map and a pattern whose matching directories are
/// models named after them.
fn model_directories(
    models: &BTreeMap<String, PathBuf>,
    dirs: Option<&PathBuf>,
) -> anyhow::Result<BTreeMap<String, PathBuf>> {
    let mut out = models.clone();
    if let Some(pattern) = dirs {
        let found: Vec<PathBuf> = glob_paths(pattern, "dirs")?
            .into_iter()
            .filter(|p| p.is_dir())
            .collect();
        if found.is_empty() {
            anyhow::bail!("`dirs = \"{}\"` matches no directory", pattern.display());
        }
        for path in found {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if out.insert(name.clone(), path).is_some() {
                anyhow::bail!("model `{name}` is given by both `models` and `dirs`");
            }
        }
    }
    Ok(out)
}

/// The paths a glob pattern given as parameter `key` matches, sorted.
fn glob_paths(pattern: &std::path::Path, key: &str) -> anyhow::Result<Vec<PathBuf>> {
    let text = pattern.to_string_lossy();
    let paths = glob::glob(&text)
        .map_err(|err| anyhow::anyhow!("`{key} = \"{text}\"`: invalid pattern: {err}"))?;
    let mut out = paths.collect::<Result<Vec<_>, _>>()?;
    out.sort();
    Ok(out)
}

cod_pipeline::params_file_args!(IngestRunsParams);
cod_pipeline::params_file_args!(IngestLmEvalParams);
cod_pipeline::params_file_args!(IngestScoresParams);
cod_pipeline::params_file_args!(IngestLmEvalResultsParams);

/// `cod-ingest`, the `ingest` stage's binary.
pub const BINARY: StageBinary = StageBinary {
    name: "cod-ingest",
    about: "Read a tidy results table and a models manifest into an `eval-table` artifact",
    long_about: "Every rejected row is reported with its file and line.",
    inputs: &[],
    examples: &["cod-ingest --path fixtures/mmlu/items.parquet \
                 --manifest fixtures/mmlu/models.toml --output ingest.bin"],
};

/// `cod-ingest-runs`, the `ingest-runs` stage's binary.
pub const RUNS_BINARY: StageBinary = StageBinary {
    name: "cod-ingest-runs",
    about: "Read per-checkpoint training-run exports (one CSV or Parquet file per run, one row \
            per evaluated checkpoint, e.g. wandb exports of the OLMo ladder) into a \
            `training-runs` artifact",
    long_about: "Its parameters are a TOML file holding what a pipeline file's stage table holds: \
                 `dir`, `manifest`, `preset`, `columns` and `[[tasks]]`; relative paths resolve \
                 against the current directory.",
    inputs: &[],
    examples: &[
        "(params.toml)",
        "  dir = \"../shared/data/olmo-ladder\"",
        "  manifest = \"pipelines/manifests/olmo-ladder.toml\"",
        "  [[tasks]]",
        "  name = \"hellaswag\"",
        "  source = \"hellaswag_val\"",
        "",
        "cod-ingest-runs --params params.toml --output runs.bin",
    ],
};

/// `cod-ingest-lm-eval`, the `ingest-lm-eval` stage's binary.
pub const LM_EVAL_BINARY: StageBinary = StageBinary {
    name: "cod-ingest-lm-eval",
    about: "Read lm-evaluation-harness `--log_samples` output (every harness version's per-sample \
            logs) and a models manifest into an `eval-table` artifact",
    long_about: "Its parameters are a TOML file holding what a pipeline file's stage table holds: \
                 `manifest`, and `dirs` (a glob of one folder per model) or `models` (a table of \
                 model name → folder), with `metric`, `filter`, `groups`, `missing`, `union`, \
                 `loss` and `strict`; relative paths resolve against the current directory. \
                 Every rejected record is reported with its file and line.",
    inputs: &[],
    examples: &[
        "(params.toml)",
        "  manifest = \"fixtures/lm-eval-mini/models.toml\"",
        "  dirs = \"fixtures/lm-eval-mini/lm-eval/*\"",
        "  filter = \"strict-match\"",
        "",
        "cod-ingest-lm-eval --params params.toml --output ingest.bin",
    ],
};

/// `cod-ingest-scores`, the `ingest-scores` stage's binary.
pub const SCORES_BINARY: StageBinary = StageBinary {
    name: "cod-ingest-scores",
    about: "Read an aggregate score table (one row per model and task) and a models manifest into \
            a `training-runs` artifact",
    long_about: "Its parameters are a TOML file holding what a pipeline file's stage table holds: \
                 `path` (CSV or Parquet with columns `model,benchmark,accuracy` and optionally \
                 `loss`, `step`, `tokens`), `manifest` and `strict`; relative paths resolve against the current \
                 directory.",
    inputs: &[],
    examples: &[
        "(params.toml)",
        "  path = \"scores.csv\"",
        "  manifest = \"models.toml\"",
        "",
        "cod-ingest-scores --params params.toml --output runs.bin",
    ],
};

/// `cod-ingest-lm-eval-results`, the `ingest-lm-eval-results` stage's binary.
pub const RESULTS_BINARY: StageBinary = StageBinary {
    name: "cod-ingest-lm-eval-results",
    about: "Read lm-evaluation-harness aggregate `results_*.json` files (one per model or per \
            checkpoint) and a models manifest into a `training-runs` artifact",
    long_about: "Its parameters are a TOML file holding what a pipeline file's stage table holds: \
                 `manifest`, and `dirs`, `models` or `files` with `checkpoint`, \
                 `tokens_per_step`, `metric`, `metrics`, `filter`, `tasks`, `groups`, `loss` and \
                 `strict`; relative paths resolve against the current directory.",
    inputs: &[],
    examples: &[
        "(params.toml)",
        "  manifest = \"pipelines/manifests/pythia-steer.toml\"",
        "  dirs = \"../shared/data/lm-eval-real/lm_evals/pythia-*\"",
        "  metric = \"acc\"",
        "",
        "cod-ingest-lm-eval-results --params params.toml --output runs.bin",
    ],
};
