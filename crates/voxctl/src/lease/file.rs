//! The local lease store: one JSON record per lease in `STATE/leases/NAME.json`, changed
//! only while holding an exclusive `flock(2)` on `STATE/leases/NAME.lock` (docs/contract.md
//! "State dir").
//!
//! Every operation is lock, read, decide, write, unlock, so two contenders can never both
//! win, whatever the timing: the decision and the write happen under the same lock. The lock
//! file is opened close-on-exec and without following symlinks (checked on the handle by
//! `checked_open::open_file`), is never replaced or deleted, and is held
//! only for the few microseconds of one operation, never while a lease is held. A process
//! stopped or stuck inside an operation would hold it indefinitely, so an operation waits at
//! most [`STORE_LOCK_PATIENCE`] for it and then fails as busy (exit 4) naming the pid. Readers
//! (`status`, `list`) take no lock: a record is replaced in one atomic step (an exchange
//! with the new file, or a rename over it), so a reader sees a whole record.
//!
//! Records are replaced *without* fsync (see `FileStore::write`), a
//! deliberate exception to invariant 1 that keeps each operation cheap: a record only
//! matters within the boot that wrote it (a crash ends the boot, and a record of another boot
//! is expired), and fencing tokens stay monotonic without the record (see
//! [`super::next_token`]). An unreadable record fails every operation on its lease (exit 1)
//! rather than counting as absent: fail closed, as the etcd store does.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result};

use super::{
    check_token, clock, next_token, standing, Attempt, Lease, LeaseInfo, LeaseName, LeaseRecord,
    LeaseStore, Now, Owner, Standing, Token,
};
use crate::cancel::Cancel;
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
    cancel: Cancel,
}

impl FileStore {
    /// The store in `STATE/leases/` (created 0700 on first use).
    pub fn new(state: &StateDir) -> Result<FileStore> {
        Ok(FileStore {
            dir: state.subdir("leases")?,
            cancel: Cancel::new(),
        })
    }

    /// The store in an explicit, existing directory (for tests and tools).
    pub fn in_dir(dir: impl Into<PathBuf>) -> FileStore {
        FileStore {
            dir: dir.into(),
            cancel: Cancel::new(),
        }
    }

    /// This store with `cancel` ending its waits for a contended `NAME.lock` (see
    /// [`STORE_LOCK_PATIENCE`]) with [`Error::Interrupted`].
    pub fn with_cancel(mut self, cancel: Cancel) -> FileStore {
        self.cancel = cancel;
        self
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
        let file = checked_open::open_or_create(&path, 0o600, Rule::Private)
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
        if let Some(locked) = self.cancel.recv_timeout(&rx, STORE_LOCK_PATIENCE)? {
            return locked.with_context(|| format!("cannot lock {}", path.display()));
        }
        let pid = crate::slot::flock_holder(&path);
        Err(crate::error::with_remedy(
            Error::Busy {
                what: format!("lease store lock {}", path.display()),
                holder: pid.map(|pid| format!("pid {pid}")),
            },
            crate::error::Remedy::StoreLockStuck {
                pid,
                patience_secs: STORE_LOCK_PATIENCE.as_secs(),
            },
        ))
    }

    fn read(&self, name: &LeaseName) -> Result<Option<LeaseRecord>> {
        read_record(&self.record_path(name))
    }

