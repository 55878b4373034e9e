//! Oracle tests: synthetic ladders drawn from a known step-1 law and step-2 sigmoid, with and
//! without noise, must give back the target's true loss and accuracy.

use cod_artifact::{Role, TrainingRuns};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::synthetic::{self, true_accuracy, true_loss};
use crate::{LadderParams, fit_ladder};

const TARGET: (f64, f64) = (7e9, 4e12);

/// Four sizes × four token multiples (20·N·{1, 2, 5, 10}), 40 checkpoints each, and the target
/// (its last 5 checkpoints at its final D). `loss_noise` is relative, `accuracy_noise` absolute.
fn synthetic_ladder(loss_noise: f64, accuracy_noise: f64, seed: u64) -> TrainingRuns {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let loss_eps = Normal::new(0.0, loss_noise.max(1e-300)).unwrap();
    let acc_eps = Normal::new(0.0, accuracy_noise.max(1e-300)).unwrap();
    let mut run = |name: String, role: Role, n: f64, d: f64, tokens: Vec<f64>| {
        let loss: Vec<f64> = tokens
            .iter()
            .map(|&t| true_loss(n, t) * (1.0 + loss_eps.sample(&mut rng)))
            .collect();
        let accuracy: Vec<f64> = loss
            .iter()
            .map(|&l| true_accuracy(l) + acc_eps.sample(&mut rng))
            .collect();
        synthetic::run(name, role, (n, d), tokens, (loss, accuracy))
    };
    let mut runs = Vec::new();
    for n in [1.9e8, 3.7e8, 7.6e8, 1.3e9] {
        for m in [1.0, 2.0, 5.0, 10.0] {
            let d = 20.0 * n * m;
            let tokens = (1..=40).map(|i| d * f64::from(i) / 40.0).collect();
            runs.push(run(format!("{n:e}-{m}x"), Role::Ladder, n, d, tokens));
        }
    }
    let (n, d) = TARGET;
    runs.push(run("target".to_owned(), Role::Target, n, d, vec![d; 5]));
    synthetic::runs(runs)
}

fn params() -> LadderParams {
    toml::from_str("").unwrap()
}

/// (relative error of the predicted loss, absolute error of the chained accuracy, absolute error
/// of step 2 at the observed loss), against the noise-free truth at the target.
fn errors(runs: &TrainingRuns, params: &LadderParams) -> (f64, f64, f64) {
    let fits = fit_ladder(runs, params).unwrap();
    let t = &fits.tasks[0].targets[0];
    let loss = true_loss(TARGET.0, TARGET.1);
    let acc = true_accuracy(loss);
    (
        (t.loss_predicted.unwrap() - loss).abs() / loss,
        (t.accuracy_predicted.unwrap() - acc).abs(),
        (t.accuracy_step2.unwrap() - true_accuracy(t.loss_actual.unwrap())).abs(),
    )
}

#[test]
fn noise_free_ladder_recovers_the_target() {
    // Without the paper's data preparation (each run's final checkpoint as its step-1 point, no
    // smoothing, no anchor) both steps see exact points of their own family: only the optimizer's
    // tolerance remains.
    let mut exact = params();
    exact.step1_last = 1;
    exact.step2_smooth = 1;
    exact.step2_anchor = false;
    let (loss, chained, step2) = errors(&synthetic_ladder(0.0, 0.0, 1), &exact);
    assert!(loss < 1e-5, "loss relative error {loss}");
    assert!(chained < 1e-4, "chained accuracy error {chained}");
    assert!(step2 < 1e-4, "step-2 accuracy error {step2}");

    // With it, the procedure itself is biased: the step-1 point averages the last 5 checkpoints,
    // at 90..100% of D and so above L(N, D); smoothing x and y separately moves points off the
    // sigmoid where it curves. Here that is 0.14% of loss and 0.06 points of accuracy; the
    // tolerance is about twice that, 0.3% and 0.3 points.
    let (loss, chained, step2) = errors(&synthetic_ladder(0.0, 0.0, 1), &params());
    assert!(loss < 0.003, "loss relative error {loss}");
    assert!(chained < 0.003, "chained accuracy error {chained}");
    assert!(step2 < 0.003, "step-2 accuracy error {step2}");
}

