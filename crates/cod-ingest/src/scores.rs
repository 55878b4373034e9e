//! Aggregate score tables, for users with only benchmark-level results: one row per (model,
//! benchmark[, checkpoint]) with `model,benchmark,accuracy` and optionally `loss`, `step` and
//! `tokens`, as CSV or Parquet. Each model becomes a training run of the `training-runs` artifact,
//! with one checkpoint per step (or per token count, or a single final one).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::bail;
use cod_artifact::{Model, Role, Series, TaskSource, TrainingRun, TrainingRuns};
use polars::prelude::StringChunked;

use crate::tidy::{Located, read_frame, text_column};

const REQUIRED: [&str; 3] = ["model", "benchmark", "accuracy"];
const OPTIONAL: [&str; 3] = ["loss", "step", "tokens"];

/// A checkpoint's sort key and tokens.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Checkpoint {
    order: f64,
    tokens: Option<f64>,
}

/// One checkpoint's values by benchmark: (accuracy, loss, row).
type ByTask = BTreeMap<String, (f64, Option<f64>, usize)>;

/// Values of one run, keyed by the bits of the checkpoint's order.
type RunValues = BTreeMap<u64, (Checkpoint, ByTask)>;

/// A table's rows: per model, its runs' values; the benchmarks; whether there are steps; rows of
/// unlisted models, counted by name.
type Rows = (Vec<RunValues>, Vec<String>, bool, BTreeMap<String, usize>);

/// Reads an aggregate score table against the manifest's models.
///
/// Rows of models the manifest does not list are skipped and counted in a warning, or with
/// `strict` an error.
pub fn read_scores(path: &Path, models: &[Model], strict: bool) -> anyhow::Result<TrainingRuns> {
    let (runs, tasks, has_steps, unlisted) = read_rows(path, models, strict)?;
    let mut out = Vec::new();
    for (values, model) in runs.into_iter().zip(models) {
        if values.is_empty() {
            if model.role == Role::Ladder {
                bail!(
                    "`{}`: no rows for ladder model `{}`",
                    path.display(),
                    model.name
                );
            }
            continue;
        }
        out.push(build_run(path, model, values, &tasks, has_steps)?);
    }
    Ok(TrainingRuns {
        tasks: tasks
            .into_iter()
            .map(|t| TaskSource {
                parts: vec![(t.clone(), 1.0)],
                name: t,
            })
            .collect(),
        runs: out,
        warnings: crate::tidy::unlisted_warning(&unlisted, "rows")
            .into_iter()
            .collect(),
    })
}

/// Every row, checked, grouped by model (manifest order) and checkpoint; the benchmarks in order
/// of appearance; whether there is a step column.
fn read_rows(path: &Path, models: &[Model], strict: bool) -> anyhow::Result<Rows> {
    let (df, format) = read_frame(path)?;
    let loc = Located::new(path, format);
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(ToString::to_string)
        .collect();
    crate::tidy::check_header(&names, &REQUIRED, &OPTIONAL, path)?;
    if df.height() == 0 {
        bail!("`{}`: no rows", path.display());
    }
    let text = |name: &str| -> anyhow::Result<Option<StringChunked>> {
        Ok(if names.iter().any(|n| n == name) {
            Some(text_column(&df, name)?)
        } else {
            None
        })
    };
    let (model, benchmark, accuracy) = (
        text("model")?.expect("checked"),
        text("benchmark")?.expect("checked"),
        text("accuracy")?.expect("checked"),
    );
    let (loss, step, tokens) = (text("loss")?, text("step")?, text("tokens")?);
    let cell = |col: &StringChunked, name: &str, row: usize| cell(&loc, col, name, row);
    let number = |col: &StringChunked, name: &str, row: usize| number(&loc, col, name, row);

    let index: HashMap<&str, usize> = models
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name.as_str(), i))
        .collect();
    let mut runs: Vec<RunValues> = vec![BTreeMap::new(); models.len()];
    let mut unlisted: BTreeMap<String, usize> = BTreeMap::new();
    let mut tasks: Vec<String> = Vec::new();
    for row in 0..df.height() {
        let name = cell(&model, "model", row)?;
        let Some(&m) = index.get(name.as_str()) else {
            if strict {
                bail!(
                    "{}: unknown model `{name}` (`strict = true`); the manifest lists {}",
                    loc.at(row),
                    crate::tidy::listed(models)
                );
            }
            *unlisted.entry(name).or_default() += 1;
            continue;
        };
        let bench = cell(&benchmark, "benchmark", row)?;
        let acc = number(&accuracy, "accuracy", row)?;
        if !(0.0..=1.0).contains(&acc) {
            bail!(
                "{}: `accuracy` must be a fraction in [0, 1], found {acc}",
                loc.at(row)
            );
        }
        let l = match &loss {
            Some(col) if col.get(row).is_some_and(|v| !v.trim().is_empty()) => Some(
                crate::tidy::checked_loss(&loc.at(row), number(col, "loss", row)?)?,
            ),
            _ => None,
        };
        let t = tokens
            .as_ref()
            .map(|c| number(c, "tokens", row))
            .transpose()?;
        let s = step.as_ref().map(|c| number(c, "step", row)).transpose()?;
        let order = s.or(t).unwrap_or(0.0);
        if !tasks.contains(&bench) {
            tasks.push(bench.clone());
        }
        let checkpoint = runs[m]
            .entry(order.to_bits())
            .or_insert_with(|| (Checkpoint { order, tokens: t }, BTreeMap::new()));
        if let Some(&(_, _, first)) = checkpoint.1.get(&bench) {
            bail!(
                "{}: duplicate result for model `{name}`, benchmark `{bench}`{}; first given at {}",
                loc.at(row),
                if s.is_some() || t.is_some() {
                    format!(" at checkpoint {order}")
                } else {
                    String::new()
                },
                loc.at(first)
            );
        }
        checkpoint.1.insert(bench, (acc, l, row));
    }

    Ok((runs, tasks, step.is_some(), unlisted))
}

