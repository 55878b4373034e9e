//! A target run checked against the chained prediction, checkpoint by checkpoint, from a task's
//! stored fits alone: the `ladder` stage's monitored trajectories and `cod monitor` both use it.

use anyhow::bail;
use cod_artifact::{LadderTask, Monitor, TrainingRun};
use cod_fit::{Law, LossToAccuracy, TaskLoss, quantile};

use crate::LadderParams;
use crate::prepare::{PrepareOptions, prepare_task, series};

/// Acc(L(N, D)) with step 1's parameters `step1` and step 2's `step2`.
fn chain(chance: f64, nd: (f64, f64), step1: &[f64], step2: &[f64]) -> f64 {
    LossToAccuracy { chance }.value(TaskLoss.loss(nd, step1), step2)
}

/// The chained prediction Acc(L(N, D)) of `task`, when both steps fitted.
#[must_use]
pub fn chained(task: &LadderTask, nd: (f64, f64)) -> Option<f64> {
    if task.step1.params.is_empty() || task.step2.params.is_empty() {
        return None;
    }
    Some(chain(
        task.chance,
        nd,
        &task.step1.params,
        &task.step2.params,
    ))
}

/// The 5–95% band of the chained prediction at (N, D) over `draws`, the bootstrap's refitted
/// (step 1, step 2) parameters; `None` with fewer than 2 draws.
#[must_use]
pub fn bootstrap_band(
    chance: f64,
    draws: &[(Vec<f64>, Vec<f64>)],
    nd: (f64, f64),
) -> Option<(f64, f64)> {
    if draws.len() < 2 {
        return None;
    }
    let mut values: Vec<f64> = draws
        .iter()
        .map(|(p1, p2)| chain(chance, nd, p1, p2))
        .collect();
    values.sort_by(f64::total_cmp);
    Some((quantile(&values, 0.05), quantile(&values, 0.95)))
}

/// The indices of `run`'s checkpoints a [`Monitor`] holds, in order: those after the first token
/// (L(N, 0) is undefined).
#[must_use]
pub fn monitored_checkpoints(run: &TrainingRun) -> Vec<usize> {
    (0..run.checkpoint_tokens.len())
        .filter(|&i| run.checkpoint_tokens[i] > 0.0)
        .collect()
}

/// `run`'s checkpoints ([`monitored_checkpoints`]) against `task`'s
/// chained prediction at their tokens, with the bootstrap band. `None` when a step did not fit
/// or the run lacks the `accuracy` metric.
#[must_use]
pub fn monitor(task: &LadderTask, run: &TrainingRun, accuracy: &str) -> Option<Monitor> {
    let observed = series(run, &task.name, accuracy).ok()?;
    let (step1, step2) = (&task.step1.params, &task.step2.params);
    if step1.is_empty() || step2.is_empty() {
        return None;
    }
    let kept: Vec<usize> = monitored_checkpoints(run)
        .into_iter()
        .filter(|&i| i < observed.len())
        .collect();
    let tokens: Vec<f64> = kept.iter().map(|&i| run.checkpoint_tokens[i]).collect();
    let nd = |d: f64| (run.params, d);
    Some(Monitor {
        run: run.name.clone(),
        predicted: tokens
            .iter()
            .map(|&d| chain(task.chance, nd(d), step1, step2))
            .collect(),
        band: tokens
            .iter()
            .map(|&d| bootstrap_band(task.chance, &task.draws, nd(d)))
            .collect(),
        calibrated: false,
        observed: kept.iter().map(|&i| observed[i]).collect(),
        tokens,
    })
}

/// Step 2 refitted on the ladder's points and the target's own checkpoints so far, `so_far`,
/// prepared as the ladder's are (first `step2_skip` of them dropped, smoothed; no second
/// anchor). Restarts from the ladder's fit. Step 1 is not refitted: a checkpoint before the
/// final learning-rate decay is not a finished run of its D, and step 1 fits finished runs only.
pub fn updated_step2(
    task: &LadderTask,
    so_far: &TrainingRun,
    params: &LadderParams,
) -> anyhow::Result<Vec<f64>> {
    if task.step2.params.is_empty() {
        bail!("task `{}`: step 2 did not fit on the ladder", task.name);
    }
    // No second anchor, and the target is one run: its points all count.
    let options = PrepareOptions {
        step2_anchor: false,
        step2_sizes: 0,
        ..params.prepare_options()
    };
    let own = prepare_task(&[so_far], &task.name, &options)?;
    if let Some(why) = own.no_intermediate {
        bail!("{why}");
    }
    let (x, y): (Vec<f64>, Vec<f64>) = task
        .step2_points
        .iter()
        .map(|&[l, a]| (l, a))
        .chain(own.step2)
        .unzip();
    Ok(crate::stage::fit_step2(
        task.chance,
        params.step2_floor,
        (&x, &y),
        params.fit_options().1,
        Some(&task.step2.params),
    )?
    .params)
}

/// The target's final accuracy predicted with step 2 updated from its checkpoints so far:
/// Acc'(L(N, D_final)).
pub fn updated_prediction(
    task: &LadderTask,
    so_far: &TrainingRun,
    nd: (f64, f64),
    params: &LadderParams,
) -> anyhow::Result<f64> {
    let step2 = updated_step2(task, so_far, params)?;
    Ok(chain(task.chance, nd, &task.step1.params, &step2))
}
