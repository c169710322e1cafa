//! voxctl's integration tests, one binary (one link): a module per area, `support/` holds
//! the shared fixtures (releases, HTTP servers, nginx, etcd, spawned processes).
//!
//! Run them with `cargo nextest run` (README's test command). A test's name is
//! `AREA::NAME`, e.g. `fetch::resume_after_sigkill...`; filter an area with
//! `cargo nextest run -E 'test(/^fetch::/)'`.

mod support;

mod archive_pins;
mod chunk_pins;
mod ci_config;
mod cli;
mod delta;
mod delta_large;
mod delta_pins;
mod docs;
mod doctor_pins;
mod embed;
mod examples;
mod fetch;
mod fetch_fail_fast;
mod fetch_library;
mod fetch_nginx;
mod fetch_process;
mod fetch_pyinstaller;
mod fetch_remove;
mod fleet;
mod generated;
mod gpu_pins;
mod health;
mod hostile;
mod index;
mod json_shapes;
mod lease;
mod lease_abandoned;
mod lease_etcd;
mod lease_etcd_races;
mod output_contract;
mod published;
mod reap;
mod restart;
mod sign;
mod sign_limits;
mod slots;
mod split;
mod stop_remove;
mod update_flow;
mod verify;
