//! Backtests: the per-item backtest on a simulated ladder whose truth is known, the ladder
//! backtest on the real OLMo ladder (holding out the 1B runs), `cod backtest`, the stage
//! binaries, and every pipeline's backtest agreeing with the stages it backtests.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::support::{Output, Project, root, shared_data, sibling_binary};

/// Six ladder models from 1e20 to 3e22 FLOPs and a 1e24 target; one 600-item benchmark.
const SCENARIO: &str = r#"
seed = 11
samples = 20

[[model]]
name = "s1"
params = 1e8
flops = 1e20
role = "ladder"

[[model]]
name = "s2"
params = 2e8
flops = 3e20
role = "ladder"

[[model]]
name = "s3"
params = 4e8
flops = 1e21
role = "ladder"

[[model]]
name = "s4"
params = 8e8
flops = 3e21
role = "ladder"

[[model]]
name = "s5"
params = 1.6e9
flops = 1e22
role = "ladder"

[[model]]
name = "s6"
params = 3.2e9
flops = 3e22
role = "ladder"

[[model]]
name = "t"
params = 7e10
flops = 1e24
role = "target"

[[benchmark]]
name = "quiz"
items = 600
subjects = 6
guess = 0.25
share_noisy = 0.05
share_never = 0.03
share_saturated = 0.04
difficulty = { mean = 21.3, sd = 0.8 }
subject_sd = 0.3
slope = { median = 1.6, sigma = 0.4 }
ceiling = { min = 0.8, max = 1.0 }
noisy_max = 0.8
noisy_sd = 0.15
saturated_min = 0.9
"#;

const SIM_PIPELINE: &str = r#"
[ingest]
path = "data/items.csv"
manifest = "data/models.toml"

[backtest]
inputs = ["ingest"]
holdout = 2
fit = { guess = 0.25 }
"#;

