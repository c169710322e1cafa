//! Verifying files against SHA-256 checksums: one file, the lines of sha256sum/BSD-tag sums
//! files (several files hashed in parallel, up to the number of cores), and split releases
//! from their manifest (docs/contract.md "Release layouts", layouts 1 and 2), where the whole
//! asset's hash is computed by streaming the parts in order, beside the per-part hashes, without an
//! assembled copy.
//!
//! Outcomes are data ([`Check`]s with a [`Status`]), not errors: the caller prints them and
//! decides the exit code. Errors are kept for what stops the run: an unreadable or malformed
//! sums file or manifest ([`Error::Integrity`] where the data is at fault) and SIGINT.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::cancel::Cancel;
use crate::checked_open::{read_capped, TooLarge, CHECKSUM_FILE_CAP, MANIFEST_CAP, SUMS_FILE_CAP};
use crate::checksum::{self, Sha256};
use crate::digest::{hash_file, hash_segments, Segment};
use crate::manifest::{self, Manifest};
use crate::name::validate_file_name;
use crate::Error;

/// The outcome of checking one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Size and hash match.
    Ok,
    /// The hash or size differs, or the file could not be read.
    Failed,
    /// The file does not exist.
    Missing,
    /// The file exists and was hashed, but there is no checksum to compare it with (a part
    /// listed by a text manifest, which carries no per-part hashes).
    Present,
    /// Not checked because something it depends on failed (the whole asset when a part is
    /// missing or has the wrong size).
    Skipped,
}

impl Status {
    /// The word printed after `name:`, as `sha256sum -c` does for OK and FAILED.
    pub fn word(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Failed => "FAILED",
            Status::Missing => "MISSING",
            Status::Present => "PRESENT",
            Status::Skipped => "SKIPPED",
        }
    }

    /// Whether this outcome is a pass.
    pub fn passed(self) -> bool {
        matches!(self, Status::Ok | Status::Present)
    }
}

/// One checked file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Check {
    /// The name shown (as written in the sums file or manifest; lossily decoded if it is
    /// not UTF-8).
    pub name: String,
    /// The name's bytes as a sums file wrote them, when they are not simply `name`'s.
    #[serde(skip)]
    pub raw_name: Option<Vec<u8>>,
    /// The file's path.
    pub path: PathBuf,
    /// The outcome.
    pub status: Status,
    /// The SHA-256 expected, if known.
    pub expected_sha256: Option<Sha256>,
    /// The SHA-256 computed, if the file was hashed.
    pub sha256: Option<Sha256>,
    /// The size expected in bytes, if known.
    pub expected_size: Option<u64>,
    /// The size found in bytes, if the file exists.
    pub size: Option<u64>,
    /// Why it failed or was skipped, in words, unless it is a plain hash mismatch.
    pub detail: Option<String>,
    /// Why the file could not be opened or read, in the words of strerror(3) as GNU tools
    /// print them (`No such file or directory`, `Is a directory`): set exactly when
    /// `sha256sum -c` would say `FAILED open or read` (a missing file included). Not in the
    /// JSON report, where `status` and `detail` say it.
    #[serde(skip)]
    pub read_error: Option<String>,
}

impl Check {
    /// A check of `name` at `path` with `status` and nothing else known yet.
    pub fn new(name: &str, path: &Path, status: Status) -> Check {
        Check {
            name: name.to_string(),
            raw_name: None,
            path: path.to_path_buf(),
            status,
            expected_sha256: None,
            sha256: None,
            expected_size: None,
            size: None,
            detail: None,
            read_error: None,
        }
    }
}

/// strerror(3)'s words for `e` (`No such file or directory`), as GNU tools print them,
/// without the ` (os error N)` that Rust adds; an error without an OS code as displayed.
pub fn os_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match e.raw_os_error() {
        Some(code) => match text.strip_suffix(&format!(" (os error {code})")) {
            Some(words) => words.to_string(),
            None => text,
        },
        None => text,
    }
}

