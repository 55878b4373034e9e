//! Flat-kernel MeanShift with scikit-learn's semantics (`MeanShift(bin_seeding=False)`), and the
//! COD paper's improved MeanShift (its Algorithm 1) built on it.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::kdtree::{KdTree, PointSum, squared_distance};

/// scikit-learn's default iteration cap per seed.
pub const MAX_ITER: usize = 300;

/// The result of one MeanShift pass: the kept centres, by decreasing intensity, and the index of
/// each point's nearest kept centre (`None` only when no seed converged).
#[derive(Clone, Debug, PartialEq)]
pub struct MeanShift {
    pub centres: Vec<Vec<f64>>,
    pub labels: Vec<Option<usize>>,
}

/// Runs every seed to convergence, as scikit-learn's `_mean_shift_single_seed` does for each:
/// move to the mean of the points within the bandwidth until the step is at most 1e-3 × bandwidth
/// or `max_iter` steps were taken. Returns, per seed, the converged centre and the number of points
/// within the bandwidth of the last position it moved from (the "intensity"), or `None` when a step
/// found no points.
///
/// Seeds advance in lockstep and each distinct position is queried once per step. A position is a
/// pure function of the points in the previous window (sums are exact), so when a seed reaches a
/// position another seed has already visited, its future is that seed's: it is merged into it. The
/// only divergence from running seeds one by one is the `max_iter` cap, which then counts along the
/// first trajectory to reach the meeting point.
fn converge_all(
    tree: &KdTree,
    seeds: &[f64],
    dim: usize,
    bandwidth: f64,
    max_iter: usize,
) -> Vec<Option<(Vec<f64>, usize)>> {
    enum State {
        Moving,
        /// Converged at a centre with an intensity.
        Converged(Vec<f64>, usize),
        /// A step found no points.
        Lost,
        /// Follows the trajectory with this index from here on.
        Merged(usize),
    }
    struct Trajectory {
        pos: Vec<f64>,
        state: State,
    }
    let stop = 1e-3 * bandwidth;
    let key = |p: &[f64]| -> Vec<u64> { p.iter().map(|x| x.to_bits()).collect() };
    let mut visited: HashMap<Vec<u64>, usize> = HashMap::new();
    let mut trajectories: Vec<Trajectory> = Vec::new();
    let seed_trajectory: Vec<usize> = seeds
        .chunks_exact(dim)
        .map(|seed| {
            *visited.entry(key(seed)).or_insert_with(|| {
                trajectories.push(Trajectory {
                    pos: seed.to_vec(),
                    state: State::Moving,
                });
                trajectories.len() - 1
            })
        })
        .collect();

    let mut active: Vec<usize> = (0..trajectories.len()).collect();
    let mut completed = 0;
    while !active.is_empty() {
        let positions: Vec<&[f64]> = active.iter().map(|&t| &trajectories[t].pos[..]).collect();
        let sums = range_sums_batched(tree, &positions, bandwidth);
        let mut still = Vec::with_capacity(active.len());
        for (&t, sum) in active.iter().zip(sums) {
            if sum.count == 0 {
                trajectories[t].state = State::Lost;
                continue;
            }
            let next = tree.mean(&sum);
            let moved = squared_distance(&next, &trajectories[t].pos).sqrt();
            if moved <= stop || completed == max_iter {
                trajectories[t].state = State::Converged(next, sum.count);
                continue;
            }
            match visited.get(&key(&next)) {
                Some(&other) if other != t => trajectories[t].state = State::Merged(other),
                _ => {
                    visited.insert(key(&next), t);
                    trajectories[t].pos = next;
                    still.push(t);
                }
            }
        }
        active = still;
        completed += 1;
    }

    seed_trajectory
        .into_iter()
        .map(|mut t| {
            loop {
                match &trajectories[t].state {
                    State::Merged(next) => t = *next,
                    State::Converged(centre, count) => break Some((centre.clone(), *count)),
                    State::Lost => break None,
                    State::Moving => unreachable!("every trajectory ends"),
                }
            }
        })
        .collect()
}

/// Queries per batch in [`range_sums_batched`]: enough to share each leaf's trip from memory,
/// few enough that a batch's queries stay near each other.
const BATCH: usize = 32;

