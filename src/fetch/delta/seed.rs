//! Local sources of chunks: the installed asset, `--seed` files and the partial data of a
//! stopped fetch.
//!
//! [`scan`] reads a file once, cuts it with the index's FastCDC parameters
//! ([`crate::chunks::Chunker`]) and hashes every chunk; a chunk the new asset needs is
//! written, from the buffer just hashed, at every offset of the data file that needs it.
//! Memory: one read buffer ([`READ_BUFFER`]) and the chunker's carry (at most the index's
//! largest chunk plus one read), whatever the file's size. [`recheck`] re-hashes the chunks
//! a stopped fetch left in the data file, in place.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};

use crate::cancel::Cancel;
use crate::chunks::{self, Chunker, Hash, Table};
use crate::fetch::layout::Plan;
use crate::fetch::partial::DataFile;

/// Bytes read from a seed at a time: 1 MiB.
pub const READ_BUFFER: usize = 1 << 20;

/// The chunks of an index not yet on disk, looked up by hash (a chunk's bytes may be needed
/// at several offsets: each number is listed). About 4 bytes a chunk: the wanted chunk
/// numbers sorted by hash (a binary search finds a hash's run of numbers), and one bit a
/// chunk for those taken.
#[derive(Debug, Default)]
pub struct Wanted {
    /// The wanted chunk numbers, sorted by their hash (then number).
    by_hash: Vec<u32>,
    /// One bit a chunk: taken from a seed by [`scan`].
    taken: Vec<u64>,
    /// Wanted chunks not taken yet.
    left: usize,
}

impl Wanted {
    /// Every chunk of `index` for which `done` is false.
    pub fn new(index: &Table, done: impl Fn(usize) -> bool) -> Wanted {
        let mut by_hash: Vec<u32> = (0..index.len())
            .filter(|&id| !done(id))
            .map(|id| id as u32)
            .collect();
        by_hash.sort_unstable_by(|&a, &b| {
            index
                .hash(a as usize)
                .cmp(index.hash(b as usize))
                .then(a.cmp(&b))
        });
        Wanted {
            left: by_hash.len(),
            by_hash,
            taken: vec![0; index.len().div_ceil(64)],
        }
    }

    /// Whether chunk `id` was taken from a seed.
    pub fn is_taken(&self, id: usize) -> bool {
        self.taken
            .get(id / 64)
            .is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    /// Whether nothing is wanted any more.
    pub fn is_empty(&self) -> bool {
        self.left == 0
    }

    /// The wanted chunks with hash `hash` not taken yet, in order.
    fn lookup<'a>(&'a self, index: &'a Table, hash: &'a Hash) -> impl Iterator<Item = usize> + 'a {
        let first = self
            .by_hash
            .partition_point(|&id| index.hash(id as usize) < hash);
        self.by_hash[first..]
            .iter()
            .map(|&id| id as usize)
            .take_while(move |&id| index.hash(id) == hash)
            .filter(move |&id| !self.is_taken(id))
    }

    /// Notes chunk `id` taken.
    fn take(&mut self, id: usize) {
        if !self.is_taken(id) {
            self.taken[id / 64] |= 1 << (id % 64);
            self.left -= 1;
        }
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
    index: &Table,
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
        let ids: Vec<usize> = wanted.lookup(index, &hash).collect();
        for id in ids {
            let c = index.chunk(id);
            if c.len as usize != bytes.len() {
                continue; // same BLAKE3, another length: cannot happen short of a collision
            }
            wanted.take(id);
            if let Some(data) = sink {
                data.write_at(bytes, c.offset)?;
                data.chunk_done(id);
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
    index: &Table,
    id: &str,
    cancel: &Cancel,
) -> Result<u64> {
    let mut candidate = vec![false; index.len()];
    if let Some(record) = data.recorded_chunks().filter(|r| r.index == id) {
        for &(first, end) in &record.done {
            let end = (end as usize).min(candidate.len());
            for c in candidate.iter_mut().take(end).skip(first as usize) {
                *c = true;
            }
        }
    }
    let received = data.snapshot();
    for (id, c) in index.iter().enumerate() {
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
    for (id, c) in index.iter().enumerate() {
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
