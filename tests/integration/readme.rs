//! Every `cod` command in the README's shell blocks runs as written, in order, in a scratch copy
//! of `pipelines/` and `fixtures/`. The placeholders a user replaces are made real first: `logs/`
//! is the lm-eval fixture, `lm_evals/` the real results folder, `results.parquet` the mmlu
//! fixture's table and `my.csv` the same table as CSV (from `cod-sim --format csv`). The setup
//! and test lines (`bash scripts/setup …`, `just test`) are what CI runs, so they are not re-run
//! here.

use std::path::Path;
use std::process::Command;

use crate::support::{Project, root, shared_data, sibling_binary};

/// The `cod …` lines of the README's ```sh blocks, without their comments.
fn readme_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut commands = Vec::new();
    let mut in_sh = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_sh = line == "```sh";
            continue;
        }
        if in_sh && line.starts_with("cod ") {
            // A comment starts after two spaces; a `#` inside quotes is not one.
            let command = line.split("  #").next().unwrap().trim_end();
            commands.push(command.to_owned());
        }
    }
    commands
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn every_readme_command_runs() {
    let data = shared_data("lm-eval-real/lm_evals");
    let commands = readme_commands();
    assert!(commands.len() >= 15, "{commands:?}");
    let p = Project::new();
    copy_dir(&root().join("pipelines"), &p.path().join("pipelines"));
    copy_dir(&root().join("fixtures"), &p.path().join("fixtures"));
    copy_dir(
        &root().join("fixtures/lm-eval-mini/lm-eval"),
        &p.path().join("logs"),
    );
    std::os::unix::fs::symlink(
        data.join("lm-eval-real/lm_evals"),
        p.path().join("lm_evals"),
    )
    .unwrap();
    std::fs::copy(
        root().join("fixtures/mmlu/items.parquet"),
        p.path().join("results.parquet"),
    )
    .unwrap();
    let sim = p.run(Command::new(sibling_binary("cod-sim")).args([
        "--scenario",
        "fixtures/mmlu/scenario.toml",
        "--out",
        "csv",
        "--format",
        "csv",
    ]));
    assert!(sim.ok, "{}", sim.stderr);
    std::fs::rename(p.path().join("csv/items.csv"), p.path().join("my.csv")).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_cod")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for command in &commands {
        let out = p.run(
            Command::new("bash")
                .args(["-o", "pipefail", "-c", command])
                .env("PATH", &path)
                .env("COD_DATA", &data),
        );
        assert!(out.ok, "`{command}` failed:\n{}{}", out.stdout, out.stderr);
    }
}
