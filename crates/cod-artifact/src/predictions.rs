use crate::PerItemMethod;
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::{Artifact, ArtifactKind, Calibration, MethodKey, Model};

/// Every method's prediction for every benchmark: the output of the map stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Predictions {
    /// The models predicted, in the manifest's order.
    pub targets: Vec<Model>,
    /// One entry per benchmark, or per (target, benchmark) when there are several targets.
    pub benchmarks: Vec<BenchmarkPredictions>,
    /// How the prediction intervals were made, when a bootstrap stage added them.
    pub bootstrap: Option<BootstrapInfo>,
    /// The recommendation and calibrated intervals, when a `recommend` stage added them.
    pub calibration: Option<Calibration>,
}

/// What a bootstrap varied and held fixed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BootstrapInfo {
    /// Resamples drawn, and how many of them gave no prediction for some method (skipped for it).
    pub resamples: usize,
    pub seed: u64,
    /// The interval's lower and upper quantiles, e.g. (0.05, 0.95).
    pub quantiles: (f64, f64),
    /// The sources of variation included, one phrase each.
    pub varied: Vec<String>,
    /// What every resample keeps as it is.
    pub fixed: Vec<String>,
}

/// One benchmark's predictions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchmarkPredictions {
    /// The entry's key: the benchmark, or `target/benchmark` when there are several targets.
    pub name: String,
    /// The benchmark, as the eval table and clusters name it.
    pub benchmark: String,
    /// The target predicted, by name.
    pub target: Option<String>,
    /// All items, never-solved ones included.
    pub items: usize,
    pub clusters: usize,
    /// Items in the predictable subset P′ (the extrapolatable clusters).
    pub subset_items: usize,
    /// The predicted accuracy on P′ at the target: the size-weighted mean of its clusters'.
    pub subset_prediction: Option<f64>,
    /// The mapping from P′ accuracy to full accuracy, when P′ is not empty.
    pub mapping: Option<Mapping>,
    /// The target's own mean pass rate, when its results are in the data.
    pub actual: Option<f64>,
    pub methods: Vec<MethodPrediction>,
}

impl BenchmarkPredictions {
    /// The share of items in P′: the benchmark's "predictability".
    #[must_use]
    pub fn subset_share(&self) -> f64 {
        if self.items == 0 {
            0.0
        } else {
            self.subset_items as f64 / self.items as f64
        }
    }
}

/// The fitted mapping f from P′ accuracy to full-benchmark accuracy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mapping {
    /// `fitpack-spline` (FITPACK's smoothing spline), `smoothing-spline` (Reinsch's),
    /// `monotone-quartic`, `pchip`, or `monotone-fallback` (isotonic regression + PCHIP, used
    /// when a spline was not monotone or the points too few).
    pub kind: String,
    /// The Reinsch spline's penalty λ (0 interpolates); `None` for the other kinds.
    pub lambda: Option<f64>,
    /// The FITPACK spline's smoothing factor s; `None` for the other kinds.
    pub s: Option<f64>,
    /// The FITPACK spline's interior knots (none: a single cubic).
    pub knots: Vec<f64>,
    /// Root-mean-square error of f on its fit points.
    pub rmse: f64,
    /// Fit points (P′ accuracy, full accuracy, weight, source), end points and anchors included.
    pub points: Vec<MappingPoint>,
    /// Anchors offered and whether they were compatible.
    pub anchors: Vec<AnchorCheck>,
    /// f sampled at evenly spaced P′ accuracies from 0 to 1, as (P′ accuracy, full accuracy):
    /// enough to draw f without refitting it.
    pub curve: Vec<[f64; 2]>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MappingPoint {
    pub subset: f64,
    pub full: f64,
    pub weight: f64,
    /// A model name, or `end point`.
    pub source: String,
}

/// An anchor model's point and the compatibility check: its distance from the curve fitted
/// without it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnchorCheck {
    pub model: String,
    pub subset: f64,
    pub full: f64,
    pub distance: f64,
    pub accepted: bool,
}

/// One method's prediction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MethodPrediction {
    pub method: PerItemMethod,
    pub prediction: Option<f64>,
    /// The target's value of what this method predicts, when it is not the benchmark's `actual`
    /// (the end-to-end (exp) baseline predicts majority accuracy).
    pub actual: Option<f64>,
    /// |prediction − actual| when both are known.
    pub abs_error: Option<f64>,
    /// The bootstrap prediction interval (lower, upper quantile), when one was computed.
    pub interval: Option<(f64, f64)>,
    /// Why there is no prediction, or what was unusual.
    pub note: Option<String>,
}

