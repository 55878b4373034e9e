//! The `ladder-backtest` stage: the two-step ladder law and its baselines backtested on training
//! runs.

use anyhow::{Context, bail};
use cod_artifact::{Backtest, BacktestRow, Holdout, LadderMethod, Role, TrainingRun, TrainingRuns};
use cod_ladder::{LadderParams, LadderStage};
use cod_pipeline::{Code, Progress, Stage, StageBinary};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{defaults, feasible_holdouts, scored};

fn default_holdout() -> usize {
    1
}
fn default_min_sizes() -> usize {
    2
}
fn default_min_multiples() -> usize {
    2
}

/// What a ladder holdout takes away: extrapolation in N, or in D.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum HoldOutBy {
    /// Holdout k: every run of the k-th largest model size, fitted on the smaller sizes.
    #[default]
    Size,
    /// Holdout k: each size's run with the k-th largest D (on the OLMo ladder, k = 1 is the 10×C
    /// runs), fitted on each size's runs of smaller D.
    Tokens,
    /// The `size` holdouts, then the `tokens` holdouts numbered after them: both kinds of
    /// extrapolation in one backtest, so the recommendation's weights and the calibration rest on
    /// the rows of both.
    Both,
}

/// Parameters of the `ladder-backtest` stage: how many model sizes to hold out, and the `ladder`
/// stage's parameters (a table of the same keys; left out, its defaults).
#[derive(Clone, Debug, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct LadderBacktestParams {
    /// K: hold out every run of the largest model size, then of the second largest, … up to
    /// the K-th.
    #[arg(long, default_value_t = default_holdout())]
    #[serde(default = "default_holdout")]
    pub holdout: usize,
    /// Every holdout fits on the runs of at least this many model sizes (step 1's N-dependence
    /// needs 2); holdouts that would leave fewer do not run, and the artifact says so.
    #[arg(long, default_value_t = default_min_sizes())]
    #[serde(default = "default_min_sizes")]
    pub min_sizes: usize,
    /// `size`: hold out the largest model sizes in turn (extrapolation in N); `tokens`: hold out
    /// each size's largest-D run in turn (extrapolation in D); `both`: K holdouts of each kind.
    #[arg(long, value_enum, default_value_t = HoldOutBy::Size)]
    #[serde(default)]
    pub by: HoldOutBy,
    /// Holdout k also predicts the ladder runs it drops (the larger sizes, or each size's runs
    /// of larger D) from the same fit, each scored at its own distance: more rows for the
    /// calibration. `false`, the default, predicts only the k-th largest.
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set)]
    #[serde(default)]
    pub predict_larger: bool,
    /// With `by = "tokens"`, every holdout fits on at least this many runs of each size (step 1's
    /// D-dependence needs 2).
    #[arg(long, default_value_t = default_min_multiples())]
    #[serde(default = "default_min_multiples")]
    pub min_multiples: usize,
    /// The `ladder` stage's parameters.
    #[command(flatten)]
    #[serde(default = "defaults")]
    pub ladder: LadderParams,
}

impl LadderBacktestParams {
    fn check(&self) -> anyhow::Result<()> {
        if self.holdout == 0 {
            bail!("`holdout` must be at least 1, found 0");
        }
        if self.min_sizes < 2 {
            bail!(
                "`min_sizes` must be at least 2 (step 1's dependence on N needs 2 sizes), found {}",
                self.min_sizes
            );
        }
        if self.min_multiples < 2 {
            bail!(
                "`min_multiples` must be at least 2 (step 1's dependence on D needs 2 runs per \
                 size), found {}",
                self.min_multiples
            );
        }
        <cod_ladder::LadderStage as Stage>::validate(&self.ladder).context("`ladder`")
    }
}

/// Every method's (and variant's) prediction of every held-out run on every task, scored.
fn rows(k: usize, held: &[&TrainingRun], fits: &cod_artifact::LadderFits) -> Vec<BacktestRow> {
    let mut rows = Vec::new();
    for run in held {
        for task in &fits.tasks {
            let Some(t) = task.targets.iter().find(|t| t.target == run.name) else {
                continue;
            };
            rows.extend(t.methods().into_iter().map(|(method, prediction)| {
                scored(BacktestRow {
                    holdout: k,
                    held_out: run.name.clone(),
                    benchmark: task.name.clone(),
                    method: method.name().to_owned(),
                    prediction,
                    actual: t.accuracy_actual,
                    abs_error: None,
                    // The ladder's bootstrap bands the chained two-step prediction only.
                    interval: (method == LadderMethod::Ladder)
                        .then_some(t.interval)
                        .flatten(),
                    note: if prediction.is_none() {
                        task.failure(method)
                    } else {
                        None
                    },
                })
            }));
            rows.extend(fits.variants.iter().map(|v| {
                let p = v.prediction(&task.name, &run.name);
                scored(BacktestRow {
                    holdout: k,
                    held_out: run.name.clone(),
                    benchmark: task.name.clone(),
                    method: cod_ladder::variant_method(&v.name),
                    prediction: p.and_then(|p| p.prediction),
                    actual: t.accuracy_actual,
                    abs_error: None,
                    interval: None,
                    note: p.and_then(|p| p.failure.clone()),
                })
            }));
        }
    }
    rows
}