    /// Replaces `NAME.json` with `.NAME.OP.RANDOM.tmp`, without fsync: on Linux by
    /// exchanging the two ([`crate::platform::exchange`], half the cost of a rename over the
    /// record on ext4) and deleting the old record under the temporary name, else (no record
    /// yet, no exchange) by renaming it over the record. Either way a lock-free reader sees
    /// the old record or the new one, whole, and the temporary name's `IN_MOVED_FROM` is what
    /// a waiter sees. The temporary file is created `O_EXCL | O_CLOEXEC` (mode 0600) under a
    /// name with a random part (the `tempfile` crate), so nothing planted in the directory is
    /// ever written through; its name's prefix names the operation, so waiters can watch for
    /// releases alone (see [`FileStore::watch`]). A writer killed between the exchange and the
    /// delete leaves the old record under the temporary name, which the next operation
    /// removes (`remove_stale_temps`).
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
        if crate::platform::exchange(&tmp_path, &path).with_context(|| {
            format!(
                "cannot exchange {} and {}",
                tmp_path.display(),
                path.display()
            )
        })? {
            // The temporary name now holds the old record: dropping `tmp` deletes it.
            return Ok(());
        }
        // Windows refuses the rename while a reader has the record open: wait that out.
        let mut pending = Some(tmp);
        crate::platform::while_shared(|| {
            let tmp = pending.take().expect("retried only after an error");
            tmp.persist(&path).map(drop).map_err(|e| {
                pending = Some(e.file);
                e.error
            })
        })
        .with_context(|| format!("cannot rename {} to {}", tmp_path.display(), path.display()))?;
        Ok(())
    }
}

/// The liveness file kept between holders of lease `name`: `NAME.held.alive`. No other
/// lease's file can have this name (a token-named one has digits where `held` is).
fn kept_liveness(name: &str) -> String {
    format!("{name}.held.alive")
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
/// to [`checked_open::RECORD_CAP`] (more fails, exit 1). A record that does not parse, or
/// holds a time past 9999 ([`crate::timestamp::MAX_MILLIS`]), fails (exit 1) naming it: it
/// may be a live holder's, so taking it for absent could hand the lease to a second holder.
fn read_record(path: &Path) -> Result<Option<LeaseRecord>> {
    let Some(bytes) = checked_open::read_record(path)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        crate::error::with_remedy(
            anyhow::anyhow!("corrupt lease record {}: {e}", path.display()),
            crate::error::Remedy::RemoveCorruptLeaseRecord,
        )
    })
}

fn lease_view(rec: &LeaseRecord, now: &Now) -> Lease {
    let expires_in_ms = rec.expires_boot_ms.saturating_sub(now.boot_ms);
    Lease {
        name: rec.name.clone(),
        token: rec.token,
        holder: rec.holder.clone(),
        ttl_ms: rec.ttl_ms,
        expires_in_ms,
        expires_at: clock::rfc3339_ms((now.wall_us / 1000).saturating_add(expires_in_ms)),
    }
}

fn ms(d: Duration) -> u64 {
    d.as_millis().try_into().unwrap_or(u64::MAX)
}

/// Who will own a lease acquired with [`FileStore::try_acquire_owned`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerSpec {
    /// No owner: the TTL alone decides (every plain `lease acquire`).
    None,
    /// `lease run`: a liveness file whose `flock` voxctl holds and its command inherits.
    Liveness,
    /// `lease acquire --owner-pid PID`.
    Pid(i32),
}

/// The pid namespace of `pid`, as the text of its `/proc/PID/ns/pid` link.
fn pid_namespace(pid: &str) -> Option<String> {
    std::fs::read_link(format!("/proc/{pid}/ns/pid"))
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}

impl FileStore {
    /// Where `rec` stands at `now`, with the one fact a pure [`standing`] cannot know:
    /// whether a held lease's [`Owner`] is certainly gone ([`Standing::Abandoned`]).
    pub fn standing_of(&self, rec: &LeaseRecord, now: &Now) -> Standing {
        let pure = standing(rec, now);
        if pure.is_held() && self.owner_gone(rec) {
            Standing::Abandoned
        } else {
            pure
        }
    }

    /// Whether the owner of `rec` is certainly gone. Without an owner, or when in doubt
    /// (another host, boot or pid namespace; a liveness file that cannot be checked), no.
    fn owner_gone(&self, rec: &LeaseRecord) -> bool {
        match &rec.owner {
            None => false,
            Some(Owner::Flock { file, dev, ino }) => {
                // A liveness file is a bare name in the lease dir: a separator of either
                // system means the record points elsewhere.
                if file.contains(['/', '\\'])
                    || rec.host != crate::process::hostname().unwrap_or_default()
                {
                    return false;
                }
                self.liveness_unlocked(&rec.name, file, dev.zip(*ino))
            }
            Some(Owner::Process {
                pid,
                start_time,
                pid_ns,
                boot_id,
                host,
            }) => {
                Some(host) == crate::process::hostname().as_ref()
                    && Some(boot_id) == crate::process::boot_id().as_ref()
                    && Some(pid_ns) == pid_namespace("self").as_ref()
                    && crate::process::start_time(*pid) != Some(*start_time)
            }
        }
    }