#[test]
fn noisy_ladders_recover_the_target_within_stated_tolerances() {
    // Noise as on the OLMo ladder's last checkpoints: 0.3% on loss, 0.5 points on accuracy (the
    // variance diagnostic there is 0.1..1 point). Extrapolating 5× in N and 15× in D amplifies
    // step 1's error: over seeds 1..10 the worst loss error is 0.6% and the worst accuracy error
    // 0.25 points. The tolerances, 1.5% on loss, 1 point chained and 0.5 points for step 2 alone
    // (median 0.5 points), leave room for other platforms' rounding but fail on a real bias.
    let mut chained_errors = Vec::new();
    for seed in 1..=10 {
        let (loss, chained, step2) = errors(&synthetic_ladder(0.003, 0.005, seed), &params());
        assert!(loss < 0.015, "seed {seed}: loss relative error {loss}");
        assert!(
            chained < 0.01,
            "seed {seed}: chained accuracy error {chained}"
        );
        assert!(step2 < 0.005, "seed {seed}: step-2 accuracy error {step2}");
        chained_errors.push(chained);
    }
    chained_errors.sort_by(f64::total_cmp);
    assert!(chained_errors[5] < 0.005, "median {}", chained_errors[5]);
}

#[test]
fn missing_series_and_short_ladders_give_reasons_not_panics() {
    // A run without the intermediate metric: the steps fail with the reason, the one-step
    // variants still predict.
    let mut runs = synthetic_ladder(0.0, 0.0, 1);
    runs.runs[3].series.retain(|s| s.metric != "loss");
    runs.runs[3]
        .missing
        .push(("t".into(), "loss".into(), "eval/t_bpb".into()));
    let fits = fit_ladder(&runs, &params()).unwrap();
    let task = &fits.tasks[0];
    for fit in [&task.step1, &task.step2, &task.loss_from_compute] {
        let why = fit.failure.as_deref().unwrap();
        assert!(
            why.contains("has no `loss` for task `t`: the file has no column `eval/t_bpb`"),
            "{why}"
        );
    }
    assert!(task.targets[0].accuracy_predicted.is_none());
    assert!(task.targets[0].accuracy_one_step.is_some());

    let mut runs = synthetic_ladder(0.0, 0.0, 1);
    runs.runs
        .retain(|r| r.role == Role::Target || r.name.starts_with("1.9e8-1x"));
    let err = fit_ladder(&runs, &params()).unwrap_err().to_string();
    assert!(err.contains("at least 2 runs"), "{err}");

    let mut p = params();
    p.tasks = vec!["nope".to_owned()];
    let err = fit_ladder(&synthetic_ladder(0.0, 0.0, 1), &p)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown task `nope`; the runs hold: t"),
        "{err}"
    );
}

/// A target trajectory of 40 checkpoints up to D, noise-free, with accuracy `shift` above the
/// sigmoid: a run in progress that the ladder's law describes (`shift` 0) or does not.
fn trajectory(shift: f64) -> cod_artifact::TrainingRun {
    let (n, d) = TARGET;
    let tokens: Vec<f64> = (1..=40).map(|i| d * f64::from(i) / 40.0).collect();
    let loss: Vec<f64> = tokens.iter().map(|&t| true_loss(n, t)).collect();
    let accuracy = loss.iter().map(|&l| true_accuracy(l) + shift).collect();
    synthetic::run(
        "run".to_owned(),
        Role::Target,
        (n, d),
        tokens,
        (loss, accuracy),
    )
}

