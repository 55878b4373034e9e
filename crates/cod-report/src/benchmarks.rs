//! The `report` stage's document: per-item pipelines (COD and its baselines), one section per
//! plotted benchmark and summary tables for all.

use std::collections::HashMap;

use anyhow::Context;
use cod_artifact::{
    BenchmarkClusters, BenchmarkEvals, BenchmarkFits, BenchmarkPredictions, Clusters, EvalTable,
    Fits, Mapping, MethodPrediction, Model, PerItemMethod, Predictions, Role, Verdict,
};
use cod_fit::{COMPUTE_UNIT, CodLaw, Law};

use crate::doc::{Block, Document, Ids, Section, Table};
use crate::format::{count, fixed, param, percent, points, sci};
use crate::plot::{
    Axis, Chart, Estimate, GREY, INK, Layer, Marker, MarkerStyle, RowPlot, RowReference, RowSeries,
    Stroke, XyPlot, colour, log_space, padded_range,
};
use crate::{ReportParams, figure};

/// An axis over all of [0, 100] points, with room for markers on its ends.
const FULL_SCALE: (f64, f64) = (-3.0, 103.0);

/// One benchmark's slices of the four artifacts.
struct Bench<'a> {
    predictions: &'a BenchmarkPredictions,
    fits: &'a BenchmarkFits,
    clusters: &'a BenchmarkClusters,
    evals: &'a BenchmarkEvals,
    /// The target this entry predicts.
    target: Option<&'a Model>,
}

/// The verdicts in the order the report lists them, with their colours.
const VERDICTS: [(&str, usize); 4] = [
    ("extrapolatable", 0),
    ("non-emergent", 7),
    ("non-extrapolatable", 1),
    ("fit-failed", 3),
];

fn verdict_colour(v: &Verdict) -> plotters::style::RGBColor {
    let i = VERDICTS
        .iter()
        .position(|(name, _)| *name == v.name())
        .unwrap_or(3);
    colour(VERDICTS[i].1)
}

