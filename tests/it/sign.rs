//! Signed releases against real peers: keys made and files signed by Debian's
//! `minisign` CLI are checked by voxctl, voxctl's signatures are checked by `minisign -V`, and
//! Tauri's base64-wrapped key and `.sig` forms are accepted. The attacks (replaced binary and
//! checksum, altered manifest, another key, broken signature, altered trusted comment, legacy
//! signature on a large file) each end in exit 3 with the old install intact.

use crate::support;

use std::path::{Path, PathBuf};

use base64::Engine;
use predicates::prelude::*;
use support::fetch::{self as f, Entry, Fixture, ASSET};
use support::host::unix_path;
use support::http::Server;
use voxctl::checksum::{format_line, Sha256};
use voxctl::manifest::{json_manifest_name, sha256_name};

const MB: usize = 1 << 20;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A key pair made by `minisign -G` in `dir`: `NAME.pub`, `NAME.key`, and its id.
pub(crate) struct MinisignKey {
    pub(crate) public: PathBuf,
    pub(crate) secret: PathBuf,
    /// Password of the secret key (`None`: made with `-W`).
    password: Option<String>,
    pub(crate) id: String,
}

impl MinisignKey {
    pub(crate) fn new(dir: &Path, name: &str, password: Option<&str>) -> MinisignKey {
        std::fs::create_dir_all(dir).unwrap();
        let public = dir.join(format!("{name}.pub"));
        let secret = dir.join(format!("{name}.key"));
        let mut args = vec![
            "-G",
            "-f",
            "-p",
            &unix_path(&public),
            "-s",
            &unix_path(&secret),
        ]
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<_>>();
        if password.is_none() {
            args.push("-W".into());
        }
        minisign(
            &args,
            password.map_or(String::new(), |p| format!("{p}\n{p}\n")),
        );
        let text = std::fs::read_to_string(&public).unwrap();
        let id = text
            .lines()
            .next()
            .and_then(|l| l.rsplit(' ').next())
            .unwrap();
        // minisign prints the id without leading zeros; voxctl (like the minisign crate and
        // Tauri) always shows 16 digits.
        let id = format!("{id:0>16}");
        assert_eq!(id.len(), 16, "{text}");
        MinisignKey {
            public,
            secret,
            password: password.map(str::to_string),
            id,
        }
    }

    /// The base64 key line (`minisign -P` form).
    pub(crate) fn line(&self) -> String {
        let text = std::fs::read_to_string(&self.public).unwrap();
        text.lines().nth(1).unwrap().trim().to_string()
    }

    /// Tauri's form: the whole .pub file base64-encoded.
    pub(crate) fn tauri(&self) -> String {
        b64(&std::fs::read(&self.public).unwrap())
    }

    /// `minisign -S` over `file` (extra flags such as `-l`, `-t COMMENT`), writing
    /// `file.minisig`.
    pub(crate) fn sign(&self, file: &Path, extra: &[&str]) -> PathBuf {
        let mut args = vec!["-S".to_string(), "-s".into(), unix_path(&self.secret)];
        args.extend(extra.iter().map(|a| a.to_string()));
        args.extend(["-m".to_string(), unix_path(file)]);
        if self.password.is_none() {
            args.push("-W".into());
        }
        minisign(
            &args,
            self.password
                .as_ref()
                .map_or(String::new(), |p| format!("{p}\n")),
        );
        PathBuf::from(format!("{}.minisig", file.display()))
    }

    /// Whether `minisign -V` accepts `sig` over `file`.
    pub(crate) fn minisign_verifies(&self, file: &Path, sig: &Path) -> bool {
        let args = [
            "-V",
            "-q",
            "-p",
            &unix_path(&self.public),
            "-x",
            &unix_path(sig),
        ];
        support::host::output(
            "minisign",
            args.into_iter().chain(["-m", &unix_path(file)]),
            &[],
        )
        .success()
    }
}

