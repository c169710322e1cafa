//! `voxctl fetch`: turn the flags into [`voxctl::fetch::Settings`], run
//! [`voxctl::fetch::install`] (or `repair` for `--repair`, `plan` for `--dry-run`; each holds
//! slot `fetch-{asset}`, waits with `--wait`, retries and resumes), and render its events: indicatif bars on a terminal, JSON lines with
//! `--json` (each line an event as it serializes), a status line every 5 s otherwise. stdout
//! gets the installed path (or the JSON events).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use voxctl::exit::ExitStatus;

use anyhow::Result;
use indicatif::{MultiProgress, ProgressBar};
use voxctl::fetch::http::NetSettings;
use voxctl::fetch::{Compat, Event, RetryPolicy, Settings, Source};
use voxctl::installs::{BackendsDir, InstallRecord};
use voxctl::variant::Variant;
use voxctl::Error;

use crate::cli::{FetchArgs, GlobalArgs, VariantChoice};
use crate::output::{human_bytes, untrusted, Printer};

/// The label of the whole file's bar.
const TOTAL: &str = "total";
/// The label of a differential fetch's bar: it counts the bytes to download.
const DELTA: &str = "download";

/// How often `progress` and `waiting` JSON lines are written, at most.
const JSON_EVERY: Duration = Duration::from_millis(500);
/// How often a status line is printed in logs, at most.
const STATUS_EVERY: Duration = Duration::from_secs(5);

/// Runs the fetch. A failure's `{"event": "failed", "error": {...}}` line is written by
/// `Printer::error` (the printer knows fetch's JSON is an event stream).
pub fn run(global: &GlobalArgs, args: FetchArgs, printer: &Printer) -> Result<ExitStatus> {
    let (settings, job) = settings(global, &args, printer)?;
    let render = Arc::new(Render::new(
        printer.clone(),
        &settings.asset,
        global.verbose > 0,
    ));
    let report: voxctl::fetch::Reporter = {
        let render = render.clone();
        Arc::new(move |ev| render.event(ev))
    };
    let result = super::runtime()?.block_on(async {
        match job {
            Job::Install => voxctl::fetch::install(&settings, report).await,
            Job::Repair(record) => voxctl::fetch::repair(&settings, *record, report).await,
            Job::Plan => voxctl::fetch::plan(&settings, report).await,
        }
    });
    render.clear();
    result.map(|_| ExitStatus::Success)
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
                    return Err(crate::hint::hinted(
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
        crate::hint::hinted(
            anyhow::anyhow!(
                "{asset} is not installed (no install record {}): nothing to repair",
                backends.record_path(&asset).display()
            ),
            format!("install it with `voxctl fetch --variant {variant}`"),
        )
    })?;
    // Refused before the release is asked: a repair works where the record says.
    backends.recorded_install_path(&record, variant.as_str(), &asset)?;
    Ok((variant, record))
}

/// Which library entry point the flags ask for.
enum Job {
    Install,
    Repair(Box<InstallRecord>),
    Plan,
}

fn settings(global: &GlobalArgs, args: &FetchArgs, printer: &Printer) -> Result<(Settings, Job)> {
    let data_dir = super::data_dir(&args.app)?;
    let state = super::state_dir(global)?;
    // What a repair and an install take alike from the flags.
    let with_flags = |variant, source, tag: Option<String>| -> Result<Settings> {
        let mut settings = Settings::new(&args.app.app, variant, source, &data_dir, &state);
        settings.mirrors = mirrors(args)?;
        settings.tag = tag;
        settings.wait = args.wait.wait();
        settings.jobs = usize::from(args.jobs);
        settings.retry = retry_policy(args);
        settings.net = net_settings(args);
        settings.keys = super::sign::keyring(&args.keys)?;
        settings.max_expanded = args.max_size;
        settings.cancel = crate::signals::cancel();
        Ok(settings)
    };
    if args.repair {
        let backends = BackendsDir::new(&data_dir);
        let (variant, record) = repair_target(args, &backends)?;
        printer.message(format!(
            "repair {}: the recorded build{} from {}",
            record.asset,
            record
                .version
                .as_deref()
                .map(|v| format!(" {}", untrusted(v)))
                .unwrap_or_default(),
            untrusted(&record.source)
        ));
        // The asset is derived from the variant, never the record's own say.
        let source = Source::parse(&record.source)?;
        let mut settings = with_flags(variant, source, record.version.clone())?;
        settings.compat = Compat::Skip;
        return Ok((settings, Job::Repair(Box::new(record))));
    }
    let probes = super::gpu_probes(args.detect_timeout);
    let (variant, seen) = match args.variant {
        VariantChoice::Auto => {
            let (v, hw) = super::auto_variant(&probes, printer)?;
            (v, Some(hw))
        }
        choice => (
            super::resolve_variant(choice, args.detect_timeout, printer)?,
            None,
        ),
    };
    let compat = match seen {
        _ if args.skip_compat_check => Compat::Skip,
        Some(hw) => Compat::Auto(hw),
        None => Compat::Explicit(probes),
    };
    let source = match &args.source {
        Some(s) => Source::parse(s)?,
        None => Source::github(args.tag.as_deref())?,
    };
    let mut settings = with_flags(variant, source, args.tag.clone())?;
    settings.force = args.force;
    settings.compat = compat;
    settings.delta = voxctl::fetch::delta::Delta {
        disabled: args.no_delta,
        seeds: args.seed.clone(),
    };
    settings.allow_downgrade = args.allow_downgrade;
    let job = if args.dry_run {
        Job::Plan
    } else {
        Job::Install
    };
    Ok((settings, job))
}

