//! Leases: named, TTL-bound locks with fencing tokens for shell scripts (docs/contract.md,
//! invariants 1 and 3).
//!
//! A lease `NAME` is held by whoever last acquired it until its TTL runs out, it is renewed,
//! or it is released; unlike a slot it outlives the acquiring process. Every acquire hands
//! out a *fencing token* larger than any token issued before for that name, so a holder that
//! was paused past its TTL and lost the lease can be told apart from the new holder (its
//! renew and release are refused, exit 6).
//!
//! The command layer talks to a [`LeaseStore`], chosen by [`store::StoreSpec`]:
//! [`file::FileStore`] keeps leases in the state dir, [`etcd::EtcdStore`] in an etcd cluster
//! shared by many machines. The pure
//! decisions (is a record still held, which token comes next) live in this file so they can
//! be unit-tested with injected clocks.

pub(crate) mod clock;
pub mod etcd;
pub mod file;
pub mod run;
pub mod store;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Result;
use serde::{Deserialize, Serialize};

pub use clock::{now, Now};
pub use run::run_command;

use crate::cancel::Cancel;
use crate::slot::Wait;
use crate::Error;

/// Default TTL of `lease acquire` and `lease run` (30 s).
pub const DEFAULT_TTL: Duration = Duration::from_secs(30);

/// A validated lease name: 1-128 characters from `[A-Za-z0-9._-]`, not starting with `.`
/// (see [`crate::name::validate_resource_name`]); safe to use as a file name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LeaseName(String);

