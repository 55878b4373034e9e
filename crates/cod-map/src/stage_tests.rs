//! The map stage on a hand-made benchmark whose answers can be worked out by hand.

use cod_artifact::{
    BaselineFit, BenchmarkClusters, BenchmarkEvals, BenchmarkFits, Cluster, ClusterFit, Clusters,
    EvalTable, Fits, Model, PerItemMethod, Predictions, Role, Verdict,
};

use std::collections::BTreeMap;

use crate::{MapParams, MappingForm, predict, predict_with};

const MODELS: [(&str, Role); 6] = [
    ("s", Role::Ladder),
    ("m", Role::Ladder),
    ("l", Role::Ladder),
    ("t", Role::Target),
    ("near", Role::Anchor),
    ("far", Role::Anchor),
];

/// 4 items: two in cluster 0 (extrapolatable), one in cluster 1 (not), one never solved. Per
/// model, (n_correct out of 10) for each item.
fn table() -> EvalTable {
    let counts: [[u32; 6]; 4] = [
        // s  m  l  t  near far
        [2, 4, 6, 9, 5, 0],
        [2, 4, 6, 7, 5, 0],
        [5, 5, 5, 5, 5, 10],
        [0, 0, 0, 0, 0, 10],
    ];
    EvalTable {
        models: MODELS
            .iter()
            .enumerate()
            .map(|(i, (name, role))| Model::new(name, 1e6 * 4f64.powi(i as i32), 1e9, None, *role))
            .collect(),
        benchmarks: vec![BenchmarkEvals {
            name: "b".to_owned(),
            items: vec!["i0".into(), "i1".into(), "i2".into(), "zero".into()],
            n_samples: vec![10; 24],
            n_correct: counts.iter().flatten().copied().collect(),
            loss: None,
            dropped_items: vec![],
        }],
        warnings: vec![],
    }
}

fn clusters() -> Clusters {
    let cluster = |size| Cluster {
        centre: vec![0.0; 3],
        size,
        iad: 0.0,
    };
    Clusters {
        method: "hand".to_owned(),
        ladder: vec![],
        benchmarks: vec![BenchmarkClusters {
            name: "b".to_owned(),
            items: vec!["i0".into(), "i1".into(), "i2".into()],
            labels: vec![Some(0), Some(0), Some(1)],
            all_zero_items: vec!["zero".into()],
            bandwidth: None,
            radius: None,
            clusters: vec![cluster(2), cluster(1)],
            unseen_items: vec![],
        }],
    }
}

fn fits(subset_prediction: f64) -> Fits {
    let fit = |size, verdict, prediction| ClusterFit {
        size,
        accuracy: vec![],
        params: vec![],
        rmse: 0.0,
        verdict,
        prediction: Some(prediction),
    };
    Fits {
        method: "hand".to_owned(),
        ladder: vec![],
        targets: vec![table().models[3].clone()],
        benchmarks: vec![BenchmarkFits {
            name: "b".to_owned(),
            benchmark: "b".to_owned(),
            target: Some("t".to_owned()),
            clusters: vec![
                fit(2, Verdict::Extrapolatable, subset_prediction),
                fit(1, Verdict::NonEmergent, 0.5),
            ],
            accuracy: vec![],
            exp_accuracy: vec![],
            baselines: vec![
                BaselineFit {
                    method: PerItemMethod::EndToEndExp,
                    params: vec![],
                    rmse: 0.0,
                    prediction: Some(0.55),
                    failure: None,
                },
                BaselineFit {
                    method: PerItemMethod::EndToEndPassrate,
                    params: vec![],
                    rmse: 0.0,
                    prediction: Some(0.6),
                    failure: None,
                },
            ],
        }],
    }
}

fn params() -> MapParams {
    let params: MapParams = serde_json::from_str("{}").unwrap();
    assert_eq!(params.mapping, MappingForm::Spline);
    params
}

