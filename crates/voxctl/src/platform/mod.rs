//! The operating system's primitives behind one small interface per concern, so that the
//! domains (slot table, leases, fetch, restart, reap) are written once. Each function here has
//! a Unix implementation (`unix.rs`) and a Windows one (`windows.rs`) with the same contract;
//! the differences a caller can observe are stated on the function.
//!
//! Concerns behind the seam so far:
//! - **Durable replace**: [`replace_file`] (rename over a target in one atomic step) and
//!   [`sync_dir`] (make renames and creations in a directory survive a power loss).
//! - **Installing an executable**: [`make_executable`], and [`hard_link_unsupported`] to tell
//!   a filesystem without hard links from a failure.
//! - **Locks and positional writes**: [`lock_holder`] names the process holding a lock where
//!   the system can tell; [`write_all_at`] writes at an offset; [`file_identity`] tells one
//!   file from another; [`make_inheritable`] hands a handle (and its lock) to children.
//! - **No-follow opens**: [`open_state`] and [`open_state_dir`] never follow a link planted at
//!   the last component of the path; [`refusal`] tells such a refusal from an I/O error.
//!
//! - **Processes**: [`process`], identity, pinning, groups and listening ports.
//!
//! File locks need no seam: `std::fs::File::lock`/`try_lock`/`try_lock_shared` are `flock(2)`
//! on Unix and `LockFileEx` on Windows; both are held by the open file (not the process or
//! the path), are exclusive or shared, and die with the process that holds them.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

pub mod process;

#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as imp;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as imp;

/// Why an open of a state file or directory was refused rather than failed: something other
/// than what voxctl creates sits at the path (a symbolic link, a junction or other reparse
/// point, a FIFO, a non-directory where a directory belongs). Carried inside the
/// `std::io::Error` of [`open_state`] and [`open_state_dir`]; find it with [`refusal`].
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("{why}")]
pub struct Refusal {
    /// What is wrong, as "it is a symbolic link".
    pub why: &'static str,
}

impl Refusal {
    fn into_io(self, kind: io::ErrorKind) -> io::Error {
        io::Error::new(kind, self)
    }
}

/// The [`Refusal`] inside an error of [`open_state`] or [`open_state_dir`], if that is what
/// it is (any other error is a plain I/O failure, its kind kept).
pub fn refusal(err: &io::Error) -> Option<Refusal> {
    err.get_ref()
        .and_then(|e| e.downcast_ref::<Refusal>())
        .copied()
}

/// Opens the state file `path` with `options` without following a link at its last
/// component, without blocking on a special file, and without the handle being inherited by
/// child processes.
///
/// Unix: `O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK` (a symlink is refused, `ELOOP`; a FIFO with no
/// reader is refused, `ENXIO`); `O_NONBLOCK` stays set and the caller clears it once it has
/// checked the handle is a regular file. Any `custom_flags` already on `options` are replaced.
/// Windows: `FILE_FLAG_OPEN_REPARSE_POINT`, then a handle on a reparse point (a symbolic link,
/// a junction) is closed and refused.
///
/// Errors: a refusal is an `std::io::Error` carrying [`Refusal`]; any other error is the
/// open's own.
pub fn open_state(options: &mut OpenOptions, path: &Path) -> io::Result<File> {
    imp::open_state(options, path)
}

/// Opens the directory `path` read-only for checking, never through a link at its last
/// component. Unix: `O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK`; Windows:
/// `FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT`, then a reparse point is
/// refused. Errors: a link or a non-directory is an `std::io::Error` carrying [`Refusal`];
/// any other error (a missing directory among them) is the open's own.
pub fn open_state_dir(path: &Path) -> io::Result<File> {
    imp::open_state_dir(path)
}

/// Renames `from` over `to` in one atomic step: a reader of `to` sees the old file or the
/// new one, never neither. Both must be on one volume. Unix: `rename(2)`. Windows:
/// `MoveFileExW(MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)`, which returns only once
/// the rename is on disk, retried through [`while_shared`] while a reader has `to` open.
/// Errors: the system call's.
pub fn replace_file(from: &Path, to: &Path) -> io::Result<()> {
    while_shared(|| imp::replace_file(from, to))
}

