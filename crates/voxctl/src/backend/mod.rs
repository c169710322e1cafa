//! Backend control: the running backend's record (`backend.json`), starting a backend
//! detached, stopping it safely (docs/contract.md, invariant 5), watching its port and its health
//! URL, choosing which installed binary to run, and the restart that ties these together.
//!
//! Everything here polls (every few milliseconds) instead of sleeping for fixed times, so a
//! swap costs the old backend's shutdown plus the new one's start-up and little else.

pub mod control;
pub mod health;
pub mod observe;
pub(crate) mod port;
pub mod record;
pub mod restart;
pub mod select;
pub mod stop;

pub use record::BackendRecord;

/// The reference app's backend port.
pub const DEFAULT_PORT: u16 = 17493;

/// How often ports and health URLs are polled while waiting.
pub const POLL_INTERVAL: std::time::Duration = std::time::Duration::from_millis(5);
