//! The shapes of the `--json` documents, pinned: each library type that a
//! command prints is serialized here from a known value and compared with the exact text, and
//! read back. A renamed, moved, added or dropped field fails here; the command tests check
//! that the commands print exactly what these types serialize to (`support::json_doc`).

use crate::support::doctor::Report as DoctorReport;
use serde::de::DeserializeOwned;
use serde::Serialize;
use voxctl::backend::control::Stopped;
use voxctl::backend::observe::{HealthState, Observed};
use voxctl::backend::record::BackendRecord;
use voxctl::backend::restart::Report as RestartReport;
use voxctl::backend::select::{NoUsableBinaryDoc, Rejected};
use voxctl::backend::stop::{Removed, StopOutcome};
use voxctl::doctor::Level;
use voxctl::error::ErrorBody;
use voxctl::exit::ExitStatus;
use voxctl::fetch::PartialInfo;
use voxctl::gpu::{NvidiaGpu, Probe};
use voxctl::lease::{
    Free, FreeLease, Lease, LeaseInfo, LeaseList, LeaseState, LeaseStatus, Released, Token,
};
use voxctl::signature::sign::{SignReport, Signed};
use voxctl::signature::KeyId;
use voxctl::slot::{HeldSlot, Holder};
use voxctl::status::Status;
use voxctl::variant::Variant;
use voxctl::verify::{
    Check, Malformed, ManifestKind, ManifestReport, Report as VerifyReport, Status as CheckStatus,
    SumsFile,
};

/// `value` serializes to exactly `expected` (pretty, as the commands print it) and reads
/// back as itself.
fn pin<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T, expected: &str) {
    let text = serde_json::to_string_pretty(value).unwrap();
    assert_eq!(text, expected, "{}", std::any::type_name::<T>());
    let back: T = serde_json::from_str(expected).unwrap();
    assert_eq!(&back, value, "{}", std::any::type_name::<T>());
}

/// [`pin`] for a type that only the library builds (`#[non_exhaustive]`): `expected` is read,
/// then written again exactly as it was.
fn pin_text<T: Serialize + DeserializeOwned + std::fmt::Debug>(expected: &str) {
    let value: T = serde_json::from_str(expected).unwrap();
    let text = serde_json::to_string_pretty(&value).unwrap();
    assert_eq!(text, expected, "{}", std::any::type_name::<T>());
}

/// [`pin`] for the documents the CLI prints through a `serde_json::Value` (keys sorted).
fn pin_sorted<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    value: &T,
    expected: &str,
) {
    let text = serde_json::to_string_pretty(&serde_json::to_value(value).unwrap()).unwrap();
    assert_eq!(text, expected, "{}", std::any::type_name::<T>());
    let back: T = serde_json::from_str(expected).unwrap();
    assert_eq!(&back, value, "{}", std::any::type_name::<T>());
}

fn record() -> BackendRecord {
    BackendRecord {
        pid: 4242,
        start_time: 123456,
        boot_id: Some("boot".into()),
        host: None,
        variant: Variant::Cuda,
        binary: "/d/backends/voicebox-server-cuda".into(),
        version: Some("0.2.0".into()),
        port: 17493,
        health_url: Some("http://127.0.0.1:17493/health".into()),
        data_dir: None,
        args: vec!["--flag".into()],
        log: "/s/logs/voicebox-server-cuda.log".into(),
        started_at: 1_700_000_000_123,
        ready_ms: None,
    }
}

fn error_body() -> ErrorBody {
    ErrorBody::new(
        ExitStatus::Failure,
        "no usable voicebox backend binary (rocm: not installed)",
        Some("install it".into()),
    )
}

/// In the library, a finding's fix is a typed remedy (the command line words it as a command).
#[test]
fn doctor_finding_fix_is_typed_in_the_library() {
    pin_text::<voxctl::doctor::Finding>(
        r#"{
  "check": "installed",
  "subject": "none",
  "level": "fail",
  "detail": "no variant is installed",
  "fix": {
    "action": "install",
    "variant": "auto",
    "fallback": false
  }
}"#,
    );
}

