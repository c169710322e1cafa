//! Atomic file replacement (docs/contract.md, invariant 1): write a temporary file in the target's
//! directory, fsync it, rename it over the target, fsync the directory.
//!
//! Two kinds of file are written this way, told apart by [`Access`]: voxctl's own state
//! (private to the user) and what voxctl publishes for others to read (release files,
//! signatures, man pages, completion scripts), which gets the mode `cp` or `minisign -S`
//! would give it.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// The mode a published file is created with, before the umask: `0666`, as `cp`, GNU
/// `split` and `minisign -S` create theirs (`0644` under the usual umask `022`).
///
/// The umask is never read: the mode is passed to `open(O_CREAT | O_EXCL)` when the
/// temporary file is created (tempfile's `permissions`) and the kernel applies the umask
/// there, or the directory's default ACL when it has one, exactly as for `cp`; the rename
/// keeps the mode. Reading the umask would need `umask(2)`, which also sets it, so a
/// set-and-restore races with every other thread creating a file meanwhile (a library
/// caller's, or a fetch's own writeback thread); `/proc/self/status` has it only on
/// Linux 4.7 and later; and a `chmod` after the fact would ignore a default ACL.
pub const PUBLISHED_MODE: u32 = 0o666;

/// Who may read a file written with [`write_atomic_as`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// voxctl's own state (records, markers, resume records): mode `0600` whatever the
    /// umask.
    Private,
    /// Published for others to read (served by a web server, installed for every user):
    /// [`PUBLISHED_MODE`] minus the umask.
    Published,
}

impl Access {
    /// The mode the temporary file is created with (the umask then applies).
    pub fn create_mode(self) -> u32 {
        match self {
            Access::Private => 0o600,
            Access::Published => PUBLISHED_MODE,
        }
    }
}

/// Replaces the state file `path` with `bytes` in one atomic step, so a reader sees either
/// the old content or the new, never a mix, and a crash leaves one of the two on disk.
/// The file gets mode 0600 ([`Access::Private`]). Errors name the path.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_as(path, bytes, Access::Private)
}

/// [`write_atomic`] for a published file: mode 0666 minus the umask ([`Access::Published`]).
pub fn publish_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_as(path, bytes, Access::Published)
}

/// Replaces `path` with `bytes` atomically (see [`write_atomic`]), the file readable as
/// `access` says. Errors name the path.
pub fn write_atomic_as(path: &Path, bytes: &[u8], access: Access) -> Result<()> {
    let dir = parent_dir(path);
    let mut builder = tempfile::Builder::new();
    builder.prefix(".voxctl-").suffix(".tmp");
    // Windows has no mode bits: the file inherits the directory's ACL (the state dir under
    // %LOCALAPPDATA% is the user's own).
    crate::platform::temp_mode(&mut builder, access.create_mode());
    let mut tmp = builder
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", tmp.path().display()))?;
    // The handle is closed before the rename: Windows cannot rename an open file.
    let mut tmp = tmp.into_temp_path();
    crate::platform::replace_file(&tmp, path)
        .with_context(|| format!("cannot rename into {}", path.display()))?;
    // Renamed away: the guard must not remove whatever later takes the temporary name.
    tmp.disable_cleanup(true);
    fsync_dir(dir)
}

/// Serializes `value` as pretty JSON (with a trailing newline) and writes it with
/// [`write_atomic`] (a private state file).
pub fn write_json_atomic<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).context("cannot serialize JSON")?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

/// fsyncs a directory so that renames and creations inside it survive a power loss (a no-op
/// on Windows; see `crate::platform::sync_dir`). Errors name the directory.
pub fn fsync_dir(dir: &Path) -> Result<()> {
    crate::platform::sync_dir(dir)
        .with_context(|| format!("cannot fsync directory {}", dir.display()))
}

/// The directory that holds `path` (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("state.json");
        write_atomic(&target, b"one").unwrap();
        write_atomic(&target, b"two").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "only the target remains");
    }
}
