//! The `ladder` stage: both steps fitted per task, and every target predicted.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use cod_artifact::{
    LadderFits, LadderMethod, LadderTarget, LadderTask, LadderVariant, LawFit, Role, TrainingRun,
    TrainingRuns, VariantPrediction,
};
use cod_fit::{
    COMPUTE_UNIT, ChanceFloor, Fit, FitOptions, FitStage, JointTaskLoss, Law, LogAccuracy,
    LogAccuracyCompute, LogitLinear, Loss, LossFromCompute, LossToAccuracy, OneStepAccuracy,
    OneStepCompute, Restarted, Shared, TaskLoss, accuracy_from_log_neg_log, fit, fit_weighted,
    log_neg_log,
};
use cod_pipeline::{Code, Progress, Stage, StageBinary};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::prepare::{PrepareOptions, Prepared, mean_last, prepare_task, series, std_dev};

/// Step 2's floor, the accuracy it tends to as loss grows: fitted (a + b) or the chance rate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Step2Floor {
    /// a and b both free, as the ladder paper fits them.
    #[default]
    Free,
    /// a = chance − b: three free parameters, the floor at the task's chance rate.
    Chance,
}

/// Step 2's sigmoid fitted to (`x`, `y`) with `floor`, from `start` when given (a bootstrap or an
/// update restarts from the full fit), else from the law's own grid. The parameters are always
/// [`LossToAccuracy`]'s (a, L0, k, b).
pub(crate) fn fit_step2(
    chance: f64,
    floor: Step2Floor,
    (x, y): (&[f64], &[f64]),
    options: FitOptions,
    start: Option<&[f64]>,
) -> anyhow::Result<Fit> {
    fn run<L: Law<Input = f64>>(
        law: L,
        (x, y): (&[f64], &[f64]),
        options: FitOptions,
        start: Option<&[f64]>,
    ) -> anyhow::Result<Fit> {
        match start {
            Some(start) => fit(
                &Restarted {
                    law,
                    starts: vec![start.to_vec()],
                },
                x,
                y,
                options,
            ),
            None => fit(&law, x, y, options),
        }
    }
    match floor {
        Step2Floor::Free => run(LossToAccuracy { chance }, (x, y), options, start),
        Step2Floor::Chance => {
            let law = ChanceFloor { chance };
            let mut f = run(law, (x, y), options, start)?;
            f.params = law.pinned(f.params);
            Ok(f)
        }
    }
}

/// Which checkpoints step 1 fits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Step1Points {
    /// One point per run: its final D and the mean loss of its last `step1_last` checkpoints,
    /// as the ladder paper fits.
    #[default]
    Last,
    /// Every checkpoint after the first `step2_skip` of each run (the warm-up), at the tokens
    /// seen so far, each weighted 1/(the run's count) so every run counts equally.
    All,
}

/// Which of step 1's parameters are shared across the tasks, fitted jointly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Step1Shared {
    /// Each task fitted alone, as the ladder paper does.
    #[default]
    None,
    /// α and β common to every task (ln A, ln B, E per task), one joint fit.
    Exponents,
    /// E common to every task (ln A, ln B, α, β per task), one joint fit.
    Floor,
}

fn default_chance() -> f64 {
    0.25
}
fn default_last() -> usize {
    5
}
fn default_skip() -> f64 {
    0.1
}
fn default_variance_last() -> usize {
    10
}
fn default_true() -> bool {
    true
}
fn default_huber_delta() -> f64 {
    1e-3
}
fn default_intermediate() -> String {
    "loss".to_owned()
}
fn default_accuracy() -> String {
    "accuracy".to_owned()
}
fn default_max_iters() -> u64 {
    2000
}
fn default_bootstrap() -> usize {
    100
}

