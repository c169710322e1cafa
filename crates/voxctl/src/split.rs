//! Splitting an asset into parts under GitHub's 2 GiB limit (docs/contract.md "Release
//! layouts", layouts 1 and 2): the parts, the chunk index `S.chunks` ([`crate::chunks`]),
//! `S.sha256`, `S.manifest` and `S.manifest.json`.
//!
//! One pass over the input through `crate::digest::pump`: the whole-file hasher, the
//! per-part hasher and the chunk indexer (FastCDC and BLAKE3) run side by side on the same
//! buffers while the part writer has the kernel copy the same ranges (`copy_file_range`), so
//! memory is bounded and each byte is read into user space once. The index's entries go to
//! its temporary file as the chunks are cut, its header last. Crash safety: every output is
//! written under a hidden temporary name in the out dir; only when every part is complete
//! are the parts renamed, then the index, then the manifests (`S.sha256`, `S.manifest`,
//! `S.manifest.json`, in that order). On an error or SIGINT the temporary files are removed
//! (they delete themselves on drop); a process killed at any moment leaves no manifest
//! naming a missing or partial part. With `--force`, old manifests and the old index are
//! removed before any part is replaced, so no index ever describes another build than the
//! parts beside it; without an index (`--no-index`) an existing `S.chunks` counts as an
//! existing output (refused without `--force`, removed with it). With [`Settings::fsync`] every file and the
//! directory are also fsynced before each rename, which extends that promise to power loss;
//! the parts' writeback is then started as they are written (every 8 MiB, `WRITEBACK_STEP`), so
//! the disk writes while the hashers work instead of all at the final fsync.
//! The input's size and mtime are compared before and after, so an input modified during
//! the split is refused rather than published.
//!
//! Temporary files are named `.NAME.PID-START.RANDOM.voxctl-tmp`: NAME the output, PID and
//! START the writer's process id and start time ([`crate::process::start_time`]). A process
//! killed with SIGKILL cannot remove its own, so every split first removes the temporary
//! files of its asset's outputs whose writer is no longer running (a live split's are kept,
//! whatever its asset or directory; ownership is judged on this host).
//!
//! Crash-test checkpoints (with the `testhook` feature only, see `crate::testhook`), in order:
//! `split:temp-parts-written` (every part complete under its temporary name, nothing
//! published), with `--force` `split:old-manifests-removed` just before it, then
//! `split:published:NAME` after each output is renamed into place (the parts, then
//! `S.chunks`, `S.sha256`, `S.manifest`, `S.manifest.json`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use tempfile::TempPath;

use crate::atomic::{fsync_dir, PUBLISHED_MODE};
use crate::cancel::Cancel;
use crate::checksum::{format_line, Sha256};
use crate::chunks::{self, Chunk, IndexRef, Indexer, Params};
use crate::digest::{hash_segments, Block, Consumer, Segment};
use crate::error::{with_remedy, Remedy};
use crate::manifest::{self, Manifest, Part, GITHUB_ASSET_LIMIT};
use crate::name::validate_file_name;
use crate::testhook::checkpoint;
use crate::Error;

/// The most parts a split may have: GNU `split -d -a 2` stops at `99`, and part names must
/// sort in order for the text manifest to be a plain listing.
pub const MAX_PARTS: u64 = 100;

/// With `fsync`, how many bytes of a part are written before their writeback is started
/// (8 MiB): the final fsync then only waits for the tail. Measured on the 2 GiB benchmark
/// (cold cache, see BENCHMARKS.md): `split --fsync` went from about 6.6 s to 5.5 s.
const WRITEBACK_STEP: u64 = 8 << 20;

/// Validated settings of one split. Built with [`Settings::new`] (the command's defaults),
/// then changed field by field: a later version may add fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Settings {
    /// The file to split.
    pub input: PathBuf,
    /// Where the outputs go (created if missing).
    pub out_dir: PathBuf,
    /// The asset name `A` (a plain file name); names the parts and manifests.
    pub asset: String,
    /// Part size in bytes, from 1 to under [`GITHUB_ASSET_LIMIT`] (see [`parse_part_size`]); the manifest's
    /// `chunk_size`.
    pub chunk_size: u64,
    /// Recorded in the JSON manifest.
    pub app_version: Option<String>,
    /// Recorded in the JSON manifest (`cpu`, `cuda`, `rocm`).
    pub variant: Option<String>,
    /// The build's hardware requirements, recorded in the JSON manifest when not empty.
    pub requires: Option<crate::gpu::Requirements>,
    /// The chunk sizes of the chunk index `S.chunks` written beside the parts (and named in
    /// the JSON manifest), usually [`Params::DEFAULT`]; `None` writes no index
    /// (`--no-index`).
    pub index: Option<Params>,
    /// Replace existing outputs.
    pub force: bool,
    /// fsync every output and the directory before and after renaming, so that a power loss
    /// cannot leave a manifest naming a part whose data never reached the disk. Off by
    /// default, as for `split` and `cp`: a killed process is safe either way.
    pub fsync: bool,
    /// Ends the split between blocks with [`Error::Interrupted`] (temporary files removed).
    pub cancel: Cancel,
}

