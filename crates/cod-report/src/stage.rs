//! The `report` and `ladder-report` stages.

use std::path::{Path, PathBuf};

use anyhow::bail;
use cod_artifact::{
    ArtifactKind, Clusters, EvalTable, Fits, LadderFits, Predictions, Report, TrainingRuns,
};
use cod_pipeline::{Progress, Stage};
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
    const KIND: &'static str = "report";
    /// Bump on any change to what the report shows or how it is drawn (the font included).
    const VERSION: u32 = 2;
    const OUTPUT: ArtifactKind = ArtifactKind::Report;
    const INPUTS: &'static [ArtifactKind] = &[
        ArtifactKind::EvalTable,
        ArtifactKind::Clusters,
        ArtifactKind::Fits,
        ArtifactKind::Predictions,
    ];

    fn validate(params: &ReportParams) -> anyhow::Result<()> {
        check_title(params.title.as_ref())
    }

    fn run(
        params: &ReportParams,
        inputs: &[PathBuf],
        output: &Path,
        _progress: &Progress,
    ) -> anyhow::Result<()> {
        let table: EvalTable = cod_artifact::read(&inputs[0])?;
        let clusters: Clusters = cod_artifact::read(&inputs[1])?;
        let fits: Fits = cod_artifact::read(&inputs[2])?;
        let predictions: Predictions = cod_artifact::read(&inputs[3])?;
        let report = report(&table, &clusters, &fits, &predictions, params)?;
        cod_artifact::write(output, &report)?;
        Ok(())
    }
}

/// Renders a ladder pipeline's artifacts as a report.
pub struct LadderReportStage;

impl Stage for LadderReportStage {
    type Params = LadderReportParams;
    const KIND: &'static str = "ladder-report";
    /// Bump on any change to what the report shows or how it is drawn (the font included).
    const VERSION: u32 = 2;
    const OUTPUT: ArtifactKind = ArtifactKind::Report;
    const INPUTS: &'static [ArtifactKind] = &[ArtifactKind::TrainingRuns, ArtifactKind::LadderFits];

    fn validate(params: &LadderReportParams) -> anyhow::Result<()> {
        check_title(params.title.as_ref())
    }

    fn run(
        params: &LadderReportParams,
        inputs: &[PathBuf],
        output: &Path,
        _progress: &Progress,
    ) -> anyhow::Result<()> {
        let runs: TrainingRuns = cod_artifact::read(&inputs[0])?;
        let fits: LadderFits = cod_artifact::read(&inputs[1])?;
        let report = ladder_report(&runs, &fits, params)?;
        cod_artifact::write(output, &report)?;
        Ok(())
    }
}
