//! The slot table: named, cross-process exclusive slots (DESIGN.md "State dir layout",
//! invariant 2).
//!
//! A slot `NAME` is held while a process holds an exclusive `flock(2)` on
//! `STATE/slots/NAME.lock`. The file is opened close-on-exec and without following symlinks,
//! and checked on the handle ([`checked_open::open_file`]: a planted symlink, FIFO or foreign
//! file is refused with exit 5, never truncated or written), so the lock is
//! released when the [`SlotGuard`] drops, when the holder panics, and when the process dies
//! however it dies: a slot is never stale. The file's content is the holder's metadata
//! ([`Holder`], one JSON document, rewritten in place by [`SlotGuard::set_progress`]); lock
//! files are never replaced or deleted, so a contender can never lock a different inode than
//! the holder.
//!
//! Which slots are held is read from `/proc/locks` on Linux (no probing lock is taken, so a
//! listing never makes a contender see a spurious "busy"); elsewhere by a non-blocking probe.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::checked_open::{self, Rule};
use crate::name::validate_resource_name;
use crate::state::StateDir;
use crate::Error;

/// The metadata a holder writes into its slot's lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// The holder's pid.
    pub pid: i32,
    /// The holder's host name.
    pub host: String,
    /// When the slot was acquired, in milliseconds since the Unix epoch; in JSON an RFC 3339
    /// UTC string `acquired_at` (an older voxctl's integer `acquired_ms` still loads).
    #[serde(
        rename = "acquired_at",
        alias = "acquired_ms",
        with = "crate::timestamp::millis"
    )]
    pub acquired_ms: u64,
    /// The holder's command line.
    pub command: String,
    /// Work done so far, in the holder's unit (bytes for downloads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done: Option<u64>,
    /// Total work, in the same unit, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

impl Holder {
    fn for_current_process() -> Holder {
        let pid = std::process::id() as i32;
        Holder {
            pid,
            host: crate::process::hostname().unwrap_or_default(),
            acquired_ms: now_ms(),
            command: std::env::args().collect::<Vec<_>>().join(" "),
            done: None,
            total: None,
        }
    }

    /// Time since the slot was acquired.
    pub fn age(&self) -> Duration {
        Duration::from_millis(now_ms().saturating_sub(self.acquired_ms))
    }

    /// One line for messages: `pid 123 (voxctl fetch ...), 40% (1.2 GB of 2.4 GB)`.
    pub fn describe(&self) -> String {
        let mut s = format!("pid {} on {} ({})", self.pid, self.host, self.command);
        if let (Some(done), Some(total)) = (self.done, self.total) {
            if let Some(pct) = done.saturating_mul(100).checked_div(total) {
                s.push_str(&format!(", {pct}% ({done} of {total} bytes)"));
            }
        }
        s
    }
}

/// A slot that is held right now.
#[derive(Debug, Clone, Serialize)]
pub struct HeldSlot {
    /// The slot's name.
    pub name: String,
    /// The holder's metadata, if it could be read (a holder may be mid-write).
    pub holder: Option<Holder>,
}

/// The slot table of one state dir.
#[derive(Debug, Clone)]
pub struct SlotTable {
    dir: PathBuf,
}

/// A held slot. Dropping it releases the slot.
#[derive(Debug)]
pub struct SlotGuard {
    name: String,
    file: File,
    holder: Holder,
}

impl SlotTable {
    /// The table in `STATE/slots/`.
    pub fn new(state: &StateDir) -> Result<SlotTable> {
        Ok(SlotTable {
            dir: state.subdir("slots")?,
        })
    }

    /// The table in an explicit directory (for tests and tools).
    pub fn in_dir(dir: impl Into<PathBuf>) -> SlotTable {
        SlotTable { dir: dir.into() }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.lock"))
    }

    fn open(&self, name: &str) -> Result<File> {
        validate_resource_name("slot", name)?;
        let path = self.path(name);
        checked_open::open_or_create(&path, 0o600, Rule::Private)
            .with_context(|| format!("cannot open slot file {}", path.display()))
    }

