//! Unix implementations of [`crate::platform::process`]'s interface (`/proc` on Linux,
//! sysinfo elsewhere; signals through nix and rustix).

use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use super::{Received, Signal};

pub(super) fn signal_name(sig: Signal) -> &'static str {
    nix_signal(sig).as_str()
}

fn nix_signal(sig: Signal) -> nix::sys::signal::Signal {
    use nix::sys::signal::Signal as S;
    match sig {
        Signal::Term => S::SIGTERM,
        Signal::Kill => S::SIGKILL,
        Signal::Continue => S::SIGCONT,
    }
}

pub(super) fn hostname() -> Option<String> {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
}

pub(super) fn boot_id() -> Option<String> {
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

pub(super) fn start_time(pid: i32) -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        stat_fields(pid)?.get(19)?.parse().ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        with_sysinfo(pid, |p| p.start_time())
    }
}

/// On Linux from `/proc/uptime` and the start time in clock ticks (`sysconf(_SC_CLK_TCK)`);
/// elsewhere from the start time in epoch seconds.
pub(super) fn age(pid: i32) -> Option<Duration> {
    let start = super::start_time(pid)?;
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

pub(super) fn is_zombie(pid: i32) -> bool {
    #[cfg(target_os = "linux")]
    {
        stat_fields(pid).is_some_and(|f| f.first().is_some_and(|s| s == "Z" || s == "X"))
    }
    #[cfg(not(target_os = "linux"))]
    {
        with_sysinfo(pid, |p| p.status() == sysinfo::ProcessStatus::Zombie).unwrap_or(false)
    }
}

pub(super) fn is_stopped(pid: i32) -> bool {
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

pub(super) fn parent_pid(pid: i32) -> Option<i32> {
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

pub(super) fn cmdline(pid: i32) -> Option<String> {
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

pub(super) fn exe_path(pid: i32) -> Option<(PathBuf, u64, u64)> {
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

pub(super) fn path_identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
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

pub(super) const PINS: bool = cfg!(target_os = "linux");

/// Linux: a pidfd. Other Unixes: the pid alone (the caller revalidates before signalling).
#[derive(Debug)]
pub(super) struct Pinned {
    #[cfg(not(target_os = "linux"))]
    pid: i32,
    #[cfg(target_os = "linux")]
    pidfd: std::os::fd::OwnedFd,
}

impl Pinned {
    pub(super) fn open(pid: i32) -> io::Result<Option<Pinned>> {
        #[cfg(target_os = "linux")]
        {
            use rustix::process::{pidfd_open, Pid, PidfdFlags};
            let Some(rpid) = Pid::from_raw(pid) else {
                return Ok(None);
            };
            match pidfd_open(rpid, PidfdFlags::empty()) {
                Ok(pidfd) => Ok(Some(Pinned { pidfd })),
                Err(rustix::io::Errno::SRCH) => Ok(None),
                Err(e) => Err(e.into()),
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            Ok((pid > 0).then_some(Pinned { pid }))
        }
    }

    pub(super) fn signal(&self, sig: Signal) -> io::Result<bool> {
        #[cfg(target_os = "linux")]
        {
            let rsig = rustix::process::Signal::from_named_raw(nix_signal(sig) as i32)
                .ok_or_else(|| io::Error::other(format!("unsupported signal {sig}")))?;
            match rustix::process::pidfd_send_signal(&self.pidfd, rsig) {
                Ok(()) => Ok(true),
                Err(rustix::io::Errno::SRCH) => Ok(false),
                Err(e) => Err(e.into()),
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            match nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid), nix_signal(sig)) {
                Ok(()) => Ok(true),
                Err(nix::errno::Errno::ESRCH) => Ok(false),
                Err(e) => Err(e.into()),
            }
        }
    }

    pub(super) fn has_exited(&self) -> bool {
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
            super::start_time(self.pid).is_none() || is_zombie(self.pid)
        }
    }

    pub(super) fn wait_step(&self, step: Duration) {
        #[cfg(target_os = "linux")]
        {
            use rustix::event::{poll, PollFd, PollFlags};
            let ts = rustix::event::Timespec {
                tv_sec: step.as_secs() as i64,
                tv_nsec: i64::from(step.subsec_nanos()),
            };
            let mut fds = [PollFd::new(&self.pidfd, PollFlags::IN)];
            let _ = poll(&mut fds, Some(&ts));
        }
        #[cfg(not(target_os = "linux"))]
        {
            std::thread::sleep(step.min(Duration::from_millis(5)));
        }
    }
}

pub(super) fn prepare_detached(cmd: &mut Command) {
    #[allow(unsafe_code)]
    // SAFETY: setsid(2) is async-signal-safe and touches no memory of the parent; it is the
    // only call made between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid()
                .map(|_| ())
                .map_err(std::io::Error::from)
        });
    }
}

pub(super) fn finish_detached(_child: &Child) -> io::Result<()> {
    Ok(())
}

fn pgid_of(pid: i32) -> Option<i32> {
    nix::unistd::getpgid(Some(nix::unistd::Pid::from_raw(pid)))
        .ok()
        .map(|g| g.as_raw())
}

pub(super) fn leads_group(pid: i32, _start_time: u64) -> bool {
    pgid_of(pid) == Some(pid)
}

pub(super) fn in_group(member: i32, leader: i32, _leader_start: u64) -> bool {
    pgid_of(member) == Some(leader)
}

pub(super) fn signal_group(leader: i32, _leader_start: u64, sig: Signal) -> io::Result<bool> {
    match nix::sys::signal::killpg(nix::unistd::Pid::from_raw(leader), nix_signal(sig)) {
        Ok(()) => Ok(true),
        Err(nix::errno::Errno::ESRCH) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub(super) fn prepare_group_child(cmd: &mut Command) {
    cmd.process_group(0);
}

/// The command's process group, whose id is the child's pid.
#[derive(Debug)]
pub(super) struct GroupChild {
    pgid: nix::unistd::Pid,
}

impl GroupChild {
    pub(super) fn adopt(child: &Child) -> io::Result<GroupChild> {
        Ok(GroupChild {
            pgid: nix::unistd::Pid::from_raw(child.id() as i32),
        })
    }

    pub(super) fn has_exited(&self, child: &Child) -> io::Result<bool> {
        use rustix::process::{waitid, Pid, WaitId, WaitIdOptions};
        let Some(pid) = Pid::from_raw(child.id() as i32) else {
            return Ok(true);
        };
        let opts = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
        loop {
            match waitid(WaitId::Pid(pid), opts) {
                Ok(status) => return Ok(status.is_some()),
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    pub(super) fn signal(&self, sig: Signal) {
        let _ = nix::sys::signal::killpg(self.pgid, nix_signal(sig));
    }

    pub(super) fn forward(&self, received: Received) {
        if let Ok(sig) = nix::sys::signal::Signal::try_from(received.0) {
            let _ = nix::sys::signal::killpg(self.pgid, sig);
        }
    }
}

/// [`super::Received::terminate`]: SIGTERM.
pub(super) const TERMINATE: i32 = nix::libc::SIGTERM;

pub(super) fn boot_clock() -> io::Result<Duration> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let id = nix::time::ClockId::CLOCK_BOOTTIME;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let id = nix::time::ClockId::CLOCK_MONOTONIC;
    let ts = nix::time::clock_gettime(id)?;
    Ok(Duration::from(ts))
}

pub(super) fn tcp_listeners(port: u16) -> anyhow::Result<Vec<u64>> {
    #[cfg(target_os = "linux")]
    {
        if let Ok(found) = super::sock_diag::listeners(port) {
            return Ok(found);
        }
        super::proc_net::listeners(port)
    }
    #[cfg(not(target_os = "linux"))]
    {
        use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
        let addrs = [
            SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            SocketAddr::from((Ipv6Addr::LOCALHOST, port)),
        ];
        Ok(addrs
            .iter()
            .filter(|a| TcpStream::connect_timeout(a, Duration::from_millis(200)).is_ok())
            .map(|_| 0)
            .collect())
    }
}

pub(super) fn listener_holders(ids: &[u64]) -> Vec<(i32, String)> {
    #[cfg(target_os = "linux")]
    {
        let wanted: Vec<String> = ids
            .iter()
            .filter(|i| **i != 0)
            .map(|i| format!("socket:[{i}]"))
            .collect();
        let Ok(procs) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for p in procs.flatten() {
            let Some(pid) = p.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
                continue;
            };
            let Ok(fds) = std::fs::read_dir(p.path().join("fd")) else {
                continue;
            };
            let holds = fds.flatten().any(|fd| {
                std::fs::read_link(fd.path())
                    .ok()
                    .and_then(|l| l.to_str().map(|s| wanted.iter().any(|w| w == s)))
                    .unwrap_or(false)
            });
            if holds {
                out.push((pid, cmdline(pid).unwrap_or_default()));
            }
        }
        out
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = ids;
        Vec::new()
    }
}

#[cfg(feature = "testhook")]
pub(super) fn kill_self() {
    // SIGKILL acts on the whole process whichever thread raises it.
    let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
}

#[cfg(feature = "testhook")]
pub(super) fn freeze_self() {
    // SIGSTOP acts on the whole process whichever thread raises it.
    let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGSTOP);
}

pub(super) struct StdHandles;

pub(super) fn private_std_handles() -> StdHandles {
    StdHandles
}
