//! Crash checkpoints for the integration tests, honoured only in debug builds (never in a
//! release binary), in the style of rustup's crash tests.
//!
//! Code that must stay consistent when killed at any moment calls [`checkpoint`] at its named
//! steps (`split:published:NAME`, ...; each caller documents its steps). When the
//! environment variable `VOXCTL_TEST_CHECKPOINT` names the step being reached, the process
//! sends itself `SIGKILL` there (Windows: `TerminateProcess`): no destructor, no cleanup,
//! exactly what a killed process leaves. With `VOXCTL_TEST_CHECKPOINT_ACTION=stop` it sends
//! itself `SIGSTOP` instead (Windows: suspends its threads), so a test can look at (or race
//! against) a live process frozen at that step, then kill or continue it
//! ([`crate::platform::process::kill_self`], [`crate::platform::process::freeze_self`]).

/// The environment variable that names the step at which to stop or die.
pub const CHECKPOINT_ENV: &str = "VOXCTL_TEST_CHECKPOINT";

/// The environment variable that chooses what happens at the step: `kill` (the default,
/// `SIGKILL`) or `stop` (`SIGSTOP`).
pub const CHECKPOINT_ACTION_ENV: &str = "VOXCTL_TEST_CHECKPOINT_ACTION";

/// Marks the named step. In a debug build whose `VOXCTL_TEST_CHECKPOINT` equals `step`, the
/// process kills (or stops) itself here; otherwise, and always in release builds, nothing
/// happens.
#[cfg(debug_assertions)]
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

/// Marks the named step; release builds ignore checkpoints.
#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn checkpoint(_step: &str) {}
