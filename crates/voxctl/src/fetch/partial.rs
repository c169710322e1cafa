//! Partial downloads, kept for resume in `{backends}/.partial/{asset}/` (inside the backends
//! dir, so the finished file is renamed into place on the same filesystem, and next to the
//! data it belongs to rather than in the per-user state dir).
//!
//! Layout: `plan.json` is the [`Plan`] the data belongs to (a different release wipes the
//! directory); `{asset}.download` is the [`DataFile`]: one file of the asset's full size that
//! every part writes at its own offset, so the finished download is already the assembled
//! file (no join, no copy); `progress.json` is the resume record: for each part, how many
//! bytes from its start are on disk. The record is written only after an `fdatasync` of the
//! data file that covers those bytes ([`super::writeback`]), so after SIGKILL or a power loss
//! it never claims bytes the disk does not hold; it may lag behind by up to one writeback
//! round, which a rerun simply downloads again. A rerun re-hashes the recorded bytes and
//! continues each part with a Range request.
//!
//! Partial data is kept after a network error or an interrupt, and removed after any other
//! failure (a checksum mismatch, bad release data, sizes that lie, no space, a local I/O
//! error) and after an install; the `.partial/` directory goes with its last asset. Before
//! the data file is allocated, the filesystem's free space is checked (`statvfs`), so a
//! release larger than the disk fails at once, naming what is needed and what is available
//! ([`NoSpace`]). The data file is preallocated only while that leaves [`reserve_margin`]
//! free (else it is sparse), and a download that stops with its data kept gives back what it
//! reserved for bytes that never came ([`DataFile::release_unwritten`]): part sizes a server
//! states unsigned (`HEAD`) can hold no disk space beyond what it actually sent.
//!
//! The directory belongs to the fetch holding the asset's slot: `voxctl remove` takes the
//! same slot. Removed anyway (by hand) while a fetch writes, the data file lives on unnamed
//! until the fetch closes it, and nothing written there can be installed or resumed; the
//! writeback thread notices within one round (the open file's link count is 0), and the
//! download stops at its next write with one [`Vanished`] error.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::layout::Plan;
use crate::checked_open::{self, Rule};
use crate::installs::BackendsDir;

/// The partial-download directory of one asset.
#[derive(Debug, Clone)]
pub struct Partial {
    dir: PathBuf,
    data: PathBuf,
    record: PathBuf,
}

/// The resume record (`progress.json`).
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    /// Per part, in plan order: bytes from the part's start that are on disk.
    received: Vec<u64>,
    /// A differential fetch's chunks on disk (absent for a full download).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    chunks: Option<ChunkRecord>,
}

/// Which chunks of a chunk index a differential fetch has on disk, verified
/// ([`crate::fetch::delta`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkRecord {
    /// The index the chunk numbers refer to: the BLAKE3 of its bytes, hex.
    pub index: String,
    /// Runs of chunk numbers `[first, end)` on disk, in order.
    pub done: Vec<(u32, u32)>,
    /// Bytes those chunks hold (for `voxctl status`, which has no index to count them).
    #[serde(default)]
    pub bytes: u64,
}

/// What the writeback thread notes before each `fdatasync` and records after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Per part, bytes from its start written.
    pub received: Vec<u64>,
    /// The chunks written and verified, for a differential fetch.
    pub chunks: Option<ChunkRecord>,
}

