//! Law families.

/// A parametric curve y = f(x; p) with analytic gradient in p.
pub trait Law: Sync {
    /// What the law is a function of: compute (`f64`) for most laws, (N, D) for the ladder's step 1.
    type Input: Copy + Sync;

    /// Parameter names, in order.
    fn names(&self) -> &[&'static str];
    fn value(&self, x: Self::Input, p: &[f64]) -> f64;
    /// ∂f/∂p at (x, p), written into `grad`.
    fn gradient(&self, x: Self::Input, p: &[f64], grad: &mut [f64]);
    /// Inclusive bounds per parameter; infinite where unbounded.
    fn bounds(&self) -> Vec<(f64, f64)>;
    /// Starting points, each strictly inside the bounds.
    fn starts(&self) -> Vec<Vec<f64>>;
}

/// A law started from given points instead of its own grid: a bootstrap refit starts from the
/// full data's optimum.
#[derive(Clone, Debug, PartialEq)]
pub struct Restarted<L> {
    pub law: L,
    pub starts: Vec<Vec<f64>>,
}

impl<L: Law> Law for Restarted<L> {
    type Input = L::Input;
    fn names(&self) -> &[&'static str] {
        self.law.names()
    }
    fn value(&self, x: Self::Input, p: &[f64]) -> f64 {
        self.law.value(x, p)
    }
    fn gradient(&self, x: Self::Input, p: &[f64], grad: &mut [f64]) {
        self.law.gradient(x, p, grad);
    }
    fn bounds(&self) -> Vec<(f64, f64)> {
        self.law.bounds()
    }
    fn starts(&self) -> Vec<Vec<f64>> {
        self.starts.clone()
    }
}

/// The `q` quantile of sorted values, interpolating linearly between order statistics (NumPy's
/// default).
#[must_use]
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// The COD law (METHODS §1.3): y(C) = g + (1 − g)·exp(−a·C^(−b) − c), C in units of 1e18 FLOPs,
/// with a, b > 0, c ≥ 0 and 0 ≤ g ≤ 1. With `guess` set, g is fixed and the parameters are
/// (a, b, c); else (a, b, c, g).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CodLaw {
    pub guess: Option<f64>,
}

impl CodLaw {
    /// (a, b, c, g) from a parameter vector of this law.
    #[must_use]
    pub fn abcg(&self, p: &[f64]) -> (f64, f64, f64, f64) {
        (p[0], p[1], p[2], self.guess.unwrap_or_else(|| p[3]))
    }
}

impl Law for CodLaw {
    type Input = f64;

    fn names(&self) -> &[&'static str] {
        if self.guess.is_some() {
            &["a", "b", "c"]
        } else {
            &["a", "b", "c", "g"]
        }
    }

    fn value(&self, x: f64, p: &[f64]) -> f64 {
        let (a, b, c, g) = self.abcg(p);
        g + (1.0 - g) * (-a * x.powf(-b) - c).exp()
    }

    fn gradient(&self, x: f64, p: &[f64], grad: &mut [f64]) {
        let (a, b, c, g) = self.abcg(p);
        let s = x.powf(-b);
        let e = (-a * s - c).exp();
        grad[0] = -(1.0 - g) * e * s;
        grad[1] = (1.0 - g) * e * a * s * x.ln();
        grad[2] = -(1.0 - g) * e;
        if self.guess.is_none() {
            grad[3] = 1.0 - e;
        }
    }

    fn bounds(&self) -> Vec<(f64, f64)> {
        let mut b = vec![
            (0.0, f64::INFINITY),
            (0.0, f64::INFINITY),
            (0.0, f64::INFINITY),
        ];
        if self.guess.is_none() {
            b.push((0.0, 1.0));
        }
        b
    }

    fn starts(&self) -> Vec<Vec<f64>> {
        let mut starts = Vec::new();
        for a in [0.5, 3.0, 20.0, 150.0] {
            for b in [0.05, 0.2, 0.5] {
                for c in [0.01, 0.3] {
                    match self.guess {
                        Some(_) => starts.push(vec![a, b, c]),
                        None => {
                            for g in [0.05, 0.25, 0.5] {
                                starts.push(vec![a, b, c, g]);
                            }
                        }
                    }
                }
            }
        }
        starts
    }
}

