//! Signed releases (docs/contract.md "Beside any layout"): trust a key, not the server.
//!
//! A release's SHA-256 comes from the same server as its binary, so whoever can replace one
//! can replace the other. A minisign signature over the file that pins everything else
//! (`S.manifest.json`, else `S.sha256`, else `S.tar.gz.sha256`) by a key the user trusts
//! closes that gap. The formats are the ecosystem's own: minisign's public keys, secret keys
//! and `.minisig` files, and Tauri's updater forms (the same files base64-encoded once more:
//! `pubkey` in `tauri.conf.json`, `X.sig`, the key `tauri signer generate` writes).
//!
//! The cryptography is not ours: verification of a file in memory is the `minisign-verify`
//! crate (Ed25519 over the BLAKE2b-512 prehash for `ED` signatures, over the bytes themselves
//! for legacy `Ed` ones), signing (`sign`, feature `sign`) the `minisign` crate. A streamed prehashed check
//! ([`Keyring::verify_stream`], the whole-asset signature of a fetch, which hashes gigabytes)
//! computes the BLAKE2b-512 with `blake2b_simd` (AVX2 when the CPU has it; about 15% less CPU
//! than `minisign-verify`'s portable BLAKE2b, BENCHMARKS.md) and checks the two Ed25519
//! signatures of the minisign format with `ed25519-compact` (by minisign's author): the
//! signature over the digest, and the global one over the signature and the trusted comment. This module parses the key sources into a
//! [`Keyring`] (a union: any trusted key may sign, which is how keys are rotated), decodes
//! signature files, picks the key by the signature's key id, and says in every error which
//! file and which key id it is about.
//!
//! Legacy (`Ed`) signatures sign the whole message, so checking one needs the whole file in
//! memory: they are accepted only for files up to [`LEGACY_MAX_BYTES`]. Prehashed signatures
//! are checked while streaming ([`Keyring::verify_stream`]).

#[cfg(feature = "sign")]
pub mod sign;

use std::fmt;
use std::path::Path;

use anyhow::{Context, Result};
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::Error;

/// Largest file, in bytes, accepted with a legacy (`Ed`, not prehashed) signature: such a
/// signature can only be checked with the whole file in memory. 16 MiB.
pub const LEGACY_MAX_BYTES: u64 = 16 * 1024 * 1024;

/// Largest key, `tauri.conf.json` or signature file read, in bytes (counted while reading).
pub const KEY_FILE_MAX_BYTES: u64 = 1024 * 1024;

/// The signature file names looked for beside `file`, in order: minisign's `file.minisig`,
/// then Tauri's `file.sig`.
pub fn signature_names(file: &str) -> [String; 2] {
    [format!("{file}.minisig"), format!("{file}.sig")]
}

/// A minisign key id: 8 bytes, shown as minisign shows it (16 upper-case hex digits of the
/// little-endian number, e.g. `E1DCABDAB7A53592`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId(pub [u8; 8]);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016X}", u64::from_le_bytes(self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl Serialize for KeyId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for KeyId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let n = u64::from_str_radix(&s, 16).map_err(serde::de::Error::custom)?;
        Ok(KeyId(n.to_le_bytes()))
    }
}

/// One trusted public key.
#[derive(Clone, Debug)]
pub struct TrustedKey {
    /// Its key id.
    pub id: KeyId,
    /// Where it came from (`--pubkey`, a path, `VOXCTL_PUBKEY`), for messages.
    pub origin: String,
    key: minisign_verify::PublicKey,
    ed: ed25519_compact::PublicKey,
}

/// The trusted public keys: every key source together. A signature by any of them passes.
#[derive(Clone, Debug, Default)]
pub struct Keyring {
    keys: Vec<TrustedKey>,
}

/// Decodes standard base64, ignoring surrounding white space.
fn b64(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
}

impl Keyring {
    /// An empty keyring: no key configured, nothing is authenticated.
    pub fn new() -> Keyring {
        Keyring::default()
    }

    /// Whether no key is configured.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The trusted keys.
    pub fn keys(&self) -> &[TrustedKey] {
        &self.keys
    }

    /// The key ids, comma separated, for messages.
    pub fn ids(&self) -> String {
        let ids: Vec<String> = self.keys.iter().map(|k| k.id.to_string()).collect();
        ids.join(", ")
    }

