//! The validators (`ETag`, `Last-Modified`) and bodies of a release's small files
//! (manifests, checksum files, signatures), kept between runs in the state dir
//! (`STATE/http-cache/`), so that a poll of an unchanged release is one conditional request
//! per file, answered `304 Not Modified`: fifty machines asking "is there an update?" cost
//! the origin fifty 304s.
//!
//! The cache decides nothing about trust: a cached body is exactly what the same URL
//! answered before, and it goes through the same parsing and checks as a fresh one. Each
//! entry is two files named by the SHA-256 of the URL: `KEY.json` (the URL, the validators,
//! the body's size and SHA-256) and `KEY.body`; a body that does not match its entry (torn,
//! edited) is ignored and the file is downloaded whole. Failing to write the cache never
//! fails a fetch.

use std::path::PathBuf;

use reqwest::header::LAST_MODIFIED;
use reqwest::header::{HeaderMap, HeaderValue, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH};
use reqwest::Url;
use serde::{Deserialize, Serialize};

use crate::checksum::Sha256;
use crate::Error;

/// Most bytes read of an entry's `KEY.json`.
const ENTRY_CAP: u64 = 16 << 10;

/// A cache directory.
#[derive(Debug, Clone)]
pub struct HttpCache {
    dir: PathBuf,
}

/// What is kept of one answer.
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    url: String,
    etag: Option<String>,
    last_modified: Option<String>,
    size: u64,
    sha256: Sha256,
}

/// A cached answer that may still be current.
#[derive(Debug)]
pub struct Cached {
    /// The conditional headers to send (`If-None-Match`, `If-Modified-Since`).
    pub headers: HeaderMap,
    /// The body, used when the server answers `304 Not Modified`.
    pub body: Vec<u8>,
}

impl HttpCache {
    /// The cache in `dir` (created when first written).
    pub fn new(dir: PathBuf) -> HttpCache {
        HttpCache { dir }
    }

    fn paths(&self, url: &Url) -> (PathBuf, PathBuf) {
        let key = Sha256::of(url.as_str().as_bytes()).to_hex();
        (
            self.dir.join(format!("{key}.json")),
            self.dir.join(format!("{key}.body")),
        )
    }

    /// The cached answer of `url` with its validators, if there is one whose body is intact
    /// and at most `cap` bytes; `None` otherwise (nothing is an error here).
    pub fn lookup(&self, url: &Url, cap: u64) -> Option<Cached> {
        let (entry_path, body_path) = self.paths(url);
        let read = |p: &std::path::Path, cap| {
            crate::checked_open::read_foreign(p, cap, Error::Integrity, None)
                .ok()
                .flatten()
        };
        let entry: Entry = serde_json::from_slice(&read(&entry_path, ENTRY_CAP)?).ok()?;
        if entry.url != url.as_str() || entry.size > cap {
            return None;
        }
        let body = read(&body_path, cap)?;
        if body.len() as u64 != entry.size || Sha256::of(&body) != entry.sha256 {
            return None;
        }
        let mut headers = HeaderMap::new();
        if let Some(v) = entry.etag.and_then(|v| HeaderValue::from_str(&v).ok()) {
            headers.insert(IF_NONE_MATCH, v);
        }
        if let Some(v) = entry
            .last_modified
            .and_then(|v| HeaderValue::from_str(&v).ok())
        {
            headers.insert(IF_MODIFIED_SINCE, v);
        }
        (!headers.is_empty()).then_some(Cached { headers, body })
    }

    /// Keeps `body` as the answer of `url` when `headers` carry a validator; forgets the
    /// entry otherwise. Failures are logged, never returned.
    pub fn store(&self, url: &Url, headers: &HeaderMap, body: &[u8]) {
        let text = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let (etag, last_modified) = (text(ETAG), text(LAST_MODIFIED));
        let (entry_path, body_path) = self.paths(url);
        if etag.is_none() && last_modified.is_none() {
            let _ = std::fs::remove_file(&entry_path);
            return;
        }
        let entry = Entry {
            url: url.to_string(),
            etag,
            last_modified,
            size: body.len() as u64,
            sha256: Sha256::of(body),
        };
        let stored = std::fs::create_dir_all(&self.dir)
            .map_err(anyhow::Error::from)
            .and_then(|()| crate::atomic::write_atomic(&body_path, body))
            .and_then(|()| crate::atomic::write_json_atomic(&entry_path, &entry));
        if let Err(e) = stored {
            tracing::warn!("cannot keep {url} in {}: {e:#}", self.dir.display());
        }
    }
}
