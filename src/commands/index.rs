//! `voxctl index FILE`: turns the arguments into [`voxctl::split::IndexSettings`], writes the
//! chunk index with a progress bar (or a status line every few seconds in logs) and prints a
//! summary, or one JSON document.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;
use voxctl::chunks::Params;
use voxctl::exit::ExitStatus;
use voxctl::split::{write_index, IndexSettings};

use crate::cli::IndexArgs;
use crate::output::{human_bytes, Printer};

/// The `--json` document.
#[derive(Debug, Serialize)]
struct Doc {
    /// The index file written (absolute).
    index: std::path::PathBuf,
    /// The asset's size in bytes.
    size: u64,
    /// The asset's SHA-256.
    sha256: voxctl::checksum::Sha256,
    /// How many chunks.
    chunks: usize,
    /// The index file's size in bytes.
    index_size: u64,
    /// The index file's SHA-256 (what S.manifest.json's "index" names).
    index_sha256: voxctl::checksum::Sha256,
    /// The chunk sizes.
    params: Params,
}

pub fn run(args: IndexArgs, printer: &Printer) -> Result<ExitStatus> {
    let params = args.avg_size.unwrap_or(Params::DEFAULT);
    let asset = super::asset_name(args.asset, &args.file)?;
    let out_dir = match args.out {
        Some(dir) => dir,
        None => match args.file.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => ".".into(),
        },
    };
    let size = std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0);
    let settings = IndexSettings {
        input: args.file,
        out_dir,
        asset,
        params,
        force: args.force,
        cancel: crate::signals::cancel(),
    };

    // The bar is made at the first block read, so an input that cannot be opened draws
    // nothing but the error.
    let bar = OnceLock::new();
    let ticker = Mutex::new(printer.ticker(Duration::from_secs(5)));
    let done = AtomicU64::new(0);
    let on_event = |event: &voxctl::split::Event| {
        let voxctl::split::Event::Read { bytes } = *event else {
            return;
        };
        bar.get_or_init(|| printer.bytes_bar(size, &format!("index {}", settings.asset)))
            .inc(bytes);
        let so_far = done.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if let Ok(mut t) = ticker.lock() {
            t.tick(|| format!("index: {} of {}", human_bytes(so_far), human_bytes(size)));
        }
    };
    let outcome = write_index(&settings, &on_event);
    if let Some(bar) = bar.get() {
        bar.finish_and_clear();
    }
    let outcome = outcome?;

    let index = &outcome.index;
    if printer.json() {
        let path = std::fs::canonicalize(&outcome.path).unwrap_or(outcome.path.clone());
        printer.json_doc(&Doc {
            index: path,
            size: index.size,
            sha256: index.sha256,
            chunks: index.chunks.len(),
            index_size: outcome.reference.size,
            index_sha256: outcome.reference.sha256,
            params: index.params,
        })?;
    } else {
        let share = if index.size == 0 {
            0.0
        } else {
            outcome.reference.size as f64 * 100.0 / index.size as f64
        };
        printer.data(format!(
            "{}: {} chunks (average {}), {}, {share:.2}% of the asset's {}, sha256 {}",
            outcome.path.display(),
            index.chunks.len(),
            human_bytes(u64::from(index.params.avg)),
            human_bytes(outcome.reference.size),
            human_bytes(index.size),
            outcome.reference.sha256
        ));
    }
    Ok(ExitStatus::Success)
}
