//! Item response theory with ability tied to compute (METHODS §3, "IRT").
//!
//! Model i solves item j with probability
//!
//! P_ij = g + (1 − g)·σ(a_j·(θ_i − b_j)),  a_j > 0,
//!
//! where θ_i is given by the caller (log10 of the model's compute in units of 1e18 FLOPs), a_j is
//! the item's slope in logits per decade of compute, b_j the θ at which the item is half-way from
//! the floor g to 1, and g the benchmark's guess floor, shared by all items.
//!
//! **Fit.** Given θ and g, the items are independent two-parameter problems. Each is the maximum a
//! posteriori estimate of (ln a_j, b_j) under the binomial likelihood of its counts and the weak
//! normal priors of [`IrtPrior`], found by Newton's method with Levenberg–Marquardt damping (see
//! `fit_item`): the curvature is the observed information where it is positive definite and the
//! Fisher information otherwise, and a step is taken only if it does not lower the log
//! posterior. The prior keeps items that every model (or no model) solves finite, so no item is
//! dropped. Each item starts from the prior's centre.
//!
//! **Free g.** Chosen to maximize the total log posterior over [0, 0.99) by a grid of 12 values, each
//! refitting every item from the previous grid value's estimates, then golden-section search to
//! a bracket of 1e-4 between the best grid value's neighbours, refitting from the best grid
//! value's estimates. The log posterior of an item without signal (e.g. at the floor for every
//! model) can have two modes, and warm starts choose by history, so at the chosen g each item
//! keeps the better of its warm fit and a fit from the prior's centre.
//!
//! **Invariant**: numbers in, numbers out; no files and no artifacts.

use anyhow::{Result, bail};
use rayon::prelude::*;

/// The upper end (excluded) of a free guess floor's range.
const GUESS_MAX: f64 = 0.99;
/// Grid values of a free guess floor before the golden-section refinement.
const GUESS_GRID: usize = 12;
/// Width of the golden-section bracket at which the free guess floor stops being refined. Far
/// below the floor's sampling error on any real benchmark.
const GUESS_TOLERANCE: f64 = 1e-4;
/// Tenfold damping increases tried before a Newton iteration gives up on finding an ascent step.
const MAX_DAMPING_TRIES: usize = 40;
/// A predicted gain below this fraction of the log posterior is lost in rounding: 64 ulps.
const ROUNDING: f64 = 64.0 * f64::EPSILON;

/// Weak normal priors on each item's parameters: ln a_j ~ N(mu_ln_a, sd_ln_a²) and
/// b_j ~ N(mu_b, sd_b²), independent across items and of each other.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IrtPrior {
    pub mu_ln_a: f64,
    pub sd_ln_a: f64,
    pub mu_b: f64,
    pub sd_b: f64,
}

impl IrtPrior {
    /// Default centre of ln a: a slope of 1 logit per decade, which takes an item from 27% to 73%
    /// of the way above the floor over one decade of compute.
    pub const MU_LN_A: f64 = 0.0;
    /// Default spread of ln a. Its 95% interval, a ∈ [0.05, 19], runs from items that need tens
    /// of decades to emerge to items that flip within a tenth of a decade; with one 0/1 attempt a
    /// separated pattern such as 0,0,0,1 has no finite maximum-likelihood slope, and this spread
    /// lets it fit a steep but finite curve.
    pub const SD_LN_A: f64 = 1.5;
    /// The least default spread of b, in decades, so a narrow ladder does not pin the items to it.
    pub const MIN_SD_B: f64 = 1.0;

    /// The default prior for a ladder: ln a ~ N([`Self::MU_LN_A`], [`Self::SD_LN_A`]²) and b
    /// centred on the mean θ, with spread the θ range (at least [`Self::MIN_SD_B`]). An item is
    /// thus expected somewhere near the ladder, and an item that no ladder model solves is placed
    /// above it, as far as its counts push against the prior (with the COD paper's 8-model ladder
    /// and one attempt per model, about a decade above the largest model).
    ///
    /// Meant for the θ passed to [`fit_irt`], which checks them; non-finite values are ignored
    /// here, and an empty θ gives a prior centred on 0.
    #[must_use]
    pub fn from_theta(theta: &[f64]) -> IrtPrior {
        let finite: Vec<f64> = theta.iter().copied().filter(|t| t.is_finite()).collect();
        let (mu_b, range) = if finite.is_empty() {
            (0.0, 0.0)
        } else {
            let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (finite.iter().sum::<f64>() / finite.len() as f64, hi - lo)
        };
        IrtPrior {
            mu_ln_a: Self::MU_LN_A,
            sd_ln_a: Self::SD_LN_A,
            mu_b,
            sd_b: range.max(Self::MIN_SD_B),
        }
    }