#[test]
fn doctor_report() {
    pin_text::<DoctorReport>(
        r#"{
  "ok": false,
  "hardware": {
    "nvidia": {
      "state": "found",
      "gpus": [
        {
          "name": "NVIDIA GeForce RTX 4090",
          "compute_cap": "8.9",
          "driver": "550.54.14"
        },
        {
          "name": "Tesla K80",
          "compute_cap": null,
          "driver": null
        }
      ]
    },
    "amd": {
      "state": "found",
      "gpus": [
        {
          "node": "1",
          "gfx": "gfx1030"
        }
      ]
    }
  },
  "findings": [
    {
      "check": "gpu",
      "subject": "Tesla K80",
      "level": "pass",
      "detail": "compute capability unknown"
    },
    {
      "check": "installed",
      "subject": "none",
      "level": "fail",
      "detail": "no variant is installed",
      "fix": "voxctl fetch --variant auto"
    }
  ]
}"#,
    );
    for (probe, text) in [
        (
            Probe::Absent {
                why: "nvidia-smi not found".into(),
            },
            r#"{
  "state": "absent",
  "why": "nvidia-smi not found"
}"#,
        ),
        (
            Probe::CouldNotDetect {
                why: "timeout".into(),
            },
            r#"{
  "state": "could_not_detect",
  "why": "timeout"
}"#,
        ),
    ] {
        pin::<Probe<NvidiaGpu>>(&probe, text);
    }
    for (level, text) in [
        (Level::Pass, "\"pass\""),
        (Level::Info, "\"info\""),
        (Level::Warn, "\"warn\""),
        (Level::Fail, "\"fail\""),
    ] {
        pin(&level, text);
    }
}

#[test]
fn status_document() {
    let status: Status = Status {
        slots: vec![HeldSlot {
            name: "fetch".into(),
            holder: Some(Holder {
                pid: 77,
                host: "box".into(),
                acquired_ms: 1_700_000_000_123,
                command: "voxctl fetch cuda".into(),
                done: Some(1048576),
                total: Some(3145728),
            }),
        }],
        data_dir: "/d".into(),
        data_dir_exists: true,
        installed: Vec::new(),
        partial: vec![PartialInfo {
            asset: "voicebox-server-cuda".into(),
            dir: "/d/backends/.partial/voicebox-server-cuda".into(),
            bytes_on_disk: 1048576,
            size: Some(3145728),
            modified_at: "2023-11-14T22:13:20Z".into(),
            age_ms: 5000,
        }],
        backend: Some(Observed {
            record: BackendRecord {
                ready_ms: Some(450),
                ..record()
            },
            running: true,
            uptime_ms: Some(60000),
            health: HealthState::Healthy,
            health_detail: Some("HTTP 200".into()),
            backend_variant: Some("cuda".into()),
            restart_needed: Some(
                "version 0.3.0 is installed but 0.2.0 runs: restart needed".into(),
            ),
        }),
        leases: vec![lease_info()],
    };
    pin(
        &status,
        r#"{
  "slots": [
    {
      "name": "fetch",
      "holder": {
        "pid": 77,
        "host": "box",
        "acquired_at": "2023-11-14T22:13:20.123Z",
        "command": "voxctl fetch cuda",
        "done": 1048576,
        "total": 3145728
      }
    }
  ],
  "data_dir": "/d",
  "data_dir_exists": true,
  "installed": [],
  "partial": [
    {
      "asset": "voicebox-server-cuda",
      "dir": "/d/backends/.partial/voicebox-server-cuda",
      "bytes_on_disk": 1048576,
      "size": 3145728,
      "modified_at": "2023-11-14T22:13:20Z",
      "age_ms": 5000
    }
  ],
  "backend": {
    "pid": 4242,
    "start_time": 123456,
    "boot_id": "boot",
    "host": null,
    "variant": "cuda",
    "binary": "/d/backends/voicebox-server-cuda",
    "version": "0.2.0",
    "port": 17493,
    "health_url": "http://127.0.0.1:17493/health",
    "args": [
      "--flag"
    ],
    "log": "/s/logs/voicebox-server-cuda.log",
    "started_at": "2023-11-14T22:13:20.123Z",
    "ready_ms": 450,
    "running": true,
    "uptime_ms": 60000,
    "health": "healthy",
    "health_detail": "HTTP 200",
    "backend_variant": "cuda",
    "restart_needed": "version 0.3.0 is installed but 0.2.0 runs: restart needed"
  },
  "leases": [
    {
      "name": "build",
      "state": "held",
      "left_ms": 4000,
      "token": 1700000000123456,
      "holder": "ci job 7",
      "pid": 4243,
      "host": "box",
      "ttl_ms": 10000,
      "age_ms": 6000,
      "acquired_at": "2023-11-14T22:13:20.123Z"
    }
  ]
}"#,
    );
}

