//! `voxctl reap` and `voxctl reap mark` against real processes and real signals (cases (a) to
//! (i), the letters that prefix the test names below, and `--stale-exe`). The "app instance" is
//! a `sh` child holding a real `SingletonLock` symlink; only these children are ever signalled.

use crate::support;

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use crate::snapshots::{pinned, redact_app, transcript};
use serde_json::json;
use support::reap::{edit_marker, this_host, App};
use support::{voxctl, voxctl_std};
use voxctl::marker::RelaunchMarker;
use voxctl::reap::escalate::Outcome;
use voxctl::reap::report::{Report, Verdict};
use voxctl::reap::stale_exe::Staleness;

/// Short graces keep the tests fast.
const FAST: [&str; 4] = ["--teardown-grace", "300ms", "--term-grace", "300ms"];

/// One `reap --json` run: its report, decoded into the library's type, and the document as
/// printed (for messages).
struct Run {
    code: i32,
    doc: Report,
    json: String,
    stderr: String,
}

fn parse(out: Output) -> Run {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one reap report ({e}); stderr: {stderr}"));
    Run {
        code: out.status.code().expect("exit code"),
        doc,
        json: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    }
}

/// The first target's escalation outcome.
fn outcome(r: &Run) -> Outcome {
    let result = r.doc.targets.first().and_then(|t| t.result.as_ref());
    result
        .unwrap_or_else(|| panic!("no escalation result: {}", r.json))
        .outcome
}

/// Whether the run consumed the marker.
fn consumed(r: &Run) -> bool {
    r.doc.marker.as_ref().expect("a lock-mode report").consumed
}

/// `voxctl reap --lock LOCK --json --yes` with the fast graces and `extra` arguments.
fn reap(state: &Path, lock: &Path, extra: &[&str]) -> Run {
    let out = voxctl(state)
        .args(["reap", "--json", "--yes", "--lock"])
        .arg(lock)
        .args(FAST)
        .args(extra)
        .output()
        .unwrap();
    parse(out)
}

fn mark(state: &Path, pid: i32) {
    voxctl(state)
        .args(["reap", "mark", "--pid", &pid.to_string()])
        .assert()
        .success();
}

fn signals(doc: &Report) -> Vec<String> {
    doc.signals.iter().map(|s| s.signal.clone()).collect()
}

fn marker_path(state: &Path) -> std::path::PathBuf {
    state.join("relaunch-marker.json")
}

/// Asserts a skip with `reason` and exit `code` that left the app running and sent nothing.
fn assert_untouched(r: &Run, app: &mut App, reason: &str, code: i32) {
    assert_eq!(r.doc.decision, Verdict::Skip, "{}", r.json);
    assert_eq!(r.doc.reason, reason, "{}", r.json);
    assert_eq!(r.code, code, "{}\n{}", r.json, r.stderr);
    assert!(signals(&r.doc).is_empty(), "{}", r.json);
    assert!(app.running(), "pid {} must be untouched", app.pid);
}

#[test]
fn a_wedged_holder_with_a_fresh_marker_is_reaped() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let mut app = App::sleeping(tmp.path());
    mark(&state, app.pid);
    app.wedge();
    let r = reap(&state, &app.lock, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.json, r.stderr);
    assert_eq!(r.doc.decision, Verdict::Reap);
    assert!(consumed(&r), "{}", r.json);
    let marked = r.doc.marker.as_ref().and_then(|m| m.marker.as_ref());
    assert_eq!(marked.map(|m| m.identity.pid), Some(app.pid), "{}", r.json);
    assert_eq!(signals(&r.doc)[0], "SIGTERM", "{}", r.json);
    assert!(!signals(&r.doc).contains(&"SIGKILL".to_string()));
    assert_eq!(outcome(&r), Outcome::Terminated);
    assert_eq!(app.wait(Duration::from_secs(60)).signal(), Some(15));
    assert!(!marker_path(&state).exists(), "marker consumed");
    assert!(r.stderr.contains("sent SIGTERM"), "{}", r.stderr);
}

