//! `voxctl verify`: one file, sums files in the three sha256sum forms (against GNU
//! `sha256sum -c`, which must be installed), and split releases from JSON and voicebox text
//! manifests.

mod support;

use std::path::Path;

use predicates::prelude::*;
use support::release::{bytes, gnu_release, require_gnu_split};
use support::voxctl;
use voxctl::checksum::Sha256;

fn write(path: &Path, data: &[u8]) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(path, data).unwrap();
}

#[test]
fn one_file_against_a_digest() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("a.bin");
    write(&f, b"payload");
    let good = Sha256::of(b"payload").to_hex();
    let bad = Sha256::of(b"other").to_hex();
    let run = |file: &Path, hex: &str| {
        voxctl(tmp.path())
            .arg("verify")
            .arg(file)
            .args(["--sha256", hex])
            .assert()
    };
    run(&f, &good)
        .success()
        .stdout(format!("{}: OK\n", f.display()));
    run(&f, &good.to_uppercase()).success();
    run(&f, &bad)
        .code(3)
        .stdout(format!("{}: FAILED\n", f.display()))
        .stderr(predicate::str::contains("verification failed: 1 FAILED"));
    run(&tmp.path().join("nope"), &good)
        .code(3)
        .stdout(predicate::str::ends_with("nope: MISSING\n"));
    run(&f, "abc")
        .code(3)
        .stderr(predicate::str::contains("malformed SHA-256"));
    voxctl(tmp.path())
        .args(["verify"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("hint:"));
}

/// A sums file in `dir/sums/` listing files in all three forms, relative to it.
fn sums_fixture(dir: &Path) -> std::path::PathBuf {
    for (name, data) in [
        ("good one", &b"1"[..]),
        ("bin.exe", b"2"),
        ("tag", b"3"),
        ("bad", b"4"),
    ] {
        write(&dir.join("sums/files").join(name), data);
    }
    let h = |d: &[u8]| Sha256::of(d).to_hex();
    let text = format!(
        "{}  files/good one\n{} *files/bin.exe\nSHA256 (files/tag) = {}\n{}  files/bad\n",
        h(b"1"),
        h(b"2"),
        h(b"3"),
        h(b"not 4")
    );
    let sums = dir.join("sums/SHA256SUMS");
    write(&sums, text.as_bytes());
    sums
}

#[test]
fn sums_files_in_all_forms_resolve_names_against_the_sums_file() {
    let tmp = tempfile::tempdir().unwrap();
    let sums = sums_fixture(tmp.path());
    let expected = "files/good one: OK\nfiles/bin.exe: OK\nfiles/tag: OK\nfiles/bad: FAILED\n";
    // Run from elsewhere: names are relative to the sums file, not the current directory.
    voxctl(tmp.path())
        .current_dir(std::env::temp_dir())
        .args(["verify", "-c"])
        .arg(&sums)
        .assert()
        .code(3)
        .stdout(expected);
    {
        // Same lines as sha256sum -c for the forms it reads (it runs in the sums dir).
        require_gnu_split();
        let gnu = std::process::Command::new("sha256sum")
            .args(["-c", "SHA256SUMS"])
            .current_dir(tmp.path().join("sums"))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&gnu.stdout), expected);
    }
    voxctl(tmp.path())
        .args(["-q", "verify", "-c"])
        .arg(&sums)
        .assert()
        .code(3)
        .stdout("files/bad: FAILED\n");
}

#[test]
fn missing_files_malformed_lines_and_their_options() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(&dir.join("here"), b"x");
    let h = Sha256::of(b"x").to_hex();
    let sums = dir.join("S");
    write(
        &sums,
        format!("{h}  here\n{h}  gone\nnot a checksum line\n").as_bytes(),
    );
    let verify = |extra: &[&str]| {
        voxctl(dir)
            .args(["verify", "-c"])
            .args(extra)
            .arg(&sums)
            .assert()
    };
    verify(&[])
        .code(3)
        .stdout("here: OK\ngone: MISSING\n")
        .stderr(predicate::str::contains("S:3: malformed checksum line"));
    verify(&["--ignore-missing"]).success().stdout("here: OK\n");
    verify(&["--ignore-missing", "--strict"])
        .code(3)
        .stderr(predicate::str::contains("1 malformed line(s) (--strict)"));
    write(&sums, format!("{h}  gone\n").as_bytes());
    verify(&["--ignore-missing"])
        .code(3)
        .stderr(predicate::str::contains("no file was verified"));
    write(&sums, b"garbage\n");
    verify(&[])
        .code(3)
        .stderr(predicate::str::contains("no properly formatted"));
    voxctl(dir)
        .args(["verify", "-c"])
        .arg(dir.join("no-such-sums"))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("no-such-sums is missing"));
}