/// The report of a per-item pipeline.
pub fn document(
    table: &EvalTable,
    clusters: &Clusters,
    fits: &Fits,
    predictions: &Predictions,
    params: &ReportParams,
) -> anyhow::Result<Document> {
    let benches = predictions
        .benchmarks
        .iter()
        .map(|p| {
            let missing = |what: &str| {
                format!(
                    "benchmark `{}` is in the predictions but not in the {what}: \
                     the inputs come from different runs",
                    p.name
                )
            };
            let bench_fits = fits
                .benchmarks
                .iter()
                .find(|b| b.name == p.name)
                .with_context(|| missing("fits"))?;
            Ok(Bench {
                predictions: p,
                fits: bench_fits,
                clusters: clusters
                    .benchmarks
                    .iter()
                    .find(|b| b.name == p.benchmark)
                    .with_context(|| missing("clusters"))?,
                evals: table
                    .benchmarks
                    .iter()
                    .find(|b| b.name == p.benchmark)
                    .with_context(|| missing("eval table"))?,
                target: fits.target_of(bench_fits),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    for b in &benches {
        anyhow::ensure!(
            b.fits.clusters.len() == b.clusters.clusters.len(),
            "benchmark `{}`: the fits were made from other clusters",
            b.predictions.name
        );
    }
    let targets: Vec<&Model> = if predictions.targets.is_empty() {
        fits.targets.iter().collect()
    } else {
        predictions.targets.iter().collect()
    };
    let methods = method_names(predictions);
    let plotted = plotted(&benches, params.plotted);

    let mut doc = Document {
        title: params.title.clone().unwrap_or_else(|| {
            let mut names: Vec<&str> = benches
                .iter()
                .map(|b| b.predictions.benchmark.as_str())
                .collect();
            names.sort_unstable();
            names.dedup();
            let what = match names.as_slice() {
                [one] => (*one).to_owned(),
                many => format!("{} benchmarks", many.len()),
            };
            if targets.is_empty() {
                format!("Fits on {what} (no target model)")
            } else {
                let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
                format!("{}: predicted accuracy on {what}", names.join(", "))
            }
        }),
        ..Document::default()
    };
    doc.intro = intro(table, clusters, fits, &targets, &benches, &plotted);
    let mut ids = Ids::default();
    if let Some(c) = &predictions.calibration {
        let largest = benches
            .iter()
            .max_by_key(|b| b.predictions.items)
            .map(|b| b.predictions.name.as_str());
        let mut intro = crate::recommend::headlines(c, largest);
        intro.append(&mut doc.intro);
        doc.intro = intro;
        doc.sections.push(crate::recommend::section(&mut ids, c));
    }
    doc.sections.push(summary(&mut ids, &benches, &methods));
    for &i in &plotted {
        doc.sections
            .push(section(&mut ids, table, fits, &benches[i], params)?);
    }
    Ok(doc)
}

/// Every method name, in order of first appearance.
fn method_names(predictions: &Predictions) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for m in predictions.benchmarks.iter().flat_map(|b| &b.methods) {
        if !names.iter().any(|n| m.method == n.as_str()) {
            names.push(m.method.name().to_owned());
        }
    }
    names
}

/// Which benchmarks get a section with plots: all when there are at most `max`; else the largest
/// (the union, when ingest made one) and the first `max − 1` others in input order.
fn plotted(benches: &[Bench], max: usize) -> Vec<usize> {
    if benches.len() <= max {
        return (0..benches.len()).collect();
    }
    if max == 0 {
        return Vec::new();
    }
    let largest = (0..benches.len())
        .rev()
        .max_by_key(|&i| benches[i].predictions.items)
        .unwrap_or(0);
    let mut chosen = vec![largest];
    chosen.extend((0..benches.len()).filter(|&i| i != largest).take(max - 1));
    chosen
}

fn intro(
    table: &EvalTable,
    clusters: &Clusters,
    fits: &Fits,
    targets: &[&Model],
    benches: &[Bench],
    plotted: &[usize],
) -> Vec<String> {
    let mut intro = Vec::new();
    let ladder = &fits.ladder;
    let ladder_text = match (ladder.first(), ladder.last()) {
        (Some(first), Some(last)) => format!(
            "{} ({}; {} to {} FLOPs)",
            count(ladder.len(), "ladder model", "ladder models"),
            ladder
                .iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            sci(first.flops),
            sci(last.flops)
        ),
        _ => "no ladder models".to_owned(),
    };
    let what = count(
        benches.len() / targets.len().max(1),
        "benchmark",
        "benchmarks",
    );
    let targets_text: Vec<String> = targets
        .iter()
        .map(|t| format!("{} ({} FLOPs)", t.name, sci(t.flops)))
        .collect();
    intro.push(if targets.is_empty() {
        format!(
            "Fits on {what} from {ladder_text}. The models manifest names no target, so nothing \
             is predicted."
        )
    } else {
        format!(
            "Predictions for {} on {what} from {ladder_text}.{} Accuracies are in points \
             (percent).",
            targets_text.join(", "),
            if targets.len() > 1 {
                " Each (target, benchmark) pair is one entry, named `target/benchmark`."
            } else {
                ""
            }
        )
    });
    intro.push(format!(
        "COD clusters each benchmark's items by their pass rates on the ladder ({}), fits the COD \
         law to each cluster ({}), predicts the predictable subset P′ (the extrapolatable \
         clusters) at the target and maps that to the full benchmark through f, fitted to the \
         ladder's (P′, full) accuracies. The end-to-end baselines fit one law to the whole \
         benchmark.",
        clusters.method, fits.method
    ));
    let anchors: Vec<&str> = table
        .models
        .iter()
        .filter(|m| m.role == Role::Anchor)
        .map(|m| m.name.as_str())
        .collect();
    if !anchors.is_empty() {
        intro.push(format!(
            "Anchor models offered to the mapping: {}.",
            anchors.join(", ")
        ));
    }
    if plotted.is_empty() && !benches.is_empty() {
        intro.push(
            "No benchmark is plotted (the `plotted` parameter is 0); the summary tables cover \
             every benchmark."
                .to_owned(),
        );
    } else if plotted.len() < benches.len() {
        let largest = &benches[plotted[0]].predictions;
        intro.push(format!(
            "Plots are drawn for {} of the {} benchmarks: the largest ({}, {} items) and the \
             first {} of the others in input order (the `plotted` parameter). The summary tables \
             cover every benchmark.",
            plotted.len(),
            benches.len(),
            largest.name,
            largest.items,
            plotted.len() - 1
        ));
    }
    intro
}

/// A benchmark's prediction by method `name`.
fn method<'a>(b: &Bench<'a>, name: &str) -> Option<&'a MethodPrediction> {
    b.predictions.methods.iter().find(|m| m.method == name)
}

fn summary(ids: &mut Ids, benches: &[Bench], methods: &[String]) -> Section {
    let mut header = vec!["benchmark", "items", "clusters", "P′ share", "actual"];
    header.extend(methods.iter().map(String::as_str));
    let mut predictions = Table::new("Predictions (accuracy in points)", &header, 1);
    let mut error_header = vec!["benchmark"];
    error_header.extend(methods.iter().map(String::as_str));
    let mut errors = Table::new("Absolute errors (points)", &error_header, 1);
    for b in benches {
        let p = b.predictions;
        let mut row = vec![
            p.name.clone(),
            p.items.to_string(),
            p.clusters.to_string(),
            percent(p.subset_share()),
            points(p.actual),
        ];
        row.extend(
            methods
                .iter()
                .map(|m| points(method(b, m).and_then(|m| m.prediction))),
        );
        predictions.row(row);
        let mut row = vec![p.name.clone()];
        row.extend(
            methods
                .iter()
                .map(|m| points(method(b, m).and_then(|m| m.abs_error))),
        );
        errors.row(row);
    }
    if benches.len() > 1 {
        let column = |m: &str| -> Vec<f64> {
            benches
                .iter()
                .filter_map(|b| method(b, m).and_then(|m| m.abs_error))
                .collect()
        };
        for (label, stat) in [
            (
                "mean",
                (|e: &[f64]| e.iter().sum::<f64>() / e.len() as f64) as fn(&[f64]) -> f64,
            ),
            ("max", |e: &[f64]| e.iter().copied().fold(0.0, f64::max)),
        ] {
            let mut row = vec![label.to_owned()];
            row.extend(methods.iter().map(|m| {
                let e = column(m);
                if e.is_empty() {
                    "-".to_owned()
                } else {
                    points(Some(stat(&e)))
                }
            }));
            errors.row(row);
        }
        let mut row = vec!["scored".to_owned()];
        row.extend(methods.iter().map(|m| column(m).len().to_string()));
        errors.row(row);
    }
    let mut blocks = vec![Block::Table(predictions), Block::Table(errors)];
    let own_actual: Vec<&str> = methods
        .iter()
        .filter(|m| {
            benches
                .iter()
                .any(|b| method(b, m).is_some_and(|m| m.actual.is_some()))
        })
        .map(String::as_str)
        .collect();
    if !own_actual.is_empty() {
        blocks.push(Block::Paragraph(format!(
            "The errors of {} are measured against the target's value of what the method \
             predicts, not the benchmark's actual; each benchmark's methods table says which.",
            own_actual.join(", ")
        )));
    }
    blocks.push(Block::Paragraph(
        "P′ share: the share of a benchmark's items in the predictable subset. Absolute errors \
         need the target's results in the data."
            .to_owned(),
    ));
    Section {
        id: ids.make("summary", ""),
        title: "Summary".to_owned(),
        blocks,
    }
}

/// The target's mean pass rate on each cluster's items, when the target has results.
fn target_observed(table: &EvalTable, b: &Bench) -> Vec<Option<f64>> {
    let n_models = table.models.len();
    let Some(t) = b
        .target
        .and_then(|target| table.models.iter().position(|m| m.name == target.name))
    else {
        return vec![None; b.clusters.clusters.len()];
    };
    let index: HashMap<&str, usize> = b
        .evals
        .items
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let mut sums = vec![(0.0, 0usize); b.clusters.clusters.len()];
    for (id, label) in b.clusters.items.iter().zip(&b.clusters.labels) {
        let (Some(label), Some(&item)) = (label, index.get(id.as_str())) else {
            continue;
        };
        if let (Some(rate), Some(sum)) = (
            b.evals.pass_rate(item, t, n_models),
            sums.get_mut(*label as usize),
        ) {
            sum.0 += rate;
            sum.1 += 1;
        }
    }
    sums.into_iter()
        .map(|(s, n)| (n > 0).then(|| s / n as f64))
        .collect()
}

fn section(
    ids: &mut Ids,
    table: &EvalTable,
    fits: &Fits,
    b: &Bench,
    params: &ReportParams,
) -> anyhow::Result<Section> {
    let target = b.target;
    let p = b.predictions;
    let id = ids.make("b", &p.name);
    let mut blocks = Vec::new();
    let n_clusters = b.clusters.clusters.len();
    let extrapolatable = b
        .fits
        .clusters
        .iter()
        .filter(|c| c.verdict == Verdict::Extrapolatable)
        .count();
    let outliers = b.clusters.labels.iter().filter(|l| l.is_none()).count();
    blocks.push(Block::Paragraph(format!(
        "{} items: {} clustered in {} ({} extrapolatable), {} outliers, {} never solved by the \
         ladder. P′ holds {} items ({}).{}",
        p.items,
        b.clusters.labels.len() - outliers,
        count(n_clusters, "cluster", "clusters"),
        extrapolatable,
        outliers,
        b.clusters.all_zero_items.len(),
        p.subset_items,
        percent(p.subset_share()),
        p.mapping.as_ref().map_or_else(String::new, |m| format!(
            " Mapping f: {}{}, RMSE {} on its points.",
            m.kind,
            smoothing(m).map_or_else(String::new, |s| format!(" ({s})")),
            fixed(Some(m.rmse), 4)
        ))
    )));
    let observed = target_observed(table, b);
    let target_name = target.map_or("the target", |t| t.name.as_str());

    let clusters_chart = cluster_chart(fits, target, b, &observed);
    blocks.push(Block::Figure(figure(
        &format!("{id}-clusters"),
        &cluster_caption(b, target_name, observed.iter().any(Option::is_some)),
        &clusters_chart,
        params.png,
    )?));
    if let Some(mapping) = &p.mapping {
        let (chart, caption) = mapping_chart(p, mapping, target_name);
        blocks.push(Block::Figure(figure(
            &format!("{id}-mapping"),
            &caption,
            &chart,
            params.png,
        )?));
    }
    if p.methods.iter().any(|m| m.prediction.is_some()) {
        let (chart, caption) = methods_chart(p, target_name);
        blocks.push(Block::Figure(figure(
            &format!("{id}-methods"),
            &caption,
            &chart,
            params.png,
        )?));
    }
    blocks.push(Block::Table(methods_table(p)));
    if let Some(m) = &p.mapping {
        blocks.push(Block::Table(mapping_table(&p.name, m)));
    }
    blocks.push(Block::Table(clusters_table(b, &observed, target_name)));
    Ok(Section {
        id,
        title: p.name.clone(),
        blocks,
    })
}

/// Marker radius for a cluster of `size` when the largest has `max`: 2 to 8 pixels by √size.
fn radius(size: usize, max: usize) -> u32 {
    2 + (6.0 * (size as f64 / max.max(1) as f64).sqrt()).round() as u32
}

fn cluster_chart(
    fits: &Fits,
    target: Option<&Model>,
    b: &Bench,
    observed: &[Option<f64>],
) -> Chart {
    let law = CodLaw { guess: None };
    let flops: Vec<f64> = fits.ladder.iter().map(|m| m.flops).collect();
    let lo = flops.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = flops
        .iter()
        .copied()
        .chain(target.map(|t| t.flops))
        .fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if lo.is_finite() && hi.is_finite() && lo > 0.0 {
        (lo, hi)
    } else {
        (1e18, 1e19)
    };
    let curve_x = log_space(lo / 1.5, hi * 1.5, 90);
    let busy = b.fits.clusters.len() > 40;
    let max_size = b.fits.clusters.iter().map(|c| c.size).max().unwrap_or(1);
    let mut layers = Vec::new();
    let mut labelled: Vec<&str> = Vec::new();
    // Largest clusters last, so they are on top.
    let mut order: Vec<usize> = (0..b.fits.clusters.len()).collect();
    order.sort_by_key(|&i| b.fits.clusters[i].size);
    for &i in &order {
        let c = &b.fits.clusters[i];
        let col = verdict_colour(&c.verdict);
        let kept = c.verdict == Verdict::Extrapolatable;
        if c.params.len() == 4 {
            let points: Vec<(f64, f64)> = curve_x
                .iter()
                .map(|&x| (x, 100.0 * law.value(x / COMPUTE_UNIT, &c.params)))
                .filter(|p| p.1.is_finite())
                .collect();
            let alpha = match (kept, busy) {
                (true, false) => 0.85,
                (true, true) => 0.6,
                (false, false) => 0.55,
                (false, true) => 0.35,
            };
            let stroke = Stroke {
                colour: col,
                alpha,
                width: if kept && c.size * 10 >= max_size {
                    2
                } else {
                    1
                },
                dashed: !kept,
            };
            layers.push(Layer::Line {
                points,
                stroke,
                label: None,
            });
        }
        let name = c.verdict.name();
        let label = (!labelled.contains(&name)).then(|| {
            labelled.push(name);
            let n = b
                .fits
                .clusters
                .iter()
                .filter(|d| d.verdict.name() == name)
                .count();
            format!("{name} ({n})")
        });
        layers.push(Layer::Points {
            points: flops
                .iter()
                .zip(&c.accuracy)
                .map(|(&x, &y)| (x, 100.0 * y, radius(c.size, max_size)))
                .collect(),
            style: MarkerStyle::new(Marker::Circle, col, true).alpha(if busy { 0.55 } else { 0.8 }),
            label,
        });
    }
    if let Some(t) = target {
        layers.push(Layer::VLine {
            x: t.flops,
            stroke: Stroke::dashed(INK, 1),
            label: Some(format!("{} ({} FLOPs)", t.name, sci(t.flops))),
        });
        let seen: Vec<(f64, f64, u32)> = observed
            .iter()
            .filter_map(|o| o.map(|y| (t.flops, 100.0 * y, 5)))
            .collect();
        if !seen.is_empty() {
            layers.push(Layer::Points {
                points: seen,
                style: MarkerStyle::new(Marker::Cross, INK, false).alpha(0.8),
                label: Some(format!("{} observed, per cluster", t.name)),
            });
        }
    }
    Chart::Xy(XyPlot {
        title: format!("{}: clusters' accuracy vs compute", b.predictions.name),
        x: Axis::log("training compute (FLOPs)", (lo / 1.5, hi * 1.5)),
        y: Axis::linear("accuracy (%)", FULL_SCALE),
        layers,
    })
}

fn cluster_caption(b: &Bench, target: &str, observed: bool) -> String {
    let mut by_verdict = Vec::new();
    for (name, _) in VERDICTS {
        let n = b
            .fits
            .clusters
            .iter()
            .filter(|c| c.verdict.name() == name)
            .count();
        if n > 0 {
            by_verdict.push(format!("{n} {name}"));
        }
    }
    format!(
        "Each cluster's mean pass rate on the ladder models (markers, area by cluster size) and \
         its fitted COD law y = g + (1 − g)·exp(−a·C^(−b) − c) (C in 1e18 FLOPs), extended to {target}'s compute (dashed vertical \
         line). Colour is the verdict: {}. Solid curves are the extrapolatable clusters (P′); \
         the others are dashed.{}",
        if by_verdict.is_empty() {
            "no clusters".to_owned()
        } else {
            by_verdict.join(", ")
        },
        if observed {
            format!(" × marks {target}'s observed accuracy on each cluster.")
        } else {
            String::new()
        }
    )
}

/// f as a path in points, from its sampling in the artifact; without one, a monotone path through
/// the fit points, and a note saying so for the caption.
fn mapping_curve(m: &Mapping) -> (Vec<(f64, f64)>, &'static str) {
    if !m.curve.is_empty() {
        let curve = m
            .curve
            .iter()
            .map(|q| (100.0 * q[0], 100.0 * q[1]))
            .collect();
        return (curve, "");
    }
    let mut path: Vec<(f64, f64)> = m
        .points
        .iter()
        .map(|q| (100.0 * q.subset, 100.0 * q.full))
        .collect();
    path.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut top = f64::NEG_INFINITY;
    for q in &mut path {
        top = top.max(q.1);
        q.1 = top;
    }
    (
        path,
        " The artifact holds no sampling of f: the line is a monotone piecewise-linear path \
         through the fit points, not f itself.",
    )
}

/// The mapping's fit points: the ladder models, the pinned end points and the anchors (used or
/// rejected).
fn mapping_points(m: &Mapping) -> Vec<Layer> {
    let anchor_used = |source: &str| m.anchors.iter().any(|a| a.accepted && a.model == source);
    let mut layers = Vec::new();
    let group = |keep: &dyn Fn(&str) -> bool| -> Vec<(f64, f64, u32)> {
        m.points
            .iter()
            .filter(|q| keep(&q.source))
            .map(|q| (100.0 * q.subset, 100.0 * q.full, 5))
            .collect()
    };
    let ends = group(&|s| s == "end point");
    let anchors = group(&|s| anchor_used(s));
    let ladder = group(&|s| s != "end point" && !anchor_used(s));
    layers.push(Layer::Points {
        points: ladder,
        style: MarkerStyle::new(Marker::Circle, colour(0), true),
        label: Some("ladder models".to_owned()),
    });
    if !ends.is_empty() {
        layers.push(Layer::Points {
            points: ends,
            style: MarkerStyle::new(Marker::Square, INK, false),
            label: Some("pinned end points".to_owned()),
        });
    }
    if !anchors.is_empty() {
        layers.push(Layer::Points {
            points: anchors,
            style: MarkerStyle::new(Marker::Triangle, colour(2), true),
            label: Some("anchors, used".to_owned()),
        });
    }
    let rejected: Vec<(f64, f64, u32)> = m
        .anchors
        .iter()
        .filter(|a| !a.accepted)
        .map(|a| (100.0 * a.subset, 100.0 * a.full, 6))
        .collect();
    if !rejected.is_empty() {
        layers.push(Layer::Points {
            points: rejected,
            style: MarkerStyle::new(Marker::Cross, colour(3), false),
            label: Some("anchors, rejected".to_owned()),
        });
    }
    layers
}

/// The mapping f: its fit points, its curve (sampled in the artifact) and the target's mapped
/// prediction.
fn mapping_chart(p: &BenchmarkPredictions, m: &Mapping, target: &str) -> (Chart, String) {
    let mut layers = vec![Layer::Line {
        points: vec![(0.0, 0.0), (100.0, 100.0)],
        stroke: Stroke::dashed(GREY, 1),
        label: Some("y = x".to_owned()),
    }];
    let (curve, curve_note) = mapping_curve(m);
    layers.push(Layer::Line {
        points: curve,
        stroke: Stroke::solid(colour(0), 2),
        label: Some(format!(
            "f ({}{})",
            m.kind,
            smoothing(m).map_or_else(String::new, |s| format!(", {s}"))
        )),
    });
    layers.extend(mapping_points(m));
    let cod = p
        .methods
        .iter()
        .find(|x| x.method == PerItemMethod::Cod)
        .and_then(|x| x.prediction);
    let mut target_note = String::new();
    if let Some(s) = p.subset_prediction {
        layers.push(Layer::VLine {
            x: 100.0 * s,
            stroke: Stroke::dashed(colour(1), 1),
            label: Some(format!("subset predicted at {target}: {}", points(Some(s)))),
        });
        if let Some(c) = cod {
            layers.push(Layer::Points {
                points: vec![(100.0 * s, 100.0 * c, 7)],
                style: MarkerStyle::new(Marker::Circle, colour(1), false),
                label: Some(format!("COD prediction {}", points(Some(c)))),
            });
            target_note = format!(
                " The orange circle is {target}: P′ predicted at {}, mapped to {}.",
                points(Some(s)),
                points(Some(c))
            );
        }
    }
    if let Some(a) = p.actual {
        layers.push(Layer::HLine {
            y: 100.0 * a,
            stroke: Stroke::dashed(INK, 1),
            label: Some(format!("{target} actual {}", points(Some(a)))),
        });
    }
    let chart = Chart::Xy(XyPlot {
        title: format!("{}: mapping f from P' to the full benchmark", p.name),
        x: Axis::linear("predictable subset accuracy (%)", FULL_SCALE),
        y: Axis::linear("full benchmark accuracy (%)", FULL_SCALE),
        layers,
    });
    let caption = format!(
        "The mapping f from P′ accuracy to full-benchmark accuracy: its fit points (each ladder \
         model's accuracy on P′ and on the whole benchmark, the pinned end points (0, 0) and \
         (1, 1), and any anchors) and f itself ({}, RMSE {} on the points).{curve_note}{target_note}",
        m.kind,
        fixed(Some(m.rmse), 4)
    );
    (chart, caption)
}

/// The (low, high) interval of a method's prediction, when a bootstrap stage computed one.
fn interval(m: &MethodPrediction) -> Option<(f64, f64)> {
    m.interval
}

fn methods_chart(p: &BenchmarkPredictions, target: &str) -> (Chart, String) {
    let rows: Vec<String> = p
        .methods
        .iter()
        .map(|m| m.method.name().to_owned())
        .collect();
    let values: Vec<Option<Estimate>> = p
        .methods
        .iter()
        .map(|m| {
            m.prediction.map(|v| Estimate {
                value: 100.0 * v,
                interval: interval(m).map(|(lo, hi)| (100.0 * lo, 100.0 * hi)),
            })
        })
        .collect();
    let mut references = Vec::new();
    if let Some(a) = p.actual {
        references.push(RowReference {
            label: format!("{target} actual {}", points(Some(a))),
            x: 100.0 * a,
            stroke: Stroke::dashed(INK, 2),
            row: None,
        });
    }
    let mut own = false;
    for (i, m) in p.methods.iter().enumerate() {
        if let Some(a) = m.actual {
            references.push(RowReference {
                label: if own {
                    String::new()
                } else {
                    "the method's own actual".to_owned()
                },
                x: 100.0 * a,
                stroke: Stroke::solid(colour(3), 3),
                row: Some(i),
            });
            own = true;
        }
    }
    let x_range = padded_range(
        values
            .iter()
            .flatten()
            .flat_map(|e| {
                [
                    Some(e.value),
                    e.interval.map(|i| i.0),
                    e.interval.map(|i| i.1),
                ]
            })
            .flatten()
            .chain(references.iter().map(|r| r.x)),
        0.15,
        4.0,
        (0.0, 100.0),
    );
    let chart = Chart::Rows(RowPlot {
        title: format!("{}: every method's prediction for {target}", p.name),
        rows,
        x_label: "accuracy (%)".to_owned(),
        x_range,
        series: vec![RowSeries {
            label: "prediction".to_owned(),
            style: MarkerStyle::new(Marker::Circle, colour(0), true),
            values,
        }],
        references,
    });
    let caption = format!(
        "Every method's prediction for {target}{}{}. Bars are bootstrap prediction intervals, \
         when the pipeline computes them.",
        if p.actual.is_some() {
            ", and the actual accuracy (dashed line)"
        } else {
            " (the target's actual accuracy is not in the data)"
        },
        if own {
            "; a red tick marks a method's own actual where it predicts something else"
        } else {
            ""
        }
    );
    (chart, caption)
}

fn methods_table(p: &BenchmarkPredictions) -> Table {
    let mut t = Table::new(
        &format!("{}: predictions (points)", p.name),
        &["method", "prediction", "actual", "abs error", "note"],
        1,
    );
    t.numeric[4] = false;
    for m in &p.methods {
        t.row(vec![
            m.method.name().to_owned(),
            points(m.prediction),
            points(m.actual.or(p.actual)),
            points(m.abs_error),
            m.note.clone().unwrap_or_default(),
        ]);
    }
    t
}

/// f's fit points by source, and the anchors it was offered.
fn mapping_table(name: &str, m: &Mapping) -> Table {
    let mut t = Table::new(
        &format!("{name}: the mapping's fit points (accuracy in points)"),
        &[
            "source",
            "P′ accuracy",
            "full accuracy",
            "weight",
            "anchor check",
        ],
        1,
    );
    t.numeric[4] = false;
    let check = |source: &str| {
        m.anchors
            .iter()
            .find(|a| a.model == source)
            .map_or_else(String::new, |a| {
                format!(
                    "{} ({} from f without anchors)",
                    if a.accepted { "used" } else { "rejected" },
                    fixed(Some(a.distance), 4)
                )
            })
    };
    for q in &m.points {
        t.row(vec![
            q.source.clone(),
            points(Some(q.subset)),
            points(Some(q.full)),
            param(q.weight),
            check(&q.source),
        ]);
    }
    for a in m.anchors.iter().filter(|a| !a.accepted) {
        t.row(vec![
            a.model.clone(),
            points(Some(a.subset)),
            points(Some(a.full)),
            "-".to_owned(),
            check(&a.model),
        ]);
    }
    t
}

fn clusters_table(b: &Bench, observed: &[Option<f64>], target: &str) -> Table {
    let at_target = format!("at {target}");
    let seen = format!("{target} observed");
    let mut t = Table::new(
        &format!("{}: clusters (accuracy in points)", b.predictions.name),
        &[
            "cluster", "size", "verdict", "a", "b", "c", "g", "rmse", &at_target, &seen,
        ],
        0,
    );
    t.numeric[2] = false;
    for (i, c) in b.fits.clusters.iter().enumerate() {
        let p = |k: usize| {
            c.params
                .get(k)
                .map_or_else(|| "-".to_owned(), |v| param(*v))
        };
        t.row(vec![
            i.to_string(),
            c.size.to_string(),
            c.verdict.name().to_owned(),
            p(0),
            p(1),
            p(2),
            p(3),
            fixed(Some(c.rmse), 4),
            points(c.prediction),
            points(observed.get(i).copied().flatten()),
        ]);
    }
    t
}

/// How smooth a mapping was made: the Reinsch spline's λ, or the FITPACK spline's s and its
/// interior knots.
fn smoothing(m: &Mapping) -> Option<String> {
    if let Some(l) = m.lambda {
        return Some(format!("λ = {}", param(l)));
    }
    let s = m.s?;
    let knots = match m.knots.len() {
        0 => "no interior knot".to_owned(),
        1 => "1 interior knot".to_owned(),
        n => format!("{n} interior knots"),
    };
    Some(format!("s = {}, {knots}", param(s)))
}
