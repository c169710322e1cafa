//! Content-defined chunk indexes (docs/contract.md "Beside any layout": `S.chunks`): the
//! asset cut into chunks by FastCDC 2020 (the `fastcdc` crate, normalization level 1), each
//! chunk's length and BLAKE3-256. `fetch` chunks what is installed with the same parameters
//! and copies every chunk whose hash the index lists instead of downloading it. The index is
//! an optimization only: the whole-file SHA-256 always decides.
//!
//! # Format, version 1
//!
//! A binary file, all integers little endian:
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 8 | magic `VXCHUNKS` |
//! | 8 | 2 | format version, u16 = 1 ([`VERSION`]) |
//! | 10 | 1 | chunker: 1 = FastCDC 2020, normalization level 1 |
//! | 11 | 1 | chunk hash: 1 = BLAKE3-256 |
//! | 12 | 4 | minimum chunk size, u32 bytes |
//! | 16 | 4 | average chunk size, u32 bytes (a power of two: the mask width is its log2) |
//! | 20 | 4 | maximum chunk size, u32 bytes |
//! | 24 | 8 | asset size, u64 bytes |
//! | 32 | 32 | asset SHA-256 |
//! | 64 | 8 | chunk count, u64 |
//! | 72 | count x 36 | per chunk, in asset order: length u32, BLAKE3-256 (32 bytes) |
//!
//! Chunk offsets are not stored: each chunk starts where the previous one ends. A reader
//! ([`Index::parse`]) refuses, as an integrity failure: a bad magic, a version other than 1
//! (a later voxctl may write a later version only for changes this one must refuse; the
//! message says to upgrade), an unknown chunker or hash id, sizes outside fastcdc's limits
//! (or not `min <= avg <= max`, an odd min, an avg not a power of two), a length that is not
//! exactly `72 + 36 x count` bytes or over [`INDEX_CAP`], a chunk of length 0 or over max, a
//! chunk other than the last under min, and lengths that do not add up to the asset size.
//!
//! # Chunking
//!
//! [`Chunker`] streams: it keeps a carry buffer of at most `max - 1` bytes plus the slice
//! being pushed, and cuts only when the buffer holds at least `max` bytes (or at the end of
//! the stream), which is exactly what FastCDC over the whole file in memory would see: the
//! cut points are those of `fastcdc::v2020::FastCDC` over the whole stream, whatever the
//! slice sizes.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use fastcdc::v2020::{self, FastCDC, Normalization};
use serde::{Deserialize, Serialize};

use crate::cancel::Cancel;
use crate::checksum::Sha256;
use crate::digest::{pump, Block, Consumer, Segment, WholeHasher};
use crate::Error;

/// Index format version this build writes and reads.
pub const VERSION: u16 = 1;
/// Most bytes read for an index file (64 MiB); a larger one is refused ([`Error::Integrity`]).
pub const INDEX_CAP: u64 = 64 << 20;
/// The first 8 bytes of every index.
pub const MAGIC: [u8; 8] = *b"VXCHUNKS";
/// The header's length in bytes; the chunk entries follow it.
pub const HEADER_LEN: usize = 72;
/// One chunk entry's length in bytes: length u32, BLAKE3-256.
pub const ENTRY_LEN: usize = 36;
/// The chunker id of FastCDC 2020 with normalization level 1.
pub const CHUNKER_FASTCDC_2020: u8 = 1;
/// The chunk hash id of BLAKE3-256.
pub const HASH_BLAKE3: u8 = 1;
/// The most chunks an index may list: as many as fit in [`INDEX_CAP`].
pub const MAX_CHUNKS: u64 = (INDEX_CAP - HEADER_LEN as u64) / ENTRY_LEN as u64;

/// `{stem}.chunks`, the index file of asset `asset` (stem as [`crate::name::stem`]: the
/// asset without a trailing `.exe`).
pub fn index_name(asset: &str) -> String {
    format!("{}.chunks", crate::name::stem(asset))
}

/// FastCDC 2020 chunk sizes in bytes: no chunk but the last is shorter than `min`, none is
/// longer than `max`, and cut points are tuned to average about `avg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Params {
    /// The minimum chunk size (the last chunk of a stream may be shorter).
    pub min: u32,
    /// The average (expected) chunk size, a power of two.
    pub avg: u32,
    /// The maximum chunk size.
    pub max: u32,
}

impl Params {
    /// What `voxctl split` and `voxctl index` use unless told otherwise: 16 KiB average (4 KiB
    /// min, 64 KiB max). Chosen from measurements (BENCHMARKS.md, "Chunk index"):
    /// the index stays near 0.2% of the asset and smaller chunks reuse more of a rebuilt
    /// PyInstaller binary.
    pub const DEFAULT: Params = Params {
        min: 4 << 10,
        avg: 16 << 10,
        max: 64 << 10,
    };

    /// The sizes for an average of `avg` bytes: `min = avg / 4`, `max = avg * 4`.
    ///
    /// Errors with [`Error::Usage`] unless `avg` is a power of two from 256 bytes to 4 MiB
    /// (what keeps all three within fastcdc's v2020 limits).
    pub fn with_avg(avg: u32) -> Result<Params, Error> {
        let params = Params {
            min: avg / 4,
            avg,
            max: avg.saturating_mul(4),
        };
        if !avg.is_power_of_two() || params.problem().is_some() {
            return Err(Error::Usage(format!(
                "average chunk size {avg} bytes: it must be a power of two from 256 bytes to \
                 4 MiB, e.g. 16K, 32K or 64K"
            )));
        }
        Ok(params)
    }

