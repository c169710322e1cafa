//! The GPU preflight at its edges, against fake `nvidia-smi` programs and fake kfd topology
//! trees: an `nvidia-smi` that answers with no GPU, a topology of CPU nodes only, a driver
//! exactly at the minimum, a hung `nvidia-smi` (asked once, bounded in time), and `doctor
//! --json`'s two ways of not seeing an AMD GPU (absent, could not detect).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use predicates::prelude::*;
use voxctl::doctor::Level;
use voxctl::gpu::Probe;

use crate::health::{
    doctor, doctor_json, fake_smi, fake_sysfs, fetch, finding, installed, path_with, release,
};
use crate::support::fetch::{self as f, Fixture, ASSET};
use crate::support::http::Server;

const MB: usize = 1 << 20;

/// A kfd topology of CPU nodes only (`gfx_target_version 0`), as on a host without an AMD
/// GPU but with the amdgpu driver loaded (an APU's CPU side, a removed card).
fn cpu_only_sysfs(fx: &Fixture) -> PathBuf {
    let root = fx.tmp.path().join("cpu-sys");
    for node in ["0", "1"] {
        let dir = root.join("class/kfd/kfd/topology/nodes").join(node);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("properties"),
            "cpu_cores_count 16\nsimd_count 0\ngfx_target_version 0\n",
        )
        .unwrap();
    }
    root
}

#[test]
fn an_nvidia_smi_listing_no_gpu_is_a_named_reason_not_a_blank() {
    let fx = Fixture::new();
    let bytes = release(&fx, serde_json::json!({"min_driver": "525.60"}));
    let srv = Server::start(&fx.rel());
    // nvidia-smi answers (exit 0) but lists nothing, as with the driver loaded and no GPU.
    let bin = fake_smi(&fx, "exit 0");
    fetch(&fx, &srv, "cuda", &path_with(&bin))
        .env("VOXCTL_SYSFS_ROOT", fx.tmp.path().join("no-sysfs"))
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "cannot check whether this host can run the cuda release: nvidia-smi lists no GPU; \
             downloading anyway",
        ));
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    std::fs::remove_dir_all(fx.data()).unwrap();
    fetch(&fx, &srv, "auto", &path_with(&bin))
        .env("VOXCTL_SYSFS_ROOT", fx.tmp.path().join("no-sysfs"))
        .assert()
        .success()
        .stderr(predicate::str::contains("variant auto: cpu"))
        .stderr(predicate::str::contains("nvidia-smi lists no GPU"));
    assert!(installed(&fx, "voicebox-server-cpu"));
    assert!(!installed(&fx, ASSET));
    // doctor says the same in its nvidia row, a fact rather than a failure.
    let out = doctor(&fx, &fx.tmp.path().join("no-sysfs"), &["--json"])
        .env("PATH", path_with(&bin))
        .output()
        .unwrap();
    let r: crate::support::doctor::Report = crate::support::json_doc(&out.stdout);
    let nvidia = finding(&r, "gpu", "nvidia");
    assert_eq!(
        (nvidia.level, nvidia.detail.as_str()),
        (Level::Info, "nvidia-smi lists no GPU")
    );
}

#[test]
fn a_kfd_topology_of_cpu_nodes_only_lists_no_gpu_and_does_not_panic() {
    let fx = Fixture::new();
    let sys = cpu_only_sysfs(&fx);
    // A rocm release with requirements but no gfx list (only a driver minimum, which is
    // NVIDIA's): any AMD GPU would do, and there is none.
    let rocm = "voicebox-server-rocm";
    let bytes = f::data(MB, 31);
    let mut m = f::json_release(&fx.rel(), rocm, &bytes, MB);
    m.requires = Some(serde_json::from_value(serde_json::json!({"min_driver": "525.60"})).unwrap());
    std::fs::write(
        fx.rel().join(voxctl::manifest::json_manifest_name(rocm)),
        serde_json::to_vec(&m).unwrap(),
    )
    .unwrap();
    let srv = Server::start(&fx.rel());
    let empty = fx.tmp.path().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    fetch(&fx, &srv, "rocm", &path_with(&empty))
        .env("VOXCTL_SYSFS_ROOT", &sys)
        .assert()
        .success()
        .stderr(predicate::str::contains("panicked").not())
        .stderr(predicate::str::contains("the kfd topology lists no GPU"));
    assert_eq!(
        std::fs::read(fx.data().join("backends").join(rocm)).unwrap(),
        bytes
    );
    let out = doctor(&fx, &sys, &["--json"]).output().unwrap();
    let r: crate::support::doctor::Report = crate::support::json_doc(&out.stdout);
    assert_eq!(r.hardware.amd, Probe::Found { gpus: Vec::new() });
    let rocm_finding = finding(&r, "variant", "rocm");
    assert!(
        rocm_finding
            .detail
            .contains("the kfd topology lists no GPU"),
        "{rocm_finding:?}"
    );
}