#[test]
fn a_wedged_holder_named_by_a_pidfile_is_reaped_and_human_output_reports_it() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let mut app = App::sleeping(tmp.path());
    let pidfile = tmp.path().join("app.pid");
    std::fs::write(&pidfile, format!("{}\n", app.pid)).unwrap();
    mark(&state, app.pid);
    app.wedge();
    // The whole report; a long term grace, so that a slow machine cannot make it a SIGKILL.
    let text = redact_app(
        &transcript(
            voxctl_std(&state)
                .args(["reap", "--yes", "--pidfile", "app.pid"])
                .current_dir(tmp.path())
                .args(["--teardown-grace", "300ms", "--term-grace", "30s"]),
        ),
        tmp.path(),
        app.pid,
    );
    pinned("reap_pidfile", &text, false);
    assert_eq!(app.wait(Duration::from_secs(60)).signal(), Some(15));
}

#[test]
fn b_healthy_holder_without_marker_is_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let mut app = App::sleeping(tmp.path());
    let r = reap(&state, &app.lock, &[]);
    assert_untouched(&r, &mut app, "no_marker", 0);
}

#[test]
fn c_marker_for_another_pid_leaves_the_holder_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let mut app = App::sleeping(tmp.path());
    let other_dir = tmp.path().join("other");
    std::fs::create_dir(&other_dir).unwrap();
    let mut other = App::sleeping(&other_dir);
    mark(&state, other.pid);
    app.wedge();
    let r = reap(&state, &app.lock, &[]);
    assert_untouched(&r, &mut app, "pid_mismatch", 5);
    assert!(other.running());
}

#[test]
fn d_lock_naming_another_host_is_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let mut app = App::spawn(tmp.path(), "elsewhere-host.example", "", "exec sleep 600");
    mark(&state, app.pid);
    app.wedge();
    let r = reap(&state, &app.lock, &[]);
    assert_untouched(&r, &mut app, "other_host", 5);
}

#[test]
fn e_marker_older_than_the_max_age_is_ignored() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let mut app = App::sleeping(tmp.path());
    mark(&state, app.pid);
    app.wedge();
    let m = marker_path(&state);
    let marker: RelaunchMarker = serde_json::from_slice(&std::fs::read(&m).unwrap()).unwrap();
    let written = std::time::UNIX_EPOCH + Duration::from_millis(marker.written_ms);
    let older = written - Duration::from_secs(10 * 60);
    edit_marker(
        &m,
        "written_at",
        json!(humantime::format_rfc3339_millis(older).to_string()),
    );
    let r = reap(&state, &app.lock, &[]);
    assert_untouched(&r, &mut app, "marker_stale", 0);
    // A shorter --max-marker-age applies too.
    mark(&state, app.pid);
    std::thread::sleep(Duration::from_millis(5)); // the marker must be older than 1 ms
    let r = reap(&state, &app.lock, &["--max-marker-age", "1ms"]);
    assert_untouched(&r, &mut app, "marker_stale", 0);
}

#[test]
fn f_holder_ignoring_sigterm_is_sigkilled_after_the_term_grace() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let mut app = App::spawn(tmp.path(), &this_host(), "trap '' TERM", "exec sleep 600");
    mark(&state, app.pid);
    let r = reap(&state, &app.lock, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.json, r.stderr);
    let sigs = signals(&r.doc);
    assert_eq!(
        sigs.first().map(String::as_str),
        Some("SIGTERM"),
        "{}",
        r.json
    );
    assert_eq!(
        sigs.last().map(String::as_str),
        Some("SIGKILL"),
        "{}",
        r.json
    );
    assert_eq!(outcome(&r), Outcome::Killed);
    let term_ms = r.doc.timings_ms.escalation.term_ms;
    assert!(
        term_ms >= 300,
        "SIGKILL only after the term grace: {}",
        r.json
    );
    assert_eq!(app.wait(Duration::from_secs(60)).signal(), Some(9));
}

