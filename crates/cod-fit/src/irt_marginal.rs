//! Item response theory with empirical-Bayes priors: the model of [`crate::irt`],
//! P_ij = g + (1 − g)·σ(a_j·(θ_i − b_j)), with the items' (ln a_j, b_j) drawn from a normal
//! population whose parameters (and g, when free) maximize the marginal likelihood of the counts.
//! A prediction is the posterior mean over items, not a plug-in of per-item estimates.
//!
//! Why: with one 0/1 attempt per item, each item's maximum a posteriori curve follows its noise
//! (an item that a small model solved by chance gets a rising curve), and a fixed prior decides
//! where never-solved items go. The population learned from all items shrinks each item towards
//! what the benchmark's items are like, and averaging over each item's posterior keeps the
//! uncertainty of a 0/1 pattern in the prediction.
//!
//! **Integration.** Each item's likelihood is integrated over a fixed grid of `GRID` × `GRID`
//! standard-normal points (evenly spaced on ±`GRID_RANGE` standard deviations, weights the normal
//! density, normalized), scaled by the population's means and spreads. **Hyperparameters.**
//! Nelder–Mead (argmin) on (μ_ln a, ln σ_ln a, μ_b, ln σ_b[, logit g/0.99]) from the default prior
//! of [`crate::irt::IrtPrior::from_theta`]; spreads are kept within [`MIN_SD`, `MAX_SD` × the θ
//! range].
//!
//! The population is fitted on at most [`POPULATION_ITEMS`] items; the posterior uses all.
//!
//! **Invariant**: numbers in, numbers out; no files and no artifacts.

use anyhow::{Result, bail};
use argmin::core::{CostFunction, Executor};
use argmin::solver::neldermead::NelderMead;
use rayon::prelude::*;

use crate::irt::IrtPrior;

/// Grid points per parameter.
const GRID: usize = 17;
/// The grid spans this many standard deviations either side of the mean.
const GRID_RANGE: f64 = 4.0;
/// The least population spread of ln a and of b.
const MIN_SD: f64 = 0.05;
/// The largest spread of b, in θ ranges (and of ln a, absolutely).
const MAX_SD: f64 = 10.0;
/// The upper end (excluded) of a free guess floor.
const GUESS_MAX: f64 = 0.99;
/// Nelder–Mead's iteration limit and the spread of the simplex's costs at which it stops.
const MAX_ITERS: u64 = 200;
/// In log-likelihood units: far below what separates two populations that predict differently.
const SD_TOLERANCE: f64 = 1e-3;
/// The population is fitted on at most this many items, evenly spaced through the benchmark
/// (all of them when it has fewer); the posterior then uses every item. Five hyperparameters
/// are determined far more tightly by a few thousand items than a prediction needs, and the
/// marginal likelihood's cost grows with the items.
pub const POPULATION_ITEMS: usize = 2000;

/// The items' population and the guess floor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Population {
    pub mu_ln_a: f64,
    pub sd_ln_a: f64,
    pub mu_b: f64,
    pub sd_b: f64,
    pub guess: f64,
}

/// A fitted benchmark: its population and the item-averaged posterior over the grid.
#[derive(Clone, Debug)]
pub struct MarginalFit {
    pub population: Population,
    /// Log marginal likelihood of the counts (without the binomial coefficients).
    pub log_marginal: f64,
    /// (a, b) of every grid node.
    nodes: Vec<(f64, f64)>,
    /// Every node's posterior weight, averaged over the items.
    weights: Vec<f64>,
}

impl MarginalFit {
    /// The posterior mean, over items, of the probability of solving at ability `theta`.
    #[must_use]
    pub fn predict(&self, theta: f64) -> f64 {
        let g = self.population.guess;
        self.nodes
            .iter()
            .zip(&self.weights)
            .map(|(&(a, b), w)| w * (g + (1.0 - g) * sigmoid(a * (theta - b))))
            .sum()
    }
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// ln σ(z), accurate for large |z|.
fn ln_sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        -(-z).exp().ln_1p()
    } else {
        z - z.exp().ln_1p()
    }
}

/// The standard-normal grid: points and normalized weights.
fn grid() -> (Vec<f64>, Vec<f64>) {
    let z: Vec<f64> = (0..GRID)
        .map(|k| -GRID_RANGE + 2.0 * GRID_RANGE * k as f64 / (GRID - 1) as f64)
        .collect();
    let density: Vec<f64> = z.iter().map(|z| (-0.5 * z * z).exp()).collect();
    let total: f64 = density.iter().sum();
    (z, density.iter().map(|d| d / total).collect())
}