    /// The log prior density of (ln a, b), up to its constant.
    fn log_density(&self, ln_a: f64, b: f64) -> f64 {
        let za = (ln_a - self.mu_ln_a) / self.sd_ln_a;
        let zb = (b - self.mu_b) / self.sd_b;
        -0.5 * (za * za + zb * zb)
    }

    fn check(&self) -> Result<()> {
        for (name, mu) in [("mu_ln_a", self.mu_ln_a), ("mu_b", self.mu_b)] {
            if !mu.is_finite() {
                bail!("the IRT prior's `{name}` must be finite, found: {mu}");
            }
        }
        for (name, sd) in [("sd_ln_a", self.sd_ln_a), ("sd_b", self.sd_b)] {
            if !(sd.is_finite() && sd > 0.0) {
                bail!("the IRT prior's `{name}` must be positive and finite, found: {sd}");
            }
        }
        Ok(())
    }
}

/// Options of [`fit_irt`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IrtOptions {
    /// The guess floor g: fixed in [0, 1), or `None` to estimate it in [0, 0.99).
    pub guess: Option<f64>,
    pub prior: IrtPrior,
    /// Newton iterations per item (per evaluation of g when g is free).
    pub max_iters: usize,
    /// An item has converged when a Newton step moves neither ln a nor b by this much (or when
    /// the gain the step predicts is lost in rounding).
    pub tolerance: f64,
}

impl IrtOptions {
    /// Default iterations per item. Items typically converge in 5 to 15; the rest is headroom.
    pub const MAX_ITERS: usize = 100;
    /// Default step tolerance on ln a and b: far below any standard error, cheap to reach since
    /// Newton converges quadratically.
    pub const TOLERANCE: f64 = 1e-8;

    /// The defaults for a ladder: [`IrtPrior::from_theta`], [`Self::MAX_ITERS`] and
    /// [`Self::TOLERANCE`], with the given guess floor.
    #[must_use]
    pub fn from_theta(theta: &[f64], guess: Option<f64>) -> IrtOptions {
        IrtOptions {
            guess,
            prior: IrtPrior::from_theta(theta),
            max_iters: Self::MAX_ITERS,
            tolerance: Self::TOLERANCE,
        }
    }
}

/// A fitted IRT model.
#[derive(Clone, Debug, PartialEq)]
pub struct IrtFit {
    /// The guess floor g (the caller's, or the estimate).
    pub guess: f64,
    /// Slopes a_j > 0, in logits per decade of compute, one per item in input order.
    pub a: Vec<f64>,
    /// Locations b_j on the θ scale, one per item.
    pub b: Vec<f64>,
    /// Binomial log-likelihood of all counts at the estimates, without the binomial coefficients
    /// (they do not depend on the parameters).
    pub log_likelihood: f64,
    /// Log prior density of all items' parameters, without its constant. The fit maximizes
    /// `log_likelihood + log_prior`.
    pub log_prior: f64,
    /// The most Newton iterations any item took (at the chosen g).
    pub iterations: usize,
    /// Items that used up `max_iters` before converging; their estimates are the last iterate.
    pub unconverged: usize,
}

impl IrtFit {
    /// P_j(θ) = g + (1 − g)·σ(a_j·(θ − b_j)). Panics if `item` is out of range.
    #[must_use]
    pub fn probability(&self, item: usize, theta: f64) -> f64 {
        self.guess + (1.0 - self.guess) * sigmoid(self.a[item] * (theta - self.b[item]))
    }

