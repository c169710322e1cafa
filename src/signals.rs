//! The one place the binary connects SIGINT and SIGTERM to cancellation: the first signal
//! cancels the process's [`Cancel`] handle (which every command puts into its operation's
//! settings), so the operation stops promptly, keeps what must be kept (partial downloads)
//! and the command exits 130; a second signal terminates at once with 128+N.
//!
//! `lease run` does not install these: it forwards signals to its command instead, through
//! [`Forwarded`] (the library's `lease::run::Interrupts`, which installs no handler itself).

#[cfg(unix)]
mod unix;
#[cfg(windows)]
mod windows;
#[cfg(unix)]
pub use unix::Forwarded;
#[cfg(windows)]
pub use windows::Forwarded;

use std::sync::OnceLock;

use voxctl::cancel::Cancel;

static CANCEL: OnceLock<Cancel> = OnceLock::new();

/// The process's cancellation handle (the same one every call).
pub fn cancel() -> Cancel {
    CANCEL.get_or_init(Cancel::new).clone()
}

/// The signals that cancel: SIGINT and SIGTERM; on Windows also SIGBREAK (Ctrl-Break, which
/// the C runtime reports apart from Ctrl-C's SIGINT).
#[cfg(unix)]
const CANCELLING: [i32; 2] = [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM];
#[cfg(windows)]
const CANCELLING: [i32; 3] = [
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGBREAK,
];

/// Connects SIGINT and SIGTERM (and Ctrl-Break on Windows) to [`cancel`]'s handle. Called
/// once by `main`.
pub fn install() -> std::io::Result<()> {
    let flag = cancel().flag();
    for sig in CANCELLING {
        // A second signal while the flag is already set exits at once with 128+N.
        signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, flag.clone())?;
        signal_hook::flag::register(sig, flag.clone())?;
    }
    Ok(())
}

/// Whether the process was cancelled (a signal came): the command then exits 130 whatever
/// error the interrupted step reported.
pub fn received() -> bool {
    cancel().is_cancelled()
}
