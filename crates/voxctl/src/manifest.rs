//! Release manifests (docs/contract.md "Release layouts"): asset and part naming, the rich JSON
//! manifest (`S.manifest.json`, layout 1) and the voicebox v1 text manifest (`S.manifest`,
//! layout 2: part names in order, one a line, newline terminated).
//!
//! Everything read from a release is untrusted: [`Manifest::validate`] checks that names are
//! plain file names, unique, that parts are contiguous from offset 0 and add up to the
//! declared size.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::checksum::Sha256;
use crate::name::validate_file_name;
use crate::Error;

/// The `format` tag of a JSON manifest.
pub const FORMAT: &str = "voxctl-manifest";
/// The JSON manifest version this build writes and reads.
pub const VERSION: u32 = 1;
/// GitHub's per-asset size limit, 2 GiB (2,147,483,648 bytes); every part must stay below it.
pub const GITHUB_ASSET_LIMIT: u64 = 2 * 1024 * 1024 * 1024;
/// The default part size, the voicebox release script's value: 1,900,000,000 bytes.
pub const DEFAULT_CHUNK_SIZE: u64 = 1_900_000_000;

pub use crate::name::{part_suffix, stem};

/// Which layout a release uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Layout {
    /// `S.manifest.json` (layout 1).
    #[serde(rename = "manifest.json")]
    ManifestJson,
    /// `S.manifest` + `S.sha256` (layout 2, voicebox v1).
    #[serde(rename = "manifest")]
    ManifestText,
    /// `A` + `S.sha256` (layout 3).
    #[serde(rename = "whole")]
    Whole,
    /// `S.tar.gz` + `S.tar.gz.sha256` (layout 4).
    #[serde(rename = "archive")]
    Archive,
}

impl Layout {
    /// The name recorded in install records and shown to people.
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::ManifestJson => "manifest.json",
            Layout::ManifestText => "manifest",
            Layout::Whole => "whole",
            Layout::Archive => "archive",
        }
    }
}

/// The name of part `index` of `asset`: `{stem}.part{NN}{suffix}`, NN zero-padded to two
/// digits (what GNU `split -d -a 2 --additional-suffix=.exe` produces for `S.part`).
/// Index 100 and above get three or more digits.
pub fn part_name(asset: &str, index: usize) -> String {
    format!("{}.part{index:02}{}", stem(asset), part_suffix(asset))
}

/// `S.manifest.json`.
pub fn json_manifest_name(asset: &str) -> String {
    format!("{}.manifest.json", stem(asset))
}

/// `S.manifest` (voicebox v1 text manifest).
pub fn text_manifest_name(asset: &str) -> String {
    format!("{}.manifest", stem(asset))
}

/// `S.sha256` (one sha256sum line for the whole asset).
pub fn sha256_name(asset: &str) -> String {
    format!("{}.sha256", stem(asset))
}

/// One part of a split asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// The part's file name (plain, no directories).
    pub name: String,
    /// Where the part starts in the asset, in bytes.
    pub offset: u64,
    /// The part's size in bytes.
    pub size: u64,
    /// The part's SHA-256.
    pub sha256: Sha256,
}

/// The rich JSON manifest (layout 1), written by `voxctl split`.
///
/// ```json
/// {"format":"voxctl-manifest","version":1,"asset":"voicebox-server-cuda","size":2400000000,
///  "sha256":"…","chunk_size":1900000000,"app_version":"0.3.0","variant":"cuda",
///  "requires":{"cuda_arch_list":"8.0;8.6;8.9;9.0;12.0+PTX","min_driver":"525.60"},
///  "index":{"name":"voicebox-server-cuda.chunks","size":5505300,"sha256":"…"},
///  "parts":[{"name":"voicebox-server-cuda.part00","offset":0,"size":1900000000,"sha256":"…"},…]}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// The asset's file name.
    pub asset: String,
    /// The asset's total size in bytes.
    pub size: u64,
    /// The SHA-256 of the whole asset.
    pub sha256: Sha256,
    /// The part size used by the split, in bytes (the last part may be smaller).
    pub chunk_size: u64,
    /// The app version the asset belongs to, if given at split time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    /// The variant (`cpu`, `cuda`, `rocm`), if given at split time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// What the build needs from the hardware (`split --cuda-arch-list`, `--min-driver`,
    /// `--rocm-gfx`); absent when nothing is stated. An optional field: the format version
    /// stays 1, and older readers ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires: Option<crate::gpu::Requirements>,
    /// The chunk index published beside the parts (`S.chunks`, [`crate::chunks`]): its name,
    /// size and SHA-256, so that whatever authenticates the manifest authenticates the index.
    /// Absent without one (`split --no-index`, or a release by another tool). An optional
    /// field: the format version stays 1, and older readers ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<crate::chunks::IndexRef>,
    /// The parts, in order.
    pub parts: Vec<Part>,
}