    /// The predicted benchmark score at θ: the mean of P_j(θ) over all items.
    #[must_use]
    pub fn predict(&self, theta: f64) -> f64 {
        let sum: f64 = (0..self.a.len()).map(|j| self.probability(j, theta)).sum();
        sum / self.a.len() as f64
    }
}

/// Fits the IRT model to item-major counts: cell `item * theta.len() + model` holds how many of
/// `n_samples` attempts model `model` got right on item `item`. A cell with `n_samples == 0` was
/// not evaluated and is skipped; an item with no evaluated cell keeps the prior's centre.
pub fn fit_irt(
    theta: &[f64],
    n_correct: &[u32],
    n_samples: &[u32],
    options: &IrtOptions,
) -> Result<IrtFit> {
    check_inputs(theta, n_correct, n_samples, options)?;
    let problem = Problem {
        theta,
        n_correct,
        n_samples,
        options,
    };
    let (guess, items) = match options.guess {
        Some(g) => (g, problem.fit_all(g, None)),
        None => problem.fit_free_guess(),
    };
    let log_likelihood = items.iter().map(|f| f.log_likelihood).sum();
    let log_prior = items.iter().map(|f| f.log_prior).sum();
    Ok(IrtFit {
        guess,
        a: items.iter().map(|f| f.ln_a.exp()).collect(),
        b: items.iter().map(|f| f.b).collect(),
        log_likelihood,
        log_prior,
        iterations: items.iter().map(|f| f.iterations).max().unwrap_or(0),
        unconverged: items.iter().filter(|f| !f.converged).count(),
    })
}

fn check_inputs(
    theta: &[f64],
    n_correct: &[u32],
    n_samples: &[u32],
    options: &IrtOptions,
) -> Result<()> {
    if let Some((model, t)) = theta.iter().enumerate().find(|(_, t)| !t.is_finite()) {
        bail!("θ of model {model} must be finite, found: {t}");
    }
    let mut sorted = theta.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.dedup();
    if sorted.len() < 2 {
        bail!(
            "IRT needs at least 2 distinct θ values, found: {} (over {} models)",
            sorted.len(),
            theta.len()
        );
    }
    if n_correct.len() != n_samples.len() {
        bail!(
            "`n_correct` has {} cells but `n_samples` has {}",
            n_correct.len(),
            n_samples.len()
        );
    }
    let n_models = theta.len();
    if !n_correct.len().is_multiple_of(n_models) {
        bail!(
            "the counts have {} cells, which is not a multiple of the {n_models} models",
            n_correct.len()
        );
    }
    if n_correct.is_empty() {
        bail!("IRT needs at least one item, found: 0");
    }
    if let Some(cell) = (0..n_correct.len()).find(|&c| n_correct[c] > n_samples[c]) {
        bail!(
            "`n_correct` must not exceed `n_samples`, found: {} > {} at item {}, model {}",
            n_correct[cell],
            n_samples[cell],
            cell / n_models,
            cell % n_models
        );
    }
    if let Some(g) = options.guess
        && !(0.0..1.0).contains(&g)
    {
        bail!("the guess floor must be in [0, 1), found: {g}");
    }
    options.prior.check()?;
    if options.max_iters == 0 {
        bail!("`max_iters` must be at least 1, found: 0");
    }
    if !(options.tolerance.is_finite() && options.tolerance > 0.0) {
        bail!(
            "`tolerance` must be positive and finite, found: {}",
            options.tolerance
        );
    }
    Ok(())
}

/// Checked inputs of one fit.
struct Problem<'a> {
    theta: &'a [f64],
    n_correct: &'a [u32],
    n_samples: &'a [u32],
    options: &'a IrtOptions,
}

