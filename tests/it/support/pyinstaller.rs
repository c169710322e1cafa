//! The real PyInstaller pair of `tests/fixtures/pyinstaller`: two one-file builds of
//! a small Python server, v1 and v2 (a code change and one bumped dependency), built from
//! pinned PyPI wheels by the fixture's `build.sh` and cached under
//! `target/pyinstaller-cache/` (a cold build takes about two minutes, a cached one well under
//! a second). No skip: without Python 3.11, its venv module, PyPI or binutils the build fails
//! and so does the test (`.ci/run` installs what a fresh machine lacks).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use nix::fcntl::{Flock, FlockArg};

/// The cache dir: `target/pyinstaller-cache/` of this checkout.
fn cache() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pyinstaller-cache")
}

/// The pair's paths `(old, new)`: v1 (0.3.0) and v2 (0.3.1) as one-file executables, each
/// 18 MB on the rust machine. Runs `build.sh` once per test process (nextest runs each test in
/// its own process), under an exclusive `flock` on `target/pyinstaller-cache/pair.lock` so that
/// concurrent test processes wait for one build instead of building twice; the files are only
/// ever replaced by a rename. Panics, with the script's output, if the build fails.
pub fn pair() -> (PathBuf, PathBuf) {
    static PAIR: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    PAIR.get_or_init(build).clone()
}

fn build() -> (PathBuf, PathBuf) {
    let cache = cache();
    std::fs::create_dir_all(&cache).unwrap();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(cache.join("pair.lock"))
        .unwrap();
    let _held = Flock::lock(lock, FlockArg::LockExclusive)
        .map_err(|(_, e)| e)
        .expect("flock target/pyinstaller-cache/pair.lock");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pyinstaller/build.sh");
    let out = cache.join("pair");
    let run = Command::new("bash")
        .arg(&script)
        .arg(&out)
        .env("PYI_CACHE", &cache)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        run.status.success(),
        "{} {} failed ({}):\n{}{}",
        script.display(),
        out.display(),
        run.status,
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    (out.join("old"), out.join("new"))
}
