//! Cubic smoothing splines: the minimizer of Σ wᵢ (yᵢ − f(xᵢ))² + λ ∫ f''(x)² dx, a natural cubic
//! spline with knots at the data (Reinsch's algorithm), the same objective as SciPy's
//! `make_smoothing_spline`. Plus the monotone fallback: isotonic regression, then a monotone cubic
//! Hermite interpolant (Fritsch–Carlson, as SciPy's `PchipInterpolator`).

// The linear algebra is written with indices, as in the textbooks it follows.
#![allow(clippy::needless_range_loop)]

use anyhow::bail;

/// A natural cubic spline given by its values and second derivatives at the knots.
#[derive(Clone, Debug, PartialEq)]
pub struct CubicSpline {
    pub x: Vec<f64>,
    pub f: Vec<f64>,
    /// Second derivatives at the knots; zero at both ends (natural spline).
    pub m: Vec<f64>,
}

/// Sorts points by x and merges equal x into one point with the weighted mean y and the summed
/// weight. Returns (x, y, w).
#[must_use]
pub fn merge_sorted(points: &[(f64, f64, f64)]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut sorted = points.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut x, mut y, mut w): (Vec<f64>, Vec<f64>, Vec<f64>) = (vec![], vec![], vec![]);
    for (px, py, pw) in sorted {
        if x.last() == Some(&px) {
            let last = w.len() - 1;
            let total = w[last] + pw;
            y[last] = (y[last] * w[last] + py * pw) / total;
            w[last] = total;
        } else {
            x.push(px);
            y.push(py);
            w.push(pw);
        }
    }
    (x, y, w)
}

