//! The `backtest` stage: COD and its baselines backtested on per-item data.

use anyhow::{Context, bail};
use cod_artifact::{
    Backtest, BacktestRow, BenchmarkPredictions, EvalTable, Holdout, PerItemMethod, Role,
};
use cod_cluster::{ClusterMethod, ClusterParams, ClusterStage, MethodName};
use cod_features::{FeaturesParams, FeaturesStage, Signal};
use cod_fit::{FitParams, FitStage};
use cod_map::{BootstrapStage, MapParams, MapStage};
use cod_pipeline::{Code, Progress, Stage, StageBinary};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::holdout::drop_models;
use crate::{defaults, describe, feasible_holdouts, scored};

fn default_holdout() -> usize {
    2
}
fn default_min_ladder() -> usize {
    3
}
fn default_predict_larger() -> bool {
    true
}

/// Parameters of the `backtest` stage: how many models to hold out, and the parameters of the
/// `features`, `cluster`, `fit` and `map` stages every holdout runs with. In a pipeline these
/// nested tables come from the pipeline's own stages (`uses`); a table left out elsewhere takes
/// that stage's defaults.
#[derive(Clone, Debug, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct BacktestParams {
    /// K: hold out the largest ladder model, then the second largest, … up to the K-th.
    #[arg(long, default_value_t = default_holdout())]
    #[serde(default = "default_holdout")]
    pub holdout: usize,
    /// Every holdout fits on at least this many ladder models; holdouts that would leave fewer
    /// do not run, and the artifact says so.
    #[arg(long, default_value_t = default_min_ladder())]
    #[serde(default = "default_min_ladder")]
    pub min_ladder: usize,
    /// Holdout k also predicts the k − 1 larger ladder models from the same fit, each scored at
    /// its own extrapolation distance: K(K + 1)/2 rows per benchmark and method instead of K,
    /// for the calibration's quantiles. `false` predicts only the k-th largest and drops the
    /// larger ones.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    #[serde(default = "default_predict_larger")]
    pub predict_larger: bool,
    /// Bootstrap resamples for each held-out prediction's 5-95% interval, as the `bootstrap`
    /// stage draws them (residual bootstrap, seed 1); 0 computes no intervals.
    #[arg(long, default_value_t = 0)]
    #[serde(default)]
    pub interval_resamples: usize,
    /// The `features` stage's parameters.
    #[command(flatten)]
    #[serde(default)]
    pub features: FeaturesParams,
    /// The `cluster` stage's parameters.
    #[command(flatten)]
    #[serde(default = "defaults")]
    pub cluster: ClusterParams,
    /// The `fit` stage's parameters.
    #[command(flatten)]
    #[serde(default = "defaults")]
    pub fit: FitParams,
    /// The `map` stage's parameters.
    #[command(flatten)]
    #[serde(default = "defaults")]
    pub map: MapParams,
}

impl BacktestParams {
    fn check(&self) -> anyhow::Result<()> {
        if self.holdout == 0 {
            bail!("`holdout` must be at least 1, found 0");
        }
        if self.min_ladder < 2 {
            bail!(
                "`min_ladder` must be at least 2 (difficulty features need 2 ladder models), \
                 found {}",
                self.min_ladder
            );
        }
        if self.cluster.method == MethodName::Assign {
            bail!(
                "`cluster.method` = `assign` reuses clusters made from every ladder model; a \
                 backtest clusters each holdout anew: choose a clustering method"
            );
        }
        self.cluster.method().context("`cluster`")?;
        <cod_fit::FitStage as Stage>::validate(&self.fit).context("`fit`")?;
        <cod_map::MapStage as Stage>::validate(&self.map).context("`map`")?;
        Ok(())
    }
}

/// One holdout: what it predicts from what, and the data its methods see.
struct HoldoutData {
    holdout: Holdout,
    /// The eval table without the original targets (and without the larger ladder models unless
    /// they are predicted too), the held-out models' role now `target`.
    table: EvalTable,
}

