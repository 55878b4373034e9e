use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::{Registry, StageEntry};

/// A parsed, checked pipeline file: its stages in an order where every stage follows its inputs.
///
/// A stage that re-runs other stages' code (a backtest runs features, clustering, fits and the
/// mapping on every holdout) takes their parameters from the pipeline's own stages: `uses` names
/// them, and by default it is the pipeline's one stage of each kind the stage re-runs. Their
/// parameters become the stage's nested tables (`backtest.cluster`, …), so a backtest cannot run
/// another configuration than the prediction it checks. A nested table written in the stage's own
/// table overrides the used stage's keys one by one; to run a different method altogether, leave
/// that stage out of `uses` and write the whole table.
#[derive(Clone, Debug)]
pub struct Pipeline {
    /// The file's stem, e.g. `mmlu` for `pipelines/mmlu.toml`.
    pub name: String,
    pub path: PathBuf,
    pub description: Option<String>,
    /// Stages whose artifact summaries are printed after a run (default: the last stage).
    pub summary: Vec<String>,
    /// Stages in execution order.
    pub stages: Vec<StageSpec>,
    /// The `[monitor]` table: how `cod monitor` checks a run in progress.
    pub monitor: MonitorSettings,
}

/// The `[monitor]` table of a pipeline file: not a stage, but how `cod monitor` checks a target
/// run in progress against the pipeline's prediction.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorSettings {
    /// Update the prediction with the target's own checkpoints so far (step 2 refitted with
    /// them). Off by default: a prediction made before training never reads the target.
    #[serde(default)]
    pub use_target: bool,
}

/// One stage of a pipeline as written, after `--set` overrides.
#[derive(Clone, Debug)]
pub struct StageSpec {
    pub name: String,
    pub kind: String,
    pub inputs: Vec<String>,
    /// The stage's own parameters (everything but `stage` and `inputs`).
    pub params: toml::Table,
    /// Parameter keys set on the command line; their relative paths resolve against the current
    /// directory.
    pub overridden: Vec<String>,
    /// The stages whose parameters this one took as nested tables (see [`Pipeline`]), resolved.
    pub uses: Vec<String>,
}

/// A `--set KEY=VALUE` override: `KEY` is `TABLE.KEY`, e.g. `ingest.path`.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    pub table: String,
    pub key: String,
    pub value: toml::Value,
}

impl std::str::FromStr for Override {
    type Err = String;

    /// Parses `TABLE.KEY=VALUE`. The value is read as a TOML value when it is one (`3`, `true`,
    /// `[1, 2]`, `"quoted"`), else taken as a plain string, so paths need no quotes.
    fn from_str(text: &str) -> Result<Override, String> {
        let (lhs, value) = text
            .split_once('=')
            .ok_or_else(|| format!("expected `TABLE.KEY=VALUE`, found `{text}`"))?;
        let (table, key) = lhs
            .trim()
            .split_once('.')
            .ok_or_else(|| format!("expected `TABLE.KEY` before `=`, found `{lhs}`"))?;
        if table.is_empty() || key.is_empty() || key.contains('.') {
            return Err(format!(
                "expected `TABLE.KEY` before `=` (one dot), found `{lhs}`"
            ));
        }
        let value = value.trim();
        if value.is_empty() {
            return Err(format!(
                "`{lhs}=` has no value; write `{lhs}=VALUE`, or `{lhs}=\"\"` for an empty string"
            ));
        }
        let value = format!("v = {value}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(value.to_owned()));
        Ok(Override {
            table: table.to_owned(),
            key: key.to_owned(),
            value,
        })
    }
}

/// Why a pipeline file was rejected. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("`{path}`: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}`: invalid TOML: {message}")]
    Toml { path: PathBuf, message: String },
    #[error("`{path}`: {message}")]
    Invalid { path: PathBuf, message: String },
}

const PIPELINE_KEYS: [&str; 2] = ["description", "summary"];

