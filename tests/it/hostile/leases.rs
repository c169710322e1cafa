//! Hostile-input cases: a hostile `leases/` directory of the file store. A liveness file
//! (`NAME.held.alive` or `NAME.TOKEN.alive`) replaced by a FIFO, a symlink or another file, or deleted, never makes
//! a running holder's lease look abandoned, and never hangs `lease status`/`acquire`; a full
//! disk leaks no liveness file; temporary record files left by a killed writer are removed by
//! the next acquire.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::support::lease::{kill_group, wait_for_line, Spawned};
use crate::support::voxctl_std;

/// Runs `cmd`, failing the test if it is still running after 30 s (a hang on a FIFO).
fn bounded(mut cmd: Command) -> Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = Spawned::spawn(cmd);
    let status = child.wait_timeout(Duration::from_secs(30));
    assert!(status.is_some(), "voxctl hung (still running after 30 s)");
    let mut out = Output {
        status: status.unwrap(),
        stdout: Vec::new(),
        stderr: Vec::new(),
    };
    use std::io::Read;
    child
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut out.stdout)
        .unwrap();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_end(&mut out.stderr)
        .unwrap();
    out
}

fn lease(state: &Path, args: &[&str]) -> Output {
    let mut cmd = voxctl_std(state);
    cmd.arg("lease").args(args);
    bounded(cmd)
}

/// A `lease run job --ttl 1h` whose command runs until the test ends: voxctl and the
/// command's process group are killed on drop.
struct Holder {
    _run: Spawned,
    group: i32,
    /// The liveness file.
    alive: PathBuf,
}

impl Drop for Holder {
    fn drop(&mut self) {
        kill_group(self.group);
    }
}

fn hold(root: &Path, state: &Path) -> Holder {
    let info = root.join("info");
    let mut cmd = voxctl_std(state);
    cmd.args(["lease", "run", "job", "--ttl", "1h", "--", "sh", "-c"])
        .arg(format!(
            "echo $$ $VOXCTL_LEASE_TOKEN > {0}.tmp && mv {0}.tmp {0} && exec sleep 1000",
            info.display()
        ))
        .stdout(Stdio::null());
    let run = Spawned::spawn(cmd);
    let text = wait_for_line(&info, Duration::from_secs(30));
    let mut words = text.split_whitespace();
    let group: i32 = words.next().unwrap().parse().unwrap();
    let _token = words.next().unwrap();
    // The liveness file the record names (the kept `job.held.alive` for a first holder).
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(state.join("leases/job.json")).unwrap()).unwrap();
    let file = record["owner"]["file"].as_str().unwrap();
    assert_eq!(file, "job.held.alive");
    let alive = state.join("leases").join(file);
    assert!(alive.exists(), "{} exists", alive.display());
    Holder {
        _run: run,
        group,
        alive,
    }
}

/// Asserts that `job` still counts as held by its running holder: `status` says held and
/// names the liveness file in a warning, a second `acquire` is busy (exit 4).
fn assert_still_held(state: &Path, alive: &Path) {
    let out = lease(state, &["--json", "status", "job"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["state"], "held", "{doc}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&alive.display().to_string()), "{err}");
    let out = lease(state, &["acquire", "job"]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "a second holder got it: {out:?}"
    );
}

/// The liveness file replaced by a FIFO: `status` and `acquire` neither hang in `open(2)`
/// nor see the lease abandoned.
#[test]
fn a_fifo_at_the_liveness_file_hangs_nothing_and_hands_over_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let h = hold(tmp.path(), &state);
    std::fs::remove_file(&h.alive).unwrap();
    nix::unistd::mkfifo(&h.alive, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    assert_still_held(&state, &h.alive);
}

/// The liveness file replaced by a symlink to an unlocked file, by another unlocked file, or
/// deleted: the holder still runs, so the lease stays held (until its TTL).
#[test]
fn a_replaced_or_deleted_liveness_file_does_not_make_a_live_lease_abandoned() {
    for how in ["symlink", "other file", "deleted"] {
        let tmp = tempfile::tempdir().unwrap();
        let state = tmp.path().join("state");
        let h = hold(tmp.path(), &state);
        std::fs::remove_file(&h.alive).unwrap();
        match how {
            "symlink" => {
                let decoy = tmp.path().join("decoy");
                std::fs::write(&decoy, "").unwrap();
                std::os::unix::fs::symlink(&decoy, &h.alive).unwrap();
            }
            "other file" => std::fs::write(&h.alive, "").unwrap(),
            _ => {}
        }
        assert_still_held(&state, &h.alive);
    }
}

/// Temporary record files of a writer killed mid-write (`.job.acquire.RANDOM.tmp`) are
/// removed by the next acquire of that lease, which holds the lock every writer holds; files
/// of another lease, or of other shapes, are left alone.
#[test]
fn temp_files_of_a_killed_writer_are_removed_by_the_next_acquire() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let out = lease(&state, &["acquire", "job", "--ttl", "1s"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let dir = state.join("leases");
    let stale = [
        ".job.acquire.AbCdEf012345.tmp",
        ".job.renew.ZZZZZZZZZZZZ.tmp",
        ".job.release.000000000000.tmp",
    ];
    let others = [
        ".other.acquire.AbCdEf012345.tmp",
        ".job.acquire.acquire.AbCdEf012345.tmp",
        ".job.acquire.short.tmp",
    ];
    for n in stale.iter().chain(&others) {
        std::fs::write(dir.join(n), "{").unwrap();
    }
    let out = lease(&state, &["acquire", "job", "--wait", "30s"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    for n in stale {
        assert!(!dir.join(n).exists(), "{n} is left behind");
    }
    for n in others {
        assert!(dir.join(n).exists(), "{n} was removed");
    }
}

/// `lease run` on a full disk: the record cannot be written (exit 1) and the liveness file
/// created just before it is removed again, not leaked.
#[test]
fn a_full_disk_leaks_no_liveness_file() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::set_permissions(
        &state,
        <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o700),
    )
    .unwrap();
    let dir = state.join("leases");
    let _fs = crate::support::Tmpfs::mount(&dir, "64k");
    std::fs::set_permissions(
        &dir,
        <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o700),
    )
    .unwrap();
    // Fill it: the record's write then fails with ENOSPC (empty files still fit).
    let mut filler = std::fs::File::create(dir.join("filler")).unwrap();
    let block = vec![0u8; 4096];
    use std::io::Write;
    while filler.write_all(&block).is_ok() {}
    drop(filler);
    let out = lease(&state, &["run", "job", "--", "true"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".alive") || n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "leaked: {left:?}");
}
