//! `lease run`: hold a lease for exactly as long as a command runs.
//!
//! The command runs in its own process group with `VOXCTL_LEASE_NAME` and
//! `VOXCTL_LEASE_TOKEN` in its environment. The supervisor is one thread with no async
//! runtime: it sleeps in `poll(2)` on a self-pipe that SIGCHLD, SIGINT, SIGTERM and SIGHUP
//! write to, waking for the next renewal (every TTL/3) or the kill deadline. SIGINT, SIGTERM
//! and SIGHUP received by voxctl are forwarded to the command's process group (voxctl itself
//! keeps running until the command exits, then releases the lease).
//!
//! When a renewal is refused ([`crate::Error::Lost`]: voxctl was paused past the TTL and
//! someone took the lease over), the process group gets SIGTERM, then SIGKILL once the command
//! exits or the kill grace runs out. The command is reaped only after the last signal to its
//! group, so the group id cannot have been reused by then (invariant 5); voxctl never signals
//! any other group.
//!
//! On Windows (`crate::platform::process`) the command runs in a console process group of
//! its own inside a job object; Ctrl-C, Ctrl-Break and the console's closing are forwarded
//! as `CTRL_BREAK_EVENT` (a group of its own ignores Ctrl-C), the supervisor waits on the
//! child's handle and an event the console handler sets, SIGTERM is `CTRL_BREAK_EVENT` and
//! SIGKILL is `TerminateJobObject`, which ends every process the command started.

use std::ffi::OsString;
use std::process::ExitStatus;
use std::time::Duration;

use anyhow::{Context, Result};

use super::{Acquire, Lease, LeaseName, LeaseStore};
use crate::platform::process::{self as platform, GroupChild, Signal};
use crate::Error;

/// The longest the supervisor sleeps between checks: bounds how late a renewal can be after
/// the machine resumes from suspend (poll timeouts do not count suspended time).
const MAX_NAP: Duration = Duration::from_secs(1);

pub use crate::platform::process::Received;

/// The interrupts [`run_command`] forwards to its command, from the caller: the library installs no
/// signal or console handler. The `voxctl` command connects SIGINT, SIGTERM and SIGHUP (on
/// Windows Ctrl-C, Ctrl-Break and the console's closing) to an implementation before it
/// acquires, so an interrupt is never lost, and each also cancels the request's
/// [`Cancel`](crate::cancel::Cancel) so that an interrupted wait for the lease ends. An app
/// without handlers of its own uses [`CancelInterrupts`].
pub trait Interrupts {
    /// The interrupts received since the last call, each once, in any order.
    fn take(&self) -> Vec<Received>;

    /// Sleeps until an interrupt arrives, `child` exits or `timeout` passes; returning early
    /// is allowed (the supervisor checks everything again), sleeping past `timeout` is not.
    fn nap(&self, timeout: Duration, child: &std::process::Child);
}

/// [`Interrupts`] for a caller without signal handlers: cancelling the handle forwards one
/// [`Received::terminate`] (SIGTERM; Windows: Ctrl-Break) to the command, which then has
/// the kill grace to exit. [`Interrupts::nap`] sleeps in steps of [`Cancel::POLL`], so the
/// command's exit and the cancel are noticed within that step.
///
/// [`Cancel::POLL`]: crate::cancel::Cancel::POLL
#[derive(Debug)]
pub struct CancelInterrupts {
    cancel: crate::cancel::Cancel,
    sent: std::sync::atomic::AtomicBool,
}

