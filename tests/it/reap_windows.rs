//! `voxctl reap` on Windows, where a Chromium/CEF app's profile lock is the profile's
//! `lockfile`, held open without sharing by the running instance and naming no pid. The
//! wedged instance is `fixture_bootloader.exe --hold-lockfile PATH`, which does exactly that
//! and never exits; the relaunch marker names it by pid and creation time.

use crate::support;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use support::restart::{fixture_bin, wait_until};
use support::voxctl;
use voxctl::reap::report::{Report, Verdict};

const FAST: [&str; 4] = ["--teardown-grace", "300ms", "--term-grace", "1s"];

/// Whether opening `path` fails with a sharing violation (another process holds it open
/// without sharing), as voxctl itself decides.
fn held(path: &Path) -> bool {
    voxctl::testhook::held_without_sharing(path).unwrap()
}

/// A process holding a lockfile open without sharing. Dropping it ends the process, so a
/// failed assertion never leaves it running (and holding the test's output open).
struct Holder(Child);

impl Holder {
    fn pid(&self) -> u32 {
        self.0.id()
    }

    fn exited(&mut self) -> bool {
        self.0.try_wait().unwrap().is_some()
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A process holding `lockfile` open without sharing, once it holds it.
fn wedged_holder(lockfile: &Path) -> Holder {
    let child = std::process::Command::new(fixture_bin())
        .arg("--hold-lockfile")
        .arg(lockfile)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let holder = Holder(child);
    assert!(
        wait_until(Duration::from_secs(20), || held(lockfile)),
        "{} never held {}",
        holder.pid(),
        lockfile.display()
    );
    holder
}

fn reap(state: &Path, lockfile: &Path) -> (i32, Report, String) {
    let out = voxctl(state)
        .args(["reap", "--json", "--yes", "--lock"])
        .arg(lockfile)
        .args(FAST)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let doc: Report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not a reap report ({e}); stderr: {stderr}"));
    (out.status.code().unwrap(), doc, stderr)
}

#[test]
fn a_wedged_holder_of_the_profile_lockfile_named_by_a_fresh_marker_is_reaped() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let profile = tmp.path().join("profile");
    std::fs::create_dir(&profile).unwrap();
    let lockfile = profile.join("lockfile");
    let mut holder = wedged_holder(&lockfile);
    let pid = holder.pid();

    // No marker: a held lockfile is a healthy instance; nothing is sent.
    let (code, doc, stderr) = reap(&state, &lockfile);
    assert_eq!(
        (code, doc.decision, doc.reason.as_str()),
        (0, Verdict::Skip, "no_marker"),
        "{stderr}"
    );
    assert!(!holder.exited(), "a healthy holder was ended");
    assert!(held(&lockfile));

    voxctl(&state)
        .args(["reap", "mark", "--pid", &pid.to_string()])
        .assert()
        .success();
    let (code, doc, stderr) = reap(&state, &lockfile);
    assert_eq!((code, doc.decision), (0, Verdict::Reap), "{stderr}");
    assert!(
        wait_until(Duration::from_secs(20), || holder.exited()),
        "the wedged holder {pid} outlived reap"
    );
    assert!(!held(&lockfile), "the lockfile is still held");
}

/// The marker names a process that has exited since (its pid may even be reused): the
/// lockfile's holder is someone else, alive, and stays so.
#[test]
fn a_marker_naming_an_exited_process_reaps_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let lockfile = tmp.path().join("lockfile");
    let mut holder = wedged_holder(&lockfile);
    let gone = wedged_holder(&tmp.path().join("other-lockfile"));
    voxctl(&state)
        .args(["reap", "mark", "--pid", &gone.pid().to_string()])
        .assert()
        .success();
    drop(gone);
    let (code, doc, stderr) = reap(&state, &lockfile);
    assert_eq!(
        (code, doc.decision, doc.reason.as_str()),
        (0, Verdict::Skip, "holder_gone"),
        "{stderr}"
    );
    assert!(!holder.exited(), "the live holder was ended");
    assert!(held(&lockfile));
}

#[test]
fn a_free_lockfile_has_no_holder() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let lockfile = tmp.path().join("lockfile");
    std::fs::write(&lockfile, "").unwrap();
    let (code, doc, stderr) = reap(&state, &lockfile);
    assert_eq!((code, doc.reason.as_str()), (0, "no_holder"), "{stderr}");
}