impl Pipeline {
    /// Reads a pipeline file, applies `overrides`, and checks it against `registry`: known stage
    /// kinds, existing inputs of the right artifact kinds, no cycles. Stage parameters are checked
    /// by the stages themselves when the runner configures them.
    pub fn load(
        path: &Path,
        overrides: &[Override],
        registry: &Registry,
    ) -> Result<Pipeline, PipelineError> {
        let text = std::fs::read_to_string(path).map_err(|source| PipelineError::Io {
            path: path.to_owned(),
            source,
        })?;
        Pipeline::parse(&text, path, overrides, registry)
    }

    /// As [`Pipeline::load`], from text; `path` names the file in errors and anchors relative paths.
    pub fn parse(
        text: &str,
        path: &Path,
        overrides: &[Override],
        registry: &Registry,
    ) -> Result<Pipeline, PipelineError> {
        let invalid = |message: String| PipelineError::Invalid {
            path: path.to_owned(),
            message,
        };
        let mut doc: toml::Table =
            text.parse()
                .map_err(|err: toml::de::Error| PipelineError::Toml {
                    path: path.to_owned(),
                    message: clip(err.to_string().trim_end()),
                })?;

        let mut overridden: Vec<(String, String)> = Vec::new();
        for o in overrides {
            // `[monitor]` is optional: `--set monitor.use_target=true` works without it.
            if o.table == "monitor" && !doc.contains_key("monitor") {
                doc.insert("monitor".to_owned(), toml::Value::Table(toml::Table::new()));
            }
            let table = doc
                .get_mut(&o.table)
                .and_then(toml::Value::as_table_mut)
                .ok_or_else(|| {
                    invalid(format!(
                        "`--set {}.{}`: no table `[{}]` in the pipeline",
                        o.table, o.key, o.table
                    ))
                })?;
            table.insert(o.key.clone(), o.value.clone());
            overridden.push((o.table.clone(), o.key.clone()));
        }

        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        check_name(&name).map_err(|why| {
            invalid(format!(
                "the pipeline's name (the file's stem) {why}; rename the file"
            ))
        })?;
        let (description, summary) = match doc.remove("pipeline") {
            Some(meta) => parse_meta(meta).map_err(invalid)?,
            None => (None, None),
        };
        let monitor = match doc.remove("monitor") {
            Some(table) => table
                .try_into::<MonitorSettings>()
                .map_err(|err| invalid(format!("`[monitor]`: {}", err.message())))?,
            None => MonitorSettings::default(),
        };
        let mut stages = Vec::new();
        for (stage_name, value) in doc {
            check_name(&stage_name).map_err(|why| invalid(format!("the stage name {why}")))?;
            let overridden = overridden
                .iter()
                .filter(|(t, _)| *t == stage_name)
                .map(|(_, k)| k.clone())
                .collect();
            stages.push(parse_stage(stage_name, value, overridden).map_err(invalid)?);
        }
        if stages.is_empty() {
            return Err(invalid("the pipeline has no stages".to_owned()));
        }
        check_stages(&stages, registry).map_err(invalid)?;
        resolve_uses(&mut stages, registry).map_err(invalid)?;

        let stages = topological_order(stages).map_err(invalid)?;
        let summary =
            summary.unwrap_or_else(|| vec![stages.last().expect("nonempty").name.clone()]);
        for name in &summary {
            if !stages.iter().any(|s| &s.name == name) {
                return Err(invalid(format!(
                    "`pipeline.summary`: `{name}` is not a stage of this pipeline"
                )));
            }
        }
        Ok(Pipeline {
            name,
            path: path.to_owned(),
            description,
            summary,
            stages,
            monitor,
        })
    }

