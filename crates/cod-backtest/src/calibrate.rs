//! The recommendation and calibrated intervals: the arithmetic shared by the `recommend` and
//! `ladder-recommend` stages.
//!
//! Every method's interval at nominal level 1 − α (90%) accounts for three sources of error:
//!
//! - **(a) the fit's sampling spread**: the method's 5–95% bootstrap interval, when the pipeline
//!   bootstrapped it, read as a normal's: σ_a = its half-width / z;
//! - **(b) the extrapolation error the backtest observed**: t · d, with d the extrapolation
//!   distance in decades of compute (from the mean log10 compute of the models a prediction was
//!   fitted on to the predicted model's) and t the root mean square of the backtest's
//!   |error| / d;
//! - **(c) the target's measurement noise**: σ_c = sqrt(p(1 − p)/n) for a benchmark of n items
//!   at accuracy p.
//!
//! They add as independent errors into one predicted spread, s = sqrt(σ_a² + σ_c² + (t·d)²), and
//! the interval is calibrated on it by normalized split conformal prediction (Papadopoulos et
//! al., "Inductive confidence machines for regression", ECML 2002; Lei et al.,
//! "Distribution-free predictive inference for regression", JASA 2018; Vovk et al., *Algorithmic
//! Learning in a Random World*, 2005). Each backtest row's score is |prediction − actual| / s, its
//! own spread at its own distance; the multiplier q̂ is the ⌈(n + 1)(1 − α)⌉-th smallest of a
//! method's n scores, pooled over every benchmark (or task) of the pipeline; and the half-width at
//! the target is q̂ · s_target. A backtest error already contains the held-out model's sampling
//! and measurement noise, so the quantile calibrates the three sources together and none is
//! counted twice: when the bootstrap and binomial terms overstate what the backtest saw, q̂ falls
//! below z, and when extrapolation dominates, q̂ · t is the quantile of |error| / d.
//!
//! The level is exact when extrapolation is the only source (t then cancels from q̂ · s); with
//! the bootstrap and binomial terms it is approximate, as t is estimated from the same rows whose
//! scores give q̂.
//!
//! Where the target has a bootstrap band but the backtest's rows have none (a backtest run
//! without resamples), q̂ comes from scores without σ_a and the target's spread adds it: the
//! interval errs wide, never narrow.
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
    /// combination shrinks that choice toward the methods that are good everywhere. When the
    /// combination, scored out of sample, does no better than `no-change`, `no-change` is
    /// recommended.
    #[default]
    Weighted,
    /// As `weighted`, but each method's error is its mean abs backtest error averaged over every
    /// benchmark (or task) it competes on, so a method's weight is the same everywhere it
    /// predicts: more rows behind each weight, at the cost of ignoring which method suits which
    /// benchmark. `no-change` is still recommended where the combination, scored out of sample,
    /// does no better on that benchmark.
    WeightedPooled,
}

impl Choice {
    fn name(self) -> &'static str {
        match self {
            Choice::Best => "best",
            Choice::Weighted => WEIGHTED,
            Choice::WeightedPooled => "weighted with errors pooled over benchmarks",
        }
    }
}

/// The errors the combination's weights come from: each benchmark's own ranking, or every
/// method's errors averaged over the benchmarks it competes on (computed once per left-out
/// holdout).
enum Weighting<'a> {
    PerBenchmark,
    /// Per left-out holdout (`None`: none), every method's pooled error.
    Pooled(Vec<(Option<usize>, Errors<'a>)>),
}

/// Methods with their mean abs backtest errors.
type Errors<'a> = Vec<(&'a str, f64)>;

