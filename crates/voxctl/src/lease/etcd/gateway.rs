//! A small client for etcd's v3 JSON gateway (grpc-gateway, served on every client URL since
//! etcd 3.3 under `/v3/...`; documented at <https://etcd.io/docs/v3.4/dev-guide/api_grpc_gateway/>).
//!
//! Why not gRPC: the `etcd-client` crate needs `protoc` at build time, which `cargo install
//! voxctl` users do not have; the gateway needs nothing beyond the reqwest client voxctl
//! already has. Its JSON is protobuf's JSON mapping: keys and values are base64, `int64`
//! fields are decimal strings, and fields at their default (0, false, empty) are omitted.
//!
//! Every call goes to one endpoint at a time, starting with the one that last answered, and
//! moves on to the next on a transport error or a transient server error (no leader, leader
//! changed, request timed out, HTTP 5xx without a gRPC status). It gives up when every
//! endpoint refused or could not be reached in one round, or when [`OP_DEADLINE`] has passed;
//! then it errors with [`Unreachable`] naming every endpoint tried. Callers make their
//! requests safe to repeat (see `etcd.rs`): a request that timed out may still have been
//! applied.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};

/// How long one connection attempt to an endpoint may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How long one request may take once connected (etcd's own request timeout is 5 s, plus a
/// leader election).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(8);

/// How long one operation keeps retrying transient failures across endpoints (a leader
/// election takes about a second on etcd's defaults).
pub const OP_DEADLINE: Duration = Duration::from_secs(15);

/// Credentials and trust settings for the gateway (see `StoreSpec` for where they come from).
#[derive(Debug, Clone, Default)]
pub struct Tls {
    /// PEM CA certificate(s) to trust instead of the built-in web roots.
    pub ca_pem: Option<Vec<u8>>,
    /// PEM client certificate followed by its private key, for mutual TLS.
    pub identity_pem: Option<Vec<u8>>,
}

/// etcd user name and password (etcd's own authentication, `/v3/auth/authenticate`).
#[derive(Clone)]
pub struct Auth {
    /// The etcd user.
    pub user: String,
    /// Its password.
    pub password: String,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Auth {{ user: {:?}, password: <hidden> }}", self.user)
    }
}

/// Every endpoint failed in one round, or the operation's deadline passed.
#[derive(Debug, thiserror::Error)]
#[error("etcd is unreachable: tried {}", tried.join(", "))]
pub struct Unreachable {
    /// `URL (reason)` for each endpoint tried, latest failure of each.
    pub tried: Vec<String>,
}

/// A gRPC status returned by the gateway that is not transient (e.g. a lease not found).
#[derive(Debug, thiserror::Error)]
#[error("etcd at {endpoint} answered {path} with: {message} (gRPC code {code})")]
pub struct Status {
    /// The endpoint that answered.
    pub endpoint: String,
    /// The gateway path, e.g. `/v3/lease/revoke`.
    pub path: String,
    /// The gRPC status code (5 = not found).
    pub code: i64,
    /// etcd's message, e.g. `etcdserver: requested lease not found`.
    pub message: String,
}

/// gRPC code NOT_FOUND (a lease that expired or was revoked).
pub const NOT_FOUND: i64 = 5;

/// The gateway client: endpoints, HTTP client, and the auth token once obtained.
#[derive(Debug)]
pub struct Gateway {
    client: reqwest::Client,
    endpoints: Vec<reqwest::Url>,
    /// The endpoint that answered last: the next call starts there.
    preferred: AtomicUsize,
    auth: Option<Auth>,
    token: Mutex<Option<String>>,
}

pub(crate) enum Failure {
    /// Try the next endpoint (the reason is recorded).
    Transient(String),
    /// Could not connect at all (counts toward "every endpoint refused").
    Connect(String),
    /// Give up with this error.
    Fatal(anyhow::Error),
    /// The auth token expired: authenticate again and retry.
    AuthExpired,
}

