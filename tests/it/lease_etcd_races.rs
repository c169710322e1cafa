//! The etcd store's transactions against what can happen between a read and the transaction
//! derived from it, with a real etcd: a `voxctl` frozen at that point (the debug-build
//! checkpoints `lease:etcd:*:txn`, `VOXCTL_TEST_CHECKPOINT_ACTION=stop`), the lease expired
//! and taken (or taken and released) by a second host, then resumed. A release never deletes
//! the new holder's key, and the record's fencing token never goes backwards. Also: a held
//! key deleted under `lease run` (exit 6), renewals after a move to a new etcd lease, and a
//! stale token refused by a process that still remembers its holding.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use voxctl::lease::store::{open_etcd, StoreSpec};
use voxctl::lease::{Lease, LeaseInfo, LeaseName, LeaseState, LeaseStatus, LeaseStore, Token};

use crate::support;
use crate::support::etcd::Etcd;
use crate::support::lease::{signal, wait_for_line, Spawned};

/// A `voxctl` for "host" `state` using `store`.
fn vox(state: &Path, store: &str) -> Command {
    let mut cmd = support::voxctl_std(state);
    cmd.env("VOXCTL_LEASE_STORE", store);
    cmd
}

/// `voxctl --json lease ARGS`, which must succeed, decoded.
fn json<T: serde::de::DeserializeOwned + serde::Serialize>(
    state: &Path,
    store: &str,
    args: &[&str],
) -> T {
    let o = vox(state, store)
        .args(["--json", "lease"])
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{args:?}: {o:?}");
    support::json_doc(&o.stdout)
}

fn status(state: &Path, store: &str) -> LeaseInfo {
    match json(state, store, &["status", "L"]) {
        LeaseStatus::Recorded(info) => info,
        free => panic!("no record: {free:?}"),
    }
}

fn acquire(state: &Path, store: &str, holder: &str, ttl: &str) -> Lease {
    json(
        state,
        store,
        &["acquire", "L", "--ttl", ttl, "--holder", holder],
    )
}

