//! `voxctl fetch` across processes: SIGKILL and resume, SIGINT (exit 130, partial data kept,
//! slot released), 16 concurrent fetches of one asset (each part downloaded once; losers exit
//! 4, or 0 with `--wait`), and a `--wait`er taking over from a holder that died.

use crate::support;

use std::process::{Child, Stdio};
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use support::fetch::{self as f, Fixture, ASSET};
use support::http::Server;
use voxctl::manifest::part_name;

const MB: usize = 1 << 20;

fn signal(child: &Child, sig: Signal) {
    kill(Pid::from_raw(child.id() as i32), sig).unwrap();
}

fn spawn(fx: &Fixture, srv: &Server, extra: &[&str]) -> Child {
    fx.fetch_std(&srv.url())
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// A 2-part release of 2 x 2 MiB served slowly (32 KiB every 20 ms per connection, about
/// 1.6 MB/s, so a part takes over a second).
fn slow_release(seed: u64) -> (Fixture, Server, Vec<u8>) {
    let fx = Fixture::new();
    let bytes = f::data(4 * MB, seed);
    f::json_release(&fx.rel(), ASSET, &bytes, 2 * MB);
    let srv = Server::start(&fx.rel());
    srv.set(|s| s.trickle = Some((32 * 1024, Duration::from_millis(20))));
    (fx, srv, bytes)
}

fn ranged_downloads(srv: &Server) -> usize {
    (0..2)
        .flat_map(|i| srv.downloads(&part_name(ASSET, i)))
        .filter(|l| l.status == 206 && l.range.is_some())
        .count()
}

#[test]
fn sigkill_mid_part_then_rerun_resumes_with_range() {
    let (fx, srv, bytes) = slow_release(21);
    let mut child = spawn(&fx, &srv, &[]);
    f::wait_until(30, "partial data", || {
        f::partial_bytes(&fx.partial()) >= 256 * 1024
    });
    signal(&child, Signal::SIGKILL);
    child.wait().unwrap();
    assert!(!fx.installed().exists());
    srv.set(|s| s.trickle = None);
    fx.fetch(&srv.url()).assert().success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    assert!(ranged_downloads(&srv) >= 1, "{:#?}", srv.log());
}

#[test]
fn sigint_exits_130_keeps_partial_data_and_releases_the_slot() {
    let (fx, srv, bytes) = slow_release(22);
    let mut child = spawn(&fx, &srv, &[]);
    f::wait_until(30, "partial data", || {
        f::partial_bytes(&fx.partial()) >= 256 * 1024
    });
    signal(&child, Signal::SIGINT);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    // It stopped instead of finishing the download (no clock needed to tell).
    assert!(!fx.installed().exists(), "stopped before installing");
    let kept = f::partial_bytes(&fx.partial());
    assert!(kept >= 256 * 1024, "partial data kept ({kept} bytes)");
    // The slot is free again: a rerun proceeds and resumes.
    srv.set(|s| s.trickle = None);
    fx.fetch(&srv.url()).assert().success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    assert!(ranged_downloads(&srv) >= 1);
}

#[test]
fn sixteen_concurrent_fetches_download_each_part_once() {
    // With --wait: all exit 0.
    let (fx, srv, bytes) = slow_release(23);
    let children: Vec<_> = (0..16).map(|_| spawn(&fx, &srv, &["--wait"])).collect();
    for mut c in children {
        assert_eq!(c.wait().unwrap().code(), Some(0));
    }
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    for i in 0..2 {
        assert_eq!(srv.downloads(&part_name(ASSET, i)).len(), 1, "part {i}");
    }

    // Without --wait: one wins, the others exit 4 (busy) and download nothing. The winner is
    // started first and frozen (SIGSTOP) while it holds the slot, so the other 15 meet it
    // whatever the machine's load (a late starter could otherwise find it installed).
    let (fx, srv, bytes) = slow_release(24);
    let mut winner = spawn(&fx, &srv, &[]);
    f::wait_until(60, "partial data", || f::partial_bytes(&fx.partial()) > 0);
    signal(&winner, Signal::SIGSTOP);
    let losers: Vec<_> = (0..15).map(|_| spawn(&fx, &srv, &[])).collect();
    let codes: Vec<i32> = losers
        .into_iter()
        .map(|mut c| c.wait().unwrap().code().unwrap())
        .collect();
    assert!(codes.iter().all(|c| *c == 4), "{codes:?}");
    signal(&winner, Signal::SIGCONT);
    assert_eq!(winner.wait().unwrap().code(), Some(0));
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    for i in 0..2 {
        assert_eq!(srv.downloads(&part_name(ASSET, i)).len(), 1, "part {i}");
    }
}

#[test]
fn busy_message_names_the_holder() {
    let (fx, srv, _) = slow_release(25);
    let mut holder = spawn(&fx, &srv, &[]);
    f::wait_until(30, "partial data", || f::partial_bytes(&fx.partial()) > 0);
    let out = fx.fetch(&srv.url()).assert().code(4);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains(&format!("pid {}", holder.id())), "{stderr}");
    assert!(stderr.contains("--wait"), "{stderr}");
    signal(&holder, Signal::SIGKILL);
    holder.wait().unwrap();
}

