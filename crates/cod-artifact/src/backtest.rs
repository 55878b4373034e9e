use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::{Artifact, ArtifactKind, csv_field};

/// A backtest (METHODS §4): the ladder's largest models held out in turn, each predicted by every
/// method from the smaller ones, with each method's absolute error. The output of the `backtest`
/// and `ladder-backtest` stages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Backtest {
    /// The stage kind that made it: `backtest` (per-item methods) or `ladder-backtest`.
    pub kind: String,
    /// What every holdout shares, as (what, description): the clustering, fit and mapping, or the
    /// ladder's options, and the anchors.
    pub fixed: Vec<(String, String)>,
    /// K, the number of holdouts asked for.
    pub requested: usize,
    /// Why fewer than `requested` holdouts ran, when they did.
    pub note: Option<String>,
    /// Methods whose prediction reads a held-out model's observed values (the ladder's
    /// `ladder-step2`, step 2 at the observed loss): shown, but never counted as a winner.
    pub diagnostics: Vec<String>,
    /// Methods that are another method under other options, as (variant, the method it varies):
    /// the ladder's `[ladder] variants`, e.g. (`ladder[paper]`, `ladder`). Scored and compared
    /// with their method in a table of their own, never a winner or a candidate for the
    /// recommendation.
    pub variants: Vec<(String, String)>,
    pub holdouts: Vec<Holdout>,
    /// One row per (holdout, held-out model, benchmark, method), in that order.
    pub rows: Vec<BacktestRow>,
}

/// One holdout: what was predicted and from what.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Holdout {
    /// k: the k-th largest ladder model (or model size, for training runs) is held out.
    pub k: usize,
    /// The held-out models (per-item data) or training runs (the ladder): the targets.
    pub held_out: Vec<String>,
    /// The ladder models or runs every method was fitted on, in increasing compute.
    pub fitted: Vec<String>,
    /// Models or runs removed before fitting and never read: the larger ladder models and the
    /// original targets.
    pub dropped: Vec<String>,
}

/// One method's prediction of one held-out model on one benchmark (or task).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BacktestRow {
    pub holdout: usize,
    pub held_out: String,
    pub benchmark: String,
    pub method: String,
    pub prediction: Option<f64>,
    /// The held-out model's observed value of what the method predicts.
    pub actual: Option<f64>,
    /// |prediction − actual| when both are known.
    pub abs_error: Option<f64>,
    /// The method's bootstrap interval for the prediction, when the backtest computed one.
    pub interval: Option<(f64, f64)>,
    /// Why there is no prediction, or what was unusual.
    pub note: Option<String>,
}

/// How often one method's backtest intervals hold the held-out actual value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Coverage {
    /// Rows with both an interval and an actual value.
    pub rows: usize,
    /// Of those, the rows whose interval holds the actual.
    pub held: usize,
    /// Mean interval width.
    pub mean_width: f64,
}

/// The name of the backtest's CSV file.
pub const BACKTEST_CSV: &str = "backtest.csv";
/// The name of the backtest's Markdown file.
pub const BACKTEST_MD: &str = "backtest.md";

/// Mean and max absolute error of one method over some rows, and how many of them it scored
/// (mean and max are NaN when it scored none).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ErrorStats {
    pub mean: f64,
    pub max: f64,
    pub scored: usize,
    pub rows: usize,
}

impl ErrorStats {
    fn of<'a>(rows: impl Iterator<Item = &'a BacktestRow>) -> ErrorStats {
        let (mut sum, mut max, mut scored, mut total) = (0.0, f64::NAN, 0, 0);
        for r in rows {
            total += 1;
            if let Some(e) = r.abs_error {
                sum += e;
                max = e.max(max);
                scored += 1;
            }
        }
        ErrorStats {
            mean: if scored > 0 {
                sum / scored as f64
            } else {
                f64::NAN
            },
            max,
            scored,
            rows: total,
        }
    }
}

