//! `doctor` at its edges: each GPU named with what was read of it, an installed variant
//! judged against its own release's requirements (a failure with the fix when its GPU cannot
//! run it, a warning when no GPU is seen, the fix depending on whether cpu is installed), a
//! partial download's size on disk, and directories that do not exist yet told from ones
//! that cannot be looked at.

use std::path::Path;

use voxctl::doctor::{Finding, Level, Report};

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

#[test]
fn a_directory_that_does_not_exist_yet_is_a_fact_and_one_that_cannot_be_looked_at_fails() {
    let fx = Fixture::new();
    let sys = fake_sysfs(&fx);
    let nowhere = fx.tmp.path().join("nowhere");
    // The state dir below a regular file: stat fails with ENOTDIR, which is no "not yet".
    let file = fx.tmp.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let state = file.join("state");
    let out = crate::support::voxctl(&state)
        .args(["doctor", "--json", "--data-dir"])
        .arg(&nowhere)
        .env("PATH", "/usr/bin:/bin")
        .env("VOXCTL_SYSFS_ROOT", &sys)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Report = crate::support::json_doc(&out.stdout);
    let data: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.check == "data_dir")
        .collect();
    assert_eq!(data.len(), 2, "{r:#?}");
    for f in data {
        assert_eq!(
            (f.level, f.detail.as_str()),
            (Level::Info, "does not exist yet"),
            "{f:?}"
        );
    }
    let s = finding(&r, "state_dir", "state");
    assert_eq!(s.level, Level::Fail, "{s:?}");
    assert!(s.detail.starts_with("cannot stat: "), "{s:?}");
}
