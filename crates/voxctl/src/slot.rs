//! The slot table: named, cross-process exclusive slots (docs/contract.md "State dir",
//! and invariant 2).
//!
//! A slot `NAME` is held while a process holds an exclusive `flock(2)` on
//! `STATE/slots/NAME.lock`. The file is opened close-on-exec and without following symlinks,
//! and checked on the handle (`checked_open::open_file`: a planted symlink, FIFO or foreign
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
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::cancel::Cancel;
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

    /// One line for messages: `pid 123 on HOST (voxctl fetch ...), 40% (1.12 GiB of 2.24 GiB)`.
    pub fn describe(&self) -> String {
        let mut s = format!("pid {} on {} ({})", self.pid, self.host, self.command);
        if let (Some(done), Some(total)) = (self.done, self.total) {
            if let Some(pct) = done.saturating_mul(100).checked_div(total) {
                s.push_str(&format!(
                    ", {pct}% ({} of {})",
                    crate::size::iec(done),
                    crate::size::iec(total)
                ));
            }
        }
        s
    }
}

/// A slot that is held right now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// What [`SlotTable::try_acquire`] found.
#[derive(Debug)]
#[must_use = "an acquired slot is released when its guard drops"]
pub enum Attempt {
    /// The slot is ours until the guard drops.
    Acquired(SlotGuard),
    /// Someone holds the slot: its metadata, or `None` when it could not be read (a holder
    /// that is still writing it, or a lock file of an older voxctl).
    Held(Option<Holder>),
}

impl Attempt {
    /// The guard, if the slot was acquired (`None` drops nothing: a held slot has no guard).
    pub fn guard(self) -> Option<SlotGuard> {
        match self {
            Attempt::Acquired(g) => Some(g),
            Attempt::Held(_) => None,
        }
    }
}

/// How long [`SlotTable::acquire`] waits for a held slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Not at all: a held slot is [`Error::Busy`] at once.
    Never,
    /// Up to this long, then [`Error::Busy`].
    AtMost(Duration),
    /// For as long as it takes (until cancelled).
    Forever,
}

/// What [`SlotTable::acquire`] reports while it waits for a held slot.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitEvent {
    /// The slot is held by this holder, seen for the first time (sent once per pid).
    Holder(Holder),
    /// The holder's metadata as read on this poll (every [`WAIT_POLL`]): `done` and `total`
    /// are its progress.
    Progress(Holder),
    /// The holder `pid` has shown no progress (the same `done` in its metadata) for `idle`:
    /// sent once per holder, after [`STALL_NOTICE`].
    Stalled {
        /// The holder's pid.
        pid: i32,
        /// Whether it is stopped (Ctrl-Z, SIGSTOP): `kill -CONT PID` resumes it.
        stopped: bool,
        /// How long its progress has not changed.
        idle: Duration,
    },
}

/// How often [`SlotTable::acquire`] looks at a held slot: 100 ms.
pub const WAIT_POLL: Duration = Duration::from_millis(100);

/// How long a holder may show no progress (the same pid, the same `done` in its metadata)
/// before [`SlotTable::acquire`] reports [`WaitEvent::Stalled`]: 10 s.
pub const STALL_NOTICE: Duration = Duration::from_secs(10);

/// What a waiter knows of the holders it has followed.
#[derive(Default)]
struct Follow {
    /// The pid last announced with [`WaitEvent::Holder`].
    announced: Option<i32>,
    /// The holder's (pid, done) as last seen, and when it last changed.
    seen: Option<(i32, Option<u64>)>,
    changed: Option<Instant>,
    /// The pid last reported as stalled.
    stall_told: Option<i32>,
}