impl Gateway {
    /// A client for `endpoints` (`http://` or `https://` base URLs). Errors if a PEM in `tls`
    /// is invalid.
    pub fn new(endpoints: Vec<reqwest::Url>, tls: &Tls, auth: Option<Auth>) -> Result<Gateway> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .http1_only()
            .no_proxy()
            .tcp_nodelay(true);
        if let Some(ca) = &tls.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(ca)
                .context("cannot read the etcd CA certificate (PEM)")?;
            builder = builder.tls_built_in_root_certs(false);
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        if let Some(id) = &tls.identity_pem {
            let identity = reqwest::Identity::from_pem(id)
                .context("cannot read the etcd client certificate and key (PEM)")?;
            builder = builder.identity(identity);
        }
        Ok(Gateway {
            client: builder
                .build()
                .context("cannot set up the HTTP client for etcd")?,
            endpoints,
            preferred: AtomicUsize::new(0),
            auth,
            token: Mutex::new(None),
        })
    }

    /// The endpoints, as given.
    pub fn endpoints(&self) -> &[reqwest::Url] {
        &self.endpoints
    }

    /// POSTs `body` to `path` (e.g. `/v3/kv/txn`) and decodes the JSON answer, retrying as
    /// the module header says. Errors: [`Unreachable`], [`Status`] for a non-transient gRPC
    /// status, or a decoding error naming the endpoint.
    pub async fn call<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T> {
        let started = Instant::now();
        let n = self.endpoints.len();
        let mut tried: Vec<(usize, String)> = Vec::new();
        let mut pause = Duration::from_millis(25);
        let mut reauthenticated = false;
        loop {
            let mut connect_failures = 0;
            let first = self.preferred.load(Ordering::Relaxed) % n;
            for i in (0..n).map(|k| (first + k) % n) {
                match self.attempt(i, path, body).await {
                    Ok(v) => {
                        self.preferred.store(i, Ordering::Relaxed);
                        return serde_json::from_value(v).with_context(|| {
                            format!(
                                "unexpected answer from etcd at {} to {path}",
                                self.endpoints[i]
                            )
                        });
                    }
                    Err(Failure::Fatal(e)) => return Err(e),
                    Err(Failure::AuthExpired) if !reauthenticated => {
                        reauthenticated = true;
                        *self.token.lock().unwrap_or_else(|e| e.into_inner()) = None;
                    }
                    Err(Failure::AuthExpired) => {
                        record(&mut tried, i, "authentication token refused".into())
                    }
                    Err(Failure::Connect(why)) => {
                        connect_failures += 1;
                        record(&mut tried, i, why);
                    }
                    Err(Failure::Transient(why)) => {
                        tracing::debug!("etcd at {}: {why}; trying the next", self.endpoints[i]);
                        record(&mut tried, i, why);
                    }
                }
            }
            if connect_failures == n || started.elapsed() + pause >= OP_DEADLINE {
                let err = Unreachable {
                    tried: tried
                        .into_iter()
                        .map(|(i, why)| format!("{} ({why})", self.endpoints[i]))
                        .collect(),
                };
                return Err(crate::error::with_remedy(
                    err,
                    crate::error::Remedy::CheckLeaseStore,
                ));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(500));
        }
    }

    /// POSTs `body` to a streaming method (`/v3/watch`) and returns the open response, whose
    /// body is a stream of JSON documents. Tries each endpoint once, starting with the
    /// preferred one; the response is not bounded by [`REQUEST_TIMEOUT`] (it lasts a day).
    pub async fn open_stream(&self, path: &str, body: &Value) -> Result<reqwest::Response> {
        let n = self.endpoints.len();
        let first = self.preferred.load(Ordering::Relaxed) % n;
        let mut tried = Vec::new();
        for i in (0..n).map(|k| (first + k) % n) {
            let base = &self.endpoints[i];
            let url = base
                .join(path.trim_start_matches('/'))
                .with_context(|| format!("cannot build an etcd URL from {base}"))?;
            let mut req = self
                .client
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_string())
                .timeout(Duration::from_secs(24 * 3600));
            if self.auth.is_some() {
                match self.auth_token(i).await {
                    Ok(t) => req = req.header("Authorization", t),
                    Err(Failure::Fatal(e)) => return Err(e),
                    Err(_) => continue,
                }
            }
            match req.send().await {
                Ok(resp) if resp.status().is_success() => return Ok(resp),
                Ok(resp) => tried.push(format!("{base} (HTTP {})", resp.status())),
                Err(e) => tried.push(format!("{base} ({e})")),
            }
        }
        Err(crate::error::with_remedy(
            Unreachable { tried },
            crate::error::Remedy::CheckLeaseStore,
        ))
    }

    async fn attempt(&self, i: usize, path: &str, body: &Value) -> Result<Value, Failure> {
        let base = &self.endpoints[i];
        let url = base.join(path.trim_start_matches('/')).map_err(|e| {
            Failure::Fatal(anyhow::anyhow!("cannot build an etcd URL from {base}: {e}"))
        })?;
        let mut req = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        if self.auth.is_some() {
            req = req.header("Authorization", self.auth_token(i).await?);
        }
        let resp = req.send().await.map_err(transport_failure)?;
        let http = resp.status();
        let bytes = read_answer(resp, base, path).await?;
        answer(base, path, http, &bytes)
    }

    /// The auth token, authenticating first if there is none yet.
    async fn auth_token(&self, i: usize) -> Result<String, Failure> {
        if let Some(t) = self.token.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            return Ok(t);
        }
        let Some(auth) = &self.auth else {
            return Ok(String::new());
        };
        let base = &self.endpoints[i];
        let url = base
            .join("v3/auth/authenticate")
            .map_err(|e| Failure::Fatal(anyhow::anyhow!("bad etcd URL {base}: {e}")))?;
        let resp = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(json!({"name": auth.user, "password": auth.password}).to_string())
            .send()
            .await
            .map_err(transport_failure)?;
        let http = resp.status();
        let bytes = read_answer(resp, base, "/v3/auth/authenticate").await?;
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        match v.get("token").and_then(Value::as_str) {
            Some(t) => {
                *self.token.lock().unwrap_or_else(|e| e.into_inner()) = Some(t.to_string());
                Ok(t.to_string())
            }
            None if http.is_server_error() => Err(Failure::Transient(format!("HTTP {http}"))),
            None => Err(Failure::Fatal(anyhow::anyhow!(
                "etcd at {base} refused user {:?}: {}",
                auth.user,
                v.get("message").and_then(Value::as_str).unwrap_or("")
            ))),
        }
    }
}

