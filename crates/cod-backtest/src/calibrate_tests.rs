use cod_artifact::{Backtest, BacktestRow, Calibration, Holdout, MethodCalibration, Monitor};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::calibrate::{
    Candidate, Choice, Context, Entry, LEVEL, Z_90, binomial_half_width, calibrate,
    calibrate_monitor, combine, conformal_quantile, distance,
};

#[test]
fn conformal_quantile_is_the_ceil_n_plus_1_level_th_score() {
    let scores: Vec<f64> = (1..=19).rev().map(f64::from).collect();
    // ⌈20 · 0.9⌉ = 18.
    assert_eq!(conformal_quantile(&scores, 0.9), Some((18.0, 0.9)));
    // ⌈10 · 0.9⌉ = 9: nine scores are just enough.
    let nine: Vec<f64> = (1..=9).map(f64::from).collect();
    assert_eq!(conformal_quantile(&nine, 0.9), Some((9.0, 0.9)));
    // ⌈9 · 0.9⌉ = 9 > 8: the largest, promising 8/9.
    assert_eq!(conformal_quantile(&nine[..8], 0.9), Some((8.0, 8.0 / 9.0)));
    assert_eq!(conformal_quantile(&[], 0.9), None);
    assert_eq!(conformal_quantile(&[0.3, 0.1], 0.5), Some((0.3, 0.5)));
}

#[test]
fn half_widths_and_distances_by_hand() {
    assert!((Z_90 * 0.05 - binomial_half_width(0.5, 100)).abs() < 1e-15);
    assert!((binomial_half_width(0.5, 100) - 0.082_242_681_347_573_6).abs() < 1e-12);
    assert!(binomial_half_width(1.0, 10).abs() < f64::EPSILON);
    assert_eq!(distance(1e3, &[1.0, 10.0, 100.0]), Some(2.0));
    assert_eq!(distance(1e3, &[]), None);
    assert_eq!(distance(1e3, &[0.0]), None);
    let i = combine("m", 0.5, Some(0.03), Some(0.04), None);
    assert!((i.interval.0 - 0.45).abs() < 1e-12 && (i.interval.1 - 0.55).abs() < 1e-12);
    let clipped = combine("m", 0.98, None, Some(0.05), None);
    assert!((clipped.interval.1 - 1.0).abs() < f64::EPSILON);
    assert!((clipped.interval.0 - 0.93).abs() < 1e-12);
}

/// Models `m1`..`m7` with compute 10^1..10^7; holdout 1 predicts m5 from m1..m4 (distance 2.5
/// decades), holdout 2 m4 from m1..m3 (2); the target m7 is 4 decades beyond m1..m5's mean.
fn ladder() -> (Vec<Holdout>, impl Fn(&str) -> Option<f64>) {
    let names = |r: std::ops::RangeInclusive<i32>| r.map(|i| format!("m{i}")).collect();
    let holdouts = vec![
        Holdout {
            k: 1,
            held_out: vec!["m5".to_owned()],
            fitted: names(1..=4),
            dropped: names(6..=7),
        },
        Holdout {
            k: 2,
            held_out: vec!["m4".to_owned()],
            fitted: names(1..=3),
            dropped: names(5..=7),
        },
    ];
    let compute = |name: &str| Some(10f64.powi(name.strip_prefix('m')?.parse().ok()?));
    (holdouts, compute)
}

fn row(k: usize, benchmark: &str, method: &str, prediction: f64, actual: f64) -> BacktestRow {
    BacktestRow {
        holdout: k,
        held_out: if k == 1 { "m5" } else { "m4" }.to_owned(),
        benchmark: benchmark.to_owned(),
        method: method.to_owned(),
        prediction: Some(prediction),
        actual: Some(actual),
        abs_error: Some((prediction - actual).abs()),
        interval: None,
        note: None,
    }
}

fn backtest(rows: Vec<BacktestRow>) -> Backtest {
    Backtest {
        kind: "backtest".to_owned(),
        fixed: Vec::new(),
        requested: 2,
        note: None,
        diagnostics: vec!["diag".to_owned()],
        holdouts: ladder().0,
        rows,
    }
}

fn entry(benchmark: &str, predictions: &[(&str, f64)], items: Option<usize>) -> Entry {
    Entry {
        name: benchmark.to_owned(),
        benchmark: benchmark.to_owned(),
        distance: Some(4.0),
        items,
        actual: None,
        candidates: predictions
            .iter()
            .map(|&(m, p)| Candidate {
                method: m.to_owned(),
                prediction: Some(p),
                bootstrap: None,
            })
            .collect(),
    }
}

