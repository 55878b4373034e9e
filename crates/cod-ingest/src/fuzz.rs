//! Fuzzing of every reader: mutated valid inputs and noise must give a result or an error, never
//! a panic. One target per reader: tidy CSV, tidy Parquet, score tables, training-run tables,
//! lm-eval JSONL, lm-eval JSON arrays, `results_*.json`, models manifests, runs manifests,
//! pipeline files and the artifact decoder.
//!
//! Each target runs `COD_FUZZ_CASES` inputs with a random seed when set (`just fuzz`, in release),
//! else its short default with a fixed seed, which CI runs. Each prints how many inputs it ran
//! (`-- --nocapture`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};

use crate::lm_eval::{LmEvalOptions, SamplesFile, parse_file, reported_params};
use crate::{MissingPolicy, read_manifest, read_runs, read_runs_manifest, read_scores, read_tidy};

/// Runs `check` on `cases` inputs from `strategy` (or `COD_FUZZ_CASES`), failing on the first
/// panic with the input shrunk, and prints the count.
fn fuzz<S: Strategy>(target: &str, cases: u32, strategy: S, check: impl Fn(S::Value)) {
    let long = std::env::var("COD_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok());
    let config = Config {
        cases: long.unwrap_or(cases),
        failure_persistence: None,
        // The short run is the same on every machine; long runs draw new inputs each time.
        rng_seed: if long.is_some() {
            RngSeed::Random
        } else {
            RngSeed::Fixed(20_261_202)
        },
        ..Config::default()
    };
    let ran = AtomicU64::new(0);
    TestRunner::new(config)
        .run(&strategy, |value| {
            check(value);
            ran.fetch_add(1, Ordering::Relaxed);
            Ok(())
        })
        .unwrap_or_else(|err| panic!("fuzz target `{target}`: {err}"));
    #[allow(clippy::print_stderr)]
    {
        eprintln!(
            "fuzz target `{target}`: {} inputs, no panic",
            ran.into_inner()
        );
    }
}

/// A file in a directory of the target's own, rewritten for every input.
struct Scratch {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        Scratch { _dir: dir, path }
    }

    fn write(&self, bytes: &[u8]) -> &Path {
        std::fs::write(&self.path, bytes).unwrap();
        &self.path
    }

    fn dir(&self) -> &Path {
        self.path.parent().unwrap()
    }
}

/// Bytes near `base`: some replaced, inserted and removed, then cut.
fn mutated(base: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let edits = prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 0..8);
    (edits, any::<prop::sample::Index>(), any::<bool>()).prop_map(move |(edits, cut, do_cut)| {
        let mut bytes = base.clone();
        for (at, byte, kind) in edits {
            let i = at.index(bytes.len() + 1);
            match kind {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ if i < bytes.len() => {
                    bytes.remove(i);
                }
                _ => {}
            }
        }
        if do_cut {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        bytes
    })
}

/// Text near `base`, as bytes, or noise from `alphabet`: half and half.
fn near_or_noise(base: &str, alphabet: &'static str) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        mutated(base.as_bytes().to_vec()),
        alphabet.prop_map(String::into_bytes),
    ]
}

/// A valid harness record, to mutate.
const RECORD: &str = r#"{"doc_id": 3, "doc": {"q": "x \u00e9"}, "target": "1", "arguments": {}, "resps": [[["-0.5", "True"]], [["-1.5", "False"]]], "filtered_resps": [["-0.5", "True"], ["-1.5", "False"]], "filter": "none", "metrics": ["acc"], "doc_hash": "ab", "acc": 1.0}"#;
const RECORD_2: &str = r#"{"doc_id": 4, "target": 0, "resps": [[[-0.25, true]], [[-3.0, false]]], "filtered_resps": [[-0.25, true], [-3.0, false]], "filter": "strict-match", "exact_match": 0.5}"#;

/// JSON-ish noise.
const JSON_NOISE: &str = "[\\[\\]{}\",:0-9a-z_ .eE+\\-\\n\\\\]{0,160}";
/// CSV-ish noise.
const CSV_NOISE: &str = "[a-z0-9,\\.\\-\"\\n\\r _/]{0,160}";
/// TOML-ish noise.
const TOML_NOISE: &str = "[\\[\\]{}\"'=,.#0-9a-z_ \\n\\-]{0,160}";

fn models() -> Vec<cod_artifact::Model> {
    vec![
        cod_artifact::Model::new("a", 1e6, 1e7, None, cod_artifact::Role::Ladder),
        cod_artifact::Model::new("b", 2e6, 2e7, None, cod_artifact::Role::Ladder),
    ]
}

fn parse_samples(scratch: &Scratch, bytes: &[u8]) {
    let path = scratch.write(bytes).to_owned();
    let sample = SamplesFile {
        task: "t".into(),
        timestamp: "2025-01-01T00-00-00".into(),
        path,
    };
    for metric in [None, Some("exact_match".to_owned())] {
        let options = LmEvalOptions {
            metric,
            ..LmEvalOptions::default()
        };
        let _ = parse_file(&sample, &options);
    }
}