#[test]
fn monitor_follows_the_law_and_flags_a_run_that_leaves_it() {
    // Fitted on the noisy ladder, the chained prediction at each checkpoint is within 1 point of
    // the truth (the target tolerance above: the checkpoints are at the same N and at most the
    // same D), and the bootstrap band holds the noise-free run at every checkpoint after the
    // first tenth of training, where step 1 extrapolates furthest below the ladder's smallest D/N.
    let fits = fit_ladder(&synthetic_ladder(0.003, 0.005, 3), &params()).unwrap();
    let task = &fits.tasks[0];
    assert_eq!(task.draws.len(), params().bootstrap);
    let on_law = crate::monitor(task, &trajectory(0.0), "accuracy").unwrap();
    assert_eq!(on_law.observed.len(), 40);
    for (i, (&o, &p)) in on_law.observed.iter().zip(&on_law.predicted).enumerate() {
        assert!(
            (o - p).abs() < 0.01,
            "checkpoint {i}: observed {o}, predicted {p}"
        );
    }
    let late_outside: Vec<usize> = on_law.outside().into_iter().filter(|&i| i >= 4).collect();
    assert!(late_outside.is_empty(), "outside at {late_outside:?}");

    // A run 5 points below the law is outside at every checkpoint: the band is far narrower.
    let below = crate::monitor(task, &trajectory(-0.05), "accuracy").unwrap();
    assert_eq!(below.outside().len(), 40);
    assert!(!below.calibrated);
}

#[test]
fn updating_step_2_with_the_target_moves_the_prediction_toward_it() {
    let (n, d) = TARGET;
    let truth = true_accuracy(true_loss(n, d));
    let fits = fit_ladder(&synthetic_ladder(0.0, 0.0, 1), &params()).unwrap();
    let task = &fits.tasks[0];
    let ladder = crate::chained(task, TARGET).unwrap();

    // A target on the ladder's law: its checkpoints change nothing beyond the fit's tolerance
    // (0.3 points, as in the noise-free test).
    let same =
        crate::updated_prediction(task, &trajectory(0.0).first(20), TARGET, &params()).unwrap();
    assert!((same - truth).abs() < 0.003, "{same} vs {truth}");

    // A target 4 points above it: the ladder's prediction is off by 4 points; with its first
    // half of checkpoints in step 2 (17 points after the warm-up, against the ladder's 577) one
    // sigmoid is refitted through both, and the prediction recovers about a quarter of the gap
    // (1.05 of 4.06 points here). It must recover at least 15%: without the target's points it
    // recovers none.
    let shifted = truth + 0.04;
    let updated =
        crate::updated_prediction(task, &trajectory(0.04).first(20), TARGET, &params()).unwrap();
    assert!((ladder - shifted).abs() > 0.035, "ladder {ladder}");
    assert!(
        (updated - shifted).abs() < 0.85 * (ladder - shifted).abs(),
        "updated {updated}, ladder {ladder}, target {shifted}"
    );

    // One checkpoint, inside step 2's skipped warm-up, adds no point: the refit restarts at the
    // ladder's optimum and stays there (to the optimizer's tolerance).
    let none =
        crate::updated_prediction(task, &trajectory(0.04).first(1), TARGET, &params()).unwrap();
    assert!((none - ladder).abs() < 1e-4, "{none} vs {ladder}");
}

/// The noise-free target recovered within the paper preparation's 0.3% of loss and 0.3 points
/// of accuracy, chained and by step 2 alone (as in `noise_free_ladder_recovers_the_target`).
fn assert_recovered(runs: &TrainingRuns, params: &LadderParams) {
    let (loss, chained, step2) = errors(runs, params);
    assert!(
        loss < 0.003 && chained < 0.003 && step2 < 0.003,
        "{loss} {chained} {step2}"
    );
}

