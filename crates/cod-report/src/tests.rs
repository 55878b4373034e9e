//! The report on hand-made artifacts: the cases the pipelines' data do not reach (anchors, a
//! mapping without its sampling, failed fits, no target, many benchmarks).

use cod_artifact::{
    AnchorCheck, BaselineFit, BenchmarkClusters, BenchmarkEvals, BenchmarkFits,
    BenchmarkPredictions, Cluster, ClusterFit, Clusters, EvalTable, Fits, LadderFits, LadderTarget,
    LadderTask, LawFit, Mapping, MappingPoint, MethodPrediction, Model, PerItemMethod, Predictions,
    Role, TaskSource, TrainingRun, TrainingRuns, Verdict,
};

use crate::doc::{Block, Document};
use crate::{LadderReportParams, ReportParams};

fn models() -> Vec<Model> {
    let mut models: Vec<Model> = [("s", 1e20), ("m", 1e21), ("l", 1e22)]
        .iter()
        .map(|(name, flops)| Model::new(name, 1e9, 1e10, Some(*flops), Role::Ladder))
        .collect();
    models.push(Model::new("t", 1e10, 1e11, Some(1e23), Role::Target));
    models.push(Model::new("a", 1e10, 1e11, Some(5e22), Role::Anchor));
    models
}

/// Benchmark `name` with `n` items: item i is solved i times in 10 by every model.
fn evals(name: &str, n: usize) -> BenchmarkEvals {
    BenchmarkEvals {
        name: name.to_owned(),
        items: (0..n).map(|i| format!("i{i}")).collect(),
        n_samples: vec![10; n * 5],
        n_correct: (0..n).flat_map(|i| [i as u32 % 11; 5]).collect(),
        loss: None,
        dropped_items: vec![],
    }
}

/// Every item in cluster 0 of two; cluster 1 failed to fit.
fn clusters(name: &str, n: usize) -> BenchmarkClusters {
    BenchmarkClusters {
        name: name.to_owned(),
        items: (0..n).map(|i| format!("i{i}")).collect(),
        labels: vec![Some(0); n],
        all_zero_items: vec![],
        bandwidth: None,
        radius: None,
        clusters: vec![
            Cluster {
                centre: vec![0.2, 0.4, 0.6],
                size: n,
                iad: 0.1,
            },
            Cluster {
                centre: vec![0.5; 3],
                size: 0,
                iad: 0.0,
            },
        ],
        unseen_items: vec![],
    }
}

fn fits(name: &str, n: usize) -> BenchmarkFits {
    BenchmarkFits {
        name: name.to_owned(),
        benchmark: name.to_owned(),
        target: Some("t".to_owned()),
        clusters: vec![
            ClusterFit {
                size: n,
                accuracy: vec![0.2, 0.4, 0.6],
                params: vec![20.0, 0.3, 0.0, 0.25],
                rmse: 0.01,
                verdict: Verdict::Extrapolatable,
                prediction: Some(0.8),
            },
            ClusterFit {
                size: 0,
                accuracy: vec![0.5; 3],
                params: vec![],
                rmse: f64::NAN,
                verdict: Verdict::FitFailed("no start converged".to_owned()),
                prediction: None,
            },
        ],
        accuracy: vec![0.2, 0.4, 0.6],
        exp_accuracy: vec![0.2, 0.4, 0.6],
        baselines: vec![BaselineFit {
            method: PerItemMethod::EndToEndPassrate,
            params: vec![],
            rmse: 0.0,
            prediction: Some(0.7),
            failure: None,
        }],
    }
}

fn point(source: &str, subset: f64, full: f64, weight: f64) -> MappingPoint {
    MappingPoint {
        subset,
        full,
        weight,
        source: source.to_owned(),
    }
}