impl<'a> Weighting<'a> {
    fn new(backtest: &'a Backtest, pooled: bool) -> Self {
        if !pooled {
            return Weighting::PerBenchmark;
        }
        let mut left_out: Vec<Option<usize>> = vec![None];
        left_out.extend(backtest.holdouts.iter().map(|h| Some(h.k)));
        let rankings = backtest.benchmarks();
        let tables = left_out
            .into_iter()
            .map(|l| {
                let per_benchmark: Vec<Vec<(&str, f64)>> = rankings
                    .iter()
                    .map(|b| backtest.ranking_without(b, l))
                    .collect();
                let mut sums: Vec<(&str, f64, usize)> = Vec::new();
                for (m, e) in per_benchmark.iter().flatten() {
                    match sums.iter_mut().find(|(s, _, _)| s == m) {
                        Some(entry) => {
                            entry.1 += e;
                            entry.2 += 1;
                        }
                        None => sums.push((m, *e, 1)),
                    }
                }
                let means = sums
                    .into_iter()
                    .map(|(m, e, n)| (m, e / n as f64))
                    .collect();
                (l, means)
            })
            .collect();
        Weighting::Pooled(tables)
    }

    /// The errors behind the weights on `benchmark` over every holdout but `left_out`: the
    /// methods of the benchmark's own ranking, each with its own or its pooled error.
    fn errors(
        &self,
        backtest: &'a Backtest,
        benchmark: &str,
        left_out: Option<usize>,
    ) -> Vec<(&'a str, f64)> {
        let own = backtest.ranking_without(benchmark, left_out);
        match self {
            Weighting::PerBenchmark => own,
            Weighting::Pooled(tables) => {
                let Some((_, table)) = tables.iter().find(|(l, _)| *l == left_out) else {
                    return own;
                };
                own.into_iter()
                    .filter_map(|(m, _)| table.iter().find(|(t, _)| *t == m).copied())
                    .collect()
            }
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

/// Three half-widths combined in quadrature around `prediction`, clipped to [0, 1].
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

/// A method's error model, fitted to its backtest rows: the extrapolation error per decade t and
/// the conformal multiplier q̂ (the module's documentation gives the arithmetic).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ErrorModel {
    /// t: the root mean square of |error| / distance over the rows, in accuracy per decade.
    pub per_decade: f64,
    /// q̂: the split-conformal quantile of the rows' |error| / s.
    pub quantile: f64,
    /// The coverage the scores promise: [`LEVEL`], or n/(n + 1) when there are too few.
    pub achieved: f64,
}

impl ErrorModel {
    /// The model of `rows`; `None` without rows.
    fn fit<'a>(rows: impl Iterator<Item = &'a Scored> + Clone) -> Option<ErrorModel> {
        let n = rows.clone().count();
        if n == 0 {
            return None;
        }
        let mean_square = rows
            .clone()
            .map(|r| (r.error() / r.distance).powi(2))
            .sum::<f64>()
            / n as f64;
        let per_decade = mean_square.sqrt();
        let scores: Vec<f64> = rows.map(|r| r.score(per_decade)).collect();
        let (quantile, achieved) = conformal_quantile(&scores, LEVEL)?;
        Some(ErrorModel {
            per_decade,
            quantile,
            achieved,
        })
    }

    /// The model a method's calibration recorded, when it has one.
    #[must_use]
    pub fn of(method: &MethodCalibration) -> Option<ErrorModel> {
        Some(ErrorModel {
            per_decade: method.per_decade?,
            quantile: method.quantile?,
            achieved: method.achieved,
        })
    }

    /// The calibrated interval of `prediction` at `distance` decades, from the 90% half-widths of
    /// its bootstrap interval and of its binomial noise: q̂ · s, each source's share shown as
    /// q̂ · σ_a, q̂ · t · d and q̂ · σ_c.
    #[must_use]
    pub fn interval(
        &self,
        method: &str,
        prediction: f64,
        bootstrap: Option<f64>,
        distance: f64,
        binomial: Option<f64>,
    ) -> CalibratedInterval {
        let k = self.quantile / Z_90;
        combine(
            method,
            prediction,
            bootstrap.map(|a| k * a),
            Some(self.quantile * self.per_decade * distance),
            binomial.map(|c| k * c),
        )
    }
}

/// Re-bands a monitored trajectory with `method`'s calibrated interval at each checkpoint
/// ([`ErrorModel::interval`]): its bootstrap band, its distance from the ladder's mean log10
/// compute `ladder` (0 for a checkpoint within it: the backtest scored extrapolations only), and
/// the binomial noise of `items` around the prediction. A run of `params` N. Leaves the band as
/// it is, and returns false, when `calibration` has no error model for `method`.
pub fn calibrate_monitor(
    monitor: &mut Monitor,
    params: f64,
    calibration: &Calibration,
    method: &str,
    ladder: &[f64],
    items: Option<usize>,
) -> bool {
    let Some(model) = calibration
        .methods
        .iter()
        .find(|m| m.method == method)
        .and_then(ErrorModel::of)
    else {
        return false;
    };
    let band = (0..monitor.tokens.len())
        .map(|i| {
            let prediction = monitor.predicted[i];
            let d = distance(6.0 * params * monitor.tokens[i], ladder).map_or(0.0, |d| d.max(0.0));
            let bootstrap = monitor.band.as_ref().map(|b| half(b[i]));
            model
                .interval(
                    method,
                    prediction,
                    bootstrap,
                    d,
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
struct Scored {
    benchmark: String,
    prediction: f64,
    actual: f64,
    distance: f64,
    bootstrap: Option<f64>,
    binomial: Option<f64>,
}

impl Scored {
    fn error(&self) -> f64 {
        (self.prediction - self.actual).abs()
    }

    /// |error| / s, with s = sqrt(σ_a² + σ_c² + (t·d)²); 0 for an exact prediction with s = 0
    /// (t = 0 only when every error is 0).
    fn score(&self, per_decade: f64) -> f64 {
        let sigma = |h: Option<f64>| h.map_or(0.0, |h| (h / Z_90).powi(2));
        let s =
            (sigma(self.bootstrap) + sigma(self.binomial) + (per_decade * self.distance).powi(2))
                .sqrt();
        if s > 0.0 { self.error() / s } else { 0.0 }
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
/// method in method order. The backtest's variants are left out: `ladder-recommend` lists
/// none when it lets them compete.
fn scored_rows(backtest: &Backtest, ctx: &Context) -> Vec<(String, Vec<Scored>)> {
    backtest
        .methods()
        .into_iter()
        .filter(|m| !backtest.is_variant(m))
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

/// A method's calibration: its error model over every row, and each row's coverage by the model
/// of the other benchmarks' rows (or, with one benchmark, of the other rows).
fn calibrate_method(method: &str, rows: &[Scored]) -> MethodCalibration {
    let model = ErrorModel::fit(rows.iter());
    let benchmarks = {
        let mut b: Vec<&str> = rows.iter().map(|r| r.benchmark.as_str()).collect();
        b.sort_unstable();
        b.dedup();
        b.len()
    };
    let (mut held, mut tested, mut width, mut error) = (0, 0, 0.0, 0.0);
    for (i, row) in rows.iter().enumerate() {
        let others = rows
            .iter()
            .enumerate()
            .filter(|&(j, r)| {
                if benchmarks > 1 {
                    r.benchmark != row.benchmark
                } else {
                    j != i
                }
            })
            .map(|(_, r)| r);
        let Some(model) = ErrorModel::fit(others) else {
            continue;
        };
        let band = model.interval(
            method,
            row.prediction,
            row.bootstrap,
            row.distance,
            row.binomial,
        );
        tested += 1;
        held += usize::from(band.holds(row.actual));
        width += band.interval.1 - band.interval.0;
        error += row.error();
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
        scores: rows.len(),
        per_decade: model.map(|m| m.per_decade),
        quantile: model.map(|m| m.quantile),
        achieved: model.map_or(0.0, |m| m.achieved),
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
    let reach = scored
        .iter()
        .flat_map(|(_, rows)| rows.iter().map(|r| r.distance))
        .reduce(f64::max);
    let mut methods: Vec<MethodCalibration> = scored
        .iter()
        .map(|(m, rows)| calibrate_method(m, rows))
        .collect();
    let weighting = Weighting::new(backtest, choice == Choice::WeightedPooled);
    let combination = match choice {
        Choice::Best => None,
        Choice::Weighted | Choice::WeightedPooled => {
            let calibration =
                calibrate_method(WEIGHTED, &combination_rows(backtest, &weighting, ctx));
            let model = ErrorModel::of(&calibration);
            methods.push(calibration);
            model
        }
    };
    let interval = |entry: &Entry, c: &Candidate| -> Option<CalibratedInterval> {
        let prediction = c.prediction?;
        let model = ErrorModel::of(methods.iter().find(|m| m.method == c.method)?)?;
        Some(model.interval(
            &c.method,
            prediction,
            c.bootstrap.map(half),
            entry.distance?,
            entry.items.map(|n| binomial_half_width(prediction, n)),
        ))
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
                Choice::Weighted | Choice::WeightedPooled => {
                    weighted(entry, backtest, &weighting, ctx, combination, &intervals)
                }
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
        reach,
    }
}

const NO_CHANGE: &str = "no-change";
/// The combination's name, as a recommendation and a calibration row.
const WEIGHTED: &str = "weighted";

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

/// The backtest-weighted combination, or `no-change` when the combination did no better in the
/// backtest (the ladder then gives no evidence of further gain), calibrated on its own backtest
/// rows pooled over every benchmark ([`cross_validated_rows`]: each holdout's rows combined with
/// weights from the other holdouts, so its backtest error is out of sample when there are two
/// holdouts or more). `model` is that of [`combination_rows`], the same for every entry.
fn weighted(
    entry: &Entry,
    backtest: &Backtest,
    weighting: &Weighting,
    ctx: &Context,
    model: Option<ErrorModel>,
    intervals: &[CalibratedInterval],
) -> Recommendation {
    let ranking = backtest.ranking(&entry.benchmark);
    let predicts = |m: &str| {
        entry
            .candidates
            .iter()
            .any(|c| c.method == m && c.prediction.is_some())
    };
    let w = weights(
        &weighting.errors(backtest, &entry.benchmark, None),
        &predicts,
    );
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
    let own = cross_validated_rows(backtest, &entry.benchmark, &predicts, weighting, ctx);
    let backtest_error =
        (!own.is_empty()).then(|| own.iter().map(Scored::error).sum::<f64>() / own.len() as f64);
    // The fit's spread: the weighted mean of the combined methods' bootstrap half-widths, an
    // upper bound on the combination's when their errors are correlated.
    let bootstrap: Option<f64> = w
        .iter()
        .filter_map(|(m, w)| {
            let c = entry.candidates.iter().find(|c| c.method == *m)?;
            Some(w * half(c.bootstrap?))
        })
        .reduce(|a, b| a + b);
    let interval = prediction.zip(model).and_then(|(p, model)| {
        Some(model.interval(
            WEIGHTED,
            p,
            bootstrap,
            entry.distance?,
            entry.items.map(|n| binomial_half_width(p, n)),
        ))
    });
    let no_change_error = ranking.iter().find(|(m, _)| *m == NO_CHANGE).map(|r| r.1);
    let no_change = entry
        .candidates
        .iter()
        .find(|c| c.method == NO_CHANGE)
        .and_then(|c| c.prediction);
    let no_gain = no_change_error.zip(backtest_error).filter(|(n, e)| n <= e);
    if let (Some((n, e)), Some(p)) = (no_gain, no_change) {
        return Recommendation {
            method: NO_CHANGE.to_owned(),
            weights: Vec::new(),
            prediction: Some(p),
            backtest_error: Some(n),
            no_gain: true,
            interval: intervals.iter().find(|i| i.method == NO_CHANGE).cloned(),
            note: Some(format!(
                "the weighted combination erred {:.2} points in the backtest, no-change {:.2}",
                100.0 * e,
                100.0 * n
            )),
        };
    }
    Recommendation {
        method: WEIGHTED.to_owned(),
        no_gain: no_gain.is_some(),
        weights: w,
        prediction,
        backtest_error,
        interval,
        note: prediction
            .is_none()
            .then(|| "no scored method predicts this entry".to_owned()),
    }
}

/// The combination's scored backtest rows: every benchmark's, each combined out of sample
/// ([`cross_validated_rows`]), pooled as a method's are.
fn combination_rows(backtest: &Backtest, weighting: &Weighting, ctx: &Context) -> Vec<Scored> {
    backtest
        .benchmarks()
        .into_iter()
        .flat_map(|b| cross_validated_rows(backtest, b, &|_| true, weighting, ctx))
        .filter(|r| r.distance.is_finite())
        .collect()
}

/// The combination's backtest rows on `benchmark`, out of sample: each holdout's rows combined
/// with the weights of the other holdouts' errors, over the methods that `predicts` and compete
/// on every holdout. With a single holdout there are no other holdouts and its own weights are
/// used: in sample, so the combination's backtest error and calibration are optimistic there.
fn cross_validated_rows(
    backtest: &Backtest,
    benchmark: &str,
    predicts: &dyn Fn(&str) -> bool,
    weighting: &Weighting,
    ctx: &Context,
) -> Vec<Scored> {
    let mut holdouts: Vec<usize> = backtest
        .rows
        .iter()
        .filter(|r| r.benchmark == benchmark)
        .map(|r| r.holdout)
        .collect();
    holdouts.sort_unstable();
    holdouts.dedup();
    let ranking = backtest.ranking(benchmark);
    if holdouts.len() < 2 {
        let w = weights(&weighting.errors(backtest, benchmark, None), predicts);
        return combined_rows(backtest, benchmark, None, &w, ctx);
    }
    // Only the methods that compete on every holdout (a method that failed on one must not be
    // weighted there, which would drop that holdout's rows), each weighted by its errors on the
    // other holdouts.
    let competes = |m: &str| predicts(m) && ranking.iter().any(|(r, _)| *r == m);
    holdouts
        .iter()
        .flat_map(|&h| {
            let w = weights(&weighting.errors(backtest, benchmark, Some(h)), &competes);
            combined_rows(backtest, benchmark, Some(h), &w, ctx)
        })
        .collect()
}

/// The combination's backtest rows on `benchmark` (of holdout `only`, or of every holdout): per
/// (holdout, held-out model), the weighted sum of the methods' predictions, when every weighted
/// method predicted it. A row's bootstrap half-width is the weighted sum of the methods' that
/// have one, as the entry's is; its distance is NaN when it has none.
fn combined_rows(
    backtest: &Backtest,
    benchmark: &str,
    only: Option<usize>,
    weights: &[(String, f64)],
    ctx: &Context,
) -> Vec<Scored> {
    if weights.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut seen: Vec<(usize, &str)> = Vec::new();
    for r in backtest
        .rows
        .iter()
        .filter(|r| r.benchmark == benchmark && only.is_none_or(|h| r.holdout == h))
    {
        let key = (r.holdout, r.held_out.as_str());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let members: Option<Vec<(f64, &BacktestRow)>> = weights
            .iter()
            .map(|(m, w)| {
                let g = backtest.rows.iter().find(|g| {
                    g.benchmark == benchmark
                        && (g.holdout, g.held_out.as_str()) == key
                        && g.method == *m
                })?;
                g.prediction.is_some().then_some((*w, g))
            })
            .collect();
        // Every method's row of a held-out model reads the same actual; any that has it will do
        // (the first row's may not, e.g. a method that failed before reading it).
        let actual = backtest
            .rows
            .iter()
            .filter(|g| g.benchmark == benchmark && (g.holdout, g.held_out.as_str()) == key)
            .find_map(|g| g.actual);
        let (Some(members), Some(actual)) = (members, actual) else {
            continue;
        };
        let prediction: f64 = members
            .iter()
            .filter_map(|(w, g)| Some(w * g.prediction?))
            .sum();
        let bootstrap: Option<f64> = members
            .iter()
            .filter_map(|(w, g)| Some(w * half(g.interval?)))
            .reduce(|a, b| a + b);
        out.push(Scored {
            benchmark: benchmark.to_owned(),
            prediction,
            actual,
            distance: row_distance(backtest, r, ctx).unwrap_or(f64::NAN),
            bootstrap,
            binomial: (ctx.items)(benchmark).map(|n| binomial_half_width(prediction, n)),
        });
    }
    out
}
