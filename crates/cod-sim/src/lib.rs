//! A seeded simulator of per-item ladder evaluations whose truth is known.
//!
//! # The generative model
//!
//! A scenario (TOML, see [`Scenario`]) lists models with their compute C and benchmarks with their
//! item mix. Every item of a benchmark with guess floor g is one of four types, drawn with the
//! configured shares:
//!
//! - **regular** (the rest): p(C) = g + (h − g) · σ(s · (log10 C − δ)), where σ is the logistic
//!   function, δ ~ Normal(difficulty.mean + subject shift, difficulty.sd) is the log10-compute at
//!   which the item is half-way from floor to ceiling, s ~ LogNormal(ln slope.median, slope.sigma)
//!   its steepness per decade of compute, and h ~ Uniform(ceiling.min, ceiling.max) its ceiling.
//!   Each subject shifts δ by Normal(0, subject_sd), so subjects differ in difficulty.
//! - **noisy**: a non-monotone item: p = clamp(b + ε_m, 0, 1) independently per model, with
//!   b ~ Uniform(g, noisy_max) and ε_m ~ Normal(0, noisy_sd).
//! - **never**: never solvable, p = 0 for every model, the target included.
//! - **saturated**: p = u for every model, u ~ Uniform(saturated_min, 1).
//!
//! Each (item, model) gets n_correct ~ Binomial(samples, p). The truth of a model on a benchmark is
//! the mean of p over items, the accuracy an infinite number of samples would measure.
//!
//! Every draw comes from one `Xoshiro256PlusPlus` stream seeded with the scenario's seed, in a fixed
//! order (items in order; per item its type, its parameters, then one draw per model), so the same
//! scenario gives the same results, bit for bit.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use cod_artifact::{Model, Role};
use cod_ingest::TidyRows;
use rand::{Rng, SeedableRng};
use rand_distr::{Binomial, Distribution, LogNormal, Normal, Uniform};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

mod lm_eval;

/// A simulation scenario, as read from TOML.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Seed of the one random stream.
    pub seed: u64,
    /// Attempts per (item, model).
    pub samples: u32,
    #[serde(rename = "model")]
    pub models: Vec<ModelSpec>,
    #[serde(rename = "benchmark")]
    pub benchmarks: Vec<BenchmarkSpec>,
}

/// A model of the scenario. Tokens are derived as D = flops / (6·N) when not given.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    pub name: String,
    pub params: f64,
    #[serde(default)]
    pub tokens: Option<f64>,
    pub flops: f64,
    pub role: Role,
}

/// One benchmark's item mix and item-parameter distributions.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchmarkSpec {
    pub name: String,
    /// How the benchmark is evaluated: `sampled` (the default: `samples` attempts per item),
    /// `multiple-choice` (one loglikelihood-ranked attempt; correct with probability p) or
    /// `generation` (`samples` generated attempts). It decides the lm-eval records written.
    #[serde(default)]
    pub kind: BenchmarkKind,
    pub items: usize,
    /// Items are split as evenly as possible into this many subjects.
    pub subjects: usize,
    /// The guess floor g.
    pub guess: f64,
    pub share_noisy: f64,
    pub share_never: f64,
    pub share_saturated: f64,
    /// δ, in log10 FLOPs.
    pub difficulty: MeanSd,
    /// Standard deviation of each subject's shift of δ.
    pub subject_sd: f64,
    /// s, per decade of compute.
    pub slope: MedianSigma,
    /// h.
    pub ceiling: MinMax,
    pub noisy_max: f64,
    pub noisy_sd: f64,
    pub saturated_min: f64,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeanSd {
    pub mean: f64,
    pub sd: f64,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MedianSigma {
    pub median: f64,
    pub sigma: f64,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinMax {
    pub min: f64,
    pub max: f64,
}

/// How a simulated benchmark is evaluated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BenchmarkKind {
    #[default]
    Sampled,
    MultipleChoice,
    Generation,
}

/// The type of a simulated item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemType {
    Regular,
    Noisy,
    Never,
    Saturated,
}

/// What a simulation produced: the models, the tidy rows and the truth.
#[derive(Clone, Debug)]
pub struct Simulation {
    pub models: Vec<Model>,
    pub rows: TidyRows,
    /// The true pass probability behind each row.
    pub probability: Vec<f64>,
    /// How each benchmark is evaluated.
    pub kinds: BTreeMap<String, BenchmarkKind>,
    pub truth: Truth,
}

/// The known truth of a simulation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// Per benchmark, per model: the expected accuracy (mean true pass probability over items).
    pub accuracy: BTreeMap<String, BTreeMap<String, f64>>,
    /// Per benchmark: how many items of each type.
    pub item_types: BTreeMap<String, BTreeMap<ItemType, usize>>,
}

