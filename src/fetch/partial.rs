//! Partial downloads, kept for resume in `{backends}/.partial/{asset}/` (inside the backends
//! dir, so the finished file is renamed into place on the same filesystem, and next to the
//! data it belongs to rather than in the per-user state dir).
//!
//! Layout: `plan.json` is the [`Plan`] the data belongs to (a different release wipes the
//! directory); `parts/{piece}` holds each piece's bytes, its length being the number of bytes
//! received (a rerun re-hashes them and continues with a Range request); `{asset}.assembling`
//! exists only while the pieces are being joined, and is turned back into piece 0 by
//! [`Partial::open`] if a run died there.
//!
//! Partial data is kept after a network error or an interrupt, and removed after any other
//! failure (a checksum mismatch, bad release data, a local I/O error) and after an install.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::layout::Plan;
use crate::backends::BackendsDir;

/// The partial-download directory of one asset.
#[derive(Debug, Clone)]
pub struct Partial {
    dir: PathBuf,
    assembling: PathBuf,
}

impl Partial {
    /// Opens (creating) the directory for `plan`, wiping data that belongs to another plan,
    /// and undoing an interrupted assembly.
    pub fn open(backends: &BackendsDir, plan: &Plan) -> Result<Partial> {
        let dir = backends.root().join(".partial").join(&plan.asset);
        let p = Partial {
            assembling: dir.join(format!("{}.assembling", plan.asset)),
            dir,
        };
        let plan_path = p.dir.join("plan.json");
        let same = std::fs::read(&plan_path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Plan>(&b).ok())
            .is_some_and(|old| &old == plan);
        if !same && p.dir.exists() {
            tracing::info!(
                "{}: partial data of another release; removing",
                p.dir.display()
            );
            p.remove()?;
        }
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(p.dir.join("parts"))
            .with_context(|| format!("cannot create {}", p.dir.display()))?;
        if !same {
            crate::atomic::write_json_atomic(&plan_path, plan)?;
        }
        if p.assembling.exists() {
            let first = &plan.pieces[0];
            let piece0 = p.piece_path(&first.name);
            std::fs::OpenOptions::new()
                .write(true)
                .open(&p.assembling)
                .and_then(|f| f.set_len(first.size))
                .and_then(|()| std::fs::rename(&p.assembling, &piece0))
                .with_context(|| format!("cannot recover {}", p.assembling.display()))?;
        }
        Ok(p)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where piece `name` (a validated plain file name) is stored.
    pub fn piece_path(&self, name: &str) -> PathBuf {
        self.dir.join("parts").join(name)
    }

    /// Where the pieces are joined.
    pub fn assembling_path(&self) -> &Path {
        &self.assembling
    }

    /// Removes the directory and everything in it (fine if it is already gone), and the
    /// `.partial` directory above it when that is left empty.
    pub fn remove(&self) -> Result<()> {
        match std::fs::remove_dir_all(&self.dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(
                    anyhow::Error::from(e).context(format!("cannot remove {}", self.dir.display()))
                )
            }
            _ => {}
        }
        if let Some(parent) = self.dir.parent() {
            let _ = std::fs::remove_dir(parent); // fails harmlessly while other assets use it
        }
        Ok(())
    }
}
