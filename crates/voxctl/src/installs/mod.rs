//! The backends dir (`{data_dir}/backends/`) where installed variants live, and the install
//! record that lets `fetch` see a finished install and `restart`/`status` know its version.
//!
//! Layout: a single-file asset is installed as `backends/{asset}`; an archive asset is
//! extracted into `backends/{variant}/`. Each install has a record
//! `backends/{asset}.install.json` ([`InstallRecord`]), written atomically after the install.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::checked_open::{self, Rule};
use crate::checksum::Sha256;
use crate::manifest::Layout;

pub mod audit;

/// The default data dir of `app`: `$XDG_DATA_HOME/{app}` or `~/.local/share/{app}` on Linux,
/// `~/Library/Application Support/{app}` on macOS, `%LOCALAPPDATA%\{app}` on Windows (the
/// `directories` crate's local data dir: a multi-gigabyte backend does not belong in a
/// roaming profile).
pub fn default_data_dir(app: &str) -> Result<PathBuf> {
    let base = directories::BaseDirs::new().ok_or_else(|| {
        crate::error::with_remedy(
            anyhow::anyhow!("cannot find the home directory, so there is no default data dir"),
            crate::error::Remedy::NameDataDir,
        )
    })?;
    Ok(base.data_local_dir().join(app))
}

/// The most an install record may hold, in bytes (16 MiB): an archive install lists every
/// file it extracted (about 150 bytes each), so this is larger than other records' cap.
pub const INSTALL_RECORD_CAP: u64 = 16 << 20;

/// The record of one installed asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallRecord {
    /// The asset's file name.
    pub asset: String,
    /// The variant, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// The installed path: the binary, or the directory an archive was extracted into.
    pub path: PathBuf,
    /// The SHA-256 of the asset as released (the archive's, for archives).
    pub sha256: Sha256,
    /// The asset's size in bytes.
    pub size: u64,
    /// The release tag or app version, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Where it came from (URL or directory).
    pub source: String,
    /// Which release layout was used (in JSON `manifest.json`, `manifest`, `whole` or
    /// `archive`, as records have always said).
    pub layout: Layout,
    /// When it was installed, in seconds since the Unix epoch (in JSON an RFC 3339 UTC
    /// string; integers written by older versions are read too).
    #[serde(with = "crate::timestamp::secs")]
    pub installed_at: u64,
    /// The signature check it passed (key id and trusted comment), when a key was trusted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<crate::signature::Authenticated>,
    /// For an archive install: every file and symlink extracted, so `verify --installed`
    /// finds a deleted or altered library (absent in records of older voxctl versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<InstalledFile>>,
    /// The release's hardware requirements, when its manifest stated them (`doctor` judges
    /// the install against the GPUs here with them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires: Option<crate::gpu::Requirements>,
    /// What installing it cost (absent in records of older voxctl versions).
    #[serde(default, flatten, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<Transfer>,
}

/// What one install cost: in the install record and the fetch's `Installed` event,
/// as top-level fields `downloaded`, `reused`, `requests`, `served`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// Bytes received from the release for the asset in this run: parts or ranges, and the
    /// chunk index of a differential fetch (bytes a resumed run found on disk not counted).
    pub downloaded: u64,
    /// Bytes of the asset taken from local files (the installed asset, `--seed` files, a
    /// stopped differential fetch's chunks), each chunk verified; 0 for a full download.
    pub reused: u64,
    /// Requests made for the asset's bytes (parts or ranges) and its chunk index in this run.
    pub requests: u64,
    /// Which sources (mirrors, the origin) served the bytes downloaded in this run, with how
    /// many each; empty when nothing was downloaded (absent in records of older versions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub served: Vec<Served>,
}

/// Bytes of an install served by one source (a mirror or the origin), as recorded in the
/// install record's `served` list and shown by `status -v`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Served {
    /// The source, as `fetch::Source::display` shows it.
    pub source: String,
    /// Whether it was a mirror (`false`: the origin).
    pub mirror: bool,
    /// Bytes of the asset received from it.
    pub bytes: u64,
}

