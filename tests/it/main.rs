//! voxctl's integration tests, one binary (one link): a module per area, `support/` holds
//! the shared fixtures (releases, HTTP servers, nginx, etcd, spawned processes).
//!
//! Run them with `cargo nextest run` (README's test command). A test's name is
//! `AREA::NAME`, e.g. `fetch::resume_after_sigkill...`; filter an area with
//! `cargo nextest run -E 'test(/^fetch::/)'`.
//!
//! The same binary is the Windows suite (cross-built and run under Wine by
//! scripts/windows-test.sh). Areas and tests that cannot run on Windows are compiled only on
//! Unix (`#[cfg(unix)]`); docs/windows-tests.md lists each one with the reason.

mod support;

mod chunk_pins;
mod ci_config;
mod cli;
mod delta;
mod delta_pins;
mod docs;
mod embed;
mod fetch;
mod fetch_fail_fast;
mod fetch_library;
mod fetch_nginx;
mod fetch_remove;
mod fleet;
mod hostile;
mod index;
mod json_shapes;
mod sign;
mod sign_limits;
mod slots;
mod split;
mod stop_remove;
mod update_flow;
mod verify;

// Windows-only areas.
#[cfg(windows)]
mod lease_windows;
#[cfg(windows)]
mod reap_windows;
#[cfg(windows)]
mod restart_windows;

// Unix-only areas (docs/windows-tests.md says why for each).
#[cfg(unix)]
mod archive_pins;
#[cfg(unix)]
mod crate_boundary;
#[cfg(unix)]
mod delta_large;
#[cfg(unix)]
mod doctor_pins;
#[cfg(unix)]
mod examples;
#[cfg(unix)]
mod fetch_process;
#[cfg(unix)]
mod fetch_pyinstaller;
#[cfg(unix)]
mod generated;
#[cfg(unix)]
mod gpu_pins;
#[cfg(unix)]
mod health;
#[cfg(unix)]
mod lease;
#[cfg(unix)]
mod lease_abandoned;
#[cfg(unix)]
mod lease_etcd;
#[cfg(unix)]
mod lease_etcd_races;
#[cfg(unix)]
mod output_contract;
#[cfg(unix)]
mod published;
#[cfg(unix)]
mod reap;
#[cfg(unix)]
mod restart;
#[cfg(unix)]
mod snapshots;
#[cfg(unix)]
mod updater;
