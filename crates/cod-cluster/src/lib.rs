//! Clustering on difficulty (METHODS §1.2): groups a benchmark's items by their pass-rate vectors
//! over the ladder, leaving outliers unclustered.
//!
//! Every method implements [`ClusterMethod`]; the stage picks one by name. The default,
//! `improved-meanshift`, is the COD paper's Algorithm 1 with scikit-learn's MeanShift semantics.
//! **Invariant**: reads no files but artifacts (and, for `assign`, a saved clusters artifact).

mod bandwidth;
mod kdtree;
mod kmeans;
mod meanshift;
mod methods;
mod stage;

pub use bandwidth::estimate_bandwidth;
pub use kdtree::{KdTree, PointSum};
pub use meanshift::{MAX_ITER, MeanShift, Partition, Seeding, improved_mean_shift, mean_shift};
pub use methods::{ClusterMethod, Clustered, Method, RadiusRule, summarize};
pub use stage::{BINARY, ClusterParams, ClusterStage, MethodName, assign_saved, cluster_features};

#[cfg(test)]
mod tests;
