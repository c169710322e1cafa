//! `voxctl doctor`: one report of everything that decides whether the backend can
//! work on this host, each failing check with what fixes it (a typed
//! [`Remedy`], which the command line words as the command to run).
//!
//! Checks, in report order: the GPUs and drivers found ([`crate::gpu`]) and which variants
//! they can run; each installed variant (version, and the quick or deep check of
//! [`crate::installs::audit`]); partial downloads left in `backends/.partial/`; the running
//! backend and its health ([`crate::backend::observe`]), and whether it runs what is installed
//! ("restart needed"); the state dir's and the data dir's
//! ownership and permissions; the free space on the data dir's filesystem (enough for one
//! more copy of the largest installed asset, which an update or a repair downloads before
//! it replaces the old one).
//!
//! Levels: `pass`, `info` (a fact, not a problem: no GPU is not a failure, since cpu is the
//! variant for it), `warn` (worth knowing, not failing: a probe that could not answer, a
//! partial download, a GPU variant installed where no GPU for it is seen, a restart needed to
//! run what is installed), `fail` (the backend cannot work as installed; [`Finding::fix`] says
//! what fixes it). Gathering never fails for what it finds; it errors only on SIGINT.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::backend::observe::{self, HealthState};
use crate::error::Remedy;
use crate::gpu::{self, Hardware, Probe, Probes, Verdict};
use crate::installs::audit::{self, Depth};
use crate::installs::{BackendsDir, InstallRecord};
use crate::variant::Variant;

/// How a check came out; in JSON `pass`, `info`, `warn` or `fail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Fine.
    Pass,
    /// A fact.
    Info,
    /// Worth knowing; not a failure.
    Warn,
    /// The backend cannot work as things are; see the fix.
    Fail,
}

impl Level {
    /// The word shown in the table.
    pub fn word(self) -> &'static str {
        match self {
            Level::Pass => "ok",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The area: `gpu`, `variant`, `installed`, `partial`, `backend`, `state_dir`,
    /// `data_dir`, `free_space`.
    pub check: String,
    /// What was checked (a GPU, a variant, a path).
    pub subject: String,
    /// The outcome.
    pub level: Level,
    /// What was found, in words.
    pub detail: String,
    /// What fixes a failure (or acts on a warning), as a typed next step: the command line
    /// words it as the command to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<Remedy>,
}

/// What to look at. Built with [`Inputs::new`], then changed field by field: a later version
/// may add fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Inputs {
    /// The app (names the assets).
    pub app: String,
    /// The app's data dir (holding `backends/`).
    pub data_dir: PathBuf,
    /// voxctl's state dir, as a path rather than an opened [`crate::state::StateDir`]: the
    /// state dir is one of the things diagnosed, so a missing, foreign or group-writable one
    /// is a finding here, where opening it would create it or refuse it. Take it from
    /// [`crate::state::StateDir::root`] when the app holds one.
    pub state_dir: PathBuf,
    /// The hardware probes.
    pub probes: Probes,
    /// Quick (sizes) or deep (re-hash) checks of the installs.
    pub depth: Depth,
    /// Ends a deep re-hash with [`crate::Error::Interrupted`].
    pub cancel: crate::cancel::Cancel,
}

impl Inputs {
    /// What to look at for `app`, installed in `data_dir`'s backends dir, with voxctl's state
    /// in `state_dir`: the [`Probes::default`] hardware probes, quick checks of the installs
    /// ([`Depth::Quick`]) and a fresh [`crate::cancel::Cancel`].
    pub fn new(app: &str, data_dir: &Path, state_dir: &Path) -> Inputs {
        Inputs {
            app: app.to_string(),
            data_dir: data_dir.to_path_buf(),
            state_dir: state_dir.to_path_buf(),
            probes: Probes::default(),
            depth: Depth::Quick,
            cancel: crate::cancel::Cancel::new(),
        }
    }
}

/// The whole report, serialized as `{"ok", "hardware", "findings"}` ([`Hardware`] as
/// [`crate::gpu`] serializes it, each fix as [`Remedy`] does). `doctor --json` prints the same
/// document with each fix worded as the command to run instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Report {
    /// Whether no check failed.
    pub ok: bool,
    /// The hardware as detected.
    pub hardware: Hardware,
    /// The findings, in report order.
    pub findings: Vec<Finding>,
}

fn finding(
    check: &str,
    subject: impl Into<String>,
    level: Level,
    detail: impl Into<String>,
    fix: Option<Remedy>,
) -> Finding {
    Finding {
        check: check.into(),
        subject: subject.into(),
        level,
        detail: detail.into(),
        fix,
    }
}

