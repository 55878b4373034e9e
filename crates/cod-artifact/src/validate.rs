//! Checks shared by the artifacts' [`crate::Artifact::validate`]: each error says what is wrong
//! where, for the file's "not a valid artifact" message.

/// `len` must be `expected`.
pub(crate) fn length(len: usize, expected: usize, what: &str) -> Result<(), String> {
    if len == expected {
        Ok(())
    } else {
        Err(format!("{what} has {len} values, expected {expected}"))
    }
}

/// `values` must be a `rows × cols` matrix.
pub(crate) fn matrix(values: &[f64], rows: usize, cols: usize, what: &str) -> Result<(), String> {
    let cells = rows.checked_mul(cols).ok_or("too many cells")?;
    if values.len() == cells {
        Ok(())
    } else {
        Err(format!(
            "{what} has {} cells, expected {rows} × {cols} = {cells}",
            values.len()
        ))
    }
}

/// Every value must be a fraction in [0, 1].
pub(crate) fn fractions(values: &[f64], what: &str) -> Result<(), String> {
    match values.iter().find(|v| !(0.0..=1.0).contains(*v)) {
        None => Ok(()),
        Some(v) => Err(format!("{what} holds {v}, expected values in [0, 1]")),
    }
}

/// An interval's ends must be finite and in order.
pub(crate) fn interval((lo, hi): (f64, f64), what: &str) -> Result<(), String> {
    if lo.is_finite() && hi.is_finite() && lo <= hi {
        Ok(())
    } else {
        Err(format!(
            "{what}: interval ({lo}, {hi}) is not finite and ordered"
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::{
        BenchmarkClusters, BenchmarkFeatures, Cluster, Clusters, Features, Model, Role, decode,
        encode,
    };

    fn ladder() -> Vec<Model> {
        vec![
            Model::new("a", 1e6, 2e7, None, Role::Ladder),
            Model::new("b", 4e6, 8e7, None, Role::Ladder),
        ]
    }

    fn invalid<A: crate::Artifact>(artifact: &A) -> String {
        decode::<A>(&encode(artifact).unwrap(), Path::new("x.bin"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    /// Issue: checksum-valid artifacts whose lengths disagree reached readers that index them.
    /// Features whose matrix is short, or hold a pass rate above 1, are refused on decoding.
    #[test]
    fn features_with_a_short_matrix_or_a_rate_above_one_are_invalid() {
        let mut features = Features {
            ladder: ladder(),
            benchmarks: vec![BenchmarkFeatures {
                name: "b".into(),
                items: vec!["i".into()],
                pass_rates: vec![0.5],
                all_zero_items: vec![],
                mean_pass_rate: vec![0.5, 0.6],
                gold_probability: None,
            }],
        };
        assert_eq!(
            invalid(&features),
            "`x.bin` is not a valid `features` artifact: benchmark `b`: `pass_rates` has 1 cells, \
             expected 1 × 2 = 2"
        );
        features.benchmarks[0].pass_rates = vec![0.5, 1.5];
        assert!(invalid(&features).ends_with("`pass_rates` holds 1.5, expected values in [0, 1]"));
        features.benchmarks[0].pass_rates = vec![0.5, 1.0];
        assert_eq!(invalid(&features), "");
    }

    /// A label past the last cluster, or a size that disagrees with the labels, is refused.
    #[test]
    fn clusters_with_a_label_out_of_range_are_invalid() {
        let mut clusters = Clusters {
            method: "m".into(),
            ladder: ladder(),
            benchmarks: vec![BenchmarkClusters {
                name: "b".into(),
                items: vec!["i".into(), "j".into()],
                labels: vec![Some(0), Some(1)],
                all_zero_items: vec![],
                bandwidth: None,
                radius: None,
                clusters: vec![Cluster {
                    centre: vec![0.1, 0.2],
                    size: 2,
                    iad: 0.0,
                }],
                unseen_items: vec![],
            }],
        };
        assert!(
            invalid(&clusters).ends_with("item `j` is in cluster 1, but there are 1 clusters"),
            "{}",
            invalid(&clusters)
        );
        clusters.benchmarks[0].labels[1] = None;
        assert!(
            invalid(&clusters).ends_with("cluster 0 has size 2, but 1 items are labelled with it")
        );
        clusters.benchmarks[0].labels[1] = Some(0);
        assert_eq!(invalid(&clusters), "");
    }
}
