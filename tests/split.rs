//! `voxctl split`: byte-for-byte compatibility with the GNU release pipeline, the JSON
//! manifest, refusal to overwrite, bad input, SIGINT and SIGKILL at any moment, bounded memory.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use predicates::prelude::*;
use support::release::{assert_manifests_consistent, bytes, gnu_release, have_gnu_split, listing};
use support::voxctl;
use voxctl::checksum::Sha256;
use voxctl::manifest::Manifest;

fn setup(asset: &str, data: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join(asset);
    std::fs::write(&input, data).unwrap();
    (tmp, input)
}

#[test]
fn parts_and_manifests_match_gnu_split_and_sha256sum_byte_for_byte() {
    if !have_gnu_split() {
        eprintln!("skipped: GNU split and sha256sum are not installed");
        return;
    }
    let data = bytes(5_000_123, 1);
    for asset in ["voicebox-server-cuda", "voicebox-server-cuda.exe"] {
        let (tmp, input) = setup(asset, &data);
        let gnu = tmp.path().join("gnu");
        std::fs::create_dir(&gnu).unwrap();
        std::fs::copy(&input, gnu.join(asset)).unwrap();
        gnu_release(&gnu, asset, 1_300_000);
        let out = tmp.path().join("out");
        voxctl(tmp.path())
            .args(["split", "--chunk-size", "1300000", "--out"])
            .arg(&out)
            .arg(&input)
            .assert()
            .success();
        let ours = listing(&out);
        let theirs: Vec<String> = listing(&gnu).into_iter().filter(|n| n != asset).collect();
        let stem = asset.trim_end_matches(".exe");
        let expected: Vec<String> = theirs
            .iter()
            .cloned()
            .chain([format!("{stem}.manifest.json")])
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(
            ours, expected,
            "{asset}: the same files, plus the JSON manifest"
        );
        assert_eq!(theirs.iter().filter(|n| n.contains(".part")).count(), 4);
        for name in &theirs {
            assert_eq!(
                std::fs::read(out.join(name)).unwrap(),
                std::fs::read(gnu.join(name)).unwrap(),
                "{asset}: {name} differs from GNU's"
            );
        }
    }
}

#[test]
fn the_json_manifest_describes_the_parts_and_is_deterministic() {
    let data = bytes(3_000_000, 2);
    let (tmp, input) = setup("voicebox-server-rocm", &data);
    let mut docs = Vec::new();
    for out in ["a", "b"] {
        let assert = voxctl(tmp.path())
            .args([
                "--json",
                "split",
                "--chunk-size",
                "1MiB",
                "--variant",
                "rocm",
            ])
            .args(["--app-version", "0.3.1", "--out"])
            .arg(tmp.path().join(out))
            .arg(&input)
            .assert()
            .success();
        docs.push(assert.get_output().stdout.clone());
    }
    let file_a = std::fs::read(tmp.path().join("a/voicebox-server-rocm.manifest.json")).unwrap();
    let file_b = std::fs::read(tmp.path().join("b/voicebox-server-rocm.manifest.json")).unwrap();
    assert_eq!(file_a, file_b, "byte-identical outputs for the same input");
    let m = Manifest::from_json(&file_a).unwrap();
    let printed: Manifest = serde_json::from_slice(&docs[0]).unwrap();
    assert_eq!(printed, m, "--json prints the manifest");
    assert_eq!(
        (m.size, m.chunk_size, m.parts.len()),
        (3_000_000, 1 << 20, 3)
    );
    assert_eq!(m.sha256, Sha256::of(&data));
    assert_eq!(m.variant.as_deref(), Some("rocm"));
    assert_eq!(m.app_version.as_deref(), Some("0.3.1"));
    for p in &m.parts {
        let range = &data[p.offset as usize..(p.offset + p.size) as usize];
        assert_eq!(p.sha256, Sha256::of(range), "{}", p.name);
    }
    assert_eq!(
        assert_manifests_consistent(&tmp.path().join("a"), "voicebox-server-rocm"),
        2
    );
}

