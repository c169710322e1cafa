//! `voxctl verify`: one file against `--sha256`, sums files with `-c`, or a split release
//! with `--manifest`. With `-c` (and `--sha256`) stdout and stderr are `sha256sum -c`'s
//! (`NAME: OK`, `NAME: FAILED`, `NAME: FAILED open or read`; `WARNING: ...` summaries), with
//! `voxctl` for `sha256sum` and the path tried added to a file's read error; the other modes
//! print `NAME: OK|FAILED|MISSING|PRESENT|SKIPPED`. One JSON document with `--json`; exit 3
//! when anything fails.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use voxctl::exit::ExitStatus;

use crate::hint::hinted;
use anyhow::Result;
use voxctl::checksum::{gnu_quote, CheckReader};
use voxctl::signature::{verify_beside, Authenticated, Keyring};
use voxctl::verify::{self, Check, Job, Malformed, Report, Status, SumsFile, SumsFileError, Tally};
use voxctl::Error;

use crate::cli::VerifyArgs;
use crate::output::{human_bytes, Printer};

pub fn run(args: VerifyArgs, printer: &Printer) -> Result<ExitStatus> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let keyed = super::sign::any_key_option(&args.keys);
    let keys = super::sign::keyring(&args.keys)?;
    if let Some(which) = &args.installed {
        if !args.files.is_empty() {
            return Err(Error::Usage("--installed takes no FILE arguments".into()).into());
        }
        return run_installed(&args, which, threads, printer);
    }
    if let Some(manifest) = &args.manifest {
        if !args.files.is_empty() {
            return Err(Error::Usage("--manifest takes no FILE arguments".into()).into());
        }
        let signatures = authenticate(&keys, &[signed_by_manifest(manifest)?], printer)?;
        return run_manifest(manifest, threads, printer, &signatures);
    }
    if keyed && args.sha256.is_some() {
        return Err(Error::Usage(
            "a public key authenticates a sums file (-c) or a manifest (--manifest), not --sha256"
                .into(),
        )
        .into());
    }
    if keyed
        && args.check
        && (args.files.is_empty() || args.files.iter().any(|f| f == Path::new("-")))
    {
        return Err(hinted(
            Error::Usage("checksums read from standard input cannot be authenticated".into()),
            "name the sums file, with its .minisig or .sig beside it",
        ));
    }
    let signatures = if args.check {
        authenticate(&keys, &args.files, printer)?
    } else {
        Vec::new()
    };
    let gnu = Gnu {
        status_only: args.status,
        warn: args.warn,
        ignore_missing: args.ignore_missing,
        strict: args.strict,
    };
    let (jobs, malformed, sums) = if let Some(sha256) = &args.sha256 {
        let [file] = args.files.as_slice() else {
            return Err(Error::Usage("--sha256 checks exactly one FILE".into()).into());
        };
        let job = Job {
            name: file.display().to_string(),
            raw_name: None,
            path: file.clone(),
            sha256: *sha256,
            size: None,
        };
        (vec![job], Vec::new(), Vec::new())
    } else if args.check {
        read_all_sums(&args)?
    } else {
        return Err(hinted(
            Error::Usage("nothing to verify".into()),
            "use `verify FILE --sha256 HEX`, `verify -c [SUMS...]` or `verify --manifest PATH`",
        ));
    };

    let total = jobs
        .iter()
        .filter_map(|j| std::fs::metadata(&j.path).ok())
        .map(|m| m.len())
        .sum();
    let listing = Mutex::new(Listing {
        printer,
        gnu,
        sums,
        next: 0,
        warned: 0,
        seen: 0,
    });
    let lock = || listing.lock().unwrap_or_else(|e| e.into_inner());
    let mut checks = with_progress(printer, total, |progress| {
        verify::check_files(&jobs, &settings(threads), &|e| match e {
            verify::Event::Hashed { bytes } => progress(*bytes),
            verify::Event::Checked(check) => lock().check(check),
            _ => {}
        })
    })?;
    let mut listing = lock();
    listing.close_through(usize::MAX);
    let sums: Vec<SumsFile> = listing.sums.drain(..).map(|s| s.doc).collect();
    drop(listing);

    let unreadable = checks.iter().filter(|c| c.read_error.is_some()).count();
    let missing_ignored = checks
        .iter()
        .filter(|c| gnu.ignore_missing && c.status == Status::Missing)
        .count();
    let mismatched = checks
        .iter()
        .filter(|c| c.read_error.is_none() && !c.status.passed())
        .count();
    let mut what = Vec::new();
    if mismatched > 0 {
        what.push(format!("{mismatched} FAILED"));
    }
    if unreadable > missing_ignored {
        what.push(format!(
            "{} FAILED open or read",
            unreadable - missing_ignored
        ));
    }
    let mut failure = (!what.is_empty()).then(|| {
        format!(
            "verification failed: {} of {} listed",
            what.join(", "),
            checks.len() - missing_ignored
        )
    });
    for s in &sums {
        if let Some(e) = &s.error {
            let line = format!("{}: {e}", s.file.display());
            failure = Some(match failure {
                Some(f) => format!("{f}; {line}"),
                None => format!("verification failed: {line}"),
            });
        }
    }
    if gnu.ignore_missing {
        checks.retain(|c| c.status != Status::Missing);
    }
    let report = Report {
        ok: failure.is_none(),
        error: None,
        manifest: None,
        signatures,
        files: checks,
        malformed,
        sums_files: sums,
    };
    finish(printer, report, failure, None)
}

