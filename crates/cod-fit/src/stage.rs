//! The `fit` stage: one COD-law fit per cluster, its verdict and its prediction at the target.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use cod_artifact::{
    ArtifactKind, BaselineFit, BenchmarkFits, ClusterFit, Clusters, EvalTable, Features, Fits,
    Role, Verdict,
};
use cod_pipeline::{Progress, Stage};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{Bnsl, CodLaw, FitOptions, Law, Loss, fit};

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

/// Fits `law` to one accuracy curve and judges it.
fn fit_curve(
    law: &CodLaw,
    x: &[f64],
    accuracy: Vec<f64>,
    size: usize,
    target: Option<&cod_artifact::Model>,
    params: &FitParams,
    options: FitOptions,
) -> ClusterFit {
    match fit(law, x, &accuracy, options) {
        Ok(f) => {
            let (a, b, c, g) = law.abcg(&f.params);
            let full = vec![a, b, c, g];
            ClusterFit {
                size,
                prediction: target.map(|t| law.value(t.flops / COMPUTE_UNIT, &f.params)),
                verdict: params.verdict(&full),
                params: full,
                rmse: f.rmse,
                accuracy,
            }
        }
        Err(err) => ClusterFit {
            size,
            accuracy,
            params: Vec::new(),
            rmse: f64::NAN,
            verdict: Verdict::FitFailed(format!("{err:#}")),
            prediction: None,
        },
    }
}

/// The end-to-end baselines on a benchmark's whole accuracy curve: the COD law on the accuracy
/// (exp) and on the mean pass rate, and BNSL on the error rate 1 − pass rate.
fn baselines(
    law: &CodLaw,
    x: &[f64],
    exp_accuracy: &[f64],
    accuracy: &[f64],
    target: Option<&cod_artifact::Model>,
    options: FitOptions,
) -> Vec<BaselineFit> {
    let at_target = |f: &dyn Fn(f64) -> f64| target.map(|t| f(t.flops / COMPUTE_UNIT));
    let failed = |method: &str, err: anyhow::Error| BaselineFit {
        method: method.to_owned(),
        params: Vec::new(),
        rmse: f64::NAN,
        prediction: None,
        failure: Some(format!("{err:#}")),
    };
    let exp = match fit(law, x, exp_accuracy, options) {
        Ok(f) => BaselineFit {
            method: "end-to-end-exp".to_owned(),
            prediction: at_target(&|t| law.value(t, &f.params)),
            params: f.params,
            rmse: f.rmse,
            failure: None,
        },
        Err(err) => failed("end-to-end-exp", err),
    };
    let passrate = match fit(law, x, accuracy, options) {
        Ok(f) => BaselineFit {
            method: "end-to-end-passrate".to_owned(),
            prediction: at_target(&|t| law.value(t, &f.params)),
            params: f.params,
            rmse: f.rmse,
            failure: None,
        },
        Err(err) => failed("end-to-end-passrate", err),
    };
    let bnsl = Bnsl {
        x_range: (x[0], x[x.len() - 1]),
    };
    let error: Vec<f64> = accuracy.iter().map(|a| 1.0 - a).collect();
    let broken = match fit(&bnsl, x, &error, options) {
        Ok(f) => BaselineFit {
            method: "end-to-end-bnsl".to_owned(),
            prediction: at_target(&|t| (1.0 - bnsl.value(t, &f.params)).clamp(0.0, 1.0)),
            params: f.params,
            rmse: f.rmse,
            failure: None,
        },
        Err(err) => failed("end-to-end-bnsl", err),
    };
    vec![exp, passrate, broken]
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

/// Fits every cluster of every benchmark.
pub fn fit_clusters(
    table: &EvalTable,
    features: &Features,
    clusters: &Clusters,
    params: &FitParams,
) -> anyhow::Result<Fits> {
    params.check()?;
    let d = features.ladder.len();
    let x: Vec<f64> = features
        .ladder
        .iter()
        .map(|m| m.flops / COMPUTE_UNIT)
        .collect();
    let target = table
        .models
        .iter()
        .find(|m| m.role == Role::Target)
        .cloned();
    let options = FitOptions {
        loss: match params.loss {
            LossName::Squared => Loss::Squared,
            LossName::Huber => Loss::Huber(params.huber_delta),
        },
        ..FitOptions::default()
    };
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
        let law = CodLaw {
            guess: params
                .guess_per_benchmark
                .get(&bench.name)
                .copied()
                .or(params.guess),
        };
        let mut sums = vec![vec![0.0; d]; bench.clusters.len()];
        for (i, label) in bench.labels.iter().enumerate() {
            if let Some(c) = label {
                for (s, v) in sums[*c as usize].iter_mut().zip(feats.row(i, d)) {
                    *s += v;
                }
            }
        }
        let fit_one = |size: usize, accuracy: Vec<f64>| {
            fit_curve(&law, &x, accuracy, size, target.as_ref(), params, options)
        };
        let fits: Vec<ClusterFit> = bench
            .clusters
            .par_iter()
            .zip(sums)
            .map(|(cluster, sum)| {
                fit_one(
                    cluster.size,
                    sum.iter().map(|s| s / cluster.size as f64).collect(),
                )
            })
            .collect();
        let evals = table
            .benchmarks
            .iter()
            .find(|b| b.name == bench.name)
            .with_context(|| format!("benchmark `{}` is not in the eval table", bench.name))?;
        let full_accuracy = ladder_accuracy(table, features, evals, ExpAccuracy::PassRate)?;
        let exp_accuracy = ladder_accuracy(table, features, evals, params.exp_accuracy)?;
        let baselines = baselines(
            &law,
            &x,
            &exp_accuracy,
            &full_accuracy,
            target.as_ref(),
            options,
        );
        benchmarks.push(BenchmarkFits {
            name: bench.name.clone(),
            clusters: fits,
            accuracy: full_accuracy,
            exp_accuracy,
            baselines,
        });
    }
    Ok(Fits {
        method: params.describe(),
        ladder: features.ladder.clone(),
        target,
        benchmarks,
    })
}

/// Fits the COD law to every cluster.
pub struct FitStage;

impl Stage for FitStage {
    type Params = FitParams;
    const KIND: &'static str = "fit";
    const VERSION: u32 = 2;
    const OUTPUT: ArtifactKind = ArtifactKind::Fits;
    const INPUTS: &'static [ArtifactKind] = &[
        ArtifactKind::EvalTable,
        ArtifactKind::Features,
        ArtifactKind::Clusters,
    ];

    fn validate(params: &FitParams) -> anyhow::Result<()> {
        params.check()
    }

    fn run(
        params: &FitParams,
        inputs: &[PathBuf],
        output: &Path,
        _progress: &Progress,
    ) -> anyhow::Result<()> {
        let table: EvalTable = cod_artifact::read(&inputs[0])?;
        let features: Features = cod_artifact::read(&inputs[1])?;
        let clusters: Clusters = cod_artifact::read(&inputs[2])?;
        let fits = fit_clusters(&table, &features, &clusters, params)?;
        cod_artifact::write(output, &fits)?;
        Ok(())
    }
}
