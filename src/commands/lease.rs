//! `voxctl lease`: acquire, renew, release, status, list and run, over a
//! [`voxctl::lease::LeaseStore`]: the state dir's file store or etcd (`--store`). Output:
//! tokens and tables on stdout (or one JSON document with `--json`), messages on stderr.
//! etcd credentials are read here from `VOXCTL_ETCD_*` (the library reads no environment).

use std::time::Duration;

use anyhow::{Context, Result};
use voxctl::exit::ExitStatus;
use voxctl::lease::etcd::{Auth, Tls};
use voxctl::lease::file::{FileStore, Owned, OwnerSpec};
use voxctl::lease::run::{self as lease_run, CommandStdout, Outcome, Request, RunResult};
use voxctl::lease::store::{open_etcd, EtcdCredentials, StoreSpec};
use voxctl::lease::{
    Acquire, Free, FreeLease, Lease, LeaseInfo, LeaseList, LeaseName, LeaseStatus, LeaseStore,
    Released,
};
use voxctl::Error;

use crate::cli::{GlobalArgs, LeaseArgs, LeaseCommand, LeaseHoldArgs};
use crate::output::{human_duration, untrusted, Align, Printer, Table};

pub fn run(global: &GlobalArgs, args: LeaseArgs, printer: &Printer) -> Result<ExitStatus> {
    // `status` and `list` only read: they create neither the state dir nor `leases/` (a
    // store that does not exist yet holds no leases).
    let read_only = matches!(args.command, LeaseCommand::Status(_) | LeaseCommand::List);
    let mut file_store;
    let owned;
    let etcd_store;
    let store: &dyn LeaseStore = if let StoreSpec::File = &args.store {
        file_store = if read_only {
            let leases = match super::existing_state_dir(global)? {
                Some(state) => state.existing_subdir("leases")?,
                None => super::state_dir_path(global)
                    .map_or_else(voxctl::state::StateDir::default_path, Ok)?
                    .join("leases"),
            };
            FileStore::in_dir(leases)
        } else {
            FileStore::new(&super::state_dir(global)?)?
        };
        // A signal ends a wait for a contended store lock, except under `lease run`: there
        // signals are forwarded to the command, and its renewals and release must go on.
        if !matches!(args.command, LeaseCommand::Run(_)) {
            file_store = file_store.with_cancel(crate::signals::cancel());
        }
        // Who owns what this command acquires, so that the lease is abandoned once its owner is
        // certainly gone: `lease run` a liveness file its command inherits, `lease acquire
        // --owner-pid PID` that process; anything else the TTL.
        let owner = match &args.command {
            LeaseCommand::Run(_) => OwnerSpec::Liveness,
            LeaseCommand::Acquire(a) => match a.owner_pid {
                // More than 0: cli.rs refuses the rest.
                Some(pid) => OwnerSpec::Pid(pid),
                None => OwnerSpec::None,
            },
            _ => OwnerSpec::None,
        };
        owned = Owned {
            store: &file_store,
            owner,
            alive: Default::default(),
        };
        &owned
    } else {
        // Owners are a file-store feature (README, "Stores"): on etcd every lease keeps the
        // TTL rule, and `lease run`'s command is stopped by the deadline rule instead.
        if let LeaseCommand::Acquire(a) = &args.command {
            if a.owner_pid.is_some() {
                return Err(Error::Usage(
                    "--owner-pid needs the file store: on etcd a lease ends with its TTL".into(),
                )
                .into());
            }
        }
        etcd_store = open_etcd(&args.store, etcd_credentials()?)?;
        &etcd_store
    };
    match args.command {
        LeaseCommand::Acquire(a) => {
            let lease = voxctl::lease::acquire(store, &acquire_settings(&a.hold, true))?;
            note_granted_ttl(&lease, a.hold.ttl, printer);
            if printer.json() {
                printer.json_doc(&lease)?;
            } else {
                printer.data(lease.token);
            }
        }
        LeaseCommand::Renew(a) => {
            let lease = store.renew(&a.name, a.token, a.ttl)?;
            if let Some(ttl) = a.ttl {
                note_granted_ttl(&lease, ttl, printer);
            }
            if printer.json() {
                printer.json_doc(&lease)?;
            } else {
                printer.message(format!(
                    "lease {} renewed: {} left",
                    a.name,
                    human_duration(Duration::from_millis(lease.expires_in_ms))
                ));
            }
        }
        LeaseCommand::Release(a) => {
            store.release(&a.name, a.token)?;
            if printer.json() {
                printer.json_doc(&Released {
                    name: a.name.as_str().into(),
                    released: true,
                    token: a.token,
                })?;
            } else {
                printer.message(format!("lease {} released", a.name));
            }
        }
        LeaseCommand::Status(a) => status(store, &a.name, printer)?,
        LeaseCommand::List => {
            let leases = store.list()?;
            if printer.json() {
                printer.json_doc(&LeaseList { leases })?;
            } else {
                print_leases(&leases, printer);
            }
        }
        LeaseCommand::Run(a) => return run_command(store, a, printer),
    }
    Ok(ExitStatus::Success)
}

