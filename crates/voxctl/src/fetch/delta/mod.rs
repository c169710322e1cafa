//! Differential fetch: an update downloads only the chunks of the new asset that
//! nothing on this machine already holds.
//!
//! A release may publish a chunk index `S.chunks` ([`crate::chunks`]): the asset cut into
//! content-defined chunks (FastCDC 2020) with each chunk's length and BLAKE3. A JSON manifest
//! names it with its size and SHA-256 (so whatever authenticates the manifest authenticates
//! the index); without one, `S.chunks` is only a hint. Either way the whole file's SHA-256
//! decides before anything is installed.
//!
//! The steps, in the fetch engine ([`super::install()`]) once the data file is open (`run`; `dry_run` for
//! `--dry-run`). Steps 3 to 5 overlap: the downloads start while the seeds are read, and
//! the whole-file hash follows the chunks as they are verified.
//!
//! 1. **Index** ([`load_index`]): read and check it (its size and SHA-256 against the
//!    manifest's reference, its asset size and SHA-256 against the plan). An index that is
//!    missing, malformed or of another build is reported ([`super::Event::DeltaFallback`])
//!    and the fetch downloads the whole asset.
//! 2. **Partial data** (`seed::recheck`): chunks a stopped differential fetch recorded as
//!    on disk (and chunks wholly inside a stopped full download's parts) are hashed again
//!    and kept when they match: a resume continues at chunk granularity.
//! 3. **Seeds** (`seed::scan`, on a blocking thread): the installed asset of the same
//!    variant, then every `--seed FILE`, is read once and cut with the index's own
//!    parameters (following the new asset's chunks through the seed while they match, so
//!    that unchanged stretches are hashed but not cut); each chunk whose BLAKE3 is one the
//!    new asset needs is written at every
//!    offset that needs it, from the very buffer that was hashed (so the copied bytes are
//!    the hashed bytes). While the last seed is read, a chunk the scan has passed by
//!    `seed::MARGIN` (its place in the seed estimated from the chunks found around it)
//!    without finding it is handed to step 4 at once (`seed::Speculation`); what is still
//!    missing when every seed is read follows. A chunk handed over is no longer taken from
//!    a seed: the downloaded, verified copy is the only one written. The plan
//!    ([`super::Event::DeltaPlanned`]) is reported when the scan ends.
//! 4. **Ranges** (`ranges::Planner`): missing chunks are merged into byte ranges, in
//!    order, as they are decided (adjacent chunks, and gaps of up to `ranges::MERGE_GAP`
//!    bytes, make one range; no range is longer than `ranges::MAX_RANGE`), each fetched
//!    as one task, at most `--jobs` at a time, with single-range requests, split at part
//!    boundaries (`ranges::download`). Each chunk is verified as its last byte arrives; a
//!    chunk already on disk inside a merged range is not written again; a retry continues
//!    from the last byte received, with today's retry budget, and the signed URL of a
//!    GitHub asset is re-resolved on a 403 as for any request.
//! 5. **Whole file**: the SHA-256 (and an asset signature) over the assembled file, exactly
//!    as after a full download, then the atomic install. The hash runs on its own thread
//!    from the start (`super::hashing::PrefixHasher`): it follows the verified prefix of
//!    the file (chunks are verified out of order) and hashes each run that joins it, from
//!    the page cache; a verified chunk is never written again, so what it hashed is what is
//!    installed. The whole-file check then has little or nothing left to read.
//!
//! Resume is unchanged by the overlap: a chunk is noted done only once verified (a seed's
//! by its BLAKE3 before it is written, a range's as its last byte arrives), and the resume
//! record lists only chunks that an `fdatasync` made durable after that
//! (`super::writeback`), so a kill at any point resumes with verified chunks only.
//!
//! Any failure of steps 3-5 other than a network failure or a cancel (a chunk that does not
//! match the index, a server ignoring ranges, a whole-file SHA-256 mismatch after a lying
//! index or a seed that changed underneath) makes the fetch fall back once to a full
//! download of the asset from zero; if that does not verify either, the fetch fails closed
//! (exit 3). The old install is untouched until the rename, as always.