    /// Adds a key given as text: the base64 key line (`RW...`, as in `minisign -P` and a
    /// Tauri v1 config), a whole minisign `.pub` file, or that file base64-encoded once more
    /// (as `tauri signer generate` writes it and `tauri.conf.json` keeps it). `origin` names
    /// where it came from in errors. Errors with [`Error::Usage`] when it is none of these.
    pub fn add_text(&mut self, text: &str, origin: &str) -> Result<KeyId> {
        let text = text.trim();
        let (line, key_id) = if let Some(k) = key_line(text) {
            k
        } else if let Some(k) = b64(text)
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| key_line(s.trim()).map(|(l, id)| (l.to_string(), id)))
        {
            (k.0, k.1)
        } else {
            return Err(Error::Usage(format!(
                "{origin}: not a minisign public key (expected the base64 key line, a \
                 minisign .pub file, or that file base64-encoded as Tauri keeps it)"
            ))
            .into());
        };
        let key = minisign_verify::PublicKey::from_base64(&line)
            .map_err(|e| Error::Usage(format!("{origin}: bad minisign public key: {e}")))?;
        // key_line checked the layout: "Ed", the key id, then the 32-byte Ed25519 key.
        let ed = b64(&line)
            .and_then(|bin| ed25519_compact::PublicKey::from_slice(&bin[10..]).ok())
            .ok_or_else(|| Error::Usage(format!("{origin}: bad minisign public key")))?;
        if !self.keys.iter().any(|k| k.id == key_id && k.key == key) {
            self.keys.push(TrustedKey {
                id: key_id,
                origin: origin.to_string(),
                key,
                ed,
            });
        }
        Ok(key_id)
    }

    /// Adds the key in a minisign `.pub` file (or any form [`add_text`](Self::add_text)
    /// takes), read up to [`KEY_FILE_MAX_BYTES`].
    pub fn add_file(&mut self, path: &Path) -> Result<KeyId> {
        let text = read_text(path, "public key file")?;
        self.add_text(&text, &path.display().to_string())
    }

    /// Adds the updater key of a Tauri config: `plugins.updater.pubkey` (Tauri v2) or
    /// `tauri.updater.pubkey` (v1), in either form Tauri accepts.
    pub fn add_tauri_conf(&mut self, path: &Path) -> Result<KeyId> {
        let text = read_text(path, "Tauri config")?;
        let key = tauri_conf_pubkey(&text, &path.display().to_string())?;
        self.add_text(&key, &format!("{} (updater pubkey)", path.display()))
    }

    /// [`SignatureFile::decode`], with the trusted key ids in the error (a garbage signature
    /// names no key of its own).
    pub fn decode_signature(&self, bytes: &[u8], origin: &str) -> Result<SignatureFile> {
        SignatureFile::decode(bytes, origin)
            .map_err(|e| e.context(format!("expected a signature by key {}", self.ids())))
    }

    /// The trusted keys whose id is `id`.
    fn by_id(&self, id: KeyId) -> impl Iterator<Item = &TrustedKey> {
        self.keys.iter().filter(move |k| k.id == id)
    }

    /// Checks `sig` over `data` (the whole signed file, in memory). `data_label` names the
    /// signed file in errors. Legacy signatures are accepted up to [`LEGACY_MAX_BYTES`].
    /// Errors with [`Error::Integrity`] naming the file, the signature file and the key id.
    pub fn verify_bytes(
        &self,
        data: &[u8],
        data_label: &str,
        sig: &SignatureFile,
    ) -> Result<Authenticated> {
        let key = self.key_for(sig, data_label)?;
        if !sig.prehashed && data.len() as u64 > LEGACY_MAX_BYTES {
            return Err(sig.legacy_too_large(data_label, data.len() as u64).into());
        }
        key.key
            .verify(data, &sig.sig, true)
            .map_err(|e| sig.invalid(data_label, &e))?;
        Ok(sig.authenticated(data_label, key))
    }

    /// Checks `sig` over a file of `size` bytes that `feed` streams: `feed` is called once
    /// with a sink and must pass it every byte of the file, in order. A prehashed signature
    /// is checked as the bytes pass (BLAKE2b-512 by `blake2b_simd`, constant memory, then
    /// [`SignatureFile::verify_prehashed`]); a legacy one keeps them, so it is refused
    /// before `feed` runs when `size` is over [`LEGACY_MAX_BYTES`]. Errors from `feed` are
    /// returned as they are.
    pub fn verify_stream(
        &self,
        sig: &SignatureFile,
        data_label: &str,
        size: u64,
        feed: impl FnOnce(&mut dyn FnMut(&[u8])) -> Result<()>,
    ) -> Result<Authenticated> {
        let key = self.key_for(sig, data_label)?;
        if sig.prehashed {
            let mut hasher = blake2b_simd::State::new();
            feed(&mut |b: &[u8]| {
                hasher.update(b);
            })?;
            sig.verify_prehashed(key, hasher.finalize().as_bytes())
                .map_err(|e| sig.invalid(data_label, &e))?;
            return Ok(sig.authenticated(data_label, key));
        }
        if size > LEGACY_MAX_BYTES {
            return Err(sig.legacy_too_large(data_label, size).into());
        }
        let mut all = Vec::new();
        feed(&mut |b: &[u8]| {
            let room = (LEGACY_MAX_BYTES as usize + 1).saturating_sub(all.len());
            all.extend_from_slice(&b[..b.len().min(room)]);
        })?;
        self.verify_bytes(&all, data_label, sig)
    }

    /// Refuses `sig` early when no trusted key has its key id, or when it is a legacy
    /// signature over a file of `size` bytes, over [`LEGACY_MAX_BYTES`].
    pub fn precheck(&self, sig: &SignatureFile, data_label: &str, size: u64) -> Result<KeyId> {
        let key = self.key_for(sig, data_label)?;
        if !sig.prehashed && size > LEGACY_MAX_BYTES {
            return Err(sig.legacy_too_large(data_label, size).into());
        }
        Ok(key.id)
    }

    fn key_for(&self, sig: &SignatureFile, data_label: &str) -> Result<&TrustedKey, Error> {
        self.by_id(sig.key_id).next().ok_or_else(|| {
            Error::Integrity(format!(
                "{data_label}: signature {} is by key {}, which is not trusted (trusted: {})",
                sig.origin,
                sig.key_id,
                self.ids()
            ))
        })
    }
}

