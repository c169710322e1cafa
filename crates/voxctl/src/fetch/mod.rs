//! The download engine behind `voxctl fetch`: find the release layout, download the parts
//! concurrently and resumably, verify every digest the release gives, and install atomically.
//!
//! Three entry points share one engine: [`install()`], [`repair()`] and [`plan()`] (a dry
//! run). Data flow: the engine takes the asset's slot (or waits for it),
//! `layout::discover_pinned` turns the release into a [`Plan`]; a gate checks the install
//! record ("already installed"; for a repair, which files are broken), then `transfer`
//! opens the `partial::Partial` directory and its
//! `partial::DataFile` (one preallocated file of the asset's size, with the resume record
//! saying how much of each part is on disk), starts the `writeback::Writeback` thread,
//! downloads each part on its own task (at most `jobs` at a time), then finishes and checks
//! the whole-file digest (`install::verify`) and installs the file or extracts the archive
//! (`archive::install_archive`). Everything is reported as [`Event`]s through one
//! [`Reporter`], progress included (the fetch sends it on its own tick and writes it into its
//! slot); the library never prints. [`Settings::cancel`] stops it at the next step, with the
//! partial data kept for a rerun to resume.
//!
//! Where the time goes, and why it is laid out this way (see BENCHMARKS.md for figures):
//!
//! - **No join.** Every part is written with positioned writes at its own offset of the one
//!   data file, so when the last byte arrives the file is already the assembled asset; it is
//!   renamed into place, never copied.
//! - **Each byte hashed once per digest, off the receive path.** A part's bytes go to disk
//!   from its task and to a `hashing::PartHasher` thread. Part 0's hash state doubles as
//!   the prefix of the whole-file SHA-256, so the only hashing left after the download is
//!   the whole-file digest over parts 1.. (read back from the page cache). An asset
//!   signature's BLAKE2b (`signed::Prehash`) takes the same buffers on its own thread.
//! - **fsync spread over the download.** The writeback thread `fdatasync`s the data file in
//!   rounds while the parts arrive (and records what is durable, for resume), so the final
//!   fsync, run alongside that last hashing, has little left to write.

pub(crate) mod archive;
pub mod delta;
pub(crate) mod downgrade;
mod download;
pub(crate) mod event;
pub(crate) mod hashing;
pub mod http;
pub(crate) mod http_cache;
pub(crate) mod install;
pub(crate) mod layout;
pub(crate) mod partial;
pub(crate) mod repair;
pub(crate) mod signed;
pub(crate) mod source;
pub(crate) mod writeback;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};

use crate::cancel::Cancel;
use crate::installs::{BackendsDir, InstallRecord, Transfer};
use crate::slot::{SlotGuard, SlotTable, Wait, WaitEvent};
use crate::state::StateDir;
use crate::variant::Variant;
use crate::Error;
pub use event::{Event, Installed, PlannedPart, Reporter};
pub use layout::{Layout, Part, Plan};
pub use partial::PartialInfo;
pub use source::{RetryPolicy, Source};

/// Everything a fetch needs, validated. Built with [`Settings::new`] (the command's defaults),
/// then changed field by field: a later version may add fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Settings {
    /// The app (names the cpu asset that `--variant auto` falls back to).
    pub app: String,
    /// The asset `A` to install.
    pub asset: String,
    /// The variant, recorded in the install record and naming an archive's directory.
    pub variant: Variant,
    /// Where the release is: the origin, asked for everything that decides trust.
    pub source: Source,
    /// Mirrors of the release (`--mirror`, `VOXCTL_MIRRORS`), asked in order for the asset's
    /// bytes before the origin. Every byte from a mirror is checked against the origin's
    /// digests; a mirror that serves a wrong byte is skipped for the rest of the run, one that
    /// keeps failing hands over to the next source from the byte reached.
    pub mirrors: Vec<Source>,
    /// Where the validators (`ETag`, `Last-Modified`) and bodies of the release's small
    /// files are kept between runs, so that a poll with nothing new is answered `304 Not
    /// Modified` (`STATE/http-cache`); `None`: every poll downloads them.
    pub http_cache: Option<PathBuf>,
    /// The release tag (`--tag`), recorded as the version.
    pub tag: Option<String>,
    /// The backends dir to install into.
    pub backends: BackendsDir,
    /// The state dir: the fetch holds slot `fetch-{asset}` of its slot table
    /// ([`SlotTable::new`]) from start to end.
    pub state: StateDir,
    /// Whether to wait while another fetch of the asset holds its slot (`--wait`), following
    /// the holder's progress; then the fetch finds the holder's install ("already
    /// installed") or, if the holder died, resumes from its partial data.
    pub wait: Wait,
    /// Parts downloaded at the same time (at least 1).
    pub jobs: usize,
    /// Retry settings.
    pub retry: RetryPolicy,
    /// Timeouts and credentials.
    pub net: http::NetSettings,
    /// [`install()`]: reinstall even when the install record matches the release.
    pub force: bool,
    /// The trusted public keys; empty: the release is not authenticated (see `signed`).
    pub keys: crate::signature::Keyring,
    /// The cap on an archive's expanded size (the uncompressed tar stream), in bytes;
    /// `None` for `archive::default_max_expanded` of the archive's size.
    pub max_expanded: Option<u64>,
    /// The hardware compatibility check run after reading the release, before downloading.
    pub compat: Compat,
    /// Cancels the fetch from another thread (or, in the CLI, on SIGINT/SIGTERM): it stops at
    /// the next chunk, retry wait or file, keeps the partial data for a rerun, and returns
    /// [`Error::Interrupted`].
    pub cancel: Cancel,
    /// Differential fetch: `--no-delta`, `--seed FILE` ([`delta`]).
    pub delta: delta::Delta,
    /// `--allow-downgrade`: install a signed release older than the installed one
    /// (`downgrade`; otherwise [`Error::Refused`], exit 5).
    pub allow_downgrade: bool,
}

