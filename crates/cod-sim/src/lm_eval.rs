//! Writes a simulation as EleutherAI lm-evaluation-harness `--log_samples` output, so fixtures and
//! tests exercise the real layout: `<root>/<model>/samples_<task>_<timestamp>.jsonl` per task and
//! `results_<timestamp>.json`, as the harness writes them (resps and logprobs as strings, as in
//! newer versions; SHA-like hex hashes from blake3).
//!
//! - A benchmark whose items are `subject/NNNNN` becomes one task per subject, `<benchmark>_<subject>`
//!   (the harness's group layout, e.g. `mmlu_anatomy`); others are one task.
//! - `multiple-choice` items get four choices, the gold one's log-probability ln p (p the true pass
//!   probability, clamped to [0.02, 0.98]) and greedy exactly when the simulated attempt was correct,
//!   and the metric `acc`.
//! - `generation` (and `sampled`) items get `repeats` responses, the right answer as often as the
//!   simulated count says, two records per document (filters `strict-match` and
//!   `flexible-extract`), and the metric `exact_match` as the fraction of right responses.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use serde_json::{Value, json};

use crate::{BenchmarkKind, Simulation};

const TIMESTAMP: &str = "2025-01-01T00-00-00.000000";

fn hash(text: &str) -> String {
    blake3::hash(text.as_bytes()).to_hex().to_string()
}

/// The task of item `item` of benchmark `benchmark`: one per subject when it has several.
fn task_of(benchmark: &str, item: &str, several_subjects: bool) -> String {
    match item.split_once('/') {
        Some((subject, _)) if several_subjects => format!("{benchmark}_{subject}"),
        _ => benchmark.to_owned(),
    }
}

fn multiple_choice(doc_id: usize, item: &str, p: f64, correct: bool) -> Value {
    let gold = doc_id % 4;
    let doc = json!({ "question": format!("Simulated question {item}"), "choices": ["A", "B", "C", "D"], "answer": gold });
    let gold_lp = p.clamp(0.02, 0.98).ln();
    // Choice `gold + rank` (mod 4); the first distractor beats the gold answer when the attempt
    // failed, else the gold answer is the most likely.
    let greedy = if correct { gold } else { (gold + 1) % 4 };
    let pairs: Vec<Value> = (0..4)
        .map(|c| {
            let rank = (c + 4 - gold) % 4;
            let lp = match (rank, correct) {
                (0, _) => gold_lp,
                (1, false) => gold_lp + 0.2,
                _ => gold_lp - 0.1 * rank as f64,
            };
            json!([format!("{lp}"), if c == greedy { "True" } else { "False" }])
        })
        .collect();
    let arguments: serde_json::Map<String, Value> = ["A", "B", "C", "D"]
        .iter()
        .enumerate()
        .map(|(c, choice)| {
            (
                format!("gen_args_{c}"),
                json!({ "arg_0": format!("Simulated question {item}\nAnswer:"), "arg_1": format!(" {choice}") }),
            )
        })
        .collect();
    let acc = if correct { 1.0 } else { 0.0 };
    let doc_text = doc.to_string();
    json!({
        "doc_id": doc_id,
        "doc": doc,
        "target": gold.to_string(),
        "arguments": arguments,
        "resps": pairs.iter().map(|p| json!([p])).collect::<Vec<_>>(),
        "filtered_resps": pairs,
        "filter": "none",
        "metrics": ["acc", "acc_norm"],
        "doc_hash": hash(&doc_text),
        "prompt_hash": hash(&format!("prompt {item}")),
        "target_hash": hash(&gold.to_string()),
        "acc": acc,
        "acc_norm": acc,
    })
}

