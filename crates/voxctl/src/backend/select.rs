//! Choosing the binary to start, before anything is stopped, so that a bad binary never costs
//! downtime: the requested variant's installed binary must run `--version` within a time
//! limit and report the expected version; otherwise, and only when the caller allows a
//! fallback (`--variant auto`, or an explicit `--fallback cpu`), the fallback variant is tried
//! the same way, with a warning. An explicitly named variant is never silently replaced
//! (docs/contract.md "Conventions"): without a fallback its rejection is the error.
//!
//! The expected version is `--expect-version` for the requested variant, else the version in
//! the variant's install record (written by `fetch`); a fallback is checked against its own
//! install record only. With no expectation, any version that `--version` prints is accepted.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::installs::{BackendsDir, InstallRecord};
use crate::variant::Variant;
use crate::Error;

/// A binary that passed the checks.
#[derive(Debug, Clone, Serialize)]
pub struct Chosen {
    /// Its variant.
    pub variant: Variant,
    /// Its path.
    pub binary: PathBuf,
    /// The version it reported.
    pub version: String,
}

/// A variant that was tried and not taken, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    /// The variant.
    pub variant: Variant,
    /// Why, in words.
    pub reason: String,
}

/// The error of [`choose`] when no candidate passed: every variant tried, and why it was
/// rejected. It is the root of the returned error chain, so callers (`--json`) can list them.
#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[error("no usable {app} backend binary ({})", describe(.rejected))]
pub struct NoUsableBinary {
    /// The app.
    pub app: String,
    /// The variant asked for.
    pub requested: Variant,
    /// Every variant tried, in order, and why it was not taken.
    pub rejected: Vec<Rejected>,
}

/// What `restart --json` prints when no binary was usable: the error document's `error`, and
/// beside it what was asked for, every variant rejected and why, and the backend that keeps
/// running (untouched; null when none runs). The CLI prints it with its keys sorted, as
/// `{"error", "rejected", "requested", "running"}` (each object's keys sorted too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoUsableBinaryDoc {
    /// The error, as in [`crate::error::ErrorDoc`].
    pub error: crate::error::ErrorBody,
    /// [`NoUsableBinary::rejected`].
    pub rejected: Vec<Rejected>,
    /// [`NoUsableBinary::requested`].
    pub requested: Variant,
    /// The recorded backend, if it still runs.
    pub running: Option<super::record::BackendRecord>,
}

