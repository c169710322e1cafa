//! The command line: clap types and their value parsers. Every value that can never work (a
//! zero timeout, port 0, pid 0) is refused here, as a usage error (exit 2) with a hint
//! ([`Hinted`], which `output::usage_error` prints as the `hint:` line); validation that
//! needs more than one value happens in `src/commands/`, which turns these arguments into
//! library settings.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use crate::hint::Hinted;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueHint};
use voxctl::lease::store::StoreSpec;
use voxctl::lease::{LeaseName, Token};
use voxctl::slot::Wait;
use voxctl::variant::Variant;

/// Manage the heavy, swappable GPU backend binary of a desktop app: split and verify release
/// files, fetch and install a variant, restart the backend, reap a wedged instance, and give
/// shell scripts leases with fencing tokens.
#[derive(Debug, Parser)]
#[command(name = "voxctl", version, propagate_version = true, after_help = crate::exit_codes::help())]
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
    /// voxctl's state dir [env: VOXCTL_STATE_DIR] [default: $XDG_STATE_HOME/voxctl or
    /// ~/.local/state/voxctl].
    // The environment variable is read in `commands::state_dir`, not by clap: clap counts an
    // env-set global as given and would print it in every subcommand's usage line
    // (`voxctl split --state-dir <DIR> <FILE>`).
    #[arg(long, global = true, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub state_dir: Option<PathBuf>,
}

/// The command line of `voxctl lease ...` alone: [`Cli`] with only its `lease` subcommand, so
/// a `lease run` (one start per guarded command) does not build and propagate the global
/// options into every other subcommand's arguments. Its name, version, settings and `lease`
/// tree are [`Cli`]'s (a test compares the two trees' help), so help, errors and the parsed
/// [`LeaseArgs`] are the same.
#[derive(Debug, Parser)]
#[command(name = "voxctl", version, propagate_version = true, after_help = crate::exit_codes::help())]
pub struct LeaseCli {
    /// Options every subcommand accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The one subcommand.
    #[command(subcommand)]
    pub command: LeaseOnly,
}

/// The `lease` subcommand of [`Command`], alone (see [`LeaseCli`]).
#[derive(Debug, Subcommand)]
pub enum LeaseOnly {
    /// Hold TTL leases with fencing tokens: serialize shell scripts across invocations.
    Lease(LeaseArgs),
}

impl From<LeaseCli> for Cli {
    fn from(c: LeaseCli) -> Cli {
        let LeaseOnly::Lease(args) = c.command;
        Cli {
            global: c.global,
            command: Command::Lease(args),
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Swap the running backend for an installed variant, safely.
    ///
    /// Checks the new binary (`--version`) before stopping anything. An explicitly named
    /// variant that is missing or fails that check is an error (exit 1, nothing stopped);
    /// only `--variant auto`, or `--fallback cpu`, falls back to cpu with a warning. Writes
    /// STATE/restart-marker.json (never the updater's relaunch marker); stops the old
    /// backend's process group (SIGTERM, then SIGKILL after --stop-timeout); waits until
    /// nothing listens on the port; starts the new binary detached (`--data-dir D --port P`
    /// plus the arguments after `--`, output appended to STATE/logs/); polls the health URL.
    /// If the new backend exits or is not healthy within --ready-timeout, it is stopped and
    /// the previous one is started again with its own port, arguments and limit (exit 7; exit
    /// 1 if that fails too, saying what runs). Like `systemctl restart`, the running backend's
    /// port, health URL and extra arguments are kept unless given (or --reset-config). A
    /// concurrent restart of the same app exits 4 unless --wait is given.
    Restart(RestartArgs),
    /// Download, verify and install a backend variant from a release (parallel, resumable).
    #[command(after_help = FETCH_AFTER_HELP)]
    Fetch(FetchArgs),
    /// Split a release file into parts under GitHub's 2 GiB asset limit, with SHA-256 files
    /// and manifests (the parts are what `split -b N -d -a 2` writes).
    Split(SplitArgs),
    /// Write the chunk index (S.chunks) of an existing release file, so that `fetch` can
    /// update it by downloading only the chunks that changed (`split` writes one itself).
    Index(IndexArgs),
    /// Sign files with a minisign secret key: writes FILE.minisig (and Tauri's FILE.sig with
    /// --tauri-sig), as `minisign -S` does.
    Sign(SignArgs),
    /// Verify files against SHA-256 checksums: one file, sha256sum/BSD-tag sums files, or a
    /// split release from its manifest.
    Verify(VerifyArgs),
    /// Show held slots, leases, installed variants, partial downloads and the running backend.
    ///
    /// The backend's port, health URL and extra arguments are shown, and "restart needed"
    /// when the installed version is not the one running. Exit 3 when a backend is recorded
    /// but not running (as `systemctl status`); 0 when it runs or none is recorded.
    ///
    /// With -v, each install's release and the sources that served its bytes ("served by
    /// mirror URL: 1.2 GiB") are listed under the table.
    Status(StatusArgs),
    /// Check everything the backend needs on this host: GPUs and the variants they can run,
    /// installed variants, partial downloads, the running backend, directories, free space.
    ///
    /// Each failing check names the command that fixes it. No GPU is not a failure (cpu is
    /// the variant for it). Exit 0 when no check fails, 1 otherwise.
    Doctor(DoctorArgs),
    /// Stop the running backend as restart does: SIGTERM to its process group (identity
    /// checked), SIGKILL after --stop-timeout, then wait until its port is released.
    ///
    /// Exit 0 also when nothing was running (as `systemctl stop`); 4 while a restart of the
    /// app runs (see --wait); 7 if the port stays in use.
    Stop(StopArgs),
    /// Uninstall a variant: its binary (or extracted directory), install record and partial
    /// download.
    ///
    /// Refuses (exit 5) while the backend runs that variant, unless --force stops it first.
    Remove(RemoveArgs),
    /// Clear a wedged previous instance of the app after an update, never a healthy one.
    Reap(ReapArgs),
    /// Hold TTL leases with fencing tokens: serialize shell scripts across invocations.
    Lease(LeaseArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Write the completion scripts and man pages into a directory (for packagers).
    #[command(hide = true)]
    Generate(GenerateArgs),
}

/// A variant on the command line: a concrete one, or `auto` (detect from the hardware).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VariantChoice {
    /// Detect: cuda if nvidia-smi lists a GPU, rocm if the kfd topology lists one, else cpu.
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
    /// ~/.local/share/{app}; ~/Library/Application Support/{app} on macOS;
    /// %LOCALAPPDATA%\\{app} on Windows].
    #[arg(long, env = "VOXCTL_DATA_DIR", value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub data_dir: Option<PathBuf>,
}

/// `voxctl restart`.
#[derive(Debug, Args)]
#[command(mut_arg("wait", |a| a.help(wait_help("another restart or stop of this app holds the slot"))))]
pub struct RestartArgs {
    /// The variant to start (`auto` falls back to cpu when the detected one is unusable).
    #[arg(
        long,
        value_enum,
        ignore_case = true,
        default_value = "auto",
        value_name = "VARIANT"
    )]
    pub variant: VariantChoice,
    /// Start this variant instead when the requested one is missing or fails its version
    /// check (only `cpu` makes sense; `--variant auto` implies `--fallback cpu`).
    #[arg(long, value_name = "VARIANT", value_parser = variant(), ignore_case = true)]
    pub fallback: Option<Variant>,
    /// The app and its data dir.
    #[command(flatten)]
    pub app: AppArgs,
    /// The port the backend serves on (passed as `--port`; 1-65535) [default: the running
    /// backend's, else 17493].
    #[arg(long, value_name = "N", value_parser = parse_port, allow_hyphen_values = true)]
    pub port: Option<u16>,
    /// The health URL to poll (http:// only) [default: the running backend's while the port
    /// stays the same, else http://127.0.0.1:{port}/health].
    #[arg(long, value_name = "URL", value_hint = ValueHint::Other)]
    pub health_url: Option<String>,
    /// Do not keep the running backend's port, health URL and extra arguments: start from the
    /// defaults (what this command line gives still applies).
    #[arg(long)]
    pub reset_config: bool,
    /// How long the old backend gets after SIGTERM before SIGKILL, and then the port to be
    /// released (e.g. 10s, 500ms; more than 0).
    #[arg(long, default_value = "10s", value_parser = stop_timeout, value_name = "DUR", allow_hyphen_values = true)]
    pub stop_timeout: Duration,
    /// How long the new backend gets to answer 200 on the health URL (more than 0; a rollback
    /// to the previous backend gets at least 120s, and at least twice its recorded start-up
    /// time).
    #[arg(long, default_value = "120s", value_parser = positive(
        "no backend can answer its health check in no time"
    ), value_name = "DUR", allow_hyphen_values = true)]
    pub ready_timeout: Duration,
    /// The version the new binary must report (`BIN --version`) [default: the version
    /// recorded when it was fetched].
    #[arg(long, value_name = "V")]
    pub expect_version: Option<String>,
    /// What to do while another restart or stop of this app runs.
    #[command(flatten)]
    pub wait: WaitArg,
    /// Extra arguments for the backend, after `--` [default: the running backend's].
    #[arg(last = true, value_name = "BACKEND_ARGS")]
    pub backend_args: Vec<String>,
}

