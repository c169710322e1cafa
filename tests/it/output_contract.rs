//! What every subcommand prints, as users of sha256sum, split, curl and systemctl expect it:
//! plain logs when stderr is not a terminal, no bar before the input is open, usage lines
//! without env-set globals, JSON errors on stdout with `--json`, one unit system, a quiet
//! `-q`, and a `status` that creates nothing.

use crate::snapshots::{pinned, redact, runner, transcript};
use crate::support;

use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::Stdio;

use voxctl::backend::select::NoUsableBinaryDoc;
use voxctl::error::{ErrorBody, ErrorDoc, Failed};
use voxctl::exit::ExitStatus;
use voxctl::status::Status;

/// `voxctl ARGS` with stderr on a pseudo-terminal (stdout and stdin are pipes/null); returns
/// everything written to the terminal, and the exit code.
fn on_a_terminal(state: &Path, args: &[&str]) -> (String, Option<i32>) {
    let pty = nix::pty::openpty(None, None).unwrap();
    let slave: OwnedFd = pty.slave;
    let mut cmd = support::voxctl_std(state);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(slave.try_clone().unwrap()));
    let mut child = cmd.spawn().unwrap();
    drop(cmd);
    drop(slave);
    let mut master = std::fs::File::from(pty.master);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    // Reading the master ends with EIO once every slave fd (the child's) is closed.
    loop {
        match master.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    let status = child.wait().unwrap();
    (String::from_utf8_lossy(&out).into_owned(), status.code())
}

// Nothing is drawn before the input is opened.
#[test]
fn split_of_a_missing_file_draws_no_bar_on_a_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let (tty, code) = on_a_terminal(tmp.path(), &["split", "/nonexistent-voxctl-input", "--out"]);
    // `--out` without a value is a usage error: make sure the harness sees real output first.
    assert_eq!(code, Some(2), "{tty}");
    let out = tmp.path().join("out");
    let (tty, code) = on_a_terminal(
        tmp.path(),
        &[
            "split",
            "/nonexistent-voxctl-input",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(1), "{tty}");
    assert!(
        tty.contains("cannot open /nonexistent-voxctl-input"),
        "{tty:?}"
    );
    let lines: Vec<&str> = tty.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "only the error is written: {tty:?}");
    assert!(!tty.contains('\x1b'), "no bar or cursor control: {tty:?}");
    assert!(!tty.contains("0 B"), "no empty bar: {tty:?}");
}

// -v/-vv logs are plain text when stderr is a file or pipe, and say what was decided.
/// The logs of `-v`/`-vv`, off a terminal: plain text (no ANSI codes), each decision said
/// (the split into parts, each part written and checked, the release layout found).
#[test]
fn verbose_logs_are_uncoloured_off_a_terminal_and_say_what_was_decided() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("voicebox-server-cpu");
    std::fs::write(&input, support::release::bytes(2500, 7)).unwrap();
    let run = runner(tmp.path());
    pinned(
        "contract_split_vv",
        &run(&[
            "-vv",
            "split",
            "--chunk-size",
            "1000",
            "--out",
            "dist",
            "voicebox-server-cpu",
        ]),
        false,
    );
    pinned(
        "contract_verify_manifest_v",
        &run(&[
            "-v",
            "verify",
            "--manifest",
            "dist/voicebox-server-cpu.manifest.json",
        ]),
        false,
    );
    pinned(
        "contract_fetch_v",
        &run(&[
            "-v",
            "fetch",
            "--variant",
            "cpu",
            "--source",
            "dist",
            "--data-dir",
            "data",
        ]),
        false,
    );
}

// An env-set global option is not part of a subcommand's usage line.
#[test]
fn usage_line_shows_only_the_subcommands_own_required_arguments() {
    let tmp = tempfile::tempdir().unwrap();
    let run = runner(tmp.path());
    pinned("usage_missing", &run(&["split"]), false);
    pinned(
        "usage_missing_lease_name",
        &run(&["lease", "acquire"]),
        false,
    );
    // The variable still selects the state dir.
    let state = tmp.path().join("chosen");
    support::voxctl(&state)
        .args(["lease", "acquire", "x"])
        .assert()
        .success();
    assert!(state.join("leases").is_dir());
}