/// Runs Debian's `minisign` with `args` and `input` on its stdin, in a session of its own
/// (`setsid`: no terminal, so a password is read from stdin); panics unless it succeeds.
fn minisign(args: &[String], input: String) {
    let mut script = "printf '%s' \"$MINISIGN_INPUT\" | setsid minisign".to_string();
    for a in args {
        script += " ";
        script += &support::host::sh_quote(a);
    }
    let out = support::host::output("sh", ["-c", &script], &[("MINISIGN_INPUT", &input)]);
    assert!(
        out.success(),
        "minisign {args:?} (minisign must be installed: apt-get install minisign; .ci/run \
         does): {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub(crate) fn keys_dir(fx: &Fixture) -> PathBuf {
    fx.tmp.path().join("keys")
}

/// The install record, as the library reads it.
pub(crate) fn record(fx: &Fixture) -> voxctl::installs::InstallRecord {
    let path = fx
        .data()
        .join("backends")
        .join(format!("{ASSET}.install.json"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The key id that signed the install, as text.
pub(crate) fn signed_by(fx: &Fixture) -> String {
    record(fx)
        .signature
        .expect("the record names its signature")
        .key_id
        .to_string()
}

#[test]
fn a_release_signed_by_minisign_installs_and_the_record_keeps_key_id_and_trusted_comment() {
    let fx = Fixture::new();
    let key = MinisignKey::new(&keys_dir(&fx), "release", None);
    let bytes = f::data(3 * MB + 7, 1);
    f::json_release(&fx.rel(), ASSET, &bytes, MB);
    key.sign(
        &fx.rel().join(json_manifest_name(ASSET)),
        &["-t", "voicebox 0.4.2 release"],
    );
    let srv = Server::start(&fx.rel());
    fx.fetch(&srv.url())
        .args(["-v", "--pubkey-file"])
        .arg(&key.public)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "trusted comment: voicebox 0.4.2 release",
        ))
        .stderr(predicate::str::contains(&key.id))
        .stderr(predicate::str::contains("not authenticated").not());
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    let signature = record(&fx)
        .signature
        .expect("the record names its signature");
    assert_eq!(signature.key_id.to_string(), key.id);
    assert_eq!(signature.trusted_comment, "voicebox 0.4.2 release");

    // `--json`: the `authenticated` event's durations are integers, as every `*_ms` is.
    let out = fx
        .fetch(&srv.url())
        .args(["--json", "--force", "--pubkey-file"])
        .arg(&key.public)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let auth: serde_json::Value = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|e| e["event"] == "authenticated")
        .unwrap_or_else(|| panic!("no authenticated event: {stdout}"));
    let (ms, us) = (auth["check_ms"].as_u64(), auth["check_us"].as_u64());
    assert!(ms.is_some() && us.is_some(), "{auth}");
    assert_eq!(ms, us.map(|us| us / 1000), "{auth}");
}

#[test]
fn voxctl_split_sign_is_checked_by_minisign_and_by_voxctl_verify() {
    let fx = Fixture::new();
    let key = MinisignKey::new(&keys_dir(&fx), "enc", Some("correct horse"));
    let input = fx.tmp.path().join(ASSET);
    std::fs::write(&input, f::data(2 * MB + 5, 2)).unwrap();
    let out = fx.tmp.path().join("dist");
    support::voxctl(&fx.state())
        .args(["split", "--chunk-size", "1M", "--tauri-sig", "--out"])
        .arg(&out)
        .arg("--sign")
        .arg(&key.secret)
        .arg(&input)
        .env("VOXCTL_SIGN_PASSWORD", "correct horse")
        .assert()
        .success();
    for name in [json_manifest_name(ASSET), sha256_name(ASSET)] {
        let file = out.join(&name);
        let minisig = out.join(format!("{name}.minisig"));
        assert!(key.minisign_verifies(&file, &minisig), "{name}");
        // Tauri's .sig is the same signature file, base64-encoded.
        let sig = std::fs::read_to_string(out.join(format!("{name}.sig"))).unwrap();
        let inner = base64::engine::general_purpose::STANDARD
            .decode(sig.trim())
            .unwrap();
        assert_eq!(inner, std::fs::read(&minisig).unwrap());
    }
    support::voxctl(&fx.state())
        .args(["verify", "--manifest"])
        .arg(out.join(json_manifest_name(ASSET)))
        .arg("--pubkey")
        .arg(key.line())
        .assert()
        .success()
        .stderr(predicate::str::contains(&key.id))
        // The trusted comment (`timestamp:N<TAB>file:NAME<TAB>hashed`) is the signer's text:
        // printed escaped, never with raw control characters.
        .stderr(predicate::str::contains("\\tfile:"))
        .stderr(predicate::str::contains('\t').not());

    // A wrong password names the key file; no password and no terminal is a refusal. (Each
    // opening of an encrypted key runs scrypt over 1 GiB: the test opens it twice only.)
    let other = fx.tmp.path().join("notes.txt");
    std::fs::write(&other, "release notes\n").unwrap();
    support::voxctl(&fx.state())
        .arg("sign")
        .arg("--key")
        .arg(&key.secret)
        .arg(&other)
        .env("VOXCTL_SIGN_PASSWORD", "wrong")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(key.secret.to_str().unwrap()));
    support::voxctl(&fx.state())
        .arg("sign")
        .arg("--key")
        .arg(&key.secret)
        .arg(&other)
        .write_stdin("")
        .assert()
        .code(5);
    assert!(!fx.tmp.path().join("notes.txt.minisig").exists());
}

