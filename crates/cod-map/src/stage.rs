//! The `map` stage: the predictable subset P′, the mapping f from P′ accuracy to full accuracy,
//! and every method's prediction.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use cod_artifact::{
    AnchorCheck, BenchmarkPredictions, Clusters, EvalTable, Fits, Mapping, MappingPoint,
    MethodPrediction, PerItemMethod, Predictions, Role, Verdict,
};
use cod_pipeline::{Code, Progress, Stage, StageBinary};
use serde::{Deserialize, Serialize};

use cod_fit::{FitStage, Law, MonotoneQuartic};

use crate::fitpack::{FitpackSpline, Schedule, fit_scheduled};
use crate::{CubicSpline, Pchip, isotonic, merge_sorted};

fn default_rmse_target() -> f64 {
    0.005
}
fn default_end_weight() -> f64 {
    100.0
}
fn default_reinsch_end_weight() -> f64 {
    1e6
}
fn default_anchor_tolerance() -> f64 {
    0.05
}
fn default_s_start() -> f64 {
    Schedule::default().start
}
fn default_s_stop() -> f64 {
    Schedule::default().stop
}
fn default_s_steps() -> usize {
    Schedule::default().steps
}

/// The form of the mapping f.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum MappingForm {
    /// FITPACK's cubic smoothing spline (SciPy's `UnivariateSpline(k=3, s)`), s lowered along the
    /// schedule until RMSE ≤ `rmse_target` (the paper's v4).
    #[default]
    Spline,
    /// A penalized (Reinsch) cubic smoothing spline, its penalty halved from 10 until RMSE ≤
    /// `rmse_target`: not the paper's estimator, and stiffer towards (1, 1).
    Reinsch,
    /// A monotone quartic polynomial through (0, 0) and (1, 1) (the paper's earlier versions).
    Quartic,
    /// Isotonic regression of the points, then a monotone cubic Hermite interpolant (PCHIP).
    Pchip,
}

impl MappingForm {
    pub const ALL: [MappingForm; 4] = [
        MappingForm::Spline,
        MappingForm::Reinsch,
        MappingForm::Quartic,
        MappingForm::Pchip,
    ];

    /// The method row of COD with this mapping when it is not the configured one.
    #[must_use]
    pub fn method(self) -> PerItemMethod {
        match self {
            MappingForm::Spline => PerItemMethod::CodSpline,
            MappingForm::Reinsch => PerItemMethod::CodReinsch,
            MappingForm::Quartic => PerItemMethod::CodQuartic,
            MappingForm::Pchip => PerItemMethod::CodPchip,
        }
    }

    /// The name of the form in pipeline files.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            MappingForm::Spline => "spline",
            MappingForm::Reinsch => "reinsch",
            MappingForm::Quartic => "quartic",
            MappingForm::Pchip => "pchip",
        }
    }
}

/// Parameters of the `map` stage.
#[derive(Clone, Debug, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct MapParams {
    /// The form of the mapping behind the `cod` row; every other form gets a `cod-<form>` row.
    #[arg(long, value_enum, default_value_t = MappingForm::Spline)]
    #[serde(default)]
    pub mapping: MappingForm,
    /// T: the smoothing is lowered until the mapping's RMSE on its fit points is at most this.
    #[arg(long, default_value_t = default_rmse_target())]
    #[serde(default = "default_rmse_target")]
    pub rmse_target: f64,
    /// Weight of the pinned end points (0, 0) and (1, 1) in the `spline` form, against 1 for each
    /// model's point (FITPACK weighs residuals: the end points count w² in the residual sum).
    #[arg(long, default_value_t = default_end_weight())]
    #[serde(default = "default_end_weight")]
    pub end_weight: f64,
    /// Weight of the end points in the `reinsch` form (Reinsch weighs squared residuals).
    #[arg(long, default_value_t = default_reinsch_end_weight())]
    #[serde(default = "default_reinsch_end_weight")]
    pub reinsch_end_weight: f64,
    /// The `spline` form's first (largest) smoothing factor s ...
    #[arg(long, default_value_t = default_s_start())]
    #[serde(default = "default_s_start")]
    pub s_start: f64,
    /// ... its last (smallest) ...
    #[arg(long, default_value_t = default_s_stop())]
    #[serde(default = "default_s_stop")]
    pub s_stop: f64,
    /// ... and how many values of s, geometrically spaced, it tries.
    #[arg(long, default_value_t = default_s_steps())]
    #[serde(default = "default_s_steps")]
    pub s_steps: usize,
    /// An anchor is used only if its point lies within this distance (in accuracy) of the
    /// mapping fitted without anchors: the paper's "compatibility" made explicit.
    #[arg(long, default_value_t = default_anchor_tolerance())]
    #[serde(default = "default_anchor_tolerance")]
    pub anchor_tolerance: f64,
}

