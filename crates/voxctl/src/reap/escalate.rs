//! Escalation against processes that a decision said to reap: wait the teardown grace, then
//! SIGTERM (and SIGCONT, so a stopped process can act on it), wait the term grace, revalidate,
//! SIGKILL, wait for the exit.
//!
//! Every signal goes through a [`ProcessHandle`] opened before the first wait: on Linux a pidfd,
//! on Windows a process handle, so a pid recycled during the graces is never hit
//! (docs/contract.md, invariant 5). On Windows SIGTERM is `WM_CLOSE` to the target's windows
//! and SIGKILL is `TerminateProcess`; SIGCONT is not sent (see [`Signal`]). Before each
//! signal the target is revalidated: its start time is unchanged and, for a lock holder, the lock
//! still names the same host and pid. A target that exits or releases the lock on its own is left
//! alone. Several targets (`--stale-exe`) go through the phases together, so the graces are waited
//! once, not once per process.

use std::time::{Duration, Instant};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::holder::{LockHolder, LockSource};
use crate::cancel::Cancel;
use crate::process::{ProcessHandle, ProcessIdentity, Signal};

/// How long each phase may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Graces {
    /// How long to wait, sending nothing, for the target to exit or release the lock.
    pub teardown: Duration,
    /// How long to wait after SIGTERM before SIGKILL.
    pub term: Duration,
    /// How long to wait for the exit after SIGKILL before giving up.
    pub kill_wait: Duration,
}

/// How long to wait for the exit after SIGKILL (5 s).
pub const KILL_WAIT: Duration = Duration::from_secs(5);

impl Graces {
    /// The default wait for the target to go on its own (`reap --teardown-grace`).
    pub const TEARDOWN: Duration = Duration::from_secs(3);
    /// The default wait after SIGTERM (`reap --term-grace`).
    pub const TERM: Duration = Duration::from_secs(5);
}

impl Default for Graces {
    /// [`Graces::TEARDOWN`], [`Graces::TERM`] and [`KILL_WAIT`] after SIGKILL.
    fn default() -> Graces {
        Graces {
            teardown: Self::TEARDOWN,
            term: Self::TERM,
            kill_wait: KILL_WAIT,
        }
    }
}

/// What a target must still own for it to be signalled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ownership {
    /// The lock must still name this host and pid (re-read before each signal; a lock that
    /// cannot be read counts as released: fail closed).
    Lock {
        /// Where the lock is.
        source: LockSource,
        /// The holder it named when the decision was made.
        holder: LockHolder,
    },
    /// Nothing beyond the process identity (`--stale-exe`).
    Identity,
}

impl Ownership {
    fn holds(&self) -> bool {
        match self {
            Ownership::Lock { source, holder } => {
                matches!(source.read_presuming(Some(holder.pid)), Ok(Some(h)) if h == *holder)
            }
            Ownership::Identity => true,
        }
    }
}

/// One process to escalate against.
#[derive(Debug, Clone)]
pub struct Target {
    /// The process, as captured when deciding (pid, start time, host, boot).
    pub identity: ProcessIdentity,
    /// What it must still own to be signalled.
    pub ownership: Ownership,
}

/// How escalation ended for one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The process was gone (or its pid recycled) before escalation began; nothing sent.
    GoneBeforeStart,
    /// It exited during the teardown grace; nothing sent.
    ExitedDuringTeardown,
    /// It released the lock during the teardown grace; nothing sent.
    ReleasedDuringTeardown,
    /// It exited after SIGTERM.
    Terminated,
    /// After SIGTERM it released the lock but is still running; SIGKILL was not sent.
    ReleasedAfterTerm,
    /// It exited after SIGKILL.
    Killed,
    /// It was still running after SIGKILL and the kill wait (e.g. stuck in the kernel).
    StillRunning,
}

impl Outcome {
    /// A short lowercase description for people.
    pub fn describe(self) -> &'static str {
        match self {
            Outcome::GoneBeforeStart => "already gone; sent nothing",
            Outcome::ExitedDuringTeardown => {
                "exited on its own during the teardown grace; sent nothing"
            }
            Outcome::ReleasedDuringTeardown => {
                "released the lock on its own during the teardown grace; sent nothing"
            }
            Outcome::Terminated => "exited after SIGTERM",
            Outcome::ReleasedAfterTerm => {
                "released the lock after SIGTERM but still runs; SIGKILL not sent"
            }
            Outcome::Killed => "exited after SIGKILL",
            Outcome::StillRunning => "still running after SIGKILL",
        }
    }
}