#[test]
fn voxctl_sign_with_an_unencrypted_minisign_key_and_a_tauri_wrapped_one_is_checked_by_minisign() {
    let fx = Fixture::new();
    let key = MinisignKey::new(&keys_dir(&fx), "plain", None);
    let file = fx.tmp.path().join("a.bin");
    std::fs::write(&file, f::data(100_000, 3)).unwrap();
    support::voxctl(&fx.state())
        .arg("sign")
        .arg("-s")
        .arg(&key.secret)
        .arg(&file)
        .assert()
        .success();
    assert!(key.minisign_verifies(&file, &fx.tmp.path().join("a.bin.minisig")));

    // Tauri's secret key form (`tauri signer generate`): the key file base64-encoded.
    // With --json, the report is the library's `SignReport`.
    let wrapped = fx.tmp.path().join("tauri.key");
    std::fs::write(&wrapped, b64(&std::fs::read(&key.secret).unwrap())).unwrap();
    let out = support::voxctl(&fx.state())
        .args(["--json", "sign", "--tauri-sig", "-s"])
        .arg(&wrapped)
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let report: voxctl::signature::sign::SignReport = support::json_doc_sorted(&out.stdout, true);
    assert_eq!(report.key_id.to_string(), key.id);
    let [signed] = &report.signed[..] else {
        panic!("{report:?}")
    };
    assert_eq!(
        (&signed.file, &signed.minisig, signed.key_id),
        (&file, &fx.tmp.path().join("a.bin.minisig"), report.key_id)
    );
    assert_eq!(signed.tauri_sig, Some(fx.tmp.path().join("a.bin.sig")));
    assert!(signed.trusted_comment.contains("file:a.bin"), "{signed:?}");
    assert!(key.minisign_verifies(&file, &fx.tmp.path().join("a.bin.minisig")));
    // A sums file signed that way verifies with voxctl by its .sig alone, against the
    // Tauri-wrapped public key.
    let sums = fx.tmp.path().join("SHA256SUMS");
    let digest = sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(
        std::fs::read(&file).unwrap(),
    ));
    std::fs::write(&sums, format!("{}  a.bin\n", hex::encode(digest))).unwrap();
    support::voxctl(&fx.state())
        .args(["sign", "--tauri-sig", "-s"])
        .arg(&wrapped)
        .arg(&sums)
        .assert()
        .success();
    std::fs::remove_file(fx.tmp.path().join("SHA256SUMS.minisig")).unwrap();
    support::voxctl(&fx.state())
        .current_dir(fx.tmp.path())
        .args(["verify", "-c", "SHA256SUMS", "--pubkey", &key.tauri()])
        .assert()
        .success()
        .stderr(predicate::str::contains(&key.id));
}

