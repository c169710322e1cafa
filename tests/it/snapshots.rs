//! Whole human output, pinned: each test runs a command as a user would and compares
//! everything it printed (exit status, stdout, stderr) with a committed snapshot in
//! `tests/it/snapshots/` (insta). What changes from run to run is redacted first: the
//! temporary directory, times and durations, pids, ports, the host name, fencing tokens and
//! free space; where a table holds such a value, runs of spaces are collapsed so that its width
//! cannot change the snapshot. A deliberate change of output is reviewed as a diff of the
//! `.snap` file (`INSTA_UPDATE=always cargo nextest run -E 'test(/^snapshots::/)'`, then
//! `git diff`).

use crate::support;

use std::path::Path;
use std::process::{Command, Output};

/// A run's exit status, stdout and stderr as one text.
pub(crate) fn transcript(cmd: &mut Command) -> String {
    output_text(&cmd.output().unwrap())
}

/// A finished run's exit status, stdout and stderr as one text.
pub(crate) fn output_text(out: &Output) -> String {
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
pub(crate) fn redact(text: &str, tmp: &Path) -> String {
    let host = nix::unistd::gethostname()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let text = text.replace(&tmp.display().to_string(), "[TMP]");
    // The host name as a word of its own (`holder: vm:12 (pid 12 on vm)`).
    replace_word(&text, &host, "[HOST]", |c| c.is_alphanumeric() || c == '-')
}

/// `text` with each `word` that is not part of a longer word (of characters for which
/// `in_word` holds) replaced by `with`.
pub(crate) fn replace_word(
    text: &str,
    word: &str,
    with: &str,
    in_word: fn(char) -> bool,
) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before = rest[..at].chars().last();
        let after = rest[at + word.len()..].chars().next();
        let alone = |c: Option<char>| c.is_none_or(|c| !in_word(c));
        out.push_str(&rest[..at]);
        out.push_str(if alone(before) && alone(after) {
            with
        } else {
            word
        });
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
}

/// Compares `text` with snapshot `name` after the time, pid and token filters; with
/// `collapse`, runs of spaces count as one (tables holding a redacted value).
pub(crate) fn pinned(name: &str, text: &str, collapse: bool) {
    let mut filters = vec![
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[TIME]"),
        // humantime's `4m 59s 990ms` as one duration, however many terms it has.
        (
            r"\b\d+(\.\d+)?(years?|months?|days?|ns|us|µs|ms|s|m|h|d)( \d+(\.\d+)?(years?|months?|days?|ns|us|µs|ms|s|m|h|d))*( ago)?\b",
            "[DUR]",
        ),
        (r"\bpid \d+", "pid [PID]"),
        // Before the port: `port 0 ms` is a duration.
        (r"\b\d+ ms\b", "[MS]"),
        (r"\bport \d+", "port [PORT]"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        (r"\[HOST\]:\d+", "[HOST]:[PID]"),
        (r"\b\d{16}\b", "[TOKEN]"),
        // The free space of the temporary directory's filesystem (doctor).
        (
            r"\b\d+(\.\d+)? (B|KiB|MiB|GiB|TiB|PiB|EiB) available\b",
            "[FREE] available",
        ),
    ];
    if collapse {
        filters.push((r" {2,}", " "));
    }
    insta::with_settings!({ filters => filters, prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, text);
    });
}

/// The text with the size (in IEC units and in bytes) and the digest of the fixture backend
/// (`examples/fixture_backend`), which change with its build, replaced by `[SIZE]`, `[BYTES]`
/// and `[SHA]`.
pub(crate) fn redact_fixture(text: &str) -> String {
    let fixture = std::fs::read(support::restart::fixture_bin()).unwrap();
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&fixture));
    let size = voxctl::size::iec(fixture.len() as u64);
    let text = replace_word(text, &sha[..12], "[SHA]", char::is_alphanumeric);
    let text = replace_word(&text, &size, "[SIZE]", char::is_alphanumeric);
    replace_word(
        &text,
        &fixture.len().to_string(),
        "[BYTES]",
        char::is_alphanumeric,
    )
}

