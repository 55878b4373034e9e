//! The tidy long format: one row per (benchmark, item, model) with
//! `benchmark,item,model,n_samples,n_correct` and an optional `loss`, as CSV or Parquet.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{Context, bail};
use cod_artifact::{BenchmarkEvals, EvalTable, Model, Role};
use polars::prelude::{
    Column, CsvReadOptions, DataFrame, DataType, ParquetCompression, ParquetReader, ParquetWriter,
    PolarsError, SerReader, StatisticsOptions, StringChunked,
};

use crate::MissingPolicy;

const REQUIRED: [&str; 5] = ["benchmark", "item", "model", "n_samples", "n_correct"];
const OPTIONAL: [&str; 1] = ["loss"];

/// Columns of a tidy table, for writers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TidyRows {
    pub benchmark: Vec<String>,
    pub item: Vec<String>,
    pub model: Vec<String>,
    pub n_samples: Vec<u32>,
    pub n_correct: Vec<u32>,
}

/// Writes tidy rows as Parquet (zstd), atomically. Same rows, same bytes.
pub fn write_tidy_parquet(path: &Path, rows: &TidyRows) -> anyhow::Result<()> {
    let height = rows.benchmark.len();
    let mut df = DataFrame::new(
        height,
        vec![
            Column::new("benchmark".into(), &rows.benchmark),
            Column::new("item".into(), &rows.item),
            Column::new("model".into(), &rows.model),
            Column::new("n_samples".into(), &rows.n_samples),
            Column::new("n_correct".into(), &rows.n_correct),
        ],
    )?;
    cod_artifact::write_atomically(path, |file| {
        ParquetWriter::new(file)
            .with_compression(ParquetCompression::Zstd(None))
            .with_statistics(StatisticsOptions::empty())
            .set_parallel(false)
            .finish(&mut df)
            .map(drop)
            .map_err(std::io::Error::other)
    })
    .with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(())
}

/// Where a row came from, for messages: CSV lines count the header as line 1; Parquet rows count
/// from 1.
#[derive(Clone, Copy)]
pub(crate) enum Format {
    Csv,
    Parquet,
}

/// Says where a row of a table is: `file:line` for CSV, `file: row N` for Parquet.
pub(crate) struct Located<'a> {
    pub(crate) path: &'a Path,
    pub(crate) format: Format,
    /// The physical line each CSV record starts on, header first; scanned on first use, which is
    /// an error's, so reading a good file costs nothing extra.
    record_lines: std::cell::OnceCell<Vec<usize>>,
}

impl<'a> Located<'a> {
    pub(crate) fn new(path: &'a Path, format: Format) -> Located<'a> {
        Located {
            path,
            format,
            record_lines: std::cell::OnceCell::new(),
        }
    }

    /// Where data row `row` (0-based, after the header) is. A CSV row's line is the physical line
    /// it starts on, which a quoted field spanning lines moves down.
    pub(crate) fn at(&self, row: usize) -> String {
        match self.format {
            Format::Csv => {
                let lines = self.record_lines.get_or_init(|| {
                    std::fs::read(self.path)
                        .map(|bytes| crate::csv_scan::scan(&bytes).record_lines)
                        .unwrap_or_default()
                });
                let line = lines.get(row + 1).copied().unwrap_or(row + 2);
                format!("`{}`:{line}", self.path.display())
            }
            Format::Parquet => format!("`{}`: row {}", self.path.display(), row + 1),
        }
    }
}

pub(crate) fn read_frame(path: &Path) -> anyhow::Result<(DataFrame, Format)> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("csv") => {
            // Every column is read as text and parsed below, so a bad value is reported with its
            // line rather than as a failed column cast.
            let df = catch_reader_panic(|| {
                CsvReadOptions::default()
                    .with_has_header(true)
                    .with_infer_schema_length(Some(0))
                    .with_raise_if_empty(false)
                    .try_into_reader_with_file_path(Some(path.to_owned()))
                    .and_then(SerReader::finish)
            })
            .map_err(|panic| {
                anyhow::anyhow!(
                    "`{}`: cannot read as CSV ({})",
                    path.display(),
                    cod_pipeline::shorten(&panic)
                )
            })?
            .map_err(|err| csv_error(path, &err))?;
            Ok((df, Format::Csv))
        }
        Some("parquet" | "pq") => {
            let file = std::fs::File::open(path)
                .with_context(|| format!("cannot open `{}`", path.display()))?;
            let df = catch_reader_panic(|| ParquetReader::new(file).finish())
                .map_err(|panic| {
                    anyhow::anyhow!(
                        "`{}`: cannot read as Parquet: the file is damaged ({})",
                        path.display(),
                        cod_pipeline::shorten(&panic)
                    )
                })?
                .with_context(|| format!("`{}`: cannot read as Parquet", path.display()))?;
            // A damaged file can decode to columns shorter than the frame's height.
            if let Some(col) = df.columns().iter().find(|c| c.len() != df.height()) {
                bail!(
                    "`{}`: cannot read as Parquet: the file is damaged (column `{}` has {} values, \
                     the table {} rows)",
                    path.display(),
                    cod_pipeline::shorten(col.name()),
                    col.len(),
                    df.height()
                );
            }
            Ok((df, Format::Parquet))
        }
        _ => bail!(
            "`{}`: unknown table format; expected a `.csv` or `.parquet` file",
            path.display()
        ),
    }
}

