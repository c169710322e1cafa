//! Writeback during the download: a thread that keeps the data file's dirty pages flowing to
//! disk while the parts arrive, and records what is durable for resume.
//!
//! Why: the install must `fsync` the whole file before the rename (docs/contract.md, invariant 4).
//! Left to the kernel, gigabytes would still be dirty at the end and that fsync would take
//! seconds after the last byte arrived; synced as it goes, the final fsync has at most one
//! round left. Each round: note every part's received count, `fdatasync` the data file
//! (which makes at least those bytes durable), then write the resume record
//! ([`Partial::write_record`]) with the noted counts. Rounds start at most every 100 ms (`ROUND`),
//! back to back when a sync takes longer than that (the disk is the bottleneck), and the
//! record is rewritten at most every 250 ms (`RECORD_EVERY`).
//!
//! Each round also checks that the data file still has a name ([`DataFile::check_linked`]);
//! when its directory was removed the thread stops quietly, and the download's next write
//! fails with one clear error instead of a warning per round.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;

use super::partial::{DataFile, Partial};

/// Shortest time between the starts of two writeback rounds.
const ROUND: Duration = Duration::from_millis(100);
/// Shortest time between two writes of the resume record.
const RECORD_EVERY: Duration = Duration::from_millis(250);

/// The writeback thread of one download.
pub struct Writeback {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
    data: Arc<DataFile>,
    partial: Partial,
}

impl Writeback {
    /// Starts the thread for `data`, recording progress in `partial`.
    pub fn start(data: Arc<DataFile>, partial: Partial) -> Result<Writeback> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let thread = {
            let (stop, data, partial) = (stop.clone(), data.clone(), partial.clone());
            std::thread::Builder::new()
                .name("writeback".into())
                .spawn(move || run(&stop, &data, &partial))?
        };
        Ok(Writeback {
            stop,
            thread: Some(thread),
            data,
            partial,
        })
    }

    /// Stops the thread. With `record`, makes everything received so far durable and
    /// records it exactly (the download stops here and a rerun resumes from this point).
    pub fn finish(mut self, record: bool) -> Result<()> {
        self.halt();
        if record && !self.data.vanished() {
            let state = self.data.state();
            self.data.sync_data()?;
            self.partial.write_record(&state)?;
            // Kept for a rerun: only what arrived keeps its disk space.
            self.data.release_unwritten()?;
        }
        Ok(())
    }

    fn halt(&mut self) {
        let (flag, cv) = &*self.stop;
        if let Ok(mut stop) = flag.lock() {
            *stop = true;
        }
        cv.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Writeback {
    fn drop(&mut self) {
        self.halt();
    }
}

fn run(stop: &(Mutex<bool>, Condvar), data: &DataFile, partial: &Partial) {
    let (flag, cv) = stop;
    let mut recorded = data.state();
    let mut last_record = Instant::now();
    let mut round_start = Instant::now();
    loop {
        // Wait out the rest of this round (or until told to stop).
        let Ok(mut stopped) = flag.lock() else { return };
        loop {
            if *stopped {
                return;
            }
            let left = ROUND.saturating_sub(round_start.elapsed());
            if left.is_zero() {
                break;
            }
            stopped = match cv.wait_timeout(stopped, left) {
                Ok((g, _)) => g,
                Err(_) => return,
            };
        }
        drop(stopped);
        round_start = Instant::now();
        if data.check_linked().is_err() {
            // Removed (or not even stat-able): nothing here can be recorded any more; the
            // download reports it at its next write.
            return;
        }
        let received = data.state();
        if received == recorded {
            continue;
        }
        if let Err(e) = data.sync_data() {
            // The install's own fsync reports it; here it only delays writeback.
            tracing::warn!("{e:#}");
            continue;
        }
        if last_record.elapsed() >= RECORD_EVERY {
            match partial.write_record(&received) {
                Ok(()) => {
                    recorded = received;
                    last_record = Instant::now();
                }
                Err(_) if data.check_linked().is_err() => return,
                Err(e) => tracing::warn!("{e:#}"),
            }
        }
    }
}
