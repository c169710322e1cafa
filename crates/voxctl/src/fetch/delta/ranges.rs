//! The missing chunks as byte ranges, and downloading one range.
//!
//! [`plan`] (and [`Planner`], the same one prefix of the index at a time, while the seed
//! scan still runs) merges missing chunks into [`Range`]s: adjacent chunks, and chunks
//! separated by at most [`MERGE_GAP`] bytes already on disk (downloaded again rather than
//! paid for with another request, but not written again: those chunks are verified and may
//! already be in the whole-file digest), up to [`MAX_RANGE`] bytes a range so that `--jobs`
//! ranges run side by side even when one region changed. A range is chunk-aligned in the
//! asset; chunks may straddle a part boundary, so a range is fetched as one single-range
//! request per part it touches ([`pieces`]), in order, through one BLAKE3 per chunk: every
//! chunk is checked as its last byte arrives, and only then noted done (and recorded for
//! resume by the writeback thread after an `fdatasync`).

use std::pin::pin;
use std::sync::Arc;

use anyhow::Result;

use crate::chunks::Table;
use crate::fetch::download::Budget;
use crate::fetch::http::HttpError;
use crate::fetch::layout::Plan;
use crate::fetch::{Download, Event};
use crate::Error;

/// Bytes already on disk between two missing chunks that are downloaded again so that the
/// two become one request: 64 KiB, about what one request's round trip costs in transfer
/// time on a 20 Mbit/s link with 25 ms of latency, and at most a few chunks of the index.
pub const MERGE_GAP: u64 = 64 << 10;

/// The longest range, in bytes (32 MiB): a larger changed region becomes several ranges, so
/// it downloads over several connections.
pub const MAX_RANGE: u64 = 32 << 20;

/// Chunks `first..end` of the index: bytes `start..stop` of the asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// The first chunk's number.
    pub first: usize,
    /// One past the last chunk's number.
    pub end: usize,
    /// The first byte, in the asset.
    pub start: u64,
    /// One past the last byte.
    pub stop: u64,
}

impl Range {
    /// Its length in bytes.
    pub fn len(&self) -> u64 {
        self.stop - self.start
    }
}

/// The ranges covering every chunk of `index` for which `done` is false, in order.
pub fn plan(index: &Table, done: impl Fn(usize) -> bool) -> Vec<Range> {
    let mut out = Vec::new();
    let mut planner = Planner::default();
    planner.advance(index, u64::MAX, done, &mut |r| out.push(r));
    planner.finish(&mut |r| out.push(r));
    out
}

/// [`plan`] one prefix of the index at a time, for a differential fetch that starts
/// downloading while its seed scan runs: [`Planner::advance`] decides chunks in order (each
/// either on disk or missing, for good) and emits every range that no later chunk can join;
/// [`Planner::finish`] emits the last. The ranges are the ones [`plan`] makes over the same
/// decisions.
#[derive(Debug, Default)]
pub struct Planner {
    /// The range being built, which a later missing chunk may still join.
    pending: Option<Range>,
    /// The first chunk not decided yet.
    next: usize,
    /// Its offset in the asset, in bytes.
    next_offset: u64,
}

impl Planner {
    /// Decides every undecided chunk that ends at or before byte `upto` of the asset:
    /// `on_disk(id)` says whether chunk `id` is there (a chunk it calls missing is
    /// downloaded; the caller must no longer write it). Ranges that can no longer grow go
    /// to `emit`.
    pub fn advance(
        &mut self,
        index: &Table,
        upto: u64,
        mut on_disk: impl FnMut(usize) -> bool,
        emit: &mut dyn FnMut(Range),
    ) {
        while self.next < index.len() {
            let (id, offset) = (self.next, self.next_offset);
            let stop = offset + u64::from(index.chunk_len(id));
            if stop > upto {
                break;
            }
            self.next += 1;
            self.next_offset = stop;
            if on_disk(id) {
                continue;
            }
            match self.pending.as_mut() {
                Some(r) if offset - r.stop <= MERGE_GAP && stop - r.start <= MAX_RANGE => {
                    r.end = id + 1;
                    r.stop = stop;
                }
                _ => {
                    if let Some(r) = self.pending.take() {
                        emit(r);
                    }
                    self.pending = Some(Range {
                        first: id,
                        end: id + 1,
                        start: offset,
                        stop,
                    });
                }
            }
        }
        // Later missing chunks start at `next_offset` or after: past the merge gap, none
        // can join the pending range.
        if let Some(r) = self.pending {
            if self.next_offset - r.stop > MERGE_GAP {
                self.pending = None;
                emit(r);
            }
        }
    }

