//! The document `voxctl status --json` prints: what voxctl knows right now (held slots, the
//! installed variants and partial downloads of one data dir, the recorded backend observed
//! now, the leases).
//!
//! [`Status`] serializes to that document and reads it back. Its slot, partial-download and
//! lease rows are type parameters defaulting to the library's types ([`HeldSlot`],
//! [`PartialInfo`], [`LeaseInfo`]); those serialize but do not deserialize yet, so a reader
//! names a type that does, such as `serde_json::Value`, for them:
//! `Status<serde_json::Value, serde_json::Value, serde_json::Value>`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::backend::observe::Observed;
use crate::fetch::partial::PartialInfo;
use crate::installs::InstallRecord;
use crate::lease::LeaseInfo;
use crate::slot::HeldSlot;

/// `voxctl status --json`, in this order: `slots`, `data_dir`, `data_dir_exists`,
/// `installed`, `partial`, `backend`, `leases`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status<Slot = HeldSlot, Partial = PartialInfo, Lease = LeaseInfo> {
    /// The slots held right now.
    pub slots: Vec<Slot>,
    /// The data dir whose `backends/` is listed (absolute).
    pub data_dir: PathBuf,
    /// Whether it exists; when it does not, `installed` and `partial` are empty.
    pub data_dir_exists: bool,
    /// Installed variants of the app (install records in `{data_dir}/backends/`), without
    /// an archive's file list (`files` is left out: `verify --installed` checks those).
    pub installed: Vec<InstallRecord>,
    /// Partial downloads kept for resume (`{data_dir}/backends/.partial/`).
    pub partial: Vec<Partial>,
    /// The backend in `backend.json`, observed now; `null` when there is none.
    pub backend: Option<Observed>,
    /// The leases in the state dir's file store.
    pub leases: Vec<Lease>,
}