impl Settings {
    /// The settings of a split of `input` into `out_dir` as asset `asset`, with the command's
    /// defaults for the rest: parts of [`crate::manifest::DEFAULT_CHUNK_SIZE`] bytes, no
    /// version, variant or requirements recorded, a chunk index of [`Params::DEFAULT`], no
    /// replacing of existing outputs, no fsync, and a fresh [`Cancel`].
    pub fn new(input: &Path, out_dir: &Path, asset: &str) -> Settings {
        Settings {
            input: input.to_path_buf(),
            out_dir: out_dir.to_path_buf(),
            asset: asset.to_string(),
            chunk_size: crate::manifest::DEFAULT_CHUNK_SIZE,
            app_version: None,
            variant: None,
            requires: None,
            index: Some(Params::DEFAULT),
            force: false,
            fsync: false,
            cancel: Cancel::new(),
        }
    }
}

/// What a split reports while it runs: the split domain's one event type, serialized with an
/// `"event"` tag in snake case.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// The input was opened and checked; `size` bytes will be read.
    Started {
        /// The input's size, in bytes.
        size: u64,
        /// How many parts it makes.
        parts: u64,
    },
    /// These many more bytes were read (and handed to the hashers and the part writer).
    Read {
        /// Bytes, since the previous `Read`.
        bytes: u64,
    },
}

/// Parses a `--part-size` exactly as GNU `split -b` reads its size (see [`crate::size`]:
/// `K`/`M`/`G` and `KiB`/`MiB`/`GiB` are powers of 1024, `KB`/`MB`/`GB` powers of 1000, `b`
/// is 512, digits alone are bytes), so that `split -b N` cuts the same parts. Errors with
/// [`Error::Usage`] (and [`Remedy::PartSize`]) for text outside that grammar (a decimal such as `1.9GB`
/// gets the whole spelling, `1900MB`), 0, or 2 GiB and above.
pub fn parse_part_size(text: &str) -> Result<u64> {
    let remedy = |text: &str| Remedy::PartSize {
        whole: crate::size::decimal_hint(text),
    };
    let n = crate::size::parse(text).map_err(|e| with_remedy(e, remedy(text)))?;
    if n == 0 || n >= GITHUB_ASSET_LIMIT {
        return Err(with_remedy(
            Error::Usage(format!(
                "part size {text:?} is {n} bytes: parts must be 1 byte to under 2 GiB \
                 ({GITHUB_ASSET_LIMIT} bytes), GitHub's per-asset limit"
            )),
            remedy(text),
        ));
    }
    Ok(n)
}

/// How many parts a `size`-byte input makes in parts of `chunk_size` bytes (not 0).
fn part_count(size: u64, chunk_size: u64) -> u64 {
    size.div_ceil(chunk_size)
}