/// Runs every check (module docs). Errors only with [`crate::Error::Interrupted`].
///
/// ```no_run
/// use voxctl::doctor::{diagnose, Inputs};
///
/// let report = diagnose(&Inputs::new(
///     "voicebox",
///     "/home/me/.local/share/voicebox".as_ref(),
///     "/home/me/.local/state/voxctl".as_ref(),
/// ))?;
/// for f in report.findings.iter().filter(|f| f.fix.is_some()) {
///     println!("{} {}: {}", f.check, f.subject, f.detail);
/// }
/// # anyhow::Ok(())
/// ```
pub fn diagnose(inputs: &Inputs) -> Result<Report> {
    let hardware = gpu::detect(&inputs.probes)?;
    let backends = BackendsDir::new(&inputs.data_dir);
    let mut out = Vec::new();
    let records = match backends.records() {
        Ok(r) => r,
        Err(e) => {
            out.push(finding(
                "installed",
                backends.root().display().to_string(),
                Level::Fail,
                format!("cannot read the install records: {e:#}"),
                Some(Remedy::Inspect {
                    path: backends.root().to_path_buf(),
                }),
            ));
            Vec::new()
        }
    };
    gpus(&hardware, &mut out);
    variants(&hardware, &records, &inputs.app, &mut out);
    installs(&records, inputs.depth, &inputs.cancel, &mut out)?;
    partials(&backends, &mut out);
    running(&inputs.state_dir, &mut out);
    dirs(inputs, &backends, &mut out);
    space(inputs, &records, &mut out);
    Ok(Report {
        ok: out.iter().all(|f| f.level != Level::Fail),
        hardware,
        findings: out,
    })
}

fn gpus(hw: &Hardware, out: &mut Vec<Finding>) {
    match &hw.nvidia {
        Probe::Found { gpus } if !gpus.is_empty() => {
            for g in gpus {
                let cap = g.compute_cap.map_or_else(
                    || "compute capability unknown (driver older than 510)".to_string(),
                    |c| format!("compute capability {c}"),
                );
                let driver = g
                    .driver
                    .as_ref()
                    .map_or("driver unknown".to_string(), |d| format!("driver {d}"));
                out.push(finding(
                    "gpu",
                    &g.name,
                    Level::Pass,
                    format!("{cap}, {driver}"),
                    None,
                ));
            }
        }
        Probe::Found { .. } => out.push(finding(
            "gpu",
            "nvidia",
            Level::Info,
            "nvidia-smi lists no GPU",
            None,
        )),
        Probe::Absent { why } => out.push(finding("gpu", "nvidia", Level::Info, why, None)),
        Probe::CouldNotDetect { why } => out.push(finding(
            "gpu",
            "nvidia",
            Level::Warn,
            why,
            Some(Remedy::RunProbe {
                tool: "nvidia-smi".into(),
            }),
        )),
    }
    match &hw.amd {
        Probe::Found { gpus } if !gpus.is_empty() => {
            for g in gpus {
                out.push(finding(
                    "gpu",
                    format!("AMD {}", g.gfx),
                    Level::Pass,
                    format!("kfd topology node {}", g.node),
                    None,
                ));
            }
        }
        Probe::Found { .. } => out.push(finding(
            "gpu",
            "amd",
            Level::Info,
            "the kfd topology lists no GPU",
            None,
        )),
        Probe::Absent { why } => out.push(finding("gpu", "amd", Level::Info, why, None)),
        Probe::CouldNotDetect { why } => out.push(finding("gpu", "amd", Level::Warn, why, None)),
    }
}

