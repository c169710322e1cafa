//! `voxctl fetch`: turn the flags into [`voxctl::fetch::Settings`], hold slot `fetch-{asset}`
//! for the whole run (or follow its holder with `--wait`), run the engine, and report:
//! indicatif bars on a terminal, JSON lines with `--json`, a status line every 5 s otherwise.
//! stdout gets the installed path (or the JSON events).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use voxctl::exit::ExitStatus;

use anyhow::Result;
use indicatif::{MultiProgress, ProgressBar};
use serde_json::json;
use voxctl::fetch::http::NetSettings;
use voxctl::fetch::{Compat, Event, Outcome, Progress, RetryPolicy, Settings, Source};
use voxctl::installs::BackendsDir;
use voxctl::slot::{SlotGuard, SlotTable};
use voxctl::variant::Variant;
use voxctl::Error;

use crate::cli::{FetchArgs, GlobalArgs, VariantChoice};
use crate::output::{human_bytes, Printer};

/// How often progress is sampled, JSON progress lines written and the slot updated.
const TICK: Duration = Duration::from_millis(100);
const JSON_EVERY: Duration = Duration::from_millis(500);
const SLOT_EVERY: Duration = Duration::from_millis(500);
const STATUS_EVERY: Duration = Duration::from_secs(5);

/// Runs the fetch. A failure's `{"event": "failed", "error": {...}}` line is written by
/// `Printer::error` (the printer knows fetch's JSON is an event stream).
pub fn run(global: &GlobalArgs, args: FetchArgs, printer: &Printer) -> Result<ExitStatus> {
    fetch(global, args, printer)
}

