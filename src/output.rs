//! The one place that writes to stdout and stderr (DESIGN.md "Output").
//!
//! stdout is data: a human table, or with `--json` one JSON document (or JSON lines for event
//! streams). stderr carries messages, warnings, errors and progress. Progress bars appear only
//! when stderr is a terminal and neither `-q` nor `--json` is given; in logs, long operations
//! print a short status line at most every few seconds ([`StatusTicker`]). Prompts appear only
//! on a terminal; without one, and without `--yes`, a question is a refusal (exit 5).

use std::fmt::Display;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use anyhow::Result;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use voxctl::Error;

use crate::cli::GlobalArgs;

/// Decides where output goes.
#[derive(Debug, Clone)]
pub struct Printer {
    quiet: bool,
    json: bool,
    yes: bool,
    stderr_tty: bool,
    stdin_tty: bool,
}

impl Printer {
    /// A printer for the global options, detecting terminals on stdin and stderr.
    pub fn new(global: &GlobalArgs) -> Printer {
        Printer {
            quiet: global.quiet,
            json: global.json,
            yes: global.yes,
            stderr_tty: std::io::stderr().is_terminal(),
            stdin_tty: std::io::stdin().is_terminal(),
        }
    }

    /// Whether `--json` was given.
    pub fn json(&self) -> bool {
        self.json
    }

    /// Whether `-q` was given.
    pub fn quiet(&self) -> bool {
        self.quiet
    }

    /// Whether progress bars are drawn (stderr is a terminal, no `-q`, no `--json`).
    pub fn bars(&self) -> bool {
        self.stderr_tty && !self.quiet && !self.json
    }

    /// Writes one line of human data to stdout.
    pub fn data(&self, line: impl Display) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
    }

    /// Writes one line of human data to stdout as bytes (file names that are not UTF-8).
    pub fn data_bytes(&self, line: &[u8]) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(line);
        let _ = out.write_all(b"\n");
    }

    /// Writes `value` as one pretty JSON document to stdout.
    pub fn json_doc<T: Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, value)?;
        let _ = writeln!(out);
        Ok(())
    }

    /// Writes `value` as one compact JSON line to stdout and flushes (for event streams).
    pub fn json_line<T: Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer(&mut out, value)?;
        let _ = writeln!(out);
        let _ = out.flush();
        Ok(())
    }

    /// A message for people on stderr (suppressed by `-q`).
    pub fn message(&self, line: impl Display) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }

    /// A warning on stderr: `voxctl: warning: ...` (suppressed by `-q`).
    pub fn warn(&self, line: impl Display) {
        if !self.quiet {
            eprintln!("voxctl: warning: {line}");
        }
    }

    /// Prints an error as `voxctl: error: ...` with its cause chain, and a `hint:` line when
    /// there is an obvious next step. Always printed, even with `-q`.
    pub fn error(&self, err: &anyhow::Error) {
        eprintln!("voxctl: error: {err:#}");
        if let Some(hint) = voxctl::error::hint_for(err) {
            eprintln!("hint: {hint}");
        }
    }

    /// A byte-progress bar of `total` bytes, hidden unless [`Printer::bars`].
    pub fn bytes_bar(&self, total: u64, message: impl Into<String>) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(Some(total), self.draw_target());
        bar.set_style(
            ProgressStyle::with_template(
                "{msg:24} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message(message.into());
        bar
    }

    /// A container for several bars, hidden unless [`Printer::bars`].
    pub fn multi(&self) -> MultiProgress {
        MultiProgress::with_draw_target(self.draw_target())
    }

    fn draw_target(&self) -> ProgressDrawTarget {
        if self.bars() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        }
    }

    /// A ticker for one-line status messages in logs, when no bar is drawn and no `--json`
    /// or `-q` is given: [`StatusTicker::tick`] prints at most once per `every`.
    pub fn ticker(&self, every: Duration) -> StatusTicker {
        StatusTicker {
            enabled: !self.bars() && !self.quiet && !self.json,
            every,
            last: Instant::now(),
        }
    }

    /// Asks a yes/no question. `--yes` answers yes; on a terminal the user is asked (default
    /// no); without a terminal the answer is a refusal, [`Error::Refused`] (exit 5), never a
    /// hang. A "no" is also [`Error::Refused`].
    pub fn confirm(&self, question: &str) -> Result<()> {
        if self.yes {
            return Ok(());
        }
        if !(self.stdin_tty && self.stderr_tty) {
            return Err(voxctl::error::hinted(
                Error::Refused(format!("confirmation needed: {question}")),
                "run it on a terminal, or pass --yes",
            ));
        }
        let yes = dialoguer::Confirm::new()
            .with_prompt(question)
            .default(false)
            .interact()?;
        if yes {
            Ok(())
        } else {
            Err(Error::Refused("declined at the prompt".into()).into())
        }
    }
}

/// Prints a status line at most once per interval (see [`Printer::ticker`]).
#[derive(Debug)]
pub struct StatusTicker {
    enabled: bool,
    every: Duration,
    last: Instant,
}

impl StatusTicker {
    /// Prints `line` on stderr if enabled and the interval has passed since the last line.
    pub fn tick(&mut self, line: impl FnOnce() -> String) {
        if self.enabled && self.last.elapsed() >= self.every {
            self.last = Instant::now();
            eprintln!("{}", line());
        }
    }
}

/// Sets up `tracing` on stderr: `VOXCTL_LOG` (a tracing filter such as `voxctl=debug`) if set,
/// else warn, or info/debug/trace for `-v`/`-vv`/`-vvv`; errors only with `-q`.
pub fn init_tracing(global: &GlobalArgs) {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("VOXCTL_LOG") {
        Ok(f) if !f.is_empty() => EnvFilter::new(f),
        _ => EnvFilter::new(match (global.quiet, global.verbose) {
            (true, _) => "error",
            (false, 0) => "warn",
            (false, 1) => "info",
            (false, 2) => "debug",
            _ => "trace",
        }),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// Formats a byte count for people (`1.9 GB`), via indicatif's decimal units.
pub fn human_bytes(n: u64) -> String {
    indicatif::DecimalBytes(n).to_string()
}

/// Formats a duration for people, to the second (`1h 2m 3s`).
pub fn human_duration(d: Duration) -> String {
    humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
}
