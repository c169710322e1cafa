//! A stand-in for the reference app's `voicebox-server`, for the restart tests, the end-to-end
//! update test and the restart benchmark. It speaks the same contract:
//!
//! - `--version` prints `voicebox-server X.Y.Z` and exits 0;
//! - `--data-dir DIR --port N` (other arguments are accepted and echoed in `/health`);
//! - `GET /health` answers `{"status":"healthy","backend_variant":"...",...}` on 127.0.0.1:N.
//!
//! Its behaviour is configured per installed copy, so that two variants installed side by side
//! can behave differently: a sidecar file `{its own path}.fixture` holds `key=value` lines
//! (read once at start; missing file = defaults). The keys:
//!
//! | key | default | effect |
//! |---|---|---|
//! | `version` | `0.1.0` | what `--version` prints after `voicebox-server ` |
//! | `variant` | from the file name (`voicebox-server-cuda` -> `cuda`) | `backend_variant` |
//! | `start_delay_ms` | 0 | wait this long before binding the port (a slow start) |
//! | `linger_ms` | 0 | after SIGTERM, keep the port bound this long, then exit |
//! | `ignore_term` | 0 | 1: ignore SIGTERM entirely (only SIGKILL stops it) |
//! | `never_healthy` | 0 | 1: `/health` answers 503 forever |
//! | `port_holder_ms` | 0 | N: a helper process in the same process group holds the listening socket, ignores SIGTERM, and keeps the port N ms after this process exits |
//! | `worker` | 0 | 1: start a `sleep` worker in the same process group (its pid is in `/health`) |
//! | `exit_code` | - | N: crash at start (after the start delay), exiting with status N |
//! | `version_delay_ms` | 0 | wait this long before answering `--version` (a hung binary) |
//!
//! Only std and signal-hook (already a voxctl dependency), so it builds with `cargo build
//! --example fixture_backend` and still runs when padded with trailing zero bytes.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};
use std::time::Duration;

struct Config {
    version: String,
    variant: String,
    start_delay_ms: u64,
    linger_ms: u64,
    ignore_term: bool,
    never_healthy: bool,
    port_holder_ms: u64,
    worker: bool,
    exit_code: Option<i32>,
    version_delay_ms: u64,
}

fn config() -> Config {
    let exe = std::env::current_exe().unwrap_or_default();
    let name = exe
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .trim_end_matches(".exe")
        .to_string();
    let mut sidecar = exe.clone().into_os_string();
    sidecar.push(".fixture");
    let text = std::fs::read_to_string(sidecar).unwrap_or_default();
    let kv: HashMap<&str, &str> = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect();
    let num = |k: &str| kv.get(k).and_then(|v| v.parse().ok()).unwrap_or(0u64);
    Config {
        version: kv.get("version").unwrap_or(&"0.1.0").to_string(),
        variant: kv
            .get("variant")
            .map(|v| v.to_string())
            .unwrap_or_else(|| name.rsplit('-').next().unwrap_or("cpu").to_string()),
        start_delay_ms: num("start_delay_ms"),
        linger_ms: num("linger_ms"),
        ignore_term: num("ignore_term") == 1,
        never_healthy: num("never_healthy") == 1,
        port_holder_ms: num("port_holder_ms"),
        worker: num("worker") == 1,
        exit_code: kv.get("exit_code").and_then(|v| v.parse().ok()),
        version_delay_ms: num("version_delay_ms"),
    }
}

fn main() {
    let cfg = config();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--version") {
        std::thread::sleep(Duration::from_millis(cfg.version_delay_ms));
        println!("voicebox-server {}", cfg.version);
        return;
    }
    let mut port = 17493u16;
    let mut data_dir = String::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--port" => port = it.next().and_then(|p| p.parse().ok()).unwrap_or(port),
            "--data-dir" => data_dir = it.next().cloned().unwrap_or_default(),
            _ => {}
        }
    }
    // Handle SIGTERM on a thread: exit (after any linger), or ignore it.
    let mut signals = match signal_hook::iterator::Signals::new([signal_hook::consts::SIGTERM]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fixture: cannot handle SIGTERM: {e}");
            std::process::exit(1);
        }
    };
    let (ignore, linger) = (cfg.ignore_term, cfg.linger_ms);
    std::thread::spawn(move || {
        for _ in signals.forever() {
            eprintln!("fixture: SIGTERM received");
            if ignore {
                continue;
            }
            std::thread::sleep(Duration::from_millis(linger));
            std::process::exit(0);
        }
    });
    println!(
        "fixture: {} {} pid {} starting on port {port}, data dir {data_dir:?}, args {args:?}",
        cfg.variant,
        cfg.version,
        std::process::id()
    );
    std::thread::sleep(Duration::from_millis(cfg.start_delay_ms));
    if let Some(code) = cfg.exit_code {
        eprintln!("fixture: crashing on purpose with status {code}");
        std::process::exit(code);
    }
    let listener = match TcpListener::bind(("127.0.0.1", port)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("fixture: cannot bind 127.0.0.1:{port}: {e}");
            std::process::exit(1);
        }
    };
    let mut holder = None;
    if cfg.port_holder_ms > 0 {
        holder = spawn_port_holder(&listener, cfg.port_holder_ms);
    }
    let worker_pid = cfg.worker.then(|| {
        Command::new("sleep")
            .arg("600")
            .stdin(Stdio::null())
            .spawn()
            .map(|c| c.id())
            .unwrap_or(0)
    });
    println!("fixture: listening on 127.0.0.1:{port}");
    for stream in listener.incoming().flatten() {
        serve(stream, &cfg, worker_pid, &args);
    }
    drop(holder);
}

/// Starts `sh` in this process group with the listening socket as its stdout and a pipe from
/// us as its stdin: it ignores SIGTERM, waits for EOF on the pipe (our exit), then keeps the
/// socket open `ms` more milliseconds.
fn spawn_port_holder(listener: &TcpListener, ms: u64) -> Option<std::process::Child> {
    let sock: OwnedFd = listener.try_clone().ok()?.into();
    let script = format!("trap '' TERM; read _; exec sleep {}", ms as f64 / 1000.0);
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::from(sock))
        .spawn()
        .ok()
}

fn serve(mut stream: TcpStream, cfg: &Config, worker_pid: Option<u32>, args: &[String]) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut buf = [0u8; 4096];
    let mut req = Vec::new();
    while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 65536 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&req);
    let target = line.split_whitespace().nth(1).unwrap_or("");
    let path = target.split('?').next().unwrap_or("");
    let (code, body) = if path != "/health" {
        ("404 Not Found", r#"{"detail":"not found"}"#.to_string())
    } else if cfg.never_healthy {
        (
            "503 Service Unavailable",
            r#"{"status":"starting"}"#.to_string(),
        )
    } else {
        let args_json: Vec<String> = args.iter().map(|a| format!("{a:?}")).collect();
        (
            "200 OK",
            format!(
                r#"{{"status":"healthy","backend_variant":"{}","version":"{}","pid":{},"worker_pid":{},"args":[{}]}}"#,
                cfg.variant,
                cfg.version,
                std::process::id(),
                worker_pid.map_or("null".to_string(), |p| p.to_string()),
                args_json.join(",")
            ),
        )
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {code}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
}
