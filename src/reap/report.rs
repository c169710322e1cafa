//! The report of one reap ([`super::run`]): what was decided and why, what was sent and when.
//! The command prints it as one JSON document with `--json` (its field names are part of the
//! interface, see README.md) or as a few human lines.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::decision::Decision;
use super::escalate::{self, SentSignal, Target, TargetReport, Timings};
use super::holder::{LockHolder, LockSource};
use super::stale_exe::{StaleProcess, Staleness};
use super::Assessment;
use crate::marker::RelaunchMarker;
use crate::process::{self, ProcessIdentity};

/// The signals a reap may send, listed by `--dry-run`.
pub const WOULD_SEND: [&str; 3] = ["SIGTERM", "SIGCONT", "SIGKILL"];

/// The whole report.
#[derive(Debug, Serialize)]
pub struct Report {
    /// `lock` or `stale_exe`.
    pub mode: &'static str,
    /// Whether this was a `--dry-run`.
    pub dry_run: bool,
    /// `reap` or `skip`.
    pub decision: &'static str,
    /// A stable code: `guards_passed`, a `decision::Reason` in snake case, `stale_exe`,
    /// `no_stale_process` or `self_or_ancestor`.
    pub reason: String,
    /// The reason for people.
    pub message: String,
    /// The exit code the CLI chose for [`Report::verdict`] (0 or 5), filled in by the CLI
    /// before it prints the report; the library leaves it `None` (and it is then omitted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<u8>,
    /// How the run ended, as a kind (not serialized: the CLI turns it into `exit_code`).
    #[serde(skip)]
    pub verdict: Verdict,
    /// The lock and its holder (lock mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock: Option<LockInfo>,
    /// The relaunch marker (lock mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marker: Option<MarkerInfo>,
    /// The processes considered, with their results once escalated.
    pub targets: Vec<TargetInfo>,
    /// Every signal sent, in order.
    pub signals: Vec<SentSignal>,
    /// With `--dry-run` and a decision to reap, the signals that may be sent.
    pub would_send: Vec<&'static str>,
    /// Timings, in milliseconds.
    pub timings_ms: TimingsMs,
}

/// What a reap's decision amounts to, as a kind the caller maps to its own status (the CLI:
/// an exit code). Whether a target survived SIGKILL is a separate fact:
/// [`Report::survivors`] (the CLI's exit 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Reaped, or nothing to reap (no holder, a stale lock, no usable marker, a dry run).
    #[default]
    Done,
    /// A guard refused: a live holder exists that must not be reaped, or voxctl itself or
    /// its ancestors run a stale copy (they are listed, never signalled).
    Refused,
}

/// The lock and who held it.
#[derive(Debug, Serialize)]
pub struct LockInfo {
    /// Where the lock is.
    pub source: LockSource,
    /// Its holder, if any.
    pub holder: Option<LockHolder>,
}

/// The relaunch marker considered.
#[derive(Debug, Serialize)]
pub struct MarkerInfo {
    /// Its path.
    pub path: PathBuf,
    /// Whether this run consumed it.
    pub consumed: bool,
    /// Its content, if there was one.
    #[serde(flatten)]
    pub marker: Option<RelaunchMarker>,
    /// Its age, in milliseconds.
    pub age_ms: Option<u64>,
}

/// A process considered for reaping.
#[derive(Debug, Serialize)]
pub struct TargetInfo {
    /// Its pid.
    pub pid: i32,
    /// Its start time (see `ProcessIdentity::start_time`).
    pub start_time: u64,
    /// How long it has been running, in milliseconds.
    pub age_ms: Option<u64>,
    /// Its executable, as the kernel reports it.
    pub exe: Option<PathBuf>,
    /// Its command line.
    pub cmdline: Option<String>,
    /// Why it is stale (`--stale-exe`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staleness: Option<Staleness>,
    /// Why it is never signalled, if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    /// The escalation's result, once run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<TargetReport>,
}