impl Partial {
    /// Opens (creating) the directory for `plan`, wiping data that belongs to another plan
    /// (or that an older voxctl left in another layout).
    pub fn open(backends: &BackendsDir, plan: &Plan) -> Result<Partial> {
        let dir = backends.root().join(".partial").join(&plan.asset);
        let p = Partial {
            data: dir.join(format!("{}.download", plan.asset)),
            record: dir.join("progress.json"),
            dir,
        };
        // `.partial/` and the asset's directory are checked on opened handles (this user's
        // directories, not symlinks, not world-writable) before anything in them is read.
        backends.ensure()?;
        let top = backends.root().join(".partial");
        checked_open::ensure_dir(&top, 0o700, false, Rule::Shared)?;
        if p.dir.symlink_metadata().is_ok() {
            checked_open::check_dir(&p.dir, Rule::Shared)?;
        }
        let plan_path = p.dir.join("plan.json");
        let same = checked_open::read_record_as(&plan_path, Rule::Shared)?
            .and_then(|b| serde_json::from_slice::<Plan>(&b).ok())
            .is_some_and(|old| &old == plan)
            && !p.dir.join("parts").exists();
        if !same && p.dir.exists() {
            tracing::info!(
                "{}: partial data of another release; removing",
                p.dir.display()
            );
            p.remove()?;
        }
        checked_open::ensure_dir(&top, 0o700, false, Rule::Shared)?; // `remove` may drop it
        checked_open::ensure_dir(&p.dir, 0o700, false, Rule::Shared)?;
        if !same {
            if let Err(e) = crate::atomic::write_json_atomic(&plan_path, plan) {
                let _ = p.remove();
                return Err(e);
            }
        }
        Ok(p)
    }

    /// Removes the partial directory of `asset` if there is one, returning its path and the
    /// bytes its files held. For a caller holding the asset's fetch slot (nobody else is
    /// writing it) that has found the release already installed: the data can only be a
    /// leftover of an interrupted `--force` or of an older release.
    pub fn remove_stale(backends: &BackendsDir, asset: &str) -> Result<Option<(PathBuf, u64)>> {
        let dir = backends.root().join(".partial").join(asset);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(None);
        };
        let bytes = entries
            .filter_map(|e| e.ok()?.metadata().ok())
            .filter(|m| m.is_file())
            .map(|m| m.len())
            .sum();
        let p = Partial {
            data: PathBuf::new(),
            record: PathBuf::new(),
            dir,
        };
        p.remove()?;
        Ok(Some((p.dir, bytes)))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The data file's path: the assembled file once every part is in.
    pub fn data_path(&self) -> &Path {
        &self.data
    }

    /// Records what `snapshot` says is on disk (atomically). The caller has made it
    /// durable first.
    pub fn write_record(&self, snapshot: &Snapshot) -> Result<()> {
        crate::atomic::write_json_atomic(
            &self.record,
            &Record {
                received: snapshot.received.clone(),
                chunks: snapshot.chunks.clone(),
            },
        )
    }

    /// The record, if one for `plan` exists and makes sense.
    fn read_record(&self, plan: &Plan) -> Option<Record> {
        let bytes = checked_open::read_record_as(&self.record, Rule::Shared).ok()??;
        let record: Record = serde_json::from_slice(&bytes).ok()?;
        let fits = record.received.len() == plan.parts.len()
            && record
                .received
                .iter()
                .zip(&plan.parts)
                .all(|(n, p)| *n <= p.size);
        fits.then_some(record)
    }

    /// Removes the directory and everything in it (fine if it is already gone), and the
    /// `.partial` directory above it when that is left empty.
    pub fn remove(&self) -> Result<()> {
        match std::fs::remove_dir_all(&self.dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(
                    anyhow::Error::from(e).context(format!("cannot remove {}", self.dir.display()))
                )
            }
            _ => {}
        }
        if let Some(parent) = self.dir.parent() {
            let _ = std::fs::remove_dir(parent); // fails harmlessly while other assets use it
        }
        Ok(())
    }
}

/// A partial download found on disk, for `voxctl status` and `voxctl remove`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartialInfo {
    /// The asset being downloaded.
    pub asset: String,
    /// Its partial-data directory (absolute when the backends dir is).
    pub dir: PathBuf,
    /// Bytes recorded as on disk (durable) for resume; 0 without a resume record.
    pub bytes_on_disk: u64,
    /// The size of the whole download in bytes, when its plan is readable.
    pub size: Option<u64>,
    /// When the data last changed (the resume record, else the directory), RFC 3339 UTC.
    pub modified_at: String,
    /// How long ago that was, in milliseconds.
    pub age_ms: u64,
}