fn predictions(name: &str, n: usize, mapping: Option<Mapping>) -> BenchmarkPredictions {
    let method = |method: &str, prediction: f64| MethodPrediction {
        method: PerItemMethod::from_name(method).expect("a method"),
        prediction: Some(prediction),
        actual: None,
        abs_error: Some((prediction - 0.75).abs()),
        interval: None,
        note: None,
    };
    BenchmarkPredictions {
        name: name.to_owned(),
        benchmark: name.to_owned(),
        target: Some("t".to_owned()),
        items: n,
        clusters: 2,
        subset_items: n,
        subset_prediction: Some(0.8),
        mapping,
        actual: Some(0.75),
        methods: vec![method("cod", 0.78), method("end-to-end-passrate", 0.7)],
    }
}

/// Ladder points, pinned ends, anchor `a` used and anchor `b` rejected; no stored curve.
fn mapping() -> Mapping {
    Mapping {
        kind: "smoothing-spline".to_owned(),
        lambda: Some(0.01),
        s: None,
        knots: Vec::new(),
        rmse: 0.004,
        points: vec![
            point("end point", 0.0, 0.0, 1e6),
            point("end point", 1.0, 1.0, 1e6),
            point("s", 0.2, 0.25, 1.0),
            point("m", 0.4, 0.42, 1.0),
            point("l", 0.6, 0.58, 1.0),
            point("a", 0.7, 0.69, 1.0),
        ],
        anchors: vec![
            AnchorCheck {
                model: "a".to_owned(),
                subset: 0.7,
                full: 0.69,
                distance: 0.01,
                accepted: true,
            },
            AnchorCheck {
                model: "b".to_owned(),
                subset: 0.1,
                full: 0.6,
                distance: 0.45,
                accepted: false,
            },
        ],
        curve: vec![],
    }
}

/// `names` as benchmarks of the given sizes; the first one has the mapping.
fn artifacts(benches: &[(&str, usize)]) -> (EvalTable, Clusters, Fits, Predictions) {
    let models = models();
    let ladder: Vec<Model> = models[..3].to_vec();
    let target = models[3].clone();
    let table = EvalTable {
        models,
        benchmarks: benches.iter().map(|(b, n)| evals(b, *n)).collect(),
        warnings: vec![],
    };
    let clusters = Clusters {
        method: "hand".to_owned(),
        ladder: ladder.clone(),
        benchmarks: benches.iter().map(|(b, n)| clusters(b, *n)).collect(),
    };
    let fits = Fits {
        method: "hand".to_owned(),
        ladder,
        targets: vec![target.clone()],
        benchmarks: benches.iter().map(|(b, n)| fits(b, *n)).collect(),
    };
    let predictions = Predictions {
        targets: vec![target],
        benchmarks: benches
            .iter()
            .enumerate()
            .map(|(i, (b, n))| predictions(b, *n, (i == 0).then(mapping)))
            .collect(),
        bootstrap: None,
        calibration: None,
    };
    (table, clusters, fits, predictions)
}

fn params(plotted: usize) -> ReportParams {
    ReportParams {
        png: false,
        title: None,
        plotted,
    }
}

