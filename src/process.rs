//! Process identity and safe signalling (docs/contract.md, invariant 5: never signal
//! the wrong process).
//!
//! A pid alone is not an identity: pids are recycled. A [`ProcessIdentity`] adds the process
//! start time (on Linux the `starttime` field of `/proc/PID/stat`, in clock ticks since boot;
//! elsewhere sysinfo's start time in seconds since the epoch), the boot id and the host name.
//! [`ProcessHandle::open`] revalidates the identity *after* opening a pidfd (Linux), so every
//! signal sent through the handle reaches that very process or nobody; on other platforms the
//! identity is revalidated right before `kill(2)`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Result;
use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};

use crate::Error;

/// Who a process is, in a form that survives pid reuse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessIdentity {
    /// The process id.
    pub pid: i32,
    /// The process start time: clock ticks since boot on Linux, epoch seconds elsewhere.
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
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
}

/// The current boot's id: `/proc/sys/kernel/random/boot_id` on Linux; on other platforms the
/// boot time in epoch seconds, as text.
pub fn boot_id() -> Option<String> {
    #[cfg(target_os = "linux")]
    {
        std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .ok()
            .map(|s| s.trim().to_string())
    }
    #[cfg(not(target_os = "linux"))]
    {
        Some(sysinfo::System::boot_time().to_string())
    }
}

/// The fields of `/proc/PID/stat` after the command name (field 3, `state`, is index 0).
#[cfg(target_os = "linux")]
fn stat_fields(pid: i32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may itself contain spaces and parentheses.
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_string).collect())
}

/// A process's start time (see [`ProcessIdentity::start_time`]), or `None` if it is gone.
/// A zombie still has a start time; see [`is_zombie`].
pub fn start_time(pid: i32) -> Option<u64> {
    if pid <= 0 {
        return None;
    }
    #[cfg(target_os = "linux")]
    {
        stat_fields(pid)?.get(19)?.parse().ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        with_sysinfo(pid, |p| p.start_time())
    }
}

/// How long ago `pid` started, or `None` if it is gone or the clock cannot be read. On Linux
/// from `/proc/uptime` and the start time in clock ticks (`sysconf(_SC_CLK_TCK)`); elsewhere
/// from the start time in epoch seconds.
pub fn age(pid: i32) -> Option<Duration> {
    let start = start_time(pid)?;
    #[cfg(target_os = "linux")]
    {
        let uptime: f64 = std::fs::read_to_string("/proc/uptime")
            .ok()?
            .split_whitespace()
            .next()?
            .parse()
            .ok()?;
        let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
            .ok()
            .flatten()
            .filter(|t| *t > 0)?;
        let started = start as f64 / ticks as f64;
        Some(Duration::from_secs_f64((uptime - started).max(0.0)))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_secs();
        Some(Duration::from_secs(now.saturating_sub(start)))
    }
}

/// Whether `pid` is a zombie (exited, not yet reaped by its parent); off Linux via sysinfo.
pub fn is_zombie(pid: i32) -> bool {
    #[cfg(target_os = "linux")]
    {
        stat_fields(pid).is_some_and(|f| f.first().is_some_and(|s| s == "Z" || s == "X"))
    }
    #[cfg(not(target_os = "linux"))]
    {
        with_sysinfo(pid, |p| p.status() == sysinfo::ProcessStatus::Zombie).unwrap_or(false)
    }
}

/// Whether `pid` is stopped (SIGSTOP, SIGTSTP, Ctrl-Z) or stopped under a tracer; `false`
/// if it runs or is gone. Off Linux via sysinfo.
pub fn is_stopped(pid: i32) -> bool {
    #[cfg(target_os = "linux")]
    {
        stat_fields(pid).is_some_and(|f| f.first().is_some_and(|s| s == "T" || s == "t"))
    }
    #[cfg(not(target_os = "linux"))]
    {
        with_sysinfo(pid, |p| {
            matches!(
                p.status(),
                sysinfo::ProcessStatus::Stop | sysinfo::ProcessStatus::Tracing
            )
        })
        .unwrap_or(false)
    }
}

/// The parent of `pid`, or `None` if it is gone or has no parent.
pub fn parent_pid(pid: i32) -> Option<i32> {
    #[cfg(target_os = "linux")]
    {
        stat_fields(pid)?
            .get(1)?
            .parse()
            .ok()
            .filter(|p: &i32| *p > 0)
    }
    #[cfg(not(target_os = "linux"))]
    {
        with_sysinfo(pid, |p| p.parent().map(|pp| pp.as_u32() as i32)).flatten()
    }
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
/// member of process group `pgid`, if any: signalling that group would hit it.
pub fn lineage_in_group(pgid: i32) -> Option<i32> {
    self_and_ancestors().into_iter().find(|&pid| {
        nix::unistd::getpgid(Some(nix::unistd::Pid::from_raw(pid)))
            .is_ok_and(|g| g.as_raw() == pgid)
    })
}

/// The command line of `pid`, arguments joined by spaces, if readable.
pub fn cmdline(pid: i32) -> Option<String> {
    #[cfg(target_os = "linux")]
    {
        let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let args: Vec<String> = raw
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        Some(args.join(" "))
    }
    #[cfg(not(target_os = "linux"))]
    {
        with_sysinfo(pid, |p| {
            p.cmd()
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
    }
}

/// The executable of `pid`: its path as the kernel reports it (on Linux with a trailing
/// ` (deleted)` when the file was replaced) and its (device, inode) identity.
pub fn exe_identity(pid: i32) -> Option<(PathBuf, u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    #[cfg(target_os = "linux")]
    {
        let link = format!("/proc/{pid}/exe");
        let path = std::fs::read_link(&link).ok()?;
        // stat through the magic link reaches the running file even after it was unlinked.
        let meta = std::fs::metadata(&link).ok()?;
        Some((path, meta.dev(), meta.ino()))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let path = with_sysinfo(pid, |p| p.exe().map(|e| e.to_path_buf())).flatten()?;
        let meta = std::fs::metadata(&path).ok()?;
        Some((path, meta.dev(), meta.ino()))
    }
}

#[cfg(not(target_os = "linux"))]
fn with_sysinfo<T>(pid: i32, f: impl FnOnce(&sysinfo::Process) -> T) -> Option<T> {
    use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};
    let spid = Pid::from_u32(u32::try_from(pid).ok()?);
    let mut sys = System::new();
    sys.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[spid]),
        true,
        ProcessRefreshKind::everything(),
    );
    sys.process(spid).map(f)
}

