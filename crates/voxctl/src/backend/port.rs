//! "Is anything listening on this TCP port?", asked without touching the port.
//!
//! A successful `bind` proves nothing (Rust sets `SO_REUSEADDR`, and a listener on another
//! address of the same port would not conflict), and a `connect` can be refused by a backlog
//! that is full. On Linux the kernel is asked for LISTEN sockets on the port, whatever their
//! address: through sock_diag netlink ([`super::sock_diag`], microseconds), else from the
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

/// [`listeners`] from `/proc/net/tcp` and `/proc/net/tcp6`.
#[cfg(target_os = "linux")]
pub fn proc_listeners(port: u16) -> Result<Vec<u64>> {
    {
        let mut out = Vec::new();
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            match std::fs::read_to_string(table) {
                Ok(text) => out.extend(parse_listeners(&text, port)),
                // A kernel without IPv6 has no tcp6 table.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(anyhow::Error::from(e).context(format!("cannot read {table}")))
                }
            }
        }
        Ok(out)
    }
}

/// Whether anything listens on `port`.
pub fn is_listening(port: u16) -> Result<bool> {
    Ok(!listeners(port)?.is_empty())
}

/// The inodes of the LISTEN rows for `port` in one `/proc/net/tcp{,6}` table. Rows look like
/// `0: 0100007F:4471 00000000:0000 0A 00000000:00000000 00:00000000 00000000 1000 0 4242 ...`
/// (local address and port in hex, state, queues, timer, retransmits, uid, timeout, inode).
pub fn parse_listeners(table: &str, port: u16) -> Vec<u64> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let local_port = f.get(1)?.rsplit_once(':')?.1;
            let listening = *f.get(3)? == "0A";
            (listening && u16::from_str_radix(local_port, 16).ok()? == port)
                .then(|| f.get(9).and_then(|i| i.parse().ok()).unwrap_or(0))
        })
        .collect()
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
    fn parses_proc_net_tcp() {
        let v4 = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
           0: 0100007F:4471 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0 100 0 0 10 0\n\
           1: 0100007F:4471 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 4243 1 0 20 4 30 10 -1\n\
           2: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 99 1 0 100 0 0 10 0\n";
        let v6 = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
           0: 00000000000000000000000000000000:4471 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 777 1 0 100 0 0 10 0\n";
        // 0x4471 = 17521; an established connection on the port is not a listener.
        let cases: [(&str, u16, Vec<u64>); 5] = [
            (v4, 17521, vec![4242]),
            (v4, 22, vec![99]),
            (v4, 17493, vec![]),
            (v6, 17521, vec![777]),
            ("", 17521, vec![]),
        ];
        for (table, port, want) in cases {
            assert_eq!(parse_listeners(table, port), want, "port {port}");
        }
    }

    #[test]
    fn sees_a_real_listener_come_and_go() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        assert!(is_listening(port).unwrap());
        #[cfg(target_os = "linux")]
        {
            let inodes = listeners(port).unwrap();
            assert_eq!(inodes, proc_listeners(port).unwrap());
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
