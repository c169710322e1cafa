//! `restart`: swap the running backend for an installed variant, safely.
//!
//! Order, so that a bad binary never costs downtime and every wait is a poll:
//! 1. hold slot `restart-{app}` (busy -> exit 4, or wait);
//! 2. choose the binary and check `BIN --version` (fall back rocm/cuda -> cpu);
//! 3. read `backend.json`; a record whose process is gone or whose pid was recycled is stale
//!    and is never signalled; the recorded configuration (port, health URL, extra arguments)
//!    is kept for whatever the settings leave unsaid ([`config`]), as `systemctl restart`
//!    keeps a unit's;
//! 4. write the restart marker (`restart-marker.json`, the instance about to be stopped; never
//!    the updater's relaunch marker), then stop the old backend's process group (SIGTERM,
//!    poll, SIGKILL after the stop timeout);
//! 5. wait until nothing listens on the port (exit 7 after the stop timeout);
//! 6. start the new binary detached and record it in `backend.json` at once;
//! 7. poll the health URL until it answers 200 for the variant, then record how long that
//!    took (`ready_ms`); on timeout or early exit, stop the new process and start the previous
//!    binary again with its own configuration and its own limit
//!    ([`rollback_ready_timeout`]) (exit 7, or 1 if that fails too, saying what runs then).
//!
//! A cancel ([`Settings::cancel`]; the CLI's SIGINT/SIGTERM, exit 130) ends any wait and takes
//! no further step (see `left_behind`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;

use super::control::{self, StartSpec, Started, Stopped};
use super::health::{self, HealthUrl, Ready};
use super::record::BackendRecord;
use super::select::{self, Rejected};
use super::{port, POLL_INTERVAL};
use crate::cancel::Cancel;
use crate::error::Remedy;
use crate::installs::BackendsDir;
use crate::marker::RelaunchMarker;
use crate::slot::{SlotTable, Wait};
use crate::state::StateDir;
use crate::variant::Variant;
use crate::Error;

/// How long `BIN --version` may take.
pub const VERSION_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a started backend gets to answer healthy unless told otherwise (the CLI's
/// `--ready-timeout` default), and the least a rollback ever gets.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(120);

/// How long the previous backend gets to answer healthy when a restart rolls back to it.
///
/// A rollback restores what was running, so it is not bound by the limit the new backend
/// failed (`ready_timeout`, which may have been set tight on purpose): it gets the largest of
/// [`DEFAULT_READY_TIMEOUT`], `ready_timeout`, and twice the time the previous backend took to
/// become healthy when it was started (`recorded_ready`; twice, because its files may have
/// left the page cache while the new binary loaded).
pub fn rollback_ready_timeout(
    ready_timeout: Duration,
    recorded_ready: Option<Duration>,
) -> Duration {
    let recorded = recorded_ready.map_or(Duration::ZERO, |d| d.saturating_mul(2));
    DEFAULT_READY_TIMEOUT.max(ready_timeout).max(recorded)
}

/// The configuration a backend is started with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The port, passed as `--port`.
    pub port: u16,
    /// The health URL polled until it answers.
    pub health_url: HealthUrl,
    /// The extra arguments, after `--data-dir D --port P`.
    pub args: Vec<String>,
}

/// The configuration a restart starts the new backend with: each of the port, the health URL
/// and the extra arguments from `s` when given there, else the recorded backend's (running or
/// not: its record is the last configuration it was given), else the defaults (port
/// [`super::DEFAULT_PORT`], no arguments). The health URL follows the port: a recorded one is
/// kept only while the port stays the recorded one, else it is the new port's default.
/// [`Settings::reset_config`] ignores the record.
pub fn config(s: &Settings, recorded: Option<&BackendRecord>) -> Config {
    let recorded = recorded.filter(|_| !s.reset_config);
    let port = s
        .port
        .or(recorded.map(|r| r.port))
        .unwrap_or(super::DEFAULT_PORT);
    let health_url = s.health_url.clone().unwrap_or_else(|| {
        recorded
            .filter(|r| r.port == port)
            .and_then(|r| r.health_url.as_deref())
            .and_then(|u| HealthUrl::parse(u).ok())
            .unwrap_or_else(|| HealthUrl::for_port(port))
    });
    let args = s
        .args
        .clone()
        .or_else(|| recorded.map(|r| r.args.clone()))
        .unwrap_or_default();
    Config {
        port,
        health_url,
        args,
    }
}

