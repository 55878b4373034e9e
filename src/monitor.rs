//! `cod monitor`: a target run in progress, checkpoint by checkpoint, against a ladder pipeline's
//! prediction and its calibrated band.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use cod_artifact::{LadderFits, LadderMethod, Role, TrainingRun, TrainingRuns};
use cod_backtest::{LadderRecommendParams, LadderRecommendStage, calibrate::calibrate_monitor};
use cod_ingest::{IngestRunsParams, IngestRunsStage, RunEntry};
use cod_ladder::{LadderParams, LadderStage};
use cod_pipeline::{Pipeline, Registry, Stage};

use crate::cli::{PipelineArgs, execute, load};
use crate::report;

#[derive(clap::Args)]
pub struct MonitorArgs {
    #[command(flatten)]
    pipeline: PipelineArgs,
    /// The run's file as it grows: a training-run export in the format of the pipeline's
    /// `ingest-runs` stage (one row per evaluated checkpoint, the same columns as the ladder's).
    #[arg(long, value_name = "FILE")]
    run: PathBuf,
    /// The pipeline's target this run trains [default: its only target]. The run takes the
    /// target's N and planned D from the pipeline's manifest.
    #[arg(long, value_name = "NAME")]
    target: Option<String>,
    /// Keep watching FILE and check each checkpoint appended to it, until interrupted.
    #[arg(long)]
    follow: bool,
    /// Seconds between looks at FILE with `--follow`.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    interval: f64,
}

/// Where a checkpoint's observed accuracy lies against the band.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Position {
    Below,
    Inside,
    Above,
}

impl Position {
    fn name(self) -> &'static str {
        match self {
            Position::Below => "below",
            Position::Inside => "in",
            Position::Above => "above",
        }
    }
}

/// One task at one checkpoint.
struct TaskCheck {
    observed: f64,
    predicted: f64,
    band: Option<(f64, f64)>,
    /// The final accuracy predicted with the target's checkpoints so far (`monitor.use_target`).
    updated: Option<f64>,
}

impl TaskCheck {
    fn position(&self) -> Option<Position> {
        let (lo, hi) = self.band?;
        Some(if self.observed < lo {
            Position::Below
        } else if self.observed > hi {
            Position::Above
        } else {
            Position::Inside
        })
    }
}

/// One checkpoint of the run, every task in the fits' order (`None`: the task has no chained
/// prediction or the run lacks its accuracy).
struct Checkpoint {
    step: Option<u64>,
    tokens: f64,
    tasks: Vec<Option<TaskCheck>>,
}

/// What checking a run against a pipeline needs, read once.
struct Monitoring {
    target: String,
    /// N and the planned D of the target.
    nd: (f64, f64),
    fits: LadderFits,
    ingest: IngestRunsParams,
    ladder: LadderParams,
    ladder_compute: Vec<f64>,
    items: BTreeMap<String, usize>,
    /// Whether the pipeline's fits carry a calibration (a `ladder-recommend` stage).
    calibrated: bool,
    use_target: bool,
}

/// The pipeline's one stage of `kind`, if any; several is an error.
fn stage_of_kind<'p>(pipeline: &'p Pipeline, kind: &str) -> anyhow::Result<Option<&'p str>> {
    let names: Vec<&str> = pipeline
        .stages
        .iter()
        .filter(|s| s.kind == kind)
        .map(|s| s.name.as_str())
        .collect();
    match names.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        several => bail!(
            "`{}` has several `{kind}` stages ({}); `cod monitor` needs one",
            pipeline.path.display(),
            several.join(", ")
        ),
    }
}

fn read_artifact<A: cod_artifact::Artifact>(
    written: &BTreeMap<String, PathBuf>,
    stage: &str,
) -> anyhow::Result<A> {
    let path = written
        .get(stage)
        .with_context(|| format!("stage `{stage}` wrote no artifact"))?;
    Ok(cod_artifact::read::<A>(path)?)
}