impl MapParams {
    fn check(&self) -> anyhow::Result<()> {
        for (key, v) in [
            ("rmse_target", self.rmse_target),
            ("end_weight", self.end_weight),
            ("reinsch_end_weight", self.reinsch_end_weight),
            ("anchor_tolerance", self.anchor_tolerance),
        ] {
            if !(v.is_finite() && v > 0.0) {
                bail!("`{key}` must be a positive number, found {v}");
            }
        }
        self.schedule()
            .check()
            .context("`s_start`, `s_stop`, `s_steps`")
    }

    fn schedule(&self) -> Schedule {
        Schedule {
            start: self.s_start,
            stop: self.s_stop,
            steps: self.s_steps,
        }
    }

    fn end_weight(&self, form: MappingForm) -> f64 {
        match form {
            MappingForm::Reinsch => self.reinsch_end_weight,
            _ => self.end_weight,
        }
    }
}

/// A fitted mapping, ready to evaluate.
enum MapFn {
    Fitpack(FitpackSpline),
    Reinsch(CubicSpline),
    Pchip(Pchip),
    Quartic(Vec<f64>),
}

impl MapFn {
    fn eval(&self, t: f64) -> f64 {
        match self {
            MapFn::Fitpack(s) => s.eval(t),
            MapFn::Reinsch(s) => s.eval(t),
            MapFn::Pchip(p) => p.eval(t),
            MapFn::Quartic(p) => MonotoneQuartic.value(t, p),
        }
    }
}

/// The `source` of the pinned (0, 0) and (1, 1) points.
const END_POINT: &str = "end point";

/// Grid on which the mapping's monotonicity is checked.
const MONOTONE_GRID: usize = 1000;

/// Intervals of the sampling of f stored in the artifact (`Mapping::curve`), for plots.
const CURVE_INTERVALS: usize = 100;

/// f at `CURVE_INTERVALS + 1` evenly spaced points of [0, 1].
fn sample_curve(f: &MapFn) -> Vec<[f64; 2]> {
    (0..=CURVE_INTERVALS)
        .map(|i| {
            let x = i as f64 / CURVE_INTERVALS as f64;
            [x, f.eval(x)]
        })
        .collect()
}

/// Unweighted root-mean-square error of `f` on the points.
fn rmse_on(points: &[MappingPoint], f: &dyn Fn(f64) -> f64) -> f64 {
    let n = points.len() as f64;
    (points
        .iter()
        .map(|p| (f(p.subset) - p.full).powi(2))
        .sum::<f64>()
        / n)
        .sqrt()
}

fn is_monotone(f: &MapFn) -> bool {
    (0..MONOTONE_GRID).all(|i| {
        let (a, b) = (
            i as f64 / MONOTONE_GRID as f64,
            (i + 1) as f64 / MONOTONE_GRID as f64,
        );
        f.eval(b) >= f.eval(a) - 1e-12
    })
}

/// How a fitted form is described in the artifact.
struct Fitted {
    f: MapFn,
    kind: &'static str,
    lambda: Option<f64>,
    s: Option<f64>,
    knots: Vec<f64>,
}

/// Fits the monotone quartic to the points other than the end points, which it passes through by
/// construction.
fn fit_quartic(points: &[MappingPoint]) -> anyhow::Result<Fitted> {
    let inner: Vec<&MappingPoint> = points.iter().filter(|p| p.source != END_POINT).collect();
    let x: Vec<f64> = inner.iter().map(|p| p.subset).collect();
    let y: Vec<f64> = inner.iter().map(|p| p.full).collect();
    let fit = cod_fit::fit(&MonotoneQuartic, &x, &y, cod_fit::FitOptions::default())
        .context("fitting the monotone quartic mapping")?;
    Ok(Fitted {
        f: MapFn::Quartic(fit.params),
        kind: "monotone-quartic",
        lambda: None,
        s: None,
        knots: Vec::new(),
    })
}

