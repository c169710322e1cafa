//! `voxctl status`: what voxctl knows right now. Each section is one function returning
//! serializable rows, printed as a table or, with `--json`, one document.

use anyhow::Result;
use serde::Serialize;
use voxctl::backends::{default_data_dir, BackendsDir, InstallRecord};
use voxctl::lease::{file::FileStore, LeaseInfo, LeaseStore};
use voxctl::slot::{HeldSlot, SlotTable};

use crate::cli::{GlobalArgs, StatusArgs};
use crate::output::{human_bytes, human_duration, Printer};

#[derive(Debug, Serialize)]
struct Status {
    slots: Vec<HeldSlot>,
    installed: Vec<InstallRecord>,
    leases: Vec<LeaseInfo>,
}

pub fn run(global: &GlobalArgs, args: StatusArgs, printer: &Printer) -> Result<u8> {
    let state = super::state_dir(global)?;
    let data_dir = match args.data_dir {
        Some(d) => std::path::absolute(d)?,
        None => default_data_dir(&args.app)?,
    };
    let status = Status {
        slots: SlotTable::new(&state)?.list()?,
        installed: BackendsDir::new(&data_dir).records()?,
        leases: FileStore::new(&state)?.list()?,
    };
    if printer.json() {
        printer.json_doc(&status)?;
    } else {
        print_slots(&status.slots, printer);
        print_installed(&status.installed, printer);
        super::lease::print_leases(&status.leases, printer);
    }
    Ok(crate::exit::SUCCESS)
}

fn print_installed(records: &[InstallRecord], printer: &Printer) {
    if records.is_empty() {
        printer.data("installed: none");
        return;
    }
    printer.data("installed:");
    printer.data(format!(
        "  {:<28} {:<8} {:>10} {:<13} {:<12} PATH",
        "ASSET", "VARIANT", "SIZE", "LAYOUT", "VERSION"
    ));
    for r in records {
        printer.data(format!(
            "  {:<28} {:<8} {:>10} {:<13} {:<12} {}",
            r.asset,
            r.variant.as_deref().unwrap_or("-"),
            human_bytes(r.size),
            r.layout,
            r.version.as_deref().unwrap_or("-"),
            r.path.display()
        ));
    }
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