/// Reads a small text file (keys, configs, signatures) up to [`KEY_FILE_MAX_BYTES`], opened
/// without blocking ([`crate::checked_open::open_regular`]): a file that is not regular is
/// [`Error::Integrity`] (exit 3) for a signature file, [`Error::Usage`] (exit 2) for a key or
/// config the user named.
pub(crate) fn read_text(path: &Path, what: &str) -> Result<String> {
    use std::io::Read;
    let file = match crate::checked_open::open_regular(path) {
        Ok(f) => f,
        Err(e) => {
            let Some(n) = crate::checked_open::not_regular(&e) else {
                return Err(
                    anyhow::Error::from(e).context(format!("cannot open {}", path.display()))
                );
            };
            let m = format!("{} {n}; not read as a {what}", path.display());
            return Err(if what == "signature file" {
                Error::Integrity(m)
            } else {
                Error::Usage(m)
            }
            .into());
        }
    };
    let mut buf = Vec::new();
    file.take(KEY_FILE_MAX_BYTES + 1)
        .read_to_end(&mut buf)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if buf.len() as u64 > KEY_FILE_MAX_BYTES {
        anyhow::bail!(
            "{}: larger than {KEY_FILE_MAX_BYTES} bytes; not a {what}",
            path.display()
        );
    }
    String::from_utf8(buf).map_err(|_| anyhow::anyhow!("{}: not UTF-8 text", path.display()))
}

/// The updater key text of a Tauri config (`plugins.updater.pubkey`, Tauri v2, else
/// `tauri.updater.pubkey`, v1), not yet decoded. `origin` names the config in errors
/// ([`Error::Usage`]: not JSON, or no such string).
pub(crate) fn tauri_conf_pubkey(text: &str, origin: &str) -> Result<String, Error> {
    let conf: serde_json::Value =
        serde_json::from_str(text).map_err(|e| Error::Usage(format!("{origin}: not JSON: {e}")))?;
    conf.pointer("/plugins/updater/pubkey")
        .or_else(|| conf.pointer("/tauri/updater/pubkey"))
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .ok_or_else(|| {
            Error::Usage(format!(
                "{origin}: has no plugins.updater.pubkey (Tauri v2) or tauri.updater.pubkey (v1)"
            ))
        })
}

/// The key line and key id of a public key given as its base64 line or a whole `.pub` file.
pub(crate) fn key_line(text: &str) -> Option<(String, KeyId)> {
    let line = if text.starts_with("untrusted comment:") {
        text.lines().nth(1)?.trim()
    } else if !text.contains('\n') {
        text
    } else {
        return None;
    };
    let bin = b64(line)?;
    if bin.len() != 42 || &bin[..2] != b"Ed" {
        return None;
    }
    let mut id = [0u8; 8];
    id.copy_from_slice(&bin[2..10]);
    Some((line.to_string(), KeyId(id)))
}

/// A decoded signature file.
#[derive(Clone)]
pub struct SignatureFile {
    /// Where it came from (URL or path), for messages.
    pub origin: String,
    /// The key id it names.
    pub key_id: KeyId,
    /// `ED` (BLAKE2b prehash) rather than legacy `Ed`.
    pub prehashed: bool,
    /// Whether it was Tauri's base64-wrapped form.
    pub tauri: bool,
    sig: minisign_verify::Signature,
    /// The Ed25519 signature over the file (over its BLAKE2b-512 when `prehashed`).
    ed: ed25519_compact::Signature,
    /// The Ed25519 global signature over `ed` followed by the trusted comment.
    global: ed25519_compact::Signature,
}

impl fmt::Debug for SignatureFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignatureFile")
            .field("origin", &self.origin)
            .field("key_id", &self.key_id)
            .field("prehashed", &self.prehashed)
            .finish()
    }
}

