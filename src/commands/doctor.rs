//! `voxctl doctor`: runs [`voxctl::doctor::diagnose`] and prints its findings as a table (or
//! one JSON document); exit 0 when no check fails, 1 otherwise.

use anyhow::Result;
use serde::Serialize;
use voxctl::doctor::{diagnose, Finding, Inputs, Level, Report};
use voxctl::exit::ExitStatus;
use voxctl::gpu::Hardware;
use voxctl::installs::audit::Depth;

use crate::cli::{DoctorArgs, GlobalArgs};
use crate::output::Printer;

pub fn run(global: &GlobalArgs, args: DoctorArgs, printer: &Printer) -> Result<ExitStatus> {
    let state_dir = match super::state_dir_path(global) {
        Some(d) => d,
        None => voxctl::state::StateDir::default_path()?,
    };
    let mut inputs = Inputs::new(&args.app.app, &super::data_dir(&args.app)?, &state_dir);
    inputs.probes = super::gpu_probes(args.detect_timeout);
    inputs.depth = if args.deep { Depth::Deep } else { Depth::Quick };
    inputs.cancel = crate::signals::cancel();
    let report = diagnose(&inputs)?;
    if printer.json() {
        printer.json_doc(&Doc::of(&report))?;
    } else {
        let w = |f: fn(&voxctl::doctor::Finding) -> usize, min: usize| {
            report.findings.iter().map(f).max().unwrap_or(0).max(min)
        };
        let (cw, sw) = (w(|f| f.check.len(), 5), w(|f| f.subject.len(), 7).min(48));
        printer.data(format!(
            "{:<cw$}  {:<sw$}  {:<6}  DETAIL",
            "CHECK", "SUBJECT", "STATUS"
        ));
        for f in &report.findings {
            printer.data(format!(
                "{:<cw$}  {:<sw$}  {:<6}  {}",
                f.check,
                f.subject,
                f.level.word(),
                f.detail
            ));
            if let Some(fix) = fix(f).filter(|_| f.level != Level::Pass) {
                printer.data(format!("{:<cw$}  {:<sw$}  {:<6}  fix: {fix}", "", "", ""));
            }
        }
        let failed = report
            .findings
            .iter()
            .filter(|f| f.level == Level::Fail)
            .count();
        if failed == 0 {
            printer.message("doctor: every check passed");
        } else {
            printer.message(format!(
                "doctor: {failed} check(s) failed; each FAIL line says what fixes it"
            ));
        }
    }
    Ok(if report.ok {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

/// The fix of `f` as the command to run (or, where there is none, what to do).
fn fix(f: &Finding) -> Option<String> {
    f.fix.as_ref().and_then(crate::hint::fix)
}

/// `doctor --json`'s document: the library's [`Report`] with each fix worded as [`fix`]
/// words it, so that a script reads `"fix": "voxctl fetch --variant cpu"`.
#[derive(Serialize)]
struct Doc<'a> {
    ok: bool,
    hardware: &'a Hardware,
    findings: Vec<DocFinding<'a>>,
}

#[derive(Serialize)]
struct DocFinding<'a> {
    check: &'a str,
    subject: &'a str,
    level: Level,
    detail: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
}

impl Doc<'_> {
    fn of(report: &Report) -> Doc<'_> {
        Doc {
            ok: report.ok,
            hardware: &report.hardware,
            findings: report
                .findings
                .iter()
                .map(|f| DocFinding {
                    check: &f.check,
                    subject: &f.subject,
                    level: f.level,
                    detail: &f.detail,
                    fix: fix(f),
                })
                .collect(),
        }
    }
}
