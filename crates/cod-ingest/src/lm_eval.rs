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

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use cod_artifact::{EvalTable, Model, Role};
use rayon::prelude::*;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

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
    /// What a multiple-choice record's loss is.
    pub loss: GoldLoss,
}

/// The loss recorded for a multiple-choice item.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GoldLoss {
    /// −log p of the gold choice, as the harness logged it.
    #[default]
    Gold,
    /// −log of the gold choice's probability normalized over the logged choices:
    /// −(ℓ_gold − log Σ_c exp ℓ_c).
    GoldNormalized,
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

/// A samples file of a harness older than 0.4's `samples_<task>_<timestamp>` names, recognized by
/// its content (JSON records with a `doc_id`), not its name: v0.3's `--write_out` arrays
/// (`<task>_write_out_info.json`, or `<task>Logs.json` as some users renamed them) and the 2023
/// pre-0.4 JSONL (`pretrained=<model>_<task>.jsonl`). Returns the task and an empty timestamp.
fn older_samples_file(path: &Path, name: &str) -> Option<(String, String)> {
    let stem = name
        .strip_suffix(".jsonl")
        .or_else(|| name.strip_suffix(".json"))?;
    if stem.starts_with("results") || !looks_like_records(path) {
        return None;
    }
    let task = if let Some(task) = stem.strip_suffix("_write_out_info") {
        task
    } else if let Some(rest) = stem.strip_prefix("pretrained=") {
        // `pretrained=EleutherAI__pythia-2.8b_winogrande`: the model's `__` is not a separator.
        let model_end = rest.find("__").map_or(0, |i| i + 2);
        rest[model_end..]
            .split_once('_')
            .map_or(rest, |(_, task)| task)
    } else {
        stem.strip_suffix("Logs")
            .unwrap_or(stem)
            .trim_start_matches('_')
    };
    (!task.is_empty()).then(|| (task.to_owned(), String::new()))
}

/// Which harness wrote a samples file, from its first record: the layouts differ by version.
pub(crate) fn layout(path: &Path, text: &str, first: &Value) -> &'static str {
    let array = text.trim_start().starts_with('[');
    let has = |key: &str| first.get(key).is_some();
    let first_response = first
        .get("resps")
        .and_then(|r| r.get(0))
        .and_then(|r| r.get(0))
        .map(|r| r.get(0).unwrap_or(r));
    if array && (has("prompt_0") || has("logit_0")) {
        "v0.3 `--write_out` JSON array (values as strings)"
    } else if array {
        "JSON array of records"
    } else if has("filter") {
        "0.4.8+ JSONL (with `filter` and `metrics`)"
    } else if first_response.is_some_and(Value::is_number) {
        "2023 pre-0.4 JSONL (numeric responses)"
    } else if path.extension().is_some_and(|e| e == "json") {
        "0.4.2 JSONL in a `.json` file"
    } else {
        "0.4.3+ JSONL (responses as strings, no `filter` key)"
    }
}

