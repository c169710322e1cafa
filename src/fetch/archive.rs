//! Safe extraction of a verified `.tar.gz` asset into `backends/{variant}/` (DESIGN.md layout
//! 4): entries are unpacked into a fresh temporary directory next to the target, then the
//! directory is swapped in as a whole (an atomic exchange on Linux), so the previous install
//! stays intact until the new one is complete.
//!
//! Refused (exit 3): absolute paths, `..` components, hard links or symlinks whose target is
//! absolute or leaves the directory, device files and FIFOs. After unpacking, every symlink is
//! resolved once more, since a chain of individually harmless links can still escape.

use std::fs::File;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};
use flate2::read::GzDecoder;
use tar::EntryType;

use crate::Error;

/// Extracts `archive` (gzip-compressed tar) and swaps the result in as `target`. `label`
/// names the archive in errors (its URL).
pub fn install_archive(archive: &Path, label: &str, target: &Path) -> Result<()> {
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
    extract(archive, label, tmp.path())?;
    check_links(tmp.path()).with_context(|| label.to_string())?;
    sync_tree(tmp.path())?; // the extracted tree is durable before it replaces the old one
    let new_dir = tmp.keep();
    swap_in(&new_dir, target)?;
    crate::atomic::fsync_dir(parent)
}

/// Flushes the filesystem holding `dir` (one `syncfs` instead of an fsync per file).
fn sync_tree(dir: &Path) -> Result<()> {
    let f = File::open(dir).with_context(|| format!("cannot open {}", dir.display()))?;
    #[cfg(target_os = "linux")]
    rustix::fs::syncfs(&f).with_context(|| format!("cannot sync {}", dir.display()))?;
    #[cfg(not(target_os = "linux"))]
    f.sync_all()
        .with_context(|| format!("cannot sync {}", dir.display()))?;
    Ok(())
}

fn extract(archive: &Path, label: &str, dest: &Path) -> Result<()> {
    let f = File::open(archive).with_context(|| format!("cannot open {}", archive.display()))?;
    let mut tar = tar::Archive::new(GzDecoder::new(f));
    let bad =
        |what: String| -> anyhow::Error { Error::Integrity(format!("{label}: {what}")).into() };
    for entry in tar
        .entries()
        .with_context(|| format!("cannot read {}", archive.display()))?
    {
        crate::interrupt::check()?;
        let mut entry = entry.with_context(|| format!("cannot read {}", archive.display()))?;
        let path = entry.path()?.into_owned();
        if !is_plain_relative(&path) {
            return Err(bad(format!(
                "entry {} escapes the directory",
                path.display()
            )));
        }
        match entry.header().entry_type() {
            EntryType::Regular | EntryType::Directory | EntryType::Continuous => {}
            EntryType::Symlink | EntryType::Link => {
                let target = entry
                    .link_name()?
                    .ok_or_else(|| bad(format!("link {} has no target", path.display())))?
                    .into_owned();
                let base = if entry.header().entry_type() == EntryType::Link {
                    PathBuf::new()
                } else {
                    path.parent().map(Path::to_path_buf).unwrap_or_default()
                };
                if !stays_inside(&base, &target) {
                    return Err(bad(format!(
                        "link {} -> {} leaves the directory",
                        path.display(),
                        target.display()
                    )));
                }
            }
            EntryType::XGlobalHeader | EntryType::XHeader | EntryType::GNULongName => {}
            other => {
                return Err(bad(format!(
                    "entry {} has type {other:?} (devices, FIFOs and others are refused)",
                    path.display()
                )))
            }
        }
        entry.set_preserve_mtime(true);
        let ok = entry
            .unpack_in(dest)
            .with_context(|| format!("cannot extract {}", path.display()))?;
        if !ok {
            return Err(bad(format!(
                "entry {} escapes the directory",
                path.display()
            )));
        }
    }
    Ok(())
}

/// Whether `p` is relative with only normal components (no `/`, `..`, or prefixes).
fn is_plain_relative(p: &Path) -> bool {
    p.components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        && p.components().any(|c| matches!(c, Component::Normal(_)))
}

/// Whether `base/target`, normalized lexically, stays inside the root.
fn stays_inside(base: &Path, target: &Path) -> bool {
    let mut depth: usize = base
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .count();
    for c in target.components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

/// Resolves every symlink under `root` and refuses one that points outside it.
fn check_links(root: &Path) -> Result<()> {
    let canon_root = root.canonicalize()?;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let ty = entry.file_type()?;
            if ty.is_dir() {
                stack.push(entry.path());
            } else if ty.is_symlink() {
                if let Ok(real) = entry.path().canonicalize() {
                    if !real.starts_with(&canon_root) {
                        return Err(Error::Integrity(format!(
                            "archive link {} resolves outside the directory",
                            entry
                                .path()
                                .strip_prefix(root)
                                .unwrap_or(&entry.path())
                                .display()
                        ))
                        .into());
                    }
                }
            }
        }
    }
    Ok(())
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
    fn link_targets() {
        let cases = [
            ("", "lib.so.1", true),
            ("lib", "../bin/x", true),
            ("lib", "../../etc/passwd", false),
            ("", "../x", false),
            ("", "/etc/passwd", false),
            ("a/b", "./../../c", true),
        ];
        for (base, target, want) in cases {
            assert_eq!(
                stays_inside(Path::new(base), Path::new(target)),
                want,
                "{base} -> {target}"
            );
        }
        assert!(is_plain_relative(Path::new("a/b")));
        assert!(!is_plain_relative(Path::new("/a")));
        assert!(!is_plain_relative(Path::new("a/../b")));
        assert!(!is_plain_relative(Path::new(".")));
    }
}
