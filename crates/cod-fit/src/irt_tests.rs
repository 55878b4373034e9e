//! Oracle tests of the IRT fit: counts simulated from known parameters must be recovered within
//! their standard errors, degenerate items must stay finite, and bad inputs must be named.

use crate::irt::{Floor, IrtFit, IrtOptions, IrtPrior, Item, fit_irt, fit_item};

/// The COD paper's ladder compute in units of 1e18 FLOPs.
pub(crate) const LADDER: [f64; 8] = [
    39.9, 121.0, 308.0, 689.0, 1390.0, 4550.0, 50500.0, 141_000.0,
];

/// splitmix64 with Box–Muller normals and summed-Bernoulli binomials: a seeded stream, to keep
/// the tests self-contained.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(crate) fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    pub(crate) fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    pub(crate) fn binomial(&mut self, n: u32, p: f64) -> u32 {
        (0..n).map(|_| u32::from(self.uniform() < p)).sum()
    }
}

/// Known parameters of a simulated benchmark.
pub(crate) struct Truth {
    pub(crate) guess: f64,
    pub(crate) ln_a: Vec<f64>,
    pub(crate) b: Vec<f64>,
}

impl Truth {
    /// Items with ln a ~ N(ln_a.0, ln_a.1²) and b ~ U(b.0, b.1).
    fn random(n_items: usize, guess: f64, ln_a: (f64, f64), b: (f64, f64), rng: &mut Rng) -> Truth {
        Truth {
            guess,
            ln_a: (0..n_items)
                .map(|_| ln_a.0 + ln_a.1 * rng.normal())
                .collect(),
            b: (0..n_items)
                .map(|_| b.0 + (b.1 - b.0) * rng.uniform())
                .collect(),
        }
    }

    pub(crate) fn probability(&self, item: usize, theta: f64) -> f64 {
        let z = self.ln_a[item].exp() * (theta - self.b[item]);
        self.guess + (1.0 - self.guess) / (1.0 + (-z).exp())
    }

    pub(crate) fn mean(&self, theta: f64) -> f64 {
        (0..self.b.len())
            .map(|j| self.probability(j, theta))
            .sum::<f64>()
            / self.b.len() as f64
    }

    /// Item-major (n_correct, n_samples) with `n` attempts per cell.
    pub(crate) fn simulate(&self, theta: &[f64], n: u32, rng: &mut Rng) -> (Vec<u32>, Vec<u32>) {
        let mut correct = Vec::with_capacity(self.b.len() * theta.len());
        for j in 0..self.b.len() {
            for &t in theta {
                correct.push(rng.binomial(n, self.probability(j, t)));
            }
        }
        let samples = vec![n; correct.len()];
        (correct, samples)
    }

    /// The asymptotic covariance [var ln a, cov, var b] of item j's MAP estimate: the inverse of
    /// the expected information at the truth, n·p'(z)²/(p·(1 − p)) per cell, chain-ruled to
    /// (ln a, b), plus the prior precision.
    fn covariance(&self, item: usize, theta: &[f64], n: u32, prior: &IrtPrior) -> [f64; 3] {
        let (g, a, b) = (self.guess, self.ln_a[item].exp(), self.b[item]);
        let mut info = [prior.sd_ln_a.powi(-2), 0.0, prior.sd_b.powi(-2)];
        for &t in theta {
            let z = a * (t - b);
            let s = 1.0 / (1.0 + (-z).exp());
            let p = g + (1.0 - g) * s;
            let dp = (1.0 - g) * s * (1.0 - s);
            let w = f64::from(n) * dp * dp / (p * (1.0 - p));
            info[0] += w * z * z;
            info[1] -= w * z * a;
            info[2] += w * a * a;
        }
        let det = info[0] * info[2] - info[1] * info[1];
        [info[2] / det, -info[1] / det, info[0] / det]
    }
}