/// Swaps the files at `a` and `b` in one atomic step (`renameat2(RENAME_EXCHANGE)`, Linux):
/// a reader of either path sees one whole file or the other. `Ok(false)` when it cannot be
/// done that way (no file at `b`, a filesystem or system without the exchange, any OS but
/// Linux): the caller then renames as usual. Both must be on one filesystem. Errors: the
/// system call's other ones.
///
/// Writing a new file and exchanging it with the old one, then deleting the old one, is the
/// cheap way to replace a small file on ext4: a `rename(2)` over an existing file makes ext4
/// allocate and start writing the new file's blocks inside the call (its `auto_da_alloc`
/// guard for applications that skip fsync), which the exchange does not.
pub fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{renameat_with, RenameFlags, CWD};
        match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
            Ok(()) => Ok(true),
            Err(e)
                if e == rustix::io::Errno::NOENT
                    || e == rustix::io::Errno::INVAL
                    || e == rustix::io::Errno::NOSYS
                    || e == rustix::io::Errno::OPNOTSUPP =>
            {
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (a, b);
        Ok(false)
    }
}

/// How long [`while_shared`] retries.
pub const SHARING_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

/// Runs `op` until it succeeds, fails for another reason than another process having the file
/// open, or [`SHARING_PATIENCE`] has passed. Windows refuses to replace or delete a file that
/// another process has open (`ERROR_ACCESS_DENIED`, `ERROR_SHARING_VIOLATION`) where Unix lets
/// the reader keep the old inode; voxctl's readers of state files hold them for one read, so
/// the writer waits the read out (1 ms steps). Unix: `op` once.
pub fn while_shared<T>(mut op: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    let deadline = std::time::Instant::now() + SHARING_PATIENCE;
    loop {
        match op() {
            Err(e) if imp::held_open_elsewhere(&e) && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(1))
            }
            other => return other,
        }
    }
}

/// The pid holding a lock (`std::fs::File::lock` and kin) on the file `meta` describes, read
/// without taking a lock: `Ok(Some(pid))` held, `Ok(None)` free. Linux: from `/proc/locks`
/// (the owner of a `FLOCK` line on the file's device and inode; blocked waiters do not
/// count). Elsewhere (other Unixes, Windows, which has no such listing): an error of kind
/// `Unsupported`, and the caller probes with `try_lock_shared` instead. Errors: reading
/// `/proc/locks`.
pub fn lock_holder(meta: &std::fs::Metadata) -> io::Result<Option<i32>> {
    imp::lock_holder(meta)
}

/// Whether another process holds `path` open without sharing it, as a Chromium/CEF browser
/// holds its profile's `lockfile` on Windows: `Ok(true)` when opening it for reading (sharing
/// read, write and delete) fails with a sharing violation, `Ok(false)` when it opens or does
/// not exist. Windows only: elsewhere an error of kind `Unsupported` (Unix has no sharing
/// modes; its Chromium lock is the `SingletonLock` symlink). Errors: any other failure to
/// open.
pub fn held_without_sharing(path: &Path) -> io::Result<bool> {
    imp::held_without_sharing(path)
}

/// Writes all of `buf` at byte `offset` of `file` (Unix: `pwrite(2)`, the file position
/// untouched; Windows: `WriteFile` at an offset, which moves the file position). Errors: the
/// write's.
pub fn write_all_at(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    imp::write_all_at(file, buf, offset)
}

/// Reads into `buf` from byte `offset` of `file`, returning how many bytes were read (0 at
/// the end of the file). Unix: `pread(2)`, the file position untouched. Windows: `ReadFile`
/// at an offset, which moves the file position, so callers sharing a handle must not rely
/// on its position. Errors: the read's.
pub fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    imp::read_at(file, buf, offset)
}