    /// Whether liveness file `file` of lease `name` is certainly abandoned: it is the very
    /// file the holder created (`identity`: device and inode, when the record has them) and
    /// nobody holds its lock. It is opened as every state file is ([`checked_open`]: no
    /// symlink followed, no blocking on a FIFO, a regular private file). Anything else fails
    /// closed, with a warning naming the file: missing (the holder removes it only when
    /// releasing, so the record would say released), a symlink, a FIFO, a file of another
    /// inode, or a lock that cannot be tried all leave the lease held until its TTL runs out,
    /// so tampering with the file can never hand a running holder's lease to another.
    fn liveness_unlocked(&self, name: &str, file: &str, identity: Option<(u64, u64)>) -> bool {
        let path = self.dir.join(file);
        let held = |why: String| {
            tracing::warn!(
                "lease {name}: liveness file {} {why}; counting the lease as held until its \
                 TTL runs out",
                path.display()
            );
            false
        };
        let f = match checked_open::open_file(&path, OpenOptions::new().read(true), Rule::Private) {
            Ok(f) => f,
            Err(e) if checked_open::is_not_found(&e) && Error::find(&e).is_none() => {
                return held("is missing".into())
            }
            Err(e) => return held(format!("cannot be checked: {e:#}")),
        };
        if let Some((dev, ino)) = identity {
            match crate::platform::file_identity(&f) {
                Ok(id) if id == (dev, ino) => {}
                Ok(_) => {
                    return held("was replaced (another inode than its holder created)".into())
                }
                Err(e) => return held(format!("cannot be checked: {e}")),
            }
        }
        match f.try_lock() {
            Ok(()) => true, // nobody holds it; dropping `f` unlocks
            Err(TryLockError::WouldBlock) => false,
            Err(TryLockError::Error(e)) => held(format!("cannot be locked: {e}")),
        }
    }