/// [`os_reason`] for the first I/O error in `e`'s chain, else the whole chain.
fn chain_reason(e: &anyhow::Error) -> String {
    e.chain()
        .find_map(|c| c.downcast_ref::<std::io::Error>())
        .map_or_else(|| format!("{e:#}"), os_reason)
}

/// How a verification runs: the settings of [`check_files`] and [`verify_manifest`]. Built
/// with [`Settings::default`], then changed field by field: a later version may add fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Settings {
    /// How many files are hashed at a time (at least 1).
    pub threads: usize,
    /// Ends the run between blocks with [`Error::Interrupted`].
    pub cancel: Cancel,
}

impl Default for Settings {
    /// One file at a time per CPU (`std::thread::available_parallelism`, 1 when unknown), and
    /// a fresh [`Cancel`].
    fn default() -> Settings {
        Settings {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cancel: Cancel::new(),
        }
    }
}

/// What a verification reports while it runs: the verify domain's one event type, serialized
/// with an `"event"` tag in snake case. Delivered through `&(dyn Fn(&Event) + Sync)`:
/// [`Event::Hashed`] comes from the hashing threads.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// These many more bytes were hashed.
    Hashed {
        /// Bytes, since the previous `Hashed` of the same thread.
        bytes: u64,
    },
    /// A file's check is done ([`check_files`]: in the order of its jobs). Boxed: a check
    /// is large beside the `Hashed` events that make up most of a run.
    Checked(Box<Check>),
}

/// One file to check.
#[derive(Debug, Clone)]
pub struct Job {
    /// The name shown (lossily decoded if the name is not UTF-8).
    pub name: String,
    /// The name's bytes as a sums file wrote them, when they are not simply `name`'s.
    pub raw_name: Option<Vec<u8>>,
    /// Where the file is.
    pub path: PathBuf,
    /// The expected digest.
    pub sha256: Sha256,
    /// The expected size in bytes, if known (a wrong size fails without hashing).
    pub size: Option<u64>,
}

/// Checks one file, reporting [`Event::Hashed`] as it reads. Never fails for the file's sake
/// (a missing or unreadable file is a [`Check`]); errors only with [`Error::Interrupted`]
/// once `cancel` is cancelled.
///
/// ```no_run
/// use voxctl::cancel::Cancel;
/// use voxctl::checksum::Sha256;
/// use voxctl::verify::{check_file, Job};
///
/// let job = Job {
///     name: "voicebox-server-cpu".into(),
///     raw_name: None,
///     path: "voicebox-server-cpu".into(),
///     sha256: Sha256::parse(&"ab".repeat(32))?,
///     size: None,
/// };
/// let check = check_file(&job, &Cancel::new(), &|_event| {})?;
/// println!("{}: {}", check.name, if check.status.passed() { "OK" } else { "FAILED" });
/// # anyhow::Ok(())
/// ```
pub fn check_file(job: &Job, cancel: &Cancel, on_event: &(dyn Fn(&Event) + Sync)) -> Result<Check> {
    tracing::info!(
        "{}: checking {} against sha256 {}",
        job.name,
        job.path.display(),
        job.sha256
    );
    let mut check = Check::new(&job.name, &job.path, Status::Failed);
    check.raw_name.clone_from(&job.raw_name);
    check.expected_sha256 = Some(job.sha256);
    check.expected_size = job.size;
    let meta = match std::fs::metadata(&job.path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            check.status = Status::Missing;
            check.read_error = Some(os_reason(&e));
            return Ok(check);
        }
        Err(e) => {
            check.detail = Some(format!("cannot stat: {e}"));
            check.read_error = Some(os_reason(&e));
            return Ok(check);
        }
    };
    if !meta.is_file() {
        // GNU reads what it is given and fails on a directory with EISDIR; voxctl reads
        // only regular files (a FIFO or a device could block or never end).
        check.detail = Some("not a regular file".into());
        check.read_error = Some(if meta.is_dir() {
            os_reason(&crate::platform::is_a_directory())
        } else {
            "not a regular file".into()
        });
        return Ok(check);
    }
    check.size = Some(meta.len());
    if let Some(size) = job.size.filter(|&s| s != meta.len()) {
        check.detail = Some(format!("size is {} bytes, expected {size}", meta.len()));
        return Ok(check);
    }
    let progress = |bytes| on_event(&Event::Hashed { bytes });
    match hash_file(&job.path, &progress, cancel) {
        Ok((sha256, size)) => {
            check.sha256 = Some(sha256);
            check.size = Some(size);
            if sha256 == job.sha256 {
                check.status = Status::Ok;
            }
        }
        Err(e) if matches!(Error::find(&e), Some(Error::Interrupted)) => return Err(e),
        Err(e) => {
            check.detail = Some(format!("{e:#}"));
            check.read_error = Some(chain_reason(&e));
        }
    }
    Ok(check)
}

