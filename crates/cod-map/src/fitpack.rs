//! FITPACK's cubic smoothing spline, as SciPy's `UnivariateSpline(x, y, w, k=3, s)` computes it
//! (Dierckx's `curfit`: knots are added where the weighted residual is largest until the residual
//! sum Σ (wᵢ (yᵢ − f(xᵢ)))² is at most s, then the smoothing parameter is found for that s), and
//! the COD paper's schedule of s (METHODS §1.5).
//!
//! The fit is `splinefit`'s pure-Rust translation of Dierckx's `curfit`; this module gives it
//! SciPy's conventions (repeated x allowed, the fit's range the data's) and clear errors, and
//! evaluates the B-spline itself (as FITPACK's `splev` and `fpbspl` do) rather than through
//! `splinefit`'s `splev`, which needs sorted arguments and views the coefficients with a length
//! they do not have.

use anyhow::{anyhow, bail};
use serde::{Deserialize, Serialize};
use splinefit::CubicSplineFit;
use spliny::SplineCurve;

/// A cubic B-spline fitted by FITPACK.
#[derive(Clone, Debug)]
pub struct FitpackSpline {
    curve: SplineCurve<3, 1>,
}

/// Points with equal x merged into one, so that FITPACK's residual sum is unchanged up to a
/// constant: weight √(Σ wᵢ²), y the w²-weighted mean, and that constant, Σ wᵢ² (yᵢ − ȳ)².
struct Merged {
    x: Vec<f64>,
    y: Vec<f64>,
    w: Vec<f64>,
    constant: f64,
}

// Repeated x are equal values, not near ones: FITPACK treats only those as one abscissa.
#[allow(clippy::float_cmp)]
fn merge(x: &[f64], y: &[f64], w: &[f64]) -> Merged {
    let mut merged = Merged {
        x: Vec::with_capacity(x.len()),
        y: Vec::with_capacity(x.len()),
        w: Vec::with_capacity(x.len()),
        constant: 0.0,
    };
    let mut i = 0;
    while i < x.len() {
        let mut j = i + 1;
        while j < x.len() && x[j] == x[i] {
            j += 1;
        }
        let w2: f64 = w[i..j].iter().map(|w| w * w).sum();
        let mean = (i..j).map(|k| w[k] * w[k] * y[k]).sum::<f64>() / w2;
        merged.constant += (i..j)
            .map(|k| w[k] * w[k] * (y[k] - mean).powi(2))
            .sum::<f64>();
        merged.x.push(x[i]);
        merged.y.push(if j == i + 1 { y[i] } else { mean });
        merged.w.push(if j == i + 1 { w[i] } else { w2.sqrt() });
        i = j;
    }
    merged
}

impl FitpackSpline {
    /// The smoothing spline through non-decreasing `x` with positive weights `w` and smoothing
    /// factor `s` ≥ 0 (0 interpolates). Needs at least 4 distinct x, as a cubic does.
    pub fn fit(x: &[f64], y: &[f64], w: &[f64], s: f64) -> anyhow::Result<FitpackSpline> {
        if y.len() != x.len() || w.len() != x.len() {
            bail!(
                "a spline needs one y and one weight per x: found {} x, {} y and {} weights",
                x.len(),
                y.len(),
                w.len()
            );
        }
        if let Some(bad) = x.iter().chain(y).chain(w).find(|v| !v.is_finite()) {
            bail!("spline points must be finite, found {bad}");
        }
        if let Some(bad) = w.iter().find(|w| **w <= 0.0) {
            bail!("spline weights must be positive, found {bad}");
        }
        if x.windows(2).any(|p| p[1] < p[0]) {
            bail!("spline x must be non-decreasing");
        }
        if !(s.is_finite() && s >= 0.0) {
            bail!("the smoothing factor s must be a number ≥ 0, found {s}");
        }
        let merged = merge(x, y, w);
        if merged.x.len() < 4 {
            bail!(
                "a cubic spline needs at least 4 distinct x, found {}",
                merged.x.len()
            );
        }
        // splinefit takes s as m·rms²; the residual of merged points is smaller by a constant.
        let s = (s - merged.constant).max(0.0);
        let m = merged.x.len() as f64;
        let fit = CubicSplineFit::new(merged.x, merged.y)
            .set_weights(merged.w)
            .map_err(|e| anyhow!("FITPACK: {e}"))?;
        let curve = if s == 0.0 {
            fit.interpolating_spline()
        } else {
            fit.smoothing_spline((s / m).sqrt())
        }
        .map_err(|e| anyhow!("FITPACK: {e}"))?;
        Ok(FitpackSpline { curve })
    }

