//! Install health: the hardware compatibility preflight of `fetch` against fake
//! `nvidia-smi` programs on `PATH` and a fake sysfs tree, the free-space preflight, and
//! damaged installs found by `verify --installed`, healed by `fetch --repair`, reported by
//! `doctor` and refused by `restart`.

use crate::snapshots::{output_text, pinned, redact};
use crate::support;

use std::path::{Path, PathBuf};

use crate::support::doctor::{Finding, Report};
use predicates::prelude::*;
use support::fetch::{self as f, Fixture, ASSET};
use support::http::Server;
use voxctl::doctor::Level;
use voxctl::installs::InstallRecord;
use voxctl::manifest::{json_manifest_name, part_name, Manifest};

const MB: usize = 1 << 20;
/// The arch list the reference app builds its CUDA backend with.
const REFERENCE_ARCHS: &str = "8.0;8.6;8.9;9.0;12.0+PTX";

/// Writes an executable `nvidia-smi` with `body` into `fx`'s `bin/` and returns the dir.
pub(crate) fn fake_smi(fx: &Fixture, body: &str) -> PathBuf {
    let bin = fx.tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let path = bin.join("nvidia-smi");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(
        &path,
        <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755),
    )
    .unwrap();
    bin
}

/// An `nvidia-smi` that lists one GPU: `name, compute_cap, driver_version`.
fn smi_gpu(fx: &Fixture, name: &str, cap: &str, driver: &str) -> PathBuf {
    fake_smi(fx, &format!("echo '{name}, {cap}, {driver}'"))
}

/// `PATH` with only `bin` and the system dirs (so no real `nvidia-smi` can interfere).
pub(crate) fn path_with(bin: &Path) -> String {
    format!("{}:/usr/bin:/bin", bin.display())
}

/// A release in `fx.rel()`: the cuda asset as a JSON-manifest release stating `requires`
/// (a JSON object), and the cpu and rocm assets as whole files. Returns the cuda bytes.
pub(crate) fn release(fx: &Fixture, requires: serde_json::Value) -> Vec<u8> {
    let bytes = f::data(2 * MB + 11, 7);
    let mut m: Manifest = f::json_release(&fx.rel(), ASSET, &bytes, MB);
    m.requires = Some(serde_json::from_value(requires).unwrap());
    f::write_manifest(&fx.rel(), &m);
    f::whole_release(&fx.rel(), "voicebox-server-cpu", &f::data(MB / 2, 8));
    f::whole_release(&fx.rel(), "voicebox-server-rocm", &f::data(MB / 2, 9));
    bytes
}

fn reference(fx: &Fixture) -> Vec<u8> {
    release(
        fx,
        serde_json::json!({"cuda_arch_list": REFERENCE_ARCHS, "min_driver": "525.60"}),
    )
}

/// `voxctl fetch --variant VARIANT` from `srv` with `PATH` set to `path`.
pub(crate) fn fetch(fx: &Fixture, srv: &Server, variant: &str, path: &str) -> assert_cmd::Command {
    let mut args = fx.args(&srv.url());
    assert_eq!(args[..3], ["fetch", "--variant", "cuda"]);
    args[2] = variant.to_string();
    let mut cmd = support::voxctl(&fx.state());
    cmd.args(&args).env("PATH", path);
    cmd
}

/// Runs `cmd` and compares its whole transcript with snapshot `name`, `fx`'s directory
/// redacted (as [`pinned`] does the rest).
fn pin(name: &str, fx: &Fixture, cmd: &mut assert_cmd::Command) {
    let out = cmd.output().unwrap();
    pinned(name, &redact(&output_text(&out), fx.tmp.path()), false);
}

pub(crate) fn installed(fx: &Fixture, asset: &str) -> bool {
    fx.data().join("backends").join(asset).is_file()
}

