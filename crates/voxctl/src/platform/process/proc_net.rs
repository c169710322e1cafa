//! Listening TCP sockets from the kernel's socket tables `/proc/net/tcp` and `/proc/net/tcp6`,
//! where a row whose local port is the port and whose state is `0A` is a listener (see
//! proc(5)). Linux only; milliseconds per read, so the fallback of [`super::sock_diag`].

use anyhow::Result;

/// The inodes of the sockets listening on TCP `port`, from `/proc/net/tcp` and
/// `/proc/net/tcp6` (the fallback when sock_diag netlink is unavailable).
pub fn listeners(port: u16) -> Result<Vec<u64>> {
    let mut out = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        match std::fs::read_to_string(table) {
            Ok(text) => out.extend(parse(&text, port)),
            // A kernel without IPv6 has no tcp6 table.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(anyhow::Error::from(e).context(format!("cannot read {table}"))),
        }
    }
    Ok(out)
}

/// The inodes of the LISTEN rows for `port` in one `/proc/net/tcp{,6}` table. Rows look like
/// `0: 0100007F:4471 00000000:0000 0A 00000000:00000000 00:00000000 00000000 1000 0 4242 ...`
/// (local address and port in hex, state, queues, timer, retransmits, uid, timeout, inode).
pub fn parse(table: &str, port: u16) -> Vec<u64> {
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
            assert_eq!(parse(table, port), want, "port {port}");
        }
    }
}