/// How `-c` (and `--sha256`, as a one-line `-c`) report, as `sha256sum -c` does with the
/// same options.
#[derive(Debug, Clone, Copy)]
struct Gnu {
    /// `--status`: no `NAME: WORD` lines and no `WARNING:` summaries.
    status_only: bool,
    /// `-w`: each improperly formatted line is named on stderr.
    warn: bool,
    /// `--ignore-missing`: a missing file is neither listed nor a failure.
    ignore_missing: bool,
    /// `--strict`: an improperly formatted line fails its sums file.
    strict: bool,
}

/// One sums file of `verify -c` as read.
struct SumsRead {
    /// Its entry in the report (`error` set when it is closed).
    doc: SumsFile,
    /// Its name in diagnostics, as GNU quotes it (`'standard input'` for stdin).
    shown: String,
    /// The range of the jobs (and so of the checks) that came from it.
    jobs: std::ops::Range<usize>,
    /// The line number of each of those jobs.
    lines: Vec<usize>,
    /// The line numbers of its improperly formatted lines.
    malformed: Vec<usize>,
    /// Why it could not be read, after `NAME: ` (GNU: `No such file or directory`).
    read_error: Option<String>,
    /// What its checks came to.
    tally: Tally,
}

/// The stdout and stderr of `verify -c` as the checks come in (in the order of the jobs),
/// in `sha256sum -c`'s order: each sums file's lines (with `-w`, each malformed line's
/// warning before the next checksum line's result), then its summary.
struct Listing<'a> {
    printer: &'a Printer,
    gnu: Gnu,
    sums: Vec<SumsRead>,
    /// The first sums file not closed yet.
    next: usize,
    /// How many malformed lines of `sums[next]` were warned about.
    warned: usize,
    /// How many checks were listed.
    seen: usize,
}

