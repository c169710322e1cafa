//! `voxctl lease` end to end: mutual exclusion under a hammer of real processes,
//! takeover after SIGKILL and SIGSTOP, `--wait` timing, wall-clock jumps (with the debug-build
//! clock hook), signal forwarding, exit codes and usage errors.

use crate::support;

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use support::lease::{
    exists, field, kill_group, signal, stop_outside_locks, wait_for_line, Spawned,
};
use support::{voxctl, voxctl_std};
use voxctl::lease::{Free, FreeLease, Lease, LeaseInfo, LeaseList, LeaseState, LeaseStatus, Token};
use voxctl::status::Status;

fn token_of(out: &std::process::Output) -> u64 {
    let s = String::from_utf8_lossy(&out.stdout);
    s.trim().parse().unwrap_or_else(|_| {
        panic!(
            "not a token: {s:?}, stderr {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn acquire(state: &Path, args: &[&str]) -> std::process::Output {
    voxctl(state)
        .args(["lease", "acquire"])
        .args(args)
        .output()
        .unwrap()
}

/// `lease status --json`, decoded.
fn status_doc(state: &Path, name: &str, env: &[(&str, &str)]) -> LeaseStatus {
    let out = voxctl(state)
        .args(["--json", "lease", "status", name])
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    support::json_doc(&out.stdout)
}

/// `lease status --json` of a lease that has a record.
fn status_json(state: &Path, name: &str, env: &[(&str, &str)]) -> LeaseInfo {
    match status_doc(state, name, env) {
        LeaseStatus::Recorded(info) => info,
        free => panic!("{name} has no record: {free:?}"),
    }
}

/// 16 processes x 100 `lease run`; the counter ends at 1600, no two critical
/// sections overlap, and tokens grow in acquisition order.
#[test]
fn hammer_16_processes_100_runs_each() {
    const WORKERS: usize = 16;
    const RUNS: usize = 100;
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let work = tmp.path().join("work");
    std::fs::create_dir(&work).unwrap();
    std::fs::write(work.join("counter"), "0\n").unwrap();
    // bash builtins only, apart from one `sleep`: $EPOCHREALTIME is the wall clock in µs.
    let script = r#"s=$EPOCHREALTIME; read c < "$W/counter"; sleep 0.002;
        echo $((c+1)) > "$W/counter"; e=$EPOCHREALTIME;
        echo "$s $e $VOXCTL_LEASE_TOKEN" >> "$W/log""#;
    let threads: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (state, work) = (state.clone(), work.clone());
            std::thread::spawn(move || {
                for _ in 0..RUNS {
                    let st = voxctl_std(&state)
                        .args(["lease", "run", "L", "--ttl", "10s", "--wait", "120s"])
                        .args(["--", "bash", "-c", script])
                        .env("W", &work)
                        .env("LC_ALL", "C")
                        .status()
                        .unwrap();
                    assert!(st.success(), "lease run failed: {st:?}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let counter = std::fs::read_to_string(work.join("counter")).unwrap();
    assert_eq!(counter.trim(), "1600");
    let log = std::fs::read_to_string(work.join("log")).unwrap();
    let us = |s: &str| -> u64 { s.replace(['.', ','], "").parse().unwrap() };
    let mut runs: Vec<(u64, u64, u64)> = log
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (us(f[0]), us(f[1]), f[2].parse().unwrap())
        })
        .collect();
    assert_eq!(runs.len(), WORKERS * RUNS);
    runs.sort();
    for w in runs.windows(2) {
        let ((_, end, tok), (start, _, next_tok)) = (w[0], w[1]);
        assert!(
            start >= end,
            "critical sections overlap: {:?} and {:?}",
            w[0],
            w[1]
        );
        assert!(
            next_tok > tok,
            "tokens out of order: {:?} then {:?}",
            w[0],
            w[1]
        );
    }
}

/// SIGKILL the voxctl of a `lease run` and its command: the lease is abandoned (the
/// liveness flock is gone), another process takes over at once with a larger
/// token, and the dead holder's token is refused by renew and release (exit 6).
#[test]
fn sigkilled_holder_is_taken_over_after_ttl() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let info = tmp.path().join("child");
    let mut cmd = voxctl_std(&state);
    cmd.args(["lease", "run", "L", "--ttl", "1s", "--"])
        .args([
            "sh",
            "-c",
            r#"echo "$$ $VOXCTL_LEASE_TOKEN" > "$1"; exec sleep 60"#,
            "sh",
        ])
        .arg(&info);
    let mut holder = Spawned::spawn(cmd);
    let line = wait_for_line(&info, Duration::from_secs(60));
    let (child, old): (i32, u64) = (field(&line, 0), field(&line, 1));
    signal(holder.pid(), Signal::SIGKILL);
    holder.wait_timeout(Duration::from_secs(60)).unwrap();
    kill_group(child); // the orphaned command (its own group) holds the liveness lock

    // Success within the (generous) --wait is the event: voxctl and its command are gone, so
    // the lease is abandoned (no need to wait out the TTL).
    let out = acquire(&state, &["L", "--wait", "60s"]);
    assert!(out.status.success(), "{out:?}");
    let new = token_of(&out);
    assert!(new > old, "{new} > {old}");
    for op in ["renew", "release"] {
        let out = voxctl(&state)
            .args(["lease", op, "L", "--token", &old.to_string()])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(6), "{op}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("stale"),
            "{out:?}"
        );
    }
    let st = status_json(&state, "L", &[]);
    assert_eq!(st.token.0, new);
    assert_eq!(st.state, LeaseState::Held);
}

/// SIGSTOP a `lease run` past its TTL, let another process take over, SIGCONT: the stopped
/// one's command is terminated and it exits 6; the new holder is undisturbed.
#[test]
fn sigstopped_holder_loses_lease_and_kills_its_command() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let a_info = tmp.path().join("a");
    let a_term = tmp.path().join("a.term");
    let mut cmd = voxctl_std(&state);
    cmd.args([
        "lease",
        "run",
        "L",
        "--ttl",
        "1s",
        "--kill-grace",
        "5s",
        "--",
    ])
    .args([
        "sh",
        "-c",
        r#"trap 'echo term > "$2"; exit 0' TERM; echo "$$ $VOXCTL_LEASE_TOKEN" > "$1";
               while :; do sleep 0.05; done"#,
        "sh",
    ])
    .arg(&a_info)
    .arg(&a_term);
    let mut a = Spawned::spawn(cmd);
    let line = wait_for_line(&a_info, Duration::from_secs(60));
    let (a_child, a_token): (i32, u64) = (field(&line, 0), field(&line, 1));
    stop_outside_locks(a.pid());

    let b_info = tmp.path().join("b");
    let b_done = tmp.path().join("b.done");
    let mut cmd = voxctl_std(&state);
    cmd.args(["lease", "run", "L", "--ttl", "10s", "--wait", "60s", "--"])
        .args([
            "sh",
            "-c",
            r#"echo "$VOXCTL_LEASE_TOKEN" > "$1"; sleep 2; echo done > "$2""#,
            "sh",
        ])
        .arg(&b_info)
        .arg(&b_done);
    let mut b = Spawned::spawn(cmd);
    let b_token: u64 = field(&wait_for_line(&b_info, Duration::from_secs(60)), 0);
    assert!(b_token > a_token);
    signal(a.pid(), Signal::SIGCONT);

    let a_status = a.wait_timeout(Duration::from_secs(60)).expect("A exits");
    assert_eq!(a_status.code(), Some(6), "the stopped holder exits 6");
    assert!(a_term.exists(), "A's command got SIGTERM");
    assert!(!exists(a_child), "A's command is gone");
    kill_group(a_child);
    let b_status = b.wait_timeout(Duration::from_secs(60)).expect("B exits");
    assert!(b_status.success(), "B undisturbed: {b_status:?}");
    assert!(b_done.exists(), "B's command ran to its end");
    let st = status_json(&state, "L", &[]);
    assert_eq!((st.token.0, st.state), (b_token, LeaseState::Released));
}

/// Held lease: no --wait -> exit 4 without waiting for the lease; --wait 1s -> exit 4 after
/// at least a second (and long before the lease expires); released meanwhile -> acquired.
/// The upper bounds only tell "gave up" from "waited for the 10-minute lease", so a loaded
/// machine cannot fail them.
#[test]
fn wait_timing() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let first = token_of(&acquire(&state, &["L", "--ttl", "10m"]));

    let t = Instant::now();
    let out = acquire(&state, &["L"]);
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
    assert!(String::from_utf8_lossy(&out.stderr).contains(&first.to_string()));

    let t = Instant::now();
    let out = acquire(&state, &["L", "--wait", "1s"]);
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(1000), "{took:?}");
    assert!(took < Duration::from_secs(60), "{took:?}");

    let mut cmd = voxctl_std(&state);
    cmd.args(["lease", "acquire", "L", "--wait", "2m"])
        .stdout(std::process::Stdio::piped());
    let mut waiter = Spawned::spawn(cmd);
    // Released while the waiter waits (or before it looks: then it finds the lease free;
    // both must end with it acquired).
    voxctl(&state)
        .args(["lease", "release", "L", "--token", &first.to_string()])
        .assert()
        .success();
    let status = waiter
        .wait_timeout(Duration::from_secs(150))
        .expect("waiter exits");
    assert!(status.success(), "{status:?}");
    let mut out = String::new();
    std::io::Read::read_to_string(waiter.0.stdout.as_mut().unwrap(), &mut out).unwrap();
    assert!(out.trim().parse::<u64>().unwrap() > first);
}

