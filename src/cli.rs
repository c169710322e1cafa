//! The command line: clap types only. Validation that needs more than clap's value parsers
//! happens in `src/commands/`, which turns these raw arguments into library settings.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueHint};
use voxctl::lease::store::StoreSpec;
use voxctl::lease::{LeaseName, Token};

/// Manage the heavy, swappable GPU backend binary of a desktop app: split and verify release
/// files, fetch and install a variant, restart the backend, reap a wedged instance, and give
/// shell scripts leases with fencing tokens.
#[derive(Debug, Parser)]
#[command(name = "voxctl", version, propagate_version = true, after_help = voxctl::exit::help())]
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

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Swap the running backend for an installed variant, safely.
    ///
    /// Checks the new binary (`--version`) before stopping anything. An explicitly named
    /// variant that is missing or fails that check is an error (exit 1, nothing stopped);
    /// only `--variant auto`, or `--fallback cpu`, falls back to cpu with a warning. Writes
    /// the relaunch marker for `reap`; stops the old
    /// backend's process group (SIGTERM, then SIGKILL after --stop-timeout); waits until
    /// nothing listens on the port; starts the new binary detached (`--data-dir D --port P`
    /// plus the arguments after `--`, output appended to STATE/logs/); polls the health URL.
    /// If the new backend exits or is not healthy within --ready-timeout, it is stopped and
    /// the previous one is started again (exit 7; exit 1 if that fails too). A concurrent
    /// restart of the same app exits 4 unless --wait is given.
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
    /// app runs; 7 if the port stays in use.
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
    /// Detect: cuda with an NVIDIA driver, rocm with /dev/kfd, else cpu.
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
    /// ~/.local/share/{app}; ~/Library/Application Support/{app} on macOS].
    #[arg(long, env = "VOXCTL_DATA_DIR", value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub data_dir: Option<PathBuf>,
}

/// `voxctl restart`.
#[derive(Debug, Args)]
pub struct RestartArgs {
    /// The variant to start (`auto` falls back to cpu when the detected one is unusable).
    #[arg(long, value_enum, default_value = "auto", value_name = "VARIANT")]
    pub variant: VariantChoice,
    /// Start this variant instead when the requested one is missing or fails its version
    /// check (only `cpu` makes sense; `--variant auto` implies `--fallback cpu`).
    #[arg(long, value_name = "VARIANT")]
    pub fallback: Option<voxctl::variant::Variant>,
    /// The app and its data dir.
    #[command(flatten)]
    pub app: AppArgs,
    /// The port the backend serves on (passed as `--port`).
    #[arg(long, default_value_t = 17493, value_name = "N")]
    pub port: u16,
    /// The health URL to poll (http:// only) [default: http://127.0.0.1:{port}/health].
    #[arg(long, value_name = "URL", value_hint = ValueHint::Other)]
    pub health_url: Option<String>,
    /// How long the old backend gets after SIGTERM before SIGKILL, and then the port to be
    /// released (e.g. 10s, 500ms).
    #[arg(long, default_value = "10s", value_parser = voxctl::duration::parse, value_name = "DUR")]
    pub stop_timeout: Duration,
    /// How long the new backend gets to answer 200 on the health URL.
    #[arg(long, default_value = "120s", value_parser = voxctl::duration::parse, value_name = "DUR")]
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
the asset is running (see --wait; also when --wait=DUR runs out),
5 the hardware cannot run the release, 130 interrupted (partial data
kept for resume).";

/// `voxctl fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The variant to install.
    #[arg(long, value_enum, default_value = "auto", value_name = "VARIANT")]
    pub variant: VariantChoice,
    /// The app and its data dir (variants go to DIR/backends).
    #[command(flatten)]
    pub app: AppArgs,
    /// The release: an http(s):// base URL, a file:// URL or a directory [default: the
    /// voicebox GitHub release, latest or --tag].
    #[arg(long, env = "VOXCTL_SOURCE", value_name = "URL|DIR", value_hint = ValueHint::DirPath)]
    pub source: Option<String>,
    /// The release tag: selects the GitHub release when no --source is given; recorded as
    /// the installed version.
    #[arg(long)]
    pub tag: Option<String>,
    /// Parts downloaded at the same time.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    /// Retries per request after network errors, 408, 429 and 5xx answers (exponential
    /// backoff with jitter; Retry-After is honoured). Per part for the whole run, refilled
    /// only by new data, so a part gets at most 17 x N retries.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(0..=100))]
    pub retries: u16,
    /// The first retry delay; it doubles each retry, up to 60s.
    #[arg(long, default_value = "1s", env = "VOXCTL_RETRY_DELAY", value_parser = voxctl::duration::parse, value_name = "DUR")]
    pub retry_delay: std::time::Duration,
    /// Time allowed to connect to a server.
    #[arg(long, default_value = "30s", env = "VOXCTL_CONNECT_TIMEOUT", value_parser = voxctl::duration::parse, value_name = "DUR")]
    pub connect_timeout: std::time::Duration,
    /// Longest silence allowed while receiving data (there is no total timeout).
    #[arg(long, default_value = "60s", env = "VOXCTL_READ_TIMEOUT", value_parser = voxctl::duration::parse, value_name = "DUR")]
    pub read_timeout: std::time::Duration,
    /// If another fetch of the same asset is running, follow its progress and finish when it
    /// does (taking over if it dies) instead of exiting 4. With =DURATION (30s, 5m; a bare
    /// number is seconds), exit 4 if it still holds the slot after that long. A holder that
    /// shows no progress for 10s is reported once (with `kill -CONT PID` for a stopped one).
    #[arg(
        long,
        num_args = 0..=1,
        require_equals = true,
        value_name = "DUR",
        value_parser = voxctl::duration::parse
    )]
    pub wait: Option<Option<Duration>>,
    /// Download and install even if the installed file already matches the release (the
    /// compatibility check still runs).
    #[arg(long)]
    pub force: bool,
    /// The keys trusted to sign the release.
    #[command(flatten)]
    pub keys: KeyArgs,
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
    /// How long each hardware probe (nvidia-smi, the kfd topology) may take.
    #[arg(long, default_value = "5s", value_parser = voxctl::duration::parse, value_name = "DUR")]
    pub detect_timeout: std::time::Duration,
    /// The most an archive release (S.tar.gz) may expand to, uncompressed, such as 40GB or
    /// 32GiB; beyond it the archive is refused (exit 3) [default: 20 times the archive's
    /// size, at least 16 MiB].
    #[arg(long, value_name = "SIZE", value_parser = parse_max_size)]
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
fn parse_max_size(text: &str) -> Result<u64, voxctl::Error> {
    match voxctl::size::parse(text)? {
        0 => Err(voxctl::Error::Usage(format!(
            "invalid size {text:?}: the size must be at least 1 byte"
        ))),
        n => Ok(n),
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
        default_value = "1900000000"
    )]
    pub part_size: String,
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
    #[arg(long, value_name = "VARIANT", value_parser = ["cpu", "cuda", "rocm"])]
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
    #[arg(long, value_name = "SIZE")]
    pub avg_size: Option<String>,
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
    /// current directory) instead of the current directory, e.g. a release's S.sha256
    /// beside its parts: `verify -c --relative-to-sums dist/S.sha256`.
    #[arg(long, requires = "check")]
    pub relative_to_sums: bool,
    /// With -c: skip files that do not exist instead of failing (a sums file with no file
    /// verified still fails).
    #[arg(long, requires = "check")]
    pub ignore_missing: bool,
    /// With -c: a malformed line is a failure, not a warning.
    #[arg(long, requires = "check")]
    pub strict: bool,
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
    /// How long each hardware probe (nvidia-smi, the kfd topology) may take.
    #[arg(long, default_value = "5s", value_parser = voxctl::duration::parse, value_name = "DUR")]
    pub detect_timeout: Duration,
}

