//! The predictable subset, the subset-to-full mapping and the predictions (METHODS §1.4–§1.5).

mod spline;

pub use spline::{CubicSpline, Pchip, isotonic, merge_sorted};

#[cfg(test)]
mod spline_tests;
