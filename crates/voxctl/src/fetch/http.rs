//! The HTTP side of the download engine: one reqwest client (rustls, proxies from the standard
//! environment variables), redirects followed by hand so that credentials never cross hosts
//! and signed URLs can be re-resolved, and the classification of every answer into "retry",
//! "not found" or "give up".
//!
//! Retrying is for what can heal: a reset, a timeout, a 5xx, a 429. What cannot
//! ([`Unfixable`]: a host name that does not exist, a refused certificate, TLS spoken to a
//! plain-HTTP server, a connection refused before the server ever answered) fails at once
//! with a remedy instead of after a minute of backoff.
//!
//! GitHub answers an asset URL with a 302 to a signed storage URL that expires after about an
//! hour. [`Http`] remembers where each original URL led; a later request (a retry, a resume)
//! goes straight to that signed URL, and a 403 from it sends the request back to the original
//! URL for a fresh signature.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderValue, AUTHORIZATION, LOCATION, RANGE, RETRY_AFTER};
use reqwest::{Method, Response, StatusCode, Url};

/// Most redirects followed for one request.
const MAX_REDIRECTS: usize = 10;
/// Longest `Retry-After` honoured, in seconds; longer values are capped.
const MAX_RETRY_AFTER_SECS: u64 = 600;
/// The longest wait between two attempts at one source: a server asking for a longer
/// `Retry-After` is not waited for (the request goes to the next source, or fails).
pub const RETRY_WAIT_CAP: Duration = Duration::from_secs(60);
/// The slowest a response body may be, in bytes per second averaged over each window of
/// `--read-timeout`: a body that trickles more slowly (a slow-loris server) is a transient
/// failure, so that no request, not even for a 1 KiB manifest, can last without end.
pub const MIN_BYTES_PER_SEC: u64 = 1024;

/// Network settings.
#[derive(Debug, Clone)]
pub struct NetSettings {
    /// Time allowed to establish a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Longest silence allowed while reading a response; also the window over which a body
    /// must average [`MIN_BYTES_PER_SEC`], and (with `connect_timeout`) the deadline for a
    /// response's headers.
    pub read_timeout: Duration,
    /// A GitHub token, sent as `Authorization: Bearer` to github.com and api.github.com only.
    pub github_token: Option<String>,
}

impl Default for NetSettings {
    /// The command's defaults: 30 s to connect, 60 s of silence at most, no GitHub token.
    fn default() -> Self {
        NetSettings {
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
            github_token: None,
        }
    }
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The server says the file does not exist (404 or 410).
    #[error("{url}: not found (HTTP {status})")]
    NotFound {
        /// The URL (or path) asked for.
        url: String,
        /// 404 or 410.
        status: u16,
    },
    /// A transient failure worth retrying: connection errors, resets, timeouts, 408, 429, 5xx.
    #[error("{url}: {message}")]
    Transient {
        /// The URL (or path) asked for.
        url: String,
        /// What went wrong.
        message: String,
        /// The server's `Retry-After`, if it sent one (seconds form).
        retry_after: Option<Duration>,
    },
    /// A failure that retrying will not fix (other 4xx, bad redirects).
    #[error("{url}: {message}")]
    Fatal {
        /// The URL (or path) asked for.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// A file of a release directory that cannot be a release file (a FIFO, a device):
    /// bad release data, never retried; `cause` is the [`crate::Error::Integrity`] (exit 3).
    #[error("not a release file")]
    NotRegular {
        /// The path asked for.
        url: String,
        /// The integrity failure saying what the file is.
        #[source]
        cause: crate::Error,
    },
    /// A network failure that no retry can fix, with the user's next step
    /// ([`Unfixable::problem`]).
    #[error("{url}: {message}")]
    Unfixable {
        /// The URL asked for.
        url: String,
        /// What went wrong (the client's whole cause chain).
        message: String,
        /// Which failure it is.
        why: Unfixable,
    },
}

impl HttpError {
    /// Whether a retry may help.
    pub fn is_transient(&self) -> bool {
        matches!(self, HttpError::Transient { .. })
    }

    /// What went wrong, without the URL (for summaries that name the URL once).
    pub fn detail(&self) -> String {
        match self {
            HttpError::NotFound { status, .. } => format!("not found (HTTP {status})"),
            HttpError::Transient { message, .. }
            | HttpError::Fatal { message, .. }
            | HttpError::Unfixable { message, .. } => message.clone(),
            HttpError::NotRegular { cause, .. } => cause.to_string(),
        }
    }

