//! Snapshots of every stage's artifact, rendered to stable YAML with rounded floats.

use serde_json::Value;

use crate::support::{Project, root};

/// Rounds every float to 6 decimals so snapshots do not churn on the last bits.
pub fn rounded(value: Value) -> Value {
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap();
            serde_json::json!((f * 1e6).round() / 1e6)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(rounded).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, rounded(v))).collect())
        }
        other => other,
    }
}

fn artifact_json(p: &Project, file: &str) -> Value {
    rounded(p.artifact_json(file))
}

#[test]
fn tiny_stage_artifacts() {
    let p = Project::tiny();
    let out = p.cod(&["pipeline", "run", "tiny.toml"]);
    assert!(out.ok, "{}", out.stderr);
    insta::assert_yaml_snapshot!("tiny_ingest", artifact_json(&p, "out/tiny/ingest.bin"));
    insta::assert_yaml_snapshot!("tiny_features", artifact_json(&p, "out/tiny/features.bin"));
    assert_run_snapshot!("tiny_summary", out.stdout);
}

#[test]
fn tiny_ingest_with_losses() {
    let p = Project::tiny();
    // Every row gets a loss but one, which stays missing (null in JSON).
    let mut lines = crate::support::TINY_ITEMS.lines();
    let mut items = format!("{},loss\n", lines.next().unwrap());
    for (i, line) in lines.enumerate() {
        let loss = if i == 2 {
            String::new()
        } else {
            format!("{}", 0.5 + i as f64 / 8.0)
        };
        items.push_str(line);
        items.push(',');
        items.push_str(&loss);
        items.push('\n');
    }
    p.write("items.csv", &items);
    let out = p.cod(&["pipeline", "run", "tiny.toml", "--until", "ingest"]);
    assert!(out.ok, "{}", out.stderr);
    let json = artifact_json(&p, "out/tiny/ingest.bin");
    insta::assert_yaml_snapshot!("tiny_ingest_losses", json["benchmarks"][0]["loss"]);
}

#[test]
fn mmlu_summary_and_artifact_shows() {
    let p = Project::new();
    let pipeline = root().join("pipelines/mmlu.toml");
    let out = p.cod(&["pipeline", "run", &pipeline.display().to_string()]);
    assert!(out.ok, "{}", out.stderr);
    assert_run_snapshot!("mmlu_run", out.stdout);
    let predictions = std::fs::read_to_string(p.path().join("out/mmlu/predictions.json")).unwrap();
    let predictions: Value = serde_json::from_str(&predictions).unwrap();
    insta::assert_yaml_snapshot!("mmlu_predictions", rounded(predictions));
    let show = p.cod(&["artifact", "show", "out/mmlu/features.bin"]);
    assert_run_snapshot!("mmlu_features_show", show.stdout);
    // The features of the first items, as JSON.
    let features = artifact_json(&p, "out/mmlu/features.bin");
    let d = features["ladder"].as_array().unwrap().len();
    let bench = &features["benchmarks"][0];
    let bench_items: Vec<Value> = bench["items"].as_array().unwrap()[..5].to_vec();
    let rates: Vec<Value> = bench["pass_rates"].as_array().unwrap()[..5 * d].to_vec();
    let zero: Vec<Value> = bench["all_zero_items"].as_array().unwrap()[..5].to_vec();
    insta::assert_yaml_snapshot!(
        "mmlu_features_head",
        serde_json::json!({"items": bench_items, "pass_rates": rates, "all_zero_items": zero})
    );
}