impl Problem<'_> {
    fn item(&self, j: usize) -> Item<'_> {
        let m = self.theta.len();
        Item {
            theta: self.theta,
            n_correct: &self.n_correct[j * m..(j + 1) * m],
            n_samples: &self.n_samples[j * m..(j + 1) * m],
        }
    }

    /// Every item's fit at guess floor g, from `starts` (or the prior's centre).
    fn fit_all(&self, g: f64, starts: Option<&[ItemFit]>) -> Vec<ItemFit> {
        let floor = Floor::new(g);
        let prior = &self.options.prior;
        let n_items = self.n_correct.len() / self.theta.len();
        (0..n_items)
            .into_par_iter()
            .with_min_len(64)
            .map(|j| {
                let start = starts.map_or([prior.mu_ln_a, prior.mu_b], |s| [s[j].ln_a, s[j].b]);
                fit_item(
                    &self.item(j),
                    &floor,
                    prior,
                    start,
                    self.options.max_iters,
                    self.options.tolerance,
                )
            })
            .collect()
    }

    /// The guess floor in [0, GUESS_MAX) with the highest total log posterior, and its fits.
    fn fit_free_guess(&self) -> (f64, Vec<ItemFit>) {
        let total =
            |fits: &[ItemFit]| -> f64 { fits.iter().map(|f| f.log_likelihood + f.log_prior).sum() };
        let h = GUESS_MAX / GUESS_GRID as f64;
        let mut best: Option<(f64, f64, Vec<ItemFit>)> = None;
        let mut last: Option<Vec<ItemFit>> = None;
        let mut best_k = 0;
        for k in 0..GUESS_GRID {
            let g = k as f64 * h;
            let fits = self.fit_all(g, last.as_deref());
            let value = total(&fits);
            if best.as_ref().is_none_or(|(_, v, _)| value > *v) {
                best = Some((g, value, fits.clone()));
                best_k = k;
            }
            last = Some(fits);
        }
        let (mut lo, mut hi) = (
            (best_k as f64 - 1.0).max(0.0) * h,
            ((best_k + 1) as f64 * h).min(GUESS_MAX),
        );
        let mut best = best.expect("the grid is not empty");
        let starts = best.2.clone();
        let evaluate = |g: f64, best: &mut (f64, f64, Vec<ItemFit>)| -> f64 {
            let fits = self.fit_all(g, Some(&starts));
            let value = total(&fits);
            if value > best.1 {
                *best = (g, value, fits);
            }
            value
        };
        let ratio = (5f64.sqrt() - 1.0) / 2.0;
        let mut x1 = hi - ratio * (hi - lo);
        let mut x2 = lo + ratio * (hi - lo);
        let mut f1 = evaluate(x1, &mut best);
        let mut f2 = evaluate(x2, &mut best);
        while hi - lo > GUESS_TOLERANCE {
            if f1 >= f2 {
                hi = x2;
                (x2, f2) = (x1, f1);
                x1 = hi - ratio * (hi - lo);
                f1 = evaluate(x1, &mut best);
            } else {
                lo = x1;
                (x1, f1) = (x2, f2);
                x2 = lo + ratio * (hi - lo);
                f2 = evaluate(x2, &mut best);
            }
        }
        // An item far from the ladder can have two modes (a gentle curve far away or a steep one
        // just beyond the ladder), and warm starts pick one by history; keep, item by item, the
        // better of the warm fit and a fit from the prior's centre, as a fixed g would give.
        let (g, _, mut fits) = best;
        let cold = self.fit_all(g, None);
        for (warm, cold) in fits.iter_mut().zip(cold) {
            if cold.log_likelihood + cold.log_prior > warm.log_likelihood + warm.log_prior {
                *warm = cold;
            }
        }
        (g, fits)
    }
}

/// One item's counts over the ladder.
pub(crate) struct Item<'a> {
    pub theta: &'a [f64],
    pub n_correct: &'a [u32],
    pub n_samples: &'a [u32],
}

/// The guess floor and the logarithms the likelihood needs.
pub(crate) struct Floor {
    g: f64,
    ln_g: f64,
    ln_1mg: f64,
}

impl Floor {
    pub(crate) fn new(g: f64) -> Floor {
        Floor {
            g,
            ln_g: g.ln(),
            ln_1mg: (-g).ln_1p(),
        }
    }
}

/// One item's estimate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct ItemFit {
    pub ln_a: f64,
    pub b: f64,
    pub log_likelihood: f64,
    pub log_prior: f64,
    pub iterations: usize,
    pub converged: bool,
}

