//! The report stages end to end: `report.md` snapshots (the tiny data set, a small benchmark with
//! a mapping, the OLMo ladder), the files a report writes, the stage binaries, and the HTML as
//! headless Chromium renders it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Project, TINY_PIPELINE, root, shared_data, sibling_binary};
use serde_json::Value;

/// The tiny data set of `support.rs` taken through clustering, fits, the mapping and the report.
/// Its compute is tiny (1e14..3e16 FLOPs), so no cluster is extrapolatable: the report of a
/// benchmark without P′ or a mapping.
const TINY_REPORT: &str = r#"
[cluster]
inputs = ["features"]
min_size = 1

[fit]
inputs = ["ingest", "features", "cluster"]
guess = 0.0

[map]
inputs = ["ingest", "cluster", "fit"]

[report]
inputs = ["ingest", "cluster", "fit", "map"]
"#;

fn tiny() -> Project {
    let p = Project::tiny();
    let pipeline = format!("{TINY_PIPELINE}{TINY_REPORT}").replace(
        "description = \"tiny\"",
        "description = \"tiny\"\nsummary = [\"report\"]",
    );
    assert!(pipeline.contains("summary"));
    p.write("tiny.toml", &pipeline);
    p
}

fn read(p: &Project, file: &str) -> String {
    std::fs::read_to_string(p.path().join(file)).unwrap_or_else(|err| panic!("`{file}`: {err}"))
}

#[test]
fn tiny_report_without_a_predictable_subset() {
    let p = tiny();
    let out = p.cod(&["pipeline", "run", "tiny.toml"]);
    assert!(out.ok, "{}", out.stderr);
    assert_run_snapshot!("tiny_report_run", out.stdout);
    assert_run_snapshot!("tiny_report_md", read(&p, "out/tiny/report.md"));
    let show = p.cod(&["artifact", "show", "out/tiny/report.bin"]);
    assert!(show.ok, "{}", show.stderr);
    assert_run_snapshot!("tiny_report_show", show.stdout);
    // No mapping, so no mapping plot: clusters and methods for each of the two benchmarks.
    let html = read(&p, "out/tiny/report.html");
    assert_eq!(html.matches("<figure id=").count(), 4);
    assert!(!html.contains("-mapping\""));
    for id in ["summary", "b-arith", "b-words"] {
        assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
        assert!(html.contains(&format!("<a href=\"#{id}\">")), "{id}");
    }
}

/// 37 items in three difficulty groups (the cluster tests' data) on a ladder with real-sized
/// compute, so two groups extrapolate and the map stage fits f.
const GROUPS_MODELS: &str = r#"
[[model]]
name = "s"
params = 1e8
tokens = 2e9
flops = 1e20

[[model]]
name = "m"
params = 4e8
tokens = 8e9
flops = 1e21

[[model]]
name = "l"
params = 1.6e9
tokens = 3.2e10
flops = 1e22

[[model]]
name = "t"
params = 1e10
tokens = 2e11
flops = 1e23
role = "target"
"#;

const GROUPS_PIPELINE: &str = r#"
[pipeline]
summary = ["map", "report"]

[ingest]
path = "items.csv"
manifest = "models.toml"

[features]
inputs = ["ingest"]

[cluster]
inputs = ["features"]
min_size = 5
quantile = 0.5

[fit]
inputs = ["ingest", "features", "cluster"]
guess = 0.0

[map]
inputs = ["ingest", "cluster", "fit"]

[report]
inputs = ["ingest", "cluster", "fit", "map"]
title = "Groups <& \"friends\">"
"#;

fn groups() -> Project {
    let p = Project::new();
    p.write("models.toml", GROUPS_MODELS);
    p.write("items.csv", &crate::cluster::groups_csv());
    p.write("groups.toml", GROUPS_PIPELINE);
    p
}

