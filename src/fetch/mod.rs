//! The download engine behind `voxctl fetch`: find the release layout, download the parts
//! concurrently and resumably, verify every digest the release gives, and install atomically.
//!
//! Data flow: [`layout::discover`] turns the release into a [`Plan`]; [`fetch`] checks the
//! install record ("already installed"), opens the [`partial::Partial`] directory and its
//! [`partial::DataFile`] (one preallocated file of the asset's size, with the resume record
//! saying how much of each part is on disk), starts the [`writeback::Writeback`] thread,
//! runs [`download::part`] for each part on its own task (at most `jobs` at a time), then
//! finishes and checks the whole-file digest ([`install::verify`]) and installs the file or
//! extracts the archive ([`archive::install_archive`]). Progress is reported through
//! [`Progress`] counters (polled by the caller) and [`Event`]s (pushed); the library never
//! prints.
//!
//! Where the time goes, and why it is laid out this way (see BENCHMARKS.md for figures):
//!
//! - **No join.** Every part is written with positioned writes at its own offset of the one
//!   data file, so when the last byte arrives the file is already the assembled asset; it is
//!   renamed into place, never copied.
//! - **Each byte hashed once per digest, off the receive path.** A part's bytes go to disk
//!   from its task and to a [`hashing::PartHasher`] thread. Part 0's hash state doubles as
//!   the prefix of the whole-file SHA-256, so the only hashing left after the download is
//!   the whole-file digest over parts 1.. (read back from the page cache). An asset
//!   signature's BLAKE2b ([`signed::Prehash`]) takes the same buffers on its own thread.
//! - **fsync spread over the download.** The writeback thread `fdatasync`s the data file in
//!   rounds while the parts arrive (and records what is durable, for resume), so the final
//!   fsync, run alongside that last hashing, has little left to write.

pub mod archive;
pub mod download;
pub mod hashing;
pub mod http;
pub mod install;
pub mod layout;
pub mod partial;
pub mod repair;
pub mod signed;
pub mod source;
pub mod writeback;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};

use crate::checksum::Sha256;
use crate::installs::{BackendsDir, InstallRecord};
use crate::variant::Variant;
use crate::Error;
pub use layout::{Layout, Part, Plan};
pub use source::{RetryPolicy, Source};

/// Everything a fetch needs, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The app (names the cpu asset that `--variant auto` falls back to).
    pub app: String,
    /// The asset `A` to install.
    pub asset: String,
    /// The variant, recorded in the install record and naming an archive's directory.
    pub variant: Variant,
    /// Where the release is.
    pub source: Source,
    /// The release tag (`--tag`), recorded as the version.
    pub tag: Option<String>,
    /// The backends dir to install into.
    pub backends: BackendsDir,
    /// Parts downloaded at the same time (at least 1).
    pub jobs: usize,
    /// Retry settings.
    pub retry: RetryPolicy,
    /// Timeouts and credentials.
    pub net: http::NetSettings,
    /// Reinstall even when the install record matches the release.
    pub force: bool,
    /// The trusted public keys; empty: the release is not authenticated (see [`signed`]).
    pub keys: crate::signature::Keyring,
    /// The cap on an archive's expanded size (the uncompressed tar stream), in bytes;
    /// `None` for [`archive::default_max_expanded`] of the archive's size.
    pub max_expanded: Option<u64>,
    /// The hardware compatibility check run after reading the release, before downloading.
    pub compat: Compat,
    /// `--repair`: the install record to bring back. The release (from the record's
    /// `source`) must still hold the recorded build; broken files are found with a deep
    /// check first, and an archive install gets only those replaced ([`repair`]).
    pub repair: Option<InstallRecord>,
}

