//! The document `voxctl status --json` prints: what voxctl knows right now (held slots, the
//! installed variants and partial downloads of one data dir, the recorded backend observed
//! now, the leases).
//!
//! [`Status`] serializes to that document and reads it back.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::backend::observe::Observed;
use crate::exit::ExitStatus;
use crate::fetch::partial::PartialInfo;
use crate::installs::InstallRecord;
use crate::lease::LeaseInfo;
use crate::slot::HeldSlot;

/// `voxctl status --json`, in this order: `slots`, `data_dir`, `data_dir_exists`,
/// `installed`, `partial`, `backend`, `leases`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The slots held right now.
    pub slots: Vec<HeldSlot>,
    /// The data dir whose `backends/` is listed (absolute).
    pub data_dir: PathBuf,
    /// Whether it exists; when it does not, `installed` and `partial` are empty.
    pub data_dir_exists: bool,
    /// Installed variants of the app (install records in `{data_dir}/backends/`), without
    /// an archive's file list (`files` is left out: `verify --installed` checks those).
    pub installed: Vec<InstallRecord>,
    /// Partial downloads kept for resume (`{data_dir}/backends/.partial/`).
    pub partial: Vec<PartialInfo>,
    /// The backend in `backend.json`, observed now; `null` when there is none.
    pub backend: Option<Observed>,
    /// The leases in the state dir's file store.
    pub leases: Vec<LeaseInfo>,
}

impl Status {
    /// How `status` exits: [`ExitStatus::NotRunning`] (3) when a backend is recorded and its
    /// process is not running, as `systemctl status` exits 3 for an inactive unit; else
    /// success (also with no backend recorded: nothing claims to run, and the other sections
    /// are the answer).
    pub fn exit_status(&self) -> ExitStatus {
        match &self.backend {
            Some(b) if !b.running => ExitStatus::NotRunning,
            _ => ExitStatus::Success,
        }
    }
}
