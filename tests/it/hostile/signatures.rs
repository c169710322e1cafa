//! Hostile-input cases: key sources and signatures that would switch signature checking off
//! or let an older signed release replace a newer one.

use predicates::prelude::*;
use voxctl::manifest::{json_manifest_name, sha256_name};

use crate::support::{
    self,
    fetch::{self as f, Fixture, ASSET},
};

const MB: usize = 1 << 20;

/// A `VOXCTL_PUBKEY` made only of separators (what `"$K1,$K2"` gives with both unset) and a
/// `--pubkey` of only separators name no key: exit 2 naming the source, for fetch (even with
/// `-q`) and for `verify -c`, and nothing installed. Were they read as "no key", the unsigned
/// release would install and the garbage `.minisig` would be ignored.
#[test]
fn a_key_source_that_names_no_key_is_a_usage_error() {
    let fx = Fixture::new();
    f::whole_release(&fx.rel(), ASSET, &f::data(MB, 40));
    let sums = sha256_name(ASSET);
    std::fs::write(fx.rel().join(format!("{sums}.minisig")), b"garbage\n").unwrap();
    for value in [",", " ", " , ", "\t,\n"] {
        fx.fetch(fx.rel().to_str().unwrap())
            .arg("-q")
            .env("VOXCTL_PUBKEY", value)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("VOXCTL_PUBKEY"))
            .stderr(predicate::str::contains("names no key"));
        assert!(!fx.installed().exists(), "{value:?}: installed");
        support::voxctl(&fx.state())
            .current_dir(fx.rel())
            .args(["verify", "-c", &sums])
            .env("VOXCTL_PUBKEY", value)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("VOXCTL_PUBKEY"));
        fx.fetch(fx.rel().to_str().unwrap())
            .args(["-q", "--pubkey", value])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--pubkey"));
        assert!(!fx.installed().exists(), "{value:?}: installed");
    }
    // Empty is unset, as for other variables: the release installs unauthenticated.
    fx.fetch(fx.rel().to_str().unwrap())
        .env("VOXCTL_PUBKEY", "")
        .assert()
        .success()
        .stderr(predicate::str::contains("not authenticated"));
}

/// Writes a JSON-manifest release of `bytes` stating `version` into `dir`, its manifest
/// signed with `key` (by `voxctl sign`).
fn signed_release(fx: &Fixture, dir: &std::path::Path, bytes: &[u8], version: &str) {
    let key = fx.tmp.path().join("keys/k.key");
    let mut m = f::json_release(dir, ASSET, bytes, MB / 2);
    m.app_version = Some(version.into());
    f::write_manifest(dir, &m);
    support::voxctl(&fx.state())
        .args(["sign", "-s"])
        .arg(&key)
        .arg(dir.join(json_manifest_name(ASSET)))
        .assert()
        .success();
}

/// The installed version, as the install record says.
fn installed_version(fx: &Fixture) -> Option<String> {
    let path = fx.data().join(format!("backends/{ASSET}.install.json"));
    let record: voxctl::installs::InstallRecord =
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    record.version
}

/// A correctly signed 0.2.0 served where 0.3.0 is installed is refused (exit 5, both
/// versions named, the install untouched), also when `--tag v9.0.0` claims otherwise and
/// with `--force`; `--allow-downgrade` installs it. A signed newer release installs as usual,
/// and the signed version, not `--tag`, is what the record keeps.
#[test]
fn an_older_signed_release_is_refused_unless_a_downgrade_is_allowed() {
    let fx = Fixture::new();
    let key = crate::sign::MinisignKey::new(&fx.tmp.path().join("keys"), "k", None);
    let new = fx.tmp.path().join("new");
    let old = fx.tmp.path().join("old");
    let new_bytes = f::data(MB, 41);
    let old_bytes = f::data(MB, 42);
    signed_release(&fx, &new, &new_bytes, "0.3.0");
    signed_release(&fx, &old, &old_bytes, "0.2.0");
    let fetch = |dir: &std::path::Path, extra: &[&str]| {
        let mut cmd = fx.fetch(dir.to_str().unwrap());
        cmd.arg("--pubkey-file").arg(&key.public).args(extra);
        cmd
    };
    fetch(&new, &["--tag", "v0.1.0"]).assert().success();
    assert_eq!(installed_version(&fx).as_deref(), Some("0.3.0"));

    for extra in [&[][..], &["--tag", "v9.0.0"], &["--force"]] {
        fetch(&old, extra)
            .assert()
            .code(5)
            .stderr(predicate::str::contains("older than the installed 0.3.0"))
            .stderr(predicate::str::contains("0.2.0"))
            .stderr(predicate::str::contains("--allow-downgrade"));
        assert_eq!(
            std::fs::read(fx.installed()).unwrap(),
            new_bytes,
            "{extra:?}"
        );
        assert!(!fx.partial().exists(), "{extra:?}: partial data left");
    }
    fetch(&old, &["--allow-downgrade"]).assert().success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), old_bytes);
    assert_eq!(installed_version(&fx).as_deref(), Some("0.2.0"));
    fetch(&new, &[]).assert().success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), new_bytes);
}