/// `voxctl stop`.
#[derive(Debug, Args)]
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
    /// released.
    #[arg(long, default_value = "10s", value_parser = voxctl::duration::parse, value_name = "DUR")]
    pub stop_timeout: Duration,
}

/// `voxctl remove VARIANT`.
#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The variant to uninstall.
    #[arg(value_name = "VARIANT")]
    pub variant: voxctl::variant::Variant,
    /// The app and its data dir.
    #[command(flatten)]
    pub app: AppArgs,
    /// If the backend runs this variant, stop it first (as `voxctl stop`) instead of exiting 5.
    #[arg(long)]
    pub force: bool,
    /// Remove only the variant's partial download, keeping what is installed.
    #[arg(long)]
    pub partial_only: bool,
    /// With --force: how long the backend gets after SIGTERM before SIGKILL.
    #[arg(long, default_value = "10s", value_parser = voxctl::duration::parse, value_name = "DUR")]
    pub stop_timeout: Duration,
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
    /// The app's `SingletonLock` symlink (target `<hostname>-<pid>`).
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
    /// Ignore a marker older than this [default: 5m].
    #[arg(long, value_name = "DUR", value_parser = voxctl::duration::parse)]
    pub max_marker_age: Option<Duration>,
    /// How long to wait, sending nothing, for the holder to exit or release the lock.
    #[arg(long, value_name = "DUR", default_value = "3s", value_parser = voxctl::duration::parse)]
    pub teardown_grace: Duration,
    /// How long to wait after SIGTERM before SIGKILL.
    #[arg(long, value_name = "DUR", default_value = "5s", value_parser = voxctl::duration::parse)]
    pub term_grace: Duration,
    /// Show the decision and what would be sent; consume nothing, signal nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// The exit codes of `voxctl reap`, shown under its `--help`.
const REAP_HELP: &str = "\
Exit codes: 0 reaped, or nothing to reap (no holder, holder gone, no
usable marker); 5 a live holder exists but a guard refused, or a
confirmation was needed without a TTY or --yes; 7 the process was still
running after SIGKILL; 130 interrupted.
The marker is consumed by every run except --dry-run and a refused or
declined confirmation.";

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
    #[arg(long)]
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
pub struct LeaseHoldArgs {
    /// The lease's name: 1-128 characters from A-Z a-z 0-9 . _ -
    #[arg(value_name = "NAME")]
    pub name: LeaseName,
    /// How long the lease lasts unless renewed (500ms, 30s, 5m; etcd rounds up to whole
    /// seconds, at least its minimum, usually 2s).
    #[arg(long, default_value = "30s", value_name = "DUR", value_parser = voxctl::lease::parse_positive_duration)]
    pub ttl: Duration,
    /// How long to wait while someone else holds it (0: fail at once with exit 4).
    #[arg(long, default_value = "0", value_name = "DUR", value_parser = voxctl::lease::parse_wait)]
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
    /// The process that owns the lease: when that exact process (pid, start time, pid
    /// namespace, boot) is gone on this host, the lease is abandoned and can be taken over at
    /// once, before its TTL runs out. Without it only the TTL counts.
    #[arg(long, value_name = "PID")]
    pub owner_pid: Option<i32>,
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
    #[arg(long, value_name = "DUR", value_parser = voxctl::lease::parse_positive_duration)]
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
    #[arg(long, default_value = "5s", value_name = "DUR", value_parser = voxctl::lease::parse_positive_duration)]
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
