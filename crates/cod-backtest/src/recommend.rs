//! The `recommend` and `ladder-recommend` stages: a pipeline's predictions and its backtest in,
//! the same predictions out with a backtest-chosen `recommended` row per entry and every method's
//! calibrated interval ([`crate::calibrate`]).

use std::collections::BTreeMap;

use anyhow::bail;
use cod_artifact::{Backtest, EvalTable, LadderFits, Predictions, Role, TrainingRuns};
use cod_pipeline::{Code, Progress, Stage, StageBinary};
use serde::{Deserialize, Serialize};

use crate::calibrate::{Candidate, Choice, Context, Entry, calibrate, calibrate_monitor, distance};

/// Parameters of the `recommend` stage.
#[derive(Clone, Debug, Default, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct RecommendParams {
    /// How the recommendation is chosen from the backtest: `weighted`, every competing method
    /// weighted by 1 / (its mean abs backtest error on the benchmark)²; `weighted-pooled`, the
    /// same with each method's error averaged over every benchmark; or `best`, the method with
    /// the lowest.
    #[arg(long, value_enum, default_value_t)]
    #[serde(default)]
    pub choose: Choice,
}

/// Parameters of the `ladder-recommend` stage.
#[derive(Clone, Debug, Default, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct LadderRecommendParams {
    /// How the recommendation is chosen from the backtest (`weighted`, `weighted-pooled` or
    /// `best`).
    #[arg(long, value_enum, default_value_t)]
    #[serde(default)]
    pub choose: Choice,
    /// Items per task, for the target's binomial measurement noise; a task left out has no such
    /// term, and the summary says so. On the command line `--items hellaswag=10042,piqa=1838`;
    /// in a pipeline file `items = { hellaswag = 10042, piqa = 1838 }`.
    #[arg(
        long,
        value_name = "TASK=N,…",
        value_parser = parse_items,
        default_value = "",
        hide_default_value = true
    )]
    #[serde(default)]
    pub items: BTreeMap<String, usize>,
    /// Let the ladder's variants (`ladder[NAME]`, the `ladder` stage's `variants`) compete in the
    /// recommendation as methods of their own: weighted by their backtest errors, calibrated
    /// and, with `choose = "best"`, chosen. Off, they are scored and compared with `ladder` only.
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set)]
    #[serde(default)]
    pub variants: bool,
}

/// `task=n,task=n` (or nothing) as a map, for `--items`.
fn parse_items(text: &str) -> Result<BTreeMap<String, usize>, String> {
    let mut items = BTreeMap::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (task, n) = part
            .split_once('=')
            .ok_or_else(|| format!("expected `TASK=N`, found `{part}`"))?;
        let n: usize = n.trim().parse().map_err(|_| {
            format!(
                "the item count of `{}` must be a positive integer, found `{n}`",
                task.trim()
            )
        })?;
        if n == 0 {
            return Err(format!(
                "the item count of `{}` must be positive, found 0",
                task.trim()
            ));
        }
        if items.insert(task.trim().to_owned(), n).is_some() {
            return Err(format!("task `{}` is given twice", task.trim()));
        }
    }
    Ok(items)
}

/// `the 8 tasks`, `the 1 task`.
fn plural(n: usize, what: &str) -> String {
    format!("the {n} {what}{}", if n == 1 { "" } else { "s" })
}

fn check_kind(backtest: &Backtest, expected: &str, stage: &str) -> anyhow::Result<()> {
    if backtest.kind != expected {
        bail!(
            "the `{stage}` stage reads a `{expected}` stage's backtest, found one made by `{}`",
            backtest.kind
        );
    }
    Ok(())
}

