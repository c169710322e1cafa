//! Hostile-input cases: hostile releases: archives, manifests, sums files, part lists.

/// Release files read with caps, regular files only (issue 10 items 4 and 11): an oversized
/// manifest exits 3 (it exited 1), a FIFO or `/dev/zero` in a release never hangs or fills
/// memory, and a sums file the user names may still be a pipe.
mod capped_release_files {
    use std::path::Path;
    use std::process::{Command, Output};
    use std::time::Duration;

    use crate::support::fetch::{data, json_release, whole_release, Fixture, ASSET};
    use crate::support::http::Server;
    use crate::support::lease::Spawned;
    use voxctl::manifest::json_manifest_name;

    /// Runs `cmd` to its end, failing the test if it has not exited after 60 s.
    fn run_bounded(mut cmd: Command) -> Output {
        use std::io::Read;
        cmd.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = Spawned::spawn(cmd);
        let status = child
            .wait_timeout(Duration::from_secs(60))
            .expect("voxctl hung (still running after 60 s)");
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        child
            .0
            .stdout
            .take()
            .unwrap()
            .read_to_end(&mut stdout)
            .unwrap();
        child
            .0
            .stderr
            .take()
            .unwrap()
            .read_to_end(&mut stderr)
            .unwrap();
        Output {
            status,
            stdout,
            stderr,
        }
    }

    fn assert_exit_naming(out: &Output, code: i32, what: &str) {
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{out:?}");
        assert!(err.contains(what), "stderr does not name {what}: {err}");
    }

    /// A JSON manifest that starts well and then goes on for `n` bytes of spaces.
    fn huge_manifest(path: &Path, n: usize) {
        let mut big = b"{\"format\": \"voxctl-split\"".to_vec();
        big.resize(n, b' ');
        std::fs::write(path, big).unwrap();
    }

    /// Item 11: a 2 MiB manifest exited 1 from a directory and over HTTP; it is a bad
    /// release, exit 3, naming the file or URL.
    #[test]
    fn oversized_manifest_exits_3_from_a_directory_and_over_http() {
        let fx = Fixture::new();
        json_release(&fx.rel(), ASSET, &data(4096, 3), 1024);
        let manifest = fx.rel().join(json_manifest_name(ASSET));
        huge_manifest(&manifest, 2 << 20);
        let out = run_bounded(fx.fetch_std(fx.rel().to_str().unwrap()));
        assert_exit_naming(&out, 3, &manifest.display().to_string());
        assert!(String::from_utf8_lossy(&out.stderr).contains("larger than"));

        let srv = Server::start(&fx.rel());
        let out = run_bounded(fx.fetch_std(&srv.url()));
        assert_exit_naming(&out, 3, &json_manifest_name(ASSET));
        assert!(String::from_utf8_lossy(&out.stderr).contains("larger than"));
        assert!(!fx.installed().exists());

        let mut verify = crate::support::voxctl_std(&fx.state());
        verify.arg("verify").arg("--manifest").arg(&manifest);
        assert_exit_naming(&run_bounded(verify), 3, &manifest.display().to_string());
    }

    /// Item 4: a `.sha256` that is a FIFO made fetch hang (holding the fetch slot); a
    /// manifest that is a symlink to `/dev/zero` made it allocate without bound. Both are
    /// refused at once: a release holds regular files only (exit 3).
    #[test]
    fn fifo_checksum_and_dev_zero_manifest_in_a_release_are_refused() {
        let fx = Fixture::new();
        whole_release(&fx.rel(), ASSET, &data(4096, 4));
        let sums = fx.rel().join(format!("{ASSET}.sha256"));
        std::fs::remove_file(&sums).unwrap();
        nix::unistd::mkfifo(&sums, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
        let out = run_bounded(fx.fetch_std(fx.rel().to_str().unwrap()));
        assert_exit_naming(&out, 3, &sums.display().to_string());

        let manifest = fx.rel().join(json_manifest_name(ASSET));
        std::os::unix::fs::symlink("/dev/zero", &manifest).unwrap();
        let out = run_bounded(fx.fetch_std(fx.rel().to_str().unwrap()));
        assert_exit_naming(&out, 3, &manifest.display().to_string());
        assert!(!fx.installed().exists());
    }

    /// Item 4: `verify -c` read a sums file whole; `/dev/zero` filled memory. Now it is read
    /// up to the documented cap and refused (exit 3) naming it, while a pipe the user names
    /// (`<(...)`, as sha256sum allows) still works.
    #[test]
    fn verify_sums_file_is_capped_but_pipes_still_work() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        std::fs::write(&file, b"hello\n").unwrap();
        // An absolute name: how relative names resolve is not what this test is about.
        let line = voxctl::checksum::format_line(
            &voxctl::checksum::Sha256::of(b"hello\n"),
            file.to_str().unwrap(),
        );
        let zero = tmp.path().join("zero.sha256");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let mut cmd = crate::support::voxctl_std(&tmp.path().join("state"));
        cmd.current_dir(tmp.path())
            .args(["verify", "-c"])
            .arg(&zero);
        let out = run_bounded(cmd);
        assert_exit_naming(&out, 3, &zero.display().to_string());
        assert!(String::from_utf8_lossy(&out.stderr).contains("larger than"));

        let mut cmd = Command::new("bash");
        cmd.current_dir(tmp.path())
            .env("VOXCTL_STATE_DIR", tmp.path().join("state"))
            .env("LINE", line.trim_end())
            .arg("-c")
            .arg(format!(
                "exec {} verify -c <(printf '%s\\n' \"$LINE\")",
                crate::support::bin().display()
            ));
        let out = run_bounded(cmd);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("f: OK"),
            "{out:?}"
        );
    }
}
