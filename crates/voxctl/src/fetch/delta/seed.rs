//! Local sources of chunks: the installed asset, `--seed` files and the partial data of a
//! stopped fetch.
//!
//! [`scan`] reads a file once, cuts it with the index's FastCDC parameters
//! ([`crate::chunks::Chunker`]'s cuts) and hashes every chunk; a chunk the new asset needs is
//! written, from the buffer just hashed, at every offset of the data file that needs it.
//! Once a seed chunk is found, the scan follows the new asset's chunks: it hashes the next
//! bytes of the seed at the length of the chunk that comes next in the new asset, and takes
//! them when the BLAKE3 matches, without cutting or looking the hash up (where the seed holds
//! the new asset's bytes unchanged, the next seed chunk is that one, and FastCDC would cut it
//! there, a cut depending only on the chunk's own bytes). Only where they differ (an edit)
//! does it cut and look up again. This skips most of the cutting (about a third of a
//! scan's time) and the hash lookups' cache misses, and finds a chunk the end of the new asset
//! cut short, which FastCDC does not cut in the seed.
//! With a [`Speculation`], the chunks the scan has passed without finding them go to the
//! downloader while it reads on.
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

use super::ranges;

/// Bytes read from a seed at a time: 1 MiB.
pub const READ_BUFFER: usize = 1 << 20;

/// How far past a chunk's expected place a seed scan goes without finding it before the
/// chunk is handed to the downloader ([`Speculation`]): 8 MiB. Edits are local, so an
/// unchanged chunk lies in the seed at its new offset shifted by the edits before it; the
/// scan follows that shift from the chunks it finds, and only an edit that deletes more
/// than this margin at once makes it hand over chunks the seed still holds. The synthetic
/// pair of `bench/delta_gen.py` (200 edits, 3% of 2.15 GB) has edits of at most 2.4 MB;
/// scanning 8 MiB takes about 10 ms, so the downloads start that much later than they could.
pub const MARGIN: u64 = 8 << 20;

/// The chunks of an index not yet on disk, looked up by hash (a chunk's bytes may be needed
/// at several offsets: each number is listed). About 4 bytes a chunk: every chunk number
/// sorted by hash (a binary search finds a hash's run of numbers), one bit a chunk for
/// those no longer wanted (on disk, taken from a seed or handed to the downloader), one for
/// those handed over and one for those whose bytes another chunk shares.
#[derive(Debug, Default)]
pub struct Wanted {
    /// Every chunk number, sorted by their hash (then number).
    by_hash: Vec<u32>,
    /// One bit a chunk: no longer wanted.
    taken: Vec<u64>,
    /// One bit a chunk: handed to the downloader by [`Speculation`], not seen in a seed.
    handed: Vec<u64>,
    /// One bit a chunk: another chunk has the same hash (the same bytes at another offset).
    shared: Vec<u64>,
    /// Wanted chunks not taken yet.
    left: usize,
}

fn bit(bits: &[u64], id: usize) -> bool {
    bits.get(id / 64).is_some_and(|w| w & (1 << (id % 64)) != 0)
}

impl Wanted {
    /// Every chunk of `index` for which `done` is false.
    pub fn new(index: &Table, done: impl Fn(usize) -> bool) -> Wanted {
        let mut by_hash: Vec<u32> = (0..index.len() as u32).collect();
        by_hash.sort_unstable_by(|&a, &b| {
            index
                .hash(a as usize)
                .cmp(index.hash(b as usize))
                .then(a.cmp(&b))
        });
        let mut taken = vec![0u64; index.len().div_ceil(64)];
        let mut shared = vec![0u64; taken.len()];
        for pair in by_hash.windows(2) {
            if index.hash(pair[0] as usize) == index.hash(pair[1] as usize) {
                for id in pair {
                    shared[*id as usize / 64] |= 1 << (id % 64);
                }
            }
        }
        let mut left = 0;
        for id in 0..index.len() {
            if done(id) {
                taken[id / 64] |= 1 << (id % 64);
            } else {
                left += 1;
            }
        }
        Wanted {
            left,
            by_hash,
            handed: vec![0; taken.len()],
            shared,
            taken,
        }
    }

