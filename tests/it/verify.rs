//! `voxctl verify`: one file, sums files in the three sha256sum forms (against GNU
//! `sha256sum -c`, which must be installed), and split releases from JSON and voicebox text
//! manifests.

use crate::support;

use std::path::Path;

use predicates::prelude::*;
use support::release::{bytes, gnu_release, require_gnu_split};
use support::voxctl;
use voxctl::checksum::Sha256;
use voxctl::verify::{ManifestKind, Report, Status};

/// The statuses of `verify --json`'s files, in order.
fn statuses(doc: &Report) -> Vec<Status> {
    doc.files.iter().map(|f| f.status).collect()
}

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
        .stdout(predicate::str::ends_with("nope: FAILED open or read\n"));
    // A digest typed on the command line is a usage error (exit 2); a
    // malformed digest inside a sums file stays an integrity failure (exit 3).
    for typo in [
        "abc",
        &good[1..],
        &format!("{good}0"),
        &good.replace('a', "g"),
    ] {
        run(&f, typo)
            .code(2)
            .stderr(predicate::str::contains("malformed SHA-256"));
    }
    let sums = tmp.path().join("SUMS");
    write(&sums, format!("{}  a.bin\n", &good[1..]).as_bytes());
    voxctl(tmp.path())
        .current_dir(tmp.path())
        .args(["verify", "-c"])
        .arg(&sums)
        .assert()
        .code(3);
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

/// Names resolve against the current directory, as `sha256sum -c` does;
/// `--relative-to-sums` resolves them against the sums file's directory; the read error of a
/// missing file names the path tried.
// Pins GNU sha256sum's messages word for word: strerror texts and the shell quoting of
// Linux paths (docs/windows-tests.md).
#[cfg(unix)]
#[test]
fn sums_names_resolve_against_the_current_directory_or_with_a_flag_the_sums_file() {
    let tmp = tempfile::tempdir().unwrap();
    let sums = sums_fixture(tmp.path());
    let expected = "files/good one: OK\nfiles/bin.exe: OK\nfiles/tag: OK\nfiles/bad: FAILED\n";
    // In the sums file's directory: the same lines as sha256sum -c.
    let gnu = support::host::sh_output(&tmp.path().join("sums"), "sha256sum -c SHA256SUMS", &[]);
    assert_eq!(String::from_utf8_lossy(&gnu.stdout), expected);
    voxctl(tmp.path())
        .current_dir(tmp.path().join("sums"))
        .args(["verify", "-c", "SHA256SUMS"])
        .assert()
        .code(3)
        .stdout(expected);
    // The issue's case: the sums file was written from inside `vx` and is read from there.
    let vx = tmp.path().join("vx");
    write(&vx.join("files/good one"), b"1");
    let h1 = Sha256::of(b"1");
    write(
        &tmp.path().join("elsewhere/SHA256SUMS"),
        format!("{h1}  files/good one\n").as_bytes(),
    );
    voxctl(tmp.path())
        .current_dir(&vx)
        .args(["verify", "-c", "../elsewhere/SHA256SUMS"])
        .assert()
        .success()
        .stdout("files/good one: OK\n");
    // From elsewhere, the same names are missing, and stderr says where voxctl looked.
    voxctl(tmp.path())
        .current_dir(tmp.path())
        .args(["verify", "-c"])
        .arg(&sums)
        .assert()
        .code(3)
        .stdout(predicate::str::starts_with(
            "files/good one: FAILED open or read\n",
        ))
        .stderr(predicate::str::contains(format!(
            "voxctl: 'files/good one': No such file or directory (tried '{}')\n",
            tmp.path().join("files/good one").display()
        )));
    // --relative-to-sums: against the sums file's directory, from anywhere.
    voxctl(tmp.path())
        .current_dir(&vx)
        .args(["verify", "-c", "--relative-to-sums"])
        .arg(&sums)
        .assert()
        .code(3)
        .stdout(expected);
    voxctl(tmp.path())
        .current_dir(&vx)
        .args(["-q", "verify", "--relative-to-sums", "-c"])
        .arg(&sums)
        .assert()
        .code(3)
        .stdout("files/bad: FAILED\n");
}

