//! The extraction: every entry is created beneath the temporary directory by name in a
//! directory reached through the tree (`tree`: directory handles and `openat` on Unix, a
//! checked walk that never meets a link on Windows), with [`super`]'s refusals.

use std::cell::{Cell, RefCell};
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use anyhow::{Context, Result};
use flate2::read::GzDecoder;
use tar::EntryType;

use super::tree::{self, Dir, Kind, Resolved, Tree, Unsafe};
use super::{plain, EXPANSION_FACTOR, MAX_HEADER_BYTES, MIN_MAX_EXPANDED};
use crate::cancel::Cancel;
use crate::installs::InstalledFile;
use crate::Error;

/// Extracts and checks `archive` into the empty directory `dir` (see [`super::extract_checked`]).
pub(super) fn extract(
    dir: &Path,
    archive: &Path,
    label: &str,
    executable: &str,
    max_expanded: u64,
    cancel: &Cancel,
) -> Result<Vec<InstalledFile>> {
    let tree = Tree::open(dir).with_context(|| format!("cannot open {}", dir.display()))?;
    let bad =
        |what: String| -> anyhow::Error { Error::Integrity(format!("{label}: {what}")).into() };
    let extraction = Extraction {
        tree: &tree,
        dir,
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
        let (sha256, size) = crate::digest::hash_file(&dir.join(&path), &|_| {}, cancel)?;
        files.push(InstalledFile {
            path,
            size,
            sha256: Some(sha256),
            link: None,
        });
    }
    Ok(files)
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
        crate::error::with_remedy(
            (self.bad)(format!(
                "expands to more than {cap} bytes, its cap (by default {EXPANSION_FACTOR} \
                 times the archive's size, at least {} MiB)",
                MIN_MAX_EXPANDED >> 20
            )),
            crate::error::Remedy::RaiseMaxSize,
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
        let mut file = self.create(path, |dir, _, name| {
            self.check_space(path, size)?;
            Ok(tree::create_file(dir, name)?)
        })?;
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
        tree::set_file_mode(&file, mode & 0o755)
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
        if !tree::SYMLINKS {
            return Err((self.bad)(format!(
                "link {} -> {}: symbolic links are not extracted on this system",
                path.display(),
                target.display()
            )));
        }
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
            Ok(tree::symlink(&target, dir, name)?)
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
            Unsafe::BadName(why) => (self.bad)(format!("{}: {why}", what())),
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
        tree::set_dir_mode(&fd, (mode & 0o755) | 0o700)
            .with_context(|| format!("cannot chmod {}", self.dir.join(path).display()))
    }

    /// Makes the entry at `path` (not a directory) with `make(dir, name)`: its parent is
    /// resolved and made, and whatever is at its name already (not a directory) is removed
    /// first, so nothing is written through an earlier link.
    fn create<T>(
        &self,
        path: &Path,
        make: impl FnOnce(&Dir, &[OsString], &OsStr) -> Result<T>,
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
        match tree::kind_of(&fd, name) {
            Ok(None) => {}
            Ok(Some(Kind::Dir)) => {
                return Err((self.bad)(format!("{} would replace a directory", what())))
            }
            Ok(Some(_)) => tree::remove(&fd, name)
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
        let available = self
            .tree
            .available()
            .with_context(|| format!("cannot read the free space of {}", self.dir.display()))?;
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
            Some((_, true)) => Ok(()),
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
