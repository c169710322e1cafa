//! Opening the files and directories voxctl keeps its state in, and reading the small records
//! it trusts, without letting whoever could plant something there steer it (docs/contract.md
//! "State dir").
//!
//! - Every state file is opened with `O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK`: a symlink planted
//!   at its path is refused (`ELOOP`) rather than followed, and a FIFO planted there neither
//!   blocks the open nor is used, because the opened handle is then checked (`fstat`): a
//!   regular file with no second hard link, owned by this user, not group/world writable
//!   ([`Rule::Private`]). A failure of these checks is [`Error::Refused`] (exit 5) naming the
//!   path. `O_NONBLOCK` changes nothing for a regular file (nor for `flock`).
//! - Directories (`slots/`, `leases/`, `logs/`, the data dir's `backends/` and `.partial/`)
//!   are opened `O_DIRECTORY | O_NOFOLLOW` and checked the same way; the data dir's may be
//!   group-writable (umask 002 is common there), never world-writable ([`Rule::Shared`]).
//! - Small records are read through [`read_capped`], which counts bytes while reading and
//!   never trusts a reported size: at most [`RECORD_CAP`] for state records (more is a plain
//!   failure, exit 1), and the caps of `crate::fetch::source` for release files (more is
//!   [`Error::Integrity`], exit 3).
//!
//! Path resolution above the last component is trusted once the directory holding it has
//! passed these checks: only this user (or root) can change what a private directory holds.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};

use crate::error::{with_remedy, Remedy};
use crate::Error;

/// The largest state record read, in bytes (1 MiB): `backend.json`, `relaunch-marker.json`,
/// lease records, slot holder metadata, install records, partial-download records, pidfiles.
/// Real ones are under 4 KiB.
pub const RECORD_CAP: u64 = 1 << 20;

/// The largest release manifest read, in bytes (1 MiB), JSON (`S.manifest.json`) or text
/// (`S.manifest`): a JSON part entry takes about 300 bytes and a text line under 260, so this
/// holds over 3000 parts of up to 2 GiB, several terabytes. More is [`Error::Integrity`]
/// (exit 3).
pub const MANIFEST_CAP: u64 = 1 << 20;

/// The largest single-line checksum file of a release read, in bytes (64 KiB): `S.sha256`
/// and `S.tar.gz.sha256` hold one `<64 hex>  NAME` line. More is [`Error::Integrity`]
/// (exit 3).
pub const CHECKSUM_FILE_CAP: u64 = 64 << 10;

/// The largest sums file `verify -c` reads, in bytes (16 MiB: over 100 000 lines of
/// `<64 hex>  NAME`). More is [`Error::Integrity`] (exit 3).
pub const SUMS_FILE_CAP: u64 = 16 << 20;

/// Who may write a checked file or directory besides this user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Nobody: owned by this user, not group- or world-writable (the state dir and all in it).
    Private,
    /// The group may (umask 002): owned by this user, not world-writable (the data dir's
    /// `backends/` and `backends/.partial/`).
    Shared,
}

impl Rule {
    fn forbidden_mode_bits(self) -> u32 {
        match self {
            Rule::Private => 0o022,
            Rule::Shared => 0o002,
        }
    }
}

/// A refusal naming `path` (exit 5), with the remedy to remove what is there.
fn refused(path: &Path, why: impl std::fmt::Display) -> anyhow::Error {
    with_remedy(
        Error::Refused(format!("refusing {}: {why}", path.display())),
        Remedy::RemoveForeignFile {
            path: path.to_path_buf(),
        },
    )
}

/// Maps an open error of [`crate::platform::open_state`] or
/// [`crate::platform::open_state_dir`]: a [`crate::platform::Refusal`] (a symlink, a FIFO
/// without a reader, a non-directory) is a refusal; anything else is a plain error naming the
/// path.
fn open_error(path: &Path, e: std::io::Error) -> anyhow::Error {
    match crate::platform::refusal(&e) {
        Some(r) => refused(path, r.why),
        None => anyhow::Error::from(e).context(format!("cannot open {}", path.display())),
    }
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    crate::platform::kind_of(meta)
}

