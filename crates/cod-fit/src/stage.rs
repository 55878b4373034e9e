//! The `fit` stage: one COD-law fit per cluster, its verdict and its prediction at the target.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use cod_artifact::{
    BaselineFit, BenchmarkFits, ClusterFit, Clusters, EvalTable, Features, Fits, PerItemMethod,
    Role, Verdict,
};
use cod_pipeline::{Code, Progress, Stage, StageBinary};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::irt::{IrtOptions, fit_irt};
use crate::irt_marginal::{Population, fit_marginal};
use crate::{Bnsl, CodLaw, FitOptions, Law, Loss, Restarted, fit};

/// FLOPs per unit of compute in the fits: the COD filter's thresholds assume 1e18.
pub const COMPUTE_UNIT: f64 = 1e18;

fn default_huber_delta() -> f64 {
    0.01
}
fn default_min_a() -> f64 {
    1.0
}
fn default_min_b() -> f64 {
    0.1
}
fn default_max_c() -> f64 {
    1.0
}

/// The residual loss by name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum LossName {
    #[default]
    Squared,
    Huber,
}

/// Parameters of the `fit` stage.
#[derive(Clone, Debug, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct FitParams {
    /// Fix the guess floor g for every benchmark [default: g is fitted, in [0, 1]].
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guess: Option<f64>,
    /// Fix g per benchmark, e.g. `{ mmlu = 0.25 }`; overrides `guess`. (Pipeline files only.)
    #[arg(skip)]
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub guess_per_benchmark: BTreeMap<String, f64>,
    /// The residual loss.
    #[arg(long, value_enum, default_value_t = LossName::Squared)]
    #[serde(default)]
    pub loss: LossName,
    /// δ of the Huber loss, in accuracy units.
    #[arg(long, default_value_t = default_huber_delta())]
    #[serde(default = "default_huber_delta")]
    pub huber_delta: f64,
    /// A cluster is extrapolatable only if a > `min_a` ...
    #[arg(long, default_value_t = default_min_a())]
    #[serde(default = "default_min_a")]
    pub min_a: f64,
    /// ... and b > `min_b` ...
    #[arg(long, default_value_t = default_min_b())]
    #[serde(default = "default_min_b")]
    pub min_b: f64,
    /// ... and 0 ≤ c < `max_c` (METHODS §1.4).
    #[arg(long, default_value_t = default_max_c())]
    #[serde(default = "default_max_c")]
    pub max_c: f64,
    /// What the end-to-end (exp) baseline fits as a model's full-benchmark accuracy: `majority`,
    /// the share of items most of its attempts solve (with one attempt per item, the pass rate);
    /// or `pass-rate`, which makes it the passrate baseline.
    #[arg(long, value_enum, default_value_t = ExpAccuracy::Majority)]
    #[serde(default)]
    pub exp_accuracy: ExpAccuracy,
    /// How the `irt` baseline is fitted: `marginal`, the items' prior learned from all of them
    /// (empirical Bayes) and the prediction a posterior mean; or `map`, each item's maximum a
    /// posteriori curve under a fixed weak prior.
    #[arg(long, value_enum, default_value_t = IrtFit::Marginal)]
    #[serde(default)]
    pub irt: IrtFit,
}

/// How the `irt` baseline is fitted (see [`crate::irt_marginal`] and [`crate::irt`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum IrtFit {
    /// Empirical Bayes: the population of items fitted by marginal likelihood, posterior means.
    #[default]
    Marginal,
    /// Each item's maximum a posteriori curve under the fixed default prior.
    Map,
}

/// How the end-to-end (exp) baseline measures a model's accuracy on the whole benchmark. METHODS
/// §3 distinguishes it from the passrate baseline only by fitting "full-benchmark accuracy"
/// rather than "mean pass rate"; from per-item counts the accuracy is taken as majority accuracy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ExpAccuracy {
    #[default]
    Majority,
    PassRate,
}

