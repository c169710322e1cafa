//! Cancellation: one [`Cancel`] handle per operation, passed in with its settings.
//!
//! The caller keeps a clone and calls [`Cancel::cancel`] (from any thread: an app's cancel
//! button, a timeout of its own); the voxctl binary connects SIGINT and SIGTERM to the handle
//! it passes in, in one place (`src/main.rs`). Library code never looks at signals or at any
//! process-global flag: its long loops call [`Cancel::check`], its waits go through
//! [`Cancel::sleep`], [`Cancel::recv_timeout`] or [`Cancel::cancelled`], so a cancel ends them
//! within [`Cancel::POLL`]. A cancelled operation stops taking steps, keeps what it keeps on an
//! interrupt (a partial download stays for resume) and returns [`Error::Interrupted`] (the
//! binary's exit 130).
//!
//! ```
//! use std::time::Duration;
//! use voxctl::cancel::Cancel;
//!
//! let cancel = Cancel::new();
//! let other = cancel.clone();
//! std::thread::spawn(move || other.cancel());
//! // A wait that would last an hour ends as soon as the other thread cancels.
//! let outcome = cancel.sleep(Duration::from_secs(3600));
//! assert!(matches!(outcome, Err(voxctl::Error::Interrupted)));
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::Error;

/// A cancellation handle: cheap to clone, every clone cancels and sees the same operation.
///
/// Cancelling is sticky (there is no reset) and idempotent. A handle built with
/// [`Cancel::new`] is never cancelled unless someone calls [`cancel`](Cancel::cancel) (or, for
/// the binary's handle, a signal sets its [`flag`](Cancel::flag)).
#[derive(Clone, Default)]
pub struct Cancel {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    flag: Arc<AtomicBool>,
    lock: Mutex<()>,
    wake: Condvar,
}

impl std::fmt::Debug for Cancel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cancel")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

impl Cancel {
    /// How late a wait notices a cancel that came through the [`flag`](Cancel::flag) alone (a
    /// signal handler cannot wake a condition variable): 100 ms. A [`cancel`](Cancel::cancel)
    /// call wakes blocking waits at once.
    pub const POLL: Duration = Duration::from_millis(100);

    /// A handle that is not cancelled.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Cancels the operation(s) holding this handle and wakes their waits.
    pub fn cancel(&self) {
        self.inner.flag.store(true, Ordering::SeqCst);
        let _held = self.inner.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.inner.wake.notify_all();
    }

    /// Whether [`cancel`](Cancel::cancel) was called (or the flag set).
    pub fn is_cancelled(&self) -> bool {
        self.inner.flag.load(Ordering::SeqCst)
    }

    /// `Err(Error::Interrupted)` once cancelled; long loops call it between steps.
    pub fn check(&self) -> Result<(), Error> {
        if self.is_cancelled() {
            Err(Error::Interrupted)
        } else {
            Ok(())
        }
    }

    /// The flag behind the handle, for code that can only set an `AtomicBool`: a signal
    /// handler (`signal_hook::flag::register`). Setting it cancels like
    /// [`cancel`](Cancel::cancel), except that blocked waits notice within [`Cancel::POLL`].
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.inner.flag.clone()
    }

    /// Sleeps for `duration` unless cancelled first: `Ok(())` after the full duration,
    /// `Err(Error::Interrupted)` as soon as the handle is cancelled (at once if it already is).
    pub fn sleep(&self, duration: Duration) -> Result<(), Error> {
        let deadline = crate::duration::deadline(duration);
        let mut held = self.inner.lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            self.check()?;
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            held = self
                .inner
                .wake
                .wait_timeout(held, left.min(Self::POLL))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Receives from `rx` within `timeout` unless cancelled: `Ok(Some(v))` when a value came,
    /// `Ok(None)` when `timeout` passed (or every sender is gone), `Err(Error::Interrupted)`
    /// once cancelled (noticed within [`Cancel::POLL`]).
    pub fn recv_timeout<T>(
        &self,
        rx: &mpsc::Receiver<T>,
        timeout: Duration,
    ) -> Result<Option<T>, Error> {
        let deadline = crate::duration::deadline(timeout);
        loop {
            self.check()?;
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left.min(Self::POLL)) {
                Ok(v) => return Ok(Some(v)),
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
                Err(_) => return Ok(None),
            }
        }
    }

    /// Completes once the handle is cancelled (checked every [`Cancel::POLL`]); for
    /// `tokio::select!` beside an operation's future.
    pub async fn cancelled(&self) {
        while !self.is_cancelled() {
            tokio::time::sleep(Self::POLL).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_handle_is_not_cancelled_and_sleeps_the_full_time() {
        let cancel = Cancel::new();
        assert!(!cancel.is_cancelled());
        assert!(cancel.check().is_ok());
        let started = Instant::now();
        cancel.sleep(Duration::from_millis(30)).unwrap();
        assert!(started.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn a_cancel_from_another_thread_ends_a_long_sleep_and_every_clone_sees_it() {
        let cancel = Cancel::new();
        let other = cancel.clone();
        let (tx, rx) = mpsc::channel();
        let sleeper = std::thread::spawn(move || {
            tx.send(()).unwrap();
            other.sleep(Duration::from_secs(3600))
        });
        rx.recv().unwrap();
        cancel.cancel();
        assert!(matches!(sleeper.join().unwrap(), Err(Error::Interrupted)));
        assert!(matches!(cancel.check(), Err(Error::Interrupted)));
        assert!(cancel.clone().is_cancelled());
    }

    #[test]
    fn the_flag_alone_cancels_waits_as_a_signal_handler_would() {
        let cancel = Cancel::new();
        let flag = cancel.flag();
        let (_tx, rx) = mpsc::channel::<()>();
        let waiter = {
            let cancel = cancel.clone();
            std::thread::spawn(move || cancel.recv_timeout(&rx, Duration::from_secs(3600)))
        };
        flag.store(true, Ordering::SeqCst);
        assert!(matches!(waiter.join().unwrap(), Err(Error::Interrupted)));
    }

    #[test]
    fn recv_timeout_returns_values_and_none_after_the_timeout() {
        let cancel = Cancel::new();
        let (tx, rx) = mpsc::channel();
        tx.send(7).unwrap();
        assert_eq!(
            cancel.recv_timeout(&rx, Duration::from_secs(5)).unwrap(),
            Some(7)
        );
        assert_eq!(
            cancel.recv_timeout(&rx, Duration::from_millis(20)).unwrap(),
            None
        );
    }

    #[tokio::test]
    async fn cancelled_completes_after_a_cancel() {
        let cancel = Cancel::new();
        let other = cancel.clone();
        std::thread::spawn(move || other.cancel());
        cancel.cancelled().await;
        assert!(cancel.is_cancelled());
    }
}
