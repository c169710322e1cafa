//! `voxctl lease` on Windows: separate processes contend for one lease through the file store
//! (`LockFileEx` on the lease's lock file), fencing tokens grow across holders, and
//! `lease run` ends its command's whole job object when the lease is lost (exit 6), here a
//! command shaped like a PyInstaller one-file program whose child outlives its bootloader
//! unless the job is terminated.

use crate::support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use support::restart::{alive, fixture_bin, free_port, http_get_json, wait_until};
use support::voxctl;

fn token_of(out: &std::process::Output) -> u64 {
    let s = String::from_utf8_lossy(&out.stdout);
    s.trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a token: {s:?}, {out:?}"))
}

fn acquire(state: &std::path::Path) -> std::process::Output {
    voxctl(state)
        .args(["lease", "acquire", "L", "--ttl", "1h"])
        .output()
        .unwrap()
}

#[test]
fn a_held_lease_is_busy_for_another_process_and_the_next_holder_gets_a_larger_token() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let first = acquire(&state);
    assert!(first.status.success(), "{first:?}");
    let t1 = token_of(&first);

    let busy = acquire(&state);
    assert_eq!(busy.status.code(), Some(4), "busy: {busy:?}");
    let stderr = String::from_utf8_lossy(&busy.stderr);
    assert!(stderr.contains("held"), "{stderr}");

    voxctl(&state)
        .args(["lease", "release", "L", "--token", &t1.to_string()])
        .assert()
        .success();
    let second = acquire(&state);
    assert!(second.status.success(), "{second:?}");
    let t2 = token_of(&second);
    assert!(t2 > t1, "token {t2} after {t1}");

    // The first holder's token is dead: refused (exit 6), and the new holding is untouched.
    voxctl(&state)
        .args(["lease", "renew", "L", "--token", &t1.to_string()])
        .assert()
        .code(6);
    voxctl(&state)
        .args(["lease", "renew", "L", "--token", &t2.to_string()])
        .assert()
        .success();
}

/// A lease taken over while `lease run` holds it (from a faked other boot, the debug-build
/// hook `VOXCTL_TEST_BOOT_ID`, which sees the record as a previous boot's) is found lost at
/// the next renewal: `lease run` terminates the command's job, bootloader and child both, the
/// port is free, and it exits 6.
#[cfg(debug_assertions)]
#[test]
fn lease_run_terminates_its_commands_whole_job_when_the_lease_is_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let port = free_port();
    let mut run = support::voxctl_std(&state)
        .args(["lease", "run", "L", "--ttl", "3s", "--"])
        .arg(fixture_bin())
        .args(["--port", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut health = None;
    assert!(
        wait_until(Duration::from_secs(30), || {
            health = http_get_json(port, "/health");
            health.is_some()
        }),
        "the command never served /health on {port}"
    );
    let health = health.unwrap();
    let pid = |k: &str| {
        health[k]
            .as_i64()
            .unwrap_or_else(|| panic!("{k} in {health}")) as i32
    };
    let (child, bootloader) = (pid("pid"), pid("bootloader_pid"));
    assert_ne!(child, bootloader);

    let taker = voxctl(&state)
        .args(["lease", "acquire", "L", "--ttl", "1h"])
        .env("VOXCTL_TEST_BOOT_ID", "another-boot")
        .output()
        .unwrap();
    assert!(taker.status.success(), "{taker:?}");

    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = run.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = run.kill();
            panic!("lease run did not notice the takeover within 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(6), "lease run's exit: {status:?}");
    assert!(
        wait_until(Duration::from_secs(10), || !alive(child)
            && !alive(bootloader)),
        "the command's tree outlived the lost lease: child {child} alive {}, bootloader \
         {bootloader} alive {}",
        alive(child),
        alive(bootloader)
    );
    assert!(
        std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
        "port {port} still held"
    );
}

/// A command that waits on the lease (`--wait`) gets it once the holder's `lease run` ends,
/// with a larger token, and runs; one that does not wait is busy at once.
#[test]
fn a_waiting_lease_run_gets_the_lease_when_the_holder_releases_it() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let first = acquire(&state);
    assert!(first.status.success(), "{first:?}");
    let t1 = token_of(&first);
    voxctl(&state)
        .args(["lease", "run", "L", "--"])
        .arg(support::bin())
        .arg("--version")
        .assert()
        .code(4);
    let mut waiter = support::voxctl_std(&state)
        .args([
            "--json", "lease", "acquire", "L", "--ttl", "1h", "--wait", "60s",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        waiter.try_wait().unwrap().is_none(),
        "the waiter did not wait"
    );
    voxctl(&state)
        .args(["lease", "release", "L", "--token", &t1.to_string()])
        .assert()
        .success();
    let out = wait_output(waiter, Duration::from_secs(30));
    assert!(out.status.success(), "{out:?}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let t2 = doc["token"].as_u64().unwrap_or_else(|| panic!("{doc}"));
    assert!(t2 > t1, "token {t2} after {t1}");
}

fn wait_output(mut child: std::process::Child, limit: Duration) -> std::process::Output {
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("no exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}
