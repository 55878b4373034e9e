//! Training-run exports: one CSV (or Parquet) file per run, one row per evaluated checkpoint, with
//! columns for the step, the tokens seen and each task's metrics, as wandb exports them. The OLMo
//! ladder's column names are the shipped preset; every name is configurable.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use cod_artifact::{RUN_WIDE, Role, Series, TaskSource, TrainingRun, TrainingRuns};
use polars::prelude::{DataFrame, StringChunked};
use serde::{Deserialize, Serialize};

use crate::tidy::{Located, read_frame, text_column};

/// A runs manifest as written: one `[[run]]` table per run.
///
/// ```toml
/// [[run]]
/// name = "190M-1xC"
/// file = "190M-1xC.csv"   # relative to the stage's `dir`
/// params = 190354176       # N
/// tokens = 3.8e9           # optional D; else the last checkpoint's tokens
/// role = "ladder"          # ladder (default) or target
/// monitor = false          # true: a target's trajectory, checked against the predicted curve
/// ```
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunsManifest {
    #[serde(default)]
    run: Vec<RunEntry>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunEntry {
    pub name: String,
    pub file: PathBuf,
    pub params: f64,
    #[serde(default)]
    pub tokens: Option<f64>,
    #[serde(default = "ladder_role")]
    pub role: Role,
    /// A target's whole training trajectory, monitored against the predicted curve.
    #[serde(default)]
    pub monitor: bool,
}

fn ladder_role() -> Role {
    Role::Ladder
}

/// Reads and checks a runs manifest.
pub fn read_runs_manifest(path: &Path) -> anyhow::Result<Vec<RunEntry>> {
    let at = |msg: String| anyhow::anyhow!("`{}`: {msg}", path.display());
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    let manifest: RunsManifest = toml::from_str(&text).map_err(|err| {
        at(format!(
            "invalid runs manifest: {}",
            cod_pipeline::clip(err.to_string().trim_end())
        ))
    })?;
    if manifest.run.is_empty() {
        return Err(at(
            "no runs: expected `[[run]]` tables with `name`, `file`, `params`".to_owned(),
        ));
    }
    let mut seen = HashSet::new();
    for (i, run) in manifest.run.iter().enumerate() {
        let which = format!("run {} (`{}`)", i + 1, run.name);
        if run.name.trim().is_empty() || run.name == RUN_WIDE {
            return Err(at(format!(
                "run {}: `name` must be a non-empty name other than `*`",
                i + 1
            )));
        }
        if !seen.insert(run.name.as_str()) {
            return Err(at(format!("{which}: `name` repeats an earlier run")));
        }
        for (field, value) in [("params", Some(run.params)), ("tokens", run.tokens)] {
            if let Some(v) = value
                && !(v.is_finite() && v > 0.0)
            {
                return Err(at(format!(
                    "{which}: `{field}` must be a positive number, found {v}"
                )));
            }
        }
        if run.monitor && run.role != Role::Target {
            return Err(at(format!(
                "{which}: `monitor = true` needs `role = \"target\"`"
            )));
        }
        if run.role == Role::Anchor {
            return Err(at(format!(
                "{which}: role must be `ladder` or `target`, found `anchor`"
            )));
        }
    }
    Ok(manifest.run)
}

/// Column names in a run file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnNames {
    /// The training step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// Tokens seen so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<String>,
    /// Tokens per step, used with `step` when `tokens` is absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_tokens: Option<String>,
    /// Metric name → column pattern; `{task}` stands for the task's source name. A pattern without
    /// `{task}` is a run-wide metric (e.g. a validation loss).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, MetricColumn>,
}

/// Where a metric comes from: a column pattern, optionally negated (TaskCE is −log p) or
/// complemented (1 − p, an error rate from a probability).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MetricColumn {
    Column(String),
    Spec {
        column: String,
        #[serde(default)]
        negate: bool,
        #[serde(default)]
        complement: bool,
    },
}

