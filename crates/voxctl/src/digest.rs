//! The streaming engine behind `split` and `verify` (docs/contract.md, invariant 6: bounded
//! memory).
//!
//! [`pump`] reads a sequence of byte ranges ([`Segment`]s: a whole file, a range of one, or
//! the parts of a split asset in order) into a small ring of reusable buffers, on the calling
//! thread, and hands every buffer to each [`Consumer`] on its own thread. So the whole-file
//! hash, the per-part hashes and the part writer run side by side on different cores while
//! each byte is read once, and memory stays at [`RING_BLOCKS`] x [`BLOCK_SIZE`] whatever the
//! input size. A buffer never straddles two segments, and the last buffer of each segment is
//! flagged, so a consumer can finish a part's hash (or file) exactly at its end.
//!
//! sha2 0.10 detects the CPU's SHA extensions (SHA-NI, ARMv8 SHA2) at run time.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use anyhow::{anyhow, Context, Result};
use sha2::Digest;

use crate::cancel::Cancel;
use crate::checksum::Sha256;
use crate::Error;

/// The size of one buffer of the ring, in bytes (64 KiB: small enough that a buffer is still
/// in the shared cache when the hashers read it).
pub const BLOCK_SIZE: usize = 64 << 10;
/// How many buffers the ring holds at most; peak buffer memory is
/// `RING_BLOCKS * BLOCK_SIZE` = 2 MiB.
pub const RING_BLOCKS: usize = 32;
/// How many buffers must be free again before a reader that ran out is woken (a quarter of
/// the ring).
const RING_REFILL: usize = RING_BLOCKS / 4;

/// A byte range of an open file: `len` bytes from `start`.
#[derive(Debug)]
pub struct Segment {
    /// The file, opened for reading (several segments may share one through `try_clone`).
    pub file: File,
    /// Where the file is, for error messages.
    pub path: PathBuf,
    /// The first byte of the range.
    pub start: u64,
    /// The range's length in bytes.
    pub len: u64,
}

impl Segment {
    /// The whole of the file at `path`, opened now; its length is its current size. Only a
    /// regular file is read ([`crate::checked_open::open_regular`]: a FIFO neither blocks the
    /// open nor is read, and is an `InvalidInput` error saying what it is).
    pub fn whole(path: &Path) -> io::Result<Segment> {
        let file = crate::checked_open::open_regular(path)?;
        let len = file.metadata()?.len();
        Ok(Segment {
            file,
            path: path.to_path_buf(),
            start: 0,
            len,
        })
    }
}

/// One buffer of data handed to the consumers.
#[derive(Debug)]
pub struct Block {
    /// The index of the segment the data belongs to.
    pub segment: usize,
    /// Where the data starts within its segment, in bytes.
    pub offset: u64,
    /// Whether this is the segment's last block (an empty segment gets one empty block).
    pub last: bool,
    buf: Vec<u8>,
    len: usize,
    ring: Arc<Ring>,
}

impl Block {
    /// The bytes read.
    pub fn data(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        self.ring.give_back(std::mem::take(&mut self.buf));
    }
}

/// The free buffers of the ring. The reader, once every buffer is out, sleeps until
/// [`RING_REFILL`] of them are free again rather than waking for each one, so the reader
/// and the consumers run in bursts instead of switching on every block.
#[derive(Debug, Default)]
struct Ring {
    free: Mutex<Vec<Vec<u8>>>,
    refilled: Condvar,
}

impl Ring {
    fn give_back(&self, buf: Vec<u8>) {
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        free.push(buf);
        if free.len() == RING_REFILL {
            self.refilled.notify_one();
        }
    }

    /// A free buffer, waiting for [`RING_REFILL`] of them if none is free. Buffers always
    /// come back: every one not free belongs to a [`Block`], which consumers drop once done
    /// (or drop unseen when they stop).
    fn take(&self) -> Vec<u8> {
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        if free.is_empty() {
            free = self
                .refilled
                .wait_while(free, |f| f.len() < RING_REFILL)
                .unwrap_or_else(PoisonError::into_inner);
        }
        free.pop().unwrap_or_default()
    }
}