impl SignatureFile {
    /// Decodes a minisign signature file, or Tauri's base64 of one. `origin` names it in
    /// errors. Errors with [`Error::Integrity`] (a truncated or garbage signature).
    pub fn decode(bytes: &[u8], origin: &str) -> Result<SignatureFile> {
        let bad =
            |why: &str| Error::Integrity(format!("{origin}: not a minisign signature: {why}"));
        let text = std::str::from_utf8(bytes).map_err(|_| bad("not UTF-8 text"))?;
        let (text, tauri) = if text.trim_start().starts_with("untrusted comment:") {
            (text.to_string(), false)
        } else {
            let inner = b64(text)
                .and_then(|b| String::from_utf8(b).ok())
                // The same leading white space a bare .minisig may have (the text is
                // trimmed below either way), so both forms accept the same files.
                .filter(|t| t.trim_start().starts_with("untrusted comment:"))
                .ok_or_else(|| bad("neither a .minisig file nor its base64 (Tauri .sig)"))?;
            (inner, true)
        };
        let text = text.trim_start();
        let line = text
            .lines()
            .nth(1)
            .ok_or_else(|| bad("no signature line"))?;
        let bin = b64(line).ok_or_else(|| bad("the signature line is not base64"))?;
        if bin.len() != 74 {
            return Err(bad("the signature line has the wrong length").into());
        }
        let mut id = [0u8; 8];
        id.copy_from_slice(&bin[2..10]);
        let key_id = KeyId(id);
        let sig = minisign_verify::Signature::decode(text).map_err(|e| {
            Error::Integrity(format!(
                "{origin}: not a minisign signature (key id {key_id}): {e}"
            ))
        })?;
        // minisign-verify accepted the layout; the global signature is the fourth line.
        let global = text
            .lines()
            .nth(3)
            .and_then(b64)
            .and_then(|g| ed25519_compact::Signature::from_slice(&g).ok())
            .ok_or_else(|| {
                Error::Integrity(format!(
                    "{origin}: not a minisign signature (key id {key_id}): the global \
                     signature line is not 64 bytes of base64"
                ))
            })?;
        let ed = ed25519_compact::Signature::from_slice(&bin[10..74])
            .map_err(|e| bad(&e.to_string()))?;
        Ok(SignatureFile {
            origin: origin.to_string(),
            key_id,
            prehashed: &bin[..2] == b"ED",
            tauri,
            sig,
            ed,
            global,
        })
    }

    /// The trusted comment (signed together with the signature; minisign puts the timestamp
    /// and file name there). Only trustworthy after a successful check.
    pub fn trusted_comment(&self) -> &str {
        self.sig.trusted_comment()
    }

    /// Checks this prehashed (`ED`) signature by `key` given the signed file's BLAKE2b-512
    /// `digest` (64 bytes), as minisign does: Ed25519 over the digest, then the global
    /// signature over the signature bytes followed by the trusted comment. `ed25519-compact`
    /// does the Ed25519; it refuses what `minisign-verify` refuses, and also non-canonical or
    /// small-order points no honest signer makes. Errors when either does not verify, or the
    /// signature is not prehashed or names another key.
    pub fn verify_prehashed(
        &self,
        key: &TrustedKey,
        digest: &[u8],
    ) -> Result<(), ed25519_compact::Error> {
        if !self.prehashed || key.id != self.key_id {
            return Err(ed25519_compact::Error::InvalidSignature);
        }
        key.ed.verify(digest, &self.ed)?;
        let comment = self.trusted_comment().as_bytes();
        let mut global = Vec::with_capacity(self.ed.len() + comment.len());
        global.extend_from_slice(&self.ed[..]);
        global.extend_from_slice(comment);
        key.ed.verify(&global, &self.global)
    }

    fn invalid(&self, data_label: &str, e: &dyn fmt::Display) -> Error {
        Error::Integrity(format!(
            "{data_label}: signature {} by key {} does not verify ({e}): the file or its \
             trusted comment was changed after signing",
            self.origin, self.key_id
        ))
    }

    fn legacy_too_large(&self, data_label: &str, size: u64) -> Error {
        Error::Integrity(format!(
            "{data_label}: signature {} by key {} is a legacy (non-prehashed) signature, \
             accepted only for files up to {LEGACY_MAX_BYTES} bytes, and the file has {size}; \
             sign it again with a current minisign (prehashed is the default)",
            self.origin, self.key_id
        ))
    }

    fn authenticated(&self, data_label: &str, key: &TrustedKey) -> Authenticated {
        Authenticated {
            file: data_label.to_string(),
            signature: self.origin.clone(),
            key_id: key.id,
            trusted_comment: self.trusted_comment().to_string(),
        }
    }
}

/// A successful signature check: what was signed, by which key, with what trusted comment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authenticated {
    /// The signed file (URL or path).
    pub file: String,
    /// The signature file (URL or path).
    pub signature: String,
    /// The key that signed it.
    pub key_id: KeyId,
    /// The signature's trusted comment.
    pub trusted_comment: String,
}

