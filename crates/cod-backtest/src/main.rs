use std::path::PathBuf;

use clap::Parser;
use cod_backtest::{BacktestParams, BacktestStage};

/// Backtest COD and its baselines on per-item results: hold out the largest ladder model, then the
/// second largest, … up to the K-th (`--holdout`), predict each from the smaller ladder models
/// with every method, and score each method's absolute error.
///
/// Each holdout drops the larger ladder models and the original target from the eval table
/// (anchors stay) and runs features → cluster → fit → map with the given parameters, which are
/// those of the `cluster`, `fit` and `map` stages. The summary gives each method's mean and max
/// abs error per holdout and which method wins on each benchmark.
///
/// This is the pipeline's `backtest` stage, runnable by hand; it writes the same artifact as
/// `cod pipeline run`. With `--files DIR` it also writes `backtest.csv` (every row) and
/// `backtest.md` there, as `cod pipeline run` does into `out/<pipeline>/`.
#[derive(Parser)]
#[command(
    version,
    after_help = "Example:\n  cod-backtest --eval-table out/mmlu/ingest.bin --holdout 2 --guess 0.25 \
                  --output backtest.bin --files backtest/"
)]
struct Cli {
    /// The `eval-table` artifact (from an ingest stage).
    #[arg(long)]
    eval_table: PathBuf,
    #[command(flatten)]
    params: BacktestParams,
    /// Where to write the `backtest` artifact.
    #[arg(long)]
    output: PathBuf,
    /// Also write `backtest.csv` and `backtest.md` into this directory.
    #[arg(long, value_name = "DIR")]
    files: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    cod_pipeline::run_stage_binary_with_files::<BacktestStage>(
        &cli.params,
        &[cli.eval_table],
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