#[test]
fn json_gives_a_result_per_file() {
    let tmp = tempfile::tempdir().unwrap();
    let sums = sums_fixture(tmp.path());
    let out = voxctl(tmp.path())
        .args(["--json", "verify", "-c"])
        .arg(&sums)
        .assert()
        .code(3)
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["ok"], false);
    let files = doc["files"].as_array().unwrap();
    let statuses: Vec<_> = files
        .iter()
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["ok", "ok", "ok", "failed"]);
    assert_eq!(files[0]["sha256"], Sha256::of(b"1").to_hex());
    assert_eq!(files[3]["expected_sha256"], Sha256::of(b"not 4").to_hex());
    assert_eq!(files[3]["size"], 1);
}

/// Splits 3 MB into three parts with voxctl in `dir/rel`; returns the release dir.
fn voxctl_release(dir: &Path, asset: &str, data: &[u8]) -> std::path::PathBuf {
    let input = dir.join(asset);
    write(&input, data);
    let rel = dir.join("rel");
    voxctl(dir)
        .args(["split", "--chunk-size", "1MB", "--out"])
        .arg(&rel)
        .arg(&input)
        .assert()
        .success();
    rel
}

#[test]
fn a_json_manifest_release_checks_parts_whole_and_assembled_asset() {
    let tmp = tempfile::tempdir().unwrap();
    let data = bytes(2_500_000, 7);
    let rel = voxctl_release(tmp.path(), "vb.exe", &data);
    let manifest = rel.join("vb.manifest.json");
    let verify = || {
        voxctl(tmp.path())
            .args(["verify", "--manifest"])
            .arg(&manifest)
            .assert()
    };
    verify().success().stdout(
        "vb.part00.exe: OK\nvb.part01.exe: OK\nvb.part02.exe: OK\nvb.exe (from parts): OK\n",
    );
    // The assembled asset beside the manifest is checked too.
    write(&rel.join("vb.exe"), &data);
    verify().success().stdout(predicate::str::ends_with(
        "vb.exe (from parts): OK\nvb.exe: OK\n",
    ));
    let mut bad = data.clone();
    bad[10] ^= 1;
    write(&rel.join("vb.exe"), &bad);
    verify()
        .code(3)
        .stdout(predicate::str::ends_with("vb.exe: FAILED\n"));
    std::fs::remove_file(rel.join("vb.exe")).unwrap();

    // A flipped byte in a part.
    let p1 = rel.join("vb.part01.exe");
    let good = std::fs::read(&p1).unwrap();
    let mut flipped = good.clone();
    flipped[5] ^= 0x80;
    write(&p1, &flipped);
    verify().code(3).stdout(
        "vb.part00.exe: OK\nvb.part01.exe: FAILED\nvb.part02.exe: OK\nvb.exe (from parts): FAILED\n",
    );
    // A truncated part: a size failure, the whole is skipped, the other parts still checked.
    write(&p1, &good[..100]);
    verify()
        .code(3)
        .stdout("vb.part00.exe: OK\nvb.part01.exe: FAILED\nvb.part02.exe: OK\nvb.exe (from parts): SKIPPED\n")
        .stderr(predicate::str::contains("vb.part01.exe: size is 100 bytes, expected 1000000"));
    // A missing part.
    std::fs::remove_file(&p1).unwrap();
    let out = voxctl(tmp.path())
        .args(["--json", "verify", "--manifest"])
        .arg(&manifest)
        .assert()
        .code(3)
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let statuses: Vec<_> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["ok", "missing", "ok", "skipped"]);
    assert_eq!(doc["manifest"]["kind"], "json");
}

#[test]
fn a_text_manifest_with_a_missing_part_still_reports_the_intact_parts_present() {
    // Issue 10 item 10: the intact parts of a text manifest (no per-part checksums) were
    // reported FAILED with no detail as soon as another part was missing.
    let tmp = tempfile::tempdir().unwrap();
    let rel = voxctl_release(tmp.path(), "vb.exe", &bytes(2_500_000, 12));
    std::fs::remove_file(rel.join("vb.part01.exe")).unwrap();
    let manifest = rel.join("vb.manifest");
    voxctl(tmp.path())
        .args(["verify", "--manifest"])
        .arg(&manifest)
        .assert()
        .code(3)
        .stdout(
            "vb.part00.exe: PRESENT\nvb.part01.exe: MISSING\nvb.part02.exe: PRESENT\n\
             vb.exe (from parts): SKIPPED\n",
        );
    let out = voxctl(tmp.path())
        .args(["--json", "verify", "--manifest"])
        .arg(&manifest)
        .assert()
        .code(3)
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["manifest"]["kind"], "text");
    let files = doc["files"].as_array().unwrap();
    let statuses: Vec<_> = files
        .iter()
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["present", "missing", "present", "skipped"]);
    let part2 = std::fs::read(rel.join("vb.part02.exe")).unwrap();
    assert_eq!(files[2]["sha256"], Sha256::of(&part2).to_hex(), "hashed");
    assert_eq!(files[2]["expected_sha256"], serde_json::Value::Null);
    assert_eq!(files[2]["detail"], serde_json::Value::Null);
}