/// Checks owner and mode of an opened file or directory (see [`Rule`]).
fn check_owner_mode(file: &File, meta: &std::fs::Metadata, path: &Path, rule: Rule) -> Result<()> {
    if let Some(why) = crate::platform::foreign_owner(file)
        .with_context(|| format!("cannot read the owner of {}", path.display()))?
    {
        return Err(refused(path, format!("it is {why}")));
    }
    let Some(mode) = crate::platform::mode_bits(meta) else {
        return Ok(());
    };
    if mode & rule.forbidden_mode_bits() != 0 {
        let who = match rule {
            Rule::Private => "group or world",
            Rule::Shared => "world",
        };
        return Err(refused(
            path,
            format!("it is {who} writable (mode {mode:o})"),
        ));
    }
    Ok(())
}

/// Checks an opened state file: a regular file with no other hard link, owned by this user, not
/// writable by others as `rule` says. Errors with [`Error::Refused`] naming `path`.
pub fn check_file(file: &File, path: &Path, rule: Rule) -> Result<()> {
    let meta = file
        .metadata()
        .with_context(|| format!("cannot stat {}", path.display()))?;
    if !meta.file_type().is_file() {
        return Err(refused(
            path,
            format!("it is {}, not a regular file", kind_of(&meta)),
        ));
    }
    // More than one link: another name (a hard link planted here, or one elsewhere) shares
    // the inode. Zero links is fine: the file was replaced by a rename after the open.
    let links = crate::platform::link_count(file)
        .with_context(|| format!("cannot stat {}", path.display()))?;
    if links > 1 {
        return Err(refused(
            path,
            format!("it has {links} hard links; a state file has one"),
        ));
    }
    check_owner_mode(file, &meta, path, rule)
}

/// Opens the state file `path` with `options` plus `O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK`
/// (the caller sets the creation mode: 0600 for state files), then checks the handle with
/// [`check_file`] and clears `O_NONBLOCK`. Errors: a symlink,
/// a FIFO or device, another owner, a group/world-writable mode or extra hard links is
/// [`Error::Refused`] (exit 5) naming the path; I/O errors (including `NotFound`, which
/// callers may test with [`is_not_found`]) keep their `std::io::Error` in the chain.
pub fn open_file(path: &Path, options: &mut OpenOptions, rule: Rule) -> Result<File> {
    let file = crate::platform::open_state(options, path).map_err(|e| open_error(path, e))?;
    check_file(&file, path, rule)?;
    // A regular file ignores O_NONBLOCK, but a child given this descriptor (a backend's log)
    // should not inherit a surprising flag.
    crate::platform::clear_nonblocking(&file)
        .with_context(|| format!("cannot clear O_NONBLOCK on {}", path.display()))?;
    Ok(file)
}

/// A file that was asked for as a release file, a checksum or signature file, or a file to
/// hash, and is not a regular file (a FIFO, a device, a socket, a directory). Carried inside
/// the `std::io::Error` of [`open_regular`] (find it with [`not_regular`]).
#[derive(Debug, Clone, thiserror::Error)]
#[error("is {kind}, not a regular file")]
pub struct NotRegular {
    /// What it is instead, as "a FIFO", "a directory", ...
    pub kind: &'static str,
}

/// Opens `path` read-only without ever blocking in `open(2)`: with `O_NONBLOCK | O_CLOEXEC`
/// (symlinks are followed: a user may point at a release or a file through one), so a FIFO
/// with no writer does not hang the open; then the handle is checked (`fstat`) and anything
/// but a regular file refused; then `O_NONBLOCK` is cleared, so the handle reads as a plain
/// open one does. The check is on the handle, so a file swapped after a `stat` is caught too.
///
/// Errors: the open's own `std::io::Error` (`NotFound` and others, kind kept); a file that is
/// not regular is an `std::io::Error` of kind `InvalidInput` carrying [`NotRegular`].
pub fn open_regular(path: &Path) -> std::io::Result<File> {
    let file = crate::platform::open_nonblocking(path)?;
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            NotRegular {
                kind: kind_of(&meta),
            },
        ));
    }
    crate::platform::clear_nonblocking(&file)?;
    Ok(file)
}

/// The [`NotRegular`] inside an error of [`open_regular`], if that is what it is.
pub fn not_regular(err: &std::io::Error) -> Option<&NotRegular> {
    err.get_ref().and_then(|e| e.downcast_ref::<NotRegular>())
}

