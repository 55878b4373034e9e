//! Difficulty features (METHODS §1.1): each item's pass rates over the ladder models, ordered by
//! increasing compute. Items no ladder model ever solved are removed and counted. The target and
//! anchors are never features.
//!
//! This crate reads no files but artifacts, and knows no input format.

use anyhow::bail;
use cod_artifact::{BenchmarkFeatures, EvalTable, Features, Role};
use cod_pipeline::{Code, Progress, Stage, StageBinary};
use serde::{Deserialize, Serialize};

/// Parameters of the `features` stage.
#[derive(Clone, Debug, Default, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct FeaturesParams {
    /// What items are clustered by: `pass-rate`, or `gold-probability`, the gold answer's
    /// probability exp(−loss) on benchmarks whose results carry the answer's loss (lm-eval
    /// multiple choice; with `loss = "gold-normalized"` at ingest, normalized over the choices).
    /// Benchmarks without losses keep their pass rates; the fits always use pass rates.
    #[arg(long, value_enum, default_value_t = Signal::PassRate)]
    #[serde(default)]
    pub signal: Signal,
}

/// The difficulty signal items are clustered by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Signal {
    #[default]
    PassRate,
    GoldProbability,
}

/// Computes difficulty features (pass rates) from an evaluation table.
pub fn compute(table: &EvalTable) -> anyhow::Result<Features> {
    compute_with(table, &FeaturesParams::default())
}

