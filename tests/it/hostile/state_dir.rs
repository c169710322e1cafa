//! Hostile-input cases: a hostile state dir or data dir: planted symlinks, FIFOs, huge records, wrong owners and modes.

// --- planted links, FIFOs, huge records, wrong modes, tokens ---
/// Planted symlinks, FIFOs, huge records, wrong modes and saturated tokens,
/// in a module of their own so their imports stay out of the way of other cases.
mod planted_and_capped {
    use std::os::unix::fs::PermissionsExt;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Output};
    use std::time::Duration;

    use crate::support::fetch::{whole_release, Fixture, ASSET};
    use crate::support::lease::Spawned;
    use crate::support::voxctl_std;

    /// A private directory (mode 0700, as voxctl creates them), whatever the umask.
    fn private_dir(path: &Path) -> PathBuf {
        std::fs::create_dir_all(path).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).unwrap();
        path.to_path_buf()
    }

    /// A state dir with `slots/` and `leases/` made as voxctl makes them.
    fn state_dir(root: &Path) -> PathBuf {
        let state = private_dir(&root.join("state"));
        private_dir(&state.join("slots"));
        private_dir(&state.join("leases"));
        state
    }

    /// A file outside the state dir that nothing may write: content "precious\n".
    fn canary(root: &Path) -> PathBuf {
        let path = root.join("canary");
        std::fs::write(&path, "precious\n").unwrap();
        path
    }

    /// Runs `cmd` to its end, failing the test if it has not exited after 60 s (a hang, e.g.
    /// opening a FIFO); the child is killed then.
    fn run_bounded(cmd: Command) -> Output {
        let mut cmd = cmd;
        cmd.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = Spawned::spawn(cmd);
        let status = child.wait_timeout(Duration::from_secs(60));
        assert!(status.is_some(), "voxctl hung (still running after 60 s)");
        let mut out = Output {
            status: status.unwrap(),
            stdout: Vec::new(),
            stderr: Vec::new(),
        };
        use std::io::Read;
        if let Some(mut s) = child.0.stdout.take() {
            s.read_to_end(&mut out.stdout).unwrap();
        }
        if let Some(mut s) = child.0.stderr.take() {
            s.read_to_end(&mut out.stderr).unwrap();
        }
        out
    }

    fn stderr(out: &Output) -> String {
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// Asserts exit `code` and a message naming `path`.
    fn assert_exit_naming(out: &Output, code: i32, path: &Path) {
        assert_eq!(out.status.code(), Some(code), "{out:?}");
        assert!(
            stderr(out).contains(&path.display().to_string()),
            "stderr does not name {}: {}",
            path.display(),
            stderr(out)
        );
    }

    fn lease(state: &Path, args: &[&str]) -> Output {
        let mut cmd = voxctl_std(state);
        cmd.arg("lease").args(args);
        run_bounded(cmd)
    }

    /// A symlink planted at `slots/NAME.lock` must not make `fetch` truncate its target and
    /// write the holder's JSON into it: the open refuses the link (exit 5, naming the path) and
    /// the target is untouched.
    #[test]
    fn planted_symlink_at_a_slot_lock_is_refused_and_its_target_untouched() {
        let fx = Fixture::new();
        whole_release(&fx.rel(), ASSET, &crate::support::fetch::data(4096, 7));
        let state = state_dir(fx.tmp.path());
        let canary = canary(fx.tmp.path());
        let lock = state.join(format!("slots/fetch-{ASSET}.lock"));
        std::os::unix::fs::symlink(&canary, &lock).unwrap();
        let out = run_bounded(fx.fetch_std(fx.rel().to_str().unwrap()));
        assert_exit_naming(&out, 5, &lock);
        assert_eq!(std::fs::read_to_string(&canary).unwrap(), "precious\n");
        assert!(
            !fx.installed().exists(),
            "nothing installed past a refused slot"
        );
    }

    /// `leases/x.lock` pointing at a missing path must not make `lease acquire` create it.
    #[test]
    fn lease_lock_symlink_to_a_missing_path_creates_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let state = state_dir(tmp.path());
        let target = tmp.path().join("created-through-the-link");
        let lock = state.join("leases/x.lock");
        std::os::unix::fs::symlink(&target, &lock).unwrap();
        let out = lease(&state, &["acquire", "x"]);
        assert_exit_naming(&out, 5, &lock);
        assert!(!target.exists(), "{} was created", target.display());
    }

    /// A temporary file with a fixed name (`.x.acquire.tmp`) would let a symlink planted there
    /// get its target overwritten with the lease JSON, and then be renamed into place as the
    /// record. Temporary files are created O_EXCL under unpredictable names.
    #[test]
    fn symlink_at_the_old_fixed_lease_temp_name_is_never_written_through() {
        let tmp = tempfile::tempdir().unwrap();
        let state = state_dir(tmp.path());
        let canary = canary(tmp.path());
        for op in ["acquire", "renew", "release"] {
            std::os::unix::fs::symlink(&canary, state.join(format!("leases/.x.{op}.tmp"))).unwrap();
        }
        let out = lease(&state, &["acquire", "x", "--ttl", "60s"]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let out = lease(&state, &["renew", "x", "--token", &token]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let out = lease(&state, &["release", "x", "--token", &token]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert_eq!(std::fs::read_to_string(&canary).unwrap(), "precious\n");
        let record = std::fs::symlink_metadata(state.join("leases/x.json")).unwrap();
        assert!(record.file_type().is_file(), "the record is a regular file");
    }

    /// `slots/`, `leases/` and `logs/`-like subdirectories are checked like the state
    /// dir: a symlink to a directory, or a group-writable one, is refused (exit 5) naming it.
    #[test]
    fn state_subdirectories_of_the_wrong_type_or_mode_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let state = private_dir(&tmp.path().join("state"));
        let elsewhere = private_dir(&tmp.path().join("elsewhere"));
        let leases = state.join("leases");
        std::os::unix::fs::symlink(&elsewhere, &leases).unwrap();
        let out = lease(&state, &["acquire", "x"]);
        assert_exit_naming(&out, 5, &leases);
        assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);

        std::fs::remove_file(&leases).unwrap();
        std::fs::create_dir(&leases).unwrap();
        std::fs::set_permissions(&leases, std::fs::Permissions::from_mode(0o770)).unwrap();
        let out = lease(&state, &["acquire", "x"]);
        assert_exit_naming(&out, 5, &leases);

        let slots = state.join("slots");
        std::fs::write(&slots, "").unwrap(); // a file where a directory belongs
        let mut cmd = voxctl_std(&state);
        cmd.arg("status");
        let out = run_bounded(cmd);
        assert_exit_naming(&out, 5, &slots);
    }

    /// `backend.json` and `relaunch-marker.json` that are FIFOs or symlinks to `/dev/zero`
    /// must not make voxctl hang or allocate without bound, nor a 2 MiB `backend.json` be read
    /// whole: wrong type -> exit 5 naming the file, over the 1 MiB cap -> exit 1 naming it.
    #[test]
    fn backend_record_fifo_dev_zero_and_oversize_are_refused_without_hanging() {
        let tmp = tempfile::tempdir().unwrap();
        let state = state_dir(tmp.path());
        let record = state.join("backend.json");
        let status = || {
            let mut cmd = voxctl_std(&state);
            cmd.arg("status");
            run_bounded(cmd)
        };

        nix::unistd::mkfifo(&record, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        assert_exit_naming(&status(), 5, &record);
        std::fs::remove_file(&record).unwrap();

        std::os::unix::fs::symlink("/dev/zero", &record).unwrap();
        assert_exit_naming(&status(), 5, &record);
        std::fs::remove_file(&record).unwrap();

        // Valid JSON start, then 2 MiB of spaces: only a reader without a cap gets to the end.
        let mut big = b"{\"pid\": 1".to_vec();
        big.resize(2 << 20, b' ');
        std::fs::write(&record, &big).unwrap();
        std::fs::set_permissions(&record, std::fs::Permissions::from_mode(0o600)).unwrap();
        let out = status();
        assert_exit_naming(&out, 1, &record);
        assert!(stderr(&out).contains("larger than"), "{}", stderr(&out));

        // Readable by the user but group-writable: refused like the state dir itself.
        std::fs::write(&record, b"{}").unwrap();
        std::fs::set_permissions(&record, std::fs::Permissions::from_mode(0o620)).unwrap();
        assert_exit_naming(&status(), 5, &record);
    }

    /// A relaunch marker that is a FIFO, or a pidfile that is a FIFO or `/dev/zero`, must not
    /// make `reap` hang: each is refused (exit 5) naming the file, at once.
    #[test]
    fn reap_refuses_fifo_markers_and_pidfiles_instead_of_hanging() {
        let tmp = tempfile::tempdir().unwrap();
        let state = state_dir(tmp.path());
        let pidfile = tmp.path().join("app.pid");
        std::fs::write(&pidfile, format!("{}\n", std::process::id())).unwrap();
        let marker = state.join("relaunch-marker.json");
        nix::unistd::mkfifo(&marker, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let reap = |pidfile: &Path| {
            let mut cmd = voxctl_std(&state);
            cmd.args(["reap", "--dry-run", "--pidfile"]).arg(pidfile);
            run_bounded(cmd)
        };
        assert_exit_naming(&reap(&pidfile), 5, &marker);
        std::fs::remove_file(&marker).unwrap();

        let fifo = tmp.path().join("fifo.pid");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        assert_exit_naming(&reap(&fifo), 5, &fifo);
        let zero = tmp.path().join("zero.pid");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert_exit_naming(&reap(&zero), 5, &zero);
        let big = tmp.path().join("big.pid");
        std::fs::write(&big, vec![b' '; 2 << 20]).unwrap();
        let out = reap(&big);
        assert_exit_naming(&out, 1, &big);
        assert!(stderr(&out).contains("larger than"), "{}", stderr(&out));
    }

    /// A lease record that is a symlink to `/dev/zero` (or a FIFO) must not make a lease
    /// command allocate or hang: refused, exit 5, naming the record.
    #[test]
    fn lease_record_symlink_to_dev_zero_or_fifo_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let state = state_dir(tmp.path());
        let record = state.join("leases/x.json");
        std::os::unix::fs::symlink("/dev/zero", &record).unwrap();
        assert_exit_naming(&lease(&state, &["acquire", "x"]), 5, &record);
        assert_exit_naming(&lease(&state, &["status", "x"]), 5, &record);
        std::fs::remove_file(&record).unwrap();
        nix::unistd::mkfifo(&record, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        assert_exit_naming(&lease(&state, &["list"]), 5, &record);
    }

    /// The data dir's `backends/` must be this user's and not world-writable; a
    /// symlinked `.partial/` is refused rather than written through.
    #[test]
    fn world_writable_backends_and_symlinked_partial_dir_are_refused() {
        let fx = Fixture::new();
        whole_release(&fx.rel(), ASSET, &crate::support::fetch::data(4096, 9));
        let backends = fx.data().join("backends");
        std::fs::create_dir_all(&backends).unwrap();
        std::fs::set_permissions(&backends, std::fs::Permissions::from_mode(0o777)).unwrap();
        let out = run_bounded(fx.fetch_std(fx.rel().to_str().unwrap()));
        assert_exit_naming(&out, 5, &backends);
        assert!(!fx.installed().exists());

        // Group-writable (umask 002) is fine.
        std::fs::set_permissions(&backends, std::fs::Permissions::from_mode(0o775)).unwrap();
        let elsewhere = private_dir(&fx.tmp.path().join("elsewhere"));
        let partial = backends.join(".partial");
        std::os::unix::fs::symlink(&elsewhere, &partial).unwrap();
        let out = run_bounded(fx.fetch_std(fx.rel().to_str().unwrap()));
        assert_exit_naming(&out, 5, &partial);
        assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);

        std::fs::remove_file(&partial).unwrap();
        let out = run_bounded(fx.fetch_std(fx.rel().to_str().unwrap()));
        assert_eq!(out.status.code(), Some(0), "{out:?}");
    }

    /// With a record at `u64::MAX - 1`, a saturating add would give two acquires the same
    /// `u64::MAX`, and the stale holder could renew and release the new holder's lease. The
    /// first gets `u64::MAX` and the next acquire fails (exit 1) naming the lease, whatever the
    /// record holds.
    #[test]
    fn fencing_tokens_never_repeat_at_u64_max() {
        let tmp = tempfile::tempdir().unwrap();
        let state = state_dir(tmp.path());
        let out = lease(&state, &["acquire", "sat", "--ttl", "60s"]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert_eq!(
            lease(&state, &["release", "sat", "--token", &token])
                .status
                .code(),
            Some(0)
        );

        let path = state.join("leases/sat.json");
        let set_token = |t: u64| {
            let mut rec: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            rec["token"] = t.into();
            std::fs::write(&path, serde_json::to_vec(&rec).unwrap()).unwrap();
        };
        set_token(u64::MAX - 1);
        let out = lease(&state, &["acquire", "sat", "--ttl", "60s"]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let max = u64::MAX.to_string();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), max);
        assert_eq!(
            lease(&state, &["release", "sat", "--token", &max])
                .status
                .code(),
            Some(0)
        );

        let out = lease(&state, &["acquire", "sat", "--ttl", "60s"]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "a second u64::MAX was issued: {out:?}"
        );
        assert!(stderr(&out).contains("lease sat"), "{}", stderr(&out));
        // The stale holder of u64::MAX cannot have been handed the lease again.
        let out = lease(&state, &["renew", "sat", "--token", &max]);
        assert_ne!(out.status.code(), Some(0), "{out:?}");

        // Whatever the record says: a record holding u64::MAX itself fails the same way.
        set_token(u64::MAX);
        let out = lease(&state, &["acquire", "sat"]);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
    }
}
