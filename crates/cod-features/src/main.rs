use std::path::PathBuf;

use clap::Parser;
use cod_features::{FeaturesParams, FeaturesStage};

/// Compute difficulty features: each item's pass rates over the ladder, by increasing compute.
///
/// This is the pipeline's `features` stage, runnable by hand; it writes the same artifact as
/// `cod pipeline run`. Items that no ladder model solved are removed and listed in the artifact.
#[derive(Parser)]
#[command(
    version,
    after_help = "Example:\n  cod-features --input out/mmlu/ingest.bin --output features.bin"
)]
struct Cli {
    /// The `eval-table` artifact written by `cod-ingest`.
    #[arg(long)]
    input: PathBuf,
    #[command(flatten)]
    params: FeaturesParams,
    /// Where to write the `features` artifact.
    #[arg(long)]
    output: PathBuf,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    cod_pipeline::run_stage_binary::<FeaturesStage>(&cli.params, &[cli.input], &cli.output)
}