#[test]
fn holder_releasing_the_lock_after_sigterm_is_not_sigkilled() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    // On SIGTERM it releases the lock but keeps running: the revalidation before SIGKILL must
    // see that the lock is no longer its own and send nothing more.
    let mut app = App::spawn(
        tmp.path(),
        &this_host(),
        "trap 'rm -f \"$LOCK\"' TERM",
        "while :; do sleep 0.05; done",
    );
    mark(&state, app.pid);
    let r = reap(&state, &app.lock, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.json, r.stderr);
    assert_eq!(signals(&r.doc)[0], "SIGTERM", "{}", r.json);
    assert!(
        !signals(&r.doc).contains(&"SIGKILL".to_string()),
        "{}",
        r.json
    );
    assert_eq!(outcome(&r), Outcome::ReleasedAfterTerm);
    assert!(app.running(), "released the lock, so it is left alone");
}

/// Runs `voxctl reap` in the background with a long teardown grace, calls `during` once it
/// reports the teardown wait, and returns its result and wall time.
fn reap_during_teardown(state: &Path, lock: &Path, during: impl FnOnce()) -> (Run, Duration) {
    let start = Instant::now();
    let mut child = voxctl_std(state)
        .args([
            "reap",
            "--json",
            "--yes",
            "--teardown-grace",
            "300s",
            "--lock",
        ])
        .arg(lock)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut stderr = String::new();
    while !stderr.contains("teardown grace") {
        let n = err.read_line(&mut stderr).unwrap();
        assert!(n > 0, "voxctl ended before the teardown wait: {stderr}");
    }
    during();
    err.read_to_string(&mut stderr).unwrap();
    let mut stdout = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    let status = child.wait().unwrap();
    let elapsed = start.elapsed();
    let doc = serde_json::from_slice(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let code = status.code().unwrap();
    let json = String::from_utf8_lossy(&stdout).into_owned();
    (
        Run {
            code,
            doc,
            json,
            stderr,
        },
        elapsed,
    )
}

#[test]
fn g_holder_exiting_during_the_teardown_grace_gets_no_signal() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    // Once told, tears down for 300 ms (well after voxctl's teardown wait began), then exits 0
    // without removing the lock, as after a crash.
    let mut app = App::spawn(tmp.path(), &this_host(), "", "read line\nsleep 0.3\nexit 0");
    mark(&state, app.pid);
    let (r, elapsed) = reap_during_teardown(&state, &app.lock.clone(), || app.say("go"));
    assert_eq!(r.code, 0, "{}\n{}", r.json, r.stderr);
    assert_eq!(r.doc.decision, Verdict::Reap);
    assert!(signals(&r.doc).is_empty(), "{}", r.json);
    assert_eq!(outcome(&r), Outcome::ExitedDuringTeardown);
    // Only tells "stopped at the exit" from "waited out the 300 s grace", generously.
    assert!(
        elapsed < Duration::from_secs(120),
        "stopped at the exit, {elapsed:?}"
    );
    assert_eq!(
        app.wait(Duration::from_secs(60)).code(),
        Some(0),
        "not signalled"
    );
}

#[test]
fn g2_holder_releasing_the_lock_during_the_teardown_grace_gets_no_signal() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let mut app = App::spawn(
        tmp.path(),
        &this_host(),
        "",
        "read line\nsleep 0.3\nrm -f \"$LOCK\"\nread line",
    );
    mark(&state, app.pid);
    let (r, _) = reap_during_teardown(&state, &app.lock.clone(), || app.say("release"));
    assert_eq!(r.code, 0, "{}\n{}", r.json, r.stderr);
    assert!(signals(&r.doc).is_empty(), "{}", r.json);
    assert_eq!(outcome(&r), Outcome::ReleasedDuringTeardown);
    assert!(app.running(), "still running, never signalled");
}

#[test]
fn h_marker_with_another_start_time_is_a_recycled_pid_and_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let mut app = App::sleeping(tmp.path());
    mark(&state, app.pid);
    app.wedge();
    let m = marker_path(&state);
    let marker: RelaunchMarker = serde_json::from_slice(&std::fs::read(&m).unwrap()).unwrap();
    let st = marker.identity.start_time;
    edit_marker(&m, "start_time", json!(st.saturating_sub(1)));
    let r = reap(&state, &app.lock, &[]);
    assert_untouched(&r, &mut app, "start_time_mismatch", 5);
}

