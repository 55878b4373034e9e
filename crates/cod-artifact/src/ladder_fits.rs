use crate::LadderMethod;
use std::collections::BTreeMap;
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::{Artifact, ArtifactKind, Calibration, MethodKey, PredictionRow};

/// The two-step ladder law's fits and predictions (METHODS §2) and the loss-intermediate baseline
/// (METHODS §3): the output of the `ladder` stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LadderFits {
    /// The options the fits used, e.g. `intermediate=loss step1-last=5 skip=0.1 smooth=5 anchor`.
    pub method: String,
    /// The ladder runs fitted.
    pub ladder: Vec<String>,
    /// The run whose last checkpoints give the variance diagnostic (the largest ladder run).
    pub variance_run: String,
    pub tasks: Vec<LadderTask>,
    /// The two-step law refitted under each named variant of the options (`[ladder] variants`),
    /// in name order. Shown beside the methods, never a candidate for the recommendation.
    pub variants: Vec<LadderVariant>,
    /// The recommendation and calibrated intervals, when a `ladder-recommend` stage added them.
    pub calibration: Option<Calibration>,
}

/// The chained two-step prediction under one named variant of the ladder's options.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LadderVariant {
    /// The variant's name in the pipeline file, e.g. `paper`.
    pub name: String,
    /// The options it changes, e.g. `intermediate = "loss"`.
    pub changes: String,
    /// One per (task, target), in the tasks' and then the targets' order of [`LadderFits`].
    pub predictions: Vec<VariantPrediction>,
}

/// A variant's prediction of one target on one task, or why there is none.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VariantPrediction {
    pub task: String,
    pub target: String,
    pub prediction: Option<f64>,
    /// The first fit the prediction needs that failed, when it did.
    pub failure: Option<String>,
}

impl LadderVariant {
    /// The prediction of `target` on `task`, when the variant has one.
    #[must_use]
    pub fn prediction(&self, task: &str, target: &str) -> Option<&VariantPrediction> {
        self.predictions
            .iter()
            .find(|p| p.task == task && p.target == target)
    }
}

/// One task's fits and its predictions for every target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LadderTask {
    pub name: String,
    /// The random-guess accuracy that starts step 2.
    pub chance: f64,
    /// Step 1: L(N, D) = A/N^α + B/D^β + E, parameters (ln A, ln B, α, β, E).
    pub step1: LawFit,
    /// Step 1's points: (N, D, mean task loss of the run's last checkpoints).
    pub step1_points: Vec<[f64; 3]>,
    /// Step 2: Acc(L) = a/(1 + exp(−k·(L − L0))) + b, parameters (a, L0, k, b).
    pub step2: LawFit,
    /// Step 2's points (task loss, accuracy), after trimming and smoothing, anchor included.
    pub step2_points: Vec<[f64; 2]>,
    /// The loss-intermediate baseline's first step: L(C) = A·C^(−α) + E (C in 1e18 FLOPs),
    /// parameters (ln A, α, E).
    pub loss_from_compute: LawFit,
    /// The one-step variant: accuracy from (N, D) directly, fitted to one point per run (final D,
    /// mean accuracy of its last checkpoints).
    pub one_step: LawFit,
    /// The one-step variant on compute C = 6·N·D alone.
    pub one_step_compute: LawFit,
    /// Step 2 as a logit-linear link, Acc = chance + (1 − chance)·σ(α + β·L), on step 2's points.
    pub step2_logit: LawFit,
    /// The direct law on log accuracy, ln(−ln Acc) = ln(A·N^(−α) + B·D^(−β)), parameters
    /// (ln A, ln B, α, β), fitted to one point per run as the one-step variant is.
    pub log_power: LawFit,
    /// The same on compute: ln(−ln Acc) = ln A − α·ln C, parameters (ln A, α).
    pub log_power_compute: LawFit,
    /// Standard deviation (ddof 0) of the task loss over the last checkpoints of the variance run.
    pub loss_std: f64,
    /// The same for accuracy.
    pub accuracy_std: f64,
    pub targets: Vec<LadderTarget>,
    /// Target trajectories checked against the predicted curve.
    pub monitors: Vec<Monitor>,
    /// The bootstrap's refitted (step 1, step 2) parameters, one pair per resample whose fits
    /// succeeded: the chained prediction's band at any (N, D), e.g. a run's new checkpoints.
    pub draws: Vec<(Vec<f64>, Vec<f64>)>,
}

