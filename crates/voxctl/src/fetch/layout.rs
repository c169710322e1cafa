//! Release discovery (docs/contract.md "Release layouts"): for
//! asset `A` in release `R`, try the rich JSON manifest, the voicebox v1 text manifest, the
//! whole file and the archive, in that order, and turn the first that exists into a [`Plan`].
//!
//! A missing file (404, or no such file in a directory) moves on to the next layout; any other
//! failure is reported. A layout without a SHA-256 is refused (fail closed, exit 3). Names,
//! sizes and checksums from the release are untrusted and validated here.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::source::Remote;
use crate::checked_open::{CHECKSUM_FILE_CAP, MANIFEST_CAP};
use crate::checksum::{parse_single, Sha256};
use crate::manifest::{
    json_manifest_name, parse_text_manifest, sha256_name, stem, Manifest, GITHUB_ASSET_LIMIT,
};
use crate::name::validate_file_name;
use crate::Error;

pub use crate::manifest::Layout;

/// One file to download; together the parts make the asset (or the archive), in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// The file name in the release (validated: a plain file name).
    pub name: String,
    /// Where the part starts in the assembled file, in bytes.
    pub offset: u64,
    /// The part's size in bytes.
    pub size: u64,
    /// The part's own SHA-256, when the release gives one (layout 1).
    pub sha256: Option<Sha256>,
}

/// What to download and how to check it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The layout found.
    pub layout: Layout,
    /// The asset `A`.
    pub asset: String,
    /// The assembled file's size in bytes (the archive's, for layout 4).
    pub size: u64,
    /// The assembled file's SHA-256.
    pub sha256: Sha256,
    /// The parts, in order, contiguous from offset 0. (`pieces` in the `plan.json` of a partial
    /// download left by voxctl 0.1 before the rename; still read, so such a download resumes.)
    #[serde(alias = "pieces")]
    pub parts: Vec<Part>,
    /// The app version from the manifest, when it has one.
    pub version: Option<String>,
    /// What the build needs from the hardware, when the manifest states it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires: Option<crate::gpu::Requirements>,
    /// The chunk index the JSON manifest names (`S.chunks`, with its size and SHA-256), for a
    /// differential fetch ([`super::delta`]); other layouts may still have one, as a hint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<crate::chunks::IndexRef>,
}

