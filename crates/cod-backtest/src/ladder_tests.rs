//! The ladder backtest on a noise-free synthetic ladder drawn from a known step-1 law and step-2
//! sigmoid (`cod_ladder::synthetic`).

use cod_artifact::{Backtest, Role, TrainingRun, TrainingRuns};
use cod_ladder::synthetic::{self, true_accuracy, true_loss};

use crate::{LadderBacktestParams, defaults, ladder_backtest};

const SIZES: [(&str, f64); 4] = [
    ("190M", 1.9e8),
    ("370M", 3.7e8),
    ("760M", 7.6e8),
    ("1B", 1.3e9),
];

/// A noise-free run with 20 checkpoints up to D.
fn run(name: &str, role: Role, n: f64, d: f64) -> TrainingRun {
    let tokens: Vec<f64> = (1..=20).map(|i| d * f64::from(i) / 20.0).collect();
    let loss: Vec<f64> = tokens.iter().map(|&t| true_loss(n, t)).collect();
    let accuracy = loss.iter().map(|&l| true_accuracy(l)).collect();
    synthetic::run(name.to_owned(), role, (n, d), tokens, (loss, accuracy))
}

/// Four sizes × token multiples 20·N·{1, 2, 5}, the target listed first.
fn runs() -> TrainingRuns {
    let mut runs = vec![run("7B", Role::Target, 7e9, 4e12)];
    for (name, n) in SIZES {
        for x in [1.0, 2.0, 5.0] {
            runs.push(run(&format!("{name}-{x}xC"), Role::Ladder, n, 20.0 * n * x));
        }
    }
    synthetic::runs(runs)
}

fn backtest(runs: &TrainingRuns, holdout: usize) -> Backtest {
    let mut params: LadderBacktestParams = defaults();
    params.holdout = holdout;
    ladder_backtest(runs, &params).unwrap()
}

#[test]
fn holds_out_every_run_of_the_largest_sizes_in_turn() {
    let b = backtest(&runs(), 2);
    assert_eq!(b.kind, "ladder-backtest");
    assert_eq!(b.diagnostics, ["ladder-step2"]);
    let h = &b.holdouts;
    assert_eq!(h[0].held_out, ["1B-1xC", "1B-2xC", "1B-5xC"]);
    assert_eq!(h[0].fitted.len(), 9);
    assert_eq!(h[0].fitted[0], "190M-1xC");
    assert_eq!(h[0].dropped, ["7B"]);
    assert_eq!(h[1].held_out, ["760M-1xC", "760M-2xC", "760M-5xC"]);
    assert_eq!(h[1].fitted.len(), 6);
    assert_eq!(h[1].dropped, ["1B-1xC", "1B-2xC", "1B-5xC", "7B"]);
    // 3 held-out runs × 1 task × every method per holdout.
    assert_eq!(b.rows.len(), 2 * 3 * cod_artifact::LadderMethod::ALL.len());
    for r in &b.rows {
        let n = SIZES
            .iter()
            .find(|s| r.held_out.starts_with(s.0))
            .unwrap()
            .1;
        let x: f64 = r
            .held_out
            .split('-')
            .nth(1)
            .unwrap()
            .trim_end_matches("xC")
            .parse()
            .unwrap();
        // The actual is the mean of the run's last 5 checkpoints.
        let d = 20.0 * n * x;
        let last5 = (16..=20)
            .map(|i| true_accuracy(true_loss(n, d * f64::from(i) / 20.0)))
            .sum::<f64>()
            / 5.0;
        assert!((r.actual.unwrap() - last5).abs() < 1e-12, "{r:?}");
        let (p, a) = (r.prediction.unwrap(), r.actual.unwrap());
        assert_eq!(r.abs_error, Some((p - a).abs()));
    }
    // Noise-free data from the two-step law itself: the chained prediction is close. (Step 1 is
    // fitted to the mean of the last checkpoints, not the final one, so not exact.)
    for r in b.rows.iter().filter(|r| r.method == "ladder") {
        assert!(r.abs_error.unwrap() < 0.01, "{r:?}");
    }
}

#[test]
fn held_out_runs_are_read_only_to_score_them() {
    let runs = runs();
    let before = backtest(&runs, 2);
    // Absurd results for the target and every 1B run.
    let mut changed = runs.clone();
    for r in &mut changed.runs {
        if r.role == Role::Target || r.name.starts_with("1B") {
            for s in &mut r.series {
                s.values.iter_mut().for_each(|v| *v = 0.999);
            }
        }
    }
    let after = backtest(&changed, 2);
    let rows = |b: &Backtest, k: usize| -> Vec<_> {
        b.rows.iter().filter(|r| r.holdout == k).cloned().collect()
    };
    assert_eq!(rows(&before, 2), rows(&after, 2));
    for (x, y) in rows(&before, 1).iter().zip(&rows(&after, 1)) {
        assert_eq!(y.actual, Some(0.999));
        if x.method == "ladder-step2" {
            // The diagnostic: step 2 at the held-out run's observed loss, which changed.
            assert_ne!(x.prediction, y.prediction);
        } else {
            assert_eq!((&x.method, x.prediction), (&y.method, y.prediction));
        }
    }
}

