use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, bail};
use cod_artifact::{BenchmarkClusters, Clusters, Features};
use cod_pipeline::{Code, PathResolver, Progress, Stage, StageBinary};
use serde::{Deserialize, Serialize};

use crate::methods::RadiusRule;
use crate::{ClusterMethod, Method, Partition, Seeding, summarize};

/// The clustering methods by name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum MethodName {
    /// The COD paper's Algorithm 1 (default).
    #[default]
    ImprovedMeanshift,
    /// One plain MeanShift pass, every point clustered.
    Meanshift,
    /// k-means with `k` clusters.
    Kmeans,
    /// DBSCAN with radius `eps` (default R) and `min_size` points.
    Dbscan,
    /// k-means with k chosen so the smallest cluster has about `min_size` members.
    ImprovedKmeans,
    /// Reuse the clusters of a saved artifact (`from`), matching items by benchmark and id.
    Assign,
}

fn default_min_size() -> usize {
    10
}

fn default_quantile() -> f64 {
    0.1
}

/// Parameters of the `cluster` stage.
#[derive(Clone, Debug, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct ClusterParams {
    /// The clustering method.
    #[arg(long, value_enum, default_value_t = MethodName::ImprovedMeanshift)]
    #[serde(default)]
    pub method: MethodName,
    /// K, the minimum cluster size (MeanShift methods, DBSCAN's min points, improved k-means).
    #[arg(long, default_value_t = default_min_size())]
    #[serde(default = "default_min_size")]
    pub min_size: usize,
    /// Q, the bandwidth quantile: R = min(bandwidth(X, Q), U).
    #[arg(long, default_value_t = default_quantile())]
    #[serde(default = "default_quantile")]
    pub quantile: f64,
    /// U, the radius cap [default: sqrt(d)/10, a tenth of the diagonal of [0,1]^d].
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub radius_cap: Option<f64>,
    /// A fixed radius R instead of the bandwidth rule.
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub radius: Option<f64>,
    /// Seed MeanShift from a grid of cells of size R instead of from every point (faster for
    /// very large benchmarks; changes the partition slightly).
    #[arg(long)]
    #[serde(default)]
    pub bin_seeding: bool,
    /// Estimate the bandwidth on this many items drawn at random (seeded by `seed`) instead of all:
    /// the exact estimate costs O(n²), too much beyond ~100,000 items.
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth_samples: Option<usize>,
    /// Number of clusters for `kmeans`.
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<usize>,
    /// Neighbourhood radius for `dbscan` [default: R from the bandwidth rule].
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eps: Option<f64>,
    /// Random seed for the k-means methods and for `bandwidth_samples`' draw.
    #[arg(long, default_value_t = 0)]
    #[serde(default)]
    pub seed: u64,
    /// The saved `clusters` artifact to reuse, for `assign`.
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<PathBuf>,
}

impl ClusterParams {
    /// Checks that every parameter given applies to the method.
    fn check_applicable(&self) -> anyhow::Result<()> {
        use MethodName as M;
        let applies: &[(&str, bool, &[MethodName])] = &[
            ("k", self.k.is_some(), &[M::Kmeans]),
            ("eps", self.eps.is_some(), &[M::Dbscan]),
            ("from", self.from.is_some(), &[M::Assign]),
            (
                "radius",
                self.radius.is_some(),
                &[M::ImprovedMeanshift, M::Meanshift, M::Dbscan],
            ),
            (
                "radius_cap",
                self.radius_cap.is_some(),
                &[M::ImprovedMeanshift, M::Meanshift, M::Dbscan],
            ),
            (
                "bandwidth_samples",
                self.bandwidth_samples.is_some(),
                &[M::ImprovedMeanshift, M::Meanshift, M::Dbscan],
            ),
            (
                "bin_seeding",
                self.bin_seeding,
                &[M::ImprovedMeanshift, M::Meanshift],
            ),
        ];
        for (key, given, methods) in applies {
            if *given && !methods.contains(&self.method) {
                let names: Vec<String> =
                    methods.iter().map(|m| format!("`{}`", name(*m))).collect();
                bail!(
                    "`{key}` applies only to method {}, not `{}`",
                    names.join(" or "),
                    name(self.method)
                );
            }
        }
        Ok(())
    }

