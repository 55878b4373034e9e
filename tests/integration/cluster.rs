//! The cluster stage end to end: artifact snapshots, the stage binary, reuse, and bad parameters.

use std::fmt::Write;
use std::process::Command;

use crate::support::{Project, sibling_binary};

/// 36 items in three difficulty groups (easy, rising, hard-but-emerging) over a 3-model ladder
/// and a target, 10 samples each, plus one never-solved item.
/// Groups: easy (9, 9, 10 of 10), rising (2, 5, 8), hard-but-emerging (0, 1, 3) on s, m, l.
pub fn groups_csv() -> String {
    let mut csv = String::from("benchmark,item,model,n_samples,n_correct\n");
    let shapes: [[u32; 4]; 3] = [[9, 9, 10, 10], [2, 5, 8, 9], [0, 1, 3, 7]];
    for (g, shape) in shapes.iter().enumerate() {
        for i in 0..12u32 {
            for (m, model) in ["s", "m", "l", "t"].iter().enumerate() {
                // Jitter one model's count by -1..=1 so items within a group differ.
                let jitter = if m == i as usize % 3 {
                    i64::from(i / 3 % 3) - 1
                } else {
                    0
                };
                let k = (i64::from(shape[m]) + jitter).clamp(0, 10);
                let _ = writeln!(csv, "b,g{g}-{i},{model},10,{k}");
            }
        }
    }
    for model in ["s", "m", "l", "t"] {
        let _ = writeln!(csv, "b,never,{model},10,0");
    }
    csv
}

const PIPELINE: &str = r#"
[pipeline]
summary = ["cluster"]

[ingest]
path = "items.csv"
manifest = "models.toml"

[features]
inputs = ["ingest"]

[cluster]
inputs = ["features"]
min_size = 5
quantile = 0.5
"#;

fn project() -> Project {
    let p = Project::tiny();
    p.write("items.csv", &groups_csv());
    p.write("groups.toml", PIPELINE);
    p
}

#[test]
fn clusters_snapshot() {
    let p = project();
    let out = p.cod(&["pipeline", "run", "groups.toml"]);
    assert!(out.ok, "{}", out.stderr);
    assert_run_snapshot!("groups_cluster_run", out.stdout);
    let json = p.cod(&["artifact", "show", "out/groups/cluster.bin", "--json"]);
    let mut value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    // Centres and distances to 6 decimals.
    for c in value["benchmarks"][0]["clusters"].as_array_mut().unwrap() {
        c["iad"] = serde_json::json!((c["iad"].as_f64().unwrap() * 1e6).round() / 1e6);
        let centre: Vec<f64> = c["centre"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| (x.as_f64().unwrap() * 1e6).round() / 1e6)
            .collect();
        c["centre"] = serde_json::json!(centre);
    }
    for key in ["bandwidth", "radius"] {
        let v = value["benchmarks"][0][key].as_f64().unwrap();
        value["benchmarks"][0][key] = serde_json::json!((v * 1e6).round() / 1e6);
    }
    value["ladder"] = serde_json::json!("(see features)");
    insta::assert_yaml_snapshot!("groups_cluster_artifact", value);
}

#[test]
fn cluster_binary_matches_the_runner() {
    let p = project();
    assert!(p.cod(&["pipeline", "run", "groups.toml"]).ok);
    let out = p.run(Command::new(sibling_binary("cod-cluster")).args([
        "--input",
        "out/groups/features.bin",
        "--min-size",
        "5",
        "--quantile",
        "0.5",
        "--output",
        "by-hand.bin",
    ]));
    assert!(out.ok, "{}", out.stderr);
    let by_hand = std::fs::read(p.path().join("by-hand.bin")).unwrap();
    let by_runner = std::fs::read(p.path().join("out/groups/cluster.bin")).unwrap();
    assert!(by_hand == by_runner);
}