    /// Stage `name`'s parameters as its stage type reads them: checked, with paths resolved as the
    /// runner resolves them (relative to the file, or to `cwd` for `--set` values).
    pub fn stage_params<S: crate::Stage>(
        &self,
        name: &str,
        cwd: &Path,
    ) -> anyhow::Result<S::Params> {
        let spec = self
            .stage(name)
            .ok_or_else(|| anyhow::anyhow!("`{}` has no stage `{name}`", self.path.display()))?;
        let at = |message: String| {
            anyhow::anyhow!("`{}`: stage `{name}`: {message}", self.path.display())
        };
        let mut params: S::Params = spec
            .params
            .clone()
            .try_into()
            .map_err(|err: toml::de::Error| at(err.message().to_owned()))?;
        S::validate(&params).map_err(|err| at(format!("{err:#}")))?;
        let file_dir = cwd.join(self.dir());
        let resolver = crate::PathResolver {
            file_dir: &file_dir,
            cwd,
            overridden: &spec.overridden,
        };
        S::resolve_paths(&mut params, &resolver);
        Ok(params)
    }

    /// The directory relative paths in the file resolve against.
    #[must_use]
    pub fn dir(&self) -> &Path {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        }
    }

    #[must_use]
    pub fn stage(&self, name: &str) -> Option<&StageSpec> {
        self.stages.iter().find(|s| s.name == name)
    }

    /// The named stage and everything it depends on, by name.
    #[must_use]
    pub fn ancestors_of(&self, name: &str) -> BTreeSet<String> {
        let mut keep = BTreeSet::new();
        let mut todo = vec![name.to_owned()];
        while let Some(n) = todo.pop() {
            if keep.insert(n.clone())
                && let Some(stage) = self.stage(&n)
            {
                todo.extend(stage.inputs.iter().cloned());
            }
        }
        keep
    }
}

/// At most 80 characters of an input value, for an error message; a longer value ends with `…`,
/// so no error echoes a file's contents without limit.
#[must_use]
pub fn shorten(text: &str) -> String {
    const WIDTH: usize = 80;
    match text.char_indices().nth(WIDTH) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// An error message that may quote its input (a parser's message with the offending line), cut to
/// at most `LINES` lines, each [`shorten`]ed: no input file, however long its lines, is echoed
/// without limit.
#[must_use]
pub fn clip(message: &str) -> String {
    const LINES: usize = 8;
    let mut lines: Vec<String> = message.lines().take(LINES).map(shorten).collect();
    if message.lines().count() > LINES {
        lines.push("…".to_owned());
    }
    lines.join("\n")
}

/// Pipeline and stage names become file names (`out/<pipeline>/<stage>.bin`, the cache's run
/// records), so they are limited to letters, digits, `_` and `-`: no path can leave its directory.
///
/// # Errors
/// Says what the name is and what is allowed, quoting at most 80 characters of it.
pub fn check_name(name: &str) -> Result<(), String> {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Ok(());
    }
    Err(format!(
        "`{}` is not a plain name: expected letters, digits, `_` and `-` only",
        shorten(name).escape_debug()
    ))
}

/// Reads the `[pipeline]` table: description and summary stages.
fn parse_meta(meta: toml::Value) -> Result<(Option<String>, Option<Vec<String>>), String> {
    let toml::Value::Table(meta) = meta else {
        return Err("`pipeline` must be a table".to_owned());
    };
    let mut description = None;
    let mut summary = None;
    for (key, value) in meta {
        match (key.as_str(), value) {
            ("description", toml::Value::String(text)) => description = Some(text),
            ("summary", value) => summary = Some(string_list(value, "pipeline.summary")?),
            (key, value) if PIPELINE_KEYS.contains(&key) => {
                return Err(format!("`pipeline.{key}`: unexpected value `{value}`"));
            }
            (key, _) => {
                return Err(format!(
                    "unknown key `pipeline.{key}`, expected one of {}",
                    quoted_list(&PIPELINE_KEYS)
                ));
            }
        }
    }
    Ok((description, summary))
}

/// A string or a list of strings, e.g. stage names.
fn string_list(value: toml::Value, at: &str) -> Result<Vec<String>, String> {
    match value {
        toml::Value::String(s) => Err(format!(
            "`{at}`: expected a list of stage names, found the string `\"{}\"`; write `[\"{}\"]`",
            shorten(&s),
            shorten(&s)
        )),
        toml::Value::Array(items) => items
            .into_iter()
            .map(|v| match v {
                toml::Value::String(s) => Ok(s),
                other => Err(format!("`{at}`: expected stage names, found `{other}`")),
            })
            .collect(),
        other => Err(format!(
            "`{at}`: expected a list of stage names, found `{other}`"
        )),
    }
}