#[test]
fn split_records_the_requirements_and_older_manifests_stay_readable() {
    let fx = Fixture::new();
    let input = fx.tmp.path().join(ASSET);
    std::fs::write(&input, f::data(3000, 1)).unwrap();
    let out = fx.tmp.path().join("dist");
    support::voxctl(&fx.state())
        .args(["split", "--chunk-size", "1000", "--out"])
        .arg(&out)
        .arg(&input)
        .args(["--cuda-arch-list", REFERENCE_ARCHS])
        .args(["--min-driver", "525.60.13", "--rocm-gfx", "gfx1030;gfx1100"])
        .assert()
        .success();
    let m = voxctl::manifest::Manifest::from_json(
        &std::fs::read(out.join(json_manifest_name(ASSET))).unwrap(),
    )
    .unwrap();
    assert_eq!(m.version, 1, "optional fields keep the format version");
    let requires = m.requires.expect("requires");
    assert_eq!(
        requires.cuda_arch_list.map(|l| l.to_string()).as_deref(),
        Some(REFERENCE_ARCHS)
    );
    assert_eq!(
        requires.min_driver.map(|d| d.to_string()).as_deref(),
        Some("525.60.13")
    );
    assert_eq!(
        requires.rocm_gfx.map(|g| g.to_string()).as_deref(),
        Some("gfx1030;gfx1100")
    );
    // Without the flags there is no "requires" at all.
    support::voxctl(&fx.state())
        .args(["split", "--force", "--chunk-size", "1000", "--out"])
        .arg(&out)
        .arg(&input)
        .assert()
        .success();
    // Not even `"requires": null`: the manifest is byte-for-byte what readers without the
    // field have always seen.
    let text = std::fs::read_to_string(out.join(json_manifest_name(ASSET))).unwrap();
    assert!(!text.contains("\"requires\""), "{text}");
    assert!(voxctl::manifest::Manifest::from_json(text.as_bytes())
        .unwrap()
        .requires
        .is_none());
    // A bad list is a usage error.
    support::voxctl(&fx.state())
        .args(["split", "--out"])
        .arg(&out)
        .arg(&input)
        .args(["--cuda-arch-list", "sm_80"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("TORCH_CUDA_ARCH_LIST"));
}

#[test]
fn gtx_1060_is_refused_before_any_download_and_force_does_not_skip_the_check() {
    let fx = Fixture::new();
    reference(&fx);
    let srv = Server::start(&fx.rel());
    let bin = smi_gpu(&fx, "NVIDIA GeForce GTX 1060 6GB", "6.1", "550.54.14");
    // Refused (exit 5), naming the GPU, its capability, the release's list and the fix.
    for (extra, name) in [
        (&[][..], "health_gtx_1060_refused"),
        (&["--force"][..], "health_gtx_1060_refused_force"),
    ] {
        pin(
            name,
            &fx,
            fetch(&fx, &srv, "cuda", &path_with(&bin)).args(extra),
        );
    }
    assert!(
        srv.downloads(&part_name(ASSET, 0)).is_empty(),
        "nothing downloaded"
    );
    assert!(!fx.partial().exists());
    fetch(&fx, &srv, "cuda", &path_with(&bin))
        .arg("--skip-compat-check")
        .assert()
        .success();
    assert!(installed(&fx, ASSET));
    // auto on this GPU takes cpu, saying why.
    pin(
        "health_gtx_1060_auto",
        &fx,
        &mut fetch(&fx, &srv, "auto", &path_with(&bin)),
    );
    assert!(installed(&fx, "voicebox-server-cpu"));
}

#[test]
fn rtx_4090_exact_12_0_and_12_1_through_ptx_are_accepted() {
    for (name, cap, snapshot) in [
        ("NVIDIA GeForce RTX 4090", "8.9", "health_rtx_4090_accepted"),
        (
            "NVIDIA GeForce RTX 5090",
            "12.0",
            "health_rtx_5090_accepted",
        ),
        ("NVIDIA Future GPU", "12.1", "health_ptx_12_1_accepted"),
    ] {
        let fx = Fixture::new();
        let bytes = reference(&fx);
        let srv = Server::start(&fx.rel());
        let bin = smi_gpu(&fx, name, cap, "570.86.10");
        // The requirements met, by which GPU.
        pin(
            snapshot,
            &fx,
            &mut fetch(&fx, &srv, "cuda", &path_with(&bin)),
        );
        assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes, "{name}");
        // auto picks cuda on it.
        std::fs::remove_dir_all(fx.data()).unwrap();
        fetch(&fx, &srv, "auto", &path_with(&bin))
            .assert()
            .success();
        assert!(installed(&fx, ASSET), "{name}: auto took cuda");
    }
}

/// `nvidia-smi` of a driver older than 510: the `compute_cap` field is unknown and fails
/// the whole query.
const OLD_DRIVER_SMI: &str = r#"case "$1" in *compute_cap*) echo 'Field "compute_cap" is not a valid field to query.' >&2; exit 2;; esac
echo 'NVIDIA GeForce GTX 1080, 470.82.01'"#;