impl Monitoring {
    /// Runs `pipeline` up to its prediction (cached stages are not re-run) and reads what the
    /// checks need.
    fn new(
        registry: &Registry,
        pipeline: &Pipeline,
        args: &MonitorArgs,
        cwd: &Path,
    ) -> anyhow::Result<Option<Monitoring>> {
        let no_ladder = || {
            anyhow::anyhow!(
                "`{}` has no `ladder` stage; `cod monitor` checks a run against a ladder's \
                 prediction (a pipeline with `stage = \"ladder\"` on training runs, such as \
                 `olmo-ladder`)",
                pipeline.path.display()
            )
        };
        let ladder_stage = stage_of_kind(pipeline, LadderStage::KIND)?.ok_or_else(no_ladder)?;
        let ingest_stage = stage_of_kind(pipeline, IngestRunsStage::KIND)?.ok_or_else(|| {
            anyhow::anyhow!(
                "`{}` has no `ingest-runs` stage; `cod monitor` reads the run file as that stage \
                 reads the ladder's runs",
                pipeline.path.display()
            )
        })?;
        let recommend_stage = stage_of_kind(pipeline, LadderRecommendStage::KIND)?;
        let last = recommend_stage.unwrap_or(ladder_stage);
        let Some(ran) = execute(registry, pipeline, &args.pipeline, Some(last.to_owned()))? else {
            return Ok(None);
        };
        let runs: TrainingRuns = read_artifact(&ran.written, ingest_stage)?;
        let fits: LadderFits = read_artifact(&ran.written, last)?;
        let targets: Vec<&TrainingRun> = runs
            .runs
            .iter()
            .filter(|r| r.role == Role::Target && !r.monitor)
            .collect();
        let names = || {
            targets
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let target = match (&args.target, targets.as_slice()) {
            (Some(name), _) => *targets.iter().find(|t| &t.name == name).ok_or_else(|| {
                anyhow::anyhow!(
                    "`--target {name}`: no such target in `{}`; its targets: {}",
                    pipeline.path.display(),
                    names()
                )
            })?,
            (None, [one]) => *one,
            (None, []) => bail!(
                "`{}` has no target run (`role = \"target\"` in its manifest); the run is checked \
                 against a target's prediction",
                pipeline.path.display()
            ),
            (None, _) => bail!(
                "`{}` has several targets ({}); say which one the run trains with `--target`",
                pipeline.path.display(),
                names()
            ),
        };
        let items = match recommend_stage {
            Some(stage) => {
                pipeline
                    .stage_params::<LadderRecommendStage>(stage, cwd)?
                    .items
            }
            None => LadderRecommendParams::default().items,
        };
        Ok(Some(Monitoring {
            target: target.name.clone(),
            nd: (target.params, target.tokens),
            calibrated: fits.calibration.is_some(),
            fits,
            ingest: pipeline.stage_params::<IngestRunsStage>(ingest_stage, cwd)?,
            ladder: pipeline.stage_params::<LadderStage>(ladder_stage, cwd)?,
            ladder_compute: runs
                .runs
                .iter()
                .filter(|r| r.role == Role::Ladder)
                .map(TrainingRun::flops)
                .collect(),
            items,
            use_target: pipeline.monitor.use_target,
        }))
    }

    /// Reads the run file as the pipeline's ingest stage reads a run, with the target's N and D.
    fn read_run(&self, path: &Path) -> anyhow::Result<TrainingRun> {
        let name = path
            .file_stem()
            .map_or_else(|| "run".to_owned(), |s| s.to_string_lossy().into_owned());
        let entry = RunEntry {
            name,
            file: path.to_owned(),
            params: self.nd.0,
            tokens: Some(self.nd.1),
            role: Role::Target,
            monitor: true,
        };
        let columns = self.ingest.preset.with(&self.ingest.columns);
        let mut runs =
            cod_ingest::read_runs(Path::new(""), &[entry], &columns, &self.ingest.tasks)?;
        Ok(runs.runs.remove(0))
    }

    /// The run's checkpoints from the `from`-th checked one on (those after the first token).
    fn check(&self, run: &TrainingRun, from: usize) -> Vec<Checkpoint> {
        let kept = cod_ladder::monitored_checkpoints(run);
        let monitors: Vec<Option<cod_artifact::Monitor>> = self
            .fits
            .tasks
            .iter()
            .map(|task| {
                let mut m = cod_ladder::monitor(task, run, &self.ladder.accuracy)?;
                if let Some(calibration) = &self.fits.calibration {
                    calibrate_monitor(
                        &mut m,
                        run.params,
                        calibration,
                        LadderMethod::Ladder.name(),
                        &self.ladder_compute,
                        self.items.get(&task.name).copied(),
                    );
                }
                Some(m)
            })
            .collect();
        kept.iter()
            .enumerate()
            .skip(from)
            .map(|(j, &i)| {
                let so_far = self.use_target.then(|| run.first(i + 1));
                Checkpoint {
                    step: run.steps.as_ref().map(|s| s[i]),
                    tokens: run.checkpoint_tokens[i],
                    tasks: self
                        .fits
                        .tasks
                        .iter()
                        .zip(&monitors)
                        .map(|(task, m)| {
                            let m = m.as_ref()?;
                            Some(TaskCheck {
                                observed: *m.observed.get(j)?,
                                predicted: m.predicted[j],
                                band: m.band.as_ref().map(|b| b[j]),
                                updated: so_far.as_ref().and_then(|run| {
                                    cod_ladder::updated_prediction(task, run, self.nd, &self.ladder)
                                        .ok()
                                }),
                            })
                        })
                        .collect(),
                }
            })
            .collect()
    }

    /// The target's pre-training prediction of `task` by the chained law, with its band.
    fn final_prediction(&self, task: &str) -> Option<(f64, Option<(f64, f64)>)> {
        let t = self.fits.tasks.iter().find(|t| t.name == task)?;
        let target = t.targets.iter().find(|x| x.target == self.target)?;
        let p = target.accuracy_predicted?;
        let band = match &self.fits.calibration {
            Some(c) => c
                .entry(&format!("{}/{task}", self.target))
                .and_then(|e| {
                    e.intervals
                        .iter()
                        .find(|i| i.method == LadderMethod::Ladder.name())
                })
                .map(|i| i.interval),
            None => target.interval,
        };
        Some((p, band))
    }

    fn header(&self, run: &TrainingRun) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\n{} ({}) against the `{}` prediction of the ladder's two-step law at N = {:.3e}, \
             each checkpoint's D; planned D = {:.3e}",
            run.name, run.source, self.target, self.nd.0, self.nd.1
        );
        let _ = writeln!(
            out,
            "band: {}",
            if self.calibrated {
                "the calibrated 90% interval (bootstrap, extrapolation distance, binomial noise)"
            } else {
                "the 5–95% bootstrap band (no `ladder-recommend` stage: not calibrated)"
            }
        );
        if self.use_target {
            let _ = writeln!(
                out,
                "monitor.use_target = true: `final` is the target's final accuracy with step 2 \
                 refitted on the ladder and the run's checkpoints so far"
            );
        }
        let _ = write!(out, "\n{:>8} {:>8} ", "step", "tokens");
        for task in &self.fits.tasks {
            let _ = write!(out, " {:<15}", clip(&task.name, 15));
        }
        out
    }

    fn line(&self, c: &Checkpoint) -> String {
        let mut out = format!(
            "{:>8} {:>8} ",
            c.step.map_or_else(|| "-".to_owned(), |s| s.to_string()),
            tokens(c.tokens)
        );
        for t in &c.tasks {
            let cell = t.as_ref().map_or_else(
                || "-".to_owned(),
                |t| {
                    format!(
                        "{:.1} {}",
                        100.0 * t.observed,
                        t.position().map_or("", Position::name)
                    )
                },
            );
            let _ = write!(out, " {cell:<15}");
        }
        if self.use_target {
            let _ = write!(out, "\n{:>17} ", "final");
            for t in &c.tasks {
                let cell = t
                    .as_ref()
                    .and_then(|t| t.updated)
                    .map_or_else(|| "-".to_owned(), |u| format!("{:.1}", 100.0 * u));
                let _ = write!(out, " {cell:<15}");
            }
        }
        out
    }

    /// Per task: checkpoints outside the band, the last checkpoint, and the final prediction
    /// (updated, with `use_target`).
    fn summary(&self, all: &[Checkpoint]) -> String {
        let mut out = String::from("\n");
        let _ = writeln!(
            out,
            "{:<15} {:>11} {:>9} {:>9} {:>15}   {:>16}{}",
            "task",
            "outside",
            "last obs",
            "last pred",
            "last band",
            "final predicted",
            if self.use_target {
                "   final updated"
            } else {
                ""
            }
        );
        for (k, task) in self.fits.tasks.iter().enumerate() {
            let checks: Vec<&TaskCheck> = all.iter().filter_map(|c| c.tasks[k].as_ref()).collect();
            let outside = checks
                .iter()
                .filter(|t| matches!(t.position(), Some(Position::Below | Position::Above)))
                .count();
            let last = checks.last();
            let (final_p, final_band) = self
                .final_prediction(&task.name)
                .map_or((None, None), |(p, b)| (Some(p), b));
            let _ = write!(
                out,
                "{:<15} {:>11} {:>9} {:>9} {:>15}   {:>16}",
                clip(&task.name, 15),
                format!("{outside}/{}", checks.len()),
                points(last.map(|t| t.observed)),
                points(last.map(|t| t.predicted)),
                band(last.and_then(|t| t.band)),
                format!("{} {}", points(final_p), band(final_band)),
            );
            if self.use_target {
                let _ = write!(out, "   {:>16}", points(last.and_then(|t| t.updated)));
            }
            out.push('\n');
        }
        let total: usize = all.iter().map(|c| c.tasks.iter().flatten().count()).sum();
        let outside: usize = all
            .iter()
            .flat_map(|c| c.tasks.iter().flatten())
            .filter(|t| matches!(t.position(), Some(Position::Below | Position::Above)))
            .count();
        let _ = writeln!(
            out,
            "{outside} of {total} checks outside the band; in points (accuracy × 100)"
        );
        out
    }

    /// Every checkpoint as CSV: run, step, tokens, task, observed, predicted, lower, upper,
    /// position, updated.
    fn csv(&self, run: &str, all: &[Checkpoint]) -> String {
        let mut out = String::from(
            "run,step,tokens,task,observed,predicted,lower,upper,position,final_updated\n",
        );
        for c in all {
            for (task, t) in self.fits.tasks.iter().zip(&c.tasks) {
                let Some(t) = t else { continue };
                let cell = |v: Option<f64>| v.map_or_else(String::new, |v| v.to_string());
                let _ = writeln!(
                    out,
                    "{run},{},{},{},{},{},{},{},{},{}",
                    c.step.map_or_else(String::new, |s| s.to_string()),
                    c.tokens,
                    task.name,
                    t.observed,
                    t.predicted,
                    cell(t.band.map(|b| b.0)),
                    cell(t.band.map(|b| b.1)),
                    t.position().map_or("", Position::name),
                    cell(t.updated)
                );
            }
        }
        out
    }
}

