//! `voxctl restart` and the backend sections of `voxctl status`, against the
//! fixture backend (`examples/fixture_backend.rs`): real processes, signals, ports and HTTP.

use crate::snapshots::{output_text, pinned, redact, redact_fixture, replace_word};
use crate::support;

use std::time::{Duration, Instant};

use support::restart::{alive, read, wait_until, Env};
use voxctl::backend::control::Stopped;
use voxctl::backend::observe::HealthState;
use voxctl::backend::record::BackendRecord;
use voxctl::backend::restart::{Previous, Report};
use voxctl::backend::select::NoUsableBinaryDoc;
use voxctl::exit::ExitStatus;
use voxctl::marker::RelaunchMarker;
use voxctl::variant::Variant;

/// `restart --json`'s report, decoded (and checked to print as [`Report`] serializes).
fn json(out: &std::process::Output) -> Report {
    assert!(out.status.success(), "{}", stderr(out));
    support::json_doc(&out.stdout)
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The transcript of `out` for a snapshot, redacted: besides the common values, the env's
/// port, the fixture's size and digest, and `pids`, which tables print as bare numbers.
fn text(env: &Env, out: &std::process::Output, pids: &[i32]) -> String {
    let mut t = redact_fixture(&redact(&output_text(out), env.tmp.path()));
    t = replace_word(&t, &env.port.to_string(), "[PORT]", char::is_alphanumeric);
    for pid in pids {
        t = replace_word(&t, &pid.to_string(), "[PID]", char::is_alphanumeric);
    }
    t
}

/// The backend the restart replaced.
fn previous(r: &Report) -> &Previous {
    r.previous.as_ref().expect("a previous backend")
}

#[test]
fn cpu_to_cuda_swap_stops_the_whole_group_and_status_reports_it() {
    let env = Env::new();
    env.install("cpu", "worker=1\n", Some("0.1.0"));
    env.install("cuda", "version=0.2.0\n", Some("v0.2.0"));

    // Nothing is running: restart just starts.
    let out = env.restart("cpu", &["--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let first = json(&out);
    assert_eq!(first.previous, None);
    let cpu_pid = first.backend.pid;
    env.track(cpu_pid);
    let health = env.health().expect("cpu backend healthy");
    assert_eq!(health["backend_variant"], "cpu");
    let worker = health["worker_pid"].as_i64().unwrap() as i32;
    assert!(alive(worker));

    let out = env
        .restart("cuda", &["--json", "--", "--extra", "x y"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report.backend.variant, Variant::Cuda);
    assert_eq!(report.backend.version.as_deref(), Some("0.2.0"));
    assert_eq!(previous(&report).backend.pid, cpu_pid);
    assert_eq!(previous(&report).stopped, Stopped::Terminated);
    assert!(!alive(cpu_pid), "old backend stopped");
    assert!(
        wait_until(Duration::from_secs(30), || !alive(worker)),
        "SIGTERM reached the old backend's whole process group"
    );
    let health = env.health().expect("cuda backend healthy");
    assert_eq!(health["backend_variant"], "cuda");
    assert_eq!(health["args"][4], "--extra");
    assert_eq!(health["args"][5], "x y");
    assert_eq!(health["args"][1], env.data.to_str().unwrap());

    // Restart's own marker names the replaced instance; the updater's relaunch marker is
    // not restart's to write.
    let marker: RelaunchMarker =
        serde_json::from_str(&read(&env.state.join("restart-marker.json"))).unwrap();
    assert_eq!(marker.identity.pid, cpu_pid);
    assert!(!env.state.join("relaunch-marker.json").exists());

    let status = env.status();
    let b = status.backend.as_ref().expect("a backend");
    assert_eq!(
        (b.record.variant, b.health, b.running, b.record.port),
        (Variant::Cuda, HealthState::Healthy, true, env.port)
    );
    assert_eq!(b.record.pid, report.backend.pid);
    let versions: Vec<&str> = status
        .installed
        .iter()
        .map(|r| r.version.as_deref().unwrap())
        .collect();
    assert_eq!(versions, ["0.1.0", "v0.2.0"]);

    // The human table too.
    let out = support::voxctl(&env.state)
        .args(["status", "--data-dir"])
        .arg(&env.data)
        .output()
        .unwrap();
    pinned(
        "restart_status_after_swap",
        &text(&env, &out, &[report.backend.pid]),
        true,
    );
}

#[test]
fn slow_shutdown_and_a_port_held_after_exit_are_waited_for() {
    let env = Env::new();
    // The old backend lingers 300 ms after SIGTERM, and a helper in its process group that
    // ignores SIGTERM keeps the listening socket 400 ms more after it exits.
    env.install("cpu", "linger_ms=300\nport_holder_ms=400\n", None);
    env.install("cuda", "", None);
    let out = env.restart("cpu", &["--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.restart("cuda", &["--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let r = json(&out);
    assert_eq!(previous(&r).stopped, Stopped::Terminated);
    let t = &r.timings;
    assert!(t.stop_ms >= 250, "{t:?}");
    assert!(t.port_ms >= 300, "{t:?}");
    assert!(
        stderr(&out).contains("waiting for port"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.health().unwrap()["backend_variant"], "cuda");
}

#[test]
fn sigterm_ignored_means_sigkill_after_the_stop_timeout() {
    let env = Env::new();
    env.install("cpu", "ignore_term=1\n", None);
    env.install("cuda", "", None);
    let out = env.restart("cpu", &["--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let old = json(&out).backend.pid;
    env.track(old);
    let started = Instant::now();
    let out = env
        .restart("cuda", &["--json", "--stop-timeout", "700ms"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(started.elapsed() >= Duration::from_millis(700));
    let r = json(&out);
    assert_eq!(previous(&r).stopped, Stopped::Killed);
    assert!(stderr(&out).contains("sent SIGKILL"), "{}", stderr(&out));
    assert!(!alive(old));
    assert_eq!(env.health().unwrap()["backend_variant"], "cuda");
}

/// An explicitly named variant is never silently replaced. Missing, or
/// failing its version check, it is exit 1 with the running backend untouched, and `--json`
/// says what was asked for, what was rejected and why, and what keeps running.
#[test]
fn an_explicit_variant_that_fails_its_check_is_an_error_not_a_downgrade() {
    let env = Env::new();
    env.install("cpu", "", Some("0.1.0"));
    env.install("cuda", "version=0.2.0\n", Some("0.2.0"));
    let running = start(&env, "cuda");
    for (variant, extra, why) in [
        ("cuda", &["--expect-version", "9.9.9"][..], "expected 9.9.9"),
        ("rocm", &[][..], "not installed"),
    ] {
        let mut args = vec!["--json"];
        args.extend(extra);
        let out = env.restart(variant, &args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{variant}: {}", stderr(&out));
        let doc: NoUsableBinaryDoc = support::json_doc_sorted(&out.stdout, true);
        assert_eq!(doc.error.code, ExitStatus::Failure, "{doc:?}");
        assert_eq!(doc.requested.as_str(), variant);
        assert_eq!(doc.rejected.len(), 1, "cpu was not even tried: {doc:?}");
        assert_eq!(doc.rejected[0].variant.as_str(), variant);
        assert!(doc.rejected[0].reason.contains(why), "{doc:?}");
        let kept = doc.running.as_ref().expect("the running backend");
        assert_eq!(
            (kept.pid, kept.variant),
            (running, Variant::Cuda),
            "{doc:?}"
        );
        assert!(doc
            .error
            .hint
            .as_deref()
            .unwrap()
            .contains("--fallback cpu"));
        assert!(!stderr(&out).contains("falling back"), "{}", stderr(&out));
        assert!(alive(running), "the running backend was not touched");
        assert_eq!(env.record().unwrap().pid, running);
    }
    assert_eq!(env.health().unwrap()["backend_variant"], "cuda");
}

#[test]
fn version_mismatch_falls_back_to_cpu_when_asked_to() {
    let env = Env::new();
    env.install("cpu", "", Some("0.1.0"));
    // fetch recorded 0.3.0, but the binary reports 0.2.0.
    env.install("cuda", "version=0.2.0\n", Some("0.3.0"));
    let out = env
        .restart("cuda", &["--json", "--fallback", "cpu"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let r = json(&out);
    assert_eq!(
        (r.backend.variant, r.requested, r.rejected[0].variant),
        (Variant::Cpu, Variant::Cuda, Variant::Cuda)
    );
    let err = stderr(&out);
    assert!(err.contains("reports 0.2.0, expected 0.3.0"), "{err}");
    assert!(err.contains("falling back to cpu"), "{err}");
    assert_eq!(env.health().unwrap()["backend_variant"], "cpu");

    // --expect-version overrides the record: 0.2.0 is now right. A given health URL is
    // polled and recorded.
    let url = format!("http://localhost:{}/health?probe=1", env.port);
    let out = env
        .restart(
            "cuda",
            &["--json", "--expect-version", "0.2.0", "--health-url", &url],
        )
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json(&out).backend.variant, Variant::Cuda);
    assert_eq!(
        env.status().backend.unwrap().record.health_url.as_deref(),
        Some(url.as_str())
    );

    // A health URL voxctl cannot probe is a usage error, before anything is touched.
    let running = env.record().unwrap().pid;
    let out = env
        .restart("cpu", &["--health-url", "https://127.0.0.1/health"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(alive(running));
}

#[test]
fn no_usable_binary_stops_nothing() {
    let env = Env::new();
    env.install("cpu", "", None);
    let out = env.restart("cpu", &["--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let running = json(&out).backend.pid;
    env.track(running);
    // Now both variants are bad: cuda is missing, cpu reports the wrong version.
    env.set_record_version("cpu", "9.9.9");
    let out = env
        .restart("cuda", &["--fallback", "cpu"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // Each variant tried, with why it cannot run.
    pinned(
        "restart_no_usable_binary",
        &text(&env, &out, &[running]),
        false,
    );
    assert!(alive(running), "the running backend was not touched");
    assert_eq!(env.record().unwrap().pid, running);
}

#[test]
fn a_backend_that_never_becomes_healthy_is_rolled_back() {
    let env = Env::new();
    env.install("cpu", "", None);
    env.install("cuda", "never_healthy=1\n", None);
    let out = env.restart("cpu", &[]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let old = env.record().unwrap().pid;
    let out = env
        .restart("cuda", &["--ready-timeout", "1s"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    let rec = env.record().unwrap();
    // Not healthy in time, its log lines, and the rollback.
    pinned(
        "restart_never_healthy",
        &text(&env, &out, &[old, rec.pid]),
        false,
    );
    assert_eq!(rec.variant, Variant::Cpu);
    assert_ne!(rec.pid, old);
    assert!(!alive(old));
    assert_eq!(env.health().unwrap()["backend_variant"], "cpu");
    assert_eq!(env.status().backend.unwrap().health, HealthState::Healthy);
}

#[test]
fn a_backend_that_crashes_at_start_is_rolled_back_at_once() {
    let env = Env::new();
    env.install("cpu", "", None);
    env.install("cuda", "exit_code=3\n", None);
    let out = env.restart("cpu", &[]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let started = Instant::now();
    let out = env.restart("cuda", &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    // Only tells "no wait" from "waited out the 120 s default ready timeout".
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "no wait for the ready timeout"
    );
    // The exit status and the backend's last words, and the rollback.
    let pids: Vec<i32> = env.record().map(|r| r.pid).into_iter().collect();
    pinned("restart_crash_at_start", &text(&env, &out, &pids), false);
    assert_eq!(env.health().unwrap()["backend_variant"], "cpu");
}

#[test]
fn a_failed_rollback_exits_1() {
    let env = Env::new();
    let cpu = env.install("cpu", "", None);
    env.install("cuda", "exit_code=3\n", None);
    let out = env.restart("cpu", &[]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // The running binary is deleted, so the rollback cannot start it again.
    std::fs::remove_file(&cpu).unwrap();
    let out = env.restart("cuda", &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // The failed rollback, and what runs now.
    pinned("restart_failed_rollback", &text(&env, &out, &[]), false);
    assert!(env.record().is_none());
    assert!(env.health().is_none());
}

/// A rollback restores what was running: it is not bound by the `--ready-timeout` the new
/// backend failed. Both variants take ~450 ms to start; the new one gets 300 ms and fails,
/// and the previous one gets its own limit (at least the default 120 s) and comes back.
#[test]
fn a_rollback_gets_its_own_limit_and_restores_a_slow_starting_backend() {
    let env = Env::new();
    env.install("cpu", "start_delay_ms=450\n", None);
    env.install("cuda", "start_delay_ms=450\n", None);
    let first = start(&env, "cpu");
    // The record keeps how long the backend took to become healthy.
    let ready = env.record().unwrap().ready_ms.expect("ready_ms recorded");
    assert!(ready >= 450, "{ready}");

    let out = env
        .restart("cuda", &["--ready-timeout", "300ms"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    let back = env
        .record()
        .expect("the previous backend is recorded again");
    // The rollback's own limit is said. The new backend's log lines are left out: how far
    // it got before it was stopped depends on the machine's load.
    let said: String = text(&env, &out, &[first, back.pid])
        .lines()
        .filter(|l| !l.starts_with("  | "))
        .map(|l| format!("{l}\n"))
        .collect();
    pinned("restart_rollback_own_limit", &said, false);
    // The snapshot redacts durations; this one is the rollback's fixed limit.
    assert!(
        stderr(&out).contains("allowing it 2m to become healthy"),
        "{}",
        stderr(&out)
    );
    assert_eq!(back.variant, Variant::Cpu);
    assert_ne!(back.pid, first);
    assert!(back.ready_ms.is_some_and(|ms| ms >= 450), "{back:?}");
    assert!(alive(back.pid));
    assert_eq!(env.health().expect("listening")["backend_variant"], "cpu");
}

/// When the rolled-back backend dies too, the error says that nothing runs now.
#[test]
fn a_rollback_that_crashes_says_nothing_runs() {
    let env = Env::new();
    let cpu = env.install("cpu", "", None);
    env.install("cuda", "exit_code=3\n", None);
    start(&env, "cpu");
    // The running cpu backend read its settings at start; a restart of it crashes.
    std::fs::write(format!("{}.fixture", cpu.display()), "exit_code=4\n").unwrap();
    let out = env.restart("cuda", &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    pinned("restart_rollback_crashes", &text(&env, &out, &[]), false);
    assert!(env.record().is_none());
    assert!(env.health().is_none());
}

/// The fixture's health answer's `args`: what the backend was started with.
fn started_args(env: &Env) -> Vec<String> {
    let health = env.health().expect("a backend answers on the port");
    serde_json::from_value(health["args"].clone()).unwrap()
}

/// Like `systemctl restart`, a restart keeps the running backend's port and extra arguments
/// (and so does the rollback); `status` shows them; a record of an older voxctl, without the
/// fields added since, is still read.
#[test]
fn a_restart_keeps_the_port_and_arguments_of_the_running_backend() {
    let env = Env::new();
    env.install("cpu", "", None);
    let cuda = env.install("cuda", "", None);
    let port = env.port.to_string();
    let models = ["--models", "/srv/my models"];
    let out = env
        .restart_keeping("cpu", &[&["--port", &port, "--"][..], &models[..]].concat())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    env.record();

    // No --port and no arguments: both kept.
    let out = env.restart_keeping("cuda", &["--json"]).output().unwrap();
    let r = json(&out);
    assert_eq!(
        (r.backend.port, &r.backend.args[..]),
        (env.port, &models.map(String::from)[..])
    );
    assert_eq!(
        r.backend.health_url.as_deref(),
        Some(&*format!("http://127.0.0.1:{port}/health"))
    );
    let args = started_args(&env);
    assert_eq!(args[3], port);
    assert_eq!(args[4..], models);
    assert_eq!(env.health().unwrap()["backend_variant"], "cuda");

    // status shows them, human and JSON.
    let b = env.status().backend.expect("a backend");
    assert_eq!(
        (b.record.port, &b.record.args[..]),
        (env.port, &models.map(String::from)[..])
    );
    let out = env.status_cmd(&[]).output().unwrap();
    pinned(
        "restart_status_kept_args",
        &text(&env, &out, &[env.record().unwrap().pid]),
        true,
    );
    // The snapshot collapses runs of spaces; the labels of the backend's lines are aligned.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("args   --models '/srv/my models'"),
        "{stdout}"
    );

    // A record as an older voxctl wrote it: no version, health URL, data dir, arguments or
    // start-up time, `started_at` an integer. It is read, and its port kept. (Without its
    // boot and host a record is never judged running: voxctl fails closed there.)
    let mut old: serde_json::Value =
        serde_json::from_str(&read(&env.state.join("backend.json"))).unwrap();
    let o = old.as_object_mut().unwrap();
    for field in ["version", "health_url", "data_dir", "args", "ready_ms"] {
        o.remove(field);
    }
    o.insert("started_at".into(), 1_700_000_000_000u64.into());
    std::fs::write(
        env.state.join("backend.json"),
        serde_json::to_vec(&old).unwrap(),
    )
    .unwrap();
    let b = env.status().backend.expect("the old record is read");
    assert!(b.running, "{b:?}");
    assert_eq!(b.record.port, env.port);

    // Arguments given replace the recorded ones (here: none recorded). Then the new cuda
    // backend crashes at start: it was started with the kept port and arguments, and so is
    // the cpu backend the rollback starts again.
    let out = env
        .restart_keeping("cpu", &[&["--"][..], &models[..]].concat())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::write(format!("{}.fixture", cuda.display()), "exit_code=3\n").unwrap();
    let out = env.restart_keeping("cuda", &[]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(7), "{err}");
    let cuda_log = read(&env.state.join("logs/voicebox-server-cuda.log"));
    let last_start = cuda_log.lines().rfind(|l| l.contains("starting on port"));
    let want = format!("port {port}, data dir {:?}, args {:?}", env.data, {
        let mut a = vec!["--data-dir".to_string(), env.data.display().to_string()];
        a.extend(["--port".to_string(), port.clone()]);
        a.extend(models.map(String::from));
        a
    });
    assert!(
        last_start.is_some_and(|l| l.ends_with(&want)),
        "{want}\n{cuda_log}"
    );
    assert!(err.contains(&format!("on port {port}")), "{err}");
    assert_eq!(env.health().unwrap()["backend_variant"], "cpu");
    assert_eq!(started_args(&env)[4..], models);
}

#[test]
fn concurrent_restarts_are_serialized() {
    let env = Env::new();
    env.install("cpu", "", None);
    env.install("cuda", "start_delay_ms=1500\n", None);
    let mut first = env
        .restart_std("cuda", &["-q"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(20), || env
            .status()
            .slots
            .iter()
            .any(|s| s.name == "restart-voicebox")),
        "the first restart holds the slot"
    );
    let out = env.restart("cpu", &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("slot restart-voicebox is busy"), "{err}");
    assert!(err.contains(&format!("pid {}", first.id())), "{err}");

    let out = env.restart("cpu", &["--wait", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        first.wait().unwrap().success(),
        "the first restart finished first"
    );
    let r = json(&out);
    assert_eq!(previous(&r).backend.variant, Variant::Cuda);
    assert_eq!(r.backend.variant, Variant::Cpu);
}

#[test]
fn a_stale_record_with_a_recycled_pid_is_never_signalled() {
    let env = Env::new();
    env.install("cpu", "", None);
    let mut other = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    let pid = other.id() as i32;
    let real_start = voxctl::process::start_time(pid).unwrap();
    std::fs::create_dir_all(&env.state).unwrap();
    let stale = BackendRecord {
        pid,
        start_time: real_start + 1, // the recorded backend started at another time
        boot_id: voxctl::process::boot_id(),
        host: voxctl::process::hostname(),
        variant: Variant::Cpu,
        binary: "/nonexistent/voicebox-server-cpu".into(),
        version: None,
        port: env.port,
        health_url: None,
        data_dir: None,
        args: Vec::new(),
        log: "/dev/null".into(),
        started_at: 0,
        ready_ms: None,
    };
    stale.write(&env.state.join("backend.json")).unwrap();
    let out = env.restart("cpu", &["--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not signalling it"),
        "{}",
        stderr(&out)
    );
    assert_eq!(json(&out).previous, None);
    assert!(
        other.try_wait().unwrap().is_none(),
        "the other process was not signalled"
    );
    assert!(!env.state.join("restart-marker.json").exists());
    other.kill().unwrap();
    other.wait().unwrap();
}

#[test]
fn a_port_held_by_someone_else_times_out_with_exit_7_naming_the_holder() {
    let env = Env::new();
    env.install("cpu", "", None);
    let squatter = std::net::TcpListener::bind(("127.0.0.1", env.port)).unwrap();
    let out = env
        .restart("cpu", &["--stop-timeout", "300ms"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "port {} is still in use by pid {}",
            env.port,
            std::process::id()
        )),
        "{err}"
    );
    assert!(env.record().is_none(), "nothing was started");
    drop(squatter);
}

/// Restarts `variant` (nothing running, or swapping), asserts success and returns the new
/// backend's pid, tracked for cleanup.
fn start(env: &Env, variant: &str) -> i32 {
    let out = env.restart(variant, &["--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let pid = json(&out).backend.pid;
    env.track(pid);
    pid
}

/// `voxctl restart` in the background, stderr captured (for [`interrupt`]).
fn spawn_restart(env: &Env, variant: &str, extra: &[&str]) -> std::process::Child {
    env.restart_std(variant, extra)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// The pids whose executable is `exe`.
fn processes_of(exe: &std::path::Path) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|pid: &i32| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|e| e == exe))
        .collect()
}

/// Sends SIGINT to `child` and waits for it to exit; returns its output. The bound only
/// tells "stopped on SIGINT" from "ran on into the 60 s stop timeout or 120 s ready timeout
/// the callers set", generously for a loaded machine.
fn interrupt(child: std::process::Child) -> std::process::Output {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(45),
        "voxctl took {:?} to stop after SIGINT",
        started.elapsed()
    );
    out
}

#[test]
fn ctrl_c_while_the_old_backend_stops_takes_no_further_step() {
    let env = Env::new();
    env.install("cpu", "ignore_term=1\n", None);
    env.install("cuda", "", None);
    let old = start(&env, "cpu");

    let child = spawn_restart(&env, "cuda", &["--stop-timeout", "60s"]);
    let log = env.state.join("logs/voicebox-server-cpu.log");
    assert!(
        wait_until(Duration::from_secs(20), || read(&log)
            .contains("SIGTERM received")),
        "the old backend was sent SIGTERM"
    );
    let out = interrupt(child);
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("interrupted"), "{err}");
    assert!(
        err.contains(&format!(
            "backend pid {old} was sent SIGTERM and stays recorded"
        )),
        "{err}"
    );
    // No SIGKILL, no start: the old backend still runs and is still the recorded one.
    std::thread::sleep(Duration::from_millis(300));
    assert!(alive(old), "an interrupted stop never escalates to SIGKILL");
    assert_eq!(env.record().unwrap().pid, old);
    assert_eq!(env.health().unwrap()["backend_variant"], "cpu");
    assert!(!read(&env.state.join("logs/voicebox-server-cuda.log")).contains("starting"));
    // The slot died with the process: the next restart finishes the job.
    let out = env
        .restart("cuda", &["--json", "--stop-timeout", "200ms"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(previous(&json(&out)).stopped, Stopped::Killed);
    assert!(!alive(old));
}

#[test]
fn ctrl_c_while_the_new_backend_starts_leaves_it_running_and_recorded() {
    let env = Env::new();
    env.install("cpu", "", None);
    env.install("cuda", "start_delay_ms=60000\n", None);
    let old = start(&env, "cpu");

    let child = spawn_restart(&env, "cuda", &["--ready-timeout", "120s"]);
    assert!(
        wait_until(Duration::from_secs(20), || env
            .record()
            .is_some_and(|r| r.variant == Variant::Cuda)),
        "the new backend was started and recorded"
    );
    let new = env.record().unwrap().pid;
    let out = interrupt(child);
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "backend pid {new} (cuda) was started and is recorded"
        )),
        "{err}"
    );
    // No rollback: the old backend stays stopped, the new one keeps starting.
    assert!(!alive(old));
    assert!(alive(new), "the new backend was not stopped");
    let b = env.status().backend.expect("a backend");
    assert_eq!((b.record.pid, b.running), (new, true));
}

#[test]
fn a_hung_version_check_is_killed_after_10_s_and_the_next_variant_is_used() {
    let env = Env::new();
    env.install("cpu", "", None);
    let cuda = env.install("cuda", "version_delay_ms=120000\n", None);
    let started = Instant::now();
    let out = env
        .restart("cuda", &["--json", "--fallback", "cpu"])
        .output()
        .unwrap();
    let took = started.elapsed();
    assert!(out.status.success(), "{}", stderr(&out));
    let r = json(&out);
    env.track(r.backend.pid);
    assert_eq!(r.backend.variant, Variant::Cpu);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{} --version did not finish within 10s",
            cuda.display()
        )),
        "{err}"
    );
    assert!(err.contains("falling back to cpu"), "{err}");
    assert!(
        // The upper bound only tells "killed after 10 s" from "waited out the 120 s delay".
        took >= Duration::from_secs(10) && took < Duration::from_secs(100),
        "{took:?}"
    );
    // The hung `--version` was killed, not left behind.
    let leftovers = processes_of(&cuda);
    assert!(leftovers.is_empty(), "still running: {leftovers:?}");
}

#[test]
fn ctrl_c_during_a_hung_version_check_kills_it_and_touches_nothing() {
    let env = Env::new();
    env.install("cpu", "", None);
    let cuda = env.install("cuda", "version_delay_ms=120000\n", None);
    let running = start(&env, "cpu");

    let probes = || processes_of(&cuda);
    let child = spawn_restart(&env, "cuda", &[]);
    assert!(
        wait_until(Duration::from_secs(20), || !probes().is_empty()),
        "cuda --version is running"
    );
    let out = interrupt(child);
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(!stderr(&out).contains("falling back"), "{}", stderr(&out));
    assert!(alive(running), "the running backend was not touched");
    assert_eq!(env.record().unwrap().pid, running);
    assert!(
        wait_until(Duration::from_secs(30), || probes().is_empty()),
        "the probe was killed"
    );
}

/// `status` exits 3 when the recorded backend is not running, as `systemctl status` does for
/// an inactive unit (with `--json` too, printing the document); 0 while it runs or when none
/// is recorded.
#[test]
fn status_exits_3_when_the_recorded_backend_is_not_running() {
    let env = Env::new();
    env.install("cpu", "", None);
    env.status_cmd(&[]).assert().code(0);
    let pid = start(&env, "cpu");
    env.status_cmd(&[]).assert().code(0);

    let group = nix::unistd::Pid::from_raw(pid);
    nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL).unwrap();
    assert!(wait_until(Duration::from_secs(30), || !alive(pid)));
    let out = env.status_cmd(&[]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    pinned(
        "restart_status_not_running",
        &text(&env, &out, &[pid]),
        true,
    );
    let out = env.status_cmd(&["--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let doc: voxctl::status::Status = support::json_doc(&out.stdout);
    let b = doc.backend.expect("still recorded");
    assert_eq!(
        (b.running, b.health, b.record.pid),
        (false, HealthState::NotRunning, pid)
    );
}
