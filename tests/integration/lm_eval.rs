//! lm-evaluation-harness sample logs: the `lm-eval-mini` fixture through its pipeline, and every
//! bad input the reader must reject with the file and line.

use std::fmt::Write;
use std::path::Path;

use crate::support::{Project, root};

#[test]
fn lm_eval_mini_pipeline_ingests_the_harness_layout() {
    let p = Project::new();
    let pipeline = root().join("pipelines/lm-eval-mini.toml");
    let out = p.cod(&["pipeline", "run", &pipeline.display().to_string()]);
    assert!(out.ok, "{}", out.stderr);
    assert_run_snapshot!("lm_eval_mini_summary", out.stdout);
    let table = p.artifact_json("out/lm-eval-mini/ingest.bin");
    let benchmarks = table["benchmarks"].as_array().unwrap();
    let names: Vec<&str> = benchmarks
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["gsm8k", "mmlu"]);
    let (gsm8k, mmlu) = (&benchmarks[0], &benchmarks[1]);
    // Generation: 10 responses per problem, the strict-match records only.
    assert_eq!(gsm8k["items"].as_array().unwrap().len(), 120);
    assert!(
        gsm8k["n_samples"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n == 10)
    );
    assert!(gsm8k["loss"].is_null());
    // Multiple choice: four subject tasks gathered into one benchmark, one attempt per item, and
    // the gold answer's loss from `filtered_resps`.
    assert_eq!(mmlu["items"].as_array().unwrap().len(), 240);
    assert_eq!(mmlu["items"][0], "subject_0/0");
    assert!(mmlu["n_samples"].as_array().unwrap().iter().all(|n| n == 1));
    let losses = mmlu["loss"].as_array().unwrap();
    assert!(
        losses
            .iter()
            .all(|l| l.as_f64().is_some_and(|l| (0.0..4.0).contains(&l)))
    );

    // The counts agree with what the simulator drew (the tidy rows of the same scenario).
    let scenario =
        cod_sim::Scenario::read(&root().join("fixtures/lm-eval-mini/scenario.toml")).unwrap();
    let sim = cod_sim::simulate(&scenario).unwrap();
    let solved_by_sim: u32 = (0..sim.rows.benchmark.len())
        .filter(|&i| sim.rows.benchmark[i] == "mmlu")
        .map(|i| sim.rows.n_correct[i])
        .sum();
    let solved: u64 = mmlu["n_correct"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(solved, u64::from(solved_by_sim));
}

/// A tiny harness output: two ladder models and a target, one multiple-choice task of two docs.
/// `features.signal = "gold-probability"` on the fixture's multiple choice: items are clustered by
/// the gold answer's share of the choices' probability; generation keeps its pass rates.
#[test]
fn gold_probability_signal_on_the_lm_eval_fixture() {
    let p = Project::new();
    let pipeline = root().join("pipelines/lm-eval-mini.toml");
    let out = p.cod(&[
        "pipeline",
        "run",
        &pipeline.display().to_string(),
        "--set",
        "ingest.loss=gold-normalized",
        "--set",
        "features.signal=gold-probability",
    ]);
    assert!(out.ok, "{}", out.stderr);
    let table = p.artifact_json("out/lm-eval-mini/ingest.bin");
    let features = p.artifact_json("out/lm-eval-mini/features.bin");
    let (gsm8k, mmlu) = (&features["benchmarks"][0], &features["benchmarks"][1]);
    assert!(gsm8k["gold_probability"].is_null());
    let gold = mmlu["gold_probability"].as_array().unwrap();
    assert_eq!(gold.len(), mmlu["pass_rates"].as_array().unwrap().len());
    // Four choices: a normalized share in (0, 1), exp(−loss) of the table's loss.
    let loss = table["benchmarks"][1]["loss"].as_array().unwrap();
    let ladder: Vec<usize> = features["ladder"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            table["models"]
                .as_array()
                .unwrap()
                .iter()
                .position(|t| t["name"] == m["name"])
                .unwrap()
        })
        .collect();
    let n_models = table["models"].as_array().unwrap().len();
    let items = table["benchmarks"][1]["items"].as_array().unwrap();
    let first = items.iter().position(|i| *i == mmlu["items"][0]).unwrap();
    for (k, &m) in ladder.iter().enumerate() {
        let want = (-loss[first * n_models + m].as_f64().unwrap()).exp();
        let got = gold[k].as_f64().unwrap();
        assert!(
            (got - want).abs() < 1e-12 && got > 0.0 && got < 1.0,
            "{got} {want}"
        );
    }
    let summary = p.cod(&["artifact", "show", "out/lm-eval-mini/features.bin"]);
    assert!(
        summary
            .stdout
            .contains("clustered by the gold answer's probability"),
        "{}",
        summary.stdout
    );
    let predictions = std::fs::read_to_string(p.path().join("out/lm-eval-mini/predictions.json"));
    assert!(predictions.unwrap().contains("\"irt\""));
}