/// The public keys trusted to sign releases (fetch, verify). All sources together.
#[derive(Debug, Args, Clone, Default)]
pub struct KeyArgs {
    /// Trust this minisign public key: the base64 key line (as `minisign -G` prints it), or
    /// Tauri's base64 of the whole .pub file (as in tauri.conf.json). Repeatable; the keys of
    /// every source (also the VOXCTL_PUBKEY env var) are trusted together.
    #[arg(long, value_name = "KEY")]
    pub pubkey: Vec<String>,
    /// Trust the key in this minisign .pub file (repeatable).
    #[arg(long, value_name = "PATH")]
    pub pubkey_file: Vec<PathBuf>,
    /// Trust the updater key of this Tauri config: plugins.updater.pubkey (v2) or
    /// tauri.updater.pubkey (v1).
    #[arg(long, value_name = "PATH")]
    pub tauri_conf: Vec<PathBuf>,
}

const FETCH_AFTER_HELP: &str = "\
Release layouts tried in order (S = asset without .exe):
  S.manifest.json; S.manifest + S.sha256; ASSET + S.sha256;
  S.tar.gz + S.tar.gz.sha256
A layout without a SHA-256 is refused (exit 3). The installed path is
printed on stdout.
Signatures: with a public key trusted (--pubkey, --pubkey-file,
--tauri-conf, VOXCTL_PUBKEY), the file that pins the release
(S.manifest.json, else S.sha256, else S.tar.gz.sha256) must have a valid
X.minisig or Tauri X.sig by one of them; a signature over the asset or
archive itself (A.minisig, A.sig) is accepted when it is the only one.
Missing or bad: exit 3, nothing installed. Without a key the release is
installed unauthenticated, with a warning.
Retries are bounded per part for the whole run:
--retries failed attempts, refilled only by new data (at most 16 times).
Free space is checked before anything is allocated. Before
downloading, a release that states hardware requirements (split
--cuda-arch-list, --min-driver, --rocm-gfx) is checked against the GPUs
found (nvidia-smi, the kfd topology): a variant no GPU here can run is
refused (exit 5; --skip-compat-check downloads anyway), and --variant
auto takes cpu instead, saying why. VOXCTL_SYSFS_ROOT replaces /sys for
the kfd topology (for testing).
Exit codes: 0 installed or already installed, 1 network failure or too
little free space, 3 checksum or release data bad, 4 another fetch of
the asset is running (see --wait; also when --wait DUR runs out),
5 the hardware cannot run the release, 130 interrupted (partial data
kept for resume).";

