//! Oracle tests of the empirical-Bayes IRT fit: benchmarks simulated from a known population of
//! items, with one 0/1 attempt per cell (the hard case) and with repeated sampling.

use crate::irt::{IrtOptions, fit_irt};
use crate::irt_marginal::{Population, fit_marginal};
use crate::irt_tests::{Rng, Truth, log10_ladder};

/// Items drawn from the population ln a ~ N(0.3, 0.4²), b ~ N(4.5, 0.8²) on the COD ladder's
/// log10 compute (1.6 to 5.15): most items emerge within or just beyond the ladder.
fn population_truth(n_items: usize, guess: f64, rng: &mut Rng) -> Truth {
    Truth {
        guess,
        ln_a: (0..n_items).map(|_| 0.3 + 0.4 * rng.normal()).collect(),
        b: (0..n_items).map(|_| 4.5 + 0.8 * rng.normal()).collect(),
    }
}

#[test]
fn the_population_and_the_extrapolation_are_recovered_from_repeated_samples() {
    let mut rng = Rng(11);
    let theta = log10_ladder();
    let truth = population_truth(3000, 0.25, &mut rng);
    let (k, n) = truth.simulate(&theta, 20, &mut rng);
    let fit = fit_marginal(&theta, &k, &n, Some(0.25), None, true).unwrap();
    let p = fit.population;
    // 2,000 items fit the population (see `POPULATION_ITEMS`); 20 attempts per cell determine
    // each item's curve well within the ladder, so the means land within 0.1 and the spreads
    // within 25% of the truth (the grid of 17 points per axis adds its own bias to spreads).
    assert!((p.mu_b - 4.5).abs() < 0.1, "{p:?}");
    assert!((p.mu_ln_a - 0.3).abs() < 0.1, "{p:?}");
    assert!((p.sd_b / 0.8 - 1.0).abs() < 0.25, "{p:?}");
    assert!((p.sd_ln_a / 0.4 - 1.0).abs() < 0.25, "{p:?}");
    // Measured: μ_b 4.46, μ_ln a 0.29, σ_b 0.81, σ_ln a 0.39.
    // One decade beyond the largest model: within 0.02 of the items' true mean probability
    // (the binomial noise of 3,000 items' mean is about 0.01; measured 0.0002).
    let t = theta[theta.len() - 1] + 1.0;
    assert!(
        (fit.predict(t) - truth.mean(t)).abs() < 0.02,
        "{} against {}",
        fit.predict(t),
        truth.mean(t)
    );
}

#[test]
fn one_attempt_items_extrapolate_better_than_per_item_curves() {
    let mut rng = Rng(5);
    let theta = log10_ladder();
    let truth = population_truth(3000, 0.0, &mut rng);
    let (k, n) = truth.simulate(&theta, 1, &mut rng);
    let marginal = fit_marginal(&theta, &k, &n, Some(0.0), None, true).unwrap();
    let map = fit_irt(&theta, &k, &n, &IrtOptions::from_theta(&theta, Some(0.0))).unwrap();
    let t = theta[theta.len() - 1] + 0.5;
    let (err_marginal, err_map) = (
        (marginal.predict(t) - truth.mean(t)).abs(),
        (map.predict(t) - truth.mean(t)).abs(),
    );
    // The reason `marginal` is the default: per-item curves fitted to 0/1 patterns follow their
    // noise. Within 0.03 of the truth, and at least twice as close as the per-item fit
    // (measured: 0.0004 against 0.005).
    assert!(
        err_marginal < 0.03 && 2.0 * err_marginal < err_map,
        "marginal {err_marginal}, per item {err_map}"
    );
}

#[test]
fn a_free_guess_floor_is_estimated() {
    let mut rng = Rng(8);
    let theta = log10_ladder();
    let truth = population_truth(2000, 0.3, &mut rng);
    let (k, n) = truth.simulate(&theta, 10, &mut rng);
    let fit = fit_marginal(&theta, &k, &n, None, None, true).unwrap();
    // Items far above the ladder pin the floor: within 0.03 (measured 0.2994).
    assert!(
        (fit.population.guess - 0.3).abs() < 0.03,
        "{:?}",
        fit.population
    );
}

#[test]
fn a_given_population_is_kept_without_optimizing() {
    let mut rng = Rng(3);
    let theta = log10_ladder();
    let truth = population_truth(300, 0.0, &mut rng);
    let (k, n) = truth.simulate(&theta, 1, &mut rng);
    let given = Population {
        mu_ln_a: 0.1,
        sd_ln_a: 0.7,
        mu_b: 4.0,
        sd_b: 1.2,
        guess: 0.0,
    };
    let kept = fit_marginal(&theta, &k, &n, Some(0.0), Some(given), false).unwrap();
    assert_eq!(kept.population, given);
    let refitted = fit_marginal(&theta, &k, &n, Some(0.0), Some(given), true).unwrap();
    assert!(refitted.log_marginal > kept.log_marginal);
}

#[test]
fn bad_counts_are_named() {
    let theta = [1.0, 2.0];
    let check = |theta: &[f64], k: &[u32], n: &[u32], guess: Option<f64>, want: &str| {
        let err = fit_marginal(theta, k, n, guess, None, true).unwrap_err();
        assert_eq!(err.to_string(), want);
    };
    check(
        &theta,
        &[1, 0, 1],
        &[1, 1, 1],
        None,
        "counts must be items × 2 models: found 3 successes and 3 attempts",
    );
    check(&theta, &[], &[], None, "no items to fit");
    check(
        &theta,
        &[2, 0],
        &[1, 1],
        None,
        "item 0 model 0: 2 successes of 1 attempts",
    );
    check(
        &[1.0, 1.0],
        &[1, 0],
        &[1, 1],
        None,
        "the models need at least 2 distinct abilities",
    );
    check(
        &theta,
        &[1, 0],
        &[1, 1],
        Some(1.0),
        "the guess floor must be in [0, 1), found 1",
    );
    check(
        &[1.0, f64::NAN],
        &[1, 0],
        &[1, 1],
        None,
        "abilities must be finite, found NaN",
    );
}