#[test]
fn i_two_reapers_at_once_one_acts_and_the_marker_is_consumed_once() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let mut app = App::sleeping(tmp.path());
    mark(&state, app.pid);
    app.wedge();
    let spawn = || {
        voxctl_std(&state)
            .args(["reap", "--json", "--yes", "--lock"])
            .arg(&app.lock)
            .args(FAST)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (one, two) = (spawn(), spawn());
    let runs = [
        parse(one.wait_with_output().unwrap()),
        parse(two.wait_with_output().unwrap()),
    ];
    let acted: Vec<&Run> = runs
        .iter()
        .filter(|r| !signals(&r.doc).is_empty())
        .collect();
    assert_eq!(
        acted.len(),
        1,
        "exactly one reaper signals: {:?}",
        runs.map(|r| r.json)
    );
    let consumed = runs.iter().filter(|r| consumed(r)).count();
    assert_eq!(consumed, 1, "the marker is consumed once");
    for r in &runs {
        assert_eq!(r.code, 0, "{}\n{}", r.json, r.stderr);
    }
    assert_eq!(app.wait(Duration::from_secs(60)).signal(), Some(15));
    assert!(!marker_path(&state).exists());
}

#[test]
fn dry_run_consumes_nothing_and_signals_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let mut app = App::sleeping(tmp.path());
    mark(&state, app.pid);
    app.wedge();
    let r = reap(&state, &app.lock, &["--dry-run"]);
    assert_eq!(r.code, 0, "{}", r.json);
    assert_eq!(r.doc.decision, Verdict::Reap);
    assert!(!consumed(&r), "{}", r.json);
    assert!(signals(&r.doc).is_empty());
    assert!(!r.doc.would_send.is_empty());
    assert!(marker_path(&state).exists(), "marker left in place");
    assert!(app.running());
}

#[test]
fn without_a_tty_or_yes_a_reap_is_refused_and_the_marker_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let mut app = App::sleeping(tmp.path());
    mark(&state, app.pid);
    app.wedge();
    let out = voxctl(&state)
        .args(["reap", "--lock"])
        .arg(&app.lock)
        .args(FAST)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("pid {}", app.pid)), "{stderr}");
    assert!(marker_path(&state).exists(), "marker kept for a retry");
    assert!(app.running());
}

#[test]
fn voxctl_never_reaps_its_own_ancestor() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let me = std::process::id() as i32; // voxctl's parent
    let lock = tmp.path().join("SingletonLock");
    std::os::unix::fs::symlink(format!("{}-{me}", this_host()), &lock).unwrap();
    mark(&state, me);
    let r = reap(&state, &lock, &[]);
    assert_eq!(r.code, 5, "{}", r.json);
    assert_eq!(r.doc.reason, "self_or_ancestor");
    assert!(signals(&r.doc).is_empty());
}

#[test]
fn nothing_to_reap_when_nobody_holds_the_lock_or_the_holder_is_gone() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let lock = tmp.path().join("SingletonLock");
    // An empty pidfile: nobody holds it.
    let pidfile = tmp.path().join("app.pid");
    std::fs::write(&pidfile, "").unwrap();
    let out = voxctl(&state)
        .args(["reap", "--json", "--yes", "--pidfile"])
        .arg(&pidfile)
        .output()
        .unwrap();
    let r = parse(out);
    assert_eq!((r.code, r.doc.reason.as_str()), (0, "no_holder"));
    let mut app = App::sleeping(tmp.path());
    mark(&state, app.pid);
    app.child.kill().unwrap();
    app.child.wait().unwrap();
    let r = reap(&state, &lock, &[]);
    assert_eq!((r.code, r.doc.reason.as_str()), (0, "holder_gone"));
}

