//! Reaping: clearing a wedged previous instance of the app after an update, and never a
//! healthy one (docs/contract.md, invariant 5).
//!
//! The modules: [`holder`] reads who holds the app's lock (a `SingletonLock` symlink, a
//! Windows profile `lockfile` or a pidfile); [`decision`] is the pure guard table over plain [`decision::Facts`]; [`assess`]
//! gathers those facts from the system and the relaunch marker ([`crate::marker`]);
//! [`escalate`] does the waiting and signalling through pidfds; [`stale_exe`] finds processes
//! still running a replaced binary; [`report`] is what a run reports. [`reap()`] is the entry
//! point that ties them together (peek, decide, confirm, consume the marker, decide again,
//! escalate); `src/commands/reap.rs` only parses arguments, asks at the prompt and prints.

pub mod decision;
pub mod escalate;
pub mod holder;
pub mod report;
pub mod run;
pub mod stale_exe;

pub use run::{reap, Mode, Question, Settings, DEFAULT_MAX_MARKER_AGE, KILL_WAIT};

use std::time::Duration;

use anyhow::Result;

use crate::marker::RelaunchMarker;
use crate::process::{self, ProcessIdentity};
use decision::{Decision, Facts, HolderFacts, MarkerFacts};
use escalate::{Ownership, Target};
use holder::{LockHolder, LockSource};

/// The facts about a lock and a marker, and the decision they lead to.
#[derive(Debug, Clone)]
pub struct Assessment {
    /// Where the lock is.
    pub source: LockSource,
    /// The lock's holder, if any.
    pub holder: Option<LockHolder>,
    /// The relaunch marker considered, if any.
    pub marker: Option<RelaunchMarker>,
    /// The facts the decision looked at.
    pub facts: Facts,
    /// The decision.
    pub decision: Decision,
}

impl Assessment {
    /// The process to escalate against when the decision is [`Decision::Reap`]: the marked
    /// identity (which the decision checked equals the holder's), owning the lock.
    pub fn target(&self) -> Option<Target> {
        match (&self.decision, &self.marker, &self.holder) {
            (Decision::Reap, Some(m), Some(h)) => Some(Target {
                identity: m.identity.clone(),
                ownership: Ownership::Lock {
                    source: self.source.clone(),
                    holder: h.clone(),
                },
            }),
            _ => None,
        }
    }
}

/// Reads the lock's holder, gathers the facts about it and about `marker` (already read or
/// taken by the caller), and decides. Errors only when the lock exists but cannot be read.
pub fn assess(
    source: &LockSource,
    marker: Option<RelaunchMarker>,
    max_marker_age: Duration,
) -> Result<Assessment> {
    let presumed = marker.as_ref().map(|m| m.identity.pid);
    let holder = source.read_presuming(presumed)?;
    let facts = Facts {
        holder: holder.as_ref().map(holder_facts),
        marker: marker.as_ref().map(marker_facts),
        this_host: process::hostname(),
        this_boot: process::boot_id(),
        max_marker_age_ms: escalate::ms(max_marker_age),
    };
    // A held lock that names nobody (a Windows `lockfile`) with no marker to name its holder
    // is a healthy instance, not a free lock.
    let decision = if holder.is_none() && presumed.is_none() && source.held_unnamed()? {
        Decision::Skip(decision::Reason::NoMarker)
    } else {
        decision::decide(&facts)
    };
    Ok(Assessment {
        source: source.clone(),
        holder,
        marker,
        facts,
        decision,
    })
}

/// The live facts about the process a lock names.
pub fn holder_facts(holder: &LockHolder) -> HolderFacts {
    let start_time = process::start_time(holder.pid);
    HolderFacts {
        pid: holder.pid,
        host: holder.host.clone(),
        start_time,
        alive: start_time.is_some() && !process::is_zombie(holder.pid),
        self_or_ancestor: process::self_and_ancestors().contains(&holder.pid),
        exe: process::exe_identity(holder.pid).map(|(_, dev, ino)| (dev, ino)),
    }
}

/// The facts a relaunch marker records, with its age now.
pub fn marker_facts(m: &RelaunchMarker) -> MarkerFacts {
    MarkerFacts {
        pid: m.identity.pid,
        start_time: m.identity.start_time,
        boot_id: m.identity.boot_id.clone(),
        host: m.identity.host.clone(),
        age_ms: m.age_ms(),
        exe: m.exe_dev.zip(m.exe_ino),
    }
}

/// The identity a `--stale-exe` target is escalated against.
pub fn stale_target(p: &stale_exe::StaleProcess) -> Target {
    Target {
        identity: ProcessIdentity::clone(&p.identity),
        ownership: Ownership::Identity,
    }
}