/// Checks the signature beside the local file `path` (`path.minisig`, else Tauri's
/// `path.sig`) against `keys`, streaming the file. Errors with [`Error::Integrity`] when
/// neither exists or the one found does not verify, naming the files and the key id.
///
/// ```no_run
/// use voxctl::signature::{verify_beside, Keyring};
///
/// let mut keys = Keyring::new();
/// keys.add_file("release.pub".as_ref())?;
/// let ok = verify_beside(&keys, "voicebox-server-cuda.manifest.json".as_ref())?;
/// println!("signed by {}: {}", ok.key_id, ok.trusted_comment);
/// # anyhow::Ok(())
/// ```
pub fn verify_beside(keys: &Keyring, path: &Path) -> Result<Authenticated> {
    let label = path.display().to_string();
    let mut sig = None;
    for name in signature_names(&label) {
        let sig_path = Path::new(&name);
        match std::fs::symlink_metadata(sig_path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            _ => {
                let text = read_text(sig_path, "signature file")?;
                sig = Some(keys.decode_signature(text.as_bytes(), &name)?);
                break;
            }
        }
    }
    let [m, s] = signature_names(&label);
    let sig = sig.ok_or_else(|| {
        Error::Integrity(format!(
            "{label}: not signed: neither {m} nor {s} exists, and a public key is configured \
             (trusted: {})",
            keys.ids()
        ))
    })?;
    let file =
        crate::checked_open::open_regular(path).map_err(
            |e| match crate::checked_open::not_regular(&e) {
                Some(n) => Error::Integrity(format!("{} {n}", path.display())).into(),
                None => anyhow::Error::from(e).context(format!("cannot open {}", path.display())),
            },
        )?;
    let size = file
        .metadata()
        .with_context(|| format!("cannot stat {}", path.display()))?
        .len();
    keys.verify_stream(&sig, &label, size, |sink| {
        use std::io::Read;
        let mut file = file;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file
                .read(&mut buf)
                .with_context(|| format!("cannot read {}", path.display()))?;
            if n == 0 {
                return Ok(());
            }
            sink(&buf[..n]);
        }
    })
}

#[cfg(test)]
mod tests {
    //! The streamed prehashed check (`blake2b_simd` + `ed25519-compact`) against
    //! `minisign-verify`'s own verdict, on signatures made by the `minisign` crate and by the
    //! real `minisign` CLI.

    use super::*;
    use std::process::{Command, Stdio};

    /// `minisign-verify`'s verdict on `sig_text` by `key_line` over `data`.
    fn reference(key_line: &str, sig_text: &str, data: &[u8]) -> bool {
        let Ok(pk) = minisign_verify::PublicKey::from_base64(key_line) else {
            return false;
        };
        let Ok(sig) = minisign_verify::Signature::decode(sig_text) else {
            return false;
        };
        pk.verify(data, &sig, false).is_ok()
    }

    /// The streamed check's verdict, `data` fed in uneven pieces (1 byte, 127, then 64 KiB
    /// + 1 at a time), as the fetch feeds whatever chunks arrive.
    fn streamed(key_line: &str, sig_text: &str, data: &[u8]) -> Result<Authenticated> {
        let mut keys = Keyring::new();
        keys.add_text(key_line, "test key")?;
        let sig = keys.decode_signature(sig_text.as_bytes(), "f.minisig")?;
        assert!(sig.prehashed, "{sig_text}");
        keys.verify_stream(&sig, "f", data.len() as u64, |sink| {
            let (a, rest) = data.split_at(data.len().min(1));
            let (b, rest) = rest.split_at(rest.len().min(127));
            sink(a);
            sink(b);
            rest.chunks(64 * 1024 + 1).for_each(sink);
            Ok(())
        })
    }

    /// Asserts that both verdicts are `expected`; a refusal must name the file and key id.
    fn agree(key_line: &str, sig_text: &str, data: &[u8], expected: bool, what: &str) {
        assert_eq!(
            reference(key_line, sig_text, data),
            expected,
            "{what}: reference"
        );
        match streamed(key_line, sig_text, data) {
            Ok(auth) => {
                assert!(expected, "{what}: the streamed check accepted");
                assert_eq!(auth.trusted_comment, sig_text.lines().nth(2).unwrap()[17..]);
            }
            Err(e) => {
                assert!(!expected, "{what}: the streamed check refused: {e:#}");
                let msg = format!("{e:#}");
                assert!(
                    msg.contains("f: signature f.minisig by key"),
                    "{what}: {msg}"
                );
            }
        }
    }

    /// Replaces line `n` (0-based) of a signature file.
    fn with_line(sig_text: &str, n: usize, line: &str) -> String {
        let mut lines: Vec<&str> = sig_text.lines().collect();
        lines[n] = line;
        lines.join("\n") + "\n"
    }

