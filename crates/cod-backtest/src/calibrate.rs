//! The recommendation and calibrated intervals: the arithmetic shared by the `recommend` and
//! `ladder-recommend` stages.
//!
//! Every method's interval at nominal level 1 − α (90%) combines three half-widths in quadrature,
//! as independent errors add:
//!
//! - **(a) the fit's sampling spread**: half the width of the method's 5–95% bootstrap interval,
//!   when the pipeline bootstrapped it;
//! - **(b) the extrapolation error the backtest observed**: a split-conformal band (Vovk et al.,
//!   *Algorithmic Learning in a Random World*, 2005; normalized scores as in Lei et al.,
//!   "Distribution-free predictive inference for regression", JASA 2018). Each backtest row's
//!   score is |prediction − actual| / d, with d its extrapolation distance: decades of compute
//!   from the mean log10 compute of the models it was fitted on to the held-out model's. The
//!   quantile q̂ is the ⌈(n + 1)(1 − α)⌉-th smallest of a method's n scores, pooled over every
//!   benchmark (or task) of the pipeline, and the half-width at the target is q̂ · d_target;
//! - **(c) the target's measurement noise**: z · sqrt(p(1 − p)/n) for a benchmark of n items at
//!   accuracy p, z = Φ⁻¹(1 − α/2).
//!
//! With fewer than (1 − α)/α scores (9 at 90%) no split-conformal quantile exists at that level;
//! the largest score is used and the level it promises, n/(n + 1), is recorded and shown.

use cod_artifact::{
    Backtest, BacktestRow, CalibratedInterval, Calibration, EntryCalibration, MethodCalibration,
    Monitor, Recommendation,
};
use serde::{Deserialize, Serialize};

/// The nominal coverage of the calibrated intervals: the bootstrap's 5–95% quantiles cover 90%.
pub const LEVEL: f64 = 0.9;
/// Φ⁻¹(0.95): a standard normal's central 90% lies within ±`Z_90`.
pub const Z_90: f64 = 1.644_853_626_951_472_2;

/// How the recommendation is chosen from the backtest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Choice {
    /// The method with the lowest mean abs backtest error on the benchmark.
    Best,
    /// Every competing method, weighted by 1 / (its mean abs backtest error)². The default: with
    /// a few holdouts per benchmark, picking the single lowest error chases noise, and a
    /// combination shrinks that choice toward the methods that are good everywhere.
    #[default]
    Weighted,
}

impl Choice {
    fn name(self) -> &'static str {
        match self {
            Choice::Best => "best",
            Choice::Weighted => "weighted",
        }
    }
}

/// The split-conformal quantile of `scores` at `level`, and the coverage it promises: the
/// ⌈(n + 1)·level⌉-th smallest score, or, with too few scores for that, the largest and
/// n/(n + 1). `None` without scores.
#[must_use]
pub fn conformal_quantile(scores: &[f64], level: f64) -> Option<(f64, f64)> {
    let mut sorted: Vec<f64> = scores.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let last = *sorted.last()?;
    // The small slack keeps (n + 1)·level from rounding up past an integer, e.g. 10 · 0.9.
    let rank = ((n + 1) as f64 * level - 1e-9).ceil() as usize;
    if rank <= n {
        Some((sorted[rank.max(1) - 1], level))
    } else {
        Some((last, n as f64 / (n + 1) as f64))
    }
}

/// (c): z · sqrt(p(1 − p)/n), the binomial standard error of a score p on n items at 90%.
#[must_use]
pub fn binomial_half_width(p: f64, items: usize) -> f64 {
    let p = p.clamp(0.0, 1.0);
    Z_90 * (p * (1.0 - p) / items as f64).sqrt()
}

/// Decades of compute from the mean log10 compute of `fitted` to `compute`.
#[must_use]
pub fn distance(compute: f64, fitted: &[f64]) -> Option<f64> {
    if fitted.is_empty() || compute <= 0.0 || fitted.iter().any(|c| *c <= 0.0) {
        return None;
    }
    let mean = fitted.iter().map(|c| c.log10()).sum::<f64>() / fitted.len() as f64;
    Some(compute.log10() - mean)
}

/// The three half-widths combined in quadrature around `prediction`, clipped to [0, 1].
#[must_use]
pub fn combine(
    method: &str,
    prediction: f64,
    bootstrap: Option<f64>,
    extrapolation: Option<f64>,
    binomial: Option<f64>,
) -> CalibratedInterval {
    let h = [bootstrap, extrapolation, binomial]
        .iter()
        .flatten()
        .map(|h| h * h)
        .sum::<f64>()
        .sqrt();
    CalibratedInterval {
        method: method.to_owned(),
        prediction,
        interval: ((prediction - h).max(0.0), (prediction + h).min(1.0)),
        bootstrap,
        extrapolation,
        binomial,
    }
}

