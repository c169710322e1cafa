//! Release builders and a fixture for the fetch tests: releases in every layout of
//! docs/contract.md, made in the test itself (library types for the JSON manifest, GNU `split` +
//! `sha256sum` for voicebox v1, the tar/flate2 crates for archives).

use std::path::{Path, PathBuf};

use voxctl::checksum::{format_line, Sha256};
use voxctl::manifest::{self, Manifest, Part};

/// The asset the tests fetch (`--variant cuda`): the platform's executable name, as voxctl
/// names the asset it fetches (`.exe` on Windows).
pub const ASSET: &str = if cfg!(windows) {
    "voicebox-server-cuda.exe"
} else {
    "voicebox-server-cuda"
};

/// `n` pseudo-random bytes from `seed` (xorshift; fast and reproducible).
pub fn data(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(n);
    out
}

/// Writes a layout-1 release (`S.manifest.json` + parts of `chunk` bytes) of `asset`.
pub fn json_release(dir: &Path, asset: &str, bytes: &[u8], chunk: usize) -> Manifest {
    std::fs::create_dir_all(dir).unwrap();
    let mut parts = Vec::new();
    for (i, c) in bytes.chunks(chunk).enumerate() {
        let name = manifest::part_name(asset, i);
        std::fs::write(dir.join(&name), c).unwrap();
        parts.push(Part {
            name,
            offset: (i * chunk) as u64,
            size: c.len() as u64,
            sha256: Sha256::of(c),
        });
    }
    let m = Manifest {
        format: manifest::FORMAT.into(),
        version: manifest::VERSION,
        asset: asset.into(),
        size: bytes.len() as u64,
        sha256: Sha256::of(bytes),
        chunk_size: chunk as u64,
        app_version: Some("0.3.0".into()),
        variant: Some("cuda".into()),
        requires: None,
        index: None,
        parts,
    };
    write_manifest(dir, &m);
    m
}

/// A JSON-manifest release of `bytes` in parts of `part` bytes whose manifest names its chunk
/// index (`S.chunks`, written beside it), as `voxctl split` publishes one. Returns both.
pub fn json_release_with_index(
    dir: &Path,
    asset: &str,
    bytes: &[u8],
    part: usize,
) -> (Manifest, voxctl::chunks::Index) {
    use voxctl::chunks::{self, Index, IndexRef, Params};
    let mut m = json_release(dir, asset, bytes, part);
    let tmp = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tmp.path(), bytes).unwrap();
    let cancel = voxctl::cancel::Cancel::new();
    let index = Index::of_file(tmp.path(), Params::DEFAULT, &cancel).unwrap();
    let file = index.to_bytes();
    std::fs::write(dir.join(chunks::index_name(asset)), &file).unwrap();
    m.index = Some(IndexRef {
        name: chunks::index_name(asset),
        size: file.len() as u64,
        sha256: Sha256::of(&file),
    });
    write_manifest(dir, &m);
    (m, index)
}

/// Writes `m` as the `S.manifest.json` of [`ASSET`] (for tests that tamper with it).
pub fn write_manifest(dir: &Path, m: &Manifest) {
    std::fs::write(
        dir.join(manifest::json_manifest_name(ASSET)),
        serde_json::to_vec_pretty(m).unwrap(),
    )
    .unwrap();
}

fn sh(dir: &Path, script: &str) {
    super::host::sh_in(dir, script, &[]);
}

/// Writes a voicebox v1 release the way its release script does: GNU `split -d -a 2`,
/// `ls S.part* > S.manifest`, `sha256sum A > S.sha256`; the whole file is removed. `S` is the
/// asset's stem, and the parts of an `.exe` asset keep the suffix (`S.part00.exe`), as
/// voxctl names them.
pub fn v1_release(dir: &Path, asset: &str, bytes: &[u8], chunk: usize) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(asset), bytes).unwrap();
    let stem = manifest::stem(asset);
    let suffix = manifest::part_suffix(asset);
    let list = manifest::text_manifest_name(asset);
    let sums = manifest::sha256_name(asset);
    sh(
        dir,
        &format!(
            "split -d -a 2 -b {chunk} --additional-suffix='{suffix}' {asset} {stem}.part && \
             ls {stem}.part* > {list} && sha256sum {asset} > {sums} && rm {asset}"
        ),
    );
}