    /// Whether chunk `id` is no longer wanted: on disk, taken from a seed, or handed to the
    /// downloader.
    pub fn is_taken(&self, id: usize) -> bool {
        bit(&self.taken, id)
    }

    /// Whether nothing is wanted any more.
    pub fn is_empty(&self) -> bool {
        self.left == 0
    }

    /// Every chunk with hash `hash`, wanted or not, in order.
    fn lookup_all<'a>(
        &'a self,
        index: &'a Table,
        hash: &'a Hash,
    ) -> impl Iterator<Item = usize> + 'a {
        let first = self
            .by_hash
            .partition_point(|&id| index.hash(id as usize) < hash);
        self.by_hash[first..]
            .iter()
            .map(|&id| id as usize)
            .take_while(move |&id| index.hash(id) == hash)
    }

    /// Notes chunk `id` no longer wanted.
    fn take(&mut self, id: usize) {
        if !self.is_taken(id) {
            self.taken[id / 64] |= 1 << (id % 64);
            self.left -= 1;
        }
    }

    /// Notes chunk `id` handed to the downloader: no seed writes it any more.
    fn hand(&mut self, id: usize) {
        if !self.is_taken(id) {
            self.handed[id / 64] |= 1 << (id % 64);
        }
        self.take(id);
    }
}

/// Hands the chunks a seed scan has passed without finding them to the downloader while
/// the scan goes on, as ranges ([`ranges::Planner`]).
///
/// The scan keeps an anchor: the last chunk found where the edits so far put it (within
/// [`MARGIN`] of the place expected, or right after the chunk found before it, in both
/// files). A chunk is expected in the seed at its new offset shifted as the anchor's is;
/// once the scan is [`MARGIN`] bytes past that place, the chunk is decided: on disk, or
/// missing and handed over (it leaves [`Wanted`], so no seed writes it: the downloader's
/// verified copy is the only one). Nothing is handed over before the scan finds a first
/// chunk: a seed with nothing in common ends in a full download, without ranges. A chunk the
/// seed turns out to hold after it was handed over is counted in [`Speculation::late`].
pub struct Speculation<'a> {
    planner: ranges::Planner,
    emit: &'a mut dyn FnMut(ranges::Range),
    /// (end in the new asset, end in the seed) of the anchor chunk.
    anchor: Option<(u64, u64)>,
    /// The chunk found last: its number and its end in the seed.
    last: Option<(usize, u64)>,
    /// Bytes of chunks handed over that the seed held after all.
    late: u64,
}

impl<'a> Speculation<'a> {
    /// Hands ranges to `emit` as the scan decides them.
    pub fn new(emit: &'a mut dyn FnMut(ranges::Range)) -> Self {
        Speculation {
            planner: ranges::Planner::default(),
            emit,
            anchor: None,
            last: None,
            late: 0,
        }
    }

    /// Bytes handed to the downloader that the seed turned out to hold (downloaded for
    /// nothing).
    pub fn late(&self) -> u64 {
        self.late
    }

    /// Decides every chunk left (the scan is over) and emits the last ranges: chunks not
    /// on disk in `data` are missing.
    pub fn finish(mut self, index: &Table, data: &DataFile) {
        self.planner
            .advance(index, u64::MAX, |id| data.is_chunk_done(id), self.emit);
        self.planner.finish(self.emit);
    }

