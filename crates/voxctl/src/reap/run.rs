//! The reap protocol, whole: what `voxctl reap` runs and what an embedding app calls.
//!
//! A lock reap (not a dry run) goes: check that the lock or pidfile exists (else refused,
//! exit 5, the marker untouched); peek at the relaunch marker and decide; if the decision is
//! to reap, ask the caller to confirm; consume the marker (`rename(2)`: of concurrent reapers
//! exactly one gets it) and decide again on what was consumed; confirm again if the target
//! changed; escalate only if that decision is still to reap. A refused or declined
//! confirmation leaves the marker in place; every other run consumes it. A `--dry-run`
//! consumes and signals nothing. A stale-exe reap finds the processes running a replaced copy
//! of an executable, confirms, and escalates against all of them at once.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::decision::Decision;
use super::escalate::{self, Event, Graces, Target};
use super::holder::LockSource;
use super::report::{Report, TargetInfo, WOULD_SEND};
use super::{assess, stale_exe, Assessment};
use crate::cancel::Cancel;
use crate::marker::RelaunchMarker;
use crate::process::ProcessIdentity;

/// Markers older than this are ignored unless the caller says otherwise (5 minutes).
pub const DEFAULT_MAX_MARKER_AGE: Duration = Duration::from_secs(5 * 60);
pub use super::escalate::KILL_WAIT;

/// What to reap.
#[derive(Debug, Clone)]
pub enum Mode {
    /// The holder of the app's lock, on the evidence of a fresh relaunch marker.
    Lock {
        /// The lock: a `SingletonLock` symlink or a pidfile.
        source: LockSource,
        /// The relaunch marker (`STATE/relaunch-marker.json` by default).
        marker: PathBuf,
        /// Markers older than this are ignored (see [`DEFAULT_MAX_MARKER_AGE`]).
        max_marker_age: Duration,
    },
    /// Every process running a replaced copy of this executable (never voxctl or its
    /// ancestors).
    StaleExe(PathBuf),
}

/// The settings of one reap. Built with [`Settings::new`] (the command's defaults), then
/// changed field by field: a later version may add fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Settings {
    /// What to reap.
    pub mode: Mode,
    /// How long each escalation phase may take (`kill_wait`: see [`KILL_WAIT`]).
    pub graces: Graces,
    /// Decide and report, but consume nothing and signal nothing.
    pub dry_run: bool,
    /// Cancels the escalation's waits ([`crate::Error::Interrupted`]).
    pub cancel: Cancel,
}

impl Settings {
    /// The settings of a reap of `mode`'s target, with the command's defaults: the
    /// [`Graces::default`] escalation, for real (not a dry run), and a fresh [`Cancel`].
    pub fn new(mode: Mode) -> Settings {
        Settings {
            mode,
            graces: Graces::default(),
            dry_run: false,
            cancel: Cancel::new(),
        }
    }
}

/// What the caller is asked to confirm before anything is signalled.
#[derive(Debug)]
pub enum Question<'a> {
    /// Reap the lock's holder.
    Lock {
        /// The holder, as known now.
        target: &'a TargetInfo,
        /// Where the lock is.
        lock: &'a std::path::Path,
        /// The marker's age, in milliseconds.
        marker_age_ms: Option<u64>,
        /// The graces that will be waited.
        graces: Graces,
    },
    /// Reap the processes running a replaced copy of `exe`.
    StaleExe {
        /// The targets (refused ones left out).
        targets: Vec<&'a TargetInfo>,
        /// The replaced executable.
        exe: &'a std::path::Path,
        /// The graces that will be waited.
        graces: Graces,
    },
}