    /// Why this failure is not waited for, when the server's `Retry-After` asks for more than
    /// [`RETRY_WAIT_CAP`]: the request goes to the next source, or the fetch fails, rather
    /// than sleep for up to 10 minutes per retry.
    pub fn wait_too_long(&self) -> Option<String> {
        let wait = self.retry_after().filter(|w| *w > RETRY_WAIT_CAP)?;
        Some(format!(
            "the server asks to wait {} s before a retry (Retry-After), longer than the {} s \
             voxctl waits",
            wait.as_secs(),
            RETRY_WAIT_CAP.as_secs()
        ))
    }

    /// The server's requested delay before a retry, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            HttpError::Transient { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// An error for `url` from a reqwest error (connection, timeout, body); the message is
    /// reqwest's whole cause chain, without the URL (the error names it once). Transient,
    /// except for what retrying cannot fix whenever it happens ([`Unfixable::of`]: a host
    /// name that does not resolve, a refused TLS certificate, a plain-HTTP answer to TLS),
    /// which is [`HttpError::Unfixable`] so that it is reported at once instead of after
    /// every retry. With `answered_before` false (the server of `url` has not answered this
    /// client yet), a refused connection is unfixable too ([`Unfixable::Refused`]).
    pub fn from_reqwest(url: &Url, err: reqwest::Error, answered_before: bool) -> HttpError {
        let err = err.without_url();
        let mut message = err.to_string();
        let mut refused = false;
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            message.push_str(&format!(": {s}"));
            refused |= s
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::ConnectionRefused);
            source = s.source();
        }
        let why =
            Unfixable::of(&message).or((refused && !answered_before).then_some(Unfixable::Refused));
        if let Some(why) = why {
            return HttpError::Unfixable {
                url: url.to_string(),
                message,
                why,
            };
        }
        HttpError::Transient {
            url: url.to_string(),
            message,
            retry_after: None,
        }
    }

    /// What cannot be fixed by retrying, if this is such an error.
    pub fn unfixable(&self) -> Option<Unfixable> {
        match self {
            HttpError::Unfixable { why, .. } => Some(*why),
            _ => None,
        }
    }
}

/// A network failure that no retry can fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unfixable {
    /// The host name does not exist (the resolver said so: `EAI_NONAME`). A resolver that
    /// cannot answer right now ("temporary failure") stays transient.
    UnknownHost,
    /// The server's TLS certificate was refused (untrusted issuer, wrong name, expired).
    Certificate,
    /// An `https://` URL whose server answered in plain HTTP (rustls saw a record that is not
    /// TLS: `InvalidContentType`).
    NotTls,
    /// The connection was refused (nothing listens on that port) before that server ever
    /// answered this client: a wrong port or a server that is not running, not a blip.
    /// Refused later, once the release was reached, it is transient (a server restarting).
    Refused,
}

impl Unfixable {
    /// Classifies a reqwest/hyper/rustls cause chain by its text: these errors are not
    /// exposed as types by reqwest (hyper-util's `ConnectError` and rustls' `Error` are
    /// private or version-bound), but their messages are stable. ([`Unfixable::Refused`]
    /// depends on what happened before, and is found by [`HttpError::from_reqwest`].)
    pub fn of(chain: &str) -> Option<Unfixable> {
        let unknown_host = [
            "Name or service not known",
            "No address associated with hostname",
            "nodename nor servname provided",
            // Windows: WSAHOST_NOT_FOUND, which getaddrinfo returns for EAI_NONAME there
            // (WSATRY_AGAIN, 11002, is the temporary failure and stays transient).
            "(os error 11001)",
        ];
        if chain.contains("dns error") && unknown_host.iter().any(|m| chain.contains(m)) {
            Some(Unfixable::UnknownHost)
        } else if chain.contains("invalid peer certificate") {
            Some(Unfixable::Certificate)
        } else if chain.contains("received corrupt message of type InvalidContentType") {
            Some(Unfixable::NotTls)
        } else {
            None
        }
    }

    /// What is wrong with the source, for the remedy.
    pub fn problem(self) -> crate::error::SourceProblem {
        use crate::error::SourceProblem;
        match self {
            Unfixable::UnknownHost => SourceProblem::UnknownHost,
            Unfixable::Certificate => SourceProblem::Certificate,
            Unfixable::NotTls => SourceProblem::NotTls,
            Unfixable::Refused => SourceProblem::ConnectionRefused,
        }
    }
}