// -q silences every message.
#[test]
fn quiet_silences_reap_mark() {
    let tmp = tempfile::tempdir().unwrap();
    let marker = tmp.path().join("marker.json");
    let out = support::voxctl(tmp.path())
        .args([
            "-q",
            "reap",
            "mark",
            "--pid",
            &std::process::id().to_string(),
        ])
        .arg("--marker")
        .arg(&marker)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(marker.is_file());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    // Without -q it says what it did (on stderr: it is a message, not data).
    let out = support::voxctl(tmp.path())
        .args(["reap", "mark", "--pid", &std::process::id().to_string()])
        .arg("--marker")
        .arg(&marker)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("marked pid"));
}

/// Runs `voxctl --json ARGS` expecting exit `code`, and decodes the error document on stdout
/// (docs/contract.md "Output"), which must be exactly what the library's [`ErrorDoc`] prints.
fn json_error(state: &Path, args: &[&str], code: i32) -> ErrorBody {
    let out = support::voxctl(state)
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(code), "{args:?}: {out:?}");
    // restart adds context beside `error` (what was rejected, what keeps running).
    let error = if args[0] == "restart" {
        support::json_doc_sorted::<NoUsableBinaryDoc>(&out.stdout, true).error
    } else {
        support::json_doc::<ErrorDoc>(&out.stdout).error
    };
    assert_eq!(i32::from(error.code.code()), code, "{args:?}");
    assert_eq!(error.kind, error.code.name(), "{args:?}");
    assert!(!error.message.is_empty());
    error
}

// With --json every failure is a JSON document on stdout, for every subcommand.
#[test]
fn json_failures_are_error_documents_on_stdout_for_every_subcommand() {
    let tmp = tempfile::tempdir().unwrap();
    let st = tmp.path();
    let missing = tmp.path().join("missing");
    let m = missing.to_str().unwrap();

    let e = json_error(st, &["split"], 2);
    assert_eq!(e.kind, "usage");
    assert!(e.message.contains("<FILE>"), "{e:?}");
    let e = json_error(st, &["split", m], 1);
    assert_eq!(e.kind, "failure");
    assert!(e.message.contains(m), "{e:?}");
    let e = json_error(st, &["verify", "--manifest", m], 3);
    assert!(e.message.contains(m), "{e:?}");
    let sums = tmp.path().join("SUMS");
    std::fs::write(&sums, format!("{}  {m}\n", "0".repeat(64))).unwrap();
    // verify's report says what failed: it stays the one document on stdout.
    let out = support::voxctl(st)
        .args(["--json", "verify", "-c"])
        .arg(&sums)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let report: voxctl::verify::Report = support::json_doc(&out.stdout);
    assert!(!report.ok);
    let e = json_error(st, &["status", "--app", "../x"], 2);
    assert_eq!(e.kind, "usage");
    let e = json_error(
        st,
        &["reap", "mark", "--pid", "2147483000", "--marker", m],
        1,
    );
    assert!(e.message.contains("2147483000"), "{e:?}");
    let e = json_error(st, &["restart", "--variant", "rocm", "--data-dir", m], 1);
    assert!(e.message.contains("rocm"), "{e:?}");

    // A lease: busy (4), with a hint that fits whether --wait was given; stale token (6).
    support::voxctl(st)
        .args(["lease", "acquire", "deploy", "--ttl", "1m"])
        .assert()
        .success();
    let e = json_error(st, &["lease", "acquire", "deploy"], 4);
    assert_eq!(e.kind, "busy");
    assert!(e.hint.unwrap().contains("--wait"));
    let e = json_error(st, &["lease", "acquire", "deploy", "--wait", "200ms"], 4);
    let hint = e.hint.unwrap();
    assert!(!hint.contains("pass --wait"), "{hint}");
    assert!(hint.contains("wait longer"), "{hint}");
    let e = json_error(st, &["lease", "renew", "deploy", "--token", "999"], 6);
    assert_eq!(e.kind, "lost");

    // fetch's JSON is an event stream: its last line is the failed event.
    let out = support::voxctl(st)
        .args(["--json", "fetch", "--variant", "cpu", "--data-dir"])
        .arg(tmp.path().join("data"))
        .args(["--source", m])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let last = stdout.lines().last().unwrap();
    let last: Failed = support::json_doc_sorted(format!("{last}\n").as_bytes(), false);
    assert_eq!(last.error.code, ExitStatus::Failure);
    assert!(last.error.message.contains(m), "{last:?}");
}