/// The counts of a benchmark, item-major, with the models' abilities.
/// Items with the same counts on every model share their likelihood, so each distinct row is
/// integrated once and counted as often as it occurs: one attempt per item over a ladder of 9
/// models allows at most 512 rows.
struct Counts<'a> {
    theta: &'a [f64],
    /// Distinct rows of (n_correct, n_samples) per model.
    rows: Vec<Vec<(u32, u32)>>,
    /// How many items have each row.
    multiplicity: Vec<f64>,
    items: usize,
}

impl<'a> Counts<'a> {
    /// The items `items` (indices) of the item-major counts.
    fn new(
        theta: &'a [f64],
        n_correct: &[u32],
        n_samples: &[u32],
        items: impl Iterator<Item = usize>,
    ) -> Counts<'a> {
        let m = theta.len();
        let mut index: std::collections::HashMap<Vec<(u32, u32)>, usize> =
            std::collections::HashMap::new();
        let (mut rows, mut multiplicity) = (Vec::new(), Vec::new());
        let mut total = 0;
        for j in items {
            let row: Vec<(u32, u32)> = (j * m..(j + 1) * m)
                .map(|c| (n_correct[c], n_samples[c]))
                .collect();
            let next = rows.len();
            let k = *index.entry(row.clone()).or_insert(next);
            if k == next {
                rows.push(row);
                multiplicity.push(0.0);
            }
            multiplicity[k] += 1.0;
            total += 1;
        }
        Counts {
            theta,
            rows,
            multiplicity,
            items: total,
        }
    }

    /// Log marginal likelihood under `population`, and optionally the item-averaged posterior.
    fn evaluate(
        &self,
        population: &Population,
        posterior: bool,
    ) -> (f64, Vec<(f64, f64)>, Vec<f64>) {
        let (z, w) = grid();
        let mut nodes = Vec::with_capacity(GRID * GRID);
        let mut prior = Vec::with_capacity(GRID * GRID);
        for (za, wa) in z.iter().zip(&w) {
            for (zb, wb) in z.iter().zip(&w) {
                let a = (population.mu_ln_a + population.sd_ln_a * za).exp();
                nodes.push((a, population.mu_b + population.sd_b * zb));
                prior.push((wa * wb).ln());
            }
        }
        let g = population.guess;
        let m = self.theta.len();
        // ln P and ln(1 − P) per node and model.
        let (ln_p, ln_q): (Vec<f64>, Vec<f64>) = nodes
            .iter()
            .flat_map(|&(a, b)| {
                self.theta.iter().map(move |&t| {
                    let z = a * (t - b);
                    if g == 0.0 {
                        (ln_sigmoid(z), ln_sigmoid(-z))
                    } else {
                        let s = sigmoid(z);
                        (
                            (g + (1.0 - g) * s).ln(),
                            ((1.0 - g) * (1.0 - s)).max(f64::MIN_POSITIVE).ln(),
                        )
                    }
                })
            })
            .unzip();
        let n_nodes = nodes.len();
        let per_item = |row: &Vec<(u32, u32)>| -> (f64, Vec<f64>) {
            let mut log_joint = prior.clone();
            for (n, lj) in log_joint.iter_mut().enumerate() {
                for (i, &(k, total)) in row.iter().enumerate() {
                    if total > 0 {
                        *lj +=
                            f64::from(k) * ln_p[n * m + i] + f64::from(total - k) * ln_q[n * m + i];
                    }
                }
            }
            let top = log_joint.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let mut post: Vec<f64> = log_joint.iter().map(|l| (l - top).exp()).collect();
            let sum: f64 = post.iter().sum();
            if posterior {
                for p in &mut post {
                    *p /= sum;
                }
            } else {
                post.clear();
            }
            (top + sum.ln(), post)
        };
        let results: Vec<(f64, Vec<f64>)> = self.rows.par_iter().map(per_item).collect();
        let log_marginal = results
            .iter()
            .zip(&self.multiplicity)
            .map(|(r, times)| times * r.0)
            .sum();
        let mut weights = vec![0.0; if posterior { n_nodes } else { 0 }];
        if posterior {
            for ((_, post), times) in results.iter().zip(&self.multiplicity) {
                for (w, p) in weights.iter_mut().zip(post) {
                    *w += times * p;
                }
            }
            let n = self.items as f64;
            for w in &mut weights {
                *w /= n;
            }
        }
        (log_marginal, nodes, weights)
    }
}

/// Nelder–Mead's problem: minus the log marginal likelihood of the transformed hyperparameters.
struct Objective<'a> {
    counts: &'a Counts<'a>,
    guess: Option<f64>,
    range: f64,
}

impl Objective<'_> {
    fn population(&self, u: &[f64]) -> Population {
        Population {
            mu_ln_a: u[0],
            sd_ln_a: u[1].exp().clamp(MIN_SD, MAX_SD),
            mu_b: u[2],
            sd_b: u[3].exp().clamp(MIN_SD, MAX_SD * self.range),
            guess: self.guess.unwrap_or_else(|| GUESS_MAX * sigmoid(u[4])),
        }
    }
}