/// [`redact`] of a reap's text, with the stand-in app `pid` (a `sleep`, see
/// `support::reap::App`) replaced by `[PID]`, also in its lock's target (`HOST-PID`), and the
/// directory of its executable by `[BIN]` (`/bin` or `/usr/bin`, as the system has it).
pub(crate) fn redact_app(text: &str, dir: &Path, pid: i32) -> String {
    let host = support::reap::this_host();
    // The `sleep` the app's `sh` runs, found on `PATH` as `sh` finds it (the app may have
    // exited, so its `/proc/PID/exe` may be gone).
    let path = std::env::var_os("PATH").unwrap_or_default();
    let sleep = std::env::split_paths(&path)
        .map(|d| d.join("sleep"))
        .find(|p| p.is_file())
        .expect("sleep on PATH");
    let exe = std::fs::canonicalize(sleep).unwrap();
    let bin = exe.parent().unwrap().display().to_string();
    let text = text.replace(&format!("{host}-{pid}"), "[HOST]-[PID]");
    let text = text.replace(&format!("({bin}/"), "([BIN]/");
    replace_word(
        &redact(&text, dir),
        &pid.to_string(),
        "[PID]",
        char::is_alphanumeric,
    )
}

/// Runs `voxctl ARGS` in `dir` (its state dir `dir/state`) and returns the redacted
/// transcript.
pub(crate) fn runner(dir: &Path) -> impl Fn(&[&str]) -> String + '_ {
    runner_env(dir, &[])
}

/// [`runner`] with the environment variables `env` set as well.
pub(crate) fn runner_env<'a>(
    dir: &'a Path,
    env: &'a [(&str, String)],
) -> impl Fn(&[&str]) -> String + 'a {
    move |args: &[&str]| {
        let mut cmd = support::voxctl_std(&dir.join("state"));
        cmd.current_dir(dir).args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
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

/// `restart` of an installed fixture backend, `status` while it runs, a second `restart`
/// (stop, port, start), then `stop`.
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
    let pid = env.record().map(|record| {
        env.track(record.pid);
        record.pid.to_string()
    });
    pinned("restart", &first, false);
    // The status table gives the pid and port as bare numbers.
    let mut status = redact_fixture(&run(&["status", "--data-dir", "data"]));
    for (value, with) in [
        (pid.as_deref().unwrap_or("none"), "[PID]"),
        (port.as_str(), "[PORT]"),
    ] {
        status = replace_word(&status, value, with, char::is_alphanumeric);
    }
    pinned("status_running", &status, true);
    let second = run(&restart);
    if let Some(record) = env.record() {
        env.track(record.pid);
    }
    pinned("restart_again", &second, false);
    pinned("stop", &run(&["stop"]), false);
}

/// `doctor` as a user runs it, with the GPU probes under the test's control: an `nvidia-smi`
/// on `PATH` that lists two GPUs, and a kfd topology with a gfx1030. First nothing is
/// installed (a failure naming the fetch to run), then the cpu variant is (every check
/// passes), then its binary is truncated (a failure naming the repair).
#[test]
fn doctor_before_and_after_a_fetch_and_with_a_damaged_install() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    build(dir, ASSET);
    let bin = dir.join("bin");
    std::fs::create_dir(&bin).unwrap();
    let smi = bin.join("nvidia-smi");
    std::fs::write(
        &smi,
        "#!/bin/sh\necho 'NVIDIA GeForce RTX 4090, 8.9, 550.54.14'\necho 'Tesla K80, [N/A], 470.82.01'\n",
    )
    .unwrap();
    set_mode(&smi, 0o755);
    let sys = dir.join("sys");
    for (node, version) in [("0", 0), ("1", 100300)] {
        let node = sys.join("class/kfd/kfd/topology/nodes").join(node);
        std::fs::create_dir_all(&node).unwrap();
        std::fs::write(
            node.join("properties"),
            format!("simd_count 80\ngfx_target_version {version}\nvendor_id 4098\n"),
        )
        .unwrap();
    }
    let env = [
        ("PATH", format!("{}:/usr/bin:/bin", bin.display())),
        ("VOXCTL_SYSFS_ROOT", sys.display().to_string()),
    ];
    let run = runner_env(dir, &env);
    let doctor = ["doctor", "--data-dir", "data"];
    pinned("doctor_nothing_installed", &run(&doctor), true);
    run(&["split", ASSET, "--part-size", "1M", "--out", "rel"]);
    run(FETCH_REL);
    // The modes doctor reports, whatever the umask.
    set_mode(&dir.join("data"), 0o755);
    set_mode(&dir.join("data/backends"), 0o755);
    pinned("doctor", &run(&doctor), true);
    let installed = dir.join("data/backends").join(ASSET);
    std::fs::write(&installed, &std::fs::read(&installed).unwrap()[..1000]).unwrap();
    pinned("doctor_damaged", &run(&doctor), true);
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// `fetch --dry-run` before anything is installed and once it is, then `verify --installed`
/// of a damaged install, `fetch --repair` of it, and a second repair with nothing to do.
#[test]
fn fetch_dry_run_and_repair_of_a_damaged_install() {
    let tmp = tempfile::tempdir().unwrap();
    build(tmp.path(), ASSET);
    let run = runner(tmp.path());
    run(&["split", ASSET, "--part-size", "1M", "--out", "rel"]);
    let dry = [FETCH_REL, &["--dry-run"]].concat();
    pinned("fetch_dry_run", &run(&dry), false);
    run(FETCH_REL);
    pinned("fetch_dry_run_installed", &run(&dry), false);
    let installed = tmp.path().join("data/backends").join(ASSET);
    let mut bytes = std::fs::read(&installed).unwrap();
    bytes[1000] ^= 0x40;
    std::fs::write(&installed, bytes).unwrap();
    pinned(
        "verify_installed_damaged",
        &run(&["verify", "--installed", "--data-dir", "data"]),
        false,
    );
    let repair = [
        "fetch",
        "--repair",
        "--variant",
        "cpu",
        "--data-dir",
        "data",
    ];
    pinned("fetch_repair", &run(&repair), false);
    pinned("fetch_repair_nothing", &run(&repair), false);
}