impl Listing<'_> {
    /// Lists the next check, after closing the sums files that end before it.
    fn check(&mut self, check: &Check) {
        let i = self.seen;
        self.seen += 1;
        self.close_through(i);
        if let Some(s) = self.sums.get(self.next) {
            let line = s.lines[i - s.jobs.start];
            self.warn_malformed(|l| l < line);
        }
        if let Some(s) = self.sums.get_mut(self.next) {
            s.tally.count(check, self.gnu.ignore_missing);
        }
        self.print(check);
    }

    /// `NAME: OK`, `NAME: FAILED` or `NAME: FAILED open or read` on stdout (unless
    /// `--status`, `--json`, or `-q` for OK), and for a file that could not be read
    /// `voxctl: NAME: REASON (tried PATH)` on stderr; nothing for a missing file with
    /// `--ignore-missing`.
    fn print(&self, check: &Check) {
        let printer = self.printer;
        if self.gnu.ignore_missing && check.status == Status::Missing {
            return;
        }
        let word = match (&check.read_error, check.status.passed()) {
            (Some(_), _) => "FAILED open or read",
            (None, true) => "OK",
            (None, false) => "FAILED",
        };
        let name = check.raw_name.as_deref().unwrap_or(check.name.as_bytes());
        let shown =
            !(self.gnu.status_only || printer.json() || printer.quiet() && check.status.passed());
        if shown {
            let mut line = voxctl::checksum::check_output_name(name);
            line.extend_from_slice(b": ");
            line.extend_from_slice(word.as_bytes());
            printer.data_bytes(&line);
        }
        match &check.read_error {
            Some(reason) => {
                let tried = std::path::absolute(&check.path).unwrap_or_else(|_| check.path.clone());
                let tried = tried.as_os_str().as_encoded_bytes();
                let tried = if tried == name {
                    String::new()
                } else {
                    format!(" (tried {})", gnu_quote(tried))
                };
                printer.message(format!("voxctl: {}: {reason}{tried}", gnu_quote(name)));
            }
            None => {
                if let Some(detail) = &check.detail {
                    printer.warn(format!("{}: {detail}", check.name));
                }
            }
        }
    }

    /// With `-w`, warns about the malformed lines of the current sums file not warned
    /// about yet whose number passes `before`.
    fn warn_malformed(&mut self, before: impl Fn(usize) -> bool) {
        let Some(s) = self.sums.get(self.next) else {
            return;
        };
        while let Some(&line) = s.malformed.get(self.warned).filter(|&&l| before(l)) {
            self.warned += 1;
            if self.gnu.warn {
                self.printer.message(format!(
                    "voxctl: {}: {line}: improperly formatted SHA256 checksum line",
                    s.shown
                ));
            }
        }
    }

    /// Closes every sums file whose jobs end at or before job `i`: its remaining warnings,
    /// then its summary as GNU prints it (`WARNING: ...`, `NAME: no file was verified`),
    /// and its verdict in the report.
    fn close_through(&mut self, i: usize) {
        while self.sums.get(self.next).is_some_and(|s| s.jobs.end <= i) {
            self.warn_malformed(|_| true);
            let (gnu, printer) = (self.gnu, self.printer);
            let s = &mut self.sums[self.next];
            let say = |line: String| printer.message(format!("voxctl: {line}"));
            if let Some(e) = &s.read_error {
                say(format!("{}: {e}", s.shown));
                s.doc.error = Some(e.clone());
            } else {
                s.tally.lines = s.doc.checksum_lines;
                s.tally.malformed = s.doc.malformed_lines;
                if s.tally.lines == 0 {
                    say(format!(
                        "{}: no properly formatted checksum lines found",
                        s.shown
                    ));
                } else if !gnu.status_only {
                    s.tally.warnings().into_iter().for_each(say);
                    if gnu.ignore_missing && s.tally.matched == 0 {
                        say(format!("{}: no file was verified", s.shown));
                    }
                }
                s.doc.error = s
                    .tally
                    .file_error(gnu.ignore_missing, gnu.strict)
                    .map(|e| match e {
                        SumsFileError::Malformed(_) => format!("{e} (--strict)"),
                        e => e.to_string(),
                    });
            }
            self.next += 1;
            self.warned = 0;
        }
    }
}

/// Reads every sums file of `verify -c` (stdin if none), in order, with one GNU line reader
/// for the whole run. A sums file that cannot be read fails on its own, when its turn
/// comes, and does not stop the others.
fn read_all_sums(args: &VerifyArgs) -> Result<(Vec<Job>, Vec<Malformed>, Vec<SumsRead>)> {
    let stdin = [PathBuf::from("-")];
    let files = if args.files.is_empty() {
        &stdin[..]
    } else {
        &args.files[..]
    };
    let mut reader = CheckReader::new();
    let (mut jobs, mut malformed, mut sums_files) = (Vec::new(), Vec::new(), Vec::new());
    for file in files {
        let is_stdin = file == Path::new("-");
        let base = args.relative_to_sums.then(|| {
            if is_stdin {
                Path::new(".")
            } else {
                voxctl::atomic::parent_dir(file)
            }
        });
        let start = jobs.len();
        let mut read = SumsRead {
            doc: SumsFile {
                file: file.clone(),
                checksum_lines: 0,
                malformed_lines: 0,
                error: None,
            },
            shown: if is_stdin {
                gnu_quote(b"standard input")
            } else {
                gnu_quote(file.as_os_str().as_encoded_bytes())
            },
            jobs: start..start,
            lines: Vec::new(),
            malformed: Vec::new(),
            read_error: None,
            tally: Tally::default(),
        };
        match verify::read_sums(file, base, &mut reader) {
            Ok(sums) => {
                read.doc.checksum_lines = sums.jobs.len();
                read.doc.malformed_lines = sums.malformed.len();
                read.lines = sums.lines;
                read.malformed = sums.malformed.iter().map(|m| m.line).collect();
                jobs.extend(sums.jobs);
                malformed.extend(sums.malformed);
            }
            Err(e) if matches!(Error::find(&e), Some(Error::Interrupted)) => return Err(e),
            Err(e) => read.read_error = Some(sums_read_error(&e)),
        }
        read.jobs = start..jobs.len();
        sums_files.push(read);
    }
    Ok((jobs, malformed, sums_files))
}