    /// `key_line` with its 32 key bytes taken from `other` (same key id): the Ed25519
    /// check, not the key id lookup, must refuse it.
    fn same_id_other_key(key_line: &str, other: &str) -> String {
        let mut bin = b64(key_line).unwrap();
        bin[10..].copy_from_slice(&b64(other).unwrap()[10..]);
        base64::engine::general_purpose::STANDARD.encode(bin)
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 131 % 251) as u8).collect()
    }

    /// Every case on one signature `sig` by `key` over `data`, with `other` another key.
    fn every_case(key: &str, other: &str, sig: &str, data: &[u8]) {
        agree(key, sig, data, true, "as signed");
        let mut tampered = data.to_vec();
        let mid = tampered.len() / 2;
        tampered[mid] ^= 1;
        agree(key, sig, &tampered, false, "one bit of the data flipped");
        agree(key, sig, &data[..data.len() - 1], false, "data truncated");
        let mut longer = data.to_vec();
        longer.push(0);
        agree(key, sig, &longer, false, "one byte appended");
        let comment = sig.lines().nth(2).unwrap();
        let altered = with_line(sig, 2, &format!("{comment}x"));
        agree(key, &altered, data, false, "trusted comment altered");
        let wrong = same_id_other_key(key, other);
        agree(
            &wrong,
            sig,
            data,
            false,
            "another key under the same key id",
        );
        let mut bin = b64(sig.lines().nth(1).unwrap()).unwrap();
        bin[40] ^= 1;
        let sig_line = base64::engine::general_purpose::STANDARD.encode(&bin);
        agree(
            key,
            &with_line(sig, 1, &sig_line),
            data,
            false,
            "signature altered",
        );
        let mut global = b64(sig.lines().nth(3).unwrap()).unwrap();
        global[5] ^= 1;
        let global = base64::engine::general_purpose::STANDARD.encode(&global);
        agree(
            key,
            &with_line(sig, 3, &global),
            data,
            false,
            "global signature altered",
        );
    }

    #[test]
    fn a_minisig_and_its_tauri_base64_accept_the_same_leading_white_space() {
        let kp = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        let sig = minisign::sign(Some(&kp.pk), &kp.sk, &b"x"[..], None, None)
            .unwrap()
            .into_string();
        let padded = format!("\n  {sig}");
        let bare = SignatureFile::decode(padded.as_bytes(), "f.minisig").unwrap();
        assert!(!bare.tauri);
        let wrapped = base64::engine::general_purpose::STANDARD.encode(&padded);
        let tauri = SignatureFile::decode(wrapped.as_bytes(), "f.sig").unwrap();
        assert!(tauri.tauri);
        assert_eq!(tauri.key_id, bare.key_id);
        assert_eq!(tauri.trusted_comment(), bare.trusted_comment());
    }

    #[test]
    fn streamed_check_agrees_with_minisign_verify_on_minisign_crate_signatures() {
        let kp = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        let other = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        for len in [1, 2, 128, 129, 1000, 3 * 1024 * 1024 + 7] {
            let data = data(len);
            let sig = minisign::sign(
                Some(&kp.pk),
                &kp.sk,
                &data[..],
                Some("timestamp:1\tfile:f"),
                None,
            )
            .unwrap()
            .into_string();
            every_case(&kp.pk.to_base64(), &other.pk.to_base64(), &sig, &data);
        }
        // The empty file: nothing to tamper with but the signature and the comment.
        let sig = minisign::sign(Some(&kp.pk), &kp.sk, &b""[..], None, None)
            .unwrap()
            .into_string();
        agree(&kp.pk.to_base64(), &sig, b"", true, "empty file");
        agree(
            &kp.pk.to_base64(),
            &sig,
            b"x",
            false,
            "empty file, one byte",
        );
        let wrong = same_id_other_key(&kp.pk.to_base64(), &other.pk.to_base64());
        agree(&wrong, &sig, b"", false, "empty file, another key");
    }

    /// Runs `minisign ARGS` detached from any terminal (so it never prompts).
    pub(super) fn minisign_cli(args: &[&str]) {
        let out = Command::new("setsid")
            .arg("minisign")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("the minisign CLI (apt-get install minisign) runs");
        assert!(out.status.success(), "minisign {args:?}: {out:?}");
    }

    fn key_line_of(public: &str) -> String {
        let text = std::fs::read_to_string(public).unwrap();
        text.lines().nth(1).unwrap().trim().to_string()
    }

    #[test]
    fn streamed_check_agrees_with_minisign_verify_on_minisign_cli_signatures() {
        let dir = tempfile::tempdir().unwrap();
        let d = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
        for name in ["a", "b"] {
            let (p, s) = (d(&format!("{name}.pub")), d(&format!("{name}.key")));
            minisign_cli(&["-G", "-f", "-W", "-p", &p, "-s", &s]);
        }
        let (key, other) = (key_line_of(&d("a.pub")), key_line_of(&d("b.pub")));
        for len in [1, 5 * 1024 * 1024 + 3] {
            std::fs::write(d("f"), data(len)).unwrap();
            let (secret, file) = (d("a.key"), d("f"));
            minisign_cli(&[
                "-S",
                "-W",
                "-s",
                &secret,
                "-t",
                "release 1.2.3",
                "-m",
                &file,
            ]);
            let sig = std::fs::read_to_string(d("f.minisig")).unwrap();
            assert!(sig.contains("trusted comment: release 1.2.3"), "{sig}");
            every_case(&key, &other, &sig, &data(len));
        }
    }
}

#[cfg(test)]
mod keyring_tests {
    //! The keyring's bookkeeping and the size limits, with the limits written out as README
    //! states them rather than read from the constants.

    use super::*;

    const SIXTEEN_MIB: usize = 16 * 1024 * 1024;
    const ONE_MIB: usize = 1024 * 1024;

