//! The committed fixtures are exactly what `cod-sim` generates from their scenarios.

use crate::support::root;

#[test]
fn mmlu_fixture_regenerates_bit_for_bit() {
    let dir = root().join("fixtures/mmlu");
    let scenario = cod_sim::Scenario::read(&dir.join("scenario.toml")).unwrap();
    let sim = cod_sim::simulate(&scenario).unwrap();
    let out = tempfile::tempdir().unwrap();
    cod_sim::write(&sim, out.path(), cod_sim::TableFormat::Parquet).unwrap();
    for file in ["items.parquet", "models.toml", "truth.json"] {
        let fresh = std::fs::read(out.path().join(file)).unwrap();
        let committed = std::fs::read(dir.join(file)).unwrap();
        assert!(
            fresh == committed,
            "fixtures/mmlu/{file} differs from what its scenario generates; run `just fixtures`"
        );
    }
}

#[test]
fn lm_eval_mini_fixture_regenerates_bit_for_bit() {
    let dir = root().join("fixtures/lm-eval-mini");
    let scenario = cod_sim::Scenario::read(&dir.join("scenario.toml")).unwrap();
    let sim = cod_sim::simulate(&scenario).unwrap();
    let out = tempfile::tempdir().unwrap();
    cod_sim::write(&sim, out.path(), cod_sim::TableFormat::LmEval).unwrap();
    let mut files = vec!["models.toml".to_owned(), "truth.json".to_owned()];
    for model in &sim.models {
        for entry in std::fs::read_dir(out.path().join("lm-eval").join(&model.name)).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            files.push(format!("lm-eval/{}/{name}", model.name));
        }
    }
    assert_eq!(files.len(), 2 + 5 * 6, "{files:?}");
    for file in files {
        let fresh = std::fs::read(out.path().join(&file)).unwrap();
        let committed = std::fs::read(dir.join(&file)).unwrap_or_default();
        assert!(
            fresh == committed,
            "fixtures/lm-eval-mini/{file} differs from what its scenario generates; run `just fixtures`"
        );
    }
}

#[test]
fn mmlu_fixture_matches_its_specification() {
    let sim = cod_sim::simulate(
        &cod_sim::Scenario::read(&root().join("fixtures/mmlu/scenario.toml")).unwrap(),
    )
    .unwrap();
    let items: std::collections::BTreeSet<&str> =
        sim.rows.item.iter().map(String::as_str).collect();
    assert_eq!(items.len(), 14_042);
    let subjects: std::collections::BTreeSet<&str> =
        items.iter().map(|i| i.split_once('/').unwrap().0).collect();
    assert_eq!(subjects.len(), 57);
    assert_eq!(sim.models.len(), 9);
    assert!(sim.rows.n_samples.iter().all(|&n| n == 100));
    let flops: Vec<f64> = sim.models.iter().map(|m| m.flops).collect();
    assert_eq!(
        flops,
        [
            3.99e19, 1.21e20, 3.08e20, 6.89e20, 1.39e21, 4.55e21, 5.05e22, 1.41e23, 3.81e24
        ]
    );
}

#[test]
fn simulator_is_seeded_and_deterministic() {
    let mut scenario =
        cod_sim::Scenario::read(&root().join("fixtures/mmlu/scenario.toml")).unwrap();
    scenario.benchmarks[0].items = 500;
    let a = cod_sim::simulate(&scenario).unwrap();
    let b = cod_sim::simulate(&scenario).unwrap();
    assert_eq!(a.rows, b.rows);
    scenario.seed += 1;
    let c = cod_sim::simulate(&scenario).unwrap();
    assert_ne!(a.rows.n_correct, c.rows.n_correct);
}