/// Says so on stderr when the store granted another TTL than asked (etcd: whole seconds,
/// at least its minimum).
fn note_granted_ttl(lease: &Lease, asked: Duration, printer: &Printer) {
    if u128::from(lease.ttl_ms) != asked.as_millis() {
        printer.message(format!(
            "lease {}: the store granted a TTL of {} (asked for {})",
            lease.name,
            humantime::format_duration(Duration::from_millis(lease.ttl_ms)),
            humantime::format_duration(asked)
        ));
    }
}

/// The etcd TLS material and user credentials, from the environment: `VOXCTL_ETCD_CACERT`
/// (PEM file of CA certificates to trust instead of the web roots), `VOXCTL_ETCD_CERT` and
/// `VOXCTL_ETCD_KEY` (PEM files of a client certificate and its key), `VOXCTL_ETCD_USER`
/// with `VOXCTL_ETCD_PASSWORD` or `VOXCTL_ETCD_PASSWORD_FILE` (etcd authentication).
fn etcd_credentials() -> Result<EtcdCredentials> {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    let read = |k: &str| -> Result<Option<Vec<u8>>> {
        var(k)
            .map(|path| {
                std::fs::read(&path).with_context(|| {
                    format!(
                        "cannot read {k} file {}",
                        std::path::Path::new(&path).display()
                    )
                })
            })
            .transpose()
    };
    let mut tls = Tls {
        ca_pem: read("VOXCTL_ETCD_CACERT")?,
        identity_pem: None,
    };
    match (read("VOXCTL_ETCD_CERT")?, read("VOXCTL_ETCD_KEY")?) {
        (Some(mut cert), Some(key)) => {
            cert.push(b'\n');
            cert.extend_from_slice(&key);
            tls.identity_pem = Some(cert);
        }
        (None, None) => {}
        _ => {
            return Err(voxctl::Error::Usage(
                "VOXCTL_ETCD_CERT and VOXCTL_ETCD_KEY go together (a client certificate and \
                 its key)"
                    .into(),
            )
            .into())
        }
    }
    let auth = match var("VOXCTL_ETCD_USER") {
        None => None,
        Some(user) => {
            let password =
                match (
                    read("VOXCTL_ETCD_PASSWORD_FILE")?,
                    var("VOXCTL_ETCD_PASSWORD"),
                ) {
                    (Some(p), _) => String::from_utf8_lossy(&p)
                        .trim_end_matches(['\n', '\r'])
                        .to_string(),
                    (None, Some(p)) => p.to_string_lossy().into_owned(),
                    (None, None) => return Err(voxctl::Error::Usage(
                        "VOXCTL_ETCD_USER needs VOXCTL_ETCD_PASSWORD or VOXCTL_ETCD_PASSWORD_FILE"
                            .into(),
                    )
                    .into()),
                };
            Some(Auth {
                user: user.to_string_lossy().into_owned(),
                password,
            })
        }
    };
    Ok(EtcdCredentials { tls, auth })
}

/// `HOST:PID`, with the parent's pid for `acquire` (the script that will hold the lease)
/// and voxctl's own for `run`.
fn holder_or_default(hold: &LeaseHoldArgs, parent: bool) -> String {
    if let Some(h) = &hold.holder {
        return h.clone();
    }
    let pid = if parent {
        #[cfg(unix)]
        let ppid = nix::unistd::getppid().as_raw();
        // Windows records the creator's pid; 0 when there is none (a process Wine started).
        #[cfg(windows)]
        let ppid = voxctl::process::parent_pid(std::process::id() as i32).unwrap_or(0);
        ppid
    } else {
        std::process::id() as i32
    };
    format!(
        "{}:{pid}",
        voxctl::process::hostname().unwrap_or_else(|| "localhost".into())
    )
}

fn status(store: &dyn LeaseStore, name: &LeaseName, printer: &Printer) -> Result<()> {
    let info = store.status(name)?;
    if printer.json() {
        let doc = match info {
            Some(info) => LeaseStatus::Recorded(info),
            None => LeaseStatus::Free(FreeLease {
                name: name.as_str().into(),
                state: Free::Free,
            }),
        };
        return printer.json_doc(&doc);
    }
    match &info {
        None => printer.data(format!("lease {name}: free (never acquired)")),
        Some(i) => {
            printer.data(format!("lease {}: {}", i.name, i.state));
            printer.data(format!(
                "  holder:    {} (pid {} on {})",
                untrusted(&i.holder),
                i.pid,
                untrusted(&i.host)
            ));
            printer.data(format!("  token:     {}", i.token));
            printer.data(format!(
                "  age:       {} (acquired {})",
                ms_human(i.age_ms),
                i.acquired_at
            ));
            printer.data(format!("  ttl:       {}", ms_human(i.ttl_ms)));
            printer.data(format!("  time left: {}", ms_human(i.left_ms)));
        }
    }
    Ok(())
}

