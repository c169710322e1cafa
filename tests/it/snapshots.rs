//! Whole human output, pinned: each test runs a command as a user would and compares
//! everything it printed (exit status, stdout, stderr) with a committed snapshot in
//! `tests/it/snapshots/` (insta). What changes from run to run is redacted first: the
//! temporary directory, times and durations, pids, ports, the host name and fencing tokens; where a
//! table holds such a value, runs of spaces are collapsed so that its width cannot change the
//! snapshot. A deliberate change of output is reviewed as a diff of the `.snap` file
//! (`INSTA_UPDATE=always cargo nextest run -E 'test(/^snapshots::/)'`, then `git diff`).

use crate::support;

use std::path::Path;
use std::process::Command;

/// A run's exit status, stdout and stderr as one text.
fn transcript(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.status
            .code()
            .map_or_else(|| "signal".to_string(), |c| c.to_string()),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The text with the volatile values replaced: `tmp` by `[TMP]`, the host name by `[HOST]`,
/// and (by the filters of [`pinned`]) times, durations, pids and tokens.
fn redact(text: &str, tmp: &Path) -> String {
    let host = nix::unistd::gethostname()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let text = text.replace(&tmp.display().to_string(), "[TMP]");
    // The host name as a word of its own (`holder: vm:12 (pid 12 on vm)`).
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find(&host) {
        let before = rest[..at].chars().last();
        let after = rest[at + host.len()..].chars().next();
        let word = |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '-'));
        out.push_str(&rest[..at]);
        out.push_str(if word(before) && word(after) {
            "[HOST]"
        } else {
            &host
        });
        rest = &rest[at + host.len()..];
    }
    out.push_str(rest);
    out
}

/// Compares `text` with snapshot `name` after the time, pid and token filters; with
/// `collapse`, runs of spaces count as one (tables holding a redacted value).
fn pinned(name: &str, text: &str, collapse: bool) {
    let mut filters = vec![
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[TIME]"),
        // humantime's `4m 59s 990ms` as one duration, however many terms it has.
        (
            r"\b\d+(\.\d+)?(ns|us|µs|ms|s|m|h|d)( \d+(\.\d+)?(ns|us|µs|ms|s|m|h|d))*( ago)?\b",
            "[DUR]",
        ),
        (r"\bpid \d+", "pid [PID]"),
        // Before the port: `port 0 ms` is a duration.
        (r"\b\d+ ms\b", "[MS]"),
        (r"\bport \d+", "port [PORT]"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        (r"\[HOST\]:\d+", "[HOST]:[PID]"),
        (r"\b\d{16}\b", "[TOKEN]"),
    ];
    if collapse {
        filters.push((r" {2,}", " "));
    }
    insta::with_settings!({ filters => filters, prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, text);
    });
}

/// Runs `voxctl ARGS` in `dir` (its state dir `dir/state`) and returns the redacted
/// transcript.
fn runner(dir: &Path) -> impl Fn(&[&str]) -> String + '_ {
    move |args: &[&str]| {
        let mut cmd = support::voxctl_std(&dir.join("state"));
        cmd.current_dir(dir).args(args);
        redact(&transcript(&mut cmd), dir)
    }
}

