//! voxctl as a library, the way a desktop app (a Tauri shell, say) embeds it: no command line,
//! no signals, its own progress printout and its own cancel button.
//!
//! 1. Fetches the cpu variant from a local release directory, printing progress as it goes.
//! 2. Starts a second fetch (the cuda variant) from a deliberately slow server and cancels it
//!    from another thread after a second, as an app's cancel button would: the fetch returns
//!    `Error::Interrupted` and keeps its partial data for a later resume.
//! 3. Restarts the backend on the installed cpu variant, prints its health, then stops it.
//!
//! Usage: `embed RELEASE_DIR SLOW_URL DATA_DIR STATE_DIR PORT`. `tests/it/embed.rs` runs it
//! against a release holding `examples/fixture_backend` and a throttled loopback server.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use voxctl::backend::health::{self, HealthUrl};
use voxctl::backend::restart::{self, Settings as RestartSettings};
use voxctl::backend::stop;
use voxctl::cancel::Cancel;
use voxctl::fetch::{self, Compat, Event, Outcome, Reporter, RetryPolicy, Source};
use voxctl::state::StateDir;
use voxctl::variant::Variant;
use voxctl::Error;

const APP: &str = "voicebox";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [release, slow_url, data_dir, state_dir, port] = args.as_slice() else {
        bail!("usage: embed RELEASE_DIR SLOW_URL DATA_DIR STATE_DIR PORT");
    };
    let data_dir = PathBuf::from(data_dir);
    let port: u16 = port.parse().context("PORT")?;
    let state = StateDir::open(Some(std::path::Path::new(state_dir)))?;
    let runtime = tokio::runtime::Runtime::new()?;

    // 1. A fetch with the app's own progress printout.
    let cancel = Cancel::new();
    let settings = fetch_settings(&state, &data_dir, Variant::Cpu, release, &cancel)?;
    let last_quarter = Mutex::new(None);
    let report: Reporter = Arc::new(move |event: &Event| match event {
        Event::Progress { done, total, .. } if *total > 0 => {
            // One line per quarter, as an app would move its own progress bar (a fast local
            // copy may end before the first progress tick, 100 ms).
            let quarter = done * 4 / total;
            let mut last = last_quarter.lock().unwrap();
            if *last != Some(quarter) {
                *last = Some(quarter);
                println!("cpu: {}% ({done} of {total} bytes)", quarter * 25);
            }
        }
        Event::Planned { size, parts, .. } => {
            println!("cpu: {size} bytes to fetch in {} part(s)", parts.len())
        }
        Event::PartVerified { part, .. } => println!("cpu: part {part} verified"),
        _ => {}
    });
    match runtime.block_on(fetch::install(&settings, report))? {
        Outcome::Installed(record) | Outcome::AlreadyInstalled(record) => {
            println!("cpu: installed {} ({} bytes)", record.asset, record.size)
        }
        other => bail!("unexpected outcome {other:?}"),
    }

    // 2. A second fetch, cancelled from another thread after a second.
    let cancel = Cancel::new();
    let settings = fetch_settings(&state, &data_dir, Variant::Cuda, slow_url, &cancel)?;
    let received = Arc::new(Mutex::new(0u64));
    let seen = received.clone();
    let report: Reporter = Arc::new(move |event: &Event| {
        if let Event::Progress { done, .. } = event {
            *seen.lock().unwrap() = *done;
        }
    });
    let button = {
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(1));
            cancel.cancel();
        })
    };
    let result = runtime.block_on(fetch::install(&settings, report));
    button.join().unwrap();
    match result {
        Err(e) if matches!(Error::find(&e), Some(Error::Interrupted)) => {
            println!(
                "cuda: cancelled after {} bytes; the partial download is kept for a resume",
                received.lock().unwrap()
            );
            // What a UI would show or log: kind, message and the typed next step, as JSON.
            println!(
                "cuda: report {}",
                serde_json::to_string(&voxctl::error::Report::of(&e))?
            );
        }
        Err(e) => return Err(e.context("the cancelled fetch")),
        Ok(outcome) => bail!("the slow fetch finished before the cancel: {outcome:?}"),
    }

    // 3. Restart the backend on the cpu variant, print its health, stop it again.
    let health_url = HealthUrl::for_port(port);
    let mut settings = RestartSettings::new(APP, Variant::Cpu, &data_dir);
    settings.port = Some(port);
    settings.health_url = Some(health_url.clone());
    settings.ready_timeout = Duration::from_secs(30);
    let report = restart::restart(&state, &settings, &|event| {
        println!("restart: {}", serde_json::to_string(event).unwrap());
    })?;
    println!(
        "restart: {} backend running as pid {}",
        report.backend.variant, report.backend.pid
    );
    let probe = health::probe(&health_url, Duration::from_secs(5))?;
    println!(
        "health: HTTP {} status {} variant {}",
        probe.code,
        probe.status.as_deref().unwrap_or("-"),
        probe.backend_variant.as_deref().unwrap_or("-")
    );
    stop::stop(&state, &stop::Settings::new(APP))?;
    println!("stopped");
    Ok(())
}

/// The settings of a fetch of `variant` from `source` into `data_dir`.
fn fetch_settings(
    state: &StateDir,
    data_dir: &std::path::Path,
    variant: Variant,
    source: &str,
    cancel: &Cancel,
) -> Result<fetch::Settings> {
    let mut settings = fetch::Settings::new(APP, variant, Source::parse(source)?, data_dir, state);
    // The command's defaults (`Settings::new`), but for a demo on loopback: two parts at once,
    // quick retries, and no hardware check (the demo's "cuda" release runs anywhere).
    settings.jobs = 2;
    settings.retry = RetryPolicy {
        retries: 3,
        min_delay: Duration::from_millis(200),
        max_delay: Duration::from_secs(2),
    };
    settings.compat = Compat::Skip;
    settings.cancel = cancel.clone();
    Ok(settings)
}
