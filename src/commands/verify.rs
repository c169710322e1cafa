//! `voxctl verify`: one file against `--sha256`, sums files with `-c`, or a split release
//! with `--manifest`. Prints `NAME: OK|FAILED|MISSING` lines as `sha256sum -c` does (or one
//! JSON document with `--json`) and exits 3 when anything fails.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use voxctl::exit::ExitStatus;

use anyhow::Result;
use serde::Serialize;
use voxctl::checksum::CheckReader;
use voxctl::error::hinted;
use voxctl::signature::{verify_beside, Authenticated, Keyring};
use voxctl::verify::{self, Check, Job, Malformed, Status};
use voxctl::Error;

use crate::cli::VerifyArgs;
use crate::output::{human_bytes, Printer};

#[derive(Serialize)]
struct Report<'a> {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    manifest: Option<&'a verify::ManifestReport>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    signatures: &'a [Authenticated],
    files: &'a [Check],
    malformed: &'a [Malformed],
    /// With -c: each sums file, and why it failed as a whole, if it did.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    sums_files: &'a [SumsFile],
}

/// One sums file of `verify -c`, and its own verdict (as `sha256sum -c` gives one per file).
#[derive(Serialize)]
struct SumsFile {
    file: PathBuf,
    checksum_lines: usize,
    malformed_lines: usize,
    /// Why the file fails as a whole: unreadable, no checksum lines, nothing verified with
    /// --ignore-missing, malformed lines with --strict.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip)]
    jobs: std::ops::Range<usize>,
}

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
    let (jobs, malformed, mut sums_files) = if let Some(sha256) = &args.sha256 {
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
        read_all_sums(&args, printer)?
    } else {
        return Err(hinted(
            Error::Usage("nothing to verify".into()),
            "use `verify FILE --sha256 HEX`, `verify -c [SUMS...]` or `verify --manifest PATH`",
        ));
    };
    for m in &malformed {
        printer.warn(format!("{}:{}: {}", m.file.display(), m.line, m.error));
    }

    let total = jobs
        .iter()
        .filter_map(|j| std::fs::metadata(&j.path).ok())
        .map(|m| m.len())
        .sum();
    let mut checks = with_progress(printer, total, |progress| {
        verify::check_files(&jobs, &settings(threads), &|e| match e {
            verify::Event::Hashed { bytes } => progress(*bytes),
            verify::Event::Checked(check) => {
                if !(args.ignore_missing && check.status == Status::Missing || printer.json()) {
                    print_check(printer, check);
                }
            }
        })
    })?;
    // Each sums file's own verdict, as sha256sum -c gives it.
    for sums in &mut sums_files {
        if sums.error.is_some() {
            continue;
        }
        let own = &checks[sums.jobs.clone()];
        if args.ignore_missing && !own.iter().any(|c| c.status == Status::Ok) {
            sums.error = Some("no file was verified".into());
        } else if args.strict && sums.malformed_lines > 0 {
            sums.error = Some(format!(
                "{} improperly formatted line(s) (--strict)",
                sums.malformed_lines
            ));
        }
        if let Some(e) = &sums.error {
            printer.warn(format!("{}: {e}", sums.file.display()));
        }
    }
    if args.ignore_missing {
        checks.retain(|c| c.status != Status::Missing);
    }
    finish(printer, None, &signatures, &checks, &malformed, &sums_files)
}