/// Something that takes the stream of blocks on its own thread.
pub trait Consumer: Send {
    /// Takes the next block, in order. An error stops the whole pump.
    fn block(&mut self, block: &Block) -> Result<()>;

    /// The index of the first segment this consumer wants; blocks of earlier segments are
    /// not sent to it at all (so its thread is not woken for them). 0 unless overridden.
    fn first_wanted(&self) -> usize {
        0
    }
}

/// Reads `segments` in order and feeds every block to every consumer, each on its own
/// thread; `progress` is called on the reading thread with the number of bytes of each
/// block read. Returns when every consumer has seen every block.
///
/// Errors: a read error names the file; a file that ends before its segment does is
/// [`Error::Integrity`] (it changed while being read); once `cancel` is cancelled (checked
/// before each block), [`Error::Interrupted`]; otherwise the first consumer error.
pub fn pump(
    segments: &[Segment],
    consumers: &mut [&mut dyn Consumer],
    progress: &(dyn Fn(u64) + Sync),
    cancel: &Cancel,
) -> Result<()> {
    std::thread::scope(|scope| {
        let mut senders = Vec::with_capacity(consumers.len());
        let mut handles = Vec::with_capacity(consumers.len());
        for consumer in consumers.iter_mut() {
            let (tx, rx) = mpsc::channel::<Arc<Block>>();
            senders.push((consumer.first_wanted(), tx));
            handles.push(scope.spawn(move || -> Result<()> {
                for block in rx {
                    consumer.block(&block)?;
                }
                Ok(())
            }));
        }
        let read = read_into(segments, &senders, progress, cancel);
        drop(senders);
        let mut first_err = None;
        for handle in handles {
            let outcome = handle
                .join()
                .unwrap_or_else(|_| Err(anyhow!("a hashing thread panicked")));
            if let Err(e) = outcome {
                first_err.get_or_insert(e);
            }
        }
        match (read, first_err) {
            // A consumer that failed makes the reader see a closed channel: report the cause.
            (Err(ReadStop::ConsumerGone), Some(e)) | (Ok(()), Some(e)) => Err(e),
            (Err(ReadStop::ConsumerGone), None) => Err(anyhow!("a hashing thread stopped")),
            (Err(ReadStop::Failed(e)), _) => Err(e),
            (Ok(()), None) => Ok(()),
        }
    })
}

enum ReadStop {
    ConsumerGone,
    Failed(anyhow::Error),
}

fn read_into(
    segments: &[Segment],
    senders: &[(usize, mpsc::Sender<Arc<Block>>)],
    progress: &(dyn Fn(u64) + Sync),
    cancel: &Cancel,
) -> Result<(), ReadStop> {
    let ring = Arc::new(Ring::default());
    let mut allocated = 0;
    for (index, seg) in segments.iter().enumerate() {
        let mut done = 0u64;
        loop {
            cancel.check().map_err(|e| ReadStop::Failed(e.into()))?;
            let mut buf = if allocated < RING_BLOCKS {
                allocated += 1;
                vec![0u8; BLOCK_SIZE]
            } else {
                ring.take()
            };
            let want = usize::try_from(seg.len - done).map_or(BLOCK_SIZE, |r| r.min(BLOCK_SIZE));
            fill(seg, done, &mut buf[..want]).map_err(ReadStop::Failed)?;
            let offset = done;
            done += want as u64;
            progress(want as u64);
            let block = Arc::new(Block {
                segment: index,
                offset,
                last: done == seg.len,
                buf,
                len: want,
                ring: ring.clone(),
            });
            for (_, tx) in senders.iter().filter(|(first, _)| index >= *first) {
                tx.send(block.clone()).map_err(|_| ReadStop::ConsumerGone)?;
            }
            if done == seg.len {
                break;
            }
        }
    }
    Ok(())
}

