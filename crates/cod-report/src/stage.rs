//! The `report` and `ladder-report` stages.

use anyhow::bail;
use cod_artifact::{Clusters, EvalTable, Fits, LadderFits, Predictions, Report, TrainingRuns};
use cod_fit::FitStage;
use cod_pipeline::{Code, Progress, Stage, StageBinary};
use serde::{Deserialize, Serialize};

use crate::doc::Document;

fn default_plotted() -> usize {
    5
}

/// Parameters of the `report` stage.
#[derive(Clone, Debug, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    /// Also write every plot as a PNG file, `plots/<figure id>.png`, linked from `report.md`.
    #[arg(long)]
    #[serde(default)]
    pub png: bool,
    /// The report's title [default: from the target and the benchmarks].
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// At most this many benchmarks get a section with plots: all of them when there are no
    /// more, else the largest (the union, when ingest made one) and the first others in input
    /// order. The summary tables list every benchmark.
    #[arg(long, default_value_t = default_plotted())]
    #[serde(default = "default_plotted")]
    pub plotted: usize,
}

/// Parameters of the `ladder-report` stage.
#[derive(Clone, Debug, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct LadderReportParams {
    /// Also write every plot as a PNG file, `plots/<figure id>.png`, linked from `report.md`.
    #[arg(long)]
    #[serde(default)]
    pub png: bool,
    /// The report's title [default: from the targets and the tasks].
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

fn check_title(title: Option<&String>) -> anyhow::Result<()> {
    if title.is_some_and(|t| t.trim().is_empty()) {
        bail!("`title` must not be empty; leave it out for the default title");
    }
    Ok(())
}

fn into_report(doc: &Document) -> Report {
    Report {
        title: doc.title.clone(),
        markdown: doc.markdown(),
        html: doc.html(),
        files: doc.png_files(),
    }
}

/// The report of a per-item pipeline: every benchmark in the tables, plots for up to
/// `plotted` of them.
pub fn report(
    table: &EvalTable,
    clusters: &Clusters,
    fits: &Fits,
    predictions: &Predictions,
    params: &ReportParams,
) -> anyhow::Result<Report> {
    check_title(params.title.as_ref())?;
    let doc = crate::benchmarks::document(table, clusters, fits, predictions, params)?;
    Ok(into_report(&doc))
}

/// The report of a ladder pipeline: every task with its plots.
pub fn ladder_report(
    runs: &TrainingRuns,
    fits: &LadderFits,
    params: &LadderReportParams,
) -> anyhow::Result<Report> {
    check_title(params.title.as_ref())?;
    let doc = crate::ladder::document(runs, fits, params)?;
    Ok(into_report(&doc))
}

/// Renders a per-item pipeline's artifacts as a report.
pub struct ReportStage;

impl Stage for ReportStage {
    type Params = ReportParams;
    type Inputs = (EvalTable, Clusters, Fits, Predictions);
    type Output = Report;
    const KIND: &'static str = "report";
    /// Bump on any change to what the report shows or how it is drawn (the font included). It
    /// draws the fitted laws with `fit`'s code.
    const CODE: Code = Code::new("report", 4, &[&FitStage::CODE]);

    fn validate(params: &ReportParams) -> anyhow::Result<()> {
        check_title(params.title.as_ref())
    }

    fn run(
        params: &ReportParams,
        (table, clusters, fits, predictions): (EvalTable, Clusters, Fits, Predictions),
        _progress: &Progress,
    ) -> anyhow::Result<Report> {
        report(&table, &clusters, &fits, &predictions, params)
    }
}

/// `cod-report`, the report stage's binary.
pub const BINARY: StageBinary = StageBinary {
    name: "cod-report",
    about: "Render a per-item pipeline's artifacts as a report",
    long_about: "Per benchmark: the clusters' scaling curves, the mapping f and every method's \
                 prediction, with summary tables, as `report.md` and a self-contained \
                 `report.html` inside a `report` artifact. With `--files DIR` it also writes the \
                 report's files there, as `cod pipeline run` does into `out/<pipeline>/`.",
    inputs: &["eval-table", "clusters", "fits", "predictions"],
    examples: &[
        "cod-report --eval-table out/mmlu/ingest.bin --clusters out/mmlu/cluster.bin \
                 --fits out/mmlu/fit.bin --predictions out/mmlu/map.bin --output report.bin \
                 --files report/",
    ],
};

/// Renders a ladder pipeline's artifacts as a report.
pub struct LadderReportStage;

impl Stage for LadderReportStage {
    type Params = LadderReportParams;
    type Inputs = (TrainingRuns, LadderFits);
    type Output = Report;
    const KIND: &'static str = "ladder-report";
    /// Bump on any change to what the report shows or how it is drawn (the font included). It
    /// draws the fitted laws with `fit`'s code.
    const CODE: Code = Code::new("ladder-report", 4, &[&FitStage::CODE]);

    fn validate(params: &LadderReportParams) -> anyhow::Result<()> {
        check_title(params.title.as_ref())
    }

    fn run(
        params: &LadderReportParams,
        (runs, fits): (TrainingRuns, LadderFits),
        _progress: &Progress,
    ) -> anyhow::Result<Report> {
        ladder_report(&runs, &fits, params)
    }
}

/// `cod-ladder-report`, the ladder report stage's binary.
pub const LADDER_BINARY: StageBinary = StageBinary {
    name: "cod-ladder-report",
    about: "Render a ladder pipeline's artifacts as a report",
    long_about: "Per task: step 1 (loss against compute), step 2 (accuracy against loss) and \
                 every method's prediction, with the summary tables, as `report.md` and a \
                 self-contained `report.html` inside a `report` artifact. With `--files DIR` it \
                 also writes the report's files there, as `cod pipeline run` does into \
                 `out/<pipeline>/`.",
    inputs: &["runs", "ladder-fits"],
    examples: &["cod-ladder-report --runs out/olmo-ladder/ingest.bin \
                 --ladder-fits out/olmo-ladder/ladder.bin --output report.bin --files report/"],
};
