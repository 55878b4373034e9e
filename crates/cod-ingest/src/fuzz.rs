//! Property-based fuzzing of every reader: arbitrary and mutated inputs must give a result or an
//! error, never a panic. Case counts are set per property (raise them for a longer run); the
//! counters below report how many inputs ran (`cargo test -p cod-ingest fuzz -- --nocapture
//! --test-threads 1`).

use proptest::prelude::*;

use crate::lm_eval::{LmEvalOptions, SamplesFile, parse_file};
use crate::{MissingPolicy, read_runs, read_scores, read_tidy};

/// A valid harness record, to mutate.
const RECORD: &str = r#"{"doc_id": 3, "doc": {"q": "x \u00e9"}, "target": "1", "arguments": {}, "resps": [[["-0.5", "True"]], [["-1.5", "False"]]], "filtered_resps": [["-0.5", "True"], ["-1.5", "False"]], "filter": "none", "metrics": ["acc"], "doc_hash": "ab", "acc": 1.0}"#;

/// Text near valid JSON: the record with bytes replaced, inserted and cut.
fn mutated(base: &'static str) -> impl Strategy<Value = String> {
    let edits = prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 0..6);
    (edits, any::<prop::sample::Index>()).prop_map(move |(edits, cut)| {
        let mut bytes = base.as_bytes().to_vec();
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
        bytes.truncate(cut.index(bytes.len() + 1));
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// JSON-ish noise.
fn noise() -> impl Strategy<Value = String> {
    "[\\[\\]{}\",:0-9a-z_ .eE+\\-\\n\\\\]{0,160}"
}

fn parse_samples(text: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("samples_t_2025-01-01T00-00-00.jsonl");
    std::fs::write(&path, text).unwrap();
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

fn parse_tables(text: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    std::fs::write(&path, text).unwrap();
    let models = vec![
        cod_artifact::Model::new("a", 1e6, 1e7, None, cod_artifact::Role::Ladder),
        cod_artifact::Model::new("b", 2e6, 2e7, None, cod_artifact::Role::Ladder),
    ];
    let _ = read_tidy(&path, &models, MissingPolicy::Drop);
    let _ = read_scores(&path, &models);
    let runs = [crate::RunEntry {
        name: "a".into(),
        file: "t.csv".into(),
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
    let _ = read_runs(
        dir.path(),
        &runs,
        &crate::Preset::Olmo.with(&crate::ColumnNames::default()),
        &tasks,
    );
}

const TIDY: &str = "benchmark,item,model,n_samples,n_correct,loss\nq,1,a,10,3,0.5\nq,1,b,10,4,\n";
const SCORES: &str =
    "model,benchmark,accuracy,loss,step,tokens\na,q,0.3,1.2,1,100\nb,q,0.4,1.1,1,200\n";
const RUN: &str = "_step,throughput/total_tokens,eval/downstream_bpb/q_rc_5shot_bpb,eval/downstream/q_rc_5shot_len_norm\n1,100,1.5,0.3\n2,200,1.4,0.35\n";

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn samples_reader_never_panics_on_mutated_records(a in mutated(RECORD), b in mutated(RECORD)) {
        parse_samples(&format!("{a}\n{b}"));
    }

    #[test]
    fn samples_reader_never_panics_on_noise(text in noise()) {
        parse_samples(&text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn table_readers_never_panic_on_mutated_tables(
        tidy in mutated(TIDY), scores in mutated(SCORES), run in mutated(RUN)
    ) {
        parse_tables(&tidy);
        parse_tables(&scores);
        parse_tables(&run);
    }

    #[test]
    fn table_readers_never_panic_on_noise(text in "[a-z0-9,\\.\\-\"\\n _/]{0,120}") {
        parse_tables(&text);
    }
}