fn tiny() -> Project {
    let p = Project::new();
    p.write(
        "models.toml",
        "[[model]]\nname = \"a\"\nparams = 1e6\ntokens = 2e7\n\n\
         [[model]]\nname = \"b\"\nparams = 4e6\ntokens = 8e7\n\n\
         [[model]]\nname = \"t\"\nparams = 1e8\ntokens = 2e9\nrole = \"target\"\n",
    );
    for (model, accs) in [("a", [0, 1]), ("b", [1, 1]), ("t", [1, 1])] {
        let lines: Vec<String> = accs
            .iter()
            .enumerate()
            .map(|(doc, acc)| record(doc, *acc, &format!("h{doc}")))
            .collect();
        write_samples(&p, model, "arc_easy", &lines.join("\n"));
    }
    p.write(
        "tiny.toml",
        "[ingest]\nstage = \"ingest-lm-eval\"\nmanifest = \"models.toml\"\ndirs = \"logs/*\"\n",
    );
    p
}

fn record(doc: usize, acc: u32, hash: &str) -> String {
    format!(
        r#"{{"doc_id": {doc}, "doc": {{"q": "x"}}, "target": "0", "arguments": {{}}, "resps": [[["-0.5", "True"]], [["-1.5", "False"]]], "filtered_resps": [["-0.5", "True"], ["-1.5", "False"]], "filter": "none", "metrics": ["acc"], "doc_hash": "{hash}", "acc": {acc}}}"#
    )
}

fn write_samples(p: &Project, model: &str, task: &str, text: &str) {
    p.write(
        &format!("logs/{model}/samples_{task}_2025-01-01T00-00-00.000000.jsonl"),
        text,
    );
}

fn samples_path(model: &str) -> String {
    format!("[TMP]/logs/{model}/samples_arc_easy_2025-01-01T00-00-00.000000.jsonl")
}

#[test]
fn tiny_harness_output_snapshot() {
    let p = tiny();
    let out = p.cod(&["pipeline", "run", "tiny.toml"]);
    assert!(out.ok, "{}", out.stderr);
    insta::assert_yaml_snapshot!(
        "lm_eval_tiny_ingest",
        p.artifact_json("out/tiny/ingest.bin")
    );
}

/// Runs the tiny pipeline after `edit`; returns stderr, and checks no artifact was left.
fn tiny_error(edit: impl FnOnce(&Project)) -> String {
    let p = tiny();
    edit(&p);
    let out = p.cod(&["pipeline", "run", "tiny.toml"]);
    assert!(!out.ok, "expected a failure; stdout: {}", out.stdout);
    assert!(!Path::new(&p.path().join("out/tiny/ingest.bin")).exists());
    out.stderr
}

