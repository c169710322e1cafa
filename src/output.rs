//! The one place that writes to stdout and stderr (docs/contract.md "Output").
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
use std::collections::VecDeque;

use indicatif::style::ProgressTracker;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use serde::Serialize;
use voxctl::error::{ErrorBody, ErrorDoc, Failed};
use voxctl::exit::ExitStatus;
use voxctl::slot::Wait;
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
    /// The command writes JSON lines (fetch): a failure is its last line, an event.
    stream: bool,
    /// The command waited for a busy resource (`--wait` given), so "pass --wait" is no hint.
    waited: bool,
    /// Set once a JSON document went to stdout: a command that printed its report (verify's
    /// verdicts, reap's decision) before failing gets no second document.
    doc_written: std::sync::Arc<std::sync::atomic::AtomicBool>,
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
            stream: false,
            waited: false,
            doc_written: Default::default(),
        }
    }

    /// Adapts error output to the command line: fetch's JSON is an event stream, and a
    /// `--wait` that was given changes the hint for a busy resource.
    pub fn for_command(mut self, cli: &crate::cli::Cli) -> Printer {
        use crate::cli::{Command, LeaseCommand};
        self.stream = matches!(cli.command, Command::Fetch(_));
        let wait = match &cli.command {
            Command::Fetch(a) => a.wait.wait(),
            Command::Restart(a) => a.wait.wait(),
            Command::Stop(a) => a.wait.wait(),
            Command::Remove(a) => a.wait.wait(),
            Command::Lease(l) => match &l.command {
                LeaseCommand::Acquire(a) => a.hold.wait.wait(),
                LeaseCommand::Run(a) => a.hold.wait.wait(),
                _ => Wait::Never,
            },
            _ => Wait::Never,
        };
        self.waited = wait != Wait::Never;
        self
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
        self.doc_written
            .store(true, std::sync::atomic::Ordering::Relaxed);
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
    ///
    /// With `--json` the error is also written to stdout as data (docs/contract.md "Output"): one
    /// document `{"error": {"code", "kind", "message", "hint"}}`, or for an event stream a
    /// last line `{"event": "failed", "error": {...}}`. A command that already wrote its one
    /// document (a report saying what failed, such as verify's) gets no second one.
    pub fn error(&self, err: &anyhow::Error) {
        let hint = self.hint(err);
        // Messages may name what a server or a record said: escaped line by line (the line
        // breaks of a multi-line message are voxctl's own).
        let shown = |text: String| -> String {
            text.split('\n')
                .map(|l| untrusted(l).into_owned())
                .collect::<Vec<_>>()
                .join("\n")
        };
        eprintln!("voxctl: error: {}", shown(format!("{err:#}")));
        // A usage error found past clap (an empty --pubkey, --jobs 0) reads as clap's do: a
        // hint, then the command's usage line.
        if let Some(hint) = &hint {
            eprintln!("hint: {}", shown(hint.clone()));
        }
        if crate::exit_status(err) == ExitStatus::Usage {
            let (_, usage) = usage_of_invocation();
            eprintln!("\n{}", usage.trim_end());
        }
        let reported = self.doc_written.load(std::sync::atomic::Ordering::Relaxed);
        if self.json && (self.stream || !reported) {
            let error = self.error_body(err);
            let _ = if self.stream {
                // Through a `serde_json::Value`, whose keys are sorted: the line has always
                // been `{"error":{"code","hint","kind","message"},"event":"failed"}`.
                serde_json::to_value(Failed { error })
                    .map_err(anyhow::Error::from)
                    .and_then(|line| self.json_line(&line))
            } else {
                self.json_doc(&ErrorDoc { error })
            };
        }
    }

    /// The `--json` error object for `err`: `{"code", "kind", "message", "hint"}`.
    pub fn error_body(&self, err: &anyhow::Error) -> ErrorBody {
        ErrorBody::new(crate::exit_status(err), format!("{err:#}"), self.hint(err))
    }

    /// The hint for `err`, fitted to what the user did: after a `--wait` that ran out, a busy
    /// resource is not answered with "pass --wait".
    fn hint(&self, err: &anyhow::Error) -> Option<String> {
        // A usage error without a hint of its own points at the command's help, as clap's do.
        crate::hint::of(err, self.waited).or_else(|| {
            (crate::exit_status(err) == ExitStatus::Usage)
                .then(|| format!("see `{} --help`", usage_of_invocation().0))
        })
    }

    /// A byte-progress bar of `total` bytes labelled `label`, hidden unless
    /// [`Printer::bars`]. Its line fits the terminal as it is now ([`bar_layout`]): the
    /// label is cut and the rate, the ETA and the bar itself are left out as it narrows.
    /// Sizes are IEC ([`human_bytes`]); the rate and the ETA appear once bytes have come
    /// in over half a second, and go while nothing comes in ([`Rate`]).
    pub fn bytes_bar(&self, total: u64, label: &str) -> ProgressBar {
        let columns = terminal_size::terminal_size_of(std::io::stderr())
            .map_or(80, |(w, _)| usize::from(w.0));
        let layout = bar_layout(columns, label.chars().count());
        // Styled while hidden: setting the message draws, and a bar that drew on its own
        // before it joined a `MultiProgress` leaves that line behind for good.
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        let style = ProgressStyle::with_template(&layout.template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .with_key("done", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&human_bytes(s.pos()));
            })
            .with_key("size", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&human_bytes(s.len().unwrap_or(0)));
            })
            .with_key("rate", Rate::new(Shown::Rate))
            .with_key("eta", Rate::new(Shown::Eta))
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(label.chars().take(layout.label).collect::<String>());
        bar.set_draw_target(self.draw_target());
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
            return Err(crate::hint::hinted(
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
            // Not the generic "pass --yes" hint: the user was asked and said no.
            Err(crate::hint::hinted(
                Error::Refused("declined at the prompt".into()),
                "nothing was done; run it again and answer y to go ahead",
            ))
        }
    }
}

