//! What a fetch reports: one typed [`Event`] enum, delivered through one [`Reporter`].
//!
//! `voxctl fetch --json` writes the events as JSON lines: each line is an event serialized
//! (`{"event": "<snake_case name>", ...fields}`, keys in alphabetical order as
//! `serde_json::Value` writes them), so a consumer can deserialize the lines back into
//! [`Event`]. The command leaves out what it only draws ([`Event::HolderFound`],
//! [`Event::PartStarted`]; the bars and status lines show them), and writes [`Event::Progress`]
//! and [`Event::Waiting`] at most twice a second and `progress` only when `done` changed.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::layout::{Layout, Plan};
use crate::checksum::Sha256;
use crate::installs::InstallRecord;
use crate::signature::Authenticated;
use crate::slot::Holder;
use crate::variant::Variant;

/// Receives a fetch's events. Called from the fetch's tasks and threads (several parts run
/// at once), so it must be cheap and must not block for long: a UI forwards the event to
/// its own thread. Events of one part arrive in order.
pub type Reporter = Arc<dyn Fn(&Event) + Send + Sync>;

/// Something that happened during a fetch, in the order a fetch goes: waiting for the slot,
/// the hardware check, the plan, authentication, the parts, verification, the outcome.
///
/// Sizes and counts are bytes, durations `*_ms` milliseconds, paths absolute.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// The asset's slot `fetch-{asset}` is held by another fetch, and this one waits for it
    /// ([`super::Settings::wait`]). Sent once per holder, before its [`Event::Waiting`]s.
    HolderFound {
        /// The holder's metadata (pid, host, command line, progress).
        holder: Holder,
    },
    /// Still waiting for the slot: the holder's progress, as it publishes it (every
    /// [`crate::slot::WAIT_POLL`]).
    Waiting {
        /// The holder's pid.
        holder_pid: i32,
        /// Bytes the holder has on disk (0 until it says).
        done: u64,
        /// The holder's total bytes (0 until it knows).
        total: u64,
    },
    /// The holder has shown no progress for [`crate::slot::STALL_NOTICE`]; sent once per
    /// holder. A stopped one (Ctrl-Z, SIGSTOP) resumes with `kill -CONT PID`.
    HolderStalled {
        /// The holder's pid.
        holder_pid: i32,
        /// Whether it is stopped.
        stopped: bool,
        /// How long its progress has not changed, in milliseconds.
        since_ms: u64,
    },
    /// The release states hardware requirements and this host meets them.
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
    /// `--variant auto`: the candidate cannot run here (or could not be checked), so the cpu
    /// variant is fetched instead.
    AutoFallback {
        /// The candidate.
        from: Variant,
        /// What is fetched instead (cpu).
        to: Variant,
        /// Why.
        why: String,
    },
    /// The release layout was found: what will be downloaded. JSON `start`.
    #[serde(rename = "start")]
    Planned {
        /// The asset.
        asset: String,
        /// The layout.
        layout: Layout,
        /// The asset's (or archive's) size in bytes.
        size: u64,
        /// Its SHA-256.
        sha256: Sha256,
        /// The files to download, in order.
        parts: Vec<PlannedPart>,
    },
    /// The release's signature verified.
    Authenticated {
        /// What was checked, by which key.
        #[serde(flatten)]
        auth: Authenticated,
        /// How long the check held the fetch up, in whole milliseconds: for the pinning
        /// file, fetching and checking its signature; for an asset signature, the wait for
        /// its hashing thread after the download.
        check_ms: u64,
        /// The same in microseconds, for a check that takes about a millisecond.
        check_us: u64,
    },
    /// No public key is configured, so the release was not authenticated (sent once).
    Unauthenticated,
    /// The release was already installed, and a partial download of the asset (left by a
    /// killed `--force`, or of an older release) was removed.
    StalePartialRemoved {
        /// The directory removed.
        path: PathBuf,
        /// Bytes its files held.
        bytes: u64,
    },
    /// A repair found these files damaged and downloads the release again.
    Damaged {
        /// The checks that failed.
        files: Vec<crate::verify::Check>,
    },
    /// A part starts downloading, or resumes at `from` bytes.
    PartStarted {
        /// The part's file name.
        part: String,
        /// Bytes of it already on disk.
        from: u64,
        /// Its size in bytes.
        size: u64,
    },
    /// A differential fetch's plan ([`super::delta`]): what is taken from local files and
    /// what is downloaded, sent once the seeds are read and before any range is requested.
    /// Also the whole output of `--dry-run` (then `index` is `null` when the release has no
    /// usable chunk index and everything would be downloaded).
    DeltaPlanned(super::delta::DeltaPlan),
    /// The differential fetch cannot be used or did not verify (an index missing, malformed
    /// or of another build; a chunk or the whole file not matching; a server ignoring
    /// ranges): the whole asset is downloaded instead, once.
    DeltaFallback {
        /// Why, in words.
        why: String,
    },
    /// Progress so far. Sent every [`super::PROGRESS_EVERY`] from the plan until the fetch
    /// ends, changed or not. `done` and `total` mean the same in every line of a fetch: the
    /// asset's bytes in place against its size. A differential fetch adds what it downloads
    /// (`downloaded` of `to_download`) from its [`Event::DeltaPlanned`] on; a
    /// [`Event::DeltaFallback`] starts `done` from 0 again, without those fields.
    Progress {
        /// Bytes of the asset in place: on disk over all parts; in a differential fetch, the
        /// bytes its plan does not download (taken from local files) plus those downloaded.
        done: u64,
        /// The asset's (or archive's) size in bytes: the same in every line.
        total: u64,
        /// Bytes on disk per part, in plan order (not in the JSON form: a reader of the
        /// JSON lines gets an empty list; empty in a differential fetch).
        #[serde(skip)]
        parts: Vec<u64>,
        /// A differential fetch: bytes downloaded so far, of `to_download`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        downloaded: Option<u64>,
        /// A differential fetch: the bytes its plan downloads (its `to_download`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to_download: Option<u64>,
    },
    /// A part matched its SHA-256 from the release.
    PartVerified {
        /// The part's file name.
        part: String,
        /// Its digest.
        sha256: Sha256,
    },
    /// A request failed and will be retried after a delay.
    Retry {
        /// The part's file name (empty for the release's small files).
        part: String,
        /// Why it failed.
        error: String,
        /// How long until the retry, in milliseconds.
        delay_ms: u64,
    },
    /// The whole file matched its SHA-256.
    Verified {
        /// The digest.
        sha256: Sha256,
    },
    /// A repair of an archive install replaced these files (paths inside the install
    /// directory), each by a rename of a verified copy.
    Replaced {
        /// The files replaced.
        files: Vec<PathBuf>,
    },
    /// Installed now. The last event of a fetch that installed.
    Installed(Installed),
    /// The install record already matched the release; nothing was downloaded.
    AlreadyInstalled(Installed),
    /// A repair brought the install back.
    Repaired {
        /// The asset.
        asset: String,
        /// The install's path.
        path: PathBuf,
        /// Its SHA-256 (unchanged).
        sha256: Sha256,
        /// Its version, if recorded.
        version: Option<String>,
        /// Bytes received from the release for it (not counting resumed partial data).
        downloaded: u64,
    },
    /// A repair found every file intact; nothing was downloaded.
    NothingToRepair {
        /// The asset.
        asset: String,
        /// The install's path.
        path: PathBuf,
        /// Always 0.
        downloaded: u64,
    },
}