#[test]
fn bad_harness_output_is_rejected_with_file_and_line() {
    let b = samples_path("b");
    let cases: Vec<(String, String)> = vec![
        // Malformed JSON, a truncated last line, a Python NaN literal.
        (
            format!("{}\n{{\"doc_id\": 1,", record(0, 1, "h0")),
            format!("`{b}`:2: invalid sample record"),
        ),
        (
            format!("{}\n{}", record(0, 1, "h0"), &record(1, 1, "h1")[..40]),
            format!("`{b}`:2: invalid sample record"),
        ),
        (
            record(0, 1, "h0").replace("\"acc\": 1", "\"acc\": NaN"),
            format!("`{b}`:1: invalid sample record"),
        ),
        // Wrong types and values.
        (
            record(0, 1, "h0").replace("\"acc\": 1", "\"acc\": \"abc\""),
            format!("`{b}`:1: metric `acc`: expected a number, found `\"abc\"`"),
        ),
        (
            record(0, 1, "h0").replace("\"acc\": 1", "\"acc\": 1.5"),
            format!("`{b}`:1: metric `acc`: expected a value in [0, 1], found 1.5"),
        ),
        (
            record(0, 1, "h0").replace("\"doc_id\": 0", "\"doc_id\": [0]"),
            format!(
                "`{b}`:1: `doc_id` must be a whole number ≥ 0, as the harness writes, found `[0]`"
            ),
        ),
        // Issue: string and fractional doc ids were accepted and failed later without a line.
        // (A string of digits, as harness 0.4.10 writes, is a number.)
        (
            record(0, 1, "h0").replace("\"doc_id\": 0", "\"doc_id\": \"a0\""),
            format!(
                "`{b}`:1: `doc_id` must be a whole number ≥ 0, as the harness writes, found `\"a0\"`"
            ),
        ),
        (
            format!(
                "{}\n{}",
                record(0, 1, "h0"),
                record(1, 1, "h1").replace("\"doc_id\": 1", "\"doc_id\": 1.5")
            ),
            format!(
                "`{b}`:2: `doc_id` must be a whole number ≥ 0, as the harness writes, found `1.5`"
            ),
        ),
        (
            "[1, 2]".to_owned(),
            format!(
                "`{b}`:1: invalid JSON array: invalid type: integer `1`, expected a JSON object"
            ),
        ),
        // Missing fields.
        (
            record(0, 1, "h0").replace("\"doc_id\": 0, ", ""),
            format!("`{b}`:1: the record has no `doc_id`"),
        ),
        (
            record(0, 1, "h0").replace(", \"acc\": 1", ""),
            format!(
                "`{b}`:1: no metric `acc` or `exact_match` in the record (`metrics` lists acc); set `metric` to one it has"
            ),
        ),
        // Empty files, duplicated docs, documents that differ between models.
        (
            String::new(),
            format!("`{b}`: no records; expected one JSON object per line"),
        ),
        (
            format!("{}\n{}", record(0, 1, "h0"), record(0, 1, "h0")),
            format!(
                "`{b}`:2: task `arc_easy` doc 0 appears twice for filter `none`; first at `{b}`:1"
            ),
        ),
        (
            record(0, 1, "other"),
            format!(
                "`{b}`:1: task `arc_easy` doc 0 has doc_hash `other`, but `{}` gives `h0` for it",
                samples_path("a")
            ),
        ),
    ];
    for (text, expected) in cases {
        let stderr = tiny_error(|p| write_samples(p, "b", "arc_easy", &text));
        assert!(
            stderr.contains(&expected),
            "for {text:?}\nexpected: {expected}\nfound: {stderr}"
        );
    }
}

/// Issue: a byte-order mark at the start of a JSONL file was an unclear error; it is skipped, as
/// the CSV and TOML readers skip it.
#[test]
fn a_byte_order_mark_in_a_samples_file_is_skipped() {
    let p = tiny();
    let lines = format!("\u{feff}{}\n{}", record(0, 1, "h0"), record(1, 1, "h1"));
    write_samples(&p, "b", "arc_easy", &lines);
    let out = p.cod(&["pipeline", "run", "tiny.toml"]);
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(p.artifact_json("out/tiny/ingest.bin"), {
        let clean = tiny();
        assert!(clean.cod(&["pipeline", "run", "tiny.toml"]).ok);
        clean.artifact_json("out/tiny/ingest.bin")
    });
}