/// Fills `buf` from `seg` at `done` bytes into the segment, with positional reads.
fn fill(seg: &Segment, done: u64, buf: &mut [u8]) -> Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        let at = seg.start + done + filled as u64;
        match crate::platform::read_at(&seg.file, &mut buf[filled..], at) {
            Ok(0) => {
                return Err(Error::Integrity(format!(
                    "{} ended at byte {at}, before the expected {} bytes: it changed while \
                     being read",
                    seg.path.display(),
                    seg.start + seg.len
                ))
                .into())
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", seg.path.display())),
        }
    }
    Ok(())
}

/// A consumer that hashes everything it is given, across segments: the whole-file SHA-256.
///
/// It also yields the first segment's own SHA-256 for free: SHA-256 processes its input in
/// order from a fixed initial state, so the whole file's hasher, cloned at the end of the
/// first segment and finalized, is exactly that segment's digest. A split release therefore
/// needs only the later parts hashed a second time ([`SegmentHasher::starting_at`]`(1)`), which
/// for 1.9 GB parts of a 2.4 GB asset removes most of the second hash's work.
#[derive(Debug, Default)]
pub struct WholeHasher {
    hasher: sha2::Sha256,
    bytes: u64,
    first: Option<(Sha256, u64)>,
}

impl WholeHasher {
    /// The digest and byte count of everything seen.
    pub fn finish(self) -> (Sha256, u64) {
        (Sha256(self.hasher.finalize().into()), self.bytes)
    }

    /// The digest and byte count of the first segment, once it has been seen whole.
    pub fn first_segment(&self) -> Option<(Sha256, u64)> {
        self.first
    }
}

impl Consumer for WholeHasher {
    fn block(&mut self, block: &Block) -> Result<()> {
        self.hasher.update(block.data());
        self.bytes += block.data().len() as u64;
        if block.segment == 0 && block.last {
            self.first = Some((Sha256(self.hasher.clone().finalize().into()), self.bytes));
        }
        Ok(())
    }
}

/// A consumer that hashes each segment on its own: the per-part SHA-256s.
#[derive(Debug, Default)]
pub struct SegmentHasher {
    from: usize,
    hasher: sha2::Sha256,
    bytes: u64,
    done: Vec<(Sha256, u64)>,
}

impl SegmentHasher {
    /// A hasher that ignores the segments before `from` (see [`WholeHasher`] for why).
    pub fn starting_at(from: usize) -> SegmentHasher {
        SegmentHasher {
            from,
            ..SegmentHasher::default()
        }
    }

    /// The digest and byte count of each segment from the first one hashed, in order.
    pub fn finish(self) -> Vec<(Sha256, u64)> {
        self.done
    }
}

impl Consumer for SegmentHasher {
    fn first_wanted(&self) -> usize {
        self.from
    }

    fn block(&mut self, block: &Block) -> Result<()> {
        self.hasher.update(block.data());
        self.bytes += block.data().len() as u64;
        if block.last {
            let digest = Sha256(self.hasher.finalize_reset().into());
            self.done.push((digest, std::mem::take(&mut self.bytes)));
        }
        Ok(())
    }
}

/// A SHA-256 and the number of bytes it covers.
pub type Digested = (Sha256, u64);

/// Streams `segments` once and returns the whole SHA-256 and byte count, and each segment's
/// SHA-256 and byte count: the first from the whole hasher's state, the others from a second
/// hasher on another thread. `extra` consumers (a part writer) see the same blocks. Errors
/// as [`pump`].
pub fn hash_segments(
    segments: &[Segment],
    extra: &mut [&mut dyn Consumer],
    progress: &(dyn Fn(u64) + Sync),
    cancel: &Cancel,
) -> Result<(Digested, Vec<Digested>)> {
    let (mut whole, mut rest) = (WholeHasher::default(), SegmentHasher::starting_at(1));
    {
        let mut consumers: Vec<&mut dyn Consumer> = vec![&mut whole];
        if segments.len() > 1 {
            consumers.push(&mut rest);
        }
        for c in extra.iter_mut() {
            consumers.push(&mut **c);
        }
        pump(segments, &mut consumers, progress, cancel)?;
    }
    let first = whole.first_segment();
    let mut each: Vec<Digested> = first.into_iter().collect();
    each.extend(rest.finish());
    Ok((whole.finish(), each))
}

