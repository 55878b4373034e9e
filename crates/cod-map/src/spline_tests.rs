//! The splines against SciPy's, on values stored by `scripts/scipy_spline_reference.py`.

use serde::Deserialize;

use crate::{CubicSpline, Pchip, isotonic};

#[derive(Deserialize)]
struct Reference {
    grid: Vec<f64>,
    x: Vec<f64>,
    y: Vec<f64>,
    smoothing: Vec<SmoothingCase>,
    pchip_x: Vec<f64>,
    pchip_y: Vec<f64>,
    pchip: Vec<f64>,
}

#[derive(Deserialize)]
struct SmoothingCase {
    lambda: f64,
    weights: Option<Vec<f64>>,
    values: Vec<f64>,
}

fn reference() -> Reference {
    serde_json::from_str(include_str!("../testdata/scipy_splines.json")).unwrap()
}

#[test]
fn smoothing_spline_matches_scipy() {
    let r = reference();
    for case in &r.smoothing {
        let w = case.weights.clone().unwrap_or_else(|| vec![1.0; r.x.len()]);
        let s = CubicSpline::smoothing(&r.x, &r.y, &w, case.lambda).unwrap();
        for (t, want) in r.grid.iter().zip(&case.values) {
            // Both solve the same small linear system; 1e-8 leaves room for the conditioning of
            // the 1e6 end weights.
            assert!(
                (s.eval(*t) - want).abs() < 1e-8,
                "lambda {} weights {:?} at {t}: {} vs {want}",
                case.lambda,
                case.weights.is_some(),
                s.eval(*t)
            );
        }
    }
}

#[test]
fn zero_penalty_interpolates() {
    let r = reference();
    let s = CubicSpline::smoothing(&r.x, &r.y, &vec![1.0; r.x.len()], 0.0).unwrap();
    for (x, y) in r.x.iter().zip(&r.y) {
        assert!((s.eval(*x) - y).abs() < 1e-12);
    }
}

#[test]
fn pchip_matches_scipy() {
    let r = reference();
    let p = Pchip::new(&r.pchip_x, &r.pchip_y).unwrap();
    for (t, want) in r.grid.iter().zip(&r.pchip) {
        assert!(
            (p.eval(*t) - want).abs() < 1e-12,
            "at {t}: {} vs {want}",
            p.eval(*t)
        );
    }
}

#[test]
fn isotonic_pools_violators() {
    assert_eq!(
        isotonic(&[1.0, 3.0, 2.0, 4.0], &[1.0; 4]),
        [1.0, 2.5, 2.5, 4.0]
    );
    assert_eq!(isotonic(&[3.0, 1.0], &[1.0, 3.0]), [1.5, 1.5]);
    assert_eq!(isotonic(&[0.0, 1.0], &[1.0, 1.0]), [0.0, 1.0]);
}
