//! Hostile-input cases: an install record edited or planted to point `remove` or
//! `fetch --repair` at a path outside the backends dir.

use std::path::Path;

use predicates::prelude::*;

use crate::support::{
    self,
    fetch::{self as f, Entry, Fixture, ASSET},
};

/// Rewrites the `path` of the install record of `asset` to `path`.
fn point_record(fx: &Fixture, asset: &str, path: &Path) {
    let file = fx
        .data()
        .join("backends")
        .join(format!("{asset}.install.json"));
    let mut record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    record["path"] = serde_json::json!(path);
    std::fs::write(&file, serde_json::to_vec_pretty(&record).unwrap()).unwrap();
}

/// A directory `victim` beside the data dir, holding `keep`.
fn victim(fx: &Fixture) -> std::path::PathBuf {
    let victim = fx.tmp.path().join("victim");
    std::fs::create_dir_all(&victim).unwrap();
    std::fs::write(victim.join("keep"), b"mine").unwrap();
    victim
}

/// A record whose `path` is `backends/../../victim` passes a prefix check on
/// `backends/`; `remove` derives the path from the variant instead and refuses the record
/// (exit 5) without deleting the victim, nor the install, nor the record.
#[test]
fn remove_never_deletes_what_a_record_path_escaping_backends_names() {
    let fx = Fixture::new();
    f::whole_release(&fx.rel(), ASSET, &f::data(1 << 20, 3));
    fx.fetch(fx.rel().to_str().unwrap()).assert().success();
    let victim = victim(&fx);
    point_record(&fx, ASSET, &fx.data().join("backends/../../victim"));
    support::voxctl(&fx.state())
        .args(["remove", "cuda", "--data-dir"])
        .arg(fx.data())
        .assert()
        .code(5)
        .stderr(predicate::str::contains("not trusting it"))
        .stderr(predicate::str::contains("backends/../../victim"));
    assert_eq!(std::fs::read(victim.join("keep")).unwrap(), b"mine");
    assert!(fx.installed().is_file(), "the install was removed");
    assert!(fx
        .data()
        .join(format!("backends/{ASSET}.install.json"))
        .is_file());
}

/// `fetch --repair` of an archive install whose record points at another directory
/// refuses (exit 5) before checking or writing anything there: the victim keeps its file and
/// gains none of the archive's.
#[test]
fn repair_never_writes_where_a_record_path_points() {
    let fx = Fixture::new();
    f::archive_release(
        &fx.rel(),
        ASSET,
        &[
            Entry::File(ASSET, 0o755, b"#!/bin/sh\necho 0.3.0\n"),
            Entry::File("lib/libx.so", 0o644, b"library"),
        ],
    );
    fx.fetch(fx.rel().to_str().unwrap()).assert().success();
    let victim = victim(&fx);
    for path in [fx.data().join("backends/../../victim"), victim.clone()] {
        point_record(&fx, ASSET, &path);
        support::voxctl(&fx.state())
            .args(["fetch", "--repair", "--variant", "cuda", "--data-dir"])
            .arg(fx.data())
            .assert()
            .code(5)
            .stderr(predicate::str::contains("not trusting it"));
        let names: Vec<_> = std::fs::read_dir(&victim)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["keep"], "{}: victim changed", path.display());
        assert_eq!(std::fs::read(victim.join("keep")).unwrap(), b"mine");
    }
}
