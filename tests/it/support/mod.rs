//! Helpers shared by the integration tests (fixtures, servers, releases, spawned processes).

pub mod reap;

use std::path::{Path, PathBuf};

/// The path of the `voxctl` binary under test.
pub fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("voxctl")
}

/// A `voxctl` command with its own state dir and no inherited `VOXCTL_*` settings.
pub fn voxctl(state_dir: &Path) -> assert_cmd::Command {
    assert_cmd::Command::from_std(voxctl_std(state_dir))
}

/// The same as [`voxctl`], as a `std::process::Command` (for spawning and signalling).
pub fn voxctl_std(state_dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(bin());
    for (k, _) in std::env::vars() {
        if k.starts_with("VOXCTL_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("VOXCTL_STATE_DIR", state_dir);
    cmd
}
pub mod etcd;
pub mod fetch;
pub mod http;
pub mod lease;
pub mod nginx;
pub mod release;
pub mod restart;

/// A tmpfs of `size` mounted on `dir` for one test (the suite runs as root in CI: mount(8)
/// failing fails the test), unmounted on drop.
#[cfg(target_os = "linux")]
pub struct Tmpfs(PathBuf);

#[cfg(target_os = "linux")]
impl Tmpfs {
    /// Mounts it (`mount -t tmpfs -o size=SIZE,mode=0755 tmpfs DIR`).
    pub fn mount(dir: &Path, size: &str) -> Tmpfs {
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