/// How many [`catch_reader_panic`] calls are running, on any thread.
static CATCHING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Runs a reader of a third-party crate that can panic on a damaged file (polars' Parquet reader
/// does, on some mutated files, on its own worker threads too), and returns the panic's message as
/// an error instead. The panic is not printed: a hook, installed once, stays silent while such a
/// call runs and passes every other panic to the hook that was there before.
fn catch_reader_panic<T>(read: impl FnOnce() -> T) -> Result<T, String> {
    use std::sync::atomic::Ordering;
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CATCHING.load(Ordering::SeqCst) == 0 {
                previous(info);
            }
        }));
    });
    CATCHING.fetch_add(1, Ordering::SeqCst);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read));
    CATCHING.fetch_sub(1, Ordering::SeqCst);
    result.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "the reader failed".to_owned())
    })
}

/// A CSV file polars cannot read: `file:line` and what was expected when a scan of the file finds
/// the fault (too many fields, invalid UTF-8, an unterminated quote), else polars' own message,
/// clipped.
fn csv_error(path: &Path, err: &PolarsError) -> anyhow::Error {
    let fault = std::fs::read(path)
        .ok()
        .and_then(|bytes| crate::csv_scan::scan(&bytes).fault);
    match fault {
        Some(fault) => {
            let (line, message) = fault.line_and_message();
            anyhow::anyhow!("`{}`:{line}: {message}", path.display())
        }
        None => anyhow::anyhow!(
            "`{}`: cannot read as CSV: {}",
            path.display(),
            cod_pipeline::clip(&err.to_string())
        ),
    }
}

/// A non-empty cell's text, trimmed. Control characters other than tabs and line breaks (a NUL
/// byte, say) are refused: a name holding one would print as something else than it is.
pub(crate) fn required_text(
    loc: &Located,
    value: Option<&str>,
    column: &str,
    row: usize,
) -> anyhow::Result<String> {
    match value.map(str::trim) {
        Some(v) if !v.is_empty() => {
            if let Some(c) = v
                .chars()
                .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
            {
                bail!(
                    "{}: column `{column}` holds the control character U+{:04X}; expected \
                     printable text",
                    loc.at(row),
                    u32::from(c)
                );
            }
            Ok(v.to_owned())
        }
        _ => bail!("{}: column `{column}` is empty", loc.at(row)),
    }
}

/// A loss is a negative log-likelihood, so at least 0: a negative one is almost surely a
/// log-likelihood given unnegated.
pub(crate) fn checked_loss(at: &str, loss: f64) -> anyhow::Result<f64> {
    if loss < 0.0 {
        bail!(
            "{at}: `loss` must be at least 0 (a negative log-likelihood), found {loss}; negate \
             log-likelihoods"
        );
    }
    Ok(loss)
}

/// A column as text, nulls kept.
pub(crate) fn text_column(df: &DataFrame, name: &str) -> anyhow::Result<StringChunked> {
    let col = df.column(name)?.cast(&DataType::String)?;
    Ok(col.str()?.clone())
}