fn lease_info() -> LeaseInfo {
    LeaseInfo {
        name: "build".into(),
        state: LeaseState::Held,
        left_ms: 4000,
        token: Token(1_700_000_000_123_456),
        holder: "ci job 7".into(),
        pid: 4243,
        host: "box".into(),
        ttl_ms: 10000,
        age_ms: 6000,
        acquired_at: "2023-11-14T22:13:20.123Z".into(),
    }
}

/// `lease acquire`/`renew`, `status`, `list` and `release` with `--json`.
#[test]
fn lease_documents() {
    pin_text::<Lease>(
        r#"{
  "name": "build",
  "token": 17,
  "holder": "ci job 7",
  "ttl_ms": 30000,
  "expires_in_ms": 30000,
  "expires_at": "2023-11-14T22:13:50.123Z"
}"#,
    );
    let states = [
        (LeaseState::Held, "held"),
        (LeaseState::Expired, "expired"),
        (LeaseState::Released, "released"),
        (LeaseState::Abandoned, "abandoned"),
    ];
    for (state, name) in states {
        pin(&state, &format!("\"{name}\""));
        assert_eq!(state.to_string(), name);
    }
    pin(
        &LeaseStatus::Free(FreeLease {
            name: "build".into(),
            state: Free::Free,
        }),
        r#"{
  "name": "build",
  "state": "free"
}"#,
    );
    let mut released = lease_info();
    released.state = LeaseState::Released;
    released.left_ms = 0;
    pin(
        &LeaseList {
            leases: vec![released.clone()],
        },
        r#"{
  "leases": [
    {
      "name": "build",
      "state": "released",
      "left_ms": 0,
      "token": 1700000000123456,
      "holder": "ci job 7",
      "pid": 4243,
      "host": "box",
      "ttl_ms": 10000,
      "age_ms": 6000,
      "acquired_at": "2023-11-14T22:13:20.123Z"
    }
  ]
}"#,
    );
    // A recorded lease reads back as one, not as a free lease.
    let text = serde_json::to_string_pretty(&released).unwrap();
    pin(&LeaseStatus::Recorded(released), &text);
    pin(
        &Released {
            name: "build".into(),
            released: true,
            token: Token(17),
        },
        r#"{
  "name": "build",
  "released": true,
  "token": 17
}"#,
    );
}