/// `voxctl fetch`.
#[derive(Debug, Args)]
#[command(mut_arg("wait", |a| a.help(wait_help(FETCH_BUSY)).long_help(fetch_wait_help())))]
pub struct FetchArgs {
    /// The variant to install.
    #[arg(
        long,
        value_enum,
        ignore_case = true,
        default_value = "auto",
        value_name = "VARIANT"
    )]
    pub variant: VariantChoice,
    /// The app and its data dir (variants go to DIR/backends).
    #[command(flatten)]
    pub app: AppArgs,
    /// The release: an http(s):// base URL, a file:// URL or a directory [default: the
    /// voicebox GitHub release, latest or --tag].
    #[arg(long, env = "VOXCTL_SOURCE", value_name = "URL|DIR", value_hint = ValueHint::DirPath)]
    pub source: Option<String>,
    /// A mirror of the release (http(s)://, file:// or a directory), asked for the asset's
    /// bytes before --source, in the order given; repeatable [env: VOXCTL_MIRRORS, space
    /// separated]. Manifests, checksums and signatures still come from --source, and every
    /// byte from a mirror is checked against them: one serving a wrong byte is named and
    /// skipped for the rest of the run, one that fails hands over to the next source.
    #[arg(long = "mirror", env = "VOXCTL_MIRRORS", value_delimiter = ' ', value_name = "URL|DIR", hide_env = true, value_hint = ValueHint::DirPath)]
    pub mirrors: Vec<String>,
    /// The release tag: selects the GitHub release when no --source is given; recorded as
    /// the installed version unless the release's signed manifest states one.
    #[arg(long)]
    pub tag: Option<String>,
    /// Parts downloaded at the same time (1-64).
    #[arg(long, default_value_t = 4, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64), allow_hyphen_values = true)]
    pub jobs: u16,
    /// Retries per request after network errors, 408, 429 and 5xx answers (exponential
    /// backoff with jitter; Retry-After is honoured up to 60s). Per part and source for the whole run, refilled
    /// only by new data, so a part gets at most 17 x N retries.
    #[arg(long, default_value_t = 5, value_name = "N", value_parser = clap::value_parser!(u16).range(0..=100), allow_hyphen_values = true)]
    pub retries: u16,
    /// The first retry delay; it doubles each retry, up to 60s (0: retry at once).
    #[arg(long, default_value = "1s", env = "VOXCTL_RETRY_DELAY", value_parser = voxctl::duration::parse, value_name = "DUR", allow_hyphen_values = true)]
    pub retry_delay: std::time::Duration,
    /// Time allowed to connect to a server (more than 0).
    #[arg(long, default_value = "30s", env = "VOXCTL_CONNECT_TIMEOUT", value_parser = positive(
        "no connection can be made in no time"
    ), value_name = "DUR", allow_hyphen_values = true)]
    pub connect_timeout: std::time::Duration,
    /// Longest silence allowed while receiving data (more than 0; no setting without a limit:
    /// a silent server would hang the fetch forever); a body must also average 1 KiB/s over
    /// each such window.
    #[arg(long, default_value = "60s", env = "VOXCTL_READ_TIMEOUT", value_parser = positive(
        "every download would time out before its first byte"
    ), value_name = "DUR", allow_hyphen_values = true)]
    pub read_timeout: std::time::Duration,
    /// What to do while another fetch of the same asset runs.
    #[command(flatten)]
    pub wait: WaitArg,
    /// Download and install even if the installed file already matches the release (the
    /// compatibility check still runs).
    #[arg(long)]
    pub force: bool,
    /// The keys trusted to sign the release.
    #[command(flatten)]
    pub keys: KeyArgs,
    /// Install a signed release even when its version is older than the installed one
    /// (otherwise refused, exit 5). Only a signed manifest's app_version counts, never --tag.
    #[arg(long, conflicts_with = "repair")]
    pub allow_downgrade: bool,
    /// Bring a damaged install back to its recorded build, from the release it came from
    /// (the install record's source; --source is not used): files are checked first, and
    /// nothing is downloaded when all are intact; an archive install gets only its broken
    /// files replaced.
    #[arg(long, conflicts_with_all = ["force", "tag", "skip_compat_check"])]
    pub repair: bool,
    /// Download even if the release states hardware requirements (CUDA archs, driver, ROCm
    /// targets) that no GPU here meets.
    #[arg(long)]
    pub skip_compat_check: bool,
    /// How long each hardware probe (nvidia-smi, the kfd topology) may take (more than 0).
    #[arg(long, default_value = "5s", value_parser = detect_timeout, value_name = "DUR", allow_hyphen_values = true)]
    pub detect_timeout: std::time::Duration,
    /// The most an archive release (S.tar.gz) may expand to, uncompressed, such as 40GB or
    /// 32GiB; beyond it the archive is refused (exit 3) [default: 20 times the archive's
    /// size, at least 16 MiB].
    #[arg(long, value_name = "SIZE", value_parser = parse_max_size, allow_hyphen_values = true)]
    pub max_size: Option<u64>,
    /// A local file to take unchanged chunks from when the release has a chunk index
    /// (S.chunks), besides the installed asset of the variant, which is always tried (an
    /// older build kept elsewhere, a copy on another disk). Repeatable. Every chunk taken is
    /// hashed, and the whole file's SHA-256 decides before install.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, value_parser = parse_seed)]
    pub seed: Vec<std::path::PathBuf>,
    /// Download the whole asset even when the release has a chunk index and local files
    /// hold some of its chunks.
    #[arg(long, conflicts_with = "seed")]
    pub no_delta: bool,
    /// Print what would be downloaded and what reused (reading the installed asset and the
    /// seeds), then stop: nothing is downloaded or written.
    #[arg(long, conflicts_with = "repair")]
    pub dry_run: bool,
}

/// Parses `--seed FILE`: an existing regular file (a directory or a missing path is a
/// usage error, exit 2, named).
fn parse_seed(text: &str) -> Result<std::path::PathBuf, voxctl::Error> {
    let path = std::path::PathBuf::from(text);
    match std::fs::metadata(&path) {
        Ok(m) if m.is_file() => Ok(path),
        Ok(_) => Err(voxctl::Error::Usage(format!(
            "seed {text} is not a regular file"
        ))),
        Err(e) => Err(voxctl::Error::Usage(format!("seed {text}: {e}"))),
    }
}

/// Parses `--max-size` as GNU `split -b` reads a size (see [`voxctl::size`]: `K`/`M`/`G` and
/// `KiB`/`MiB`/`GiB` are powers of 1024, `KB`/`MB`/`GB` powers of 1000, as for `--part-size`),
/// at least 1 byte.
fn parse_max_size(text: &str) -> Result<u64, Hinted> {
    let hint = "give the most the archive may expand to, such as 40GB or 32GiB";
    match voxctl::size::parse(text) {
        Ok(0) => Err(hinted(
            voxctl::Error::Usage(format!("invalid size {text:?}: must be at least 1 byte")),
            hint,
        )),
        Ok(n) => Ok(n),
        Err(e) => Err(hinted(e, hint)),
    }
}

