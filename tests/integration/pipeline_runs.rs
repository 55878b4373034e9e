use crate::support::{Project, root};

/// The stages of `pipelines/mmlu.toml`, in order.
const MMLU_STAGES: [&str; 9] = [
    "ingest",
    "features",
    "cluster",
    "fit",
    "map",
    "bootstrap",
    "backtest",
    "recommend",
    "report",
];

fn mmlu_pipeline() -> String {
    root().join("pipelines/mmlu.toml").display().to_string()
}

#[test]
fn mmlu_second_run_is_all_cached() {
    let p = Project::new();
    let first = p.cod(&["pipeline", "run", &mmlu_pipeline()]);
    assert!(first.ok, "{}", first.stderr);
    let ran: Vec<String> = MMLU_STAGES
        .iter()
        .map(|s| format!("ran {s} [TIME] (new)"))
        .collect();
    assert_eq!(stage_lines(&first.stdout), ran);
    let second = p.cod(&["pipeline", "run", &mmlu_pipeline()]);
    assert!(second.ok, "{}", second.stderr);
    let cached: Vec<String> = MMLU_STAGES.iter().map(|s| format!("cached {s}")).collect();
    assert_eq!(stage_lines(&second.stdout), cached);
    // The summary is the same either way.
    let tail = |s: &str| s.split_once("\n\n").unwrap().1.to_owned();
    assert_eq!(tail(&first.stdout), tail(&second.stdout));
    for stage in MMLU_STAGES {
        let file = p.path().join("out/mmlu").join(format!("{stage}.bin"));
        assert!(file.is_file(), "{}", file.display());
    }
    for file in ["summary.txt", "report.html", "report.md"] {
        assert!(p.path().join("out/mmlu").join(file).is_file(), "{file}");
    }
    let json = std::fs::read_to_string(p.path().join("out/mmlu/predictions.json")).unwrap();
    let table: serde_json::Value = serde_json::from_str(&json).unwrap();
    for method in ["cod", "cod-without-mapping", "end-to-end-passrate"] {
        let row = &table["mmlu"][method];
        let (pred, actual) = (
            row["prediction"].as_f64().unwrap(),
            row["actual"].as_f64().unwrap(),
        );
        assert!((0.0..=1.0).contains(&pred), "{method}: {pred}");
        assert!((row["abs_error"].as_f64().unwrap() - (pred - actual).abs()).abs() < 1e-12);
        // The bootstrap's 5-95% interval.
        let (lo, hi) = (
            row["interval"][0].as_f64().unwrap(),
            row["interval"][1].as_f64().unwrap(),
        );
        assert!(0.0 <= lo && lo <= hi && hi <= 1.0, "{method}: [{lo}, {hi}]");
    }
}

