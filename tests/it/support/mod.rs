//! Helpers shared by the integration tests (fixtures, servers, releases, spawned processes).

// Some helpers serve only the Unix-only areas (docs/windows-tests.md).
#![cfg_attr(windows, allow(dead_code))]

#[cfg(unix)]
pub mod reap;

use std::path::{Path, PathBuf};

/// The path of the `voxctl` binary under test.
pub fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("voxctl")
}

/// The system's text for OS error `code` as voxctl prints it (without Rust's
/// ` (os error N)`): `os_text(2)` is "No such file or directory" on Linux, "File not found." under
/// Wine.
pub fn os_text(code: i32) -> String {
    let text = std::io::Error::from_raw_os_error(code).to_string();
    text.strip_suffix(&format!(" (os error {code})"))
        .unwrap_or(&text)
        .to_string()
}

/// A `voxctl` command with its own state dir and no inherited `VOXCTL_*` settings.
pub fn voxctl(state_dir: &Path) -> assert_cmd::Command {
    assert_cmd::Command::from_std(voxctl_std(state_dir))
}

/// The exit-code table at the end of `voxctl --help`, as (code, meaning) rows; the line
/// under the table is not a row. Its codes are [`voxctl::exit::ExitStatus::DOCUMENTED`]'s, in
/// order (checked here, so every reader of the table relies on it).
pub fn help_exit_table() -> Vec<(u8, String)> {
    let tmp = tempfile::tempdir().unwrap();
    let out = voxctl(tmp.path()).arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8(out.stdout).unwrap();
    let table = help
        .split("\nExit codes:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("--help ends with no exit-code table:\n{help}"));
    let rows: Vec<(u8, String)> = table
        .lines()
        .map_while(|l| {
            let (code, meaning) = l.trim_start().split_once("    ")?;
            Some((code.parse().ok()?, meaning.to_string()))
        })
        .collect();
    let codes: Vec<u8> = rows.iter().map(|r| r.0).collect();
    let documented: Vec<u8> = voxctl::exit::ExitStatus::DOCUMENTED
        .iter()
        .map(|s| s.code())
        .collect();
    assert_eq!(codes, documented, "--help's exit-code table:\n{table}");
    rows
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

/// Decodes the stdout of a `--json` command (one pretty document and a newline) into the
/// library's type `T`, and checks that `T` prints back to exactly those bytes: the output is
/// what the type serializes to, with no field more, none renamed and none moved.
pub fn json_doc<T: serde::de::DeserializeOwned + serde::Serialize>(stdout: &[u8]) -> T {
    let doc = decode::<T>(stdout);
    let again = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    assert_eq!(
        again,
        String::from_utf8_lossy(stdout),
        "{} prints differently",
        std::any::type_name::<T>()
    );
    doc
}

/// [`json_doc`] for the documents printed through a `serde_json::Value`, with every
/// object's keys sorted (restart's `NoUsableBinaryDoc`, sign's `SignReport`, fetch's failed
/// line when `pretty` is false).
pub fn json_doc_sorted<T: serde::de::DeserializeOwned + serde::Serialize>(
    stdout: &[u8],
    pretty: bool,
) -> T {
    let doc = decode::<T>(stdout);
    let value = serde_json::to_value(&doc).unwrap();
    let again = if pretty {
        serde_json::to_string_pretty(&value)
    } else {
        serde_json::to_string(&value)
    }
    .unwrap()
        + "\n";
    assert_eq!(
        again,
        String::from_utf8_lossy(stdout),
        "{} prints differently",
        std::any::type_name::<T>()
    );
    doc
}

fn decode<T: serde::de::DeserializeOwned>(stdout: &[u8]) -> T {
    serde_json::from_slice(stdout).unwrap_or_else(|e| {
        panic!(
            "not a {} ({e}): {}",
            std::any::type_name::<T>(),
            String::from_utf8_lossy(stdout)
        )
    })
}

pub mod doctor;
#[cfg(unix)]
pub mod etcd;
pub mod fetch;
pub mod host;
pub mod http;
#[cfg(unix)]
pub mod lease;
pub mod nginx;
#[cfg(unix)]
pub mod pyinstaller;
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

/// The SHA-256 and size in bytes of the file at `path`, streamed (a release's asset may be
/// gigabytes, or sparse).
pub fn sha256_file(path: &Path) -> (voxctl::checksum::Sha256, u64) {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    let mut file = std::fs::File::open(path).unwrap();
    let size = std::io::copy(&mut file, &mut hasher).unwrap();
    (voxctl::checksum::Sha256(hasher.finalize().into()), size)
}
