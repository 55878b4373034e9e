//! Each stage binary, run by hand, writes the same artifact as the pipeline runner.

use std::process::Command;

use crate::support::{Project, root, sibling_binary};

#[test]
fn stage_binaries_match_the_runner() {
    let p = Project::tiny();
    assert!(p.cod(&["pipeline", "run", "tiny.toml"]).ok);

    let out = p.run(Command::new(sibling_binary("cod-ingest")).args([
        "--path",
        "items.csv",
        "--manifest",
        "models.toml",
        "--output",
        "by-hand/ingest.bin",
    ]));
    assert!(out.ok, "{}", out.stderr);
    let out = p.run(Command::new(sibling_binary("cod-features")).args([
        "--input",
        "by-hand/ingest.bin",
        "--output",
        "by-hand/features.bin",
    ]));
    assert!(out.ok, "{}", out.stderr);
    assert_same_bytes(&p, "tiny", &["ingest", "features"]);
}

/// Each stage's artifact under `by-hand/` is byte for byte the runner's in `out/<pipeline>/`.
fn assert_same_bytes(p: &Project, pipeline: &str, stages: &[&str]) {
    for stage in stages {
        let by_hand = std::fs::read(p.path().join(format!("by-hand/{stage}.bin"))).unwrap();
        let by_runner =
            std::fs::read(p.path().join(format!("out/{pipeline}/{stage}.bin"))).unwrap();
        assert!(by_hand == by_runner, "{stage} differs");
    }
}

#[test]
fn stage_binary_reports_wrong_input_kind() {
    let p = Project::tiny();
    assert!(p.cod(&["pipeline", "run", "tiny.toml"]).ok);
    let out = p.run(Command::new(sibling_binary("cod-features")).args([
        "--input",
        "out/tiny/features.bin",
        "--output",
        "f.bin",
    ]));
    assert!(!out.ok);
    assert_eq!(
        out.stderr.trim(),
        "error: `out/tiny/features.bin` is a `features` artifact, expected `eval-table`"
    );
    assert!(!p.path().join("f.bin").exists());
}

/// The stages whose parameters hold tables take them as `--params FILE`; run by hand on the
/// lm-eval fixture, `cod-ingest-lm-eval` and `cod-bootstrap` write the runner's bytes.
#[test]
fn params_file_binaries_match_the_runner() {
    let p = Project::new();
    let fixture = root().join("fixtures/lm-eval-mini");
    let ingest = format!(
        "manifest = \"{}/models.toml\"\ndirs = \"{}/lm-eval/*\"\nfilter = \"strict-match\"\n\
         groups = {{ mmlu = [\"mmlu_\"] }}\n",
        fixture.display(),
        fixture.display()
    );
    let bootstrap = "resamples = 4\nseed = 3\n";
    p.write(
        "mini.toml",
        &format!(
            "[pipeline]\ndescription = \"mini\"\n\n[ingest]\nstage = \"ingest-lm-eval\"\n{ingest}\n\
             [features]\ninputs = [\"ingest\"]\n\n[cluster]\ninputs = [\"features\"]\n\n\
             [fit]\ninputs = [\"ingest\", \"features\", \"cluster\"]\n\n\
             [map]\ninputs = [\"ingest\", \"cluster\", \"fit\"]\n\n\
             [bootstrap]\ninputs = [\"ingest\", \"cluster\", \"map\"]\n{bootstrap}"
        ),
    );
    let out = p.cod(&["pipeline", "run", "mini.toml"]);
    assert!(out.ok, "{}", out.stderr);

    p.write("ingest.toml", &ingest);
    let out = p.run(Command::new(sibling_binary("cod-ingest-lm-eval")).args([
        "--params",
        "ingest.toml",
        "--output",
        "by-hand/ingest.bin",
    ]));
    assert!(out.ok, "{}", out.stderr);
    let run_bootstrap = |params: &str, output: &str| {
        p.run(Command::new(sibling_binary("cod-bootstrap")).args([
            "--params",
            params,
            "--eval-table",
            "out/mini/ingest.bin",
            "--clusters",
            "out/mini/cluster.bin",
            "--predictions",
            "out/mini/map.bin",
            "--output",
            output,
        ]))
    };
    p.write("bootstrap.toml", bootstrap);
    let out = run_bootstrap("bootstrap.toml", "by-hand/bootstrap.bin");
    assert!(out.ok, "{}", out.stderr);
    assert_same_bytes(&p, "mini", &["ingest", "bootstrap"]);

    // An unknown key in the parameters file names the file.
    p.write("bad.toml", "resample = 4\n");
    let out = run_bootstrap("bad.toml", "bad.bin");
    assert!(!out.ok);
    assert!(
        out.stderr.contains("`bad.toml`: invalid parameters"),
        "{}",
        out.stderr
    );
    assert!(!p.path().join("bad.bin").exists());
}