#[test]
fn human_output_lists_parts_with_sizes_and_hashes() {
    let data = bytes(2500, 3);
    let (tmp, input) = setup("x.exe", &data);
    voxctl(tmp.path())
        .args(["split", "--chunk-size", "1000", "--out"])
        .arg(tmp.path().join("out"))
        .arg(&input)
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "x.part02.exe  {:>13}  {}",
            500,
            Sha256::of(&data[2000..])
        )))
        .stdout(predicate::str::contains(Sha256::of(&data).to_hex()));
}

#[test]
fn fsync_writes_the_same_outputs_across_several_writeback_steps() {
    // Parts of 9,000,000 bytes: each crosses the 8 MiB step at which `--fsync` starts the
    // writeback of what is written so far, at an offset that is not a block multiple.
    let data = bytes(20_000_037, 4);
    let (tmp, input) = setup("voicebox-server-cpu", &data);
    for (out, fsync) in [("plain", false), ("durable", true)] {
        let mut cmd = voxctl(tmp.path());
        cmd.args(["split", "--chunk-size", "9000000", "--out"])
            .arg(tmp.path().join(out));
        if fsync {
            cmd.arg("--fsync");
        }
        cmd.arg(&input).assert().success();
    }
    let (plain, durable) = (tmp.path().join("plain"), tmp.path().join("durable"));
    let names = listing(&durable);
    assert_eq!(names, listing(&plain));
    let mut joined = Vec::new();
    for name in &names {
        let bytes = std::fs::read(durable.join(name)).unwrap();
        assert_eq!(bytes, std::fs::read(plain.join(name)).unwrap(), "{name}");
        if name.contains(".part") {
            joined.extend(bytes);
        }
    }
    assert_eq!(names.iter().filter(|n| n.contains(".part")).count(), 3);
    assert!(joined == data, "the parts in order are the input");
}

#[test]
fn part_sizes_take_units() {
    let (tmp, input) = setup("a", b"hello");
    for (text, n) in [
        ("1900MB", 1_900_000_000u64),
        ("1GiB", 1 << 30),
        ("100M", 104_857_600),
    ] {
        let out = tmp.path().join(text);
        voxctl(tmp.path())
            .args(["split", "--part-size", text, "--out"])
            .arg(&out)
            .arg(&input)
            .assert()
            .success();
        let m = Manifest::from_json(&std::fs::read(out.join("a.manifest.json")).unwrap()).unwrap();
        assert_eq!(m.chunk_size, n, "{text}");
    }
    let out = tmp.path().join("default");
    voxctl(tmp.path())
        .args(["split", "--out"])
        .arg(&out)
        .arg(&input)
        .assert()
        .success();
    let m = Manifest::from_json(&std::fs::read(out.join("a.manifest.json")).unwrap()).unwrap();
    assert_eq!(m.chunk_size, 1_900_000_000, "the voicebox default");
}

