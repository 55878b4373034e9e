//! The recommendation and the calibrated intervals that the `recommend` and `ladder-recommend`
//! stages add to a `predictions` or `ladder-fits` artifact.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::{MethodKey, PredictionRow};

/// The name of the recommended row in `predictions.json` and `predictions.csv`; it sorts first.
pub const RECOMMENDED: &str = "recommended";

/// A backtest-chosen prediction per entry and every method's calibrated interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// The nominal coverage of every calibrated interval, e.g. 0.9.
    pub level: f64,
    /// How the recommendation is chosen: `best` (the lowest backtest error) or `weighted`.
    pub choice: String,
    /// What the extrapolation scores are pooled over, in words.
    pub pooled: String,
    /// The error model of each method, in method order, then, when `choice` is `weighted`, the
    /// combination's (its rows combined with the other holdouts' weights).
    pub methods: Vec<MethodCalibration>,
    /// One per prediction entry, in the artifact's entry order.
    pub entries: Vec<EntryCalibration>,
    /// The backtest's reach: the farthest extrapolation distance among its scored rows, in
    /// decades of compute. A target beyond it gets an extrapolation share the backtest never
    /// checked at that distance: t · d assumes errors keep growing in proportion to d.
    pub reach: Option<f64>,
}

/// One method's backtest scores and the error model they give: each interval is q̂ · s, with
/// s = sqrt(σ_a² + σ_c² + (t·d)²) from its bootstrap (a), its binomial noise (c) and t times its
/// extrapolation distance d (b).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MethodCalibration {
    pub method: String,
    /// Backtest rows scored (a prediction, an actual value and a positive distance).
    pub scores: usize,
    /// t: the root mean square of the rows' |error| / distance, in accuracy per decade of
    /// compute.
    pub per_decade: Option<f64>,
    /// q̂: the split-conformal quantile of the rows' |error| / s, a multiplier of the spread
    /// (z = 1.645 would mean the spread is exactly a normal's standard deviation).
    pub quantile: Option<f64>,
    /// The coverage the scores can promise: `level`, or n/(n + 1) when there are too few for it.
    pub achieved: f64,
    /// The backtest rows whose interval, calibrated without their own benchmark's rows (or, with
    /// one benchmark, without the row itself), holds the actual value: (held, rows).
    pub backtest_coverage: (usize, usize),
    /// Those intervals' mean width and the rows' mean abs error.
    pub backtest_width: f64,
    pub backtest_error: f64,
}

/// One entry's recommendation and intervals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntryCalibration {
    /// The entry's key, as its artifact names it (`benchmark`, or `target/benchmark`).
    pub name: String,
    /// The target's extrapolation distance: decades of compute beyond the ladder's mean.
    pub distance: f64,
    /// The benchmark's item count, when known (for the binomial term).
    pub items: Option<usize>,
    /// The target's observed accuracy, when known.
    pub actual: Option<f64>,
    pub recommended: Recommendation,
    /// Every method with a prediction, in method order.
    pub intervals: Vec<CalibratedInterval>,
}

/// The prediction a user should read first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// The chosen method, or `weighted` for the backtest-weighted combination.
    pub method: String,
    /// The combination's weights (method, weight), when `weighted`.
    pub weights: Vec<(String, f64)>,
    pub prediction: Option<f64>,
    /// The chosen method's mean abs backtest error on this entry's benchmark.
    pub backtest_error: Option<f64>,
    /// `no-change` did at least as well in the backtest as the chosen method (or the
    /// combination): the ladder gives no evidence of further gain.
    pub no_gain: bool,
    pub interval: Option<CalibratedInterval>,
    /// Why the choice is what it is, when it is not the plain backtest winner.
    pub note: Option<String>,
}

/// A calibrated interval and each source's share of its half-width, which add in quadrature.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibratedInterval {
    pub method: String,
    pub prediction: f64,
    /// (lower, upper), clipped to [0, 1].
    pub interval: (f64, f64),
    /// (a) the fit's sampling spread: q̂ · σ_a, σ_a = half the bootstrap interval's width / z.
    pub bootstrap: Option<f64>,
    /// (b) the extrapolation error: q̂ · t · d at the target's distance d.
    pub extrapolation: Option<f64>,
    /// (c) the target's measurement noise: q̂ · sqrt(p(1 − p)/n).
    pub binomial: Option<f64>,
}

