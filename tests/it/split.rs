//! `voxctl split`: byte-for-byte compatibility with the GNU release pipeline (GNU coreutils
//! required), the JSON manifest, refusal to overwrite, bad input, SIGINT, SIGKILL at every
//! publishing step (debug-build checkpoints), a killed split's temporary files removed by the
//! next one, bounded memory.

use crate::support;

use std::path::Path;
#[cfg(unix)]
use std::time::{Duration, Instant};

use predicates::prelude::*;
use support::release::{
    assert_manifests_consistent, bytes, gnu_release, listing, require_gnu_split,
};
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
    require_gnu_split();
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
            .chain([format!("{stem}.manifest.json"), format!("{stem}.chunks")])
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(
            ours, expected,
            "{asset}: the same files, plus the JSON manifest and the chunk index"
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
            "v.chunks",
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
#[cfg(unix)]
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

#[cfg(unix)]
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

/// A `voxctl split` of `input` into `out` in parts of `chunk` that stops (`stop`) or dies by
/// SIGKILL at the debug-build checkpoint `step` (see `voxctl::testhook`).
#[cfg(unix)]
fn split_at_checkpoint(
    state: &Path,
    input: &Path,
    out: &Path,
    chunk: &str,
    force: bool,
    step: &str,
    stop: bool,
) -> std::process::Child {
    let mut cmd = support::voxctl_std(state);
    cmd.args(["split", "--chunk-size", chunk, "--out"])
        .arg(out)
        .arg(input)
        .env(voxctl::testhook::CHECKPOINT_ENV, step)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    if force {
        cmd.arg("--force");
    }
    if stop {
        cmd.env(voxctl::testhook::CHECKPOINT_ACTION_ENV, "stop");
    }
    cmd.spawn().unwrap()
}

/// Waits (without a deadline of its own: a hang is the test runner's timeout) until `child`
/// is stopped at its checkpoint; fails if it exits instead (the step was never reached).
#[cfg(unix)]
fn wait_stopped(child: &std::process::Child) {
    use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    match waitpid(pid, Some(WaitPidFlag::WUNTRACED)).unwrap() {
        WaitStatus::Stopped(_, nix::sys::signal::Signal::SIGSTOP) => {}
        other => panic!("split {pid} never stopped at its checkpoint: {other:?}"),
    }
}

/// Runs a split that SIGKILLs itself at `step`, and asserts that it died there.
#[cfg(unix)]
fn split_killed_at(state: &Path, input: &Path, out: &Path, chunk: &str, force: bool, step: &str) {
    use std::os::unix::process::ExitStatusExt;
    let status = split_at_checkpoint(state, input, out, chunk, force, step, false)
        .wait()
        .unwrap();
    assert_eq!(
        status.signal(),
        Some(9),
        "the split was to die by SIGKILL at {step}: {status:?}"
    );
}

/// The temporary files in `dir`, sorted.
#[cfg(unix)]
fn temps(dir: &Path) -> Vec<String> {
    listing(dir)
        .into_iter()
        .filter(|n| n.ends_with(".voxctl-tmp"))
        .collect()
}

/// The release outputs of asset `k.exe` in five parts, in the order split publishes them.
#[cfg(unix)]
const KILL_OUTPUTS: [&str; 9] = [
    "k.part00.exe",
    "k.part01.exe",
    "k.part02.exe",
    "k.part03.exe",
    "k.part04.exe",
    "k.chunks",
    "k.sha256",
    "k.manifest",
    "k.manifest.json",
];

/// Kills a split (a fresh one, and a `--force` one over an older release of other data) at
/// every checkpoint from "all parts written" through each publish, and checks docs/contract.md's
/// "Publishing order": no manifest ever names a missing or partial part. Each kill lands exactly at
/// its step (the hook SIGKILLs the process there), so the runs that died between the first publish
/// and the last are counted and asserted, not hoped for.
#[cfg(unix)]
#[test]
fn a_split_killed_at_each_publishing_step_never_leaves_a_manifest_naming_a_bad_part() {
    let data = bytes(4_500_000, 5);
    let (tmp, input) = setup("k.exe", &data);
    let old_input = tmp.path().join("old").join("k.exe");
    std::fs::create_dir(tmp.path().join("old")).unwrap();
    std::fs::write(&old_input, bytes(6_500_000, 6)).unwrap();
    let mut steps = vec!["split:temp-parts-written".to_string()];
    steps.extend(KILL_OUTPUTS.map(|n| format!("split:published:{n}")));
    for force in [false, true] {
        let mut in_window = 0;
        let mut force_steps = steps.clone();
        if force {
            force_steps.insert(0, "split:old-manifests-removed".into());
        }
        for (i, step) in force_steps.iter().enumerate() {
            let out = tmp.path().join(format!("out-{force}-{i}"));
            if force {
                // An older release of other data in seven parts, replaced with --force.
                voxctl(tmp.path())
                    .args(["split", "--chunk-size", "1MB", "--out"])
                    .arg(&out)
                    .arg(&old_input)
                    .assert()
                    .success();
            }
            split_killed_at(tmp.path(), &input, &out, "1MB", force, step);
            let context = format!("killed at {step} (force {force})");
            // The publishing order's promise first: every manifest present names complete parts.
            let manifests = std::panic::catch_unwind(|| assert_manifests_consistent(&out, "k"))
                .unwrap_or_else(|_| panic!("{context}: a manifest names a bad part"));
            let published: Vec<&str> = KILL_OUTPUTS
                .into_iter()
                .filter(|n| {
                    std::fs::read(out.join(n)).is_ok_and(|b| {
                        // An index present is this build's, never the old release's.
                        if n.ends_with(".chunks") {
                            let ours = voxctl::chunks::Index::parse(&b)
                                .is_ok_and(|i| i.sha256 == Sha256::of(&data));
                            assert!(ours, "{context}: an index of another build is present");
                            return true;
                        }
                        // With --force, an old part still in place is not published yet.
                        !n.contains(".part") || {
                            let k = n[6..8].parse::<usize>().unwrap();
                            b == data[k * 1_000_000..((k + 1) * 1_000_000).min(data.len())]
                        }
                    })
                })
                .collect();
            // Outputs are published in order, each complete; the kill left exactly those
            // before it (none before the first publish).
            let reached = step.strip_prefix("split:published:").map_or(0, |n| {
                1 + KILL_OUTPUTS.iter().position(|o| *o == n).unwrap()
            });
            assert_eq!(published, KILL_OUTPUTS[..reached], "{context}");
            assert_eq!(
                manifests,
                usize::from(reached >= 8) + usize::from(reached >= 9),
                "{context}: manifests present"
            );
            if (1..KILL_OUTPUTS.len()).contains(&published.len()) {
                in_window += 1;
            }
            // A rerun with --force completes the release and leaves no temporary file (the
            // killed run's are removed).
            voxctl(tmp.path())
                .args(["split", "--force", "--chunk-size", "1MB", "--out"])
                .arg(&out)
                .arg(&input)
                .assert()
                .success();
            assert_eq!(assert_manifests_consistent(&out, "k"), 2, "{context}");
            let mut want = KILL_OUTPUTS.map(String::from).to_vec();
            want.sort();
            assert_eq!(listing(&out), want, "{context}");
        }
        // Every publish but the last is a step inside the window: 8 runs died there.
        assert_eq!(in_window, KILL_OUTPUTS.len() - 1, "force {force}");
    }
}

/// A SIGKILLed split's temporary files are removed by the next split of the same asset into
/// the same directory; those of a live split (frozen at a checkpoint) and of other assets
/// are kept.
#[cfg(unix)]
#[test]
fn a_later_split_removes_a_killed_splits_temporary_files_but_not_a_live_ones() {
    use nix::sys::signal::{kill, Signal};
    use std::os::unix::process::ExitStatusExt;
    let (tmp, input) = setup("k.exe", &bytes(4_500_000, 7));
    let out = tmp.path().join("out");
    let step = "split:temp-parts-written";

    // A split frozen with its five parts written under temporary names, then SIGKILLed.
    let mut dead = split_at_checkpoint(tmp.path(), &input, &out, "1MB", false, step, true);
    wait_stopped(&dead);
    kill(
        nix::unistd::Pid::from_raw(dead.id() as i32),
        Signal::SIGKILL,
    )
    .unwrap();
    assert_eq!(dead.wait().unwrap().signal(), Some(9));
    let left = temps(&out);
    assert_eq!(
        left.len(),
        6,
        "the killed split left its parts and index: {left:?}"
    );
    assert!(left[0].starts_with(".k.chunks."), "{left:?}");
    assert!(
        left.iter().all(|n| n.contains(&format!(".{}-", dead.id()))),
        "{left:?}"
    );
    // The same leftover for another asset is not this asset's to remove.
    let foreign = left[1].replacen(".k.part00.exe.", ".other.part00.exe.", 1);
    assert_ne!(foreign, left[1]);
    std::fs::write(out.join(&foreign), b"not ours").unwrap();

    // A live split of the same asset, frozen at the same step.
    let mut live = split_at_checkpoint(tmp.path(), &input, &out, "1MB", false, step, true);
    wait_stopped(&live);
    let live_temps: Vec<String> = temps(&out)
        .into_iter()
        .filter(|n| n.contains(&format!(".{}-", live.id())))
        .collect();
    assert_eq!(live_temps.len(), 6, "{:?}", listing(&out));

    voxctl(tmp.path())
        .args(["split", "--chunk-size", "1MB", "--out"])
        .arg(&out)
        .arg(&input)
        .assert()
        .success();
    let mut want: Vec<String> = live_temps
        .iter()
        .cloned()
        .chain([foreign.clone()])
        .collect();
    want.sort();
    assert_eq!(
        temps(&out),
        want,
        "the dead split's are gone, the live one's are kept"
    );
    let live_bytes: u64 = live_temps
        .iter()
        .filter(|n| n.contains(".part"))
        .map(|n| std::fs::metadata(out.join(n)).unwrap().len())
        .sum();
    assert_eq!(live_bytes, 4_500_000, "the live split's parts are intact");
    assert_eq!(assert_manifests_consistent(&out, "k"), 2);

    // Once the frozen split is killed too, its files go with the next split.
    kill(
        nix::unistd::Pid::from_raw(live.id() as i32),
        Signal::SIGKILL,
    )
    .unwrap();
    assert_eq!(live.wait().unwrap().signal(), Some(9));
    voxctl(tmp.path())
        .args(["split", "--force", "--chunk-size", "1MB", "--out"])
        .arg(&out)
        .arg(&input)
        .assert()
        .success();
    assert_eq!(temps(&out), [foreign]);
}

#[cfg(unix)]
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
/// `input`, and returns the part names in order.
fn gnu_split_b(dir: &Path, input: &Path, spec: &str) -> Vec<String> {
    std::fs::create_dir_all(dir).unwrap();
    let name = input.file_name().unwrap().to_str().unwrap().to_string();
    std::fs::hard_link(input, dir.join(&name)).unwrap();
    // GNU split is needed (coreutils; .ci/run installs it).
    let q = crate::support::host::sh_quote;
    crate::support::host::sh_in(
        dir,
        &format!(
            "split -b {} -d -a 2 {} {}",
            q(spec),
            q(&name),
            q(&format!("{name}.part"))
        ),
        &[],
    );
    std::fs::remove_file(dir.join(&name)).unwrap();
    listing(dir)
}

/// `voxctl split --part-size N` and `split -b N` cut byte-identical parts for every unit of
/// GNU's grammar that gives parts under 2 GiB (`100M` is 100 x 1024^2, not 10^8).
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
            let (sha256, size) = crate::support::sha256_file(&gnu.join(&p.name));
            assert_eq!((p.size, p.sha256), (size, sha256), "{spec:?}: {}", p.name);
            let ours = crate::support::sha256_file(&out.join(&p.name));
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

/// `--force` removes the old manifests before any part is replaced; when one cannot be removed
/// (here it is immutable, `chattr +i`, which binds root too: the suite runs as root on ext4)
/// the split stops there, naming it, and the old parts are left as they were.
#[cfg(unix)]
#[test]
fn force_stops_before_any_part_when_an_old_manifest_cannot_be_removed() {
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
    let parts = |out: &Path| -> Vec<(String, Vec<u8>)> {
        listing(out)
            .iter()
            .filter(|n| n.contains(".part"))
            .map(|n| (n.clone(), std::fs::read(out.join(n)).unwrap()))
            .collect()
    };
    let before = parts(&out);
    let manifest = out.join("v.manifest");
    let chattr = |flag: &str| {
        let st = std::process::Command::new("chattr")
            .arg(flag)
            .arg(&manifest)
            .status()
            .expect("chattr (e2fsprogs) is needed");
        assert!(st.success(), "chattr {flag} {}", manifest.display());
    };
    /// Lifts the flag again even when an assertion fails, so the temporary dir can go.
    struct Mutable<'a>(&'a dyn Fn(&str));
    impl Drop for Mutable<'_> {
        fn drop(&mut self) {
            (self.0)("-i");
        }
    }
    chattr("+i");
    let _undo = Mutable(&chattr);
    split("2000", true)
        .code(1)
        .stderr(predicate::str::contains("cannot remove"))
        .stderr(predicate::str::contains("v.manifest"));
    assert_eq!(parts(&out), before, "no part replaced");
}

/// The library entry point as an app would call it: its events, its cancel handle.
#[test]
fn a_library_split_cancelled_at_its_first_read_stops_and_leaves_no_output() {
    use voxctl::split::{Event, Settings};
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("voicebox-server-cpu");
    // Many blocks, so the cancel lands before the last one.
    std::fs::write(&input, vec![7u8; 8 << 20]).unwrap();
    let out = dir.path().join("out");
    let mut settings = Settings::new(&input, &out, "voicebox-server-cpu");
    settings.chunk_size = 1 << 20;
    let started = std::sync::Mutex::new(None);
    let err = voxctl::split::split(&settings, &|e| match e {
        Event::Started { size, parts } => *started.lock().unwrap() = Some((*size, *parts)),
        Event::Read { .. } => settings.cancel.cancel(),
        _ => {}
    })
    .unwrap_err();
    assert!(
        matches!(voxctl::Error::find(&err), Some(voxctl::Error::Interrupted)),
        "{err:#}"
    );
    assert_eq!(*started.lock().unwrap(), Some((8 << 20, 8)));
    let left: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        left.is_empty(),
        "nothing published, no temporary left: {left:?}"
    );
}