#[test]
fn bad_input_is_refused_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::write(&empty, b"").unwrap();
    let file = tmp.path().join("file");
    std::fs::write(&file, b"data").unwrap();
    let dir = tmp.path().join("dir");
    std::fs::create_dir(&dir).unwrap();
    let missing = tmp.path().join("missing");
    let cases: [(&Path, &str, i32, &str); 7] = [
        (&missing, "10", 1, "missing"),
        (&empty, "10", 1, "is empty"),
        (&dir, "10", 1, "not a regular file"),
        (&file, "0", 2, "part size"),
        (&file, "3GB", 2, "under 2 GiB"),
        (&file, "2GiB", 2, "under 2 GiB"),
        (&file, "lots", 2, "invalid size"),
    ];
    for (input, chunk, code, words) in cases {
        let out = tmp.path().join("out");
        voxctl(tmp.path())
            .args(["split", "--chunk-size", chunk, "--out"])
            .arg(&out)
            .arg(input)
            .assert()
            .code(code)
            .stderr(predicate::str::contains(words))
            .stderr(predicate::str::contains("voxctl: error:"));
        assert!(
            listing(&out).is_empty(),
            "{chunk} {input:?}: nothing written"
        );
    }
    // Too many parts for two-digit names.
    voxctl(tmp.path())
        .args(["split", "--chunk-size", "1", "--out"])
        .arg(tmp.path().join("out"))
        .arg(tmp.path().join("dir/../file"))
        .assert()
        .success();
    std::fs::write(&file, vec![0u8; 101]).unwrap();
    voxctl(tmp.path())
        .args(["split", "--chunk-size", "1", "--out"])
        .arg(tmp.path().join("out2"))
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("101 parts"))
        .stderr(predicate::str::contains("hint:"));
}

#[test]
fn existing_outputs_are_kept_without_force_and_replaced_with_it() {
    let (tmp, input) = setup("v.exe", &bytes(5000, 4));
    let out = tmp.path().join("out");
    let split = |chunk: &str, force: bool| {
        let mut cmd = voxctl(tmp.path());
        cmd.args(["split", "--chunk-size", chunk, "--out"])
            .arg(&out)
            .arg(&input);
        if force {
            cmd.arg("--force");
        }
        cmd.assert()
    };
    split("1000", false).success();
    let before: Vec<_> = listing(&out)
        .iter()
        .map(|n| (n.clone(), std::fs::read(out.join(n)).unwrap()))
        .collect();
    split("2000", false)
        .code(1)
        .stderr(predicate::str::contains("v.part00.exe already exists"))
        .stderr(predicate::str::contains("hint: pass --force"));
    let after: Vec<_> = listing(&out)
        .iter()
        .map(|n| (n.clone(), std::fs::read(out.join(n)).unwrap()))
        .collect();
    assert_eq!(before, after, "nothing touched without --force");
    split("2000", true).success();
    assert_eq!(
        listing(&out),
        [
            "v.manifest",
            "v.manifest.json",
            "v.part00.exe",
            "v.part01.exe",
            "v.part02.exe",
            "v.sha256"
        ],
        "stale parts 03 and 04 removed, no temporary files left"
    );
    assert_eq!(assert_manifests_consistent(&out, "v"), 2);
}

/// Polls until `f` holds or `limit` passes.
fn wait_for(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

#[test]
fn sigint_removes_temporary_files_and_exits_130() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("big");
    // Sparse: big enough to take a while to hash, cheap on disk.
    std::fs::File::create(&input)
        .unwrap()
        .set_len(3 << 30)
        .unwrap();
    let out = tmp.path().join("out");
    let mut child = support::voxctl_std(tmp.path())
        .args(["split", "--chunk-size", "1GiB", "--out"])
        .arg(&out)
        .arg(&input)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = wait_for(Duration::from_secs(30), || {
        listing(&out).iter().any(|n| n.ends_with(".voxctl-tmp"))
    });
    assert!(started, "a temporary part appears");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(listing(&out).is_empty(), "left behind: {:?}", listing(&out));
}

#[test]
fn a_split_killed_at_any_moment_never_leaves_a_manifest_naming_a_bad_part() {
    let data = bytes(24 << 20, 5);
    let (tmp, input) = setup("k.exe", &data);
    let mut completed = 0;
    for delay_ms in [0u64, 1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 200] {
        let out = tmp.path().join(format!("out{delay_ms}"));
        let mut child = support::voxctl_std(tmp.path())
            .args(["split", "--chunk-size", "3MB", "--out"])
            .arg(&out)
            .arg(&input)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let status = child.wait().unwrap();
        if status.success() {
            completed += 1;
        }
        let manifests = assert_manifests_consistent(&out, "k");
        if status.success() {
            assert_eq!(manifests, 2);
        }
        // A rerun with --force always completes the release.
        voxctl(tmp.path())
            .args(["split", "--force", "--chunk-size", "3MB", "--out"])
            .arg(&out)
            .arg(&input)
            .assert()
            .success();
        assert_eq!(assert_manifests_consistent(&out, "k"), 2);
        assert!(!listing(&out).iter().any(|n| n.ends_with(".voxctl-tmp")) || !status.success());
    }
    eprintln!("{completed} of the runs completed before the kill");
}