#[test]
fn restart_and_stop_documents() {
    pin_text::<RestartReport>(
        r#"{
  "requested": "cuda",
  "backend": {
    "pid": 4242,
    "start_time": 123456,
    "boot_id": "boot",
    "host": null,
    "variant": "cuda",
    "binary": "/d/backends/voicebox-server-cuda",
    "version": "0.2.0",
    "port": 17493,
    "health_url": "http://127.0.0.1:17493/health",
    "args": [
      "--flag"
    ],
    "log": "/s/logs/voicebox-server-cuda.log",
    "started_at": "2023-11-14T22:13:20.123Z"
  },
  "rejected": [
    {
      "variant": "rocm",
      "reason": "not installed"
    }
  ],
  "previous": {
    "backend": {
      "pid": 4242,
      "start_time": 123456,
      "boot_id": "boot",
      "host": null,
      "variant": "cpu",
      "binary": "/d/backends/voicebox-server-cuda",
      "version": "0.2.0",
      "port": 17493,
      "health_url": "http://127.0.0.1:17493/health",
      "args": [
        "--flag"
      ],
      "log": "/s/logs/voicebox-server-cuda.log",
      "started_at": "2023-11-14T22:13:20.123Z"
    },
    "stopped": "terminated"
  },
  "timings": {
    "check_ms": 1,
    "stop_ms": 2,
    "port_ms": 3,
    "ready_ms": 4,
    "downtime_ms": 9
  }
}"#,
    );
    let stopped = StopOutcome::Stopped {
        backend: record(),
        stopped: Stopped::Killed,
        stop_ms: 300,
        port_ms: 1,
        leader_only: Some(77),
    };
    pin(
        &stopped,
        r#"{
  "outcome": "stopped",
  "backend": {
    "pid": 4242,
    "start_time": 123456,
    "boot_id": "boot",
    "host": null,
    "variant": "cuda",
    "binary": "/d/backends/voicebox-server-cuda",
    "version": "0.2.0",
    "port": 17493,
    "health_url": "http://127.0.0.1:17493/health",
    "args": [
      "--flag"
    ],
    "log": "/s/logs/voicebox-server-cuda.log",
    "started_at": "2023-11-14T22:13:20.123Z"
  },
  "stopped": "killed",
  "stop_ms": 300,
  "port_ms": 1,
  "leader_only": 77
}"#,
    );
    pin(
        &StopOutcome::NotRunning,
        r#"{
  "outcome": "not_running"
}"#,
    );
    pin(
        &StopOutcome::StaleRecord { backend: record() },
        r#"{
  "outcome": "stale_record",
  "backend": {
    "pid": 4242,
    "start_time": 123456,
    "boot_id": "boot",
    "host": null,
    "variant": "cuda",
    "binary": "/d/backends/voicebox-server-cuda",
    "version": "0.2.0",
    "port": 17493,
    "health_url": "http://127.0.0.1:17493/health",
    "args": [
      "--flag"
    ],
    "log": "/s/logs/voicebox-server-cuda.log",
    "started_at": "2023-11-14T22:13:20.123Z"
  }
}"#,
    );
    pin_text::<Removed>(
        r#"{
  "variant": "cuda",
  "asset": "voicebox-server-cuda",
  "removed": [
    "/d/backends/voicebox-server-cuda"
  ],
  "stopped": {
    "outcome": "not_running"
  }
}"#,
    );
    pin_sorted(
        &NoUsableBinaryDoc {
            error: error_body(),
            rejected: vec![Rejected {
                variant: Variant::Rocm,
                reason: "not installed".into(),
            }],
            requested: Variant::Rocm,
            running: Some(record()),
        },
        r#"{
  "error": {
    "code": 1,
    "hint": "install it",
    "kind": "failure",
    "message": "no usable voicebox backend binary (rocm: not installed)"
  },
  "rejected": [
    {
      "reason": "not installed",
      "variant": "rocm"
    }
  ],
  "requested": "rocm",
  "running": {
    "args": [
      "--flag"
    ],
    "binary": "/d/backends/voicebox-server-cuda",
    "boot_id": "boot",
    "health_url": "http://127.0.0.1:17493/health",
    "host": null,
    "log": "/s/logs/voicebox-server-cuda.log",
    "pid": 4242,
    "port": 17493,
    "start_time": 123456,
    "started_at": "2023-11-14T22:13:20.123Z",
    "variant": "cuda",
    "version": "0.2.0"
  }
}"#,
    );
}

#[test]
fn sign_report() {
    let id = KeyId(0xE1DC_ABDA_B7A5_3592_u64.to_le_bytes());
    pin_sorted(
        &SignReport {
            key_id: id,
            signed: vec![Signed {
                file: "/r/a.bin".into(),
                minisig: "/r/a.bin.minisig".into(),
                tauri_sig: None,
                key_id: id,
                trusted_comment: "timestamp:1700000000\tfile:a.bin\thashed".into(),
            }],
        },
        r#"{
  "key_id": "E1DCABDAB7A53592",
  "signed": [
    {
      "file": "/r/a.bin",
      "key_id": "E1DCABDAB7A53592",
      "minisig": "/r/a.bin.minisig",
      "tauri_sig": null,
      "trusted_comment": "timestamp:1700000000\tfile:a.bin\thashed"
    }
  ]
}"#,
    );
}