/// Writes a layout-3 release: the whole file and `S.sha256`.
pub fn whole_release(dir: &Path, asset: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(asset), bytes).unwrap();
    std::fs::write(
        dir.join(manifest::sha256_name(asset)),
        format_line(&Sha256::of(bytes), asset),
    )
    .unwrap();
}

/// An entry of a test archive.
pub enum Entry<'a> {
    /// A regular file with mode and content.
    File(&'a str, u32, &'a [u8]),
    /// A symlink and its target.
    Symlink(&'a str, &'a str),
    /// A directory.
    Dir(&'a str),
    /// An entry written with a raw (unchecked) path, for malicious archives.
    RawFile(&'a str, &'a [u8]),
    /// A character device.
    CharDevice(&'a str),
    /// A hard link and its target (a path in the archive).
    HardLink(&'a str, &'a str),
    /// A FIFO.
    Fifo(&'a str),
    /// A directory with the given mode.
    DirMode(&'a str, u32),
    /// A regular file whose header declares `size` bytes but that has no contents, for
    /// archives that claim more than they hold.
    Claims(&'a str, u64),
    /// A pax extended header of `size` bytes before the next entry.
    PaxHeader(usize),
}

/// Writes a layout-4 release: `S.tar.gz` with `entries` and `S.tar.gz.sha256`, where `S` is
/// the stem of `asset` (without `.exe`).
pub fn archive_release(dir: &Path, asset: &str, entries: &[Entry]) -> Vec<u8> {
    let stem = manifest::stem(asset);
    std::fs::create_dir_all(dir).unwrap();
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    for e in entries {
        let mut h = tar::Header::new_gnu();
        match e {
            Entry::File(p, mode, c) => {
                h.set_size(c.len() as u64);
                h.set_mode(*mode);
                h.set_entry_type(tar::EntryType::Regular);
                tar.append_data(&mut h, p, *c).unwrap();
            }
            Entry::Symlink(p, t) => {
                h.set_size(0);
                h.set_entry_type(tar::EntryType::Symlink);
                tar.append_link(&mut h, p, t).unwrap();
            }
            Entry::Dir(p) => {
                h.set_size(0);
                h.set_mode(0o755);
                h.set_entry_type(tar::EntryType::Directory);
                tar.append_data(&mut h, p, &[][..]).unwrap();
            }
            Entry::RawFile(p, c) => {
                h.set_size(c.len() as u64);
                h.set_mode(0o644);
                h.set_entry_type(tar::EntryType::Regular);
                let name = &mut h.as_old_mut().name;
                name[..p.len()].copy_from_slice(p.as_bytes());
                h.set_cksum();
                tar.append(&h, *c).unwrap();
            }
            Entry::CharDevice(p) => {
                h.set_size(0);
                h.set_entry_type(tar::EntryType::Char);
                h.set_device_major(1).unwrap();
                h.set_device_minor(3).unwrap();
                tar.append_data(&mut h, p, &[][..]).unwrap();
            }
            Entry::HardLink(p, t) => {
                h.set_size(0);
                h.set_entry_type(tar::EntryType::Link);
                tar.append_link(&mut h, p, t).unwrap();
            }
            Entry::Fifo(p) => {
                h.set_size(0);
                h.set_mode(0o644);
                h.set_entry_type(tar::EntryType::Fifo);
                tar.append_data(&mut h, p, &[][..]).unwrap();
            }
            Entry::DirMode(p, mode) => {
                h.set_size(0);
                h.set_mode(*mode);
                h.set_entry_type(tar::EntryType::Directory);
                tar.append_data(&mut h, p, &[][..]).unwrap();
            }
            Entry::Claims(p, size) => {
                h.set_size(*size);
                h.set_mode(0o644);
                h.set_entry_type(tar::EntryType::Regular);
                h.set_path(p).unwrap();
                h.set_cksum();
                // The builder copies what the reader gives, not what the header declares.
                tar.append(&h, &[][..]).unwrap();
            }
            Entry::PaxHeader(size) => {
                let mut h = tar::Header::new_ustar();
                h.set_size(*size as u64);
                h.set_entry_type(tar::EntryType::XHeader);
                h.set_path("PaxHeader").unwrap();
                h.set_cksum();
                tar.append(&h, &vec![b'x'; *size][..]).unwrap();
            }
        }
    }
    let bytes = tar.into_inner().unwrap().finish().unwrap();
    let name = format!("{stem}.tar.gz");
    std::fs::write(dir.join(&name), &bytes).unwrap();
    std::fs::write(
        dir.join(format!("{name}.sha256")),
        format_line(&Sha256::of(&bytes), &name),
    )
    .unwrap();
    bytes
}

/// A temp dir with `state/`, `data/` and `rel/` (the release).
pub struct Fixture {
    /// Keeps the directory alive.
    pub tmp: tempfile::TempDir,
}

impl Fixture {
    /// A fresh fixture.
    pub fn new() -> Fixture {
        Fixture {
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    /// The state dir.
    pub fn state(&self) -> PathBuf {
        self.tmp.path().join("state")
    }

    /// The data dir.
    pub fn data(&self) -> PathBuf {
        self.tmp.path().join("data")
    }

    /// The release dir.
    pub fn rel(&self) -> PathBuf {
        self.tmp.path().join("rel")
    }

    /// The installed asset.
    pub fn installed(&self) -> PathBuf {
        self.data().join("backends").join(ASSET)
    }

    /// The partial-data dir of the asset.
    pub fn partial(&self) -> PathBuf {
        self.data().join("backends").join(".partial").join(ASSET)
    }

    /// Arguments for `voxctl fetch --variant cuda` from `source` into the data dir, with
    /// fast retries.
    pub fn args(&self, source: &str) -> Vec<String> {
        [
            "fetch",
            "--variant",
            "cuda",
            "--source",
            source,
            "--data-dir",
            self.data().to_str().unwrap(),
            "--retry-delay",
            "50ms",
        ]
        .map(String::from)
        .to_vec()
    }

    /// `voxctl fetch ...` (assert_cmd) from `source`, with proxies cleared.
    pub fn fetch(&self, source: &str) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.fetch_std(source))
    }

    /// The same, as a `std::process::Command`.
    pub fn fetch_std(&self, source: &str) -> std::process::Command {
        let mut cmd = super::voxctl_std(&self.state());
        cmd.args(self.args(source));
        without_proxies(&mut cmd);
        cmd
    }
}

/// Polls `cond` every 10 ms for up to `secs` seconds.
pub fn wait_until(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Total bytes the resume record (`progress.json`) of a partial dir says are on disk, over
/// all parts; 0 while there is no record.
pub fn partial_bytes(partial: &Path) -> u64 {
    std::fs::read(partial.join("progress.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| {
            v["received"]
                .as_array()
                .map(|a| a.iter().filter_map(|n| n.as_u64()).sum())
        })
        .unwrap_or(0)
}

/// How many chunks the resume record of a differential fetch (`progress.json`'s
/// `chunks.done` runs) says are on disk; 0 without one.
pub fn recorded_chunks(partial: &Path) -> u64 {
    std::fs::read(partial.join("progress.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| {
            v["chunks"]["done"].as_array().map(|runs| {
                runs.iter()
                    .map(|r| r[1].as_u64().unwrap_or(0) - r[0].as_u64().unwrap_or(0))
                    .sum()
            })
        })
        .unwrap_or(0)
}

/// Takes the proxy variables out of `cmd`'s environment, so that requests to the loopback
/// servers of the tests go straight to them whatever the machine's proxy settings.
pub fn without_proxies(cmd: &mut std::process::Command) -> &mut std::process::Command {
    for v in [
        "http_proxy",
        "https_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env_remove(v);
    }
    cmd
}

/// The JSON lines of a `fetch --json` run's stdout, one value per event.
pub fn events(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
