//! Where a release lives (docs/contract.md "Terms": an `http(s)://` base URL, a `file://` URL or a
//! local directory) and uniform access to its files: small files whole, sizes, and byte
//! streams from an offset. Network failures are retried here with exponential backoff and
//! jitter (the `backon` crate), honouring `Retry-After`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use backon::BackoffBuilder;
use reqwest::{Method, Url};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::http::{Http, HttpError};
use crate::cancel::Cancel;
use crate::Error;

/// The default release of the reference app: GitHub's "latest" download base.
pub const GITHUB_LATEST: &str = "https://github.com/jamiepine/voicebox/releases/latest/download";

/// A release location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An `http://` or `https://` base URL; files are `{base}/{name}`.
    Http(Url),
    /// A local directory (also what a `file://` URL names).
    Dir(PathBuf),
}

impl Source {
    /// Parses `--source`: `http(s)://…`, `file://…` or a directory path. Errors with
    /// [`Error::Usage`] for other URL schemes or an unparsable URL.
    pub fn parse(text: &str) -> Result<Source, Error> {
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            let mut url = Url::parse(text)
                .map_err(|e| Error::Usage(format!("invalid source URL {text:?}: {e}")))?;
            if !url.path().ends_with('/') {
                let path = format!("{}/", url.path());
                url.set_path(&path);
            }
            Ok(Source::Http(url))
        } else if lower.starts_with("file://") {
            // `file://tmp/rel` names the host `tmp`: the path needs a third slash.
            let three_slashes = || format!("file:///{}", &text["file://".len()..]);
            let url = Url::parse(text)
                .map_err(|e| Error::Usage(format!("invalid source URL {text:?}: {e}")))?;
            let path = url.to_file_path().map_err(|()| {
                Error::Usage(format!(
                    "{text:?} is not a local file URL: it names the host {:?}; for the local \
                     directory write {} (three slashes)",
                    url.host_str().unwrap_or_default(),
                    three_slashes()
                ))
            })?;
            Ok(Source::Dir(path))
        } else if text.contains("://") {
            Err(Error::Usage(format!(
                "unsupported source {text:?}: use http(s)://, file:// or a directory"
            )))
        } else {
            Ok(Source::Dir(PathBuf::from(text)))
        }
    }

    /// The default GitHub release: latest, or `releases/download/{tag}`.
    pub fn github(tag: Option<&str>) -> Result<Source, Error> {
        match tag {
            None => Source::parse(GITHUB_LATEST),
            Some(t) => Source::parse(&format!(
                "https://github.com/jamiepine/voicebox/releases/download/{t}"
            )),
        }
    }

    /// How the source is shown and recorded.
    pub fn display(&self) -> String {
        match self {
            Source::Http(u) => u.as_str().trim_end_matches('/').to_string(),
            Source::Dir(p) => p.display().to_string(),
        }
    }

    /// The URL or path of file `name` in this release, for messages.
    pub fn locate(&self, name: &str) -> String {
        match self {
            Source::Http(base) => self.url(base, name).to_string(),
            Source::Dir(d) => d.join(name).display().to_string(),
        }
    }

    fn url(&self, base: &Url, name: &str) -> Url {
        let mut url = base.clone();
        if let Ok(mut segs) = url.path_segments_mut() {
            segs.pop_if_empty().push(name);
        }
        url
    }
}