/// A benchmark's (or task's) best method over every holdout.
#[derive(Clone, Debug, PartialEq)]
pub struct Winner {
    pub benchmark: String,
    /// The methods with the lowest mean abs error among those scored on every row of the
    /// benchmark: one, or several tied at exactly the same error (identical predictions); empty
    /// when no method was scored.
    pub methods: Vec<String>,
    pub mean: f64,
    /// The best of the others and its mean abs error.
    pub runner_up: Option<(String, f64)>,
}

fn unique<'a>(values: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// How much lower a variant's mean abs error must be than its method's own to win (1e-4 points).
pub const VARIANT_TIE: f64 = 1e-6;

impl Backtest {
    /// Whether `method` competes: neither a diagnostic nor a variant.
    #[must_use]
    pub fn competes(&self, method: &str) -> bool {
        !self.diagnostics.iter().any(|d| d == method) && !self.is_variant(method)
    }

    /// Whether `method` is a variant of another method's options.
    #[must_use]
    pub fn is_variant(&self, method: &str) -> bool {
        self.variants.iter().any(|(v, _)| v == method)
    }

    /// Per benchmark, among each varied method and its variants, the one with the lowest mean abs
    /// error over every holdout (of those scored on every row any of them was): (benchmark,
    /// winner, its mean, the varied method's own mean). A variant must beat the method's own
    /// options by more than [`VARIANT_TIE`]: closer is the optimizer's rounding (e.g. a fit that
    /// shares parameters across tasks whose data are the same), a tie the own options win.
    #[must_use]
    pub fn variant_winners(&self) -> Vec<(String, String, f64, f64)> {
        let bases = unique(self.variants.iter().map(|(_, b)| b.as_str()));
        let mut out = Vec::new();
        for bench in self.benchmarks() {
            for base in &bases {
                let family: Vec<&str> = std::iter::once(*base)
                    .chain(
                        self.variants
                            .iter()
                            .filter(|(_, b)| b == base)
                            .map(|(v, _)| v.as_str()),
                    )
                    .collect();
                let stats: Vec<(&str, ErrorStats)> = family
                    .iter()
                    .map(|m| {
                        let rows = self
                            .rows
                            .iter()
                            .filter(|r| r.benchmark == bench && r.method == *m);
                        (*m, ErrorStats::of(rows))
                    })
                    .collect();
                let most = stats.iter().map(|(_, s)| s.scored).max().unwrap_or(0);
                let own = stats.first().map_or(f64::NAN, |(_, s)| s.mean);
                let complete = |s: &ErrorStats| most > 0 && s.scored == most;
                let best = stats
                    .iter()
                    .filter(|(_, s)| complete(s))
                    .min_by(|a, b| a.1.mean.total_cmp(&b.1.mean));
                let own_complete = stats.first().is_some_and(|(_, s)| complete(s));
                if let Some((m, s)) = best {
                    let (winner, mean) = if own_complete && own - s.mean <= VARIANT_TIE {
                        (*base, own)
                    } else {
                        (*m, s.mean)
                    };
                    out.push((bench.to_owned(), winner.to_owned(), mean, own));
                }
            }
        }
        out
    }

    /// The methods in order of first appearance.
    #[must_use]
    pub fn methods(&self) -> Vec<&str> {
        unique(self.rows.iter().map(|r| r.method.as_str()))
    }

    /// The benchmarks (or tasks) in order of first appearance.
    #[must_use]
    pub fn benchmarks(&self) -> Vec<&str> {
        unique(self.rows.iter().map(|r| r.benchmark.as_str()))
    }

    /// Each method's error statistics over holdout `k`'s rows (every held-out model and
    /// benchmark), in method order.
    #[must_use]
    pub fn holdout_stats(&self, k: usize) -> Vec<(&str, ErrorStats)> {
        self.methods()
            .into_iter()
            .map(|m| {
                let rows = self.rows.iter().filter(|r| r.holdout == k && r.method == m);
                (m, ErrorStats::of(rows))
            })
            .collect()
    }

    /// The competing methods on `benchmark`, by increasing mean abs error over every holdout and
    /// held-out model. Only methods scored on every row of the benchmark that any method was
    /// scored on compete (a method that failed on the hard holdout must not win on the easy one),
    /// and never the `diagnostics`; a stable sort keeps the listed order among ties.
    #[must_use]
    pub fn ranking(&self, benchmark: &str) -> Vec<(&str, f64)> {
        self.ranking_without(benchmark, None)
    }