impl LeaseName {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for LeaseName {
    type Err = Error;
    /// Errors with [`Error::Usage`] for an invalid name.
    fn from_str(s: &str) -> Result<Self, Error> {
        crate::name::validate_resource_name("lease", s)?;
        Ok(LeaseName(s.to_string()))
    }
}

impl fmt::Display for LeaseName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A fencing token: a positive decimal integer, strictly increasing per lease name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Token(pub u64);

impl FromStr for Token {
    type Err = Error;
    /// Parses the decimal integer a lease is issued with (`voxctl lease acquire` prints it); anything else (empty,
    /// signs, spaces, non-digits, zero, more than 64 bits) is [`Error::Usage`].
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || {
            Error::Usage(format!(
                "malformed token {s:?}: a fencing token is the positive decimal integer \
                 issued with the lease"
            ))
        };
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        match s.parse::<u64>() {
            Ok(n) if n > 0 => Ok(Token(n)),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Parses a TTL or kill grace such as `10` (seconds), `500ms`, `30s`, `5m` (see
/// [`crate::duration::parse`]). Zero,
/// negative, sub-millisecond and over-a-year values are [`Error::Usage`].
pub fn parse_positive_duration(s: &str) -> Result<Duration, Error> {
    let t = s.trim();
    if t.starts_with('-') {
        return Err(Error::Usage(format!(
            "invalid duration {s:?}: must be positive"
        )));
    }
    let d = crate::duration::parse(t)?;
    if d.is_zero() {
        return Err(Error::Usage(format!(
            "invalid duration {s:?}: must be positive"
        )));
    }
    if d < Duration::from_millis(1) {
        return Err(Error::Usage(format!(
            "invalid duration {s:?}: must be at least 1ms"
        )));
    }
    if d > Duration::from_secs(366 * 24 * 3600) {
        return Err(Error::Usage(format!(
            "invalid duration {s:?}: must be at most a year"
        )));
    }
    Ok(d)
}

/// Checks a `--holder` description: 1-256 characters, no control characters.
pub fn parse_holder(s: &str) -> Result<String, Error> {
    if s.is_empty() || s.len() > 256 || s.chars().any(char::is_control) {
        return Err(Error::Usage(format!(
            "invalid holder {s:?}: use 1-256 printable characters"
        )));
    }
    Ok(s.to_string())
}

/// A lease record as stored (one JSON document per name). Times are in milliseconds:
/// `*_boot_ms` on the boot-time clock of boot `boot_id`, `*_wall_ms` since
/// the Unix epoch (for display only; the wall clock never decides expiry). Each time is at most
/// `crate::timestamp::MAX_MILLIS`: a record holding more does not load (corrupt).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseRecord {
    /// The lease's name.
    pub name: String,
    /// The fencing token of the latest acquire.
    pub token: Token,
    /// Who holds it (`--holder`, default `HOST:PID`).
    pub holder: String,
    /// The pid of the voxctl that acquired it.
    pub pid: i32,
    /// The host it was acquired on.
    pub host: String,
    /// The boot it was acquired in; a lease of another boot is expired.
    pub boot_id: String,
    /// The TTL of the latest acquire or renew, in milliseconds.
    #[serde(with = "crate::timestamp::bounded_millis")]
    pub ttl_ms: u64,
    /// When it was acquired, boot-time clock, milliseconds.
    #[serde(with = "crate::timestamp::bounded_millis")]
    pub acquired_boot_ms: u64,
    /// When it expires unless renewed, boot-time clock, milliseconds.
    #[serde(with = "crate::timestamp::bounded_millis")]
    pub expires_boot_ms: u64,
    /// When it was acquired, wall clock, milliseconds since the epoch.
    #[serde(with = "crate::timestamp::bounded_millis")]
    pub acquired_wall_ms: u64,
    /// Whether the holder released it (the record stays, keeping the latest token).
    pub released: bool,
    /// How the store can tell for certain that the holder is gone (file store only; see
    /// [`Owner`]); `None`: only the TTL decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Owner>,
}

/// A holder whose death the store can observe with certainty, so that its lease is
/// [`Standing::Abandoned`] at once instead of at TTL expiry. Only opted-in holders have one:
/// a parent pid is not an owner (`$(timeout 5 voxctl ...)`, `sh -c`, ssh, sudo and CI steps
/// all run voxctl under a parent that exits at once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Owner {
    /// `lease run`: an exclusive `flock` on this liveness file (a name in the store's
    /// directory) is held by voxctl and inherited by its command, so the kernel drops it only
    /// when voxctl and everything it started are gone.
    Flock {
        /// The liveness file's name: `NAME.held.alive`, the file kept between holders, or
        /// `NAME.TOKEN.alive` while an earlier command still holds that one's lock.
        file: String,
        /// The device of the liveness file as created (`st_dev`); with `ino`, what tells
        /// that file from one put at its name later. Absent in records of older voxctl.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dev: Option<u64>,
        /// The inode of the liveness file as created (`st_ino`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ino: Option<u64>,
    },
    /// `lease acquire --owner-pid PID`: that exact process; gone only when, on this host and
    /// boot and in this pid namespace, the pid no longer has that start time.
    Process {
        /// The process id.
        pid: i32,
        /// Its start time (clock ticks since boot).
        start_time: u64,
        /// Its pid namespace (`/proc/PID/ns/pid` link text, e.g. `pid:[4026531836]`).
        pid_ns: String,
        /// The boot it runs in.
        boot_id: String,
        /// The host it runs on.
        host: String,
    },
}

/// Where a lease record stands at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Held, with this much time left.
    Held {
        /// Time left, in milliseconds.
        left_ms: u64,
    },
    /// The TTL ran out in this boot, this long ago; anyone may take it over.
    Expired {
        /// Time since expiry, in milliseconds.
        ago_ms: u64,
    },
    /// Acquired in a previous boot: expired.
    PreviousBoot,
    /// Released by its holder.
    Released,
    /// Within its TTL, but its [`Owner`] is certainly gone: anyone may take it over at once.
    Abandoned,
}

impl Standing {
    /// Whether someone holds the lease (acquire must wait or fail).
    pub fn is_held(&self) -> bool {
        matches!(self, Standing::Held { .. })
    }

