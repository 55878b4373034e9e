use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::{Artifact, ArtifactKind, Role};

/// Aggregate evaluations of training runs (METHODS §0, "aggregate data"): for every run, every
/// evaluated checkpoint's tokens so far and each task's metrics. The output of `ingest-runs`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingRuns {
    /// Every task, with how it was read (a source column or a weighted composite).
    pub tasks: Vec<TaskSource>,
    pub runs: Vec<TrainingRun>,
    /// What ingest noticed and went on past (skipped models, a parameter count that disagrees).
    pub warnings: Vec<String>,
}

/// One task and where its values come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskSource {
    pub name: String,
    /// `(source task, weight)`: one part with weight 1 for a plain task, several for a composite
    /// (their weighted mean per checkpoint, weights normalized to sum to 1).
    pub parts: Vec<(String, f64)>,
}

/// One training run: a ladder model or a target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingRun {
    pub name: String,
    pub role: Role,
    /// A target's training trajectory to monitor checkpoint by checkpoint against the predicted
    /// curve, rather than a final result to predict.
    pub monitor: bool,
    /// The file it was read from, as given.
    pub source: String,
    /// Parameter count N.
    pub params: f64,
    /// The run's training tokens D: the manifest's value when given, else the last checkpoint's.
    pub tokens: f64,
    /// Where the per-checkpoint tokens came from, e.g. ``column `throughput/total_tokens` ``.
    pub tokens_from: String,
    /// Training step of each checkpoint, when the file has a step column.
    pub steps: Option<Vec<u64>>,
    /// Tokens seen at each checkpoint, in checkpoint order (increasing).
    pub checkpoint_tokens: Vec<f64>,
    /// Every series read, aligned with the checkpoints.
    pub series: Vec<Series>,
    /// Metrics the configuration asked for but the file lacks: `(task, metric, column)`.
    pub missing: Vec<(String, String, String)>,
}

/// One metric of one task (or of the run, for task-independent metrics such as a validation
/// loss, whose task is `*`) over the checkpoints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub task: String,
    /// `loss`, `accuracy`, or another configured name.
    pub metric: String,
    pub values: Vec<f64>,
}

/// The task name of series that belong to the run rather than a task.
pub const RUN_WIDE: &str = "*";

impl TrainingRun {
    /// The values of `metric` for `task`, falling back to a run-wide series of that metric.
    #[must_use]
    pub fn series(&self, task: &str, metric: &str) -> Option<&[f64]> {
        let find = |t: &str| {
            self.series
                .iter()
                .find(|s| s.task == t && s.metric == metric)
                .map(|s| s.values.as_slice())
        };
        find(task).or_else(|| find(RUN_WIDE))
    }

    /// Training compute 6·N·D of the whole run.
    #[must_use]
    pub fn flops(&self) -> f64 {
        6.0 * self.params * self.tokens
    }

    /// The run as it was after its first `k` checkpoints (all of them when it has fewer): a run
    /// in progress, as a monitor sees it at checkpoint `k`. Its tokens D stay the planned total.
    #[must_use]
    pub fn first(&self, k: usize) -> TrainingRun {
        let k = k.min(self.checkpoint_tokens.len());
        TrainingRun {
            steps: self.steps.as_ref().map(|s| s[..k].to_vec()),
            checkpoint_tokens: self.checkpoint_tokens[..k].to_vec(),
            series: self
                .series
                .iter()
                .map(|s| Series {
                    values: s.values[..k.min(s.values.len())].to_vec(),
                    ..s.clone()
                })
                .collect(),
            ..self.clone()
        }
    }
}

impl Artifact for TrainingRuns {
    const KIND: ArtifactKind = ArtifactKind::TrainingRuns;
    const SCHEMA_VERSION: u32 = 3;

    fn validate(&self) -> Result<(), String> {
        for run in &self.runs {
            let at = |what: &str| format!("run `{}`: {what}", run.name);
            let n = run.checkpoint_tokens.len();
            if let Some(steps) = &run.steps {
                crate::validate::length(steps.len(), n, &at("`steps`"))?;
            }
            for series in &run.series {
                crate::validate::length(
                    series.values.len(),
                    n,
                    &at(&format!("series `{}` `{}`", series.task, series.metric)),
                )?;
            }
        }
        Ok(())
    }

    fn summary(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} runs, {} tasks: {}",
            self.runs.len(),
            self.tasks.len(),
            self.tasks
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let _ = writeln!(
            out,
            "  {:<12} {:<7} {:>14} {:>18} {:>11}  tokens from",
            "run", "role", "N", "D", "checkpoints"
        );
        for r in &self.runs {
            let _ = writeln!(
                out,
                "  {:<12} {:<7} {:>14.0} {:>18.0} {:>11}  {}",
                r.name,
                if r.monitor { "monitor" } else { r.role.name() },
                r.params,
                r.tokens,
                r.checkpoint_tokens.len(),
                r.tokens_from
            );
            for (task, metric, column) in &r.missing {
                let of = if task == RUN_WIDE {
                    String::new()
                } else {
                    format!(" of {task}")
                };
                let _ = writeln!(out, "    missing: {metric}{of} (no column `{column}`)");
            }
        }
        for w in &self.warnings {
            let _ = writeln!(out, "warning: {w}");
        }
        out
    }
}