impl Settings {
    /// The settings of a fetch of `app`'s `variant` from `source` into `data_dir`'s backends
    /// dir, with the command's defaults for the rest, each a public field to change before the
    /// call: the asset `{app}-server-{variant}` ([`Variant::asset`]), no mirror, the HTTP
    /// cache in `state` (`http-cache`), 4 parts at once, [`RetryPolicy::default`],
    /// [`http::NetSettings::default`], no trusted key (the release is not authenticated),
    /// the hardware compatibility check of an explicitly named variant
    /// ([`Compat::Explicit`] with [`crate::gpu::Probes::default`]), differential fetch on,
    /// no wait for a busy slot ([`Wait::Never`]), a fresh [`Cancel`], and no force, repair,
    /// downgrade or dry run.
    ///
    /// ```no_run
    /// use voxctl::fetch::{self, Source};
    /// use voxctl::state::StateDir;
    /// use voxctl::variant::Variant;
    ///
    /// let state = StateDir::open(None)?;
    /// let source = Source::parse("https://github.com/jamiepine/voicebox/releases/latest")?;
    /// let mut settings =
    ///     fetch::Settings::new("voicebox", Variant::Cuda, source, "/opt/voicebox".as_ref(), &state);
    /// settings.jobs = 8;
    /// # anyhow::Ok(())
    /// ```
    pub fn new(
        app: &str,
        variant: Variant,
        source: Source,
        data_dir: &Path,
        state: &StateDir,
    ) -> Settings {
        Settings {
            app: app.into(),
            asset: variant.asset(app),
            variant,
            source,
            mirrors: Vec::new(),
            http_cache: Some(state.root().join("http-cache")),
            tag: None,
            backends: BackendsDir::new(data_dir),
            state: state.clone(),
            wait: Wait::Never,
            jobs: 4,
            retry: RetryPolicy::default(),
            net: http::NetSettings::default(),
            force: false,
            keys: Default::default(),
            max_expanded: None,
            compat: Compat::Explicit(crate::gpu::Probes::default()),
            cancel: Cancel::new(),
            delta: Default::default(),
            allow_downgrade: false,
        }
    }
}

/// The partial downloads in `backends` (`.partial/*/`), by asset name, for `voxctl status`.
/// Reads only: nothing is created, and a missing directory is an empty list. Errors: the
/// directory cannot be read.
pub fn partial_downloads(backends: &BackendsDir) -> Result<Vec<PartialInfo>> {
    partial::list(backends)
}

/// How a fetch checks that the hardware can run the release ([`crate::gpu`]).
#[derive(Debug, Clone)]
pub enum Compat {
    /// No check (`--skip-compat-check`).
    Skip,
    /// An explicitly named variant: when the release states requirements, the hardware is
    /// probed and a variant that no GPU here can run is refused ([`Error::Refused`], exit 5).
    /// An unknown (no GPU seen, a probe that could not answer) is reported, not refused.
    Explicit(crate::gpu::Probes),
    /// `--variant auto`: [`Settings::variant`] is the candidate picked from this hardware
    /// ([`crate::gpu::auto_candidate`]); unless the hardware can run its release, the cpu
    /// variant is fetched instead ([`Event::AutoFallback`]).
    Auto(crate::gpu::Hardware),
}

/// How a fetch ended.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Outcome {
    /// Installed now.
    Installed(InstallRecord),
    /// The install record already matched the release; nothing was downloaded.
    AlreadyInstalled(InstallRecord),
    /// `--repair` found every file intact; nothing was downloaded.
    NothingToRepair(InstallRecord),
    /// `--dry-run`: what the fetch would download and reuse.
    DryRun(delta::DeltaPlan),
    /// `--repair` brought the install back.
    Repaired {
        /// The record (unchanged).
        record: InstallRecord,
        /// Bytes received from the release for it (not counting resumed partial data).
        downloaded: u64,
    },
}

/// How often a fetch sends [`Event::Progress`] (and draws nothing itself): 100 ms.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// How often a fetch writes its progress into its slot's metadata, where `voxctl status` and
/// waiting fetches read it: 500 ms.
pub const SLOT_PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// Byte counters of a running fetch, one per part, read by its progress ticker.
#[derive(Debug, Default)]
struct Counters {
    parts: OnceLock<Vec<(u64, AtomicU64)>>,
    /// A differential fetch's bytes downloaded so far.
    downloaded: AtomicU64,
    /// A differential fetch's bytes to download, while it runs.
    delta: Mutex<Option<u64>>,
}

impl Counters {
    fn init(&self, plan: &Plan) {
        let _ = self.parts.set(
            plan.parts
                .iter()
                .map(|p| (p.size, AtomicU64::new(0)))
                .collect(),
        );
    }

    fn parts(&self) -> &[(u64, AtomicU64)] {
        self.parts.get().map_or(&[], Vec::as_slice)
    }

    /// Bytes on disk per part.
    fn done(&self) -> Vec<u64> {
        self.parts()
            .iter()
            .map(|(_, d)| d.load(Ordering::Relaxed))
            .collect()
    }

    /// Total bytes of all parts.
    fn total(&self) -> u64 {
        self.parts().iter().map(|(size, _)| size).sum()
    }

    fn set(&self, index: usize, n: u64) {
        if let Some((_, d)) = self.parts().get(index) {
            d.store(n, Ordering::Relaxed);
        }
    }

