//! Number formats shared by the tables and captions.

/// A fraction in [0, 1] as accuracy points with 2 decimals; `-` when absent.
#[must_use]
pub fn points(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{:.2}", 100.0 * v))
}

/// A number with `decimals` decimals; `-` when absent or not finite.
#[must_use]
pub fn fixed(v: Option<f64>, decimals: usize) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.decimals$}"),
        _ => "-".to_owned(),
    }
}

/// A large quantity in scientific notation with 3 significant digits, e.g. `3.81e24`.
#[must_use]
pub fn sci(v: f64) -> String {
    format!("{v:.2e}")
}

/// A law parameter: 4 decimals, scientific when very large or small, and `≈0` below 1e-6 in
/// magnitude (a parameter the fit pushed to its bound of 0; its digits are solver noise).
#[must_use]
pub fn param(v: f64) -> String {
    if !v.is_finite() {
        return "-".to_owned();
    }
    let a = v.abs();
    if a != 0.0 && a < 1e-6 {
        return "≈0".to_owned();
    }
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{v:.3e}")
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// `1 thing` or `n things`.
#[must_use]
pub fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// A share in [0, 1] as a percentage with 1 decimal.
#[must_use]
pub fn percent(v: f64) -> String {
    format!("{:.1}%", 100.0 * v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(points(Some(0.75823)), "75.82");
        assert_eq!(points(None), "-");
        assert_eq!(fixed(Some(f64::NAN), 3), "-");
        assert_eq!(fixed(Some(0.01234), 3), "0.012");
        assert_eq!(sci(3.81e24), "3.81e24");
        assert_eq!(param(18.798_123), "18.7981");
        assert_eq!(param(1_850_098_658.153), "1.850e9");
        assert_eq!(param(0.25), "0.25");
        assert_eq!(param(0.0), "0");
        assert_eq!(param(1e-9), "≈0");
        assert_eq!(param(2e-4), "2.000e-4");
        assert_eq!(count(1, "item", "items"), "1 item");
        assert_eq!(count(3, "item", "items"), "3 items");
        assert_eq!(percent(0.867), "86.7%");
    }
}