#[test]
fn mark_defaults_to_the_parent_and_records_identity() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let out = voxctl(&state)
        .args(["reap", "mark", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Marked {
        path: std::path::PathBuf,
        marker: RelaunchMarker,
    }
    let doc: Marked = serde_json::from_slice(&out.stdout).unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let m = &doc.marker;
    assert_eq!(doc.path, marker_path(&state));
    assert_eq!(m.identity.pid, std::process::id() as i32);
    assert_eq!(m.identity.host.as_deref(), Some(this_host().as_str()));
    assert!(m.identity.start_time > 0, "{text}");
    assert!(m.identity.boot_id.is_some(), "boot_id missing: {text}");
    assert!(
        m.exe.is_some() && m.exe_dev.is_some() && m.exe_ino.is_some(),
        "{text}"
    );
    assert!(m.written_ms > 0, "{text}");
    let on_disk: RelaunchMarker =
        serde_json::from_slice(&std::fs::read(marker_path(&state)).unwrap()).unwrap();
    assert_eq!(&on_disk, m);
    voxctl(&state)
        .args(["reap", "mark", "--pid", "999999999"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("999999999"));
}

#[cfg(target_os = "linux")]
#[test]
fn stale_exe_stops_only_the_process_running_the_replaced_binary() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let sleep = ["/usr/bin/sleep", "/bin/sleep"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("sleep binary");
    let app = tmp.path().join("app-server");
    std::fs::copy(sleep, &app).unwrap();
    let mut old = support::reap::spawn_retrying(&app);
    let staged = tmp.path().join(".app-server.new");
    std::fs::copy(sleep, &staged).unwrap();
    std::fs::rename(&staged, &app).unwrap(); // atomic replace, as an install does
    let mut new = support::reap::spawn_retrying(&app);

    let run = |extra: &[&str]| {
        parse(
            voxctl(&state)
                .args(["reap", "--json", "--yes", "--stale-exe"])
                .arg(&app)
                .args(["--teardown-grace", "100ms", "--term-grace", "2s"])
                .args(extra)
                .output()
                .unwrap(),
        )
    };
    let dry = run(&["--dry-run"]);
    let pids: Vec<i32> = dry.doc.targets.iter().map(|t| t.pid).collect();
    assert_eq!(pids, vec![old.id() as i32], "{}", dry.json);
    assert!(signals(&dry.doc).is_empty());
    assert!(old.try_wait().unwrap().is_none() && new.try_wait().unwrap().is_none());

    let r = run(&[]);
    assert_eq!(r.code, 0, "{}\n{}", r.json, r.stderr);
    assert_eq!(
        r.doc.targets[0].staleness,
        Some(Staleness::Deleted),
        "{}",
        r.json
    );
    assert_eq!(signals(&r.doc)[0], "SIGTERM");
    assert_eq!(old.wait().unwrap().signal(), Some(15));
    assert!(
        new.try_wait().unwrap().is_none(),
        "the current copy keeps running"
    );
    let again = run(&[]);
    assert_eq!(again.doc.reason, "no_stale_process", "{}", again.json);
    new.kill().unwrap();
    new.wait().unwrap();
}

/// A "no" at the confirmation prompt refuses (exit 5) and leaves the wedged
/// instance and the marker alone, and its hint does not tell the user to pass `--yes` (they
/// were asked and said no). `script(1)` gives voxctl a real pseudo-terminal as its controlling
/// terminal, so the prompt is the real dialoguer prompt; "n" is typed once it is shown.
#[test]
fn a_no_at_the_prompt_refuses_and_is_not_told_to_pass_yes() {
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let mut app = App::sleeping(tmp.path());
    mark(&state, app.pid);
    app.wedge();
    let cmd = format!(
        "{} reap --json --lock {} --teardown-grace 300ms --term-grace 300ms",
        support::bin().display(),
        app.lock.display()
    );
    let mut script = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env("VOXCTL_STATE_DIR", &state)
        .env_remove("VOXCTL_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("script(1) from util-linux runs the prompt on a terminal");
    let mut stdout = script.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !String::from_utf8_lossy(&seen).contains("[y/N]") {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(chunk) => seen.extend(chunk),
            Err(_) => panic!("no prompt within 60 s: {}", String::from_utf8_lossy(&seen)),
        }
    }
    script.stdin.as_mut().unwrap().write_all(b"n").unwrap();
    while let Ok(chunk) = rx.recv_timeout(Duration::from_secs(60)) {
        seen.extend(chunk);
    }
    let status = script.wait().unwrap();
    let out = String::from_utf8_lossy(&seen);
    assert_eq!(status.code(), Some(5), "{out}");
    assert!(out.contains("declined at the prompt"), "{out}");
    assert!(out.contains("answer y to go ahead"), "{out}");
    assert!(
        !out.contains("pass --yes"),
        "a no is not told to pass --yes: {out}"
    );
    assert!(app.running(), "pid {} must be untouched", app.pid);
    assert!(
        marker_path(&state).exists(),
        "a declined run leaves the marker"
    );
}

/// The library entry point as an app would call it: its own confirmation, its own event
/// sink, its own cancel handle.
mod library {
    use super::*;
    use std::sync::{mpsc, Mutex};
    use voxctl::exit::ExitStatus;
    use voxctl::marker::RelaunchMarker;
    use voxctl::reap::escalate::{Event, Graces, Outcome};
    use voxctl::reap::holder::LockSource;
    use voxctl::reap::{self, Mode, Question, Settings};
    use voxctl::Error;

    fn settings(app: &App, marker: &Path, teardown: Duration) -> Settings {
        let mut settings = Settings::new(Mode::Lock {
            source: LockSource::SingletonLock(app.lock.clone()),
            marker: marker.to_path_buf(),
            max_marker_age: reap::DEFAULT_MAX_MARKER_AGE,
        });
        settings.graces = Graces {
            teardown,
            term: Duration::from_millis(300),
            kill_wait: reap::KILL_WAIT,
        };
        settings
    }

    fn marked(tmp: &Path, app: &App) -> std::path::PathBuf {
        let state = voxctl::state::StateDir::open(Some(&tmp.join("state"))).unwrap();
        let path = state.relaunch_marker();
        RelaunchMarker::capture(app.pid)
            .unwrap()
            .write(&path)
            .unwrap();
        path
    }

    #[test]
    fn an_app_confirms_hears_every_step_and_gets_a_typed_report() {
        let tmp = tempfile::tempdir().unwrap();
        let mut app = App::sleeping(tmp.path());
        let marker = marked(tmp.path(), &app);
        app.wedge();
        let events = Mutex::new(Vec::new());
        let mut asked = Vec::new();
        let report = reap::reap(
            &settings(&app, &marker, Duration::from_millis(50)),
            &mut |q| {
                if let Question::Lock { target, .. } = q {
                    asked.push(target.pid);
                }
                Ok(())
            },
            &|e| events.lock().unwrap().push(e.clone()),
        )
        .unwrap();
        assert_eq!(asked, [app.pid], "asked once, about the holder");
        assert_eq!(report.exit_code, ExitStatus::Success);
        assert!(report.survivors().is_empty());
        let events = events.into_inner().unwrap();
        assert!(
            matches!(&events[0], Event::TeardownWait { pids, grace_ms: 50 } if *pids == [app.pid]),
            "{events:?}"
        );
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::Sent(s) if s.signal == "SIGTERM")),
            "{events:?}"
        );
        assert!(
            matches!(events.last(), Some(Event::Done { pid, outcome: Outcome::Terminated, .. }) if *pid == app.pid),
            "{events:?}"
        );
        let json = serde_json::to_value(&events[0]).unwrap();
        assert_eq!(json["event"], "teardown_wait", "{json}");
        assert_eq!(app.wait(Duration::from_secs(60)).signal(), Some(15));
        assert!(!marker.exists(), "marker consumed");
    }

    #[test]
    fn a_declined_question_signals_nothing_and_keeps_the_marker() {
        let tmp = tempfile::tempdir().unwrap();
        let mut app = App::sleeping(tmp.path());
        let marker = marked(tmp.path(), &app);
        let err = reap::reap(
            &settings(&app, &marker, Duration::from_millis(50)),
            &mut |_| Err(Error::Refused("the user said no".into()).into()),
            &|e| panic!("nothing may happen after a no: {e:?}"),
        )
        .unwrap_err();
        assert!(
            matches!(Error::find(&err), Some(Error::Refused(_))),
            "{err:#}"
        );
        assert!(marker.exists(), "a declined reap leaves the marker");
        assert!(app.running());
    }

    #[test]
    fn a_cancel_from_another_thread_ends_the_teardown_wait_before_any_signal() {
        let tmp = tempfile::tempdir().unwrap();
        let mut app = App::sleeping(tmp.path());
        let marker = marked(tmp.path(), &app);
        app.wedge();
        // An hour's teardown grace: only the cancel can end it.
        let s = settings(&app, &marker, Duration::from_secs(3600));
        let (tx, rx) = mpsc::channel();
        let canceller = {
            let cancel = s.cancel.clone();
            std::thread::spawn(move || {
                rx.recv().unwrap();
                cancel.cancel();
            })
        };
        let tx = Mutex::new(tx);
        let sent = Mutex::new(Vec::new());
        let err = reap::reap(&s, &mut |_| Ok(()), &|e| {
            if let Event::TeardownWait { .. } = e {
                tx.lock().unwrap().send(()).unwrap();
            }
            if let Event::Sent(s) = e {
                sent.lock().unwrap().push(s.signal.clone());
            }
        })
        .unwrap_err();
        canceller.join().unwrap();
        assert!(
            matches!(Error::find(&err), Some(Error::Interrupted)),
            "{err:#}"
        );
        assert!(sent.into_inner().unwrap().is_empty(), "nothing sent");
        assert!(app.running(), "the holder is left alone after a cancel");
    }
}