    /// Removes temporary record files of lease `name` (`.NAME.OP.RANDOM.tmp`) left behind by
    /// a writer killed between creating and renaming one. Called with `NAME.lock` held: every
    /// writer creates and renames its temporary file while holding that lock, so any such
    /// file present now belongs to a writer that has died. Only names of exactly that shape
    /// (a 12-character alphanumeric random part) are removed, so another lease's files never
    /// match.
    fn remove_stale_temps(&self, name: &LeaseName) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let prefixes =
            [Op::Acquire, Op::Renew, Op::Release].map(|op| temp_prefix(name.as_str(), op));
        for entry in entries.flatten() {
            let file_name = entry.file_name();
            let Some(n) = file_name.to_str() else {
                continue;
            };
            let stale = prefixes.iter().any(|p| {
                n.strip_prefix(p.as_str())
                    .and_then(|rest| rest.strip_suffix(".tmp"))
                    .is_some_and(|r| r.len() == 12 && r.bytes().all(|b| b.is_ascii_alphanumeric()))
            });
            if stale {
                match std::fs::remove_file(entry.path()) {
                    Ok(()) => tracing::debug!("removed stale {}", entry.path().display()),
                    Err(e) => tracing::warn!("cannot remove stale {}: {e}", entry.path().display()),
                }
            }
        }
    }

    /// The view of `rec` at `now`, abandonment included.
    fn info(&self, rec: &LeaseRecord, now: &Now) -> LeaseInfo {
        let mut info = LeaseInfo::from_record(rec, now);
        let st = self.standing_of(rec, now);
        if st == Standing::Abandoned {
            info.state = st.state();
            info.left_ms = 0;
        }
        info
    }

    /// Removes the liveness file of `rec`, if it has one (after a takeover or a release); with
    /// `keep`, not the kept file (`NAME.held.alive`), which the next holder reuses.
    fn remove_liveness(&self, rec: &LeaseRecord, keep: bool) {
        if let Some(Owner::Flock { file, .. }) = &rec.owner {
            let kept = keep && *file == kept_liveness(&rec.name);
            if !file.contains(['/', '\\']) && !kept {
                let _ = std::fs::remove_file(self.dir.join(file));
            }
        }
    }

    /// Liveness file `file` in the lease dir, opened (created if missing) as a private
    /// regular file without following a link, locked without waiting, made inheritable:
    /// `(file, handle, device, inode)`. Errors when it cannot be, or its lock is held; with
    /// `fresh` the file is removed again on an error (nothing else would).
    fn liveness(&self, file: &str, fresh: bool) -> Result<(String, File, u64, u64)> {
        let path = self.dir.join(file);
        let f = checked_open::open_or_create(&path, 0o600, Rule::Private)
            .with_context(|| format!("cannot create liveness file {}", path.display()))?;
        let made = (|| {
            f.try_lock().map_err(|e| {
                anyhow::anyhow!("cannot lock liveness file {}: {e}", path.display())
            })?;
            crate::platform::make_inheritable(&f)
                .with_context(|| format!("cannot share liveness file {}", path.display()))?;
            crate::platform::file_identity(&f)
                .with_context(|| format!("cannot stat {}", path.display()))
        })();
        let (dev, ino) = made.inspect_err(|_| {
            if fresh {
                let _ = std::fs::remove_file(&path);
            }
        })?;
        Ok((file.to_string(), f, dev, ino))
    }

    /// [`LeaseStore::try_acquire`] with an owner (see [`OwnerSpec`]). For
    /// [`OwnerSpec::Liveness`] it also returns the liveness file, locked and *inheritable*
    /// (not close-on-exec): keep it open for as long as the lease is held, and the command
    /// started meanwhile inherits it. A lease whose owner is gone is taken over at once with
    /// a larger token. Errors: [`Error::Usage`] when `--owner-pid` names no process.
    pub fn try_acquire_owned(
        &self,
        name: &LeaseName,
        ttl: Duration,
        holder: &str,
        owner: OwnerSpec,
    ) -> Result<(Attempt, Option<File>)> {
        let _lock = self.lock(name)?;
        self.remove_stale_temps(name);
        let previous = self.read(name)?;
        let now = clock::now()?;
        if let Some(rec) = &previous {
            if self.standing_of(rec, &now).is_held() {
                return Ok((Attempt::Held(self.info(rec, &now)), None));
            }
        }
        let previous_token = previous.as_ref().map(|r| r.token);
        let token = next_token(previous_token, now.wall_us).ok_or_else(|| {
            anyhow::anyhow!(
                "lease {name}: cannot issue a fencing token larger than {} (the largest \
                 possible) recorded in {}; refusing to issue it again",
                previous_token.map_or(0, |t| t.0),
                self.record_path(name).display()
            )
        })?;
        let host = crate::process::hostname().unwrap_or_default();
        let (owner, alive) = match owner {
            OwnerSpec::None => (None, None),
            OwnerSpec::Pid(pid) => {
                let gone = || Error::Usage(format!("owner pid {pid}: no such process"));
                let start_time = crate::process::start_time(pid).ok_or_else(gone)?;
                let pid_ns = pid_namespace(&pid.to_string()).ok_or_else(gone)?;
                let owner = Owner::Process {
                    pid,
                    start_time,
                    pid_ns,
                    boot_id: now.boot_id.clone(),
                    host: host.clone(),
                };
                (Some(owner), None)
            }
            OwnerSpec::Liveness => {
                // The kept file when nobody holds its lock (one create and one delete fewer
                // a `lease run`); else (an earlier holder's command, or a child of it, still
                // runs; or the name is not a private regular file) one of this token's own.
                let (file, f, dev, ino) = match self.liveness(&kept_liveness(name.as_str()), false)
                {
                    Ok(made) => made,
                    Err(_) => self.liveness(&format!("{name}.{token}.alive"), true)?,
                };
                let path = self.dir.join(&file);
                let owner = Owner::Flock {
                    file,
                    dev: Some(dev),
                    ino: Some(ino),
                };
                (Some(owner), Some((f, path)))
            }
        };
        let rec = LeaseRecord {
            name: name.to_string(),
            token,
            holder: holder.to_string(),
            pid: std::process::id() as i32,
            host,
            boot_id: now.boot_id.clone(),
            ttl_ms: ms(ttl),
            acquired_boot_ms: now.boot_ms,
            expires_boot_ms: now.boot_ms.saturating_add(ms(ttl)),
            acquired_wall_ms: now.wall_us / 1000,
            released: false,
            owner,
        };
        if let Err(e) = self.write(&rec, Op::Acquire) {
            // No record names the liveness file: remove it, or it would stay forever.
            if let Some((_, path)) = &alive {
                let _ = std::fs::remove_file(path);
            }
            return Err(e);
        }
        let alive = alive.map(|(f, _)| f);
        if let Some(prev) = &previous {
            // The earlier holder's file, unless it is the one this holder now locks (the
            // kept file, taken because nobody held it).
            let liveness = |r: &LeaseRecord| match &r.owner {
                Some(Owner::Flock { file, .. }) => Some(file.clone()),
                _ => None,
            };
            if liveness(prev).is_none_or(|f| Some(f) != liveness(&rec)) {
                self.remove_liveness(prev, false);
            }
        }
        Ok((Attempt::Acquired(lease_view(&rec, &now)), alive))
    }
}

