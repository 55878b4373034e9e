use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use cod_ingest::{IngestRunsParams, IngestRunsStage};

/// Read per-checkpoint training-run exports (one CSV or Parquet file per run, one row per evaluated
/// checkpoint, e.g. wandb exports of the OLMo ladder) into a `training-runs` artifact.
///
/// This is the pipeline's `ingest-runs` stage, runnable by hand; it writes the same artifact as
/// `cod pipeline run`. Its parameters are a TOML file holding what a pipeline file's stage table
/// holds: `dir`, `manifest`, `preset`, `columns` and `[[tasks]]`; relative paths resolve against
/// the current directory.
#[derive(Parser)]
#[command(
    version,
    after_help = "Example (params.toml):\n  \
        dir = \"../shared/data/olmo-ladder\"\n  \
        manifest = \"pipelines/manifests/olmo-ladder.toml\"\n  \
        [[tasks]]\n  \
        name = \"hellaswag\"\n  \
        source = \"hellaswag_val\"\n\n  \
        cod-ingest-runs --params params.toml --output runs.bin"
)]
struct Cli {
    /// The stage's parameters (TOML).
    #[arg(long)]
    params: PathBuf,
    /// Where to write the `training-runs` artifact.
    #[arg(long)]
    output: PathBuf,
}

fn read_params(path: &PathBuf) -> anyhow::Result<IngestRunsParams> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    toml::from_str(&text).map_err(|err| {
        anyhow::anyhow!(
            "`{}`: invalid parameters: {}",
            path.display(),
            err.to_string().trim_end()
        )
    })
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match read_params(&cli.params) {
        Ok(params) => cod_pipeline::run_stage_binary::<IngestRunsStage>(&params, &[], &cli.output),
        Err(err) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("error: {err:#}");
            }
            std::process::ExitCode::from(2)
        }
    }
}