/// An HTTP client for one fetch.
#[derive(Debug)]
pub struct Http {
    client: reqwest::Client,
    token: Option<String>,
    /// Original URL -> where it last redirected to (e.g. a signed storage URL).
    resolved: Mutex<HashMap<Url, Url>>,
    /// Original URL -> its first redirect (GitHub's `latest/download/X` -> the tag's URL).
    first_hops: Mutex<HashMap<Url, Url>>,
    /// The servers (`scheme://host:port`) that have answered a request of this client (any
    /// status): a refused connection to one that never answered is [`Unfixable::Refused`],
    /// so a dead mirror is told apart from an origin restarting mid-run.
    answered: Mutex<std::collections::HashSet<String>>,
    /// The deadline for a response's headers, from sending the request.
    head_deadline: Duration,
    /// The window of [`Pace`].
    pace_window: Duration,
}

/// The minimum-speed rule of a response body: within each window (`--read-timeout`), at
/// least [`MIN_BYTES_PER_SEC`] per second of the window must arrive, or the body ends with a
/// transient error. A body that ends within a window is never judged by it.
#[derive(Debug)]
pub struct Pace {
    window: Duration,
    window_end: tokio::time::Instant,
    got: u64,
}

impl Pace {
    /// A pace whose first window starts now.
    pub fn new(window: Duration) -> Pace {
        Pace {
            window,
            window_end: tokio::time::Instant::now() + window,
            got: 0,
        }
    }

    fn min_bytes(&self) -> u64 {
        MIN_BYTES_PER_SEC.saturating_mul(self.window.as_secs().max(1))
    }

    /// The next chunk of `resp`'s body (`Ok(None)` at its end). Errors: the body's own, and
    /// a transient error naming `url` when a window ends with too few bytes.
    pub async fn chunk(
        &mut self,
        resp: &mut Response,
        url: &Url,
    ) -> Result<Option<bytes::Bytes>, HttpError> {
        loop {
            match tokio::time::timeout_at(self.window_end, resp.chunk()).await {
                Ok(got) => {
                    let got = got.map_err(|e| HttpError::from_reqwest(url, e, true))?;
                    if let Some(c) = &got {
                        self.got += c.len() as u64;
                    }
                    if got.is_some() && tokio::time::Instant::now() >= self.window_end {
                        self.close_window(url)?;
                    }
                    return Ok(got);
                }
                Err(_) => self.close_window(url)?,
            }
        }
    }

    fn close_window(&mut self, url: &Url) -> Result<(), HttpError> {
        if self.got < self.min_bytes() {
            return Err(HttpError::Transient {
                url: url.to_string(),
                message: format!(
                    "too slow: {} bytes in {:?}, less than the {} bytes a second required",
                    self.got, self.window, MIN_BYTES_PER_SEC
                ),
                retry_after: None,
            });
        }
        self.got = 0;
        self.window_end = tokio::time::Instant::now() + self.window;
        Ok(())
    }
}

/// The server a URL names, as `scheme://host:port`.
fn authority(url: &Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(0)
    )
}