/// Reports a command line that clap rejected, and returns its exit code: `--help` and
/// `--version` print and exit 0. Anything else is a usage error (exit 2), printed as every
/// other error is: `voxctl: error: MESSAGE`, then `hint: ...`, then clap's usage lines (for
/// a missing subcommand, the command's help, which lists no hidden command). The hint is the
/// value parser's own ([`crate::hint::Hinted`], from cli.rs), else clap's tip (never one naming a hidden
/// command), else where `--help` says more. With `--json` among the arguments the error
/// document goes to stdout too.
pub fn usage_error(err: clap::Error) -> std::process::ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        err.exit();
    }
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let json = args
        .iter()
        .take_while(|a| *a != "--")
        .any(|a| a == "--json");
    let usage = UsageError::new(&err, &args);
    eprint!("{}", usage.text());
    if json {
        let doc = ErrorDoc {
            error: ErrorBody::new(ExitStatus::Usage, usage.one_line(), Some(usage.hint)),
        };
        let mut out = std::io::stdout().lock();
        let _ = serde_json::to_writer_pretty(&mut out, &doc);
        let _ = writeln!(out);
    }
    ExitStatus::Usage.into()
}

/// A clap error taken apart for printing in voxctl's form.
#[derive(Debug)]
struct UsageError {
    /// The message, one entry per line (clap's first paragraph, without `error: `).
    message: Vec<String>,
    /// The `hint:` line's text.
    hint: String,
    /// What clap prints after the message (usage, possible values, help), tips taken out.
    rest: String,
}