#[test]
fn a_driver_below_min_driver_is_refused_even_with_an_unknown_capability() {
    let fx = Fixture::new();
    reference(&fx);
    let srv = Server::start(&fx.rel());
    let bin = fake_smi(&fx, OLD_DRIVER_SMI);
    pin(
        "health_old_driver_refused",
        &fx,
        &mut fetch(&fx, &srv, "cuda", &path_with(&bin)),
    );
    assert!(srv.downloads(&part_name(ASSET, 0)).is_empty());
    // The same old driver without a driver requirement: the unknown capability is no
    // reason to refuse.
    let fx2 = Fixture::new();
    release(&fx2, serde_json::json!({"cuda_arch_list": REFERENCE_ARCHS}));
    let srv2 = Server::start(&fx2.rel());
    let bin2 = fake_smi(&fx2, OLD_DRIVER_SMI);
    pin(
        "health_old_driver_accepted",
        &fx2,
        &mut fetch(&fx2, &srv2, "cuda", &path_with(&bin2)),
    );
}

#[test]
fn a_hanging_nvidia_smi_times_out_could_not_detect_refuses_nothing_and_auto_takes_cpu() {
    let fx = Fixture::new();
    let bytes = reference(&fx);
    let srv = Server::start(&fx.rel());
    let bin = fake_smi(&fx, "sleep 600");
    fetch(&fx, &srv, "cuda", &path_with(&bin))
        .args(["--detect-timeout", "1s"])
        .assert()
        .success()
        .stderr(predicate::str::contains("could not detect NVIDIA GPUs"))
        .stderr(predicate::str::contains("did not answer within 1s"));
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    std::fs::remove_dir_all(fx.data()).unwrap();
    fetch(&fx, &srv, "auto", &path_with(&bin))
        .args(["--detect-timeout", "1s"])
        .assert()
        .success()
        .stderr(predicate::str::contains("variant auto: cpu"))
        .stderr(predicate::str::contains("could not detect NVIDIA GPUs"));
    assert!(installed(&fx, "voicebox-server-cpu"));
    assert!(!installed(&fx, ASSET));
}

#[test]
fn without_nvidia_smi_auto_takes_cpu() {
    let fx = Fixture::new();
    reference(&fx);
    let srv = Server::start(&fx.rel());
    let empty = fx.tmp.path().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    pin(
        "health_auto_without_nvidia_smi",
        &fx,
        fetch(&fx, &srv, "auto", &path_with(&empty))
            .env("VOXCTL_SYSFS_ROOT", fx.tmp.path().join("no-sysfs")),
    );
    assert!(installed(&fx, "voicebox-server-cpu"));
}

/// A fake sysfs with a CPU node (gfx_target_version 0) and a gfx1030 GPU node.
pub(crate) fn fake_sysfs(fx: &Fixture) -> PathBuf {
    let root = fx.tmp.path().join("sys");
    for (node, version) in [("0", 0), ("1", 100300)] {
        let dir = root.join("class/kfd/kfd/topology/nodes").join(node);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("properties"),
            format!(
                "cpu_cores_count 0\nsimd_count 80\ngfx_target_version {version}\nvendor_id 4098\n"
            ),
        )
        .unwrap();
    }
    root
}

#[test]
fn a_gfx1030_in_a_fake_sysfs_is_judged_against_the_rocm_list() {
    let fx = Fixture::new();
    let sys = fake_sysfs(&fx);
    let empty = fx.tmp.path().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    // The rocm release states its targets in its JSON manifest.
    let rocm = "voicebox-server-rocm";
    let write_rocm = |gfx: &str| {
        let mut m = f::json_release(&fx.rel(), rocm, &f::data(MB, 3), MB);
        m.requires = Some(serde_json::from_value(serde_json::json!({"rocm_gfx": gfx})).unwrap());
        std::fs::write(
            fx.rel().join(json_manifest_name(rocm)),
            serde_json::to_vec(&m).unwrap(),
        )
        .unwrap();
    };
    f::whole_release(&fx.rel(), "voicebox-server-cpu", &f::data(MB / 2, 8));
    write_rocm("gfx1100;gfx1101");
    let srv = Server::start(&fx.rel());
    pin(
        "health_rocm_refused",
        &fx,
        fetch(&fx, &srv, "rocm", &path_with(&empty)).env("VOXCTL_SYSFS_ROOT", &sys),
    );
    write_rocm("gfx1030;gfx1100");
    pin(
        "health_rocm_auto",
        &fx,
        fetch(&fx, &srv, "auto", &path_with(&empty)).env("VOXCTL_SYSFS_ROOT", &sys),
    );
    assert!(installed(&fx, rocm));
}

/// Damage done to an install.
#[derive(Clone, Copy, Debug)]
enum Damage {
    Truncate,
    FlipByte,
}

