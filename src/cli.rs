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
    /// Split a release file into parts under GitHub's 2 GiB asset limit, with SHA-256 files
    /// and manifests (the parts are what `split -b N -d -a 2` writes).
    Split(SplitArgs),
    /// Verify files against SHA-256 checksums: one file, sha256sum/BSD-tag sums files, or a
    /// split release from its manifest.
    Verify(VerifyArgs),
    /// Show held slots, leases, installed variants and the running backend.
    Status(StatusArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Write the completion scripts and man pages into a directory (for packagers).
    #[command(hide = true)]
    Generate(GenerateArgs),
}

/// `voxctl split FILE`.
#[derive(Debug, Args)]
#[command(
    after_help = "Writes S.part00[.exe], S.part01[.exe], ..., then S.sha256 (one sha256sum line for \
the whole file), S.manifest (the part names, one a line) and S.manifest.json (sizes, offsets and \
SHA-256 of every part), where S is the asset name without a trailing .exe. Every output is written \
under a temporary name and renamed when complete, the manifests last."
)]
pub struct SplitArgs {
    /// The file to split.
    pub file: PathBuf,
    /// Size of each part (the last may be smaller): bytes or a size with units, such as
    /// 1900000000, 1.9GB, 1900MB or 1GiB; from 1 byte to under 2 GiB.
    #[arg(long, value_name = "SIZE", default_value = "1900000000")]
    pub chunk_size: String,
    /// Directory to write the parts and manifests to (created if missing).
    #[arg(long, value_name = "DIR", default_value = "dist")]
    pub out: PathBuf,
    /// The asset name that parts and manifests are named after [default: FILE's name].
    #[arg(long, value_name = "NAME")]
    pub asset: Option<String>,
    /// The app version to record in the JSON manifest.
    #[arg(long, value_name = "V")]
    pub app_version: Option<String>,
    /// The variant to record in the JSON manifest (cpu, cuda or rocm).
    #[arg(long, value_name = "V")]
    pub variant: Option<voxctl::variant::Variant>,
    /// Replace existing outputs (and remove parts numbered beyond the new last one).
    #[arg(long)]
    pub force: bool,
    /// fsync every output before it is renamed, so that not even a power loss can leave a
    /// manifest naming a part whose data is not on disk (slower: waits for the disk).
    #[arg(long)]
    pub fsync: bool,
}

/// `voxctl verify`.
#[derive(Debug, Args)]
#[command(after_help = "Modes:
    voxctl verify FILE --sha256 HEX      one file against a digest
    voxctl verify -c SUMS...             every file listed in sha256sum files (text `HEX  NAME`,
                                         binary `HEX *NAME` or BSD tag `SHA256 (NAME) = HEX`);
                                         names are relative to the sums file; - reads stdin
    voxctl verify --manifest PATH        a split release: S.manifest.json, or S.manifest with
                                         S.sha256 beside it
Prints `NAME: OK`, `NAME: FAILED` or `NAME: MISSING` per file (-q prints only failures).
Exits 3 if any check fails or a checksum is missing or malformed.")]
pub struct VerifyArgs {
    /// The file to check (with --sha256), or the sums files (with -c).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The expected SHA-256 of FILE (64 hex digits).
    #[arg(long, value_name = "HEX", conflicts_with_all = ["check", "manifest"])]
    pub sha256: Option<String>,
    /// Read checksums from the FILEs and check the files they list.
    #[arg(short, long, conflicts_with = "manifest")]
    pub check: bool,
    /// Check a split release: each part, and the whole asset by streaming the parts in order.
    #[arg(long, value_name = "PATH")]
    pub manifest: Option<PathBuf>,
    /// With -c: skip files that do not exist instead of failing.
    #[arg(long, requires = "check")]
    pub ignore_missing: bool,
    /// With -c: a malformed line is a failure, not a warning.
    #[arg(long, requires = "check")]
    pub strict: bool,
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
