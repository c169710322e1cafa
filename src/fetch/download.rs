//! Downloading one piece: continue from the bytes already on disk (re-hashed first), stream
//! the rest into the data file at the piece's offset while a [`PieceHasher`] hashes it on its
//! own thread, retry network failures from wherever the last attempt stopped
//! (`Range: bytes=N-`, insisting on a `206`; a `200` restarts the piece from zero), and check
//! the piece's SHA-256 as soon as it is complete when the release gives one.
//!
//! Memory per piece is the HTTP client's buffers plus at most a few chunks queued for the
//! hash thread, whatever the piece's size. Chunks are written as they come (one positioned
//! write each, no extra buffer copy); the [`super::writeback`] thread moves them to disk.

use std::pin::pin;
use std::sync::Arc;

use anyhow::Result;
use sha2::Digest;

use super::hashing::PieceHasher;
use super::http::HttpError;
use super::layout::Piece;
use super::{Ctx, Event};
use crate::checksum::Sha256;
use crate::Error;

/// Downloads piece `index` of the plan. Returns the SHA-256 state after all of the piece's
/// bytes when the piece is hashed: always for piece 0 (whose state is the prefix of the
/// whole-file digest), and for pieces with their own digest in the release.
pub async fn piece(ctx: Arc<Ctx>, index: usize) -> Result<Option<sha2::Sha256>> {
    let piece = &ctx.plan.pieces[index];
    let what = ctx.remote.source.locate(&piece.name);
    let hashed = hashed_while_downloading(index, piece);
    let mut restarted = false;
    loop {
        let len = ctx.data.received(index);
        let resumed_from = len;
        ctx.progress.set(index, len);
        (ctx.events)(Event::PieceStarted {
            index,
            name: piece.name.clone(),
            from: len,
            size: piece.size,
        });
        let mut state = Transfer {
            hasher: PieceHasher::start(ctx.data.clone(), index, len, hashed)?,
            len,
            ranged_resume: len > 0,
        };
        if state.len < piece.size {
            transfer(&ctx, index, piece, &mut state).await?;
        }
        let hasher = state.hasher.finish().await?;
        if let (Some(want), Some(hasher)) = (piece.sha256, &hasher) {
            let got = Sha256(hasher.clone().finalize().into());
            if got != want {
                ctx.data.reset(index);
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

/// Whether piece `index` is hashed as it downloads: piece 0 always (its state is the prefix
/// of the whole-file digest), the others when the release gives them their own digest.
fn hashed_while_downloading(index: usize, piece: &Piece) -> bool {
    index == 0 || piece.sha256.is_some()
}

struct Transfer {
    hasher: PieceHasher,
    /// Bytes of the piece on disk (the data file's received count for it).
    len: u64,
    /// Whether any bytes were appended after a Range request (a resume).
    ranged_resume: bool,
}

enum StreamError {
    Net(HttpError),
    Other(anyhow::Error),
}

/// Streams the rest of `piece` into `state`, retrying transient failures.
async fn transfer(ctx: &Ctx, index: usize, piece: &Piece, state: &mut Transfer) -> Result<()> {
    let hashed = hashed_while_downloading(index, piece);
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
                    ctx.data.reset(index);
                    state.len = 0;
                    state.hasher = PieceHasher::start(ctx.data.clone(), index, 0, hashed)?;
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
        ctx.data
            .append(index, &chunk)
            .map_err(|e| StreamError::Other(e.context(body.what.clone())))?;
        state.len += n;
        state.hasher.feed(chunk).await.map_err(StreamError::Other)?;
        ctx.progress.add(index, n);
    }
}
