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
