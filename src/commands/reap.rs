//! `voxctl reap` and `voxctl reap mark`: arguments -> [`voxctl::reap::Settings`], one call of
//! [`voxctl::reap::reap`] (which owns the peek, confirm, consume, decide-again and escalate
//! protocol), the prompt for its questions, and the report's rendering and exit code.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;
use voxctl::exit::ExitStatus;
use voxctl::marker::RelaunchMarker;
use voxctl::process;
use voxctl::reap::escalate::{Event, Graces};
use voxctl::reap::holder::LockSource;
use voxctl::reap::report::{Report, TargetInfo};
use voxctl::reap::{self as lib, Mode, Question};
use voxctl::Error;

use crate::cli::{GlobalArgs, ReapArgs, ReapCommand, ReapMarkArgs};
use crate::output::{human_duration, Printer};

pub fn run(global: &GlobalArgs, args: ReapArgs, printer: &Printer) -> Result<ExitStatus> {
    if let Some(ReapCommand::Mark(m)) = args.command {
        return mark(global, m, printer);
    }
    let mode = match (args.stale_exe, args.lock, args.pidfile) {
        (Some(exe), None, None) => Mode::StaleExe(exe),
        (None, lock, pidfile) => Mode::Lock {
            source: match (lock, pidfile) {
                // The platform's Chromium/CEF profile lock: the `SingletonLock` symlink, and on
                // Windows the profile's `lockfile`.
                (Some(p), None) if cfg!(windows) => LockSource::Lockfile(p),
                (Some(p), None) => LockSource::SingletonLock(p),
                (None, Some(p)) => LockSource::Pidfile(p),
                // clap's required "holder" group guarantees exactly one of the three.
                _ => return Err(usage_holder()),
            },
            marker: marker_path(global, args.marker)?,
            max_marker_age: args.max_marker_age.unwrap_or(lib::DEFAULT_MAX_MARKER_AGE),
        },
        _ => return Err(usage_holder()),
    };
    let mut settings = lib::Settings::new(mode);
    settings.graces = Graces {
        teardown: args.teardown_grace,
        term: args.term_grace,
        kill_wait: lib::KILL_WAIT,
    };
    settings.dry_run = args.dry_run;
    settings.cancel = crate::signals::cancel();
    let report = lib::reap(&settings, &mut |q| printer.confirm(&question(q)), &|e| {
        event(printer, e)
    })?;
    finish(report, printer)
}

fn usage_holder() -> anyhow::Error {
    Error::Usage("give one of --lock, --pidfile, --stale-exe".into()).into()
}

fn marker_path(global: &GlobalArgs, given: Option<PathBuf>) -> Result<PathBuf> {
    match given {
        Some(p) => Ok(p),
        None => Ok(super::state_dir(global)?.relaunch_marker()),
    }
}

fn mark(global: &GlobalArgs, args: ReapMarkArgs, printer: &Printer) -> Result<ExitStatus> {
    let pid = match args.pid {
        // More than 0: cli.rs refuses the rest.
        Some(p) => p,
        None => process::parent_pid(std::process::id() as i32)
            .context("cannot find voxctl's parent process; pass --pid")?,
    };
    let path = marker_path(global, args.marker)?;
    let marker = RelaunchMarker::mark(pid, &path)?;
    if printer.json() {
        #[derive(Serialize)]
        struct Marked<'a> {
            path: &'a Path,
            marker: &'a RelaunchMarker,
        }
        printer.json_doc(&Marked {
            path: &path,
            marker: &marker,
        })?;
    } else {
        let exe = marker.exe.as_ref().map(|e| e.display().to_string());
        printer.message(format!(
            "marked pid {} ({}) as the instance being replaced, in {}",
            pid,
            exe.as_deref().unwrap_or("executable unknown"),
            path.display()
        ));
    }
    Ok(ExitStatus::Success)
}

/// The prompt for one of the library's questions: the pid, executable, start time, age and
/// the reason.
fn question(q: &Question<'_>) -> String {
    match q {
        Question::Lock {
            target,
            lock,
            marker_age_ms,
            graces,
        } => format!(
            "reap {} holding {}, start time {}? It was marked {} ago as the instance being \
             replaced, and the marker's pid, start time, host and boot match. \
             (SIGTERM after {}, SIGKILL {} later)",
            describe(target),
            lock.display(),
            target.start_time,
            marker_age_ms.map_or("?".into(), |a| human_duration(Duration::from_millis(a))),
            humantime::format_duration(graces.teardown),
            humantime::format_duration(graces.term),
        ),
        Question::StaleExe {
            targets,
            exe,
            graces,
        } => format!(
            "reap {} running a replaced copy of {}? (SIGTERM after {}, SIGKILL {} later)",
            targets
                .iter()
                .map(|t| describe(t))
                .collect::<Vec<_>>()
                .join("; "),
            exe.display(),
            humantime::format_duration(graces.teardown),
            humantime::format_duration(graces.term),
        ),
    }
}

