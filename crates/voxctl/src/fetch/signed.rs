//! Signature checks in a fetch (docs/contract.md "Beside any layout"; the formats are in
//! [`crate::signature`]).
//!
//! [`authenticate`] runs right after discovery, before anything is downloaded: with a key
//! configured, the file that pins the release ([`Pinned`]: `S.manifest.json`, `S.sha256` or
//! `S.tar.gz.sha256`) must carry a valid signature (`.minisig`, else Tauri's `.sig`) by a
//! trusted key, checked over exactly the bytes the plan was built from. Since that file pins
//! every byte through SHA-256, the check costs one small download and one Ed25519
//! verification. A release whose pinning file is unsigned may instead sign the asset (or
//! archive) itself, as `tauri signer sign` does with a bundle (`A.sig`); that signature is
//! accepted only when it is the only one, and is checked by a [`Prehash`]: a thread fed the
//! very buffers the whole-file SHA-256 consumes, in the same read pass (part 0's chunks as
//! they stream in, then parts 1.. as the tail pass reads them from the page cache), so the
//! BLAKE2b prehash runs on the other core beside the SHA-256 and no byte is read twice.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bytes::Bytes;

use super::layout::{Layout, Pinned, Plan};
use super::source::Remote;
use crate::signature::{signature_names, Authenticated, Keyring, SignatureFile};
use crate::Error;

/// The most bytes read of a signature file (a minisign one is under 500; Tauri's base64 of it
/// a third more), counted while reading.
const SIGNATURE_CAP: u64 = 16 * 1024;
/// Chunks queued between the SHA-256 passes and the BLAKE2b thread.
const QUEUE: usize = 8;

/// How a release was authenticated, as far as can be known before downloading.
#[derive(Debug, Clone)]
pub enum Authentication {
    /// No key is configured: nothing was checked.
    Unauthenticated,
    /// The pinning file's signature verified.
    Pinned(Authenticated),
    /// Only the asset (or archive) is signed; its signature names a trusted key and is
    /// checked over the downloaded bytes ([`Prehash`]). Boxed: a signature is a few hundred
    /// bytes.
    Asset(Box<AssetSignature>),
}

/// A signature over the whole asset or archive, still to be checked.
#[derive(Debug, Clone)]
pub struct AssetSignature {
    /// The signed file's location (URL or path), for messages.
    pub label: String,
    /// The signature.
    pub sig: SignatureFile,
}

/// Finds and checks the release's signature against `keys` (see the module doc). Returns how
/// the release is authenticated and how long the check took (downloading the signature
/// included). Errors with [`Error::Integrity`] when a key is configured and no signature
/// exists, or one does not verify, naming the files and the key id.
pub async fn authenticate(
    remote: &Remote,
    plan: &Plan,
    pinned: &Pinned,
    keys: &Keyring,
) -> Result<(Authentication, Duration)> {
    let started = Instant::now();
    if keys.is_empty() {
        return Ok((Authentication::Unauthenticated, started.elapsed()));
    }
    let src = &remote.source;
    let pinned_label = src.locate(&pinned.name);
    for name in signature_names(&pinned.name) {
        if let Some(bytes) = remote.get_small(&name, SIGNATURE_CAP).await? {
            let sig = keys.decode_signature(&bytes, &src.locate(&name))?;
            let auth = keys.verify_bytes(&pinned.bytes, &pinned_label, &sig)?;
            return Ok((Authentication::Pinned(auth), started.elapsed()));
        }
    }
    let signed = match plan.layout {
        Layout::Whole | Layout::Archive => plan.parts[0].name.clone(),
        Layout::ManifestJson | Layout::ManifestText => plan.asset.clone(),
    };
    let label = src.locate(&signed);
    for name in signature_names(&signed) {
        if let Some(bytes) = remote.get_small(&name, SIGNATURE_CAP).await? {
            let sig = keys.decode_signature(&bytes, &src.locate(&name))?;
            keys.precheck(&sig, &label, plan.size)?;
            let a = AssetSignature { label, sig };
            return Ok((Authentication::Asset(Box::new(a)), started.elapsed()));
        }
    }
    let [p1, p2] = signature_names(&pinned.name);
    let [a1, a2] = signature_names(&signed);
    Err(Error::Integrity(format!(
        "{}: release is not signed: none of {p1}, {p2}, {a1} or {a2} exists, and a public \
         key is configured (trusted: {})",
        src.display(),
        keys.ids()
    ))
    .into())
}

