//! What voxctl publishes is readable by others: every release file `split` writes (parts,
//! manifests, sums, chunk index), signatures (`split --sign`, `sign`), the chunk index of
//! `index`, and the man pages and completion scripts of `generate` get the mode `cp` or
//! `minisign -S` would give them, 0666 minus the umask; voxctl's state stays private. Checked
//! under several umasks, and end to end: a signed release served by nginx whose worker runs
//! as `nobody`, as a web server is deployed, fetched with its public key.

use crate::sign::MinisignKey;
use crate::support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::fetch::{self as f, Fixture, ASSET};
use support::nginx::Nginx;
use voxctl::manifest::json_manifest_name;

const MB: usize = 1 << 20;

/// `voxctl` run under umask `mask` (through `sh -c 'umask MASK && exec ...'`), with its own
/// state dir and no inherited `VOXCTL_*` settings.
fn voxctl_umask(mask: u32, state: &Path) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(r#"umask "$0" && exec "$@""#)
        .arg(format!("{mask:03o}"))
        .arg(support::bin());
    for (k, _) in std::env::vars() {
        if k.starts_with("VOXCTL_") || k.ends_with("_proxy") || k.ends_with("_PROXY") {
            cmd.env_remove(k);
        }
    }
    cmd.env("VOXCTL_STATE_DIR", state);
    cmd
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

/// The regular files directly in `dir`, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

/// Notes in `wrong` each of `paths` whose mode is not `want`.
fn check_modes(wrong: &mut Vec<String>, paths: &[PathBuf], want: u32, mask: u32) {
    for p in paths.iter().filter(|p| mode(p) != want) {
        wrong.push(format!(
            "umask {mask:03o}: {} is {:04o}, not {want:04o}",
            p.display(),
            mode(p)
        ));
    }
}

#[test]
fn every_published_file_gets_0666_minus_the_umask_and_state_stays_private() {
    let fx = Fixture::new();
    let key = MinisignKey::new(&fx.tmp.path().join("keys"), "release", None);
    let input = fx.tmp.path().join(ASSET);
    let data = f::data(3 * MB + 7, 5);
    std::fs::write(&input, &data).unwrap();
    let mut wrong = Vec::new();
    for mask in [0o022, 0o077, 0o027, 0o002] {
        let want = 0o666 & !mask;
        let root = fx.tmp.path().join(format!("umask-{mask:03o}"));
        let state = root.join("state");

        // split --sign --tauri-sig: parts, chunk index, sums, both manifests, signatures.
        let rel = root.join("rel");
        run(voxctl_umask(mask, &state)
            .args(["-q", "split", "--part-size", "1M", "--variant", "cuda"])
            .args(["--tauri-sig", "--sign"])
            .arg(&key.secret)
            .arg("--out")
            .arg(&rel)
            .arg(&input));
        let written = files(&rel);
        let names: Vec<String> = written
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        for kind in [
            format!("{ASSET}.part00"),
            format!("{ASSET}.part03"),
            format!("{ASSET}.chunks"),
            format!("{ASSET}.sha256"),
            format!("{ASSET}.manifest"),
            format!("{ASSET}.manifest.json"),
            format!("{ASSET}.manifest.json.minisig"),
            format!("{ASSET}.manifest.json.sig"),
            format!("{ASSET}.sha256.minisig"),
            format!("{ASSET}.sha256.sig"),
        ] {
            assert!(names.contains(&kind), "split wrote no {kind}: {names:?}");
        }
        check_modes(&mut wrong, &written, want, mask);

        // index: the chunk index of an existing file.
        let indexed = root.join("indexed");
        run(voxctl_umask(mask, &state)
            .args(["-q", "index", "--out"])
            .arg(&indexed)
            .arg(&input));
        check_modes(
            &mut wrong,
            &[indexed.join(format!("{ASSET}.chunks"))],
            want,
            mask,
        );

        // sign: FILE.minisig and Tauri's FILE.sig.
        let notes = root.join("notes.txt");
        std::fs::write(&notes, "release notes\n").unwrap();
        run(voxctl_umask(mask, &state)
            .args(["-q", "sign", "--tauri-sig", "--key"])
            .arg(&key.secret)
            .arg(&notes));
        check_modes(
            &mut wrong,
            &[root.join("notes.txt.minisig"), root.join("notes.txt.sig")],
            want,
            mask,
        );

        // generate: man pages and completion scripts.
        let generated = root.join("gen");
        run(voxctl_umask(mask, &state)
            .args(["-q", "generate"])
            .arg(&generated));
        let man = files(&generated.join("man"));
        let completions = files(&generated.join("completions"));
        assert!(
            man.len() > 5 && completions.len() == 5,
            "{man:?} {completions:?}"
        );
        check_modes(&mut wrong, &man, want, mask);
        check_modes(&mut wrong, &completions, want, mask);

        // State stays private whatever the umask: the install record a fetch writes.
        let data_dir = root.join("data");
        run(voxctl_umask(mask, &state)
            .args(["-q", "fetch", "--variant", "cuda", "--source"])
            .arg(&rel)
            .arg("--data-dir")
            .arg(&data_dir));
        let backends = data_dir.join("backends");
        assert_eq!(std::fs::read(backends.join(ASSET)).unwrap(), data);
        let record = backends.join(format!("{ASSET}.install.json"));
        assert_eq!(mode(&record), 0o600, "{}", record.display());
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn a_split_sign_release_served_by_nginx_as_nobody_fetches_with_its_public_key() {
    let fx = Fixture::new();
    // Searchable by nginx's worker, as a web root's directories are (the release dir itself
    // is created by split, under umask 022).
    std::fs::set_permissions(fx.tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let key = MinisignKey::new(&fx.tmp.path().join("keys"), "release", None);
    let build = fx.tmp.path().join("build");
    std::fs::create_dir_all(&build).unwrap();
    let input = build.join(ASSET);
    let data = f::data(3 * MB + 11, 8);
    std::fs::write(&input, &data).unwrap();
    run(voxctl_umask(0o022, &fx.state())
        .args([
            "-q",
            "split",
            "--part-size",
            "1M",
            "--variant",
            "cuda",
            "--sign",
        ])
        .arg(&key.secret)
        .arg("--out")
        .arg(fx.rel())
        .arg(&input));
    let nginx = Nginx::start_unprivileged(&fx.rel(), "");
    fx.fetch(&nginx.url())
        .arg("--pubkey-file")
        .arg(&key.public)
        .assert()
        .success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), data);
    let signature = format!("GET /{}.minisig 200", json_manifest_name(ASSET));
    let log = nginx.access_log();
    assert!(
        log.iter().any(|l| l.starts_with(&signature)),
        "no `{signature}` in {log:#?}"
    );
    assert!(
        log.iter().all(|l| !l.contains(" 403 ")),
        "nginx refused a file: {log:#?}"
    );
}