/// Checks `jobs` on up to `s.threads` files at a time and returns their checks in the order
/// of `jobs`; `on_event` hears [`Event::Hashed`] as files are read and [`Event::Checked`] for
/// each check in that order, as soon as it and all before it are done. Errors only with
/// [`Error::Interrupted`] once `s.cancel` is cancelled (the remaining jobs are dropped).
///
/// ```no_run
/// use voxctl::verify::{self, Event, Job, Settings};
///
/// let job = Job {
///     name: "voicebox-server-cpu".into(),
///     raw_name: None,
///     path: "voicebox-server-cpu".into(),
///     sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".parse()?,
///     size: None,
/// };
/// let checks = verify::check_files(&[job], &Settings::default(), &|event| {
///     if let Event::Checked(c) = event {
///         println!("{}: {}", c.name, c.status.word());
///     }
/// })?;
/// assert!(checks.iter().all(|c| c.status.passed()));
/// # anyhow::Ok(())
/// ```
pub fn check_files(
    jobs: &[Job],
    s: &Settings,
    on_event: &(dyn Fn(&Event) + Sync),
) -> Result<Vec<Check>> {
    let next = AtomicUsize::new(0);
    let workers = s.threads.clamp(1, jobs.len().max(1));
    let cancel = &s.cancel;
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<(usize, Result<Check>)>();
        for _ in 0..workers {
            let (tx, next) = (tx.clone(), &next);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { break };
                let outcome = check_file(job, cancel, on_event);
                let stop = outcome.is_err();
                if tx.send((i, outcome)).is_err() || stop {
                    break;
                }
            });
        }
        drop(tx);
        let mut pending = BTreeMap::new();
        let mut done = Vec::with_capacity(jobs.len());
        for (i, outcome) in rx {
            pending.insert(i, outcome?);
            while let Some(check) = pending.remove(&done.len()) {
                on_event(&Event::Checked(Box::new(check.clone())));
                done.push(check);
            }
        }
        Ok(done)
    })
}

/// A malformed line of a sums file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Malformed {
    /// The sums file (`-` for stdin).
    pub file: PathBuf,
    /// The line number, from 1.
    pub line: usize,
    /// What is wrong.
    pub error: String,
}

/// The jobs of one sums file, and its malformed lines.
#[derive(Debug, Clone, Default)]
pub struct Sums {
    /// One job per checksum line, in order; see [`parse_sums`] for how names resolve.
    pub jobs: Vec<Job>,
    /// The line number (from 1) of each job, in the order of `jobs`.
    pub lines: Vec<usize>,
    /// Lines that are neither checksum lines, empty lines nor `#` comments.
    pub malformed: Vec<Malformed>,
}