#[test]
fn peak_memory_stays_bounded_on_a_large_input() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("big");
    std::fs::File::create(&input)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    voxctl(tmp.path())
        .args(["split", "--chunk-size", "300MB", "--out"])
        .arg(tmp.path().join("out"))
        .arg(&input)
        .assert()
        .success();
    // The children of this test process are the voxctl runs above (nextest runs each test in
    // its own process); ru_maxrss is in KiB on Linux.
    let usage =
        nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN).unwrap();
    let max_kib = usage.max_rss();
    #[cfg(target_os = "macos")]
    let max_kib = max_kib / 1024;
    assert!(
        max_kib < 64 * 1024,
        "peak RSS {max_kib} KiB, want under 64 MiB"
    );
}

/// Runs GNU `split -b SPEC -d -a 2 A A.part` in a fresh `dir` holding a copy (hard link) of
/// `input`, and returns the part names in order (issue 12 item 2).
fn gnu_split_b(dir: &Path, input: &Path, spec: &str) -> Vec<String> {
    std::fs::create_dir_all(dir).unwrap();
    let name = input.file_name().unwrap().to_str().unwrap().to_string();
    std::fs::hard_link(input, dir.join(&name)).unwrap();
    let status = std::process::Command::new("split")
        .args(["-b", spec, "-d", "-a", "2", &name, &format!("{name}.part")])
        .current_dir(dir)
        .status()
        .expect("GNU split is needed (coreutils; .ci/run installs it)");
    assert!(status.success(), "split -b {spec:?} failed");
    std::fs::remove_file(dir.join(&name)).unwrap();
    listing(dir)
}

/// `voxctl split --part-size N` and `split -b N` cut byte-identical parts for every unit of
/// GNU's grammar that gives parts under 2 GiB (issue 12 item 2: `100M` used to mean 10^8).
#[test]
fn part_sizes_cut_what_gnu_split_b_cuts_for_every_unit() {
    let tmp = tempfile::tempdir().unwrap();
    // Inputs sized so that every spelling below makes 2 to 100 parts, ending in a short one.
    let small = tmp.path().join("small");
    std::fs::write(&small, bytes(20_011, 5)).unwrap();
    let medium = tmp.path().join("medium");
    std::fs::write(&medium, bytes(3 * 1024 * 1024 + 17, 6)).unwrap();
    let specs: &[(&Path, &[&str])] = &[
        (
            &small,
            &[
                "1000", "+1000", "01000", " 999", "b", "3b", "K", "k", "7K", "7k", "7KiB", "7kiB",
                "KB", "7KB", "7kB", "7KD",
            ],
        ),
        (
            &medium,
            &[
                "M", "1M", "1m", "MiB", "1MiB", "1miB", "1MB", "1mB", "1MD", "2000KB", "1500K",
            ],
        ),
    ];
    let mut n = 0;
    for (input, specs) in specs {
        for spec in *specs {
            n += 1;
            let gnu = tmp.path().join(format!("gnu{n}"));
            let theirs = gnu_split_b(&gnu, input, spec);
            assert!(theirs.len() >= 2, "{spec:?} cuts {input:?} in parts");
            let out = tmp.path().join(format!("ours{n}"));
            voxctl(tmp.path())
                .args(["-q", "split", "--part-size", spec, "--out"])
                .arg(&out)
                .arg(input)
                .assert()
                .success();
            let ours: Vec<String> = listing(&out)
                .into_iter()
                .filter(|n| n.contains(".part"))
                .collect();
            assert_eq!(ours, theirs, "{spec:?}: the same part names");
            for name in &theirs {
                assert!(
                    std::fs::read(out.join(name)).unwrap()
                        == std::fs::read(gnu.join(name)).unwrap(),
                    "{spec:?}: {name} differs from GNU split -b's"
                );
            }
        }
    }
    // The alias the reference app's script uses means the same.
    let out = tmp.path().join("alias");
    voxctl(tmp.path())
        .args(["-q", "split", "--chunk-size", "7K", "--out"])
        .arg(&out)
        .arg(&small)
        .assert()
        .success();
    let m = Manifest::from_json(&std::fs::read(out.join("small.manifest.json")).unwrap()).unwrap();
    assert_eq!(m.chunk_size, 7 * 1024, "chunk_size records the part size");
}