/// A sums file without checksum lines (or a missing one) fails on its own,
/// and the other sums files are still checked, as with `sha256sum -c A B`.
// Pins GNU sha256sum's messages word for word: strerror texts and the shell quoting of
// Linux paths (docs/windows-tests.md).
#[cfg(unix)]
#[test]
fn a_sums_file_without_checksum_lines_does_not_stop_the_others() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(&dir.join("a"), b"a");
    write(&dir.join("empty.sums"), b"# nothing here\n\nnot a line\n");
    write(
        &dir.join("good.sums"),
        format!("{}  a\n", Sha256::of(b"a")).as_bytes(),
    );
    for order in [
        ["empty.sums", "good.sums", "gone.sums"],
        ["gone.sums", "good.sums", "empty.sums"],
    ] {
        voxctl(dir)
            .current_dir(dir)
            .args(["verify", "-c"])
            .args(order)
            .assert()
            .code(3)
            .stdout("a: OK\n")
            .stderr(predicate::str::contains(
                "voxctl: empty.sums: no properly formatted checksum lines found\n",
            ))
            .stderr(predicate::str::contains(
                "voxctl: gone.sums: No such file or directory\n",
            ));
    }
    let out = voxctl(dir)
        .current_dir(dir)
        .args(["--json", "verify", "-c", "empty.sums", "good.sums"])
        .assert()
        .code(3)
        .get_output()
        .stdout
        .clone();
    let doc: Report = support::json_doc(&out);
    assert_eq!(doc.files[0].status, Status::Ok);
    assert_eq!(doc.sums_files[0].checksum_lines, 0);
    assert!(doc.sums_files[0].error.is_some(), "{doc:?}");
    assert_eq!(doc.sums_files[1].error, None);
}

// Pins GNU sha256sum's messages word for word: strerror texts and the shell quoting of
// Linux paths (docs/windows-tests.md).
#[cfg(unix)]
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
            .current_dir(dir)
            .args(["verify", "-c"])
            .args(extra)
            .arg("S")
            .assert()
    };
    let not_read = format!(
        "voxctl: gone: No such file or directory (tried {})\n",
        dir.join("gone").display()
    );
    let summary = "voxctl: WARNING: 1 line is improperly formatted\n\
                   voxctl: WARNING: 1 listed file could not be read\n";
    let error = "voxctl: error: verification failed: 1 FAILED open or read of 2 listed\n";
    verify(&[])
        .code(3)
        .stdout("here: OK\ngone: FAILED open or read\n")
        .stderr(format!("{not_read}{summary}{error}"));
    verify(&["-w"]).code(3).stderr(format!(
        "{not_read}voxctl: S: 3: improperly formatted SHA256 checksum line\n{summary}{error}"
    ));
    verify(&["--status"])
        .code(3)
        .stdout("")
        .stderr(format!("{not_read}{error}"));
    verify(&["-q"])
        .code(3)
        .stdout("gone: FAILED open or read\n")
        .stderr(error);
    verify(&["--ignore-missing"])
        .success()
        .stdout("here: OK\n")
        .stderr("voxctl: WARNING: 1 line is improperly formatted\n");
    verify(&["--ignore-missing", "--strict"])
        .code(3)
        .stdout("here: OK\n")
        .stderr(
            "voxctl: WARNING: 1 line is improperly formatted\n\
             voxctl: error: verification failed: S: 1 improperly formatted line(s) (--strict)\n",
        );
    write(&sums, format!("{h}  gone\n").as_bytes());
    verify(&["--ignore-missing"]).code(3).stdout("").stderr(
        "voxctl: S: no file was verified\n\
             voxctl: error: verification failed: S: no file was verified\n",
    );
    write(&sums, b"garbage\n");
    verify(&[]).code(3).stderr(predicate::str::starts_with(
        "voxctl: S: no properly formatted checksum lines found\n",
    ));
    voxctl(dir)
        .args(["verify", "-c"])
        .arg(dir.join("no-such-sums"))
        .assert()
        .code(3)
        .stderr(predicate::str::starts_with(format!(
            "voxctl: {}: No such file or directory\n",
            dir.join("no-such-sums").display()
        )));
}

#[test]
fn json_gives_a_result_per_file() {
    let tmp = tempfile::tempdir().unwrap();
    let sums = sums_fixture(tmp.path());
    let out = voxctl(tmp.path())
        .args(["--json", "verify", "-c", "--relative-to-sums"])
        .arg(&sums)
        .assert()
        .code(3)
        .get_output()
        .stdout
        .clone();
    let doc: Report = support::json_doc(&out);
    assert!(!doc.ok);
    assert_eq!(
        statuses(&doc),
        [Status::Ok, Status::Ok, Status::Ok, Status::Failed]
    );
    let files = &doc.files;
    assert_eq!(files[0].sha256, Some(Sha256::of(b"1")));
    assert_eq!(files[3].expected_sha256, Some(Sha256::of(b"not 4")));
    assert_eq!(files[3].size, Some(1));
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
    let doc: Report = support::json_doc(&out);
    assert_eq!(
        statuses(&doc),
        [Status::Ok, Status::Missing, Status::Ok, Status::Skipped]
    );
    assert_eq!(doc.manifest.unwrap().kind, ManifestKind::Json);
}

