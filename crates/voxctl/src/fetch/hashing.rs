//! SHA-256 off the receive path. A part task hands each chunk it has written to a
//! [`PartHasher`], whose own thread does the hashing, so receiving and writing (one core)
//! and hashing (another) overlap; the chunks are reference-counted `Bytes`, passed without a
//! copy through a bounded channel (at most 8 (`QUEUE`) chunks in flight per part, so memory
//! stays bounded when hashing is the slower side).
//!
//! Which parts are hashed while they download: part 0 always (its hash state is also the
//! prefix of the whole-file SHA-256, so its bytes are hashed once for both checks), and any
//! other part whose release gives it its own SHA-256. The rest of the whole-file digest
//! (parts 1..) is computed after part 0 is complete, from the page cache
//! ([`hash_span`], called by [`super::install::verify`]).
//!
//! A differential fetch hashes the whole file on one thread of its own instead
//! ([`PrefixHasher`]), following the verified prefix as chunks arrive in any order.
//!
//! With an asset signature to check, the same buffers also go to a [`Prehash`] (the
//! BLAKE2b on its own thread): part 0's hash thread passes each chunk on (a clone of the
//! `Bytes`, no copy) before hashing it, and [`hash_span`] passes on each buffer it reads.

use std::sync::Arc;

use anyhow::{Context, Result};
use bytes::Bytes;
use sha2::Digest;
use tokio::sync::{mpsc, oneshot};

use super::partial::DataFile;
use super::signed::Prehash;
use crate::cancel::Cancel;

/// Chunks queued per part between the part task and its hash thread.
const QUEUE: usize = 8;
/// Read size when hashing bytes already on disk, in bytes.
const READ_BUFFER: usize = 1 << 20;

/// The SHA-256 of one part, computed on its own thread.
pub struct PartHasher {
    /// `None` for a part that is not hashed.
    tx: Option<mpsc::Sender<Bytes>>,
    result: Option<oneshot::Receiver<Result<Hashed>>>,
}

/// A hashed part's result.
pub struct Hashed {
    /// The SHA-256 state after every byte of the part.
    pub sha256: sha2::Sha256,
    /// The asset signature's check, fed the same bytes (part 0 of a release signed that
    /// way), still running: the whole-file pass feeds it the rest.
    pub prehash: Option<Prehash>,
}

impl PartHasher {
    /// Starts hashing part `index` of `data`: first the `prefix` bytes already on disk
    /// (a resume), then every chunk [`fed`](Self::feed) to it, passing each on to `prehash`
    /// too when given. With `enabled == false` nothing is hashed and
    /// [`finish`](Self::finish) returns `None`. Hashing the prefix stops with
    /// [`crate::Error::Interrupted`] once `cancel` is cancelled.
    pub fn start(
        data: Arc<DataFile>,
        index: usize,
        prefix: u64,
        enabled: bool,
        mut prehash: Option<Prehash>,
        cancel: Cancel,
    ) -> Result<Self> {
        if !enabled {
            return Ok(PartHasher {
                tx: None,
                result: None,
            });
        }
        let (tx, mut rx) = mpsc::channel::<Bytes>(QUEUE);
        let (done, result) = oneshot::channel();
        std::thread::Builder::new()
            .name(format!("sha256-part{index}"))
            .spawn(move || {
                let mut run = || -> Result<Hashed> {
                    let mut hasher = sha2::Sha256::new();
                    let offset = data.offset(index);
                    hash_span(
                        &data,
                        offset,
                        prefix,
                        &mut hasher,
                        prehash.as_mut(),
                        &cancel,
                    )?;
                    while let Some(chunk) = rx.blocking_recv() {
                        if let Some(p) = prehash.as_mut() {
                            p.feed(chunk.clone());
                        }
                        hasher.update(&chunk);
                    }
                    Ok(Hashed {
                        sha256: hasher,
                        prehash: prehash.take(),
                    })
                };
                let _ = done.send(run());
            })
            .context("cannot start a hashing thread")?;
        Ok(PartHasher {
            tx: Some(tx),
            result: Some(result),
        })
    }