#[test]
fn subset_mapping_and_anchors() {
    let p = predict(&table(), &clusters(), &fits(0.8), &params()).unwrap();
    let b = &p.benchmarks[0];
    assert_eq!((b.items, b.clusters, b.subset_items), (4, 2, 2));
    // The target's actual: mean of 0.9, 0.7, 0.5, 0.0.
    assert!((b.actual.unwrap() - 0.525).abs() < 1e-12);
    // Ladder points (P′ accuracy, full accuracy): s (0.2, 0.225), m (0.4, 0.325), l (0.6, 0.425).
    let mapping = b.mapping.as_ref().unwrap();
    let ladder: Vec<(f64, f64)> = mapping
        .points
        .iter()
        .filter(|q| q.source != "end point")
        .map(|q| (q.subset, q.full))
        .collect();
    for (got, want) in ladder
        .iter()
        .zip([(0.2, 0.225), (0.4, 0.325), (0.6, 0.425)])
    {
        assert!(
            (got.0 - want.0).abs() < 1e-12 && (got.1 - want.1).abs() < 1e-12,
            "{got:?}"
        );
    }
    assert!(mapping.rmse <= 0.005);
    // `near` behaves like the ladder: (0.5, 0.375) lies on the line through them; `far` solves
    // only the items outside P′: (0.0, 0.5), far from f(0) = 0.
    let near = mapping.anchors.iter().find(|a| a.model == "near").unwrap();
    let far = mapping.anchors.iter().find(|a| a.model == "far").unwrap();
    assert!(near.accepted && near.distance < 0.01, "{near:?}");
    assert!(!far.accepted && far.distance > 0.4, "{far:?}");
    assert!(mapping.points.iter().any(|q| q.source == "near"));
    assert!(!mapping.points.iter().any(|q| q.source == "far"));
    let method = |name: &str| b.methods.iter().find(|m| m.method == name).unwrap();
    assert_eq!(method("cod-without-mapping").prediction, Some(0.8));
    // f is monotone and pinned at (1, 1): between f(0.6) ≈ 0.425 and 1.
    let cod = method("cod").prediction.unwrap();
    assert!(cod > 0.425 && cod < 1.0, "{cod}");
    assert!((method("cod").abs_error.unwrap() - (cod - 0.525).abs()).abs() < 1e-12);
    assert_eq!(method("end-to-end-passrate").prediction, Some(0.6));
    assert_eq!(method("end-to-end-passrate").actual, None);
    // The exp baseline is scored against the target's majority accuracy: items 0 and 1 (9 and 7
    // of 10) are solved by most attempts, item 2 (5 of 10) and the never-solved one are not.
    let exp = method("end-to-end-exp");
    assert_eq!(exp.actual, Some(0.5));
    assert!((exp.abs_error.unwrap() - 0.05).abs() < 1e-12);
    assert_eq!(exp.note.as_deref(), Some("majority accuracy, actual 50.00"));
}

#[test]
fn no_extrapolatable_cluster_means_no_cod_prediction() {
    let mut f = fits(0.8);
    f.benchmarks[0].clusters[0].verdict = Verdict::NonExtrapolatable;
    let p = predict(&table(), &clusters(), &f, &params()).unwrap();
    let b = &p.benchmarks[0];
    assert_eq!(b.subset_items, 0);
    assert!(b.mapping.is_none());
    let cod = &b.methods[0];
    assert_eq!((cod.method.name(), cod.prediction), ("cod", None));
    assert_eq!(cod.note.as_deref(), Some("no extrapolatable cluster"));
}

#[test]
fn bad_parameters_and_mismatched_inputs_are_errors() {
    let mut bad = params();
    bad.rmse_target = 0.0;
    let err = predict(&table(), &clusters(), &fits(0.8), &bad).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`rmse_target` must be a positive number, found 0"
    );
    let mut f = fits(0.8);
    f.benchmarks[0].clusters.pop();
    let err = predict(&table(), &clusters(), &f, &params()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "benchmark `b`: the fits were made from other clusters"
    );
}