/// A signal that was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentSignal {
    /// The target's pid.
    pub pid: i32,
    /// The signal's name, e.g. `SIGTERM`.
    pub signal: String,
    /// When it was sent, in milliseconds since escalation began.
    pub at_ms: u64,
}

/// The result of escalating against one target.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetReport {
    /// The target's pid.
    pub pid: i32,
    /// How it ended.
    pub outcome: Outcome,
    /// The signals sent to it, in order.
    pub signals: Vec<SentSignal>,
    /// Milliseconds from the start of escalation until its exit (or release) was seen.
    pub gone_after_ms: Option<u64>,
}

/// A step of an escalation, reported as it happens: the reap domain's one event type (see
/// [`super::reap()`]). With `--json` nothing of it is printed; the CLI renders each as a line on
/// stderr. Serialized with an `"event"` tag in snake case, durations as `*_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// Waiting up to the teardown grace for these pids, sending nothing.
    TeardownWait {
        /// The pids waited for.
        pids: Vec<i32>,
        /// The teardown grace, in milliseconds.
        grace_ms: u64,
    },
    /// A signal was sent.
    Sent(SentSignal),
    /// Waiting up to the term grace for these pids.
    TermWait {
        /// The pids waited for.
        pids: Vec<i32>,
        /// The term grace, in milliseconds.
        grace_ms: u64,
    },
    /// Waiting for these pids to exit after SIGKILL.
    KillWait {
        /// The pids waited for.
        pids: Vec<i32>,
        /// The longest wait, in milliseconds.
        wait_ms: u64,
    },
    /// A target reached its outcome.
    Done {
        /// The target's pid.
        pid: i32,
        /// How it ended.
        outcome: Outcome,
        /// Milliseconds since escalation began.
        after_ms: u64,
    },
}

/// Timings of a whole escalation, in milliseconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Timings {
    /// Time spent in the teardown grace.
    pub teardown_ms: u64,
    /// Time spent waiting after SIGTERM.
    pub term_ms: u64,
    /// Time spent waiting after SIGKILL.
    pub kill_ms: u64,
    /// The whole escalation.
    pub total_ms: u64,
}

struct Live {
    handle: ProcessHandle,
    ownership: Ownership,
    report: TargetReport,
}

/// Escalates against `targets` (see the module doc), calling `on_event` at each step. The
/// waits end early once `cancel` is cancelled (within 10 ms); nothing more is sent then.
///
/// Errors: [`crate::Error::Refused`] if a target is voxctl or an ancestor,
/// [`crate::Error::Interrupted`] once cancelled, or a pidfd/signal failure naming the pid.
pub fn escalate(
    targets: &[Target],
    graces: Graces,
    cancel: &Cancel,
    on_event: &(dyn Fn(&Event) + Sync),
) -> Result<(Vec<TargetReport>, Timings)> {
    let start = Instant::now();
    let mut done: Vec<TargetReport> = Vec::new();
    let mut live: Vec<Live> = Vec::new();
    for t in targets {
        let report = TargetReport {
            pid: t.identity.pid,
            outcome: Outcome::GoneBeforeStart,
            signals: Vec::new(),
            gone_after_ms: None,
        };
        match ProcessHandle::open(&t.identity)? {
            Some(handle) => live.push(Live {
                handle,
                ownership: t.ownership.clone(),
                report,
            }),
            None => {
                on_event(&Event::Done {
                    pid: t.identity.pid,
                    outcome: report.outcome,
                    after_ms: ms(start.elapsed()),
                });
                done.push(report);
            }
        }
    }
    let mut timings = Timings::default();

    // Phase 1: the teardown grace. A normal relaunch races the old instance's teardown.
    if !live.is_empty() {
        on_event(&Event::TeardownWait {
            pids: pids(&live),
            grace_ms: ms(graces.teardown),
        });
        let t0 = Instant::now();
        wait_phase(
            &mut live,
            &mut done,
            graces.teardown,
            start,
            cancel,
            on_event,
            |l| {
                if l.handle.has_exited() {
                    Some(Outcome::ExitedDuringTeardown)
                } else if !l.ownership.holds() {
                    Some(Outcome::ReleasedDuringTeardown)
                } else {
                    None
                }
            },
        )?;
        timings.teardown_ms = ms(t0.elapsed());
    }

    // Phase 2: SIGTERM, after revalidating, then SIGCONT so a stopped process can act on it.
    let mut termed = Vec::new();
    for mut l in live.drain(..) {
        if let Some(outcome) = revalidate(&l, Outcome::ExitedDuringTeardown) {
            finish(&mut l, outcome, start, on_event);
            done.push(l.report);
            continue;
        }
        if send(&mut l, Signal::Term, start, on_event)? && !l.handle.has_exited() {
            send(&mut l, Signal::Continue, start, on_event)?;
        }
        termed.push(l);
    }
    let mut live = termed;
    if !live.is_empty() {
        on_event(&Event::TermWait {
            pids: pids(&live),
            grace_ms: ms(graces.term),
        });
        let t0 = Instant::now();
        wait_phase(
            &mut live,
            &mut done,
            graces.term,
            start,
            cancel,
            on_event,
            |l| l.handle.has_exited().then_some(Outcome::Terminated),
        )?;
        timings.term_ms = ms(t0.elapsed());
    }

    // Phase 3: revalidate, SIGKILL, wait for the exit.
    let mut killed = Vec::new();
    for mut l in live.drain(..) {
        if let Some(outcome) = revalidate(&l, Outcome::Terminated) {
            let outcome = if outcome == Outcome::ReleasedDuringTeardown {
                Outcome::ReleasedAfterTerm
            } else {
                outcome
            };
            finish(&mut l, outcome, start, on_event);
            done.push(l.report);
            continue;
        }
        send(&mut l, Signal::Kill, start, on_event)?;
        killed.push(l);
    }
    let mut live = killed;
    if !live.is_empty() {
        on_event(&Event::KillWait {
            pids: pids(&live),
            wait_ms: ms(graces.kill_wait),
        });
        let t0 = Instant::now();
        wait_phase(
            &mut live,
            &mut done,
            graces.kill_wait,
            start,
            cancel,
            on_event,
            |l| l.handle.has_exited().then_some(Outcome::Killed),
        )?;
        timings.kill_ms = ms(t0.elapsed());
        for mut l in live {
            finish(&mut l, Outcome::StillRunning, start, on_event);
            l.report.gone_after_ms = None;
            done.push(l.report);
        }
    }
    timings.total_ms = ms(start.elapsed());
    done.sort_by_key(|r| r.pid);
    Ok((done, timings))
}

