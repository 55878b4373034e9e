//! Law families.

/// A parametric curve y = f(x; p) with analytic gradient in p.
pub trait Law: Sync {
    /// Parameter names, in order.
    fn names(&self) -> &[&'static str];
    fn value(&self, x: f64, p: &[f64]) -> f64;
    /// ∂f/∂p at (x, p), written into `grad`.
    fn gradient(&self, x: f64, p: &[f64], grad: &mut [f64]);
    /// Inclusive bounds per parameter; infinite where unbounded.
    fn bounds(&self) -> Vec<(f64, f64)>;
    /// Starting points, each strictly inside the bounds.
    fn starts(&self) -> Vec<Vec<f64>>;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The analytic gradient agrees with central differences.
    fn check_gradient(law: &dyn Law, p: &[f64]) {
        let n = law.names().len();
        let p = p.to_vec();
        {
            for x in [0.5, 40.0, 1e5] {
                let mut grad = vec![0.0; n];
                law.gradient(x, &p, &mut grad);
                for k in 0..n {
                    let h = 1e-6 * p[k].abs().max(1e-3);
                    let (mut up, mut down) = (p.clone(), p.clone());
                    up[k] += h;
                    down[k] -= h;
                    let numeric = (law.value(x, &up) - law.value(x, &down)) / (2.0 * h);
                    // Central differences carry ~1e-10 of rounding at these step sizes, hence the
                    // absolute floor of 1e-9 beside the 1e-6 relative tolerance.
                    assert!(
                        (numeric - grad[k]).abs() <= 1e-6 * numeric.abs().max(1e-3),
                        "x={x} k={k}: {numeric} vs {}",
                        grad[k]
                    );
                }
            }
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_gradient(&CodLaw { guess: None }, &[4.0, 0.3, 0.2, 0.2]);
        check_gradient(&CodLaw { guess: Some(0.25) }, &[4.0, 0.3, 0.2]);
        let bnsl = Bnsl {
            x_range: (40.0, 1.4e5),
        };
        check_gradient(&bnsl, &[0.1, 0.8, 0.05, 0.3, 2000.0, 0.7]);
    }
}
