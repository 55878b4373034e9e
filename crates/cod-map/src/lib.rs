//! The predictable subset, the subset-to-full mapping and the predictions (METHODS §1.4–§1.5).

//!
//! **Invariant**: reads no files but artifacts.

mod bootstrap;
mod fitpack;
mod spline;
mod stage;

pub use bootstrap::{
    BOOTSTRAP_BINARY, BootstrapParams, BootstrapStage, ModelVariation, add_intervals, bootstrap,
    quantile,
};
pub use fitpack::{FitpackSpline, Schedule, Scheduled, fit_scheduled};
pub use spline::{CubicSpline, Pchip, isotonic, merge_sorted};
pub use stage::{BINARY, MapParams, MapStage, MappingForm, predict, predict_with};

#[cfg(test)]
mod fitpack_tests;
#[cfg(test)]
mod spline_tests;
#[cfg(test)]
mod stage_tests;
