//! `voxctl status`: what voxctl knows right now. Each section is one function returning
//! serializable rows, printed as a table or, with `--json`, one document. Exit 3 when the
//! recorded backend is not running ([`Status::exit_status`]).

use std::time::Duration;
use voxctl::exit::ExitStatus;

use anyhow::Result;
use voxctl::backend::observe::{self, Observed};
use voxctl::fetch::{self, PartialInfo};
use voxctl::installs::{BackendsDir, InstallRecord};
use voxctl::lease::{file::FileStore, LeaseStore};
use voxctl::slot::{HeldSlot, SlotTable};
use voxctl::status::Status;

use crate::cli::{GlobalArgs, StatusArgs};
use crate::output::{human_bytes, human_duration, Align, Printer, Table};

/// Shows what voxctl knows. Read-only: it creates nothing, neither the state dir nor its
/// subdirectories (a state dir that does not exist yet is simply empty).
pub fn run(global: &GlobalArgs, args: StatusArgs, printer: &Printer) -> Result<ExitStatus> {
    let state = super::existing_state_dir(global)?;
    let data_dir = super::data_dir(&args.app)?;
    let data_dir_exists = data_dir.is_dir();
    if !data_dir_exists {
        printer.warn(format!(
            "data dir {} does not exist: nothing is installed there (is --data-dir or \
             VOXCTL_DATA_DIR right?)",
            data_dir.display()
        ));
    }
    let backends = BackendsDir::new(&data_dir);
    let status: Status = Status {
        slots: match &state {
            Some(s) => SlotTable::in_dir(s.existing_subdir("slots")?).list()?,
            None => Vec::new(),
        },
        // An archive install's file list (thousands of entries) is `verify --installed`'s
        // business, not the status view's.
        installed: if data_dir_exists {
            backends
                .records()?
                .into_iter()
                .map(|r| InstallRecord { files: None, ..r })
                .collect()
        } else {
            Vec::new()
        },
        partial: fetch::partial_downloads(&backends)?,
        backend: match &state {
            Some(s) => observe::observe(s)?,
            None => None,
        },
        leases: match &state {
            Some(s) => FileStore::in_dir(s.existing_subdir("leases")?).list()?,
            None => Vec::new(),
        },
        data_dir,
        data_dir_exists,
    };
    if printer.json() {
        printer.json_doc(&status)?;
    } else {
        print_slots(&status.slots, printer);
        if status.data_dir_exists {
            print_installed(&status.installed, global.verbose > 0, printer);
        } else {
            printer.data(format!(
                "installed: unknown (data dir {} does not exist)",
                status.data_dir.display()
            ));
        }
        print_partial(&status.partial, &args.app.app, printer);
        print_backend(status.backend.as_ref(), printer);
        super::lease::print_leases(&status.leases, printer);
    }
    Ok(status.exit_status())
}

fn print_partial(partial: &[PartialInfo], app: &str, printer: &Printer) {
    if partial.is_empty() {
        printer.data("partial downloads: none");
        return;
    }
    printer.data("partial downloads:");
    let mut t = Table::new(&[
        ("ASSET", Align::Left),
        ("ON DISK", Align::Right),
        ("OF", Align::Right),
        ("AGE", Align::Right),
        ("PATH", Align::Left),
    ]);
    for p in partial {
        t.row(vec![
            p.asset.clone(),
            human_bytes(p.bytes_on_disk),
            p.size.map_or_else(|| "?".into(), human_bytes),
            format!("{} ago", human_duration(Duration::from_millis(p.age_ms))),
            p.dir.display().to_string(),
        ]);
    }
    t.print(printer);
    let variant = partial
        .iter()
        .find_map(|p| p.asset.strip_prefix(&format!("{app}-server-")))
        .map(|v| v.trim_end_matches(".exe").trim_end_matches(".tar.gz"))
        .unwrap_or("VARIANT");
    printer.data(format!(
        "  resume: the same `voxctl fetch --variant {variant}` (same release); remove: \
         `voxctl remove --partial-only {variant}`"
    ));
}