/// `pid 123 (/path/to/exe), started 2m 3s ago`.
fn describe(t: &TargetInfo) -> String {
    format!(
        "pid {} ({}), started {} ago",
        t.pid,
        t.exe
            .as_ref()
            .map_or("executable unknown".into(), |e| e.display().to_string()),
        t.age_ms
            .map_or("?".into(), |a| human_duration(Duration::from_millis(a)))
    )
}

/// Prints one escalation step on stderr.
fn event(printer: &Printer, e: &Event) {
    let list = |pids: &[i32]| {
        pids.iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let dur = |ms: u64| humantime::format_duration(Duration::from_millis(ms));
    let line = match e {
        Event::TeardownWait { pids, grace_ms } => format!(
            "reap: waiting up to {} (teardown grace), sending nothing, for pid {} to go on its own",
            dur(*grace_ms),
            list(pids)
        ),
        Event::Sent(s) => format!("reap: sent {} to pid {} at {} ms", s.signal, s.pid, s.at_ms),
        Event::TermWait { pids, grace_ms } => format!(
            "reap: waiting up to {} (term grace) for pid {} to exit",
            dur(*grace_ms),
            list(pids)
        ),
        Event::KillWait { pids, wait_ms } => format!(
            "reap: waiting up to {} for pid {} to exit after SIGKILL",
            dur(*wait_ms),
            list(pids)
        ),
        Event::Done {
            pid,
            outcome,
            after_ms,
        } => format!("reap: pid {pid} {} ({after_ms} ms)", outcome.describe()),
        // A step a later library adds: its JSON line says what it is.
        other => format!("reap: {}", serde_json::to_string(other).unwrap_or_default()),
    };
    printer.message(line);
}

/// Prints the report and returns its exit status: the decision's (success or refused), or
/// timed out (as an error, after the report) if a target survived SIGKILL.
fn finish(report: Report, printer: &Printer) -> Result<ExitStatus> {
    if printer.json() {
        printer.json_doc(&report)?;
    } else {
        print_human(&report, printer);
    }
    let survivors = report.survivors();
    if !survivors.is_empty() {
        return Err(Error::TimedOut(format!(
            "pid {survivors:?} still running {} after SIGKILL",
            humantime::format_duration(lib::KILL_WAIT)
        ))
        .into());
    }
    Ok(report.exit_code)
}

fn print_human(r: &Report, printer: &Printer) {
    let dry = if r.dry_run { " (dry run)" } else { "" };
    printer.data(format!("decision: {}{dry}", r.decision));
    printer.data(format!("reason:   {}", r.message));
    if let Some(lock) = &r.lock {
        let holder = lock
            .holder
            .as_ref()
            .map_or("nobody".into(), |h| match &h.host {
                Some(host) => format!("pid {} on {host}", h.pid),
                None => format!("pid {}", h.pid),
            });
        printer.data(format!(
            "lock:     {} held by {holder}",
            lock.source.path().display()
        ));
    }
    if let Some(m) = &r.marker {
        let what = match (&m.marker, m.consumed) {
            (None, _) => "none".to_string(),
            (Some(mk), consumed) => format!(
                "pid {}, written {} ago{}",
                mk.identity.pid,
                human_duration(Duration::from_millis(mk.age_ms())),
                if consumed {
                    ", consumed"
                } else {
                    ", left in place"
                }
            ),
        };
        printer.data(format!("marker:   {} ({what})", m.path.display()));
    }
    for t in &r.targets {
        let result = match (&t.result, &t.refused) {
            (_, Some(why)) => format!("not signalled: {why}"),
            (Some(res), None) => {
                let sigs: Vec<String> = res
                    .signals
                    .iter()
                    .map(|s| format!("{} at {} ms", s.signal, s.at_ms))
                    .collect();
                let sent = if sigs.is_empty() {
                    "no signal sent".into()
                } else {
                    sigs.join(", ")
                };
                format!("{} ({sent})", res.outcome.describe())
            }
            (None, None) if !r.would_send.is_empty() => {
                "would send SIGTERM (and SIGCONT) after the teardown grace, SIGKILL after the \
                 term grace if still running"
                    .into()
            }
            (None, None) => "untouched".into(),
        };
        printer.data(format!("target:   {}: {result}", describe(t)));
    }
    let t = &r.timings_ms;
    if !r.signals.is_empty() || t.escalation.total_ms > 0 {
        printer.data(format!(
            "timings:  teardown {} ms, term {} ms, kill {} ms, total {} ms",
            t.escalation.teardown_ms, t.escalation.term_ms, t.escalation.kill_ms, t.command_ms
        ));
    }
}
