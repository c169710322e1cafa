//! Safe extraction of a verified `.tar.gz` asset into `backends/{variant}/` (docs/contract.md
//! "Release layouts", layout 4): entries are unpacked into a fresh temporary directory next to the
//! target, checked, then the directory is swapped in as a whole (an atomic exchange on Linux), so
//! the previous install stays intact until the new one is complete and checked.
//!
//! The archive's bytes matched the release's SHA-256, but the release itself may be hostile.
//! Refused with [`Error::Integrity`](crate::Error::Integrity) (exit 3), leaving nothing behind:
//!
//! - an entry path that is absolute or has a `..` component (`./` and `./x`, as
//!   `tar czf x.tar.gz -C dir .` writes them, are fine);
//! - an entry whose path, resolved against what was extracted before it (links included,
//!   see `tree`), leads outside the directory;
//! - a symlink whose target, resolved the same way, leads outside the directory or is
//!   absolute, whether or not the target exists; every link is checked again once all
//!   entries are out, since a later entry can change where an earlier link leads;
//! - a hard link whose target is not a regular file extracted before it inside the
//!   directory (hard links to such files are allowed: they are made with `linkat`);
//! - any other entry type: devices, FIFOs, sparse files, ...;
//! - an archive that expands to more than its cap (see [`default_max_expanded`]; `fetch
//!   --max-size` sets another), or whose headers for one entry exceed [`MAX_HEADER_BYTES`];
//! - an archive that is not a valid `.tar.gz`, or has no executable regular file named after
//!   the asset at its top level (the binary `restart` starts).
//!
//! Modes are normalized: no setuid, setgid or sticky bit, never group- or world-writable
//! (`mode & 0o755`); directories also get `0o700`, so the extraction can always fill and
//! remove them. Owners are not restored. Before each file is written, the free space of the
//! filesystem is checked against its size (exit 1 when it does not fit).

#[cfg(unix)]
mod tree;
#[cfg(windows)]
#[path = "archive/tree_windows.rs"]
mod tree;
mod unpack;

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};

use crate::cancel::Cancel;
use crate::installs::InstalledFile;

/// The default cap on an archive's expanded size is this many times the archive's size ...
pub const EXPANSION_FACTOR: u64 = 20;

/// ... but never below this many bytes (16 MiB): a small archive is mostly tar padding,
/// which compresses far better than a backend's binaries and libraries do.
pub const MIN_MAX_EXPANDED: u64 = 16 << 20;

/// The most bytes of the tar stream one entry may take besides its extracted contents: its
/// headers (pax records, GNU long names) and any body that is not extracted, in bytes
/// (1 MiB). Bounds the memory the tar reader uses for names.
pub const MAX_HEADER_BYTES: u64 = 1 << 20;

/// The default cap, in bytes, on the expanded size (the uncompressed tar stream: headers and
/// contents) of an archive of `archive_size` bytes: [`EXPANSION_FACTOR`] times its size, at
/// least [`MIN_MAX_EXPANDED`].
pub fn default_max_expanded(archive_size: u64) -> u64 {
    archive_size
        .saturating_mul(EXPANSION_FACTOR)
        .max(MIN_MAX_EXPANDED)
}

/// Extracts `archive` (gzip-compressed tar) and swaps the result in as `target`. `label`
/// names the archive in errors (its URL); `executable` is the file the archive must hold at
/// its top level (the asset's name); `max_expanded` caps the uncompressed tar stream, in
/// bytes.
///
/// Returns what was extracted, sorted by path: each regular file's size and SHA-256
/// (hashed while it was written; a hard link's after extraction), each symlink's target,
/// for the install record that `verify --installed` and `fetch --repair` check against.
///
/// Errors: [`Error::Integrity`](crate::Error::Integrity) for every refusal in the module doc (nothing is installed
/// and the temporary directory is removed); I/O errors naming the path, including a
/// filesystem without room for the next file (needed and available bytes in the message);
/// [`Error::Interrupted`](crate::Error::Interrupted) once `cancel` is cancelled (between entries, and every 64 KiB of
/// a file), with nothing installed.
pub fn install_archive(
    archive: &Path,
    label: &str,
    target: &Path,
    executable: &str,
    max_expanded: u64,
    cancel: &Cancel,
) -> Result<Vec<InstalledFile>> {
    let (tmp, files) = extract_checked(archive, label, target, executable, max_expanded, cancel)?;
    sync_tree(tmp.path())?; // the extracted tree is durable before it replaces the old one
    let new_dir = tmp.keep();
    swap_in(&new_dir, target)?;
    crate::atomic::fsync_dir(crate::atomic::parent_dir(target))?;
    Ok(files)
}

