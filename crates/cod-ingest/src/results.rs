//! lm-evaluation-harness aggregate results (`results_<timestamp>.json`) into `training-runs`: one
//! run per model, accuracy per task at each checkpoint. Every harness version's results file is
//! read: metric keys plain (`acc`, before 0.4) or with a filter (`acc,none`); scores under
//! `results` and, for groups, under `groups`; `n-samples`; `config.model_num_parameters`.
//!
//! Layouts: one folder per model (every `results_*.json` below it is one checkpoint, the newest
//! file winning per task), or files matched by a pattern with `{model}` and `{step}` (one file,
//! or one folder, per checkpoint).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use cod_artifact::{Model, Role, Series, TaskSource, TrainingRun, TrainingRuns};
use serde_json::Value;

/// What to read from results files, and how.
#[derive(Clone, Debug, Default)]
pub struct ResultsOptions {
    /// The metric read as accuracy (`acc`, `acc_norm`, `exact_match`…), by task; `metric` for
    /// the rest.
    pub metric: String,
    pub metrics: BTreeMap<String, String>,
    /// The filter suffix of `metric,filter` keys, when a task has several.
    pub filter: Option<String>,
    /// The tasks to read; empty: every task every file has.
    pub tasks: Vec<String>,
    /// Group name → its subtasks, averaged (weighted by `n-samples` when every subtask has it).
    pub groups: BTreeMap<String, Vec<String>>,
    /// A metric read as the task's loss: a perplexity (`*perplexity*`, `ppl`) becomes its log.
    pub loss: Option<String>,
    /// Tokens per training step, for checkpoints whose step the pattern gives.
    pub tokens_per_step: Option<f64>,
    /// Models the manifest does not list are an error instead of skipped.
    pub strict: bool,
}

/// One checkpoint of one model: a results file, or a model folder's files merged.
#[derive(Debug)]
pub struct ResultsCheckpoint {
    pub model: String,
    pub step: Option<u64>,
    pub files: Vec<PathBuf>,
}

/// A results file's scores: task → metric key → value, with `n-samples`.
#[derive(Clone, Debug, Default)]
struct Scores {
    values: BTreeMap<String, BTreeMap<String, f64>>,
    n_samples: BTreeMap<String, f64>,
    /// The file each task's values came from.
    source: BTreeMap<String, PathBuf>,
}

/// Reads `path` as a results file.
fn parse_results(path: &Path) -> anyhow::Result<(Scores, Option<f64>)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let value: Value = serde_json::from_str(text).map_err(|err| {
        anyhow::anyhow!(
            "`{}`:{}: not valid JSON: {}",
            path.display(),
            err.line(),
            cod_pipeline::shorten(&err.to_string())
        )
    })?;
    let Some(results) = value.get("results").and_then(Value::as_object) else {
        bail!(
            "`{}`: no `results` object; expected an lm-evaluation-harness results file",
            path.display()
        );
    };
    let mut scores = Scores::default();
    let groups = value.get("groups").and_then(Value::as_object);
    for (task, metrics) in results.iter().chain(groups.into_iter().flatten()) {
        let Some(metrics) = metrics.as_object() else {
            bail!(
                "`{}`: `results.{task}` must be an object of metrics, found `{}`",
                path.display(),
                cod_pipeline::shorten(&metrics.to_string())
            );
        };
        let entry = scores.values.entry(task.clone()).or_default();
        for (key, v) in metrics {
            // `alias` and `N/A` stderrs are text, not scores.
            if let Some(v) = v.as_f64() {
                entry.insert(key.clone(), v);
            }
        }
        scores.source.insert(task.clone(), path.to_owned());
    }
    if let Some(n) = value.get("n-samples").and_then(Value::as_object) {
        for (task, counts) in n {
            let effective = counts
                .get("effective")
                .or_else(|| counts.get("original"))
                .and_then(Value::as_f64);
            if let Some(count) = effective.filter(|c| *c > 0.0) {
                scores.n_samples.insert(task.clone(), count);
            }
        }
    }
    Ok((scores, model_num_parameters(&value)))
}

