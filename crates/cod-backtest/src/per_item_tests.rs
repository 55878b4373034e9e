//! The per-item backtest on a noiseless simulated ladder: every item's pass rate follows a known
//! curve in compute, so each model's accuracy is known exactly.

use cod_artifact::{Artifact, Backtest, BacktestRow, BenchmarkEvals, EvalTable, Model, Role};
use cod_pipeline::Progress;

use crate::{BacktestParams, backtest, defaults};

const SAMPLES: u32 = 100;
const ITEMS: usize = 150;

/// log10 FLOPs of the 7 ladder models (`m0` smallest), listed in the manifest out of order, with
/// the target and an anchor between them.
fn models() -> Vec<Model> {
    let mut models: Vec<Model> = [3, 0, 6, 1, 5, 2, 4]
        .iter()
        .map(|&i| {
            let flops = 10f64.powf(19.5 + 0.5 * f64::from(i));
            Model::new(&format!("m{i}"), 1e8, 1e10, Some(flops), Role::Ladder)
        })
        .collect();
    models.insert(
        2,
        Model::new("target", 7e10, 1e12, Some(1e24), Role::Target),
    );
    models.insert(5, Model::new("anchor", 3e9, 1e11, Some(1e22), Role::Anchor));
    models
}

/// The true pass probability of an item of difficulty `delta` (log10 FLOPs at half-way) at
/// `flops`, with guess floor 0.25.
fn probability(delta: f64, flops: f64) -> f64 {
    0.25 + 0.75 / (1.0 + (-1.5 * (flops.log10() - delta)).exp())
}

/// Two benchmarks of `ITEMS` items each, difficulties spread evenly; counts are the expected
/// number of successes, rounded.
fn table() -> EvalTable {
    let models = models();
    let benchmarks = [("easy", 19.5), ("hard", 21.0)]
        .iter()
        .map(|&(name, from)| {
            let mut n_correct = Vec::new();
            for j in 0..ITEMS {
                let delta = from + 3.5 * j as f64 / ITEMS as f64;
                for m in &models {
                    let p = probability(delta, m.flops);
                    n_correct.push((p * f64::from(SAMPLES)).round() as u32);
                }
            }
            BenchmarkEvals {
                name: name.to_owned(),
                items: (0..ITEMS).map(|j| format!("{name}/{j}")).collect(),
                n_samples: vec![SAMPLES; ITEMS * models.len()],
                n_correct,
                loss: None,
                dropped_items: Vec::new(),
            }
        })
        .collect();
    EvalTable {
        models,
        benchmarks,
        warnings: Vec::new(),
    }
}

fn params(holdout: usize) -> BacktestParams {
    let mut p: BacktestParams = defaults();
    p.holdout = holdout;
    p.fit.guess = Some(0.25);
    p
}

fn run(table: &EvalTable, holdout: usize) -> Backtest {
    backtest(table, &params(holdout), &Progress::hidden()).unwrap()
}

/// Model `name`'s mean pass rate on benchmark `bench` of `table`.
fn mean_pass_rate(table: &EvalTable, bench: &str, name: &str) -> f64 {
    let m = table.models.iter().position(|m| m.name == name).unwrap();
    let b = table.benchmarks.iter().find(|b| b.name == bench).unwrap();
    b.mean_pass_rate(m, table.models.len()).0.unwrap()
}

/// Sets every count of model `name` to `n_correct` of `SAMPLES` (`SAMPLES` solves everything).
fn make_absurd(table: &mut EvalTable, name: &str, n_correct: u32) {
    let n = table.models.len();
    let m = table.models.iter().position(|m| m.name == name).unwrap();
    for b in &mut table.benchmarks {
        for i in 0..b.items.len() {
            b.n_correct[i * n + m] = n_correct;
        }
    }
}

