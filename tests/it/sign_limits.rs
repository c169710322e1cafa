//! Where signature checking draws its lines, checked with keys and signatures made by the real
//! `minisign` CLI: a prehashed asset signature has no size limit, a legacy (`minisign -l`) one
//! is accepted up to exactly 16 MiB (`LEGACY_MAX_BYTES`) and refused one byte past it, before
//! the asset is downloaded; a signature file is read up to 16 KiB (a long trusted comment
//! passes, a larger file is refused); a legacy signature is also checked on the streamed path of
//! `verify -c` and in Tauri's `.sig` form; a malformed key is a usage error, never a panic.

use std::path::Path;

use base64::Engine;
use predicates::prelude::*;
use voxctl::manifest::sha256_name;

use crate::sign::{keys_dir, signed_by, MinisignKey};
use crate::support;
use crate::support::fetch::{self as f, Fixture, ASSET};
use crate::support::http::Server;

/// The legacy limit as README states it, written out here rather than read from the library,
/// so a change to `voxctl::signature::LEGACY_MAX_BYTES` fails these tests.
const LEGACY_MAX_BYTES: u64 = 16 * 1024 * 1024;

const MB: usize = 1 << 20;

/// Signs the asset itself (`ASSET.minisig`, what a bundle signer makes) with `extra` flags,
/// from a copy outside the release so the signature is the only one the release has.
fn sign_asset(fx: &Fixture, key: &MinisignKey, bytes: &[u8], extra: &[&str]) -> Vec<u8> {
    let asset = fx.tmp.path().join("signing").join(ASSET);
    std::fs::create_dir_all(asset.parent().unwrap()).unwrap();
    std::fs::write(&asset, bytes).unwrap();
    std::fs::read(key.sign(&asset, extra)).unwrap()
}

/// Whether a signature file is legacy (`Ed`) rather than prehashed (`ED`): the first two
/// bytes of its base64 signature line.
fn algorithm(sig: &[u8]) -> String {
    let text = String::from_utf8_lossy(sig);
    let line = text.lines().nth(1).unwrap();
    let bin = base64::engine::general_purpose::STANDARD
        .decode(line.trim())
        .unwrap();
    String::from_utf8_lossy(&bin[..2]).into_owned()
}

#[test]
fn a_prehashed_asset_signature_on_an_asset_over_16_mib_installs() {
    let fx = Fixture::new();
    let key = MinisignKey::new(&keys_dir(&fx), "k", None);
    let bytes = f::data(LEGACY_MAX_BYTES as usize + 3 * MB + 5, 41);
    f::json_release(&fx.rel(), ASSET, &bytes, 8 * MB);
    let sig = sign_asset(&fx, &key, &bytes, &[]);
    assert_eq!(algorithm(&sig), "ED", "minisign signs prehashed by default");
    std::fs::write(fx.rel().join(format!("{ASSET}.minisig")), sig).unwrap();
    let srv = Server::start(&fx.rel());
    fx.fetch(&srv.url())
        .arg("--pubkey-file")
        .arg(&key.public)
        .assert()
        .success()
        .stderr(predicate::str::contains("legacy").not());
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    assert_eq!(signed_by(&fx), key.id);
}

/// A whole-file release of `size` bytes whose only signature is a legacy one over the asset.
fn legacy_signed_whole_release(fx: &Fixture, key: &MinisignKey, size: usize) -> Vec<u8> {
    let bytes = f::data(size, size as u64);
    f::whole_release(&fx.rel(), ASSET, &bytes);
    let sig = sign_asset(fx, key, &bytes, &["-l"]);
    assert_eq!(algorithm(&sig), "Ed", "minisign -l signs legacy");
    std::fs::write(fx.rel().join(format!("{ASSET}.minisig")), sig).unwrap();
    bytes
}

#[test]
fn a_legacy_asset_signature_is_accepted_at_exactly_16_mib() {
    let fx = Fixture::new();
    let key = MinisignKey::new(&keys_dir(&fx), "k", None);
    let bytes = legacy_signed_whole_release(&fx, &key, LEGACY_MAX_BYTES as usize);
    let srv = Server::start(&fx.rel());
    fx.fetch(&srv.url())
        .arg("--pubkey-file")
        .arg(&key.public)
        .assert()
        .success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    assert_eq!(signed_by(&fx), key.id);
}

#[test]
fn a_legacy_asset_signature_one_byte_over_16_mib_is_refused_before_downloading() {
    let fx = Fixture::new();
    let key = MinisignKey::new(&keys_dir(&fx), "k", None);
    legacy_signed_whole_release(&fx, &key, LEGACY_MAX_BYTES as usize + 1);
    let srv = Server::start(&fx.rel());
    fx.fetch(&srv.url())
        .arg("--pubkey-file")
        .arg(&key.public)
        .assert()
        .code(3)
        .stderr(predicate::str::contains(format!(
            "legacy (non-prehashed) signature, accepted only for files up to {LEGACY_MAX_BYTES} \
             bytes, and the file has {}",
            LEGACY_MAX_BYTES + 1
        )))
        .stderr(predicate::str::contains(&key.id));
    assert!(srv.downloads(ASSET).is_empty(), "the asset was downloaded");
    assert!(!fx.installed().exists());
}