// status creates nothing, warns about a missing data dir, shows partial downloads,
// and aligns its columns whatever the values.
#[test]
fn status_is_read_only_warns_about_a_missing_data_dir_and_shows_partial_downloads() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let data = tmp.path().join("no-such-data");
    let mut status = support::voxctl_std(&state);
    status.args(["status", "--data-dir"]).arg(&data);
    pinned(
        "contract_status_no_data_dir",
        &redact(&transcript(&mut status), tmp.path()),
        false,
    );
    assert!(!state.exists(), "status created the state dir");
    assert!(!data.exists(), "status created the data dir");
    let out = support::voxctl(&state)
        .args(["--json", "status", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    let v: Status = support::json_doc(&out.stdout);
    assert!(!v.data_dir_exists);
    assert_eq!(v.data_dir, data);
    assert!(v.installed.is_empty() && v.partial.is_empty() && v.backend.is_none());
    assert!(!state.exists(), "status --json created the state dir");
    for args in [&["lease", "list"][..], &["lease", "status", "x"][..]] {
        support::voxctl(&state).args(args).assert().success();
        assert!(!state.exists(), "{args:?} created the state dir");
    }

    // A partial download (as an interrupted fetch leaves it) and two installs whose values
    // are wider than any fixed column.
    let data = tmp.path().join("data");
    let partial = data.join("backends/.partial/voicebox-server-cuda");
    std::fs::create_dir_all(&partial).unwrap();
    std::fs::write(partial.join("plan.json"), r#"{"size": 3145728}"#).unwrap();
    std::fs::write(
        partial.join("progress.json"),
        r#"{"received":[1048576,524288]}"#,
    )
    .unwrap();
    let backends = voxctl::installs::BackendsDir::new(&data);
    for (asset, version) in [
        ("voicebox-server-cpu", "1.2.3-rc.4+build.567890"),
        ("voicebox-server-rocm", "1"),
    ] {
        let path = backends.asset_path(asset);
        std::fs::write(&path, b"x").unwrap();
        backends
            .write_record(&voxctl::installs::InstallRecord {
                asset: asset.into(),
                variant: None,
                path,
                sha256: voxctl::checksum::Sha256([7; 32]),
                size: 1,
                version: Some(version.into()),
                source: "test".into(),
                layout: voxctl::fetch::Layout::Whole,
                installed_at: 1_700_000_000,
                signature: None,
                files: None,
                requires: None,
                transfer: None,
            })
            .unwrap();
    }
    let mut status = support::voxctl_std(tmp.path());
    status.args(["status", "--data-dir"]).arg(&data);
    let text = transcript(&mut status);
    // The partial download with its size so far, its full size, its path and the two
    // commands that deal with it.
    pinned("contract_status_partial", &redact(&text, tmp.path()), true);
    let section = |title: &str| -> Vec<String> {
        text.lines()
            .skip_while(|l| *l != title)
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .map(str::to_string)
            .collect()
    };
    let installed = section("installed:");
    let path_col = installed[0].find("PATH").unwrap();
    for row in &installed[1..] {
        assert_eq!(row.find('/'), Some(path_col), "misaligned:\n{text}");
    }
}

// One unit system (IEC) in human output; JSON instants as RFC 3339 UTC strings,
// durations as `_ms` integers, sizes in bytes, paths absolute.
#[test]
fn human_sizes_are_iec_and_json_times_are_rfc3339_with_absolute_paths() {
    let tmp = tempfile::tempdir().unwrap();
    let rel = tmp.path().join("rel");
    std::fs::create_dir_all(&rel).unwrap();
    let bytes = support::release::bytes(2500, 3);
    std::fs::write(rel.join("voicebox-server-cpu"), &bytes).unwrap();
    use sha2::Digest;
    let sha = voxctl::checksum::Sha256(sha2::Sha256::digest(&bytes).into());
    std::fs::write(
        rel.join("voicebox-server-cpu.sha256"),
        format!("{}  voicebox-server-cpu\n", sha.to_hex()),
    )
    .unwrap();
    // A relative --data-dir: records and status must still carry absolute paths.
    let out = support::voxctl(&tmp.path().join("state"))
        .current_dir(tmp.path())
        .args([
            "fetch",
            "--variant",
            "cpu",
            "--data-dir",
            "data",
            "--source",
            "rel",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains(" (2.44 KiB)\n"), "IEC units: {err}");

    let out = support::voxctl(&tmp.path().join("state"))
        .current_dir(tmp.path())
        .args(["--json", "status", "--data-dir", "data"])
        .output()
        .unwrap();
    let v: Status = support::json_doc(&out.stdout);
    assert!(v.data_dir.is_absolute(), "{v:?}");
    let rec = &v.installed[0];
    assert_eq!(rec.size, 2500);
    assert!(rec.path.is_absolute(), "{rec:?}");
    // The record reads integers too: that the JSON holds an RFC 3339 UTC string is seen in
    // the text.
    let at = humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(rec.installed_at),
    )
    .to_string();
    assert!(at.ends_with('Z'), "UTC: {at}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!("\"installed_at\": \"{at}\"")),
        "{text}"
    );
}

