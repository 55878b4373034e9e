use std::path::PathBuf;

use clap::Parser;
use cod_fit::{FitParams, FitStage};

/// Fit the COD law y = g + (1 − g)·exp(−a·C^(−b) − c) to every cluster, judge whether it may be
/// extrapolated, and predict it at the target's compute.
///
/// This is the pipeline's `fit` stage, runnable by hand; it writes the same artifact as
/// `cod pipeline run`. Compute C is in units of 1e18 FLOPs. A cluster is extrapolatable iff
/// a > 1, b > 0.1 and 0 ≤ c < 1 (METHODS §1.4).
#[derive(Parser)]
#[command(
    version,
    after_help = "Example:\n  cod-fit --eval-table out/mmlu/ingest.bin --features out/mmlu/features.bin \
                  --clusters out/mmlu/cluster.bin --output fits.bin --guess 0.25"
)]
struct Cli {
    /// The `eval-table` artifact (for the target's compute).
    #[arg(long)]
    eval_table: PathBuf,
    /// The `features` artifact the clusters were made from.
    #[arg(long)]
    features: PathBuf,
    /// The `clusters` artifact.
    #[arg(long)]
    clusters: PathBuf,
    #[command(flatten)]
    params: FitParams,
    /// Where to write the `fits` artifact.
    #[arg(long)]
    output: PathBuf,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    cod_pipeline::run_stage_binary::<FitStage>(
        &cli.params,
        &[cli.eval_table, cli.features, cli.clusters],
        &cli.output,
    )
}
