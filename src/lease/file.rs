//! The local lease store: one JSON record per lease in `STATE/leases/NAME.json`, changed
//! only while holding an exclusive `flock(2)` on `STATE/leases/NAME.lock` (DESIGN.md "State
//! dir layout").
//!
//! Every operation is lock, read, decide, write, unlock, so two contenders can never both
//! win, whatever the timing: the decision and the write happen under the same lock. The lock
//! file is opened close-on-exec and without following symlinks (checked on the handle by
//! [`checked_open::open_file`]), is never replaced or deleted, and is held
//! only for the few microseconds of one operation, never while a lease is held. A process
//! stopped or stuck inside an operation would hold it indefinitely, so an operation waits at
//! most [`STORE_LOCK_PATIENCE`] for it and then fails as busy (exit 4) naming the pid. Readers
//! (`status`, `list`) take no lock: records are replaced by rename, so a reader sees a whole
//! record.
//!
//! Records are replaced by rename *without* fsync (see `FileStore::write`), a
//! deliberate exception to invariant 1 that keeps each operation cheap: a record only
//! matters within the boot that wrote it (a crash ends the boot, and a record of another boot
//! is expired), and fencing tokens stay monotonic without the record (see
//! [`super::next_token`]). An unreadable record (possible only after a crash) is treated as
//! absent.

use std::fs::{File, OpenOptions, TryLockError};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result};

use super::{
    check_token, clock, next_token, standing, Attempt, Lease, LeaseInfo, LeaseName, LeaseRecord,
    LeaseStore, Now, Standing, Token,
};
use crate::checked_open::{self, Rule};
use crate::state::StateDir;
use crate::Error;

/// How long one lease operation waits for the store's lock on `NAME.lock`, held for about
/// a millisecond per operation, before failing as busy: long enough never to be reached under
/// any real contention, short enough that a stopped holder does not hang every script.
pub const STORE_LOCK_PATIENCE: Duration = Duration::from_secs(10);

/// Leases kept in a directory of the state dir.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// The store in `STATE/leases/` (created 0700 on first use).
    pub fn new(state: &StateDir) -> Result<FileStore> {
        Ok(FileStore {
            dir: state.subdir("leases")?,
        })
    }

    /// The store in an explicit, existing directory (for tests and tools).
    pub fn in_dir(dir: impl Into<PathBuf>) -> FileStore {
        FileStore { dir: dir.into() }
    }

    /// The directory holding the records and lock files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn record_path(&self, name: &LeaseName) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    /// Opens and exclusively locks `NAME.lock`; the lock is released when the file drops.
    ///
    /// Uncontended, one `flock` call. Contended, a helper thread waits in the kernel (so the
    /// release wakes it at once) while this thread gives it [`STORE_LOCK_PATIENCE`]; after
    /// that the operation fails with [`Error::Busy`] naming the lock's holder, and the helper,
    /// should it still get the lock, drops it at once (the channel is gone).
    fn lock(&self, name: &LeaseName) -> Result<File> {
        let path = self.dir.join(format!("{name}.lock"));
        let file = checked_open::open_file(
            &path,
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600),
            Rule::Private,
        )
        .with_context(|| format!("cannot open lease lock {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", path.display()))
            }
        }
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let locked = file.lock().map(|()| file);
            let _ = tx.send(locked);
        });
        if let Some(locked) = crate::interrupt::recv_timeout(&rx, STORE_LOCK_PATIENCE)? {
            return locked.with_context(|| format!("cannot lock {}", path.display()));
        }
        let holder = crate::slot::flock_holder(&path).map(|pid| format!("pid {pid}"));
        let hint = match &holder {
            Some(pid) => format!(
                "{pid} has held it for over {}s; if it is stopped, `kill -CONT` it",
                STORE_LOCK_PATIENCE.as_secs()
            ),
            None => "another process is stuck inside a lease operation".into(),
        };
        Err(crate::error::hinted(
            Error::Busy {
                what: format!("lease store lock {}", path.display()),
                holder,
            },
            hint,
        ))
    }

    fn read(&self, name: &LeaseName) -> Result<Option<LeaseRecord>> {
        read_record(&self.record_path(name))
    }

    /// Replaces `NAME.json` by renaming `.NAME.OP.RANDOM.tmp` over it, without fsync. The
    /// temporary file is created `O_EXCL | O_CLOEXEC` (mode 0600) under a name with a random
    /// part (the `tempfile` crate), so nothing planted in the directory is ever written
    /// through; its name's prefix names the operation, so waiters can watch for releases
    /// alone (see [`FileStore::watch`]).
    fn write(&self, rec: &LeaseRecord, op: Op) -> Result<()> {
        use std::io::Write;
        let path = self.dir.join(format!("{}.json", rec.name));
        let mut bytes = serde_json::to_vec_pretty(rec).context("cannot encode lease record")?;
        bytes.push(b'\n');
        let mut tmp = tempfile::Builder::new()
            .prefix(&temp_prefix(&rec.name, op))
            .suffix(".tmp")
            .rand_bytes(12)
            .tempfile_in(&self.dir)
            .with_context(|| format!("cannot create a temporary file in {}", self.dir.display()))?;
        tmp.write_all(&bytes)
            .with_context(|| format!("cannot write {}", tmp.path().display()))?;
        let tmp_path = tmp.path().to_path_buf();
        tmp.persist(&path).map_err(|e| e.error).with_context(|| {
            format!("cannot rename {} to {}", tmp_path.display(), path.display())
        })?;
        Ok(())
    }
}

