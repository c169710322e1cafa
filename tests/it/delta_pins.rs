//! Differential fetch at its edges: an update whose last chunk changed, an update from a
//! local release directory, a clean update that reports no retry, a permanent HTTP error on
//! a range that is not retried, a same-size index of another build refused before any
//! range request; and how the index and the seeds are read: a release without an index is
//! no fallback, a missing or refused index is one, a Ctrl-C during the index's retry wait is
//! not, a seed that cannot be read is skipped, and an update with nothing in common is one
//! whole request per part; a truncated part of a local release is named, and a mirror
//! skipped in one range is not asked for the next; Range answers short twice fall back after
//! one retry, and a mirror's 404 for a range is not retried.

use std::path::Path;

use serde_json::Value;
use voxctl::cancel::Cancel;
use voxctl::chunks::{self, Index, Params};
use voxctl::manifest::part_name;

use crate::support::fetch::{self as f, events, Fixture, ASSET};
use crate::support::http::Server;

const MB: usize = 1 << 20;

/// A JSON-manifest release of `bytes` (parts of 4 MiB) naming its chunk index.
fn release(dir: &Path, bytes: &[u8]) -> Index {
    f::json_release_with_index(dir, ASSET, bytes, 4 * MB).1
}

/// Writes `S.chunks` of `bytes` into `dir`.
fn index_file(dir: &Path, bytes: &[u8]) -> Index {
    let tmp = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tmp.path(), bytes).unwrap();
    let index = Index::of_file(tmp.path(), Params::DEFAULT, &Cancel::new()).unwrap();
    std::fs::write(dir.join(chunks::index_name(ASSET)), index.to_bytes()).unwrap();
    index
}

fn event<'a>(ev: &'a [Value], name: &str) -> Option<&'a Value> {
    ev.iter().find(|e| e["event"] == name)
}

