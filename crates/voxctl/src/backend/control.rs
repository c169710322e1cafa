//! Running a backend binary: asking its version, starting it detached, stopping it.
//!
//! Start: a new session and process group (`setsid` in the child before `exec`), stdin from
//! /dev/null, stdout and stderr appended to one log file, arguments `--data-dir D --port P`
//! and then any extra arguments. On Windows the group is a new console process group with a
//! hidden console of its own, inside a job object named after the backend's pid and creation
//! time (`crate::platform::process::finish_detached`), which every process it starts
//! joins.
//!
//! Stop: SIGTERM to the backend's process group, wait by polling the leader's pidfd up to the
//! stop timeout, then SIGKILL to the group. Signalling a group cannot go through a pidfd
//! (`pidfd_send_signal` reaches one process), so each signal is sent with `killpg` only right
//! after the leader is revalidated: the handle was opened by pidfd and identity (pid, start
//! time, boot, host), and the pidfd says the leader has not exited. While the leader lives,
//! its pid is its group's id and cannot name another group, and the kernel does not reuse a
//! pid while any group member still uses it as a group id. If the process is not the leader
//! of its own group (a record written by someone else), or a member of the group is voxctl
//! or one of its ancestors (a shell that joined the backend's group and runs voxctl), only
//! the leader is signalled, through the pidfd, and the caller is told which member forced
//! it (`stop`'s `on_leader_only`). The check runs before every signal.
//!
//! On Windows the process handle pins the leader's pid the way the pidfd does; SIGTERM is
//! `CTRL_BREAK_EVENT` to its console process group and SIGKILL is `TerminateJobObject` on its
//! job, so a PyInstaller bootloader's child that holds the port ends with it. A record whose
//! process has no such job (not started by voxctl) is a leader of no group: only that process
//! is signalled ([`crate::platform::process::Signal`]).

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom};
#[cfg(unix)]
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;

use super::record::{now_ms, BackendRecord};
use crate::cancel::Cancel;
use crate::checked_open::{self, Rule};
use crate::platform::process as platform;
use crate::process::{ProcessHandle, ProcessIdentity, Signal};
use crate::variant::Variant;
use crate::Error;

/// Runs `binary --version` and returns its stdout. Errors when it cannot start, does not exit
/// within `timeout` (it is then killed), or exits unsuccessfully; with
/// [`Error::Interrupted`] (the child killed) once `cancel` is cancelled.
pub fn version_output(binary: &Path, timeout: Duration, cancel: &Cancel) -> Result<String> {
    let mut child = Command::new(binary)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot run {}", binary.display()))?;
    let mut stdout = child.stdout.take().context("no stdout pipe")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = (&mut stdout).take(64 * 1024).read_to_end(&mut out);
        let _ = tx.send(out);
    });
    let out = match cancel.recv_timeout(&rx, timeout) {
        Ok(Some(out)) => out,
        outcome => {
            // Our own unreaped child: its pid cannot have been reused.
            let _ = child.kill();
            let _ = child.wait();
            outcome?;
            anyhow::bail!(
                "{} --version did not finish within {}",
                binary.display(),
                humantime::format_duration(timeout)
            );
        }
    };
    let status = child
        .wait()
        .with_context(|| format!("cannot wait for {}", binary.display()))?;
    if !status.success() {
        anyhow::bail!("{} --version exited with {status}", binary.display());
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// What to start.
#[derive(Debug, Clone)]
pub struct StartSpec {
    /// The binary.
    pub binary: PathBuf,
    /// Its variant.
    pub variant: Variant,
    /// The version it reported, if checked.
    pub version: Option<String>,
    /// Passed as `--data-dir`.
    pub data_dir: PathBuf,
    /// Passed as `--port`.
    pub port: u16,
    /// Recorded for `status`.
    pub health_url: String,
    /// Extra arguments, after `--data-dir D --port P`.
    pub args: Vec<String>,
    /// The log file stdout and stderr are appended to.
    pub log: PathBuf,
}

/// A backend this process started: the child (so it can be reaped if it dies while voxctl
/// still runs), its record, and where its output begins in the log (bytes).
#[derive(Debug)]
pub struct Started {
    /// The child process.
    pub child: Child,
    /// What `backend.json` will say.
    pub record: BackendRecord,
    /// The log file's size before the start, in bytes.
    pub log_offset: u64,
}

/// Starts `spec` detached (see the module doc).
pub fn start(spec: &StartSpec) -> Result<Started> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    options.mode(0o600);
    let log = checked_open::open_file(&spec.log, &mut options, Rule::Private)
        .with_context(|| format!("cannot open log {}", spec.log.display()))?;
    let log_offset = log.metadata().map(|m| m.len()).unwrap_or(0);
    let log_err = log.try_clone()?;
    let mut cmd = Command::new(&spec.binary);
    cmd.arg("--data-dir")
        .arg(&spec.data_dir)
        .arg("--port")
        .arg(spec.port.to_string())
        .args(&spec.args)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err);
    platform::prepare_detached(&mut cmd);
    let spawned = {
        let _private = platform::private_std_handles();
        cmd.spawn()
    };
    let mut child = spawned.with_context(|| format!("cannot start {}", spec.binary.display()))?;
    if let Err(e) = platform::finish_detached(&child) {
        let _ = child.wait();
        return Err(anyhow::Error::from(e)
            .context(format!("cannot start {} in a job", spec.binary.display())));
    }
    let pid = child.id() as i32;
    // Our unreaped child keeps its /proc entry even if it already exited.
    let id = ProcessIdentity::capture(pid)
        .with_context(|| format!("started pid {pid} but cannot read its identity"))?;
    let record = BackendRecord {
        pid,
        start_time: id.start_time,
        boot_id: id.boot_id,
        host: id.host,
        variant: spec.variant,
        binary: spec.binary.clone(),
        version: spec.version.clone(),
        port: spec.port,
        health_url: Some(spec.health_url.clone()),
        data_dir: Some(spec.data_dir.clone()),
        args: spec.args.clone(),
        log: spec.log.clone(),
        started_at: now_ms(),
        ready_ms: None,
    };
    Ok(Started {
        child,
        record,
        log_offset,
    })
}

