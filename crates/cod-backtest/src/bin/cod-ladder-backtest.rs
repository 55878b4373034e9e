use std::path::PathBuf;

use clap::Parser;
use cod_backtest::{LadderBacktestParams, LadderBacktestStage};

/// Backtest the two-step ladder law and its baselines on training runs: hold out every run of the
/// largest model size, then of the second largest, … up to the K-th (`--holdout`), predict each
/// held-out run from the smaller sizes' runs with every method, and score each method's absolute
/// error against the mean of the run's last `--target-last` checkpoints.
///
/// The parameters besides `--holdout` and `--min-sizes` are the `ladder` stage's. The summary
/// gives each method's mean and max abs error per holdout and which method wins on each task.
///
/// This is the pipeline's `ladder-backtest` stage, runnable by hand; it writes the same artifact
/// as `cod pipeline run`. With `--files DIR` it also writes `backtest.csv` (every row) and
/// `backtest.md` there, as `cod pipeline run` does into `out/<pipeline>/`.
#[derive(Parser)]
#[command(
    version,
    after_help = "Example:\n  cod-ladder-backtest --runs out/olmo-ladder/ingest.bin --output backtest.bin \
                  --files backtest/"
)]
struct Cli {
    /// The `training-runs` artifact (from the `ingest-runs` stage).
    #[arg(long)]
    runs: PathBuf,
    #[command(flatten)]
    params: LadderBacktestParams,
    /// Where to write the `backtest` artifact.
    #[arg(long)]
    output: PathBuf,
    /// Also write `backtest.csv` and `backtest.md` into this directory.
    #[arg(long, value_name = "DIR")]
    files: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    cod_pipeline::run_stage_binary_with_files::<LadderBacktestStage>(
        &cli.params,
        &[cli.runs],
        &cli.output,
        cli.files.as_deref(),
        cod_pipeline::write_artifact_files,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn flags_do_not_collide() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