/// Checks a table's header: every `required` column is there and nothing outside `required` and
/// `optional` is.
pub(crate) fn check_header(
    names: &[String],
    required: &[&str],
    optional: &[&str],
    path: &Path,
) -> anyhow::Result<()> {
    // The CSV reader renames a repeated header name `x` to `x_duplicated_0`, `x_duplicated_1`, ….
    for name in names {
        if let Some((base, n)) = name.rsplit_once("_duplicated_")
            && n.bytes().all(|b| b.is_ascii_digit())
            && names.iter().any(|other| other == base)
        {
            bail!(
                "`{}`: column `{base}` appears more than once in the header; expected each of {} \
                 (optional: {}) once",
                path.display(),
                required.join(","),
                optional.join(","),
            );
        }
    }
    for want in required {
        if !names.iter().any(|n| n == want) {
            bail!(
                "`{}`: missing column `{want}`; expected columns {} (optional: {}), found {}",
                path.display(),
                required.join(","),
                optional.join(","),
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(",")
                },
            );
        }
    }
    if let Some(extra) = names
        .iter()
        .find(|n| !required.contains(&n.as_str()) && !optional.contains(&n.as_str()))
    {
        bail!(
            "`{}`: unexpected column `{extra}`; expected columns {} (optional: {})",
            path.display(),
            required.join(","),
            optional.join(","),
        );
    }
    Ok(())
}

/// Checks the header ([`check_header`]) and that there is at least one row; returns whether the
/// table has a `loss` column.
fn check_columns(df: &DataFrame, path: &Path) -> anyhow::Result<bool> {
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(ToString::to_string)
        .collect();
    check_header(&names, &REQUIRED, &OPTIONAL, path)?;
    if df.height() == 0 {
        bail!("`{}`: no rows", path.display());
    }
    Ok(names.iter().any(|n| n == "loss"))
}

/// One parsed row.
struct Row {
    benchmark: String,
    item: String,
    model: String,
    n_samples: u32,
    n_correct: u32,
    /// `None` without a loss column; NaN for an empty cell.
    loss: Option<f64>,
}

/// The table's columns as text, parsed row by row so errors can name the row.
struct Columns<'a> {
    loc: Located<'a>,
    benchmark: StringChunked,
    item: StringChunked,
    model: StringChunked,
    n_samples: StringChunked,
    n_correct: StringChunked,
    loss: Option<StringChunked>,
}

impl Columns<'_> {
    fn required(&self, value: Option<&str>, column: &str, row: usize) -> anyhow::Result<String> {
        required_text(&self.loc, value, column, row)
    }

    fn count(&self, value: Option<&str>, column: &str, row: usize) -> anyhow::Result<u32> {
        let text = self.required(value, column, row)?;
        // Parquet writers may store counts as floats; a whole float is a count.
        let whole_float = text.parse::<f64>().ok().filter(|f| f.fract() == 0.0);
        let parsed: Option<i64> = text
            .parse::<i64>()
            .ok()
            .or_else(|| whole_float.filter(|f| f.abs() < 9e15).map(|f| f as i64));
        let at = self.loc.at(row);
        let out_of_range = |found: &str| {
            anyhow::anyhow!(
                "{at}: `{column}` is out of range: a count is at most {}, found `{found}`",
                u32::MAX
            )
        };
        match parsed {
            Some(n) if n < 0 => bail!("{at}: `{column}` must be a non-negative count, found {n}"),
            Some(n) => u32::try_from(n).map_err(|_| out_of_range(&n.to_string())),
            None => {
                // Digits too many for i64, or a whole float too large to be exact.
                let digits = text.strip_prefix('+').unwrap_or(&text);
                let whole = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
                if whole || whole_float.is_some_and(|f| f >= 9e15) {
                    return Err(out_of_range(&cod_pipeline::shorten(&text)));
                }
                // Not parsed, so at most −9e15.
                if whole_float.is_some_and(|f| f < 0.0) {
                    bail!("{at}: `{column}` must be a non-negative count, found {text}");
                }
                bail!(
                    "{at}: `{column}` must be a whole number, found `{}`",
                    cod_pipeline::shorten(&text)
                )
            }
        }
    }

    fn row(&self, row: usize) -> anyhow::Result<Row> {
        let at = self.loc.at(row);
        let n_samples = self.count(self.n_samples.get(row), "n_samples", row)?;
        let n_correct = self.count(self.n_correct.get(row), "n_correct", row)?;
        if n_samples == 0 {
            bail!("{at}: `n_samples` must be at least 1, found 0");
        }
        if n_correct > n_samples {
            bail!("{at}: `n_correct` ({n_correct}) exceeds `n_samples` ({n_samples})");
        }
        let loss = match &self.loss {
            None => None,
            Some(col) => match col.get(row).map(str::trim) {
                None | Some("") => Some(f64::NAN),
                Some(text) => match text.parse::<f64>() {
                    Ok(v) if v.is_finite() => Some(checked_loss(&at, v)?),
                    _ => bail!(
                        "{at}: `loss` must be a finite number, found `{}`",
                        cod_pipeline::shorten(text)
                    ),
                },
            },
        };
        Ok(Row {
            benchmark: self.required(self.benchmark.get(row), "benchmark", row)?,
            item: self.required(self.item.get(row), "item", row)?,
            model: self.required(self.model.get(row), "model", row)?,
            n_samples,
            n_correct,
            loss,
        })
    }
}