/// `voxctl fetch --json` from `source`; its exit code and events.
fn fetch(fx: &Fixture, source: &str, args: &[&str]) -> (Option<i32>, Vec<Value>, String) {
    let out = fx
        .fetch_std(source)
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        events(&out.stdout),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `voxctl fetch --json` from `source` in the background, its stdout and stderr piped (for
/// the tests that signal it, Unix only).
#[cfg(unix)]
fn spawn_fetch(fx: &Fixture, source: &str) -> std::process::Child {
    fx.fetch_std(source)
        .arg("--json")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Old and new builds of 9 MiB + 77 bytes that differ only in their last 3000 bytes.
fn last_chunk_pair() -> (Vec<u8>, Vec<u8>) {
    let old = f::data(9 * MB + 77, 51);
    let mut new = old.clone();
    let n = new.len();
    new[n - 3000..].copy_from_slice(&f::data(3000, 52));
    (old, new)
}

/// The last-chunk pair's `old` build installed from `srv`, which also serves `new` as
/// `v2` with its chunk `index`.
struct Update {
    fx: Fixture,
    srv: Server,
    old: Vec<u8>,
    new: Vec<u8>,
    index: Index,
}

fn v1_installed() -> Update {
    let fx = Fixture::new();
    let (old, new) = last_chunk_pair();
    release(&fx.rel().join("v1"), &old);
    let index = release(&fx.rel().join("v2"), &new);
    let srv = Server::start(&fx.rel());
    fx.fetch(&format!("{}/v1", srv.url())).assert().success();
    Update {
        fx,
        srv,
        old,
        new,
        index,
    }
}

#[test]
fn an_update_whose_last_chunk_changed_downloads_only_the_tail_and_reports_no_retry() {
    let Update {
        fx,
        srv,
        new,
        index,
        ..
    } = v1_installed();
    let before = srv.log().len();
    let (code, ev, err) = fetch(&fx, &format!("{}/v2", srv.url()), &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), new);
    let plan = event(&ev, "delta_planned").unwrap_or_else(|| panic!("{ev:?}"));
    assert!(event(&ev, "delta_fallback").is_none(), "{ev:?}");
    assert!(
        event(&ev, "retry").is_none(),
        "a clean update retried: {ev:?}"
    );
    // Only the changed last chunk (or the last few, cut points move near the end) is
    // downloaded, and it reaches the end of the asset.
    let last = index.chunks.last().unwrap();
    let to_download = plan["to_download"].as_u64().unwrap();
    assert!((3000..=4 * 64 * 1024).contains(&to_download), "{plan}");
    assert!(to_download >= u64::from(last.len), "{plan}");
    let last_part = part_name(ASSET, new.len() / (4 * MB));
    let ranged: Vec<_> = srv.log()[before..]
        .iter()
        .filter(|r| r.method == "GET" && r.range.is_some())
        .cloned()
        .collect();
    assert!(!ranged.is_empty());
    assert!(
        ranged.iter().all(|r| r.path.ends_with(&last_part)),
        "{ranged:?}"
    );
    let part_len = new.len() % (4 * MB);
    assert!(
        ranged.iter().any(|r| r
            .range
            .as_deref()
            .unwrap()
            .ends_with(&format!("-{}", part_len - 1))),
        "the range reaching the end: {ranged:?}"
    );
}

#[test]
fn an_update_from_a_local_release_directory_takes_the_installed_chunks() {
    let fx = Fixture::new();
    let (old, new) = last_chunk_pair();
    release(&fx.rel().join("v1"), &old);
    release(&fx.rel().join("v2"), &new);
    fx.fetch(fx.rel().join("v1").to_str().unwrap())
        .assert()
        .success();
    let (code, ev, err) = fetch(&fx, fx.rel().join("v2").to_str().unwrap(), &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), new);
    let plan = event(&ev, "delta_planned").unwrap_or_else(|| panic!("{ev:?}"));
    assert!(
        plan["reused"].as_u64().unwrap() > new.len() as u64 * 9 / 10,
        "{plan}"
    );
    assert!(event(&ev, "delta_fallback").is_none(), "{ev:?}");
    let t = crate::sign::record(&fx)
        .transfer
        .expect("transfer recorded");
    assert!(t.reused > new.len() as u64 * 9 / 10, "{t:?}");
}

#[test]
fn a_permanent_http_error_on_a_range_is_not_retried() {
    let Update {
        fx, srv, old, new, ..
    } = v1_installed();
    let last_part = part_name(ASSET, new.len() / (4 * MB));
    let path = format!("/v2/{last_part}");
    srv.set(|s| {
        s.status.insert(path.clone(), (404, 1000, None));
    });
    let before = srv.log().len();
    let (code, ev, err) = fetch(&fx, &format!("{}/v2", srv.url()), &[]);
    assert_ne!(code, Some(0), "{err}");
    assert!(event(&ev, "retry").is_none(), "a 404 was retried: {ev:?}");
    let asked = srv.log()[before..]
        .iter()
        .filter(|r| r.method == "GET" && r.path == path)
        .count();
    assert!(asked <= 2, "asked {asked} times: {:?}", srv.log());
    assert!(err.contains("404"), "{err}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), old);
}

#[test]
fn a_same_size_index_of_another_build_is_refused_before_any_range_request() {
    let fx = Fixture::new();
    let (old, new) = last_chunk_pair();
    release(&fx.rel().join("v1"), &old);
    // A whole-file release whose hint index (no manifest pins it) is that of another build
    // of exactly the same size.
    let v3 = fx.rel().join("v3");
    f::whole_release(&v3, ASSET, &new);
    index_file(&v3, &f::data(new.len(), 53));
    let srv = Server::start(&fx.rel());
    fx.fetch(&format!("{}/v1", srv.url())).assert().success();
    let before = srv.log().len();
    let (code, ev, err) = fetch(&fx, &format!("{}/v3", srv.url()), &["--force"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), new);
    assert!(event(&ev, "delta_planned").is_none(), "{ev:?}");
    let why = event(&ev, "delta_fallback").unwrap_or_else(|| panic!("{ev:?}"))["why"].to_string();
    assert!(why.contains("SHA-256") || why.contains("sha256"), "{why}");
    let ranged: Vec<_> = srv.log()[before..]
        .iter()
        .filter(|r| r.method == "GET" && r.range.is_some())
        .cloned()
        .collect();
    assert!(ranged.is_empty(), "{ranged:?}");
}

/// The GETs of release `dir`'s parts since log entry `from`: (ranged, whole).
fn part_gets(srv: &Server, from: usize, dir: &str) -> (usize, usize) {
    let gets: Vec<_> = srv.log()[from..]
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with(&format!("/{dir}/")))
        .filter(|r| r.path.contains(".part"))
        .cloned()
        .collect();
    let ranged = gets.iter().filter(|r| r.range.is_some()).count();
    (ranged, gets.len() - ranged)
}

#[test]
fn exhausted_retries_mid_delta_stop_with_the_chunks_recorded_and_no_full_download() {
    let Update {
        fx, srv, old, new, ..
    } = v1_installed();
    let last_part = part_name(ASSET, new.len() / (4 * MB));
    let path = format!("/v2/{last_part}");
    srv.set(|s| {
        s.status.insert(path.clone(), (503, 1000, None));
    });
    let before = srv.log().len();
    let (code, ev, err) = fetch(&fx, &format!("{}/v2", srv.url()), &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(event(&ev, "delta_fallback").is_none(), "{ev:?}");
    assert!(event(&ev, "retry").is_some(), "{ev:?}");
    let (ranged, whole) = part_gets(&srv, before, "v2");
    assert!(ranged > 0);
    assert_eq!(whole, 0, "no full download: {:?}", srv.log());
    assert!(f::recorded_chunks(&fx.partial()) > 0);
    assert_eq!(std::fs::read(fx.installed()).unwrap(), old);

    // The server heals: the rerun downloads only what is missing, as ranges.
    srv.set(|s| s.status.clear());
    let before = srv.log().len();
    let (code, ev, err) = fetch(&fx, &format!("{}/v2", srv.url()), &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), new);
    assert!(event(&ev, "delta_fallback").is_none(), "{ev:?}");
    assert_eq!(part_gets(&srv, before, "v2").1, 0);
}

#[cfg(unix)]
#[test]
fn ctrl_c_mid_delta_exits_130_with_the_chunks_recorded_and_no_full_download() {
    let Update {
        fx,
        srv,
        old,
        new,
        index,
    } = v1_installed();
    // Held past the index's size: the index passes whole, the range of the changed tail
    // (larger) is held part way.
    let index_len = index.to_bytes().len() as u64;
    srv.set(|s| s.hold_after = Some(index_len + 1));
    let before = srv.log().len();
    let child = spawn_fetch(&fx, &format!("{}/v2", srv.url()));
    f::wait_until(60, "a range body held", || srv.bodies_held() >= 1);
    assert!(part_gets(&srv, before, "v2").0 >= 1);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    srv.set(|s| s.hold_after = None);
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    let ev = events(&out.stdout);
    assert!(event(&ev, "delta_fallback").is_none(), "{ev:?}");
    assert_eq!(part_gets(&srv, before, "v2").1, 0, "no full download");
    assert!(f::recorded_chunks(&fx.partial()) > 0);
    assert_eq!(std::fs::read(fx.installed()).unwrap(), old);
    let (code, _, err) = fetch(&fx, &format!("{}/v2", srv.url()), &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), new);
}