fn figure<'a>(doc: &'a Document, id: &str) -> &'a crate::doc::Figure {
    doc.sections
        .iter()
        .flat_map(|s| &s.blocks)
        .find_map(|b| match b {
            Block::Figure(f) if f.id == id => Some(f),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no figure `{id}`"))
}

#[test]
fn anchors_failed_fits_and_a_missing_curve_are_drawn_and_said() {
    let (table, clusters, fits, predictions) = artifacts(&[("b", 11)]);
    let doc =
        crate::benchmarks::document(&table, &clusters, &fits, &predictions, &params(5)).unwrap();
    assert_eq!(doc.title, "t: predicted accuracy on b");
    assert!(
        doc.intro
            .iter()
            .any(|p| p.contains("Anchor models offered"))
    );
    let mapping = figure(&doc, "b-b-mapping");
    assert!(
        mapping.caption.contains("monotone piecewise-linear path"),
        "{}",
        mapping.caption
    );
    for legend in ["anchors, used", "anchors, rejected", "pinned end points"] {
        assert!(mapping.svg.contains(legend), "{legend}");
    }
    let clusters = figure(&doc, "b-b-clusters");
    assert!(clusters.caption.contains("1 extrapolatable, 1 fit-failed"));
    let md = doc.markdown();
    assert!(md.contains("| b | 10.00 | 60.00 | - | rejected (0.4500 from f without anchors) |"));
    assert!(md.contains("| a | 70.00 | 69.00 | 1 | used (0.0100 from f without anchors) |"));
    assert!(
        md.contains("| 1 | 0 | fit-failed | - | - | - | - | - | - | - |"),
        "{md}"
    );
}

#[test]
fn plots_go_to_the_largest_benchmark_then_the_first_others() {
    let benches: Vec<(String, usize)> = (0..7).map(|i| (format!("b{i}"), 10 + i)).collect();
    let benches: Vec<(&str, usize)> = benches.iter().map(|(b, n)| (b.as_str(), *n)).collect();
    let (table, clusters, fits, predictions) = artifacts(&benches);
    let doc =
        crate::benchmarks::document(&table, &clusters, &fits, &predictions, &params(3)).unwrap();
    let ids: Vec<&str> = doc.sections.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["summary", "b-b6", "b-b0", "b-b1"]);
    assert!(
        doc.intro
            .iter()
            .any(|p| p.contains("Plots are drawn for 3 of the 7 benchmarks: the largest (b6"))
    );
    // Every benchmark is in the summary tables, with the mean and max errors.
    let md = doc.markdown();
    for i in 0..7 {
        assert!(md.contains(&format!("\n| b{i} | {} |", 10 + i)), "b{i}");
    }
    assert!(md.contains("\n| mean | 3.00 | 5.00 |"), "{md}");
    let none = crate::benchmarks::document(&table, &clusters, &fits, &predictions, &params(0));
    assert_eq!(none.unwrap().sections.len(), 1);
}

#[test]
fn no_target_means_no_predictions_and_no_method_plot() {
    let (table, clusters, mut fits, mut predictions) = artifacts(&[("b", 5)]);
    fits.targets.clear();
    predictions.targets.clear();
    for b in &mut fits.benchmarks {
        b.target = None;
    }
    for m in &mut predictions.benchmarks[0].methods {
        m.prediction = None;
        m.abs_error = None;
    }
    predictions.benchmarks[0].actual = None;
    let doc =
        crate::benchmarks::document(&table, &clusters, &fits, &predictions, &params(5)).unwrap();
    assert_eq!(doc.title, "Fits on b (no target model)");
    let figures: Vec<&str> = doc.sections[1]
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::Figure(f) => Some(f.id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(figures, ["b-b-clusters", "b-b-mapping"]);
}

#[test]
fn inputs_from_different_runs_are_an_error() {
    let (table, clusters, fits, _) = artifacts(&[("b", 5)]);
    let (_, _, _, other) = artifacts(&[("c", 5)]);
    let err = crate::benchmarks::document(&table, &clusters, &fits, &other, &params(5))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("benchmark `c` is in the predictions but not in the fits"),
        "{err}"
    );
}

fn law(names: &[&str], params: Vec<f64>, failure: Option<&str>) -> LawFit {
    LawFit {
        names: names.iter().map(|n| (*n).to_owned()).collect(),
        params,
        rmse: 0.01,
        failure: failure.map(str::to_owned),
    }
}

