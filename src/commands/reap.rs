//! `voxctl reap` and `voxctl reap mark`: glue between the arguments, the reap library
//! (`voxctl::reap`), the relaunch marker, the confirmation prompt and the report.
//!
//! Order of a real (not `--dry-run`) lock reap: peek at the marker and decide; if the decision
//! is to reap, confirm; then consume the marker (exactly one concurrent reaper gets it) and
//! decide again on what was consumed; escalate only if that decision is still to reap. A
//! refused or declined confirmation leaves the marker in place; every other run consumes it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use voxctl::exit::ExitStatus;

use anyhow::{Context, Result};
use serde::Serialize;
use voxctl::marker::RelaunchMarker;
use voxctl::process::{self, ProcessIdentity};
use voxctl::reap::decision::Decision;
use voxctl::reap::escalate::{self, Event, Graces, Target};
use voxctl::reap::holder::LockSource;
use voxctl::reap::report::{Report, TargetInfo, WOULD_SEND};
use voxctl::reap::{self as lib, stale_exe, Assessment};
use voxctl::Error;

use crate::cli::{GlobalArgs, ReapArgs, ReapCommand, ReapMarkArgs};
use crate::output::{human_duration, Printer};

/// Markers older than this are ignored unless `--max-marker-age` says otherwise.
const DEFAULT_MAX_MARKER_AGE: Duration = Duration::from_secs(5 * 60);
/// How long to wait for the exit after SIGKILL.
const KILL_WAIT: Duration = Duration::from_secs(5);

pub fn run(global: &GlobalArgs, args: ReapArgs, printer: &Printer) -> Result<ExitStatus> {
    if let Some(ReapCommand::Mark(m)) = args.command {
        return mark(global, m, printer);
    }
    let started = Instant::now();
    let graces = Graces {
        teardown: args.teardown_grace,
        term: args.term_grace,
        kill_wait: KILL_WAIT,
    };
    if let Some(path) = &args.stale_exe {
        return reap_stale(path, graces, args.dry_run, started, printer);
    }
    let source = match (args.lock, args.pidfile) {
        (Some(p), None) => LockSource::SingletonLock(p),
        (None, Some(p)) => LockSource::Pidfile(p),
        // clap's required "holder" group guarantees exactly one of the three.
        _ => return Err(Error::Usage("give one of --lock, --pidfile, --stale-exe".into()).into()),
    };
    let marker_path = marker_path(global, args.marker)?;
    let max_age = args.max_marker_age.unwrap_or(DEFAULT_MAX_MARKER_AGE);
    let settings = LockRun {
        source,
        marker_path,
        max_age,
        graces,
        dry_run: args.dry_run,
        started,
    };
    reap_lock(&settings, printer)
}

struct LockRun {
    source: LockSource,
    marker_path: PathBuf,
    max_age: Duration,
    graces: Graces,
    dry_run: bool,
    started: Instant,
}

fn marker_path(global: &GlobalArgs, given: Option<PathBuf>) -> Result<PathBuf> {
    match given {
        Some(p) => Ok(p),
        None => Ok(super::state_dir(global)?.relaunch_marker()),
    }
}