    /// Checks ranges and that every given parameter applies to the method, then builds it.
    pub fn method(&self) -> anyhow::Result<Method> {
        use MethodName as M;
        self.check_applicable()?;
        if self.bandwidth_samples == Some(0) {
            bail!("`bandwidth_samples` must be at least 1, found 0");
        }
        if self.min_size == 0 {
            bail!("`min_size` must be at least 1, found 0");
        }
        if !(self.quantile > 0.0 && self.quantile <= 1.0) {
            bail!("`quantile` must be in (0, 1], found {}", self.quantile);
        }
        for (key, value) in [
            ("radius", self.radius),
            ("radius_cap", self.radius_cap),
            ("eps", self.eps),
        ] {
            if let Some(v) = value
                && !(v.is_finite() && v >= 0.0)
            {
                bail!("`{key}` must be a non-negative number, found {v}");
            }
        }
        let radius = RadiusRule {
            quantile: self.quantile,
            cap: self.radius_cap,
            fixed: self.radius,
            samples: self.bandwidth_samples,
            seed: self.seed,
        };
        let seeding = if self.bin_seeding {
            Seeding::Bins
        } else {
            Seeding::All
        };
        Ok(match self.method {
            M::ImprovedMeanshift => Method::ImprovedMeanShift {
                min_size: self.min_size,
                radius,
                seeding,
            },
            M::Meanshift => Method::MeanShift { radius, seeding },
            M::Kmeans => Method::KMeans {
                k: match self.k {
                    Some(k) if k > 0 => k,
                    Some(_) => bail!("`k` must be at least 1, found 0"),
                    None => bail!("method `kmeans` needs `k`, the number of clusters"),
                },
                seed: self.seed,
            },
            M::Dbscan => Method::Dbscan {
                eps: self.eps,
                radius,
                min_size: self.min_size,
            },
            M::ImprovedKmeans => Method::ImprovedKMeans {
                min_size: self.min_size,
                seed: self.seed,
            },
            M::Assign => {
                bail!("method `assign` reuses saved clusters; it has no clustering of its own")
            }
        })
    }
}

fn name(method: MethodName) -> &'static str {
    match method {
        MethodName::ImprovedMeanshift => "improved-meanshift",
        MethodName::Meanshift => "meanshift",
        MethodName::Kmeans => "kmeans",
        MethodName::Dbscan => "dbscan",
        MethodName::ImprovedKmeans => "improved-kmeans",
        MethodName::Assign => "assign",
    }
}

/// Checks a features artifact's shape and values before clustering.
fn check_features(features: &Features) -> anyhow::Result<()> {
    let d = features.ladder.len();
    for bench in &features.benchmarks {
        if bench.difficulty().len() != bench.items.len() * d {
            bail!(
                "benchmark `{}`: {} pass rates for {} items × {d} models",
                bench.name,
                bench.difficulty().len(),
                bench.items.len()
            );
        }
        if let Some(i) = bench.difficulty().iter().position(|x| !x.is_finite()) {
            bail!(
                "benchmark `{}`, item `{}`: feature {} is {}, expected a finite pass rate",
                bench.name,
                bench.items[i / d],
                i % d,
                bench.difficulty()[i]
            );
        }
    }
    Ok(())
}