/// The largest answer read from etcd, in bytes (8 MiB): voxctl's requests name one or two
/// keys of a few hundred bytes each (a `list` of many leases stays far below), so more is a
/// server that is not etcd, or a hostile one, and is refused before it can fill memory.
pub const ANSWER_CAP: usize = 8 << 20;

/// The body of `resp`, read chunk by chunk up to [`ANSWER_CAP`]; more fails (fatal, naming
/// the endpoint and the method) without reading on.
async fn read_answer(
    mut resp: reqwest::Response,
    base: &reqwest::Url,
    path: &str,
) -> Result<Vec<u8>, Failure> {
    let too_big = || {
        Failure::Fatal(anyhow::anyhow!(
            "etcd at {base} answered {path} with more than {}; refusing it (not an etcd \
             client URL?)",
            crate::size::iec(ANSWER_CAP as u64)
        ))
    };
    if resp.content_length().is_some_and(|n| n > ANSWER_CAP as u64) {
        return Err(too_big());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(transport_failure)? {
        if body.len() + chunk.len() > ANSWER_CAP {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// What an answer of the gateway to `path` means: its JSON (a streaming method's `result`
/// unwrapped), or how the call failed (module header). Pure: the HTTP status and the body's
/// bytes are all it reads.
pub(crate) fn answer(
    base: &reqwest::Url,
    path: &str,
    http: reqwest::StatusCode,
    bytes: &[u8],
) -> Result<Value, Failure> {
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(_) if http.is_server_error() => return Err(Failure::Transient(format!("HTTP {http}"))),
        Err(e) => {
            return Err(Failure::Fatal(anyhow::anyhow!(
                "etcd at {base} answered {path} with HTTP {http} and no JSON ({e}); is it \
                 an etcd >= 3.4 client URL?"
            )))
        }
    };
    // Streaming methods (keepalive, watch) wrap their answer in {"result": ...}.
    let value = match value {
        Value::Object(mut m) if m.contains_key("result") && m.len() == 1 => {
            m.remove("result").unwrap_or(Value::Null)
        }
        Value::Object(mut m) if m.contains_key("error") => {
            let err = m.remove("error").unwrap_or(Value::Null);
            let (code, message) = match err {
                // Streaming methods: {"error": {"grpc_code": N, "message": M, ...}}.
                Value::Object(e) => (
                    e.get("grpc_code").and_then(Value::as_i64).unwrap_or(2),
                    e.get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                ),
                // Unary methods: {"error": M, "code": N, "message": M}.
                Value::String(s) => (m.get("code").and_then(Value::as_i64).unwrap_or(2), s),
                other => (2, other.to_string()),
            };
            return Err(classify(base, path, code, message));
        }
        v if !http.is_success() => {
            return Err(Failure::Fatal(anyhow::anyhow!(
                "etcd at {base} answered {path} with HTTP {http}: {v}"
            )))
        }
        v => v,
    };
    Ok(value)
}

fn record(tried: &mut Vec<(usize, String)>, i: usize, why: String) {
    match tried.iter_mut().find(|(j, _)| *j == i) {
        Some(slot) => slot.1 = why,
        None => tried.push((i, why)),
    }
}

fn transport_failure(e: reqwest::Error) -> Failure {
    let mut why = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        why = s.to_string();
        source = s.source();
    }
    if e.is_connect() {
        Failure::Connect(why)
    } else if e.is_timeout() {
        Failure::Transient(format!("timed out: {why}"))
    } else {
        Failure::Transient(why)
    }
}

/// Transient gRPC statuses: CANCELLED, UNKNOWN (etcd's "leader changed" in some paths),
/// DEADLINE_EXCEEDED, ABORTED, INTERNAL (gateway proxy errors) and UNAVAILABLE; plus
/// UNAUTHENTICATED for an expired auth token.
fn classify(base: &reqwest::Url, path: &str, code: i64, message: String) -> Failure {
    match code {
        1 | 2 | 4 | 10 | 13 | 14 => Failure::Transient(message),
        16 if message.contains("invalid auth token") => Failure::AuthExpired,
        _ => Failure::Fatal(
            Status {
                endpoint: base.to_string(),
                path: path.to_string(),
                code,
                message,
            }
            .into(),
        ),
    }
}

/// Encodes bytes as the gateway wants them (standard base64).
pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn de_b64<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let s = String::deserialize(d)?;
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(serde::de::Error::custom)
}

/// Reads an `int64`: the gateway sends a decimal string (a number is accepted too).
pub fn de_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        S(String),
        I(i64),
    }
    match N::deserialize(d)? {
        N::S(s) => s.parse().map_err(serde::de::Error::custom),
        N::I(i) => Ok(i),
    }
}

