//! `voxctl reap` and `voxctl reap mark`: glue between the arguments, the reap library
//! (`voxctl::reap`), the relaunch marker, the confirmation prompt and the report.
//!
//! Order of a real (not `--dry-run`) lock reap: peek at the marker and decide; if the decision
//! is to reap, confirm; then consume the marker (exactly one concurrent reaper gets it) and
//! decide again on what was consumed; escalate only if that decision is still to reap. A
//! refused or declined confirmation leaves the marker in place; every other run consumes it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;
use voxctl::marker::RelaunchMarker;
use voxctl::process::{self, ProcessIdentity};
use voxctl::reap::decision::Decision;
use voxctl::reap::escalate::{self, Event, Graces, SentSignal, Target, TargetReport, Timings};
use voxctl::reap::holder::{LockHolder, LockSource};
use voxctl::reap::stale_exe::{self, StaleProcess};
use voxctl::reap::{self as lib, Assessment};
use voxctl::Error;

use crate::cli::{GlobalArgs, ReapArgs, ReapCommand, ReapMarkArgs};
use crate::output::{human_duration, Printer};

/// Markers older than this are ignored unless `--max-marker-age` says otherwise.
const DEFAULT_MAX_MARKER_AGE: Duration = Duration::from_secs(5 * 60);
/// How long to wait for the exit after SIGKILL.
const KILL_WAIT: Duration = Duration::from_secs(5);
/// The signals a reap may send, for `--dry-run`.
const WOULD_SEND: [&str; 3] = ["SIGTERM", "SIGCONT", "SIGKILL"];

pub fn run(global: &GlobalArgs, args: ReapArgs, printer: &Printer) -> Result<u8> {
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

fn mark(global: &GlobalArgs, args: ReapMarkArgs, printer: &Printer) -> Result<u8> {
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
        printer.data(format!(
            "marked pid {} ({}) as the instance being replaced, in {}",
            pid,
            exe.as_deref().unwrap_or("executable unknown"),
            path.display()
        ));
    }
    Ok(crate::exit::SUCCESS)
}

/// The whole report: printed as one JSON document with `--json`, else as lines on stdout.
#[derive(Debug, Serialize)]
struct Report {
    mode: &'static str,
    dry_run: bool,
    decision: &'static str,
    reason: String,
    message: String,
    exit_code: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    lock: Option<LockInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<MarkerInfo>,
    targets: Vec<TargetInfo>,
    signals: Vec<SentSignal>,
    would_send: Vec<&'static str>,
    timings_ms: TimingsMs,
}

#[derive(Debug, Serialize)]
struct LockInfo {
    source: LockSource,
    holder: Option<LockHolder>,
}

#[derive(Debug, Serialize)]
struct MarkerInfo {
    path: PathBuf,
    consumed: bool,
    #[serde(flatten)]
    marker: Option<RelaunchMarker>,
    age_ms: Option<u64>,
}

#[derive(Debug, Serialize)]
struct TargetInfo {
    pid: i32,
    start_time: u64,
    age_ms: Option<u64>,
    exe: Option<PathBuf>,
    cmdline: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    staleness: Option<stale_exe::Staleness>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refused: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<TargetReport>,
}

impl TargetInfo {
    fn of(identity: &ProcessIdentity) -> TargetInfo {
        TargetInfo {
            pid: identity.pid,
            start_time: identity.start_time,
            age_ms: process::age(identity.pid).map(escalate::ms),
            exe: process::exe_identity(identity.pid).map(|e| e.0),
            cmdline: process::cmdline(identity.pid),
            staleness: None,
            refused: None,
            result: None,
        }
    }

    fn describe(&self) -> String {
        format!(
            "pid {} ({}), started {} ago",
            self.pid,
            self.exe
                .as_ref()
                .map_or("executable unknown".into(), |e| e.display().to_string()),
            self.age_ms
                .map_or("?".into(), |a| human_duration(Duration::from_millis(a)))
        )
    }
}

#[derive(Debug, Default, Serialize)]
struct TimingsMs {
    #[serde(flatten)]
    escalation: Timings,
    /// From voxctl starting (argument parsing done) to the end.
    command_ms: u64,
}