/// `verify --json`: with `-c` (sums files, malformed lines) and with `--manifest`.
#[test]
fn verify_report() {
    let mut check = Check::new("a", std::path::Path::new("/r/a"), CheckStatus::Failed);
    check.expected_sha256 = Some(voxctl::checksum::Sha256::of(b"a"));
    check.size = Some(1);
    check.detail = Some("size differs".into());
    let hash = voxctl::checksum::Sha256::of(b"a").to_hex();
    let report = VerifyReport {
        ok: false,
        error: None,
        manifest: None,
        signatures: Vec::new(),
        files: vec![check.clone()],
        malformed: vec![Malformed {
            file: "SUMS".into(),
            line: 3,
            error: "bad".into(),
        }],
        sums_files: vec![SumsFile {
            file: "SUMS".into(),
            checksum_lines: 1,
            malformed_lines: 1,
            error: None,
        }],
    };
    let text = serde_json::to_string_pretty(&report).unwrap();
    assert_eq!(
        text,
        format!(
            r#"{{
  "ok": false,
  "files": [
    {{
      "name": "a",
      "path": "/r/a",
      "status": "failed",
      "expected_sha256": "{hash}",
      "sha256": null,
      "expected_size": null,
      "size": 1,
      "detail": "size differs"
    }}
  ],
  "malformed": [
    {{
      "file": "SUMS",
      "line": 3,
      "error": "bad"
    }}
  ],
  "sums_files": [
    {{
      "file": "SUMS",
      "checksum_lines": 1,
      "malformed_lines": 1
    }}
  ]
}}"#
        )
    );
    let back: VerifyReport = serde_json::from_str(&text).unwrap();
    assert_eq!(serde_json::to_string_pretty(&back).unwrap(), text);
    let with_manifest = VerifyReport {
        ok: true,
        error: None,
        // Only the library builds a manifest's report: read from its fields.
        manifest: Some(
            serde_json::from_value::<ManifestReport>(serde_json::json!({
                "manifest": "/r/a.manifest",
                "kind": ManifestKind::Text,
                "asset": "a",
                "sha256": voxctl::checksum::Sha256::of(b"a"),
                "checks": [],
            }))
            .unwrap(),
        ),
        signatures: Vec::new(),
        files: Vec::new(),
        malformed: Vec::new(),
        sums_files: Vec::new(),
    };
    let text = serde_json::to_string_pretty(&with_manifest).unwrap();
    assert_eq!(
        text,
        format!(
            r#"{{
  "ok": true,
  "manifest": {{
    "manifest": "/r/a.manifest",
    "kind": "text",
    "asset": "a",
    "sha256": "{hash}",
    "checks": []
  }},
  "files": [],
  "malformed": []
}}"#
        )
    );
    let back: VerifyReport = serde_json::from_str(&text).unwrap();
    assert_eq!(serde_json::to_string_pretty(&back).unwrap(), text);
}

#[test]
fn delta_plan() {
    use voxctl::fetch::delta::{DeltaPlan, SeedKind, SeedUse};
    let plan = DeltaPlan {
        index: Some("voicebox-server-cuda.chunks".into()),
        size: 1000,
        chunks: 10,
        to_download: 100,
        reused: 900,
        requests: 2,
        index_bytes: 432,
        seeds: vec![
            SeedUse {
                path: "/d/backends/voicebox-server-cuda".into(),
                kind: SeedKind::Installed,
                version: Some("0.3.0".into()),
                reused: 850,
            },
            SeedUse {
                path: "/old".into(),
                kind: SeedKind::Seed,
                version: None,
                reused: 50,
            },
        ],
    };
    // `fetch --json` writes the `delta_planned` line through a `Value`: keys sorted.
    pin_sorted(
        &plan,
        r#"{
  "chunks": 10,
  "index": "voicebox-server-cuda.chunks",
  "index_bytes": 432,
  "requests": 2,
  "reused": 900,
  "seeds": [
    {
      "kind": "installed",
      "path": "/d/backends/voicebox-server-cuda",
      "reused": 850,
      "version": "0.3.0"
    },
    {
      "kind": "seed",
      "path": "/old",
      "reused": 50
    }
  ],
  "size": 1000,
  "to_download": 100
}"#,
    );
}