/// Which operation writes a record (part of its temporary file's name).
#[derive(Debug, Clone, Copy)]
enum Op {
    Acquire,
    Renew,
    Release,
}

/// The fixed start of the temporary file names of operation `op` on lease `name`
/// (`.NAME.OP.`); a random part and `.tmp` follow.
fn temp_prefix(name: &str, op: Op) -> String {
    let op = match op {
        Op::Acquire => "acquire",
        Op::Renew => "renew",
        Op::Release => "release",
    };
    format!(".{name}.{op}.")
}

/// Reads a lease record: opened without following symlinks, checked on the handle (a regular
/// file of this user, not group/world writable: else [`Error::Refused`], exit 5) and read up
/// to [`checked_open::RECORD_CAP`] (more fails, exit 1). A record that does not parse (possible
/// only after a crash) is treated as absent.
fn read_record(path: &Path) -> Result<Option<LeaseRecord>> {
    let Some(bytes) = checked_open::read_record(path)? else {
        return Ok(None);
    };
    match serde_json::from_slice(&bytes) {
        Ok(rec) => Ok(Some(rec)),
        Err(e) => {
            tracing::warn!("ignoring unreadable lease record {}: {e}", path.display());
            Ok(None)
        }
    }
}

fn lease_view(rec: &LeaseRecord, now: &Now) -> Lease {
    let expires_in_ms = rec.expires_boot_ms.saturating_sub(now.boot_ms);
    Lease {
        name: rec.name.clone(),
        token: rec.token,
        holder: rec.holder.clone(),
        ttl_ms: rec.ttl_ms,
        expires_in_ms,
        expires_at: clock::rfc3339_ms(now.wall_us / 1000 + expires_in_ms),
    }
}

fn ms(d: Duration) -> u64 {
    d.as_millis().try_into().unwrap_or(u64::MAX)
}

impl LeaseStore for FileStore {
    fn try_acquire(&self, name: &LeaseName, ttl: Duration, holder: &str) -> Result<Attempt> {
        let _lock = self.lock(name)?;
        let previous = self.read(name)?;
        let now = clock::now()?;
        if let Some(rec) = &previous {
            if standing(rec, &now).is_held() {
                return Ok(Attempt::Held(LeaseInfo::from_record(rec, &now)));
            }
        }
        let previous_token = previous.map(|r| r.token);
        let token = next_token(previous_token, now.wall_us).ok_or_else(|| {
            anyhow::anyhow!(
                "lease {name}: cannot issue a fencing token larger than {} (the largest \
                 possible) recorded in {}; refusing to issue it again",
                previous_token.map_or(0, |t| t.0),
                self.record_path(name).display()
            )
        })?;
        let rec = LeaseRecord {
            name: name.to_string(),
            token,
            holder: holder.to_string(),
            pid: std::process::id() as i32,
            host: crate::process::hostname().unwrap_or_default(),
            boot_id: now.boot_id.clone(),
            ttl_ms: ms(ttl),
            acquired_boot_ms: now.boot_ms,
            expires_boot_ms: now.boot_ms.saturating_add(ms(ttl)),
            acquired_wall_ms: now.wall_us / 1000,
            released: false,
        };
        self.write(&rec, Op::Acquire)?;
        Ok(Attempt::Acquired(lease_view(&rec, &now)))
    }