    /// Queues `chunk` (the part's next bytes) for hashing; waits while the queue is full.
    pub async fn feed(&mut self, chunk: Bytes) -> Result<()> {
        if let Some(tx) = &self.tx {
            if tx.send(chunk).await.is_err() {
                // The thread stopped early: its error says why.
                self.tx = None;
                return Err(self.result().await.err().unwrap_or_else(|| {
                    anyhow::anyhow!("the hashing thread stopped before the part ended")
                }));
            }
        }
        Ok(())
    }

    /// Waits for the thread and returns the hash state after every byte fed, with the
    /// prehash it fed (`None` when the part is not hashed).
    pub async fn finish(mut self) -> Result<Option<Hashed>> {
        self.tx = None; // closes the channel: the thread drains it and ends
        if self.result.is_none() {
            return Ok(None);
        }
        self.result().await.map(Some)
    }

    async fn result(&mut self) -> Result<Hashed> {
        let rx = self.result.take().context("hash result already taken")?;
        rx.await.context("the hashing thread failed")?
    }
}

/// Feeds `len` bytes of `data` from `offset` into `hasher`, reading from the file (the page
/// cache, when the bytes were just written), and each buffer read to `prehash` too when
/// given (a fresh buffer per read then, handed over without a copy). Stops with
/// [`crate::Error::Interrupted`] once `cancel` is cancelled.
pub fn hash_span(
    data: &DataFile,
    offset: u64,
    len: u64,
    hasher: &mut sha2::Sha256,
    mut prehash: Option<&mut Prehash>,
    cancel: &Cancel,
) -> Result<()> {
    let mut buf = vec![0u8; READ_BUFFER.min(len as usize)];
    let mut done = 0u64;
    while done < len {
        cancel.check()?;
        let n = buf.len().min((len - done) as usize);
        match prehash.as_deref_mut() {
            Some(p) => {
                let mut fresh = vec![0u8; n];
                data.read_at(&mut fresh, offset + done)?;
                let chunk = Bytes::from(fresh);
                p.feed(chunk.clone());
                hasher.update(&chunk);
            }
            None => {
                data.read_at(&mut buf[..n], offset + done)?;
                hasher.update(&buf[..n]);
            }
        }
        done += n as u64;
    }
    Ok(())
}

/// The whole-file SHA-256 of a differential fetch, computed on its own thread while the
/// chunks arrive: chunks are verified out of order (seeds, ranges side by side), and the
/// thread hashes each run that joins the verified prefix of the file
/// ([`DataFile::wait_prefix`]) as soon as it does, from the data file (the page cache: the
/// bytes were just written). A verified chunk is never written again, so the bytes hashed
/// are the bytes installed. With an asset signature, the same buffers go to its
/// [`Prehash`].
pub struct PrefixHasher {
    data: Arc<DataFile>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<Result<(Hashed, u64)>>>,
}

impl PrefixHasher {
    /// Starts following the verified chunks of tracking `generation` of `data`, whose
    /// chunks are `index`'s.
    pub fn start(
        data: Arc<DataFile>,
        generation: u64,
        index: Arc<crate::chunks::Table>,
        mut prehash: Option<Prehash>,
        cancel: Cancel,
    ) -> Result<Self> {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let thread = {
            let (data, stop) = (data.clone(), stop.clone());
            std::thread::Builder::new()
                .name("sha256-prefix".into())
                .spawn(move || -> Result<(Hashed, u64)> {
                    let mut sha256 = sha2::Sha256::new();
                    let (mut next, mut at) = (0usize, 0u64);
                    while next < index.len() {
                        let Some(end) = data.wait_prefix(generation, next, &stop) else {
                            break;
                        };
                        let len: u64 = (next..end).map(|i| u64::from(index.chunk_len(i))).sum();
                        hash_span(&data, at, len, &mut sha256, prehash.as_mut(), &cancel)?;
                        (next, at) = (end, at + len);
                    }
                    Ok((Hashed { sha256, prehash }, at))
                })
                .context("cannot start the hashing thread")?
        };
        Ok(PrefixHasher {
            data,
            stop,
            thread: Some(thread),
        })
    }

    /// Hashes what is verified now and returns the hash state with the bytes it covers
    /// (the whole file once every chunk is verified; the rest is for the caller to hash).
    pub fn finish(mut self) -> Result<(Hashed, u64)> {
        self.stop.store(true, std::sync::atomic::Ordering::Release);
        self.data.wake();
        let thread = self.thread.take().context("hash result already taken")?;
        thread
            .join()
            .map_err(|_| anyhow::anyhow!("the hashing thread panicked"))?
    }
}