    /// [`Backtest::ranking`] over every holdout but `left_out`.
    #[must_use]
    pub fn ranking_without(&self, benchmark: &str, left_out: Option<usize>) -> Vec<(&str, f64)> {
        let rows: Vec<&BacktestRow> = self
            .rows
            .iter()
            .filter(|r| r.benchmark == benchmark && Some(r.holdout) != left_out)
            .collect();
        let stats: Vec<(&str, ErrorStats)> = self
            .methods()
            .into_iter()
            .filter(|m| self.competes(m))
            .map(|m| {
                (
                    m,
                    ErrorStats::of(rows.iter().copied().filter(|r| r.method == m)),
                )
            })
            .filter(|(_, s)| s.scored > 0)
            .collect();
        let most = stats.iter().map(|(_, s)| s.scored).max().unwrap_or(0);
        let mut complete: Vec<(&str, f64)> = stats
            .iter()
            .filter(|(_, s)| s.scored == most)
            .map(|&(m, s)| (m, s.mean))
            .collect();
        complete.sort_by(|a, b| a.1.total_cmp(&b.1));
        complete
    }

    /// Per benchmark, the method with the lowest mean abs error over every holdout and held-out
    /// model, among those [`Backtest::ranking`] lets compete. Methods tied at exactly the lowest
    /// error all win.
    #[must_use]
    pub fn winners(&self) -> Vec<Winner> {
        self.benchmarks()
            .into_iter()
            .map(|bench| {
                let complete = self.ranking(bench);
                let best = complete.first().map_or(f64::NAN, |(_, e)| *e);
                let tied = complete
                    .iter()
                    .take_while(|(_, e)| e.total_cmp(&best).is_eq())
                    .count();
                Winner {
                    benchmark: bench.to_owned(),
                    methods: complete[..tied]
                        .iter()
                        .map(|(m, _)| (*m).to_owned())
                        .collect(),
                    mean: best,
                    runner_up: complete.get(tied).map(|&(m, e)| (m.to_owned(), e)),
                }
            })
            .collect()
    }

    /// How many benchmarks each competing method wins (a tie is a win for each tied method), in
    /// method order, zeros included.
    #[must_use]
    pub fn win_counts(&self) -> Vec<(String, usize)> {
        let winners = self.winners();
        self.methods()
            .into_iter()
            .filter(|m| self.competes(m))
            .map(|m| {
                let wins = winners
                    .iter()
                    .filter(|w| w.methods.iter().any(|w| w == m))
                    .count();
                (m.to_owned(), wins)
            })
            .collect()
    }

    /// Per method with any interval, how often its intervals hold the actual value, over the rows
    /// it also predicted (those its errors are counted on); in method order.
    #[must_use]
    pub fn coverage(&self) -> Vec<(&str, Coverage)> {
        self.methods()
            .into_iter()
            .filter_map(|method| {
                let rows: Vec<((f64, f64), f64)> = self
                    .rows
                    .iter()
                    .filter(|r| r.method == method && r.prediction.is_some())
                    .filter_map(|r| Some((r.interval?, r.actual?)))
                    .collect();
                if rows.is_empty() {
                    return None;
                }
                let held = rows
                    .iter()
                    .filter(|((lo, hi), a)| lo <= a && a <= hi)
                    .count();
                let width = rows.iter().map(|((lo, hi), _)| hi - lo).sum::<f64>();
                Some((
                    method,
                    Coverage {
                        rows: rows.len(),
                        held,
                        mean_width: width / rows.len() as f64,
                    },
                ))
            })
            .collect()
    }

