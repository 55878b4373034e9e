//! FITPACK's smoothing spline against SciPy's `UnivariateSpline(x, y, w, k=3, s)` on the cases
//! of `testdata/fitpack_splines.json` (`scripts/fitpack_reference.py`): synthetic ladders and the
//! real mapping points of the mmlu fixture, BIG-G's tasks and simulated seeds.

// Knots and repeated x are data values, compared exactly.
#![allow(clippy::float_cmp)]

use serde::Deserialize;

use crate::{FitpackSpline, Schedule, fit_scheduled};

#[derive(Deserialize)]
struct Reference {
    rmse_target: f64,
    schedule: Vec<f64>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    x: Vec<f64>,
    y: Vec<f64>,
    w: Vec<f64>,
    points: Vec<f64>,
    chosen: Option<usize>,
    steps: Vec<Step>,
}

#[derive(Deserialize)]
struct Step {
    #[serde(rename = "step")]
    index: usize,
    s: f64,
    /// FITPACK's return code: ≤ 0 a spline with fp = s (or the polynomial, or the interpolant);
    /// 1–3 a warning that s is too small to reach.
    ier: i32,
    knots: Vec<f64>,
    /// `None` where SciPy returned NaN (repeated x, see the script).
    values: Vec<Option<f64>>,
}

/// Compares a spline's values with SciPy's: equal within `TOLERANCE` where SciPy's are finite,
/// and finite where SciPy's are NaN. Returns how many finite values were compared.
fn compare(what: &str, points: &[f64], got: &[f64], want: &[Option<f64>]) -> (usize, usize) {
    let (mut equal, mut where_scipy_fails) = (0, 0);
    for ((t, g), want) in points.iter().zip(got).zip(want) {
        if let Some(want) = want {
            assert!(
                (g - want).abs() <= TOLERANCE,
                "{what} at x = {t}: {g} against SciPy's {want}"
            );
            equal += 1;
        } else {
            assert!(g.is_finite(), "{what} at x = {t}: {g}");
            where_scipy_fails += 1;
        }
    }
    (equal, where_scipy_fails)
}