    fn encode(bin: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bin)
    }

    #[test]
    fn key_ids_show_as_minisign_shows_them() {
        let id = KeyId([0x92, 0x35, 0xA5, 0xB7, 0xDA, 0xAB, 0xDC, 0xE1]);
        assert_eq!(id.to_string(), "E1DCABDAB7A53592");
        assert_eq!(format!("{id:?}"), "KeyId(E1DCABDAB7A53592)");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"E1DCABDAB7A53592\"");
    }

    #[test]
    fn a_key_added_twice_is_kept_once_and_another_key_under_its_id_beside_it() {
        let mut keys = Keyring::new();
        assert!(keys.is_empty());
        assert_eq!(keys.ids(), "");
        let kp = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        let line = kp.pk.to_base64();
        let id = keys.add_text(&line, "a").unwrap();
        assert_eq!(keys.add_text(&format!("  {line}\n"), "b").unwrap(), id);
        assert!(!keys.is_empty());
        assert_eq!(keys.keys().len(), 1, "the same key twice");
        assert_eq!(keys.keys()[0].origin, "a");
        assert_eq!(keys.ids(), id.to_string());
        // The same key id over other key bytes is another key (a collision or a forgery):
        // kept, so that neither hides the other.
        let other = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        let mut bin = b64(&line).unwrap();
        bin[10..].copy_from_slice(&b64(&other.pk.to_base64()).unwrap()[10..]);
        assert_eq!(keys.add_text(&encode(&bin), "c").unwrap(), id);
        assert_eq!(keys.keys().len(), 2);
        assert_eq!(keys.ids(), format!("{id}, {id}"));
        let third = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        keys.add_text(&third.pk.to_base64(), "d").unwrap();
        assert_eq!(keys.keys().len(), 3);
    }

    #[test]
    fn a_key_line_is_exactly_ed_an_id_and_32_key_bytes() {
        let kp = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        let bin = b64(&kp.pk.to_base64()).unwrap();
        assert_eq!(bin.len(), 42);
        assert!(key_line(&encode(&bin)).is_some());
        let mut other_alg = bin.clone();
        other_alg[..2].copy_from_slice(b"ED");
        assert!(key_line(&encode(&other_alg)).is_none(), "not Ed");
        for len in [2, 10, 41, 43] {
            let mut b = bin.clone();
            b.resize(len, 7);
            assert!(key_line(&encode(&b)).is_none(), "{len} bytes");
        }
        let mut keys = Keyring::new();
        let err = keys.add_text("RWQ=", "--pubkey").unwrap_err();
        assert!(
            err.to_string().contains("not a minisign public key"),
            "{err}"
        );
    }

    #[test]
    fn a_tauri_config_gives_v2s_key_before_v1s() {
        let v2 = r#"{"plugins":{"updater":{"pubkey":"two"}},"tauri":{"updater":{"pubkey":"one"}}}"#;
        assert_eq!(tauri_conf_pubkey(v2, "c").unwrap(), "two");
        let v1 = r#"{"tauri":{"updater":{"pubkey":"one"}}}"#;
        assert_eq!(tauri_conf_pubkey(v1, "c").unwrap(), "one");
        for bad in ["{}", r#"{"plugins":{"updater":{"pubkey":1}}}"#, "not json"] {
            let err = tauri_conf_pubkey(bad, "c").unwrap_err();
            assert!(matches!(err, Error::Usage(_)), "{bad}: {err}");
        }
    }

    #[test]
    fn key_and_signature_files_are_read_up_to_exactly_one_mib() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        std::fs::write(&path, "x".repeat(ONE_MIB)).unwrap();
        assert_eq!(read_text(&path, "public key file").unwrap().len(), ONE_MIB);
        std::fs::write(&path, "x".repeat(ONE_MIB + 1)).unwrap();
        let err = read_text(&path, "public key file").unwrap_err();
        assert!(
            err.to_string().contains("larger than 1048576 bytes"),
            "{err}"
        );
        std::fs::write(&path, [0xff, 0xfe]).unwrap();
        assert!(read_text(&path, "public key file").is_err());
    }

    /// A FIFO where a key is expected is the user's mistake (usage, exit 2); where a
    /// release's signature is expected, the release's fault (integrity, exit 3).
    #[cfg(unix)]
    #[test]
    fn a_fifo_is_a_usage_error_as_a_key_and_an_integrity_error_as_a_signature() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("p");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let kind = |what| {
            let err = read_text(&fifo, what).unwrap_err();
            match err.downcast_ref::<Error>() {
                Some(Error::Usage(_)) => "usage",
                Some(Error::Integrity(_)) => "integrity",
                _ => panic!("{what}: {err:#}"),
            }
        };
        assert_eq!(kind("public key file"), "usage");
        assert_eq!(kind("signature file"), "integrity");
    }

    /// Signs `data` in a legacy (`Ed`) signature with the real minisign CLI (`-l`).
    fn legacy_signed(data: &[u8]) -> (Keyring, SignatureFile) {
        let dir = tempfile::tempdir().unwrap();
        let d = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
        let run = super::tests::minisign_cli;
        run(&["-G", "-f", "-W", "-p", &d("k.pub"), "-s", &d("k.key")]);
        std::fs::write(d("f"), data).unwrap();
        run(&["-S", "-l", "-W", "-s", &d("k.key"), "-m", &d("f")]);
        let mut keys = Keyring::new();
        keys.add_file(Path::new(&d("k.pub"))).unwrap();
        let sig = keys
            .decode_signature(&std::fs::read(d("f.minisig")).unwrap(), "f.minisig")
            .unwrap();
        assert!(!sig.prehashed, "minisign -l signs legacy");
        (keys, sig)
    }

    fn is_too_large(r: Result<impl fmt::Debug>) -> bool {
        match r {
            Ok(v) => panic!("accepted: {v:?}"),
            Err(e) => e
                .to_string()
                .contains("accepted only for files up to 16777216 bytes"),
        }
    }

    #[test]
    fn a_legacy_signature_covers_exactly_16_mib_in_memory_and_streamed() {
        let data: Vec<u8> = (0..SIXTEEN_MIB).map(|i| (i * 131 % 251) as u8).collect();
        let (keys, sig) = legacy_signed(&data);
        let max = SIXTEEN_MIB as u64;
        assert!(keys.precheck(&sig, "f", max).is_ok());
        assert!(is_too_large(keys.precheck(&sig, "f", max + 1)));
        assert!(keys.verify_bytes(&data, "f", &sig).is_ok());
        let feed_all = |sink: &mut dyn FnMut(&[u8])| {
            data.chunks(1 << 20).for_each(&mut *sink);
            Ok(())
        };
        assert!(keys.verify_stream(&sig, "f", max, feed_all).is_ok());
        // Refused by the size given, before any byte is read.
        assert!(is_too_large(keys.verify_stream(
            &sig,
            "f",
            max + 1,
            |_| panic!("fed")
        )));
        let mut longer = data.clone();
        longer.push(0);
        assert!(is_too_large(keys.verify_bytes(&longer, "f", &sig)));
        // A stream longer than the size it was announced with is caught by what it held.
        let feed_longer = |sink: &mut dyn FnMut(&[u8])| {
            sink(&data);
            sink(&[0, 0]);
            Ok(())
        };
        assert!(is_too_large(keys.verify_stream(
            &sig,
            "f",
            max,
            feed_longer
        )));
    }

    /// The prehashed check refuses a signature that is not prehashed, or a key whose id is
    /// not the one the signature names, even when that key's bytes are the signer's.
    #[test]
    fn a_prehashed_check_needs_a_prehashed_signature_and_the_named_key_id() {
        let kp = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        let data = b"release".to_vec();
        let text = minisign::sign(Some(&kp.pk), &kp.sk, &data[..], None, None)
            .unwrap()
            .into_string();
        let mut keys = Keyring::new();
        keys.add_text(&kp.pk.to_base64(), "k").unwrap();
        let sig = keys.decode_signature(text.as_bytes(), "f.minisig").unwrap();
        assert!(sig.prehashed);
        let digest = blake2b_simd::blake2b(&data);
        assert!(sig
            .verify_prehashed(&keys.keys()[0], digest.as_bytes())
            .is_ok());
        // The signer's key bytes under another key id.
        let mut bin = b64(&kp.pk.to_base64()).unwrap();
        bin[2] ^= 1;
        let mut renamed = Keyring::new();
        renamed.add_text(&encode(&bin), "renamed").unwrap();
        assert!(sig
            .verify_prehashed(&renamed.keys()[0], digest.as_bytes())
            .is_err());
        // A legacy signature is not checked as a prehashed one, whatever the digest given.
        let mut legacy = sig.clone();
        legacy.prehashed = false;
        assert!(legacy
            .verify_prehashed(&keys.keys()[0], digest.as_bytes())
            .is_err());
    }

    /// Debug output names the signature and its key, for embedders' logs.
    #[test]
    fn a_signature_file_debugs_as_its_origin_and_key_id() {
        let kp = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        let text = minisign::sign(Some(&kp.pk), &kp.sk, &b"x"[..], None, None)
            .unwrap()
            .into_string();
        let sig = SignatureFile::decode(text.as_bytes(), "f.minisig").unwrap();
        let shown = format!("{sig:?}");
        assert!(shown.starts_with("SignatureFile {"), "{shown}");
        assert!(shown.contains("\"f.minisig\""), "{shown}");
        assert!(shown.contains(&sig.key_id.to_string()), "{shown}");
    }

    /// A signature file name that cannot exist (over the file system's name limit) is an
    /// error about that file, not "not signed".
    #[cfg(unix)]
    #[test]
    fn a_signature_name_too_long_to_look_up_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a".repeat(250));
        std::fs::write(&file, b"x").unwrap();
        let kp = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        let mut keys = Keyring::new();
        keys.add_text(&kp.pk.to_base64(), "k").unwrap();
        let err = format!("{:#}", verify_beside(&keys, &file).unwrap_err());
        assert!(err.contains(".minisig"), "{err}");
        assert!(!err.contains("not signed"), "{err}");
    }
}
