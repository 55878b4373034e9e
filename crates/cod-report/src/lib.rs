//! Reports: the artifacts of a pipeline rendered as plots and tables, in `report.md` and a
//! self-contained `report.html` (inline SVG and CSS, the font embedded, no scripts).
//!
//! Two stages: `report` for the per-item pipelines (COD and its baselines: cluster scaling
//! curves, the mapping f, every method's prediction) and `ladder-report` for the two-step ladder
//! law (step 1, step 2, every method's prediction). Both build a [`doc::Document`] from the
//! artifacts and render it twice, so the Markdown and the HTML always agree. Plots are drawn with
//! plotters ([`plot`]) from plain chart descriptions.
//!
//! **Invariant**: renders artifacts and computes no predictions. Every number shown is read from
//! an input artifact or is a plain summary of such numbers (mean errors, the target's observed
//! accuracy on a cluster); the fitted laws are evaluated (through `cod-fit`'s `Law`) only to draw
//! their curves, and the mapping f is drawn from the sampling the map stage stores. Reads no files
//! but its input artifacts: the font is compiled in.

mod base64;
mod benchmarks;
mod doc;
mod format;
mod ladder;
mod plot;
mod recommend;
mod stage;

#[cfg(test)]
mod tests;

pub use stage::{
    BINARY, LADDER_BINARY, LadderReportParams, LadderReportStage, ReportParams, ReportStage,
    ladder_report, report,
};

/// Draws `chart` into a figure; with `png`, also as `plots/<id>.png`.
fn figure(id: &str, caption: &str, chart: &plot::Chart, png: bool) -> anyhow::Result<doc::Figure> {
    let rendered =
        plot::render(chart, png).map_err(|err| anyhow::anyhow!("drawing plot `{id}`: {err:#}"))?;
    Ok(doc::Figure {
        id: id.to_owned(),
        caption: caption.to_owned(),
        svg: rendered.svg,
        png: rendered.png.map(|bytes| (format!("plots/{id}.png"), bytes)),
    })
}