/// Splits `settings.input` and returns the manifest written; `on_event` hears
/// [`Event::Started`] once the input is checked, then [`Event::Read`] as it is read.
///
/// A split takes no slot or lock: slots serialize fetch and restart, which share
/// the state dir; a split writes only release outputs, each published by a rename of a
/// complete file (parts before manifests) under a temporary name carrying the writer's pid
/// and start time, so two splits into one directory cannot corrupt an output: the later
/// rename wins whole. Release CI runs one split per asset.
///
/// Errors: a missing, empty or non-regular input, an unsafe asset name, or more than
/// [`MAX_PARTS`] parts, before anything is written ([`Error::Usage`] for names and sizes);
/// an existing output without `force` (naming it, with [`Remedy::ReplaceOutputs`]); I/O errors naming the path;
/// [`Error::Interrupted`] once `settings.cancel` is cancelled (temporary files removed).
///
/// ```no_run
/// use voxctl::split::{self, Event, Settings};
///
/// let mut settings = Settings::new(
///     "dist/voicebox-server-cuda".as_ref(),
///     "release".as_ref(),
///     "voicebox-server-cuda",
/// );
/// settings.chunk_size = split::parse_part_size("1900MB")?;
/// settings.app_version = Some("0.9.0".into());
/// settings.variant = Some("cuda".into());
/// settings.fsync = true;
/// let manifest = split::split(&settings, &|event| {
///     if let Event::Started { size, parts } = event {
///         eprintln!("{size} bytes into {parts} parts");
///     }
/// })?;
/// println!("{} parts, sha256 {}", manifest.parts.len(), manifest.sha256);
/// # anyhow::Ok(())
/// ```
pub fn split(settings: &Settings, on_event: &(dyn Fn(&Event) + Sync)) -> Result<Manifest> {
    let Settings {
        input,
        out_dir,
        asset,
        chunk_size,
        ..
    } = settings;
    validate_file_name("asset", asset).map_err(|e| Error::Usage(e.to_string()))?;
    if *chunk_size == 0 || *chunk_size >= GITHUB_ASSET_LIMIT {
        return Err(Error::Usage(format!(
            "part size {chunk_size} is not from 1 byte to under 2 GiB"
        ))
        .into());
    }
    // Looked at before the open too: Windows refuses to open a directory as a file ("access
    // denied"), which would hide what is wrong.
    let before =
        std::fs::metadata(input).with_context(|| format!("cannot open {}", input.display()))?;
    if !before.is_file() {
        anyhow::bail!("{} is not a regular file", input.display());
    }
    let file = File::open(input).with_context(|| format!("cannot open {}", input.display()))?;
    let meta = file
        .metadata()
        .with_context(|| format!("cannot stat {}", input.display()))?;
    if !meta.is_file() {
        anyhow::bail!("{} is not a regular file", input.display());
    }
    let size = meta.len();
    if size == 0 {
        anyhow::bail!("{} is empty: there is nothing to split", input.display());
    }
    let count = part_count(size, *chunk_size);
    if count > MAX_PARTS {
        return Err(with_remedy(
            Error::Usage(format!(
                "{} bytes in parts of {chunk_size} bytes would make {count} parts; at most \
                 {MAX_PARTS} are supported",
                size
            )),
            Remedy::LargerParts,
        ));
    }
    let names: Vec<String> = (0..count as usize)
        .map(|i| manifest::part_name(asset, i))
        .collect();
    tracing::info!(
        "split {}: {size} bytes into {count} part(s) of at most {chunk_size} bytes, in {}",
        input.display(),
        out_dir.display()
    );
    let manifests = [
        manifest::sha256_name(asset),
        manifest::text_manifest_name(asset),
        manifest::json_manifest_name(asset),
    ];
    let index_name = chunks::index_name(asset);

    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let stale = stale_parts(out_dir, asset, count)?;
    // The index is checked with or without --no-index: an old one would describe another build.
    check_outputs(
        settings,
        input,
        names
            .iter()
            .chain([&index_name])
            .chain(&manifests)
            .chain(&stale),
    )?;
    remove_dead_temps(out_dir, asset)?;
    if settings.force {
        // Old manifests go first, so no manifest ever names a part being replaced; the old
        // index with them, so none ever sits beside parts of another build.
        for name in manifests.iter().chain([&index_name]) {
            remove_if_present(&out_dir.join(name))?;
        }
        sync_dir(out_dir, settings.fsync)?;
        checkpoint("split:old-manifests-removed");
    }

    let segments = (0..count)
        .map(|i| {
            let start = i * chunk_size;
            Ok(Segment {
                file: file.try_clone()?,
                path: input.clone(),
                start,
                len: (*chunk_size).min(size - start),
            })
        })
        .collect::<std::io::Result<Vec<_>>>()
        .with_context(|| format!("cannot open {}", input.display()))?;
    let mut writer = PartWriter {
        input: &file,
        starts: segments.iter().map(|s| s.start).collect(),
        dir: out_dir,
        names: &names,
        sync: settings.fsync,
        current: None,
        done: Vec::new(),
        kernel_copy: true,
        written_back: 0,
    };
    let mut index_file = settings
        .index
        .map(|_| IndexFile::create(out_dir, &index_name))
        .transpose()?;
    let mut sink = |chunk: Chunk| match &mut index_file {
        Some(file) => file.entry(&chunk),
        None => Ok(()),
    };
    let mut indexer = settings.index.map(|params| Indexer::new(params, &mut sink));
    on_event(&Event::Started { size, parts: count });
    let progress = |bytes| on_event(&Event::Read { bytes });
    let mut extra: Vec<&mut dyn Consumer> = vec![&mut writer];
    if let Some(indexer) = &mut indexer {
        extra.push(indexer);
    }
    let ((sha256, total), digests) =
        hash_segments(&segments, &mut extra, &progress, &settings.cancel)?;
    drop(extra);
    let indexed = indexer.map(Indexer::finish).transpose()?;
    refuse_changed(input, &meta, file.metadata(), "split")?;

    let parts: Vec<Part> = names
        .iter()
        .zip(digests)
        .zip(&segments)
        .map(|((name, (sha256, size)), seg)| Part {
            name: name.clone(),
            offset: seg.start,
            size,
            sha256,
        })
        .collect();
    let index = match (index_file, indexed, settings.index) {
        (Some(file), Some(indexed), Some(params)) => {
            if indexed.bytes != total {
                return Err(Error::Integrity(format!(
                    "{} changed while it was being split",
                    input.display()
                ))
                .into());
            }
            let (tmp, size, sha) = file.finish(params, total, &sha256, indexed.chunks, settings)?;
            Some((
                tmp,
                IndexRef {
                    name: index_name.clone(),
                    size,
                    sha256: sha,
                },
            ))
        }
        _ => None,
    };
    let manifest = Manifest {
        format: manifest::FORMAT.into(),
        version: manifest::VERSION,
        asset: asset.clone(),
        size: total,
        sha256,
        chunk_size: *chunk_size,
        app_version: settings.app_version.clone(),
        variant: settings.variant.clone(),
        requires: settings.requires.clone().filter(|r| !r.is_empty()),
        index: index.as_ref().map(|(_, r)| r.clone()),
        parts,
    };
    manifest.validate()?;
    checkpoint("split:temp-parts-written");

    // Every part is complete (and fsynced with `fsync`): name them, then the manifests.
    for ((tmp, name), part) in writer.done.into_iter().zip(&names).zip(&manifest.parts) {
        publish(tmp, out_dir, name, settings.force)?;
        tracing::info!(
            "part {name}: bytes {}..{} ({} bytes), sha256 {}",
            part.offset,
            part.offset + part.size,
            part.size,
            part.sha256
        );
    }
    sync_dir(out_dir, settings.fsync)?;
    if let Some((tmp, r)) = index {
        publish(tmp, out_dir, &r.name, settings.force)?;
        tracing::info!(
            "wrote {} ({} bytes, sha256 {})",
            out_dir.join(&r.name).display(),
            r.size,
            r.sha256
        );
    }
    let mut json = serde_json::to_vec_pretty(&manifest).context("cannot serialize manifest")?;
    json.push(b'\n');
    let contents = [
        format_line(&sha256, asset).into_bytes(),
        manifest::format_text_manifest(names.iter().map(String::as_str)).into_bytes(),
        json,
    ];
    for (name, bytes) in manifests.iter().zip(contents) {
        let tmp = write_temp(out_dir, name, &bytes, settings.fsync)?;
        publish(tmp, out_dir, name, settings.force)?;
        tracing::info!("wrote {}", out_dir.join(name).display());
    }
    sync_dir(out_dir, settings.fsync)?;
    for name in &stale {
        remove_if_present(&out_dir.join(name))?;
    }
    Ok(manifest)
}

