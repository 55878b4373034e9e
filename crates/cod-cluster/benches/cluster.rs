//! Clustering benchmarks, run by `just bench`; one scenario per process so peak memory is the
//! scenario's own.
//!
//!     cargo bench -p cod-cluster --bench cluster -- mmlu [RUNS] [SEEDING]
//!     cargo bench -p cod-cluster --bench cluster -- sim N D SEEDING [RUNS]
//!
//! Scenarios:
//! - `mmlu`: the fixture's features (`out/mmlu/features.bin`, written by `just pipeline mmlu`),
//!   13,642 × 8, improved MeanShift with bin seeding and with every point a seed (SEEDING `bins`,
//!   `all` or `both`, the default);
//! - `sim N D SEEDING [RUNS]`: N × D simulated pass rates, SEEDING `all`, `bins` or `both`; past
//!   20,000 items the bandwidth is estimated on 20,000 sampled items.
//!
//! Prints the median, min and max wall time over RUNS runs, the partition, the peak resident
//! memory of the process, and, where both seedings run, their adjusted Rand index.
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use cod_cluster::{ClusterMethod, Clustered, Method, Seeding};
use rand::{Rng, SeedableRng};

/// Pass rates of `n` items over `d` ladder models: logistic rises in log-compute from a 0.25
/// floor with random difficulty and slope, measured with 100 samples (normal approximation),
/// rounded to 0.01, plus 5% flat noisy items.
fn simulated(n: usize, d: usize, seed: u64) -> Vec<f64> {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let normal = |rng: &mut rand_xoshiro::Xoshiro256PlusPlus| {
        let (u, v): (f64, f64) = (rng.r#gen::<f64>().max(1e-300), rng.r#gen());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    };
    let mut out = Vec::with_capacity(n * d);
    for _ in 0..n {
        let noisy = rng.r#gen::<f64>() < 0.05;
        let delta = 0.7 + 0.35 * normal(&mut rng);
        let slope = (1.6f64.ln() + 0.45 * normal(&mut rng)).exp() * 3.5;
        let base = rng.gen_range(0.25..0.8);
        for m in 0..d {
            let x = m as f64 / (d - 1) as f64;
            let p: f64 = if noisy {
                base
            } else {
                0.25 + 0.7 / (1.0 + (-slope * (x - delta)).exp())
            };
            let rate = p + (p * (1.0 - p) / 100.0).sqrt() * normal(&mut rng);
            out.push((rate.clamp(0.0, 1.0) * 100.0).round() / 100.0);
        }
    }
    out
}

fn method(seeding: Seeding, samples: Option<usize>) -> Method {
    Method::ImprovedMeanShift {
        min_size: 10,
        radius: cod_cluster::RadiusRule {
            quantile: 0.1,
            cap: None,
            fixed: None,
            samples,
            seed: 0,
        },
        seeding,
    }
}

fn time(label: &str, runs: usize, points: &[f64], dim: usize, m: &Method) -> Clustered {
    let mut times: Vec<Duration> = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let out = m.cluster(points, dim).expect("clustering succeeds");
        times.push(start.elapsed());
        last = Some(out);
    }
    times.sort();
    let out = last.expect("at least one run");
    let outliers = out.partition.labels.iter().filter(|l| l.is_none()).count();
    println!(
        "{label}: n={} d={dim} runs={runs} median={:.3}s min={:.3}s max={:.3}s clusters={} outliers={outliers} radius={:.4}",
        points.len() / dim,
        times[times.len() / 2].as_secs_f64(),
        times[0].as_secs_f64(),
        times[times.len() - 1].as_secs_f64(),
        out.partition.centres.len(),
        out.radius.unwrap_or(f64::NAN),
    );
    out
}

/// Adjusted Rand index of two labelings, outliers counted as one more class.
fn adjusted_rand(a: &[Option<usize>], b: &[Option<usize>]) -> f64 {
    use std::collections::HashMap;
    let key = |l: Option<usize>| l.map_or(0, |x| x + 1);
    let mut table: HashMap<(usize, usize), u64> = HashMap::new();
    let mut rows: HashMap<usize, u64> = HashMap::new();
    let mut cols: HashMap<usize, u64> = HashMap::new();
    for (&x, &y) in a.iter().zip(b) {
        *table.entry((key(x), key(y))).or_default() += 1;
        *rows.entry(key(x)).or_default() += 1;
        *cols.entry(key(y)).or_default() += 1;
    }
    let pairs = |n: u64| (n * n.saturating_sub(1) / 2) as f64;
    let index: f64 = table.values().map(|&n| pairs(n)).sum();
    let sa: f64 = rows.values().map(|&n| pairs(n)).sum();
    let sb: f64 = cols.values().map(|&n| pairs(n)).sum();
    let expected = sa * sb / pairs(a.len() as u64);
    (index - expected) / (0.5 * (sa + sb) - expected)
}

fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "VmHWM: unknown".to_owned())
}

/// Times improved MeanShift with bin seeding, every point a seed, or both (`seeding`: `bins`,
/// `all` or `both`), bandwidth estimated on `samples` items when given; with both, prints how
/// far the partitions agree.
fn compare_seedings(
    label: &str,
    seeding: &str,
    runs: usize,
    points: &[f64],
    dim: usize,
    samples: Option<usize>,
) {
    let run = |name: &str, s: Seeding| {
        time(
            &format!("{label} {name}"),
            runs,
            points,
            dim,
            &method(s, samples),
        )
    };
    let binned = matches!(seeding, "bins" | "both").then(|| run("bin-seeding", Seeding::Bins));
    let exact = matches!(seeding, "all" | "both").then(|| run("every-seed", Seeding::All));
    if let (Some(a), Some(b)) = (exact, binned) {
        println!(
            "{label}: adjusted Rand index, bin seeding vs every seed: {:.4}",
            adjusted_rand(&a.partition.labels, &b.partition.labels)
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let scenario = args.first().map_or("mmlu", String::as_str);
    let runs: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(5);
    match scenario {
        "mmlu" => {
            let path = std::path::Path::new(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../out/mmlu/features.bin"
            ));
            let features: cod_artifact::Features = cod_artifact::read(path)
                .unwrap_or_else(|err| panic!("{err}; run `just pipeline mmlu` first"));
            let bench = &features.benchmarks[0];
            let dim = features.ladder.len();
            let seeding = args.get(2).map_or("both", String::as_str);
            compare_seedings("mmlu", seeding, runs, &bench.pass_rates, dim, None);
        }
        "sim" => {
            // sim N D SEEDING [RUNS]: SEEDING is `all`, `bins` or `both` (which also compares them).
            let n: usize = args
                .get(1)
                .and_then(|a| a.parse().ok())
                .expect("sim N D SEEDING [RUNS]");
            let dim: usize = args
                .get(2)
                .and_then(|a| a.parse().ok())
                .expect("sim N D SEEDING [RUNS]");
            let seeding = args.get(3).map_or("bins", String::as_str);
            let runs: usize = args.get(4).and_then(|r| r.parse().ok()).unwrap_or(3);
            let points = simulated(n, dim, n as u64);
            // The exact bandwidth is O(n²); past 20,000 items it is estimated on a sample.
            let samples = (n > 20_000).then_some(20_000);
            compare_seedings(
                &format!("sim{n}x{dim}"),
                seeding,
                runs,
                &points,
                dim,
                samples,
            );
        }
        other => panic!("unknown scenario `{other}`: expected `mmlu` or `sim N D SEEDING [RUNS]`"),
    }
    println!("{scenario}: {}", peak_memory());
}