impl Follow {
    fn observe(&mut self, h: Holder, on_event: &(dyn Fn(&WaitEvent) + Sync)) {
        if self.announced != Some(h.pid) {
            self.announced = Some(h.pid);
            on_event(&WaitEvent::Holder(h.clone()));
        }
        let now = Instant::now();
        if self.seen != Some((h.pid, h.done)) {
            self.seen = Some((h.pid, h.done));
            self.changed = Some(now);
        } else if let Some(changed) = self.changed {
            let idle = now.duration_since(changed);
            if self.stall_told != Some(h.pid) && idle >= STALL_NOTICE {
                self.stall_told = Some(h.pid);
                on_event(&WaitEvent::Stalled {
                    pid: h.pid,
                    stopped: crate::process::is_stopped(h.pid),
                    idle,
                });
            }
        }
        on_event(&WaitEvent::Progress(h));
    }
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

    /// Tries to take slot `name` without blocking: [`Attempt::Acquired`] with the guard, or
    /// [`Attempt::Held`] naming the holder (another process, or another guard of this
    /// process) as far as its metadata can be read. Errors: [`Error::Usage`] for an invalid
    /// name, [`Error::Refused`] (exit 5) for a lock file of the wrong type, owner or mode,
    /// and I/O errors naming the file.
    ///
    /// ```
    /// use voxctl::slot::{Attempt, SlotTable};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let table = SlotTable::in_dir(dir.path());
    /// let Attempt::Acquired(guard) = table.try_acquire("fetch-demo")? else {
    ///     panic!("a fresh table has no holders");
    /// };
    /// // A second taker sees this process as the holder.
    /// let Attempt::Held(Some(holder)) = table.try_acquire("fetch-demo")? else { panic!() };
    /// assert_eq!(holder.pid, std::process::id() as i32);
    /// drop(guard); // released
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn try_acquire(&self, name: &str) -> Result<Attempt> {
        let file = self.open(name)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let owner = match lock_state(&file) {
                    Ok(LockState::Held(pid)) => pid,
                    _ => None,
                };
                return Ok(Attempt::Held(read_holder(&file, owner)));
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
        Ok(Attempt::Acquired(guard))
    }