/// A `--lock` or `--pidfile` path that does not exist is a mistake (a wrong profile dir), not
/// a free lock: exit 5 naming the path, and the marker is kept for the run with the right
/// path.
#[test]
fn a_lock_path_that_does_not_exist_is_refused_and_the_marker_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let mut app = App::sleeping(tmp.path());
    mark(&state, app.pid);
    app.wedge();
    let missing = tmp.path().join("wrong-profile/SingletonLock");
    let pidfile = tmp.path().join("app.pid");
    for (flag, path, what) in [
        ("--lock", &missing, "lock"),
        ("--pidfile", &pidfile, "pidfile"),
    ] {
        for extra in [&[][..], &["--dry-run"][..], &["--json"][..]] {
            let out = voxctl(&state)
                .args(["reap", "--yes", flag])
                .arg(path)
                .args(FAST)
                .args(extra)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert_eq!(
                out.status.code(),
                Some(5),
                "{flag} {extra:?}: {stderr}{stdout}"
            );
            let named = format!("{what} {} does not exist", path.display());
            let said = if extra == ["--json"] {
                &stdout
            } else {
                &stderr
            };
            assert!(said.contains(&named), "{flag} {extra:?}: {stderr}{stdout}");
            assert!(
                marker_path(&state).exists(),
                "{flag} {extra:?}: marker consumed"
            );
        }
    }
    // The right path still reaps.
    let r = reap(&state, &app.lock, &[]);
    assert_eq!(
        (r.code, outcome(&r)),
        (0, Outcome::Terminated),
        "{}",
        r.json
    );
    assert_eq!(app.wait(Duration::from_secs(60)).signal(), Some(15));
}