/// [`open_file`] for reading and writing, creating the file with `mode` if it does not exist
/// and never truncating it: how lock files (slots, leases) and the resumable data file of a
/// partial download are opened.
pub fn open_or_create(path: &Path, mode: u32, rule: Rule) -> Result<File> {
    open_file(
        path,
        crate::platform::create_mode(
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false),
            mode,
        ),
        rule,
    )
}

/// Whether `err` is a "no such file" error from [`open_file`] or [`read_record`].
pub fn is_not_found(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound)
    })
}

/// Checks the directory `path` on an opened handle (`O_DIRECTORY | O_NOFOLLOW`): a directory
/// (not a symlink to one), owned by this user, with the mode `rule` allows. Errors with
/// [`Error::Refused`] naming the path; a missing directory is a plain error.
pub fn check_dir(path: &Path, rule: Rule) -> Result<()> {
    let dir = crate::platform::open_state_dir(path).map_err(|e| open_error(path, e))?;
    let meta = dir
        .metadata()
        .with_context(|| format!("cannot stat {}", path.display()))?;
    check_owner_mode(&dir, &meta, path, rule)
}

/// Creates the directory `path` with `mode` if it is missing (its parent must exist, or
/// `recursive` creates the parents too), then checks it with [`check_dir`].
pub fn ensure_dir(path: &Path, mode: u32, recursive: bool, rule: Rule) -> Result<()> {
    match crate::platform::create_dir(path, mode, recursive) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            return Err(anyhow::Error::from(e).context(format!("cannot create {}", path.display())))
        }
    }
    check_dir(path, rule)
}

/// A read that went over its cap.
#[derive(Debug, thiserror::Error)]
#[error("{} is larger than {cap} bytes", .path.display())]
pub struct TooLarge {
    /// The file read.
    pub path: std::path::PathBuf,
    /// The cap, in bytes.
    pub cap: u64,
}

/// Reads `reader` to its end, at most `cap` bytes, counting while reading (a reported size is
/// never trusted: `/dev/zero`, a growing file or a pipe is stopped at `cap + 1` bytes).
/// Errors with [`TooLarge`] naming `path` when there is more; read errors name `path`.
pub fn read_capped(reader: impl Read, cap: u64, path: &Path) -> Result<Vec<u8>> {
    read_capped_sized(reader, cap, 0, path)
}

/// [`read_capped`] into a buffer allocated for `expected` bytes (at most `cap`) up front, so
/// a large file is read without the copies of a growing buffer.
pub fn read_capped_sized(
    reader: impl Read,
    cap: u64,
    expected: u64,
    path: &Path,
) -> Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(usize::try_from(expected.min(cap)).unwrap_or(0));
    reader
        .take(cap.saturating_add(1))
        .read_to_end(&mut buf)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if buf.len() as u64 > cap {
        return Err(TooLarge {
            path: path.to_path_buf(),
            cap,
        }
        .into());
    }
    Ok(buf)
}

/// Reads the state record `path` whole: opened as [`open_file`] does (read-only), read with
/// [`read_capped`] up to [`RECORD_CAP`]. `Ok(None)` when it does not exist. Errors: a file of
/// the wrong type, owner or mode is [`Error::Refused`] (exit 5); a record over the cap is a
/// plain failure (exit 1) naming the path.
pub fn read_record(path: &Path) -> Result<Option<Vec<u8>>> {
    read_record_as(path, Rule::Private)
}

/// [`read_record`] for a record in a directory checked with `rule` (the data dir's records
/// are [`Rule::Shared`]).
pub fn read_record_as(path: &Path, rule: Rule) -> Result<Option<Vec<u8>>> {
    let file = match open_file(path, OpenOptions::new().read(true), rule) {
        Ok(f) => f,
        Err(e) if is_not_found(&e) && Error::find(&e).is_none() => return Ok(None),
        Err(e) => return Err(e),
    };
    // Records are a few hundred bytes: one read fills a page-sized buffer, one more sees EOF.
    read_capped_sized(&file, RECORD_CAP, 4096, path).map(Some)
}