/// Settings of [`write_index`]: the chunk index of an existing asset (`voxctl index`).
#[derive(Debug, Clone)]
pub struct IndexSettings {
    /// The asset file to index.
    pub input: PathBuf,
    /// Where `S.chunks` goes (created if missing).
    pub out_dir: PathBuf,
    /// The asset name `A` (a plain file name) that names the index, `S.chunks`.
    pub asset: String,
    /// The chunk sizes ([`Params::DEFAULT`] unless the release wants others).
    pub params: Params,
    /// Replace an existing index.
    pub force: bool,
    /// Ends the indexing between blocks with [`Error::Interrupted`] (nothing written).
    pub cancel: Cancel,
}

/// What [`write_index`] wrote.
#[derive(Debug, Clone)]
pub struct IndexOutcome {
    /// The index file written (`out_dir/S.chunks`).
    pub path: PathBuf,
    /// The index, as written.
    pub index: chunks::Index,
    /// Its name, size and SHA-256, as a JSON manifest names it.
    pub reference: IndexRef,
}

/// Writes the chunk index of an existing asset, `out_dir/S.chunks`, for a release made by
/// other tools: one read pass (FastCDC and BLAKE3 beside the SHA-256), then the file under a
/// temporary name (fsynced), renamed into place. The bytes are exactly those `split` writes
/// for the same input and sizes. `on_event` hears an [`Event::Read`] for each block read (as
/// `split` reports its read pass).
///
/// Errors: an unsafe asset name ([`Error::Usage`]); a missing or non-regular input; an
/// existing `S.chunks` without `force` (naming it, with a remedy; exit 1 as for `split`); an
/// output that is the input itself ([`Error::Usage`]); an input that changes while it is
/// read ([`Error::Integrity`]); [`Error::Interrupted`] once `settings.cancel` is cancelled.
pub fn write_index(
    settings: &IndexSettings,
    on_event: &(dyn Fn(&Event) + Sync),
) -> Result<IndexOutcome> {
    let IndexSettings {
        input,
        out_dir,
        asset,
        params,
        force,
        cancel,
    } = settings;
    validate_file_name("asset", asset).map_err(|e| Error::Usage(e.to_string()))?;
    let meta =
        std::fs::metadata(input).with_context(|| format!("cannot open {}", input.display()))?;
    if !meta.is_file() {
        anyhow::bail!("{} is not a regular file", input.display());
    }
    let name = chunks::index_name(asset);
    let path = out_dir.join(&name);
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    refuse_existing(&path, input, *force)?;
    remove_dead_temps(out_dir, asset)?;
    let progress = |bytes: u64| on_event(&Event::Read { bytes });
    let index = chunks::Index::of_file_with_progress(input, *params, &progress, cancel)?;
    refuse_changed(input, &meta, std::fs::metadata(input), "indexed")?;
    let bytes = index.to_bytes();
    let tmp = write_temp(out_dir, &name, &bytes, true)?;
    publish(tmp, out_dir, &name, *force)?;
    fsync_dir(out_dir)?;
    let reference = IndexRef {
        name,
        size: bytes.len() as u64,
        sha256: Sha256::of(&bytes),
    };
    Ok(IndexOutcome {
        path,
        index,
        reference,
    })
}