/// The partial downloads in `backends` (`.partial/*/`), by asset name. Reads only: nothing
/// is created, and a missing directory is an empty list.
pub fn list(backends: &BackendsDir) -> Result<Vec<PartialInfo>> {
    let root = backends.root().join(".partial");
    let entries = match std::fs::read_dir(&root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(anyhow::Error::from(e).context(format!("cannot list {}", root.display())))
        }
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", root.display()))?;
        let dir = entry.path();
        let Some(asset) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        // Read as every data-dir record is (no symlinks, regular files, capped); a record
        // that cannot be read shows as unknown rather than failing `status`.
        let read_json = |name: &str| -> Option<serde_json::Value> {
            let bytes = crate::checked_open::read_record_as(
                &dir.join(name),
                crate::checked_open::Rule::Shared,
            )
            .ok()??;
            serde_json::from_slice(&bytes).ok()
        };
        let bytes_on_disk = read_json("progress.json")
            .and_then(|r| serde_json::from_value::<Record>(r).ok())
            .map_or(0, |r| {
                r.received.iter().sum::<u64>() + r.chunks.map_or(0, |c| c.bytes)
            });
        let size = read_json("plan.json").and_then(|p| p.get("size")?.as_u64());
        let modified = std::fs::metadata(dir.join("progress.json"))
            .or_else(|_| std::fs::metadata(&dir))
            .and_then(|m| m.modified())
            .unwrap_or(std::time::UNIX_EPOCH);
        let age = std::time::SystemTime::now()
            .duration_since(modified)
            .unwrap_or_default();
        out.push(PartialInfo {
            asset,
            dir,
            bytes_on_disk,
            size,
            modified_at: humantime::format_rfc3339_seconds(modified).to_string(),
            age_ms: age.as_millis() as u64,
        });
    }
    out.sort_by(|a, b| a.asset.cmp(&b.asset));
    Ok(out)
}

/// Removes the partial download of `asset` in `backends`, if any; returns whether there was
/// one.
pub fn remove(backends: &BackendsDir, asset: &str) -> Result<bool> {
    let dir = backends.root().join(".partial").join(asset);
    if !dir.exists() {
        return Ok(false);
    }
    let p = Partial {
        data: dir.join(format!("{asset}.download")),
        record: dir.join("progress.json"),
        dir,
    };
    p.remove()?;
    Ok(true)
}

/// The download's data file: the asset's full size, preallocated, each part written at its
/// offset with positioned writes (`pwrite`), so parts never copy each other and the file is
/// the assembled asset when the last part is in. Shared by the part tasks, the hash
/// threads and the writeback thread.
#[derive(Debug)]
pub struct DataFile {
    file: File,
    path: PathBuf,
    /// Per part: offset in the file and size, in bytes.
    spans: Vec<(u64, u64)>,
    /// Per part: bytes from its start written so far (the `pwrite`s that returned).
    received: Vec<AtomicU64>,
    /// The chunk record found on open, for a differential fetch to re-check.
    recorded_chunks: Option<ChunkRecord>,
    /// A differential fetch's verified chunks, once it tracks them.
    chunks: std::sync::Mutex<Option<ChunkSet>>,
    /// Signalled as the verified prefix of `chunks` grows, and on [`DataFile::wake`].
    prefix_grew: std::sync::Condvar,
    /// Trackings started so far.
    generations: AtomicU64,
    /// The partial directory, for [`Vanished`].
    dir: PathBuf,
    /// Set once the file was found unlinked ([`DataFile::check_linked`]): every later write
    /// fails with [`Vanished`].
    vanished: std::sync::atomic::AtomicBool,
}

/// The partial download's directory was removed (or its data file deleted) while a fetch
/// was writing it: what it downloaded is gone with the file, and nothing was installed.
#[derive(Debug, thiserror::Error)]
#[error(
    "the partial download {} was removed while this fetch was writing it; nothing was installed",
    dir.display()
)]
pub struct Vanished {
    /// The partial-download directory.
    pub dir: PathBuf,
}