impl HoldoutData {
    /// Holdout k of `table`: `ladder[k − 1]` (the ladder sorted by decreasing compute) becomes a
    /// target, and so do the larger ladder models when `larger`, else they are dropped; the
    /// `targets` are dropped.
    fn new(
        table: &EvalTable,
        ladder: &[usize],
        targets: &[usize],
        k: usize,
        larger: bool,
    ) -> HoldoutData {
        let name = |m: &usize| table.models[*m].name.clone();
        // `ladder[..first]` is dropped, `ladder[first..k]` held out: the k-th largest first, then
        // the larger ones in increasing compute.
        let first = if larger { 0 } else { k - 1 };
        let held: Vec<usize> = ladder[first..k].iter().rev().copied().collect();
        let dropped: Vec<usize> = ladder[..first].iter().chain(targets).copied().collect();
        let mut data = drop_models(table, &dropped);
        for h in &held {
            // The models before it that were dropped shift its index.
            data.models[h - dropped.iter().filter(|&d| d < h).count()].role = Role::Target;
        }
        HoldoutData {
            holdout: Holdout {
                k,
                held_out: held.iter().map(name).collect(),
                fitted: ladder[k..].iter().rev().map(name).collect(),
                dropped: dropped.iter().map(name).collect(),
            },
            table: data,
        }
    }

    /// The holdout's table restricted to benchmark `b`.
    fn benchmark(&self, b: usize) -> EvalTable {
        EvalTable {
            models: self.table.models.clone(),
            benchmarks: vec![self.table.benchmarks[b].clone()],
            warnings: Vec::new(),
        }
    }
}

/// What one (holdout, benchmark) produced.
struct Outcome {
    /// One per held-out model.
    predictions: Vec<BenchmarkPredictions>,
    cluster_method: String,
    fit_method: String,
}

/// Features → cluster → fit → map on one benchmark of one holdout.
fn run_one(table: &EvalTable, params: &BacktestParams) -> anyhow::Result<Outcome> {
    let features = cod_features::compute_with(table, &params.features)?;
    let method = params.cluster.method()?;
    let clusters = cod_cluster::cluster_features(&features, &method, &Progress::hidden())?;
    let fits = cod_fit::fit_clusters(table, &features, &clusters, &params.fit)?;
    let mut predictions = cod_map::predict(table, &clusters, &fits, &params.map)?;
    if params.interval_resamples > 0 {
        let mut bootstrap: cod_map::BootstrapParams = defaults();
        bootstrap.resamples = params.interval_resamples;
        bootstrap.seed = 1;
        bootstrap.fit = params.fit.clone();
        bootstrap.map = params.map.clone();
        let draws = cod_map::bootstrap(table, &clusters, &bootstrap, &Progress::hidden())?;
        cod_map::add_intervals(&mut predictions, draws, &bootstrap);
    }
    Ok(Outcome {
        predictions: predictions.benchmarks,
        cluster_method: method.describe(),
        fit_method: fits.method,
    })
}

