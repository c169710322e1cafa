//! `examples/embed.rs`, the library as an app embeds it, run for real: a
//! fetch from a local release with the example's own progress printout, a second fetch from a
//! throttled loopback server cancelled from another thread after a second (partial data
//! kept), a restart of the installed fixture backend and its health.

use crate::support;

use std::time::Duration;

use support::fetch::{partial_bytes, whole_release, Fixture};
use support::http::Server;
use support::restart::{asset_name, example_bin, fixture_bin, free_port};

#[test]
fn the_embedding_example_fetches_cancels_a_slow_fetch_and_restarts_the_backend() {
    let fx = Fixture::new();
    // The cpu release: the fixture backend itself, as the app's cpu server binary.
    let backend = std::fs::read(fixture_bin()).unwrap();
    let (cpu, cuda_asset) = (asset_name("cpu"), asset_name("cuda"));
    whole_release(&fx.rel(), &cpu, &backend);
    // The cuda release, served slowly: 64 KiB every 100 ms (640 KiB/s) of 8 MiB, so the
    // download is mid-way when the example cancels it after a second.
    let slow = fx.rel().join("slow");
    std::fs::create_dir_all(&slow).unwrap();
    let cuda: Vec<u8> = (0..8u32 << 20).map(|i| (i % 251) as u8).collect();
    whole_release(&slow, &cuda_asset, &cuda);
    let server = Server::start(&slow);
    server.set(|s| s.trickle = Some((64 << 10, Duration::from_millis(100))));
    std::fs::create_dir_all(fx.data()).unwrap();

    let port = free_port();
    let out = std::process::Command::new(example_bin("embed"))
        .arg(fx.rel())
        .arg(server.url())
        .arg(fx.data())
        .arg(fx.state())
        .arg(port.to_string())
        .env_remove("VOXCTL_STATE_DIR")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");

    // Its own printout of the plan, then the install.
    assert!(
        stdout.contains(&format!(
            "cpu: {} bytes to fetch in 1 part(s)",
            backend.len()
        )),
        "{stdout}"
    );
    let backends = fx.data().join("backends");
    let installed = backends.join(&cpu);
    assert_eq!(std::fs::read(&installed).unwrap(), backend);
    assert!(
        stdout.contains(&format!("cpu: installed {cpu} ({} bytes)", backend.len())),
        "{stdout}"
    );

    // The cancelled fetch: mid-way, nothing installed, its partial data kept.
    let line = stdout
        .lines()
        .find(|l| l.starts_with("cuda: cancelled after "))
        .unwrap_or_else(|| panic!("no cancel line in {stdout}"));
    let kept = partial_bytes(&backends.join(".partial").join(&cuda_asset));
    assert!(
        kept > 0 && kept < cuda.len() as u64,
        "{kept} bytes kept: {line}"
    );
    assert!(!backends.join(&cuda_asset).exists());
    // The app's report of it: interrupted, with the typed next step naming what was kept.
    let report = stdout
        .lines()
        .find_map(|l| l.strip_prefix("cuda: report "))
        .unwrap_or_else(|| panic!("no report line in {stdout}"));
    let report: serde_json::Value = serde_json::from_str(report).unwrap();
    assert_eq!(report["code"], 130, "{report}");
    assert_eq!(report["kind"], "interrupted", "{report}");
    assert_eq!(report["remedy"]["action"], "resume", "{report}");
    assert_eq!(
        report["remedy"]["kept"],
        backends
            .join(".partial")
            .join(&cuda_asset)
            .display()
            .to_string(),
        "{report}"
    );

    // The restarted backend answered healthy as the cpu variant, then was stopped.
    assert!(
        stdout.contains("health: HTTP 200 status healthy variant cpu"),
        "{stdout}"
    );
    assert!(stdout.contains("stopped"), "{stdout}");
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}