/// A verified handle on one process: signals sent through it reach that process or nobody.
#[derive(Debug)]
pub struct ProcessHandle {
    identity: ProcessIdentity,
    #[cfg(target_os = "linux")]
    pidfd: std::os::fd::OwnedFd,
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
        #[cfg(target_os = "linux")]
        {
            use rustix::process::{pidfd_open, Pid, PidfdFlags};
            let Some(pid) = Pid::from_raw(identity.pid) else {
                return Ok(None);
            };
            let pidfd = match pidfd_open(pid, PidfdFlags::empty()) {
                Ok(fd) => fd,
                Err(rustix::io::Errno::SRCH) => return Ok(None),
                Err(e) => {
                    return Err(anyhow::Error::from(std::io::Error::from(e))
                        .context(format!("cannot open a pidfd for pid {}", identity.pid)))
                }
            };
            // The pidfd now pins this pid; check it is still the recorded process.
            if !identity.is_alive() {
                return Ok(None);
            }
            Ok(Some(ProcessHandle {
                identity: identity.clone(),
                pidfd,
            }))
        }
        #[cfg(not(target_os = "linux"))]
        {
            if !identity.is_alive() {
                return Ok(None);
            }
            Ok(Some(ProcessHandle {
                identity: identity.clone(),
            }))
        }
    }

    /// The process this handle refers to.
    pub fn identity(&self) -> &ProcessIdentity {
        &self.identity
    }

    /// Sends `sig`. Returns `Ok(false)` if the process has already exited.
    pub fn signal(&self, sig: Signal) -> Result<bool> {
        #[cfg(target_os = "linux")]
        {
            let rsig = rustix::process::Signal::from_named_raw(sig as i32)
                .ok_or_else(|| anyhow::anyhow!("unsupported signal {sig}"))?;
            match rustix::process::pidfd_send_signal(&self.pidfd, rsig) {
                Ok(()) => Ok(true),
                Err(rustix::io::Errno::SRCH) => Ok(false),
                Err(e) => Err(anyhow::Error::from(std::io::Error::from(e))
                    .context(format!("cannot send {sig} to pid {}", self.identity.pid))),
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            if !self.identity.is_alive() {
                return Ok(false);
            }
            match nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.identity.pid), sig) {
                Ok(()) => Ok(true),
                Err(nix::errno::Errno::ESRCH) => Ok(false),
                Err(e) => Err(anyhow::Error::from(e)
                    .context(format!("cannot send {sig} to pid {}", self.identity.pid))),
            }
        }
    }

    /// Whether the process has exited (a zombie counts as exited).
    pub fn has_exited(&self) -> bool {
        #[cfg(target_os = "linux")]
        {
            use rustix::event::{poll, PollFd, PollFlags};
            let mut fds = [PollFd::new(&self.pidfd, PollFlags::IN)];
            let zero = rustix::event::Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            matches!(poll(&mut fds, Some(&zero)), Ok(n) if n > 0)
        }
        #[cfg(not(target_os = "linux"))]
        {
            !self.identity.is_alive() || is_zombie(self.identity.pid)
        }
    }

    /// Waits up to `timeout` for the process to exit, polling every few milliseconds (on
    /// Linux the pidfd becomes readable on exit). Returns whether it exited.
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
            #[cfg(target_os = "linux")]
            {
                use rustix::event::{poll, PollFd, PollFlags};
                let left = (deadline - now).min(Duration::from_millis(100));
                let ts = rustix::event::Timespec {
                    tv_sec: left.as_secs() as i64,
                    tv_nsec: i64::from(left.subsec_nanos()),
                };
                let mut fds = [PollFd::new(&self.pidfd, PollFlags::IN)];
                let _ = poll(&mut fds, Some(&ts));
            }
            #[cfg(not(target_os = "linux"))]
            std::thread::sleep((deadline - now).min(Duration::from_millis(5)));
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
        let parent = ProcessIdentity::capture(parent_pid(me.pid).unwrap()).unwrap();
        assert!(
            ProcessHandle::open(&parent).is_err(),
            "ancestors are refused"
        );
    }

    #[test]
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
        assert!(h.signal(Signal::SIGTERM).unwrap());
        // The handle sees the exit before the child is reaped (a zombie counts as exited).
        assert!(h.wait_exit(Duration::from_secs(60)), "SIGTERM ends sleep");
        assert!(h.has_exited());
        let status = child.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(Signal::SIGTERM as i32),
            "the signal reached the child"
        );
        assert!(
            !h.signal(Signal::SIGTERM).unwrap(),
            "a reaped process is reported gone, not signalled"
        );
    }
}