/// σ(z), without overflow for either sign.
fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// ln(1 + eˣ), without overflow; 0 at x = −∞.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// ln p with p = g + (1 − g)·σ(z), without cancellation for large |z| (a difference of two
/// terms of size |z| would lose all digits once |z| reaches 1e16): for z ≥ 0,
/// p = (1 + g·e^(−z)) / (1 + e^(−z)), both near 1; for z < 0, p = (g + e^z) / (1 + e^z).
fn ln_p(z: f64, floor: &Floor) -> f64 {
    if z >= 0.0 {
        let e = (-z).exp();
        (floor.g * e).ln_1p() - e.ln_1p()
    } else {
        let (hi, lo) = if z > floor.ln_g {
            (z, floor.ln_g)
        } else {
            (floor.ln_g, z)
        };
        hi + (lo - hi).exp().ln_1p() - z.exp().ln_1p()
    }
}

/// The item's binomial log-likelihood at (ln a, b), without the binomial coefficients:
/// Σ k·ln p + (n − k)·ln(1 − p), with ln(1 − p) = ln(1 − g) − softplus(z).
fn item_log_likelihood(item: &Item, floor: &Floor, ln_a: f64, b: f64) -> f64 {
    let a = ln_a.exp();
    let mut sum = 0.0;
    for ((&t, &k), &n) in item.theta.iter().zip(item.n_correct).zip(item.n_samples) {
        if n == 0 {
            continue;
        }
        let z = a * (t - b);
        if k > 0 {
            sum += f64::from(k) * ln_p(z, floor);
        }
        if n > k {
            sum += f64::from(n - k) * (floor.ln_1mg - softplus(z));
        }
    }
    sum
}

/// The gradient of the item's log posterior in (ln a, b) and two curvature matrices, each as the
/// symmetric [I_aa, I_ab, I_bb] and each including the prior precision: the observed
/// information (minus the Hessian) and the expected (Fisher) information.
///
/// Per cell, with z = a·(θ − b), σ = σ(z), p = g + (1 − g)·σ, r = σ/p = 1 / (1 + g·e^(−z)) and
/// A = p'(z)/p = (1 − g)·(1 − σ)·r: the score in z is ℓ' = k·A − (n − k)·σ = (k − n·p)·r, its
/// derivative ℓ'' = (1 − 2σ)·ℓ' − k·A² − (n − k)·σ² (using p''/p' = 1 − 2σ), and the expected
/// information in z is n·(1 − g)·σ·(1 − σ)·r. Every factor lies in [0, 1], so none overflows.
/// The chain rule uses ∂z/∂ln a = ∂²z/∂ln a² = z, ∂z/∂b = ∂²z/∂ln a∂b = −a and ∂²z/∂b² = 0.
fn derivatives(
    item: &Item,
    floor: &Floor,
    prior: &IrtPrior,
    ln_a: f64,
    b: f64,
) -> ([f64; 2], [f64; 3], [f64; 3]) {
    let a = ln_a.exp();
    let mut grad = [0.0; 2];
    let mut observed = [0.0; 3];
    let mut expected = [0.0; 3];
    for ((&t, &k), &n) in item.theta.iter().zip(item.n_correct).zip(item.n_samples) {
        if n == 0 {
            continue;
        }
        let z = a * (t - b);
        let s = sigmoid(z);
        let r = (-softplus(floor.ln_g - z)).exp();
        let big_a = (1.0 - floor.g) * (1.0 - s) * r;
        let (k, n) = (f64::from(k), f64::from(n));
        let d1 = k * big_a - (n - k) * s;
        let d2 = (1.0 - 2.0 * s) * d1 - k * big_a * big_a - (n - k) * s * s;
        let info = n * (1.0 - floor.g) * s * (1.0 - s) * r;
        grad[0] += d1 * z;
        grad[1] -= d1 * a;
        observed[0] -= d2 * z * z + d1 * z;
        observed[1] += (d2 * z + d1) * a;
        observed[2] -= d2 * a * a;
        expected[0] += info * z * z;
        expected[1] -= info * z * a;
        expected[2] += info * a * a;
    }
    let (pa, pb) = (prior.sd_ln_a.powi(-2), prior.sd_b.powi(-2));
    grad[0] -= (ln_a - prior.mu_ln_a) * pa;
    grad[1] -= (b - prior.mu_b) * pb;
    for m in [&mut observed, &mut expected] {
        m[0] += pa;
        m[2] += pb;
    }
    (grad, observed, expected)
}