/// [`KdTree::range_sum`] for every query, in parallel: queries are ordered by the leaf they fall
/// in and sent to the tree in batches of neighbours ([`KdTree::range_sums`]).
fn range_sums_batched(tree: &KdTree, queries: &[&[f64]], radius: f64) -> Vec<PointSum> {
    let mut order: Vec<(usize, usize)> = queries
        .par_iter()
        .enumerate()
        .map(|(i, q)| (tree.leaf_of(q), i))
        .collect();
    order.sort_unstable();
    let batches: Vec<Vec<PointSum>> = order
        .par_chunks(BATCH)
        .map(|batch| {
            let batch: Vec<&[f64]> = batch.iter().map(|&(_, i)| queries[i]).collect();
            tree.range_sums(&batch, radius)
        })
        .collect();
    let mut sums: Vec<Option<PointSum>> = vec![None; queries.len()];
    for (&(_, i), sum) in order.iter().zip(batches.into_iter().flatten()) {
        sums[i] = Some(sum);
    }
    sums.into_iter()
        .map(|sum| sum.expect("every query answered"))
        .collect()
}

/// Where seeds start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Seeding {
    /// Every point is a seed (scikit-learn's `bin_seeding=False`, the paper's setting).
    #[default]
    All,
    /// One seed per occupied cell of a grid with the bandwidth as cell size, at the cell's
    /// corner (scikit-learn's `bin_seeding=True`): far fewer seeds for large n.
    Bins,
}

/// scikit-learn's `get_bin_seeds` with `min_bin_freq = 1`: the distinct rounded grid cells, in
/// order of first appearance, scaled back. Falls back to every point when binning saves nothing.
fn bin_seeds(points: &[f64], dim: usize, bandwidth: f64) -> Vec<f64> {
    let mut seen = std::collections::HashSet::new();
    let mut seeds = Vec::new();
    for p in points.chunks_exact(dim) {
        let cell: Vec<i64> = p.iter().map(|x| (x / bandwidth).round() as i64).collect();
        if seen.insert(cell.clone()) {
            seeds.extend(cell.iter().map(|&c| c as f64 * bandwidth));
        }
    }
    if seeds.len() == points.len() {
        points.to_vec()
    } else {
        seeds
    }
}

/// One MeanShift pass over `points` (n × `dim`) from the given seeds.
///
/// As scikit-learn: centres are keyed by their exact coordinates (a later seed's intensity replaces
/// an earlier one's for the same centre), sorted by (intensity, coordinates) descending, and a
/// centre within `bandwidth` of a kept one is dropped; each point takes its nearest kept centre.
#[must_use]
pub fn mean_shift(points: &[f64], dim: usize, bandwidth: f64, seeding: Seeding) -> MeanShift {
    let n = points.len() / dim;
    if n == 0 {
        return MeanShift {
            centres: Vec::new(),
            labels: Vec::new(),
        };
    }
    if bandwidth <= 0.0 {
        return identical_groups(points, dim);
    }
    let tree = KdTree::new(points, dim);
    let binned;
    let seeds = match seeding {
        Seeding::All => points,
        Seeding::Bins => {
            binned = bin_seeds(points, dim, bandwidth);
            &binned[..]
        }
    };
    let converged = converge_all(&tree, seeds, dim, bandwidth, MAX_ITER);

    let mut intensity: HashMap<Vec<u64>, (Vec<f64>, usize)> = HashMap::new();
    for (centre, count) in converged.into_iter().flatten() {
        let key = centre.iter().map(|x| x.to_bits()).collect();
        intensity.insert(key, (centre, count));
    }
    let mut sorted: Vec<(Vec<f64>, usize)> = intensity.into_values().collect();
    sort_by_intensity(&mut sorted);

    let flat: Vec<f64> = sorted.iter().flat_map(|(c, _)| c.iter().copied()).collect();
    let centre_tree = KdTree::new(&flat, dim);
    let mut unique = vec![true; sorted.len()];
    for i in 0..sorted.len() {
        if unique[i] {
            centre_tree.within(&sorted[i].0, bandwidth, |j| unique[j] = false);
            unique[i] = true;
        }
    }
    let centres: Vec<Vec<f64>> = sorted
        .into_iter()
        .zip(unique)
        .filter_map(|((c, _), keep)| keep.then_some(c))
        .collect();
    let labels = nearest_centre(points, dim, &centres);
    MeanShift { centres, labels }
}

