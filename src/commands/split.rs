//! `voxctl split FILE`: turns the arguments into [`voxctl::split::Settings`], runs the split
//! with a progress bar (or a status line every few seconds in logs) and prints the parts.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use voxctl::exit::ExitStatus;

use anyhow::Result;
use voxctl::split::{split, Event, Settings};

use crate::cli::SplitArgs;
use crate::output::{human_bytes, Printer};

pub fn run(args: SplitArgs, printer: &Printer) -> Result<ExitStatus> {
    let chunk_size = args.part_size;
    let asset = super::asset_name(args.asset, &args.file)?;
    // Open the key first: a wrong password must not leave an unsigned release behind.
    let key = args
        .sign
        .as_deref()
        .map(super::sign::secret_key)
        .transpose()?;
    let mut settings = Settings::new(&args.file, &args.out, &asset);
    settings.chunk_size = chunk_size;
    settings.app_version = args.app_version;
    settings.variant = args.variant;
    settings.requires = Some(voxctl::gpu::Requirements {
        cuda_arch_list: args.cuda_arch_list,
        min_driver: args.min_driver,
        rocm_gfx: args.rocm_gfx,
    });
    if args.no_index {
        settings.index = None;
    }
    settings.force = args.force;
    settings.fsync = args.fsync;
    settings.cancel = crate::signals::cancel();

    // The bar is made when the split starts reading, after the input was checked, so a file
    // that cannot be opened draws nothing but the error.
    let bar = OnceLock::new();
    let ticker = Mutex::new(printer.ticker(Duration::from_secs(5)));
    let (total, done) = (AtomicU64::new(0), AtomicU64::new(0));
    let on_event = |e: &Event| match e {
        Event::Started { size, .. } => {
            total.store(*size, Ordering::Relaxed);
            bar.get_or_init(|| printer.bytes_bar(*size, &format!("split {}", settings.asset)));
        }
        Event::Read { bytes } => {
            if let Some(bar) = bar.get() {
                bar.inc(*bytes);
            }
            let so_far = done.fetch_add(*bytes, Ordering::Relaxed) + bytes;
            let total = total.load(Ordering::Relaxed);
            if let Ok(mut t) = ticker.lock() {
                t.tick(|| format!("split: {} of {}", human_bytes(so_far), human_bytes(total)));
            }
        }
        _ => {}
    };
    let outcome = split(&settings, &on_event);
    if let Some(bar) = bar.get() {
        bar.finish_and_clear();
    }
    let manifest = outcome?;
    let mut signed = Vec::new();
    if let Some(key) = &key {
        for name in [
            voxctl::manifest::json_manifest_name(&manifest.asset),
            voxctl::manifest::sha256_name(&manifest.asset),
        ] {
            let path = settings.out_dir.join(name);
            signed.push(voxctl::signature::sign::sign_file(
                key,
                &path,
                args.tauri_sig,
            )?);
        }
    }

    if printer.json() {
        if signed.is_empty() {
            printer.json_doc(&manifest)?;
        } else {
            let mut doc = serde_json::to_value(&manifest)?;
            doc["signatures"] = serde_json::to_value(&signed)?;
            printer.json_doc(&doc)?;
        }
    } else {
        let width = manifest
            .parts
            .iter()
            .map(|p| p.name.len())
            .chain([manifest.asset.len(), 4])
            .max()
            .unwrap_or(4);
        printer.data(format!("{:<width$}  {:>13}  SHA-256", "NAME", "BYTES"));
        for p in &manifest.parts {
            printer.data(format!("{:<width$}  {:>13}  {}", p.name, p.size, p.sha256));
        }
        printer.data(format!(
            "{:<width$}  {:>13}  {}",
            manifest.asset, manifest.size, manifest.sha256
        ));
        let index = manifest
            .index
            .as_ref()
            .map(|i| format!("{} ({}), ", i.name, human_bytes(i.size)))
            .unwrap_or_default();
        printer.message(format!(
            "wrote {} part(s), {index}{}, {} and {} to {}",
            manifest.parts.len(),
            voxctl::manifest::sha256_name(&manifest.asset),
            voxctl::manifest::text_manifest_name(&manifest.asset),
            voxctl::manifest::json_manifest_name(&manifest.asset),
            settings.out_dir.display()
        ));
        for s in &signed {
            printer.message(format!("signed {} with key {}", s.file.display(), s.key_id));
        }
    }
    Ok(ExitStatus::Success)
}