impl FitParams {
    fn check(&self) -> anyhow::Result<()> {
        let guesses = self.guess.iter().map(|g| ("guess".to_owned(), *g)).chain(
            self.guess_per_benchmark
                .iter()
                .map(|(b, g)| (format!("guess_per_benchmark.{b}"), *g)),
        );
        for (key, g) in guesses {
            if !(0.0..1.0).contains(&g) {
                bail!("`{key}` must be in [0, 1), found {g}");
            }
        }
        if !(self.huber_delta.is_finite() && self.huber_delta > 0.0) {
            bail!("`huber_delta` must be positive, found {}", self.huber_delta);
        }
        Ok(())
    }

    /// The fitting options of the configured loss.
    fn fit_options(&self) -> FitOptions {
        FitOptions {
            loss: match self.loss {
                LossName::Squared => Loss::Squared,
                LossName::Huber => Loss::Huber(self.huber_delta),
            },
            ..FitOptions::default()
        }
    }

    /// The verdict on a COD-law fit (a, b, c, g).
    #[must_use]
    pub fn verdict(&self, params: &[f64]) -> Verdict {
        let (a, b, c) = (params[0], params[1], params[2]);
        if a > self.min_a && b > self.min_b && (0.0..self.max_c).contains(&c) {
            Verdict::Extrapolatable
        } else if a <= self.min_a || b <= self.min_b {
            Verdict::NonEmergent
        } else {
            Verdict::NonExtrapolatable
        }
    }

    fn describe(&self) -> String {
        let g = match (&self.guess, self.guess_per_benchmark.is_empty()) {
            (_, false) => "per benchmark".to_owned(),
            (Some(g), true) => g.to_string(),
            (None, true) => "free".to_owned(),
        };
        let loss = match self.loss {
            LossName::Squared => "squared".to_owned(),
            LossName::Huber => format!("huber({})", self.huber_delta),
        };
        format!(
            "cod-law g={g} loss={loss} compute in 1e18 FLOPs; extrapolatable iff a>{} b>{} 0<=c<{}",
            self.min_a, self.min_b, self.max_c
        )
    }
}

/// The baselines that fit no law to the accuracy curve: no residuals of their own, no starts.
/// (PerItemMethod::Irt fits every item's counts; a bootstrap varies it through the resampled items.)
const NO_CURVE_LAW: [PerItemMethod; 3] = [
    PerItemMethod::NoChange,
    PerItemMethod::LogLinear,
    PerItemMethod::Irt,
];

/// Ladder models the log-linear baseline's line goes through (the largest ones).
pub const LOG_LINEAR_MODELS: usize = 3;

/// The log-linear baseline: the least-squares line of accuracy on log10 compute through the
/// `LOG_LINEAR_MODELS` largest models (all of them when the ladder is smaller), as (intercept,
/// slope). `x` must be in increasing compute, as the ladder is.
#[must_use]
pub fn log_linear_line(x: &[f64], y: &[f64]) -> Option<(f64, f64)> {
    let k = x.len().min(LOG_LINEAR_MODELS);
    if k < 2 {
        return None;
    }
    let lx: Vec<f64> = x[x.len() - k..].iter().map(|x| x.log10()).collect();
    let ly = &y[y.len() - k..];
    let mx = lx.iter().sum::<f64>() / k as f64;
    let my = ly.iter().sum::<f64>() / k as f64;
    let sxx: f64 = lx.iter().map(|x| (x - mx).powi(2)).sum();
    let sxy: f64 = lx.iter().zip(ly).map(|(x, y)| (x - mx) * (y - my)).sum();
    (sxx > 0.0).then(|| (my - mx * sxy / sxx, sxy / sxx))
}

/// What a bootstrap refit of one benchmark changes: shifts added to its ladder curves before they
/// are fitted, and the full data's optima to start from instead of each law's grid.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BenchmarkRefit {
    /// Per cluster, one shift per ladder model (in ladder order); empty for no shift.
    pub clusters: Vec<Vec<f64>>,
    /// Per baseline method, the shift of the curve it fits.
    pub baselines: BTreeMap<PerItemMethod, Vec<f64>>,
    /// Per cluster, the parameters to start from (`None`: the law's grid).
    pub cluster_starts: Vec<Option<Vec<Vec<f64>>>>,
    /// Per baseline method, the parameters to start from.
    pub baseline_starts: BTreeMap<PerItemMethod, Vec<Vec<f64>>>,
    /// The `marginal` PerItemMethod::Irt's population to keep instead of refitting it.
    pub irt_population: Option<Population>,
}