fn reap_lock(s: &LockRun, printer: &Printer) -> Result<u8> {
    let peeked = RelaunchMarker::peek(&s.marker_path)?;
    let first = lib::assess(&s.source, peeked, s.max_age)?;
    if s.dry_run {
        let mut report = lock_report(&first, s, false);
        if first.decision == Decision::Reap {
            report.would_send = WOULD_SEND.to_vec();
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
    let mut report = lock_report(&second, s, consumed);
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
    apply_results(&mut report, results, timings);
    finish(report, s.started, printer)
}

fn confirm(t: &Target, a: &Assessment, s: &LockRun, printer: &Printer) -> Result<()> {
    let info = TargetInfo::of(&t.identity);
    let marker_age = a.marker.as_ref().map_or("?".into(), |m| {
        human_duration(Duration::from_millis(m.age_ms()))
    });
    printer.confirm(&format!(
        "reap {} holding {}, start time {}, marked {} ago as the instance being replaced? \
         (SIGTERM after {}, SIGKILL {} later)",
        info.describe(),
        s.source.path().display(),
        t.identity.start_time,
        marker_age,
        humantime::format_duration(s.graces.teardown),
        humantime::format_duration(s.graces.term),
    ))
}

fn lock_report(a: &Assessment, s: &LockRun, consumed: bool) -> Report {
    let (decision, reason, message) = match a.decision {
        Decision::Reap => (
            "reap",
            "guards_passed".to_string(),
            "a fresh relaunch marker from this boot names the holder's pid and start time".into(),
        ),
        Decision::Skip(r) => (
            "skip",
            serde_json::to_value(r)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            r.describe().to_string(),
        ),
    };
    let targets = match (&a.holder, a.decision) {
        (Some(h), Decision::Reap) => a
            .marker
            .as_ref()
            .map(|m| TargetInfo::of(&m.identity))
            .into_iter()
            .filter(|t| t.pid == h.pid)
            .collect(),
        _ => Vec::new(),
    };
    Report {
        mode: "lock",
        dry_run: s.dry_run,
        decision,
        reason,
        message,
        exit_code: a.decision.exit_code(),
        lock: Some(LockInfo {
            source: a.source.clone(),
            holder: a.holder.clone(),
        }),
        marker: Some(MarkerInfo {
            path: s.marker_path.clone(),
            consumed,
            age_ms: a.marker.as_ref().map(RelaunchMarker::age_ms),
            marker: a.marker.clone(),
        }),
        targets,
        signals: Vec::new(),
        would_send: Vec::new(),
        timings_ms: TimingsMs::default(),
    }
}

fn reap_stale(
    path: &Path,
    graces: Graces,
    dry_run: bool,
    started: Instant,
    printer: &Printer,
) -> Result<u8> {
    let found = stale_exe::find(path)?;
    let (refused, stale): (Vec<StaleProcess>, Vec<StaleProcess>) =
        found.into_iter().partition(|p| p.self_or_ancestor);
    let info = |p: &StaleProcess| TargetInfo {
        exe: Some(p.exe.clone()),
        cmdline: p.cmdline.clone(),
        staleness: Some(p.staleness),
        ..TargetInfo::of(&p.identity)
    };
    let mut targets: Vec<TargetInfo> = stale.iter().map(info).collect();
    targets.extend(refused.iter().map(|p| TargetInfo {
        refused: Some("voxctl itself or one of its ancestors".into()),
        ..info(p)
    }));
    let exit_code = if refused.is_empty() { 0 } else { 5 };
    let (decision, reason, message) = if stale.is_empty() && refused.is_empty() {
        (
            "skip",
            "no_stale_process",
            "no process runs a stale copy; nothing to reap".to_string(),
        )
    } else if stale.is_empty() {
        (
            "skip",
            "self_or_ancestor",
            "only voxctl itself or its ancestors run a stale copy".into(),
        )
    } else {
        (
            "reap",
            "stale_exe",
            format!(
                "{} process(es) run a replaced copy of {}",
                stale.len(),
                path.display()
            ),
        )
    };
    let mut report = Report {
        mode: "stale_exe",
        dry_run,
        decision,
        reason: reason.into(),
        message,
        exit_code,
        lock: None,
        marker: None,
        targets,
        signals: Vec::new(),
        would_send: Vec::new(),
        timings_ms: TimingsMs::default(),
    };
    if stale.is_empty() {
        return finish(report, started, printer);
    }
    if dry_run {
        report.would_send = WOULD_SEND.to_vec();
        return finish(report, started, printer);
    }
    let list: Vec<String> = report
        .targets
        .iter()
        .filter(|t| t.refused.is_none())
        .map(TargetInfo::describe)
        .collect();
    printer.confirm(&format!(
        "reap {} running a replaced copy of {}? (SIGTERM after {}, SIGKILL {} later)",
        list.join("; "),
        path.display(),
        humantime::format_duration(graces.teardown),
        humantime::format_duration(graces.term),
    ))?;
    let targets: Vec<Target> = stale.iter().map(lib::stale_target).collect();
    let (results, timings) = escalate::escalate(&targets, graces, &mut |e| event(printer, e))?;
    apply_results(&mut report, results, timings);
    finish(report, started, printer)
}

fn apply_results(report: &mut Report, results: Vec<TargetReport>, timings: Timings) {
    for r in results {
        report.signals.extend(r.signals.iter().cloned());
        if let Some(t) = report.targets.iter_mut().find(|t| t.pid == r.pid) {
            t.result = Some(r);
        }
    }
    report.signals.sort_by_key(|s| s.at_ms);
    report.timings_ms.escalation = timings;
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
            "reap: waiting up to {} (teardown grace) for pid {} to exit or release the lock",
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
fn finish(mut report: Report, started: Instant, printer: &Printer) -> Result<u8> {
    report.timings_ms.command_ms = escalate::ms(started.elapsed());
    let survivors: Vec<i32> = report
        .targets
        .iter()
        .filter(|t| {
            t.result
                .as_ref()
                .is_some_and(|r| r.outcome == escalate::Outcome::StillRunning)
        })
        .map(|t| t.pid)
        .collect();
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
        printer.data(format!("target:   {}: {result}", t.describe()));
    }
    let t = &r.timings_ms;
    if !r.signals.is_empty() || t.escalation.total_ms > 0 {
        printer.data(format!(
            "timings:  teardown {} ms, term {} ms, kill {} ms, total {} ms",
            t.escalation.teardown_ms, t.escalation.term_ms, t.escalation.kill_ms, t.command_ms
        ));
    }
}