/// Parses the bytes of the sums file `file` as GNU `sha256sum -c` does (see
/// [`checksum::CheckReader`], whose state carries over from the files read before, as in
/// GNU). Names are bytes and need not be UTF-8. A relative name resolves against `base` if
/// given (`verify -c --relative-to-sums`), else against the current directory, as
/// `sha256sum -c` resolves it; `from_stdin` makes the name `-` malformed, as in GNU.
pub fn parse_sums(
    file: &Path,
    bytes: &[u8],
    from_stdin: bool,
    base: Option<&Path>,
    reader: &mut checksum::CheckReader,
) -> Sums {
    let mut sums = Sums::default();
    // As getline(3) splits them: a final line without a newline counts too.
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let lines = (!bytes.is_empty()).then(|| body.split(|&b| b == b'\n'));
    for (i, line) in lines.into_iter().flatten().enumerate() {
        match reader.line(line, from_stdin) {
            checksum::CheckLine::Skip => {}
            checksum::CheckLine::Malformed => sums.malformed.push(Malformed {
                file: file.to_path_buf(),
                line: i + 1,
                error: format!(
                    "improperly formatted SHA-256 checksum line {:?}",
                    String::from_utf8_lossy(&line[..line.len().min(120)])
                ),
            }),
            checksum::CheckLine::Sum { sha256, name, .. } => {
                let rel = crate::platform::path_from_bytes(&name);
                sums.lines.push(i + 1);
                sums.jobs.push(Job {
                    path: base.map_or_else(|| rel.clone(), |b| b.join(&rel)),
                    name: String::from_utf8_lossy(&name).into_owned(),
                    raw_name: Some(name),
                    sha256,
                    size: None,
                })
            }
        }
    }
    sums
}

/// Reads and parses the sums file at `path` for `verify -c` (`-` reads stdin); names resolve
/// as [`parse_sums`] says, against `base` when given. Errors name the file: a missing sums
/// file, a directory or one over `SUMS_FILE_CAP` is [`Error::Integrity`].
///
/// ```no_run
/// use voxctl::checksum::CheckReader;
///
/// let sums = voxctl::verify::read_sums("SHA256SUMS".as_ref(), None, &mut CheckReader::default())?;
/// # anyhow::Ok(())
/// ```
pub fn read_sums(
    path: &Path,
    base: Option<&Path>,
    reader: &mut checksum::CheckReader,
) -> Result<Sums> {
    let from_stdin = path == Path::new("-");
    let bytes = read_sums_bytes(path)?;
    Ok(parse_sums(path, &bytes, from_stdin, base, reader))
}

/// The bytes of a sums file (`-`: stdin). The user names it, so it may be a pipe (`<(...)`,
/// `/dev/stdin`) as with `sha256sum -c`; it is read up to [`SUMS_FILE_CAP`] bytes, counted
/// while reading. The one place `verify -c` reads one. A missing one or a directory is
/// [`Error::Integrity`] with the `io::Error` (`ENOENT`, `EISDIR`) in its chain.
fn read_sums_bytes(path: &Path) -> Result<Vec<u8>> {
    if path == Path::new("-") {
        return read_capped(std::io::stdin().lock(), SUMS_FILE_CAP, Path::new("stdin"))
            .map_err(|e| over_cap(e, "checksum file"));
    }
    let unreadable = |e: std::io::Error| {
        let what = match e.kind() {
            std::io::ErrorKind::NotFound => "is missing",
            _ if e.kind() == std::io::ErrorKind::IsADirectory => "is a directory",
            _ => "cannot be read",
        };
        anyhow::Error::new(e).context(Error::Integrity(format!(
            "checksum file {} {what}",
            path.display()
        )))
    };
    let f = std::fs::File::open(path).map_err(unreadable)?;
    if f.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(unreadable(crate::platform::is_a_directory()));
    }
    read_capped(f, SUMS_FILE_CAP, path).map_err(|e| over_cap(e, "checksum file"))
}

/// A [`TooLarge`] read as an integrity failure naming `what`; other errors unchanged.
fn over_cap(e: anyhow::Error, what: &str) -> anyhow::Error {
    match e.downcast_ref::<TooLarge>() {
        Some(t) => Error::Integrity(format!("{what} {t}; refusing to read it")).into(),
        None => e,
    }
}