/// Which variants can run here: judged against the installed release's requirements when
/// there is one, else against none (any GPU of the kind).
fn variants(hw: &Hardware, records: &[InstallRecord], app: &str, out: &mut Vec<Finding>) {
    for v in [Variant::Cpu, Variant::Cuda, Variant::Rocm] {
        let asset = v.asset(app);
        let record = records.iter().find(|r| r.asset == asset);
        let requires = record.and_then(|r| r.requires.clone()).unwrap_or_default();
        let (level, detail) = match gpu::judge(&requires, v, hw) {
            Verdict::Runs(why) => (Level::Pass, format!("can run: {why}")),
            // Installed for a GPU that is not seen: it may work once the GPU (or its driver)
            // is back, so a warning, not a failure.
            Verdict::Unknown(why) if record.is_some() => (
                Level::Warn,
                format!("installed, but no usable GPU for it is seen: {why}"),
            ),
            Verdict::Unknown(why) => (Level::Info, format!("no usable GPU seen: {why}")),
            // An installed variant the GPU cannot run is a failure; one not installed is not.
            Verdict::Cannot(why) if record.is_some() => (Level::Fail, format!("cannot run: {why}")),
            Verdict::Cannot(why) => (Level::Info, format!("cannot run: {why}")),
        };
        let cpu_installed = records.iter().any(|r| r.asset == Variant::Cpu.asset(app));
        let cpu = || Variant::Cpu.as_str().to_string();
        let fix = match level {
            Level::Warn if cpu_installed => Some(Remedy::Restart { variant: cpu() }),
            Level::Fail | Level::Warn => Some(Remedy::Install {
                variant: cpu(),
                fallback: false,
            }),
            _ => None,
        };
        out.push(finding("variant", v.as_str(), level, detail, fix));
    }
}

fn installs(
    records: &[InstallRecord],
    depth: Depth,
    cancel: &crate::cancel::Cancel,
    out: &mut Vec<Finding>,
) -> Result<()> {
    if records.is_empty() {
        out.push(finding(
            "installed",
            "none",
            Level::Fail,
            "no variant is installed",
            Some(Remedy::Install {
                variant: "auto".into(),
                fallback: false,
            }),
        ));
    }
    for r in records {
        let checks = audit::check(r, depth, 2, &|_| {}, cancel)?;
        let variant = r.variant.as_deref().unwrap_or("VARIANT");
        let version = r.version.as_deref().unwrap_or("unknown version");
        let what = match depth {
            Depth::Quick => "sizes match the install record",
            Depth::Deep => "every file matches its SHA-256",
        };
        if audit::all_passed(&checks) {
            out.push(finding(
                "installed",
                &r.asset,
                Level::Pass,
                format!("{version}, {} file(s), {what}", checks.len()),
                None,
            ));
        } else {
            out.push(finding(
                "installed",
                &r.asset,
                Level::Fail,
                format!("{version}, damaged: {}", audit::describe_failures(&checks)),
                Some(Remedy::Repair {
                    variant: variant.into(),
                }),
            ));
        }
    }
    Ok(())
}

fn partials(backends: &BackendsDir, out: &mut Vec<Finding>) {
    let dir = backends.root().join(".partial");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let bytes: u64 = std::fs::read_dir(&path)
            .map(|it| {
                it.flatten()
                    .filter(|f| f.file_type().is_ok_and(|t| t.is_file()))
                    .filter_map(|f| crate::platform::open_nonblocking(&f.path()).ok())
                    .filter_map(|f| crate::platform::allocated(&f).ok())
                    .sum()
            })
            .unwrap_or(0);
        let asset = e.file_name().to_string_lossy().into_owned();
        let variant = ["cpu", "cuda", "rocm"]
            .into_iter()
            .find(|v| asset.contains(&format!("-server-{v}")))
            .unwrap_or("VARIANT");
        out.push(finding(
            "partial",
            &asset,
            Level::Warn,
            format!(
                "a partial download ({} on disk) in {}",
                crate::size::iec(bytes),
                path.display()
            ),
            Some(Remedy::ResumeOrDiscard {
                variant: variant.into(),
                dir: path.clone(),
            }),
        ));
    }
}

fn running(state_dir: &Path, out: &mut Vec<Finding>) {
    // doctor creates nothing: without a state dir, nothing was started.
    if !state_dir.exists() {
        out.push(finding(
            "backend",
            "backend.json",
            Level::Info,
            "no backend was started by voxctl (no state dir yet)",
            None,
        ));
        return;
    }
    let state = match crate::state::StateDir::open(Some(state_dir)) {
        Ok(s) => s,
        Err(_) => return, // reported by the state dir check
    };
    match observe::observe(&state) {
        Ok(None) => out.push(finding(
            "backend",
            "backend.json",
            Level::Info,
            "no backend was started by voxctl",
            None,
        )),
        Ok(Some(o)) => {
            let subject = format!("{} (pid {})", o.record.variant, o.record.pid);
            let (level, detail) = match o.health {
                HealthState::Healthy => (Level::Pass, "running and healthy".to_string()),
                HealthState::NotRunning => (Level::Fail, "recorded but not running".to_string()),
                h => (
                    Level::Fail,
                    format!(
                        "running but {}: {}",
                        if h == HealthState::Unhealthy {
                            "unhealthy"
                        } else {
                            "unreachable"
                        },
                        o.health_detail.unwrap_or_default()
                    ),
                ),
            };
            let restart = Remedy::Restart {
                variant: o.record.variant.as_str().to_string(),
            };
            let fix = (level == Level::Fail).then(|| restart.clone());
            out.push(finding("backend", subject.clone(), level, detail, fix));
            if let Some(why) = o.restart_needed {
                out.push(finding("backend", subject, Level::Warn, why, Some(restart)));
            }
        }
        Err(e) => out.push(finding(
            "backend",
            state.backend_record().display().to_string(),
            Level::Fail,
            format!("{e:#}"),
            Some(Remedy::RemoveForeignFile {
                path: state.backend_record(),
            }),
        )),
    }
}

