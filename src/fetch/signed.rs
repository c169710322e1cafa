//! Signature checks in a fetch (DESIGN.md "Signatures"; the formats are in
//! [`crate::signature`]).
//!
//! [`authenticate`] runs right after discovery, before anything is downloaded: with a key
//! configured, the file that pins the release ([`Pinned`]: `S.manifest.json`, `S.sha256` or
//! `S.tar.gz.sha256`) must carry a valid signature (`.minisig`, else Tauri's `.sig`) by a
//! trusted key, checked over exactly the bytes the plan was built from. Since that file pins
//! every byte through SHA-256, the check costs one small download and one Ed25519
//! verification. A release whose pinning file is unsigned may instead sign the asset (or
//! archive) itself, as `tauri signer sign` does with a bundle (`A.sig`); that signature is
//! accepted only when it is the only one, and is checked by a [`Follower`]: a thread that
//! reads the data file behind the download, in order, as the bytes land (from the page
//! cache), and feeds the BLAKE2b prehash, so the hashing overlaps the download on the other
//! core instead of following it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::http::HttpError;
use super::layout::{Layout, Pinned, Plan};
use super::partial::DataFile;
use super::source::Remote;
use crate::signature::{signature_names, Authenticated, Keyring, SignatureFile};
use crate::Error;

/// The most bytes read of a signature file (a minisign one is under 500; Tauri's base64 of it
/// a third more), counted while reading.
const SIGNATURE_CAP: u64 = 16 * 1024;
/// Read size of the follower, in bytes.
const READ_BUFFER: usize = 1 << 20;
/// How long the follower waits for more bytes before looking again.
const IDLE: Duration = Duration::from_millis(2);

/// How a release was authenticated, as far as can be known before downloading.
#[derive(Debug, Clone)]
pub enum Authentication {
    /// No key is configured: nothing was checked.
    Unauthenticated,
    /// The pinning file's signature verified.
    Pinned(Authenticated),
    /// Only the asset (or archive) is signed; its signature names a trusted key and is
    /// checked over the downloaded bytes ([`Follower`]).
    Asset(AssetSignature),
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
    on_retry: &(dyn Fn(&HttpError, Duration) + Sync),
) -> Result<(Authentication, Duration)> {
    let started = Instant::now();
    if keys.is_empty() {
        return Ok((Authentication::Unauthenticated, started.elapsed()));
    }
    let src = &remote.source;
    let pinned_label = src.locate(&pinned.name);
    for name in signature_names(&pinned.name) {
        if let Some(bytes) = remote.get_small(&name, SIGNATURE_CAP, on_retry).await? {
            let sig = keys.decode_signature(&bytes, &src.locate(&name))?;
            let auth = keys.verify_bytes(&pinned.bytes, &pinned_label, &sig)?;
            return Ok((Authentication::Pinned(auth), started.elapsed()));
        }
    }
    let signed = match plan.layout {
        Layout::Whole | Layout::Archive => plan.pieces[0].name.clone(),
        Layout::ManifestJson | Layout::ManifestText => plan.asset.clone(),
    };
    let label = src.locate(&signed);
    for name in signature_names(&signed) {
        if let Some(bytes) = remote.get_small(&name, SIGNATURE_CAP, on_retry).await? {
            let sig = keys.decode_signature(&bytes, &src.locate(&name))?;
            keys.precheck(&sig, &label, plan.size)?;
            let a = AssetSignature { label, sig };
            return Ok((Authentication::Asset(a), started.elapsed()));
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

/// The thread that checks an asset signature behind the download (see the module doc).
pub struct Follower {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<Result<Authenticated>>>,
    keys: Keyring,
    sig: AssetSignature,
}

/// Why the follower gave up on its single pass (then [`Follower::finish`] reads the file
/// again from the start).
#[derive(Debug, thiserror::Error)]
#[error("the download restarted a piece or stopped early")]
struct Incomplete;

impl Follower {
    /// Starts following `data` (laid out as `plan`) for the signature `sig`.
    pub fn start(
        data: Arc<DataFile>,
        plan: &Plan,
        keys: Keyring,
        sig: AssetSignature,
    ) -> Result<Follower> {
        let stop = Arc::new(AtomicBool::new(false));
        let spans: Vec<(u64, u64)> = plan.pieces.iter().map(|p| (p.offset, p.size)).collect();
        let size = plan.size;
        let handle = {
            let (stop, keys, sig) = (stop.clone(), keys.clone(), sig.clone());
            std::thread::Builder::new()
                .name("blake2b-follow".into())
                .spawn(move || {
                    keys.verify_stream(&sig.sig, &sig.label, size, |sink| {
                        follow(&data, &spans, &stop, sink)
                    })
                })
                .map_err(|e| anyhow::anyhow!("cannot start the signature thread: {e}"))?
        };
        Ok(Follower {
            stop,
            handle: Some(handle),
            keys,
            sig,
        })
    }

    /// After the download is complete: waits for the follower and returns its verdict. When
    /// its pass was not a clean single pass (a piece restarted) or failed, the file is read
    /// once more from the start and that pass decides. Returns the check and how long this
    /// call waited (the time the signature added to the fetch).
    pub fn finish(mut self, data: &DataFile, size: u64) -> Result<(Authenticated, Duration)> {
        let started = Instant::now();
        self.stop.store(true, Ordering::Release);
        let joined = self
            .handle
            .take()
            .map(|h| h.join())
            .unwrap_or_else(|| Ok(Err(Incomplete.into())));
        match joined {
            Ok(Ok(auth)) => return Ok((auth, started.elapsed())),
            Ok(Err(e)) if matches!(Error::find(&e), Some(Error::Interrupted)) => return Err(e),
            Ok(Err(e)) => tracing::debug!("asset signature pass: {e:#}; checking again"),
            Err(_) => tracing::debug!("asset signature thread panicked; checking again"),
        }
        let auth = self
            .keys
            .verify_stream(&self.sig.sig, &self.sig.label, size, |sink| {
                let mut buf = vec![0u8; READ_BUFFER];
                let mut done = 0u64;
                while done < size {
                    crate::interrupt::check()?;
                    let n = buf.len().min((size - done) as usize);
                    data.read_at(&mut buf[..n], done)?;
                    sink(&buf[..n]);
                    done += n as u64;
                }
                Ok(())
            })?;
        Ok((auth, started.elapsed()))
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        // A fetch that fails lets the thread go: it stops at its next idle look.
        self.stop.store(true, Ordering::Release);
    }
}

/// Feeds `sink` every byte of `data`, piece by piece in order, as each piece's received
/// count grows. Gives up ([`Incomplete`]) when a piece's count goes back (it restarted) or
/// when `stop` is set while bytes are still missing.
fn follow(
    data: &DataFile,
    spans: &[(u64, u64)],
    stop: &AtomicBool,
    sink: &mut dyn FnMut(&[u8]),
) -> Result<()> {
    let mut buf = vec![0u8; READ_BUFFER];
    for (index, &(offset, size)) in spans.iter().enumerate() {
        let mut pos = 0u64;
        while pos < size {
            crate::interrupt::check()?;
            let received = data.received(index);
            if received < pos {
                return Err(Incomplete.into());
            }
            if received == pos {
                if stop.load(Ordering::Acquire) && data.received(index) == pos {
                    return Err(Incomplete.into());
                }
                std::thread::sleep(IDLE);
                continue;
            }
            let n = buf.len().min((received - pos) as usize);
            data.read_at(&mut buf[..n], offset + pos)?;
            sink(&buf[..n]);
            pos += n as u64;
        }
    }
    Ok(())
}