impl Http {
    /// Whether the server of `url` has answered a request of this client in this run.
    fn has_answered(&self, url: &Url) -> bool {
        self.answered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&authority(url))
    }

    /// Builds the client: rustls, no automatic redirects, the given timeouts, proxies from
    /// `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY`/`NO_PROXY`.
    pub fn new(settings: &NetSettings) -> anyhow::Result<Http> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(settings.connect_timeout)
            .read_timeout(settings.read_timeout)
            .user_agent(concat!("voxctl/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Http {
            client,
            token: settings.github_token.clone().filter(|t| !t.is_empty()),
            resolved: Mutex::new(HashMap::new()),
            first_hops: Mutex::new(HashMap::new()),
            answered: Mutex::new(std::collections::HashSet::new()),
            head_deadline: settings
                .connect_timeout
                .saturating_add(settings.read_timeout),
            pace_window: settings.read_timeout,
        })
    }

    /// A [`Pace`] for a body of this client, starting now.
    pub fn pace(&self) -> Pace {
        Pace::new(self.pace_window)
    }

    /// Sends `method` to `url` (with `Range: bytes={first}-` or `bytes={first}-{last}` when
    /// `range` is `Some((first, last))`, byte numbers inclusive), following redirects, and
    /// returns a 2xx response. A 403 from a remembered redirect target re-resolves once from
    /// `url`.
    pub async fn send(
        &self,
        method: Method,
        url: &Url,
        range: Option<(u64, Option<u64>)>,
    ) -> Result<Response, HttpError> {
        self.send_with(method, url, range, &reqwest::header::HeaderMap::new())
            .await
    }

    /// [`Http::send`] with `headers` added to every request. With a conditional header
    /// (`If-None-Match`, `If-Modified-Since`) among them, a `304 Not Modified` is returned
    /// as a response too.
    pub async fn send_with(
        &self,
        method: Method,
        url: &Url,
        range: Option<(u64, Option<u64>)>,
        headers: &reqwest::header::HeaderMap,
    ) -> Result<Response, HttpError> {
        let conditional = headers.contains_key(reqwest::header::IF_NONE_MATCH)
            || headers.contains_key(reqwest::header::IF_MODIFIED_SINCE);
        let remembered = self.remembered(url);
        let mut from_memory = remembered.is_some();
        let mut current = remembered.unwrap_or_else(|| url.clone());
        let mut hops = 0;
        loop {
            let mut req = self
                .client
                .request(method.clone(), current.clone())
                .headers(headers.clone());
            match range {
                Some((first, Some(last))) => {
                    req = req.header(RANGE, format!("bytes={first}-{last}"));
                }
                Some((first, None)) => req = req.header(RANGE, format!("bytes={first}-")),
                None => {}
            }
            if let Some(token) = self.token.as_deref().filter(|_| sends_token_to(&current)) {
                if let Ok(mut v) = HeaderValue::from_str(&format!("Bearer {token}")) {
                    v.set_sensitive(true);
                    req = req.header(AUTHORIZATION, v);
                }
            }
            let resp = match tokio::time::timeout(self.head_deadline, req.send()).await {
                Ok(sent) => sent.map_err(|e| {
                    HttpError::from_reqwest(&current, e, self.has_answered(&current))
                })?,
                Err(_) => {
                    return Err(HttpError::Transient {
                        url: current.to_string(),
                        message: format!(
                            "no complete answer within {:?} (connect and read timeouts)",
                            self.head_deadline
                        ),
                        retry_after: None,
                    })
                }
            };
            self.answered
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(authority(&current));
            let status = resp.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                hops += 1;
                if hops > MAX_REDIRECTS {
                    return Err(HttpError::Fatal {
                        url: url.to_string(),
                        message: format!("more than {MAX_REDIRECTS} redirects"),
                    });
                }
                current = redirect_target(&current, &resp)?;
                if hops == 1 && !from_memory {
                    if let Ok(mut m) = self.first_hops.lock() {
                        m.insert(url.clone(), current.clone());
                    }
                }
                continue;
            }
            if status == StatusCode::FORBIDDEN && from_memory {
                // An expired signed URL: ask the original URL for a fresh one.
                tracing::info!("{current}: 403, re-resolving from {url}");
                self.forget(url);
                from_memory = false;
                current = url.clone();
                hops = 0;
                continue;
            }
            if status.is_success() || (conditional && status == StatusCode::NOT_MODIFIED) {
                if &current != url {
                    self.remember(url, &current);
                }
                return Ok(resp);
            }
            return Err(classify(&current, status, &resp));
        }
    }

    /// The size of the file at `url` from a HEAD request's `Content-Length`; `Ok(None)` on
    /// 404/410.
    pub async fn size(&self, url: &Url) -> Result<Option<u64>, HttpError> {
        let resp = match self.send(Method::HEAD, url, None).await {
            Ok(r) => r,
            Err(HttpError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let len = resp
            .headers()
            .get(reqwest::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        match len {
            Some(n) => Ok(Some(n)),
            None => Err(HttpError::Fatal {
                url: url.to_string(),
                message: "HEAD answer has no Content-Length".into(),
            }),
        }
    }

    /// Where a request for `url` was first redirected to, if it was.
    pub fn first_redirect(&self, url: &Url) -> Option<Url> {
        self.first_hops.lock().ok()?.get(url).cloned()
    }

    fn remembered(&self, url: &Url) -> Option<Url> {
        self.resolved.lock().ok()?.get(url).cloned()
    }

    fn remember(&self, url: &Url, target: &Url) {
        if let Ok(mut m) = self.resolved.lock() {
            m.insert(url.clone(), target.clone());
        }
    }

    fn forget(&self, url: &Url) {
        if let Ok(mut m) = self.resolved.lock() {
            m.remove(url);
        }
    }
}

/// Whether `GITHUB_TOKEN` may be sent to `url`: https to github.com or api.github.com only.
pub fn sends_token_to(url: &Url) -> bool {
    url.scheme() == "https" && matches!(url.host_str(), Some("github.com" | "api.github.com"))
}

fn redirect_target(current: &Url, resp: &Response) -> Result<Url, HttpError> {
    let fatal = |message: String| HttpError::Fatal {
        url: current.to_string(),
        message,
    };
    let location = resp
        .headers()
        .get(LOCATION)
        .ok_or_else(|| fatal(format!("HTTP {} without a Location", resp.status())))?
        .to_str()
        .map_err(|_| fatal("redirect Location is not text".into()))?;
    let next = current
        .join(location)
        .map_err(|e| fatal(format!("bad redirect Location {location:?}: {e}")))?;
    if !matches!(next.scheme(), "http" | "https") {
        return Err(fatal(format!("redirect to unsupported URL {next}")));
    }
    if current.scheme() == "https" && next.scheme() == "http" {
        return Err(fatal(format!("refusing a redirect from https to {next}")));
    }
    Ok(next)
}

/// Sorts a non-2xx, non-redirect answer.
fn classify(url: &Url, status: StatusCode, resp: &Response) -> HttpError {
    let code = status.as_u16();
    match code {
        404 | 410 => HttpError::NotFound {
            url: url.to_string(),
            status: code,
        },
        408 | 429 | 500..=599 => HttpError::Transient {
            url: url.to_string(),
            message: format!("HTTP {status}"),
            retry_after: resp
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now())),
        },
        _ => HttpError::Fatal {
            url: url.to_string(),
            message: format!("HTTP {status}"),
        },
    }
}