/// `--mirror` and `VOXCTL_MIRRORS`, in order (empty words of the variable ignored).
fn mirrors(args: &FetchArgs) -> Result<Vec<Source>> {
    Ok(args
        .mirrors
        .iter()
        .filter(|m| !m.trim().is_empty())
        .map(|m| Source::parse(m.trim()))
        .collect::<Result<_, _>>()?)
}

fn retry_policy(args: &FetchArgs) -> RetryPolicy {
    RetryPolicy {
        retries: usize::from(args.retries),
        min_delay: args.retry_delay,
        max_delay: RetryPolicy::default().max_delay,
    }
}

fn net_settings(args: &FetchArgs) -> NetSettings {
    NetSettings {
        connect_timeout: args.connect_timeout,
        read_timeout: args.read_timeout,
        github_token: std::env::var("GITHUB_TOKEN").ok(),
    }
}

/// Renders a fetch's events: bars on a terminal, JSON lines with `--json`, status lines in
/// logs, messages on stderr and the installed path on stdout.
struct Render {
    printer: Printer,
    /// `-v`: show the signature's trusted comment and the check's time.
    verbose: bool,
    multi: MultiProgress,
    state: Mutex<State>,
}

/// What the rendering remembers between events.
struct State {
    /// The asset fetched (the plan's, once known: `--variant auto` may settle on cpu).
    asset: String,
    /// The bar of `--wait`, while waiting.
    waiting: Option<ProgressBar>,
    /// The whole file's bar (in a differential fetch, the download's).
    total: Option<ProgressBar>,
    /// The bars of the active parts, by part name (none for a plan of one file: the whole
    /// file's bar shows it).
    parts: HashMap<String, ProgressBar>,
    /// The plan's part names, in order (what [`Event::Progress`]'s `parts` count).
    names: Vec<String>,
    /// The bars' labels (`total`, `part00`, ...), all as wide as the widest, so that the
    /// bars line up; by part name, and the whole file's under [`TOTAL`].
    labels: HashMap<String, String>,
    /// The asset's size (the whole file's bar, again after a differential fetch fell back).
    size: u64,
    /// What the first progress event said was done (the status line's rate counts from it).
    base: Option<u64>,
    /// When the plan came (the rate's start).
    started: Instant,
    status: crate::output::StatusTicker,
    /// When the last `progress` or `waiting` JSON line was written, and its `done`.
    last_json: Instant,
    last_done: Option<u64>,
}

impl Render {
    fn new(printer: Printer, asset: &str, verbose: bool) -> Render {
        let state = State {
            asset: asset.to_string(),
            waiting: None,
            total: None,
            parts: HashMap::new(),
            names: Vec::new(),
            labels: HashMap::new(),
            size: 0,
            base: None,
            started: Instant::now(),
            status: printer.ticker(STATUS_EVERY),
            last_json: Instant::now() - JSON_EVERY,
            last_done: None,
        };
        Render {
            multi: printer.multi(),
            printer,
            verbose,
            state: Mutex::new(state),
        }
    }

    /// Writes `ev` as its JSON line.
    fn json(&self, ev: &Event) {
        // Through a `Value`: keys in alphabetical order, whatever the field order in Rust.
        if let Ok(v) = serde_json::to_value(ev) {
            let _ = self.printer.json_line(&v);
        }
    }

    /// Prints a message (or a warning) on stderr with the bars taken off the terminal for
    /// the time of it, so the bars are drawn again below it and no bar line is left behind.
    fn say(&self, f: impl FnOnce()) {
        self.multi.suspend(f);
    }

