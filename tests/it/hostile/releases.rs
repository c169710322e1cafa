//! Hostile-input cases: hostile releases: archives, manifests, sums files, part lists.

mod archives {
    //! `.tar.gz` releases that try to put
    //! something outside `backends/{variant}/`, carry what is not a file, a directory or a
    //! link, replace a working install with nothing, or expand without bound.

    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::path::Path;
    use std::process::Command;

    use predicates::prelude::*;

    use crate::support::fetch::{self as f, Entry, Fixture, ASSET};

    const EXE: Entry<'static> = Entry::File(ASSET, 0o755, b"#!/bin/sh\necho 0.3.0\n");

    /// `fetch --variant cuda` from the release directory.
    fn fetch(fx: &Fixture) -> assert_cmd::Command {
        fx.fetch(fx.rel().to_str().unwrap())
    }

    fn installed_dir(fx: &Fixture) -> std::path::PathBuf {
        fx.data().join("backends/cuda")
    }

    /// What the data dir holds besides the partial-data dir, as sorted relative paths.
    fn tree(root: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                if rel == "backends/.partial" {
                    continue;
                }
                if e.file_type().unwrap().is_dir() {
                    stack.push(p);
                }
                out.push(rel);
            }
        }
        out.sort();
        out
    }

    /// Asserts that a refused fetch left nothing: no variant dir, no temporary tree, no
    /// partial data, no install record.
    fn assert_nothing_installed(fx: &Fixture, what: &str) {
        let left = tree(&fx.data());
        assert!(
            left.iter().all(|p| p == "backends"),
            "{what}: left behind {left:?}"
        );
        assert!(!fx.partial().exists(), "{what}: partial data kept");
    }

    /// `l -> .` makes `l/l/l` the root, so `l/l/l/esc -> ../../../canary`
    /// leads three levels above it, into the fixture's temporary dir: refused with exit 3,
    /// whether the canary exists or not, and nothing installed.
    #[test]
    fn a_link_chain_through_an_extracted_link_cannot_leave_the_directory() {
        for canary_exists in [false, true] {
            let fx = Fixture::new();
            let canary = fx.tmp.path().join("canary");
            if canary_exists {
                std::fs::write(&canary, b"mine").unwrap();
            }
            f::archive_release(
                &fx.rel(),
                ASSET,
                &[
                    EXE,
                    Entry::Symlink("l", "."),
                    Entry::Symlink("l/l/l/esc", "../../../canary"),
                ],
            );
            fetch(&fx)
                .assert()
                .code(3)
                .stderr(predicate::str::contains("l/l/l/esc -> ../../../canary"))
                .stderr(predicate::str::contains("leaves the directory"));
            assert_nothing_installed(&fx, &format!("canary exists: {canary_exists}"));
            if canary_exists {
                assert_eq!(std::fs::read(&canary).unwrap(), b"mine");
            } else {
                assert!(std::fs::symlink_metadata(&canary).is_err());
            }
        }
    }

    /// Links are judged again once everything is out, since a later entry changes
    /// where an earlier link leads (`x -> d/..` is inside until `d -> .` arrives).
    /// The final check walks subdirectories too: `sub/x -> ../d/..` is inside until `d -> .`
    /// arrives.
    #[test]
    fn a_link_made_to_escape_by_a_later_entry_is_refused() {
        let cases = [
            ("x", "d/..", "link x -> d/.. leaves the directory"),
            (
                "sub/x",
                "../d/..",
                "link sub/x -> ../d/.. leaves the directory",
            ),
        ];
        for (link, target, says) in cases {
            let fx = Fixture::new();
            f::archive_release(
                &fx.rel(),
                ASSET,
                &[EXE, Entry::Symlink(link, target), Entry::Symlink("d", ".")],
            );
            fetch(&fx)
                .assert()
                .code(3)
                .stderr(predicate::str::contains(says));
            assert_nothing_installed(&fx, link);
        }
    }

    /// An entry whose path goes through an extracted link that leads up (`l/l/up -> ..`,
    /// then `up/file`) is an escaping archive entry, refused as bad release data (exit 3),
    /// not a failure of the extraction (exit 1).
    #[test]
    fn an_escape_caught_during_extraction_exits_3() {
        let fx = Fixture::new();
        f::archive_release(
            &fx.rel(),
            ASSET,
            &[
                EXE,
                Entry::Symlink("l", "."),
                Entry::Symlink("l/l/up", ".."),
                Entry::File("up/file", 0o644, b"x"),
            ],
        );
        fetch(&fx)
            .assert()
            .code(3)
            .stderr(predicate::str::contains(".tar.gz"));
        assert_nothing_installed(&fx, "l/l/up -> ..");
        assert!(!fx.data().join("backends/file").exists());
    }

    /// Only regular files, directories, symlinks and hard links to files extracted
    /// before them are extracted; a FIFO, a device, or a hard link leaving the directory or
    /// pointing at nothing is refused with exit 3.
    #[test]
    fn other_entry_types_and_stray_hard_links_are_refused() {
        let cases: [(&str, Vec<Entry>, &str); 5] = [
            ("fifo", vec![EXE, Entry::Fifo("pipe")], "Fifo"),
            ("device", vec![EXE, Entry::CharDevice("null")], "Char"),
            (
                "hard link out",
                vec![EXE, Entry::HardLink("h", "../../../canary")],
                "escapes the directory",
            ),
            (
                "hard link to nothing",
                vec![EXE, Entry::HardLink("h", "missing")],
                "not a regular file extracted before it",
            ),
            (
                "hard link through a link",
                vec![
                    EXE,
                    Entry::Symlink("up", ".."),
                    Entry::HardLink("h", "up/x"),
                ],
                "leaves the directory",
            ),
        ];
        for (what, entries, says) in cases {
            let fx = Fixture::new();
            f::archive_release(&fx.rel(), ASSET, &entries);
            fetch(&fx)
                .assert()
                .code(3)
                .stderr(predicate::str::contains(says));
            assert_nothing_installed(&fx, what);
        }
    }

    /// Hard links to files extracted before them are made (the decision documented
    /// in README), and modes are normalized: no setuid, setgid or sticky bit, never group-
    /// or world-writable.
    #[test]
    fn hard_links_inside_are_made_and_modes_are_normalized() {
        let fx = Fixture::new();
        f::archive_release(
            &fx.rel(),
            ASSET,
            &[
                Entry::File(ASSET, 0o6777, b"#!/bin/sh\n"),
                Entry::DirMode("lib", 0o1777),
                Entry::File("lib/a.so", 0o666, b"lib"),
                Entry::HardLink("lib/b.so", "./lib/a.so"),
                Entry::DirMode("locked", 0o000),
                Entry::File("locked/x", 0o644, b"x"),
            ],
        );
        fetch(&fx).assert().success();
        let dir = installed_dir(&fx);
        let mode = |p: &str| std::fs::symlink_metadata(dir.join(p)).unwrap().mode() & 0o7777;
        assert_eq!(mode(ASSET), 0o755);
        assert_eq!(mode("lib"), 0o755);
        assert_eq!(mode("lib/a.so"), 0o644);
        assert_eq!(mode("locked"), 0o700);
        let a = std::fs::metadata(dir.join("lib/a.so")).unwrap();
        let b = std::fs::metadata(dir.join("lib/b.so")).unwrap();
        assert_eq!((a.dev(), a.ino()), (b.dev(), b.ino()));
        assert_eq!(std::fs::read(dir.join("lib/b.so")).unwrap(), b"lib");
    }

    /// `tar czf S.tar.gz -C dir .` (real GNU tar) writes `./`, `./S`, `./lib/`, ...:
    /// the most common way to make an archive, and it installs.
    #[test]
    fn an_archive_made_with_tar_c_dir_dot_installs() {
        let fx = Fixture::new();
        let src = fx.tmp.path().join("src");
        std::fs::create_dir_all(src.join("lib")).unwrap();
        std::fs::write(src.join(ASSET), b"#!/bin/sh\necho 0.3.0\n").unwrap();
        std::fs::set_permissions(src.join(ASSET), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(src.join("lib/libcudart.so.12"), b"lib").unwrap();
        let mtime = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
        std::fs::File::options()
            .write(true)
            .open(src.join("lib/libcudart.so.12"))
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        std::os::unix::fs::symlink("libcudart.so.12", src.join("lib/libcudart.so")).unwrap();
        let version = Command::new("tar").arg("--version").output().unwrap();
        assert!(
            String::from_utf8_lossy(&version.stdout).contains("GNU tar"),
            "this test needs GNU tar (.ci/run installs it)"
        );
        std::fs::create_dir_all(fx.rel()).unwrap();
        let archive = fx.rel().join(format!("{ASSET}.tar.gz"));
        let st = Command::new("tar")
            .arg("czf")
            .arg(&archive)
            .arg("-C")
            .arg(&src)
            .arg(".")
            .status()
            .unwrap();
        assert!(st.success());
        let listing = Command::new("tar")
            .arg("tzf")
            .arg(&archive)
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&listing.stdout)
                .lines()
                .any(|l| l == "./"),
            "GNU tar wrote no ./ entry"
        );
        write_sha256(&archive);
        fetch(&fx).assert().success();
        let dir = installed_dir(&fx);
        assert_eq!(std::fs::read(dir.join("lib/libcudart.so")).unwrap(), b"lib");
        assert!(std::fs::metadata(dir.join(ASSET)).unwrap().is_file());
        // Files keep the archive's modification times.
        let got = std::fs::metadata(dir.join("lib/libcudart.so.12"))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(got, mtime);
        // The install record has each file's size and hash, each link's target.
        let record = fx.data().join(format!("backends/{ASSET}.install.json"));
        let record: serde_json::Value =
            serde_json::from_slice(&std::fs::read(record).unwrap()).unwrap();
        let files = record["files"].as_array().unwrap();
        let entry = |path: &str| {
            files
                .iter()
                .find(|f| f["path"] == path)
                .unwrap_or_else(|| panic!("{path} in {files:?}"))
                .clone()
        };
        let lib = entry("lib/libcudart.so.12");
        assert_eq!(lib["size"], 3, "{lib}");
        assert_eq!(
            lib["sha256"].as_str().unwrap(),
            voxctl::checksum::Sha256::of(b"lib").to_string()
        );
        assert_eq!(entry("lib/libcudart.so")["link"], "libcudart.so.12");
    }

    /// Writes `A.sha256` beside the archive `A`, as sha256sum does.
    fn write_sha256(archive: &Path) {
        let bytes = std::fs::read(archive).unwrap();
        let name = archive.file_name().unwrap().to_str().unwrap();
        std::fs::write(
            archive.with_file_name(format!("{name}.sha256")),
            voxctl::checksum::format_line(&voxctl::checksum::Sha256::of(&bytes), name),
        )
        .unwrap();
    }

    /// An empty archive, one without the variant's executable, or one whose
    /// executable is not executable does not replace a working install: exit 3, the old
    /// tree and its install record untouched.
    #[test]
    fn an_archive_without_the_executable_keeps_the_old_install() {
        let fx = Fixture::new();
        f::archive_release(
            &fx.rel(),
            ASSET,
            &[EXE, Entry::File("lib/old.so", 0o644, b"old")],
        );
        fetch(&fx).assert().success();
        let dir = installed_dir(&fx);
        let record = fx.data().join(format!("backends/{ASSET}.install.json"));
        let before = (tree(&fx.data()), std::fs::read(&record).unwrap());
        let cases: [(&str, Vec<Entry>, &str); 3] = [
            ("empty", vec![], "has no"),
            (
                "no executable",
                vec![Entry::File("lib/new.so", 0o644, b"new")],
                "has no",
            ),
            (
                "not executable",
                vec![Entry::File(ASSET, 0o644, b"#!/bin/sh\n")],
                "is not executable",
            ),
        ];
        for (what, entries, says) in cases {
            f::archive_release(&fx.rel(), ASSET, &entries);
            fetch(&fx)
                .assert()
                .code(3)
                .stderr(predicate::str::contains(says))
                .stderr(predicate::str::contains(ASSET));
            assert_eq!(
                (tree(&fx.data()), std::fs::read(&record).unwrap()),
                before,
                "{what}"
            );
            assert_eq!(std::fs::read(dir.join("lib/old.so")).unwrap(), b"old");
        }
    }

    /// A gzip bomb (40 MiB of zeros in a ~40 KB archive, made with GNU tar) is
    /// refused past the default cap (20 times the archive, at least 16 MiB) with exit 3 and
    /// nothing left behind; `--max-size` raises the cap and the same archive installs.
    #[test]
    fn a_gzip_bomb_is_stopped_at_the_cap_and_max_size_raises_it() {
        let fx = Fixture::new();
        let src = fx.tmp.path().join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join(ASSET), b"#!/bin/sh\n").unwrap();
        std::fs::set_permissions(src.join(ASSET), std::fs::Permissions::from_mode(0o755)).unwrap();
        let zeros = std::fs::File::create(src.join("zeros")).unwrap();
        zeros.set_len(40 << 20).unwrap();
        std::fs::create_dir_all(fx.rel()).unwrap();
        let archive = fx.rel().join(format!("{ASSET}.tar.gz"));
        let st = Command::new("tar")
            .arg("czf")
            .arg(&archive)
            .arg("-C")
            .arg(&src)
            .args([ASSET, "zeros"])
            .status()
            .unwrap();
        assert!(st.success());
        let size = std::fs::metadata(&archive).unwrap().len();
        assert!(size < 1 << 20, "the bomb is {size} bytes");
        write_sha256(&archive);
        fetch(&fx)
            .assert()
            .code(3)
            .stderr(predicate::str::contains(
                "expands to more than 16777216 bytes",
            ))
            .stderr(predicate::str::contains("--max-size"));
        assert_nothing_installed(&fx, "bomb");
        // A cap below the default applies too.
        fetch(&fx)
            .args(["--max-size", "10KB"])
            .assert()
            .code(3)
            .stderr(predicate::str::contains("more than 10000 bytes"));
        assert_nothing_installed(&fx, "bomb, --max-size 10KB");
        fetch(&fx).args(["--max-size", "64MiB"]).assert().success();
        let zeros = installed_dir(&fx).join("zeros");
        assert_eq!(std::fs::metadata(zeros).unwrap().len(), 40 << 20);
    }

    /// The cap counts the whole tar stream, not one file at a time: files each far
    /// under `--max-size` that add up to more are refused; a cap of exactly the length read
    /// (up to the end-of-archive block) lets it through, one byte less does not.
    #[test]
    fn the_cap_counts_the_whole_stream_to_the_byte() {
        let fx = Fixture::new();
        let chunk = [7u8; 4096];
        let entries = [
            EXE,
            Entry::File("a", 0o644, &chunk),
            Entry::File("b", 0o644, &chunk),
            Entry::File("c", 0o644, &chunk),
        ];
        let gz = f::archive_release(&fx.rel(), ASSET, &entries);
        fetch(&fx)
            .args(["--max-size", "10000"])
            .assert()
            .code(3)
            .stderr(predicate::str::contains("more than 10000 bytes"));
        assert_nothing_installed(&fx, "4 KiB files, --max-size 10000");
        let mut tar = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut tar).unwrap();
        // The reader stops at the first of the two zero blocks that end the stream.
        assert_eq!(tar[tar.len() - 1024..], [0u8; 1024]);
        let len = tar.len() - 512;
        fetch(&fx)
            .args(["--max-size", &(len - 1).to_string()])
            .assert()
            .code(3)
            .stderr(predicate::str::contains(format!(
                "more than {} bytes",
                len - 1
            )));
        assert_nothing_installed(&fx, "one byte under the stream");
        fetch(&fx)
            .args(["--max-size", &len.to_string()])
            .assert()
            .success();
        assert_eq!(std::fs::read(installed_dir(&fx).join("c")).unwrap(), chunk);
    }

    /// An archive cut short in the middle of a file (its SHA-256 made to match) is not a
    /// valid `.tar.gz`: exit 3, nothing installed, and no retrying of the failed read.
    #[test]
    fn a_truncated_archive_is_refused() {
        let fx = Fixture::new();
        // Incompressible (an LCG), so two thirds of the gzip stream end inside this file.
        let mut x = 1u32;
        let data: Vec<u8> = (0..200_000)
            .map(|_| {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (x >> 24) as u8
            })
            .collect();
        let gz = f::archive_release(
            &fx.rel(),
            ASSET,
            &[EXE, Entry::File("lib/big.so", 0o644, &data)],
        );
        let archive = fx.rel().join(format!("{ASSET}.tar.gz"));
        std::fs::write(&archive, &gz[..gz.len() * 2 / 3]).unwrap();
        write_sha256(&archive);
        fetch(&fx)
            .assert()
            .code(3)
            .stderr(predicate::str::contains("not a valid .tar.gz"));
        assert_nothing_installed(&fx, "truncated");
    }

    /// The free space is checked before each file: a file larger than the
    /// filesystem is refused up front (its header claims 1 PiB), with the bytes needed and
    /// available, and nothing is left; without `--max-size` the cap stops it first (exit 3).
    #[test]
    fn free_space_is_checked_before_each_file() {
        let fx = Fixture::new();
        f::archive_release(&fx.rel(), ASSET, &[EXE, Entry::Claims("huge", 1 << 50)]);
        fetch(&fx)
            .args(["--max-size", "2PiB"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("not enough space"))
            // In IEC units, as all human output.
            .stderr(predicate::str::contains("it needs 1 PiB, "));
        assert_nothing_installed(&fx, "1 PiB file");
        fetch(&fx)
            .assert()
            .code(3)
            .stderr(predicate::str::contains("expands to more than"));
        assert_nothing_installed(&fx, "1 PiB file, default cap");
    }

    /// Memory: one entry's headers are read into memory by the tar reader, so
    /// they are capped too (1 MiB): a 2 MiB pax header is refused with exit 3.
    #[test]
    fn oversized_entry_headers_are_refused() {
        let fx = Fixture::new();
        f::archive_release(&fx.rel(), ASSET, &[EXE, Entry::PaxHeader(2 << 20), EXE]);
        fetch(&fx).assert().code(3).stderr(predicate::str::contains(
            "headers take more than 1048576 bytes",
        ));
        assert_nothing_installed(&fx, "pax header");
    }
}