/// Parameters of the `ladder` stage. Defaults are the ladder paper's (METHODS §2).
#[derive(Clone, Debug, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct LadderParams {
    /// Tasks to fit [default: every task of the runs].
    #[arg(long = "task")]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<String>,
    /// Random-guess accuracy of tasks not in `chance_per_task`: step 2 starts at a = chance − 1.
    #[arg(long, default_value_t = default_chance())]
    #[serde(default = "default_chance")]
    pub chance: f64,
    /// Chance per task, e.g. `{ piqa = 0.5, csqa = 0.2 }`. (Pipeline files only.)
    #[arg(skip)]
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub chance_per_task: BTreeMap<String, f64>,
    /// The intermediate metric of step 1 and step 2: `loss` (task bits per byte), or another
    /// metric the runs hold (`task-ce`, `c4-loss`).
    #[arg(long, default_value_t = default_intermediate())]
    #[serde(default = "default_intermediate")]
    pub intermediate: String,
    /// The accuracy metric predicted.
    #[arg(long, default_value_t = default_accuracy())]
    #[serde(default = "default_accuracy")]
    pub accuracy: String,
    /// Step 1 uses the mean of each run's last this-many checkpoints.
    #[arg(long, default_value_t = default_last())]
    #[serde(default = "default_last")]
    pub step1_last: usize,
    /// Step 2 drops this fraction of each run's first checkpoints (rounded up).
    #[arg(long, default_value_t = default_skip())]
    #[serde(default = "default_skip")]
    pub step2_skip: f64,
    /// Step 2 smooths loss and accuracy with a trailing moving average of this window.
    #[arg(long, default_value_t = default_last())]
    #[serde(default = "default_last")]
    pub step2_smooth: usize,
    /// Step 2 adds the point (loss 0, accuracy 1).
    #[arg(long, default_value_t = default_true(), action = clap::ArgAction::Set)]
    #[serde(default = "default_true")]
    pub step2_anchor: bool,
    /// Step 2 fits on the runs of the this-many largest model sizes only (0: every size), so
    /// the sigmoid is shaped by the losses nearest the target's. Step 1 and the one-step
    /// variants still fit on every run.
    #[arg(long, default_value_t = 0)]
    #[serde(default)]
    pub step2_sizes: usize,
    /// Step 2's floor: `free` (a and b fitted, the paper's) or `chance` (a = chance − b).
    #[arg(long, value_enum, default_value_t = Step2Floor::Free)]
    #[serde(default)]
    pub step2_floor: Step2Floor,
    /// Step 1's points: `last` (each run's final loss, the paper's) or `all` (every checkpoint
    /// after the first `step2_skip` of the run, each run weighted equally).
    #[arg(long, value_enum, default_value_t = Step1Points::Last)]
    #[serde(default)]
    pub step1_points: Step1Points,
    /// Step 1 parameters shared across tasks in one joint fit: `none` (the paper's),
    /// `exponents` (α, β) or `floor` (E).
    #[arg(long, value_enum, default_value_t = Step1Shared::None)]
    #[serde(default)]
    pub step1_shared: Step1Shared,
    /// A target's actual loss and accuracy are the means of its last this-many checkpoints.
    #[arg(long, default_value_t = default_last())]
    #[serde(default = "default_last")]
    pub target_last: usize,
    /// The variance diagnostic uses the largest ladder run's last this-many checkpoints.
    #[arg(long, default_value_t = default_variance_last())]
    #[serde(default = "default_variance_last")]
    pub variance_last: usize,
    /// δ of step 1's Huber loss on log residuals.
    #[arg(long, default_value_t = default_huber_delta())]
    #[serde(default = "default_huber_delta")]
    pub huber_delta: f64,
    /// L-BFGS iterations per fit.
    #[arg(long, default_value_t = default_max_iters())]
    #[serde(default = "default_max_iters")]
    pub max_iters: u64,
    /// Bootstrap resamples of the ladder runs, for the 5–95% interval of the chained prediction
    /// and the band of monitored trajectories (0: none). Each resample redraws the runs with
    /// replacement (at least 5 distinct) and refits both steps; step 2 restarts from the full
    /// data's fit.
    #[arg(long, default_value_t = default_bootstrap())]
    #[serde(default = "default_bootstrap")]
    pub bootstrap: usize,
    /// Seed of bootstrap resample 0; resample b uses seed + b.
    #[arg(long, default_value_t = 0)]
    #[serde(default)]
    pub seed: u64,
    /// Named variants of these options, each fitted beside them (without a bootstrap) and
    /// reported as the method `ladder[NAME]` in `ladder.csv`, the summary, the report and the
    /// backtest; recommended only when `ladder-recommend --variants true` lets them compete:
    /// e.g. `variants = { paper = { intermediate = "loss" } }`.
    /// A variant may change any key but `tasks`, `bootstrap`, `seed` and `variants`. (Pipeline
    /// files only.)
    #[arg(skip)]
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variants: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
}

/// Keys a variant may not change: what is fitted, and the bootstrap it does not run.
const FIXED_IN_VARIANTS: [&str; 4] = ["tasks", "bootstrap", "seed", "variants"];

/// The method name of variant `name`: `ladder[NAME]`.
#[must_use]
pub fn variant_method(name: &str) -> String {
    format!("ladder[{name}]")
}