/// Which ladder runs holdout k holds out, fits on and drops.
struct Split<'r> {
    held: Vec<&'r TrainingRun>,
    fitted: Vec<&'r TrainingRun>,
    dropped: Vec<&'r TrainingRun>,
}

impl Split<'_> {
    /// The split with its dropped ladder runs held out too (in the order dropped).
    fn predicting_larger(mut self) -> Self {
        self.held.append(&mut self.dropped);
        self
    }
}

/// `by = "size"`: every run of model size `size` held out, the smaller sizes fitted, the larger
/// dropped (largest first).
fn split_by_size<'r>(ladder: &[&'r TrainingRun], size: f64) -> Split<'r> {
    let mut dropped: Vec<&TrainingRun> =
        ladder.iter().copied().filter(|r| r.params > size).collect();
    dropped.sort_by(|a, b| b.params.total_cmp(&a.params));
    Split {
        held: ladder
            .iter()
            .copied()
            .filter(|r| r.params.total_cmp(&size).is_eq())
            .collect(),
        fitted: ladder.iter().copied().filter(|r| r.params < size).collect(),
        dropped,
    }
}

/// Each size's runs, largest D first.
fn by_tokens<'r>(ladder: &[&'r TrainingRun]) -> Vec<Vec<&'r TrainingRun>> {
    let mut sizes: Vec<Vec<&TrainingRun>> = Vec::new();
    for &run in ladder {
        match sizes
            .iter_mut()
            .find(|s| s[0].params.total_cmp(&run.params).is_eq())
        {
            Some(size) => size.push(run),
            None => sizes.push(vec![run]),
        }
    }
    for size in &mut sizes {
        size.sort_by(|a, b| b.tokens.total_cmp(&a.tokens));
    }
    sizes.sort_by(|a, b| a[0].params.total_cmp(&b[0].params));
    sizes
}

/// `by = "tokens"`: each size's run of the k-th largest D held out, its runs of smaller D
/// fitted, of larger D dropped.
fn split_by_tokens<'r>(sizes: &[Vec<&'r TrainingRun>], k: usize) -> Split<'r> {
    let mut split = Split {
        held: Vec::new(),
        fitted: Vec::new(),
        dropped: Vec::new(),
    };
    for runs in sizes {
        for (rank, &run) in runs.iter().enumerate() {
            match (rank + 1).cmp(&k) {
                std::cmp::Ordering::Less => split.dropped.push(run),
                std::cmp::Ordering::Equal => split.held.push(run),
                std::cmp::Ordering::Greater => split.fitted.push(run),
            }
        }
    }
    split
}

/// Holdout k: `split`'s held-out runs predicted from its fitted runs. Returns the holdout, its
/// rows and the ladder fit's description.
fn run_holdout(
    runs: &TrainingRuns,
    k: usize,
    split: Split<'_>,
    params: &LadderParams,
) -> anyhow::Result<(Holdout, Vec<BacktestRow>, String)> {
    let names = |runs: &[&TrainingRun]| runs.iter().map(|r| r.name.clone()).collect::<Vec<_>>();
    let Split {
        held,
        mut fitted,
        mut dropped,
    } = split;
    fitted.sort_by(|a, b| a.flops().total_cmp(&b.flops()));
    // The dropped ladder runs, then the original targets.
    dropped.extend(runs.runs.iter().filter(|r| r.role != Role::Ladder));
    let data = TrainingRuns {
        tasks: runs.tasks.clone(),
        runs: fitted
            .iter()
            .map(|&r| r.clone())
            .chain(held.iter().map(|&r| TrainingRun {
                role: Role::Target,
                ..r.clone()
            }))
            .collect(),
        warnings: Vec::new(),
    };
    let fits = cod_ladder::fit_ladder(&data, params).with_context(|| {
        format!(
            "holdout k={k} (the {} runs held out)",
            names(&held).join(", ")
        )
    })?;
    let holdout = Holdout {
        k,
        held_out: names(&held),
        fitted: names(&fitted),
        dropped: names(&dropped),
    };
    Ok((holdout, rows(k, &held, &fits), fits.method))
}

