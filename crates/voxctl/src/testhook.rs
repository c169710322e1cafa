//! Crash checkpoints for the integration tests, compiled in only with the `testhook` cargo
//! feature (which only the command's integration tests enable: never a shipped build, nor an
//! app that embeds the library), in the style of rustup's crash tests.
//!
//! Code that must stay consistent when killed at any moment calls [`checkpoint`] at its named
//! steps (`split:published:NAME`, ...; each caller documents its steps). When the
//! environment variable `VOXCTL_TEST_CHECKPOINT` names the step being reached, the process
//! sends itself `SIGKILL` there (Windows: `TerminateProcess`): no destructor, no cleanup,
//! exactly what a killed process leaves. With `VOXCTL_TEST_CHECKPOINT_ACTION=stop` it sends
//! itself `SIGSTOP` instead (Windows: suspends its threads), so a test can look at (or race
//! against) a live process frozen at that step, then kill or continue it
//! ([`crate::platform::process::kill_self`], [`crate::platform::process::freeze_self`]).

/// Whether another process holds `path` open without sharing it (Windows; see the platform
/// layer), for the tests of a Chromium-style `lockfile`.
#[cfg(feature = "testhook")]
pub use crate::platform::held_without_sharing;

/// The environment variable that names the step at which to stop or die.
#[cfg(feature = "testhook")]
pub const CHECKPOINT_ENV: &str = "VOXCTL_TEST_CHECKPOINT";

/// The environment variable that chooses what happens at the step: `kill` (the default,
/// `SIGKILL`) or `stop` (`SIGSTOP`).
#[cfg(feature = "testhook")]
pub const CHECKPOINT_ACTION_ENV: &str = "VOXCTL_TEST_CHECKPOINT_ACTION";

/// Marks the named step. When `VOXCTL_TEST_CHECKPOINT` equals `step`, the process kills (or
/// stops) itself here; otherwise nothing happens.
#[cfg(feature = "testhook")]
pub fn checkpoint(step: &str) {
    use crate::platform::process::{freeze_self, kill_self};
    if std::env::var_os(CHECKPOINT_ENV).is_some_and(|want| want == step) {
        let stop = std::env::var_os(CHECKPOINT_ACTION_ENV).is_some_and(|a| a == "stop");
        if stop {
            freeze_self()
        } else {
            kill_self()
        }
    }
}

/// Marks the named step; without the `testhook` feature checkpoints do nothing.
#[cfg(not(feature = "testhook"))]
#[inline(always)]
pub fn checkpoint(_step: &str) {}
