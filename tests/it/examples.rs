//! The README's runnable blocks and `examples/quickstart.sh` run as written: the
//! restart demo with the example backend, the man page and completion install
//! steps, and the quickstart, which uses the `voxctl` on PATH.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn readme() -> String {
    std::fs::read_to_string(repo().join("README.md")).unwrap()
}

/// The ```sh block that follows `<!-- MARKER -->` in README.md.
fn readme_block(marker: &str) -> String {
    let text = readme();
    let at = text
        .find(&format!("<!-- {marker} -->"))
        .unwrap_or_else(|| panic!("README.md has no <!-- {marker} --> block"));
    let rest = &text[at..];
    let start = rest
        .find("```sh\n")
        .expect("a ```sh block after the marker")
        + 6;
    let len = rest[start..].find("```").expect("the block ends");
    rest[start..start + len].to_string()
}

/// `bash` with the environment a user has: PATH led by `bin_dir`, and without what the test
/// runner adds (passed to a nested cargo, CARGO_PKG_*, NEXTEST_* and the like change
/// fingerprints and rebuild everything; the same list as support::restart::fixture_bin).
fn user_bash(bin_dir: &Path) -> Command {
    let mut cmd = Command::new("bash");
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        let runner = k == "CARGO"
            || k.starts_with("CARGO_PKG_")
            || k.starts_with("CARGO_MANIFEST_")
            || k.starts_with("CARGO_BIN_EXE_")
            || [
                "CARGO_CRATE_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
            ]
            .contains(&k.as_ref())
            || k.starts_with("NEXTEST")
            || k.starts_with("VOXCTL_")
            || k == "LD_LIBRARY_PATH"
            || k == "DYLD_FALLBACK_LIBRARY_PATH";
        if runner {
            cmd.env_remove(k.as_ref());
        }
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![bin_dir.to_path_buf()];
    dirs.extend(std::env::split_paths(&path));
    cmd.env("PATH", std::env::join_paths(dirs).unwrap())
        .current_dir(repo())
        .args(["-euo", "pipefail", "-c"]);
    cmd
}

/// The directory of the voxctl under test (so the README's `voxctl` is this build).
fn bin_dir() -> PathBuf {
    support::bin().parent().unwrap().to_path_buf()
}

#[cfg(target_os = "linux")]
#[test]
fn the_readme_restart_demo_runs_with_the_example_backend() {
    // Built once with the runner's settings; the demo's own `cargo build` is then a no-op.
    support::restart::fixture_bin();
    let block = readme_block("restart-demo");
    assert!(
        block.contains("fixture_backend"),
        "the demo uses the example backend"
    );
    let port = support::restart::free_port();
    let out = user_bash(&bin_dir())
        .arg(&block)
        .env("PORT", port.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the demo failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("voicebox backend: cuda 0.1.0, pid ")
            && stdout.contains("replaced  cpu pid")
            && stdout.contains("healthy (HTTP 200)"),
        "cpu then cuda, healthy, shown by status:\n{stdout}"
    );
    // The demo's last step stopped the backend: the port is released.
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "the demo left its backend running"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_readme_installs_with_locked_deps_and_documents_nextest_and_the_man_pages() {
    let text = readme();
    assert!(
        text.contains("cargo install --locked --path ."),
        "README install line"
    );
    assert!(
        text.contains("cargo install --locked cargo-nextest"),
        "README installs the test runner"
    );
    let ci = std::fs::read_to_string(repo().join(".ci/run")).unwrap();
    assert!(
        ci.contains("cargo install --locked cargo-nextest"),
        ".ci/run installs nextest as README says"
    );
    // The install steps work as written, into a scratch HOME.
    let home = tempfile::tempdir().unwrap();
    let out = user_bash(&bin_dir())
        .arg(readme_block("install-docs"))
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let h = home.path();
    for path in [
        ".local/share/man/man1/voxctl.1",
        ".local/share/man/man1/voxctl-verify.1",
        ".local/share/bash-completion/completions/voxctl",
        ".zfunc/_voxctl",
        ".config/fish/completions/voxctl.fish",
    ] {
        assert!(h.join(path).is_file(), "{path} installed");
    }
    // man finds the installed page.
    let man = Command::new("man")
        .env("MANPATH", h.join(".local/share/man"))
        .env("MANWIDTH", "80")
        .env("MANPAGER", "cat")
        .args(["-P", "cat", "voxctl-verify"])
        .output()
        .expect("man (man-db) is installed; .ci/run installs it");
    assert!(
        man.status.success(),
        "{}",
        String::from_utf8_lossy(&man.stderr)
    );
    assert!(String::from_utf8_lossy(&man.stdout).contains("voxctl-verify(1)"));
}

#[test]
fn the_quickstart_uses_the_voxctl_on_path() {
    let tmp = tempfile::tempdir().unwrap();
    // A voxctl on PATH that records its calls and runs the build under test.
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let log = tmp.path().join("calls");
    let wrapper = bin.join("voxctl");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            support::bin().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let out = user_bash(&bin)
        .arg("examples/quickstart.sh")
        .env("QUICKSTART_MIB", "3")
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("using the voxctl on PATH: {}", wrapper.display())),
        "it says which voxctl it runs:\n{stdout}"
    );
    assert!(
        stdout.contains("installed file is byte-identical"),
        "{stdout}"
    );
    let calls = std::fs::read_to_string(&log).expect("the voxctl on PATH was run");
    for sub in ["split", "fetch", "status"] {
        assert!(
            calls.lines().any(|l| l.starts_with(sub)),
            "{sub} ran through PATH: {calls}"
        );
    }
}
