//! Dead holders, as flock(1) users expect, but only where death is
//! certain. `lease run` holds an flock on a liveness file that its command inherits, so the
//! lease is abandoned once voxctl *and* its command are gone; `lease acquire --owner-pid`
//! opts a hand-managed lease in; every other lease keeps the TTL rule. Real processes and
//! real SIGKILLs.

use crate::support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use voxctl::lease::{Lease, LeaseState, LeaseStatus, Token};

fn acquire(state: &Path, args: &[&str]) -> std::process::Output {
    support::voxctl(state)
        .args(["--json", "lease", "acquire"])
        .args(args)
        .output()
        .unwrap()
}

fn token_of(out: &std::process::Output) -> Token {
    assert!(out.status.success(), "{out:?}");
    support::json_doc::<Lease>(&out.stdout).token
}

fn state_of(state: &Path, name: &str) -> LeaseState {
    let out = support::voxctl(state)
        .args(["--json", "lease", "status", name])
        .output()
        .unwrap();
    match support::json_doc(&out.stdout) {
        LeaseStatus::Recorded(info) => info.state,
        free => panic!("{name} has no record: {free:?}"),
    }
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    assert!(
        support::restart::wait_until(Duration::from_secs(30), &mut cond),
        "timed out waiting for {what}"
    );
}

fn kill(pid: i32) {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    );
}

#[test]
fn a_lease_run_whose_voxctl_and_command_are_gone_is_taken_over_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let info = tmp.path().join("info");
    let mut run = support::voxctl_std(&state)
        .args(["lease", "run", "job", "--ttl", "1h", "--", "sh", "-c"])
        .arg(format!(
            "echo $$ $VOXCTL_LEASE_TOKEN > {}.tmp && mv {0}.tmp {0} && exec sleep 1000",
            info.display()
        ))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the command to start", || info.exists());
    let text = std::fs::read_to_string(&info).unwrap();
    let mut words = text.split_whitespace();
    let child: i32 = words.next().unwrap().parse().unwrap();
    let token = Token(words.next().unwrap().parse().unwrap());

    assert_eq!(acquire(&state, &["job"]).status.code(), Some(4), "held");
    // voxctl dies, its command lives on with the inherited lock: still held.
    kill(run.id() as i32);
    run.wait().unwrap();
    assert_eq!(state_of(&state, "job"), LeaseState::Held);
    assert_eq!(acquire(&state, &["job"]).status.code(), Some(4));
    // The command dies too: abandoned, and taken over at once (the TTL is an hour).
    kill(child);
    wait_for("the lease to be abandoned", || {
        state_of(&state, "job") == LeaseState::Abandoned
    });
    let next = token_of(&acquire(&state, &["job"]));
    assert!(next > token, "{next} > {token}");
    assert_eq!(state_of(&state, "job"), LeaseState::Held);
}

#[test]
fn owner_pid_opts_in_and_every_other_lease_keeps_the_ttl_rule() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let mut owner = Command::new("sleep").arg("1000").spawn().unwrap();
    let pid = owner.id().to_string();
    let first = token_of(&acquire(
        &state,
        &["owned", "--ttl", "1h", "--owner-pid", &pid],
    ));
    assert_eq!(acquire(&state, &["owned"]).status.code(), Some(4));
    // A lease without an owner, acquired by a voxctl whose parent is already gone.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} --json lease acquire plain --ttl 1h & wait",
            support::bin().display()
        ))
        .env("VOXCTL_STATE_DIR", &state)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");

    owner.kill().unwrap();
    owner.wait().unwrap();
    assert_eq!(state_of(&state, "owned"), LeaseState::Abandoned);
    let next = token_of(&acquire(&state, &["owned"]));
    assert!(next > first);
    // The parent pid is not an owner: `plain` stays held until its TTL.
    assert_eq!(state_of(&state, "plain"), LeaseState::Held);
    assert_eq!(acquire(&state, &["plain"]).status.code(), Some(4));
    // --owner-pid must name a live process.
    let out = acquire(&state, &["other", "--owner-pid", "2147483000"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}