/// The parameter count a parsed results file reports, `config.model_num_parameters`, when it is a
/// positive number. The harness counts embeddings too, so it may differ from a manifest's N.
pub(crate) fn model_num_parameters(results: &Value) -> Option<f64> {
    results
        .get("config")?
        .get("model_num_parameters")?
        .as_f64()
        .filter(|n| *n > 0.0)
}

/// Every `results_*.json` at or below `dir`, sorted (so by timestamp within a folder).
pub fn results_files_below(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(dir) = todo.pop() {
        let entries =
            std::fs::read_dir(&dir).with_context(|| format!("cannot list `{}`", dir.display()))?;
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                todo.push(path);
            } else if is_results_file(&path) {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// `results_<timestamp>.json`, or any `.json` matched by a checkpoint pattern.
pub fn is_results_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("results"))
        && path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// Matches `path`'s last components against `pattern` (`/`-separated; `*` any text, `{model}`
/// any text, `{step}` digits). Returns the model and step it names.
#[must_use]
pub fn match_checkpoint(pattern: &str, path: &Path) -> Option<(Option<String>, Option<u64>)> {
    let parts: Vec<&str> = pattern.split('/').filter(|p| !p.is_empty()).collect();
    let components: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if components.len() < parts.len() {
        return None;
    }
    let tail = &components[components.len() - parts.len()..];
    let mut model = None;
    let mut step = None;
    for (part, name) in parts.iter().zip(tail) {
        let mut captures = Vec::new();
        if !glob_match(part, name, &mut captures) {
            return None;
        }
        for (key, value) in captures {
            match key {
                "model" => model = Some(value),
                _ => step = Some(value.parse().ok()?),
            }
        }
    }
    Some((model, step))
}

/// Matches one component; `{model}` and `{step}` capture into `captures`.
fn glob_match<'p>(pattern: &'p str, text: &str, captures: &mut Vec<(&'p str, String)>) -> bool {
    if pattern.is_empty() {
        return text.is_empty();
    }
    for (token, capture) in [
        ("{model}", Some("model")),
        ("{step}", Some("step")),
        ("*", None),
    ] {
        if let Some(rest) = pattern.strip_prefix(token) {
            // Shortest match first, so `{model}_step{step}` splits at the last sensible place.
            for cut in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
                let taken = &text[..cut];
                if capture == Some("step") && !taken.bytes().all(|b| b.is_ascii_digit()) {
                    break;
                }
                if capture.is_some() && taken.is_empty() {
                    continue;
                }
                let mark = captures.len();
                if let Some(key) = capture {
                    captures.push((key, taken.to_owned()));
                }
                if glob_match(rest, &text[cut..], captures) {
                    return true;
                }
                captures.truncate(mark);
            }
            return false;
        }
    }
    let c = pattern.chars().next().expect("non-empty");
    text.starts_with(c) && glob_match(&pattern[c.len_utf8()..], &text[c.len_utf8()..], captures)
}

