//! Downloading one part: continue from the bytes already on disk (re-hashed first), stream
//! the rest into the data file at the part's offset while a [`PartHasher`] hashes it on its
//! own thread, retry network failures from wherever the last attempt stopped
//! (`Range: bytes=N-`, insisting on a `206`; a `200` restarts the part from zero), and check
//! the part's SHA-256 as soon as it is complete when the release gives one.
//!
//! Retries are bounded per part for the whole run (`Budget`): a server that keeps failing
//! in a way that looks like progress (sending the same bytes again, answering a Range request
//! with an empty `200`) cannot keep a fetch going forever. A part whose
//! declared bytes have all arrived is complete even if the connection then fails: its digest
//! decides, and no further request is made for it.
//!
//! Memory per part is the HTTP client's buffers plus at most a few chunks queued for the
//! hash thread, whatever the part's size. Chunks are written as they come (one positioned
//! write each, no extra buffer copy); the [`super::writeback`] thread moves them to disk.

use std::pin::pin;
use std::sync::Arc;

use anyhow::Result;
use sha2::Digest;

use super::hashing::{Hashed, PartHasher};
use super::http::HttpError;
use super::layout::Part;
use super::{Download, Event};
use crate::checksum::Sha256;
use crate::Error;

/// Downloads part `index` of the plan. Returns the SHA-256 state after all of the part's
/// bytes when the part is hashed: always for part 0 (whose state is the prefix of the
/// whole-file digest, with the asset signature's prehash fed the same bytes when the
/// release is signed that way), and for parts with their own digest in the release.
pub(crate) async fn part(ctx: Arc<Download>, index: usize) -> Result<Option<Hashed>> {
    let part = &ctx.plan.parts[index];
    let hashed = hashed_while_downloading(index, part);
    let mut restarted = false;
    let mut at = At {
        src: ctx.remote.next_source(0),
        budget: Budget::new(ctx.remote.retry, part.size, ctx.data.received(index)),
        contributors: Vec::new(),
        short_ranged: 0,
    };
    loop {
        let what = ctx.remote.source_at(at.src).locate(&part.name);
        let len = ctx.data.received(index);
        let resumed_from = len;
        ctx.counters.set(index, len);
        (ctx.report)(&Event::PartStarted {
            part: part.name.clone(),
            from: len,
            size: part.size,
        });
        let mut state = Transfer {
            hasher: PartHasher::start(
                ctx.data.clone(),
                index,
                len,
                hashed,
                prehash(&ctx, index)?,
                ctx.remote.cancel.clone(),
            )?,
            len,
            ranged_resume: len > 0,
        };
        if state.len < part.size {
            transfer(&ctx, index, part, &mut state, &mut at).await?;
        }
        let hasher = state.hasher.finish().await?;
        if let (Some(want), Some(hasher)) = (part.sha256, &hasher) {
            let got = Sha256(hasher.sha256.clone().finalize().into());
            if got != want {
                ctx.data.reset(index);
                ctx.counters.set(index, 0);
                // A mirror that served any of these bytes is not trusted again in this run;
                // the part is fetched anew from the next source.
                let mirrors: Vec<usize> = at
                    .contributors
                    .iter()
                    .map(|&(i, _)| i)
                    .filter(|&i| !ctx.remote.is_origin(i))
                    .collect();
                at.contributors.clear();
                if !mirrors.is_empty() {
                    for &i in &mirrors {
                        ctx.remote.skip(i);
                        (ctx.report)(&Event::Retry {
                            part: part.name.clone(),
                            error: format!(
                                "mirror {} served bytes of part {} that do not match its \
                                 SHA-256 ({got}, the manifest says {want}): skipped for the \
                                 rest of the run",
                                ctx.remote.source_at(i).display(),
                                part.name
                            ),
                            delay_ms: 0,
                        });
                    }
                    at.short_ranged = 0;
                    at.src = ctx.remote.next_source(0);
                    at.budget = Budget::new(ctx.remote.retry, part.size, 0);
                    continue;
                }
                if (resumed_from > 0 || state.ranged_resume) && !restarted {
                    tracing::warn!("{what}: SHA-256 mismatch after a resume; downloading again");
                    restarted = true;
                    continue;
                }
                return Err(Error::Integrity(format!(
                    "{what}: part {} has SHA-256 {got}, the manifest says {want}",
                    part.name
                ))
                .into());
            }
            (ctx.report)(&Event::PartVerified {
                part: part.name.clone(),
                sha256: got,
            });
        }
        for &(i, n) in &at.contributors {
            ctx.remote.count_served(i, n);
        }
        return Ok(hasher);
    }
}