/// `--repair`: the variant to repair (`auto` names the only one installed) and its record.
fn repair_target(
    args: &FetchArgs,
    backends: &BackendsDir,
) -> Result<(Variant, voxctl::installs::InstallRecord)> {
    let app = &args.app.app;
    let variant = match args.variant {
        VariantChoice::Cpu => Variant::Cpu,
        VariantChoice::Cuda => Variant::Cuda,
        VariantChoice::Rocm => Variant::Rocm,
        VariantChoice::Auto => {
            let installed: Vec<Variant> = [Variant::Cpu, Variant::Cuda, Variant::Rocm]
                .into_iter()
                .filter(|v| backends.record_path(&v.asset(app)).exists())
                .collect();
            match installed.as_slice() {
                [one] => *one,
                [] => {
                    return Err(voxctl::error::hinted(
                        anyhow::anyhow!(
                            "nothing is installed in {} to repair",
                            backends.root().display()
                        ),
                        "install a variant with `voxctl fetch --variant VARIANT`",
                    ))
                }
                _ => {
                    return Err(Error::Usage(format!(
                    "several variants are installed ({}): name the one to repair with --variant",
                    installed
                        .iter()
                        .map(|v| v.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                    .into())
                }
            }
        }
    };
    let asset = variant.asset(app);
    let record = backends.read_record(&asset)?.ok_or_else(|| {
        voxctl::error::hinted(
            anyhow::anyhow!(
                "{asset} is not installed (no install record {}): nothing to repair",
                backends.record_path(&asset).display()
            ),
            format!("install it with `voxctl fetch --variant {variant}`"),
        )
    })?;
    Ok((variant, record))
}

fn settings(args: &FetchArgs, printer: &Printer) -> Result<Settings> {
    let data_dir = super::data_dir(&args.app)?;
    if args.repair {
        let backends = BackendsDir::new(&data_dir);
        let (variant, record) = repair_target(args, &backends)?;
        printer.message(format!(
            "repair {}: the recorded build{} from {}",
            record.asset,
            record
                .version
                .as_deref()
                .map(|v| format!(" {v}"))
                .unwrap_or_default(),
            record.source
        ));
        return Ok(Settings {
            app: args.app.app.clone(),
            asset: record.asset.clone(),
            variant,
            source: Source::parse(&record.source)?,
            tag: record.version.clone(),
            backends,
            jobs: usize::from(args.jobs),
            retry: retry_policy(args),
            net: net_settings(args),
            force: false,
            max_expanded: args.max_size,
            compat: Compat::Skip,
            repair: Some(record),
            keys: super::sign::keyring(&args.keys)?,
        });
    }
    let probes = super::gpu_probes(args.detect_timeout);
    let (variant, compat) = match args.variant {
        VariantChoice::Auto => {
            let hw = voxctl::gpu::detect(&probes)?;
            let (v, why) = voxctl::gpu::auto_candidate(&hw);
            printer.message(format!("variant auto: {v} ({why})"));
            let compat = if args.skip_compat_check {
                Compat::Skip
            } else {
                Compat::Auto(hw)
            };
            (v, compat)
        }
        choice => {
            let v = super::resolve_variant(choice, printer);
            let compat = if args.skip_compat_check {
                Compat::Skip
            } else {
                Compat::Explicit(probes)
            };
            (v, compat)
        }
    };
    let source = match &args.source {
        Some(s) => Source::parse(s)?,
        None => Source::github(args.tag.as_deref())?,
    };
    Ok(Settings {
        app: args.app.app.clone(),
        asset: variant.asset(&args.app.app),
        variant,
        source,
        tag: args.tag.clone(),
        backends: BackendsDir::new(&data_dir),
        jobs: usize::from(args.jobs),
        retry: retry_policy(args),
        net: net_settings(args),
        force: args.force,
        keys: super::sign::keyring(&args.keys)?,
        max_expanded: args.max_size,
        compat,
        repair: None,
    })
}

fn retry_policy(args: &FetchArgs) -> RetryPolicy {
    RetryPolicy {
        retries: usize::from(args.retries),
        min_delay: args.retry_delay,
        max_delay: Duration::from_secs(60).max(args.retry_delay),
    }
}

fn net_settings(args: &FetchArgs) -> NetSettings {
    NetSettings {
        connect_timeout: args.connect_timeout,
        read_timeout: args.read_timeout,
        github_token: std::env::var("GITHUB_TOKEN").ok(),
    }
}

fn fetch(global: &GlobalArgs, args: FetchArgs, printer: &Printer) -> Result<ExitStatus> {
    let settings = settings(&args, printer)?;
    let rt = super::runtime()?;
    // `--variant auto` settles on cuda/rocm or cpu first, so the slot taken is the asset's
    // that is fetched.
    let settings = {
        let early = Arc::new(Reporter::new(
            printer.clone(),
            &settings.asset,
            global.verbose > 0,
        ));
        let events: voxctl::fetch::Events = Arc::new(move |ev| early.event(ev));
        rt.block_on(voxctl::fetch::settle_variant(&settings, events))?
    };
    let state = super::state_dir(global)?;
    let table = SlotTable::new(&state)?;
    let slot = format!("fetch-{}", settings.asset);
    let guard = match table.try_acquire(&slot) {
        Ok(g) => g,
        Err(e) if args.wait.is_some() && matches!(Error::find(&e), Some(Error::Busy { .. })) => {
            follow_holder(&table, &slot, printer, args.wait.flatten())?
        }
        Err(e) => return Err(e),
    };
    let guard = Arc::new(Mutex::new(guard));
    let progress = Arc::new(Progress::default());
    let reporter = Arc::new(Reporter::new(
        printer.clone(),
        &settings.asset,
        global.verbose > 0,
    ));
    let events: voxctl::fetch::Events = {
        let reporter = reporter.clone();
        Arc::new(move |ev| reporter.event(ev))
    };
    let stop = Arc::new(AtomicBool::new(false));
    let ticker = {
        let (reporter, progress, guard, stop) = (
            reporter.clone(),
            progress.clone(),
            guard.clone(),
            stop.clone(),
        );
        std::thread::spawn(move || reporter.poll(&progress, &guard, &stop))
    };
    let result = rt.block_on(voxctl::fetch::fetch(&settings, progress.clone(), events));
    stop.store(true, Ordering::Relaxed);
    ticker.thread().unpark(); // no need to wait out the tick
    let _ = ticker.join();
    reporter.clear();
    let outcome = result?;
    let (record, already) = match outcome {
        Outcome::Installed(r) => (r, false),
        Outcome::AlreadyInstalled(r) => (r, true),
        Outcome::NothingToRepair(record) => {
            if printer.json() {
                printer.json_line(&json!({
                    "event": "nothing_to_repair", "asset": record.asset, "path": record.path,
                    "downloaded": 0,
                }))?;
            } else {
                printer.message(format!(
                    "{}: every file matches its install record; nothing to repair, nothing downloaded",
                    record.asset
                ));
                printer.data(record.path.display());
            }
            return Ok(ExitStatus::Success);
        }
        Outcome::Repaired { record, downloaded } => {
            if printer.json() {
                printer.json_line(&json!({
                    "event": "repaired", "asset": record.asset, "path": record.path,
                    "sha256": record.sha256, "version": record.version, "downloaded": downloaded,
                }))?;
            } else {
                printer.message(format!(
                    "repaired {} ({} downloaded: {downloaded} bytes)",
                    record.path.display(),
                    human_bytes(downloaded)
                ));
                printer.data(record.path.display());
            }
            return Ok(ExitStatus::Success);
        }
    };
    if printer.json() {
        printer.json_line(&json!({
            "event": if already { "already_installed" } else { "installed" },
            "asset": record.asset,
            "path": record.path,
            "sha256": record.sha256,
            "size": record.size,
            "layout": record.layout,
            "version": record.version,
            "signature": record.signature,
        }))?;
    } else {
        if already {
            printer.message(format!(
                "{} is already installed ({}, sha256 {}); nothing to do (--force reinstalls)",
                record.asset,
                human_bytes(record.size),
                record.sha256
            ));
        } else {
            printer.message(format!(
                "installed {} ({}, sha256 {})",
                record.path.display(),
                human_bytes(record.size),
                record.sha256
            ));
        }
        printer.data(record.path.display());
    }
    drop(guard);
    Ok(ExitStatus::Success)
}

/// How long the holder may show no progress (the same pid, the same byte count in its slot
/// metadata) before `--wait` says so, once per holder.
const STALL_NOTICE: Duration = Duration::from_secs(10);

/// `--wait[=LIMIT]`: follows the holder's progress from its slot metadata until the slot is
/// free, then takes it. The caller then runs a normal fetch, which finds the holder's install
/// ("already installed") or, if the holder died, resumes from its partial data. A holder
/// without progress for [`STALL_NOTICE`] is reported once (a stopped one with the
/// `kill -CONT` that resumes it); after `limit` the wait ends with [`Error::Busy`] (exit 4).
fn follow_holder(
    table: &SlotTable,
    slot: &str,
    printer: &Printer,
    limit: Option<Duration>,
) -> Result<SlotGuard> {
    let bar = printer.bytes_bar(0, "waiting");
    let mut status = printer.ticker(STATUS_EVERY);
    let started = Instant::now();
    let mut last_json = Instant::now() - JSON_EVERY;
    let mut announced = None;
    // The holder's (pid, bytes done) as last seen, and when it last changed.
    let mut seen = None;
    let mut changed = Instant::now();
    let mut stall_told = None;
    loop {
        match table.try_acquire(slot) {
            Ok(g) => {
                bar.finish_and_clear();
                return Ok(g);
            }
            Err(e) if matches!(Error::find(&e), Some(Error::Busy { .. })) => {
                if limit.is_some_and(|l| started.elapsed() >= l) {
                    bar.finish_and_clear();
                    let waited = humantime::format_duration(Duration::from_secs(
                        started.elapsed().as_secs(),
                    ));
                    let e = e.context(format!("still held after waiting {waited}"));
                    let hint = match seen {
                        Some((pid, _)) if voxctl::process::is_stopped(pid) => {
                            format!("pid {pid} is stopped: `kill -CONT {pid}` resumes it")
                        }
                        _ => "pass a longer --wait, or --wait alone to wait for as long as it \
                              takes"
                            .to_string(),
                    };
                    return Err(voxctl::error::hinted(e, hint));
                }
            }
            Err(e) => return Err(e),
        }
        if let Some(h) = table.holder(slot)? {
            if announced != Some(h.pid) {
                announced = Some(h.pid);
                printer.message(format!("waiting for {}", h.describe()));
            }
            if seen != Some((h.pid, h.done)) {
                seen = Some((h.pid, h.done));
                changed = Instant::now();
            } else if stall_told != Some(h.pid) && changed.elapsed() >= STALL_NOTICE {
                stall_told = Some(h.pid);
                let line = stall_notice(h.pid, changed.elapsed());
                if printer.json() {
                    printer.json_line(&json!({
                        "event": "holder_stalled", "holder_pid": h.pid,
                        "stopped": voxctl::process::is_stopped(h.pid),
                        "since_ms": changed.elapsed().as_millis() as u64,
                    }))?;
                }
                bar.suspend(|| printer.warn(line));
            }
            let (done, total) = (h.done.unwrap_or(0), h.total.unwrap_or(0));
            bar.set_length(total);
            bar.set_position(done);
            bar.set_message(format!("waiting for pid {}", h.pid));
            if printer.json() && last_json.elapsed() >= JSON_EVERY {
                last_json = Instant::now();
                printer.json_line(&json!({
                    "event": "waiting", "holder_pid": h.pid, "done": done, "total": total,
                }))?;
            }
            status.tick(|| format!("waiting for pid {}: {}", h.pid, fraction(done, total)));
        }
        voxctl::interrupt::check()?;
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// What `--wait` says about a holder that has shown no progress for `idle`.
fn stall_notice(pid: i32, idle: Duration) -> String {
    let idle = humantime::format_duration(Duration::from_secs(idle.as_secs()));
    if voxctl::process::is_stopped(pid) {
        format!(
            "pid {pid} has shown no progress for {idle}: it is stopped; `kill -CONT {pid}` \
             resumes it"
        )
    } else {
        format!(
            "pid {pid} has shown no progress for {idle}; if it was stopped (Ctrl-Z, SIGSTOP), \
             `kill -CONT {pid}` resumes it"
        )
    }
}

fn fraction(done: u64, total: u64) -> String {
    match (done * 100).checked_div(total) {
        Some(pct) => format!("{} of {} ({pct}%)", human_bytes(done), human_bytes(total)),
        None => human_bytes(done),
    }
}

/// Draws progress and writes events.
struct Reporter {
    printer: Printer,
    asset: String,
    /// `-v`: show the signature's trusted comment and the check's time.
    verbose: bool,
    multi: MultiProgress,
    bars: Mutex<Bars>,
}

#[derive(Default)]
struct Bars {
    total: Option<ProgressBar>,
    parts: HashMap<usize, ProgressBar>,
}

impl Reporter {
    fn new(printer: Printer, asset: &str, verbose: bool) -> Reporter {
        Reporter {
            multi: printer.multi(),
            printer,
            asset: asset.to_string(),
            verbose,
            bars: Mutex::new(Bars::default()),
        }
    }

    fn bars(&self) -> std::sync::MutexGuard<'_, Bars> {
        self.bars.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn event(&self, ev: Event) {
        let p = &self.printer;
        match ev {
            Event::Planned(plan) => {
                if p.json() {
                    let _ = p.json_line(&json!({
                        "event": "start", "asset": plan.asset, "layout": plan.layout,
                        "size": plan.size, "sha256": plan.sha256,
                        "parts": plan.parts.iter().map(|x| json!({"name": x.name, "size": x.size})).collect::<Vec<_>>(),
                    }));
                } else {
                    p.message(format!(
                        "{}: {} layout, {} part(s), {}",
                        self.asset,
                        plan.layout.as_str(),
                        plan.parts.len(),
                        human_bytes(plan.size)
                    ));
                }
                let bar = self.multi.add(p.bytes_bar(plan.size, self.asset.clone()));
                self.bars().total = Some(bar);
            }
            Event::PartStarted {
                index,
                name,
                from,
                size,
            } => {
                if from > 0 && !p.json() {
                    p.message(format!(
                        "{name}: resuming at {} of {}",
                        human_bytes(from),
                        human_bytes(size)
                    ));
                }
                if from < size {
                    let bar = self.multi.add(p.bytes_bar(size, name));
                    bar.set_position(from);
                    self.bars().parts.insert(index, bar);
                }
            }
            Event::PartVerified {
                index,
                name,
                sha256,
            } => {
                if let Some(bar) = self.bars().parts.remove(&index) {
                    bar.finish_and_clear();
                }
                if p.json() {
                    let _ = p.json_line(
                        &json!({"event": "part_verified", "part": name, "sha256": sha256}),
                    );
                }
            }
            Event::Retry { what, error, delay } => {
                if p.json() {
                    let _ = p.json_line(&json!({
                        "event": "retry", "part": what, "error": error, "delay_ms": delay.as_millis() as u64,
                    }));
                } else {
                    let d =
                        humantime::format_duration(Duration::from_millis(delay.as_millis() as u64));
                    self.multi
                        .suspend(|| p.warn(format!("{error}; retrying in {d}")));
                }
            }
            Event::Compatible { variant, why } => {
                if p.json() {
                    let _ = p
                        .json_line(&json!({"event": "compatible", "variant": variant, "why": why}));
                } else {
                    p.message(format!(
                        "{variant}: the release's requirements are met: {why}"
                    ));
                }
            }
            Event::CompatUnknown { variant, why } => {
                if p.json() {
                    let _ = p.json_line(
                        &json!({"event": "compat_unknown", "variant": variant, "why": why}),
                    );
                } else {
                    p.warn(format!(
                        "cannot check whether this host can run the {variant} release: {why}; \
                         downloading anyway"
                    ));
                }
            }
            Event::Damaged(checks) => {
                if p.json() {
                    let _ = p.json_line(&json!({"event": "damaged", "files": checks}));
                } else {
                    for c in &checks {
                        let detail = c
                            .detail
                            .as_deref()
                            .map(|d| format!(" ({d})"))
                            .unwrap_or_default();
                        p.message(format!("{}: {}{detail}", c.name, c.status.word()));
                    }
                    p.message(format!(
                        "{}: {} file(s) damaged; downloading the release again",
                        self.asset,
                        checks.len()
                    ));
                }
            }
            Event::Replaced(paths) => {
                if p.json() {
                    let _ = p.json_line(&json!({"event": "replaced", "files": paths}));
                } else {
                    p.message(format!(
                        "an archive cannot be read in parts, so it was downloaded whole; only the \
                         {} broken file(s) were replaced, each by a rename of a verified copy: {}",
                        paths.len(),
                        paths
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
            Event::AutoFallback { from, why } => {
                if p.json() {
                    let _ = p.json_line(
                        &json!({"event": "auto_fallback", "from": from, "to": "cpu", "why": why}),
                    );
                } else {
                    p.warn(format!("variant auto: not {from} but cpu: {why}"));
                }
            }
            Event::StalePartialRemoved { path, bytes } => {
                if p.json() {
                    let _ = p.json_line(&json!({
                        "event": "stale_partial_removed", "path": path, "bytes": bytes,
                    }));
                } else {
                    p.message(format!(
                        "removed a stale partial download of {} ({}) at {}",
                        self.asset,
                        human_bytes(bytes),
                        path.display()
                    ));
                }
            }
            Event::Verified(sha256) => {
                if p.json() {
                    let _ = p.json_line(&json!({"event": "verified", "sha256": sha256}));
                }
            }
            Event::Authenticated { auth, elapsed } => {
                if p.json() {
                    let _ = p.json_line(&json!({
                        "event": "authenticated", "file": auth.file, "signature": auth.signature,
                        "key_id": auth.key_id, "trusted_comment": auth.trusted_comment,
                        "check_ms": elapsed.as_secs_f64() * 1000.0,
                    }));
                } else if self.verbose {
                    self.multi.suspend(|| {
                        p.message(format!(
                            "authenticated {}: signed by key {} ({}; check took {:.3} ms)\n  trusted comment: {}",
                            auth.file,
                            auth.key_id,
                            auth.signature,
                            elapsed.as_secs_f64() * 1000.0,
                            auth.trusted_comment
                        ))
                    });
                }
            }
            Event::Unauthenticated => {
                if p.json() {
                    let _ = p.json_line(&json!({"event": "unauthenticated"}));
                } else {
                    self.multi.suspend(|| {
                        p.warn(format!(
                            "{}: the release is not authenticated (no public key configured: \
                             --pubkey, --pubkey-file, --tauri-conf or {})",
                            self.asset,
                            super::sign::PUBKEY_ENV
                        ))
                    });
                }
            }
        }
    }

    /// Samples the counters until `stop`: bars, JSON progress, status lines, slot metadata.
    fn poll(&self, progress: &Progress, guard: &Mutex<SlotGuard>, stop: &AtomicBool) {
        let mut status = self.printer.ticker(STATUS_EVERY);
        let started = Instant::now();
        let (mut last_json, mut last_slot) = (Instant::now(), Instant::now());
        let mut last_done = None;
        while !stop.load(Ordering::Relaxed) {
            std::thread::park_timeout(TICK); // unparked early when the fetch ends
            let (done, total) = progress.totals();
            if total == 0 {
                continue;
            }
            {
                let bars = self.bars();
                if let Some(b) = &bars.total {
                    b.set_position(done);
                }
                for (i, b) in &bars.parts {
                    if let Some(pp) = progress.parts().get(*i) {
                        b.set_position(pp.done());
                    }
                }
            }
            if last_slot.elapsed() >= SLOT_EVERY {
                last_slot = Instant::now();
                if let Ok(mut g) = guard.lock() {
                    let _ = g.set_progress(done, Some(total));
                }
            }
            if self.printer.json() && last_json.elapsed() >= JSON_EVERY && last_done != Some(done) {
                last_json = Instant::now();
                last_done = Some(done);
                let _ = self
                    .printer
                    .json_line(&json!({"event": "progress", "done": done, "total": total}));
            }
            status.tick(|| {
                let rate = done as f64 / started.elapsed().as_secs_f64().max(0.001);
                format!(
                    "fetch {}: {}, {}/s",
                    self.asset,
                    fraction(done, total),
                    human_bytes(rate as u64)
                )
            });
        }
    }

    fn clear(&self) {
        let mut bars = self.bars();
        for (_, b) in bars.parts.drain() {
            b.finish_and_clear();
        }
        if let Some(b) = bars.total.take() {
            b.finish_and_clear();
        }
    }
}