    /// Emits the last range (every chunk must have been decided).
    pub fn finish(self, emit: &mut dyn FnMut(Range)) {
        if let Some(r) = self.pending {
            emit(r);
        }
    }
}

/// `range` as requests: (part number, first byte in the part, one past the last), in order.
pub fn pieces(range: &Range, plan: &Plan) -> Vec<(usize, u64, u64)> {
    plan.parts
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let from = range.start.max(p.offset);
            let to = range.stop.min(p.offset + p.size);
            (from < to).then(|| (i, from - p.offset, to - p.offset))
        })
        .collect()
}

/// How many requests `ranges` take (one per range and part it touches).
pub fn requests(ranges: &[Range], plan: &Plan) -> u64 {
    ranges.iter().map(|r| pieces(r, plan).len() as u64).sum()
}

/// The chunk being received, hashed as its bytes arrive.
struct Current {
    /// Its number.
    id: usize,
    /// One past its last byte, in the asset.
    stop: u64,
    hasher: blake3::Hasher,
    /// The sources of its bytes so far, with how many each: counted as served
    /// ([`crate::fetch::source::Remote::count_served`]) only once the chunk is checked.
    from: Vec<(usize, u64)>,
}

/// Downloads `range` into the data file, checking each chunk against `index`. A chunk that
/// does not match with bytes from a mirror skips that mirror for the rest of the run (named
/// once) and is fetched again from the next source; with the origin's bytes only, it is an
/// [`Error::Integrity`] (the index or the origin lies). Bytes count as served only once their
/// chunk matches. Network failures are retried
/// from the last byte received within the [`Budget`] of the source asked, then continued at
/// the next source. Range answers that end short twice in a row are an error that is not a
/// network one, so the fetch falls back to downloading the parts whole.
pub(crate) async fn download(ctx: Arc<Download>, index: Arc<Table>, range: Range) -> Result<()> {
    let mut pos = range.start;
    let mut current = Current {
        id: range.first,
        stop: range.start + u64::from(index.chunk_len(range.first)),
        hasher: blake3::Hasher::new(),
        from: Vec::new(),
    };
    let pieces = pieces(&range, &ctx.plan);
    // The piece (request per part) being fetched; a chunk a mirror served wrong sends `pos`
    // back to that chunk's start, which may lie in the piece before.
    let mut piece_no = usize::MAX;
    let mut src = 0;
    let mut budget = Budget::new(ctx.remote.retry, range.len(), 0);
    let mut short = 0u32;
    while pos < range.stop {
        let k = pieces
            .iter()
            .position(|&(i, _, to)| pos < ctx.plan.parts[i].offset + to)
            .ok_or_else(|| anyhow::anyhow!("byte {pos} lies outside the range's pieces"))?;
        let (part_no, from, to) = pieces[k];
        let part = &ctx.plan.parts[part_no];
        let piece_stop = part.offset + to;
        if k != piece_no {
            piece_no = k;
            src = ctx.remote.next_source(0);
            budget = Budget::new(ctx.remote.retry, to - from, 0);
            short = 0;
        }
        {
            ctx.remote.cancel.check()?;
            let what = ctx.remote.source_at(src).locate(&part.name);
            let attempt = async {
                let mut body = ctx
                    .remote
                    .open_range_at(src, &part.name, pos - part.offset, to)
                    .await?;
                let mut interrupted = pin!(ctx.remote.cancel.cancelled());
                loop {
                    let chunk = tokio::select! {
                        biased;
                        c = body.chunk() => c?,
                        () = &mut interrupted => return Ok(Err(Error::Interrupted.into())),
                    };
                    let Some(bytes) = chunk else {
                        if pos < piece_stop && body.is_local() {
                            return Ok(Err(Error::Integrity(format!(
                                "{}: ends before byte {}",
                                body.what,
                                piece_stop - part.offset
                            ))
                            .into()));
                        }
                        return Ok(Ok(None));
                    };
                    if pos + bytes.len() as u64 > piece_stop {
                        return Ok(Err(Error::Integrity(format!(
                            "{}: sent more than the {} bytes asked for",
                            body.what,
                            to - from
                        ))
                        .into()));
                    }
                    match feed(&ctx, &index, &mut current, src, pos, &bytes) {
                        Err(e) => return Ok(Err(e)),
                        Ok(Some(bad)) => return Ok(Ok(Some(bad))),
                        Ok(None) => {}
                    }
                    pos += bytes.len() as u64;
                    ctx.counters.add_downloaded(bytes.len() as u64);
                }
            };
            let result: Result<Result<Option<Vec<usize>>>, HttpError> = attempt.await;
            let e = match result {
                Ok(Ok(Some(bad))) => {
                    // The chunk is fetched again from its first byte at the next source;
                    // the chunks before it were checked and stay.
                    let chunk_start = current.stop - u64::from(index.chunk_len(current.id));
                    pos = chunk_start;
                    for i in bad {
                        if ctx.remote.skip(i) {
                            (ctx.report)(&Event::Retry {
                                part: part.name.clone(),
                                error: format!(
                                    "mirror {} served a wrong byte: chunk {} (bytes {}..{}) does \
                                     not match the chunk index; skipped for the rest of the run",
                                    ctx.remote.source_at(i).display(),
                                    current.id,
                                    chunk_start,
                                    current.stop
                                ),
                                delay_ms: 0,
                            });
                        }
                    }
                    src = ctx.remote.next_source(src);
                    budget = Budget::new(ctx.remote.retry, to - from, 0);
                    short = 0;
                    continue;
                }
                Ok(Ok(None)) if pos == piece_stop => continue,
                Ok(Ok(None)) => {
                    short += 1;
                    if short >= 2 {
                        return Err(anyhow::anyhow!(
                            "{what}: the server answers Range requests short ({} bytes short \
                             of bytes {}-{} again)",
                            piece_stop - pos,
                            pos - part.offset,
                            to - 1
                        ));
                    }
                    HttpError::Transient {
                        url: what.clone(),
                        message: format!(
                            "the response ended {} bytes short of the range",
                            piece_stop - pos
                        ),
                        retry_after: None,
                    }
                }
                Ok(Err(e)) => return Err(e),
                Err(e) => {
                    short = 0;
                    e
                }
            };
            let spent = !e.is_transient() || e.wait_too_long().is_some();
            if !ctx.remote.is_origin(src) {
                if !spent {
                    if let Some(delay) = budget.failed(pos, e.detail()) {
                        let delay = e.retry_after().unwrap_or(delay);
                        (ctx.report)(&Event::Retry {
                            part: part.name.clone(),
                            error: format!("{what}: {}", e.detail()),
                            delay_ms: delay.as_millis() as u64,
                        });
                        crate::fetch::sleep(&ctx.remote.cancel, delay).await?;
                        continue;
                    }
                }
                let why = e.wait_too_long().unwrap_or_else(|| e.detail());
                let from_src = src;
                src = ctx.remote.next_source(src + 1);
                budget = Budget::new(ctx.remote.retry, to - from, 0);
                short = 0;
                if e.unfixable().is_some() {
                    // No retry can fix it: no range asks this mirror again.
                    if ctx.remote.skip(from_src) {
                        (ctx.report)(&Event::Retry {
                            part: part.name.clone(),
                            error: crate::fetch::download::dead_mirror(
                                &ctx.remote.source_at(from_src).display(),
                                &why,
                            ),
                            delay_ms: 0,
                        });
                    }
                    continue;
                }
                (ctx.report)(&Event::Retry {
                    part: part.name.clone(),
                    error: format!(
                        "{what}: {why}; continuing from byte {} at {}",
                        pos - part.offset,
                        ctx.remote.source_at(src).display()
                    ),
                    delay_ms: 0,
                });
                continue;
            }
            if let Some(why) = e.wait_too_long() {
                return Err(anyhow::Error::new(e).context(format!("{what}: {why}")));
            }
            if !e.is_transient() {
                return Err(anyhow::Error::new(e).context(format!("part {}", part.name)));
            }
            retry_wait(&ctx, &mut budget, &part.name, &what, pos, e).await?;
        }
    }
    Ok(())
}