/// The smoothly broken power law with one break (BNSL, METHODS §3):
/// y = a + b·x^(−c0)·(1 + (x/d)^(1/f))^(−c1·f), parameters (a, b, c0, c1, d, f) with b, d, f > 0 and
/// 0 ≤ a ≤ 1. It describes a quantity that falls with compute, so `cod` fits it to the error rate
/// 1 − accuracy. `x_range` (the ladder's compute span) places the starting breaks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bnsl {
    pub x_range: (f64, f64),
}

impl Law for Bnsl {
    type Input = f64;

    fn names(&self) -> &[&'static str] {
        &["a", "b", "c0", "c1", "d", "f"]
    }

    fn value(&self, x: f64, p: &[f64]) -> f64 {
        let (a, b, c0, c1, d, f) = (p[0], p[1], p[2], p[3], p[4], p[5]);
        let u = (x / d).powf(1.0 / f);
        a + b * x.powf(-c0) * (1.0 + u).powf(-c1 * f)
    }

    fn gradient(&self, x: f64, p: &[f64], grad: &mut [f64]) {
        let (b, c0, c1, d, f) = (p[1], p[2], p[3], p[4], p[5]);
        let u = (x / d).powf(1.0 / f);
        let s0 = x.powf(-c0);
        let t = (1.0 + u).powf(-c1 * f);
        let base = b * s0 * t;
        grad[0] = 1.0;
        grad[1] = s0 * t;
        grad[2] = -base * x.ln();
        grad[3] = -base * f * u.ln_1p();
        grad[4] = base * c1 * u / ((1.0 + u) * d);
        grad[5] = base * (-c1 * u.ln_1p() + c1 * u * (x / d).ln() / (f * (1.0 + u)));
    }

    fn bounds(&self) -> Vec<(f64, f64)> {
        vec![
            (0.0, 1.0),
            (0.0, f64::INFINITY),
            (f64::NEG_INFINITY, f64::INFINITY),
            (f64::NEG_INFINITY, f64::INFINITY),
            (0.0, f64::INFINITY),
            (0.0, f64::INFINITY),
        ]
    }

    fn starts(&self) -> Vec<Vec<f64>> {
        let (lo, hi) = self.x_range;
        let breaks = [lo, (lo * hi).sqrt(), hi];
        let mut starts = Vec::new();
        for a in [0.05, 0.3] {
            for c0 in [0.0, 0.2] {
                for c1 in [0.1, 0.5] {
                    for &d in &breaks {
                        for f in [0.3, 1.0] {
                            starts.push(vec![a, 0.7, c0, c1, d, f]);
                        }
                    }
                }
            }
        }
        starts
    }
}

/// A monotone quartic polynomial through (0, 0) and (1, 1), the earlier papers' mapping: f = F/F(1)
/// with F' = x·(a0 + a1·x)² + (1 − x)·(b0 + b1·x)², a cubic that is non-negative on [0, 1] for any
/// parameters (and every non-negative cubic on [0, 1] has this form), so every fit is monotone.
/// Parameters (a0, a1, b0, b1), unbounded; their common scale does not change f.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MonotoneQuartic;

impl MonotoneQuartic {
    /// F(x) and its gradient in the parameters.
    fn integral(x: f64, p: &[f64]) -> (f64, [f64; 4]) {
        let (a0, a1, b0, b1) = (p[0], p[1], p[2], p[3]);
        let (x2, x3, x4) = (x * x, x * x * x, x * x * x * x);
        let f = a0 * a0 * x2 / 2.0 + 2.0 * a0 * a1 * x3 / 3.0 + a1 * a1 * x4 / 4.0 + b0 * b0 * x
            - b0 * b0 * x2 / 2.0
            + b0 * b1 * x2
            + (b1 * b1 - 2.0 * b0 * b1) * x3 / 3.0
            - b1 * b1 * x4 / 4.0;
        let grad = [
            a0 * x2 + 2.0 * a1 * x3 / 3.0,
            2.0 * a0 * x3 / 3.0 + a1 * x4 / 2.0,
            2.0 * b0 * x + (b1 - b0) * x2 - 2.0 * b1 * x3 / 3.0,
            b0 * x2 + 2.0 * (b1 - b0) * x3 / 3.0 - b1 * x4 / 2.0,
        ];
        (f, grad)
    }
}

impl Law for MonotoneQuartic {
    type Input = f64;

