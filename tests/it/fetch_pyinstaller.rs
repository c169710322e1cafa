//! Real data: the PyInstaller pair of `tests/fixtures/pyinstaller` (18 MB one-file
//! builds of a small Python server, v2 with a code change and one bumped dependency), each
//! split by `voxctl split` into a release served by a real nginx on loopback: v1 is installed,
//! then the update to v2 must install exactly the new build, and the installed binary runs.

use crate::support;

use std::path::Path;
use std::process::Command;

use support::fetch::{Fixture, ASSET};
use support::nginx::Nginx;
use support::pyinstaller;

/// What `BINARY --version` prints (first line, trimmed).
fn version(binary: &Path) -> String {
    let out = Command::new(binary).arg("--version").output().unwrap();
    assert!(
        out.status.success(),
        "{} --version: {out:?}",
        binary.display()
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn pyinstaller_update_installs_the_new_build_byte_for_byte() {
    let (old, new) = pyinstaller::pair();
    assert_eq!(version(&old), "voicebox-server 0.3.0");
    assert_eq!(version(&new), "voicebox-server 0.3.1");
    let (old_bytes, new_bytes) = (std::fs::read(&old).unwrap(), std::fs::read(&new).unwrap());
    assert_ne!(old_bytes, new_bytes);

    // Two releases as release CI makes them, two parts each.
    let fx = Fixture::new();
    for (tag, binary) in [("v1", &old), ("v2", &new)] {
        let build = fx.tmp.path().join("build").join(tag);
        std::fs::create_dir_all(&build).unwrap();
        std::fs::copy(binary, build.join(ASSET)).unwrap();
        support::voxctl(&fx.state())
            .args([
                "-q",
                "split",
                "--variant",
                "cuda",
                "--part-size",
                "10MB",
                "--out",
            ])
            .arg(fx.rel().join(tag))
            .arg(build.join(ASSET))
            .assert()
            .success();
    }
    let nginx = Nginx::start(&fx.rel(), "");

    fx.fetch(&format!("{}/v1", nginx.url())).assert().success();
    assert!(
        std::fs::read(fx.installed()).unwrap() == old_bytes,
        "v1 install differs"
    );

    let before = nginx.access_log().len();
    fx.fetch(&format!("{}/v2", nginx.url())).assert().success();
    assert!(
        std::fs::read(fx.installed()).unwrap() == new_bytes,
        "v2 install differs"
    );
    assert_eq!(version(&fx.installed()), "voicebox-server 0.3.1");
    let update = nginx.access_log().split_off(before);
    assert!(
        !update.is_empty() && update.iter().all(|l| l.contains(" /v2/")),
        "the update asked for something other than v2's files: {update:#?}"
    );
    // A differential update: the parts only by single ranges, and everything sent for it
    // (manifests, the chunk index, the ranges) a small fraction of the new build. Log lines
    // are `METHOD URI STATUS "RANGE" BYTES`.
    let mut sent = 0u64;
    let mut ranged = 0;
    for line in &update {
        let f: Vec<&str> = line.split(' ').collect();
        sent += f[4].parse::<u64>().unwrap();
        if f[1].contains(".part") {
            assert_eq!(f[2], "206", "a part asked for whole: {line}");
            let range = f[3].trim_matches('"').strip_prefix("bytes=").unwrap();
            let (a, b) = range.split_once('-').unwrap();
            assert!(
                a.parse::<u64>().is_ok() && b.parse::<u64>().is_ok(),
                "not one closed range: {line}"
            );
            ranged += 1;
        }
    }
    assert!(ranged > 0, "{update:#?}");
    let share = sent as f64 / new_bytes.len() as f64;
    assert!(
        share <= 0.05,
        "the update downloaded {sent} bytes, {:.2}% of the new build: {update:#?}",
        share * 100.0
    );
}
