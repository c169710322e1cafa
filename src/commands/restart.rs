//! `voxctl restart`: turn the arguments into [`voxctl::backend::restart::Settings`], run the
//! restart, and print its progress (stderr) and outcome (stdout).

use std::time::Duration;
use voxctl::exit::ExitStatus;

use anyhow::Result;
use voxctl::backend::health::HealthUrl;
use voxctl::backend::record::BackendRecord;
use voxctl::backend::restart::{self, Event, Report, Settings};
use voxctl::backend::select::{NoUsableBinary, NoUsableBinaryDoc};
use voxctl::state::StateDir;

use crate::cli::{GlobalArgs, RestartArgs, VariantChoice};
use crate::output::Printer;

pub fn run(global: &GlobalArgs, args: RestartArgs, printer: &Printer) -> Result<ExitStatus> {
    let state = super::state_dir(global)?;
    let settings = settings(args, printer)?;
    let report = match restart::restart(&state, &settings, &|e| event(printer, &settings, e)) {
        Ok(r) => r,
        Err(e) => {
            if printer.json() {
                rejected_doc(printer, &state, &e)?;
            }
            return Err(e);
        }
    };
    if printer.json() {
        printer.json_doc(&report)?;
    } else {
        print_report(printer, &settings, &report);
    }
    Ok(ExitStatus::Success)
}

/// With `--json`, when no binary was usable: the error document, plus what was asked for,
/// every variant rejected and why, and the backend that keeps running (untouched).
fn rejected_doc(printer: &Printer, state: &StateDir, err: &anyhow::Error) -> Result<()> {
    let Some(no) = err.chain().find_map(|e| {
        e.downcast_ref::<NoUsableBinary>().or_else(|| {
            e.downcast_ref::<voxctl::error::WithRemedy>()
                .and_then(|w| w.inner.downcast_ref::<NoUsableBinary>())
        })
    }) else {
        return Ok(());
    };
    let running = BackendRecord::read(&state.backend_record())
        .ok()
        .flatten()
        .filter(BackendRecord::is_alive);
    let doc = NoUsableBinaryDoc {
        error: printer.error_body(err),
        rejected: no.rejected.clone(),
        requested: no.requested,
        running,
    };
    // Through a `serde_json::Value`, whose keys are sorted: the document's key order does not
    // depend on the field order in Rust.
    printer.json_doc(&serde_json::to_value(doc)?)
}

fn settings(args: RestartArgs, printer: &Printer) -> Result<Settings> {
    let health_url = args
        .health_url
        .as_deref()
        .map(HealthUrl::parse)
        .transpose()?;
    let variant = super::resolve_variant(args.variant, super::AUTO_DETECT_TIMEOUT, printer)?;
    // Only auto may pick something other than what it named; an explicit variant falls back
    // only when asked to (docs/contract.md "Conventions").
    let fallback = match args.variant {
        VariantChoice::Auto => args.fallback.or(variant.fallback()),
        _ => args.fallback,
    };
    let mut settings = Settings::new(&args.app.app, variant, &super::data_dir(&args.app)?);
    settings.fallback = fallback;
    settings.port = args.port;
    settings.health_url = health_url;
    settings.stop_timeout = args.stop_timeout;
    settings.ready_timeout = args.ready_timeout;
    settings.expect_version = args.expect_version;
    // Nothing after `--` keeps the running backend's arguments (--reset-config drops them).
    settings.args = (!args.backend_args.is_empty()).then_some(args.backend_args);
    settings.reset_config = args.reset_config;
    settings.wait = args.wait.wait();
    settings.cancel = crate::signals::cancel();
    Ok(settings)
}

fn event(printer: &Printer, s: &Settings, e: &Event) {
    match e {
        Event::Rejected(r) => printer.warn(format!(
            "the {} backend is not usable: {}{}",
            r.variant,
            r.reason,
            s.fallback
                .filter(|f| *f != r.variant)
                .map(|f| format!("; falling back to {f}"))
                .unwrap_or_default()
        )),
        Event::StaleRecord(r) => printer.warn(format!(
            "backend.json names pid {} ({}), which is not running any more; not signalling it",
            r.pid, r.variant
        )),
        Event::Stopping(r) => printer.message(format!(
            "stopping the {} backend (pid {})",
            r.variant, r.pid
        )),
        Event::Killed { pid, after_ms } => printer.warn(format!(
            "pid {pid} ignored SIGTERM for {}; sent SIGKILL",
            humantime::format_duration(Duration::from_millis(*after_ms))
        )),
        Event::LeaderOnly { pid, member } => printer.warn(format!(
            "backend pid {pid}'s process group holds pid {member} (voxctl or one of its \
             ancestors): signalling pid {pid} alone, not its group"
        )),
        Event::WaitingForPort { port } => {
            printer.message(format!("waiting for port {port} to be released"))
        }
        Event::Started(r) => printer.message(format!(
            "started the {} backend (pid {}), waiting for {}",
            r.variant,
            r.pid,
            r.health_url.as_deref().unwrap_or("health")
        )),
        Event::Failed { reason, log_tail } => {
            printer.warn(reason);
            for line in log_tail {
                printer.message(format!("  | {line}"));
            }
        }
        Event::RollingBack {
            backend: r,
            ready_timeout_ms,
        } => printer.warn(format!(
            "rolling back: starting the previous {} backend ({}) on port {}, allowing it {} \
             to become healthy",
            r.variant,
            r.binary.display(),
            r.port,
            humantime::format_duration(Duration::from_millis(*ready_timeout_ms))
        )),
        // A step a later library adds: its JSON line says what it is.
        other => printer.message(format!(
            "restart: {}",
            serde_json::to_string(other).unwrap_or_default()
        )),
    }
}

fn print_report(printer: &Printer, s: &Settings, r: &Report) {
    let b = &r.backend;
    printer.data(format!(
        "{} backend: {} {}, pid {}, port {}, healthy",
        s.app,
        b.variant,
        crate::output::untrusted(b.version.as_deref().unwrap_or("?")),
        b.pid,
        b.port
    ));
    printer.data(format!("  binary    {}", b.binary.display()));
    if !b.args.is_empty() {
        printer.data(format!("  args      {}", shell_words::join(&b.args)));
    }
    printer.data(format!("  log       {}", b.log.display()));
    if let Some(p) = &r.previous {
        printer.data(format!(
            "  replaced  {} pid {} ({})",
            p.backend.variant, p.backend.pid, p.stopped
        ));
    }
    let t = &r.timings;
    printer.data(format!(
        "  downtime  {} ms (stop {} ms, port {} ms, start to healthy {} ms)",
        t.downtime_ms, t.stop_ms, t.port_ms, t.ready_ms
    ));
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::{Cli, Command};

    #[test]
    fn the_ready_timeout_default_is_the_library_s() {
        let cli = Cli::try_parse_from(["voxctl", "restart"]).unwrap();
        let Command::Restart(args) = cli.command else {
            panic!("not restart");
        };
        assert_eq!(
            args.ready_timeout,
            voxctl::backend::restart::DEFAULT_READY_TIMEOUT
        );
        assert_eq!((args.port, args.backend_args.len()), (None, 0));
    }
}