/// Retry settings.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first attempt (`--retries`).
    pub retries: usize,
    /// The first backoff delay; it doubles each retry, with jitter, up to `max_delay`.
    pub min_delay: Duration,
    /// The longest backoff delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// The command's defaults: 5 retries, the first after 1 s, doubling up to 60 s.
    fn default() -> Self {
        RetryPolicy {
            retries: 5,
            min_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The backoff delays, one per retry, each at most `max_delay` (the first and the
    /// jittered ones included).
    pub fn delays(&self) -> impl Iterator<Item = Duration> {
        let max = self.max_delay;
        backon::ExponentialBuilder::default()
            .with_min_delay(self.min_delay.min(max))
            .with_max_delay(max)
            .with_factor(2.0)
            .with_jitter()
            .with_max_times(self.retries)
            .build()
            .map(move |d| d.min(max))
    }
}

/// A release's files, read over HTTP or from a directory.
#[derive(Debug)]
pub struct Remote {
    /// Where the release is.
    pub source: Source,
    http: Http,
    /// Retry settings for every request.
    pub retry: RetryPolicy,
    /// Ends retry waits (and, through the fetch, transfers) with [`Error::Interrupted`].
    pub cancel: Cancel,
    /// Data requests sent so far ([`Remote::open`], [`Remote::open_range`]).
    requests: std::sync::atomic::AtomicU64,
    /// Where the asset's bytes are fetched from, in order: the mirrors, then the origin
    /// (`source`) last. Small files (manifests, checksums, signatures, the chunk index) come
    /// from the origin only: what decides trust never comes from a mirror.
    sources: Vec<Source>,
    /// Per entry of `sources`: skipped for the rest of the run (it served a wrong byte).
    skipped: std::sync::Mutex<Vec<bool>>,
    /// Per entry of `sources`: bytes of the asset it served in this run.
    served: Vec<std::sync::atomic::AtomicU64>,
    /// Where the small files' validators are kept, so that they are asked for
    /// conditionally ([`super::http_cache`]); `None`: always downloaded whole.
    pub http_cache: Option<super::http_cache::HttpCache>,
    /// Told of each retry of a small file, before its wait (the fetch reports it as an
    /// `Event::Retry`); `None`: retries go unreported.
    pub on_retry: Option<RetryReport>,
}

/// What a [`Remote`] calls before each retry of a small file: the failure and the wait.
pub struct RetryReport(pub Box<RetryFn>);

/// The callback of a [`RetryReport`].
pub type RetryFn = dyn Fn(&HttpError, Duration) + Send + Sync;

impl std::fmt::Debug for RetryReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RetryReport")
    }
}

pub use crate::installs::Served;

/// A byte stream from some offset of a release file.
pub struct Body {
    inner: BodyInner,
    /// Whether the stream starts at the requested offset (`false`: the server ignored the
    /// Range request and the stream starts at 0).
    pub ranged: bool,
    /// The URL or path, for messages.
    pub what: String,
}

enum BodyInner {
    Http(reqwest::Response, Url, super::http::Pace),
    /// A file, a read buffer, and how many bytes are still to be read.
    File(tokio::fs::File, Vec<u8>, u64),
}

impl Body {
    /// Whether the stream is a local file (a directory release), whose end is the file's
    /// end rather than a connection that may have failed.
    pub fn is_local(&self) -> bool {
        matches!(self.inner, BodyInner::File(..))
    }

    /// The next chunk; `Ok(None)` at the end of the stream. Errors are network errors.
    pub async fn chunk(&mut self) -> Result<Option<bytes::Bytes>, HttpError> {
        match &mut self.inner {
            BodyInner::Http(resp, url, pace) => pace.chunk(resp, url).await,
            BodyInner::File(f, buf, left) => {
                let want = buf.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                let n = f
                    .read(&mut buf[..want])
                    .await
                    .map_err(|e| HttpError::Fatal {
                        url: self.what.clone(),
                        message: format!("cannot read: {e}"),
                    })?;
                *left -= n as u64;
                Ok((n > 0).then(|| bytes::Bytes::copy_from_slice(&buf[..n])))
            }
        }
    }
}

/// The release a GitHub "latest" download was redirected to: `base` ending in
/// `/releases/latest/download/` and the first redirect of file `name` from it pointing at
/// `/releases/download/{tag}/{name}` give the tag and the release's base URL for that tag
/// (`Some((base, tag))`); anything else gives `None`.
pub fn resolve_latest(base: &Url, name: &str, first_hop: &Url) -> Option<(String, String)> {
    let prefix = base.path().strip_suffix("/latest/download/")?;
    if first_hop.host_str() != base.host_str() || first_hop.scheme() != base.scheme() {
        return None;
    }
    let rest = first_hop.path().strip_prefix(prefix)?;
    let tag = rest
        .strip_prefix("/download/")?
        .strip_suffix(&format!("/{name}"))?;
    if tag.is_empty() || tag.contains('/') || tag == "latest" {
        return None;
    }
    let mut resolved = base.clone();
    resolved.set_path(&format!("{prefix}/download/{tag}"));
    resolved.set_query(None);
    Some((resolved.as_str().to_string(), tag.to_string()))
}