    /// After the seed chunk of `len` bytes ending at `seed_end` (in the seed) matched chunks
    /// `ids` (by hash, wanted or not): moves the anchor, then decides the chunks the scan
    /// has passed by [`MARGIN`].
    fn passed(
        &mut self,
        index: &Table,
        ids: &[usize],
        len: u64,
        seed_end: u64,
        wanted: &mut Wanted,
        data: Option<&DataFile>,
    ) {
        let expected = |anchor: Option<(u64, u64)>| {
            anchor.map(|(new_end, old_end)| (new_end + seed_end).saturating_sub(old_end))
        };
        let end_of = |id: usize| index.chunk(id).offset + u64::from(index.chunk_len(id));
        if let Some(want) = ids.first().map(|_| expected(self.anchor).unwrap_or(0)) {
            let id = ids
                .iter()
                .copied()
                .min_by_key(|&id| end_of(id).abs_diff(want))
                .unwrap_or(ids[0]);
            let next_to_last = self
                .last
                .is_some_and(|(l, l_end)| l + 1 == id && l_end + len == seed_end);
            if self.anchor.is_none() || end_of(id).abs_diff(want) <= MARGIN || next_to_last {
                self.anchor = Some((end_of(id), seed_end));
            }
            self.last = Some((id, seed_end));
        }
        let Some(at) = expected(self.anchor) else {
            return;
        };
        let on_disk = |id: usize| {
            let done = data.map_or(wanted.is_taken(id), |d| d.is_chunk_done(id));
            if !done {
                wanted.hand(id);
            }
            done
        };
        self.planner
            .advance(index, at.saturating_sub(MARGIN), on_disk, self.emit);
    }
}