impl BenchmarkRefit {
    fn shifted(&self, method: PerItemMethod, y: &[f64]) -> Vec<f64> {
        add(y, self.baselines.get(&method))
    }

    fn start(&self, method: PerItemMethod) -> Option<Vec<Vec<f64>>> {
        self.baseline_starts.get(&method).cloned()
    }
}

/// Fits `law` from `starts` when given, else from the law's own grid.
fn fit_from<L: Law + Clone>(
    law: &L,
    starts: Option<Vec<Vec<f64>>>,
    x: &[L::Input],
    y: &[f64],
    options: FitOptions,
) -> anyhow::Result<crate::Fit> {
    match starts {
        Some(starts) => fit(
            &Restarted {
                law: law.clone(),
                starts,
            },
            x,
            y,
            options,
        ),
        None => fit(law, x, y, options),
    }
}

/// PerItemMethod::EndToEndBnsl over a ladder's computes `x` (increasing), which place its starting breaks.
fn bnsl_over(x: &[f64]) -> Bnsl {
    Bnsl {
        x_range: (x[0], x[x.len() - 1]),
    }
}

/// y + shift, or y when there is no shift.
fn add(y: &[f64], shift: Option<&Vec<f64>>) -> Vec<f64> {
    match shift {
        Some(s) if !s.is_empty() => y.iter().zip(s).map(|(y, s)| y + s).collect(),
        _ => y.to_vec(),
    }
}

/// The residuals (observed − fitted, in accuracy units, ladder order) of a benchmark's fitted
/// curves, with the number of parameters each law fitted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BenchmarkResiduals {
    /// Per cluster; `None` when its fit failed.
    pub clusters: Vec<Option<Vec<f64>>>,
    /// Parameters of the clusters' COD law as fitted (3 with g fixed, else 4).
    pub cod_params: usize,
    /// Per baseline method that fitted: its residuals and its law's number of parameters.
    pub baselines: BTreeMap<PerItemMethod, (Vec<f64>, usize)>,
}

/// Every fitted curve's residuals on the ladder, per benchmark (in the fits' order).
#[must_use]
pub fn residuals(fits: &Fits, params: &FitParams) -> Vec<BenchmarkResiduals> {
    let x: Vec<f64> = fits.ladder.iter().map(|m| m.flops / COMPUTE_UNIT).collect();
    let residual = |y: &[f64], value: &dyn Fn(f64) -> f64| -> Vec<f64> {
        x.iter().zip(y).map(|(&x, &y)| y - value(x)).collect()
    };
    fits.benchmarks
        .iter()
        .map(|bench| {
            let law = cod_law(params, &bench.benchmark);
            let n = law.names().len();
            let clusters = bench
                .clusters
                .iter()
                .map(|c| {
                    (c.params.len() >= n)
                        .then(|| residual(&c.accuracy, &|x| law.value(x, &c.params[..n])))
                })
                .collect();
            let bnsl = bnsl_over(&x);
            let baselines = bench
                .baselines
                .iter()
                .filter(|b| b.failure.is_none() && !NO_CURVE_LAW.contains(&b.method))
                .map(|b| {
                    let r = match b.method {
                        PerItemMethod::EndToEndExp => (
                            residual(&bench.exp_accuracy, &|x| law.value(x, &b.params)),
                            n,
                        ),
                        PerItemMethod::EndToEndBnsl => (
                            residual(&bench.accuracy, &|x| 1.0 - bnsl.value(x, &b.params)),
                            bnsl.names().len(),
                        ),
                        _ => (residual(&bench.accuracy, &|x| law.value(x, &b.params)), n),
                    };
                    (b.method, r)
                })
                .collect();
            BenchmarkResiduals {
                clusters,
                cod_params: n,
                baselines,
            }
        })
        .collect()
}

