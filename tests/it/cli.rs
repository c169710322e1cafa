//! Command-line conventions every subcommand shares: exit codes in `--help`,
//! usage errors exit 2, errors print as `voxctl: error: ...` with a `hint:`, and the state dir
//! is refused when it is not private.

use crate::support;

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
fn status_help_says_what_verbose_adds() {
    let tmp = tempfile::tempdir().unwrap();
    let out = support::voxctl(tmp.path())
        .args(["status", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(
        help.contains("With -v") && help.contains("served by"),
        "status --help does not say what -v adds:\n{help}"
    );
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

/// A usage error reads the same whether clap or voxctl found it: the error, a `hint:`, then
/// the command's usage line (as git and cargo print `usage:` after an argument error).
#[test]
fn every_usage_error_prints_a_hint_and_the_usage_line() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut cases = vec![
        // An invalid value clap rejects (clap prints no usage line for it).
        &["fetch", "--jobs", "0"][..],
        // Values voxctl rejects after parsing.
        &["fetch", "--pubkey", ""][..],
    ];
    // A file URL naming a host (on Windows it names a UNC share, \\tmp\x, and is valid).
    if cfg!(unix) {
        cases.push(&["fetch", "--mirror", "file://tmp/x"][..]);
    }
    for args in cases {
        let out = support::voxctl(tmp.path())
            .args(args)
            .arg("--data-dir")
            .arg(&data)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let stderr = String::from_utf8(out.stdout.clone()).unwrap()
            + &String::from_utf8(out.stderr).unwrap();
        let error = stderr.find("voxctl: error: ");
        let hint = stderr.find("\nhint: ");
        let usage = stderr.find("\nUsage: voxctl fetch [OPTIONS]");
        assert!(
            error.is_some() && error < hint && hint < usage,
            "{args:?}: no error, hint and usage line in that order:\n{stderr}"
        );
    }
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

#[cfg(unix)]
#[test]
fn world_writable_state_dir_is_refused_with_a_hint() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o777)).unwrap();
    let mut status = support::voxctl_std(&state);
    status.arg("status");
    let text = crate::snapshots::redact(&crate::snapshots::transcript(&mut status), tmp.path());
    crate::snapshots::pinned("cli_world_writable_state_dir", &text, false);
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

/// `voxctl PATH --help` for every visible subcommand path (`["lease", "acquire"]`), found
/// through the `Commands:` lists of the help texts.
fn command_paths(dir: &std::path::Path) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut todo = vec![Vec::<String>::new()];
    while let Some(path) = todo.pop() {
        let out = support::voxctl(dir)
            .args(&path)
            .arg("--help")
            .output()
            .unwrap();
        assert!(out.status.success(), "{path:?} --help");
        let help = String::from_utf8(out.stdout).unwrap();
        if let Some(list) = help.split("\nCommands:\n").nth(1) {
            for line in list.lines().take_while(|l| !l.trim().is_empty()) {
                // Continuation lines of a wrapped description are indented further.
                if line.starts_with("  ") && !line.starts_with("   ") {
                    let name = line.split_whitespace().next().unwrap();
                    if name != "help" {
                        let mut sub = path.clone();
                        sub.push(name.to_string());
                        todo.push(sub);
                    }
                }
            }
        }
        paths.push(path);
    }
    paths
}

/// The options of `voxctl PATH` whose value is a number, a duration or a size (`--ttl`).
fn numeric_options(dir: &std::path::Path, path: &[String]) -> Vec<String> {
    let out = support::voxctl(dir)
        .args(path)
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let mut found = Vec::new();
    for line in help.lines() {
        let t = line.trim_start();
        let t = t.strip_prefix("-w, ").unwrap_or(t);
        let Some(rest) = t.strip_prefix("--") else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let flag = words.next().unwrap().trim_end_matches(',');
        let value = words.next().unwrap_or("");
        let value = value.trim_matches(|c| c == '[' || c == ']' || c == '<' || c == '>');
        if ["DUR", "N", "SIZE", "PID", "TOKEN"].contains(&value) {
            found.push(format!("--{flag}"));
        }
    }
    found
}