#[test]
fn a_text_manifest_with_a_missing_part_still_reports_the_intact_parts_present() {
    // The intact parts of a text manifest (no per-part checksums) are reported present even
    // when another part is missing, not FAILED with no detail.
    let tmp = tempfile::tempdir().unwrap();
    let rel = voxctl_release(tmp.path(), "vb.exe", &bytes(2_500_000, 12));
    std::fs::remove_file(rel.join("vb.part01.exe")).unwrap();
    let manifest = rel.join("vb.manifest");
    voxctl(tmp.path())
        .args(["verify", "--manifest"])
        .arg(&manifest)
        .assert()
        .code(3)
        .stdout(format!(
            "vb.part00.exe: PRESENT\nvb.part01.exe: MISSING (tried {})\n\
             vb.part02.exe: PRESENT\nvb.exe (from parts): SKIPPED\n",
            rel.join("vb.part01.exe").display()
        ));
    let out = voxctl(tmp.path())
        .args(["--json", "verify", "--manifest"])
        .arg(&manifest)
        .assert()
        .code(3)
        .get_output()
        .stdout
        .clone();
    let doc: Report = support::json_doc(&out);
    assert_eq!(doc.manifest.as_ref().unwrap().kind, ManifestKind::Text);
    assert_eq!(
        statuses(&doc),
        [
            Status::Present,
            Status::Missing,
            Status::Present,
            Status::Skipped
        ]
    );
    let part2 = std::fs::read(rel.join("vb.part02.exe")).unwrap();
    let f = &doc.files[2];
    assert_eq!(f.sha256, Some(Sha256::of(&part2)), "hashed");
    assert_eq!((f.expected_sha256, f.detail.as_deref()), (None, None));
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
        .current_dir(tmp.path())
        .args(["verify", "-c", "SUMS"])
        .assert()
        .success()
        .stdout(expected);
}

#[test]
fn sums_can_come_from_stdin_with_names_relative_to_the_current_directory() {
    let tmp = tempfile::tempdir().unwrap();
    write(&tmp.path().join("a"), b"abc");
    for args in [&["verify", "-c", "-"][..], &["verify", "-c"]] {
        voxctl(tmp.path())
            .current_dir(tmp.path())
            .args(args)
            .write_stdin(format!("SHA256 (a) = {}\n", Sha256::of(b"abc")))
            .assert()
            .success()
            .stdout("a: OK\n");
    }
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

/// `verify -c` prints a file that cannot be read as `sha256sum -c` does, `NAME: FAILED open
/// or read`, and says on stderr, beside GNU's reason, where it looked.
// Pins GNU sha256sum's messages word for word: strerror texts and the shell quoting of
// Linux paths (docs/windows-tests.md).
#[cfg(unix)]
#[test]
fn a_missing_file_fails_open_or_read_and_stderr_names_the_path_tried() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(&dir.join("here"), b"x");
    write(&dir.join("sub/placeholder"), b"");
    let h = Sha256::of(b"x");
    write(
        &dir.join("sub/S"),
        format!("{h}  here\n{h}  gone\n{h}  with space\n{h}  sub\n").as_bytes(),
    );
    let tried = |name: &str| dir.join(name).display().to_string();
    voxctl(dir)
        .current_dir(dir)
        .args(["verify", "-c", "sub/S"])
        .assert()
        .code(3)
        .stdout(
            "here: OK\ngone: FAILED open or read\nwith space: FAILED open or read\n\
             sub: FAILED open or read\n",
        )
        .stderr(format!(
            "voxctl: gone: No such file or directory (tried {})\n\
             voxctl: 'with space': No such file or directory (tried '{}')\n\
             voxctl: sub: Is a directory (tried {})\n\
             voxctl: WARNING: 3 listed files could not be read\n\
             voxctl: error: verification failed: 3 FAILED open or read of 4 listed\n",
            tried("gone"),
            tried("with space"),
            tried("sub"),
        ));
    // Resolved against the sums file's directory, the path tried is there.
    voxctl(dir)
        .current_dir(dir)
        .args(["verify", "-c", "--relative-to-sums", "sub/S"])
        .assert()
        .code(3)
        .stdout(predicate::str::starts_with("here: FAILED open or read\n"))
        .stderr(predicate::str::starts_with(format!(
            "voxctl: here: No such file or directory (tried {})\n",
            tried("sub/here")
        )));
    // An absolute name is the path tried: nothing to add.
    let abs = dir.join("gone");
    write(
        &dir.join("A"),
        format!("{h}  {}\n", abs.display()).as_bytes(),
    );
    voxctl(dir)
        .current_dir(dir)
        .args(["verify", "-c", "A"])
        .assert()
        .code(3)
        .stdout(format!("{}: FAILED open or read\n", abs.display()))
        .stderr(predicate::str::starts_with(format!(
            "voxctl: {}: No such file or directory\n",
            abs.display()
        )));
}

