//! The backend updater of a desktop app, driven the way a Tauri app's updater would drive it
//! (no Tauri here: the "webview" is a thread that prints the JSON it would be sent).
//!
//! An update spans two processes, as a real one does:
//!
//! - `updater update RELEASE DATA_DIR STATE_DIR APP_PID` runs in the app instance that finds
//!   the update. It checks the release (a dry-run fetch: how much an update would download),
//!   downloads and installs it with every event forwarded to the UI thread, and, just before
//!   the app relaunches, records the instance being replaced (`APP_PID`) in the relaunch
//!   marker, as `voxctl reap mark --pid APP_PID` does.
//! - `updater relaunched DATA_DIR STATE_DIR APP_PIDFILE PORT` runs in the relaunched app. If
//!   the replaced instance is wedged (alive, still holding the app's lock, here the pidfile
//!   `APP_PIDFILE`), it is reaped, on the marker's evidence only (a healthy instance that the
//!   marker does not name is never touched). Then the backend restarts on what was installed
//!   (stopping the one running, waiting for its port, starting the new one, waiting until it
//!   is healthy) and keeps running, as the app's backend.
//!
//! `fetch::plan` and `fetch::install` are async and runs on the app's tokio runtime; `reap::reap` and
//! `restart::restart` block, so an async app calls them through `spawn_blocking`, as here.
//! `tests/it/updater.rs` runs both phases twice (an install, then an update of a running
//! backend), with a wedged instance to reap each time.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use voxctl::backend::health::HealthUrl;
use voxctl::backend::restart::{self, Settings as RestartSettings};
use voxctl::fetch::{self, Compat, Event, Outcome, Reporter, Source};
use voxctl::marker::RelaunchMarker;
use voxctl::reap::holder::LockSource;
use voxctl::reap::{self, Mode};
use voxctl::state::StateDir;
use voxctl::variant::Variant;

const APP: &str = "voicebox";
const VARIANT: Variant = Variant::Cpu;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Runtime::new()?;
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["update", release, data, state, app_pid] => runtime.block_on(update(
            release,
            Path::new(data),
            &StateDir::open(Some(Path::new(state)))?,
            app_pid.parse().context("APP_PID")?,
        )),
        ["relaunched", data, state, pidfile, port] => runtime.block_on(relaunched(
            PathBuf::from(data),
            StateDir::open(Some(Path::new(state)))?,
            PathBuf::from(pidfile),
            port.parse().context("PORT")?,
        )),
        _ => bail!(
            "usage: updater update RELEASE DATA_DIR STATE_DIR APP_PID\n       \
             updater relaunched DATA_DIR STATE_DIR APP_PIDFILE PORT"
        ),
    }
}

/// The running app: check, download and install, mark the instance for the relaunch.
async fn update(release: &str, data: &Path, state: &StateDir, app_pid: i32) -> Result<()> {
    // The UI: events arrive on the fetch's own tasks and threads, so the callback only sends
    // them on; the UI thread turns each into what a webview's `emit` would get.
    let (to_ui, from_fetch) = mpsc::channel::<Event>();
    let ui = std::thread::spawn(move || {
        for event in from_fetch {
            match &event {
                // A progress bar would move here; the printout keeps the last one only.
                Event::Progress { .. } => {}
                _ => println!("ui: {}", serde_json::to_string(&event).unwrap()),
            }
        }
    });

    // 1. Check: a dry run plans the fetch and downloads nothing.
    let settings = fetch_settings(state, data, release)?;
    let silent: Reporter = Arc::new(|_: &Event| {});
    match fetch::plan(&settings, silent).await? {
        Outcome::DryRun(plan) => println!(
            "check: an update of {} bytes, {} to download",
            plan.size, plan.to_download
        ),
        Outcome::AlreadyInstalled(record) => {
            println!("check: up to date ({})", record.asset);
            return Ok(());
        }
        other => bail!("unexpected check outcome {other:?}"),
    }

    // 2. Download and install, every event forwarded to the UI thread.
    let to_ui = std::sync::Mutex::new(to_ui);
    let report: Reporter = Arc::new(move |event: &Event| {
        let _ = to_ui.lock().unwrap().send(event.clone());
    });
    let record = match fetch::install(&settings, report).await? {
        Outcome::Installed(record) => record,
        other => bail!("unexpected outcome {other:?}"),
    };
    // The reporter (and with it the channel's sender) is gone with the fetch: the UI ends.
    ui.join().expect("the UI thread");
    println!("update: installed {} ({} bytes)", record.asset, record.size);

    // 3. Just before the relaunch: record the instance being replaced, so that the relaunched
    // app may reap it if it wedges, and only it.
    let marker = RelaunchMarker::mark(app_pid, &state.relaunch_marker())?;
    println!(
        "update: marked pid {} for the relaunch",
        marker.identity.pid
    );
    Ok(())
}

/// The relaunched app: reap the replaced instance if it is wedged, then restart the backend
/// on the new install.
async fn relaunched(data: PathBuf, state: StateDir, pidfile: PathBuf, port: u16) -> Result<()> {
    let marker = state.relaunch_marker();
    let report = tokio::task::spawn_blocking(move || {
        let mut settings = reap::Settings::new(Mode::Lock {
            source: LockSource::Pidfile(pidfile),
            marker,
            max_marker_age: reap::DEFAULT_MAX_MARKER_AGE,
        });
        settings.graces.teardown = Duration::from_millis(500);
        // A Tauri app would ask its user here (a dialog); this one always agrees.
        reap::reap(&settings, &mut |_question| Ok(()), &|event| {
            println!("reap: {}", serde_json::to_string(event).unwrap())
        })
    })
    .await??;
    println!(
        "reap: {} ({}), {} target(s), {} survivor(s)",
        report.decision.name(),
        report.reason,
        report.targets.len(),
        report.survivors().len()
    );

    let report = tokio::task::spawn_blocking(move || {
        let mut settings = RestartSettings::new(APP, VARIANT, &data);
        settings.port = Some(port);
        settings.health_url = Some(HealthUrl::for_port(port));
        settings.ready_timeout = Duration::from_secs(30);
        restart::restart(&state, &settings, &|event| {
            println!("restart: {}", serde_json::to_string(event).unwrap())
        })
    })
    .await??;
    match &report.previous {
        Some(previous) => println!(
            "restart: stopped pid {}, backend running as pid {}",
            previous.backend.pid, report.backend.pid
        ),
        None => println!("restart: backend running as pid {}", report.backend.pid),
    }
    Ok(())
}

/// The settings of a fetch of the app's backend from `release` into `data`.
fn fetch_settings(state: &StateDir, data: &Path, release: &str) -> Result<fetch::Settings> {
    let mut settings = fetch::Settings::new(APP, VARIANT, Source::parse(release)?, data, state);
    // The cpu build runs on any machine: no hardware check.
    settings.compat = Compat::Skip;
    Ok(settings)
}