#[cfg(unix)]
#[test]
fn a_stopped_full_download_is_a_seed_of_the_next_differential_fetch() {
    let fx = Fixture::new();
    let new = f::data(9 * MB + 77, 54);
    let index = release(&fx.rel().join("v2"), &new);
    let srv = Server::start(&fx.rel());
    // Nothing installed: a full download, held after 3 MiB of each 4 MiB part (the index
    // and the 1 MiB last part pass whole), then stopped.
    srv.set(|s| s.hold_after = Some(3 * MB as u64));
    let child = fx
        .fetch_std(&format!("{}/v2", srv.url()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    f::wait_until(60, "two bodies held", || srv.bodies_held() >= 2);
    f::wait_until(60, "the held bytes on disk", || {
        f::partial_bytes(&fx.partial()) >= 6 * MB as u64
    });
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    srv.set(|s| s.hold_after = None);
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    assert!(!fx.installed().exists());

    let before = srv.log().len();
    let (code, ev, err) = fetch(&fx, &format!("{}/v2", srv.url()), &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), new);
    let plan = event(&ev, "delta_planned").unwrap_or_else(|| panic!("{ev:?}"));
    let seed = &plan["seeds"][0];
    assert_eq!(seed["kind"], "partial", "{plan}");
    // Whole chunks inside the bytes kept: all but the chunks cut by the holds.
    let reused = seed["reused"].as_u64().unwrap();
    let cut = 3 * u64::from(index.params.max);
    assert!(reused + cut >= 6 * MB as u64, "{plan}");
    assert_eq!(
        part_gets(&srv, before, "v2").1,
        0,
        "no part downloaded whole"
    );
}

/// The index's path in release `dir` on the test server.
fn index_path(dir: &str) -> String {
    format!("/{dir}/{}", chunks::index_name(ASSET))
}

#[test]
fn a_release_without_an_index_is_no_fallback_and_a_missing_named_index_is_one() {
    let Update { fx, srv, new, .. } = v1_installed();
    // v3: the same build without a chunk index: a plain full download, reported as nothing
    // unusual.
    f::json_release(&fx.rel().join("v3"), ASSET, &new, 4 * MB);
    let (code, ev, err) = fetch(&fx, &format!("{}/v3", srv.url()), &["--force"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(event(&ev, "delta_fallback").is_none(), "{ev:?}");
    assert!(event(&ev, "delta_planned").is_none(), "{ev:?}");
    // v4: a manifest naming its index, whose file is missing: the fetch says why it
    // downloads everything.
    let v4 = fx.rel().join("v4");
    release(&v4, &new);
    std::fs::remove_file(v4.join(chunks::index_name(ASSET))).unwrap();
    let (code, ev, err) = fetch(&fx, &format!("{}/v4", srv.url()), &["--force"]);
    assert_eq!(code, Some(0), "{err}");
    let why = event(&ev, "delta_fallback").unwrap_or_else(|| panic!("{ev:?}"))["why"].to_string();
    assert!(why.contains("names this chunk index"), "{why}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), new);
}

#[test]
fn an_index_the_server_refuses_is_a_fallback_to_a_full_download() {
    let Update { fx, srv, new, .. } = v1_installed();
    srv.set(|s| {
        s.status.insert(index_path("v2"), (403, 1000, None));
    });
    let before = srv.log().len();
    let (code, ev, err) = fetch(&fx, &format!("{}/v2", srv.url()), &[]);
    assert_eq!(code, Some(0), "{err}");
    let why = event(&ev, "delta_fallback").unwrap_or_else(|| panic!("{ev:?}"))["why"].to_string();
    assert!(why.contains("403"), "{why}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), new);
    assert!(
        part_gets(&srv, before, "v2").1 > 0,
        "the parts were downloaded whole"
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_while_the_index_waits_for_a_retry_exits_130_without_a_fallback() {
    let Update { fx, srv, old, .. } = v1_installed();
    // A 30 s Retry-After: the fetch is waiting to ask again when the SIGINT comes.
    let path = index_path("v2");
    srv.set(|s| {
        s.status
            .insert(path.clone(), (503, 1000, Some("30".into())));
    });
    let before = srv.log().len();
    let child = spawn_fetch(&fx, &format!("{}/v2", srv.url()));
    f::wait_until(60, "the index asked for", || {
        srv.log()[before..].iter().any(|r| r.path == path)
    });
    let sent = std::time::Instant::now();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    assert!(
        sent.elapsed() < std::time::Duration::from_secs(20),
        "the wait was not cut short"
    );
    let ev = events(&out.stdout);
    assert!(event(&ev, "delta_fallback").is_none(), "{ev:?}");
    assert_eq!(part_gets(&srv, before, "v2"), (0, 0), "nothing downloaded");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), old);
}

#[test]
fn a_seed_that_cannot_be_read_is_skipped_and_the_update_stays_differential() {
    use voxctl::fetch::{Compat, Event, Outcome, Settings, Source};
    let Update { fx, srv, new, .. } = v1_installed();
    // The command checks `--seed` files; an app may name one that is gone by the time the
    // scan reaches it.
    let state = voxctl::state::StateDir::open(Some(&fx.state())).unwrap();
    let source = Source::parse(&format!("{}/v2", srv.url())).unwrap();
    let variant = voxctl::variant::Variant::Cuda;
    let mut settings = Settings::new("voicebox", variant, source, &fx.data(), &state);
    settings.compat = Compat::Skip;
    settings.delta.seeds = vec![fx.data().join("no-such-seed")];
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let report: voxctl::fetch::Reporter = {
        let seen = seen.clone();
        std::sync::Arc::new(move |e: &Event| seen.lock().unwrap().push(e.clone()))
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let outcome = rt
        .block_on(voxctl::fetch::install(&settings, report))
        .unwrap();
    assert!(matches!(outcome, Outcome::Installed(_)), "{outcome:?}");
    let seen = seen.lock().unwrap();
    assert!(
        !seen
            .iter()
            .any(|e| matches!(e, Event::DeltaFallback { .. })),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|e| matches!(e, Event::DeltaPlanned(_))),
        "{seen:?}"
    );
    assert_eq!(std::fs::read(fx.installed()).unwrap(), new);
}

#[test]
fn an_update_with_nothing_in_common_is_downloaded_whole_without_a_range_request() {
    let fx = Fixture::new();
    release(&fx.rel().join("v1"), &f::data(9 * MB + 77, 61));
    let new = f::data(9 * MB + 77, 62);
    release(&fx.rel().join("v2"), &new);
    let srv = Server::start(&fx.rel());
    fx.fetch(&format!("{}/v1", srv.url())).assert().success();
    let before = srv.log().len();
    let (code, ev, err) = fetch(&fx, &format!("{}/v2", srv.url()), &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), new);
    // One whole request per part: ranges would cost a request per chunk run.
    assert_eq!(
        part_gets(&srv, before, "v2"),
        (0, 3),
        "{:?}",
        &srv.log()[before..]
    );
    assert!(event(&ev, "delta_fallback").is_none(), "{ev:?}");
}

#[test]
fn a_truncated_part_in_a_local_release_is_named_as_such_by_the_differential_fetch() {
    let fx = Fixture::new();
    let (old, new) = last_chunk_pair();
    release(&fx.rel().join("v1"), &old);
    let v2 = fx.rel().join("v2");
    release(&v2, &new);
    fx.fetch(fx.rel().join("v1").to_str().unwrap())
        .assert()
        .success();
    // The changed last part, cut 1000 bytes short of what the manifest says.
    let last = v2.join(part_name(ASSET, new.len() / (4 * MB)));
    let len = std::fs::metadata(&last).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&last)
        .unwrap()
        .set_len(len - 1000)
        .unwrap();
    let (code, ev, err) = fetch(&fx, v2.to_str().unwrap(), &[]);
    assert_ne!(code, Some(0), "{err}");
    let why = event(&ev, "delta_fallback").unwrap_or_else(|| panic!("{ev:?}"))["why"].to_string();
    assert!(why.contains(&format!("ends before byte {len}")), "{why}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), old);
}

#[test]
fn a_mirror_skipped_in_one_range_is_not_asked_for_the_next() {
    let fx = Fixture::new();
    // Two edits 6 MiB apart: two ranges, in parts 0 and 1.
    let old = f::data(9 * MB + 77, 71);
    let mut new = old.clone();
    new[MB..MB + 3000].copy_from_slice(&f::data(3000, 72));
    new[7 * MB..7 * MB + 3000].copy_from_slice(&f::data(3000, 73));
    release(&fx.rel().join("v1"), &old);
    release(&fx.rel().join("v2"), &new);
    let origin = Server::start(&fx.rel());
    fx.fetch(&format!("{}/v1", origin.url())).assert().success();
    // The mirror serves a wrong byte inside each edit: whichever range comes first finds it
    // and skips the mirror.
    let mirror = Server::start(&fx.rel());
    mirror.set(|s| {
        s.flip
            .insert(format!("/v2/{}", part_name(ASSET, 0)), (MB + 100) as u64);
        s.flip.insert(
            format!("/v2/{}", part_name(ASSET, 1)),
            (3 * MB + 100) as u64,
        );
    });
    let mirror_url = format!("{}/v2", mirror.url());
    // One range at a time: the second starts after the first skipped the mirror.
    let (code, ev, err) = fetch(
        &fx,
        &format!("{}/v2", origin.url()),
        &["--jobs", "1", "--mirror", &mirror_url],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), new);
    assert!(event(&ev, "delta_fallback").is_none(), "{ev:?}");
    let asked = mirror
        .log()
        .iter()
        .filter(|r| r.method == "GET" && r.range.is_some())
        .count();
    assert_eq!(asked, 1, "the mirror was asked again: {:?}", mirror.log());
}

#[test]
fn range_answers_short_twice_fall_back_to_whole_parts_after_one_retry() {
    let Update { fx, srv, new, .. } = v1_installed();
    // Every Range request is answered with at most 1000 bytes (a valid, short 206).
    srv.set(|s| s.short_range = Some(1000));
    let before = srv.log().len();
    let (code, ev, err) = fetch(&fx, &format!("{}/v2", srv.url()), &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), new);
    let retries: Vec<&Value> = ev.iter().filter(|e| e["event"] == "retry").collect();
    assert_eq!(retries.len(), 1, "{ev:?}");
    assert!(
        retries[0]["error"]
            .to_string()
            .contains("short of the range"),
        "{retries:?}"
    );
    let why = event(&ev, "delta_fallback").unwrap_or_else(|| panic!("{ev:?}"))["why"].to_string();
    assert!(why.contains("answers Range requests short"), "{why}");
    assert!(
        part_gets(&srv, before, "v2").1 > 0,
        "the parts were downloaded whole"
    );
}

#[test]
fn a_mirror_that_refuses_a_range_is_not_retried_and_the_origin_serves_it() {
    let Update { fx, srv, new, .. } = v1_installed();
    let mirror = Server::start(&fx.rel());
    let last_part = format!("/v2/{}", part_name(ASSET, new.len() / (4 * MB)));
    mirror.set(|s| {
        s.status.insert(last_part.clone(), (404, 1000, None));
    });
    let mirror_url = format!("{}/v2", mirror.url());
    let (code, ev, err) = fetch(
        &fx,
        &format!("{}/v2", srv.url()),
        &["--mirror", &mirror_url],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), new);
    assert!(event(&ev, "delta_fallback").is_none(), "{ev:?}");
    let asked = mirror
        .log()
        .iter()
        .filter(|r| r.method == "GET" && r.path == last_part)
        .count();
    assert_eq!(asked, 1, "a 404 was asked again: {:?}", mirror.log());
}
