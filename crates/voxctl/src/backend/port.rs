//! "Is anything listening on this TCP port?", asked without touching the port.
//!
//! A successful `bind` proves nothing (Rust sets `SO_REUSEADDR`, and a listener on another
//! address of the same port would not conflict), and a `connect` can be refused by a backlog
//! that is full. On Linux the kernel is asked for LISTEN sockets on the port, whatever their
//! address: through sock_diag netlink (microseconds), else from the
//! socket tables `/proc/net/tcp` and `/proc/net/tcp6`, where a row whose local port is the
//! port and whose state is `0A` is a listener (see proc(5); milliseconds per read).
//! On Windows the TCP table with owner pids (`GetExtendedTcpTable`) is asked the same way.
//! Elsewhere a `connect` to 127.0.0.1 and ::1 with a short timeout stands in.

use std::time::{Duration, Instant};

use anyhow::Result;

/// The listening sockets on `port` (any local address, IPv4 or IPv6): socket inode numbers
/// on Linux, owner pids on Windows, 0 per listener where the platform says neither
/// ([`crate::platform::process::tcp_listeners`]). Empty when nothing listens.
pub fn listeners(port: u16) -> Result<Vec<u64>> {
    crate::platform::process::tcp_listeners(port)
}

/// Whether anything listens on `port`.
pub fn is_listening(port: u16) -> Result<bool> {
    Ok(!listeners(port)?.is_empty())
}

/// Waits until nothing listens on `port`, polling every `every`, for at most `timeout`.
/// Returns whether the port was released. Returns early with
/// [`crate::Error::Interrupted`] once `cancel` is cancelled.
pub fn wait_released(
    port: u16,
    timeout: Duration,
    every: Duration,
    cancel: &crate::cancel::Cancel,
) -> Result<bool> {
    let deadline = crate::duration::deadline(timeout);
    loop {
        if !is_listening(port)? {
            return Ok(true);
        }
        cancel.check()?;
        let now = Instant::now();
        if now >= deadline {
            return Ok(false);
        }
        cancel.sleep(every.min(deadline - now))?;
    }
}

/// The pids holding one of the listening sockets `ids` ([`listeners`]), with their command
/// lines, for error messages. Linux: reads `/proc/*/fd`, so only processes this user may
/// inspect; Windows: the ids are the owner pids; empty elsewhere.
pub fn holders(ids: &[u64]) -> Vec<(i32, String)> {
    crate::platform::process::listener_holders(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_a_real_listener_come_and_go() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        assert!(is_listening(port).unwrap());
        #[cfg(target_os = "linux")]
        {
            let inodes = listeners(port).unwrap();
            assert_eq!(
                inodes,
                crate::platform::process::proc_net::listeners(port).unwrap()
            );
            let me = std::process::id() as i32;
            assert!(holders(&inodes).iter().any(|(p, _)| *p == me));
        }
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            drop(l);
        });
        let cancel = crate::cancel::Cancel::new();
        assert!(wait_released(
            port,
            Duration::from_secs(5),
            Duration::from_millis(5),
            &cancel
        )
        .unwrap());
        t.join().unwrap();
    }
}