/// Backtests COD and its baselines: for k = 1..K the k-th largest ladder model (by compute), and
/// with `predict_larger` every larger one, is predicted from the smaller ones, with the original
/// target removed and the anchors kept.
pub fn backtest(
    table: &EvalTable,
    params: &BacktestParams,
    progress: &Progress,
) -> anyhow::Result<Backtest> {
    params.check()?;
    let with_role = |role: Role| -> Vec<usize> {
        (0..table.models.len())
            .filter(|&m| table.models[m].role == role)
            .collect()
    };
    let mut ladder = with_role(Role::Ladder);
    // Largest compute first; a stable sort keeps manifest order among equals.
    ladder.sort_by(|&a, &b| table.models[b].flops.total_cmp(&table.models[a].flops));
    let targets = with_role(Role::Target);
    let anchors = with_role(Role::Anchor);
    let (runs, note) = feasible_holdouts(
        params.holdout,
        ladder.len(),
        params.min_ladder,
        "ladder model",
        "min_ladder",
    )?;

    let holdouts: Vec<HoldoutData> = (1..=runs)
        .map(|k| HoldoutData::new(table, &ladder, &targets, k, params.predict_larger))
        .collect();

    let pairs: Vec<(&Holdout, &HoldoutData, usize)> = holdouts
        .iter()
        .flat_map(|h| (0..table.benchmarks.len()).map(move |b| (&h.holdout, h, b)))
        .collect();
    let bar = progress.bar(pairs.len() as u64, "backtest");
    let outcomes = pairs
        .par_iter()
        .map(|&(holdout, data, b)| {
            let outcome = run_one(&data.benchmark(b), params).with_context(|| {
                format!(
                    "holdout k={} ({} held out), benchmark `{}`",
                    holdout.k, holdout.held_out[0], table.benchmarks[b].name
                )
            });
            bar.inc(1);
            outcome
        })
        .collect::<anyhow::Result<Vec<Outcome>>>()?;
    bar.finish_and_clear();

    let mut rows = Vec::new();
    for (&(holdout, _, _), outcome) in pairs.iter().zip(&outcomes) {
        for p in &outcome.predictions {
            let held_out = p.target.clone().unwrap_or_default();
            rows.extend(p.methods.iter().map(|m| {
                scored(BacktestRow {
                    holdout: holdout.k,
                    held_out: held_out.clone(),
                    benchmark: p.benchmark.clone(),
                    method: m.method.name().to_owned(),
                    prediction: m.prediction,
                    // The end-to-end (exp) baseline is scored against majority accuracy.
                    actual: m.actual.or(p.actual),
                    abs_error: None,
                    interval: m.interval,
                    note: m.note.clone(),
                })
            }));
        }
    }
    // The artifact's order: holdout, held-out model, benchmark, method (a stable sort keeps the
    // benchmarks' and methods' order).
    let position = |r: &BacktestRow| {
        let h = &holdouts[r.holdout - 1].holdout;
        let m = h.held_out.iter().position(|m| *m == r.held_out);
        (r.holdout, m)
    };
    rows.sort_by_key(|r| position(r));

    let mut fixed = Vec::new();
    if params.features.signal != Signal::default() {
        fixed.push(("features".to_owned(), describe(&params.features)));
    }
    if let Some(first) = outcomes.first() {
        fixed.push(("cluster".to_owned(), first.cluster_method.clone()));
        fixed.push(("fit".to_owned(), first.fit_method.clone()));
    }
    fixed.push(("map".to_owned(), describe(&params.map)));
    fixed.push((
        "anchors".to_owned(),
        if anchors.is_empty() {
            "none".to_owned()
        } else {
            let names: Vec<&str> = anchors
                .iter()
                .map(|&m| table.models[m].name.as_str())
                .collect();
            names.join(", ")
        },
    ));
    Ok(Backtest {
        kind: BacktestStage::KIND.to_owned(),
        fixed,
        requested: params.holdout,
        note,
        diagnostics: PerItemMethod::ALL
            .iter()
            .filter(|m| m.is_diagnostic())
            .map(|m| m.name().to_owned())
            .collect(),
        variants: Vec::new(),
        holdouts: holdouts.into_iter().map(|h| h.holdout).collect(),
        rows,
    })
}

/// Backtests a per-item pipeline's methods: an `eval-table` artifact in, `backtest` out.
pub struct BacktestStage;

impl Stage for BacktestStage {
    type Params = BacktestParams;
    type Inputs = (EvalTable,);
    type Output = Backtest;
    const KIND: &'static str = "backtest";
    /// Every holdout runs features, clustering, fits, the mapping and (for intervals) the
    /// bootstrap.
    const CODE: Code = Code::new(
        "backtest",
        4,
        &[
            &FeaturesStage::CODE,
            &ClusterStage::CODE,
            &FitStage::CODE,
            &MapStage::CODE,
            &BootstrapStage::CODE,
        ],
    );
    const USES: &'static [&'static str] = &["features", "cluster", "fit", "map"];

    fn validate(params: &BacktestParams) -> anyhow::Result<()> {
        params.check()
    }

    fn run(
        params: &BacktestParams,
        (table,): (EvalTable,),
        progress: &Progress,
    ) -> anyhow::Result<Backtest> {
        backtest(&table, params, progress)
    }
}

/// `cod-backtest`, the per-item backtest's binary.
pub const BINARY: StageBinary = StageBinary {
    name: "cod-backtest",
    about: "Backtest COD and its baselines on per-item results: hold out the largest ladder \
            models one by one, predict each from the smaller ones with every method, and score \
            each method's absolute error",
    long_about: "Holdout k (k = 1..K, `--holdout`) makes the k-th largest ladder model a \
                 target, and every larger one too (`--predict-larger true`, the default: each \
                 scored at its own extrapolation distance; `false` drops them), drops the \
                 original target from the eval table (anchors stay), fits on the smaller \
                 models, and runs features → cluster → fit → map with the given \
                 parameters, which are those of the `features`, `cluster`, `fit` and `map` \
                 stages (in a pipeline, taken from its own stages). The summary gives each \
                 method's mean and max abs error per holdout and which method wins on each \
                 benchmark. With `--files DIR` it also writes `backtest.csv` (every row) and \
                 `backtest.md` there.",
    inputs: &["eval-table"],
    examples: &[
        "cod-backtest --eval-table out/mmlu/ingest.bin --holdout 2 --guess 0.25 \
                 --output backtest.bin --files backtest/",
    ],
};
