//! Process identity and safe signalling (docs/contract.md, invariant 5: never signal
//! the wrong process).
//!
//! A pid alone is not an identity: pids are recycled. A [`ProcessIdentity`] adds the process
//! start time (on Linux the `starttime` field of `/proc/PID/stat`, in clock ticks since boot;
//! on Windows the creation time from `GetProcessTimes`, in 100 ns intervals since 1601;
//! elsewhere sysinfo's start time in seconds since the epoch), the boot id and the host name.
//! [`ProcessHandle::open`] revalidates the identity *after* pinning the process (a pidfd on
//! Linux, a process handle on Windows: the pid cannot be reused while it is held), so every
//! signal sent through the handle reaches that very process or nobody; on other platforms the
//! identity is revalidated right before `kill(2)`. The OS side is
//! `crate::platform::process`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::platform::process as platform;
pub use crate::platform::process::Signal;
use crate::Error;

/// Who a process is, in a form that survives pid reuse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessIdentity {
    /// The process id.
    pub pid: i32,
    /// The process start time: clock ticks since boot on Linux, 100 ns intervals since 1601
    /// on Windows, epoch seconds elsewhere.
    pub start_time: u64,
    /// The boot id (`/proc/sys/kernel/random/boot_id` on Linux), if known.
    pub boot_id: Option<String>,
    /// The host name, if it could be read.
    pub host: Option<String>,
}

impl ProcessIdentity {
    /// Captures the identity of a live process, or `None` if `pid` does not exist.
    pub fn capture(pid: i32) -> Option<ProcessIdentity> {
        Some(ProcessIdentity {
            pid,
            start_time: start_time(pid)?,
            boot_id: boot_id(),
            host: hostname(),
        })
    }

    /// The identity of the calling process.
    pub fn current() -> ProcessIdentity {
        let pid = std::process::id() as i32;
        ProcessIdentity::capture(pid).unwrap_or(ProcessIdentity {
            pid,
            start_time: 0,
            boot_id: boot_id(),
            host: hostname(),
        })
    }

    /// Whether this exact process is still running: same host, same boot, and the pid's
    /// current start time equals the recorded one.
    pub fn is_alive(&self) -> bool {
        self.host == hostname()
            && self.boot_id == boot_id()
            && start_time(self.pid) == Some(self.start_time)
    }
}

/// The host name, or `None` if it cannot be read (callers that guard signals fail closed).
pub fn hostname() -> Option<String> {
    platform::hostname()
}

/// The current boot's id (`platform::boot_id`: `/proc/sys/kernel/random/boot_id` on
/// Linux; elsewhere the boot time, as text).
pub fn boot_id() -> Option<String> {
    platform::boot_id()
}

/// A process's start time (see [`ProcessIdentity::start_time`]), or `None` if it is gone.
/// A zombie still has a start time; see [`is_zombie`].
pub fn start_time(pid: i32) -> Option<u64> {
    platform::start_time(pid)
}

/// How long ago `pid` started, or `None` if it is gone or the clock cannot be read.
pub fn age(pid: i32) -> Option<Duration> {
    platform::age(pid)
}

/// Whether `pid` is a zombie (exited, not yet reaped by its parent; on Windows, exited but
/// kept by an open handle).
pub fn is_zombie(pid: i32) -> bool {
    platform::is_zombie(pid)
}

/// Whether `pid` is stopped (SIGSTOP, SIGTSTP, Ctrl-Z) or stopped under a tracer; `false`
/// if it runs or is gone (always on Windows, which has no such state).
pub fn is_stopped(pid: i32) -> bool {
    platform::is_stopped(pid)
}

/// The parent of `pid`, or `None` if it is gone or has no parent.
pub fn parent_pid(pid: i32) -> Option<i32> {
    platform::parent_pid(pid)
}

/// The calling process and all its ancestors, nearest first (pid 1 included if reached).
pub fn self_and_ancestors() -> Vec<i32> {
    let mut chain = vec![std::process::id() as i32];
    while let Some(p) = chain.last().copied().and_then(parent_pid) {
        if chain.contains(&p) || chain.len() > 4096 {
            break;
        }
        chain.push(p);
    }
    chain
}

/// The first of voxctl and its ancestors ([`self_and_ancestors`], voxctl first) that is a
/// member of the group led by `leader` (Unix: process group `leader`; Windows: the leader's
/// job), if any: signalling that group would hit it.
pub fn lineage_in_group(leader: &ProcessIdentity) -> Option<i32> {
    self_and_ancestors()
        .into_iter()
        .find(|&pid| platform::in_group(pid, leader.pid, leader.start_time))
}

/// The command line of `pid`, arguments joined by spaces, if readable.
pub fn cmdline(pid: i32) -> Option<String> {
    platform::cmdline(pid)
}