fn clip(s: &str, width: usize) -> String {
    s.chars().take(width).collect()
}

fn points(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{:.1}", 100.0 * v))
}

fn band(b: Option<(f64, f64)>) -> String {
    b.map_or_else(
        || "-".to_owned(),
        |(lo, hi)| format!("[{:.1}, {:.1}]", 100.0 * lo, 100.0 * hi),
    )
}

/// Tokens as `840M`, `8.4B`, `3.95T`.
fn tokens(d: f64) -> String {
    let (value, unit) = if d >= 1e12 {
        (d / 1e12, "T")
    } else if d >= 1e9 {
        (d / 1e9, "B")
    } else if d >= 1e6 {
        (d / 1e6, "M")
    } else {
        return format!("{d:.0}");
    };
    if value >= 100.0 {
        format!("{value:.0}{unit}")
    } else if value >= 10.0 {
        format!("{value:.1}{unit}")
    } else {
        format!("{value:.2}{unit}")
    }
}

/// Whether a read failure may be a file caught mid-write, worth another look with `--follow`:
/// the file was missing or its last line unfinished when read (`before`, its bytes then), or it
/// has changed since. Judging by the bytes of the failed read, not by the file as it is now, keeps
/// a rewrite that lands between the read and this check from being taken for bad input.
fn maybe_incomplete(path: &Path, before: &std::io::Result<Vec<u8>>) -> bool {
    match (before, std::fs::read(path)) {
        (Ok(before), Ok(now)) => (!before.is_empty() && !before.ends_with(b"\n")) || *before != now,
        _ => true,
    }
}

