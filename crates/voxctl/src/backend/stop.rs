//! `voxctl stop` and the stop half of `voxctl remove --force`: stop the recorded backend the
//! way `restart` stops the old one (identity-checked SIGTERM to its process group, a grace
//! period, SIGKILL, then wait until nothing listens on its port), under the same
//! `restart-{app}` slot so a stop and a restart never interleave. No relaunch marker is
//! written: nothing is being relaunched.
//!
//! `voxctl remove` holds the variant's `fetch-{asset}` slot, the one a fetch holds, for the
//! whole removal: a fetch running meanwhile owns its partial download and is about to
//! install, so removing either under it would leave the user with neither (busy, exit 4, or
//! wait with `--wait`).

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;

use super::control::{self, Stopped};
use super::port;
use super::record::BackendRecord;
use crate::cancel::Cancel;
use crate::slot::{SlotTable, Wait, WaitEvent};
use crate::state::StateDir;
use crate::Error;

/// How often the port is polled while waiting for its release.
const POLL: Duration = Duration::from_millis(5);

/// What [`stop`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[non_exhaustive]
pub enum StopOutcome {
    /// `backend.json` names no backend.
    NotRunning,
    /// `backend.json` named a process that is gone (or whose pid was recycled): the record
    /// was removed and nothing was signalled.
    StaleRecord {
        /// The record removed.
        backend: BackendRecord,
    },
    /// The backend was stopped and its port released.
    Stopped {
        /// Its record (now removed).
        backend: BackendRecord,
        /// `terminated` (exited after SIGTERM) or `killed` (SIGKILL after the grace).
        stopped: Stopped,
        /// SIGTERM until it exited, in milliseconds.
        stop_ms: u64,
        /// Its exit until nothing listened on its port, in milliseconds.
        port_ms: u64,
        /// When its process group held voxctl or one of its ancestors (this pid), only the
        /// leader was signalled.
        #[serde(skip_serializing_if = "Option::is_none")]
        leader_only: Option<i32>,
    },
}

/// The settings of a [`stop`]. Built with [`Settings::new`], then changed field by field: a
/// later version may add fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Settings {
    /// The app (`voicebox`): names the slot.
    pub app: String,
    /// How long the backend gets after SIGTERM, and then its port to be released.
    pub grace: Duration,
    /// How long to wait for slot `restart-{app}` while a restart holds it ([`Wait::Never`]:
    /// fail at once with [`Error::Busy`]).
    pub wait: Wait,
    /// Ends the waits with [`Error::Interrupted`] (no SIGKILL follows a cancelled wait).
    pub cancel: Cancel,
}

impl Settings {
    /// The default time the backend gets after SIGTERM, and then its port (`--stop-timeout`).
    pub const GRACE: Duration = Duration::from_secs(10);

    /// The settings of a stop of `app`'s backend: [`Self::GRACE`], no wait for a busy slot
    /// ([`Wait::Never`]) and a fresh [`Cancel`].
    pub fn new(app: &str) -> Settings {
        Settings {
            app: app.to_string(),
            grace: Self::GRACE,
            wait: Wait::Never,
            cancel: Cancel::new(),
        }
    }
}

