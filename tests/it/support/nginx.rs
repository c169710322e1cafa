//! A private nginx for end-to-end tests: generated config in a temp dir, 127.0.0.1 on a free
//! port, no daemon, its own access log (`METHOD URI STATUS RANGE BYTES`). By default one
//! process and no master; [`Nginx::start_unprivileged`] runs it as a web server is deployed:
//! a master started as root and a worker that serves the files as `nobody:nogroup`.
//! nginx is looked up on the PATH and at /usr/sbin/nginx; `.ci/run` installs it on CI. The
//! Windows suite (under Wine) runs the same Linux nginx, through [`super::host`].

use std::path::Path;
use std::time::{Duration, Instant};

use super::host::{unix_path, Host};

/// A running nginx, stopped on drop.
pub struct Nginx {
    child: Host,
    /// Its port on 127.0.0.1.
    pub port: u16,
    dir: tempfile::TempDir,
    /// Whether a master process runs (it is stopped with SIGTERM, so that its worker goes
    /// too).
    master: bool,
}

/// The Linux path of nginx.
fn binary() -> String {
    // Under Wine, PATH is the Windows one: the Linux directories are looked at through Z:.
    let on_path = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("nginx"))
            .find(|p| cfg!(unix) && p.is_file())
            .map(|p| unix_path(&p))
    });
    let found = on_path.or_else(|| {
        let linux = "/usr/sbin/nginx";
        Path::new(if cfg!(unix) {
            linux
        } else {
            r"Z:\usr\sbin\nginx"
        })
        .is_file()
        .then(|| linux.to_string())
    });
    found.expect("nginx is needed for this test (apt-get install nginx; .ci/run does it)")
}

impl Nginx {
    /// Serves `root` with `extra` added to the server block (e.g. `limit_rate 1m;`).
    pub fn start(root: &Path, extra: &str) -> Nginx {
        Nginx::launch(root, "", extra, "master_process off;")
    }

    /// Serves `root` with `http_extra` added to the http block (e.g. a `proxy_cache_path`)
    /// and `extra` to the server block (e.g. a caching `location`).
    pub fn start_with(root: &Path, http_extra: &str, extra: &str) -> Nginx {
        Nginx::launch(root, http_extra, extra, "master_process off;")
    }

    /// Serves `root` the way nginx is deployed: the master runs as root (the tests do) and
    /// its one worker, which opens and sends the files, as `nobody:nogroup`. Every directory
    /// from `/` to a file must be searchable and the file readable by others for it to be
    /// served; otherwise the answer is 403.
    #[cfg(unix)]
    pub fn start_unprivileged(root: &Path, extra: &str) -> Nginx {
        assert!(
            nix::unistd::geteuid().is_root(),
            "an nginx worker runs as nobody only under a master started as root"
        );
        let n = Nginx::launch(root, "", extra, "master_process on;\nuser nobody nogroup;");
        let deadline = Instant::now() + Duration::from_secs(60);
        while n.worker_uids() != [65534] {
            assert!(
                Instant::now() < deadline,
                "no worker running as nobody: {:?}",
                n.worker_uids()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        n
    }

    /// The real uids of the master's child processes (its workers), from /proc.
    #[cfg(unix)]
    fn worker_uids(&self) -> Vec<u32> {
        let master = self.child.pid().to_string();
        let mut uids = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
                continue;
            };
            let field = |name: &str| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(|v| v.split_whitespace().next().unwrap_or("").to_string())
            };
            if field("PPid:").as_deref() == Some(&master) {
                if let Some(uid) = field("Uid:").and_then(|u| u.parse().ok()) {
                    uids.push(uid);
                }
            }
        }
        uids
    }

    fn launch(root: &Path, http_extra: &str, extra: &str, processes: &str) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let d = unix_path(dir.path());
        let conf = format!(
            "daemon off;\n{processes}\nworker_processes 1;\npid {d}/nginx.pid;\n\
             error_log {d}/error.log;\nevents {{ worker_connections 256; }}\nhttp {{\n\
             log_format vox '$request_method $uri $status \"$http_range\" $body_bytes_sent';\n\
             access_log {d}/access.log vox;\nclient_body_temp_path {d}/cb;\n\
             proxy_temp_path {d}/px;\nfastcgi_temp_path {d}/fc;\nuwsgi_temp_path {d}/uw;\n\
             scgi_temp_path {d}/sc;\nsendfile on;\ndefault_type application/octet-stream;\n\
             {http_extra}\nserver {{\n listen 127.0.0.1:{port};\n root {};\n {extra}\n}}\n}}\n",
            unix_path(root)
        );
        std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
        let child = Host::spawn(
            &binary(),
            [
                "-p".to_string(),
                d.clone(),
                "-e".to_string(),
                format!("{d}/error.log"),
                "-c".to_string(),
                format!("{d}/nginx.conf"),
            ],
            &[],
        );
        let master = processes.contains("master_process on");
        let mut n = Nginx {
            child,
            port,
            dir,
            master,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(code) = n.child.try_wait() {
                panic!("nginx exited with {code:?}: {}", n.error_log());
            }
            assert!(
                Instant::now() < deadline,
                "nginx did not start: {}",
                n.error_log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        n
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The access log lines so far.
    pub fn access_log(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("access.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if self.master {
            // SIGTERM: the master stops its worker and exits (a SIGKILL would leave the
            // worker serving the port).
            self.child.signal("TERM");
            let _ = self.child.wait(Duration::from_secs(60));
        }
        self.child.kill();
    }
}
