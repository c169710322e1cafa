#![deny(missing_docs)]
//! voxctl's library: release formats, digests, the slot table, process identity, and the
//! state every subcommand shares. The library never prints and never parses command lines;
//! `src/main.rs` and `src/commands/` do that. See ARCHITECTURE.md for the module map.

pub mod atomic;
pub mod backend;
pub mod cancel;
pub mod checked_open;
pub mod checksum;
pub mod digest;
pub mod doctor;
pub mod duration;
pub mod error;
pub mod exit;
pub mod fetch;
pub mod gpu;
pub mod installs;
pub mod lease;
pub mod manifest;
pub mod marker;
pub mod name;
pub mod process;
pub mod reap;
pub mod signature;
pub mod size;
pub mod slot;
pub mod split;
pub mod state;
pub mod status;
pub mod testhook;
pub mod timestamp;
pub mod variant;
pub mod verify;

pub use error::Error;
