//! Downloading one piece: continue from the bytes already on disk (re-hashed first), stream
//! the rest into the data file at the piece's offset while a [`PieceHasher`] hashes it on its
//! own thread, retry network failures from wherever the last attempt stopped
//! (`Range: bytes=N-`, insisting on a `206`; a `200` restarts the piece from zero), and check
//! the piece's SHA-256 as soon as it is complete when the release gives one.
//!
//! Retries are bounded per piece for the whole run ([`Budget`]): a server that keeps failing
//! in a way that looks like progress (sending the same bytes again, answering a Range request
//! with an empty `200`) cannot keep a fetch going forever (issue 10, item 3). A piece whose
//! declared bytes have all arrived is complete even if the connection then fails: its digest
//! decides, and no further request is made for it.
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
    let mut budget = Budget::new(ctx.remote.retry, piece.size, ctx.data.received(index));
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
            transfer(&ctx, index, piece, &mut state, &mut budget).await?;
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

/// How many times new data may refill a piece's retry budget in one run: one refill per
/// this fraction of the piece's size in bytes the piece never had before.
pub const REFILLS_PER_PIECE: u64 = 16;

/// The retry budget of one piece for a whole run: `--retries` failed attempts, refilled to
/// `--retries` only by new data, that is bytes beyond the furthest the piece has reached in
/// this run, one refill per `1/REFILLS_PER_PIECE` of its size. A failed attempt that brought
/// nothing new (an empty answer, the same bytes sent again) never refills it, so a piece gets
/// at most `(REFILLS_PER_PIECE + 1) * retries` retries per run, however the server behaves.
struct Budget {
    policy: super::RetryPolicy,
    delays: Box<dyn Iterator<Item = std::time::Duration> + Send>,
    /// Failed attempts so far.
    failures: usize,
    /// The furthest the piece got in this run, in bytes from its start.
    high: u64,
    /// `high` at the last refill (or the start).
    credited: u64,
    /// New bytes that earn a refill.
    quantum: u64,
    /// What the server did, distinct descriptions in order of first occurrence (a few).
    seen: Vec<String>,
}

/// Most distinct failure descriptions kept for the final error.
const SEEN_MAX: usize = 4;

impl Budget {
    fn new(policy: super::RetryPolicy, size: u64, on_disk: u64) -> Budget {
        Budget {
            policy,
            delays: Box::new(policy.delays()),
            failures: 0,
            high: on_disk,
            credited: on_disk,
            quantum: size.div_ceil(REFILLS_PER_PIECE).max(1),
            seen: Vec::new(),
        }
    }

    /// Counts a failed attempt that left `len` bytes of the piece on disk; returns the
    /// delay before the next attempt, or `None` when the budget is spent.
    fn failed(&mut self, len: u64, what: String) -> Option<std::time::Duration> {
        self.failures += 1;
        if self.seen.len() < SEEN_MAX && !self.seen.contains(&what) {
            self.seen.push(what);
        }
        self.high = self.high.max(len);
        if self.high - self.credited >= self.quantum {
            self.credited = self.high;
            self.delays = Box::new(self.policy.delays());
        }
        self.delays.next()
    }
}