/// How [`fetch`] checks that the hardware can run the release (issue 15; [`crate::gpu`]).
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
/// Something that happened, for progress output.
#[derive(Debug, Clone)]
pub enum Event {
    /// The release layout was found.
    Planned(Plan),
    /// A part starts (or resumes at `from` bytes).
    PartStarted {
        /// Index in the plan.
        index: usize,
        /// File name.
        name: String,
        /// Bytes already on disk.
        from: u64,
        /// The part's size in bytes.
        size: u64,
    },
    /// A part matched its manifest SHA-256.
    PartVerified {
        /// Index in the plan.
        index: usize,
        /// File name.
        name: String,
        /// Its digest.
        sha256: Sha256,
    },
    /// A request failed and will be retried after `delay`.
    Retry {
        /// The file being fetched.
        what: String,
        /// Why it failed.
        error: String,
        /// How long until the retry.
        delay: Duration,
    },
    /// The whole file matched its SHA-256.
    Verified(Sha256),
    /// The release's signature verified: `elapsed` is the time the check took (for the
    /// pinning file: fetching and checking its signature; for an asset signature: the wait
    /// for the hashing thread after the download).
    Authenticated {
        /// What was checked.
        auth: crate::signature::Authenticated,
        /// How long the check held the fetch up.
        elapsed: Duration,
    },
    /// No public key is configured, so the release was not authenticated (sent once).
    Unauthenticated,
    /// The release states requirements and the hardware meets them.
    Compatible {
        /// The variant checked.
        variant: Variant,
        /// Which GPU, in words.
        why: String,
    },
    /// The release states requirements that could not be checked here; fetching anyway.
    CompatUnknown {
        /// The variant.
        variant: Variant,
        /// What could not be detected.
        why: String,
    },
    /// `--repair` found these files damaged (the checks that failed) and downloads the
    /// release again.
    Damaged(Vec<crate::verify::Check>),
    /// `--repair` of an archive install replaced these files (paths inside the install
    /// directory), each by a rename of a verified file.
    Replaced(Vec<PathBuf>),
    /// `--variant auto` fetches the cpu variant instead of `from`.
    AutoFallback {
        /// The candidate that cannot run (or could not be checked).
        from: Variant,
        /// Why.
        why: String,
    },
    /// The release was already installed and a partial download of the asset (left by a
    /// killed `--force`, or of an older release) was removed.
    StalePartialRemoved {
        /// The directory removed.
        path: PathBuf,
        /// Bytes its files held.
        bytes: u64,
    },
}

/// How a fetch ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Installed now.
    Installed(InstallRecord),
    /// The install record already matched the release; nothing was downloaded.
    AlreadyInstalled(InstallRecord),
    /// `--repair` found every file intact; nothing was downloaded.
    NothingToRepair(InstallRecord),
    /// `--repair` brought the install back.
    Repaired {
        /// The record (unchanged).
        record: InstallRecord,
        /// Bytes received from the release for it (not counting resumed partial data).
        downloaded: u64,
    },
}

/// Byte counters of a running fetch, shared with whoever draws progress.
#[derive(Debug, Default)]
pub struct Progress {
    parts: OnceLock<Vec<PartProgress>>,
}

/// One part's counters.
#[derive(Debug)]
pub struct PartProgress {
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    done: AtomicU64,
}

impl PartProgress {
    /// Bytes on disk so far.
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }
}

impl Progress {
    fn init(&self, plan: &Plan) {
        let _ = self.parts.set(
            plan.parts
                .iter()
                .map(|p| PartProgress {
                    name: p.name.clone(),
                    size: p.size,
                    done: AtomicU64::new(0),
                })
                .collect(),
        );
    }

    /// The parts (empty until the plan is known).
    pub fn parts(&self) -> &[PartProgress] {
        self.parts.get().map_or(&[], Vec::as_slice)
    }

    /// `(done, total)` bytes over all parts.
    pub fn totals(&self) -> (u64, u64) {
        self.parts()
            .iter()
            .fold((0, 0), |(d, t), p| (d + p.done(), t + p.size))
    }

    fn set(&self, index: usize, n: u64) {
        if let Some(p) = self.parts().get(index) {
            p.done.store(n, Ordering::Relaxed);
        }
    }

    fn add(&self, index: usize, n: u64) {
        if let Some(p) = self.parts().get(index) {
            p.done.fetch_add(n, Ordering::Relaxed);
        }
    }
}

/// The event sink: called from any task.
pub type Events = Arc<dyn Fn(Event) + Send + Sync>;

