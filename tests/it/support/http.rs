//! A test HTTP server on 127.0.0.1:0 (hyper) serving the files of a directory, with switches
//! that reproduce what real servers and networks do to downloads: Range support on or off,
//! connections dropped or stalled after N bytes, a status code answered N times (with
//! `Retry-After`), a flipped byte, GitHub-style 302s to signed URLs that expire, slow trickling,
//! lying servers (a `Content-Length` larger than the body, an empty `200` to a Range request),
//! a log of every request (path, Range, Authorization, status) and a count of the file bodies
//! being sent at the same time.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Empty, StreamBody};
use hyper::body::Frame;
use hyper::{Request, Response, StatusCode};

/// What happens after `after` body bytes of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Close the connection mid-body.
    Drop,
    /// Send nothing more, keeping the connection open.
    Stall,
}

/// The server's behaviour; change it at any time with [`Server::set`].
#[derive(Debug, Clone)]
pub struct Switches {
    /// Answer Range requests with 206 (true) or ignore them and send 200 (false).
    pub honour_range: bool,
    /// Cut the next `cut_times` file bodies after this many bytes.
    pub cut_after: Option<(u64, Cut)>,
    /// How many bodies get cut.
    pub cut_times: usize,
    /// Cut only bodies of this path (`/NAME`), when set.
    pub cut_only: Option<String>,
    /// Per path: answer this status this many more times, with this `Retry-After` value
    /// (delay-seconds like `"1"`, or an HTTP-date).
    pub status: HashMap<String, (u16, usize, Option<String>)>,
    /// Per path: flip the byte at this offset.
    pub flip: HashMap<String, u64>,
    /// Answer `/X` with a 302 to `/signed/{n}/X`; each signed URL answers this many requests,
    /// then 403 (an expired signature).
    pub signed_uses: Option<usize>,
    /// Send bodies in chunks of this many bytes with this pause between them.
    pub trickle: Option<(usize, Duration)>,
    /// Per path: answer a GET without Range with `Content-Length: declared` but send only the
    /// first `sent` bytes of the file, then close the connection: `(sent, declared)`.
    pub lie_length: HashMap<String, (u64, u64)>,
    /// Per path: answer a HEAD with this `Content-Length` instead of the file's size (a
    /// server lying about a part's size; GETs send the file as it is).
    pub head_length: HashMap<String, u64>,
    /// Answer every GET with a Range header with `200` and an empty body.
    pub empty_range_200: bool,
    /// Hold every file body over 64 KiB (not manifests) back until this many bodies are
    /// being sent at once (or 20 s have passed), once: a client that downloads one file at
    /// a time shows a maximum of 1.
    pub gather: Option<usize>,
    /// GitHub's release URLs under `/gh/releases/`: `latest/download/X` answers a 302 to
    /// `download/{this tag}/X`, and `download/{any tag}/X` serves `X`.
    pub github_tag: Option<String>,
    /// Per path: hold its bodies back until a body of this other path has handed its last
    /// bytes to the connection (or 20 s have passed), to make files arrive in a chosen order.
    pub hold_until_sent: HashMap<String, String>,
    /// While set, every body longer than this many bytes sends that many and then nothing
    /// more (the connection stays open) until it is cleared, when it goes on: a download
    /// held part way for as long as a test needs, with no timing involved.
    pub hold_after: Option<u64>,
    /// Answer every Range request with at most this many bytes: a `206` whose
    /// `Content-Range` and `Content-Length` say so (a valid answer, short of what was asked).
    pub short_range: Option<u64>,
}