/// Reads one stage table: `stage`, `inputs`, and the rest as parameters.
fn parse_stage(
    name: String,
    value: toml::Value,
    overridden: Vec<String>,
) -> Result<StageSpec, String> {
    let toml::Value::Table(mut table) = value else {
        return Err(format!(
            "top-level key `{name}` must be a stage table `[{name}]`"
        ));
    };
    let kind = match table.remove("stage") {
        None => name.clone(),
        Some(toml::Value::String(kind)) => kind,
        Some(other) => {
            return Err(format!(
                "`{name}.stage`: expected a stage kind, found `{other}`"
            ));
        }
    };
    let inputs = match table.remove("inputs") {
        None => Vec::new(),
        Some(value) => string_list(value, &format!("{name}.inputs"))?,
    };
    // `uses` stays in the table until `resolve_uses` reads it.
    Ok(StageSpec {
        name,
        kind,
        inputs,
        params: table,
        overridden,
        uses: Vec::new(),
    })
}

/// Fills the nested parameter tables of every stage that re-runs other stages' code from the
/// stages it uses (see [`Pipeline`]).
fn resolve_uses(stages: &mut [StageSpec], registry: &Registry) -> Result<(), String> {
    for i in 0..stages.len() {
        // As written: `None` takes the default, `Some([])` uses no stage.
        let written = match stages[i].params.remove("uses") {
            None => None,
            Some(value) => Some(string_list(value, &format!("{}.uses", stages[i].name))?),
        };
        let stage = &stages[i];
        let reusable = registry.get(&stage.kind).expect("checked").uses();
        if reusable.is_empty() {
            if written.is_some() {
                return Err(format!(
                    "`{}.uses`: a `{}` stage re-runs no other stage, so it uses none",
                    stage.name, stage.kind
                ));
            }
            continue;
        }
        let mut used: Vec<usize> = Vec::new();
        if let Some(named) = &written {
            for name in named {
                let j = stages.iter().position(|s| s.name == *name).ok_or_else(|| {
                    format!(
                        "`{}.uses`: `{name}` is not a stage of this pipeline",
                        stage.name
                    )
                })?;
                let kind = &stages[j].kind;
                if !reusable.contains(&kind.as_str()) {
                    return Err(format!(
                        "`{}.uses`: `{name}` is a `{kind}` stage; a `{}` stage re-runs only {}",
                        stage.name,
                        stage.kind,
                        quoted_list(reusable)
                    ));
                }
                if let Some(&k) = used.iter().find(|&&k| stages[k].kind == *kind) {
                    return Err(format!(
                        "`{}.uses`: `{}` and `{name}` are both `{kind}` stages; name one",
                        stage.name, stages[k].name
                    ));
                }
                used.push(j);
            }
        } else {
            for kind in reusable {
                let of_kind: Vec<usize> = (0..stages.len())
                    .filter(|&j| stages[j].kind == *kind)
                    .collect();
                match of_kind.as_slice() {
                    [] => {}
                    [j] => used.push(*j),
                    several => {
                        let names: Vec<&str> =
                            several.iter().map(|&j| stages[j].name.as_str()).collect();
                        return Err(format!(
                            "stage `{}`: the pipeline has {} `{kind}` stages ({}); say in `{}.uses` which one it re-runs",
                            stage.name,
                            names.len(),
                            quoted_list(&names),
                            stage.name
                        ));
                    }
                }
            }
        }
        let resolved: Vec<(String, String, toml::Table)> = used
            .iter()
            .map(|&j| {
                (
                    stages[j].name.clone(),
                    stages[j].kind.clone(),
                    stages[j].params.clone(),
                )
            })
            .collect();
        let stage = &mut stages[i];
        stage.uses = resolved.iter().map(|(name, _, _)| name.clone()).collect();
        for (_, kind, mut params) in resolved {
            match stage.params.remove(&kind) {
                None => {}
                Some(toml::Value::Table(overrides)) => params.extend(overrides),
                Some(other) => {
                    return Err(format!(
                        "`{}.{kind}`: expected a table of `{kind}` parameters, found `{other}`",
                        stage.name
                    ));
                }
            }
            stage.params.insert(kind, toml::Value::Table(params));
        }
    }
    Ok(())
}