fn damage(path: &Path, how: Damage) {
    let mut bytes = std::fs::read(path).unwrap();
    match how {
        Damage::Truncate => bytes.truncate(bytes.len() / 3),
        Damage::FlipByte => {
            let i = bytes.len() / 2;
            bytes[i] ^= 0x40;
        }
    }
    // Written in place, as a disk error or a stray write would (not a new inode).
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// `voxctl verify --installed ARGS` for `fx`'s data dir.
pub(crate) fn verify_installed(fx: &Fixture, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = support::voxctl(&fx.state());
    cmd.args(["verify", "--installed"])
        .args(args)
        .arg("--data-dir")
        .arg(fx.data());
    cmd
}

/// The archive release of the archive tests: the executable and two libraries.
pub(crate) fn archive(fx: &Fixture) -> Vec<u8> {
    let exe = f::data(300 * 1024, 21);
    let lib = f::data(200 * 1024, 22);
    let other = f::data(100 * 1024, 23);
    f::archive_release(
        &fx.rel(),
        ASSET,
        &[
            f::Entry::File(ASSET, 0o755, &exe),
            f::Entry::Dir("lib"),
            f::Entry::File("lib/libtorch_cuda.so", 0o644, &lib),
            f::Entry::File("lib/libc10.so", 0o644, &other),
            f::Entry::Symlink("lib/libc10.so.2", "libc10.so"),
        ],
    )
}

/// `voxctl fetch --repair --variant cuda` for `fx`'s data dir (the source comes from the
/// install record).
pub(crate) fn repair(fx: &Fixture) -> assert_cmd::Command {
    let mut cmd = support::voxctl(&fx.state());
    cmd.args(["fetch", "--repair", "--variant", "cuda", "--data-dir"])
        .arg(fx.data());
    cmd
}

#[test]
fn a_truncated_binary_and_a_flipped_byte_are_found_and_repaired_from_the_recorded_release() {
    for how in [Damage::Truncate, Damage::FlipByte] {
        let fx = Fixture::new();
        let bytes = f::data(MB + 3, 5);
        f::whole_release(&fx.rel(), ASSET, &bytes);
        let srv = Server::start(&fx.rel());
        fx.fetch(&srv.url()).assert().success();
        verify_installed(&fx, &[])
            .assert()
            .success()
            .stdout(format!("{ASSET}: OK\n"));
        // Intact: a repair checks and downloads nothing.
        pin("health_repair_intact", &fx, &mut repair(&fx));
        assert_eq!(srv.downloads(ASSET).len(), 1);
        damage(&fx.installed(), how);
        let kind = format!("{how:?}").to_lowercase();
        pin(
            &format!("health_verify_{kind}"),
            &fx,
            &mut verify_installed(&fx, &["cuda"]),
        );
        pin(&format!("health_repair_{kind}"), &fx, &mut repair(&fx));
        assert_eq!(
            srv.downloads(ASSET).len(),
            2,
            "{how:?}: the whole asset again"
        );
        assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
        verify_installed(&fx, &["cuda"]).assert().success();
    }
}

#[test]
fn a_repair_never_becomes_an_upgrade() {
    let fx = Fixture::new();
    f::whole_release(&fx.rel(), ASSET, &f::data(MB, 5));
    fx.fetch(fx.rel().to_str().unwrap()).assert().success();
    damage(&fx.installed(), Damage::Truncate);
    // The release now holds another build.
    f::whole_release(&fx.rel(), ASSET, &f::data(MB, 6));
    pin("health_repair_not_an_upgrade", &fx, &mut repair(&fx));
}

#[test]
fn a_deleted_library_in_an_archive_install_is_found_and_only_it_is_replaced() {
    let fx = Fixture::new();
    archive(&fx);
    let srv = Server::start(&fx.rel());
    fx.fetch(&srv.url()).assert().success();
    let rec: InstallRecord = serde_json::from_slice(
        &std::fs::read(fx.data().join(format!("backends/{ASSET}.install.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(rec.files.as_ref().map(Vec::len), Some(4), "{rec:?}");
    verify_installed(&fx, &["cuda"]).assert().success();
    let dir = fx.data().join("backends/cuda");
    std::fs::remove_file(dir.join("lib/libtorch_cuda.so")).unwrap();
    pin(
        "health_verify_archive_missing_file",
        &fx,
        &mut verify_installed(&fx, &["cuda"]),
    );
    let inode = |p: &Path| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap());
    let (exe_inode, lib_inode) = (inode(&dir.join(ASSET)), inode(&dir.join("lib/libc10.so")));
    pin("health_repair_archive_one_file", &fx, &mut repair(&fx));
    assert_eq!(srv.downloads(&format!("{ASSET}.tar.gz")).len(), 2);
    verify_installed(&fx, &["cuda"]).assert().success();
    assert_eq!(
        inode(&dir.join(ASSET)),
        exe_inode,
        "intact files are left alone"
    );
    assert_eq!(inode(&dir.join("lib/libc10.so")), lib_inode);
    // Nothing installed for another variant: exit 3 with the fetch to run.
    pin(
        "health_verify_not_installed",
        &fx,
        &mut verify_installed(&fx, &["rocm"]),
    );
}

#[test]
fn restart_refuses_a_truncated_variant_before_running_it() {
    let env = support::restart::Env::new();
    let binary = env.install("cpu", "", None);
    // Truncated to a shell script that would tell if it ran: `--version` is never asked.
    // (The same length wherever the test runs: the size is in the message.)
    let witness = std::path::PathBuf::from(format!("{}.ran", binary.display()));
    std::fs::write(
        &binary,
        "#!/bin/sh\ntouch \"$0.ran\"\necho voicebox-server 0.1.0\n",
    )
    .unwrap();
    let out = env.restart("cpu", &[]).output().unwrap();
    pinned(
        "health_restart_refuses_damaged",
        &crate::snapshots::redact_fixture(&redact(&output_text(&out), env.tmp.path())),
        false,
    );
    assert!(!witness.exists(), "the damaged binary was run");
    assert!(env.record().is_none(), "nothing was started");
}

/// `restart --variant auto` asks the same detector as `fetch --variant auto` (`nvidia-smi`,
/// then the kfd topology): an `nvidia-smi` listing a GPU picks cuda, none on `PATH` picks cpu,
/// each saying why. (A check of driver files alone would pick cpu here, with no NVIDIA driver
/// on the machine.)
#[test]
fn restart_auto_picks_the_variant_fetch_auto_picks() {
    let env = support::restart::Env::new();
    env.install("cpu", "", None);
    env.install("cuda", "", None);
    let with_gpu = env.tmp.path().join("gpu-bin");
    let without = env.tmp.path().join("empty-bin");
    std::fs::create_dir_all(&without).unwrap();
    std::fs::create_dir_all(&with_gpu).unwrap();
    let smi = with_gpu.join("nvidia-smi");
    std::fs::write(
        &smi,
        "#!/bin/sh\necho 'NVIDIA GeForce RTX 4090, 8.9, 550.54'\n",
    )
    .unwrap();
    std::fs::set_permissions(
        &smi,
        <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755),
    )
    .unwrap();
    for (bin, want, why) in [
        (
            &with_gpu,
            "cuda",
            "variant auto: cuda (NVIDIA GPU NVIDIA GeForce RTX 4090",
        ),
        (&without, "cpu", "variant auto: cpu (nvidia-smi not found"),
    ] {
        let out = env
            .restart("auto", &[])
            .env("PATH", path_with(bin))
            .env("VOXCTL_SYSFS_ROOT", env.tmp.path().join("no-sysfs"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert!(err.contains(why), "{err}");
        let record = env.record().expect("a backend was started");
        assert_eq!(record.variant.to_string(), want, "{err}");
    }
}

/// `voxctl doctor ARGS` for `fx`, with no `nvidia-smi` on `PATH` and the fake sysfs.
pub(crate) fn doctor(fx: &Fixture, sys: &Path, args: &[&str]) -> assert_cmd::Command {
    let empty = fx.tmp.path().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let mut cmd = support::voxctl(&fx.state());
    cmd.arg("doctor")
        .args(args)
        .arg("--data-dir")
        .arg(fx.data())
        .env("PATH", path_with(&empty))
        .env("VOXCTL_SYSFS_ROOT", sys);
    cmd
}

pub(crate) fn doctor_json(fx: &Fixture, sys: &Path, args: &[&str], code: i32) -> Report {
    let out = doctor(fx, sys, &[&["--json"], args].concat())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    support::json_doc(&out.stdout)
}

pub(crate) fn finding<'a>(report: &'a Report, check: &str, subject: &str) -> &'a Finding {
    report
        .findings
        .iter()
        .find(|f| f.check == check && f.subject.contains(subject))
        .unwrap_or_else(|| panic!("no {check} finding for {subject}: {report:#?}"))
}

#[test]
fn doctor_reports_gpus_installs_partials_and_dirs_with_the_fix_for_each_failure() {
    let fx = Fixture::new();
    let sys = fake_sysfs(&fx);
    // Nothing installed: a failure, with the fetch to run; no NVIDIA GPU is only a fact.
    let r = doctor_json(&fx, &sys, &[], 1);
    assert_eq!(
        finding(&r, "installed", "none").fix.as_deref(),
        Some("voxctl fetch --variant auto")
    );
    assert_eq!(finding(&r, "gpu", "nvidia").level, Level::Info);
    assert_eq!(finding(&r, "gpu", "AMD gfx1030").level, Level::Pass);
    assert_eq!(finding(&r, "variant", "rocm").level, Level::Pass);
    assert_eq!(finding(&r, "variant", "cuda").level, Level::Info);
    assert!(!r.ok);
    assert!(
        matches!(r.hardware.nvidia, voxctl::gpu::Probe::Absent { .. }),
        "{:?}",
        r.hardware
    );
    assert_eq!(r.hardware.amd.gpus()[0].gfx, "gfx1030");
    // NVIDIA GPUs as `nvidia-smi` lists them: a capability and a driver, or an unknown
    // capability (`[N/A]`, drivers older than 510), read back as the library's types.
    let smi = fake_smi(
        &fx,
        "echo 'NVIDIA GeForce RTX 4090, 8.9, 550.54.14'; echo 'Tesla K80, [N/A], 470.82.01'",
    );
    let out = doctor(&fx, &sys, &["--json"])
        .env("PATH", path_with(&smi))
        .output()
        .unwrap();
    let r: Report = support::json_doc(&out.stdout);
    let gpus = r.hardware.nvidia.gpus();
    assert_eq!(gpus.len(), 2, "{:?}", r.hardware);
    assert_eq!(
        (
            gpus[0].compute_cap,
            gpus[0].driver.as_ref().map(|d| d.to_string())
        ),
        ("8.9".parse().ok(), Some("550.54.14".to_string()))
    );
    assert_eq!(
        (gpus[1].name.as_str(), gpus[1].compute_cap),
        ("Tesla K80", None)
    );
    assert_eq!(finding(&r, "variant", "cuda").level, Level::Pass);

    f::whole_release(&fx.rel(), ASSET, &f::data(MB, 5));
    fx.fetch(fx.rel().to_str().unwrap()).assert().success();
    let r = doctor_json(&fx, &sys, &[], 0);
    assert!(r.ok, "{r:#?}");
    assert_eq!(finding(&r, "installed", ASSET).level, Level::Pass);
    assert_eq!(finding(&r, "free_space", "").level, Level::Pass);
    assert_eq!(finding(&r, "backend", "").level, Level::Info);

    // A flipped byte passes the quick check and fails the deep one.
    damage(&fx.installed(), Damage::FlipByte);
    doctor_json(&fx, &sys, &[], 0);
    let r = doctor_json(&fx, &sys, &["--deep"], 1);
    let f = finding(&r, "installed", ASSET);
    assert_eq!(f.level, Level::Fail);
    assert_eq!(
        f.fix.as_deref(),
        Some("voxctl fetch --repair --variant cuda")
    );
    // A truncated one fails the quick check; the table names the fix.
    damage(&fx.installed(), Damage::Truncate);
    for dir in [fx.data(), fx.data().join("backends")] {
        // The modes the table reports, whatever the umask.
        std::fs::set_permissions(
            dir,
            <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755),
        )
        .unwrap();
    }
    let out = doctor(&fx, &sys, &[]).output().unwrap();
    // Table columns are as wide as the temporary paths: runs of spaces count as one.
    pinned(
        "health_doctor_truncated",
        &redact(&output_text(&out), fx.tmp.path()),
        true,
    );

    // A partial download is a warning; a state dir others can write to is a failure.
    let partial = fx.partial();
    std::fs::create_dir_all(&partial).unwrap();
    std::fs::write(partial.join("x.download"), vec![1u8; 8192]).unwrap();
    let state = fx.state();
    std::fs::set_permissions(
        &state,
        <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o777),
    )
    .unwrap();
    let r = doctor_json(&fx, &sys, &[], 1);
    let p = finding(&r, "partial", ASSET);
    assert_eq!(p.level, Level::Warn);
    assert!(p
        .fix
        .as_deref()
        .unwrap()
        .contains("voxctl fetch --variant cuda"));
    let s = finding(&r, "state_dir", "state");
    assert_eq!(s.level, Level::Fail, "{s:?}");
    assert_eq!(
        s.fix.as_deref(),
        Some(format!("chmod 755 {}", state.display()).as_str())
    );
}

/// The preflight order on a data dir on a small tmpfs: the compatibility check passes (an
/// RTX 4090), then the free space is found short before a byte is downloaded (exit 1,
/// naming needed and available); `doctor` fails the free-space check when the filesystem
/// cannot hold another copy of the largest install. Linux only: the small filesystem is a
/// tmpfs mount.
#[cfg(target_os = "linux")]
#[test]
fn a_data_dir_on_a_small_tmpfs_fails_the_free_space_preflight_before_any_download() {
    let fx = Fixture::new();
    let bytes = reference(&fx); // 2 MiB + 11 bytes, requires CUDA archs and a driver
    let srv = Server::start(&fx.rel());
    let bin = smi_gpu(&fx, "NVIDIA GeForce RTX 4090", "8.9", "570.86.10");
    let _fs = support::Tmpfs::mount(&fx.data(), "1m");
    fetch(&fx, &srv, "cuda", &path_with(&bin))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("requirements are met"))
        // Both sizes in IEC units, as all human output gives them.
        .stderr(predicate::str::contains(format!(
            "needs {} more, ",
            voxctl::size::iec(bytes.len() as u64)
        )))
        .stderr(predicate::str::contains(" available"));
    for i in 0..3 {
        assert!(srv.downloads(&part_name(ASSET, i)).is_empty(), "part {i}");
    }
    assert!(!fx.installed().exists());

    // 600 KiB installed on a 1 MiB filesystem: no room for another copy.
    f::whole_release(&fx.rel(), "voicebox-server-cpu", &f::data(600 << 10, 4));
    fetch(&fx, &srv, "cpu", &path_with(&bin)).assert().success();
    let sys = fx.tmp.path().join("no-sysfs");
    let r = doctor_json(&fx, &sys, &[], 1);
    let f = finding(&r, "free_space", "");
    assert_eq!(f.level, Level::Fail, "{f:?}");
    assert!(
        f.fix.as_deref().unwrap().starts_with("free at least"),
        "{f:?}"
    );
}