    fn renew(&self, name: &LeaseName, token: Token, ttl: Option<Duration>) -> Result<Lease> {
        let _lock = self.lock(name)?;
        let mut rec = check_token(self.read(name)?, name, token)?;
        let now = clock::now()?;
        match standing(&rec, &now) {
            Standing::Released => {
                return Err(Error::Lost(format!("lease {name} was released")).into())
            }
            Standing::PreviousBoot => {
                return Err(Error::Lost(format!(
                    "lease {name} expired: it was acquired before the last reboot"
                ))
                .into())
            }
            // Expired but nobody took it over: the token is still the latest, so
            // extending it cannot overlap another holder.
            Standing::Held { .. } | Standing::Expired { .. } => {}
        }
        if let Some(ttl) = ttl {
            rec.ttl_ms = ms(ttl);
        }
        rec.expires_boot_ms = now.boot_ms.saturating_add(rec.ttl_ms);
        self.write(&rec, Op::Renew)?;
        Ok(lease_view(&rec, &now))
    }

    fn release(&self, name: &LeaseName, token: Token) -> Result<()> {
        let _lock = self.lock(name)?;
        let mut rec = check_token(self.read(name)?, name, token)?;
        if !rec.released {
            rec.released = true;
            self.write(&rec, Op::Release)?;
        }
        Ok(())
    }

    fn status(&self, name: &LeaseName) -> Result<Option<LeaseInfo>> {
        let rec = self.read(name)?;
        let now = clock::now()?;
        Ok(rec.map(|r| LeaseInfo::from_record(&r, &now)))
    }

    fn list(&self) -> Result<Vec<LeaseInfo>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(
                    anyhow::Error::from(e).context(format!("cannot list {}", self.dir.display()))
                )
            }
        };
        let now = clock::now()?;
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot list {}", self.dir.display()))?;
            let file_name = entry.file_name();
            let Some(stem) = file_name.to_str().and_then(|n| n.strip_suffix(".json")) else {
                continue;
            };
            if stem.parse::<LeaseName>().is_err() {
                continue; // temporary files (`.voxctl-*`) and strays
            }
            if let Some(rec) = read_record(&entry.path())? {
                out.push(LeaseInfo::from_record(&rec, &now));
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Wakes on releases only: a release renames `.NAME.release.RANDOM.tmp` over the record, seen
    /// as an IN_MOVED_FROM of that name in the directory (inotify, Linux). Acquires and
    /// renewals wake nobody; expiry is the waiter's own timeout.
    #[cfg(target_os = "linux")]
    fn watch(&self, name: &LeaseName) -> Option<Box<dyn super::ChangeWait>> {
        use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
        let inotify = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK).ok()?;
        inotify
            .add_watch(&self.dir, AddWatchFlags::IN_MOVED_FROM)
            .ok()?;
        Some(Box::new(ReleaseWatch {
            inotify,
            prefix: temp_prefix(name.as_str(), Op::Release),
        }))
    }
}

/// Wakes when lease `NAME` is released (see [`FileStore::watch`]).
#[cfg(target_os = "linux")]
struct ReleaseWatch {
    inotify: nix::sys::inotify::Inotify,
    /// `.NAME.release.`: the start of the release's temporary file names.
    prefix: String,
}

#[cfg(target_os = "linux")]
impl super::ChangeWait for ReleaseWatch {
    fn wait(&mut self, timeout: Duration) {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let ts = rustix::event::Timespec {
                tv_sec: left.as_secs() as i64,
                tv_nsec: left.subsec_nanos().into(),
            };
            let mut fds = [rustix::event::PollFd::new(
                &self.inotify,
                rustix::event::PollFlags::IN,
            )];
            match rustix::event::poll(&mut fds, Some(&ts)) {
                Ok(0) => return,
                Ok(_) => {}
                Err(_) => return, // EINTR: let the caller re-check (a signal may have come)
            }
            match self.inotify.read_events() {
                Ok(events) => {
                    if events.iter().any(|e| {
                        e.name
                            .as_ref()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with(&self.prefix) && n.ends_with(".tmp"))
                    }) {
                        return;
                    }
                }
                Err(_) => return,
            }
        }
    }
}