impl Default for Switches {
    fn default() -> Switches {
        Switches {
            honour_range: true,
            cut_after: None,
            cut_times: 0,
            cut_only: None,
            status: HashMap::new(),
            flip: HashMap::new(),
            signed_uses: None,
            github_tag: None,
            trickle: None,
            lie_length: HashMap::new(),
            head_length: HashMap::new(),
            empty_range_200: false,
            gather: None,
            hold_until_sent: HashMap::new(),
            hold_after: None,
            short_range: None,
        }
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Logged {
    /// `GET` or `HEAD`.
    pub method: String,
    /// The request path (`/signed/3/x` for signed URLs).
    pub path: String,
    /// The file served, when one was (`/x`).
    pub file: Option<String>,
    /// The `Range` header.
    pub range: Option<String>,
    /// The `Authorization` header.
    pub auth: Option<String>,
    /// The status answered.
    pub status: u16,
}

#[derive(Default)]
struct State {
    root: PathBuf,
    switches: Mutex<Switches>,
    log: Mutex<Vec<Logged>>,
    signed: Mutex<HashMap<u64, usize>>,
    next_signed: Mutex<u64>,
    /// File bodies being sent now, and the most at any one time.
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// The files whose bodies handed their last bytes to the connection, in that order.
    sent_to_end: Mutex<Vec<String>>,
    /// Bodies held now by [`Switches::hold_after`].
    held: AtomicUsize,
}

/// Counts one file body as being sent from its creation until hyper drops it (sent, or the
/// connection closed).
struct InFlight(Arc<State>);

impl InFlight {
    fn start(st: &Arc<State>) -> InFlight {
        let now = st.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        st.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(st.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A running server. It lives until the test process exits.
pub struct Server {
    /// Its address.
    pub addr: SocketAddr,
    state: Arc<State>,
}

type Body = BoxBody<Bytes, std::io::Error>;

impl Server {
    /// Serves the files under `root`.
    pub fn start(root: &Path) -> Server {
        let state = Arc::new(State {
            root: root.to_path_buf(),
            ..State::default()
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let st = state.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let st = st.clone();
                    tokio::spawn(async move {
                        let svc = hyper::service::service_fn(move |req| {
                            let st = st.clone();
                            async move { Ok::<_, Infallible>(handle(&st, req)) }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                            .await;
                    });
                }
            });
        });
        Server { addr, state }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Changes the switches.
    pub fn set(&self, f: impl FnOnce(&mut Switches)) {
        f(&mut self.state.switches.lock().unwrap());
    }

    /// Every request so far.
    pub fn log(&self) -> Vec<Logged> {
        self.state.log.lock().unwrap().clone()
    }

    /// The most file bodies (GET answers carrying file data) the server was sending at one
    /// time: overlapping downloads show up here as a number above 1.
    pub fn max_concurrent_bodies(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    /// The files (`/name`) whose bodies handed their last bytes to the connection, in the
    /// order they did.
    pub fn sent_to_end(&self) -> Vec<String> {
        self.state.sent_to_end.lock().unwrap().clone()
    }

    /// How many bodies [`Switches::hold_after`] holds right now (each has sent its bytes up
    /// to the hold).
    pub fn bodies_held(&self) -> usize {
        self.state.held.load(Ordering::SeqCst)
    }

    /// GET requests that were answered with file data (200 or 206) for file `/name`.
    pub fn downloads(&self, name: &str) -> Vec<Logged> {
        let want = format!("/{name}");
        self.log()
            .into_iter()
            .filter(|l| {
                l.method == "GET"
                    && l.file.as_deref() == Some(&want)
                    && matches!(l.status, 200 | 206)
            })
            .collect()
    }
}

fn empty(status: u16) -> Response<Body> {
    let mut r = Response::new(Empty::new().map_err(|e: Infallible| match e {}).boxed());
    *r.status_mut() = StatusCode::from_u16(status).unwrap();
    r
}

fn handle(st: &Arc<State>, req: Request<hyper::body::Incoming>) -> Response<Body> {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let header = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (range, auth) = (header("range"), header("authorization"));
    let mut file = None;
    let resp = respond(st, &method, &path, range.as_deref(), &mut file);
    st.log.lock().unwrap().push(Logged {
        method,
        path,
        file,
        range,
        auth,
        status: resp.status().as_u16(),
    });
    resp
}

fn respond(
    st: &Arc<State>,
    method: &str,
    path: &str,
    range: Option<&str>,
    served: &mut Option<String>,
) -> Response<Body> {
    let sw = st.switches.lock().unwrap().clone();
    let mut file_path = path.to_string();
    if let Some(tag) = &sw.github_tag {
        if let Some(name) = path.strip_prefix("/gh/releases/latest/download/") {
            let mut r = empty(302);
            r.headers_mut().insert(
                "location",
                format!("/gh/releases/download/{tag}/{name}")
                    .parse()
                    .unwrap(),
            );
            return r;
        }
        if let Some(rest) = path.strip_prefix("/gh/releases/download/") {
            if let Some((_, name)) = rest.split_once('/') {
                file_path = format!("/{name}");
            }
        }
    }
    if let Some(uses) = sw.signed_uses {
        if let Some(rest) = path.strip_prefix("/signed/") {
            let (n, rest) = rest.split_once('/').unwrap();
            let n: u64 = n.parse().unwrap();
            let mut signed = st.signed.lock().unwrap();
            let left = signed.entry(n).or_insert(0);
            if *left == 0 {
                return empty(403);
            }
            *left -= 1;
            file_path = format!("/{rest}");
        } else {
            let mut next = st.next_signed.lock().unwrap();
            *next += 1;
            st.signed.lock().unwrap().insert(*next, uses);
            let mut r = empty(302);
            r.headers_mut().insert(
                "location",
                format!("/signed/{}{path}", *next).parse().unwrap(),
            );
            return r;
        }
    }
    {
        let mut sw = st.switches.lock().unwrap();
        if let Some((code, times, retry_after)) = sw.status.get_mut(&file_path) {
            if *times > 0 {
                *times -= 1;
                let mut r = empty(*code);
                if let Some(s) = retry_after {
                    r.headers_mut()
                        .insert("retry-after", s.to_string().parse().unwrap());
                }
                return r;
            }
        }
    }
    let Ok(mut data) = std::fs::read(st.root.join(file_path.trim_start_matches('/'))) else {
        return empty(404);
    };
    *served = Some(file_path.clone());
    if let Some(&off) = sw.flip.get(&file_path) {
        if let Some(b) = data.get_mut(off as usize) {
            *b ^= 0xff;
        }
    }
    if method == "GET" && range.is_some() && sw.empty_range_200 {
        let mut r = empty(200);
        r.headers_mut()
            .insert("content-length", "0".parse().unwrap());
        return r;
    }
    if let (Some(&(sent, declared)), None, "GET") = (sw.lie_length.get(&file_path), range, method) {
        // A stream of unknown length, so hyper frames the response by the declared
        // Content-Length; the cut closes the connection after `sent` bytes.
        let cut = Some((sent, Cut::Drop));
        let mut r = Response::new(streamed(
            Bytes::from(data),
            cut,
            None,
            InFlight::start(st),
            None,
            None,
        ));
        r.headers_mut()
            .insert("content-length", declared.to_string().parse().unwrap());
        return r;
    }
    let total = data.len() as u64;
    let mut status = 200;
    let mut start = 0u64;
    let mut end = total;
    if let (Some(r), true) = (range, sw.honour_range) {
        let spec = r.strip_prefix("bytes=").unwrap();
        let (a, b) = spec.split_once('-').unwrap();
        start = a.parse().unwrap();
        if !b.is_empty() {
            end = b.parse::<u64>().unwrap() + 1;
        }
        if start >= total {
            return empty(416);
        }
        if let Some(n) = sw.short_range {
            end = end.min(start + n);
        }
        status = 206;
    }
    let body = Bytes::from(data).slice(start as usize..end as usize);
    let len = body.len();
    let mut resp = if method == "HEAD" {
        empty(status)
    } else {
        // Only bodies longer than the cut point count (small manifests pass untouched).
        let cut = sw
            .cut_after
            .filter(|(after, _)| sw.cut_times > 0 && (len as u64) > *after)
            .filter(|_| sw.cut_only.as_ref().is_none_or(|p| *p == file_path));
        if cut.is_some() {
            st.switches.lock().unwrap().cut_times -= 1;
        }
        let mut r = Response::new(streamed(
            body,
            cut,
            sw.trickle,
            InFlight::start(st),
            sw.gather.filter(|_| len > 64 * 1024),
            Some(Track {
                file: file_path.clone(),
                after: sw.hold_until_sent.get(&file_path).cloned(),
            }),
        ));
        *r.status_mut() = StatusCode::from_u16(status).unwrap();
        r
    };
    let declared = match (method, sw.head_length.get(&file_path)) {
        ("HEAD", Some(&lie)) => lie,
        _ => len as u64,
    };
    let h = resp.headers_mut();
    h.insert("content-length", declared.to_string().parse().unwrap());
    h.insert("accept-ranges", "bytes".parse().unwrap());
    if status == 206 {
        h.insert(
            "content-range",
            format!("bytes {start}-{}/{total}", end - 1)
                .parse()
                .unwrap(),
        );
    }
    resp
}

/// The file a body sends: recorded when the body ends, held back until `after` ended.
struct Track {
    file: String,
    after: Option<String>,
}

/// A body that sends `data`, trickled and/or cut as asked, counted in flight while it lives.
fn streamed(
    data: Bytes,
    cut: Option<(u64, Cut)>,
    trickle: Option<(usize, Duration)>,
    counted: InFlight,
    gather: Option<usize>,
    track: Option<Track>,
) -> Body {
    let track = track.map(Arc::new);
    let len = data.len() as u64;
    let chunk = trickle.map_or(256 * 1024, |t| t.0);
    let pause = trickle.map(|t| t.1);
    let counted = Arc::new(counted);
    let stream = futures_util::stream::unfold((data, 0u64, false), move |(data, sent, first)| {
        // The stream owns the count: it ends when hyper drops the body.
        let counted = counted.clone();
        let track = track.clone();
        async move {
            if let (Some(Track { after: Some(a), .. }), 0, false) = (track.as_deref(), sent, first)
            {
                let deadline = std::time::Instant::now() + Duration::from_secs(20);
                while !counted.0.sent_to_end.lock().unwrap().contains(a)
                    && std::time::Instant::now() < deadline
                {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            if let (Some(n), 0) = (gather, sent) {
                let deadline = std::time::Instant::now() + Duration::from_secs(20);
                while counted.0.max_in_flight.load(Ordering::SeqCst) < n
                    && std::time::Instant::now() < deadline
                {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            if let Some((after, how)) = cut {
                if sent >= after {
                    match how {
                        Cut::Drop => {
                            // Let hyper flush what was sent, then abort the connection.
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            return Some((
                                Err(std::io::Error::other("connection cut by the test server")),
                                (Bytes::new(), sent, true),
                            ));
                        }
                        Cut::Stall => std::future::pending::<()>().await,
                    }
                }
            }
            if data.is_empty() {
                return None;
            }
            let hold = || {
                let after = counted.0.switches.lock().unwrap().hold_after;
                after.filter(|&h| len > h)
            };
            if hold().is_some_and(|h| sent >= h) {
                counted.0.held.fetch_add(1, Ordering::SeqCst);
                while hold().is_some_and(|h| sent >= h) {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                counted.0.held.fetch_sub(1, Ordering::SeqCst);
            }
            if let (Some(p), true) = (pause, first) {
                tokio::time::sleep(p).await;
            }
            let mut n = chunk.min(data.len());
            if let Some(h) = hold().filter(|&h| sent < h) {
                n = n.min((h - sent) as usize);
            }
            if let Some((after, _)) = cut {
                n = n.min((after - sent) as usize);
            }
            let head = data.slice(..n);
            let rest = data.slice(n..);
            if let (Some(t), true) = (track.as_deref(), rest.is_empty()) {
                // hyper stops polling once Content-Length bytes are out: the last frame is
                // the end.
                counted.0.sent_to_end.lock().unwrap().push(t.file.clone());
            }
            Some((Ok(Frame::data(head)), (rest, sent + n as u64, true)))
        }
    });
    BodyExt::boxed(StreamBody::new(stream))
}
