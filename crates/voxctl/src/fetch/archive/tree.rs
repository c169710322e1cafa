//! The directory an archive is extracted into, reached only through its root's file
//! descriptor, and the path resolution that keeps every entry and every link beneath it.
//!
//! Paths are never handed to the kernel whole: [`Tree::resolve`] walks them a component at a
//! time from the root with `openat(O_NOFOLLOW)`, follows the symlinks the extraction has
//! created so far by reading them (`readlinkat`), and fails with [`Unsafe::Outside`] as soon
//! as a `..` would climb above the root or a link is absolute. A component that does not
//! exist (yet) is taken lexically, with the rest of the path, so a link is judged the same
//! way whether its target exists or not. Entries are then created in the directory that
//! resolution ends in, by name, with `O_CREAT | O_EXCL | O_NOFOLLOW`, `mkdirat`, `symlinkat`
//! or `linkat`: nothing is ever written through a link.
//!
//! Why not `openat2(RESOLVE_BENEATH)`: it keeps one open from escaping, but a link is a
//! danger later, when the backend or the user writes through it; and it is Linux only
//! (macOS is a goal: docs/contract.md "Platforms"). Resolving by hand gives the same guarantee at
//! creation time and also judges link targets that do not exist, on every platform rustix supports.

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, RawMode};
use rustix::io::Errno;

/// How many symlinks one resolution may follow (Linux's own limit, as in `ELOOP`).
pub const MAX_LINK_HOPS: u32 = 40;

/// Whether this system's extraction makes symbolic links (Unix does).
pub const SYMLINKS: bool = true;

/// An open directory of the tree, where entries are made by name.
pub type Dir = OwnedFd;

/// What is at a name in the tree, as [`kind_of`] tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A directory.
    Dir,
    /// A regular file; `executable` when its owner may run it.
    File {
        /// Mode bit `0o100`.
        executable: bool,
    },
    /// Anything else (a link, a FIFO, ...).
    Other,
}

/// Why a path is not safe to use.
#[derive(Debug)]
pub enum Unsafe {
    /// It climbs above the root, or a link on the way is absolute.
    Outside,
    /// A name the system gives another meaning (Windows: a device name, a drive or stream
    /// separator); never made on Unix, where every name but `..` is plain.
    #[allow(dead_code)]
    BadName(&'static str),
    /// More than [`MAX_LINK_HOPS`] links on the way (a loop, most likely).
    TooManyLinks,
    /// The filesystem failed.
    Io(std::io::Error),
}

impl From<Errno> for Unsafe {
    fn from(e: Errno) -> Unsafe {
        Unsafe::Io(e.into())
    }
}

/// A path inside the tree with every link resolved: its components from the root, of which
/// the first `dirs.len() - 1` exist as real directories (the rest do not exist, or lie
/// below something that is not a directory), and open descriptors of those directories
/// (`dirs[0]` is the root).
pub struct Resolved {
    /// The components, from the root, without links, `.` or `..`.
    pub comps: Vec<OsString>,
    dirs: Vec<OwnedFd>,
}

impl Resolved {
    /// Whether every component exists as a directory.
    #[cfg(test)]
    pub fn is_existing_dir(&self) -> bool {
        self.dirs.len() == self.comps.len() + 1
    }

    /// The path, relative to the root (`.` for the root).
    #[cfg(test)]
    pub fn display(&self) -> PathBuf {
        if self.comps.is_empty() {
            return PathBuf::from(".");
        }
        self.comps.iter().collect()
    }

