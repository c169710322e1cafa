//! Archive installs whose symlinks are changed after the install, and repairs the archive
//! cannot vouch for: `verify --installed`, `doctor --deep` and `fetch --repair` compare each
//! recorded symlink's target, not only that a link exists, and a repair refuses an archive
//! whose copy of a broken file disagrees with the install record (and replaces nothing).

use std::path::Path;

use predicates::prelude::*;
use voxctl::doctor::Level;
use voxctl::installs::InstallRecord;

use crate::health::{archive, doctor_json, repair, verify_installed};
use crate::support::fetch::{Fixture, ASSET};
use crate::support::http::Server;

fn record_path(fx: &Fixture) -> std::path::PathBuf {
    fx.data().join(format!("backends/{ASSET}.install.json"))
}

fn read_record(fx: &Fixture) -> InstallRecord {
    serde_json::from_slice(&std::fs::read(record_path(fx)).unwrap()).unwrap()
}

fn inode(p: &Path) -> u64 {
    std::os::unix::fs::MetadataExt::ino(&std::fs::symlink_metadata(p).unwrap())
}

#[test]
fn a_symlink_repointed_inside_an_archive_install_is_found_by_verify_doctor_and_repaired() {
    let fx = Fixture::new();
    archive(&fx);
    let srv = Server::start(&fx.rel());
    fx.fetch(&srv.url()).assert().success();
    let dir = fx.data().join("backends/cuda");
    let link = dir.join("lib/libc10.so.2");
    assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("libc10.so"));
    // Repointed at another file of the install: it still resolves, to the wrong library.
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink("libtorch_cuda.so", &link).unwrap();
    assert!(link.exists());

    verify_installed(&fx, &["cuda"])
        .assert()
        .code(3)
        .stdout(predicate::str::contains("cuda/lib/libc10.so.2: FAILED"))
        .stdout(predicate::str::contains(format!("cuda/{ASSET}: OK")))
        .stderr(predicate::str::contains(
            "symlink to libtorch_cuda.so, expected libc10.so",
        ));
    // doctor finds it at both depths: a symlink's target costs no reading.
    let sys = fx.tmp.path().join("no-sysfs");
    for depth in [&[][..], &["--deep"][..]] {
        let r = doctor_json(&fx, &sys, depth, 1);
        let bad: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.level == Level::Fail && f.detail.contains("libc10.so.2"))
            .collect();
        assert_eq!(bad.len(), 1, "{depth:?}: {r:#?}");
        assert!(
            bad[0].detail.contains("expected libc10.so"),
            "{:#?}",
            bad[0]
        );
        assert!(
            bad[0]
                .fix
                .as_deref()
                .is_some_and(|f| f.contains("fetch --repair")),
            "{:#?}",
            bad[0]
        );
    }

    let exe = inode(&dir.join(ASSET));
    repair(&fx)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "only the 1 broken file(s) were replaced",
        ))
        .stderr(predicate::str::contains("lib/libc10.so.2"));
    assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("libc10.so"));
    assert_eq!(inode(&dir.join(ASSET)), exe, "intact files are left alone");
    verify_installed(&fx, &["cuda"]).assert().success();
}

#[test]
fn a_repair_refuses_an_archive_whose_copy_disagrees_with_the_install_record() {
    let fx = Fixture::new();
    archive(&fx);
    let srv = Server::start(&fx.rel());
    fx.fetch(&srv.url()).assert().success();
    let dir = fx.data().join("backends/cuda");

    // The record (not the archive, which still matches the recorded SHA-256) is what is
    // wrong: it says the symlink points elsewhere than the archive has it.
    let mut rec = read_record(&fx);
    let entry = rec
        .files
        .as_mut()
        .unwrap()
        .iter_mut()
        .find(|f| f.path == Path::new("lib/libc10.so.2"))
        .unwrap();
    entry.link = Some("libc10.so.9".into());
    std::fs::write(record_path(&fx), serde_json::to_vec_pretty(&rec).unwrap()).unwrap();
    let before = inode(&dir.join("lib/libc10.so.2"));
    repair(&fx)
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "its copy of lib/libc10.so.2 does not match the install record",
        ));
    assert_eq!(
        inode(&dir.join("lib/libc10.so.2")),
        before,
        "nothing replaced"
    );
    assert_eq!(
        std::fs::read_link(dir.join("lib/libc10.so.2")).unwrap(),
        Path::new("libc10.so")
    );

    // The same for a regular file: the record's digest of a library is not the archive's.
    let mut rec = read_record(&fx);
    rec.files.as_mut().unwrap().iter_mut().for_each(|f| {
        if f.path == Path::new("lib/libc10.so.2") {
            f.link = Some("libc10.so".into());
        }
        if f.path == Path::new("lib/libtorch_cuda.so") {
            f.sha256 = Some(voxctl::checksum::Sha256([7; 32]));
        }
    });
    std::fs::write(record_path(&fx), serde_json::to_vec_pretty(&rec).unwrap()).unwrap();
    let lib = dir.join("lib/libtorch_cuda.so");
    let (lib_inode, lib_bytes) = (inode(&lib), std::fs::read(&lib).unwrap());
    repair(&fx)
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "its copy of lib/libtorch_cuda.so does not match the install record",
        ));
    assert_eq!(inode(&lib), lib_inode, "nothing replaced");
    assert_eq!(std::fs::read(&lib).unwrap(), lib_bytes);
    assert!(
        !std::fs::read_dir(fx.data().join("backends"))
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().contains("tmp")),
        "the extraction directory is removed"
    );
}

/// A recorded symlink that is gone is `MISSING`; one replaced by a regular file is `FAILED`,
/// "not the recorded symlink" (read_link's error), never missing.
#[test]
fn a_recorded_symlink_removed_is_missing_and_one_replaced_by_a_file_is_not_the_symlink() {
    let fx = Fixture::new();
    archive(&fx);
    let srv = Server::start(&fx.rel());
    fx.fetch(&srv.url()).assert().success();
    let link = fx.data().join("backends/cuda/lib/libc10.so.2");
    std::fs::remove_file(&link).unwrap();
    verify_installed(&fx, &["cuda"])
        .assert()
        .code(3)
        .stdout(predicate::str::contains("cuda/lib/libc10.so.2: MISSING"));

    std::fs::write(&link, b"a regular file where the symlink was").unwrap();
    verify_installed(&fx, &["cuda"])
        .assert()
        .code(3)
        .stdout(predicate::str::contains("cuda/lib/libc10.so.2: FAILED"))
        .stderr(predicate::str::contains("not the recorded symlink"));
}
