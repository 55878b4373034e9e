//! Every bad input gets one clear error naming the file and line, and leaves no artifact behind.

use crate::support::{Project, TINY_ITEMS, TINY_MODELS};

/// Runs the tiny pipeline on `items` and `models`, expects failure with `expected` on standard
/// error, and checks nothing was written.
fn check(items: &str, models: &str, extra: &[&str], expected: &str) {
    let p = Project::tiny();
    p.write("items.csv", items);
    p.write("models.toml", models);
    let mut args = vec!["pipeline", "run", "tiny.toml"];
    args.extend_from_slice(extra);
    let out = p.cod(&args);
    assert!(!out.ok, "expected failure, got:\n{}", out.stdout);
    assert_eq!(out.stderr.trim(), expected);
    assert!(p.cached_objects().is_empty(), "an artifact was cached");
    assert!(!p.path().join("out/tiny/ingest.bin").exists());
    let leftovers: Vec<_> = std::fs::read_dir(p.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(".cod-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn items_with(from: &str, to: &str) -> String {
    assert!(TINY_ITEMS.contains(from));
    TINY_ITEMS.replacen(from, to, 1)
}

/// With `strict = true`, a row of a model the manifest does not list is an error; by default it
/// is skipped and counted (real folders hold more models than one ladder).
#[test]
fn unknown_model() {
    check(
        &items_with("arith,a1,m,10,4", "arith,a1,xl,10,4"),
        TINY_MODELS,
        &["--set", "ingest.strict=true"],
        "error: stage `ingest` failed\n  caused by: `[TMP]/items.csv`:3: unknown model `xl` (`strict = true`); the manifest lists `s`, `m`, `l`, `t`",
    );
    let p = Project::tiny();
    p.write(
        "items.csv",
        &format!("{TINY_ITEMS}arith,a1,xl,10,4\nwords,w1,xl,1,1\n"),
    );
    let out = p.cod(&["pipeline", "run", "tiny.toml", "--until", "ingest"]);
    assert!(out.ok, "{}", out.stderr);
    assert!(
        out.stderr.contains("warning: skipped 2 rows of 1 model(s) the manifest does not list: `xl` (2); `strict = true` makes this an error"),
        "{}",
        out.stderr
    );
}

/// A manifest may give FLOPs without tokens (D is then C / 6N); with neither it is an error. Per-
/// item pipelines take one target.
#[test]
fn manifests_with_flops_only_and_with_two_targets() {
    let p = Project::tiny();
    p.write(
        "models.toml",
        &TINY_MODELS.replace("tokens = 3.2e8\nflops = 3e16", "flops = 3e16"),
    );
    let out = p.cod(&["pipeline", "run", "tiny.toml", "--until", "ingest"]);
    assert!(out.ok, "{}", out.stderr);
    check(
        TINY_ITEMS,
        &TINY_MODELS.replace("tokens = 3.2e8\nflops = 3e16", ""),
        &[],
        "error: stage `ingest` failed\n  caused by: `[TMP]/models.toml`: model 3 (`l`): no `tokens`; give the training tokens D, or the compute `flops`",
    );
}

#[test]
fn more_correct_than_samples() {
    check(
        &items_with("arith,a3,s,10,3", "arith,a3,s,10,11"),
        TINY_MODELS,
        &[],
        "error: stage `ingest` failed\n  caused by: `[TMP]/items.csv`:10: `n_correct` (11) exceeds `n_samples` (10)",
    );
}

/// A header that names a column twice says so, not that a `…_duplicated_0` column is unexpected.
#[test]
fn duplicated_header_column_is_named() {
    check(
        "benchmark,item,model,n_samples,n_correct,n_correct\narith,a1,s,1,0,0\n",
        TINY_MODELS,
        &[],
        "error: stage `ingest` failed\n  caused by: `[TMP]/items.csv`: column `n_correct` appears more than once in the header; expected each of benchmark,item,model,n_samples,n_correct (optional: loss) once",
    );
}

/// 2^64 does not fit a count: say it is out of range, not that it is not a whole number; and a
/// long bad value is quoted to 80 characters.
#[test]
fn count_out_of_range_is_said_so() {
    check(
        &items_with("words,w2,m,1,0", "words,w2,m,18446744073709551616,0"),
        TINY_MODELS,
        &[],
        "error: stage `ingest` failed\n  caused by: `[TMP]/items.csv`:18: `n_samples` is out of range: a count is at most 4294967295, found `18446744073709551616`",
    );
    check(
        &items_with("words,w2,m,1,0", "words,w2,m,4294967296,0"),
        TINY_MODELS,
        &[],
        "error: stage `ingest` failed\n  caused by: `[TMP]/items.csv`:18: `n_samples` is out of range: a count is at most 4294967295, found `4294967296`",
    );
    let long = "x".repeat(300);
    check(
        &items_with("words,w2,m,1,0", &format!("words,w2,m,{long},0")),
        TINY_MODELS,
        &[],
        &format!(
            "error: stage `ingest` failed\n  caused by: `[TMP]/items.csv`:18: `n_samples` must be a whole number, found `{}…`",
            "x".repeat(80)
        ),
    );
}

#[test]
fn negative_and_fractional_counts() {
    check(
        &items_with("words,w2,m,1,0", "words,w2,m,1,-1"),
        TINY_MODELS,
        &[],
        "error: stage `ingest` failed\n  caused by: `[TMP]/items.csv`:18: `n_correct` must be a non-negative count, found -1",
    );
    check(
        &items_with("words,w2,m,1,0", "words,w2,m,1.5,0"),
        TINY_MODELS,
        &[],
        "error: stage `ingest` failed\n  caused by: `[TMP]/items.csv`:18: `n_samples` must be a whole number, found `1.5`",
    );
    check(
        &items_with("words,w2,m,1,0", "words,w2,m,0,0"),
        TINY_MODELS,
        &[],
        "error: stage `ingest` failed\n  caused by: `[TMP]/items.csv`:18: `n_samples` must be at least 1, found 0",
    );
}

#[test]
fn duplicate_result() {
    check(
        &format!("{TINY_ITEMS}arith,a1,m,10,5\n"),
        TINY_MODELS,
        &[],
        "error: stage `ingest` failed\n  caused by: `[TMP]/items.csv`:20: duplicate result for benchmark `arith`, item `a1`, model `m`; first given at `[TMP]/items.csv`:3",
    );
}

#[test]
fn missing_ladder_result_is_an_error_by_default() {
    check(
        &items_with("words,w2,m,1,0\n", ""),
        TINY_MODELS,
        &[],
        "error: stage `ingest` failed\n  caused by: `[TMP]/items.csv`: benchmark `words`, item `w2`: no result for ladder model(s) `m`; 1 of 2 items are incomplete (set `missing = \"drop\"` to drop them, with a count)",
    );
}

#[test]
fn missing_ladder_result_can_be_dropped_and_counted() {
    let p = Project::tiny();
    p.write("items.csv", &items_with("words,w2,m,1,0\n", ""));
    let out = p.cod(&[
        "pipeline",
        "run",
        "tiny.toml",
        "--set",
        "ingest.missing=drop",
    ]);
    assert!(out.ok, "{}", out.stderr);
    let show = p.cod(&["artifact", "show", "out/tiny/ingest.bin"]);
    assert!(
        show.stdout
            .contains("benchmark words: 1 items, 1 dropped for missing ladder results"),
        "{}",
        show.stdout
    );
    let json = p.cod(&["artifact", "show", "out/tiny/ingest.bin", "--json"]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        value["benchmarks"][1]["dropped_items"],
        serde_json::json!(["w2"])
    );
}

#[test]
fn malformed_tables() {
    check(
        "benchmark,item,model,n_samples\narith,a1,s,10\n",
        TINY_MODELS,
        &[],
        "error: stage `ingest` failed\n  caused by: `[TMP]/items.csv`: missing column `n_correct`; expected columns benchmark,item,model,n_samples,n_correct (optional: loss), found benchmark,item,model,n_samples",
    );
    check(
        "benchmark,item,model,n_samples,n_correct\n",
        TINY_MODELS,
        &[],
        "error: stage `ingest` failed\n  caused by: `[TMP]/items.csv`: no rows",
    );
    check(
        &items_with("arith,a3,m,10,2", "arith,,m,10,2"),
        TINY_MODELS,
        &[],
        "error: stage `ingest` failed\n  caused by: `[TMP]/items.csv`:9: column `item` is empty",
    );
    check(
        &TINY_ITEMS.replace("n_correct\n", "n_correct,subject\n"),
        TINY_MODELS,
        &[],
        "error: stage `ingest` failed\n  caused by: `[TMP]/items.csv`: unexpected column `subject`; expected columns benchmark,item,model,n_samples,n_correct (optional: loss)",
    );
}

#[test]
fn bad_manifest_names_file_and_field() {
    check(
        TINY_ITEMS,
        &TINY_MODELS.replace("tokens = 8e7", "tokens = 0"),
        &[],
        "error: stage `ingest` failed\n  caused by: `[TMP]/models.toml`: model 2 (`m`): `tokens` must be a positive number, found 0",
    );
}

#[test]
fn bad_pipeline_values_name_the_file_and_key() {
    check(
        TINY_ITEMS,
        TINY_MODELS,
        &["--set", "ingest.mising=drop"],
        "error: `tiny.toml`: stage `ingest`: unknown field `mising`, expected one of `path`, `manifest`, `missing`, `union`, `strict`",
    );
    check(
        TINY_ITEMS,
        TINY_MODELS,
        &["--set", "ingest.missing=skip"],
        "error: `tiny.toml`: stage `ingest`: unknown variant `skip`, expected `error` or `drop`",
    );
    check(
        TINY_ITEMS,
        TINY_MODELS,
        &["--set", "nope.path=x"],
        "error: `tiny.toml`: `--set nope.path`: no table `[nope]` in the pipeline",
    );
    check(
        TINY_ITEMS,
        TINY_MODELS,
        &["--set", "ingest.path=absent.csv"],
        "error: stage `ingest`: cannot read `[TMP]/absent.csv`\n  caused by: No such file or directory (os error 2)",
    );
}

#[test]
fn parquet_errors_name_the_row() {
    let p = Project::tiny();
    let mut rows = cod_ingest::TidyRows::default();
    for (item, model, n, k) in [("a", "s", 5, 1), ("a", "m", 5, 2), ("a", "l", 5, 6)] {
        rows.benchmark.push("b".into());
        rows.item.push(item.into());
        rows.model.push(model.into());
        rows.n_samples.push(n);
        rows.n_correct.push(k);
    }
    cod_ingest::write_tidy_parquet(&p.path().join("items.parquet"), &rows).unwrap();
    let out = p.cod(&[
        "pipeline",
        "run",
        "tiny.toml",
        "--set",
        "ingest.path=items.parquet",
    ]);
    assert!(!out.ok);
    assert_eq!(
        out.stderr.trim(),
        "error: stage `ingest` failed\n  caused by: `[TMP]/items.parquet`: row 3: `n_correct` (6) exceeds `n_samples` (5)"
    );
    assert!(p.cached_objects().is_empty());
}

#[test]
fn csv_and_parquet_give_the_same_artifact() {
    let p = Project::tiny();
    let mut rows = cod_ingest::TidyRows::default();
    for line in TINY_ITEMS.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        rows.benchmark.push(f[0].into());
        rows.item.push(f[1].into());
        rows.model.push(f[2].into());
        rows.n_samples.push(f[3].parse().unwrap());
        rows.n_correct.push(f[4].parse().unwrap());
    }
    cod_ingest::write_tidy_parquet(&p.path().join("items.parquet"), &rows).unwrap();
    assert!(p.cod(&["pipeline", "run", "tiny.toml", "--out", "csv"]).ok);
    let out = p.cod(&[
        "pipeline",
        "run",
        "tiny.toml",
        "--out",
        "pq",
        "--set",
        "ingest.path=items.parquet",
    ]);
    assert!(out.ok, "{}", out.stderr);
    let csv = std::fs::read(p.path().join("csv/ingest.bin")).unwrap();
    let pq = std::fs::read(p.path().join("pq/ingest.bin")).unwrap();
    assert!(csv == pq);
}

#[test]
fn loss_must_be_finite_when_given() {
    let with_loss = TINY_ITEMS
        .replace("n_correct\n", "n_correct,loss\n")
        .replace("arith,a1,s,10,1\n", "arith,a1,s,10,1,inf\n");
    check(
        &with_loss,
        TINY_MODELS,
        &[],
        "error: stage `ingest` failed\n  caused by: `[TMP]/items.csv`:2: `loss` must be a finite number, found `inf`",
    );
}

/// An error quotes at most about 80 characters of any input line: a manifest that is not TOML
/// (a long first line) and a CSV with an unterminated quote give short messages.
#[test]
fn errors_quote_their_input_briefly() {
    let long_line = format!("root:x:0:0:{}\n", "r".repeat(5_000));
    let p = Project::tiny();
    p.write("models.toml", &long_line);
    let out = p.cod(&["pipeline", "run", "tiny.toml"]);
    assert!(!out.ok);
    assert!(out.stderr.contains("invalid manifest"), "{}", out.stderr);
    assert!(
        out.stderr.len() < 1_500,
        "{} bytes of stderr",
        out.stderr.len()
    );

    let p = Project::tiny();
    let mut csv = String::from("benchmark,item,model,n_samples,n_correct\narith,\"a1,s,1,0\n");
    for i in 0..20_000 {
        csv.push_str("arith,a");
        csv.push_str(&i.to_string());
        csv.push_str(",s,1,0\n");
    }
    p.write("items.csv", &csv);
    let out = p.cod(&["pipeline", "run", "tiny.toml"]);
    assert!(!out.ok);
    assert!(
        out.stderr.len() < 1_500,
        "{} bytes of stderr",
        out.stderr.len()
    );
}

/// Issue: too many fields, invalid UTF-8 and an unterminated quote gave polars' text without a
/// line. Each names its physical line and what was expected.
#[test]
fn unreadable_csv_names_the_line() {
    check(
        &items_with("arith,a3,m,10,2", "arith,a3,m,10,2,7"),
        TINY_MODELS,
        &[],
        "error: stage `ingest` failed\n  caused by: `[TMP]/items.csv`:9: expected 5 fields, as in the header, found 6",
    );
    check(
        &items_with("words,w1,m,1,1", "words,\"w1,m,1,1"),
        TINY_MODELS,
        &[],
        "error: stage `ingest` failed\n  caused by: `[TMP]/items.csv`:14: a quoted field starts here and is never closed; expected a closing `\"`",
    );
    let p = Project::tiny();
    let mut bytes = items_with("arith,a3,m,10,2", "arith,a3,m,10,2").into_bytes();
    let at = TINY_ITEMS.find("arith,a3,m").unwrap() + "arith,a".len();
    bytes[at] = 0xff;
    std::fs::write(p.path().join("items.csv"), bytes).unwrap();
    let out = p.cod(&["pipeline", "run", "tiny.toml"]);
    assert!(!out.ok);
    assert_eq!(
        out.stderr.trim(),
        "error: stage `ingest` failed\n  caused by: `[TMP]/items.csv`:9: expected UTF-8 text, found invalid bytes"
    );
    assert!(p.cached_objects().is_empty());
}

/// Issue: after a quoted newline the reported line was the record's number, not the physical
/// line. Here a quoted item id spans two lines, so the bad count is on line 10, not 9.
#[test]
fn lines_after_a_quoted_newline_are_physical() {
    let items = items_with("arith,a2,s,10,0", "arith,\"a2\nsecond line\",s,10,0").replacen(
        "arith,a3,m,10,2",
        "arith,a3,m,10,x",
        1,
    );
    check(
        &items,
        TINY_MODELS,
        &[],
        "error: stage `ingest` failed\n  caused by: `[TMP]/items.csv`:10: `n_correct` must be a whole number, found `x`",
    );
}

/// Issue: a NUL byte in an item id and a negative loss were accepted silently.
#[test]
fn control_characters_and_negative_losses_are_refused() {
    check(
        &items_with("arith,a1,m,10,4", "arith,a\u{0}1,m,10,4"),
        TINY_MODELS,
        &[],
        "error: stage `ingest` failed\n  caused by: `[TMP]/items.csv`:3: column `item` holds the control character U+0000; expected printable text",
    );
    let with_loss = TINY_ITEMS
        .replace("n_correct\n", "n_correct,loss\n")
        .replace("arith,a1,m,10,4\n", "arith,a1,m,10,4,-0.25\n");
    check(
        &with_loss,
        TINY_MODELS,
        &[],
        "error: stage `ingest` failed\n  caused by: `[TMP]/items.csv`:3: `loss` must be at least 0 (a negative log-likelihood), found -0.25; negate log-likelihoods",
    );
}

/// Issue: a target whose compute is not above the ladder's was predicted without a word; it is
/// interpolation, so the run warns.
#[test]
fn a_target_inside_the_ladder_is_a_warning() {
    let p = Project::tiny();
    p.write(
        "models.toml",
        &TINY_MODELS.replace("params = 1e9\ntokens = 2e10", "params = 1e6\ntokens = 2e7"),
    );
    let out = p.cod(&["pipeline", "run", "tiny.toml", "--until", "ingest"]);
    assert!(out.ok, "{}", out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("target `t` has compute 1.200e14 FLOPs, not above the largest ladder model's (`l`, 3.000e16): predicting it is interpolation, not extrapolation"),
        "{all}"
    );
}