/// A wall-clock jump neither expires nor extends a lease, and tokens keep growing when the
/// clock is set back. Uses the debug-build hook `VOXCTL_TEST_WALL_SHIFT_MS` (expiry reads
/// CLOCK_BOOTTIME, which the hook cannot touch; the hook shifts what voxctl reads as the
/// wall clock).
// Compiled in debug builds only: the clock hook is honoured only there (never in a release
// binary), and `cargo nextest run` builds the binary in the same profile as this test.
#[cfg(debug_assertions)]
#[test]
fn wall_clock_jumps_neither_expire_nor_extend() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let fwd = [("VOXCTL_TEST_WALL_SHIFT_MS", "3600000")];
    let back = [("VOXCTL_TEST_WALL_SHIFT_MS", "-3600000")];
    // A TTL long enough for the four runs below on a loaded machine.
    // Taken before the acquire, so the real TTL has surely run when the lease expires.
    let t_acquired = Instant::now();
    let t1 = token_of(&acquire(&state, &["L", "--ttl", "10s"]));

    // An hour forward: still held, no more than 10 s left; an hour back: not extended.
    for env in [&fwd, &back] {
        let out = voxctl(&state)
            .args(["lease", "acquire", "L"])
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(4), "{env:?}: {out:?}");
        let st = status_json(&state, "L", env);
        assert_eq!(st.state, LeaseState::Held, "{env:?}");
        assert!(st.left_ms <= 10_000, "{env:?}: {st:?}");
    }
    // Expiry comes after the real 10 s, whatever the wall clock says.
    let mut st = status_json(&state, "L", &back);
    while st.state == LeaseState::Held {
        assert!(
            t_acquired.elapsed() < Duration::from_secs(120),
            "never expired: {st:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
        st = status_json(&state, "L", &back);
    }
    // (10 ms below the TTL: the record keeps milliseconds.)
    assert!(t_acquired.elapsed() >= Duration::from_millis(9990));
    assert_eq!(st.state, LeaseState::Expired);

    // Tokens: the clock set back an hour still yields a larger token.
    let out = voxctl(&state)
        .args(["lease", "acquire", "L", "--ttl", "1ms"])
        .envs(back.iter().copied())
        .output()
        .unwrap();
    let t2 = token_of(&out);
    assert!(t2 > t1, "{t2} > {t1}");
    std::thread::sleep(Duration::from_millis(5));
    let t3 = token_of(&acquire(&state, &["L", "--ttl", "1ms"]));
    assert!(t3 > t2, "{t3} > {t2}");
    // The state dir is lost: a fresh token still exceeds every earlier one.
    std::fs::remove_dir_all(state.join("leases")).unwrap();
    let t4 = token_of(&acquire(&state, &["L"]));
    assert!(t4 > t3, "{t4} > {t3}");
}

