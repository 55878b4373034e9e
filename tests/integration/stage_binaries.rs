//! Each stage binary, run by hand, writes the same artifact as the pipeline runner.

use std::process::Command;

use crate::support::{Project, sibling_binary};

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
    for stage in ["ingest", "features"] {
        let by_hand = std::fs::read(p.path().join(format!("by-hand/{stage}.bin"))).unwrap();
        let by_runner = std::fs::read(p.path().join(format!("out/tiny/{stage}.bin"))).unwrap();
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