pub fn monitor(args: &MonitorArgs) -> anyhow::Result<ExitCode> {
    if !(args.interval > 0.0 && args.interval.is_finite()) {
        bail!(
            "`--interval {}`: expected a positive number of seconds",
            args.interval
        );
    }
    let (registry, pipeline) = load(&args.pipeline)?;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let Some(monitoring) = Monitoring::new(&registry, &pipeline, args, &cwd)? else {
        return Ok(ExitCode::SUCCESS);
    };
    let path = cwd.join(&args.run);
    let out_dir = match &args.pipeline.out {
        Some(dir) => cwd.join(dir),
        None => cwd.join("out").join(&pipeline.name),
    };
    let mut all: Vec<Checkpoint> = Vec::new();
    let mut header_shown = false;
    loop {
        let before = if args.follow {
            std::fs::read(&path)
        } else {
            Ok(Vec::new())
        };
        let run = match monitoring.read_run(&path) {
            Ok(run) => Some(run),
            Err(_) if args.follow && maybe_incomplete(&path, &before) => None,
            Err(err) => return Err(err),
        };
        if let Some(run) = run {
            if !header_shown {
                report::text(&monitoring.header(&run));
                header_shown = true;
            }
            let new = monitoring.check(&run, all.len());
            for c in &new {
                report::text(&monitoring.line(c));
            }
            if !new.is_empty() || all.is_empty() {
                all.extend(new);
                let csv_path = out_dir.join(format!("monitor-{}.csv", run.name));
                std::fs::create_dir_all(&out_dir)
                    .with_context(|| format!("cannot create `{}`", out_dir.display()))?;
                cod_artifact::write_atomically(&csv_path, |f| {
                    std::io::Write::write_all(f, monitoring.csv(&run.name, &all).as_bytes())
                })
                .with_context(|| format!("cannot write `{}`", csv_path.display()))?;
                if !args.follow {
                    report::text(&monitoring.summary(&all));
                    report::text(&format!("wrote `{}`", shown(&csv_path, &cwd)));
                }
            }
        }
        if !args.follow {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(Duration::from_secs_f64(args.interval));
    }
}

fn shown(path: &Path, cwd: &Path) -> String {
    path.strip_prefix(cwd).unwrap_or(path).display().to_string()
}

#[cfg(test)]
mod tests {
    use super::maybe_incomplete;

    #[test]
    fn a_failed_read_is_retried_only_when_the_file_may_be_mid_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.csv");
        let complete = b"step,acc\n1,x\n".to_vec();
        std::fs::write(&path, &complete).unwrap();
        // Complete and unchanged: bad input, not worth another look.
        assert!(!maybe_incomplete(&path, &Ok(complete.clone())));
        // An unfinished last line when it was read, though the file is complete now.
        assert!(maybe_incomplete(&path, &Ok(b"step,acc\n1,".to_vec())));
        // Complete when read, rewritten since.
        assert!(maybe_incomplete(&path, &Ok(b"step,acc\n".to_vec())));
        // Missing when read, or missing now.
        let missing = std::fs::read(dir.path().join("nope.csv"));
        assert!(maybe_incomplete(&path, &missing));
        assert!(maybe_incomplete(
            &dir.path().join("nope.csv"),
            &Ok(complete)
        ));
    }
}
