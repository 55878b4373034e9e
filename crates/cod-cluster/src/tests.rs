//! Cross-checks against scikit-learn and properties every partition must have.
#![allow(clippy::float_cmp)] // exact zeros are exact

use serde::Deserialize;

use crate::kdtree::squared_distance;
use crate::{
    ClusterMethod, Method, Partition, Seeding, estimate_bandwidth, improved_mean_shift, mean_shift,
};

#[derive(Deserialize)]
struct Reference {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    dim: usize,
    points: Vec<f64>,
    quantile: f64,
    min_size: usize,
    bandwidth: f64,
    radius: f64,
    meanshift_labels: Vec<i64>,
    improved_labels: Vec<i64>,
}

/// The improved MeanShift of a reference case at its radius and minimum size.
fn improved(case: &Case, seeding: Seeding) -> Partition {
    improved_mean_shift(&case.points, case.dim, case.radius, case.min_size, seeding)
}

fn reference() -> Vec<Case> {
    let text = include_str!("../testdata/sklearn_meanshift.json");
    serde_json::from_str::<Reference>(text).unwrap().cases
}

/// Labels renamed by order of first appearance, so two partitions into the same groups compare
/// equal whatever their ids. Outliers stay `None`.
fn canonical(labels: impl IntoIterator<Item = Option<usize>>) -> Vec<Option<usize>> {
    let mut names = std::collections::HashMap::new();
    labels
        .into_iter()
        .map(|l| {
            l.map(|l| {
                let next = names.len();
                *names.entry(l).or_insert(next)
            })
        })
        .collect()
}

fn from_sklearn(labels: &[i64]) -> Vec<Option<usize>> {
    canonical(labels.iter().map(|&l| usize::try_from(l).ok()))
}

/// Points whose assignment is decided by rounding alone: equidistant from two centres, or at
/// distance R from a centre, to 1e-9 relative. scikit-learn sums neighbours in its tree's order and
/// this crate in its own, so such points may fall either way in either implementation.
fn knife_edge(points: &[f64], dim: usize, centres: &[Vec<f64>], radius: f64) -> Vec<bool> {
    const TOL: f64 = 1e-9;
    points
        .chunks_exact(dim)
        .map(|p| {
            let mut d: Vec<f64> = centres
                .iter()
                .map(|c| squared_distance(p, c).sqrt())
                .collect();
            d.sort_by(f64::total_cmp);
            let tied = d.len() > 1 && (d[1] - d[0]) <= TOL * d[1].max(1e-300);
            let at_radius = d.iter().any(|&x| (x - radius).abs() <= TOL * radius);
            tied || at_radius
        })
        .collect()
}

/// Asserts the two labelings are the same partition on every point not on a knife edge, and that
/// knife-edge points are rare (they exist only in the grid case, by construction).
fn assert_same_partition(
    case: &Case,
    centres: &[Vec<f64>],
    ours: &[Option<usize>],
    theirs: &[i64],
) {
    let edge = knife_edge(&case.points, case.dim, centres, case.radius);
    let keep = |labels: Vec<Option<usize>>| -> Vec<Option<usize>> {
        canonical(
            labels
                .into_iter()
                .zip(&edge)
                .filter(|(_, e)| !**e)
                .map(|(l, _)| l),
        )
    };
    let n_edge = edge.iter().filter(|&&e| e).count();
    assert!(
        n_edge == 0 || case.name.starts_with("grid"),
        "{}: {n_edge} knife-edge points",
        case.name
    );
    assert_eq!(
        keep(ours.to_vec()),
        keep(from_sklearn(theirs)),
        "{} ({n_edge} knife-edge points excluded)",
        case.name
    );
}

#[test]
fn bandwidth_matches_scikit_learn() {
    for case in reference() {
        let b = estimate_bandwidth(&case.points, case.dim, case.quantile);
        // Summation order differs from NumPy's; 1e-12 relative is far below anything that moves a
        // point across the radius in these cases.
        assert!(
            (b - case.bandwidth).abs() <= 1e-12 * case.bandwidth,
            "{}: {b} vs {}",
            case.name,
            case.bandwidth
        );
    }
}

#[test]
fn meanshift_partitions_match_scikit_learn() {
    for case in reference() {
        let shift = mean_shift(&case.points, case.dim, case.radius, Seeding::All);
        assert_same_partition(&case, &shift.centres, &shift.labels, &case.meanshift_labels);
    }
}

#[test]
fn improved_meanshift_partitions_match_scikit_learn() {
    for case in reference() {
        let p = improved(&case, Seeding::All);
        assert_same_partition(&case, &p.centres, &p.labels, &case.improved_labels);
        let clustered = case.improved_labels.iter().filter(|&&l| l >= 0).count();
        // The 11 × 11 grid has no 10 points within R of a mode; every other case clusters.
        assert!(
            clustered > 0 || case.name.starts_with("grid"),
            "{}: the reference clusters nothing",
            case.name
        );
    }
}

/// The method's own radius rule must pick the reference radius.
#[test]
fn radius_rule_matches_reference() {
    for case in reference() {
        let method = Method::ImprovedMeanShift {
            min_size: case.min_size,
            radius: crate::methods::RadiusRule {
                quantile: case.quantile,
                cap: None,
                fixed: None,
                samples: None,
                seed: 0,
            },
            seeding: Seeding::All,
        };
        let out = method.cluster(&case.points, case.dim).unwrap();
        let r = out.radius.unwrap();
        assert!(
            (r - case.radius).abs() <= 1e-12 * case.radius,
            "{}",
            case.name
        );
        let p = &out.partition;
        assert_same_partition(&case, &p.centres, &p.labels, &case.improved_labels);
    }
}