/// Refuses (with [`Error::Integrity`]) an input whose size or mtime (`after`, from its open
/// file or its path) is no longer `before`'s: it changed while it was being `done` ("split",
/// "indexed"), so what was read is not one file.
fn refuse_changed(
    input: &Path,
    before: &std::fs::Metadata,
    after: std::io::Result<std::fs::Metadata>,
    done: &str,
) -> Result<()> {
    let after = after.with_context(|| format!("cannot stat {}", input.display()))?;
    if after.len() != before.len() || after.modified().ok() != before.modified().ok() {
        return Err(Error::Integrity(format!(
            "{} changed while it was being {done}",
            input.display()
        ))
        .into());
    }
    Ok(())
}

/// Refuses to go on if an output exists (unless `force`) or is the input itself.
fn check_outputs<'a>(
    settings: &Settings,
    input: &Path,
    names: impl Iterator<Item = &'a String>,
) -> Result<()> {
    for name in names {
        refuse_existing(&settings.out_dir.join(name), input, settings.force)?;
    }
    Ok(())
}

/// Whether `a` and `b` name one file (not following a link at `a`); false when either
/// cannot be opened. The opens never block on a FIFO.
fn same_file(a: &Path, b: &Path) -> bool {
    let id = |p: &Path| {
        crate::platform::open_nonblocking(p).and_then(|f| crate::platform::file_identity(&f))
    };
    let a_is_link = std::fs::symlink_metadata(a).is_ok_and(|m| m.file_type().is_symlink());
    !a_is_link && matches!((id(a), id(b)), (Ok(x), Ok(y)) if x == y)
}

/// Refuses an output `path` that exists (unless `force`), is the `input` file itself or is
/// a directory.
fn refuse_existing(path: &Path, input: &Path, force: bool) -> Result<()> {
    let Ok(existing) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if same_file(path, input) {
        return Err(Error::Usage(format!(
            "output {} is the input file itself",
            path.display()
        ))
        .into());
    }
    if !force {
        return Err(with_remedy(
            anyhow::anyhow!("{} already exists; nothing was written", path.display()),
            Remedy::ReplaceOutputs,
        ));
    }
    if existing.is_dir() {
        anyhow::bail!("{} is a directory; not replacing it", path.display());
    }
    Ok(())
}

/// The index of `name` if it is the name of a part of `asset` (any index).
fn part_index(asset: &str, name: &str) -> Option<u64> {
    let prefix = format!("{}.part", manifest::stem(asset));
    let index = name
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix(manifest::part_suffix(asset)))
        .filter(|d| d.len() >= 2 && d.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|d| d.parse::<u64>().ok())?;
    (usize::try_from(index).is_ok_and(|i| manifest::part_name(asset, i) == name)).then_some(index)
}

/// The names in `dir` (those that are UTF-8; no output name is anything else).
fn dir_names(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        if let Ok(name) = entry.file_name().into_string() {
            names.push(name);
        }
    }
    Ok(names)
}

/// Existing parts of `asset` in `dir` numbered `count` and above (left by an earlier split
/// into more parts): they would make the release ambiguous.
fn stale_parts(dir: &Path, asset: &str, count: u64) -> Result<Vec<String>> {
    let mut stale: Vec<String> = dir_names(dir)?
        .into_iter()
        .filter(|name| part_index(asset, name).is_some_and(|i| i >= count))
        .collect();
    stale.sort();
    Ok(stale)
}

/// The suffix of every temporary output file.
const TEMP_SUFFIX: &str = ".voxctl-tmp";

/// This process's owner tag in temporary names: `PID-START` (see the module docs).
fn owner_tag() -> String {
    let pid = std::process::id() as i32;
    // 0 when the start time cannot be read: such files are judged by the pid alone.
    let start = crate::process::start_time(pid).unwrap_or(0);
    format!("{pid}-{start}")
}