/// The per-stage lines of a run, with runs of spaces collapsed.
/// The runner's lines, one per stage, with single spaces and the run time as `[TIME]`.
fn stage_lines(stdout: &str) -> Vec<String> {
    let word = |w: &str| {
        let time = w
            .strip_suffix('s')
            .is_some_and(|t| !t.is_empty() && t.parse::<f64>().is_ok());
        if time {
            "[TIME]".to_owned()
        } else {
            w.to_owned()
        }
    };
    stdout
        .lines()
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().map(word).collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn param_change_reruns_the_stage_and_only_changed_downstream() {
    let p = Project::tiny();
    assert!(p.cod(&["pipeline", "run", "tiny.toml"]).ok);

    // Same output from ingest: features keeps its cache entry.
    let out = p.cod(&[
        "pipeline",
        "run",
        "tiny.toml",
        "--set",
        "ingest.missing=drop",
    ]);
    assert_eq!(
        stage_lines(&out.stdout),
        ["ran ingest [TIME] (params changed)", "cached features"]
    );

    // Different data: ingest and features both re-run.
    p.write(
        "items2.csv",
        &crate::support::TINY_ITEMS.replace("arith,a3,l,10,5", "arith,a3,l,10,6"),
    );
    let set_path = [
        "pipeline",
        "run",
        "tiny.toml",
        "--set",
        "ingest.path=items2.csv",
    ];
    let out = p.cod(&set_path);
    assert_eq!(
        stage_lines(&out.stdout),
        [
            "ran ingest [TIME] (params changed)",
            "ran features [TIME] (input changed)"
        ]
    );

    // Editing a file in place is an input change, not a parameter change.
    p.write(
        "items2.csv",
        &crate::support::TINY_ITEMS.replace("arith,a1,s,10,1", "arith,a1,s,10,2"),
    );
    let out = p.cod(&set_path);
    assert_eq!(
        stage_lines(&out.stdout),
        [
            "ran ingest [TIME] (input changed)",
            "ran features [TIME] (input changed)"
        ]
    );
}

/// A cache entry whose checksum is right but whose artifact is inconsistent (a matrix shorter
/// than its shape) is recomputed like a corrupt one, not served to the next stage.
#[test]
fn invalid_cache_entry_is_recomputed() {
    let p = Project::tiny();
    assert!(p.cod(&["pipeline", "run", "tiny.toml"]).ok);
    let ingest = p.path().join("out/tiny/ingest.bin");
    let before = std::fs::read(&ingest).unwrap();
    let object = p
        .cached_objects()
        .into_iter()
        .find(|o| std::fs::read(o).unwrap() == before)
        .unwrap();
    // A valid table with one matrix shortened: writing does not check what reading does.
    let mut table: cod_artifact::EvalTable = cod_artifact::read(&ingest).unwrap();
    table.benchmarks[0].n_samples.pop();
    std::fs::write(&object, cod_artifact::encode(&table).unwrap()).unwrap();

    let out = p.cod(&["pipeline", "run", "tiny.toml"]);
    assert!(out.ok, "{}", out.stderr);
    let lines = stage_lines(&out.stdout);
    assert!(
        lines[0].starts_with("ran ingest [TIME] (cache entry corrupt: `[TMP]/cache/objects/")
            && lines[0].contains("is not a valid `eval-table` artifact: benchmark `arith`"),
        "{}",
        lines[0]
    );
    assert_eq!(std::fs::read(&object).unwrap(), before);
}

#[test]
fn corrupt_cache_entry_is_detected_and_recomputed() {
    let p = Project::tiny();
    assert!(p.cod(&["pipeline", "run", "tiny.toml"]).ok);
    let features = p.path().join("out/tiny/features.bin");
    let before = std::fs::read(&features).unwrap();
    // Find the cache entry holding the features artifact, and flip a payload byte.
    let object = p
        .cached_objects()
        .into_iter()
        .find(|o| std::fs::read(o).unwrap() == before)
        .unwrap();
    let mut bytes = before.clone();
    *bytes.last_mut().unwrap() ^= 1;
    std::fs::write(&object, bytes).unwrap();

    let out = p.cod(&["pipeline", "run", "tiny.toml"]);
    assert!(out.ok, "{}", out.stderr);
    let lines = stage_lines(&out.stdout);
    assert_eq!(lines[0], "cached ingest");
    assert!(
        lines[1].starts_with("ran features [TIME] (cache entry corrupt: `[TMP]/cache/objects/")
            && lines[1].ends_with(".bin` is corrupt: the payload does not match its checksum)"),
        "{}",
        lines[1]
    );
    assert_eq!(std::fs::read(&object).unwrap(), before);
    assert_eq!(std::fs::read(&features).unwrap(), before);
}

#[test]
fn force_dry_run_and_until() {
    let p = Project::tiny();
    let out = p.cod(&["pipeline", "run", "tiny.toml", "--dry-run"]);
    assert_eq!(
        stage_lines(&out.stdout),
        [
            "would run ingest (new)",
            "would run features (after upstream)"
        ]
    );
    assert!(p.cached_objects().is_empty());
    assert!(!p.path().join("out").exists());

    let out = p.cod(&["pipeline", "run", "tiny.toml", "--until", "ingest"]);
    assert_eq!(stage_lines(&out.stdout), ["ran ingest [TIME] (new)"]);
    let out = p.cod(&["pipeline", "run", "tiny.toml", "--dry-run"]);
    assert_eq!(
        stage_lines(&out.stdout),
        ["cached ingest (dry run)", "would run features (new)"]
    );

    let out = p.cod(&["pipeline", "run", "tiny.toml", "--force", "features"]);
    assert_eq!(
        stage_lines(&out.stdout),
        ["cached ingest", "ran features [TIME] (forced)"]
    );
    let out = p.cod(&["pipeline", "run", "tiny.toml", "--force"]);
    assert_eq!(
        stage_lines(&out.stdout),
        ["ran ingest [TIME] (forced)", "ran features [TIME] (forced)"]
    );
    let out = p.cod(&["pipeline", "run", "tiny.toml", "--until", "nope"]);
    assert!(!out.ok);
    assert_eq!(
        out.stderr.trim(),
        "error: `--until nope`: no such stage in `tiny.toml`; stages: `ingest`, `features`"
    );
}

#[test]
fn pipeline_list_and_unknown_pipeline() {
    let p = Project::tiny();
    std::fs::create_dir(p.path().join("pipelines")).unwrap();
    std::fs::copy(
        p.path().join("tiny.toml"),
        p.path().join("pipelines/tiny.toml"),
    )
    .unwrap();
    let out = p.cod(&["pipeline", "list"]);
    assert_eq!(
        out.stdout.trim(),
        "tiny             tiny  [ingest → features]"
    );
    let out = p.cod(&["pipeline", "run", "nope"]);
    assert_eq!(
        out.stderr.trim(),
        "error: no pipeline `nope`: expected `pipelines/nope.toml`; available: tiny"
    );
}