/// `voxctl split FILE`.
#[derive(Debug, Args)]
#[command(
    after_help = "Writes S.part00[.exe], S.part01[.exe], ..., then S.chunks (the chunk index of \
the whole file, for differential updates; see `voxctl index`), S.sha256 (one sha256sum line for \
the whole file), S.manifest (the part names, one a line) and S.manifest.json (sizes, offsets and \
SHA-256 of every part, and the index's size and SHA-256), where S is the asset name without a \
trailing .exe. Every output is written under a temporary name and renamed when complete, the \
manifests last."
)]
pub struct SplitArgs {
    /// The file to split.
    #[arg(value_hint = ValueHint::FilePath)]
    pub file: PathBuf,
    /// Size of each part (the last may be smaller), spelled as for GNU `split -b`, which cuts
    /// the same parts: digits are bytes; K, M, G (or KiB, MiB, GiB) are powers of 1024; KB,
    /// MB, GB powers of 1000; b is 512; whole numbers only (1900MB, not 1.9GB). From 1 byte to
    /// under 2 GiB. Recorded as `chunk_size` in the JSON manifest. Alias: --chunk-size.
    #[arg(
        long,
        visible_alias = "chunk-size",
        value_name = "SIZE",
        default_value = "1900000000",
        value_parser = parse_part_size,
        allow_hyphen_values = true
    )]
    pub part_size: u64,
    /// Directory to write the parts and manifests to (created if missing).
    #[arg(long, value_name = "DIR", default_value = "dist", value_hint = ValueHint::DirPath)]
    pub out: PathBuf,
    /// The asset name that parts and manifests are named after [default: FILE's name].
    #[arg(long, value_name = "NAME")]
    pub asset: Option<String>,
    /// The app version to record in the JSON manifest.
    #[arg(long, value_name = "V")]
    pub app_version: Option<String>,
    /// The variant to record in the JSON manifest.
    #[arg(long, value_name = "VARIANT", value_parser = variant().map(|v| v.to_string()), ignore_case = true)]
    pub variant: Option<String>,
    /// The CUDA architectures the build has code for, in TORCH_CUDA_ARCH_LIST syntax (e.g.
    /// "8.0;8.6;8.9;9.0;12.0+PTX"); `fetch` refuses a GPU this list cannot run on.
    #[arg(long, value_name = "LIST")]
    pub cuda_arch_list: Option<voxctl::gpu::CudaArchList>,
    /// The oldest NVIDIA driver the build runs on (e.g. 525.60.13).
    #[arg(long, value_name = "VERSION")]
    pub min_driver: Option<voxctl::gpu::DriverVersion>,
    /// The ROCm gfx targets the build has code for (e.g. "gfx1030;gfx1100").
    #[arg(long, value_name = "LIST")]
    pub rocm_gfx: Option<voxctl::gpu::GfxList>,
    /// Replace existing outputs (and remove parts numbered beyond the new last one).
    #[arg(long)]
    pub force: bool,
    /// Write no chunk index (S.chunks; `fetch` then downloads updates whole). An existing
    /// S.chunks still counts as an output: refused without --force, removed with it, so no
    /// index describes another build.
    #[arg(long)]
    pub no_index: bool,
    /// fsync every output before it is renamed, so that not even a power loss can leave a
    /// manifest naming a part whose data is not on disk (slower: waits for the disk).
    #[arg(long)]
    pub fsync: bool,
    /// Sign S.manifest.json and S.sha256 with this minisign secret key (minisign's file or
    /// Tauri's base64 of it), writing S.manifest.json.minisig and S.sha256.minisig. The
    /// password comes from VOXCTL_SIGN_PASSWORD or a prompt on a terminal.
    #[arg(long, value_name = "SECRET_KEY_FILE")]
    pub sign: Option<PathBuf>,
    /// With --sign: also write Tauri's form of each signature (X.sig, base64).
    #[arg(long, requires = "sign")]
    pub tauri_sig: bool,
}

/// `voxctl index FILE`.
#[derive(Debug, Args)]
#[command(
    after_help = "Writes DIR/S.chunks, S being the asset name without a trailing .exe: \
the file cut into content-defined chunks (FastCDC 2020), each chunk's length and BLAKE3-256, \
with the file's size and SHA-256 (format in README, \"Chunk index format\"). The bytes are \
those `voxctl split` writes for the same file. A release with S.manifest.json should name the \
index there (split does; --json prints its size and SHA-256); without a JSON manifest the index \
is only a hint: the whole-file SHA-256 decides. An existing S.chunks is refused (exit 1) unless \
--force."
)]
pub struct IndexArgs {
    /// The release file (the whole asset) to index.
    #[arg(value_hint = ValueHint::FilePath)]
    pub file: PathBuf,
    /// Directory to write S.chunks to (created if missing) [default: FILE's directory].
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub out: Option<PathBuf>,
    /// The asset name that names the index [default: FILE's name].
    #[arg(long, value_name = "NAME")]
    pub asset: Option<String>,
    /// The average chunk size: a power of two from 256 bytes to 4 MiB, spelled as for
    /// --part-size (16K, 64KiB); chunks are at least a quarter and at most four times it
    /// [default: 16K, what split uses].
    #[arg(long, value_name = "SIZE", value_parser = parse_avg_size, allow_hyphen_values = true)]
    pub avg_size: Option<voxctl::chunks::Params>,
    /// Replace an existing S.chunks.
    #[arg(long)]
    pub force: bool,
}

/// `voxctl sign FILE...`.
#[derive(Debug, Args)]
#[command(
    after_help = "The password of an encrypted key comes from VOXCTL_SIGN_PASSWORD or a \
prompt on a terminal (never an argument); without either, exit 5. The trusted comment is \
minisign's: timestamp:N, file:NAME, hashed. Check with `minisign -Vm FILE -p KEY.pub` or \
`voxctl verify`."
)]
pub struct SignArgs {
    /// The files to sign.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// The minisign secret key (as `minisign -G` or `tauri signer generate` writes it).
    #[arg(
        short = 's',
        long = "key",
        value_name = "SECRET_KEY_FILE",
        env = "VOXCTL_SIGN_KEY"
    )]
    pub key: PathBuf,
    /// Also write Tauri's form of each signature (FILE.sig: base64 of FILE.minisig).
    #[arg(long)]
    pub tauri_sig: bool,
}

/// `voxctl verify`.
#[derive(Debug, Args)]
#[command(after_help = "Modes:
  voxctl verify FILE --sha256 HEX   one file against a digest
  voxctl verify -c [SUMS...]        the files listed in sha256sum files
  voxctl verify --manifest PATH     a split release: S.manifest.json, or
                                    S.manifest with S.sha256 beside it
  voxctl verify --installed [VARIANT]
                                    what fetch installed (every variant, or
                                    VARIANT), every file re-hashed against
                                    its install record; `voxctl fetch
                                    --repair` heals what fails