/// The file that pins a release (the one a release signs: `S.manifest.json`, else
/// `S.sha256`, else `S.tar.gz.sha256`), exactly as [`discover_pinned`] read it.
#[derive(Debug, Clone)]
pub struct Pinned {
    /// Its file name in the release.
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// Finds the layout of `asset` in `remote` and builds its [`Plan`], also returning the bytes
/// of the file that pins the plan, so that a signature is checked over exactly what the plan
/// was built from.
pub async fn discover_pinned(remote: &Remote, asset: &str) -> Result<(Plan, Pinned)> {
    validate_file_name("asset", asset)?;
    let src = &remote.source;
    let s = stem(asset);

    let name = json_manifest_name(asset);
    if let Some(bytes) = remote.get_small(&name, MANIFEST_CAP).await? {
        let m = Manifest::from_json(&bytes).with_context(|| src.locate(&name))?;
        if m.asset != asset {
            return Err(Error::Integrity(format!(
                "{}: manifest is for asset {:?}, not {asset:?}",
                src.locate(&name),
                m.asset
            ))
            .into());
        }
        let plan = Plan {
            layout: Layout::ManifestJson,
            asset: asset.to_string(),
            size: m.size,
            sha256: m.sha256,
            parts: m
                .parts
                .into_iter()
                .map(|p| Part {
                    name: p.name,
                    offset: p.offset,
                    size: p.size,
                    sha256: Some(p.sha256),
                })
                .collect(),
            version: m.app_version,
            requires: m.requires.filter(|r| !r.is_empty()),
            index: m.index,
        };
        return Ok((plan, Pinned { name, bytes }));
    }

    let name = crate::manifest::text_manifest_name(asset);
    if let Some(bytes) = remote.get_small(&name, MANIFEST_CAP).await? {
        let text = String::from_utf8(bytes).map_err(|_| {
            Error::Integrity(format!("{}: manifest is not UTF-8 text", src.locate(&name)))
        })?;
        let names = parse_text_manifest(&text).with_context(|| src.locate(&name))?;
        let (sha256, pin) = whole_sha256(remote, &sha256_name(asset), asset).await?;
        let mut parts = Vec::with_capacity(names.len());
        let mut offset = 0u64;
        for part in names {
            if part == asset {
                return Err(Error::Integrity(format!(
                    "{}: lists the asset itself as a part",
                    src.locate(&name)
                ))
                .into());
            }
            let size = remote.size(&part).await?.ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: listed in {} but not found",
                    src.locate(&part),
                    src.locate(&name)
                )
            })?;
            if size >= GITHUB_ASSET_LIMIT {
                return Err(Error::Integrity(format!(
                    "{}: {size} bytes, not under the 2 GiB part limit",
                    src.locate(&part)
                ))
                .into());
            }
            parts.push(Part {
                name: part,
                offset,
                size,
                sha256: None,
            });
            offset = offset
                .checked_add(size)
                .ok_or_else(|| Error::Integrity("part sizes overflow".into()))?;
        }
        let plan = Plan {
            layout: Layout::ManifestText,
            asset: asset.to_string(),
            size: offset,
            sha256,
            parts,
            version: None,
            requires: None,
            index: None,
        };
        return Ok((plan, pin));
    }

    if let Some(size) = remote.size(asset).await? {
        let (sha256, pin) = whole_sha256(remote, &sha256_name(asset), asset).await?;
        let plan = single(Layout::Whole, asset, asset.to_string(), size, sha256);
        return Ok((plan, pin));
    }

    let archive = format!("{s}.tar.gz");
    if let Some(size) = remote.size(&archive).await? {
        let (sha256, pin) = whole_sha256(remote, &format!("{archive}.sha256"), &archive).await?;
        return Ok((single(Layout::Archive, asset, archive, size, sha256), pin));
    }

    // Every file answered "not found" (404 or 410, or no such file): a wrong location or tag
    // rather than a network failure, so it is reported at once, never retried.
    let problem = match src {
        super::source::Source::Http(_) => crate::error::SourceProblem::NoRelease,
        super::source::Source::Dir(_) => crate::error::SourceProblem::NoReleaseInDir,
    };
    Err(crate::error::with_remedy(
        anyhow::anyhow!(
            "no release of {asset} at {}: none of {}, {}, {asset} or {archive} exists",
            src.display(),
            json_manifest_name(asset),
            crate::manifest::text_manifest_name(asset),
        ),
        crate::error::Remedy::CheckSource { problem },
    ))
}

fn single(layout: Layout, asset: &str, file: String, size: u64, sha256: Sha256) -> Plan {
    Plan {
        layout,
        asset: asset.to_string(),
        size,
        sha256,
        parts: vec![Part {
            name: file,
            offset: 0,
            size,
            sha256: None,
        }],
        version: None,
        requires: None,
        index: None,
    }
}

/// Reads the one-line checksum file `name` for `file`. Missing -> refused (exit 3).
/// Returns the digest and the file as read.
async fn whole_sha256(remote: &Remote, name: &str, file: &str) -> Result<(Sha256, Pinned)> {
    let src = &remote.source;
    let bytes = remote
        .get_small(name, CHECKSUM_FILE_CAP)
        .await?
        .ok_or_else(|| {
            Error::Integrity(format!(
                "{} not found: refusing to install {file} without a SHA-256",
                src.locate(name)
            ))
        })?;
    let text = String::from_utf8(bytes.clone())
        .map_err(|_| Error::Integrity(format!("{}: not UTF-8 text", src.locate(name))))?;
    let line = parse_single(&text).with_context(|| src.locate(name))?;
    let base = line.name.rsplit('/').next().unwrap_or_default();
    if !line.name.is_empty() && base != file {
        return Err(Error::Integrity(format!(
            "{}: checksum is for {:?}, not {file:?}",
            src.locate(name),
            line.name
        ))
        .into());
    }
    let pin = Pinned {
        name: name.to_string(),
        bytes,
    };
    Ok((line.sha256, pin))
}
