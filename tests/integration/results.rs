//! lm-evaluation-harness aggregate results files (`results_*.json`): the real Pythia folders of
//! `lm-eval-real/lm_evals` through `cod init` and the `pythia-steer` pipeline, and a checkpoint
//! pattern on files written here.

use crate::support::{Project, root, shared_data};

/// The `pythia-steer` pipeline reads the real results files: every Pythia model's six `steer`
/// accuracies, and predictions for both targets. The accuracies are the files' `acc,none` values (checked for one cell by hand).
#[test]
fn pythia_steer_pipeline_reads_real_results_files() {
    shared_data("lm-eval-real/lm_evals");
    let p = Project::new();
    let pipeline = root().join("pipelines/pythia-steer.toml");
    let out = p.run(
        std::process::Command::new(env!("CARGO_BIN_EXE_cod"))
            .args([
                "pipeline",
                "run",
                &pipeline.display().to_string(),
                "--out",
                "out",
            ])
            .env("COD_DATA", shared_data("lm-eval-real")),
    );
    assert!(out.ok, "{}", out.stderr);
    let runs = p.artifact_json("out/ingest.bin");
    let names: Vec<&str> = runs["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 9, "{names:?}");
    let tasks: Vec<&str> = runs["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        tasks,
        ["steer", "steer2", "steer3", "steer4", "steer5", "steer9"]
    );
    let p14m = &runs["runs"][0];
    assert_eq!(p14m["name"], "pythia-14m");
    // `results.steer["acc,none"]` of pythia-14m's file.
    assert_eq!(p14m["series"][0]["values"][0], 0.581_402_545_159_169_1);
    let fits = p.artifact_json("out/ladder.bin");
    let targets = fits["tasks"][0]["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 2);
    assert!(targets.iter().all(|t| t["accuracy_no_change"].is_number()));
    assert!(p.path().join("out/report.html").exists());
}

/// `cod init` on the results folder writes a pipeline that runs once the manifest is filled in:
/// here, by keeping the Pythia models with their tokens and marking the targets; the 45 other
/// models' folders are skipped with a count.
#[test]
fn init_on_results_files_gives_a_pipeline_that_runs_once_filled_in() {
    let data = shared_data("lm-eval-real/lm_evals");
    let p = Project::new();
    let source = data.join("lm-eval-real/lm_evals");
    let out = p.cod(&["init", &source.display().to_string(), "--name", "steer"]);
    assert!(out.ok, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("lm-evaluation-harness results files (aggregate scores), 54 models, "),
        "{}",
        out.stdout
    );
    let manifest =
        std::fs::read_to_string(p.path().join("pipelines/manifests/steer.toml")).unwrap();
    assert!(
        manifest.contains("# Still missing: tokens of every model."),
        "{manifest}"
    );
    // `model_num_parameters` of pythia-14m's results file.
    assert!(
        manifest.contains("name = \"pythia-14m\"\nparams = 14067712.0\n"),
        "{manifest}"
    );
    let filled =
        std::fs::read_to_string(root().join("pipelines/manifests/pythia-steer.toml")).unwrap();
    p.write("pipelines/manifests/steer.toml", &filled);
    let out = p.cod(&["pipeline", "run", "steer"]);
    assert!(out.ok, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("warning: skipped 45 checkpoints of 45 model(s) the manifest does not list"),
        "{}",
        out.stderr
    );
}

fn results_file(acc: f64, ppl: f64) -> String {
    format!(
        r#"{{"results": {{"q": {{"alias": "q", "acc,none": {acc}, "acc_stderr,none": 0.01, "word_perplexity,none": {ppl}}}}}, "n-samples": {{"q": {{"original": 100, "effective": 100}}}}, "config": {{"model": "hf"}}}}"#
    )
}

/// One file per checkpoint, named `<model>_step<N>.json`: the pattern gives model and step,
/// `tokens_per_step` the tokens, and a perplexity becomes a log loss.
#[test]
fn checkpoint_files_give_one_run_per_model() {
    let p = Project::new();
    for (model, step, acc, ppl) in [
        ("a", 1000, 0.30, 40.0),
        ("a", 2000, 0.34, 30.0),
        ("b", 1000, 0.40, 25.0),
        ("b", 2000, 0.46, 20.0),
        ("t", 4000, 0.70, 10.0),
        ("other", 1000, 0.1, 90.0),
    ] {
        p.write(
            &format!("evals/{model}_step{step}.json"),
            &results_file(acc, ppl),
        );
    }
    p.write(
        "models.toml",
        "[[model]]\nname = \"a\"\nparams = 1e8\ntokens = 2e9\n\n\
         [[model]]\nname = \"b\"\nparams = 4e8\ntokens = 8e9\n\n\
         [[model]]\nname = \"t\"\nparams = 4e9\nflops = 1.92e21\nrole = \"target\"\n",
    );
    p.write(
        "steps.toml",
        "[ingest]\nstage = \"ingest-lm-eval-results\"\nmanifest = \"models.toml\"\n\
         files = \"evals/*.json\"\ncheckpoint = \"{model}_step{step}.json\"\n\
         tokens_per_step = 1e6\nloss = \"word_perplexity\"\n",
    );
    let out = p.cod(&["pipeline", "run", "steps.toml"]);
    assert!(out.ok, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "skipped 1 checkpoints of 1 model(s) the manifest does not list: `other` (1)"
        ),
        "{}",
        out.stderr
    );
    let runs = p.artifact_json("out/steps/ingest.bin");
    let a = &runs["runs"][0];
    assert_eq!(a["steps"], serde_json::json!([1000, 2000]));
    assert_eq!(a["checkpoint_tokens"], serde_json::json!([1e9, 2e9]));
    assert_eq!(a["series"][0]["values"], serde_json::json!([0.30, 0.34]));
    let loss = a["series"][1]["values"][0].as_f64().unwrap();
    assert!((loss - 40f64.ln()).abs() < 1e-12, "{loss}");
    // The target: one checkpoint, its D from flops = 6·N·D.
    let t = &runs["runs"][2];
    assert_eq!(t["tokens"], 8e10);

    // Strict: the unlisted model is an error naming its file.
    let out = p.cod(&[
        "pipeline",
        "run",
        "steps.toml",
        "--set",
        "ingest.strict=true",
    ]);
    assert!(!out.ok);
    assert!(
        out.stderr.contains("`[TMP]/evals/other_step1000.json`: model `other` is not in the manifest (`strict = true`)"),
        "{}",
        out.stderr
    );
    // A damaged results file names its line.
    p.write("evals/a_step1000.json", "{\n  \"results\": {\n    oops");
    let out = p.cod(&["pipeline", "run", "steps.toml"]);
    assert!(!out.ok);
    assert!(
        out.stderr
            .contains("`[TMP]/evals/a_step1000.json`:3: not valid JSON"),
        "{}",
        out.stderr
    );
}