/// Issue: a corrupt `results_*.json` beside the samples was ignored without a word. It is not
/// needed to ingest, so the run goes on, with a warning naming the file and line.
#[test]
fn a_corrupt_results_file_is_a_warning() {
    let p = tiny();
    p.write(
        "logs/a/results_2025-01-01T00-00-00.000000.json",
        "{\n  \"config\": {\n    oops\n",
    );
    let out = p.cod(&["pipeline", "run", "tiny.toml"]);
    assert!(out.ok, "{}", out.stderr);
    let summary = format!("{}{}", out.stdout, out.stderr);
    assert!(
        summary.contains(
            "`[TMP]/logs/a/results_2025-01-01T00-00-00.000000.json`:3: not valid JSON (key must be a string at line 3 column 5); its `model_num_parameters` is not checked"
        ),
        "{summary}"
    );
}

#[test]
fn bad_harness_layouts_are_rejected() {
    let unknown = tiny_error(|p| {
        write_samples(p, "zz", "arc_easy", &record(0, 1, "h0"));
        let strict =
            std::fs::read_to_string(p.path().join("tiny.toml")).unwrap() + "strict = true\n";
        p.write("tiny.toml", &strict);
    });
    assert!(
        unknown.contains("`models.zz`: unknown model; the manifest lists `a`, `b`, `t`"),
        "{unknown}"
    );
    // Without `strict`, the folder is skipped and counted.
    let p = tiny();
    write_samples(&p, "zz", "arc_easy", &record(0, 1, "h0"));
    let out = p.cod(&["pipeline", "run", "tiny.toml"]);
    assert!(out.ok, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "warning: skipped 1 directories of 1 model(s) the manifest does not list: `zz` (1)"
        ),
        "{}",
        out.stderr
    );

    let no_dir = tiny_error(|p| std::fs::remove_dir_all(p.path().join("logs/a")).unwrap());
    assert!(
        no_dir.contains("ladder model `a` has no directory"),
        "{no_dir}"
    );

    let two_filters = tiny_error(|p| {
        let strict =
            record(0, 1, "h0").replace("\"filter\": \"none\"", "\"filter\": \"strict-match\"");
        let flexible =
            record(0, 1, "h0").replace("\"filter\": \"none\"", "\"filter\": \"flexible-extract\"");
        write_samples(p, "b", "arc_easy", &format!("{strict}\n{flexible}"));
    });
    assert!(two_filters.contains("records for several filters (`flexible-extract`, `strict-match`); choose one with `filter`"), "{two_filters}");

    let missing_doc = tiny_error(|p| write_samples(p, "b", "arc_easy", &record(0, 1, "h0")));
    assert!(
        missing_doc.contains("benchmark `arc_easy`, item `1`: no result for ladder model(s) `b`"),
        "{missing_doc}"
    );
}

