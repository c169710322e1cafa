//! `voxctl verify`: one file against `--sha256`, sums files with `-c`, or a split release
//! with `--manifest`. Prints `NAME: OK|FAILED|MISSING` lines as `sha256sum -c` does (or one
//! JSON document with `--json`) and exits 3 when anything fails.

use std::path::Path;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;
use voxctl::checksum::Sha256;
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
}

pub fn run(args: VerifyArgs, printer: &Printer) -> Result<u8> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let keyed = super::sign::any_key_option(&args.keys);
    let keys = super::sign::keyring(&args.keys)?;
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
    let (jobs, malformed) = if let Some(hex) = &args.sha256 {
        let [file] = args.files.as_slice() else {
            return Err(Error::Usage("--sha256 checks exactly one FILE".into()).into());
        };
        let sha256 = Sha256::parse(hex).map_err(|e| hinted(e, "give the 64 hex digits"))?;
        let job = Job {
            name: file.display().to_string(),
            path: file.clone(),
            sha256,
            size: None,
        };
        (vec![job], Vec::new())
    } else if args.check {
        if args.files.is_empty() {
            return Err(Error::Usage("-c needs at least one checksum FILE".into()).into());
        }
        let mut jobs = Vec::new();
        let mut malformed = Vec::new();
        for file in &args.files {
            let sums = verify::read_sums(file)?;
            if sums.jobs.is_empty() {
                return Err(Error::Integrity(format!(
                    "no properly formatted SHA-256 checksum lines in {}",
                    file.display()
                ))
                .into());
            }
            jobs.extend(sums.jobs);
            malformed.extend(sums.malformed);
        }
        (jobs, malformed)
    } else {
        return Err(hinted(
            Error::Usage("nothing to verify".into()),
            "use `verify FILE --sha256 HEX`, `verify -c SUMS...` or `verify --manifest PATH`",
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
    let mut checks = Vec::new();
    with_progress(printer, total, |progress| {
        verify::check_files(&jobs, threads, progress, &mut |check| {
            if args.ignore_missing && check.status == Status::Missing {
                return;
            }
            if !printer.json() {
                print_check(printer, &check);
            }
            checks.push(check);
        })
    })?;
    if args.ignore_missing && checks.is_empty() {
        return Err(Error::Integrity("no file was verified: all are missing".into()).into());
    }
    let strict_failure = args.strict && !malformed.is_empty();
    finish(
        printer,
        None,
        &signatures,
        &checks,
        &malformed,
        strict_failure,
    )
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
) -> Result<u8> {
    // The bar's total is unknown until the manifest is read; count bytes as they come.
    let report = with_progress(printer, 0, |progress| {
        verify::verify_manifest(path, threads, progress)
    })?;
    if !printer.json() {
        for check in &report.checks {
            print_check(printer, check);
        }
    }
    finish(
        printer,
        Some(&report),
        signatures,
        &report.checks,
        &[],
        false,
    )
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

/// One `NAME: WORD` line on stdout (passes are left out with -q), and the reason for a
/// failure other than a plain mismatch on stderr.
fn print_check(printer: &Printer, check: &Check) {
    if !(printer.quiet() && check.status.passed()) {
        printer.data(format!("{}: {}", check.name, check.status.word()));
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
    strict_failure: bool,
) -> Result<u8> {
    let count = |s: Status| checks.iter().filter(|c| c.status == s).count();
    let (failed, missing, skipped) = (
        count(Status::Failed),
        count(Status::Missing),
        count(Status::Skipped),
    );
    let ok = failed + missing + skipped == 0 && !strict_failure;
    if printer.json() {
        printer.json_doc(&Report {
            ok,
            manifest,
            signatures,
            files: checks,
            malformed,
        })?;
    }
    if ok {
        return Ok(crate::exit::SUCCESS);
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
    if strict_failure {
        what.push(format!("{} malformed line(s) (--strict)", malformed.len()));
    }
    Err(Error::Integrity(format!(
        "verification failed: {} of {} checked",
        what.join(", "),
        checks.len()
    ))
    .into())
}