#[test]
fn bad_parameters_and_short_ladders_are_errors() {
    let check = |edit: &dyn Fn(&mut LadderBacktestParams), expected: &str| {
        let mut p: LadderBacktestParams = defaults();
        edit(&mut p);
        let err = ladder_backtest(&runs(), &p).unwrap_err();
        assert_eq!(format!("{err:#}"), expected);
    };
    check(&|p| p.holdout = 0, "`holdout` must be at least 1, found 0");
    check(
        &|p| p.min_sizes = 1,
        "`min_sizes` must be at least 2 (step 1's dependence on N needs 2 sizes), found 1",
    );
    check(
        &|p| p.min_sizes = 4,
        "the ladder has 4 model sizes; a backtest fits on at least `min_sizes` = 4 and holds out \
         one more, so it needs at least 5",
    );
    check(
        &|p| p.ladder.target_last = 0,
        "`ladder`: `target_last` must be at least 1, found 0",
    );
    // More holdouts than the ladder allows: k = 1..2, and the artifact says why.
    let b = backtest(&runs(), 3);
    assert_eq!(b.holdouts.len(), 2);
    assert!(b.note.unwrap().contains("only k = 1..2 ran"));
}

#[test]
fn by_tokens_holds_out_each_sizes_largest_d() {
    let mut params: LadderBacktestParams = defaults();
    params.by = crate::HoldOutBy::Tokens;
    params.holdout = 2;
    let b = ladder_backtest(&runs(), &params).unwrap();
    // Three token multiples, two kept: only k = 1 runs, and the artifact says why.
    assert_eq!(b.holdouts.len(), 1);
    assert!(
        b.note.as_deref().unwrap().contains("only k = 1..1 ran"),
        "{:?}",
        b.note
    );
    let h = &b.holdouts[0];
    assert_eq!(h.held_out, ["190M-5xC", "370M-5xC", "760M-5xC", "1B-5xC"]);
    assert_eq!(h.fitted.len(), 8);
    assert!(h.fitted.iter().all(|r| !r.ends_with("-5xC")));
    assert_eq!(h.dropped, ["7B"]);
    assert_eq!(b.rows.len(), 4 * cod_artifact::LadderMethod::ALL.len());
    // Extrapolating 2.5× in D on noise-free data from the law itself: as close as in N.
    for r in b.rows.iter().filter(|r| r.method == "ladder") {
        assert!(r.abs_error.unwrap() < 0.01, "{r:?}");
    }

    params.min_multiples = 3;
    let err = ladder_backtest(&runs(), &params).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the ladder has 3 token multiples; a backtest fits on at least `min_multiples` = 3 and \
         holds out one more, so it needs at least 4"
    );
    params.min_multiples = 1;
    let err = ladder_backtest(&runs(), &params).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("`min_multiples` must be at least 2"),
        "{err}"
    );
}

#[test]
fn by_both_runs_the_size_holdouts_then_the_tokens_holdouts_unchanged() {
    let runs = runs();
    let mut params: LadderBacktestParams = defaults();
    params.holdout = 2;
    let size = ladder_backtest(&runs, &params).unwrap();
    params.by = crate::HoldOutBy::Tokens;
    let tokens = ladder_backtest(&runs, &params).unwrap();
    params.by = crate::HoldOutBy::Both;
    let both = ladder_backtest(&runs, &params).unwrap();
    // Two size holdouts, then the one tokens holdout the ladder allows, numbered 3; its note
    // says why.
    assert_eq!(both.requested, 4);
    assert_eq!(both.note, tokens.note);
    let ks: Vec<usize> = both.holdouts.iter().map(|h| h.k).collect();
    assert_eq!(ks, [1, 2, 3]);
    let expected: Vec<_> = size
        .holdouts
        .iter()
        .chain(&tokens.holdouts)
        .map(|h| (&h.held_out, &h.fitted, &h.dropped))
        .collect();
    let got: Vec<_> = both
        .holdouts
        .iter()
        .map(|h| (&h.held_out, &h.fitted, &h.dropped))
        .collect();
    assert_eq!(got, expected);
    // Every row as the backtest of its kind has it, bit for bit, tokens rows renumbered.
    let renumbered = tokens.rows.iter().map(|r| {
        let mut r = r.clone();
        r.holdout += size.holdouts.len();
        r
    });
    let expected: Vec<_> = size.rows.iter().cloned().chain(renumbered).collect();
    assert_eq!(both.rows, expected);
}

#[test]
fn predict_larger_also_predicts_the_dropped_runs_and_changes_no_other_row() {
    let runs = runs();
    let plain = backtest(&runs, 2);
    let mut params: LadderBacktestParams = defaults();
    params.holdout = 2;
    params.predict_larger = true;
    let larger = ladder_backtest(&runs, &params).unwrap();
    let h = &larger.holdouts;
    assert_eq!(h[0].held_out, plain.holdouts[0].held_out);
    assert_eq!(
        h[1].held_out,
        [
            "760M-1xC", "760M-2xC", "760M-5xC", "1B-1xC", "1B-2xC", "1B-5xC"
        ]
    );
    assert_eq!(h[1].fitted, plain.holdouts[1].fitted);
    assert_eq!(h[1].dropped, ["7B"]);
    // The held-out runs are targets of the fit, which no fit reads: every row of the plain
    // backtest is there unchanged, and the new ones are holdout 2's of the 1B runs.
    for r in &plain.rows {
        assert!(larger.rows.contains(r), "{r:?}");
    }
    let new: Vec<_> = larger
        .rows
        .iter()
        .filter(|r| !plain.rows.contains(r))
        .collect();
    assert_eq!(new.len(), 3 * cod_artifact::LadderMethod::ALL.len());
    assert!(
        new.iter()
            .all(|r| r.holdout == 2 && r.held_out.starts_with("1B-") && r.actual.is_some())
    );
}