/// The warning naming a mirror that cannot be reached (`why`: what the client said), given
/// once when it is skipped for the rest of the run.
pub(crate) fn dead_mirror(mirror: &str, why: &str) -> String {
    format!(
        "mirror {mirror} cannot be reached ({why}; not retried): skipped for the rest of the \
         run"
    )
}

/// Where a part's download stands among the sources.
struct At {
    /// The source asked now ([`super::source::Remote::source_at`]).
    src: usize,
    /// The retry budget of `src` for this part: each source has its own, so a dead mirror
    /// never spends the origin's retries.
    budget: Budget,
    /// The sources whose bytes of the part are on disk (since it was last reset), with how
    /// many each: counted as served ([`super::source::Remote::count_served`]) only once the
    /// part is checked.
    contributors: Vec<(usize, u64)>,
    /// Range answers in a row that ended cleanly before the part's end. Two in a row is a
    /// server that answers Range requests short every time: the next request asks for the
    /// whole part instead.
    short_ranged: u32,
}

/// Range answers ending short in a row after which a part is asked for whole.
const SHORT_RANGED_LIMIT: u32 = 2;

/// A fresh asset-signature check for part `index`'s hash thread to feed: part 0 of a
/// release signed that way only (it starts the whole-file pass; a restart starts anew).
fn prehash(ctx: &Download, index: usize) -> Result<Option<super::signed::Prehash>> {
    match &ctx.prehash {
        Some(spec) if index == 0 => spec.start().map(Some),
        _ => Ok(None),
    }
}

/// Whether part `index` is hashed as it downloads: part 0 always (its state is the prefix
/// of the whole-file digest), the others when the release gives them their own digest.
fn hashed_while_downloading(index: usize, part: &Part) -> bool {
    index == 0 || part.sha256.is_some()
}

struct Transfer {
    hasher: PartHasher,
    /// Bytes of the part on disk (the data file's received count for it).
    len: u64,
    /// Whether any bytes were appended after a Range request (a resume).
    ranged_resume: bool,
}

enum StreamError {
    Net(HttpError),
    /// The body ended cleanly before the part's end (a transient [`HttpError`]).
    Short(HttpError),
    Other(anyhow::Error),
}

/// How many times new data may refill a part's retry budget in one run: one refill per
/// this fraction of the part's size in bytes the part never had before.
pub const REFILLS_PER_PART: u64 = 16;

/// The retry budget of one part for a whole run: `--retries` failed attempts, refilled to
/// `--retries` only by new data, that is bytes beyond the furthest the part has reached in
/// this run, one refill per `1/REFILLS_PER_PART` of its size. A failed attempt that brought
/// nothing new (an empty answer, the same bytes sent again) never refills it, so a part gets
/// at most `(REFILLS_PER_PART + 1) * retries` retries per run, however the server behaves.
pub(crate) struct Budget {
    policy: super::RetryPolicy,
    delays: Box<dyn Iterator<Item = std::time::Duration> + Send>,
    /// Failed attempts so far.
    pub(crate) failures: usize,
    /// The furthest the part got in this run, in bytes from its start.
    high: u64,
    /// `high` at the last refill (or the start).
    credited: u64,
    /// New bytes that earn a refill.
    quantum: u64,
    /// What the server did, distinct descriptions in order of first occurrence (a few).
    pub(crate) seen: Vec<String>,
}