impl CalibratedInterval {
    /// Whether the interval holds `value`.
    #[must_use]
    pub fn holds(&self, value: f64) -> bool {
        self.interval.0 <= value && value <= self.interval.1
    }
}

impl Calibration {
    /// The entry named `name`.
    #[must_use]
    pub fn entry(&self, name: &str) -> Option<&EntryCalibration> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// The headline sentence for one entry: the number, its interval and the method.
    #[must_use]
    pub fn headline(&self, entry: &EntryCalibration) -> String {
        let r = &entry.recommended;
        let Some(p) = r.prediction else {
            return format!(
                "{}: no recommendation ({})",
                entry.name,
                r.note.as_deref().unwrap_or("no method predicted it")
            );
        };
        let interval = r.interval.as_ref().map_or_else(String::new, |i| {
            format!(
                " ({:.0}% interval {:.1}–{:.1})",
                100.0 * self.level,
                100.0 * i.interval.0,
                100.0 * i.interval.1
            )
        });
        let error = r.backtest_error.map_or_else(String::new, |e| {
            format!(", backtest error {:.2} points", 100.0 * e)
        });
        let mut line = format!(
            "{}: {:.1}{interval} by {}{error}",
            entry.name,
            100.0 * p,
            r.method
        );
        if r.no_gain {
            line.push_str(
                "; no-change did at least as well in the backtest, so the ladder gives no \
                 evidence of further gain",
            );
        }
        if let Some(note) = &r.note {
            let _ = write!(line, "; {note}");
        }
        line
    }

    /// The entries whose target lies beyond the backtest's [`reach`](Calibration::reach), as a
    /// sentence giving their distances and the reach; `None` when every target lies within it.
    #[must_use]
    pub fn beyond_reach(&self) -> Option<String> {
        let reach = self.reach?;
        let beyond: Vec<f64> = self
            .entries
            .iter()
            .map(|e| e.distance)
            .filter(|d| d.is_finite() && *d > reach)
            .collect();
        if beyond.is_empty() {
            return None;
        }
        let lo = beyond.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = beyond.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let distances = if hi - lo < 0.005 {
            format!("{hi:.2}")
        } else {
            format!("{lo:.2}–{hi:.2}")
        };
        let which = if self.entries.len() == 1 {
            "the target lies".to_owned()
        } else if beyond.len() == self.entries.len() {
            "the targets lie".to_owned()
        } else {
            format!(
                "{} of {} entries' targets lie",
                beyond.len(),
                self.entries.len()
            )
        };
        Some(format!(
            "{which} {distances} decades of compute beyond the ladder's mean, the backtest's \
             held-out models at most {reach:.2}: that far out, the extrapolation share assumes each \
             method's error keeps growing in proportion to distance, which the backtest could \
             not check (wide if errors grow more slowly, narrow if faster)"
        ))
    }