/// A [`LeaseStore`] view of a [`FileStore`] whose acquires get an owner, for
/// [`super::acquire`]; the liveness file of the winning acquire is kept in `alive`.
pub struct Owned<'a> {
    /// The store.
    pub store: &'a FileStore,
    /// The owner every acquire records.
    pub owner: OwnerSpec,
    /// The liveness file of the latest successful acquire ([`OwnerSpec::Liveness`]).
    pub alive: std::sync::Mutex<Option<File>>,
}

impl LeaseStore for Owned<'_> {
    fn try_acquire(&self, name: &LeaseName, ttl: Duration, holder: &str) -> Result<Attempt> {
        let (attempt, alive) = self
            .store
            .try_acquire_owned(name, ttl, holder, self.owner)?;
        if alive.is_some() {
            *self.alive.lock().unwrap_or_else(|p| p.into_inner()) = alive;
        }
        Ok(attempt)
    }
    fn renew(&self, name: &LeaseName, token: Token, ttl: Option<Duration>) -> Result<Lease> {
        self.store.renew(name, token, ttl)
    }
    fn release(&self, name: &LeaseName, token: Token) -> Result<()> {
        self.store.release(name, token)
    }
    fn status(&self, name: &LeaseName) -> Result<Option<LeaseInfo>> {
        self.store.status(name)
    }
    fn list(&self) -> Result<Vec<LeaseInfo>> {
        self.store.list()
    }
    fn watch(&self, name: &LeaseName) -> Option<Box<dyn super::ChangeWait>> {
        self.store.watch(name)
    }
}

impl LeaseStore for FileStore {
    fn try_acquire(&self, name: &LeaseName, ttl: Duration, holder: &str) -> Result<Attempt> {
        self.try_acquire_owned(name, ttl, holder, OwnerSpec::None)
            .map(|(attempt, _)| attempt)
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
            Standing::Held { .. } | Standing::Expired { .. } | Standing::Abandoned => {}
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
            self.remove_liveness(&rec, true);
        }
        Ok(())
    }

    fn status(&self, name: &LeaseName) -> Result<Option<LeaseInfo>> {
        let rec = self.read(name)?;
        let now = clock::now()?;
        Ok(rec.map(|r| self.info(&r, &now)))
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
                out.push(self.info(&rec, &now));
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
        let deadline = crate::duration::deadline(timeout);
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
