//! Differential fetch end to end against the test HTTP server: an update takes
//! the chunks it can from the installed asset (or `--seed` files, or a stopped fetch's data)
//! and downloads the rest as single-range requests; a lying index, a changed seed or a
//! server ignoring ranges ends in a full download that verifies, never in a bad install.

use crate::support;

use std::path::Path;

use serde_json::Value;
use support::fetch::{self as f, Fixture, ASSET};
use support::http::{Cut, Server};
use voxctl::checksum::Sha256;
use voxctl::chunks::{self, Index};
use voxctl::installs::InstallRecord;
use voxctl::manifest::{part_name, Manifest};

const MB: usize = 1 << 20;

/// An old build and a new one made from it by insertions, deletions and overwrites at a
/// few places (so offsets shift): about 2% of the new one is new bytes.
fn pair() -> (Vec<u8>, Vec<u8>) {
    let old = f::data(12 * MB + 4321, 7);
    let fresh = f::data(MB, 99);
    let mut new = Vec::with_capacity(old.len() + MB);
    new.extend_from_slice(&old[..MB]);
    new.extend_from_slice(&fresh[..50_000]); // inserted
    new.extend_from_slice(&old[MB..4 * MB]);
    // deleted: old[4 MB .. 4 MB + 30_000]
    new.extend_from_slice(&old[4 * MB + 30_000..7 * MB]);
    new.extend_from_slice(&fresh[100_000..160_000]); // overwritten
    new.extend_from_slice(&old[7 * MB + 60_000..10 * MB]);
    new.extend_from_slice(&fresh[200_000..240_000]); // inserted
    new.extend_from_slice(&old[10 * MB..]);
    (old, new)
}

/// A JSON-manifest release of `bytes` in parts of 5 MiB, with its chunk index named by the
/// manifest (as `voxctl split` publishes it). Returns the manifest and the index.
fn release(dir: &Path, bytes: &[u8]) -> (Manifest, Index) {
    f::json_release_with_index(dir, ASSET, bytes, 5 * MB)
}

fn write_index(dir: &Path, index: &Index) {
    std::fs::write(dir.join(chunks::index_name(ASSET)), index.to_bytes()).unwrap();
}

/// Runs `voxctl fetch --json ARGS` from `source`, requires success, and returns its stdout.
fn fetch_json(fx: &Fixture, source: &str, args: &[&str]) -> Vec<u8> {
    fx.fetch(source)
        .arg("--json")
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone()
}

/// The JSON lines of a `--json` fetch.
fn events(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn event<'a>(events: &'a [Value], name: &str) -> Option<&'a Value> {
    events.iter().find(|e| e["event"] == name)
}

fn record(fx: &Fixture) -> InstallRecord {
    serde_json::from_slice(
        &std::fs::read(fx.data().join(format!("backends/{ASSET}.install.json"))).unwrap(),
    )
    .unwrap()
}

/// `bytes=a-b` of a logged request, as `(a, b + 1)`.
fn range_of(r: &support::http::Logged) -> Option<(u64, u64)> {
    let (a, b) = r
        .range
        .as_deref()?
        .strip_prefix("bytes=")?
        .split_once('-')?;
    Some((a.parse().ok()?, b.parse::<u64>().ok()? + 1))
}

/// The GETs of v2's parts in the server's log.
fn part_gets(srv: &Server, from: usize) -> Vec<support::http::Logged> {
    srv.log()[from..]
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/v2/") && r.path.contains(".part"))
        .cloned()
        .collect()
}

/// A fixture with `old` installed from release v1 and `new` published as release v2, both
/// with chunk indexes, served by one test server.
fn updated_fixture() -> (Fixture, Server, Vec<u8>, Vec<u8>, Index) {
    let fx = Fixture::new();
    let (old, new) = pair();
    release(&fx.rel().join("v1"), &old);
    let (_, index) = release(&fx.rel().join("v2"), &new);
    let srv = Server::start(&fx.rel());
    fx.fetch(&format!("{}/v1", srv.url())).assert().success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), old);
    (fx, srv, old, new, index)
}

