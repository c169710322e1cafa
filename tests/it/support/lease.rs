//! Helpers for the lease tests: spawned `voxctl lease run` processes that are cleaned up on
//! drop, and polling for files the children write.

use std::path::Path;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// A spawned process killed (and reaped) on drop, so a failing test leaves nothing behind.
pub struct Spawned(pub Child);

impl Spawned {
    pub fn spawn(mut cmd: Command) -> Spawned {
        Spawned(cmd.spawn().expect("spawn voxctl"))
    }

    pub fn pid(&self) -> i32 {
        self.0.id() as i32
    }

    /// Waits up to `timeout` for the process to exit.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.0.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls until `path` exists with a complete line, and returns its content.
pub fn wait_for_line(path: &Path, timeout: Duration) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(s) = std::fs::read_to_string(path) {
            if s.ends_with('\n') {
                return s;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{} did not appear within {timeout:?}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Kills a whole process group, ignoring a group that is already gone (test cleanup).
pub fn kill_group(pgid: i32) {
    let _ = nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(pgid),
        nix::sys::signal::Signal::SIGKILL,
    );
}

/// Sends `sig` to one process.
pub fn signal(pid: i32, sig: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig).expect("kill");
}

/// Stops `pid` with SIGSTOP at a moment it holds no `flock` (per `/proc/locks`): a process
/// stopped inside a lease store's critical section would block every other process (the
/// lock outlives nothing but its holder's exit), which is not what a test of a paused holder
/// means to set up. Retries with SIGCONT until the stop lands outside.
pub fn stop_outside_locks(pid: i32) {
    use nix::sys::signal::Signal;
    for _ in 0..1000 {
        signal(pid, Signal::SIGSTOP);
        // SIGSTOP is delivered asynchronously: wait until the process is really stopped.
        let stopped = || {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| {
                    s.rsplit_once(')')
                        .map(|(_, r)| r.trim_start().starts_with('T'))
                })
                .unwrap_or(false)
        };
        // A generous deadline: going on with a process that is not stopped yet would read
        // /proc/locks of a running one.
        let t = std::time::Instant::now();
        while !stopped() {
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "pid {pid} did not stop on SIGSTOP"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        // The lease's liveness file (`NAME.TOKEN.alive`) stays locked for the whole lease
        // (its owner's liveness): that lock is no critical section, so it does not count.
        let liveness: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|d| {
                d.filter_map(|e| {
                    let e = e.ok()?;
                    let target = std::fs::read_link(e.path()).ok()?;
                    target.to_string_lossy().ends_with(".alive").then_some(())?;
                    use std::os::unix::fs::MetadataExt;
                    Some(std::fs::metadata(e.path()).ok()?.ino().to_string())
                })
                .collect()
            })
            .unwrap_or_default();
        let locks = std::fs::read_to_string("/proc/locks").unwrap_or_default();
        let holds = locks.lines().any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let inode = f.get(5).and_then(|d| d.rsplit(':').next()).unwrap_or("");
            f.get(1) == Some(&"FLOCK")
                && f.get(4) == Some(&pid.to_string().as_str())
                && !liveness.iter().any(|i| i == inode)
        });
        if !holds {
            return;
        }
        signal(pid, Signal::SIGCONT);
        std::thread::sleep(Duration::from_millis(3));
    }
    panic!("pid {pid} always held a lock when stopped");
}

/// Whether a process exists (possibly as a zombie).
pub fn exists(pid: i32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
}

/// The first whitespace-separated field of `s`, parsed.
pub fn field<T: std::str::FromStr>(s: &str, i: usize) -> T
where
    T::Err: std::fmt::Debug,
{
    s.split_whitespace()
        .nth(i)
        .unwrap_or_else(|| panic!("no field {i} in {s:?}"))
        .parse()
        .expect("parse field")
}
