//! Hostile-input cases: hostile processes: process groups holding voxctl's ancestors, stopped holders.

use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::support::fetch::{self as f, Fixture, ASSET};
use crate::support::http::Server;

const MB: usize = 1 << 20;

/// Issue 10 item 7: a `fetch --force` killed mid-download leaves a partial download of a
/// release that is installed; the next fetch finds it "already installed", and must not say
/// so while gigabytes of stale partial data linger unreported: it removes them and says so,
/// leaving no empty `.partial/` behind.
#[test]
fn a_killed_force_fetch_leaves_no_stale_partial_behind_already_installed() {
    let fx = Fixture::new();
    let bytes = f::data(4 * MB, 121);
    f::json_release(&fx.rel(), ASSET, &bytes, 2 * MB);
    let srv = Server::start(&fx.rel());
    fx.fetch(&srv.url()).assert().success();

    srv.set(|s| s.trickle = Some((32 * 1024, Duration::from_millis(20))));
    let mut forced = fx
        .fetch_std(&srv.url())
        .arg("--force")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    f::wait_until(60, "partial data of the --force run", || {
        f::partial_bytes(&fx.partial()) >= 256 * 1024
    });
    kill(Pid::from_raw(forced.id() as i32), Signal::SIGKILL).unwrap();
    forced.wait().unwrap();
    assert!(fx.partial().exists());

    srv.set(|s| s.trickle = None);
    let out = fx.fetch(&srv.url()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("already installed"), "{stderr}");
    assert!(
        stderr.contains(&format!("removed a stale partial download of {ASSET}")),
        "{stderr}"
    );
    assert!(
        !fx.data().join("backends/.partial").exists(),
        "stale partial data and its empty parent removed"
    );
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
}