/// `p` moved off any bound it sits on, by 1% of the interval or 0.01 from a one-sided bound: a
/// parameter on a bound is at the end of its reparametrization, where its gradient vanishes, and a
/// refit started there could not leave it.
fn off_bounds(bounds: &[(f64, f64)], p: &[f64]) -> Vec<f64> {
    const STEP: f64 = 0.01;
    bounds
        .iter()
        .zip(p)
        .map(|(&(lo, hi), &p)| match (lo.is_finite(), hi.is_finite()) {
            (true, true) => p.clamp(lo + STEP * (hi - lo), hi - STEP * (hi - lo)),
            (true, false) => p.max(lo + STEP),
            (false, true) => p.min(hi - STEP),
            (false, false) => p,
        })
        .collect()
}

/// The starts of a refit: the full data's optimum moved off its bounds, and the law's grid too
/// when `with_grid`.
#[must_use]
pub fn refit_starts(law: &dyn Law<Input = f64>, optimum: &[f64], with_grid: bool) -> Vec<Vec<f64>> {
    let mut starts = vec![off_bounds(&law.bounds(), optimum)];
    if with_grid {
        starts.extend(law.starts());
    }
    starts
}

/// The starts of every curve's refit, per benchmark (in the fits' order): each cluster's law
/// starts from its full-data optimum alone, which is what makes refits cheap (a benchmark has
/// tens of clusters); each baseline, one curve per benchmark, from its optimum and its whole grid.
#[must_use]
pub fn warm_starts(fits: &Fits, params: &FitParams) -> Vec<BenchmarkRefit> {
    let x: Vec<f64> = fits.ladder.iter().map(|m| m.flops / COMPUTE_UNIT).collect();
    fits.benchmarks
        .iter()
        .map(|bench| {
            let law = cod_law(params, &bench.benchmark);
            let n = law.names().len();
            let bnsl = bnsl_over(&x);
            BenchmarkRefit {
                cluster_starts: bench
                    .clusters
                    .iter()
                    .map(|c| {
                        (c.params.len() >= n).then(|| refit_starts(&law, &c.params[..n], false))
                    })
                    .collect(),
                baseline_starts: bench
                    .baselines
                    .iter()
                    .filter(|b| b.failure.is_none() && !NO_CURVE_LAW.contains(&b.method))
                    .map(|b| {
                        let law: &dyn Law<Input = f64> = if b.method == PerItemMethod::EndToEndBnsl
                        {
                            &bnsl
                        } else {
                            &law
                        };
                        (b.method, refit_starts(law, &b.params, true))
                    })
                    .collect(),
                irt_population: bench
                    .baselines
                    .iter()
                    .find(|b| b.method == PerItemMethod::Irt && b.failure.is_none())
                    .and_then(|b| population(&b.params)),
                ..BenchmarkRefit::default()
            }
        })
        .collect()
}

/// The COD law of a benchmark under `params`: g fixed per benchmark, globally, or fitted.
fn cod_law(params: &FitParams, benchmark: &str) -> CodLaw {
    CodLaw {
        guess: params
            .guess_per_benchmark
            .get(benchmark)
            .copied()
            .or(params.guess),
    }
}

/// Fits `law` to one accuracy curve and judges it; `starts` replaces the law's grid of starts.
/// The curve is fitted once and predicted at each of `targets`, one [`ClusterFit`] each.
#[allow(clippy::too_many_arguments)]
fn fit_curve(
    law: &CodLaw,
    starts: Option<Vec<Vec<f64>>>,
    x: &[f64],
    accuracy: Vec<f64>,
    size: usize,
    targets: &[Option<&cod_artifact::Model>],
    params: &FitParams,
    options: FitOptions,
) -> Vec<ClusterFit> {
    // A refit whose given starts all fail falls back to the law's own grid.
    let result = match starts {
        Some(_) => fit_from(law, starts, x, &accuracy, options)
            .or_else(|_| fit(law, x, &accuracy, options)),
        None => fit(law, x, &accuracy, options),
    };
    match result {
        Ok(f) => {
            let (a, b, c, g) = law.abcg(&f.params);
            let full = vec![a, b, c, g];
            let fitted = ClusterFit {
                size,
                prediction: None,
                verdict: params.verdict(&full),
                params: full,
                rmse: f.rmse,
                accuracy,
            };
            targets
                .iter()
                .map(|target| ClusterFit {
                    prediction: target.map(|t| law.value(t.flops / COMPUTE_UNIT, &f.params)),
                    ..fitted.clone()
                })
                .collect()
        }
        Err(err) => {
            let failed = ClusterFit {
                size,
                accuracy,
                params: Vec::new(),
                rmse: f64::NAN,
                verdict: Verdict::FitFailed(format!("{err:#}")),
                prediction: None,
            };
            vec![failed; targets.len()]
        }
    }
}

