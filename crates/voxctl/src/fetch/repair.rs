//! `fetch --repair`: bring a damaged install back to the recorded build, from the
//! release it came from, never to another one.
//!
//! The release must still hold the recorded build (same SHA-256 and size), else the repair
//! is refused: it would be an upgrade. A single-file install is downloaded whole and
//! replaced by one rename, as any install is (the chunk index that would let only the
//! wrong chunks be downloaded does not exist yet). An archive cannot be read at an offset,
//! so it is downloaded whole again, verified, extracted beside the install with every check
//! of [`super::archive`], and only the files that fail the install record's check are
//! replaced, each by a rename of its extracted copy after that copy matched the record.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::layout::Plan;
use super::source::Source;
use crate::installs::InstallRecord;
use crate::Error;

/// Refuses a repair from a release that no longer holds the recorded build.
pub fn check_release(record: &InstallRecord, plan: &Plan, source: &Source) -> Result<()> {
    if plan.sha256 == record.sha256 && plan.size == record.size {
        return Ok(());
    }
    Err(crate::error::with_remedy(
        Error::Refused(format!(
            "the release at {} no longer holds the installed build of {} (it has sha256 {}, \
             {} bytes; the install record has sha256 {}, {} bytes): a repair never changes \
             the version",
            source.display(),
            record.asset,
            plan.sha256,
            plan.size,
            record.sha256,
            record.size
        )),
        crate::error::Remedy::Reinstall {
            variant: record.variant.clone(),
            inspect: None,
        },
    ))
}

/// Extracts the verified `archive` beside the install of `record` and replaces each file
/// that fails the record's check (missing, wrong size or digest, wrong symlink) by a
/// rename of its extracted copy, once that copy matches the record. Returns the paths
/// replaced (inside the install directory). The extraction directory is removed.
///
/// Errors: [`Error::Integrity`] when the archive's copy of a file does not match the
/// install record (the archive matched the recorded SHA-256, so the record itself is
/// wrong); I/O errors naming the path; [`Error::Interrupted`] once `cancel` is cancelled
/// (before any file is replaced).
pub fn replace_broken(
    record: &InstallRecord,
    archive: &Path,
    label: &str,
    executable: &str,
    max_expanded: u64,
    cancel: &crate::cancel::Cancel,
) -> Result<Vec<PathBuf>> {
    let Some(recorded) = &record.files else {
        return Ok(Vec::new());
    };
    let checks = crate::installs::audit::check(
        record,
        crate::installs::audit::Depth::Deep,
        2,
        &|_| {},
        cancel,
    )?;
    let (tmp, extracted) = super::archive::extract_checked(
        archive,
        label,
        &record.path,
        executable,
        max_expanded,
        cancel,
    )?;
    let mut replaced = Vec::new();
    for check in checks.iter().filter(|c| !c.status.passed()) {
        let Ok(rel) = check.path.strip_prefix(&record.path) else {
            continue;
        };
        let want = recorded.iter().find(|f| f.path == rel);
        let got = extracted.iter().find(|f| f.path == rel);
        match (want, got) {
            (Some(w), Some(g)) if w == g => {}
            _ => {
                return Err(Error::Integrity(format!(
                    "{label}: its copy of {} does not match the install record {}",
                    rel.display(),
                    record.path.display()
                ))
                .into())
            }
        }
        let from = tmp.path().join(rel);
        let to = record.path.join(rel);
        let dir = crate::atomic::parent_dir(&to);
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        if std::fs::symlink_metadata(&to).is_ok_and(|m| m.is_dir()) {
            std::fs::remove_dir_all(&to)
                .with_context(|| format!("cannot remove {}", to.display()))?;
        }
        if want.is_some_and(|w| w.link.is_none()) {
            // Durable before it replaces the broken file.
            std::fs::File::open(&from)
                .and_then(|f| f.sync_all())
                .with_context(|| format!("cannot sync {}", from.display()))?;
        }
        std::fs::rename(&from, &to)
            .with_context(|| format!("cannot move {} to {}", from.display(), to.display()))?;
        crate::atomic::fsync_dir(dir)?;
        replaced.push(rel.to_path_buf());
    }
    drop(tmp);
    Ok(replaced)
}