impl LadderParams {
    /// The options of variant `name`: these with its `changes`, no bootstrap and no variants.
    ///
    /// # Errors
    /// A change of a key variants may not change, an unknown key or a value of the wrong type,
    /// each naming the variant.
    pub fn variant(
        &self,
        name: &str,
        changes: &serde_json::Map<String, serde_json::Value>,
    ) -> anyhow::Result<LadderParams> {
        if let Err(why) = cod_pipeline::check_name(name) {
            bail!("variant name {why}");
        }
        if let Some(key) = changes
            .keys()
            .find(|k| FIXED_IN_VARIANTS.contains(&k.as_str()))
        {
            bail!(
                "variant `{name}` changes `{key}`; a variant may change any key but {}",
                FIXED_IN_VARIANTS.map(|k| format!("`{k}`")).join(", ")
            );
        }
        let mut base = serde_json::to_value(self)?;
        let object = base
            .as_object_mut()
            .context("the ladder's parameters are a table")?;
        object.remove("variants");
        for (key, value) in changes {
            object.insert(key.clone(), value.clone());
        }
        object.insert("bootstrap".to_owned(), 0.into());
        serde_json::from_value(base).with_context(|| format!("variant `{name}`"))
    }

    /// How the ladder's runs are prepared for the fits.
    pub(crate) fn prepare_options(&self) -> PrepareOptions<'_> {
        PrepareOptions {
            intermediate: &self.intermediate,
            accuracy: &self.accuracy,
            step1_last: self.step1_last,
            step2_skip: self.step2_skip,
            step2_smooth: self.step2_smooth,
            step2_anchor: self.step2_anchor,
            step2_sizes: self.step2_sizes,
            step1_all: self.step1_points == Step1Points::All,
        }
    }

    /// The fit options of step 1 and L(C) (Huber on ln L) and of the accuracy fits (squared).
    pub(crate) fn fit_options(&self) -> (FitOptions, FitOptions) {
        let with = |loss| FitOptions {
            loss,
            max_iters: self.max_iters,
        };
        (with(Loss::Huber(self.huber_delta)), with(Loss::Squared))
    }

    fn chance(&self, task: &str) -> f64 {
        self.chance_per_task
            .get(task)
            .copied()
            .unwrap_or(self.chance)
    }

    fn describe(&self) -> String {
        format!(
            "intermediate={} step1: {}, huber({}) on ln L{}; step2: skip {} of each run, moving \
             average {}, anchor (0, 1) {}{}{}",
            self.intermediate,
            match self.step1_points {
                Step1Points::Last => format!("mean of last {} checkpoints", self.step1_last),
                Step1Points::All => "every checkpoint after the skip, runs weighted equally".into(),
            },
            self.huber_delta,
            match self.step1_shared {
                Step1Shared::None => "",
                Step1Shared::Exponents => ", alpha and beta shared across tasks",
                Step1Shared::Floor => ", E shared across tasks",
            },
            self.step2_skip,
            self.step2_smooth,
            if self.step2_anchor { "on" } else { "off" },
            if self.step2_sizes > 0 {
                format!(", the {} largest sizes' runs only", self.step2_sizes)
            } else {
                String::new()
            },
            match self.step2_floor {
                Step2Floor::Free => "",
                Step2Floor::Chance => ", floor at chance",
            }
        )
    }
}

/// Fits the two-step law (and the loss-intermediate baseline) to the ladder runs and predicts
/// every target run, per task.
pub fn fit_ladder(runs: &TrainingRuns, params: &LadderParams) -> anyhow::Result<LadderFits> {
    fit_scoped(runs, params, Scope::Every)
}

/// What a ladder fit computes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Every method and the monitors.
    Every,
    /// The chained two-step law alone, all that a variant reads; the other methods fail saying
    /// why.
    Chained,
}

impl Scope {
    /// A method besides the chained law: fitted only in `Scope::Every`.
    fn other(self, fit: &dyn Fn() -> anyhow::Result<Fit>) -> anyhow::Result<Fit> {
        match self {
            Scope::Every => fit(),
            Scope::Chained => bail!("not fitted: a variant fits the chained two-step law alone"),
        }
    }
}