/// Computes difficulty features with the signal `params` chooses.
pub fn compute_with(table: &EvalTable, params: &FeaturesParams) -> anyhow::Result<Features> {
    let n_models = table.models.len();
    let mut ladder: Vec<usize> = (0..n_models)
        .filter(|&m| table.models[m].role == Role::Ladder)
        .collect();
    if ladder.len() < 2 {
        bail!(
            "the evaluation table has {} ladder model(s); features need at least 2",
            ladder.len()
        );
    }
    ladder.sort_by(|&a, &b| table.models[a].flops.total_cmp(&table.models[b].flops));

    let benchmarks = table
        .benchmarks
        .iter()
        .map(|bench| {
            let d = ladder.len();
            let losses = bench
                .loss
                .as_ref()
                .filter(|_| params.signal == Signal::GoldProbability);
            let mut gold = losses.map(|_| Vec::new());
            let mut items = Vec::new();
            let mut pass_rates = Vec::new();
            let mut all_zero_items = Vec::new();
            let mut sums = vec![0.0; d];
            for (i, id) in bench.items.iter().enumerate() {
                let start = pass_rates.len();
                for (k, &m) in ladder.iter().enumerate() {
                    let Some(rate) = bench.pass_rate(i, m, n_models) else {
                        bail!(
                            "benchmark `{}`, item `{id}`: no result for ladder model `{}`",
                            bench.name,
                            table.models[m].name
                        );
                    };
                    sums[k] += rate;
                    pass_rates.push(rate);
                }
                if pass_rates[start..].iter().all(|&r| r == 0.0) {
                    pass_rates.truncate(start);
                    all_zero_items.push(id.clone());
                } else {
                    items.push(id.clone());
                    if let (Some(gold), Some(losses)) = (gold.as_mut(), losses) {
                        for &m in &ladder {
                            let loss = losses[i * n_models + m];
                            if !(loss.is_finite() && loss >= 0.0) {
                                bail!(
                                    "benchmark `{}`, item `{id}`, model `{}`: the gold answer's \
                                     loss is {loss}, expected a number ≥ 0 (`signal = \
                                     \"gold-probability\"` needs one for every ladder result)",
                                    bench.name,
                                    table.models[m].name
                                );
                            }
                            gold.push((-loss).exp());
                        }
                    }
                }
            }
            let n = bench.items.len().max(1) as f64;
            Ok(BenchmarkFeatures {
                name: bench.name.clone(),
                items,
                pass_rates,
                all_zero_items,
                mean_pass_rate: sums.into_iter().map(|s| s / n).collect(),
                gold_probability: gold,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;

    Ok(Features {
        ladder: ladder.iter().map(|&m| table.models[m].clone()).collect(),
        benchmarks,
    })
}

/// Turns an `eval-table` artifact into a `features` artifact.
pub struct FeaturesStage;

impl Stage for FeaturesStage {
    type Params = FeaturesParams;
    type Inputs = (EvalTable,);
    type Output = Features;
    const KIND: &'static str = "features";
    const CODE: Code = Code::new("features", 2, &[]);

    fn run(
        params: &FeaturesParams,
        (table,): (EvalTable,),
        _progress: &Progress,
    ) -> anyhow::Result<Features> {
        compute_with(&table, params)
    }
}

/// `cod-features`, the stage's binary.
pub const BINARY: StageBinary = StageBinary {
    name: "cod-features",
    about: "Compute difficulty features: each item's pass rates over the ladder, by increasing \
            compute",
    long_about: "Items that no ladder model solved are removed and listed in the artifact.",
    inputs: &["input"],
    examples: &["cod-features --input out/mmlu/ingest.bin --output features.bin"],
};

#[cfg(test)]
mod tests {
    use cod_artifact::{BenchmarkEvals, Model};

    use super::*;

    fn table() -> EvalTable {
        // Models listed out of compute order, with a target in the middle of the manifest.
        let models = vec![
            Model::new("big", 4e6, 1e8, None, Role::Ladder),
            Model::new("target", 1e9, 1e10, None, Role::Target),
            Model::new("small", 1e6, 1e8, None, Role::Ladder),
        ];
        EvalTable {
            models,
            benchmarks: vec![BenchmarkEvals {
                name: "b".to_owned(),
                items: vec!["x".to_owned(), "zero".to_owned(), "y".to_owned()],
                n_samples: vec![10, 10, 10, 4, 4, 4, 2, 0, 2],
                n_correct: vec![8, 10, 2, 0, 4, 0, 1, 0, 0],
                loss: None,
                dropped_items: vec![],
            }],
            warnings: vec![],
        }
    }

    #[test]
    fn orders_by_compute_excludes_target_and_removes_all_zero_items() {
        let f = compute(&table()).unwrap();
        let names: Vec<_> = f.ladder.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["small", "big"]);
        let b = &f.benchmarks[0];
        assert_eq!(b.items, ["x", "y"]);
        assert_eq!(b.all_zero_items, ["zero"]);
        // Rows are (small, big): x = (2/10, 8/10), y = (0/2, 1/2).
        assert_eq!(b.pass_rates, [0.2, 0.8, 0.0, 0.5]);
        assert_eq!(b.row(1, 2), [0.0, 0.5]);
        // Means over all three items, the all-zero one included.
        assert_eq!(b.mean_pass_rate, [0.2 / 3.0, 1.3 / 3.0]);
    }

    #[test]
    fn gold_probability_is_clustered_where_losses_are_given() {
        let mut t = table();
        let loss = vec![0.1, 9.0, 0.5, 1.0, 9.0, 2.0, 0.2, 9.0, 0.3];
        t.benchmarks[0].loss = Some(loss);
        let gold = FeaturesParams {
            signal: Signal::GoldProbability,
        };
        let f = compute_with(&t, &gold).unwrap();
        let b = &f.benchmarks[0];
        // Rows (small, big) of the kept items x and y: exp(−loss) of columns 2 and 0; the pass
        // rates stay what the fits read.
        let want = [
            (-0.5f64).exp(),
            (-0.1f64).exp(),
            (-0.3f64).exp(),
            (-0.2f64).exp(),
        ];
        assert_eq!(b.gold_probability.as_deref(), Some(&want[..]));
        assert_eq!(b.difficulty(), want);
        assert_eq!(b.pass_rates, [0.2, 0.8, 0.0, 0.5]);
        // The default signal, or a benchmark without losses, clusters by pass rates.
        assert_eq!(compute(&t).unwrap().benchmarks[0].gold_probability, None);
        let mut no_loss = table();
        no_loss.benchmarks[0].loss = None;
        let plain = compute_with(&no_loss, &gold).unwrap();
        assert_eq!(plain.benchmarks[0].difficulty(), [0.2, 0.8, 0.0, 0.5]);
        // A ladder result without a loss is named.
        t.benchmarks[0].loss.as_mut().unwrap()[6] = f64::NAN;
        let err = compute_with(&t, &gold).unwrap_err().to_string();
        assert!(
            err.starts_with("benchmark `b`, item `y`, model `big`: the gold answer's loss is NaN"),
            "{err}"
        );
    }

    #[test]
    fn missing_ladder_result_is_an_error() {
        let mut t = table();
        t.benchmarks[0].n_samples[2] = 0;
        let err = compute(&t).unwrap_err().to_string();
        assert_eq!(
            err,
            "benchmark `b`, item `x`: no result for ladder model `small`"
        );
    }
}