    /// Acquires slot `name` without blocking. Errors with [`Error::Busy`] (naming the holder)
    /// when another process or another guard of this process holds it, and with
    /// [`Error::Usage`] for an invalid name.
    pub fn try_acquire(&self, name: &str) -> Result<SlotGuard> {
        let file = self.open(name)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let owner = match lock_state(&file) {
                    Ok(LockState::Held(pid)) => pid,
                    _ => None,
                };
                let holder = read_holder(&file, owner);
                return Err(Error::Busy {
                    what: format!("slot {name}"),
                    holder: holder.map(|h| h.describe()),
                }
                .into());
            }
            Err(TryLockError::Error(e)) => {
                return Err(anyhow::Error::from(e)
                    .context(format!("cannot lock {}", self.path(name).display())))
            }
        }
        let mut guard = SlotGuard {
            name: name.to_string(),
            file,
            holder: Holder::for_current_process(),
        };
        guard.write_holder()?;
        Ok(guard)
    }

    /// Acquires slot `name`, waiting up to `timeout` (polling every 10-100 ms). Errors with
    /// [`Error::Busy`] if it is still held when the time is up; returns early with
    /// [`Error::Interrupted`] on SIGINT/SIGTERM.
    pub fn acquire_wait(&self, name: &str, timeout: Duration) -> Result<SlotGuard> {
        let deadline = Instant::now() + timeout;
        let mut pause = Duration::from_millis(10);
        loop {
            match self.try_acquire(name) {
                Err(e) if matches!(Error::find(&e), Some(Error::Busy { .. })) => {
                    crate::interrupt::check()?;
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(e);
                    }
                    std::thread::sleep(pause.min(deadline - now));
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
                other => return other,
            }
        }
    }

    /// The holder of slot `name` right now, or `None` if it is free.
    pub fn holder(&self, name: &str) -> Result<Option<Holder>> {
        let file = self.open(name)?;
        let LockState::Held(owner) = lock_state(&file)? else {
            return Ok(None);
        };
        Ok(Some(read_holder(&file, owner).unwrap_or(Holder {
            pid: owner.unwrap_or(0),
            host: String::new(),
            acquired_ms: 0,
            command: "(unknown)".into(),
            done: None,
            total: None,
        })))
    }

    /// The slots held right now, sorted by name. Free slots are not listed.
    pub fn list(&self) -> Result<Vec<HeldSlot>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(
                    anyhow::Error::from(e).context(format!("cannot list {}", self.dir.display()))
                )
            }
        };
        let mut held = Vec::new();
        for entry in entries {
            let entry = entry?;
            let file_name = entry.file_name();
            let Some(name) = file_name.to_str().and_then(|n| n.strip_suffix(".lock")) else {
                continue;
            };
            let file = match checked_open::open_file(
                &entry.path(),
                OpenOptions::new().read(true),
                Rule::Private,
            ) {
                Ok(f) => f,
                Err(e) if checked_open::is_not_found(&e) => continue,
                Err(e) => return Err(e),
            };
            if let LockState::Held(owner) = lock_state(&file)? {
                held.push(HeldSlot {
                    name: name.to_string(),
                    holder: read_holder(&file, owner),
                });
            }
        }
        held.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(held)
    }

    /// The directory holding the lock files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl SlotGuard {
    /// The slot's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Records progress (`done` of `total`, in the holder's unit) in the lock file, where
    /// `voxctl status` and waiting contenders read it. One `pwrite`, no fsync.
    pub fn set_progress(&mut self, done: u64, total: Option<u64>) -> Result<()> {
        self.holder.done = Some(done);
        self.holder.total = total;
        self.write_holder()
    }

    fn write_holder(&mut self) -> Result<()> {
        let mut bytes = serde_json::to_vec(&self.holder).context("cannot encode slot holder")?;
        bytes.push(b'\n');
        // Overwrite in place, then cut any longer old tail; readers parse the first JSON
        // document only, so a tail left for a moment is harmless.
        self.file
            .write_all_at(&bytes, 0)
            .and_then(|()| self.file.set_len(bytes.len() as u64))
            .with_context(|| format!("cannot write slot {}", self.name))
    }
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        // Clear the metadata so the next holder's contenders never read ours, then unlock
        // (closing the file would release the lock too; unlocking explicitly also covers a
        // descriptor that a child inherited despite close-on-exec).
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Parses the first JSON document of a lock file. A new holder writes its metadata right
/// after locking, so a contender may briefly see an empty file or (after a holder was killed)
/// the previous holder's metadata: retry for up to 200 ms until the document parses and, when
/// the lock owner's pid is known, names that pid.
fn read_holder(file: &File, owner: Option<i32>) -> Option<Holder> {
    let deadline = Instant::now() + Duration::from_millis(200);
    let mut last = None;
    loop {
        let mut f = file;
        let mut buf = Vec::new();
        if f.seek(SeekFrom::Start(0)).is_ok()
            && f.take(checked_open::RECORD_CAP)
                .read_to_end(&mut buf)
                .is_ok()
        {
            let mut docs = serde_json::Deserializer::from_slice(&buf).into_iter::<Holder>();
            if let Some(Ok(h)) = docs.next() {
                if owner.is_none_or(|pid| pid == h.pid) {
                    return Some(h);
                }
                last = Some(h);
            }
        }
        if Instant::now() >= deadline {
            return last;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Whether a slot file is locked, and by which pid when the platform says.
enum LockState {
    Free,
    Held(Option<i32>),
}

/// Reads the lock state of `file` without taking any lock (Linux: `/proc/locks`).
fn lock_state(file: &File) -> Result<LockState> {
    #[cfg(target_os = "linux")]
    {
        Ok(match flock_owner(&file.metadata()?)? {
            Some(pid) => LockState::Held(Some(pid)),
            None => LockState::Free,
        })
    }
    #[cfg(not(target_os = "linux"))]
    {
        match file.try_lock_shared() {
            Ok(()) => {
                let _ = file.unlock();
                Ok(LockState::Free)
            }
            Err(TryLockError::WouldBlock) => Ok(LockState::Held(None)),
            Err(TryLockError::Error(e)) => Err(e.into()),
        }
    }
}

/// The pid holding a `flock` on the file at `path`, per `/proc/locks` (Linux; `None`
/// elsewhere, when free, or when it cannot be read). For messages only: the answer may be
/// stale by the time it is printed.
pub fn flock_holder(path: &Path) -> Option<i32> {
    #[cfg(target_os = "linux")]
    {
        flock_owner(&std::fs::metadata(path).ok()?).ok().flatten()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        None
    }
}

/// The pid owning a `flock` on the inode `meta` describes, from `/proc/locks`.
#[cfg(target_os = "linux")]
fn flock_owner(meta: &std::fs::Metadata) -> Result<Option<i32>> {
    let locks = std::fs::read_to_string("/proc/locks").context("cannot read /proc/locks")?;
    Ok(proc_locks_flock_owner(&locks, meta.dev(), meta.ino()))
}

/// The pid owning a FLOCK on device `dev`, inode `ino`, according to `/proc/locks` text.
/// Lines look like `1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF` (device as
/// `major:minor` in hex; see proc(5)). Blocked waiters (`1: -> FLOCK ...`) do not count.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn proc_locks_flock_owner(locks: &str, dev: u64, ino: u64) -> Option<i32> {
    let major = nix::sys::stat::major(dev);
    let minor = nix::sys::stat::minor(dev);
    locks.lines().find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.get(1) != Some(&"FLOCK") {
            return None;
        }
        let mut parts = f.get(5)?.split(':');
        let (ma, mi, i) = (parts.next()?, parts.next()?, parts.next()?);
        let same = u64::from_str_radix(ma, 16).ok() == Some(major)
            && u64::from_str_radix(mi, 16).ok() == Some(minor)
            && i.parse::<u64>().ok() == Some(ino);
        if same {
            f.get(4)?.parse().ok()
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acquire_busy_release() {
        let dir = tempfile::tempdir().unwrap();
        let table = SlotTable::in_dir(dir.path());
        let mut g = table.try_acquire("fetch-x").unwrap();
        g.set_progress(5, Some(10)).unwrap();
        let err = table.try_acquire("fetch-x").unwrap_err();
        let Some(Error::Busy { holder, .. }) = Error::find(&err) else {
            panic!("{err:#}")
        };
        assert!(holder
            .as_deref()
            .unwrap()
            .contains(&std::process::id().to_string()));
        assert!(
            table.try_acquire("other").is_ok(),
            "other slots are independent"
        );
        let listed = table.list().unwrap();
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert_eq!(listed[0].holder.as_ref().unwrap().done, Some(5));
        drop(g);
        assert!(table.list().unwrap().is_empty());
        assert!(table.try_acquire("fetch-x").is_ok());
        assert!(table.try_acquire("../x").is_err());
    }

    #[test]
    fn proc_locks_parsing() {
        let text = "1: FLOCK  ADVISORY  WRITE 99 fd:01:1234 0 EOF\n\
                    2: -> FLOCK  ADVISORY  WRITE 98 00:2a:77 0 EOF\n";
        let dev = nix::sys::stat::makedev(0xfd, 1);
        assert_eq!(proc_locks_flock_owner(text, dev, 1234), Some(99));
        assert_eq!(proc_locks_flock_owner(text, dev, 1235), None);
        assert_eq!(
            proc_locks_flock_owner(text, nix::sys::stat::makedev(0, 0x2a), 77),
            None
        );
    }
}