/// `restart` keeps its own marker: a restart between the updater's `reap mark` and the
/// relaunched app's `reap` does not replace the updater's marker, so the wedged app is
/// still reaped (and the running backend is never a candidate).
#[test]
fn a_restart_between_mark_and_reap_leaves_the_updaters_marker() {
    let env = support::restart::Env::new();
    env.install("cpu", "", None);
    env.install("cuda", "", None);
    let out = env.restart("cpu", &["--json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cpu = env.record().unwrap().pid;

    let mut app = App::sleeping(env.tmp.path());
    mark(&env.state, app.pid);
    let out = env.restart("cuda", &[]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let marked = |name: &str| -> RelaunchMarker {
        serde_json::from_slice(&std::fs::read(env.state.join(name)).unwrap()).unwrap()
    };
    assert_eq!(marked("relaunch-marker.json").identity.pid, app.pid);
    assert_eq!(marked("restart-marker.json").identity.pid, cpu);

    app.wedge();
    let r = reap(&env.state, &app.lock, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.json, r.stderr);
    assert_eq!(r.doc.decision, Verdict::Reap, "{}", r.json);
    assert_eq!(outcome(&r), Outcome::Terminated);
    assert_eq!(app.wait(Duration::from_secs(60)).signal(), Some(15));
    assert!(env.health().is_some(), "the backend was not touched");
}
