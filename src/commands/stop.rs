//! `voxctl stop` and `voxctl remove VARIANT`: glue over [`voxctl::backend::stop`].

use anyhow::Result;
use voxctl::backend::stop::{self, StopOutcome};
use voxctl::exit::ExitStatus;
use voxctl::installs::BackendsDir;
use voxctl::slot::WaitEvent;

use crate::cli::{GlobalArgs, RemoveArgs, StopArgs};
use crate::output::Printer;

pub fn stop(global: &GlobalArgs, args: StopArgs, printer: &Printer) -> Result<ExitStatus> {
    voxctl::name::validate_resource_name("app", &args.app)?;
    let state = super::state_dir(global)?;
    let mut settings = stop::Settings::new(&args.app);
    settings.grace = args.stop_timeout;
    settings.wait = args.wait.wait();
    settings.cancel = crate::signals::cancel();
    let outcome = stop::stop(&state, &settings)?;
    if printer.json() {
        printer.json_doc(&outcome)?;
    } else {
        describe(printer, &outcome);
    }
    Ok(ExitStatus::Success)
}

fn describe(printer: &Printer, outcome: &StopOutcome) {
    match outcome {
        StopOutcome::NotRunning => printer.message("no backend is recorded as running"),
        StopOutcome::StaleRecord { backend } => printer.message(format!(
            "the recorded {} backend (pid {}) was not running any more; record removed",
            backend.variant, backend.pid
        )),
        StopOutcome::Stopped {
            backend,
            stopped,
            stop_ms,
            port_ms,
            ..
        } => printer.message(format!(
            "stopped the {} backend (pid {}, {}) in {stop_ms} ms; port {} released {port_ms} ms later",
            backend.variant,
            backend.pid,
            stopped,
            backend.port
        )),
        // An outcome this build does not know: its JSON form says what it is.
        other => printer.message(serde_json::to_string(other).unwrap_or_default()),
    }
}

pub fn remove(global: &GlobalArgs, args: RemoveArgs, printer: &Printer) -> Result<ExitStatus> {
    let data_dir = super::data_dir(&args.app)?;
    let state = super::state_dir(global)?;
    let backends = BackendsDir::new(&data_dir);
    let mut settings = stop::RemoveSettings::new(&args.app.app, args.variant);
    settings.force = args.force;
    settings.partial_only = args.partial_only;
    settings.stop.grace = args.stop_timeout;
    settings.stop.cancel = crate::signals::cancel();
    settings.wait = args.wait.wait();
    let on_wait = |ev: &WaitEvent| {
        if let WaitEvent::Holder(h) = ev {
            printer.message(format!(
                "waiting for the fetch of {} to end: {}",
                args.variant,
                h.describe()
            ));
        }
    };
    let removed = stop::remove(&state, &backends, &settings, &on_wait)?;
    if printer.json() {
        printer.json_doc(&removed)?;
        return Ok(ExitStatus::Success);
    }
    if let Some(s) = &removed.stopped {
        describe(printer, s);
    }
    if removed.removed.is_empty() {
        printer.message(format!(
            "{} is not installed and has no partial download; nothing removed",
            removed.asset
        ));
    }
    for p in &removed.removed {
        printer.message(format!("removed {}", p.display()));
    }
    Ok(ExitStatus::Success)
}