    fn event(&self, ev: &Event) {
        let p = &self.printer;
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let st = &mut *st;
        let waiting = matches!(
            ev,
            Event::HolderFound { .. } | Event::Waiting { .. } | Event::HolderStalled { .. }
        );
        if !waiting {
            if let Some(bar) = st.waiting.take() {
                bar.finish_and_clear();
            }
        }
        let streamed = !matches!(
            ev,
            Event::HolderFound { .. } | Event::PartStarted { .. } | Event::Progress { .. }
        );
        if p.json() && streamed && !matches!(ev, Event::Waiting { .. }) {
            self.json(ev);
        }
        match ev {
            Event::HolderFound { holder } => {
                self.waiting_bar(st, holder.pid);
                self.say(|| p.message(format!("waiting for {}", untrusted(&holder.describe()))));
            }
            Event::Waiting {
                holder_pid,
                done,
                total,
            } => {
                let bar = self.waiting_bar(st, *holder_pid);
                bar.set_length(*total);
                bar.set_position(*done);
                if p.json() && st.last_json.elapsed() >= JSON_EVERY {
                    st.last_json = Instant::now();
                    self.json(ev);
                }
                st.status
                    .tick(|| format!("waiting for pid {holder_pid}: {}", fraction(*done, *total)));
            }
            Event::Planned {
                asset,
                layout,
                size,
                parts,
                ..
            } => {
                st.asset = asset.clone();
                st.size = *size;
                st.names = parts.iter().map(|x| x.name.clone()).collect();
                st.labels = labels(asset, &st.names);
                st.started = Instant::now();
                st.base = None;
                st.last_json = Instant::now();
                if !p.json() {
                    self.say(|| {
                        p.message(format!(
                            "{asset}: {} layout, {} part(s), {}",
                            layout.as_str(),
                            parts.len(),
                            human_bytes(*size)
                        ))
                    });
                }
                st.total = Some(self.multi.add(p.bytes_bar(*size, &st.labels[TOTAL])));
            }
            Event::PartStarted { part, from, size } => {
                if *from > 0 && !p.json() {
                    self.say(|| {
                        p.message(format!(
                            "{part}: resuming at {} of {}",
                            human_bytes(*from),
                            human_bytes(*size)
                        ))
                    });
                }
                // A plan of one file has the whole file's bar only.
                if from < size && st.names.len() > 1 {
                    let label = st.labels.get(part).map_or(part.as_str(), String::as_str);
                    // Created at `from`: the bytes already on disk are no download rate.
                    let bar = p.bytes_bar(*size, label).with_position(*from);
                    st.parts.insert(part.clone(), self.multi.add(bar));
                }
            }
            Event::Progress {
                done,
                total,
                parts,
                downloaded,
                to_download,
            } => {
                if let Some(b) = &st.total {
                    b.set_position(downloaded.unwrap_or(*done));
                }
                for (name, n) in st.names.iter().zip(parts) {
                    if let Some(b) = st.parts.get(name) {
                        b.set_position(*n);
                    }
                }
                if p.json() && st.last_json.elapsed() >= JSON_EVERY && st.last_done != Some(*done) {
                    st.last_json = Instant::now();
                    st.last_done = Some(*done);
                    self.json(ev);
                }
                // The status line of a log: the download's progress, at its rate since the
                // first progress seen (resumed bytes are no rate).
                let (now, of) = match (downloaded, to_download) {
                    (Some(d), Some(t)) => (*d, *t),
                    _ => (*done, *total),
                };
                let base = *st.base.get_or_insert(now);
                let rate =
                    now.saturating_sub(base) as f64 / st.started.elapsed().as_secs_f64().max(0.001);
                let asset = &st.asset;
                st.status.tick(|| {
                    format!(
                        "fetch {asset}: {}, {}/s",
                        fraction(now, of),
                        human_bytes(rate as u64)
                    )
                });
            }
            Event::DeltaPlanned(plan) => {
                if !p.json() {
                    self.say(|| p.message(delta_summary(plan)));
                }
                // The whole bar now counts the bytes to download.
                let label = st.labels.get(DELTA).map_or(DELTA, String::as_str);
                self.replace_total(st, p.bytes_bar(plan.to_download, label));
            }
            Event::DeltaFallback { why } => {
                if !p.json() {
                    self.say(|| {
                        p.warn(format!(
                            "{}: not a differential fetch: {why}; downloading the whole asset",
                            st.asset
                        ))
                    });
                }
                let label = st.labels.get(TOTAL).map_or(TOTAL, String::as_str);
                let bar = p.bytes_bar(st.size, label);
                self.replace_total(st, bar);
            }
            Event::PartVerified { part, .. } => {
                if let Some(bar) = st.parts.remove(part) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
            }
            Event::Installed(_)
            | Event::AlreadyInstalled(_)
            | Event::Repaired { .. }
            | Event::NothingToRepair { .. } => {
                self.clear_bars(st);
                if !p.json() {
                    finished(p, ev);
                }
            }
            // A stalled holder is worth a warning even with `--json`.
            Event::HolderStalled { .. } => self.note(st, ev),
            _ if !p.json() => self.note(st, ev),
            _ => {}
        }
    }