/// Parses a temporary file name `.NAME.PID-START.RANDOM.voxctl-tmp` into NAME, PID, START.
fn parse_temp_name(file: &str) -> Option<(&str, i32, u64)> {
    let inner = file.strip_prefix('.')?.strip_suffix(TEMP_SUFFIX)?;
    let mut fields = inner.rsplitn(3, '.');
    let random = fields.next()?;
    let (pid, start) = fields.next()?.split_once('-')?;
    let name = fields.next()?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if random.is_empty() || !random.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    if !digits(pid) || !digits(start) || name.is_empty() {
        return None;
    }
    Some((name, pid.parse().ok()?, start.parse().ok()?))
}

/// Whether the writer `pid` that started at `start` may still be running (a zombie is not:
/// it will never write again). A start time of 0 (unknown to the writer) is judged by the
/// pid alone.
fn writer_alive(pid: i32, start: u64) -> bool {
    match crate::process::start_time(pid) {
        Some(now) => (start == 0 || now == start) && !crate::process::is_zombie(pid),
        // Unix: a process whose start time cannot be read may still exist (another
        // user's, on a system without /proc). Windows: a live process always has one.
        #[cfg(unix)]
        None => {
            pid > 0
                && start == 0
                && nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None)
                    != Err(nix::errno::Errno::ESRCH)
        }
        #[cfg(not(unix))]
        None => false,
    }
}

/// Removes the temporary files in `dir` of `asset`'s outputs (its parts of any number, its
/// chunk index and its three manifests) whose writer is no longer running: what a SIGKILLed split leaves.
/// Temporary files of a live split, of other assets or of another naming are left alone.
fn remove_dead_temps(dir: &Path, asset: &str) -> Result<()> {
    let manifests = [
        manifest::sha256_name(asset),
        manifest::text_manifest_name(asset),
        manifest::json_manifest_name(asset),
        chunks::index_name(asset),
    ];
    for file in dir_names(dir)? {
        let Some((name, pid, start)) = parse_temp_name(&file) else {
            continue;
        };
        let ours = manifests.iter().any(|m| m == name) || part_index(asset, name).is_some();
        if ours && !writer_alive(pid, start) {
            remove_if_present(&dir.join(&file))?;
        }
    }
    Ok(())
}

fn sync_dir(dir: &Path, sync: bool) -> Result<()> {
    if sync {
        fsync_dir(dir)
    } else {
        Ok(())
    }
}

fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot remove {}", path.display())),
    }
}

/// A new hidden temporary file for output `name` in `dir`, deleted on drop, named with this
/// process's owner tag (see the module docs). Every output is published, so it is created
/// with [`PUBLISHED_MODE`] (0666 minus the umask, as GNU split creates its files).
fn temp_file(dir: &Path, name: &str) -> Result<tempfile::NamedTempFile> {
    let prefix = format!(".{name}.{}.", owner_tag());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(TEMP_SUFFIX);
    crate::platform::temp_mode(&mut builder, PUBLISHED_MODE);
    builder
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))
}

fn write_temp(dir: &Path, name: &str, bytes: &[u8], sync: bool) -> Result<TempPath> {
    let mut tmp = temp_file(dir, name)?;
    tmp.write_all(bytes)
        .and_then(|()| {
            if sync {
                tmp.as_file().sync_all()
            } else {
                Ok(())
            }
        })
        .with_context(|| format!("cannot write {}", tmp.path().display()))?;
    Ok(tmp.into_temp_path())
}

/// Renames a complete temporary file to `dir/name`; without `force` never over an existing
/// file (one that appeared since the check is reported, not replaced).
fn publish(tmp: TempPath, dir: &Path, name: &str, force: bool) -> Result<()> {
    let target = dir.join(name);
    let outcome = if force {
        tmp.persist(&target)
    } else {
        tmp.persist_noclobber(&target)
    };
    outcome
        .map_err(|e| e.error)
        .with_context(|| format!("cannot rename into {}", target.display()))?;
    checkpoint(&format!("split:published:{name}"));
    Ok(())
}

/// The chunk index being written under a temporary name: a placeholder header, the entries
/// as the chunks are cut (so memory does not grow with the input), then the header once the
/// chunk count and the asset's SHA-256 are known.
struct IndexFile {
    path: TempPath,
    out: BufWriter<File>,
}

impl IndexFile {
    fn create(dir: &Path, name: &str) -> Result<IndexFile> {
        let (file, path) = temp_file(dir, name)?.into_parts();
        let mut out = BufWriter::with_capacity(64 << 10, file);
        out.write_all(&[0; chunks::HEADER_LEN])
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(IndexFile { path, out })
    }