#[test]
fn groups_report_with_a_mapping() {
    let p = groups();
    let out = p.cod(&["pipeline", "run", "groups.toml"]);
    assert!(out.ok, "{}", out.stderr);
    assert_run_snapshot!("groups_report_md", read(&p, "out/groups/report.md"));
    let html = read(&p, "out/groups/report.html");
    // The title is escaped wherever it appears, and the page needs nothing from outside.
    assert!(html.contains("<title>Groups &lt;&amp; &quot;friends&quot;&gt;</title>"));
    for outside in [
        "<script",
        "src=\"",
        "href=\"http",
        "url(http",
        "@import",
        "<link",
    ] {
        assert!(!html.contains(outside), "the page has `{outside}`");
    }
    for figure in ["b-b-clusters", "b-b-mapping", "b-b-methods"] {
        assert!(
            html.contains(&format!("<figure id=\"{figure}\">")),
            "{figure}"
        );
    }
    // The one-line stage summary says where the report is.
    assert!(
        out.stdout.trim_end().ends_with(
            "report “Groups <& \"friends\">”: out/groups/report.html, out/groups/report.md"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn png_copies_are_written_and_linked() {
    let p = groups();
    let out = p.cod(&["pipeline", "run", "groups.toml", "--set", "report.png=true"]);
    assert!(out.ok, "{}", out.stderr);
    let md = read(&p, "out/groups/report.md");
    for figure in ["b-b-clusters", "b-b-mapping", "b-b-methods"] {
        let file = format!("plots/{figure}.png");
        assert!(md.contains(&format!("]({file})")), "{file} not linked");
        let bytes = std::fs::read(p.path().join("out/groups").join(&file)).unwrap();
        let (width, height, _) = decode_png(&bytes);
        assert!(width >= 800 && height >= 400, "{file}: {width}×{height}");
    }
}

#[test]
fn report_binary_writes_the_runners_bytes_and_files() {
    let p = groups();
    assert!(p.cod(&["pipeline", "run", "groups.toml"]).ok);
    let out = p.run(Command::new(sibling_binary("cod-report")).args([
        "--eval-table",
        "out/groups/ingest.bin",
        "--clusters",
        "out/groups/cluster.bin",
        "--fits",
        "out/groups/fit.bin",
        "--predictions",
        "out/groups/map.bin",
        "--title",
        "Groups <& \"friends\">",
        "--output",
        "by-hand.bin",
        "--files",
        "by-hand",
    ]));
    assert!(out.ok, "{}", out.stderr);
    let by_hand = std::fs::read(p.path().join("by-hand.bin")).unwrap();
    let by_runner = std::fs::read(p.path().join("out/groups/report.bin")).unwrap();
    assert!(by_hand == by_runner, "the binary and the runner disagree");
    for file in ["report.md", "report.html"] {
        assert_eq!(
            read(&p, &format!("by-hand/{file}")),
            read(&p, &format!("out/groups/{file}")),
            "{file}"
        );
    }
}

#[test]
fn report_inputs_must_come_from_one_run() {
    let p = groups();
    assert!(p.cod(&["pipeline", "run", "groups.toml"]).ok);
    // The tiny data set's predictions (benchmarks arith and words) with the groups' other
    // artifacts.
    let t = tiny();
    assert!(t.cod(&["pipeline", "run", "tiny.toml"]).ok);
    let out = p.run(Command::new(sibling_binary("cod-report")).args([
        "--eval-table",
        "out/groups/ingest.bin",
        "--clusters",
        "out/groups/cluster.bin",
        "--fits",
        "out/groups/fit.bin",
        "--predictions",
        &t.path().join("out/tiny/map.bin").display().to_string(),
        "--output",
        "mixed.bin",
    ]));
    assert!(!out.ok);
    assert!(
        out.stderr.contains(
            "benchmark `arith` is in the predictions but not in the fits: the inputs come from \
             different runs"
        ),
        "{}",
        out.stderr
    );
    assert!(!p.path().join("mixed.bin").exists());
    let empty_title = p.cod(&[
        "pipeline",
        "run",
        "groups.toml",
        "--set",
        "report.title=\" \"",
    ]);
    assert!(!empty_title.ok);
    assert!(
        empty_title.stderr.contains("`title` must not be empty"),
        "{}",
        empty_title.stderr
    );
}

/// The shared data, with the OLMo ladder in it.
fn data_dir() -> PathBuf {
    shared_data("olmo-ladder/1B-10xC.csv")
}

/// Runs a pipeline of `pipelines/` in a scratch project.
fn run_pipeline(name: &str) -> Project {
    let p = Project::new();
    let pipeline = root().join(format!("pipelines/{name}.toml"));
    let out = p.run(
        Command::new(env!("CARGO_BIN_EXE_cod"))
            .args(["pipeline", "run", &pipeline.display().to_string()])
            .env("COD_DATA", data_dir()),
    );
    assert!(out.ok, "{}", out.stderr);
    p
}

#[test]
fn olmo_ladder_report() {
    let p = run_pipeline("olmo-ladder");
    assert_run_snapshot!(
        "olmo_ladder_report_md",
        read(&p, "out/olmo-ladder/report.md")
    );
    let summary = read(&p, "out/olmo-ladder/summary.txt");
    assert!(
        summary.trim_end().ends_with(
            "report “7B, 13B: predicted accuracy on 8 tasks (two-step ladder law)”: \
             out/olmo-ladder/report.html, out/olmo-ladder/report.md"
        ),
        "{summary}"
    );
    // The stage's binary, by hand, writes the same artifact and files.
    let out = p.run(Command::new(sibling_binary("cod-ladder-report")).args([
        "--runs",
        "out/olmo-ladder/ingest.bin",
        "--ladder-fits",
        "out/olmo-ladder/recommend.bin",
        "--output",
        "by-hand.bin",
        "--files",
        "by-hand",
    ]));
    assert!(out.ok, "{}", out.stderr);
    let by_hand = std::fs::read(p.path().join("by-hand.bin")).unwrap();
    let by_runner = std::fs::read(p.path().join("out/olmo-ladder/report.bin")).unwrap();
    assert!(by_hand == by_runner, "the binary and the runner disagree");
    assert_eq!(
        read(&p, "by-hand/report.html"),
        read(&p, "out/olmo-ladder/report.html")
    );
    // So does the recommendation's, given the pipeline's item counts as `--items`.
    let items = "mmlu=14042,hellaswag=10042,arc_challenge=1172,arc_easy=2376,piqa=1838,\
                 csqa=1221,socialiqa=1954,openbookqa=500";
    let out = p.run(Command::new(sibling_binary("cod-ladder-recommend")).args([
        "--runs",
        "out/olmo-ladder/ingest.bin",
        "--ladder-fits",
        "out/olmo-ladder/ladder.bin",
        "--backtest",
        "out/olmo-ladder/backtest.bin",
        "--items",
        items,
        "--variants",
        "true",
        "--output",
        "recommend.bin",
    ]));
    assert!(out.ok, "{}", out.stderr);
    let by_hand = std::fs::read(p.path().join("recommend.bin")).unwrap();
    let by_runner = std::fs::read(p.path().join("out/olmo-ladder/recommend.bin")).unwrap();
    assert!(
        by_hand == by_runner,
        "cod-ladder-recommend and the runner disagree"
    );
}

// The browser test: Chromium renders report.html; the DOM must hold every section and every
// plot, and the screenshot must show them.

/// Chromium's path: `/usr/bin/chromium` or `chromium` on PATH. Missing is a failure, not a skip.
fn chromium() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("chromium"))
            .find(|p| p.is_file())
    });
    on_path
        .or_else(|| Some(PathBuf::from("/usr/bin/chromium")).filter(|p| p.is_file()))
        .expect(
            "chromium is not installed: the browser test renders report.html with headless \
             Chromium (`apt-get install -y chromium`; .ci/run installs it)",
        )
}

