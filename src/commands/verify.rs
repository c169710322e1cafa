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
use voxctl::verify::{self, Check, Job, Malformed, Status};
use voxctl::Error;

use crate::cli::VerifyArgs;
use crate::output::{human_bytes, Printer};

#[derive(Serialize)]
struct Report<'a> {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    manifest: Option<&'a verify::ManifestReport>,
    files: &'a [Check],
    malformed: &'a [Malformed],
}

pub fn run(args: VerifyArgs, printer: &Printer) -> Result<u8> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
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
        return run_manifest(manifest, threads, printer);
    }
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
    finish(printer, None, &checks, &malformed, strict_failure)
}

fn run_manifest(path: &Path, threads: usize, printer: &Printer) -> Result<u8> {
    // The bar's total is unknown until the manifest is read; count bytes as they come.
    let report = with_progress(printer, 0, |progress| {
        verify::verify_manifest(path, threads, progress)
    })?;
    if !printer.json() {
        for check in &report.checks {
            print_check(printer, check);
        }
    }
    finish(printer, Some(&report), &report.checks, &[], false)
}

/// `verify --installed [VARIANT]`: every file of the installed variants re-hashed against
/// their install records.
fn run_installed(args: &VerifyArgs, which: &str, threads: usize, printer: &Printer) -> Result<u8> {
    let backends = voxctl::backends::BackendsDir::new(&super::data_dir(&args.app)?);
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
            let found = voxctl::installed::check(
                record,
                voxctl::installed::Depth::Deep,
                threads,
                progress,
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
    let failed = !voxctl::installed::all_passed(&checks);
    let outcome = finish(printer, None, &checks, &[], false);
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
