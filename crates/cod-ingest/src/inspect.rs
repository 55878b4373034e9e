//! `cod ingest inspect` and `cod init`: what a source holds, before a pipeline file exists, and a
//! starter pipeline for it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde_json::Value;

use crate::lm_eval::{reported_params, samples_files};
use crate::tidy::{read_frame, text_column};

/// What a source is and holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Inspection {
    /// lm-evaluation-harness output: one directory per model.
    LmEval {
        root: PathBuf,
        /// Model directory name → (tasks, records, parameter count reported by the harness).
        models: BTreeMap<String, (usize, usize, Option<f64>)>,
        tasks: BTreeSet<String>,
        filters: BTreeSet<String>,
        metrics: BTreeSet<String>,
        /// The record layouts found, by harness version (see [`crate::lm_eval::layout`]).
        layouts: BTreeSet<String>,
    },
    /// lm-evaluation-harness aggregate results (`results_*.json`): one directory per model.
    LmEvalResults {
        root: PathBuf,
        /// Model directory name → (results files, parameter count the harness reports).
        models: BTreeMap<String, (usize, Option<f64>)>,
        tasks: BTreeSet<String>,
        /// Metric keys as written (`acc,none`, `acc_norm`).
        metrics: BTreeSet<String>,
    },
    /// A tidy per-item table.
    Tidy {
        path: PathBuf,
        benchmarks: BTreeMap<String, usize>,
        models: BTreeSet<String>,
        rows: usize,
        samples: (u64, u64),
    },
    /// An aggregate score table.
    Scores {
        path: PathBuf,
        benchmarks: BTreeSet<String>,
        models: BTreeSet<String>,
        rows: usize,
        columns: Vec<String>,
    },
    /// Training-run exports (wandb CSVs): one file per run.
    Runs {
        dir: PathBuf,
        files: Vec<(String, usize)>,
        /// Task names found in the OLMo preset's loss columns.
        tasks: BTreeSet<String>,
    },
}

/// Looks at `path` and says what it holds.
pub fn inspect(path: &Path) -> anyhow::Result<Inspection> {
    if path.is_dir() {
        return inspect_dir(path);
    }
    if !path.is_file() {
        bail!("`{}`: no such file or directory", path.display());
    }
    let (df, _) = read_frame(path)?;
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(ToString::to_string)
        .collect();
    let has = |c: &str| names.iter().any(|n| n == c);
    let distinct = |c: &str| -> anyhow::Result<Vec<String>> {
        let col = text_column(&df, c)?;
        Ok((0..col.len())
            .filter_map(|i| col.get(i))
            .map(str::to_owned)
            .collect())
    };
    if has("n_correct") && has("benchmark") && has("item") && has("model") {
        let bench = distinct("benchmark")?;
        let items = distinct("item")?;
        let mut per_bench: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (b, i) in bench.iter().zip(&items) {
            per_bench.entry(b.clone()).or_default().insert(i.clone());
        }
        let samples: Vec<u64> = distinct("n_samples")?
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect();
        return Ok(Inspection::Tidy {
            path: path.to_owned(),
            benchmarks: per_bench.into_iter().map(|(b, i)| (b, i.len())).collect(),
            models: distinct("model")?.into_iter().collect(),
            rows: df.height(),
            samples: (
                samples.iter().copied().min().unwrap_or(0),
                samples.iter().copied().max().unwrap_or(0),
            ),
        });
    }
    if has("accuracy") && has("benchmark") && has("model") {
        return Ok(Inspection::Scores {
            path: path.to_owned(),
            benchmarks: distinct("benchmark")?.into_iter().collect(),
            models: distinct("model")?.into_iter().collect(),
            rows: df.height(),
            columns: names,
        });
    }
    bail!(
        "`{}`: not a table cod reads; expected a tidy table (benchmark,item,model,n_samples,\
         n_correct) or a score table (model,benchmark,accuracy), found columns {}",
        path.display(),
        names.join(",")
    )
}

