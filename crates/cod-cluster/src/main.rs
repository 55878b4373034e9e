use std::path::PathBuf;

use clap::Parser;
use cod_cluster::{ClusterParams, ClusterStage};

/// Cluster benchmark items by difficulty: their pass-rate vectors over the ladder.
///
/// This is the pipeline's `cluster` stage, runnable by hand; it writes the same artifact as
/// `cod pipeline run`. The default method is the COD paper's improved MeanShift: radius
/// R = min(bandwidth(X, Q), U), repeated MeanShift on unclustered items, points farther than R from
/// their centre and clusters smaller than K left as outliers.
#[derive(Parser)]
#[command(
    version,
    after_help = "Examples:\n  cod-cluster --input out/mmlu/features.bin --output clusters.bin\n  \
                  cod-cluster --input features.bin --output c.bin --method kmeans --k 20\n  \
                  cod-cluster --input new-ladder-features.bin --output c.bin --method assign \
                  --from out/mmlu/cluster.bin"
)]
struct Cli {
    /// The `features` artifact written by `cod-features`.
    #[arg(long)]
    input: PathBuf,
    #[command(flatten)]
    params: ClusterParams,
    /// Where to write the `clusters` artifact.
    #[arg(long)]
    output: PathBuf,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    cod_pipeline::run_stage_binary::<ClusterStage>(&cli.params, &[cli.input], &cli.output)
}
