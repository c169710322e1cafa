//! `voxctl stop` stops the running backend as `restart` does, and
//! `voxctl remove VARIANT` uninstalls a variant (refusing while it runs unless --force) and
//! its partial download. Real backends (the fixture), real signals, a real port.

use crate::support;

use support::restart::{alive, Env};
use voxctl::backend::control::Stopped;
use voxctl::backend::restart::Report;
use voxctl::backend::stop::{Removed, StopOutcome};
use voxctl::error::ErrorDoc;
use voxctl::exit::ExitStatus;
use voxctl::variant::Variant;

fn start(env: &Env, variant: &str) -> i32 {
    let out = env.restart(variant, &["--json"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let report: Report = support::json_doc(&out.stdout);
    let pid = report.backend.pid;
    env.track(pid);
    pid
}

/// The graceful stop's timeout, and the ways a graceful stop may end. On Windows under Wine no
/// `CTRL_BREAK_EVENT` can be sent (docs/windows-tests.md), so the stop ends by terminating the
/// job after the timeout (`killed`); on Windows itself and on Unix the fixture exits on the
/// graceful signal (`terminated`).
const STOP_TIMEOUT: &str = if cfg!(windows) { "2s" } else { "20s" };
const GRACEFUL: &[Stopped] = if cfg!(windows) {
    &[Stopped::Terminated, Stopped::Killed]
} else {
    &[Stopped::Terminated]
};

fn port_is_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

#[test]
fn stop_stops_the_backend_and_releases_its_port() {
    let env = Env::new();
    env.install("cpu", "", None);
    let pid = start(&env, "cpu");
    assert!(!port_is_free(env.port));
    let out = support::voxctl(&env.state)
        .args(["--json", "stop", "--stop-timeout", STOP_TIMEOUT])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let outcome: StopOutcome = support::json_doc(&out.stdout);
    let StopOutcome::Stopped {
        backend, stopped, ..
    } = &outcome
    else {
        panic!("{outcome:?}")
    };
    assert!(GRACEFUL.contains(stopped), "{outcome:?}");
    assert_eq!((backend.pid, backend.variant), (pid, Variant::Cpu));
    assert!(!alive(pid), "pid {pid} still runs");
    assert!(port_is_free(env.port), "port {} still in use", env.port);
    assert!(env.record().is_none(), "backend.json is removed");
    // Stopping what is not running is success, as `systemctl stop` is.
    let out = support::voxctl(&env.state)
        .args(["--json", "stop"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let outcome: StopOutcome = support::json_doc(&out.stdout);
    assert_eq!(outcome, StopOutcome::NotRunning);
}

#[test]
fn stop_kills_a_backend_that_ignores_sigterm() {
    let env = Env::new();
    env.install("cpu", "ignore_term=1\n", None);
    let pid = start(&env, "cpu");
    let out = support::voxctl(&env.state)
        .args(["--json", "stop", "--stop-timeout", "300ms"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let outcome: StopOutcome = support::json_doc(&out.stdout);
    assert!(
        matches!(
            outcome,
            StopOutcome::Stopped {
                stopped: Stopped::Killed,
                ..
            }
        ),
        "{outcome:?}"
    );
    assert!(!alive(pid));
}

#[test]
fn remove_refuses_a_running_variant_unless_forced_and_removes_its_partial_download() {
    let env = Env::new();
    let cpu = env.install("cpu", "", None);
    let pid = start(&env, "cpu");
    let remove = |extra: &[&str]| {
        support::voxctl(&env.state)
            .args(["--json", "remove", "cpu", "--data-dir"])
            .arg(&env.data)
            .args(extra)
            .output()
            .unwrap()
    };
    let out = remove(&[]);
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    let doc: ErrorDoc = support::json_doc(&out.stdout);
    assert_eq!(doc.error.code, ExitStatus::Refused);
    assert!(
        doc.error.hint.as_deref().unwrap().contains("--force"),
        "{doc:?}"
    );
    assert!(cpu.is_file(), "nothing removed while it runs");
    assert!(alive(pid));

    let partial = env
        .data
        .join("backends")
        .join(".partial")
        .join(support::restart::asset_name("cpu"));
    std::fs::create_dir_all(&partial).unwrap();
    std::fs::write(partial.join("progress.json"), r#"{"received":[5]}"#).unwrap();
    let out = remove(&["--force", "--stop-timeout", STOP_TIMEOUT]);
    assert!(out.status.success(), "{out:?}");
    let removed: Removed = support::json_doc(&out.stdout);
    assert!(
        matches!(removed.stopped, Some(StopOutcome::Stopped { .. })),
        "{removed:?}"
    );
    assert_eq!(
        (removed.variant, removed.asset.as_str()),
        (Variant::Cpu, support::restart::asset_name("cpu").as_str())
    );
    assert!(!alive(pid));
    assert!(port_is_free(env.port));
    assert!(!cpu.exists());
    assert!(!env
        .data
        .join("backends/voicebox-server-cpu.install.json")
        .exists());
    assert!(!partial.exists());
    let removed = &removed.removed;
    assert_eq!(removed.len(), 3, "{removed:?}");
    assert!(removed.iter().all(|p| p.is_absolute()), "{removed:?}");

    // A variant that is not running is removed at once; one that is not there is a no-op.
    let cuda = env.install("cuda", "", None);
    support::voxctl(&env.state)
        .args(["remove", "cuda", "--data-dir"])
        .arg(&env.data)
        .assert()
        .success();
    assert!(!cuda.exists());
    support::voxctl(&env.state)
        .args(["remove", "rocm", "--data-dir"])
        .arg(&env.data)
        .assert()
        .success();
}
