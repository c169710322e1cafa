//! The whole reference update flow on real input: a backend binary over 2.1 GB
//! (the fixture backend padded with zero bytes, so it still runs) is split by `voxctl split`,
//! served by a private nginx on loopback, installed by `voxctl fetch --variant cuda`, and
//! swapped in by `voxctl restart --variant cuda` while the cpu backend is running; `voxctl
//! status --json` then reports cuda, healthy, on the port. Needs nginx (`.ci/run` installs
//! it) and about 4.5 GB of free disk space in the temp dir (the parts, then the install).

use crate::support;

use std::time::Duration;

use support::nginx::Nginx;
use support::restart::{alive, asset_name, fixture_bin, Env};
use voxctl::backend::observe::HealthState;
use voxctl::backend::restart::Report;
use voxctl::variant::Variant;

/// Over 2.1 GB and over GitHub's 2 GiB (2147483648 bytes) asset limit.
const PADDED_SIZE: u64 = 2_150_000_000;

fn run(cmd: &mut assert_cmd::Command) -> std::process::Output {
    let out = cmd.timeout(Duration::from_secs(300)).output().unwrap();
    assert!(
        out.status.success(),
        "{:?} failed: {}\n{}",
        cmd,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn split_serve_fetch_and_swap_a_2_1_gb_backend() {
    let env = Env::new();
    env.install("cpu", "", None);
    run(env.restart("cpu", &[]).arg("-q"));
    let cpu_pid = env.record().unwrap().pid;
    assert_eq!(env.health().unwrap()["backend_variant"], "cpu");

    // Release CI: the padded cuda build, split into parts under 2 GiB.
    let build = env.tmp.path().join("build");
    std::fs::create_dir_all(&build).unwrap();
    let big = build.join(asset_name("cuda"));
    std::fs::copy(fixture_bin(), &big).unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&big).unwrap();
    f.set_len(PADDED_SIZE).unwrap(); // trailing zero bytes: the ELF still runs
    drop(f);
    let release = env.tmp.path().join("release");
    run(support::voxctl(&env.state)
        .arg("split")
        .arg(&big)
        .arg("--out")
        .arg(&release));
    std::fs::remove_file(&big).unwrap(); // the release now holds the only copy
    let parts: Vec<String> = std::fs::read_dir(&release)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains(".part"))
        .collect();
    assert!(parts.len() >= 2, "{parts:?}");
    for p in &parts {
        assert!(std::fs::metadata(release.join(p)).unwrap().len() < 1 << 31);
    }

    // The user's updater: fetch from nginx, then swap.
    let nginx = Nginx::start(&release, "");
    run(support::voxctl(&env.state)
        .args([
            "fetch",
            "--variant",
            "cuda",
            "--source",
            &nginx.url(),
            "--data-dir",
        ])
        .arg(&env.data));
    let installed = env.data.join("backends").join(asset_name("cuda"));
    assert_eq!(std::fs::metadata(&installed).unwrap().len(), PADDED_SIZE);
    drop(nginx);

    let out = run(&mut env.restart("cuda", &["--json"]));
    let report: Report = support::json_doc(&out.stdout);
    assert_eq!(report.backend.variant, Variant::Cuda);
    assert_eq!(report.previous.expect("replaced").backend.pid, cpu_pid);
    assert!(!alive(cpu_pid));

    let status = env.status();
    let b = status.backend.as_ref().expect("a backend");
    assert_eq!(
        (b.record.variant, b.health, b.backend_variant.as_deref()),
        (Variant::Cuda, HealthState::Healthy, Some("cuda"))
    );
    assert_eq!((b.record.port, &b.record.binary), (env.port, &installed));
    let cuda = status
        .installed
        .iter()
        .find(|r| r.variant.as_deref() == Some("cuda"))
        .expect("cuda install record");
    assert_eq!(cuda.size, PADDED_SIZE);
}
