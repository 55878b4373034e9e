//! EleutherAI lm-evaluation-harness output written with `--log_samples`: per model, a directory
//! (`<output_path>/<model_name_sanitized>`) holding `samples_<task>_<timestamp>.jsonl`, one JSON
//! record per document (and filter), and `results_<timestamp>.json`.
//!
//! A record's correctness comes from one per-sample metric (`acc` for multiple choice,
//! `exact_match` for generation, or as configured); its value is 0/1 for one response, a fraction
//! of k responses, or a list of per-response values. For multiple choice the answer's loss is
//! −log p of the gold choice, from `filtered_resps` (`[logprob, is_greedy]` per choice) and
//! `target`. Newer harness versions write these numbers as strings; both forms are read. Items are
//! matched across models by (task, `doc_id`), and their `doc_hash`es, when present, must agree.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use cod_artifact::{EvalTable, Model, Role};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use crate::MissingPolicy;
use crate::tidy::Builder;

/// How harness records become items.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LmEvalOptions {
    /// The per-sample metric read as correctness; `None` picks `acc`, else `exact_match`.
    pub metric: Option<String>,
    /// The filter whose records are read when a task has several; `None` requires each task to
    /// have one.
    pub filter: Option<String>,
    /// Benchmark → task-name prefixes gathered into it (`mmlu` ← `mmlu_`); an item of task
    /// `mmlu_anatomy` becomes `anatomy/<doc_id>` of `mmlu`. Other tasks are benchmarks of their own.
    pub groups: BTreeMap<String, Vec<String>>,
    pub missing: MissingPolicy,
}

/// One samples file found in a model's directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SamplesFile {
    pub task: String,
    pub timestamp: String,
    pub path: PathBuf,
}

/// `samples_<task>_<timestamp>.jsonl` (or `.json`, an older harness's JSON array) → (task, ts).
#[must_use]
pub fn parse_samples_name(name: &str) -> Option<(String, String)> {
    let stem = name
        .strip_prefix("samples_")?
        .strip_suffix(".jsonl")
        .or_else(|| name.strip_prefix("samples_")?.strip_suffix(".json"))?;
    let (task, ts) = stem.rsplit_once('_')?;
    let looks_like_time = ts.len() >= 10
        && ts.as_bytes()[..4].iter().all(u8::is_ascii_digit)
        && ts.as_bytes()[4] == b'-';
    (looks_like_time && !task.is_empty()).then(|| (task.to_owned(), ts.to_owned()))
}

/// The newest samples file of every task in `dir`, and the older ones passed over.
pub fn samples_files(dir: &Path) -> anyhow::Result<(Vec<SamplesFile>, Vec<PathBuf>)> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot list `{}`", dir.display()))?;
    let mut newest: BTreeMap<String, SamplesFile> = BTreeMap::new();
    let mut older = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some((task, timestamp)) = parse_samples_name(name) else {
            continue;
        };
        let file = SamplesFile {
            task: task.clone(),
            timestamp,
            path,
        };
        match newest.get(&task) {
            Some(kept) if kept.timestamp >= file.timestamp => older.push(file.path),
            _ => {
                if let Some(previous) = newest.insert(task, file) {
                    older.push(previous.path);
                }
            }
        }
    }
    older.sort();
    Ok((newest.into_values().collect(), older))
}

/// The fields of a record that ingest uses; everything else (`doc`, `arguments`, `resps`, …) is
/// skipped without being built.
#[derive(Debug, Default)]
struct Record {
    doc_id: Option<String>,
    doc_hash: Option<String>,
    target: Option<Value>,
    filtered_resps: Option<Value>,
    filter: Option<String>,
    metrics: Option<Vec<String>>,
    /// The configured metric's value, when the record has it.
    value: Option<Value>,
    /// The number of responses (the length of `resps[0]`), for fractional metrics.
    responses: Option<usize>,
}

/// Deserializes a [`Record`], capturing the field named `metric`.
struct RecordSeed<'m> {
    metric: &'m str,
}

impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = Record;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Record, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_> {
    type Value = Record;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object (one harness sample record)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Record, A::Error> {
        let mut r = Record::default();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "doc_id" => {
                    r.doc_id = Some(match map.next_value::<Value>()? {
                        Value::String(s) => s,
                        Value::Number(n) => n.to_string(),
                        other => {
                            return Err(de::Error::custom(format!(
                                "`doc_id` must be a number or a string, found {other}"
                            )));
                        }
                    });
                }
                "doc_hash" => r.doc_hash = map.next_value()?,
                "target" => r.target = Some(map.next_value()?),
                "filtered_resps" => r.filtered_resps = Some(map.next_value()?),
                "filter" => r.filter = map.next_value()?,
                "metrics" => r.metrics = map.next_value()?,
                "resps" => r.responses = map.next_value::<ResponsesCount>()?.0,
                k if k == self.metric => r.value = Some(map.next_value()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(r)
    }
}

/// The length of `resps[0]`, skipping the responses themselves.
struct ResponsesCount(Option<usize>);

impl<'de> de::Deserialize<'de> for ResponsesCount {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Outer;
        impl<'de> Visitor<'de> for Outer {
            type Value = ResponsesCount;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of response lists")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<ResponsesCount, A::Error> {
                let first = seq.next_element::<Vec<IgnoredAny>>()?.map(|v| v.len());
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(ResponsesCount(first))
            }
            fn visit_unit<E>(self) -> Result<ResponsesCount, E> {
                Ok(ResponsesCount(None))
            }
        }
        d.deserialize_any(Outer)
    }
}

/// A number written as a JSON number, a numeric string, or a boolean (or its string).
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::String(s) => match s.trim() {
            "True" | "true" => Some(1.0),
            "False" | "false" => Some(0.0),
            t => t.parse().ok(),
        },
        _ => None,
    }
}

/// `Some(true)` for exactly 1, `Some(false)` for exactly 0: the values of a 0/1 metric.
#[allow(clippy::float_cmp)] // 0 and 1 are exact in every format the harness writes.
fn binary(x: f64) -> Option<bool> {
    (x == 0.0 || x == 1.0).then_some(x == 1.0)
}

/// (n_samples, n_correct) from a metric value and the number of responses.
fn counts(value: &Value, responses: Option<usize>) -> Result<(u32, u32), String> {
    if let Value::Array(values) = value {
        let mut correct = 0u32;
        for v in values {
            match number(v).and_then(binary) {
                Some(solved) => correct += u32::from(solved),
                None => return Err(format!("a list of 0/1 values, found `{v}` in it")),
            }
        }
        return Ok((values.len() as u32, correct));
    }
    let Some(x) = number(value) else {
        return Err(format!("a number, found `{value}`"));
    };
    if !x.is_finite() || !(0.0..=1.0).contains(&x) {
        return Err(format!("a value in [0, 1], found {x}"));
    }
    let k = responses.unwrap_or(1).max(1);
    if let (1, Some(solved)) = (k, binary(x)) {
        return Ok((1, u32::from(solved)));
    }
    let correct = x * k as f64;
    if (correct - correct.round()).abs() < 1e-6 {
        Ok((k as u32, correct.round() as u32))
    } else {
        Err(format!(
            "0 or 1, or a multiple of 1/{k} for {k} responses, found {x}"
        ))
    }
}