/// `lease run --json`: the result document, here of a run whose lease was lost.
#[test]
fn lease_run_result() {
    use voxctl::lease::run::{RunOutcome, RunResult};
    pin(
        &RunResult {
            name: "deploy".into(),
            token: Token(1_700_000_000_000_001),
            holder: "ci-7:4242".into(),
            ttl_ms: 30_000,
            outcome: RunOutcome::Lost,
            command_code: None,
            command_signal: Some(15),
            exit_code: 6,
            released: false,
            held_ms: 45_210,
            error: Some(ErrorBody::new(
                ExitStatus::Lost,
                "lease deploy was lost while the command ran, so the command was terminated \
                 (it exited with status 143): token 1700000000000001 is stale",
                None,
            )),
        },
        r#"{
  "name": "deploy",
  "token": 1700000000000001,
  "holder": "ci-7:4242",
  "ttl_ms": 30000,
  "outcome": "lost",
  "command_code": null,
  "command_signal": 15,
  "exit_code": 6,
  "released": false,
  "held_ms": 45210,
  "error": {
    "code": 6,
    "kind": "lost",
    "message": "lease deploy was lost while the command ran, so the command was terminated (it exited with status 143): token 1700000000000001 is stale",
    "hint": null
  }
}"#,
    );
}

/// fetch's JSON lines whose fields carry numbers with a meaning to keep: `progress` (the
/// asset's bytes in place of its size in every line; a differential fetch adds `downloaded`
/// of `to_download`) and `authenticated` (integer durations). Each line is the event
/// serialized through a `serde_json::Value` (keys sorted), and reads back as the event.
#[test]
fn fetch_event_lines() {
    use voxctl::fetch::Event;
    use voxctl::signature::Authenticated;
    let line = |event: &Event, expected: &str| {
        let value = serde_json::to_value(event).unwrap();
        assert_eq!(serde_json::to_string(&value).unwrap(), expected);
        let back: Event = serde_json::from_str(expected).unwrap();
        assert_eq!(serde_json::to_value(&back).unwrap(), value);
    };
    line(
        &Event::Progress {
            done: 1 << 20,
            total: 5 << 20,
            parts: vec![1 << 20, 0],
            downloaded: None,
            to_download: None,
        },
        r#"{"done":1048576,"event":"progress","total":5242880}"#,
    );
    line(
        &Event::Progress {
            done: 4_300_000,
            total: 5 << 20,
            parts: vec![],
            downloaded: Some(100_000),
            to_download: Some(1_042_880),
        },
        r#"{"done":4300000,"downloaded":100000,"event":"progress","to_download":1042880,"total":5242880}"#,
    );
    line(
        &Event::Authenticated {
            auth: Authenticated {
                file: "http://127.0.0.1:8080/voicebox-server-cuda.manifest.json".into(),
                signature: "http://127.0.0.1:8080/voicebox-server-cuda.manifest.json.minisig"
                    .into(),
                key_id: KeyId(0xE1DC_ABDA_B7A5_3592_u64.to_le_bytes()),
                trusted_comment: "voicebox 0.4.2".into(),
            },
            check_ms: 1,
            check_us: 1_234,
        },
        r#"{"check_ms":1,"check_us":1234,"event":"authenticated","file":"http://127.0.0.1:8080/voicebox-server-cuda.manifest.json","key_id":"E1DCABDAB7A53592","signature":"http://127.0.0.1:8080/voicebox-server-cuda.manifest.json.minisig","trusted_comment":"voicebox 0.4.2"}"#,
    );
}