/// Reads `path` and takes from it every chunk in `wanted`: written into `sink` at each
/// offset that needs it (and noted done there), or, without a sink (a dry run), only
/// counted. Taken chunks leave `wanted`. With `speculation`, the chunks the scan has passed
/// without finding them are handed to the downloader as it goes. Returns the bytes of the
/// new asset it provides.
///
/// Errors: the file cannot be opened or read (naming it), or is not a regular file;
/// [`crate::Error::Interrupted`] once `cancel` is cancelled; a write error of the sink.
pub fn scan(
    path: &Path,
    index: &Table,
    wanted: &mut Wanted,
    sink: Option<&DataFile>,
    mut speculation: Option<&mut Speculation>,
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
    let params = index.params;
    let mut reused = 0u64;
    let all_found = std::cell::Cell::new(wanted.is_empty());
    let mut ids = Vec::new();
    // Takes the seed chunk `bytes` at `at` whose BLAKE3 is `hash` (chunk `guess` of the new
    // asset when known) and returns the chunk of the new asset that follows the one found:
    // where the seed holds the new asset's bytes unchanged, the next seed chunk is that one.
    let mut take =
        |at: u64, bytes: &[u8], hash: &Hash, guess: Option<usize>| -> Result<Option<usize>> {
            ids.clear();
            match guess {
                // The bytes of no other chunk: no lookup needed.
                Some(id) if !bit(&wanted.shared, id) => ids.push(id),
                // Same BLAKE3, another length: cannot happen short of a collision.
                _ => ids.extend(
                    wanted
                        .lookup_all(index, hash)
                        .filter(|&id| index.chunk_len(id) as usize == bytes.len()),
                ),
            }
            for &id in &ids {
                if bit(&wanted.handed, id) {
                    if let Some(s) = speculation.as_deref_mut() {
                        s.late += u64::from(index.chunk_len(id));
                    }
                    wanted.handed[id / 64] &= !(1 << (id % 64));
                }
                if wanted.is_taken(id) {
                    continue;
                }
                let c = index.chunk(id);
                wanted.take(id);
                if let Some(data) = sink {
                    data.write_at(bytes, c.offset)?;
                    data.chunk_done(id);
                }
                reused += u64::from(c.len);
            }
            if let Some(s) = speculation.as_deref_mut() {
                let len = bytes.len() as u64;
                s.passed(index, &ids, len, at + len, wanted, sink);
            }
            all_found.set(wanted.is_empty());
            Ok(guess.or(ids.first().copied()).map(|id| id + 1))
        };
    // The unread part of the seed is `buf[from..]`, at offset `at` of the seed; a chunk is
    // cut only with `max` bytes after its start known (or at the end of the file), so the
    // cuts are those a `Chunker` makes over the whole file.
    let max = params.max as usize;
    let mut buf: Vec<u8> = Vec::with_capacity(READ_BUFFER + max);
    let (mut from, mut at, mut eof) = (0usize, 0u64, false);
    let mut follows: Option<usize> = None;
    loop {
        if all_found.get() {
            break;
        }
        if !eof && buf.len() - from < max {
            cancel.check()?;
            buf.drain(..from);
            from = 0;
            let len = buf.len();
            buf.resize(len + READ_BUFFER, 0);
            let n = loop {
                match file.read(&mut buf[len..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        return Err(anyhow::Error::from(e)
                            .context(format!("cannot read {}", path.display())))
                    }
                }
            };
            buf.truncate(len + n);
            eof = n == 0;
            continue;
        }
        let rest = &buf[from..];
        if rest.is_empty() {
            break;
        }
        // The chunk that follows the last one found, when the seed holds it next: taken
        // without cutting (its end is where FastCDC would cut, since the bytes are the
        // same). Otherwise the chunk FastCDC cuts here.
        let next = follows
            .filter(|&id| id < index.len())
            .map(|id| (id, index.chunk_len(id) as usize))
            .filter(|&(_, len)| len <= rest.len())
            .and_then(|(id, len)| {
                let hash = chunks::hash(&rest[..len]);
                (hash == *index.hash(id)).then_some((id, len, hash))
            });
        let len = match next {
            Some((id, len, hash)) => {
                follows = take(at, &rest[..len], &hash, Some(id))?;
                len
            }
            None => {
                let len = Chunker::first_cut(params, rest);
                follows = take(at, &rest[..len], &chunks::hash(&rest[..len]), None)?;
                len
            }
        };
        from += len;
        at += len as u64;
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunks::{Index, Params};

    const MIB: usize = 1 << 20;

    /// `n` pseudo-random bytes (xorshift), no stretch repeating another.
    fn data(n: usize, seed: u64) -> Vec<u8> {
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

    /// Scans `old` as the last seed of an update to `new` (a dry run: nothing written):
    /// the ranges handed over during the scan, the bytes handed over that `old` held after
    /// all, and the bytes of `new` that `old` does not hold.
    fn speculate(old: &[u8], new: &[u8]) -> (Vec<ranges::Range>, u64, u64) {
        let dir = tempfile::tempdir().unwrap();
        let (old_path, new_path) = (dir.path().join("old"), dir.path().join("new"));
        std::fs::write(&old_path, old).unwrap();
        std::fs::write(&new_path, new).unwrap();
        let cancel = Cancel::new();
        let index = Table::from(&Index::of_file(&new_path, Params::DEFAULT, &cancel).unwrap());
        let mut wanted = Wanted::new(&index, |_| false);
        let mut handed = Vec::new();
        let mut emit = |r: ranges::Range| handed.push(r);
        let mut speculation = Speculation::new(&mut emit);
        let reused = scan(
            &old_path,
            &index,
            &mut wanted,
            None,
            Some(&mut speculation),
            &cancel,
        )
        .unwrap();
        let late = speculation.late();
        (handed, late, new.len() as u64 - reused)
    }

    #[test]
    fn chunks_passed_by_the_margin_are_handed_over_during_the_scan_and_only_those() {
        let old = data(40 * MIB, 1);
        let fresh = data(12 * MIB, 2);

        // An overwrite early in the file: its chunks are handed over long before the scan
        // ends, and nothing the seed holds is.
        let mut new = old.clone();
        new[2 * MIB..2 * MIB + 300_000].copy_from_slice(&fresh[..300_000]);
        let (handed, late, missing) = speculate(&old, &new);
        assert_eq!(late, 0);
        assert!(
            !handed.is_empty(),
            "the edit was handed over during the scan"
        );
        let bytes: u64 = handed.iter().map(ranges::Range::len).sum();
        assert!(
            bytes >= missing && bytes < missing + (256 << 10),
            "{handed:?}"
        );

        // An insertion longer than the margin: the chunks after it are found (the anchor
        // follows chunks found next to each other), none is handed over for nothing.
        let new = [&old[..2 * MIB], &fresh[..], &old[2 * MIB..]].concat();
        let (handed, late, missing) = speculate(&old, &new);
        assert_eq!(late, 0);
        let bytes: u64 = handed.iter().map(ranges::Range::len).sum();
        assert!(
            bytes >= missing && bytes < missing + (256 << 10),
            "{handed:?}"
        );

        // A deletion longer than the margin: the scan runs through the deleted bytes as if
        // they were in the new file, so it hands over what lies within the deletion's
        // length minus the margin after it: downloaded, though the seed holds it.
        let new = [&old[..2 * MIB], &old[14 * MIB..]].concat();
        let (_, late, _) = speculate(&old, &new);
        let overshoot = 12 * MIB as u64 - MARGIN;
        assert!(
            late > overshoot - (128 << 10) && late < overshoot + (128 << 10),
            "{late} bytes handed over for nothing, about {overshoot} expected"
        );

        // A seed with nothing in common hands nothing over.
        let (handed, late, _) = speculate(&data(20 * MIB, 3), &old);
        assert!(handed.is_empty() && late == 0, "{handed:?}");
    }

    /// The scan follows the new asset's chunks through the seed: a new asset that is the
    /// seed cut short mid-chunk (its last chunk ends where FastCDC does not cut the seed) is
    /// taken whole from it, its last chunk included.
    #[test]
    fn a_last_chunk_cut_short_by_the_end_of_the_new_asset_is_found_by_following() {
        let old = data(8 * MIB, 7);
        let new = old[..5 * MIB + 12_345].to_vec();
        let (handed, late, missing) = speculate(&old, &new);
        assert_eq!((missing, late), (0, 0), "{handed:?}");
        assert!(handed.is_empty(), "{handed:?}");
        // With an edit too, the scan goes on past the new asset's last chunk (nothing
        // follows it) and finds the rest.
        let mut edited = new.clone();
        edited[MIB..MIB + 100_000].copy_from_slice(&data(100_000, 10));
        let (_, late, missing) = speculate(&old, &edited);
        assert_eq!(late, 0);
        assert!(
            (100_000..100_000 + (256 << 10)).contains(&missing),
            "{missing}"
        );
    }

    /// A chunk followed through the seed whose bytes other chunks of the new asset share
    /// (a run of zeros, cut into identical 64 KiB chunks) is taken for every one of them,
    /// even where the seed holds those bytes only once.
    #[test]
    fn a_followed_chunk_is_taken_at_every_offset_that_shares_its_bytes() {
        let (head, tail, zeros) = (data(3 * MIB, 8), data(2 * MIB, 9), vec![0u8; MIB]);
        let old = [&head[..], &zeros, &tail].concat();
        let new = [&head[..], &zeros, &tail, &zeros, &head[..MIB]].concat();
        let (_, _, missing) = speculate(&old, &new);
        // Only the chunks where the second run of zeros meets the bytes around it.
        assert!(missing < 256 << 10, "{missing} bytes missing");
    }

    #[test]
    fn wanted_counts_each_chunk_once_however_often_it_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, data(3 * MIB, 5)).unwrap();
        let index = Table::from(&Index::of_file(&path, Params::DEFAULT, &Cancel::new()).unwrap());
        let n = index.len();
        assert!(n >= 3, "{n} chunks");
        let mut wanted = Wanted::new(&index, |id| id == 0);
        assert!(wanted.is_taken(0) && !wanted.is_taken(1));
        assert_eq!(wanted.left, n - 1);
        wanted.take(1);
        wanted.take(1);
        assert_eq!(wanted.left, n - 2, "a chunk taken twice counts once");
        wanted.hand(2);
        assert!(wanted.is_taken(2) && bit(&wanted.handed, 2) && !bit(&wanted.handed, 1));
        for id in 0..n {
            assert!(!wanted.is_empty(), "chunk {id} still wanted");
            wanted.take(id);
        }
        assert!(wanted.is_empty());
        assert!(Wanted::new(&index, |_| true).is_empty());
    }
}
