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

pub(super) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    use std::os::unix::fs::FileExt;
    file.read_at(buf, offset)
}

pub(super) fn space(dir: &Path) -> io::Result<super::Space> {
    let st = nix::sys::statvfs::statvfs(dir)?;
    // The field types are narrower than u64 on some platforms (macOS).
    #[allow(clippy::useless_conversion)]
    let (avail, blocks, frag) = (
        u64::from(st.blocks_available()),
        u64::from(st.blocks()),
        u64::from(st.fragment_size()),
    );
    Ok(super::Space {
        available: avail.saturating_mul(frag),
        total: blocks.saturating_mul(frag),
    })
}

pub(super) fn allocated(file: &File) -> io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    Ok(file.metadata()?.blocks().saturating_mul(512))
}

#[cfg(target_os = "linux")]
pub(super) fn preallocate(file: &File, size: u64) -> io::Result<()> {
    if size > 0 {
        use rustix::io::Errno;
        match rustix::fs::fallocate(file, rustix::fs::FallocateFlags::empty(), 0, size) {
            Ok(()) => return Ok(()),
            Err(e) if e == Errno::OPNOTSUPP || e == Errno::NOSYS || e == Errno::INVAL => {}
            Err(e) => return Err(e.into()),
        }
    }
    file.set_len(size)
}

#[cfg(not(target_os = "linux"))]
pub(super) fn preallocate(file: &File, size: u64) -> io::Result<()> {
    file.set_len(size)
}

#[cfg(target_os = "linux")]
pub(super) fn punch_hole(file: &File, offset: u64, len: u64) -> io::Result<bool> {
    use rustix::fs::FallocateFlags;
    use rustix::io::Errno;
    let flags = FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE;
    match rustix::fs::fallocate(file, flags, offset, len) {
        Ok(()) => Ok(true),
        Err(e) if e == Errno::OPNOTSUPP || e == Errno::NOSYS => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(target_os = "linux"))]
pub(super) fn punch_hole(_file: &File, _offset: u64, _len: u64) -> io::Result<bool> {
    Ok(false)
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

pub(super) fn open_nonblocking(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_CLOEXEC | nix::libc::O_NONBLOCK)
        .open(path)
}

pub(super) fn clear_nonblocking(file: &File) -> io::Result<()> {
    let flags = rustix::fs::fcntl_getfl(file)?;
    rustix::fs::fcntl_setfl(file, flags - rustix::fs::OFlags::NONBLOCK)?;
    Ok(())
}

pub(super) fn special_kind(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

pub(super) fn link_count(file: &File) -> io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    Ok(file.metadata()?.nlink())
}

pub(super) fn foreign_owner(file: &File) -> io::Result<Option<String>> {
    use std::os::unix::fs::MetadataExt;
    let owner = file.metadata()?.uid();
    let me = nix::unistd::geteuid().as_raw();
    Ok((owner != me).then(|| format!("owned by uid {owner}, not by this user (uid {me})")))
}

pub(super) fn mode_bits(meta: &std::fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    Some(meta.mode() & 0o7777)
}

pub(super) fn open_dir(path: &Path) -> io::Result<File> {
    File::open(path)
}

pub(super) fn own_group(command: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    command.process_group(0);
}

pub(super) fn kill_group(child: &mut std::process::Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

pub(super) fn create_mode(options: &mut OpenOptions, mode: u32) -> &mut OpenOptions {
    options.mode(mode)
}

pub(super) fn create_dir(path: &Path, mode: u32, recursive: bool) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(recursive)
        .mode(mode)
        .create(path)
}

pub(super) fn held_without_sharing(_path: &Path) -> io::Result<bool> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "files have no sharing modes on Unix",
    ))
}

pub(super) fn held_open_elsewhere(_err: &io::Error) -> bool {
    false
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