#[test]
fn step_2_on_the_largest_sizes_only() {
    // The runs of the two largest sizes alone still pin the sigmoid: on noise-free data the
    // target is recovered as with every run (0.3 points, as above).
    let mut p = params();
    p.step2_sizes = 2;
    let runs = synthetic_ladder(0.0, 0.0, 1);
    assert_recovered(&runs, &p);
    let fits = fit_ladder(&runs, &p).unwrap();
    let all = fit_ladder(&runs, &params()).unwrap();
    // 2 of 4 sizes: half the step-2 points, plus the anchor.
    let points = |f: &cod_artifact::LadderFits| f.tasks[0].step2_points.len();
    assert_eq!(points(&fits) - 1, (points(&all) - 1) / 2);
    assert!(
        fits.method.contains("the 2 largest sizes' runs only"),
        "{}",
        fits.method
    );
    // More sizes than the ladder has is every size.
    p.step2_sizes = 9;
    assert_eq!(points(&fit_ladder(&runs, &p).unwrap()), points(&all));
}

#[test]
fn step_2_with_its_floor_at_chance() {
    // The synthetic sigmoid's floor a + b is 0.3: with chance 0.3 the pinned sigmoid is the true
    // family, and the target is recovered as by the free one (0.3 points, as above).
    let mut p = params();
    p.step2_floor = crate::Step2Floor::Chance;
    p.chance = 0.3;
    let runs = synthetic_ladder(0.0, 0.0, 1);
    assert_recovered(&runs, &p);
    let fits = fit_ladder(&runs, &p).unwrap();
    let s2 = &fits.tasks[0].step2.params;
    assert!((s2[0] + s2[3] - p.chance).abs() < 1e-12, "{s2:?}");
    assert!(fits.method.contains("floor at chance"), "{}", fits.method);
    // The bootstrap's draws keep the pin.
    assert_eq!(fits.tasks[0].draws.len(), p.bootstrap);
    for (_, d2) in &fits.tasks[0].draws {
        assert!((d2[0] + d2[3] - p.chance).abs() < 1e-12, "{d2:?}");
    }
    // A floor pinned at the wrong rate (0.25) bends the curve: 3.7 points off at the target
    // here. The option is not a no-op, and the free fit does not need the rate.
    p.chance = 0.25;
    let (_, chained, _) = errors(&runs, &p);
    assert!(chained > 0.01, "{chained}");
    let mut free = params();
    free.chance = 0.25;
    let (_, chained, _) = errors(&runs, &free);
    assert!(chained < 0.003, "{chained}");
}

#[test]
fn step_1_on_every_checkpoint() {
    // The synthetic runs' every checkpoint lies on the step-1 law at the tokens seen so far (no
    // learning-rate schedule), so fitting them all removes the bias of averaging each run's last
    // 5 checkpoints (0.14% of loss above): the target's loss is recovered to the optimizer's
    // tolerance, 1e-5 relative, as with exact final points.
    let mut p = params();
    p.step1_points = crate::Step1Points::All;
    let runs = synthetic_ladder(0.0, 0.0, 1);
    let (loss, chained, _) = errors(&runs, &p);
    assert!(loss < 1e-5, "loss relative error {loss}");
    assert!(chained < 0.003, "chained accuracy error {chained}");
    let fits = fit_ladder(&runs, &p).unwrap();
    // 16 runs × (40 checkpoints − the first ⌈10%⌉ = 4).
    assert_eq!(fits.tasks[0].step1_points.len(), 16 * 36);
    assert!(fits.method.contains("every checkpoint"), "{}", fits.method);

    // Noise as in the noisy oracle above (0.3% on loss, independent per checkpoint, which real
    // checkpoints are not): 36 points per run where the paper has one. Over seeds 1..5 the mean
    // loss error is 0.13% against 0.32% for final points (worst 0.36% and 0.48%). The tolerance
    // is the final points' own, 1.5%, with the mean required below the final-point fits' mean,
    // which fails if the option changed nothing or made step 1 worse.
    let (mut all, mut last) = (0.0, 0.0);
    for seed in 1..=5 {
        let noisy = synthetic_ladder(0.003, 0.005, seed);
        let (loss, _, _) = errors(&noisy, &p);
        assert!(loss < 0.015, "seed {seed}: {loss}");
        all += loss;
        last += errors(&noisy, &params()).0;
    }
    assert!(all < last, "every checkpoint {all} vs final points {last}");
}

