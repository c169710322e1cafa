//! What `voxctl status` (and `doctor`) say about the backend: the record in `backend.json`,
//! whether that very process still runs (pid and start time), its uptime, one health probe,
//! and whether what is installed now is what it runs ([`restart_needed`]).

use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use super::health::{self, HealthUrl};
use super::record::{now_ms, BackendRecord};
use super::select::version_matches;
use crate::installs::BackendsDir;
use crate::state::StateDir;

/// How long the one health probe of `status` may take.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// The backend's health as `status` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    /// HTTP 200 (and the variant it reports, if any, is the recorded one).
    Healthy,
    /// An answer, but not a healthy one.
    Unhealthy,
    /// No answer (connection refused, timeout, garbage).
    Unreachable,
    /// The recorded process is not running; not probed.
    NotRunning,
}

impl HealthState {
    /// The name in JSON (`healthy`, `unhealthy`, `unreachable`, `not_running`), also shown
    /// to people.
    pub fn name(self) -> &'static str {
        match self {
            HealthState::Healthy => "healthy",
            HealthState::Unhealthy => "unhealthy",
            HealthState::Unreachable => "unreachable",
            HealthState::NotRunning => "not_running",
        }
    }
}

impl std::fmt::Display for HealthState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The running backend, observed now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Observed {
    /// What `backend.json` says.
    #[serde(flatten)]
    pub record: BackendRecord,
    /// Whether that process (same pid and start time, boot and host) is running.
    pub running: bool,
    /// Milliseconds since it was started, while running.
    pub uptime_ms: Option<u64>,
    /// The health probe's verdict.
    pub health: HealthState,
    /// The probe's detail: the HTTP status, or the connection error.
    pub health_detail: Option<String>,
    /// The `backend_variant` the health answer reported.
    pub backend_variant: Option<String>,
    /// While it runs: why what is installed now is not what it runs (another version, or
    /// its binary replaced since it started), so a restart is needed to run it; else `null`.
    #[serde(default)]
    pub restart_needed: Option<String>,
}

/// What decides whether a running backend runs what is installed now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstalledFacts {
    /// The version the running backend reported when it was started.
    pub running_version: Option<String>,
    /// The version the install record of its asset claims now.
    pub installed_version: Option<String>,
    /// Whether the file at its binary's path now is another file (device, inode) than the
    /// one the process runs; `None` when either is unknown (the binary is gone, or the
    /// process cannot be inspected).
    pub binary_replaced: Option<bool>,
}

/// Why a restart is needed to run what is installed, or `None` when the backend runs it (or
/// nothing says otherwise). Versions are compared ignoring a leading `v`, as the version check
/// of a restart does.
pub fn restart_needed(f: &InstalledFacts) -> Option<String> {
    if let (Some(installed), Some(running)) = (&f.installed_version, &f.running_version) {
        if !version_matches(installed, running) {
            return Some(format!(
                "version {installed} is installed but {running} runs: restart needed"
            ));
        }
    }
    (f.binary_replaced == Some(true)).then(|| {
        "the installed binary was replaced after the backend started: restart needed".into()
    })
}

/// The facts about `record`'s process, which runs.
fn installed_facts(record: &BackendRecord) -> InstalledFacts {
    let installed_version = record.data_dir.as_deref().and_then(|d| {
        let asset = record.binary.file_name()?.to_str()?;
        BackendsDir::new(d).read_record(asset).ok()??.version
    });
    let running = crate::process::exe_identity(record.pid).map(|(_, dev, ino)| (dev, ino));
    let on_disk = crate::platform::process::path_identity(&record.binary);
    InstalledFacts {
        running_version: record.version.clone(),
        installed_version,
        binary_replaced: running.zip(on_disk).map(|(a, b)| a != b),
    }
}

/// Reads `backend.json` and observes its process; `Ok(None)` when there is no record.
pub fn observe(state: &StateDir) -> Result<Option<Observed>> {
    let Some(record) = BackendRecord::read(&state.backend_record())? else {
        return Ok(None);
    };
    let running = record.is_alive();
    let mut obs = Observed {
        uptime_ms: running.then(|| now_ms().saturating_sub(record.started_at)),
        running,
        health: HealthState::NotRunning,
        health_detail: None,
        backend_variant: None,
        restart_needed: None,
        record,
    };
    if running {
        obs.restart_needed = restart_needed(&installed_facts(&obs.record));
        let url = obs
            .record
            .health_url
            .as_deref()
            .and_then(|u| HealthUrl::parse(u).ok())
            .unwrap_or_else(|| HealthUrl::for_port(obs.record.port));
        match health::probe(&url, PROBE_TIMEOUT) {
            Ok(p) => {
                obs.health = if p.healthy_for(Some(obs.record.variant.as_str())) {
                    HealthState::Healthy
                } else {
                    HealthState::Unhealthy
                };
                obs.health_detail = Some(format!("HTTP {}", p.code));
                obs.backend_variant = p.backend_variant;
            }
            Err(e) => {
                obs.health = HealthState::Unreachable;
                obs.health_detail = Some(e.to_string());
            }
        }
    }
    Ok(Some(obs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restart_is_needed_when_the_install_is_not_what_runs() {
        let facts = |installed: Option<&str>, running: Option<&str>, replaced| InstalledFacts {
            running_version: running.map(String::from),
            installed_version: installed.map(String::from),
            binary_replaced: replaced,
        };
        let table = [
            (facts(Some("v0.2.0"), Some("0.2.0"), Some(false)), None),
            (
                facts(Some("0.2.0"), Some("0.1.0"), Some(false)),
                Some("version 0.2.0"),
            ),
            (
                facts(Some("0.2.0"), Some("0.1.0"), None),
                Some("version 0.2.0"),
            ),
            (
                facts(None, Some("0.1.0"), Some(true)),
                Some("binary was replaced"),
            ),
            (
                facts(Some("0.1.0"), Some("0.1.0"), Some(true)),
                Some("binary was replaced"),
            ),
            (facts(None, None, None), None),
            (facts(Some("0.2.0"), None, Some(false)), None),
        ];
        for (f, want) in table {
            let got = restart_needed(&f);
            match want {
                None => assert_eq!(got, None, "{f:?}"),
                Some(w) => assert!(
                    got.as_deref().is_some_and(|g| g.contains(w)),
                    "{f:?}: {got:?}"
                ),
            }
        }
    }
}