fn ms_human(ms: u64) -> String {
    if ms < 10_000 {
        humantime::format_duration(Duration::from_millis(ms)).to_string()
    } else {
        human_duration(Duration::from_millis(ms))
    }
}

/// Prints leases as a table (`lease list` and `voxctl status`).
pub fn print_leases(leases: &[LeaseInfo], printer: &Printer) {
    if leases.is_empty() {
        printer.data("leases: none");
        return;
    }
    printer.data("leases:");
    let mut t = Table::new(&[
        ("NAME", Align::Left),
        ("STATE", Align::Left),
        ("TOKEN", Align::Right),
        ("AGE", Align::Right),
        ("LEFT", Align::Right),
        ("HOLDER", Align::Left),
    ]);
    for l in leases {
        t.row(vec![
            l.name.to_string(),
            l.state.to_string(),
            l.token.to_string(),
            ms_human(l.age_ms),
            if l.is_held() {
                ms_human(l.left_ms)
            } else {
                "-".into()
            },
            l.holder.clone(),
        ]);
    }
    t.print(printer);
}

/// What `lease acquire` (`parent`: the holder defaults to the calling script) and `lease run`
/// (voxctl itself) ask for.
fn acquire_settings(hold: &LeaseHoldArgs, parent: bool) -> Acquire {
    let mut acquire = Acquire::new(
        hold.name.clone(),
        hold.ttl,
        &holder_or_default(hold, parent),
    );
    acquire.wait = hold.wait.wait();
    acquire.cancel = crate::signals::cancel();
    acquire
}

/// `lease run`: one call of [`voxctl::lease::run_command`] with the signals forwarded
/// ([`crate::signals::Forwarded`]; main.rs skips `signals::install` for this command, so a SIGINT while waiting ends the wait with
/// exit 130 and one during the run is forwarded to the command), then its outcome as an exit
/// status ([`Outcome::exit_status`]). With `--json`, the command's stdout goes to stderr and
/// stdout gets one [`RunResult`] document once the command has ended.
fn run_command(
    store: &dyn LeaseStore,
    args: crate::cli::LeaseRunArgs,
    printer: &Printer,
) -> Result<ExitStatus> {
    let request = Request {
        acquire: acquire_settings(&args.hold, false),
        kill_grace: args.kill_grace,
        command: args.command,
        stdout: if printer.json() {
            CommandStdout::Stderr
        } else {
            CommandStdout::Inherit
        },
    };
    let asked = request.acquire.ttl;
    let name = &request.acquire.name;
    let acquired: std::sync::Mutex<Option<(Lease, std::time::Instant)>> = Default::default();
    // Events a later library adds are not this command's to show.
    let on_event = |e: &lease_run::Event| {
        if let lease_run::Event::Acquired { lease } = e {
            note_granted_ttl(lease, asked, printer);
            *acquired.lock().unwrap_or_else(|e| e.into_inner()) =
                Some((lease.clone(), std::time::Instant::now()));
        }
    };
    // Before the acquire, so that an interrupt while waiting for the lease is never lost.
    let interrupts = crate::signals::Forwarded::install(&request.acquire.cancel)
        .context("cannot install the signal handlers")?;
    let outcome = voxctl::lease::run_command(store, &request, &interrupts, &on_event)?;
    let status = outcome.exit_status();
    // A run returns only after the acquire, which reported the lease.
    let mut result = acquired
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .map(|(lease, at)| RunResult::new(&lease, &outcome, at.elapsed(), None));
    // The error beside the outcome, and whether it is only a warning (the command's status
    // stands).
    let (error, warning) = match outcome {
        Outcome::Exited(_) => (None, false),
        Outcome::NotStarted(_, e) => (Some(e), false),
        Outcome::ExitedUnreleased(_, e) => (Some(e), true),
        Outcome::Lost(s, e) => (
            Some(e.context(format!(
                "lease {name} was lost while the command ran, so the command was terminated \
                 (it exited with status {})",
                ExitStatus::of_child(&s).code()
            ))),
            false,
        ),
        Outcome::TakenOver(s, e) => (
            Some(e.context(format!(
                "the command exited with status {}, but lease {name} had been taken over \
                 before it finished",
                ExitStatus::of_child(&s).code()
            ))),
            false,
        ),
        other => (
            Some(anyhow::anyhow!(
                "lease run ended in an outcome this command does not know: {other:?}"
            )),
            false,
        ),
    };
    if let (true, Some(result)) = (printer.json(), result.as_mut()) {
        result.error = error.as_ref().map(|e| printer.error_body(e));
        printer.json_doc(result)?;
    }
    match (error, warning) {
        (Some(e), true) => printer.warn(format!(
            "cannot release lease {name} (it expires by itself): {e:#}"
        )),
        (Some(e), false) => printer.error(&e),
        (None, _) => {}
    }
    Ok(status)
}