impl Manifest {
    /// Parses and validates a JSON manifest. Errors with [`Error::Integrity`] describing the
    /// first problem.
    pub fn from_json(bytes: &[u8]) -> Result<Manifest, Error> {
        let m: Manifest = serde_json::from_slice(bytes)
            .map_err(|e| Error::Integrity(format!("malformed manifest: {e}")))?;
        m.validate()?;
        Ok(m)
    }

    /// Checks the invariants of untrusted manifest data (see the module docs).
    pub fn validate(&self) -> Result<(), Error> {
        if self.format != FORMAT {
            return Err(Error::Integrity(format!(
                "manifest format {:?} is not {FORMAT:?}",
                self.format
            )));
        }
        if self.version != VERSION {
            return Err(Error::Integrity(format!(
                "manifest version {} is not supported (this voxctl reads version {VERSION})",
                self.version
            )));
        }
        validate_file_name("asset", &self.asset)?;
        if let Some(index) = &self.index {
            index.validate(&self.asset)?;
        }
        if self.parts.is_empty() {
            return Err(Error::Integrity("manifest lists no parts".into()));
        }
        let mut seen = HashSet::new();
        let mut offset = 0u64;
        for part in &self.parts {
            validate_file_name("part", &part.name)?;
            if !seen.insert(part.name.as_str()) || part.name == self.asset {
                return Err(Error::Integrity(format!(
                    "part name {:?} appears twice",
                    part.name
                )));
            }
            if part.offset != offset {
                return Err(Error::Integrity(format!(
                    "part {} starts at offset {} but the parts before it end at {offset}",
                    part.name, part.offset
                )));
            }
            if part.size >= GITHUB_ASSET_LIMIT {
                return Err(Error::Integrity(format!(
                    "part {} is {} bytes, not under the 2 GiB limit",
                    part.name, part.size
                )));
            }
            offset = offset.checked_add(part.size).ok_or_else(|| {
                Error::Integrity("part sizes overflow a 64-bit byte count".into())
            })?;
        }
        if offset != self.size {
            return Err(Error::Integrity(format!(
                "parts add up to {offset} bytes but the manifest declares {}",
                self.size
            )));
        }
        Ok(())
    }
}

/// Formats the voicebox v1 text manifest: part names in order, one a line, newline terminated
/// (what `ls S.part* > S.manifest` produces).
pub fn format_text_manifest<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names.into_iter().map(|n| format!("{n}\n")).collect()
}

