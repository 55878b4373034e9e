use std::path::PathBuf;

use clap::Parser;
use cod_ingest::{IngestParams, IngestStage};

/// Read a tidy results table and a models manifest into an `eval-table` artifact.
///
/// This is the pipeline's `ingest` stage, runnable by hand; it writes the same artifact as
/// `cod pipeline run`.
#[derive(Parser)]
#[command(
    version,
    after_help = "Example:\n  cod-ingest --path fixtures/mmlu/items.parquet \
                  --manifest fixtures/mmlu/models.toml --output ingest.bin"
)]
struct Cli {
    #[command(flatten)]
    params: IngestParams,
    /// Where to write the `eval-table` artifact.
    #[arg(long)]
    output: PathBuf,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    cod_pipeline::run_stage_binary::<IngestStage>(&cli.params, &[], &cli.output)
}
