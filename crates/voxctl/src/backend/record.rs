//! `backend.json` in the state dir: which backend voxctl started last, so that `restart` can
//! stop exactly that process (validated by pid, start time, boot and host: a recycled pid is
//! never signalled) and `status` can show it, and so that a later restart (and a rollback)
//! keeps the configuration it runs with (port, health URL, extra arguments). Written
//! atomically (docs/contract.md, invariant 1).
//!
//! The format only grows: every field added after the first version is optional, so a record
//! written by an older voxctl is still read (`old_records_are_read` below).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::process::ProcessIdentity;
use crate::variant::Variant;

/// The running backend, as recorded when voxctl started it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackendRecord {
    /// The process id of the backend (the leader of its own session and process group).
    pub pid: i32,
    /// The process start time (see [`ProcessIdentity::start_time`]).
    pub start_time: u64,
    /// The boot id at start.
    #[serde(default)]
    pub boot_id: Option<String>,
    /// The host name at start.
    #[serde(default)]
    pub host: Option<String>,
    /// The variant started.
    pub variant: Variant,
    /// The binary started.
    pub binary: PathBuf,
    /// The version `BIN --version` reported, if it was checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The TCP port it serves on.
    pub port: u16,
    /// The health URL that answered 200 when it became ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_url: Option<String>,
    /// The data dir passed as `--data-dir`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// The extra arguments passed after `--data-dir D --port P` (kept for a rollback).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// The log file its stdout and stderr are appended to.
    pub log: PathBuf,
    /// When it was started, in milliseconds since the Unix epoch.
    ///
    /// In JSON an RFC 3339 UTC string with milliseconds; integers written by older versions
    /// are read too.
    #[serde(with = "crate::timestamp::millis")]
    pub started_at: u64,
    /// How long it took from its start to its first healthy answer, in milliseconds; `None`
    /// until it answered (and in records of versions that did not keep it). A rollback to
    /// this backend waits for it at least this long
    /// ([`crate::backend::restart::rollback_ready_timeout`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_ms: Option<u64>,
}

impl BackendRecord {
    /// The identity to revalidate before signalling.
    pub fn identity(&self) -> ProcessIdentity {
        ProcessIdentity {
            pid: self.pid,
            start_time: self.start_time,
            boot_id: self.boot_id.clone(),
            host: self.host.clone(),
        }
    }

    /// Whether this very process is still running (a recycled pid does not count).
    pub fn is_alive(&self) -> bool {
        self.identity().is_alive() && !crate::process::is_zombie(self.pid)
    }

    /// Reads the record at `path`; `Ok(None)` when there is none. It is opened without
    /// following symlinks and checked on the handle (`crate::checked_open::read_record`: a
    /// symlink, FIFO or foreign file is [`crate::Error::Refused`], exit 5) and read up to
    /// `crate::checked_open::RECORD_CAP` bytes (more fails, exit 1).
    pub fn read(path: &Path) -> Result<Option<BackendRecord>> {
        match crate::checked_open::read_record(path)? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .with_context(|| format!("malformed backend record {}", path.display())),
            None => Ok(None),
        }
    }

    /// Writes the record to `path` atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        crate::atomic::write_json_atomic(path, self)
    }

    /// Removes the record at `path` (no error if it is already gone), then fsyncs the dir.
    pub fn remove(path: &Path) -> Result<()> {
        match std::fs::remove_file(path) {
            Ok(()) => crate::atomic::fsync_dir(crate::atomic::parent_dir(path)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => {
                Err(anyhow::Error::from(e).context(format!("cannot remove {}", path.display())))
            }
        }
    }
}

/// Milliseconds since the Unix epoch (0 if the clock is before 1970).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record of the first format (no boot, host, version, health URL, data dir, arguments
    /// or start-up time; `started_at` an integer) is read, and the optional fields it lacks
    /// are written only once known.
    #[test]
    fn old_records_are_read() {
        let old = r#"{"pid": 4242, "start_time": 91577, "variant": "cpu",
            "binary": "/d/backends/voicebox-server-cpu", "port": 18950,
            "log": "/s/logs/voicebox-server-cpu.log", "started_at": 1700000000000}"#;
        let r: BackendRecord = serde_json::from_str(old).unwrap();
        assert_eq!((r.pid, r.port, r.variant), (4242, 18950, Variant::Cpu));
        assert_eq!(
            (&r.health_url, &r.data_dir, r.ready_ms),
            (&None, &None, None)
        );
        assert!(r.args.is_empty());
        let again = serde_json::to_value(&r).unwrap();
        for absent in ["version", "health_url", "data_dir", "args", "ready_ms"] {
            assert!(again.get(absent).is_none(), "{absent}: {again}");
        }
    }
}
