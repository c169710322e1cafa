//! `--stale-exe PATH`: processes still running a replaced copy of the binary at PATH.
//!
//! After an update replaces PATH (by rename, as installs do), processes started from the old
//! file keep running its old inode. On Linux `/proc/PID/exe` then reads `PATH (deleted)`, and
//! stat through it gives the old (device, inode), no longer PATH's. sysinfo strips the
//! ` (deleted)` suffix, so `/proc` is read directly. Processes that cannot be inspected (other
//! users') are skipped; voxctl itself and its ancestors are reported but never targeted.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::process::ProcessIdentity;

/// Why a process counts as running a stale copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Staleness {
    /// Its executable was deleted or replaced (`/proc/PID/exe` ends in ` (deleted)`).
    Deleted,
    /// PATH now is another file (device, inode) than the one it runs.
    Replaced,
}

/// A process running a stale copy of the binary.
#[derive(Debug, Clone, Serialize)]
pub struct StaleProcess {
    /// The process's identity, captured when it was found.
    pub identity: ProcessIdentity,
    /// The executable path as the kernel reports it.
    pub exe: PathBuf,
    /// The (device, inode) it runs.
    pub exe_dev: u64,
    /// The inode it runs.
    pub exe_ino: u64,
    /// Why it is stale.
    pub staleness: Staleness,
    /// Whether it is voxctl itself or one of its ancestors (then it is never signalled).
    pub self_or_ancestor: bool,
    /// Its command line.
    pub cmdline: Option<String>,
}

/// The file identity of PATH now, and the canonical path to compare `/proc/PID/exe` with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentExe {
    /// PATH with its directory canonicalized (the kernel reports canonical paths).
    pub canonical: PathBuf,
    /// PATH's (device, inode) now; `None` if PATH no longer exists.
    pub id: Option<(u64, u64)>,
}

impl CurrentExe {
    /// Resolves `path`. Errors when its directory does not exist.
    pub fn resolve(path: &Path) -> Result<CurrentExe> {
        let name = path
            .file_name()
            .with_context(|| format!("{} names no file", path.display()))?;
        let dir = crate::atomic::parent_dir(path);
        let dir = std::fs::canonicalize(dir)
            .with_context(|| format!("cannot resolve the directory of {}", path.display()))?;
        let mut canonical = dir.join(name);
        // A symlink at PATH: the kernel reports the file it points at.
        if let Ok(real) = std::fs::canonicalize(&canonical) {
            canonical = real;
        }
        let id = crate::platform::process::path_identity(&canonical);
        Ok(CurrentExe { canonical, id })
    }

    /// Whether an executable reported as `exe_path` with identity `id` is a stale copy of
    /// this one; `None` when it is not this binary at all (or is the current copy).
    pub fn staleness(&self, exe_path: &Path, id: (u64, u64)) -> Option<Staleness> {
        let deleted = format!("{} (deleted)", self.canonical.display());
        if exe_path.as_os_str() == deleted.as_str() {
            return Some(Staleness::Deleted);
        }
        if exe_path == self.canonical && self.id != Some(id) {
            return Some(Staleness::Replaced);
        }
        None
    }
}

/// Finds the processes running a stale copy of `path`, in pid order. Linux only: elsewhere
/// (Windows among them) it errors with [`crate::Error::Usage`], since there is no portable
/// way to see a deleted or replaced executable.
pub fn find(path: &Path) -> Result<Vec<StaleProcess>> {
    let current = CurrentExe::resolve(path)?;
    #[cfg(target_os = "linux")]
    {
        use crate::process;
        let ancestry = process::self_and_ancestors();
        let mut found = Vec::new();
        let entries = std::fs::read_dir("/proc").context("cannot list /proc")?;
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<i32>().ok())
            else {
                continue;
            };
            let Some((exe, dev, ino)) = process::exe_identity(pid) else {
                continue; // gone, a kernel thread, or another user's process
            };
            let Some(staleness) = current.staleness(&exe, (dev, ino)) else {
                continue;
            };
            if process::is_zombie(pid) {
                continue;
            }
            let Some(identity) = ProcessIdentity::capture(pid) else {
                continue;
            };
            found.push(StaleProcess {
                identity,
                exe,
                exe_dev: dev,
                exe_ino: ino,
                staleness,
                self_or_ancestor: ancestry.contains(&pid),
                cmdline: process::cmdline(pid),
            });
        }
        found.sort_by_key(|p| p.identity.pid);
        Ok(found)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = current;
        // Windows reports a running process's image path but not the identity of the file it
        // runs, so a copy replaced at the same path cannot be told from the current one.
        Err(crate::Error::Usage(
            "finding the processes that run a replaced executable needs /proc/PID/exe (the file a process runs, even once replaced), \
             which only Linux has; it is not available on this system"
                .into(),
        )
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staleness_table() {
        let cur = CurrentExe {
            canonical: PathBuf::from("/opt/app/server"),
            id: Some((8, 100)),
        };
        let table: &[(&str, (u64, u64), Option<Staleness>)] = &[
            ("/opt/app/server", (8, 100), None),
            (
                "/opt/app/server (deleted)",
                (8, 99),
                Some(Staleness::Deleted),
            ),
            ("/opt/app/server", (8, 99), Some(Staleness::Replaced)),
            ("/opt/app/server", (9, 100), Some(Staleness::Replaced)),
            ("/opt/app/server2", (8, 99), None),
            ("/opt/app/other (deleted)", (8, 99), None),
            ("/usr/bin/sleep", (8, 100), None),
        ];
        for (exe, id, want) in table {
            assert_eq!(cur.staleness(Path::new(exe), *id), *want, "{exe}");
        }
        let gone = CurrentExe {
            id: None,
            ..cur.clone()
        };
        assert_eq!(
            gone.staleness(Path::new("/opt/app/server"), (8, 100)),
            Some(Staleness::Replaced)
        );
    }
}