/// A target's training trajectory against the two-step law's prediction at each checkpoint:
/// Acc(L(N, D)) with D the tokens seen so far, and its bootstrap band.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Monitor {
    pub run: String,
    pub tokens: Vec<f64>,
    pub observed: Vec<f64>,
    pub predicted: Vec<f64>,
    /// The (lower, upper) band per checkpoint, when the ladder stage bootstrapped: its 5–95%
    /// bootstrap band, or the calibrated interval once `ladder-recommend` ran (`calibrated`).
    pub band: Option<Vec<(f64, f64)>>,
    /// Whether `band` is the calibrated interval (bootstrap, extrapolation and binomial terms).
    pub calibrated: bool,
}

impl Monitor {
    /// Checkpoints whose observed accuracy lies outside the band.
    #[must_use]
    pub fn outside(&self) -> Vec<usize> {
        let Some(band) = &self.band else {
            return Vec::new();
        };
        (0..self.observed.len())
            .filter(|&i| self.observed[i] < band[i].0 || self.observed[i] > band[i].1)
            .collect()
    }
}

/// A fitted law, or why it could not be fitted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LawFit {
    pub names: Vec<String>,
    /// Empty when the fit failed.
    pub params: Vec<f64>,
    /// Root-mean-square residual on the fit's own scale (log loss for step 1).
    pub rmse: f64,
    pub failure: Option<String>,
}

/// Predictions for one target on one task; `None` where an input is missing or a fit failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LadderTarget {
    pub target: String,
    pub params: f64,
    pub tokens: f64,
    /// Step 1 at the target's (N, D).
    pub loss_predicted: Option<f64>,
    /// The target's observed task loss (mean over its last checkpoints).
    pub loss_actual: Option<f64>,
    /// Both steps chained: step 2 at `loss_predicted`. The method `ladder`.
    pub accuracy_predicted: Option<f64>,
    /// Step 2 alone, at the observed loss. The method `ladder-step2`.
    pub accuracy_step2: Option<f64>,
    /// The loss-intermediate baseline: step 2 at L(C_target).
    pub accuracy_loss_intermediate: Option<f64>,
    /// The one-step variant at the target's (N, D).
    pub accuracy_one_step: Option<f64>,
    /// The one-step variant at the target's compute.
    pub accuracy_one_step_compute: Option<f64>,
    /// The logit-linear step 2 at `loss_predicted`. The method `ladder-logit`.
    pub accuracy_logit: Option<f64>,
    /// The direct law on log accuracy at the target's (N, D). The method `log-power`.
    pub accuracy_log_power: Option<f64>,
    /// The direct law on log accuracy at the target's compute. The method `log-power-compute`.
    pub accuracy_log_power_compute: Option<f64>,
    /// The largest ladder run's (by compute) final accuracy. The method `no-change`.
    pub accuracy_no_change: Option<f64>,
    /// A straight line in log compute through the 3 largest ladder runs' final accuracies,
    /// clipped to [chance, 1]. The method `log-linear`.
    pub accuracy_log_linear: Option<f64>,
    /// The target's observed accuracy (mean over its last checkpoints).
    pub accuracy_actual: Option<f64>,
    /// The bootstrap interval of `accuracy_predicted` (resampled ladder runs, both steps refitted).
    pub interval: Option<(f64, f64)>,
}

fn abs_error(prediction: Option<f64>, actual: Option<f64>) -> Option<f64> {
    Some((prediction? - actual?).abs())
}

fn rel_error(prediction: Option<f64>, actual: Option<f64>) -> Option<f64> {
    let actual = actual?;
    Some((prediction? - actual).abs() / actual.abs())
}

impl LadderTarget {
    /// Every accuracy method's prediction, by method name.
    #[must_use]
    pub fn methods(&self) -> [(LadderMethod, Option<f64>); 10] {
        [
            (LadderMethod::Ladder, self.accuracy_predicted),
            (LadderMethod::LadderStep2, self.accuracy_step2),
            (
                LadderMethod::LossIntermediate,
                self.accuracy_loss_intermediate,
            ),
            (LadderMethod::OneStep, self.accuracy_one_step),
            (LadderMethod::OneStepCompute, self.accuracy_one_step_compute),
            (LadderMethod::LadderLogit, self.accuracy_logit),
            (LadderMethod::LogPower, self.accuracy_log_power),
            (
                LadderMethod::LogPowerCompute,
                self.accuracy_log_power_compute,
            ),
            (LadderMethod::NoChange, self.accuracy_no_change),
            (LadderMethod::LogLinear, self.accuracy_log_linear),
        ]
    }
}

