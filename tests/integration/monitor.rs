//! `cod monitor`: the OLMo 7B trajectory checked against the ladder's prediction, a run file that
//! grows under `--follow`, and the errors a user meets first.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::support::{Project, root, shared_data};

fn data_dir() -> PathBuf {
    shared_data("olmo-ladder/peteish7_eval_full.csv")
}

fn pipeline() -> String {
    root()
        .join("pipelines/olmo-ladder.toml")
        .display()
        .to_string()
}

fn trajectory() -> String {
    data_dir()
        .join("olmo-ladder/peteish7_eval_full.csv")
        .display()
        .to_string()
}

fn monitor(p: &Project, args: &[&str]) -> crate::support::Output {
    let pipeline = pipeline();
    let mut all = vec!["monitor", pipeline.as_str()];
    all.extend(args);
    p.run(
        std::process::Command::new(env!("CARGO_BIN_EXE_cod"))
            .args(&all)
            .env("COD_DATA", data_dir()),
    )
}

/// The summary table and the count line that close a non-following run.
fn summary(stdout: &str) -> String {
    let start = stdout.find("\ntask ").expect("a summary table");
    stdout[start + 1..].to_owned()
}

#[test]
fn olmo_7b_trajectory_against_the_calibrated_band() {
    let p = Project::new();
    let run = trajectory();
    let out = monitor(&p, &["--target", "7B", "--run", &run]);
    assert!(out.ok, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("band: the calibrated 90% interval (bootstrap, extrapolation distance"),
        "{}",
        out.stdout
    );
    // One line per checkpoint after the first token: the file has 185 of them.
    let lines = out
        .stdout
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|t| t.ends_with('T') || t.ends_with('B'))
        })
        .count();
    assert_eq!(lines, 185, "{}", out.stdout);
    insta::assert_snapshot!(summary(&out.stdout));

    let csv = std::fs::read_to_string(
        p.path()
            .join("out/olmo-ladder/monitor-peteish7_eval_full.csv"),
    )
    .unwrap();
    let mut rows = csv.lines();
    assert_eq!(
        rows.next().unwrap(),
        "run,step,tokens,task,observed,predicted,lower,upper,position,final_updated"
    );
    let rows: Vec<Vec<&str>> = rows.map(|r| r.split(',').collect()).collect();
    assert_eq!(rows.len(), 185 * 8);
    for r in &rows {
        let [observed, lower, upper] = [4, 6, 7].map(|i| r[i].parse::<f64>().unwrap());
        let expected = if observed < lower {
            "below"
        } else if observed > upper {
            "above"
        } else {
            "in"
        };
        assert_eq!(r[8], expected, "{r:?}");
        // Without `monitor.use_target` the prediction never reads the target.
        assert_eq!(r[9], "", "{r:?}");
    }

    // With it, each checkpoint carries the final prediction updated from the checkpoints so far.
    let out = monitor(
        &p,
        &[
            "--target",
            "7B",
            "--run",
            &run,
            "--set",
            "monitor.use_target=true",
        ],
    );
    assert!(out.ok, "{}", out.stderr);
    assert!(
        summary(&out.stdout).contains("final updated"),
        "{}",
        out.stdout
    );
    let csv = std::fs::read_to_string(
        p.path()
            .join("out/olmo-ladder/monitor-peteish7_eval_full.csv"),
    )
    .unwrap();
    let updated: Vec<f64> = csv
        .lines()
        .skip(1)
        .map(|r| r.rsplit(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(updated.len(), 185 * 8);
    assert!(updated.iter().all(|u| (0.0..=1.0).contains(u)));
}

#[test]
fn follow_picks_up_checkpoints_as_the_file_grows() {
    let p = Project::new();
    // The pipeline's fits first, so that the waits below time the monitor, not the fits (a
    // loaded 2-core machine may take longer than they allow to fit the ladder and its variants).
    let fitted = monitor(&p, &["--target", "7B", "--run", &trajectory()]);
    assert!(fitted.ok, "{}", fitted.stderr);
    let full = std::fs::read_to_string(trajectory()).unwrap();
    let lines: Vec<&str> = full.lines().collect();
    let head = |k: usize| lines[..=k].join("\n") + "\n";
    let run = p.write("growing.csv", &head(20));
    let csv = p.path().join("out/olmo-ladder/monitor-growing.csv");
    let rows = || std::fs::read_to_string(&csv).map_or(0, |t| t.lines().count().saturating_sub(1));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cod"))
        .args([
            "monitor",
            &pipeline(),
            "--target",
            "7B",
            "--run",
            &run.display().to_string(),
            "--follow",
            "--interval",
            "0.2",
        ])
        .current_dir(p.path())
        .env("COD_CACHE", p.cache())
        .env("COD_DATA", data_dir())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(p.path().join("follow.stderr")).unwrap())
        .spawn()
        .unwrap();
    let wait_for = |n: usize| {
        let start = Instant::now();
        while rows() < n && start.elapsed() < Duration::from_mins(5) {
            std::thread::sleep(Duration::from_millis(100));
        }
        rows()
    };
    // The header and 20 checkpoints, one at token 0 that is not checked.
    let first = wait_for(19 * 8);
    // A half-written line is waited for, not an error; finished, it is read.
    let partial = &lines[21][..lines[21].len() / 2];
    // Each rewrite is atomic (a temporary file renamed over the run), so the monitor never reads a
    // file truncated by the rewrite itself, only the half-written line meant for it.
    let rewrite = |text: String| {
        cod_artifact::write_atomically(&run, |f| std::io::Write::write_all(f, text.as_bytes()))
            .unwrap();
    };
    rewrite(head(20) + partial);
    std::thread::sleep(Duration::from_millis(600));
    let during = rows();
    rewrite(head(30));
    let later = wait_for(29 * 8);
    let alive = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    child.wait().unwrap();
    let stderr = std::fs::read_to_string(p.path().join("follow.stderr")).unwrap_or_default();
    assert_eq!(first, 19 * 8, "{stderr}");
    assert_eq!(during, 19 * 8, "{stderr}");
    assert_eq!(later, 29 * 8, "{stderr}");
    assert!(alive, "`--follow` stopped: {stderr}");
}

#[test]
fn errors_name_what_is_wrong() {
    let p = Project::new();
    let out = monitor(&p, &["--target", "7B", "--run", "nope.csv"]);
    assert!(!out.ok);
    assert!(out.stderr.contains("nope.csv"), "{}", out.stderr);

    let run = trajectory();
    let out = monitor(&p, &["--target", "70B", "--run", &run]);
    assert!(!out.ok);
    assert!(
        out.stderr
            .contains("`--target 70B`: no such target in `[ROOT]/pipelines/olmo-ladder.toml`; its targets: 7B, 13B"),
        "{}",
        out.stderr
    );

    let out = monitor(&p, &["--run", &run]);
    assert!(!out.ok);
    assert!(
        out.stderr.contains(
            "has several targets (7B, 13B); say which one the run trains with `--target`"
        ),
        "{}",
        out.stderr
    );

    let mmlu = root().join("pipelines/mmlu.toml").display().to_string();
    let out = p.cod(&["monitor", &mmlu, "--run", &run]);
    assert!(!out.ok);
    assert!(
        out.stderr.contains("has no `ladder` stage"),
        "{}",
        out.stderr
    );

    let out = monitor(&p, &["--target", "7B", "--run", &run, "--interval", "0"]);
    assert!(!out.ok);
    assert!(
        out.stderr
            .contains("`--interval 0`: expected a positive number of seconds"),
        "{}",
        out.stderr
    );
}