    /// The state shown in output: `held`, `expired` (also for a previous boot's lease),
    /// `released` or `abandoned`.
    pub fn state(&self) -> LeaseState {
        match self {
            Standing::Held { .. } => LeaseState::Held,
            Standing::Expired { .. } | Standing::PreviousBoot => LeaseState::Expired,
            Standing::Released => LeaseState::Released,
            Standing::Abandoned => LeaseState::Abandoned,
        }
    }

    /// Time left while held, in milliseconds (0 otherwise).
    pub fn left_ms(&self) -> u64 {
        match self {
            Standing::Held { left_ms } => *left_ms,
            _ => 0,
        }
    }
}

/// A lease's state as `lease status` and `lease list` show it: [`Standing`] without its
/// times. Serialized in lowercase: `"held"`, `"expired"`, `"released"`, `"abandoned"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LeaseState {
    /// Someone holds it.
    Held,
    /// Its TTL ran out (in this boot or with a previous boot): anyone may take it over.
    Expired,
    /// Released by its holder.
    Released,
    /// Within its TTL, but its holder is certainly gone: anyone may take it over.
    Abandoned,
}

impl LeaseState {
    /// The name in output: `held`, `expired`, `released` or `abandoned`.
    pub fn as_str(&self) -> &'static str {
        match self {
            LeaseState::Held => "held",
            LeaseState::Expired => "expired",
            LeaseState::Released => "released",
            LeaseState::Abandoned => "abandoned",
        }
    }
}

impl fmt::Display for LeaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Decides where `rec` stands at `now`. Only the boot id and the boot-time clock count:
/// the wall clock is not consulted, so setting it forward or back neither expires nor
/// extends a lease.
pub fn standing(rec: &LeaseRecord, now: &Now) -> Standing {
    if rec.released {
        Standing::Released
    } else if rec.boot_id != now.boot_id {
        Standing::PreviousBoot
    } else if now.boot_ms < rec.expires_boot_ms {
        Standing::Held {
            left_ms: rec.expires_boot_ms - now.boot_ms,
        }
    } else {
        Standing::Expired {
            ago_ms: now.boot_ms - rec.expires_boot_ms,
        }
    }
}

/// The token for the next acquire: `max(previous + 1, wall-clock microseconds since the
/// epoch)`.
///
/// The `previous + 1` term makes tokens strictly increase while the record survives, even if
/// the wall clock is set back. The clock term makes them keep growing when the record is
/// lost or rolled back (records are written without fsync, see `file.rs`): every token ever
/// issued is at most the wall-clock microsecond of its issue, or `previous + 1` of such a
/// token, and fewer than one acquire per microsecond happens. The assumption: the wall clock
/// is not set back past the time of the last issued token *and* the record lost at once.
///
/// `None` when no larger token exists (the previous token is `u64::MAX`, which a hostile or
/// corrupted record can hold): the acquire must fail rather than issue the same token twice
/// (invariant 3).
pub fn next_token(previous: Option<Token>, wall_us: u64) -> Option<Token> {
    let after = match previous {
        None => 1,
        Some(t) => t.0.checked_add(1)?,
    };
    Some(Token(after.max(wall_us)))
}

/// A lease as its holder sees it right after acquire or renew; `lease acquire --json` and
/// `lease renew --json` print it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Lease {
    /// The lease's name.
    pub name: String,
    /// The fencing token.
    pub token: Token,
    /// The holder description.
    pub holder: String,
    /// The TTL, in milliseconds.
    pub ttl_ms: u64,
    /// Time until expiry unless renewed, in milliseconds.
    pub expires_in_ms: u64,
    /// Estimated expiry on the wall clock, RFC 3339 UTC (informational).
    pub expires_at: String,
}

