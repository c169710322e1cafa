//! Hostile-input cases: a hostile etcd, played by a loopback HTTP server answering the v3
//! JSON gateway's methods as the test says. An absurd granted TTL is refused and revoked before
//! any key is written; answers are read up to 8 MiB and watch messages up to 1 MiB, so a
//! server sending more cannot fill voxctl's memory.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Output;
use std::sync::{Arc, Mutex};

use crate::support::voxctl_std;

/// What the fake gateway sends for one request.
enum Answer {
    /// A JSON document, with `Content-Length`.
    Json(String),
    /// `n` bytes of `x` after `head`, with or without `Content-Length`.
    Flood {
        head: String,
        n: usize,
        length: bool,
    },
}

type Handler = dyn Fn(&str, &str) -> Answer + Send + Sync;

/// A fake etcd gateway on 127.0.0.1: every request (method path and body) is logged, and
/// answered by `handler` over a connection closed after the answer.
struct FakeEtcd {
    port: u16,
    log: Arc<Mutex<Vec<(String, String)>>>,
}

impl FakeEtcd {
    fn start(handler: impl Fn(&str, &str) -> Answer + Send + Sync + 'static) -> FakeEtcd {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let log2 = log.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let (handler, log) = (handler.clone(), log2.clone());
                std::thread::spawn(move || serve(conn, &*handler, &log));
            }
        });
        FakeEtcd { port, log }
    }

    fn store(&self) -> String {
        format!("etcd://127.0.0.1:{}/p", self.port)
    }

    fn requests(&self) -> Vec<(String, String)> {
        self.log.lock().unwrap().clone()
    }
}

fn serve(conn: TcpStream, handler: &Handler, log: &Mutex<Vec<(String, String)>>) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
    let mut length = 0;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let body = String::from_utf8_lossy(&body).into_owned();
    log.lock().unwrap().push((path.clone(), body.clone()));
    let mut conn = conn;
    let _ = match handler(&path, &body) {
        Answer::Json(doc) => write!(
            conn,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{doc}",
            doc.len()
        ),
        Answer::Flood { head, n, length } => {
            let len = if length {
                format!("Content-Length: {}\r\n", head.len() + n)
            } else {
                String::new()
            };
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{len}Connection: close\r\n\r\n{head}"
            );
            let block = vec![b'x'; 64 << 10];
            let mut left = n;
            while left > 0 {
                let k = left.min(block.len());
                if conn.write_all(&block[..k]).is_err() {
                    return; // the client hung up, as it should
                }
                left -= k;
            }
            Ok(())
        }
    };
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// The answer to the read transaction of a lease nobody holds (both ranges empty).
const FREE: &str = r#"{"header":{"revision":"4"},"succeeded":true,"responses":[{"response_range":{"header":{}}},{"response_range":{"header":{}}}]}"#;

fn lease(fake: &FakeEtcd, args: &[&str]) -> Output {
    let tmp = tempfile::tempdir().unwrap();
    voxctl_std(tmp.path())
        .env("VOXCTL_LEASE_STORE", fake.store())
        .arg("lease")
        .args(args)
        .output()
        .unwrap()
}

/// A fake etcd with the lease free that answers a grant with `grant` and commits any put.
fn granting(grant: &'static str) -> FakeEtcd {
    FakeEtcd::start(move |path, body| {
        Answer::Json(match path {
            "/v3/lease/grant" => grant.into(),
            "/v3/kv/txn" if body.contains("request_put") => {
                r#"{"header":{"revision":"5"},"succeeded":true,"responses":[]}"#.into()
            }
            "/v3/kv/txn" => FREE.into(),
            _ => r#"{"header":{}}"#.into(),
        })
    })
}

fn assert_no_panic(out: &Output) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "voxctl panicked: {err}");
}

