//! scikit-learn's `estimate_bandwidth`, exactly: the mean over points of the distance to their k-th
//! nearest neighbour, the point itself counted as the first at distance 0, with
//! k = max(1, floor(n · quantile)).

use rayon::prelude::*;

/// The bandwidth of `points` (n × `dim`, row-major) at `quantile`. Exact: O(n²·d) time, O(n) memory
/// per thread. Returns 0 for no points.
#[must_use]
pub fn estimate_bandwidth(points: &[f64], dim: usize, quantile: f64) -> f64 {
    let n = points.len() / dim;
    if n == 0 {
        return 0.0;
    }
    let k = ((n as f64 * quantile).floor() as usize).clamp(1, n);
    let kth: Vec<f64> = points
        .par_chunks_exact(dim)
        .map_init(
            || vec![0.0; n],
            |dist, p| {
                for (slot, q) in dist.iter_mut().zip(points.chunks_exact(dim)) {
                    *slot = crate::kdtree::squared_distance(p, q);
                }
                let (_, kth, _) = dist.select_nth_unstable_by(k - 1, f64::total_cmp);
                kth.sqrt()
            },
        )
        .collect();
    kth.iter().sum::<f64>() / n as f64
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact zeros are exact
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        // Points 0, 1, 3 on a line. quantile 0.5 → k = 1: the point itself, bandwidth 0.
        assert_eq!(estimate_bandwidth(&[0.0, 1.0, 3.0], 1, 0.5), 0.0);
        // quantile 0.7 → k = 2: nearest other point: 1, 1, 2 → mean 4/3.
        let b = estimate_bandwidth(&[0.0, 1.0, 3.0], 1, 0.7);
        assert!((b - 4.0 / 3.0).abs() < 1e-15, "{b}");
        // quantile 1 → k = 3: farthest point: 3, 2, 3 → 8/3.
        let b = estimate_bandwidth(&[0.0, 1.0, 3.0], 1, 1.0);
        assert!((b - 8.0 / 3.0).abs() < 1e-15, "{b}");
        assert_eq!(estimate_bandwidth(&[], 2, 0.3), 0.0);
    }
}