/// Reads every sums file of `verify -c` (stdin if none), in order, with one GNU line reader
/// for the whole run. A sums file that cannot be read or has no checksum line fails on its
/// own (a warning now, exit 3 at the end) and does not stop the others.
fn read_all_sums(
    args: &VerifyArgs,
    printer: &Printer,
) -> Result<(Vec<Job>, Vec<Malformed>, Vec<SumsFile>)> {
    let stdin = [PathBuf::from("-")];
    let files = if args.files.is_empty() {
        &stdin[..]
    } else {
        &args.files[..]
    };
    let mut reader = CheckReader::new();
    let (mut jobs, mut malformed, mut sums_files) = (Vec::new(), Vec::new(), Vec::new());
    for file in files {
        let base = args.relative_to_sums.then(|| {
            if file == Path::new("-") {
                Path::new(".")
            } else {
                voxctl::atomic::parent_dir(file)
            }
        });
        let start = jobs.len();
        let (lines, bad, error) = match verify::read_sums(file, base, &mut reader) {
            Ok(sums) => {
                let (lines, bad) = (sums.jobs.len(), sums.malformed.len());
                jobs.extend(sums.jobs);
                malformed.extend(sums.malformed);
                let none = (lines == 0)
                    .then(|| "no properly formatted SHA-256 checksum lines found".to_string());
                (lines, bad, none)
            }
            Err(e) if matches!(Error::find(&e), Some(Error::Interrupted)) => return Err(e),
            Err(e) => (0, 0, Some(format!("{e:#}"))),
        };
        if let Some(e) = &error {
            printer.warn(format!("{}: {e}", file.display()));
        }
        sums_files.push(SumsFile {
            file: file.clone(),
            checksum_lines: lines,
            malformed_lines: bad,
            error,
            jobs: start..jobs.len(),
        });
    }
    Ok((jobs, malformed, sums_files))
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
                auth.file, auth.key_id, auth.trusted_comment
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
    finish(printer, Some(&report), signatures, &report.checks, &[], &[])
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
                progress,
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
    let failed = !voxctl::installs::audit::all_passed(&checks);
    let outcome = finish(printer, None, &[], &checks, &[], &[]);
    if failed {
        let variants: Vec<String> = records.iter().filter_map(|r| r.variant.clone()).collect();
        let hint = match variants.as_slice() {
            [one] => format!("repair it with `voxctl fetch --repair --variant {one}`"),
            _ => "repair with `voxctl fetch --repair --variant VARIANT`".to_string(),
        };
        return outcome.map_err(|e| hinted(e, hint));
    }
    outcome
}

/// The library's settings: `threads` files at a time, cancelled by SIGINT/SIGTERM.
fn settings(threads: usize) -> verify::Settings {
    verify::Settings {
        threads,
        cancel: crate::signals::cancel(),
    }
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

/// One `NAME: WORD` line on stdout, as `sha256sum -c` prints it (passes are left out with
/// -q; a name with a newline is escaped); a `MISSING` line names the absolute path tried
/// when the name is not that path. The reason
/// for a failure other than a plain mismatch goes to stderr.
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

/// Prints the JSON document if asked, and turns failures into an integrity error (exit 3).
fn finish(
    printer: &Printer,
    manifest: Option<&verify::ManifestReport>,
    signatures: &[Authenticated],
    checks: &[Check],
    malformed: &[Malformed],
    sums_files: &[SumsFile],
) -> Result<ExitStatus> {
    let count = |s: Status| checks.iter().filter(|c| c.status == s).count();
    let (failed, missing, skipped) = (
        count(Status::Failed),
        count(Status::Missing),
        count(Status::Skipped),
    );
    let bad_sums = sums_files.iter().filter(|s| s.error.is_some()).count();
    let ok = failed + missing + skipped + bad_sums == 0;
    if printer.json() {
        printer.json_doc(&Report {
            ok,
            manifest,
            signatures,
            files: checks,
            malformed,
            sums_files,
        })?;
    }
    if ok {
        return Ok(ExitStatus::Success);
    }
    let mut what = Vec::new();
    for (n, word) in [
        (failed, "FAILED"),
        (missing, "MISSING"),
        (skipped, "SKIPPED"),
    ] {
        if n > 0 {
            what.push(format!("{n} {word}"));
        }
    }
    if bad_sums > 0 {
        what.push(format!(
            "{bad_sums} checksum file(s) failed (see the warnings above)"
        ));
    }
    Err(Error::Integrity(format!(
        "verification failed: {} of {} checked",
        what.join(", "),
        checks.len()
    ))
    .into())
}