/// Runs Chromium headless on `html` with the flags from the report notes plus `extra`, with a
/// fresh profile and a time limit; returns its standard output.
fn headless(html: &Path, extra: &[String]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out_file = profile.path().join("stdout");
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!(
            "--user-data-dir={}",
            profile.path().join("profile").display()
        ))
        .args(extra)
        .arg(format!("file://{}", html.display()))
        .stdout(std::fs::File::create(&out_file).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot start chromium");
    let deadline = Instant::now() + Duration::from_mins(2);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium did not finish within 120 s on `{}`",
                html.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "chromium failed on `{}`: {status}",
        html.display()
    );
    std::fs::read_to_string(&out_file).unwrap()
}

/// Width, height and RGB pixels of a PNG (any colour type, 8 bits after expansion).
fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<[u8; 3]>) {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels = buf[..info.buffer_size()]
        .chunks_exact(channels)
        .map(|px| match channels {
            1 | 2 => [px[0], px[0], px[0]],
            _ => [px[0], px[1], px[2]],
        })
        .collect();
    (info.width, info.height, pixels)
}

/// The `<svg>…</svg>` elements of a document.
fn svgs(dom: &str) -> Vec<&str> {
    dom.split("<svg")
        .skip(1)
        .map(|s| &s[..s.find("</svg>").unwrap_or(s.len())])
        .collect()
}