/// Reads a small text file of a release (a manifest, `S.sha256`: a regular file only), at
/// most `cap` bytes; a missing one, one of the wrong type or one over the cap is an
/// integrity failure naming `what` and the path, as is one that is not UTF-8.
fn read_text(path: &Path, what: &str, cap: u64) -> Result<String> {
    let bytes =
        crate::checked_open::read_foreign(path, cap, Error::Integrity, Some(Error::Integrity))?
            .ok_or_else(|| Error::Integrity(format!("{what} {} is missing", path.display())))?;
    String::from_utf8(bytes).map_err(|_| {
        Error::Integrity(format!("{what} {} is not UTF-8 text", path.display())).into()
    })
}

/// What `verify --json` prints: the verdict, then what was checked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Whether everything passed (the command exits 0).
    pub ok: bool,
    /// When something failed: the error object every `--json` failure carries (`code`,
    /// `kind`, `message`, `hint`), as the command exits with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<crate::error::ErrorBody>,
    /// With `--manifest`: the manifest's report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<ManifestReport>,
    /// The signatures that authenticated what was checked, when a key was given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<crate::signature::Authenticated>,
    /// Every file checked, in order.
    pub files: Vec<Check>,
    /// With `-c`: the malformed lines of the sums files.
    pub malformed: Vec<Malformed>,
    /// With `-c`: each sums file, and why it failed as a whole, if it did.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sums_files: Vec<SumsFile>,
}

/// One sums file of `verify -c`, and its own verdict (as `sha256sum -c` gives one per file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SumsFile {
    /// The sums file (`-` for stdin).
    pub file: PathBuf,
    /// Its checksum lines.
    pub checksum_lines: usize,
    /// Its malformed lines.
    pub malformed_lines: usize,
    /// Why the file fails as a whole: unreadable, no checksum lines, nothing verified with
    /// `--ignore-missing`, malformed lines with `--strict`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Why a sums file fails as a whole ([`Tally::file_error`]); `Display` gives GNU's words
/// where it has some.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SumsFileError {
    /// Not one line is a checksum line.
    NoChecksumLines,
    /// Missing files were ignored, and no file was left to verify.
    NothingVerified,
    /// This many lines are improperly formatted, and the check is strict.
    Malformed(usize),
}

impl std::fmt::Display for SumsFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SumsFileError::NoChecksumLines => {
                f.write_str("no properly formatted checksum lines found")
            }
            SumsFileError::NothingVerified => f.write_str("no file was verified"),
            SumsFileError::Malformed(n) => write!(f, "{n} improperly formatted line(s)"),
        }
    }
}

/// What `sha256sum -c` counts while it checks one sums file (coreutils' `digest_check`):
/// the numbers behind its `WARNING:` lines and its verdict on the file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Checksum lines (whatever became of their files).
    pub lines: usize,
    /// Improperly formatted lines.
    pub malformed: usize,
    /// Files whose digest matched.
    pub matched: usize,
    /// Files whose digest did not match.
    pub mismatched: usize,
    /// Files that could not be opened or read, missing ones included unless ignored.
    pub unreadable: usize,
}

impl Tally {
    /// Counts one file's check; with `ignore_missing` a missing file counts for nothing.
    pub fn count(&mut self, check: &Check, ignore_missing: bool) {
        if ignore_missing && check.status == Status::Missing {
            return;
        }
        if check.read_error.is_some() {
            self.unreadable += 1;
        } else if check.status.passed() {
            self.matched += 1;
        } else {
            self.mismatched += 1;
        }
    }

    /// GNU's summary of a sums file that had checksum lines, in its words and order
    /// (`WARNING: 1 computed checksum did NOT match`).
    pub fn warnings(&self) -> Vec<String> {
        let plural = |n: usize, one: &str, many: &str| {
            format!("WARNING: {n} {}", if n == 1 { one } else { many })
        };
        let mut out = Vec::new();
        if self.malformed > 0 {
            out.push(plural(
                self.malformed,
                "line is improperly formatted",
                "lines are improperly formatted",
            ));
        }
        if self.unreadable > 0 {
            out.push(plural(
                self.unreadable,
                "listed file could not be read",
                "listed files could not be read",
            ));
        }
        if self.mismatched > 0 {
            out.push(plural(
                self.mismatched,
                "computed checksum did NOT match",
                "computed checksums did NOT match",
            ));
        }
        out
    }

