//! The report of one `voxctl reap` run: what was decided and why, what was sent and when. The
//! command prints it as one JSON document with `--json` (its field names are part of the
//! interface, see README.md) or as a few human lines.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::decision::Decision;
use super::escalate::{self, SentSignal, Target, TargetReport, Timings};
use super::holder::{LockHolder, LockSource};
use super::stale_exe::{StaleProcess, Staleness};
use super::Assessment;
use crate::exit::ExitStatus;
use crate::marker::RelaunchMarker;
use crate::process::{self, ProcessIdentity};

/// The signals a reap may send, listed by `--dry-run`.
pub const WOULD_SEND: [&str; 3] = ["SIGTERM", "SIGCONT", "SIGKILL"];

/// What a reap run looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The holder of a lock (`--lock`).
    Lock,
    /// Processes running a replaced executable (`--stale-exe`).
    StaleExe,
}

/// What a reap run decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Escalate against the targets.
    Reap,
    /// Do nothing.
    Skip,
}

impl Verdict {
    /// The name in JSON (`reap` or `skip`), also shown to people.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Reap => "reap",
            Verdict::Skip => "skip",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The whole report, as `reap --json` prints it (it also deserializes from that).
#[derive(Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Report {
    /// `lock` or `stale_exe`.
    pub mode: Mode,
    /// Whether this was a `--dry-run`.
    pub dry_run: bool,
    /// `reap` or `skip`.
    pub decision: Verdict,
    /// A stable code: `guards_passed`, a `decision::Reason` in snake case, `stale_exe`,
    /// `no_stale_process` or `self_or_ancestor`.
    pub reason: String,
    /// The reason for people.
    pub message: String,
    /// The exit status the decision calls for (success or refused; a number in JSON).
    pub exit_code: ExitStatus,
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
    pub would_send: Vec<String>,
    /// Timings, in milliseconds.
    pub timings_ms: TimingsMs,
}

/// The lock and who held it.
#[derive(Debug, Serialize, Deserialize)]
pub struct LockInfo {
    /// Where the lock is.
    pub source: LockSource,
    /// Its holder, if any.
    pub holder: Option<LockHolder>,
}

/// The relaunch marker considered.
#[derive(Debug, Serialize, Deserialize)]
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
#[derive(Debug, Serialize, Deserialize)]
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
#[derive(Debug, Default, Serialize, Deserialize)]
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
                Verdict::Reap,
                "guards_passed".to_string(),
                "a fresh relaunch marker from this boot names the holder's pid and start time"
                    .to_string(),
            ),
            Decision::Skip(r) => (
                Verdict::Skip,
                r.name().to_string(),
                r.describe().to_string(),
            ),
        };
        let targets = a.target().map(|t| TargetInfo::of(&t.identity));
        Report {
            mode: Mode::Lock,
            decision,
            reason,
            message,
            exit_code: a.decision.exit_status(),
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
            (Verdict::Reap, "stale_exe", what)
        } else if !refused.is_empty() {
            let what = "only voxctl itself or its ancestors run a stale copy".to_string();
            (Verdict::Skip, "self_or_ancestor", what)
        } else {
            let what = "no process runs a stale copy; nothing to reap".to_string();
            (Verdict::Skip, "no_stale_process", what)
        };
        let report = Report {
            mode: Mode::StaleExe,
            decision,
            reason: reason.into(),
            message,
            exit_code: if refused.is_empty() {
                ExitStatus::Success
            } else {
                ExitStatus::Refused
            },
            targets,
            ..Report::empty(dry_run)
        };
        (report, stale.iter().map(super::stale_target).collect())
    }

    fn empty(dry_run: bool) -> Report {
        Report {
            mode: Mode::Lock,
            dry_run,
            decision: Verdict::Skip,
            reason: String::new(),
            message: String::new(),
            exit_code: ExitStatus::Success,
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