/// `verify FILE --sha256 HEX`: the right digest, then one that differs in its last digit.
#[test]
fn verify_one_file() {
    let tmp = tempfile::tempdir().unwrap();
    build(tmp.path(), ASSET);
    let run = runner(tmp.path());
    let sha = "3c804328338296d36c3ecd29c473e3e599b9dc8d8099511267aabdcd02322c00";
    pinned(
        "verify_file",
        &run(&["verify", ASSET, "--sha256", sha]),
        false,
    );
    let wrong = format!("{}1", &sha[..63]);
    pinned(
        "verify_file_mismatch",
        &run(&["verify", ASSET, "--sha256", &wrong]),
        false,
    );
}

/// `reap` as an updater runs it: a healthy holder of a `SingletonLock` with no marker is left
/// alone; once `reap mark` names it and it is wedged (SIGSTOP), `--dry-run` says what would be
/// sent, and the reap itself ends it with SIGTERM (the term grace is long, so that a slow
/// machine cannot turn it into a SIGKILL).
#[test]
fn reap_nothing_then_a_wedged_holder() {
    use support::reap::App;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let app = App::sleeping(dir);
    let pid = app.pid.to_string();
    let run = |args: &[&str]| {
        let mut cmd = support::voxctl_std(&dir.join("state"));
        cmd.current_dir(dir).args(args);
        redact_app(&transcript(&mut cmd), dir, app.pid)
    };
    let reap = [
        "reap",
        "--yes",
        "--lock",
        "SingletonLock",
        "--teardown-grace",
        "300ms",
        "--term-grace",
        "30s",
    ];
    pinned("reap_no_marker", &run(&reap), false);
    pinned("reap_mark", &run(&["reap", "mark", "--pid", &pid]), false);
    app.wedge();
    pinned(
        "reap_dry_run",
        &run(&[&reap[..], &["--dry-run"]].concat()),
        false,
    );
    pinned("reap", &run(&reap), false);
}

/// `lease renew` with the current token and with a stale one, `lease run` while the lease is
/// busy, of a command that exits 3, and of one that does not exist, then `lease list` of the
/// released lease.
#[test]
fn lease_renew_run_list() {
    let tmp = tempfile::tempdir().unwrap();
    let run = runner(tmp.path());
    let acquired = run(&["lease", "acquire", "job", "--ttl", "5m"]);
    let token = acquired
        .lines()
        .find(|l| l.len() == 16 && l.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| panic!("no token in {acquired}"))
        .to_string();
    pinned(
        "lease_renew",
        &run(&["lease", "renew", "job", "--token", &token, "--ttl", "10m"]),
        false,
    );
    pinned(
        "lease_renew_stale",
        &run(&["lease", "renew", "job", "--token", "1000000000000000"]),
        false,
    );
    pinned(
        "lease_run_busy",
        &run(&["lease", "run", "job", "--", "true"]),
        false,
    );
    run(&["lease", "release", "job", "--token", &token]);
    pinned(
        "lease_run",
        &run(&[
            "lease",
            "run",
            "job",
            "--",
            "sh",
            "-c",
            "echo hello; exit 3",
        ]),
        false,
    );
    pinned(
        "lease_run_not_found",
        &run(&["lease", "run", "job", "--", "./no-such-command"]),
        false,
    );
    pinned("lease_list_released", &run(&["lease", "list"]), true);
}