#[test]
fn tauri_wrapped_pubkey_and_sig_verify_from_flag_env_and_tauri_conf() {
    let fx = Fixture::new();
    let key = MinisignKey::new(&keys_dir(&fx), "tauri", None);
    let bytes = f::data(MB + 3, 4);
    f::whole_release(&fx.rel(), ASSET, &bytes);
    let sums = fx.rel().join(sha256_name(ASSET));
    let minisig = key.sign(&sums, &[]);
    // Tauri's .sig: the minisign signature file, base64-encoded; no .minisig beside it.
    std::fs::write(
        fx.rel().join(format!("{}.sig", sha256_name(ASSET))),
        b64(&std::fs::read(&minisig).unwrap()),
    )
    .unwrap();
    std::fs::remove_file(&minisig).unwrap();
    let v2 = fx.tmp.path().join("tauri.conf.json");
    std::fs::write(
        &v2,
        serde_json::json!({"plugins": {"updater": {"pubkey": key.tauri(), "endpoints": []}}})
            .to_string(),
    )
    .unwrap();
    let v1 = fx.tmp.path().join("tauri.v1.conf.json");
    std::fs::write(
        &v1,
        serde_json::json!({"tauri": {"updater": {"active": true, "pubkey": key.line()}}})
            .to_string(),
    )
    .unwrap();
    let srv = Server::start(&fx.rel());
    for (i, how) in ["flag", "env", "v2", "v1"].into_iter().enumerate() {
        let mut cmd = fx.fetch(&srv.url());
        cmd.arg("--force");
        match how {
            "flag" => cmd.arg("--pubkey").arg(key.tauri()),
            "env" => cmd.env("VOXCTL_PUBKEY", key.tauri()),
            "v2" => cmd.arg("--tauri-conf").arg(&v2),
            _ => cmd.arg("--tauri-conf").arg(&v1),
        };
        cmd.assert().success();
        assert_eq!(signed_by(&fx), key.id, "{i}");
    }
}

#[test]
fn without_a_key_fetch_says_once_that_the_release_is_not_authenticated_unless_quiet() {
    let fx = Fixture::new();
    let bytes = f::data(MB, 5);
    f::json_release(&fx.rel(), ASSET, &bytes, MB / 2);
    let out = fx.fetch(fx.rel().to_str().unwrap()).output().unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches("not authenticated").count(), 1, "{err}");
    assert!(record(&fx).signature.is_none());
    fx.fetch(fx.rel().to_str().unwrap())
        .args(["-q", "--force"])
        .assert()
        .success()
        .stderr(predicate::str::is_empty());
}

/// The first release of a signed-release attack test: installed with `key`, so the test can
/// check that the attack leaves it in place.
fn install_signed_v1(fx: &Fixture, key: &MinisignKey) -> Vec<u8> {
    let v1 = f::data(2 * MB, 10);
    f::whole_release(&fx.rel(), ASSET, &v1);
    key.sign(&fx.rel().join(sha256_name(ASSET)), &[]);
    fx.fetch(fx.rel().to_str().unwrap())
        .arg("--pubkey-file")
        .arg(&key.public)
        .assert()
        .success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), v1);
    v1
}

/// Runs the fetch with `key` trusted and checks: exit 3, an error naming `file_hint` and
/// `key_id`, and the v1 install untouched.
fn assert_refused(fx: &Fixture, key: &MinisignKey, v1: &[u8], file_hint: &str, key_id: &str) {
    fx.fetch(fx.rel().to_str().unwrap())
        .arg("--pubkey-file")
        .arg(&key.public)
        .assert()
        .code(3)
        .stderr(predicate::str::contains(file_hint))
        .stderr(predicate::str::contains(key_id));
    assert_eq!(std::fs::read(fx.installed()).unwrap(), v1);
}

#[test]
fn attack_binary_and_sha256_both_replaced_is_refused() {
    let fx = Fixture::new();
    let key = MinisignKey::new(&keys_dir(&fx), "k", None);
    let v1 = install_signed_v1(&fx, &key);
    // The attacker replaces the binary and recomputes its checksum; the signature stays.
    f::whole_release(&fx.rel(), ASSET, &f::data(2 * MB, 666));
    assert_refused(&fx, &key, &v1, &sha256_name(ASSET), &key.id);
}