/// Re-bands a monitored trajectory with `method`'s calibrated interval at each checkpoint: half
/// its bootstrap band, the conformal quantile times the checkpoint's distance from the ladder's
/// mean log10 compute `ladder` (0 for a checkpoint within it: the backtest scored extrapolations
/// only), and the binomial noise of `items` around the prediction. A run of `params` N. Leaves
/// the band as it is, and returns false, when `calibration` has no quantile for `method`.
pub fn calibrate_monitor(
    monitor: &mut Monitor,
    params: f64,
    calibration: &Calibration,
    method: &str,
    ladder: &[f64],
    items: Option<usize>,
) -> bool {
    let Some(q) = calibration
        .methods
        .iter()
        .find(|m| m.method == method)
        .and_then(|m| m.quantile)
    else {
        return false;
    };
    let band = (0..monitor.tokens.len())
        .map(|i| {
            let prediction = monitor.predicted[i];
            let d = distance(6.0 * params * monitor.tokens[i], ladder).map(|d| d.max(0.0));
            let bootstrap = monitor.band.as_ref().map(|b| half(b[i]));
            combine(
                method,
                prediction,
                bootstrap,
                d.map(|d| q * d),
                items.map(|n| binomial_half_width(prediction, n)),
            )
            .interval
        })
        .collect();
    monitor.band = Some(band);
    monitor.calibrated = true;
    true
}

fn half((lo, hi): (f64, f64)) -> f64 {
    (hi - lo) / 2.0
}

/// One method's prediction of one entry: name, prediction, bootstrap interval.
pub struct Candidate {
    pub method: String,
    pub prediction: Option<f64>,
    pub bootstrap: Option<(f64, f64)>,
}

/// One prediction entry (a benchmark, or a target × benchmark): what the calibration needs.
pub struct Entry {
    /// The entry's key in its artifact.
    pub name: String,
    /// The benchmark (or task), as the backtest's rows name it.
    pub benchmark: String,
    /// The target's distance: decades of compute beyond the ladder's mean log10 compute.
    pub distance: Option<f64>,
    pub items: Option<usize>,
    pub actual: Option<f64>,
    /// Every method, in method order.
    pub candidates: Vec<Candidate>,
}

/// What the calibration reads of the data besides the backtest.
pub struct Context<'a> {
    /// A model's (or run's) training compute, by name.
    pub compute: &'a dyn Fn(&str) -> Option<f64>,
    /// A benchmark's (or task's) item count, by name.
    pub items: &'a dyn Fn(&str) -> Option<usize>,
    /// What the scores are pooled over, in words: `the 8 tasks`.
    pub pooled: String,
}

/// One backtest row, ready to score.
#[derive(Clone)]
struct Scored {
    benchmark: String,
    prediction: f64,
    actual: f64,
    distance: f64,
    bootstrap: Option<f64>,
    binomial: Option<f64>,
}

impl Scored {
    fn score(&self) -> f64 {
        (self.prediction - self.actual).abs() / self.distance
    }
}

/// A backtest row's extrapolation distance, when positive: decades of compute from its holdout's
/// fitted models' mean log10 compute to the held-out model's.
fn row_distance(backtest: &Backtest, row: &BacktestRow, ctx: &Context) -> Option<f64> {
    let holdout = backtest.holdouts.iter().find(|h| h.k == row.holdout)?;
    let fitted: Option<Vec<f64>> = holdout.fitted.iter().map(|m| (ctx.compute)(m)).collect();
    distance((ctx.compute)(&row.held_out)?, &fitted?).filter(|d| *d > 0.0)
}

/// Every row of `backtest` with a prediction, an actual value and a positive distance, per
/// method in method order.
fn scored_rows(backtest: &Backtest, ctx: &Context) -> Vec<(String, Vec<Scored>)> {
    backtest
        .methods()
        .into_iter()
        .map(|m| {
            let rows = backtest
                .rows
                .iter()
                .filter(|r| r.method == m)
                .filter_map(|r| {
                    let prediction = r.prediction?;
                    Some(Scored {
                        benchmark: r.benchmark.clone(),
                        prediction,
                        actual: r.actual?,
                        distance: row_distance(backtest, r, ctx)?,
                        bootstrap: r.interval.map(half),
                        binomial: (ctx.items)(&r.benchmark)
                            .map(|n| binomial_half_width(prediction, n)),
                    })
                })
                .collect();
            (m.to_owned(), rows)
        })
        .collect()
}