/// Every option that takes a number, a
/// duration or a size is in this table, with what a zero (or a negative number) does: refused
/// up front (exit 2, `voxctl: error:` naming the option, a `hint:`), or, where it means
/// something, accepted (the meaning is in `--help`).
#[test]
fn values_that_can_never_work_are_refused_up_front_with_a_hint() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("asset");
    std::fs::write(&file, b"data").unwrap();
    let file = file.to_str().unwrap();
    let missing = tmp.path().join("no-release");
    let missing = missing.to_str().unwrap();
    // (subcommand, arguments, the option tried, refused?, extra environment)
    type Row<'a> = (
        &'a str,
        Vec<&'a str>,
        &'a str,
        bool,
        Option<(&'a str, &'a str)>,
    );
    let fetch = |extra: &[&'static str]| {
        let mut a = vec!["--variant", "cpu", "--source", missing];
        a.extend_from_slice(extra);
        a
    };
    let rows: Vec<Row> = vec![
        ("restart", vec!["--port", "0"], "--port", true, None),
        ("restart", vec!["--port", "-1"], "--port", true, None),
        (
            "restart",
            vec!["--stop-timeout", "0"],
            "--stop-timeout",
            true,
            None,
        ),
        (
            "restart",
            vec!["--stop-timeout", "-1"],
            "--stop-timeout",
            true,
            None,
        ),
        (
            "restart",
            vec!["--ready-timeout", "0s"],
            "--ready-timeout",
            true,
            None,
        ),
        ("restart", vec!["--wait", "-1"], "--wait", true, None),
        ("fetch", fetch(&["--jobs", "0"]), "--jobs", true, None),
        (
            "fetch",
            fetch(&["--retries", "-1"]),
            "--retries",
            true,
            None,
        ),
        (
            "fetch",
            fetch(&["--retries", "0"]),
            "--retries",
            false,
            None,
        ),
        (
            "fetch",
            fetch(&["--retry-delay", "0"]),
            "--retry-delay",
            false,
            None,
        ),
        (
            "fetch",
            fetch(&["--retry-delay", "-1s"]),
            "--retry-delay",
            true,
            None,
        ),
        (
            "fetch",
            fetch(&["--connect-timeout", "0"]),
            "--connect-timeout",
            true,
            None,
        ),
        (
            "fetch",
            fetch(&[]),
            "--connect-timeout",
            true,
            Some(("VOXCTL_CONNECT_TIMEOUT", "0")),
        ),
        (
            "fetch",
            fetch(&["--read-timeout", "0"]),
            "--read-timeout",
            true,
            None,
        ),
        (
            "fetch",
            fetch(&["--read-timeout", "0ms"]),
            "--read-timeout",
            true,
            None,
        ),
        (
            "fetch",
            fetch(&[]),
            "--read-timeout",
            true,
            Some(("VOXCTL_READ_TIMEOUT", "0")),
        ),
        (
            "fetch",
            fetch(&["--detect-timeout", "0"]),
            "--detect-timeout",
            true,
            None,
        ),
        (
            "fetch",
            fetch(&["--max-size", "0"]),
            "--max-size",
            true,
            None,
        ),
        ("fetch", fetch(&["--wait", "0"]), "--wait", false, None),
        (
            "split",
            vec![file, "--part-size", "0"],
            "--part-size",
            true,
            None,
        ),
        (
            "index",
            vec![file, "--avg-size", "0"],
            "--avg-size",
            true,
            None,
        ),
        (
            "doctor",
            vec!["--detect-timeout", "0"],
            "--detect-timeout",
            true,
            None,
        ),
        (
            "stop",
            vec!["--stop-timeout", "0"],
            "--stop-timeout",
            true,
            None,
        ),
        ("stop", vec!["--wait", "0"], "--wait", false, None),
        ("remove", vec!["cpu", "--wait", "0"], "--wait", false, None),
        (
            "remove",
            vec!["cpu", "--stop-timeout", "0"],
            "--stop-timeout",
            true,
            None,
        ),
        (
            "reap",
            vec!["--dry-run", "--pidfile", missing, "--max-marker-age", "0"],
            "--max-marker-age",
            true,
            None,
        ),
        (
            "reap",
            vec!["--dry-run", "--pidfile", missing, "--teardown-grace", "0"],
            "--teardown-grace",
            false,
            None,
        ),
        (
            "reap",
            vec!["--dry-run", "--pidfile", missing, "--term-grace", "0"],
            "--term-grace",
            false,
            None,
        ),
        (
            "reap",
            vec!["--dry-run", "--pidfile", missing, "--term-grace", "-1"],
            "--term-grace",
            true,
            None,
        ),
        ("reap mark", vec!["--pid", "0"], "--pid", true, None),
        ("reap mark", vec!["--pid", "-7"], "--pid", true, None),
        (
            "lease acquire",
            vec!["a", "--ttl", "0"],
            "--ttl",
            true,
            None,
        ),
        (
            "lease acquire",
            vec!["a", "--owner-pid", "0"],
            "--owner-pid",
            true,
            None,
        ),
        (
            "lease acquire",
            vec!["a", "--owner-pid", "-1"],
            "--owner-pid",
            true,
            None,
        ),
        (
            "lease acquire",
            vec!["b", "--wait", "0"],
            "--wait",
            false,
            None,
        ),
        (
            "lease renew",
            vec!["a", "--token", "0"],
            "--token",
            true,
            None,
        ),
        (
            "lease renew",
            vec!["a", "--token", "1", "--ttl", "0"],
            "--ttl",
            true,
            None,
        ),
        (
            "lease release",
            vec!["a", "--token", "-1"],
            "--token",
            true,
            None,
        ),
        (
            "lease run",
            vec!["a", "--ttl", "0", "--", "true"],
            "--ttl",
            true,
            None,
        ),
        (
            "lease run",
            vec!["a", "--kill-grace", "0", "--", "true"],
            "--kill-grace",
            true,
            None,
        ),
        (
            "lease run",
            vec!["c", "--wait", "0", "--", "true"],
            "--wait",
            false,
            None,
        ),
    ];
    // Every numeric option of every subcommand has a row, and every row such an option.
    let mut found = Vec::new();
    for path in command_paths(tmp.path()) {
        let name = path.join(" ");
        for flag in numeric_options(tmp.path(), &path) {
            assert!(
                rows.iter()
                    .any(|(cmd, _, f, _, _)| *cmd == name && *f == flag),
                "`voxctl {name} {flag}` has no row: decide what 0 does there"
            );
            found.push((name.clone(), flag));
        }
    }
    for (cmd, _, flag, _, _) in &rows {
        assert!(
            found.iter().any(|(c, f)| c == cmd && f == flag),
            "`voxctl {cmd} --help` shows no {flag} taking a number: {found:?}"
        );
    }
    for (cmd, args, flag, refused, env) in &rows {
        let state = tempfile::tempdir().unwrap();
        let mut c = support::voxctl(&state.path().join("state"));
        c.env("VOXCTL_DATA_DIR", state.path().join("data"))
            .current_dir(state.path())
            .args(cmd.split(' '))
            .args(args);
        if let Some((k, v)) = env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let shown = format!("voxctl {cmd} {} {env:?}:\n{stderr}", args.join(" "));
        if *refused {
            assert_eq!(out.status.code(), Some(2), "{shown}");
            assert!(stderr.starts_with("voxctl: error: "), "{shown}");
            assert!(stderr.contains(flag), "the error names {flag}: {shown}");
            assert!(stderr.contains("\nhint: "), "a hint: {shown}");
        } else {
            assert_ne!(out.status.code(), Some(2), "{shown}");
        }
    }
}