pub(crate) fn log10_ladder() -> Vec<f64> {
    LADDER.iter().map(|c| c.log10()).collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn fraction(v: &[f64], within: impl Fn(f64) -> bool) -> f64 {
    v.iter().filter(|&&x| within(x)).count() as f64 / v.len() as f64
}

/// 12 models over 3 decades of compute, θ = 1 … 4.
fn wide_ladder() -> Vec<f64> {
    (0..12).map(|i| 1.0 + 3.0 * f64::from(i) / 11.0).collect()
}

/// The total log posterior of a fit at a fixed guess floor: the profile that a free g maximizes.
fn profile(theta: &[f64], correct: &[u32], samples: &[u32], g: f64) -> f64 {
    let fit = fit_irt(
        theta,
        correct,
        samples,
        &IrtOptions::from_theta(theta, Some(g)),
    )
    .unwrap();
    fit.log_likelihood + fit.log_prior
}

#[test]
fn simulated_items_are_recovered_within_their_standard_errors() {
    // 2,000 items emerging from a decade below the ladder to a decade above it, 200 samples a
    // cell, g fixed at its true 0.25.
    let theta = wide_ladder();
    let n = 200;
    let mut rng = Rng(1);
    let truth = Truth::random(2000, 0.25, (1.5f64.ln(), 0.5), (0.0, 5.0), &mut rng);
    let (correct, samples) = truth.simulate(&theta, n, &mut rng);
    let options = IrtOptions::from_theta(&theta, Some(truth.guess));
    let fit = fit_irt(&theta, &correct, &samples, &options).unwrap();
    assert_eq!(fit.unconverged, 0);

    let target = theta[11] + 1.0;
    let (mut z_ln_a, mut z_b, mut err_b, mut se_b) = (vec![], vec![], vec![], vec![]);
    let mut var_predict = 0.0;
    for j in 0..truth.b.len() {
        let cov = truth.covariance(j, &theta, n, &options.prior);
        z_ln_a.push((fit.a[j].ln() - truth.ln_a[j]) / cov[0].sqrt());
        z_b.push((fit.b[j] - truth.b[j]) / cov[2].sqrt());
        err_b.push((fit.b[j] - truth.b[j]).abs());
        se_b.push(cov[2].sqrt());
        // Delta method for P_j(target): ∂P/∂ln a = p'(z)·z, ∂P/∂b = −p'(z)·a.
        let a = truth.ln_a[j].exp();
        let z = a * (target - truth.b[j]);
        let s = 1.0 / (1.0 + (-z).exp());
        let dp = (1.0 - truth.guess) * s * (1.0 - s);
        let (ga, gb) = (dp * z, -dp * a);
        var_predict += ga * ga * cov[0] + 2.0 * ga * gb * cov[1] + gb * gb * cov[2];
    }
    // An efficient estimator has z-scores ~ N(0, 1): 99.7% within 3, median |z| 0.674. Allow
    // 95% and 0.8 for the prior's shrinkage of the items at the ladder's ends and their
    // non-normal tails; the median's own sampling sd over 2,000 items is about 0.02.
    for (name, z) in [("ln a", &z_ln_a), ("b", &z_b)] {
        let within = fraction(z, |z| z.abs() <= 3.0);
        assert!(within >= 0.95, "{name}: {within} of items within 3 se");
        let med = median(z.iter().map(|z| z.abs()).collect());
        assert!(med <= 0.8, "{name}: median |z| {med}");
    }
    // The same in decades: the median error of b is expected at 0.674 × the median se (here
    // about 0.05 decades); allow the median se itself.
    let (med_err, med_se) = (median(err_b), median(se_b));
    assert!(
        med_err <= med_se,
        "median |b − b̂| {med_err}, median se {med_se}"
    );
    // A decade past the largest model, the mean over items is off by its delta-method se
    // (about 0.002); allow 4 se.
    let se_predict = var_predict.sqrt() / truth.b.len() as f64;
    let (want, got) = (truth.mean(target), fit.predict(target));
    assert!(
        (want - got).abs() <= 4.0 * se_predict,
        "predicted {got}, true {want}, se {se_predict}"
    );
}

#[test]
fn free_guess_floor_is_recovered() {
    let theta = wide_ladder();
    for (seed, g) in [(2, 0.0), (3, 0.2), (4, 0.45)] {
        let mut rng = Rng(seed);
        let truth = Truth::random(1000, g, (1.5f64.ln(), 0.5), (0.0, 5.0), &mut rng);
        let (correct, samples) = truth.simulate(&theta, 100, &mut rng);
        let options = IrtOptions::from_theta(&theta, None);
        let fit = fit_irt(&theta, &correct, &samples, &options).unwrap();
        assert!((0.0..0.99).contains(&fit.guess), "g = {g}: {}", fit.guess);
        // The estimate maximizes the profile log posterior: no worse than 0.01 to either side.
        let h = 0.01;
        let at = |g: f64| profile(&theta, &correct, &samples, g);
        let (mid, hi) = (at(fit.guess), at(fit.guess + h));
        let lo = if fit.guess >= h {
            at(fit.guess - h)
        } else {
            at(fit.guess + 2.0 * h)
        };
        let slack = 1e-9 * mid.abs();
        assert!(
            mid + slack >= lo && mid + slack >= hi,
            "g = {g}: {lo} {mid} {hi}"
        );
        // Its standard error from the profile's curvature (one-sided at the boundary), about
        // 0.0015 here; allow 4 se plus the search's bracket width. The interior estimates run
        // about 2 se low, with weak and strong priors alike: each item's two parameters come
        // from 12 cells, which biases the profile (the incidental-parameter effect).
        let curvature = (lo - 2.0 * mid + hi) / (h * h);
        let se = (-1.0 / curvature).sqrt();
        assert!(
            (fit.guess - g).abs() <= 4.0 * se + 1e-4,
            "g = {g}: estimated {}, se {se}",
            fit.guess
        );
    }
}

/// Hand-made one-attempt patterns appended to the simulated items, in this order, last.
const PATTERNS: [[u32; 8]; 5] = [
    [0; 8],
    [1; 8],
    [0, 0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 1, 1],
    [0, 1, 0, 1, 0, 1, 0, 1],
];

/// BIG-bench's shape: 14,000 items with one greedy 0/1 attempt each on the 8 COD ladder models,
/// emerging from a decade below the ladder to two decades above it, then [`PATTERNS`].
fn one_attempt_benchmark(guess: f64, seed: u64) -> (Vec<f64>, Truth, Vec<u32>, Vec<u32>) {
    let theta = log10_ladder();
    let mut rng = Rng(seed);
    let b_range = (theta[0] - 1.0, theta[7] + 2.0);
    let truth = Truth::random(14_000, guess, (2f64.ln(), 0.5), b_range, &mut rng);
    let (mut correct, mut samples) = truth.simulate(&theta, 1, &mut rng);
    for p in &PATTERNS {
        correct.extend_from_slice(p);
        samples.extend_from_slice(&[1; 8]);
    }
    (theta, truth, correct, samples)
}

/// Fits with g fixed; checks that every item is finite, all-zero and all-one items included;
/// returns the fit and the observed mean at the largest model.
fn fit_one_attempt(theta: &[f64], correct: &[u32], samples: &[u32], g: f64) -> (IrtFit, f64) {
    let options = IrtOptions::from_theta(theta, Some(g));
    let fit = fit_irt(theta, correct, samples, &options).unwrap();
    assert_eq!(fit.unconverged, 0);
    let n_items = fit.a.len();
    assert_eq!(n_items, 14_005);
    let row = |j: usize| &correct[j * 8..j * 8 + 8];
    let zeros = (0..n_items)
        .filter(|&j| row(j).iter().all(|&k| k == 0))
        .count();
    let ones = (0..n_items)
        .filter(|&j| row(j).iter().all(|&k| k == 1))
        .count();
    assert!(
        zeros > 100 && ones > 100,
        "{zeros} all-zero, {ones} all-one items"
    );
    for j in 0..n_items {
        assert!(
            fit.a[j].is_finite() && fit.a[j] > 0.0 && fit.b[j].is_finite(),
            "item {j} ({:?}): a {}, b {}",
            row(j),
            fit.a[j],
            fit.b[j]
        );
    }
    let observed = (0..n_items).map(|j| f64::from(row(j)[7])).sum::<f64>() / n_items as f64;
    (fit, observed)
}

#[test]
fn one_attempt_items_stay_finite_and_match_the_largest_model() {
    let (theta, truth, correct, samples) = one_attempt_benchmark(0.0, 5);
    let (fit, observed) = fit_one_attempt(&theta, &correct, &samples, 0.0);
    // 0,…,0,1 has no finite maximum-likelihood curve; the MAP one rises between the two largest
    // models, and steeper than the prior's centre (a = 1).
    let j = fit.a.len() - 3;
    assert!(
        fit.a[j] > 2.0 && theta[6] < fit.b[j] && fit.b[j] < theta[7],
        "0,…,0,1: a {}, b {}",
        fit.a[j],
        fit.b[j]
    );
    // The observed mean at the largest model has binomial se ≤ 0.5/√14,005 ≈ 0.004. The fit
    // sits above it by about 0.014: with one attempt the prior flattens the never-solved items
    // (a toward 1, b toward the ladder), which lifts them at the top of the ladder; the true mean
    // lies in between. Allow 0.02 against both. Dropping the all-zero items would add about 0.2.
    let predicted = fit.predict(theta[7]);
    let true_mean = truth.mean(theta[7]);
    assert!(
        (predicted - observed).abs() <= 0.02 && (predicted - true_mean).abs() <= 0.02,
        "predicted {predicted}, observed {observed}, true {true_mean}"
    );
}

#[test]
fn one_attempt_items_above_a_floor_are_lifted_at_the_largest_model() {
    // FIXME: with one attempt and a floor (g = 0.25, four-choice items), the mean of the MAP
    // curves at the largest model sits about 0.05 above the observed (and true) mean: an item
    // still at the floor can only be fitted with a rising curve (a > 0), so its chance successes
    // lift it at the top, and the prior pulls its b from beyond the ladder into it. Its binomial
    // se is 0.004, so this is bias. A prior fitted to the items (empirical Bayes) would be the
    // fix; until then this pins the gap between 0.03 and 0.07.
    let (theta, truth, correct, samples) = one_attempt_benchmark(0.25, 6);
    let (fit, observed) = fit_one_attempt(&theta, &correct, &samples, 0.25);
    let (predicted, true_mean) = (fit.predict(theta[7]), truth.mean(theta[7]));
    assert!(
        (0.03..0.07).contains(&(predicted - observed)) && (observed - true_mean).abs() < 0.015,
        "predicted {predicted}, observed {observed}, true {true_mean}"
    );
    // FIXME: for the same reason a free g collapses towards 0 on one-attempt data (per-item
    // curves absorb the floor), so callers should fix g for such benchmarks.
    let free = fit_irt(
        &theta,
        &correct,
        &samples,
        &IrtOptions::from_theta(&theta, None),
    )
    .unwrap();
    assert!(free.guess < 0.1, "free g {}", free.guess);
}

/// Fits `correct`/`samples` with the default options and expects exactly the error `expected`.
fn check(theta: &[f64], correct: &[u32], samples: &[u32], guess: Option<f64>, expected: &str) {
    check_with(
        theta,
        correct,
        samples,
        &IrtOptions::from_theta(theta, guess),
        expected,
    );
}

fn check_with(
    theta: &[f64],
    correct: &[u32],
    samples: &[u32],
    options: &IrtOptions,
    expected: &str,
) {
    let err = fit_irt(theta, correct, samples, options)
        .unwrap_err()
        .to_string();
    assert_eq!(err, expected);
}

#[test]
fn input_errors_are_clear() {
    let theta = [1.0, 2.0, 3.0];
    let ones = [1; 6];
    check(
        &theta,
        &[1; 6],
        &[1; 5],
        None,
        "`n_correct` has 6 cells but `n_samples` has 5",
    );
    check(
        &theta,
        &[1; 5],
        &[1; 5],
        None,
        "the counts have 5 cells, which is not a multiple of the 3 models",
    );
    check(
        &theta,
        &[],
        &[],
        None,
        "IRT needs at least one item, found: 0",
    );
    check(
        &theta,
        &[0, 0, 0, 0, 3, 0],
        &[2; 6],
        None,
        "`n_correct` must not exceed `n_samples`, found: 3 > 2 at item 1, model 1",
    );
    check(
        &[1.0, f64::NAN, 3.0],
        &ones,
        &ones,
        None,
        "θ of model 1 must be finite, found: NaN",
    );
    check(
        &[2.0, 2.0, 2.0],
        &ones,
        &ones,
        None,
        "IRT needs at least 2 distinct θ values, found: 1 (over 3 models)",
    );
    check(
        &[],
        &[],
        &[],
        None,
        "IRT needs at least 2 distinct θ values, found: 0 (over 0 models)",
    );
    for (g, shown) in [(1.0, "1"), (-0.1, "-0.1"), (f64::NAN, "NaN")] {
        check(
            &theta,
            &ones,
            &ones,
            Some(g),
            &format!("the guess floor must be in [0, 1), found: {shown}"),
        );
    }
    let mut options = IrtOptions::from_theta(&theta, None);
    options.prior.sd_b = 0.0;
    check_with(
        &theta,
        &ones,
        &ones,
        &options,
        "the IRT prior's `sd_b` must be positive and finite, found: 0",
    );
    let mut options = IrtOptions::from_theta(&theta, None);
    options.tolerance = 0.0;
    check_with(
        &theta,
        &ones,
        &ones,
        &options,
        "`tolerance` must be positive and finite, found: 0",
    );
    let mut options = IrtOptions::from_theta(&theta, None);
    options.max_iters = 0;
    check_with(
        &theta,
        &ones,
        &ones,
        &options,
        "`max_iters` must be at least 1, found: 0",
    );
}

#[test]
fn the_prior_keeps_an_all_one_item_finite() {
    // Every model solves the item, once and 200 times out of 200: the likelihood alone rises
    // towards 0 without bound as a → ∞ (or b → −∞), so only the prior stops it.
    let theta = log10_ladder();
    let mut correct = vec![1; 8];
    correct.extend_from_slice(&[200; 8]);
    let mut samples = vec![1; 8];
    samples.extend_from_slice(&[200; 8]);
    let options = IrtOptions::from_theta(&theta, Some(0.25));
    // Held by the prior: ln a and b within 1.5 prior sd of their centres (a < 9.5), and the smallest model still fails now and then (1 − P > 1e-5).
    // Unheld, the curve steepens until the likelihood is 0 to rounding, 1 − P ≈ 1e-13.
    let held = |fit: &IrtFit, j: usize| {
        let prior = &options.prior;
        (fit.a[j].ln() - prior.mu_ln_a).abs() < 1.5 * prior.sd_ln_a
            && (fit.b[j] - prior.mu_b).abs() < 1.5 * prior.sd_b
            && 1.0 - fit.probability(j, theta[0]) > 1e-5
    };
    let fit = fit_irt(&theta, &correct, &samples, &options).unwrap();
    assert_eq!(fit.unconverged, 0);
    for j in 0..2 {
        assert!(held(&fit, j), "item {j}: a {}, b {}", fit.a[j], fit.b[j]);
        // And still an item that every model solves.
        assert!(fit.probability(j, theta[0]) > 0.9, "item {j}: {fit:?}");
    }
    // The check discriminates: with a practically flat prior the same items run away.
    let mut flat = options;
    flat.prior.sd_ln_a = 1e6;
    flat.prior.sd_b = 1e6;
    let fit = fit_irt(&theta, &correct, &samples, &flat).unwrap();
    for j in 0..2 {
        assert!(
            !held(&fit, j),
            "flat prior, item {j}: a {}, b {}",
            fit.a[j],
            fit.b[j]
        );
    }
}

/// The log posterior of one item, computed directly from its definition.
fn naive_log_posterior(item: &Item, g: f64, prior: &IrtPrior, x: [f64; 2]) -> f64 {
    let a = x[0].exp();
    let mut sum = -0.5
        * (((x[0] - prior.mu_ln_a) / prior.sd_ln_a).powi(2)
            + ((x[1] - prior.mu_b) / prior.sd_b).powi(2));
    for ((&t, &k), &n) in item.theta.iter().zip(item.n_correct).zip(item.n_samples) {
        let p = g + (1.0 - g) / (1.0 + (-a * (t - x[1])).exp());
        sum += f64::from(k) * p.ln() + f64::from(n - k) * (1.0 - p).ln();
    }
    sum
}

#[test]
fn damped_newton_finds_the_map_from_far_starts() {
    let theta = log10_ladder();
    let prior = IrtPrior::from_theta(&theta);
    let items: [([u32; 8], u32); 4] = [
        ([3, 10, 40, 90, 150, 190, 199, 200], 200),
        ([0, 0, 0, 0, 0, 0, 0, 1], 1),
        ([1; 8], 1),
        ([0, 1, 0, 1, 1, 0, 1, 1], 1),
    ];
    let starts = [
        [prior.mu_ln_a, prior.mu_b],
        [-6.0, -20.0],
        [-6.0, 20.0],
        [6.0, -20.0],
        [6.0, 20.0],
    ];
    for g in [0.0, 0.25] {
        let floor = Floor::new(g);
        for (correct, n) in &items {
            let samples = [*n; 8];
            let item = Item {
                theta: &theta,
                n_correct: correct,
                n_samples: &samples,
            };
            let fits: Vec<_> = starts
                .iter()
                .map(|&s| fit_item(&item, &floor, &prior, s, 100, 1e-10))
                .collect();
            for (s, f) in starts.iter().zip(&fits) {
                assert!(f.converged, "g {g}, {correct:?} from {s:?}: {f:?}");
                let d = (f.ln_a - fits[0].ln_a).abs().max((f.b - fits[0].b).abs());
                assert!(
                    d < 1e-6,
                    "g {g}, {correct:?} from {s:?}: {f:?} vs {:?}",
                    fits[0]
                );
            }
            // A stationary point of the log posterior as defined, and a maximum: the central
            // difference gradient (error ~1e-8 at h = 1e-5) vanishes, and moving 1e-3 either way
            // along each axis loses.
            let x = [fits[0].ln_a, fits[0].b];
            let f = |x: [f64; 2]| naive_log_posterior(&item, g, &prior, x);
            for axis in 0..2 {
                let shifted = |h: f64| {
                    let mut y = x;
                    y[axis] += h;
                    f(y)
                };
                let grad = (shifted(1e-5) - shifted(-1e-5)) / 2e-5;
                assert!(grad.abs() < 1e-5, "g {g}, {correct:?}: ∂{axis} = {grad}");
                assert!(
                    f(x) > shifted(1e-3) && f(x) > shifted(-1e-3),
                    "g {g}, {correct:?}: not a maximum along {axis}"
                );
            }
        }
    }
}