    /// Checks sizes read from an index: within fastcdc's v2020 limits, `min <= avg <= max`,
    /// `avg` a power of two and `min` even (so that no chunk but the last is under `min`).
    /// Errors with [`Error::Integrity`].
    pub fn validate(&self) -> Result<(), Error> {
        match self.problem() {
            None => Ok(()),
            Some(problem) => Err(Error::Integrity(format!(
                "invalid chunk sizes (min {}, avg {}, max {}): {problem}",
                self.min, self.avg, self.max
            ))),
        }
    }

    fn problem(&self) -> Option<String> {
        let Params { min, avg, max } = *self;
        let limits = [
            ("minimum", min, v2020::MINIMUM_MIN, v2020::MINIMUM_MAX),
            ("average", avg, v2020::AVERAGE_MIN, v2020::AVERAGE_MAX),
            ("maximum", max, v2020::MAXIMUM_MIN, v2020::MAXIMUM_MAX),
        ];
        for (what, n, lo, hi) in limits {
            if !(lo..=hi).contains(&n) {
                return Some(format!(
                    "the {what} chunk size {n} is outside FastCDC's {lo}..={hi} bytes"
                ));
            }
        }
        if !avg.is_power_of_two() {
            return Some(format!(
                "the average chunk size {avg} is not a power of two"
            ));
        }
        if min > avg || avg > max {
            return Some("the sizes are not in order min <= avg <= max".into());
        }
        if min % 2 != 0 {
            return Some(format!("the minimum chunk size {min} is odd"));
        }
        None
    }
}

/// A chunk hash: BLAKE3-256.
pub type Hash = [u8; 32];

/// BLAKE3-256 of a chunk's bytes.
pub fn hash(bytes: &[u8]) -> Hash {
    *blake3::hash(bytes).as_bytes()
}

/// One chunk of an asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// Where the chunk starts in the asset, in bytes.
    pub offset: u64,
    /// The chunk's length in bytes.
    pub len: u32,
    /// BLAKE3-256 of the chunk's bytes.
    pub hash: Hash,
}

/// A chunk index of one asset (see the module docs for its file format).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// The chunk sizes the asset was cut with.
    pub params: Params,
    /// The asset's size in bytes.
    pub size: u64,
    /// The asset's SHA-256.
    pub sha256: Sha256,
    /// The chunks, in order, covering the asset exactly.
    pub chunks: Vec<Chunk>,
}

/// The 72-byte header of an index of `count` chunks.
pub fn header(params: Params, size: u64, sha256: &Sha256, count: u64) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(&MAGIC);
    h[8..10].copy_from_slice(&VERSION.to_le_bytes());
    h[10] = CHUNKER_FASTCDC_2020;
    h[11] = HASH_BLAKE3;
    h[12..16].copy_from_slice(&params.min.to_le_bytes());
    h[16..20].copy_from_slice(&params.avg.to_le_bytes());
    h[20..24].copy_from_slice(&params.max.to_le_bytes());
    h[24..32].copy_from_slice(&size.to_le_bytes());
    h[32..64].copy_from_slice(&sha256.0);
    h[64..72].copy_from_slice(&count.to_le_bytes());
    h
}

/// The 36-byte entry of a chunk.
pub fn entry(len: u32, hash: &Hash) -> [u8; ENTRY_LEN] {
    let mut e = [0u8; ENTRY_LEN];
    e[..4].copy_from_slice(&len.to_le_bytes());
    e[4..].copy_from_slice(hash);
    e
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

/// Checks index `bytes` (see the module docs for what is refused) and calls `each` with
/// every chunk's number and the chunk, in order, and the number of chunks (at most
/// `bytes.len() / 36`, so an allocation sized by it is bounded by the input). Returns the
/// header's fields.
fn check(
    bytes: &[u8],
    mut each: impl FnMut(usize, usize, Chunk),
) -> Result<(Params, u64, Sha256), Error> {
    let bad = |what: String| Error::Integrity(format!("chunk index: {what}"));
    if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
        return Err(bad("not a chunk index (no VXCHUNKS magic)".into()));
    }
    if bytes.len() as u64 > INDEX_CAP {
        return Err(bad(format!(
            "{} bytes, over the {INDEX_CAP}-byte limit",
            bytes.len()
        )));
    }
    if bytes.len() < 10 {
        return Err(bad(format!("truncated at {} bytes", bytes.len())));
    }
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    if version != VERSION {
        return Err(Error::Integrity(format!(
            "unknown chunk index version {version}: this voxctl reads version {VERSION}; \
             upgrade voxctl to use this release's index"
        )));
    }
    if bytes.len() < HEADER_LEN {
        return Err(bad(format!(
            "truncated at {} bytes, inside its {HEADER_LEN}-byte header",
            bytes.len()
        )));
    }
    if bytes[10] != CHUNKER_FASTCDC_2020 {
        return Err(bad(format!(
            "unknown chunker id {} (this voxctl knows {CHUNKER_FASTCDC_2020} = FastCDC 2020)",
            bytes[10]
        )));
    }
    if bytes[11] != HASH_BLAKE3 {
        return Err(bad(format!(
            "unknown chunk hash id {} (this voxctl knows {HASH_BLAKE3} = BLAKE3-256)",
            bytes[11]
        )));
    }
    let params = Params {
        min: u32_at(bytes, 12),
        avg: u32_at(bytes, 16),
        max: u32_at(bytes, 20),
    };
    params.validate()?;
    let size = u64_at(bytes, 24);
    let sha256 = Sha256(bytes[32..64].try_into().expect("32 bytes"));
    let n = u64_at(bytes, 64);
    let expected = n
        .checked_mul(ENTRY_LEN as u64)
        .and_then(|n| n.checked_add(HEADER_LEN as u64));
    if expected != Some(bytes.len() as u64) {
        return Err(bad(format!(
            "{} bytes long, but its header lists {n} chunks ({} bytes)",
            bytes.len(),
            expected.map_or_else(|| "more than 2^64".to_string(), |n| n.to_string())
        )));
    }
    if n == 0 && size > 0 {
        return Err(bad(format!("no chunks listed for a {size}-byte asset")));
    }
    let mut offset = 0u64;
    for (i, e) in bytes[HEADER_LEN..].chunks_exact(ENTRY_LEN).enumerate() {
        let len = u32_at(e, 0);
        let last = i as u64 + 1 == n;
        if len == 0 || len > params.max {
            return Err(bad(format!(
                "chunk {i} is {len} bytes, not 1 to {} (the maximum)",
                params.max
            )));
        }
        if len < params.min && !last {
            return Err(bad(format!(
                "chunk {i} is {len} bytes, under the minimum {} (only the last may be)",
                params.min
            )));
        }
        each(
            i,
            n as usize,
            Chunk {
                offset,
                len,
                hash: e[4..].try_into().expect("32 bytes"),
            },
        );
        offset += u64::from(len);
        if offset > size {
            return Err(bad(format!(
                "chunks 0..={i} already cover {offset} bytes, past the asset's {size}"
            )));
        }
    }
    if offset != size {
        return Err(bad(format!(
            "chunks cover {offset} bytes, but the asset is {size} bytes"
        )));
    }
    Ok((params, size, sha256))
}