/// Counts a failed attempt against `budget` and sleeps before the next one; errors once the
/// budget is spent.
async fn retry_wait(
    ctx: &Download,
    budget: &mut Budget,
    part: &str,
    what: &str,
    pos: u64,
    e: HttpError,
) -> Result<()> {
    let did = e.detail();
    let Some(delay) = budget.failed(pos, did.clone()) else {
        return Err(anyhow::Error::new(e).context(format!(
            "{what}: giving up on a range of part {part} after {} failed attempts; the \
             server: {}",
            budget.failures,
            budget.seen.join("; ")
        )));
    };
    let delay = e.retry_after().unwrap_or(delay);
    (ctx.report)(&Event::Retry {
        part: part.to_string(),
        error: format!("{what}: {did}"),
        delay_ms: delay.as_millis() as u64,
    });
    crate::fetch::sleep(&ctx.remote.cancel, delay).await?;
    Ok(())
}

/// Writes `bytes` (at asset offset `pos`, from source `src`) into the data file, except
/// the bytes of chunks already on disk, and feeds them to the chunk hashes, checking and
/// noting done every chunk they complete, and counting its bytes as served by their
/// sources. A chunk that does not match with bytes from mirrors gives those mirrors
/// (`Some`), the chunk's hash started anew; with the origin's bytes only, it is an
/// [`Error::Integrity`].
fn feed(
    ctx: &Download,
    index: &Table,
    current: &mut Current,
    src: usize,
    mut pos: u64,
    mut bytes: &[u8],
) -> Result<Option<Vec<usize>>> {
    while !bytes.is_empty() {
        let take = (current.stop - pos).min(bytes.len() as u64) as usize;
        // A chunk already on disk (a seed's, inside a merge gap) is never written again:
        // its verified bytes may already be in the whole-file digest.
        if !ctx.data.is_chunk_done(current.id) {
            ctx.data.write_at(&bytes[..take], pos)?;
        }
        current.hasher.update(&bytes[..take]);
        match current.from.iter_mut().find(|(i, _)| *i == src) {
            Some((_, n)) => *n += take as u64,
            None => current.from.push((src, take as u64)),
        }
        pos += take as u64;
        bytes = &bytes[take..];
        if pos == current.stop {
            let got: [u8; 32] = current.hasher.finalize().into();
            if &got != index.hash(current.id) {
                let mirrors: Vec<usize> = current
                    .from
                    .drain(..)
                    .map(|(i, _)| i)
                    .filter(|&i| !ctx.remote.is_origin(i))
                    .collect();
                current.hasher.reset();
                if !mirrors.is_empty() {
                    return Ok(Some(mirrors));
                }
                return Err(Error::Integrity(format!(
                    "chunk {} (bytes {}..{}) does not match the chunk index",
                    current.id,
                    current.stop - u64::from(index.chunk_len(current.id)),
                    current.stop
                ))
                .into());
            }
            for (i, n) in current.from.drain(..) {
                ctx.remote.count_served(i, n);
            }
            ctx.data.chunk_done(current.id);
            if current.id + 1 < index.len() {
                current.id += 1;
                current.stop += u64::from(index.chunk_len(current.id));
                current.hasher.reset();
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum::Sha256;
    use crate::chunks::{Chunk, Index, Params};
    use crate::fetch::layout::{Layout, Part};

    /// An index of chunks of `lens` bytes (up to 1 MiB, at least 4 KiB but the last).
    fn index(lens: &[u32]) -> Table {
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
        let params = Params {
            max: 1 << 20,
            ..Params::DEFAULT
        };
        Table::from(&Index {
            params,
            size: offset,
            sha256: Sha256([0; 32]),
            chunks,
        })
    }

    #[test]
    fn missing_chunks_merge_across_small_gaps_only_and_ranges_stay_bounded() {
        let k = 1u32 << 10;
        let gap = MERGE_GAP as u32;
        // chunks: 0 missing, 1 (gap) done, 2 missing, 3 done (too big a gap), 4 missing
        let idx = index(&[4 * k, gap, 4 * k, gap + 1, 4 * k]);
        let done = |i: usize| i == 1 || i == 3;
        let got = plan(&idx, done);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!((got[0].first, got[0].end), (0, 3));
        assert_eq!((got[0].start, got[0].stop), (0, u64::from(8 * k + gap)));
        assert_eq!((got[1].first, got[1].end), (4, 5));
        // Nothing missing: no range.
        assert!(plan(&idx, |_| true).is_empty());
        // A long missing region is cut at MAX_RANGE, at chunk boundaries.
        let big = index(&vec![1 << 20; 80]);
        let got = plan(&big, |_| false);
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got.iter().all(|r| r.len() <= MAX_RANGE));
        assert_eq!(got.iter().map(Range::len).sum::<u64>(), 80 << 20);
        assert!(got
            .windows(2)
            .all(|w| w[0].stop == w[1].start && w[0].end == w[1].first));
    }

    #[test]
    fn a_range_over_a_part_boundary_is_one_request_per_part() {
        let part = |i: u64, offset, size| Part {
            name: format!("a.part0{i}"),
            offset,
            size,
            sha256: None,
        };
        let plan = Plan {
            layout: Layout::ManifestJson,
            asset: "a".into(),
            size: 30,
            sha256: Sha256([0; 32]),
            parts: vec![part(0, 0, 10), part(1, 10, 10), part(2, 20, 10)],
            version: None,
            requires: None,
            index: None,
        };
        let r = |start, stop| Range {
            first: 0,
            end: 1,
            start,
            stop,
        };
        assert_eq!(pieces(&r(2, 8), &plan), vec![(0, 2, 8)]);
        assert_eq!(pieces(&r(8, 10), &plan), vec![(0, 8, 10)]);
        assert_eq!(pieces(&r(8, 12), &plan), vec![(0, 8, 10), (1, 0, 2)]);
        assert_eq!(
            pieces(&r(5, 25), &plan),
            vec![(0, 5, 10), (1, 0, 10), (2, 0, 5)]
        );
        assert_eq!(requests(&[r(8, 12), r(20, 30)], &plan), 3);
    }

    #[test]
    fn a_planner_decides_whole_chunks_up_to_the_offset_and_emits_what_cannot_grow() {
        let k = 1u32 << 10;
        let gap = MERGE_GAP as u32;
        let end = |idx: &Table, n: usize| (0..n).map(|i| u64::from(idx.chunk_len(i))).sum::<u64>();
        // Chunk 1 (on disk) is exactly the merge gap: chunk 2 may still join chunk 0's range.
        let joinable = index(&[4 * k, gap, 4 * k]);
        let mut planner = Planner::default();
        let mut out = Vec::new();
        assert_eq!(planner.next, 0);
        planner.advance(&joinable, end(&joinable, 1) - 1, |_| false, &mut |r| {
            out.push(r)
        });
        assert_eq!(planner.next, 0, "chunk 0 ends past the offset");
        planner.advance(&joinable, end(&joinable, 1), |_| false, &mut |r| {
            out.push(r)
        });
        assert_eq!(planner.next, 1, "chunk 0 ends at the offset");
        planner.advance(&joinable, end(&joinable, 2), |i| i == 1, &mut |r| {
            out.push(r)
        });
        assert_eq!(planner.next, 2);
        assert!(
            out.is_empty(),
            "emitted a range chunk 2 could join: {out:?}"
        );
        planner.advance(&joinable, u64::MAX, |_| false, &mut |r| out.push(r));
        planner.finish(&mut |r| out.push(r));
        assert_eq!(out, plan(&joinable, |i| i == 1));
        assert_eq!((out.len(), out[0].first, out[0].end), (1, 0, 3));
        // One byte more of gap: chunk 0's range is complete as soon as chunk 1 is decided.
        let apart = index(&[4 * k, gap + 1, 4 * k]);
        let mut planner = Planner::default();
        let mut out = Vec::new();
        planner.advance(&apart, end(&apart, 2), |i| i == 1, &mut |r| out.push(r));
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(
            (out[0].first, out[0].end, out[0].stop),
            (0, 1, u64::from(4 * k))
        );
        assert_ne!(out[0].len(), 0);
        planner.advance(&apart, u64::MAX, |i| i == 1, &mut |r| out.push(r));
        planner.finish(&mut |r| out.push(r));
        assert_eq!(out, plan(&apart, |i| i == 1));
        let empty = Range {
            first: 3,
            end: 3,
            start: 7,
            stop: 7,
        };
        assert_eq!(empty.len(), 0);
    }
}