impl TargetInfo {
    /// What is known about `identity`'s process now.
    pub fn of(identity: &ProcessIdentity) -> TargetInfo {
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
}

/// Timings, in milliseconds.
#[derive(Debug, Default, Serialize)]
pub struct TimingsMs {
    /// The escalation's phases.
    #[serde(flatten)]
    pub escalation: Timings,
    /// From the command starting to the report.
    pub command_ms: u64,
}

impl Report {
    /// The report of a lock assessment (see [`super::assess`]).
    pub fn for_lock(a: &Assessment, marker_path: &Path, consumed: bool, dry_run: bool) -> Report {
        let (decision, reason, message) = match a.decision {
            Decision::Reap => (
                "reap",
                "guards_passed".to_string(),
                "a fresh relaunch marker from this boot names the holder's pid and start time"
                    .to_string(),
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
        let targets = a.target().map(|t| TargetInfo::of(&t.identity));
        Report {
            mode: "lock",
            decision,
            reason,
            message,
            verdict: if a.decision.refuses() {
                Verdict::Refused
            } else {
                Verdict::Done
            },
            lock: Some(LockInfo {
                source: a.source.clone(),
                holder: a.holder.clone(),
            }),
            marker: Some(MarkerInfo {
                path: marker_path.to_path_buf(),
                consumed,
                age_ms: a.marker.as_ref().map(RelaunchMarker::age_ms),
                marker: a.marker.clone(),
            }),
            targets: targets.into_iter().collect(),
            ..Report::empty(dry_run)
        }
    }

    /// The report of a `--stale-exe PATH` search, and the targets to escalate against
    /// (voxctl and its ancestors are listed as refused, never targeted; exit 5 if any).
    pub fn for_stale(
        path: &Path,
        found: Vec<StaleProcess>,
        dry_run: bool,
    ) -> (Report, Vec<Target>) {
        let (refused, stale): (Vec<_>, Vec<_>) =
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
        let (decision, reason, message) = if !stale.is_empty() {
            let n = stale.len();
            let what = format!("{n} process(es) run a replaced copy of {}", path.display());
            ("reap", "stale_exe", what)
        } else if !refused.is_empty() {
            let what = "only voxctl itself or its ancestors run a stale copy".to_string();
            ("skip", "self_or_ancestor", what)
        } else {
            let what = "no process runs a stale copy; nothing to reap".to_string();
            ("skip", "no_stale_process", what)
        };
        let report = Report {
            mode: "stale_exe",
            decision,
            reason: reason.into(),
            message,
            verdict: if refused.is_empty() {
                Verdict::Done
            } else {
                Verdict::Refused
            },
            targets,
            ..Report::empty(dry_run)
        };
        (report, stale.iter().map(super::stale_target).collect())
    }

    fn empty(dry_run: bool) -> Report {
        Report {
            mode: "",
            dry_run,
            decision: "skip",
            reason: String::new(),
            message: String::new(),
            exit_code: None,
            verdict: Verdict::Done,
            lock: None,
            marker: None,
            targets: Vec::new(),
            signals: Vec::new(),
            would_send: Vec::new(),
            timings_ms: TimingsMs::default(),
        }
    }

    /// Records the escalation's results.
    pub fn apply(&mut self, results: Vec<TargetReport>, timings: Timings) {
        for r in results {
            self.signals.extend(r.signals.iter().cloned());
            if let Some(t) = self.targets.iter_mut().find(|t| t.pid == r.pid) {
                t.result = Some(r);
            }
        }
        self.signals.sort_by_key(|s| s.at_ms);
        self.timings_ms.escalation = timings;
    }

    /// The pids still running after SIGKILL.
    pub fn survivors(&self) -> Vec<i32> {
        self.targets
            .iter()
            .filter(|t| {
                t.result
                    .as_ref()
                    .is_some_and(|r| r.outcome == escalate::Outcome::StillRunning)
            })
            .map(|t| t.pid)
            .collect()
    }
}
