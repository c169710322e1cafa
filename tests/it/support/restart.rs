//! Helpers for the restart and status tests: the fixture backend (built from
//! `examples/fixture_backend.rs`), a data dir with installed variants, and cleanup of every
//! backend a test started.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::Digest;
use voxctl::backend::record::BackendRecord;
use voxctl::checksum::Sha256;
use voxctl::installs::{BackendsDir, InstallRecord};
use voxctl::process::ProcessIdentity;
use voxctl::status::Status;

/// The fixture backend binary, built once per test process with `cargo build --example`
/// (a no-op when `cargo nextest run` or `cargo test` already built it). On Windows it is
/// `fixture_bootloader.exe` (tests/windows/fixture_bootloader.c: the same contract, as a
/// PyInstaller-like bootloader whose child holds the port), which scripts/windows-test.sh
/// builds beside voxctl.exe.
pub fn fixture_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if cfg!(windows) {
            let bin = super::bin().with_file_name("fixture_bootloader.exe");
            assert!(
                bin.is_file(),
                "{} missing: scripts/windows-test.sh builds it",
                bin.display()
            );
            bin
        } else {
            example_bin("fixture_backend")
        }
    })
    .clone()
}

/// The binary of example `name` (`examples/{name}.rs`), built with `cargo build --example`
/// into the target dir and profile of the binary under test. On Windows (the suite runs
/// under Wine, where cargo is a Linux program) it must be built already: scripts/windows-test.sh
/// builds the examples the Windows suite runs.
pub fn example_bin(name: &str) -> PathBuf {
    if cfg!(windows) {
        let bin = super::bin()
            .with_file_name("examples")
            .join(format!("{name}.exe"));
        assert!(
            bin.is_file(),
            "{} missing: scripts/windows-test.sh builds the examples",
            bin.display()
        );
        return bin;
    }
    {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = std::process::Command::new(cargo);
        // Drop what the test runner adds to a test's environment (the package's CARGO_PKG_*,
        // CARGO_MANIFEST_DIR, NEXTEST_*, a LD_LIBRARY_PATH with target/deps...): passed to
        // cargo they change fingerprints and rebuild everything, twice per run. Settings of
        // the user or CI (RUSTFLAGS, CARGO_TARGET_DIR, CARGO_HOME, ...) are kept.
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
                || k == "LD_LIBRARY_PATH"
                || k == "DYLD_FALLBACK_LIBRARY_PATH";
            if runner {
                cmd.env_remove(k.as_ref());
            }
        }
        // Build into the target dir and profile of the binary under test.
        let profile_dir = super::bin().parent().unwrap().to_path_buf();
        cmd.arg("build")
            .arg("--target-dir")
            .arg(profile_dir.parent().unwrap());
        match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => {}
            Some("release") => {
                cmd.arg("--release");
            }
            Some(other) => {
                cmd.args(["--profile", other]);
            }
        }
        let status = cmd
            .args(["-q", "--example", name])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap_or_else(|e| panic!("run cargo build --example {name}: {e}"));
        assert!(status.success(), "cargo build --example {name} failed");
        let bin = profile_dir
            .join("examples")
            .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        assert!(bin.is_file(), "{} missing", bin.display());
        bin
    }
}

/// The installed asset's name of `variant`: `voicebox-server-{variant}`, with `.exe` on
/// Windows.
pub fn asset_name(variant: &str) -> String {
    format!("voicebox-server-{variant}{}", std::env::consts::EXE_SUFFIX)
}

/// A free TCP port on 127.0.0.1 (free when this returns; tests race only with each other).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A state dir, a data dir and a port for one test. Dropping it kills the recorded backend's
/// process group and every process passed to [`Env::track`], each only if it is still the
/// process that was tracked (same pid and start time): Windows (and Wine, at once) reuses the
/// pid of an exited process, and a kill by bare pid would end another test's process.
pub struct Env {
    pub tmp: tempfile::TempDir,
    pub state: PathBuf,
    pub data: PathBuf,
    pub port: u16,
    /// Pids to end on drop, each with its identity when it could be read.
    tracked: std::sync::Mutex<Vec<(i32, Option<ProcessIdentity>)>>,
}