    fn add(&self, index: usize, n: u64) {
        if let Some((_, d)) = self.parts().get(index) {
            d.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Counts bytes a differential fetch received.
    fn add_downloaded(&self, n: u64) {
        self.downloaded.fetch_add(n, Ordering::Relaxed);
    }

    /// Bytes a differential fetch received so far.
    fn downloaded(&self) -> u64 {
        self.downloaded.load(Ordering::Relaxed)
    }

    /// Progress counts a differential fetch's bytes (`Some(to_download)`), or bytes on disk
    /// per part (`None`).
    fn set_delta(&self, to_download: Option<u64>) {
        *self.delta.lock().unwrap_or_else(|e| e.into_inner()) = to_download;
    }

    fn delta(&self) -> Option<u64> {
        *self.delta.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Shared state of one download's part tasks.
pub(crate) struct Download {
    plan: Plan,
    remote: source::Remote,
    data: Arc<partial::DataFile>,
    counters: Arc<Counters>,
    report: Reporter,
    /// The asset signature to check over the bytes as the whole-file SHA-256 reads them.
    prehash: Option<signed::PrehashSpec>,
    /// The release's signed version, recorded as the installed one ([`downgrade`]).
    signed_version: Option<String>,
}

impl Download {
    /// After a differential fetch failed: forget every chunk and every part's bytes, so the
    /// whole asset is downloaded from zero, and count progress per part again.
    fn restart_full(&self) {
        self.data.track_chunks("", Vec::new());
        for part in 0..self.plan.parts.len() {
            self.data.reset(part);
            self.counters.set(part, 0);
        }
        self.counters.set_delta(None);
    }
}

/// Sends [`Event::Progress`] every [`PROGRESS_EVERY`] and writes the slot's progress every
/// [`SLOT_PROGRESS_EVERY`] until dropped.
struct Ticker {
    task: tokio::task::JoinHandle<()>,
}

impl Ticker {
    fn start(counters: Arc<Counters>, slot: Arc<Mutex<SlotGuard>>, report: Reporter) -> Ticker {
        let task = tokio::spawn(async move {
            let mut every = tokio::time::interval(PROGRESS_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            every.tick().await; // the first tick is at once
            let mut slot_written = tokio::time::Instant::now();
            loop {
                every.tick().await;
                // `total` is the asset's size in every event; a differential fetch has in
                // place what its plan does not download, and what it downloaded so far.
                let total = counters.total();
                let delta = counters
                    .delta()
                    .map(|to_download| (counters.downloaded().min(to_download), to_download));
                let (parts, done) = match delta {
                    Some((downloaded, to_download)) => {
                        (Vec::new(), total.saturating_sub(to_download) + downloaded)
                    }
                    None => {
                        let parts = counters.done();
                        let done = parts.iter().sum();
                        (parts, done)
                    }
                };
                if slot_written.elapsed() >= SLOT_PROGRESS_EVERY {
                    slot_written = tokio::time::Instant::now();
                    if let Ok(mut g) = slot.lock() {
                        let _ = g.set_progress(done, Some(total));
                    }
                }
                report(&Event::Progress {
                    done,
                    total,
                    parts,
                    downloaded: delta.map(|d| d.0),
                    to_download: delta.map(|d| d.1),
                });
            }
        });
        Ticker { task }
    }
}

impl Ticker {
    /// Stops the ticker and waits until it has (it sends nothing after).
    async fn stop(mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Sleeps for `d`, ending early with [`Error::Interrupted`] once `cancel` is cancelled.
async fn sleep(cancel: &Cancel, d: Duration) -> Result<(), Error> {
    tokio::select! {
        () = tokio::time::sleep(d) => Ok(()),
        () = cancel.cancelled() => Err(Error::Interrupted),
    }
}

/// What a fetch is for: the one choice between the three entry points over one engine.
#[derive(Debug, Clone)]
enum Job {
    /// [`install()`].
    Install,
    /// [`repair()`] of this install.
    Repair(Box<InstallRecord>),
    /// [`plan()`]: stop before anything is downloaded or written.
    Plan,
}

/// Installs (or updates) the asset: settle `--variant auto`, take slot `fetch-{asset}` (or
/// wait for it as [`Settings::wait`] says, reporting the holder's progress), discover the
/// release, check the install record (nothing to do when it matches, unless
/// [`Settings::force`]), download (differentially when the release has a chunk index),
/// verify, install, record. Every step is reported to `report` ([`Event`]), ending with
/// [`Event::Installed`] or [`Event::AlreadyInstalled`]; the same outcome is returned. While
/// the download runs, [`Event::Progress`] comes every [`PROGRESS_EVERY`] and the slot's
/// metadata says how far it is, for `voxctl status` and waiting fetches.
///
/// Errors: [`Error::Busy`] (exit 4) while another fetch of the asset holds the slot (after
/// any wait); [`Error::Integrity`] for bad or mismatching release data (exit 3);
/// [`Error::Refused`] for hardware the release cannot run on (exit 5);
/// [`Error::Interrupted`] once [`Settings::cancel`] is cancelled (exit 130); a
/// [`http::HttpError`] in the chain for network failures. Partial data is kept for a rerun
/// to resume only after the latter two (the error's remedy, `Resume`, names the directory).
///
/// ```no_run
/// use std::sync::Arc;
/// use voxctl::fetch::{self, Event, Settings, Source};
/// use voxctl::slot::Wait;
/// use voxctl::state::StateDir;
/// use voxctl::variant::Variant;
///
/// # async fn run() -> anyhow::Result<()> {
/// let state = StateDir::open(None)?;
/// let source = Source::parse("http://127.0.0.1:8080/release")?;
/// let mut settings = Settings::new("voicebox", Variant::Cpu, source, "/tmp/voicebox".as_ref(), &state);
/// settings.mirrors = vec![Source::parse("http://mirror.lan/release")?];
/// settings.wait = Wait::Forever;
/// let cancel_button = settings.cancel.clone(); // `cancel_button.cancel()` from any thread stops it
/// let report: fetch::Reporter = Arc::new(|ev: &Event| {
///     if let Event::Progress { done, total, .. } = ev {
///         println!("{done} of {total} bytes");
///     }
/// });
/// let outcome = fetch::install(&settings, report).await?;
/// println!("{outcome:?}");
/// drop(cancel_button);
/// # Ok(())
/// # }
/// ```
pub async fn install(settings: &Settings, report: Reporter) -> Result<Outcome> {
    run(settings, Job::Install, report).await
}

/// Repairs the install `record` (`fetch --repair`): a deep check finds the broken files, the
/// release (which must still hold the recorded build, [`Error::Refused`] otherwise) is
/// downloaded and verified, and a single-file install is replaced while an archive install
/// gets only its broken files back. Never a differential fetch, a downgrade check or a change
/// of version. Ends with [`Event::Repaired`] or [`Event::NothingToRepair`]; errors as for
/// [`install()`].
pub async fn repair(
    settings: &Settings,
    record: InstallRecord,
    report: Reporter,
) -> Result<Outcome> {
    run(settings, Job::Repair(Box::new(record)), report).await
}

/// Plans an install without doing it (`fetch --dry-run`): discover the release, check the
/// install record, read the seeds and report what a differential fetch would download
/// ([`Event::DeltaPlanned`], [`Outcome::DryRun`]), or [`Outcome::AlreadyInstalled`]. Nothing
/// is downloaded (but the release's small files) or written. Errors as for [`install()`].
pub async fn plan(settings: &Settings, report: Reporter) -> Result<Outcome> {
    run(settings, Job::Plan, report).await
}

/// The engine under the three entry points.
async fn run(settings: &Settings, job: Job, report: Reporter) -> Result<Outcome> {
    // `--variant auto` settles on cuda/rocm or cpu first, so the slot taken is that of the
    // asset fetched.
    let settings = settle_variant(settings, &report).await?;
    let slot = take_slot(&settings, &report).await?;
    let outcome = fetch_holding(&settings, &job, &report, Arc::new(Mutex::new(slot))).await?;
    report(&match &outcome {
        Outcome::Installed(r) => Event::Installed(Installed::of(r)),
        Outcome::AlreadyInstalled(r) => Event::AlreadyInstalled(Installed {
            transfer: None,
            ..Installed::of(r)
        }),
        Outcome::DryRun(plan) => Event::DeltaPlanned(plan.clone()),
        Outcome::NothingToRepair(r) => Event::NothingToRepair {
            asset: r.asset.clone(),
            path: r.path.clone(),
            downloaded: 0,
        },
        Outcome::Repaired { record, downloaded } => Event::Repaired {
            asset: record.asset.clone(),
            path: record.path.clone(),
            sha256: record.sha256,
            version: record.version.clone(),
            downloaded: *downloaded,
        },
    });
    Ok(outcome)
}

/// Takes slot `fetch-{asset}` as [`Settings::wait`] says, reporting the holder meanwhile.
async fn take_slot(settings: &Settings, report: &Reporter) -> Result<SlotGuard> {
    let (slots, wait, cancel) = (
        SlotTable::new(&settings.state)?,
        settings.wait,
        settings.cancel.clone(),
    );
    let name = format!("fetch-{}", settings.asset);
    let report = report.clone();
    tokio::task::spawn_blocking(move || {
        slots.acquire(&name, wait, &cancel, &|ev| {
            report(&match ev {
                WaitEvent::Holder(h) => Event::HolderFound { holder: h.clone() },
                WaitEvent::Progress(h) => Event::Waiting {
                    holder_pid: h.pid,
                    done: h.done.unwrap_or(0),
                    total: h.total.unwrap_or(0),
                },
                WaitEvent::Stalled { pid, stopped, idle } => Event::HolderStalled {
                    holder_pid: *pid,
                    stopped: *stopped,
                    since_ms: idle.as_millis() as u64,
                },
            })
        })
    })
    .await
    .context("slot task failed")?
}

/// The remote of `settings.source`.
/// The release's [`source::Remote`], reporting each retry of a small file as an
/// [`Event::Retry`] to `report`.
fn remote(settings: &Settings, report: &Reporter) -> Result<source::Remote> {
    let mut remote = source::Remote::with_mirrors(
        settings.source.clone(),
        settings.mirrors.clone(),
        http::Http::new(&settings.net)?,
        settings.retry,
        settings.cancel.clone(),
    );
    remote.http_cache = settings.http_cache.clone().map(http_cache::HttpCache::new);
    remote.on_retry = Some(retry_report(report));
    Ok(remote)
}

/// Reports a retry of one of the release's small files (no part named).
fn retry_report(report: &Reporter) -> source::RetryReport {
    let report = report.clone();
    source::RetryReport(Box::new(move |e: &http::HttpError, delay: Duration| {
        report(&Event::Retry {
            part: String::new(),
            error: e.to_string(),
            delay_ms: delay.as_millis() as u64,
        })
    }))
}

/// The fetch once the slot is held.
async fn fetch_holding(
    settings: &Settings,
    job: &Job,
    report: &Reporter,
    slot: Arc<Mutex<SlotGuard>>,
) -> Result<Outcome> {
    let remote = remote(settings, report)?;
    // A previous install a crash left linked aside (see `install::install_file`); the slot
    // held, no install of the asset is under way.
    let aside = settings.backends.replaced_path(&settings.asset);
    tokio::task::spawn_blocking(move || install::drop_replaced(&aside))
        .await
        .context("cleanup task failed")??;
    if let Source::Dir(dir) = &settings.source {
        check_release_dir(dir)?;
    }
    let (settings, plan, pinned) = preflight(settings, &remote, report).await?;
    let settings = &settings;
    let counters = Arc::new(Counters::default());
    counters.init(&plan);
    tracing::info!(
        "{}: release layout {} at {}: {} part(s) ({}), {} bytes, sha256 {}",
        settings.asset,
        plan.layout.as_str(),
        settings.source.display(),
        plan.parts.len(),
        plan.parts
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        plan.size,
        plan.sha256
    );
    report(&Event::planned(&plan));
    let ticker = Ticker::start(counters.clone(), slot, report.clone());
    let outcome = download_and_install(settings, job, report, plan, pinned, remote, counters).await;
    // No progress after the outcome: the ticker is gone before the caller hears of it.
    ticker.stop().await;
    outcome
}

/// The release's version as its signature vouches for it: the `app_version` of a signed
/// `S.manifest.json` (the pinning file of that layout). `None` when nothing signed states one.
fn signed_version(auth: &signed::Authentication, plan: &Plan) -> Option<String> {
    match (auth, plan.layout) {
        (signed::Authentication::Pinned(_), Layout::ManifestJson) => plan.version.clone(),
        _ => None,
    }
}

/// The fetch once the plan is known: authenticate, decide whether there is anything to do
/// ([`repair_gate`] or [`install_gate`]), plan (and stop there for [`Job::Plan`]), then
/// [`transfer`].
async fn download_and_install(
    settings: &Settings,
    job: &Job,
    report: &Reporter,
    plan: Plan,
    pinned: layout::Pinned,
    remote: source::Remote,
    counters: Arc<Counters>,
) -> Result<Outcome> {
    let (auth, elapsed) = signed::authenticate(&remote, &plan, &pinned, &settings.keys).await?;
    match &auth {
        signed::Authentication::Unauthenticated => report(&Event::Unauthenticated),
        signed::Authentication::Pinned(a) => report(&Event::Authenticated {
            auth: a.clone(),
            check_ms: elapsed.as_millis() as u64,
            check_us: elapsed.as_micros() as u64,
        }),
        signed::Authentication::Asset(_) => {}
    }
    let target = match plan.layout {
        Layout::Archive => settings.backends.archive_dir(settings.variant.as_str()),
        _ => settings.backends.asset_path(&settings.asset),
    };
    let repairing = match job {
        Job::Repair(record) => Some(&**record),
        Job::Install | Job::Plan => None,
    };
    let done = match repairing {
        Some(record) => repair_gate(settings, record, &plan, &target, report).await?,
        None => install_gate(settings, &plan, &auth, &target, report)?,
    };
    if let Some(outcome) = done {
        return Ok(outcome);
    }
    // Differential fetch: the release's chunk index, when it has one and it is wanted. A
    // repair downloads the recorded build whole.
    let index = if settings.delta.disabled || repairing.is_some() {
        None
    } else {
        match delta::load_index(&remote, &plan).await? {
            Ok(index) => index,
            Err(why) => {
                report(&Event::DeltaFallback { why });
                None
            }
        }
    };
    let seeds = delta::seed_files(settings, &plan);
    if let Job::Plan = job {
        return delta::dry_run(settings, &plan, index, seeds)
            .await
            .map(Outcome::DryRun);
    }
    let moved = Moved {
        plan,
        auth,
        remote,
        counters,
        index,
        seeds,
    };
    let (record, downloaded) = transfer(settings, repairing, moved, &target, report).await?;
    Ok(match repairing {
        Some(_) => Outcome::Repaired { record, downloaded },
        None => Outcome::Installed(record),
    })
}

/// A repair's gate: the record's install path must be the one derived for the release's
/// layout, and the release must still hold the recorded build; a deep check of every file
/// then finds what is broken. `Some(NothingToRepair)` when nothing is.
async fn repair_gate(
    settings: &Settings,
    record: &InstallRecord,
    plan: &Plan,
    target: &Path,
    report: &Reporter,
) -> Result<Option<Outcome>> {
    let backends = &settings.backends;
    // The repair works in the record's `path`: it must be the derived one.
    let recorded =
        backends.recorded_install_path(record, settings.variant.as_str(), &settings.asset)?;
    if recorded != target {
        return Err(Error::Refused(format!(
            "the install record {} is of a {} install, but the release at {} is not: a \
             repair never changes the layout",
            backends.record_path(&settings.asset).display(),
            serde_json::to_value(record.layout)?
                .as_str()
                .unwrap_or("other"),
            settings.source.display()
        ))
        .into());
    }
    repair::check_release(record, plan, &settings.source)?;
    let r = record.clone();
    let cancel = settings.cancel.clone();
    let checks = tokio::task::spawn_blocking(move || {
        crate::installs::audit::check(&r, crate::installs::audit::Depth::Deep, 2, &|_| {}, &cancel)
    })
    .await
    .context("check task failed")??;
    if crate::installs::audit::all_passed(&checks) {
        return Ok(Some(Outcome::NothingToRepair(record.clone())));
    }
    report(&Event::Damaged {
        files: checks.into_iter().filter(|c| !c.status.passed()).collect(),
    });
    Ok(None)
}

/// An install's (and a plan's) gate: `Some(AlreadyInstalled)` when the install record
/// matches the release and [`Settings::force`] is off; else the rollback protection, with
/// the version the signature vouches for (never `--tag`).
fn install_gate(
    settings: &Settings,
    plan: &Plan,
    auth: &signed::Authentication,
    target: &Path,
    report: &Reporter,
) -> Result<Option<Outcome>> {
    let backends = &settings.backends;
    let installed = backends.read_record(&settings.asset)?;
    if !settings.force {
        if let Some(record) = &installed {
            let signed_asset = matches!(auth, signed::Authentication::Asset(_));
            // An asset signature can only be checked over the bytes: an install that was
            // not authenticated then is downloaded again.
            if matches_install(record, plan, target)
                && (!signed_asset || record.signature.is_some())
            {
                tracing::info!(
                    "{} is installed with the release's sha256: nothing to download",
                    target.display()
                );
                // A partial download left by a killed `--force` (or an older release) is of
                // no use now: remove it, and say so, rather than leave gigabytes unreported.
                if let Some((path, bytes)) = partial::Partial::remove_stale(backends, &plan.asset)?
                {
                    report(&Event::StalePartialRemoved { path, bytes });
                }
                return Ok(Some(Outcome::AlreadyInstalled(record.clone())));
            }
            tracing::info!(
                "{}: the install record differs from the release (sha256 {} vs {}): downloading",
                settings.asset,
                record.sha256,
                plan.sha256
            );
        }
    }
    downgrade::check(
        &settings.asset,
        signed_version(auth, plan).as_deref(),
        installed.as_ref(),
        settings.allow_downgrade,
    )?;
    Ok(None)
}

/// What [`transfer`] takes over from the planning steps.
struct Moved {
    plan: Plan,
    auth: signed::Authentication,
    remote: source::Remote,
    counters: Arc<Counters>,
    /// The release's chunk index, for a differential fetch.
    index: Option<delta::Loaded>,
    /// The local files a differential fetch takes unchanged chunks from.
    seeds: Vec<delta::SeedUse>,
}

/// The download engine: the partial download (resumed when there is one), a differential
/// fetch when there is an index (on any failure but a network one or a cancel, the whole
/// asset from zero, once), verification and the install (for a repair of an archive, of its
/// broken files only). Returns the install record and the bytes this run downloaded.
async fn transfer(
    settings: &Settings,
    repairing: Option<&InstallRecord>,
    moved: Moved,
    target: &Path,
    report: &Reporter,
) -> Result<(InstallRecord, u64)> {
    let Moved {
        plan,
        auth,
        remote,
        counters,
        index,
        seeds,
    } = moved;
    let backends = &settings.backends;
    let signed_version = signed_version(&auth, &plan);
    backends.ensure()?;
    let partial = partial::Partial::open(backends, &plan)?;
    // Nothing is resumable from a data file that cannot be opened or allocated (no space).
    let data = match partial::DataFile::open(&partial, &plan) {
        Ok(d) => Arc::new(d),
        Err(e) => {
            let _ = partial.remove();
            return Err(e);
        }
    };
    tracing::info!(
        "{}: downloading into {}, then installing at {}",
        settings.asset,
        partial.dir().display(),
        target.display()
    );
    let prehash = match &auth {
        signed::Authentication::Asset(sig) => Some(signed::PrehashSpec {
            keys: settings.keys.clone(),
            sig: (**sig).clone(),
            size: plan.size,
        }),
        _ => None,
    };
    let download = Arc::new(Download {
        prehash,
        signed_version,
        plan: plan.clone(),
        remote,
        data: data.clone(),
        counters,
        report: report.clone(),
    });
    let pinned_auth = match auth {
        signed::Authentication::Pinned(a) => Some(a),
        _ => None,
    };
    let writeback = match writeback::Writeback::start(data, partial.clone()) {
        Ok(w) => w,
        Err(e) => {
            let _ = partial.remove();
            return Err(e);
        }
    };
    let started = std::time::Instant::now();
    let resumed_from: u64 = download.data.snapshot().iter().sum();
    // A differential fetch first; on any failure but a network one or a cancel, the whole
    // asset is downloaded instead, from zero, once.
    let mut finished = None;
    if let Some(loaded) = &index {
        let attempt = delta::run(&download, settings, loaded, &seeds, target, &pinned_auth);
        match attempt.await {
            Ok(Some(record)) => finished = Some(Ok(record)),
            Ok(None) => {}
            // A partial directory removed under it: a full download would write into the
            // same removed file.
            Err(e) if delta::stops(&e, &settings.cancel) || download.data.vanished() => {
                finished = Some(Err(e))
            }
            Err(e) => {
                report(&Event::DeltaFallback {
                    why: format!("{e:#}"),
                });
                download.restart_full();
            }
        }
    }
    let installed = match finished {
        Some(result) => {
            stop_writeback(writeback, &result, &settings.cancel);
            result
        }
        None => {
            let downloaded = download_all(&download, settings.jobs).await;
            tracing::debug!("download: {:?}", started.elapsed());
            stop_writeback(writeback, &downloaded, &settings.cancel);
            match downloaded {
                Ok(first) => {
                    let done: u64 = download.counters.done().iter().sum();
                    let transfer = Transfer {
                        downloaded: done.saturating_sub(resumed_from)
                            + index.as_ref().map_or(0, |i| i.bytes),
                        reused: 0,
                        requests: download.remote.requests() + u64::from(index.is_some()),
                        served: download.remote.served(),
                    };
                    let hashed = download.plan.parts[0].size;
                    verify_and_install(
                        &download,
                        settings,
                        repairing,
                        target,
                        first,
                        hashed,
                        pinned_auth,
                        transfer,
                    )
                    .await
                }
                Err(e) => Err(e),
            }
        }
    };
    match installed {
        Ok(record) => {
            let done: u64 = download.counters.done().iter().sum();
            // The data file closed first: Windows cannot remove a file that is still open
            // (an archive's data file stays in the partial directory).
            drop(download);
            partial.remove()?;
            Ok((record, done.saturating_sub(resumed_from)))
        }
        // Its directory removed under it: one error saying so, whatever the parts reported
        // (an interrupt still ends as one).
        Err(e) if download.data.vanished() => {
            if matches!(Error::find(&e), Some(Error::Interrupted)) {
                return Err(e);
            }
            Err(download.data.vanished_error())
        }
        Err(e) if keeps_partial(&e, &settings.cancel) => Err(crate::error::with_remedy(
            e,
            crate::error::Remedy::Resume {
                kept: partial.dir().to_path_buf(),
            },
        )),
        Err(e) => {
            // The data file closed first: Windows cannot remove a file that is still open.
            drop(download);
            let _ = partial.remove();
            Err(e)
        }
    }
}

/// Stops the writeback thread; after a failure whose data is kept, it first records exactly
/// what is on disk, for the rerun.
fn stop_writeback<T>(writeback: writeback::Writeback, result: &Result<T>, cancel: &Cancel) {
    let kept = result
        .as_ref()
        .err()
        .is_some_and(|e| keeps_partial(e, cancel));
    if let Err(e) = writeback.finish(kept) {
        tracing::warn!("cannot record the download's progress: {e:#}");
    }
}

/// `--variant auto`: with [`Compat::Auto`], reads the candidate's release, judges it
/// (reporting [`Event::Compatible`], [`Event::CompatUnknown`] or [`Event::AutoFallback`])
/// and returns the settings of the variant to fetch (the candidate, or cpu), with the check
/// marked done ([`Compat::Skip`]); other settings are returned unchanged.
async fn settle_variant(settings: &Settings, report: &Reporter) -> Result<Settings> {
    if !matches!(settings.compat, Compat::Auto(_)) {
        return Ok(settings.clone());
    }
    let remote = remote(settings, report)?;
    let (mut settled, _, _) = preflight(settings, &remote, report).await?;
    settled.compat = Compat::Skip;
    Ok(settled)
}

/// Discovers the release of `settings.asset` and runs the compatibility check
/// ([`Settings::compat`]); with `--variant auto` this may switch to the cpu variant, whose
/// settings and plan are returned.
async fn preflight(
    settings: &Settings,
    remote: &source::Remote,
    report: &Reporter,
) -> Result<(Settings, Plan, layout::Pinned)> {
    let discover = |asset: String| async move {
        layout::discover_pinned(remote, &asset).await.map_err(|e| {
            if let Some(u) = unfixable(&e) {
                crate::error::with_remedy(
                    e,
                    crate::error::Remedy::CheckSource {
                        problem: u.problem(),
                    },
                )
            } else if is_network(&e) {
                crate::error::with_remedy(e, crate::error::Remedy::CheckNetwork)
            } else {
                e
            }
        })
    };
    let mut settings = settings.clone();
    let (plan, pinned) = discover(settings.asset.clone()).await?;
    let variant = settings.variant;
    let requires = plan.requires.clone().unwrap_or_default();
    let verdict = match &settings.compat {
        Compat::Skip => return Ok((settings, plan, pinned)),
        Compat::Explicit(_) | Compat::Auto(_) if variant == Variant::Cpu => {
            return Ok((settings, plan, pinned))
        }
        Compat::Explicit(_) if requires.is_empty() => return Ok((settings, plan, pinned)),
        Compat::Explicit(probes) => {
            // The fetch's cancel ends the probes too.
            let probes = crate::gpu::Probes {
                cancel: settings.cancel.clone(),
                ..probes.clone()
            };
            let hw = tokio::task::spawn_blocking(move || crate::gpu::detect(&probes))
                .await
                .context("hardware detection task failed")??;
            crate::gpu::judge(&requires, variant, &hw)
        }
        Compat::Auto(hw) => crate::gpu::judge(&requires, variant, hw),
    };
    let auto = matches!(settings.compat, Compat::Auto(_));
    match verdict {
        crate::gpu::Verdict::Runs(why) => {
            if !requires.is_empty() {
                report(&Event::Compatible { variant, why });
            }
            Ok((settings, plan, pinned))
        }
        crate::gpu::Verdict::Unknown(why) if !auto => {
            report(&Event::CompatUnknown { variant, why });
            Ok((settings, plan, pinned))
        }
        crate::gpu::Verdict::Cannot(why) if !auto => Err(crate::error::with_remedy(
            Error::Refused(format!(
                "{} at {} cannot run on this host: {why}",
                settings.asset,
                remote.source.display()
            )),
            crate::error::Remedy::SkipCompatCheck {
                asset: settings.asset.clone(),
            },
        )),
        crate::gpu::Verdict::Unknown(why) | crate::gpu::Verdict::Cannot(why) => {
            report(&Event::AutoFallback {
                from: variant,
                to: Variant::Cpu,
                why,
            });
            settings.variant = Variant::Cpu;
            settings.asset = Variant::Cpu.asset(&settings.app);
            let (plan, pinned) = discover(settings.asset.clone()).await?;
            Ok((settings, plan, pinned))
        }
    }
}

/// Refuses a release directory that does not exist, before anything else: a `--source`
/// without a scheme is a directory, so `127.0.0.1:8080` is named as the missing directory it
/// is, with the URL it probably meant.
fn check_release_dir(dir: &std::path::Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let text = dir.to_string_lossy();
    let host_port = text.split_once('/').map_or(&*text, |(h, _)| h);
    let looks_like_a_server = host_port
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
    let problem = crate::error::SourceProblem::NoSuchDir {
        server: looks_like_a_server.then(|| format!("http://{text}")),
    };
    let what = if dir.exists() {
        "is not a directory"
    } else {
        "does not exist"
    };
    Err(crate::error::with_remedy(
        anyhow::anyhow!("release directory {} {what}", dir.display()),
        crate::error::Remedy::CheckSource { problem },
    ))
}

/// The unfixable network failure in `err`'s chain, if any (DNS, TLS certificate).
fn unfixable(err: &anyhow::Error) -> Option<http::Unfixable> {
    err.chain()
        .find_map(|e| e.downcast_ref::<http::HttpError>())
        .and_then(http::HttpError::unfixable)
}

/// Whether `err` is a network failure (an [`http::HttpError`] in the chain).
fn is_network(err: &anyhow::Error) -> bool {
    // A release file that is not a regular file is bad release data, not the network.
    err.chain().any(|e| {
        e.downcast_ref::<http::HttpError>()
            .is_some_and(|h| !matches!(h, http::HttpError::NotRegular { .. }))
    })
}

/// Verifies the downloaded file and installs it; `first` is part 0's hash state.
#[allow(clippy::too_many_arguments)]
async fn verify_and_install(
    download: &Arc<Download>,
    settings: &Settings,
    repairing: Option<&InstallRecord>,
    target: &std::path::Path,
    first: hashing::Hashed,
    hashed: u64,
    mut signature: Option<crate::signature::Authenticated>,
    transfer: Transfer,
) -> Result<InstallRecord> {
    let plan = download.plan.clone();
    let data = download.data.clone();
    let target_buf: PathBuf = target.to_path_buf();
    let label = download.remote.source.locate(&plan.parts[0].name);
    let executable = settings.asset.clone();
    let max_expanded = settings
        .max_expanded
        .unwrap_or_else(|| archive::default_max_expanded(plan.size));
    let repair = repairing.cloned();
    let report = download.report.clone();
    let cancel = settings.cancel.clone();
    let signed_asset = download.prehash.is_some();
    let aside = settings.backends.replaced_path(&settings.asset);
    let (asset_auth, files, replaced) = tokio::task::spawn_blocking(move || -> Result<_> {
        data.check_linked()?;
        let asset_auth = install::verify(&data, &plan, first, hashed, &cancel)?;
        if signed_asset && asset_auth.is_none() {
            // Never install unauthenticated what a key was asked to check.
            anyhow::bail!("{label}: the asset signature was not checked (internal error)");
        }
        if let Some(record) = repair.filter(|r| r.files.is_some()) {
            if plan.layout == Layout::Archive {
                let replaced = repair::replace_broken(
                    &record,
                    data.path(),
                    &label,
                    &executable,
                    max_expanded,
                    &cancel,
                )?;
                report(&Event::Replaced { files: replaced });
                return Ok((asset_auth, record.files, None));
            }
        }
        // The file is installed by its name: removed meanwhile, that is the error to report.
        data.check_linked()?;
        let installed = match plan.layout {
            Layout::Archive => archive::install_archive(
                data.path(),
                &label,
                &target_buf,
                &executable,
                max_expanded,
                &cancel,
            )
            .map(|files| (Some(files), None)),
            _ => install::install_file(data.path(), &target_buf, &aside)
                .map(|replaced| (None, Some(replaced))),
        };
        let (files, replaced) = installed.or_else(|e| data.check_linked().and(Err(e)))?;
        Ok((asset_auth, files, replaced))
    })
    .await
    .context("install task failed")?
    .map_err(|e| blame_mirrors(e, &download.remote))?;
    (download.report)(&Event::Verified {
        sha256: download.plan.sha256,
    });
    if let Some((auth, elapsed)) = asset_auth {
        (download.report)(&Event::Authenticated {
            auth: auth.clone(),
            check_ms: elapsed.as_millis() as u64,
            check_us: elapsed.as_micros() as u64,
        });
        signature = Some(auth);
    }
    let resolved = download
        .remote
        .resolved_latest(&download.plan.parts[0].name);
    let record = InstallRecord {
        asset: settings.asset.clone(),
        variant: Some(settings.variant.to_string()),
        path: target.to_path_buf(),
        sha256: download.plan.sha256,
        size: download.plan.size,
        // A signed version is what the release is, whatever tag it was asked by.
        version: download
            .signed_version
            .clone()
            .or_else(|| settings.tag.clone())
            .or_else(|| resolved.as_ref().map(|(_, tag)| tag.clone()))
            .or_else(|| download.plan.version.clone()),
        // Where it came from as resolved: a "latest" URL is recorded as its tag's, so a
        // repair never becomes an upgrade.
        source: resolved
            .map(|(source, _)| source)
            .unwrap_or_else(|| settings.source.display()),
        layout: download.plan.layout,
        installed_at: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        signature,
        files,
        requires: download.plan.requires.clone(),
        transfer: Some(transfer),
    };
    settings.backends.write_record(&record)?;
    // The new file is live and recorded: now the previous one's blocks are freed.
    if let Some(replaced) = replaced {
        tokio::task::spawn_blocking(move || replaced.remove())
            .await
            .context("cleanup task failed")??;
    }
    Ok(record)
}

/// An integrity failure of the whole file (no part digest could tell which bytes were
/// wrong) names the mirrors that served bytes of it, since one of them may be the cause.
fn blame_mirrors(err: anyhow::Error, remote: &source::Remote) -> anyhow::Error {
    let mirrors: Vec<String> = remote
        .served()
        .into_iter()
        .filter(|s| s.mirror)
        .map(|s| s.source)
        .collect();
    if mirrors.is_empty() || !matches!(Error::find(&err), Some(Error::Integrity(_))) {
        return err;
    }
    crate::error::with_remedy(
        err.context(format!(
            "bytes of it came from mirror {}, which may have served them wrong (the release \
             has no per-part digest to tell)",
            mirrors.join(", ")
        )),
        crate::error::Remedy::WithoutMirrors,
    )
}

/// Downloads every part, `jobs` at a time, each on its own task, and returns part 0's
/// hash state. On the first failure the other tasks are stopped (their bytes so far stay on
/// disk) and the failure is returned.
async fn download_all(download: &Arc<Download>, jobs: usize) -> Result<hashing::Hashed> {
    let parts = (0..download.plan.parts.len()).map(|index| download::part(download.clone(), index));
    let hashes = run_limited(jobs, parts).await?;
    hashes
        .into_iter()
        .next()
        .flatten()
        .context("part 0 ended without a hash")
}

/// Runs `tasks`, each on its own tokio task, at most `jobs` at a time, and returns their
/// results in the order given. On the first failure the other tasks are stopped (what they
/// wrote stays on disk) and that failure is returned. The downloads of parts and of a
/// differential fetch's ranges both go through here.
async fn run_limited<T, F>(jobs: usize, tasks: impl Iterator<Item = F>) -> Result<Vec<T>>
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T>> + Send + 'static,
{
    let permits = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let mut set = tokio::task::JoinSet::new();
    let mut results = Vec::new();
    for (i, task) in tasks.enumerate() {
        let permits = permits.clone();
        results.push(None);
        set.spawn(async move {
            let _permit = permits.acquire_owned().await?;
            task.await.map(|r| (i, r))
        });
    }
    let mut failure: Option<anyhow::Error> = None;
    while let Some(joined) = set.join_next().await {
        let result = match joined {
            Ok(r) => r,
            Err(e) if e.is_cancelled() => continue,
            Err(e) => Err(anyhow::anyhow!("download task failed: {e}")),
        };
        match result {
            Ok((i, r)) => results[i] = Some(r),
            Err(e) => {
                if failure.is_none() {
                    set.abort_all();
                    failure = Some(e);
                }
            }
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(results.into_iter().flatten().collect())
}

/// Whether an install record says `plan` is already installed at `target`.
fn matches_install(record: &InstallRecord, plan: &Plan, target: &std::path::Path) -> bool {
    if record.sha256 != plan.sha256 || record.size != plan.size || record.path != target {
        return false;
    }
    match std::fs::metadata(target) {
        Ok(m) if plan.layout == Layout::Archive => m.is_dir(),
        Ok(m) => m.is_file() && m.len() == plan.size,
        Err(_) => false,
    }
}

/// Whether partial data is worth keeping after `err`: network failures and cancels only.
fn keeps_partial(err: &anyhow::Error, cancel: &Cancel) -> bool {
    cancel.is_cancelled() || matches!(Error::find(err), Some(Error::Interrupted)) || is_network(err)
}
