//! Command-line conventions every subcommand shares: exit codes in `--help`,
//! usage errors exit 2, errors print as `voxctl: error: ...` with a `hint:`, and the state dir
//! is refused when it is not private.

use crate::support;

use std::os::unix::fs::PermissionsExt;

use predicates::prelude::*;
use voxctl::lease::{Lease, LeaseStatus};
use voxctl::status::Status;

#[test]
fn help_lists_the_exit_codes_and_version_works() {
    let tmp = tempfile::tempdir().unwrap();
    let out = support::voxctl(tmp.path()).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for line in [
        "Exit codes:",
        "0    success",
        "2    usage error",
        "3    integrity",
        "4    busy",
        "5    refused",
        "6    lost",
        "7    timed out",
        "130    interrupted",
    ] {
        assert!(help.contains(line), "--help lacks {line:?}:\n{help}");
    }
    support::voxctl(tmp.path())
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("voxctl "));
}

#[test]
fn usage_errors_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    support::voxctl(tmp.path()).assert().code(2);
    support::voxctl(tmp.path())
        .arg("no-such-command")
        .assert()
        .code(2);
    support::voxctl(tmp.path())
        .args(["status", "--no-such-flag"])
        .assert()
        .code(2);
}

#[test]
fn global_options_are_accepted_on_subcommands() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let out = support::voxctl(tmp.path())
        .args(["status", "-q", "-vv", "--json", "--yes", "--state-dir"])
        .arg(&state)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let status: Status = support::json_doc(&out.stdout);
    assert!(status.slots.is_empty() && status.leases.is_empty());
    // status only reads: the state dir is created by a command that writes.
    assert!(!state.exists(), "status creates nothing");
    support::voxctl(tmp.path())
        .args(["lease", "acquire", "x", "-q", "--state-dir"])
        .arg(&state)
        .assert()
        .success();
    assert!(state.is_dir(), "--state-dir is used and created");
    let out = support::voxctl(tmp.path())
        .args(["status", "--json", "--state-dir"])
        .arg(&state)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let status: Status = support::json_doc(&out.stdout);
    assert_eq!(status.leases.len(), 1, "{status:?}");
    assert_eq!(status.leases[0].name, "x");
}

#[test]
fn world_writable_state_dir_is_refused_with_a_hint() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o777)).unwrap();
    support::voxctl(&state)
        .arg("status")
        .assert()
        .code(5)
        .stderr(predicate::str::starts_with("voxctl: error: state dir "))
        .stderr(predicate::str::contains("group or world writable"))
        .stderr(predicate::str::contains("hint: chmod 700"));
}

/// Every option that takes a duration reads a bare number as seconds, as
/// `flock -w 10` and `timeout 10` do.
#[test]
fn durations_take_a_bare_number_as_seconds() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let run = |args: &[&str]| {
        let out = support::voxctl(&state)
            .env("VOXCTL_DATA_DIR", tmp.path().join("data"))
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !stderr.contains("invalid") && out.status.code() != Some(2),
            "{args:?} refused a bare number:\n{stderr}"
        );
        out
    };
    // The value is used as seconds: a TTL of 7 shows as 7000 ms.
    let out = run(&[
        "--json", "lease", "acquire", "job", "--ttl", "7", "--wait", "2.5",
    ]);
    assert!(out.status.success());
    assert_eq!(support::json_doc::<Lease>(&out.stdout).ttl_ms, 7000);
    let out = run(&["--json", "lease", "status", "job"]);
    match support::json_doc(&out.stdout) {
        LeaseStatus::Recorded(info) => assert_eq!(info.ttl_ms, 7000, "{info:?}"),
        free => panic!("no record: {free:?}"),
    }
    // --wait 1 on a held lease waits, then gives up busy (exit 4).
    let out = run(&["lease", "acquire", "job", "--wait", "1"]);
    assert_eq!(out.status.code(), Some(4));
    run(&["lease", "renew", "job", "--token", "1", "--ttl", "9"]);
    run(&[
        "lease",
        "run",
        "other",
        "--ttl",
        "5",
        "--kill-grace",
        "1",
        "--",
        "true",
    ]);
    let no_release = tmp.path().join("no-release");
    let no_release = no_release.to_str().unwrap();
    run(&[
        "fetch",
        "--retry-delay",
        "1",
        "--connect-timeout",
        "2",
        "--read-timeout",
        "3",
        "--source",
        no_release,
    ]);
    run(&[
        "restart",
        "--variant",
        "cpu",
        "--stop-timeout",
        "1",
        "--ready-timeout",
        "2",
    ]);
    run(&[
        "reap",
        "--dry-run",
        "--pidfile",
        "/nonexistent/pidfile",
        "--max-marker-age",
        "60",
        "--teardown-grace",
        "1",
        "--term-grace",
        "0.5",
    ]);
    for env in [
        "VOXCTL_RETRY_DELAY",
        "VOXCTL_CONNECT_TIMEOUT",
        "VOXCTL_READ_TIMEOUT",
    ] {
        let out = support::voxctl(&state)
            .env(env, "4")
            .args(["fetch", "--source", no_release])
            .output()
            .unwrap();
        assert_ne!(out.status.code(), Some(2), "{env}=4 is refused");
    }
}
