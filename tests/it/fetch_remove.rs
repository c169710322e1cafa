//! `voxctl remove` and a running fetch of the same variant: `remove` takes the fetch's slot
//! (busy, exit 4 naming the fetch, or `--wait` until it ends), so it never deletes a partial
//! download being written or an install being made; and a fetch whose partial directory is
//! removed anyway (by hand) stops with one clear error instead of downloading into a
//! deleted file. Real fetches from a loopback server that holds its bodies part way until
//! the test lets them go.

use crate::support;

use std::io::BufRead;
use std::process::{Child, Stdio};

use support::fetch::{self as f, Fixture, ASSET};
use support::http::Server;
use voxctl::backend::stop::Removed;

const MB: usize = 1 << 20;
/// Where the server holds every part's body.
const HELD_AT: u64 = 256 * 1024;

/// A 4-part release served with every part held at [`HELD_AT`] bytes, and a fetch of it
/// (`--jobs 4`) whose four bodies have reached the hold.
struct HeldFetch {
    fx: Fixture,
    srv: Server,
    bytes: Vec<u8>,
    fetch: Child,
}

impl HeldFetch {
    /// With `trickle`, the server sends bodies in chunks of that many bytes with that pause
    /// between them.
    fn start(trickle: Option<(usize, std::time::Duration)>) -> HeldFetch {
        let fx = Fixture::new();
        let bytes = f::data(4 * MB, 21);
        f::json_release(&fx.rel(), ASSET, &bytes, MB);
        let srv = Server::start(&fx.rel());
        srv.set(|s| {
            s.hold_after = Some(HELD_AT);
            s.trickle = trickle;
        });
        let mut fetch = fx
            .fetch_std(&srv.url())
            .args(["--jobs", "4", "--no-delta"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Every part's body has sent its bytes up to the hold: the fetch holds its slot and
        // is writing its partial download.
        f::wait_until(60, "all four bodies held", || srv.bodies_held() == 4);
        assert!(fetch.try_wait().unwrap().is_none(), "the fetch ended");
        HeldFetch {
            fx,
            srv,
            bytes,
            fetch,
        }
    }

    /// `voxctl remove ...` for the fixture's data dir.
    fn remove(&self) -> std::process::Command {
        let mut cmd = support::voxctl_std(&self.fx.state());
        cmd.arg("remove").arg("--data-dir").arg(self.fx.data());
        cmd
    }

    /// Lets the bodies go and waits for the fetch: (exit code, stderr).
    fn release_and_wait(self) -> (Option<i32>, String, Fixture, Vec<u8>) {
        self.srv.set(|s| s.hold_after = None);
        let out = self.fetch.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stderr).unwrap(),
            self.fx,
            self.bytes,
        )
    }
}

#[test]
fn remove_while_a_fetch_runs_is_busy_naming_it_and_the_fetch_completes() {
    let held = HeldFetch::start(None);
    let pid = held.fetch.id();
    let data_file = held.fx.partial().join(format!("{ASSET}.download"));
    for args in [&["--partial-only", "cuda"][..], &["cuda"][..]] {
        let out = held.remove().args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{args:?}: {err}");
        assert!(
            err.contains(&format!("slot fetch-{ASSET} is busy (held by pid {pid}")),
            "{err}"
        );
        assert!(err.contains("--wait"), "the hint offers --wait: {err}");
    }
    // A bounded wait that runs out is busy too, saying how long it waited.
    for wait in [
        &["-w", "300ms"][..],
        &["--wait", "300ms"][..],
        &["--wait=300ms"][..],
    ] {
        let out = held.remove().arg("cuda").args(wait).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{wait:?}: {err}");
        assert!(err.contains("still held after waiting"), "{wait:?}: {err}");
        assert!(err.contains(&format!("pid {pid}")), "{wait:?}: {err}");
    }
    // The partial download is intact: its directory and data file are there, and the fetch
    // goes on writing them to the end.
    assert!(data_file.is_file());
    let (code, err, fx, bytes) = held.release_and_wait();
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    assert!(!fx.partial().exists());
}

#[test]
fn remove_wait_waits_for_the_running_fetch_and_then_removes_what_it_installed() {
    let held = HeldFetch::start(None);
    let pid = held.fetch.id();
    let mut remove = held
        .remove()
        .args(["--json", "cuda", "--wait"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // It says whom it waits for, once it does.
    let mut stderr = std::io::BufReader::new(remove.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(
        line.starts_with("waiting for the fetch of cuda to end: pid ")
            && line.contains(&pid.to_string()),
        "{line}"
    );
    assert!(remove.try_wait().unwrap().is_none(), "remove did not wait");
    assert!(held.fx.partial().is_dir(), "removed while the fetch ran");
    let (code, err, fx, _) = held.release_and_wait();
    assert_eq!(code, Some(0), "{err}");
    let out = remove.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    // What it removed is what the fetch installed: it ran after the fetch had ended.
    let removed: Removed = support::json_doc(&out.stdout);
    let backends = fx.data().join("backends");
    assert_eq!(
        removed.removed,
        vec![
            backends.join(ASSET),
            backends.join(format!("{ASSET}.install.json"))
        ]
    );
    assert!(!fx.installed().exists());
}

// Deletes the directory while the fetch holds its files open (docs/windows-tests.md).
#[cfg(unix)]
#[test]
fn a_fetch_whose_partial_dir_is_deleted_stops_with_one_clear_error() {
    // The rest of each part trickles in (24 chunks, 30 ms apart): the download goes on for
    // several writeback rounds after the directory is gone, and none of them may warn.
    let held = HeldFetch::start(Some((32 * 1024, std::time::Duration::from_millis(30))));
    // As `rm -rf` would.
    std::fs::remove_dir_all(held.fx.partial()).unwrap();
    let (code, err, fx, _) = held.release_and_wait();
    assert_eq!(code, Some(1), "{err}");
    // Besides what any fetch prints first (its plan, the unauthenticated release's warning):
    // no warning, one error, its hint.
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| !l.starts_with(&format!("{ASSET}: manifest.json layout")))
        .filter(|l| !l.ends_with("the release is not authenticated"))
        .filter(|l| !l.starts_with("  (no public key: "))
        .collect();
    assert_eq!(
        lines,
        [
            format!(
                "voxctl: error: the partial download {} was removed while this fetch was \
                 writing it; nothing was installed",
                fx.partial().display()
            )
            .as_str(),
            "hint: run the same fetch again to download from the start; `voxctl remove \
             --partial-only` clears a partial download without breaking a running fetch",
        ],
        "{err}"
    );
    assert!(!fx.installed().exists());
    assert!(!fx.partial().exists());
}
