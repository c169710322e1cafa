//! The command line: clap types only. Validation that needs more than clap's value parsers
//! happens in `src/commands/`, which turns these raw arguments into library settings.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use voxctl::lease::{LeaseName, Token};

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
    /// Hold TTL leases with fencing tokens: serialize shell scripts across invocations.
    Lease(LeaseArgs),
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

/// `voxctl lease ...`.
#[derive(Debug, Args)]
pub struct LeaseArgs {
    /// The lease operation.
    #[command(subcommand)]
    pub command: LeaseCommand,
}

/// The lease operations.
#[derive(Debug, Subcommand)]
pub enum LeaseCommand {
    /// Acquire a lease and print its fencing token (exit 4 if it is still held after --wait).
    Acquire(LeaseAcquireArgs),
    /// Extend a held lease by its TTL from now (exit 6 if TOKEN is not the current token).
    Renew(LeaseRenewArgs),
    /// Release a held lease (exit 6 if TOKEN is not the current token).
    Release(LeaseReleaseArgs),
    /// Show one lease: state, holder, token, age, time left.
    Status(LeaseNameArg),
    /// List every known lease.
    List,
    /// Acquire a lease, run a command while renewing it every TTL/3, release it when the
    /// command exits, and exit with the command's status (128+N if killed by signal N).
    ///
    /// The command runs in its own process group with VOXCTL_LEASE_NAME and
    /// VOXCTL_LEASE_TOKEN set. SIGINT, SIGTERM and SIGHUP are forwarded to it. If a renewal
    /// is refused (voxctl was paused past the TTL and the lease was taken over), the group
    /// gets SIGTERM, then SIGKILL after --kill-grace, and voxctl exits 6.
    Run(LeaseRunArgs),
}

/// Options shared by acquire and run.
#[derive(Debug, Args)]
pub struct LeaseHoldArgs {
    /// The lease's name: 1-128 characters from A-Z a-z 0-9 . _ -
    #[arg(value_name = "NAME")]
    pub name: LeaseName,
    /// How long the lease lasts unless renewed (500ms, 30s, 5m).
    #[arg(long, default_value = "30s", value_parser = voxctl::lease::parse_positive_duration)]
    pub ttl: Duration,
    /// How long to wait while someone else holds it (0: fail at once with exit 4).
    #[arg(long, default_value = "0", value_parser = voxctl::lease::parse_wait)]
    pub wait: Duration,
    /// Who holds it, as shown by status [default: HOST:PID].
    #[arg(long, value_parser = voxctl::lease::parse_holder)]
    pub holder: Option<String>,
}

/// `voxctl lease acquire`.
#[derive(Debug, Args)]
pub struct LeaseAcquireArgs {
    /// The lease and how to hold it.
    #[command(flatten)]
    pub hold: LeaseHoldArgs,
}

/// `voxctl lease renew`.
#[derive(Debug, Args)]
pub struct LeaseRenewArgs {
    /// The lease's name.
    #[arg(value_name = "NAME")]
    pub name: LeaseName,
    /// The fencing token printed by acquire.
    #[arg(long)]
    pub token: Token,
    /// The new TTL [default: the lease's current TTL].
    #[arg(long, value_parser = voxctl::lease::parse_positive_duration)]
    pub ttl: Option<Duration>,
}

/// `voxctl lease release`.
#[derive(Debug, Args)]
pub struct LeaseReleaseArgs {
    /// The lease's name.
    #[arg(value_name = "NAME")]
    pub name: LeaseName,
    /// The fencing token printed by acquire.
    #[arg(long)]
    pub token: Token,
}

/// A lease name alone.
#[derive(Debug, Args)]
pub struct LeaseNameArg {
    /// The lease's name.
    #[arg(value_name = "NAME")]
    pub name: LeaseName,
}

/// `voxctl lease run`.
#[derive(Debug, Args)]
pub struct LeaseRunArgs {
    /// The lease and how to hold it.
    #[command(flatten)]
    pub hold: LeaseHoldArgs,
    /// After a lost lease, how long the command gets between SIGTERM and SIGKILL.
    #[arg(long, default_value = "5s", value_parser = voxctl::lease::parse_positive_duration)]
    pub kill_grace: Duration,
    /// The command and its arguments (after `--`).
    #[arg(required = true, trailing_var_arg = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}
