//! End-to-end against a real nginx on loopback: a release of a file over 2.1 GB (so it really
//! needs two parts under GitHub's 2 GiB limit), made with `voxctl split`, fetched with `--variant cuda` and compared byte
//! for byte; and a rate-limited download killed part way whose rerun resumes with a 206 (as
//! nginx's own access log shows).

use crate::support;

use std::io::{Read, Write};
use std::process::Stdio;

use support::fetch::{self as f, Fixture, ASSET};
use support::nginx::Nginx;
use voxctl::manifest::{self, Manifest, DEFAULT_CHUNK_SIZE};

const BLOCK: usize = 1 << 20;

/// Block `i` of the big asset: a random 1 MiB block with `i` stamped in its first 8 bytes, so
/// that every block differs and a misplaced block is caught.
fn block(base: &[u8], i: u64) -> Vec<u8> {
    let mut b = base.to_vec();
    b[..8].copy_from_slice(&i.to_le_bytes());
    b
}

/// Writes the big asset: `size` bytes of distinct 1 MiB blocks.
fn big_asset(path: &std::path::Path, size: u64) {
    let base = f::data(BLOCK, 77);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut written = 0u64;
    let mut i = 0u64;
    while written < size {
        let b = block(&base, i);
        let n = (BLOCK as u64).min(size - written) as usize;
        out.write_all(&b[..n]).unwrap();
        written += n as u64;
        i += 1;
    }
    out.flush().unwrap();
}

/// Compares two files byte for byte, streaming.
fn same_files(a: &std::path::Path, b: &std::path::Path) -> bool {
    let (mut fa, mut fb) = (
        std::fs::File::open(a).unwrap(),
        std::fs::File::open(b).unwrap(),
    );
    let (mut ba, mut bb) = (vec![0u8; BLOCK], vec![0u8; BLOCK]);
    loop {
        let n = fa.read(&mut ba).unwrap();
        if n == 0 {
            return fb.read(&mut bb).unwrap() == 0;
        }
        fb.read_exact(&mut bb[..n]).unwrap();
        if ba[..n] != bb[..n] {
            return false;
        }
    }
}

#[test]
fn nginx_serves_a_release_over_2_1_gb_in_two_parts() {
    let fx = Fixture::new();
    let size = 2_150_000_000u64;
    let build = fx.state().with_file_name("build");
    std::fs::create_dir_all(&build).unwrap();
    let asset = build.join(ASSET);
    big_asset(&asset, size);
    // The release is made the way release CI makes it: `voxctl split` with its default
    // 1,900,000,000-byte parts.
    support::voxctl(&fx.state())
        .args(["-q", "split", "--variant", "cuda", "--out"])
        .arg(fx.rel())
        .arg(&asset)
        .assert()
        .success();
    let m = Manifest::from_json(
        &std::fs::read(fx.rel().join(manifest::json_manifest_name(ASSET))).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (m.parts.len(), m.size, m.chunk_size),
        (2, size, DEFAULT_CHUNK_SIZE)
    );
    let nginx = Nginx::start(&fx.rel(), "");
    fx.fetch(&nginx.url()).assert().success();
    assert_eq!(std::fs::metadata(fx.installed()).unwrap().len(), size);
    assert!(
        same_files(&fx.installed(), &asset),
        "installed file differs"
    );
    let log = nginx.access_log();
    for p in 0..2 {
        let name = manifest::part_name(ASSET, p);
        let gets = log
            .iter()
            .filter(|l| l.starts_with(&format!("GET /{name} 200")))
            .count();
        assert_eq!(gets, 1, "{log:#?}");
    }
}

#[test]
fn nginx_rate_limited_fetch_killed_part_way_resumes_with_206() {
    let fx = Fixture::new();
    let bytes = f::data(4 * BLOCK, 78);
    f::json_release(&fx.rel(), ASSET, &bytes, 2 * BLOCK);
    // 512 KB/s per connection: each 2 MiB part takes about 4 s, so the kill lands part way
    // even when a loaded disk delays the progress record by a few seconds.
    let nginx = Nginx::start(&fx.rel(), "limit_rate 512k;");
    let mut child = fx
        .fetch_std(&nginx.url())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    f::wait_until(30, "partial data", || {
        f::partial_bytes(&fx.partial()) >= 256 * 1024
    });
    // SIGKILL on Unix, TerminateProcess on Windows: no chance to clean up either way.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!fx.installed().exists());
    let before = nginx.access_log().len();
    fx.fetch(&nginx.url()).assert().success();
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    let rerun: Vec<String> = nginx.access_log().split_off(before);
    assert!(
        rerun
            .iter()
            .any(|l| l.contains(" 206 \"bytes=") && l.contains(".part0")),
        "{rerun:#?}"
    );
}