fn mark(global: &GlobalArgs, args: ReapMarkArgs, printer: &Printer) -> Result<ExitStatus> {
    let pid = match args.pid {
        Some(p) if p > 0 => p,
        Some(p) => return Err(Error::Usage(format!("--pid {p} is not a process id")).into()),
        None => process::parent_pid(std::process::id() as i32)
            .context("cannot find voxctl's parent process; pass --pid")?,
    };
    let path = marker_path(global, args.marker)?;
    let marker = RelaunchMarker::capture(pid)?;
    marker
        .write(&path)
        .with_context(|| format!("cannot write the relaunch marker {}", path.display()))?;
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

fn reap_lock(s: &LockRun, printer: &Printer) -> Result<ExitStatus> {
    let peeked = RelaunchMarker::peek(&s.marker_path)?;
    let first = lib::assess(&s.source, peeked, s.max_age)?;
    if s.dry_run {
        let mut report = Report::for_lock(&first, &s.marker_path, false, s.dry_run);
        if first.decision == Decision::Reap {
            report.would_send = WOULD_SEND.map(String::from).to_vec();
        }
        return finish(report, s.started, printer);
    }
    let mut confirmed: Option<ProcessIdentity> = None;
    if let Some(t) = first.target() {
        confirm(&t, &first, s, printer)?;
        confirmed = Some(t.identity);
    }
    // Consume the marker: of concurrent reapers exactly one gets it; decide on what we got.
    let taken = RelaunchMarker::take(&s.marker_path)?;
    let consumed = taken.is_some();
    let second = lib::assess(&s.source, taken, s.max_age)?;
    let mut report = Report::for_lock(&second, &s.marker_path, consumed, s.dry_run);
    if first.decision == Decision::Reap && !consumed {
        report.message = format!("{} (another reaper consumed it first)", report.message);
    }
    let Some(target) = second.target() else {
        return finish(report, s.started, printer);
    };
    if confirmed.as_ref() != Some(&target.identity) {
        confirm(&target, &second, s, printer)?;
    }
    let (results, timings) = escalate::escalate(&[target], s.graces, &mut |e| event(printer, e))?;
    report.apply(results, timings);
    finish(report, s.started, printer)
}

/// Asks before reaping, showing the pid, executable, start time, age and the reason.
fn confirm(t: &Target, a: &Assessment, s: &LockRun, printer: &Printer) -> Result<()> {
    let info = describe(&TargetInfo::of(&t.identity));
    let marker_age = a.marker.as_ref().map_or("?".into(), |m| {
        human_duration(Duration::from_millis(m.age_ms()))
    });
    printer.confirm(&format!(
        "reap {} holding {}, start time {}? It was marked {} ago as the instance being \
         replaced, and the marker's pid, start time, host and boot match. \
         (SIGTERM after {}, SIGKILL {} later)",
        info,
        s.source.path().display(),
        t.identity.start_time,
        marker_age,
        humantime::format_duration(s.graces.teardown),
        humantime::format_duration(s.graces.term),
    ))
}

fn reap_stale(
    path: &Path,
    graces: Graces,
    dry_run: bool,
    started: Instant,
    printer: &Printer,
) -> Result<ExitStatus> {
    let (mut report, targets) = Report::for_stale(path, stale_exe::find(path)?, dry_run);
    if targets.is_empty() {
        return finish(report, started, printer);
    }
    if dry_run {
        report.would_send = WOULD_SEND.map(String::from).to_vec();
        return finish(report, started, printer);
    }
    let list: Vec<String> = report
        .targets
        .iter()
        .filter(|t| t.refused.is_none())
        .map(describe)
        .collect();
    printer.confirm(&format!(
        "reap {} running a replaced copy of {}? (SIGTERM after {}, SIGKILL {} later)",
        list.join("; "),
        path.display(),
        humantime::format_duration(graces.teardown),
        humantime::format_duration(graces.term),
    ))?;
    let (results, timings) = escalate::escalate(&targets, graces, &mut |e| event(printer, e))?;
    report.apply(results, timings);
    finish(report, started, printer)
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
fn event(printer: &Printer, e: Event) {
    let list = |pids: &[i32]| {
        pids.iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let line = match e {
        Event::TeardownWait(pids, d) => format!(
            "reap: waiting up to {} (teardown grace), sending nothing, for pid {} to go on its own",
            humantime::format_duration(d),
            list(&pids)
        ),
        Event::Sent(s) => format!("reap: sent {} to pid {} at {} ms", s.signal, s.pid, s.at_ms),
        Event::TermWait(pids, d) => format!(
            "reap: waiting up to {} (term grace) for pid {} to exit",
            humantime::format_duration(d),
            list(&pids)
        ),
        Event::KillWait(pids, d) => format!(
            "reap: waiting up to {} for pid {} to exit after SIGKILL",
            humantime::format_duration(d),
            list(&pids)
        ),
        Event::Done(pid, outcome, after) => format!(
            "reap: pid {pid} {} ({} ms)",
            outcome.describe(),
            escalate::ms(after)
        ),
    };
    printer.message(line);
}

/// Prints the report and returns its exit code (7 if a target survived SIGKILL).
fn finish(mut report: Report, started: Instant, printer: &Printer) -> Result<ExitStatus> {
    report.timings_ms.command_ms = escalate::ms(started.elapsed());
    let survivors = report.survivors();
    if printer.json() {
        printer.json_doc(&report)?;
    } else {
        print_human(&report, printer);
    }
    if !survivors.is_empty() {
        return Err(Error::TimedOut(format!(
            "pid {survivors:?} still running {} after SIGKILL",
            humantime::format_duration(KILL_WAIT)
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
