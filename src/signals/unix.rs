//! `lease run`'s interrupts on Unix: SIGINT, SIGTERM and SIGHUP set flags (and cancel the
//! request), and they and SIGCHLD write to a self-pipe that wakes the supervisor.

use std::io;
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGTERM};
use signal_hook::SigId;
use voxctl::cancel::Cancel;
use voxctl::lease::run::{Interrupts, Received};

/// The signals `lease run` forwards to its command.
const FORWARDED: [i32; 3] = [SIGINT, SIGTERM, SIGHUP];

/// Flags for the forwarded signals plus a self-pipe that wakes the supervisor; dropping it
/// unregisters the handlers.
#[derive(Debug)]
pub struct Forwarded {
    flags: Vec<(i32, Arc<AtomicBool>)>,
    wake: std::os::unix::net::UnixStream,
    ids: Vec<SigId>,
}

impl Forwarded {
    /// Registers the handlers; each forwarded signal also cancels `cancel`.
    pub fn install(cancel: &Cancel) -> io::Result<Forwarded> {
        let (wake, notify) = std::os::unix::net::UnixStream::pair()?;
        wake.set_nonblocking(true)?;
        notify.set_nonblocking(true)?;
        let mut forwarded = Forwarded {
            flags: Vec::new(),
            wake,
            ids: Vec::new(),
        };
        for sig in FORWARDED {
            let flag = Arc::new(AtomicBool::new(false));
            forwarded
                .ids
                .push(signal_hook::flag::register(sig, flag.clone())?);
            forwarded
                .ids
                .push(signal_hook::flag::register(sig, cancel.flag())?);
            forwarded.flags.push((sig, flag));
        }
        for sig in FORWARDED.into_iter().chain([SIGCHLD]) {
            let pipe = notify.try_clone()?;
            forwarded
                .ids
                .push(signal_hook::low_level::pipe::register(sig, pipe)?);
        }
        Ok(forwarded)
    }
}

impl Interrupts for Forwarded {
    fn take(&self) -> Vec<Received> {
        self.flags
            .iter()
            .filter(|(_, f)| f.swap(false, Ordering::SeqCst))
            .map(|(s, _)| Received::from_raw(*s))
            .collect()
    }

    /// Sleeps in `poll(2)` on the self-pipe (SIGCHLD writes to it when the child exits), then
    /// empties it.
    fn nap(&self, timeout: Duration, _child: &Child) {
        use std::os::fd::AsFd;
        let ts = rustix::event::Timespec {
            tv_sec: timeout.as_secs() as i64,
            tv_nsec: timeout.subsec_nanos().into(),
        };
        let mut fds = [rustix::event::PollFd::new(
            &self.wake,
            rustix::event::PollFlags::IN,
        )];
        // EINTR is a wake-up like any other.
        let _ = rustix::event::poll(&mut fds, Some(&ts));
        let mut buf = [0u8; 64];
        while matches!(rustix::io::read(self.wake.as_fd(), &mut buf), Ok(n) if n > 0) {}
    }
}

impl Drop for Forwarded {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}
