//! SHA-256 off the receive path. A piece task hands each chunk it has written to a
//! [`PieceHasher`], whose own thread does the hashing, so receiving and writing (one core)
//! and hashing (another) overlap; the chunks are reference-counted `Bytes`, passed without a
//! copy through a bounded channel (at most [`QUEUE`] chunks in flight per piece, so memory
//! stays bounded when hashing is the slower side).
//!
//! Which pieces are hashed while they download: piece 0 always (its hash state is also the
//! prefix of the whole-file SHA-256, so its bytes are hashed once for both checks), and any
//! other piece whose release gives it its own SHA-256. The rest of the whole-file digest
//! (pieces 1..) is computed after piece 0 is complete, from the page cache
//! ([`hash_span`], called by [`super::install::verify`]).

use std::sync::Arc;

use anyhow::{Context, Result};
use bytes::Bytes;
use sha2::Digest;
use tokio::sync::{mpsc, oneshot};

use super::partial::DataFile;

/// Chunks queued per piece between the piece task and its hash thread.
const QUEUE: usize = 8;
/// Read size when hashing bytes already on disk, in bytes.
const READ_BUFFER: usize = 1 << 20;

/// The SHA-256 of one piece, computed on its own thread.
pub struct PieceHasher {
    /// `None` for a piece that is not hashed.
    tx: Option<mpsc::Sender<Bytes>>,
    result: Option<oneshot::Receiver<Result<sha2::Sha256>>>,
}

impl PieceHasher {
    /// Starts hashing piece `index` of `data`: first the `prefix` bytes already on disk
    /// (a resume), then every chunk [`fed`](Self::feed) to it. With `enabled == false`
    /// nothing is hashed and [`finish`](Self::finish) returns `None`.
    pub fn start(data: Arc<DataFile>, index: usize, prefix: u64, enabled: bool) -> Result<Self> {
        if !enabled {
            return Ok(PieceHasher {
                tx: None,
                result: None,
            });
        }
        let (tx, mut rx) = mpsc::channel::<Bytes>(QUEUE);
        let (done, result) = oneshot::channel();
        std::thread::Builder::new()
            .name(format!("sha256-piece{index}"))
            .spawn(move || {
                let mut run = || -> Result<sha2::Sha256> {
                    let mut hasher = sha2::Sha256::new();
                    hash_span(&data, data.offset(index), prefix, &mut hasher)?;
                    while let Some(chunk) = rx.blocking_recv() {
                        hasher.update(&chunk);
                    }
                    Ok(hasher)
                };
                let _ = done.send(run());
            })
            .context("cannot start a hashing thread")?;
        Ok(PieceHasher {
            tx: Some(tx),
            result: Some(result),
        })
    }

    /// Queues `chunk` (the piece's next bytes) for hashing; waits while the queue is full.
    pub async fn feed(&mut self, chunk: Bytes) -> Result<()> {
        if let Some(tx) = &self.tx {
            if tx.send(chunk).await.is_err() {
                // The thread stopped early: its error says why.
                self.tx = None;
                return Err(self.result().await.err().unwrap_or_else(|| {
                    anyhow::anyhow!("the hashing thread stopped before the piece ended")
                }));
            }
        }
        Ok(())
    }

    /// Waits for the thread and returns the hash state after every byte fed (`None` when
    /// the piece is not hashed).
    pub async fn finish(mut self) -> Result<Option<sha2::Sha256>> {
        self.tx = None; // closes the channel: the thread drains it and ends
        if self.result.is_none() {
            return Ok(None);
        }
        self.result().await.map(Some)
    }

    async fn result(&mut self) -> Result<sha2::Sha256> {
        let rx = self.result.take().context("hash result already taken")?;
        rx.await.context("the hashing thread failed")?
    }
}

/// Feeds `len` bytes of `data` from `offset` into `hasher`, reading from the file (the page
/// cache, when the bytes were just written). Stops with [`crate::Error::Interrupted`] on
/// SIGINT/SIGTERM.
pub fn hash_span(data: &DataFile, offset: u64, len: u64, hasher: &mut sha2::Sha256) -> Result<()> {
    let mut buf = vec![0u8; READ_BUFFER.min(len as usize)];
    let mut done = 0u64;
    while done < len {
        crate::interrupt::check()?;
        let n = buf.len().min((len - done) as usize);
        data.read_at(&mut buf[..n], offset + done)?;
        hasher.update(&buf[..n]);
        done += n as u64;
    }
    Ok(())
}