impl Scenario {
    /// Reads a scenario file.
    pub fn read(path: &Path) -> anyhow::Result<Scenario> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read `{}`", path.display()))?;
        let scenario: Scenario = toml::from_str(&text).map_err(|err| {
            anyhow::anyhow!(
                "`{}`: invalid scenario: {}",
                path.display(),
                err.to_string().trim_end()
            )
        })?;
        scenario
            .validate()
            .map_err(|msg| anyhow::anyhow!("`{}`: {msg}", path.display()))?;
        Ok(scenario)
    }

    /// Checks ranges, naming the field at fault.
    pub fn validate(&self) -> Result<(), String> {
        if self.samples == 0 {
            return Err("`samples` must be at least 1".to_owned());
        }
        if self
            .models
            .iter()
            .filter(|m| m.role == Role::Ladder)
            .count()
            < 2
        {
            return Err("expected at least 2 models with role `ladder`".to_owned());
        }
        for m in &self.models {
            if !(m.params > 0.0 && m.flops > 0.0) {
                return Err(format!(
                    "model `{}`: `params` and `flops` must be positive",
                    m.name
                ));
            }
        }
        for b in &self.benchmarks {
            let at = |field: &str| format!("benchmark `{}`: `{field}`", b.name);
            if b.items == 0 || b.subjects == 0 || b.subjects > b.items {
                return Err(format!(
                    "{} must be at least 1 and at most `items`",
                    at("subjects")
                ));
            }
            for (field, v) in [
                ("guess", b.guess),
                ("share_noisy", b.share_noisy),
                ("share_never", b.share_never),
                ("share_saturated", b.share_saturated),
                ("ceiling.min", b.ceiling.min),
                ("ceiling.max", b.ceiling.max),
                ("noisy_max", b.noisy_max),
                ("saturated_min", b.saturated_min),
            ] {
                if !(0.0..=1.0).contains(&v) {
                    return Err(format!("{} must be in [0, 1], found {v}", at(field)));
                }
            }
            if b.share_noisy + b.share_never + b.share_saturated > 1.0 {
                return Err(format!(
                    "benchmark `{}`: the shares add up to more than 1",
                    b.name
                ));
            }
            if b.ceiling.min > b.ceiling.max || b.ceiling.min < b.guess {
                return Err(format!("{} must satisfy guess ≤ min ≤ max", at("ceiling")));
            }
            if b.noisy_max < b.guess {
                return Err(format!("{} must be at least `guess`", at("noisy_max")));
            }
            for (field, v) in [
                ("difficulty.sd", b.difficulty.sd),
                ("subject_sd", b.subject_sd),
                ("slope.sigma", b.slope.sigma),
                ("noisy_sd", b.noisy_sd),
            ] {
                if !(v.is_finite() && v >= 0.0) {
                    return Err(format!(
                        "{} must be a non-negative number, found {v}",
                        at(field)
                    ));
                }
            }
            if !(b.slope.median.is_finite() && b.slope.median > 0.0) {
                return Err(format!("{} must be positive", at("slope.median")));
            }
        }
        Ok(())
    }

    /// The models with tokens derived where not given.
    #[must_use]
    pub fn models(&self) -> Vec<Model> {
        self.models
            .iter()
            .map(|m| {
                let tokens = m.tokens.unwrap_or(m.flops / (6.0 * m.params));
                Model::new(&m.name, m.params, tokens, Some(m.flops), m.role)
            })
            .collect()
    }
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Runs the scenario.
pub fn simulate(scenario: &Scenario) -> anyhow::Result<Simulation> {
    scenario.validate().map_err(|msg| anyhow::anyhow!(msg))?;
    let models = scenario.models();
    let log_c: Vec<f64> = models.iter().map(|m| m.flops.log10()).collect();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(scenario.seed);
    let mut rows = TidyRows::default();
    let mut probability = Vec::new();
    let mut truth = Truth {
        accuracy: BTreeMap::new(),
        item_types: BTreeMap::new(),
    };
    let unit = Uniform::new(0.0, 1.0);
    let normal = |mean: f64, sd: f64| Normal::new(mean, sd).expect("sd validated");

    for bench in &scenario.benchmarks {
        let subject_shift: Vec<f64> = (0..bench.subjects)
            .map(|_| normal(0.0, bench.subject_sd).sample(&mut rng))
            .collect();
        let slope = LogNormal::new(bench.slope.median.ln(), bench.slope.sigma).expect("validated");
        let mut sums = vec![0.0; models.len()];
        let mut types: BTreeMap<ItemType, usize> = BTreeMap::new();
        let mut p = vec![0.0; models.len()];
        let width = (bench.subjects - 1).to_string().len();
        for item in 0..bench.items {
            // Subjects take contiguous, near-equal blocks of items.
            let subject = item * bench.subjects / bench.items;
            let u: f64 = unit.sample(&mut rng);
            let item_type = if u < bench.share_never {
                ItemType::Never
            } else if u < bench.share_never + bench.share_saturated {
                ItemType::Saturated
            } else if u < bench.share_never + bench.share_saturated + bench.share_noisy {
                ItemType::Noisy
            } else {
                ItemType::Regular
            };
            *types.entry(item_type).or_default() += 1;
            match item_type {
                ItemType::Regular => {
                    let delta = normal(
                        bench.difficulty.mean + subject_shift[subject],
                        bench.difficulty.sd,
                    )
                    .sample(&mut rng);
                    let s = slope.sample(&mut rng);
                    let h = rng.gen_range(bench.ceiling.min..=bench.ceiling.max);
                    for (pm, lc) in p.iter_mut().zip(&log_c) {
                        *pm = bench.guess + (h - bench.guess) * logistic(s * (lc - delta));
                    }
                }
                ItemType::Noisy => {
                    let base = rng.gen_range(bench.guess..=bench.noisy_max);
                    let noise = normal(0.0, bench.noisy_sd);
                    for pm in &mut p {
                        *pm = (base + noise.sample(&mut rng)).clamp(0.0, 1.0);
                    }
                }
                ItemType::Never => p.fill(0.0),
                ItemType::Saturated => {
                    let level = rng.gen_range(bench.saturated_min..=1.0);
                    p.fill(level);
                }
            }
            let id = format!("subject_{subject:0width$}/{item:05}");
            let attempts = match bench.kind {
                BenchmarkKind::MultipleChoice => 1,
                BenchmarkKind::Sampled | BenchmarkKind::Generation => scenario.samples,
            };
            for (m, model) in models.iter().enumerate() {
                let correct = Binomial::new(u64::from(attempts), p[m])
                    .context("pass probability out of range")?
                    .sample(&mut rng);
                sums[m] += p[m];
                rows.benchmark.push(bench.name.clone());
                rows.item.push(id.clone());
                rows.model.push(model.name.clone());
                rows.n_samples.push(attempts);
                rows.n_correct.push(correct as u32);
                probability.push(p[m]);
            }
        }
        truth.accuracy.insert(
            bench.name.clone(),
            models
                .iter()
                .zip(&sums)
                .map(|(m, s)| (m.name.clone(), s / bench.items as f64))
                .collect(),
        );
        truth.item_types.insert(bench.name.clone(), types);
    }
    Ok(Simulation {
        models,
        rows,
        probability,
        kinds: scenario
            .benchmarks
            .iter()
            .map(|b| (b.name.clone(), b.kind))
            .collect(),
        truth,
    })
}