/// Runs one reap (see the module doc). `confirm` is asked before any signal: `Ok(())` goes
/// ahead, an error (e.g. [`crate::Error::Refused`] for a "no" or for no one to ask) stops the
/// reap and is returned as is, the marker left in place. `on_event` hears each escalation
/// step (the reap domain's [`Event`]). The [`Report`]'s `exit_code` is the decision's exit
/// status as a kind (success: reaped or nothing to do; refused) and [`Report::survivors`]
/// lists the targets that outlived SIGKILL (the CLI's timed out).
///
/// Errors: a lock or pidfile that does not exist ([`crate::Error::Refused`], the marker left
/// in place), a lock or marker that cannot be read, a refused confirmation,
/// [`crate::Error::Interrupted`] once `settings.cancel` is cancelled, a pidfd or signal
/// failure naming the pid.
///
/// ```no_run
/// use voxctl::reap::holder::LockSource;
/// use voxctl::exit::ExitStatus;
/// use voxctl::reap::{self, Mode, Settings};
///
/// let settings = Settings::new(Mode::Lock {
///     source: LockSource::Pidfile("/run/user/1000/voicebox.pid".into()),
///     marker: "/home/me/.local/state/voxctl/relaunch-marker.json".into(),
///     max_marker_age: reap::DEFAULT_MAX_MARKER_AGE,
/// });
/// // The app asks its user; here every question is answered yes.
/// let report = reap::reap(&settings, &mut |_question| Ok(()), &|event| eprintln!("{event:?}"))?;
/// assert_eq!(report.exit_code, ExitStatus::Success);
/// assert!(report.survivors().is_empty());
/// # anyhow::Ok(())
/// ```
pub fn reap(
    settings: &Settings,
    confirm: &mut dyn FnMut(&Question<'_>) -> Result<()>,
    on_event: &(dyn Fn(&Event) + Sync),
) -> Result<Report> {
    let started = Instant::now();
    let mut report = match &settings.mode {
        Mode::Lock {
            source,
            marker,
            max_marker_age,
        } => {
            let lock = LockRun {
                source,
                marker,
                max_age: *max_marker_age,
                settings,
            };
            lock.run(confirm, on_event)?
        }
        Mode::StaleExe(exe) => stale(exe, settings, confirm, on_event)?,
    };
    report.timings_ms.command_ms = escalate::ms(started.elapsed());
    Ok(report)
}

struct LockRun<'a> {
    source: &'a LockSource,
    marker: &'a PathBuf,
    max_age: Duration,
    settings: &'a Settings,
}

impl LockRun<'_> {
    fn run(
        &self,
        confirm: &mut dyn FnMut(&Question<'_>) -> Result<()>,
        on_event: &(dyn Fn(&Event) + Sync),
    ) -> Result<Report> {
        let s = self.settings;
        // A lock path that does not exist is an error, not "nobody holds it": the marker is
        // kept for a run with the right path.
        self.source.check_exists()?;
        let peeked = RelaunchMarker::peek(self.marker)?;
        let first = assess(self.source, peeked, self.max_age)?;
        if s.dry_run {
            let mut report = Report::for_lock(&first, self.marker, false, true);
            if first.decision == Decision::Reap {
                report.would_send = WOULD_SEND.map(String::from).to_vec();
            }
            return Ok(report);
        }
        let mut confirmed: Option<ProcessIdentity> = None;
        if let Some(t) = first.target() {
            self.confirm(&t, &first, confirm)?;
            confirmed = Some(t.identity);
        }
        // Consume the marker: of concurrent reapers exactly one gets it; decide on what we got.
        let taken = RelaunchMarker::take(self.marker)?;
        let consumed = taken.is_some();
        let second = assess(self.source, taken, self.max_age)?;
        let mut report = Report::for_lock(&second, self.marker, consumed, false);
        if first.decision == Decision::Reap && !consumed {
            report.message = format!("{} (another reaper consumed it first)", report.message);
        }
        let Some(target) = second.target() else {
            return Ok(report);
        };
        if confirmed.as_ref() != Some(&target.identity) {
            self.confirm(&target, &second, confirm)?;
        }
        let (results, timings) = escalate::escalate(&[target], s.graces, &s.cancel, on_event)?;
        report.apply(results, timings);
        Ok(report)
    }

    fn confirm(
        &self,
        t: &Target,
        a: &Assessment,
        confirm: &mut dyn FnMut(&Question<'_>) -> Result<()>,
    ) -> Result<()> {
        let info = TargetInfo::of(&t.identity);
        confirm(&Question::Lock {
            target: &info,
            lock: self.source.path(),
            marker_age_ms: a.marker.as_ref().map(RelaunchMarker::age_ms),
            graces: self.settings.graces,
        })
    }
}

fn stale(
    exe: &std::path::Path,
    s: &Settings,
    confirm: &mut dyn FnMut(&Question<'_>) -> Result<()>,
    on_event: &(dyn Fn(&Event) + Sync),
) -> Result<Report> {
    let (mut report, targets) = Report::for_stale(exe, stale_exe::find(exe)?, s.dry_run);
    if targets.is_empty() {
        return Ok(report);
    }
    if s.dry_run {
        report.would_send = WOULD_SEND.map(String::from).to_vec();
        return Ok(report);
    }
    confirm(&Question::StaleExe {
        targets: report
            .targets
            .iter()
            .filter(|t| t.refused.is_none())
            .collect(),
        exe,
        graces: s.graces,
    })?;
    let (results, timings) = escalate::escalate(&targets, s.graces, &s.cancel, on_event)?;
    report.apply(results, timings);
    Ok(report)
}