fn generation(doc_id: usize, item: &str, attempts: u32, correct: u32, filter: &str) -> Value {
    let answer = (doc_id * 7 + 3) % 100;
    let doc = json!({ "question": format!("Simulated problem {item}"), "answer": format!("#### {answer}") });
    let responses: Vec<String> = (0..attempts)
        .map(|r| {
            if r < correct {
                answer.to_string()
            } else {
                ((answer + 1 + r as usize) % 100 + 100).to_string()
            }
        })
        .collect();
    let doc_text = doc.to_string();
    json!({
        "doc_id": doc_id,
        "doc": doc,
        "target": answer.to_string(),
        "arguments": { "gen_args_0": { "arg_0": format!("Question: Simulated problem {item}\nAnswer:"), "arg_1": { "until": ["Question:"], "do_sample": true, "temperature": 1.0 } } },
        "resps": [responses.clone()],
        "filtered_resps": responses,
        "filter": filter,
        "metrics": ["exact_match"],
        "doc_hash": hash(&doc_text),
        "prompt_hash": hash(&format!("prompt {item}")),
        "target_hash": hash(&answer.to_string()),
        "exact_match": f64::from(correct) / f64::from(attempts),
    })
}

/// Writes every model's samples and results files under `root`.
pub(crate) fn write(sim: &Simulation, root: &Path) -> anyhow::Result<()> {
    let rows = &sim.rows;
    let mut subjects: BTreeMap<&str, std::collections::BTreeSet<&str>> = BTreeMap::new();
    for (b, item) in rows.benchmark.iter().zip(&rows.item) {
        let subject = item.split_once('/').map_or("", |(s, _)| s);
        subjects.entry(b).or_default().insert(subject);
    }
    for model in &sim.models {
        let dir = root.join(&model.name);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
        // task → lines, and task → (sum of metric, count) for the results file.
        let mut lines: BTreeMap<String, String> = BTreeMap::new();
        let mut scores: BTreeMap<String, (f64, usize, &str)> = BTreeMap::new();
        let mut doc_ids: BTreeMap<String, usize> = BTreeMap::new();
        for i in (0..rows.benchmark.len()).filter(|&i| rows.model[i] == model.name) {
            let several = subjects
                .get(rows.benchmark[i].as_str())
                .is_some_and(|s| s.len() > 1);
            let task = task_of(&rows.benchmark[i], &rows.item[i], several);
            let doc_id = {
                let next = doc_ids.entry(task.clone()).or_default();
                *next += 1;
                *next - 1
            };
            let kind = sim
                .kinds
                .get(&rows.benchmark[i])
                .copied()
                .unwrap_or_default();
            let out = lines.entry(task.clone()).or_default();
            let (attempts, correct) = (rows.n_samples[i], rows.n_correct[i]);
            let (records, metric) = match kind {
                BenchmarkKind::MultipleChoice => (
                    vec![multiple_choice(
                        doc_id,
                        &rows.item[i],
                        sim.probability[i],
                        correct == 1,
                    )],
                    "acc",
                ),
                BenchmarkKind::Generation | BenchmarkKind::Sampled => (
                    ["strict-match", "flexible-extract"]
                        .iter()
                        .map(|f| generation(doc_id, &rows.item[i], attempts, correct, f))
                        .collect(),
                    "exact_match",
                ),
            };
            for record in records {
                out.push_str(&record.to_string());
                out.push('\n');
            }
            let score = scores.entry(task).or_insert((0.0, 0, metric));
            score.0 += f64::from(correct) / f64::from(attempts);
            score.1 += 1;
        }
        for (task, text) in &lines {
            let path = dir.join(format!("samples_{task}_{TIMESTAMP}.jsonl"));
            cod_artifact::write_atomically(&path, |f| f.write_all(text.as_bytes()))
                .with_context(|| format!("cannot write `{}`", path.display()))?;
        }
        let results: serde_json::Map<String, Value> = scores
            .iter()
            .map(|(task, (sum, n, metric))| {
                (
                    task.clone(),
                    json!({ "alias": task, format!("{metric},none"): sum / *n as f64, format!("{metric}_stderr,none"): "N/A" }),
                )
            })
            .collect();
        let results = json!({
            "results": results,
            "config": {
                "model": "hf",
                "model_args": format!("pretrained=simulated/{}", model.name),
                "model_num_parameters": model.params.round() as u64,
            },
            "model_name": format!("simulated/{}", model.name),
            "model_name_sanitized": model.name,
        });
        let path = dir.join(format!("results_{TIMESTAMP}.json"));
        let text = serde_json::to_string_pretty(&results)? + "\n";
        cod_artifact::write_atomically(&path, |f| f.write_all(text.as_bytes()))
            .with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    Ok(())
}
