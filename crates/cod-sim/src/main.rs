use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use cod_sim::{Scenario, TableFormat};

/// Simulate a ladder's per-item evaluations from a scenario file, with known truth.
///
/// Writes `items.parquet` (tidy format), `models.toml` (the models manifest) and `truth.json`
/// (each model's expected accuracy per benchmark) into `--out`. The same scenario and seed give the
/// same bytes. The generative model is documented in the `cod-sim` crate.
#[derive(Parser)]
#[command(
    version,
    after_help = "Examples:\n  cod-sim --scenario fixtures/mmlu/scenario.toml --out fixtures/mmlu\n  \
                  cod-sim --scenario fixtures/mmlu/scenario.toml --out /tmp/big --scale 10 --seed 7"
)]
struct Cli {
    /// Scenario file (TOML).
    #[arg(long)]
    scenario: PathBuf,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    /// Use this seed instead of the scenario's.
    #[arg(long)]
    seed: Option<u64>,
    /// Multiply every benchmark's item count by this factor.
    #[arg(long, default_value_t = 1)]
    scale: usize,
    /// Table format of the results.
    #[arg(long, value_enum, default_value_t = TableFormat::Parquet)]
    format: TableFormat,
}

#[allow(clippy::print_stderr)]
fn main() -> ExitCode {
    let cli = Cli::parse();
    let run = || -> anyhow::Result<()> {
        let mut scenario = Scenario::read(&cli.scenario)?;
        if let Some(seed) = cli.seed {
            scenario.seed = seed;
        }
        for bench in &mut scenario.benchmarks {
            bench.items *= cli.scale.max(1);
        }
        let sim = cod_sim::simulate(&scenario)?;
        cod_sim::write(&sim, &cli.out, cli.format)
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}
