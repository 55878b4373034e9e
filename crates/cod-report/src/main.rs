use std::path::PathBuf;

use clap::Parser;
use cod_report::{ReportParams, ReportStage};

/// Render a per-item pipeline's artifacts as a report: per benchmark, the clusters' scaling
/// curves, the mapping f and every method's prediction, with summary tables, as `report.md` and
/// a self-contained `report.html` inside a `report` artifact.
///
/// This is the pipeline's `report` stage, runnable by hand; it writes the same artifact as
/// `cod pipeline run`. With `--files DIR` it also writes the report's files there, as
/// `cod pipeline run` does into `out/<pipeline>/`.
#[derive(Parser)]
#[command(
    version,
    after_help = "Example:\n  cod-report --eval-table out/mmlu/ingest.bin --clusters out/mmlu/cluster.bin \
                  --fits out/mmlu/fit.bin --predictions out/mmlu/map.bin --output report.bin --files report/"
)]
struct Cli {
    /// The `eval-table` artifact.
    #[arg(long)]
    eval_table: PathBuf,
    /// The `clusters` artifact.
    #[arg(long)]
    clusters: PathBuf,
    /// The `fits` artifact made from those clusters.
    #[arg(long)]
    fits: PathBuf,
    /// The `predictions` artifact made from those fits.
    #[arg(long)]
    predictions: PathBuf,
    #[command(flatten)]
    params: ReportParams,
    /// Where to write the `report` artifact.
    #[arg(long)]
    output: PathBuf,
    /// Also write `report.md`, `report.html` and any plot files into this directory.
    #[arg(long, value_name = "DIR")]
    files: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    cod_pipeline::run_stage_binary_with_files::<ReportStage>(
        &cli.params,
        &[cli.eval_table, cli.clusters, cli.fits, cli.predictions],
        &cli.output,
        cli.files.as_deref(),
        cod_report::write_files,
    )
}
