//! Differential fetch on a synthetic pair over 2.1 GB: a random asset and a copy
//! with insertions, deletions and overwrites at spread-out places (so offsets shift), both
//! released by `voxctl split` into two parts with their chunk index and served by a real
//! nginx. The update installs the new build byte for byte; a SIGKILL mid-update resumes
//! with the chunks it had verified; a damaged installed file and a tampered index still end
//! in a verified install. Needs nginx and about 13 GB of free space in the temp dir.

use crate::support;

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use support::fetch::{Fixture, ASSET};
use support::nginx::Nginx;
use voxctl::chunks::{self, Index};
use voxctl::manifest::{json_manifest_name, Manifest};

/// The old build's size: over 2.1 GB and over GitHub's 2 GiB asset limit.
const OLD_SIZE: u64 = 2_150_000_000;

/// What changes between the builds: at 12 places spread over the file, in turn, 1 MiB of
/// new bytes inserted, 512 KiB deleted, 2 MiB overwritten (about 14 MiB, 0.7%).
fn edits() -> Vec<(u64, Edit)> {
    (0..12u64)
        .map(|i| {
            let at = OLD_SIZE / 13 * (i + 1) + i * 7_919;
            let edit = match i % 3 {
                0 => Edit::Insert(1 << 20),
                1 => Edit::Delete(512 << 10),
                _ => Edit::Overwrite(2 << 20),
            };
            (at, edit)
        })
        .collect()
}

#[derive(Clone, Copy)]
enum Edit {
    Insert(u64),
    Delete(u64),
    Overwrite(u64),
}

/// Copies `len` bytes of `from` (at its current position) to `to`.
fn copy(from: &mut std::fs::File, to: &mut impl Write, len: u64) {
    let n = std::io::copy(&mut from.take(len), to).unwrap();
    assert_eq!(n, len);
}

/// A stream of pseudo-random bytes: AES-128-CTR over zeros (`openssl enc`, several GB/s),
/// far faster than `/dev/urandom` or a generator in a debug build.
fn random_stream(key: &str) -> (std::process::Child, std::process::ChildStdout) {
    let mut child = std::process::Command::new("openssl")
        .args(["enc", "-aes-128-ctr", "-nosalt", "-pbkdf2", "-pass"])
        .arg(format!("pass:{key}"))
        .arg("-in")
        .arg("/dev/zero")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("openssl is needed for this test (.ci/run installs it)");
    let out = child.stdout.take().unwrap();
    (child, out)
}

/// Writes the old build (random bytes) and the new one; returns their paths.
fn make_pair(dir: &Path) -> (PathBuf, PathBuf) {
    let (old, new) = (dir.join("old"), dir.join("new"));
    let (mut gen, mut random) = random_stream("old build");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&old).unwrap());
    let n = std::io::copy(&mut (&mut random).take(OLD_SIZE), &mut out).unwrap();
    assert_eq!(n, OLD_SIZE);
    drop(out.into_inner().unwrap());
    let mut src = std::fs::File::open(&old).unwrap();
    let mut out = std::io::BufWriter::new(std::fs::File::create(&new).unwrap());
    let mut pos = 0;
    for (at, edit) in edits() {
        copy(&mut src, &mut out, at - pos);
        pos = at;
        let mut fresh = |n: u64| {
            let got = std::io::copy(&mut (&mut random).take(n), &mut out).unwrap();
            assert_eq!(got, n);
        };
        match edit {
            Edit::Insert(n) => fresh(n),
            Edit::Delete(n) => pos += n,
            Edit::Overwrite(n) => {
                fresh(n);
                pos += n;
            }
        }
        src.seek(SeekFrom::Start(pos)).unwrap();
    }
    copy(&mut src, &mut out, OLD_SIZE - pos);
    drop(out.into_inner().unwrap());
    drop(random);
    let _ = gen.kill();
    let _ = gen.wait();
    (old, new)
}