    /// Every row as CSV with a header; fractions in [0, 1].
    #[must_use]
    pub fn csv(&self) -> String {
        let cell = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v}"));
        let mut out = String::from(
            "holdout,held_out,benchmark,method,prediction,actual,abs_error,lower,upper,note\n",
        );
        for r in &self.rows {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{}",
                r.holdout,
                csv_field(&r.held_out),
                csv_field(&r.benchmark),
                csv_field(&r.method),
                cell(r.prediction),
                cell(r.actual),
                cell(r.abs_error),
                cell(r.interval.map(|i| i.0)),
                cell(r.interval.map(|i| i.1)),
                csv_field(r.note.as_deref().unwrap_or("")),
            );
        }
        out
    }

    /// The summary as Markdown: the same tables as [`Artifact::summary`].
    #[must_use]
    pub fn markdown(&self) -> String {
        let mut out = format!("# Backtest ({})\n\n", self.kind);
        for block in self.blocks() {
            match block {
                Block::Line(text) => {
                    out.push_str(&text);
                    out.push_str("\n\n");
                }
                Block::Heading(text) => {
                    let _ = write!(out, "## {text}\n\n");
                }
                Block::Table(t) => {
                    out.push_str(&t.markdown());
                    out.push('\n');
                }
                Block::List(t) => {
                    for row in &t.rows {
                        let _ = writeln!(out, "- {}: {}", row[0], row[1..].join(" "));
                    }
                    out.push('\n');
                }
            }
        }
        let _ = writeln!(
            out,
            "Every row (holdout, held-out model, benchmark, method) is in `{BACKTEST_CSV}`."
        );
        out
    }

    /// The files the backtest writes beside its artifact: `backtest.csv` and `backtest.md`.
    #[must_use]
    pub fn output_files(&self) -> Vec<(String, Vec<u8>)> {
        vec![
            (BACKTEST_CSV.to_owned(), self.csv().into_bytes()),
            (BACKTEST_MD.to_owned(), self.markdown().into_bytes()),
        ]
    }

    /// The summary of a backtest whose files were written into `dir`, saying where they are.
    #[must_use]
    pub fn summary_in(&self, dir: &std::path::Path) -> String {
        format!(
            "{}every row: {}; these tables: {}\n",
            self.summary(),
            dir.join(BACKTEST_CSV).display(),
            dir.join(BACKTEST_MD).display()
        )
    }

    /// `holdout k=1: 12B predicted from 7 models (122M … 7B); never read: 70B`.
    fn holdout_heading(&self, h: &Holdout) -> String {
        let unit = if self.kind == "ladder-backtest" {
            "run"
        } else {
            "model"
        };
        format!(
            "holdout k={}: {} predicted from {} ({}); never read: {}",
            h.k,
            h.held_out.join(", "),
            count(h.fitted.len(), unit),
            span(&h.fitted),
            if h.dropped.is_empty() {
                "none".to_owned()
            } else {
                h.dropped.join(", ")
            }
        )
    }

    /// Each method's mean and max abs error over holdout `k`, in points.
    fn holdout_table(&self, k: usize) -> Table {
        let mut t = Table::new(&[
            ("method", Left),
            ("mean", Right),
            ("max", Right),
            ("scored", Right),
        ]);
        for (method, s) in self.holdout_stats(k) {
            t.rows.push(vec![
                method.to_owned(),
                points(s.mean),
                points(s.max),
                format!("{}/{}", s.scored, s.rows),
            ]);
        }
        t
    }

    /// Per benchmark (or task), the winner and the runner-up.
    fn winner_table(&self, unit: &str) -> Table {
        let mut t = Table::new(&[
            (unit, Left),
            ("winner", Left),
            ("mean", Right),
            ("runner-up", Left),
            ("mean", Right),
        ]);
        for w in self.winners() {
            let (runner, runner_mean) = w
                .runner_up
                .map_or_else(|| ("-".to_owned(), f64::NAN), |(m, e)| (m, e));
            let winner = if w.methods.is_empty() {
                "none scored".to_owned()
            } else {
                w.methods.join(" = ")
            };
            t.rows.push(vec![
                w.benchmark,
                winner,
                points(w.mean),
                runner,
                points(runner_mean),
            ]);
        }
        t
    }

    /// The summary's content, rendered as text or Markdown.
    fn blocks(&self) -> Vec<Block> {
        let mut blocks = Vec::new();
        let what = if self.kind == "ladder-backtest" {
            "model size"
        } else {
            "ladder model"
        };
        blocks.push(Block::Line(format!(
            "backtest: {} ({} asked for), the k-th largest {what} predicted by every method from \
             the smaller ones; abs error in accuracy points",
            count(self.holdouts.len(), "holdout"),
            self.requested
        )));
        if let Some(note) = &self.note {
            blocks.push(Block::Line(format!("note: {note}")));
        }
        if !self.fixed.is_empty() {
            blocks.push(Block::Line("held fixed:".to_owned()));
            let mut t = Table::new(&[("", Left), ("", Left)]);
            t.rows = self
                .fixed
                .iter()
                .map(|(what, description)| vec![what.clone(), description.clone()])
                .collect();
            blocks.push(Block::List(t));
        }
        for d in &self.diagnostics {
            blocks.push(Block::Line(format!(
                "{d} reads the held-out model's observed values: a diagnostic, never a winner"
            )));
        }
        for h in &self.holdouts {
            blocks.push(Block::Heading(self.holdout_heading(h)));
            blocks.push(Block::Table(self.holdout_table(h.k)));
        }
        let unit = if self.kind == "ladder-backtest" {
            "task"
        } else {
            "benchmark"
        };
        blocks.push(Block::Heading(format!(
            "which method wins where: per {unit}, the lowest mean abs error over every holdout"
        )));
        blocks.push(Block::Table(self.winner_table(unit)));
        let wins: Vec<String> = self
            .win_counts()
            .into_iter()
            .map(|(m, n)| format!("{m} {n}"))
            .collect();
        blocks.push(Block::Line(format!("wins: {}", wins.join(", "))));
        let variant_winners = self.variant_winners();
        if !variant_winners.is_empty() {
            blocks.push(Block::Heading(format!(
                "which variant wins where: per {unit}, a method under its own options or under \
                 each variant (never a candidate for the recommendation)"
            )));
            let mut t = Table::new(&[
                (unit, Left),
                ("winner", Left),
                ("mean", Right),
                ("own options", Right),
            ]);
            let mut wins: Vec<(&str, usize)> = Vec::new();
            for (bench, winner, mean, own) in &variant_winners {
                t.rows.push(vec![
                    bench.clone(),
                    winner.clone(),
                    points(*mean),
                    points(*own),
                ]);
                match wins.iter_mut().find(|(m, _)| m == winner) {
                    Some(w) => w.1 += 1,
                    None => wins.push((winner, 1)),
                }
            }
            blocks.push(Block::Table(t));
            let wins: Vec<String> = wins.iter().map(|(m, n)| format!("{m} {n}")).collect();
            blocks.push(Block::Line(format!("variant wins: {}", wins.join(", "))));
        }
        let coverage = self.coverage();
        if !coverage.is_empty() {
            blocks.push(Block::Heading(
                "interval coverage: how often a method's bootstrap interval holds the held-out \
                 actual value"
                    .to_owned(),
            ));
            let mut t = Table::new(&[("method", Left), ("held", Right), ("mean width", Right)]);
            for (method, c) in coverage {
                t.rows.push(vec![
                    method.to_owned(),
                    format!("{}/{}", c.held, c.rows),
                    points(c.mean_width),
                ]);
            }
            blocks.push(Block::Table(t));
        }
        blocks
    }
}

