//! Differential fetch: an update downloads only the chunks of the new asset that
//! nothing on this machine already holds.
//!
//! A release may publish a chunk index `S.chunks` ([`crate::chunks`]): the asset cut into
//! content-defined chunks (FastCDC 2020) with each chunk's length and BLAKE3. A JSON manifest
//! names it with its size and SHA-256 (so whatever authenticates the manifest authenticates
//! the index); without one, `S.chunks` is only a hint. Either way the whole file's SHA-256
//! decides before anything is installed.
//!
//! The steps, in [`super::fetch`] once the data file is open (`run`; `dry_run` for
//! `--dry-run`):
//!
//! 1. **Index** ([`load_index`]): read and check it (its size and SHA-256 against the
//!    manifest's reference, its asset size and SHA-256 against the plan). An index that is
//!    missing, malformed or of another build is reported ([`super::Event::DeltaFallback`])
//!    and the fetch downloads the whole asset.
//! 2. **Partial data** ([`seed::recheck`]): chunks a stopped differential fetch recorded as
//!    on disk (and chunks wholly inside a stopped full download's parts) are hashed again
//!    and kept when they match: a resume continues at chunk granularity.
//! 3. **Seeds** ([`seed::scan`]): the installed asset of the same variant, then every
//!    `--seed FILE`, is read once and cut with the index's own parameters; each chunk whose
//!    BLAKE3 is one the new asset needs is written at every offset that needs it, from the
//!    very buffer that was hashed (so the copied bytes are the hashed bytes).
//! 4. **Ranges** ([`ranges::plan`]): the chunks still missing are merged into byte ranges
//!    (adjacent chunks, and gaps of up to [`ranges::MERGE_GAP`] bytes, make one range;
//!    no range is longer than [`ranges::MAX_RANGE`]), each fetched as one task, at most
//!    `--jobs` at a time, with single-range requests, split at part boundaries
//!    (`ranges::download`). Each chunk is verified as its last byte arrives; a retry
//!    continues from the last byte received, with today's retry budget, and the signed URL
//!    of a GitHub asset is re-resolved on a 403 as for any request.
//! 5. **Whole file**: the SHA-256 (and an asset signature) over the assembled file, exactly as
//!    after a full download, then the atomic install.
//!
//! Any failure of steps 3-5 other than a network failure or a cancel (a chunk that does not
//! match the index, a server ignoring ranges, a whole-file SHA-256 mismatch after a lying
//! index or a seed that changed underneath) makes the fetch fall back once to a full
//! download of the asset from zero; if that does not verify either, the fetch fails closed
//! (exit 3). The old install is untouched until the rename, as always.

pub mod ranges;
pub mod seed;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::hashing::{hash_span, Hashed};
use super::http::HttpError;
use super::layout::{Layout, Plan};
use super::partial::DataFile;
use super::source::Remote;
use super::{Download, Event, Settings};
use crate::cancel::Cancel;
use crate::chunks::{self, Table};
use crate::installs::{InstallRecord, Transfer};
use crate::Error;

/// Differential fetch settings ([`super::Settings::delta`]).
#[derive(Debug, Clone, Default)]
pub struct Delta {
    /// `--no-delta`: always download the whole asset.
    pub disabled: bool,
    /// `--seed FILE`s: local files to take chunks from, after the installed asset.
    pub seeds: Vec<PathBuf>,
}

/// A chunk index read from the release and checked against the plan.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Its file name in the release.
    pub name: String,
    /// The index, kept compact (about 36 bytes a chunk).
    pub index: Arc<Table>,
    /// The BLAKE3 of its bytes, hex: what a resume record's chunk numbers refer to.
    pub id: String,
    /// Its size in bytes (downloaded, so counted in what the update cost).
    pub bytes: u64,
}

