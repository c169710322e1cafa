//! Signed releases (DESIGN.md "Signatures"): trust a key, not the server.
//!
//! A release's SHA-256 comes from the same server as its binary, so whoever can replace one
//! can replace the other. A minisign signature over the file that pins everything else
//! (`S.manifest.json`, else `S.sha256`, else `S.tar.gz.sha256`) by a key the user trusts
//! closes that gap. The formats are the ecosystem's own: minisign's public keys, secret keys
//! and `.minisig` files, and Tauri's updater forms (the same files base64-encoded once more:
//! `pubkey` in `tauri.conf.json`, `X.sig`, the key `tauri signer generate` writes).
//!
//! The cryptography is not ours: verification is the `minisign-verify` crate (Ed25519 over
//! the BLAKE2b-512 prehash for `ED` signatures, over the bytes themselves for legacy `Ed`
//! ones), signing ([`sign`]) the `minisign` crate. This module parses the key sources into a
//! [`Keyring`] (a union: any trusted key may sign, which is how keys are rotated), decodes
//! signature files, picks the key by the signature's key id, and says in every error which
//! file and which key id it is about.
//!
//! Legacy (`Ed`) signatures sign the whole message, so checking one needs the whole file in
//! memory: they are accepted only for files up to [`LEGACY_MAX_BYTES`]. Prehashed signatures
//! are checked while streaming ([`Keyring::verify_stream`]).

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
        if !self.keys.iter().any(|k| k.id == key_id && k.key == key) {
            self.keys.push(TrustedKey {
                id: key_id,
                origin: origin.to_string(),
                key,
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
        let conf: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::Usage(format!("{}: not JSON: {e}", path.display())))?;
        let key = conf
            .pointer("/plugins/updater/pubkey")
            .or_else(|| conf.pointer("/tauri/updater/pubkey"))
            .and_then(|v| v.as_str())
            .ok_or_else(|| {
                Error::Usage(format!(
                    "{}: has no plugins.updater.pubkey (Tauri v2) or tauri.updater.pubkey (v1)",
                    path.display()
                ))
            })?;
        self.add_text(key, &format!("{} (updater pubkey)", path.display()))
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
    /// is checked as the bytes pass (BLAKE2b, constant memory); a legacy one keeps them, so
    /// it is refused before `feed` runs when `size` is over [`LEGACY_MAX_BYTES`]. Errors
    /// from `feed` are returned as they are.
    pub fn verify_stream(
        &self,
        sig: &SignatureFile,
        data_label: &str,
        size: u64,
        feed: impl FnOnce(&mut dyn FnMut(&[u8])) -> Result<()>,
    ) -> Result<Authenticated> {
        let key = self.key_for(sig, data_label)?;
        if sig.prehashed {
            let mut verifier = key
                .key
                .verify_stream(&sig.sig)
                .map_err(|e| sig.invalid(data_label, &e))?;
            feed(&mut |b: &[u8]| verifier.update(b))?;
            verifier
                .finalize()
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

/// Reads a small text file (keys, configs, signatures) up to [`KEY_FILE_MAX_BYTES`].
pub(crate) fn read_text(path: &Path, what: &str) -> Result<String> {
    use std::io::Read;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
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

/// The key line and key id of a public key given as its base64 line or a whole `.pub` file.
fn key_line(text: &str) -> Option<(String, KeyId)> {
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
                .filter(|t| t.starts_with("untrusted comment:"))
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
        Ok(SignatureFile {
            origin: origin.to_string(),
            key_id,
            prehashed: &bin[..2] == b"ED",
            tauri,
            sig,
        })
    }

    /// The trusted comment (signed together with the signature; minisign puts the timestamp
    /// and file name there). Only trustworthy after a successful check.
    pub fn trusted_comment(&self) -> &str {
        self.sig.trusted_comment()
    }

    fn invalid(&self, data_label: &str, e: &minisign_verify::Error) -> Error {
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
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
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