/// MeanShift's limit as the bandwidth goes to 0: every distinct point is a centre, intensity its
/// number of copies, and each point belongs to its own copies. (scikit-learn rejects a zero
/// bandwidth; it arises when over a quantile of the points are identical.)
fn identical_groups(points: &[f64], dim: usize) -> MeanShift {
    let mut count: HashMap<Vec<u64>, (Vec<f64>, usize)> = HashMap::new();
    for p in points.chunks_exact(dim) {
        let key = p.iter().map(|x| x.to_bits()).collect();
        count.entry(key).or_insert_with(|| (p.to_vec(), 0)).1 += 1;
    }
    let mut sorted: Vec<(Vec<f64>, usize)> = count.into_values().collect();
    sort_by_intensity(&mut sorted);
    let centres: Vec<Vec<f64>> = sorted.into_iter().map(|(c, _)| c).collect();
    let labels = nearest_centre(points, dim, &centres);
    MeanShift { centres, labels }
}

/// scikit-learn's order: intensity descending, then coordinates descending.
fn sort_by_intensity(centres: &mut [(Vec<f64>, usize)]) {
    centres.sort_by(|a, b| {
        b.1.cmp(&a.1).then_with(|| {
            b.0.iter()
                .zip(&a.0)
                .map(|(x, y)| x.total_cmp(y))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        })
    });
}

/// The index of each point's nearest centre; ties go to the first. `None` when there are no
/// centres.
#[must_use]
pub fn nearest_centre(points: &[f64], dim: usize, centres: &[Vec<f64>]) -> Vec<Option<usize>> {
    points
        .par_chunks_exact(dim)
        .map(|p| {
            let mut best = (f64::INFINITY, None);
            for (j, c) in centres.iter().enumerate() {
                let d = squared_distance(p, c);
                if d < best.0 || best.1.is_none() {
                    best = (d, Some(j));
                }
            }
            best.1
        })
        .collect()
}

/// A partition into clusters and outliers.
#[derive(Clone, Debug, PartialEq)]
pub struct Partition {
    /// Cluster index per point, `None` for an outlier.
    pub labels: Vec<Option<usize>>,
    pub centres: Vec<Vec<f64>>,
}

/// The paper's Algorithm 1: repeated MeanShift on the points not yet clustered, keeping only
/// points within `radius` of their centre and clusters of at least `min_size` members; clusters,
/// once kept, never change. Stops when a round keeps nothing.
#[must_use]
pub fn improved_mean_shift(
    points: &[f64],
    dim: usize,
    radius: f64,
    min_size: usize,
    seeding: Seeding,
) -> Partition {
    let n = points.len() / dim;
    let mut labels: Vec<Option<usize>> = vec![None; n];
    let mut centres: Vec<Vec<f64>> = Vec::new();
    loop {
        let remaining: Vec<usize> = (0..n).filter(|&i| labels[i].is_none()).collect();
        if remaining.len() < min_size.max(1) {
            break;
        }
        let sub: Vec<f64> = remaining
            .iter()
            .flat_map(|&i| points[i * dim..(i + 1) * dim].iter().copied())
            .collect();
        let shift = mean_shift(&sub, dim, radius, seeding);
        let r2 = radius * radius;
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); shift.centres.len()];
        for (local, label) in shift.labels.iter().enumerate() {
            let Some(label) = *label else { continue };
            let p = &sub[local * dim..(local + 1) * dim];
            if squared_distance(p, &shift.centres[label]) <= r2 {
                members[label].push(remaining[local]);
            }
        }
        let mut kept_any = false;
        for (centre, group) in shift.centres.into_iter().zip(members) {
            if group.len() >= min_size.max(1) {
                let id = centres.len();
                for i in group {
                    labels[i] = Some(id);
                }
                centres.push(centre);
                kept_any = true;
            }
        }
        if !kept_any {
            break;
        }
    }
    Partition { labels, centres }
}