/// One row of `predictions.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PredictionRow {
    pub prediction: Option<f64>,
    pub actual: Option<f64>,
    pub abs_error: Option<f64>,
    /// The prediction interval (lower, upper): the calibrated one when a `recommend` stage made
    /// it, else the bootstrap's.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub interval: Option<(f64, f64)>,
    /// The bootstrap interval, when `interval` is the calibrated one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub bootstrap: Option<(f64, f64)>,
    /// The method the `recommended` row follows.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub chosen: Option<String>,
    /// The `recommended` row's mean abs backtest error.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub backtest_error: Option<f64>,
}

impl PredictionRow {
    /// A method's row: no recommendation fields, no calibration yet.
    #[must_use]
    pub fn new(
        prediction: Option<f64>,
        actual: Option<f64>,
        abs_error: Option<f64>,
        interval: Option<(f64, f64)>,
    ) -> PredictionRow {
        PredictionRow {
            prediction,
            actual,
            abs_error,
            interval,
            bootstrap: None,
            chosen: None,
            backtest_error: None,
        }
    }
}

impl Predictions {
    /// benchmark → method → prediction, actual, absolute error (fractions in [0, 1]).
    #[must_use]
    pub fn table(&self) -> crate::PredictionTable {
        self.benchmarks
            .iter()
            .map(|b| {
                let mut methods = b
                    .methods
                    .iter()
                    .map(|m| {
                        (
                            MethodKey(m.method.name().to_owned()),
                            PredictionRow::new(
                                m.prediction,
                                m.actual.or(b.actual),
                                m.abs_error,
                                m.interval,
                            ),
                        )
                    })
                    .collect();
                if let Some(c) = &self.calibration {
                    c.apply(&b.name, &mut methods);
                }
                (b.name.clone(), methods)
            })
            .collect()
    }
}

fn points(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{:.2}", 100.0 * v))
}

impl Artifact for Predictions {
    const KIND: ArtifactKind = ArtifactKind::Predictions;
    const SCHEMA_VERSION: u32 = 9;

    fn validate(&self) -> Result<(), String> {
        if let Some(c) = &self.calibration {
            c.validate()?;
        }
        for b in &self.benchmarks {
            for m in &b.methods {
                let what = format!("benchmark `{}`, method `{}`", b.name, m.method);
                if let Some(interval) = m.interval {
                    crate::validate::interval(interval, &what)?;
                }
                if m.prediction.is_some_and(|p| !p.is_finite()) {
                    return Err(format!("{what}: the prediction is not finite"));
                }
            }
        }
        Ok(())
    }

    fn summary(&self) -> String {
        let mut out = String::new();
        if let Some(c) = &self.calibration {
            out.push_str(&c.summary());
        }
        if self.targets.is_empty() {
            out.push_str("no target model: nothing to predict\n");
        } else {
            let names: Vec<&str> = self.targets.iter().map(|t| t.name.as_str()).collect();
            let _ = writeln!(
                out,
                "predictions for {} (accuracy in points)",
                names.join(", ")
            );
        }
        if let Some(info) = &self.bootstrap {
            let _ = writeln!(
                out,
                "intervals: {:.0}–{:.0}% bootstrap quantiles over {} resamples (seed {}); varied: {}; \
                 held fixed: {}",
                100.0 * info.quantiles.0,
                100.0 * info.quantiles.1,
                info.resamples,
                info.seed,
                info.varied.join(", "),
                info.fixed.join(", ")
            );
        }
        for b in &self.benchmarks {
            let _ = writeln!(
                out,
                "benchmark {}: {} items, {} clusters, P′ {} items ({:.1}%), actual {}{}",
                b.name,
                b.items,
                b.clusters,
                b.subset_items,
                100.0 * b.subset_share(),
                points(b.actual),
                b.mapping.as_ref().map_or_else(String::new, |m| format!(
                    "; mapping {} (rmse {:.4})",
                    m.kind, m.rmse
                )),
            );
            for a in b.mapping.iter().flat_map(|m| &m.anchors) {
                let _ = writeln!(
                    out,
                    "  anchor {}: {} ({:.4} from the curve)",
                    a.model,
                    if a.accepted {
                        "used"
                    } else {
                        "rejected as incompatible"
                    },
                    a.distance
                );
            }
            let _ = writeln!(
                out,
                "  {:<22} {:>10} {:>10}",
                "method", "predicted", "abs error"
            );
            for m in &b.methods {
                let interval = m.interval.map_or_else(String::new, |(lo, hi)| {
                    format!("  [{:.2}, {:.2}]", 100.0 * lo, 100.0 * hi)
                });
                let _ = writeln!(
                    out,
                    "  {:<22} {:>10} {:>10}{interval}{}",
                    m.method,
                    points(m.prediction),
                    points(m.abs_error),
                    m.note
                        .as_ref()
                        .map_or_else(String::new, |n| format!("  ({n})")),
                );
            }
        }
        out
    }
}