/// Columns of [`LadderFits::csv`].
const CSV_HEADER: &str = "target,task,actual,predicted,abs_error,rel_error,\
loss_actual,loss_predicted,step1_abs_error,step1_rel_error,step2_predicted,step2_abs_error,\
loss_intermediate_predicted,loss_intermediate_abs_error,one_step_predicted,one_step_abs_error,\
one_step_compute_predicted,one_step_compute_abs_error,logit_predicted,logit_abs_error,\
log_power_predicted,log_power_abs_error,log_power_compute_predicted,log_power_compute_abs_error,\
no_change_predicted,no_change_abs_error,\
log_linear_predicted,log_linear_abs_error,loss_std,accuracy_std";

fn cell(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| format!("{v}"))
}

fn points(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{:.2}", 100.0 * v))
}

/// The intermediate metric named in a ladder fit's description (`intermediate=…`, the stage's
/// `describe`), `loss` when it names none.
#[must_use]
pub fn intermediate(method: &str) -> &str {
    method
        .split_whitespace()
        .find_map(|w| w.strip_prefix("intermediate="))
        .unwrap_or("loss")
}

impl LadderTask {
    /// Why `method` has no prediction for a target of this task: the first of the fits it needs
    /// that failed.
    #[must_use]
    pub fn failure(&self, method: LadderMethod) -> Option<String> {
        let needs = match method {
            LadderMethod::Ladder => vec![("step 1", &self.step1), ("step 2", &self.step2)],
            LadderMethod::LadderStep2 => vec![("step 2", &self.step2)],
            LadderMethod::LossIntermediate => {
                vec![("L(C)", &self.loss_from_compute), ("step 2", &self.step2)]
            }
            LadderMethod::OneStep => vec![("one-step", &self.one_step)],
            LadderMethod::OneStepCompute => vec![("one-step on compute", &self.one_step_compute)],
            LadderMethod::LadderLogit => {
                vec![("step 1", &self.step1), ("logit step 2", &self.step2_logit)]
            }
            LadderMethod::LogPower => vec![("log-power", &self.log_power)],
            LadderMethod::LogPowerCompute => {
                vec![("log-power on compute", &self.log_power_compute)]
            }
            LadderMethod::NoChange | LadderMethod::LogLinear => Vec::new(),
        };
        needs
            .into_iter()
            .find_map(|(what, fit)| Some(format!("{what} fit failed: {}", fit.failure.as_ref()?)))
    }

    /// The fits whose failures the summary and the report name, with the names they use.
    #[must_use]
    pub fn reported_fits(&self) -> [(&'static str, &LawFit); 7] {
        [
            ("step 1", &self.step1),
            ("step 2", &self.step2),
            ("L(C)", &self.loss_from_compute),
            ("one-step", &self.one_step),
            ("one-step on compute", &self.one_step_compute),
            ("log-power", &self.log_power),
            ("log-power on compute", &self.log_power_compute),
        ]
    }
}

impl LadderFits {
    /// Each variant's mean abs error over the (target, task) cells it predicted that have an
    /// actual value, and how many those are.
    #[must_use]
    pub fn variant_errors(&self) -> Vec<(&str, f64, usize)> {
        self.variants
            .iter()
            .map(|v| {
                let errors: Vec<f64> = v
                    .predictions
                    .iter()
                    .filter_map(|p| {
                        let task = self.tasks.iter().find(|t| t.name == p.task)?;
                        let target = task.targets.iter().find(|t| t.target == p.target)?;
                        abs_error(p.prediction, target.accuracy_actual)
                    })
                    .collect();
                let n = errors.len();
                let mean = if n == 0 {
                    f64::NAN
                } else {
                    errors.iter().sum::<f64>() / n as f64
                };
                (v.name.as_str(), mean, n)
            })
            .collect()
    }

