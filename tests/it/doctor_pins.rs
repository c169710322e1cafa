//! `doctor` at its edges: each GPU named with what was read of it (and a kfd topology without
//! GPUs saying so), an installed variant judged against its own release's requirements (a
//! failure with the fix when its GPU cannot run it, a warning when no GPU is seen, the fix
//! depending on whether cpu is installed), a partial download's size on disk, directories
//! that do not exist yet told from ones that cannot be looked at, and an unhealthy recorded
//! backend told from an unreachable one.

use std::path::Path;

use crate::support::doctor::{Finding, Report};
use voxctl::doctor::Level;

use crate::health::{
    doctor, doctor_json, fake_smi, fake_sysfs, fetch, finding, path_with, release,
};
use crate::support::fetch::{Fixture, ASSET};
use crate::support::http::Server;

/// `doctor --json` for `fx` with `nvidia-smi` from `bin`, expecting exit `code`.
fn doctor_with_smi(fx: &Fixture, sys: &Path, bin: &Path, code: i32) -> Report {
    let out = doctor(fx, sys, &["--json"])
        .env("PATH", path_with(bin))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    crate::support::json_doc(&out.stdout)
}

fn level_detail_fix(f: &Finding) -> (Level, &str, Option<&str>) {
    (f.level, f.detail.as_str(), f.fix.as_deref())
}

#[test]
fn doctor_judges_an_installed_variant_against_its_release_and_names_the_fix() {
    let fx = Fixture::new();
    let sys = fake_sysfs(&fx);
    release(&fx, serde_json::json!({"min_driver": "525.60"}));
    let srv = Server::start(&fx.rel());
    let bin = fake_smi(
        &fx,
        "echo 'NVIDIA GeForce RTX 4090, 8.9, 550.54.14'; echo 'Tesla K80, [N/A], 470.82.01'",
    );
    fetch(&fx, &srv, "cuda", &path_with(&bin))
        .assert()
        .success();

    // Each GPU is a row of its own, saying what was read of it.
    let r = doctor_with_smi(&fx, &sys, &bin, 0);
    let rtx = finding(&r, "gpu", "NVIDIA GeForce RTX 4090");
    assert_eq!(
        level_detail_fix(rtx),
        (
            Level::Pass,
            "compute capability 8.9, driver 550.54.14",
            None
        )
    );
    let k80 = finding(&r, "gpu", "Tesla K80");
    assert_eq!(
        level_detail_fix(k80),
        (
            Level::Pass,
            "compute capability unknown (driver older than 510), driver 470.82.01",
            None
        )
    );
    let amd = finding(&r, "gpu", "AMD gfx1030");
    assert_eq!(
        level_detail_fix(amd),
        (Level::Pass, "kfd topology node 1", None)
    );
    assert_eq!(finding(&r, "variant", "cuda").level, Level::Pass);

    // The installed cuda release needs driver 525.60; this GPU's driver is older: a
    // failure, fixed by the cpu variant.
    let old = fake_smi(&fx, "echo 'NVIDIA GeForce GTX 1060 6GB, 6.1, 470.82.01'");
    let r = doctor_with_smi(&fx, &sys, &old, 1);
    let cuda = finding(&r, "variant", "cuda");
    assert_eq!(cuda.level, Level::Fail, "{cuda:?}");
    assert!(
        cuda.detail
            .contains("driver 470.82.01 is older than the release's minimum 525.60"),
        "{cuda:?}"
    );
    assert_eq!(cuda.fix.as_deref(), Some("voxctl fetch --variant cpu"));

    // No GPU seen at all: a warning; with no cpu variant installed, the fix fetches it
    // (restarting on it needs it installed first).
    let r = doctor_json(&fx, &sys, &[], 0);
    let cuda = finding(&r, "variant", "cuda");
    assert_eq!(cuda.level, Level::Warn, "{cuda:?}");
    assert!(
        cuda.detail.contains("installed, but no usable GPU"),
        "{cuda:?}"
    );
    assert_eq!(cuda.fix.as_deref(), Some("voxctl fetch --variant cpu"));
    assert!(
        !r.findings
            .iter()
            .any(|f| f.subject == "voicebox-server-cpu"),
        "{r:#?}"
    );
    assert!(fx.installed().is_file());
}

#[test]
fn doctor_gives_a_partial_download_s_size_on_disk() {
    use std::os::unix::fs::MetadataExt;
    let fx = Fixture::new();
    let sys = fake_sysfs(&fx);
    let partial = fx.partial();
    std::fs::create_dir_all(&partial).unwrap();
    let part = partial.join("x.download");
    std::fs::write(&part, vec![1u8; 3 * 8192]).unwrap();
    let on_disk = std::fs::metadata(&part).unwrap().blocks() * 512;
    assert!(on_disk >= 3 * 8192, "{on_disk}");
    let r = doctor_json(&fx, &sys, &[], 1);
    let p = finding(&r, "partial", ASSET);
    let want = format!(
        "a partial download ({} on disk) in {}",
        voxctl::size::iec(on_disk),
        partial.display()
    );
    assert_eq!((p.level, p.detail.as_str()), (Level::Warn, want.as_str()));
}

