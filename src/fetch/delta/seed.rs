//! Local sources of chunks: the installed asset, `--seed` files and the partial data of a
//! stopped fetch.
//!
//! [`scan`] reads a file once, cuts it with the index's FastCDC parameters
//! ([`crate::chunks::Chunker`]) and hashes every chunk; a chunk the new asset needs is
//! written, from the buffer just hashed, at every offset of the data file that needs it.
//! Memory: one read buffer ([`READ_BUFFER`]) and the chunker's carry (at most the index's
//! largest chunk plus one read), whatever the file's size. [`recheck`] re-hashes the chunks
//! a stopped fetch left in the data file, in place.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};

use crate::cancel::Cancel;
use crate::chunks::{self, Chunker, Hash, Index};
use crate::fetch::layout::Plan;
use crate::fetch::partial::DataFile;

/// Bytes read from a seed at a time: 1 MiB.
pub const READ_BUFFER: usize = 1 << 20;

/// The chunks of an index not yet on disk, by hash (a chunk's bytes may be needed at several
/// offsets: each number is listed).
#[derive(Debug, Default)]
pub struct Wanted {
    by_hash: HashMap<Hash, Vec<u32>>,
    /// Per chunk: taken from a seed by [`scan`].
    taken: Vec<bool>,
}

impl Wanted {
    /// Every chunk of `index` for which `done` is false.
    pub fn new(index: &Index, done: impl Fn(usize) -> bool) -> Wanted {
        let mut by_hash: HashMap<Hash, Vec<u32>> = HashMap::new();
        for (id, c) in index.chunks.iter().enumerate() {
            if !done(id) {
                by_hash.entry(c.hash).or_default().push(id as u32);
            }
        }
        Wanted {
            by_hash,
            taken: vec![false; index.chunks.len()],
        }
    }

    /// Whether chunk `id` was taken from a seed.
    pub fn is_taken(&self, id: usize) -> bool {
        self.taken.get(id).copied().unwrap_or(false)
    }

    /// Whether nothing is wanted any more.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }
}

/// Reads `path` and takes from it every chunk in `wanted`: written into `sink` at each
/// offset that needs it (and noted done there), or, without a sink (a dry run), only
/// counted. Taken chunks leave `wanted`. Returns the bytes of the new asset it provides.
///
/// Errors: the file cannot be opened or read (naming it), or is not a regular file;
/// [`crate::Error::Interrupted`] once `cancel` is cancelled; a write error of the sink.
pub fn scan(
    path: &Path,
    index: &Index,
    wanted: &mut Wanted,
    sink: Option<&DataFile>,
    cancel: &Cancel,
) -> Result<u64> {
    let mut file = crate::checked_open::open_regular(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let meta = file
        .metadata()
        .with_context(|| format!("cannot stat {}", path.display()))?;
    if !meta.is_file() {
        anyhow::bail!("{} is not a regular file", path.display());
    }
    let mut chunker = Chunker::new(index.params);
    let mut reused = 0u64;
    let all_found = std::cell::Cell::new(wanted.is_empty());
    let mut take = |_: u64, bytes: &[u8]| -> Result<()> {
        if all_found.get() {
            return Ok(());
        }
        let hash = chunks::hash(bytes);
        let Some(ids) = wanted.by_hash.remove(&hash) else {
            return Ok(());
        };
        for id in ids {
            let c = &index.chunks[id as usize];
            if c.len as usize != bytes.len() {
                continue; // same BLAKE3, another length: cannot happen short of a collision
            }
            wanted.taken[id as usize] = true;
            if let Some(data) = sink {
                data.write_at(bytes, c.offset)?;
                data.chunk_done(id as usize);
            }
            reused += u64::from(c.len);
        }
        all_found.set(wanted.is_empty());
        Ok(())
    };
    let mut buf = vec![0u8; READ_BUFFER];
    loop {
        cancel.check()?;
        if all_found.get() {
            break;
        }
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(
                    anyhow::Error::from(e).context(format!("cannot read {}", path.display()))
                )
            }
        };
        chunker.push(&buf[..n], &mut take)?;
    }
    chunker.finish(&mut take)?;
    Ok(reused)
}

/// Checks again, in `data`, the chunks a stopped fetch left there: those its chunk record
/// lists (when it is of the index `id`) and those wholly inside a part's received bytes (a
/// stopped full download). Each is read back and hashed; a match is noted done. Returns the
/// bytes kept.
pub fn recheck(
    data: &DataFile,
    plan: &Plan,
    index: &Index,
    id: &str,
    cancel: &Cancel,
) -> Result<u64> {
    let mut candidate = vec![false; index.chunks.len()];
    if let Some(record) = data.recorded_chunks().filter(|r| r.index == id) {
        for &(first, end) in &record.done {
            let end = (end as usize).min(candidate.len());
            for c in candidate.iter_mut().take(end).skip(first as usize) {
                *c = true;
            }
        }
    }
    let received = data.snapshot();
    for (id, c) in index.chunks.iter().enumerate() {
        let end = c.offset + u64::from(c.len);
        let inside = plan
            .parts
            .iter()
            .zip(&received)
            .any(|(p, &n)| c.offset >= p.offset && end <= p.offset + n);
        if inside {
            candidate[id] = true;
        }
    }
    let mut kept = 0u64;
    let mut buf = Vec::new();
    for (id, c) in index.chunks.iter().enumerate() {
        if !candidate[id] {
            continue;
        }
        cancel.check()?;
        buf.resize(c.len as usize, 0);
        data.read_at(&mut buf, c.offset)?;
        if chunks::hash(&buf) == c.hash {
            data.chunk_done(id);
            kept += u64::from(c.len);
        }
    }
    Ok(kept)
}
