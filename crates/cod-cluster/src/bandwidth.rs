//! scikit-learn's `estimate_bandwidth`, exactly: the mean over points of the distance to their k-th
//! nearest neighbour, the point itself counted as the first at distance 0, with
//! k = max(1, floor(n · quantile)).

use rayon::prelude::*;

use crate::kdtree::{KdTree, squared_distance};

/// Points one task handles in the tree's order; consecutive ones are spatial neighbours.
const CHUNK: usize = 256;

/// The bandwidth of `points` (n × `dim`, row-major) at `quantile`. Exact, in O(n²·d) time and O(n)
/// memory per thread: each point's distances to all others are computed in single precision
/// (vectorized), the k-th of those is found, and the few points whose single-precision distance
/// could rank differently from the exact one are decided exactly. Returns 0 for no points.
#[must_use]
pub fn estimate_bandwidth(points: &[f64], dim: usize, quantile: f64) -> f64 {
    let n = points.len() / dim;
    if n == 0 {
        return 0.0;
    }
    let k = ((n as f64 * quantile).floor() as usize).clamp(1, n);
    let tree = KdTree::new(points, dim);
    let found: Vec<Vec<(usize, f64)>> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|chunk| {
            let mut search = KthNeighbour::new(k);
            (chunk * CHUNK..(n.min((chunk + 1) * CHUNK)))
                .map(|i| {
                    let (index, p) = tree.point(i);
                    (index, search.distance(&tree, p))
                })
                .collect()
        })
        .collect();
    let mut kth = vec![0.0; n];
    for (index, distance) in found.into_iter().flatten() {
        kth[index] = distance;
    }
    // Summed in the caller's order, so the result does not depend on the tree.
    kth.iter().sum::<f64>() / n as f64
}

/// Finds the k-th smallest distance from successive query points, reusing buffers and guessing
/// each answer from the last (nearby queries have close answers).
struct KthNeighbour {
    k: usize,
    d32: Vec<f32>,
    scratch: Vec<f32>,
    exact: Vec<f64>,
    band: Vec<u32>,
    /// The last answer (single-precision squared distance) and how far the one before it was.
    guess: Option<(f32, f32)>,
}

impl KthNeighbour {
    fn new(k: usize) -> KthNeighbour {
        KthNeighbour {
            k,
            d32: Vec::new(),
            scratch: Vec::new(),
            exact: Vec::new(),
            band: Vec::new(),
            guess: None,
        }
    }

    /// The exact distance from `p` to its k-th nearest point of `tree` (itself included).
    fn distance(&mut self, tree: &KdTree, p: &[f64]) -> f64 {
        let error = tree.f32_squared_distances(p, &mut self.d32);
        let v32 = self.kth_f32();
        // Every single-precision squared distance is within `error` of the exact one, so the
        // exact k-th lies within `error` of `v32`: points more than 2·error below it rank below
        // it, points more than 2·error above it rank above, and only the band between is
        // decided exactly. The extra half error covers rounding the bounds to f32, so a point
        // at `lo` itself is still more than 2·error below.
        let lo = (f64::from(v32) - 2.5 * error) as f32;
        let hi = (f64::from(v32) + 2.5 * error) as f32;
        let below = count_at_or_below(&self.d32, lo);
        indices_between(&self.d32, (lo, hi), &mut self.band);
        self.exact.clear();
        self.exact.extend(
            self.band
                .iter()
                .map(|&i| squared_distance(tree.point(i as usize).1, p)),
        );
        let rank = self.k - below - 1;
        let (_, kth, _) = self.exact.select_nth_unstable_by(rank, f64::total_cmp);
        kth.sqrt()
    }

    /// The k-th smallest of `d32`. Counting the values at or below a threshold is one vectorized
    /// pass, so the k-th is bracketed by counts first (starting from the last answer, then
    /// interpolating), and only the few values in the final bracket are selected among.
    fn kth_f32(&mut self) -> f32 {
        let k = self.k;
        let values = &self.d32;
        let max = max_value(values);
        // count_le(lo) < k <= count_le(hi).
        let (mut lo, mut below) = (-1.0f32, 0usize);
        let (mut hi, mut upto) = (max, values.len());
        let mut probes = match self.guess {
            Some((last, step)) => vec![last, last - step, last + step],
            None => Vec::new(),
        };
        probes.reverse();
        for round in 0..MAX_PROBES {
            if upto - below <= SMALL_BRACKET {
                break;
            }
            let t = probes.pop().unwrap_or_else(|| {
                if round % 3 == 2 {
                    lo + 0.5 * (hi - lo)
                } else {
                    let frac = (k - below) as f32 / (upto - below) as f32;
                    lo + (hi - lo) * frac.clamp(0.05, 0.95)
                }
            });
            if !(t > lo && t < hi) {
                continue;
            }
            let count = count_at_or_below(values, t);
            if count >= k {
                (hi, upto) = (t, count);
            } else {
                (lo, below) = (t, count);
            }
        }
        indices_between(values, (lo, hi), &mut self.band);
        self.scratch.clear();
        self.scratch
            .extend(self.band.iter().map(|&i| values[i as usize]));
        let (_, &mut v, _) = self
            .scratch
            .select_nth_unstable_by(k - below - 1, f32::total_cmp);
        let step = self.guess.map_or(v * 0.05, |(last, _)| (v - last).abs());
        self.guess = Some((v, step.max(v * 1e-3)));
        v
    }
}

