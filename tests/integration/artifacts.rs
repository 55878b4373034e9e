//! `cod artifact show` on good and bad files.

use crate::support::Project;

#[test]
fn show_rejects_files_that_are_not_artifacts() {
    let p = Project::tiny();
    let out = p.cod(&["artifact", "show", "items.csv"]);
    assert!(!out.ok);
    assert_eq!(
        out.stderr.trim(),
        "error: `items.csv` is not a cod artifact: expected the magic bytes `COD-ART`, found `benchmar`"
    );
    assert!(p.cod(&["pipeline", "run", "tiny.toml"]).ok);
    let bytes = std::fs::read(p.path().join("out/tiny/ingest.bin")).unwrap();
    std::fs::write(p.path().join("cut.bin"), &bytes[..bytes.len() - 10]).unwrap();
    let out = p.cod(&["artifact", "show", "cut.bin"]);
    assert!(!out.ok);
    assert!(
        out.stderr
            .starts_with("error: `cut.bin` is truncated: the header announces"),
        "{}",
        out.stderr
    );
}

#[test]
fn show_prints_kind_version_and_summary() {
    let p = Project::tiny();
    assert!(p.cod(&["pipeline", "run", "tiny.toml"]).ok);
    let out = p.cod(&["artifact", "show", "out/tiny/features.bin"]);
    assert_eq!(
        out.stdout,
        "out/tiny/features.bin: features artifact, schema version 2\n\
         features over 3 ladder models by FLOPs: s (1.200e14) < m (1.920e15) < l (3.000e16)\n\
         benchmark arith: 3 items, 2 kept as features, 1 all-zero removed\n\
         benchmark words: 2 items, 2 kept as features, 0 all-zero removed"
    );
}