// One exit-status type. README's table is the enum's, row for row; `--help`
// ends with the table generated from it.
#[test]
fn readme_exit_code_table_is_the_exit_status_enum() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("\n## Exit codes\n")
        .nth(1)
        .expect("README has an \"Exit codes\" section");
    let rows: Vec<(u8, String)> = section
        .lines()
        .skip_while(|l| !l.starts_with("| code |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            assert_eq!(cells.len(), 2, "README row {l:?}");
            let code = cells[0]
                .parse()
                .unwrap_or_else(|_| panic!("README row {l:?}"));
            // README marks options as code; the enum's text is plain.
            (code, cells[1].replace('`', ""))
        })
        .collect();
    assert_eq!(
        rows,
        support::help_exit_table(),
        "README's exit-code table differs from --help's"
    );
}

// An enum's name for people is its JSON name, without a round trip through
// serde_json (`name()`/Display), and the two cannot drift apart.
#[test]
fn enum_names_shown_to_people_are_their_json_names() {
    use voxctl::backend::control::Stopped;
    use voxctl::backend::observe::HealthState;
    use voxctl::fetch::Layout;
    fn same<T: serde::Serialize + std::fmt::Debug>(value: T, name: &str) {
        assert_eq!(serde_json::to_value(&value).unwrap(), name, "{value:?}");
    }
    for s in [Stopped::NotRunning, Stopped::Terminated, Stopped::Killed] {
        same(s, s.name());
        assert_eq!(s.to_string(), s.name());
    }
    for h in [
        HealthState::Healthy,
        HealthState::Unhealthy,
        HealthState::Unreachable,
        HealthState::NotRunning,
    ] {
        same(h, h.name());
        assert_eq!(h.to_string(), h.name());
    }
    for l in [
        Layout::ManifestJson,
        Layout::ManifestText,
        Layout::Whole,
        Layout::Archive,
    ] {
        same(l, l.as_str());
    }
}

/// A tmux server of its own (its socket in a temp dir, no config file) with one detached
/// window `columns` wide running `sh SCRIPT`: a real terminal, read back with
/// `capture-pane`. The server is killed on drop.
struct Tmux {
    socket: std::path::PathBuf,
}

impl Tmux {
    fn start(socket: &Path, columns: u16, script: &Path) -> Tmux {
        let mut cmd = std::process::Command::new("tmux");
        cmd.arg("-S")
            .arg(socket)
            .args(["-f", "/dev/null", "new-session", "-d", "-x"])
            .arg(columns.to_string())
            .args(["-y", "40"])
            .arg(format!("sh {}", script.display()))
            .env_remove("TMUX");
        for (k, _) in std::env::vars() {
            if k.starts_with("VOXCTL_") || k.to_ascii_lowercase().ends_with("_proxy") {
                cmd.env_remove(k);
            }
        }
        let st = cmd.status().expect("tmux (installed by .ci/run)");
        assert!(st.success(), "tmux new-session");
        Tmux {
            socket: socket.to_path_buf(),
        }
    }