impl CancelInterrupts {
    /// Interrupts driven by `cancel` (pass the request's own handle, so that cancelling also
    /// ends a wait for the lease).
    pub fn new(cancel: crate::cancel::Cancel) -> CancelInterrupts {
        CancelInterrupts {
            cancel,
            sent: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

impl Interrupts for CancelInterrupts {
    fn take(&self) -> Vec<Received> {
        use std::sync::atomic::Ordering;
        if self.cancel.is_cancelled() && !self.sent.swap(true, Ordering::SeqCst) {
            vec![Received::terminate()]
        } else {
            Vec::new()
        }
    }

    fn nap(&self, timeout: Duration, _child: &std::process::Child) {
        let _ = self.cancel.sleep(timeout.min(crate::cancel::Cancel::POLL));
    }
}

/// What to run and how.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// The lease's granted TTL; renewals happen every third of it.
    pub ttl: Duration,
    /// How long the command gets between SIGTERM and SIGKILL after the lease is lost.
    pub kill_grace: Duration,
    /// The program (looked up in `PATH`) and its arguments.
    pub command: Vec<OsString>,
    /// Where the command's standard output goes.
    pub stdout: CommandStdout,
    /// When the acquire that got the lease was sent, on the boot clock, time since boot (see
    /// [`Stamped`]): the lease runs out no earlier than a TTL after that.
    pub acquire_sent: Duration,
}

/// How the command ended.
#[derive(Debug)]
pub struct RunReport {
    /// The command's exit status ([`crate::exit::ExitStatus::of_child`] mirrors it).
    pub status: ExitStatus,
    /// Why the lease was lost while the command ran (it was then terminated), if it was.
    pub lost: Option<anyhow::Error>,
}

/// The slack kept between the moment the command must be gone and the moment the store may
/// hand the lease to someone else: a tenth of the TTL, between 100 ms and 1 s. It covers the
/// client's and server's clocks running at slightly different rates and the time SIGKILL
/// takes to land.
pub fn safety_margin(ttl: Duration) -> Duration {
    (ttl / 10).clamp(Duration::from_millis(100), Duration::from_secs(1))
}

/// A [`LeaseStore`] wrapper that notes when its last `try_acquire` was sent, on the
/// boot-time clock (for [`RunSettings::acquire_sent`]).
pub struct Stamped<'a> {
    inner: &'a dyn LeaseStore,
    sent: std::cell::Cell<Duration>,
}

impl<'a> Stamped<'a> {
    /// Wraps `inner`.
    pub fn new(inner: &'a dyn LeaseStore) -> Stamped<'a> {
        Stamped {
            inner,
            sent: std::cell::Cell::new(Duration::ZERO),
        }
    }

    /// When the last `try_acquire` was sent (zero before the first).
    pub fn last_acquire_sent(&self) -> Duration {
        self.sent.get()
    }
}

impl LeaseStore for Stamped<'_> {
    fn try_acquire(&self, name: &LeaseName, ttl: Duration, holder: &str) -> Result<super::Attempt> {
        self.sent.set(boot_time()?);
        self.inner.try_acquire(name, ttl, holder)
    }
    fn renew(&self, name: &LeaseName, token: super::Token, ttl: Option<Duration>) -> Result<Lease> {
        self.inner.renew(name, token, ttl)
    }
    fn release(&self, name: &LeaseName, token: super::Token) -> Result<()> {
        self.inner.release(name, token)
    }
    fn status(&self, name: &LeaseName) -> Result<Option<super::LeaseInfo>> {
        self.inner.status(name)
    }
    fn list(&self) -> Result<Vec<super::LeaseInfo>> {
        self.inner.list()
    }
    fn watch(&self, name: &LeaseName) -> Option<Box<dyn super::ChangeWait>> {
        self.inner.watch(name)
    }
}

/// What `lease run` is asked to do: the settings of [`run_command`].
#[derive(Debug, Clone)]
pub struct Request {
    /// The lease to hold, how long to wait for it, and the cancel handle that ends the wait.
    pub acquire: Acquire,
    /// How long the command gets between SIGTERM and SIGKILL after the lease is lost.
    pub kill_grace: Duration,
    /// The program (looked up in `PATH`) and its arguments.
    pub command: Vec<OsString>,
    /// Where the command's standard output goes.
    pub stdout: CommandStdout,
}

/// What happens during [`run_command`], for the caller to render: the lease-run domain's one event
/// type, serialized with an `"event"` tag in snake case.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// The lease was acquired; the command starts next. `lease.ttl_ms` is the TTL the store
    /// granted, which may differ from the one asked for.
    Acquired {
        /// The lease as granted.
        lease: Lease,
    },
}

