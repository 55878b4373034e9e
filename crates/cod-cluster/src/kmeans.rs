//! k-means and DBSCAN from linfa-clustering, and the improved k-means of the COD paper's Table 3.

use anyhow::Context;
use linfa::prelude::*;
use linfa_clustering::{Dbscan, KMeans};
use ndarray::Array2;
use rand_xoshiro::Xoshiro256Plus;
use rand_xoshiro::rand_core::SeedableRng;

use crate::Partition;
use crate::kdtree::squared_distance;

fn records(points: &[f64], dim: usize) -> anyhow::Result<Array2<f64>> {
    Ok(Array2::from_shape_vec(
        (points.len() / dim, dim),
        points.to_vec(),
    )?)
}

/// Restarts per k-means fit; the best of them by inertia is kept.
const KMEANS_RUNS: usize = 10;

/// k-means (k-means++ starts, seeded) with every point in its nearest centroid's cluster.
pub fn kmeans(points: &[f64], dim: usize, k: usize, seed: u64) -> anyhow::Result<Partition> {
    let n = points.len() / dim;
    if k > n {
        anyhow::bail!("`k` = {k} clusters but only {n} items");
    }
    let x = records(points, dim)?;
    let model = KMeans::params_with_rng(k, Xoshiro256Plus::seed_from_u64(seed))
        .n_runs(KMEANS_RUNS)
        .max_n_iterations(300)
        .tolerance(1e-4)
        .fit(&DatasetBase::from(x.clone()))
        .context("k-means failed")?;
    let labels = model.predict(&x);
    Ok(Partition {
        labels: labels.iter().map(|&l| Some(l)).collect(),
        centres: model
            .centroids()
            .rows()
            .into_iter()
            .map(|r| r.to_vec())
            .collect(),
    })
}

/// DBSCAN with neighbourhood radius `eps` and `min_points` (the point itself counted); noise
/// points are outliers. Centres are the clusters' means.
pub fn dbscan(
    points: &[f64],
    dim: usize,
    eps: f64,
    min_points: usize,
) -> anyhow::Result<Partition> {
    let x = records(points, dim)?;
    let labels: Vec<Option<usize>> = Dbscan::params(min_points)
        .tolerance(eps)
        .check()
        .context("invalid DBSCAN parameters")?
        .transform(&x)
        .to_vec();
    let k = labels.iter().flatten().max().map_or(0, |m| m + 1);
    let mut centres = vec![vec![0.0; dim]; k];
    let mut size = vec![0usize; k];
    for (p, label) in points.chunks_exact(dim).zip(&labels) {
        if let Some(c) = *label {
            size[c] += 1;
            for (s, v) in centres[c].iter_mut().zip(p) {
                *s += v;
            }
        }
    }
    for (c, s) in centres.iter_mut().zip(&size) {
        for v in c.iter_mut() {
            *v /= *s as f64;
        }
    }
    Ok(Partition { labels, centres })
}

/// Improved k-means (METHODS §1.2): the largest k whose smallest cluster still has `min_size`
/// members (found by bisection over k in [1, n / min_size]); then a point farther from every centre
/// than twice that centre's intra-cluster average distance is an outlier.
pub fn improved_kmeans(
    points: &[f64],
    dim: usize,
    min_size: usize,
    seed: u64,
) -> anyhow::Result<Partition> {
    let n = points.len() / dim;
    if n < min_size {
        return Ok(Partition {
            labels: vec![None; n],
            centres: Vec::new(),
        });
    }
    let smallest = |p: &Partition| {
        let mut size = vec![0usize; p.centres.len()];
        for c in p.labels.iter().flatten() {
            size[*c] += 1;
        }
        size.into_iter().min().unwrap_or(0)
    };
    let (mut lo, mut hi) = (1, (n / min_size).max(1));
    let mut best = kmeans(points, dim, 1, seed)?;
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        let p = kmeans(points, dim, mid, seed)?;
        if smallest(&p) >= min_size {
            lo = mid;
            best = p;
        } else {
            hi = mid - 1;
        }
    }
    if best.centres.len() != lo {
        best = kmeans(points, dim, lo, seed)?;
    }

    let k = best.centres.len();
    let mut iad = vec![0.0; k];
    let mut size = vec![0usize; k];
    for (p, label) in points.chunks_exact(dim).zip(&best.labels) {
        let c = label.expect("k-means labels every point");
        iad[c] += squared_distance(p, &best.centres[c]).sqrt();
        size[c] += 1;
    }
    for (d, s) in iad.iter_mut().zip(&size) {
        *d /= (*s).max(1) as f64;
    }
    let labels = points
        .chunks_exact(dim)
        .zip(&best.labels)
        .map(|(p, &label)| {
            let near_some = best
                .centres
                .iter()
                .zip(&iad)
                .any(|(c, d)| squared_distance(p, c).sqrt() <= 2.0 * d);
            if near_some { label } else { None }
        })
        .collect();
    Ok(Partition {
        labels,
        centres: best.centres,
    })
}