#[test]
fn a_gnu_made_text_manifest_release_verifies_with_its_sha256() {
    require_gnu_split();
    let tmp = tempfile::tempdir().unwrap();
    let rel = tmp.path().join("rel");
    write(&rel.join("vb.exe"), &bytes(2_200_000, 8));
    gnu_release(&rel, "vb.exe", 1_000_000);
    std::fs::remove_file(rel.join("vb.exe")).unwrap();
    let manifest = rel.join("vb.manifest");
    let verify = || {
        voxctl(tmp.path())
            .args(["verify", "--manifest"])
            .arg(&manifest)
            .assert()
    };
    verify().success().stdout(
        "vb.part00.exe: PRESENT\nvb.part01.exe: PRESENT\nvb.part02.exe: PRESENT\nvb.exe (from parts): OK\n",
    );
    let p2 = rel.join("vb.part02.exe");
    let mut data = std::fs::read(&p2).unwrap();
    data.push(0);
    write(&p2, &data);
    verify()
        .code(3)
        .stdout(predicate::str::ends_with("vb.exe (from parts): FAILED\n"));
    std::fs::remove_file(rel.join("vb.sha256")).unwrap();
    verify()
        .code(3)
        .stderr(predicate::str::contains("vb.sha256 is missing"));
}

#[test]
fn bad_manifests_are_integrity_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let rel = voxctl_release(tmp.path(), "m", &bytes(1_500_000, 9));
    let path = rel.join("m.manifest.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let cases = [
        ("not json", "{ nope".to_string()),
        ("traversal", text.replace("\"m.part01\"", "\"../m.part01\"")),
        (
            "sizes",
            text.replace("\"size\": 1500000", "\"size\": 1500001"),
        ),
    ];
    for (_what, body) in cases {
        write(&path, body.as_bytes());
        voxctl(tmp.path())
            .args(["verify", "--manifest"])
            .arg(&path)
            .assert()
            .code(3)
            .stderr(predicate::str::contains("voxctl: error:"))
            .stdout("");
    }
    voxctl(tmp.path())
        .args(["verify", "--manifest"])
        .arg(rel.join("absent.manifest.json"))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("absent.manifest.json is missing"));
}

#[test]
fn many_files_are_checked_in_parallel_and_reported_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let mut text = String::new();
    let mut expected = String::new();
    for i in 0..40 {
        // Different sizes so they finish out of order.
        let data = bytes(((40 - i) * 50_000) as usize, i);
        let name = format!("f{i:02}");
        write(&tmp.path().join(&name), &data);
        text.push_str(&voxctl::checksum::format_line(&Sha256::of(&data), &name));
        expected.push_str(&format!("{name}: OK\n"));
    }
    write(&tmp.path().join("SUMS"), text.as_bytes());
    voxctl(tmp.path())
        .args(["verify", "-c"])
        .arg(tmp.path().join("SUMS"))
        .assert()
        .success()
        .stdout(expected);
}

#[test]
fn sums_can_come_from_stdin_with_names_relative_to_the_current_directory() {
    let tmp = tempfile::tempdir().unwrap();
    write(&tmp.path().join("a"), b"abc");
    voxctl(tmp.path())
        .current_dir(tmp.path())
        .args(["verify", "-c", "-"])
        .write_stdin(format!("SHA256 (a) = {}\n", Sha256::of(b"abc")))
        .assert()
        .success()
        .stdout("a: OK\n");
}

#[cfg(target_os = "linux")]
#[test]
fn sigint_stops_a_verify_with_exit_130() {
    use std::time::{Duration, Instant};
    let tmp = tempfile::tempdir().unwrap();
    let big = tmp.path().join("big");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(8 << 30)
        .unwrap();
    let child = support::voxctl_std(tmp.path())
        .arg("verify")
        .arg(&big)
        .args(["--sha256", &Sha256::of(b"").to_hex()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Poll the bytes it has read (/proc/PID/io rchar) until hashing is under way.
    let io = format!("/proc/{}/io", child.id());
    let start = Instant::now();
    let reading = loop {
        let rchar = std::fs::read_to_string(&io)
            .ok()
            .and_then(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix("rchar: ").map(|n| n.trim().parse::<u64>()))
            })
            .and_then(Result::ok)
            .unwrap_or(0);
        if rchar > 64 << 20 {
            break true;
        }
        if start.elapsed() > Duration::from_secs(30) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    assert!(reading, "verify starts reading");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert!(out.stdout.is_empty(), "no verdict for an interrupted check");
}
