//! The reap decision, as a pure function over plain data, so every row of the guard table is
//! unit-tested without processes.
//!
//! A holder of the app's lock is reaped only on evidence that it is the instance the updater
//! just replaced: a fresh relaunch marker, from this boot and this host, naming the holder's
//! pid *and* its start time (so a recycled pid never matches). Anything else is a skip: exit 0
//! when there is nothing to reap (no holder, a holder that is gone, no usable marker), exit 5
//! when a live holder exists and a guard refuses.

use serde::Serialize;

use crate::exit::ExitStatus;

/// What is known about the lock's holder, gathered just before deciding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolderFacts {
    /// The holder's pid, from the lock.
    pub pid: i32,
    /// The host the lock names (`None` for a pidfile, which is local).
    pub host: Option<String>,
    /// The pid's current start time (see `process::start_time`), `None` if no such process.
    pub start_time: Option<u64>,
    /// Whether the pid is a running process (exists and is not a zombie).
    pub alive: bool,
    /// Whether the pid is voxctl itself or one of its ancestors.
    pub self_or_ancestor: bool,
    /// The (device, inode) of the holder's executable, if readable.
    pub exe: Option<(u64, u64)>,
}

/// What the relaunch marker says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkerFacts {
    /// The marked instance's pid.
    pub pid: i32,
    /// The marked instance's start time.
    pub start_time: u64,
    /// The boot the marker was written in.
    pub boot_id: Option<String>,
    /// The host the marker was written on.
    pub host: Option<String>,
    /// The marker's age, in milliseconds.
    pub age_ms: u64,
    /// The (device, inode) of the marked instance's executable, if it was recorded.
    pub exe: Option<(u64, u64)>,
}

/// Everything the decision looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// The lock's holder; `None` when nobody holds the lock.
    pub holder: Option<HolderFacts>,
    /// The relaunch marker; `None` when there is none.
    pub marker: Option<MarkerFacts>,
    /// This host's name; `None` if it cannot be read (then nothing is reaped).
    pub this_host: Option<String>,
    /// This boot's id; `None` if it cannot be read (then nothing is reaped).
    pub this_boot: Option<String>,
    /// Markers older than this many milliseconds are ignored.
    pub max_marker_age_ms: u64,
}

/// Why nothing is reaped. Each reason has one exit status ([`Reason::exit_status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Nobody holds the lock (exit 0).
    NoHolder,
    /// This host's name cannot be read: fail closed (exit 5).
    HostUnknown,
    /// The lock names another host (exit 5).
    OtherHost,
    /// The holder pid is not running: a stale lock, nothing to reap (exit 0).
    HolderGone,
    /// The holder is voxctl itself or one of its ancestors (exit 5).
    SelfOrAncestor,
    /// No relaunch marker: the holder is presumed healthy (exit 0).
    NoMarker,
    /// This boot's id cannot be read: fail closed (exit 5).
    BootUnknown,
    /// The marker was written in another boot, so it is ignored (exit 0).
    MarkerOtherBoot,
    /// The marker is older than the max age, so it is ignored (exit 0).
    MarkerStale,
    /// The marker was written on another host (exit 5).
    MarkerOtherHost,
    /// The marker names another pid than the lock's holder (exit 5).
    PidMismatch,
    /// The holder's start time is not the marker's: the pid was recycled (exit 5).
    StartTimeMismatch,
    /// The holder runs another executable (device, inode) than the marked one (exit 5).
    ExeMismatch,
}

impl Reason {
    /// The exit status of this skip: success when there is nothing to reap, refused when a
    /// guard refused.
    pub fn exit_status(self) -> ExitStatus {
        match self {
            Reason::NoHolder
            | Reason::HolderGone
            | Reason::NoMarker
            | Reason::MarkerOtherBoot
            | Reason::MarkerStale => ExitStatus::Success,
            Reason::HostUnknown
            | Reason::OtherHost
            | Reason::SelfOrAncestor
            | Reason::BootUnknown
            | Reason::MarkerOtherHost
            | Reason::PidMismatch
            | Reason::StartTimeMismatch
            | Reason::ExeMismatch => ExitStatus::Refused,
        }
    }