/// Why a sums file could not be read, after its name: GNU's words (`No such file or
/// directory`; `read error` for a directory, which voxctl explains in parentheses), else
/// voxctl's (over the size cap).
fn sums_read_error(e: &anyhow::Error) -> String {
    match e.chain().find_map(|c| c.downcast_ref::<std::io::Error>()) {
        Some(io) if io.kind() == std::io::ErrorKind::IsADirectory => {
            format!("read error ({})", verify::os_reason(io))
        }
        Some(io) => verify::os_reason(io),
        None => format!("{e:#}"),
    }
}

/// The file that pins the split release whose manifest is `path`: a JSON manifest itself;
/// for a text manifest `S.manifest`, its `S.sha256` beside it.
fn signed_by_manifest(path: &Path) -> Result<std::path::PathBuf> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    match name.strip_suffix(".manifest") {
        Some(stem) if !stem.is_empty() => {
            Ok(voxctl::atomic::parent_dir(path).join(format!("{stem}.sha256")))
        }
        _ => Ok(path.to_path_buf()),
    }
}

/// With keys trusted, checks the signature beside each of `files` (exit 3 on the first that
/// is missing or bad); says who signed each with -v. Without keys, nothing.
fn authenticate(
    keys: &Keyring,
    files: &[std::path::PathBuf],
    printer: &Printer,
) -> Result<Vec<Authenticated>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    files
        .iter()
        .map(|f| {
            let auth = verify_beside(keys, f)?;
            printer.message(format!(
                "{}: signature OK, key {} (trusted comment: {})",
                auth.file,
                auth.key_id,
                crate::output::untrusted(&auth.trusted_comment)
            ));
            Ok(auth)
        })
        .collect()
}

fn run_manifest(
    path: &Path,
    threads: usize,
    printer: &Printer,
    signatures: &[Authenticated],
) -> Result<ExitStatus> {
    // The bar's total is unknown until the manifest is read; count bytes as they come.
    let report = with_progress(printer, 0, |progress| {
        verify::verify_manifest(path, &settings(threads), &|e| {
            if let verify::Event::Hashed { bytes } = e {
                progress(*bytes)
            }
        })
    })?;
    if !printer.json() {
        for check in &report.checks {
            print_check(printer, check);
        }
    }
    let failure = counted_failure(&report.checks);
    let doc = Report {
        ok: failure.is_none(),
        error: None,
        files: report.checks.clone(),
        manifest: Some(report),
        signatures: signatures.to_vec(),
        malformed: Vec::new(),
        sums_files: Vec::new(),
    };
    finish(printer, doc, failure, None)
}

/// `verify --installed [VARIANT]`: every file of the installed variants re-hashed against
/// their install records.
fn run_installed(
    args: &VerifyArgs,
    which: &str,
    threads: usize,
    printer: &Printer,
) -> Result<ExitStatus> {
    let backends = voxctl::installs::BackendsDir::new(&super::data_dir(&args.app)?);
    let records = match which {
        "all" => {
            let all = backends.records()?;
            if all.is_empty() {
                return Err(hinted(
                    Error::Integrity(format!(
                        "nothing is installed in {}",
                        backends.root().display()
                    )),
                    "install a variant with `voxctl fetch`",
                ));
            }
            all
        }
        v => {
            let variant: voxctl::variant::Variant = v.parse().map_err(Error::Usage)?;
            let asset = variant.asset(&args.app.app);
            match backends.read_record(&asset)? {
                Some(r) => vec![r],
                None => {
                    return Err(hinted(
                        Error::Integrity(format!(
                            "{asset} is not installed: there is no install record {}",
                            backends.record_path(&asset).display()
                        )),
                        format!("install it with `voxctl fetch --variant {variant}`"),
                    ))
                }
            }
        }
    };
    let total = records
        .iter()
        .map(|r| {
            r.files
                .as_ref()
                .map_or(r.size, |f| f.iter().map(|f| f.size).sum())
        })
        .sum();
    let mut checks = Vec::new();
    with_progress(printer, total, |progress| {
        for record in &records {
            let found = voxctl::installs::audit::check(
                record,
                voxctl::installs::audit::Depth::Deep,
                threads,
                &|e| {
                    if let verify::Event::Hashed { bytes } = e {
                        progress(*bytes)
                    }
                },
                &crate::signals::cancel(),
            )?;
            if !printer.json() {
                for c in &found {
                    print_check(printer, c);
                }
            }
            checks.extend(found);
        }
        Ok(())
    })?;
    let hint = (!voxctl::installs::audit::all_passed(&checks)).then(|| {
        let variants: Vec<String> = records.iter().filter_map(|r| r.variant.clone()).collect();
        match variants.as_slice() {
            [one] => format!("repair it with `voxctl fetch --repair --variant {one}`"),
            _ => "repair with `voxctl fetch --repair --variant VARIANT`".to_string(),
        }
    });
    let failure = counted_failure(&checks);
    let doc = Report {
        ok: failure.is_none(),
        error: None,
        manifest: None,
        signatures: Vec::new(),
        files: checks,
        malformed: Vec::new(),
        sums_files: Vec::new(),
    };
    finish(printer, doc, failure, hint)
}