    /// The deepest existing directory on the path.
    fn deepest(&self) -> &OwnedFd {
        // `dirs` always holds the root.
        &self.dirs[self.dirs.len() - 1]
    }
}

/// One step of a path to resolve.
enum Step {
    Up,
    Name(OsString),
}

/// The steps of a relative path; `None` if it is absolute.
fn steps(path: &Path) -> Option<Vec<Step>> {
    let mut out = Vec::new();
    for c in path.components() {
        match c {
            Component::RootDir | Component::Prefix(_) => return None,
            Component::CurDir => {}
            Component::ParentDir => out.push(Step::Up),
            Component::Normal(n) => out.push(Step::Name(n.to_os_string())),
        }
    }
    Some(out)
}

/// The type of `name` in `dir`, not following a link; `None` if it does not exist.
pub fn type_of(dir: impl AsFd, name: &OsStr) -> rustix::io::Result<Option<(FileType, Mode)>> {
    match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some((
            FileType::from_raw_mode(st.st_mode as RawMode),
            Mode::from_raw_mode(st.st_mode as RawMode),
        ))),
        Err(Errno::NOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

/// What `name` in `dir` is, not following a link; `None` if it does not exist.
pub fn kind_of(dir: &Dir, name: &OsStr) -> std::io::Result<Option<Kind>> {
    Ok(type_of(dir, name)?.map(|(t, mode)| match t {
        FileType::Directory => Kind::Dir,
        FileType::RegularFile => Kind::File {
            executable: mode.bits() & 0o100 != 0,
        },
        _ => Kind::Other,
    }))
}

/// Creates the regular file `name` in `dir` (mode `0o600` until [`set_file_mode`]),
/// failing if anything is there: `O_CREAT | O_EXCL | O_NOFOLLOW`.
pub fn create_file(dir: &Dir, name: &OsStr) -> std::io::Result<std::fs::File> {
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(dir, name, flags, Mode::from_raw_mode(0o600))?;
    Ok(std::fs::File::from(fd))
}

/// Gives the extracted `file` the permission bits `mode` (`fchmod`).
pub fn set_file_mode(file: &std::fs::File, mode: u32) -> std::io::Result<()> {
    Ok(rustix::fs::fchmod(
        file,
        Mode::from_raw_mode(mode as RawMode),
    )?)
}

/// Gives the extracted directory `dir` the permission bits `mode` (`fchmod`).
pub fn set_dir_mode(dir: &Dir, mode: u32) -> std::io::Result<()> {
    Ok(rustix::fs::fchmod(
        dir,
        Mode::from_raw_mode(mode as RawMode),
    )?)
}

/// Makes `name` in `dir` a symbolic link to `target` (`symlinkat`).
pub fn symlink(target: &Path, dir: &Dir, name: &OsStr) -> std::io::Result<()> {
    Ok(rustix::fs::symlinkat(target, dir, name)?)
}

/// Removes the non-directory `name` from `dir` (`unlinkat`).
pub fn remove(dir: &Dir, name: &OsStr) -> std::io::Result<()> {
    Ok(rustix::fs::unlinkat(dir, name, AtFlags::empty())?)
}

fn open_dir(dir: impl AsFd, name: &OsStr) -> rustix::io::Result<OwnedFd> {
    rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// The directory tree under extraction.
pub struct Tree {
    root: OwnedFd,
}

impl Tree {
    /// Opens `root` (a directory, not followed if it is a link).
    pub fn open(root: &Path) -> std::io::Result<Tree> {
        let root = rustix::fs::open(
            root,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Tree { root })
    }

    /// The root directory's descriptor.
    #[cfg(test)]
    pub fn root(&self) -> &OwnedFd {
        &self.root
    }

    /// Bytes an unprivileged writer may still write on the tree's filesystem (`fstatvfs`:
    /// `f_bavail * f_frsize`).
    pub fn available(&self) -> std::io::Result<u64> {
        let st = rustix::fs::fstatvfs(&self.root)?;
        // The field types are narrower than u64 on some platforms (macOS).
        #[allow(clippy::useless_conversion)]
        Ok(u64::from(st.f_bavail).saturating_mul(u64::from(st.f_frsize)))
    }

    /// Resolves `rel`, relative to the directory `from` (components from the root, as in
    /// [`Resolved::comps`]), following the links found on the way.
    ///
    /// Errors: [`Unsafe::Outside`] when the path, or a link on it, leads above the root or is
    /// absolute, whether or not its target exists; [`Unsafe::TooManyLinks`] after
    /// [`MAX_LINK_HOPS`] links.
    pub fn resolve(&self, from: &[OsString], rel: &Path) -> Result<Resolved, Unsafe> {
        let mut pending: VecDeque<Step> = from.iter().cloned().map(Step::Name).collect();
        pending.extend(steps(rel).ok_or(Unsafe::Outside)?);
        let mut comps: Vec<OsString> = Vec::new();
        let mut dirs = vec![self.root.try_clone().map_err(Unsafe::Io)?];
        let mut hops = 0;
        while let Some(step) = pending.pop_front() {
            let name = match step {
                Step::Up => {
                    comps.pop().ok_or(Unsafe::Outside)?;
                    if dirs.len() > comps.len() + 1 {
                        dirs.pop();
                    }
                    continue;
                }
                Step::Name(n) => n,
            };
            if dirs.len() < comps.len() + 1 {
                // Below something missing or not a directory: lexical from here on.
                comps.push(name);
                continue;
            }
            let dir = &dirs[dirs.len() - 1];
            match type_of(dir, &name)? {
                Some((FileType::Directory, _)) => {
                    let fd = open_dir(dir, &name)?;
                    dirs.push(fd);
                    comps.push(name);
                }
                Some((FileType::Symlink, _)) => {
                    hops += 1;
                    if hops > MAX_LINK_HOPS {
                        return Err(Unsafe::TooManyLinks);
                    }
                    let target = rustix::fs::readlinkat(dir, &name, Vec::new())?;
                    let target = PathBuf::from(OsString::from_vec(target.into_bytes()));
                    let link_steps = steps(&target).ok_or(Unsafe::Outside)?;
                    for s in link_steps.into_iter().rev() {
                        pending.push_front(s);
                    }
                }
                _ => comps.push(name),
            }
        }
        Ok(Resolved { comps, dirs })
    }

    /// Makes every component of `path` that does not exist a directory (mode `0o755`) and
    /// returns the last one, opened. `Ok(None)` when a component exists and is not a
    /// directory.
    pub fn make_dirs(&self, path: &Resolved) -> Result<Option<OwnedFd>, Unsafe> {
        let mut dir = path.deepest().try_clone().map_err(Unsafe::Io)?;
        for name in &path.comps[path.dirs.len() - 1..] {
            match rustix::fs::mkdirat(&dir, name.as_os_str(), Mode::from_raw_mode(0o755)) {
                Ok(()) => {}
                Err(Errno::EXIST) => return Ok(None),
                Err(e) => return Err(e.into()),
            }
            dir = open_dir(&dir, name)?;
        }
        Ok(Some(dir))
    }

    /// Opens the existing regular file at `path` (resolved): `Ok(None)` when it is missing
    /// or not a regular file. Whether its owner may run it (mode bit `0o100`) is returned
    /// with the descriptor.
    pub fn open_file(&self, path: &Resolved) -> Result<Option<(OwnedFd, bool)>, Unsafe> {
        let Some(name) = path.comps.last() else {
            return Ok(None);
        };
        if path.dirs.len() != path.comps.len() {
            return Ok(None); // its directory does not exist
        }
        match type_of(path.deepest(), name)? {
            Some((FileType::RegularFile, mode)) => {
                let fd = rustix::fs::openat(
                    path.deepest(),
                    name.as_os_str(),
                    OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )?;
                Ok(Some((fd, mode.bits() & 0o100 != 0)))
            }
            _ => Ok(None),
        }
    }

    /// Makes `name` in `dir` a hard link to the regular file at `src` (resolved, as checked
    /// by [`Tree::open_file`]).
    pub fn hard_link(&self, src: &Resolved, dir: &OwnedFd, name: &OsStr) -> Result<(), Unsafe> {
        let src_name = src.comps.last().ok_or(Unsafe::Outside)?;
        rustix::fs::linkat(
            src.deepest(),
            src_name.as_os_str(),
            dir,
            name,
            AtFlags::empty(),
        )?;
        Ok(())
    }

    /// Calls `f(dir_components, name, target)` for every symlink in the tree, and returns
    /// the first error `f` returns.
    pub fn each_link<E: From<std::io::Error>>(
        &self,
        mut f: impl FnMut(&[OsString], &OsStr, &Path) -> Result<(), E>,
    ) -> Result<(), E> {
        let io = |e: Errno| E::from(e.into());
        let mut stack: Vec<(Vec<OsString>, OwnedFd)> =
            vec![(Vec::new(), self.root.try_clone().map_err(E::from)?)];
        while let Some((comps, fd)) = stack.pop() {
            for entry in rustix::fs::Dir::read_from(&fd).map_err(io)? {
                let entry = entry.map_err(io)?;
                let name = OsStr::from_bytes(entry.file_name().to_bytes());
                if name == "." || name == ".." {
                    continue;
                }
                let ty = match entry.file_type() {
                    FileType::Unknown => match type_of(&fd, name).map_err(io)? {
                        Some((t, _)) => t,
                        None => continue,
                    },
                    t => t,
                };
                match ty {
                    FileType::Directory => {
                        let sub = open_dir(&fd, name).map_err(io)?;
                        let mut c = comps.clone();
                        c.push(name.to_os_string());
                        stack.push((c, sub));
                    }
                    FileType::Symlink => {
                        let target = rustix::fs::readlinkat(&fd, name, Vec::new()).map_err(io)?;
                        let target = PathBuf::from(OsString::from_vec(target.into_bytes()));
                        f(&comps, name, &target)?;
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A path to make before resolving: a symlink to the target given, else a directory
    /// when it ends in `/`, else a file.
    type Setup<'a> = (&'a str, Option<&'a str>);

    /// Resolves `rel` from `from` in a tree built by `setup`; `Ok(path)` or the error's name.
    fn resolve_in(setup: &[Setup], from: &str, rel: &str) -> Result<String, &'static str> {
        let tmp = tempfile::tempdir().unwrap();
        for (path, link) in setup {
            let p = tmp.path().join(path);
            match link {
                Some(t) => symlink(t, &p).unwrap(),
                None if path.ends_with('/') => std::fs::create_dir_all(&p).unwrap(),
                None => std::fs::write(&p, b"x").unwrap(),
            }
        }
        let tree = Tree::open(tmp.path()).unwrap();
        let from: Vec<OsString> = Path::new(from)
            .components()
            .map(|c| c.as_os_str().to_os_string())
            .collect();
        match tree.resolve(&from, Path::new(rel)) {
            Ok(r) => Ok(r.display().to_string_lossy().into_owned()),
            Err(Unsafe::Outside) => Err("outside"),
            Err(Unsafe::TooManyLinks) => Err("loop"),
            Err(Unsafe::BadName(why)) => panic!("{why}"),
            Err(Unsafe::Io(e)) => panic!("{e}"),
        }
    }

    #[test]
    fn resolution_follows_extracted_links_and_refuses_escapes_existing_or_not() {
        let l_dot = ("l", Some("."));
        // (what exists: path and link target or None, resolve from, path, expected)
        type Row<'a> = (&'a [Setup<'a>], &'a str, &'a str, Result<&'a str, &'a str>);
        let rows: &[Row] = &[
            (&[], "", "a/b", Ok("a/b")),
            (&[], "", "", Ok(".")),
            (&[], "", "./a/./b/", Ok("a/b")),
            (&[], "a", "../b", Ok("b")),
            (&[], "a", "../../b", Err("outside")),
            (&[], "", "/etc", Err("outside")),
            // Missing components are taken lexically, so a target is judged whether or not
            // it exists.
            (&[], "", "missing/../../x", Err("outside")),
            (&[], "", "missing/../x", Ok("x")),
            // Leaving a missing component goes back to its existing parent, and below a
            // missing component nothing is looked up (a link of that name elsewhere is not
            // followed).
            (&[("up", Some(".."))], "", "missing/../up/x", Err("outside")),
            (&[("l", Some(".."))], "", "missing/l/x", Ok("missing/l/x")),
            // A chain of links: l -> . makes l/l/l the root, so ../../../canary escapes
            // although it counts as three levels down.
            (&[l_dot], "", "l/l/l", Ok(".")),
            (&[l_dot], "l/l/l", "../../../canary", Err("outside")),
            (&[l_dot], "", "l/l/l/../x", Err("outside")),
            (&[("d/", None), ("up", Some("d/.."))], "", "up/x", Ok("x")),
            (&[("up", Some(".."))], "", "up/x", Err("outside")),
            (&[("abs", Some("/tmp"))], "", "abs/x", Err("outside")),
            (
                &[("lib/", None), ("lib/so", Some("../lib/real"))],
                "lib",
                "so",
                Ok("lib/real"),
            ),
            (&[("a", Some("b")), ("b", Some("a"))], "", "a", Err("loop")),
            // Below a regular file nothing exists: lexical again.
            (&[("f", None)], "", "f/../../x", Err("outside")),
            (&[("f", None)], "", "f/x", Ok("f/x")),
        ];
        for (setup, from, rel, want) in rows {
            let got = resolve_in(setup, from, rel);
            assert_eq!(
                got.as_deref(),
                want.as_deref(),
                "{from} + {rel} in {setup:?}"
            );
        }
    }

    /// Whether `fd` is closed on exec.
    fn cloexec(fd: &OwnedFd) -> bool {
        rustix::io::fcntl_getfd(fd)
            .unwrap()
            .contains(rustix::io::FdFlags::CLOEXEC)
    }

    #[test]
    fn directories_are_opened_without_following_links_and_closed_on_exec() {
        // Resolution checks a name's type before opening it; the flags hold the line should
        // the name change in between, and no descriptor leaks into a child.
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("d")).unwrap();
        std::fs::write(tmp.path().join("f"), b"x").unwrap();
        symlink("d", tmp.path().join("l")).unwrap();
        assert!(
            Tree::open(&tmp.path().join("l")).is_err(),
            "root through a link"
        );
        assert!(Tree::open(&tmp.path().join("f")).is_err(), "root on a file");
        let tree = Tree::open(tmp.path()).unwrap();
        assert!(cloexec(tree.root()));
        let d = open_dir(tree.root(), OsStr::new("d")).unwrap();
        assert!(cloexec(&d));
        assert!(open_dir(tree.root(), OsStr::new("l")).is_err(), "a link");
        assert!(open_dir(tree.root(), OsStr::new("f")).is_err(), "a file");
        let r = tree.resolve(&[], Path::new("d/../f")).unwrap();
        let (fd, _) = tree.open_file(&r).unwrap().expect("a regular file");
        assert!(cloexec(&fd));
    }

    #[test]
    fn resolution_follows_as_many_links_as_linux_does() {
        // l0 -> l1 -> ... -> l{n-1} -> f: n hops. Linux follows 40 (then ELOOP); so does
        // the resolution.
        for (n, ok) in [(MAX_LINK_HOPS, true), (MAX_LINK_HOPS + 1, false)] {
            let tmp = tempfile::tempdir().unwrap();
            std::fs::write(tmp.path().join("f"), b"x").unwrap();
            for i in 0..n {
                let target = if i + 1 == n {
                    "f".to_string()
                } else {
                    format!("l{}", i + 1)
                };
                symlink(target, tmp.path().join(format!("l{i}"))).unwrap();
            }
            assert_eq!(
                std::fs::read(tmp.path().join("l0")).is_ok(),
                ok,
                "the kernel, {n}"
            );
            let tree = Tree::open(tmp.path()).unwrap();
            match tree.resolve(&[], Path::new("l0")) {
                Ok(r) if ok => assert_eq!(r.display(), Path::new("f")),
                Err(Unsafe::TooManyLinks) if !ok => {}
                Ok(r) => panic!("{n} links resolved to {}", r.display().display()),
                Err(e) => panic!("{n} links: {e:?}"),
            }
        }
    }

    #[test]
    fn make_dirs_creates_the_missing_tail_and_stops_at_a_file() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("f"), b"x").unwrap();
        let tree = Tree::open(tmp.path()).unwrap();
        let r = tree.resolve(&[], Path::new("a/b")).unwrap();
        assert!(!r.is_existing_dir());
        assert!(tree.make_dirs(&r).unwrap().is_some());
        assert!(tmp.path().join("a/b").is_dir());
        let r = tree.resolve(&[], Path::new("f/x")).unwrap();
        assert!(tree.make_dirs(&r).unwrap().is_none());
    }
}