#[test]
fn assign_reuses_saved_clusters_and_reports_unseen_items() {
    let p = project();
    assert!(p.cod(&["pipeline", "run", "groups.toml"]).ok);
    std::fs::copy(
        p.path().join("out/groups/cluster.bin"),
        p.path().join("saved.bin"),
    )
    .unwrap();
    let labels = |file: &str| {
        let json = p.cod(&["artifact", "show", file, "--json"]);
        let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
        v["benchmarks"][0]["labels"].clone()
    };
    let original = labels("saved.bin");

    // Same items: the same labels.
    let args = [
        "pipeline",
        "run",
        "groups.toml",
        "--set",
        "cluster.method=assign",
        "--set",
        "cluster.from=saved.bin",
        "--out",
        "reused",
    ];
    let out = p.cod(&args);
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(labels("reused/cluster.bin"), original);

    // A new item the saved clusters never saw is an outlier, listed and reported.
    let mut csv = groups_csv();
    for model in ["s", "m", "l", "t"] {
        let _ = writeln!(csv, "b,brand-new,{model},10,5");
    }
    p.write("items.csv", &csv);
    let out = p.cod(&args);
    assert!(out.ok, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("1 items were not in the reused assignment and are outliers"),
        "{}",
        out.stdout
    );
    let json = p.cod(&["artifact", "show", "reused/cluster.bin", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        v["benchmarks"][0]["unseen_items"],
        serde_json::json!(["brand-new"])
    );
}

fn check_param_error(sets: &[&str], expected: &str) {
    let p = project();
    let mut args = vec!["pipeline", "run", "groups.toml"];
    for s in sets {
        args.extend(["--set", s]);
    }
    let out = p.cod(&args);
    assert!(!out.ok);
    assert_eq!(out.stderr.trim(), expected);
    assert!(
        p.cached_objects().is_empty(),
        "a stage ran before the error"
    );
}

#[test]
fn bad_cluster_parameters_are_rejected_before_anything_runs() {
    check_param_error(
        &["cluster.k=3"],
        "error: `groups.toml`: stage `cluster`: `k` applies only to method `kmeans`, not `improved-meanshift`",
    );
    check_param_error(
        &["cluster.method=kmeans"],
        "error: `groups.toml`: stage `cluster`: method `kmeans` needs `k`, the number of clusters",
    );
    check_param_error(
        &["cluster.method=assign"],
        "error: `groups.toml`: stage `cluster`: method `assign` needs `from`, the path of a saved `clusters` artifact",
    );
    check_param_error(
        &["cluster.quantile=0"],
        "error: `groups.toml`: stage `cluster`: `quantile` must be in (0, 1], found 0",
    );
    check_param_error(
        &["cluster.method=spectral"],
        "error: `groups.toml`: stage `cluster`: unknown variant `spectral`, expected one of `improved-meanshift`, `meanshift`, `kmeans`, `dbscan`, `improved-kmeans`, `assign`",
    );
}

#[test]
fn every_method_runs_through_the_pipeline() {
    let p = project();
    for sets in [
        vec!["cluster.method=meanshift"],
        vec!["cluster.method=kmeans", "cluster.k=3"],
        vec!["cluster.method=dbscan", "cluster.eps=0.2"],
        vec!["cluster.method=improved-kmeans"],
        vec!["cluster.bin_seeding=true"],
        vec!["cluster.radius=0.2"],
    ] {
        let mut args = vec!["pipeline", "run", "groups.toml"];
        for s in &sets {
            args.extend(["--set", s]);
        }
        let out = p.cod(&args);
        assert!(out.ok, "{sets:?}: {}", out.stderr);
        assert!(
            out.stdout.contains("benchmark b: 36 items in"),
            "{sets:?}: {}",
            out.stdout
        );
    }
}

/// Rounds every float to 4 significant digits, and below 1e-9 to 0: fits agree to far more, but
/// not bit for bit across optimizer changes, and the snapshot pins behaviour, not rounding.
fn significant(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap();
            let f = if f.abs() < 1e-9 { 0.0 } else { f };
            serde_json::json!(format!("{f:.3e}").parse::<f64>().unwrap())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(significant).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, significant(v))).collect())
        }
        other => other,
    }
}

#[test]
fn fit_snapshot() {
    let p = project();
    p.write(
        "groups-fit.toml",
        &format!(
            "{}\n[fit]\ninputs = [\"ingest\", \"features\", \"cluster\"]\nguess = 0.0\n",
            PIPELINE.replace("summary = [\"cluster\"]", "summary = [\"fit\"]")
        ),
    );
    let out = p.cod(&["pipeline", "run", "groups-fit.toml"]);
    assert!(out.ok, "{}", out.stderr);
    let json = p.cod(&["artifact", "show", "out/groups-fit/fit.bin", "--json"]);
    let mut value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    value["ladder"] = serde_json::json!("(see features)");
    insta::assert_yaml_snapshot!("groups_fit_artifact", significant(value));
}