    /// `target/task` → method → prediction, actual, absolute error (fractions in [0, 1]).
    #[must_use]
    pub fn table(&self) -> crate::PredictionTable {
        let mut table = BTreeMap::new();
        for task in &self.tasks {
            for t in &task.targets {
                let mut methods = t
                    .methods()
                    .into_iter()
                    .map(|(method, prediction)| {
                        (
                            MethodKey(method.name().to_owned()),
                            PredictionRow::new(
                                prediction,
                                t.accuracy_actual,
                                abs_error(prediction, t.accuracy_actual),
                                (method == LadderMethod::Ladder)
                                    .then_some(t.interval)
                                    .flatten(),
                            ),
                        )
                    })
                    .collect();
                let name = format!("{}/{}", t.target, task.name);
                if let Some(c) = &self.calibration {
                    c.apply(&name, &mut methods);
                }
                table.insert(name, methods);
            }
        }
        table
    }

    /// Every accuracy method's absolute errors over every target and task it scored, in method
    /// order; methods that scored nothing are left out.
    #[must_use]
    pub fn method_errors(&self) -> Vec<(&'static str, Vec<f64>)> {
        let methods = self
            .tasks
            .first()
            .and_then(|t| t.targets.first())
            .map(LadderTarget::methods);
        methods
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, (method, _))| {
                let errors = self
                    .tasks
                    .iter()
                    .flat_map(|task| &task.targets)
                    .filter_map(|t| abs_error(t.methods()[i].1, t.accuracy_actual))
                    .collect();
                (method.name(), errors)
            })
            .filter(|(_, errors): &(_, Vec<f64>)| !errors.is_empty())
            .collect()
    }

    /// Every monitored checkpoint as CSV: run, task, tokens, observed, predicted, band, outside.
    #[must_use]
    pub fn monitor_csv(&self) -> String {
        let mut out = String::from("run,task,tokens,observed,predicted,lower,upper,outside\n");
        for task in &self.tasks {
            for m in &task.monitors {
                let outside = m.outside();
                for i in 0..m.tokens.len() {
                    let band = m.band.as_ref().map(|b| b[i]);
                    let _ = writeln!(
                        out,
                        "{},{},{},{},{},{},{},{}",
                        m.run,
                        task.name,
                        m.tokens[i],
                        m.observed[i],
                        m.predicted[i],
                        cell(band.map(|b| b.0)),
                        cell(band.map(|b| b.1)),
                        outside.contains(&i)
                    );
                }
            }
        }
        out
    }

    /// The whole table, one row per (target, task), as CSV with a header; each variant adds
    /// `variant_<name>_predicted` and `variant_<name>_abs_error`.
    #[must_use]
    pub fn csv(&self) -> String {
        let mut out = String::from(CSV_HEADER);
        for v in &self.variants {
            let _ = write!(out, ",variant_{0}_predicted,variant_{0}_abs_error", v.name);
        }
        out.push('\n');
        for task in &self.tasks {
            for t in &task.targets {
                let row = [
                    t.target.clone(),
                    task.name.clone(),
                    cell(t.accuracy_actual),
                    cell(t.accuracy_predicted),
                    cell(abs_error(t.accuracy_predicted, t.accuracy_actual)),
                    cell(rel_error(t.accuracy_predicted, t.accuracy_actual)),
                    cell(t.loss_actual),
                    cell(t.loss_predicted),
                    cell(abs_error(t.loss_predicted, t.loss_actual)),
                    cell(rel_error(t.loss_predicted, t.loss_actual)),
                    cell(t.accuracy_step2),
                    cell(abs_error(t.accuracy_step2, t.accuracy_actual)),
                    cell(t.accuracy_loss_intermediate),
                    cell(abs_error(t.accuracy_loss_intermediate, t.accuracy_actual)),
                    cell(t.accuracy_one_step),
                    cell(abs_error(t.accuracy_one_step, t.accuracy_actual)),
                    cell(t.accuracy_one_step_compute),
                    cell(abs_error(t.accuracy_one_step_compute, t.accuracy_actual)),
                    cell(t.accuracy_logit),
                    cell(abs_error(t.accuracy_logit, t.accuracy_actual)),
                    cell(t.accuracy_log_power),
                    cell(abs_error(t.accuracy_log_power, t.accuracy_actual)),
                    cell(t.accuracy_log_power_compute),
                    cell(abs_error(t.accuracy_log_power_compute, t.accuracy_actual)),
                    cell(t.accuracy_no_change),
                    cell(abs_error(t.accuracy_no_change, t.accuracy_actual)),
                    cell(t.accuracy_log_linear),
                    cell(abs_error(t.accuracy_log_linear, t.accuracy_actual)),
                    cell(Some(task.loss_std)),
                    cell(Some(task.accuracy_std)),
                ];
                out.push_str(&row.join(","));
                for v in &self.variants {
                    let p = v
                        .prediction(&task.name, &t.target)
                        .and_then(|p| p.prediction);
                    let _ = write!(
                        out,
                        ",{},{}",
                        cell(p),
                        cell(abs_error(p, t.accuracy_actual))
                    );
                }
                out.push('\n');
            }
        }
        out
    }
}