    /// Why the sums file fails as a whole, beyond its files' own failures: no checksum
    /// line, no file verified (when missing files are ignored), malformed lines (when
    /// `strict`, as `sha256sum --strict`).
    pub fn file_error(&self, ignore_missing: bool, strict: bool) -> Option<SumsFileError> {
        if self.lines == 0 {
            Some(SumsFileError::NoChecksumLines)
        } else if ignore_missing && self.matched == 0 {
            Some(SumsFileError::NothingVerified)
        } else if strict && self.malformed > 0 {
            Some(SumsFileError::Malformed(self.malformed))
        } else {
            None
        }
    }

    /// GNU's verdict on the sums file: a checksum line, a file that matched, none that did
    /// not or could not be read, and with `strict` no malformed line.
    pub fn passed(&self, strict: bool) -> bool {
        self.lines > 0
            && self.matched > 0
            && self.mismatched == 0
            && self.unreadable == 0
            && !(strict && self.malformed > 0)
    }
}

/// The kind of a split release's manifest; serialized as `"json"` or `"text"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ManifestKind {
    /// A JSON manifest (layout 1), with per-part sizes and hashes.
    Json,
    /// A voicebox text manifest with `S.sha256` beside it (layout 2).
    Text,
}

/// The result of checking a split release against its manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ManifestReport {
    /// The manifest checked.
    pub manifest: PathBuf,
    /// `json` (layout 1) or `text` (layout 2, with `S.sha256`).
    pub kind: ManifestKind,
    /// The asset name `A`.
    pub asset: String,
    /// The asset's SHA-256 per the release.
    pub sha256: Sha256,
    /// Each part in order, then the asset assembled from the parts (`A (from parts)`), then
    /// the assembled asset `A` if it lies beside the manifest.
    pub checks: Vec<Check>,
}

/// What a manifest says, whichever its kind.
struct Expected {
    kind: ManifestKind,
    asset: String,
    sha256: Sha256,
    size: Option<u64>,
    parts: Vec<(String, Option<u64>, Option<Sha256>)>,
}