/// A granted TTL of 10^13 s: refused with exit 1 before any key is written, the etcd lease
/// revoked, and no token printed (none was issued).
#[test]
fn an_absurd_granted_ttl_is_refused_and_revoked_before_anything_is_committed() {
    let fake = granting(r#"{"header":{},"ID":"42","TTL":"10000000000000"}"#);
    let out = lease(&fake, &["acquire", "L", "--ttl", "30s"]);
    assert_no_panic(&out);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("granted a TTL of 10000000000000s for a 30s request"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "{out:?}");
    let requests = fake.requests();
    assert!(
        !requests.iter().any(|(_, b)| b.contains("request_put")),
        "a key was written: {requests:?}"
    );
    assert!(
        requests
            .iter()
            .any(|(p, b)| p == "/v3/lease/revoke" && b.contains("\"42\"")),
        "the grant was not revoked: {requests:?}"
    );
}

/// A grant without a lease id, or with no time left: refused with exit 1 before any key is
/// written (a key on lease 0 would never expire; one on a lease with no TTL would go at once).
#[test]
fn a_grant_without_a_lease_id_or_ttl_is_refused_before_anything_is_committed() {
    for grant in [
        r#"{"header":{},"ID":"0","TTL":"30"}"#,
        r#"{"header":{},"ID":"42","TTL":"0"}"#,
    ] {
        let fake = granting(grant);
        let out = lease(&fake, &["acquire", "L", "--ttl", "30s"]);
        assert_no_panic(&out);
        assert_eq!(out.status.code(), Some(1), "{grant}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("etcd granted no usable lease for a 30s TTL"),
            "{err}"
        );
        assert!(out.stdout.is_empty(), "{out:?}");
        let requests = fake.requests();
        assert!(
            !requests.iter().any(|(_, b)| b.contains("request_put")),
            "{grant}: a key was written: {requests:?}"
        );
    }
}

/// A 16 MiB answer, with and without `Content-Length`: refused (exit 1) as more than 8 MiB,
/// instead of read whole.
#[test]
fn answers_over_8_mib_are_refused() {
    for length in [true, false] {
        let fake = FakeEtcd::start(move |path, _| match path {
            "/v3/kv/txn" => Answer::Flood {
                head: r#"{"header":{},"pad":""#.into(),
                n: 16 << 20,
                length,
            },
            _ => Answer::Json(r#"{"header":{}}"#.into()),
        });
        let out = lease(&fake, &["status", "L"]);
        assert_no_panic(&out);
        assert_eq!(out.status.code(), Some(1), "length {length}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("with more than 8 MiB"), "{err}");
    }
}

/// A watch that sends 128 MiB without a line end while `lease acquire --wait` waits for a
/// held lease: the message is dropped at 1 MiB (and the watch reopened), so the waiter's peak
/// memory stays far below what buffering it would take, and the wait ends as busy (exit 4).
#[test]
fn a_watch_message_without_end_is_dropped_at_1_mib() {
    let entry = serde_json::json!({
        "name": "L", "token": 9, "holder": "them", "pid": 1, "host": "elsewhere",
        "ttl_ms": 600000, "acquired_wall_ms": 1_700_000_000_000u64, "state": "held",
    })
    .to_string();
    let kv = |key: &str| {
        format!(
            r#"{{"key":"{}","value":"{}","create_revision":"3","mod_revision":"3","version":"1","lease":"7"}}"#,
            b64(key),
            b64(&entry)
        )
    };
    let held = format!(
        r#"{{"header":{{"revision":"4"}},"succeeded":true,"responses":[{{"response_range":{{"kvs":[{}],"count":"1"}}}},{{"response_range":{{"kvs":[{}],"count":"1"}}}}]}}"#,
        kv("p/held/L"),
        kv("p/record/L")
    );
    let fake = FakeEtcd::start(move |path, _| match path {
        "/v3/kv/txn" => Answer::Json(held.clone()),
        "/v3/lease/grant" => Answer::Json(r#"{"header":{},"ID":"8","TTL":"30"}"#.into()),
        "/v3/lease/timetolive" => {
            Answer::Json(r#"{"header":{},"ID":"7","TTL":"600","grantedTTL":"600"}"#.into())
        }
        "/v3/watch" => Answer::Flood {
            head: "{\"result\":{\"header\":{},\"created\":true}}\n".into(),
            n: 128 << 20,
            length: false,
        },
        _ => Answer::Json(r#"{"header":{}}"#.into()),
    });
    let tmp = tempfile::tempdir().unwrap();
    let out = voxctl_std(tmp.path())
        .env("VOXCTL_LEASE_STORE", fake.store())
        .env("VOXCTL_LOG", "voxctl=debug")
        .args(["lease", "acquire", "L", "--wait", "3s"])
        .output()
        .unwrap();
    assert_no_panic(&out);
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("etcd's watch on p/held/L sent a message over 1 MiB (no line end)"),
        "{err}"
    );
    // Each dropped watch is reopened: one unending message never holds the waiter.
    let watches = fake
        .requests()
        .iter()
        .filter(|(p, _)| p == "/v3/watch")
        .count();
    assert!(watches >= 2, "{watches} watch requests");
    // The largest resident set of any child this test process waited for: voxctl's (nextest
    // runs each test in its own process).
    let usage =
        nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN).unwrap();
    let peak_mib = usage.max_rss() / 1024;
    assert!(peak_mib < 64, "voxctl peaked at {peak_mib} MiB");
}
