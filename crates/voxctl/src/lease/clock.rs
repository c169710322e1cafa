//! The clocks leases are judged on.
//!
//! Expiry uses a clock that the wall clock's jumps do not move: `CLOCK_BOOTTIME` on Linux
//! (monotonic, and it keeps counting during suspend, so a lease does not outlive a laptop's
//! sleep), `GetTickCount64` on Windows (the same, in milliseconds), `CLOCK_MONOTONIC`
//! elsewhere. Such a clock restarts at every boot, so each record
//! also carries the boot id ([`crate::process::boot_id`]): a record of another boot is
//! expired. The wall clock is read only for fencing tokens (see [`super::next_token`]) and
//! for display.
//!
//! Test hooks, compiled in only with the `testhook` feature (which only the command's
//! integration tests enable):
//! `VOXCTL_TEST_WALL_SHIFT_MS` adds that many (signed) milliseconds to the wall clock, and
//! `VOXCTL_TEST_BOOT_ID` replaces the boot id, so integration tests can fake a wall-clock
//! jump and a reboot.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};

/// One reading of the clocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Now {
    /// The boot-time clock, in milliseconds since boot.
    pub boot_ms: u64,
    /// The wall clock, in microseconds since the Unix epoch.
    pub wall_us: u64,
    /// The current boot's id.
    pub boot_id: String,
}

/// Reads the clocks. The boot id is read once per process and cached.
pub fn now() -> Result<Now> {
    Ok(Now {
        boot_ms: boot_ms()?,
        wall_us: wall_us(),
        boot_id: boot_id()?,
    })
}

fn boot_ms() -> Result<u64> {
    Ok(boot_time()?.as_millis() as u64)
}

/// The boot-time clock: `CLOCK_BOOTTIME` on Linux (counts suspend, as etcd's TTLs do),
/// `GetTickCount64` on Windows (counts suspend too), `CLOCK_MONOTONIC` elsewhere
/// (`crate::platform::process::boot_clock`). Errors only if the clock cannot be read.
pub fn boot_time() -> Result<Duration> {
    crate::platform::process::boot_clock().context("cannot read the boot-time clock")
}

fn wall_us() -> u64 {
    let real = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0);
    real.saturating_add_signed(test_wall_shift_ms().saturating_mul(1000))
}

#[cfg(feature = "testhook")]
fn test_wall_shift_ms() -> i64 {
    std::env::var("VOXCTL_TEST_WALL_SHIFT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[cfg(not(feature = "testhook"))]
fn test_wall_shift_ms() -> i64 {
    0
}

fn boot_id() -> Result<String> {
    static ID: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let id = ID.get_or_init(|| {
        #[cfg(feature = "testhook")]
        if let Ok(fake) = std::env::var("VOXCTL_TEST_BOOT_ID") {
            return Some(fake);
        }
        crate::process::boot_id()
    });
    id.clone()
        .context("cannot read the boot id (/proc/sys/kernel/random/boot_id)")
}

/// Formats milliseconds since the epoch as RFC 3339 UTC with milliseconds, saturating at
/// 9999-12-31T23:59:59.999Z (`crate::timestamp::format_millis`).
pub fn rfc3339_ms(wall_ms: u64) -> String {
    crate::timestamp::format_millis(wall_ms)
}