/// Owner and mode of a directory: owned by this user; the state dir also not group or
/// world writable, the data dir's `backends/` not world writable.
fn dir_finding(check: &str, path: &Path, forbidden: u32) -> Finding {
    let shown = path.display().to_string();
    let not_a_dir = |shown: String| {
        finding(
            check,
            shown.clone(),
            Level::Fail,
            "not a directory (a symlink or a file)",
            Some(Remedy::MoveAside {
                path: path.to_path_buf(),
            }),
        )
    };
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.is_dir() => return not_a_dir(shown),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return finding(check, shown, Level::Info, "does not exist yet", None)
        }
        Err(e) => return finding(check, shown, Level::Fail, format!("cannot stat: {e}"), None),
    }
    // Opened without following a link, so what is checked is what was just looked at.
    let dir = match crate::platform::open_state_dir(path) {
        Ok(d) => d,
        Err(e) if crate::platform::refusal(&e).is_some() => return not_a_dir(shown),
        Err(e) => return finding(check, shown, Level::Fail, format!("cannot open: {e}"), None),
    };
    let meta = match dir.metadata() {
        Ok(m) if m.is_dir() => m,
        Ok(_) => return not_a_dir(shown),
        Err(e) => return finding(check, shown, Level::Fail, format!("cannot stat: {e}"), None),
    };
    match crate::platform::foreign_owner(&dir) {
        Ok(None) => {}
        Ok(Some(why)) => {
            let fix = Remedy::TakeOwnership {
                path: path.to_path_buf(),
            };
            return finding(check, shown, Level::Fail, why, Some(fix));
        }
        Err(e) => {
            let why = format!("cannot read its owner: {e}");
            return finding(check, shown, Level::Fail, why, None);
        }
    }
    let Some(mode) = crate::platform::mode_bits(&meta) else {
        return finding(check, shown, Level::Pass, "owned by this user", None);
    };
    if mode & forbidden != 0 {
        return finding(
            check,
            shown.clone(),
            Level::Fail,
            format!("mode {mode:o} is writable by others"),
            Some(Remedy::SetMode {
                path: path.to_path_buf(),
                mode: mode & !forbidden,
            }),
        );
    }
    finding(
        check,
        shown,
        Level::Pass,
        format!("owned by this user, mode {mode:o}"),
        None,
    )
}

fn dirs(inputs: &Inputs, backends: &BackendsDir, out: &mut Vec<Finding>) {
    out.push(dir_finding("state_dir", &inputs.state_dir, 0o022));
    out.push(dir_finding("data_dir", &inputs.data_dir, 0o002));
    out.push(dir_finding("data_dir", backends.root(), 0o002));
}

/// The nearest existing ancestor of `p` (itself if it exists).
fn existing(p: &Path) -> &Path {
    p.ancestors().find(|a| a.exists()).unwrap_or(Path::new("/"))
}

fn space(inputs: &Inputs, records: &[InstallRecord], out: &mut Vec<Finding>) {
    let at = existing(&inputs.data_dir);
    let available = match crate::fetch::partial::available_space(at) {
        Ok(bytes) => bytes,
        Err(e) => {
            out.push(finding(
                "free_space",
                at.display().to_string(),
                Level::Warn,
                format!("{e:#}"),
                None,
            ));
            return;
        }
    };
    let needed = records.iter().map(|r| r.size).max().unwrap_or(0);
    let (level, fix) = if available < needed {
        (
            Level::Fail,
            Some(Remedy::FreeSpace {
                dir: at.to_path_buf(),
                bytes: needed - available,
            }),
        )
    } else {
        (Level::Pass, None)
    };
    out.push(finding(
        "free_space",
        at.display().to_string(),
        level,
        format!(
            "{} available; an update or repair of the largest install needs {}",
            crate::size::iec(available),
            crate::size::iec(needed)
        ),
        fix,
    ));
}