/// Stops the backend recorded in `STATE/backend.json` for `s.app` (see the module doc), under
/// slot `restart-{app}` (waiting for it as `s.wait` says), giving it `s.grace` after SIGTERM and then `s.grace` again for the
/// port. Errors: [`Error::Busy`] while a restart of `app` runs; [`Error::TimedOut`] if the
/// port stays in use; [`Error::Interrupted`] once `s.cancel` is cancelled.
///
/// ```no_run
/// use voxctl::backend::stop::{self, Settings, StopOutcome};
///
/// let state = voxctl::state::StateDir::open(None)?;
/// let settings = Settings::new("voicebox");
/// if let StopOutcome::Stopped { stop_ms, .. } = stop::stop(&state, &settings)? {
///     println!("stopped in {stop_ms} ms");
/// }
/// # anyhow::Ok(())
/// ```
pub fn stop(state: &StateDir, s: &Settings) -> Result<StopOutcome> {
    let (app, grace) = (&s.app, s.grace);
    let table = SlotTable::new(state)?;
    let _slot = table.acquire(&format!("restart-{app}"), s.wait, &s.cancel, &|_| {})?;
    let record_path = state.backend_record();
    let backend = match BackendRecord::read(&record_path)? {
        None => return Ok(StopOutcome::NotRunning),
        Some(r) if !r.is_alive() => {
            BackendRecord::remove(&record_path)?;
            return Ok(StopOutcome::StaleRecord { backend: r });
        }
        Some(r) => r,
    };
    let started = Instant::now();
    let mut leader_only = None;
    let stopped = control::stop(&backend.identity(), grace, &s.cancel, &mut |member| {
        leader_only = Some(member)
    })
    .with_context(|| format!("cannot stop the backend, pid {}", backend.pid))?;
    let stop_ms = started.elapsed().as_millis() as u64;
    BackendRecord::remove(&record_path)?;
    let t_port = Instant::now();
    if port::is_listening(backend.port)?
        && !port::wait_released(backend.port, grace, POLL, &s.cancel)?
    {
        return Err(crate::error::with_remedy(
            Error::TimedOut(format!(
                "pid {} stopped, but port {} is still in use after {}",
                backend.pid,
                backend.port,
                humantime::format_duration(grace)
            )),
            crate::error::Remedy::FindPortHolder,
        ));
    }
    Ok(StopOutcome::Stopped {
        backend,
        stopped,
        stop_ms,
        port_ms: t_port.elapsed().as_millis() as u64,
        leader_only,
    })
}

/// What [`remove`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Removed {
    /// The variant.
    pub variant: crate::variant::Variant,
    /// The asset.
    pub asset: String,
    /// Every path removed (the binary or extracted directory, its install record, the
    /// partial download), absolute when the data dir is.
    pub removed: Vec<std::path::PathBuf>,
    /// The backend stopped first (`--force`), if it was running.
    pub stopped: Option<StopOutcome>,
}

/// The settings of a [`remove`]. Built with [`RemoveSettings::new`], then changed field by
/// field: a later version may add fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RemoveSettings {
    /// The variant to remove.
    pub variant: crate::variant::Variant,
    /// Stop the backend first if it runs this variant (else that is a refusal).
    pub force: bool,
    /// Remove only the partial download (and stop nothing).
    pub partial_only: bool,
    /// How a running backend is stopped with `force` (its `app` names the asset too; its
    /// `cancel` also ends the wait for the fetch slot).
    pub stop: Settings,
    /// Whether to wait while a fetch of the variant holds slot `fetch-{asset}`:
    /// [`Wait::Never`] is [`Error::Busy`] at once.
    pub wait: Wait,
}

impl RemoveSettings {
    /// The settings of a removal of `app`'s `variant`: no force, the whole install (not only
    /// the partial download), a running backend stopped as [`Settings::new`] stops it, and no
    /// wait for a busy fetch slot ([`Wait::Never`]).
    pub fn new(app: &str, variant: crate::variant::Variant) -> RemoveSettings {
        RemoveSettings {
            variant,
            force: false,
            partial_only: false,
            stop: Settings::new(app),
            wait: Wait::Never,
        }
    }
}

