//! `cod`: predict a large model's benchmark accuracy from a ladder of small models.
//!
//! This binary is CLI definition and glue: the work happens in the stage crates, the pipeline
//! runner in `cod-pipeline`, and all terminal output goes through `report`.

mod cli;
mod monitor;
mod report;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli::run(cli) {
        Ok(code) => code,
        Err(err) => {
            report::error(&err);
            ExitCode::from(1)
        }
    }
}