fn run(cmd: &mut assert_cmd::Command) -> Vec<u8> {
    let out = cmd.timeout(Duration::from_secs(600)).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `voxctl split FILE` into `out` in two parts, as a release does.
fn split(fx: &Fixture, file: &Path, out: &Path) {
    run(support::voxctl(&fx.state())
        .arg("split")
        .arg(file)
        .args(["--asset", ASSET, "--part-size", "1100MB", "-q", "--out"])
        .arg(out));
}

fn events(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn event<'a>(events: &'a [Value], name: &str) -> Option<&'a Value> {
    events.iter().find(|e| e["event"] == name)
}

/// Whether two files have the same bytes (`cmp`).
fn same(a: &Path, b: &Path) -> bool {
    std::process::Command::new("cmp")
        .arg("-s")
        .arg(a)
        .arg(b)
        .status()
        .unwrap()
        .success()
}

#[test]
fn a_2_1_gb_update_reuses_the_installed_build_resumes_after_sigkill_and_survives_lies() {
    let started = std::time::Instant::now();
    let step = |what: &str| eprintln!("[{:>6.1} s] {what}", started.elapsed().as_secs_f64());
    let fx = Fixture::new();
    let work = fx.tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let (old, new) = make_pair(&work);
    step("pair written");
    let (v1, v2) = (fx.rel().join("v1"), fx.rel().join("v2"));
    split(&fx, &old, &v1);
    split(&fx, &new, &v2);
    step("both builds split");
    std::fs::remove_file(&old).unwrap();
    let m: Manifest =
        serde_json::from_slice(&std::fs::read(v2.join(json_manifest_name(ASSET))).unwrap())
            .unwrap();
    assert_eq!(m.parts.len(), 2);
    let index_ref = m.index.clone().expect("split names its chunk index");

    // The old build installed (from the release directory).
    run(fx.fetch(v1.to_str().unwrap()).arg("-q"));

    // The update over a slow link (1 MB/s per connection), killed once some downloaded
    // chunks are recorded.
    step("old build installed");
    // The chunks the installed build holds: exactly those of v2's index whose hash is in
    // v1's (the installed file is v1's asset, cut with the same parameters).
    let index_of = |dir: &Path| Index::parse(&std::fs::read(dir.join(&index_ref.name)).unwrap());
    let (i1, i2) = (index_of(&v1).unwrap(), index_of(&v2).unwrap());
    let held: std::collections::HashSet<_> = i1.chunks.iter().map(|c| c.hash).collect();
    let seeded = i2.chunks.iter().filter(|c| held.contains(&c.hash)).count() as u64;
    let seeded_bytes: u64 = i2
        .chunks
        .iter()
        .filter(|c| held.contains(&c.hash))
        .map(|c| u64::from(c.len))
        .sum();
    assert!(seeded > i2.chunks.len() as u64 * 9 / 10);

    let slow = Nginx::start(&fx.rel(), "limit_rate 1m;");
    let log = fx.tmp.path().join("killed-fetch.log");
    let mut child = fx
        .fetch_std(&format!("{}/v2", slow.url()))
        .args(["--json", "--jobs", "2"])
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    support::fetch::wait_until(300, "downloaded chunks recorded", || {
        if let Some(st) = child.try_wait().unwrap() {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            let out = std::fs::read_to_string(&log).unwrap();
            panic!("the fetch ended ({st}) before it could be killed:\n{out}\n{err}");
        }
        support::fetch::recorded_chunks(&fx.partial()) > seeded + 4
    });
    step("downloaded chunks recorded");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    child.wait().unwrap();
    step("killed");
    drop(slow);

    // The rerun takes the verified chunks from the partial data and the rest from the
    // installed build, downloads what is left, and installs the new build.
    let fast = Nginx::start(&fx.rel(), "");
    let ev = events(&run(fx
        .fetch(&format!("{}/v2", fast.url()))
        .args(["--json", "--jobs", "2"])));
    step("resumed update installed");
    let plan = event(&ev, "delta_planned").expect("a differential fetch");
    let seeds = plan["seeds"].as_array().unwrap();
    let reused = |kind: &str| {
        seeds
            .iter()
            .find(|s| s["kind"] == kind)
            .map_or(0, |s| s["reused"].as_u64().unwrap())
    };
    // The stopped fetch had the installed build's chunks and some downloaded ones: all are
    // taken from the partial data (hashed again), so the installed build adds nothing.
    assert!(
        reused("partial") > seeded_bytes,
        "downloaded chunks kept: {plan}"
    );
    assert_eq!(
        reused("partial") + reused("installed"),
        plan["reused"].as_u64().unwrap()
    );
    let size = plan["size"].as_u64().unwrap();
    let to_download = plan["to_download"].as_u64().unwrap();
    assert!(to_download < size / 50, "{plan}");
    assert!(
        same(&fx.installed(), &new),
        "the installed file is the new build"
    );
    // nginx saw only ranged requests for v2's parts in this run, adding up to the plan.
    let log = fast.access_log();
    let part_gets: Vec<&String> = log
        .iter()
        .filter(|l| l.starts_with("GET /v2/") && l.contains(".part"))
        .collect();
    assert!(!part_gets.is_empty());
    let mut bytes = 0u64;
    for l in &part_gets {
        let f: Vec<&str> = l.split(' ').collect();
        assert_eq!(f[2], "206", "{l}");
        assert!(
            f[3].starts_with("\"bytes=") && !f[3].ends_with("-\""),
            "{l}"
        );
        bytes += f[4].parse::<u64>().unwrap();
    }
    assert_eq!(bytes, to_download);
    assert!(
        log.iter()
            .any(|l| l.starts_with(&format!("GET /v2/{}", index_ref.name))),
        "{log:?}"
    );

    // A damaged install (one byte flipped in the middle): that chunk is downloaded, the
    // rest reused, and the result verifies.
    {
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(fx.installed())
            .unwrap();
        let mut b = [0u8; 1];
        f.seek(SeekFrom::Start(size / 2)).unwrap();
        f.read_exact(&mut b).unwrap();
        f.seek(SeekFrom::Start(size / 2)).unwrap();
        f.write_all(&[b[0] ^ 1]).unwrap();
    }
    let ev = events(&run(fx
        .fetch(&format!("{}/v2", fast.url()))
        .args(["--json", "--force"])));
    let plan = event(&ev, "delta_planned").unwrap();
    assert!(plan["to_download"].as_u64().unwrap() <= 2 * u64::from(chunks::Params::DEFAULT.max));
    assert!(event(&ev, "delta_fallback").is_none());
    assert!(same(&fx.installed(), &new));

    // A tampered index (one chunk's hash changed, the manifest's reference changed with it,
    // as an attacker controlling an unsigned release would): that chunk cannot be matched
    // or downloaded as described, so the fetch falls back to the whole asset and installs
    // only what verifies.
    step("damaged install healed");
    let v3 = fx.rel().join("v3");
    std::fs::create_dir_all(&v3).unwrap();
    for p in &m.parts {
        std::fs::hard_link(v2.join(&p.name), v3.join(&p.name)).unwrap();
    }
    let mut index = Index::parse(&std::fs::read(v2.join(&index_ref.name)).unwrap()).unwrap();
    let mid = index.chunks.len() / 2;
    index.chunks[mid].hash[0] ^= 0xff;
    std::fs::write(v3.join(&index_ref.name), index.to_bytes()).unwrap();
    let mut m3 = m.clone();
    m3.index = Some(index.reference(ASSET));
    std::fs::write(
        v3.join(json_manifest_name(ASSET)),
        serde_json::to_vec_pretty(&m3).unwrap(),
    )
    .unwrap();
    let ev = events(&run(fx
        .fetch(&format!("{}/v3", fast.url()))
        .args(["--json", "--force"])));
    assert!(event(&ev, "delta_fallback").is_some(), "{ev:?}");
    assert!(same(&fx.installed(), &new));
}