/// A failing `--json` report carries the error object that every `--json`
/// failure carries, beside the report's fields; a passing one has none.
#[test]
fn a_failing_json_report_carries_the_error_object() {
    use voxctl::error::ErrorBody;
    use voxctl::exit::ExitStatus;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(&dir.join("a"), b"a");
    let good = format!("{}  a\n", Sha256::of(b"a"));
    write(&dir.join("GOOD"), good.as_bytes());
    write(
        &dir.join("BAD"),
        format!(
            "{good}{}  a\n{}  gone\n",
            Sha256::of(b"b"),
            Sha256::of(b"a")
        )
        .as_bytes(),
    );
    let json = |args: &[&str], code: i32| -> (Report, String) {
        let out = voxctl(dir)
            .current_dir(dir)
            .arg("--json")
            .args(args)
            .assert()
            .code(code)
            .get_output()
            .clone();
        let text = String::from_utf8(out.stdout.clone()).unwrap();
        (support::json_doc(&out.stdout), text)
    };
    let (doc, text) = json(&["verify", "-c", "BAD"], 3);
    let message = "verification failed: 1 FAILED, 1 FAILED open or read of 3 listed";
    assert_eq!(
        doc.error,
        Some(ErrorBody::new(ExitStatus::Integrity, message, None))
    );
    assert!(
        text.starts_with(&format!(
            "{{\n  \"ok\": false,\n  \"error\": {{\n    \"code\": 3,\n    \"kind\": \"integrity\",\n    \"message\": \"{message}\",\n    \"hint\": null\n  }},\n  \"files\": ["
        )),
        "{text}"
    );
    assert_eq!(
        statuses(&doc),
        [Status::Ok, Status::Failed, Status::Missing]
    );
    // The sums file's own failure is in the message too.
    let (doc, _) = json(&["verify", "-c", "--ignore-missing", "GOOD", "nope"], 3);
    assert_eq!(
        doc.error.map(|e| (e.kind, e.message)),
        Some((
            "integrity".to_string(),
            format!("verification failed: nope: {}", support::os_text(2))
        ))
    );
    // A split release with a part missing.
    let rel = voxctl_release(dir, "vb", &bytes(1_500_000, 3));
    std::fs::remove_file(rel.join("vb.part01")).unwrap();
    let manifest = rel.join("vb.manifest.json");
    let (doc, _) = json(&["verify", "--manifest", manifest.to_str().unwrap()], 3);
    let error = doc.error.expect("an error object");
    assert_eq!(
        (error.code, error.kind.as_str()),
        (ExitStatus::Integrity, "integrity")
    );
    assert_eq!(
        error.message,
        "verification failed: 1 MISSING, 1 SKIPPED of 3 checked"
    );
    let (doc, text) = json(&["verify", "-c", "GOOD"], 0);
    assert!(
        doc.ok && doc.error.is_none() && !text.contains("\"error\""),
        "{text}"
    );
}

/// The files of the differential runs, each holding its own name; sums files go in `sums/`.
#[cfg(unix)]
const PRESENT: &[&[u8]] = &[
    b"plain",
    b"with space",
    b" lead",
    b"*star",
    b"paren)",
    b"a(b) = c",
    b"back\\slash",
    b"nl\nname",
    b"cr\rname",
    b"tab\tname",
    b"\xff\xfe-latin1",
    b"trail ",
    "utf8-\u{e9}".as_bytes(),
    b"SHA256 (x)",
    b"quote'd",
    b"colon:name",
    b"sub/file",
    b"sub/deeper/x y",
    b"sub/back\\slash\nnl",
];

/// Names that cannot be read: missing (also below a missing directory), below a regular
/// file (`ENOTDIR`, not missing for `--ignore-missing`) and a directory (`EISDIR`).
#[cfg(unix)]
const UNREADABLE: &[&[u8]] = &[
    b"gone",
    b"gone two",
    b"nl\ngone",
    b"back\\gone",
    b"quo'te gone",
    b"sub/gone",
    b"nodir/x",
    b"plain/x",
    b"sub",
];

#[cfg(unix)]
fn os(name: &[u8]) -> &std::ffi::OsStr {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::OsStr::from_bytes(name)
}

#[cfg(unix)]
fn differential_fixture(dir: &Path) {
    for name in PRESENT {
        write(&dir.join(os(name)), name);
    }
    std::fs::create_dir_all(dir.join("sums/sub")).unwrap();
}