/// Whether a file starts like harness records: a JSON array of objects, or a JSON line, with a
/// `doc_id` in the first 4 KiB.
fn looks_like_records(path: &Path) -> bool {
    use std::io::Read;
    let mut head = Vec::with_capacity(4096);
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    if file.take(4096).read_to_end(&mut head).is_err() {
        return false;
    }
    let text = String::from_utf8_lossy(&head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    let opens =
        text.starts_with('{') || (text.starts_with('[') && text[1..].trim_start().starts_with('{'));
    opens && text.contains("\"doc_id\"")
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
        let Some((task, timestamp)) =
            parse_samples_name(name).or_else(|| older_samples_file(&path, name))
        else {
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

/// Text that borrows from the input when it has no escapes.
#[derive(Debug, Default)]
struct Text<'a>(Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Text<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// The fields of a record that ingest uses, borrowed from the file's text; everything else
/// (`doc`, `arguments`, the responses) is skipped without being built, and the fields kept are
/// parsed only when used.
#[derive(Debug, Default)]
struct Record<'a> {
    doc_id: Option<&'a RawValue>,
    doc_hash: Option<Text<'a>>,
    target: Option<&'a RawValue>,
    filtered_resps: Option<&'a RawValue>,
    filter: Option<Text<'a>>,
    metrics: Option<&'a RawValue>,
    /// The configured metric's value, when the record has it.
    value: Option<&'a RawValue>,
    /// The number of responses (the length of `resps[0]`), for fractional metrics.
    responses: Option<usize>,
}

impl Record<'_> {
    /// `doc_id` as text. The harness numbers a task's documents 0, 1, 2, …, as a number or (some
    /// 0.4.x versions) as a string of digits, so anything else (other text, a fraction) is refused
    /// here, where the line is known.
    fn doc_id(&self) -> Result<Option<String>, String> {
        let Some(raw) = self.doc_id else {
            return Ok(None);
        };
        match serde_json::from_str::<Value>(raw.get()) {
            Ok(Value::Number(n)) if n.is_u64() => Ok(Some(n.to_string())),
            Ok(Value::String(s)) if s.parse::<u64>().is_ok_and(|n| n.to_string() == s) => {
                Ok(Some(s))
            }
            _ => Err(format!(
                "`doc_id` must be a whole number ≥ 0, as the harness writes, found `{}`",
                cod_pipeline::shorten(raw.get())
            )),
        }
    }

    fn filter(&self) -> Option<&str> {
        self.filter.as_ref().map(|t| t.0.as_ref())
    }

    /// The metric names the record lists, for messages.
    fn metric_names(&self) -> Option<String> {
        let names: Vec<String> = serde_json::from_str(self.metrics?.get()).ok()?;
        Some(names.join(", "))
    }
}

/// Deserializes a [`Record`], capturing the field named `metric`.
#[derive(Clone, Copy)]
struct RecordSeed<'m> {
    metric: &'m str,
}

impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = Record<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Record<'de>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_> {
    type Value = Record<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object (one harness sample record)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Record<'de>, A::Error> {
        let mut r = Record::default();
        while let Some(key) = map.next_key::<Text<'de>>()? {
            match key.0.as_ref() {
                "doc_id" => r.doc_id = Some(map.next_value()?),
                "doc_hash" => r.doc_hash = map.next_value()?,
                "target" => r.target = Some(map.next_value()?),
                "filtered_resps" => r.filtered_resps = Some(map.next_value()?),
                "filter" => r.filter = map.next_value()?,
                "metrics" => r.metrics = Some(map.next_value()?),
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

/// An older harness's samples file: one JSON array of records.
struct RecordsSeed<'m>(RecordSeed<'m>);

