#![deny(missing_docs)]
//! voxctl's library: the whole life cycle of a large GPU backend binary, for the `voxctl`
//! command and for an app that embeds it (a Tauri shell, say) with its own progress UI and
//! its own cancel button. The library never prints, never parses command lines and never
//! touches signals; the `voxctl-cli` package (the `voxctl` command) does that, and only that.
//!
//! # Entry points
//!
//! Each takes a settings struct (holding a [`cancel::Cancel`] handle where the operation can
//! last) and, where it has something to report, a callback receiving its domain's typed,
//! serde-serializable `Event` (the `--json` lines of the command are what those events
//! serialize to). Each takes its own slot or lock: callers need not coordinate.
//!
//! | operation | call | slot / lock | events |
//! |---|---|---|---|
//! | download, verify, install (an update takes unchanged chunks from local files: [`fetch::delta`]) | [`fetch::install`], [`fetch::repair`], [`fetch::plan`] (async) | slot `fetch-{asset}`, optionally waiting for and following its holder | [`fetch::Event`] through a [`fetch::Reporter`] |
//! | restart the backend | [`backend::restart::restart`] | slot `restart-{app}` | [`backend::restart::Event`] |
//! | stop / uninstall | [`backend::stop::stop`], [`backend::stop::remove`] | slot `restart-{app}`; `remove` also `fetch-{asset}`, optionally waiting | `remove`: the slot's [`slot::WaitEvent`]s |
//! | clear a wedged instance | [`reap::reap`] | the relaunch marker, consumed once | [`reap::escalate::Event`] |
//! | cut a release | [`split::split`] | none: every output is published by a rename | [`split::Event`] |
//! | chunk index of an existing asset | [`split::write_index`] | none: published by a rename | a progress callback (bytes read) |
//! | check files, sums, manifests | [`verify::check_files`], [`verify::verify_manifest`] | none (reads only) | [`verify::Event`] |
//! | leases | [`lease::acquire`], [`lease::run_command`] (interrupts to forward come from the caller: [`lease::run::Interrupts`]), a [`lease::LeaseStore`] | the store's own lock (`flock`, or an etcd transaction) | [`lease::run::Event`] |
//! | health of the install and host | [`doctor::diagnose`] | none | - |
//! | signatures | [`signature::Keyring`]; signing with `signature::sign::sign_file` (feature `sign`) | - | - |
//!
//! Failures are `anyhow` errors whose chain holds a typed [`Error`] where the cause is one a
//! caller branches on (busy, refused, integrity, interrupted, ...); [`exit::ExitStatus::of`]
//! gives the exit status the command would use. An operation whose [`cancel::Cancel`] is
//! cancelled (from any thread) returns [`Error::Interrupted`] and keeps what an interrupt
//! keeps: a partial download stays for the next fetch to resume. `examples/embed.rs` is a
//! small app doing all of that; `tests/it/embed.rs` runs it.
//!
//! # Embedding
//!
//! - **Runtimes.** [`fetch::install`] (with [`fetch::repair`] and [`fetch::plan`]) is the one
//!   async entry point: run it on the app's tokio
//!   runtime (multi-thread or current-thread; it moves disk writes and hashing to
//!   `spawn_blocking` itself). Every other entry point blocks the calling thread for as long as
//!   the operation lasts (a restart waits for ports and health, a reap for its graces, a lease
//!   for its holder, an etcd store runs its own small runtime inside): from async code call
//!   them through `tokio::task::spawn_blocking`, from a UI, on a worker thread. None needs a
//!   runtime of the caller's.
//! - **Events to a UI.** Every blocking entry point takes one callback of one shape,
//!   `on_event: &(dyn Fn(&E) + Sync)`, where `E` is its domain's event type (a slot wait's is
//!   [`slot::WaitEvent`]; `split::write_index` reports its read pass as `split` does, with
//!   [`split::Event::Read`]). [`fetch::install`] takes the same callback in an `Arc`
//!   ([`fetch::Reporter`]), since its tasks outlive a borrow. Callbacks run on the
//!   operation's own threads and tasks (a fetch calls its reporter from several parts at
//!   once): keep them short and send the event on, through a channel, to the UI thread. Each domain's `Event` is `Clone` and
//!   `serde::Serialize`: `serde_json::to_value(&event)` is what a webview's `emit` takes, in
//!   the same shape as the command's `--json` lines.
//! - **Cancel.** Put a [`cancel::Cancel`] into the settings and call
//!   [`cancel`](cancel::Cancel::cancel) from any thread (a cancel button): the operation
//!   returns [`Error::Interrupted`] promptly and keeps what an interrupt keeps. The library
//!   installs no signal handler: `lease run`'s forwarding takes the caller's
//!   [`lease::run::Interrupts`].
//! - **State.** Open one [`state::StateDir`] at start-up and pass it to every domain:
//!   [`fetch::Settings::new`], [`backend::restart::restart`], [`backend::stop::stop`] and
//!   `remove` take it, [`lease::file::FileStore::new`] keeps its leases there, and the relaunch
//!   marker a reap consumes is [`state::StateDir::relaunch_marker`]. [`doctor::Inputs`] takes
//!   its path ([`state::StateDir::root`]), since the state dir is one of the things doctor
//!   diagnoses.
//! - **Errors.** [`Error::find`] gives the typed cause to branch on; [`exit::ExitStatus::of`]
//!   the exit status the command would use; [`error::remedy_of`] the typed next step
//!   ([`error::Remedy`]: wait, repair, free space, ...), which names no flag of the command
//!   line, so an app words it in its own terms (or offers a button). [`error::Report::of`]
//!   gives all three as one serializable value, `{"code", "kind", "message", "remedy"}`, for
//!   a UI or a log, with no `anyhow` downcasting.
//! - **Growth.** Each domain's `Event`, the fetch and `lease run` outcomes, [`Error`],
//!   [`error::Remedy`] and
//!   [`slot::WaitEvent`] are `#[non_exhaustive]`: a later version may add variants, so a match
//!   on them needs a wildcard arm (an event nobody shows can be ignored). Every domain's
//!   settings are `#[non_exhaustive]` too, with public fields: a constructor fills them with
//!   the command's defaults from what has none ([`fetch::Settings::new`],
//!   [`backend::restart::Settings::new`], [`backend::stop::Settings::new`] and
//!   [`backend::stop::RemoveSettings::new`], [`split::Settings::new`],
//!   [`reap::Settings::new`], [`lease::Acquire::new`], [`doctor::Inputs::new`];
//!   [`verify::Settings`] is `Default`), then fields are set one by one.
//! - **Names.** A domain's entry point is named for what it does, as the command is: fetch's
//!   [`fetch::install`], [`fetch::repair`] and [`fetch::plan`], [`backend::restart::restart`],
//!   [`backend::stop::stop`] and `remove`, [`split::split`], [`verify::check_files`],
//!   [`reap::reap`], [`lease::acquire`] and [`lease::run_command`] (`lease run`),
//!   [`doctor::diagnose`]. Each takes its settings, then `on_event`, and returns its
//!   outcome.
//! - **Examples.** `examples/embed.rs` (a fetch with progress, a cancelled fetch, a restart)
//!   and `examples/updater.rs` (an app's updater: check, download and install with events sent
//!   to a UI thread, the relaunch marker, the relaunched app reaping a wedged instance and
//!   restarting the backend) use this crate's public API only; the repository's tests run
//!   both.
//!
//! # Layers
//!
//! 1. **Operations** (the table above): `fetch`, `backend` (the running process: restart,
//!    stop, health, port), `reap`, `split`, `verify`, `lease`, `doctor`.
//! 2. **Shared mechanisms**: [`slot`] (the `flock` slot table that keeps separate invocations
//!    from racing), [`process`] (pid + start time identity, pidfd signalling), [`atomic`]
//!    (temp file, fsync, rename), [`cancel`]; and, inside the crate, `digest` (one read pass
//!    feeding several hashers and writers), `checked_open` (state files opened without
//!    following links, with size caps) and `platform` (the one place that differs between
//!    Unix and Windows).
//! 3. **Formats and state**: [`manifest`], [`checksum`], [`chunks`] (the chunk index of a
//!    release, and the FastCDC chunker), [`installs`] (what is installed:
//!    the backends dir and install records), [`marker`], [`state`], [`variant`], [`gpu`],
//!    [`signature`], [`exit`].
//!
//! See ARCHITECTURE.md for the module map and docs/contract.md for the contract (terms,
//! layouts, state dir, exit codes, output, invariants).

pub mod atomic;
pub mod backend;
pub mod cancel;
pub(crate) mod checked_open;
pub mod checksum;
pub mod chunks;
pub(crate) mod digest;
pub mod doctor;
pub mod duration;
pub mod error;
pub mod exit;
pub mod fetch;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod gpu;
pub mod installs;
pub mod lease;
pub mod manifest;
pub mod marker;
pub mod name;
pub(crate) mod platform;
pub mod process;
pub mod reap;
pub mod signature;
pub mod size;
pub mod slot;
pub mod split;
pub mod state;
pub mod status;
// Crash checkpoints: public (for the command's integration tests) only with the `testhook`
// feature; without it the checkpoints compile to nothing.
#[cfg(feature = "testhook")]
#[doc(hidden)]
pub mod testhook;
#[cfg(not(feature = "testhook"))]
mod testhook;
pub(crate) mod timestamp;
pub mod variant;
pub mod verify;

pub use error::Error;