/// Validated settings of one restart. Built with [`Settings::new`] (the command's defaults),
/// then changed field by field: a later version may add fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Settings {
    /// The app (`voicebox`): names the slot, the assets and the log files.
    pub app: String,
    /// The variant to start (before any fallback).
    pub variant: Variant,
    /// The variant to start instead when `variant` is missing or fails its version check
    /// (`--variant auto` and `--fallback`); `None`: that failure is the error (exit 1) and
    /// nothing is stopped.
    pub fallback: Option<Variant>,
    /// The data dir: its `backends/` holds the binaries; passed as `--data-dir`.
    pub data_dir: PathBuf,
    /// The port to serve on; `None` keeps the recorded backend's (see [`config`]).
    pub port: Option<u16>,
    /// The new backend's health URL; `None` keeps the recorded one while the port stays the
    /// same, else the port's default (see [`config`]).
    pub health_url: Option<HealthUrl>,
    /// How long the old backend gets after SIGTERM, and then the port to be released.
    pub stop_timeout: Duration,
    /// How long the new backend gets to answer healthy (a rollback gets
    /// [`rollback_ready_timeout`]).
    pub ready_timeout: Duration,
    /// The version the requested variant must report.
    pub expect_version: Option<String>,
    /// Extra backend arguments; `None` keeps the recorded backend's (see [`config`]).
    pub args: Option<Vec<String>>,
    /// Start from the defaults instead of the recorded backend's configuration (what the
    /// settings give still wins).
    pub reset_config: bool,
    /// How long to wait for a busy restart slot ([`Wait::Never`]: fail at once with exit 4).
    pub wait: Wait,
    /// Ends any wait (version check, stop, port, health) with [`Error::Interrupted`]; no
    /// further step is taken then.
    pub cancel: Cancel,
}

impl Settings {
    /// The default time the old backend gets after SIGTERM, and then its port (`--stop-timeout`).
    pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);

    /// The settings of a restart of `app`'s `variant` from `data_dir`'s backends dir, with the
    /// command's defaults for the rest, each a public field to change before the call: no
    /// fallback, the recorded backend's port, health URL and arguments, [`Self::STOP_TIMEOUT`],
    /// [`DEFAULT_READY_TIMEOUT`], no version expected, no wait for a busy slot
    /// ([`Wait::Never`]) and a fresh [`Cancel`].
    pub fn new(app: &str, variant: Variant, data_dir: &std::path::Path) -> Settings {
        Settings {
            app: app.to_string(),
            variant,
            fallback: None,
            data_dir: data_dir.to_path_buf(),
            port: None,
            health_url: None,
            stop_timeout: Self::STOP_TIMEOUT,
            ready_timeout: DEFAULT_READY_TIMEOUT,
            expect_version: None,
            args: None,
            reset_config: false,
            wait: Wait::Never,
            cancel: Cancel::new(),
        }
    }
}

/// Things worth telling the user while a restart runs: the restart domain's one event type,
/// serialized with an `"event"` tag in snake case.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// A variant was not usable; the next one is tried.
    Rejected(Rejected),
    /// `backend.json` named a process that is not running any more; it is left alone.
    StaleRecord(BackendRecord),
    /// Stopping the old backend.
    Stopping(BackendRecord),
    /// The old backend ignored SIGTERM and was killed.
    Killed {
        /// Its pid.
        pid: i32,
        /// How long it had after SIGTERM, in milliseconds.
        after_ms: u64,
    },
    /// Backend `pid`'s process group holds `member`, voxctl or one of its ancestors, so only
    /// `pid` itself was signalled, not its group.
    LeaderOnly {
        /// The backend (its group's leader).
        pid: i32,
        /// voxctl or the ancestor of it found in the group.
        member: i32,
    },
    /// Waiting for the port to be released.
    WaitingForPort {
        /// The port.
        port: u16,
    },
    /// Started the new backend.
    Started(BackendRecord),
    /// The new backend failed; the last lines of its log follow.
    Failed {
        /// What went wrong.
        reason: String,
        /// The last log lines of the failed backend.
        log_tail: Vec<String>,
    },
    /// Starting the previous backend again.
    RollingBack {
        /// Its record (its binary, port, health URL and arguments are used again).
        backend: BackendRecord,
        /// How long it gets to answer healthy ([`rollback_ready_timeout`]), in milliseconds.
        ready_timeout_ms: u64,
    },
}

