//! The bigg pipeline on the real BIG-G data in `../shared/data` (or `$COD_DATA`).

use crate::support::{Project, root, shared_data};

#[test]
fn bigg_pipeline_runs_on_the_real_data() {
    let data = shared_data("bigg/items.csv");
    let p = Project::new();
    let pipeline = root().join("pipelines/bigg.toml");
    let out = p.run(
        std::process::Command::new(env!("CARGO_BIN_EXE_cod"))
            .args(["pipeline", "run", &pipeline.display().to_string()])
            .env("COD_DATA", &data),
    );
    assert!(out.ok, "{}", out.stderr);
    let json = std::fs::read_to_string(p.path().join("out/bigg/predictions.json")).unwrap();
    let table: serde_json::Value = serde_json::from_str(&json).unwrap();
    let benchmarks = table.as_object().unwrap();
    // 82 tasks and their union.
    assert_eq!(benchmarks.len(), 83);
    // The data README: accuracy over all items is 0.338 for the 8b target.
    let actual = table["all-tasks"]["cod"]["actual"].as_f64().unwrap();
    assert!((actual - 0.338).abs() < 0.0005, "{actual}");
    // The report plots the union and the first 4 tasks, and lists every benchmark.
    let html = std::fs::read_to_string(p.path().join("out/bigg/report.html")).unwrap();
    // The recommendation, the summary and the 5 plotted benchmarks.
    assert_eq!(html.matches("<section id=").count(), 2 + 5);
    assert!(html.contains("<section id=\"b-all-tasks\">"));
    assert!(html.contains("Recommended: all-tasks: "), "{html}");
    // Every benchmark's first row is its recommendation, weighted from the backtest or, where the
    // combination did no better than no-change there, no-change; with a calibrated interval that
    // holds its prediction.
    let csv = std::fs::read_to_string(p.path().join("out/bigg/predictions.csv")).unwrap();
    let mut first: Vec<(&str, &str)> = Vec::new();
    for line in csv.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        if first.last().is_none_or(|(b, _)| *b != cells[0]) {
            first.push((cells[0], cells[1]));
        }
    }
    assert_eq!(first.len(), 83);
    assert!(first.iter().all(|(_, m)| *m == "recommended"), "{first:?}");
    let mut chosen = std::collections::BTreeSet::new();
    for (name, methods) in benchmarks {
        let r = &methods["recommended"];
        let method = r["chosen"].as_str().unwrap();
        chosen.insert(method);
        match method {
            "weighted" => {}
            "no-change" => assert_eq!(r["prediction"], methods["no-change"]["prediction"]),
            _ => panic!("{name}: chosen {method}"),
        }
        let (lo, hi) = (r["interval"][0].as_f64(), r["interval"][1].as_f64());
        let p = r["prediction"].as_f64().unwrap();
        assert!(lo.unwrap() <= p && p <= hi.unwrap(), "{name}: {r}");
    }
    assert_eq!(chosen.len(), 2, "{chosen:?}");
    let md = std::fs::read_to_string(p.path().join("out/bigg/report.md")).unwrap();
    assert!(
        md.contains("Plots are drawn for 5 of the 83 benchmarks"),
        "{md}"
    );
    for name in benchmarks.keys() {
        let name = name.replace('_', "\\_");
        assert!(
            md.contains(&format!("\n| {name} |")),
            "{name} not in report.md"
        );
    }
    // Every task gets an end-to-end prediction; COD predicts only where a cluster extrapolates.
    for (name, methods) in benchmarks {
        assert!(
            methods["end-to-end-passrate"]["prediction"].is_number(),
            "{name}"
        );
    }
    // The backtest holds out big-g-4b, then big-g-2b and big-g-4b: a row per held-out model,
    // benchmark and method.
    let csv = std::fs::read_to_string(p.path().join("out/bigg/backtest.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    // 11 methods: see `simulated_backtest_predicts_the_held_out_models_from_the_smaller_ones`.
    assert_eq!(rows.len(), 3 * 83 * 11);
    for row in &rows {
        let held: &[&str] = if row[0] == "1" {
            &["big-g-4b"]
        } else {
            &["big-g-2b", "big-g-4b"]
        };
        assert!(held.contains(&row[1]), "{row:?}");
    }
    // The end-to-end (passrate) baseline is scored on every benchmark of every holdout.
    let scored = rows
        .iter()
        .filter(|r| r[3] == "end-to-end-passrate" && !r[6].is_empty())
        .count();
    assert_eq!(scored, 3 * 83);
}