fn inspect_dir(dir: &Path) -> anyhow::Result<Inspection> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list `{}`", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    let mut models = BTreeMap::new();
    let (mut tasks, mut filters, mut metrics) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    let mut layouts = BTreeSet::new();
    let mut model_dirs = vec![dir.to_path_buf()];
    model_dirs.extend(entries.iter().filter(|p| p.is_dir()).cloned());
    for model_dir in &model_dirs {
        let (samples, _) = samples_files(model_dir)?;
        if samples.is_empty() {
            continue;
        }
        let mut records = 0;
        for s in &samples {
            tasks.insert(s.task.clone());
            let text = std::fs::read_to_string(&s.path).unwrap_or_default();
            let text = text.trim_start_matches('\u{feff}');
            let parsed: Vec<Value> = if text.trim_start().starts_with('[') {
                serde_json::from_str(text).unwrap_or_default()
            } else {
                text.lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
                    .collect()
            };
            if let Some(first) = parsed.first() {
                layouts.insert(crate::lm_eval::layout(&s.path, text, first).to_owned());
            }
            for (i, record) in parsed.iter().enumerate() {
                records += 1;
                if i < 100 || i % 50 == 0 {
                    if let Some(Value::String(f)) = record.get("filter") {
                        filters.insert(f.clone());
                    }
                    if let Some(Value::Array(ms)) = record.get("metrics") {
                        metrics.extend(ms.iter().filter_map(Value::as_str).map(str::to_owned));
                    }
                }
            }
        }
        let name = model_dir
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        models.insert(
            name,
            (
                samples.len(),
                records,
                reported_params(model_dir).ok().flatten().map(|(_, n)| n),
            ),
        );
    }
    if !models.is_empty() {
        return Ok(Inspection::LmEval {
            root: dir.to_owned(),
            models,
            tasks,
            filters,
            metrics,
            layouts,
        });
    }
    if let Some(results) = inspect_results(dir, &entries)? {
        return Ok(results);
    }
    if let Some(runs) = inspect_run_files(dir, &entries) {
        return Ok(runs);
    }
    bail!(
        "`{}`: found no lm-eval samples files (`samples_<task>_<timestamp>.jsonl`, here or one \
         directory down), no lm-eval results files (`results_*.json` below a folder per model) \
         and no training-run CSVs (with `_step` or `throughput/total_tokens`)",
        dir.display()
    )
}

/// The training-run CSVs in `dir` (files with `_step` or `throughput/total_tokens`), if any.
fn inspect_run_files(dir: &Path, entries: &[PathBuf]) -> Option<Inspection> {
    let mut files = Vec::new();
    let mut run_tasks = BTreeSet::new();
    for path in entries
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")))
    {
        let Ok((df, _)) = read_frame(path) else {
            continue;
        };
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(ToString::to_string)
            .collect();
        if !names
            .iter()
            .any(|n| n == "_step" || n == "throughput/total_tokens")
        {
            continue;
        }
        for n in &names {
            if let Some(task) = n
                .strip_prefix("eval/downstream_bpb/")
                .and_then(|t| t.strip_suffix("_rc_5shot_bpb"))
            {
                run_tasks.insert(task.to_owned());
            }
        }
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        files.push((name, df.height()));
    }
    (!files.is_empty()).then(|| Inspection::Runs {
        dir: dir.to_owned(),
        files,
        tasks: run_tasks,
    })
}

/// Results files below each subdirectory of `dir` (a folder per model), if any has some.
fn inspect_results(dir: &Path, entries: &[PathBuf]) -> anyhow::Result<Option<Inspection>> {
    let mut models = BTreeMap::new();
    let (mut tasks, mut metrics) = (BTreeSet::new(), BTreeSet::new());
    for model_dir in entries.iter().filter(|p| p.is_dir()) {
        let files = crate::results::results_files_below(model_dir)?;
        if files.is_empty() {
            continue;
        }
        let mut params = None;
        for file in &files {
            let Some(value) = std::fs::read_to_string(file)
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            else {
                continue;
            };
            if let Some(results) = value.get("results").and_then(Value::as_object) {
                for (task, m) in results {
                    tasks.insert(task.clone());
                    if let Some(m) = m.as_object() {
                        metrics.extend(
                            m.iter()
                                .filter(|(k, v)| v.is_number() && !k.contains("stderr"))
                                .map(|(k, _)| k.clone()),
                        );
                    }
                }
            }
            params = crate::results::model_num_parameters(&value).or(params);
        }
        let name = model_dir
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        models.insert(name, (files.len(), params));
    }
    Ok((!models.is_empty()).then(|| Inspection::LmEvalResults {
        root: dir.to_owned(),
        models,
        tasks,
        metrics,
    }))
}