impl MetricColumn {
    fn pattern(&self) -> &str {
        match self {
            MetricColumn::Column(c) | MetricColumn::Spec { column: c, .. } => c,
        }
    }
    /// The metric's value from the column's: −v when negated, 1 − v when complemented (both:
    /// v − 1).
    fn apply(&self, v: f64) -> f64 {
        match self {
            MetricColumn::Column(_) => v,
            MetricColumn::Spec {
                negate, complement, ..
            } => {
                let v = if *negate { -v } else { v };
                if *complement { 1.0 - v } else { v }
            }
        }
    }
}

/// Shipped column-name presets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// The OLMo ladder's wandb exports (`_step`, `throughput/total_tokens`,
    /// `eval/downstream_bpb/{task}_rc_5shot_bpb`, `eval/downstream/{task}_rc_5shot_len_norm`, …).
    #[default]
    Olmo,
    /// No names: every column comes from `columns`.
    None,
}

impl Preset {
    fn columns(self) -> ColumnNames {
        match self {
            Preset::None => ColumnNames::default(),
            Preset::Olmo => {
                let metrics = [
                    (
                        "loss",
                        MetricColumn::Column("eval/downstream_bpb/{task}_rc_5shot_bpb".into()),
                    ),
                    (
                        "accuracy",
                        MetricColumn::Column("eval/downstream/{task}_rc_5shot_len_norm".into()),
                    ),
                    (
                        "task-ce",
                        MetricColumn::Spec {
                            column: "eval/downstream_soft_log/{task}_rc_5shot_soft_log".into(),
                            negate: true,
                            complement: false,
                        },
                    ),
                    (
                        "soft-error",
                        MetricColumn::Spec {
                            column: "eval/downstream_soft/{task}_rc_5shot_soft".into(),
                            negate: false,
                            complement: true,
                        },
                    ),
                    (
                        "c4-loss",
                        MetricColumn::Column("eval/c4_en-validation/CrossEntropyLoss".into()),
                    ),
                ];
                ColumnNames {
                    step: Some("_step".into()),
                    tokens: Some("throughput/total_tokens".into()),
                    batch_tokens: Some("batch_size_in_tokens".into()),
                    metrics: metrics
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect(),
                }
            }
        }
    }

    /// The preset's names with `overrides` on top.
    #[must_use]
    pub fn with(self, overrides: &ColumnNames) -> ColumnNames {
        let mut columns = self.columns();
        if overrides.step.is_some() {
            columns.step.clone_from(&overrides.step);
        }
        if overrides.tokens.is_some() {
            columns.tokens.clone_from(&overrides.tokens);
        }
        if overrides.batch_tokens.is_some() {
            columns.batch_tokens.clone_from(&overrides.batch_tokens);
        }
        columns.metrics.extend(
            overrides
                .metrics
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        columns
    }
}

/// A task as declared in the pipeline file: its source name in the columns (default: its name),
/// or a weighted composite of several sources.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Source → weight; the task is the weighted mean of the sources per checkpoint.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parts: BTreeMap<String, f64>,
}

impl TaskSpec {
    fn source(&self) -> anyhow::Result<TaskSource> {
        let parts: Vec<(String, f64)> = match (&self.source, self.parts.is_empty()) {
            (Some(_), false) => {
                bail!("task `{}`: give `source` or `parts`, not both", self.name)
            }
            (source, true) => vec![(source.clone().unwrap_or_else(|| self.name.clone()), 1.0)],
            (None, false) => self.parts.iter().map(|(s, &w)| (s.clone(), w)).collect(),
        };
        if let Some((s, w)) = parts.iter().find(|(_, w)| !(w.is_finite() && *w > 0.0)) {
            bail!(
                "task `{}`: the weight of `{s}` must be positive, found {w}",
                self.name
            );
        }
        let total: f64 = parts.iter().map(|(_, w)| w).sum();
        Ok(TaskSource {
            name: self.name.clone(),
            parts: parts.into_iter().map(|(s, w)| (s, w / total)).collect(),
        })
    }
}