/// Releases `L` with `held`'s token; the release must succeed.
fn release_with(state: &Path, store: &str, held: &Lease) {
    let o = vox(state, store)
        .args([
            "lease",
            "release",
            "L",
            "--token",
            &held.token.0.to_string(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
}

/// Polls until the etcd lease of `L` has run out and etcd deleted the held key.
fn wait_expired(state: &Path, store: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while status(state, store).state != LeaseState::Expired {
        assert!(Instant::now() < deadline, "the lease never expired");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `voxctl --json lease ARGS` that stops itself (SIGSTOP) at checkpoint `step`, spawned with its
/// output captured.
pub(crate) fn frozen_at(state: &Path, store: &str, step: &str, args: &[&str]) -> Spawned {
    let mut cmd = vox(state, store);
    cmd.args(["--json", "lease"])
        .args(args)
        .env(voxctl::testhook::CHECKPOINT_ENV, step)
        .env(voxctl::testhook::CHECKPOINT_ACTION_ENV, "stop")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = Spawned::spawn(cmd);
    assert!(
        stopped_or_exited(&mut child),
        "{step}: the process exited before its checkpoint"
    );
    child
}

/// Waits until `child` is stopped (true) or has exited (false).
fn stopped_or_exited(child: &mut Spawned) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if child.0.try_wait().unwrap().is_some() {
            return false;
        }
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", child.pid())).unwrap_or_default();
        // The state follows the parenthesised command name.
        if stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('T'))
        {
            return true;
        }
        assert!(Instant::now() < deadline, "neither stopped nor exited");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Continues `child` (again each time it stops at its checkpoint) until it exits; returns its
/// output and how many more times it stopped.
pub(crate) fn resume(mut child: Spawned) -> (std::process::Output, usize) {
    let mut stops = 0;
    loop {
        signal(child.pid(), Signal::SIGCONT);
        if !stopped_or_exited(&mut child) {
            break;
        }
        stops += 1;
        assert!(stops < 10, "stopped again and again");
    }
    let mut out = std::process::Output {
        status: child.0.wait().unwrap(),
        stdout: Vec::new(),
        stderr: Vec::new(),
    };
    use std::io::Read;
    child
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut out.stdout)
        .unwrap();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_end(&mut out.stderr)
        .unwrap();
    (out, stops)
}

#[test]
fn a_release_racing_an_expiry_and_a_takeover_never_deletes_the_new_holders_key() {
    let etcd = Etcd::start();
    let store = etcd.store_url("race-release");
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("host-a"), tmp.path().join("host-b"));
    let first = acquire(&a, &store, "host-a", "2s");
    let release = frozen_at(
        &a,
        &store,
        "lease:etcd:release:txn",
        &["release", "L", "--token", &first.token.0.to_string()],
    );
    // Frozen after reading its holding, before its delete: the lease expires and host-b
    // takes it.
    wait_expired(&b, &store);
    let second = acquire(&b, &store, "host-b", "30s");
    assert!(second.token > first.token);
    let (out, _) = resume(release);
    assert_eq!(out.status.code(), Some(6), "{out:?}");
    let now = status(&b, &store);
    assert_eq!(
        (now.state, now.token, now.holder.as_str()),
        (LeaseState::Held, second.token, "host-b"),
        "{now:?}"
    );
    // host-b still holds it: its own release works.
    release_with(&b, &store, &second);
}

#[test]
fn releasing_an_expired_lease_never_sets_the_record_back_to_an_older_token() {
    let etcd = Etcd::start();
    let store = etcd.store_url("race-expired");
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("host-a"), tmp.path().join("host-b"));
    let first = acquire(&a, &store, "host-a", "2s");
    wait_expired(&a, &store);
    // Frozen after reading the expired record, before marking it released: host-b takes
    // the lease and releases it in between.
    let release = frozen_at(
        &a,
        &store,
        "lease:etcd:release-expired:txn",
        &["release", "L", "--token", &first.token.0.to_string()],
    );
    let second = acquire(&b, &store, "host-b", "30s");
    release_with(&b, &store, &second);
    let (out, _) = resume(release);
    assert_eq!(out.status.code(), Some(6), "{out:?}");
    let now = status(&b, &store);
    assert_eq!(
        (now.state, now.token, now.holder.as_str()),
        (LeaseState::Released, second.token, "host-b"),
        "{now:?}"
    );
}

#[test]
fn an_acquire_whose_record_changed_after_its_read_issues_a_larger_token() {
    let etcd = Etcd::start();
    let store = etcd.store_url("race-acquire");
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("host-a"), tmp.path().join("host-b"));
    // Frozen with its token computed from the record as read: host-b acquires (a larger
    // token: the clock moved on) and releases in between.
    let frozen = frozen_at(
        &a,
        &store,
        "lease:etcd:acquire:txn",
        &[
            "--json", "acquire", "L", "--ttl", "30s", "--holder", "host-a",
        ],
    );
    let taken = acquire(&b, &store, "host-b", "30s");
    release_with(&b, &store, &taken);
    let (out, stops) = resume(frozen);
    assert!(out.status.success(), "{out:?}");
    let mine: Lease = support::json_doc(&out.stdout);
    assert!(
        mine.token > taken.token,
        "token {} issued after {}",
        mine.token.0,
        taken.token.0
    );
    assert_eq!(
        stops, 1,
        "the compare failed once and the acquire read again"
    );
    assert_eq!(status(&a, &store).token, mine.token);

    // And while host-b holds it at the transaction: busy, host-b's holding untouched.
    release_with(&a, &store, &mine);
    let frozen = frozen_at(
        &a,
        &store,
        "lease:etcd:acquire:txn",
        &["acquire", "L", "--ttl", "30s", "--holder", "host-a-again"],
    );
    let held = acquire(&b, &store, "host-b", "30s");
    let (out, _) = resume(frozen);
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let now = status(&b, &store);
    assert_eq!((now.token, now.holder.as_str()), (held.token, "host-b"));
}

fn lost(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<voxctl::Error>(),
        Some(voxctl::Error::Lost(_))
    )
}

fn delete_held(etcd: &Etcd, prefix: &str) {
    let body = format!(
        r#"{{"key":"{}"}}"#,
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{prefix}/held/L")
        )
    );
    let r = support::etcd::http(
        etcd.members[0].client_port,
        "POST",
        "/v3/kv/deleterange",
        &body,
    )
    .expect("delete the held key");
    assert!(r.contains("\"deleted\":\"1\""), "{r}");
}

