//! The one place that writes to the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use cod_pipeline::{Event, Outcome};

/// Prints an error and its causes, `cod`-style.
pub fn error(err: &anyhow::Error) {
    eprintln!("error: {err}");
    for cause in err.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}

pub fn warn(message: &str) {
    eprintln!("warning: {message}");
}

/// One line per stage: what happened and why.
pub fn stage_event(event: &Event) {
    let name = event.stage;
    match &event.outcome {
        Outcome::Ran { reason, elapsed } => {
            println!(
                "ran      {name:<12} {:>8}  ({reason})",
                format!("{:.2}s", elapsed.as_secs_f64())
            );
        }
        Outcome::Cached => println!("cached   {name}"),
        Outcome::WouldRun { reason } => println!("would run {name:<12} ({reason})"),
        Outcome::WouldBeCached => println!("cached   {name}  (dry run)"),
    }
}

/// Plain text for standard output.
pub fn text(text: &str) {
    print!("{text}");
    if !text.ends_with('\n') {
        println!();
    }
}