/// One `--wait` grammar in every command that
/// can meet a busy slot or lease, as `flock -w 10` reads its: absent or `--wait 0` exits 4 at
/// once, `--wait DUR` / `-w DUR` / `--wait=DUR` waits at most DUR then exits 4, a bare
/// `--wait` waits until the holder lets go. And a bare `--wait` before a positional is a
/// usage error whose hint shows where it goes, never a silent misparse.
#[test]
fn one_wait_grammar_for_every_command_that_meets_a_busy_slot_or_lease() {
    use std::process::{Child, Stdio};
    use std::time::{Duration, Instant};
    use voxctl::slot::SlotTable;

    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let data = tmp.path().join("data");
    let missing = tmp.path().join("no-release");
    let missing = missing.to_str().unwrap().to_string();
    let cmd = |args: &[String]| {
        let mut c = support::voxctl_std(&state);
        c.env("VOXCTL_DATA_DIR", &data)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    };
    // The holders: this process holds the slots of a fetch of cpu and of a restart, and two
    // leases are held (one for each lease command's waiters).
    let dir = voxctl::state::StateDir::open(Some(&state)).unwrap();
    let table = SlotTable::new(&dir).unwrap();
    let fetch_slot = table
        .try_acquire(&format!("fetch-{}", support::restart::asset_name("cpu")))
        .unwrap();
    let restart_slot = table.try_acquire("restart-voicebox").unwrap();
    let fetch_slot = fetch_slot.guard().expect("the fetch slot is free");
    let restart_slot = restart_slot.guard().expect("the restart slot is free");
    let hold = |name: &str| {
        let out = cmd(&["lease", "acquire", name, "--ttl", "10m"].map(String::from))
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let (la, lr) = (hold("La"), hold("Lr"));

    // A command that exits 0 at once.
    const TRUE_COMMAND: &[&str] = if cfg!(windows) {
        &["--", "cmd", "/c", "exit", "0"]
    } else {
        &["--", "true"]
    };
    // (command, arguments before and after the wait, exit status once it got its turn)
    let commands: [(&[&str], &[&str], i32); 6] = [
        (&["fetch", "--variant", "cpu", "--source", &missing], &[], 1),
        (&["restart", "--variant", "cpu"], &[], 1),
        (&["stop"], &[], 0),
        (&["remove", "cpu"], &[], 0),
        (&["lease", "acquire", "La", "--ttl", "1m"], &[], 0),
        (&["lease", "run", "Lr", "--ttl", "1m"], TRUE_COMMAND, 0),
    ];
    let line = |before: &[&str], wait: &[&str], after: &[&str]| -> Vec<String> {
        before
            .iter()
            .chain(wait)
            .chain(after)
            .map(|s| s.to_string())
            .collect()
    };
    struct Run {
        args: Vec<String>,
        started: Instant,
        child: Child,
    }
    let spawn = |args: Vec<String>| Run {
        started: Instant::now(),
        child: cmd(&args).spawn().unwrap(),
        args,
    };
    let mut at_once = Vec::new();
    let mut bounded = Vec::new();
    let mut unlimited = Vec::new();
    for (before, after, then) in commands {
        for wait in [&[][..], &["--wait", "0"]] {
            at_once.push(spawn(line(before, wait, after)));
        }
        for wait in [&["--wait", "1"][..], &["-w", "1"], &["--wait=1"]] {
            bounded.push(spawn(line(before, wait, after)));
        }
        unlimited.push((spawn(line(before, &["--wait"], after)), then));
    }
    let finish = |run: Run| {
        let out = run.child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (run.args, run.started.elapsed(), out.status.code(), stderr)
    };
    for run in at_once {
        let (args, _, code, stderr) = finish(run);
        assert_eq!(code, Some(4), "{args:?} exits 4 at once:\n{stderr}");
        assert!(stderr.contains("pass --wait"), "{args:?}: {stderr}");
    }
    for run in bounded {
        let (args, took, code, stderr) = finish(run);
        assert_eq!(code, Some(4), "{args:?} gives up busy:\n{stderr}");
        assert!(took >= Duration::from_secs(1), "{args:?} waited {took:?}");
        assert!(
            stderr.contains("longer"),
            "{args:?}: a longer wait: {stderr}"
        );
    }
    // The bounded waits are over; the unlimited ones still wait.
    for (run, _) in &mut unlimited {
        if let Some(status) = run.child.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            run.child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("{:?} ended ({status}) while held:\n{err}", run.args);
        }
    }
    drop(fetch_slot);
    drop(restart_slot);
    for (name, token) in [("La", &la), ("Lr", &lr)] {
        let out = cmd(&["lease", "release", name, "--token", token].map(String::from))
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    for (run, then) in unlimited {
        let (args, _, code, stderr) = finish(run);
        assert_eq!(code, Some(then), "{args:?} got its turn:\n{stderr}");
    }

    // A bare --wait before a positional takes it as a duration: refused, with where to put
    // the bare --wait; nothing is acquired.
    for (args, place) in [
        (
            &["lease", "acquire", "--wait", "M"][..],
            "`voxctl lease acquire NAME --wait`",
        ),
        (
            &["lease", "run", "--wait", "M", "--", "true"],
            "`voxctl lease run NAME --wait -- COMMAND...`",
        ),
    ] {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let out = cmd(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("voxctl: error: invalid value 'M' for '--wait"),
            "{stderr}"
        );
        assert!(stderr.contains(place), "{args:?}: {stderr}");
    }
    let out = cmd(&["lease", "acquire", "M", "--wait", "0"].map(String::from))
        .output()
        .unwrap();
    assert!(out.status.success(), "M was never taken: {out:?}");
}

/// Clap's own usage errors look like every
/// other error (`voxctl: error: ...`, then a `hint:` line; with `--json` the error document),
/// and neither they nor bare `voxctl` name the hidden `generate`.
#[test]
fn usage_errors_carry_the_voxctl_prefix_a_hint_and_no_hidden_command() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: [&[&str]; 12] = [
        &[],
        &["-q"],
        &["reap", "-q"],
        &["lease"],
        &["gen"],
        &["help", "generat"],
        &["status", "--no-such-flag"],
        &["split"],
        &["fetch", "--variant", "gpu"],
        &["fetch", "--jobs", "65"],
        &["lease", "acquire", "x", "--ttl"],
        &["verify", "--sha256", "abc", "f"],
    ];
    for args in cases {
        let out = support::voxctl(tmp.path()).args(args).output().unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with("voxctl: error: "), "{args:?}: {stderr}");
        assert!(!stderr.contains("\nerror: "), "{args:?}: {stderr}");
        let hints: Vec<&str> = stderr.lines().filter(|l| l.starts_with("hint: ")).collect();
        assert_eq!(hints.len(), 1, "{args:?}: one hint line: {stderr}");
        assert!(!stderr.contains("tip:"), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("generate"),
            "{args:?} names generate: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
        // The same as data with --json.
        let out = support::voxctl(tmp.path())
            .arg("--json")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let doc: voxctl::error::ErrorDoc = support::json_doc(&out.stdout);
        assert_eq!(doc.error.kind, "usage");
        let hint = doc.error.hint.unwrap_or_default();
        assert!(hints[0].ends_with(&hint), "{args:?}: {hint} vs {hints:?}");
    }
    // Bare `voxctl` still lists the commands.
    let out = support::voxctl(tmp.path()).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("\nCommands:\n") && stderr.contains("  fetch "),
        "{stderr}"
    );
    // An unknown option gets clap's suggestion as its hint.
    let out = support::voxctl(tmp.path())
        .args(["fetch", "--read-timeot", "5"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("hint: a similar argument exists: '--read-timeout'"),
        "{stderr}"
    );
}