/// −log p of the gold choice of a multiple-choice record, when it has one.
fn gold_loss(r: &Record) -> Option<f64> {
    let gold = match r.target.as_ref()? {
        Value::Number(n) => n.as_u64()? as usize,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    let choices = r.filtered_resps.as_ref()?.as_array()?;
    let choice = choices.get(gold)?;
    // Multiple choice writes `[logprob, is_greedy]` per choice; generation writes text.
    let logprob = match choice {
        Value::Array(pair) if pair.len() == 2 => number(&pair[0])?,
        _ => return None,
    };
    (choices.len() > 1 && logprob.is_finite()).then_some(-logprob)
}

/// The benchmark and item id of a record of `task`.
fn place(task: &str, doc_id: &str, groups: &BTreeMap<String, Vec<String>>) -> (String, String) {
    for (benchmark, prefixes) in groups {
        for prefix in prefixes {
            if let Some(rest) = task.strip_prefix(prefix.as_str()) {
                let subject = if rest.is_empty() { task } else { rest };
                return (benchmark.clone(), format!("{subject}/{doc_id}"));
            }
        }
    }
    (task.to_owned(), doc_id.to_owned())
}

/// `path:line`, for messages.
fn at(path: &Path, line: usize) -> String {
    format!("`{}`:{line}", path.display())
}

/// The records of one samples file: JSON lines, or an older harness's JSON array.
fn read_records(path: &Path, metric: &str) -> anyhow::Result<Vec<(usize, Record)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}` as UTF-8 text", path.display()))?;
    if text.trim_start().starts_with('[') {
        let values: Vec<Value> = serde_json::from_str(&text).map_err(|err| {
            anyhow::anyhow!("{}: invalid JSON array: {err}", at(path, err.line()))
        })?;
        return values
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                RecordSeed { metric }
                    .deserialize(v)
                    .map(|r| (i + 1, r))
                    .map_err(|err| anyhow::anyhow!("`{}`: record {}: {err}", path.display(), i + 1))
            })
            .collect();
    }
    let mut records = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut de = serde_json::Deserializer::from_str(line);
        let record = RecordSeed { metric }
            .deserialize(&mut de)
            .and_then(|r| de.end().map(|()| r))
            .map_err(|err| {
                anyhow::anyhow!(
                    "{}: invalid sample record (column {}): {err}",
                    at(path, i + 1),
                    err.column()
                )
            })?;
        records.push((i + 1, record));
    }
    if records.is_empty() {
        bail!(
            "`{}`: no records; expected one JSON object per line",
            path.display()
        );
    }
    Ok(records)
}

/// The parameter count a model's `results_*.json` reports (`config.model_num_parameters`).
fn reported_params(dir: &Path) -> Option<(PathBuf, f64)> {
    let mut results: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("results_"))
                && p.extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        })
        .collect();
    results.sort();
    let path = results.pop()?;
    let value: Value = serde_json::from_str(&std::fs::read_to_string(&path).ok()?).ok()?;
    let n = number(value.get("config")?.get("model_num_parameters")?)?;
    (n > 0.0).then_some((path, n))
}

/// Where a cell was first given, for duplicate messages.
struct Origin {
    file: usize,
    line: usize,
}

/// Per (benchmark, item): the doc hash and the file it was first seen in.
type SeenHashes = HashMap<(String, String), (String, usize)>;

/// What the reader has gathered so far.
struct Reader<'o> {
    models: &'o [Model],
    options: &'o LmEvalOptions,
    files: Vec<PathBuf>,
    origins: Vec<Origin>,
    builders: Vec<Builder>,
    bench_index: HashMap<String, usize>,
    hashes: SeenHashes,
    warnings: Vec<String>,
}

/// Reads every model's harness outputs into an eval table. `dirs` maps manifest model names to
/// their output directories.
pub fn read_lm_eval(
    models: &[Model],
    dirs: &BTreeMap<String, PathBuf>,
    options: &LmEvalOptions,
) -> anyhow::Result<EvalTable> {
    for name in dirs.keys() {
        if !models.iter().any(|m| &m.name == name) {
            bail!(
                "`models.{name}`: unknown model; the manifest lists {}",
                models
                    .iter()
                    .map(|m| format!("`{}`", m.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    if let Some(m) = models
        .iter()
        .find(|m| m.role == Role::Ladder && !dirs.contains_key(&m.name))
    {
        bail!(
            "ladder model `{}` has no directory: add it under `models`",
            m.name
        );
    }
    let mut reader = Reader {
        models,
        options,
        files: Vec::new(),
        origins: Vec::new(),
        builders: Vec::new(),
        bench_index: HashMap::new(),
        hashes: HashMap::new(),
        warnings: Vec::new(),
    };
    for (m, model) in models.iter().enumerate() {
        if let Some(dir) = dirs.get(&model.name) {
            reader.read_model(m, dir)?;
        }
    }
    let benchmarks = reader
        .builders
        .into_iter()
        .map(|mut b| {
            if b.loss
                .as_ref()
                .is_some_and(|l| l.iter().all(|v| v.is_nan()))
            {
                b.loss = None;
            }
            b.finish(models, options.missing, "the lm-eval logs")
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(EvalTable {
        models: models.to_vec(),
        benchmarks,
        warnings: reader.warnings,
    })
}

impl Reader<'_> {
    /// Every task of model column `m`, from its directory.
    fn read_model(&mut self, m: usize, dir: &Path) -> anyhow::Result<()> {
        let model = &self.models[m];
        if !dir.is_dir() {
            bail!(
                "`{}` (model `{}`): not a directory",
                dir.display(),
                model.name
            );
        }
        let (samples, older) = samples_files(dir)?;
        if samples.is_empty() {
            bail!(
                "`{}` (model `{}`): no `samples_<task>_<timestamp>.jsonl` files; run the harness \
                 with `--log_samples`",
                dir.display(),
                model.name
            );
        }
        for path in older {
            self.warnings.push(format!(
                "`{}`: skipped, a newer samples file of the same task is read",
                path.display()
            ));
        }
        if let Some((path, n)) = reported_params(dir)
            && (n - model.params).abs() > 0.01 * model.params
        {
            self.warnings.push(format!(
                "model `{}`: the manifest says params = {:.4e}, `{}` says model_num_parameters = \
                 {n:.4e} (the harness counts embeddings too)",
                model.name,
                model.params,
                path.display()
            ));
        }
        for sample in samples {
            self.read_file(m, &sample)?;
        }
        Ok(())
    }

    /// One samples file of model column `m`.
    fn read_file(&mut self, m: usize, sample: &SamplesFile) -> anyhow::Result<()> {
        let file = self.files.len();
        self.files.push(sample.path.clone());
        let mut metric = self.options.metric.as_deref().unwrap_or("acc");
        let mut records = read_records(&sample.path, metric)?;
        if self.options.metric.is_none() && records.iter().all(|(_, r)| r.value.is_none()) {
            metric = "exact_match";
            records = read_records(&sample.path, metric)?;
        }
        let filter = choose_filter(&records, self.options.filter.as_deref(), &sample.path)?;
        for (line, record) in records {
            if record.filter.is_some() && record.filter.as_deref() != Some(filter.as_str()) {
                continue;
            }
            let here = at(&sample.path, line);
            let Some(doc_id) = record.doc_id.as_deref() else {
                bail!("{here}: the record has no `doc_id`");
            };
            let Some(value) = record.value.as_ref() else {
                let have = record.metrics.as_ref().map_or_else(
                    || "none listed".to_owned(),
                    |m| format!("`metrics` lists {}", m.join(", ")),
                );
                bail!(
                    "{here}: no metric `{}` in the record ({have}); set `metric` to one it has",
                    self.options
                        .metric
                        .as_deref()
                        .unwrap_or("acc` or `exact_match")
                );
            };
            let (n_samples, n_correct) = counts(value, record.responses).map_err(|expected| {
                anyhow::anyhow!("{here}: metric `{metric}`: expected {expected}")
            })?;
            let (benchmark, item) = place(&sample.task, doc_id, &self.options.groups);
            if let Some(hash) = &record.doc_hash {
                let key = (benchmark.clone(), item.clone());
                match self.hashes.get(&key) {
                    Some((seen, first)) if seen != hash => bail!(
                        "{here}: task `{}` doc {doc_id} has doc_hash `{hash}`, but `{}` gives \
                         `{seen}` for it: the two models were evaluated on different documents",
                        sample.task,
                        self.files[*first].display()
                    ),
                    Some(_) => {}
                    None => {
                        self.hashes.insert(key, (hash.clone(), file));
                    }
                }
            }
            let n_models = self.models.len();
            let b = *self
                .bench_index
                .entry(benchmark.clone())
                .or_insert_with(|| {
                    self.builders.push(Builder::new(benchmark.clone(), true));
                    self.builders.len() - 1
                });
            let builder = &mut self.builders[b];
            let i = builder.item(item, n_models);
            let cell = i * n_models + m;
            if builder.first_row[cell] != u32::MAX {
                let first = &self.origins[builder.first_row[cell] as usize];
                bail!(
                    "{here}: task `{}` doc {doc_id} appears twice for filter `{filter}`; first at {}",
                    sample.task,
                    at(&self.files[first.file], first.line)
                );
            }
            builder.first_row[cell] = self.origins.len() as u32;
            self.origins.push(Origin { file, line });
            builder.n_samples[cell] = n_samples;
            builder.n_correct[cell] = n_correct;
            if let (Some(l), Some(v)) = (builder.loss.as_mut(), gold_loss(&record)) {
                l[cell] = v;
            }
        }
        Ok(())
    }
}

/// The filter to read: the configured one, or the only one the records use.
fn choose_filter(
    records: &[(usize, Record)],
    wanted: Option<&str>,
    path: &Path,
) -> anyhow::Result<String> {
    let mut filters: Vec<&str> = records
        .iter()
        .filter_map(|(_, r)| r.filter.as_deref())
        .collect();
    filters.sort_unstable();
    filters.dedup();
    match (wanted, filters.as_slice()) {
        (Some(w), fs) if fs.is_empty() || fs.contains(&w) => Ok(w.to_owned()),
        // A task with one filter is read whatever `filter` names: it chooses among several.
        (_, [only]) => Ok((*only).to_owned()),
        (Some(w), fs) => bail!(
            "`{}`: no records for filter `{w}`; the file has {}",
            path.display(),
            fs.iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        (None, []) => Ok(String::new()),
        (None, fs) => bail!(
            "`{}`: records for several filters ({}); choose one with `filter`",
            path.display(),
            fs.iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_file_names() {
        assert_eq!(
            parse_samples_name("samples_mmlu_anatomy_2024-05-01T12-30-45.123456.jsonl"),
            Some(("mmlu_anatomy".into(), "2024-05-01T12-30-45.123456".into()))
        );
        assert_eq!(
            parse_samples_name("samples_gsm8k_2024-05-01T12-30-45.json"),
            Some(("gsm8k".into(), "2024-05-01T12-30-45".into()))
        );
        assert_eq!(parse_samples_name("results_2024-05-01T12-30-45.json"), None);
        assert_eq!(parse_samples_name("samples_gsm8k.jsonl"), None);
    }

    #[test]
    fn metric_values_become_counts() {
        assert_eq!(counts(&serde_json::json!(1.0), None), Ok((1, 1)));
        assert_eq!(counts(&serde_json::json!(0), Some(1)), Ok((1, 0)));
        assert_eq!(counts(&serde_json::json!("1.0"), None), Ok((1, 1)));
        assert_eq!(counts(&serde_json::json!(0.3), Some(10)), Ok((10, 3)));
        assert_eq!(counts(&serde_json::json!(0.0), Some(10)), Ok((10, 0)));
        assert_eq!(counts(&serde_json::json!(1), Some(4)), Ok((4, 4)));
        assert_eq!(counts(&serde_json::json!([1, 0, 1]), None), Ok((3, 2)));
        assert!(counts(&serde_json::json!(0.3), Some(4)).is_err());
        assert!(counts(&serde_json::json!(1.5), None).is_err());
        assert!(counts(&serde_json::json!("abc"), None).is_err());
    }

    #[test]
    fn gold_loss_from_string_or_number_logprobs() {
        let record = |target: Value, resps: Value| Record {
            target: Some(target),
            filtered_resps: Some(resps),
            ..Record::default()
        };
        let strings = serde_json::json!([["-1.5", "False"], ["-0.25", "True"]]);
        assert_eq!(
            gold_loss(&record(serde_json::json!("1"), strings)),
            Some(0.25)
        );
        let numbers = serde_json::json!([[-1.5, false], [-0.25, true]]);
        assert_eq!(gold_loss(&record(serde_json::json!(0), numbers)), Some(1.5));
        // Generation: one filtered response, no choices.
        assert_eq!(
            gold_loss(&record(serde_json::json!("72"), serde_json::json!(["72"]))),
            None
        );
    }
}