/// How a stop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stopped {
    /// The recorded process was not running (gone, or its pid now belongs to another one).
    NotRunning,
    /// It exited after SIGTERM.
    Terminated,
    /// It ignored SIGTERM for the whole stop timeout and was killed.
    Killed,
}

impl Stopped {
    /// The name in JSON (`not_running`, `terminated`, `killed`), also shown to people.
    pub fn name(self) -> &'static str {
        match self {
            Stopped::NotRunning => "not_running",
            Stopped::Terminated => "terminated",
            Stopped::Killed => "killed",
        }
    }
}

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Stops the process `id` and its group (see the module doc): SIGTERM, wait up to `timeout`,
/// SIGKILL, wait up to 5 s more. Errors with [`Error::Refused`] for voxctl itself or an
/// ancestor, and with [`Error::TimedOut`] if it survives SIGKILL. A `cancel` during a wait
/// ends it with [`Error::Interrupted`] and no further signal: the process keeps the SIGTERM
/// it was sent and is never escalated to SIGKILL by an interrupted stop.
///
/// `on_leader_only(member)` is called (at most once) when the group holds `member`, voxctl or
/// one of its ancestors, so only the leader was signalled.
pub(crate) fn stop(
    id: &ProcessIdentity,
    timeout: Duration,
    cancel: &Cancel,
    on_leader_only: &mut dyn FnMut(i32),
) -> Result<Stopped> {
    let Some(handle) = ProcessHandle::open(id)? else {
        return Ok(Stopped::NotRunning);
    };
    let mut told = false;
    let mut tell = |sent: Sent| {
        if let Sent::LeaderOnly { member } = sent {
            if !std::mem::replace(&mut told, true) {
                on_leader_only(member);
            }
        }
    };
    match signal_group(&handle, Signal::Term)? {
        Some(sent) => tell(sent),
        None => return Ok(Stopped::NotRunning),
    }
    if wait_exit(&handle, timeout, cancel)? {
        return Ok(Stopped::Terminated);
    }
    if let Some(sent) = signal_group(&handle, Signal::Kill)? {
        tell(sent);
    }
    if wait_exit(&handle, Duration::from_secs(5), cancel)? {
        return Ok(Stopped::Killed);
    }
    Err(Error::TimedOut(format!("pid {} survived SIGKILL for 5s", id.pid)).into())
}

/// Waits up to `timeout` for `handle`'s process to exit (seen at once through the pidfd),
/// checking `cancel` every 100 ms. Returns whether it exited.
fn wait_exit(handle: &ProcessHandle, timeout: Duration, cancel: &Cancel) -> Result<bool> {
    let deadline = crate::duration::deadline(timeout);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if handle.wait_exit(left.min(Duration::from_millis(100))) {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        cancel.check()?;
    }
}

/// Whom a signal reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// The whole process group led by the process.
    Group,
    /// The process alone: it does not lead its group.
    NotLeader,
    /// The process alone: its group holds `member`, voxctl or one of its ancestors.
    LeaderOnly {
        /// The pid of voxctl or its ancestor found in the group.
        member: i32,
    },
}

/// Sends `sig` to the group led by `handle`'s process after revalidating it, or to that
/// process alone (see the module doc). Returns `Ok(None)` if the process had exited.
pub fn signal_group(handle: &ProcessHandle, sig: Signal) -> Result<Option<Sent>> {
    let id = handle.identity();
    let pid = id.pid;
    if handle.has_exited() || !id.is_alive() {
        return Ok(None);
    }
    let sent =
        if !platform::leads_group(pid, id.start_time) {
            Sent::NotLeader
        } else if let Some(member) = crate::process::lineage_in_group(id) {
            Sent::LeaderOnly { member }
        } else {
            return match platform::signal_group(pid, id.start_time, sig) {
                Ok(true) => Ok(Some(Sent::Group)),
                Ok(false) => Ok(None),
                Err(e) => Err(anyhow::Error::from(e)
                    .context(format!("cannot send {sig} to process group {pid}"))),
            };
        };
    Ok(handle.signal(sig)?.then_some(sent))
}

/// The last `n` lines the log got from `offset` on (bytes), for error messages. Reads at most
/// the last 64 KiB.
pub fn log_tail(log: &Path, offset: u64, n: usize) -> Vec<String> {
    let Ok(mut f) = checked_open::open_file(log, OpenOptions::new().read(true), Rule::Private)
    else {
        return Vec::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let from = offset.max(len.saturating_sub(64 * 1024));
    let mut buf = Vec::new();
    if f.seek(SeekFrom::Start(from)).is_err()
        || (&mut f).take(64 * 1024).read_to_end(&mut buf).is_err()
    {
        return Vec::new();
    }
    let text = String::from_utf8_lossy(&buf);
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[lines.len().saturating_sub(n)..].to_vec()
}

/// Waits up to `timeout` for `child` to exit and reaps it; kills it (it is our own unreaped
/// child, so its pid is still its own) if it does not.
pub fn reap_child(child: &mut Child, timeout: Duration) {
    let deadline = crate::duration::deadline(timeout);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = child.kill();
    let _ = child.wait();
}