/// Fits `form` through `points`: for the splines, the smoothest one along their schedule whose
/// RMSE on the points is at most `rmse_target`; a spline that is not monotone on [0, 1] (or that
/// the points are too few for) is replaced by isotonic regression then PCHIP, and says so.
fn fit_mapping(
    points: &[MappingPoint],
    form: MappingForm,
    params: &MapParams,
) -> anyhow::Result<(MapFn, Mapping)> {
    // The end points carry the form's weight already (`fit_mapping_with_anchors`).
    let triples: Vec<(f64, f64, f64)> = points
        .iter()
        .map(|p| (p.subset, p.full, p.weight))
        .collect();
    let (x, y, w) = merge_sorted(&triples);
    if x.len() < 2 {
        bail!("the mapping needs at least 2 distinct points");
    }
    let pchip = |kind: &'static str| -> anyhow::Result<Fitted> {
        Ok(Fitted {
            f: MapFn::Pchip(Pchip::new(&x, &isotonic(&y, &w))?),
            kind,
            lambda: None,
            s: None,
            knots: Vec::new(),
        })
    };
    // A spline that is not monotone on [0, 1] gives way to the monotone fallback.
    let monotone_or_fallback = |fitted: Fitted| -> anyhow::Result<Fitted> {
        if is_monotone(&fitted.f) {
            Ok(fitted)
        } else {
            pchip("monotone-fallback")
        }
    };
    let fitted = match form {
        MappingForm::Quartic => fit_quartic(points)?,
        MappingForm::Pchip => pchip("pchip")?,
        MappingForm::Spline => {
            // FITPACK on the points as given (it merges equal x itself, as SciPy allows them).
            let mut sorted = triples;
            sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
            let (sx, sy, sw): (Vec<f64>, Vec<f64>, Vec<f64>) = sorted.into_iter().collect();
            if x.len() < 4 {
                pchip("monotone-fallback")?
            } else {
                let fit = fit_scheduled(&sx, &sy, &sw, &params.schedule(), params.rmse_target)?;
                monotone_or_fallback(Fitted {
                    knots: fit.spline.interior_knots().to_vec(),
                    f: MapFn::Fitpack(fit.spline),
                    kind: "fitpack-spline",
                    lambda: None,
                    s: Some(fit.s),
                })?
            }
        }
        MappingForm::Reinsch => {
            let mut lambda = 10.0;
            let spline = loop {
                let s = CubicSpline::smoothing(&x, &y, &w, lambda)?;
                if lambda == 0.0 || rmse_on(points, &|t| s.eval(t)) <= params.rmse_target {
                    break s;
                }
                lambda = if lambda < 1e-10 { 0.0 } else { lambda / 2.0 };
            };
            monotone_or_fallback(Fitted {
                f: MapFn::Reinsch(spline),
                kind: "smoothing-spline",
                lambda: Some(lambda),
                s: None,
                knots: Vec::new(),
            })?
        }
    };
    let mapping = Mapping {
        kind: fitted.kind.to_owned(),
        lambda: fitted.lambda,
        s: fitted.s,
        knots: fitted.knots,
        rmse: rmse_on(points, &|t| fitted.f.eval(t)),
        points: points.to_vec(),
        anchors: Vec::new(),
        curve: sample_curve(&fitted.f),
    };
    Ok((fitted.f, mapping))
}

/// Mean pass rate of model column `m` over the given items (indices into the benchmark).
fn mean_over(
    evals: &cod_artifact::BenchmarkEvals,
    items: &[usize],
    m: usize,
    n_models: usize,
) -> Option<f64> {
    let rates: Vec<f64> = items
        .iter()
        .filter_map(|&i| evals.pass_rate(i, m, n_models))
        .collect();
    (!rates.is_empty()).then(|| rates.iter().sum::<f64>() / rates.len() as f64)
}