#[test]
fn repeats_filters_and_a_parameter_mismatch() {
    let p = tiny();
    // Generation with 4 responses, two filters; the pipeline picks one.
    let generated = |doc: usize, filter: &str, em: f64| {
        format!(
            r#"{{"doc_id": {doc}, "target": "7", "resps": [["7", "7", "3", "1"]], "filtered_resps": ["7", "7", "3", "1"], "filter": "{filter}", "exact_match": {em}}}"#
        )
    };
    for model in ["a", "b", "t"] {
        let text = [
            generated(0, "strict-match", 0.5),
            generated(0, "flexible-extract", 0.75),
        ]
        .join("\n");
        write_samples(&p, model, "gsm8k", &text);
    }
    p.write(
        "logs/a/results_2025-01-01T00-00-00.000000.json",
        r#"{"results": {}, "config": {"model_num_parameters": 1500000}}"#,
    );
    p.write(
        "tiny.toml",
        "[ingest]\nstage = \"ingest-lm-eval\"\nmanifest = \"models.toml\"\ndirs = \"logs/*\"\nfilter = \"flexible-extract\"\n",
    );
    let out = p.cod(&["pipeline", "run", "tiny.toml"]);
    assert!(out.ok, "{}", out.stderr);
    let table = p.artifact_json("out/tiny/ingest.bin");
    let gsm8k = table["benchmarks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "gsm8k")
        .unwrap();
    assert_eq!(gsm8k["n_samples"][0], 4);
    assert_eq!(gsm8k["n_correct"][0], 3);
    let warnings = table["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .contains("model `a`: the manifest says params = 1.0000e6"),
        "{warnings:?}"
    );
}

#[test]
fn inspect_then_init_writes_a_pipeline_that_runs_once_filled_in() {
    let p = tiny();
    let out = p.cod(&["ingest", "inspect", "logs"]);
    assert!(out.ok, "{}", out.stderr);
    assert_run_snapshot!("lm_eval_inspect", out.stdout);

    let out = p.cod(&["init", "logs", "--name", "mine"]);
    assert!(out.ok, "{}", out.stderr);
    assert!(p.path().join("pipelines/mine.toml").is_file());
    // The manifest leaves what the logs do not say as 0.0, which is rejected by name.
    let out = p.cod(&["pipeline", "run", "mine", "--until", "ingest"]);
    assert!(!out.ok);
    assert!(
        out.stderr
            .contains("`params` must be a positive number, found 0"),
        "{}",
        out.stderr
    );
    let manifest = std::fs::read_to_string(p.path().join("pipelines/manifests/mine.toml")).unwrap();
    let mut filled = manifest
        .replace("params = 0.0", "params = 1e6")
        .replace("tokens = 0.0", "tokens = 2e7");
    // The last model, `t`, is the target.
    let last = filled.rfind("role = \"ladder\"").unwrap();
    filled.replace_range(last.., "role = \"target\"\n");
    p.write("pipelines/manifests/mine.toml", &filled);
    let out = p.cod(&["pipeline", "run", "mine", "--until", "ingest"]);
    assert!(out.ok, "{}\n{filled}", out.stderr);
    // Refuses to overwrite.
    let again = p.cod(&["init", "logs", "--name", "mine"]);
    assert!(
        !again.ok
            && again
                .stderr
                .contains("exists; choose another `--name` or pass `--force`")
    );
    // A pipeline's name becomes a file name: a path is refused.
    let out = p.cod(&["init", "logs", "--name", "../x"]);
    assert!(!out.ok);
    assert!(
        out.stderr.contains("`--name`: `../x` is not a plain name"),
        "{}",
        out.stderr
    );
}

/// v0.3 `--write_out` files (JSON arrays, `"acc": "True"`, no hashes), found by their content:
/// the real Llama-2 7b and 13b and Mistral-7B winogrande logs of `lm-eval-real/SlurmEvals`, one
/// of them renamed `winograndeLogs.json` by its user. Each model's correct count is the number of
/// records with `"acc": "True"` (935, 965 and 990 of 1,267, counted with Python's json module).
#[test]
fn v0_3_write_out_files_ingest() {
    let data = crate::support::shared_data("lm-eval-real/SlurmEvals");
    let slurm = data.join("lm-eval-real/SlurmEvals");
    let p = Project::new();
    for (model, file) in [
        ("llama-2-7b", "llama/winograndeLogs.json"),
        ("llama-2-13b", "llama13/winogrande_write_out_info.json"),
        ("mistral-7b", "mistral/winogrande_write_out_info.json"),
    ] {
        let text = std::fs::read_to_string(slurm.join(file)).unwrap();
        let name = Path::new(file).file_name().unwrap().to_str().unwrap();
        p.write(&format!("logs/{model}/{name}"), &text);
    }
    p.write(
        "models.toml",
        "[[model]]\nname = \"llama-2-7b\"\nparams = 6.74e9\ntokens = 2e12\n\n\
         [[model]]\nname = \"llama-2-13b\"\nparams = 1.3e10\ntokens = 2e12\n\n\
         [[model]]\nname = \"mistral-7b\"\nparams = 7.24e9\ntokens = 8e12\n",
    );
    p.write(
        "v03.toml",
        "[ingest]\nstage = \"ingest-lm-eval\"\nmanifest = \"models.toml\"\ndirs = \"logs/*\"\n",
    );
    let inspect = p.cod(&["ingest", "inspect", "logs"]);
    assert!(inspect.ok, "{}", inspect.stderr);
    assert!(
        inspect
            .stdout
            .contains("layout: v0.3 `--write_out` JSON array"),
        "{}",
        inspect.stdout
    );
    assert!(
        inspect.stdout.contains("1 samples files, 1267 records"),
        "{}",
        inspect.stdout
    );
    let out = p.cod(&["pipeline", "run", "v03.toml"]);
    assert!(out.ok, "{}", out.stderr);
    let table = p.artifact_json("out/v03/ingest.bin");
    let bench = &table["benchmarks"][0];
    assert_eq!(bench["name"], "winogrande");
    assert_eq!(bench["items"].as_array().unwrap().len(), 1267);
    let correct: Vec<u64> = (0..3)
        .map(|m| {
            bench["n_correct"]
                .as_array()
                .unwrap()
                .iter()
                .skip(m)
                .step_by(3)
                .map(|v| v.as_u64().unwrap())
                .sum()
        })
        .collect();
    assert_eq!(correct, [935, 965, 990]);
}

/// The per-sample mean is checked against the results file the same run wrote: a disagreement
/// is a warning naming both files; agreement says nothing.
#[test]
fn samples_are_cross_checked_against_their_results_file() {
    let results = |acc: f64| {
        format!(r#"{{"results": {{"arc_easy": {{"acc,none": {acc}, "acc_stderr,none": 0.0}}}}}}"#)
    };
    let p = tiny();
    p.write(
        "logs/b/results_2025-01-01T00-00-00.000000.json",
        &results(1.0),
    );
    let out = p.cod(&["pipeline", "run", "tiny.toml"]);
    assert!(out.ok, "{}", out.stderr);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    p.write(
        "logs/b/results_2025-01-01T00-00-00.000000.json",
        &results(0.75),
    );
    let out = p.cod(&["pipeline", "run", "tiny.toml"]);
    assert!(out.ok, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "warning: `{}`: the mean `acc` over its 2 documents is 1.000000000000, but `[TMP]/logs/b/results_2025-01-01T00-00-00.000000.json` reports 0.750000000000 for task `arc_easy`",
            samples_path("b")
        )),
        "{}",
        out.stderr
    );
}

