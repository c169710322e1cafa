//! Downloading one piece: continue from the bytes already on disk (re-hashed first), stream
//! the rest to disk while hashing it, retry network failures from wherever the last attempt
//! stopped (`Range: bytes=N-`, insisting on a `206`; a `200` restarts the piece from zero),
//! and check the piece's SHA-256 as soon as it is complete when the release gives one.
//!
//! Memory per piece is one 256 KiB write buffer plus the HTTP client's buffers, whatever the
//! piece's size. Piece 0 becomes the assembled file, so its dirty pages are written back in
//! the background (an `fdatasync` every 64 MiB on a helper thread) to keep the final fsync
//! short.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::pin::pin;
use std::sync::Arc;

use anyhow::{Context, Result};
use sha2::Digest;

use super::http::HttpError;
use super::layout::Piece;
use super::{Ctx, Event};
use crate::checksum::Sha256;
use crate::Error;

/// Write buffer per piece, in bytes.
const WRITE_BUFFER: usize = 256 << 10;
/// Background writeback interval for piece 0, in bytes.
const WRITEBACK_EVERY: u64 = 64 << 20;

/// Downloads piece `index` of the plan. Returns the SHA-256 state after all of the piece's
/// bytes (for piece 0 this is the prefix of the whole-file digest).
pub async fn piece(ctx: Arc<Ctx>, index: usize) -> Result<sha2::Sha256> {
    let piece = &ctx.plan.pieces[index];
    let path = ctx.partial.piece_path(&piece.name);
    let what = ctx.remote.source.locate(&piece.name);
    let mut restarted = false;
    loop {
        let (file, len, hasher) = open_and_rehash(&path, piece.size).await?;
        let resumed_from = len;
        ctx.progress.set(index, len);
        (ctx.events)(Event::PieceStarted {
            index,
            name: piece.name.clone(),
            from: len,
            size: piece.size,
        });
        let mut state = Transfer {
            file: PieceFile::new(file, index == 0)?,
            len,
            hasher,
            ranged_resume: len > 0,
        };
        if state.len < piece.size {
            transfer(&ctx, index, piece, &mut state).await?;
        }
        state
            .file
            .finish()
            .with_context(|| path.display().to_string())?;
        let hasher = state.hasher;
        if let Some(want) = piece.sha256 {
            let got = Sha256(hasher.clone().finalize().into());
            if got != want {
                let _ = std::fs::remove_file(&path);
                ctx.progress.set(index, 0);
                if (resumed_from > 0 || state.ranged_resume) && !restarted {
                    tracing::warn!("{what}: SHA-256 mismatch after a resume; downloading again");
                    restarted = true;
                    continue;
                }
                return Err(Error::Integrity(format!(
                    "{what}: part {} has SHA-256 {got}, the manifest says {want}",
                    piece.name
                ))
                .into());
            }
            (ctx.events)(Event::PieceVerified {
                index,
                name: piece.name.clone(),
                sha256: got,
            });
        }
        return Ok(hasher);
    }
}

struct Transfer {
    file: PieceFile,
    len: u64,
    hasher: sha2::Sha256,
    /// Whether any bytes were appended after a Range request (a resume).
    ranged_resume: bool,
}

enum StreamError {
    Net(HttpError),
    Other(anyhow::Error),
}

/// Streams the rest of `piece` into `state`, retrying transient failures.
async fn transfer(ctx: &Ctx, index: usize, piece: &Piece, state: &mut Transfer) -> Result<()> {
    let what = ctx.remote.source.locate(&piece.name);
    let mut delays = ctx.remote.retry.delays();
    let mut failures = 0usize;
    loop {
        crate::interrupt::check()?;
        let start = state.len;
        let result = match ctx.remote.open(&piece.name, state.len).await {
            Ok(mut body) => {
                if !body.ranged && state.len > 0 {
                    tracing::info!("{what}: server ignored the Range request; restarting");
                    state.file.truncate()?;
                    state.len = 0;
                    state.hasher = sha2::Sha256::new();
                    ctx.progress.set(index, 0);
                } else if state.len > 0 {
                    state.ranged_resume = true;
                }
                stream(ctx, index, piece, &mut body, state).await
            }
            Err(e) => Err(StreamError::Net(e)),
        };
        match result {
            Ok(()) => return Ok(()),
            Err(StreamError::Other(e)) => return Err(e),
            Err(StreamError::Net(e)) if e.is_transient() => {
                state.file.flush()?;
                if state.len > start {
                    // Progress was made: the retry budget starts over.
                    delays = ctx.remote.retry.delays();
                }
                failures += 1;
                let Some(delay) = delays.next() else {
                    return Err(anyhow::Error::new(e).context(format!(
                        "part {}: giving up after {failures} failed attempts",
                        piece.name
                    )));
                };
                let delay = e.retry_after().unwrap_or(delay);
                (ctx.events)(Event::Retry {
                    what: piece.name.clone(),
                    error: e.to_string(),
                    delay,
                });
                super::sleep_interruptibly(delay).await?;
            }
            Err(StreamError::Net(e)) => {
                return Err(anyhow::Error::new(e).context(format!("part {}", piece.name)))
            }
        }
    }
}

