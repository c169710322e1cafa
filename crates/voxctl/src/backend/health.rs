//! The backend's health URL (`http://127.0.0.1:{port}/health` by default), probed with a
//! small blocking HTTP/1.1 GET over a std `TcpStream`.
//!
//! Why not reqwest: the URL is a local backend on loopback, polled every few milliseconds
//! during the downtime window of a restart. A fresh connection per probe costs ~0.1 ms on
//! loopback, a refused connect returns at once, and there is no runtime to start, no
//! connection pool that could hand the probe a kept-alive connection to the *old* backend,
//! and no proxy settings from the environment to route a loopback probe elsewhere. Only
//! `http://` URLs are accepted (a Usage error otherwise).
//!
//! A probe is healthy when the status is 200 and, if the body is JSON with a
//! `backend_variant` field (the reference backend answers
//! `{"status":"healthy","backend_variant":"cuda"}`), that field names the expected variant.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use anyhow::Result;
use reqwest::Url;
use serde::Serialize;

use crate::Error;

/// A validated `http://` health URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthUrl {
    url: Url,
    host: String,
    port: u16,
    target: String,
}

impl HealthUrl {
    /// Parses `text`. Errors with [`Error::Usage`] unless it is an `http://` URL with a host.
    pub fn parse(text: &str) -> Result<HealthUrl> {
        let url = Url::parse(text)
            .map_err(|e| Error::Usage(format!("invalid health URL {text:?}: {e}")))?;
        if url.scheme() != "http" {
            return Err(Error::Usage(format!(
                "health URL {text} must be http:// (the backend is probed on loopback)"
            ))
            .into());
        }
        let host = match url.host_str() {
            // IPv6 literals come bracketed; the socket address wants them bare.
            Some(h) => h.trim_start_matches('[').trim_end_matches(']').to_string(),
            None => return Err(Error::Usage(format!("health URL {text} has no host")).into()),
        };
        let port = url.port_or_known_default().unwrap_or(80);
        let mut target = url.path().to_string();
        if let Some(q) = url.query() {
            target.push('?');
            target.push_str(q);
        }
        Ok(HealthUrl {
            url,
            host,
            port,
            target,
        })
    }

    /// The default health URL of a backend on `port`: `http://127.0.0.1:{port}/health`.
    pub fn for_port(port: u16) -> HealthUrl {
        // A literal loopback URL always parses.
        HealthUrl {
            url: Url::parse(&format!("http://127.0.0.1:{port}/health"))
                .unwrap_or_else(|_| unreachable!("literal URL")),
            host: "127.0.0.1".into(),
            port,
            target: "/health".into(),
        }
    }

    /// The URL as text.
    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }
}

/// What one probe saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Probe {
    /// The HTTP status code.
    pub code: u16,
    /// The body's `status` field, when the body is a JSON object with one.
    pub status: Option<String>,
    /// The body's `backend_variant` field, when present.
    pub backend_variant: Option<String>,
}

impl Probe {
    /// Whether this probe counts as healthy for `variant` (200, and the reported variant, if
    /// any, is `variant`; `None` accepts any).
    pub fn healthy_for(&self, variant: Option<&str>) -> bool {
        self.code == 200
            && match (variant, &self.backend_variant) {
                (Some(want), Some(got)) => want.eq_ignore_ascii_case(got),
                _ => true,
            }
    }
}

/// GETs `url` once, allowing `timeout` for connect and for the whole answer. Errors are the
/// I/O errors of the attempt (connection refused while the backend starts, and so on).
pub fn probe(url: &HealthUrl, timeout: Duration) -> std::io::Result<Probe> {
    let deadline = crate::duration::deadline(timeout);
    let mut last = std::io::Error::other(format!("{}: no address", url.host));
    let mut stream = None;
    for addr in (url.host.as_str(), url.port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = e,
        }
    }
    let mut stream = stream.ok_or(last)?;
    let left = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1));
    stream.set_read_timeout(Some(left))?;
    stream.set_write_timeout(Some(left))?;
    stream.set_nodelay(true)?;
    write!(
        stream,
        "GET {} HTTP/1.1\r\nHost: {}:{}\r\nAccept: application/json\r\nConnection: close\r\nUser-Agent: voxctl\r\n\r\n",
        url.target, url.host, url.port
    )?;
    let mut raw = Vec::new();
    stream.take(1 << 20).read_to_end(&mut raw)?;
    parse_response(&raw)
        .ok_or_else(|| std::io::Error::other(format!("malformed HTTP answer from {}", url.url)))
}