/// One run of `sha256sum -c` and of `voxctl verify -c` with the same arguments, in the same
/// directory, on the same standard input.
#[cfg(unix)]
#[derive(Debug, Clone, Default)]
struct Run {
    /// Options, in order.
    flags: Vec<&'static str>,
    /// The sums-file operands (`-` for stdin; none reads stdin too).
    args: Vec<String>,
    stdin: Vec<u8>,
}

/// Where `voxctl verify -c` differs from `sha256sum -c` on `run`, in words; empty if
/// nowhere. The contract: the same stdout byte for byte; exit 0 where GNU exits 0 and 3 where
/// it exits 1; on stderr GNU's lines in GNU's order with `voxctl:` for `sha256sum:`, a read
/// error of a listed file followed by ` (tried PATH)`, a sums file's directory `read error`
/// by ` (Is a directory)`, then voxctl's own `voxctl: error: verification failed: ...` when
/// it fails. With `--quiet` (voxctl's global `-q`, "only errors on stderr") that error is all.
///
/// Returns the differences and what `sha256sum -c` did.
#[cfg(unix)]
fn differences(dir: &Path, run: &Run) -> (Vec<String>, std::process::Output) {
    let spawn = |mut cmd: std::process::Command| {
        let mut child = cmd
            .current_dir(dir)
            .env("LC_ALL", "C.UTF-8")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("sha256sum (coreutils) and voxctl run");
        let mut input = child.stdin.take().unwrap();
        // A tool given no `-` does not read it.
        match std::io::Write::write_all(&mut input, &run.stdin) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            written => written.unwrap(),
        }
        drop(input);
        child.wait_with_output().unwrap()
    };
    let mut gnu = std::process::Command::new("sha256sum");
    gnu.arg("-c").args(&run.flags).args(&run.args);
    let mut ours = support::voxctl_std(dir);
    ours.args(["verify", "-c"]).args(&run.flags).args(&run.args);
    let (g, o) = (spawn(gnu), spawn(ours));
    let mut out = Vec::new();
    match (g.status.code(), o.status.code()) {
        (Some(0), Some(0)) | (Some(1), Some(3)) => {}
        (g, o) => out.push(format!("exit: sha256sum {g:?}, voxctl {o:?}")),
    }
    let lines = |b: &[u8]| -> Vec<String> {
        let body = b.strip_suffix(b"\n").unwrap_or(b);
        if body.is_empty() {
            return Vec::new();
        }
        body.split(|&c| c == b'\n')
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect()
    };
    let (gout, oout) = (lines(&g.stdout), lines(&o.stdout));
    for i in 0..gout.len().max(oout.len()) {
        if gout.get(i) != oout.get(i) {
            out.push(format!(
                "stdout line {}: sha256sum {:?}, voxctl {:?}",
                i + 1,
                gout.get(i),
                oout.get(i)
            ));
        }
    }
    if g.stdout != o.stdout && out.iter().all(|d| !d.starts_with("stdout")) {
        out.push("stdout differs in its last newline".into());
    }
    let gerr: Vec<String> = lines(&g.stderr)
        .into_iter()
        .map(|l| match l.strip_prefix("sha256sum: ") {
            Some(rest) => format!("voxctl: {rest}"),
            None => l,
        })
        .collect();
    let mut oerr = lines(&o.stderr);
    if !o.status.success() {
        match oerr.pop() {
            Some(l) if l.starts_with("voxctl: error: verification failed: ") => {}
            l => out.push(format!("stderr ends with {l:?}, not voxctl's error")),
        }
    }
    if run.flags.contains(&"--quiet") {
        if !oerr.is_empty() {
            out.push(format!("stderr with --quiet: {oerr:?}"));
        }
        return (out, g);
    }
    // A listed file's read error may name the path tried: the name as GNU quoted it, with
    // the directory in front (`dir` needs no quoting, so the quotes stay where they were).
    let dir_text = format!("{}/", dir.display());
    let tried = |g: &str| -> Option<String> {
        let rest = g.strip_prefix("voxctl: ")?;
        let quoted = [
            "No such file or directory",
            "Is a directory",
            "Not a directory",
        ]
        .iter()
        .find_map(|reason| rest.strip_suffix(&format!(": {reason}")))?;
        Some(match quoted.chars().next() {
            Some(q @ ('\'' | '"')) => format!(" (tried {q}{dir_text}{})", &quoted[1..]),
            _ => format!(" (tried {dir_text}{quoted})"),
        })
    };
    // A sums file that cannot be opened is named as given, with nothing added.
    let operands: Vec<String> = run
        .args
        .iter()
        .map(|a| format!("voxctl: {}: ", voxctl::checksum::gnu_quote(a.as_bytes())))
        .collect();
    for i in 0..gerr.len().max(oerr.len()) {
        let same = match (gerr.get(i), oerr.get(i)) {
            (Some(g), Some(o)) => match tried(g) {
                Some(t) if !operands.iter().any(|p| g.starts_with(p.as_str())) => {
                    *o == format!("{g}{t}")
                }
                _ => {
                    o == g
                        || g.ends_with(": read error")
                            && o.strip_prefix(g.as_str()) == Some(" (Is a directory)")
                }
            },
            _ => false,
        };
        if !same {
            out.push(format!(
                "stderr line {}: sha256sum {:?}, voxctl {:?}",
                i + 1,
                gerr.get(i),
                oerr.get(i)
            ));
        }
    }
    (out, g)
}