#[test]
fn attack_manifest_altered_after_signing_is_refused() {
    let fx = Fixture::new();
    let key = MinisignKey::new(&keys_dir(&fx), "k", None);
    let v1 = install_signed_v1(&fx, &key);
    let evil = f::data(3 * MB, 667);
    let mut m = f::json_release(&fx.rel(), ASSET, &f::data(3 * MB, 11), MB);
    key.sign(&fx.rel().join(json_manifest_name(ASSET)), &[]);
    // Swap in other parts and rewrite the manifest to match them.
    let evil_m = f::json_release(&fx.tmp.path().join("evil"), ASSET, &evil, MB);
    m.parts = evil_m.parts;
    m.sha256 = evil_m.sha256;
    f::write_manifest(&fx.rel(), &m);
    for p in &m.parts {
        std::fs::copy(
            fx.tmp.path().join("evil").join(&p.name),
            fx.rel().join(&p.name),
        )
        .unwrap();
    }
    assert_refused(&fx, &key, &v1, &json_manifest_name(ASSET), &key.id);
}

#[test]
fn attack_signature_by_another_key_is_refused_naming_that_key() {
    let fx = Fixture::new();
    let key = MinisignKey::new(&keys_dir(&fx), "k", None);
    let other = MinisignKey::new(&keys_dir(&fx), "evil", None);
    let v1 = install_signed_v1(&fx, &key);
    f::whole_release(&fx.rel(), ASSET, &f::data(2 * MB, 668));
    other.sign(&fx.rel().join(sha256_name(ASSET)), &[]);
    assert_refused(&fx, &key, &v1, &sha256_name(ASSET), &other.id);
}

#[test]
fn attack_truncated_or_garbage_signature_is_refused() {
    let fx = Fixture::new();
    let key = MinisignKey::new(&keys_dir(&fx), "k", None);
    let v1 = install_signed_v1(&fx, &key);
    let sig = fx.rel().join(format!("{}.minisig", sha256_name(ASSET)));
    let good = std::fs::read_to_string(&sig).unwrap();
    // The release itself stays the one signed, with a new build beside it that would be
    // installed: only the broken signature file can be what refuses it, and the message
    // says it is not a signature (decoding), not that it does not verify.
    let v2 = f::data(2 * MB, 669);
    let sums = format_line(&Sha256::of(&v2), ASSET);
    std::fs::write(fx.rel().join(ASSET), &v2).unwrap();
    std::fs::write(fx.rel().join(sha256_name(ASSET)), &sums).unwrap();
    key.sign(&fx.rel().join(sha256_name(ASSET)), &[]);
    let good_v2 = std::fs::read_to_string(&sig).unwrap();
    assert_ne!(good, good_v2);
    // Truncated after the signature line: the key id is still readable.
    let cut: String = good_v2.lines().take(2).map(|l| format!("{l}\n")).collect();
    let sig_name = sig.file_name().unwrap().to_string_lossy().into_owned();
    for broken in [cut.as_str(), "garbage\x00\x01 not a signature"] {
        std::fs::write(&sig, broken).unwrap();
        assert_refused(&fx, &key, &v1, &sig_name, &key.id);
        fx.fetch(fx.rel().to_str().unwrap())
            .arg("--pubkey-file")
            .arg(&key.public)
            .assert()
            .code(3)
            .stderr(predicate::str::contains(format!(
                "{sig_name}: not a minisign signature"
            )))
            .stderr(predicate::str::contains("does not verify").not());
    }
    // The intact signature installs that build: the refusals were the signature file's.
    std::fs::write(&sig, good_v2).unwrap();
    fx.fetch(fx.rel().to_str().unwrap())
        .arg("--pubkey-file")
        .arg(&key.public)
        .assert()
        .success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), v2);
}