/// Renders `out/<pipeline>/report.html` and checks the DOM and the screenshot: every section
/// of `sections` (and the table of contents) is there, every plot is an `<svg>` with marks and
/// axis text, and the page as drawn is neither blank nor one colour.
fn check_in_browser(p: &Project, pipeline: &str, sections: &[&str], plots: usize, axis: &[&str]) {
    let html = p.path().join(format!("out/{pipeline}/report.html"));
    let dom = headless(&html, &["--dump-dom".to_owned()]);
    assert!(
        dom.contains("<nav id=\"contents\">"),
        "{pipeline}: no contents"
    );
    for id in sections {
        assert!(
            dom.contains(&format!("<section id=\"{id}\">")),
            "{pipeline}: section `{id}` missing from the DOM"
        );
        assert!(
            dom.contains(&format!("href=\"#{id}\"")),
            "{pipeline}: `{id}` not in the contents"
        );
    }
    let svgs = svgs(&dom);
    assert_eq!(svgs.len(), plots, "{pipeline}: plots in the DOM");
    for (i, svg) in svgs.iter().enumerate() {
        let marks = [
            "<circle",
            "<polyline",
            "<line",
            "<rect",
            "<path",
            "<polygon",
        ]
        .iter()
        .map(|tag| svg.matches(tag).count())
        .sum::<usize>();
        assert!(marks > 40, "{pipeline}: plot {i} has only {marks} marks");
        assert!(
            svg.matches("<text").count() >= 8,
            "{pipeline}: plot {i} has little text"
        );
        assert!(
            axis.iter().any(|label| svg.contains(label)),
            "{pipeline}: plot {i} has none of the axis labels {axis:?}"
        );
    }
    let shot = p.path().join(format!("{pipeline}-screenshot.png"));
    headless(
        &html,
        &[
            "--hide-scrollbars".to_owned(),
            format!("--screenshot={}", shot.display()),
            "--window-size=1200,3000".to_owned(),
        ],
    );
    let bytes = std::fs::read(&shot).expect("chromium wrote no screenshot");
    let (width, height, pixels) = decode_png(&bytes);
    assert_eq!((width, height), (1200, 3000), "{pipeline}: screenshot size");
    let ink = pixels
        .iter()
        .filter(|px| px.iter().any(|&c| c < 235))
        .count();
    let share = ink as f64 / pixels.len() as f64;
    assert!(
        share > 0.02,
        "{pipeline}: the screenshot is almost blank ({share:.4} inked)"
    );
    let mut colours: Vec<[u8; 3]> = pixels.iter().map(|px| px.map(|c| c / 32)).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(
        colours.len() >= 12,
        "{pipeline}: the screenshot has only {} distinct colours",
        colours.len()
    );
}

#[test]
fn mmlu_report_renders_in_chromium() {
    let p = Project::new();
    let pipeline = root().join("pipelines/mmlu.toml");
    // Up to the report only: the pipeline's backtest would add its time and nothing to check.
    let out = p.cod(&[
        "pipeline",
        "run",
        &pipeline.display().to_string(),
        "--until",
        "report",
    ]);
    assert!(out.ok, "{}", out.stderr);
    check_in_browser(
        &p,
        "mmlu",
        &["summary", "b-mmlu"],
        3,
        &["accuracy (%)", "training compute (FLOPs)"],
    );
}

