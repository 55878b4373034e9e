use crate::PerItemMethod;
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::{Artifact, ArtifactKind, Model};

/// Per-cluster scaling-law fits: the output of the fit stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fits {
    /// The law, loss and filter, e.g. `cod-law g=free loss=squared filter a>1 b>0.1 0<=c<1`.
    pub method: String,
    /// The ladder models in increasing compute: the points of every fit.
    pub ladder: Vec<Model>,
    /// The models predicted: the manifest's targets, in its order (none: fits only).
    pub targets: Vec<Model>,
    /// One entry per benchmark, or per (target, benchmark) when there are several targets.
    pub benchmarks: Vec<BenchmarkFits>,
}

impl Fits {
    /// The target an entry predicts.
    #[must_use]
    pub fn target_of(&self, bench: &BenchmarkFits) -> Option<&Model> {
        let name = bench.target.as_deref()?;
        self.targets.iter().find(|t| t.name == name)
    }
}

/// The key of one (target, benchmark) entry of the per-item artifacts: the benchmark's name when
/// there is at most one target, else `target/benchmark`, as the ladder's outputs are keyed.
#[must_use]
pub fn entry_name(targets: usize, target: Option<&str>, benchmark: &str) -> String {
    match target {
        Some(t) if targets > 1 => format!("{t}/{benchmark}"),
        _ => benchmark.to_owned(),
    }
}

/// One benchmark's cluster fits, in cluster order, and the end-to-end baselines.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchmarkFits {
    /// The entry's key (see [`entry_name`]).
    pub name: String,
    /// The benchmark, as the eval table, features and clusters name it.
    pub benchmark: String,
    /// The target predicted, by name.
    pub target: Option<String>,
    pub clusters: Vec<ClusterFit>,
    /// The whole benchmark's mean pass rate on each ladder model (all items, never-solved ones
    /// included): what the baselines fit.
    pub accuracy: Vec<f64>,
    /// Each ladder model's accuracy as the end-to-end (exp) baseline measures it (see the fit
    /// stage's `exp_accuracy`).
    pub exp_accuracy: Vec<f64>,
    /// The baselines (METHODS §3): the end-to-end laws fitted to `accuracy` or `exp_accuracy`,
    /// the trivial `no-change` and `log-linear`, and `irt` on the items' counts.
    pub baselines: Vec<BaselineFit>,
}

/// A baseline: one prediction from the whole benchmark, without clusters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BaselineFit {
    /// `end-to-end-exp` (the COD law on `exp_accuracy`), `end-to-end-passrate` (the COD law on the
    /// mean pass rate), `end-to-end-bnsl` (a broken power law on 1 − mean pass rate),
    /// `no-change` (the largest ladder model's mean pass rate), `log-linear` (a line in log10
    /// compute through the 3 largest) or `irt` (item response theory on the counts).
    pub method: PerItemMethod,
    /// The law's parameters; `no-change`: the accuracy; `log-linear`: intercept and slope per
    /// decade; `irt`: the guess floor used.
    pub params: Vec<f64>,
    pub rmse: f64,
    /// Predicted accuracy at the target.
    pub prediction: Option<f64>,
    /// Why the fit failed, if it did.
    pub failure: Option<String>,
}

/// One cluster's fit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClusterFit {
    pub size: usize,
    /// The cluster's accuracy on each ladder model: its members' mean pass rate.
    pub accuracy: Vec<f64>,
    /// The law's parameters (for the COD law: a, b, c, g); empty when the fit failed.
    pub params: Vec<f64>,
    pub rmse: f64,
    pub verdict: Verdict,
    /// The fitted curve at the target's compute.
    pub prediction: Option<f64>,
}

/// Whether a cluster's fit may be extrapolated (METHODS §1.4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Extrapolatable,
    /// Negligible growth: small a or b; the cluster is flat or already saturated.
    NonEmergent,
    /// A low ceiling: large c.
    NonExtrapolatable,
    FitFailed(String),
}

impl Verdict {
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Extrapolatable => "extrapolatable",
            Verdict::NonEmergent => "non-emergent",
            Verdict::NonExtrapolatable => "non-extrapolatable",
            Verdict::FitFailed(_) => "fit-failed",
        }
    }
}

impl Artifact for Fits {
    const KIND: ArtifactKind = ArtifactKind::Fits;
    const SCHEMA_VERSION: u32 = 4;

    fn validate(&self) -> Result<(), String> {
        let dim = self.ladder.len();
        for b in &self.benchmarks {
            let at = |what: &str| format!("benchmark `{}`: {what}", b.name);
            crate::validate::length(b.accuracy.len(), dim, &at("`accuracy`"))?;
            crate::validate::length(b.exp_accuracy.len(), dim, &at("`exp_accuracy`"))?;
            for (i, cluster) in b.clusters.iter().enumerate() {
                crate::validate::length(
                    cluster.accuracy.len(),
                    dim,
                    &at(&format!("cluster {i}'s `accuracy`")),
                )?;
            }
        }
        Ok(())
    }

    fn summary(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "fits by {}", self.method);
        if self.targets.is_empty() {
            out.push_str("no target model: fits only, no predictions\n");
        }
        for t in &self.targets {
            let _ = writeln!(out, "target {} at {:.3e} FLOPs", t.name, t.flops);
        }
        for bench in &self.benchmarks {
            let kept: Vec<&ClusterFit> = bench
                .clusters
                .iter()
                .filter(|c| c.verdict == Verdict::Extrapolatable)
                .collect();
            let items: usize = bench.clusters.iter().map(|c| c.size).sum();
            let kept_items: usize = kept.iter().map(|c| c.size).sum();
            let _ = writeln!(
                out,
                "benchmark {}: {} of {} clusters extrapolatable ({kept_items} of {items} clustered items)",
                bench.name,
                kept.len(),
                bench.clusters.len(),
            );
            let _ = writeln!(
                out,
                "  {:>7} {:>6} {:>19} {:>8} {:>8} {:>8} {:>6} {:>8} {:>10}",
                "cluster", "size", "verdict", "a", "b", "c", "g", "rmse", "at target"
            );
            for (id, c) in bench.clusters.iter().enumerate() {
                let p = |k: usize| {
                    c.params
                        .get(k)
                        .map_or("-".to_owned(), |v| format!("{v:.3}"))
                };
                let _ = writeln!(
                    out,
                    "  {id:>7} {:>6} {:>19} {:>8} {:>8} {:>8} {:>6} {:>8.4} {:>10}",
                    c.size,
                    c.verdict.name(),
                    p(0),
                    p(1),
                    p(2),
                    p(3),
                    c.rmse,
                    c.prediction.map_or("-".to_owned(), |v| format!("{v:.4}")),
                );
            }
            for b in &bench.baselines {
                let _ = writeln!(
                    out,
                    "  baseline {}: at target {}, rmse {:.4}{}",
                    b.method,
                    b.prediction.map_or("-".to_owned(), |v| format!("{v:.4}")),
                    b.rmse,
                    b.failure
                        .as_ref()
                        .map_or_else(String::new, |f| format!(" (failed: {f})")),
                );
            }
        }
        out
    }
}
