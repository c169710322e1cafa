//! `voxctl fetch` end to end against the test HTTP server (tests/it/support/http.rs) and local
//! directories: every release layout, verification failures, resume, retries, signed URLs,
//! signals, and cross-process exclusivity via the slot table.

use crate::support;

use std::time::Duration;

use predicates::prelude::*;
use support::fetch::{self as f, Entry, Fixture, ASSET};
use support::http::{Cut, Server};
use voxctl::fetch::Event;
use voxctl::fetch::Layout;
use voxctl::installs::InstallRecord;
use voxctl::manifest::{json_manifest_name, part_name};

const MB: usize = 1 << 20;

#[test]
fn json_manifest_release_installs_in_parallel_and_a_rerun_downloads_nothing() {
    let fx = Fixture::new();
    let bytes = f::data(5 * MB + 123, 1);
    f::json_release(&fx.rel(), ASSET, &bytes, 2 * MB);
    let srv = Server::start(&fx.rel());
    fx.fetch(&srv.url())
        .assert()
        .success()
        .stdout(predicate::str::contains(ASSET));
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    #[cfg(unix)]
    {
        let mode = std::fs::metadata(fx.installed()).unwrap().permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o111,
            0o111
        );
    }
    assert!(!fx.partial().exists(), "partial data removed after install");
    for i in 0..3 {
        assert_eq!(srv.downloads(&part_name(ASSET, i)).len(), 1, "part {i}");
    }
    // Already installed: exit 0, nothing downloaded.
    fx.fetch(&srv.url())
        .assert()
        .success()
        .stderr(predicate::str::contains("already installed"));
    for i in 0..3 {
        assert_eq!(
            srv.downloads(&part_name(ASSET, i)).len(),
            1,
            "part {i} again"
        );
    }
    // --force reinstalls.
    fx.fetch(&srv.url()).arg("--force").assert().success();
    assert_eq!(srv.downloads(&part_name(ASSET, 0)).len(), 2);
    let rec: InstallRecord = serde_json::from_slice(
        &std::fs::read(fx.data().join(format!("backends/{ASSET}.install.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(rec.layout, Layout::ManifestJson);
    assert_eq!(rec.version.as_deref(), Some("0.3.0"));
    assert_eq!(rec.size, bytes.len() as u64);
}

#[test]
fn voicebox_v1_release_made_with_gnu_split_and_sha256sum() {
    let fx = Fixture::new();
    let bytes = f::data(3 * MB + 7, 2);
    f::v1_release(&fx.rel(), ASSET, &bytes, MB);
    let srv = Server::start(&fx.rel());
    fx.fetch(&srv.url()).assert().success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    assert_eq!(srv.downloads(&part_name(ASSET, 3)).len(), 1);
}

#[test]
fn whole_layout_from_a_directory_and_a_file_url() {
    let fx = Fixture::new();
    let bytes = f::data(MB + 5, 3);
    f::whole_release(&fx.rel(), ASSET, &bytes);
    fx.fetch(fx.rel().to_str().unwrap()).assert().success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    let url = format!("file://{}", fx.rel().display());
    fx.fetch(&url).arg("--force").assert().success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
}

#[test]
fn archive_layout_is_extracted_into_the_variant_dir() {
    let fx = Fixture::new();
    f::archive_release(
        &fx.rel(),
        ASSET,
        &[
            Entry::Dir("lib"),
            Entry::File(ASSET, 0o755, b"#!/bin/sh\necho hi\n"),
            Entry::File("lib/libcudart.so.12", 0o644, b"lib"),
            // Windows never makes a link from an archive (docs/contract.md, Platforms).
            #[cfg(unix)]
            Entry::Symlink("lib/libcudart.so", "libcudart.so.12"),
        ],
    );
    let srv = Server::start(&fx.rel());
    fx.fetch(&srv.url()).assert().success();
    let dir = fx.data().join("backends/cuda");
    #[cfg(unix)]
    assert_eq!(std::fs::read(dir.join("lib/libcudart.so")).unwrap(), b"lib");
    assert_eq!(
        std::fs::read(dir.join("lib/libcudart.so.12")).unwrap(),
        b"lib"
    );
    assert!(std::fs::metadata(dir.join(ASSET)).unwrap().is_file());
    // A new release swaps the whole directory.
    f::archive_release(
        &fx.rel(),
        ASSET,
        &[
            Entry::File(ASSET, 0o755, b"#!/bin/sh\n"),
            Entry::File("new", 0o644, b"2"),
        ],
    );
    fx.fetch(&srv.url()).assert().success();
    assert!(dir.join("new").exists() && !dir.join("lib").exists());
}

#[test]
fn malicious_archives_are_refused_and_nothing_is_installed() {
    let cases: [(&str, Vec<Entry>); 4] = [
        ("dotdot", vec![Entry::RawFile("../escaped", b"x")]),
        ("abs-link", vec![Entry::Symlink("evil", "/etc")]),
        ("rel-link", vec![Entry::Symlink("evil", "../../outside")]),
        ("device", vec![Entry::CharDevice("null")]),
    ];
    for (what, entries) in cases {
        let fx = Fixture::new();
        f::archive_release(&fx.rel(), ASSET, &entries);
        fx.fetch(fx.rel().to_str().unwrap())
            .assert()
            .code(3)
            .stderr(predicate::str::contains(".tar.gz"));
        let backends = fx.data().join("backends");
        assert!(!backends.join("cuda").exists(), "{what}");
        assert!(!fx.tmp.path().join("escaped").exists(), "{what}");
        assert!(!fx.data().join("escaped").exists(), "{what}");
        let left: Vec<_> = std::fs::read_dir(&backends)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .filter(|n| n != ".partial")
            .collect();
        assert!(left.is_empty(), "{what}: {left:?}");
    }
}

#[test]
fn no_checksum_anywhere_is_refused_with_exit_3() {
    let fx = Fixture::new();
    std::fs::create_dir_all(fx.rel()).unwrap();
    std::fs::write(fx.rel().join(ASSET), b"binary").unwrap();
    fx.fetch(fx.rel().to_str().unwrap())
        .assert()
        .code(3)
        .stderr(predicate::str::contains("without a SHA-256"));
    assert!(!fx.installed().exists());
}

#[test]
fn a_flipped_byte_fails_with_exit_3_and_keeps_the_previous_install() {
    let fx = Fixture::new();
    let old = f::data(MB, 4);
    f::json_release(&fx.rel(), ASSET, &old, MB / 2);
    let srv = Server::start(&fx.rel());
    fx.fetch(&srv.url()).assert().success();

    let new = f::data(MB, 5);
    f::json_release(&fx.rel(), ASSET, &new, MB / 2);
    srv.set(|s| {
        s.flip.insert(format!("/{}", part_name(ASSET, 1)), 1000);
    });
    fx.fetch(&srv.url())
        .assert()
        .code(3)
        .stderr(predicate::str::contains(part_name(ASSET, 1)));
    assert_eq!(
        std::fs::read(fx.installed()).unwrap(),
        old,
        "previous install untouched"
    );
    assert!(
        !fx.partial().exists(),
        "no partial data kept after an integrity failure"
    );

    // A whole-file mismatch (layout without part digests) is caught too.
    let fx2 = Fixture::new();
    f::v1_release(&fx2.rel(), ASSET, &new, MB / 2);
    let srv2 = Server::start(&fx2.rel());
    srv2.set(|s| {
        s.flip.insert(format!("/{}", part_name(ASSET, 1)), 7);
    });
    fx2.fetch(&srv2.url())
        .assert()
        .code(3)
        .stderr(predicate::str::contains("SHA-256"));
    assert!(!fx2.installed().exists());
}

#[test]
fn bad_release_data_is_refused_with_exit_3() {
    type Tamper = fn(&mut voxctl::manifest::Manifest);
    let cases: [(&str, Tamper); 3] = [
        ("traversal", |m| m.parts[0].name = "../../x".into()),
        ("sizes", |m| m.size += 1),
        ("asset", |m| m.asset = "other".into()),
    ];
    for (what, tamper) in cases {
        let fx = Fixture::new();
        let mut m = f::json_release(&fx.rel(), ASSET, &f::data(1000, 6), 400);
        tamper(&mut m);
        f::write_manifest(&fx.rel(), &m);
        fx.fetch(fx.rel().to_str().unwrap())
            .assert()
            .code(3)
            .stderr(predicate::str::contains(json_manifest_name(ASSET)));
        assert!(!fx.installed().exists(), "{what}");
    }
    // Malformed manifest and checksum file.
    let fx = Fixture::new();
    std::fs::create_dir_all(fx.rel()).unwrap();
    std::fs::write(fx.rel().join(json_manifest_name(ASSET)), b"{not json").unwrap();
    fx.fetch(fx.rel().to_str().unwrap()).assert().code(3);
    let fx = Fixture::new();
    f::whole_release(&fx.rel(), ASSET, b"abc");
    std::fs::write(
        fx.rel().join(voxctl::manifest::sha256_name(ASSET)),
        "zz  x\n",
    )
    .unwrap();
    fx.fetch(fx.rel().to_str().unwrap()).assert().code(3);
}

#[test]
fn a_body_longer_than_declared_is_refused() {
    let fx = Fixture::new();
    let m = f::json_release(&fx.rel(), ASSET, &f::data(4000, 7), 2000);
    // The server's part 1 is longer than the manifest says.
    std::fs::write(fx.rel().join(&m.parts[1].name), f::data(2500, 8)).unwrap();
    let srv = Server::start(&fx.rel());
    fx.fetch(&srv.url())
        .assert()
        .code(3)
        .stderr(predicate::str::contains("longer than"));
    assert!(!fx.partial().exists());
}

#[test]
fn no_release_at_all_is_a_plain_failure() {
    let fx = Fixture::new();
    std::fs::create_dir_all(fx.rel()).unwrap();
    let srv = Server::start(&fx.rel());
    fx.fetch(&srv.url())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no release of"));
    // A server error during discovery is reported, not skipped.
    srv.set(|s| {
        s.status
            .insert(format!("/{}", json_manifest_name(ASSET)), (500, 100, None));
    });
    fx.fetch(&srv.url())
        .args(["--retries", "1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("500"))
        .stderr(predicate::str::contains(
            "hint: check the network and the release server, or pass --source URL|DIR",
        ));
}

#[test]
fn dropped_connections_resume_with_range_requests() {
    let fx = Fixture::new();
    let bytes = f::data(3 * MB, 9);
    f::json_release(&fx.rel(), ASSET, &bytes, 3 * MB / 2);
    let srv = Server::start(&fx.rel());
    srv.set(|s| {
        s.cut_after = Some((300_000, Cut::Drop));
        s.cut_times = 4;
    });
    fx.fetch(&srv.url()).assert().success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    let p0 = srv.downloads(&part_name(ASSET, 0));
    assert!(p0.len() >= 2, "{p0:?}");
    assert!(
        p0.iter()
            .skip(1)
            .all(|l| l.status == 206 && l.range.is_some()),
        "{p0:?}"
    );
}

#[test]
fn a_server_without_range_support_restarts_the_part() {
    let fx = Fixture::new();
    let bytes = f::data(2 * MB, 10);
    f::whole_release(&fx.rel(), ASSET, &bytes);
    let srv = Server::start(&fx.rel());
    srv.set(|s| {
        s.honour_range = false;
        s.cut_after = Some((500_000, Cut::Drop));
        s.cut_times = 1;
    });
    fx.fetch(&srv.url()).assert().success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    let d = srv.downloads(ASSET);
    assert_eq!(d.len(), 2, "{d:?}");
    assert_eq!((d[1].status, d[1].range.is_some()), (200, true));
}

#[test]
fn server_errors_and_429_are_retried_honouring_retry_after() {
    let fx = Fixture::new();
    let bytes = f::data(MB, 11);
    f::json_release(&fx.rel(), ASSET, &bytes, MB / 2);
    let srv = Server::start(&fx.rel());
    srv.set(|s| {
        s.status
            .insert(format!("/{}", part_name(ASSET, 0)), (503, 2, None));
        s.status.insert(
            format!("/{}", part_name(ASSET, 1)),
            (429, 1, Some("1".into())),
        );
    });
    let start = std::time::Instant::now();
    fx.fetch(&srv.url()).assert().success();
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 honoured"
    );
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);

    // The HTTP-date form: wait until that moment (whole seconds, so 2-3 s from now).
    let fx = Fixture::new();
    f::json_release(&fx.rel(), ASSET, &bytes, MB / 2);
    let srv = Server::start(&fx.rel());
    let at = std::time::SystemTime::now() + Duration::from_secs(3);
    srv.set(|s| {
        s.status.insert(
            format!("/{}", part_name(ASSET, 0)),
            (503, 1, Some(httpdate::fmt_http_date(at))),
        );
    });
    let start = std::time::Instant::now();
    fx.fetch(&srv.url()).assert().success();
    assert!(
        start.elapsed() >= Duration::from_secs(2),
        "Retry-After as an HTTP-date honoured: {:?}",
        start.elapsed()
    );
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);

    // Retries run out: a network failure, exit 1, partial data kept.
    let fx = Fixture::new();
    f::json_release(&fx.rel(), ASSET, &bytes, MB / 2);
    let srv = Server::start(&fx.rel());
    srv.set(|s| {
        s.cut_after = Some((100_000, Cut::Drop));
        s.cut_times = 1;
        s.status
            .insert(format!("/{}", part_name(ASSET, 0)), (503, 1000, None));
    });
    fx.fetch(&srv.url())
        .args(["--retries", "2", "--jobs", "1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("503"))
        .stderr(predicate::str::contains(format!(
            "hint: what was downloaded is kept in {}: run the same command again to resume",
            fx.partial().display()
        )));
    assert!(
        fx.partial().exists(),
        "partial data kept after a network failure"
    );
}

#[test]
fn an_expired_signed_url_is_re_resolved_from_the_original_url() {
    let fx = Fixture::new();
    let bytes = f::data(2 * MB, 12);
    f::whole_release(&fx.rel(), ASSET, &bytes);
    let srv = Server::start(&fx.rel());
    srv.set(|s| {
        s.signed_uses = Some(1);
        s.cut_after = Some((400_000, Cut::Drop));
        s.cut_times = 1;
    });
    fx.fetch(&srv.url()).assert().success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    let log = srv.log();
    let forbidden = log.iter().filter(|l| l.status == 403).count();
    assert!(forbidden >= 1, "the cached signed URL expired: {log:#?}");
    let d = srv.downloads(ASSET);
    assert_eq!(d.len(), 2, "{d:#?}");
    assert!(
        d[1].path.starts_with("/signed/") && d[1].status == 206,
        "{d:#?}"
    );
}

#[test]
fn github_token_is_not_sent_to_other_hosts() {
    let fx = Fixture::new();
    f::whole_release(&fx.rel(), ASSET, b"x");
    let srv = Server::start(&fx.rel());
    fx.fetch(&srv.url())
        .env("GITHUB_TOKEN", "secret")
        .assert()
        .success();
    assert!(
        srv.log().iter().all(|l| l.auth.is_none()),
        "{:?}",
        srv.log()
    );
}

#[test]
fn an_idle_connection_times_out_and_resumes() {
    let fx = Fixture::new();
    let bytes = f::data(MB, 13);
    f::whole_release(&fx.rel(), ASSET, &bytes);
    let srv = Server::start(&fx.rel());
    srv.set(|s| {
        s.cut_after = Some((200_000, Cut::Stall));
        s.cut_times = 1;
    });
    fx.fetch(&srv.url())
        .args(["--read-timeout", "1s"])
        .assert()
        .success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    let d = srv.downloads(ASSET);
    assert_eq!(d.len(), 2);
    assert_eq!(d[1].range.as_deref(), Some("bytes=200000-"));
}

#[test]
fn json_events_stream() {
    let fx = Fixture::new();
    f::json_release(&fx.rel(), ASSET, &f::data(MB, 14), MB / 2);
    let out = fx
        .fetch(fx.rel().to_str().unwrap())
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    // Every line is a library event as it serializes.
    let events: Vec<Event> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert!(
        matches!(events.first(), Some(Event::Planned { parts, .. }) if parts.len() == 2),
        "{events:?}"
    );
    assert!(
        matches!(events.last(), Some(Event::Installed(i)) if i.path == fx.installed()),
        "{events:?}"
    );
    let verified = |e: &&Event| matches!(e, Event::PartVerified { .. });
    assert_eq!(events.iter().filter(verified).count(), 2);
    assert!(events.iter().any(|e| matches!(e, Event::Verified { .. })));

    let fx = Fixture::new();
    let out = fx
        .fetch(fx.rel().to_str().unwrap())
        .arg("--json")
        .assert()
        .code(1);
    let last = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let failed: serde_json::Value = serde_json::from_str(last.lines().last().unwrap()).unwrap();
    assert_eq!(
        (
            failed["event"].as_str(),
            failed["error"]["code"].as_u64(),
            failed["error"]["kind"].as_str()
        ),
        (Some("failed"), Some(1), Some("failure"))
    );
}

#[test]
fn a_proxy_from_the_environment_is_used_and_no_proxy_bypasses_it() {
    let fx = Fixture::new();
    let bytes = f::data(MB, 12);
    f::json_release(&fx.rel(), ASSET, &bytes, MB / 2);
    let srv = Server::start(&fx.rel());
    // `.invalid` never resolves (RFC 6761): only the proxy can answer for that host.
    fx.fetch("http://releases.invalid")
        .env("HTTP_PROXY", srv.url())
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .assert()
        .success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    assert!(!srv.downloads(&part_name(ASSET, 0)).is_empty());

    // NO_PROXY naming the host sends the request straight to it, which cannot resolve.
    let fx = Fixture::new();
    f::json_release(&fx.rel(), ASSET, &bytes, MB / 2);
    let srv = Server::start(&fx.rel());
    fx.fetch("http://releases.invalid")
        .args(["--retries", "0"])
        .env("HTTP_PROXY", srv.url())
        .env("NO_PROXY", "releases.invalid")
        .assert()
        .failure()
        .stderr(predicate::str::contains("releases.invalid"));
    assert!(srv.log().is_empty(), "{:?}", srv.log());
}

/// Parts really download at the same time under `--jobs`: the server sees
/// overlapping bodies, as many as `--jobs` and no more (it holds bodies back until that many
/// are in flight, so a one-at-a-time client would show 1); `--jobs 1` never overlaps.
#[test]
fn parts_download_concurrently_up_to_jobs() {
    for (jobs, gather) in [(2, Some(2)), (1, None)] {
        let fx = Fixture::new();
        let bytes = f::data(4 * MB, 14);
        f::json_release(&fx.rel(), ASSET, &bytes, MB);
        let srv = Server::start(&fx.rel());
        srv.set(|s| {
            s.gather = gather;
            s.trickle = Some((64 * 1024, Duration::from_millis(5)));
        });
        fx.fetch(&srv.url())
            .args(["--jobs", &jobs.to_string()])
            .assert()
            .success();
        assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
        assert_eq!(srv.max_concurrent_bodies(), jobs, "--jobs {jobs}");
    }
}

/// Replacing an install links the previous one aside (`backends/.{asset}.replaced`) so the
/// rename over it does not free its blocks, and unlinks it once the new file is live: a
/// completed install never leaves the aside link, a process killed between link and rename
/// keeps the previous install, one killed after the rename has the new one, and the aside
/// link either leaves is removed by the next fetch (or `remove`).
#[cfg(unix)]
#[test]
fn the_replaced_install_is_unlinked_after_the_rename_and_a_crash_leftover_is_removed() {
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::process::ExitStatusExt;
    let fx = Fixture::new();
    let aside = fx.data().join(format!("backends/.{ASSET}.replaced"));
    let release = |seed: u64| {
        let bytes = f::data(MB + 17, seed);
        f::whole_release(&fx.rel(), ASSET, &bytes);
        bytes
    };
    let killed_at = |step: &str| {
        let status = fx
            .fetch_std(fx.rel().to_str().unwrap())
            .env(voxctl::testhook::CHECKPOINT_ENV, step)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert_eq!(status.signal(), Some(9), "to die at {step}: {status:?}");
    };
    let v1 = release(40);
    fx.fetch(fx.rel().to_str().unwrap()).assert().success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), v1);
    assert!(!aside.exists(), "a first install has nothing to link aside");

    // A completed replacement: the new file installed, no aside link left.
    let v2 = release(41);
    fx.fetch(fx.rel().to_str().unwrap()).assert().success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), v2);
    assert!(
        !aside.exists(),
        "the aside link survived a completed install"
    );

    // Killed after linking aside, before the rename: the previous install is in place,
    // the aside link is the same file; the next fetch installs and removes it.
    let v3 = release(42);
    killed_at("fetch:install:aside");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), v2);
    let (installed, linked) = (
        std::fs::metadata(fx.installed()).unwrap(),
        std::fs::metadata(&aside).unwrap(),
    );
    assert_eq!(
        (installed.ino(), installed.nlink()),
        (linked.ino(), 2),
        "the aside is a second link to the previous install"
    );
    fx.fetch(fx.rel().to_str().unwrap()).assert().success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), v3);
    assert!(!aside.exists(), "the leftover aside link survived a fetch");

    // Killed after the rename: the new file is live, the previous one only linked aside;
    // the next fetch (which installs again: the record was not written) removes it.
    let v4 = release(43);
    killed_at("fetch:install:renamed");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), v4);
    assert_eq!(std::fs::read(&aside).unwrap(), v3);
    assert_eq!(std::fs::metadata(&aside).unwrap().nlink(), 1);
    fx.fetch(fx.rel().to_str().unwrap()).assert().success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), v4);
    assert!(!aside.exists(), "the leftover aside link survived a fetch");

    // A leftover beside a recorded install goes even when nothing is installed.
    std::fs::hard_link(fx.installed(), &aside).unwrap();
    fx.fetch(fx.rel().to_str().unwrap())
        .assert()
        .success()
        .stderr(predicate::str::contains("already installed"));
    assert!(!aside.exists(), "the leftover aside link survived a rerun");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), v4);

    // And `remove` takes a leftover with the install.
    release(44);
    killed_at("fetch:install:renamed");
    assert!(aside.exists());
    support::voxctl(&fx.state())
        .args(["remove", "cuda", "--data-dir"])
        .arg(fx.data())
        .assert()
        .success();
    assert!(!aside.exists(), "remove left the aside link");
    assert!(!fx.installed().exists());
}