/// Reads exactly `buf.len()` bytes from byte `offset` of `file` ([`read_at`] until full).
/// Errors: the read's; `UnexpectedEof` when the file ends first.
pub fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    while !buf.is_empty() {
        match read_at(file, buf, offset) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The free and total space of the filesystem holding `dir`, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Space {
    /// Bytes an unprivileged writer may still take (Unix `f_bavail * f_frsize`; Windows the
    /// caller's free bytes, quotas applied).
    pub available: u64,
    /// The filesystem's size (Unix `f_blocks * f_frsize`; Windows the total bytes).
    pub total: u64,
}

/// The [`Space`] of the filesystem holding `dir` (Unix `statvfs(3)`; Windows
/// `GetDiskFreeSpaceExW`). Errors: the call's.
pub fn space(dir: &Path) -> io::Result<Space> {
    imp::space(dir)
}

/// Bytes of disk the open file `file` takes (Unix `st_blocks * 512`; Windows its allocation
/// size, `GetFileInformationByHandleEx(FileStandardInfo)`): less than its length when it is
/// sparse. Errors: the call's.
pub fn allocated(file: &File) -> io::Result<u64> {
    imp::allocated(file)
}

/// Gives `file` a length of `size` bytes with its blocks allocated up front where the
/// filesystem can (so a full disk fails here, not after gigabytes), else sparse. Linux:
/// `fallocate(2)`, falling back to `ftruncate` where unsupported. Windows: `SetEndOfFile`,
/// which allocates the clusters on NTFS. Errors: the calls'.
pub fn preallocate(file: &File, size: u64) -> io::Result<()> {
    imp::preallocate(file, size)
}

/// Gives back the disk space of `len` bytes of `file` from `offset`, keeping its length
/// (reads there give zeros). `Ok(false)` when the filesystem or system cannot (then nothing
/// changed): Linux `fallocate(PUNCH_HOLE | KEEP_SIZE)`, `EOPNOTSUPP` being false; other
/// systems, Windows among them, always false. Errors: the call's.
pub fn punch_hole(file: &File, offset: u64, len: u64) -> io::Result<bool> {
    imp::punch_hole(file, offset, len)
}

/// The identity of the open file `file`, equal for two handles on one file and different
/// for any other file, as long as both exist: Unix `(st_dev, st_ino)`; Windows the volume
/// serial number and the 64-bit file index (`GetFileInformationByHandle`). Errors: the
/// `fstat`'s or the call's.
pub fn file_identity(file: &File) -> io::Result<(u64, u64)> {
    imp::file_identity(file)
}

/// Lets child processes started from now on inherit `file`, and with it the lock on it
/// (Unix: clears `FD_CLOEXEC`; the `flock` belongs to the shared open file description.
/// Windows: sets `HANDLE_FLAG_INHERIT`; std's spawn inherits inheritable handles). Errors: the
/// system call's.
pub fn make_inheritable(file: &File) -> io::Result<()> {
    imp::make_inheritable(file)
}

/// Makes the installed file `path` executable by everyone who can read it. Unix: mode
/// `0755`. Windows: does nothing and succeeds (whether a file runs is decided by its
/// extension and ACL, not a mode bit). Errors (Unix): `chmod`'s.
pub fn make_executable(path: &Path) -> io::Result<()> {
    imp::make_executable(path)
}

/// Whether `err`, from `std::fs::hard_link`, means the filesystem cannot give this file a
/// second link (no hard links there, or the file at its link limit), so the caller should
/// do without one, rather than a failure to report. Unix: `EPERM`, `EOPNOTSUPP`, `EMLINK`.
/// Windows: `ERROR_NOT_SUPPORTED`, `ERROR_INVALID_FUNCTION`, `ERROR_TOO_MANY_LINKS`.
pub fn hard_link_unsupported(err: &io::Error) -> bool {
    imp::hard_link_unsupported(err)
}

/// Makes renames and creations inside `dir` durable (they survive a power loss).
/// Unix: opens the directory and `fsync`s it. Windows: does nothing and succeeds, because
/// NTFS journals its metadata and a directory handle cannot be flushed there; the renames
/// voxctl relies on are made durable by [`replace_file`]'s `MOVEFILE_WRITE_THROUGH` instead.
/// Errors (Unix): the open's or the fsync's.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    imp::sync_dir(dir)
}

/// Opens `path` read-only without ever blocking in the open itself, following links (a user
/// may point at a release file through one), the handle not inherited by children. Unix:
/// `O_NONBLOCK | O_CLOEXEC`, so a FIFO with no writer does not hang the open; the caller
/// checks the handle is a regular file, then calls [`clear_nonblocking`]. Windows: a plain
/// read-only open (an open there never waits for a writer). Errors: the open's.
pub fn open_nonblocking(path: &Path) -> io::Result<File> {
    imp::open_nonblocking(path)
}

