//! Command-line conventions every subcommand shares (issue 2 §1): exit codes in `--help`,
//! usage errors exit 2, errors print as `voxctl: error: ...` with a `hint:`, and the state dir
//! is refused when it is not private.

mod support;

use std::os::unix::fs::PermissionsExt;

use predicates::prelude::*;

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
    support::voxctl(tmp.path())
        .args(["status", "-q", "-vv", "--json", "--yes", "--state-dir"])
        .arg(&state)
        .assert()
        .success()
        .stdout(predicate::str::contains("\"slots\""));
    // status only reads (issue 12 item 13): the state dir is created by a command that writes.
    assert!(!state.exists(), "status creates nothing");
    support::voxctl(tmp.path())
        .args(["lease", "acquire", "x", "-q", "--state-dir"])
        .arg(&state)
        .assert()
        .success();
    assert!(state.is_dir(), "--state-dir is used and created");
    support::voxctl(tmp.path())
        .args(["status", "--json", "--state-dir"])
        .arg(&state)
        .assert()
        .success()
        .stdout(predicate::str::contains("\"name\": \"x\""));
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