/// Hashes the file at `path` (reader and hasher on two threads); returns its SHA-256 and
/// size in bytes. Errors as [`pump`]; an open error keeps its `io::Error` in the chain.
pub fn hash_file(
    path: &Path,
    progress: &(dyn Fn(u64) + Sync),
    cancel: &Cancel,
) -> Result<(Sha256, u64)> {
    let seg = Segment::whole(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut whole = WholeHasher::default();
    pump(&[seg], &mut [&mut whole], progress, cancel)?;
    Ok(whole.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    #[test]
    fn whole_and_segment_hashes_match_one_shot_digests() {
        // More than the ring holds, and segment lengths that are not block multiples.
        let data: Vec<u8> = (0..(RING_BLOCKS * BLOCK_SIZE + 12_345))
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let f = file_with(&data);
        let cuts = [0, 1, BLOCK_SIZE + 3, BLOCK_SIZE + 3, data.len()];
        let segments: Vec<Segment> = cuts
            .windows(2)
            .map(|w| Segment {
                file: f.reopen().unwrap(),
                path: f.path().into(),
                start: w[0] as u64,
                len: (w[1] - w[0]) as u64,
            })
            .collect();
        let (mut whole, mut parts) = (WholeHasher::default(), SegmentHasher::default());
        let seen = std::sync::atomic::AtomicU64::new(0);
        let progress = |n| {
            seen.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        };
        pump(
            &segments,
            &mut [&mut whole, &mut parts],
            &progress,
            &Cancel::new(),
        )
        .unwrap();
        let expected: Vec<_> = cuts
            .windows(2)
            .map(|w| (Sha256::of(&data[w[0]..w[1]]), (w[1] - w[0]) as u64))
            .collect();
        assert_eq!(whole.first_segment(), Some(expected[0]));
        assert_eq!(whole.finish(), (Sha256::of(&data), data.len() as u64));
        assert_eq!(parts.finish(), expected, "including the empty segment");
        assert_eq!(seen.into_inner(), data.len() as u64);

        // The same through hash_segments, whose first part comes from the whole hasher.
        let (all, each) = hash_segments(&segments[1..], &mut [], &|_| {}, &Cancel::new()).unwrap();
        assert_eq!(each, expected[1..]);
        assert_eq!(all, (Sha256::of(&data[1..]), data.len() as u64 - 1));
        let one = &segments[3..];
        let (all, each) = hash_segments(one, &mut [], &|_| {}, &Cancel::new()).unwrap();
        assert_eq!(each, [all], "a single part is the whole");
    }

    #[test]
    fn a_short_file_is_an_integrity_error() {
        let f = file_with(b"abc");
        let seg = Segment {
            file: f.reopen().unwrap(),
            path: f.path().into(),
            start: 0,
            len: 10,
        };
        let err = pump(
            &[seg],
            &mut [&mut WholeHasher::default()],
            &|_| {},
            &Cancel::new(),
        )
        .unwrap_err();
        assert!(
            matches!(Error::find(&err), Some(Error::Integrity(_))),
            "{err:#}"
        );
    }

    struct Failing(usize);
    impl Consumer for Failing {
        fn block(&mut self, _: &Block) -> Result<()> {
            self.0 += 1;
            if self.0 == 3 {
                anyhow::bail!("disk full");
            }
            Ok(())
        }
    }

    #[test]
    fn a_failing_consumer_stops_the_pump_with_its_error() {
        let f = file_with(&vec![1u8; BLOCK_SIZE * (RING_BLOCKS + 4)]);
        let seg = Segment::whole(f.path()).unwrap();
        let mut whole = WholeHasher::default();
        let err = pump(
            &[seg],
            &mut [&mut whole, &mut Failing(0)],
            &|_| {},
            &Cancel::new(),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "disk full");
    }
}
