//! The directory an archive is extracted into, on Windows: the same interface as the Unix
//! tree (`tree.rs`), built on a simpler guarantee, because this extraction never makes a
//! link. Symbolic links in an archive are refused ([`SYMLINKS`] is false) and hard links
//! are made only to regular files extracted before them, so nothing inside the fresh
//! temporary directory can lead out of it; a reparse point found there anyway (planted by
//! someone else) is refused as leading outside.
//!
//! What remains is the names themselves. Besides `..`, absolute paths and drive or UNC
//! prefixes (`C:`, `C:\`, `\\server\share`, refused as leading outside), every component
//! must be a plain Windows file name ([`check_name`]): no device name (`CON`, `NUL`,
//! `COM1`, `LPT1`, ... with any extension), no `:` (a drive or an alternate data stream),
//! none of `<>"|?*` or control characters, and no trailing dot or space (which Windows
//! strips, so `a.` would name `a`). Sources: Microsoft's "Naming Files, Paths, and
//! Namespaces".

use std::ffi::{OsStr, OsString};
use std::fs::{File, OpenOptions};
use std::os::windows::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

use windows_sys::Win32::Storage::FileSystem::{
    FILE_ATTRIBUTE_REPARSE_POINT, FILE_FLAG_OPEN_REPARSE_POINT,
};

/// How many symlinks one resolution may follow; no link is ever followed here.
pub const MAX_LINK_HOPS: u32 = 40;

/// Whether this system's extraction makes symbolic links (Windows does not: making one
/// needs a privilege most users lack, and a link is the one way out of the directory).
pub const SYMLINKS: bool = false;

/// A directory of the tree, where entries are made by name.
pub struct Dir {
    path: PathBuf,
}

/// What is at a name in the tree, as [`kind_of`] tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A directory.
    Dir,
    /// A regular file; `executable` always (Windows runs a file by its name).
    File {
        /// Always true on Windows.
        executable: bool,
    },
    /// Anything else (a reparse point).
    Other,
}

/// Why a path is not safe to use.
#[derive(Debug)]
pub enum Unsafe {
    /// It climbs above the root, is absolute or has a drive prefix, or a reparse point is on
    /// the way.
    Outside,
    /// Never on Windows: no link is followed.
    #[allow(dead_code)]
    TooManyLinks,
    /// A component Windows gives another meaning (see the module doc).
    BadName(&'static str),
    /// The filesystem failed.
    Io(std::io::Error),
}

/// Why `name` is not a plain Windows file name, if it is not.
pub fn check_name(name: &OsStr) -> Result<(), &'static str> {
    let Some(name) = name.to_str() else {
        return Err("the name is not valid Unicode");
    };
    if name.chars().any(|c| c == ':') {
        return Err("a name with ':' names a drive or an alternate data stream");
    }
    if name
        .chars()
        .any(|c| matches!(c, '<' | '>' | '"' | '|' | '?' | '*') || u32::from(c) < 32)
    {
        return Err("the name has a character Windows does not allow in file names");
    }
    if name.ends_with('.') || name.ends_with(' ') {
        return Err("Windows strips a trailing dot or space, so the name would name another");
    }
    let stem = name.split('.').next().unwrap_or("").trim_end_matches(' ');
    let upper = stem.to_ascii_uppercase();
    let numbered = |d: &str| {
        (d.len() == 1 && d.as_bytes()[0].is_ascii_digit()) || matches!(d, "¹" | "²" | "³")
    };
    let device = matches!(
        upper.as_str(),
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$"
    ) || ["COM", "LPT"]
        .iter()
        .any(|p| upper.strip_prefix(p).is_some_and(numbered));
    if device {
        return Err("the name is a Windows device name");
    }
    Ok(())
}

fn is_reparse_point(meta: &std::fs::Metadata) -> bool {
    meta.file_attributes() & FILE_ATTRIBUTE_REPARSE_POINT != 0
}

/// A path inside the tree: its components from the root, of which the first `existing`
/// are directories that exist.
pub struct Resolved {
    /// The components, from the root, without `.` or `..`.
    pub comps: Vec<OsString>,
    existing: usize,
}