/// A method's calibration: its quantile over every row, and each row's coverage by the quantile
/// of the other benchmarks' rows (or, with one benchmark, of the other rows).
fn calibrate_method(method: &str, rows: &[Scored]) -> MethodCalibration {
    let scores: Vec<f64> = rows.iter().map(Scored::score).collect();
    let quantile = conformal_quantile(&scores, LEVEL);
    let benchmarks = {
        let mut b: Vec<&str> = rows.iter().map(|r| r.benchmark.as_str()).collect();
        b.sort_unstable();
        b.dedup();
        b.len()
    };
    let (mut held, mut tested, mut width, mut error) = (0, 0, 0.0, 0.0);
    for (i, row) in rows.iter().enumerate() {
        let others: Vec<f64> = rows
            .iter()
            .enumerate()
            .filter(|&(j, r)| {
                if benchmarks > 1 {
                    r.benchmark != row.benchmark
                } else {
                    j != i
                }
            })
            .map(|(_, r)| r.score())
            .collect();
        let Some((q, _)) = conformal_quantile(&others, LEVEL) else {
            continue;
        };
        let band = combine(
            method,
            row.prediction,
            row.bootstrap,
            Some(q * row.distance),
            row.binomial,
        );
        tested += 1;
        held += usize::from(band.holds(row.actual));
        width += band.interval.1 - band.interval.0;
        error += (row.prediction - row.actual).abs();
    }
    let mean = |sum: f64| {
        if tested == 0 {
            f64::NAN
        } else {
            sum / tested as f64
        }
    };
    MethodCalibration {
        method: method.to_owned(),
        scores: scores.len(),
        quantile: quantile.map(|q| q.0),
        achieved: quantile.map_or(0.0, |q| q.1),
        backtest_coverage: (held, tested),
        backtest_width: mean(width),
        backtest_error: mean(error),
    }
}

/// Weights 1/e² over `ranking`'s methods that `predicts`, normalized to sum to 1.
fn weights(ranking: &[(&str, f64)], predicts: &dyn Fn(&str) -> bool) -> Vec<(String, f64)> {
    // An error of exactly 0 would take all the weight; a floor of 1e-4 (0.01 points) keeps the
    // weights finite.
    let raw: Vec<(String, f64)> = ranking
        .iter()
        .filter(|(m, e)| predicts(m) && e.is_finite())
        .map(|(m, e)| ((*m).to_owned(), 1.0 / e.max(1e-4).powi(2)))
        .collect();
    let total: f64 = raw.iter().map(|(_, w)| w).sum();
    raw.into_iter().map(|(m, w)| (m, w / total)).collect()
}

/// The recommendation and every method's calibrated interval for each entry.
#[must_use]
pub fn calibrate(
    entries: &[Entry],
    backtest: &Backtest,
    ctx: &Context,
    choice: Choice,
) -> Calibration {
    let scored = scored_rows(backtest, ctx);
    let methods: Vec<MethodCalibration> = scored
        .iter()
        .map(|(m, rows)| calibrate_method(m, rows))
        .collect();
    let interval = |entry: &Entry, c: &Candidate| -> Option<CalibratedInterval> {
        let prediction = c.prediction?;
        let q = methods.iter().find(|m| m.method == c.method)?.quantile?;
        Some(combine(
            &c.method,
            prediction,
            c.bootstrap.map(half),
            Some(q * entry.distance?),
            entry.items.map(|n| binomial_half_width(prediction, n)),
        ))
    };
    let combination = match choice {
        Choice::Best => None,
        Choice::Weighted => combination_quantile(backtest, ctx),
    };
    let entries = entries
        .iter()
        .map(|entry| {
            let intervals: Vec<CalibratedInterval> = entry
                .candidates
                .iter()
                .filter_map(|c| interval(entry, c))
                .collect();
            let recommended = match choice {
                Choice::Best => best(entry, backtest, &intervals),
                Choice::Weighted => weighted(entry, backtest, ctx, combination),
            };
            EntryCalibration {
                name: entry.name.clone(),
                distance: entry.distance.unwrap_or(f64::NAN),
                items: entry.items,
                actual: entry.actual,
                recommended,
                intervals,
            }
        })
        .collect();
    Calibration {
        level: LEVEL,
        choice: choice.name().to_owned(),
        pooled: ctx.pooled.clone(),
        methods,
        entries,
    }
}

const NO_CHANGE: &str = "no-change";