/// A key-value pair (`mvccpb.KeyValue`).
#[derive(Debug, Clone, Deserialize)]
pub struct KeyValue {
    /// The key.
    #[serde(deserialize_with = "de_b64")]
    pub key: Vec<u8>,
    /// The revision that created the key (unchanged by later puts).
    #[serde(default, deserialize_with = "de_i64")]
    pub create_revision: i64,
    /// The revision of the latest change.
    #[serde(default, deserialize_with = "de_i64")]
    pub mod_revision: i64,
    /// The value.
    #[serde(default, deserialize_with = "de_b64")]
    pub value: Vec<u8>,
    /// The etcd lease attached (0: none).
    #[serde(default, deserialize_with = "de_i64")]
    pub lease: i64,
}

/// `RangeResponse`.
#[derive(Debug, Default, Deserialize)]
pub struct RangeResponse {
    /// The keys found.
    #[serde(default)]
    pub kvs: Vec<KeyValue>,
}

/// One response of a transaction (only ranges are read back).
#[derive(Debug, Default, Deserialize)]
pub struct ResponseOp {
    /// Set for a `request_range`.
    #[serde(default)]
    pub response_range: Option<RangeResponse>,
}

/// `ResponseHeader` (only the revision is used).
#[derive(Debug, Default, Deserialize)]
pub struct Header {
    /// The store's revision when the request was applied.
    #[serde(default, deserialize_with = "de_i64")]
    pub revision: i64,
}

/// `TxnResponse`.
#[derive(Debug, Deserialize)]
pub struct TxnResponse {
    /// The header: for a successful transaction, its revision is the one its puts created.
    #[serde(default)]
    pub header: Header,
    /// Whether the compares held (omitted when false).
    #[serde(default)]
    pub succeeded: bool,
    /// One response per operation of the branch taken.
    #[serde(default)]
    pub responses: Vec<ResponseOp>,
}

impl TxnResponse {
    /// The first key of the `i`-th response, if it was a range that found one.
    pub fn kv(&self, i: usize) -> Option<&KeyValue> {
        self.responses
            .get(i)
            .and_then(|r| r.response_range.as_ref())
            .and_then(|r| r.kvs.first())
    }

    /// Every key of the `i`-th response.
    pub fn kvs(&self, i: usize) -> &[KeyValue] {
        self.responses
            .get(i)
            .and_then(|r| r.response_range.as_ref())
            .map_or(&[], |r| &r.kvs)
    }
}

