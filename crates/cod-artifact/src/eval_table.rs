use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::{Artifact, ArtifactKind, Model, Role};

/// Per-item evaluation counts of every model on every benchmark: the output of ingest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalTable {
    /// The models in manifest order; the columns of every benchmark's matrices.
    pub models: Vec<Model>,
    /// Benchmarks in order of first appearance in the input.
    pub benchmarks: Vec<BenchmarkEvals>,
    /// What ingest noticed but did not reject (e.g. a parameter count that disagrees with the
    /// evaluation logs'), one sentence each.
    pub warnings: Vec<String>,
}

/// One benchmark's items × models matrices, row-major (item `i`, model `m` at `i * n_models + m`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchmarkEvals {
    pub name: String,
    /// Item ids in order of first appearance.
    pub items: Vec<String>,
    /// Attempts per cell. Zero means the model was not evaluated on the item, which ingest allows
    /// only for target and anchor models.
    pub n_samples: Vec<u32>,
    /// Successes per cell, at most `n_samples`.
    pub n_correct: Vec<u32>,
    /// The answer's loss per cell when the input had a `loss` column; NaN where a row had none.
    pub loss: Option<Vec<f64>>,
    /// Items dropped because some ladder model had no result for them (only with `missing = "drop"`).
    pub dropped_items: Vec<String>,
}

impl BenchmarkEvals {
    /// Pass rate of item `item` for model column `model`, or `None` when not evaluated.
    #[must_use]
    pub fn pass_rate(&self, item: usize, model: usize, n_models: usize) -> Option<f64> {
        let cell = item * n_models + model;
        let n = self.n_samples[cell];
        (n > 0).then(|| f64::from(self.n_correct[cell]) / f64::from(n))
    }

    /// Mean pass rate of model column `model` over the items it was evaluated on, and that count.
    #[must_use]
    pub fn mean_pass_rate(&self, model: usize, n_models: usize) -> (Option<f64>, usize) {
        let mut sum = 0.0;
        let mut count = 0;
        for item in 0..self.items.len() {
            if let Some(rate) = self.pass_rate(item, model, n_models) {
                sum += rate;
                count += 1;
            }
        }
        ((count > 0).then(|| sum / count as f64), count)
    }

    /// Majority accuracy of model column `model`: the share of the items it was evaluated on that
    /// most of its attempts solve (n_correct > n_samples / 2). With one attempt per item this is
    /// the mean pass rate.
    #[must_use]
    pub fn majority_accuracy(&self, model: usize, n_models: usize) -> Option<f64> {
        let mut solved = 0usize;
        let mut count = 0usize;
        for item in 0..self.items.len() {
            let cell = item * n_models + model;
            if self.n_samples[cell] > 0 {
                count += 1;
                solved += usize::from(2 * self.n_correct[cell] > self.n_samples[cell]);
            }
        }
        (count > 0).then(|| solved as f64 / count as f64)
    }
}

impl Artifact for EvalTable {
    const KIND: ArtifactKind = ArtifactKind::EvalTable;
    const SCHEMA_VERSION: u32 = 2;

    fn validate(&self) -> Result<(), String> {
        let n_models = self.models.len();
        for b in &self.benchmarks {
            let cells = b
                .items
                .len()
                .checked_mul(n_models)
                .ok_or("too many cells")?;
            let lengths = [
                ("n_samples", b.n_samples.len()),
                ("n_correct", b.n_correct.len()),
                ("loss", b.loss.as_ref().map_or(cells, Vec::len)),
            ];
            for (what, len) in lengths {
                if len != cells {
                    return Err(format!(
                        "benchmark `{}`: `{what}` has {len} cells, expected {} items × {n_models} \
                         models = {cells}",
                        b.name,
                        b.items.len()
                    ));
                }
            }
            if let Some(cell) = (0..cells).find(|&c| b.n_correct[c] > b.n_samples[c]) {
                return Err(format!(
                    "benchmark `{}`, item `{}`, model `{}`: {} correct of {} samples",
                    b.name,
                    b.items[cell / n_models],
                    self.models[cell % n_models].name,
                    b.n_correct[cell],
                    b.n_samples[cell]
                ));
            }
        }
        Ok(())
    }

    fn summary(&self) -> String {
        let mut out = String::new();
        let n_models = self.models.len();
        for bench in &self.benchmarks {
            let _ = writeln!(
                out,
                "benchmark {}: {} items{}",
                bench.name,
                bench.items.len(),
                if bench.dropped_items.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", {} dropped for missing ladder results",
                        bench.dropped_items.len()
                    )
                }
            );
            let _ = writeln!(
                out,
                "  {:<16} {:>7} {:>12} {:>10} {:>7} {:>10}",
                "model", "role", "params", "FLOPs", "items", "pass rate"
            );
            for (m, model) in self.models.iter().enumerate() {
                let (mean, count) = bench.mean_pass_rate(m, n_models);
                let _ = writeln!(
                    out,
                    "  {:<16} {:>7} {:>12.4e} {:>10.3e} {:>7} {:>10}",
                    model.name,
                    model.role.name(),
                    model.params,
                    model.flops,
                    count,
                    mean.map_or_else(|| "-".to_owned(), |m| format!("{m:.4}")),
                );
            }
        }
        if self.models.iter().all(|m| m.role != Role::Target) {
            out.push_str("no target model\n");
        }
        for w in &self.warnings {
            let _ = writeln!(out, "warning: {w}");
        }
        out
    }
}