/// What a differential fetch will do: [`super::Event::DeltaPlanned`], and the result of
/// `voxctl fetch --dry-run`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeltaPlan {
    /// The chunk index used (its file name in the release), `None` when the release has no
    /// usable index (then everything is downloaded).
    pub index: Option<String>,
    /// The asset's size in bytes.
    pub size: u64,
    /// Chunks in the index (0 without one).
    pub chunks: u64,
    /// Bytes to download (the index itself not included: see `index_bytes`).
    pub to_download: u64,
    /// Bytes taken from local files (seeds and partial data), verified chunk by chunk.
    pub reused: u64,
    /// The data requests planned: one per range and part it touches.
    pub requests: u64,
    /// The index file's size in bytes (already downloaded when this is reported).
    pub index_bytes: u64,
    /// Where the reused bytes come from, in the order they were looked at.
    pub seeds: Vec<SeedUse>,
}

/// One local source of chunks, and what it gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedUse {
    /// The file.
    pub path: PathBuf,
    /// What it is: `installed` (the installed asset of this variant), `seed` (`--seed`) or
    /// `partial` (a stopped fetch's data).
    pub kind: SeedKind,
    /// The installed version, for the installed asset when its record says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Bytes of the new asset taken from it.
    pub reused: u64,
}

/// What a [`SeedUse`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeedKind {
    /// The installed asset of the variant being fetched.
    Installed,
    /// A file given with `--seed`.
    Seed,
    /// The data of a stopped fetch of this release.
    Partial,
}

/// Reads the release's chunk index for `plan`: `Ok(Ok(None))` when the release has none (or
/// the layout is an archive, whose compressed bytes do not chunk usefully), `Ok(Err(why))`
/// when it has one that cannot be used (missing though the manifest names it, malformed, of
/// another build, not matching the manifest's size or SHA-256, or unreadable after the
/// retries): the fetch then downloads the whole asset. `Err` only for a cancel.
pub async fn load_index(
    remote: &Remote,
    plan: &Plan,
    on_retry: &(dyn Fn(&HttpError, Duration) + Sync),
) -> Result<Result<Option<Loaded>, String>, anyhow::Error> {
    if plan.layout == Layout::Archive {
        return Ok(Ok(None));
    }
    let name = plan
        .index
        .as_ref()
        .map_or_else(|| chunks::index_name(&plan.asset), |r| r.name.clone());
    let got = remote.get_small(&name, chunks::INDEX_CAP, on_retry).await;
    let bytes = match got {
        Ok(Some(b)) => b,
        Ok(None) if plan.index.is_none() => return Ok(Ok(None)),
        Ok(None) => {
            return Ok(Err(format!(
                "{}: the manifest names this chunk index, but it is not in the release",
                remote.source.locate(&name)
            )))
        }
        Err(e) if matches!(Error::find(&e), Some(Error::Interrupted)) => return Err(e),
        Err(e) => return Ok(Err(format!("{e:#}"))),
    };
    Ok(check_index(&remote.source.locate(&name), name, bytes, plan))
}

/// Checks index `bytes` (read from `what`) against `plan` (and the manifest's reference to
/// it, if any), and keeps them as the index.
fn check_index(
    what: &str,
    name: String,
    bytes: Vec<u8>,
    plan: &Plan,
) -> Result<Option<Loaded>, String> {
    if let Some(r) = &plan.index {
        let sha = crate::checksum::Sha256::of(&bytes);
        if r.size != bytes.len() as u64 || r.sha256 != sha {
            return Err(format!(
                "{what}: {} bytes with SHA-256 {sha}, but the manifest says {} bytes with \
                 SHA-256 {}",
                bytes.len(),
                r.size,
                r.sha256
            ));
        }
    }
    let (id, len) = (
        blake3::hash(&bytes).to_hex().to_string(),
        bytes.len() as u64,
    );
    let index = Table::parse(bytes).map_err(|e| format!("{what}: {e}"))?;
    if index.size != plan.size || index.sha256 != plan.sha256 {
        return Err(format!(
            "{what}: indexes a {}-byte asset with SHA-256 {}, not this release's ({} bytes, \
             {})",
            index.size, index.sha256, plan.size, plan.sha256
        ));
    }
    Ok(Some(Loaded {
        name,
        id,
        bytes: len,
        index: Arc::new(index),
    }))
}