#[test]
fn attack_trusted_comment_altered_is_refused() {
    let fx = Fixture::new();
    let key = MinisignKey::new(&keys_dir(&fx), "k", None);
    let v1 = install_signed_v1(&fx, &key);
    let sig = fx.rel().join(format!("{}.minisig", sha256_name(ASSET)));
    let good = std::fs::read_to_string(&sig).unwrap();
    let altered: String = good
        .lines()
        .map(|l| {
            if l.starts_with("trusted comment:") {
                format!("{l} (rollback: this is the new release)\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(&sig, altered).unwrap();
    assert_refused(&fx, &key, &v1, &sha256_name(ASSET), &key.id);
}

#[test]
fn attack_legacy_signature_on_a_large_asset_is_refused_before_downloading() {
    let fx = Fixture::new();
    let key = MinisignKey::new(&keys_dir(&fx), "k", None);
    let v1 = install_signed_v1(&fx, &key);
    let big = f::data(17 * MB, 670);
    f::whole_release(&fx.rel(), ASSET, &big);
    std::fs::remove_file(fx.rel().join(format!("{}.minisig", sha256_name(ASSET)))).unwrap();
    key.sign(&fx.rel().join(ASSET), &["-l"]);
    let srv = Server::start(&fx.rel());
    fx.fetch(&srv.url())
        .arg("--pubkey-file")
        .arg(&key.public)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("legacy"))
        .stderr(predicate::str::contains(&key.id))
        .stderr(predicate::str::contains(format!("{ASSET}.minisig")));
    assert!(srv.downloads(ASSET).is_empty(), "the asset was downloaded");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), v1);
}

#[test]
fn a_legacy_signature_on_a_small_checksum_file_is_accepted() {
    let fx = Fixture::new();
    let key = MinisignKey::new(&keys_dir(&fx), "k", None);
    f::whole_release(&fx.rel(), ASSET, &f::data(MB, 12));
    let bytes = f::data(MB, 12);
    key.sign(&fx.rel().join(sha256_name(ASSET)), &["-l"]);
    fx.fetch(fx.rel().to_str().unwrap())
        .args(["-v", "--pubkey-file"])
        .arg(&key.public)
        .assert()
        .success()
        .stderr(predicate::str::contains(&key.id))
        .stderr(predicate::str::contains("not authenticated").not());
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    assert_eq!(signed_by(&fx), key.id);
    let signature = record(&fx).signature.unwrap().signature;
    assert!(
        signature.ends_with(&format!("{}.minisig", sha256_name(ASSET))),
        "{signature}"
    );
}

#[test]
fn key_rotation_old_and_new_keys_trusted_release_signed_by_new_passes() {
    let fx = Fixture::new();
    let old = MinisignKey::new(&keys_dir(&fx), "old", None);
    let new = MinisignKey::new(&keys_dir(&fx), "new", None);
    f::whole_release(&fx.rel(), ASSET, &f::data(MB, 13));
    new.sign(&fx.rel().join(sha256_name(ASSET)), &[]);
    fx.fetch(fx.rel().to_str().unwrap())
        .arg("--pubkey-file")
        .arg(&old.public)
        .env("VOXCTL_PUBKEY", new.line())
        .assert()
        .success();
    assert_eq!(signed_by(&fx), new.id);
}

#[test]
fn with_a_key_an_unsigned_release_is_refused_and_nothing_installed() {
    let fx = Fixture::new();
    let key = MinisignKey::new(&keys_dir(&fx), "k", None);
    f::json_release(&fx.rel(), ASSET, &f::data(MB, 14), MB / 2);
    fx.fetch(fx.rel().to_str().unwrap())
        .arg("--pubkey-file")
        .arg(&key.public)
        .assert()
        .code(3)
        .stderr(predicate::str::contains(format!(
            "{}.minisig",
            json_manifest_name(ASSET)
        )))
        .stderr(predicate::str::contains(&key.id));
    assert!(!fx.installed().exists());
}

#[test]
fn an_asset_signature_alone_is_checked_while_downloading_and_catches_a_swap() {
    let fx = Fixture::new();
    let key = MinisignKey::new(&keys_dir(&fx), "k", None);
    let bytes = f::data(5 * MB + 1, 15);
    f::json_release(&fx.rel(), ASSET, &bytes, 2 * MB);
    // What `tauri signer sign` makes of a bundle: a signature over the asset itself.
    let asset = fx.tmp.path().join(ASSET);
    std::fs::write(&asset, &bytes).unwrap();
    let sig = key.sign(&asset, &[]);
    std::fs::write(
        fx.rel().join(format!("{ASSET}.sig")),
        b64(&std::fs::read(&sig).unwrap()),
    )
    .unwrap();
    let srv = Server::start(&fx.rel());
    fx.fetch(&srv.url())
        .args(["--pubkey-file"])
        .arg(&key.public)
        .assert()
        .success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    assert_eq!(signed_by(&fx), key.id);

    // The release is replaced, manifest and all; the asset signature stays.
    let evil = f::data(5 * MB + 1, 671);
    f::json_release(&fx.rel(), ASSET, &evil, 2 * MB);
    fx.fetch(&srv.url())
        .args(["--pubkey-file"])
        .arg(&key.public)
        .assert()
        .code(3)
        .stderr(predicate::str::contains(format!("{ASSET}.sig")))
        .stderr(predicate::str::contains(&key.id));
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
}

#[test]
fn verify_c_checks_the_sums_file_signature_and_refuses_keys_with_stdin() {
    let fx = Fixture::new();
    let key = MinisignKey::new(&keys_dir(&fx), "k", None);
    f::whole_release(&fx.rel(), ASSET, &f::data(MB, 16));
    let sums = fx.rel().join(sha256_name(ASSET));
    let verify = |extra: &[&str]| {
        let mut cmd = support::voxctl(&fx.state());
        cmd.current_dir(fx.rel())
            .args(["verify", "-c", &sha256_name(ASSET), "--pubkey-file"])
            .arg(&key.public)
            .args(extra);
        cmd
    };
    verify(&[])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("not signed"))
        .stderr(predicate::str::contains(&key.id));
    key.sign(&sums, &[]);
    verify(&[])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("{ASSET}: OK")));
    support::voxctl(&fx.state())
        .current_dir(fx.rel())
        .args(["verify", "-c", "-", "--pubkey", &key.line()])
        .write_stdin(std::fs::read(&sums).unwrap())
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains(
            "checksums read from standard input cannot be authenticated",
        ));
    support::voxctl(&fx.state())
        .current_dir(fx.rel())
        .args([
            "verify",
            ASSET,
            "--sha256",
            &"0".repeat(64),
            "--pubkey",
            &key.line(),
        ])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains(
            "a public key authenticates a sums file (-c) or a manifest (--manifest), not \
             --sha256",
        ));
}

