//! Errors that retrying cannot fix are reported at once, with a hint: a
//! host name that does not resolve, a TLS certificate the client refuses, and a `--source`
//! without a scheme (a directory that does not exist, probably meant as `http://`).

use crate::support;

use std::process::Command;

use serde_json::Value;
use support::fetch::Fixture;

/// Runs `fetch --json` from `source` with 5 retries and returns (exit code, events, stderr).
fn fetch_json(fx: &Fixture, source: &str) -> (Option<i32>, Vec<Value>, String) {
    let out = fx
        .fetch(source)
        .args(["--json", "--retries", "5"])
        .output()
        .unwrap();
    let events = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (
        out.status.code(),
        events,
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn assert_not_retried(events: &[Value], hint: &str) {
    assert!(
        !events.iter().any(|e| e["event"] == "retry"),
        "retried: {events:?}"
    );
    let last = events.last().unwrap();
    assert_eq!(last["event"], "failed", "{events:?}");
    assert_eq!(last["error"]["code"], 1);
    let got = last["error"]["hint"].as_str().unwrap();
    assert!(got.contains(hint), "{got}");
}

#[test]
fn an_unknown_host_fails_at_once_without_retries() {
    let fx = Fixture::new();
    // `.invalid` never resolves (RFC 6761).
    let (code, events, err) = fetch_json(&fx, "http://voxctl-test.invalid:8080/rel");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("voxctl-test.invalid"), "{err}");
    assert_not_retried(&events, "does not resolve");
}

/// A TLS server on 127.0.0.1 with a self-signed certificate (tests/data/tls, made with
/// `openssl req -x509 -newkey rsa:2048 -nodes -days 36500 -subj /CN=127.0.0.1`): Python's
/// `ssl` module, a real handshake that a client trusting only public roots refuses.
struct TlsServer {
    child: std::process::Child,
    port: u16,
}

impl TlsServer {
    fn start() -> TlsServer {
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tls");
        let script = "import socket, ssl, sys\n\
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n\
            ctx.load_cert_chain(sys.argv[1], sys.argv[2])\n\
            s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(16)\n\
            print(s.getsockname()[1], flush=True)\n\
            while True:\n\
            \x20   c, _ = s.accept()\n\
            \x20   try:\n\
            \x20       ctx.wrap_socket(c, server_side=True).close()\n\
            \x20   except Exception:\n\
            \x20       c.close()\n";
        let mut child = Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(data.join("cert.pem"))
            .arg(data.join("key.pem"))
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs the TLS test server");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("port: {line:?}"));
        TlsServer { child, port }
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_refused_tls_certificate_fails_at_once_without_retries() {
    let fx = Fixture::new();
    let server = TlsServer::start();
    let (code, events, err) = fetch_json(&fx, &format!("https://127.0.0.1:{}/", server.port));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("certificate"), "{err}");
    assert_not_retried(&events, "certificate was refused");
}

#[test]
fn a_source_without_a_scheme_is_a_missing_directory_and_the_hint_says_http() {
    let fx = Fixture::new();
    let (code, events, err) = fetch_json(&fx, "127.0.0.1:18080");
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("release directory 127.0.0.1:18080 does not exist"),
        "{err}"
    );
    assert_not_retried(&events, "--source http://127.0.0.1:18080");
    // A plain missing directory gets a plain hint.
    let missing = fx.tmp.path().join("nope");
    let (code, events, _) = fetch_json(&fx, missing.to_str().unwrap());
    assert_eq!(code, Some(1));
    assert_not_retried(&events, "existing directory");
}
