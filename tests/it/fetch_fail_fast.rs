//! Errors that retrying cannot fix are reported at once, with a hint: a
//! host name that does not resolve, a TLS certificate the client refuses, a `--source`
//! without a scheme (a directory that does not exist, probably meant as `http://`), a
//! connection refused before the server ever answered, TLS spoken to a plain-HTTP server, a
//! release that is not there (every layout 404) and a `file://` URL with two slashes. What can
//! heal (a 503) is still retried.

use crate::support;

#[cfg(unix)]
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
    (
        out.status.code(),
        support::fetch::events(&out.stdout),
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
#[cfg(unix)]
struct TlsServer {
    child: std::process::Child,
    port: u16,
}

#[cfg(unix)]
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

#[cfg(unix)]
impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(unix)]
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

/// Runs `fetch --json` from `source` with the default retries and backoff (about 40 s of
/// retrying for an error that is retried), timing it: (exit code, events, stderr, time).
fn fetch_default_retries(
    fx: &Fixture,
    source: &str,
) -> (Option<i32>, Vec<Value>, String, std::time::Duration) {
    let mut cmd = support::voxctl_std(&fx.state());
    cmd.args(["fetch", "--json", "--variant", "cuda", "--source", source])
        .arg("--data-dir")
        .arg(fx.data());
    support::fetch::without_proxies(&mut cmd);
    let started = std::time::Instant::now();
    let out = cmd.output().unwrap();
    let took = started.elapsed();
    (
        out.status.code(),
        support::fetch::events(&out.stdout),
        String::from_utf8(out.stderr).unwrap(),
        took,
    )
}

/// Far below the 40 s the default retries would take, far above a debug build's start.
const FAST: std::time::Duration = std::time::Duration::from_secs(15);

#[test]
fn a_refused_connection_on_the_first_request_fails_at_once_with_a_hint() {
    let fx = Fixture::new();
    // A port nothing listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (code, events, err, took) =
        fetch_default_retries(&fx, &format!("http://127.0.0.1:{port}/rel"));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("Connection refused"), "{err}");
    assert!(!err.contains("retrying"), "{err}");
    assert_not_retried(&events, "nothing accepts connections there (not retried)");
    assert!(took < FAST, "took {took:?}");
}

#[test]
fn tls_spoken_to_a_plain_http_server_fails_at_once_with_a_hint() {
    let fx = Fixture::new();
    let server = support::http::Server::start(&fx.rel());
    let (code, events, err, took) =
        fetch_default_retries(&fx, &format!("https://{}/", server.addr));
    assert_eq!(code, Some(1), "{err}");
    assert!(!err.contains("retrying"), "{err}");
    assert_not_retried(&events, "use http:// instead of https://");
    assert!(took < FAST, "took {took:?}");
}

#[test]
fn a_release_that_is_not_there_fails_at_once_with_a_hint_naming_source_and_tag() {
    let fx = Fixture::new();
    std::fs::create_dir_all(fx.rel()).unwrap();
    let server = support::http::Server::start(&fx.rel());
    let (code, events, err, took) = fetch_default_retries(&fx, &format!("{}/v9.9.9", server.url()));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("no release of voicebox-server-cuda"), "{err}");
    assert_not_retried(&events, "(--source, --tag)");
    assert!(took < FAST, "took {took:?}");
    // Every layout was asked for once: 404s are never retried.
    let manifests = server
        .log()
        .into_iter()
        .filter(|l| l.path.ends_with(".manifest.json"))
        .count();
    assert_eq!(manifests, 1, "{:?}", server.log());

    // A file:// URL with two slashes names a host; the error says how to write the path. (On
    // Windows such a URL names a UNC share, which is valid.)
    if cfg!(windows) {
        return;
    }
    let two = format!("file:/{}", fx.rel().display());
    let (code, _, err, _) = fetch_default_retries(&fx, &two);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "write file://{} (three slashes)",
            fx.rel().display()
        )),
        "{err}"
    );
}

#[test]
fn a_transient_503_is_still_retried_and_the_fetch_succeeds() {
    let fx = Fixture::new();
    let bytes = support::fetch::data(300_000, 3);
    support::fetch::json_release(&fx.rel(), support::fetch::ASSET, &bytes, 100_000);
    let server = support::http::Server::start(&fx.rel());
    let manifest = format!(
        "/{}",
        voxctl::manifest::json_manifest_name(support::fetch::ASSET)
    );
    server.set(|s| {
        s.status.insert(manifest, (503, 2, Some("0".into())));
    });
    let (code, events, err) = fetch_json(&fx, &server.url());
    assert_eq!(code, Some(0), "{err}");
    let retries = events.iter().filter(|e| e["event"] == "retry").count();
    assert_eq!(retries, 2, "{events:?}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
}

#[test]
fn a_connection_refused_after_the_server_answered_is_retried() {
    let fx = Fixture::new();
    let bytes = support::fetch::data(200_000, 4);
    support::fetch::json_release(&fx.rel(), support::fetch::ASSET, &bytes, 100_000);
    let manifest = std::fs::read(
        fx.rel()
            .join(voxctl::manifest::json_manifest_name(support::fetch::ASSET)),
    )
    .unwrap();
    // A server that answers one request (the manifest) and then stops listening, as a server
    // being restarted does: the parts' connections are refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        use std::io::{BufRead, Write};
        let (stream, _) = listener.accept().unwrap();
        let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
            line.clear();
        }
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            manifest.len()
        )
        .unwrap();
        stream.write_all(&manifest).unwrap();
        // The listener is dropped here: later connections are refused.
    });
    let (code, events, err) = fetch_json(&fx, &format!("http://{addr}/"));
    server.join().unwrap();
    assert_eq!(code, Some(1), "{err}");
    let retries: Vec<&Value> = events.iter().filter(|e| e["event"] == "retry").collect();
    // A connection made while the listener is being dropped (still in its backlog) is reset
    // rather than refused: both are the server going away.
    assert!(
        retries.iter().all(|e| {
            let error = e["error"].as_str().unwrap();
            // Windows: WSAECONNREFUSED and WSAECONNRESET, in the system's words.
            [
                "Connection refused",
                "Connection reset by peer",
                "(os error 10061)",
                "(os error 10054)",
            ]
            .iter()
            .any(|m| error.contains(m))
        }),
        "{retries:?}"
    );
    // Each part got its 5 retries (--retries 5) before the fetch gave up.
    for part in ["part00", "part01"] {
        let n = retries
            .iter()
            .filter(|e| e["part"].as_str().unwrap().contains(part))
            .count();
        assert_eq!(n, 5, "{part}: {events:?}");
    }
    let last = events.last().unwrap();
    assert!(
        last["error"]["message"]
            .as_str()
            .unwrap()
            .contains("after 6 failed attempts"),
        "{last}"
    );
}