impl Drop for PrefixHasher {
    /// Stops the thread (without waiting for it) when the fetch ends otherwise.
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Release);
        self.data.wake();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum::Sha256;
    use crate::chunks::{Chunk, Index, Params, Table};
    use crate::fetch::layout::{Layout, Part, Plan};
    use crate::fetch::partial::Partial;
    use crate::installs::BackendsDir;

    /// Waits (up to 30 s) for `hasher`'s thread to end without being asked to.
    fn ends_alone(hasher: &PrefixHasher) {
        let thread = hasher.thread.as_ref().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !thread.is_finished() {
            assert!(
                std::time::Instant::now() < deadline,
                "the hasher never ended"
            );
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    #[test]
    fn the_prefix_hasher_follows_chunks_verified_out_of_order() {
        // Six 1 MiB chunks and a short tail, in one part.
        let lens: Vec<u32> = [vec![1 << 20; 6], vec![12_345]].concat();
        let size: u64 = lens.iter().map(|&l| u64::from(l)).sum();
        let bytes: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
        let mut offset = 0;
        let chunks = lens
            .iter()
            .map(|&len| {
                let c = Chunk {
                    offset,
                    len,
                    hash: [0; 32],
                };
                offset += u64::from(len);
                c
            })
            .collect();
        let index = Arc::new(Table::from(&Index {
            params: Params {
                max: 1 << 20,
                ..Params::DEFAULT
            },
            size,
            sha256: Sha256([0; 32]),
            chunks,
        }));
        let plan = Plan {
            layout: Layout::ManifestJson,
            asset: "a".into(),
            size,
            sha256: Sha256::of(&bytes),
            parts: vec![Part {
                name: "a.part00".into(),
                offset: 0,
                size,
                sha256: None,
            }],
            version: None,
            requires: None,
            index: None,
        };
        let dir = tempfile::tempdir().unwrap();
        let partial = Partial::open(&BackendsDir::new(dir.path()), &plan).unwrap();
        let data = Arc::new(DataFile::open(&partial, &plan).unwrap());
        let chunk = |id: usize| {
            let c = index.chunk(id);
            let (from, to) = (c.offset as usize, (c.offset + u64::from(c.len)) as usize);
            data.write_at(&bytes[from..to], c.offset).unwrap();
            data.chunk_done(id);
        };
        let prefix = |n: usize| (0..n).map(|i| u64::from(lens[i])).sum::<u64>();

        // Finished early: the hash covers the verified prefix only, the rest is the
        // caller's, and together they are the file's SHA-256.
        let generation = data.track_chunks("i", lens.clone());
        let hasher =
            PrefixHasher::start(data.clone(), generation, index.clone(), None, Cancel::new())
                .unwrap();
        for id in [5, 1, 0, 3] {
            chunk(id);
        }
        let (Hashed { mut sha256, .. }, covered) = hasher.finish().unwrap();
        assert_eq!(covered, prefix(2), "chunks 0 and 1 form the prefix");
        for id in [2, 4, 6] {
            chunk(id);
        }
        hash_span(
            &data,
            covered,
            size - covered,
            &mut sha256,
            None,
            &Cancel::new(),
        )
        .unwrap();
        assert_eq!(Sha256(sha256.finalize().into()), plan.sha256);

        // Left to run, it hashes everything by the time the last chunk is verified.
        let generation = data.track_chunks("i", lens.clone());
        let hasher =
            PrefixHasher::start(data.clone(), generation, index.clone(), None, Cancel::new())
                .unwrap();
        for id in [6, 4, 2, 0, 1, 5, 3] {
            chunk(id);
        }
        ends_alone(&hasher);
        let (Hashed { sha256, .. }, covered) = hasher.finish().unwrap();
        assert_eq!(covered, size);
        assert_eq!(Sha256(sha256.finalize().into()), plan.sha256);

        // Another tracking (a fallback to a full download) ends the wait.
        let generation = data.track_chunks("i", lens.clone());
        let hasher =
            PrefixHasher::start(data.clone(), generation, index, None, Cancel::new()).unwrap();
        data.track_chunks("", Vec::new());
        ends_alone(&hasher);
        assert_eq!(hasher.finish().unwrap().1, 0);
    }
}