/// Checks stage kinds and that every input is a stage writing the artifact the stage reads.
fn check_stages(stages: &[StageSpec], registry: &Registry) -> Result<(), String> {
    for stage in stages {
        let entry = registry.get(&stage.kind).ok_or_else(|| {
            format!(
                "stage `{}`: unknown stage kind `{}`, expected one of {}",
                stage.name,
                stage.kind,
                quoted_list(&registry.kinds().collect::<Vec<_>>())
            )
        })?;
        let expected = entry.inputs();
        if stage.inputs.len() != expected.len() {
            return Err(format!(
                "stage `{}`: a `{}` stage takes {} input(s) ({}), found {}",
                stage.name,
                stage.kind,
                expected.len(),
                quoted_list(&expected.iter().map(|k| k.name()).collect::<Vec<_>>()),
                stage.inputs.len()
            ));
        }
        for (input, want) in stage.inputs.iter().zip(expected) {
            let upstream = stages.iter().find(|s| &s.name == input).ok_or_else(|| {
                format!(
                    "stage `{}`: input `{input}` is not a stage of this pipeline",
                    stage.name
                )
            })?;
            let got = registry.get(&upstream.kind).map(StageEntry::output);
            if got != Some(*want) {
                return Err(format!(
                    "stage `{}`: input `{input}` writes `{}`, expected `{want}`",
                    stage.name,
                    got.map_or("nothing", |k| k.name()),
                ));
            }
        }
    }
    Ok(())
}

/// Orders stages so that inputs come first, keeping file order where the DAG allows.
fn topological_order(mut pending: Vec<StageSpec>) -> Result<Vec<StageSpec>, String> {
    let mut ordered: Vec<StageSpec> = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let ready = pending.iter().position(|s| {
            s.inputs
                .iter()
                .all(|input| ordered.iter().any(|done| &done.name == input))
        });
        let Some(i) = ready else {
            let names: Vec<&str> = pending.iter().map(|s| s.name.as_str()).collect();
            return Err(format!(
                "the stages {} depend on each other in a cycle",
                quoted_list(&names)
            ));
        };
        ordered.push(pending.remove(i));
    }
    Ok(ordered)
}