-c reads sums files exactly as `sha256sum -c` does (text `HEX  NAME`,
binary `HEX *NAME`, BSD tag `SHA256 (NAME) = HEX`, escaped names); names
are relative to the current directory (with --relative-to-sums, to each
sums file's directory); no SUMS, or -, reads stdin.

Prints `NAME: OK`, `NAME: FAILED` or `NAME: MISSING (tried PATH)` per
file (-q prints only failures). Exits 3 if a check fails, a checksum is
missing or malformed, or a sums file has no checksum line (the others
are still checked); 2 for a malformed --sha256.
With a public key trusted (--pubkey, --pubkey-file, --tauri-conf,
VOXCTL_PUBKEY), -c and --manifest first check the signature beside the
sums file or manifest (X.minisig, else Tauri's X.sig; for S.manifest,
that of S.sha256): missing or bad is exit 3. Sums read from standard
input cannot be authenticated: a key option with them is a usage error.")]
pub struct VerifyArgs {
    /// The file to check (with --sha256), or the sums files (with -c; none or - reads stdin).
    #[arg(value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub files: Vec<PathBuf>,
    /// The expected SHA-256 of FILE (64 hex digits; anything else is a usage error, exit 2).
    #[arg(long, value_name = "HEX", conflicts_with_all = ["check", "manifest"], value_parser = parse_sha256)]
    pub sha256: Option<voxctl::checksum::Sha256>,
    /// Read checksums from the FILEs (or stdin) and check the files they list.
    #[arg(short, long, conflicts_with = "manifest")]
    pub check: bool,
    /// Check a split release: each part, and the whole asset by streaming the parts in order.
    #[arg(long, value_name = "PATH", value_hint = ValueHint::FilePath)]
    pub manifest: Option<PathBuf>,
    /// With -c: resolve relative names against each sums file's directory (stdin: the
    /// current directory) instead of the current directory, e.g. a downloaded S.sha256 beside
    /// the asset it names: `verify -c --relative-to-sums dl/S.sha256`. split's --out dir holds
    /// only the parts: check those with --manifest.
    #[arg(long, requires = "check")]
    pub relative_to_sums: bool,
    /// With -c: skip files that do not exist instead of failing (a sums file with no file
    /// verified still fails).
    #[arg(long, requires = "check")]
    pub ignore_missing: bool,
    /// With -c: a malformed line is a failure, not a warning.
    #[arg(long, requires = "check")]
    pub strict: bool,
    /// With -c: print no result lines and no summary, as `sha256sum -c --status`; the exit
    /// status says it all (files that cannot be read are still named on stderr).
    #[arg(long, requires = "check", overrides_with = "warn")]
    pub status: bool,
    /// With -c: name each improperly formatted line on stderr, as `sha256sum -c -w`.
    #[arg(short, long, requires = "check", overrides_with = "status")]
    pub warn: bool,
    /// The keys trusted to sign the sums files or the manifest.
    #[command(flatten)]
    pub keys: KeyArgs,
    /// Check installed variants (all, or VARIANT: cpu, cuda, rocm) against their install
    /// records, re-hashing every file (each file of an archive install).
    #[arg(
        long,
        value_name = "VARIANT",
        num_args = 0..=1,
        default_missing_value = "all",
        value_parser = PossibleValuesParser::new(["all", "cpu", "cuda", "rocm"])
            .map(|v| v.to_ascii_lowercase()),
        ignore_case = true,
        hide_possible_values = true,
        conflicts_with_all = ["check", "manifest", "sha256"]
    )]
    pub installed: Option<String>,
    /// With --installed: the app and its data dir.
    #[command(flatten)]
    pub app: AppArgs,
}

/// A digest typed on the command line: a malformed one is the user's typo, a usage error
/// (exit 2), unlike a malformed digest read from a file (an integrity failure, exit 3).
fn parse_sha256(text: &str) -> Result<voxctl::checksum::Sha256, voxctl::Error> {
    voxctl::checksum::Sha256::parse(text).map_err(|e| voxctl::Error::Usage(e.to_string()))
}

/// `voxctl status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The app and data dir whose installed variants and backend are shown.
    #[command(flatten)]
    pub app: AppArgs,
}

/// `voxctl doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The app and its data dir.
    #[command(flatten)]
    pub app: AppArgs,
    /// Re-hash every installed file instead of comparing sizes with the install record.
    #[arg(long)]
    pub deep: bool,
    /// How long each hardware probe (nvidia-smi, the kfd topology) may take (more than 0).
    #[arg(long, default_value = "5s", value_parser = detect_timeout, value_name = "DUR", allow_hyphen_values = true)]
    pub detect_timeout: Duration,
}

/// `voxctl stop`.
#[derive(Debug, Args)]
#[command(mut_arg("wait", |a| a.help(wait_help("a restart of this app holds the slot"))))]
pub struct StopArgs {
    /// The app whose backend is stopped.
    #[arg(
        long,
        default_value = "voicebox",
        env = "VOXCTL_APP",
        value_name = "NAME"
    )]
    pub app: String,
    /// How long the backend gets after SIGTERM before SIGKILL, and then its port to be
    /// released (more than 0).
    #[arg(long, default_value = "10s", value_parser = stop_timeout, value_name = "DUR", allow_hyphen_values = true)]
    pub stop_timeout: Duration,
    /// What to do while a restart of the app runs.
    #[command(flatten)]
    pub wait: WaitArg,
}

/// `voxctl remove VARIANT`.
#[derive(Debug, Args)]
#[command(mut_arg("wait", |a| a.help(wait_help("a fetch of the variant is running"))))]
pub struct RemoveArgs {
    /// The variant to uninstall.
    #[arg(value_name = "VARIANT", value_parser = variant(), ignore_case = true)]
    pub variant: Variant,
    /// The app and its data dir.
    #[command(flatten)]
    pub app: AppArgs,
    /// If the backend runs this variant, stop it first (as `voxctl stop`) instead of exiting 5.
    #[arg(long)]
    pub force: bool,
    /// Remove only the variant's partial download, keeping what is installed.
    #[arg(long)]
    pub partial_only: bool,
    /// With --force: how long the backend gets after SIGTERM before SIGKILL (more than 0).
    #[arg(long, default_value = "10s", value_parser = stop_timeout, value_name = "DUR", allow_hyphen_values = true)]
    pub stop_timeout: Duration,
    /// What to do while a fetch of the variant runs (it holds the partial download and is
    /// about to install).
    #[command(flatten)]
    pub wait: WaitArg,
}

/// `voxctl completions SHELL`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write the script for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `voxctl generate DIR`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Where to write `completions/` and `man/`.
    #[arg(default_value = ".", value_hint = ValueHint::DirPath)]
    pub dir: PathBuf,
}

/// `voxctl reap`: reap the holder of the app's lock when a fresh relaunch marker names it, or
/// (`--stale-exe`) the processes still running a replaced copy of a binary.
#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    group = clap::ArgGroup::new("holder").required(true).multiple(false),
    after_help = REAP_HELP
)]
pub struct ReapArgs {
    /// `voxctl reap mark`.
    #[command(subcommand)]
    pub command: Option<ReapCommand>,
    /// The app's `SingletonLock` symlink (target `<hostname>-<pid>`); on Windows the profile's
    /// `lockfile` (held open without sharing by the running app).
    #[arg(long, value_name = "PATH", group = "holder", value_hint = ValueHint::FilePath)]
    pub lock: Option<PathBuf>,
    /// A pidfile naming the app's pid (instead of --lock).
    #[arg(long, value_name = "PATH", group = "holder", value_hint = ValueHint::FilePath)]
    pub pidfile: Option<PathBuf>,
    /// Reap the processes still running a replaced or deleted copy of the binary at PATH
    /// (Linux), instead of a lock holder.
    #[arg(long, value_name = "PATH", group = "holder", value_hint = ValueHint::FilePath, conflicts_with_all = ["marker", "max_marker_age"])]
    pub stale_exe: Option<PathBuf>,
    /// The relaunch marker [default: STATE/relaunch-marker.json].
    #[arg(long, value_name = "PATH", value_hint = ValueHint::FilePath)]
    pub marker: Option<PathBuf>,
    /// Ignore a marker older than this (more than 0) [default: 5m].
    #[arg(long, value_name = "DUR", value_parser = positive(
        "every marker would be too old, so nothing would ever be reaped"
    ), allow_hyphen_values = true)]
    pub max_marker_age: Option<Duration>,
    /// How long to wait, sending nothing, for the holder to exit or release the lock (0: send
    /// SIGTERM at once).
    #[arg(long, value_name = "DUR", default_value = "3s", value_parser = voxctl::duration::parse, allow_hyphen_values = true)]
    pub teardown_grace: Duration,
    /// How long to wait after SIGTERM before SIGKILL (0: SIGKILL at once).
    #[arg(long, value_name = "DUR", default_value = "5s", value_parser = voxctl::duration::parse, allow_hyphen_values = true)]
    pub term_grace: Duration,
    /// Show the decision and what would be sent; consume nothing, signal nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// The exit codes of `voxctl reap`, shown under its `--help`.
