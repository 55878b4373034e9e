//! The model-ladder two-step task scaling law (METHODS §2) and the loss-intermediate baseline
//! (METHODS §3).
//!
//! Step 1 predicts a task's loss from (N, D); step 2 maps task loss to accuracy; the prediction
//! chains them. Both are fitted on a ladder of training runs, each run contributing one point to
//! step 1 (its final D and the mean loss of its last checkpoints) and all its checkpoints, after
//! trimming and smoothing, to step 2. The law families live in `cod-fit`; this crate prepares the
//! data, fits, and predicts.
//!
//! **Invariant**: works on numbers and the `training-runs` artifact only; reads no other files.

mod monitor;
mod prepare;
mod stage;
pub mod synthetic;

#[cfg(test)]
mod oracle;

pub use monitor::{
    bootstrap_band, chained, monitor, monitored_checkpoints, updated_prediction, updated_step2,
};
pub use prepare::{Prepared, moving_average, prepare_task, skip_count, std_dev};
pub use stage::{
    BINARY, LadderParams, LadderStage, Step1Points, Step1Shared, Step2Floor, fit_ladder,
    variant_method,
};