/// Clusters every benchmark of `features` with `method`.
pub fn cluster_features(
    features: &Features,
    method: &dyn ClusterMethod,
    progress: &Progress,
) -> anyhow::Result<Clusters> {
    check_features(features)?;
    let d = features.ladder.len();
    let bar = progress.bar(features.benchmarks.len() as u64, "clustering");
    let mut benchmarks = Vec::with_capacity(features.benchmarks.len());
    for bench in &features.benchmarks {
        let clustered = method
            .cluster(bench.difficulty(), d)
            .with_context(|| format!("benchmark `{}`", bench.name))?;
        let (clusters, labels) = summarize(bench.difficulty(), d, &clustered.partition);
        benchmarks.push(BenchmarkClusters {
            name: bench.name.clone(),
            items: bench.items.clone(),
            labels,
            all_zero_items: bench.all_zero_items.clone(),
            bandwidth: clustered.bandwidth,
            radius: clustered.radius,
            clusters,
            unseen_items: Vec::new(),
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(Clusters {
        method: method.describe(),
        ladder: features.ladder.clone(),
        benchmarks,
    })
}

/// Applies a saved cluster assignment to new features: each item keeps the cluster its id had,
/// with the saved centre; items the saved artifact never saw are outliers and listed.
pub fn assign_saved(features: &Features, saved: &Clusters) -> anyhow::Result<Clusters> {
    check_features(features)?;
    let d = features.ladder.len();
    if saved.ladder.len() != d {
        bail!(
            "the saved clusters have {}-model centres, the features {} models",
            saved.ladder.len(),
            d
        );
    }
    let mut benchmarks = Vec::new();
    for bench in &features.benchmarks {
        let Some(old) = saved.benchmarks.iter().find(|b| b.name == bench.name) else {
            bail!("benchmark `{}` is not in the saved clusters", bench.name);
        };
        let mut known: HashMap<&str, Option<u32>> = old
            .items
            .iter()
            .map(String::as_str)
            .zip(old.labels.iter().copied())
            .collect();
        for item in &old.all_zero_items {
            known.insert(item, None);
        }
        let mut unseen_items = Vec::new();
        let labels: Vec<Option<usize>> = bench
            .items
            .iter()
            .map(|item| {
                let label = known.get(item.as_str());
                if label.is_none() {
                    unseen_items.push(item.clone());
                }
                label.copied().flatten().map(|l| l as usize)
            })
            .collect();
        let partition = Partition {
            labels,
            centres: old.clusters.iter().map(|c| c.centre.clone()).collect(),
        };
        let (clusters, labels) = summarize(bench.difficulty(), d, &partition);
        benchmarks.push(BenchmarkClusters {
            name: bench.name.clone(),
            items: bench.items.clone(),
            labels,
            all_zero_items: bench.all_zero_items.clone(),
            bandwidth: old.bandwidth,
            radius: old.radius,
            clusters,
            unseen_items,
        });
    }
    Ok(Clusters {
        method: format!("assign (reusing: {})", saved.method),
        ladder: features.ladder.clone(),
        benchmarks,
    })
}

/// Turns a `features` artifact into a `clusters` artifact.
pub struct ClusterStage;

impl Stage for ClusterStage {
    type Params = ClusterParams;
    type Inputs = (Features,);
    type Output = Clusters;
    const KIND: &'static str = "cluster";
    const CODE: Code = Code::new("cluster", 1, &[]);

    fn validate(params: &ClusterParams) -> anyhow::Result<()> {
        if params.method == MethodName::Assign {
            params.check_applicable()?;
            if params.from.is_none() {
                bail!("method `assign` needs `from`, the path of a saved `clusters` artifact");
            }
            return Ok(());
        }
        params.method().map(drop)
    }

    fn resolve_paths(params: &mut ClusterParams, resolve: &PathResolver) {
        if let Some(from) = &params.from {
            params.from = Some(resolve.resolve("from", from));
        }
    }

    fn files_read(params: &ClusterParams) -> Vec<PathBuf> {
        params.from.iter().cloned().collect()
    }

    fn run(
        params: &ClusterParams,
        (features,): (Features,),
        progress: &Progress,
    ) -> anyhow::Result<Clusters> {
        Self::validate(params)?;
        if let (MethodName::Assign, Some(from)) = (params.method, &params.from) {
            assign_saved(&features, &cod_artifact::read(from)?)
        } else {
            cluster_features(&features, &params.method()?, progress)
        }
    }
}

/// `cod-cluster`, the stage's binary.
pub const BINARY: StageBinary = StageBinary {
    name: "cod-cluster",
    about: "Cluster benchmark items by difficulty: their pass-rate vectors over the ladder",
    long_about: "The default method is the COD paper's improved MeanShift: radius R = \
                 min(bandwidth(X, Q), U), repeated MeanShift on unclustered items, points farther \
                 than R from their centre and clusters smaller than K left as outliers.",
    inputs: &["input"],
    examples: &[
        "cod-cluster --input out/mmlu/features.bin --output clusters.bin",
        "cod-cluster --input features.bin --output c.bin --method kmeans --k 20",
        "cod-cluster --input new-ladder-features.bin --output c.bin --method assign \
         --from out/mmlu/cluster.bin",
    ],
};