#[test]
fn olmo_ladder_report_renders_in_chromium() {
    let p = run_pipeline("olmo-ladder");
    let tasks = [
        "mmlu",
        "hellaswag",
        "arc-challenge",
        "arc-easy",
        "piqa",
        "csqa",
        "socialiqa",
        "openbookqa",
    ];
    let mut sections = vec!["summary".to_owned()];
    sections.extend(tasks.iter().map(|t| format!("t-{t}")));
    let sections: Vec<&str> = sections.iter().map(String::as_str).collect();
    check_in_browser(
        &p,
        "olmo-ladder",
        &sections,
        // Step 1, step 2, the methods, and the 7B and 13B trajectories, per task.
        5 * tasks.len(),
        &["accuracy (%)", "c4-loss (step-1 intermediate)"],
    );
}

/// Several targets in one manifest: every (target, benchmark) pair is predicted and keyed
/// `target/benchmark`. Each target's entries are what a manifest naming it alone gives, and a
/// target without results has no actual.
#[test]
fn several_targets_are_each_predicted() {
    let p = groups();
    let pipeline = format!(
        "{GROUPS_PIPELINE}\n[bootstrap]\ninputs = [\"ingest\", \"cluster\", \"map\"]\nresamples = 4\n"
    )
    .replace(
        "inputs = [\"ingest\", \"cluster\", \"fit\", \"map\"]",
        "inputs = [\"ingest\", \"cluster\", \"fit\", \"bootstrap\"]",
    );
    p.write("groups.toml", &pipeline);
    let out = p.cod(&["pipeline", "run", "groups.toml"]);
    assert!(out.ok, "{}", out.stderr);
    let one: Value = serde_json::from_str(&read(&p, "out/groups/predictions.json")).unwrap();

    p.write(
        "models.toml",
        &format!(
            "{GROUPS_MODELS}\n[[model]]\nname = \"u\"\nparams = 4e10\ntokens = 8e11\n\
             flops = 1e24\nrole = \"target\"\n"
        ),
    );
    let out = p.cod(&["pipeline", "run", "groups.toml"]);
    assert!(out.ok, "{}", out.stderr);
    let two: Value = serde_json::from_str(&read(&p, "out/groups/predictions.json")).unwrap();
    let benches: Vec<&String> = one.as_object().unwrap().keys().collect();
    assert!(!benches.is_empty());
    let mut keys: Vec<String> = two.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    let mut want: Vec<String> = ["t", "u"]
        .iter()
        .flat_map(|t| benches.iter().map(move |b| format!("{t}/{b}")))
        .collect();
    want.sort();
    assert_eq!(keys, want);
    for b in &benches {
        let (alone, t, u) = (
            &one[b.as_str()],
            &two[format!("t/{b}")],
            &two[format!("u/{b}")],
        );
        for (method, row) in alone.as_object().unwrap() {
            for field in ["prediction", "actual", "abs_error"] {
                assert_eq!(row[field], t[method][field], "{b} {method} {field}");
            }
            assert!(
                u[method]["actual"].is_null(),
                "{b} {method}: u has no results"
            );
        }
        // The largest ladder model's score does not depend on the target; a line in compute does.
        assert_eq!(u["no-change"]["prediction"], t["no-change"]["prediction"]);
        assert_ne!(u["log-linear"]["prediction"], t["log-linear"]["prediction"]);
        assert!(
            u["cod"]["interval"].is_array(),
            "{b}: u's bootstrap interval"
        );
    }
    let md = read(&p, "out/groups/report.md");
    assert!(
        md.contains("Predictions for t (1.00e23 FLOPs), u (1.00e24 FLOPs) on 1 benchmark"),
        "{md}"
    );
    assert!(md.contains(&format!("t/{}", benches[0])), "{md}");
}