#[test]
fn an_update_downloads_only_the_changed_chunks_as_single_range_requests() {
    let (fx, srv, _old, new, index) = updated_fixture();
    // Slow enough that the ranges take a few seconds, so `progress` lines (at most two a
    // second) are written while they download.
    srv.set(|s| s.trickle = Some((16 << 10, std::time::Duration::from_millis(40))));
    let before = srv.log().len();
    let out = fetch_json(&fx, &format!("{}/v2", srv.url()), &["--jobs", "1"]);
    assert_eq!(
        std::fs::read(fx.installed()).unwrap(),
        new,
        "installed = new build"
    );
    let ev = events(&out);
    let plan = event(&ev, "delta_planned").expect("a delta_planned event");
    let size = new.len() as u64;
    let to_download = plan["to_download"].as_u64().unwrap();
    let reused = plan["reused"].as_u64().unwrap();
    assert_eq!(plan["size"], size);
    assert_eq!(plan["chunks"], index.chunks.len() as u64);
    assert!(to_download + reused >= size, "{plan}");
    assert!(
        to_download < size / 10,
        "most of the asset is reused: {plan}"
    );
    assert_eq!(plan["seeds"][0]["kind"], "installed");
    assert_eq!(plan["seeds"][0]["version"], "0.3.0");
    assert_eq!(plan["seeds"][0]["reused"], reused);
    // Only ranged requests for v2's parts, single ranges, adding up to the plan.
    let gets = part_gets(&srv, before);
    assert!(!gets.is_empty());
    let mut fetched = 0;
    for g in &gets {
        let (a, b) = range_of(g).unwrap_or_else(|| panic!("not a single range: {g:?}"));
        assert_eq!(g.status, 206, "{g:?}");
        fetched += b - a;
    }
    assert_eq!(fetched, to_download);
    assert_eq!(gets.len() as u64, plan["requests"].as_u64().unwrap());
    // `done` of `total` means one thing in every progress line: the asset's bytes in place
    // of its size. From the plan on, the lines add `downloaded` of `to_download`.
    let progress: Vec<&Value> = ev.iter().filter(|e| e["event"] == "progress").collect();
    let mut during = 0;
    for p in &progress {
        assert_eq!(p["total"], size, "{p}");
        assert!(p["done"].as_u64().unwrap() <= size, "{p}");
        if let Some(downloaded) = p.get("downloaded") {
            during += 1;
            let downloaded = downloaded.as_u64().unwrap();
            assert_eq!(p["to_download"], to_download, "{p}");
            assert!(downloaded <= to_download, "{p}");
            assert_eq!(p["done"], size - to_download + downloaded, "{p}");
        }
    }
    assert!(
        during > 0,
        "no progress line while the ranges downloaded: {progress:?}"
    );
    // The event and the install record say what the update cost (the index included).
    let inst = event(&ev, "installed").unwrap();
    let index_bytes = plan["index_bytes"].as_u64().unwrap();
    assert_eq!(inst["downloaded"], to_download + index_bytes);
    assert_eq!(inst["reused"], reused);
    assert_eq!(inst["requests"], gets.len() as u64 + 1);
    let rec = record(&fx);
    let t = rec.transfer.expect("transfer in the install record");
    assert_eq!(
        (t.downloaded, t.reused),
        (to_download + index_bytes, reused)
    );
    assert!(!fx.partial().exists());
}