/// An error in accuracy points, `-` when there is none (NaN).
fn points(v: f64) -> String {
    if v.is_nan() {
        "-".to_owned()
    } else {
        format!("{:.2}", 100.0 * v)
    }
}

/// `3 models`, `1 model`.
fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// `a … z`, or the one name, or `none`.
fn span(names: &[String]) -> String {
    match names {
        [] => "none".to_owned(),
        [one] => one.clone(),
        [first, .., last] => format!("{first} … {last}"),
    }
}

/// A piece of the summary.
enum Block {
    Line(String),
    Heading(String),
    Table(Table),
    /// A table without a header: an aligned list of (name, text).
    List(Table),
}

#[derive(Clone, Copy, PartialEq)]
enum Align {
    Left,
    Right,
}
use Align::{Left, Right};

/// A table of text cells.
struct Table {
    header: Vec<String>,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(columns: &[(&str, Align)]) -> Table {
        Table {
            header: columns.iter().map(|(h, _)| (*h).to_owned()).collect(),
            align: columns.iter().map(|(_, a)| *a).collect(),
            rows: Vec::new(),
        }
    }

    /// The rows (after the header, unless `header` is false) as aligned text lines.
    fn text(&self, indent: &str, header: bool) -> String {
        let widths: Vec<usize> = (0..self.header.len())
            .map(|c| {
                std::iter::once(&self.header)
                    .chain(&self.rows)
                    .map(|r| r[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        let shown = std::iter::once(&self.header)
            .filter(|_| header)
            .chain(&self.rows);
        for row in shown {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .zip(&self.align)
                .map(|((cell, &w), align)| match align {
                    Left => format!("{cell:<w$}"),
                    Right => format!("{cell:>w$}"),
                })
                .collect();
            let _ = writeln!(out, "{indent}{}", cells.join("  ").trim_end());
        }
        out
    }

    /// The table in Markdown; a `|`, `\` or line break inside a cell (a benchmark's name) is
    /// escaped so it cannot break the table.
    fn markdown(&self) -> String {
        let line = |cells: &[String]| {
            let cells: Vec<String> = cells
                .iter()
                .map(|c| {
                    c.replace('\\', "\\\\")
                        .replace('|', "\\|")
                        .replace(['\n', '\r'], " ")
                })
                .collect();
            format!("| {} |\n", cells.join(" | "))
        };
        let mut out = line(&self.header);
        let rule: Vec<String> = self
            .align
            .iter()
            .map(|a| if *a == Left { "---" } else { "---:" }.to_owned())
            .collect();
        out.push_str(&line(&rule));
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }
}

impl Artifact for Backtest {
    const KIND: ArtifactKind = ArtifactKind::Backtest;
    const SCHEMA_VERSION: u32 = 3;

    fn validate(&self) -> Result<(), String> {
        for row in &self.rows {
            if let Some(interval) = row.interval {
                let what = format!(
                    "holdout {}, `{}`, benchmark `{}`, method `{}`",
                    row.holdout, row.held_out, row.benchmark, row.method
                );
                crate::validate::interval(interval, &what)?;
            }
        }
        Ok(())
    }

    fn summary(&self) -> String {
        let mut out = String::new();
        for block in self.blocks() {
            match block {
                Block::Line(text) | Block::Heading(text) => {
                    out.push_str(&text);
                    out.push('\n');
                }
                Block::Table(t) => out.push_str(&t.text("  ", true)),
                Block::List(t) => out.push_str(&t.text("  ", false)),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(k: usize, bench: &str, method: &str, error: Option<f64>) -> BacktestRow {
        BacktestRow {
            holdout: k,
            held_out: format!("m{k}"),
            benchmark: bench.to_owned(),
            method: method.to_owned(),
            prediction: error.map(|e| 0.5 + e),
            actual: Some(0.5),
            abs_error: error,
            interval: None,
            note: None,
        }
    }

    #[test]
    fn coverage_counts_intervals_that_hold_the_actual() {
        let with = |method: &str, interval: Option<(f64, f64)>, actual: Option<f64>| BacktestRow {
            actual,
            interval,
            ..row(1, "b", method, Some(0.1))
        };
        let b = backtest(vec![
            with("cod", Some((0.4, 0.6)), Some(0.5)),
            with("cod", Some((0.5, 0.6)), Some(0.5)),
            with("cod", Some((0.1, 0.2)), Some(0.5)),
            // No actual: not counted.
            with("cod", Some((0.0, 1.0)), None),
            // No interval: not counted, and a method without any is left out.
            with("cod", None, Some(0.5)),
            with("bnsl", None, Some(0.5)),
        ]);
        let coverage = b.coverage();
        assert_eq!(coverage.len(), 1);
        let (method, c) = coverage[0];
        assert_eq!((method, c.rows, c.held), ("cod", 3, 2));
        assert!((c.mean_width - 0.4 / 3.0).abs() < 1e-12, "{}", c.mean_width);
        assert!(b.markdown().contains("| cod | 2/3 |"), "{}", b.markdown());
    }

    fn backtest(rows: Vec<BacktestRow>) -> Backtest {
        Backtest {
            kind: "backtest".to_owned(),
            fixed: vec![("fit".to_owned(), "cod-law".to_owned())],
            requested: 2,
            note: None,
            diagnostics: Vec::new(),
            variants: Vec::new(),
            holdouts: (1..=2)
                .map(|k| Holdout {
                    k,
                    held_out: vec![format!("m{k}")],
                    fitted: vec!["a".to_owned(), "b".to_owned(), "c".to_owned()],
                    dropped: vec!["t".to_owned()],
                })
                .collect(),
            rows,
        }
    }

    #[test]
    fn holdout_stats_are_mean_and_max_over_scored_rows() {
        let b = backtest(vec![
            row(1, "x", "cod", Some(0.01)),
            row(1, "y", "cod", Some(0.03)),
            row(1, "x", "bnsl", None),
            row(1, "y", "bnsl", Some(0.02)),
            row(2, "x", "cod", None),
            row(2, "x", "bnsl", None),
        ]);
        let stats = b.holdout_stats(1);
        assert_eq!(stats[0].0, "cod");
        let cod = stats[0].1;
        assert!((cod.mean - 0.02).abs() < 1e-12 && (cod.max - 0.03).abs() < 1e-12);
        assert_eq!((cod.scored, cod.rows), (2, 2));
        let bnsl = stats[1].1;
        assert_eq!((bnsl.scored, bnsl.rows), (1, 2));
        assert!(
            b.holdout_stats(2)
                .iter()
                .all(|(_, s)| s.scored == 0 && s.rows == 1 && s.mean.is_nan())
        );
        assert!(
            b.summary().contains("  cod        -    -     0/1\n"),
            "{}",
            b.summary()
        );
    }

    #[test]
    fn a_method_missing_a_holdout_cannot_win_and_diagnostics_never_do() {
        let mut b = backtest(vec![
            row(1, "x", "cod", Some(0.05)),
            row(2, "x", "cod", Some(0.05)),
            // Better where it predicts, but it failed on holdout 2.
            row(1, "x", "bnsl", Some(0.01)),
            row(2, "x", "bnsl", None),
            row(1, "x", "step2", Some(0.0)),
            row(2, "x", "step2", Some(0.0)),
            row(1, "y", "cod", Some(0.04)),
            row(1, "y", "bnsl", Some(0.02)),
            row(1, "y", "step2", Some(0.0)),
        ]);
        b.diagnostics = vec!["step2".to_owned()];
        let winners = b.winners();
        assert_eq!(winners[0].methods, ["cod"]);
        assert_eq!(winners[0].runner_up, None);
        assert_eq!(winners[1].methods, ["bnsl"]);
        assert_eq!(winners[1].runner_up.as_ref().unwrap().0, "cod");
        assert_eq!(
            b.win_counts(),
            vec![("cod".to_owned(), 1), ("bnsl".to_owned(), 1)]
        );
    }

    #[test]
    fn variants_never_win_but_are_compared_with_their_method() {
        let mut b = backtest(vec![
            row(1, "x", "ladder", Some(0.03)),
            row(1, "x", "ladder[v]", Some(0.01)),
            row(1, "x", "ladder[w]", None),
            row(1, "x", "no-change", Some(0.05)),
            row(1, "y", "ladder", Some(0.01)),
            row(1, "y", "ladder[v]", Some(0.02)),
            row(1, "y", "ladder[w]", Some(0.04)),
            row(1, "y", "no-change", Some(0.05)),
            row(1, "z", "ladder", Some(0.02)),
            row(1, "z", "ladder[v]", Some(0.02 - VARIANT_TIE / 2.0)),
        ]);
        b.variants = ["v", "w"]
            .map(|v| (format!("ladder[{v}]"), "ladder".to_owned()))
            .to_vec();
        // The variant is better on x, but only methods compete for the recommendation.
        assert_eq!(b.winners()[0].methods, ["ladder"]);
        assert_eq!(b.ranking("x"), vec![("ladder", 0.03), ("no-change", 0.05)]);
        assert_eq!(
            b.win_counts(),
            vec![("ladder".to_owned(), 3), ("no-change".to_owned(), 0)]
        );
        // Among the ladder and its variants: v on x (w failed there, so it cannot win), the
        // ladder's own options on y; and on z, where v is better by less than VARIANT_TIE, a
        // tie, which the own options win.
        let v = b.variant_winners();
        assert_eq!(v.len(), 3);
        assert_eq!((v[2].0.as_str(), v[2].1.as_str()), ("z", "ladder"));
        assert_eq!((v[0].0.as_str(), v[0].1.as_str()), ("x", "ladder[v]"));
        assert!((v[0].2 - 0.01).abs() < 1e-12 && (v[0].3 - 0.03).abs() < 1e-12);
        assert_eq!((v[1].0.as_str(), v[1].1.as_str()), ("y", "ladder"));
        let summary = b.summary();
        assert!(
            summary.contains("variant wins: ladder[v] 1, ladder 2"),
            "{summary}"
        );
    }

    #[test]
    fn methods_tied_at_the_lowest_error_all_win() {
        let b = backtest(vec![
            row(1, "x", "exp", Some(0.03)),
            row(1, "x", "cod", Some(0.02)),
            row(1, "x", "bnsl", Some(0.02)),
        ]);
        let w = &b.winners()[0];
        assert_eq!(w.methods, ["cod", "bnsl"]);
        assert_eq!(w.runner_up, Some(("exp".to_owned(), 0.03)));
        assert_eq!(
            b.win_counts(),
            vec![
                ("exp".to_owned(), 0),
                ("cod".to_owned(), 1),
                ("bnsl".to_owned(), 1)
            ]
        );
        assert!(
            b.summary()
                .contains("  x          cod = bnsl  2.00  exp        3.00\n"),
            "{}",
            b.summary()
        );
    }

    #[test]
    fn csv_has_every_row_and_quotes_notes() {
        let mut r = row(1, "x", "cod", None);
        r.note = Some("fit failed: a, b".to_owned());
        let mut with_interval = row(2, "x", "cod", Some(0.25));
        with_interval.interval = Some((0.25, 0.875));
        let csv = backtest(vec![r, with_interval]).csv();
        assert_eq!(
            csv,
            "holdout,held_out,benchmark,method,prediction,actual,abs_error,lower,upper,note\n\
             1,m1,x,cod,,0.5,,,,\"fit failed: a, b\"\n\
             2,m2,x,cod,0.75,0.5,0.25,0.25,0.875,\n"
        );
    }

    #[test]
    fn markdown_cells_cannot_break_the_table() {
        let mut t = Table::new(&[("benchmark", Left), ("error", Right)]);
        t.rows.push(vec!["a|b\\c\nd".to_owned(), "1.0".to_owned()]);
        assert_eq!(
            t.markdown(),
            "| benchmark | error |\n| --- | ---: |\n| a\\|b\\\\c d | 1.0 |\n"
        );
    }

    #[test]
    fn summary_and_markdown_show_the_same_tables() {
        let b = backtest(vec![
            row(1, "x", "cod", Some(0.01)),
            row(1, "x", "bnsl", Some(0.02)),
            row(2, "x", "cod", Some(0.03)),
            row(2, "x", "bnsl", Some(0.01)),
        ]);
        let summary = b.summary();
        assert!(summary.contains("holdout k=1: m1 predicted from 3 models (a … c); never read: t"));
        assert!(
            summary.contains("  cod     1.00  1.00     1/1\n"),
            "{summary}"
        );
        assert!(summary.contains("wins: cod 0, bnsl 1"), "{summary}");
        let md = b.markdown();
        assert!(md.contains("| cod | 1.00 | 1.00 | 1/1 |"), "{md}");
        assert!(md.contains("| x | bnsl | 1.50 | cod | 2.00 |"), "{md}");
    }
}
