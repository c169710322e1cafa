//! One module per subcommand: each turns its arguments into library calls and output, and
//! returns the exit code (errors are mapped by `src/exit.rs`).

mod completions;
mod split;
mod status;
mod verify;

use anyhow::Result;
use voxctl::state::StateDir;

use crate::cli::{Cli, Command, GlobalArgs};
use crate::output::Printer;

/// Runs the parsed command line; returns the exit code on success.
pub fn run(cli: Cli, printer: &Printer) -> Result<u8> {
    let global = cli.global;
    match cli.command {
        Command::Split(args) => split::run(args, printer),
        Command::Verify(args) => verify::run(args, printer),
        Command::Status(args) => status::run(&global, args, printer),
        Command::Completions(args) => completions::completions(args),
        Command::Generate(args) => completions::generate(args, printer),
    }
}

/// Opens the state dir chosen by `--state-dir`/`VOXCTL_STATE_DIR`, or the default one.
pub fn state_dir(global: &GlobalArgs) -> Result<StateDir> {
    StateDir::open(global.state_dir.as_deref())
}

/// A multi-threaded tokio runtime for the subcommands that do network or process I/O.
#[allow(dead_code)]
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
