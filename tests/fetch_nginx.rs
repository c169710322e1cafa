//! End-to-end against a real nginx on loopback: a release of a file over 2.1 GB (so it really
//! needs two parts under GitHub's 2 GiB limit) fetched with `--variant cuda` and compared byte
//! for byte; and a rate-limited download killed part way whose rerun resumes with a 206 (as
//! nginx's own access log shows).

mod support;

use std::io::{Read, Write};
use std::process::Stdio;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use sha2::Digest;
use support::fetch::{self as f, Fixture, ASSET};
use support::nginx::Nginx;
use voxctl::checksum::Sha256;
use voxctl::manifest::{self, Manifest, Part, DEFAULT_CHUNK_SIZE};

const BLOCK: usize = 1 << 20;

/// Block `i` of the big asset: a random 1 MiB block with `i` stamped in its first 8 bytes, so
/// that every block differs and a misplaced block is caught.
fn block(base: &[u8], i: u64) -> Vec<u8> {
    let mut b = base.to_vec();
    b[..8].copy_from_slice(&i.to_le_bytes());
    b
}

/// Writes a layout-1 release of `size` bytes in parts of [`DEFAULT_CHUNK_SIZE`], hashing as
/// it goes (one pass).
fn big_release(dir: &std::path::Path, size: u64) {
    std::fs::create_dir_all(dir).unwrap();
    let base = f::data(BLOCK, 77);
    let mut whole = sha2::Sha256::new();
    let mut parts = Vec::new();
    let mut offset = 0u64;
    let mut i = 0u64;
    while offset < size {
        let psize = DEFAULT_CHUNK_SIZE.min(size - offset);
        let name = manifest::part_name(ASSET, parts.len());
        let mut out = std::io::BufWriter::new(std::fs::File::create(dir.join(&name)).unwrap());
        let mut ph = sha2::Sha256::new();
        let mut left = psize;
        while left > 0 {
            let b = block(&base, i);
            let n = (BLOCK as u64).min(left) as usize;
            // Blocks run across part boundaries: use the tail of the block if a part ended
            // mid-block.
            let start = ((offset + psize - left) % BLOCK as u64) as usize;
            let n = n.min(BLOCK - start);
            let chunk = &b[start..start + n];
            out.write_all(chunk).unwrap();
            ph.update(chunk);
            whole.update(chunk);
            left -= n as u64;
            if start + n == BLOCK {
                i += 1;
            }
        }
        out.flush().unwrap();
        parts.push(Part {
            name,
            offset,
            size: psize,
            sha256: Sha256(ph.finalize().into()),
        });
        offset += psize;
    }
    let m = Manifest {
        format: manifest::FORMAT.into(),
        version: manifest::VERSION,
        asset: ASSET.into(),
        size,
        sha256: Sha256(whole.finalize().into()),
        chunk_size: DEFAULT_CHUNK_SIZE,
        app_version: None,
        variant: Some("cuda".into()),
        parts,
    };
    assert_eq!(m.parts.len(), 2);
    m.validate().unwrap();
    f::write_manifest(dir, &m);
}

/// Compares `installed` with the concatenated parts, streaming.
fn same_as_parts(installed: &std::path::Path, rel: &std::path::Path, nparts: usize) -> bool {
    let mut a = std::fs::File::open(installed).unwrap();
    let (mut ba, mut bb) = (vec![0u8; BLOCK], vec![0u8; BLOCK]);
    for p in 0..nparts {
        let mut b = std::fs::File::open(rel.join(manifest::part_name(ASSET, p))).unwrap();
        loop {
            let n = b.read(&mut bb).unwrap();
            if n == 0 {
                break;
            }
            a.read_exact(&mut ba[..n]).unwrap();
            if ba[..n] != bb[..n] {
                return false;
            }
        }
    }
    a.read(&mut ba).unwrap() == 0
}

#[test]
fn nginx_serves_a_release_over_2_1_gb_in_two_parts() {
    let fx = Fixture::new();
    let size = 2_150_000_000u64;
    big_release(&fx.rel(), size);
    let nginx = Nginx::start(&fx.rel(), "");
    fx.fetch(&nginx.url()).assert().success();
    assert_eq!(std::fs::metadata(fx.installed()).unwrap().len(), size);
    assert!(same_as_parts(&fx.installed(), &fx.rel(), 2));
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
    let nginx = Nginx::start(&fx.rel(), "limit_rate 1m;");
    let mut child = fx
        .fetch_std(&nginx.url())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    f::wait_until(30, "partial data", || {
        f::partial_bytes(&fx.partial()) >= 256 * 1024
    });
    kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
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