/// A 3,000,000-byte build, the same bytes every run.
fn build(dir: &Path, name: &str) -> std::path::PathBuf {
    let mut x: u32 = 7;
    let bytes: Vec<u8> = (0..3_000_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

const ASSET: &str = "voicebox-server-cpu";

/// `fetch` of the cpu variant from release directory `rel` into data dir `data`.
const FETCH_REL: &[&str] = &[
    "fetch",
    "--variant",
    "cpu",
    "--source",
    "rel",
    "--data-dir",
    "data",
];

/// `split` of a build into 1 MiB parts, then `verify -c` of the asset's sums file, good and
/// damaged.
#[test]
fn split_and_verify() {
    let tmp = tempfile::tempdir().unwrap();
    build(tmp.path(), ASSET);
    let run = runner(tmp.path());
    pinned(
        "split",
        &run(&["split", ASSET, "--part-size", "1M", "--out", "dist"]),
        false,
    );
    pinned(
        "verify_c",
        &run(&["verify", "-c", &format!("dist/{ASSET}.sha256")]),
        false,
    );
    std::fs::write(tmp.path().join(ASSET), b"not the build").unwrap();
    pinned(
        "verify_c_damaged",
        &run(&["verify", "-c", &format!("dist/{ASSET}.sha256")]),
        false,
    );
}

/// `fetch` from a local release, `status`, then `remove`.
#[test]
fn fetch_status_remove() {
    let tmp = tempfile::tempdir().unwrap();
    build(tmp.path(), ASSET);
    let run = runner(tmp.path());
    run(&["split", ASSET, "--part-size", "1M", "--out", "rel"]);
    pinned("fetch", &run(FETCH_REL), false);
    pinned("status", &run(&["status", "--data-dir", "data"]), true);
    pinned(
        "remove",
        &run(&["remove", "cpu", "--data-dir", "data"]),
        false,
    );
}

/// `lease acquire`, `status`, `list`, a second `acquire` (busy) and `release`.
#[test]
fn lease_acquire_status_busy_release() {
    let tmp = tempfile::tempdir().unwrap();
    let run = runner(tmp.path());
    let acquired = run(&["lease", "acquire", "build", "--ttl", "5m"]);
    let token = acquired
        .lines()
        .find(|l| l.len() == 16 && l.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| panic!("no token in {acquired}"))
        .to_string();
    pinned("lease_acquire", &acquired, false);
    pinned("lease_status", &run(&["lease", "status", "build"]), true);
    pinned("lease_list", &run(&["lease", "list"]), true);
    pinned(
        "lease_busy",
        &run(&["lease", "acquire", "build", "--ttl", "5m"]),
        true,
    );
    pinned(
        "lease_release",
        &run(&["lease", "release", "build", "--token", &token]),
        false,
    );
}

/// Usage errors: a bad value, an unknown flag, a missing argument.
#[test]
fn usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let run = runner(tmp.path());
    pinned(
        "usage_bad_value",
        &run(&["fetch", "--variant", "cpu", "--jobs", "0"]),
        false,
    );
    pinned(
        "usage_unknown_flag",
        &run(&["stop", "--data-dir", "x"]),
        false,
    );
    pinned("usage_missing", &run(&["split"]), false);
}

/// `index` of a split build, `verify --manifest` of its release, and, once fetched,
/// `verify --installed`.
#[test]
fn index_and_verify_a_release_and_an_install() {
    let tmp = tempfile::tempdir().unwrap();
    build(tmp.path(), ASSET);
    let run = runner(tmp.path());
    run(&[
        "split",
        ASSET,
        "--part-size",
        "1M",
        "--out",
        "rel",
        "--no-index",
    ]);
    pinned("index", &run(&["index", ASSET, "--out", "rel"]), false);
    pinned(
        "verify_manifest",
        &run(&[
            "verify",
            "--manifest",
            &format!("rel/{ASSET}.manifest.json"),
        ]),
        false,
    );
    run(FETCH_REL);
    pinned(
        "verify_installed",
        &run(&["verify", "--installed", "--data-dir", "data"]),
        true,
    );
}

/// `restart` of an installed fixture backend, a second `restart` (stop, port, start), then
/// `stop`.
#[test]
fn restart_restart_stop() {
    let env = support::restart::Env::new();
    env.install("cpu", "", Some("0.1.0"));
    let dir = env.tmp.path();
    let port = env.port.to_string();
    let run = |args: &[&str]| {
        let mut cmd = support::voxctl_std(&env.state);
        cmd.current_dir(dir).args(args);
        redact(&transcript(&mut cmd), dir)
    };
    let restart = [
        "restart",
        "--variant",
        "cpu",
        "--data-dir",
        "data",
        "--port",
        &port,
    ];
    let first = run(&restart);
    if let Some(record) = env.record() {
        env.track(record.pid);
    }
    pinned("restart", &first, false);
    let second = run(&restart);
    if let Some(record) = env.record() {
        env.track(record.pid);
    }
    pinned("restart_again", &second, false);
    pinned("stop", &run(&["stop"]), false);
}
