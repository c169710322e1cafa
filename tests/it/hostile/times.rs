//! Hostile-input cases: times, durations and sizes at the edge of their types. A record (lease,
//! backend, install; an etcd entry) holding a time past 9999-12-31T23:59:59Z is refused as
//! corrupt, naming it, never a panic; values up to `u64::MAX` on the command line are usage
//! errors (exit 2).

use std::path::Path;
use std::process::Output;

#[cfg(unix)]
use crate::support::etcd::Etcd;
use crate::support::fetch::{whole_release, Fixture, ASSET};
use crate::support::voxctl_std;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts that `out` is an orderly failure with `code`: no panic, and a message containing
/// `says`.
fn assert_refused(out: &Output, code: i32, says: &str) {
    let err = stderr(out);
    assert!(!err.contains("panicked"), "voxctl panicked: {err}");
    assert_eq!(out.status.code(), Some(code), "{out:?}");
    assert!(err.contains(says), "stderr does not say {says:?}: {err}");
}

fn vox(state: &Path, args: &[&str]) -> Output {
    voxctl_std(state).args(args).output().expect("run voxctl")
}

/// Replaces field `key` of the JSON document in `path` with `value`.
fn poison(path: &Path, key: &str, value: serde_json::Value) {
    let mut doc: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    doc[key] = value;
    std::fs::write(path, serde_json::to_vec(&doc).unwrap()).unwrap();
}

/// A lease record whose times are past year 9999 (or `u64::MAX`) fails `lease status`,
/// `lease list` and `lease acquire` with exit 1 naming the record; before, formatting the time
/// panicked mid-document, and a record that did not load counted as absent (a second holder).
#[test]
fn lease_record_times_past_9999_are_a_corrupt_record() {
    for (key, value) in [
        ("acquired_wall_ms", u64::MAX),
        ("acquired_wall_ms", 253_402_300_800_000),
        ("expires_boot_ms", u64::MAX),
        ("ttl_ms", u64::MAX),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let state = tmp.path().join("state");
        let out = vox(&state, &["lease", "acquire", "x", "--ttl", "60s"]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let record = state.join("leases").join("x.json");
        poison(&record, key, value.into());
        let named = format!("corrupt lease record {}", record.display());
        for args in [
            &["lease", "status", "x"][..],
            &["--json", "lease", "status", "x"],
            &["--json", "lease", "list"],
            &["lease", "acquire", "x"],
        ] {
            let out = vox(&state, args);
            assert_refused(&out, 1, &named);
            assert!(
                !String::from_utf8_lossy(&out.stdout).contains("\"name\""),
                "{key}={value}: {args:?} printed part of a document: {out:?}"
            );
        }
        let err = stderr(&vox(&state, &["lease", "status", "x"]));
        assert!(err.contains("9999"), "{key}: {err}");
    }
}

/// `status --json` with a backend record started in year 10000+ or an install record installed
/// then: an error naming the record, no panic, no half-written document.
#[test]
fn backend_and_install_records_past_9999_fail_status_cleanly() {
    let fx = Fixture::new();
    whole_release(&fx.rel(), ASSET, &crate::support::fetch::data(4096, 3));
    fx.fetch(fx.rel().to_str().unwrap()).assert().success();
    let data = fx.data();
    let data = data.to_str().unwrap();
    let installs: Vec<_> = std::fs::read_dir(fx.data().join("backends"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert_eq!(installs.len(), 1, "{installs:?}");
    let install = &installs[0];
    let fine = std::fs::read(install).unwrap();
    poison(install, "installed_at", u64::MAX.into());
    let out = vox(&fx.state(), &["--json", "status", "--data-dir", data]);
    assert_refused(&out, 1, "9999");
    std::fs::write(install, fine).unwrap();

    let backend = serde_json::json!({"pid": 4242, "start_time": 91577, "variant": "cpu",
        "binary": "/d/backends/voicebox-server-cpu", "port": 18950,
        "log": "/s/logs/voicebox-server-cpu.log", "started_at": u64::MAX});
    std::fs::write(
        fx.state().join("backend.json"),
        serde_json::to_vec(&backend).unwrap(),
    )
    .unwrap();
    let out = vox(&fx.state(), &["--json", "status", "--data-dir", data]);
    assert_refused(&out, 1, "9999");
}

/// One poisoned etcd entry (a wall time of `u64::MAX`) under a shared prefix: commands on that
/// lease fail with exit 1 naming its key; every other lease still works for every host.
#[cfg(unix)]
#[test]
fn a_poisoned_etcd_entry_fails_its_lease_only() {
    let etcd = Etcd::start();
    let store = etcd.store_url("poison");
    let tmp = tempfile::tempdir().unwrap();
    let b64 = |s: &str| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(s)
    };
    let entry = serde_json::json!({
        "name": "P", "token": 7, "holder": "h", "pid": 1, "host": "x",
        "ttl_ms": 2000, "acquired_wall_ms": u64::MAX, "state": "released",
    });
    let body = format!(
        r#"{{"key":"{}","value":"{}"}}"#,
        b64("poison/record/P"),
        b64(&entry.to_string())
    );
    let port = etcd.members[0].client_port;
    crate::support::etcd::http(port, "POST", "/v3/kv/put", &body).expect("put the record");
    let run = |args: &[&str]| {
        let mut cmd = voxctl_std(tmp.path());
        cmd.env("VOXCTL_LEASE_STORE", &store).args(args);
        cmd.output().unwrap()
    };
    for args in [
        &["lease", "status", "P"][..],
        &["--json", "lease", "status", "P"],
        &["--json", "lease", "list"],
        &["lease", "acquire", "P"],
    ] {
        let out = run(args);
        assert_refused(&out, 1, "poison/record/P");
    }
    let out = run(&["lease", "acquire", "Q", "--ttl", "30s"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = run(&["--json", "lease", "status", "Q"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(!stderr(&out).contains("panicked"));
}

/// Sizes whose product overflows even 128 bits (`268435456Q` is 2^128) and durations of
/// `u64::MAX` seconds are usage errors (exit 2), never a panic nor a wrapped 0.
#[test]
fn sizes_and_durations_up_to_u64_max_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let max = u64::MAX.to_string();
    for size in ["268435456Q", "18446744073709551615Q", "4294967296R", "16E"] {
        let out = vox(
            &state,
            &["fetch", "--max-size", size, "--source", "/nonexistent"],
        );
        assert_refused(&out, 2, "too large");
        let out = vox(&state, &["split", "--part-size", size, "/nonexistent"]);
        assert_refused(&out, 2, "too large");
    }
    for (flag, sub) in [
        ("--detect-timeout", "fetch"),
        ("--retry-delay", "fetch"),
        ("--read-timeout", "fetch"),
        ("--stop-timeout", "stop"),
        ("--detect-timeout", "doctor"),
    ] {
        for value in [max.clone(), format!("{max}s"), format!("{max}ms")] {
            let out = vox(&state, &[sub, flag, &value]);
            assert_refused(&out, 2, "invalid duration");
        }
    }
}