/// One file of a [`Event::Planned`] plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedPart {
    /// The file name in the release.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
}

/// What [`Event::Installed`] and [`Event::AlreadyInstalled`] say about the install.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installed {
    /// The asset.
    pub asset: String,
    /// The installed file (or directory, for an archive).
    pub path: PathBuf,
    /// Its SHA-256 (of the archive, for an archive).
    pub sha256: Sha256,
    /// Its size in bytes.
    pub size: u64,
    /// The release layout it came from (`manifest.json`, `manifest`, `whole`, `archive`).
    pub layout: Layout,
    /// The release's version, if known.
    pub version: Option<String>,
    /// The signature check it passed, if the release was authenticated.
    pub signature: Option<Authenticated>,
    /// What the install cost: bytes downloaded and reused, requests (absent for
    /// [`Event::AlreadyInstalled`], which downloads nothing).
    #[serde(default, flatten, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<crate::installs::Transfer>,
}

impl Installed {
    /// The summary of an install record (with what the install cost, as recorded).
    pub fn of(record: &InstallRecord) -> Installed {
        Installed {
            asset: record.asset.clone(),
            path: record.path.clone(),
            sha256: record.sha256,
            size: record.size,
            layout: record.layout,
            version: record.version.clone(),
            signature: record.signature.clone(),
            transfer: record.transfer.clone(),
        }
    }
}