pub(crate) mod ranges;
pub(crate) mod seed;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::hashing::PrefixHasher;
use super::http::HttpError;
use super::layout::{Layout, Plan};
use super::partial::DataFile;
use super::source::Remote;
use super::{Download, Event, Settings};
use crate::cancel::Cancel;
use crate::chunks::{self, Table};
use crate::installs::{InstallRecord, Transfer};
use crate::testhook::checkpoint;
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
) -> Result<Result<Option<Loaded>, String>, anyhow::Error> {
    if plan.layout == Layout::Archive {
        return Ok(Ok(None));
    }
    let name = plan
        .index
        .as_ref()
        .map_or_else(|| chunks::index_name(&plan.asset), |r| r.name.clone());
    let got = remote.get_small(&name, chunks::INDEX_CAP).await;
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
            let reused = scan_or_skip(&s.path, &loaded.index, &mut wanted, None, None, &cancel)?;
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
    speculation: Option<&mut seed::Speculation>,
    cancel: &Cancel,
) -> anyhow::Result<u64> {
    match seed::scan(path, index, wanted, sink, speculation, cancel) {
        Ok(n) => Ok(n),
        Err(e) if matches!(Error::find(&e), Some(Error::Interrupted)) => Err(e),
        Err(e) => {
            tracing::warn!("seed {}: {e:#}; not used", path.display());
            Ok(0)
        }
    }
}

/// A differential fetch into `download`'s data file: re-check a stopped fetch's chunks,
/// take chunks from the seeds while the chunks the scan has passed without finding them
/// download by ranges, hash the file as its verified prefix grows, verify the whole file and
/// install. `Ok(None)` when nothing local holds any chunk (a full download is then cheaper:
/// one request per part; no range was requested); an error is for the caller to fall back
/// on, unless [`stops`] says otherwise (the chunks on disk are then recorded for a resume).
pub(crate) async fn run(
    download: &Arc<Download>,
    settings: &Settings,
    loaded: &Loaded,
    seeds: &[SeedUse],
    target: &std::path::Path,
    auth: &Option<crate::signature::Authenticated>,
) -> anyhow::Result<Option<InstallRecord>> {
    let index = loaded.index.clone();
    let lens = (0..index.len()).map(|i| index.chunk_len(i)).collect();
    let generation = download.data.track_chunks(&loaded.id, lens);
    let prehash = download.prehash.as_ref().map(|s| s.start()).transpose()?;
    let hasher = PrefixHasher::start(
        download.data.clone(),
        generation,
        index.clone(),
        prehash,
        settings.cancel.clone(),
    )?;
    // The scan has a cancel of its own, so that a failed range stops it too: it must not
    // write into the data file once `run` has returned.
    let scan_cancel = Cancel::new();
    let watch = {
        let (user, scan) = (settings.cancel.clone(), scan_cancel.clone());
        tokio::spawn(async move {
            user.cancelled().await;
            scan.cancel();
        })
    };
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<ranges::Range>();
    let scanning = {
        let (data, plan, index, id) = (
            download.data.clone(),
            download.plan.clone(),
            index.clone(),
            loaded.id.clone(),
        );
        let (seeds, cancel) = (seeds.to_vec(), scan_cancel.clone());
        tokio::task::spawn_blocking(move || {
            scan_all(&data, &plan, &index, &id, seeds, &tx, &cancel)
        })
    };
    let result = pipeline(download, settings, loaded, rx, scanning, &scan_cancel).await;
    watch.abort();
    let Some(reused) = result? else {
        drop(hasher);
        download.data.track_chunks("", Vec::new());
        return Ok(None);
    };
    let (first, hashed) = tokio::task::spawn_blocking(move || hasher.finish())
        .await
        .context("hash task failed")??;
    tracing::debug!("whole-file digest: {hashed} bytes hashed while the chunks arrived");
    let transfer = Transfer {
        downloaded: download.counters.downloaded() + loaded.bytes,
        reused,
        requests: download.remote.requests() + 1,
        served: download.remote.served(),
    };
    super::verify_and_install(
        download,
        settings,
        None,
        target,
        first,
        hashed,
        auth.clone(),
        transfer,
    )
    .await
    .map(Some)
}