/// Clears the non-blocking mode that [`open_state`] and [`open_nonblocking`] leave on a
/// handle, so it reads (and a child given it writes) as a plain open file does. Unix:
/// `fcntl(F_SETFL)` without `O_NONBLOCK`. Windows: nothing to clear. Errors: `fcntl`'s.
pub fn clear_nonblocking(file: &File) -> io::Result<()> {
    imp::clear_nonblocking(file)
}

/// What a file of type `meta` is, for a message: "a regular file", "a directory", "a
/// symbolic link", and on Unix "a FIFO", "a character device", "a block device", "a
/// socket"; on Windows anything else is "a special file".
pub fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_file() {
        "a regular file"
    } else {
        imp::special_kind(&t)
    }
}

/// The number of names (hard links) the open file `file` has. Unix: `st_nlink`. Windows:
/// `nNumberOfLinks` of `GetFileInformationByHandle`. Errors: the `fstat`'s or the call's.
pub fn link_count(file: &File) -> io::Result<u64> {
    imp::link_count(file)
}

/// Whether the open file or directory `file` is owned by the user voxctl runs as:
/// `Ok(None)` when it is, `Ok(Some(why))` naming the owner when it is not, as "owned by uid
/// 1001, not by this user (uid 1000)". Unix: `st_uid`
/// against the effective uid. Windows: the owner SID of the handle's security descriptor
/// against the process token's user and default owner (an elevated administrator's files
/// are owned by the Administrators group). Errors: the `fstat`'s, or the security calls'.
pub fn foreign_owner(file: &File) -> io::Result<Option<String>> {
    imp::foreign_owner(file)
}

/// The permission bits (`st_mode & 0o7777`) of the file `meta` describes, on Unix. `None`
/// on Windows, which has no mode bits: who may write there is its ACL's business, and a
/// state dir under the user's profile inherits one that admits only that user and the
/// system.
pub fn mode_bits(meta: &std::fs::Metadata) -> Option<u32> {
    imp::mode_bits(meta)
}

/// Opens the directory `path` (following links) to read its metadata and owner. Unix: a
/// plain read-only open. Windows: with `FILE_FLAG_BACKUP_SEMANTICS`, without which a
/// directory cannot be opened. Errors: the open's.
pub fn open_dir(path: &Path) -> io::Result<File> {
    imp::open_dir(path)
}

/// Sets the permission bits a file created through `options` gets (Unix: the `mode` of
/// `open(2)`, still filtered by the umask). Windows: nothing (the new file inherits its
/// directory's ACL).
pub fn create_mode(options: &mut OpenOptions, mode: u32) -> &mut OpenOptions {
    imp::create_mode(options, mode)
}

/// Sets the permission bits of the temporary files `builder` creates (Unix: `mode`, then
/// the umask applies). Windows: nothing (a new file inherits its directory's ACL).
pub fn temp_mode(builder: &mut tempfile::Builder<'_, '_>, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = (builder, mode);
}

/// The path a checksum list or archive names with the bytes `name`. Unix: those bytes, as
/// they are. Windows: the bytes read as UTF-8, an invalid sequence replaced by U+FFFD (a
/// Windows file name is UTF-16, and such a name cannot name a file there).
pub fn path_from_bytes(name: &[u8]) -> std::path::PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        std::path::PathBuf::from(std::ffi::OsStr::from_bytes(name))
    }
    #[cfg(not(unix))]
    std::path::PathBuf::from(String::from_utf8_lossy(name).into_owned())
}

/// The error a read of a directory as a file gives: Unix `EISDIR` ("Is a directory", as
/// GNU tools print it), elsewhere an error of kind `IsADirectory`.
pub fn is_a_directory() -> io::Error {
    #[cfg(unix)]
    return io::Error::from_raw_os_error(nix::libc::EISDIR);
    #[cfg(not(unix))]
    return io::ErrorKind::IsADirectory.into();
}