/// Task-name prefixes shared by several tasks (`mmlu_` for `mmlu_anatomy`, `mmlu_virology`):
/// candidate groups.
fn groups(tasks: &BTreeSet<String>) -> BTreeMap<String, usize> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for t in tasks {
        if let Some((prefix, _)) = t.split_once('_') {
            *counts.entry(prefix.to_owned()).or_default() += 1;
        }
    }
    counts.retain(|_, n| *n > 1);
    counts
}

fn list<'a>(items: impl IntoIterator<Item = &'a String>, max: usize) -> String {
    let items: Vec<&String> = items.into_iter().collect();
    let shown: Vec<&str> = items.iter().take(max).map(|s| s.as_str()).collect();
    let more = items.len().saturating_sub(max);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

impl Inspection {
    /// A readable summary.
    #[must_use]
    #[allow(clippy::too_many_lines)] // one arm per kind of source
    pub fn summary(&self) -> String {
        let mut out = String::new();
        match self {
            Inspection::LmEval {
                root,
                models,
                tasks,
                filters,
                metrics,
                layouts,
            } => {
                let _ = writeln!(
                    out,
                    "`{}`: lm-evaluation-harness sample logs, {} models, {} tasks",
                    root.display(),
                    models.len(),
                    tasks.len()
                );
                let _ = writeln!(out, "  layout: {}", list(layouts, 4));
                for (name, (files, records, params)) in models {
                    let params =
                        params.map_or_else(|| "not reported".to_owned(), |p| format!("{p:.4e}"));
                    let _ = writeln!(
                        out,
                        "  model {name}: {files} samples files, {records} records, parameters {params}"
                    );
                }
                let _ = writeln!(out, "  tasks: {}", list(tasks, 12));
                for (prefix, n) in groups(tasks) {
                    let _ = writeln!(out, "  group candidate: `{prefix}_*` ({n} tasks)");
                }
                let _ = writeln!(out, "  filters: {}", list(filters, 8));
                let _ = writeln!(out, "  metrics: {}", list(metrics, 8));
            }
            Inspection::LmEvalResults {
                root,
                models,
                tasks,
                metrics,
            } => {
                let _ = writeln!(
                    out,
                    "`{}`: lm-evaluation-harness results files (aggregate scores), {} models, {} tasks",
                    root.display(),
                    models.len(),
                    tasks.len()
                );
                for (name, (files, params)) in models {
                    let params = params.map_or_else(
                        || "not reported".to_owned(),
                        |p| format!("{p:.4e} (with embeddings)"),
                    );
                    let _ = writeln!(
                        out,
                        "  model {name}: {files} results files, parameters {params}"
                    );
                }
                let _ = writeln!(out, "  tasks: {}", list(tasks, 12));
                let _ = writeln!(out, "  metrics: {}", list(metrics, 8));
            }
            Inspection::Tidy {
                path,
                benchmarks,
                models,
                rows,
                samples,
            } => {
                let items: usize = benchmarks.values().sum();
                let _ = writeln!(
                    out,
                    "`{}`: tidy per-item table, {rows} rows, {} benchmarks, {items} items, {} models, {}..{} samples per cell",
                    path.display(),
                    benchmarks.len(),
                    models.len(),
                    samples.0,
                    samples.1
                );
                for (b, n) in benchmarks.iter().take(12) {
                    let _ = writeln!(out, "  benchmark {b}: {n} items");
                }
                let _ = writeln!(out, "  models: {}", list(models, 20));
            }
            Inspection::Scores {
                path,
                benchmarks,
                models,
                rows,
                columns,
            } => {
                let _ = writeln!(
                    out,
                    "`{}`: aggregate score table, {rows} rows, {} benchmarks, {} models; columns {}",
                    path.display(),
                    benchmarks.len(),
                    models.len(),
                    columns.join(",")
                );
                let _ = writeln!(out, "  benchmarks: {}", list(benchmarks, 12));
                let _ = writeln!(out, "  models: {}", list(models, 20));
            }
            Inspection::Runs { dir, files, tasks } => {
                let _ = writeln!(
                    out,
                    "`{}`: training-run exports, {} runs",
                    dir.display(),
                    files.len()
                );
                for (f, rows) in files {
                    let _ = writeln!(out, "  {f}: {rows} checkpoints");
                }
                let _ = writeln!(
                    out,
                    "  tasks with a task loss (OLMo column names): {}",
                    list(tasks, 40)
                );
            }
        }
        out
    }

    /// A starter pipeline file (and the manifest it names) for this source. Values the source
    /// does not give (tokens, most parameter counts) are left as `0.0`, which the manifest reader
    /// rejects with the field's name until they are filled in. Both files are built as TOML
    /// values, so any name or path stays valid TOML.
    #[must_use]
    pub fn starter(&self, name: &str, source: &str) -> (String, String) {
        let manifest_path = format!("manifests/{name}.toml");
        let mut ingest = toml::Table::new();
        let mut entries: Vec<toml::Value> = Vec::new();
        let mut entry_kind = "model";
        let mut notes: Vec<String> = Vec::new();
        let per_item = match self {
            Inspection::LmEval {
                models,
                tasks,
                filters,
                ..
            } => {
                entries.extend(models.iter().map(|(m, (_, _, p))| model_entry(m, *p, None)));
                ingest.insert("stage".into(), "ingest-lm-eval".into());
                ingest.insert("manifest".into(), manifest_path.clone().into());
                ingest.insert("dirs".into(), format!("{source}/*").into());
                if filters.len() > 1 {
                    let first = filters.iter().next().expect("several");
                    ingest.insert("filter".into(), first.clone().into());
                    notes.push(format!("`ingest.filter`: one of {}", list(filters, 8)));
                }
                let groups: toml::Table = groups(tasks)
                    .keys()
                    .map(|p| {
                        let prefixes = toml::Value::Array(vec![format!("{p}_").into()]);
                        (p.clone(), prefixes)
                    })
                    .collect();
                ingest.insert("groups".into(), groups.into());
                true
            }
            Inspection::LmEvalResults {
                models, metrics, ..
            } => {
                entries.extend(models.iter().map(|(m, (_, p))| model_entry(m, *p, None)));
                ingest.insert("stage".into(), "ingest-lm-eval-results".into());
                ingest.insert("manifest".into(), manifest_path.clone().into());
                ingest.insert("dirs".into(), format!("{source}/*").into());
                let plain: BTreeSet<&str> = metrics
                    .iter()
                    .map(|m| m.split(',').next().unwrap_or(m))
                    .collect();
                let metric = if plain.contains("acc") {
                    "acc"
                } else {
                    plain.iter().next().copied().unwrap_or("acc")
                };
                ingest.insert("metric".into(), metric.into());
                if plain.len() > 1 {
                    notes.push(format!(
                        "`ingest.metric`: one of {}",
                        plain.iter().copied().collect::<Vec<_>>().join(", ")
                    ));
                }
                let reported = models.values().filter(|(_, p)| p.is_some()).count();
                notes.push(format!(
                    "params of {reported} of {} models are the results files' \
                     `model_num_parameters`, which counts embeddings",
                    models.len()
                ));
                false
            }
            Inspection::Tidy { models, .. } => {
                entries.extend(models.iter().map(|m| model_entry(m, None, None)));
                ingest.insert("path".into(), source.into());
                ingest.insert("manifest".into(), manifest_path.clone().into());
                true
            }
            Inspection::Scores { models, .. } => {
                entries.extend(models.iter().map(|m| model_entry(m, None, None)));
                ingest.insert("stage".into(), "ingest-scores".into());
                ingest.insert("path".into(), source.into());
                ingest.insert("manifest".into(), manifest_path.clone().into());
                false
            }
            Inspection::Runs { files, tasks, .. } => {
                entry_kind = "run";
                entries.extend(
                    files
                        .iter()
                        .map(|(f, _)| model_entry(f.trim_end_matches(".csv"), None, Some(f))),
                );
                ingest.insert("stage".into(), "ingest-runs".into());
                ingest.insert("dir".into(), source.into());
                ingest.insert("manifest".into(), manifest_path.clone().into());
                ingest.insert("preset".into(), "olmo".into());
                let tasks: Vec<toml::Value> = tasks
                    .iter()
                    .map(|t| {
                        toml::Value::Table(toml::Table::from_iter([(
                            "name".into(),
                            t.clone().into(),
                        )]))
                    })
                    .collect();
                ingest.insert("tasks".into(), tasks.into());
                false
            }
        };
        let stage = |inputs: &[&str], kind: Option<&str>| {
            let mut t = toml::Table::new();
            if let Some(kind) = kind {
                t.insert("stage".into(), kind.into());
            }
            let inputs: Vec<toml::Value> = inputs.iter().map(|&i| i.into()).collect();
            t.insert("inputs".into(), inputs.into());
            toml::Value::Table(t)
        };
        let mut doc = toml::Table::new();
        doc.insert(
            "pipeline".into(),
            toml::Table::from_iter([("description".into(), name.into())]).into(),
        );
        doc.insert("ingest".into(), ingest.into());
        if per_item {
            doc.insert("features".into(), stage(&["ingest"], None));
            doc.insert("cluster".into(), stage(&["features"], None));
            doc.insert(
                "fit".into(),
                stage(&["ingest", "features", "cluster"], None),
            );
            doc.insert("map".into(), stage(&["ingest", "cluster", "fit"], None));
            doc.insert("backtest".into(), stage(&["ingest"], None));
        } else {
            doc.insert("ladder".into(), stage(&["ingest"], None));
            doc.insert(
                "backtest".into(),
                stage(&["ingest"], Some("ladder-backtest")),
            );
        }
        let mut header = format!(
            "# Written by `cod init`; see the README's pipeline file reference. The backtest\n\
             # re-runs the pipeline's own stages with their parameters: `cod backtest {name}`.\n"
        );
        for note in notes {
            let _ = writeln!(header, "# {note}");
        }
        let still_missing = missing_values(&entries);
        let manifest =
            toml::Table::from_iter([(entry_kind.to_owned(), toml::Value::Array(entries))]);
        (
            format!(
                "{header}\n{}",
                toml::to_string(&doc).expect("tables of strings")
            ),
            format!(
                "# Models of this pipeline. Fill in every 0.0: parameters N, training tokens D\n\
                 # (or flops), and mark the model to predict with role = \"target\".\n\
                 # Still missing: {still_missing}.\n\n{}",
                toml::to_string(&manifest).expect("tables of strings and numbers")
            ),
        )
    }
}

/// Which values of a starter manifest's entries are still `0.0`: "tokens of every model; params
/// of `a`, `b`", say.
fn missing_values(entries: &[toml::Value]) -> String {
    let mut parts = Vec::new();
    for field in ["params", "tokens"] {
        let zero: Vec<String> = entries
            .iter()
            .filter(|e| e.get(field).and_then(toml::Value::as_float) == Some(0.0))
            .filter_map(|e| e.get("name").and_then(toml::Value::as_str))
            .map(|n| format!("`{n}`"))
            .collect();
        if zero.is_empty() {
            continue;
        }
        if zero.len() == entries.len() {
            parts.push(format!("{field} of every model"));
        } else {
            parts.push(format!("{field} of {}", zero.join(", ")));
        }
    }
    if parts.is_empty() {
        "nothing but the target's role".to_owned()
    } else {
        parts.join("; ")
    }
}

/// A `[[model]]` or `[[run]]` entry of a starter manifest.
fn model_entry(name: &str, params: Option<f64>, file: Option<&str>) -> toml::Value {
    let mut t = toml::Table::new();
    t.insert("name".into(), name.into());
    if let Some(f) = file {
        t.insert("file".into(), f.into());
    }
    t.insert("params".into(), params.unwrap_or(0.0).into());
    if file.is_none() {
        t.insert("tokens".into(), 0.0.into());
    }
    t.insert("role".into(), "ladder".into());
    toml::Value::Table(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Paths and model names with TOML's special characters stay valid TOML, and read back as
    /// they were.
    #[test]
    fn starter_files_are_valid_toml_for_any_path_or_model() {
        let inspection = Inspection::Tidy {
            path: PathBuf::from("x"),
            benchmarks: BTreeMap::new(),
            models: BTreeSet::from(["m \"1\"\\".to_owned()]),
            rows: 0,
            samples: (0, 0),
        };
        let (pipeline, manifest) = inspection.starter("mine", "../data/a \"b\"\\c.csv");
        let pipeline: toml::Table = pipeline.parse().unwrap();
        assert_eq!(
            pipeline["ingest"]["path"].as_str(),
            Some("../data/a \"b\"\\c.csv")
        );
        assert_eq!(pipeline["backtest"]["inputs"][0].as_str(), Some("ingest"));
        let manifest: toml::Table = manifest.parse().unwrap();
        assert_eq!(manifest["model"][0]["name"].as_str(), Some("m \"1\"\\"));
        assert_eq!(manifest["model"][0]["params"].as_float(), Some(0.0));
    }
}