/// Release files read with caps, regular files only: an oversized manifest is bad release
/// data (exit 3), a FIFO or `/dev/zero` in a release never hangs or fills memory, and a sums
/// file the user names may still be a pipe.
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

    /// A 2 MiB manifest, from a directory and over HTTP, is a bad release: exit 3, naming
    /// the file or URL.
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

    /// A `.sha256` that is a FIFO would hang fetch (holding the fetch slot); a manifest that
    /// is a symlink to `/dev/zero` would make it allocate without bound. Both are refused at
    /// once: a release holds regular files only (exit 3).
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

    /// `verify -c` must not read a sums file whole (`/dev/zero` would fill memory): it is read
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
        let ok = format!("{}: OK", file.display());
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(&ok),
            "{out:?}"
        );
    }
}

/// Local parts shorter than declared and releases larger than the disk.
mod local_parts_and_free_space {
    use crate::support::fetch::{self as f, Fixture, ASSET};
    use voxctl::manifest::part_name;

    /// A part of a local release (a directory or a `file://` URL) shorter than
    /// its manifest declares is an integrity failure of the release, exit 3 at once, not a
    /// network failure retried; nothing is installed and no partial data is kept.
    #[test]
    fn a_local_part_shorter_than_declared_is_an_integrity_failure() {
        for url in [false, true] {
            let fx = Fixture::new();
            f::json_release(&fx.rel(), ASSET, &f::data(3000, 111), 1000);
            let part = fx.rel().join(part_name(ASSET, 1));
            std::fs::write(&part, f::data(600, 112)).unwrap();
            let source = if url {
                format!("file://{}", fx.rel().display())
            } else {
                fx.rel().display().to_string()
            };
            let out = fx.fetch(&source).output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(3), "{stderr}");
            assert!(stderr.contains(&part.display().to_string()), "{stderr}");
            assert!(stderr.contains("declares 1000"), "{stderr}");
            assert!(!stderr.contains("retrying"), "no retry: {stderr}");
            assert!(!fx.installed().exists());
            assert!(
                !fx.data().join("backends/.partial").exists(),
                "no partial data kept"
            );
        }
    }

    /// A release larger than the free space of the data dir's filesystem fails
    /// before anything is allocated or downloaded, exit 1, with what is needed and what is
    /// available; no partial download and no empty `.partial/` is left behind. Linux only: the
    /// small filesystem is a tmpfs mount.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_release_larger_than_the_free_space_fails_at_once_and_leaves_nothing() {
        let fx = Fixture::new();
        let bytes = f::data(3 << 20, 113);
        f::json_release(&fx.rel(), ASSET, &bytes, 1 << 20);
        let _fs = crate::support::Tmpfs::mount(&fx.data(), "1m");
        let out = fx.fetch(fx.rel().to_str().unwrap()).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("not enough free space"), "{stderr}");
        // Both sizes in IEC units, as all human output.
        assert!(
            stderr.contains("the download needs 3 MiB more, "),
            "{stderr}"
        );
        assert!(stderr.contains(" available"), "{stderr}");
        // The next step: how much to free, or another data dir.
        assert!(stderr.contains("\nhint: free "), "{stderr}");
        assert!(stderr.contains("--data-dir"), "{stderr}");
        assert!(!fx.installed().exists());
        assert!(
            !fx.data().join("backends/.partial").exists(),
            "no partial download left: {:?}",
            std::fs::read_dir(fx.data().join("backends"))
                .map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>())
        );
    }
}