#[test]
fn holds_out_the_largest_ladder_models_in_turn() {
    let table = table();
    let b = run(&table, 2);
    assert_eq!(b.kind, "backtest");
    assert_eq!((b.requested, b.note.as_deref()), (2, None));
    let h = &b.holdouts;
    assert_eq!(h.len(), 2);
    assert_eq!(
        (h[0].k, h[0].held_out.as_slice()),
        (1, ["m6".to_owned()].as_slice())
    );
    assert_eq!(h[0].fitted, ["m0", "m1", "m2", "m3", "m4", "m5"]);
    assert_eq!(h[0].dropped, ["target"]);
    // Holdout 2 predicts m5 and, from the same fit, the larger m6.
    assert_eq!(h[1].held_out, ["m5", "m6"]);
    assert_eq!(h[1].fitted, ["m0", "m1", "m2", "m3", "m4"]);
    assert_eq!(h[1].dropped, ["target"]);
    assert!(
        b.fixed
            .contains(&("anchors".to_owned(), "anchor".to_owned()))
    );

    let methods = [
        "cod",
        "cod-reinsch",
        "cod-quartic",
        "cod-pchip",
        "cod-without-mapping",
        "end-to-end-exp",
        "end-to-end-passrate",
        "end-to-end-bnsl",
        "no-change",
        "log-linear",
        "irt",
    ];
    assert_eq!(b.methods(), methods);
    // (holdout 1: m6; holdout 2: m5, m6) × 2 benchmarks × the methods, in that order.
    assert_eq!(b.rows.len(), 3 * 2 * methods.len());
    let order: Vec<(usize, &str, &str)> = b
        .rows
        .iter()
        .map(|r| (r.holdout, r.held_out.as_str(), r.benchmark.as_str()))
        .collect();
    let mut expected = Vec::new();
    for key in [(1, "m6"), (2, "m5"), (2, "m6")] {
        for bench in ["easy", "hard"] {
            expected.extend(std::iter::repeat_n((key.0, key.1, bench), methods.len()));
        }
    }
    assert_eq!(order, expected);
    for r in &b.rows {
        let held = &r.held_out;
        assert!(h[r.holdout - 1].held_out.contains(held));
        // Each method is scored against the held-out model's own results, never the target's.
        if r.method != "end-to-end-exp" {
            assert_eq!(r.actual, Some(mean_pass_rate(&table, &r.benchmark, held)));
        }
        // The error is |prediction − actual| whenever both are known.
        let (p, a) = (r.prediction.unwrap(), r.actual.unwrap());
        assert_eq!(r.abs_error, Some((p - a).abs()), "{r:?}");
    }
}

#[test]
fn predictions_land_near_the_known_truth() {
    // The held-out model's actual is its true accuracy (the mean of the true probabilities) to
    // within the rounding of the counts. COD's law is not the simulator's logistic curve, so its
    // prediction of each holdout's own model misses by a few points (2.6 to 3.8 here), but not by
    // more than 5. (Holdout 2's prediction of m6, two ladder steps out, misses by more.)
    let table = table();
    let b = run(&table, 2);
    let own = |r: &&BacktestRow| r.held_out == b.holdouts[r.holdout - 1].held_out[0];
    for r in b.rows.iter().filter(|r| r.method == "cod").filter(own) {
        let flops = table
            .models
            .iter()
            .find(|m| m.name == r.held_out)
            .unwrap()
            .flops;
        let from = if r.benchmark == "easy" { 19.5 } else { 21.0 };
        let truth = (0..ITEMS)
            .map(|j| probability(from + 3.5 * j as f64 / ITEMS as f64, flops))
            .sum::<f64>()
            / ITEMS as f64;
        assert!((r.actual.unwrap() - truth).abs() < 0.5 / f64::from(SAMPLES));
        assert!(
            (r.prediction.unwrap() - truth).abs() < 0.05,
            "k={} {}: cod {} vs truth {truth}",
            r.holdout,
            r.benchmark,
            r.prediction.unwrap()
        );
    }
}