/// The recommendation and calibrated intervals of a per-item pipeline's predictions.
pub fn recommend(
    table: &EvalTable,
    mut predictions: Predictions,
    backtest: &Backtest,
    params: &RecommendParams,
) -> anyhow::Result<Predictions> {
    check_kind(backtest, crate::BacktestStage::KIND, RecommendStage::KIND)?;
    let compute = |name: &str| {
        table
            .models
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.flops)
    };
    let items = |name: &str| {
        table
            .benchmarks
            .iter()
            .find(|b| b.name == name)
            .map(|b| b.items.len())
    };
    let ladder: Vec<f64> = table
        .models
        .iter()
        .filter(|m| m.role == Role::Ladder)
        .map(|m| m.flops)
        .collect();
    let entries: Vec<Entry> = predictions
        .benchmarks
        .iter()
        .map(|b| {
            let target = b
                .target
                .as_deref()
                .or_else(|| predictions.targets.first().map(|t| t.name.as_str()));
            Entry {
                name: b.name.clone(),
                benchmark: b.benchmark.clone(),
                distance: target.and_then(compute).and_then(|c| distance(c, &ladder)),
                items: Some(b.items),
                actual: b.actual,
                candidates: b
                    .methods
                    .iter()
                    .map(|m| Candidate {
                        method: m.method.name().to_owned(),
                        prediction: m.prediction,
                        bootstrap: m.interval,
                    })
                    .collect(),
            }
        })
        .collect();
    let ctx = Context {
        compute: &compute,
        items: &items,
        pooled: plural(backtest.benchmarks().len(), "benchmark"),
    };
    predictions.calibration = Some(calibrate(&entries, backtest, &ctx, params.choose));
    Ok(predictions)
}

/// The recommendation and calibrated intervals of a ladder pipeline's predictions.
pub fn ladder_recommend(
    runs: &TrainingRuns,
    mut fits: LadderFits,
    backtest: &Backtest,
    params: &LadderRecommendParams,
) -> anyhow::Result<LadderFits> {
    check_kind(
        backtest,
        crate::LadderBacktestStage::KIND,
        LadderRecommendStage::KIND,
    )?;
    for task in params.items.keys() {
        if !fits.tasks.iter().any(|t| &t.name == task) {
            let names: Vec<&str> = fits.tasks.iter().map(|t| t.name.as_str()).collect();
            bail!(
                "`items` names the task `{task}`, which the ladder does not have; its tasks: {}",
                names.join(", ")
            );
        }
    }
    let compute = |name: &str| {
        runs.runs
            .iter()
            .find(|r| r.name == name)
            .map(cod_artifact::TrainingRun::flops)
    };
    let items = |name: &str| params.items.get(name).copied();
    let ladder: Vec<f64> = runs
        .runs
        .iter()
        .filter(|r| r.role == Role::Ladder)
        .map(cod_artifact::TrainingRun::flops)
        .collect();
    let variants = |task: &str, target: &str| -> Vec<Candidate> {
        if !params.variants {
            return Vec::new();
        }
        fits.variants
            .iter()
            .map(|v| Candidate {
                method: cod_ladder::variant_method(&v.name),
                prediction: v.prediction(task, target).and_then(|p| p.prediction),
                bootstrap: None,
            })
            .collect()
    };
    let entries: Vec<Entry> = fits
        .tasks
        .iter()
        .flat_map(|task| {
            task.targets.iter().map(|t| Entry {
                name: format!("{}/{}", t.target, task.name),
                benchmark: task.name.clone(),
                // The compute the ladder predicted at: the (N, D) of its prediction.
                distance: distance(6.0 * t.params * t.tokens, &ladder),
                items: items(&task.name),
                actual: t.accuracy_actual,
                candidates: t
                    .methods()
                    .into_iter()
                    .map(|(method, prediction)| Candidate {
                        method: method.name().to_owned(),
                        prediction,
                        bootstrap: (method == cod_artifact::LadderMethod::Ladder)
                            .then_some(t.interval)
                            .flatten(),
                    })
                    .chain(variants(&task.name, &t.target))
                    .collect(),
            })
        })
        .collect();
    let ctx = Context {
        compute: &compute,
        items: &items,
        pooled: plural(backtest.benchmarks().len(), "task"),
    };
    // Competing variants are methods like any other.
    let competing;
    let backtest = if params.variants {
        competing = Backtest {
            variants: Vec::new(),
            ..backtest.clone()
        };
        &competing
    } else {
        backtest
    };
    let calibration = calibrate(&entries, backtest, &ctx, params.choose);
    // The monitored trajectories get the ladder's calibrated band (their curve is the chain).
    for task in &mut fits.tasks {
        let n = items(&task.name);
        for monitor in &mut task.monitors {
            if let Some(run) = runs.runs.iter().find(|r| r.name == monitor.run) {
                calibrate_monitor(
                    monitor,
                    run.params,
                    &calibration,
                    cod_artifact::LadderMethod::Ladder.name(),
                    &ladder,
                    n,
                );
            }
        }
    }
    fits.calibration = Some(calibration);
    Ok(fits)
}

/// Recommends a prediction per benchmark of a per-item pipeline, with calibrated intervals.
pub struct RecommendStage;

