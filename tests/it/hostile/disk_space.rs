//! Hostile-input cases: a server that states part sizes in `HEAD` (a text-manifest release,
//! nothing signed) larger than what it sends, to make fetch reserve the disk and keep it.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use crate::support::{
    self,
    fetch::{self as f, Fixture, ASSET},
    http::Server,
};
use voxctl::manifest::part_name;

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;

/// A 64 MiB tmpfs as the data dir, and a text-manifest release of two 512 KiB parts whose
/// second part's `HEAD` says `declared` bytes.
fn setup(declared: u64) -> (Fixture, support::Tmpfs, Server) {
    let fx = Fixture::new();
    let fs = support::Tmpfs::mount(&fx.data(), "64m");
    f::v1_release(
        &fx.rel(),
        ASSET,
        &f::data(MIB as usize, 81),
        512 * KIB as usize,
    );
    let srv = Server::start(&fx.rel());
    srv.set(|s| {
        s.head_length
            .insert(format!("/{}", part_name(ASSET, 1)), declared);
    });
    (fx, fs, srv)
}

fn data_file(fx: &Fixture) -> PathBuf {
    fx.partial().join(format!("{ASSET}.download"))
}

/// Bytes the file has allocated on disk.
fn allocated(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).unwrap().blocks() * 512
}

/// `fetch --retries 0` from `srv`: the short second part is a network failure, so the
/// partial download is kept (exit 1).
fn fetch_fails_keeping_the_partial(fx: &Fixture, srv: &Server) -> std::process::Child {
    let mut cmd = fx.fetch_std(&srv.url());
    cmd.args(["--retries", "0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    cmd.spawn().unwrap()
}

fn assert_failed_and_kept(child: std::process::Child, fx: &Fixture) {
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("kept in"), "{err}");
    assert!(data_file(fx).exists(), "partial data kept");
    assert!(!fx.installed().exists());
}

/// `HEAD` says 16 MiB (it fits: the data file is preallocated), the body brings 512 KiB: once
/// fetch stops with the partial download kept, the file holds no more disk space than what
/// arrived (1 MiB of two parts), not the 16.5 MiB reserved.
#[test]
fn a_body_short_of_what_head_declared_gives_back_the_preallocation() {
    let (fx, _fs, srv) = setup(16 * MIB);
    let child = fetch_fails_keeping_the_partial(&fx, &srv);
    assert_failed_and_kept(child, &fx);
    let data = data_file(&fx);
    assert_eq!(
        std::fs::metadata(&data).unwrap().len(),
        16 * MIB + 512 * KIB
    );
    let held = allocated(&data);
    assert!(
        held <= MIB + 64 * KIB,
        "the kept partial download holds {held} bytes of disk for 1 MiB received"
    );
}

/// `HEAD` says 62 MiB on a 64 MiB filesystem: preallocating it would leave less than the
/// margin (5% of the filesystem) free, so the data file is sparse. Checked while both bodies
/// are held part way: the filesystem still has the margin free, and the file holds about
/// what arrived.
#[test]
fn a_preallocation_never_takes_the_free_space_margin() {
    let (fx, _fs, srv) = setup(62 * MIB);
    srv.set(|s| s.hold_after = Some(256 * KIB));
    let child = fetch_fails_keeping_the_partial(&fx, &srv);
    f::wait_until(60, "both bodies held", || srv.bodies_held() == 2);
    let data = data_file(&fx);
    let held = allocated(&data);
    let st = nix::sys::statvfs::statvfs(&fx.data()).unwrap();
    let free = st.blocks_available() * st.fragment_size();
    // The documented margin: 5% of the filesystem's size, at most 1 GiB.
    let margin = (st.blocks() * st.fragment_size() / 100 * 5).min(1 << 30);
    srv.set(|s| s.hold_after = None);
    assert!(
        held <= 2 * MIB,
        "{held} bytes preallocated for a lying HEAD"
    );
    assert!(
        free >= margin,
        "{free} bytes free, under the {margin}-byte margin"
    );
    assert_failed_and_kept(child, &fx);
}
