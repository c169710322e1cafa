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
    let mut cmd = user_command("bash", bin_dir);
    cmd.current_dir(repo()).args(["-euo", "pipefail", "-c"]);
    cmd
}

/// `program` with the environment of [`user_bash`].
fn user_command(program: &str, bin_dir: &Path) -> Command {
    let mut cmd = Command::new(program);
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
    cmd.env("PATH", std::env::join_paths(dirs).unwrap());
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

/// Run by an interactive login shell: load voxctl's completion as bash-completion does on the
/// first TAB (`_comp_load` from bash-completion 2.12, `__load_completion` before), then
/// complete `voxctl remove c` with the function it registered.
const COMPLETE_REMOVE: &str = r#"
for load in _comp_load __load_completion; do
  if declare -F "$load" >/dev/null; then "$load" voxctl; break; fi
done
COMP_WORDS=(voxctl remove c); COMP_CWORD=2; COMP_LINE='voxctl remove c'; COMP_POINT=${#COMP_LINE}
func=$(complete -p voxctl | sed -n 's/.* -F \([^ ]*\) .*/\1/p')
"$func" voxctl c remove
echo "offered: ${COMPREPLY[*]}"
"#;

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
    assert!(
        text.contains("**bash-completion**"),
        "README names the bash-completion package"
    );
    // The install steps work as written on a
    // fresh account (an empty HOME, nothing in the environment but HOME and a PATH with
    // ~/.cargo/bin, where `cargo install` put the binary under test), and then `man voxctl`
    // finds the pages with no MANPATH, and a login shell completes `voxctl remove c` through
    // bash-completion.
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    std::fs::create_dir_all(h.join(".cargo/bin")).unwrap();
    std::os::unix::fs::symlink(support::bin(), h.join(".cargo/bin/voxctl")).unwrap();
    let path = format!(
        "{}:/usr/local/bin:/usr/bin:/bin",
        h.join(".cargo/bin").display()
    );
    let fresh = |program: &str| {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("HOME", h)
            .env("PATH", &path)
            .env("TERM", "dumb")
            .current_dir(repo())
            .stdin(std::process::Stdio::null());
        cmd
    };
    let out = fresh("bash")
        .args(["-euo", "pipefail", "-c", &readme_block("install-docs")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for path in [
        ".cargo/share/man/man1/voxctl.1",
        ".cargo/share/man/man1/voxctl-verify.1",
        ".local/share/bash-completion/completions/voxctl",
        ".zfunc/_voxctl",
        ".config/fish/completions/voxctl.fish",
    ] {
        assert!(h.join(path).is_file(), "{path} installed");
    }
    for page in ["voxctl", "voxctl-verify"] {
        let man = fresh("man")
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80")
            .arg(page)
            .output()
            .expect("man (man-db) is installed; .ci/run installs it");
        assert!(
            man.status.success(),
            "man {page}: {}",
            String::from_utf8_lossy(&man.stderr)
        );
        let text = String::from_utf8_lossy(&man.stdout);
        assert!(text.contains(&format!("{page}(1)")), "{text}");
    }
    let bash_completion = Path::new("/usr/share/bash-completion/bash_completion");
    assert!(
        bash_completion.is_file(),
        "the bash-completion package is installed (.ci/run installs it)"
    );
    let out = fresh("bash")
        .args(["-lic", COMPLETE_REMOVE])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("offered: cpu cuda"),
        "a login shell completes voxctl remove c: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
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

/// Every EXAMPLE of every committed man page (`man/*.1`, which tests/it/generated.rs keeps
/// fresh): `(page, command line)`, roff escapes undone.
fn man_examples() -> Vec<(String, String)> {
    let dir = repo().join("man");
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    pages.sort();
    let mut examples = Vec::new();
    for path in pages {
        let page = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let section = text
            .split("\n.SH EXAMPLES\n")
            .nth(1)
            .unwrap_or_else(|| panic!("{page} has no EXAMPLES"));
        let section = section.split("\n.SH ").next().unwrap();
        for block in section.split(".nf\n").skip(1) {
            let roff = block.split("\n.fi").next().unwrap();
            let line = roff
                .replace("\\-", "-")
                .replace("\\&", "")
                .replace("\\e", "\\");
            examples.push((page.clone(), line));
        }
    }
    examples
}

/// What some examples say they did (page, example, words in stdout or stderr): they ran for
/// real, not only exited 0.
const SAID: &[(&str, &str, &str)] = &[
    (
        "voxctl-restart",
        "voxctl restart --variant cuda",
        "started the cuda backend",
    ),
    ("voxctl-stop", "voxctl stop", "stopped the cpu backend"),
    (
        "voxctl-lease-run",
        "voxctl lease run upload --ttl 30s --wait 10m -- ./upload.sh",
        "uploading as lease upload",
    ),
    (
        "voxctl-verify",
        "cd dist && voxctl verify -c SHA256SUMS",
        "app.part00.exe: OK",
    ),
    (
        "voxctl-split",
        "voxctl split app.exe --part-size 1900MB",
        "app.part00.exe",
    ),
];

/// Every EXAMPLE of every man page runs as
/// written and exits 0, on a fresh account (its own HOME, so voxctl's default state and data
/// dirs) with a local release (`VOXCTL_SOURCE`, and `./release` in the working directory)
/// holding the example backend as cpu and cuda. A page's examples run in order, in their own
/// network namespace so that restart's default port 17493 is the page's alone.
#[cfg(target_os = "linux")]
#[test]
fn every_man_page_example_runs_and_exits_0() {
    let examples = man_examples();
    assert!(examples.len() >= 25, "{examples:?}");
    for (page, line, _) in SAID {
        assert!(
            examples.iter().any(|(p, l)| p == page && l == line),
            "{page} has no example `{line}`"
        );
    }
    let backend = std::fs::read(support::restart::fixture_bin()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut pages: Vec<&str> = examples.iter().map(|(p, _)| p.as_str()).collect();
    pages.dedup();
    let mut failures = Vec::new();
    for page in pages {
        let home = tmp.path().join(page);
        let work = home.join("work");
        let release = work.join("release");
        for variant in ["cpu", "cuda"] {
            support::fetch::whole_release(
                &release,
                &format!("voicebox-server-{variant}"),
                &backend,
            );
        }
        std::fs::create_dir_all(work.join("build")).unwrap();
        std::fs::write(
            work.join("build/voicebox-server-cuda"),
            support::fetch::data(300_000, 1),
        )
        .unwrap();
        std::fs::write(work.join("app.exe"), support::fetch::data(200_000, 2)).unwrap();
        // The app's profile lock as Chromium leaves it (a symlink to `HOST-PID`), of an app
        // that is no longer running: `reap --lock` finds the holder gone and reaps nothing.
        // A lock path that does not exist is refused, so the example needs one.
        std::fs::create_dir_all(home.join(".config/App")).unwrap();
        let host = nix::unistd::gethostname().unwrap();
        std::os::unix::fs::symlink(
            format!("{}-4000000", host.to_string_lossy()),
            home.join(".config/App/SingletonLock"),
        )
        .unwrap();
        let upload = work.join("upload.sh");
        std::fs::write(
            &upload,
            "#!/bin/sh\necho \"uploading as lease $VOXCTL_LEASE_NAME\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&upload, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let user = |program: &str| {
            let mut cmd = user_command(program, &bin_dir());
            for var in ["XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"] {
                cmd.env_remove(var);
            }
            cmd.env("HOME", &home)
                .env("VOXCTL_SOURCE", &release)
                .current_dir(&work)
                .stdin(std::process::Stdio::null());
            cmd
        };
        // Both variants installed, as after `voxctl fetch`; the verify page's files.
        let prepare = format!(
            "voxctl -q fetch --variant cpu >/dev/null\n\
             voxctl -q fetch --variant cuda >/dev/null\n{}",
            match page {
                "voxctl-verify" => {
                    "voxctl -q split app.exe\n(cd dist && sha256sum app.* > SHA256SUMS)\n"
                }
                _ => "",
            }
        );
        let out = user("bash")
            .args(["-euo", "pipefail", "-c", &prepare])
            .output()
            .unwrap();
        assert!(out.status.success(), "{page}: setup: {out:?}");
        // A backend to stop on the stop page; the rest start their own.
        let before = match page {
            "voxctl-stop" => "voxctl -q restart --variant cpu\n",
            _ => "",
        };
        let mut files = Vec::new();
        for (i, (_, line)) in examples.iter().filter(|(p, _)| p == page).enumerate() {
            let file = home.join(format!("example-{i}.sh"));
            std::fs::write(&file, line).unwrap();
            files.push((line.clone(), file));
        }
        let driver = format!(
            "set -u\nip link set lo up\n\
             trap 'voxctl -q stop >/dev/null 2>&1 || true' EXIT\n{before}\
             for f in \"$@\"; do\n  bash -eo pipefail \"$f\" >\"$f.out\" 2>\"$f.err\" </dev/null\n  \
             echo $? >\"$f.rc\"\ndone\n"
        );
        let out = user("unshare")
            .args(["--net", "bash", "-c", &driver, "driver"])
            .args(files.iter().map(|(_, f)| f))
            .output()
            .expect("unshare (util-linux) runs");
        assert!(
            out.status.success(),
            "{page}: the driver failed (unshare --net needs root): {out:?}"
        );
        for (line, file) in &files {
            let read = |ext: &str| {
                let mut name = file.clone().into_os_string();
                name.push(ext);
                std::fs::read_to_string(name).unwrap_or_default()
            };
            let (rc, out, err) = (read(".rc"), read(".out"), read(".err"));
            let said = SAID
                .iter()
                .filter(|(p, l, _)| *p == page && l == line)
                .all(|(_, _, words)| out.contains(words) || err.contains(words));
            if rc.trim() != "0" || !said {
                failures.push(format!(
                    "{page}: `{line}` exited {}\nstdout: {out}\nstderr: {err}",
                    rc.trim()
                ));
            }
        }
        // No backend outlives its page (the driver's trap stopped it).
        let record = home.join(".local/state/voxctl/backend.json");
        if let Ok(text) = std::fs::read_to_string(&record) {
            let rec: voxctl::backend::record::BackendRecord = serde_json::from_str(&text).unwrap();
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(rec.pid),
                nix::sys::signal::Signal::SIGKILL,
            );
            failures.push(format!(
                "{page}: a backend (pid {}) was left running",
                rec.pid
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
