use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Hands out progress bars to stages. Bars draw on standard error, and only when it is a terminal,
/// so logs and pipes stay clean.
#[derive(Clone, Debug)]
pub struct Progress {
    visible: bool,
}

impl Progress {
    /// Bars on standard error when it is a terminal.
    #[must_use]
    pub fn stderr() -> Progress {
        Progress {
            visible: std::io::IsTerminal::is_terminal(&std::io::stderr()),
        }
    }

    /// No bars at all.
    #[must_use]
    pub fn hidden() -> Progress {
        Progress { visible: false }
    }

    /// A bar over `len` units of work.
    #[must_use]
    pub fn bar(&self, len: u64, message: &str) -> ProgressBar {
        let bar = self.new_bar(Some(len));
        bar.set_style(
            ProgressStyle::with_template("{msg:>12} [{bar:30}] {human_pos}/{human_len} ({eta})")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_message(message.to_owned());
        bar
    }

    /// A spinner for work of unknown length.
    #[must_use]
    pub fn spinner(&self, message: &str) -> ProgressBar {
        let bar = self.new_bar(None);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("valid template"),
        );
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }

    fn new_bar(&self, len: Option<u64>) -> ProgressBar {
        let target = if self.visible {
            ProgressDrawTarget::stderr_with_hz(10)
        } else {
            ProgressDrawTarget::hidden()
        };
        ProgressBar::with_draw_target(len, target)
    }
}