/// `LeaseGrantResponse`, `LeaseKeepAliveResponse` and `LeaseTimeToLiveResponse`: a lease id
/// and its TTL in seconds (omitted when 0; -1 from timetolive for a lease not found). Other
/// fields (timetolive's `grantedTTL`) are not read.
#[derive(Debug, Deserialize)]
pub struct LeaseResponse {
    /// The lease id.
    #[serde(rename = "ID", default, deserialize_with = "de_i64")]
    pub id: i64,
    /// Its TTL (grant, keepalive) or time left (timetolive), in seconds.
    #[serde(rename = "TTL", default, deserialize_with = "de_i64")]
    pub ttl: i64,
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    #[test]
    fn decodes_the_gateways_json_mapping() {
        // Captured from etcd 3.4.23.
        let txn: TxnResponse = serde_json::from_str(
            r#"{"header":{"revision":"2"},"responses":[{"response_range":{"header":{},
            "kvs":[{"key":"YS9oZWxkL0w=","create_revision":"2","mod_revision":"3",
            "version":"1","value":"eA==","lease":"4111120362061040396"}],"count":"1"}}]}"#,
        )
        .unwrap();
        assert!(!txn.succeeded);
        let kv = txn.kv(0).unwrap();
        assert_eq!(
            (kv.key.as_slice(), kv.create_revision, kv.mod_revision),
            (&b"a/held/L"[..], 2, 3)
        );
        assert_eq!(
            (kv.value.as_slice(), kv.lease),
            (&b"x"[..], 4111120362061040396)
        );
        let lease: LeaseResponse =
            serde_json::from_str(r#"{"header":{},"ID":"123","TTL":"-1"}"#).unwrap();
        assert_eq!((lease.id, lease.ttl), (123, -1));
        let empty: LeaseResponse = serde_json::from_str(r#"{"header":{},"ID":"7"}"#).unwrap();
        assert_eq!(empty.ttl, 0);
        assert_eq!(b64(b"a/held/L"), "YS9oZWxkL0w=");
    }

    /// Every shape of answer the gateway gives, read as the client must: a unary method's
    /// JSON as it is, a streaming method's lone `result` unwrapped (and only a lone one), both
    /// error forms classified by their gRPC code (2, UNKNOWN, when none is given), a body
    /// that is not JSON retried only after a 5xx, and JSON without an error refused on a
    /// non-2xx status.
    #[test]
    fn answers_are_results_errors_or_refusals_by_status_and_shape() {
        use reqwest::StatusCode;
        let base = reqwest::Url::parse("http://127.0.0.1:2379").unwrap();
        let read = |http: u16, body: &str| {
            let http = StatusCode::from_u16(http).unwrap();
            match answer(&base, "/v3/kv/txn", http, body.as_bytes()) {
                Ok(v) => format!("ok {v}"),
                Err(Failure::Transient(m)) => format!("transient {m}"),
                Err(Failure::AuthExpired) => "auth".to_string(),
                Err(Failure::Fatal(e)) => format!("fatal {e:#}"),
                Err(Failure::Connect(m)) => format!("connect {m}"),
            }
        };
        assert_eq!(read(200, r#"{"ID":"1"}"#), r#"ok {"ID":"1"}"#);
        assert_eq!(read(200, r#"{"result":{"x":1}}"#), r#"ok {"x":1}"#);
        assert_eq!(
            read(200, r#"{"result":{"x":1},"y":2}"#),
            r#"ok {"result":{"x":1},"y":2}"#
        );
        assert_eq!(read(200, r#"{"result":null}"#), "ok null");
        assert_eq!(
            read(200, r#"{"error":{"grpc_code":14,"message":"unavailable"}}"#),
            "transient unavailable"
        );
        assert_eq!(read(200, r#"{"error":{"message":"m"}}"#), "transient m");
        assert_eq!(
            read(
                401,
                r#"{"error":"etcdserver: invalid auth token","code":16,"message":"x"}"#
            ),
            "auth"
        );
        assert_eq!(read(400, r#"{"error":"e"}"#), "transient e");
        let odd = read(200, r#"{"error":5,"code":3}"#);
        assert_eq!(
            odd, "transient 5",
            "an error neither object nor text is UNKNOWN"
        );
        let fatal = read(400, r#"{"error":"no such lease","code":5}"#);
        assert!(
            fatal.starts_with("fatal ") && fatal.contains("no such lease"),
            "{fatal}"
        );
        assert_eq!(
            read(503, "upstream down"),
            "transient HTTP 503 Service Unavailable"
        );
        let not_json = read(404, "Not Found");
        assert!(
            not_json.starts_with("fatal ") && not_json.contains("HTTP 404 Not Found and no JSON"),
            "{not_json}"
        );
        let plain = read(404, r#"{"x":1}"#);
        assert!(
            plain.starts_with("fatal ") && plain.contains(r#"HTTP 404 Not Found: {"x":1}"#),
            "{plain}"
        );
        assert_eq!(read(204, r#"{"x":1}"#), r#"ok {"x":1}"#);
    }

    /// An answer is read whole up to [`ANSWER_CAP`] bytes, exactly that many included, and
    /// refused past it.
    #[test]
    fn answers_are_read_whole_up_to_the_cap() {
        let base = reqwest::Url::parse("http://127.0.0.1:2379").unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let read = |body: Vec<u8>| {
            let resp = reqwest::Response::from(http::Response::new(body));
            rt.block_on(read_answer(resp, &base, "/v3/kv/range"))
        };
        assert_eq!(read(b"{}".to_vec()).ok(), Some(b"{}".to_vec()));
        let full = read(vec![b' '; ANSWER_CAP]).ok().map(|b| b.len());
        assert_eq!(full, Some(ANSWER_CAP));
        match read(vec![b' '; ANSWER_CAP + 1]) {
            Err(Failure::Fatal(e)) => {
                assert!(format!("{e:#}").contains("more than 8 MiB"), "{e:#}")
            }
            other => panic!("{:?}", other.map(|b| b.len()).map_err(|_| "not fatal")),
        }
        // Streamed without a declared length (chunked): counted as it comes.
        let streamed = |sizes: &[usize]| {
            let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = sizes
                .iter()
                .map(|&n| Ok(bytes::Bytes::from(vec![b' '; n])))
                .collect();
            let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
            let resp = reqwest::Response::from(http::Response::new(body));
            assert_eq!(resp.content_length(), None);
            rt.block_on(read_answer(resp, &base, "/v3/kv/range"))
                .map(|b| b.len())
                .map_err(|e| matches!(e, Failure::Fatal(_)))
        };
        let half = ANSWER_CAP / 2;
        assert_eq!(streamed(&[half, half]), Ok(ANSWER_CAP));
        assert_eq!(streamed(&[half, half, 1]), Err(true));
        assert_eq!(streamed(&[3, ANSWER_CAP]), Err(true));
    }

    /// An endpoint's reason is its latest one: one line per endpoint, in first-tried order.
    #[test]
    fn each_endpoint_keeps_its_latest_reason() {
        let mut tried = Vec::new();
        record(&mut tried, 1, "refused".into());
        record(&mut tried, 0, "timed out".into());
        record(&mut tried, 1, "HTTP 503".into());
        assert_eq!(
            tried,
            [(1, "HTTP 503".to_string()), (0, "timed out".to_string())]
        );
    }

    #[test]
    fn auth_debug_hides_the_password_and_endpoints_are_as_given() {
        let auth = Auth {
            user: "root".into(),
            password: "s3cret".into(),
        };
        let shown = format!("{auth:?}");
        assert_eq!(shown, r#"Auth { user: "root", password: <hidden> }"#);
        let urls = vec![
            reqwest::Url::parse("http://127.0.0.1:2379").unwrap(),
            reqwest::Url::parse("http://127.0.0.1:22379").unwrap(),
        ];
        let gw = Gateway::new(urls.clone(), &Tls::default(), Some(auth)).unwrap();
        assert_eq!(gw.endpoints(), urls.as_slice());
    }

    /// A scripted stand-in for an etcd gateway on loopback: every request is answered by
    /// `reply(path, authorization header, how many requests came before)` on its own
    /// connection (`Connection: close`), and logged as `(path, authorization)`.
    pub(crate) type Log = std::sync::Arc<Mutex<Vec<(String, String)>>>;
    pub(crate) fn fake_gateway(
        reply: impl Fn(&str, &str, usize) -> (u16, String) + Send + 'static,
    ) -> (reqwest::Url, Log) {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url =
            reqwest::Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        let log: Log = Default::default();
        let seen = log.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { return };
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let path = line.split(' ').nth(1).unwrap_or("").to_string();
                let (mut length, mut authorization) = (0, String::new());
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                        break;
                    }
                    let (name, value) = header.split_once(':').unwrap_or((&header, ""));
                    match name.to_ascii_lowercase().as_str() {
                        "content-length" => length = value.trim().parse().unwrap_or(0),
                        "authorization" => authorization = value.trim().to_string(),
                        _ => {}
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let before = {
                    let mut log = seen.lock().unwrap();
                    log.push((path.clone(), authorization.clone()));
                    log.len() - 1
                };
                let (status, answer) = reply(&path, &authorization, before);
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
            }
        });
        (url, log)
    }

    /// Asserts what a fake gateway was asked: `(path, authorization)` of each request, in
    /// order.
    fn assert_asked(log: &Log, want: &[(&str, &str)]) {
        let log = log.lock().unwrap().clone();
        let asked: Vec<(&str, &str)> = log.iter().map(|(p, a)| (&p[..], &a[..])).collect();
        assert_eq!(asked, want);
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    /// Transient answers from every endpoint are retried, after a pause, until one succeeds
    /// (within [`OP_DEADLINE`]); the endpoint that answered is asked first by the next call.
    #[test]
    fn transient_failures_are_retried_and_the_endpoint_that_answered_is_kept() {
        // A answers 503 (no gRPC status) to its first request, then succeeds; B always does.
        let (a, a_log) = fake_gateway(|_, _, before| match before {
            0 => (503, String::new()),
            _ => (200, r#"{"count":"1"}"#.into()),
        });
        let (b, b_log) = fake_gateway(|_, _, _| (200, r#"{"count":"2"}"#.into()));
        let gw = Gateway::new(vec![a.clone()], &Tls::default(), None).unwrap();
        let v: Value = block_on(gw.call("/v3/kv/range", &json!({}))).unwrap();
        assert_eq!(v, json!({"count": "1"}));
        assert_eq!(a_log.lock().unwrap().len(), 2, "one 503, then the retry");

        let gw = Gateway::new(vec![b, a], &Tls::default(), None).unwrap();
        gw.preferred.store(1, Ordering::Relaxed);
        // A (preferred) answers; then B is never asked while A keeps answering.
        let v: Value = block_on(gw.call("/v3/kv/range", &json!({}))).unwrap();
        assert_eq!(v, json!({"count": "1"}));
        assert!(b_log.lock().unwrap().is_empty());

        // A fresh gateway with A refusing once: it moves on to B, and the next call starts
        // at B.
        let (a2, a2_log) = fake_gateway(|_, _, before| match before {
            0 => (503, String::new()),
            _ => (200, r#"{"count":"3"}"#.into()),
        });
        let (b, b_log) = fake_gateway(|_, _, _| (200, r#"{"count":"2"}"#.into()));
        let gw = Gateway::new(vec![a2, b], &Tls::default(), None).unwrap();
        for _ in 0..2 {
            let v: Value = block_on(gw.call("/v3/kv/range", &json!({}))).unwrap();
            assert_eq!(v, json!({"count": "2"}));
        }
        assert_eq!(a2_log.lock().unwrap().len(), 1, "A is not asked again");
        assert_eq!(b_log.lock().unwrap().len(), 2);
    }

    /// A stream (`/v3/watch`) is opened on the preferred endpoint first, then on the others
    /// in turn: an endpoint answering with an error status is passed over, the first
    /// successful answer is the stream (its body read whole: no short timeout cuts it), and
    /// when every endpoint refuses, the error names each with its status.
    #[test]
    fn a_stream_is_opened_on_the_preferred_endpoint_first_then_the_others_in_turn() {
        const CREATED: &str = r#"{"result":{"created":true}}"#;
        let stream = |gw: &Gateway| {
            block_on(async {
                let resp = gw.open_stream("/v3/watch", &json!({})).await?;
                anyhow::Ok(resp.text().await?)
            })
        };
        let asked = |log: &Log| log.lock().unwrap().len();
        let (a, a_log) = fake_gateway(|_, _, _| (503, String::new()));
        let (b, b_log) = fake_gateway(|_, _, _| (200, CREATED.into()));
        let gw = Gateway::new(vec![a.clone(), b], &Tls::default(), None).unwrap();
        assert_eq!(stream(&gw).unwrap(), CREATED);
        assert_eq!((asked(&a_log), asked(&b_log)), (1, 1));
        // B preferred (it answered the last call): A is not asked.
        gw.preferred.store(1, Ordering::Relaxed);
        assert_eq!(stream(&gw).unwrap(), CREATED);
        assert_eq!((asked(&a_log), asked(&b_log)), (1, 2));

        let (c, c_log) = fake_gateway(|_, _, _| (500, String::new()));
        let gw = Gateway::new(vec![a.clone(), c.clone()], &Tls::default(), None).unwrap();
        gw.preferred.store(1, Ordering::Relaxed);
        let err = format!("{:#}", stream(&gw).unwrap_err());
        assert!(
            err.contains(&format!("{c} (HTTP 500 Internal Server Error)"))
                && err.contains(&format!("{a} (HTTP 503 Service Unavailable)"))
                && err.find(c.as_str()) < err.find(a.as_str()),
            "{err}"
        );
        assert_eq!((asked(&a_log), asked(&c_log)), (2, 1));
    }

    /// Authentication refused (an answer without a token that is not a server error) ends
    /// the call at once, naming the user; a server error while authenticating is transient:
    /// the call authenticates again after a pause and goes on with the token it gets.
    #[test]
    fn a_refused_authentication_ends_the_call_and_a_server_error_is_retried() {
        let auth = || Auth {
            user: "root".into(),
            password: "pw".into(),
        };
        let (url, log) = fake_gateway(|path, _, _| match path {
            "/v3/auth/authenticate" => (
                400,
                r#"{"error":"etcdserver: authentication failed","code":3,
                    "message":"etcdserver: authentication failed"}"#
                    .into(),
            ),
            _ => (200, r#"{"count":"1"}"#.into()),
        });
        let gw = Gateway::new(vec![url], &Tls::default(), Some(auth())).unwrap();
        let err = format!(
            "{:#}",
            block_on(gw.call::<Value>("/v3/kv/range", &json!({}))).unwrap_err()
        );
        assert!(
            err.contains(r#"refused user "root": etcdserver: authentication failed"#),
            "{err}"
        );
        assert_eq!(log.lock().unwrap().len(), 1, "not retried");

        let (url, log) = fake_gateway(|path, _, before| match (path, before) {
            ("/v3/auth/authenticate", 0) => (503, String::new()),
            ("/v3/auth/authenticate", _) => (200, r#"{"token":"t1"}"#.into()),
            _ => (200, r#"{"count":"1"}"#.into()),
        });
        let gw = Gateway::new(vec![url], &Tls::default(), Some(auth())).unwrap();
        let v: Value = block_on(gw.call("/v3/kv/range", &json!({}))).unwrap();
        assert_eq!(v, json!({"count": "1"}));
        assert_asked(
            &log,
            &[
                ("/v3/auth/authenticate", ""),
                ("/v3/auth/authenticate", ""),
                ("/v3/kv/range", "t1"),
            ],
        );
    }

    /// An expired auth token (gRPC UNAUTHENTICATED, "invalid auth token") is replaced once
    /// per call: the call authenticates again and retries with the new token.
    #[test]
    fn an_expired_auth_token_is_renewed_once_and_the_call_retried() {
        let tokens = std::sync::Arc::new(AtomicUsize::new(0));
        let issued = tokens.clone();
        let (url, log) = fake_gateway(move |path, authorization, _| {
            if path == "/v3/auth/authenticate" {
                let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
                return (200, format!(r#"{{"token":"t{n}"}}"#));
            }
            match authorization {
                "t2" => (200, r#"{"count":"1"}"#.into()),
                _ => (
                    401,
                    r#"{"error":"etcdserver: invalid auth token","code":16,
                        "message":"etcdserver: invalid auth token"}"#
                        .into(),
                ),
            }
        });
        let auth = Auth {
            user: "root".into(),
            password: "pw".into(),
        };
        let gw = Gateway::new(vec![url], &Tls::default(), Some(auth)).unwrap();
        let v: Value = block_on(gw.call("/v3/kv/range", &json!({}))).unwrap();
        assert_eq!(v, json!({"count": "1"}));
        assert_asked(
            &log,
            &[
                ("/v3/auth/authenticate", ""),
                ("/v3/kv/range", "t1"),
                ("/v3/auth/authenticate", ""),
                ("/v3/kv/range", "t2"),
            ],
        );
    }

    /// gRPC codes as the gateway reports them: which are worth another endpoint, which mean
    /// the auth token expired, and which end the call (with the status named).
    #[test]
    fn grpc_codes_classify_as_transient_auth_expired_or_fatal() {
        let base = reqwest::Url::parse("http://127.0.0.1:2379").unwrap();
        let kind = |code, message: &str| match classify(&base, "/v3/kv/txn", code, message.into()) {
            Failure::Transient(m) => {
                assert_eq!(m, message);
                "transient".to_string()
            }
            Failure::AuthExpired => "auth".to_string(),
            Failure::Fatal(e) => format!("fatal: {e:#}"),
            Failure::Connect(_) => "connect".to_string(),
        };
        for code in [1, 2, 4, 10, 13, 14] {
            assert_eq!(kind(code, "leader changed"), "transient", "code {code}");
        }
        assert_eq!(kind(16, "etcdserver: invalid auth token"), "auth");
        for (code, message) in [(16, "etcdserver: user name is empty"), (3, "bad"), (9, "x")] {
            let got = kind(code, message);
            assert!(got.starts_with("fatal: "), "code {code}: {got}");
            assert!(got.contains(message), "code {code}: {got}");
        }
    }
}