/// Before a signal: `Some(outcome)` if the target must not be signalled, because it exited
/// (`exited`) or no longer owns the lock or its identity (`ReleasedDuringTeardown`).
fn revalidate(l: &Live, exited: Outcome) -> Option<Outcome> {
    if l.handle.has_exited() {
        Some(exited)
    } else if !l.ownership.holds() || !l.handle.identity().is_alive() {
        Some(Outcome::ReleasedDuringTeardown)
    } else {
        None
    }
}

/// Polls until every live target reaches an outcome (per `check`) or `grace` passes. Exits are
/// seen at once through the first target's pidfd; other conditions within 10 ms.
fn wait_phase(
    live: &mut Vec<Live>,
    done: &mut Vec<TargetReport>,
    grace: Duration,
    start: Instant,
    cancel: &Cancel,
    on_event: &(dyn Fn(&Event) + Sync),
    check: impl Fn(&Live) -> Option<Outcome>,
) -> Result<()> {
    let deadline = crate::duration::deadline(grace);
    loop {
        let mut i = 0;
        while i < live.len() {
            if let Some(outcome) = check(&live[i]) {
                let mut l = live.remove(i);
                finish(&mut l, outcome, start, on_event);
                done.push(l.report);
            } else {
                i += 1;
            }
        }
        let now = Instant::now();
        if live.is_empty() || now >= deadline {
            return Ok(());
        }
        cancel.check()?;
        let step = (deadline - now).min(Duration::from_millis(10));
        live[0].handle.wait_exit(step);
    }
}

fn send(
    l: &mut Live,
    sig: Signal,
    start: Instant,
    on_event: &(dyn Fn(&Event) + Sync),
) -> Result<bool> {
    let sent = l.handle.signal(sig)?;
    if sent {
        let s = SentSignal {
            pid: l.report.pid,
            signal: sig.name().to_string(),
            at_ms: ms(start.elapsed()),
        };
        l.report.signals.push(s.clone());
        on_event(&Event::Sent(s));
    }
    Ok(sent)
}

fn finish(l: &mut Live, outcome: Outcome, start: Instant, on_event: &(dyn Fn(&Event) + Sync)) {
    l.report.outcome = outcome;
    l.report.gone_after_ms = Some(ms(start.elapsed()));
    on_event(&Event::Done {
        pid: l.report.pid,
        outcome,
        after_ms: ms(start.elapsed()),
    });
}

fn pids(live: &[Live]) -> Vec<i32> {
    live.iter().map(|l| l.report.pid).collect()
}

/// Whole milliseconds in `d` (saturating).
pub fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