#[test]
fn dry_run_prints_the_plan_and_downloads_nothing_and_no_delta_downloads_everything() {
    let (fx, srv, old, new, _) = updated_fixture();
    let before = srv.log().len();
    let out = fetch_json(&fx, &format!("{}/v2", srv.url()), &["--dry-run"]);
    let ev = events(&out);
    assert_eq!(ev.last().unwrap()["event"], "delta_planned", "{ev:?}");
    let dry = ev.last().unwrap().clone();
    assert!(
        part_gets(&srv, before).is_empty(),
        "a dry run downloads no part"
    );
    assert_eq!(std::fs::read(fx.installed()).unwrap(), old);
    assert!(!fx.partial().exists(), "a dry run writes nothing");
    // In words, without --json.
    fx.fetch(&format!("{}/v2", srv.url()))
        .arg("--dry-run")
        .assert()
        .success()
        .stderr(predicates::str::contains("reused from the installed 0.3.0"));
    // The real update does what the dry run said.
    let out = fetch_json(&fx, &format!("{}/v2", srv.url()), &["--force"]);
    let real = events(&out);
    let plan = event(&real, "delta_planned").unwrap();
    for k in ["to_download", "reused", "requests", "chunks", "size"] {
        assert_eq!(plan[k], dry[k], "{k}");
    }
    // --no-delta: whole parts, no range.
    let before = srv.log().len();
    let out = fetch_json(
        &fx,
        &format!("{}/v2", srv.url()),
        &["--force", "--no-delta"],
    );
    assert!(event(&events(&out), "delta_planned").is_none());
    let gets = part_gets(&srv, before);
    assert_eq!(gets.len(), 3);
    assert!(gets.iter().all(|g| g.range.is_none()), "{gets:?}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), new);
    let t = record(&fx).transfer.unwrap();
    assert_eq!(
        (t.downloaded, t.reused, t.requests),
        (new.len() as u64, 0, 3)
    );
}

#[test]
fn a_seed_file_serves_a_fresh_install_and_a_corrupt_installed_file_still_ends_verified() {
    let fx = Fixture::new();
    let (old, new) = pair();
    let (_, _) = release(&fx.rel().join("v2"), &new);
    let seed = fx.tmp.path().join("old-build");
    std::fs::write(&seed, &old).unwrap();
    let srv = Server::start(&fx.rel());
    let out = fetch_json(
        &fx,
        &format!("{}/v2", srv.url()),
        &["--seed", seed.to_str().unwrap()],
    );
    let ev = events(&out);
    let plan = event(&ev, "delta_planned").unwrap();
    assert_eq!(plan["seeds"][0]["kind"], "seed");
    assert!(plan["reused"].as_u64().unwrap() > new.len() as u64 * 9 / 10);
    assert_eq!(std::fs::read(fx.installed()).unwrap(), new);

    // The installed file damaged in place (a byte flipped every 1 MiB): the damaged chunks
    // are not taken, the rest is, and the install verifies.
    let mut damaged = new.clone();
    for i in (0..damaged.len()).step_by(MB) {
        damaged[i] ^= 0x40;
    }
    std::fs::write(fx.installed(), &damaged).unwrap();
    let out = fetch_json(&fx, &format!("{}/v2", srv.url()), &["--force"]);
    let ev = events(&out);
    let plan = event(&ev, "delta_planned").unwrap();
    assert!(plan["to_download"].as_u64().unwrap() > 0);
    assert!(event(&ev, "delta_fallback").is_none(), "{ev:?}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), new);
}

#[test]
fn a_lying_index_ends_in_a_full_download_that_verifies() {
    let (fx, srv, _old, new, index) = updated_fixture();
    // Two chunks' hashes swapped in a hint index (a whole-file release, no manifest to pin
    // it): the seed's bytes land at the wrong offsets, every chunk "matches", and only the
    // whole file's SHA-256 catches it.
    let v3 = fx.rel().join("v3");
    f::whole_release(&v3, ASSET, &new);
    let mut lying = index.clone();
    let (a, b) = (1, lying.chunks.len() - 2);
    let (ha, hb) = (lying.chunks[a].hash, lying.chunks[b].hash);
    if lying.chunks[a].len == lying.chunks[b].len {
        lying.chunks[a].hash = hb;
        lying.chunks[b].hash = ha;
    } else {
        // Different lengths: point chunk a at bytes of the old build that are elsewhere.
        lying.chunks[a].hash = hb;
    }
    let lens = |i: &Index| i.chunks.iter().map(|c| c.len).collect::<Vec<u32>>();
    assert_eq!(
        lens(&lying),
        lens(&index),
        "the same layout, only hashes lie"
    );
    assert_ne!(lying, index);
    write_index(&v3, &lying);
    let out = fetch_json(&fx, &format!("{}/v3", srv.url()), &["--force"]);
    let ev = events(&out);
    let fallback = event(&ev, "delta_fallback").expect("a fallback");
    assert!(
        fallback["why"].as_str().unwrap().contains("does not match")
            || fallback["why"].as_str().unwrap().contains("SHA-256"),
        "{fallback}"
    );
    assert_eq!(std::fs::read(fx.installed()).unwrap(), new);
    // The fallback downloaded the asset whole, once.
    assert_eq!(
        srv.log()
            .iter()
            .filter(|r| r.path == format!("/v3/{ASSET}") && r.method == "GET" && r.range.is_none())
            .count(),
        1
    );

    // An index that the manifest's reference does not match is not used at all.
    let v4 = fx.rel().join("v4");
    let (mut m, _) = release(&v4, &new);
    m.index.as_mut().unwrap().sha256 = Sha256::of(b"another index");
    f::write_manifest(&v4, &m);
    let out = fetch_json(&fx, &format!("{}/v4", srv.url()), &["--force"]);
    let ev = events(&out);
    assert!(event(&ev, "delta_planned").is_none());
    let why = event(&ev, "delta_fallback").unwrap()["why"].to_string();
    assert!(why.contains("the manifest says"), "{why}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), new);
}

#[test]
fn a_server_sending_bad_bytes_fails_closed_and_keeps_the_old_install() {
    let (fx, srv, old, _new, _) = updated_fixture();
    // Part 0 of v2 corrupted on the server where the update's first range is (the bytes
    // inserted at 1 MiB): the differential fetch finds a chunk that does not match, falls
    // back to the whole asset, whose part digest fails too: exit 3.
    srv.set(|s| {
        s.flip
            .insert(format!("/v2/{}", part_name(ASSET, 0)), MB as u64 + 100);
    });
    let out = fx
        .fetch(&format!("{}/v2", srv.url()))
        .arg("--json")
        .assert()
        .code(3)
        .get_output()
        .stdout
        .clone();
    let ev = events(&out);
    // Caught chunk by chunk as the range arrived, not only by the whole file's digest.
    let why = event(&ev, "delta_fallback").expect("a fallback")["why"].to_string();
    assert!(why.contains("does not match the chunk index"), "{why}");
    assert_eq!(
        std::fs::read(fx.installed()).unwrap(),
        old,
        "old install untouched"
    );
    assert_eq!(record(&fx).version.as_deref(), Some("0.3.0"));
}

#[test]
fn a_server_ignoring_ranges_makes_the_update_a_full_download() {
    let (fx, srv, _old, new, _) = updated_fixture();
    srv.set(|s| s.honour_range = false);
    let out = fetch_json(&fx, &format!("{}/v2", srv.url()), &[]);
    let ev = events(&out);
    let why = event(&ev, "delta_fallback").unwrap()["why"].to_string();
    assert!(why.contains("instead of 206"), "{why}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), new);
}

#[test]
fn a_range_cut_off_mid_way_continues_from_the_byte_reached() {
    let (fx, srv, _old, new, _) = updated_fixture();
    let before = srv.log().len();
    srv.set(|s| {
        s.cut_after = Some((20_000, Cut::Drop));
        s.cut_times = 1;
        s.cut_only = Some(format!("/v2/{}", part_name(ASSET, 0)));
    });
    fx.fetch(&format!("{}/v2", srv.url())).assert().success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), new);
    let gets = part_gets(&srv, before);
    // Some request was retried from 20,000 bytes further on, with the same end.
    let ranges: Vec<(u64, u64)> = gets.iter().filter_map(range_of).collect();
    assert!(
        ranges
            .iter()
            .any(|&(a, b)| ranges.iter().any(|&(c, d)| c == a + 20_000 && d == b)),
        "{ranges:?}"
    );
}

#[test]
fn a_killed_update_resumes_with_the_chunks_it_had_verified() {
    let (fx, srv, _old, new, index) = updated_fixture();
    srv.set(|s| s.trickle = Some((4 * 1024, std::time::Duration::from_millis(50))));
    let mut child = fx
        .fetch_std(&format!("{}/v2", srv.url()))
        .args(["--json", "--jobs", "1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the resume record lists chunks that came from the network, beyond what
    // the seed gave (the seed's chunks are recorded in the first writeback round).
    f::wait_until(60, "seeded chunks recorded", || {
        f::recorded_chunks(&fx.partial()) > 0
    });
    let seeded = f::recorded_chunks(&fx.partial());
    f::wait_until(120, "downloaded chunks recorded", || {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the fetch ended before it could be killed"
        );
        f::recorded_chunks(&fx.partial()) > seeded + 1
    });
    // SIGKILL on Unix, TerminateProcess on Windows.
    child.kill().unwrap();
    child.wait().unwrap();
    srv.set(|s| s.trickle = None);
    // `voxctl status` counts a stopped differential fetch's chunks as bytes on disk.
    let partials =
        voxctl::fetch::partial_downloads(&voxctl::installs::BackendsDir::new(&fx.data())).unwrap();
    assert_eq!(partials.len(), 1);
    assert!(
        partials[0].bytes_on_disk > new.len() as u64 / 2
            && partials[0].bytes_on_disk < new.len() as u64,
        "{partials:?}"
    );
    // One recorded chunk damaged on disk meanwhile: the rerun hashes recorded chunks again,
    // so it downloads that one rather than trusting the record.
    let record: Value =
        serde_json::from_slice(&std::fs::read(fx.partial().join("progress.json")).unwrap())
            .unwrap();
    let first = record["chunks"]["done"][0][0].as_u64().unwrap() as usize;
    let data = fx.partial().join(format!("{ASSET}.download"));
    let mut bytes = std::fs::read(&data).unwrap();
    bytes[index.chunks[first].offset as usize] ^= 1;
    std::fs::write(&data, &bytes).unwrap();
    let out = fetch_json(&fx, &format!("{}/v2", srv.url()), &[]);
    let ev = events(&out);
    let plan = event(&ev, "delta_planned").unwrap();
    let partial = plan["seeds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "partial")
        .unwrap_or_else(|| panic!("the partial data is a seed: {plan}"));
    assert!(partial["reused"].as_u64().unwrap() > 0);
    assert!(event(&ev, "delta_fallback").is_none(), "{ev:?}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), new);
}

#[test]
fn ranges_follow_an_expiring_signed_url_as_any_request_does() {
    let (fx, srv, _old, new, _) = updated_fixture();
    let before = srv.log().len();
    // Every file answers with a redirect to a signed URL that serves one request, then 403:
    // each further range of the same part must go back to the release URL for a new one.
    srv.set(|s| s.signed_uses = Some(1));
    let out = fetch_json(&fx, &format!("{}/v2", srv.url()), &["--jobs", "1"]);
    let ev = events(&out);
    assert!(event(&ev, "delta_fallback").is_none(), "{ev:?}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), new);
    let log = &srv.log()[before..];
    let signed: Vec<_> = log
        .iter()
        .filter(|r| r.path.starts_with("/signed/") && r.path.contains(".part"))
        .collect();
    assert!(
        signed.iter().filter(|r| r.status == 206).count() >= 2,
        "{log:#?}"
    );
    assert!(signed.iter().any(|r| r.status == 403), "{log:#?}");
}

#[test]
fn seed_usage_errors_and_a_release_without_an_index() {
    let fx = Fixture::new();
    let (_old, new) = pair();
    f::whole_release(&fx.rel(), ASSET, &new); // no S.chunks
    let rel = fx.rel();
    let src = rel.to_str().unwrap();
    // A missing seed, a directory as seed, --seed with --no-delta: usage errors, exit 2,
    // naming what was wrong; nothing is fetched.
    let missing = fx.tmp.path().join("nope");
    fx.fetch(src)
        .arg("--seed")
        .arg(&missing)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("nope"));
    fx.fetch(src)
        .arg("--seed")
        .arg(fx.tmp.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not a regular file"));
    let seed = fx.tmp.path().join("seed");
    std::fs::write(&seed, b"x").unwrap();
    fx.fetch(src)
        .arg("--seed")
        .arg(&seed)
        .arg("--no-delta")
        .assert()
        .code(2);
    assert!(!fx.installed().exists());
    // No index: the dry run says the whole asset would be downloaded.
    let out = fetch_json(&fx, src, &["--dry-run"]);
    let ev = events(&out);
    let plan = ev.last().unwrap();
    assert_eq!(plan["event"], "delta_planned");
    assert_eq!(plan["index"], Value::Null);
    assert_eq!(plan["to_download"], new.len() as u64);
    assert!(!fx.installed().exists() && !fx.partial().exists());
    fx.fetch(src)
        .arg("--dry-run")
        .assert()
        .success()
        .stderr(predicates::str::contains("no chunk index"));
}

/// Whether process `pid` is stopped (state `T` in `/proc/PID/stat`).
#[cfg(unix)]
fn is_stopped(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .unwrap_or_default()
        .rsplit_once(") ")
        .is_some_and(|(_, rest)| rest.starts_with('T'))
}

#[cfg(unix)]
#[test]
fn ranges_start_while_the_seed_scan_still_runs() {
    // A 48 MiB asset whose only edit is 64 KiB overwritten at 1 MiB: the scan of the
    // installed build passes the edit (by the 8 MiB margin) long before it reaches the end.
    let fx = Fixture::new();
    let old = f::data(48 * MB, 21);
    let mut new = old.clone();
    new[MB..MB + (64 << 10)].copy_from_slice(&f::data(64 << 10, 22));
    release(&fx.rel().join("v1"), &old);
    release(&fx.rel().join("v2"), &new);
    let srv = Server::start(&fx.rel());
    fx.fetch(&format!("{}/v1", srv.url())).assert().success();
    let before = srv.log().len();
    // The fetch stops itself (SIGSTOP) where the scan has read every seed, before the
    // ranges left to the end of the scan are handed over.
    let mut cmd = fx.fetch_std(&format!("{}/v2", srv.url()));
    cmd.arg("--json")
        .env(voxctl::testhook::CHECKPOINT_ENV, "fetch:delta:scanned")
        .env(voxctl::testhook::CHECKPOINT_ACTION_ENV, "stop")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = support::lease::Spawned::spawn(cmd);
    let pid = child.0.id();
    f::wait_until(60, "the fetch stopped at the end of its scan", || {
        assert!(
            child.0.try_wait().unwrap().is_none(),
            "the fetch ended without reaching the end of its scan"
        );
        is_stopped(pid)
    });
    let early = part_gets(&srv, before);
    assert!(
        early
            .iter()
            .filter_map(range_of)
            .any(|(a, b)| a <= MB as u64 && b > MB as u64),
        "the edited chunks were requested before the scan ended: {early:?}"
    );
    support::lease::signal(pid as i32, nix::sys::signal::Signal::SIGCONT);
    let status = child
        .wait_timeout(std::time::Duration::from_secs(120))
        .expect("the fetch ends once continued");
    assert!(status.success(), "{status:?}");
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut child.0.stdout.take().unwrap(), &mut out).unwrap();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), new);
    // Every range is in the plan, and the plan is what the server was asked.
    let ev = events(&out);
    let plan = event(&ev, "delta_planned").expect("a delta_planned event");
    let asked: u64 = part_gets(&srv, before)
        .iter()
        .filter_map(range_of)
        .map(|(a, b)| b - a)
        .sum();
    assert_eq!(plan["to_download"], asked, "{plan}");
    assert!(asked < 4 * MB as u64, "{plan}");
}
