//! Unix implementations of [`crate::platform`]'s interface.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::Refusal;

const STATE_FLAGS: i32 = nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC | nix::libc::O_NONBLOCK;

/// `ELOOP` (a symlink under `O_NOFOLLOW`) and `ENXIO` (a FIFO without a reader) are refusals.
fn map_open_error(e: io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(nix::libc::ELOOP) => Refusal {
            why: "it is a symbolic link",
        }
        .into_io(io::ErrorKind::InvalidInput),
        Some(nix::libc::ENXIO) => Refusal {
            why: "it is not a regular file",
        }
        .into_io(io::ErrorKind::InvalidInput),
        _ => e,
    }
}

pub(super) fn open_state(options: &mut OpenOptions, path: &Path) -> io::Result<File> {
    options
        .custom_flags(STATE_FLAGS)
        .open(path)
        .map_err(map_open_error)
}

pub(super) fn open_state_dir(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_DIRECTORY | STATE_FLAGS)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(nix::libc::ENOTDIR) => Refusal {
                why: "it is not a directory",
            }
            .into_io(io::ErrorKind::InvalidInput),
            _ => map_open_error(e),
        })
}

pub(super) fn replace_file(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::rename(from, to)
}

#[cfg(target_os = "linux")]
pub(super) fn lock_holder(meta: &std::fs::Metadata) -> io::Result<Option<i32>> {
    use std::os::unix::fs::MetadataExt;
    let locks = std::fs::read_to_string("/proc/locks")?;
    Ok(proc_locks_flock_owner(&locks, meta.dev(), meta.ino()))
}

#[cfg(not(target_os = "linux"))]
pub(super) fn lock_holder(_meta: &std::fs::Metadata) -> io::Result<Option<i32>> {
    Err(io::ErrorKind::Unsupported.into())
}

/// The pid owning a FLOCK on device `dev`, inode `ino`, according to `/proc/locks` text.
/// Lines look like `1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF` (device as
/// `major:minor` in hex; see proc(5)). Blocked waiters (`1: -> FLOCK ...`) do not count.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn proc_locks_flock_owner(locks: &str, dev: u64, ino: u64) -> Option<i32> {
    let major = nix::sys::stat::major(dev);
    let minor = nix::sys::stat::minor(dev);
    locks.lines().find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.get(1) != Some(&"FLOCK") {
            return None;
        }
        let mut parts = f.get(5)?.split(':');
        let (ma, mi, i) = (parts.next()?, parts.next()?, parts.next()?);
        let same = u64::from_str_radix(ma, 16).ok() == Some(major)
            && u64::from_str_radix(mi, 16).ok() == Some(minor)
            && i.parse::<u64>().ok() == Some(ino);
        if same {
            f.get(4)?.parse().ok()
        } else {
            None
        }
    })
}

pub(super) fn write_all_at(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.write_all_at(buf, offset)
}

pub(super) fn file_identity(file: &File) -> io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = file.metadata()?;
    Ok((meta.dev(), meta.ino()))
}

pub(super) fn make_inheritable(file: &File) -> io::Result<()> {
    use nix::fcntl::{fcntl, FcntlArg, FdFlag};
    use std::os::fd::AsRawFd;
    fcntl(file.as_raw_fd(), FcntlArg::F_SETFD(FdFlag::empty()))
        .map(|_| ())
        .map_err(io::Error::from)
}

pub(super) fn make_executable(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

pub(super) fn hard_link_unsupported(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(nix::libc::EPERM | nix::libc::EOPNOTSUPP | nix::libc::EMLINK)
    )
}

pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir).and_then(|d| d.sync_all())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_locks_parsing() {
        let text = "1: FLOCK  ADVISORY  WRITE 99 fd:01:1234 0 EOF\n\
                    2: -> FLOCK  ADVISORY  WRITE 98 00:2a:77 0 EOF\n";
        let dev = nix::sys::stat::makedev(0xfd, 1);
        assert_eq!(proc_locks_flock_owner(text, dev, 1234), Some(99));
        assert_eq!(proc_locks_flock_owner(text, dev, 1235), None);
        assert_eq!(
            proc_locks_flock_owner(text, nix::sys::stat::makedev(0, 0x2a), 77),
            None
        );
    }
}