    /// The spline at `t`, clamped to the fitted range as FITPACK's `splev` does.
    #[must_use]
    pub fn eval(&self, t: f64) -> f64 {
        const K: usize = 3;
        let (knots, coefficients) = (&self.curve.t, &self.curve.c);
        let n = knots.len();
        let x = t.clamp(knots[K], knots[n - K - 1]);
        // The knot interval [knots[l], knots[l + 1]) holding x, the last one for the right end.
        let mut l = K;
        while l + 1 < n - K - 1 && x >= knots[l + 1] {
            l += 1;
        }
        // The K + 1 non-zero B-splines at x (de Boor–Cox, as FITPACK's `fpbspl`).
        let mut h = [0.0; K + 1];
        h[0] = 1.0;
        for j in 1..=K {
            let previous = h;
            h[0] = 0.0;
            for i in 1..=j {
                let (right, left) = (knots[l + i], knots[l + i - j]);
                let f = previous[i - 1] / (right - left);
                h[i - 1] += f * (right - x);
                h[i] = f * (x - left);
            }
        }
        (0..=K).map(|j| coefficients[l - K + j] * h[j]).sum()
    }

    /// The spline at every point of `t`.
    #[must_use]
    pub fn eval_many(&self, t: &[f64]) -> Vec<f64> {
        t.iter().map(|&t| self.eval(t)).collect()
    }

    /// The interior knots (FITPACK places them at data points).
    #[must_use]
    pub fn interior_knots(&self) -> &[f64] {
        let t = &self.curve.t;
        if t.len() <= 8 {
            &[]
        } else {
            &t[4..t.len() - 4]
        }
    }
}

/// The smoothing factors tried, largest first: `steps` values from `start` down geometrically to
/// `stop` (the paper leaves the schedule open; METHODS §1.5 gives the defaults).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    pub start: f64,
    pub stop: f64,
    pub steps: usize,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            start: 1.0,
            stop: 1e-8,
            steps: 60,
        }
    }
}

impl Schedule {
    pub fn check(&self) -> anyhow::Result<()> {
        if !(self.start.is_finite() && self.stop.is_finite() && self.stop > 0.0) {
            bail!(
                "the s schedule must run between positive numbers, found {} to {}",
                self.start,
                self.stop
            );
        }
        if self.stop > self.start || self.steps < 2 {
            bail!(
                "the s schedule must decrease from `start` to `stop` in at least 2 steps, found {} to {} in {}",
                self.start,
                self.stop,
                self.steps
            );
        }
        Ok(())
    }

    /// The k-th smoothing factor, as NumPy's `geomspace(start, stop, steps)[k]`.
    #[must_use]
    pub fn s(&self, k: usize) -> f64 {
        if k == 0 {
            return self.start;
        }
        if k + 1 == self.steps {
            return self.stop;
        }
        let (lo, hi) = (self.start.log10(), self.stop.log10());
        let step = (hi - lo) / (self.steps - 1) as f64;
        10f64.powf(k as f64 * step + lo)
    }
}

/// The outcome of the schedule: the spline, its s and its RMSE on the points.
#[derive(Clone, Debug)]
pub struct Scheduled {
    pub spline: FitpackSpline,
    pub s: f64,
    pub rmse: f64,
}

/// Lowers s along `schedule` and keeps the first spline whose unweighted RMSE on the points is at
/// most `rmse_target`, or the last one tried. Where FITPACK finds s too small to reach (its
/// warnings ier = 1–3, on which SciPy returns an approximation), the schedule ends with the last
/// spline fitted.
pub fn fit_scheduled(
    x: &[f64],
    y: &[f64],
    w: &[f64],
    schedule: &Schedule,
    rmse_target: f64,
) -> anyhow::Result<Scheduled> {
    schedule.check()?;
    let rmse = |spline: &FitpackSpline| {
        let fitted = spline.eval_many(x);
        let sum: f64 = fitted.iter().zip(y).map(|(f, y)| (f - y).powi(2)).sum();
        (sum / x.len() as f64).sqrt()
    };
    let mut last = None;
    for k in 0..schedule.steps {
        let s = schedule.s(k);
        let spline = match (FitpackSpline::fit(x, y, w, s), &last) {
            (Ok(spline), _) => spline,
            (Err(_), Some(_)) => break,
            (Err(err), None) => return Err(err),
        };
        let rmse = rmse(&spline);
        let done = rmse <= rmse_target;
        last = Some(Scheduled { spline, s, rmse });
        if done {
            break;
        }
    }
    last.ok_or_else(|| anyhow!("the s schedule is empty"))
}
