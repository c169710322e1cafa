//! A real etcd for the tests: one member or a cluster on loopback, free ports
//! found by binding first (never 2379/2380), a temporary data dir, killed on drop.
//!
//! Needs Debian's `etcd-server` (etcd 3.4); `.ci/run` installs it. A missing `etcd` fails
//! the test that asked for it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One etcd member.
pub struct Member {
    pub name: String,
    pub client_port: u16,
    pub peer_port: u16,
    pub child: Option<Child>,
    pub log: PathBuf,
}

/// A running etcd cluster (one or more members).
pub struct Etcd {
    pub members: Vec<Member>,
    /// Keeps the members' data dirs until the cluster is dropped.
    _dir: tempfile::TempDir,
}

/// `n` distinct free loopback ports (all bound at once, then released).
pub fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind a free port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect()
}

impl Etcd {
    /// A single-member etcd.
    pub fn start() -> Etcd {
        Etcd::cluster(1)
    }

    /// An `n`-member cluster, each member healthy (a leader elected) before this returns.
    pub fn cluster(n: usize) -> Etcd {
        Etcd::cluster_with(n, None)
    }

    /// A single member serving clients over TLS only, with the certificates of `pki`, and
    /// requiring a client certificate signed by its CA.
    pub fn start_tls(pki: &Pki) -> Etcd {
        Etcd::cluster_with(1, Some(pki))
    }

    fn cluster_with(n: usize, pki: Option<&Pki>) -> Etcd {
        let dir = tempfile::tempdir().unwrap();
        let ports = free_ports(2 * n);
        let mut members: Vec<Member> = (0..n)
            .map(|i| Member {
                name: format!("m{i}"),
                client_port: ports[2 * i],
                peer_port: ports[2 * i + 1],
                child: None,
                log: dir.path().join(format!("m{i}.log")),
            })
            .collect();
        let initial: Vec<String> = members
            .iter()
            .map(|m| format!("{}=http://127.0.0.1:{}", m.name, m.peer_port))
            .collect();
        let initial = initial.join(",");
        let token = format!("voxctl-test-{}-{}", std::process::id(), ports[0]);
        let scheme = if pki.is_some() { "https" } else { "http" };
        for m in &mut members {
            let client = format!("{scheme}://127.0.0.1:{}", m.client_port);
            let peer = format!("http://127.0.0.1:{}", m.peer_port);
            let log = std::fs::File::create(&m.log).unwrap();
            let mut cmd = Command::new("etcd");
            if let Some(pki) = pki {
                cmd.arg("--cert-file")
                    .arg(&pki.server_cert)
                    .arg("--key-file")
                    .arg(&pki.server_key)
                    .arg("--trusted-ca-file")
                    .arg(&pki.ca_cert)
                    .arg("--client-cert-auth");
            }
            let child = cmd
                .args(["--name", &m.name])
                .arg("--data-dir")
                .arg(dir.path().join(&m.name))
                .args(["--listen-client-urls", &client])
                .args(["--advertise-client-urls", &client])
                .args(["--listen-peer-urls", &peer])
                .args(["--initial-advertise-peer-urls", &peer])
                .args(["--initial-cluster", &initial])
                .args(["--initial-cluster-token", &token])
                .args(["--initial-cluster-state", "new"])
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("cannot start etcd: install etcd-server (apt-get install etcd-server)");
            m.child = Some(child);
        }
        let etcd = Etcd { members, _dir: dir };
        for i in 0..n {
            match pki {
                None => etcd.wait_healthy(i, Duration::from_secs(60)),
                Some(pki) => etcd.wait_healthy_tls(i, pki, Duration::from_secs(60)),
            }
        }
        etcd
    }