/// Why the command could not be started (the lease was released again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotStarted {
    /// No such program (a shell's 127).
    NotFound,
    /// It exists but cannot be executed (a shell's 126).
    NotExecutable,
}

/// How a [`run_command`] ended, as a kind; [`Outcome::exit_status`] is the status the CLI exits
/// with (the command's status, 126/127 as a shell does, or 6 for a lost lease).
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome {
    /// The command exited and the lease was released.
    Exited(ExitStatus),
    /// The command exited, but the lease could not be released for another reason than a
    /// takeover (it expires by itself); the error says why.
    ExitedUnreleased(ExitStatus, anyhow::Error),
    /// The command could not be started; the lease was released.
    NotStarted(NotStarted, anyhow::Error),
    /// The lease was lost while the command ran, so the command was terminated; the error
    /// says how it was lost.
    Lost(ExitStatus, anyhow::Error),
    /// The command exited, but the lease had been taken over before it finished (the release
    /// was refused with [`Error::Lost`]).
    TakenOver(ExitStatus, anyhow::Error),
}

impl Outcome {
    /// The status `voxctl lease run` exits with: the command's
    /// ([`crate::exit::ExitStatus::of_child`], 128+N for signal N), 127/126 as a shell gives
    /// for a command that is not found or cannot run, 6 ([`crate::exit::ExitStatus::Lost`])
    /// when the lease was lost or taken over.
    pub fn exit_status(&self) -> crate::exit::ExitStatus {
        use crate::exit::ExitStatus as S;
        match self {
            Outcome::Exited(s) | Outcome::ExitedUnreleased(s, _) => S::of_child(s),
            Outcome::NotStarted(NotStarted::NotFound, _) => S::CommandNotFound,
            Outcome::NotStarted(NotStarted::NotExecutable, _) => S::CommandNotExecutable,
            Outcome::Lost(..) | Outcome::TakenOver(..) => S::Lost,
        }
    }
}

/// How a `lease run` ended, in its [`RunResult`]: the [`Outcome`]'s kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// The command exited and the lease was released.
    Exited,
    /// The command exited; the lease could not be released (it expires by itself).
    ExitedUnreleased,
    /// The command was not found (exit 127); the lease was released.
    NotFound,
    /// The command could not be executed (exit 126); the lease was released.
    NotExecutable,
    /// The lease was lost while the command ran, so the command was terminated (exit 6).
    Lost,
    /// The command exited, but the lease had been taken over before it finished (exit 6).
    TakenOver,
}

/// What `voxctl lease run --json` prints on stdout once the command has ended, or could not
/// be started: one document. (A run that never got the lease, busy or interrupted while
/// waiting, prints the error document of every command instead.)
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunResult {
    /// The lease's name.
    pub name: String,
    /// The fencing token the command ran under (its `VOXCTL_LEASE_TOKEN`).
    pub token: super::Token,
    /// The holder description.
    pub holder: String,
    /// The TTL the store granted, in milliseconds.
    pub ttl_ms: u64,
    /// How the run ended.
    pub outcome: RunOutcome,
    /// The command's exit code, when it exited by itself (null when a signal ended it or it
    /// did not start).
    pub command_code: Option<i32>,
    /// The signal that ended the command, when one did.
    pub command_signal: Option<i32>,
    /// The status voxctl exits with ([`Outcome::exit_status`]): the command's, 127/126, or 6.
    pub exit_code: u8,
    /// Whether the lease was released at the end (false after `lost`, `taken_over` and
    /// `exited_unreleased`).
    pub released: bool,
    /// How long the lease was held for the command: from the acquire to the command's end
    /// (and the release), in milliseconds.
    pub held_ms: u64,
    /// Why the run did not end cleanly, or null after `exited`: `{code, kind, message,
    /// hint}` as in every error document, classified as the error itself is (`lost` for a
    /// lost lease, `failure` for a command that could not start; `exit_code` is what voxctl
    /// exits with).
    pub error: Option<crate::error::ErrorBody>,
}