/// A prediction from a fitted curve, of compute in [`COMPUTE_UNIT`]s.
type Predictor<'a> = Box<dyn Fn(f64) -> f64 + 'a>;

/// A baseline fitted once, predicted at each target with [`Fitted::at`].
struct Fitted<'a> {
    /// The fit, its `prediction` unset.
    fit: BaselineFit,
    /// `None` when the fit failed.
    predict: Option<Predictor<'a>>,
}

impl<'a> Fitted<'a> {
    fn ok(method: PerItemMethod, params: Vec<f64>, rmse: f64, predict: Predictor<'a>) -> Self {
        Fitted {
            fit: BaselineFit {
                method,
                params,
                rmse,
                prediction: None,
                failure: None,
            },
            predict: Some(predict),
        }
    }

    fn failed(method: PerItemMethod, err: &anyhow::Error) -> Self {
        Fitted {
            fit: BaselineFit {
                method,
                params: Vec::new(),
                rmse: f64::NAN,
                prediction: None,
                failure: Some(format!("{err:#}")),
            },
            predict: None,
        }
    }

    /// The baseline as fitted for `target` (no prediction without one).
    fn at(&self, target: Option<&cod_artifact::Model>) -> BaselineFit {
        BaselineFit {
            prediction: target
                .zip(self.predict.as_ref())
                .map(|(t, predict)| predict(t.flops / COMPUTE_UNIT)),
            ..self.fit.clone()
        }
    }
}

/// The end-to-end baselines on a benchmark's whole accuracy curve: the COD law on the accuracy
/// (exp) and on the mean pass rate, and PerItemMethod::EndToEndBnsl on the error rate 1 − pass rate. `refit` gives each
/// method's shift of its curve and its start.
fn baselines<'a>(
    law: &'a CodLaw,
    x: &[f64],
    exp_accuracy: &[f64],
    accuracy: &[f64],
    options: FitOptions,
    refit: &BenchmarkRefit,
) -> Vec<Fitted<'a>> {
    let cod_fit = |method: PerItemMethod, y: &[f64]| match fit_from(
        law,
        refit.start(method),
        x,
        &refit.shifted(method, y),
        options,
    ) {
        Ok(f) => {
            let params = f.params.clone();
            let predict: Predictor<'a> = Box::new(move |t| law.value(t, &params));
            Fitted::ok(method, f.params, f.rmse, predict)
        }
        Err(err) => Fitted::failed(method, &err),
    };
    let exp = cod_fit(PerItemMethod::EndToEndExp, exp_accuracy);
    let passrate = cod_fit(PerItemMethod::EndToEndPassrate, accuracy);
    let bnsl = bnsl_over(x);
    let error: Vec<f64> = refit
        .shifted(PerItemMethod::EndToEndBnsl, accuracy)
        .iter()
        .map(|a| 1.0 - a)
        .collect();
    let broken = match fit_from(
        &bnsl,
        refit.start(PerItemMethod::EndToEndBnsl),
        x,
        &error,
        options,
    ) {
        Ok(f) => {
            let params = f.params.clone();
            let predict: Predictor<'a> =
                Box::new(move |t| (1.0 - bnsl.value(t, &params)).clamp(0.0, 1.0));
            Fitted::ok(PerItemMethod::EndToEndBnsl, f.params, f.rmse, predict)
        }
        Err(err) => Fitted::failed(PerItemMethod::EndToEndBnsl, &err),
    };
    // The trivial baselines read the pass-rate curve, and a bootstrap moves it as it moves the
    // pass-rate law's curve (they fit no law, so have no residuals of their own).
    let shifted = refit.shifted(PerItemMethod::EndToEndPassrate, accuracy);
    let largest = shifted[shifted.len() - 1];
    let no_change = Fitted::ok(
        PerItemMethod::NoChange,
        vec![largest],
        0.0,
        Box::new(move |_| largest),
    );
    let floor = law.guess.unwrap_or(0.0);
    let log_linear = match log_linear_line(x, &shifted) {
        Some((intercept, slope)) => {
            let line = move |t: f64| intercept + slope * t.log10();
            let k = x.len().min(LOG_LINEAR_MODELS);
            let sum: f64 = x[x.len() - k..]
                .iter()
                .zip(&shifted[shifted.len() - k..])
                .map(|(&x, y)| (line(x) - y).powi(2))
                .sum();
            Fitted::ok(
                PerItemMethod::LogLinear,
                vec![intercept, slope],
                (sum / k as f64).sqrt(),
                Box::new(move |t| line(t).clamp(floor, 1.0)),
            )
        }
        None => Fitted::failed(
            PerItemMethod::LogLinear,
            &anyhow::anyhow!("a line needs at least 2 ladder models of different compute"),
        ),
    };
    vec![exp, passrate, broken, no_change, log_linear]
}