/// The chunks of one index that a differential fetch has written and verified.
#[derive(Debug)]
struct ChunkSet {
    index: String,
    /// Per chunk: its length in bytes.
    lens: Vec<u32>,
    done: Vec<bool>,
    /// Which tracking this is ([`DataFile::track_chunks`] counts them): a waiter on another
    /// one stops.
    generation: u64,
    /// The first chunk not done: every chunk before it is.
    prefix: usize,
    /// The bytes of the chunks before `prefix`.
    prefix_bytes: u64,
    /// `prefix_bytes` when waiters were last woken.
    signalled: u64,
}

/// The verified prefix grows by at least this much (or reaches the end) before
/// [`DataFile::wait_prefix`]'s waiters are woken: 4 MiB, so a hasher following it reads
/// long runs rather than waking for every chunk.
const PREFIX_STEP: u64 = 4 << 20;

impl DataFile {
    /// Opens (creating and preallocating to `plan.size` bytes) the data file of `partial`,
    /// and restores each part's received count from the resume record. A data file of the
    /// wrong size or a missing or unreadable record starts every part from zero.
    ///
    /// Errors with [`NoSpace`] (in the chain) when the filesystem has fewer bytes available
    /// than the file still needs allocated.
    pub fn open(partial: &Partial, plan: &Plan) -> Result<DataFile> {
        let path = partial.data_path().to_path_buf();
        let file = checked_open::open_or_create(&path, 0o644, Rule::Shared)?;
        let stat = |file: &File| {
            file.metadata()
                .with_context(|| format!("cannot stat {}", path.display()))
        };
        let len = stat(&file)?.len();
        let record = partial.read_record(plan).filter(|_| len == plan.size);
        let (recorded, recorded_chunks) = match record {
            Some(r) => (r.received, r.chunks),
            None => (vec![0; plan.parts.len()], None),
        };
        if len != plan.size {
            file.set_len(0)
                .with_context(|| format!("cannot truncate {}", path.display()))?;
        }
        // What the file still needs allocated: all of it when new, the holes of a sparse one
        // (or of one whose unwritten rest was given back, [`DataFile::release_unwritten`]).
        let allocated = crate::platform::allocated(&file)
            .with_context(|| format!("cannot stat {}", path.display()))?;
        let needed = plan.size.saturating_sub(allocated);
        let available = ensure_space(partial.dir(), needed)?;
        if len != plan.size || needed > 0 {
            // Sizes may come from a server's unsigned `Content-Length`: a reservation never
            // takes the filesystem's last [`reserve_margin`] bytes. Beyond that the file is
            // sparse and takes space only as bytes arrive.
            let margin = reserve_margin(partial.dir())?;
            if needed.saturating_add(margin) <= available {
                crate::platform::preallocate(&file, plan.size).with_context(|| {
                    format!("cannot allocate {} bytes for {}", plan.size, path.display())
                })?;
            } else {
                tracing::info!(
                    "{}: not preallocating {} bytes: that would leave less than {} free",
                    path.display(),
                    needed,
                    crate::size::iec(margin)
                );
                file.set_len(plan.size)
                    .with_context(|| format!("cannot size {}", path.display()))?;
            }
        }
        Ok(DataFile {
            file,
            path,
            spans: plan.parts.iter().map(|p| (p.offset, p.size)).collect(),
            received: recorded.into_iter().map(AtomicU64::new).collect(),
            recorded_chunks,
            chunks: std::sync::Mutex::new(None),
            prefix_grew: std::sync::Condvar::new(),
            generations: AtomicU64::new(0),
            dir: partial.dir().to_path_buf(),
            vanished: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Errors with [`Vanished`] (and a remedy) if the data file no longer has a name: `fstat`
    /// of the open file says 0 links, because its directory was removed. Once seen, every
    /// later write fails the same way. Cheap (one `fstat`): the writeback thread calls it
    /// every round, the install before it reads the file's size and around its rename.
    pub fn check_linked(&self) -> Result<()> {
        if !self.vanished.load(Ordering::Acquire) {
            let links = crate::platform::link_count(&self.file)
                .with_context(|| format!("cannot stat {}", self.path.display()))?;
            if links > 0 {
                return Ok(());
            }
            self.vanished.store(true, Ordering::Release);
        }
        Err(self.vanished_error())
    }

    /// Whether the file was found unlinked ([`DataFile::check_linked`]).
    pub fn vanished(&self) -> bool {
        self.vanished.load(Ordering::Acquire)
    }

    /// The [`Vanished`] error, with the next step as its remedy.
    pub fn vanished_error(&self) -> anyhow::Error {
        crate::error::with_remedy(
            Vanished {
                dir: self.dir.clone(),
            },
            crate::error::Remedy::FetchAgain,
        )
    }

    /// Fails with [`Vanished`] once the file was found unlinked: bytes written to it now
    /// could never be installed or resumed.
    fn writable(&self) -> Result<()> {
        if self.vanished() {
            return Err(self.vanished_error());
        }
        Ok(())
    }

    /// The file's size in bytes, from the open file (whatever its name now points to).
    pub fn size(&self) -> Result<u64> {
        Ok(self
            .file
            .metadata()
            .with_context(|| format!("cannot stat {}", self.path.display()))?
            .len())
    }

    /// The chunk record found when the file was opened (a differential fetch that was
    /// stopped), if any. Its chunks are to be checked again before they are trusted.
    pub fn recorded_chunks(&self) -> Option<&ChunkRecord> {
        self.recorded_chunks.as_ref()
    }

    /// Starts (or, with no chunks, stops) tracking the verified chunks of the index whose
    /// id is `index` (the BLAKE3 of its bytes, hex) and whose chunks have lengths `lens`
    /// (bytes); none is done yet.
    /// Returns the tracking's generation, for [`DataFile::wait_prefix`].
    pub fn track_chunks(&self, index: &str, lens: Vec<u32>) -> u64 {
        let generation = self.generations.fetch_add(1, Ordering::AcqRel) + 1;
        let mut set = self.chunks.lock().unwrap_or_else(|e| e.into_inner());
        *set = (!lens.is_empty()).then(|| ChunkSet {
            index: index.to_string(),
            done: vec![false; lens.len()],
            lens,
            generation,
            prefix: 0,
            prefix_bytes: 0,
            signalled: 0,
        });
        drop(set);
        self.prefix_grew.notify_all();
        generation
    }

    /// Notes chunk `id` as written and verified (recorded with the next writeback round).
    /// Its bytes must not change after this: a hasher may read them at once
    /// ([`DataFile::wait_prefix`]).
    pub fn chunk_done(&self, id: usize) {
        let mut guard = self.chunks.lock().unwrap_or_else(|e| e.into_inner());
        let Some(set) = guard.as_mut() else {
            return;
        };
        let Some(d) = set.done.get_mut(id) else {
            return;
        };
        *d = true;
        if id != set.prefix {
            return;
        }
        while set.done.get(set.prefix).copied().unwrap_or(false) {
            set.prefix_bytes += u64::from(set.lens[set.prefix]);
            set.prefix += 1;
        }
        if set.prefix == set.done.len() || set.prefix_bytes - set.signalled >= PREFIX_STEP {
            set.signalled = set.prefix_bytes;
            drop(guard);
            self.prefix_grew.notify_all();
        }
    }

    /// Waits until the chunks verified from the start of tracking `generation` reach past
    /// chunk `from`, and returns the first chunk not verified (the number of chunks, once
    /// all are). Returns `None` instead of waiting when `stop` is set (checked each time
    /// [`DataFile::wake`] is called) or once another tracking replaced this one.
    pub fn wait_prefix(
        &self,
        generation: u64,
        from: usize,
        stop: &std::sync::atomic::AtomicBool,
    ) -> Option<usize> {
        let mut guard = self.chunks.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let set = guard.as_ref().filter(|s| s.generation == generation)?;
            if set.prefix > from {
                return Some(set.prefix);
            }
            if stop.load(Ordering::Acquire) || set.prefix == set.done.len() {
                return None;
            }
            guard = self
                .prefix_grew
                .wait(guard)
                .unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Wakes the waiters of [`DataFile::wait_prefix`], to look at their stop flag.
    pub fn wake(&self) {
        let _guard = self.chunks.lock().unwrap_or_else(|e| e.into_inner());
        self.prefix_grew.notify_all();
    }

    /// Whether chunk `id` is noted as done.
    pub fn is_chunk_done(&self, id: usize) -> bool {
        let set = self.chunks.lock().unwrap_or_else(|e| e.into_inner());
        set.as_ref()
            .and_then(|s| s.done.get(id).copied())
            .unwrap_or(false)
    }

    /// Writes `bytes` at `offset` of the file (a differential fetch's chunk, wherever it
    /// lies), without touching the parts' received counts.
    pub fn write_at(&self, bytes: &[u8], offset: u64) -> Result<()> {
        self.writable()?;
        crate::platform::write_all_at(&self.file, bytes, offset)
            .with_context(|| format!("cannot write {}", self.path.display()))
    }

    /// What is on disk now, for the resume record: the parts' received counts and the
    /// tracked chunks.
    pub fn state(&self) -> Snapshot {
        let chunks = self
            .chunks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|s| ChunkRecord {
                index: s.index.clone(),
                done: runs(&s.done),
                bytes: s
                    .done
                    .iter()
                    .zip(&s.lens)
                    .filter(|(d, _)| **d)
                    .map(|(_, &len)| u64::from(len))
                    .sum(),
            });
        Snapshot {
            received: self.snapshot(),
            chunks,
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes of part `index` written so far.
    pub fn received(&self, index: usize) -> u64 {
        self.received[index].load(Ordering::Acquire)
    }

    /// Every part's received count, in plan order.
    pub fn snapshot(&self) -> Vec<u64> {
        (0..self.received.len()).map(|i| self.received(i)).collect()
    }

    /// Appends `bytes` to part `index` (at its offset plus what it has received). Only
    /// that part's task calls this; the caller has checked that the part does not grow
    /// past its size.
    pub fn append(&self, index: usize, bytes: &[u8]) -> Result<()> {
        self.writable()?;
        let (offset, _) = self.spans[index];
        let at = self.received(index);
        crate::platform::write_all_at(&self.file, bytes, offset + at)
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        self.received[index].store(at + bytes.len() as u64, Ordering::Release);
        Ok(())
    }

    /// Forgets part `index`'s bytes: it is downloaded again from its start.
    pub fn reset(&self, index: usize) {
        self.received[index].store(0, Ordering::Release);
    }

    /// Reads `buf.len()` bytes at `offset` of the file.
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        crate::platform::read_exact_at(&self.file, buf, offset)
            .with_context(|| format!("cannot read {}", self.path.display()))
    }

    /// Part `index`'s offset in the file, in bytes.
    pub fn offset(&self, index: usize) -> u64 {
        self.spans[index].0
    }

    /// `fdatasync`: everything written so far is on disk when this returns.
    pub fn sync_data(&self) -> Result<()> {
        self.file
            .sync_data()
            .with_context(|| format!("cannot fsync {}", self.path.display()))
    }

    /// Gives back the space reserved for bytes that never arrived: punches a hole (the
    /// file keeps its size, so the resume record still fits it) over each part's rest after
    /// what it received, so a kept partial download holds only what was written, whatever
    /// sizes the release claimed. A rerun reserves again ([`DataFile::open`]). Skipped while
    /// a differential fetch tracks chunks (its verified chunks lie past the received
    /// counts) and on filesystems that cannot punch holes.
    pub fn release_unwritten(&self) -> Result<()> {
        let tracking = self
            .chunks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some();
        if tracking || self.vanished() {
            return Ok(());
        }
        for (i, &(offset, size)) in self.spans.iter().enumerate() {
            let got = self.received(i).min(size);
            if got == size {
                continue;
            }
            let punched = crate::platform::punch_hole(&self.file, offset + got, size - got)
                .with_context(|| {
                    format!(
                        "cannot release the unwritten space of {}",
                        self.path.display()
                    )
                })?;
            if !punched {
                return Ok(());
            }
        }
        Ok(())
    }

    /// `fsync`: data and metadata.
    pub fn sync_all(&self) -> Result<()> {
        self.file
            .sync_all()
            .with_context(|| format!("cannot fsync {}", self.path.display()))
    }
}

/// The runs `[first, end)` of `true` in `done`.
fn runs(done: &[bool]) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, d) in done.iter().enumerate() {
        match (d, start) {
            (true, None) => start = Some(i as u32),
            (false, Some(s)) => {
                out.push((s, i as u32));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, done.len() as u32));
    }
    out
}

/// Not enough free space for a download: the filesystem of `dir` has `available` bytes for
/// an unprivileged writer (`statvfs`: `f_bavail * f_frsize`), the download needs `needed`.
/// The message gives both in IEC units.
#[derive(Debug, thiserror::Error)]
#[error(
    "not enough free space in {}: the download needs {} more, {} available",
    dir.display(),
    crate::size::iec(*needed),
    crate::size::iec(*available)
)]
pub struct NoSpace {
    /// The partial-download directory.
    pub dir: PathBuf,
    /// Bytes still to allocate.
    pub needed: u64,
    /// Bytes available.
    pub available: u64,
}

