use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::{Progress, Stage};

/// The body of a stage binary: runs stage `S` once and reports an error the way `cod` does.
#[allow(clippy::print_stderr)]
#[must_use]
pub fn run_stage_binary<S: Stage>(
    params: &S::Params,
    inputs: &[PathBuf],
    output: &Path,
) -> ExitCode {
    if inputs.len() != S::INPUTS.len() {
        eprintln!(
            "error: the `{}` stage takes {} input artifact(s), found {}",
            S::KIND,
            S::INPUTS.len(),
            inputs.len()
        );
        return ExitCode::from(2);
    }
    let result =
        S::validate(params).and_then(|()| S::run(params, inputs, output, &Progress::stderr()));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}
