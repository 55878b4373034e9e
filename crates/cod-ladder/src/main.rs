use std::path::PathBuf;

use clap::Parser;
use cod_ladder::{LadderParams, LadderStage};

/// Fit the model-ladder two-step task scaling law and predict every target run.
///
/// Step 1 fits task loss from parameters N and tokens D, L(N, D) = A/N^α + B/D^β + E, to one
/// point per ladder run (its final D and the mean loss of its last checkpoints), with a Huber loss
/// on log residuals. Step 2 fits accuracy from task loss, Acc(L) = a/(1 + exp(−k·(L − L0))) + b,
/// to every checkpoint of every run after dropping each run's first 10% and smoothing. The
/// prediction chains both (METHODS §2). The loss-intermediate baseline replaces step 1 by
/// L(C) = A·C^(−α) + E on compute C = 6·N·D.
///
/// This is the pipeline's `ladder` stage, runnable by hand; it writes the same artifact as
/// `cod pipeline run`.
#[derive(Parser)]
#[command(
    version,
    after_help = "Example:\n  cod-ladder --runs out/olmo-ladder/ingest.bin --output ladder.bin --task mmlu"
)]
struct Cli {
    /// The `training-runs` artifact (from the `ingest-runs` stage).
    #[arg(long)]
    runs: PathBuf,
    #[command(flatten)]
    params: LadderParams,
    /// Where to write the `ladder-fits` artifact.
    #[arg(long)]
    output: PathBuf,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    cod_pipeline::run_stage_binary::<LadderStage>(&cli.params, &[cli.runs], &cli.output)
}
