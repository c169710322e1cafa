//! Safe extraction of a verified `.tar.gz` asset into `backends/{variant}/` (docs/contract.md
//! "Release layouts", layout 4): entries are unpacked into a fresh temporary directory next to the
//! target, checked, then the directory is swapped in as a whole (an atomic exchange on Linux), so
//! the previous install stays intact until the new one is complete and checked.
//!
//! The archive's bytes matched the release's SHA-256, but the release itself may be hostile.
//! Refused with [`Error::Integrity`] (exit 3), leaving nothing behind:
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

mod tree;

use std::cell::{Cell, RefCell};
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use anyhow::{Context, Result};
use flate2::read::GzDecoder;
use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use tar::EntryType;

use crate::cancel::Cancel;
use crate::installs::InstalledFile;
use crate::Error;
use tree::{Resolved, Tree, Unsafe};

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
/// Errors: [`Error::Integrity`] for every refusal in the module doc (nothing is installed
/// and the temporary directory is removed); I/O errors naming the path, including a
/// filesystem without room for the next file (needed and available bytes in the message);
/// [`Error::Interrupted`] once `cancel` is cancelled (between entries, and every 64 KiB of
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
    let tree =
        Tree::open(tmp.path()).with_context(|| format!("cannot open {}", tmp.path().display()))?;
    let bad =
        |what: String| -> anyhow::Error { Error::Integrity(format!("{label}: {what}")).into() };
    let extraction = Extraction {
        tree: &tree,
        dir: tmp.path(),
        bad: &bad,
        cancel,
        files: RefCell::new(Vec::new()),
        hard_links: RefCell::new(Vec::new()),
    };
    extraction.extract(archive, max_expanded)?;
    extraction.check(executable)?;
    let Extraction {
        files, hard_links, ..
    } = extraction;
    drop(tree);
    let mut files = files.into_inner();
    // Hard links are hashed from disk once every link is known to stay inside.
    for path in hard_links.into_inner() {
        cancel.check()?;
        let (sha256, size) = crate::digest::hash_file(&tmp.path().join(&path), &|_| {}, cancel)?;
        files.push(InstalledFile {
            path,
            size,
            sha256: Some(sha256),
            link: None,
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((tmp, files))
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

/// The tar stream's limits, and the errors that name them.
struct Stream<'a> {
    counts: &'a Counts,
    /// The cap on the expanded size, in bytes.
    cap: u64,
    bad: &'a dyn Fn(String) -> anyhow::Error,
}

impl Stream<'_> {
    fn over_cap(&self) -> anyhow::Error {
        let cap = self.cap;
        crate::error::hinted(
            (self.bad)(format!(
                "expands to more than {cap} bytes, its cap (set by --max-size; by default \
                 {EXPANSION_FACTOR} times the archive's size, at least {} MiB)",
                MIN_MAX_EXPANDED >> 20
            )),
            "if the release really is that large, pass --max-size with its expanded size",
        )
    }

    /// The error for a failed read of the stream. Its bytes matched the release's SHA-256,
    /// so a stream that does not decode is bad release data.
    fn error(&self, e: std::io::Error) -> anyhow::Error {
        match self.counts.tripped.get() {
            Some(Trip::Expanded) => self.over_cap(),
            Some(Trip::Headers) => (self.bad)(format!(
                "an entry's headers take more than {MAX_HEADER_BYTES} bytes (at byte {} of the \
                 tar stream)",
                self.counts.total.get()
            )),
            None => (self.bad)(format!("not a valid .tar.gz: {e}")),
        }
    }
}

/// Why the [`Meter`] stopped the tar stream.
#[derive(Clone, Copy, Debug)]
enum Trip {
    /// The stream went past the cap on the expanded size.
    Expanded,
    /// One entry's headers went past [`MAX_HEADER_BYTES`].
    Headers,
}

/// Counters shared between the [`Meter`] and the extraction loop.
#[derive(Debug, Default)]
struct Counts {
    /// Bytes of the tar stream read so far.
    total: Cell<u64>,
    /// Bytes read since the last entry's contents (headers, skipped bodies, padding).
    between: Cell<u64>,
    /// Whether the loop is reading an entry's contents.
    in_contents: Cell<bool>,
    tripped: Cell<Option<Trip>>,
}

/// The uncompressed tar stream, counted as it is read, failing once it goes past the cap
/// or one entry's headers past [`MAX_HEADER_BYTES`] (so neither disk nor memory grows
/// without bound, whatever the compression ratio).
struct Meter<R> {
    inner: R,
    counts: Rc<Counts>,
    cap: u64,
}

impl<R: Read> Read for Meter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let c = &self.counts;
        c.total.set(c.total.get() + n as u64);
        if !c.in_contents.get() {
            c.between.set(c.between.get() + n as u64);
        }
        let trip = if c.total.get() > self.cap {
            Some(Trip::Expanded)
        } else if c.between.get() > MAX_HEADER_BYTES {
            Some(Trip::Headers)
        } else {
            None
        };
        if let Some(t) = trip {
            c.tripped.set(Some(t));
            return Err(std::io::Error::other("archive limit reached"));
        }
        Ok(n)
    }
}