/// What `lease status` and `lease list` show for one lease; `lease status --json` prints it
/// (`lease list --json` a [`LeaseList`] of them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseInfo {
    /// The lease's name.
    pub name: String,
    /// `held`, `expired`, `released` or `abandoned`.
    pub state: LeaseState,
    /// Time left while held, in milliseconds (0 otherwise).
    pub left_ms: u64,
    /// The latest fencing token.
    pub token: Token,
    /// The holder description.
    pub holder: String,
    /// The pid of the voxctl that acquired it.
    pub pid: i32,
    /// The host it was acquired on.
    pub host: String,
    /// The TTL of the latest acquire or renew, in milliseconds.
    pub ttl_ms: u64,
    /// Time since the latest acquire, in milliseconds.
    pub age_ms: u64,
    /// When it was acquired, wall clock, RFC 3339 UTC.
    pub acquired_at: String,
}

impl LeaseInfo {
    /// The view of `rec` at `now`.
    pub fn from_record(rec: &LeaseRecord, now: &Now) -> LeaseInfo {
        let age_ms = if rec.boot_id == now.boot_id {
            now.boot_ms.saturating_sub(rec.acquired_boot_ms)
        } else {
            (now.wall_us / 1000).saturating_sub(rec.acquired_wall_ms)
        };
        let standing = standing(rec, now);
        LeaseInfo {
            name: rec.name.clone(),
            state: standing.state(),
            left_ms: standing.left_ms(),
            token: rec.token,
            holder: rec.holder.clone(),
            pid: rec.pid,
            host: rec.host.clone(),
            ttl_ms: rec.ttl_ms,
            age_ms,
            acquired_at: clock::rfc3339_ms(rec.acquired_wall_ms),
        }
    }

    /// Whether someone holds the lease (acquire must wait or fail).
    pub fn is_held(&self) -> bool {
        self.state == LeaseState::Held
    }

    /// One line for messages: `holder X, token N, 12s left`.
    pub fn describe(&self) -> String {
        let when = match self.state {
            LeaseState::Held => format!(
                "{} left",
                humantime::format_duration(Duration::from_millis(self.left_ms))
            ),
            LeaseState::Expired => "expired".into(),
            LeaseState::Released => "released".into(),
            LeaseState::Abandoned => "abandoned (its holder is gone)".into(),
        };
        format!("{}, token {}, {when}", self.holder, self.token)
    }
}

/// What `lease list --json` prints: every lease with a record, sorted by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseList {
    /// The leases.
    pub leases: Vec<LeaseInfo>,
}

/// What `lease status --json` prints: the lease's record, or that it was never acquired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LeaseStatus {
    /// The lease has a record.
    Recorded(LeaseInfo),
    /// The lease was never acquired (it has no record).
    Free(FreeLease),
}

/// A lease that was never acquired, as `lease status --json` prints it:
/// `{"name": "build", "state": "free"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreeLease {
    /// The lease's name.
    pub name: String,
    /// Always `free`.
    pub state: Free,
}

/// The state of a lease with no record; serialized as `"free"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Free {
    /// Never acquired.
    Free,
}

/// What `lease release --json` prints: `{"name": "build", "released": true, "token": 17}`.
/// (Fields in alphabetical order, so that its keys print sorted, as those of documents
/// printed through a `serde_json::Value` do.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Released {
    /// The lease's name.
    pub name: String,
    /// Always `true`: a failed release prints an error instead.
    pub released: bool,
    /// The token that was released.
    pub token: Token,
}

/// The outcome of one acquire attempt.
#[derive(Debug, Clone)]
pub enum Attempt {
    /// The lease is ours.
    Acquired(Lease),
    /// Someone else holds it.
    Held(LeaseInfo),
}

/// A place leases are kept. Every method is one atomic step with respect to every other
/// process using the same store.
pub trait LeaseStore {
    /// Tries once to acquire `name` for `ttl`. A free, released or expired lease is taken
    /// with a token larger than any issued before for `name`.
    fn try_acquire(&self, name: &LeaseName, ttl: Duration, holder: &str) -> Result<Attempt>;

