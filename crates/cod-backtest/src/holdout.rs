//! Removing models from an eval table: what a holdout must never read is never handed on.

use cod_artifact::{BenchmarkEvals, EvalTable};

/// One benchmark's matrices with only the model columns `keep` (indices into the `n_models`
/// columns, in the order given).
fn drop_columns(bench: &BenchmarkEvals, n_models: usize, keep: &[usize]) -> BenchmarkEvals {
    fn select<T: Copy>(matrix: &[T], n_models: usize, keep: &[usize]) -> Vec<T> {
        if n_models == 0 {
            return Vec::new();
        }
        matrix
            .chunks_exact(n_models)
            .flat_map(|row| keep.iter().map(|&m| row[m]))
            .collect()
    }
    BenchmarkEvals {
        name: bench.name.clone(),
        items: bench.items.clone(),
        n_samples: select(&bench.n_samples, n_models, keep),
        n_correct: select(&bench.n_correct, n_models, keep),
        loss: bench.loss.as_ref().map(|l| select(l, n_models, keep)),
        dropped_items: bench.dropped_items.clone(),
    }
}

/// The eval table without the models at `drop` (indices into `table.models`): their entries in
/// the model list and their columns in every benchmark's matrices are gone; the other models keep
/// their order.
#[must_use]
pub fn drop_models(table: &EvalTable, drop: &[usize]) -> EvalTable {
    let n_models = table.models.len();
    let keep: Vec<usize> = (0..n_models).filter(|m| !drop.contains(m)).collect();
    EvalTable {
        models: keep.iter().map(|&m| table.models[m].clone()).collect(),
        benchmarks: table
            .benchmarks
            .iter()
            .map(|b| drop_columns(b, n_models, &keep))
            .collect(),
        warnings: table.warnings.clone(),
    }
}

#[cfg(test)]
mod tests {
    use cod_artifact::{Model, Role};

    use super::*;

    /// A table of 3 items × 4 models whose cell (i, m) holds 10·i + m, so every column can be
    /// traced.
    fn table() -> EvalTable {
        let names = ["a", "b", "c", "d"];
        let models = names
            .iter()
            .map(|n| Model::new(n, 1e6, 1e8, None, Role::Ladder))
            .collect();
        let cells: Vec<u32> = (0..3)
            .flat_map(|i| (0..4).map(move |m| 10 * i + m))
            .collect();
        EvalTable {
            models,
            benchmarks: vec![BenchmarkEvals {
                name: "x".to_owned(),
                items: vec!["i0".to_owned(), "i1".to_owned(), "i2".to_owned()],
                n_samples: cells.iter().map(|c| c + 100).collect(),
                n_correct: cells.clone(),
                loss: Some(cells.iter().map(|&c| f64::from(c) / 2.0).collect()),
                dropped_items: vec!["gone".to_owned()],
            }],
            warnings: vec!["w".to_owned()],
        }
    }

    fn check(drop: &[usize], names: &[&str], correct: &[u32]) {
        let t = drop_models(&table(), drop);
        let kept: Vec<&str> = t.models.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(kept, names);
        let b = &t.benchmarks[0];
        assert_eq!(b.n_correct, correct);
        let samples: Vec<u32> = correct.iter().map(|c| c + 100).collect();
        assert_eq!(b.n_samples, samples);
        let loss: Vec<f64> = correct.iter().map(|&c| f64::from(c) / 2.0).collect();
        assert_eq!(b.loss.as_deref(), Some(loss.as_slice()));
        assert_eq!(b.items, ["i0", "i1", "i2"]);
        assert_eq!(b.dropped_items, ["gone"]);
        assert_eq!(t.warnings, ["w"]);
        // Every remaining cell reads the same through the new indices.
        for (new, name) in names.iter().enumerate() {
            let old = ["a", "b", "c", "d"].iter().position(|n| n == name).unwrap();
            for i in 0..3 {
                assert_eq!(
                    b.pass_rate(i, new, names.len()),
                    table().benchmarks[0].pass_rate(i, old, 4)
                );
            }
        }
    }

    #[test]
    fn drops_the_columns_of_the_dropped_models_only() {
        check(
            &[],
            &["a", "b", "c", "d"],
            &[0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23],
        );
        check(&[1], &["a", "c", "d"], &[0, 2, 3, 10, 12, 13, 20, 22, 23]);
        check(&[3, 0], &["b", "c"], &[1, 2, 11, 12, 21, 22]);
        check(&[0, 1, 2, 3], &[], &[]);
    }

    #[test]
    fn a_table_without_losses_stays_without() {
        let mut t = table();
        t.benchmarks[0].loss = None;
        assert_eq!(drop_models(&t, &[2]).benchmarks[0].loss, None);
    }
}
