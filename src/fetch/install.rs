//! Joining the pieces, checking the whole-file SHA-256, and installing (DESIGN.md invariant 4):
//! the verified file is fsynced, made executable, renamed over `backends/{asset}`, and the
//! directory fsynced. Nothing touches the previous install before that rename, so any failure
//! leaves it as it was.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::Digest;

use super::layout::Plan;
use super::partial::Partial;
use crate::checksum::Sha256;
use crate::Error;

/// Joins the pieces into one file (piece 0 is renamed, the others appended while they are
/// hashed), fsyncs it, and checks its SHA-256 against the plan. `first` is the hash state
/// after piece 0. Returns the joined file's path. Errors with [`Error::Integrity`] on a
/// mismatch.
pub fn assemble(partial: &Partial, plan: &Plan, first: sha2::Sha256) -> Result<PathBuf> {
    let joined = partial.assembling_path().to_path_buf();
    let piece0 = partial.piece_path(&plan.pieces[0].name);
    std::fs::rename(&piece0, &joined)
        .with_context(|| format!("cannot rename {} to {}", piece0.display(), joined.display()))?;
    let mut out = OpenOptions::new()
        .append(true)
        .open(&joined)
        .with_context(|| format!("cannot open {}", joined.display()))?;
    let mut hasher = first;
    let mut buf = vec![0u8; 1 << 20];
    for piece in &plan.pieces[1..] {
        let path = partial.piece_path(&piece.name);
        let mut f = File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
        loop {
            crate::interrupt::check()?;
            let n = f
                .read(&mut buf)
                .with_context(|| format!("cannot read {}", path.display()))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])
                .with_context(|| format!("cannot write {}", joined.display()))?;
        }
    }
    out.sync_all()
        .with_context(|| format!("cannot fsync {}", joined.display()))?;
    let len = out.metadata()?.len();
    if len != plan.size {
        return Err(Error::Integrity(format!(
            "{}: joined parts are {len} bytes, the release declares {}",
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
    Ok(joined)
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
