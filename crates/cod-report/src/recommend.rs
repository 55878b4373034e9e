//! The recommendation at the top of both reports: a headline sentence per entry (all of them when
//! few, else the largest) and a table of every entry's recommendation and calibrated interval.

use cod_artifact::Calibration;

use crate::doc::{Block, Ids, Section, Table};
use crate::format::{fixed, points};

/// Entries named in the introduction; with more, the table lists them all.
const HEADLINES: usize = 4;

/// The headline sentences: every entry's when there are at most [`HEADLINES`], else `main`'s (the
/// entry a reader most likely wants, e.g. the union of tasks) and a pointer to the table.
pub fn headlines(calibration: &Calibration, main: Option<&str>) -> Vec<String> {
    let entries = &calibration.entries;
    if entries.len() <= HEADLINES {
        return entries
            .iter()
            .map(|e| format!("Recommended: {}.", calibration.headline(e)))
            .collect();
    }
    let first = main
        .and_then(|name| calibration.entry(name))
        .or(entries.first());
    first
        .map(|e| {
            format!(
                "Recommended: {}. The recommendation for each of the {} entries is in the \
                 first table.",
                calibration.headline(e),
                entries.len()
            )
        })
        .into_iter()
        .collect()
}

/// The section: one row per entry, then how the intervals were calibrated.
pub fn section(ids: &mut Ids, calibration: &Calibration) -> Section {
    let level = format!("{:.0}%", 100.0 * calibration.level);
    let mut table = Table::new(
        &format!(
            "The recommended prediction per entry (accuracy in points), chosen by the backtest \
             ({}), with its calibrated {level} interval",
            calibration.choice
        ),
        &[
            "entry",
            "method",
            "predicted",
            "lower",
            "upper",
            "backtest error",
            "actual",
        ],
        2,
    );
    for e in &calibration.entries {
        let r = &e.recommended;
        let interval = r.interval.as_ref().map(|i| i.interval);
        table.row(vec![
            e.name.clone(),
            if r.no_gain {
                format!("{} (no gain)", r.method)
            } else {
                r.method.clone()
            },
            points(r.prediction),
            points(interval.map(|i| i.0)),
            points(interval.map(|i| i.1)),
            points(r.backtest_error),
            points(e.actual),
        ]);
    }
    let mut methods = Table::new(
        &format!(
            "Each method's calibration: backtest rows scored, their extrapolation error per \
             decade of compute t, the conformal multiplier q̂ of their scores and the level it \
             supports, and the {level} intervals' coverage of the backtest's held-out models, \
             each calibrated without its own benchmark"
        ),
        &[
            "method",
            "scores",
            "t (points per decade)",
            "q̂",
            "level",
            "held",
            "mean width",
            "mean error",
        ],
        1,
    );
    for m in &calibration.methods {
        methods.row(vec![
            m.method.clone(),
            m.scores.to_string(),
            points(m.per_decade),
            fixed(m.quantile, 2),
            format!("{:.0}%", 100.0 * m.achieved),
            format!("{}/{}", m.backtest_coverage.0, m.backtest_coverage.1),
            points(Some(m.backtest_width).filter(|v| v.is_finite())),
            points(Some(m.backtest_error).filter(|v| v.is_finite())),
        ]);
    }
    let mut blocks = vec![Block::Table(table)];
    if let Some(beyond) = calibration.beyond_reach() {
        let mut sentence = beyond;
        sentence[..1].make_ascii_uppercase();
        blocks.push(Block::Paragraph(format!("{sentence}.")));
    }
    blocks.extend([
        Block::Paragraph(format!(
            "Each {level} interval is q̂ · s around the prediction. The spread s adds three \
             sources in quadrature: the fit's sampling spread (the bootstrap interval's \
             half-width / 1.645, when bootstrapped), the extrapolation error t · d (t the \
             root mean square of the backtest's errors per decade of compute, d the decades \
             from the fitted models' mean log10 compute to the predicted model's), and the \
             binomial noise sqrt(p(1−p)/n) of an n-item benchmark. q̂ is the split-conformal \
             quantile of the backtest's |error| / s, pooled over {}: a backtest error \
             already holds its model's sampling and measurement noise, so the quantile \
             calibrates the three together instead of adding them twice. The `weighted` row \
             is the combination's own calibration, on backtest rows each combined with the \
             weights of the other holdouts; where it did no better than no-change, no-change \
             is recommended. With fewer than 9 scores there is no 90% conformal quantile; \
             the largest score is used and the level column says what it supports.",
            calibration.pooled
        )),
        Block::Table(methods),
    ]);
    Section {
        id: ids.make("section", "recommendation"),
        title: "Recommendation".to_owned(),
        blocks,
    }
}