impl UsageError {
    fn new(err: &clap::Error, args: &[std::ffi::OsString]) -> UsageError {
        use clap::error::ErrorKind;
        use clap::CommandFactory;
        let mut root = crate::cli::Cli::command();
        root.build();
        let words = command_words(&root, args);
        let rendered = err.render().to_string();
        // No subcommand (`voxctl`, `voxctl --json`, `voxctl lease`): the command's help, whose
        // list has no hidden command (clap's own error would list them all).
        if matches!(
            err.kind(),
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand
        ) {
            let path: Vec<&str> = words.split(' ').skip(1).collect();
            return UsageError {
                message: vec![format!("`{words}` needs a subcommand")],
                hint: format!("pick one of the commands below; `{words} help COMMAND` says more"),
                rest: help_of(&mut root, &path),
            };
        }
        let hidden = hidden_commands(&root);
        let text = rendered.strip_prefix("error: ").unwrap_or(&rendered);
        let (head, tail) = text.split_once("\n\n").unwrap_or((text, ""));
        let mut tips = Vec::new();
        let mut rest = String::new();
        for para in tail.split("\n\n") {
            match para.trim_start().strip_prefix("tip: ") {
                // clap suggests hidden commands too ("a similar subcommand exists").
                Some(tip) if hidden.iter().any(|h| tip.contains(&format!("'{h}'"))) => {}
                Some(tip) => tips.push(tip.trim().to_string()),
                // The hint says where help is.
                None if para.starts_with("For more information") => {}
                None if !para.trim().is_empty() => {
                    rest.push_str(para.trim_end());
                    rest.push_str("\n\n");
                }
                None => {}
            }
        }
        let own = std::error::Error::source(err)
            .and_then(|s| s.downcast_ref::<crate::hint::Hinted>())
            .map(|h| h.hint.clone());
        let hint = own
            .or_else(|| tips.into_iter().next())
            .unwrap_or_else(|| format!("see `{words} --help`"));
        // clap leaves the usage line out of some errors (an invalid value): every usage error
        // ends with it.
        if !rest.contains("Usage:") {
            let path: Vec<&str> = words.split(' ').skip(1).collect();
            rest.push_str(&usage_of(&mut root, &path));
        }
        UsageError {
            message: head.lines().map(str::to_string).collect(),
            hint,
            rest: rest.trim_end().to_string() + "\n",
        }
    }

    /// The message on one line (for `--json`): `the following required arguments were not
    /// provided: <FILE>`.
    fn one_line(&self) -> String {
        let lines: Vec<&str> = self.message.iter().map(|l| l.trim()).collect();
        lines.join(" ")
    }

    /// The text for stderr.
    fn text(&self) -> String {
        let mut lines = self.message.iter();
        let first = lines.next().map_or("", String::as_str);
        let mut out = format!("voxctl: error: {first}\n");
        for line in lines {
            out.push_str(line);
            out.push('\n');
        }
        out.push_str(&format!("hint: {}\n", self.hint));
        if !self.rest.trim().is_empty() {
            out.push('\n');
            out.push_str(&self.rest);
        }
        out
    }
}

/// The subcommand path the arguments name (`voxctl lease acquire`), as far as it is valid:
/// the words that are subcommands, skipping options (and the value of `--state-dir DIR`).
fn command_words(cli: &clap::Command, args: &[std::ffi::OsString]) -> String {
    let mut words = vec![cli.get_name().to_string()];
    let mut cmd = cli;
    let mut args = args.iter().map(|a| a.to_string_lossy());
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        if arg.starts_with('-') {
            if arg == "--state-dir" || arg == "--store" {
                args.next();
            }
            continue;
        }
        match cmd.find_subcommand(arg.as_ref()) {
            Some(sub) if !sub.is_hide_set() => {
                words.push(sub.get_name().to_string());
                cmd = sub;
            }
            _ => break,
        }
    }
    words.join(" ")
}

/// The help of the subcommand at `path` under `cmd` (as far as the path goes).
fn help_of(cmd: &mut clap::Command, path: &[&str]) -> String {
    if let Some((first, rest)) = path.split_first() {
        if let Some(sub) = cmd.get_subcommands_mut().find(|s| s.get_name() == *first) {
            return help_of(sub, rest);
        }
    }
    cmd.render_help().to_string()
}

/// The subcommand path this process was invoked with (`voxctl fetch`) and that command's
/// usage line (`Usage: voxctl fetch [OPTIONS]`).
fn usage_of_invocation() -> (String, String) {
    use clap::CommandFactory;
    let mut root = crate::cli::Cli::command();
    root.build();
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let words = command_words(&root, &args);
    let path: Vec<&str> = words.split(' ').skip(1).collect();
    let usage = usage_of(&mut root, &path);
    (words, usage)
}