impl Remote {
    /// The resolved location of a "latest" release (see [`resolve_latest`]) as learnt from
    /// the redirect of file `name`, which was requested before.
    pub fn resolved_latest(&self, name: &str) -> Option<(String, String)> {
        let Source::Http(base) = &self.source else {
            return None;
        };
        let url = self.source.url(base, name);
        let hop = self.http.first_redirect(&url)?;
        resolve_latest(base, name, &hop)
    }

    /// A remote for `source` with a client built from `http`; `cancel` ends its waits.
    pub fn new(source: Source, http: Http, retry: RetryPolicy, cancel: Cancel) -> Remote {
        Remote::with_mirrors(source, Vec::new(), http, retry, cancel)
    }

    /// A remote for `source` whose asset bytes are asked of `mirrors` first, in order (see
    /// [`Remote::sources`]).
    pub fn with_mirrors(
        source: Source,
        mirrors: Vec<Source>,
        http: Http,
        retry: RetryPolicy,
        cancel: Cancel,
    ) -> Remote {
        let mut sources = mirrors;
        sources.push(source.clone());
        Remote {
            source,
            http,
            retry,
            cancel,
            requests: Default::default(),
            skipped: std::sync::Mutex::new(vec![false; sources.len()]),
            served: sources.iter().map(|_| Default::default()).collect(),
            sources,
            http_cache: None,
            on_retry: None,
        }
    }

    /// How many sources the asset's bytes may come from (the mirrors and the origin); source
    /// `i` is [`Remote::source_at`]`(i)`, the origin last.
    pub fn sources(&self) -> usize {
        self.sources.len()
    }

    /// Source `i` (the origin for `i` at or past the last).
    pub fn source_at(&self, i: usize) -> &Source {
        self.sources.get(i).unwrap_or(&self.source)
    }

    /// Whether source `i` is the origin (the last source).
    pub fn is_origin(&self, i: usize) -> bool {
        i + 1 >= self.sources.len()
    }

    /// The first source from `from` on that is not skipped (the origin is never skipped).
    pub fn next_source(&self, from: usize) -> usize {
        let skipped = self.skipped.lock().unwrap_or_else(|e| e.into_inner());
        (from..self.sources.len())
            .find(|&i| !skipped[i] || i + 1 == self.sources.len())
            .unwrap_or(self.sources.len() - 1)
    }

    /// Skips mirror `i` for the rest of the run (the origin cannot be skipped). Returns
    /// whether this call skipped it (`false`: the origin, or skipped before), so that a
    /// mirror skipped by several parts at once is named once.
    pub fn skip(&self, i: usize) -> bool {
        if self.is_origin(i) {
            return false;
        }
        let mut skipped = self.skipped.lock().unwrap_or_else(|e| e.into_inner());
        !std::mem::replace(&mut skipped[i], true)
    }