impl LadderFits {
    /// The bootstrap intervals and the monitored trajectories, for the summary.
    fn write_intervals_and_monitors(&self, out: &mut String) {
        let intervals: Vec<String> = self
            .tasks
            .iter()
            .flat_map(|task| {
                task.targets.iter().filter_map(move |t| {
                    let (lo, hi) = t.interval?;
                    let inside = t.accuracy_actual.map_or("", |a| {
                        if (lo..=hi).contains(&a) {
                            " holds the actual"
                        } else {
                            " misses the actual"
                        }
                    });
                    Some(format!(
                        "    {}/{}: [{:.2}, {:.2}]{inside}",
                        t.target,
                        task.name,
                        100.0 * lo,
                        100.0 * hi
                    ))
                })
            })
            .collect();
        if !intervals.is_empty() {
            let _ = writeln!(
                out,
                "  ladder 5-95% bootstrap intervals (ladder runs resampled):"
            );
            for line in &intervals {
                let _ = writeln!(out, "{line}");
            }
        }
        for task in &self.tasks {
            for m in &task.monitors {
                let outside = m.outside();
                let last = m.observed.len().saturating_sub(1);
                let _ = writeln!(
                    out,
                    "  monitor {} on {}: {} checkpoints, {} outside the {}band; last observed \
                     {:.2}, predicted {:.2}{}",
                    m.run,
                    task.name,
                    m.observed.len(),
                    if m.band.is_some() {
                        outside.len().to_string()
                    } else {
                        "- (no band)".to_owned()
                    },
                    if m.calibrated { "calibrated " } else { "" },
                    100.0 * m.observed.get(last).copied().unwrap_or(f64::NAN),
                    100.0 * m.predicted.get(last).copied().unwrap_or(f64::NAN),
                    m.band
                        .as_ref()
                        .and_then(|b| b.get(last))
                        .map_or_else(String::new, |(lo, hi)| {
                            format!(" [{:.2}, {:.2}]", 100.0 * lo, 100.0 * hi)
                        })
                );
            }
        }
    }
}

impl Artifact for LadderFits {
    const KIND: ArtifactKind = ArtifactKind::LadderFits;
    const SCHEMA_VERSION: u32 = 11;