/// How many chunks share one stored offset in a [`Table`]: a chunk's offset is the stored
/// offset of its group plus the lengths of the chunks before it in the group.
const GROUP: usize = 64;

/// A chunk index in its file format, for a differential fetch: about 36 bytes a chunk (the
/// index file itself, kept as read, plus one `u64` offset per 64 chunks), where an
/// [`Index`] takes 48. Chunks are looked up by number; [`Table::chunk`] computes an offset
/// from at most `GROUP - 1` lengths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The chunk sizes the asset was cut with.
    pub params: Params,
    /// The asset's size in bytes.
    pub size: u64,
    /// The asset's SHA-256.
    pub sha256: Sha256,
    /// The index file: header, then one [`ENTRY_LEN`]-byte entry a chunk.
    bytes: Vec<u8>,
    /// The offset of chunk `GROUP * g`, for each group `g`.
    starts: Vec<u64>,
}

impl Table {
    /// Parses untrusted index bytes as [`Index::parse`] does (the same refusals, errors with
    /// [`Error::Integrity`]), keeping them: nothing per chunk is allocated beyond them but
    /// one offset per 64 chunks.
    pub fn parse(bytes: Vec<u8>) -> Result<Table, Error> {
        let mut starts = Vec::new();
        let (params, size, sha256) = check(&bytes, |i, count, c| {
            if i == 0 {
                starts.reserve_exact(count.div_ceil(GROUP));
            }
            if i % GROUP == 0 {
                starts.push(c.offset);
            }
        })?;
        Ok(Table {
            params,
            size,
            sha256,
            bytes,
            starts,
        })
    }

    /// The number of chunks.
    pub fn len(&self) -> usize {
        (self.bytes.len() - HEADER_LEN) / ENTRY_LEN
    }

    /// Whether the index lists no chunk (an empty asset).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn entry(&self, id: usize) -> &[u8] {
        let at = HEADER_LEN + id * ENTRY_LEN;
        &self.bytes[at..at + ENTRY_LEN]
    }

    /// Chunk `id`'s length in bytes.
    ///
    /// # Panics
    ///
    /// If `id >= self.len()`.
    pub fn chunk_len(&self, id: usize) -> u32 {
        u32_at(self.entry(id), 0)
    }

    /// Chunk `id`'s BLAKE3-256.
    ///
    /// # Panics
    ///
    /// If `id >= self.len()`.
    pub fn hash(&self, id: usize) -> &Hash {
        self.entry(id)[4..].try_into().expect("32 bytes")
    }

    /// Chunk `id`: its offset, length and hash.
    ///
    /// # Panics
    ///
    /// If `id >= self.len()`.
    pub fn chunk(&self, id: usize) -> Chunk {
        let group = id / GROUP;
        let offset = self.starts[group]
            + (group * GROUP..id)
                .map(|i| u64::from(self.chunk_len(i)))
                .sum::<u64>();
        Chunk {
            offset,
            len: self.chunk_len(id),
            hash: *self.hash(id),
        }
    }

    /// Every chunk, in order.
    pub fn iter(&self) -> impl Iterator<Item = Chunk> + '_ {
        let mut offset = 0u64;
        (0..self.len()).map(move |id| {
            let len = self.chunk_len(id);
            let c = Chunk {
                offset,
                len,
                hash: *self.hash(id),
            };
            offset += u64::from(len);
            c
        })
    }
}

impl From<&Index> for Table {
    fn from(index: &Index) -> Table {
        Table::parse(index.to_bytes()).expect("an Index is always valid")
    }
}