/// The install record keeps a GitHub "latest" release as its tag's URL, and a repair goes to
/// that tag even after "latest" has moved on.
#[test]
fn a_latest_release_is_recorded_as_its_tag_and_repaired_from_that_tag() {
    let fx = Fixture::new();
    let bytes = f::data(MB + 1, 31);
    f::whole_release(&fx.rel(), ASSET, &bytes);
    let srv = Server::start(&fx.rel());
    srv.set(|s| s.github_tag = Some("v0.3.1".into()));
    let latest = format!("{}/gh/releases/latest/download", srv.url());
    fx.fetch(&latest).assert().success();
    let rec: InstallRecord = serde_json::from_slice(
        &std::fs::read(fx.data().join(format!("backends/{ASSET}.install.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(
        rec.source,
        format!("{}/gh/releases/download/v0.3.1", srv.url()),
        "{rec:?}"
    );
    assert_eq!(rec.version.as_deref(), Some("v0.3.1"));
    srv.set(|s| s.github_tag = Some("v0.4.0".into()));
    let before = srv.log().len();
    damage(&fx.installed(), Damage::Truncate);
    repair(&fx).assert().success();
    let paths: Vec<String> = srv.log()[before..].iter().map(|l| l.path.clone()).collect();
    assert!(!paths.is_empty());
    for p in &paths {
        assert!(p.starts_with("/gh/releases/download/v0.3.1/"), "{paths:?}");
    }
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
}

/// `--variant auto` settles on its variant before it takes a fetch slot: falling back to cpu,
/// it needs the cpu asset's slot (a concurrent `fetch --variant cpu` holds it: exit 4), not
/// the candidate's.
#[test]
fn auto_takes_the_slot_of_the_variant_it_settles_on() {
    let fx = Fixture::new();
    reference(&fx);
    let srv = Server::start(&fx.rel());
    let bin = smi_gpu(&fx, "NVIDIA GeForce GTX 1060 6GB", "6.1", "550.54.14");
    let state = voxctl::state::StateDir::open(Some(&fx.state())).unwrap();
    let table = voxctl::slot::SlotTable::new(&state).unwrap();
    let held = table
        .try_acquire("fetch-voicebox-server-cpu")
        .unwrap()
        .guard()
        .unwrap();
    // The slot's holder is this test process, named by its command line.
    let out = fetch(&fx, &srv, "auto", &path_with(&bin)).output().unwrap();
    let this = std::fs::read("/proc/self/cmdline").unwrap();
    let this: Vec<String> = this
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let text = output_text(&out).replace(&this.join(" "), "[THIS TEST]");
    pinned(
        "health_auto_slot_busy",
        &redact(&text, fx.tmp.path()),
        false,
    );
    drop(held);
    fetch(&fx, &srv, "auto", &path_with(&bin))
        .assert()
        .success();
    assert!(installed(&fx, "voicebox-server-cpu"));
}

/// `doctor` warns of a GPU variant installed where no GPU for it is seen, and `status` and
/// `doctor` both say when the installed version is not the one running: a newer cpu build is
/// fetched while the old one runs, and only a restart makes it the running one.
#[test]
fn doctor_and_status_say_a_restart_is_needed_and_warn_of_cuda_without_a_gpu() {
    let env = support::restart::Env::new();
    env.install("cpu", "", Some("0.1.0"));
    env.install("cuda", "", Some("0.1.0"));
    let out = env.restart("cpu", &[]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    env.record();
    let no_gpu = env.tmp.path().join("empty-bin");
    std::fs::create_dir_all(&no_gpu).unwrap();
    let doctor = || {
        let out = support::voxctl(&env.state)
            .args(["doctor", "--json", "--data-dir"])
            .arg(&env.data)
            .env("PATH", path_with(&no_gpu))
            .env("VOXCTL_SYSFS_ROOT", env.tmp.path().join("no-sysfs"))
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        support::json_doc::<Report>(&out.stdout)
    };
    let backend_warnings = |r: &Report| -> Vec<Finding> {
        r.findings
            .iter()
            .filter(|f| f.check == "backend" && f.level == Level::Warn)
            .cloned()
            .collect()
    };

    let r = doctor();
    let cuda = finding(&r, "variant", "cuda");
    assert_eq!(cuda.level, Level::Warn, "{cuda:?}");
    assert!(
        cuda.detail.contains("installed, but no usable GPU"),
        "{cuda:?}"
    );
    assert_eq!(cuda.fix.as_deref(), Some("voxctl restart --variant cpu"));
    assert_eq!(finding(&r, "variant", "rocm").level, Level::Info);
    assert!(backend_warnings(&r).is_empty(), "{r:#?}");
    assert_eq!(env.status().backend.unwrap().restart_needed, None);

    // A newer cpu build (the fixture padded, so it differs) is fetched while 0.1.0 runs:
    // installed by rename, recorded as v0.2.0.
    let rel = env.tmp.path().join("release");
    let mut bytes = std::fs::read(support::restart::fixture_bin()).unwrap();
    bytes.extend_from_slice(&[0u8; 4096]);
    f::whole_release(&rel, "voicebox-server-cpu", &bytes);
    support::voxctl(&env.state)
        .args(["fetch", "--variant", "cpu", "--tag", "v0.2.0", "--source"])
        .arg(&rel)
        .arg("--data-dir")
        .arg(&env.data)
        .assert()
        .success();
    let needed = env.status().backend.unwrap().restart_needed;
    assert!(
        needed
            .as_deref()
            .is_some_and(|n| n.contains("version v0.2.0 is installed but 0.1.0 runs")),
        "{needed:?}"
    );
    env.status_cmd(&[])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "restart needed (`voxctl restart --variant cpu`)",
        ));
    let warned = backend_warnings(&doctor());
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(warned[0].detail.contains("restart needed"), "{warned:?}");
    assert_eq!(
        warned[0].fix.as_deref(),
        Some("voxctl restart --variant cpu")
    );
    // With no version to tell them apart, the replaced file says it: the process runs
    // another inode than the one installed now.
    env.set_record_version("cpu", "0.1.0");
    let needed = env.status().backend.unwrap().restart_needed;
    assert!(
        needed
            .as_deref()
            .is_some_and(|n| n.contains("binary was replaced")),
        "{needed:?}"
    );
    env.set_record_version("cpu", "v0.2.0");

    // The restart runs the new build (which reports 0.2.0): nothing more to say.
    let cpu = env.backends().asset_path("voicebox-server-cpu");
    std::fs::write(format!("{}.fixture", cpu.display()), "version=0.2.0\n").unwrap();
    let out = env.restart("cpu", &[]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    env.record();
    assert_eq!(env.status().backend.unwrap().restart_needed, None);
    assert!(backend_warnings(&doctor()).is_empty());
}

#[test]
fn doctor_s_table_gives_each_finding_its_level_word_and_json_the_same_findings() {
    let fx = Fixture::new();
    let sys = fake_sysfs(&fx);
    let r = doctor_json(&fx, &sys, &[], 1);
    let out = doctor(&fx, &sys, &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let table = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<&str>> = table
        .lines()
        .skip(1)
        .filter(|l| !l.starts_with(' '))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), r.findings.len(), "{table}");
    for (row, f) in rows.iter().zip(&r.findings) {
        let word = match f.level {
            Level::Pass => "ok",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        };
        assert_eq!(row[0], f.check, "{table}");
        assert!(
            row.contains(&word),
            "{:?} finding {} {} shown as {row:?}",
            f.level,
            f.check,
            f.subject
        );
    }
    assert!(rows.iter().any(|r| r.contains(&"FAIL")), "{table}");
    assert!(rows.iter().any(|r| r.contains(&"ok")), "{table}");
}
