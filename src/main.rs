//! The `voxctl` binary: parse the command line, run the subcommand, map any error to the exit
//! code of DESIGN.md and print it as `voxctl: error: ...`.

mod cli;
mod commands;
mod exit;
mod output;
mod signals;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return output::usage_error(e),
    };
    let printer = output::Printer::new(&cli.global).for_command(&cli);
    output::init_tracing(&cli.global);
    if !commands::handles_signals(&cli) {
        // The library's remaining `interrupt` polls (being replaced by the `Cancel` handle
        // that `signals` connects) see the same signals.
        if let Err(e) = signals::install().and_then(|()| voxctl::interrupt::install()) {
            printer.warn(format!("cannot install signal handlers: {e}"));
        }
    }
    let code = match commands::run(cli, &printer) {
        Ok(code) => code,
        Err(err) => {
            printer.error(&err);
            exit::for_error(&err)
        }
    };
    std::process::ExitCode::from(code)
}
