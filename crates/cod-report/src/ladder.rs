//! The `ladder-report` stage's document: the two-step ladder law, one section per task.

use std::fmt::Write;

use anyhow::ensure;
use cod_artifact::{LadderFits, LadderTarget, LadderTask, Role, TrainingRuns};
use cod_fit::{Law, LossToAccuracy, TaskLoss};
use plotters::style::RGBColor;

use crate::doc::{Block, Document, Ids, Section, Table};
use crate::format::{count, fixed, param, points, sci};
use crate::plot::{
    Axis, Chart, Estimate, INK, Layer, Marker, MarkerStyle, RowPlot, RowReference, RowSeries,
    Stroke, XyPlot, colour, log_space, padded_range,
};
use crate::{LadderReportParams, figure};

/// Palette indices for the ladder's model sizes, and colours for the targets.
const SIZE_COLOURS: [usize; 8] = [0, 2, 4, 9, 5, 6, 8, 7];

fn size_colour(i: usize) -> RGBColor {
    colour(SIZE_COLOURS[i % SIZE_COLOURS.len()])
}

fn target_colour(i: usize) -> RGBColor {
    [INK, colour(3), colour(1)][i % 3]
}

/// A parameter count as `190M` or `1.3B`.
fn human(n: f64) -> String {
    if n >= 1e9 {
        let s = format!("{:.1}", n / 1e9);
        format!("{}B", s.trim_end_matches(".0"))
    } else {
        format!("{:.0}M", n / 1e6)
    }
}

/// The report of a ladder pipeline.
pub fn document(
    runs: &TrainingRuns,
    fits: &LadderFits,
    params: &LadderReportParams,
) -> anyhow::Result<Document> {
    for name in &fits.ladder {
        ensure!(
            runs.runs.iter().any(|r| &r.name == name),
            "ladder run `{name}` of the fits is not in the training runs: the inputs come from \
             different runs"
        );
    }
    let targets: Vec<&str> = fits
        .tasks
        .first()
        .map(|t| t.targets.iter().map(|t| t.target.as_str()).collect())
        .unwrap_or_default();
    let mut doc = Document {
        title: params.title.clone().unwrap_or_else(|| {
            format!(
                "{}: predicted accuracy on {} (two-step ladder law)",
                if targets.is_empty() {
                    "No target".to_owned()
                } else {
                    targets.join(", ")
                },
                count(fits.tasks.len(), "task", "tasks")
            )
        }),
        ..Document::default()
    };
    let loss = loss_label(&fits.method);
    doc.intro = intro(runs, fits, &loss);
    let mut ids = Ids::default();
    if let Some(c) = &fits.calibration {
        let mut intro = crate::recommend::headlines(c, None);
        intro.append(&mut doc.intro);
        doc.intro = intro;
        doc.sections.push(crate::recommend::section(&mut ids, c));
    }
    doc.sections.push(summary(&mut ids, runs, fits));
    for task in &fits.tasks {
        doc.sections.push(section(&mut ids, task, &loss, params)?);
    }
    Ok(doc)
}

/// The y label of step 1 from the fits' description (`intermediate=…`).
fn loss_label(method: &str) -> String {
    let intermediate = cod_artifact::intermediate(method);
    if intermediate == "loss" {
        "task loss (bits per byte)".to_owned()
    } else {
        format!("{intermediate} (step-1 intermediate)")
    }
}

