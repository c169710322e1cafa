//! Checking the whole-file SHA-256 and installing (docs/contract.md, invariant 4): the verified
//! file is fsynced, made executable, renamed over `backends/{asset}`, and the directory fsynced.
//! Nothing touches the previous install before that rename, so any failure leaves it as it was.
//!
//! The parts were written into one data file at their offsets, so there is nothing to join.
//! The whole-file digest continues from part 0's hash state (computed while part 0
//! downloaded) over parts 1.., read back from the page cache; the final fsync runs on
//! another thread at the same time, and with the writeback done during the download it has
//! little left to write. An asset signature's BLAKE2b ([`super::signed::Prehash`]) is fed the
//! same buffers, on its own thread: one read pass serves both.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use sha2::Digest;

use super::hashing::{hash_span, Hashed};
use super::layout::Plan;
use super::partial::DataFile;
use super::signed::Prehash;
use crate::cancel::Cancel;
use crate::checksum::Sha256;
use crate::signature::Authenticated;
use crate::Error;

/// Finishes the whole-file SHA-256 of `data` from `first` (the hash state after part 0),
/// fsyncs the file meanwhile, and checks the digest and size against the plan. The asset
/// signature's prehash in `first`, if any, is fed the same buffers and then decides: returns
/// its verdict and how long its thread was waited for after the pass. Errors with
/// [`Error::Integrity`] on a mismatch or a signature that does not verify, and with
/// [`Error::Interrupted`] once `cancel` is cancelled.
pub fn verify(
    data: &Arc<DataFile>,
    plan: &Plan,
    first: Hashed,
    cancel: &Cancel,
) -> Result<Option<(Authenticated, Duration)>> {
    let started = Instant::now();
    let syncing = {
        let data = data.clone();
        std::thread::Builder::new()
            .name("fsync".into())
            .spawn(move || {
                let r = data.sync_all();
                tracing::debug!("final fsync: {:?}", started.elapsed());
                r
            })
            .context("cannot start the fsync thread")?
    };
    let Hashed {
        sha256: mut hasher,
        mut prehash,
    } = first;
    let hashed = plan.parts[1..].iter().try_for_each(|p| {
        hash_span(
            data,
            p.offset,
            p.size,
            &mut hasher,
            prehash.as_mut(),
            cancel,
        )
    });
    tracing::debug!("whole-file digest of parts 1..: {:?}", started.elapsed());
    let synced = syncing
        .join()
        .map_err(|_| anyhow::anyhow!("the fsync thread panicked"))?;
    hashed?;
    synced?;
    let len = data.size()?;
    if len != plan.size {
        return Err(Error::Integrity(format!(
            "{}: downloaded file is {len} bytes, the release declares {}",
            plan.asset, plan.size
        ))
        .into());
    }
    let got = Sha256(hasher.finalize().into());
    if got != plan.sha256 {
        return Err(Error::Integrity(format!(
            "{}: SHA-256 of the downloaded file is {got}, the release says {}",
            plan.asset, plan.sha256
        ))
        .into());
    }
    prehash.map(Prehash::finish).transpose()
}

/// Installs the verified file `verified` as `target`: executable bit, rename, fsync the
/// directory.
pub fn install_file(verified: &Path, target: &Path) -> Result<()> {
    std::fs::set_permissions(verified, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot chmod {}", verified.display()))?;
    std::fs::rename(verified, target).with_context(|| {
        format!(
            "cannot rename {} to {}",
            verified.display(),
            target.display()
        )
    })?;
    crate::atomic::fsync_dir(crate::atomic::parent_dir(target))
}
