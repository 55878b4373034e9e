//! Synthetic ladders for oracle tests, here and in the stages built on this crate: training runs of
//! one task `t` drawn from a known step-1 law and step-2 sigmoid, shaped like the OLMo ladder's
//! tasks.

use cod_artifact::{Role, Series, TaskSource, TrainingRun, TrainingRuns};

/// (ln A, ln B, α, β, E) of the synthetic step 1: the runs' final losses span 1.77 (190M, 1×) to
/// 1.0 (1.3B, 10×) bits per byte, and a 7B run on 4T tokens reaches 0.76.
pub const STEP1: [f64; 5] = [5.88, 6.9, 0.33, 0.335, 0.5];

/// (a, L0, k, b) of the synthetic step 2: accuracy 0.32 at loss 1.77, 0.73 at 1.0, 0.89 at 0.76,
/// and 0.997 at 0, close to the paper's anchor (0, 1); b = 1 as in most OLMo-ladder fits.
pub const STEP2: [f64; 4] = [-0.7, 1.1, 5.0, 1.0];

/// Step 1's task loss at N parameters and D tokens.
#[must_use]
pub fn true_loss(n: f64, d: f64) -> f64 {
    let [a, b, alpha, beta, e] = STEP1;
    (a - alpha * n.ln()).exp() + (b - beta * d.ln()).exp() + e
}

/// Step 2's accuracy at task loss `l`.
#[must_use]
pub fn true_accuracy(l: f64) -> f64 {
    let [a, l0, k, b] = STEP2;
    a / (1.0 + (-k * (l - l0)).exp()) + b
}

/// A run of N = `n` parameters on D = `d` tokens with checkpoints at `tokens`, where task `t`
/// measured `loss` and `accuracy`.
#[must_use]
pub fn run(
    name: String,
    role: Role,
    (n, d): (f64, f64),
    tokens: Vec<f64>,
    (loss, accuracy): (Vec<f64>, Vec<f64>),
) -> TrainingRun {
    TrainingRun {
        name,
        role,
        monitor: false,
        source: "synthetic".to_owned(),
        params: n,
        tokens: d,
        tokens_from: "synthetic".to_owned(),
        steps: None,
        checkpoint_tokens: tokens,
        series: vec![
            Series {
                task: "t".to_owned(),
                metric: "loss".to_owned(),
                values: loss,
            },
            Series {
                task: "t".to_owned(),
                metric: "accuracy".to_owned(),
                values: accuracy,
            },
        ],
        missing: Vec::new(),
    }
}

/// The `training-runs` artifact of `runs`, all of task `t`.
#[must_use]
pub fn runs(runs: Vec<TrainingRun>) -> TrainingRuns {
    TrainingRuns {
        tasks: vec![TaskSource {
            name: "t".to_owned(),
            parts: vec![("t".to_owned(), 1.0)],
        }],
        runs,
        warnings: Vec::new(),
    }
}