fn intro(runs: &TrainingRuns, fits: &LadderFits, loss: &str) -> Vec<String> {
    let targets: Vec<String> = runs
        .runs
        .iter()
        .filter(|r| r.role == Role::Target && !r.monitor)
        .map(|r| {
            format!(
                "{} (N = {}, D = {}, 6·N·D = {} FLOPs)",
                r.name,
                sci(r.params),
                sci(r.tokens),
                sci(r.flops())
            )
        })
        .collect();
    let monitored: Vec<&str> = runs
        .runs
        .iter()
        .filter(|r| r.monitor)
        .map(|r| r.name.as_str())
        .collect();
    let monitored = if monitored.is_empty() {
        String::new()
    } else {
        format!(
            " Training trajectories monitored against the predicted curve: {}.",
            monitored.join(", ")
        )
    };
    vec![
        format!(
            "The two-step ladder law fitted on {} ({}) and used to predict {}. Accuracy is in \
             points (percent); the intermediate is the {loss}.{monitored}",
            count(fits.ladder.len(), "ladder run", "ladder runs"),
            fits.ladder.join(", "),
            if targets.is_empty() {
                "no target".to_owned()
            } else {
                targets.join(" and ")
            }
        ),
        format!(
            "Step 1 fits the loss from parameters N and tokens D, L(N, D) = A/N^α + B/D^β + E, to \
             one point per ladder run; step 2 fits accuracy from the loss, Acc(L) = a/(1 + \
             exp(−k·(L − L0))) + b, to the runs' checkpoints; the prediction chains them. Options: \
             {}.",
            fits.method
        ),
    ]
}

fn abs_error(p: Option<f64>, a: Option<f64>) -> Option<f64> {
    Some((p? - a?).abs())
}

fn rel_percent(p: Option<f64>, a: Option<f64>) -> String {
    match (p, a) {
        (Some(p), Some(a)) if a != 0.0 => format!("{:.1}", 100.0 * (p - a).abs() / a.abs()),
        _ => "-".to_owned(),
    }
}

fn summary(ids: &mut Ids, runs: &TrainingRuns, fits: &LadderFits) -> Section {
    let mut main = Table::new(
        "Per task and target (accuracy in points, loss in the intermediate's unit)",
        &[
            "target", "task", "actual", "pred", "abs", "rel%", "L act", "L pred", "L rel%",
            "step2", "abs", "L(C)", "abs", "sd L", "sd acc",
        ],
        2,
    );
    for task in &fits.tasks {
        for t in &task.targets {
            main.row(vec![
                t.target.clone(),
                task.name.clone(),
                points(t.accuracy_actual),
                points(t.accuracy_predicted),
                points(abs_error(t.accuracy_predicted, t.accuracy_actual)),
                rel_percent(t.accuracy_predicted, t.accuracy_actual),
                fixed(t.loss_actual, 3),
                fixed(t.loss_predicted, 3),
                rel_percent(t.loss_predicted, t.loss_actual),
                points(t.accuracy_step2),
                points(abs_error(t.accuracy_step2, t.accuracy_actual)),
                points(t.accuracy_loss_intermediate),
                points(abs_error(t.accuracy_loss_intermediate, t.accuracy_actual)),
                fixed(Some(task.loss_std), 3),
                points(Some(task.accuracy_std)),
            ]);
        }
    }
    let mut errors = Table::new(
        "Absolute error per method over every target and task (points)",
        &["method", "mean", "max", "scored", "within 2 points"],
        1,
    );
    for (method, e) in fits.method_errors() {
        errors.row(vec![
            method.to_owned(),
            points(Some(e.iter().sum::<f64>() / e.len() as f64)),
            points(Some(e.iter().copied().fold(0.0, f64::max))),
            e.len().to_string(),
            e.iter().filter(|x| **x <= 0.02).count().to_string(),
        ]);
    }
    let mut runs_table = Table::new(
        "Training runs",
        &["run", "role", "N", "D", "6·N·D", "checkpoints"],
        2,
    );
    for r in &runs.runs {
        runs_table.row(vec![
            r.name.clone(),
            r.role.name().to_owned(),
            sci(r.params),
            sci(r.tokens),
            sci(r.flops()),
            r.checkpoint_tokens.len().to_string(),
        ]);
    }
    let mut blocks = vec![
        Block::Table(main),
        Block::Paragraph(format!(
            "pred: both steps chained (method ladder); step2: step 2 alone at the observed \
             loss; L(C): the loss-intermediate baseline. sd L and sd acc are the standard \
             deviations over the last checkpoints of {}; large values flag tasks likely to \
             miss.",
            fits.variance_run
        )),
        Block::Table(errors),
    ];
    blocks.extend(variants(fits));
    blocks.push(Block::Table(runs_table));
    Section {
        id: ids.make("summary", ""),
        title: "Summary".to_owned(),
        blocks,
    }
}