#[test]
#[allow(clippy::too_many_lines)] // one ladder artifact written out field by field
fn a_failed_ladder_step_is_said_and_not_drawn() {
    let run = |name: &str, n: f64, d: f64, role| TrainingRun {
        name: name.to_owned(),
        role,
        monitor: false,
        source: format!("{name}.csv"),
        params: n,
        tokens: d,
        tokens_from: "column".to_owned(),
        steps: None,
        checkpoint_tokens: vec![d / 2.0, d],
        series: vec![],
        missing: vec![],
    };
    let runs = TrainingRuns {
        tasks: vec![TaskSource {
            name: "q".to_owned(),
            parts: vec![("q".to_owned(), 1.0)],
        }],
        runs: vec![
            run("s", 1e8, 2e9, Role::Ladder),
            run("m", 4e8, 8e9, Role::Ladder),
            run("T", 7e9, 4e12, Role::Target),
        ],
        warnings: vec![],
    };
    let fits = LadderFits {
        method: "intermediate=task-ce".to_owned(),
        ladder: vec!["s".to_owned(), "m".to_owned()],
        variance_run: "m".to_owned(),
        tasks: vec![LadderTask {
            name: "q".to_owned(),
            chance: 0.25,
            step1: law(&["a", "b", "alpha", "beta", "E"], vec![], Some("diverged")),
            step1_points: vec![[1e8, 2e9, 1.4], [4e8, 8e9, 1.2]],
            step2: law(&["a", "L0", "k", "b"], vec![-0.7, 0.9, 4.0, 1.0], None),
            step2_points: vec![[1.5, 0.3], [1.3, 0.35], [1.2, 0.4]],
            loss_from_compute: law(&["a", "alpha", "E"], vec![], Some("diverged")),
            one_step: law(&[], vec![], Some("diverged")),
            one_step_compute: law(&[], vec![], Some("diverged")),
            step2_logit: law(&["alpha", "beta"], vec![], Some("diverged")),
            log_power: law(&[], vec![], Some("diverged")),
            log_power_compute: law(&[], vec![], Some("diverged")),
            loss_std: 0.01,
            accuracy_std: 0.02,
            targets: vec![LadderTarget {
                target: "T".to_owned(),
                params: 7e9,
                tokens: 4e12,
                loss_predicted: None,
                loss_actual: Some(0.9),
                accuracy_predicted: None,
                accuracy_step2: Some(0.6),
                accuracy_loss_intermediate: None,
                accuracy_one_step: None,
                accuracy_one_step_compute: None,
                accuracy_logit: None,
                accuracy_log_power: None,
                accuracy_log_power_compute: None,
                accuracy_no_change: None,
                accuracy_log_linear: None,
                accuracy_actual: Some(0.62),
                interval: None,
            }],
            monitors: vec![],
            draws: vec![],
        }],
        variants: vec![],
        calibration: None,
    };
    let params = LadderReportParams {
        png: false,
        title: Some("Q".to_owned()),
    };
    let doc = crate::ladder::document(&runs, &fits, &params).unwrap();
    assert_eq!(doc.title, "Q");
    let text = doc.sections[1]
        .blocks
        .iter()
        .find_map(|b| match b {
            Block::Paragraph(p) => Some(p.as_str()),
            _ => None,
        })
        .unwrap();
    assert!(text.contains("The step 1 fit failed: diverged."), "{text}");
    let step1 = figure(&doc, "t-q-step1");
    assert!(
        step1
            .caption
            .contains("Step 1 was not fitted, so no curves.")
    );
    assert!(step1.svg.contains("task-ce (step-1 intermediate)"));
    // Step 2 alone still predicts, so the method plot is there.
    figure(&doc, "t-q-methods");
    let mut other = fits.clone();
    other.ladder.push("x".to_owned());
    let err = crate::ladder::document(&runs, &other, &params)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("ladder run `x` of the fits is not in the training runs"),
        "{err}"
    );
}

/// Issue: benchmark names must not reach `report.md` or `report.html` as markup. Every `<` of a
/// hostile name is escaped in both, so neither holds a tag the name opened.
#[test]
fn report_md_and_html_escape_markup_in_benchmark_names() {
    let name = "<img src=x onerror=alert(1)>";
    let (table, clusters, fits, predictions) = artifacts(&[(name, 5)]);
    let doc =
        crate::benchmarks::document(&table, &clusters, &fits, &predictions, &params(1)).unwrap();
    let md = doc.markdown();
    assert!(md.contains(r"\<img src=x onerror=alert(1)>"), "{md}");
    assert!(!md.contains(&format!(" {name}")) && !md.contains(&format!("|{name}")));
    let html = doc.html();
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(!html.contains("<img"));
}
