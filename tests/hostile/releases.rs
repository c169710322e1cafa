//! Hostile-input cases: hostile releases: archives, manifests, sums files, part lists.

use crate::support::fetch::{self as f, Fixture, ASSET};
use voxctl::manifest::part_name;

/// Issue 10 item 11: a part of a local release (a directory or a `file://` URL) shorter than
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

/// A tmpfs of `size` mounted on `dir` for one test (needs root, as the suite runs in CI),
/// unmounted on drop.
#[cfg(target_os = "linux")]
struct Tmpfs(std::path::PathBuf);

#[cfg(target_os = "linux")]
impl Tmpfs {
    fn mount(dir: &std::path::Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        let st = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(dir)
            .status()
            .expect("mount(8)");
        assert!(
            st.success(),
            "mount -t tmpfs on {} (needs root)",
            dir.display()
        );
        Tmpfs(dir.to_path_buf())
    }
}

#[cfg(target_os = "linux")]
impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// Issue 10 item 7: a release larger than the free space of the data dir's filesystem fails
/// before anything is allocated or downloaded, exit 1, with what is needed and what is
/// available; no partial download and no empty `.partial/` is left behind. Linux only: the
/// small filesystem is a tmpfs mount.
#[cfg(target_os = "linux")]
#[test]
fn a_release_larger_than_the_free_space_fails_at_once_and_leaves_nothing() {
    let fx = Fixture::new();
    let bytes = f::data(3 << 20, 113);
    f::json_release(&fx.rel(), ASSET, &bytes, 1 << 20);
    let _fs = Tmpfs::mount(&fx.data(), "1m");
    let out = fx.fetch(fx.rel().to_str().unwrap()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("not enough free space"), "{stderr}");
    assert!(
        stderr.contains(&format!("needs {} more bytes", bytes.len())),
        "{stderr}"
    );
    assert!(stderr.contains("are available"), "{stderr}");
    assert!(!fx.installed().exists());
    assert!(
        !fx.data().join("backends/.partial").exists(),
        "no partial download left: {:?}",
        std::fs::read_dir(fx.data().join("backends"))
            .map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>())
    );
}