/// Reads every run of `manifest` (files relative to `dir`).
pub fn read_runs(
    dir: &Path,
    runs: &[RunEntry],
    columns: &ColumnNames,
    tasks: &[TaskSpec],
) -> anyhow::Result<TrainingRuns> {
    if tasks.is_empty() {
        bail!(
            "no tasks: declare `[[ingest.tasks]]` tables with a `name` (and `source` or `parts`)"
        );
    }
    let mut seen = HashSet::new();
    let mut sources = Vec::new();
    for t in tasks {
        if !seen.insert(t.name.as_str()) || t.name == RUN_WIDE {
            bail!(
                "task `{}` is declared twice or uses the reserved name `*`",
                t.name
            );
        }
        sources.push(t.source()?);
    }
    let runs = runs
        .iter()
        .map(|entry| read_run(&dir.join(&entry.file), entry, columns, &sources))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(TrainingRuns {
        tasks: sources,
        runs,
        warnings: Vec::new(),
    })
}

/// One file's columns as text, for parsing cell by cell with locations.
struct RunFile<'a> {
    df: DataFrame,
    loc: Located<'a>,
}

impl RunFile<'_> {
    fn has(&self, column: &str) -> bool {
        self.df
            .get_column_names()
            .iter()
            .any(|n| n.as_str() == column)
    }

    /// The column parsed as finite numbers, in file order.
    fn numbers(&self, column: &str) -> anyhow::Result<Vec<f64>> {
        let text: StringChunked = text_column(&self.df, column)?;
        (0..self.df.height())
            .map(|row| {
                let cell = text.get(row).map_or("", str::trim);
                if cell.is_empty() {
                    bail!(
                        "{}: column `{column}` is empty; expected a number",
                        self.loc.at(row)
                    );
                }
                match cell.parse::<f64>() {
                    Ok(v) if v.is_finite() => Ok(v),
                    _ => bail!(
                        "{}: column `{column}` must be a finite number, found `{}`",
                        self.loc.at(row),
                        cod_pipeline::shorten(cell)
                    ),
                }
            })
            .collect()
    }
}

fn read_run<'c>(
    path: &Path,
    entry: &RunEntry,
    columns: &'c ColumnNames,
    tasks: &[TaskSource],
) -> anyhow::Result<TrainingRun> {
    let (df, format) = read_frame(path)?;
    let file = RunFile {
        df,
        loc: Located::new(path, format),
    };
    let height = file.df.height();
    if height == 0 {
        bail!(
            "`{}`: no rows; expected one row per evaluated checkpoint",
            path.display()
        );
    }
    let present =
        |c: &'c Option<String>| -> Option<&'c str> { c.as_deref().filter(|c| file.has(c)) };

    // Checkpoint order: by step when there is a step column, else file order.
    let steps: Option<Vec<u64>> = match present(&columns.step) {
        Some(col) => Some(
            file.numbers(col)?
                .into_iter()
                .enumerate()
                .map(|(row, v)| {
                    if v >= 0.0 && v.fract() == 0.0 {
                        Ok(v as u64)
                    } else {
                        bail!(
                            "{}: `{col}` must be a whole step number, found {v}",
                            file.loc.at(row)
                        )
                    }
                })
                .collect::<anyhow::Result<_>>()?,
        ),
        None => None,
    };
    let mut order: Vec<usize> = (0..height).collect();
    if let Some(steps) = &steps {
        order.sort_by_key(|&row| steps[row]);
        for pair in order.windows(2) {
            if steps[pair[0]] == steps[pair[1]] {
                bail!(
                    "{} and line {}: step {} appears twice",
                    file.loc.at(pair[0].min(pair[1])),
                    pair[0].max(pair[1]) + 2,
                    steps[pair[0]]
                );
            }
        }
    }
    let reorder = |v: Vec<f64>| -> Vec<f64> { order.iter().map(|&row| v[row]).collect() };

    let (checkpoint_tokens, tokens_from) = match (
        present(&columns.tokens),
        present(&columns.step),
        present(&columns.batch_tokens),
    ) {
        (Some(col), _, _) => (reorder(file.numbers(col)?), format!("column `{col}`")),
        (None, Some(step), Some(batch)) => {
            let s = file.numbers(step)?;
            let b = file.numbers(batch)?;
            (
                reorder(s.iter().zip(&b).map(|(s, b)| s * b).collect()),
                format!("`{step}` × `{batch}`"),
            )
        }
        _ => bail!(
            "`{}`: no tokens per checkpoint: expected a column {}, or {} and {}",
            path.display(),
            name_or_unset(columns.tokens.as_ref()),
            name_or_unset(columns.step.as_ref()),
            name_or_unset(columns.batch_tokens.as_ref()),
        ),
    };
    let last_tokens = *checkpoint_tokens.last().expect("at least one row");
    let (tokens, tokens_from) = match entry.tokens {
        Some(d) => (
            d,
            format!("manifest; checkpoints from {tokens_from} (last {last_tokens})"),
        ),
        None => (last_tokens, tokens_from),
    };

    let (series, missing) = read_series(&file, columns, tasks, &reorder)?;
    Ok(TrainingRun {
        name: entry.name.clone(),
        role: entry.role,
        monitor: entry.monitor,
        source: path.display().to_string(),
        params: entry.params,
        tokens,
        tokens_from,
        steps: steps.map(|s| order.iter().map(|&row| s[row]).collect()),
        checkpoint_tokens,
        series,
        missing,
    })
}