/// What starts a [`Prehash`]: the asset signature, the keys, and the file's size in bytes.
#[derive(Clone)]
pub struct PrehashSpec {
    /// The trusted keys.
    pub keys: Keyring,
    /// The signature to check.
    pub sig: AssetSignature,
    /// The size of the signed file in bytes.
    pub size: u64,
}

/// The check of an asset signature over the bytes the whole-file SHA-256 consumes (see the
/// module doc): its own thread (`blake2b`) takes the same reference-counted chunks through a
/// bounded channel (at most 8 (`QUEUE`) in flight) and feeds the BLAKE2b prehash, so it runs
/// on the other core. Part 0's hash thread starts one ([`super::hashing::PartHasher`]) and
/// feeds it part 0's bytes (a resume's prefix read from disk, then each chunk as it
/// arrives); [`super::install::verify`] feeds it parts 1.. from the same buffers it hashes
/// (a differential fetch's [`super::hashing::PrefixHasher`] feeds it the whole file),
/// then [`finish`](Self::finish) gives the verdict. A part 0 that restarts starts a new one
/// with its new hash thread, so the check never sees a byte the SHA-256 did not.
pub struct Prehash {
    tx: Option<std::sync::mpsc::SyncSender<Bytes>>,
    handle: Option<std::thread::JoinHandle<Result<Authenticated>>>,
}

/// Why the prehash thread saw fewer bytes than the file has (an internal error: the fetch
/// fed it every byte it hashed).
#[derive(Debug, thiserror::Error)]
#[error("the signature check saw {got} of the file's {size} bytes")]
struct Incomplete {
    got: u64,
    size: u64,
}

impl PrehashSpec {
    /// Starts the thread (see [`Prehash`]).
    pub fn start(&self) -> Result<Prehash> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Bytes>(QUEUE);
        let spec = self.clone();
        let handle = std::thread::Builder::new()
            .name("blake2b".into())
            .spawn(move || {
                let PrehashSpec { keys, sig, size } = spec;
                keys.verify_stream(&sig.sig, &sig.label, size, |sink| {
                    let mut got = 0u64;
                    while let Ok(chunk) = rx.recv() {
                        got += chunk.len() as u64;
                        sink(&chunk);
                    }
                    if got != size {
                        return Err(Incomplete { got, size }.into());
                    }
                    Ok(())
                })
            })
            .map_err(|e| anyhow::anyhow!("cannot start the signature thread: {e}"))?;
        Ok(Prehash {
            tx: Some(tx),
            handle: Some(handle),
        })
    }
}

impl Prehash {
    /// Queues `chunk`, the file's next bytes in order; waits while the queue is full. A
    /// thread that already stopped (its check failed before the end) is not fed: its error
    /// is returned by [`finish`](Self::finish).
    pub fn feed(&mut self, chunk: Bytes) {
        if let Some(tx) = &self.tx {
            if tx.send(chunk).is_err() {
                self.tx = None;
            }
        }
    }

    /// Closes the stream, waits for the thread and returns its verdict and how long this
    /// call waited (the time the signature added to the fetch). Errors with
    /// [`Error::Integrity`] when the signature does not verify over the bytes fed.
    pub fn finish(mut self) -> Result<(Authenticated, Duration)> {
        let started = Instant::now();
        self.tx = None;
        let handle = self
            .handle
            .take()
            .context("prehash thread already joined")?;
        let auth = handle
            .join()
            .map_err(|_| anyhow::anyhow!("the signature thread panicked"))??;
        Ok((auth, started.elapsed()))
    }
}