    /// The stable code in JSON reports: the variant's name in snake case (`no_holder`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Reason::NoHolder => "no_holder",
            Reason::HostUnknown => "host_unknown",
            Reason::OtherHost => "other_host",
            Reason::HolderGone => "holder_gone",
            Reason::SelfOrAncestor => "self_or_ancestor",
            Reason::NoMarker => "no_marker",
            Reason::BootUnknown => "boot_unknown",
            Reason::MarkerOtherBoot => "marker_other_boot",
            Reason::MarkerStale => "marker_stale",
            Reason::MarkerOtherHost => "marker_other_host",
            Reason::PidMismatch => "pid_mismatch",
            Reason::StartTimeMismatch => "start_time_mismatch",
            Reason::ExeMismatch => "exe_mismatch",
        }
    }

    /// A short lowercase explanation for people.
    pub fn describe(self) -> &'static str {
        match self {
            Reason::NoHolder => "nobody holds the lock; nothing to reap",
            Reason::HostUnknown => "this host's name cannot be read; refusing to reap",
            Reason::OtherHost => "the lock names another host; refusing to reap",
            Reason::HolderGone => "the lock's holder is not running (stale lock); nothing to reap",
            Reason::SelfOrAncestor => "the holder is voxctl itself or one of its ancestors",
            Reason::NoMarker => "no relaunch marker: the holder is presumed healthy",
            Reason::BootUnknown => "this boot's id cannot be read; refusing to reap",
            Reason::MarkerOtherBoot => "the relaunch marker is from another boot; ignored",
            Reason::MarkerStale => "the relaunch marker is older than the max age; ignored",
            Reason::MarkerOtherHost => "the relaunch marker was written on another host",
            Reason::PidMismatch => "the relaunch marker names another pid than the lock's holder",
            Reason::StartTimeMismatch => {
                "the holder's start time differs from the marker's (pid recycled)"
            }
            Reason::ExeMismatch => "the holder runs another executable than the marked instance",
        }
    }
}

/// The outcome of [`decide`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Every guard passed: escalate against the holder.
    Reap,
    /// Do nothing, for this reason.
    Skip(Reason),
}

impl Decision {
    /// Success for [`Decision::Reap`] and for skips with nothing to reap, refused for
    /// refusals.
    pub fn exit_status(self) -> ExitStatus {
        match self {
            Decision::Reap => ExitStatus::Success,
            Decision::Skip(r) => r.exit_status(),
        }
    }
}