const REAP_HELP: &str = "\
Exit codes: 0 reaped, or nothing to reap (no holder, holder gone, no
usable marker); 5 a live holder exists but a guard refused, a
confirmation was needed without a TTY or --yes, or the --lock or
--pidfile path does not exist; 7 the process was still running after
SIGKILL; 130 interrupted.
The marker is consumed by every run except --dry-run, a refused or
declined confirmation and a lock path that does not exist.";

/// The subcommands of `voxctl reap`.
#[derive(Debug, Subcommand)]
pub enum ReapCommand {
    /// Record the instance about to be replaced (run by the updater just before relaunching).
    Mark(ReapMarkArgs),
}

/// `voxctl reap mark`.
#[derive(Debug, Args)]
pub struct ReapMarkArgs {
    /// The pid of the instance being replaced [default: voxctl's parent].
    #[arg(long, value_name = "PID", value_parser = parse_pid, allow_hyphen_values = true)]
    pub pid: Option<i32>,
    /// Where to write the marker [default: STATE/relaunch-marker.json].
    #[arg(long, value_name = "PATH", value_hint = ValueHint::FilePath)]
    pub marker: Option<PathBuf>,
}

/// `voxctl lease ...`.
#[derive(Debug, Args)]
pub struct LeaseArgs {
    /// Where leases live: `file` (this machine's state dir) or
    /// `etcd://HOST:PORT[,HOST:PORT...][/PREFIX]` (`etcds://` for TLS) to share them between
    /// machines. etcd credentials come from VOXCTL_ETCD_CACERT, VOXCTL_ETCD_CERT,
    /// VOXCTL_ETCD_KEY, VOXCTL_ETCD_USER and VOXCTL_ETCD_PASSWORD(_FILE), never the URL.
    #[arg(
        long,
        global = true,
        env = "VOXCTL_LEASE_STORE",
        default_value = "file",
        value_name = "URL"
    )]
    pub store: StoreSpec,
    /// The lease operation.
    #[command(subcommand)]
    pub command: LeaseCommand,
}

/// The lease operations.
#[derive(Debug, Subcommand)]
pub enum LeaseCommand {
    /// Acquire a lease and print its fencing token (exit 4 if it is still held after --wait).
    Acquire(LeaseAcquireArgs),
    /// Extend a held lease by its TTL from now (exit 6 if TOKEN is not the current token, or
    /// on etcd if the lease expired).
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
    /// VOXCTL_LEASE_TOKEN set, and inherits an flock on the lease's liveness file: once
    /// voxctl and everything it started are gone, the lease is abandoned and the next
    /// acquire takes it over at once. SIGINT, SIGTERM and SIGHUP are forwarded to it. If a renewal
    /// is refused (voxctl was paused past the TTL and the lease was taken over), the group
    /// gets SIGTERM, then SIGKILL after --kill-grace, and voxctl exits 6. If the store stops
    /// answering, the group gets SIGTERM at the lease's deadline minus --kill-grace minus a
    /// safety margin and SIGKILL before the deadline, and voxctl exits 6. With --json the
    /// command's stdout goes to stderr, and stdout gets one result document once it ends.
    Run(LeaseRunArgs),
}

/// Options shared by acquire and run.
#[derive(Debug, Args)]
#[command(mut_arg("wait", |a| a.help(wait_help("someone else holds the lease"))))]
pub struct LeaseHoldArgs {
    /// The lease's name: 1-128 characters from A-Z a-z 0-9 . _ -
    #[arg(value_name = "NAME")]
    pub name: LeaseName,
    /// How long the lease lasts unless renewed (500ms, 30s, 5m; etcd rounds up to whole
    /// seconds, at least its minimum, usually 2s).
    #[arg(long, default_value = "30s", value_name = "DUR", value_parser = ttl, allow_hyphen_values = true)]
    pub ttl: Duration,
    /// What to do while someone else holds the lease.
    #[command(flatten)]
    pub wait: WaitArg,
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
    /// The process that owns the lease: when that exact process (pid, start time, pid
    /// namespace, boot) is gone on this host, the lease is abandoned and can be taken over at
    /// once, before its TTL runs out. Without it only the TTL counts.
    #[arg(long, value_name = "PID", value_parser = parse_pid, allow_hyphen_values = true)]
    pub owner_pid: Option<i32>,
}

/// `voxctl lease renew`.
#[derive(Debug, Args)]
pub struct LeaseRenewArgs {
    /// The lease's name.
    #[arg(value_name = "NAME")]
    pub name: LeaseName,
    /// The fencing token printed by acquire.
    #[arg(long, value_name = "TOKEN", value_parser = parse_token, allow_hyphen_values = true)]
    pub token: Token,
    /// The new TTL [default: the lease's current TTL].
    #[arg(long, value_name = "DUR", value_parser = ttl, allow_hyphen_values = true)]
    pub ttl: Option<Duration>,
}

/// `voxctl lease release`.
#[derive(Debug, Args)]
pub struct LeaseReleaseArgs {
    /// The lease's name.
    #[arg(value_name = "NAME")]
    pub name: LeaseName,
    /// The fencing token printed by acquire.
    #[arg(long, value_name = "TOKEN", value_parser = parse_token, allow_hyphen_values = true)]
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
    #[arg(long, default_value = "5s", value_name = "DUR", value_parser = kill_grace, allow_hyphen_values = true)]
    pub kill_grace: Duration,
    /// The command and its arguments (after `--`).
    #[arg(
        required = true,
        trailing_var_arg = true,
        value_name = "COMMAND",
        value_hint = ValueHint::CommandWithArguments
    )]
    pub command: Vec<OsString>,
}