impl<'de> DeserializeSeed<'de> for RecordsSeed<'_> {
    type Value = Vec<Record<'de>>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RecordsSeed<'_> {
    type Value = Vec<Record<'de>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array of sample records")
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut records = Vec::new();
        while let Some(r) = seq.next_element_seed(self.0)? {
            records.push(r);
        }
        Ok(records)
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
        if values.first().is_some_and(Value::is_string) {
            return Err(format!(
                "a per-document score, found a (reference, response) pair `{}`: the harness \
                 scores this metric over the whole corpus (as f1 and bleu are), so no document \
                 has a pass rate; choose a per-document `metric`",
                cod_pipeline::shorten(&value.to_string())
            ));
        }
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

/// (n_samples, n_correct) from a metric's raw JSON: numbers are read without building a value.
fn raw_counts(raw: &RawValue, responses: Option<usize>) -> Result<(u32, u32), String> {
    let text = raw.get().trim();
    let value = match text.parse::<f64>() {
        Ok(x) if text.starts_with(|c: char| c.is_ascii_digit() || c == '-') => Value::from(x),
        _ => serde_json::from_str(text).map_err(|err| format!("valid JSON, found {err}"))?,
    };
    counts(&value, responses)
}

/// −log p of the gold choice of a multiple-choice record, when it has one, normalized over the
/// choices if `how` says so.
fn gold_loss(r: &Record, how: GoldLoss) -> Option<f64> {
    // Multiple choice writes `[[logprob, is_greedy], …]`; generation writes text.
    let resps = r.filtered_resps?.get().trim_start();
    if !resps.starts_with('[') || !resps[1..].trim_start().starts_with('[') {
        return None;
    }
    let gold = match serde_json::from_str::<Value>(r.target?.get()).ok()? {
        Value::Number(n) => n.as_u64()? as usize,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    let choices: Vec<Value> = serde_json::from_str(resps).ok()?;
    let logprobs = choices
        .iter()
        .map(|choice| match choice {
            Value::Array(pair) if pair.len() == 2 => number(&pair[0]),
            _ => None,
        })
        .collect::<Option<Vec<f64>>>()?;
    let logprob = *logprobs.get(gold)?;
    if choices.len() < 2 || !logprobs.iter().all(|l| l.is_finite()) {
        return None;
    }
    Some(match how {
        GoldLoss::Gold => -logprob,
        GoldLoss::GoldNormalized => {
            let top = logprobs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let total: f64 = logprobs.iter().map(|l| (l - top).exp()).sum();
            (top + total.ln() - logprob).max(0.0)
        }
    })
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

/// The records of one samples file (its text): JSON lines, or an older harness's JSON array.
fn read_records<'t>(
    path: &Path,
    text: &'t str,
    metric: &str,
) -> anyhow::Result<Vec<(usize, Record<'t>)>> {
    let seed = RecordSeed { metric };
    if text.trim_start().starts_with('[') {
        let mut de = serde_json::Deserializer::from_str(text);
        let records = RecordsSeed(seed)
            .deserialize(&mut de)
            .and_then(|r| de.end().map(|()| r))
            .map_err(|err| {
                anyhow::anyhow!("{}: invalid JSON array: {err}", at(path, err.line()))
            })?;
        return Ok(records
            .into_iter()
            .enumerate()
            .map(|(i, r)| (i + 1, r))
            .collect());
    }
    let mut records = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut de = serde_json::Deserializer::from_str(line);
        let record = seed
            .deserialize(&mut de)
            .and_then(|r| de.end().map(|()| r))
            .map_err(|err| {
                // Python's `json` writes non-finite floats as bare `NaN` and `Infinity`.
                let rest = line.get(err.column().saturating_sub(1)..).unwrap_or("");
                let why = ["NaN", "Infinity", "-Infinity"]
                    .into_iter()
                    .find(|w| rest.starts_with(w))
                    .map_or_else(String::new, |w| {
                        format!(
                            " (`{w}` is Python's spelling of a non-finite number, not JSON: no \
                             pass rate can be read from it)"
                        )
                    });
                anyhow::anyhow!(
                    "{}: invalid sample record (column {}): {err}{why}",
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

/// The parameter count a model's newest `results_*.json` reports (`config.model_num_parameters`),
/// if it has one. A results file that cannot be read or is not JSON is an error, to report as a
/// warning: ingest does not need the file.
pub(crate) fn reported_params(dir: &Path) -> Result<Option<(PathBuf, f64)>, String> {
    let Some(path) = newest_results_file(dir) else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|err| format!("`{}`: cannot read: {err}", path.display()))?;
    let value: Value = serde_json::from_str(text.strip_prefix('\u{feff}').unwrap_or(&text))
        .map_err(|err| {
            format!(
                "{}: not valid JSON ({err}); its `model_num_parameters` is not checked",
                at(&path, err.line())
            )
        })?;
    Ok(crate::results::model_num_parameters(&value).map(|n| (path, n)))
}

fn newest_results_file(dir: &Path) -> Option<PathBuf> {
    let mut results: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| crate::results::is_results_file(p))
        .collect();
    results.sort();
    results.pop()
}

/// A warning when a results file's `model_num_parameters` differs from the manifest's N by more
/// than 1%.
pub(crate) fn params_mismatch(model: &Model, path: &Path, n: f64) -> Option<String> {
    ((n - model.params).abs() > 0.01 * model.params).then(|| {
        format!(
            "model `{}`: the manifest says params = {:.4e}, `{}` says model_num_parameters = \
             {n:.4e} (the harness counts embeddings too)",
            model.name,
            model.params,
            path.display()
        )
    })
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
    let mut files = Vec::new();
    for (m, model) in models.iter().enumerate() {
        if let Some(dir) = dirs.get(&model.name) {
            files.extend(reader.model_files(m, dir)?.into_iter().map(|f| (m, f)));
        }
    }
    // Files parse in parallel; they are merged, and their errors reported, in a fixed order.
    let parsed: Vec<anyhow::Result<ParsedFile>> = files
        .par_iter()
        .map(|(_, sample)| parse_file(sample, options))
        .collect();
    for ((m, _), file) in files.iter().zip(parsed) {
        reader.merge(*m, file?)?;
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
    /// The samples files of model column `m`, from its directory, with warnings noted.
    fn model_files(&mut self, m: usize, dir: &Path) -> anyhow::Result<Vec<SamplesFile>> {
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
        let reported = reported_params(dir).unwrap_or_else(|warning| {
            self.warnings.push(warning);
            None
        });
        if let Some((path, n)) = reported {
            self.warnings.extend(params_mismatch(model, &path, n));
        }
        Ok(samples)
    }

    /// One parsed samples file of model column `m`: its documents' hashes checked against the
    /// other models', its rows placed in the table.
    fn merge(&mut self, m: usize, parsed: ParsedFile) -> anyhow::Result<()> {
        self.warnings.extend(parsed.cross_check());
        let file = self.files.len();
        self.files.push(parsed.path.clone());
        let n_models = self.models.len();
        for row in parsed.rows {
            let here = at(&parsed.path, row.line);
            let doc_id = &row.doc_id;
            let (benchmark, item) = place(&parsed.task, doc_id, &self.options.groups);
            if let Some(hash) = row.doc_hash {
                let key = (benchmark.clone(), item.clone());
                match self.hashes.get(&key) {
                    Some((seen, first)) if *seen != hash => bail!(
                        "{here}: task `{}` doc {doc_id} has doc_hash `{hash}`, but `{}` gives \
                         `{seen}` for it: the two models were evaluated on different documents",
                        parsed.task,
                        self.files[*first].display()
                    ),
                    Some(_) => {}
                    None => {
                        self.hashes.insert(key, (hash, file));
                    }
                }
            }
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
                    "{here}: task `{}` doc {doc_id} appears twice for filter `{}`; first at {}",
                    parsed.task,
                    parsed.filter,
                    at(&self.files[first.file], first.line)
                );
            }
            builder.first_row[cell] = self.origins.len() as u32;
            self.origins.push(Origin {
                file,
                line: row.line,
            });
            builder.n_samples[cell] = row.n_samples;
            builder.n_correct[cell] = row.n_correct;
            if let (Some(l), Some(v)) = (builder.loss.as_mut(), row.loss) {
                l[cell] = v;
            }
        }
        Ok(())
    }
}

/// One samples file, parsed and checked on its own.
pub(crate) struct ParsedFile {
    path: PathBuf,
    task: String,
    timestamp: String,
    /// The metric read (`acc`, or `exact_match` when the records have no `acc`).
    metric: String,
    filter: String,
    rows: Vec<ParsedRow>,
}

impl ParsedFile {
    /// Checks the file's per-sample mean of its metric against the results file the same run
    /// wrote (`results_<timestamp>.json` beside it): a difference above 1e-9 is a warning naming
    /// both files. Files of harnesses without results files, or results without the task, are
    /// not checked.
    fn cross_check(&self) -> Option<String> {
        if self.rows.is_empty() {
            return None;
        }
        let (results, value) = same_run_results(&self.path, &self.timestamp)?;
        let scores = value.get("results")?.get(&self.task)?;
        // Records without a `filter` key are the `none` filter's.
        let filter = if self.filter.is_empty() {
            "none"
        } else {
            &self.filter
        };
        let reported = scores
            .get(format!("{},{filter}", self.metric))
            .or_else(|| scores.get(&self.metric))
            .and_then(Value::as_f64)?;
        let mean = self
            .rows
            .iter()
            .map(|r| f64::from(r.n_correct) / f64::from(r.n_samples))
            .sum::<f64>()
            / self.rows.len() as f64;
        ((mean - reported).abs() > 1e-9).then(|| {
            format!(
                "`{}`: the mean `{}` over its {} documents is {mean:.12}, but `{}` reports \
                 {reported:.12} for task `{}`",
                self.path.display(),
                self.metric,
                self.rows.len(),
                results.display(),
                self.task
            )
        })
    }
}

/// The results file the run that wrote the samples file `samples` wrote beside it
/// (`results_<timestamp>.json`), parsed; `None` without a timestamp, or when it is missing or not
/// JSON.
fn same_run_results(samples: &Path, timestamp: &str) -> Option<(PathBuf, Value)> {
    if timestamp.is_empty() {
        return None;
    }
    let path = samples.with_file_name(format!("results_{timestamp}.json"));
    let text = std::fs::read_to_string(&path).ok()?;
    let value = serde_json::from_str(text.trim_start_matches('\u{feff}')).ok()?;
    Some((path, value))
}

/// One document of a samples file, for the chosen filter.
struct ParsedRow {
    line: usize,
    doc_id: String,
    doc_hash: Option<String>,
    n_samples: u32,
    n_correct: u32,
    loss: Option<f64>,
}

/// Reads and checks one samples file: every record of the chosen filter becomes a row.
pub(crate) fn parse_file(
    sample: &SamplesFile,
    options: &LmEvalOptions,
) -> anyhow::Result<ParsedFile> {
    let text = std::fs::read_to_string(&sample.path)
        .with_context(|| format!("cannot read `{}` as UTF-8 text", sample.path.display()))?;
    // A byte-order mark is not JSON, but some editors write one; the CSV and TOML readers skip it
    // too.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut metric = options.metric.as_deref().unwrap_or("acc");
    let mut records = read_records(&sample.path, text, metric)?;
    if options.metric.is_none() && records.iter().all(|(_, r)| r.value.is_none()) {
        metric = "exact_match";
        records = read_records(&sample.path, text, metric)?;
    }
    name_unlabelled_passes(&mut records, sample);
    let filter = choose_filter(&records, options.filter.as_deref(), &sample.path)?;
    let mut rows = Vec::with_capacity(records.len());
    for (line, record) in records {
        if record.filter().is_some_and(|f| f != filter) {
            continue;
        }
        let here = at(&sample.path, line);
        let doc_id = match record.doc_id() {
            Ok(Some(id)) => id,
            Ok(None) => bail!("{here}: the record has no `doc_id`"),
            Err(why) => bail!("{here}: {why}"),
        };
        let Some(value) = record.value else {
            let have = record.metric_names().map_or_else(
                || "none listed".to_owned(),
                |m| format!("`metrics` lists {m}"),
            );
            bail!(
                "{here}: no metric `{}` in the record ({have}); set `metric` to one it has",
                options.metric.as_deref().unwrap_or("acc` or `exact_match")
            );
        };
        let (n_samples, n_correct) = raw_counts(value, record.responses).map_err(|expected| {
            anyhow::anyhow!("{here}: metric `{metric}`: expected {expected}")
        })?;
        rows.push(ParsedRow {
            line,
            doc_hash: record.doc_hash.as_ref().map(|h| h.0.clone().into_owned()),
            loss: gold_loss(&record, options.loss),
            doc_id,
            n_samples,
            n_correct,
        });
    }
    Ok(ParsedFile {
        path: sample.path.clone(),
        task: sample.task.clone(),
        timestamp: sample.timestamp.clone(),
        metric: metric.to_owned(),
        filter,
        rows,
    })
}

/// Harness versions before the `filter` key (until about 0.4.5) log a task with several filters
/// as one pass over its documents per filter, in the order of the task's `filter_list`: the k-th
/// record of each `doc_id` is the k-th filter's. When no record has a `filter` key, every
/// document appears the same number of times K > 1 and the records form K whole passes, each
/// record is labelled with its filter: the names from the same run's results file
/// (`configs.<task>.filter_list`) when it lists K of them, else `filter-1` … `filter-K`. Anything
/// else is left alone, so a document that is merely repeated stays an error.
fn name_unlabelled_passes(records: &mut [(usize, Record)], sample: &SamplesFile) {
    if records.is_empty() || records.iter().any(|(_, r)| r.filter.is_some()) {
        return;
    }
    let Ok(ids) = records
        .iter()
        .map(|(_, r)| r.doc_id().ok().flatten().ok_or(()))
        .collect::<Result<Vec<String>, ()>>()
    else {
        return;
    };
    let mut pass: HashMap<&str, usize> = HashMap::new();
    let passes: Vec<usize> = ids
        .iter()
        .map(|id| {
            let k = pass.entry(id.as_str()).or_insert(0);
            *k += 1;
            *k - 1
        })
        .collect();
    let k = passes.iter().max().map_or(1, |m| m + 1);
    let per_pass = pass.len();
    let whole = k > 1
        && pass.values().all(|&n| n == k)
        && passes.iter().enumerate().all(|(i, &p)| p == i / per_pass);
    if !whole {
        return;
    }
    let names = pass_names(sample, k);
    for ((_, record), p) in records.iter_mut().zip(passes) {
        record.filter = Some(Text(Cow::Owned(names[p].clone())));
    }
}

/// The names of a task's `k` filters, in order, from the results file of the same run.
fn pass_names(sample: &SamplesFile, k: usize) -> Vec<String> {
    let from_results = || -> Option<Vec<String>> {
        let (_, value) = same_run_results(&sample.path, &sample.timestamp)?;
        let list = value
            .get("configs")?
            .get(&sample.task)?
            .get("filter_list")?
            .as_array()?;
        let names: Vec<String> = list
            .iter()
            .map(|f| f.get("name")?.as_str().map(str::to_owned))
            .collect::<Option<_>>()?;
        (names.len() == k).then_some(names)
    };
    from_results().unwrap_or_else(|| (1..=k).map(|i| format!("filter-{i}")).collect())
}

/// The filter to read: the configured one, or the only one the records use.
fn choose_filter(
    records: &[(usize, Record)],
    wanted: Option<&str>,
    path: &Path,
) -> anyhow::Result<String> {
    let mut filters: Vec<&str> = records.iter().filter_map(|(_, r)| r.filter()).collect();
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
    fn normalized_gold_loss_is_minus_log_of_the_gold_share() {
        let record = Record {
            target: Some(serde_json::from_str("1").unwrap()),
            filtered_resps: Some(
                serde_json::from_str(r#"[["-1.5", "False"], [-0.25, true], [-3.0, false]]"#)
                    .unwrap(),
            ),
            ..Record::default()
        };
        let share = (-0.25f64).exp() / ((-1.5f64).exp() + (-0.25f64).exp() + (-3.0f64).exp());
        let loss = gold_loss(&record, GoldLoss::GoldNormalized).unwrap();
        assert!(
            (loss + share.ln()).abs() < 1e-15,
            "{loss} against {}",
            -share.ln()
        );
        assert_eq!(gold_loss(&record, GoldLoss::Gold), Some(0.25));
    }

    #[test]
    fn gold_loss_from_string_or_number_logprobs() {
        let loss = |target: &str, resps: &str| {
            let record = Record {
                target: Some(serde_json::from_str(target).unwrap()),
                filtered_resps: Some(serde_json::from_str(resps).unwrap()),
                ..Record::default()
            };
            gold_loss(&record, GoldLoss::Gold)
        };
        assert_eq!(
            loss(r#""1""#, r#"[["-1.5", "False"], ["-0.25", "True"]]"#),
            Some(0.25)
        );
        assert_eq!(loss("0", "[[-1.5, false], [-0.25, true]]"), Some(1.5));
        // Generation: filtered responses are text, even when the target looks like an index.
        assert_eq!(loss(r#""72""#, r#"["72"]"#), None);
        assert_eq!(loss(r#""1""#, r#"["7", "3", "1"]"#), None);
    }

    #[test]
    fn raw_metric_values() {
        let raw = |s: &str| -> Box<RawValue> { serde_json::from_str(s).unwrap() };
        assert_eq!(raw_counts(&raw("1"), None), Ok((1, 1)));
        assert_eq!(raw_counts(&raw("0.3"), Some(10)), Ok((10, 3)));
        assert_eq!(raw_counts(&raw(r#""1.0""#), None), Ok((1, 1)));
        assert_eq!(raw_counts(&raw("[true, false]"), None), Ok((2, 1)));
        assert!(raw_counts(&raw("-0.5"), None).is_err());
    }
}
