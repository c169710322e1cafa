//! Rollback protection: a correctly signed release older than the installed one is refused
//! unless asked for (`--allow-downgrade`), as updaters do. An old signed release stays
//! validly signed forever, so without this a mirror could serve it in place of the new one.
//!
//! Only a *signed* version counts: the `app_version` of an `S.manifest.json` whose signature
//! verified. `--tag` names what the user asked for, not what the release is, so it never
//! decides. Versions are compared as SemVer 2.0 (the `semver` crate) after an optional
//! leading `v`, ignoring build metadata (`+...`), so `1.0.0-rc.1` is older than `1.0.0`. When
//! either version is not SemVer (`2024.05.01`, `nightly`) the two cannot be ordered: the
//! install goes on, with a warning in the log, since refusing would block every update of an
//! app that numbers its releases differently; and a release with no signed version (layouts
//! pinned by a bare-hex `S.sha256`, archives) has nothing to compare.

use anyhow::Result;

use crate::installs::InstallRecord;
use crate::Error;

/// How a release's version stands against the installed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Strictly older: a downgrade.
    Older,
    /// The same version or newer.
    NotOlder,
    /// Either is not SemVer: no order.
    Incomparable,
}

/// `text` as SemVer, after an optional leading `v` or `V`.
fn parse(text: &str) -> Option<semver::Version> {
    let t = text.trim();
    let t = t
        .strip_prefix('v')
        .or_else(|| t.strip_prefix('V'))
        .unwrap_or(t);
    semver::Version::parse(t).ok()
}

/// Compares release version `new` with `installed` (see the module doc for the rules).
pub fn compare(new: &str, installed: &str) -> Order {
    match (parse(new), parse(installed)) {
        (Some(n), Some(i)) => {
            let key = |v: &semver::Version| (v.major, v.minor, v.patch, v.pre.clone());
            if key(&n) < key(&i) {
                Order::Older
            } else {
                Order::NotOlder
            }
        }
        _ => Order::Incomparable,
    }
}

/// Refuses installing a release whose signed version is older than the installed `record`'s,
/// unless `allow`. `signed` is the release's signed version, `None` when it has none.
///
/// Errors: [`Error::Refused`] (exit 5) naming both versions, with
/// [`crate::error::Remedy::AllowDowngrade`].
pub fn check(
    asset: &str,
    signed: Option<&str>,
    record: Option<&InstallRecord>,
    allow: bool,
) -> Result<()> {
    let (Some(new), Some(installed)) = (signed, record.and_then(|r| r.version.as_deref())) else {
        return Ok(());
    };
    match compare(new, installed) {
        Order::NotOlder => Ok(()),
        Order::Incomparable => {
            tracing::warn!(
                "{asset}: cannot order the signed version {new:?} against the installed \
                 {installed:?} (not SemVer); installing it"
            );
            Ok(())
        }
        Order::Older if allow => {
            tracing::info!("{asset}: downgrading from {installed} to {new} (allowed)");
            Ok(())
        }
        Order::Older => Err(crate::error::with_remedy(
            Error::Refused(format!(
                "{asset}: the release is signed as version {new}, older than the installed \
                 {installed}; refusing a downgrade"
            )),
            crate::error::Remedy::AllowDowngrade,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semver_order_with_a_v_prefix_prereleases_and_build_metadata() {
        assert_eq!(compare("0.2.9", "0.3.0"), Order::Older);
        assert_eq!(compare("v0.2.9", "0.3.0"), Order::Older);
        assert_eq!(compare("1.0.0-rc.1", "v1.0.0"), Order::Older);
        assert_eq!(compare("0.3.0", "0.3.0"), Order::NotOlder);
        assert_eq!(compare("0.3.0+build.1", "0.3.0+build.2"), Order::NotOlder);
        assert_eq!(compare("0.10.0", "0.9.0"), Order::NotOlder);
        assert_eq!(compare("2024.05.01", "0.3.0"), Order::Incomparable);
        assert_eq!(compare("0.3.0", "nightly"), Order::Incomparable);
    }
}