/// The installs as a table; with `verbose` (`status -v`), each install's release and which
/// sources (mirrors, the origin) served its bytes follow it.
fn print_installed(installed: &[InstallRecord], verbose: bool, printer: &Printer) {
    if installed.is_empty() {
        printer.data("installed: none");
        return;
    }
    printer.data("installed:");
    let mut t = Table::new(&[
        ("ASSET", Align::Left),
        ("VARIANT", Align::Left),
        ("VERSION", Align::Left),
        ("SIZE", Align::Right),
        ("SHA256", Align::Left),
        ("INSTALLED", Align::Right),
        ("PATH", Align::Left),
    ]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    for r in installed {
        let hex = r.sha256.to_hex();
        t.row(vec![
            r.asset.clone(),
            r.variant.clone().unwrap_or_else(|| "-".into()),
            r.version.clone().unwrap_or_else(|| "-".into()),
            human_bytes(r.size),
            hex[..12].to_string(),
            format!(
                "{} ago",
                human_duration(Duration::from_secs(now.saturating_sub(r.installed_at)))
            ),
            r.path.display().to_string(),
        ]);
    }
    t.print(printer);
    if verbose {
        for r in installed {
            printer.data(format!("  {}: release {}", r.asset, r.source));
            let served = r.transfer.as_ref().map_or(&[][..], |t| &t.served[..]);
            if served.is_empty() {
                printer.data(format!("  {}: served by: not recorded", r.asset));
            }
            for s in served {
                let kind = if s.mirror { "mirror" } else { "origin" };
                printer.data(format!(
                    "  {}: served by {kind} {}: {}",
                    r.asset,
                    s.source,
                    human_bytes(s.bytes)
                ));
            }
        }
    }
}

fn print_backend(backend: Option<&Observed>, printer: &Printer) {
    let Some(b) = backend else {
        printer.data("backend: none recorded");
        return;
    };
    let r = &b.record;
    let health = b.health;
    printer.data("backend:");
    let mut t = Table::new(&[
        ("PID", Align::Left),
        ("VARIANT", Align::Left),
        ("VERSION", Align::Left),
        ("PORT", Align::Right),
        ("UPTIME", Align::Right),
        ("HEALTH", Align::Left),
    ]);
    t.row(vec![
        r.pid.to_string(),
        r.variant.to_string(),
        r.version.clone().unwrap_or_else(|| "-".into()),
        r.port.to_string(),
        b.uptime_ms
            .map(|ms| human_duration(Duration::from_millis(ms)))
            .unwrap_or_else(|| "-".into()),
        format!(
            "{health}{}",
            b.health_detail
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        ),
    ]);
    t.print(printer);
    printer.data(format!("  binary {}", r.binary.display()));
    if let Some(url) = &r.health_url {
        printer.data(format!("  health {url}"));
    }
    if !r.args.is_empty() {
        printer.data(format!("  args   {}", shell_words::join(&r.args)));
    }
    printer.data(format!("  log    {}", r.log.display()));
    if let Some(why) = &b.restart_needed {
        printer.data(format!(
            "  {why} (`voxctl restart --variant {}`)",
            r.variant
        ));
    }
    if !b.running {
        printer.data(format!(
            "  not running: start it again with `voxctl restart --variant {}`",
            r.variant
        ));
    }
}

fn print_slots(slots: &[HeldSlot], printer: &Printer) {
    if slots.is_empty() {
        printer.data("slots: none held");
        return;
    }
    printer.data("slots:");
    let mut t = Table::new(&[
        ("NAME", Align::Left),
        ("PID", Align::Right),
        ("AGE", Align::Right),
        ("PROGRESS", Align::Right),
        ("COMMAND", Align::Left),
    ]);
    for s in slots {
        match &s.holder {
            Some(h) => {
                let progress = match (h.done, h.total) {
                    (Some(d), Some(t)) => format!("{} / {}", human_bytes(d), human_bytes(t)),
                    (Some(d), None) => human_bytes(d),
                    _ => "-".into(),
                };
                t.row(vec![
                    s.name.clone(),
                    h.pid.to_string(),
                    human_duration(h.age()),
                    progress,
                    h.command.clone(),
                ]);
            }
            None => t.row(vec![s.name.clone(), "?".into()]),
        }
    }
    t.print(printer);
}