/// The usage line of the subcommand at `path` under `cmd`.
fn usage_of(cmd: &mut clap::Command, path: &[&str]) -> String {
    if let Some((first, rest)) = path.split_first() {
        if let Some(sub) = cmd.get_subcommands_mut().find(|s| s.get_name() == *first) {
            return usage_of(sub, rest);
        }
    }
    cmd.render_usage().to_string()
}

/// The names of hidden subcommands, at any depth (clap suggests them in its tips).
fn hidden_commands(cmd: &clap::Command) -> Vec<String> {
    cmd.get_subcommands()
        .flat_map(|sub| {
            let mut names = hidden_commands(sub);
            if sub.is_hide_set() {
                names.push(sub.get_name().to_string());
            }
            names
        })
        .collect()
}

/// How a byte bar's line is laid out at a terminal width: its indicatif template and how many
/// characters of its label it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarLayout {
    /// The template, over the keys [`Printer::bytes_bar`] defines.
    pub template: String,
    /// Characters of the label shown (the rest is cut).
    pub label: usize,
}

/// The widest the fields of a bar's line are written: a size (`1023.99 KiB`), a rate
/// (`1023.99 KiB/s`), an ETA (`eta 59m`; longer ones are not shown, see [`Rate`]).
const SIZE_WIDTH: usize = 11;
const RATE_WIDTH: usize = 13;
const ETA_WIDTH: usize = 7;
/// The narrowest bar worth drawing, and the widest drawn.
const MIN_BAR: usize = 10;
const MAX_BAR: usize = 40;

/// The richest line for a bar labelled with `label` characters that fits in `columns`
/// (the terminal's width, less one column so that no line ever reaches the edge, where
/// terminals differ on wrapping): `LABEL [BAR] DONE/SIZE RATE ETA`, then without the rate,
/// then without the ETA, then without the bar, then `DONE/SIZE`, then a percentage; at each
/// step a label too long is first cut (to no fewer than 8 characters). Every field is counted
/// at its widest, so the line never wraps and the cursor movements that redraw the bars
/// stay on the lines they drew.
pub fn bar_layout(columns: usize, label: usize) -> BarLayout {
    let room = columns.saturating_sub(1);
    let sizes = 2 * SIZE_WIDTH + 1;
    let (rate, eta) = (1 + RATE_WIDTH, 1 + ETA_WIDTH);
    // The label as is, else cut to what is left beside `fixed` columns.
    let labels = |fixed: usize| [label, room.saturating_sub(fixed).clamp(label.min(8), label)];
    // `LABEL [BAR] TAIL`, where TAIL is `fixed` wide at most.
    let with_bar = |tail: &str, fixed: usize| {
        labels(4 + fixed + MIN_BAR).into_iter().find_map(|label| {
            let bar = room.checked_sub(label + 4 + fixed)?.min(MAX_BAR);
            (bar >= MIN_BAR).then(|| BarLayout {
                template: format!("{{msg}} [{{bar:{bar}}}] {tail}"),
                label,
            })
        })
    };
    let without_bar = || {
        labels(1 + sizes)
            .into_iter()
            .find(|label| label + 1 + sizes <= room)
            .map(|label| BarLayout {
                template: "{msg} {done}/{size}".into(),
                label,
            })
    };
    // A label is cut only once the rate is gone: the rate matters least.
    with_bar("{done}/{size} {rate} {eta}", sizes + rate + eta)
        .filter(|l| l.label == label)
        .or_else(|| with_bar("{done}/{size} {eta}", sizes + eta))
        .or_else(|| with_bar("{done}/{size}", sizes))
        .or_else(without_bar)
        .unwrap_or_else(|| BarLayout {
            template: if sizes <= room {
                "{done}/{size}".into()
            } else {
                "{percent}%".into()
            },
            label: 0,
        })
}