    /// Counts `n` bytes of the asset served by source `i`.
    pub fn count_served(&self, i: usize, n: u64) {
        if let Some(c) = self.served.get(i) {
            c.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// The sources that served bytes in this run, in source order.
    pub fn served(&self) -> Vec<Served> {
        self.sources
            .iter()
            .zip(&self.served)
            .enumerate()
            .filter_map(|(i, (s, n))| {
                let bytes = n.load(std::sync::atomic::Ordering::Relaxed);
                (bytes > 0).then(|| Served {
                    source: s.display(),
                    mirror: !self.is_origin(i),
                    bytes,
                })
            })
            .collect()
    }

    /// How many data requests ([`Remote::open`], [`Remote::open_range`]) were sent so far
    /// (reads of a directory release count too); the small files are not counted.
    pub fn requests(&self) -> u64 {
        self.requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Opens bytes `start..end` of file `name` with one single-range request (`Range:
    /// bytes=start-(end-1)`; a multi-range request is never sent: GitHub answers those with
    /// the whole file or an error). One attempt, as for [`Remote::open`]. A server that
    /// answers with anything but a `206` starting at `start` (a whole-file `200`, another
    /// range) is a [`HttpError::Fatal`]: its bytes cannot be placed.
    pub async fn open_range(&self, name: &str, start: u64, end: u64) -> Result<Body, HttpError> {
        self.open_range_at(self.sources.len() - 1, name, start, end)
            .await
    }

    /// [`Remote::open_range`] from source `src` ([`Remote::source_at`]).
    pub async fn open_range_at(
        &self,
        src: usize,
        name: &str,
        start: u64,
        end: u64,
    ) -> Result<Body, HttpError> {
        self.requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let source = self.source_at(src);
        match source {
            Source::Http(base) => {
                let url = source.url(base, name);
                let last = end.saturating_sub(1);
                let resp = self
                    .http
                    .send(Method::GET, &url, Some((start, Some(last))))
                    .await?;
                if resp.status() != reqwest::StatusCode::PARTIAL_CONTENT {
                    return Err(HttpError::Fatal {
                        url: url.to_string(),
                        message: format!(
                            "answered `Range: bytes={start}-{last}` with {} instead of 206 \
                             Partial Content",
                            resp.status()
                        ),
                    });
                }
                match content_range_start(&resp) {
                    Some(s) if s == start => {}
                    other => {
                        return Err(HttpError::Fatal {
                            url: url.to_string(),
                            message: format!(
                                "asked for bytes {start}-{last} but got Content-Range starting \
                                 at {other:?}"
                            ),
                        })
                    }
                }
                Ok(Body {
                    what: url.to_string(),
                    inner: BodyInner::Http(resp, url, self.http.pace()),
                    ranged: true,
                })
            }
            Source::Dir(dir) => {
                let mut body = self.open_file(&dir.join(name), start).await?;
                if let BodyInner::File(_, _, left) = &mut body.inner {
                    *left = end.saturating_sub(start);
                }
                Ok(body)
            }
        }
    }

    /// A local file from byte `offset` to its end.
    async fn open_file(&self, path: &std::path::Path, offset: u64) -> Result<Body, HttpError> {
        let fatal = |e: std::io::Error| HttpError::Fatal {
            url: path.display().to_string(),
            message: e.to_string(),
        };
        // Opened without blocking: a FIFO in a release directory must not hang the fetch.
        let std_file = match crate::checked_open::open_regular(path) {
            Ok(f) => f,
            Err(e) => {
                return Err(match crate::checked_open::not_regular(&e) {
                    Some(n) => HttpError::NotRegular {
                        url: path.display().to_string(),
                        cause: Error::Integrity(format!(
                            "{} {n}; a release holds only regular files",
                            path.display()
                        )),
                    },
                    None => fatal(e),
                })
            }
        };
        let mut f = tokio::fs::File::from_std(std_file);
        f.seek(std::io::SeekFrom::Start(offset))
            .await
            .map_err(fatal)?;
        Ok(Body {
            what: path.display().to_string(),
            inner: BodyInner::File(f, vec![0; 256 << 10], u64::MAX),
            ranged: true,
        })
    }

    /// Runs `op` with retries on transient errors, telling [`Remote::on_retry`] each failure
    /// and delay.
    /// Errors: the last [`HttpError`] (in the chain) once the retries are spent or for an
    /// error retrying cannot fix; [`Error::Interrupted`] when [`Remote::cancel`] is cancelled
    /// during a wait.
    pub async fn retrying<T, F, Fut>(&self, mut op: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, HttpError>>,
    {
        let mut delays = self.retry.delays();
        loop {
            match op().await {
                Ok(v) => return Ok(v),
                Err(e) if e.wait_too_long().is_some() => {
                    let why = e.wait_too_long().unwrap_or_default();
                    return Err(anyhow::Error::new(e).context(why));
                }
                Err(e) if e.is_transient() => match delays.next() {
                    Some(d) => {
                        let d = e.retry_after().unwrap_or(d);
                        if let Some(on_retry) = &self.on_retry {
                            (on_retry.0)(&e, d);
                        }
                        super::sleep(&self.cancel, d).await?;
                    }
                    None => return Err(e.into()),
                },
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Reads a small release file whole (with retries), at most `cap` bytes (the caps are in
    /// [`crate::checked_open`]: [`MANIFEST_CAP`](crate::checked_open::MANIFEST_CAP),
    /// [`CHECKSUM_FILE_CAP`](crate::checked_open::CHECKSUM_FILE_CAP)); `Ok(None)` when it
    /// does not exist. Bytes are counted as they arrive, whatever `Content-Length` or the
    /// file's size says. Errors name the URL or path: more than `cap` bytes, or a local file
    /// that is not a regular file (a FIFO, a device such as `/dev/zero` behind a symlink), is
    /// [`Error::Integrity`] (exit 3).
    pub async fn get_small(&self, name: &str, cap: u64) -> Result<Option<Vec<u8>>> {
        match &self.source {
            Source::Http(base) => {
                let url = self.source.url(base, name);
                let got = self
                    .retrying(|| get_capped(&self.http, &url, cap, self.http_cache.as_ref()))
                    .await?;
                match got {
                    Capped::Missing => Ok(None),
                    Capped::Body(b) => Ok(Some(b)),
                    Capped::TooLarge => Err(Error::Integrity(format!(
                        "{url}: larger than {cap} bytes; refusing it as a manifest or checksum \
                         file"
                    ))
                    .into()),
                }
            }
            Source::Dir(dir) => crate::checked_open::read_foreign(
                &dir.join(name),
                cap,
                Error::Integrity,
                Some(Error::Integrity),
            ),
        }
    }

    /// The size of a file in bytes (with retries); `Ok(None)` when it does not exist.
    pub async fn size(&self, name: &str) -> Result<Option<u64>> {
        match &self.source {
            Source::Http(base) => {
                let url = self.source.url(base, name);
                Ok(self.retrying(|| self.http.size(&url)).await?)
            }
            Source::Dir(dir) => {
                let path = dir.join(name);
                match std::fs::metadata(&path) {
                    Ok(m) if m.is_file() => Ok(Some(m.len())),
                    Ok(_) => Err(Error::Integrity(format!(
                        "{} is not a regular file; a release holds only regular files",
                        path.display()
                    ))
                    .into()),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => {
                        Err(anyhow::Error::from(e)
                            .context(format!("cannot read {}", path.display())))
                    }
                }
            }
        }
    }

    /// Opens file `name` from byte `offset` (one attempt; the caller retries, since a retry
    /// must resume from wherever the previous attempt stopped).
    pub async fn open(&self, name: &str, offset: u64) -> Result<Body, HttpError> {
        self.open_at(self.sources.len() - 1, name, offset).await
    }

    /// [`Remote::open`] from source `src` ([`Remote::source_at`]).
    pub async fn open_at(&self, src: usize, name: &str, offset: u64) -> Result<Body, HttpError> {
        self.requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let source = self.source_at(src);
        match source {
            Source::Http(base) => {
                let url = source.url(base, name);
                let range = (offset > 0).then_some((offset, None));
                let resp = self.http.send(Method::GET, &url, range).await?;
                let ranged = if offset == 0 {
                    true
                } else if resp.status() == reqwest::StatusCode::PARTIAL_CONTENT {
                    match content_range_start(&resp) {
                        Some(start) if start == offset => true,
                        other => {
                            return Err(HttpError::Fatal {
                                url: url.to_string(),
                                message: format!(
                                    "asked for bytes from {offset} but got Content-Range \
                                     starting at {other:?}"
                                ),
                            })
                        }
                    }
                } else {
                    false
                };
                Ok(Body {
                    what: url.to_string(),
                    inner: BodyInner::Http(resp, url, self.http.pace()),
                    ranged,
                })
            }
            Source::Dir(dir) => self.open_file(&dir.join(name), offset).await,
        }
    }
}

/// What a capped GET found.
enum Capped {
    /// 404 or 410.
    Missing,
    /// The whole body, at most the cap.
    Body(Vec<u8>),
    /// More than the cap arrived (the rest was not read).
    TooLarge,
}

/// GETs `url`, keeping at most `cap` bytes of the body: bytes are counted as chunks arrive,
/// and the transfer stops at the first byte over the cap.
async fn get_capped(
    http: &Http,
    url: &Url,
    cap: u64,
    cache: Option<&super::http_cache::HttpCache>,
) -> Result<Capped, HttpError> {
    let cached = cache.and_then(|c| c.lookup(url, cap));
    let headers = cached
        .as_ref()
        .map(|c| c.headers.clone())
        .unwrap_or_default();
    let mut resp = match http.send_with(Method::GET, url, None, &headers).await {
        Ok(r) if r.status() == reqwest::StatusCode::NOT_MODIFIED => {
            if let Some(c) = cached {
                tracing::info!("{url}: not modified (304); using the copy kept");
                return Ok(Capped::Body(c.body));
            }
            return Err(HttpError::Fatal {
                url: url.to_string(),
                message: "304 Not Modified to an unconditional request".into(),
            });
        }
        Ok(r) => r,
        Err(HttpError::NotFound { .. }) => return Ok(Capped::Missing),
        Err(e) => return Err(e),
    };
    // Sized from the declared length (within the cap), so a large body is not copied while
    // the buffer doubles: a 64 MiB chunk index would peak at three times its size.
    let declared = resp.content_length().unwrap_or(0).min(cap);
    let mut body = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
    let mut pace = http.pace();
    while let Some(chunk) = pace.chunk(&mut resp, url).await? {
        if (body.len() as u64).saturating_add(chunk.len() as u64) > cap {
            return Ok(Capped::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    if let Some(c) = cache {
        c.store(url, resp.headers(), &body);
    }
    Ok(Capped::Body(body))
}

/// The first byte of a `Content-Range: bytes A-B/N` header.
fn content_range_start(resp: &reqwest::Response) -> Option<u64> {
    let v = resp
        .headers()
        .get(reqwest::header::CONTENT_RANGE)?
        .to_str()
        .ok()?;
    parse_content_range_start(v)
}

/// The first byte of a `Content-Range` header value `bytes A-B/N`; `None` for any other form.
pub(crate) fn parse_content_range_start(v: &str) -> Option<u64> {
    v.strip_prefix("bytes ")?
        .split('-')
        .next()?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_sources() {
        let http = Source::parse("http://127.0.0.1:8/rel").unwrap();
        assert_eq!(http.locate("a b"), "http://127.0.0.1:8/rel/a%20b");
        assert_eq!(http.display(), "http://127.0.0.1:8/rel");
        let slash = Source::parse("https://h/x/").unwrap();
        assert_eq!(slash.locate("f"), "https://h/x/f");
        assert_eq!(
            Source::parse("file:///tmp/r").unwrap(),
            Source::Dir("/tmp/r".into())
        );
        assert_eq!(Source::parse("./rel").unwrap(), Source::Dir("./rel".into()));
        assert!(Source::parse("ftp://h/x").is_err());
        let two_slashes = Source::parse("file://tmp/r").unwrap_err().to_string();
        assert!(two_slashes.contains("write file:///tmp/r"), "{two_slashes}");
        assert_eq!(
            Source::github(Some("v0.3.0")).unwrap().locate("a"),
            "https://github.com/jamiepine/voicebox/releases/download/v0.3.0/a"
        );
    }

    #[test]
    fn delays_grow_and_stop() {
        let p = RetryPolicy {
            retries: 3,
            min_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        let d: Vec<_> = p.delays().collect();
        assert_eq!(d.len(), 3);
        assert!(d.iter().all(|d| *d >= Duration::from_millis(100)));
        assert!(d.iter().all(|d| *d <= Duration::from_secs(2)));
    }

    #[test]
    fn every_delay_obeys_the_cap_even_the_first() {
        let p = RetryPolicy {
            retries: 4,
            min_delay: Duration::from_secs(3600),
            max_delay: Duration::from_secs(60),
        };
        let d: Vec<_> = p.delays().collect();
        assert_eq!(d.len(), 4);
        assert!(d.iter().all(|d| *d <= Duration::from_secs(60)), "{d:?}");
    }

    #[test]
    fn a_latest_redirect_resolves_to_its_tag() {
        let base = Url::parse(&format!("{GITHUB_LATEST}/")).unwrap();
        let hop = |u: &str| Url::parse(u).unwrap();
        let gh = "https://github.com/jamiepine/voicebox/releases";
        assert_eq!(
            resolve_latest(&base, "a", &hop(&format!("{gh}/download/v0.3.1/a"))),
            Some((format!("{gh}/download/v0.3.1"), "v0.3.1".into()))
        );
        for bad in [
            format!("{gh}/download/v0.3.1/b"), // another file
            format!("{gh}/download/x/y/a"),    // not one tag
            "https://evil.example/releases/download/v1/a".into(),
            "https://objects.githubusercontent.com/x/a".into(),
        ] {
            assert_eq!(resolve_latest(&base, "a", &hop(&bad)), None, "{bad}");
        }
        let tagged = Url::parse(&format!("{gh}/download/v1/")).unwrap();
        assert_eq!(
            resolve_latest(&tagged, "a", &hop(&format!("{gh}/download/v2/a"))),
            None
        );
    }
}