#[test]
fn recommendation_and_interval_by_hand() {
    let (_, compute) = ladder();
    // Method `a` errs 0.05 at distance 2.5 (score 0.02) and 0.02 at 2 (0.01) on `x`, and the
    // same on `y`; `no-change` errs 0.1 everywhere; `diag` is perfect but a diagnostic.
    let mut rows = Vec::new();
    for b in ["x", "y"] {
        rows.push(row(1, b, "a", 0.55, 0.5));
        rows.push(row(2, b, "a", 0.42, 0.4));
        rows.push(row(1, b, "no-change", 0.4, 0.5));
        rows.push(row(2, b, "no-change", 0.3, 0.4));
        rows.push(row(1, b, "diag", 0.5, 0.5));
        rows.push(row(2, b, "diag", 0.4, 0.4));
    }
    let bt = backtest(rows);
    let ctx = Context {
        compute: &compute,
        items: &|_| Some(100),
        pooled: "the 2 benchmarks".to_owned(),
    };
    let e = entry(
        "x",
        &[("a", 0.6), ("no-change", 0.5), ("diag", 0.7)],
        Some(100),
    );
    let c = calibrate(&[e], &bt, &ctx, Choice::Best);
    let r = &c.entries[0].recommended;
    assert_eq!(r.method, "a");
    assert!(!r.no_gain);
    assert_eq!(r.prediction, Some(0.6));
    assert!((r.backtest_error.unwrap() - 0.035).abs() < 1e-12);
    // Four scores (0.02, 0.01, 0.02, 0.01) are too few for 90%: the largest, 0.02, promising 4/5.
    let a = &c.methods[0];
    assert_eq!((a.method.as_str(), a.scores), ("a", 4));
    assert!((a.quantile.unwrap() - 0.02).abs() < 1e-12);
    assert!((a.achieved - 0.8).abs() < 1e-12);
    // At 4 decades: 0.08 of extrapolation, and z·sqrt(0.24/100) of binomial noise.
    let i = r.interval.as_ref().unwrap();
    assert!((i.extrapolation.unwrap() - 0.08).abs() < 1e-12);
    let binomial = Z_90 * (0.24f64 / 100.0).sqrt();
    assert!((i.binomial.unwrap() - binomial).abs() < 1e-12);
    let h = (0.08f64.powi(2) + binomial.powi(2)).sqrt();
    assert!((i.interval.0 - (0.6 - h)).abs() < 1e-12 && (i.interval.1 - (0.6 + h)).abs() < 1e-12);
    // Calibrated on the other benchmark only, each `a` row's band is 0.02·d wide each side and
    // holds its error of 0.02·d or 0.01·d (with the binomial term on top).
    assert_eq!(a.backtest_coverage, (4, 4));
}

#[test]
fn no_change_is_recommended_when_nothing_beats_it() {
    let (_, compute) = ladder();
    let rows = vec![
        row(1, "x", "a", 0.7, 0.5),
        row(2, "x", "a", 0.6, 0.4),
        row(1, "x", "no-change", 0.45, 0.5),
        row(2, "x", "no-change", 0.35, 0.4),
    ];
    let ctx = Context {
        compute: &compute,
        items: &|_| None,
        pooled: "the 1 benchmarks".to_owned(),
    };
    let e = entry("x", &[("a", 0.9), ("no-change", 0.55)], None);
    let best = calibrate(
        std::slice::from_ref(&e),
        &backtest(rows.clone()),
        &ctx,
        Choice::Best,
    );
    let r = &best.entries[0].recommended;
    assert_eq!((r.method.as_str(), r.prediction), ("no-change", Some(0.55)));
    assert!(r.no_gain);
    assert!(
        best.headline(&best.entries[0])
            .contains("no evidence of further gain")
    );
    // Weights 1/e²: a errs 0.2, no-change 0.05, so no-change weighs 16 times as much.
    let weighted = calibrate(&[e], &backtest(rows), &ctx, Choice::Weighted);
    let r = &weighted.entries[0].recommended;
    let w: Vec<f64> = r.weights.iter().map(|w| w.1).collect();
    assert!((w[0] - 16.0 / 17.0).abs() < 1e-12 && (w[1] - 1.0 / 17.0).abs() < 1e-12);
    assert!((r.prediction.unwrap() - (16.0 * 0.55 + 0.9) / 17.0).abs() < 1e-12);
    // The errors +0.2 and −0.05 partly cancel: the combination errs (16 · 0.05 − 0.2)/17 on both
    // rows, less than no-change's 0.05, so it is evidence of a gain.
    assert!((r.backtest_error.unwrap() - 0.6 / 17.0).abs() < 1e-12);
    assert!(!r.no_gain);
}