    /// Extends the lease by `ttl` from now (`None`: its current TTL). Errors with
    /// [`Error::Lost`] unless `token` is the current token of an unreleased lease of this
    /// boot (an expired lease that nobody took over is still renewable).
    fn renew(&self, name: &LeaseName, token: Token, ttl: Option<Duration>) -> Result<Lease>;

    /// [`LeaseStore::renew`], giving up after about `within` with an error that is not
    /// [`Error::Lost`] (the outcome is then unknown). `lease run` uses it so that a store that
    /// does not answer cannot keep it from stopping the command in time. The default waits
    /// as long as `renew` does (the file store's operations are local and bounded).
    fn renew_within(
        &self,
        name: &LeaseName,
        token: Token,
        ttl: Option<Duration>,
        _within: Duration,
    ) -> Result<Lease> {
        self.renew(name, token, ttl)
    }

    /// Releases the lease. Errors with [`Error::Lost`] unless `token` is the current token;
    /// releasing twice is not an error.
    fn release(&self, name: &LeaseName, token: Token) -> Result<()>;

    /// The lease's record as seen now, or `None` if it was never acquired.
    fn status(&self, name: &LeaseName) -> Result<Option<LeaseInfo>>;

    /// Every lease with a record, sorted by name.
    fn list(&self) -> Result<Vec<LeaseInfo>>;

    /// A way to sleep until lease `name` may have changed (released, taken over), if the
    /// store has one; [`acquire`] polls otherwise. Wake-ups may be spurious or missed:
    /// waiters still re-check at least every [`ChangeWait::recheck`].
    fn watch(&self, _name: &LeaseName) -> Option<Box<dyn ChangeWait>> {
        None
    }
}

/// Wakes a waiter when a lease may have changed (see [`LeaseStore::watch`]).
pub trait ChangeWait {
    /// Blocks until the watched lease may have changed or `timeout` passes.
    fn wait(&mut self, timeout: Duration);

    /// The longest a waiter trusts this watch before looking at the lease again (100 ms:
    /// the file store's inotify watch sees releases only, not takeovers).
    fn recheck(&self) -> Duration {
        Duration::from_millis(100)
    }
}

/// What to acquire and how long to wait for it: the settings of [`acquire`]. Built with
/// [`Acquire::new`], then changed field by field: a later version may add fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Acquire {
    /// The lease.
    pub name: LeaseName,
    /// The TTL asked for (a store may grant another: etcd rounds to whole seconds).
    pub ttl: Duration,
    /// Who holds it, for people (`--holder`, by default `HOST:PID`).
    pub holder: String,
    /// How long to wait while someone else holds it ([`Wait::Never`]: one attempt).
    pub wait: Wait,
    /// Ends the wait with [`Error::Interrupted`].
    pub cancel: Cancel,
}

impl Acquire {
    /// The settings of one attempt at lease `name` for `ttl`, held by `holder` (shown by
    /// status; the command's default is `HOST:PID`): no wait while someone else holds it
    /// ([`Wait::Never`]) and a fresh [`Cancel`].
    pub fn new(name: LeaseName, ttl: Duration, holder: &str) -> Acquire {
        Acquire {
            name,
            ttl,
            holder: holder.to_string(),
            wait: Wait::Never,
            cancel: Cancel::new(),
        }
    }
}