fn reference() -> Reference {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/fitpack_splines.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Values agree to 1e-9: both sides run the same Dierckx algorithm in double precision, so they
/// differ only by the rounding of the same operations (observed: at most 1.9e-12).
const TOLERANCE: f64 = 1e-9;

fn distinct(x: &[f64]) -> usize {
    1 + x.windows(2).filter(|p| p[0] != p[1]).count()
}

#[test]
fn fitpack_matches_scipy_at_every_recorded_s() {
    let reference = reference();
    assert!(
        reference.cases.len() >= 20,
        "{} cases",
        reference.cases.len()
    );
    assert!(
        reference.cases.iter().any(|c| c.name.starts_with("bigg/"))
            && reference.cases.iter().any(|c| c.name.starts_with("mmlu"))
            && reference.cases.iter().any(|c| c.name.starts_with("seed")),
        "the real ladders' points are among the cases"
    );
    let (mut compared, mut finite_where_scipy_fails, mut too_few, mut warned) = (0, 0, 0, 0);
    let mut merged_with_knots = 0;
    for case in &reference.cases {
        let repeated_x = case.x.windows(2).any(|p| p[0] == p[1]);
        for step in &case.steps {
            let fitted = FitpackSpline::fit(&case.x, &case.y, &case.w, step.s);
            if distinct(&case.x) < 4 {
                // A cubic through fewer than 4 distinct x is not determined: SciPy returns NaN or
                // one of many fits; it is refused here (the map stage then uses its monotone
                // fallback).
                let err = fitted.err().map(|e| e.to_string()).unwrap_or_default();
                assert!(
                    err.starts_with("a cubic spline needs at least 4 distinct x"),
                    "{err}"
                );
                too_few += 1;
                continue;
            }
            if step.ier > 0 {
                // FITPACK's warning that s is too small: SciPy keeps the approximation, cod
                // refuses the fit and the schedule ends before it. With repeated x merged,
                // FITPACK's iterations see other data and may reach s: the spline is then finite.
                match fitted {
                    Err(err) => assert!(err.to_string().starts_with("FITPACK: "), "{err}"),
                    Ok(spline) => assert!(
                        repeated_x && spline.eval_many(&case.points).iter().all(|v| v.is_finite()),
                        "{} at s = {}: SciPy warned (ier {})",
                        case.name,
                        step.s,
                        step.ier
                    ),
                }
                warned += 1;
                continue;
            }
            let spline =
                fitted.unwrap_or_else(|e| panic!("{} at s = {}: {e:#}", case.name, step.s));
            // SciPy lists the end knots once.
            let interior = &step.knots[1..step.knots.len() - 1];
            if repeated_x && !(interior.is_empty() && spline.interior_knots().is_empty()) {
                // Merged repeated x are the same least-squares problem, but FITPACK places
                // knots by counting data points per interval, and merging changes the counts:
                // the knots (and so the spline) may differ from SciPy's, which on these cases
                // mostly returns NaN anyway. The fit must stay finite.
                assert!(
                    spline.eval_many(&case.points).iter().all(|v| v.is_finite()),
                    "{} at s = {}",
                    case.name,
                    step.s
                );
                merged_with_knots += 1;
                continue;
            }
            assert_eq!(
                spline.interior_knots(),
                interior,
                "{} step {}",
                case.name,
                step.index,
            );
            let what = format!("{} at s = {}", case.name, step.s);
            let (equal, failed) = compare(
                &what,
                &case.points,
                &spline.eval_many(&case.points),
                &step.values,
            );
            assert!(
                failed == 0 || repeated_x,
                "{what}: SciPy fails without repeated x"
            );
            compared += equal;
            finite_where_scipy_fails += failed;
        }
    }
    // The counts of the stored cases, so that a regenerated file that compares less is noticed.
    assert!(compared > 5_000, "{compared} values compared");
    // On the stored cases: 12,840 values compared (largest difference 1.9e-12); 840 steps
    // refused for fewer than 4 distinct x, 3 where FITPACK warns, 328 merged with knots.
    // Where SciPy is finite and the knots agree, it is never NaN: those are the merged cases.
    assert_eq!(finite_where_scipy_fails, 0);
    assert!(
        too_few > 0 && warned > 0 && merged_with_knots > 0,
        "{too_few} steps with too few x, {warned} warnings, {merged_with_knots} merged"
    );
}

#[test]
fn the_schedule_stops_where_scipy_does() {
    let reference = reference();
    let schedule = Schedule::default();
    for (k, s) in reference.schedule.iter().enumerate() {
        assert!(
            (schedule.s(k) - s).abs() <= 1e-15 * s,
            "s[{k}] = {} against NumPy's {s}",
            schedule.s(k)
        );
    }
    for case in reference.cases.iter().filter(|c| distinct(&c.x) >= 4) {
        let chosen = case.chosen.unwrap_or(schedule.steps - 1);
        let fit = fit_scheduled(&case.x, &case.y, &case.w, &schedule, reference.rmse_target)
            .unwrap_or_else(|e| panic!("{}: {e:#}", case.name));
        let step = case.steps.iter().find(|s| s.index == chosen).unwrap();
        assert!(
            (fit.s - step.s).abs() <= 1e-15 * step.s,
            "{}: stopped at s = {}, SciPy at {}",
            case.name,
            fit.s,
            step.s
        );
        let got = fit.spline.eval_many(&case.points);
        compare(&case.name, &case.points, &got, &step.values);
    }
}

#[test]
fn repeated_x_is_fitted_as_scipy_fits_it() {
    // Merging equal x must not change the spline: same fit as the case with the points apart by
    // a hair, within how much that hair moves the fit.
    let x = [0.0, 0.2, 0.35, 0.35, 0.5, 0.62, 1.0];
    let y = [0.0, 0.18, 0.30, 0.31, 0.44, 0.55, 1.0];
    let w = [100.0, 1.0, 1.0, 1.0, 1.0, 1.0, 100.0];
    let apart = [0.0, 0.2, 0.35, 0.35 + 1e-9, 0.5, 0.62, 1.0];
    let s = 1e-3;
    let merged = FitpackSpline::fit(&x, &y, &w, s).unwrap();
    let split = FitpackSpline::fit(&apart, &y, &w, s).unwrap();
    for t in [0.1, 0.35, 0.7, 0.9] {
        assert!(
            (merged.eval(t) - split.eval(t)).abs() < 1e-6,
            "at {t}: {} and {}",
            merged.eval(t),
            split.eval(t)
        );
    }
}

#[test]
fn bad_points_are_clear_errors() {
    let check = |x: &[f64], y: &[f64], w: &[f64], s: f64, want: &str| {
        let err = FitpackSpline::fit(x, y, w, s).unwrap_err();
        assert_eq!(format!("{err:#}"), want);
    };
    let x = [0.0, 0.3, 0.6, 1.0];
    check(
        &x,
        &[0.0, 0.2],
        &[1.0; 4],
        0.1,
        "a spline needs one y and one weight per x: found 4 x, 2 y and 4 weights",
    );
    check(
        &x,
        &[0.0, f64::NAN, 0.5, 1.0],
        &[1.0; 4],
        0.1,
        "spline points must be finite, found NaN",
    );
    check(
        &x,
        &x,
        &[1.0, 0.0, 1.0, 1.0],
        0.1,
        "spline weights must be positive, found 0",
    );
    check(
        &[0.0, 0.6, 0.3, 1.0],
        &x,
        &[1.0; 4],
        0.1,
        "spline x must be non-decreasing",
    );
    check(
        &[0.0, 0.3, 0.3, 1.0],
        &x,
        &[1.0; 4],
        0.1,
        "a cubic spline needs at least 4 distinct x, found 3",
    );
    check(
        &x,
        &x,
        &[1.0; 4],
        -1.0,
        "the smoothing factor s must be a number ≥ 0, found -1",
    );
    let err = Schedule {
        start: 1.0,
        stop: 2.0,
        steps: 10,
    }
    .check()
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the s schedule must decrease from `start` to `stop` in at least 2 steps, found 1 to 2 in 10"
    );
}