/// Streams the rest of `piece` into `state`, retrying transient failures within `budget`.
async fn transfer(
    ctx: &Ctx,
    index: usize,
    piece: &Piece,
    state: &mut Transfer,
    budget: &mut Budget,
) -> Result<()> {
    let hashed = hashed_while_downloading(index, piece);
    let what = ctx.remote.source.locate(&piece.name);
    loop {
        crate::interrupt::check()?;
        let asked_from = state.len;
        let mut restarted_by_server = false;
        let result = match ctx.remote.open(&piece.name, state.len).await {
            Ok(mut body) => {
                if !body.ranged && state.len > 0 {
                    tracing::info!("{what}: server ignored the Range request; restarting");
                    restarted_by_server = true;
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
            Err(StreamError::Net(_)) if state.len == piece.size => {
                // Every declared byte is on disk; the connection failing afterwards (a
                // Content-Length larger than the part, say) changes nothing: the digest
                // decides, and asking for `bytes={size}-` could only fail.
                tracing::info!("{what}: all {} bytes arrived before the error", piece.size);
                return Ok(());
            }
            Err(StreamError::Net(e)) if e.is_transient() => {
                let mut did = e.detail();
                if restarted_by_server {
                    did = format!(
                        "answered `Range: bytes={asked_from}-` with a whole-file 200, then {did}"
                    );
                }
                let Some(delay) = budget.failed(state.len, did.clone()) else {
                    return Err(anyhow::Error::new(e).context(format!(
                        "{what}: giving up on part {} after {} failed attempts ({} of {} bytes \
                         on disk); the server: {}",
                        piece.name,
                        budget.failures,
                        state.len,
                        piece.size,
                        budget.seen.join("; ")
                    )));
                };
                let delay = e.retry_after().unwrap_or(delay);
                (ctx.events)(Event::Retry {
                    what: piece.name.clone(),
                    error: format!("{what}: {did}"),
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
            c = body.chunk() => c.map_err(|e| StreamError::Net(match e {
                HttpError::Transient { url, message, retry_after } => HttpError::Transient {
                    url,
                    message: format!(
                        "{message} (with {} of the part's {} bytes on disk)",
                        state.len, piece.size
                    ),
                    retry_after,
                },
                other => other,
            }))?,
            () = &mut interrupted => {
                return Err(StreamError::Other(Error::Interrupted.into()));
            }
        };
        let Some(chunk) = chunk else {
            if state.len < piece.size {
                if body.is_local() {
                    // A file, not a connection: reading again gives the same bytes.
                    return Err(StreamError::Other(
                        Error::Integrity(format!(
                            "{}: {} bytes, but the release declares {} for part {}",
                            body.what, state.len, piece.size, piece.name
                        ))
                        .into(),
                    ));
                }
                return Err(StreamError::Net(HttpError::Transient {
                    url: body.what.clone(),
                    message: format!(
                        "the response ended after {} of the part's {} bytes",
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn budget(retries: usize, size: u64) -> Budget {
        let policy = super::super::RetryPolicy {
            retries,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(1),
        };
        Budget::new(policy, size, 0)
    }

    /// How many retries a budget grants when each failed attempt leaves the piece at the
    /// next of `lens` bytes (the last one repeating).
    fn retries_granted(retries: usize, size: u64, lens: &[u64]) -> usize {
        let mut b = budget(retries, size);
        let mut granted = 0;
        for i in 0.. {
            let len = lens[i.min(lens.len() - 1)];
            if b.failed(len, "x".into()).is_none() {
                break;
            }
            granted += 1;
            assert!(granted <= 10_000, "unbounded");
        }
        granted
    }

    #[test]
    fn the_budget_is_refilled_only_by_new_bytes_and_only_so_often() {
        // (retries, size, bytes on disk after each failed attempt, retries granted). The
        // budget starts full, so the first refill gives nothing extra.
        let q = 1600 / REFILLS_PER_PIECE; // 100 bytes earn a refill
        let steady: Vec<u64> = (1..=40).map(|i| (i * q).min(1600)).collect();
        let doubled: Vec<u64> = (2..=40).map(|i| (i / 2 * q).min(1600)).collect();
        let cases: [(usize, u64, &[u64], usize); 7] = [
            (3, 1600, &[0], 3),                         // nothing ever arrives
            (3, 1600, &[300, 0, 300, 0], 3),            // the same 300 bytes again are not new
            (3, 1600, &[q - 1, q + 50, q + 50], 3 + 1), // one refill, at the second failure
            (3, 1600, &[q, 2 * q, 2 * q], 3 + 1),       // two refills, then nothing new
            (0, 1600, &[1600], 0),                      // --retries 0: no retry at all
            (2, 1600, &steady, 16 + 1),                 // a sixteenth each time: 16 refills at most
            (2, 1600, &doubled, 16 * 2),                // spent between refills: still bounded
        ];
        for (retries, size, lens, want) in cases {
            let granted = retries_granted(retries, size, lens);
            assert_eq!(granted, want, "{retries} retries, lens {lens:?}");
            assert!(granted <= (REFILLS_PER_PIECE as usize + 1) * retries);
        }
    }
}