/// Most distinct failure descriptions kept for the final error.
const SEEN_MAX: usize = 4;

impl Budget {
    pub(crate) fn new(policy: super::RetryPolicy, size: u64, on_disk: u64) -> Budget {
        Budget {
            policy,
            delays: Box::new(policy.delays()),
            failures: 0,
            high: on_disk,
            credited: on_disk,
            quantum: size.div_ceil(REFILLS_PER_PART).max(1),
            seen: Vec::new(),
        }
    }

    /// Counts a failed attempt that left `len` bytes of the part on disk; returns the
    /// delay before the next attempt, or `None` when the budget is spent.
    pub(crate) fn failed(&mut self, len: u64, what: String) -> Option<std::time::Duration> {
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

/// Streams the rest of `part` into `state`, retrying transient failures within the budget
/// of the source asked; a mirror whose budget is spent, or that fails in a way retrying
/// cannot fix, hands the part to the next source, which continues from the byte reached.
async fn transfer(
    ctx: &Download,
    index: usize,
    part: &Part,
    state: &mut Transfer,
    at: &mut At,
) -> Result<()> {
    let hashed = hashed_while_downloading(index, part);
    loop {
        ctx.remote.cancel.check()?;
        let what = ctx.remote.source_at(at.src).locate(&part.name);
        let whole = at.short_ranged >= SHORT_RANGED_LIMIT && state.len > 0;
        if whole {
            tracing::info!("{what}: Range answers keep ending short; asking for the whole part");
            at.short_ranged = 0;
        }
        let asked_from = if whole { 0 } else { state.len };
        let mut restarted_by_server = false;
        let result = match ctx.remote.open_at(at.src, &part.name, asked_from).await {
            Ok(mut body) => {
                if (!body.ranged || whole) && state.len > 0 {
                    if !whole {
                        tracing::info!("{what}: server ignored the Range request; restarting");
                        restarted_by_server = true;
                    }
                    ctx.data.reset(index);
                    state.len = 0;
                    at.contributors.clear();
                    let prehash = prehash(ctx, index)?;
                    state.hasher = PartHasher::start(
                        ctx.data.clone(),
                        index,
                        0,
                        hashed,
                        prehash,
                        ctx.remote.cancel.clone(),
                    )?;
                    ctx.counters.set(index, 0);
                } else if state.len > 0 {
                    state.ranged_resume = true;
                }
                let before = state.len;
                let r = stream(ctx, index, part, &mut body, state).await;
                let got = state.len - before;
                match at.contributors.iter_mut().find(|(i, _)| *i == at.src) {
                    Some((_, n)) => *n += got,
                    None if got > 0 => at.contributors.push((at.src, got)),
                    None => {}
                }
                r
            }
            Err(e) => Err(StreamError::Net(e)),
        };
        let e = match result {
            Ok(()) => return Ok(()),
            Err(StreamError::Other(e)) => return Err(e),
            Err(StreamError::Net(_) | StreamError::Short(_)) if state.len == part.size => {
                // Every declared byte is on disk; the connection failing afterwards (a
                // Content-Length larger than the part, say) changes nothing: the digest
                // decides, and asking for `bytes={size}-` could only fail.
                tracing::info!("{what}: all {} bytes arrived before the error", part.size);
                return Ok(());
            }
            Err(StreamError::Short(e)) => {
                if asked_from > 0 && !restarted_by_server {
                    at.short_ranged += 1;
                }
                e
            }
            Err(StreamError::Net(e)) => {
                at.short_ranged = 0;
                e
            }
        };
        let mut did = e.detail();
        if restarted_by_server {
            did =
                format!("answered `Range: bytes={asked_from}-` with a whole-file 200, then {did}");
        }
        let too_long = e.wait_too_long();
        let delay = if !e.is_transient() || too_long.is_some() {
            None
        } else {
            at.budget.failed(state.len, did.clone())
        };
        let Some(delay) = delay else {
            if !ctx.remote.is_origin(at.src) {
                // This mirror is done for this part; the next source continues from the
                // byte reached, with a budget of its own.
                let why = too_long.unwrap_or(did);
                let dead = e.unfixable().is_some();
                let from = at.src;
                at.src = ctx.remote.next_source(at.src + 1);
                at.budget = Budget::new(ctx.remote.retry, part.size, state.len);
                at.short_ranged = 0;
                if dead {
                    // Refused before it ever answered, an unknown host, a refused TLS
                    // certificate: no retry can fix it, so no part asks it again.
                    if ctx.remote.skip(from) {
                        (ctx.report)(&Event::Retry {
                            part: part.name.clone(),
                            error: dead_mirror(&ctx.remote.source_at(from).display(), &why),
                            delay_ms: 0,
                        });
                    }
                    continue;
                }
                (ctx.report)(&Event::Retry {
                    part: part.name.clone(),
                    error: format!(
                        "{what}: {why}; continuing from byte {} at {}",
                        state.len,
                        ctx.remote.source_at(at.src).display()
                    ),
                    delay_ms: 0,
                });
                continue;
            }
            if let Some(why) = too_long {
                return Err(anyhow::Error::new(e)
                    .context(format!("{what}: giving up on part {}: {why}", part.name)));
            }
            if !e.is_transient() {
                return Err(anyhow::Error::new(e).context(format!("part {}", part.name)));
            }
            return Err(anyhow::Error::new(e).context(format!(
                "{what}: giving up on part {} after {} failed attempts ({} of {} on \
                 disk); the server: {}",
                part.name,
                at.budget.failures,
                crate::size::iec(state.len),
                crate::size::iec(part.size),
                at.budget.seen.join("; ")
            )));
        };
        let delay = e.retry_after().unwrap_or(delay);
        (ctx.report)(&Event::Retry {
            part: part.name.clone(),
            error: format!("{what}: {did}"),
            delay_ms: delay.as_millis() as u64,
        });
        super::sleep(&ctx.remote.cancel, delay).await?;
    }
}

async fn stream(
    ctx: &Download,
    index: usize,
    part: &Part,
    body: &mut super::source::Body,
    state: &mut Transfer,
) -> Result<(), StreamError> {
    let mut interrupted = pin!(ctx.remote.cancel.cancelled());
    loop {
        let chunk = tokio::select! {
            biased;
            c = body.chunk() => c.map_err(|e| StreamError::Net(match e {
                HttpError::Transient { url, message, retry_after } => HttpError::Transient {
                    url,
                    message: format!(
                        "{message} (with {} of the part's {} on disk)",
                        crate::size::iec(state.len),
                        crate::size::iec(part.size)
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
            if state.len < part.size {
                if body.is_local() {
                    // A file, not a connection: reading again gives the same bytes.
                    return Err(StreamError::Other(
                        Error::Integrity(format!(
                            "{}: {} bytes, but the release declares {} for part {}",
                            body.what, state.len, part.size, part.name
                        ))
                        .into(),
                    ));
                }
                return Err(StreamError::Short(HttpError::Transient {
                    url: body.what.clone(),
                    message: format!(
                        "the response ended after {} of the part's {} bytes",
                        state.len, part.size
                    ),
                    retry_after: None,
                }));
            }
            return Ok(());
        };
        let n = chunk.len() as u64;
        if state.len + n > part.size {
            return Err(StreamError::Other(
                Error::Integrity(format!(
                    "{}: body is longer than the {} bytes the release declares for part {}",
                    body.what, part.size, part.name
                ))
                .into(),
            ));
        }
        ctx.data
            .append(index, &chunk)
            .map_err(|e| StreamError::Other(e.context(body.what.clone())))?;
        state.len += n;
        state.hasher.feed(chunk).await.map_err(StreamError::Other)?;
        ctx.counters.add(index, n);
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

    /// How many retries a budget grants when each failed attempt leaves the part at the
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
        let q = 1600 / REFILLS_PER_PART; // 100 bytes earn a refill
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
            assert!(granted <= (REFILLS_PER_PART as usize + 1) * retries);
        }
    }
}