/// The variants' predictions per target and task beside the `ladder` method's, and what each
/// changes; nothing without variants.
fn variants(fits: &LadderFits) -> Vec<Block> {
    if fits.variants.is_empty() {
        return Vec::new();
    }
    let mut header = vec!["target".to_owned(), "task".to_owned(), "actual".to_owned()];
    header.push("ladder".to_owned());
    header.extend(fits.variants.iter().map(|v| v.name.clone()));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut table = Table::new(
        "The ladder method's prediction under each variant of its options (points); variants \
         compete in the recommendation only when its variants option is on",
        &header,
        2,
    );
    for task in &fits.tasks {
        for t in &task.targets {
            let mut row = vec![
                t.target.clone(),
                task.name.clone(),
                points(t.accuracy_actual),
                points(t.accuracy_predicted),
            ];
            row.extend(fits.variants.iter().map(|v| {
                points(
                    v.prediction(&task.name, &t.target)
                        .and_then(|p| p.prediction),
                )
            }));
            table.row(row);
        }
    }
    let mut errors = Table::new(
        "Each variant's options and mean absolute error over every target and task (points)",
        &["variant", "changes", "mean", "scored"],
        2,
    );
    for ((name, mean, n), v) in fits.variant_errors().into_iter().zip(&fits.variants) {
        errors.row(vec![
            name.to_owned(),
            v.changes.clone(),
            points(Some(mean).filter(|m| m.is_finite())),
            n.to_string(),
        ]);
    }
    vec![Block::Table(table), Block::Table(errors)]
}