/// One entry of an archive install, as recorded in its install record: a regular file with
/// its size and SHA-256, or a symlink with its target. `path` is relative to the install
/// directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalledFile {
    /// The path inside the install directory, as in the archive (without `./`).
    pub path: PathBuf,
    /// The file's size in bytes (0 for a symlink).
    #[serde(default)]
    pub size: u64,
    /// The file's SHA-256 (absent for a symlink).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Sha256>,
    /// A symlink's target, as written in the archive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<PathBuf>,
}

/// The backends dir of one data dir.
#[derive(Debug, Clone)]
pub struct BackendsDir {
    root: PathBuf,
}

impl BackendsDir {
    /// `{data_dir}/backends`.
    pub fn new(data_dir: &Path) -> BackendsDir {
        BackendsDir {
            root: data_dir.join("backends"),
        }
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where a single-file asset is installed: `backends/{asset}`.
    pub fn asset_path(&self, asset: &str) -> PathBuf {
        self.root.join(asset)
    }

    /// Where the previous install of single-file `asset` is hard-linked while the new one is
    /// renamed over it: `backends/.{asset}.replaced`. The link keeps the old inode alive
    /// through the rename, so the rename does not free its blocks; the link is removed once
    /// the new file is live, and a crash's leftover by the next fetch or remove of the asset.
    pub fn replaced_path(&self, asset: &str) -> PathBuf {
        self.root.join(format!(".{asset}.replaced"))
    }

    /// Where an archive asset of `variant` is extracted: `backends/{variant}/`.
    pub fn archive_dir(&self, variant: &str) -> PathBuf {
        self.root.join(variant)
    }

    /// Where `asset` of `variant` is installed with `layout`: [`archive_dir`](Self::archive_dir)
    /// for an archive, [`asset_path`](Self::asset_path) otherwise. Derived from the names
    /// voxctl chose, never from what a record says, so a planted record cannot point a
    /// removal or a repair outside the backends dir.
    pub fn install_path(&self, variant: &str, asset: &str, layout: Layout) -> PathBuf {
        match layout {
            Layout::Archive => self.archive_dir(variant),
            _ => self.asset_path(asset),
        }
    }

    /// The install path of `record`, which was read as the record of `asset` of `variant`:
    /// [`install_path`](Self::install_path) for its layout, once the record agrees with it.
    ///
    /// Errors with [`crate::Error::Refused`] (exit 5), naming the record, when the record
    /// names another asset or variant, or a `path` other than the derived one (a planted or
    /// edited record, or a data dir that was moved since the install: `fetch --force`
    /// rewrites the record).
    pub fn recorded_install_path(
        &self,
        record: &InstallRecord,
        variant: &str,
        asset: &str,
    ) -> Result<PathBuf> {
        let derived = self.install_path(variant, asset, record.layout);
        let disagrees = if record.asset != asset {
            Some(format!("asset {:?}", record.asset))
        } else if record.variant.as_deref().is_some_and(|v| v != variant) {
            Some(format!(
                "variant {:?}",
                record.variant.as_deref().unwrap_or("")
            ))
        } else if record.path != derived {
            Some(format!("path {}", record.path.display()))
        } else {
            None
        };
        match disagrees {
            None => Ok(derived),
            Some(what) => Err(crate::error::with_remedy(
                crate::Error::Refused(format!(
                    "the install record {} names {what}, but {asset} of {variant} is installed \
                     at {}; not trusting it",
                    self.record_path(asset).display(),
                    derived.display()
                )),
                crate::error::Remedy::Reinstall {
                    variant: Some(variant.to_string()),
                    inspect: Some(self.record_path(asset)),
                },
            )),
        }
    }

    /// The install record of `asset`: `backends/{asset}.install.json`.
    pub fn record_path(&self, asset: &str) -> PathBuf {
        self.root.join(format!("{asset}.install.json"))
    }

    /// Reads the install record of `asset`; `Ok(None)` when there is none. Opened without
    /// following symlinks and checked on the handle (this user's regular file, not
    /// world-writable: else [`crate::Error::Refused`], exit 5), read up to
    /// `checked_open::RECORD_CAP` bytes (more fails, exit 1).
    pub fn read_record(&self, asset: &str) -> Result<Option<InstallRecord>> {
        let path = self.record_path(asset);
        let file = match checked_open::open_file(
            &path,
            std::fs::OpenOptions::new().read(true),
            Rule::Shared,
        ) {
            Ok(f) => Some(f),
            Err(e) if checked_open::is_not_found(&e) && crate::Error::find(&e).is_none() => None,
            Err(e) => return Err(e),
        };
        let bytes = match file {
            Some(f) => Some(checked_open::read_capped(&f, INSTALL_RECORD_CAP, &path)?),
            None => None,
        };
        match bytes {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .with_context(|| format!("malformed install record {}", path.display())),
            None => Ok(None),
        }
    }

    /// Creates `backends/` (and the data dir) if missing, and checks it on an opened handle:
    /// a directory (not a symlink), owned by this user, not world-writable (group-writable is
    /// allowed: umask 002 is common for data dirs). Errors with [`crate::Error::Refused`]
    /// (exit 5) naming the path.
    pub fn ensure(&self) -> Result<()> {
        checked_open::ensure_dir(&self.root, 0o755, true, Rule::Shared)
    }

    /// Writes the install record of `record.asset` atomically.
    pub fn write_record(&self, record: &InstallRecord) -> Result<()> {
        crate::atomic::write_json_atomic(&self.record_path(&record.asset), record)
    }

    /// All install records, sorted by asset name.
    pub fn records(&self) -> Result<Vec<InstallRecord>> {
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => {
                return Err(
                    anyhow::Error::from(e).context(format!("cannot list {}", self.root.display()))
                )
            }
        };
        for entry in entries {
            let name = entry?.file_name();
            if let Some(asset) = name.to_str().and_then(|n| n.strip_suffix(".install.json")) {
                if let Some(r) = self.read_record(asset)? {
                    out.push(r);
                }
            }
        }
        out.sort_by(|a, b| a.asset.cmp(&b.asset));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record as an older voxctl wrote it: `layout` a string, `installed_at` an integer,
    /// no `files` or `requires`.
    const OLD_RECORD: &str = r#"{
  "asset": "voicebox-server-cuda",
  "variant": "cuda",
  "path": "/data/backends/voicebox-server-cuda",
  "sha256": "0707070707070707070707070707070707070707070707070707070707070707",
  "size": 1,
  "version": "v1.0.0",
  "source": "https://example.com/rel",
  "layout": "manifest",
  "installed_at": 1700000000
}"#;

    #[test]
    fn old_records_load_and_the_layout_keeps_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let backends = BackendsDir::new(dir.path());
        std::fs::create_dir_all(backends.root()).unwrap();
        std::fs::write(backends.record_path("voicebox-server-cuda"), OLD_RECORD).unwrap();
        let record = backends
            .read_record("voicebox-server-cuda")
            .unwrap()
            .unwrap();
        assert_eq!(record.layout, Layout::ManifestText);
        assert_eq!(record.installed_at, 1_700_000_000);
        // Written back, it says the same layout.
        backends.write_record(&record).unwrap();
        let text = std::fs::read_to_string(backends.record_path("voicebox-server-cuda")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["layout"], "manifest");
        assert_eq!(
            backends.read_record("voicebox-server-cuda").unwrap(),
            Some(record)
        );
        // Every layout's record name is its `as_str`, both ways.
        for layout in [
            Layout::ManifestJson,
            Layout::ManifestText,
            Layout::Whole,
            Layout::Archive,
        ] {
            let json = format!("\"{}\"", layout.as_str());
            assert_eq!(serde_json::to_string(&layout).unwrap(), json);
            assert_eq!(serde_json::from_str::<Layout>(&json).unwrap(), layout);
        }
    }
}