mod chunk_index_memory {
    //! A release whose chunk index is as large as its cap allows (1.86 M chunks of 64 bytes):
    //! the index is the one structure of a differential fetch that grows with the asset, and
    //! README bounds it at about 50 bytes a chunk.

    use crate::support::fetch::{self as f, Fixture, ASSET};
    use crate::support::http::Server;
    use voxctl::checksum::format_line;
    use voxctl::chunks::{self, Params};
    use voxctl::manifest;

    /// Bytes per chunk README promises for the index in memory, with room for rounding.
    const PER_CHUNK: u64 = 50;

    /// What a dry run holds besides the index: the runtime, the HTTP client, the binary.
    const BASELINE: u64 = 32 << 20;

    #[test]
    fn a_maximal_chunk_index_takes_about_50_bytes_a_chunk_in_a_dry_run() {
        let fx = Fixture::new();
        let rel = fx.rel();
        std::fs::create_dir_all(&rel).unwrap();
        let params = Params {
            min: 64,
            avg: 256,
            max: 1024,
        };
        let count = chunks::MAX_CHUNKS;
        let size = count * u64::from(params.min);
        // The asset (sparse zeros) and its sums file: what the index must match.
        let asset = rel.join(ASSET);
        std::fs::File::create(&asset)
            .unwrap()
            .set_len(size)
            .unwrap();
        let (sha256, _) = crate::support::sha256_file(&asset);
        std::fs::write(
            rel.join(manifest::sha256_name(ASSET)),
            format_line(&sha256, ASSET),
        )
        .unwrap();
        // Every chunk hash distinct: nothing is shared between entries.
        let mut index = Vec::with_capacity(chunks::HEADER_LEN + count as usize * chunks::ENTRY_LEN);
        index.extend_from_slice(&chunks::header(params, size, &sha256, count));
        for i in 0..count {
            let mut hash = [0u8; 32];
            hash[..8].copy_from_slice(&i.to_le_bytes());
            hash[24..].copy_from_slice(&(!i).to_le_bytes());
            index.extend_from_slice(&chunks::entry(params.min, &hash));
        }
        assert!(index.len() as u64 > chunks::INDEX_CAP - chunks::ENTRY_LEN as u64);
        std::fs::write(rel.join(chunks::index_name(ASSET)), &index).unwrap();
        drop(index);

        let srv = Server::start(&rel);
        let out = fx
            .fetch(&srv.url())
            .args(["--dry-run", "--json"])
            .assert()
            .success();
        let events = f::events(&out.get_output().stdout);
        let plan = events
            .iter()
            .find(|e| e["event"] == "delta_planned")
            .unwrap_or_else(|| panic!("no delta plan in {events:?}"));
        assert_eq!(plan["chunks"], count, "{plan}");
        assert_eq!(plan["to_download"], size, "{plan}");

        // The children of this test process are the one fetch above (nextest runs each test
        // in its own process); ru_maxrss is in KiB on Linux.
        let usage =
            nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN).unwrap();
        let peak = usage.max_rss() as u64 * 1024;
        let bound = BASELINE + PER_CHUNK * count;
        assert!(
            peak < bound,
            "peak RSS {} MiB for {count} chunks ({} B a chunk over the baseline), want under \
             {} MiB",
            peak >> 20,
            peak.saturating_sub(BASELINE) / count,
            bound >> 20
        );
    }
}
