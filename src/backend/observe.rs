//! What `voxctl status` says about the backend: the record in `backend.json`, whether that
//! very process still runs (pid and start time), its uptime and one health probe.

use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use super::health::{self, HealthUrl};
use super::record::{now_ms, BackendRecord};
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
        record,
    };
    if running {
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
