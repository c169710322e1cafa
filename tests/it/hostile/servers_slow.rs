//! Hostile-input cases: servers that are slow or short on purpose: Range answers that end
//! short every time, a `Retry-After` of minutes, a body trickled a byte at a time. Each must
//! end (installed, or a clear error) in bounded time, never hang a run or fail every rerun
//! the same way.

use std::time::{Duration, Instant};

use crate::support::fetch::{self as f, Fixture, ASSET};
use crate::support::http::{Cut, Server};
use voxctl::manifest::{json_manifest_name, part_name};

const MB: usize = 1 << 20;

/// A part resumed with a Range request that the server answers short (a valid `206` of 1000
/// bytes) every time: the second short answer in a row sends the next request for the whole
/// part, without Range, and the install completes. Asked by Range again and again, the part
/// would gain 1000 bytes per retry and run out of its budget, failing every rerun alike.
#[test]
fn range_answers_that_end_short_every_time_fall_back_to_the_whole_part() {
    let fx = Fixture::new();
    let bytes = f::data(2 * MB, 301);
    f::json_release(&fx.rel(), ASSET, &bytes, MB);
    let srv = Server::start(&fx.rel());
    let part0 = part_name(ASSET, 0);
    srv.set(|s| {
        s.cut_after = Some((300_000, Cut::Drop));
        s.cut_times = 1;
        s.cut_only = Some(format!("/{part0}"));
        s.short_range = Some(1000);
    });
    let out = fx
        .fetch(&srv.url())
        .args(["--retries", "3", "--jobs", "1"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    let tries: Vec<_> = srv.downloads(&part0);
    let ranges: Vec<_> = tries.iter().map(|l| l.range.clone()).collect();
    // The first GET (cut), two short Range answers, then the whole part again.
    assert_eq!(
        ranges,
        [
            None,
            Some("bytes=300000-".to_string()),
            Some("bytes=301000-".to_string()),
            None
        ],
        "{tries:#?}"
    );
}

/// A differential update whose Range requests are all answered short: after the second
/// short answer in a row the update falls back to a full download (which asks for the parts
/// whole), and installs the new build.
#[test]
fn a_delta_answered_short_every_time_falls_back_to_a_full_download() {
    let fx = Fixture::new();
    let old = f::data(3 * MB, 302);
    let mut new = old.clone();
    new[MB..MB + 100_000].copy_from_slice(&f::data(100_000, 303));
    // The old build, installed from a directory release.
    let old_rel = fx.rel().with_file_name("old");
    f::json_release(&old_rel, ASSET, &old, 2 * MB);
    fx.fetch(old_rel.to_str().unwrap()).assert().success();
    // The new one, with its chunk index.
    f::json_release_with_index(&fx.rel(), ASSET, &new, 2 * MB);
    let srv = Server::start(&fx.rel());
    srv.set(|s| s.short_range = Some(1000));
    let out = fx
        .fetch(&srv.url())
        .args(["--retries", "3", "--json"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), new);
    let events = f::events(&out.stdout);
    let fallback = events
        .iter()
        .find(|e| e["event"] == "delta_fallback")
        .unwrap_or_else(|| panic!("no fallback: {events:#?}"));
    assert!(
        fallback["why"]
            .as_str()
            .unwrap()
            .contains("answers Range requests short"),
        "{fallback}"
    );
}

/// `Retry-After: 600` on a part, and on the manifest: not waited for (the wait cap is 60 s);
/// the fetch fails at once saying why, with exit 1.
#[test]
fn a_retry_after_longer_than_the_cap_is_not_waited_for() {
    for on_manifest in [false, true] {
        let fx = Fixture::new();
        let bytes = f::data(MB, 304);
        f::json_release(&fx.rel(), ASSET, &bytes, MB);
        let srv = Server::start(&fx.rel());
        let path = if on_manifest {
            format!("/{}", json_manifest_name(ASSET))
        } else {
            format!("/{}", part_name(ASSET, 0))
        };
        srv.set(|s| {
            s.status.insert(path, (503, 100, Some("600".into())));
        });
        let started = Instant::now();
        let out = fx
            .fetch(&srv.url())
            .args(["--retries", "3"])
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(started.elapsed() < Duration::from_secs(30), "{stderr}");
        assert!(
            stderr.contains("asks to wait 600 s") && stderr.contains("longer than the 60 s"),
            "{stderr}"
        );
    }
}

/// A server that trickles every body a byte every 200 ms (a slow-loris) never sends the
/// last byte of a silence as long as --read-timeout: without a minimum speed even the
/// manifest would take minutes. The body must average 1 KiB/s over each --read-timeout
/// window, so the run ends within seconds, naming the URL and the speed.
#[test]
fn a_slow_loris_server_cannot_hang_the_run_on_the_manifest() {
    let fx = Fixture::new();
    let bytes = f::data(MB, 305);
    f::json_release(&fx.rel(), ASSET, &bytes, MB);
    let srv = Server::start(&fx.rel());
    srv.set(|s| s.trickle = Some((1, Duration::from_millis(200))));
    let started = Instant::now();
    let out = fx
        .fetch(&srv.url())
        .args(["--retries", "1", "--read-timeout", "1s"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(20), "{stderr}");
    let url = format!("{}/{}", srv.url(), json_manifest_name(ASSET));
    assert!(stderr.contains(&url), "{stderr}");
    assert!(stderr.contains("too slow"), "{stderr}");
}