/// The tasks to fit: `params.tasks`, each one the runs hold, or every task of the runs.
fn task_names(runs: &TrainingRuns, params: &LadderParams) -> anyhow::Result<Vec<String>> {
    if params.tasks.is_empty() {
        return Ok(runs.tasks.iter().map(|t| t.name.clone()).collect());
    }
    for t in &params.tasks {
        if !runs.tasks.iter().any(|s| &s.name == t) {
            bail!(
                "unknown task `{t}`; the runs hold: {}",
                runs.tasks
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    Ok(params.tasks.clone())
}

fn fit_scoped(
    runs: &TrainingRuns,
    params: &LadderParams,
    scope: Scope,
) -> anyhow::Result<LadderFits> {
    let ladder: Vec<&TrainingRun> = runs
        .runs
        .iter()
        .filter(|r| r.role == Role::Ladder)
        .collect();
    let targets: Vec<&TrainingRun> = runs
        .runs
        .iter()
        .filter(|r| r.role == Role::Target && !r.monitor)
        .collect();
    let monitors: Vec<&TrainingRun> = runs
        .runs
        .iter()
        .filter(|r| r.role == Role::Target && r.monitor && scope == Scope::Every)
        .collect();
    if ladder.len() < 2 {
        bail!(
            "the ladder needs at least 2 runs with role `ladder`, found {}",
            ladder.len()
        );
    }
    let tasks = task_names(runs, params)?;
    let variance_run = ladder
        .iter()
        .max_by(|a, b| a.flops().total_cmp(&b.flops()))
        .expect("at least two ladder runs");
    let options = params.prepare_options();
    let (huber, squared) = params.fit_options();
    let prepared = tasks
        .par_iter()
        .map(|task| prepare_task(&ladder, task, &options))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let chances: Vec<f64> = tasks.iter().map(|t| params.chance(t)).collect();
    let step1 = fit_step1(&prepared, params.step1_shared, huber);
    let step2: Vec<anyhow::Result<Fit>> = prepared
        .par_iter()
        .zip(&chances)
        .map(|(p, &chance)| {
            if let Some(why) = &p.no_intermediate {
                bail!("{why}");
            }
            let (x2, y2): (Vec<f64>, Vec<f64>) = p.step2.iter().copied().unzip();
            fit_step2(chance, params.step2_floor, (&x2, &y2), squared, None)
        })
        .collect();
    let draws = bootstrap_steps(&tasks, &ladder, params, &chances, &step1, &step2);
    let tasks = tasks
        .par_iter()
        .zip(prepared)
        .zip(step1)
        .zip(step2)
        .zip(draws)
        .map(|((((task, prepared), step1), step2), draws)| {
            let steps = Steps {
                prepared,
                step1,
                step2,
                draws,
            };
            fit_task(
                task,
                steps,
                &ladder,
                &targets,
                if scope == Scope::Every {
                    &monitors
                } else {
                    &[]
                },
                variance_run,
                (params, scope),
            )
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let variants = params
        .variants
        .par_iter()
        .map(|(name, changes)| fit_variant(runs, params, name, changes))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(LadderFits {
        method: params.describe(),
        ladder: ladder.iter().map(|r| r.name.clone()).collect(),
        variance_run: variance_run.name.clone(),
        tasks,
        variants,
        calibration: None,
    })
}

/// Variant `name` of `params`: the two-step law refitted with its `changes`, and its chained
/// prediction of every target on every task.
fn fit_variant(
    runs: &TrainingRuns,
    params: &LadderParams,
    name: &str,
    changes: &serde_json::Map<String, serde_json::Value>,
) -> anyhow::Result<LadderVariant> {
    let options = params.variant(name, changes)?;
    let fits =
        fit_scoped(runs, &options, Scope::Chained).with_context(|| format!("variant `{name}`"))?;
    let predictions = fits
        .tasks
        .iter()
        .flat_map(|task| {
            let failure = task.failure(LadderMethod::Ladder);
            task.targets.iter().map(move |t| VariantPrediction {
                task: task.name.clone(),
                target: t.target.clone(),
                prediction: t.accuracy_predicted,
                failure: if t.accuracy_predicted.is_none() {
                    failure.clone()
                } else {
                    None
                },
            })
        })
        .collect();
    let changes = changes
        .iter()
        .map(|(key, value)| format!("{key} = {value}"))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(LadderVariant {
        name: name.to_owned(),
        changes,
        predictions,
    })
}

/// Step 1's (x, y) for the fits: ((N, D), ln L).
fn step1_xy(prepared: &Prepared) -> (Vec<(f64, f64)>, Vec<f64>) {
    prepared.step1.iter().map(|&(x, l)| (x, l.ln())).unzip()
}

/// Step 1 of every task: each fitted alone, or with `shared` parameters in one joint fit over
/// the tasks that have the intermediate metric (each task's own fit, or the paper's start where
/// that failed, gives the joint fit's start). A task without the intermediate fails with the
/// reason.
fn fit_step1(
    prepared: &[Prepared],
    shared: Step1Shared,
    huber: FitOptions,
) -> Vec<anyhow::Result<Fit>> {
    let own: Vec<anyhow::Result<Fit>> = prepared
        .par_iter()
        .map(|p| {
            if let Some(why) = &p.no_intermediate {
                bail!("{why}");
            }
            let (x, y) = step1_xy(p);
            fit_weighted(&TaskLoss, &x, &y, Some(&p.step1_weights), huber)
        })
        .collect();
    let shared = match shared {
        Step1Shared::None => return own,
        Step1Shared::Exponents => Shared::Exponents,
        Step1Shared::Floor => Shared::Floor,
    };
    let members: Vec<usize> = (0..prepared.len())
        .filter(|&i| prepared[i].no_intermediate.is_none())
        .collect();
    if members.is_empty() {
        return own;
    }
    let law = JointTaskLoss::new(members.len(), shared);
    let (mut x, mut y, mut w) = (Vec::new(), Vec::new(), Vec::new());
    for (j, &i) in members.iter().enumerate() {
        let (xs, ys) = step1_xy(&prepared[i]);
        x.extend(xs.into_iter().map(|(n, d)| (j, n, d)));
        y.extend(ys);
        w.extend(&prepared[i].step1_weights);
    }
    let paper = TaskLoss.starts().remove(0);
    let starts: Vec<Vec<f64>> = members
        .iter()
        .map(|&i| {
            own[i]
                .as_ref()
                .map_or_else(|_| paper.clone(), |f| f.params.clone())
        })
        .collect();
    let restarted = Restarted {
        law: law.clone(),
        starts: vec![law.start_from(&starts), law.starts().remove(0)],
    };
    let joint = fit_weighted(&restarted, &x, &y, Some(&w), huber);
    let mut out = own;
    for (j, &i) in members.iter().enumerate() {
        out[i] = match &joint {
            Ok(f) => {
                let params = law.task_params(j, &f.params);
                let (xs, ys) = step1_xy(&prepared[i]);
                let sse: f64 = xs
                    .iter()
                    .zip(&ys)
                    .map(|(&x, &y)| (TaskLoss.value(x, &params) - y).powi(2))
                    .sum();
                Ok(Fit {
                    params,
                    cost: f.cost,
                    rmse: (sse / xs.len() as f64).sqrt(),
                    starts_used: f.starts_used,
                })
            }
            Err(err) => Err(anyhow::anyhow!("the joint step 1 fit failed: {err:#}")),
        };
    }
    out
}

fn law_fit<L: Law>(law: &L, result: &anyhow::Result<Fit>) -> LawFit {
    let names = law.names().iter().map(|&n| n.to_owned()).collect();
    match result {
        Ok(f) => LawFit {
            names,
            params: f.params.clone(),
            rmse: f.rmse,
            failure: None,
        },
        Err(err) => LawFit {
            names,
            params: Vec::new(),
            rmse: f64::NAN,
            failure: Some(format!("{err:#}")),
        },
    }
}

/// One task's prepared data, step 1 and step 2 fits and bootstrap draws, fitted across tasks.
struct Steps {
    prepared: Prepared,
    step1: anyhow::Result<Fit>,
    step2: anyhow::Result<Fit>,
    draws: Vec<Draw>,
}

/// `ys` (accuracies) on the log-accuracy laws' scale ln(−ln Acc), or why not.
fn log_accuracies(ys: &[f64]) -> anyhow::Result<Vec<f64>> {
    ys.iter()
        .map(|&a| {
            log_neg_log(a).ok_or_else(|| {
                anyhow::anyhow!("a run's accuracy is {a}, outside (0, 1) where ln(−ln Acc) exists")
            })
        })
        .collect()
}

fn fit_task(
    task: &str,
    steps: Steps,
    ladder: &[&TrainingRun],
    targets: &[&TrainingRun],
    monitors: &[&TrainingRun],
    variance_run: &TrainingRun,
    (params, scope): (&LadderParams, Scope),
) -> anyhow::Result<LadderTask> {
    let Steps {
        prepared,
        step1,
        step2,
        draws,
    } = steps;
    let (huber, squared) = params.fit_options();
    // Without the intermediate metric only the one-step variants can be fitted; the others fail
    // with the reason.
    let fit_or_say_why = |result: anyhow::Result<Fit>| match &prepared.no_intermediate {
        Some(why) => Err(anyhow::anyhow!("{why}")),
        None => result,
    };
    let other = |fit: &dyn Fn() -> anyhow::Result<Fit>| scope.other(fit);
    let sigmoid = LossToAccuracy {
        chance: params.chance(task),
    };
    let (x2, y2): (Vec<f64>, Vec<f64>) = prepared.step2.iter().copied().unzip();
    let logit = LogitLinear {
        chance: sigmoid.chance,
    };
    let step2_logit = other(&|| fit_or_say_why(fit(&logit, &x2, &y2, squared)));
    let (xc, yc): (Vec<f64>, Vec<f64>) = prepared.compute.iter().map(|&(c, l)| (c, l.ln())).unzip();
    let from_compute = other(&|| fit_or_say_why(fit(&LossFromCompute, &xc, &yc, huber)));
    let (xo, yo): (Vec<(f64, f64)>, Vec<f64>) = prepared.one_step.iter().copied().unzip();
    let one_step = other(&|| fit(&OneStepAccuracy, &xo, &yo, squared));
    let xoc: Vec<f64> = xo
        .iter()
        .map(|&(n, d)| 6.0 * n * d / COMPUTE_UNIT)
        .collect();
    let one_step_compute = other(&|| fit(&OneStepCompute, &xoc, &yo, squared));
    let log_acc = log_accuracies(&yo);
    let log_power = other(&|| match &log_acc {
        Ok(y) => fit(&LogAccuracy, &xo, y, squared),
        Err(err) => Err(anyhow::anyhow!("{err:#}")),
    });
    let log_power_compute = other(&|| match &log_acc {
        Ok(y) => fit(&LogAccuracyCompute, &xoc, y, squared),
        Err(err) => Err(anyhow::anyhow!("{err:#}")),
    });

    let finals = final_points(ladder, task, params)?;
    let fitted = Fitted {
        finals: &finals,
        step1: &step1,
        sigmoid,
        step2: &step2,
        from_compute: &from_compute,
        one_step: &one_step,
        one_step_compute: &one_step_compute,
        logit,
        step2_logit: &step2_logit,
        log_power: &log_power,
        log_power_compute: &log_power_compute,
    };
    let predictions = targets
        .iter()
        .map(|target| {
            let mut t = fitted.predict(target, task, params);
            t.interval = crate::monitor::bootstrap_band(
                sigmoid.chance,
                &draws,
                (target.params, target.tokens),
            );
            t
        })
        .collect();

    let last =
        |v: &[f64]| -> Vec<f64> { v[v.len().saturating_sub(params.variance_last)..].to_vec() };
    let loss_std =
        series(variance_run, task, &params.intermediate).map_or(f64::NAN, |v| std_dev(&last(v)));
    let accuracy_std = std_dev(&last(series(variance_run, task, &params.accuracy)?));
    let mut fitted_task = LadderTask {
        name: task.to_owned(),
        chance: sigmoid.chance,
        step1: law_fit(&TaskLoss, &step1),
        step1_points: prepared
            .step1
            .iter()
            .map(|&((n, d), l)| [n, d, l])
            .collect(),
        step2: law_fit(&sigmoid, &step2),
        step2_points: prepared.step2.iter().map(|&(x, y)| [x, y]).collect(),
        loss_from_compute: law_fit(&LossFromCompute, &from_compute),
        one_step: law_fit(&OneStepAccuracy, &one_step),
        one_step_compute: law_fit(&OneStepCompute, &one_step_compute),
        step2_logit: law_fit(&logit, &step2_logit),
        log_power: law_fit(&LogAccuracy, &log_power),
        log_power_compute: law_fit(&LogAccuracyCompute, &log_power_compute),
        loss_std,
        accuracy_std,
        targets: predictions,
        monitors: Vec::new(),
        draws,
    };
    fitted_task.monitors = monitors
        .iter()
        .filter_map(|run| crate::monitor::monitor(&fitted_task, run, &params.accuracy))
        .collect();
    Ok(fitted_task)
}

/// Every ladder run's (compute in 1e18 FLOPs, final accuracy: the mean over its last
/// `target_last` checkpoints, as a target's observed accuracy is measured), in increasing compute:
/// what the trivial baselines read.
fn final_points(
    ladder: &[&TrainingRun],
    task: &str,
    params: &LadderParams,
) -> anyhow::Result<Vec<(f64, f64)>> {
    let mut points = ladder
        .iter()
        .map(|run| {
            let accuracy = series(run, task, &params.accuracy)?;
            Ok((
                run.flops() / COMPUTE_UNIT,
                mean_last(accuracy, params.target_last),
            ))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(points)
}

/// One task's fits, for predicting targets.
struct Fitted<'a> {
    finals: &'a [(f64, f64)],
    step1: &'a anyhow::Result<Fit>,
    sigmoid: LossToAccuracy,
    step2: &'a anyhow::Result<Fit>,
    from_compute: &'a anyhow::Result<Fit>,
    one_step: &'a anyhow::Result<Fit>,
    one_step_compute: &'a anyhow::Result<Fit>,
    logit: LogitLinear,
    step2_logit: &'a anyhow::Result<Fit>,
    log_power: &'a anyhow::Result<Fit>,
    log_power_compute: &'a anyhow::Result<Fit>,
}

impl Fitted<'_> {
    /// Every method's prediction for `target`, and its observed values.
    fn predict(&self, target: &TrainingRun, task: &str, params: &LadderParams) -> LadderTarget {
        let observed = |metric: &str| {
            series(target, task, metric)
                .ok()
                .map(|v| mean_last(v, params.target_last))
        };
        let at = |fit: &anyhow::Result<Fit>, f: &dyn Fn(&[f64]) -> f64| {
            fit.as_ref().ok().map(|fit| f(&fit.params))
        };
        let accuracy_at = |loss: Option<f64>| {
            let p = &self.step2.as_ref().ok()?.params;
            Some(self.sigmoid.value(loss?, p))
        };
        let nd = (target.params, target.tokens);
        let compute = target.flops() / COMPUTE_UNIT;
        let loss_predicted = at(self.step1, &|p| TaskLoss.loss(nd, p));
        let loss_actual = observed(&params.intermediate);
        let loss_intermediate = at(self.from_compute, &|p| LossFromCompute.loss(compute, p));
        LadderTarget {
            target: target.name.clone(),
            params: target.params,
            tokens: target.tokens,
            loss_predicted,
            loss_actual,
            accuracy_predicted: accuracy_at(loss_predicted),
            accuracy_step2: accuracy_at(loss_actual),
            accuracy_loss_intermediate: accuracy_at(loss_intermediate),
            accuracy_one_step: at(self.one_step, &|p| OneStepAccuracy.value(nd, p)),
            accuracy_one_step_compute: at(self.one_step_compute, &|p| {
                OneStepCompute.value(compute, p)
            }),
            accuracy_logit: loss_predicted.and_then(|l| {
                let p = &self.step2_logit.as_ref().ok()?.params;
                Some(self.logit.value(l, p))
            }),
            accuracy_log_power: at(self.log_power, &|p| {
                accuracy_from_log_neg_log(LogAccuracy.value(nd, p))
            }),
            accuracy_log_power_compute: at(self.log_power_compute, &|p| {
                accuracy_from_log_neg_log(LogAccuracyCompute.value(compute, p))
            }),
            accuracy_no_change: self.finals.last().map(|&(_, a)| a),
            accuracy_log_linear: {
                let (x, y): (Vec<f64>, Vec<f64>) = self.finals.iter().copied().unzip();
                cod_fit::log_linear_line(&x, &y).map(|(intercept, slope)| {
                    (intercept + slope * compute.log10()).clamp(self.sigmoid.chance, 1.0)
                })
            },
            accuracy_actual: observed(&params.accuracy),
            interval: None,
        }
    }
}

/// One bootstrap resample's (step 1, step 2) parameters of a task.
type Draw = (Vec<f64>, Vec<f64>);

/// `ladder.len()` runs drawn with replacement from `ladder`, seeded with `seed`, redrawn
/// until at least 5 (or every run, for smaller ladders) are distinct.
fn draw_runs<'r>(ladder: &[&'r TrainingRun], seed: u64) -> Vec<&'r TrainingRun> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    loop {
        let draw: Vec<&TrainingRun> = (0..ladder.len())
            .map(|_| ladder[rng.gen_range(0..ladder.len())])
            .collect();
        let mut names: Vec<&str> = draw.iter().map(|r| r.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        if names.len() >= 5.min(ladder.len()) {
            return draw;
        }
    }
}

/// Step 1 and step 2 parameters of every task refitted on `params.bootstrap` resamples of the
/// ladder runs, the same resampled runs for every task (so a joint step 1 is refitted jointly).
/// Step 2 restarts from the full data's fit. A task whose full fits failed gets no draws, and a
/// resample whose fits fail for a task is left out of that task's draws.
fn bootstrap_steps(
    tasks: &[String],
    ladder: &[&TrainingRun],
    params: &LadderParams,
    chances: &[f64],
    step1: &[anyhow::Result<Fit>],
    step2: &[anyhow::Result<Fit>],
) -> Vec<Vec<Draw>> {
    let options = params.prepare_options();
    let (huber, squared) = params.fit_options();
    let resamples: Vec<Vec<Option<Draw>>> = (0..params.bootstrap)
        .into_par_iter()
        .map(|b| {
            let drawn = draw_runs(ladder, params.seed.wrapping_add(b as u64));
            let Ok(prepared) = tasks
                .iter()
                .map(|task| prepare_task(&drawn, task, &options))
                .collect::<anyhow::Result<Vec<_>>>()
            else {
                return vec![None; tasks.len()];
            };
            let s1 = fit_step1(&prepared, params.step1_shared, huber);
            (0..tasks.len())
                .map(|i| {
                    let (Ok(_), Ok(full2)) = (&step1[i], &step2[i]) else {
                        return None;
                    };
                    let s1 = s1[i].as_ref().ok()?;
                    let (x2, y2): (Vec<f64>, Vec<f64>) = prepared[i].step2.iter().copied().unzip();
                    let s2 = fit_step2(
                        chances[i],
                        params.step2_floor,
                        (&x2, &y2),
                        squared,
                        Some(&full2.params),
                    )
                    .ok()?;
                    Some((s1.params.clone(), s2.params))
                })
                .collect()
        })
        .collect();
    (0..tasks.len())
        .map(|i| resamples.iter().filter_map(|r| r[i].clone()).collect())
        .collect()
}

/// Fits the two-step ladder law per task: a `training-runs` artifact in, `ladder-fits` out.
pub struct LadderStage;

impl Stage for LadderStage {
    type Params = LadderParams;
    type Inputs = (TrainingRuns,);
    type Output = LadderFits;
    const KIND: &'static str = "ladder";
    /// This crate's preparation and fits, on `fit`'s laws and least squares.
    const CODE: Code = Code::new("ladder", 8, &[&FitStage::CODE]);

    fn validate(params: &LadderParams) -> anyhow::Result<()> {
        if !(0.0..1.0).contains(&params.step2_skip) {
            bail!(
                "`step2_skip` must be in [0, 1), found {}",
                params.step2_skip
            );
        }
        for (what, n) in [
            ("step1_last", params.step1_last),
            ("step2_smooth", params.step2_smooth),
            ("target_last", params.target_last),
            ("variance_last", params.variance_last),
        ] {
            if n == 0 {
                bail!("`{what}` must be at least 1, found 0");
            }
        }
        for (task, &c) in std::iter::once(("(default)", &params.chance))
            .chain(params.chance_per_task.iter().map(|(t, c)| (t.as_str(), c)))
        {
            if !(0.0..1.0).contains(&c) {
                bail!("chance of `{task}` must be in [0, 1), found {c}");
            }
        }
        if params.huber_delta <= 0.0 || !params.huber_delta.is_finite() {
            bail!(
                "`huber_delta` must be positive, found {}",
                params.huber_delta
            );
        }
        for (name, changes) in &params.variants {
            let variant = params.variant(name, changes)?;
            Self::validate(&variant).with_context(|| format!("variant `{name}`"))?;
        }
        Ok(())
    }

    fn run(
        params: &LadderParams,
        (runs,): (TrainingRuns,),
        progress: &Progress,
    ) -> anyhow::Result<LadderFits> {
        let spinner = progress.spinner("fitting the ladder");
        let fits = fit_ladder(&runs, params).context("ladder fit")?;
        spinner.finish_and_clear();
        Ok(fits)
    }
}

/// `cod-ladder`, the stage's binary.
pub const BINARY: StageBinary = StageBinary {
    name: "cod-ladder",
    about: "Fit the model-ladder two-step task scaling law and predict every target run",
    long_about: "Step 1 fits task loss from parameters N and tokens D, L(N, D) = A/N^α + B/D^β + \
                 E, to one point per ladder run (its final D and the mean loss of its last \
                 checkpoints), with a Huber loss on log residuals. Step 2 fits accuracy from task \
                 loss, Acc(L) = a/(1 + exp(−k·(L − L0))) + b, to every checkpoint of every run \
                 after dropping each run's first 10% and smoothing. The prediction chains both \
                 (METHODS §2). The loss-intermediate baseline replaces step 1 by \
                 L(C) = A·C^(−α) + E on compute C = 6·N·D.",
    inputs: &["runs"],
    examples: &["cod-ladder --runs out/olmo-ladder/ingest.bin --output ladder.bin --task mmlu"],
};