/// Parses `Retry-After` (RFC 9110 section 10.2.3) into how long to wait from `now`, capped
/// at 600 s (`MAX_RETRY_AFTER_SECS`): delay-seconds (`120`) or an HTTP-date (`Wed, 21 Oct 2015
/// 07:28:00 GMT`, in any of the three forms RFC 9110 section 5.6.7 accepts; a date already
/// past means no wait). Anything else yields `None` (the normal backoff applies).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => httpdate::parse_http_date(value)
            .ok()?
            .duration_since(now)
            .unwrap_or(Duration::ZERO),
    };
    Some(wait.min(Duration::from_secs(MAX_RETRY_AFTER_SECS)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfixable_network_errors() {
        let table = [
            ("error sending request: client error (Connect): dns error: failed to lookup address information: Name or service not known", Some(Unfixable::UnknownHost)),
            ("error sending request: client error (Connect): dns error: failed to lookup address information: Temporary failure in name resolution", None),
            ("error sending request: client error (Connect): dns error: No such host is known. (os error 11001)", Some(Unfixable::UnknownHost)),
            ("error sending request: client error (Connect): dns error: This is usually a temporary error during hostname resolution. (os error 11002)", None),
            ("error sending request: client error (Connect): invalid peer certificate: UnknownIssuer", Some(Unfixable::Certificate)),
            ("error sending request: client error (Connect): received corrupt message of type InvalidContentType", Some(Unfixable::NotTls)),
            // Refused is judged on the io::Error and on what came before, not on the text.
            ("error sending request: client error (Connect): tcp connect error: Connection refused (os error 111)", None),
        ];
        for (chain, want) in table {
            assert_eq!(Unfixable::of(chain), want, "{chain}");
        }
    }

    #[test]
    fn token_goes_to_github_only() {
        let cases = [
            ("https://github.com/a/b/releases/latest/download/x", true),
            ("https://api.github.com/repos/a/b", true),
            ("http://github.com/x", false),
            ("https://objects.githubusercontent.com/x?sig=1", false),
            ("https://github.com.evil.example/x", false),
            ("http://127.0.0.1:8080/x", false),
        ];
        for (url, want) in cases {
            assert_eq!(sends_token_to(&Url::parse(url).unwrap()), want, "{url}");
        }
    }

    #[test]
    fn retry_after_forms() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        let parse = |v| parse_retry_after(v, now);
        assert_eq!(parse("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse(" 0 "), Some(Duration::ZERO));
        let cap = Some(Duration::from_secs(MAX_RETRY_AFTER_SECS));
        assert_eq!(parse("999999"), cap);
        // HTTP-dates, in the IMF-fixdate, RFC 850 and asctime forms.
        assert_eq!(
            parse("Wed, 21 Oct 2015 07:28:07 GMT"),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse("Wednesday, 21-Oct-15 07:29:00 GMT"),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse("Wed Oct 21 07:28:30 2015"),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse("Wed, 21 Oct 2015 07:00:00 GMT"), Some(Duration::ZERO));
        assert_eq!(parse("Thu, 22 Oct 2015 07:28:00 GMT"), cap);
        for bad in ["", "-1", "soon", "1.5", "Wed, 32 Oct 2015 07:28:00 GMT"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