/// Makes the child `command` will start the leader of a new process group, so that
/// [`kill_group`] ends it with whatever it started. Unix: `process_group(0)`. Windows:
/// `CREATE_NEW_PROCESS_GROUP` (which also keeps a Ctrl-C of voxctl's console from reaching
/// it).
pub fn own_group(command: &mut std::process::Command) {
    imp::own_group(command)
}

/// Kills `child`, started with [`own_group`] and not yet waited for, at once and without a
/// chance to clean up. Unix: `SIGKILL` to its process group (its own children too: our
/// unreaped child leads the group, so neither id can have been reused). Windows:
/// `TerminateProcess` of the child only: Windows has no process tree to kill by group, and
/// the programs run this way (`nvidia-smi.exe`, probes) start no children. Errors are
/// ignored: the child may have exited already.
pub fn kill_group(child: &mut std::process::Child) {
    imp::kill_group(child)
}

/// The signal that ended a process, from its exit status (Unix); `None` when it exited with
/// a code, and always on Windows, where every exit has a code.
pub fn exit_signal(status: &std::process::ExitStatus) -> Option<i32> {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        status.signal()
    }
    #[cfg(not(unix))]
    {
        let _ = status;
        None
    }
}

/// Creates the directory `path` with permission bits `mode` (Unix, filtered by the umask;
/// ignored on Windows), its missing parents too when `recursive`. Errors: `DirBuilder`'s,
/// `AlreadyExists` among them when not `recursive`.
pub fn create_dir(path: &Path, mode: u32, recursive: bool) -> io::Result<()> {
    imp::create_dir(path, mode, recursive)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_swaps_two_files_on_linux_and_declines_a_missing_target() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, "new").unwrap();
        assert!(
            !exchange(&a, &b).unwrap(),
            "no file at b: nothing to exchange"
        );
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "new");
        assert!(!b.exists());
        std::fs::write(&b, "old").unwrap();
        let swapped = exchange(&a, &b).unwrap();
        assert_eq!(swapped, cfg!(target_os = "linux"));
        let (at_a, at_b) = if swapped {
            ("old", "new")
        } else {
            ("new", "old")
        };
        assert_eq!(std::fs::read_to_string(&a).unwrap(), at_a);
        assert_eq!(std::fs::read_to_string(&b).unwrap(), at_b);
    }

    #[test]
    fn replace_file_replaces_an_existing_target() {
        let dir = tempfile::tempdir().unwrap();
        let (from, to) = (dir.path().join("new"), dir.path().join("target"));
        std::fs::write(&from, b"new").unwrap();
        std::fs::write(&to, b"old").unwrap();
        replace_file(&from, &to).unwrap();
        assert_eq!(std::fs::read(&to).unwrap(), b"new");
        assert!(!from.exists());
        sync_dir(dir.path()).unwrap();
    }

    #[test]
    fn lock_holder_names_this_process_while_it_holds_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        let file = File::create(&path).unwrap();
        let free = lock_holder(&file.metadata().unwrap());
        file.lock().unwrap();
        let held = lock_holder(&file.metadata().unwrap());
        if cfg!(target_os = "linux") {
            assert_eq!(free.unwrap(), None);
            assert_eq!(held.unwrap(), Some(std::process::id() as i32));
        } else {
            assert_eq!(held.unwrap_err().kind(), io::ErrorKind::Unsupported);
        }
    }

    #[test]
    fn file_identity_tells_files_apart() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, b"x").unwrap();
        std::fs::write(&b, b"x").unwrap();
        let id = |p: &Path| file_identity(&File::open(p).unwrap()).unwrap();
        assert_eq!(id(&a), id(&a));
        assert_ne!(id(&a), id(&b));
    }

    #[test]
    fn write_all_at_overwrites_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"abcdef").unwrap();
        let file = OpenOptions::new().write(true).open(&path).unwrap();
        write_all_at(&file, b"XY", 2).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"abXYef");
    }

    #[test]
    fn make_executable_lets_the_file_run() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("run.sh");
        std::fs::write(&script, "#!/bin/sh\nexit 7\n").unwrap();
        make_executable(&script).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&script).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o755);
            let status = std::process::Command::new(&script).status().unwrap();
            assert_eq!(status.code(), Some(7));
        }
    }

    #[test]
    fn space_and_allocation_are_read_and_a_hole_gives_space_back() {
        let dir = tempfile::tempdir().unwrap();
        let space = space(dir.path()).unwrap();
        assert!(
            space.total > 0 && space.available <= space.total,
            "{space:?}"
        );
        let path = dir.path().join("f");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .unwrap();
        preallocate(&file, 1 << 20).unwrap();
        assert_eq!(file.metadata().unwrap().len(), 1 << 20);
        write_all_at(&file, &[7u8; 1 << 20], 0).unwrap();
        file.sync_all().unwrap();
        let before = allocated(&file).unwrap();
        assert!(before >= 1 << 20, "{before}");
        if punch_hole(&file, 0, 1 << 19).unwrap() {
            let after = allocated(&file).unwrap();
            assert!(after <= before - (1 << 19), "{before} -> {after}");
            let mut buf = [1u8; 16];
            read_exact_at(&file, &mut buf, 0).unwrap();
            assert_eq!(buf, [0; 16]);
        }
        let mut buf = [0u8; 4];
        read_exact_at(&file, &mut buf, (1 << 20) - 4).unwrap();
        assert_eq!(buf, [7; 4]);
        let past = read_exact_at(&file, &mut buf, 1 << 20).unwrap_err();
        assert_eq!(past.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn owner_and_links_of_a_new_file_are_this_user_and_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"x").unwrap();
        let file = File::open(&path).unwrap();
        assert_eq!(foreign_owner(&file).unwrap(), None);
        assert_eq!(foreign_owner(&open_dir(dir.path()).unwrap()).unwrap(), None);
        assert_eq!(link_count(&file).unwrap(), 1);
        std::fs::hard_link(&path, dir.path().join("g")).unwrap();
        assert_eq!(link_count(&file).unwrap(), 2);
        assert_eq!(kind_of(&file.metadata().unwrap()), "a regular file");
        assert_eq!(
            kind_of(&std::fs::metadata(dir.path()).unwrap()),
            "a directory"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_file_of_another_user_is_named_as_foreign() {
        // As root (CI), a file given to `nobody`; as anyone else, `/` (root's).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"x").unwrap();
        let nobody = nix::unistd::Uid::from_raw(65534);
        let (file, owner) = match nix::unistd::chown(&path, Some(nobody), None) {
            Ok(()) => (File::open(&path).unwrap(), 65534),
            Err(_) => (open_dir(Path::new("/")).unwrap(), 0),
        };
        let why = foreign_owner(&file).unwrap().expect("foreign");
        assert!(
            why.contains(&format!("owned by uid {owner}, not by this user")),
            "{why}"
        );
    }

    #[test]
    fn hard_link_unsupported_tells_a_missing_feature_from_a_failure() {
        let dir = tempfile::tempdir().unwrap();
        let missing = std::fs::hard_link(dir.path().join("absent"), dir.path().join("b"));
        assert!(!hard_link_unsupported(&missing.unwrap_err()));
        #[cfg(unix)]
        for errno in [nix::libc::EPERM, nix::libc::EOPNOTSUPP, nix::libc::EMLINK] {
            assert!(hard_link_unsupported(&io::Error::from_raw_os_error(errno)));
        }
    }

    #[test]
    fn open_state_refuses_a_link_and_opens_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::write(&real, b"x").unwrap();
        let link = dir.path().join("link");
        #[cfg(unix)]
        std::os::unix::fs::symlink(&real, &link).unwrap();
        #[cfg(windows)]
        std::os::windows::fs::symlink_file(&real, &link).unwrap();
        let err = open_state(OpenOptions::new().read(true), &link).unwrap_err();
        assert!(refusal(&err).is_some(), "{err}");
        open_state(OpenOptions::new().read(true), &real).unwrap();
    }

    #[test]
    fn open_state_dir_refuses_a_link_and_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let link = dir.path().join("link");
        #[cfg(unix)]
        std::os::unix::fs::symlink(&sub, &link).unwrap();
        #[cfg(windows)]
        std::os::windows::fs::symlink_dir(&sub, &link).unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        for refused in [&link, &file] {
            let err = open_state_dir(refused).unwrap_err();
            assert!(refusal(&err).is_some(), "{}: {err}", refused.display());
        }
        open_state_dir(&sub).unwrap();
    }
}