/// The marginal PerItemMethod::Irt's population as its baseline's `params` hold it (g, μ_ln a, σ_ln a, μ_b,
/// σ_b); `None` for the `map` fit's (g alone).
fn population(params: &[f64]) -> Option<Population> {
    match *params {
        [guess, mu_ln_a, sd_ln_a, mu_b, sd_b] => Some(Population {
            mu_ln_a,
            sd_ln_a,
            mu_b,
            sd_b,
            guess,
        }),
        _ => None,
    }
}

/// The PerItemMethod::Irt baseline on every item of a benchmark, the never-solved ones included: θ = log10 of
/// compute (in `COMPUTE_UNIT`s), the guess floor fixed as the COD law's (`guess`) or free, and
/// the prediction the mean over items at the target's θ. Its `params` hold the floor it used;
/// its RMSE is on the ladder models' mean pass rates (`accuracy`).
fn irt_baseline(
    table: &EvalTable,
    features: &Features,
    evals: &cod_artifact::BenchmarkEvals,
    (guess, how, refit): (Option<f64>, IrtFit, &BenchmarkRefit),
    accuracy: &[f64],
) -> Fitted<'static> {
    let n_models = table.models.len();
    let columns: Vec<usize> = features
        .ladder
        .iter()
        .filter_map(|m| table.models.iter().position(|t| t.name == m.name))
        .collect();
    let theta: Vec<f64> = features
        .ladder
        .iter()
        .map(|m| (m.flops / COMPUTE_UNIT).log10())
        .collect();
    let cells = evals.items.len() * columns.len();
    let (mut n_correct, mut n_samples) = (Vec::with_capacity(cells), Vec::with_capacity(cells));
    for item in 0..evals.items.len() {
        for &m in &columns {
            n_correct.push(evals.n_correct[item * n_models + m]);
            n_samples.push(evals.n_samples[item * n_models + m]);
        }
    }
    // The IRT fits predict at an ability, θ = log10 of compute.
    let fit: anyhow::Result<(Vec<f64>, Predictor<'static>)> = if columns.len() != theta.len() {
        Err(anyhow::anyhow!("a ladder model is not in the eval table"))
    } else if how == IrtFit::Map {
        let options = IrtOptions::from_theta(&theta, guess);
        fit_irt(&theta, &n_correct, &n_samples, &options).map(|fit| {
            let params = vec![fit.guess];
            let predict: Predictor<'static> = Box::new(move |t| fit.predict(t));
            (params, predict)
        })
    } else {
        let start = refit.irt_population;
        fit_marginal(
            &theta,
            &n_correct,
            &n_samples,
            guess,
            start,
            start.is_none(),
        )
        .map(|fit| {
            let p = fit.population;
            let params = vec![p.guess, p.mu_ln_a, p.sd_ln_a, p.mu_b, p.sd_b];
            let predict: Predictor<'static> = Box::new(move |t| fit.predict(t));
            (params, predict)
        })
    };
    match fit {
        Ok((params, predict)) => {
            let sum: f64 = theta
                .iter()
                .zip(accuracy)
                .map(|(&t, a)| (predict(t) - a).powi(2))
                .sum();
            Fitted::ok(
                PerItemMethod::Irt,
                params,
                (sum / theta.len() as f64).sqrt(),
                Box::new(move |compute| predict(compute.log10())),
            )
        }
        Err(err) => Fitted::failed(PerItemMethod::Irt, &err),
    }
}

