//! The relaunch marker (`relaunch-marker.json` in the state dir): evidence, written by the
//! updater (`voxctl reap mark`) or by `voxctl restart` just before a relaunch, that a given
//! process instance is the one being replaced. `voxctl reap` consumes it exactly once.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::process::{self, ProcessIdentity};

/// What the marker records about the instance being replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelaunchMarker {
    /// The instance's pid, start time, boot id and host.
    #[serde(flatten)]
    pub identity: ProcessIdentity,
    /// The instance's executable path, as the kernel reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe: Option<PathBuf>,
    /// The executable's device number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe_dev: Option<u64>,
    /// The executable's inode number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe_ino: Option<u64>,
    /// When the marker was written, in milliseconds since the Unix epoch; in JSON an RFC 3339
    /// UTC string `written_at` (markers of older voxctl versions, an integer `written_ms`,
    /// still load).
    #[serde(
        rename = "written_at",
        alias = "written_ms",
        with = "crate::timestamp::millis"
    )]
    pub written_ms: u64,
}

impl RelaunchMarker {
    /// Captures the marker for live process `pid`. Errors when the process does not exist.
    pub fn capture(pid: i32) -> Result<RelaunchMarker> {
        let identity = ProcessIdentity::capture(pid)
            .with_context(|| format!("no running process with pid {pid}"))?;
        let exe = process::exe_identity(pid);
        Ok(RelaunchMarker {
            identity,
            exe: exe.as_ref().map(|e| e.0.clone()),
            exe_dev: exe.as_ref().map(|e| e.1),
            exe_ino: exe.as_ref().map(|e| e.2),
            written_ms: now_ms(),
        })
    }

    /// Writes the marker atomically to `path`.
    pub fn write(&self, path: &Path) -> Result<()> {
        crate::atomic::write_json_atomic(path, self)
    }

    /// `voxctl reap mark`: captures live process `pid` and writes its marker atomically to
    /// `path` (a later marker replaces an earlier one); returns what was written. Errors: no
    /// such process; the write failed (naming `path`).
    ///
    /// ```no_run
    /// let path = voxctl::state::StateDir::open(None)?.relaunch_marker();
    /// let marker = voxctl::marker::RelaunchMarker::mark(4242, &path)?;
    /// println!("marked {:?}", marker.exe);
    /// # anyhow::Ok(())
    /// ```
    pub fn mark(pid: i32, path: &Path) -> Result<RelaunchMarker> {
        let marker = RelaunchMarker::capture(pid)?;
        marker
            .write(path)
            .with_context(|| format!("cannot write the relaunch marker {}", path.display()))?;
        Ok(marker)
    }

    /// Reads the marker at `path` without consuming it; `Ok(None)` when there is none. It is
    /// opened without following symlinks and checked on the handle
    /// (`crate::checked_open::read_record`: a symlink, FIFO or foreign file is
    /// [`crate::Error::Refused`], exit 5) and read up to `crate::checked_open::RECORD_CAP`
    /// bytes (more fails, exit 1).
    pub fn peek(path: &Path) -> Result<Option<RelaunchMarker>> {
        match crate::checked_open::read_record(path)? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .with_context(|| format!("malformed relaunch marker {}", path.display())),
            None => Ok(None),
        }
    }

    /// Consumes the marker at `path`: exactly one of any number of concurrent callers gets
    /// it (the one whose `rename(2)` to a private name succeeds); the others get `Ok(None)`.
    pub fn take(path: &Path) -> Result<Option<RelaunchMarker>> {
        let claimed = path.with_file_name(format!(
            ".{}.taken-{}",
            path.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("marker"),
            std::process::id()
        ));
        match std::fs::rename(path, &claimed) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(
                    anyhow::Error::from(e).context(format!("cannot consume {}", path.display()))
                )
            }
        }
        let marker = Self::peek(&claimed);
        let _ = std::fs::remove_file(&claimed);
        marker
    }

    /// The marker's age in milliseconds (0 if written in the future).
    pub fn age_ms(&self) -> u64 {
        now_ms().saturating_sub(self.written_ms)
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumed_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("relaunch-marker.json");
        let m = RelaunchMarker::capture(std::process::id() as i32).unwrap();
        m.write(&path).unwrap();
        assert_eq!(RelaunchMarker::peek(&path).unwrap().as_ref(), Some(&m));
        assert_eq!(RelaunchMarker::take(&path).unwrap(), Some(m));
        assert_eq!(RelaunchMarker::take(&path).unwrap(), None);
    }
}