/// Every configured metric of every task (and the run-wide ones), in checkpoint order, and the
/// `(task, metric, column)` the file lacks.
#[allow(clippy::type_complexity)]
fn read_series(
    file: &RunFile,
    columns: &ColumnNames,
    tasks: &[TaskSource],
    reorder: &dyn Fn(Vec<f64>) -> Vec<f64>,
) -> anyhow::Result<(Vec<Series>, Vec<(String, String, String)>)> {
    let height = file.df.height();
    let mut series = Vec::new();
    let mut missing = Vec::new();
    for (metric, spec) in &columns.metrics {
        let pattern = spec.pattern();
        if !pattern.contains("{task}") {
            if file.has(pattern) {
                let values = file
                    .numbers(pattern)?
                    .into_iter()
                    .map(|v| spec.apply(v))
                    .collect();
                series.push(Series {
                    task: RUN_WIDE.to_owned(),
                    metric: metric.clone(),
                    values: reorder(values),
                });
            } else {
                missing.push((RUN_WIDE.to_owned(), metric.clone(), pattern.to_owned()));
            }
            continue;
        }
        for task in tasks {
            let mut values = vec![0.0; height];
            let mut absent = None;
            for (source, weight) in &task.parts {
                let column = pattern.replace("{task}", source);
                if !file.has(&column) {
                    absent = Some(column);
                    break;
                }
                for (v, x) in values.iter_mut().zip(file.numbers(&column)?) {
                    *v += weight * spec.apply(x);
                }
            }
            match absent {
                Some(column) => missing.push((task.name.clone(), metric.clone(), column)),
                None => series.push(Series {
                    task: task.name.clone(),
                    metric: metric.clone(),
                    values: reorder(values),
                }),
            }
        }
    }
    Ok((series, missing))
}

fn name_or_unset(name: Option<&String>) -> String {
    name.map_or_else(|| "(unset)".to_owned(), |n| format!("`{n}`"))
}

#[cfg(test)]
mod tests {
    use super::MetricColumn;

    #[test]
    fn metric_columns_negate_and_complement() {
        let spec = |negate, complement| MetricColumn::Spec {
            column: "c".to_owned(),
            negate,
            complement,
        };
        // Every value here is a sum of powers of 2: the arithmetic is exact.
        let exact = |got: f64, want: f64| assert!((got - want).abs() < 1e-15, "{got} vs {want}");
        exact(MetricColumn::Column("c".to_owned()).apply(0.25), 0.25);
        exact(spec(false, false).apply(0.25), 0.25);
        exact(spec(true, false).apply(0.25), -0.25);
        exact(spec(false, true).apply(0.25), 0.75);
        exact(spec(true, true).apply(-0.25), 0.75);
        let parsed: MetricColumn =
            toml::from_str::<toml::Table>("m = { column = \"x/{task}\", complement = true }")
                .unwrap()["m"]
                .clone()
                .try_into()
                .unwrap();
        let want = MetricColumn::Spec {
            column: "x/{task}".to_owned(),
            negate: false,
            complement: true,
        };
        assert_eq!(parsed, want);
    }
}