/// Uninstalls `s.variant` of `s.stop.app` from `backends`: its binary (or extracted archive
/// directory), its install record and its partial download, holding slot `fetch-{asset}`
/// throughout (waiting for it as `s.wait` says; `on_wait` hears of the holder as
/// [`SlotTable::acquire`] reports it). While the recorded backend runs this variant it
/// refuses ([`Error::Refused`]) unless `s.force`, which stops it first as [`stop`] does. With
/// `s.partial_only` only the partial download is removed (and nothing is stopped). Removing
/// what is not there is not an error: `removed` is then empty.
///
/// Errors: [`Error::Busy`] (exit 4) naming the fetch that holds the slot, at once with
/// [`Wait::Never`] or when [`Wait::AtMost`] runs out; [`Error::Interrupted`] once
/// `s.stop.cancel` is cancelled while waiting.
///
/// ```no_run
/// use std::time::Duration;
/// use voxctl::backend::stop::{self, RemoveSettings};
/// use voxctl::installs::BackendsDir;
/// use voxctl::slot::Wait;
///
/// let state = voxctl::state::StateDir::open(None)?;
/// let backends = BackendsDir::new(&voxctl::installs::default_data_dir("voicebox")?);
/// let mut settings = RemoveSettings::new("voicebox", voxctl::variant::Variant::Cuda);
/// settings.wait = Wait::AtMost(Duration::from_secs(30));
/// let removed = stop::remove(&state, &backends, &settings, &|_waiting| {})?;
/// println!("removed {:?}", removed.removed);
/// # anyhow::Ok(())
/// ```
pub fn remove(
    state: &StateDir,
    backends: &crate::installs::BackendsDir,
    s: &RemoveSettings,
    on_event: &(dyn Fn(&WaitEvent) + Sync),
) -> Result<Removed> {
    let (variant, force) = (s.variant, s.force);
    let asset = variant.asset(&s.stop.app);
    let _slot = SlotTable::new(state)?.acquire(
        &format!("fetch-{asset}"),
        s.wait,
        &s.stop.cancel,
        on_event,
    )?;
    let mut removed = Vec::new();
    let partial_dir = backends.root().join(".partial").join(&asset);
    if crate::fetch::partial::remove(backends, &asset)? {
        removed.push(partial_dir);
    }
    if s.partial_only {
        return Ok(Removed {
            variant,
            asset,
            removed,
            stopped: None,
        });
    }
    let record = backends.read_record(&asset)?;
    // The path removed is derived from the variant, never taken from the record: a record
    // naming another path is refused before anything is stopped or removed.
    let installed = match &record {
        Some(r) => backends.recorded_install_path(r, variant.as_str(), &asset)?,
        None => backends.asset_path(&asset),
    };
    let running = BackendRecord::read(&state.backend_record())?
        .filter(|b| b.is_alive() && (b.variant == variant || b.binary.starts_with(&installed)));
    let mut stopped = None;
    if let Some(b) = running {
        if !force {
            return Err(crate::error::with_remedy(
                Error::Refused(format!(
                    "the {variant} backend is running from {} (pid {}); not removing it",
                    b.binary.display(),
                    b.pid
                )),
                crate::error::Remedy::StopFirst {
                    variant: variant.to_string(),
                },
            ));
        }
        stopped = Some(stop(state, &s.stop)?);
    }
    let meta = std::fs::symlink_metadata(&installed);
    let existed = meta.is_ok();
    match meta {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(&installed)
            .with_context(|| format!("cannot remove {}", installed.display()))?,
        Ok(_) => std::fs::remove_file(&installed)
            .with_context(|| format!("cannot remove {}", installed.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(
                anyhow::Error::from(e).context(format!("cannot remove {}", installed.display()))
            )
        }
    }
    if existed {
        removed.push(installed);
    }
    // A previous install a crash left linked aside while replacing it.
    crate::fetch::install::drop_replaced(&backends.replaced_path(&asset))?;
    let record_path = backends.record_path(&asset);
    match std::fs::remove_file(&record_path) {
        Ok(()) => removed.push(record_path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(
                anyhow::Error::from(e).context(format!("cannot remove {}", record_path.display()))
            )
        }
    }
    crate::atomic::fsync_dir(backends.root()).ok();
    Ok(Removed {
        variant,
        asset,
        removed,
        stopped,
    })
}
