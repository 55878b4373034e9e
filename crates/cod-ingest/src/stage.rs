use std::path::{Path, PathBuf};

use cod_artifact::ArtifactKind;
use cod_pipeline::{PathResolver, Progress, Stage};
use serde::{Deserialize, Serialize};

/// Parameters of the `ingest` stage.
#[derive(Clone, Debug, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct IngestParams {
    /// Tidy results table, `.csv` or `.parquet`, with columns
    /// `benchmark,item,model,n_samples,n_correct` and optionally `loss`.
    #[arg(long)]
    pub path: PathBuf,
    /// Models manifest (TOML): `[[model]]` tables with `name`, `params`, `tokens`, optional `flops`
    /// and `role` (`ladder`, `target` or `anchor`).
    #[arg(long)]
    pub manifest: PathBuf,
    /// What to do with an item that lacks a result for some ladder model: `error` stops, `drop`
    /// drops the item and records it in the artifact.
    #[arg(long, value_enum, default_value_t = MissingPolicy::Error)]
    #[serde(default)]
    pub missing: MissingPolicy,
    /// Also make one benchmark of this name holding every item of every benchmark (ids become
    /// `benchmark/item`).
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub union: Option<String>,
}

/// How ingest treats items with missing ladder results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum MissingPolicy {
    #[default]
    Error,
    Drop,
}

/// Reads a tidy table and a models manifest into an `eval-table` artifact.
pub struct IngestStage;

impl Stage for IngestStage {
    type Params = IngestParams;
    const KIND: &'static str = "ingest";
    const VERSION: u32 = 1;
    const OUTPUT: ArtifactKind = ArtifactKind::EvalTable;
    const INPUTS: &'static [ArtifactKind] = &[];

    fn resolve_paths(params: &mut IngestParams, resolve: &PathResolver) {
        params.path = resolve.resolve("path", &params.path);
        params.manifest = resolve.resolve("manifest", &params.manifest);
    }

    fn files_read(params: &IngestParams) -> Vec<PathBuf> {
        vec![params.path.clone(), params.manifest.clone()]
    }

    fn run(
        params: &IngestParams,
        _inputs: &[PathBuf],
        output: &Path,
        progress: &Progress,
    ) -> anyhow::Result<()> {
        let spinner = progress.spinner(&format!("reading {}", params.path.display()));
        let models = crate::read_manifest(&params.manifest)?;
        let mut table = crate::read_tidy(&params.path, &models, params.missing)?;
        if let Some(name) = &params.union {
            add_union(&mut table, name)?;
        }
        spinner.finish_and_clear();
        cod_artifact::write(output, &table)?;
        Ok(())
    }
}

/// Appends a benchmark named `name` holding every item of every benchmark.
fn add_union(table: &mut cod_artifact::EvalTable, name: &str) -> anyhow::Result<()> {
    if table.benchmarks.iter().any(|b| b.name == name) {
        anyhow::bail!("`union = \"{name}\"` names an existing benchmark");
    }
    let with_loss = table.benchmarks.iter().all(|b| b.loss.is_some());
    let mut union = cod_artifact::BenchmarkEvals {
        name: name.to_owned(),
        items: Vec::new(),
        n_samples: Vec::new(),
        n_correct: Vec::new(),
        loss: with_loss.then(Vec::new),
        dropped_items: Vec::new(),
    };
    for b in &table.benchmarks {
        union
            .items
            .extend(b.items.iter().map(|i| format!("{}/{i}", b.name)));
        union.n_samples.extend_from_slice(&b.n_samples);
        union.n_correct.extend_from_slice(&b.n_correct);
        if let (Some(all), Some(l)) = (union.loss.as_mut(), &b.loss) {
            all.extend_from_slice(l);
        }
        union
            .dropped_items
            .extend(b.dropped_items.iter().map(|i| format!("{}/{i}", b.name)));
    }
    table.benchmarks.push(union);
    Ok(())
}