impl CostFunction for Objective<'_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, u: &Vec<f64>) -> std::result::Result<f64, argmin::core::Error> {
        let (log_marginal, _, _) = self.counts.evaluate(&self.population(u), false);
        Ok(if log_marginal.is_finite() {
            -log_marginal
        } else {
            f64::MAX
        })
    }
}

/// Checks the counts' shape and values; returns the abilities' range.
fn check(
    theta: &[f64],
    n_correct: &[u32],
    n_samples: &[u32],
    guess: Option<f64>,
) -> Result<(f64, f64)> {
    let m = theta.len();
    if m == 0 || n_correct.len() != n_samples.len() || !n_correct.len().is_multiple_of(m) {
        bail!(
            "counts must be items × {m} models: found {} successes and {} attempts",
            n_correct.len(),
            n_samples.len()
        );
    }
    if n_correct.is_empty() {
        bail!("no items to fit");
    }
    if let Some(t) = theta.iter().find(|t| !t.is_finite()) {
        bail!("abilities must be finite, found {t}");
    }
    if let Some(cell) = (0..n_correct.len()).find(|&c| n_correct[c] > n_samples[c]) {
        bail!(
            "item {} model {}: {} successes of {} attempts",
            cell / m,
            cell % m,
            n_correct[cell],
            n_samples[cell]
        );
    }
    if let Some(g) = guess.filter(|g| !(0.0..1.0).contains(g)) {
        bail!("the guess floor must be in [0, 1), found {g}");
    }
    let lo = theta.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = theta.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if hi <= lo {
        bail!("the models need at least 2 distinct abilities");
    }
    Ok((lo, hi))
}

/// Fits the population (and g when `guess` is `None`) to the counts, laid out as
/// [`crate::irt::fit_irt`] takes them; `start` replaces the default prior as the first guess (a
/// bootstrap passes the full data's population), and `optimize = false` keeps it as it is.
pub fn fit_marginal(
    theta: &[f64],
    n_correct: &[u32],
    n_samples: &[u32],
    guess: Option<f64>,
    start: Option<Population>,
    optimize: bool,
) -> Result<MarginalFit> {
    let (lo, hi) = check(theta, n_correct, n_samples, guess)?;
    let m = theta.len();
    let n_items = n_correct.len() / m;
    let counts = Counts::new(theta, n_correct, n_samples, 0..n_items);
    let subset = if n_items > POPULATION_ITEMS {
        let evenly = (0..POPULATION_ITEMS).map(|k| k * n_items / POPULATION_ITEMS);
        Counts::new(theta, n_correct, n_samples, evenly)
    } else {
        Counts::new(theta, n_correct, n_samples, 0..n_items)
    };
    let objective = Objective {
        counts: &subset,
        guess,
        range: hi - lo,
    };
    let prior = IrtPrior::from_theta(theta);
    let start = start.unwrap_or(Population {
        mu_ln_a: prior.mu_ln_a,
        sd_ln_a: prior.sd_ln_a,
        mu_b: prior.mu_b,
        sd_b: prior.sd_b,
        guess: guess.unwrap_or(0.1),
    });
    let guess_start = (start.guess / GUESS_MAX).clamp(1e-3, 1.0 - 1e-3);
    let mut u0 = vec![
        start.mu_ln_a,
        start.sd_ln_a.ln(),
        start.mu_b,
        start.sd_b.ln(),
    ];
    if guess.is_none() {
        u0.push((guess_start / (1.0 - guess_start)).ln());
    }
    let best = if optimize {
        let simplex: Vec<Vec<f64>> = std::iter::once(u0.clone())
            .chain((0..u0.len()).map(|k| {
                let mut v = u0.clone();
                v[k] += 0.5;
                v
            }))
            .collect();
        let solver = NelderMead::new(simplex).with_sd_tolerance(SD_TOLERANCE)?;
        let result = Executor::new(objective, solver)
            .configure(|state| state.max_iters(MAX_ITERS))
            .run()?;
        let u = result.state.best_param.clone().unwrap_or(u0);
        (Objective {
            counts: &subset,
            guess,
            range: hi - lo,
        })
        .population(&u)
    } else {
        Population {
            guess: guess.unwrap_or(start.guess),
            ..start
        }
    };
    let (log_marginal, nodes, weights) = counts.evaluate(&best, true);
    if !log_marginal.is_finite() {
        bail!("the marginal likelihood is not finite at the fitted population");
    }
    Ok(MarginalFit {
        population: best,
        log_marginal,
        nodes,
        weights,
    })
}
