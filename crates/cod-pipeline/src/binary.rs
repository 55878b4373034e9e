//! The one program behind every stage binary (`cod-features`, `cod-fit`, …).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches, value_parser};
use cod_artifact::Artifact;

use crate::stage::{Inputs, run_stage};
use crate::{Progress, Stage};

/// What a stage binary says about itself in `--help`.
pub struct StageBinary {
    /// The program's name, e.g. `cod-features`.
    pub name: &'static str,
    /// One line for `-h`.
    pub about: &'static str,
    /// The rest of `--help`'s description.
    pub long_about: &'static str,
    /// The flag of each input artifact, in the stage's input order, e.g. `["eval-table"]`.
    pub inputs: &'static [&'static str],
    /// Command lines that work on `just pipeline`'s outputs.
    pub examples: &'static [&'static str],
}

/// The command line of stage `S`'s binary: one flag per input artifact, the stage's parameters as
/// flags, `--output`, and `--files DIR` when the output kind writes files beside it.
#[must_use]
pub fn stage_command<S: Stage>(binary: &StageBinary) -> Command
where
    S::Params: Args,
{
    let kinds = <S::Inputs as Inputs>::KINDS;
    assert_eq!(
        binary.inputs.len(),
        kinds.len(),
        "`{}` names {} input flags for {} inputs",
        binary.name,
        binary.inputs.len(),
        kinds.len()
    );
    let output = <S::Output as Artifact>::KIND;
    let mut command = Command::new(binary.name);
    for (&flag, kind) in binary.inputs.iter().zip(kinds) {
        command = command.arg(
            Arg::new(flag)
                .long(flag)
                .required(true)
                .value_name("FILE")
                .value_parser(value_parser!(PathBuf))
                .help(format!("The `{kind}` artifact to read")),
        );
    }
    command = S::Params::augment_args(command);
    command = command.arg(
        Arg::new("output")
            .long("output")
            .required(true)
            .value_name("FILE")
            .value_parser(value_parser!(PathBuf))
            .help(format!("Where to write the `{output}` artifact")),
    );
    if output.has_output_files() {
        command = command.arg(
            Arg::new("files")
                .long("files")
                .value_name("DIR")
                .value_parser(value_parser!(PathBuf))
                .action(ArgAction::Set)
                .help(
                    "Also write the files `cod pipeline run` writes beside this artifact into \
                     DIR",
                ),
        );
    }
    // Last, since the parameters' `Args` set their own doc comment as the about text.
    command
        .version(env!("CARGO_PKG_VERSION"))
        .about(binary.about)
        .long_about(format!(
            "{}.\n\n{}\n\nThis is the pipeline's `{}` stage, runnable by hand; it writes the same \
             artifact as `cod pipeline run`.",
            binary.about,
            binary.long_about,
            S::KIND
        ))
        .after_help(format!(
            "{}:\n  {}",
            if binary.examples.len() == 1 {
                "Example"
            } else {
                "Examples"
            },
            binary.examples.join("\n  ")
        ))
}

/// The body of a stage binary: parses the command line of [`stage_command`], runs stage `S` once,
/// and reports an error the way `cod` does.
#[must_use]
pub fn stage_main<S: Stage>(binary: &StageBinary) -> ExitCode
where
    S::Params: Args + FromArgMatches,
{
    let matches = stage_command::<S>(binary).get_matches();
    let params = match S::Params::from_arg_matches(&matches) {
        Ok(params) => params,
        Err(err) => err.exit(),
    };
    let path = |id: &str| -> PathBuf {
        matches
            .get_one::<PathBuf>(id)
            .expect("required by the command")
            .clone()
    };
    let inputs: Vec<PathBuf> = binary.inputs.iter().map(|flag| path(flag)).collect();
    let output = path("output");
    let files = matches
        .try_get_one::<PathBuf>("files")
        .ok()
        .flatten()
        .cloned();
    report(
        S::validate(&params)
            .and_then(|()| run_stage::<S>(&params, &inputs, &output, &Progress::stderr()))
            .and_then(|()| match files {
                Some(dir) => write_artifact_files(&output, &dir),
                None => Ok(()),
            }),
    )
}

#[allow(clippy::print_stderr)]
fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}

/// Writes the files the artifact at `artifact` has beside it in a pipeline's output directory
/// ([`cod_artifact::AnyArtifact::output_files`]) into `dir`, as `cod pipeline run` does.
pub fn write_artifact_files(artifact: &Path, dir: &Path) -> anyhow::Result<()> {
    let files = cod_artifact::AnyArtifact::read(artifact)?.output_files()?;
    cod_artifact::write_output_files(dir, &files)?;
    Ok(())
}

/// Reads `--params FILE`, a TOML table of a stage's parameters as a pipeline file's stage table
/// holds them: for stages whose parameters do not fit on a command line (lists of tables).
///
/// `P`'s [`Args`] implementation can delegate here.
pub fn params_from_file<P: serde::de::DeserializeOwned>(
    matches: &ArgMatches,
) -> Result<P, clap::Error> {
    let path = matches
        .get_one::<PathBuf>("params")
        .expect("`--params` is required");
    let fail = |message: String| clap::Error::raw(clap::error::ErrorKind::ValueValidation, message);
    let text = std::fs::read_to_string(path)
        .map_err(|err| fail(format!("cannot read `{}`: {err}\n", path.display())))?;
    toml::from_str(&text).map_err(|err| {
        fail(format!(
            "`{}`: invalid parameters: {}\n",
            path.display(),
            err.to_string().trim_end()
        ))
    })
}

/// Implements [`clap::Args`] and [`clap::FromArgMatches`] for a stage's parameter type as one
/// `--params FILE` argument read by [`params_from_file`]: for stages whose parameters hold
/// lists or tables, which flags cannot express.
#[macro_export]
macro_rules! params_file_args {
    ($params:ty) => {
        impl ::clap::FromArgMatches for $params {
            fn from_arg_matches(matches: &::clap::ArgMatches) -> Result<Self, ::clap::Error> {
                $crate::params_from_file(matches)
            }
            fn update_from_arg_matches(
                &mut self,
                matches: &::clap::ArgMatches,
            ) -> Result<(), ::clap::Error> {
                *self = $crate::params_from_file(matches)?;
                Ok(())
            }
        }

        impl ::clap::Args for $params {
            fn augment_args(command: ::clap::Command) -> ::clap::Command {
                command.arg($crate::params_file_arg())
            }
            fn augment_args_for_update(command: ::clap::Command) -> ::clap::Command {
                <Self as ::clap::Args>::augment_args(command)
            }
        }
    };
}

/// The `--params FILE` argument [`params_from_file`] reads.
#[must_use]
pub fn params_file_arg() -> Arg {
    Arg::new("params")
        .long("params")
        .required(true)
        .value_name("FILE")
        .value_parser(value_parser!(PathBuf))
        .help("The stage's parameters: a TOML table as a pipeline file's stage table holds them")
}
