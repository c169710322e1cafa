//! Hostile-input cases: strings from a release or a lease store that carry terminal escapes
//! (a manifest's `app_version`, an etcd holder): escaped in human output, exact in JSON.

#[cfg(unix)]
use crate::support::etcd::Etcd;
use crate::support::{
    self,
    fetch::{self as f, Fixture, ASSET},
};

/// Clears the screen, sets the window title, and a C1 CSI (`U+009B`) with a bidi override.
const HOSTILE: &str = "0.3.0\u{1b}[2J\u{1b}]0;pwned\u{7}\u{9b}31m\u{202e}\nfake: line";
/// How [`HOSTILE`] is shown to people.
const SHOWN: &str = "0.3.0\\x1b[2J\\x1b]0;pwned\\x07\\u{9b}31m\\u{202e}\\nfake: line";

/// Asserts that `bytes` hold no control character other than line breaks, and `SHOWN`.
fn assert_escaped(bytes: &[u8], what: &str) {
    let text = String::from_utf8_lossy(bytes);
    assert!(
        !text
            .chars()
            .any(|c| (c.is_control() && c != '\n') || c == '\u{202e}'),
        "{what}: a control character is printed raw: {text:?}"
    );
    assert!(text.contains(SHOWN), "{what}: {text:?}");
}

/// A release whose unsigned manifest says `app_version` is [`HOSTILE`]: `status` and the
/// repair message of fetch show it escaped; `status --json` keeps it exactly.
#[test]
fn a_manifest_app_version_with_escapes_is_shown_escaped() {
    let fx = Fixture::new();
    let mut m = f::json_release(&fx.rel(), ASSET, &f::data(8192, 71), 4096);
    m.app_version = Some(HOSTILE.into());
    f::write_manifest(&fx.rel(), &m);
    fx.fetch(fx.rel().to_str().unwrap()).assert().success();

    let status = |json: bool| {
        let mut cmd = support::voxctl(&fx.state());
        if json {
            cmd.arg("--json");
        }
        cmd.args(["status", "--data-dir"]).arg(fx.data());
        cmd.output().unwrap()
    };
    let human = status(false);
    assert!(human.status.success(), "{human:?}");
    assert_escaped(&human.stdout, "status");
    let doc: serde_json::Value = serde_json::from_slice(&status(true).stdout).unwrap();
    let text = doc.to_string();
    assert!(
        text.contains(&serde_json::to_string(HOSTILE).unwrap()),
        "the JSON document changed the version: {text}"
    );

    let repair = support::voxctl(&fx.state())
        .args(["fetch", "--repair", "--variant", "cuda", "--data-dir"])
        .arg(fx.data())
        .output()
        .unwrap();
    assert!(repair.status.success(), "{repair:?}");
    assert_escaped(&repair.stderr, "fetch --repair");
}

/// An etcd record whose holder and host carry escapes (any host sharing the prefix can
/// write one): `lease status` and `lease list` show them escaped, `--json` exactly.
#[cfg(unix)]
#[test]
fn an_etcd_holder_with_escapes_is_shown_escaped() {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let etcd = Etcd::start();
    let store = etcd.store_url("esc");
    let tmp = tempfile::tempdir().unwrap();
    let entry = serde_json::json!({
        "name": "L", "token": 5, "holder": HOSTILE, "pid": 1, "host": HOSTILE,
        "ttl_ms": 2000, "acquired_wall_ms": 0, "state": "released",
    });
    let body = format!(
        r#"{{"key":"{}","value":"{}"}}"#,
        b64("esc/record/L"),
        b64(&entry.to_string())
    );
    let port = etcd.members[0].client_port;
    support::etcd::http(port, "POST", "/v3/kv/put", &body).expect("put the record");
    let lease = |args: &[&str]| {
        let mut cmd = support::voxctl_std(tmp.path());
        cmd.env("VOXCTL_LEASE_STORE", &store).args(args);
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{args:?}: {o:?}");
        o
    };
    assert_escaped(&lease(&["lease", "status", "L"]).stdout, "lease status");
    assert_escaped(&lease(&["lease", "list"]).stdout, "lease list");
    let doc: serde_json::Value =
        serde_json::from_slice(&lease(&["--json", "lease", "status", "L"]).stdout).unwrap();
    assert_eq!(doc["holder"], HOSTILE, "{doc}");
}