/// Which figure a [`Rate`] writes.
#[derive(Debug, Clone, Copy)]
enum Shown {
    /// Bytes per second (`12.5 MiB/s`).
    Rate,
    /// Time left at that rate (`eta 3m`).
    Eta,
}

/// A bar's byte rate over its last [`Rate::WINDOW`], for the `rate` and `eta` keys of
/// [`Printer::bytes_bar`]. Nothing is written until bytes have come in over at least
/// [`Rate::MIN_SPAN`] (a bar at 0 bytes has no rate and so no ETA, rather than "eta 0s"),
/// nor while none came in for a whole window (a stalled download has no ETA either). A
/// bar whose position goes back (a download started over) starts a new rate. indicatif's
/// own estimate is not used: a bar created at a resumed part's offset would count the
/// bytes already on disk as arriving at once.
#[derive(Debug, Clone)]
struct Rate {
    shown: Shown,
    /// (when, position) as the bar was drawn, oldest first; the first is at or before the
    /// window's start.
    samples: VecDeque<(Instant, u64)>,
}

impl Rate {
    const WINDOW: Duration = Duration::from_secs(5);
    const MIN_SPAN: Duration = Duration::from_millis(500);
    /// The longest ETA shown: a week.
    const MAX_ETA: Duration = Duration::from_secs(7 * 24 * 3600);

    fn new(shown: Shown) -> Rate {
        Rate {
            shown,
            samples: VecDeque::new(),
        }
    }

    fn record(&mut self, now: Instant, pos: u64) {
        if self.samples.back().is_some_and(|&(_, p)| pos < p) {
            self.samples.clear();
        }
        self.samples.push_back((now, pos));
        while self.samples.len() > 2
            && now.saturating_duration_since(self.samples[1].0) >= Self::WINDOW
        {
            self.samples.pop_front();
        }
    }

    /// Bytes per second over the window, if bytes came in over at least `MIN_SPAN`.
    fn per_sec(&self) -> Option<f64> {
        let (&(t0, p0), &(t1, p1)) = (self.samples.front()?, self.samples.back()?);
        let span = t1.saturating_duration_since(t0);
        (span >= Self::MIN_SPAN && p1 > p0).then(|| (p1 - p0) as f64 / span.as_secs_f64())
    }

    /// What the key shows for a bar at `pos` of `len` bytes.
    fn text(&self, pos: u64, len: u64) -> String {
        let Some(rate) = self.per_sec() else {
            return String::new();
        };
        match self.shown {
            Shown::Rate => format!("{}/s", human_bytes(rate as u64)),
            Shown::Eta => {
                let left = Duration::from_secs_f64(len.saturating_sub(pos) as f64 / rate);
                if pos >= len || left > Self::MAX_ETA {
                    String::new()
                } else {
                    format!("eta {:#}", indicatif::HumanDuration(left))
                }
            }
        }
    }
}

impl ProgressTracker for Rate {
    fn clone_box(&self) -> Box<dyn ProgressTracker> {
        Box::new(self.clone())
    }

    fn tick(&mut self, state: &ProgressState, now: Instant) {
        self.record(now, state.pos());
    }

    fn reset(&mut self, _: &ProgressState, _: Instant) {
        self.samples.clear();
    }

    fn write(&self, state: &ProgressState, w: &mut dyn std::fmt::Write) {
        let _ = w.write_str(&self.text(state.pos(), state.len().unwrap_or(0)));
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
    use tracing_subscriber::filter::{EnvFilter, LevelFilter};
    // Colour only for a person at a terminal: logs redirected to files stay plain text, and
    // NO_COLOR (https://no-color.org) turns it off everywhere.
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .with_target(false);
    // A plain level is a `LevelFilter`, which filters as an `EnvFilter` of that one level
    // does, without parsing directives at every start (a `lease run` pays for each).
    let _ = match std::env::var("VOXCTL_LOG") {
        Ok(f) if !f.is_empty() => builder.with_env_filter(EnvFilter::new(f)).try_init(),
        _ => builder
            .with_max_level(match (global.quiet, global.verbose) {
                (true, _) => LevelFilter::ERROR,
                (false, 0) => LevelFilter::WARN,
                (false, 1) => LevelFilter::INFO,
                (false, 2) => LevelFilter::DEBUG,
                _ => LevelFilter::TRACE,
            })
            .try_init(),
    };
}

/// Formats a byte count for people in IEC units (`1.77 GiB`): [`voxctl::size::iec`], the one
/// formatter of voxctl's human output (bars, messages, errors, `status`), matching the sizes
/// `split -b` takes and GitHub's 2 GiB asset limit (README "Units").
pub fn human_bytes(n: u64) -> String {
    voxctl::size::iec(n)
}

/// Column alignment in a [`Table`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Padded on the right.
    Left,
    /// Padded on the left (numbers, sizes, durations).
    Right,
}