pub(crate) fn quoted_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use cod_artifact::{EvalTable, Features};

    use super::*;
    use crate::{Code, Progress, Stage};

    macro_rules! fake_stage {
        ($name:ident, $kind:literal, $output:ty, $inputs:ty, $uses:expr) => {
            struct $name;
            impl Stage for $name {
                type Params = toml::Table;
                type Inputs = $inputs;
                type Output = $output;
                const KIND: &'static str = $kind;
                const CODE: Code = Code::new($kind, 1, &[]);
                const USES: &'static [&'static str] = $uses;
                fn run(_: &toml::Table, _: $inputs, _: &Progress) -> anyhow::Result<$output> {
                    unreachable!("parsing tests never run stages")
                }
            }
        };
    }
    fake_stage!(Source, "source", EvalTable, (), &[]);
    fake_stage!(Derive, "derive", Features, (EvalTable,), &[]);
    fake_stage!(Check, "check", EvalTable, (EvalTable,), &["derive"]);

    fn registry() -> Registry {
        Registry::new()
            .with::<Source>()
            .with::<Derive>()
            .with::<Check>()
    }

    fn parse(text: &str, overrides: &[&str]) -> Result<Pipeline, String> {
        let overrides: Vec<Override> = overrides.iter().map(|o| o.parse().unwrap()).collect();
        Pipeline::parse(text, Path::new("p/x.toml"), &overrides, &registry())
            .map_err(|e| e.to_string())
    }

    fn check_err(text: &str, expected: &str) {
        assert_eq!(parse(text, &[]).unwrap_err(), expected);
    }

    #[test]
    fn orders_stages_after_their_inputs() {
        let p = parse(
            "[d]\nstage = \"derive\"\ninputs = [\"s\"]\n[s]\nstage = \"source\"\nk = 1\n",
            &[],
        )
        .unwrap();
        let names: Vec<&str> = p.stages.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["s", "d"]);
        assert_eq!(p.name, "x");
        assert_eq!(p.summary, ["d"]);
        assert_eq!(p.stages[0].params.get("k"), Some(&toml::Value::Integer(1)));
        assert_eq!(
            p.ancestors_of("d").into_iter().collect::<Vec<_>>(),
            ["d", "s"]
        );
    }

    #[test]
    fn overrides_replace_values_and_are_marked() {
        let text = "[source]\npath = \"a.csv\"\n[derive]\ninputs = [\"source\"]\n";
        let p = parse(text, &["source.path=b.csv", "source.n=3"]).unwrap();
        let source = p.stage("source").unwrap();
        assert_eq!(source.params["path"], toml::Value::String("b.csv".into()));
        assert_eq!(source.params["n"], toml::Value::Integer(3));
        assert_eq!(source.overridden, ["path", "n"]);
        assert!(p.stage("derive").unwrap().overridden.is_empty());
    }

    #[test]
    fn override_syntax() {
        let o: Override = "a.b = [1, 2]".parse().unwrap();
        assert_eq!((o.table.as_str(), o.key.as_str()), ("a", "b"));
        assert_eq!(o.value.as_array().unwrap().len(), 2);
        let o: Override = "a.b=some/path.csv".parse().unwrap();
        assert_eq!(o.value, toml::Value::String("some/path.csv".into()));
        let o: Override = "a.b=\"quoted\"".parse().unwrap();
        assert_eq!(o.value, toml::Value::String("quoted".into()));
        assert_eq!(
            "ab=1".parse::<Override>().unwrap_err(),
            "expected `TABLE.KEY` before `=`, found `ab`"
        );
        assert_eq!(
            "a.b".parse::<Override>().unwrap_err(),
            "expected `TABLE.KEY=VALUE`, found `a.b`"
        );
    }

    #[test]
    fn rejects_bad_pipelines_naming_file_and_key() {
        check_err("", "`p/x.toml`: the pipeline has no stages");
        check_err("[source\n", &{
            let err = parse("[source\n", &[]).unwrap_err();
            assert!(err.starts_with("`p/x.toml`: invalid TOML: "), "{err}");
            err
        });
        check_err(
            "[pipeline]\ndescripton = \"x\"\n[source]\n",
            "`p/x.toml`: unknown key `pipeline.descripton`, expected one of `description`, `summary`",
        );
        check_err(
            "[pipeline]\nsummary = [\"nope\"]\n[source]\n",
            "`p/x.toml`: `pipeline.summary`: `nope` is not a stage of this pipeline",
        );
        check_err(
            "x = 1\n",
            "`p/x.toml`: top-level key `x` must be a stage table `[x]`",
        );
        check_err(
            "[cluster]\n",
            "`p/x.toml`: stage `cluster`: unknown stage kind `cluster`, expected one of `source`, `derive`, `check`",
        );
        check_err(
            "[derive]\n",
            "`p/x.toml`: stage `derive`: a `derive` stage takes 1 input(s) (`eval-table`), found 0",
        );
        check_err(
            "[derive]\ninputs = [\"source\"]\n",
            "`p/x.toml`: stage `derive`: input `source` is not a stage of this pipeline",
        );
        check_err(
            "[a]\nstage = \"derive\"\ninputs = [\"b\"]\n[b]\nstage = \"derive\"\ninputs = [\"a\"]\n",
            "`p/x.toml`: stage `a`: input `b` writes `features`, expected `eval-table`",
        );
        assert_eq!(
            parse("[source]\n", &["nope.k=1"]).unwrap_err(),
            "`p/x.toml`: `--set nope.k`: no table `[nope]` in the pipeline"
        );
    }

    /// Issue: `inputs = "ingest"` and `--set ingest.path=` were accepted silently.
    #[test]
    fn inputs_as_a_string_and_an_empty_override_are_errors() {
        check_err(
            "[s]\nstage = \"source\"\n[d]\nstage = \"derive\"\ninputs = \"s\"\n",
            "`p/x.toml`: `d.inputs`: expected a list of stage names, found the string `\"s\"`; \
             write `[\"s\"]`",
        );
        assert_eq!(
            "ingest.path=".parse::<Override>().unwrap_err(),
            "`ingest.path=` has no value; write `ingest.path=VALUE`, or `ingest.path=\"\"` for an \
             empty string"
        );
        let o: Override = "a.b=\"\"".parse().unwrap();
        assert_eq!(o.value, toml::Value::String(String::new()));
    }

    /// `[monitor]` is not a stage: it is optional, typed, and `--set` creates it.
    #[test]
    fn monitor_table_is_optional_typed_and_settable() {
        let stages = "[source]\n";
        assert!(!parse(stages, &[]).unwrap().monitor.use_target);
        let p = parse(&format!("[monitor]\nuse_target = true\n{stages}"), &[]).unwrap();
        assert!(p.monitor.use_target);
        assert_eq!(p.stages.len(), 1);
        assert!(
            parse(stages, &["monitor.use_target=true"])
                .unwrap()
                .monitor
                .use_target
        );
        let err = parse(&format!("[monitor]\nuse_targets = true\n{stages}"), &[]).unwrap_err();
        assert!(
            err.starts_with("`p/x.toml`: `[monitor]`: unknown field `use_targets`"),
            "{err}"
        );
        let err = parse(&format!("[monitor]\nuse_target = 1\n{stages}"), &[]).unwrap_err();
        assert!(
            err.starts_with("`p/x.toml`: `[monitor]`: invalid type"),
            "{err}"
        );
    }

    const USES: &str =
        "[s]\nstage = \"source\"\n[d]\nstage = \"derive\"\ninputs = [\"s\"]\nk = 1\nm = 2\n";

    /// A stage that re-runs another's code takes that stage's parameters, by default from the
    /// pipeline's one stage of that kind; its own nested table overrides key by key.
    #[test]
    fn uses_fills_nested_tables_from_the_used_stage() {
        let p = parse(
            &format!("{USES}[c]\nstage = \"check\"\ninputs = [\"s\"]\n"),
            &[],
        )
        .unwrap();
        let c = p.stage("c").unwrap();
        assert_eq!(c.uses, ["d"]);
        assert_eq!(c.params["derive"].to_string(), "{ k = 1, m = 2 }");
        // `--set` on the used stage reaches the user.
        let p = parse(
            &format!("{USES}[c]\nstage = \"check\"\ninputs = [\"s\"]\n"),
            &["d.k=5"],
        )
        .unwrap();
        assert_eq!(
            p.stage("c").unwrap().params["derive"].to_string(),
            "{ k = 5, m = 2 }"
        );
        let p = parse(
            &format!("{USES}[c]\nstage = \"check\"\ninputs = [\"s\"]\nuses = [\"d\"]\nderive = {{ m = 3 }}\n"),
            &[],
        )
        .unwrap();
        assert_eq!(
            p.stage("c").unwrap().params["derive"].to_string(),
            "{ k = 1, m = 3 }"
        );
        // `uses = []` takes nothing: the nested table is the stage's own.
        let p = parse(
            &format!(
                "{USES}[c]\nstage = \"check\"\ninputs = [\"s\"]\nuses = []\nderive = {{ m = 3 }}\n"
            ),
            &[],
        )
        .unwrap();
        assert_eq!(
            p.stage("c").unwrap().params["derive"].to_string(),
            "{ m = 3 }"
        );
        assert!(p.stage("c").unwrap().uses.is_empty());
    }

    #[test]
    fn bad_uses_are_reported() {
        let check = |extra: &str, expected: &str| {
            let text = format!("{USES}[c]\nstage = \"check\"\ninputs = [\"s\"]\n{extra}");
            assert_eq!(parse(&text, &[]).unwrap_err(), expected);
        };
        check(
            "uses = [\"nope\"]\n",
            "`p/x.toml`: `c.uses`: `nope` is not a stage of this pipeline",
        );
        check(
            "uses = [\"s\"]\n",
            "`p/x.toml`: `c.uses`: `s` is a `source` stage; a `check` stage re-runs only `derive`",
        );
        check(
            "[d2]\nstage = \"derive\"\ninputs = [\"s\"]\n",
            "`p/x.toml`: stage `c`: the pipeline has 2 `derive` stages (`d`, `d2`); say in \
             `c.uses` which one it re-runs",
        );
        check(
            "uses = [\"d\", \"d2\"]\n[d2]\nstage = \"derive\"\ninputs = [\"s\"]\n",
            "`p/x.toml`: `c.uses`: `d` and `d2` are both `derive` stages; name one",
        );
        check(
            "derive = 3\n",
            "`p/x.toml`: `c.derive`: expected a table of `derive` parameters, found `3`",
        );
        assert_eq!(
            parse("[s]\nstage = \"source\"\nuses = [\"s\"]\n", &[]).unwrap_err(),
            "`p/x.toml`: `s.uses`: a `source` stage re-runs no other stage, so it uses none"
        );
    }

    #[test]
    fn clipped_messages_quote_at_most_80_characters_a_line() {
        let long = "y".repeat(500);
        assert_eq!(clip(&long), format!("{}…", "y".repeat(80)));
        assert_eq!(clip("a\nb"), "a\nb");
        let many = (0..20)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(clip(&many), "0\n1\n2\n3\n4\n5\n6\n7\n…");
        // An invalid pipeline file with one enormous line does not echo it.
        let text = format!("[a]\nk = \"{}\n", "z".repeat(10_000));
        let err = parse(&text, &[]).unwrap_err();
        assert!(err.len() < 1000, "{} bytes", err.len());
    }

    /// Names become file names: a stage or pipeline name cannot hold a path.
    #[test]
    fn stage_and_pipeline_names_cannot_escape_their_directory() {
        check_err(
            "[\"../../evil\"]\nstage = \"source\"\n",
            "`p/x.toml`: the stage name `../../evil` is not a plain name: expected letters, \
             digits, `_` and `-` only",
        );
        check_err(
            "[\"/abs/evil\"]\nstage = \"source\"\n",
            "`p/x.toml`: the stage name `/abs/evil` is not a plain name: expected letters, \
             digits, `_` and `-` only",
        );
        let err = Pipeline::parse("[source]\n", Path::new("p/...toml"), &[], &registry())
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "`p/...toml`: the pipeline's name (the file's stem) `..` is not a plain name: \
             expected letters, digits, `_` and `-` only; rename the file"
        );
        let long = "x".repeat(200) + "/";
        let err = check_name(&long).unwrap_err();
        assert!(err.starts_with(&format!("`{}…`", "x".repeat(80))), "{err}");
        assert!(check_name("olmo-ladder_2").is_ok());
    }

    #[test]
    fn cycles_are_reported() {
        let stages = vec![
            StageSpec {
                name: "a".into(),
                kind: "derive".into(),
                inputs: vec!["b".into()],
                params: toml::Table::new(),
                overridden: vec![],
                uses: vec![],
            },
            StageSpec {
                name: "b".into(),
                kind: "derive".into(),
                inputs: vec!["a".into()],
                params: toml::Table::new(),
                overridden: vec![],
                uses: vec![],
            },
        ];
        assert_eq!(
            topological_order(stages).unwrap_err(),
            "the stages `a`, `b` depend on each other in a cycle"
        );
    }
}