/// Each ladder model's mean pass rate (or majority accuracy) over all of a benchmark's items, in
/// ladder order.
fn ladder_accuracy(
    table: &EvalTable,
    features: &Features,
    evals: &cod_artifact::BenchmarkEvals,
    measure: ExpAccuracy,
) -> anyhow::Result<Vec<f64>> {
    features
        .ladder
        .iter()
        .map(|model| {
            let m = table
                .models
                .iter()
                .position(|t| t.name == model.name)
                .with_context(|| {
                    format!("ladder model `{}` is not in the eval table", model.name)
                })?;
            let n_models = table.models.len();
            match measure {
                ExpAccuracy::PassRate => evals.mean_pass_rate(m, n_models).0,
                ExpAccuracy::Majority => evals.majority_accuracy(m, n_models),
            }
            .with_context(|| format!("model `{}` has no results on `{}`", model.name, evals.name))
        })
        .collect()
}

/// A benchmark's results, and each ladder model's mean pass rate and accuracy as the end-to-end
/// (exp) baseline measures it, in ladder order.
fn benchmark_curves<'a>(
    table: &'a EvalTable,
    features: &Features,
    name: &str,
    params: &FitParams,
) -> anyhow::Result<(&'a cod_artifact::BenchmarkEvals, Vec<f64>, Vec<f64>)> {
    let evals = table
        .benchmarks
        .iter()
        .find(|b| b.name == name)
        .with_context(|| format!("benchmark `{name}` is not in the eval table"))?;
    let full_accuracy = ladder_accuracy(table, features, evals, ExpAccuracy::PassRate)?;
    let exp_accuracy = ladder_accuracy(table, features, evals, params.exp_accuracy)?;
    Ok((evals, full_accuracy, exp_accuracy))
}

/// Fits every cluster of every benchmark.
pub fn fit_clusters(
    table: &EvalTable,
    features: &Features,
    clusters: &Clusters,
    params: &FitParams,
) -> anyhow::Result<Fits> {
    fit_clusters_with(table, features, clusters, params, &BTreeMap::new())
}