    fn entry(&mut self, chunk: &Chunk) -> Result<()> {
        self.out
            .write_all(&chunks::entry(chunk.len, &chunk.hash))
            .with_context(|| format!("cannot write {}", self.path.display()))
    }

    /// Writes the header; returns the complete file (fsynced with `fsync`), its size and
    /// its SHA-256.
    fn finish(
        self,
        params: Params,
        size: u64,
        sha256: &Sha256,
        count: u64,
        settings: &Settings,
    ) -> Result<(TempPath, u64, Sha256)> {
        let IndexFile { path, out } = self;
        let failed = |e: std::io::Error| {
            anyhow::Error::new(e).context(format!("cannot write {}", path.display()))
        };
        let file = out.into_inner().map_err(|e| failed(e.into_error()))?;
        crate::platform::write_all_at(&file, &chunks::header(params, size, sha256, count), 0)
            .map_err(failed)?;
        if settings.fsync {
            file.sync_all().map_err(failed)?;
        }
        drop(file);
        let (sha, len) = crate::digest::hash_file(&path, &|_| {}, &settings.cancel)?;
        let expected = chunks::HEADER_LEN as u64 + count * chunks::ENTRY_LEN as u64;
        if len != expected {
            anyhow::bail!(
                "{} is {len} bytes, not the {expected} written",
                path.display()
            );
        }
        Ok((path, len, sha))
    }
}

/// The consumer that writes each segment to its own temporary part file. On Linux the data
/// is copied by the kernel from the input (`copy_file_range`, as `cp` does), which saves a
/// copy through user space while the hashers read the same bytes from the ring; elsewhere, or
/// if the kernel declines, the block's bytes are written.
struct PartWriter<'a> {
    input: &'a File,
    starts: Vec<u64>,
    dir: &'a Path,
    names: &'a [String],
    sync: bool,
    current: Option<tempfile::NamedTempFile>,
    done: Vec<TempPath>,
    kernel_copy: bool,
    /// With `sync`: the offset in the current part up to which writeback has been started.
    written_back: u64,
}

impl Consumer for PartWriter<'_> {
    fn block(&mut self, block: &Block) -> Result<()> {
        let name = &self.names[block.segment];
        let tmp = match &mut self.current {
            Some(tmp) => tmp,
            None => self.current.insert(temp_file(self.dir, name)?),
        };
        let from = self.starts[block.segment] + block.offset;
        let copied = if self.kernel_copy {
            kernel_copy(
                self.input,
                from,
                tmp.as_file(),
                block.offset,
                block.data().len(),
            )
        } else {
            0
        };
        if copied < block.data().len() {
            // Nothing or part copied (the kernel declined or the input changed): write the
            // bytes the hashers see, so the part and its hash always agree.
            self.kernel_copy = false;
            let at = block.offset + copied as u64;
            crate::platform::write_all_at(tmp.as_file(), &block.data()[copied..], at)
                .with_context(|| format!("cannot write {}", tmp.path().display()))?;
        }
        let end = block.offset + block.data().len() as u64;
        if self.sync && (end - self.written_back >= WRITEBACK_STEP || block.last) {
            start_writeback(tmp.as_file(), self.written_back, end - self.written_back);
            self.written_back = if block.last { 0 } else { end };
        }
        if block.last {
            if let Some(tmp) = self.current.take() {
                if self.sync {
                    tmp.as_file()
                        .sync_all()
                        .with_context(|| format!("cannot write {}", tmp.path().display()))?;
                }
                self.done.push(tmp.into_temp_path());
            }
        }
        Ok(())
    }
}

/// Copies `len` bytes from `input` at `from` to `out` at `to` in the kernel; returns how many
/// were copied (0 if the kernel cannot do it for these files).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn kernel_copy(input: &File, from: u64, out: &File, to: u64, len: usize) -> usize {
    let (mut off_in, mut off_out, mut copied) = (from, to, 0);
    while copied < len {
        match rustix::fs::copy_file_range(
            input,
            Some(&mut off_in),
            out,
            Some(&mut off_out),
            len - copied,
        ) {
            Ok(0) | Err(_) => break,
            Ok(n) => copied += n,
        }
    }
    copied
}