/// What `name` in `dir` is, not following a reparse point; `None` if it does not exist.
pub fn kind_of(dir: &Dir, name: &OsStr) -> std::io::Result<Option<Kind>> {
    match std::fs::symlink_metadata(dir.path.join(name)) {
        Ok(m) if is_reparse_point(&m) => Ok(Some(Kind::Other)),
        Ok(m) if m.is_dir() => Ok(Some(Kind::Dir)),
        Ok(m) if m.is_file() => Ok(Some(Kind::File { executable: true })),
        Ok(_) => Ok(Some(Kind::Other)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Creates the regular file `name` in `dir`, failing if anything is there (`CREATE_NEW`,
/// and a reparse point is opened as itself, never followed).
pub fn create_file(dir: &Dir, name: &OsStr) -> std::io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
        .open(dir.path.join(name))
}

/// Windows has no mode bits: nothing to set (the file inherits its directory's ACL).
pub fn set_file_mode(_file: &File, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

/// Windows has no mode bits: nothing to set.
pub fn set_dir_mode(_dir: &Dir, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

/// Never called: [`SYMLINKS`] is false, so a symlink entry is refused before.
pub fn symlink(_target: &Path, _dir: &Dir, _name: &OsStr) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// Removes the non-directory `name` from `dir`.
pub fn remove(dir: &Dir, name: &OsStr) -> std::io::Result<()> {
    std::fs::remove_file(dir.path.join(name))
}

/// The directory tree under extraction.
pub struct Tree {
    root: PathBuf,
}

impl Tree {
    /// Opens `root` (a directory, refused if it is a reparse point).
    pub fn open(root: &Path) -> std::io::Result<Tree> {
        crate::platform::open_state_dir(root)?;
        Ok(Tree {
            root: root.to_path_buf(),
        })
    }

    /// Bytes the caller may still write on the tree's volume (`GetDiskFreeSpaceExW`).
    pub fn available(&self) -> std::io::Result<u64> {
        Ok(crate::platform::space(&self.root)?.available)
    }

    /// Resolves `rel`, relative to the directory `from` (components from the root).
    ///
    /// Errors: [`Unsafe::Outside`] for `..` above the root, an absolute path, a drive or
    /// UNC prefix, or a reparse point on the way; [`Unsafe::BadName`] for a component
    /// [`check_name`] refuses.
    pub fn resolve(&self, from: &[OsString], rel: &Path) -> Result<Resolved, Unsafe> {
        let mut comps = from.to_vec();
        for c in rel.components() {
            match c {
                Component::Prefix(_) | Component::RootDir => return Err(Unsafe::Outside),
                Component::CurDir => {}
                Component::ParentDir => {
                    comps.pop().ok_or(Unsafe::Outside)?;
                }
                Component::Normal(n) => {
                    check_name(n).map_err(Unsafe::BadName)?;
                    comps.push(n.to_os_string());
                }
            }
        }
        let mut path = self.root.clone();
        let mut existing = 0;
        for name in &comps {
            path.push(name);
            match std::fs::symlink_metadata(&path) {
                Ok(m) if is_reparse_point(&m) => return Err(Unsafe::Outside),
                Ok(m) if m.is_dir() => existing += 1,
                _ => break,
            }
        }
        Ok(Resolved { comps, existing })
    }

    fn path_of(&self, comps: &[OsString]) -> PathBuf {
        let mut path = self.root.clone();
        path.extend(comps);
        path
    }

    /// Makes every component of `path` that does not exist a directory and returns the
    /// last one. `Ok(None)` when a component exists and is not a directory.
    pub fn make_dirs(&self, path: &Resolved) -> Result<Option<Dir>, Unsafe> {
        let mut dir = self.path_of(&path.comps[..path.existing]);
        for name in &path.comps[path.existing..] {
            dir.push(name);
            match std::fs::create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(None),
                Err(e) => return Err(Unsafe::Io(e)),
            }
        }
        Ok(Some(Dir { path: dir }))
    }

    /// Opens the existing regular file at `path` (resolved): `Ok(None)` when it is missing
    /// or not a regular file. Always executable on Windows.
    pub fn open_file(&self, path: &Resolved) -> Result<Option<(File, bool)>, Unsafe> {
        if path.comps.is_empty() || path.existing + 1 != path.comps.len() {
            return Ok(None);
        }
        let full = self.path_of(&path.comps);
        match std::fs::symlink_metadata(&full) {
            Ok(m) if m.is_file() && !is_reparse_point(&m) => {
                let file = OpenOptions::new()
                    .read(true)
                    .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
                    .open(&full)
                    .map_err(Unsafe::Io)?;
                Ok(Some((file, true)))
            }
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Unsafe::Io(e)),
        }
    }

    /// Makes `name` in `dir` a hard link to the regular file at `src` (resolved, as checked
    /// by [`Tree::open_file`]).
    pub fn hard_link(&self, src: &Resolved, dir: &Dir, name: &OsStr) -> Result<(), Unsafe> {
        std::fs::hard_link(self.path_of(&src.comps), dir.path.join(name)).map_err(Unsafe::Io)
    }

    /// Calls `f` for every symlink in the tree: there are none on Windows.
    pub fn each_link<E: From<std::io::Error>>(
        &self,
        _f: impl FnMut(&[OsString], &OsStr, &Path) -> Result<(), E>,
    ) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_streams_and_trailing_dots_are_refused() {
        for bad in [
            "CON",
            "con",
            "Con.txt",
            "NUL",
            "nul.tar.gz",
            "AUX",
            "PRN",
            "COM1",
            "com9.log",
            "LPT1",
            "CONIN$",
            "a:b",
            "a<b",
            "a|b",
            "a?",
            "a*",
            "a\u{1}",
            "dot.",
            "space ",
            "COM¹",
        ] {
            assert!(check_name(OsStr::new(bad)).is_err(), "{bad}");
        }
        for good in [
            "CONSOLE", "con_x", "COM10", "LPT", "a.b", ".hidden", "nul_", "x y",
        ] {
            assert_eq!(check_name(OsStr::new(good)), Ok(()), "{good}");
        }
    }

    #[test]
    fn drive_prefixes_parent_steps_and_reparse_points_lead_outside() {
        let tmp = tempfile::tempdir().unwrap();
        let tree = Tree::open(tmp.path()).unwrap();
        for bad in [
            r"C:\x",
            r"C:x",
            r"\x",
            r"\\server\share\x",
            r"a\..\..\x",
            "../x",
        ] {
            let r = tree.resolve(&[], Path::new(bad));
            assert!(matches!(r, Err(Unsafe::Outside)), "{bad}");
        }
        assert!(matches!(
            tree.resolve(&[], Path::new("a/CON")),
            Err(Unsafe::BadName(_))
        ));
        let r = tree.resolve(&[], Path::new("a/b/c")).unwrap();
        let dir = tree.make_dirs(&r).unwrap().expect("made");
        create_file(&dir, OsStr::new("f")).unwrap();
        assert!(create_file(&dir, OsStr::new("f")).is_err(), "CREATE_NEW");
        let link = tmp.path().join("j");
        if std::os::windows::fs::symlink_dir(tmp.path().join("a"), &link).is_ok() {
            assert!(matches!(
                tree.resolve(&[], Path::new("j/b")),
                Err(Unsafe::Outside)
            ));
        }
    }
}