impl Env {
    pub fn new() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let state = tmp.path().join("state");
        let data = tmp.path().join("data");
        std::fs::create_dir_all(data.join("backends")).unwrap();
        Env {
            state,
            data,
            port: free_port(),
            tmp,
            tracked: Default::default(),
        }
    }

    pub fn backends(&self) -> BackendsDir {
        BackendsDir::new(&self.data)
    }

    /// Installs the fixture as `voicebox-server-{variant}` (`.exe` on Windows) with sidecar
    /// `config` (`key=value` lines) and an install record claiming `record_version`.
    pub fn install(&self, variant: &str, config: &str, record_version: Option<&str>) -> PathBuf {
        let asset = asset_name(variant);
        let path = self.backends().asset_path(&asset);
        std::fs::copy(fixture_bin(), &path).unwrap();
        std::fs::write(format!("{}.fixture", path.display()), config).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        self.backends()
            .write_record(&InstallRecord {
                asset,
                variant: Some(variant.into()),
                path: path.clone(),
                sha256: Sha256(sha2::Sha256::digest(&bytes).into()),
                size: bytes.len() as u64,
                version: record_version.map(str::to_string),
                source: "test".into(),
                layout: voxctl::fetch::Layout::Whole,
                installed_at: 1_700_000_000,
                signature: None,
                files: None,
                requires: None,
                transfer: None,
            })
            .unwrap();
        path
    }

    /// Rewrites the version in `variant`'s install record (the binary stays as it is).
    pub fn set_record_version(&self, variant: &str, version: &str) {
        let asset = asset_name(variant);
        let mut r = self.backends().read_record(&asset).unwrap().unwrap();
        r.version = Some(version.into());
        self.backends().write_record(&r).unwrap();
    }

    /// `voxctl restart --variant V --data-dir D --port P` plus `extra`.
    pub fn restart(&self, variant: &str, extra: &[&str]) -> assert_cmd::Command {
        let mut cmd = super::voxctl(&self.state);
        cmd.args(["restart", "--variant", variant, "--data-dir"])
            .arg(&self.data)
            .args(["--port", &self.port.to_string()])
            .args(extra)
            .timeout(Duration::from_secs(60));
        cmd
    }

    /// `voxctl restart --variant V --data-dir D` plus `extra`: no `--port`, so the port is
    /// the running backend's (or the default).
    pub fn restart_keeping(&self, variant: &str, extra: &[&str]) -> assert_cmd::Command {
        let mut cmd = super::voxctl(&self.state);
        cmd.args(["restart", "--variant", variant, "--data-dir"])
            .arg(&self.data)
            .args(extra)
            .timeout(Duration::from_secs(60));
        cmd
    }

    /// `voxctl status --data-dir D` plus `extra` (`--json`), run as is: its exit code is
    /// the caller's to check.
    pub fn status_cmd(&self, extra: &[&str]) -> assert_cmd::Command {
        let mut cmd = super::voxctl(&self.state);
        cmd.arg("status")
            .args(extra)
            .arg("--data-dir")
            .arg(&self.data);
        cmd
    }

    /// The same, as a `std::process::Command` (to run in the background).
    pub fn restart_std(&self, variant: &str, extra: &[&str]) -> std::process::Command {
        let mut cmd = super::voxctl_std(&self.state);
        cmd.args(["restart", "--variant", variant, "--data-dir"])
            .arg(&self.data)
            .args(["--port", &self.port.to_string()])
            .args(extra);
        cmd
    }

    /// `voxctl status --json`, decoded (and checked to print as [`Status`] serializes).
    pub fn status(&self) -> Status {
        let out = super::voxctl(&self.state)
            .args(["--json", "status", "--data-dir"])
            .arg(&self.data)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        super::json_doc(&out.stdout)
    }

    /// `backend.json`, decoded, if present.
    pub fn record(&self) -> Option<BackendRecord> {
        let bytes = std::fs::read(self.state.join("backend.json")).ok()?;
        let rec: BackendRecord = serde_json::from_slice(&bytes).unwrap();
        self.tracked
            .lock()
            .unwrap()
            .push((rec.pid, Some(rec.identity())));
        Some(rec)
    }

    /// The health answer on the port, if any.
    pub fn health(&self) -> Option<Value> {
        http_get_json(self.port, "/health")
    }

    /// Kills `pid`'s process group on drop. On Windows `pid` must be alive now: its start
    /// time is taken here, and only that process is ended.
    pub fn track(&self, pid: i32) {
        let id = ProcessIdentity::capture(pid);
        self.tracked.lock().unwrap().push((pid, id));
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = self.record();
        #[cfg(windows)]
        {
            use voxctl::backend::control::signal_group;
            use voxctl::process::{ProcessHandle, Signal};
            // A tracked process is a fixture bootloader, which voxctl started in a job with
            // its child, the server that holds the port (/health names it): the job is ended,
            // and the child on its own too when the bootloader was not started by voxctl.
            let mut ids: Vec<_> = self
                .tracked
                .lock()
                .unwrap()
                .iter()
                .flat_map(|t| t.1.clone())
                .collect();
            if let Some(pid) = self.health().and_then(|h| h["pid"].as_i64()) {
                ids.extend(ProcessIdentity::capture(pid as i32));
            }
            for id in ids {
                if let Ok(Some(handle)) = ProcessHandle::open(&id) {
                    let _ = signal_group(&handle, Signal::Kill);
                }
            }
        }
        #[cfg(unix)]
        for pid in self.tracked.lock().unwrap().iter().map(|t| t.0) {
            // Backends lead their own group; the group outlives a dead leader while any
            // member (a worker) lives, and its id is not reused until then.
            let p = nix::unistd::Pid::from_raw(pid);
            let _ = nix::sys::signal::killpg(p, nix::sys::signal::Signal::SIGKILL);
        }
    }
}

/// A GET on 127.0.0.1:`port`, parsed as JSON when the status is 200.
pub fn http_get_json(port: u16, path: &str) -> Option<Value> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).ok()?;
    if !raw.starts_with("HTTP/1.1 200") {
        return None;
    }
    serde_json::from_str(raw.split_once("\r\n\r\n")?.1).ok()
}

/// Whether `pid` exists (and is not a zombie).
pub fn alive(pid: i32) -> bool {
    voxctl::process::start_time(pid).is_some() && !voxctl::process::is_zombie(pid)
}

/// Polls `cond` every 5 ms for up to `timeout`.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    cond()
}

/// The text of a file, or "".
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}
