//! Hostile-input cases: a hostile `nvidia-smi` (a fake one first on `PATH`) that floods its
//! standard error or output. The probe reads both pipes at once, so it never waits on a full
//! pipe, and says what happened: the exit code and the start of standard error, not a
//! timeout that did not happen.

use std::path::Path;
use std::process::Output;

use crate::support::voxctl_std;

/// A 1 MiB line of `x` on standard error (16 pipe buffers' worth), as `sh` commands.
const FLOOD_STDERR: &str = "head -c 1048576 /dev/zero | tr '\\000' x >&2";

/// Writes an executable `nvidia-smi` running `body` into `dir/bin` and returns that dir.
fn fake_smi(dir: &Path, body: &str) -> std::path::PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let path = bin.join("nvidia-smi");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(
        &path,
        <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755),
    )
    .unwrap();
    bin
}

/// `voxctl --json doctor` with `bin` first on `PATH` and a detect timeout of 60 s, and its
/// `hardware.nvidia` probe.
fn doctor(dir: &Path, bin: &Path) -> (Output, serde_json::Value) {
    let out = voxctl_std(&dir.join("state"))
        .args(["--json", "doctor", "--detect-timeout", "60s", "--data-dir"])
        .arg(dir.join("data"))
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("doctor --json printed no document ({e}): {out:?}"));
    let nvidia = doc["hardware"]["nvidia"].clone();
    (out, nvidia)
}

/// 1 MiB on standard error and exit 9: the probe reports the exit code and the start of
/// standard error; it neither deadlocks on the full stderr pipe nor calls it a timeout.
#[test]
fn nvidia_smi_flooding_stderr_is_reported_as_what_happened() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = fake_smi(
        tmp.path(),
        &format!("echo 'NVIDIA: driver not loaded' >&2\n{FLOOD_STDERR}\nexit 9"),
    );
    let (out, nvidia) = doctor(tmp.path(), &bin);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    assert_eq!(nvidia["state"], "could_not_detect", "{nvidia}");
    let why = nvidia["why"].as_str().unwrap();
    assert!(!why.contains("did not answer"), "{why}");
    assert!(
        why.contains("exited with code 9: NVIDIA: driver not loaded"),
        "{why}"
    );
}

/// 1 MiB on standard error, then the GPU line on standard output and exit 0: the GPU is
/// found (stdout is read while stderr is drained).
#[test]
fn nvidia_smi_flooding_stderr_before_answering_is_still_heard() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = fake_smi(
        tmp.path(),
        &format!("{FLOOD_STDERR}\necho 'NVIDIA GeForce RTX 4090, 8.9, 550.54.14'"),
    );
    let (_, nvidia) = doctor(tmp.path(), &bin);
    assert_eq!(nvidia["state"], "found", "{nvidia}");
    assert_eq!(
        nvidia["gpus"][0]["name"], "NVIDIA GeForce RTX 4090",
        "{nvidia}"
    );
}

/// 1 MiB on standard output: drained, and refused as too much (not parsed from a cut-off
/// prefix, and not a timeout).
#[test]
fn nvidia_smi_flooding_stdout_is_refused_as_too_much() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = fake_smi(tmp.path(), "head -c 1048576 /dev/zero | tr '\\000' x");
    let (_, nvidia) = doctor(tmp.path(), &bin);
    assert_eq!(nvidia["state"], "could_not_detect", "{nvidia}");
    let why = nvidia["why"].as_str().unwrap();
    assert!(
        why.contains("printed more than 256 KiB on standard output"),
        "{why}"
    );
}