/// Parses a voicebox v1 text manifest into part names, validated as plain, unique file names.
/// Blank lines are ignored. Errors with [`Error::Integrity`].
pub fn parse_text_manifest(text: &str) -> Result<Vec<String>, Error> {
    let mut names = Vec::new();
    let mut seen = HashSet::new();
    for line in text.lines() {
        let name = line.strip_suffix('\r').unwrap_or(line).trim();
        if name.is_empty() {
            continue;
        }
        validate_file_name("part", name)?;
        if !seen.insert(name.to_string()) {
            return Err(Error::Integrity(format!(
                "part name {name:?} appears twice"
            )));
        }
        names.push(name.to_string());
    }
    if names.is_empty() {
        return Err(Error::Integrity("text manifest lists no parts".into()));
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        Manifest {
            format: FORMAT.into(),
            version: VERSION,
            asset: "voicebox-server-cuda.exe".into(),
            size: 15,
            sha256: Sha256::of(b"x"),
            chunk_size: 10,
            app_version: None,
            variant: Some("cuda".into()),
            requires: None,
            index: None,
            parts: vec![
                Part {
                    name: part_name("voicebox-server-cuda.exe", 0),
                    offset: 0,
                    size: 10,
                    sha256: Sha256::of(b"a"),
                },
                Part {
                    name: part_name("voicebox-server-cuda.exe", 1),
                    offset: 10,
                    size: 5,
                    sha256: Sha256::of(b"b"),
                },
            ],
        }
    }

    #[test]
    fn names() {
        assert_eq!(
            part_name("voicebox-server-cuda.exe", 0),
            "voicebox-server-cuda.part00.exe"
        );
        assert_eq!(
            part_name("voicebox-server-cuda", 7),
            "voicebox-server-cuda.part07"
        );
        assert_eq!(part_name("x", 123), "x.part123");
        assert_eq!(json_manifest_name("a.exe"), "a.manifest.json");
        assert_eq!(sha256_name("a"), "a.sha256");
        assert_eq!(stem(".exe"), "");
    }

    #[test]
    fn validation_table() {
        let ok = sample();
        assert!(Manifest::from_json(&serde_json::to_vec(&ok).unwrap()).is_ok());
        type Break = fn(&mut Manifest);
        let cases: [(&str, Break); 10] = [
            ("format", |m| m.format = "x".into()),
            ("version", |m| m.version = 9),
            ("traversal", |m| m.parts[0].name = "../etc/passwd".into()),
            ("duplicate", |m| m.parts[1].name = m.parts[0].name.clone()),
            ("gap", |m| m.parts[1].offset = 11),
            ("sum", |m| m.size = 16),
            ("asset", |m| m.asset = "a/b".into()),
            ("empty", |m| m.parts.clear()),
            ("index name", |m| {
                m.index = Some(crate::chunks::IndexRef {
                    name: "other.chunks".into(),
                    size: 108,
                    sha256: Sha256::of(b"i"),
                })
            }),
            ("index size", |m| {
                m.index = Some(crate::chunks::IndexRef {
                    name: "voicebox-server-cuda.chunks".into(),
                    size: 0,
                    sha256: Sha256::of(b"i"),
                })
            }),
        ];
        for (what, f) in cases {
            let mut m = sample();
            f(&mut m);
            assert!(m.validate().is_err(), "{what} must be refused");
        }
    }

    /// The index reference is an optional field: a manifest without it (a release made
    /// without a chunk index) still parses, one with it parses and keeps it, and a reader that does
    /// not know the field (modelled by a struct without it, deserialized as serde does by default,
    /// since `Manifest` does not deny unknown fields) still reads the manifest.
    #[test]
    fn the_index_field_is_optional_and_ignored_by_readers_that_do_not_know_it() {
        let without = sample();
        let json = serde_json::to_value(&without).unwrap();
        assert!(json.get("index").is_none(), "not written when absent");
        assert_eq!(
            Manifest::from_json(json.to_string().as_bytes()).unwrap(),
            without
        );

        let mut with = sample();
        with.index = Some(crate::chunks::IndexRef {
            name: "voicebox-server-cuda.chunks".into(),
            size: 108,
            sha256: Sha256::of(b"i"),
        });
        let text = serde_json::to_string(&with).unwrap();
        assert!(
            text.contains(r#""index":{"name":"voicebox-server-cuda.chunks","size":108,"sha256":""#)
        );
        assert_eq!(Manifest::from_json(text.as_bytes()).unwrap(), with);
        assert_eq!(with.version, 1, "the format version does not change");

        #[derive(Deserialize)]
        #[allow(dead_code)]
        struct OldManifest {
            format: String,
            version: u32,
            asset: String,
            size: u64,
            sha256: Sha256,
            chunk_size: u64,
            #[serde(default)]
            requires: Option<crate::gpu::Requirements>,
            parts: Vec<Part>,
        }
        let old: OldManifest = serde_json::from_str(&text).unwrap();
        assert_eq!((old.size, old.parts.len()), (15, 2));
        // And this reader ignores a field it does not know in turn.
        let mut future = serde_json::to_value(&with).unwrap();
        future["delta_v2"] = serde_json::json!({"x": 1});
        assert_eq!(
            Manifest::from_json(future.to_string().as_bytes()).unwrap(),
            with
        );
    }

    #[test]
    fn text_manifest() {
        let t = format_text_manifest(["a.part00", "a.part01"]);
        assert_eq!(t, "a.part00\na.part01\n");
        assert_eq!(parse_text_manifest(&t).unwrap(), ["a.part00", "a.part01"]);
        assert!(parse_text_manifest("a\na\n").is_err());
        assert!(parse_text_manifest("../a\n").is_err());
        assert!(parse_text_manifest("\n").is_err());
    }
}