/// A lease of a previous boot is expired (boot id faked with the debug-build hook).
// Compiled in debug builds only: the boot id hook is honoured only there (never in a release
// binary), and `cargo nextest run` builds the binary in the same profile as this test.
#[cfg(debug_assertions)]
#[test]
fn lease_of_previous_boot_is_expired() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let old = token_of(&acquire(&state, &["L", "--ttl", "1h"]));
    assert_eq!(acquire(&state, &["L"]).status.code(), Some(4));
    let out = voxctl(&state)
        .args(["lease", "acquire", "L"])
        .env("VOXCTL_TEST_BOOT_ID", "another-boot")
        .output()
        .unwrap();
    assert!(token_of(&out) > old);
}

#[test]
fn run_forwards_signals_and_mirrors_exit_status() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let out = voxctl(&state)
        .args(["lease", "run", "job.1", "--", "sh", "-c"])
        .arg(r#"echo "$VOXCTL_LEASE_NAME $VOXCTL_LEASE_TOKEN"; exit 3"#)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let line = String::from_utf8_lossy(&out.stdout);
    assert_eq!(field::<String>(&line, 0), "job.1");
    let token: u64 = field(&line, 1);
    let st = status_json(&state, "job.1", &[]);
    assert_eq!((st.token.0, st.state), (token, LeaseState::Released));

    let out = voxctl(&state)
        .args(["lease", "run", "L", "--", "sh", "-c", "kill -9 $$"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(137));
    let out = voxctl(&state)
        .args(["lease", "run", "L", "--", "/nonexistent/cmd"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127));
    assert_eq!(status_json(&state, "L", &[]).state, LeaseState::Released);

    for (sig, code) in [(Signal::SIGTERM, 42), (Signal::SIGINT, 43)] {
        let ready = tmp.path().join(format!("ready-{code}"));
        let mut cmd = voxctl_std(&state);
        cmd.args(["lease", "run", "L", "--", "sh", "-c"])
            .arg(format!(
                r#"trap 'exit {code}' {}; echo up > "$1"; while :; do sleep 0.05; done"#,
                sig.as_str().trim_start_matches("SIG")
            ))
            .arg("sh")
            .arg(&ready);
        let mut run = Spawned::spawn(cmd);
        wait_for_line(&ready, Duration::from_secs(60));
        signal(run.pid(), sig);
        let status = run.wait_timeout(Duration::from_secs(60)).expect("exits");
        assert_eq!(status.code(), Some(code), "{sig}: the command's status");
        assert_eq!(
            status_json(&state, "L", &[]).state,
            LeaseState::Released,
            "{sig}"
        );
    }
}

/// `lease run` renews every TTL/3: the lease stays held well past its TTL. The command runs
/// until the test says so (not for a fixed time a loaded machine could use up first).
#[test]
fn run_renews_while_the_command_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let ready = tmp.path().join("ready");
    let go = tmp.path().join("go");
    let mut cmd = voxctl_std(&state);
    cmd.args(["lease", "run", "L", "--ttl", "2s", "--", "sh", "-c"])
        .arg(r#"echo up > "$1"; while [ ! -e "$2" ]; do sleep 0.05; done"#)
        .arg("sh")
        .arg(&ready)
        .arg(&go);
    let mut run = Spawned::spawn(cmd);
    wait_for_line(&ready, Duration::from_secs(60));
    let st = status_json(&state, "L", &[]);
    let token = st.token;
    // Time must pass here: over two TTLs, so only renewals can have kept the lease.
    std::thread::sleep(Duration::from_millis(4500));
    let out = acquire(&state, &["L"]);
    assert_eq!(out.status.code(), Some(4), "renewed past its TTL: {out:?}");
    let st = status_json(&state, "L", &[]);
    assert_eq!(st.state, LeaseState::Held, "{st:?}");
    assert_eq!(st.token, token, "the same holder: {st:?}");
    std::fs::write(&go, "").unwrap();
    assert!(run.wait_timeout(Duration::from_secs(60)).unwrap().success());
}

#[test]
fn usage_errors_and_stale_tokens() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let table: &[(&[&str], &str)] = &[
        (&["acquire", "a/b"], "invalid lease name"),
        (&["acquire", ".hidden"], "invalid lease name"),
        (&["acquire", "L", "--ttl", "0"], "must be positive"),
        (&["acquire", "L", "--ttl=-5s"], "must be positive"),
        (&["acquire", "L", "--ttl", "soon"], "invalid duration"),
        (&["acquire", "L", "--wait", "forever"], "invalid duration"),
        (&["renew", "L", "--token", "abc"], "malformed token"),
        (&["release", "L", "--token", "-3"], ""),
        (&["release", "L", "--token", "0"], "malformed token"),
        (
            &["run", "L", "--kill-grace", "0s", "--", "true"],
            "must be positive",
        ),
        (&["run", "L"], ""),
    ];
    for (args, msg) in table {
        let out = voxctl(&state).arg("lease").args(*args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(msg),
            "{args:?}: {out:?}"
        );
    }
    let t = token_of(&acquire(&state, &["L"]));
    for op in ["renew", "release"] {
        let out = voxctl(&state)
            .args(["lease", op, "L", "--token", &(t + 1).to_string()])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(6), "{op}: {out:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("never issued"));
    }
    let out = voxctl(&state)
        .args(["lease", "renew", "Other", "--token", "5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
    assert_eq!(
        status_doc(&state, "Other", &[]),
        LeaseStatus::Free(FreeLease {
            name: "Other".into(),
            state: Free::Free
        })
    );
}

#[test]
fn acquire_json_list_and_status_show_leases() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let out = voxctl(&state)
        .args([
            "--json", "lease", "acquire", "upload", "--holder", "ci job 7",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let doc: Lease = support::json_doc(&out.stdout);
    assert_eq!(doc.name, "upload");
    assert_eq!(doc.holder, "ci job 7");
    assert!(doc.token > Token(0));
    assert!(doc.expires_at.ends_with('Z'), "{doc:?}");
    let out = voxctl(&state)
        .args(["--json", "lease", "list"])
        .output()
        .unwrap();
    let list: LeaseList = support::json_doc(&out.stdout);
    assert_eq!(list.leases[0].holder, "ci job 7");
    let out = voxctl(&state).args(["--json", "status"]).output().unwrap();
    let status: Status = support::json_doc(&out.stdout);
    assert_eq!(
        (status.leases[0].name.as_str(), status.leases[0].state),
        ("upload", LeaseState::Held)
    );
    let out = voxctl(&state).arg("status").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("leases:") && text.contains("ci job 7"),
        "{text}"
    );
}

/// The command must not inherit voxctl's lock files or signal pipe.
// Linux only: the command lists its descriptors through /proc/PID/fd.
#[cfg(target_os = "linux")]
#[test]
fn command_inherits_no_voxctl_descriptors() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let out = Command::new(support::bin())
        .env("VOXCTL_STATE_DIR", &state)
        .args(["lease", "run", "L", "--", "sh", "-c", "ls -l /proc/$$/fd"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains(".lock") && !text.contains("socket:"),
        "{text}"
    );
}

/// A lost lease with a command that ignores SIGTERM: SIGKILL follows after --kill-grace.
/// The loss is forced without SIGSTOP: a contender in a faked other boot (debug-build hook)
/// sees the record as a previous boot's and takes it over.
// Compiled in debug builds only: the boot id hook is honoured only there (never in a release
// binary), and `cargo nextest run` builds the binary in the same profile as this test.
#[cfg(debug_assertions)]
#[test]
fn lost_lease_sigkills_a_command_that_ignores_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let info = tmp.path().join("a");
    let mut cmd = voxctl_std(&state);
    cmd.args([
        "lease",
        "run",
        "L",
        "--ttl",
        "600ms",
        "--kill-grace",
        "700ms",
        "--",
    ])
    .args([
        "sh",
        "-c",
        r#"trap '' TERM; echo "$$" > "$1"; exec sleep 60"#,
        "sh",
    ])
    .arg(&info);
    let mut a = Spawned::spawn(cmd);
    let child: i32 = field(&wait_for_line(&info, Duration::from_secs(60)), 0);
    let out = voxctl(&state)
        .args(["lease", "acquire", "L", "--ttl", "1h"])
        .env("VOXCTL_TEST_BOOT_ID", "another-boot")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let taken = Instant::now();
    let status = a.wait_timeout(Duration::from_secs(120)).expect("A exits");
    let took = taken.elapsed();
    let alive = exists(child);
    kill_group(child);
    assert!(!alive, "the command was killed");
    assert_eq!(status.code(), Some(6), "{status:?}");
    assert!(
        took >= Duration::from_millis(700),
        "SIGKILL only after the grace: {took:?}"
    );
}

/// A process stuck inside the store's critical section (here `flock(1)` holding
/// `leases/L.lock`, as a SIGSTOPped voxctl would) makes other operations fail as busy after
/// the store-lock patience (10 s), naming its pid, instead of hanging; once it is gone the
/// lease works again at once.
#[test]
fn a_stuck_store_lock_holder_makes_operations_busy_instead_of_hanging() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let first = acquire(&state, &["L", "--ttl", "1s"]);
    assert!(first.status.success(), "{first:?}");
    let first = token_of(&first);

    let lock = state.join("leases/L.lock");
    // -o: the lock's descriptor is not passed to `sleep`, so killing flock(1) releases it.
    let mut holder = Command::new("flock")
        .args(["-x", "-o"])
        .arg(&lock)
        .args(["sleep", "600"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .expect("flock(1) from util-linux");
    let pid = holder.id().to_string();
    let held = || {
        std::fs::read_to_string("/proc/locks")
            .unwrap()
            .lines()
            .any(|l| l.split_whitespace().nth(4) == Some(pid.as_str()))
    };
    let t = Instant::now();
    while !held() {
        assert!(t.elapsed() < Duration::from_secs(60), "flock never locked");
        std::thread::sleep(Duration::from_millis(5));
    }

    let t = Instant::now();
    let out = acquire(&state, &["L", "--ttl", "5s"]);
    let took = t.elapsed();
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("lease store lock"), "{err}");
    assert!(err.contains(&format!("pid {pid}")), "{err}");
    assert!(err.contains("kill -CONT"), "{err}");
    // At least the patience; the upper bound only tells "gave up" from "hung until flock(1)
    // went away" (its sleep is 600 s), generous for a loaded machine.
    assert!(
        took >= Duration::from_secs(10) && took < Duration::from_secs(120),
        "{took:?}"
    );

    kill_group(holder.id() as i32);
    holder.wait().unwrap();
    // Success is the event: a lock still stuck would end in exit 4 after the patience.
    let out = acquire(&state, &["L", "--ttl", "5s"]);
    assert!(out.status.success(), "{out:?}");
    assert!(token_of(&out) > first);
}

/// `lease run` forwards SIGHUP (the terminal hanging up) to its command,
/// keeps running until the command exits, exits with the command's status and releases.
#[test]
fn run_forwards_sighup_to_its_command() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let ready = tmp.path().join("ready");
    let mut cmd = voxctl_std(&state);
    cmd.args(["lease", "run", "L", "--", "sh", "-c"])
        .arg(r#"trap 'exit 44' HUP; echo up > "$1"; while :; do sleep 0.05; done"#)
        .arg("sh")
        .arg(&ready);
    let mut run = Spawned::spawn(cmd);
    wait_for_line(&ready, Duration::from_secs(20));
    signal(run.pid(), Signal::SIGHUP);
    let status = run.wait_timeout(Duration::from_secs(20)).expect("exits");
    assert_eq!(status.code(), Some(44), "the command's status: {status:?}");
    assert_eq!(status_json(&state, "L", &[]).state, LeaseState::Released);
}

/// A lease taken over while the command runs, with no renewal in between
/// to notice (a TTL of an hour renews every 20 minutes), is found lost when `lease run`
/// releases it: exit 6 (not the command's 0), and the new holder's lease is untouched. The
/// takeover comes from a contender in a faked other boot (debug-build hook
/// `VOXCTL_TEST_BOOT_ID`), which sees the record as a previous boot's.
#[cfg(debug_assertions)]
#[test]
fn run_exits_6_when_the_lease_was_taken_over_before_it_could_release() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let ready = tmp.path().join("ready");
    let go = tmp.path().join("go");
    let mut cmd = voxctl_std(&state);
    cmd.args(["lease", "run", "L", "--ttl", "1h", "--", "sh", "-c"])
        .arg(r#"echo "$VOXCTL_LEASE_TOKEN" > "$1"; while [ ! -e "$2" ]; do sleep 0.02; done"#)
        .arg("sh")
        .arg(&ready)
        .arg(&go)
        .stderr(std::process::Stdio::piped());
    let mut run = Spawned::spawn(cmd);
    let first: u64 = field(&wait_for_line(&ready, Duration::from_secs(20)), 0);
    let out = voxctl(&state)
        .args(["lease", "acquire", "L", "--ttl", "1h"])
        .env("VOXCTL_TEST_BOOT_ID", "another-boot")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let taker = token_of(&out);
    assert!(taker > first);
    std::fs::write(&go, "").unwrap();
    let status = run.wait_timeout(Duration::from_secs(20)).expect("exits");
    let mut stderr = String::new();
    std::io::Read::read_to_string(run.0.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(6), "{stderr}");
    assert!(stderr.contains("taken over"), "{stderr}");
    let st = status_json(&state, "L", &[("VOXCTL_TEST_BOOT_ID", "another-boot")]);
    assert_eq!((st.token.0, st.state), (taker, LeaseState::Held), "{st:?}");
}

/// The library entry points as an app would call them: typed outcomes, its own cancel handle.
mod library {
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    use voxctl::cancel::Cancel;
    use voxctl::lease::file::FileStore;
    use voxctl::lease::run::{self, Event, NotStarted, Outcome, Request};
    use voxctl::lease::{self, Acquire, Attempt, Lease, LeaseInfo, LeaseName, LeaseStore, Token};
    use voxctl::slot::Wait;
    use voxctl::Error;

    fn wanted(name: &str, wait: Wait) -> Acquire {
        let mut acquire = Acquire::new(
            name.parse().unwrap(),
            Duration::from_secs(60),
            "library test",
        );
        acquire.wait = wait;
        acquire
    }

    /// The file store, telling the test each time a waiter looks at the lease again (which
    /// [`lease::acquire`] does only while it waits).
    struct Telling {
        inner: FileStore,
        looked: std::sync::Mutex<mpsc::Sender<()>>,
    }

    impl LeaseStore for Telling {
        fn try_acquire(
            &self,
            name: &LeaseName,
            ttl: Duration,
            holder: &str,
        ) -> anyhow::Result<Attempt> {
            self.inner.try_acquire(name, ttl, holder)
        }
        fn renew(
            &self,
            name: &LeaseName,
            token: Token,
            ttl: Option<Duration>,
        ) -> anyhow::Result<Lease> {
            self.inner.renew(name, token, ttl)
        }
        fn release(&self, name: &LeaseName, token: Token) -> anyhow::Result<()> {
            self.inner.release(name, token)
        }
        fn status(&self, name: &LeaseName) -> anyhow::Result<Option<LeaseInfo>> {
            let _ = self.looked.lock().unwrap().send(());
            self.inner.status(name)
        }
        fn list(&self) -> anyhow::Result<Vec<LeaseInfo>> {
            self.inner.list()
        }
    }

    #[test]
    fn a_cancel_from_another_thread_ends_a_wait_for_a_held_lease() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::in_dir(dir.path());
        let held = lease::acquire(&store, &wanted("w", Wait::Never)).unwrap();
        // No limit: only the cancel can end it.
        let waiter = wanted("w", Wait::Forever);
        let cancel = waiter.cancel.clone();
        let (tx, looked) = mpsc::channel();
        let path = dir.path().to_path_buf();
        let thread = std::thread::spawn(move || {
            let store = Telling {
                inner: FileStore::in_dir(path),
                looked: std::sync::Mutex::new(tx),
            };
            lease::acquire(&store, &waiter)
        });
        looked.recv().unwrap();
        cancel.cancel();
        let err = thread.join().unwrap().unwrap_err();
        assert!(
            matches!(Error::find(&err), Some(Error::Interrupted)),
            "{err:#}"
        );
        let info = store.status(&"w".parse().unwrap()).unwrap().unwrap();
        assert_eq!(info.token, held.token, "the holder keeps the lease");
    }

    #[test]
    fn run_reports_typed_outcomes_and_releases_the_lease() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::in_dir(dir.path());
        let request = |command: &[&str]| Request {
            acquire: wanted("r", Wait::Never),
            kill_grace: Duration::from_secs(5),
            command: command.iter().map(Into::into).collect(),
            stdout: run::CommandStdout::Inherit,
        };
        let (tx, rx) = mpsc::channel();
        let tx = std::sync::Mutex::new(tx);
        let on_event = |e: &Event| tx.lock().unwrap().send(e.clone()).unwrap();
        let quiet = run::CancelInterrupts::new(Cancel::new());
        let r = request(&["sh", "-c", "exit 3"]);
        let outcome = voxctl::lease::run_command(&store, &r, &quiet, &on_event).unwrap();
        assert!(
            matches!(&outcome, Outcome::Exited(s) if s.code() == Some(3)),
            "{outcome:?}"
        );
        let Event::Acquired { lease } = rx.try_recv().unwrap() else {
            panic!("the first event is the acquire")
        };
        assert_eq!(lease.name, "r");
        let missing = ["/nonexistent/voxctl-test-program"];
        let outcome =
            voxctl::lease::run_command(&store, &request(&missing), &quiet, &on_event).unwrap();
        assert!(
            matches!(&outcome, Outcome::NotStarted(NotStarted::NotFound, _)),
            "{outcome:?}"
        );
        let info = store.status(&"r".parse().unwrap()).unwrap().unwrap();
        assert_eq!(info.state, voxctl::lease::LeaseState::Released, "{info:?}");
    }

    /// An app without signal handlers stops a running command through the request's cancel
    /// handle: the command gets SIGTERM (it traps it and exits 7), nothing else is signalled,
    /// and the lease is released. The library installs no handler of its own: a SIGTERM to
    /// this test process during the run would end it.
    #[test]
    fn a_cancel_terminates_the_command_of_an_app_without_signal_handlers() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::in_dir(dir.path());
        let started = dir.path().join("started");
        let script = format!(
            // Gives up after about 10 s with exit 9, so a broken cancel fails rather than hangs.
            "trap 'exit 7' TERM; touch {}; i=0; while [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; exit 9",
            started.display()
        );
        let request = Request {
            acquire: wanted("c", Wait::Never),
            kill_grace: Duration::from_secs(30),
            command: vec!["sh".into(), "-c".into(), script.into()],
            stdout: run::CommandStdout::Inherit,
        };
        let cancel = request.acquire.cancel.clone();
        let interrupts = run::CancelInterrupts::new(cancel.clone());
        let canceller = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(20);
            while !started.exists() {
                assert!(Instant::now() < deadline, "the command never started");
                std::thread::sleep(Duration::from_millis(10));
            }
            cancel.cancel();
        });
        let began = Instant::now();
        let outcome = voxctl::lease::run_command(&store, &request, &interrupts, &|_| {}).unwrap();
        canceller.join().unwrap();
        assert!(
            matches!(&outcome, Outcome::Exited(s) if s.code() == Some(7)),
            "the command should exit by its TERM trap: {outcome:?}"
        );
        assert!(
            began.elapsed() < Duration::from_secs(10),
            "{:?}",
            began.elapsed()
        );
        let info = store.status(&"c".parse().unwrap()).unwrap().unwrap();
        assert_eq!(info.state, voxctl::lease::LeaseState::Released, "{info:?}");
    }
}