/// Milliseconds spent in each phase.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Timings {
    /// Choosing and checking the binary (before anything is stopped).
    pub check_ms: u64,
    /// SIGTERM until the old backend exited.
    pub stop_ms: u64,
    /// Its exit until nothing listened on the port.
    pub port_ms: u64,
    /// Start of the new backend until its first healthy answer.
    pub ready_ms: u64,
    /// SIGTERM (or start, when nothing ran) until the first healthy answer.
    pub downtime_ms: u64,
}

/// The outcome of a successful restart (what `restart --json` prints).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Report {
    /// The variant asked for (`auto` already resolved); `backend.variant` is the one that
    /// runs, which differs only after an allowed fallback.
    pub requested: Variant,
    /// The backend now running.
    pub backend: BackendRecord,
    /// Variants tried and not taken.
    pub rejected: Vec<Rejected>,
    /// The backend that was stopped, and how.
    pub previous: Option<Previous>,
    /// Where the time went.
    pub timings: Timings,
}

/// The backend a restart replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Previous {
    /// Its record.
    pub backend: BackendRecord,
    /// How it stopped.
    pub stopped: Stopped,
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

/// Runs a restart (see the module doc) under slot `restart-{app}` (waiting for it as
/// `s.wait` says), reporting progress through `on_event`.
///
/// Errors: [`Error::Busy`] for a busy slot; [`crate::backend::select::NoUsableBinary`] (in the
/// chain) when no variant passes its checks, before anything is stopped; [`Error::TimedOut`]
/// when the port stays in use or the new backend is not healthy in time (after a rollback);
/// [`Error::Interrupted`] once `s.cancel` is cancelled, with a remedy saying what was left.
///
/// ```no_run
/// use voxctl::backend::restart::{self, Settings};
/// use voxctl::state::StateDir;
/// use voxctl::variant::Variant;
///
/// let state = StateDir::open(None)?;
/// let data_dir = voxctl::installs::default_data_dir("voicebox")?;
/// // The running backend's port, health URL and arguments are kept (port 17493 if none).
/// let mut settings = Settings::new("voicebox", Variant::Cuda, &data_dir);
/// settings.fallback = Some(Variant::Cpu);
/// let report = restart::restart(&state, &settings, &|event| eprintln!("{event:?}"))?;
/// println!("pid {} is healthy", report.backend.pid);
/// # anyhow::Ok(())
/// ```
pub fn restart(
    state: &StateDir,
    s: &Settings,
    on_event: &(dyn Fn(&Event) + Sync),
) -> Result<Report> {
    let on = on_event;
    let slot_name = format!("restart-{}", s.app);
    let table = SlotTable::new(state)?;
    let _slot = table.acquire(&slot_name, s.wait, &s.cancel, &|_| {})?;
    let t_check = Instant::now();
    let backends = BackendsDir::new(&s.data_dir);
    let choice = select::choose(
        &backends,
        &s.app,
        s.variant,
        s.fallback,
        s.expect_version.as_deref(),
        VERSION_TIMEOUT,
        |binary, timeout| control::version_output(binary, timeout, &s.cancel),
    )?;
    for r in &choice.rejected {
        on(&Event::Rejected(r.clone()));
    }
    let mut timings = Timings {
        check_ms: ms(t_check.elapsed()),
        ..Timings::default()
    };
    let record_path = state.backend_record();
    let recorded = BackendRecord::read(&record_path)?;
    let config = config(s, recorded.as_ref());
    let current = match recorded {
        Some(r) if r.is_alive() => Some(r),
        Some(r) => {
            on(&Event::StaleRecord(r));
            BackendRecord::remove(&record_path)?;
            None
        }
        None => None,
    };

    let down_since = Instant::now();
    let mut previous = None;
    if let Some(old) = current {
        // The marker must name this very instance; if it exited meanwhile there is nothing
        // to mark (and `stop` will find nothing to signal). It is restart's own record: the
        // updater's relaunch marker (`reap mark`) names the app, not the backend, and is
        // left for `reap`.
        match RelaunchMarker::capture(old.pid) {
            Ok(m) if m.identity.start_time == old.start_time => {
                let path = state.restart_marker();
                m.write(&path).with_context(|| {
                    format!("cannot write the restart marker {}", path.display())
                })?
            }
            _ => {}
        }
        on(&Event::Stopping(old.clone()));
        let stopped = control::stop(&old.identity(), s.stop_timeout, &s.cancel, &mut |member| {
            on(&Event::LeaderOnly {
                pid: old.pid,
                member,
            })
        })
        .map_err(|e| left_behind(e, || Remedy::FinishRestart { pid: old.pid }))
        .with_context(|| format!("cannot stop the backend, pid {}", old.pid))?;
        if stopped == Stopped::Killed {
            on(&Event::Killed {
                pid: old.pid,
                after_ms: ms(s.stop_timeout),
            });
        }
        timings.stop_ms = ms(down_since.elapsed());
        BackendRecord::remove(&record_path)?;
        previous = Some(Previous {
            backend: old,
            stopped,
        });
    }

    let t_port = Instant::now();
    wait_for_port(config.port, s.stop_timeout, &s.cancel, on)
        .map_err(|e| left_behind(e, || Remedy::RestartAgain))?;
    timings.port_ms = ms(t_port.elapsed());

    let chosen = &choice.chosen;
    let spec = StartSpec {
        binary: chosen.binary.clone(),
        variant: chosen.variant,
        version: Some(chosen.version.clone()),
        data_dir: s.data_dir.clone(),
        port: config.port,
        health_url: config.health_url.as_str().to_string(),
        args: config.args,
        log: log_path(state, &chosen.variant.asset(&s.app))?,
    };
    let t_ready = Instant::now();
    let url = &config.health_url;
    match start_and_wait(state, &spec, url, s.ready_timeout, Unready::Stop, s, on)? {
        Ok(record) => {
            timings.ready_ms = ms(t_ready.elapsed());
            timings.downtime_ms = ms(down_since.elapsed());
            Ok(Report {
                requested: s.variant,
                backend: record,
                rejected: choice.rejected,
                previous,
                timings,
            })
        }
        Err(failed) => Err(rollback(
            state,
            s,
            previous.map(|p| p.backend),
            failed.reason,
            on,
        )),
    }
}