fn describe(rejected: &[Rejected]) -> String {
    rejected
        .iter()
        .map(|r| format!("{}: {}", r.variant, r.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The outcome of [`choose`].
#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    /// The binary to start.
    pub chosen: Chosen,
    /// The variants tried before it, in order.
    pub rejected: Vec<Rejected>,
}

/// The binary of `variant` for `app` in `backends`, and its install record if any:
/// `backends/{asset}`, or `backends/{variant}/{asset}` when the record is of an extracted
/// archive. `Ok(None)` when not installed. A record whose path disagrees with that is
/// refused ([`BackendsDir::recorded_install_path`], exit 5).
pub fn installed_binary(
    backends: &BackendsDir,
    app: &str,
    variant: Variant,
) -> Result<Option<(PathBuf, Option<InstallRecord>)>> {
    let asset = variant.asset(app);
    let record = backends.read_record(&asset)?;
    // Derived from the variant; a record naming another path is refused, so a planted
    // record cannot make restart run a binary outside the backends dir.
    let path = match &record {
        Some(r) => {
            let installed = backends.recorded_install_path(r, variant.as_str(), &asset)?;
            match r.layout {
                crate::fetch::Layout::Archive => installed.join(&asset),
                _ => installed,
            }
        }
        None => backends.asset_path(&asset),
    };
    Ok(path.is_file().then_some((path, record)))
}

/// The version in `--version` output: its last whitespace-separated word (the reference
/// backend prints `voicebox-server X.Y.Z`).
pub fn version_from_output(output: &str) -> Option<String> {
    output.split_whitespace().last().map(str::to_string)
}

/// Whether a reported version is the expected one, ignoring a leading `v` on either side
/// (release tags are `v0.2.0`, binaries print `0.2.0`).
pub fn version_matches(expected: &str, reported: &str) -> bool {
    let norm = |s: &str| {
        let s = s.trim();
        s.strip_prefix('v').unwrap_or(s).to_string()
    };
    norm(expected) == norm(reported)
}

/// Judges one candidate: the `--version` result against the expectation. Returns the version
/// to record, or the reason to reject it.
pub fn judge(expected: Option<&str>, probed: Result<String>) -> Result<String, String> {
    let output = probed.map_err(|e| format!("`--version` failed: {e:#}"))?;
    let version =
        version_from_output(&output).ok_or_else(|| "`--version` printed nothing".to_string())?;
    match expected {
        Some(want) if !version_matches(want, &version) => {
            Err(format!("`--version` reports {version}, expected {want}"))
        }
        _ => Ok(version),
    }
}

/// Picks the binary to start for `requested` (see the module doc), trying `fallback` (if
/// any, and not the requested variant itself) when the requested one is rejected.
/// `probe_version` runs `BIN --version` within `timeout` and returns its output. Errors
/// (exit 1) when no candidate passes, with a [`NoUsableBinary`] naming each one and why.
pub fn choose(
    backends: &BackendsDir,
    app: &str,
    requested: Variant,
    fallback: Option<Variant>,
    expect_version: Option<&str>,
    timeout: Duration,
    probe_version: impl Fn(&Path, Duration) -> Result<String>,
) -> Result<Choice> {
    let mut rejected = Vec::new();
    let mut candidates = vec![requested];
    candidates.extend(fallback.filter(|f| *f != requested));
    for variant in candidates {
        let verdict = match installed_binary(backends, app, variant)? {
            None => Err(format!(
                "not installed ({} not found)",
                backends.asset_path(&variant.asset(app)).display()
            )),
            Some((binary, record)) => {
                // A damaged install is never started (it would only crash-loop): refuse
                // before its `--version` runs, naming what is wrong and the repair.
                if let Some(r) = &record {
                    let checks = crate::installs::audit::check(
                        r,
                        crate::installs::audit::Depth::Quick,
                        1,
                        &|_| {},
                        // A quick check hashes nothing, so there is nothing to cancel.
                        &crate::cancel::Cancel::new(),
                    )?;
                    if !crate::installs::audit::all_passed(&checks) {
                        return Err(crate::error::with_remedy(
                            Error::Integrity(format!(
                                "the installed {variant} backend is damaged: {}",
                                crate::installs::audit::describe_failures(&checks)
                            )),
                            crate::error::Remedy::Repair {
                                variant: variant.to_string(),
                            },
                        ));
                    }
                }
                let expected = if variant == requested {
                    expect_version.map(str::to_string)
                } else {
                    None
                }
                .or_else(|| record.and_then(|r| r.version));
                let probed = match probe_version(&binary, timeout) {
                    // Ctrl-C during the check stops the restart; it is not a bad binary.
                    Err(e) if matches!(Error::find(&e), Some(Error::Interrupted)) => return Err(e),
                    probed => probed,
                };
                judge(expected.as_deref(), probed).map(|version| (binary, version))
            }
        };
        match verdict {
            Ok((binary, version)) => {
                return Ok(Choice {
                    chosen: Chosen {
                        variant,
                        binary,
                        version,
                    },
                    rejected,
                })
            }
            Err(reason) => rejected.push(Rejected { variant, reason }),
        }
    }
    let remedy = crate::error::Remedy::Install {
        variant: requested.to_string(),
        fallback: fallback.is_none() && requested.fallback().is_some(),
    };
    Err(crate::error::with_remedy(
        NoUsableBinary {
            app: app.to_string(),
            requested,
            rejected,
        },
        remedy,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judging_table() {
        let ok = |s: &str| -> Result<String> { Ok(s.to_string()) };
        type Case<'a> = (Option<&'a str>, Result<String>, Result<&'a str, &'a str>);
        let cases: [Case; 7] = [
            (None, ok("voicebox-server 0.2.0\n"), Ok("0.2.0")),
            (Some("0.2.0"), ok("voicebox-server 0.2.0"), Ok("0.2.0")),
            (Some("v0.2.0"), ok("voicebox-server 0.2.0"), Ok("0.2.0")),
            (Some("0.2.0"), ok("voicebox-server v0.2.0"), Ok("v0.2.0")),
            (
                Some("0.3.0"),
                ok("voicebox-server 0.2.0"),
                Err("reports 0.2.0"),
            ),
            (None, ok("  \n"), Err("printed nothing")),
            (
                None,
                Err(anyhow::anyhow!("exit status 1")),
                Err("exit status 1"),
            ),
        ];
        for (expected, probed, want) in cases {
            match (judge(expected, probed), want) {
                (Ok(v), Ok(w)) => assert_eq!(v, w),
                (Err(r), Err(w)) => assert!(r.contains(w), "{r}"),
                (got, want) => panic!("{expected:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    /// A data dir (kept alive by the returned guard) with empty cpu and cuda binaries of
    /// app `app`, and no install records.
    fn cpu_and_cuda_installed() -> (tempfile::TempDir, BackendsDir) {
        let data = tempfile::tempdir().unwrap();
        let backends = BackendsDir::new(data.path());
        std::fs::create_dir_all(backends.root()).unwrap();
        for v in [Variant::Cpu, Variant::Cuda] {
            std::fs::write(backends.asset_path(&v.asset("app")), "").unwrap();
        }
        (data, backends)
    }

    #[test]
    fn an_interrupted_probe_stops_the_choice_instead_of_falling_back() {
        let (_data, backends) = cpu_and_cuda_installed();
        let probe = |_: &Path, _: Duration| -> Result<String> { Err(Error::Interrupted.into()) };
        let err = choose(
            &backends,
            "app",
            Variant::Cuda,
            Some(Variant::Cpu),
            None,
            Duration::ZERO,
            probe,
        )
        .unwrap_err();
        assert!(
            matches!(Error::find(&err), Some(Error::Interrupted)),
            "{err:#}"
        );
    }

    #[test]
    fn falls_back_to_cpu_and_reports_why() {
        let (_data, backends) = cpu_and_cuda_installed();
        let probe = |bin: &Path, _: Duration| -> Result<String> {
            Ok(if bin.to_string_lossy().contains("cuda") {
                "app-server 1.0.0".into()
            } else {
                "app-server 0.9.0".into()
            })
        };
        let c = choose(
            &backends,
            "app",
            Variant::Cuda,
            Some(Variant::Cpu),
            Some("2.0.0"),
            Duration::ZERO,
            probe,
        )
        .unwrap();
        assert_eq!(c.chosen.variant, Variant::Cpu);
        assert_eq!(c.chosen.version, "0.9.0");
        assert!(c.rejected[0].reason.contains("expected 2.0.0"));
        let c = choose(
            &backends,
            "app",
            Variant::Cuda,
            Some(Variant::Cpu),
            Some("1.0.0"),
            Duration::ZERO,
            probe,
        )
        .unwrap();
        assert_eq!((c.chosen.variant, c.rejected.len()), (Variant::Cuda, 0));
        let err = choose(
            &backends,
            "app",
            Variant::Rocm,
            Some(Variant::Cpu),
            None,
            Duration::ZERO,
            |_, _| Err(anyhow::anyhow!("boom")),
        )
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("rocm: not installed"),
            "{err:#}"
        );
    }

    #[test]
    fn without_a_fallback_a_rejected_variant_is_the_error() {
        let (_data, backends) = cpu_and_cuda_installed();
        let probe = |_: &Path, _: Duration| -> Result<String> { Ok("app-server 1.0.0".into()) };
        let err = choose(
            &backends,
            "app",
            Variant::Cuda,
            None,
            Some("9.9.9"),
            Duration::ZERO,
            probe,
        )
        .unwrap_err();
        let no = err.downcast_ref::<crate::error::WithRemedy>().unwrap();
        let no = no.inner.downcast_ref::<NoUsableBinary>().unwrap();
        assert_eq!(no.rejected.len(), 1, "cpu was not tried: {no:?}");
        assert!(no.rejected[0].reason.contains("expected 9.9.9"));
    }
}