/// The seed side of [`run`], on a blocking thread: re-checks the partial data, then reads
/// each seed, the last one handing the chunks it has passed without finding them to `tx`
/// as ranges ([`seed::Speculation`]); once every seed is read, whatever is still missing
/// goes to `tx` too, unless nothing local held any chunk. Returns what each source gave,
/// and the bytes handed over that the last seed held after all.
fn scan_all(
    data: &DataFile,
    plan: &Plan,
    index: &Table,
    id: &str,
    seeds: Vec<SeedUse>,
    tx: &tokio::sync::mpsc::UnboundedSender<ranges::Range>,
    cancel: &Cancel,
) -> anyhow::Result<(Vec<SeedUse>, u64)> {
    let mut uses = Vec::new();
    let kept = seed::recheck(data, plan, index, id, cancel)?;
    // From here on the data file holds chunks wherever they belong, not parts' prefixes:
    // a full download after a fallback starts every part from zero.
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
    let mut wanted = seed::Wanted::new(index, |i| data.is_chunk_done(i));
    let mut emit = |r: ranges::Range| {
        // Fails only once the downloading side has stopped, which cancels the scan.
        let _ = tx.send(r);
    };
    let mut speculation = seed::Speculation::new(&mut emit);
    let last = seeds.len().saturating_sub(1);
    for (i, s) in seeds.into_iter().enumerate() {
        let spec = (i == last).then_some(&mut speculation);
        let reused = scan_or_skip(&s.path, index, &mut wanted, Some(data), spec, cancel)?;
        uses.push(SeedUse { reused, ..s });
    }
    checkpoint("fetch:delta:scanned");
    let late = speculation.late();
    if uses.iter().any(|u| u.reused > 0) {
        speculation.finish(index, data);
    }
    Ok((uses, late))
}

/// The download side of [`run`]: starts each range `rx` brings at once (at most `--jobs`
/// at a time) while the scan goes on, reports [`Event::DeltaPlanned`] when the scan has
/// ended, and returns the bytes reused once every range is in; `None` when the seeds gave
/// nothing (then no range was handed over). On any failure the scan is cancelled and
/// waited for, and the ranges aborted, before the error is returned.
async fn pipeline(
    download: &Arc<Download>,
    settings: &Settings,
    loaded: &Loaded,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<ranges::Range>,
    mut scanning: tokio::task::JoinHandle<anyhow::Result<(Vec<SeedUse>, u64)>>,
    scan_cancel: &Cancel,
) -> anyhow::Result<Option<u64>> {
    let permits = Arc::new(tokio::sync::Semaphore::new(settings.jobs.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    let mut ranges = Vec::new();
    let mut reused = None;
    let started = std::time::Instant::now();
    let start = |range: ranges::Range,
                 ranges: &mut Vec<ranges::Range>,
                 tasks: &mut tokio::task::JoinSet<anyhow::Result<()>>| {
        ranges.push(range);
        let permits = permits.clone();
        let job = ranges::download(download.clone(), loaded.index.clone(), range);
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await?;
            job.await
        });
    };
    let failure = loop {
        if reused.is_some() && tasks.is_empty() {
            break None;
        }
        tokio::select! {
            Some(range) = rx.recv(), if reused.is_none() => start(range, &mut ranges, &mut tasks),
            scanned = &mut scanning, if reused.is_none() => {
                let (uses, late) = match scanned.context("seed task failed").and_then(|r| r) {
                    Ok(s) => s,
                    Err(e) => break Some(e),
                };
                // The scan has sent every range before it ended.
                while let Ok(range) = rx.try_recv() {
                    start(range, &mut ranges, &mut tasks);
                }
                let planned = DeltaPlan::new(loaded, &download.plan, &ranges, uses);
                tracing::debug!(
                    "seeds scanned: {:?}; {} ranges, {} bytes, of which {late} handed over \
                     before the scan found them",
                    started.elapsed(),
                    ranges.len(),
                    planned.to_download
                );
                if planned.reused == 0 {
                    return Ok(None);
                }
                reused = Some(planned.reused);
                // Progress counts against the plan from its event on (the bytes received
                // before it included).
                download.counters.set_delta(Some(planned.to_download));
                (download.report)(&Event::DeltaPlanned(planned));
            },
            Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                let done = joined.map_err(|e| anyhow::anyhow!("download task failed: {e}"));
                if let Err(e) = done.and_then(|r| r) {
                    break Some(e);
                }
            },
        }
    };
    if let Some(e) = failure {
        scan_cancel.cancel();
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
        if reused.is_none() {
            let _ = (&mut scanning).await;
        }
        return Err(e);
    }
    tracing::debug!("ranges downloaded: {:?}", started.elapsed());
    Ok(reused)
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