/// The library's settings: `threads` files at a time, cancelled by SIGINT/SIGTERM.
fn settings(threads: usize) -> verify::Settings {
    let mut settings = verify::Settings::default();
    settings.threads = threads;
    settings.cancel = crate::signals::cancel();
    settings
}

/// Runs `f` with a progress callback feeding a bar on a terminal, or a status line every few
/// seconds in logs.
fn with_progress<T>(
    printer: &Printer,
    total: u64,
    f: impl FnOnce(&(dyn Fn(u64) + Sync)) -> Result<T>,
) -> Result<T> {
    // Made at the first progress report, once a file is open: nothing is drawn for inputs
    // that cannot be read.
    let bar = OnceLock::new();
    let state = Mutex::new((printer.ticker(Duration::from_secs(5)), 0u64));
    let progress = |n: u64| {
        bar.get_or_init(|| printer.bytes_bar(total, "verify"))
            .inc(n);
        if let Ok(mut s) = state.lock() {
            s.1 += n;
            let done = s.1;
            s.0.tick(|| format!("verify: {} hashed", human_bytes(done)));
        }
    };
    let outcome = f(&progress);
    if let Some(bar) = bar.get() {
        bar.finish_and_clear();
    }
    outcome
}

/// One `NAME: WORD` line on stdout for `--manifest` and `--installed` (passes are left out
/// with -q; a name with a newline is escaped as `sha256sum -c` escapes it); a `MISSING` line
/// names the absolute path tried when the name is not that path. The reason for a failure
/// other than a plain mismatch goes to stderr.
fn print_check(printer: &Printer, check: &Check) {
    if !(printer.quiet() && check.status.passed()) {
        let name = check.raw_name.as_deref().unwrap_or(check.name.as_bytes());
        let mut line = voxctl::checksum::check_output_name(name);
        line.extend_from_slice(b": ");
        line.extend_from_slice(check.status.word().as_bytes());
        if check.status == Status::Missing {
            // The absolute path tried, unless the name already is that path.
            let tried = std::path::absolute(&check.path).unwrap_or_else(|_| check.path.clone());
            if tried.as_os_str().as_encoded_bytes() != name {
                line.extend_from_slice(b" (tried ");
                line.extend(voxctl::checksum::escape_newlines(
                    tried.as_os_str().as_encoded_bytes(),
                ));
                line.extend_from_slice(b")");
            }
        }
        printer.data_bytes(&line);
    }
    if let Some(detail) = &check.detail {
        printer.warn(format!("{}: {detail}", check.name));
    }
}

/// What failed among the checks of `--manifest` and `--installed`
/// (`verification failed: 1 FAILED, 1 MISSING of 4 checked`), or `None` if nothing did.
fn counted_failure(checks: &[Check]) -> Option<String> {
    let count = |s: Status| checks.iter().filter(|c| c.status == s).count();
    let what: Vec<String> = [
        (count(Status::Failed), "FAILED"),
        (count(Status::Missing), "MISSING"),
        (count(Status::Skipped), "SKIPPED"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, word)| format!("{n} {word}"))
    .collect();
    (!what.is_empty()).then(|| {
        format!(
            "verification failed: {} of {} checked",
            what.join(", "),
            checks.len()
        )
    })
}

/// Ends a verification: `failure` (with `hint`) becomes an integrity error (exit 3); with
/// `--json` the report is printed first, carrying that error's `{code, kind, message, hint}`
/// as every `--json` failure does (the error is then not printed as a second document).
fn finish(
    printer: &Printer,
    mut report: Report,
    failure: Option<String>,
    hint: Option<String>,
) -> Result<ExitStatus> {
    let err = failure.map(|message| {
        let err = anyhow::Error::from(Error::Integrity(message));
        match hint {
            Some(hint) => hinted(err, hint),
            None => err,
        }
    });
    report.ok = err.is_none();
    if printer.json() {
        report.error = err.as_ref().map(|e| printer.error_body(e));
        printer.json_doc(&report)?;
    }
    match err {
        None => Ok(ExitStatus::Success),
        Some(err) => Err(err),
    }
}