    fn tmux(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new("tmux");
        cmd.arg("-S").arg(&self.socket);
        cmd
    }

    /// The screen's lines as the program wrote them: wrapped lines joined (`-J`), trailing
    /// spaces trimmed, so a line longer than the terminal shows as one long line.
    fn screen(&self) -> Vec<String> {
        let out = self
            .tmux()
            .args(["capture-pane", "-p", "-J", "-t", "0"])
            .output()
            .unwrap();
        assert!(out.status.success(), "capture-pane: {out:?}");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.trim_end().to_string())
            .collect()
    }

    /// Waits (at most `secs`) for the script's `tmux wait-for -S CHANNEL`.
    fn wait_for(&self, channel: &str, secs: u32) {
        let st = std::process::Command::new("timeout")
            .arg(secs.to_string())
            .arg("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(["wait-for", channel])
            .status()
            .unwrap();
        assert!(st.success(), "no `{channel}` from the pane in {secs} s");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").status();
    }
}

/// A real multi-part fetch on a real terminal (tmux) 120, 80 and 50 columns wide, from the
/// loopback test server trickling its bodies, part02's held back until part00 is sent: while
/// it runs, a bar per part and the whole file's are drawn, each line shorter than the
/// terminal, and a part still at 0 bytes shows no rate and no ETA while a moving one does;
/// when it ends, the screen holds the fetch's messages and result and not one bar line.
#[test]
fn fetch_bars_fit_the_terminal_and_leave_nothing_behind() {
    let bytes = support::fetch::data(5 * (1 << 20) + 12_345, 41);
    use sha2::Digest;
    let sha = voxctl::checksum::Sha256(sha2::Sha256::digest(&bytes).into());
    let part = |i| voxctl::manifest::part_name(support::fetch::ASSET, i);
    for columns in [120u16, 80, 50] {
        // A fresh release, server and data dir each time (the server holds part02 back
        // only until part00 was sent once).
        let fx = support::fetch::Fixture::new();
        support::fetch::json_release(&fx.rel(), support::fetch::ASSET, &bytes, 2 << 20);
        let srv = support::http::Server::start(&fx.rel());
        srv.set(|s| {
            s.trickle = Some((32 << 10, std::time::Duration::from_millis(25)));
            s.hold_until_sent = [(format!("/{}", part(2)), format!("/{}", part(0)))].into();
        });
        let installed = fx.installed();
        let expected = vec![
            format!(
                "{}: manifest.json layout, 3 part(s), {}",
                support::fetch::ASSET,
                voxctl::size::iec(bytes.len() as u64)
            ),
            format!(
                "voxctl: warning: {}: the release is not authenticated",
                support::fetch::ASSET
            ),
            "  (no public key: --pubkey, --pubkey-file, --tauri-conf or VOXCTL_PUBKEY)".to_string(),
            format!(
                "installed {} ({})",
                installed.display(),
                voxctl::size::iec(bytes.len() as u64)
            ),
            format!("sha256 {}", sha.to_hex()),
            installed.display().to_string(),
        ];
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("tmux.sock");
        let exit = dir.path().join("exit");
        let script = dir.path().join("run.sh");
        let quote = |p: &Path| format!("'{}'", p.display());
        std::fs::write(
            &script,
            format!(
                "VOXCTL_STATE_DIR={} {} {}\necho $? > {}\ntmux -S {} wait-for -S done\nexec sleep 600\n",
                quote(&fx.state()),
                quote(&support::bin()),
                fx.args(&srv.url())
                    .iter()
                    .map(|a| format!("'{a}'"))
                    .collect::<Vec<_>>()
                    .join(" "),
                quote(&exit),
                quote(&socket),
            ),
        )
        .unwrap();
        let tmux = Tmux::start(&socket, columns, &script);
        let bar = |screen: &[String], label: &str| -> Option<String> {
            screen.iter().find(|l| l.starts_with(label)).cloned()
        };
        // Mid-way: part00 moving (with its ETA where the width has room for one), part02
        // still held at 0 bytes.
        let eta_fits = columns >= 60;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let mid = loop {
            let mid = tmux.screen();
            let moving = bar(&mid, "part00")
                .is_some_and(|l| !l.contains(" 0 B/") && (!eta_fits || l.contains("eta ")));
            let waiting = bar(&mid, "part02").is_some_and(|l| l.contains(" 0 B/"));
            if moving && waiting && bar(&mid, "total").is_some() {
                break mid;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{columns} columns: no screen with part00 moving while part02 waits:\n{}",
                mid.join("\n")
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        let screen = mid.join("\n");
        // Every line at 80 columns and more; the bars at any width (a long message may wrap
        // on a narrow terminal: it is written once, never redrawn).
        let bars = ["total", "part00", "part01", "part02"];
        for line in mid
            .iter()
            .filter(|l| columns >= 80 || bars.iter().any(|b| l.starts_with(b)))
        {
            assert!(
                line.chars().count() < usize::from(columns),
                "{columns} columns: a line of {} characters:\n{screen}",
                line.chars().count()
            );
        }
        let held = bar(&mid, "part02").unwrap();
        assert!(
            !held.contains("eta") && !held.contains("/s"),
            "a part at 0 bytes has no rate and no ETA: {held:?}\n{screen}"
        );
        if eta_fits {
            assert!(bar(&mid, "part00").unwrap().contains("/s"), "{screen}");
        }

        tmux.wait_for("done", 120);
        assert_eq!(
            std::fs::read_to_string(&exit).unwrap().trim(),
            "0",
            "{columns} columns:\n{}",
            tmux.screen().join("\n")
        );
        let end: Vec<String> = tmux
            .screen()
            .into_iter()
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(end, expected, "{columns} columns: the final screen");
        if columns >= 80 {
            for line in &end {
                assert!(line.chars().count() <= 80, "{line:?}");
            }
        }
        assert_eq!(std::fs::read(&installed).unwrap(), bytes);
    }
}

/// `lease run --json`: stdout is one `RunResult` document once the command has ended (the
/// command's own stdout goes to stderr), for a command that exits, one killed by a signal and
/// one that cannot be found; voxctl exits with the status the document names.
#[test]
fn lease_run_json_prints_one_result_document() {
    use voxctl::lease::run::{RunOutcome, RunResult};
    let tmp = tempfile::tempdir().unwrap();
    let run = |cmd: &[&str]| {
        let out = support::voxctl(tmp.path())
            .args(["--json", "lease", "run", "job.1", "--ttl", "30s", "--"])
            .args(cmd)
            .output()
            .unwrap();
        let doc: RunResult = support::json_doc(&out.stdout);
        assert_eq!(out.status.code(), Some(i32::from(doc.exit_code)), "{doc:?}");
        (doc, String::from_utf8(out.stderr).unwrap())
    };

    let (doc, stderr) = run(&["sh", "-c", r#"echo "out $VOXCTL_LEASE_TOKEN"; exit 3"#]);
    assert_eq!(doc.name, "job.1");
    assert_eq!(doc.outcome, RunOutcome::Exited);
    assert_eq!((doc.command_code, doc.command_signal), (Some(3), None));
    assert_eq!(doc.exit_code, 3);
    assert!(doc.released && doc.error.is_none(), "{doc:?}");
    assert_eq!(doc.ttl_ms, 30_000);
    assert!(
        stderr.contains(&format!("out {}", doc.token)),
        "the command's stdout is on stderr: {stderr:?}"
    );

    let (doc, _) = run(&["sh", "-c", "kill -9 $$"]);
    assert_eq!((doc.command_code, doc.command_signal), (None, Some(9)));
    assert_eq!(doc.exit_code, 137);

    let (doc, stderr) = run(&["/nonexistent/voxctl-cmd"]);
    assert_eq!(doc.outcome, RunOutcome::NotFound);
    assert_eq!(doc.exit_code, 127);
    assert!(doc.released);
    let error = doc.error.expect("the error");
    assert!(
        error.message.contains("/nonexistent/voxctl-cmd"),
        "{error:?}"
    );
    assert!(stderr.contains("voxctl: error: "), "{stderr}");
}
