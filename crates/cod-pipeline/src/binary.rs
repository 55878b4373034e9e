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

/// The body of a stage binary with `--files DIR`: [`run_stage_binary`], then, when the stage
/// succeeded and `files` is given, `write_files(output, dir)`.
#[must_use]
pub fn run_stage_binary_with_files<S: Stage>(
    params: &S::Params,
    inputs: &[PathBuf],
    output: &Path,
    files: Option<&Path>,
    write_files: impl FnOnce(&Path, &Path) -> ExitCode,
) -> ExitCode {
    let code = run_stage_binary::<S>(params, inputs, output);
    match files {
        Some(dir) if code == ExitCode::SUCCESS => write_files(output, dir),
        _ => code,
    }
}

/// For a stage binary's `--files DIR`: writes the files the artifact at `artifact` has beside it
/// in a pipeline's output directory ([`cod_artifact::AnyArtifact::output_files`]) into `dir`, as
/// `cod pipeline run` does.
#[allow(clippy::print_stderr)]
#[must_use]
pub fn write_artifact_files(artifact: &Path, dir: &Path) -> ExitCode {
    let result = cod_artifact::AnyArtifact::read(artifact)
        .map_err(anyhow::Error::from)
        .and_then(|a| Ok(a.output_files()?))
        .and_then(|files| Ok(cod_artifact::write_output_files(dir, &files)?));
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}