/// `runs` with a second task `u`, whose step 1 has its own (ln A, ln B, E) = `own` and the
/// synthetic law's α and β, and the synthetic sigmoid; noise-free.
fn with_second_task(mut runs: TrainingRuns, own: [f64; 3]) -> TrainingRuns {
    let [_, _, alpha, beta, _] = synthetic::STEP1;
    let [a, b, e] = own;
    for run in &mut runs.runs {
        let n = run.params;
        let loss: Vec<f64> = run
            .checkpoint_tokens
            .iter()
            .map(|&d| (a - alpha * n.ln()).exp() + (b - beta * d.ln()).exp() + e)
            .collect();
        let accuracy = loss.iter().map(|&l| true_accuracy(l)).collect();
        for (metric, values) in [("loss", loss), ("accuracy", accuracy)] {
            run.series.push(cod_artifact::Series {
                task: "u".to_owned(),
                metric: metric.to_owned(),
                values,
            });
        }
    }
    runs.tasks.push(cod_artifact::TaskSource {
        name: "u".to_owned(),
        parts: vec![("u".to_owned(), 1.0)],
    });
    runs
}

#[test]
fn step_1_shared_across_tasks() {
    // Two tasks whose step-1 laws share α and β (and, second case, E as well): the joint fit
    // with those shared gives both tasks the same exponents (or floor) exactly, and recovers each
    // target loss as the separate fits do, to the 0.3% the paper's preparation allows (above).
    let [a, b, _, _, e] = synthetic::STEP1;
    for (shared, own) in [
        (crate::Step1Shared::Exponents, [a + 0.4, b - 0.3, 0.8]),
        (crate::Step1Shared::Floor, [a + 0.4, b - 0.3, e]),
    ] {
        let runs = with_second_task(synthetic_ladder(0.0, 0.0, 1), own);
        let mut p = params();
        p.step1_shared = shared;
        p.bootstrap = 20;
        let fits = fit_ladder(&runs, &p).unwrap();
        let (t, u) = (&fits.tasks[0], &fits.tasks[1]);
        let common: &[usize] = match shared {
            crate::Step1Shared::Exponents => &[2, 3],
            _ => &[4],
        };
        for &k in common {
            // Shared means the same number, bit for bit.
            assert_eq!(
                t.step1.params[k].to_bits(),
                u.step1.params[k].to_bits(),
                "{shared:?}: {k}"
            );
        }
        let [_, _, alpha, beta, _] = synthetic::STEP1;
        let loss_u =
            (own[0] - alpha * TARGET.0.ln()).exp() + (own[1] - beta * TARGET.1.ln()).exp() + own[2];
        for (task, truth) in [(t, true_loss(TARGET.0, TARGET.1)), (u, loss_u)] {
            let got = task.targets[0].loss_predicted.unwrap();
            assert!(
                (got / truth - 1.0).abs() < 0.003,
                "{shared:?} {}: {got} vs {truth}",
                task.name
            );
        }
        // The bootstrap refits jointly on the same resampled runs: each draw shares them too.
        assert_eq!(t.draws.len(), p.bootstrap);
        assert_eq!(u.draws.len(), p.bootstrap);
        for (dt, du) in t.draws.iter().zip(&u.draws) {
            for &k in common {
                assert_eq!(dt.0[k].to_bits(), du.0[k].to_bits(), "{shared:?} draw: {k}");
            }
        }
        assert!(
            fits.method.contains("shared across tasks"),
            "{}",
            fits.method
        );
    }
    // Fitted alone, the two tasks' exponents differ (to the optimizer's tolerance, not exactly):
    // the option is not a no-op.
    let runs = with_second_task(synthetic_ladder(0.0, 0.0, 1), [a + 0.4, b - 0.3, 0.8]);
    let fits = fit_ladder(&runs, &params()).unwrap();
    assert_ne!(
        fits.tasks[0].step1.params[2].to_bits(),
        fits.tasks[1].step1.params[2].to_bits()
    );
}