/// Runs `run` and fails with the differences, if any.
#[cfg(unix)]
fn agree(dir: &Path, what: &str, run: &Run) {
    let (diff, _) = differences(dir, run);
    assert!(diff.is_empty(), "{what}: {run:?}\n{}", diff.join("\n"));
}

/// Writes a sums file at `sums/{name}` and returns its operand.
#[cfg(unix)]
fn sums_file(dir: &Path, name: &str, text: &[u8]) -> String {
    let path = format!("sums/{name}");
    write(&dir.join(&path), text);
    path
}

/// Hand-picked cases where `sha256sum -c` says something particular, each
/// run with both tools (see [`differences`] for what must agree).
#[cfg(unix)]
#[test]
fn verify_c_agrees_with_gnu_sha256sum_c_case_by_case() {
    require_gnu_split();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    differential_fixture(dir);
    let h = |d: &[u8]| Sha256::of(d).to_hex();
    let ok = |name: &str| format!("{}  {name}\n", h(name.as_bytes()));
    let bad = |name: &str| format!("{}  {name}\n", h(b"not it"));
    let run = |flags: &[&'static str], args: &[String]| Run {
        flags: flags.to_vec(),
        args: args.to_vec(),
        stdin: Vec::new(),
    };

    // A missing file among good ones, in every output mode.
    let missing = sums_file(
        dir,
        "missing",
        format!("{}{}", ok("plain"), ok("gone")).as_bytes(),
    );
    for flags in [
        &[][..],
        &["--quiet"],
        &["--status"],
        &["-w"],
        &["--ignore-missing"],
        &["--ignore-missing", "--status"],
        &["--strict"],
    ] {
        agree(
            dir,
            "a missing file",
            &run(flags, std::slice::from_ref(&missing)),
        );
    }
    // Only missing files: with --ignore-missing nothing was verified.
    let only = sums_file(
        dir,
        "only missing",
        format!("{}{}", ok("gone"), ok("sub/gone")).as_bytes(),
    );
    for flags in [
        &["--ignore-missing"][..],
        &["--ignore-missing", "--status"],
        &[],
    ] {
        agree(
            dir,
            "only missing files",
            &run(flags, std::slice::from_ref(&only)),
        );
    }
    // Plurals: two of each kind of failure, and two malformed lines.
    let plural = sums_file(
        dir,
        "plural",
        format!(
            "{}{}{}{}{}not a line\n{}also not\n",
            ok("plain"),
            bad("with space"),
            bad("sub/file"),
            ok("gone"),
            ok("sub"),
            ok("plain/x"),
        )
        .as_bytes(),
    );
    for flags in [
        &[][..],
        &["-w"],
        &["--strict"],
        &["--status", "--strict"],
        &["--quiet"],
    ] {
        agree(dir, "plurals", &run(flags, std::slice::from_ref(&plural)));
    }
    // Lines GNU itself wrote: escaped names (a leading `\`), the tag form, and a file listed
    // by GNU that is gone by the time it is checked.
    let escaped: Vec<&std::ffi::OsStr> = PRESENT.iter().map(|n| os(n)).collect();
    let gnu_sums = |extra: &[&str]| {
        let out = std::process::Command::new("sha256sum")
            .current_dir(dir)
            .args(extra)
            .arg("--")
            .args(&escaped)
            .output()
            .unwrap();
        assert!(out.status.success());
        out.stdout
    };
    let mut written = gnu_sums(&[]);
    written.extend(gnu_sums(&["--tag"]));
    write(&dir.join("vanishing\\one\nx"), b"soon gone");
    let gone = std::process::Command::new("sha256sum")
        .current_dir(dir)
        .arg("vanishing\\one\nx")
        .output()
        .unwrap();
    std::fs::remove_file(dir.join("vanishing\\one\nx")).unwrap();
    assert!(gone.stdout.starts_with(b"\\"), "GNU escapes the name");
    written.extend(&gone.stdout);
    // One escaped line with a digit changed: a mismatch under an escaped name.
    let at = written
        .windows(11)
        .position(|w| w == b"back\\\\slash")
        .unwrap();
    let start = written[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1)
        + 1;
    written[start] = if written[start] == b'0' { b'1' } else { b'0' };
    let by_gnu = sums_file(dir, "by gnu", &written);
    for flags in [&[][..], &["--quiet"], &["--ignore-missing"]] {
        agree(
            dir,
            "lines written by GNU",
            &run(flags, std::slice::from_ref(&by_gnu)),
        );
    }
    // Sums from standard input: `-`, or no operand; GNU calls it 'standard input'.
    for (args, text) in [
        (vec![], b"garbage\n".to_vec()),
        (vec!["-".to_string()], b"garbage\n".to_vec()),
        (
            vec!["-".to_string()],
            format!("{}bad\n{}", ok("plain"), ok("gone")).into_bytes(),
        ),
        (vec![], format!("{}  -\n", h(b"")).into_bytes()),
    ] {
        for flags in [&[][..], &["-w"], &["--ignore-missing"]] {
            let mut r = run(flags, &args);
            r.stdin = text.clone();
            agree(dir, "sums on stdin", &r);
        }
    }
    // Several sums files: one missing, a directory, one without checksum lines, a good one
    // in a subdirectory listing files in subdirectories, names GNU quotes.
    let empty = sums_file(dir, "t x'y", b"# only a comment\n\nnot a line\n");
    let colon = sums_file(dir, "a:b", ok("plain").as_bytes());
    let deep = sums_file(
        dir,
        "sub/deep",
        format!(
            "{}{}{}{}",
            ok("sub/deeper/x y"),
            ok("sub/gone"),
            ok("plain/x"),
            ok("sub/file")
        )
        .as_bytes(),
    );
    let several = [
        "sums/absent one".to_string(),
        deep.clone(),
        "sums".to_string(),
        empty.clone(),
        colon.clone(),
        missing.clone(),
    ];
    for flags in [
        &[][..],
        &["-w"],
        &["--status"],
        &["--ignore-missing", "--strict"],
    ] {
        agree(dir, "several sums files", &run(flags, &several));
    }
    // --status and -w: the last one given wins, as in GNU.
    for flags in [
        &["--status", "-w"][..],
        &["-w", "--status"],
        &["--warn", "--status", "--warn"],
    ] {
        agree(
            dir,
            "--status against -w",
            &run(flags, &[plural.clone(), empty.clone()]),
        );
    }
    // GNU's reading state lasts across files: after a reversed (`HEX NAME`) line, a
    // standard line keeps its blank in the name.
    let reversed = sums_file(
        dir,
        "reversed",
        format!("{} plain\n", h(b"plain")).as_bytes(),
    );
    let standard = sums_file(
        dir,
        "standard",
        format!("{}  lead\n", h(b" lead")).as_bytes(),
    );
    agree(dir, "state across files", &run(&[], &[reversed, standard]));
}