/// Checks the release described by the manifest at `path`: a JSON manifest (layout 1) or a
/// voicebox text manifest with `S.sha256` beside it (layout 2). See [`ManifestReport`].
///
/// `on_event` hears [`Event::Hashed`] only: the checks are the report's.
///
/// Errors: a missing or malformed manifest, or a text manifest without a well-formed
/// `S.sha256`, is [`Error::Integrity`]; [`Error::Interrupted`] once `s.cancel` is cancelled.
///
/// ```no_run
/// use voxctl::verify::{self, Settings};
///
/// let report = verify::verify_manifest(
///     "release/voicebox-server-cuda.manifest.json".as_ref(),
///     &Settings::default(),
///     &|_event| {},
/// )?;
/// assert!(report.checks.iter().all(|c| c.status.passed()));
/// # anyhow::Ok(())
/// ```
pub fn verify_manifest(
    path: &Path,
    s: &Settings,
    on_event: &(dyn Fn(&Event) + Sync),
) -> Result<ManifestReport> {
    // Only the hashing progress goes out: the checks are in the report.
    let hashed = |e: &Event| {
        if let Event::Hashed { .. } = e {
            on_event(e)
        }
    };
    let progress = |bytes| on_event(&Event::Hashed { bytes });
    let dir = crate::atomic::parent_dir(path);
    let text = read_text(path, "manifest", MANIFEST_CAP)?;
    let expected = if text.trim_start().starts_with('{') {
        let m = Manifest::from_json(text.as_bytes())
            .with_context(|| format!("in {}", path.display()))?;
        Expected {
            kind: ManifestKind::Json,
            parts: m
                .parts
                .iter()
                .map(|p| (p.name.clone(), Some(p.size), Some(p.sha256)))
                .collect(),
            asset: m.asset,
            sha256: m.sha256,
            size: Some(m.size),
        }
    } else {
        text_expected(path, dir, &text)?
    };
    tracing::info!(
        "manifest {}: {} layout, asset {}, {} part(s), whole sha256 {}",
        path.display(),
        if expected.kind == ManifestKind::Json {
            "rich (JSON)"
        } else {
            "voicebox v1 (text manifest + .sha256)"
        },
        expected.asset,
        expected.parts.len(),
        expected.sha256
    );

    let mut checks = Vec::new();
    let mut segments = Vec::new();
    for (name, size, _) in &expected.parts {
        let part_path = dir.join(name);
        tracing::info!("part {name}: checking {}", part_path.display());
        let mut check = Check::new(name, &part_path, Status::Failed);
        check.expected_size = *size;
        match crate::checked_open::open_regular(&part_path).and_then(|f| Ok((f.metadata()?, f))) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => check.status = Status::Missing,
            Err(e) if crate::checked_open::not_regular(&e).is_some() => {
                check.detail = Some("not a regular file".into())
            }
            Err(e) => check.detail = Some(format!("cannot open: {e}")),
            Ok((meta, _)) if !meta.is_file() => check.detail = Some("not a regular file".into()),
            Ok((meta, file)) => {
                check.size = Some(meta.len());
                match size {
                    Some(s) if *s != meta.len() => {
                        check.detail = Some(format!("size is {} bytes, expected {s}", meta.len()))
                    }
                    _ => segments.push(Segment {
                        file,
                        path: part_path.clone(),
                        start: 0,
                        len: meta.len(),
                    }),
                }
            }
        }
        checks.push(check);
    }

    let whole_name = format!("{} (from parts)", expected.asset);
    let mut whole = Check::new(&whole_name, dir, Status::Skipped);
    whole.expected_sha256 = Some(expected.sha256);
    whole.expected_size = expected.size;
    let asset_path = dir.join(&expected.asset);
    let asset_job = asset_path.is_file().then(|| Job {
        name: expected.asset.clone(),
        raw_name: None,
        path: asset_path.clone(),
        sha256: expected.sha256,
        size: expected.size,
    });

    let asset_check = std::thread::scope(|scope| -> Result<Option<Check>> {
        let asset_thread = asset_job
            .as_ref()
            .map(|job| scope.spawn(|| check_file(job, &s.cancel, &hashed)));
        if segments.len() == expected.parts.len() {
            let ((sha256, size), each) = hash_segments(&segments, &mut [], &progress, &s.cancel)?;
            for ((check, (sha256, _)), (_, _, want)) in
                checks.iter_mut().zip(each).zip(&expected.parts)
            {
                check.sha256 = Some(sha256);
                check.expected_sha256 = *want;
                check.status = match want {
                    None => Status::Present,
                    Some(w) if *w == sha256 => Status::Ok,
                    Some(_) => Status::Failed,
                };
            }
            whole.sha256 = Some(sha256);
            whole.size = Some(size);
            whole.status = if sha256 == expected.sha256 {
                Status::Ok
            } else {
                Status::Failed
            };
        } else {
            whole.detail = Some("a part is missing or unusable".into());
            // Still hash the usable parts, to say which are good: OK or FAILED against a
            // part checksum (JSON manifest), PRESENT once hashed where there is none (text
            // manifest), as when every part is there.
            let jobs: Vec<(usize, Job)> = checks
                .iter()
                .zip(&expected.parts)
                .enumerate()
                .filter(|(_, (c, _))| c.detail.is_none() && c.status != Status::Missing)
                .map(|(i, (c, (_, size, sha)))| {
                    let job = Job {
                        name: c.name.clone(),
                        raw_name: None,
                        path: c.path.clone(),
                        // Without a part checksum the comparison is ignored below.
                        sha256: sha.unwrap_or(Sha256([0; 32])),
                        size: *size,
                    };
                    (i, job)
                })
                .collect();
            let (indices, jobs): (Vec<usize>, Vec<Job>) = jobs.into_iter().unzip();
            for (i, mut c) in indices.into_iter().zip(check_files(&jobs, s, &hashed)?) {
                if expected.parts[i].2.is_none() {
                    c.expected_sha256 = None;
                    if c.sha256.is_some() {
                        c.status = Status::Present;
                    }
                }
                checks[i] = c;
            }
        }
        match asset_thread {
            Some(t) => t
                .join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("a hashing thread panicked")))
                .map(Some),
            None => Ok(None),
        }
    })?;
    checks.push(whole);
    checks.extend(asset_check);
    Ok(ManifestReport {
        manifest: path.to_path_buf(),
        kind: expected.kind,
        asset: expected.asset,
        sha256: expected.sha256,
        checks,
    })
}

