//! The clustering methods, one implementation each behind [`ClusterMethod`].

use cod_artifact::Cluster;

use crate::kdtree::squared_distance;
use crate::{Partition, Seeding, estimate_bandwidth, improved_mean_shift, kmeans, mean_shift};

/// A partition with the bandwidth and radius the method used, if any.
#[derive(Clone, Debug, PartialEq)]
pub struct Clustered {
    pub partition: Partition,
    pub bandwidth: Option<f64>,
    pub radius: Option<f64>,
}

/// A way of clustering feature vectors. `points` is n × `dim`, row-major, all finite.
pub trait ClusterMethod: Sync {
    /// The method and its parameters, for the artifact.
    fn describe(&self) -> String;
    fn cluster(&self, points: &[f64], dim: usize) -> anyhow::Result<Clustered>;
}

/// The radius rule shared by the MeanShift methods: a fixed R, or min(bandwidth(X, Q), U) with
/// U = sqrt(d)/10 unless given.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RadiusRule {
    pub quantile: f64,
    pub cap: Option<f64>,
    pub fixed: Option<f64>,
    /// Estimate the bandwidth on this many points drawn without replacement (scikit-learn's
    /// `n_samples`), seeded; all points when `None`.
    pub samples: Option<usize>,
    pub seed: u64,
}

impl RadiusRule {
    fn radius(&self, points: &[f64], dim: usize) -> (Option<f64>, f64) {
        if let Some(r) = self.fixed {
            return (None, r);
        }
        let n = points.len() / dim;
        let bandwidth = match self.samples {
            Some(m) if m < n => {
                use rand::SeedableRng;
                let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(self.seed);
                let mut chosen = rand::seq::index::sample(&mut rng, n, m).into_vec();
                chosen.sort_unstable();
                let sub: Vec<f64> = chosen
                    .iter()
                    .flat_map(|&i| points[i * dim..(i + 1) * dim].iter().copied())
                    .collect();
                estimate_bandwidth(&sub, dim, self.quantile)
            }
            _ => estimate_bandwidth(points, dim, self.quantile),
        };
        let cap = self.cap.unwrap_or((dim as f64).sqrt() / 10.0);
        (Some(bandwidth), bandwidth.min(cap))
    }

    fn describe(&self) -> String {
        let samples = self.samples.map_or_else(String::new, |m| {
            format!(" bandwidth-samples={m} seed={}", self.seed)
        });
        match (self.fixed, self.cap) {
            (Some(r), _) => format!("R={r}"),
            (None, Some(u)) => format!("Q={} U={u}{samples}", self.quantile),
            (None, None) => format!("Q={} U=sqrt(d)/10{samples}", self.quantile),
        }
    }
}

/// Every method, configured.
#[derive(Clone, Debug, PartialEq)]
pub enum Method {
    /// The paper's Algorithm 1.
    ImprovedMeanShift {
        min_size: usize,
        radius: RadiusRule,
        seeding: Seeding,
    },
    /// One MeanShift pass; every point joins its nearest centre.
    MeanShift {
        radius: RadiusRule,
        seeding: Seeding,
    },
    KMeans {
        k: usize,
        seed: u64,
    },
    Dbscan {
        eps: Option<f64>,
        radius: RadiusRule,
        min_size: usize,
    },
    /// k chosen so the smallest cluster has about `min_size` members; far points are outliers.
    ImprovedKMeans {
        min_size: usize,
        seed: u64,
    },
}

impl ClusterMethod for Method {
    fn describe(&self) -> String {
        let seeding = |s: &Seeding| match s {
            Seeding::All => "",
            Seeding::Bins => " bin-seeding",
        };
        match self {
            Method::ImprovedMeanShift {
                min_size,
                radius,
                seeding: s,
            } => format!(
                "improved-meanshift K={min_size} {}{}",
                radius.describe(),
                seeding(s)
            ),
            Method::MeanShift { radius, seeding: s } => {
                format!("meanshift {}{}", radius.describe(), seeding(s))
            }
            Method::KMeans { k, seed } => format!("kmeans k={k} seed={seed}"),
            Method::Dbscan {
                eps,
                radius,
                min_size,
            } => match eps {
                Some(e) => format!("dbscan eps={e} min_points={min_size}"),
                None => format!("dbscan eps=R ({}) min_points={min_size}", radius.describe()),
            },
            Method::ImprovedKMeans { min_size, seed } => {
                format!("improved-kmeans K={min_size} seed={seed}")
            }
        }
    }

    fn cluster(&self, points: &[f64], dim: usize) -> anyhow::Result<Clustered> {
        Ok(match self {
            Method::ImprovedMeanShift {
                min_size,
                radius,
                seeding,
            } => {
                let (bandwidth, r) = radius.radius(points, dim);
                Clustered {
                    partition: improved_mean_shift(points, dim, r, *min_size, *seeding),
                    bandwidth,
                    radius: Some(r),
                }
            }
            Method::MeanShift { radius, seeding } => {
                let (bandwidth, r) = radius.radius(points, dim);
                let shift = mean_shift(points, dim, r, *seeding);
                Clustered {
                    partition: Partition {
                        labels: shift.labels,
                        centres: shift.centres,
                    },
                    bandwidth,
                    radius: Some(r),
                }
            }
            Method::KMeans { k, seed } => Clustered {
                partition: kmeans::kmeans(points, dim, *k, *seed)?,
                bandwidth: None,
                radius: None,
            },
            Method::Dbscan {
                eps,
                radius,
                min_size,
            } => {
                let (bandwidth, r) = match eps {
                    Some(e) => (None, *e),
                    None => radius.radius(points, dim),
                };
                Clustered {
                    partition: kmeans::dbscan(points, dim, r, *min_size)?,
                    bandwidth,
                    radius: Some(r),
                }
            }
            Method::ImprovedKMeans { min_size, seed } => Clustered {
                partition: kmeans::improved_kmeans(points, dim, *min_size, *seed)?,
                bandwidth: None,
                radius: None,
            },
        })
    }
}

/// Sizes and intra-cluster average distances of a partition; clusters without members are dropped
/// and the rest renumbered in order. Returns the clusters and the renumbered labels.
#[must_use]
pub fn summarize(
    points: &[f64],
    dim: usize,
    partition: &Partition,
) -> (Vec<Cluster>, Vec<Option<u32>>) {
    let k = partition.centres.len();
    let mut size = vec![0usize; k];
    let mut dist = vec![0.0; k];
    for (p, label) in points.chunks_exact(dim).zip(&partition.labels) {
        if let Some(c) = *label {
            size[c] += 1;
            dist[c] += squared_distance(p, &partition.centres[c]).sqrt();
        }
    }
    let mut renumber = vec![None; k];
    let mut clusters = Vec::new();
    for c in 0..k {
        if size[c] > 0 {
            renumber[c] = Some(clusters.len() as u32);
            clusters.push(Cluster {
                centre: partition.centres[c].clone(),
                size: size[c],
                iad: dist[c] / size[c] as f64,
            });
        }
    }
    let labels = partition
        .labels
        .iter()
        .map(|l| l.and_then(|c| renumber[c]))
        .collect();
    (clusters, labels)
}