impl Index {
    /// The index file's bytes (version [`VERSION`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.chunks.len() * ENTRY_LEN);
        out.extend_from_slice(&header(
            self.params,
            self.size,
            &self.sha256,
            self.chunks.len() as u64,
        ));
        for c in &self.chunks {
            out.extend_from_slice(&entry(c.len, &c.hash));
        }
        out
    }

    /// Parses untrusted bytes; [`Error::Integrity`] naming the first problem (see the module
    /// docs for what is refused). Memory is bounded by the input: the chunk count is checked
    /// against the length before anything is allocated.
    pub fn parse(bytes: &[u8]) -> Result<Index, Error> {
        let mut chunks = Vec::new();
        let (params, size, sha256) = check(bytes, |i, count, c| {
            if i == 0 {
                chunks.reserve_exact(count);
            }
            chunks.push(c);
        })?;
        Ok(Index {
            params,
            size,
            sha256,
            chunks,
        })
    }

    /// Reads and parses the index file at `path`, reading at most [`INDEX_CAP`] bytes (a
    /// larger file is [`Error::Integrity`]). Errors name the path.
    pub fn read(path: &Path) -> Result<Index> {
        let file =
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let mut bytes = Vec::new();
        file.take(INDEX_CAP + 1)
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Index::parse(&bytes).with_context(|| format!("bad chunk index {}", path.display()))
    }

    /// The index of the whole file at `path` with `params`: one read pass, the chunker and
    /// BLAKE3 on one thread and the file's SHA-256 on another (`crate::digest::pump`).
    ///
    /// Errors: I/O errors naming the path; [`Error::Integrity`] if the file changes size while
    /// being read; [`Error::Interrupted`] once `cancel` is cancelled; an asset that would make
    /// more than [`MAX_CHUNKS`] chunks.
    ///
    /// # Panics
    ///
    /// If `params` are not valid ([`Params::validate`]).
    pub fn of_file(path: &Path, params: Params, cancel: &Cancel) -> Result<Index> {
        Index::of_file_with_progress(path, params, &|_| {}, cancel)
    }

    /// [`Index::of_file`], calling `progress` with the number of bytes of each block read.
    pub(crate) fn of_file_with_progress(
        path: &Path,
        params: Params,
        progress: &(dyn Fn(u64) + Sync),
        cancel: &Cancel,
    ) -> Result<Index> {
        let seg =
            Segment::whole(path).with_context(|| format!("cannot open {}", path.display()))?;
        let expected = seg.len;
        let mut whole = WholeHasher::default();
        let mut chunks = Vec::new();
        let mut sink = |c: Chunk| {
            chunks.push(c);
            Ok(())
        };
        let mut indexer = Indexer::new(params, &mut sink);
        pump(&[seg], &mut [&mut whole, &mut indexer], progress, cancel)?;
        let indexed = indexer.finish()?;
        let (sha256, size) = whole.finish();
        if size != expected || indexed.bytes != size {
            return Err(Error::Integrity(format!(
                "{} changed while it was being indexed",
                path.display()
            ))
            .into());
        }
        Ok(Index {
            params,
            size,
            sha256,
            chunks,
        })
    }

    /// The manifest's reference to this index, published for `asset`.
    pub fn reference(&self, asset: &str) -> IndexRef {
        let bytes = self.to_bytes();
        IndexRef {
            name: index_name(asset),
            size: bytes.len() as u64,
            sha256: Sha256::of(&bytes),
        }
    }
}

/// A chunk completed by a [`Chunker`]: where it starts in the stream, and its bytes.
pub type OnChunk<'a> = dyn FnMut(u64, &[u8]) -> Result<()> + 'a;

/// Push-based streaming FastCDC 2020 chunker with bounded memory (a carry buffer of at most
/// `max - 1` bytes plus one pushed slice). Cut points are exactly those of
/// `fastcdc::v2020::FastCDC` (normalization level 1) over the whole stream.
#[derive(Debug)]
pub struct Chunker {
    params: Params,
    carry: Vec<u8>,
    /// The stream offset of `carry[0]`.
    offset: u64,
}

impl Chunker {
    /// A chunker at the start of a stream.
    ///
    /// # Panics
    ///
    /// If `params` are not valid ([`Params::validate`]): fastcdc would panic on them later.
    pub fn new(params: Params) -> Chunker {
        if let Err(e) = params.validate() {
            panic!("Chunker::new: {e}");
        }
        Chunker {
            params,
            carry: Vec::new(),
            offset: 0,
        }
    }

    /// The length of the chunk FastCDC cuts at the start of `data`, with `params`: `data`
    /// must hold at least `params.max` bytes unless it is the end of the stream. The same
    /// cut as [`Chunker::push`] makes there (a cut depends only on the bytes from the
    /// chunk's start to its end).
    pub(crate) fn first_cut(params: Params, data: &[u8]) -> usize {
        let Params { min, avg, max } = params;
        FastCDC::with_level(data, min, avg, max, Normalization::Level1)
            .cut(0, data.len())
            .1
    }