#[test]
fn a_driver_exactly_at_min_driver_is_accepted() {
    let fx = Fixture::new();
    let bytes = release(&fx, serde_json::json!({"min_driver": "525.60.13"}));
    let srv = Server::start(&fx.rel());
    let at = fake_smi(&fx, "echo 'NVIDIA GeForce RTX 4090, 8.9, 525.60.13'");
    fetch(&fx, &srv, "cuda", &path_with(&at))
        .assert()
        .success()
        .stderr(predicate::str::contains("older than").not());
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);

    // One step below is refused: the check is live at that boundary.
    let fx2 = Fixture::new();
    release(&fx2, serde_json::json!({"min_driver": "525.60.13"}));
    let srv2 = Server::start(&fx2.rel());
    let below = fake_smi(&fx2, "echo 'NVIDIA GeForce RTX 4090, 8.9, 525.60.12'");
    fetch(&fx2, &srv2, "cuda", &path_with(&below))
        .assert()
        .code(5)
        .stderr(predicate::str::contains(
            "driver 525.60.12 is older than the release's minimum 525.60.13",
        ));
}

/// An `nvidia-smi` that appends a line to `calls` each time it is run, then hangs.
fn hung_smi(fx: &Fixture, calls: &Path) -> PathBuf {
    fake_smi(
        fx,
        &format!("echo \"$*\" >> '{}'\nexec sleep 600", calls.display()),
    )
}

#[test]
fn a_hung_nvidia_smi_is_asked_once_and_the_probe_takes_one_timeout() {
    let fx = Fixture::new();
    let sys = fake_sysfs(&fx);
    let calls = fx.tmp.path().join("smi-calls");
    let bin = hung_smi(&fx, &calls);
    let timeout = Duration::from_secs(2);
    let started = Instant::now();
    let out = doctor(&fx, &sys, &["--json", "--detect-timeout", "2s"])
        .env("PATH", path_with(&bin))
        .output()
        .unwrap();
    let took = started.elapsed();
    let r: crate::support::doctor::Report = crate::support::json_doc(&out.stdout);
    match &r.hardware.nvidia {
        Probe::CouldNotDetect { why } => assert!(why.contains("did not answer within 2s"), "{why}"),
        other => panic!("{other:?}"),
    }
    let asked = std::fs::read_to_string(&calls).unwrap();
    assert_eq!(asked.lines().count(), 1, "nvidia-smi was asked: {asked}");
    assert!(asked.contains("compute_cap"), "{asked}");
    // A second query would add a whole timeout; one is the timeout plus doctor's own work.
    assert!(took >= timeout, "{took:?}");
    assert!(took < 2 * timeout, "the probe took {took:?}");
}

#[test]
fn doctor_json_tells_an_absent_amd_driver_from_one_that_could_not_be_read() {
    let fx = Fixture::new();
    // No kfd topology at all: absent.
    let none = fx.tmp.path().join("no-sysfs");
    let r = doctor_json(&fx, &none, &[], 1);
    match &r.hardware.amd {
        Probe::Absent { why } => assert!(why.contains("not found"), "{why}"),
        other => panic!("{other:?}"),
    }
    let out = doctor(&fx, &none, &["--json"]).output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["hardware"]["amd"]["state"], "absent", "{doc}");

    // A node whose properties cannot be read (a directory in its place): could not detect.
    let broken = fx.tmp.path().join("broken-sys");
    std::fs::create_dir_all(broken.join("class/kfd/kfd/topology/nodes/0/properties")).unwrap();
    let r = doctor_json(&fx, &broken, &[], 1);
    match &r.hardware.amd {
        Probe::CouldNotDetect { why } => {
            assert!(
                why.contains("could not detect AMD GPUs: cannot read"),
                "{why}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(finding(&r, "gpu", "amd").level, Level::Warn);
    let out = doctor(&fx, &broken, &["--json"]).output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["hardware"]["amd"]["state"], "could_not_detect", "{doc}");

    // The topology path is not a directory: could not detect either, naming the listing.
    let file = fx.tmp.path().join("file-sys");
    std::fs::create_dir_all(file.join("class/kfd/kfd/topology")).unwrap();
    std::fs::write(file.join("class/kfd/kfd/topology/nodes"), "").unwrap();
    let r = doctor_json(&fx, &file, &[], 1);
    match &r.hardware.amd {
        Probe::CouldNotDetect { why } => assert!(why.contains("cannot list"), "{why}"),
        other => panic!("{other:?}"),
    }
}