    /// The terminal summary: the headlines, then each method's calibration.
    #[must_use]
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "recommended ({} by backtest; {:.0}% intervals: bootstrap, extrapolation and binomial \
             spreads in quadrature, scaled by the conformal quantile of backtest scores pooled \
             over {}):",
            self.choice,
            100.0 * self.level,
            self.pooled
        );
        for e in &self.entries {
            let _ = writeln!(out, "  {}", self.headline(e));
        }
        if let Some(beyond) = self.beyond_reach() {
            let _ = writeln!(out, "  {beyond}");
        }
        let held: Vec<bool> = self
            .entries
            .iter()
            .filter_map(|e| Some(e.recommended.interval.as_ref()?.holds(e.actual?)))
            .collect();
        if !held.is_empty() {
            let _ = writeln!(
                out,
                "  the recommended interval holds the actual value in {} of {}",
                held.iter().filter(|h| **h).count(),
                held.len()
            );
        }
        let _ = writeln!(
            out,
            "  {:<22} {:>6} {:>9} {:>5} {:>8} {:>13} {:>7} {:>7}",
            "method", "scores", "t/decade", "q̂", "level", "bt coverage", "width", "error"
        );
        for m in &self.methods {
            let points = |v: Option<f64>| {
                v.filter(|v| v.is_finite())
                    .map_or_else(|| "-".to_owned(), |v| format!("{:.2}", 100.0 * v))
            };
            let _ = writeln!(
                out,
                "  {:<22} {:>6} {:>9} {:>5} {:>7.0}% {:>13} {:>7} {:>7}",
                m.method,
                m.scores,
                points(m.per_decade),
                m.quantile
                    .map_or_else(|| "-".to_owned(), |q| format!("{q:.2}")),
                100.0 * m.achieved,
                format!("{}/{}", m.backtest_coverage.0, m.backtest_coverage.1),
                points(Some(m.backtest_width)),
                points(Some(m.backtest_error)),
            );
        }
        out
    }

    /// Puts entry `name`'s calibrated intervals in place of the bootstrap's (kept as `bootstrap`)
    /// and adds its `recommended` row, which sorts first.
    pub(crate) fn apply(&self, name: &str, methods: &mut BTreeMap<MethodKey, PredictionRow>) {
        let Some(entry) = self.entry(name) else {
            return;
        };
        let mut actual = None;
        for (key, row) in methods.iter_mut() {
            actual = actual.or(row.actual);
            let calibrated = entry.intervals.iter().find(|i| i.method == key.0);
            row.bootstrap = row.interval.take();
            row.interval = calibrated.map(|i| i.interval);
        }
        let r = &entry.recommended;
        let actual = entry.actual.or(actual);
        methods.insert(
            MethodKey(RECOMMENDED.to_owned()),
            PredictionRow {
                prediction: r.prediction,
                actual,
                abs_error: r.prediction.zip(actual).map(|(p, a)| (p - a).abs()),
                interval: r.interval.as_ref().map(|i| i.interval),
                bootstrap: None,
                chosen: Some(r.method.clone()),
                backtest_error: r.backtest_error,
            },
        );
    }

    /// The invariants: intervals ordered and in [0, 1], entries named once.
    pub(crate) fn validate(&self) -> Result<(), String> {
        for e in &self.entries {
            for i in e.intervals.iter().chain(&e.recommended.interval) {
                crate::validate::interval(
                    i.interval,
                    &format!("calibrated interval of `{}`, method `{}`", e.name, i.method),
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calibration(reach: Option<f64>, distances: &[f64]) -> Calibration {
        let entry = |(i, d): (usize, &f64)| EntryCalibration {
            name: format!("task{i}"),
            distance: *d,
            items: None,
            actual: None,
            recommended: Recommendation {
                method: "no-change".to_owned(),
                weights: Vec::new(),
                prediction: Some(0.5),
                backtest_error: None,
                no_gain: true,
                interval: None,
                note: None,
            },
            intervals: Vec::new(),
        };
        Calibration {
            level: 0.9,
            choice: "weighted".to_owned(),
            pooled: "the 2 tasks".to_owned(),
            methods: Vec::new(),
            entries: distances.iter().enumerate().map(entry).collect(),
            reach,
        }
    }

    #[test]
    fn beyond_reach_names_the_targets_past_the_backtest() {
        let within = calibration(Some(1.5), &[1.2, 1.5, f64::NAN]);
        assert_eq!(within.beyond_reach(), None);
        assert_eq!(calibration(None, &[3.0]).beyond_reach(), None);

        let some = calibration(Some(1.5), &[1.2, 3.214, 3.6]).beyond_reach();
        let some = some.expect("two targets lie beyond 1.5 decades");
        assert!(
            some.starts_with(
                "2 of 3 entries' targets lie 3.21–3.60 decades of compute beyond the ladder's \
                 mean, the backtest's held-out models at most 1.50:"
            ),
            "{some}"
        );
        let all = calibration(Some(0.9), &[3.37, 3.372]).beyond_reach();
        // Two targets 0.002 decades apart read as one distance.
        assert!(
            all.expect("both lie beyond")
                .starts_with("the targets lie 3.37 decades"),
        );
        assert!(
            calibration(Some(0.9), &[3.37])
                .summary()
                .contains("\n  the target lies 3.37 decades")
        );
    }
}