/// Bytes available to an unprivileged writer on the filesystem holding `dir`.
pub fn available_space(dir: &Path) -> Result<u64> {
    crate::platform::space(dir)
        .map(|s| s.available)
        .with_context(|| format!("cannot read the free space of {}", dir.display()))
}

/// Errors with [`NoSpace`] when the filesystem of `dir` has fewer than `needed` bytes
/// available; else returns the bytes available (0 when nothing is needed: not asked).
fn ensure_space(dir: &Path, needed: u64) -> Result<u64> {
    if needed == 0 {
        return Ok(0);
    }
    let available = available_space(dir)?;
    if available < needed {
        let remedy = crate::error::Remedy::FreeSpace {
            dir: dir.to_path_buf(),
            bytes: needed - available,
        };
        let err = NoSpace {
            dir: dir.to_path_buf(),
            needed,
            available,
        };
        return Err(crate::error::with_remedy(err, remedy));
    }
    Ok(available)
}

/// The share of a filesystem a download's preallocation leaves free, in percent.
pub const RESERVE_MARGIN_PERCENT: u64 = 5;
/// The most [`reserve_margin`] asks to leave free, in bytes (1 GiB).
pub const RESERVE_MARGIN_MAX: u64 = 1 << 30;

/// The free space a download's data file is never preallocated into, in bytes:
/// [`RESERVE_MARGIN_PERCENT`] of the size of the filesystem holding `dir`, at most
/// [`RESERVE_MARGIN_MAX`]. A download whose reservation would cut into it is written sparse
/// instead (space is taken only as bytes arrive), so sizes a server states without anything
/// signing them (a text manifest's parts are sized by `HEAD`) cannot reserve the whole disk.
pub fn reserve_margin(dir: &Path) -> Result<u64> {
    let total = crate::platform::space(dir)
        .with_context(|| format!("cannot read the size of {}", dir.display()))?
        .total;
    Ok((total / 100 * RESERVE_MARGIN_PERCENT).min(RESERVE_MARGIN_MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum::Sha256;
    use crate::fetch::layout::{Layout, Part};

    fn plan() -> Plan {
        let part = |i: u64| Part {
            name: format!("a.part0{i}"),
            offset: i * 10,
            size: if i == 0 { 10 } else { 5 },
            sha256: None,
        };
        Plan {
            layout: Layout::ManifestText,
            asset: "a".into(),
            size: 15,
            sha256: Sha256([0; 32]),
            parts: vec![part(0), part(1)],
            version: None,
            requires: None,
            index: None,
        }
    }

    #[test]
    fn resume_record_is_used_only_when_it_fits_the_plan_and_the_data_file() {
        let plan = plan();
        // (record content, data file length before open, received counts expected)
        let cases: [(Option<&str>, u64, [u64; 2]); 6] = [
            (None, 15, [0, 0]),
            (Some(r#"{"received":[4,5]}"#), 15, [4, 5]),
            (Some(r#"{"received":[4,5]}"#), 7, [0, 0]), // data file of the wrong size
            (Some(r#"{"received":[11,0]}"#), 15, [0, 0]), // more than the part's size
            (Some(r#"{"received":[4]}"#), 15, [0, 0]),  // wrong number of parts
            (Some("not json"), 15, [0, 0]),
        ];
        for (record, len, want) in cases {
            let dir = tempfile::tempdir().unwrap();
            let backends = BackendsDir::new(dir.path());
            let partial = Partial::open(&backends, &plan).unwrap();
            std::fs::File::create(partial.data_path())
                .and_then(|f| f.set_len(len))
                .unwrap();
            if let Some(r) = record {
                std::fs::write(partial.dir().join("progress.json"), r).unwrap();
            }
            let data = DataFile::open(&partial, &plan).unwrap();
            assert_eq!(data.snapshot(), want, "{record:?} with a {len}-byte file");
            let len_now = std::fs::metadata(partial.data_path()).unwrap().len();
            assert_eq!(len_now, plan.size, "data file sized to the asset");
        }
    }

    #[test]
    fn a_plan_written_before_the_piece_to_part_rename_still_matches() {
        // voxctl 0.1 wrote `plan.json` with `"pieces"`; such a partial download must resume,
        // not be wiped as another release's.
        let plan = plan();
        let dir = tempfile::tempdir().unwrap();
        let backends = BackendsDir::new(dir.path());
        let partial = Partial::open(&backends, &plan).unwrap();
        let plan_json = partial.dir().join("plan.json");
        let old = std::fs::read_to_string(&plan_json).unwrap();
        assert!(old.contains("\"parts\""), "{old}");
        std::fs::write(&plan_json, old.replace("\"parts\"", "\"pieces\"")).unwrap();
        std::fs::write(partial.data_path(), b"0123456789").unwrap();
        Partial::open(&backends, &plan).unwrap();
        assert!(
            partial.data_path().exists(),
            "the old partial data was kept"
        );
    }

    #[test]
    fn parts_land_at_their_offsets_and_the_record_round_trips() {
        let plan = plan();
        let dir = tempfile::tempdir().unwrap();
        let partial = Partial::open(&BackendsDir::new(dir.path()), &plan).unwrap();
        let data = DataFile::open(&partial, &plan).unwrap();
        data.append(1, b"fg").unwrap();
        data.append(0, b"abcde").unwrap();
        data.append(1, b"hij").unwrap();
        data.append(0, b"ABCDE").unwrap();
        let mut buf = [0u8; 15];
        data.read_at(&mut buf, 0).unwrap();
        assert_eq!(&buf, b"abcdeABCDEfghij");
        partial.write_record(&data.state()).unwrap();
        data.reset(1);
        assert_eq!(data.snapshot(), [10, 0]);
        let again = DataFile::open(&partial, &plan).unwrap();
        assert_eq!(again.snapshot(), [10, 5]);
    }

    #[test]
    fn another_plan_wipes_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let backends = BackendsDir::new(dir.path());
        let plan = plan();
        let partial = Partial::open(&backends, &plan).unwrap();
        partial
            .write_record(&Snapshot {
                received: vec![10, 5],
                chunks: None,
            })
            .unwrap();
        let mut other = plan.clone();
        other.sha256 = Sha256([1; 32]);
        let partial = Partial::open(&backends, &other).unwrap();
        assert!(!partial.dir().join("progress.json").exists());
    }
}