/// A project holding the simulated scenario's data (`data/`) and `sim.toml`.
fn simulated() -> Project {
    let p = Project::new();
    p.write("scenario.toml", SCENARIO);
    p.write("sim.toml", SIM_PIPELINE);
    let out = p.run(Command::new(sibling_binary("cod-sim")).args([
        "--scenario",
        "scenario.toml",
        "--out",
        "data",
        "--format",
        "csv",
    ]));
    assert!(out.ok, "{}", out.stderr);
    p
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

/// The rows of holdout `k`.
fn rows(backtest: &Value, k: u64) -> Vec<Value> {
    backtest["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["holdout"] == k)
        .cloned()
        .collect()
}

/// Sets every count of model `model` in the tidy CSV to `n_correct = n_samples`.
fn solve_everything(p: &Project, model: &str) {
    let path = p.path().join("data/items.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let out: String = text
        .lines()
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            if cells[2] == model {
                [cells[0], cells[1], cells[2], cells[3], cells[3]].join(",") + "\n"
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    std::fs::write(path, out).unwrap();
}

#[test]
fn simulated_backtest_predicts_the_held_out_models_from_the_smaller_ones() {
    let p = simulated();
    let out = p.cod(&["backtest", "sim.toml"]);
    assert!(out.ok, "{}", out.stderr);
    assert!(out.stdout.contains("ran      backtest"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("holdout k=1: s6 predicted from 5 models (s1 … s5); never read: t"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("holdout k=2: s5, s6 predicted from 4 models (s1 … s4); never read: t"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("every row: out/sim/backtest.csv; these tables: out/sim/backtest.md")
    );

    let b = p.artifact_json("out/sim/backtest.bin");
    assert_eq!(b["kind"], "backtest");
    assert_eq!(strings(&b["holdouts"][0]["held_out"]), ["s6"]);
    assert_eq!(
        strings(&b["holdouts"][1]["fitted"]),
        ["s1", "s2", "s3", "s4"]
    );
    // The truth: each model's expected accuracy. A held-out model's actual is its measured mean
    // pass rate, within sampling error of the truth (600 items × 20 samples).
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(p.path().join("data/truth.json")).unwrap())
            .unwrap();
    for r in b["rows"].as_array().unwrap() {
        let held = r["held_out"].as_str().unwrap();
        let actual = r["actual"].as_f64().unwrap();
        if r["method"] != "end-to-end-exp" {
            let true_accuracy = truth["accuracy"]["quiz"][held].as_f64().unwrap();
            assert!((actual - true_accuracy).abs() < 0.01, "{r}");
        }
        if let Some(prediction) = r["prediction"].as_f64() {
            let error = r["abs_error"].as_f64().unwrap();
            assert!((error - (prediction - actual).abs()).abs() < 1e-15, "{r}");
        }
    }
    let cod = rows(&b, 1)
        .into_iter()
        .find(|r| r["method"] == "cod")
        .unwrap();
    assert!(cod["abs_error"].as_f64().unwrap() < 0.05, "{cod}");

    // backtest.csv holds every row: 3 held-out models (s6; s5 and s6) × 11 methods (COD with
    // each of its 4 mapping forms, COD without mapping, the 3 end-to-end laws, no-change,
    // log-linear and IRT).
    let csv = std::fs::read_to_string(p.path().join("out/sim/backtest.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 3 * 11);
    let md = std::fs::read_to_string(p.path().join("out/sim/backtest.md")).unwrap();
    assert!(md.starts_with("# Backtest (backtest)\n"), "{md}");

    // Absurd results for the largest ladder model and the target change no prediction: both
    // holdouts read s6 only to score it, and s5's rows do not change at all.
    solve_everything(&p, "s6");
    solve_everything(&p, "t");
    let out = p.cod(&["backtest", "sim.toml"]);
    assert!(out.ok, "{}", out.stderr);
    let after = p.artifact_json("out/sim/backtest.bin");
    let (before, after) = (
        b["rows"].as_array().unwrap(),
        after["rows"].as_array().unwrap(),
    );
    assert_eq!(before.len(), after.len());
    for (x, y) in before.iter().zip(after) {
        if x["held_out"] == "s6" {
            assert_eq!(x["prediction"], y["prediction"], "{}", x["method"]);
            assert_eq!(y["actual"], 1.0);
        } else {
            assert_eq!(x, y);
        }
    }
}

#[test]
fn backtest_stage_binary_writes_what_the_runner_writes() {
    let p = simulated();
    assert!(p.cod(&["backtest", "sim.toml"]).ok);
    let out = p.run(Command::new(sibling_binary("cod-backtest")).args([
        "--eval-table",
        "out/sim/ingest.bin",
        "--holdout",
        "2",
        "--guess",
        "0.25",
        "--output",
        "by-hand/backtest.bin",
        "--files",
        "by-hand",
    ]));
    assert!(out.ok, "{}", out.stderr);
    for file in ["backtest.bin", "backtest.csv", "backtest.md"] {
        let by_hand = std::fs::read(p.path().join("by-hand").join(file)).unwrap();
        let by_runner = std::fs::read(p.path().join("out/sim").join(file)).unwrap();
        assert!(by_hand == by_runner, "{file} differs");
    }
}

/// The shared data, with the OLMo ladder in it.
fn data_dir() -> PathBuf {
    shared_data("olmo-ladder/1B-10xC.csv")
}

/// `cod backtest pipelines/olmo-ladder.toml ARGS` in a scratch project.
fn olmo_backtest(p: &Project, extra: &[&str]) -> Output {
    let pipeline = root().join("pipelines/olmo-ladder.toml");
    let mut args = vec!["backtest".to_owned(), pipeline.display().to_string()];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    p.run(
        Command::new(env!("CARGO_BIN_EXE_cod"))
            .args(&args)
            .env("COD_DATA", data_dir()),
    )
}

#[test]
fn olmo_ladder_backtest_holds_out_the_1b_then_the_760m_runs() {
    let p = Project::new();
    let out = olmo_backtest(&p, &[]);
    assert!(out.ok, "{}", out.stderr);
    assert_run_snapshot!("olmo_ladder_backtest", out.stdout);

    let b = p.artifact_json("out/olmo-ladder/backtest.bin");
    let h = &b["holdouts"][0];
    assert_eq!(
        strings(&h["held_out"]),
        ["1B-1xC", "1B-2xC", "1B-5xC", "1B-10xC"]
    );
    assert_eq!(
        strings(&h["dropped"]),
        ["7B", "13B", "7B-trajectory", "13B-trajectory"]
    );
    let fitted = strings(&h["fitted"]);
    assert_eq!(fitted.len(), 12);
    assert!(fitted.iter().all(|r| !r.starts_with("1B")), "{fitted:?}");
    // Rolling origin: then the 760M runs from the 190M and 370M ones, the 1B runs dropped.
    let second = &b["holdouts"][1];
    assert_eq!(
        strings(&second["held_out"]),
        ["760M-1xC", "760M-2xC", "760M-5xC", "760M-10xC"]
    );
    let fitted = strings(&second["fitted"]);
    assert_eq!(fitted.len(), 8);
    assert!(
        fitted
            .iter()
            .all(|r| r.starts_with("190M") || r.starts_with("370M")),
        "{fitted:?}"
    );
    assert!(strings(&second["dropped"]).contains(&"1B-10xC"));
    // 2 holdouts × 4 held-out runs × 8 tasks × 18 methods (the ladder's 8, no-change,
    // log-linear and the pipeline's 8 variants of `ladder`), every one predicted and scored.
    let rows = b["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2 * 4 * 8 * 18);
    assert!(rows.iter().all(|r| r["abs_error"].is_number()), "{rows:?}");
    let variants = b["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 8);
    assert!(variants.iter().all(|v| v[1] == "ladder"), "{variants:?}");
    assert!(rows.iter().any(|r| r["method"] == "ladder[paper]"));
    // Only the runner's pipeline stages up to the backtest ran: no ladder fit of the targets.
    assert!(!p.path().join("out/olmo-ladder/ladder.bin").exists());
    let csv = std::fs::read_to_string(p.path().join("out/olmo-ladder/backtest.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 2 * 4 * 8 * 18);
}

#[test]
fn ladder_backtest_parameters_are_checked() {
    let p = Project::new();
    let out = olmo_backtest(&p, &["--set", "backtest.holdout=0"]);
    assert!(!out.ok);
    assert!(
        out.stderr
            .contains("stage `backtest`: `holdout` must be at least 1, found 0"),
        "{}",
        out.stderr
    );
    // 4 sizes and at least 2 to fit on: k = 1..2 run, and the summary says why not 5.
    let out = olmo_backtest(&p, &["--set", "backtest.holdout=5"]);
    assert!(out.ok, "{}", out.stderr);
    assert!(
        out.stdout.contains(
            "note: `holdout` = 5 asked for more than the ladder allows: it has 4 model sizes and \
             every fit keeps at least `min_sizes` = 2, so only k = 1..2 ran"
        ),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(
        "holdout k=2: 760M-1xC, 760M-2xC, 760M-5xC, 760M-10xC predicted from 8 runs \
         (190M-1xC … 370M-10xC); never read: 1B-1xC, 1B-2xC, 1B-5xC, 1B-10xC, 7B, 13B"
    ));
    let out = olmo_backtest(&p, &["--set", "backtest.min_sizes=4"]);
    assert!(!out.ok);
    assert!(
        out.stderr.contains(
            "the ladder has 4 model sizes; a backtest fits on at least `min_sizes` = 4 and holds \
             out one more, so it needs at least 5"
        ),
        "{}",
        out.stderr
    );
    let out = olmo_backtest(&p, &["--set", "backtest.ladder={ step1_last = 0 }"]);
    assert!(!out.ok);
    assert!(
        out.stderr
            .contains("`ladder`: `step1_last` must be at least 1, found 0"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_pipeline_without_a_backtest_says_what_to_add() {
    let p = Project::tiny();
    let out = p.cod(&["backtest", "tiny.toml"]);
    assert!(!out.ok);
    assert_eq!(
        out.stderr.trim(),
        "error: `tiny.toml` has no backtest stage; add one (with the `cluster`, `fit` and `map` \
         tables, or the `ladder` table, of the stages it backtests), e.g.\n\n\
         [backtest]\ninputs = [\"ingest\"]"
    );
    let out = p.cod(&["backtest", "tiny.toml", "--stage", "features"]);
    assert!(!out.ok);
    assert_eq!(
        out.stderr.trim(),
        "error: `--stage features`: not a backtest stage of `tiny.toml`; its backtest stages: none"
    );
    let help = p.cod(&["backtest", "--help"]);
    assert!(help.stdout.contains("cod backtest mmlu"), "{}", help.stdout);
}

#[test]
fn a_backtest_with_too_few_ladder_models_is_an_error() {
    // The tiny data set has 3 ladder models: none can be held out with 3 left to fit on.
    let p = Project::tiny();
    p.write(
        "tiny.toml",
        &format!(
            "{}\n[backtest]\ninputs = [\"ingest\"]\n",
            crate::support::TINY_PIPELINE
        ),
    );
    let out = p.cod(&["backtest", "tiny.toml"]);
    assert!(!out.ok);
    assert!(
        out.stderr.contains(
            "the ladder has 3 ladder models; a backtest fits on at least `min_ladder` = 3 and \
             holds out one more, so it needs at least 4"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn backtests_are_not_in_the_printed_summaries() {
    for name in ["mmlu", "bigg", "olmo-ladder"] {
        let path = root().join(format!("pipelines/{name}.toml"));
        let pipeline: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
        // The backtest is not in the pipeline's printed summary: `cod backtest` prints it.
        let summary = pipeline
            .get("pipeline")
            .and_then(|p| p.get("summary"))
            .and_then(toml::Value::as_array)
            .unwrap();
        assert!(
            !summary.iter().any(|s| s.as_str() == Some("backtest")),
            "{name}"
        );
    }
}
