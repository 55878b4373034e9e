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

#[cfg(test)]
mod tests {
    use super::*;

    /// The analytic gradient agrees with central differences.
    #[test]
    fn gradient_matches_finite_differences() {
        for law in [CodLaw { guess: None }, CodLaw { guess: Some(0.25) }] {
            let n = law.names().len();
            let p: Vec<f64> = [4.0, 0.3, 0.2, 0.2][..n].to_vec();
            for x in [0.5, 40.0, 1e5] {
                let mut grad = vec![0.0; n];
                law.gradient(x, &p, &mut grad);
                for k in 0..n {
                    let h = 1e-6 * p[k].abs().max(1e-3);
                    let (mut up, mut down) = (p.clone(), p.clone());
                    up[k] += h;
                    down[k] -= h;
                    let numeric = (law.value(x, &up) - law.value(x, &down)) / (2.0 * h);
                    assert!(
                        (numeric - grad[k]).abs() <= 1e-6 * numeric.abs().max(1e-6),
                        "x={x} k={k}: {numeric} vs {}",
                        grad[k]
                    );
                }
            }
        }
    }
}