    /// The human line (a message or a warning) of an event that changes no bar, printed
    /// above the bars; with `--json`, only a stalled holder's warning is.
    fn note(&self, st: &State, ev: &Event) {
        let p = &self.printer;
        match ev {
            Event::HolderStalled {
                holder_pid,
                stopped,
                since_ms,
            } => {
                let line = stall_notice(*holder_pid, *stopped, Duration::from_millis(*since_ms));
                self.say(|| p.warn(line));
            }
            Event::Compatible { variant, why } => self.say(|| {
                p.message(format!(
                    "{variant}: the release's requirements are met: {why}"
                ))
            }),
            Event::CompatUnknown { variant, why } => self.say(|| {
                p.warn(format!(
                    "cannot check whether this host can run the {variant} release: {why}; \
                     downloading anyway"
                ))
            }),
            Event::AutoFallback { from, to, why } => {
                self.say(|| p.warn(format!("variant auto: not {from} but {to}: {why}")))
            }
            Event::Retry {
                error, delay_ms, ..
            } => {
                let d = humantime::format_duration(Duration::from_millis(*delay_ms));
                self.say(|| p.warn(format!("{error}; retrying in {d}")));
            }
            Event::Damaged { files } => self.say(|| {
                for c in files {
                    let detail = c
                        .detail
                        .as_deref()
                        .map(|d| format!(" ({d})"))
                        .unwrap_or_default();
                    p.message(format!("{}: {}{detail}", c.name, c.status.word()));
                }
                p.message(format!(
                    "{}: {} file(s) damaged; downloading the release again",
                    st.asset,
                    files.len()
                ));
            }),
            Event::Replaced { files } => self.say(|| {
                p.message(format!(
                    "an archive cannot be read in parts, so it was downloaded whole; only the \
                     {} broken file(s) were replaced, each by a rename of a verified copy: {}",
                    files.len(),
                    files
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }),
            Event::StalePartialRemoved { path, bytes } => self.say(|| {
                p.message(format!(
                    "removed a stale partial download of {} ({}) at {}",
                    st.asset,
                    human_bytes(*bytes),
                    path.display()
                ))
            }),
            Event::Authenticated { auth, check_us, .. } if self.verbose => self.say(|| {
                p.message(format!(
                    "authenticated {}: signed by key {} ({}; check took {:.3} ms)\n  \
                     trusted comment: {}",
                    auth.file,
                    auth.key_id,
                    auth.signature,
                    *check_us as f64 / 1000.0,
                    untrusted(&auth.trusted_comment)
                ))
            }),
            Event::Unauthenticated => self.say(|| {
                // Two short lines: an 80-column terminal shows them unwrapped.
                p.warn(format!(
                    "{}: the release is not authenticated\n  (no public key: --pubkey, \
                     --pubkey-file, --tauri-conf or {})",
                    st.asset,
                    super::sign::PUBKEY_ENV
                ))
            }),
            _ => {}
        }
    }

    /// The bar of `--wait`, made on the first event about holder `pid`.
    fn waiting_bar<'a>(&self, st: &'a mut State, pid: i32) -> &'a ProgressBar {
        st.waiting.get_or_insert_with(|| {
            let bar = self.printer.bytes_bar(0, &format!("waiting for pid {pid}"));
            self.multi.add(bar)
        })
    }

    /// Puts `bar` in the place of the whole file's bar, at the top.
    fn replace_total(&self, st: &mut State, bar: ProgressBar) {
        if let Some(old) = st.total.take() {
            old.finish_and_clear();
            self.multi.remove(&old);
        }
        st.total = Some(self.multi.insert(0, bar));
        st.started = Instant::now();
        st.base = None;
    }

    /// Takes every bar off the terminal, leaving no line of them behind.
    fn clear_bars(&self, st: &mut State) {
        for (_, b) in st.parts.drain() {
            b.finish_and_clear();
            self.multi.remove(&b);
        }
        for b in [st.total.take(), st.waiting.take()].into_iter().flatten() {
            b.finish_and_clear();
            self.multi.remove(&b);
        }
        let _ = self.multi.clear();
    }