/// A table printed as data, each column as wide as its widest cell (header included), so
/// columns line up whatever the values; the last column is never padded.
#[derive(Debug)]
pub struct Table {
    columns: Vec<(&'static str, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these headers.
    pub fn new(columns: &[(&'static str, Align)]) -> Table {
        Table {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (missing cells are empty, extra cells ignored). Each cell goes through
    /// [`untrusted`]: a table shows record fields, none of which may steer the terminal.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows
            .push(cells.iter().map(|c| untrusted(c).into_owned()).collect());
    }

    /// The lines, each starting with `indent`.
    pub fn lines(&self, indent: &str) -> Vec<String> {
        let n = self.columns.len();
        let cell = |row: &Vec<String>, i: usize| row.get(i).cloned().unwrap_or_default();
        let widths: Vec<usize> = (0..n)
            .map(|i| {
                self.rows
                    .iter()
                    .map(|r| cell(r, i).chars().count())
                    .chain([self.columns[i].0.chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let header: Vec<String> = self.columns.iter().map(|c| c.0.to_string()).collect();
        std::iter::once(&header)
            .chain(&self.rows)
            .map(|row| {
                let cells: Vec<String> = (0..n)
                    .map(|i| {
                        let text = cell(row, i);
                        let pad = widths[i].saturating_sub(text.chars().count());
                        match (self.columns[i].1, i + 1 == n) {
                            (Align::Left, true) => text,
                            (Align::Left, false) => format!("{text}{}", " ".repeat(pad)),
                            (Align::Right, _) => format!("{}{text}", " ".repeat(pad)),
                        }
                    })
                    .collect();
                format!("{indent}{}", cells.join("  "))
                    .trim_end()
                    .to_string()
            })
            .collect()
    }

    /// Prints the lines to stdout, indented by two spaces.
    pub fn print(&self, printer: &Printer) {
        for line in self.lines("  ") {
            printer.data(line);
        }
    }
}

/// `text` as it may be shown to people on a terminal: every control character (C0, DEL, C1)
/// and every Unicode bidirectional control escaped (`\n`, `\t`, `\r`, `\x1b`,
/// `\u{9b}`, `\u{202e}`), so a string from a release, a record or a lease store (a
/// manifest's `app_version`, an etcd holder) can neither move the cursor, recolour, rewrite
/// the terminal's title nor reorder what follows it. Everything else is kept as it is,
/// backslashes too. Human output only: JSON output is escaped by serde and stays exact.
pub fn untrusted(text: &str) -> std::borrow::Cow<'_, str> {
    fn hostile(c: char) -> bool {
        c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }
    if !text.chars().any(hostile) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x80 && hostile(c) => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if hostile(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Formats a duration for people, to the second (`1h 2m 3s`).
pub fn human_duration(d: Duration) -> String {
    humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bar's line with every field at its widest.
    fn widest_line(layout: &BarLayout) -> String {
        let mut line = layout
            .template
            .replace("{msg}", &"L".repeat(layout.label))
            .replace("{done}", &"9".repeat(SIZE_WIDTH))
            .replace("{size}", &"9".repeat(SIZE_WIDTH))
            .replace("{rate}", &"9".repeat(RATE_WIDTH))
            .replace("{eta}", &"9".repeat(ETA_WIDTH))
            .replace("{percent}", "100");
        while let Some(start) = line.find("{bar:") {
            let end = start + line[start..].find('}').unwrap();
            let n: usize = line[start + 5..end].parse().unwrap();
            line.replace_range(start..=end, &"=".repeat(n));
        }
        assert!(!line.contains('{'), "{line}");
        line
    }

    #[test]
    fn bar_lines_fit_every_terminal_width() {
        for columns in 5..=200 {
            for label in [0, 5, 8, 10, 22, 26, 60] {
                let layout = bar_layout(columns, label);
                let line = widest_line(&layout);
                assert!(
                    line.chars().count() < columns,
                    "{columns} columns, label {label}: {line:?} ({layout:?})"
                );
                assert!(layout.label <= label);
            }
        }
        // What each width gets, for the labels of a fetch (`download`, 8).
        let at = |columns| bar_layout(columns, 8).template;
        assert_eq!(at(120), "{msg} [{bar:40}] {done}/{size} {rate} {eta}");
        assert_eq!(at(80), "{msg} [{bar:22}] {done}/{size} {rate} {eta}");
        assert_eq!(at(60), "{msg} [{bar:16}] {done}/{size} {eta}");
        assert_eq!(at(50), "{msg} [{bar:14}] {done}/{size}");
        assert_eq!(at(40), "{msg} {done}/{size}");
        assert_eq!(at(30), "{done}/{size}");
        assert_eq!(at(20), "{percent}%");
        // A long label keeps the bar and the ETA, and gives up the rate first, then
        // characters.
        assert_eq!(
            bar_layout(80, 26),
            BarLayout {
                template: "{msg} [{bar:18}] {done}/{size} {eta}".into(),
                label: 26
            }
        );
        assert_eq!(bar_layout(60, 26).label, 14);
    }

    #[test]
    fn rate_and_eta_appear_only_once_bytes_come_in_and_go_when_they_stop() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut r = Rate::new(Shown::Rate);
        // (rate, eta) for a bar at `pos` of 11000 bytes.
        let shown = |r: &Rate, pos: u64| {
            let eta = Rate {
                shown: Shown::Eta,
                ..r.clone()
            };
            (r.text(pos, 11_000), eta.text(pos, 11_000))
        };
        let none = (String::new(), String::new());
        // A bar at 0 bytes, or created at a resumed offset: nothing yet.
        r.record(at(0), 1000);
        r.record(at(100), 1000);
        assert_eq!(shown(&r, 1000), none);
        // Bytes over less than half a second: still nothing.
        r.record(at(400), 2000);
        assert_eq!(shown(&r, 2000), none);
        // 2000 bytes over two seconds: 1000 B/s, 8 s left.
        r.record(at(1000), 2000);
        r.record(at(2000), 3000);
        assert_eq!(shown(&r, 3000), ("1000 B/s".into(), "eta 8s".into()));
        // Stalled for a whole window: no rate, no ETA.
        r.record(at(7500), 3000);
        assert_eq!(shown(&r, 3000), none);
        // Back to 0 (a download started over): a new rate.
        r.record(at(7600), 0);
        assert_eq!(shown(&r, 0), none);
        r.record(at(8600), 5000);
        assert_eq!(shown(&r, 5000).0, "4.88 KiB/s");
        // Done: no ETA.
        assert_eq!(shown(&r, 11_000).1, "");
    }

    #[test]
    fn table_columns_fit_their_widest_cell() {
        let mut t = Table::new(&[
            ("NAME", Align::Left),
            ("SIZE", Align::Right),
            ("PATH", Align::Left),
        ]);
        t.row(vec![
            "a-very-long-asset-name-indeed".into(),
            "1 B".into(),
            "/x".into(),
        ]);
        t.row(vec!["b".into(), "1000.00 GiB".into(), "/y".into()]);
        let lines = t.lines("");
        assert_eq!(lines[0], "NAME                                  SIZE  PATH");
        assert_eq!(lines[1], "a-very-long-asset-name-indeed          1 B  /x");
        assert_eq!(lines[2], "b                              1000.00 GiB  /y");
    }
}