#[test]
fn a_legacy_tauri_sig_on_a_small_asset_installs_and_catches_a_swap() {
    let fx = Fixture::new();
    let key = MinisignKey::new(&keys_dir(&fx), "k", None);
    let bytes = f::data(MB + 3, 42);
    f::json_release(&fx.rel(), ASSET, &bytes, MB / 2);
    let sig = sign_asset(&fx, &key, &bytes, &["-l"]);
    assert_eq!(algorithm(&sig), "Ed");
    let tauri = base64::engine::general_purpose::STANDARD.encode(&sig);
    std::fs::write(fx.rel().join(format!("{ASSET}.sig")), tauri).unwrap();
    let srv = Server::start(&fx.rel());
    fx.fetch(&srv.url())
        .arg("--pubkey")
        .arg(key.tauri())
        .assert()
        .success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    assert_eq!(signed_by(&fx), key.id);

    // Another build of the same size under the old signature is refused.
    f::json_release(&fx.rel(), ASSET, &f::data(MB + 3, 43), MB / 2);
    fx.fetch(&srv.url())
        .arg("--pubkey")
        .arg(key.tauri())
        .assert()
        .code(3)
        .stderr(predicate::str::contains("does not verify"))
        .stderr(predicate::str::contains(format!("{ASSET}.sig")));
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
}

/// `voxctl verify -c SUMS --pubkey KEY` in the release dir.
fn verify_sums(fx: &Fixture, key: &MinisignKey) -> assert_cmd::Command {
    let mut cmd = support::voxctl(&fx.state());
    cmd.current_dir(fx.rel())
        .args(["verify", "-c", &sha256_name(ASSET), "--pubkey", &key.line()]);
    cmd
}

#[test]
fn verify_c_checks_a_legacy_signature_on_the_streamed_path() {
    let fx = Fixture::new();
    let key = MinisignKey::new(&keys_dir(&fx), "k", None);
    f::whole_release(&fx.rel(), ASSET, &f::data(MB, 44));
    let sums = fx.rel().join(sha256_name(ASSET));
    let sig = key.sign(&sums, &["-l"]);
    assert_eq!(algorithm(&std::fs::read(&sig).unwrap()), "Ed");
    verify_sums(&fx, &key)
        .arg("-v")
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("{ASSET}: OK")))
        .stderr(predicate::str::contains(format!(
            "{}: signature OK, key {}",
            sha256_name(ASSET),
            key.id
        )));

    // One changed byte of the sums file (its line still parses) and the legacy check fails.
    let mut text = std::fs::read(&sums).unwrap();
    let last = text.iter().rposition(|&b| b == b'\n').unwrap();
    text.insert(last, b' ');
    std::fs::write(&sums, text).unwrap();
    verify_sums(&fx, &key)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("does not verify"))
        .stderr(predicate::str::contains(&key.id));
}

#[test]
fn a_short_malformed_pubkey_is_a_usage_error_not_a_panic() {
    let fx = Fixture::new();
    f::whole_release(&fx.rel(), ASSET, &f::data(1000, 45));
    let dir: &Path = &fx.rel();
    for bad in [
        "RWQ=",
        "RW==",
        "RWQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    ] {
        support::voxctl(&fx.state())
            .current_dir(dir)
            .args(["verify", "-c", &sha256_name(ASSET), "--pubkey", bad])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("not a minisign public key"))
            .stderr(predicate::str::contains("panicked").not());
        fx.fetch(dir.to_str().unwrap())
            .args(["--pubkey", bad])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("not a minisign public key"))
            .stderr(predicate::str::contains("panicked").not());
    }
    assert!(!fx.installed().exists());
}

#[test]
fn a_signature_with_a_2_kb_trusted_comment_installs_and_one_file_over_16_kib_is_refused() {
    let fx = Fixture::new();
    let key = MinisignKey::new(&keys_dir(&fx), "k", None);
    let bytes = f::data(2 * MB + 3, 43);
    f::json_release(&fx.rel(), ASSET, &bytes, MB);
    // A long trusted comment (minisign's own line buffer takes about 2 KB): the file is
    // several times a usual one (~300 bytes), under the 16 KiB read cap.
    let comment = "c".repeat(2000);
    let manifest = fx.rel().join(voxctl::manifest::json_manifest_name(ASSET));
    let sig = key.sign(&manifest, &["-t", &comment]);
    assert!(std::fs::metadata(&sig).unwrap().len() > 2000);
    let srv = Server::start(&fx.rel());
    fx.fetch(&srv.url())
        .arg("--pubkey-file")
        .arg(&key.public)
        .assert()
        .success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);

    // The same signature padded past 16 KiB is refused while reading, before any part.
    let mut padded = std::fs::read(&sig).unwrap();
    padded.resize(16 * 1024 + 1, b'\n');
    std::fs::write(&sig, padded).unwrap();
    fx.fetch(&srv.url())
        .args(["--force", "--pubkey-file"])
        .arg(&key.public)
        .assert()
        .code(3)
        .stderr(predicate::str::contains(".minisig"));
}