/// The lowest-error method that predicts the entry, `no-change` when none does better.
fn best(entry: &Entry, backtest: &Backtest, intervals: &[CalibratedInterval]) -> Recommendation {
    let ranking = backtest.ranking(&entry.benchmark);
    let prediction = |m: &str| {
        entry
            .candidates
            .iter()
            .find(|c| c.method == m)
            .and_then(|c| c.prediction)
    };
    let chosen = ranking
        .iter()
        .enumerate()
        .find(|(_, (m, _))| prediction(m).is_some());
    let (method, backtest_error, note) = match chosen {
        Some((0, &(m, e))) => (m.to_owned(), Some(e), None),
        Some((_, &(m, e))) => (
            m.to_owned(),
            Some(e),
            Some(format!(
                "`{}` won the backtest but has no prediction here",
                ranking[0].0
            )),
        ),
        None => (
            NO_CHANGE.to_owned(),
            None,
            Some("no method was scored on this benchmark's backtest".to_owned()),
        ),
    };
    let no_change_error = ranking.iter().find(|(m, _)| *m == NO_CHANGE).map(|r| r.1);
    Recommendation {
        no_gain: method == NO_CHANGE,
        prediction: prediction(&method),
        backtest_error: backtest_error.or(no_change_error),
        interval: intervals.iter().find(|i| i.method == method).cloned(),
        method,
        weights: Vec::new(),
        note,
    }
}

/// The backtest-weighted combination, calibrated on its own backtest rows pooled over every
/// benchmark (its weights come from those same rows, so its backtest error is in-sample).
/// `quantile` is [`combination_quantile`]'s, the same for every entry.
fn weighted(
    entry: &Entry,
    backtest: &Backtest,
    ctx: &Context,
    quantile: Option<f64>,
) -> Recommendation {
    let ranking = backtest.ranking(&entry.benchmark);
    let predicts = |m: &str| {
        entry
            .candidates
            .iter()
            .any(|c| c.method == m && c.prediction.is_some())
    };
    let w = weights(&ranking, &predicts);
    let prediction: Option<f64> = (!w.is_empty())
        .then(|| {
            w.iter()
                .map(|(m, w)| {
                    let c = entry.candidates.iter().find(|c| c.method == *m)?;
                    Some(w * c.prediction?)
                })
                .sum()
        })
        .flatten();
    let own = combined_rows(backtest, &entry.benchmark, &w, ctx);
    let backtest_error = (!own.is_empty())
        .then(|| own.iter().map(|r| (r.0 - r.1).abs()).sum::<f64>() / own.len() as f64);
    // The fit's spread: the weighted mean of the combined methods' bootstrap half-widths, an
    // upper bound on the combination's when their errors are correlated.
    let bootstrap: Option<f64> = w
        .iter()
        .filter_map(|(m, w)| {
            let c = entry.candidates.iter().find(|c| c.method == *m)?;
            Some(w * half(c.bootstrap?))
        })
        .reduce(|a, b| a + b);
    let interval = prediction.zip(quantile).and_then(|(p, q)| {
        Some(combine(
            "weighted",
            p,
            bootstrap,
            Some(q * entry.distance?),
            entry.items.map(|n| binomial_half_width(p, n)),
        ))
    });
    let no_change_error = ranking.iter().find(|(m, _)| *m == NO_CHANGE).map(|r| r.1);
    Recommendation {
        method: "weighted".to_owned(),
        no_gain: no_change_error
            .zip(backtest_error)
            .is_some_and(|(n, e)| n <= e),
        weights: w,
        prediction,
        backtest_error,
        interval,
        note: prediction
            .is_none()
            .then(|| "no scored method predicts this entry".to_owned()),
    }
}

/// The conformal quantile of the combination's scores: every benchmark's combination, each with
/// its own weights, scored as the methods are and pooled.
fn combination_quantile(backtest: &Backtest, ctx: &Context) -> Option<f64> {
    let scores: Vec<f64> = backtest
        .benchmarks()
        .into_iter()
        .flat_map(|b| {
            let w = weights(&backtest.ranking(b), &|_| true);
            combined_rows(backtest, b, &w, ctx)
        })
        .filter_map(|(p, a, d)| Some((p - a).abs() / d?))
        .collect();
    conformal_quantile(&scores, LEVEL).map(|(q, _)| q)
}

/// The combination's backtest rows on `benchmark`, as (prediction, actual, distance): per
/// (holdout, held-out model), the weighted sum of the methods' predictions, when every weighted
/// method predicted it.
fn combined_rows(
    backtest: &Backtest,
    benchmark: &str,
    weights: &[(String, f64)],
    ctx: &Context,
) -> Vec<(f64, f64, Option<f64>)> {
    if weights.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut seen: Vec<(usize, &str)> = Vec::new();
    for r in backtest.rows.iter().filter(|r| r.benchmark == benchmark) {
        let key = (r.holdout, r.held_out.as_str());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let combined: Option<f64> = weights
            .iter()
            .map(|(m, w)| {
                let g = backtest.rows.iter().find(|g| {
                    g.benchmark == benchmark
                        && (g.holdout, g.held_out.as_str()) == key
                        && g.method == *m
                })?;
                Some(w * g.prediction?)
            })
            .sum();
        if let (Some(p), Some(a)) = (combined, r.actual) {
            out.push((p, a, row_distance(backtest, r, ctx)));
        }
    }
    out
}