/// Decides whether to reap the lock's holder. The guards run in this order, the first that
/// fails gives the reason: holder present; this host known; lock's host is this host; holder
/// alive; not voxctl or an ancestor; marker present; this boot known; marker from this boot;
/// marker fresh; marker from this host; marker pid = holder pid; holder start time = marker
/// start time; holder executable = marked executable (when both are known).
pub fn decide(f: &Facts) -> Decision {
    use Decision::Skip;
    let Some(holder) = &f.holder else {
        return Skip(Reason::NoHolder);
    };
    let Some(this_host) = &f.this_host else {
        return Skip(Reason::HostUnknown);
    };
    if holder.host.as_ref().is_some_and(|h| h != this_host) {
        return Skip(Reason::OtherHost);
    }
    if !holder.alive {
        return Skip(Reason::HolderGone);
    }
    if holder.self_or_ancestor {
        return Skip(Reason::SelfOrAncestor);
    }
    let Some(marker) = &f.marker else {
        return Skip(Reason::NoMarker);
    };
    let Some(this_boot) = &f.this_boot else {
        return Skip(Reason::BootUnknown);
    };
    if marker.boot_id.as_ref() != Some(this_boot) {
        return Skip(Reason::MarkerOtherBoot);
    }
    if marker.age_ms > f.max_marker_age_ms {
        return Skip(Reason::MarkerStale);
    }
    if marker.host.as_ref() != Some(this_host) {
        return Skip(Reason::MarkerOtherHost);
    }
    if marker.pid != holder.pid {
        return Skip(Reason::PidMismatch);
    }
    if holder.start_time != Some(marker.start_time) {
        return Skip(Reason::StartTimeMismatch);
    }
    if let (Some(a), Some(b)) = (holder.exe, marker.exe) {
        if a != b {
            return Skip(Reason::ExeMismatch);
        }
    }
    Decision::Reap
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reapable() -> Facts {
        Facts {
            holder: Some(HolderFacts {
                pid: 100,
                host: Some("box".into()),
                start_time: Some(555),
                alive: true,
                self_or_ancestor: false,
                exe: Some((1, 2)),
            }),
            marker: Some(MarkerFacts {
                pid: 100,
                start_time: 555,
                boot_id: Some("boot-a".into()),
                host: Some("box".into()),
                age_ms: 1_000,
                exe: Some((1, 2)),
            }),
            this_host: Some("box".into()),
            this_boot: Some("boot-a".into()),
            max_marker_age_ms: 300_000,
        }
    }

    fn holder(f: &mut Facts) -> &mut HolderFacts {
        f.holder.as_mut().unwrap()
    }

    fn marker(f: &mut Facts) -> &mut MarkerFacts {
        f.marker.as_mut().unwrap()
    }

    #[test]
    fn every_row_of_the_guard_table() {
        type Edit = fn(&mut Facts);
        #[rustfmt::skip]
        let rows: &[(&str, Edit, Decision, u8)] = &[
            ("all guards pass", |_| {}, Decision::Reap, 0),
            ("pidfile holder (no host) passes", |f| holder(f).host = None, Decision::Reap, 0),
            ("marker at exactly the max age", |f| marker(f).age_ms = 300_000, Decision::Reap, 0),
            ("exe unknown on holder side", |f| holder(f).exe = None, Decision::Reap, 0),
            ("exe not recorded in marker", |f| marker(f).exe = None, Decision::Reap, 0),
            ("no holder", |f| f.holder = None, Decision::Skip(Reason::NoHolder), 0),
            ("no holder, no marker", |f| { f.holder = None; f.marker = None }, Decision::Skip(Reason::NoHolder), 0),
            ("no holder, host unknown", |f| { f.holder = None; f.this_host = None }, Decision::Skip(Reason::NoHolder), 0),
            ("this host unknown", |f| f.this_host = None, Decision::Skip(Reason::HostUnknown), 5),
            ("this host unknown, pidfile", |f| { f.this_host = None; holder(f).host = None }, Decision::Skip(Reason::HostUnknown), 5),
            ("lock names another host", |f| holder(f).host = Some("other".into()), Decision::Skip(Reason::OtherHost), 5),
            ("lock host differs only by case", |f| holder(f).host = Some("BOX".into()), Decision::Skip(Reason::OtherHost), 5),
            ("holder not running", |f| { holder(f).alive = false; holder(f).start_time = None }, Decision::Skip(Reason::HolderGone), 0),
            ("holder is a zombie", |f| holder(f).alive = false, Decision::Skip(Reason::HolderGone), 0),
            ("holder is voxctl or an ancestor", |f| holder(f).self_or_ancestor = true, Decision::Skip(Reason::SelfOrAncestor), 5),
            ("no marker", |f| f.marker = None, Decision::Skip(Reason::NoMarker), 0),
            ("this boot unknown", |f| f.this_boot = None, Decision::Skip(Reason::BootUnknown), 5),
            ("marker from another boot", |f| marker(f).boot_id = Some("boot-b".into()), Decision::Skip(Reason::MarkerOtherBoot), 0),
            ("marker without a boot id", |f| marker(f).boot_id = None, Decision::Skip(Reason::MarkerOtherBoot), 0),
            ("marker older than the max age", |f| marker(f).age_ms = 300_001, Decision::Skip(Reason::MarkerStale), 0),
            ("marker from another host", |f| marker(f).host = Some("other".into()), Decision::Skip(Reason::MarkerOtherHost), 5),
            ("marker without a host", |f| marker(f).host = None, Decision::Skip(Reason::MarkerOtherHost), 5),
            ("marker pid differs", |f| marker(f).pid = 101, Decision::Skip(Reason::PidMismatch), 5),
            ("start time differs (pid recycled)", |f| marker(f).start_time = 556, Decision::Skip(Reason::StartTimeMismatch), 5),
            ("holder start time unknown", |f| holder(f).start_time = None, Decision::Skip(Reason::StartTimeMismatch), 5),
            ("executable differs", |f| marker(f).exe = Some((1, 3)), Decision::Skip(Reason::ExeMismatch), 5),
            // Order: the first failing guard names the reason.
            ("other host beats no marker", |f| { holder(f).host = Some("x".into()); f.marker = None }, Decision::Skip(Reason::OtherHost), 5),
            ("gone beats self", |f| { holder(f).alive = false; holder(f).self_or_ancestor = true }, Decision::Skip(Reason::HolderGone), 0),
            ("self beats no marker", |f| { holder(f).self_or_ancestor = true; f.marker = None }, Decision::Skip(Reason::SelfOrAncestor), 5),
            ("stale beats pid mismatch", |f| { marker(f).age_ms = u64::MAX; marker(f).pid = 1 }, Decision::Skip(Reason::MarkerStale), 0),
            ("pid mismatch beats start time", |f| { marker(f).pid = 1; marker(f).start_time = 1 }, Decision::Skip(Reason::PidMismatch), 5),
        ];
        for (name, edit, want, code) in rows {
            let mut f = reapable();
            edit(&mut f);
            let got = decide(&f);
            assert_eq!(got, *want, "row {name:?}");
            assert_eq!(got.exit_status().code(), *code, "row {name:?} exit code");
        }
        // Every reason appears in some row, so the table covers every guard.
        let reasons: Vec<Reason> = rows
            .iter()
            .filter_map(|(_, _, d, _)| match d {
                Decision::Skip(r) => Some(*r),
                Decision::Reap => None,
            })
            .collect();
        for r in [
            Reason::NoHolder,
            Reason::HostUnknown,
            Reason::OtherHost,
            Reason::HolderGone,
            Reason::SelfOrAncestor,
            Reason::NoMarker,
            Reason::BootUnknown,
            Reason::MarkerOtherBoot,
            Reason::MarkerStale,
            Reason::MarkerOtherHost,
            Reason::PidMismatch,
            Reason::StartTimeMismatch,
            Reason::ExeMismatch,
        ] {
            assert!(reasons.contains(&r), "{r:?} has no row");
            assert!(!r.describe().is_empty());
            assert_eq!(serde_json::to_value(r).unwrap(), r.name(), "{r:?}");
        }
    }

    #[test]
    fn each_reason_explains_its_own_guard() {
        // `reap` prints these; a wrong or shared explanation would tell the user to look at the
        // wrong guard.
        #[rustfmt::skip]
        let rows = [
            (Reason::NoHolder, "nobody holds"),
            (Reason::HostUnknown, "host's name"),
            (Reason::OtherHost, "another host"),
            (Reason::HolderGone, "not running"),
            (Reason::SelfOrAncestor, "ancestors"),
            (Reason::NoMarker, "no relaunch marker"),
            (Reason::BootUnknown, "boot's id"),
            (Reason::MarkerOtherBoot, "another boot"),
            (Reason::MarkerStale, "older than the max age"),
            (Reason::MarkerOtherHost, "written on another host"),
            (Reason::PidMismatch, "another pid"),
            (Reason::StartTimeMismatch, "start time"),
            (Reason::ExeMismatch, "another executable"),
        ];
        for (r, words) in rows {
            assert!(r.describe().contains(words), "{r:?}: {:?}", r.describe());
        }
    }
}