async fn stream(
    ctx: &Ctx,
    index: usize,
    piece: &Piece,
    body: &mut super::source::Body,
    state: &mut Transfer,
) -> Result<(), StreamError> {
    let mut interrupted = pin!(super::interrupted());
    loop {
        let chunk = tokio::select! {
            biased;
            c = body.chunk() => c.map_err(StreamError::Net)?,
            () = &mut interrupted => {
                state.file.flush().map_err(StreamError::Other)?;
                return Err(StreamError::Other(Error::Interrupted.into()));
            }
        };
        let Some(chunk) = chunk else {
            if state.len < piece.size {
                return Err(StreamError::Net(HttpError::Transient {
                    url: body.what.clone(),
                    message: format!(
                        "connection closed after {} of {} bytes",
                        state.len, piece.size
                    ),
                    retry_after: None,
                }));
            }
            return Ok(());
        };
        let n = chunk.len() as u64;
        if state.len + n > piece.size {
            return Err(StreamError::Other(
                Error::Integrity(format!(
                    "{}: body is longer than the {} bytes the release declares for part {}",
                    body.what, piece.size, piece.name
                ))
                .into(),
            ));
        }
        state.hasher.update(&chunk);
        state
            .file
            .write(&chunk)
            .map_err(|e| StreamError::Other(e.context(body.what.clone())))?;
        state.len += n;
        ctx.progress.add(index, n);
    }
}

/// Opens (creating) a piece file, truncating it if it is longer than the piece, and hashes
/// the bytes already there. Returns the file, its length and the hash state.
async fn open_and_rehash(path: &Path, size: u64) -> Result<(File, u64, sha2::Sha256)> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || -> Result<_> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o644)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        let mut len = file.metadata()?.len();
        if len > size {
            file.set_len(0)?;
            len = 0;
        }
        let mut hasher = sha2::Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut left = len;
        while left > 0 {
            crate::interrupt::check()?;
            let want = buf.len().min(left as usize);
            let n = file
                .read(&mut buf[..want])
                .with_context(|| format!("cannot read {}", path.display()))?;
            if n == 0 {
                anyhow::bail!("{} shrank while being read", path.display());
            }
            hasher.update(&buf[..n]);
            left -= n as u64;
        }
        file.seek(SeekFrom::Start(len))?;
        Ok((file, len, hasher))
    })
    .await
    .context("hashing task failed")?
}

/// A piece file being appended to, with a write buffer and optional background writeback.
struct PieceFile {
    out: BufWriter<File>,
    writeback: Option<File>,
    since_sync: u64,
    syncing: Option<tokio::task::JoinHandle<()>>,
}

impl PieceFile {
    fn new(file: File, writeback: bool) -> Result<PieceFile> {
        let writeback = if writeback {
            Some(file.try_clone()?)
        } else {
            None
        };
        Ok(PieceFile {
            out: BufWriter::with_capacity(WRITE_BUFFER, file),
            writeback,
            since_sync: 0,
            syncing: None,
        })
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.out.write_all(bytes).context("cannot write")?;
        self.since_sync += bytes.len() as u64;
        if self.since_sync >= WRITEBACK_EVERY {
            self.since_sync = 0;
            let idle = self.syncing.as_ref().is_none_or(|h| h.is_finished());
            if let (true, Some(f)) = (idle, &self.writeback) {
                if let Ok(f) = f.try_clone() {
                    self.syncing = Some(tokio::task::spawn_blocking(move || {
                        let _ = f.sync_data();
                    }));
                }
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.out.flush().context("cannot write")
    }

    fn truncate(&mut self) -> Result<()> {
        self.out.flush()?;
        let f = self.out.get_mut();
        f.set_len(0)?;
        f.seek(SeekFrom::Start(0))?;
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        self.flush()
    }
}