/// One extraction into a [`Tree`].
struct Extraction<'a> {
    tree: &'a Tree,
    /// The tree's path, for messages.
    dir: &'a Path,
    /// Makes an [`Error::Integrity`] naming the archive.
    bad: &'a dyn Fn(String) -> anyhow::Error,
    /// Stops the extraction.
    cancel: &'a Cancel,
    /// Regular files and symlinks extracted so far.
    files: RefCell<Vec<InstalledFile>>,
    /// Hard links made so far (hashed at the end).
    hard_links: RefCell<Vec<PathBuf>>,
}

impl Extraction<'_> {
    fn extract(&self, archive: &Path, cap: u64) -> Result<()> {
        let bad = self.bad;
        let f =
            File::open(archive).with_context(|| format!("cannot open {}", archive.display()))?;
        let counts = Rc::new(Counts::default());
        let meter = Meter {
            inner: GzDecoder::new(std::io::BufReader::new(f)),
            counts: counts.clone(),
            cap,
        };
        let stream = Stream {
            counts: &counts,
            cap,
            bad,
        };
        let corrupt = |e| stream.error(e);
        let mut tar = tar::Archive::new(meter);
        for entry in tar.entries().map_err(corrupt)? {
            self.cancel.check()?;
            let mut entry = entry.map_err(corrupt)?;
            let raw = entry.path().map_err(corrupt)?.into_owned();
            let path = plain(&raw)
                .ok_or_else(|| bad(format!("entry {} escapes the directory", raw.display())))?;
            // Only files and directories have a mode that counts.
            let mode = |e: &tar::Entry<_>| e.header().mode().map_err(corrupt);
            match entry.header().entry_type() {
                EntryType::Directory => self.directory(&path, mode(&entry)?)?,
                EntryType::Regular | EntryType::Continuous => {
                    let mode = mode(&entry)?;
                    self.file(&mut entry, &path, mode, &stream)?;
                }
                EntryType::Symlink => self.symlink(&entry, &path)?,
                EntryType::Link => self.hard_link(&entry, &path)?,
                // pax global headers (`git archive` writes one) carry nothing to extract.
                EntryType::XGlobalHeader => {}
                other => {
                    return Err(bad(format!(
                        "entry {} has type {other:?}: only regular files, directories, \
                         symlinks and hard links are extracted",
                        path.display()
                    )))
                }
            }
            // What was read so far were this entry's headers and contents; what comes next
            // (a body not extracted, the next entry's headers) is counted anew.
            counts.between.set(0);
        }
        Ok(())
    }

    /// A regular file: checked against the cap and the free space, created (never through a
    /// link), filled, given its normalized mode and its mtime.
    fn file(
        &self,
        entry: &mut tar::Entry<impl Read>,
        path: &Path,
        mode: u32,
        stream: &Stream,
    ) -> Result<()> {
        let size = entry.size();
        if stream.counts.total.get().saturating_add(size) > stream.cap {
            return Err(stream.over_cap());
        }
        let fd = self.create(path, |dir, _, name| {
            self.check_space(path, size)?;
            let flags =
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            Ok(rustix::fs::openat(
                dir,
                name,
                flags,
                Mode::from_raw_mode(0o600),
            )?)
        })?;
        let mut file = File::from(fd);
        let shown = self.dir.join(path);
        stream.counts.in_contents.set(true);
        let mut hasher = sha2::Sha256::default();
        let copied = copy(entry, &mut file, &mut hasher, self.cancel);
        stream.counts.in_contents.set(false);
        match copied {
            Ok(size) => self.files.borrow_mut().push(InstalledFile {
                path: path.to_path_buf(),
                size,
                sha256: Some(crate::checksum::Sha256(
                    sha2::Digest::finalize(hasher).into(),
                )),
                link: None,
            }),
            Err(CopyError::Interrupted) => return Err(Error::Interrupted.into()),
            Err(CopyError::Read(e)) => return Err(stream.error(e)),
            Err(CopyError::Write(e)) => {
                return Err(
                    anyhow::Error::from(e).context(format!("cannot write {}", shown.display()))
                )
            }
        }
        rustix::fs::fchmod(&file, Mode::from_raw_mode((mode & 0o755) as _))
            .with_context(|| format!("cannot chmod {}", shown.display()))?;
        if let Ok(mtime) = entry.header().mtime() {
            // Cosmetic: a filesystem that cannot keep it changes nothing that matters.
            let _ = file.set_modified(UNIX_EPOCH + Duration::from_secs(mtime));
        }
        Ok(())
    }

    /// A symlink: its target, resolved from the directory it is made in, must stay inside.
    fn symlink(&self, entry: &tar::Entry<impl Read>, path: &Path) -> Result<()> {
        let target = self.link_target(entry, path)?;
        if target.as_os_str().is_empty() {
            return Err((self.bad)(format!(
                "link {} has an empty target",
                path.display()
            )));
        }
        self.create(path, |dir, comps, name| {
            let at = self.tree.resolve(comps, &target);
            self.judge(at, || {
                format!("link {} -> {}", path.display(), target.display())
            })?;
            Ok(rustix::fs::symlinkat(&target, dir, name)?)
        })?;
        self.files.borrow_mut().push(InstalledFile {
            path: path.to_path_buf(),
            size: 0,
            sha256: None,
            link: Some(target),
        });
        Ok(())
    }

    /// A hard link: its target (a path in the archive) must be a regular file extracted
    /// before it, inside the directory.
    fn hard_link(&self, entry: &tar::Entry<impl Read>, path: &Path) -> Result<()> {
        let target = self.link_target(entry, path)?;
        let what = || format!("hard link {} -> {}", path.display(), target.display());
        let plain_target = plain(&target)
            .filter(|t| !t.as_os_str().is_empty())
            .ok_or_else(|| (self.bad)(format!("{} escapes the directory", what())))?;
        let src = self.judge(self.tree.resolve(&[], &plain_target), what)?;
        let found = self
            .tree
            .open_file(&src)
            .map_err(|e| self.unsafe_err(e, &what))?;
        if found.is_none() {
            return Err((self.bad)(format!(
                "{}: the target is not a regular file extracted before it",
                what()
            )));
        }
        self.create(path, |dir, _, name| {
            self.tree
                .hard_link(&src, dir, name)
                .map_err(|e| self.unsafe_err(e, &what))
        })?;
        self.hard_links.borrow_mut().push(path.to_path_buf());
        Ok(())
    }

    /// The target of a link entry.
    fn link_target(&self, entry: &tar::Entry<impl Read>, path: &Path) -> Result<PathBuf> {
        entry
            .link_name()
            .map_err(|e| (self.bad)(format!("link {}: {e}", path.display())))?
            .map(|t| t.into_owned())
            .ok_or_else(|| (self.bad)(format!("link {} has no target", path.display())))
    }

    /// Turns a resolution's failure into the error to report for `what`.
    fn judge(&self, r: Result<Resolved, Unsafe>, what: impl Fn() -> String) -> Result<Resolved> {
        r.map_err(|e| self.unsafe_err(e, &what))
    }

    fn unsafe_err(&self, e: Unsafe, what: &dyn Fn() -> String) -> anyhow::Error {
        match e {
            Unsafe::Outside => (self.bad)(format!("{} leaves the directory", what())),
            Unsafe::TooManyLinks => (self.bad)(format!(
                "{} goes through more than {} links",
                what(),
                tree::MAX_LINK_HOPS
            )),
            Unsafe::Io(e) => anyhow::Error::from(e).context(format!(
                "{} (extracting into {})",
                what(),
                self.dir.display()
            )),
        }
    }

    /// A directory entry: made (with its parents) or kept, then given its normalized mode.
    /// The empty path is the root itself (a `./` entry).
    fn directory(&self, path: &Path, mode: u32) -> Result<()> {
        let what = || format!("entry {}", path.display());
        let at = self.judge(self.tree.resolve(&[], path), what)?;
        let fd = self
            .tree
            .make_dirs(&at)
            .map_err(|e| self.unsafe_err(e, &what))?
            .ok_or_else(|| {
                (self.bad)(format!(
                    "directory {} is in the way of something else extracted",
                    path.display()
                ))
            })?;
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(((mode & 0o755) | 0o700) as _))
            .with_context(|| format!("cannot chmod {}", self.dir.join(path).display()))
    }

    /// Makes the entry at `path` (not a directory) with `make(dir, name)`: its parent is
    /// resolved and made, and whatever is at its name already (not a directory) is removed
    /// first, so nothing is written through an earlier link.
    fn create<T>(
        &self,
        path: &Path,
        make: impl FnOnce(&OwnedFd, &[OsString], &OsStr) -> Result<T>,
    ) -> Result<T> {
        let what = || format!("entry {}", path.display());
        let name = match path.file_name() {
            Some(n) => n,
            None => return Err((self.bad)(format!("{} has no name", what()))),
        };
        let parent = path.parent().unwrap_or(Path::new(""));
        let at = self.judge(self.tree.resolve(&[], parent), what)?;
        let fd = self
            .tree
            .make_dirs(&at)
            .map_err(|e| self.unsafe_err(e, &what))?
            .ok_or_else(|| (self.bad)(format!("{}: its directory is not a directory", what())))?;
        match tree::type_of(&fd, name) {
            Ok(None) => {}
            Ok(Some((FileType::Directory, _))) => {
                return Err((self.bad)(format!("{} would replace a directory", what())))
            }
            Ok(Some(_)) => rustix::fs::unlinkat(&fd, name, AtFlags::empty())
                .with_context(|| format!("cannot replace {}", self.dir.join(path).display()))?,
            Err(e) => {
                return Err(anyhow::Error::from(e)
                    .context(format!("cannot stat {}", self.dir.join(path).display())))
            }
        }
        make(&fd, &at.comps, name)
            .with_context(|| format!("cannot create {}", self.dir.join(path).display()))
    }

    /// Fails when the filesystem has less than `size` bytes available.
    fn check_space(&self, path: &Path, size: u64) -> Result<()> {
        if size == 0 {
            return Ok(());
        }
        let st = rustix::fs::fstatvfs(self.tree.root())
            .with_context(|| format!("cannot statvfs {}", self.dir.display()))?;
        let available = st.f_bavail.saturating_mul(st.f_frsize);
        if available < size {
            anyhow::bail!(
                "not enough space in {} to extract {}: it needs {}, {} available",
                self.dir.display(),
                path.display(),
                crate::size::iec(size),
                crate::size::iec(available)
            );
        }
        Ok(())
    }

    /// The checks once every entry is out: no link leads outside (a later entry can change
    /// where an earlier link leads), and the executable is there.
    fn check(&self, executable: &str) -> Result<()> {
        self.tree.each_link(|dir, name, target| -> Result<()> {
            let at: PathBuf = dir.iter().chain([&name.to_os_string()]).collect();
            let what = || format!("link {} -> {}", at.display(), target.display());
            self.judge(self.tree.resolve(dir, target), what).map(drop)
        })?;
        let what = || format!("executable {executable}");
        let at = self.judge(self.tree.resolve(&[], Path::new(executable)), what)?;
        match self
            .tree
            .open_file(&at)
            .map_err(|e| self.unsafe_err(e, &what))?
        {
            Some((_, mode)) if mode.bits() & 0o100 != 0 => Ok(()),
            Some(_) => Err((self.bad)(format!(
                "{executable} (the variant's executable) is not executable"
            ))),
            None => Err((self.bad)(format!(
                "the archive has no {executable} (the variant's executable) at its top level"
            ))),
        }
    }
}

enum CopyError {
    Interrupted,
    Read(std::io::Error),
    Write(std::io::Error),
}

/// Copies `from` to `to` and into `hasher`, returning the bytes copied, telling read errors
/// (the archive) from write errors (the disk), and stopping once `cancel` is cancelled (a
/// backend's library can take seconds).
fn copy(
    from: &mut impl Read,
    to: &mut impl Write,
    hasher: &mut sha2::Sha256,
    cancel: &Cancel,
) -> Result<u64, CopyError> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        if cancel.is_cancelled() {
            return Err(CopyError::Interrupted);
        }
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        to.write_all(&buf[..n]).map_err(CopyError::Write)?;
        sha2::Digest::update(hasher, &buf[..n]);
        total += n as u64;
    }
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