/// Reads a tidy table against the manifest's models. Rows of models the manifest does not list
/// are skipped and counted in a warning, or with `strict` an error.
pub fn read_tidy(
    path: &Path,
    models: &[Model],
    missing: MissingPolicy,
    strict: bool,
) -> anyhow::Result<EvalTable> {
    let (df, format) = read_frame(path)?;
    let has_loss = check_columns(&df, path)?;
    let columns = Columns {
        loc: Located::new(path, format),
        benchmark: text_column(&df, "benchmark")?,
        item: text_column(&df, "item")?,
        model: text_column(&df, "model")?,
        n_samples: text_column(&df, "n_samples")?,
        n_correct: text_column(&df, "n_correct")?,
        loss: if has_loss {
            Some(text_column(&df, "loss")?)
        } else {
            None
        },
    };
    let loc = &columns.loc;

    let n_models = models.len();
    let model_index: HashMap<&str, usize> = models
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name.as_str(), i))
        .collect();
    let mut builders: Vec<Builder> = Vec::new();
    let mut bench_index: HashMap<String, usize> = HashMap::new();
    let mut unlisted: BTreeMap<String, usize> = BTreeMap::new();
    for row_number in 0..df.height() {
        let row = columns.row(row_number)?;
        let Some(&m) = model_index.get(row.model.as_str()) else {
            if strict {
                bail!(
                    "{}: unknown model `{}` (`strict = true`); the manifest lists {}",
                    loc.at(row_number),
                    row.model,
                    listed(models)
                );
            }
            *unlisted.entry(row.model).or_default() += 1;
            continue;
        };
        let b = *bench_index.entry(row.benchmark.clone()).or_insert_with(|| {
            builders.push(Builder::new(row.benchmark.clone(), has_loss));
            builders.len() - 1
        });
        let builder = &mut builders[b];
        let i = builder.item(row.item, n_models);
        let cell = i * n_models + m;
        if builder.first_row[cell] != u32::MAX {
            bail!(
                "{}: duplicate result for benchmark `{}`, item `{}`, model `{}`; first given at {}",
                loc.at(row_number),
                builder.name,
                builder.items[i],
                row.model,
                loc.at(builder.first_row[cell] as usize)
            );
        }
        builder.first_row[cell] = row_number as u32;
        builder.n_samples[cell] = row.n_samples;
        builder.n_correct[cell] = row.n_correct;
        if let (Some(l), Some(v)) = (builder.loss.as_mut(), row.loss) {
            l[cell] = v;
        }
    }

    let benchmarks = builders
        .into_iter()
        .map(|b| b.finish(models, missing, &format!("`{}`", path.display())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(EvalTable {
        models: models.to_vec(),
        benchmarks,
        warnings: unlisted_warning(&unlisted, "rows").into_iter().collect(),
    })
}

/// The manifest's model names, for messages.
pub(crate) fn listed(models: &[Model]) -> String {
    models
        .iter()
        .map(|m| format!("`{}`", m.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The warning for data of models the manifest does not list: `unit` (rows, directories) per
/// model name.
pub(crate) fn unlisted_warning(unlisted: &BTreeMap<String, usize>, unit: &str) -> Option<String> {
    if unlisted.is_empty() {
        return None;
    }
    let total: usize = unlisted.values().sum();
    let names: Vec<String> = unlisted
        .iter()
        .take(10)
        .map(|(name, n)| format!("`{}` ({n})", cod_pipeline::shorten(name)))
        .collect();
    let more = if unlisted.len() > 10 {
        format!(" and {} more", unlisted.len() - 10)
    } else {
        String::new()
    };
    Some(format!(
        "skipped {total} {unit} of {} model(s) the manifest does not list: {}{more}; \
         `strict = true` makes this an error",
        unlisted.len(),
        names.join(", ")
    ))
}

pub(crate) struct Builder {
    pub(crate) name: String,
    pub(crate) items: Vec<String>,
    index: HashMap<String, usize>,
    pub(crate) n_samples: Vec<u32>,
    pub(crate) n_correct: Vec<u32>,
    pub(crate) loss: Option<Vec<f64>>,
    /// Where each cell was first given (a row, or a reader's own origin id); `u32::MAX` if not.
    pub(crate) first_row: Vec<u32>,
}

impl Builder {
    pub(crate) fn new(name: String, with_loss: bool) -> Builder {
        Builder {
            name,
            items: Vec::new(),
            index: HashMap::new(),
            n_samples: Vec::new(),
            n_correct: Vec::new(),
            loss: with_loss.then(Vec::new),
            first_row: Vec::new(),
        }
    }

    pub(crate) fn item(&mut self, id: String, n_models: usize) -> usize {
        if let Some(&i) = self.index.get(&id) {
            return i;
        }
        let i = self.items.len();
        self.index.insert(id.clone(), i);
        self.items.push(id);
        self.n_samples.extend(std::iter::repeat_n(0, n_models));
        self.n_correct.extend(std::iter::repeat_n(0, n_models));
        self.first_row
            .extend(std::iter::repeat_n(u32::MAX, n_models));
        if let Some(l) = self.loss.as_mut() {
            l.extend(std::iter::repeat_n(f64::NAN, n_models));
        }
        i
    }

    pub(crate) fn finish(
        self,
        models: &[Model],
        missing: MissingPolicy,
        source: &str,
    ) -> anyhow::Result<BenchmarkEvals> {
        let n_models = models.len();
        let incomplete: Vec<(usize, Vec<&str>)> = (0..self.items.len())
            .filter_map(|i| {
                let absent: Vec<&str> = models
                    .iter()
                    .enumerate()
                    .filter(|(m, model)| {
                        model.role == Role::Ladder && self.n_samples[i * n_models + m] == 0
                    })
                    .map(|(_, model)| model.name.as_str())
                    .collect();
                (!absent.is_empty()).then_some((i, absent))
            })
            .collect();
        if let (MissingPolicy::Error, Some((i, absent))) = (missing, incomplete.first()) {
            bail!(
                "{}: benchmark `{}`, item `{}`: no result for ladder model(s) `{}`; {} of {} items \
                 are incomplete (set `missing = \"drop\"` to drop them, with a count)",
                source,
                self.name,
                self.items[*i],
                absent.join("`, `"),
                incomplete.len(),
                self.items.len()
            );
        }
        let drop: std::collections::HashSet<usize> = incomplete.iter().map(|(i, _)| *i).collect();
        let keep = |i: &usize| !drop.contains(i);
        let kept: Vec<usize> = (0..self.items.len()).filter(keep).collect();
        if kept.is_empty() {
            bail!(
                "{}: benchmark `{}`: every item lacks a result for some ladder model",
                source,
                self.name
            );
        }
        let gather = |values: &[u32]| -> Vec<u32> {
            kept.iter()
                .flat_map(|&i| values[i * n_models..(i + 1) * n_models].iter().copied())
                .collect()
        };
        Ok(BenchmarkEvals {
            n_samples: gather(&self.n_samples),
            n_correct: gather(&self.n_correct),
            loss: self.loss.as_ref().map(|l| {
                kept.iter()
                    .flat_map(|&i| l[i * n_models..(i + 1) * n_models].iter().copied())
                    .collect()
            }),
            dropped_items: incomplete
                .iter()
                .map(|(i, _)| self.items[*i].clone())
                .collect(),
            items: kept.iter().map(|&i| self.items[i].clone()).collect(),
            name: self.name,
        })
    }
}
