//! Bounded least squares by reparametrization and L-BFGS from a grid of starts.

use anyhow::bail;
use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;

use crate::Law;

/// The residual loss.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Loss {
    /// Σ r².
    Squared,
    /// Σ huber_δ(r): r²/2 within δ, δ·(|r| − δ/2) beyond.
    Huber(f64),
}

/// Fitting options.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FitOptions {
    pub loss: Loss,
    /// L-BFGS iterations per start.
    pub max_iters: u64,
}

impl Default for FitOptions {
    fn default() -> FitOptions {
        FitOptions {
            loss: Loss::Squared,
            max_iters: 300,
        }
    }
}

/// The best fit over all starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    pub params: Vec<f64>,
    /// The loss at `params`.
    pub cost: f64,
    /// Root-mean-square residual.
    pub rmse: f64,
    /// How many starts ended in a usable fit.
    pub starts_used: usize,
}

/// How one parameter maps from the unconstrained space the solver sees.
#[derive(Clone, Copy, Debug)]
enum Transform {
    Free,
    /// lo + exp(u).
    Lower(f64),
    /// hi − exp(u).
    Upper(f64),
    /// lo + (hi − lo)·σ(u).
    Interval(f64, f64),
}

/// exp(u) with u capped where it would overflow.
fn exp_capped(u: f64) -> f64 {
    u.min(700.0).exp()
}

impl Transform {
    fn new((lo, hi): (f64, f64)) -> Transform {
        match (lo.is_finite(), hi.is_finite()) {
            (false, false) => Transform::Free,
            (true, false) => Transform::Lower(lo),
            (false, true) => Transform::Upper(hi),
            (true, true) => Transform::Interval(lo, hi),
        }
    }

    /// (p, dp/du).
    fn forward(self, u: f64) -> (f64, f64) {
        match self {
            Transform::Free => (u, 1.0),
            Transform::Lower(lo) => {
                let e = exp_capped(u);
                (lo + e, e)
            }
            Transform::Upper(hi) => {
                let e = exp_capped(u);
                (hi - e, -e)
            }
            Transform::Interval(lo, hi) => {
                let s = 1.0 / (1.0 + (-u).exp());
                (lo + (hi - lo) * s, (hi - lo) * s * (1.0 - s))
            }
        }
    }

    /// p moved just inside the bounds when it lies on one (a published start point may sit on a
    /// bound, which the transform reaches only in the limit).
    fn inside(self, p: f64) -> f64 {
        const MARGIN: f64 = 1e-9;
        match self {
            Transform::Free => p,
            Transform::Lower(lo) => p.max(lo + MARGIN),
            Transform::Upper(hi) => p.min(hi - MARGIN),
            Transform::Interval(lo, hi) => {
                let m = MARGIN * (hi - lo);
                p.clamp(lo + m, hi - m)
            }
        }
    }

    /// u for a p strictly inside the bounds.
    fn inverse(self, p: f64) -> f64 {
        match self {
            Transform::Free => p,
            Transform::Lower(lo) => (p - lo).ln(),
            Transform::Upper(hi) => (hi - p).ln(),
            Transform::Interval(lo, hi) => {
                let s = (p - lo) / (hi - lo);
                (s / (1.0 - s)).ln()
            }
        }
    }
}

struct Problem<'a, L: Law + ?Sized> {
    law: &'a L,
    x: &'a [L::Input],
    y: &'a [f64],
    /// Each point's weight on its loss; all 1 when `None`.
    weights: Option<&'a [f64]>,
    loss: Loss,
    transforms: Vec<Transform>,
}

impl<L: Law + ?Sized> Problem<'_, L> {
    fn params(&self, u: &[f64]) -> (Vec<f64>, Vec<f64>) {
        self.transforms
            .iter()
            .zip(u)
            .map(|(t, &u)| t.forward(u))
            .unzip()
    }

    fn weight(&self, i: usize) -> f64 {
        self.weights.map_or(1.0, |w| w[i])
    }

    /// Loss and its derivative at residual r.
    fn loss(&self, r: f64) -> (f64, f64) {
        match self.loss {
            Loss::Squared => (r * r, 2.0 * r),
            Loss::Huber(delta) if r.abs() <= delta => (0.5 * r * r, r),
            Loss::Huber(delta) => (delta * (r.abs() - 0.5 * delta), delta * r.signum()),
        }
    }
}