/// Acquires `a.name`, retrying for up to `a.wait` while it is held: woken by the store's
/// [`LeaseStore::watch`] when it has one (re-checking at least every
/// [`ChangeWait::recheck`]), else polling every 1-25 ms; never sleeping past the holder's
/// expiry. Between attempts it looks with [`LeaseStore::status`] (no lock) and tries again
/// only when the lease looks free; the decision itself is always
/// [`LeaseStore::try_acquire`]'s.
///
/// Errors: [`Error::Busy`] naming the holder when the lease is still held after the wait;
/// [`Error::Interrupted`] once `a.cancel` is cancelled (checked between attempts, so within
/// the 100 ms recheck); the store's own errors.
///
/// ```no_run
/// use std::time::Duration;
/// use voxctl::lease::{self, file::FileStore, Acquire, LeaseStore};
/// use voxctl::slot::Wait;
///
/// let store = FileStore::in_dir("/home/me/.local/state/voxctl/leases");
/// let mut wanted = Acquire::new("nightly-build".parse()?, Duration::from_secs(30), "my-app");
/// wanted.wait = Wait::AtMost(Duration::from_secs(60));
/// let lease = lease::acquire(&store, &wanted)?;
/// // ... the work the lease protects, passing lease.token to whatever checks it ...
/// store.release(&"nightly-build".parse()?, lease.token)?;
/// # anyhow::Ok(())
/// ```
pub fn acquire(store: &dyn LeaseStore, a: &Acquire) -> Result<Lease> {
    let name = &a.name;
    // `None`: no deadline (also for a limit past what an `Instant` can hold).
    let now = std::time::Instant::now();
    let deadline = match a.wait {
        Wait::Never => Some(now),
        Wait::AtMost(limit) => now.checked_add(limit),
        Wait::Forever => None,
    };
    let mut pause = Duration::from_millis(1);
    let mut watch = Watch::Unarmed;
    loop {
        a.cancel.check()?;
        let mut info = match store.try_acquire(name, a.ttl, &a.holder)? {
            Attempt::Acquired(lease) => return Ok(lease),
            Attempt::Held(info) => info,
        };
        // Wait until the lease looks free.
        while info.is_held() {
            a.cancel.check()?;
            let now = std::time::Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return Err(Error::Busy {
                    what: format!("lease {name}"),
                    holder: Some(info.describe()),
                }
                .into());
            }
            let left = Duration::from_millis(info.left_ms).max(Duration::from_millis(1));
            let nap = deadline.map_or(left, |d| (d - now).min(left));
            match &mut watch {
                // Watch first, then look again, so a release in between is not missed.
                Watch::Unarmed => {
                    watch = store.watch(name).map_or(Watch::Poll, Watch::Armed);
                }
                Watch::Armed(w) => {
                    let recheck = w.recheck();
                    // Armed, and the lease seen held after arming: a test can release it
                    // here and time the wake-up against the recheck.
                    crate::testhook::checkpoint("lease:acquire:wait");
                    w.wait(nap.min(recheck))
                }
                Watch::Poll => {
                    a.cancel.sleep(nap.min(pause))?;
                    pause = (pause * 2).min(Duration::from_millis(25));
                }
            }
            match store.status(name)? {
                Some(now_info) => info = now_info,
                None => break,
            }
        }
    }
}

/// How [`acquire`] sleeps: not decided yet, woken by the store, or polling.
enum Watch {
    Unarmed,
    Armed(Box<dyn ChangeWait>),
    Poll,
}

/// Returns the record when `token` is its current token; otherwise errors with
/// [`Error::Lost`] saying whether the token is stale (taken over) or was never issued.
pub(crate) fn check_token(
    rec: Option<LeaseRecord>,
    name: &LeaseName,
    token: Token,
) -> Result<LeaseRecord, Error> {
    let Some(rec) = rec else {
        return Err(Error::Lost(format!(
            "token {token} was never issued for lease {name}"
        )));
    };
    if token < rec.token {
        Err(Error::Lost(format!(
            "token {token} of lease {name} is stale: the lease was taken over (current token {}, \
             holder {})",
            rec.token, rec.holder
        )))
    } else if token > rec.token {
        Err(Error::Lost(format!(
            "token {token} was never issued for lease {name} (current token {})",
            rec.token
        )))
    } else {
        Ok(rec)
    }
}

#[cfg(test)]
mod tests;
