//! The slot table with real processes: 32 processes race for one slot and exactly
//! one wins while the others see "busy" naming the winner; a holder killed with SIGKILL frees
//! the slot at once; a panicking holder frees it; different slots do not block each other;
//! `voxctl status` lists exactly the held slots.
//!
//! The contending processes are this test binary re-executed with `VOXCTL_TEST_SLOT_ROLE` set,
//! running [`child_entry`], so each contender is a real, separate process using the library.

use crate::support;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use voxctl::cancel::Cancel;
use voxctl::slot::{Attempt, Holder, SlotTable, Wait};
use voxctl::status::Status;
use voxctl::Error;

const ROLE: &str = "VOXCTL_TEST_SLOT_ROLE";
const DIR: &str = "VOXCTL_TEST_SLOT_DIR";
const NAME: &str = "VOXCTL_TEST_SLOT_NAME";

/// A child role, run only when a test re-executes this binary with `--ignored` and the role
/// in the environment (never as a test of its own: ignored by a normal run).
#[test]
#[ignore = "a child process of the slot tests, which run it themselves"]
fn child_entry() {
    let role = std::env::var(ROLE).expect("run by the slot tests, with VOXCTL_TEST_SLOT_ROLE");
    let dir = std::env::var(DIR).unwrap();
    let name = std::env::var(NAME).unwrap();
    let table = SlotTable::in_dir(&dir);
    let mut out = std::io::stdout();
    match role.as_str() {
        "race" => {
            let go = Path::new(&dir).join("go");
            while !go.exists() {
                std::thread::sleep(Duration::from_millis(1));
            }
            match table.try_acquire(&name) {
                Ok(Attempt::Acquired(_guard)) => {
                    writeln!(out, "WON {}", std::process::id()).unwrap();
                    out.flush().unwrap();
                    wait_for_stdin_eof();
                }
                Ok(Attempt::Held(holder)) => writeln!(
                    out,
                    "BUSY {}",
                    holder.as_ref().map(Holder::describe).unwrap_or_default()
                )
                .unwrap(),
                Err(e) => writeln!(out, "ERROR {e:#}").unwrap(),
            }
        }
        "hold" => {
            let _guard = table.try_acquire(&name).unwrap().guard().unwrap();
            writeln!(out, "HELD").unwrap();
            out.flush().unwrap();
            wait_for_stdin_eof();
        }
        "panic" => {
            let result = std::panic::catch_unwind(|| {
                let _guard = table.try_acquire(&name).unwrap().guard().unwrap();
                panic!("holder panics while holding the slot");
            });
            assert!(result.is_err());
            writeln!(out, "PANICKED").unwrap();
            out.flush().unwrap();
            wait_for_stdin_eof();
        }
        other => panic!("unknown role {other}"),
    }
}

fn wait_for_stdin_eof() {
    let mut line = String::new();
    while std::io::stdin()
        .read_line(&mut line)
        .map(|n| n > 0)
        .unwrap_or(false)
    {}
}

fn spawn_role(role: &str, dir: &Path, name: &str) -> (Child, BufReader<ChildStdout>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "slots::child_entry",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE, role)
        .env(DIR, dir)
        .env(NAME, name)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    (child, stdout)
}

/// Reads lines until one of ours appears (the test harness prints its own lines too).
fn read_marker(out: &mut BufReader<ChildStdout>) -> String {
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "child ended without a result"
        );
        // libtest prints "test child_entry ... " on the same line, before ours.
        let l = line.trim();
        if let Some(at) = ["WON", "BUSY", "HELD", "PANICKED", "ERROR"]
            .iter()
            .filter_map(|m| l.find(m))
            .min()
        {
            return l[at..].to_string();
        }
    }
}

#[test]
fn thirty_two_processes_race_and_exactly_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    let mut children: Vec<_> = (0..32)
        .map(|_| spawn_role("race", dir.path(), "race"))
        .collect();
    std::fs::write(dir.path().join("go"), "").unwrap();
    let results: Vec<String> = children.iter_mut().map(|(_, o)| read_marker(o)).collect();
    let winners: Vec<&String> = results.iter().filter(|r| r.starts_with("WON")).collect();
    assert_eq!(winners.len(), 1, "{results:#?}");
    let winner_pid = winners[0].trim_start_matches("WON ").to_string();
    for r in results.iter().filter(|r| !r.starts_with("WON")) {
        assert!(
            r.starts_with("BUSY") && r.contains(&format!("pid {winner_pid} ")),
            "a loser must name the winner (pid {winner_pid}): {r}"
        );
    }
    for (mut c, _) in children {
        drop(c.stdin.take());
        assert!(c.wait().unwrap().success());
    }
    assert!(SlotTable::in_dir(dir.path())
        .try_acquire("race")
        .unwrap()
        .guard()
        .is_some());
}