/// Reads a text manifest (layout 2) and the `S.sha256` beside it.
fn text_expected(path: &Path, dir: &Path, text: &str) -> Result<Expected> {
    let names =
        manifest::parse_text_manifest(text).with_context(|| format!("in {}", path.display()))?;
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("{} has no usable file name", path.display()))?;
    let stem = file_name.strip_suffix(".manifest").unwrap_or(file_name);
    let sha_path = dir.join(format!("{stem}.sha256"));
    let sum = checksum::parse_single(&read_text(&sha_path, "checksum file", CHECKSUM_FILE_CAP)?)
        .with_context(|| format!("in {}", sha_path.display()))?;
    // The line names the asset as sha256sum saw it; keep only its file name.
    let named = Path::new(&sum.name)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let asset = if !named.is_empty() {
        named.to_string()
    } else if names.iter().all(|n| n.ends_with(".exe")) {
        format!("{stem}.exe")
    } else {
        stem.to_string()
    };
    validate_file_name("asset", &asset)?;
    Ok(Expected {
        kind: ManifestKind::Text,
        asset,
        sha256: sum.sha256,
        size: None,
        parts: names.into_iter().map(|n| (n, None, None)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_names_resolve_against_the_current_dir_or_the_given_base() {
        let h = Sha256::of(b"");
        let text = format!(
            "{h}  a\n{h} *sub/b\nSHA256 (c d) = {h}\n\n# comment\nbroken line\n{h}  /abs\n{h}  -\n{h}  "
        );
        let mut bytes = text.into_bytes();
        bytes.push(0xff); // a name that is not UTF-8, on a last line without a newline
        for (base, want) in [
            (None, ["a", "sub/b", "c d", "/abs", "-"]),
            (Some("x"), ["x/a", "x/sub/b", "x/c d", "/abs", "x/-"]),
        ] {
            let mut reader = checksum::CheckReader::new();
            let sums = parse_sums(
                Path::new("x/SUMS"),
                &bytes,
                false,
                base.map(Path::new),
                &mut reader,
            );
            let paths: Vec<_> = sums.jobs.iter().map(|j| j.path.clone()).collect();
            let mut want: Vec<PathBuf> = want.map(PathBuf::from).to_vec();
            let odd = crate::platform::path_from_bytes(b"\xff");
            want.push(base.map_or_else(|| odd.clone(), |b| Path::new(b).join(&odd)));
            assert_eq!(paths, want);
            assert_eq!(sums.jobs[5].raw_name.as_deref(), Some(&b"\xff"[..]));
            assert_eq!(sums.malformed.len(), 1);
            assert_eq!(sums.malformed[0].line, 6);
        }
        let mut reader = checksum::CheckReader::new();
        let sums = parse_sums(Path::new("-"), &bytes, true, None, &mut reader);
        assert_eq!(
            sums.malformed.len(),
            2,
            "`-` is malformed in sums read from stdin"
        );
    }

    #[test]
    fn statuses() {
        let table = [
            (Status::Ok, "OK", true),
            (Status::Failed, "FAILED", false),
            (Status::Missing, "MISSING", false),
            (Status::Present, "PRESENT", true),
            (Status::Skipped, "SKIPPED", false),
        ];
        for (s, word, pass) in table {
            assert_eq!((s.word(), s.passed()), (word, pass));
        }
    }
}