/// Harness 0.4.10 writes `doc_id` as a string of digits (`"0"`): it is read as the number, so the
/// table is the same as with numeric ids.
#[test]
fn digit_string_doc_ids_are_numbers() {
    let p = tiny();
    let lines = [0, 1]
        .map(|doc| {
            record(doc, 1, &format!("h{doc}")).replace(
                &format!("\"doc_id\": {doc}"),
                &format!("\"doc_id\": \"{doc}\""),
            )
        })
        .join("\n");
    write_samples(&p, "b", "arc_easy", &lines);
    let out = p.cod(&["pipeline", "run", "tiny.toml"]);
    assert!(out.ok, "{}", out.stderr);
    let clean = tiny();
    assert!(clean.cod(&["pipeline", "run", "tiny.toml"]).ok);
    assert_eq!(
        p.artifact_json("out/tiny/ingest.bin"),
        clean.artifact_json("out/tiny/ingest.bin")
    );
}

/// Harness versions before the `filter` key log a two-filter task as two passes over its
/// documents. The fixture's generation logs, with the key removed and the records regrouped into
/// passes in `filter_list` order, ingest to the same table as the labelled originals; without a
/// `filter_list` the passes are `filter-1` and `filter-2`; a document merely repeated is still an
/// error.
#[test]
fn two_filters_without_filter_keys_are_read_as_passes() {
    let fixture = root().join("fixtures/lm-eval-mini");
    let p = Project::new();
    let models = ["sim-70m", "sim-160m", "sim-410m", "sim-1b", "sim-2.8b"];
    let stamp = "2025-01-01T00-00-00.000000";
    let filters = ["strict-match", "flexible-extract"];
    let copy = |dir: &str, unlabel: bool, configs: bool| {
        for model in models {
            let from = fixture.join(format!("lm-eval/{model}/samples_gsm8k_{stamp}.jsonl"));
            let text = std::fs::read_to_string(from).unwrap();
            let mut records: Vec<serde_json::Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            // The fixture's two filters extract the same answers; zeroing one tells them apart.
            for r in &mut records {
                if r["filter"] == "flexible-extract" {
                    r["exact_match"] = 0.0.into();
                }
            }
            if unlabel {
                records.sort_by_key(|r| {
                    let f = r["filter"].as_str().unwrap();
                    filters.iter().position(|&x| x == f).unwrap()
                });
                for r in &mut records {
                    r.as_object_mut().unwrap().remove("filter");
                    r.as_object_mut().unwrap().remove("metrics");
                }
            }
            let lines: Vec<String> = records.iter().map(ToString::to_string).collect();
            p.write(
                &format!("{dir}/{model}/samples_gsm8k_{stamp}.jsonl"),
                &lines.join("\n"),
            );
            if configs {
                p.write(
                    &format!("{dir}/{model}/results_{stamp}.json"),
                    r#"{"results": {}, "configs": {"gsm8k": {"filter_list": [{"name": "strict-match"}, {"name": "flexible-extract"}]}}}"#,
                );
            }
        }
    };
    copy("labelled", false, false);
    copy("passes", true, true);
    copy("unnamed", true, false);
    let manifest = fixture.join("models.toml");
    let pipeline = |dir: &str, filter: &str| {
        let name = format!("{dir}-{filter}");
        p.write(
            &format!("{name}.toml"),
            &format!(
                "[ingest]\nstage = \"ingest-lm-eval\"\nmanifest = \"{}\"\ndirs = \"{dir}/*\"\n\
                 filter = \"{filter}\"\n",
                manifest.display()
            ),
        );
        let out = p.cod(&["pipeline", "run", &format!("{name}.toml")]);
        assert!(out.ok, "{name}: {}", out.stderr);
        let table = p.artifact_json(&format!("out/{name}/ingest.bin"));
        table["benchmarks"][0].clone()
    };
    let strict = pipeline("labelled", "strict-match");
    let flexible = pipeline("labelled", "flexible-extract");
    assert_eq!(strict["name"], "gsm8k");
    assert!(strict != flexible, "the two filters should differ");
    assert!(
        pipeline("passes", "strict-match") == strict,
        "strict-match pass"
    );
    assert!(
        pipeline("passes", "flexible-extract") == flexible,
        "flexible-extract pass"
    );
    assert!(
        pipeline("unnamed", "filter-1") == strict,
        "first unnamed pass"
    );
    assert!(
        pipeline("unnamed", "filter-2") == flexible,
        "second unnamed pass"
    );

    // Without `filter`, the unnamed passes must be chosen between.
    p.write(
        "unnamed.toml",
        &format!(
            "[ingest]\nstage = \"ingest-lm-eval\"\nmanifest = \"{}\"\ndirs = \"unnamed/*\"\n",
            manifest.display()
        ),
    );
    let out = p.cod(&["pipeline", "run", "unnamed.toml"]);
    assert!(!out.ok);
    assert!(
        out.stderr.contains(
            "records for several filters (`filter-1`, `filter-2`); choose one with `filter`"
        ),
        "{}",
        out.stderr
    );

    // A document logged twice in one pass is not a second filter.
    let bad = fixture.join(format!("lm-eval/sim-70m/samples_gsm8k_{stamp}.jsonl"));
    let first = std::fs::read_to_string(bad).unwrap();
    let mut one: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    one.as_object_mut().unwrap().remove("filter");
    let text = [one.to_string(), one.to_string(), {
        let mut other = one.clone();
        other["doc_id"] = 1.into();
        other.to_string()
    }]
    .join("\n");
    p.write(
        &format!("unnamed/sim-70m/samples_gsm8k_{stamp}.jsonl"),
        &text,
    );
    let out = p.cod(&["pipeline", "run", "unnamed-filter-1.toml"]);
    assert!(!out.ok);
    assert!(out.stderr.contains("doc 0 appears twice"), "{}", out.stderr);
}