#[test]
fn sigkilled_holder_frees_the_slot_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (mut holder, mut out) = spawn_role("hold", dir.path(), "victim");
    assert_eq!(read_marker(&mut out), "HELD");
    let table = SlotTable::in_dir(dir.path());
    let busy = table.try_acquire("victim").unwrap();
    assert!(matches!(busy, Attempt::Held(Some(_))), "{busy:?}");
    holder.kill().unwrap(); // SIGKILL
    holder.wait().unwrap();
    // try_acquire never waits: its success is the proof that the slot is free at once.
    let guard = table
        .try_acquire("victim")
        .unwrap()
        .guard()
        .expect("free right after the holder died");
    assert_eq!(guard.name(), "victim");
}

#[test]
fn panicking_holder_frees_the_slot_and_lives_on() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, mut out) = spawn_role("panic", dir.path(), "p");
    assert_eq!(read_marker(&mut out), "PANICKED");
    assert!(
        child.try_wait().unwrap().is_none(),
        "the holder process is still alive"
    );
    assert!(SlotTable::in_dir(dir.path())
        .try_acquire("p")
        .unwrap()
        .guard()
        .is_some());
    drop(child.stdin.take());
    child.wait().unwrap();
}

#[test]
fn different_slots_do_not_block_each_other_and_status_lists_held_ones() {
    let state = tempfile::tempdir().unwrap();
    let slots = state.path().join("slots");
    std::fs::create_dir_all(&slots).unwrap();
    let (mut a, mut out_a) = spawn_role("hold", &slots, "fetch-a");
    let (mut b, mut out_b) = spawn_role("hold", &slots, "fetch-b");
    assert_eq!(read_marker(&mut out_a), "HELD");
    assert_eq!(read_marker(&mut out_b), "HELD");
    // A slot that was held and released is not listed.
    drop(
        SlotTable::in_dir(&slots)
            .try_acquire("released")
            .unwrap()
            .guard()
            .unwrap(),
    );

    let out = support::voxctl(state.path())
        .args(["status", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    // Instants are RFC 3339 UTC strings in JSON, not epoch integers:
    // `json_doc` checks that the document prints back as `Holder` writes `acquired_at`.
    let doc: Status = support::json_doc(&out.stdout);
    let listed: Vec<(&str, i32)> = doc
        .slots
        .iter()
        .map(|s| (s.name.as_str(), s.holder.as_ref().expect("a holder").pid))
        .collect();
    assert_eq!(
        listed,
        vec![("fetch-a", a.id() as i32), ("fetch-b", b.id() as i32)]
    );
    let human = support::voxctl(state.path())
        .arg("status")
        .output()
        .unwrap();
    let text = String::from_utf8(human.stdout).unwrap();
    assert!(
        text.contains("fetch-a") && text.contains(&a.id().to_string()),
        "{text}"
    );

    for c in [&mut a, &mut b] {
        drop(c.stdin.take());
        c.wait().unwrap();
    }
    let after = support::voxctl(state.path())
        .args(["status", "--json"])
        .output()
        .unwrap();
    let doc: Status = support::json_doc(&after.stdout);
    assert_eq!(doc.slots, Vec::new());
}

#[test]
fn waiting_for_a_slot_times_out_busy_or_gets_it_when_released() {
    let dir = tempfile::tempdir().unwrap();
    let (mut holder, mut out) = spawn_role("hold", dir.path(), "w");
    assert_eq!(read_marker(&mut out), "HELD");
    let table = SlotTable::in_dir(dir.path());
    let started = Instant::now();
    let err = table
        .acquire(
            "w",
            Wait::AtMost(Duration::from_millis(300)),
            &Cancel::new(),
            &|_| {},
        )
        .unwrap_err();
    assert!(matches!(Error::find(&err), Some(Error::Busy { .. })));
    assert!(started.elapsed() >= Duration::from_millis(300));

    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        drop(holder.stdin.take());
        holder.wait().unwrap();
    });
    let guard = table
        .acquire(
            "w",
            Wait::AtMost(Duration::from_secs(120)),
            &Cancel::new(),
            &|_| {},
        )
        .unwrap();
    assert_eq!(guard.name(), "w");
    releaser.join().unwrap();
}