    /// Takes slot `name`, waiting for it as `wait` says and following the holder meanwhile.
    ///
    /// While the slot is held, every [`WAIT_POLL`] the holder's metadata is read and reported
    /// to `on_event`: [`WaitEvent::Holder`] once per holder (by pid), [`WaitEvent::Progress`]
    /// on every poll, and [`WaitEvent::Stalled`] once per holder whose progress (pid and
    /// `done`) has not changed for [`STALL_NOTICE`] (with whether it is stopped, as by Ctrl-Z
    /// or SIGSTOP). Nothing is reported with [`Wait::Never`].
    ///
    /// Errors: [`Error::Busy`] (exit 4) naming the holder when the slot is held and `wait` is
    /// [`Wait::Never`], or still held when [`Wait::AtMost`] runs out (then with the time
    /// waited in the message and a [`crate::error::Remedy`]: `ResumeStopped` for a stopped
    /// holder, else `WaitLonger`); [`Error::Interrupted`] once `cancel` is cancelled; the errors of
    /// [`SlotTable::try_acquire`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use voxctl::cancel::Cancel;
    /// use voxctl::slot::{SlotTable, Wait};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let table = SlotTable::in_dir(dir.path());
    /// let held = table.acquire("restart-demo", Wait::Never, &Cancel::new(), &|_| {})?;
    /// // Held by `held`: a second taker gives up after 200 ms with Error::Busy.
    /// let err = table
    ///     .acquire("restart-demo", Wait::AtMost(Duration::from_millis(200)), &Cancel::new(), &|ev| {
    ///         println!("{ev:?}");
    ///     })
    ///     .unwrap_err();
    /// assert!(matches!(voxctl::Error::find(&err), Some(voxctl::Error::Busy { .. })));
    /// drop(held);
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn acquire(
        &self,
        name: &str,
        wait: Wait,
        cancel: &Cancel,
        on_event: &(dyn Fn(&WaitEvent) + Sync),
    ) -> Result<SlotGuard> {
        let started = Instant::now();
        let mut follow = Follow::default();
        loop {
            let holder = match self.try_acquire(name)? {
                Attempt::Acquired(guard) => return Ok(guard),
                Attempt::Held(holder) => holder,
            };
            let busy = || -> anyhow::Error {
                Error::Busy {
                    what: format!("slot {name}"),
                    holder: holder.as_ref().map(Holder::describe),
                }
                .into()
            };
            let limit = match wait {
                Wait::Never => return Err(busy()),
                Wait::AtMost(limit) => Some(limit),
                Wait::Forever => None,
            };
            if limit.is_some_and(|l| started.elapsed() >= l) {
                let waited =
                    humantime::format_duration(Duration::from_secs(started.elapsed().as_secs()));
                let err = busy().context(format!("still held after waiting {waited}"));
                let remedy = match follow.seen {
                    Some((pid, _)) if crate::process::is_stopped(pid) => {
                        crate::error::Remedy::ResumeStopped { pid }
                    }
                    _ => crate::error::Remedy::WaitLonger,
                };
                return Err(crate::error::with_remedy(err, remedy));
            }
            if let Some(h) = self.holder(name)? {
                follow.observe(h, on_event);
            }
            cancel.sleep(WAIT_POLL)?;
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
        crate::platform::write_all_at(&self.file, &bytes, 0)
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
            if let Some(h) = first_holder(&buf) {
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

/// The holder metadata at the start of a lock file's bytes, if its first JSON document is one
/// (a later document, left by an earlier holder's longer write, is ignored).
pub(crate) fn first_holder(bytes: &[u8]) -> Option<Holder> {
    let mut docs = serde_json::Deserializer::from_slice(bytes).into_iter::<Holder>();
    docs.next().and_then(Result::ok)
}

/// Whether a slot file is locked, and by which pid when the platform says.
enum LockState {
    Free,
    Held(Option<i32>),
}

/// Reads the lock state of `file` without taking any lock where the system can tell
/// ([`crate::platform::lock_holder`]: Linux's `/proc/locks`), else by a non-blocking shared
/// probe (which, held for a moment, can make a contender see a spurious "busy").
fn lock_state(file: &File) -> Result<LockState> {
    match crate::platform::lock_holder(&file.metadata()?) {
        Ok(Some(pid)) => Ok(LockState::Held(Some(pid))),
        Ok(None) => Ok(LockState::Free),
        Err(e) if e.kind() == std::io::ErrorKind::Unsupported => match file.try_lock_shared() {
            Ok(()) => {
                let _ = file.unlock();
                Ok(LockState::Free)
            }
            Err(TryLockError::WouldBlock) => Ok(LockState::Held(None)),
            Err(TryLockError::Error(e)) => Err(e.into()),
        },
        Err(e) => Err(anyhow::Error::from(e).context("cannot read /proc/locks")),
    }
}

/// The pid holding a lock on the file at `path` (`crate::platform::lock_holder`; `None`
/// where the system cannot tell, when free, or when it cannot be read). For messages only:
/// the answer may be stale by the time it is printed.
pub fn flock_holder(path: &Path) -> Option<i32> {
    crate::platform::lock_holder(&std::fs::metadata(path).ok()?)
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `table.acquire(name, wait, cancel)` on its own thread, its events sent to the receiver.
    fn spawn_waiter(
        table: &SlotTable,
        name: &str,
        wait: Wait,
        cancel: &Cancel,
    ) -> (
        std::thread::JoinHandle<Result<SlotGuard>>,
        std::sync::mpsc::Receiver<WaitEvent>,
    ) {
        let (tx, rx) = std::sync::mpsc::channel();
        let (table, name, cancel) = (table.clone(), name.to_string(), cancel.clone());
        let waiter = std::thread::spawn(move || {
            let tx = std::sync::Mutex::new(tx);
            table.acquire(&name, wait, &cancel, &|ev| {
                let _ = tx.lock().unwrap().send(ev.clone());
            })
        });
        (waiter, rx)
    }

    fn take(table: &SlotTable, name: &str) -> SlotGuard {
        match table.try_acquire(name).unwrap() {
            Attempt::Acquired(g) => g,
            Attempt::Held(h) => panic!("held by {h:?}"),
        }
    }

    #[test]
    fn acquire_busy_release() {
        let dir = tempfile::tempdir().unwrap();
        let table = SlotTable::in_dir(dir.path());
        let mut g = take(&table, "fetch-x");
        g.set_progress(5, Some(10)).unwrap();
        let Attempt::Held(Some(holder)) = table.try_acquire("fetch-x").unwrap() else {
            panic!("not held")
        };
        assert_eq!(holder.pid, std::process::id() as i32);
        assert_eq!((holder.done, holder.total), (Some(5), Some(10)));
        let err = table
            .acquire("fetch-x", Wait::Never, &Cancel::new(), &|_| {})
            .unwrap_err();
        let Some(Error::Busy { holder, .. }) = Error::find(&err) else {
            panic!("{err:#}")
        };
        let holder = holder.as_deref().unwrap();
        assert!(holder.contains(&std::process::id().to_string()), "{holder}");
        // The busy message gives progress in IEC units, as all human output does.
        assert!(holder.ends_with(", 50% (5 B of 10 B)"), "{holder}");
        drop(take(&table, "other")); // other slots are independent
        let listed = table.list().unwrap();
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert_eq!(listed[0].holder.as_ref().unwrap().done, Some(5));
        drop(g);
        assert!(table.list().unwrap().is_empty());
        drop(take(&table, "fetch-x"));
        assert!(table.try_acquire("../x").is_err());
    }

    #[test]
    fn a_waiter_follows_the_holder_and_a_cancel_ends_the_wait() {
        let dir = tempfile::tempdir().unwrap();
        let table = SlotTable::in_dir(dir.path());
        let mut g = take(&table, "w");
        g.set_progress(7, Some(9)).unwrap();
        let cancel = Cancel::new();
        let (waiter, rx) = spawn_waiter(&table, "w", Wait::Forever, &cancel);
        let first = rx.recv().unwrap();
        assert!(
            matches!(&first, WaitEvent::Holder(h) if h.pid == std::process::id() as i32),
            "{first:?}"
        );
        let WaitEvent::Progress(h) = rx.recv().unwrap() else {
            panic!("no progress")
        };
        assert_eq!((h.done, h.total), (Some(7), Some(9)));
        cancel.cancel();
        let err = waiter.join().unwrap().unwrap_err();
        assert!(
            matches!(Error::find(&err), Some(Error::Interrupted)),
            "{err:#}"
        );
        drop(g);
    }

    /// A slot held by another process: `flock(1)` takes the lock on the slot file (created by
    /// this table first, so it passes the checks) and then runs `cat`, which ends when its
    /// stdin closes. Ready once it has said so; the lock file holds no metadata.
    struct OtherHolder {
        child: std::process::Child,
    }

    impl OtherHolder {
        fn spawn(table: &SlotTable, name: &str) -> OtherHolder {
            use std::io::BufRead;
            use std::process::{Command, Stdio};
            drop(take(table, name));
            let mut child = Command::new("flock")
                .arg("-x")
                .arg(table.path(name))
                .args(["-c", "echo locked; exec cat"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut line = String::new();
            std::io::BufReader::new(child.stdout.as_mut().unwrap())
                .read_line(&mut line)
                .unwrap();
            assert_eq!(line, "locked\n");
            OtherHolder { child }
        }

        fn pid(&self) -> i32 {
            self.child.id() as i32
        }
    }

    impl Drop for OtherHolder {
        fn drop(&mut self) {
            let _ = self.child.kill();
            drop(self.child.stdin.take()); // `cat`, which shares the lock, ends too
            let _ = self.child.wait();
        }
    }

    fn held_by(table: &SlotTable, name: &str) -> Option<Holder> {
        match table.try_acquire(name).unwrap() {
            Attempt::Held(h) => h,
            Attempt::Acquired(_) => panic!("slot {name} was free"),
        }
    }

    #[test]
    fn holder_and_flock_holder_name_the_process_holding_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let table = SlotTable::in_dir(dir.path());
        let me = std::process::id() as i32;

        drop(take(&table, "free"));
        assert_eq!(table.holder("free").unwrap(), None);
        assert_eq!(flock_holder(&table.path("free")), None);

        let g = take(&table, "mine");
        let h = table.holder("mine").unwrap().expect("held");
        assert_eq!(h, g.holder);
        assert_eq!(flock_holder(&table.path("mine")), Some(me));

        // Held by another process that wrote no metadata: the lock's owner still shows.
        let other = OtherHolder::spawn(&table, "theirs");
        assert_eq!(flock_holder(&table.path("theirs")), Some(other.pid()));
        let h = table.holder("theirs").unwrap().expect("held");
        assert_eq!((h.pid, h.command.as_str()), (other.pid(), "(unknown)"));
        assert_eq!(held_by(&table, "theirs"), None);
        drop(other);
        drop(g);
    }

    #[test]
    fn a_holder_records_when_it_acquired_and_its_age_counts_from_then() {
        let dir = tempfile::tempdir().unwrap();
        let table = SlotTable::in_dir(dir.path());
        let ms = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
        let before = ms(SystemTime::now());
        let g = take(&table, "t");
        let after = ms(SystemTime::now());
        assert!(
            (before..=after).contains(&g.holder.acquired_ms),
            "{before} {:?} {after}",
            g.holder
        );
        let hour_ago = Holder {
            acquired_ms: before - 3_600_000,
            ..g.holder.clone()
        };
        assert!(hour_ago.age() >= Duration::from_secs(3600), "{hour_ago:?}");
        let future = Holder {
            acquired_ms: u64::MAX,
            ..g.holder.clone()
        };
        assert_eq!(future.age(), Duration::ZERO);
    }

    #[test]
    fn a_released_slot_keeps_none_of_its_holders_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let table = SlotTable::in_dir(dir.path());
        let mut g = take(&table, "r");
        g.set_progress(1, Some(2)).unwrap();
        assert!(!std::fs::read(table.path("r")).unwrap().is_empty());
        drop(g);
        assert_eq!(std::fs::read(table.path("r")).unwrap(), b"");
    }

    #[test]
    fn a_contender_rereads_metadata_that_names_another_pid_before_falling_back_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let table = SlotTable::in_dir(dir.path());
        let me = std::process::id() as i32;
        let g = take(&table, "s");
        // The metadata names this process, the lock's owner: taken as read.
        assert_eq!(held_by(&table, "s").unwrap().pid, me);
        // Metadata left by an earlier holder (pid 1) while this process holds the lock: read
        // again for 200 ms in case the holder is rewriting it, then reported as it is.
        let stale = Holder {
            pid: 1,
            ..g.holder.clone()
        };
        std::fs::write(table.path("s"), serde_json::to_vec(&stale).unwrap()).unwrap();
        let started = Instant::now();
        assert_eq!(held_by(&table, "s"), Some(stale.clone()));
        assert!(started.elapsed() >= Duration::from_millis(200));
        let started = Instant::now();
        assert_eq!(table.holder("s").unwrap(), Some(stale));
        assert!(started.elapsed() >= Duration::from_millis(200));
        drop(g);
    }

    #[test]
    fn a_bounded_waiter_gets_the_slot_when_its_holder_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let table = SlotTable::in_dir(dir.path());
        let g = take(&table, "w");
        let (waiter, rx) = spawn_waiter(
            &table,
            "w",
            Wait::AtMost(Duration::from_secs(600)),
            &Cancel::new(),
        );
        assert!(matches!(rx.recv().unwrap(), WaitEvent::Holder(_)));
        drop(g);
        let got = waiter.join().unwrap().unwrap();
        assert_eq!(got.name(), "w");
    }

    #[test]
    #[cfg(unix)] // stops the holder with SIGSTOP
    fn a_wait_that_runs_out_says_how_to_get_the_slot() {
        let dir = tempfile::tempdir().unwrap();
        let table = SlotTable::in_dir(dir.path());
        let limit = Wait::AtMost(Duration::from_secs(2));
        let busy = |name: &str| -> anyhow::Error {
            let err = table
                .acquire(name, limit, &Cancel::new(), &|_| {})
                .unwrap_err();
            assert!(
                matches!(Error::find(&err), Some(Error::Busy { .. })),
                "{err:#}"
            );
            assert!(
                format!("{err:#}").contains("still held after waiting"),
                "{err:#}"
            );
            err
        };

        // A running holder (this process): wait longer.
        let g = take(&table, "running");
        let started = Instant::now();
        let err = busy("running");
        assert!(started.elapsed() >= Duration::from_secs(2));
        assert_eq!(
            crate::error::remedy_of(&err),
            Some(crate::error::Remedy::WaitLonger)
        );
        drop(g);

        // A stopped holder: resume it.
        let other = OtherHolder::spawn(&table, "stopped");
        let pid = nix::unistd::Pid::from_raw(other.pid());
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP).unwrap();
        let status =
            nix::sys::wait::waitpid(pid, Some(nix::sys::wait::WaitPidFlag::WUNTRACED)).unwrap();
        assert!(
            matches!(status, nix::sys::wait::WaitStatus::Stopped(..)),
            "{status:?}"
        );
        assert_eq!(
            crate::error::remedy_of(&busy("stopped")),
            Some(crate::error::Remedy::ResumeStopped { pid: pid.as_raw() })
        );
        drop(other);
    }

    #[test]
    fn a_waiter_reports_a_holder_without_progress_once_after_the_stall_notice() {
        let dir = tempfile::tempdir().unwrap();
        let table = SlotTable::in_dir(dir.path());
        let mut g = take(&table, "st");
        g.set_progress(3, Some(9)).unwrap();
        let cancel = Cancel::new();
        let (waiter, rx) = spawn_waiter(&table, "st", Wait::Forever, &cancel);
        let mut events = Vec::new();
        let (pid, stopped, idle) = loop {
            match rx.recv().unwrap() {
                WaitEvent::Stalled { pid, stopped, idle } => break (pid, stopped, idle),
                ev => events.push(ev),
            }
        };
        assert_eq!(pid, std::process::id() as i32);
        assert!(!stopped);
        assert!(idle >= STALL_NOTICE, "{idle:?}");
        let announced = events
            .iter()
            .filter(|ev| matches!(ev, WaitEvent::Holder(_)))
            .count();
        assert_eq!(announced, 1, "{events:?}");
        // Told once: the polls after it report progress only.
        for _ in 0..3 {
            let ev = rx.recv().unwrap();
            assert!(matches!(ev, WaitEvent::Progress(_)), "{ev:?}");
        }
        cancel.cancel();
        assert!(waiter.join().unwrap().is_err());
        drop(g);
    }

    #[test]
    fn an_attempt_gives_a_guard_only_when_it_acquired_the_slot() {
        let dir = tempfile::tempdir().unwrap();
        let table = SlotTable::in_dir(dir.path());
        let g = table
            .try_acquire("a")
            .unwrap()
            .guard()
            .expect("a free slot");
        assert_eq!(g.name(), "a");
        assert!(table.try_acquire("a").unwrap().guard().is_none());
        drop(g);
        assert!(table.try_acquire("a").unwrap().guard().is_some());
    }

    #[test]
    fn listing_a_missing_table_is_empty_and_a_bad_one_fails() {
        let dir = tempfile::tempdir().unwrap();
        assert!(SlotTable::in_dir(dir.path().join("none"))
            .list()
            .unwrap()
            .is_empty());
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let err = SlotTable::in_dir(&file).list().unwrap_err();
        assert!(format!("{err:#}").contains("cannot list"), "{err:#}");
        // A lock file planted as a symlink is refused (exit 5), not skipped.
        let table = SlotTable::in_dir(dir.path().join("slots"));
        std::fs::create_dir(table.dir()).unwrap();
        drop(take(&table, "ok"));
        #[cfg(unix)]
        std::os::unix::fs::symlink(table.path("ok"), table.path("planted")).unwrap();
        #[cfg(windows)]
        std::os::windows::fs::symlink_file(table.path("ok"), table.path("planted")).unwrap();
        let err = table.list().unwrap_err();
        assert!(
            matches!(Error::find(&err), Some(Error::Refused(_))),
            "{err:#}"
        );
    }
}
