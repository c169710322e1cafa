//! Helpers for the reap tests: a stand-in "app instance" (a `sh` child that creates a real
//! `SingletonLock` symlink `<host>-<pid>` and then runs a script), and marker edits.
//!
//! Only these test children are ever signalled by the tests.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// A child process standing in for the app: it holds `lock` (`<host>-<its pid>`).
pub struct App {
    pub child: Child,
    pub pid: i32,
    pub lock: PathBuf,
    pub stdin: Option<ChildStdin>,
}

/// This host's name, as voxctl reads it.
pub fn this_host() -> String {
    voxctl::process::hostname().expect("host name")
}

impl App {
    /// Starts `sh -c '<prelude>; ln -s "$HOST-$$" "$LOCK" && <then>'` and waits until the lock
    /// exists. `then` runs in the same process (`exec sleep` keeps the pid, and keeps an
    /// ignored SIGTERM ignored).
    pub fn spawn(dir: &Path, host: &str, prelude: &str, then: &str) -> App {
        let lock = dir.join("SingletonLock");
        let script = format!("{prelude}\nln -s \"$HOST-$$\" \"$LOCK\" || exit 9\n{then}");
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .env("HOST", host)
            .env("LOCK", &lock)
            .stdin(Stdio::piped())
            .spawn()
            .expect("spawn sh");
        let pid = child.id() as i32;
        let stdin = child.stdin.take();
        let app = App {
            child,
            pid,
            lock,
            stdin,
        };
        let want = format!("{host}-{pid}");
        poll(Duration::from_secs(60), || {
            std::fs::read_link(&app.lock).is_ok_and(|t| t.to_str() == Some(want.as_str()))
        });
        // After `exec PROG`, wait for the exec itself, so a marker records PROG's executable.
        if let Some(prog) = then
            .strip_prefix("exec ")
            .and_then(|t| t.split_whitespace().next())
        {
            poll(Duration::from_secs(60), || {
                voxctl::process::cmdline(pid).is_some_and(|c| c.starts_with(prog))
            });
        }
        app
    }

    /// A healthy instance: holds the lock and sleeps.
    pub fn sleeping(dir: &Path) -> App {
        App::spawn(dir, &this_host(), "", "exec sleep 600")
    }

    /// Wedges it: SIGSTOP (our own child).
    pub fn wedge(&self) {
        kill(Pid::from_raw(self.pid), Signal::SIGSTOP).expect("SIGSTOP own child");
        poll(Duration::from_secs(60), || {
            std::fs::read_to_string(format!("/proc/{}/stat", self.pid))
                .map(|s| s.rsplit_once(") ").is_some_and(|(_, r)| r.starts_with('T')))
                .unwrap_or(true)
        });
    }

    /// Whether it is still running (not exited).
    pub fn running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// Waits up to `timeout` for it to exit and returns its status.
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                return st;
            }
            assert!(Instant::now() < deadline, "pid {} did not exit", self.pid);
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Writes a line to its stdin (for scripts that `read`).
    pub fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{line}").expect("write to child");
        stdin.flush().expect("flush");
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `cond` every 5 ms until it holds; panics after `timeout`.
pub fn poll(timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "condition not reached in {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Rewrites one field of the marker JSON at `path`.
pub fn edit_marker(path: &Path, field: &str, value: serde_json::Value) {
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).expect("read marker")).expect("marker json");
    v[field] = value;
    std::fs::write(path, serde_json::to_vec(&v).expect("json")).expect("write marker");
}

/// Spawns `exe 600` (a copy of `sleep`), retrying while the kernel reports the freshly
/// written file busy (ETXTBSY, when another thread's fork still holds a write descriptor).
pub fn spawn_retrying(exe: &Path) -> Child {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match Command::new(exe).arg("600").spawn() {
            Ok(c) => return c,
            Err(e) if e.raw_os_error() == Some(nix::libc::ETXTBSY) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(e) => panic!("cannot run {}: {e}", exe.display()),
        }
    }
}
