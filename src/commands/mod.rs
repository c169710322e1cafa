//! One module per subcommand: each turns its arguments into library calls and output, and
//! returns its [`ExitStatus`] (errors are mapped by `crate::exit_status`).

mod completions;
mod doctor;
mod fetch;
mod index;
mod lease;
mod man;
mod reap;
mod restart;
mod sign;
mod split;
mod status;
mod stop;
mod verify;

use anyhow::Result;
use voxctl::exit::ExitStatus;
use voxctl::state::StateDir;

use anyhow::Context;
use voxctl::variant::Variant;

use crate::cli::{AppArgs, Cli, Command, GlobalArgs, VariantChoice};
use crate::output::Printer;

/// Runs the parsed command line; returns the exit status on success.
pub fn run(cli: Cli, printer: &Printer) -> Result<ExitStatus> {
    let global = cli.global;
    match cli.command {
        Command::Restart(args) => restart::run(&global, args, printer),
        Command::Fetch(args) => fetch::run(&global, args, printer),
        Command::Split(args) => split::run(args, printer),
        Command::Index(args) => index::run(args, printer),
        Command::Sign(args) => sign::run(args, printer),
        Command::Verify(args) => verify::run(args, printer),
        Command::Status(args) => status::run(&global, args, printer),
        Command::Doctor(args) => doctor::run(&global, args, printer),
        Command::Stop(args) => stop::stop(&global, args, printer),
        Command::Remove(args) => stop::remove(&global, args, printer),
        Command::Reap(args) => reap::run(&global, args, printer),
        Command::Lease(args) => lease::run(&global, args, printer),
        Command::Completions(args) => completions::completions(args),
        Command::Generate(args) => completions::generate(args, printer),
    }
}

/// Whether the command handles SIGINT/SIGTERM itself instead of through
/// `voxctl::interrupt` (`lease run` forwards them to its child).
pub fn handles_signals(cli: &Cli) -> bool {
    matches!(
        &cli.command,
        Command::Lease(crate::cli::LeaseArgs {
            command: crate::cli::LeaseCommand::Run(_),
            ..
        })
    )
}

/// Opens the state dir chosen by `--state-dir`/`VOXCTL_STATE_DIR`, or the default one.
pub fn state_dir(global: &GlobalArgs) -> Result<StateDir> {
    StateDir::open(state_dir_path(global).as_deref())
}

/// The state dir if it exists (checked as [`state_dir`] checks it), for read-only commands
/// that must create nothing; `None` when it does not exist yet.
pub fn existing_state_dir(global: &GlobalArgs) -> Result<Option<StateDir>> {
    let path = match state_dir_path(global) {
        Some(p) => p,
        None => StateDir::default_path()?,
    };
    if !path.exists() {
        return Ok(None);
    }
    StateDir::open(Some(&path)).map(Some)
}

/// The state dir given by `--state-dir`, else by a non-empty `VOXCTL_STATE_DIR`.
pub fn state_dir_path(global: &GlobalArgs) -> Option<std::path::PathBuf> {
    global.state_dir.clone().or_else(|| {
        std::env::var_os("VOXCTL_STATE_DIR")
            .filter(|v| !v.is_empty())
            .map(std::path::PathBuf::from)
    })
}

/// A multi-threaded tokio runtime for the subcommands that do network or process I/O.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// How long each hardware probe of `--variant auto` may take where the command has no
/// `--detect-timeout` (restart): fetch's default.
pub const AUTO_DETECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The concrete variant for a `--variant` choice. `auto` asks the one hardware detector
/// (`gpu::detect` with [`gpu_probes`], then `gpu::auto_candidate`, as `fetch` does), each probe
/// allowed `detect_timeout`, and says what it picked and why. Errors: an interrupted probe.
pub fn resolve_variant(
    choice: VariantChoice,
    detect_timeout: std::time::Duration,
    printer: &Printer,
) -> Result<Variant> {
    Ok(match choice {
        VariantChoice::Cpu => Variant::Cpu,
        VariantChoice::Cuda => Variant::Cuda,
        VariantChoice::Rocm => Variant::Rocm,
        VariantChoice::Auto => auto_variant(&gpu_probes(detect_timeout), printer)?.0,
    })
}

/// `--variant auto`: the candidate the hardware detector picks (`gpu::detect`, then
/// `gpu::auto_candidate`), said with its reason, and the hardware it saw (which `fetch` also
/// judges the release against). Errors: an interrupted probe.
pub fn auto_variant(
    probes: &voxctl::gpu::Probes,
    printer: &Printer,
) -> Result<(Variant, voxctl::gpu::Hardware)> {
    let hw = voxctl::gpu::detect(probes)?;
    let (v, why) = voxctl::gpu::auto_candidate(&hw);
    printer.message(format!("variant auto: {v} ({why})"));
    Ok((v, hw))
}

/// The hardware probes: `nvidia-smi` from `PATH`, sysfs at `/sys` or `$VOXCTL_SYSFS_ROOT`
/// (for testing), each allowed `timeout`.
pub fn gpu_probes(timeout: std::time::Duration) -> voxctl::gpu::Probes {
    voxctl::gpu::Probes {
        nvidia_smi: "nvidia-smi".into(),
        sysfs_root: std::env::var_os("VOXCTL_SYSFS_ROOT").map_or_else(|| "/sys".into(), Into::into),
        timeout,
        cancel: crate::signals::cancel(),
    }
}

/// Validates `--app` (it becomes part of file and slot names) and returns the data dir given
/// by `--data-dir`/`VOXCTL_DATA_DIR`, else the app's default.
pub fn data_dir(app: &AppArgs) -> Result<std::path::PathBuf> {
    voxctl::name::validate_resource_name("app", &app.app)?;
    match &app.data_dir {
        // Absolute, since it is passed to the backend and recorded in backend.json.
        Some(d) => {
            std::path::absolute(d).with_context(|| format!("invalid data dir {}", d.display()))
        }
        None => voxctl::installs::default_data_dir(&app.app),
    }
}

/// The asset name of `split` and `index`: `--asset NAME`, else FILE's name (a usage error,
/// exit 2, when FILE has no name that is UTF-8).
pub fn asset_name(given: Option<String>, file: &std::path::Path) -> Result<String> {
    match given {
        Some(asset) => Ok(asset),
        None => file
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
            .ok_or_else(|| {
                crate::hint::hinted(
                    voxctl::Error::Usage(format!(
                        "cannot take an asset name from {}",
                        file.display()
                    )),
                    "pass --asset NAME",
                )
            }),
    }
}