/// `--wait [DUR]`, one grammar for every command that can meet a busy slot or lease (fetch,
/// restart, stop, lease acquire, lease run), read as `flock -w 10` and `timeout 10` read
/// theirs:
///
/// | given | [`Wait`] |
/// |---|---|
/// | nothing | `Never`: busy exits 4 at once |
/// | `--wait` | `Forever`: until it is free (or Ctrl-C) |
/// | `--wait DUR`, `-w DUR`, `--wait=DUR` | `AtMost(DUR)`, then exit 4 |
/// | `--wait 0` | `Never` |
///
/// A bare `--wait` takes the next word as its duration when that word is not an option, so
/// `voxctl lease acquire --wait job` is a usage error whose hint says to put the bare
/// `--wait` after the arguments ([`WaitParser`]); nothing is guessed.
#[derive(Debug, Args, Clone, Copy, Default)]
pub struct WaitArg {
    /// Each command sets its own help (`wait_help`) with `mut_arg("wait", ...)`.
    #[arg(
        short = 'w',
        long = "wait",
        num_args = 0..=1,
        value_name = "DUR",
        value_parser = WaitParser,
        allow_negative_numbers = true
    )]
    wait: Option<Option<Duration>>,
}

impl WaitArg {
    /// How long to wait for a busy slot or lease, as the library takes it.
    pub fn wait(&self) -> Wait {
        match self.wait {
            None => Wait::Never,
            Some(None) => Wait::Forever,
            Some(Some(limit)) if limit.is_zero() => Wait::Never,
            Some(Some(limit)) => Wait::AtMost(limit),
        }
    }
}

/// What `fetch --wait` waits for.
const FETCH_BUSY: &str = "another fetch of the same asset holds the slot";

/// `fetch --wait`'s long help: what a waiting fetch does besides waiting.
fn fetch_wait_help() -> String {
    format!(
        "{} While waiting it follows the holder's progress and finishes when the holder does \
         (taking over if it dies); a holder that shows no progress for 10s is reported once \
         (with `kill -CONT PID` for a stopped one).",
        wait_help(FETCH_BUSY)
    )
}

/// The help of `--wait` for a command that can meet `busy` ("someone else holds the lease").
fn wait_help(busy: &str) -> String {
    format!(
        "If {busy}, wait: with no DUR until it is free, with DUR (30s, 5m; a bare number is \
         seconds) at most that long, then exit 4. Without --wait (or with 0), exit 4 at once."
    )
}

/// The value parser of `--wait`: a duration ([`voxctl::duration::parse`]); anything else is
/// a usage error whose hint shows where a bare `--wait` goes in this command's line.
#[derive(Debug, Clone, Copy)]
pub struct WaitParser;

impl TypedValueParser for WaitParser {
    type Value = Duration;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Duration, clap::Error> {
        // `voxctl lease run NAME --wait -- COMMAND`: the positionals, the bare --wait after
        // them but before a command line (which takes every word after it).
        // clap names the program as it was invoked (`voxctl.exe` on Windows); the usage lines
        // say `voxctl`, and so does the hint.
        let bin = cmd.get_bin_name().unwrap_or("voxctl");
        let (program, rest) = bin.split_once(' ').unwrap_or((bin, ""));
        let program = program.strip_suffix(".exe").unwrap_or(program);
        let mut line = format!("{program} {rest}").trim_end().to_string();
        let mut tail = String::new();
        for p in cmd.get_positionals() {
            let name = p.get_value_names().and_then(|n| n.first());
            let name = name.map_or_else(|| p.get_id().to_string(), |n| n.to_string());
            if !(p.is_last_set() || p.is_trailing_var_arg_set()) {
                line = format!("{line} {name}");
            } else if p.is_required_set() {
                tail = format!(" -- {name}...");
            }
        }
        let hint = format!(
            "--wait takes the word after it as its duration (--wait 30s, -w 30, --wait=5m); to \
             wait with no limit, put the bare --wait after the arguments: `{line} --wait{tail}`"
        );
        // Through a function parser, which builds clap's "invalid value" error with the
        // `Hinted` as its source (clap has no public way to set one).
        let parse =
            move |text: &str| voxctl::duration::parse(text).map_err(|e| hinted(e, hint.clone()));
        parse.parse_ref(cmd, arg, value)
    }
}

/// `error` as a value parser's error with `hint` (printed as the `hint:` line).
fn hinted(error: impl Into<anyhow::Error>, hint: impl Into<String>) -> Hinted {
    Hinted {
        inner: error.into(),
        hint: hint.into(),
    }
}

/// How the hints spell a duration.
const DURATION_EXAMPLES: &str = "500ms, 30s, 5m, 1h 30m, or a bare number of seconds";

/// A value parser for a duration that must be more than zero, `zero` saying why (what a 0
/// would do).
fn positive(
    zero: &'static str,
) -> impl Fn(&str) -> Result<Duration, Hinted> + Clone + Send + Sync + 'static {
    move |text| match voxctl::duration::parse(text) {
        Ok(d) if d.is_zero() => Err(hinted(
            voxctl::Error::Usage(format!("invalid duration {text:?}: must be more than 0")),
            format!("with 0, {zero}; give a longer duration ({DURATION_EXAMPLES})"),
        )),
        Ok(d) => Ok(d),
        Err(e) => Err(hinted(e, format!("durations: {DURATION_EXAMPLES}"))),
    }
}

/// `--stop-timeout`.
fn stop_timeout(text: &str) -> Result<Duration, Hinted> {
    positive("the backend would get no time to exit, nor its port to be released")(text)
}

/// `--detect-timeout`.
fn detect_timeout(text: &str) -> Result<Duration, Hinted> {
    positive("every hardware probe would time out, so no GPU would be found")(text)
}

/// A lease's `--ttl` ([`voxctl::lease::parse_positive_duration`]: 1ms to a year).
fn ttl(text: &str) -> Result<Duration, Hinted> {
    voxctl::lease::parse_positive_duration(text).map_err(|e| {
        hinted(
            e,
            format!(
                "give how long the lease lasts unless renewed, such as 30s ({DURATION_EXAMPLES})"
            ),
        )
    })
}

/// `lease run --kill-grace` ([`voxctl::lease::parse_positive_duration`]).
fn kill_grace(text: &str) -> Result<Duration, Hinted> {
    voxctl::lease::parse_positive_duration(text).map_err(|e| {
        hinted(
            e,
            format!(
                "give the command time to exit after SIGTERM, such as 5s ({DURATION_EXAMPLES})"
            ),
        )
    })
}

/// `restart --port`: 1-65535.
fn parse_port(text: &str) -> Result<u16, Hinted> {
    let hint = "give the port the backend serves on, from 1 to 65535 (default 17493)";
    match text.trim().parse::<u16>() {
        Ok(0) => Err(hinted(
            voxctl::Error::Usage(
                "port 0 asks the system for any free port, which the health check cannot know"
                    .into(),
            ),
            hint,
        )),
        Ok(port) => Ok(port),
        Err(_) => Err(hinted(
            voxctl::Error::Usage(format!("{text:?} is not a port number")),
            hint,
        )),
    }
}

