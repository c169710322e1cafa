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
        .stdout(predicate::str::ends_with("nope: MISSING\n"));
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
/// `--relative-to-sums` resolves them against the sums file's directory; a MISSING line names
/// the path tried.
#[test]
fn sums_names_resolve_against_the_current_directory_or_with_a_flag_the_sums_file() {
    let tmp = tempfile::tempdir().unwrap();
    let sums = sums_fixture(tmp.path());
    let expected = "files/good one: OK\nfiles/bin.exe: OK\nfiles/tag: OK\nfiles/bad: FAILED\n";
    // In the sums file's directory: the same lines as sha256sum -c.
    let gnu = std::process::Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(tmp.path().join("sums"))
        .output()
        .expect("sha256sum (coreutils) is installed");
    assert_eq!(String::from_utf8_lossy(&gnu.stdout), expected);
    voxctl(tmp.path())
        .current_dir(tmp.path().join("sums"))
        .args(["verify", "-c", "SHA256SUMS"])
        .assert()
        .code(3)
        .stdout(expected);
    // The common case: the sums file was written from inside `vx` and is read from there.
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
    // From elsewhere, the same names are missing, and the line says where voxctl looked.
    voxctl(tmp.path())
        .current_dir(tmp.path())
        .args(["verify", "-c"])
        .arg(&sums)
        .assert()
        .code(3)
        .stdout(predicate::str::contains(format!(
            "files/good one: MISSING (tried {})\n",
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
                "empty.sums: no properly formatted SHA-256 checksum lines found",
            ))
            .stderr(predicate::str::contains("gone.sums is missing"));
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
    verify(&[])
        .code(3)
        .stdout(format!(
            "here: OK\ngone: MISSING (tried {})\n",
            dir.join("gone").display()
        ))
        .stderr(predicate::str::contains(
            "S:3: improperly formatted SHA-256 checksum line",
        ));
    verify(&["--ignore-missing"]).success().stdout("here: OK\n");
    verify(&["--ignore-missing", "--strict"])
        .code(3)
        .stderr(predicate::str::contains(
            "1 improperly formatted line(s) (--strict)",
        ));
    write(&sums, format!("{h}  gone\n").as_bytes());
    verify(&["--ignore-missing"])
        .code(3)
        .stderr(predicate::str::contains("S: no file was verified"));
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
    // The intact parts of a text manifest (no per-part checksums) are PRESENT, not FAILED
    // without detail, when another part is missing.
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

/// One file's verdict as printed on stdout: the name's bytes as printed, and the outcome
/// (`OK`, `FAILED`, or `UNREADABLE` for GNU's `FAILED open or read` and voxctl's `MISSING`).
fn verdicts(stdout: &[u8]) -> Vec<(Vec<u8>, &'static str)> {
    let mut out = Vec::new();
    let body = stdout.strip_suffix(b"\n").unwrap_or(stdout);
    if body.is_empty() {
        return out;
    }
    for line in body.split(|&b| b == b'\n') {
        let find = |pat: &[u8]| line.windows(pat.len()).position(|w| w == pat);
        let (name, word) = if let Some(i) = find(b": MISSING") {
            (&line[..i], "UNREADABLE")
        } else if let Some(name) = line.strip_suffix(b": FAILED open or read") {
            (name, "UNREADABLE")
        } else if let Some(name) = line.strip_suffix(b": OK") {
            (name, "OK")
        } else if let Some(name) = line.strip_suffix(b": FAILED") {
            (name, "FAILED")
        } else {
            panic!("unexpected line {:?}", String::from_utf8_lossy(line));
        };
        out.push((name.to_vec(), word));
    }
    out
}

/// A deterministic generator (xorshift64*).
struct Rng(u64);

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

/// Differentially: random sums files in every line form GNU reads (text,
/// binary, BSD-reversed, tabs, leading blanks, CRLF, BSD and OpenSSL tags, escaped names,
/// names that are not UTF-8), with malformed lines, mismatching digests and missing files,
/// several per run and sometimes on stdin, with and without --ignore-missing and --strict:
/// `voxctl verify -c` and `sha256sum -c` agree on success and on each file's verdict.
#[test]
fn verify_c_agrees_with_gnu_sha256sum_c_on_generated_sums_files() {
    use std::os::unix::ffi::OsStrExt;
    require_gnu_split();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir(dir.join("sums")).unwrap();
    let present: &[&[u8]] = &[
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
    ];
    let absent: &[&[u8]] = &[b"gone", b"gone two", b"", b"nl\ngone"];
    for name in present {
        std::fs::write(dir.join(std::ffi::OsStr::from_bytes(name)), name).unwrap();
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut differences = Vec::new();
    // What the runs covered: (GNU successes, failures, OK, FAILED, UNREADABLE verdicts).
    let mut seen = [0usize; 5];
    for trial in 0..150 {
        let n_files = 1 + rng.below(3);
        let stdin_mode = n_files == 1 && rng.below(4) == 0;
        let mut sums_files = Vec::new();
        for f in 0..n_files {
            let mut text = Vec::new();
            for _ in 0..rng.below(9) {
                let name: &[u8] = if rng.below(5) == 0 {
                    rng.pick(absent)
                } else {
                    rng.pick(present)
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
            let path = format!("sums/t{trial}-{f}");
            std::fs::write(dir.join(&path), &text).unwrap();
            sums_files.push((path, text));
        }
        let mut flags = Vec::new();
        if rng.below(4) == 0 {
            flags.push("--ignore-missing");
        }
        if rng.below(4) == 0 {
            flags.push("--strict");
        }
        let mut gnu = std::process::Command::new("sha256sum");
        gnu.current_dir(dir).arg("-c").args(&flags);
        let mut ours = support::voxctl_std(dir);
        ours.current_dir(dir).args(["verify", "-c"]).args(&flags);
        let stdin = if stdin_mode {
            sums_files[0].1.clone()
        } else {
            for (path, _) in &sums_files {
                gnu.arg(path);
                ours.arg(path);
            }
            Vec::new()
        };
        let run = |cmd: &mut std::process::Command| {
            let mut child = cmd
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("sha256sum (coreutils) and voxctl run");
            let mut input = child.stdin.take().unwrap();
            std::io::Write::write_all(&mut input, &stdin).unwrap();
            drop(input);
            child.wait_with_output().unwrap()
        };
        let (g, o) = (run(&mut gnu), run(&mut ours));
        let (gv, ov) = (verdicts(&g.stdout), verdicts(&o.stdout));
        seen[usize::from(!g.status.success())] += 1;
        for (_, word) in &gv {
            seen[match *word {
                "OK" => 2,
                "FAILED" => 3,
                _ => 4,
            }] += 1;
        }
        if g.status.success() != o.status.success() || gv != ov {
            differences.push(format!(
                "trial {trial} {flags:?} stdin={stdin_mode}\nsums: {:?}\n\
                 sha256sum ({}): {:?}\n{}\nvoxctl ({}): {:?}\n{}",
                sums_files
                    .iter()
                    .map(|(_, t)| String::from_utf8_lossy(t).into_owned())
                    .collect::<Vec<_>>(),
                g.status,
                String::from_utf8_lossy(&g.stdout),
                String::from_utf8_lossy(&g.stderr),
                o.status,
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr),
            ));
        }
    }
    assert!(
        seen.iter().all(|&n| n >= 10),
        "the runs cover successes, failures and every verdict: {seen:?}"
    );
    assert!(
        differences.is_empty(),
        "{} of 150 runs differ; the first:\n{}",
        differences.len(),
        differences[0]
    );
}