#[test]
fn larger_models_and_the_target_never_reach_the_fits() {
    let table = table();
    let before = run(&table, 2);
    // Absurd results for the original target and the largest ladder model: every item solved.
    let mut changed = table.clone();
    make_absurd(&mut changed, "target", SAMPLES);
    make_absurd(&mut changed, "m6", SAMPLES);
    let after = run(&changed, 2);
    assert_eq!(before.holdouts, after.holdouts);
    assert_eq!(before.rows.len(), after.rows.len());
    for (x, y) in before.rows.iter().zip(&after.rows) {
        if x.held_out == "m6" {
            // Both holdouts read m6 only to score it: same predictions, new actuals and errors.
            assert_eq!((&x.method, x.prediction), (&y.method, y.prediction));
            assert_eq!(y.actual, Some(1.0));
            assert_ne!(x.actual, y.actual);
        } else {
            // Holdout 2's m5 never reads m6 or the target: every row is the same.
            assert_eq!(x, y);
        }
    }
}

#[test]
fn predicting_the_larger_models_too_leaves_each_holdouts_own_rows_as_they_were() {
    let table = table();
    let every = run(&table, 3);
    let mut p = params(3);
    p.predict_larger = false;
    let own = backtest(&table, &p, &Progress::hidden()).unwrap();
    assert_eq!(own.holdouts[2].held_out, ["m4"]);
    assert_eq!(own.holdouts[2].dropped, ["m6", "m5", "target"]);
    assert_eq!(every.holdouts[2].held_out, ["m4", "m5", "m6"]);
    // K(K + 1)/2 = 6 held-out models against K = 3.
    assert_eq!(every.rows.len(), 2 * own.rows.len());
    // The k-th largest model's rows are the same with the larger models predicted or dropped:
    // they never reach its fits.
    let kth = |b: &Backtest| -> Vec<BacktestRow> {
        b.rows
            .iter()
            .filter(|r| r.held_out == b.holdouts[r.holdout - 1].held_out[0])
            .cloned()
            .collect()
    };
    assert_eq!(kth(&every), own.rows);
}

#[test]
fn too_many_holdouts_stop_at_the_largest_feasible_k() {
    // 7 ladder models and at least 3 to fit on: k = 1..4.
    let b = run(&table(), 9);
    assert_eq!(b.holdouts.len(), 4);
    assert_eq!(b.holdouts[3].fitted, ["m0", "m1", "m2"]);
    assert_eq!(
        b.note.as_deref(),
        Some(
            "`holdout` = 9 asked for more than the ladder allows: it has 7 ladder models and \
             every fit keeps at least `min_ladder` = 3, so only k = 1..4 ran"
        )
    );
    assert!(b.summary().contains("backtest: 4 holdouts (9 asked for)"));
}

#[test]
fn bad_parameters_are_errors_that_name_the_key() {
    let check = |edit: &dyn Fn(&mut BacktestParams), expected: &str| {
        let mut p = params(2);
        edit(&mut p);
        let err = backtest(&table(), &p, &Progress::hidden()).unwrap_err();
        assert_eq!(format!("{err:#}"), expected);
    };
    check(&|p| p.holdout = 0, "`holdout` must be at least 1, found 0");
    check(
        &|p| p.min_ladder = 1,
        "`min_ladder` must be at least 2 (difficulty features need 2 ladder models), found 1",
    );
    check(
        &|p| p.min_ladder = 7,
        "the ladder has 7 ladder models; a backtest fits on at least `min_ladder` = 7 and holds \
         out one more, so it needs at least 8",
    );
    check(
        &|p| p.cluster.method = cod_cluster::MethodName::Assign,
        "`cluster.method` = `assign` reuses clusters made from every ladder model; a backtest \
         clusters each holdout anew: choose a clustering method",
    );
    check(
        &|p| p.cluster.method = cod_cluster::MethodName::Kmeans,
        "`cluster`: method `kmeans` needs `k`, the number of clusters",
    );
    check(
        &|p| p.fit.guess = Some(1.5),
        "`fit`: `guess` must be in [0, 1), found 1.5",
    );
    check(
        &|p| p.map.rmse_target = 0.0,
        "`map`: `rmse_target` must be a positive number, found 0",
    );
}