const TIDY: &str = "benchmark,item,model,n_samples,n_correct,loss\nq,1,a,10,3,0.5\nq,\"1\n2\",b,10,4,\nq,2,a,10,4,1e-3\n";
const SCORES: &str =
    "model,benchmark,accuracy,loss,step,tokens\na,q,0.3,1.2,1,100\nb,q,0.4,1.1,1,200\n";
const RUN: &str = "_step,throughput/total_tokens,eval/downstream_bpb/q_rc_5shot_bpb,eval/downstream/q_rc_5shot_len_norm\n1,100,1.5,0.3\n2,200,1.4,0.35\n";
const MANIFEST: &str = "[[model]]\nname = \"a\"\nparams = 1e6\ntokens = 2e7\n\n[[model]]\nname = \"t\"\nparams = 1e8\nflops = 1.2e16\nrole = \"target\"\n";
const RUNS_MANIFEST: &str = "preset = \"olmo\"\n\n[[run]]\nname = \"a\"\nfile = \"a.csv\"\nparams = 1e6\n\n[[task]]\nname = \"q\"\n";
const RESULTS: &str = r#"{"results": {"arc_easy": {"acc,none": 0.5, "acc_stderr,none": 0.01}}, "config": {"model_num_parameters": 1000000, "model_args": "pretrained=x"}, "n-samples": {"arc_easy": {"original": 10, "effective": 10}}}"#;
const PIPELINE: &str = "[pipeline]\ndescription = \"d\"\nsummary = [\"ingest\"]\n\n[ingest]\nstage = \"ingest\"\npath = \"items.csv\"\nmanifest = \"models.toml\"\nmissing = \"drop\"\nunion = \"all\"\n";

#[test]
fn fuzz_tidy_csv() {
    let scratch = Scratch::new("t.csv");
    fuzz("tidy-csv", 300, near_or_noise(TIDY, CSV_NOISE), |bytes| {
        let _ = read_tidy(scratch.write(&bytes), &models(), MissingPolicy::Drop, false);
    });
}

fn parquet_rows() -> crate::TidyRows {
    crate::TidyRows {
        benchmark: vec!["q".into(), "q".into()],
        item: vec!["1".into(), "1".into()],
        model: vec!["a".into(), "b".into()],
        n_samples: vec![10, 10],
        n_correct: vec![3, 4],
    }
}

#[test]
fn fuzz_tidy_parquet() {
    let scratch = Scratch::new("t.parquet");
    crate::write_tidy_parquet(&scratch.path, &parquet_rows()).unwrap();
    let valid = std::fs::read(&scratch.path).unwrap();
    fuzz("tidy-parquet", 300, mutated(valid), |bytes| {
        let _ = read_tidy(
            scratch.write(&bytes),
            &models(),
            MissingPolicy::Error,
            false,
        );
    });
}

#[test]
fn fuzz_score_tables() {
    let scratch = Scratch::new("s.csv");
    fuzz(
        "score-table",
        300,
        near_or_noise(SCORES, CSV_NOISE),
        |bytes| {
            let _ = read_scores(scratch.write(&bytes), &models(), false);
        },
    );
}

#[test]
fn fuzz_training_run_tables() {
    let scratch = Scratch::new("a.csv");
    let runs = [crate::RunEntry {
        name: "a".into(),
        file: "a.csv".into(),
        params: 1e6,
        tokens: None,
        role: cod_artifact::Role::Ladder,
        monitor: false,
    }];
    let tasks = [crate::TaskSpec {
        name: "q".into(),
        source: None,
        parts: std::collections::BTreeMap::new(),
    }];
    let columns = crate::Preset::Olmo.with(&crate::ColumnNames::default());
    fuzz("run-table", 300, near_or_noise(RUN, CSV_NOISE), |bytes| {
        scratch.write(&bytes);
        let _ = read_runs(scratch.dir(), &runs, &columns, &tasks);
    });
}

#[test]
fn fuzz_lm_eval_jsonl() {
    let scratch = Scratch::new("samples_t_2025-01-01T00-00-00.jsonl");
    let base = format!("{RECORD}\n{RECORD_2}\n");
    fuzz(
        "lm-eval-jsonl",
        1500,
        near_or_noise(&base, JSON_NOISE),
        |bytes| {
            parse_samples(&scratch, &bytes);
        },
    );
}

#[test]
fn fuzz_lm_eval_json_arrays() {
    let scratch = Scratch::new("samples_t_2025-01-01T00-00-00.json");
    let base = format!("[{RECORD},\n {RECORD_2}]\n");
    fuzz(
        "lm-eval-json-array",
        1500,
        near_or_noise(&base, JSON_NOISE),
        |bytes| {
            parse_samples(&scratch, &bytes);
        },
    );
}