impl Stage for RecommendStage {
    type Params = RecommendParams;
    type Inputs = (EvalTable, Predictions, Backtest);
    type Output = Predictions;
    const KIND: &'static str = "recommend";
    const CODE: Code = Code::new("recommend", 10, &[]);

    fn run(
        params: &RecommendParams,
        (table, predictions, backtest): (EvalTable, Predictions, Backtest),
        _progress: &Progress,
    ) -> anyhow::Result<Predictions> {
        recommend(&table, predictions, &backtest, params)
    }
}

/// Recommends a prediction per target and task of a ladder pipeline, with calibrated intervals.
pub struct LadderRecommendStage;

impl Stage for LadderRecommendStage {
    type Params = LadderRecommendParams;
    type Inputs = (TrainingRuns, LadderFits, Backtest);
    type Output = LadderFits;
    const KIND: &'static str = "ladder-recommend";
    const CODE: Code = Code::new("ladder-recommend", 11, &[]);

    fn run(
        params: &LadderRecommendParams,
        (runs, fits, backtest): (TrainingRuns, LadderFits, Backtest),
        _progress: &Progress,
    ) -> anyhow::Result<LadderFits> {
        ladder_recommend(&runs, fits, &backtest, params)
    }
}

const LONG_ABOUT: &str = "The recommendation of each entry combines every competing method, \
    weighted by 1/e², e its mean abs error in the pipeline's rolling-origin backtest on that \
    benchmark (`--choose weighted`, the default; `--choose weighted-pooled` averages each \
    method's error over every benchmark first), or takes the method with the lowest error \
    (`--choose best`). When `no-change` does at least as well in the backtest (the combination \
    scored out of sample, each holdout with the other holdouts' weights), `no-change` is \
    recommended and the summary says the ladder gives no evidence of further gain. \
    Diagnostics such as `ladder-step2` never compete. Every method's 90% interval is q̂ · s: the \
    spread s adds its bootstrap spread, its extrapolation error t · d (d the decades of compute \
    beyond the fitted models' mean log compute, t the backtest's root mean square |error| / d) \
    and the binomial noise sqrt(p(1−p)/n) of an n-item benchmark in quadrature, and q̂ is the \
    split-conformal quantile of the backtest's |error| / s, pooled over the pipeline's \
    benchmarks. The weighted combination is calibrated on its own backtest rows, each holdout \
    combined with the other holdouts' weights. The summary gives each method's \
    leave-one-benchmark-out coverage on the backtest.";

/// `cod-recommend`, the per-item recommendation's binary.
pub const RECOMMEND_BINARY: StageBinary = StageBinary {
    name: "cod-recommend",
    about: "Recommend one prediction per benchmark, chosen by the backtest, and calibrate every \
            method's interval from the backtest's errors",
    long_about: LONG_ABOUT,
    inputs: &["eval-table", "predictions", "backtest"],
    examples: &[
        "cod-recommend --eval-table out/mmlu/ingest.bin --predictions out/mmlu/bootstrap.bin \
         --backtest out/mmlu/backtest.bin --output recommend.bin",
    ],
};

/// `cod-ladder-recommend`, the ladder recommendation's binary.
pub const LADDER_RECOMMEND_BINARY: StageBinary = StageBinary {
    name: "cod-ladder-recommend",
    about: "Recommend one prediction per target and task of a ladder, chosen by the backtest, \
            and calibrate every method's interval from the backtest's errors",
    long_about: LONG_ABOUT,
    inputs: &["runs", "ladder-fits", "backtest"],
    examples: &[
        "cod-ladder-recommend --runs out/olmo-ladder/ingest.bin --ladder-fits \
         out/olmo-ladder/ladder.bin --backtest out/olmo-ladder/backtest.bin --output recommend.bin",
    ],
};

#[cfg(test)]
mod tests {
    use super::parse_items;

    #[test]
    fn items_flag_parses_task_counts() {
        let items = parse_items("mmlu=14042, piqa = 1838").unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items["mmlu"], 14042);
        assert_eq!(items["piqa"], 1838);
        assert!(parse_items("").unwrap().is_empty());
        assert_eq!(
            parse_items("mmlu").unwrap_err(),
            "expected `TASK=N`, found `mmlu`"
        );
        assert_eq!(
            parse_items("mmlu=many").unwrap_err(),
            "the item count of `mmlu` must be a positive integer, found `many`"
        );
        assert!(parse_items("mmlu=0").unwrap_err().contains("found 0"));
        assert!(parse_items("a=1,a=2").unwrap_err().contains("twice"));
    }
}