#[test]
fn log_power_recovers_its_own_law() {
    // Accuracy drawn from the direct law −ln Acc = A·N^(−α) + B·D^(−β) with (ln A, ln B, α, β)
    // = (2.9, 4.6, 0.2, 0.25) at every checkpoint: the run accuracies span 0.45..0.70 and the
    // target's is 0.77. With each run's final checkpoint as its point (`step1_last = 1`) the
    // fit sees exact points of its family and predicts the target to 1e-4; `log-power-compute`
    // (one exponent in C, where the law has two) cannot: it misses by 1.0 point here, and the
    // test requires more than half of that.
    let truth = [2.9, 4.6, 0.2, 0.25];
    let law = |n: f64, d: f64| {
        (-((truth[0] - truth[2] * n.ln()).exp() + (truth[1] - truth[3] * d.ln()).exp())).exp()
    };
    let mut runs = synthetic_ladder(0.0, 0.0, 1);
    for run in &mut runs.runs {
        let n = run.params;
        let accuracy: Vec<f64> = if run.role == Role::Target {
            vec![law(n, run.tokens); run.checkpoint_tokens.len()]
        } else {
            run.checkpoint_tokens.iter().map(|&d| law(n, d)).collect()
        };
        let series = run
            .series
            .iter_mut()
            .find(|s| s.metric == "accuracy")
            .unwrap();
        series.values = accuracy;
    }
    let mut p = params();
    p.step1_last = 1;
    let fits = fit_ladder(&runs, &p).unwrap();
    let t = &fits.tasks[0].targets[0];
    let want = law(TARGET.0, TARGET.1);
    let got = t.accuracy_log_power.unwrap();
    assert!(
        (got - want).abs() < 1e-4,
        "{got} vs {want}: {:?}",
        fits.tasks[0].log_power
    );
    let compute = t.accuracy_log_power_compute.unwrap();
    assert!((compute - want).abs() > 0.005, "{compute} vs {want}");
    for (k, want) in truth.iter().enumerate() {
        let got = fits.tasks[0].log_power.params[k];
        assert!((got - want).abs() < 1e-3, "{k}: {got} vs {want}");
    }
}

#[test]
fn variants_are_the_ladder_fitted_again_under_their_options() {
    // The oracle of a variant is the plain fit with its options, done by hand: the predictions
    // must be the same to the bit, and the main fit must not move.
    let runs = synthetic_ladder(0.002, 0.002, 3);
    let mut p = params();
    p.bootstrap = 0;
    p.variants = toml::from_str(
        r#"
        floor = { step2_floor = "chance", chance = 0.3 }
        sizes = { step2_sizes = 2 }
        "#,
    )
    .unwrap();
    let fits = fit_ladder(&runs, &p).unwrap();
    let names: Vec<&str> = fits.variants.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["floor", "sizes"]);
    assert_eq!(
        fits.variants[0].changes,
        r#"chance = 0.3, step2_floor = "chance""#
    );
    let bits = |v: Option<f64>| v.map(f64::to_bits);
    let mut floor = params();
    floor.bootstrap = 0;
    floor.step2_floor = crate::Step2Floor::Chance;
    floor.chance = 0.3;
    let mut sizes = params();
    sizes.bootstrap = 0;
    sizes.step2_sizes = 2;
    for (variant, by_hand) in fits.variants.iter().zip([floor, sizes]) {
        let own = fit_ladder(&runs, &by_hand).unwrap();
        let t = &own.tasks[0].targets[0];
        let v = variant.prediction("t", &t.target).unwrap();
        assert_eq!(
            bits(v.prediction),
            bits(t.accuracy_predicted),
            "{}",
            variant.name
        );
        assert!(v.failure.is_none());
    }
    let mut plain = params();
    plain.bootstrap = 0;
    let plain = fit_ladder(&runs, &plain).unwrap();
    assert_eq!(
        bits(fits.tasks[0].targets[0].accuracy_predicted),
        bits(plain.tasks[0].targets[0].accuracy_predicted)
    );
    assert!(plain.variants.is_empty());
}