/// A deterministic generator (xorshift64*).
#[cfg(unix)]
struct Rng(u64);

#[cfg(unix)]
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// `\\`, `\n`, `\r` escaped as sha256sum writes an escaped name.
#[cfg(unix)]
fn gnu_escape(name: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for &b in name {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
    out
}

/// One random sums file: lines in every form GNU reads (text, binary, BSD-reversed, tabs,
/// leading blanks, CRLF, BSD and OpenSSL tags, escaped names), comments, blank and malformed
/// lines, matching and mismatching digests, files present, missing and unreadable.
#[cfg(unix)]
fn random_sums(rng: &mut Rng) -> Vec<u8> {
    let mut text = Vec::new();
    for _ in 0..rng.below(9) {
        let name: &[u8] = if rng.below(4) == 0 {
            rng.pick(UNREADABLE)
        } else {
            rng.pick(PRESENT)
        };
        let digest = if rng.below(6) == 0 {
            Sha256::of(b"something else")
        } else {
            Sha256::of(name)
        };
        let mut h = digest.to_hex();
        if rng.below(5) == 0 {
            h = h.to_uppercase();
        }
        let esc = gnu_escape(name);
        let raw = name.to_vec();
        let cat = |parts: &[&[u8]]| parts.concat();
        let hb = h.as_bytes();
        let line: Vec<u8> = match rng.below(22) {
            0 | 1 => cat(&[hb, b"  ", &raw]),
            2 => cat(&[b"\\", hb, b"  ", &esc]),
            3 => cat(&[hb, b" *", &raw]),
            4 => cat(&[b"\\", hb, b" *", &esc]),
            5 => cat(&[hb, b" ", &raw]),
            6 => cat(&[hb, b"\t", &raw]),
            7 => cat(&[b" \t", hb, b"  ", &raw]),
            8 => cat(&[b"SHA256 (", &raw, b") = ", hb]),
            9 => cat(&[b"\\SHA256 (", &esc, b") = ", hb]),
            10 => cat(&[b"SHA256(", &raw, b")= ", hb]),
            11 => cat(&[b"SHA256 (", &raw, b")\t=\t", hb]),
            12 => cat(&[hb, b"  ", &raw, b"\r"]),
            // Malformed in GNU's eyes.
            13 => cat(&[&hb[1..], b"  ", &raw]),
            14 => cat(&[b"SHA2-256(", &raw, b")= ", hb]),
            15 => cat(&[b"SHA256 (", &raw, b") = ", hb, b" "]),
            16 => cat(&[b"sha256 (", &raw, b") = ", hb]),
            17 => cat(&[b"SHA256  (", &raw, b") = ", hb]),
            18 => cat(&[b"\\", hb, b"  bad\\escape"]),
            19 => rng
                .pick(&[&b"# a comment"[..], b"", b"   ", b"\r", b" # not one"])
                .to_vec(),
            20 => cat(&[hb, b"0  ", &raw]),
            _ => cat(&[hb, b"  ", &raw, b"\\"]),
        };
        text.extend_from_slice(&line);
        text.push(b'\n');
    }
    if !text.is_empty() && rng.below(4) == 0 {
        text.pop(); // a last line without a newline
    }
    text
}

/// Differentially: many random runs (a seeded loop over random
/// combinations of sums files, operands and options), each compared with `sha256sum -c` as
/// [`differences`] says: stdout byte for byte, the exit status class, stderr line by line.
#[cfg(unix)]
#[test]
fn verify_c_agrees_with_gnu_sha256sum_c_on_generated_sums_files() {
    require_gnu_split();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    differential_fixture(dir);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut failures = Vec::new();
    // What the runs covered: each output mode, stdin, GNU's outcomes and verdicts.
    let mut modes = std::collections::BTreeMap::<&str, usize>::new();
    const TRIALS: usize = 300;
    for trial in 0..TRIALS {
        let mut run = Run::default();
        let files = 1 + rng.below(3);
        let stdin_at = (rng.below(4) == 0).then(|| rng.below(files));
        for f in 0..files {
            if stdin_at == Some(f) {
                run.stdin = random_sums(&mut rng);
                // No operand at all reads stdin too, when it would be the only one.
                if files > 1 || rng.below(2) == 0 {
                    run.args.push("-".into());
                }
                continue;
            }
            let name = match rng.below(12) {
                0 => "absent".to_string(),
                1 => "sub".to_string(), // a directory
                n => rng
                    .pick(&["t{}", "t {}", "t'{}", "t:{}", "sub/t{}"])
                    .replace("{}", &format!("{trial}-{f}-{n}")),
            };
            match name.as_str() {
                "absent" => run.args.push("sums/absent".into()),
                "sub" => run.args.push("sums/sub".into()),
                _ => {
                    let text = random_sums(&mut rng);
                    run.args.push(sums_file(dir, &name, &text));
                }
            }
        }
        let mode = rng.pick(&[
            "",
            "--quiet",
            "--status",
            "-w",
            "-w --status",
            "--status -w",
        ]);
        run.flags.extend(mode.split_whitespace());
        if rng.below(4) == 0 {
            run.flags.push("--ignore-missing");
        }
        if rng.below(4) == 0 {
            run.flags.push("--strict");
        }
        *modes
            .entry(if mode.is_empty() { "default" } else { mode })
            .or_default() += 1;
        if stdin_at.is_some() {
            *modes.entry("stdin").or_default() += 1;
        }
        let (diff, gnu) = differences(dir, &run);
        let text = String::from_utf8_lossy(&gnu.stdout);
        for (seen, what) in [
            (gnu.status.success(), "success"),
            (!gnu.status.success(), "failure"),
            (text.contains(": OK\n"), "OK"),
            (text.contains(": FAILED\n"), "FAILED"),
            (
                text.contains(": FAILED open or read\n"),
                "FAILED open or read",
            ),
            (!gnu.stderr.is_empty(), "stderr"),
        ] {
            if seen {
                *modes.entry(what).or_default() += 1;
            }
        }
        if !diff.is_empty() {
            failures.push(format!("trial {trial}: {run:?}\n{}", diff.join("\n")));
        }
    }
    assert!(
        modes.len() == 13 && modes.values().all(|&n| n >= 10),
        "the runs cover every mode, stdin, successes, failures and every verdict: {modes:?}"
    );
    assert!(
        failures.is_empty(),
        "{} of {TRIALS} runs differ; the first:\n{}",
        failures.len(),
        failures[0]
    );
}
