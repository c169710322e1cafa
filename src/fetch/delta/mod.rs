//! Differential fetch (issue 13): an update downloads only the chunks of the new asset that
//! nothing on this machine already holds.
//!
//! A release may publish a chunk index `S.chunks` ([`crate::chunks`]): the asset cut into
//! content-defined chunks (FastCDC 2020) with each chunk's length and BLAKE3. A JSON manifest
//! names it with its size and SHA-256 (so whatever authenticates the manifest authenticates
//! the index); without one, `S.chunks` is only a hint. Either way the whole file's SHA-256
//! decides before anything is installed.
//!
//! The steps, in [`super::fetch`] once the data file is open:
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
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::http::HttpError;
use super::layout::{Layout, Plan};
use super::source::Remote;
use crate::chunks::{self, Index};
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
    /// The index.
    pub index: Index,
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
    Ok(check_index(
        &remote.source.locate(&name),
        name,
        &bytes,
        plan,
    ))
}

/// Checks index `bytes` (read from `what`) against `plan` (and the manifest's reference to
/// it, if any).
fn check_index(
    what: &str,
    name: String,
    bytes: &[u8],
    plan: &Plan,
) -> Result<Option<Loaded>, String> {
    if let Some(r) = &plan.index {
        let sha = crate::checksum::Sha256::of(bytes);
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
    let index = Index::parse(bytes).map_err(|e| format!("{what}: {e}"))?;
    if index.size != plan.size || index.sha256 != plan.sha256 {
        return Err(format!(
            "{what}: indexes a {}-byte asset with SHA-256 {}, not this release's ({} bytes, \
             {})",
            index.size, index.sha256, plan.size, plan.sha256
        ));
    }
    Ok(Some(Loaded {
        name,
        id: blake3::hash(bytes).to_hex().to_string(),
        bytes: bytes.len() as u64,
        index,
    }))
}
