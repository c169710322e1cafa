//! A fleet updating from one download: mirrors (`--mirror`), a caching nginx (`proxy_cache`
//! with `slice`, configured exactly as README's "Updating a fleet" says) in front of an
//! nginx origin, failover between sources, and conditional polls. What the origin served
//! is read from its own access log.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::support::fetch::{self as f, Fixture, ASSET};
use crate::support::http::Server;
use crate::support::nginx::Nginx;
use voxctl::manifest::{json_manifest_name, part_name};

const MB: usize = 1 << 20;

/// A JSON-manifest release of `bytes` in `dir` (parts of `part` bytes) with its chunk index.
fn release_with_index(dir: &Path, bytes: &[u8], part: usize) {
    f::json_release_with_index(dir, ASSET, bytes, part);
}

/// README's nginx configuration for the cache, split into its http-block and server-block
/// halves, with the cache directory and the origin replaced by the test's.
fn readme_cache_config(cache_dir: &Path, origin: &str) -> (String, String) {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme.split("## Updating a fleet").nth(1).unwrap();
    let block = section
        .split("```nginx\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap()
        .replace("/var/cache/nginx/voxctl", cache_dir.to_str().unwrap())
        .replace("http://origin.lan:8080", origin);
    let (http, server) = block.split_once("# in the server { } block").unwrap();
    (http.to_string(), format!("# {server}"))
}

/// One answer in an nginx access log (`METHOD URI STATUS "RANGE" BYTES`).
#[derive(Debug)]
struct Line {
    uri: String,
    status: u16,
    range: Option<String>,
    bytes: u64,
}

fn parse_log(lines: &[String]) -> Vec<Line> {
    lines
        .iter()
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let range = w[3].trim_matches('"');
            Line {
                uri: w[1].to_string(),
                status: w[2].parse().unwrap(),
                range: (range != "-").then(|| range.to_string()),
                bytes: w[4].parse().unwrap(),
            }
        })
        .collect()
}

/// Asserts that the origin sent no byte of any cached file (assets, chunk indexes) under
/// `prefix` twice (overlapping answers), and returns the bytes it sent per file.
fn assert_each_byte_at_most_once(log: &[Line], prefix: &str) -> BTreeMap<String, u64> {
    let mut spans: BTreeMap<String, Vec<(u64, u64)>> = BTreeMap::new();
    // Manifests, checksums and signatures are not cached, on purpose (see README).
    let metadata = [".json", ".manifest", ".sha256", ".minisig", ".sig"];
    let cached = |uri: &str| !metadata.iter().any(|m| uri.ends_with(m));
    for l in log
        .iter()
        .filter(|l| l.uri.starts_with(prefix) && cached(&l.uri))
    {
        if !matches!(l.status, 200 | 206) || l.bytes == 0 {
            continue;
        }
        let start = l.range.as_deref().map_or(0, |r| {
            r.strip_prefix("bytes=")
                .unwrap()
                .split('-')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        });
        spans
            .entry(l.uri.clone())
            .or_default()
            .push((start, start + l.bytes));
    }
    let mut sent = BTreeMap::new();
    for (uri, mut s) in spans {
        s.sort();
        for w in s.windows(2) {
            assert!(
                w[0].1 <= w[1].0,
                "{uri}: bytes sent twice: {:?} and {:?}",
                w[0],
                w[1]
            );
        }
        sent.insert(uri, s.iter().map(|(a, b)| b - a).sum());
    }
    sent
}