/// The MAP estimate of one item's (ln a, b) by damped Newton from `start`.
///
/// The curvature is the observed information where it is positive definite (near the optimum,
/// so convergence is quadratic) and the expected information elsewhere (always positive
/// definite, as it includes the prior precision). The item has converged when the undamped step
/// moves neither coordinate by `tolerance`, or when the gain it predicts, ½·δᵀ∇, is at the
/// rounding level of the log posterior; that step is then taken. Otherwise the step solves
/// (I + λ·diag I)·δ = ∇ (Levenberg–Marquardt) and is taken only if the log posterior does not
/// fall; if it falls, λ grows tenfold (from 1e-3 when it was 0). After an accepted step λ shrinks
/// tenfold, to 0 below 1e-10. A damped step moves no coordinate by more than one prior sd, so a
/// poor start cannot throw an item onto the plateau where its curve is a step function.
pub(crate) fn fit_item(
    item: &Item,
    floor: &Floor,
    prior: &IrtPrior,
    start: [f64; 2],
    max_iters: usize,
    tolerance: f64,
) -> ItemFit {
    let objective =
        |x: [f64; 2]| item_log_likelihood(item, floor, x[0], x[1]) + prior.log_density(x[0], x[1]);
    let mut x = start;
    let mut value = objective(x);
    let mut lambda: f64 = 0.0;
    let mut iterations = 0;
    let mut converged = false;
    while iterations < max_iters {
        iterations += 1;
        let (grad, observed, expected) = derivatives(item, floor, prior, x[0], x[1]);
        let info = if positive_definite(observed) {
            observed
        } else {
            expected
        };
        let newton = damped_step(grad, info, 0.0);
        let gain = 0.5 * (newton[0] * grad[0] + newton[1] * grad[1]);
        if newton[0].abs().max(newton[1].abs()) < tolerance
            || gain <= ROUNDING * value.abs().max(1.0)
        {
            x = [x[0] + newton[0], x[1] + newton[1]];
            converged = true;
            break;
        }
        let mut accepted = false;
        for _ in 0..MAX_DAMPING_TRIES {
            let step = capped(damped_step(grad, info, lambda), prior);
            let trial = [x[0] + step[0], x[1] + step[1]];
            let trial_value = objective(trial);
            if trial_value.is_finite() && trial_value >= value {
                (x, value) = (trial, trial_value);
                accepted = true;
                lambda = if lambda < 1e-10 { 0.0 } else { lambda / 10.0 };
                break;
            }
            lambda = if lambda == 0.0 { 1e-3 } else { lambda * 10.0 };
        }
        if !accepted {
            break;
        }
    }
    ItemFit {
        ln_a: x[0],
        b: x[1],
        log_likelihood: item_log_likelihood(item, floor, x[0], x[1]),
        log_prior: prior.log_density(x[0], x[1]),
        iterations,
        converged,
    }
}

/// δ scaled down, direction kept, so it moves no coordinate by more than one prior sd.
fn capped(step: [f64; 2], prior: &IrtPrior) -> [f64; 2] {
    let size = (step[0] / prior.sd_ln_a)
        .abs()
        .max((step[1] / prior.sd_b).abs());
    if size > 1.0 {
        [step[0] / size, step[1] / size]
    } else {
        step
    }
}

fn positive_definite(m: [f64; 3]) -> bool {
    m[0] > 0.0 && m[0] * m[2] - m[1] * m[1] > 0.0
}

/// δ solving (I + λ·diag I)·δ = ∇ for a symmetric positive definite 2×2 [I_aa, I_ab, I_bb]; δ is
/// an ascent direction for every λ ≥ 0.
fn damped_step(grad: [f64; 2], info: [f64; 3], lambda: f64) -> [f64; 2] {
    let (d_aa, d_bb) = (info[0] * (1.0 + lambda), info[2] * (1.0 + lambda));
    let det = d_aa * d_bb - info[1] * info[1];
    [
        (d_bb * grad[0] - info[1] * grad[1]) / det,
        (d_aa * grad[1] - info[1] * grad[0]) / det,
    ]
}