    fn cdc<'a>(&self, source: &'a [u8]) -> FastCDC<'a> {
        let Params { min, avg, max } = self.params;
        FastCDC::with_level(source, min, avg, max, Normalization::Level1)
    }

    /// Feeds the next bytes; calls `on_chunk(offset_in_stream, chunk_bytes)` for each chunk
    /// completed. A chunk is cut only once `max` bytes from its start are known, so it is
    /// the chunk FastCDC cuts over the whole stream. An error from `on_chunk` is returned as
    /// is (the chunker must not be used after it).
    pub fn push(&mut self, data: &[u8], on_chunk: &mut OnChunk<'_>) -> Result<()> {
        let max = self.params.max as usize;
        self.carry.extend_from_slice(data);
        if self.carry.len() < max {
            return Ok(());
        }
        let mut pos = 0;
        {
            let cdc = self.cdc(&self.carry);
            while self.carry.len() - pos >= max {
                let (_, end) = cdc.cut(pos, self.carry.len() - pos);
                on_chunk(self.offset + pos as u64, &self.carry[pos..end])?;
                pos = end;
            }
        }
        self.carry.copy_within(pos.., 0);
        self.carry.truncate(self.carry.len() - pos);
        self.offset += pos as u64;
        Ok(())
    }

    /// End of stream: emits the last chunk(s).
    pub fn finish(self, on_chunk: &mut OnChunk<'_>) -> Result<()> {
        let len = self.carry.len();
        if len == 0 {
            return Ok(());
        }
        let cdc = self.cdc(&self.carry);
        let mut pos = 0;
        while pos < len {
            let (_, end) = cdc.cut(pos, len - pos);
            on_chunk(self.offset + pos as u64, &self.carry[pos..end])?;
            pos = end;
        }
        Ok(())
    }
}

/// What an [`Indexer`] saw: the chunk count and the bytes chunked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Indexed {
    /// How many chunks were handed to the sink.
    pub chunks: u64,
    /// How many bytes they cover.
    pub bytes: u64,
}

/// A `Consumer` of `crate::digest::pump`'s blocks that chunks the stream and hashes each
/// chunk with BLAKE3, handing every [`Chunk`] in order to its sink (a vector, or an index
/// file being written), so that an index is made in the same read pass as the SHA-256s.
/// More than [`MAX_CHUNKS`] chunks is an error (the index would be over [`INDEX_CAP`]).
pub struct Indexer<'a> {
    params: Params,
    chunker: Option<Chunker>,
    sink: &'a mut (dyn FnMut(Chunk) -> Result<()> + Send),
    seen: Indexed,
}

impl<'a> Indexer<'a> {
    /// An indexer with sizes `params` (panics if invalid, as [`Chunker::new`]).
    pub fn new(params: Params, sink: &'a mut (dyn FnMut(Chunk) -> Result<()> + Send)) -> Self {
        Indexer {
            params,
            chunker: Some(Chunker::new(params)),
            sink,
            seen: Indexed {
                chunks: 0,
                bytes: 0,
            },
        }
    }

    /// Emits the stream's last chunks; returns what was indexed.
    pub fn finish(mut self) -> Result<Indexed> {
        if let Some(chunker) = self.chunker.take() {
            let (sink, seen, params) = (&mut *self.sink, &mut self.seen, self.params);
            chunker.finish(&mut |offset, bytes| emit(params, sink, seen, offset, bytes))?;
        }
        Ok(self.seen)
    }
}

fn emit(
    params: Params,
    sink: &mut (dyn FnMut(Chunk) -> Result<()> + Send),
    seen: &mut Indexed,
    offset: u64,
    bytes: &[u8],
) -> Result<()> {
    seen.chunks += 1;
    if seen.chunks > MAX_CHUNKS {
        return Err(crate::error::with_remedy(
            Error::Usage(format!(
                "the input makes more than {MAX_CHUNKS} chunks of about {} bytes: its index \
                 would pass the {INDEX_CAP}-byte limit",
                params.avg
            )),
            crate::error::Remedy::LargerChunks,
        ));
    }
    let len = bytes.len() as u32;
    seen.bytes += u64::from(len);
    sink(Chunk {
        offset,
        len,
        hash: hash(bytes),
    })
}

impl Consumer for Indexer<'_> {
    fn block(&mut self, block: &Block) -> Result<()> {
        let Some(chunker) = self.chunker.as_mut() else {
            return Ok(());
        };
        let (sink, seen, params) = (&mut *self.sink, &mut self.seen, self.params);
        chunker.push(block.data(), &mut |offset, bytes| {
            emit(params, sink, seen, offset, bytes)
        })
    }
}

/// The manifest's reference to the index (JSON: `"index": {"name", "size", "sha256"}`), so
/// that whatever authenticates the manifest authenticates the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexRef {
    /// The index file's name, `{stem}.chunks` ([`index_name`]).
    pub name: String,
    /// The index file's size in bytes.
    pub size: u64,
    /// The index file's SHA-256.
    pub sha256: Sha256,
}