/// Starts `fetch` for each fixture at once, waits for all, and requires success.
fn wave(fixtures: &[Fixture], source: &str) {
    let children: Vec<Child> = fixtures
        .iter()
        .map(|fx| {
            fx.fetch_std(source)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Eight clients (separate data and state dirs) behind README's nginx cache, in two waves of
/// four started together: they install a release, then update differentially to the next
/// one. The origin's access log shows each byte of each release's files served at most
/// once, and fewer bytes of the new release than its size; every install is byte-identical.
/// A poll with nothing new then costs the origin one `304` per client and nothing else.
#[test]
fn eight_clients_behind_an_nginx_slice_cache_take_each_byte_from_the_origin_once() {
    let root = tempfile::tempdir().unwrap();
    let v1 = f::data(8 * MB + 12_345, 401);
    let mut v2 = v1.clone();
    v2[2 * MB..2 * MB + 300_000].copy_from_slice(&f::data(300_000, 402));
    v2[6 * MB + 5..6 * MB + 100_005].copy_from_slice(&f::data(100_000, 403));
    release_with_index(&root.path().join("v1"), &v1, 3 * MB);
    release_with_index(&root.path().join("v2"), &v2, 3 * MB);
    let origin = Nginx::start(root.path(), "");
    let cache = tempfile::tempdir().unwrap();
    let (http, server) = readme_cache_config(cache.path(), &origin.url());
    assert!(server.contains("slice 1m;"), "{server}");
    let proxy = Nginx::start_with(cache.path(), &http, &server);
    let fleet: Vec<Fixture> = (0..8).map(|_| Fixture::new()).collect();

    for version in ["v1", "v2"] {
        let source = format!("{}/{version}", proxy.url());
        wave(&fleet[..4], &source);
        wave(&fleet[4..], &source);
        let want = if version == "v1" { &v1 } else { &v2 };
        for fx in &fleet {
            assert!(std::fs::read(fx.installed()).unwrap() == *want, "{version}");
        }
        let log = parse_log(&origin.access_log());
        let sent = assert_each_byte_at_most_once(&log, &format!("/{version}/"));
        let parts: u64 = (0..3)
            .map(|i| {
                sent.get(&format!("/{version}/{}", part_name(ASSET, i)))
                    .copied()
                    .unwrap_or(0)
            })
            .sum();
        assert!(parts <= want.len() as u64, "{version}: {sent:#?}");
        if version == "v1" {
            assert_eq!(parts, v1.len() as u64, "{sent:#?}");
        } else {
            // The update took most of its chunks from the installed build.
            assert!(parts < v2.len() as u64 / 2, "{sent:#?}");
        }
        // The cache asked the origin in slices only.
        for l in log.iter().filter(|l| l.uri.contains(".part")) {
            let r = l.range.as_deref().unwrap_or_else(|| panic!("{l:?}"));
            let start: u64 = r[6..].split('-').next().unwrap().parse().unwrap();
            assert_eq!(start % MB as u64, 0, "{l:?}");
        }
    }

    // Nothing new: one conditional request per client, answered 304 by the origin.
    let before = origin.access_log().len();
    wave(&fleet, &format!("{}/v2", proxy.url()));
    let polls = parse_log(&origin.access_log()[before..]);
    assert_eq!(polls.len(), 8, "{polls:#?}");
    let manifest = format!("/v2/{}", json_manifest_name(ASSET));
    for l in &polls {
        assert_eq!(
            (l.uri.as_str(), l.status, l.bytes),
            (manifest.as_str(), 304, 0),
            "{l:?}"
        );
    }
}

/// Two mirrors before the origin: the first flips a byte of every part, the second holds
/// another release (a stale one). Each is caught by the first part's SHA-256, named, and
/// never asked again in the run; every part comes from the origin once, and the install is
/// the origin's release. `status -v` says the origin served every byte.
#[test]
fn a_mirror_serving_a_wrong_byte_is_named_and_skipped_for_the_rest_of_the_run() {
    let fx = Fixture::new();
    let bytes = f::data(3 * MB, 404);
    f::json_release(&fx.rel(), ASSET, &bytes, MB);
    let origin = Server::start(&fx.rel());
    let flipped = Server::start(&fx.rel());
    flipped.set(|s| {
        for i in 0..3 {
            s.flip.insert(format!("/{}", part_name(ASSET, i)), 1000);
        }
    });
    let stale_dir = tempfile::tempdir().unwrap();
    f::json_release(stale_dir.path(), ASSET, &f::data(3 * MB, 405), MB);
    let stale = Server::start(stale_dir.path());
    let out = fx
        .fetch(&origin.url())
        .args([
            "--jobs",
            "1",
            "--mirror",
            &flipped.url(),
            "--mirror",
            &stale.url(),
        ])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    // Parts start in any order: whichever comes first meets both bad mirrors, and no later
    // request goes to either.
    for m in [&flipped, &stale] {
        assert!(
            stderr.contains(&format!("mirror {} served bytes of part", m.url())),
            "{stderr}"
        );
        let asked: Vec<_> = (0..3)
            .flat_map(|i| m.downloads(&part_name(ASSET, i)))
            .collect();
        assert_eq!(asked.len(), 1, "{}: {asked:#?}\n{stderr}", m.url());
    }
    for i in 0..3 {
        let got = origin.downloads(&part_name(ASSET, i));
        assert_eq!(got.len(), 1, "part {i}: {got:#?}\n{stderr}");
    }
    let status = crate::support::voxctl_std(&fx.state())
        .args(["-v", "status", "--data-dir", fx.data().to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        text.contains(&format!("served by origin {}: 3 MiB", origin.url())),
        "{text}"
    );
    assert!(!text.contains("served by mirror"), "{text}");
}

/// A mirror (a rate-limited nginx) killed while it sends a part: after its own retries
/// (refused connections) the part continues at the origin with a Range from the byte
/// reached, and the origin's budget is untouched by the mirror's failures. The install
/// records both sources.
#[test]
fn a_mirror_killed_mid_part_hands_over_to_the_origin_from_the_byte_reached() {
    let fx = Fixture::new();
    let bytes = f::data(4 * MB, 406);
    f::json_release(&fx.rel(), ASSET, &bytes, 4 * MB);
    let origin = Server::start(&fx.rel());
    let mirror = Nginx::start(&fx.rel(), "limit_rate 512k;");
    let mut child = fx
        .fetch_std(&origin.url())
        .args(["--retries", "1", "--mirror", &mirror.url()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    f::wait_until(60, "bytes from the mirror on disk", || {
        f::partial_bytes(&fx.partial()) > 0
    });
    let mirror_url = mirror.url();
    drop(mirror);
    // Bounded: a fetch that never leaves the dead mirror must fail the test, not hang it.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("fetch still running 60 s after the mirror was killed");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "{stderr}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    let part = part_name(ASSET, 0);
    let got = origin.downloads(&part);
    assert_eq!(got.len(), 1, "{got:#?}");
    let from: u64 = got[0].range.as_deref().unwrap()["bytes=".len()..]
        .trim_end_matches('-')
        .parse()
        .unwrap();
    assert!(from > 0 && from < bytes.len() as u64, "{got:#?}");
    assert!(
        stderr.contains(&format!("continuing from byte {from} at {}", origin.url())),
        "{stderr}"
    );
    let record: serde_json::Value = serde_json::from_slice(
        &std::fs::read(fx.data().join(format!("backends/{ASSET}.install.json"))).unwrap(),
    )
    .unwrap();
    let served = record["served"].as_array().unwrap();
    assert_eq!(served.len(), 2, "{record}");
    assert_eq!(served[0]["source"], mirror_url);
    assert_eq!(served[0]["mirror"], true);
    assert_eq!(served[0]["bytes"], from);
    assert_eq!(served[1]["source"], origin.url());
    assert_eq!(served[1]["bytes"], bytes.len() as u64 - from);
}

/// A whole-file release (one SHA-256 for the asset, no part digest) whose only mirror flips a
/// byte: the whole file does not verify, nothing is installed (exit 3), and the error names
/// the mirror that served bytes of it, with the way out.
#[test]
fn a_whole_file_that_fails_its_digest_names_the_mirror_that_served_it() {
    let fx = Fixture::new();
    let bytes = f::data(2 * MB, 407);
    f::whole_release(&fx.rel(), ASSET, &bytes);
    let origin = Server::start(&fx.rel());
    let mirror = Server::start(&fx.rel());
    mirror.set(|s| {
        s.flip.insert(format!("/{ASSET}"), 12_345);
    });
    let out = fx
        .fetch(&origin.url())
        .args(["--mirror", &mirror.url()])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!("bytes of it came from mirror {}", mirror.url())),
        "{stderr}"
    );
    assert!(stderr.contains("run again without --mirror"), "{stderr}");
    assert!(!fx.installed().exists());
}

/// A differential update whose mirror flips a byte of the new release inside the changed
/// range: the chunk that does not match the index names the mirror, which is skipped, and
/// that chunk and the rest of the range come from the origin with a Range request; the
/// update stays differential (no whole part from anyone). The mirror is credited with the
/// bytes of the chunks it served that matched, never those of the rejected one.
#[test]
fn a_mirror_flipping_a_byte_of_a_differential_update_is_skipped_and_the_delta_goes_on() {
    let fx = Fixture::new();
    let old = f::data(3 * MB, 408);
    let mut new = old.clone();
    new[MB..MB + 100_000].copy_from_slice(&f::data(100_000, 409));
    let old_rel = fx.rel().with_file_name("old");
    f::json_release(&old_rel, ASSET, &old, 2 * MB);
    fx.fetch(old_rel.to_str().unwrap()).assert().success();
    release_with_index(&fx.rel(), &new, 2 * MB);
    let origin = Server::start(&fx.rel());
    let mirror = Server::start(&fx.rel());
    mirror.set(|s| {
        s.flip
            .insert(format!("/{}", part_name(ASSET, 0)), MB as u64 + 10);
    });
    let out = fx
        .fetch(&origin.url())
        .args(["--json", "--mirror", &mirror.url()])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), new);
    let events = f::events(&out.stdout);
    assert!(
        !events.iter().any(|e| e["event"] == "delta_fallback"),
        "{events:#?}"
    );
    let named: Vec<_> = events
        .iter()
        .filter(|e| {
            e["event"] == "retry"
                && e["error"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("mirror {} served a wrong byte", mirror.url()))
        })
        .collect();
    assert_eq!(named.len(), 1, "{events:#?}");
    let range = |l: &crate::support::http::Logged| -> (u64, u64) {
        let r = l
            .range
            .as_deref()
            .unwrap_or_else(|| panic!("a whole part: {l:?}"));
        let (a, b) = r["bytes=".len()..].split_once('-').unwrap();
        (
            a.parse().unwrap(),
            b.parse().unwrap_or_else(|_| panic!("{l:?}")),
        )
    };
    let asked = mirror.downloads(&part_name(ASSET, 0));
    assert_eq!(asked.len(), 1, "{asked:#?}");
    let (start, last) = range(&asked[0]);
    let again = origin.downloads(&part_name(ASSET, 0));
    assert_eq!(again.len(), 1, "{again:#?}");
    let (from, origin_last) = range(&again[0]);
    assert_eq!(origin_last, last);
    assert!(
        start <= from && from <= MB as u64 + 10,
        "{asked:?} {again:?}"
    );
    assert!(origin.downloads(&part_name(ASSET, 1)).is_empty());
    let record: serde_json::Value = serde_json::from_slice(
        &std::fs::read(fx.data().join(format!("backends/{ASSET}.install.json"))).unwrap(),
    )
    .unwrap();
    let served: BTreeMap<String, u64> = record["served"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["source"].as_str().unwrap().to_string(),
                s["bytes"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        served.get(&mirror.url()).copied().unwrap_or(0),
        from - start,
        "{record}"
    );
    assert_eq!(served[&origin.url()], last + 1 - from, "{record}");
}

/// A mirror that nothing listens on (a closed port): the first refused connection hands the
/// part to the origin at once, no other part asks the mirror again, and the mirror is named
/// in one warning. No retry waits on it (the fixture's short `--retry-delay` keeps a fetch
/// that would wait through each part's retries quick to fail).
#[test]
fn a_dead_mirror_hands_over_to_the_origin_at_once_and_is_skipped() {
    let fx = Fixture::new();
    let bytes = f::data(3 * MB, 410);
    f::json_release(&fx.rel(), ASSET, &bytes, MB);
    let origin = Server::start(&fx.rel());
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/x", closed.local_addr().unwrap());
    drop(closed);
    let out = fx
        .fetch(&origin.url())
        .args(["--json", "--jobs", "1", "--mirror", &dead])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    let events = f::events(&out.stdout);
    let retries: Vec<_> = events.iter().filter(|e| e["event"] == "retry").collect();
    assert!(
        retries.iter().all(|e| e["delay_ms"] == 0),
        "a dead mirror was waited for: {retries:#?}"
    );
    let named: Vec<_> = retries
        .iter()
        .filter(|e| {
            let error = e["error"].as_str().unwrap();
            error.contains(&format!("mirror {dead} cannot be reached"))
                && error.contains("skipped for the rest of the run")
        })
        .collect();
    assert_eq!(named.len(), 1, "{retries:#?}");
    assert_eq!(retries.len(), 1, "the mirror was asked again: {retries:#?}");
    for i in 0..3 {
        let got = origin.downloads(&part_name(ASSET, i));
        assert_eq!(got.len(), 1, "part {i}: {got:#?}");
        assert!(got[0].range.is_none(), "part {i}: {got:#?}");
    }
}
