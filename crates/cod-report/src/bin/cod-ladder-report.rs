use std::path::PathBuf;

use clap::Parser;
use cod_report::{LadderReportParams, LadderReportStage};

/// Render a ladder pipeline's artifacts as a report: per task, step 1 (loss against compute),
/// step 2 (accuracy against loss) and every method's prediction, with the summary tables, as
/// `report.md` and a self-contained `report.html` inside a `report` artifact.
///
/// This is the pipeline's `ladder-report` stage, runnable by hand; it writes the same artifact as
/// `cod pipeline run`. With `--files DIR` it also writes the report's files there, as
/// `cod pipeline run` does into `out/<pipeline>/`.
#[derive(Parser)]
#[command(
    version,
    after_help = "Example:\n  cod-ladder-report --runs out/olmo-ladder/ingest.bin \
                  --ladder-fits out/olmo-ladder/ladder.bin --output report.bin --files report/"
)]
struct Cli {
    /// The `training-runs` artifact (from the `ingest-runs` stage).
    #[arg(long)]
    runs: PathBuf,
    /// The `ladder-fits` artifact made from those runs.
    #[arg(long)]
    ladder_fits: PathBuf,
    #[command(flatten)]
    params: LadderReportParams,
    /// Where to write the `report` artifact.
    #[arg(long)]
    output: PathBuf,
    /// Also write `report.md`, `report.html` and any plot files into this directory.
    #[arg(long, value_name = "DIR")]
    files: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    cod_pipeline::run_stage_binary_with_files::<LadderReportStage>(
        &cli.params,
        &[cli.runs, cli.ladder_fits],
        &cli.output,
        cli.files.as_deref(),
        cod_report::write_files,
    )
}