/// Reads a file that is not voxctl's own but must be a plain record (a pidfile, a release's
/// manifest or checksum file in a directory): symlinks are followed (the user may point at
/// it through one), the opened handle (`O_NONBLOCK`, so a FIFO does not block the open) must
/// be a regular file, and at most `cap` bytes are read. `Ok(None)` when it does not exist.
/// Errors: another file type is reported through `wrong_type`, more than `cap` bytes through
/// `too_large` (each gets the message naming the path), so the caller picks the exit code;
/// `too_large` `None` makes it a plain failure (exit 1, [`TooLarge`] in the chain).
pub fn read_foreign(
    path: &Path,
    cap: u64,
    wrong_type: fn(String) -> Error,
    too_large: Option<fn(String) -> Error>,
) -> Result<Option<Vec<u8>>> {
    let file = match crate::platform::open_nonblocking(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(anyhow::Error::from(e).context(format!("cannot open {}", path.display())))
        }
    };
    let meta = file
        .metadata()
        .with_context(|| format!("cannot stat {}", path.display()))?;
    if !meta.file_type().is_file() {
        return Err(wrong_type(format!(
            "{} is {}, not a regular file",
            path.display(),
            kind_of(&meta)
        ))
        .into());
    }
    match (read_capped_sized(&file, cap, meta.len(), path), too_large) {
        (Err(e), Some(typed)) if e.downcast_ref::<TooLarge>().is_some() => {
            Err(typed(format!("{e}; refusing to read it")).into())
        }
        (other, _) => other.map(Some),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};

    fn refused_kind(err: &anyhow::Error) -> bool {
        matches!(Error::find(err), Some(Error::Refused(_)))
    }

    #[test]
    fn symlinks_fifos_links_and_modes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, b"keep").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let hard = dir.path().join("hard");
        std::fs::hard_link(&target, &hard).unwrap();

        let mut rw = OpenOptions::new();
        rw.read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600);
        for p in [&link, &dangling, &fifo, &hard] {
            let err = open_file(p, &mut rw.clone(), Rule::Private).unwrap_err();
            assert!(refused_kind(&err), "{}: {err:#}", p.display());
            assert!(format!("{err:#}").contains(&p.display().to_string()));
        }
        assert!(
            !dir.path().join("nowhere").exists(),
            "dangling target not created"
        );
        assert_eq!(std::fs::read(&target).unwrap(), b"keep");

        std::fs::remove_file(&hard).unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o620)).unwrap();
        let err = open_file(&target, &mut rw.clone(), Rule::Private).unwrap_err();
        assert!(refused_kind(&err), "{err:#}");
        open_file(&target, &mut rw.clone(), Rule::Shared).unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o602)).unwrap();
        let err = open_file(&target, &mut rw.clone(), Rule::Shared).unwrap_err();
        assert!(refused_kind(&err), "{err:#}");
    }

    #[test]
    fn directories_are_checked_on_the_handle() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("slots");
        ensure_dir(&sub, 0o700, false, Rule::Private).unwrap();
        std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o770)).unwrap();
        assert!(refused_kind(&check_dir(&sub, Rule::Private).unwrap_err()));
        check_dir(&sub, Rule::Shared).unwrap();
        let link = dir.path().join("leases");
        std::os::unix::fs::symlink(&sub, &link).unwrap();
        assert!(refused_kind(
            &ensure_dir(&link, 0o700, false, Rule::Shared).unwrap_err()
        ));
        let file = dir.path().join("logs");
        std::fs::write(&file, b"").unwrap();
        assert!(refused_kind(
            &ensure_dir(&file, 0o700, false, Rule::Private).unwrap_err()
        ));
    }

    #[test]
    fn reads_are_capped_while_reading() {
        let zero = File::open("/dev/zero").unwrap();
        let err = read_capped(zero, 4096, Path::new("/dev/zero")).unwrap_err();
        assert!(err.downcast_ref::<TooLarge>().is_some(), "{err:#}");
        assert_eq!(
            read_capped(&b"abc"[..], 3, Path::new("x")).unwrap(),
            b"abc".to_vec()
        );
        let dir = tempfile::tempdir().unwrap();
        assert!(read_record(&dir.path().join("missing")).unwrap().is_none());
        let link = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let err = read_foreign(&link, 10, Error::Refused, None).unwrap_err();
        assert!(refused_kind(&err), "{err:#}");
    }
}