/// The executable of `pid`: its path as the system reports it (on Linux with a trailing
/// ` (deleted)` when the file was replaced) and its file identity (`platform::exe_path`).
pub fn exe_identity(pid: i32) -> Option<(PathBuf, u64, u64)> {
    platform::exe_path(pid)
}

/// A verified handle on one process: signals sent through it reach that process or nobody.
#[derive(Debug)]
pub struct ProcessHandle {
    identity: ProcessIdentity,
    pinned: platform::Pinned,
}

impl ProcessHandle {
    /// Opens a handle on `identity`'s process after checking that it is not voxctl itself or
    /// one of its ancestors ([`Error::Refused`]). Returns `Ok(None)` if that process is gone
    /// (exited, or the pid now belongs to a process with another start time, host or boot).
    pub fn open(identity: &ProcessIdentity) -> Result<Option<ProcessHandle>> {
        if self_and_ancestors().contains(&identity.pid) {
            return Err(Error::Refused(format!(
                "pid {} is voxctl itself or one of its ancestors; not signalling it",
                identity.pid
            ))
            .into());
        }
        let pinned = match platform::Pinned::open(identity.pid) {
            Ok(Some(pinned)) => pinned,
            Ok(None) => return Ok(None),
            Err(e) => {
                let what = if cfg!(windows) { "a handle" } else { "a pidfd" };
                return Err(anyhow::Error::from(e)
                    .context(format!("cannot open {what} for pid {}", identity.pid)));
            }
        };
        // The handle now pins this pid (Linux, Windows); check it is still the recorded
        // process.
        if !identity.is_alive() {
            return Ok(None);
        }
        Ok(Some(ProcessHandle {
            identity: identity.clone(),
            pinned,
        }))
    }

    /// The process this handle refers to.
    pub fn identity(&self) -> &ProcessIdentity {
        &self.identity
    }

    /// Sends `sig` (see [`Signal`] for what each is on Windows). Returns `Ok(false)` if the
    /// process has already exited (or, on Windows, `sig` has nothing to send there).
    pub fn signal(&self, sig: Signal) -> Result<bool> {
        // Where the handle cannot pin the process, revalidate right before the signal.
        if !platform::PINS && !self.identity.is_alive() {
            return Ok(false);
        }
        self.pinned.signal(sig).map_err(|e| {
            anyhow::Error::from(e)
                .context(format!("cannot send {sig} to pid {}", self.identity.pid))
        })
    }

    /// Whether the process has exited (a zombie counts as exited).
    pub fn has_exited(&self) -> bool {
        if !platform::PINS {
            return !self.identity.is_alive() || is_zombie(self.identity.pid);
        }
        self.pinned.has_exited()
    }

    /// Waits up to `timeout` for the process to exit, in steps of at most 100 ms (on Linux and
    /// Windows the handle wakes the wait on exit). Returns whether it exited.
    pub fn wait_exit(&self, timeout: Duration) -> bool {
        let deadline = crate::duration::deadline(timeout);
        loop {
            if self.has_exited() {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            self.pinned
                .wait_step((deadline - now).min(Duration::from_millis(100)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_of_self_and_refusal_to_signal_self() {
        let me = ProcessIdentity::current();
        assert!(me.is_alive());
        let err = ProcessHandle::open(&me).unwrap_err();
        assert!(matches!(Error::find(&err), Some(Error::Refused(_))));
        // A Windows program that Wine started from Linux has no Windows parent.
        let parent = parent_pid(me.pid);
        if cfg!(unix) || parent.is_some() {
            let parent = ProcessIdentity::capture(parent.unwrap()).unwrap();
            assert!(
                ProcessHandle::open(&parent).is_err(),
                "ancestors are refused"
            );
        }
    }

    #[test]
    #[cfg(unix)]
    fn recycled_pid_is_not_signalled() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let mut id = ProcessIdentity::capture(child.id() as i32).unwrap();
        id.start_time += 1; // as if the pid now belonged to another process
        assert!(ProcessHandle::open(&id).unwrap().is_none());
        assert!(child.try_wait().unwrap().is_none(), "child untouched");
        id.start_time -= 1;
        let h = ProcessHandle::open(&id).unwrap().unwrap();
        assert_eq!(h.identity(), &id);
        assert!(!h.has_exited(), "sleep 30 is running");
        assert!(
            !h.wait_exit(Duration::from_millis(20)),
            "sleep 30 outlives 20 ms"
        );
        assert!(h.signal(Signal::Term).unwrap());
        // The handle sees the exit before the child is reaped (a zombie counts as exited).
        assert!(h.wait_exit(Duration::from_secs(60)), "SIGTERM ends sleep");
        assert!(h.has_exited());
        let status = child.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(nix::sys::signal::Signal::SIGTERM as i32),
            "the signal reached the child"
        );
        assert!(
            !h.signal(Signal::Term).unwrap(),
            "a reaped process is reported gone, not signalled"
        );
    }
}
