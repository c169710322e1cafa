//! The release side of differential fetch: `split` writes the chunk index `S.chunks`
//! in its read pass and names it in `S.manifest.json`; `split --no-index` writes none (and an
//! old one is an existing output); `voxctl index FILE` writes the same bytes for a release
//! made by other tools, refusing to replace one without `--force`.
//!
//! The index is checked against the crates themselves, not voxctl's code: the cut points
//! against `fastcdc::v2020` over the whole file in memory, each chunk's hash against
//! `blake3::hash` of the file's bytes.

use std::path::Path;

use predicates::prelude::*;
use voxctl::checksum::Sha256;
use voxctl::chunks::{Index, Params};
use voxctl::manifest::Manifest;

use crate::support::release::{bytes, listing};
use crate::support::voxctl;

/// An asset with a long run of zeros (chunks cut at the maximum size) among random bytes.
fn asset_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut data = bytes(n, seed);
    data[n / 2..n / 2 + 300_000].fill(0);
    data
}

/// Checks that `index` is the index of `data` with `params`: FastCDC 2020's cut points over
/// the whole file, BLAKE3 of each chunk's bytes, the file's size and SHA-256.
fn assert_indexes(index: &Index, data: &[u8], params: Params) {
    assert_eq!(index.params, params);
    assert_eq!(index.size, data.len() as u64);
    assert_eq!(index.sha256, Sha256::of(data));
    let cuts: Vec<(u64, u32)> = fastcdc::v2020::FastCDC::with_level(
        data,
        params.min,
        params.avg,
        params.max,
        fastcdc::v2020::Normalization::Level1,
    )
    .map(|c| (c.offset as u64, c.length as u32))
    .collect();
    let ours: Vec<(u64, u32)> = index.chunks.iter().map(|c| (c.offset, c.len)).collect();
    assert_eq!(ours, cuts, "the cut points of FastCDC over the whole file");
    for c in &index.chunks {
        let range = &data[c.offset as usize..(c.offset + u64::from(c.len)) as usize];
        assert_eq!(
            c.hash,
            *blake3::hash(range).as_bytes(),
            "chunk at {}",
            c.offset
        );
    }
}

fn split(state: &Path, input: &Path, out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    voxctl(state)
        .args(["split", "--chunk-size", "1MB", "--out"])
        .arg(out)
        .arg(input)
        .args(extra)
        .assert()
}

#[test]
fn split_publishes_an_index_of_the_whole_asset_named_by_the_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let data = asset_bytes(3_500_000, 21);
    let input = tmp.path().join("voicebox-server-cuda.exe");
    std::fs::write(&input, &data).unwrap();
    let out = tmp.path().join("rel");
    split(tmp.path(), &input, &out, &[]).success();

    // One index of the whole asset, not one per part (four parts here).
    let index_bytes = std::fs::read(out.join("voicebox-server-cuda.chunks")).unwrap();
    let index = Index::parse(&index_bytes).unwrap();
    assert_indexes(&index, &data, Params::DEFAULT);
    assert!(
        index.chunks.iter().any(|c| c.len == Params::DEFAULT.max),
        "the zeros make maximum-size chunks"
    );
    let share = index_bytes.len() as f64 / data.len() as f64;
    assert!(share < 0.005, "index is {:.3}% of the asset", share * 100.0);

    let m = Manifest::from_json(
        &std::fs::read(out.join("voicebox-server-cuda.manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(m.parts.len(), 4);
    assert_eq!(m.version, 1, "the manifest keeps its format version");
    let r = m.index.expect("the manifest names the index");
    assert_eq!(r.name, "voicebox-server-cuda.chunks");
    assert_eq!(r.size, index_bytes.len() as u64);
    assert_eq!(r.sha256, Sha256::of(&index_bytes));
}

#[test]
fn voxctl_index_writes_the_bytes_split_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let data = asset_bytes(2_600_000, 22);
    let input = tmp.path().join("voicebox-server-rocm.exe");
    std::fs::write(&input, &data).unwrap();
    let rel = tmp.path().join("rel");
    split(tmp.path(), &input, &rel, &[]).success();

    // Default out dir: FILE's directory; default asset: FILE's name.
    let human = voxctl(tmp.path())
        .arg("index")
        .arg(&input)
        .assert()
        .success()
        .stdout(predicate::str::contains("voicebox-server-rocm.chunks: "))
        // Sizes for people in IEC units (the JSON form has the bytes).
        .stdout(predicate::str::contains(
            "% of the asset's 2.48 MiB, sha256 ",
        ));
    let beside = tmp.path().join("voicebox-server-rocm.chunks");
    let ours = std::fs::read(&beside).unwrap();
    assert_eq!(
        ours,
        std::fs::read(rel.join("voicebox-server-rocm.chunks")).unwrap(),
        "byte-identical to split's"
    );
    let index = Index::parse(&ours).unwrap();
    let line = String::from_utf8(human.get_output().stdout.clone()).unwrap();
    assert!(
        line.contains(&format!("{} chunks", index.chunks.len())),
        "{line}"
    );

    // --out, --asset, --json, and another average size.
    let other = tmp.path().join("other");
    let json = voxctl(tmp.path())
        .args([
            "--json",
            "index",
            "--asset",
            "renamed",
            "--avg-size",
            "64K",
            "--out",
        ])
        .arg(&other)
        .arg(&input)
        .assert()
        .success();
    let doc: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    let path = other.join("renamed.chunks");
    let written = std::fs::read(&path).unwrap();
    let index = Index::parse(&written).unwrap();
    assert_indexes(&index, &data, Params::with_avg(64 << 10).unwrap());
    assert_eq!(
        doc,
        serde_json::json!({
            "index": std::fs::canonicalize(&path).unwrap(),
            "size": data.len(),
            "sha256": Sha256::of(&data).to_hex(),
            "chunks": index.chunks.len(),
            "index_size": written.len(),
            "index_sha256": Sha256::of(&written).to_hex(),
            "params": {"min": 16384, "avg": 65536, "max": 262144},
        })
    );
    let leftovers: Vec<String> = listing(&other)
        .into_iter()
        .filter(|n| n != "renamed.chunks")
        .collect();
    assert!(
        leftovers.is_empty(),
        "no temporary file left: {leftovers:?}"
    );
}

#[test]
fn voxctl_index_refuses_to_replace_an_index_without_force_and_bad_sizes() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("a");
    std::fs::write(&input, asset_bytes(600_000, 23)).unwrap();
    let index = tmp.path().join("a.chunks");
    std::fs::write(&index, b"an older index").unwrap();
    voxctl(tmp.path())
        .arg("index")
        .arg(&input)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("a.chunks already exists"))
        .stderr(predicate::str::contains("hint: pass --force"));
    assert_eq!(std::fs::read(&index).unwrap(), b"an older index");
    voxctl(tmp.path())
        .args(["index", "--force"])
        .arg(&input)
        .assert()
        .success();
    Index::parse(&std::fs::read(&index).unwrap()).unwrap();

    for bad in ["24K", "100", "8M", "1.5K", "lots"] {
        voxctl(tmp.path())
            .args(["index", "--force", "--avg-size", bad])
            .arg(&input)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(bad));
    }
    voxctl(tmp.path())
        .args(["index", "--out"])
        .arg(tmp.path().join("x"))
        .arg(tmp.path().join("missing"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("missing"));
    // The output is the input itself: a usage error, nothing touched.
    let same = tmp.path().join("s.chunks");
    std::fs::write(&same, b"data").unwrap();
    voxctl(tmp.path())
        .args(["index", "--force", "--asset", "s"])
        .arg(&same)
        .assert()
        .code(2);
    assert_eq!(std::fs::read(&same).unwrap(), b"data");
}