impl<L: Law + ?Sized> CostFunction for Problem<'_, L> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, u: &Vec<f64>) -> Result<f64, argmin::core::Error> {
        let (p, _) = self.params(u);
        let cost: f64 = self
            .x
            .iter()
            .zip(self.y)
            .enumerate()
            .map(|(i, (&x, &y))| self.weight(i) * self.loss(self.law.value(x, &p) - y).0)
            .sum();
        // A non-finite cost ends this start: argmin's line search would otherwise search forever.
        if cost.is_finite() {
            Ok(cost)
        } else {
            Err(argmin::core::Error::msg(format!(
                "non-finite loss at {p:?}"
            )))
        }
    }
}

impl<L: Law + ?Sized> Gradient for Problem<'_, L> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, u: &Vec<f64>) -> Result<Vec<f64>, argmin::core::Error> {
        let (p, dp) = self.params(u);
        let mut grad = vec![0.0; p.len()];
        let mut df = vec![0.0; p.len()];
        for (i, (&x, &y)) in self.x.iter().zip(self.y).enumerate() {
            let (_, dl) = self.loss(self.law.value(x, &p) - y);
            let dl = self.weight(i) * dl;
            self.law.gradient(x, &p, &mut df);
            for k in 0..p.len() {
                grad[k] += dl * df[k] * dp[k];
            }
        }
        if grad.iter().all(|g| g.is_finite()) {
            Ok(grad)
        } else {
            Err(argmin::core::Error::msg(format!(
                "non-finite gradient at {p:?}"
            )))
        }
    }
}

/// Fits `law` to the points (x, y) from every start of the law's grid and returns the best fit.
/// Fails only when no start gives a finite fit.
pub fn fit<L: Law + ?Sized>(
    law: &L,
    x: &[L::Input],
    y: &[f64],
    options: FitOptions,
) -> anyhow::Result<Fit> {
    fit_weighted(law, x, y, None, options)
}

/// [`fit`] with each point's loss multiplied by its weight (e.g. 1/n for the n points of one run,
/// so every run counts equally). The reported `rmse` is unweighted.
pub fn fit_weighted<L: Law + ?Sized>(
    law: &L,
    x: &[L::Input],
    y: &[f64],
    weights: Option<&[f64]>,
    options: FitOptions,
) -> anyhow::Result<Fit> {
    if x.len() != y.len() {
        bail!("{} x values but {} y values", x.len(), y.len());
    }
    if let Some(w) = weights {
        if w.len() != x.len() {
            bail!("{} x values but {} weights", x.len(), w.len());
        }
        if let Some(bad) = w.iter().find(|w| !(w.is_finite() && **w >= 0.0)) {
            bail!("a weight must be finite and non-negative, found {bad}");
        }
    }
    if x.is_empty() {
        bail!("no points to fit");
    }
    if let Some(bad) = y.iter().find(|v| !v.is_finite()) {
        bail!("cannot fit a non-finite value ({bad})");
    }
    let problem_for = || Problem {
        law,
        x,
        y,
        weights,
        loss: options.loss,
        transforms: law.bounds().into_iter().map(Transform::new).collect(),
    };
    let transforms: Vec<Transform> = law.bounds().into_iter().map(Transform::new).collect();
    let mut best: Option<(Vec<f64>, f64)> = None;
    let mut used = 0;
    let mut last_error = None;
    for start in law.starts() {
        let u0: Vec<f64> = transforms
            .iter()
            .zip(&start)
            .map(|(t, &p)| t.inverse(t.inside(p)))
            .collect();
        let solver = LBFGS::new(MoreThuenteLineSearch::new(), 7)
            .with_tolerance_grad(1e-12)?
            .with_tolerance_cost(1e-15)?;
        let result = Executor::new(problem_for(), solver)
            .configure(|state| state.param(u0).max_iters(options.max_iters))
            .run();
        match result {
            Ok(res) => {
                let state = res.state();
                let (Some(u), cost) = (state.get_best_param(), state.get_best_cost()) else {
                    continue;
                };
                if !cost.is_finite() {
                    continue;
                }
                used += 1;
                if best.as_ref().is_none_or(|(_, c)| cost < *c) {
                    best = Some((u.clone(), cost));
                }
            }
            Err(err) => last_error = Some(err),
        }
    }
    let Some((u, cost)) = best else {
        match last_error {
            Some(err) => bail!("every start failed; the last: {err}"),
            None => bail!("no start gave a finite fit"),
        }
    };
    let problem = problem_for();
    let (params, _) = problem.params(&u);
    let sse: f64 = x
        .iter()
        .zip(y)
        .map(|(&x, &y)| (law.value(x, &params) - y).powi(2))
        .sum();
    Ok(Fit {
        params,
        cost,
        rmse: (sse / x.len() as f64).sqrt(),
        starts_used: used,
    })
}