impl Event {
    /// The [`Event::Planned`] event of `plan`.
    pub fn planned(plan: &Plan) -> Event {
        Event::Planned {
            asset: plan.asset.clone(),
            layout: plan.layout,
            size: plan.size,
            sha256: plan.sha256,
            parts: plan
                .parts
                .iter()
                .map(|p| PlannedPart {
                    name: p.name.clone(),
                    size: p.size,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON form is the one `voxctl fetch --json` has always written: same keys, same
    /// values (pinned here for the events the integration tests do not all reach).
    #[test]
    fn events_serialize_to_the_established_json_lines() {
        let sha = Sha256([0xab; 32]);
        let hex = "ab".repeat(32);
        let cases: Vec<(Event, serde_json::Value)> = vec![
            (
                Event::Waiting {
                    holder_pid: 7,
                    done: 1,
                    total: 2,
                },
                serde_json::json!({"event": "waiting", "holder_pid": 7, "done": 1, "total": 2}),
            ),
            (
                Event::HolderStalled {
                    holder_pid: 7,
                    stopped: true,
                    since_ms: 10_000,
                },
                serde_json::json!({"event": "holder_stalled", "holder_pid": 7, "stopped": true, "since_ms": 10_000}),
            ),
            (
                Event::AutoFallback {
                    from: Variant::Cuda,
                    to: Variant::Cpu,
                    why: "no GPU".into(),
                },
                serde_json::json!({"event": "auto_fallback", "from": "cuda", "to": "cpu", "why": "no GPU"}),
            ),
            (
                Event::Progress {
                    done: 3,
                    total: 9,
                    parts: vec![3, 0],
                    downloaded: None,
                    to_download: None,
                },
                serde_json::json!({"event": "progress", "done": 3, "total": 9}),
            ),
            (
                Event::Progress {
                    done: 94,
                    total: 100,
                    parts: vec![],
                    downloaded: Some(3),
                    to_download: Some(9),
                },
                serde_json::json!({"event": "progress", "done": 94, "total": 100, "downloaded": 3, "to_download": 9}),
            ),
            (
                Event::Retry {
                    part: "a.part00".into(),
                    error: "boom".into(),
                    delay_ms: 250,
                },
                serde_json::json!({"event": "retry", "part": "a.part00", "error": "boom", "delay_ms": 250}),
            ),
            (
                Event::Verified { sha256: sha },
                serde_json::json!({"event": "verified", "sha256": hex}),
            ),
            (
                Event::Unauthenticated,
                serde_json::json!({"event": "unauthenticated"}),
            ),
            (
                Event::NothingToRepair {
                    asset: "a".into(),
                    path: "/d/a".into(),
                    downloaded: 0,
                },
                serde_json::json!({"event": "nothing_to_repair", "asset": "a", "path": "/d/a", "downloaded": 0}),
            ),
            (
                Event::Installed(Installed {
                    asset: "a".into(),
                    path: "/d/a".into(),
                    sha256: sha,
                    size: 5,
                    layout: Layout::Whole,
                    version: None,
                    signature: None,
                    transfer: None,
                }),
                serde_json::json!({"event": "installed", "asset": "a", "path": "/d/a", "sha256": hex,
                    "size": 5, "layout": "whole", "version": null, "signature": null}),
            ),
        ];
        for (event, want) in cases {
            let got = serde_json::to_value(&event).unwrap();
            assert_eq!(got, want, "{event:?}");
            // And back: a reader of the JSON lines gets the event.
            let back: Event = serde_json::from_value(got.clone()).unwrap();
            assert_eq!(serde_json::to_value(&back).unwrap(), got);
        }
    }
}
