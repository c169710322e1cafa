//! The fetch library as an app embeds it: `voxctl::fetch::install` with its
//! own reporter and cancel handle, no CLI and no signals.

use crate::support;

use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use support::fetch::{self as f, Fixture, ASSET};
use support::http::{Cut, Server};
use voxctl::cancel::Cancel;
use voxctl::fetch::http::NetSettings;
use voxctl::fetch::{Compat, Event, Outcome, RetryPolicy, Settings, Source};
use voxctl::slot::{Attempt, SlotTable};
use voxctl::state::StateDir;
use voxctl::variant::Variant;
use voxctl::Error;

const MB: usize = 1 << 20;

fn settings(fx: &Fixture, source: &str, cancel: &Cancel) -> Settings {
    let state = StateDir::open(Some(&fx.state())).unwrap();
    let source = Source::parse(source).unwrap();
    let mut settings = Settings::new("voicebox", Variant::Cuda, source, &fx.data(), &state);
    assert_eq!(settings.asset, ASSET);
    settings.http_cache = None;
    settings.jobs = 2;
    settings.retry = RetryPolicy {
        retries: 3,
        min_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(50),
    };
    // Far longer than the test: only the cancel ends the stalled transfer.
    settings.net = NetSettings {
        connect_timeout: Duration::from_secs(600),
        read_timeout: Duration::from_secs(600),
        github_token: None,
    };
    settings.compat = Compat::Skip;
    settings.cancel = cancel.clone();
    settings
}

/// The slot table of the fixture's state dir.
fn slots(fx: &Fixture) -> SlotTable {
    SlotTable::new(&StateDir::open(Some(&fx.state())).unwrap()).unwrap()
}

/// Runs `fetch::install` on its own thread and runtime, sending every event to the channel.
fn spawn_fetch(
    settings: Settings,
) -> (
    std::thread::JoinHandle<anyhow::Result<Outcome>>,
    mpsc::Receiver<Event>,
) {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let report: voxctl::fetch::Reporter = Arc::new(move |ev: &Event| {
        let _ = tx.lock().unwrap().send(ev.clone());
    });
    let fetching = std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(voxctl::fetch::install(&settings, report))
    });
    (fetching, rx)
}

#[test]
fn a_fetch_cancelled_from_another_thread_is_interrupted_and_keeps_its_partial_data() {
    let fx = Fixture::new();
    let bytes = f::data(4 * MB, 91);
    f::json_release(&fx.rel(), ASSET, &bytes, 2 * MB);
    let srv = Server::start(&fx.rel());
    // Every part's body stops after 256 KiB and the connection stays open: the download
    // cannot finish, and nothing but the cancel ends it.
    srv.set(|s| {
        s.cut_after = Some((256 * 1024, Cut::Stall));
        s.cut_times = usize::MAX;
    });
    let cancel = Cancel::new();
    let (fetching, events) = spawn_fetch(settings(&fx, &srv.url(), &cancel));

    // Cancel once the library says bytes have arrived (from this thread, as an app's cancel
    // button would).
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match events.recv_timeout(left) {
            Ok(Event::Progress { done, .. }) if done >= 256 * 1024 => break,
            Ok(Event::Installed(_)) => panic!("installed despite the stalled server"),
            Ok(_) => {}
            Err(_) => panic!("no progress: {:?}", fetching.join().unwrap()),
        }
    }
    cancel.cancel();
    let err = fetching.join().unwrap().unwrap_err();
    assert!(
        matches!(Error::find(&err), Some(Error::Interrupted)),
        "{err:#}"
    );
    let rest: Vec<Event> = events.try_iter().collect();
    assert!(
        !rest.iter().any(|e| matches!(e, Event::Installed(_))),
        "{rest:?}"
    );
    assert!(!fx.installed().exists());
    // The partial data is kept, with its resume record, and the slot is free again.
    let kept = f::partial_bytes(&fx.partial());
    assert!(kept >= 256 * 1024, "kept {kept} bytes");
    assert!(format!("{err:#}").contains("interrupted"), "{err:#}");
    assert_eq!(
        voxctl::error::remedy_of(&err),
        Some(voxctl::error::Remedy::Resume { kept: fx.partial() })
    );
    assert!(matches!(
        slots(&fx).try_acquire(&format!("fetch-{ASSET}")).unwrap(),
        Attempt::Acquired(_)
    ));

    // A second fetch resumes from what the first kept (Range requests) and installs.
    srv.set(|s| s.cut_after = None);
    let (fetching, _events) = spawn_fetch(settings(&fx, &srv.url(), &Cancel::new()));
    let outcome = fetching.join().unwrap().unwrap();
    assert!(matches!(outcome, Outcome::Installed(_)), "{outcome:?}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    let resumed = srv
        .log()
        .iter()
        .filter(|l| l.range.is_some() && l.file.is_some())
        .count();
    assert!(resumed >= 1, "{:?}", srv.log());
}