/// Shared state of one fetch's part tasks.
pub struct Ctx {
    plan: Plan,
    remote: source::Remote,
    data: Arc<partial::DataFile>,
    progress: Arc<Progress>,
    events: Events,
    /// The asset signature to check over the bytes as the whole-file SHA-256 reads them.
    prehash: Option<signed::PrehashSpec>,
}

/// Runs a fetch: discover, check the install record, download, verify, install, record.
///
/// Errors: [`Error::Integrity`] for bad or mismatching release data (exit 3),
/// [`Error::Interrupted`] on SIGINT/SIGTERM (exit 130), a [`http::HttpError`] in the chain
/// for network failures; partial data is kept only for the latter two.
pub async fn fetch(
    settings: &Settings,
    progress: Arc<Progress>,
    events: Events,
) -> Result<Outcome> {
    let remote = source::Remote::new(
        settings.source.clone(),
        http::Http::new(&settings.net)?,
        settings.retry,
    );
    let on_retry = {
        let events = events.clone();
        move |e: &http::HttpError, delay: Duration| {
            events(Event::Retry {
                what: String::new(),
                error: e.to_string(),
                delay,
            })
        }
    };
    if let Source::Dir(dir) = &settings.source {
        check_release_dir(dir)?;
    }
    let (settings, plan, pinned) = preflight(settings, &remote, &events, &on_retry).await?;
    let settings = &settings;
    progress.init(&plan);
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
    events(Event::Planned(plan.clone()));
    let (auth, elapsed) =
        signed::authenticate(&remote, &plan, &pinned, &settings.keys, &on_retry).await?;
    match &auth {
        signed::Authentication::Unauthenticated => events(Event::Unauthenticated),
        signed::Authentication::Pinned(a) => events(Event::Authenticated {
            auth: a.clone(),
            elapsed,
        }),
        signed::Authentication::Asset(_) => {}
    }

    let backends = &settings.backends;
    let target = match plan.layout {
        Layout::Archive => backends.archive_dir(settings.variant.as_str()),
        _ => backends.asset_path(&settings.asset),
    };
    if let Some(record) = &settings.repair {
        repair::check_release(record, &plan, &settings.source)?;
        let r = record.clone();
        let checks = tokio::task::spawn_blocking(move || {
            crate::installs::audit::check(
                &r,
                crate::installs::audit::Depth::Deep,
                2,
                &|_| {},
                &crate::cancel::Cancel::new(),
            )
        })
        .await
        .context("check task failed")??;
        if crate::installs::audit::all_passed(&checks) {
            return Ok(Outcome::NothingToRepair(record.clone()));
        }
        events(Event::Damaged(
            checks.into_iter().filter(|c| !c.status.passed()).collect(),
        ));
    } else if !settings.force {
        if let Some(record) = backends.read_record(&settings.asset)? {
            let signed_asset = matches!(auth, signed::Authentication::Asset(_));
            // An asset signature can only be checked over the bytes: an install that was
            // not authenticated then is downloaded again.
            if matches_install(&record, &plan, &target)
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
                    events(Event::StalePartialRemoved { path, bytes });
                }
                return Ok(Outcome::AlreadyInstalled(record));
            }
            tracing::info!(
                "{}: the install record differs from the release (sha256 {} vs {}): downloading",
                settings.asset,
                record.sha256,
                plan.sha256
            );
        }
    }

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
            sig: sig.clone(),
            size: plan.size,
        }),
        _ => None,
    };
    let ctx = Arc::new(Ctx {
        prehash,
        plan: plan.clone(),
        remote,
        data: data.clone(),
        progress,
        events: events.clone(),
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
    let resumed_from: u64 = ctx.data.snapshot().iter().sum();
    let downloaded = download_all(&ctx, settings.jobs).await;
    tracing::debug!("download: {:?}", started.elapsed());
    // After a failure whose data is kept, record exactly what is on disk for the rerun.
    let kept = downloaded.as_ref().err().is_some_and(keeps_partial);
    if let Err(e) = writeback.finish(kept) {
        tracing::warn!("cannot record the download's progress: {e:#}");
    }
    let installed = match downloaded {
        Ok(first) => install(&ctx, settings, &target, first, pinned_auth).await,
        Err(e) => Err(e),
    };
    match installed {
        Ok(record) => {
            partial.remove()?;
            if settings.repair.is_some() {
                let (done, _) = ctx.progress.totals();
                return Ok(Outcome::Repaired {
                    record,
                    downloaded: done.saturating_sub(resumed_from),
                });
            }
            Ok(Outcome::Installed(record))
        }
        Err(e) if keeps_partial(&e) => Err(crate::error::hinted(
            e,
            format!(
                "what was downloaded is kept in {}: run the same command again to resume",
                partial.dir().display()
            ),
        )),
        Err(e) => {
            let _ = partial.remove();
            Err(e)
        }
    }
}

/// `--variant auto`: settles the variant before the caller takes the asset's fetch slot.
/// With [`Compat::Auto`], reads the candidate's release, judges it (reporting through
/// `events`) and returns the settings of the variant to fetch (the candidate, or cpu), with
/// the check marked done ([`Compat::Skip`]); other settings are returned unchanged.
pub async fn settle_variant(settings: &Settings, events: Events) -> Result<Settings> {
    if !matches!(settings.compat, Compat::Auto(_)) {
        return Ok(settings.clone());
    }
    let remote = source::Remote::new(
        settings.source.clone(),
        http::Http::new(&settings.net)?,
        settings.retry,
    );
    let on_retry = {
        let events = events.clone();
        move |e: &http::HttpError, delay: Duration| {
            events(Event::Retry {
                what: String::new(),
                error: e.to_string(),
                delay,
            })
        }
    };
    let (mut settled, _, _) = preflight(settings, &remote, &events, &on_retry).await?;
    settled.compat = Compat::Skip;
    Ok(settled)
}

/// Discovers the release of `settings.asset` and runs the compatibility check
/// ([`Settings::compat`]); with `--variant auto` this may switch to the cpu variant, whose
/// settings and plan are returned.
async fn preflight(
    settings: &Settings,
    remote: &source::Remote,
    events: &Events,
    on_retry: &(dyn Fn(&http::HttpError, Duration) + Sync),
) -> Result<(Settings, Plan, layout::Pinned)> {
    let discover = |asset: String| async move {
        layout::discover_pinned(remote, &asset, on_retry)
            .await
            .map_err(|e| {
                if let Some(u) = unfixable(&e) {
                    crate::error::hinted(e, u.hint())
                } else if is_network(&e) {
                    crate::error::hinted(
                        e,
                        "check the network and the release server, or pass --source URL|DIR",
                    )
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
            let probes = probes.clone();
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
                events(Event::Compatible { variant, why });
            }
            Ok((settings, plan, pinned))
        }
        crate::gpu::Verdict::Unknown(why) if !auto => {
            events(Event::CompatUnknown { variant, why });
            Ok((settings, plan, pinned))
        }
        crate::gpu::Verdict::Cannot(why) if !auto => Err(crate::error::hinted(
            Error::Refused(format!(
                "{} at {} cannot run on this host: {why}",
                settings.asset,
                remote.source.display()
            )),
            format!(
                "fetch --variant cpu instead, or pass --skip-compat-check to download {} anyway",
                settings.asset
            ),
        )),
        crate::gpu::Verdict::Unknown(why) | crate::gpu::Verdict::Cannot(why) => {
            events(Event::AutoFallback { from: variant, why });
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
    let hint = if looks_like_a_server {
        format!(
            "a --source without a scheme is a directory; for a server, pass --source http://{text}"
        )
    } else {
        "pass an existing directory, or an http(s):// or file:// URL".to_string()
    };
    let what = if dir.exists() {
        "is not a directory"
    } else {
        "does not exist"
    };
    Err(crate::error::hinted(
        anyhow::anyhow!("release directory {} {what}", dir.display()),
        hint,
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
    err.chain()
        .any(|e| e.downcast_ref::<http::HttpError>().is_some())
}

/// Verifies the downloaded file and installs it; `first` is part 0's hash state.
async fn install(
    ctx: &Arc<Ctx>,
    settings: &Settings,
    target: &std::path::Path,
    first: hashing::Hashed,
    mut signature: Option<crate::signature::Authenticated>,
) -> Result<InstallRecord> {
    let plan = ctx.plan.clone();
    let data = ctx.data.clone();
    let target_buf: PathBuf = target.to_path_buf();
    let label = ctx.remote.source.locate(&plan.parts[0].name);
    let executable = settings.asset.clone();
    let max_expanded = settings
        .max_expanded
        .unwrap_or_else(|| archive::default_max_expanded(plan.size));
    let repair = settings.repair.clone();
    let events = ctx.events.clone();
    let replaced_events = ctx.events.clone();
    let signed_asset = ctx.prehash.is_some();
    let (asset_auth, files) = tokio::task::spawn_blocking(move || -> Result<_> {
        let asset_auth = install::verify(&data, &plan, first)?;
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
                )?;
                replaced_events(Event::Replaced(replaced));
                return Ok((asset_auth, record.files));
            }
        }
        let files = match plan.layout {
            Layout::Archive => archive::install_archive(
                data.path(),
                &label,
                &target_buf,
                &executable,
                max_expanded,
            )
            .map(Some)?,
            _ => install::install_file(data.path(), &target_buf).map(|()| None)?,
        };
        Ok((asset_auth, files))
    })
    .await
    .context("install task failed")??;
    (ctx.events)(Event::Verified(ctx.plan.sha256));
    if let Some((auth, elapsed)) = asset_auth {
        events(Event::Authenticated {
            auth: auth.clone(),
            elapsed,
        });
        signature = Some(auth);
    }
    let resolved = ctx.remote.resolved_latest(&ctx.plan.parts[0].name);
    let record = InstallRecord {
        asset: settings.asset.clone(),
        variant: Some(settings.variant.to_string()),
        path: target.to_path_buf(),
        sha256: ctx.plan.sha256,
        size: ctx.plan.size,
        version: settings
            .tag
            .clone()
            .or_else(|| resolved.as_ref().map(|(_, tag)| tag.clone()))
            .or_else(|| ctx.plan.version.clone()),
        // Where it came from as resolved: a "latest" URL is recorded as its tag's, so a
        // repair never becomes an upgrade.
        source: resolved
            .map(|(source, _)| source)
            .unwrap_or_else(|| settings.source.display()),
        layout: ctx.plan.layout,
        installed_at: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        signature,
        files,
        requires: ctx.plan.requires.clone(),
    };
    settings.backends.write_record(&record)?;
    Ok(record)
}

/// Downloads every part, `jobs` at a time, each on its own task, and returns part 0's
/// hash state. On the first failure the other tasks are stopped (their bytes so far stay on
/// disk) and the failure is returned.
async fn download_all(ctx: &Arc<Ctx>, jobs: usize) -> Result<hashing::Hashed> {
    let permits = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for index in 0..ctx.plan.parts.len() {
        let ctx = ctx.clone();
        let permits = permits.clone();
        set.spawn(async move {
            let _permit = permits.acquire_owned().await?;
            download::part(ctx, index).await.map(|h| (index, h))
        });
    }
    let mut first = None;
    let mut failure: Option<anyhow::Error> = None;
    while let Some(joined) = set.join_next().await {
        let result = match joined {
            Ok(r) => r,
            Err(e) if e.is_cancelled() => continue,
            Err(e) => Err(anyhow::anyhow!("download task failed: {e}")),
        };
        match result {
            Ok((0, h)) => first = h,
            Ok(_) => {}
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
    first.context("part 0 ended without a hash")
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

/// Whether partial data is worth keeping after `err`: network failures and interrupts only.
pub fn keeps_partial(err: &anyhow::Error) -> bool {
    crate::interrupt::requested()
        || matches!(Error::find(err), Some(Error::Interrupted))
        || is_network(err)
}

/// Resolves when SIGINT/SIGTERM has been received (polls the flag every 50 ms).
pub async fn interrupted() {
    while !crate::interrupt::requested() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sleeps for `d`, returning [`Error::Interrupted`] early on SIGINT/SIGTERM.
pub async fn sleep_interruptibly(d: Duration) -> Result<(), Error> {
    tokio::select! {
        () = tokio::time::sleep(d) => Ok(()),
        () = interrupted() => Err(Error::Interrupted),
    }
}