/// What an interrupted restart (SIGINT/SIGTERM, exit 130) left behind, as the remedy of an
/// [`Error::Interrupted`]; other errors pass unchanged. An interrupted restart takes no
/// further step: no SIGKILL, no start, no rollback; `backend.json` always names what runs.
fn left_behind(err: anyhow::Error, state: impl FnOnce() -> Remedy) -> anyhow::Error {
    if matches!(Error::find(&err), Some(Error::Interrupted)) {
        crate::error::with_remedy(err, state())
    } else {
        err
    }
}

fn log_path(state: &StateDir, asset: &str) -> Result<PathBuf> {
    Ok(state.subdir("logs")?.join(format!("{asset}.log")))
}

fn wait_for_port(
    port: u16,
    timeout: Duration,
    cancel: &Cancel,
    on: &(dyn Fn(&Event) + Sync),
) -> Result<()> {
    if !port::is_listening(port)? {
        return Ok(());
    }
    on(&Event::WaitingForPort { port });
    if port::wait_released(port, timeout, POLL_INTERVAL, cancel)? {
        return Ok(());
    }
    let holders: Vec<String> = port::holders(&port::listeners(port)?)
        .into_iter()
        .map(|(pid, cmd)| format!("pid {pid} ({cmd})"))
        .collect();
    let by = if holders.is_empty() {
        String::new()
    } else {
        format!(" by {}", holders.join(", "))
    };
    Err(crate::error::with_remedy(
        Error::TimedOut(format!(
            "port {port} is still in use{by} after {}",
            humantime::format_duration(timeout)
        )),
        Remedy::FreePort,
    ))
}

/// What [`start_and_wait`] does with a backend that is still running but not healthy when
/// its limit runs out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unready {
    /// Stop it and remove its record (a new backend: the previous one is started instead).
    Stop,
    /// Leave it running and recorded (a rolled-back backend: nothing better is left to run).
    Keep,
}

/// Why a started backend did not become healthy.
#[derive(Debug)]
struct NotReady {
    /// What went wrong, naming the pid.
    reason: String,
    /// The backend, when it was left running and recorded ([`Unready::Keep`]).
    kept: Option<BackendRecord>,
}