/// Format of the written results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TableFormat {
    Parquet,
    Csv,
    /// lm-evaluation-harness `--log_samples` output: `lm-eval/<model>/samples_<task>_<ts>.jsonl`
    /// and `results_<ts>.json` per model (see the `lm_eval` module).
    LmEval,
}

/// Writes `items.parquet` (or `items.csv`), `models.toml` and `truth.json` into `dir`.
pub fn write(sim: &Simulation, dir: &Path, format: TableFormat) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    match format {
        TableFormat::Parquet => {
            cod_ingest::write_tidy_parquet(&dir.join("items.parquet"), &sim.rows)?;
        }
        TableFormat::Csv => write_csv(&dir.join("items.csv"), &sim.rows)?,
        TableFormat::LmEval => lm_eval::write(sim, &dir.join("lm-eval"))?,
    }
    cod_ingest::write_manifest(&dir.join("models.toml"), &sim.models)
        .with_context(|| format!("cannot write `{}`", dir.join("models.toml").display()))?;
    let truth = serde_json::to_string_pretty(&sim.truth)? + "\n";
    cod_artifact::write_atomically(&dir.join("truth.json"), |f| f.write_all(truth.as_bytes()))
        .with_context(|| format!("cannot write `{}`", dir.join("truth.json").display()))?;
    Ok(())
}

fn write_csv(path: &Path, rows: &TidyRows) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(path)
            .with_context(|| format!("cannot write `{}`", path.display()))?,
    );
    writeln!(out, "benchmark,item,model,n_samples,n_correct")?;
    for i in 0..rows.benchmark.len() {
        for field in [&rows.benchmark[i], &rows.item[i], &rows.model[i]] {
            if field.contains([',', '"', '\n']) {
                bail!("`{field}` cannot be written to CSV unquoted");
            }
        }
        writeln!(
            out,
            "{},{},{},{},{}",
            rows.benchmark[i], rows.item[i], rows.model[i], rows.n_samples[i], rows.n_correct[i]
        )?;
    }
    out.flush()?;
    Ok(())
}
