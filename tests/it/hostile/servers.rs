//! Hostile-input cases: hostile HTTP servers: lying sizes, empty answers, endless retries.

use std::time::Duration;

use crate::support::fetch::{self as f, Fixture, ASSET};
use crate::support::http::Server;
use voxctl::manifest::part_name;

const MB: usize = 1 << 20;

/// GET requests the server saw for file `name`, whatever it answered.
fn gets(srv: &Server, name: &str) -> Vec<crate::support::http::Logged> {
    let path = format!("/{name}");
    srv.log()
        .into_iter()
        .filter(|l| l.method == "GET" && l.path == path)
        .collect()
}

/// A server that answers a plain GET with `200` and a `Content-Length` larger than what it
/// sends (then closes), and a Range GET with an empty `200`, must not keep `fetch --retries 3`
/// going without end (every other attempt looks like progress). The retry budget is per part for
/// the whole run and refilled only by new bytes: the run ends, with an error naming the URL and
/// what the server did.
#[test]
fn a_server_lying_about_lengths_cannot_keep_fetch_retrying() {
    let fx = Fixture::new();
    let bytes = f::data(2 * MB, 101);
    f::json_release(&fx.rel(), ASSET, &bytes, MB);
    let srv = Server::start(&fx.rel());
    let part0 = part_name(ASSET, 0);
    srv.set(|s| {
        s.lie_length
            .insert(format!("/{part0}"), (300_000, MB as u64));
        s.empty_range_200 = true;
    });
    let out = fx
        .fetch(&srv.url())
        .args(["--retries", "3"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let url = format!("{}/{part0}", srv.url());
    assert!(stderr.contains(&url), "names the URL: {stderr}");
    assert!(stderr.contains("giving up on part"), "{stderr}");
    assert!(
        stderr.contains("answered `Range: bytes=300000-` with a whole-file 200"),
        "says what the server did: {stderr}"
    );
    // 1 attempt + 3 retries: the 300 000 bytes resent by every plain GET are not new, and
    // the empty 200s bring nothing.
    let tries = gets(&srv, &part0);
    assert_eq!(tries.len(), 4, "{tries:#?}");
    assert!(!fx.installed().exists());
}

/// A part whose declared bytes have all arrived is complete even though the
/// server declared a longer body and then closed the connection: its digest decides (the
/// part's own in a JSON manifest, the whole file's in the whole layout), and no Range request
/// for the bytes after its end is made.
#[test]
fn a_part_with_all_its_bytes_is_complete_whatever_the_content_length_said() {
    let fx = Fixture::new();
    let bytes = f::data(MB + 5, 102);
    f::json_release(&fx.rel(), ASSET, &bytes, MB / 2);
    let srv = Server::start(&fx.rel());
    let part1 = part_name(ASSET, 1);
    srv.set(|s| {
        s.lie_length
            .insert(format!("/{part1}"), (MB as u64 / 2, MB as u64));
    });
    fx.fetch(&srv.url())
        .timeout(Duration::from_secs(120))
        .assert()
        .success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    let tries = gets(&srv, &part1);
    assert_eq!(tries.len(), 1, "{tries:#?}");

    let fx = Fixture::new();
    f::whole_release(&fx.rel(), ASSET, &bytes);
    let srv = Server::start(&fx.rel());
    srv.set(|s| {
        s.lie_length
            .insert(format!("/{ASSET}"), (bytes.len() as u64, 2 * MB as u64));
    });
    fx.fetch(&srv.url())
        .timeout(Duration::from_secs(120))
        .assert()
        .success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    let tries = gets(&srv, ASSET);
    assert_eq!(tries.len(), 1, "{tries:#?}");
}