impl RunResult {
    /// The result of a run of `lease` that ended with `outcome` after `held`; `error` is the
    /// body of the outcome's error, which the caller words (with its hint).
    pub fn new(
        lease: &Lease,
        outcome: &Outcome,
        held: Duration,
        error: Option<crate::error::ErrorBody>,
    ) -> RunResult {
        let (kind, status) = match outcome {
            Outcome::Exited(s) => (RunOutcome::Exited, Some(s)),
            Outcome::ExitedUnreleased(s, _) => (RunOutcome::ExitedUnreleased, Some(s)),
            Outcome::NotStarted(NotStarted::NotFound, _) => (RunOutcome::NotFound, None),
            Outcome::NotStarted(NotStarted::NotExecutable, _) => (RunOutcome::NotExecutable, None),
            Outcome::Lost(s, _) => (RunOutcome::Lost, Some(s)),
            Outcome::TakenOver(s, _) => (RunOutcome::TakenOver, Some(s)),
        };
        RunResult {
            name: lease.name.clone(),
            token: lease.token,
            holder: lease.holder.clone(),
            ttl_ms: lease.ttl_ms,
            outcome: kind,
            command_code: status.and_then(|s| s.code()),
            command_signal: status.and_then(crate::platform::exit_signal),
            exit_code: outcome.exit_status().code(),
            released: matches!(
                kind,
                RunOutcome::Exited | RunOutcome::NotFound | RunOutcome::NotExecutable
            ),
            held_ms: u64::try_from(held.as_millis()).unwrap_or(u64::MAX),
            error,
        }
    }
}

/// Where the command's standard output goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CommandStdout {
    /// voxctl's own standard output (the command writes where voxctl would).
    #[default]
    Inherit,
    /// voxctl's standard error, so that voxctl's stdout carries only its own document
    /// (`lease run --json`).
    Stderr,
}

/// `lease run`, whole: acquires the lease (waiting as [`super::acquire`] does, until `request.acquire.cancel`
/// is cancelled), runs and supervises the command ([`supervise`]: what `interrupts` takes while
/// it runs is forwarded to its group), and releases the lease. `on_event` hears [`Event::Acquired`].
///
/// Errors: those of [`super::acquire`] ([`Error::Busy`], [`Error::Interrupted`], the
/// store's); a failure to confirm a slow acquire or to wait for the command. A command that
/// cannot be started is an [`Outcome::NotStarted`], not an error.
///
/// ```no_run
/// use std::time::Duration;
/// use voxctl::lease::file::FileStore;
/// use voxctl::lease::run::{self, Outcome, Request};
/// use voxctl::lease::Acquire;
///
/// let store = FileStore::in_dir("/home/me/.local/state/voxctl/leases");
/// let request = Request {
///     acquire: Acquire::new("nightly-build".parse()?, Duration::from_secs(30), "my-app"),
///     kill_grace: Duration::from_secs(10),
///     command: vec!["make".into(), "release".into()],
///     stdout: run::CommandStdout::Inherit,
/// };
/// // An app without signal handlers: cancelling the request's handle ends a wait for the
/// // lease, or asks the running command to terminate.
/// let interrupts = run::CancelInterrupts::new(request.acquire.cancel.clone());
/// match voxctl::lease::run_command(&store, &request, &interrupts, &|_event| {})? {
///     Outcome::Exited(status) => println!("make exited: {status}"),
///     other => println!("not a clean run: {other:?}"),
/// }
/// # anyhow::Ok(())
/// ```
pub fn run_command(
    store: &dyn LeaseStore,
    request: &Request,
    interrupts: &dyn Interrupts,
    on_event: &(dyn Fn(&Event) + Sync),
) -> Result<Outcome> {
    let cancel = &request.acquire.cancel;
    let name = &request.acquire.name;
    let stamped = Stamped::new(store);
    let lease = super::acquire(&stamped, &request.acquire)?;
    if cancel.is_cancelled() {
        let _ = store.release(name, lease.token);
        return Err(Error::Interrupted.into());
    }
    on_event(&Event::Acquired {
        lease: lease.clone(),
    });
    let settings = RunSettings {
        ttl: Duration::from_millis(lease.ttl_ms),
        kill_grace: request.kill_grace,
        command: request.command.clone(),
        stdout: request.stdout,
        acquire_sent: stamped.last_acquire_sent(),
    };
    let report = match supervise(store, name, &lease, &settings, interrupts) {
        Ok(report) => report,
        Err(e) => {
            let _ = store.release(name, lease.token);
            let kind = e.downcast_ref::<std::io::Error>().map(|io| io.kind());
            let why = match kind {
                Some(std::io::ErrorKind::NotFound) => NotStarted::NotFound,
                Some(std::io::ErrorKind::PermissionDenied) => NotStarted::NotExecutable,
                _ => return Err(e),
            };
            return Ok(Outcome::NotStarted(why, e));
        }
    };
    if let Some(lost) = report.lost {
        return Ok(Outcome::Lost(report.status, lost));
    }
    Ok(match store.release(name, lease.token) {
        Ok(()) => Outcome::Exited(report.status),
        Err(e) if matches!(Error::find(&e), Some(Error::Lost(_))) => {
            Outcome::TakenOver(report.status, e)
        }
        Err(e) => Outcome::ExitedUnreleased(report.status, e),
    })
}

