//! `voxctl status`: what voxctl knows right now. Each section is one function returning
//! serializable rows, printed as a table or, with `--json`, one document.

use std::time::Duration;

use anyhow::Result;
use serde::Serialize;
use voxctl::backend::observe::{self, Observed};
use voxctl::backends::{BackendsDir, InstallRecord};
use voxctl::lease::{file::FileStore, LeaseInfo, LeaseStore};
use voxctl::slot::{HeldSlot, SlotTable};

use crate::cli::{GlobalArgs, StatusArgs};
use crate::output::{human_bytes, human_duration, Printer};

#[derive(Debug, Serialize)]
struct Status {
    slots: Vec<HeldSlot>,
    /// Installed variants of the app (install records in `{data_dir}/backends/`).
    installed: Vec<InstallRecord>,
    /// The backend in `backend.json`, observed now; `null` when there is none.
    backend: Option<Observed>,
    leases: Vec<LeaseInfo>,
}

pub fn run(global: &GlobalArgs, args: StatusArgs, printer: &Printer) -> Result<u8> {
    let state = super::state_dir(global)?;
    let data_dir = super::data_dir(&args.app)?;
    let status = Status {
        slots: SlotTable::new(&state)?.list()?,
        // An archive install's file list (thousands of entries) is `verify --installed`'s
        // business, not the status view's.
        installed: BackendsDir::new(&data_dir)
            .records()?
            .into_iter()
            .map(|r| InstallRecord { files: None, ..r })
            .collect(),
        backend: observe::observe(&state)?,
        leases: FileStore::new(&state)?.list()?,
    };
    if printer.json() {
        printer.json_doc(&status)?;
    } else {
        print_slots(&status.slots, printer);
        print_installed(&status.installed, printer);
        print_backend(status.backend.as_ref(), printer);
        super::lease::print_leases(&status.leases, printer);
    }
    Ok(crate::exit::SUCCESS)
}

fn print_installed(installed: &[InstallRecord], printer: &Printer) {
    if installed.is_empty() {
        printer.data("installed: none");
        return;
    }
    printer.data("installed:");
    printer.data(format!(
        "  {:<32} {:<8} {:<10} {:>10} {:<12} {:>10}  PATH",
        "ASSET", "VARIANT", "VERSION", "SIZE", "SHA256", "INSTALLED"
    ));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    for r in installed {
        let hex = r.sha256.to_hex();
        printer.data(format!(
            "  {:<32} {:<8} {:<10} {:>10} {:<12} {:>10}  {}",
            r.asset,
            r.variant.as_deref().unwrap_or("-"),
            r.version.as_deref().unwrap_or("-"),
            human_bytes(r.size),
            &hex[..12],
            format!(
                "{} ago",
                human_duration(Duration::from_secs(now.saturating_sub(r.installed_at)))
            ),
            r.path.display()
        ));
    }
}

fn print_backend(backend: Option<&Observed>, printer: &Printer) {
    let Some(b) = backend else {
        printer.data("backend: none recorded");
        return;
    };
    let r = &b.record;
    let health = serde_json::to_value(b.health)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    printer.data("backend:");
    printer.data(format!(
        "  {:<8} {:<8} {:<10} {:>6} {:>10}  HEALTH",
        "PID", "VARIANT", "VERSION", "PORT", "UPTIME"
    ));
    printer.data(format!(
        "  {:<8} {:<8} {:<10} {:>6} {:>10}  {}{}",
        r.pid,
        r.variant,
        r.version.as_deref().unwrap_or("-"),
        r.port,
        b.uptime_s
            .map(|s| human_duration(Duration::from_secs(s)))
            .unwrap_or_else(|| "-".into()),
        health,
        b.health_detail
            .as_deref()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default()
    ));
    printer.data(format!("  binary {}", r.binary.display()));
    printer.data(format!("  log    {}", r.log.display()));
}

fn print_slots(slots: &[HeldSlot], printer: &Printer) {
    if slots.is_empty() {
        printer.data("slots: none held");
        return;
    }
    printer.data("slots:");
    printer.data(format!(
        "  {:<32} {:>8} {:>10} {:>22}  COMMAND",
        "NAME", "PID", "AGE", "PROGRESS"
    ));
    for s in slots {
        match &s.holder {
            Some(h) => {
                let progress = match (h.done, h.total) {
                    (Some(d), Some(t)) => format!("{} / {}", human_bytes(d), human_bytes(t)),
                    (Some(d), None) => human_bytes(d),
                    _ => "-".into(),
                };
                printer.data(format!(
                    "  {:<32} {:>8} {:>10} {:>22}  {}",
                    s.name,
                    h.pid,
                    human_duration(h.age()),
                    progress,
                    h.command
                ));
            }
            None => printer.data(format!("  {:<32} {:>8}", s.name, "?")),
        }
    }
}
