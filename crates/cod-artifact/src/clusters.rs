use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::{Artifact, ArtifactKind, Model};

/// Items grouped by difficulty: the output of the cluster stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Clusters {
    /// The method and its parameters, e.g. `improved-meanshift K=10 Q=0.1 U=0.2828`.
    pub method: String,
    /// The ladder models in increasing compute: the dimensions of the centres.
    pub ladder: Vec<Model>,
    pub benchmarks: Vec<BenchmarkClusters>,
}

/// One benchmark's clusters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchmarkClusters {
    pub name: String,
    /// The clustered items: the benchmark's non-zero feature items, in feature order.
    pub items: Vec<String>,
    /// Per item, its cluster (an index into `clusters`), or `None` for an outlier.
    pub labels: Vec<Option<u32>>,
    /// Items no ladder model solved; a class of their own, never clustered.
    pub all_zero_items: Vec<String>,
    /// The bandwidth estimate, for methods that use one.
    pub bandwidth: Option<f64>,
    /// The radius R actually used, for methods that use one.
    pub radius: Option<f64>,
    pub clusters: Vec<Cluster>,
    /// Items that a reused cluster assignment had never seen (method `assign` only); they are
    /// outliers in `labels`.
    pub unseen_items: Vec<String>,
}

/// One cluster.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    /// The centre's pass rate on each ladder model.
    pub centre: Vec<f64>,
    pub size: usize,
    /// Intra-cluster average distance: the members' mean Euclidean distance to the centre.
    pub iad: f64,
}

impl BenchmarkClusters {
    /// The share of clustered items that are outliers (OR).
    #[must_use]
    pub fn outlier_rate(&self) -> f64 {
        if self.labels.is_empty() {
            return 0.0;
        }
        self.labels.iter().filter(|l| l.is_none()).count() as f64 / self.labels.len() as f64
    }

    /// The mean distance of clustered items to their centre: the size-weighted mean of IAD.
    #[must_use]
    pub fn mean_iad(&self) -> f64 {
        let n: usize = self.clusters.iter().map(|c| c.size).sum();
        if n == 0 {
            return 0.0;
        }
        self.clusters
            .iter()
            .map(|c| c.iad * c.size as f64)
            .sum::<f64>()
            / n as f64
    }
}

impl Artifact for Clusters {
    const KIND: ArtifactKind = ArtifactKind::Clusters;
    const SCHEMA_VERSION: u32 = 1;

    fn validate(&self) -> Result<(), String> {
        let dim = self.ladder.len();
        for b in &self.benchmarks {
            let at = |what: &str| format!("benchmark `{}`: {what}", b.name);
            crate::validate::length(b.labels.len(), b.items.len(), &at("`labels`"))?;
            let mut sizes = vec![0usize; b.clusters.len()];
            for (item, label) in b.items.iter().zip(&b.labels) {
                if let Some(label) = label {
                    let size = usize::try_from(*label)
                        .ok()
                        .and_then(|l| sizes.get_mut(l))
                        .ok_or_else(|| {
                            at(&format!(
                                "item `{item}` is in cluster {label}, but there are {} clusters",
                                b.clusters.len()
                            ))
                        })?;
                    *size += 1;
                }
            }
            for (i, (cluster, size)) in b.clusters.iter().zip(sizes).enumerate() {
                crate::validate::length(
                    cluster.centre.len(),
                    dim,
                    &at(&format!("cluster {i}'s centre")),
                )?;
                if cluster.size != size {
                    return Err(at(&format!(
                        "cluster {i} has size {}, but {size} items are labelled with it",
                        cluster.size
                    )));
                }
            }
        }
        Ok(())
    }

    fn summary(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "clusters by {}", self.method);
        for bench in &self.benchmarks {
            let _ = writeln!(
                out,
                "benchmark {}: {} items in {} clusters, {} outliers (OR {:.2}%), {} all-zero; mean IAD {:.4}{}",
                bench.name,
                bench.items.len(),
                bench.clusters.len(),
                bench.labels.iter().filter(|l| l.is_none()).count(),
                100.0 * bench.outlier_rate(),
                bench.all_zero_items.len(),
                bench.mean_iad(),
                bench
                    .radius
                    .map_or_else(String::new, |r| format!(", radius {r:.4}")),
            );
            if !bench.unseen_items.is_empty() {
                let _ = writeln!(
                    out,
                    "  {} items were not in the reused assignment and are outliers",
                    bench.unseen_items.len()
                );
            }
            let _ = writeln!(
                out,
                "  {:>7} {:>6} {:>7}  centre, smallest → largest model",
                "cluster", "size", "IAD"
            );
            for (id, c) in bench.clusters.iter().enumerate() {
                let centre: Vec<String> = c.centre.iter().map(|x| format!("{x:.2}")).collect();
                let _ = writeln!(
                    out,
                    "  {id:>7} {:>6} {:>7.4}  {}",
                    c.size,
                    c.iad,
                    centre.join(" ")
                );
            }
        }
        out
    }
}