impl DeltaPlan {
    /// The plan of a differential fetch with `loaded`'s index of `plan`'s asset: `ranges`
    /// left to download, and what each of `seeds` gave.
    fn new(loaded: &Loaded, plan: &Plan, ranges: &[ranges::Range], seeds: Vec<SeedUse>) -> Self {
        DeltaPlan {
            index: Some(loaded.name.clone()),
            size: plan.size,
            chunks: loaded.index.len() as u64,
            to_download: ranges.iter().map(ranges::Range::len).sum(),
            reused: seeds.iter().map(|s| s.reused).sum(),
            requests: ranges::requests(ranges, plan),
            index_bytes: loaded.bytes,
            seeds,
        }
    }
}

/// The local files a differential fetch takes chunks from, in order: the installed asset of
/// this variant (a file layout only), then the `--seed` files; each with its kind and, for
/// the installed one, its recorded version (`reused` still 0). A file named twice is read
/// once.
pub(crate) fn seed_files(settings: &Settings, plan: &Plan) -> Vec<SeedUse> {
    let seed = |path: PathBuf, kind, version| SeedUse {
        path,
        kind,
        version,
        reused: 0,
    };
    let mut out = Vec::new();
    if plan.layout != Layout::Archive {
        let installed = settings.backends.asset_path(&settings.asset);
        if installed.is_file() {
            let version = settings
                .backends
                .read_record(&settings.asset)
                .ok()
                .flatten()
                .and_then(|r| r.version);
            out.push(seed(installed, SeedKind::Installed, version));
        }
    }
    for path in &settings.delta.seeds {
        out.push(seed(path.clone(), SeedKind::Seed, None));
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|s| seen.insert(std::fs::canonicalize(&s.path).unwrap_or_else(|_| s.path.clone())));
    out
}

/// `--dry-run`: what a fetch would download and reuse. Reads the seeds, writes nothing.
pub(crate) async fn dry_run(
    settings: &Settings,
    plan: &Plan,
    index: Option<Loaded>,
    seeds: Vec<SeedUse>,
) -> anyhow::Result<DeltaPlan> {
    let Some(loaded) = index else {
        return Ok(DeltaPlan {
            index: None,
            size: plan.size,
            chunks: 0,
            to_download: plan.size,
            reused: 0,
            requests: plan.parts.len() as u64,
            index_bytes: 0,
            seeds: Vec::new(),
        });
    };
    let cancel = settings.cancel.clone();
    let plan = plan.clone();
    tokio::task::spawn_blocking(move || {
        let mut wanted = seed::Wanted::new(&loaded.index, |_| false);
        let mut uses = Vec::new();
        for s in seeds {
            let reused = scan_or_skip(&s.path, &loaded.index, &mut wanted, None, &cancel)?;
            uses.push(SeedUse { reused, ..s });
        }
        let ranges = ranges::plan(&loaded.index, |i| wanted.is_taken(i));
        Ok(DeltaPlan::new(&loaded, &plan, &ranges, uses))
    })
    .await
    .context("seed task failed")?
}

/// [`seed::scan`], with a seed that cannot be read skipped (it is only a source of bytes to
/// save; the fetch goes on without it) rather than failing the fetch.
fn scan_or_skip(
    path: &std::path::Path,
    index: &Table,
    wanted: &mut seed::Wanted,
    sink: Option<&DataFile>,
    cancel: &Cancel,
) -> anyhow::Result<u64> {
    match seed::scan(path, index, wanted, sink, cancel) {
        Ok(n) => Ok(n),
        Err(e) if matches!(Error::find(&e), Some(Error::Interrupted)) => Err(e),
        Err(e) => {
            tracing::warn!("seed {}: {e:#}; not used", path.display());
            Ok(0)
        }
    }
}