/// Starts writing `len` dirty bytes of `out` from `from` back to the disk without waiting
/// for it: on Linux `POSIX_FADV_DONTNEED` starts asynchronous writeback of the range's dirty
/// pages (and drops only pages already clean, which freshly written ones are not). Advice
/// only: an error changes nothing for correctness, since the fsync that follows waits for
/// every byte anyway.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn start_writeback(out: &File, from: u64, len: u64) {
    if let Some(len) = std::num::NonZeroU64::new(len) {
        let _ = rustix::fs::fadvise(out, from, Some(len), rustix::fs::Advice::DontNeed);
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn start_writeback(_: &File, _: u64, _: u64) {}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn kernel_copy(_: &File, _: u64, _: &File, _: u64, _: usize) -> usize {
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_sizes() {
        let ok = [
            ("1900000000", 1_900_000_000),
            ("1900MB", 1_900_000_000),
            ("1GiB", 1 << 30),
            ("1G", 1 << 30),
            ("100M", 104_857_600),
            ("1", 1),
            ("2147483647", GITHUB_ASSET_LIMIT - 1),
        ];
        for (text, n) in ok {
            assert_eq!(parse_part_size(text).unwrap(), n, "{text}");
        }
        for bad in ["0", "2GiB", "2G", "3GB", "-1", "lots", "", "1.9GB"] {
            let err = parse_part_size(bad).unwrap_err();
            assert!(matches!(Error::find(&err), Some(Error::Usage(_))), "{bad}");
            assert!(
                matches!(crate::error::remedy_of(&err), Some(Remedy::PartSize { .. })),
                "{bad} has a remedy"
            );
        }
        let err = parse_part_size("1.9GB").unwrap_err();
        assert_eq!(
            crate::error::remedy_of(&err),
            Some(Remedy::PartSize {
                whole: Some("1900MB".into())
            })
        );
    }

    #[test]
    fn the_write_fallback_writes_what_the_kernel_copy_would() {
        use crate::digest::{pump, Segment, WholeHasher};
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in");
        let data: Vec<u8> = (0..(crate::digest::BLOCK_SIZE * 2 + 99))
            .map(|i| (i % 253) as u8)
            .collect();
        std::fs::write(&input, &data).unwrap();
        let file = File::open(&input).unwrap();
        let cut = crate::digest::BLOCK_SIZE as u64 + 7;
        let segments: Vec<Segment> = [(0, cut), (cut, data.len() as u64 - cut)]
            .into_iter()
            .map(|(start, len)| Segment {
                file: file.try_clone().unwrap(),
                path: input.clone(),
                start,
                len,
            })
            .collect();
        let names = ["p0".to_string(), "p1".to_string()];
        for kernel_copy in [false, true] {
            let mut writer = PartWriter {
                input: &file,
                starts: segments.iter().map(|s| s.start).collect(),
                dir: dir.path(),
                names: &names,
                sync: true,
                current: None,
                done: Vec::new(),
                kernel_copy,
                written_back: 0,
            };
            pump(
                &segments,
                &mut [&mut writer, &mut WholeHasher::default()],
                &|_| {},
                &crate::cancel::Cancel::new(),
            )
            .unwrap();
            let parts: Vec<Vec<u8>> = writer
                .done
                .iter()
                .map(|p| std::fs::read(p).unwrap())
                .collect();
            assert_eq!(parts[0], data[..cut as usize], "kernel_copy {kernel_copy}");
            assert_eq!(parts[1], data[cut as usize..], "kernel_copy {kernel_copy}");
        }
    }

    #[test]
    fn temporary_names_carry_their_writer() {
        let tag = owner_tag();
        let file = format!(".v.part03.exe.{tag}.aB3xZ9{TEMP_SUFFIX}");
        let (pid, start) = tag.split_once('-').unwrap();
        assert_eq!(
            parse_temp_name(&file),
            Some(("v.part03.exe", pid.parse().unwrap(), start.parse().unwrap()))
        );
        assert_eq!(
            parse_temp_name(".a.b.manifest.json.12-345.x1.voxctl-tmp"),
            Some(("a.b.manifest.json", 12, 345))
        );
        for other in [
            ".v.part03.exe.Ab12Cd.voxctl-tmp",
            ".v.part03.exe.12-x.Ab12Cd.voxctl-tmp",
            "v.part03.exe.12-3.Ab12Cd.voxctl-tmp",
            ".12-3.Ab12Cd.voxctl-tmp",
            ".v.12-3..voxctl-tmp",
        ] {
            assert_eq!(parse_temp_name(other), None, "{other}");
        }
        let (pid, start) = (std::process::id() as i32, tag.split_once('-').unwrap().1);
        assert!(writer_alive(pid, start.parse().unwrap()), "this process");
        assert!(
            !writer_alive(pid, start.parse::<u64>().unwrap() + 1),
            "pid reused"
        );
        assert_eq!(part_index("v.exe", "v.part07.exe"), Some(7));
        assert_eq!(part_index("v.exe", "v.part7.exe"), None);
        assert_eq!(part_index("v", "v.part100"), Some(100));
    }

    #[test]
    fn part_counts() {
        for (size, chunk, n) in [(1, 1, 1), (10, 3, 4), (9, 3, 3), (1, 1 << 30, 1)] {
            assert_eq!(part_count(size, chunk), n, "{size}/{chunk}");
        }
    }
}