#[test]
fn quartic_mapping_is_pinned_and_fits_a_line() {
    let mut quartic = params();
    quartic.mapping = MappingForm::Quartic;
    let p = predict(&table(), &clusters(), &fits(0.8), &quartic).unwrap();
    let mapping = p.benchmarks[0].mapping.as_ref().unwrap();
    assert_eq!(mapping.kind, "monotone-quartic");
    // The ladder and `near` points lie on full = 0.125 + 0.5·subset, which no curve through
    // (0, 0) and (1, 1) can follow exactly; the quartic must still come within 5 points.
    assert!(mapping.rmse < 0.05, "{}", mapping.rmse);
}

#[test]
fn the_stored_curve_samples_f_at_the_prediction() {
    let p = predict(&table(), &clusters(), &fits(0.8), &params()).unwrap();
    let b = &p.benchmarks[0];
    let curve = &b.mapping.as_ref().unwrap().curve;
    assert_eq!(curve.len(), 101);
    assert!(curve[0][1].abs() < 1e-4 && (curve[100][1] - 1.0).abs() < 1e-4);
    assert!(
        curve
            .windows(2)
            .all(|w| w[1][0] > w[0][0] && w[1][1] >= w[0][1])
    );
    // P′ predicts 0.8, a sample point: f there is COD's prediction.
    let cod = b.methods.iter().find(|m| m.method == "cod").unwrap();
    assert!((curve[80][1] - cod.prediction.unwrap()).abs() < 1e-12);
}

/// The predictions when benchmark `b`'s two clusters' curves were shifted by `shifts` on the
/// ladder s, m, l.
fn predict_shifted(shifts: [[f64; 3]; 2]) -> Predictions {
    let table = table();
    let mut f = fits(0.8);
    f.ladder = table.models[..3].to_vec();
    let shifts = BTreeMap::from([("b".to_owned(), shifts.map(Vec::from).to_vec())]);
    predict_with(&table, &clusters(), &f, &params(), &shifts).unwrap()
}

#[test]
fn shifted_cluster_curves_move_the_mapping_points_with_them() {
    // Cluster 0 (extrapolatable, 2 items) moves by 2, 4, 6 points on s, m, l; cluster 1 (1 item)
    // by 10 on each.
    let p = predict_shifted([[0.02, 0.04, 0.06], [0.1, 0.1, 0.1]]);
    let points: Vec<(f64, f64)> = p.benchmarks[0]
        .mapping
        .as_ref()
        .unwrap()
        .points
        .iter()
        .filter(|q| MODELS[..3].iter().any(|(name, _)| *name == q.source))
        .map(|q| (q.subset, q.full))
        .collect();
    // P′ moves with cluster 0 alone; the full accuracy by (2·δ0 + 1·δ1) / 4 items (the
    // never-solved item does not move): unshifted, the points are (0.2, 0.225), (0.4, 0.325),
    // (0.6, 0.425).
    let want = [(0.22, 0.26), (0.44, 0.37), (0.66, 0.48)];
    assert_eq!(points.len(), 3);
    for (got, want) in points.iter().zip(want) {
        assert!(
            (got.0 - want.0).abs() < 1e-12 && (got.1 - want.1).abs() < 1e-12,
            "{got:?} != {want:?}"
        );
    }
    // Anchors are not ladder curves: `near` keeps its point.
    let near = p.benchmarks[0].mapping.as_ref().unwrap().anchors[0].clone();
    assert_eq!(
        (near.model.as_str(), near.subset, near.full),
        ("near", 0.5, 0.375)
    );
}

#[test]
fn a_mapping_that_cannot_be_fitted_leaves_cod_without_a_prediction_only() {
    // A non-finite shift makes a mapping point non-finite: no spline goes through it.
    let p = predict_shifted([[f64::NAN, 0.0, 0.0], [0.0; 3]]);
    let b = &p.benchmarks[0];
    assert!(b.mapping.is_none());
    let method = |name: &str| b.methods.iter().find(|m| m.method == name).unwrap();
    assert_eq!(method("cod").prediction, None);
    let note = method("cod").note.clone().unwrap();
    assert!(note.starts_with("mapping failed: "), "{note}");
    assert_eq!(method("cod-without-mapping").prediction, Some(0.8));
    assert_eq!(method("end-to-end-passrate").prediction, Some(0.6));
}
