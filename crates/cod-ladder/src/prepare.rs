//! Data preparation as the ladder paper does it (METHODS §2).

use anyhow::{Context, bail};
use cod_artifact::TrainingRun;

/// How many of a run's first `n` checkpoints step 2 drops: ⌈fraction·n⌉, rounded up as the OLMo
/// ladder's code does.
#[must_use]
pub fn skip_count(n: usize, fraction: f64) -> usize {
    ((fraction * n as f64).ceil() as usize).min(n)
}

/// Trailing moving average with window `window`; the first points average what is available.
#[must_use]
pub fn moving_average(values: &[f64], window: usize) -> Vec<f64> {
    let window = window.max(1);
    (0..values.len())
        .map(|i| {
            let from = (i + 1).saturating_sub(window);
            let part = &values[from..=i];
            part.iter().sum::<f64>() / part.len() as f64
        })
        .collect()
}

/// Population standard deviation (ddof 0).
#[must_use]
pub fn std_dev(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt()
}

/// The mean of the last `n` values (all of them when there are fewer).
#[must_use]
pub fn mean_last(values: &[f64], n: usize) -> f64 {
    let part = &values[values.len().saturating_sub(n.max(1))..];
    part.iter().sum::<f64>() / part.len() as f64
}

/// One task's fit data.
#[derive(Clone, Debug, PartialEq)]
pub struct Prepared {
    /// Step 1: ((N, D), task loss), one point per run, or with `step1_all` one per checkpoint
    /// after the first `step2_skip` of the run (D the tokens seen so far).
    pub step1: Vec<((f64, f64), f64)>,
    /// Each step-1 point's weight: 1, or with `step1_all` 1/(the run's point count), so every
    /// run counts equally.
    pub step1_weights: Vec<f64>,
    /// Step 2: (task loss, accuracy), every kept checkpoint of every run, smoothed, anchor last.
    pub step2: Vec<(f64, f64)>,
    /// The loss-intermediate baseline: (C in 1e18 FLOPs, task loss), one point per run.
    pub compute: Vec<(f64, f64)>,
    /// The one-step variants: ((N, D), mean accuracy of the run's last checkpoints), one per run.
    pub one_step: Vec<((f64, f64), f64)>,
    /// Why step 1, step 2 and the loss-intermediate baseline have no points: a run lacks the
    /// intermediate metric (e.g. a score table without losses). The one-step variants still fit.
    pub no_intermediate: Option<String>,
}

/// How the data is prepared; the `ladder` stage's parameters of the same names.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PrepareOptions<'a> {
    pub intermediate: &'a str,
    pub accuracy: &'a str,
    pub step1_last: usize,
    pub step2_skip: f64,
    pub step2_smooth: usize,
    pub step2_anchor: bool,
    /// Step 2 points from the runs of the this-many largest sizes of `runs` only (0: all).
    pub step2_sizes: usize,
    /// Step 1 on every checkpoint after the first `step2_skip` of each run, not only each run's
    /// final loss.
    pub step1_all: bool,
}

/// A run's series, or an error naming the run, its file and what is missing.
pub(crate) fn series<'r>(
    run: &'r TrainingRun,
    task: &str,
    metric: &str,
) -> anyhow::Result<&'r [f64]> {
    match run.series(task, metric) {
        Some(values) if !values.is_empty() => Ok(values),
        Some(_) => bail!("run `{}` (`{}`) has no checkpoints", run.name, run.source),
        None => {
            let why = run
                .missing
                .iter()
                .find(|(t, m, _)| t == task && m == metric)
                .map_or_else(String::new, |(_, _, column)| {
                    format!(": the file has no column `{column}`")
                });
            bail!(
                "run `{}` (`{}`) has no `{metric}` for task `{task}`{why}",
                run.name,
                run.source
            )
        }
    }
}