/// `doctor --json` with state dir `state` and data dir `data`; the findings of `check`.
fn dir_findings(fx: &Fixture, state: &Path, data: &Path, check: &str) -> Vec<Finding> {
    let out = crate::support::voxctl(state)
        .args(["doctor", "--json", "--data-dir"])
        .arg(data)
        .env("PATH", "/usr/bin:/bin")
        .env("VOXCTL_SYSFS_ROOT", fake_sysfs(fx))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Report = crate::support::json_doc(&out.stdout);
    r.findings
        .into_iter()
        .filter(|f| f.check == check)
        .collect()
}

#[test]
fn a_directory_that_does_not_exist_yet_is_a_fact_and_one_that_cannot_be_looked_at_fails() {
    let fx = Fixture::new();
    let nowhere = fx.tmp.path().join("nowhere");
    let data = dir_findings(&fx, &fx.state(), &nowhere, "data_dir");
    assert_eq!(data.len(), 2, "{data:#?}");
    for f in &data {
        assert_eq!(
            (f.level, f.detail.as_str()),
            (Level::Info, "does not exist yet"),
            "{f:?}"
        );
    }
    // A state dir whose name is too long to open (ENAMETOOLONG) or below a regular file
    // (ENOTDIR): no "not yet" about either, it cannot be looked at.
    let long = fx.tmp.path().join("s".repeat(300));
    let s = dir_findings(&fx, &long, &nowhere, "state_dir");
    assert_eq!(s.len(), 1, "{s:#?}");
    assert_eq!(s[0].level, Level::Fail, "{s:?}");
    assert!(s[0].detail.starts_with("cannot stat: "), "{s:?}");
    let file = fx.tmp.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let s = dir_findings(&fx, &file.join("state"), &nowhere, "state_dir");
    assert_eq!(s[0].level, Level::Fail, "{s:?}");
    assert_ne!(s[0].detail, "does not exist yet");
    // A state dir that is a symlink (to a good directory) is refused as not one, with the
    // fix that moves it aside.
    let real = fx.tmp.path().join("real-state");
    std::fs::create_dir(&real).unwrap();
    let link = fx.tmp.path().join("linked-state");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let s = dir_findings(&fx, &link, &nowhere, "state_dir");
    let shown = link.display();
    assert_eq!(
        level_detail_fix(&s[0]),
        (
            Level::Fail,
            "not a directory (a symlink or a file)",
            Some(format!("mv {shown} {shown}.bad").as_str())
        )
    );
}

/// A recorded backend that runs (a `sleep` here) and answers its health URL with a 404 is
/// unhealthy; one whose port refuses connections is unreachable: each a failure saying which,
/// with the restart as the fix.
#[test]
fn doctor_tells_an_unhealthy_backend_from_an_unreachable_one() {
    use voxctl::backend::BackendRecord;
    use voxctl::variant::Variant;
    let fx = Fixture::new();
    let sys = fake_sysfs(&fx);
    /// Kills and reaps the stand-in backend however the test ends.
    struct Reaped(std::process::Child);
    impl Drop for Reaped {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let sleeper = Reaped(
        std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .unwrap(),
    );
    let pid = sleeper.0.id() as i32;
    let empty = fx.tmp.path().join("empty-site");
    std::fs::create_dir_all(&empty).unwrap();
    let srv = Server::start(&empty);
    let closed = crate::support::restart::free_port();
    std::fs::create_dir_all(fx.state()).unwrap();
    let backend = |health_url: String| -> Finding {
        let port = closed;
        BackendRecord {
            pid,
            start_time: voxctl::process::start_time(pid).unwrap(),
            boot_id: voxctl::process::boot_id(),
            host: voxctl::process::hostname(),
            variant: Variant::Cpu,
            binary: "/nonexistent/voicebox-server-cpu".into(),
            version: None,
            port,
            health_url: Some(health_url),
            data_dir: None,
            args: Vec::new(),
            log: "/dev/null".into(),
            started_at: 0,
            ready_ms: None,
        }
        .write(&fx.state().join("backend.json"))
        .unwrap();
        let r = doctor_json(&fx, &sys, &[], 1);
        r.findings
            .iter()
            .find(|f| f.check == "backend" && f.level == Level::Fail)
            .unwrap_or_else(|| panic!("no failed backend finding: {r:#?}"))
            .clone()
    };
    let unhealthy = backend(format!("{}/health", srv.url()));
    assert_eq!(
        (unhealthy.detail.as_str(), unhealthy.fix.as_deref()),
        (
            "running but unhealthy: HTTP 404",
            Some("voxctl restart --variant cpu")
        )
    );
    assert_eq!(unhealthy.subject, format!("cpu (pid {pid})"));
    let unreachable = backend(format!("http://127.0.0.1:{closed}/health"));
    assert!(
        unreachable.detail.starts_with("running but unreachable: "),
        "{unreachable:?}"
    );
    drop(sleeper);
}

/// A kfd topology of CPU nodes only is a row saying so, not a missing row.
#[test]
fn doctor_says_a_kfd_topology_without_gpus_lists_none() {
    let fx = Fixture::new();
    let sys = fx.tmp.path().join("cpu-sys");
    let node = sys.join("class/kfd/kfd/topology/nodes/0");
    std::fs::create_dir_all(&node).unwrap();
    std::fs::write(
        node.join("properties"),
        "cpu_cores_count 16\ngfx_target_version 0\n",
    )
    .unwrap();
    let r = doctor_json(&fx, &sys, &[], 1);
    let amd = finding(&r, "gpu", "amd");
    assert_eq!(
        level_detail_fix(amd),
        (Level::Info, "the kfd topology lists no GPU", None)
    );
}
