//! Waking `--wait`ers when a lease's `held` key is deleted (released, or expired with its
//! etcd lease), through the gateway's `/v3/watch` stream instead of polling.
//!
//! The gateway answers a watch with a never-ending body of JSON documents, one per line:
//! `{"result": {"created": true, ...}}` first, then `{"result": {"events": [...]}}`. The
//! watch is created with the `NOPUT` filter, so any event is a deletion. If the stream
//! breaks, the next wait reopens it from the revision after the last one seen, so a deletion
//! in between is not missed.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::{json, Value};

use super::gateway::{b64, Gateway};
use crate::lease::ChangeWait;

/// How often a waiter re-checks the lease although the watch said nothing: a safety net for
/// a watch that died silently (etcd's deletions do reach live watches).
pub const RECHECK: Duration = Duration::from_secs(1);

/// The largest watch message kept while waiting for its line end, in bytes (1 MiB): a
/// deletion event of one key is a few hundred bytes, so a longer line is not etcd's and the
/// watch is dropped (the waiter falls back to its rechecks) instead of buffering it.
pub const WATCH_MESSAGE_CAP: usize = 1 << 20;

/// An open watch on one key, for deletions.
#[derive(Debug)]
pub struct DeleteWatch {
    gw: Arc<Gateway>,
    key: String,
    resp: Option<reqwest::Response>,
    buf: Vec<u8>,
    /// The revision after the last one the stream reported (where a reopened watch starts).
    next_rev: i64,
}

impl DeleteWatch {
    /// Opens the watch and waits for etcd to confirm it (so a deletion after this returns is
    /// seen). `start` is the revision to watch from (`None`: from now).
    pub async fn open(gw: Arc<Gateway>, key: String, start: Option<i64>) -> Result<DeleteWatch> {
        let mut req = json!({"key": b64(key.as_bytes()), "filters": ["NOPUT"]});
        if let Some(rev) = start {
            req["start_revision"] = json!(rev.to_string());
        }
        let resp = gw
            .open_stream("/v3/watch", &json!({"create_request": req}))
            .await?;
        let mut w = DeleteWatch {
            gw,
            key,
            resp: Some(resp),
            buf: Vec::new(),
            next_rev: start.unwrap_or(0),
        };
        loop {
            match w.next_message().await? {
                Some(m) if m.get("created").and_then(Value::as_bool) == Some(true) => return Ok(w),
                Some(_) => {}
                None => anyhow::bail!("etcd closed the watch on {} at once", w.key),
            }
        }
    }

    /// The next document of the stream (`result` unwrapped), or `None` when it ended.
    async fn next_message(&mut self) -> Result<Option<Value>> {
        loop {
            if let Some(nl) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=nl).collect();
                match watch_message(&line, &self.key, &mut self.next_rev)? {
                    Some(result) => return Ok(Some(result)),
                    None => continue,
                }
            }
            let Some(resp) = self.resp.as_mut() else {
                return Ok(None);
            };
            match resp.chunk().await {
                Ok(Some(_)) if self.buf.len() > WATCH_MESSAGE_CAP => {
                    self.resp = None;
                    self.buf = Vec::new();
                    anyhow::bail!(
                        "etcd's watch on {} sent a message over {} (no line end); closing it",
                        self.key,
                        crate::size::iec(WATCH_MESSAGE_CAP as u64)
                    );
                }
                Ok(Some(chunk)) => self.buf.extend_from_slice(&chunk),
                Ok(None) | Err(_) => {
                    self.resp = None;
                    return Ok(None);
                }
            }
        }
    }

    /// Waits for a deletion (or a cancelled watch: also worth a look) until `deadline`.
    async fn wait_until(&mut self, deadline: tokio::time::Instant) {
        let work = async {
            loop {
                if self.resp.is_none() {
                    let start = (self.next_rev > 0).then_some(self.next_rev);
                    match DeleteWatch::open(self.gw.clone(), self.key.clone(), start).await {
                        Ok(w) => *self = w,
                        Err(e) => {
                            tracing::debug!("cannot reopen the watch on {}: {e:#}", self.key);
                            tokio::time::sleep_until(deadline).await;
                            return;
                        }
                    }
                }
                match self.next_message().await {
                    Ok(Some(m)) => {
                        let events = m.get("events").and_then(Value::as_array);
                        if events.is_some_and(|e| !e.is_empty())
                            || m.get("canceled").and_then(Value::as_bool) == Some(true)
                        {
                            return;
                        }
                    }
                    Ok(None) => {} // reopen
                    Err(e) => {
                        tracing::debug!("{e:#}");
                        self.resp = None;
                    }
                }
            }
        };
        let _ = tokio::time::timeout_at(deadline, work).await;
    }
}

/// One line of a watch stream: its document (`result` unwrapped), `None` for a blank line.
/// Raises `next_rev` past the revision in its header (saturating: the stream is untrusted, and
/// a revision of `i64::MAX` must not overflow). Errors when the line is not JSON.
pub(crate) fn watch_message(line: &[u8], key: &str, next_rev: &mut i64) -> Result<Option<Value>> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let v: Value = serde_json::from_slice(line)
        .with_context(|| format!("bad watch message from etcd on {key}"))?;
    let result = v.get("result").cloned().unwrap_or(v);
    if let Some(rev) = result
        .pointer("/header/revision")
        .and_then(Value::as_str)
        .and_then(|r| r.parse::<i64>().ok())
    {
        *next_rev = (*next_rev).max(rev.saturating_add(1));
    }
    Ok(Some(result))
}

/// A [`DeleteWatch`] behind the synchronous [`ChangeWait`], run on the store's runtime.
pub struct Blocking {
    rt: Arc<tokio::runtime::Runtime>,
    watch: DeleteWatch,
}

impl Blocking {
    /// Wraps `watch`, to be driven by `rt` (the runtime it was opened on).
    pub fn new(rt: Arc<tokio::runtime::Runtime>, watch: DeleteWatch) -> Blocking {
        Blocking { rt, watch }
    }
}

impl ChangeWait for Blocking {
    fn wait(&mut self, timeout: Duration) {
        let rt = self.rt.clone();
        let deadline = tokio::time::Instant::from_std(crate::duration::deadline(timeout));
        rt.block_on(self.watch.wait_until(deadline));
    }

    fn recheck(&self) -> Duration {
        RECHECK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watch_lines_raise_the_revision_without_overflow() {
        let mut next = 5;
        let line = br#"{"result":{"header":{"revision":"41"},"created":true}}"#;
        let m = watch_message(line, "k", &mut next).unwrap().unwrap();
        assert_eq!(m["created"], true);
        assert_eq!(next, 42);
        let older = br#"{"result":{"header":{"revision":"7"},"events":[]}}"#;
        watch_message(older, "k", &mut next).unwrap();
        assert_eq!(next, 42, "the revision never goes back");
        let top = br#"{"result":{"header":{"revision":"9223372036854775807"},"events":[]}}"#;
        watch_message(top, "k", &mut next).unwrap();
        assert_eq!(next, i64::MAX);
        assert!(watch_message(b" \r\n", "k", &mut next).unwrap().is_none());
        assert!(watch_message(b"{", "k", &mut next).is_err());
    }
}