#[test]
fn intermediate_variants_read_their_own_series() {
    // Two more series per run, each in the laws' families: `c4-loss` is the true loss, and
    // `soft-error` 0.8 times it (step 1's A, B and E scaled by 0.8, step 2's k by 1/0.8 and L0 by
    // 0.8). The `loss` series itself is biased: the 1.3B runs read 4% high, so the default fit
    // mispredicts. Each variant must read its own series and recover the true accuracy to the
    // noise-free tolerance of the paper's data preparation (0.3 points, as in
    // `noise_free_ladder_recovers_the_target`), while the default misses by more than 1 point.
    let mut runs = synthetic_ladder(0.0, 0.0, 1);
    for run in &mut runs.runs {
        let truth: Vec<f64> = run
            .checkpoint_tokens
            .iter()
            .map(|&t| true_loss(run.params, t))
            .collect();
        let soft: Vec<f64> = truth.iter().map(|l| 0.8 * l).collect();
        for (metric, values) in [("c4-loss", truth), ("soft-error", soft)] {
            run.series.push(cod_artifact::Series {
                task: "t".to_owned(),
                metric: metric.to_owned(),
                values,
            });
        }
        if run.name.starts_with("1.3e9") {
            let loss = run.series.iter_mut().find(|s| s.metric == "loss").unwrap();
            loss.values.iter_mut().for_each(|l| *l *= 1.04);
        }
    }
    let mut p = params();
    p.bootstrap = 0;
    p.variants = toml::from_str(
        r#"
        c4 = { intermediate = "c4-loss" }
        soft = { intermediate = "soft-error" }
        "#,
    )
    .unwrap();
    let fits = fit_ladder(&runs, &p).unwrap();
    let truth = true_accuracy(true_loss(TARGET.0, TARGET.1));
    let default = fits.tasks[0].targets[0].accuracy_predicted.unwrap();
    assert!(
        (default - truth).abs() > 0.01,
        "the biased `loss` series misses by {}",
        (default - truth).abs()
    );
    for v in &fits.variants {
        let predicted = v.prediction("t", "target").unwrap().prediction.unwrap();
        assert!(
            (predicted - truth).abs() < 0.003,
            "{}: {predicted} against the truth {truth}",
            v.name
        );
    }
}

#[test]
fn bad_variants_are_rejected_naming_the_variant() {
    use cod_pipeline::Stage;
    let check = |table: &str| {
        let mut p = params();
        p.variants = toml::from_str(table).unwrap();
        let e = crate::LadderStage::validate(&p).unwrap_err();
        format!("{e:#}")
    };
    let e = check("b = { bootstrap = 10 }");
    assert!(e.contains("variant `b` changes `bootstrap`"), "{e}");
    let e = check("u = { step3 = 1 }");
    assert!(
        e.contains("variant `u`") && e.contains("unknown field `step3`"),
        "{e}"
    );
    let e = check("t = { step2_sizes = \"two\" }");
    assert!(
        e.contains("variant `t`") && e.contains("invalid type"),
        "{e}"
    );
    let e = check("s = { step2_skip = 2.0 }");
    assert!(
        e.contains("variant `s`") && e.contains("`step2_skip` must be in [0, 1)"),
        "{e}"
    );
    let e = check("\"a b\" = { chance = 0.2 }");
    assert!(e.contains("not a plain name"), "{e}");
}