/// Starts `spec`, records it, waits for health and records how long that took
/// (`ready_ms`). `Ok(Err(..))` when it did not become healthy: it has then been stopped and
/// its record removed, unless it still runs and `unready` is [`Unready::Keep`].
fn start_and_wait(
    state: &StateDir,
    spec: &StartSpec,
    url: &HealthUrl,
    timeout: Duration,
    unready: Unready,
    s: &Settings,
    on: &(dyn Fn(&Event) + Sync),
) -> Result<Result<BackendRecord, NotReady>> {
    let cancel = &s.cancel;
    let t_start = Instant::now();
    let Started {
        mut child,
        mut record,
        log_offset,
    } = control::start(spec)?;
    record.write(&state.backend_record())?;
    on(&Event::Started(record.clone()));
    let ready = health::wait_ready(
        url,
        Some(spec.variant.as_str()),
        timeout,
        POLL_INTERVAL,
        cancel,
        || match child.try_wait() {
            Ok(Some(status)) => Some(format!("exited with {status}")),
            _ => None,
        },
    )
    .map_err(|e| {
        left_behind(e, || Remedy::WatchStatus {
            pid: record.pid,
            variant: record.variant.to_string(),
        })
    })?;
    let (reason, exited) = match ready {
        Ready::Healthy(..) => {
            record.ready_ms = Some(ms(t_start.elapsed()));
            record.write(&state.backend_record())?;
            return Ok(Ok(record));
        }
        Ready::Exited(how) => (
            format!("pid {} {how} before it became healthy", record.pid),
            true,
        ),
        Ready::TimedOut(last) => (
            format!(
                "pid {} was not healthy at {} after {} (last: {last})",
                record.pid,
                url.as_str(),
                humantime::format_duration(timeout)
            ),
            false,
        ),
    };
    on(&Event::Failed {
        reason: reason.clone(),
        log_tail: control::log_tail(&spec.log, log_offset, 20),
    });
    if unready == Unready::Keep && !exited {
        return Ok(Err(NotReady {
            reason,
            kept: Some(record),
        }));
    }
    let _ = control::stop(
        &record.identity(),
        Duration::from_secs(5),
        cancel,
        &mut |member| {
            on(&Event::LeaderOnly {
                pid: record.pid,
                member,
            })
        },
    );
    control::reap_child(&mut child, Duration::from_secs(1));
    BackendRecord::remove(&state.backend_record())?;
    Ok(Err(NotReady { reason, kept: None }))
}

