//! Scaling-law families and their fits (METHODS §1.3, §2, §3).
//!
//! A [`Law`] is a parametric curve with analytic gradient, parameter bounds and a grid of starting
//! points. [`fit`] minimizes the squared (or Huber) residuals under the bounds from every start and
//! keeps the best.
//!
//! **Solver.** argmin 0.11 has no bound-constrained method, so bounds are handled by
//! reparametrization: a parameter bounded below is `lo + exp(u)`, one bounded on both sides is
//! `lo + (hi − lo)·σ(u)`, and L-BFGS (More–Thuente line search) runs on the unconstrained `u` with
//! the chain-ruled analytic gradient. Every iterate is feasible by construction; a bound is reached
//! only in the limit, which is what the COD filter needs (it compares parameters to thresholds
//! away from the bounds). The law's coefficient and exponent are strongly correlated, so a single
//! start is not robust: the grid is the defence.
//!
//! **Invariant**: the fitting code (`fit`, the laws) works on numbers only; the `fit` stage reads
//! artifacts and no other files.

mod fitting;
pub mod irt;
pub mod irt_marginal;
mod ladder_laws;
mod ladder_variants;
mod laws;
mod stage;

pub use fitting::{Fit, FitOptions, Loss, fit, fit_weighted};
pub use ladder_laws::{
    ChanceFloor, LogitLinear, LossFromCompute, LossToAccuracy, OneStepAccuracy, OneStepCompute,
    TaskLoss,
};
pub use ladder_variants::{
    JointTaskLoss, LogAccuracy, LogAccuracyCompute, Shared, accuracy_from_log_neg_log, log_neg_log,
};
pub use laws::{Bnsl, CodLaw, Law, MonotoneQuartic, Restarted, quantile};
pub use stage::{
    BINARY, BenchmarkRefit, BenchmarkResiduals, COMPUTE_UNIT, ExpAccuracy, FitParams, FitStage,
    IrtFit, LOG_LINEAR_MODELS, LossName, fit_clusters, fit_clusters_with, log_linear_line,
    refit_starts, residuals, warm_starts,
};

#[cfg(test)]
mod irt_marginal_tests;
#[cfg(test)]
mod irt_tests;
#[cfg(test)]
mod oracle;
