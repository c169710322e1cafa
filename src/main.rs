//! The `voxctl` binary: parse the command line, run the subcommand, map any error to its
//! exit status (`voxctl::exit::ExitStatus`, docs/contract.md "Exit codes") and print it as
//! `voxctl: error: ...`.

mod cli;
mod commands;
mod exit_codes;
mod hint;
mod output;
mod signals;

use clap::Parser;
use voxctl::exit::ExitStatus;

fn main() -> std::process::ExitCode {
    // `voxctl lease ...` parses with the lease tree alone (see `cli::LeaseCli`).
    let parsed = if std::env::args_os().nth(1).is_some_and(|a| a == "lease") {
        cli::LeaseCli::try_parse().map(cli::Cli::from)
    } else {
        cli::Cli::try_parse()
    };
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => return output::usage_error(e),
    };
    let printer = output::Printer::new(&cli.global).for_command(&cli);
    output::init_tracing(&cli.global);
    if !commands::handles_signals(&cli) {
        if let Err(e) = signals::install() {
            printer.warn(format!("cannot install signal handlers: {e}"));
        }
    }
    let status = match commands::run(cli, &printer) {
        Ok(status) => status,
        Err(err) => {
            printer.error(&err);
            exit_status(&err)
        }
    };
    status.into()
}

/// The exit status for an error that ended a command: [`ExitStatus::Interrupted`] once
/// SIGINT/SIGTERM arrived (whatever error the interruption caused), else the error's own kind
/// ([`ExitStatus::of`]).
pub fn exit_status(err: &anyhow::Error) -> ExitStatus {
    if signals::received() {
        return ExitStatus::Interrupted;
    }
    hint::status(err)
}