/// Every method's prediction for every benchmark.
pub fn predict(
    table: &EvalTable,
    clusters: &Clusters,
    fits: &Fits,
    params: &MapParams,
) -> anyhow::Result<Predictions> {
    predict_with(table, clusters, fits, params, &BTreeMap::new())
}

/// [`predict`] where, per benchmark name, each cluster's ladder curve was shifted (one shift per
/// ladder model, in the fits' ladder order) before it was fitted: the mapping's ladder points move
/// with their clusters, so the P′ accuracy stays the size-weighted mean of the shifted curves.
pub fn predict_with(
    table: &EvalTable,
    clusters: &Clusters,
    fits: &Fits,
    params: &MapParams,
    shifts: &BTreeMap<String, Vec<Vec<f64>>>,
) -> anyhow::Result<Predictions> {
    params.check()?;
    let benchmarks = fits
        .benchmarks
        .iter()
        .map(|bench_fits| {
            let bench = clusters
                .benchmarks
                .iter()
                .find(|b| b.name == bench_fits.benchmark)
                .with_context(|| {
                    format!(
                        "benchmark `{}` is in the fits but not the clusters",
                        bench_fits.benchmark
                    )
                })?;
            let target = match &bench_fits.target {
                None => None,
                Some(name) => Some(
                    table
                        .models
                        .iter()
                        .position(|m| m.role == Role::Target && &m.name == name)
                        .with_context(|| {
                            format!("target `{name}` of the fits is not in the eval table")
                        })?,
                ),
            };
            let shifts = shifts.get(&bench.name).map_or(&[][..], Vec::as_slice);
            let evals = table
                .benchmarks
                .iter()
                .find(|b| b.name == bench.name)
                .with_context(|| format!("benchmark `{}` is not in the eval table", bench.name))?;
            predict_benchmark(
                table,
                target,
                (bench, evals),
                bench_fits,
                params,
                &fits.ladder,
                shifts,
            )
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(Predictions {
        targets: fits.targets.clone(),
        benchmarks,
        bootstrap: None,
        calibration: None,
    })
}

/// Per ladder model name, how far its (P′, full) mapping point moves when the clusters' curves are
/// shifted by `shifts` (one per ladder model, in `ladder`'s order): the size-weighted mean shift
/// over the extrapolatable clusters (`n_kept` items), and over all items (outliers and
/// never-solved items do not move).
fn point_shifts(
    ladder: &[cod_artifact::Model],
    bench: &cod_artifact::BenchmarkClusters,
    bench_fits: &cod_artifact::BenchmarkFits,
    shifts: &[Vec<f64>],
    n_kept: usize,
) -> BTreeMap<String, (f64, f64)> {
    if shifts.is_empty() {
        return BTreeMap::new();
    }
    let n_items = (bench.items.len() + bench.all_zero_items.len()) as f64;
    ladder
        .iter()
        .enumerate()
        .map(|(k, model)| {
            let (mut subset, mut full) = (0.0, 0.0);
            for (fit, shift) in bench_fits.clusters.iter().zip(shifts) {
                let moved = fit.size as f64 * shift.get(k).copied().unwrap_or(0.0);
                full += moved;
                if fit.verdict == Verdict::Extrapolatable {
                    subset += moved;
                }
            }
            let subset = if n_kept > 0 {
                subset / n_kept as f64
            } else {
                0.0
            };
            (model.name.clone(), (subset, full / n_items))
        })
        .collect()
}

/// The indices (into the eval table's items) of the items in extrapolatable clusters.
fn predictable_subset(
    evals: &cod_artifact::BenchmarkEvals,
    bench: &cod_artifact::BenchmarkClusters,
    bench_fits: &cod_artifact::BenchmarkFits,
) -> anyhow::Result<Vec<usize>> {
    let index: std::collections::HashMap<&str, usize> = evals
        .items
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let extrapolatable =
        |l: u32| bench_fits.clusters[l as usize].verdict == Verdict::Extrapolatable;
    bench
        .items
        .iter()
        .zip(&bench.labels)
        .filter(|(_, l)| l.is_some_and(extrapolatable))
        .map(|(id, _)| {
            index.get(id.as_str()).copied().with_context(|| {
                format!(
                    "benchmark `{}`: item `{id}` is not in the eval table",
                    bench.name
                )
            })
        })
        .collect()
}

/// Fits the mapping on the ladder's (P′, full) accuracies, then offers each anchor: one within
/// `anchor_tolerance` of that curve is added and the mapping refitted.
fn fit_mapping_with_anchors(
    table: &EvalTable,
    evals: &cod_artifact::BenchmarkEvals,
    subset: &[usize],
    form: MappingForm,
    params: &MapParams,
    point_shifts: &BTreeMap<String, (f64, f64)>,
) -> anyhow::Result<(MapFn, Mapping)> {
    let n_models = table.models.len();
    let all: Vec<usize> = (0..evals.items.len()).collect();
    let point = |m: usize| -> Option<MappingPoint> {
        let name = &table.models[m].name;
        let (ds, df) = point_shifts.get(name).copied().unwrap_or((0.0, 0.0));
        // A shifted point stays an accuracy.
        Some(MappingPoint {
            subset: (mean_over(evals, subset, m, n_models)? + ds).clamp(0.0, 1.0),
            full: (mean_over(evals, &all, m, n_models)? + df).clamp(0.0, 1.0),
            weight: 1.0,
            source: table.models[m].name.clone(),
        })
    };
    let end = |v: f64| MappingPoint {
        subset: v,
        full: v,
        weight: params.end_weight(form),
        source: END_POINT.to_owned(),
    };
    let models_with = |role: Role| (0..n_models).filter(move |&m| table.models[m].role == role);
    let mut points: Vec<MappingPoint> = vec![end(0.0), end(1.0)];
    points.extend(models_with(Role::Ladder).filter_map(point));
    let (mut f, mut mapping) = fit_mapping(&points, form, params)?;
    let mut anchors = Vec::new();
    for p in models_with(Role::Anchor).filter_map(point) {
        let distance = (f.eval(p.subset) - p.full).abs();
        let accepted = distance <= params.anchor_tolerance;
        anchors.push(AnchorCheck {
            model: p.source.clone(),
            subset: p.subset,
            full: p.full,
            distance,
            accepted,
        });
        if accepted {
            points.push(p);
        }
    }
    if anchors.iter().any(|a| a.accepted) {
        (f, mapping) = fit_mapping(&points, form, params)?;
    }
    mapping.anchors = anchors;
    Ok((f, mapping))
}

fn predict_benchmark(
    table: &EvalTable,
    target: Option<usize>,
    (bench, evals): (
        &cod_artifact::BenchmarkClusters,
        &cod_artifact::BenchmarkEvals,
    ),
    bench_fits: &cod_artifact::BenchmarkFits,
    params: &MapParams,
    ladder: &[cod_artifact::Model],
    shifts: &[Vec<f64>],
) -> anyhow::Result<BenchmarkPredictions> {
    if bench_fits.clusters.len() != bench.clusters.len() {
        bail!(
            "benchmark `{}`: the fits were made from other clusters",
            bench.name
        );
    }
    let subset = predictable_subset(evals, bench, bench_fits)?;
    let kept: Vec<_> = bench_fits
        .clusters
        .iter()
        .filter(|c| c.verdict == Verdict::Extrapolatable)
        .collect();
    let n_kept: usize = kept.iter().map(|c| c.size).sum();
    let subset_prediction = kept
        .iter()
        .map(|c| c.prediction.map(|p| p * c.size as f64))
        .sum::<Option<f64>>()
        .filter(|_| n_kept > 0)
        .map(|w| w / n_kept as f64);
    let all: Vec<usize> = (0..evals.items.len()).collect();
    let actual = target.and_then(|t| mean_over(evals, &all, t, table.models.len()));

    // A mapping that cannot be fitted leaves COD without a prediction, said in its note; the
    // other methods still predict. The configured form is the `cod` row and keeps its mapping in
    // the artifact; every other form is a `cod-<form>` row.
    let point_shifts = point_shifts(ladder, bench, bench_fits, shifts, n_kept);
    let map_with = |form: MappingForm| -> (Option<Mapping>, Option<f64>, Option<String>) {
        if subset.is_empty() {
            return (None, None, Some("no extrapolatable cluster".to_owned()));
        }
        match fit_mapping_with_anchors(table, evals, &subset, form, params, &point_shifts) {
            Ok((f, mapping)) => {
                let cod = subset_prediction.map(|s| f.eval(s).clamp(0.0, 1.0));
                (Some(mapping), cod, None)
            }
            Err(err) => (None, None, Some(format!("mapping failed: {err:#}"))),
        }
    };
    let (mapping, cod, cod_note) = map_with(params.mapping);
    let other_forms: Vec<(MappingForm, Option<f64>, Option<String>)> = MappingForm::ALL
        .into_iter()
        .filter(|&form| form != params.mapping)
        .map(|form| {
            let (_, prediction, note) = map_with(form);
            (form, prediction, note)
        })
        .collect();

    let no_subset = subset
        .is_empty()
        .then(|| "no extrapolatable cluster".to_owned());
    // The exp baseline predicts majority accuracy: it is scored against the target's.
    let exp_actual = target.and_then(|t| evals.majority_accuracy(t, table.models.len()));
    let method = |name: PerItemMethod, prediction: Option<f64>, note: Option<String>| {
        let own_actual = (name == PerItemMethod::EndToEndExp && exp_actual != actual)
            .then_some(exp_actual)
            .flatten();
        let scored_against = own_actual.or(actual);
        MethodPrediction {
            method: name,
            actual: own_actual,
            abs_error: prediction.zip(scored_against).map(|(p, a)| (p - a).abs()),
            interval: None,
            note: if prediction.is_none() && target.is_none() {
                Some("no target".to_owned())
            } else {
                note
            },
            prediction,
        }
    };
    let mut methods = vec![method(PerItemMethod::Cod, cod, cod_note)];
    methods.extend(
        other_forms
            .into_iter()
            .map(|(form, prediction, note)| method(form.method(), prediction, note)),
    );
    methods.push(method(
        PerItemMethod::CodWithoutMapping,
        subset_prediction,
        no_subset,
    ));
    methods.extend(bench_fits.baselines.iter().map(|b| {
        let note = b.failure.as_ref().map(|why| format!("fit failed: {why}"));
        let mut m = method(b.method, b.prediction, note);
        if let (Some(a), None) = (m.actual, &m.note) {
            m.note = Some(format!("majority accuracy, actual {:.2}", 100.0 * a));
        }
        m
    }));
    Ok(BenchmarkPredictions {
        name: bench_fits.name.clone(),
        benchmark: bench.name.clone(),
        target: bench_fits.target.clone(),
        items: evals.items.len(),
        clusters: bench.clusters.len(),
        subset_items: subset.len(),
        subset_prediction,
        methods,
        mapping,
        actual,
    })
}

/// Maps the predictable subset's predicted accuracy to the full benchmark, with the baselines.
pub struct MapStage;

impl Stage for MapStage {
    type Params = MapParams;
    type Inputs = (EvalTable, Clusters, Fits);
    type Output = Predictions;
    const KIND: &'static str = "map";
    /// The mapping's forms (FITPACK, Reinsch, PCHIP, quartic) and the predictions; the quartic
    /// and the laws it evaluates are `fit`'s code.
    const CODE: Code = Code::new("map", 5, &[&FitStage::CODE]);

    fn validate(params: &MapParams) -> anyhow::Result<()> {
        params.check()
    }

    fn run(
        params: &MapParams,
        (table, clusters, fits): (EvalTable, Clusters, Fits),
        _progress: &Progress,
    ) -> anyhow::Result<Predictions> {
        predict(&table, &clusters, &fits, params)
    }
}

/// `cod-map`, the map stage's binary.
pub const BINARY: StageBinary = StageBinary {
    name: "cod-map",
    about: "Predict each benchmark's full accuracy at the target: the predictable subset's \
            prediction mapped to the full benchmark, beside the baselines",
    long_about: "The mapping f is fitted to the ladder's (subset, full) accuracies with (0, 0) and \
                 (1, 1) pinned: by default FITPACK's smoothing spline as SciPy's \
                 UnivariateSpline fits it (METHODS §1.5).",
    inputs: &["eval-table", "clusters", "fits"],
    examples: &[
        "cod-map --eval-table out/mmlu/ingest.bin --clusters out/mmlu/cluster.bin \
                 --fits out/mmlu/fit.bin --output predictions.bin",
    ],
};
