//! The command line: clap types only. Validation that needs more than clap's value parsers
//! happens in `src/commands/`, which turns these raw arguments into library settings.

use std::path::PathBuf;
use std::time::Duration;

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
    /// Swap the running backend for an installed variant, safely.
    ///
    /// Checks the new binary (`--version`) before stopping anything and falls back
    /// cuda/rocm -> cpu with a warning; writes the relaunch marker for `reap`; stops the old
    /// backend's process group (SIGTERM, then SIGKILL after --stop-timeout); waits until
    /// nothing listens on the port; starts the new binary detached (`--data-dir D --port P`
    /// plus the arguments after `--`, output appended to STATE/logs/); polls the health URL.
    /// If the new backend exits or is not healthy within --ready-timeout, it is stopped and
    /// the previous one is started again (exit 7; exit 1 if that fails too). A concurrent
    /// restart of the same app exits 4 unless --wait is given.
    Restart(RestartArgs),
    /// Show held slots, leases, installed variants and the running backend.
    Status(StatusArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Write the completion scripts and man pages into a directory (for packagers).
    #[command(hide = true)]
    Generate(GenerateArgs),
}

/// A variant on the command line: a concrete one, or `auto` (detect from the hardware).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VariantChoice {
    /// NVIDIA driver present -> cuda; /dev/kfd present -> rocm; else cpu.
    Auto,
    /// The CPU build.
    Cpu,
    /// The NVIDIA CUDA build.
    Cuda,
    /// The AMD ROCm build.
    Rocm,
}

/// The app and data dir whose backends are managed.
#[derive(Debug, Args, Clone)]
pub struct AppArgs {
    /// The app whose backend is managed (names assets `{app}-server-{variant}`).
    #[arg(
        long,
        default_value = "voicebox",
        env = "VOXCTL_APP",
        value_name = "NAME"
    )]
    pub app: String,
    /// The app's data dir, holding `backends/` [default: $XDG_DATA_HOME/{app}, or
    /// ~/.local/share/{app}].
    #[arg(long, env = "VOXCTL_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// `voxctl restart`.
#[derive(Debug, Args)]
pub struct RestartArgs {
    /// The variant to start.
    #[arg(long, value_enum, default_value = "auto", value_name = "VARIANT")]
    pub variant: VariantChoice,
    /// The app and its data dir.
    #[command(flatten)]
    pub app: AppArgs,
    /// The port the backend serves on (passed as `--port`).
    #[arg(long, default_value_t = 17493, value_name = "N")]
    pub port: u16,
    /// The health URL to poll (http:// only) [default: http://127.0.0.1:{port}/health].
    #[arg(long, value_name = "URL")]
    pub health_url: Option<String>,
    /// How long the old backend gets after SIGTERM before SIGKILL, and then the port to be
    /// released (e.g. 10s, 500ms).
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration, value_name = "DUR")]
    pub stop_timeout: Duration,
    /// How long the new backend gets to answer 200 on the health URL.
    #[arg(long, default_value = "120s", value_parser = humantime::parse_duration, value_name = "DUR")]
    pub ready_timeout: Duration,
    /// The version the new binary must report (`BIN --version`) [default: the version
    /// recorded when it was fetched].
    #[arg(long, value_name = "V")]
    pub expect_version: Option<String>,
    /// If another restart of this app is running, wait for it instead of exiting 4.
    #[arg(long)]
    pub wait: bool,
    /// Extra arguments for the backend, after `--`.
    #[arg(last = true, value_name = "BACKEND_ARGS")]
    pub backend_args: Vec<String>,
}

/// `voxctl status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The app and data dir whose installed variants and backend are shown.
    #[command(flatten)]
    pub app: AppArgs,
}

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