    /// Waits until member `i` (TLS) is healthy, asking with `etcdctl endpoint health`.
    fn wait_healthy_tls(&self, i: usize, pki: &Pki, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let m = &self.members[i];
        loop {
            let ok = self
                .etcdctl(Some(pki))
                .args(["endpoint", "health"])
                .output()
                .expect("cannot run etcdctl: install etcd-client")
                .status
                .success();
            if ok {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "etcd member {} not healthy within {timeout:?}; log:\n{}",
                m.name,
                std::fs::read_to_string(&m.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// An `etcdctl` (API v3) aimed at every member, with `pki`'s client certificate if given.
    pub fn etcdctl(&self, pki: Option<&Pki>) -> Command {
        let mut cmd = Command::new("etcdctl");
        cmd.env("ETCDCTL_API", "3");
        let scheme = if pki.is_some() { "https" } else { "http" };
        let eps: Vec<String> = self
            .members
            .iter()
            .map(|m| format!("{scheme}://127.0.0.1:{}", m.client_port))
            .collect();
        cmd.arg("--endpoints").arg(eps.join(","));
        if let Some(pki) = pki {
            cmd.arg("--cacert")
                .arg(&pki.ca_cert)
                .arg("--cert")
                .arg(&pki.client_cert)
                .arg("--key")
                .arg(&pki.client_key);
        }
        cmd
    }

    /// Waits until member `i` answers `/health` with a leader.
    pub fn wait_healthy(&self, i: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let m = &self.members[i];
        loop {
            if let Some(body) = http(m.client_port, "GET", "/health", "") {
                if body.contains("\"health\":\"true\"") {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "etcd member {} not healthy within {timeout:?}; log:\n{}",
                m.name,
                std::fs::read_to_string(&m.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `etcd://127.0.0.1:C1,...[/prefix]` for every member.
    pub fn store_url(&self, prefix: &str) -> String {
        let hosts: Vec<String> = self
            .members
            .iter()
            .map(|m| format!("127.0.0.1:{}", m.client_port))
            .collect();
        format!("etcd://{}/{prefix}", hosts.join(","))
    }

    /// The index of the current leader, asking the live members (`/v3/maintenance/status`).
    pub fn leader(&self) -> Option<usize> {
        for m in self.members.iter().filter(|m| m.child.is_some()) {
            let Some(body) = http(m.client_port, "POST", "/v3/maintenance/status", "{}") else {
                continue;
            };
            let v: serde_json::Value = serde_json::from_str(&body).ok()?;
            let leader = v["leader"].as_str()?.to_string();
            let me = v["header"]["member_id"].as_str()?;
            if leader == "0" {
                continue;
            }
            if leader == me {
                return self.members.iter().position(|x| x.name == m.name);
            }
            // Ask the others who they are.
            for (j, o) in self.members.iter().enumerate() {
                if o.child.is_none() {
                    continue;
                }
                let Some(b) = http(o.client_port, "POST", "/v3/maintenance/status", "{}") else {
                    continue;
                };
                let ov: serde_json::Value = serde_json::from_str(&b).ok()?;
                if ov["header"]["member_id"].as_str() == Some(leader.as_str()) {
                    return Some(j);
                }
            }
        }
        None
    }

    /// SIGKILLs member `i` and reaps it.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.members[i].child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The pid of member `i`.
    pub fn pid(&self, i: usize) -> i32 {
        self.members[i].child.as_ref().expect("member running").id() as i32
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        for i in 0..self.members.len() {
            if let Some(c) = self.members[i].child.as_mut() {
                let _ = c.kill(); // SIGKILL ends a stopped member too
                let _ = c.wait();
            }
        }
    }
}

/// One HTTP/1.0 request to 127.0.0.1:`port`; the body of the answer, or `None` on any error.
pub fn http(port: u16, method: &str, path: &str, body: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.split_once("\r\n\r\n").map(|(_, b)| b.to_string())
}

/// A throwaway CA with a server certificate for 127.0.0.1 and a client certificate, made with
/// the `openssl` command (PEM files in `dir`). The server certificate is also good for client
/// auth: etcd 3.4's JSON gateway dials etcd's own gRPC server with it.
pub struct Pki {
    pub ca_cert: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

impl Pki {
    pub fn create(dir: &std::path::Path) -> Pki {
        let run = |args: &[&str]| {
            let o = Command::new("openssl")
                .args(args)
                .current_dir(dir)
                .output()
                .expect("cannot run openssl: install openssl");
            assert!(o.status.success(), "openssl {args:?}: {o:?}");
        };
        run(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=voxctl test CA",
        ]);
        for (name, ext) in [
            (
                "server",
                "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth",
            ),
            ("client", "extendedKeyUsage=clientAuth"),
        ] {
            std::fs::write(dir.join(format!("{name}.ext")), format!("{ext}\n")).unwrap();
            run(&[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
                "-subj",
                &format!("/CN={name}"),
            ]);
            run(&[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &format!("{name}.pem"),
                "-days",
                "2",
                "-extfile",
                &format!("{name}.ext"),
            ]);
        }
        Pki {
            ca_cert: dir.join("ca.pem"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server.key"),
            client_cert: dir.join("client.pem"),
            client_key: dir.join("client.key"),
        }
    }
}