    fn names(&self) -> &[&'static str] {
        &["a0", "a1", "b0", "b1"]
    }

    fn value(&self, x: f64, p: &[f64]) -> f64 {
        Self::integral(x, p).0 / Self::integral(1.0, p).0
    }

    fn gradient(&self, x: f64, p: &[f64], grad: &mut [f64]) {
        let (fx, gx) = Self::integral(x, p);
        let (f1, g1) = Self::integral(1.0, p);
        for k in 0..4 {
            grad[k] = (gx[k] * f1 - fx * g1[k]) / (f1 * f1);
        }
    }

    fn bounds(&self) -> Vec<(f64, f64)> {
        vec![(f64::NEG_INFINITY, f64::INFINITY); 4]
    }

    fn starts(&self) -> Vec<Vec<f64>> {
        // The identity (F' = 1) and tilts towards either end.
        vec![
            vec![1.0, 0.0, 1.0, 0.0],
            vec![1.5, 0.0, 0.5, 0.0],
            vec![0.5, 0.0, 1.5, 0.0],
            vec![1.0, 0.5, 1.0, -0.5],
            vec![1.0, -0.5, 1.0, 0.5],
        ]
    }
}

/// Test support: at every x of `xs`, `law`'s analytic gradient at `p` agrees with central
/// differences to 1e-6 relative, with an absolute floor of 1e-9 (the differences carry ~1e-10 of
/// rounding at these step sizes).
#[cfg(test)]
pub(crate) fn check_gradient<L: Law + ?Sized>(law: &L, xs: &[L::Input], p: &[f64]) {
    let n = law.names().len();
    for &x in xs {
        let mut grad = vec![0.0; n];
        law.gradient(x, p, &mut grad);
        for k in 0..n {
            let h = 1e-6 * p[k].abs().max(1e-3);
            let (mut up, mut down) = (p.to_vec(), p.to_vec());
            up[k] += h;
            down[k] -= h;
            let numeric = (law.value(x, &up) - law.value(x, &down)) / (2.0 * h);
            assert!(
                (numeric - grad[k]).abs() <= 1e-6 * numeric.abs().max(1e-3),
                "{k}: {numeric} vs {}",
                grad[k]
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where the COD-style laws are checked: compute 0.5 to 1e5.
    const XS: [f64; 3] = [0.5, 40.0, 1e5];

    #[test]
    fn gradients_match_finite_differences() {
        check_gradient(&CodLaw { guess: None }, &XS, &[4.0, 0.3, 0.2, 0.2]);
        check_gradient(&CodLaw { guess: Some(0.25) }, &XS, &[4.0, 0.3, 0.2]);
        let bnsl = Bnsl {
            x_range: (40.0, 1.4e5),
        };
        check_gradient(&bnsl, &XS, &[0.1, 0.8, 0.05, 0.3, 2000.0, 0.7]);
    }

    #[test]
    fn quartic_is_pinned_monotone_and_smooth_in_its_parameters() {
        let q = MonotoneQuartic;
        for p in [
            [1.0, 0.0, 1.0, 0.0],
            [2.0, -1.5, 0.3, 0.9],
            [0.2, 3.0, -1.0, 0.4],
        ] {
            assert!(q.value(0.0, &p).abs() < 1e-12);
            assert!((q.value(1.0, &p) - 1.0).abs() < 1e-12);
            let mut last = 0.0;
            for i in 1..=100 {
                let v = q.value(f64::from(i) / 100.0, &p);
                assert!(v >= last - 1e-12, "{p:?} falls at {i}");
                last = v;
            }
        }
        // The identity start is f(x) = x.
        assert!((q.value(0.3, &[1.0, 0.0, 1.0, 0.0]) - 0.3).abs() < 1e-12);
        // The gradient, checked away from x = 0 and 1 where it vanishes.
        let p = [2.0, -1.5, 0.3, 0.9];
        let mut grad = [0.0; 4];
        for x in [0.2, 0.5, 0.9] {
            q.gradient(x, &p, &mut grad);
            for k in 0..4 {
                let h = 1e-6;
                let (mut up, mut down) = (p, p);
                up[k] += h;
                down[k] -= h;
                let numeric = (q.value(x, &up) - q.value(x, &down)) / (2.0 * h);
                assert!((numeric - grad[k]).abs() < 1e-7, "x={x} k={k}");
            }
        }
    }
}
