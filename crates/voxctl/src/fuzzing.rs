//! Thin entry points to voxctl's private parsers, for the fuzz targets of `fuzz/` (built
//! only with the `fuzzing` feature; not part of the API). Each wrapper calls the parser the
//! program uses, unchanged.

use crate::lease::etcd::gateway::{self, Failure};

/// The gateway's response documents, as the lease store decodes them.
pub use crate::lease::etcd::gateway::{LeaseResponse, RangeResponse, TxnResponse};

/// The key line (base64 `RW...`) that [`crate::signature::Keyring::add_text`] would decode
/// from `text`, if `text` is a key line or a whole `.pub` file (not the Tauri base64 form).
pub fn pubkey_line(text: &str) -> Option<String> {
    crate::signature::key_line(text).map(|(line, _)| line)
}

/// The updater key text of a Tauri config (`plugins.updater.pubkey`, else
/// `tauri.updater.pubkey`); the error's message otherwise.
pub fn tauri_conf_pubkey(text: &str) -> Result<String, String> {
    crate::signature::tauri_conf_pubkey(text, "tauri.conf.json").map_err(|e| e.to_string())
}

/// A record's wall-clock time in milliseconds as `status` shows it (RFC 3339, UTC).
pub fn rfc3339_ms(ms: u64) -> String {
    crate::lease::clock::rfc3339_ms(ms)
}

/// The first holder document of a slot lock file's bytes.
pub fn slot_holder(bytes: &[u8]) -> Option<crate::slot::Holder> {
    crate::slot::first_holder(bytes)
}

/// The ISA name of a kfd topology node from its `properties` text (`None`: not a GPU).
pub fn kfd_gfx(properties: &str) -> Option<String> {
    crate::gpu::kfd_gfx(properties)
}

/// The first byte of a `Content-Range` header value.
pub fn content_range_start(value: &str) -> Option<u64> {
    crate::fetch::source::parse_content_range_start(value)
}

/// How the etcd gateway client reads one answer.
#[derive(Debug)]
pub enum Answer {
    /// The JSON answer (`result` unwrapped).
    Json(serde_json::Value),
    /// Try the next endpoint, for this reason.
    Transient(String),
    /// Could not connect (never the outcome of reading an answer).
    Connect(String),
    /// The call fails with this message.
    Fatal(String),
    /// The auth token expired.
    AuthExpired,
}

/// The gateway client's reading of an answer with HTTP status `http` (100 to 999) and body
/// `bytes`; `None` for a status outside that range.
pub fn etcd_answer(http: u16, bytes: &[u8]) -> Option<Answer> {
    let http = reqwest::StatusCode::from_u16(http).ok()?;
    let base = reqwest::Url::parse("http://127.0.0.1:2379/").expect("a valid URL");
    Some(match gateway::answer(&base, "/v3/kv/txn", http, bytes) {
        Ok(v) => Answer::Json(v),
        Err(Failure::Transient(why)) => Answer::Transient(why),
        Err(Failure::Connect(why)) => Answer::Connect(why),
        Err(Failure::Fatal(e)) => Answer::Fatal(format!("{e:#}")),
        Err(Failure::AuthExpired) => Answer::AuthExpired,
    })
}

/// One line of an etcd watch stream: its document, `None` for a blank line; `next_rev` is
/// raised as the watch does.
pub fn etcd_watch_message(
    line: &[u8],
    next_rev: &mut i64,
) -> Result<Option<serde_json::Value>, String> {
    crate::lease::etcd::watch::watch_message(line, "voxctl/held/x", next_rev)
        .map_err(|e| format!("{e:#}"))
}