/// Step 1, step 2 and loss-intermediate points of `task` from the ladder `runs`.
pub fn prepare_task(
    runs: &[&TrainingRun],
    task: &str,
    options: &PrepareOptions,
) -> anyhow::Result<Prepared> {
    let mut prepared = Prepared {
        step1: Vec::new(),
        step1_weights: Vec::new(),
        step2: Vec::new(),
        compute: Vec::new(),
        one_step: Vec::new(),
        no_intermediate: None,
    };
    let mut sizes: Vec<f64> = runs.iter().map(|r| r.params).collect();
    sizes.sort_by(|a, b| b.total_cmp(a));
    sizes.dedup_by(|a, b| a.total_cmp(b).is_eq());
    let step2_min_params = match options.step2_sizes {
        0 => f64::NEG_INFINITY,
        k => sizes
            .get(k.min(sizes.len()).saturating_sub(1))
            .copied()
            .unwrap_or(f64::NEG_INFINITY),
    };
    for run in runs {
        let accuracy = series(run, task, options.accuracy)?;
        prepared.one_step.push((
            (run.params, run.tokens),
            mean_last(accuracy, options.step1_last),
        ));
        let loss = match series(run, task, options.intermediate) {
            Ok(loss) if prepared.no_intermediate.is_none() => loss,
            Ok(_) => continue,
            Err(err) => {
                prepared
                    .no_intermediate
                    .get_or_insert_with(|| format!("{err:#}"));
                prepared.step1.clear();
                prepared.step1_weights.clear();
                prepared.step2.clear();
                prepared.compute.clear();
                continue;
            }
        };
        let final_loss = mean_last(loss, options.step1_last);
        let skip = skip_count(loss.len(), options.step2_skip);
        // Checkpoints before any token was counted cannot enter a law in ln D; a run with none
        // left gives its final point.
        let checkpoints: Vec<(f64, f64)> = if options.step1_all {
            run.checkpoint_tokens[skip..]
                .iter()
                .zip(&loss[skip..])
                .filter(|(d, _)| **d > 0.0)
                .map(|(&d, &l)| (d, l))
                .collect()
        } else {
            Vec::new()
        };
        if checkpoints.is_empty() {
            prepared.step1.push(((run.params, run.tokens), final_loss));
            prepared.step1_weights.push(1.0);
        } else {
            let weight = 1.0 / checkpoints.len() as f64;
            for (d, l) in checkpoints {
                prepared.step1.push(((run.params, d), l));
                prepared.step1_weights.push(weight);
            }
        }
        prepared
            .compute
            .push((run.flops() / cod_fit::COMPUTE_UNIT, final_loss));
        if run.params < step2_min_params {
            continue;
        }
        let xs = moving_average(&loss[skip..], options.step2_smooth);
        let ys = moving_average(&accuracy[skip..], options.step2_smooth);
        prepared.step2.extend(xs.into_iter().zip(ys));
    }
    if options.step2_anchor && prepared.no_intermediate.is_none() {
        prepared.step2.push((0.0, 1.0));
    }
    if let Some(bad) = prepared
        .step1
        .iter()
        .map(|p| p.1)
        .chain(prepared.step2.iter().flat_map(|&(x, y)| [x, y]))
        .find(|v| !v.is_finite())
    {
        return Err(anyhow::anyhow!("a non-finite value ({bad})"))
            .with_context(|| format!("task `{task}`"));
    }
    Ok(prepared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_rounds_up_like_the_ladder_code() {
        assert_eq!(skip_count(37, 0.1), 4);
        assert_eq!(skip_count(10, 0.1), 1);
        assert_eq!(skip_count(0, 0.1), 0);
        assert_eq!(skip_count(3, 0.0), 0);
        assert_eq!(skip_count(3, 1.0), 3);
    }

    #[test]
    fn moving_average_is_trailing_with_short_first_windows() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];
        assert_eq!(
            moving_average(&v, 5),
            vec![1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0]
        );
        assert_eq!(moving_average(&v, 1), v.to_vec());
        assert!(moving_average(&[], 5).is_empty());
    }

    #[test]
    fn std_dev_is_the_population_one() {
        assert!((std_dev(&[1.0, 3.0]) - 1.0).abs() < 1e-15);
        assert!((mean_last(&[1.0, 2.0, 3.0, 4.0], 2) - 3.5).abs() < 1e-15);
        assert!((mean_last(&[1.0], 5) - 1.0).abs() < 1e-15);
    }
}
