//! SIGINT/SIGTERM handling: the first signal sets a flag that long operations poll, so they
//! stop promptly, keep what must be kept (partial downloads) and exit 130; a second signal
//! terminates at once.

use std::sync::{mpsc, OnceLock};
use std::time::{Duration, Instant};

use crate::cancel::Cancel;
use crate::Error;

static CANCEL: OnceLock<Cancel> = OnceLock::new();

/// The process-global handle that [`install`]'s handlers cancel: for library code not yet
/// given a [`Cancel`] of its own by its caller (it goes with this module).
pub fn cancel() -> Cancel {
    CANCEL.get_or_init(Cancel::new).clone()
}

/// Installs the handlers (idempotent). Called once by the binary at start-up.
pub fn install() -> std::io::Result<()> {
    let flag = cancel().flag();
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // A second signal while the flag is already set exits at once with 128+N.
        signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, flag.clone())?;
        signal_hook::flag::register(sig, flag.clone())?;
    }
    Ok(())
}

/// Whether SIGINT or SIGTERM has been received since [`install`].
pub fn requested() -> bool {
    CANCEL.get().is_some_and(Cancel::is_cancelled)
}

/// `Err(Error::Interrupted)` once a signal has been received; call it in long loops.
pub fn check() -> Result<(), Error> {
    if requested() {
        Err(Error::Interrupted)
    } else {
        Ok(())
    }
}

/// Receives from `rx` within `timeout`, looking for SIGINT/SIGTERM every 100 ms: `Ok(Some(v))`
/// when a value came, `Ok(None)` when `timeout` passed (or every sender is gone), and
/// `Err(Error::Interrupted)` once a signal has been received.
pub fn recv_timeout<T>(rx: &mpsc::Receiver<T>, timeout: Duration) -> Result<Option<T>, Error> {
    let deadline = Instant::now() + timeout;
    loop {
        check()?;
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left.min(Duration::from_millis(100))) {
            Ok(v) => return Ok(Some(v)),
            Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
            Err(_) => return Ok(None),
        }
    }
}