/// [`fit_clusters`] with, per benchmark name, the shifts and starts of a bootstrap refit.
pub fn fit_clusters_with(
    table: &EvalTable,
    features: &Features,
    clusters: &Clusters,
    params: &FitParams,
    refits: &BTreeMap<String, BenchmarkRefit>,
) -> anyhow::Result<Fits> {
    params.check()?;
    let d = features.ladder.len();
    let x: Vec<f64> = features
        .ladder
        .iter()
        .map(|m| m.flops / COMPUTE_UNIT)
        .collect();
    let targets: Vec<cod_artifact::Model> = table
        .models
        .iter()
        .filter(|m| m.role == Role::Target)
        .cloned()
        .collect();
    // The fits are the same for every target; their predictions are not.
    let each_target: Vec<Option<&cod_artifact::Model>> = if targets.is_empty() {
        vec![None]
    } else {
        targets.iter().map(Some).collect()
    };
    let options = params.fit_options();
    let mut benchmarks = Vec::new();
    for bench in &clusters.benchmarks {
        let feats = features
            .benchmarks
            .iter()
            .find(|b| b.name == bench.name)
            .with_context(|| {
                format!(
                    "benchmark `{}` is in the clusters but not the features",
                    bench.name
                )
            })?;
        if feats.items != bench.items {
            bail!(
                "benchmark `{}`: the clusters were made from other features (items differ)",
                bench.name
            );
        }
        let law = cod_law(params, &bench.name);
        let no_refit = BenchmarkRefit::default();
        let refit = refits.get(&bench.name).unwrap_or(&no_refit);
        let (evals, full_accuracy, exp_accuracy) =
            benchmark_curves(table, features, &bench.name, params)?;
        let means = cluster_means(bench, feats, d);
        // Every curve is fitted once; each target gets its predictions from the same fits.
        let per_cluster: Vec<Vec<ClusterFit>> = bench
            .clusters
            .par_iter()
            .zip(&means)
            .enumerate()
            .map(|(c, (cluster, mean))| {
                let start = refit.cluster_starts.get(c).cloned().flatten();
                fit_curve(
                    &law,
                    start,
                    &x,
                    add(mean, refit.clusters.get(c)),
                    cluster.size,
                    &each_target,
                    params,
                    options,
                )
            })
            .collect();
        let mut fitted = baselines(&law, &x, &exp_accuracy, &full_accuracy, options, refit);
        fitted.push(irt_baseline(
            table,
            features,
            evals,
            (law.guess, params.irt, refit),
            &full_accuracy,
        ));
        for (i, &target) in each_target.iter().enumerate() {
            let target_name = target.map(|t| t.name.clone());
            benchmarks.push(BenchmarkFits {
                name: cod_artifact::entry_name(targets.len(), target_name.as_deref(), &bench.name),
                benchmark: bench.name.clone(),
                target: target_name,
                clusters: per_cluster.iter().map(|fits| fits[i].clone()).collect(),
                accuracy: full_accuracy.clone(),
                exp_accuracy: exp_accuracy.clone(),
                baselines: fitted.iter().map(|f| f.at(target)).collect(),
            });
        }
    }
    Ok(Fits {
        method: params.describe(),
        ladder: features.ladder.clone(),
        targets,
        benchmarks,
    })
}

/// Each cluster's mean pass rate on each of the `d` ladder models.
fn cluster_means(
    bench: &cod_artifact::BenchmarkClusters,
    feats: &cod_artifact::BenchmarkFeatures,
    d: usize,
) -> Vec<Vec<f64>> {
    let mut sums = vec![vec![0.0; d]; bench.clusters.len()];
    for (i, label) in bench.labels.iter().enumerate() {
        if let Some(c) = label {
            for (s, v) in sums[*c as usize].iter_mut().zip(feats.row(i, d)) {
                *s += v;
            }
        }
    }
    bench
        .clusters
        .iter()
        .zip(sums)
        .map(|(cluster, sum)| sum.iter().map(|s| s / cluster.size as f64).collect())
        .collect()
}

/// Fits the COD law to every cluster.
pub struct FitStage;

impl Stage for FitStage {
    type Params = FitParams;
    type Inputs = (EvalTable, Features, Clusters);
    type Output = Fits;
    const KIND: &'static str = "fit";
    /// Covers all of this crate: the laws and the least-squares fit, which the ladder, the
    /// mapping, the bootstrap and the backtests run too.
    const CODE: Code = Code::new("fit", 4, &[]);

    fn validate(params: &FitParams) -> anyhow::Result<()> {
        params.check()
    }

    fn run(
        params: &FitParams,
        (table, features, clusters): (EvalTable, Features, Clusters),
        _progress: &Progress,
    ) -> anyhow::Result<Fits> {
        fit_clusters(&table, &features, &clusters, params)
    }
}

/// `cod-fit`, the stage's binary.
pub const BINARY: StageBinary = StageBinary {
    name: "cod-fit",
    about: "Fit the COD law y = g + (1 − g)·exp(−a·C^(−b) − c) to every cluster, judge whether it \
            may be extrapolated, and predict it at the target's compute",
    long_about: "Compute C is in units of 1e18 FLOPs. A cluster is extrapolatable iff a > 1, \
                 b > 0.1 and 0 ≤ c < 1 (METHODS §1.4). The baselines are fitted on the whole \
                 benchmark.",
    inputs: &["eval-table", "features", "clusters"],
    examples: &[
        "cod-fit --eval-table out/mmlu/ingest.bin --features out/mmlu/features.bin \
                 --clusters out/mmlu/cluster.bin --output fits.bin --guess 0.25",
    ],
};