/// Runs `settings.command` under `lease` (already acquired) and supervises it until it exits:
/// renews, forwards signals, and terminates it if the lease is lost. Does not release the
/// lease; the caller does, after looking at the report. Errors if the command cannot be
/// started (the `io::Error` is in the chain) or a child-wait fails.
///
/// The deadline rule: the lease is known to last until `deadline` = the granted
/// TTL after the last acknowledged renewal (or the acquire) was *sent*, on the boot-time
/// clock. While renewals fail without an answer (store unreachable), the command gets
/// SIGTERM at `deadline - kill grace - safety margin` and SIGKILL at `deadline - safety
/// margin` (see [`safety_margin`]), so it never runs past the moment the store can give the
/// lease to another holder; here the kill grace is capped at a third of the TTL, so that
/// SIGTERM comes after the first renewal could fail. A renewal refused outright ([`Error::Lost`]) gets SIGTERM at
/// once and SIGKILL after the kill grace. If the acquire took a third of the TTL or more, the
/// lease is renewed once before the command starts (and the command is not started if that
/// fails).
pub fn supervise(
    store: &dyn LeaseStore,
    name: &LeaseName,
    lease: &Lease,
    settings: &RunSettings,
    interrupts: &dyn Interrupts,
) -> Result<RunReport> {
    let (program, args) = settings
        .command
        .split_first()
        .ok_or_else(|| Error::Usage("no command given after --".into()))?;
    let period = (settings.ttl / 3).max(Duration::from_millis(1));
    let margin = safety_margin(settings.ttl);
    let mut deadline = settings.acquire_sent + settings.ttl;
    let mut next_renew = settings.acquire_sent + period;
    // An acquire that took a third of the TTL or more (a slow or failing-over store): confirm
    // the lease before starting the command, so it never starts on a lease about to run out.
    let now = boot_time()?;
    if now >= next_renew {
        let within = deadline.saturating_sub(now + margin).max(margin);
        let renewed = store
            .renew_within(name, lease.token, Some(settings.ttl), within)
            .with_context(|| {
                format!("lease {name} could not be confirmed before starting the command")
            })?;
        deadline = now.saturating_add(Duration::from_millis(renewed.ttl_ms));
        next_renew = now + period;
    }
    let mut command = std::process::Command::new(program);
    if settings.stdout == CommandStdout::Stderr {
        command.stdout(stderr_for_child()?);
    }
    command
        .args(args)
        .env("VOXCTL_LEASE_NAME", name.as_str())
        .env("VOXCTL_LEASE_TOKEN", lease.token.to_string());
    platform::prepare_group_child(&mut command);
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot run {}", program.to_string_lossy()))?;
    let group = match GroupChild::adopt(&child) {
        Ok(group) => group,
        Err(e) => {
            let _ = child.wait();
            return Err(anyhow::Error::from(e).context(format!(
                "cannot run {} in a group of its own",
                program.to_string_lossy()
            )));
        }
    };
    let pid = child.id();
    // Under the deadline rule the grace must fit after the first failed renewal.
    let cutoff_grace = settings.kill_grace.min(settings.ttl / 3);
    let mut last_error: Option<anyhow::Error> = None;
    let mut lost: Option<anyhow::Error> = None;
    let mut kill_at: Option<Duration> = None;
    let mut killed = false;
    loop {
        if group
            .has_exited(&child)
            .with_context(|| format!("cannot wait for pid {pid}"))?
        {
            break;
        }
        for received in interrupts.take() {
            group.forward(received);
        }
        let term_at = deadline.saturating_sub(cutoff_grace + margin);
        let now = boot_time()?;
        if lost.is_none() && now >= next_renew {
            // Even past `term_at` (voxctl was stopped or starved): a renewal that succeeds
            // shows the lease is still ours; one refused says it is not.
            let within = term_at.saturating_sub(now).max(margin);
            match store.renew_within(name, lease.token, Some(settings.ttl), within) {
                Ok(renewed) => {
                    deadline = now.saturating_add(Duration::from_millis(renewed.ttl_ms));
                    next_renew = now + period;
                    last_error = None;
                }
                Err(e) if matches!(Error::find(&e), Some(Error::Lost(_))) => {
                    tracing::debug!("lease {name} lost: {e:#}; terminating the command");
                    lost = Some(e);
                    group.signal(Signal::Term);
                    kill_at = Some(boot_time()? + settings.kill_grace);
                }
                Err(e) => {
                    tracing::warn!("cannot renew lease {name}, retrying: {e:#}");
                    last_error = Some(e);
                    next_renew = boot_time()? + Duration::from_millis(250).min(period);
                }
            }
        }
        let now = boot_time()?;
        let term_at = deadline.saturating_sub(cutoff_grace + margin);
        if lost.is_none() && now >= term_at {
            let why = last_error
                .take()
                .unwrap_or_else(|| anyhow::anyhow!("no renewal was attempted in time"));
            lost = Some(why.context(Error::Lost(format!(
                "lease {name} could not be renewed and may run out {} from now, so the \
                 command was sent SIGTERM, and SIGKILL {} before that moment",
                humantime::format_duration(round_ms(deadline.saturating_sub(now))),
                humantime::format_duration(round_ms(margin)),
            ))));
            group.signal(Signal::Term);
            kill_at = Some(deadline.saturating_sub(margin).max(now));
        }
        if let Some(at) = kill_at {
            if !killed && now >= at {
                group.signal(Signal::Kill);
                killed = true;
            }
        }
        let mut wake = next_renew.min(term_at);
        if lost.is_some() {
            wake = kill_at.filter(|_| !killed).unwrap_or(now + MAX_NAP);
        }
        interrupts.nap(wake.saturating_sub(boot_time()?).min(MAX_NAP), &child);
    }
    if lost.is_some() && !killed {
        // The command exited after SIGTERM; anything it left in its group goes too. The
        // command is not reaped yet, so the group id still names that group.
        group.signal(Signal::Kill);
    }
    let status = child
        .wait()
        .with_context(|| format!("cannot wait for pid {pid}"))?;
    Ok(RunReport { status, lost })
}

fn boot_time() -> Result<Duration> {
    super::clock::boot_time()
}

fn round_ms(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64)
}

/// voxctl's standard error, duplicated for the command's standard output.
fn stderr_for_child() -> Result<std::process::Stdio> {
    #[cfg(unix)]
    let dup = {
        use std::os::fd::AsFd;
        std::io::stderr().as_fd().try_clone_to_owned()
    };
    #[cfg(windows)]
    let dup = {
        use std::os::windows::io::AsHandle;
        std::io::stderr().as_handle().try_clone_to_owned()
    };
    Ok(dup
        .context("cannot pass standard error to the command")?
        .into())
}
