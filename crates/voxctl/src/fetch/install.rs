//! Checking the whole-file SHA-256 and installing (docs/contract.md, invariant 4): the verified
//! file is fsynced, made executable, renamed over `backends/{asset}`, and the directory fsynced.
//! Nothing writes to the previous install before that rename (it only gets a second link,
//! so that the rename does not free its blocks), so any failure leaves it as it was.
//!
//! The parts were written into one data file at their offsets, so there is nothing to join.
//! The whole-file digest continues from part 0's hash state (computed while part 0
//! downloaded; for a differential fetch, from what [`super::hashing::PrefixHasher`] hashed
//! as the chunks arrived) over the rest, read back from the page cache; the final fsync runs on
//! another thread at the same time, and with the writeback done during the download it has
//! little left to write. An asset signature's BLAKE2b ([`super::signed::Prehash`]) is fed the
//! same buffers, on its own thread: one read pass serves both.

use std::path::{Path, PathBuf};
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
use crate::testhook::checkpoint;
use crate::Error;

/// Finishes the whole-file SHA-256 of `data` from `first` (the hash state after its first
/// `from` bytes: part 0, or what a differential fetch hashed as its chunks arrived) over the
/// rest of the file, fsyncs the file meanwhile, and checks the digest and size against the plan. The asset
/// signature's prehash in `first`, if any, is fed the same buffers and then decides: returns
/// its verdict and how long its thread was waited for after the pass. Errors with
/// [`Error::Integrity`] on a mismatch or a signature that does not verify, and with
/// [`Error::Interrupted`] once `cancel` is cancelled.
pub fn verify(
    data: &Arc<DataFile>,
    plan: &Plan,
    first: Hashed,
    from: u64,
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
    let hashed = hash_span(
        data,
        from,
        plan.size.saturating_sub(from),
        &mut hasher,
        prehash.as_mut(),
        cancel,
    );
    tracing::debug!(
        "whole-file digest from byte {from}: {:?}",
        started.elapsed()
    );
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
/// directory. Returns the previous install, still linked as `aside`, for the caller to
/// [`Replaced::remove`] once the new file is live.
///
/// The previous install is hard-linked as `aside` (in `target`'s directory) before the
/// rename, so the rename only drops one of its two links and returns at once: a filesystem
/// frees a multi-gigabyte file's blocks inside the call that drops its last link (ext4 takes
/// over a second for 2 GB), and that call is now the aside's unlink, after the install. The
/// install stays one atomic rename: a crash before it leaves the previous install in place,
/// a crash after it the new one, and either way at most a stale `aside`, which the next fetch
/// removes with [`drop_replaced`] before it gets here (a stale one here is an error). Errors
/// name the path; on any error `target` is as it was.
pub fn install_file(verified: &Path, target: &Path, aside: &Path) -> Result<Replaced> {
    crate::platform::make_executable(verified)
        .with_context(|| format!("cannot chmod {}", verified.display()))?;
    let kept = match std::fs::hard_link(target, aside) {
        Ok(()) => Some(aside.to_path_buf()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        // A filesystem without hard links (or the old file at its link limit): the rename
        // frees the old blocks itself, slower but as atomic.
        Err(e) if crate::platform::hard_link_unsupported(&e) => {
            tracing::debug!(
                "cannot link {} aside ({e}); replacing it directly",
                target.display()
            );
            None
        }
        Err(e) => {
            return Err(anyhow::Error::from(e).context(format!(
                "cannot link {} as {}",
                target.display(),
                aside.display()
            )))
        }
    };
    checkpoint("fetch:install:aside");
    let renamed = crate::platform::replace_file(verified, target).with_context(|| {
        format!(
            "cannot rename {} to {}",
            verified.display(),
            target.display()
        )
    });
    let replaced = Replaced(kept);
    renamed?;
    crate::atomic::fsync_dir(crate::atomic::parent_dir(target))?;
    checkpoint("fetch:install:renamed");
    Ok(replaced)
}

/// The previous install of a single file, still linked aside after [`install_file`]
/// renamed the new one over it. Dropped without [`Replaced::remove`], the link is removed
/// all the same (errors ignored).
#[derive(Debug)]
#[must_use = "the previous install stays on disk until removed"]
pub struct Replaced(Option<PathBuf>);

impl Replaced {
    /// Removes the aside link, freeing the previous install's blocks unless something else
    /// still holds it (a running backend's open binary, another link). Errors name the path.
    pub fn remove(mut self) -> Result<()> {
        match self.0.take() {
            Some(aside) => drop_replaced(&aside),
            None => Ok(()),
        }
    }
}

impl Drop for Replaced {
    fn drop(&mut self) {
        if let Some(aside) = self.0.take() {
            let _ = drop_replaced(&aside);
        }
    }
}

/// Removes `aside`, a previous install left linked aside (a crash between [`install_file`]'s
/// rename and its cleanup leaves one); absent is fine. Errors name the path.
pub fn drop_replaced(aside: &Path) -> Result<()> {
    match std::fs::remove_file(aside) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(anyhow::Error::from(e).context(format!("cannot remove {}", aside.display()))),
    }
}
