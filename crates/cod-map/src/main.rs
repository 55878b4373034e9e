use std::path::PathBuf;

use clap::Parser;
use cod_map::{MapParams, MapStage};

/// Predict each benchmark's full accuracy at the target: the predictable subset's prediction
/// mapped through f, a smoothing spline fitted to the ladder's (subset, full) accuracies with
/// (0, 0) and (1, 1) pinned; plus the baselines.
///
/// This is the pipeline's `map` stage, runnable by hand; it writes the same artifact as
/// `cod pipeline run`.
#[derive(Parser)]
#[command(
    version,
    after_help = "Example:\n  cod-map --eval-table out/mmlu/ingest.bin --clusters out/mmlu/cluster.bin \
                  --fits out/mmlu/fit.bin --output predictions.bin"
)]
struct Cli {
    /// The `eval-table` artifact (every model's per-item results).
    #[arg(long)]
    eval_table: PathBuf,
    /// The `clusters` artifact.
    #[arg(long)]
    clusters: PathBuf,
    /// The `fits` artifact made from those clusters.
    #[arg(long)]
    fits: PathBuf,
    #[command(flatten)]
    params: MapParams,
    /// Where to write the `predictions` artifact.
    #[arg(long)]
    output: PathBuf,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    cod_pipeline::run_stage_binary::<MapStage>(
        &cli.params,
        &[cli.eval_table, cli.clusters, cli.fits],
        &cli.output,
    )
}