impl IndexRef {
    /// Checks untrusted reference data for `asset`: the name is a plain file name equal to
    /// [`index_name`]`(asset)`, and the size fits an index (header to [`INDEX_CAP`]).
    /// Errors with [`Error::Integrity`].
    pub fn validate(&self, asset: &str) -> Result<(), Error> {
        crate::name::validate_file_name("index", &self.name)?;
        let want = index_name(asset);
        if self.name != want {
            return Err(Error::Integrity(format!(
                "the manifest names chunk index {:?}; the index of {asset:?} is {want:?}",
                self.name
            )));
        }
        if self.size < HEADER_LEN as u64 || self.size > INDEX_CAP {
            return Err(Error::Integrity(format!(
                "the manifest gives chunk index {} a size of {} bytes, not {HEADER_LEN} to \
                 {INDEX_CAP}",
                self.name, self.size
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random bytes (xorshift64), with a run of zeros in the middle so
    /// that some chunks are cut at `max` (no content cut point in zeros).
    fn data(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        let mut out: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 32) as u8
            })
            .collect();
        let third = len / 3;
        out[third..third + len / 10].fill(0);
        out
    }

    /// (offset, len) of every chunk fastcdc cuts over the whole slice at once.
    fn whole(bytes: &[u8], p: Params) -> Vec<(u64, u32)> {
        FastCDC::with_level(bytes, p.min, p.avg, p.max, Normalization::Level1)
            .map(|c| (c.offset as u64, c.length as u32))
            .collect()
    }

    fn streamed(bytes: &[u8], p: Params, slices: &[usize]) -> Vec<(u64, u32)> {
        let mut out = Vec::new();
        let mut chunker = Chunker::new(p);
        let mut at = 0;
        let mut each = |offset: u64, chunk: &[u8]| {
            assert_eq!(
                chunk,
                &bytes[offset as usize..offset as usize + chunk.len()]
            );
            out.push((offset, chunk.len() as u32));
            Ok(())
        };
        for &n in slices.iter().cycle() {
            if at == bytes.len() {
                break;
            }
            let end = (at + n).min(bytes.len());
            chunker.push(&bytes[at..end], &mut each).unwrap();
            at = end;
        }
        chunker.finish(&mut each).unwrap();
        out
    }

    #[test]
    fn streaming_cuts_what_fastcdc_cuts_over_the_whole_stream() {
        let small = Params::with_avg(1024).unwrap();
        for (p, len) in [(small, 700_001), (Params::DEFAULT, 3_000_017)] {
            let bytes = data(len, len as u64);
            let expected = whole(&bytes, p);
            assert!(expected.len() > 20, "{} chunks", expected.len());
            assert!(
                expected.iter().any(|&(_, l)| l == p.max),
                "some chunks are cut at max"
            );
            assert!(expected.last().unwrap().1 != p.max);
            for slices in [
                &[1usize, 7, 4095, 65537, 13][..],
                &[64 << 10],
                &[p.max as usize],
                &[p.max as usize - 1, p.max as usize + 1],
                &[len],
                &[3 * p.max as usize + 5, 2],
            ] {
                assert_eq!(streamed(&bytes, p, slices), expected, "slices {slices:?}");
            }
            // A tail under min is the last chunk, as fastcdc cuts it.
            let short = &bytes[..p.max as usize + p.min as usize / 2];
            assert_eq!(streamed(short, p, &[1000]), whole(short, p));
            let tiny = &bytes[..p.min as usize - 1];
            assert_eq!(streamed(tiny, p, &[10]), [(0, p.min - 1)]);
        }
        assert_eq!(streamed(&[], Params::DEFAULT, &[5]), []);
    }

    #[test]
    fn chunk_sizes() {
        assert_eq!(
            Params::with_avg(16 << 10).unwrap(),
            Params {
                min: 4 << 10,
                avg: 16 << 10,
                max: 64 << 10
            }
        );
        assert_eq!(Params::with_avg(16 << 10).unwrap(), Params::DEFAULT);
        assert!(Params::with_avg(256).is_ok());
        assert!(Params::with_avg(4 << 20).is_ok());
        for bad in [0, 128, 255, 300, 24 << 10, 8 << 20, u32::MAX] {
            let err = Params::with_avg(bad).unwrap_err();
            assert!(matches!(err, Error::Usage(_)), "{bad}: {err}");
        }
        assert_eq!(
            index_name("voicebox-server-cuda.exe"),
            "voicebox-server-cuda.chunks"
        );
        assert_eq!(index_name("a"), "a.chunks");
    }

    fn sample() -> (Vec<u8>, Index) {
        let bytes = data(200_003, 9);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("asset");
        std::fs::write(&path, &bytes).unwrap();
        let p = Params::with_avg(1024).unwrap();
        let index = Index::of_file(&path, p, &Cancel::new()).unwrap();
        (bytes, index)
    }

    #[test]
    fn an_index_of_a_file_covers_it_and_round_trips() {
        let (bytes, index) = sample();
        assert_eq!(index.size, bytes.len() as u64);
        assert_eq!(index.sha256, Sha256::of(&bytes));
        let cuts = whole(&bytes, index.params);
        assert_eq!(index.chunks.len(), cuts.len());
        for (c, (offset, len)) in index.chunks.iter().zip(cuts) {
            assert_eq!((c.offset, c.len), (offset, len));
            let range = &bytes[offset as usize..(offset + u64::from(len)) as usize];
            assert_eq!(c.hash, *blake3::hash(range).as_bytes());
        }
        let encoded = index.to_bytes();
        assert_eq!(
            encoded.len(),
            HEADER_LEN + ENTRY_LEN * index.chunks.len(),
            "the documented layout"
        );
        assert_eq!(&encoded[..12], b"VXCHUNKS\x01\x00\x01\x01");
        let parsed = Index::parse(&encoded).unwrap();
        assert_eq!(parsed, index);
        // One allocation, sized by the input.
        assert_eq!(parsed.chunks.capacity(), parsed.chunks.len());
        let r = index.reference("a.exe");
        assert_eq!(r.name, "a.chunks");
        assert_eq!(
            (r.size, r.sha256),
            (encoded.len() as u64, Sha256::of(&encoded))
        );
        r.validate("a.exe").unwrap();

        let empty = Index {
            params: Params::DEFAULT,
            size: 0,
            sha256: Sha256::of(b""),
            chunks: Vec::new(),
        };
        assert_eq!(Index::parse(&empty.to_bytes()).unwrap(), empty);
    }

    #[test]
    fn malformed_indexes_are_refused_naming_the_problem() {
        let (_, index) = sample();
        let good = index.to_bytes();
        let n = index.chunks.len();
        let entry_at = |i: usize| HEADER_LEN + i * ENTRY_LEN;
        let set_u32 =
            |b: &mut Vec<u8>, at: usize, v: u32| b[at..at + 4].copy_from_slice(&v.to_le_bytes());
        let set_u64 =
            |b: &mut Vec<u8>, at: usize, v: u64| b[at..at + 8].copy_from_slice(&v.to_le_bytes());
        type Break = Box<dyn Fn(&mut Vec<u8>)>;
        let cases: Vec<(&str, Break)> = vec![
            ("magic", Box::new(|b| b[0] = b'X')),
            ("magic", Box::new(|b| b.truncate(5))),
            ("truncated at 8 bytes", Box::new(|b| b.truncate(8))),
            ("truncated", Box::new(|b| b.truncate(9))),
            (
                "truncated at 10 bytes, inside its 72-byte header",
                Box::new(|b| b.truncate(10)),
            ),
            ("version 2", Box::new(|b| b[8] = 2)),
            ("version 257", Box::new(|b| b[9] = 1)),
            ("truncated", Box::new(|b| b.truncate(HEADER_LEN - 1))),
            ("chunker id 2", Box::new(|b| b[10] = 2)),
            ("hash id 0", Box::new(|b| b[11] = 0)),
            ("odd", Box::new(move |b| set_u32(b, 12, 257))),
            ("outside", Box::new(move |b| set_u32(b, 12, 32))),
            ("power of two", Box::new(move |b| set_u32(b, 16, 1000))),
            ("in order", Box::new(move |b| set_u32(b, 12, 2048))),
            ("in order", Box::new(move |b| set_u32(b, 16, 8192))),
            ("outside", Box::new(move |b| set_u32(b, 20, 32 << 20))),
            ("bytes long", Box::new(|b| b.truncate(b.len() - 1))),
            ("bytes long", Box::new(|b| b.push(0))),
            (
                "bytes long",
                Box::new(move |b| set_u64(b, 64, n as u64 + 1)),
            ),
            (
                "bytes long",
                Box::new(move |b| set_u64(b, 64, n as u64 - 1)),
            ),
            (
                "chunk 0 is 0 bytes",
                Box::new(move |b| set_u32(b, entry_at(0), 0)),
            ),
            ("not 1 to", Box::new(move |b| set_u32(b, entry_at(1), 4097))),
            (
                "under the minimum",
                Box::new(move |b| set_u32(b, entry_at(2), 255)),
            ),
            (
                "asset is",
                Box::new(move |b| set_u64(b, 24, index.size + 1)),
            ),
            ("past the asset", Box::new(move |b| set_u64(b, 24, 1000))),
            (
                "no chunks listed",
                Box::new(move |b| {
                    b.truncate(HEADER_LEN);
                    set_u64(b, 64, 0);
                }),
            ),
        ];
        for (what, f) in cases {
            let mut bytes = good.clone();
            f(&mut bytes);
            let err = Index::parse(&bytes).unwrap_err();
            assert!(matches!(err, Error::Integrity(_)), "{what}: {err}");
            assert!(err.to_string().contains(what), "{what}: {err}");
            let table = Table::parse(bytes).unwrap_err();
            assert_eq!(table.to_string(), err.to_string(), "{what}");
        }
        let mut v2 = good.clone();
        v2[8] = 2;
        assert_eq!(
            Index::parse(&v2).unwrap_err().to_string(),
            "unknown chunk index version 2: this voxctl reads version 1; upgrade voxctl to use \
             this release's index"
        );
        // The last chunk, and only the last, may be under min.
        let p = Params::with_avg(1024).unwrap();
        let mut tail = header(p, 257, &Sha256::of(b"x"), 2).to_vec();
        tail.extend_from_slice(&entry(256, &[1; 32]));
        tail.extend_from_slice(&entry(1, &[2; 32]));
        assert_eq!(Index::parse(&tail).unwrap().chunks[1].offset, 256);
    }

    /// The compact table answers exactly what the index does, for every chunk (across and
    /// inside offset groups, the last one partial), and keeps 36 bytes a chunk.
    #[test]
    fn a_table_reads_every_chunk_as_the_index_does() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("asset");
        std::fs::write(&path, data(200_003, 11)).unwrap();
        let p = Params::with_avg(256).unwrap();
        let index = Index::of_file(&path, p, &Cancel::new()).unwrap();
        assert!(index.chunks.len() > 3 * GROUP, "{}", index.chunks.len());
        assert!(!index.chunks.len().is_multiple_of(GROUP));
        let table = Table::from(&index);
        assert_eq!(
            (table.params, table.size, table.sha256, table.len()),
            (index.params, index.size, index.sha256, index.chunks.len())
        );
        assert_eq!(table.iter().collect::<Vec<_>>(), index.chunks);
        for (id, c) in index.chunks.iter().enumerate() {
            assert_eq!(table.chunk(id), *c, "chunk {id}");
            assert_eq!((table.chunk_len(id), table.hash(id)), (c.len, &c.hash));
        }
        assert_eq!(
            table.bytes.capacity(),
            HEADER_LEN + ENTRY_LEN * index.chunks.len()
        );
        assert_eq!(table.starts.len(), index.chunks.len().div_ceil(GROUP));
        assert_eq!(
            table.starts.capacity(),
            table.starts.len(),
            "one allocation"
        );
        let empty = Table::parse(header(Params::DEFAULT, 0, &Sha256::of(b""), 0).to_vec()).unwrap();
        assert!(empty.is_empty() && empty.iter().next().is_none());
        assert!(!table.is_empty());
    }

    #[test]
    fn a_huge_chunk_count_in_a_tiny_file_is_refused_before_any_allocation() {
        // Were the count trusted, `Vec::with_capacity` would ask for 2^45 x 48 bytes and abort
        // the test process; an overflowing count must not wrap into a plausible length.
        for count in [1u64 << 45, u64::MAX / 36 + 1, u64::MAX] {
            let mut bytes = header(Params::DEFAULT, 1 << 50, &Sha256::of(b"x"), count).to_vec();
            bytes.extend_from_slice(&entry(100, &[0; 32]));
            let err = Index::parse(&bytes).unwrap_err();
            assert!(err.to_string().contains("bytes long"), "{count}: {err}");
        }
        let over = vec![0u8; INDEX_CAP as usize + 1];
        let mut over = over;
        over[..8].copy_from_slice(&MAGIC);
        assert!(Index::parse(&over)
            .unwrap_err()
            .to_string()
            .contains("limit"));
        // Exactly the cap is not over it: refused (version 0) for what it says, not its size.
        over.pop();
        let at_cap = Index::parse(&over).unwrap_err().to_string();
        assert!(at_cap.contains("version 0"), "{at_cap}");
        // A file over the cap is read one byte past it, which is refused as over the limit.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.chunks");
        let file = std::fs::File::create(&path).unwrap();
        std::io::Write::write_all(&mut &file, &MAGIC).unwrap();
        file.set_len(INDEX_CAP + 1).unwrap();
        let err = format!("{:#}", Index::read(&path).unwrap_err());
        assert!(err.contains("over the 67108864-byte limit"), "{err}");
    }

    #[test]
    fn the_chunk_limit_is_as_many_chunks_as_fit_in_the_index_cap() {
        let bytes_for = |chunks: u64| HEADER_LEN as u64 + chunks * ENTRY_LEN as u64;
        assert!(bytes_for(MAX_CHUNKS) <= INDEX_CAP);
        assert!(bytes_for(MAX_CHUNKS + 1) > INDEX_CAP);
    }

    #[test]
    fn sizes_may_be_equal_but_not_out_of_order() {
        let equal = Params {
            min: 1024,
            avg: 1024,
            max: 1024,
        };
        equal.validate().unwrap();
        let avg_over_max = Params {
            min: 256,
            avg: 2048,
            max: 1024,
        };
        let err = avg_over_max.validate().unwrap_err().to_string();
        assert!(err.contains("not in order"), "{err}");
    }

    /// The carry buffer holds less than `max` bytes after every push, whatever the slices:
    /// what makes the chunker's memory bounded.
    #[test]
    fn a_chunker_carries_less_than_max_bytes_between_pushes() {
        let p = Params::with_avg(1024).unwrap();
        let max = p.max as usize;
        let bytes = data(100_000, 5);
        let mut chunker = Chunker::new(p);
        let mut each = |_: u64, _: &[u8]| Ok(());
        let mut at = 0;
        for &n in [max, 1, max - 1, 3 * max, 17].iter().cycle() {
            if at == bytes.len() {
                break;
            }
            let end = (at + n).min(bytes.len());
            chunker.push(&bytes[at..end], &mut each).unwrap();
            at = end;
            assert!(
                chunker.carry.len() < max,
                "{} bytes carried",
                chunker.carry.len()
            );
            assert_eq!(chunker.offset + chunker.carry.len() as u64, at as u64);
        }
    }

    #[test]
    fn an_indexer_stops_past_the_chunk_limit() {
        let mut sink = |_: Chunk| Ok(());
        let mut indexer = Indexer::new(Params::with_avg(256).unwrap(), &mut sink);
        indexer.seen.chunks = MAX_CHUNKS - 1;
        let p = indexer.params;
        emit(p, indexer.sink, &mut indexer.seen, 0, b"abc").unwrap();
        let err = emit(p, indexer.sink, &mut indexer.seen, 3, b"def").unwrap_err();
        assert_eq!(
            crate::error::remedy_of(&err),
            Some(crate::error::Remedy::LargerChunks),
            "{err}"
        );
    }

    #[test]
    fn index_references_are_checked() {
        let r = IndexRef {
            name: "a.chunks".into(),
            size: 108,
            sha256: Sha256::of(b"x"),
        };
        r.validate("a.exe").unwrap();
        // The bounds are inclusive: an empty asset's index is its 72-byte header.
        for size in [HEADER_LEN as u64, INDEX_CAP] {
            IndexRef { size, ..r.clone() }.validate("a").unwrap();
        }
        for (bad, asset) in [
            (
                IndexRef {
                    name: "../a.chunks".into(),
                    ..r.clone()
                },
                "a.exe",
            ),
            (
                IndexRef {
                    name: "b.chunks".into(),
                    ..r.clone()
                },
                "a.exe",
            ),
            (r.clone(), "b"),
            (
                IndexRef {
                    size: 71,
                    ..r.clone()
                },
                "a",
            ),
            (
                IndexRef {
                    size: INDEX_CAP + 1,
                    ..r.clone()
                },
                "a",
            ),
        ] {
            assert!(bad.validate(asset).is_err(), "{bad:?} for {asset}");
        }
    }
}