#[test]
fn renewals_after_a_move_to_a_new_etcd_lease_and_a_stale_remembered_holding() {
    let etcd = Etcd::start();
    let spec: StoreSpec = etcd.store_url("inproc").parse().unwrap();
    let a = open_etcd(&spec, Default::default()).unwrap();
    let b = open_etcd(&spec, Default::default()).unwrap();
    let name: LeaseName = "L".parse().unwrap();
    let token = match a
        .try_acquire(&name, Duration::from_secs(30), "host-a")
        .unwrap()
    {
        voxctl::lease::Attempt::Acquired(l) => l.token,
        other => panic!("{other:?}"),
    };
    // Host-a remembers its holding of L under that token only: another token of L, or that
    // token for another lease name, is looked up in etcd and refused.
    let other: LeaseName = "M".parse().unwrap();
    for (n, t) in [(&name, Token(token.0 + 1)), (&other, token)] {
        // Release first: with the holding of L taken for M, a release of M would revoke L's
        // etcd lease and say it released M.
        let e = a.release(n, t).unwrap_err();
        assert!(
            lost(&e) && format!("{e:#}").contains("never issued"),
            "{e:#}"
        );
        let e = a.renew(n, t, None).unwrap_err();
        assert!(
            lost(&e) && format!("{e:#}").contains("never issued"),
            "{e:#}"
        );
    }
    // A move to a new etcd lease, then renewals of the moved holding, then another move.
    assert_eq!(
        a.renew(&name, token, Some(Duration::from_secs(5)))
            .unwrap()
            .ttl_ms,
        5000
    );
    for _ in 0..2 {
        let l = a.renew(&name, token, None).unwrap();
        assert_eq!((l.token, l.ttl_ms), (token, 5000));
    }
    assert_eq!(
        a.renew(&name, token, Some(Duration::from_secs(7)))
            .unwrap()
            .ttl_ms,
        7000
    );
    a.renew(&name, token, None).unwrap();

    // The held key is deleted behind host-a's back (its etcd lease still alive) and host-b
    // takes the lease: host-a remembers its holding, and is refused all the same.
    delete_held(&etcd, "inproc");
    let theirs = match b
        .try_acquire(&name, Duration::from_secs(30), "host-b")
        .unwrap()
    {
        voxctl::lease::Attempt::Acquired(l) => l.token,
        other => panic!("{other:?}"),
    };
    // A renewal with a new TTL (a move to a new etcd lease) first: it starts from the
    // remembered holding, and only the failed transaction tells it the key is not ours.
    let e = a
        .renew(&name, token, Some(Duration::from_secs(9)))
        .unwrap_err();
    assert!(lost(&e), "{e:#}");
    let e = a.renew(&name, token, None).unwrap_err();
    assert!(lost(&e), "{e:#}");
    let e = a.release(&name, token).unwrap_err();
    assert!(lost(&e), "{e:#}");
    let now = b.status(&name).unwrap().unwrap();
    assert_eq!((now.state, now.token), (LeaseState::Held, theirs));
    b.renew(&name, theirs, None).unwrap();
}

#[test]
fn a_held_key_deleted_under_lease_run_is_exit_6_and_the_command_is_stopped() {
    let etcd = Etcd::start();
    let store = etcd.store_url("run-del");
    let tmp = tempfile::tempdir().unwrap();
    let started = tmp.path().join("started");
    let mut cmd = vox(tmp.path(), &store);
    cmd.args(["lease", "run", "L", "--ttl", "3s", "--"])
        .args(["sh", "-c", r#"echo $$ > "$1"; exec sleep 120"#, "sh"])
        .arg(&started)
        .stderr(Stdio::piped());
    let mut run = Spawned::spawn(cmd);
    let pid: i32 = wait_for_line(&started, Duration::from_secs(30))
        .trim()
        .parse()
        .unwrap();
    let deleted = Instant::now();
    delete_held(&etcd, "run-del");
    let status = run.wait_timeout(Duration::from_secs(30));
    if status.is_none() {
        // Leave no command behind when voxctl failed to stop it.
        signal(pid, Signal::SIGKILL);
    }
    let status = status.expect("lease run stops once its key is gone");
    assert_eq!(status.code(), Some(6), "{status:?}");
    // Noticed at the next renewal, well within the TTL.
    assert!(
        deleted.elapsed() < Duration::from_secs(10),
        "{:?}",
        deleted.elapsed()
    );
    assert!(!support::lease::exists(pid), "the command was stopped");
    let mut err = String::new();
    use std::io::Read;
    run.0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.contains("L"), "{err}");
}