    fn validate(&self) -> Result<(), String> {
        if let Some(c) = &self.calibration {
            c.validate()?;
        }
        for v in &self.variants {
            for p in &v.predictions {
                if !self
                    .tasks
                    .iter()
                    .any(|t| t.name == p.task && t.targets.iter().any(|g| g.target == p.target))
                {
                    return Err(format!(
                        "variant `{}` predicts target `{}` on task `{}`, which the fits do not \
                         hold",
                        v.name, p.target, p.task
                    ));
                }
            }
        }
        for task in &self.tasks {
            let at = |what: &str| format!("task `{}`: {what}", task.name);
            for (law, fit) in [
                ("loss_from_compute", &task.loss_from_compute),
                ("one_step", &task.one_step),
                ("one_step_compute", &task.one_step_compute),
                ("log_power", &task.log_power),
                ("log_power_compute", &task.log_power_compute),
            ] {
                if !fit.params.is_empty() {
                    crate::validate::length(fit.params.len(), fit.names.len(), &at(law))?;
                }
            }
            for target in &task.targets {
                if let Some(interval) = target.interval {
                    crate::validate::interval(
                        interval,
                        &at(&format!("target `{}`", target.target)),
                    )?;
                }
            }
            for monitor in &task.monitors {
                let what = |series: &str| at(&format!("monitor `{}` `{series}`", monitor.run));
                let n = monitor.tokens.len();
                crate::validate::length(monitor.observed.len(), n, &what("observed"))?;
                crate::validate::length(monitor.predicted.len(), n, &what("predicted"))?;
                if let Some(band) = &monitor.band {
                    crate::validate::length(band.len(), n, &what("band"))?;
                }
            }
            for (step1, step2) in &task.draws {
                crate::validate::length(step1.len(), task.step1.names.len(), &at("a step 1 draw"))?;
                crate::validate::length(step2.len(), task.step2.names.len(), &at("a step 2 draw"))?;
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_lines)] // one wide table, its columns' formats side by side
    fn summary(&self) -> String {
        let mut out = String::new();
        if let Some(c) = &self.calibration {
            out.push_str(&c.summary());
        }
        let loss = match intermediate(&self.method) {
            "loss" => "loss in bits per byte".to_owned(),
            other => format!("loss is `{other}`"),
        };
        let _ = writeln!(
            out,
            "two-step ladder law ({}), {} ladder runs; accuracy in points, {loss}",
            self.method,
            self.ladder.len()
        );
        let _ = writeln!(
            out,
            "  {:<8} {:<14} {:>7} {:>7} {:>6} {:>6}  {:>6} {:>6} {:>6}  {:>6} {:>6}  {:>6} {:>6}  {:>6} {:>6}",
            "target",
            "task",
            "actual",
            "pred",
            "abs",
            "rel%",
            "L act",
            "L pred",
            "L rel%",
            "step2",
            "abs",
            "L(C)",
            "abs",
            "sd L",
            "sd acc"
        );
        for task in &self.tasks {
            for t in &task.targets {
                let rel = |p, a| {
                    rel_error(p, a).map_or_else(|| "-".to_owned(), |r| format!("{:.1}", 100.0 * r))
                };
                let loss = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.3}"));
                let _ = writeln!(
                    out,
                    "  {:<8} {:<14} {:>7} {:>7} {:>6} {:>6}  {:>6} {:>6} {:>6}  {:>6} {:>6}  {:>6} {:>6}  {:>6.3} {:>6.2}",
                    t.target,
                    task.name,
                    points(t.accuracy_actual),
                    points(t.accuracy_predicted),
                    points(abs_error(t.accuracy_predicted, t.accuracy_actual)),
                    rel(t.accuracy_predicted, t.accuracy_actual),
                    loss(t.loss_actual),
                    loss(t.loss_predicted),
                    rel(t.loss_predicted, t.loss_actual),
                    points(t.accuracy_step2),
                    points(abs_error(t.accuracy_step2, t.accuracy_actual)),
                    points(t.accuracy_loss_intermediate),
                    points(abs_error(t.accuracy_loss_intermediate, t.accuracy_actual)),
                    task.loss_std,
                    100.0 * task.accuracy_std,
                );
            }
            for (step, fit) in task.reported_fits() {
                if let Some(why) = &fit.failure {
                    let _ = writeln!(out, "    {}: {step} fit failed: {why}", task.name);
                }
            }
        }
        let _ = writeln!(
            out,
            "  mean (max) abs error in points over every target and task:"
        );
        for (method, errors) in self.method_errors() {
            let mean = errors.iter().sum::<f64>() / errors.len() as f64;
            let max = errors.iter().copied().fold(0.0, f64::max);
            let within = errors.iter().filter(|e| **e <= 0.02).count();
            let _ = writeln!(
                out,
                "    {method:<18} {:>6.2} ({:>5.2}) over {}; {within} within 2 points",
                100.0 * mean,
                100.0 * max,
                errors.len()
            );
        }
        let variants = self.variant_errors();
        if !variants.is_empty() {
            let _ = writeln!(
                out,
                "  variants of the `ladder` method (the two-step law under other options; \
                 recommended only where `recommend.variants` lets them compete), mean abs error \
                 in points:"
            );
            for ((name, mean, n), v) in variants.iter().zip(&self.variants) {
                let failed = v.predictions.iter().filter(|p| p.failure.is_some()).count();
                let _ = writeln!(
                    out,
                    "    {name:<18} {} over {n}{}; {}",
                    if mean.is_finite() {
                        format!("{:>6.2}", 100.0 * mean)
                    } else {
                        format!("{:>6}", "-")
                    },
                    if failed > 0 {
                        format!(", {failed} failed")
                    } else {
                        String::new()
                    },
                    v.changes
                );
            }
        }
        let _ = writeln!(
            out,
            "  sd L, sd acc: over the last checkpoints of {} (large values flag tasks likely to miss)",
            self.variance_run
        );
        self.write_intervals_and_monitors(&mut out);
        out
    }
}