/// The G units, on a sparse input of 1 GiB + 1 byte with data at the unit boundaries: each
/// voxctl part has the size and SHA-256 of GNU's part of the same name (compared by hash, not
/// in memory).
#[test]
fn gigabyte_part_sizes_cut_what_gnu_split_b_cuts() {
    use std::io::{Seek, SeekFrom, Write};
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("big");
    let mut f = std::fs::File::create(&input).unwrap();
    f.set_len((1 << 30) + 1).unwrap();
    for at in [0u64, 999_999_999, 1_000_000_000, (1 << 30) - 1, 1 << 30] {
        f.seek(SeekFrom::Start(at)).unwrap();
        f.write_all(&at.to_le_bytes()[..1]).unwrap();
    }
    f.set_len((1 << 30) + 1).unwrap();
    drop(f);
    for (n, spec) in ["1G", "1GiB", "1GB"].iter().enumerate() {
        let gnu = tmp.path().join(format!("gnu{n}"));
        let theirs = gnu_split_b(&gnu, &input, spec);
        let out = tmp.path().join(format!("ours{n}"));
        voxctl(tmp.path())
            .args(["-q", "split", "--part-size", spec, "--out"])
            .arg(&out)
            .arg(&input)
            .assert()
            .success();
        let m =
            Manifest::from_json(&std::fs::read(out.join("big.manifest.json")).unwrap()).unwrap();
        let ours: Vec<&str> = m.parts.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(ours, theirs, "{spec:?}: the same part names");
        for p in &m.parts {
            let (sha256, size) = voxctl::digest::hash_file(&gnu.join(&p.name), &|_| {}).unwrap();
            assert_eq!((p.size, p.sha256), (size, sha256), "{spec:?}: {}", p.name);
            let ours = voxctl::digest::hash_file(&out.join(&p.name), &|_| {}).unwrap();
            assert_eq!(
                ours,
                (sha256, size),
                "{spec:?}: {} differs from GNU's",
                p.name
            );
        }
        // Free the disk before the next spelling.
        std::fs::remove_dir_all(&gnu).unwrap();
        std::fs::remove_dir_all(&out).unwrap();
    }
}

/// A decimal size is a usage error whose hint spells it in whole units; sizes GNU reads but
/// that make parts of 2 GiB or more are refused.
#[test]
fn decimal_and_oversized_part_sizes_are_usage_errors() {
    let (tmp, input) = setup("a", b"hello");
    for (spec, words) in [
        ("1.9GB", "1900MB"),
        ("1.5GiB", "1536MiB"),
        ("2G", "under 2 GiB"),
        ("1T", "under 2 GiB"),
        ("100 MB", "invalid size"),
        ("1g", "invalid size"),
    ] {
        voxctl(tmp.path())
            .args(["split", "--part-size", spec, "--out"])
            .arg(tmp.path().join("out"))
            .arg(&input)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(words));
    }
    assert!(listing(&tmp.path().join("out")).is_empty());
}