/// What each harness version's real per-sample logs in `lm-eval-real/` ingest to, one folder per
/// layout read as both models of a two-model ladder: the layout `inspect` finds, then per
/// benchmark the items, the attempts and successes and the loss, or the error that names why the
/// folder cannot be a ladder's data.
#[test]
fn every_harness_versions_logs_ingest_or_say_why() {
    let data = crate::support::shared_data("lm-eval-real");
    let p = Project::new();
    p.write(
        "models.toml",
        "[[model]]\nname = \"a\"\nparams = 1e8\ntokens = 2e9\n\n\
         [[model]]\nname = \"b\"\nparams = 4e8\ntokens = 8e9\n",
    );
    let folders = [
        ("v0.3 write_out", "SlurmEvals/llama", ""),
        ("2023 big-refactor", "output", ""),
        (
            "0.4.2 .json-named JSONL",
            "lm_eval/tasks/bias_classification/results/meta-llama__Meta-Llama-3-8B",
            "",
        ),
        (
            "0.4.3 string pairs, generation",
            "results/asdiv/meta-llama__Meta-Llama-3-8B-Instruct",
            "",
        ),
        ("0.4.8 fractional metric", "results/FLOR-760M", ""),
        (
            "0.4.13 filter and metrics keys",
            "outputs/qwen3-8b/negotiationtom/Qwen__Qwen3-8B",
            "",
        ),
        (
            "0.4.10 nested filtered_resps",
            "african_nlp_benchmarks/google__gemma-2b",
            "metric = \"f1\"\n",
        ),
        (
            "0.4.x regression metric",
            "results/tgpred.json/gpt-4o-mini",
            "",
        ),
    ];
    let mut report = String::new();
    for (i, (what, folder, extra)) in folders.iter().enumerate() {
        let dir = data.join("lm-eval-real").join(folder);
        let inspect = p.cod(&["ingest", "inspect", &dir.display().to_string()]);
        let layout = inspect
            .stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix("layout: "))
            .unwrap_or("(no layout line)")
            .to_owned();
        let name = format!("v{i}");
        p.write(
            &format!("{name}.toml"),
            &format!(
                "[ingest]\nstage = \"ingest-lm-eval\"\nmanifest = \"models.toml\"\n\
                 models = {{ a = \"{d}\", b = \"{d}\" }}\n{extra}",
                d = dir.display()
            ),
        );
        let out = p.cod(&["pipeline", "run", &format!("{name}.toml")]);
        let _ = writeln!(report, "## {what} ({folder})\nlayout: {layout}");
        if !out.ok {
            let data_dir = data.display().to_string();
            let stderr = out
                .stderr
                .replace(&data_dir, "[DATA]")
                .replace("[ROOT]/../shared/data", "[DATA]");
            report.push_str(&stderr);
            assert!(!p.path().join(format!("out/{name}/ingest.bin")).exists());
            report.push('\n');
            continue;
        }
        let table = p.artifact_json(&format!("out/{name}/ingest.bin"));
        for b in table["benchmarks"].as_array().unwrap() {
            let sum = |key: &str| -> u64 {
                b[key]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_u64().unwrap())
                    .sum()
            };
            let items = b["items"].as_array().unwrap();
            let first: Vec<&str> = items.iter().take(3).map(|v| v.as_str().unwrap()).collect();
            let _ = writeln!(
                report,
                "{}: {} items ({} …), n_samples {}, n_correct {}, loss {}",
                b["name"].as_str().unwrap(),
                items.len(),
                first.join(", "),
                sum("n_samples"),
                sum("n_correct"),
                if b["loss"].is_null() { "none" } else { "gold" }
            );
        }
        report.push('\n');
    }
    insta::assert_snapshot!("lm_eval_real_versions", report);
}