/// Parses an HTTP/1.x response (status line, headers, body; chunked bodies decoded).
pub fn parse_response(raw: &[u8]) -> Option<Probe> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let mut parts = status_line.split_whitespace();
    if !parts.next()?.starts_with("HTTP/1.") {
        return None;
    }
    let code: u16 = parts.next()?.parse().ok()?;
    let chunked = lines.any(|l| {
        l.split_once(':').is_some_and(|(k, v)| {
            k.trim().eq_ignore_ascii_case("transfer-encoding")
                && v.to_ascii_lowercase().contains("chunked")
        })
    });
    if chunked {
        body = dechunk(&body).unwrap_or_default();
    }
    let json: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
    let field = |k: &str| {
        json.as_ref()
            .and_then(|j| j.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    Some(Probe {
        code,
        status: field("status"),
        backend_variant: field("backend_variant"),
    })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..eol]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

/// How waiting for readiness ended.
#[derive(Debug)]
pub enum Ready {
    /// A healthy answer, after this long.
    Healthy(Probe, Duration),
    /// The process exited first (the description says how).
    Exited(String),
    /// Time ran out; the last probe's result in words.
    TimedOut(String),
}

/// Polls `url` every `every` until a probe is healthy for `variant`, `exited()` reports the
/// process gone, or `timeout` passes. Returns early with [`Error::Interrupted`] once `cancel`
/// is cancelled.
pub fn wait_ready(
    url: &HealthUrl,
    variant: Option<&str>,
    timeout: Duration,
    every: Duration,
    cancel: &crate::cancel::Cancel,
    mut exited: impl FnMut() -> Option<String>,
) -> Result<Ready> {
    let start = Instant::now();
    let deadline = start + timeout;
    loop {
        let now = Instant::now();
        let per_probe = deadline
            .saturating_duration_since(now)
            .clamp(Duration::from_millis(1), Duration::from_secs(2));
        let last = match probe(url, per_probe) {
            Ok(p) if p.healthy_for(variant) => return Ok(Ready::Healthy(p, start.elapsed())),
            Ok(p) => {
                format!(
                    "HTTP {}{}",
                    p.code,
                    p.backend_variant
                        .map(|v| format!(", backend_variant {v:?}"))
                        .unwrap_or_default()
                )
            }
            Err(e) => e.to_string(),
        };
        if let Some(how) = exited() {
            return Ok(Ready::Exited(how));
        }
        cancel.check()?;
        let now = Instant::now();
        if now >= deadline {
            return Ok(Ready::TimedOut(last));
        }
        cancel.sleep(every.min(deadline - now))?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_answers() {
        type Case<'a> = (&'a [u8], Option<(u16, Option<&'a str>)>);
        let cases: [Case; 5] = [
            (
                b"HTTP/1.1 200 OK\r\ncontent-length: 46\r\n\r\n{\"status\":\"healthy\",\"backend_variant\":\"cuda\"}",
                Some((200, Some("cuda"))),
            ),
            (b"HTTP/1.0 503 Service Unavailable\r\n\r\n", Some((503, None))),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"bac\r\n1e\r\nkend_variant\":\"cpu\",\"x\":1}    \r\n0\r\n\r\n",
                Some((200, Some("cpu"))),
            ),
            (b"SSH-2.0-OpenSSH\r\n\r\n", None),
            (b"HTTP/1.1 200 OK\r\n", None),
        ];
        for (raw, want) in cases {
            let got = parse_response(raw).map(|p| (p.code, p.backend_variant));
            let want = want.map(|(c, v)| (c, v.map(str::to_string)));
            assert_eq!(got, want, "{}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn health_rules() {
        let p = |code, v: Option<&str>| Probe {
            code,
            status: None,
            backend_variant: v.map(str::to_string),
        };
        let cases = [
            (p(200, Some("cuda")), Some("cuda"), true),
            (p(200, Some("cpu")), Some("cuda"), false),
            (p(200, None), Some("cuda"), true),
            (p(503, Some("cuda")), Some("cuda"), false),
            (p(200, Some("rocm")), None, true),
        ];
        for (probe, want_variant, healthy) in cases {
            assert_eq!(probe.healthy_for(want_variant), healthy, "{probe:?}");
        }
    }

    #[test]
    fn urls() {
        assert_eq!(
            HealthUrl::parse("http://localhost:9/h?x=1").unwrap().target,
            "/h?x=1"
        );
        assert_eq!(HealthUrl::for_port(5).as_str(), "http://127.0.0.1:5/health");
        for bad in ["https://127.0.0.1/health", "nonsense", "file:///x"] {
            let err = HealthUrl::parse(bad).unwrap_err();
            assert!(matches!(Error::find(&err), Some(Error::Usage(_))), "{bad}");
        }
    }
}