/// The value of `metric` for `task` in `scores`: the plain key, or `metric,<filter>`.
fn metric_value(
    scores: &Scores,
    task: &str,
    metric: &str,
    filter: Option<&str>,
) -> Result<Option<f64>, String> {
    let Some(values) = scores.values.get(task) else {
        return Ok(None);
    };
    if let Some(filter) = filter
        && let Some(v) = values.get(&format!("{metric},{filter}"))
    {
        return Ok(Some(*v));
    }
    let candidates: Vec<(&String, f64)> = values
        .iter()
        .filter(|(key, _)| key.split(',').next() == Some(metric))
        .map(|(key, v)| (key, *v))
        .collect();
    match candidates.as_slice() {
        [] => Ok(None),
        [(_, v)] if filter.is_none() => Ok(Some(*v)),
        _ if filter.is_some() => Ok(None),
        many => Err(format!(
            "task `{task}` has metric `{metric}` under several filters ({}); choose one with \
             `filter`",
            many.iter()
                .map(|(k, _)| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// A group's value and its subtasks' normalized weights.
type Weighted = (f64, Vec<(String, f64)>);

/// A group's value: its subtasks' mean, weighted by `n-samples` when every subtask has one.
/// Returns the value and the normalized weights.
fn group_value(
    scores: &Scores,
    subtasks: &[String],
    metric: &str,
    filter: Option<&str>,
) -> Result<Option<Weighted>, String> {
    let mut values = Vec::with_capacity(subtasks.len());
    for sub in subtasks {
        match metric_value(scores, sub, metric, filter)? {
            Some(v) => values.push(v),
            None => return Ok(None),
        }
    }
    let counts: Option<Vec<f64>> = subtasks
        .iter()
        .map(|s| scores.n_samples.get(s).copied())
        .collect();
    let weights = counts.unwrap_or_else(|| vec![1.0; subtasks.len()]);
    let total: f64 = weights.iter().sum();
    let value = values.iter().zip(&weights).map(|(v, w)| v * w).sum::<f64>() / total;
    let parts = subtasks
        .iter()
        .zip(&weights)
        .map(|(s, w)| (s.clone(), w / total))
        .collect();
    Ok(Some((value, parts)))
}

/// A loss from a metric's value: the log of a perplexity, else the value.
fn as_loss(metric: &str, value: f64) -> f64 {
    if metric.contains("perplexity") || metric == "ppl" {
        value.ln()
    } else {
        value
    }
}

/// Reads the checkpoints' results files against the manifest's models.
pub fn read_lm_eval_results(
    models: &[Model],
    checkpoints: &[ResultsCheckpoint],
    options: &ResultsOptions,
) -> anyhow::Result<TrainingRuns> {
    let mut warnings = Vec::new();
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    // Per model (manifest order): (step, scores, reported params) per checkpoint.
    let mut per_model: Vec<Vec<(Option<u64>, Scores)>> = vec![Vec::new(); models.len()];
    let mut reported: Vec<Option<(PathBuf, f64)>> = vec![None; models.len()];
    for checkpoint in checkpoints {
        let Some(m) = models.iter().position(|m| m.name == checkpoint.model) else {
            if options.strict {
                bail!(
                    "`{}`: model `{}` is not in the manifest (`strict = true`); the manifest lists {}",
                    checkpoint.files[0].display(),
                    checkpoint.model,
                    crate::tidy::listed(models)
                );
            }
            *skipped.entry(checkpoint.model.clone()).or_default() += 1;
            continue;
        };
        let mut merged = Scores::default();
        for path in &checkpoint.files {
            let (scores, params) = parse_results(path)?;
            merged.values.extend(scores.values);
            merged.n_samples.extend(scores.n_samples);
            merged.source.extend(scores.source);
            if let Some(n) = params {
                reported[m] = Some((path.clone(), n));
            }
        }
        per_model[m].push((checkpoint.step, merged));
    }
    warnings.extend(crate::tidy::unlisted_warning(&skipped, "checkpoints"));
    for (model, reported) in models.iter().zip(&reported) {
        if let Some((path, n)) = reported {
            warnings.extend(crate::lm_eval::params_mismatch(model, path, *n));
        }
    }

    let tasks = choose_tasks(&per_model, options);
    if tasks.is_empty() {
        bail!("no task is in every results file; name the tasks with `tasks`");
    }
    let mut runs = Vec::new();
    let mut sources: BTreeMap<String, Vec<(String, f64)>> = BTreeMap::new();
    for (model, mut checkpoints) in models.iter().zip(per_model) {
        if checkpoints.is_empty() {
            if model.role == Role::Ladder {
                bail!(
                    "ladder model `{}` has no results file; give its folder, or remove it from \
                     the manifest",
                    model.name
                );
            }
            continue;
        }
        checkpoints.sort_by_key(|(step, _)| *step);
        runs.push(build_run(
            model,
            &checkpoints,
            &tasks,
            options,
            &mut sources,
        )?);
    }
    Ok(TrainingRuns {
        tasks: tasks
            .iter()
            .map(|t| TaskSource {
                name: t.clone(),
                parts: sources.remove(t).unwrap_or_else(|| vec![(t.clone(), 1.0)]),
            })
            .collect(),
        runs,
        warnings,
    })
}

/// The tasks asked for, or every task (or configured group) every checkpoint has.
fn choose_tasks(per_model: &[Vec<(Option<u64>, Scores)>], options: &ResultsOptions) -> Vec<String> {
    if !options.tasks.is_empty() {
        return options.tasks.clone();
    }
    let mut common: Option<BTreeSet<String>> = None;
    for (_, scores) in per_model.iter().flatten() {
        let mut have: BTreeSet<String> = scores.values.keys().cloned().collect();
        for (group, subtasks) in &options.groups {
            if subtasks.iter().all(|s| scores.values.contains_key(s)) {
                have.insert(group.clone());
            }
        }
        common = Some(match common {
            None => have,
            Some(c) => c.intersection(&have).cloned().collect(),
        });
    }
    common.unwrap_or_default().into_iter().collect()
}

/// One model's run from its checkpoints, in step order.
#[allow(clippy::too_many_lines)] // one series per task, each value checked where it is read
fn build_run(
    model: &Model,
    checkpoints: &[(Option<u64>, Scores)],
    tasks: &[String],
    options: &ResultsOptions,
    sources: &mut BTreeMap<String, Vec<(String, f64)>>,
) -> anyhow::Result<TrainingRun> {
    let steps: Option<Vec<u64>> = checkpoints.iter().map(|(s, _)| *s).collect();
    let checkpoint_tokens: Vec<f64> = match (&steps, checkpoints.len()) {
        (_, 1) => vec![model.tokens],
        (Some(steps), _) => {
            let Some(per_step) = options.tokens_per_step else {
                bail!(
                    "model `{}` has {} checkpoints; set `tokens_per_step` so each one's tokens \
                     are known (they are not guessed)",
                    model.name,
                    checkpoints.len()
                );
            };
            steps.iter().map(|&s| s as f64 * per_step).collect()
        }
        (None, n) => bail!(
            "model `{}` has {n} results folders or files but no step for them; give a \
             `checkpoint` pattern with `{{step}}`",
            model.name
        ),
    };
    let filter = options.filter.as_deref();
    let mut series = Vec::new();
    let mut missing = Vec::new();
    for task in tasks {
        let metric = options.metrics.get(task).unwrap_or(&options.metric);
        let mut values = Vec::with_capacity(checkpoints.len());
        for (step, scores) in checkpoints {
            let at = |why: &str| {
                let file = scores
                    .source
                    .values()
                    .next()
                    .map_or_else(String::new, |p| format!("`{}`: ", p.display()));
                let step = step.map_or_else(String::new, |s| format!(" at step {s}"));
                anyhow::anyhow!("{file}model `{}`{step}: {why}", model.name)
            };
            let value = match options.groups.get(task) {
                Some(subtasks) => group_value(scores, subtasks, metric, filter)
                    .map_err(|why| at(&why))?
                    .map(|(v, parts)| {
                        sources.insert(task.clone(), parts);
                        v
                    }),
                None => metric_value(scores, task, metric, filter).map_err(|why| at(&why))?,
            };
            let Some(value) = value else {
                let have = scores.values.get(task).map_or_else(
                    || "the file has no such task".to_owned(),
                    |m| {
                        format!(
                            "it has {}",
                            m.keys()
                                .map(|k| format!("`{k}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    },
                );
                return Err(at(&format!(
                    "no `{metric}` for task `{task}` ({have}); set `metric`, `metrics` or `filter`"
                )));
            };
            if !(0.0..=1.0).contains(&value) {
                return Err(at(&format!(
                    "task `{task}`: `{metric}` is {value}, expected an accuracy in [0, 1]"
                )));
            }
            values.push(value);
        }
        series.push(Series {
            task: task.clone(),
            metric: "accuracy".into(),
            values,
        });
        if let Some(loss) = &options.loss {
            let losses: Option<Vec<f64>> = checkpoints
                .iter()
                .map(|(_, scores)| {
                    metric_value(scores, task, loss, filter)
                        .ok()
                        .flatten()
                        .map(|v| as_loss(loss, v))
                })
                .collect();
            match losses {
                Some(values) => series.push(Series {
                    task: task.clone(),
                    metric: "loss".into(),
                    values,
                }),
                None => missing.push((task.clone(), "loss".to_owned(), loss.clone())),
            }
        }
    }
    Ok(TrainingRun {
        name: model.name.clone(),
        role: model.role,
        monitor: false,
        source: checkpoints
            .first()
            .and_then(|(_, s)| s.source.values().next())
            .map_or_else(String::new, |p| p.display().to_string()),
        params: model.params,
        tokens: model.tokens,
        tokens_from: if checkpoints.len() == 1 {
            "manifest".to_owned()
        } else {
            "step × `tokens_per_step`; D from the manifest".to_owned()
        },
        steps: if checkpoints.len() == 1 { None } else { steps },
        checkpoint_tokens,
        series,
        missing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_patterns_capture_model_and_step() {
        let m = |pattern: &str, path: &str| match_checkpoint(pattern, Path::new(path));
        assert_eq!(
            m("{model}_step{step}.json", "evals/pythia-160m_step1000.json"),
            Some((Some("pythia-160m".into()), Some(1000)))
        );
        assert_eq!(
            m(
                "{model}/step{step}/results_*.json",
                "o/OLMo-1B/step20/results_2024-01-01.json"
            ),
            Some((Some("OLMo-1B".into()), Some(20)))
        );
        assert_eq!(m("{model}_step{step}.json", "a/pythia_stepx.json"), None);
        assert_eq!(m("{model}/results_*.json", "results_1.json"), None);
    }

    fn scores(values: &[(&str, &str, f64)], n: &[(&str, f64)]) -> Scores {
        let mut s = Scores::default();
        for (task, key, v) in values {
            s.values
                .entry((*task).to_owned())
                .or_default()
                .insert((*key).to_owned(), *v);
        }
        for (task, count) in n {
            s.n_samples.insert((*task).to_owned(), *count);
        }
        s
    }

    #[test]
    fn metrics_are_read_with_or_without_a_filter() {
        let s = scores(
            &[
                ("a", "acc", 0.5),
                ("b", "acc,none", 0.25),
                ("c", "em,strict", 0.1),
                ("c", "em,flex", 0.2),
            ],
            &[],
        );
        assert_eq!(metric_value(&s, "a", "acc", None), Ok(Some(0.5)));
        assert_eq!(metric_value(&s, "b", "acc", None), Ok(Some(0.25)));
        assert_eq!(metric_value(&s, "c", "em", Some("flex")), Ok(Some(0.2)));
        assert!(
            metric_value(&s, "c", "em", None)
                .unwrap_err()
                .contains("several filters")
        );
        assert_eq!(metric_value(&s, "b", "acc_norm", None), Ok(None));
    }

    /// Groups are weighted by `n-samples` when every subtask has it, else unweighted.
    #[test]
    fn groups_are_weighted_by_their_sample_counts() {
        let subtasks = ["x".to_owned(), "y".to_owned()];
        let with = scores(
            &[("x", "acc", 0.2), ("y", "acc", 0.8)],
            &[("x", 300.0), ("y", 100.0)],
        );
        let (v, parts) = group_value(&with, &subtasks, "acc", None).unwrap().unwrap();
        assert!((v - 0.35).abs() < 1e-12);
        assert_eq!(parts, [("x".to_owned(), 0.75), ("y".to_owned(), 0.25)]);
        let without = scores(&[("x", "acc", 0.2), ("y", "acc", 0.8)], &[("x", 300.0)]);
        let (v, _) = group_value(&without, &subtasks, "acc", None)
            .unwrap()
            .unwrap();
        assert!((v - 0.5).abs() < 1e-12);
    }

    #[test]
    fn perplexities_become_log_losses() {
        assert!((as_loss("word_perplexity", std::f64::consts::E) - 1.0).abs() < 1e-12);
        assert!((as_loss("bits_per_byte", 0.7) - 0.7).abs() < 1e-12);
    }
}