/// Backtests the two-step ladder law and its baselines: for k = 1..K every run of the k-th
/// largest model size N is predicted from the runs of the smaller sizes, with larger sizes and
/// the original targets removed (`by = "size"`); or each size's run of the k-th largest D from
/// its runs of smaller D (`by = "tokens"`); with `predict_larger`, the runs a holdout drops are
/// predicted from its fit too. A held-out run's actual accuracy is the mean of its last
/// `ladder.target_last` checkpoints, as the `ladder` stage scores targets.
pub fn ladder_backtest(
    runs: &TrainingRuns,
    params: &LadderBacktestParams,
) -> anyhow::Result<Backtest> {
    params.check()?;
    let ladder: Vec<&TrainingRun> = runs
        .runs
        .iter()
        .filter(|r| r.role == Role::Ladder)
        .collect();
    // Each holdout's split of the runs, k = 1..K in order.
    let by_size = || -> anyhow::Result<(Vec<Split>, Option<String>)> {
        let mut sizes: Vec<f64> = ladder.iter().map(|r| r.params).collect();
        sizes.sort_by(|a, b| b.total_cmp(a));
        sizes.dedup_by(|a, b| a.total_cmp(b).is_eq());
        let (count, note) = feasible_holdouts(
            params.holdout,
            sizes.len(),
            params.min_sizes,
            "model size",
            "min_sizes",
        )?;
        let splits = sizes[..count]
            .iter()
            .map(|&size| split_by_size(&ladder, size))
            .collect();
        Ok((splits, note))
    };
    let by_tokens = || -> anyhow::Result<(Vec<Split>, Option<String>)> {
        let sizes = by_tokens(&ladder);
        let multiples = sizes.iter().map(Vec::len).min().unwrap_or(0);
        let (count, note) = feasible_holdouts(
            params.holdout,
            multiples,
            params.min_multiples,
            "token multiple",
            "min_multiples",
        )?;
        let splits = (1..=count).map(|k| split_by_tokens(&sizes, k)).collect();
        Ok((splits, note))
    };
    // Each holdout's split of the runs, k = 1..K in order.
    let (splits, note): (Vec<Split>, _) = match params.by {
        HoldOutBy::Size => by_size()?,
        HoldOutBy::Tokens => by_tokens()?,
        HoldOutBy::Both => {
            let (mut splits, size_note) = by_size()?;
            let (tokens, tokens_note) = by_tokens()?;
            splits.extend(tokens);
            let note = [size_note, tokens_note]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>();
            (splits, (!note.is_empty()).then(|| note.join("; ")))
        }
    };
    let splits: Vec<Split> = if params.predict_larger {
        splits.into_iter().map(Split::predicting_larger).collect()
    } else {
        splits
    };
    let results = splits
        .into_par_iter()
        .enumerate()
        .map(|(i, split)| run_holdout(runs, i + 1, split, &params.ladder))
        .collect::<anyhow::Result<Vec<_>>>()?;

    let mut fixed = Vec::new();
    if let Some((_, _, method)) = results.first() {
        fixed.push(("ladder".to_owned(), method.clone()));
    }
    let mut holdouts = Vec::new();
    let mut rows = Vec::new();
    for (h, r, _) in results {
        holdouts.push(h);
        rows.extend(r);
    }
    Ok(Backtest {
        kind: LadderBacktestStage::KIND.to_owned(),
        fixed,
        requested: match params.by {
            HoldOutBy::Both => 2 * params.holdout,
            HoldOutBy::Size | HoldOutBy::Tokens => params.holdout,
        },
        note,
        diagnostics: LadderMethod::ALL
            .iter()
            .filter(|m| m.is_diagnostic())
            .map(|m| m.name().to_owned())
            .collect(),
        variants: params
            .ladder
            .variants
            .keys()
            .map(|name| {
                (
                    cod_ladder::variant_method(name),
                    LadderMethod::Ladder.name().to_owned(),
                )
            })
            .collect(),
        holdouts,
        rows,
    })
}

/// Backtests the ladder pipeline's methods: a `training-runs` artifact in, `backtest` out.
pub struct LadderBacktestStage;

impl Stage for LadderBacktestStage {
    type Params = LadderBacktestParams;
    type Inputs = (TrainingRuns,);
    type Output = Backtest;
    const KIND: &'static str = "ladder-backtest";
    const CODE: Code = Code::new("ladder-backtest", 3, &[&LadderStage::CODE]);
    const USES: &'static [&'static str] = &["ladder"];

    fn validate(params: &LadderBacktestParams) -> anyhow::Result<()> {
        params.check()
    }

    fn run(
        params: &LadderBacktestParams,
        (runs,): (TrainingRuns,),
        progress: &Progress,
    ) -> anyhow::Result<Backtest> {
        let spinner = progress.spinner("backtesting the ladder");
        let backtest = ladder_backtest(&runs, params).context("ladder backtest")?;
        spinner.finish_and_clear();
        Ok(backtest)
    }
}

/// `cod-ladder-backtest`, the ladder backtest's binary.
pub const LADDER_BINARY: StageBinary = StageBinary {
    name: "cod-ladder-backtest",
    about: "Backtest the two-step ladder law and its baselines on training runs: hold out every \
            run of the largest model sizes one size at a time, predict each from the smaller \
            sizes' runs with every method, and score each method's absolute error",
    long_about: "Holdout k (k = 1..K, `--holdout`) predicts every run of the k-th largest size \
                 and scores it against the mean of the run's last `--target-last` checkpoints. \
                 The parameters besides `--holdout` and `--min-sizes` are the `ladder` stage's \
                 (in a pipeline, taken from its own `ladder` stage). The summary gives each \
                 method's mean and max abs error per holdout and which method wins on each task. \
                 With `--files DIR` it also writes `backtest.csv` (every row) and `backtest.md` \
                 there.",
    inputs: &["runs"],
    examples: &[
        "cod-ladder-backtest --runs out/olmo-ladder/ingest.bin --output backtest.bin \
                 --files backtest/",
    ],
};