/// Extracts and checks `archive` (as [`install_archive`] does) into a new temporary
/// directory beside `target`, and returns it with the extracted files; nothing is swapped
/// in. `fetch --repair` takes single verified files from it.
pub fn extract_checked(
    archive: &Path,
    label: &str,
    target: &Path,
    executable: &str,
    max_expanded: u64,
    cancel: &Cancel,
) -> Result<(tempfile::TempDir, Vec<InstalledFile>)> {
    let parent = crate::atomic::parent_dir(target);
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("backend");
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.new-"))
        .tempdir_in(parent)
        .with_context(|| {
            format!(
                "cannot create a temporary directory in {}",
                parent.display()
            )
        })?;
    let mut files = unpack::extract(tmp.path(), archive, label, executable, max_expanded, cancel)?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((tmp, files))
}

/// Flushes the filesystem holding `dir` (one `syncfs` instead of an fsync per file).
#[cfg(unix)]
fn sync_tree(dir: &Path) -> Result<()> {
    let f = std::fs::File::open(dir).with_context(|| format!("cannot open {}", dir.display()))?;
    #[cfg(target_os = "linux")]
    rustix::fs::syncfs(&f).with_context(|| format!("cannot sync {}", dir.display()))?;
    #[cfg(not(target_os = "linux"))]
    f.sync_all()
        .with_context(|| format!("cannot sync {}", dir.display()))?;
    Ok(())
}

/// Windows: the extracted files were written through handles closed before the swap, and
/// NTFS journals the directory entries; nothing to flush by directory.
#[cfg(not(unix))]
fn sync_tree(dir: &Path) -> Result<()> {
    crate::platform::sync_dir(dir).with_context(|| format!("cannot sync {}", dir.display()))
}

/// `p` without `.` components, when it is relative and has no `..` (the empty path for
/// `.` or `./`); `None` otherwise.
fn plain(p: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// Puts `new_dir` at `target`: an atomic exchange when `target` exists (Linux), else a
/// rename; the old tree is removed afterwards.
fn swap_in(new_dir: &Path, target: &Path) -> Result<()> {
    let ctx = || format!("cannot move {} to {}", new_dir.display(), target.display());
    if !target.exists() {
        std::fs::rename(new_dir, target).with_context(ctx)?;
        return Ok(());
    }
    #[cfg(target_os = "linux")]
    {
        rustix::fs::renameat_with(
            rustix::fs::CWD,
            new_dir,
            rustix::fs::CWD,
            target,
            rustix::fs::RenameFlags::EXCHANGE,
        )
        .with_context(ctx)?;
        // new_dir now holds the old tree.
        std::fs::remove_dir_all(new_dir)
            .with_context(|| format!("cannot remove the old tree {}", new_dir.display()))?;
    }
    #[cfg(not(target_os = "linux"))]
    {
        let old = new_dir.with_extension("old");
        std::fs::rename(target, &old).with_context(ctx)?;
        std::fs::rename(new_dir, target).with_context(ctx)?;
        std::fs::remove_dir_all(&old)
            .with_context(|| format!("cannot remove the old tree {}", old.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_paths() {
        let cases = [
            ("a/b", Some("a/b")),
            ("./a/./b/", Some("a/b")),
            ("./", Some("")),
            (".", Some("")),
            ("/a", None),
            ("a/../b", None),
            ("..", None),
        ];
        for (p, want) in cases {
            assert_eq!(plain(Path::new(p)), want.map(PathBuf::from), "{p}");
        }
    }

    #[test]
    fn the_default_cap_is_a_multiple_of_the_archive_with_a_floor() {
        assert_eq!(default_max_expanded(0), MIN_MAX_EXPANDED);
        assert_eq!(default_max_expanded(1 << 30), EXPANSION_FACTOR << 30);
        assert_eq!(default_max_expanded(u64::MAX), u64::MAX);
    }
}