fn check_properties(points: &[f64], dim: usize, radius: f64, min_size: usize, p: &Partition) {
    let mut size = vec![0; p.centres.len()];
    for (x, label) in points.chunks_exact(dim).zip(&p.labels) {
        if let Some(c) = *label {
            size[c] += 1;
            let d = squared_distance(x, &p.centres[c]).sqrt();
            assert!(
                d <= radius * (1.0 + 1e-12),
                "a member lies {d} from its centre, R = {radius}"
            );
        }
    }
    assert!(
        size.iter().all(|&s| s >= min_size),
        "cluster sizes {size:?}, K = {min_size}"
    );
}

#[test]
fn improved_meanshift_properties_hold() {
    for case in reference() {
        let p = improved(&case, Seeding::All);
        check_properties(&case.points, case.dim, case.radius, case.min_size, &p);
    }
}

#[test]
fn labels_do_not_depend_on_thread_count() {
    let case = reference()
        .into_iter()
        .find(|c| c.name == "pass-rates-8d")
        .unwrap();
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| improved_mean_shift(&case.points, case.dim, case.radius, 10, Seeding::All))
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(4));
}

#[test]
fn permuting_rows_permutes_labels_only() {
    for case in reference() {
        let (d, n) = (case.dim, case.points.len() / case.dim);
        // A fixed permutation: i → (i·7 + 3) mod n when coprime, else reversal.
        let perm: Vec<usize> = if gcd(7, n) == 1 {
            (0..n).map(|i| (i * 7 + 3) % n).collect()
        } else {
            (0..n).rev().collect()
        };
        let shuffled: Vec<f64> = perm
            .iter()
            .flat_map(|&i| case.points[i * d..(i + 1) * d].iter().copied())
            .collect();
        let a = improved_mean_shift(&case.points, d, case.radius, case.min_size, Seeding::All);
        let b = improved_mean_shift(&shuffled, d, case.radius, case.min_size, Seeding::All);
        let a_perm: Vec<Option<usize>> = perm.iter().map(|&i| a.labels[i]).collect();
        assert_eq!(
            canonical(a_perm),
            canonical(b.labels.clone()),
            "{}",
            case.name
        );
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[test]
fn edge_cases_give_results_not_panics() {
    // Fewer than K points: nothing clusters.
    let few = [0.1, 0.2, 0.3];
    let p = improved_mean_shift(&few, 1, 0.5, 10, Seeding::All);
    assert_eq!(p.labels, [None, None, None]);
    // All points identical: the bandwidth is 0 and they form one cluster.
    let same = vec![0.4; 2 * 30];
    assert_eq!(estimate_bandwidth(&same, 2, 0.1), 0.0);
    let p = improved_mean_shift(&same, 2, 0.0, 10, Seeding::All);
    assert_eq!(p.labels, vec![Some(0); 30]);
    // No points at all.
    let p = improved_mean_shift(&[], 3, 0.1, 10, Seeding::All);
    assert!(p.labels.is_empty() && p.centres.is_empty());
    // d = 1, two well separated groups of 12.
    let mut line: Vec<f64> = (0..12).map(|i| 0.1 + f64::from(i) * 0.001).collect();
    line.extend((0..12).map(|i| 0.8 + f64::from(i) * 0.001));
    let p = improved_mean_shift(&line, 1, 0.05, 10, Seeding::All);
    let mut want = vec![Some(0); 12];
    want.extend(vec![Some(1); 12]);
    assert_eq!(canonical(p.labels), want);
}

#[test]
fn kmeans_dbscan_and_improved_kmeans_find_separated_blobs() {
    // Three tight, well separated blobs of 20 points in 2-d: every method must recover them.
    let mut points = Vec::new();
    for (cx, cy) in [(0.1, 0.1), (0.5, 0.9), (0.9, 0.2)] {
        for i in 0..20 {
            let t = f64::from(i) / 20.0;
            points.extend([cx + 0.01 * (t * 6.3).cos(), cy + 0.01 * (t * 6.3).sin()]);
        }
    }
    let mut want = vec![Some(0); 20];
    want.extend(vec![Some(1); 20]);
    want.extend(vec![Some(2); 20]);
    let methods = [
        Method::KMeans { k: 3, seed: 1 },
        Method::Dbscan {
            eps: Some(0.05),
            radius: crate::methods::RadiusRule {
                quantile: 0.1,
                cap: None,
                fixed: None,
                samples: None,
                seed: 0,
            },
            min_size: 5,
        },
        // K = 15: k = 3 leaves 20 per cluster; k = 4 must split a blob below 15.
        Method::ImprovedKMeans {
            min_size: 15,
            seed: 1,
        },
    ];
    for method in methods {
        let out = method.cluster(&points, 2).unwrap();
        assert_eq!(
            canonical(out.partition.labels),
            want,
            "{}",
            method.describe()
        );
    }
}

#[test]
fn bin_seeding_on_reference_cases_keeps_the_properties() {
    for case in reference() {
        let p = improved(&case, Seeding::Bins);
        check_properties(&case.points, case.dim, case.radius, case.min_size, &p);
    }
}