/// The oracle: every method's error is σ·d·ε with ε standard normal and d the extrapolation
/// distance, for 10 benchmarks × 2 holdouts of backtest and a target 4 decades out. Split
/// conformal promises 19/21 ≈ 0.905 coverage of the target (⌈21 · 0.9⌉ = 19 of 20 scores), and
/// leave-one-benchmark-out 18/19 ≈ 0.947 of the backtest rows (18 scores each, ⌈19 · 0.9⌉ = 18).
/// Over 400 trials × 10 targets the standard error of the measured coverage is about 0.006
/// (trial-to-trial spread of the quantile included), so ±0.025 (4 standard errors) fails only on
/// a real miscalibration.
#[test]
fn calibrated_intervals_hold_the_truth_at_their_level_on_a_simulated_oracle() {
    let (_, compute) = ladder();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let noise = Normal::new(0.0, 0.005).unwrap();
    let benchmarks: Vec<String> = (0..10).map(|b| format!("b{b}")).collect();
    let ctx = Context {
        compute: &compute,
        items: &|_| None,
        pooled: "the 10 benchmarks".to_owned(),
    };
    let (mut held, mut total) = (0usize, 0usize);
    let (mut bt_held, mut bt_total) = (0usize, 0usize);
    for _ in 0..400 {
        let mut rows = Vec::new();
        for b in &benchmarks {
            for (k, d) in [(1, 2.5), (2, 2.0)] {
                let actual = 0.5;
                rows.push(row(k, b, "a", actual + d * noise.sample(&mut rng), actual));
            }
        }
        let entries: Vec<Entry> = benchmarks
            .iter()
            .map(|b| entry(b, &[("a", 0.5 + 4.0 * noise.sample(&mut rng))], None))
            .collect();
        let c = calibrate(&entries, &backtest(rows), &ctx, Choice::Best);
        for e in &c.entries {
            total += 1;
            held += usize::from(e.recommended.interval.as_ref().unwrap().holds(0.5));
        }
        bt_held += c.methods[0].backtest_coverage.0;
        bt_total += c.methods[0].backtest_coverage.1;
    }
    let coverage = held as f64 / total as f64;
    assert!(
        (coverage - 19.0 / 21.0).abs() < 0.025,
        "target coverage {coverage}"
    );
    let bt = bt_held as f64 / bt_total as f64;
    assert!((bt - 18.0 / 19.0).abs() < 0.025, "backtest coverage {bt}");
    assert!((LEVEL - 0.9).abs() < f64::EPSILON);
}

#[test]
fn monitor_bands_by_hand() {
    // A run of N = 1e9 at D = 1e9 and 1e10 tokens: compute 6e18 and 6e19, log10 18.778 and
    // 19.778; the ladder's computes have mean log10 19, so the first checkpoint lies within it
    // (distance clipped to 0) and the second is 0.778 decades beyond.
    let ladder = [1e18, 1e20];
    let mut monitor = Monitor {
        run: "run".to_owned(),
        tokens: vec![1e9, 1e10],
        observed: vec![0.4, 0.6],
        predicted: vec![0.4, 0.5],
        band: Some(vec![(0.37, 0.43), (0.46, 0.54)]),
        calibrated: false,
    };
    let method = |name: &str, quantile| MethodCalibration {
        method: name.to_owned(),
        scores: 10,
        quantile,
        achieved: LEVEL,
        backtest_coverage: (9, 10),
        backtest_width: 0.1,
        backtest_error: 0.03,
    };
    let calibration = Calibration {
        level: LEVEL,
        choice: "weighted".to_owned(),
        pooled: "tasks".to_owned(),
        methods: vec![method("ladder", Some(0.05)), method("logit", None)],
        entries: Vec::new(),
    };

    // A method without a quantile leaves the band alone.
    let before = monitor.clone();
    assert!(!calibrate_monitor(
        &mut monitor,
        1e9,
        &calibration,
        "logit",
        &ladder,
        None
    ));
    assert_eq!(monitor, before);
    assert!(!calibrate_monitor(
        &mut monitor,
        1e9,
        &calibration,
        "nope",
        &ladder,
        None
    ));

    assert!(calibrate_monitor(
        &mut monitor,
        1e9,
        &calibration,
        "ladder",
        &ladder,
        Some(400)
    ));
    assert!(monitor.calibrated);
    let band = monitor.band.clone().unwrap();
    // Checkpoint 0: half bootstrap 0.03, no extrapolation, binomial 1.645·sqrt(0.24/400).
    let h0 = (0.03f64.powi(2) + (Z_90 * (0.24f64 / 400.0).sqrt()).powi(2)).sqrt();
    // Checkpoint 1: half bootstrap 0.04, 0.05 × 0.778 decades, binomial 1.645·sqrt(0.25/400).
    let d1 = 6e19f64.log10() - 19.0;
    let h1 = (0.04f64.powi(2) + (0.05 * d1).powi(2) + (Z_90 * 0.025).powi(2)).sqrt();
    for (i, (p, h)) in [(0.4, h0), (0.5, h1)].into_iter().enumerate() {
        assert!(
            (band[i].0 - (p - h)).abs() < 1e-12,
            "{i}: {:?} vs {p} ± {h}",
            band[i]
        );
        assert!(
            (band[i].1 - (p + h)).abs() < 1e-12,
            "{i}: {:?} vs {p} ± {h}",
            band[i]
        );
    }
    // 0.6 lies above 0.5 + 0.071: the one checkpoint outside.
    assert!(h1 < 0.1);
    assert_eq!(monitor.outside(), vec![1]);
}