/// Starts the previous backend again after `failure`, with its own configuration and
/// [`rollback_ready_timeout`]. Returns the error to exit with: [`Error::TimedOut`] (exit 7)
/// when the rollback worked or there was nothing to roll back to, a plain error (exit 1) when
/// the rollback failed too, saying what runs now.
fn rollback(
    state: &StateDir,
    s: &Settings,
    previous: Option<BackendRecord>,
    failure: String,
    on: &(dyn Fn(&Event) + Sync),
) -> anyhow::Error {
    let Some(prev) = previous else {
        return crate::error::with_remedy(
            Error::TimedOut(format!(
                "the new backend failed: {failure}; it was stopped and nothing runs now"
            )),
            Remedy::SeeBackendLog,
        );
    };
    let timeout = rollback_ready_timeout(s.ready_timeout, prev.ready_ms.map(Duration::from_millis));
    on(&Event::RollingBack {
        backend: prev.clone(),
        ready_timeout_ms: ms(timeout),
    });
    let url = prev
        .health_url
        .as_deref()
        .and_then(|u| HealthUrl::parse(u).ok())
        .unwrap_or_else(|| HealthUrl::for_port(prev.port));
    let spec = StartSpec {
        binary: prev.binary.clone(),
        variant: prev.variant,
        version: prev.version.clone(),
        data_dir: prev.data_dir.clone().unwrap_or_else(|| s.data_dir.clone()),
        port: prev.port,
        health_url: url.as_str().to_string(),
        args: prev.args.clone(),
        log: prev.log.clone(),
    };
    let outcome = wait_for_port(prev.port, s.stop_timeout, &s.cancel, &|_| {})
        .and_then(|()| start_and_wait(state, &spec, &url, timeout, Unready::Keep, s, on));
    let failed = |why: String| {
        crate::error::with_remedy(
            anyhow::anyhow!(
                "the new backend failed: {failure}; the rollback to the previous {} backend \
                 ({}) failed too: {why}",
                prev.variant,
                prev.binary.display()
            ),
            Remedy::StartAgain {
                variant: prev.variant.to_string(),
            },
        )
    };
    match outcome {
        Ok(Ok(back)) => crate::error::with_remedy(
            Error::TimedOut(format!(
                "the new backend failed: {failure}; rolled back to the previous {} backend \
                 (pid {}, port {}), which is healthy",
                back.variant, back.pid, back.port
            )),
            Remedy::SeeBackendLog,
        ),
        Ok(Err(NotReady {
            reason,
            kept: Some(kept),
        })) => failed(format!(
            "{reason}; it is left running and recorded as pid {} on port {} (it may still \
             become healthy), and nothing else runs",
            kept.pid, kept.port
        )),
        Ok(Err(NotReady { reason, kept: None })) => failed(format!(
            "{reason}; it was stopped and nothing runs now (backend.json names no backend)"
        )),
        // An interrupt keeps exit 130 and says where the rollback stopped.
        Err(e) if matches!(Error::find(&e), Some(Error::Interrupted)) => e.context(format!(
            "the new backend failed: {failure}; interrupted while rolling back to {}",
            prev.binary.display()
        )),
        // Flattened to text so that the exit code is 1, whatever the rollback's error was.
        Err(e) => failed(format!(
            "{e:#}; the new backend was stopped and no voxctl backend runs now (backend.json \
             names none)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;
    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn a_rollback_gets_its_own_limit() {
        // (the failed backend's limit, the previous backend's recorded start-up) -> limit
        let table = [
            (MS(300), Some(MS(450)), DEFAULT_READY_TIMEOUT),
            (MS(300), None, DEFAULT_READY_TIMEOUT),
            (S(600), Some(S(10)), S(600)),
            (MS(300), Some(S(90)), S(180)),
            (S(200), Some(S(90)), S(200)),
            (S(1), Some(Duration::MAX), Duration::MAX),
        ];
        for (ready_timeout, recorded, want) in table {
            assert_eq!(
                rollback_ready_timeout(ready_timeout, recorded),
                want,
                "{ready_timeout:?} {recorded:?}"
            );
        }
    }

    fn settings() -> Settings {
        Settings::new("voicebox", Variant::Cpu, "/d".as_ref())
    }

    fn recorded(port: u16, health: &str, args: &[&str]) -> BackendRecord {
        BackendRecord {
            pid: 1,
            start_time: 1,
            boot_id: None,
            host: None,
            variant: Variant::Cpu,
            binary: "/d/backends/voicebox-server-cpu".into(),
            version: None,
            port,
            health_url: Some(health.into()),
            data_dir: None,
            args: args.iter().map(|a| a.to_string()).collect(),
            log: "/s/logs/voicebox-server-cpu.log".into(),
            started_at: 0,
            ready_ms: None,
        }
    }

    #[test]
    fn a_restart_keeps_the_recorded_configuration_unless_told_otherwise() {
        let custom = "http://localhost:18950/ready";
        let rec = recorded(18950, custom, &["--models", "/srv/models"]);
        let url = |u: &str| HealthUrl::parse(u).unwrap();
        let models = vec!["--models".to_string(), "/srv/models".to_string()];

        // Nothing said: all kept.
        let c = config(&settings(), Some(&rec));
        assert_eq!(
            (c.port, c.health_url.as_str(), &c.args),
            (18950, custom, &models)
        );
        // Nothing recorded: the defaults.
        let c = config(&settings(), None);
        assert_eq!(c.port, super::super::DEFAULT_PORT);
        assert_eq!(c.health_url, HealthUrl::for_port(c.port));
        assert!(c.args.is_empty());
        // A new port: the health URL follows it, the arguments stay.
        let s = Settings {
            port: Some(19000),
            ..settings()
        };
        let c = config(&s, Some(&rec));
        assert_eq!(
            (c.port, &c.health_url, &c.args),
            (19000, &HealthUrl::for_port(19000), &models)
        );
        // The same port given again keeps the recorded health URL.
        let s = Settings {
            port: Some(18950),
            ..settings()
        };
        assert_eq!(config(&s, Some(&rec)).health_url.as_str(), custom);
        // Given arguments (even none) and a given URL replace the recorded ones.
        let s = Settings {
            args: Some(Vec::new()),
            health_url: Some(url("http://127.0.0.1:18950/h2")),
            ..settings()
        };
        let c = config(&s, Some(&rec));
        assert_eq!(
            (c.port, c.health_url.as_str(), c.args.len()),
            (18950, "http://127.0.0.1:18950/h2", 0)
        );
        // --reset-config: the defaults, plus what is given.
        let s = Settings {
            reset_config: true,
            args: Some(vec!["-x".into()]),
            ..settings()
        };
        let c = config(&s, Some(&rec));
        assert_eq!(
            (c.port, c.args),
            (super::super::DEFAULT_PORT, vec!["-x".to_string()])
        );
        // A recorded health URL that no longer parses falls back to the port's default.
        let bad = recorded(18950, "https://x/health", &[]);
        assert_eq!(
            config(&settings(), Some(&bad)).health_url,
            HealthUrl::for_port(18950)
        );
    }
}
