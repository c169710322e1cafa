//! The command line: clap types only. Validation that needs more than clap's value parsers
//! happens in `src/commands/`, which turns these raw arguments into library settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Manage the heavy, swappable GPU backend binary of a desktop app: split and verify release
/// files, fetch and install a variant, restart the backend, reap a wedged instance, and give
/// shell scripts leases with fencing tokens.
#[derive(Debug, Parser)]
#[command(name = "voxctl", version, propagate_version = true, after_help = crate::exit::HELP)]
pub struct Cli {
    /// Options every subcommand accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand accepts.
#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Print only errors on stderr (no progress, no messages).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// More log output on stderr (-v info, -vv debug, -vvv trace); VOXCTL_LOG takes a tracing
    /// filter instead.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print one JSON document (or JSON lines for event streams) on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// Answer yes to confirmations (needed without a terminal).
    #[arg(long, global = true)]
    pub yes: bool,
    /// voxctl's state dir [default: $XDG_STATE_HOME/voxctl or ~/.local/state/voxctl].
    #[arg(long, global = true, env = "VOXCTL_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show held slots, leases, installed variants and the running backend.
    Status(StatusArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Write the completion scripts and man pages into a directory (for packagers).
    #[command(hide = true)]
    Generate(GenerateArgs),
}

/// `voxctl status`.
#[derive(Debug, Args)]
pub struct StatusArgs {}

/// `voxctl completions SHELL`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `voxctl generate DIR`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Where to write `completions/` and `man/`.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}