#[test]
fn split_no_index_writes_none_and_never_leaves_an_old_one_beside_new_parts() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("v");
    std::fs::write(&input, asset_bytes(2_200_000, 24)).unwrap();
    let out = tmp.path().join("rel");

    split(tmp.path(), &input, &out, &["--no-index"]).success();
    assert_eq!(
        listing(&out),
        [
            "v.manifest",
            "v.manifest.json",
            "v.part00",
            "v.part01",
            "v.part02",
            "v.sha256"
        ]
    );
    let json = std::fs::read_to_string(out.join("v.manifest.json")).unwrap();
    assert!(!json.contains("\"index\""), "{json}");
    assert_eq!(Manifest::from_json(json.as_bytes()).unwrap().index, None);

    // A release with an index, rebuilt from other data: --force replaces the index.
    let out2 = tmp.path().join("rel2");
    split(tmp.path(), &input, &out2, &[]).success();
    let newer = tmp.path().join("newer").join("v");
    std::fs::create_dir(newer.parent().unwrap()).unwrap();
    let newer_data = asset_bytes(2_300_000, 25);
    std::fs::write(&newer, &newer_data).unwrap();
    split(tmp.path(), &newer, &out2, &["--force"]).success();
    let index = Index::parse(&std::fs::read(out2.join("v.chunks")).unwrap()).unwrap();
    assert_indexes(&index, &newer_data, Params::DEFAULT);

    // With --no-index an old index is an existing output (here the only one): refused
    // without --force...
    let out3 = tmp.path().join("rel3");
    std::fs::create_dir(&out3).unwrap();
    std::fs::copy(out2.join("v.chunks"), out3.join("v.chunks")).unwrap();
    let before = std::fs::read(out3.join("v.chunks")).unwrap();
    split(tmp.path(), &input, &out3, &["--no-index"])
        .code(1)
        .stderr(predicate::str::contains("v.chunks already exists"));
    assert_eq!(std::fs::read(out3.join("v.chunks")).unwrap(), before);
    assert_eq!(listing(&out3), ["v.chunks"], "nothing written");
    // ...and deleted with it, since it would describe another build.
    split(tmp.path(), &input, &out3, &["--no-index", "--force"]).success();
    assert_eq!(listing(&out3), listing(&out));
    // The same over a complete release with an index.
    split(tmp.path(), &input, &out2, &["--no-index", "--force"]).success();
    assert_eq!(listing(&out2), listing(&out));
}