/// `name = value, …` of a fitted law, with the artifact's parameter names written as in the
/// formulas (`alpha` as α; step 1's `a` and `b` are ln A and ln B).
fn law_text(names: &[String], params: &[f64], step1: bool) -> String {
    names
        .iter()
        .zip(params)
        .map(|(n, v)| {
            let name = match (n.as_str(), step1) {
                ("a", true) => "ln A",
                ("b", true) => "ln B",
                ("alpha", _) => "α",
                ("beta", _) => "β",
                (other, _) => other,
            };
            format!("{name} = {}", param(*v))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn section(
    ids: &mut Ids,
    task: &LadderTask,
    loss: &str,
    params: &LadderReportParams,
) -> anyhow::Result<Section> {
    let id = ids.make("t", &task.name);
    let mut text = format!(
        "Chance accuracy {}. Step 1: {} (RMSE {} on ln L). Step 2: {} (RMSE {}).",
        points(Some(task.chance)),
        law_text(&task.step1.names, &task.step1.params, true),
        fixed(Some(task.step1.rmse), 4),
        law_text(&task.step2.names, &task.step2.params, false),
        fixed(Some(task.step2.rmse), 4),
    );
    for (step, fit) in task.reported_fits() {
        if let Some(why) = &fit.failure {
            let _ = write!(text, " The {step} fit failed: {why}.");
        }
    }
    let mut blocks = vec![Block::Paragraph(text)];
    let (chart, caption) = step1_chart(task, loss);
    blocks.push(Block::Figure(figure(
        &format!("{id}-step1"),
        &caption,
        &chart,
        params.png,
    )?));
    let (chart, caption) = step2_chart(task, loss);
    blocks.push(Block::Figure(figure(
        &format!("{id}-step2"),
        &caption,
        &chart,
        params.png,
    )?));
    if task
        .targets
        .iter()
        .any(|t| t.methods().iter().any(|m| m.1.is_some()))
    {
        let (chart, caption) = methods_chart(task);
        blocks.push(Block::Figure(figure(
            &format!("{id}-methods"),
            &caption,
            &chart,
            params.png,
        )?));
    }
    for (k, m) in task.monitors.iter().enumerate() {
        let (chart, caption) = monitor_chart(task, m);
        blocks.push(Block::Figure(figure(
            &format!("{id}-monitor-{k}"),
            &caption,
            &chart,
            params.png,
        )?));
    }
    let mut table = Table::new(
        &format!("{}: predictions (points)", task.name),
        &["target", "method", "prediction", "actual", "abs error"],
        2,
    );
    for t in &task.targets {
        for (method, prediction) in t.methods() {
            table.row(vec![
                t.target.clone(),
                method.name().to_owned(),
                points(prediction),
                points(t.accuracy_actual),
                points(abs_error(prediction, t.accuracy_actual)),
            ]);
        }
    }
    blocks.push(Block::Table(table));
    Ok(Section {
        id,
        title: task.name.clone(),
        blocks,
    })
}

/// Whether two parameter counts are the same model size (runs of one size share N exactly; the
/// tolerance only keeps float comparison honest).
fn same_size(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// Step 1: loss against compute 6·N·D, one colour per N, the fitted L(N, D) along each N's D
/// range and on to the largest target's compute, and the targets.
fn step1_chart(task: &LadderTask, loss: &str) -> (Chart, String) {
    let fitted = task.step1.params.len() == 5;
    let law = |n: f64, d: f64| TaskLoss.loss((n, d), &task.step1.params);
    let mut sizes: Vec<f64> = task.step1_points.iter().map(|p| p[0]).collect();
    sizes.sort_by(f64::total_cmp);
    sizes.dedup_by(|a, b| same_size(*a, *b));
    let c_max = task
        .targets
        .iter()
        .map(|t| 6.0 * t.params * t.tokens)
        .chain(task.step1_points.iter().map(|p| 6.0 * p[0] * p[1]))
        .fold(0.0, f64::max);
    let c_min = task
        .step1_points
        .iter()
        .map(|p| 6.0 * p[0] * p[1])
        .fold(f64::INFINITY, f64::min);
    let mut layers = Vec::new();
    for (i, &n) in sizes.iter().enumerate() {
        let col = size_colour(i);
        let ds: Vec<f64> = task
            .step1_points
            .iter()
            .filter(|p| same_size(p[0], n))
            .map(|p| p[1])
            .collect();
        let (d_lo, d_hi) = ds.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &d| {
            (lo.min(d), hi.max(d))
        });
        if fitted {
            let curve = |a: f64, b: f64| -> Vec<(f64, f64)> {
                log_space(a, b, 40)
                    .into_iter()
                    .map(|d| (6.0 * n * d, law(n, d)))
                    .collect()
            };
            layers.push(Layer::Line {
                points: curve(d_lo, d_hi),
                stroke: Stroke::solid(col, 2),
                label: None,
            });
            let d_ext = c_max / (6.0 * n);
            if d_ext > d_hi {
                layers.push(Layer::Line {
                    points: curve(d_hi, d_ext),
                    stroke: Stroke::dashed(col, 1).alpha(0.7),
                    label: None,
                });
            }
        }
        layers.push(Layer::Points {
            points: task
                .step1_points
                .iter()
                .filter(|p| same_size(p[0], n))
                .map(|p| (6.0 * p[0] * p[1], p[2], 5))
                .collect(),
            style: MarkerStyle::new(Marker::Circle, col, true),
            label: Some(format!("N = {}", human(n))),
        });
    }
    for (j, t) in task.targets.iter().enumerate() {
        layers.extend(step1_target(task, t, target_colour(j), fitted));
    }
    let ys = layers.iter().flat_map(|l| match l {
        Layer::Line { points, .. } => points.iter().map(|p| p.1).collect::<Vec<_>>(),
        Layer::Points { points, .. } => points.iter().map(|p| p.1).collect(),
        _ => Vec::new(),
    });
    let y = padded_range(ys, 0.08, 0.05, (0.0, f64::INFINITY));
    let (c_min, c_max) = if c_min.is_finite() && c_min > 0.0 && c_max > 0.0 {
        (c_min, c_max)
    } else {
        (1e18, 1e19)
    };
    let chart = Chart::Xy(XyPlot {
        title: format!("{}: step 1, loss vs compute", task.name),
        x: Axis::log("training compute 6·N·D (FLOPs)", (c_min / 1.5, c_max * 1.5)),
        y: Axis::linear(loss, y),
        layers,
    });
    let caption = format!(
        "Step 1 on {}: each ladder run's {} (mean of its last checkpoints) at its compute 6·N·D, \
         one colour per model size N, and the fitted L(N, D) along each size's token range \
         (solid), extended to the largest target's compute (dashed). The targets' actual (×) and \
         predicted (○) losses sit on their own size's curve (dashed, in the target's colour).{}",
        task.name,
        loss,
        if fitted {
            String::new()
        } else {
            " Step 1 was not fitted, so no curves.".to_owned()
        }
    );
    (chart, caption)
}

/// A target on the step-1 chart: its own size's curve up to its tokens, its actual and predicted
/// loss.
fn step1_target(task: &LadderTask, t: &LadderTarget, col: RGBColor, fitted: bool) -> Vec<Layer> {
    let c = 6.0 * t.params * t.tokens;
    let mut layers = Vec::new();
    if fitted {
        layers.push(Layer::Line {
            points: log_space(t.tokens / 30.0, t.tokens, 30)
                .into_iter()
                .map(|d| {
                    (
                        6.0 * t.params * d,
                        TaskLoss.loss((t.params, d), &task.step1.params),
                    )
                })
                .collect(),
            stroke: Stroke::dashed(col, 1).alpha(0.7),
            label: None,
        });
    }
    if let Some(l) = t.loss_actual {
        layers.push(Layer::Points {
            points: vec![(c, l, 6)],
            style: MarkerStyle::new(Marker::Cross, col, false),
            label: Some(format!("{} actual", t.target)),
        });
    }
    if let Some(l) = t.loss_predicted {
        layers.push(Layer::Points {
            points: vec![(c, l, 7)],
            style: MarkerStyle::new(Marker::Circle, col, false),
            label: Some(format!("{} predicted", t.target)),
        });
    }
    layers
}

/// Step 2: accuracy against loss, the fitted sigmoid, and the targets' actual and predicted
/// points.
fn step2_chart(task: &LadderTask, loss: &str) -> (Chart, String) {
    let fitted = task.step2.params.len() == 4;
    let law = LossToAccuracy {
        chance: task.chance,
    };
    let mut xs: Vec<f64> = task.step2_points.iter().map(|p| p[0]).collect();
    for t in &task.targets {
        xs.extend(t.loss_actual);
        xs.extend(t.loss_predicted);
    }
    let x = padded_range(xs.iter().copied(), 0.05, 0.05, (0.0, f64::INFINITY));
    let mut layers = vec![Layer::Points {
        points: task
            .step2_points
            .iter()
            .map(|p| (p[0], 100.0 * p[1], 2))
            .collect(),
        style: MarkerStyle::new(Marker::Circle, colour(0), true).alpha(0.3),
        label: Some("ladder checkpoints".to_owned()),
    }];
    if fitted {
        layers.push(Layer::Line {
            points: (0..=200)
                .map(|i| {
                    let l = x.0 + (x.1 - x.0) * f64::from(i) / 200.0;
                    (l, 100.0 * law.value(l, &task.step2.params))
                })
                .collect(),
            stroke: Stroke::solid(colour(0), 2),
            label: Some("fitted Acc(L)".to_owned()),
        });
    }
    for (j, t) in task.targets.iter().enumerate() {
        let col = target_colour(j);
        if let (Some(l), Some(a)) = (t.loss_actual, t.accuracy_actual) {
            layers.push(Layer::Points {
                points: vec![(l, 100.0 * a, 6)],
                style: MarkerStyle::new(Marker::Cross, col, false),
                label: Some(format!("{} actual", t.target)),
            });
        }
        if let (Some(l), Some(a)) = (t.loss_predicted, t.accuracy_predicted) {
            layers.push(Layer::Points {
                points: vec![(l, 100.0 * a, 7)],
                style: MarkerStyle::new(Marker::Circle, col, false),
                label: Some(format!("{} predicted", t.target)),
            });
        }
    }
    let ys = layers.iter().flat_map(|l| match l {
        Layer::Line { points, .. } => points.iter().map(|p| p.1).collect::<Vec<_>>(),
        Layer::Points { points, .. } => points.iter().map(|p| p.1).collect(),
        _ => Vec::new(),
    });
    let y = padded_range(ys, 0.05, 5.0, (0.0, 100.0));
    let chart = Chart::Xy(XyPlot {
        title: format!("{}: step 2, accuracy vs loss", task.name),
        x: Axis::linear(loss, x),
        y: Axis::linear("accuracy (%)", y),
        layers,
    });
    let caption = format!(
        "Step 2 on {}: the {} ladder checkpoints (after trimming and smoothing; the (0, 1) \
         anchor included when used), the fitted sigmoid, and each target's actual point (×, \
         observed loss and accuracy) and predicted point (○, step 1's loss and the chained \
         accuracy).{}",
        task.name,
        task.step2_points.len(),
        if fitted {
            ""
        } else {
            " Step 2 was not fitted, so no curve."
        }
    );
    (chart, caption)
}

/// A target's trajectory against the predicted curve and its bootstrap band, with the checkpoints
/// outside the band marked.
fn monitor_chart(task: &LadderTask, m: &cod_artifact::Monitor) -> (Chart, String) {
    let outside = m.outside();
    // Tokens in billions or trillions, so the axis labels stay short.
    let max = m.tokens.iter().copied().fold(0.0, f64::max);
    let (unit, unit_name) = if max >= 1e12 {
        (1e12, "trillions")
    } else {
        (1e9, "billions")
    };
    let tokens: Vec<f64> = m.tokens.iter().map(|d| d / unit).collect();
    let mut layers = Vec::new();
    if let Some(band) = &m.band {
        for (edge, label) in [(0, Some("5-95% band")), (1, None)] {
            layers.push(Layer::Line {
                points: tokens
                    .iter()
                    .zip(band)
                    .map(|(&d, b)| (d, 100.0 * if edge == 0 { b.0 } else { b.1 }))
                    .collect(),
                stroke: Stroke::dashed(colour(0), 1),
                label: label.map(str::to_owned),
            });
        }
    }
    layers.push(Layer::Line {
        points: m
            .tokens
            .iter()
            .zip(&m.predicted)
            .map(|(&d, &p)| (d, 100.0 * p))
            .collect(),
        stroke: Stroke::solid(colour(0), 2),
        label: Some("predicted Acc(L(N, D))".to_owned()),
    });
    let inside: Vec<(f64, f64, u32)> = (0..m.tokens.len())
        .filter(|i| !outside.contains(i))
        .map(|i| (tokens[i], 100.0 * m.observed[i], 3))
        .collect();
    layers.push(Layer::Points {
        points: inside,
        style: MarkerStyle::new(Marker::Circle, colour(1), true),
        label: Some("checkpoint".to_owned()),
    });
    if !outside.is_empty() {
        layers.push(Layer::Points {
            points: outside
                .iter()
                .map(|&i| (tokens[i], 100.0 * m.observed[i], 5))
                .collect(),
            style: MarkerStyle::new(Marker::Cross, colour(3), false),
            label: Some("outside the band".to_owned()),
        });
    }
    let ys = layers.iter().flat_map(|l| match l {
        Layer::Line { points, .. } => points.iter().map(|p| p.1).collect::<Vec<_>>(),
        Layer::Points { points, .. } => points.iter().map(|p| p.1).collect(),
        _ => Vec::new(),
    });
    let y = padded_range(ys, 0.05, 5.0, (0.0, 100.0));
    let x = padded_range(tokens.iter().copied(), 0.02, 0.0, (0.0, f64::INFINITY));
    let chart = Chart::Xy(XyPlot {
        title: format!("{}: {} against the prediction", task.name, m.run),
        x: Axis::linear(&format!("tokens seen ({unit_name})"), x),
        y: Axis::linear("accuracy (%)", y),
        layers,
    });
    let caption = format!(
        "Monitoring {} on {}: each evaluated checkpoint's accuracy (dots; × outside the band, {} of \
         {}) against the two-step law at that checkpoint's tokens D, Acc(L(N, D)), and its 5-95% \
         bootstrap band over resampled ladder runs. Step 1 is fitted to runs at the end of their \
         learning-rate schedules, so checkpoints before the final decay are expected to sit below \
         the curve.",
        m.run,
        task.name,
        outside.len(),
        m.tokens.len()
    );
    (chart, caption)
}

fn methods_chart(task: &LadderTask) -> (Chart, String) {
    let rows: Vec<String> = task
        .targets
        .first()
        .map(|t| t.methods().iter().map(|m| m.0.name().to_owned()).collect())
        .unwrap_or_default();
    let mut series = Vec::new();
    let mut references = Vec::new();
    for (j, t) in task.targets.iter().enumerate() {
        let col = target_colour(j);
        series.push(RowSeries {
            label: format!("{} prediction", t.target),
            style: MarkerStyle::new(Marker::Circle, col, true),
            // No intervals yet: the ladder fits carry none.
            values: t
                .methods()
                .iter()
                .map(|m| {
                    m.1.map(|v| Estimate {
                        value: 100.0 * v,
                        interval: None,
                    })
                })
                .collect(),
        });
        if let Some(a) = t.accuracy_actual {
            references.push(RowReference {
                label: format!("{} actual {}", t.target, points(Some(a))),
                x: 100.0 * a,
                stroke: Stroke::dashed(col, 2),
                row: None,
            });
        }
    }
    let x_range = padded_range(
        series
            .iter()
            .flat_map(|s| s.values.iter().flatten().map(|e| e.value))
            .chain(references.iter().map(|r| r.x)),
        0.15,
        4.0,
        (0.0, 100.0),
    );
    let chart = Chart::Rows(RowPlot {
        title: format!("{}: every method's prediction", task.name),
        rows,
        x_label: "accuracy (%)".to_owned(),
        x_range,
        series,
        references,
    });
    let caption = format!(
        "Every method's prediction on {} for each target (markers, one colour per target) and \
         the targets' actual accuracy (dashed lines in the same colours). ladder chains both \
         steps; ladder-step2 applies step 2 to the observed loss; loss-intermediate predicts \
         the loss from compute alone; one-step and one-step-compute fit accuracy directly.",
        task.name
    );
    (chart, caption)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human(190_354_176.0), "190M");
        assert_eq!(human(1_279_395_840.0), "1.3B");
        assert_eq!(human(6_887_575_552.0), "6.9B");
        assert_eq!(human(13_202_396_160.0), "13.2B");
        assert_eq!(human(1e9), "1B");
    }

    #[test]
    fn the_loss_label_follows_the_intermediate() {
        assert_eq!(
            loss_label("intermediate=loss step1: …"),
            "task loss (bits per byte)"
        );
        assert_eq!(
            loss_label("intermediate=c4-loss step1: …"),
            "c4-loss (step-1 intermediate)"
        );
        assert_eq!(loss_label("something else"), "task loss (bits per byte)");
    }
}