/// A differential fetch into `download`'s data file: re-check a stopped fetch's chunks,
/// take chunks from the seeds, download the rest by ranges, verify the whole file and
/// install. `Ok(None)` when nothing local holds any chunk (a full download is then cheaper:
/// one request per part); an error is for the caller to fall back on, unless [`stops`]
/// says otherwise (the chunks on disk are then recorded for a resume).
pub(crate) async fn run(
    download: &Arc<Download>,
    settings: &Settings,
    loaded: &Loaded,
    seeds: &[SeedUse],
    target: &std::path::Path,
    auth: &Option<crate::signature::Authenticated>,
) -> anyhow::Result<Option<InstallRecord>> {
    let index = loaded.index.clone();
    let uses = {
        let (data, plan, index, id) = (
            download.data.clone(),
            download.plan.clone(),
            index.clone(),
            loaded.id.clone(),
        );
        let (seeds, cancel) = (seeds.to_vec(), settings.cancel.clone());
        tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<SeedUse>> {
            data.track_chunks(&id, (0..index.len()).map(|i| index.chunk_len(i)).collect());
            let mut uses = Vec::new();
            let kept = seed::recheck(&data, &plan, &index, &id, &cancel)?;
            // From here on the data file holds chunks wherever they belong, not parts'
            // prefixes: a full download after a fallback starts every part from zero.
            for part in 0..plan.parts.len() {
                data.reset(part);
            }
            if kept > 0 {
                uses.push(SeedUse {
                    path: data.path().to_path_buf(),
                    kind: SeedKind::Partial,
                    version: None,
                    reused: kept,
                });
            }
            let mut wanted = seed::Wanted::new(&index, |i| data.is_chunk_done(i));
            for s in seeds {
                let reused = scan_or_skip(&s.path, &index, &mut wanted, Some(&data), &cancel)?;
                uses.push(SeedUse { reused, ..s });
            }
            Ok(uses)
        })
        .await
        .context("seed task failed")??
    };
    let ranges = ranges::plan(&index, |i| download.data.is_chunk_done(i));
    let planned = DeltaPlan::new(loaded, &download.plan, &ranges, uses);
    if planned.reused == 0 {
        download.data.track_chunks("", Vec::new());
        return Ok(None);
    }
    let (to_download, reused) = (planned.to_download, planned.reused);
    (download.report)(&Event::DeltaPlanned(planned));
    download.counters.set_delta(Some(to_download));
    let started = std::time::Instant::now();
    let jobs = ranges
        .into_iter()
        .map(|range| ranges::download(download.clone(), index.clone(), range));
    super::run_limited(settings.jobs, jobs).await?;
    tracing::debug!("ranges downloaded: {:?}", started.elapsed());
    let first = {
        let (download, cancel) = (download.clone(), settings.cancel.clone());
        tokio::task::spawn_blocking(move || -> anyhow::Result<Hashed> {
            let mut prehash = download.prehash.as_ref().map(|s| s.start()).transpose()?;
            let mut sha256 = <sha2::Sha256 as sha2::Digest>::new();
            hash_span(
                &download.data,
                0,
                download.plan.parts[0].size,
                &mut sha256,
                prehash.as_mut(),
                &cancel,
            )?;
            Ok(Hashed { sha256, prehash })
        })
        .await
        .context("hash task failed")??
    };
    tracing::debug!("part 0 hashed: {:?}", started.elapsed());
    let transfer = Transfer {
        downloaded: download.counters.downloaded() + loaded.bytes,
        reused,
        requests: download.remote.requests() + 1,
        served: download.remote.served(),
    };
    super::install(download, settings, target, first, auth.clone(), transfer)
        .await
        .map(Some)
}

/// Whether a differential fetch stops (keeping its verified chunks for a rerun) rather than
/// falling back to a full download after `err`: a cancel, or a network failure that its
/// retries could not get past. Anything else (a server that refuses or ignores ranges,
/// bytes that do not match the index, a whole file that does not verify) falls back.
pub(crate) fn stops(err: &anyhow::Error, cancel: &Cancel) -> bool {
    cancel.is_cancelled()
        || matches!(Error::find(err), Some(Error::Interrupted))
        || err
            .chain()
            .filter_map(|e| e.downcast_ref::<HttpError>())
            .any(HttpError::is_transient)
}
