use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::{Artifact, ArtifactKind, Model};

/// Difficulty features: each item's pass rates over the ladder models, ordered by compute.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Features {
    /// The ladder models in increasing compute: the feature dimensions. Target and anchors are
    /// never features.
    pub ladder: Vec<Model>,
    pub benchmarks: Vec<BenchmarkFeatures>,
}

/// One benchmark's feature matrix, items × ladder models, row-major.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchmarkFeatures {
    pub name: String,
    /// Items with a non-zero pass rate on at least one ladder model: the rows of `pass_rates`.
    pub items: Vec<String>,
    /// Pass rates in [0, 1], `items.len() × ladder.len()`.
    pub pass_rates: Vec<f64>,
    /// Items never solved by any ladder model, removed before clustering.
    pub all_zero_items: Vec<String>,
    /// Mean pass rate of each ladder model over all items of the benchmark, all-zero ones included.
    pub mean_pass_rate: Vec<f64>,
    /// The vectors items are clustered by when they are not the pass rates: the gold answer's
    /// probability exp(−loss), same shape as `pass_rates` (`features.signal = "gold-probability"`
    /// on a benchmark with losses).
    pub gold_probability: Option<Vec<f64>>,
}

impl BenchmarkFeatures {
    /// The vectors to cluster items by: the gold answer's probabilities when computed, else the
    /// pass rates.
    #[must_use]
    pub fn difficulty(&self) -> &[f64] {
        self.gold_probability.as_deref().unwrap_or(&self.pass_rates)
    }

    /// The feature vector of row `row`.
    #[must_use]
    pub fn row(&self, row: usize, dim: usize) -> &[f64] {
        &self.pass_rates[row * dim..(row + 1) * dim]
    }
}

impl Artifact for Features {
    const KIND: ArtifactKind = ArtifactKind::Features;
    const SCHEMA_VERSION: u32 = 2;

    fn validate(&self) -> Result<(), String> {
        let dim = self.ladder.len();
        for b in &self.benchmarks {
            let at = |what: &str| format!("benchmark `{}`: {what}", b.name);
            crate::validate::matrix(&b.pass_rates, b.items.len(), dim, &at("`pass_rates`"))?;
            crate::validate::fractions(&b.pass_rates, &at("`pass_rates`"))?;
            if let Some(gold) = &b.gold_probability {
                crate::validate::matrix(gold, b.items.len(), dim, &at("`gold_probability`"))?;
                crate::validate::fractions(gold, &at("`gold_probability`"))?;
            }
            crate::validate::length(b.mean_pass_rate.len(), dim, &at("`mean_pass_rate`"))?;
            crate::validate::fractions(&b.mean_pass_rate, &at("`mean_pass_rate`"))?;
        }
        Ok(())
    }

    fn summary(&self) -> String {
        let mut out = String::new();
        let ladder: Vec<String> = self
            .ladder
            .iter()
            .map(|m| format!("{} ({:.3e})", m.name, m.flops))
            .collect();
        let _ = writeln!(
            out,
            "features over {} ladder models by FLOPs: {}",
            self.ladder.len(),
            ladder.join(" < ")
        );
        for bench in &self.benchmarks {
            let total = bench.items.len() + bench.all_zero_items.len();
            let _ = writeln!(
                out,
                "benchmark {}: {total} items, {} kept as features, {} all-zero removed{}",
                bench.name,
                bench.items.len(),
                bench.all_zero_items.len(),
                if bench.gold_probability.is_some() {
                    "; clustered by the gold answer's probability"
                } else {
                    ""
                },
            );
        }
        out
    }
}