#[test]
fn an_asset_signature_is_checked_over_the_whole_file_when_part_0_arrives_last() {
    let fx = Fixture::new();
    let key = MinisignKey::new(&keys_dir(&fx), "k", None);
    let bytes = f::data(3 * MB + 7, 17);
    let m = f::json_release(&fx.rel(), ASSET, &bytes, MB);
    assert_eq!(m.parts.len(), 4);
    let asset = fx.tmp.path().join(ASSET);
    std::fs::write(&asset, &bytes).unwrap();
    let sig = key.sign(&asset, &[]);
    std::fs::copy(&sig, fx.rel().join(format!("{ASSET}.minisig"))).unwrap();
    let srv = Server::start(&fx.rel());
    let (p0, p1) = (
        format!("/{}", m.parts[0].name),
        format!("/{}", m.parts[1].name),
    );
    // Part 0 (the start of the whole-file pass) is held back until part 1 has been sent
    // whole: the BLAKE2b sees part 0 as it streams in, then parts 1.. from the tail pass.
    srv.set(|s| {
        s.hold_until_sent.insert(p0.clone(), p1.clone());
    });
    let fetch = |extra: &[&str]| {
        let mut cmd = fx.fetch(&srv.url());
        cmd.args(["--jobs", "2", "--pubkey-file"])
            .arg(&key.public)
            .args(extra);
        cmd
    };
    fetch(&[]).assert().success();
    let order = srv.sent_to_end();
    let at = |p: &str| order.iter().position(|x| x == p).unwrap();
    assert!(at(&p1) < at(&p0), "part 0 was not last: {order:?}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    assert_eq!(signed_by(&fx), key.id);

    // The same arrival order with a signature over other bytes of the same size: the check
    // is over the downloaded bytes, not a formality.
    let other = f::data(3 * MB + 7, 672);
    std::fs::write(&asset, &other).unwrap();
    let sig = key.sign(&asset, &[]);
    std::fs::copy(&sig, fx.rel().join(format!("{ASSET}.minisig"))).unwrap();
    fetch(&["--force"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(format!("{ASSET}.minisig")))
        .stderr(predicate::str::contains(&key.id));
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
}

#[test]
fn a_signed_archive_release_installs_and_a_replaced_archive_and_sha256_are_refused() {
    let fx = Fixture::new();
    let key = MinisignKey::new(&keys_dir(&fx), "k", None);
    let v1: &[u8] = b"#!/bin/sh\necho v1\n";
    f::archive_release(
        &fx.rel(),
        ASSET,
        &[
            Entry::File(ASSET, 0o755, v1),
            Entry::File("lib.so", 0o644, b"lib v1"),
        ],
    );
    let sums = fx
        .rel()
        .join(format!("{}.tar.gz.sha256", voxctl::manifest::stem(ASSET)));
    key.sign(&sums, &[]);
    let srv = Server::start(&fx.rel());
    let fetch = || {
        let mut cmd = fx.fetch(&srv.url());
        cmd.arg("--pubkey-file").arg(&key.public);
        cmd
    };
    fetch().assert().success();
    let dir = fx.data().join("backends/cuda");
    assert_eq!(std::fs::read(dir.join(ASSET)).unwrap(), v1);
    assert_eq!(signed_by(&fx), key.id);

    // The attacker replaces the archive and its checksum; the signature stays.
    f::archive_release(
        &fx.rel(),
        ASSET,
        &[
            Entry::File(ASSET, 0o755, b"#!/bin/sh\necho evil\n"),
            Entry::File("lib.so", 0o644, b"lib evil"),
        ],
    );
    fetch()
        .assert()
        .code(3)
        .stderr(predicate::str::contains(format!(
            "{}.tar.gz.sha256",
            voxctl::manifest::stem(ASSET)
        )))
        .stderr(predicate::str::contains(&key.id));
    assert_eq!(std::fs::read(dir.join(ASSET)).unwrap(), v1);
    assert_eq!(std::fs::read(dir.join("lib.so")).unwrap(), b"lib v1");
}

#[test]
fn an_asset_signature_survives_part_0_restarting_from_byte_0() {
    let fx = Fixture::new();
    let key = MinisignKey::new(&keys_dir(&fx), "k", None);
    let bytes = f::data(2 * MB + 3, 18);
    let m = f::json_release(&fx.rel(), ASSET, &bytes, MB);
    let asset = fx.tmp.path().join(ASSET);
    std::fs::write(&asset, &bytes).unwrap();
    let sig = key.sign(&asset, &[]);
    std::fs::copy(&sig, fx.rel().join(format!("{ASSET}.minisig"))).unwrap();
    let srv = Server::start(&fx.rel());
    // Part 0 is cut after 300 kB, and the retry's Range request is answered with the whole
    // part: the download restarts part 0 from byte 0, and its check with it.
    srv.set(|s| {
        s.cut_after = Some((300_000, support::http::Cut::Drop));
        s.cut_times = 1;
        // Part 0 only: with --jobs 1 the parts still race for the one permit.
        s.cut_only = Some(format!("/{}", m.parts[0].name));
        s.honour_range = false;
    });
    fx.fetch(&srv.url())
        .args(["--jobs", "1", "--pubkey-file"])
        .arg(&key.public)
        .assert()
        .success();
    assert_eq!(srv.downloads(&m.parts[0].name).len(), 2);
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    assert_eq!(signed_by(&fx), key.id);
}