/// A variant is read in any case, wherever one
/// is taken (`--variant`, `--fallback`, `remove VARIANT`, `verify --installed VARIANT`), and
/// means the same as in lower case.
#[test]
fn variants_are_case_insensitive_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let data = tmp.path().join("data");
    let run = |args: &[&str]| {
        let out = support::voxctl(&state)
            .env("VOXCTL_DATA_DIR", &data)
            .current_dir(tmp.path())
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.code(), stderr)
    };
    // A fetch of CUDA looks for the cuda asset (and finds no release: exit 1).
    let empty = tmp.path().join("empty-release");
    std::fs::create_dir(&empty).unwrap();
    let (code, err) = run(&[
        "fetch",
        "--variant",
        "CUDA",
        "--source",
        empty.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("voicebox-server-cuda"), "{err}");
    // A restart of Cpu (with a ROCm fallback) finds neither installed: exit 1, both named.
    let (code, err) = run(&["restart", "--variant", "Cpu", "--fallback", "ROCm"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("cpu: not installed") && err.contains("rocm: not installed"),
        "{err}"
    );
    let (code, err) = run(&["remove", "CUDA"]);
    assert_eq!(code, Some(0), "{err}");
    let cuda = support::restart::asset_name("cuda");
    assert!(err.contains(&format!("{cuda} is not installed")), "{err}");
    let (code, err) = run(&["verify", "--installed", "CPU"]);
    assert_eq!(code, Some(3), "{err}");
    let cpu = support::restart::asset_name("cpu");
    assert!(err.contains(&format!("{cpu} is not installed")), "{err}");
    // split records the variant as the manifest spells it.
    let file = tmp.path().join("voicebox-server-rocm");
    std::fs::write(&file, b"backend").unwrap();
    let (code, err) = run(&[
        "split",
        "voicebox-server-rocm",
        "--variant",
        "ROCM",
        "--out",
        "dist",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let json = std::fs::read(tmp.path().join("dist/voicebox-server-rocm.manifest.json")).unwrap();
    let m = voxctl::manifest::Manifest::from_json(&json).unwrap();
    assert_eq!(m.variant.as_deref(), Some("rocm"));
    // Anything else is still refused, listing the variants.
    let (code, err) = run(&["remove", "gpu"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("[possible values: cpu, cuda, rocm]"), "{err}");
}