/// Count probes per point before the bracket is selected among as it stands.
const MAX_PROBES: usize = 24;

/// A bracket this small is selected among directly.
const SMALL_BRACKET: usize = 128;

/// How many of `values` are at most `t`.
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx2+fma",
    "x86_64+avx2+fma"
))]
fn count_at_or_below(values: &[f32], t: f32) -> usize {
    // A chunk's count is at most 2^20, so the u32 additions cannot overflow; `wrapping_add` lets
    // the loop vectorize also where overflow checks are on.
    values
        .chunks(1 << 20)
        .map(|chunk| {
            chunk
                .iter()
                .fold(0u32, |n, &x| n.wrapping_add(u32::from(x <= t))) as usize
        })
        .sum()
}

/// The largest of `values` (0 for none).
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx2+fma",
    "x86_64+avx2+fma"
))]
fn max_value(values: &[f32]) -> f32 {
    values.iter().copied().fold(0.0, f32::max)
}

/// The indices of the values in `lo < x <= hi`, without branches: the tests are as unpredictable
/// as the values.
fn indices_between(values: &[f32], (lo, hi): (f32, f32), out: &mut Vec<u32>) {
    out.clear();
    out.resize(values.len() + 1, 0);
    let slots = &mut out[..];
    let mut found = 0;
    for (i, &x) in values.iter().enumerate() {
        slots[found] = i as u32;
        // At most `i + 1`: cannot overflow.
        found = found.wrapping_add(usize::from(x > lo) & usize::from(x <= hi));
    }
    out.truncate(found);
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

    /// The definition, computed the plain way: every distance in double precision, then the
    /// k-th of them.
    fn by_definition(points: &[f64], dim: usize, quantile: f64) -> f64 {
        let n = points.len() / dim;
        let k = ((n as f64 * quantile).floor() as usize).clamp(1, n);
        let kth: Vec<f64> = points
            .chunks_exact(dim)
            .map(|p| {
                let mut d: Vec<f64> = points
                    .chunks_exact(dim)
                    .map(|q| squared_distance(p, q))
                    .collect();
                let (_, kth, _) = d.select_nth_unstable_by(k - 1, f64::total_cmp);
                kth.sqrt()
            })
            .collect();
        kth.iter().sum::<f64>() / n as f64
    }

    /// Deterministic points in [0, scale)^d on a grid of `levels` values per axis (so distances
    /// tie often), with every 5th point a copy of an earlier one.
    fn grid_points(n: usize, dim: usize, levels: u64, scale: f64) -> Vec<f64> {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut out: Vec<f64> = Vec::with_capacity(n * dim);
        for i in 0..n {
            if i % 5 == 4 {
                let j = i * 7 / 11;
                let copy = out[j * dim..(j + 1) * dim].to_vec();
                out.extend(copy);
                continue;
            }
            for _ in 0..dim {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                out.push((state % levels) as f64 / levels as f64 * scale);
            }
        }
        out
    }

    /// The origin and points at distances 1 + i·1e-9 from it in scattered directions: closer
    /// together than single precision resolves, so their single-precision order is scrambled.
    fn shell_points(n: usize, dim: usize) -> Vec<f64> {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut out = vec![0.0; dim];
        for i in 1..n {
            let direction: Vec<f64> = (0..dim)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
                })
                .collect();
            let length = crate::kdtree::norm(&direction);
            let r = 1.0 + i as f64 * 1e-9;
            out.extend(direction.iter().map(|x| x / length * r));
        }
        out
    }

    #[test]
    fn equals_the_definition_where_single_precision_cannot_rank() {
        for dim in [2, 3, 8] {
            let points = shell_points(400, dim);
            for quantile in [0.01, 0.1, 0.5] {
                assert_eq!(
                    estimate_bandwidth(&points, dim, quantile),
                    by_definition(&points, dim, quantile),
                    "d={dim} q={quantile}"
                );
            }
        }
    }

    #[test]
    fn equals_the_definition_bit_for_bit() {
        // Ties (grid values, copies), one to twelve dimensions, coordinates far from [0, 1], and
        // quantiles from the nearest neighbour to the farthest point. The single-precision
        // shortcut must never change which distance is the k-th.
        for (n, dim, levels, scale) in [
            (700, 1, 50, 1.0),
            (900, 2, 1000, 1.0),
            (1200, 8, 101, 1.0),
            (600, 12, 7, 1.0),
            (800, 8, 1 << 40, 1.0),
            (500, 3, 1 << 30, 1e6),
            (400, 5, 11, 1e-4),
        ] {
            let points = grid_points(n, dim, levels, scale);
            for quantile in [0.001, 0.1, 0.3, 0.99, 1.0] {
                assert_eq!(
                    estimate_bandwidth(&points, dim, quantile),
                    by_definition(&points, dim, quantile),
                    "n={n} d={dim} levels={levels} scale={scale} q={quantile}"
                );
            }
        }
    }
}