/// `--pid`, `--owner-pid`: a process id, more than 0 (0 and negative numbers name process
/// groups to kill(2), never one process).
fn parse_pid(text: &str) -> Result<i32, Hinted> {
    let hint = "give the process id of one running process, e.g. from `pgrep APP`";
    match text.trim().parse::<i32>() {
        Ok(pid) if pid > 0 => Ok(pid),
        Ok(pid) => Err(hinted(
            voxctl::Error::Usage(format!(
                "{pid} is not a process id (0 and negative numbers name process groups)"
            )),
            hint,
        )),
        Err(_) => Err(hinted(
            voxctl::Error::Usage(format!("{text:?} is not a process id")),
            hint,
        )),
    }
}

/// `--token`: a fencing token as `lease acquire` printed it.
fn parse_token(text: &str) -> Result<Token, Hinted> {
    text.parse::<Token>().map_err(|e| {
        hinted(
            e,
            "pass the token that `voxctl lease acquire` printed (VOXCTL_LEASE_TOKEN under `lease run`)",
        )
    })
}

/// `split --part-size` ([`voxctl::split::parse_part_size`], which has the hint).
fn parse_part_size(text: &str) -> Result<u64, Hinted> {
    voxctl::split::parse_part_size(text).map_err(|e| {
        let hint = crate::hint::of(&e, false).unwrap_or_default();
        hinted(e, hint)
    })
}

/// `index --avg-size`: a size ([`voxctl::size`]) that [`voxctl::chunks::Params::with_avg`]
/// accepts.
fn parse_avg_size(text: &str) -> Result<voxctl::chunks::Params, Hinted> {
    let hint = "give a power of two from 256 bytes to 4 MiB, e.g. 16K, 32K or 64K";
    let n = voxctl::size::parse(text).map_err(|e| hinted(e, hint))?;
    voxctl::chunks::Params::with_avg(u32::try_from(n).unwrap_or(u32::MAX))
        .map_err(|e| hinted(e, hint))
}

/// A variant (`cpu`, `cuda`, `rocm`), in any case, with the values listed for `--help` and the
/// completions.
fn variant() -> impl TypedValueParser<Value = Variant> {
    PossibleValuesParser::new(["cpu", "cuda", "rocm"])
        .try_map(|v| v.to_ascii_lowercase().parse::<Variant>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every command of `tree`, depth first, with its long help and its usage rendered.
    fn rendered(tree: &mut clap::Command, path: &str, out: &mut Vec<String>) {
        let path = format!("{path} {}", tree.get_name());
        out.push(format!("{path}\n{}", tree.render_long_help()));
        out.push(format!("{path}\n{}", tree.render_usage()));
        for sub in tree.get_subcommands_mut() {
            rendered(sub, &path, out);
        }
    }

    /// `voxctl lease ...` parses with [`LeaseCli`]: its `lease` tree must be [`Cli`]'s, or the
    /// help, errors and parsing of the lease commands would depend on how they were reached.
    #[test]
    fn lease_cli_has_the_full_lease_tree() {
        let lease_tree = |mut top: clap::Command| {
            top.build();
            let mut out = Vec::new();
            rendered(
                top.find_subcommand_mut("lease").unwrap(),
                "voxctl",
                &mut out,
            );
            out
        };
        let full = lease_tree(Cli::command());
        let alone = lease_tree(LeaseCli::command());
        assert!(full.len() > 10, "{full:?}");
        assert_eq!(alone, full);
        let (a, f) = (LeaseCli::command(), Cli::command());
        assert_eq!(
            (a.get_name(), a.get_version(), a.is_propagate_version_set()),
            (f.get_name(), f.get_version(), f.is_propagate_version_set())
        );
    }

    /// `fetch::Settings::new` promises an embedder the command's defaults: the flags' defaults
    /// and the library's `Default`s must stay one set of numbers.
    #[test]
    fn fetch_flag_defaults_are_the_library_defaults() {
        let cli = Cli::try_parse_from(["voxctl", "fetch", "--variant", "cpu"]).unwrap();
        let Command::Fetch(args) = cli.command else {
            panic!("not a fetch")
        };
        let dir = tempfile::tempdir().unwrap();
        let state = voxctl::state::StateDir::open(Some(&dir.path().join("state"))).unwrap();
        let source = voxctl::fetch::Source::parse(dir.path().to_str().unwrap()).unwrap();
        let settings = voxctl::fetch::Settings::new(
            "voicebox",
            voxctl::variant::Variant::Cpu,
            source,
            dir.path(),
            &state,
        );
        assert_eq!(usize::from(args.retries), settings.retry.retries);
        assert_eq!(args.retry_delay, settings.retry.min_delay);
        assert_eq!(args.connect_timeout, settings.net.connect_timeout);
        assert_eq!(args.read_timeout, settings.net.read_timeout);
        assert_eq!(usize::from(args.jobs), settings.jobs);
        assert_eq!(settings.asset, "voicebox-server-cpu");
        assert_eq!(settings.http_cache, Some(state.root().join("http-cache")));
    }

    /// The other commands' flag defaults and their settings' constructors are one set of
    /// numbers too.
    #[test]
    fn other_flag_defaults_are_the_library_defaults() {
        use voxctl::backend::{restart, stop};
        let dir = tempfile::tempdir().unwrap();
        let parse = |args: &[&str]| Cli::try_parse_from(args).unwrap().command;
        let Command::Restart(args) = parse(&["voxctl", "restart"]) else {
            panic!("not a restart")
        };
        let settings =
            restart::Settings::new("voicebox", voxctl::variant::Variant::Cpu, dir.path());
        assert_eq!(args.stop_timeout, settings.stop_timeout);
        assert_eq!(args.ready_timeout, settings.ready_timeout);
        let Command::Stop(args) = parse(&["voxctl", "stop"]) else {
            panic!("not a stop")
        };
        assert_eq!(args.stop_timeout, stop::Settings::new("voicebox").grace);
        let Command::Remove(args) = parse(&["voxctl", "remove", "cpu"]) else {
            panic!("not a remove")
        };
        let settings = stop::RemoveSettings::new("voicebox", voxctl::variant::Variant::Cpu);
        assert_eq!(args.stop_timeout, settings.stop.grace);
        let Command::Reap(args) = parse(&["voxctl", "reap", "--stale-exe", "/bin/x"]) else {
            panic!("not a reap")
        };
        let settings = voxctl::reap::Settings::new(voxctl::reap::Mode::StaleExe("/bin/x".into()));
        assert_eq!(args.teardown_grace, settings.graces.teardown);
        assert_eq!(args.term_grace, settings.graces.term);
        let Command::Split(args) = parse(&["voxctl", "split", "file"]) else {
            panic!("not a split")
        };
        let settings = voxctl::split::Settings::new("file".as_ref(), "dist".as_ref(), "file");
        assert_eq!(args.part_size, settings.chunk_size);
        assert_eq!(args.out, settings.out_dir);
    }
}