    /// Takes every bar off the terminal (when the fetch ends, however it ends).
    fn clear(&self) {
        self.clear_bars(&mut self.state.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

/// The lines of a fetch's last event (installed, already installed, repaired, nothing to
/// repair): messages on stderr, the install path on stdout.
fn finished(p: &Printer, ev: &Event) {
    match ev {
        Event::Installed(r) | Event::AlreadyInstalled(r) => {
            if matches!(ev, Event::AlreadyInstalled(_)) {
                p.message(format!(
                    "{} is already installed ({}); nothing to do (--force reinstalls)",
                    r.asset,
                    human_bytes(r.size)
                ));
            } else {
                p.message(format!(
                    "installed {} ({})",
                    r.path.display(),
                    human_bytes(r.size)
                ));
            }
            p.message(format!("sha256 {}", r.sha256));
            p.data(r.path.display());
        }
        Event::Repaired {
            path, downloaded, ..
        } => {
            p.message(format!(
                "repaired {} ({} downloaded)",
                path.display(),
                human_bytes(*downloaded)
            ));
            p.data(path.display());
        }
        Event::NothingToRepair { asset, path, .. } => {
            p.message(format!(
                "{asset}: every file matches its install record; nothing to repair, \
                 nothing downloaded"
            ));
            p.data(path.display());
        }
        _ => {}
    }
}

/// The bars' labels for the plan of `asset` with these parts: `total`, `download` and each
/// part's name without the asset's stem (`part00`, `part01.exe`), all padded to the widest.
fn labels(asset: &str, parts: &[String]) -> HashMap<String, String> {
    let stem = asset.strip_suffix(".exe").unwrap_or(asset);
    let mut labels: Vec<(String, String)> = [TOTAL, DELTA]
        .into_iter()
        .map(|l| (l.to_string(), l.to_string()))
        .chain(parts.iter().map(|name| {
            let short = name
                .strip_prefix(stem)
                .and_then(|rest| rest.strip_prefix('.'))
                .filter(|rest| !rest.is_empty())
                .unwrap_or(name);
            (name.clone(), short.to_string())
        }))
        .collect();
    let width = labels
        .iter()
        .map(|(_, l)| l.chars().count())
        .max()
        .unwrap_or(0);
    for (_, l) in &mut labels {
        *l = format!("{l:<width$}");
    }
    labels.into_iter().collect()
}

/// What `--wait` says about a holder that has shown no progress for `idle`.
fn stall_notice(pid: i32, stopped: bool, idle: Duration) -> String {
    let idle = humantime::format_duration(Duration::from_secs(idle.as_secs()));
    if stopped {
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

/// The plan of a differential fetch (or `--dry-run`) in words: "2.4 MB to download in 3
/// requests, 35.5 MB reused from the installed 0.3.0".
fn delta_summary(plan: &voxctl::fetch::delta::DeltaPlan) -> String {
    use voxctl::fetch::delta::SeedKind;
    if plan.index.is_none() {
        return format!(
            "the release has no chunk index: the whole asset, {}, is downloaded",
            human_bytes(plan.size)
        );
    }
    let from: Vec<(u64, String)> = plan
        .seeds
        .iter()
        .filter(|s| s.reused > 0)
        .map(|s| {
            let what = match (s.kind, &s.version) {
                (SeedKind::Installed, Some(v)) => format!("the installed {}", untrusted(v)),
                (SeedKind::Installed, None) => "the installed asset".to_string(),
                (SeedKind::Seed, _) => s.path.display().to_string(),
                (SeedKind::Partial, _) => "the partial download".to_string(),
            };
            (s.reused, what)
        })
        .collect();
    let reused = match from.as_slice() {
        [] => "nothing reused (no local file holds any of its chunks)".to_string(),
        [(bytes, what)] => format!("{} reused from {what}", human_bytes(*bytes)),
        many => format!(
            "{} reused ({})",
            human_bytes(plan.reused),
            many.iter()
                .map(|(bytes, what)| format!("{} from {what}", human_bytes(*bytes)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    format!(
        "{} to download in {} request(s) of {} ({:.1}%), {reused}",
        human_bytes(plan.to_download),
        plan.requests,
        human_bytes(plan.size),
        100.0 * plan.to_download as f64 / plan.size.max(1) as f64
    )
}

fn fraction(done: u64, total: u64) -> String {
    match (done * 100).checked_div(total) {
        Some(pct) => format!("{} of {} ({pct}%)", human_bytes(done), human_bytes(total)),
        None => human_bytes(done),
    }
}