/// One model's training run from its checkpoints.
fn build_run(
    path: &Path,
    model: &Model,
    values: RunValues,
    tasks: &[String],
    has_steps: bool,
) -> anyhow::Result<TrainingRun> {
    let mut checkpoints: Vec<(Checkpoint, ByTask)> = values.into_values().collect();
    checkpoints.sort_by(|a, b| a.0.order.total_cmp(&b.0.order));
    let checkpoint_tokens: Vec<f64> = if checkpoints.len() == 1 {
        vec![checkpoints[0].0.tokens.unwrap_or(model.tokens)]
    } else {
        checkpoints
            .iter()
            .map(|(c, _)| {
                c.tokens.ok_or_else(|| {
                    anyhow::anyhow!(
                        "`{}`: model `{}` has several checkpoints but no `tokens` column; \
                         tokens per checkpoint are needed and are not guessed",
                        path.display(),
                        model.name
                    )
                })
            })
            .collect::<anyhow::Result<_>>()?
    };
    let mut series = Vec::new();
    let mut missing = Vec::new();
    for task in tasks {
        let mut acc = Vec::new();
        let mut losses = Vec::new();
        for (c, by_task) in &checkpoints {
            let Some(&(a, l, _)) = by_task.get(task) else {
                bail!(
                    "`{}`: model `{}` has no `{task}` result at checkpoint {}; every checkpoint \
                     needs every benchmark",
                    path.display(),
                    model.name,
                    c.order
                );
            };
            acc.push(a);
            losses.push(l);
        }
        series.push(Series {
            task: task.clone(),
            metric: "accuracy".into(),
            values: acc,
        });
        match losses.into_iter().collect::<Option<Vec<f64>>>() {
            Some(values) => series.push(Series {
                task: task.clone(),
                metric: "loss".into(),
                values,
            }),
            None => missing.push((task.clone(), "loss".to_owned(), "loss".to_owned())),
        }
    }
    let single_untimed = checkpoints.len() == 1 && checkpoints[0].0.tokens.is_none();
    Ok(TrainingRun {
        name: model.name.clone(),
        role: model.role,
        monitor: false,
        source: path.display().to_string(),
        params: model.params,
        tokens: model.tokens,
        tokens_from: if single_untimed {
            "manifest".to_owned()
        } else {
            "column `tokens`; D from the manifest".to_owned()
        },
        steps: has_steps.then(|| checkpoints.iter().map(|(c, _)| c.order as u64).collect()),
        checkpoint_tokens,
        series,
        missing,
    })
}

/// A non-empty cell, trimmed.
fn cell(loc: &Located, col: &StringChunked, name: &str, row: usize) -> anyhow::Result<String> {
    crate::tidy::required_text(loc, col.get(row), name, row)
}

/// A cell holding a finite number.
fn number(loc: &Located, col: &StringChunked, name: &str, row: usize) -> anyhow::Result<f64> {
    let v = cell(loc, col, name, row)?;
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => bail!(
            "{}: `{name}` must be a finite number, found `{}`",
            loc.at(row),
            cod_pipeline::shorten(&v)
        ),
    }
}
