//! Hostile-input cases: release files that are not regular files (a FIFO as a part, a FIFO as
//! a `.minisig`): refused at once with exit 3, never waited on in `open(2)`.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use voxctl::manifest::{json_manifest_name, part_name, sha256_name};

use crate::support::{
    self,
    fetch::{self as f, Fixture, ASSET},
    lease::Spawned,
};

/// A valid minisign public key (the one minisign's documentation uses): trusted so that
/// `verify` reads the signature beside a file.
const PUBKEY: &str = "RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3";

/// Runs `cmd` and returns its output, failing the test if it is still running after 20 s
/// (a FIFO with no writer would block it forever).
fn run_bounded(mut cmd: Command) -> Output {
    use std::io::Read;
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = Spawned::spawn(cmd);
    let status = child
        .wait_timeout(Duration::from_secs(20))
        .expect("voxctl hung on a FIFO (still running after 20 s)");
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let c = &mut child.0;
    c.stdout.take().unwrap().read_to_end(&mut stdout).unwrap();
    c.stderr.take().unwrap().read_to_end(&mut stderr).unwrap();
    Output {
        status,
        stdout,
        stderr,
    }
}

/// Replaces `path` by a FIFO.
fn make_fifo(path: &Path) {
    let _ = std::fs::remove_file(path);
    nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
}

fn assert_refused(out: &Output, what: &Path) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains(&what.display().to_string()),
        "does not name {}: {err}",
        what.display()
    );
    assert!(err.contains("FIFO"), "does not say what it is: {err}");
}

/// A directory release whose second part is a FIFO: fetch exits 3 naming it (no blocking
/// open), installs nothing, and holds nothing: once the part is a file again, the next fetch
/// gets the slot at once and installs.
#[test]
fn a_fifo_part_in_a_directory_release_is_exit_3_and_the_slot_is_released() {
    let fx = Fixture::new();
    let bytes = f::data(8192, 61);
    f::json_release(&fx.rel(), ASSET, &bytes, 4096);
    let part = fx.rel().join(part_name(ASSET, 1));
    let content = std::fs::read(&part).unwrap();
    make_fifo(&part);
    let out = run_bounded(fx.fetch_std(fx.rel().to_str().unwrap()));
    assert_refused(&out, &part);
    assert!(!fx.installed().exists());
    // Bad release data, not a network failure: nothing kept, no "run again to resume".
    assert!(!fx.partial().exists(), "partial data kept");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("resume"),
        "{out:?}"
    );

    std::fs::remove_file(&part).unwrap();
    std::fs::write(&part, content).unwrap();
    let mut again = fx.fetch_std(fx.rel().to_str().unwrap());
    again.args(["--wait", "5s"]);
    let out = run_bounded(again);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
}

/// `verify` reads neither a FIFO `.minisig` beside a checksum file nor a FIFO part of a
/// manifest: each is exit 3 at once, naming it.
#[test]
fn verify_refuses_a_fifo_signature_and_a_fifo_part() {
    let fx = Fixture::new();
    f::whole_release(&fx.rel(), ASSET, &f::data(4096, 62));
    let sums = sha256_name(ASSET);
    let sig = fx.rel().join(format!("{sums}.minisig"));
    make_fifo(&sig);
    let mut cmd = support::voxctl_std(&fx.state());
    cmd.current_dir(fx.rel())
        .args(["verify", "-c", &sums, "--pubkey", PUBKEY]);
    assert_refused(&run_bounded(cmd), Path::new(&format!("{sums}.minisig")));

    let rel = fx.tmp.path().join("rel2");
    f::json_release(&rel, ASSET, &f::data(8192, 63), 4096);
    let part = rel.join(part_name(ASSET, 0));
    make_fifo(&part);
    let mut cmd = support::voxctl_std(&fx.state());
    cmd.args(["verify", "--manifest"])
        .arg(rel.join(json_manifest_name(ASSET)));
    let out = run_bounded(cmd);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(3), "{said}");
    assert!(
        said.contains(&format!("{}: FAILED", part_name(ASSET, 0)))
            && said.contains("not a regular file"),
        "{said}"
    );
}