#[test]
fn fuzz_results_json() {
    let scratch = Scratch::new("results_2025-01-01T00-00-00.json");
    // Both ladder models read the same file, so a readable one gets through to the metrics.
    let checkpoints = ["a", "b"].map(|model| crate::ResultsCheckpoint {
        model: model.into(),
        step: None,
        files: vec![scratch.path.clone()],
    });
    let options = crate::ResultsOptions {
        metric: "acc".into(),
        ..crate::ResultsOptions::default()
    };
    fuzz(
        "results-json",
        1500,
        near_or_noise(RESULTS, JSON_NOISE),
        |bytes| {
            scratch.write(&bytes);
            let _ = reported_params(scratch.dir());
            let _ = crate::read_lm_eval_results(&models(), &checkpoints, &options);
        },
    );
}

#[test]
fn fuzz_manifests() {
    let scratch = Scratch::new("models.toml");
    fuzz(
        "manifest",
        1500,
        near_or_noise(MANIFEST, TOML_NOISE),
        |bytes| {
            let _ = read_manifest(scratch.write(&bytes));
        },
    );
    let scratch = Scratch::new("runs.toml");
    fuzz(
        "runs-manifest",
        1500,
        near_or_noise(RUNS_MANIFEST, TOML_NOISE),
        |bytes| {
            let _ = read_runs_manifest(scratch.write(&bytes));
        },
    );
}

#[test]
fn fuzz_pipeline_files() {
    let registry = cod_pipeline::Registry::new()
        .with::<crate::IngestStage>()
        .with::<crate::IngestLmEvalStage>()
        .with::<crate::IngestRunsStage>()
        .with::<crate::IngestScoresStage>();
    fuzz(
        "pipeline-file",
        1500,
        near_or_noise(PIPELINE, TOML_NOISE),
        |bytes| {
            let text = String::from_utf8_lossy(&bytes);
            let _ = cod_pipeline::Pipeline::parse(&text, Path::new("p.toml"), &[], &registry);
        },
    );
}

/// Decodes `payload` under a valid header as every kind of artifact, so the decoder and each
/// type's validation see it past the checksum.
fn decode_as_every_kind(payload: &[u8]) {
    use cod_artifact::{
        Backtest, Clusters, EvalTable, Features, Fits, LadderFits, Predictions, Report,
        TrainingRuns, decode, frame,
    };
    let path = Path::new("x.bin");
    let _ = decode::<EvalTable>(&frame::<EvalTable>(payload), path);
    let _ = decode::<Features>(&frame::<Features>(payload), path);
    let _ = decode::<Clusters>(&frame::<Clusters>(payload), path);
    let _ = decode::<Fits>(&frame::<Fits>(payload), path);
    let _ = decode::<Predictions>(&frame::<Predictions>(payload), path);
    let _ = decode::<TrainingRuns>(&frame::<TrainingRuns>(payload), path);
    let _ = decode::<LadderFits>(&frame::<LadderFits>(payload), path);
    let _ = decode::<Backtest>(&frame::<Backtest>(payload), path);
    let _ = decode::<Report>(&frame::<Report>(payload), path);
}

#[test]
fn fuzz_artifact_decoder() {
    const HEADER_LEN: usize = 54;
    let scratch = Scratch::new("t.csv");
    let table = read_tidy(
        scratch.write(
            b"benchmark,item,model,n_samples,n_correct,loss\nq,1,a,10,3,0.5\nq,1,b,10,4,0.25\n",
        ),
        &models(),
        MissingPolicy::Error,
        false,
    )
    .unwrap();
    let scratch = Scratch::new("s.csv");
    let runs = read_scores(scratch.write(SCORES.as_bytes()), &models(), false).unwrap();
    let payloads = [
        cod_artifact::encode(&table).unwrap()[HEADER_LEN..].to_vec(),
        cod_artifact::encode(&runs).unwrap()[HEADER_LEN..].to_vec(),
    ];
    let strategy = prop_oneof![
        mutated(payloads[0].clone()),
        mutated(payloads[1].clone()),
        prop::collection::vec(any::<u8>(), 0..96),
    ];
    fuzz("artifact-decoder", 1500, strategy, |payload| {
        decode_as_every_kind(&payload);
    });
    // A whole file, header included, mutated: the header checks themselves.
    let file = cod_artifact::encode(&table).unwrap();
    fuzz("artifact-file", 1500, mutated(file), |bytes| {
        let _ = cod_artifact::decode::<cod_artifact::EvalTable>(&bytes, Path::new("x.bin"));
    });
}

/// Found by `fuzz_tidy_parquet`: one byte changed in the footer of a valid file made polars'
/// Parquet reader panic (an `unwrap` on a shape mismatch). The panic is now a clean error.
#[test]
fn a_damaged_parquet_footer_is_an_error_not_a_panic() {
    let scratch = Scratch::new("t.parquet");
    crate::write_tidy_parquet(&scratch.path, &parquet_rows()).unwrap();
    let mut bytes = std::fs::read(&scratch.path).unwrap();
    assert_eq!(
        bytes.len(),
        1369,
        "the writer's bytes changed; find a new damaging byte"
    );
    bytes[874] = 0x12;
    let err = read_tidy(
        scratch.write(&bytes),
        &models(),
        MissingPolicy::Error,
        false,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot read as Parquet: the file is damaged (called `Result::unwrap()`"),
        "{err}"
    );
}