/// Solves a small dense symmetric positive definite system by Cholesky.
fn solve_spd(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> anyhow::Result<Vec<f64>> {
    let n = b.len();
    for j in 0..n {
        let mut d = a[j][j];
        for k in 0..j {
            d -= a[j][k] * a[j][k];
        }
        if d.is_nan() || d <= 0.0 {
            bail!("the spline system is not positive definite");
        }
        let d = d.sqrt();
        a[j][j] = d;
        for i in j + 1..n {
            let mut s = a[i][j];
            for k in 0..j {
                s -= a[i][k] * a[j][k];
            }
            a[i][j] = s / d;
        }
    }
    for i in 0..n {
        for k in 0..i {
            b[i] -= a[i][k] * b[k];
        }
        b[i] /= a[i][i];
    }
    for i in (0..n).rev() {
        for k in i + 1..n {
            b[i] -= a[k][i] * b[k];
        }
        b[i] /= a[i][i];
    }
    Ok(b)
}

impl CubicSpline {
    /// The smoothing spline through strictly increasing `x` with weights `w` and penalty `lambda`
    /// (0 interpolates).
    pub fn smoothing(x: &[f64], y: &[f64], w: &[f64], lambda: f64) -> anyhow::Result<CubicSpline> {
        let n = x.len();
        if n < 2 || y.len() != n || w.len() != n {
            bail!("a spline needs at least 2 points with one y and one weight each");
        }
        if x.windows(2).any(|p| p[1] <= p[0]) {
            bail!("spline knots must be strictly increasing");
        }
        if n == 2 || lambda.is_infinite() {
            // A straight line: the weighted least-squares line.
            let sw: f64 = w.iter().sum();
            let mx = x.iter().zip(w).map(|(x, w)| x * w).sum::<f64>() / sw;
            let my = y.iter().zip(w).map(|(y, w)| y * w).sum::<f64>() / sw;
            let sxx: f64 = x.iter().zip(w).map(|(x, w)| w * (x - mx).powi(2)).sum();
            let sxy: f64 = x
                .iter()
                .zip(y)
                .zip(w)
                .map(|((x, y), w)| w * (x - mx) * (y - my))
                .sum();
            let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
            return Ok(CubicSpline {
                x: x.to_vec(),
                f: x.iter().map(|x| my + slope * (x - mx)).collect(),
                m: vec![0.0; n],
            });
        }
        let h: Vec<f64> = x.windows(2).map(|p| p[1] - p[0]).collect();
        let k = n - 2;
        // Q is n × k (column j for interior knot j + 1), R is k × k.
        let q = |i: usize, j: usize| -> f64 {
            let c = j + 1;
            if i + 1 == c {
                1.0 / h[c - 1]
            } else if i == c {
                -1.0 / h[c - 1] - 1.0 / h[c]
            } else if i == c + 1 {
                1.0 / h[c]
            } else {
                0.0
            }
        };
        let mut a = vec![vec![0.0; k]; k];
        for (j, row) in a.iter_mut().enumerate() {
            row[j] = (h[j] + h[j + 1]) / 3.0;
            if j + 1 < k {
                row[j + 1] = h[j + 1] / 6.0;
            }
            if j > 0 {
                row[j - 1] = h[j] / 6.0;
            }
        }
        for (r, row) in a.iter_mut().enumerate() {
            for (c, cell) in row.iter_mut().enumerate() {
                let lo = r.min(c);
                let hi = (r.max(c) + 2).min(n - 1);
                let mut s = 0.0;
                for i in lo..=hi {
                    s += q(i, r) * q(i, c) / w[i];
                }
                *cell += lambda * s;
            }
        }
        let rhs: Vec<f64> = (0..k)
            .map(|j| (j..=j + 2).map(|i| q(i, j) * y[i]).sum())
            .collect();
        let gamma = solve_spd(a, rhs)?;
        let f: Vec<f64> = (0..n)
            .map(|i| {
                let qg: f64 = (0..k).map(|j| q(i, j) * gamma[j]).sum();
                y[i] - lambda * qg / w[i]
            })
            .collect();
        let mut m = vec![0.0; n];
        m[1..=k].copy_from_slice(&gamma);
        Ok(CubicSpline {
            x: x.to_vec(),
            f,
            m,
        })
    }

    /// The spline at `t`; linear beyond the end knots, as a natural spline continues.
    #[must_use]
    pub fn eval(&self, t: f64) -> f64 {
        let i = interval(&self.x, t);
        let (x0, x1) = (self.x[i], self.x[i + 1]);
        let h = x1 - x0;
        let (a, b) = ((x1 - t) / h, (t - x0) / h);
        a * self.f[i]
            + b * self.f[i + 1]
            + ((a * a * a - a) * self.m[i] + (b * b * b - b) * self.m[i + 1]) * h * h / 6.0
    }
}

/// The index i of the knot interval [x_i, x_{i+1}] that holds `t`; the first or last interval
/// beyond the ends.
fn interval(x: &[f64], t: f64) -> usize {
    match x.iter().position(|&k| k > t) {
        Some(0) => 0,
        Some(p) => p - 1,
        None => x.len() - 2,
    }
}

/// Pool-adjacent-violators: the weighted non-decreasing sequence closest to `y` in least squares.
#[must_use]
pub fn isotonic(y: &[f64], w: &[f64]) -> Vec<f64> {
    let mut blocks: Vec<(f64, f64, usize)> = Vec::new(); // (mean, weight, count)
    for (&v, &wt) in y.iter().zip(w) {
        blocks.push((v, wt, 1));
        while blocks.len() > 1 && blocks[blocks.len() - 2].0 > blocks[blocks.len() - 1].0 {
            let (m2, w2, c2) = blocks.pop().expect("two blocks");
            let (m1, w1, c1) = blocks.pop().expect("two blocks");
            blocks.push(((m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2));
        }
    }
    blocks
        .into_iter()
        .flat_map(|(m, _, c)| std::iter::repeat_n(m, c))
        .collect()
}

/// A monotone piecewise cubic Hermite interpolant (Fritsch–Carlson slopes, as SciPy's PCHIP).
#[derive(Clone, Debug, PartialEq)]
pub struct Pchip {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub slope: Vec<f64>,
}

impl Pchip {
    /// Through strictly increasing `x`; monotone wherever `y` is.
    pub fn new(x: &[f64], y: &[f64]) -> anyhow::Result<Pchip> {
        let n = x.len();
        if n < 2 || y.len() != n {
            bail!("PCHIP needs at least 2 points");
        }
        let h: Vec<f64> = x.windows(2).map(|p| p[1] - p[0]).collect();
        let delta: Vec<f64> = (0..n - 1).map(|i| (y[i + 1] - y[i]) / h[i]).collect();
        let mut slope = vec![0.0; n];
        if n == 2 {
            slope = vec![delta[0]; 2];
        } else {
            for i in 1..n - 1 {
                if delta[i - 1] * delta[i] > 0.0 {
                    let w1 = 2.0 * h[i] + h[i - 1];
                    let w2 = h[i] + 2.0 * h[i - 1];
                    slope[i] = (w1 + w2) / (w1 / delta[i - 1] + w2 / delta[i]);
                }
            }
            slope[0] = end_slope(h[0], h[1], delta[0], delta[1]);
            slope[n - 1] = end_slope(h[n - 2], h[n - 3], delta[n - 2], delta[n - 3]);
        }
        Ok(Pchip {
            x: x.to_vec(),
            y: y.to_vec(),
            slope,
        })
    }

    #[must_use]
    pub fn eval(&self, t: f64) -> f64 {
        let i = interval(&self.x, t);
        let h = self.x[i + 1] - self.x[i];
        let s = ((t - self.x[i]) / h).clamp(0.0, 1.0);
        let (h00, h10) = (
            2.0 * s * s * s - 3.0 * s * s + 1.0,
            s * s * s - 2.0 * s * s + s,
        );
        let (h01, h11) = (-2.0 * s * s * s + 3.0 * s * s, s * s * s - s * s);
        h00 * self.y[i]
            + h10 * h * self.slope[i]
            + h01 * self.y[i + 1]
            + h11 * h * self.slope[i + 1]
    }
}

/// SciPy's one-sided three-point end slope, limited to keep the interpolant monotone.
fn end_slope(h0: f64, h1: f64, d0: f64, d1: f64) -> f64 {
    let d = ((2.0 * h0 + h1) * d0 - h0 * d1) / (h0 + h1);
    if d.signum() != d0.signum() {
        0.0
    } else if d0.signum() != d1.signum() && d.abs() > 3.0 * d0.abs() {
        3.0 * d0
    } else {
        d
    }
}