#[test]
fn a_waiter_takes_over_when_the_holder_dies_and_resumes() {
    let (fx, srv, bytes) = slow_release(26);
    let mut holder = spawn(&fx, &srv, &[]);
    f::wait_until(30, "partial data", || {
        f::partial_bytes(&fx.partial()) >= 256 * 1024
    });
    let mut waiter = fx
        .fetch_std(&srv.url())
        .args(["--wait", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The holder dies only once the waiter says it is waiting for it.
    let mut stdout = String::new();
    let mut lines = std::io::BufReader::new(waiter.stdout.take().unwrap());
    while !stdout.contains("\"event\":\"waiting\"") {
        let n = std::io::BufRead::read_line(&mut lines, &mut stdout).unwrap();
        assert!(n > 0, "the waiter ended without waiting: {stdout}");
    }
    signal(&holder, Signal::SIGKILL);
    holder.wait().unwrap();
    srv.set(|s| s.trickle = None);
    std::io::Read::read_to_string(&mut lines, &mut stdout).unwrap();
    let status = waiter.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("\"event\":\"installed\""), "{stdout}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    assert!(
        ranged_downloads(&srv) >= 1,
        "the waiter resumed the holder's data"
    );
}

/// The resume record's per-part byte counts (`progress.json`), empty while there is none.
fn recorded(fx: &Fixture) -> Vec<u64> {
    std::fs::read(fx.partial().join("progress.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| {
            v["received"]
                .as_array()
                .map(|a| a.iter().filter_map(|n| n.as_u64()).collect())
        })
        .unwrap_or_default()
}

/// Flips the byte at `offset` of the partial data file.
fn corrupt(fx: &Fixture, offset: u64) {
    use std::os::unix::fs::FileExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(fx.partial().join(format!("{ASSET}.download")))
        .unwrap();
    let mut b = [0u8];
    file.read_exact_at(&mut b, offset).unwrap();
    file.write_all_at(&[b[0] ^ 0xff], offset).unwrap();
}

/// A resume re-hashes the bytes its record says are on disk instead of
/// trusting them. Part 0's recorded bytes are corrupted on disk after a SIGKILL: the rerun
/// finds the mismatch, downloads part 0 again from its start, and installs the verified
/// file; part 1's intact bytes are kept (only Range requests for it). In a layout without
/// part digests the whole-file digest catches it: exit 3, nothing installed, and the next
/// run starts clean and installs.
#[test]
fn a_resume_rehashes_the_recorded_bytes_and_never_installs_corrupt_data() {
    let (fx, srv, bytes) = slow_release(27);
    let mut child = spawn(&fx, &srv, &[]);
    f::wait_until(60, "recorded bytes of both parts", || {
        recorded(&fx).iter().filter(|n| **n >= 64 * 1024).count() == 2
    });
    signal(&child, Signal::SIGKILL);
    child.wait().unwrap();
    let rec = recorded(&fx);
    corrupt(&fx, rec[0] / 2);
    let before = srv.log().len();
    srv.set(|s| s.trickle = None);
    fx.fetch(&srv.url()).assert().success();
    assert_eq!(
        std::fs::read(fx.installed()).unwrap(),
        bytes,
        "verified data"
    );
    let after = |i: usize| -> Vec<_> {
        let want = format!("/{}", part_name(ASSET, i));
        srv.log()[before..]
            .iter()
            .filter(|l| l.method == "GET" && l.path == want)
            .cloned()
            .collect()
    };
    let p0 = after(0);
    assert!(
        p0.iter().any(|l| l.range.is_none()),
        "part 0 downloaded again from its start: {p0:#?}"
    );
    let p1 = after(1);
    assert!(
        !p1.is_empty() && p1.iter().all(|l| l.range.is_some()),
        "part 1's intact bytes kept: {p1:#?}"
    );

    // voicebox v1: no part digests, the whole-file SHA-256 decides.
    let fx = Fixture::new();
    f::v1_release(&fx.rel(), ASSET, &bytes, 2 * MB);
    let srv = Server::start(&fx.rel());
    srv.set(|s| s.trickle = Some((32 * 1024, Duration::from_millis(20))));
    let mut child = spawn(&fx, &srv, &[]);
    f::wait_until(60, "recorded bytes of part 0", || {
        recorded(&fx).first().is_some_and(|n| *n >= 64 * 1024)
    });
    signal(&child, Signal::SIGKILL);
    child.wait().unwrap();
    corrupt(&fx, recorded(&fx)[0] / 2);
    srv.set(|s| s.trickle = None);
    fx.fetch(&srv.url())
        .assert()
        .code(3)
        .stderr(predicates::str::contains("SHA-256"));
    assert!(!fx.installed().exists(), "never a corrupt install");
    assert!(
        !fx.partial().exists(),
        "the corrupt partial data is removed"
    );
    fx.fetch(&srv.url()).assert().success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
}
