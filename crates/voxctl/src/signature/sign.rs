//! Signing release files, for release CI (`voxctl split --sign`, `voxctl sign`): load a
//! minisign secret key (minisign's own file, or Tauri's base64 of it as `tauri signer
//! generate` writes it), decrypt it with a password the caller got (the library never
//! prompts), and write `X.minisig` (and Tauri's `X.sig` when asked) atomically beside `X`.
//!
//! The `minisign` crate does the work (scrypt key derivation, prehashed Ed25519), so the
//! signatures are the ones `minisign -S` makes and `minisign -V` checks.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use base64::Engine;

use super::KeyId;
use crate::Error;

/// A decrypted secret key, ready to sign.
pub struct SecretKey {
    /// Its key id (the public key's).
    pub id: KeyId,
    /// The key file it came from.
    pub path: PathBuf,
    sk: minisign::SecretKey,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey({}, {})", self.id, self.path.display())
    }
}

/// Whether the secret key file text (either form) is encrypted, i.e. needs a password.
/// Errors with [`Error::Usage`] when the text is not a minisign secret key.
pub fn needs_password(text: &str, path: &Path) -> Result<bool> {
    let (_, bin) = unwrap_key(text, path)?;
    // Layout (minisign): sig alg (2) | kdf alg (2) | cksum alg (2) | ...; kdf "\0\0" = none.
    Ok(bin[2..4] != [0, 0])
}

/// The key file text in minisign's form, and its decoded key line, from either form.
fn unwrap_key(text: &str, path: &Path) -> Result<(String, Vec<u8>)> {
    let b64 = |s: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .ok()
    };
    let text = if text.trim_start().starts_with("untrusted comment:") {
        text.trim_start().to_string()
    } else {
        b64(text)
            .and_then(|b| String::from_utf8(b).ok())
            .filter(|t| t.trim_start().starts_with("untrusted comment:"))
            .map(|t| t.trim_start().to_string())
            .ok_or_else(|| {
                Error::Usage(format!(
                    "{}: not a minisign secret key (nor Tauri's base64 of one)",
                    path.display()
                ))
            })?
    };
    let bin = text
        .lines()
        .nth(1)
        .and_then(b64)
        .filter(|b| b.len() >= 54 && &b[..2] == b"Ed")
        .ok_or_else(|| {
            Error::Usage(format!(
                "{}: not a minisign secret key (bad key line)",
                path.display()
            ))
        })?;
    Ok((text, bin))
}

/// Reads the secret key file at `path` (up to [`super::KEY_FILE_MAX_BYTES`]).
pub fn read_key_file(path: &Path) -> Result<String> {
    super::read_text(path, "secret key file")
}

/// Loads and decrypts the secret key in `text` (read from `path`) with `password` (ignored
/// for an unencrypted key, as `minisign -G -W` writes). Errors name the file: a wrong
/// password or a damaged key is [`Error::Usage`].
pub fn load(text: &str, path: &Path, password: Option<&str>) -> Result<SecretKey> {
    let (mut text, bin) = unwrap_key(text, path)?;
    if bin[2..4] == [0, 0] && bin.len() == 158 && bin[126..].iter().all(|&b| b == 0) {
        text = with_checksum(&text, bin.clone());
    }
    let boxed = minisign::SecretKeyBox::from_string(&text)
        .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
    let sk = if bin[2..4] == [0, 0] {
        boxed.into_unencrypted_secret_key()
    } else {
        let password = password.ok_or_else(|| {
            Error::Usage(format!(
                "{}: the key is encrypted and no password was given",
                path.display()
            ))
        })?;
        boxed.into_secret_key(Some(password.to_string()))
    }
    .map_err(|e| {
        Error::Usage(format!(
            "{}: cannot open the secret key: {e}",
            path.display()
        ))
    })?;
    let pk = minisign::PublicKey::from_secret_key(&sk)
        .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
    let mut id = [0u8; 8];
    id.copy_from_slice(&pk.keynum()[..8]);
    Ok(SecretKey {
        id: KeyId(id),
        path: path.to_path_buf(),
        sk,
    })
}

/// minisign 0.11 writes an unencrypted key (`-W`) with an all-zero checksum, which the
/// `minisign` crate rejects as corrupted; minisign itself ignores it. Fills in the checksum
/// minisign defines (BLAKE2b-256 of sig alg, key id and secret key) so such keys load.
fn with_checksum(text: &str, mut bin: Vec<u8>) -> String {
    use blake2::Digest;
    // Layout: sig alg 2 | kdf alg 2 | chk alg 2 | salt 32 | ops 8 | mem 8 | keynum 8 |
    // sk 64 | chk 32 (158 bytes, checked by the caller).
    let mut h = blake2::Blake2b::<blake2::digest::consts::U32>::new();
    h.update(&bin[0..2]);
    h.update(&bin[54..62]);
    h.update(&bin[62..126]);
    bin[126..158].copy_from_slice(&h.finalize());
    let comment = text.lines().next().unwrap_or("untrusted comment:");
    format!(
        "{comment}\n{}\n",
        base64::engine::general_purpose::STANDARD.encode(&bin)
    )
}

/// The signature files written for one file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Signed {
    /// The file signed.
    pub file: PathBuf,
    /// `file.minisig`.
    pub minisig: PathBuf,
    /// `file.sig` (Tauri's form), when asked for.
    pub tauri_sig: Option<PathBuf>,
    /// The key that signed.
    pub key_id: KeyId,
    /// The trusted comment signed with it.
    pub trusted_comment: String,
}

/// What `voxctl sign --json` prints: the signing key's id and every file signed. The CLI
/// prints it with its keys sorted: `{"key_id", "signed": [{"file", "key_id", "minisig",
/// "tauri_sig", "trusted_comment"}]}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SignReport {
    /// The key that signed (as minisign shows it, e.g. `E1DCABDAB7A53592`).
    pub key_id: KeyId,
    /// The files signed, in the order given.
    pub signed: Vec<Signed>,
}

/// Signs `file` (streaming it: prehashed, constant memory) and writes `file.minisig`, and
/// `file.sig` (base64 of the same signature file, as Tauri's updater reads it) when
/// `tauri_sig`. The trusted comment is minisign's: `timestamp:N\tfile:NAME\thashed`. Each
/// output is written to a temporary file and renamed into place, with the mode `minisign -S`
/// gives it (0666 minus the umask: a web server serving the release must read it).
///
/// ```no_run
/// use std::path::Path;
/// use voxctl::signature::sign::{load, read_key_file, sign_file};
///
/// let key_path = Path::new("release.key");
/// let key = load(&read_key_file(key_path)?, key_path, Some("password"))?;
/// let signed = sign_file(&key, Path::new("voicebox-server-cuda.sha256"), true)?;
/// println!("wrote {}", signed.minisig.display());
/// # anyhow::Ok(())
/// ```
pub fn sign_file(key: &SecretKey, file: &Path, tauri_sig: bool) -> Result<Signed> {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("{}: not a file name", file.display()))?;
    let input = std::fs::File::open(file)
        .with_context(|| format!("cannot open {} to sign it", file.display()))?;
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let trusted = format!("timestamp:{timestamp}\tfile:{name}\thashed");
    let untrusted = format!("signature from voxctl, minisign secret key {}", key.id);
    let sig = minisign::sign(
        None,
        &key.sk,
        std::io::BufReader::with_capacity(1 << 20, input),
        Some(&trusted),
        Some(&untrusted),
    )
    .map_err(|e| {
        anyhow::anyhow!(
            "cannot sign {} with key {} ({}): {e}",
            file.display(),
            key.id,
            key.path.display()
        )
    })?;
    let text = sig.into_string();
    let minisig = PathBuf::from(format!("{}.minisig", file.display()));
    crate::atomic::publish_atomic(&minisig, text.as_bytes())?;
    let tauri = if tauri_sig {
        let path = PathBuf::from(format!("{}.sig", file.display()));
        let wrapped = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
        crate::atomic::publish_atomic(&path, wrapped.as_bytes())?;
        Some(path)
    } else {
        None
    };
    Ok(Signed {
        file: file.to_path_buf(),
        minisig,
        tauri_sig: tauri,
        key_id: key.id,
        trusted_comment: trusted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A secret key's Debug output is its id and file, never key material: it may end up in
    /// a log.
    #[test]
    fn a_secret_key_debugs_as_its_id_and_file_only() {
        let kp = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        let text = kp.sk.to_box(None).unwrap().to_string();
        let key = load(&text, Path::new("/keys/release.key"), None).unwrap();
        let shown = format!("{key:?}");
        assert_eq!(shown, format!("SecretKey({}, /keys/release.key)", key.id));
        assert_eq!(
            key.id.to_string(),
            crate::signature::key_line(&kp.pk.to_base64())
                .unwrap()
                .1
                .to_string()
        );
    }

    /// A secret key file whose key line is too short, too long or of another algorithm is a
    /// usage error naming the file, never a panic on a short slice.
    #[test]
    fn a_malformed_secret_key_line_is_refused_not_sliced() {
        let text = |bin: &[u8]| {
            format!(
                "untrusted comment: k\n{}\n",
                base64::engine::general_purpose::STANDARD.encode(bin)
            )
        };
        let path = Path::new("k.key");
        let mut bad: Vec<Vec<u8>> = vec![b"Ed".to_vec(), b"Ed\0\0".to_vec()];
        // Unencrypted, a zero tail where minisign 0.11 leaves the checksum zero, but not the
        // 158 bytes such a key has: not mended, refused.
        for len in [54, 130, 157, 159] {
            let mut b = vec![0u8; len];
            b[..2].copy_from_slice(b"Ed");
            bad.push(b);
        }
        let mut other = vec![0u8; 158];
        other[..2].copy_from_slice(b"XX");
        bad.push(other);
        for bin in bad {
            let t = text(&bin);
            let refused = |r: Result<()>| {
                let err = r.unwrap_err();
                assert!(
                    matches!(err.downcast_ref::<Error>(), Some(Error::Usage(m)) if m.starts_with("k.key: ")),
                    "{} bytes: {err:#}",
                    bin.len()
                );
            };
            if bin.len() < 54 || &bin[..2] != b"Ed" {
                refused(needs_password(&t, path).map(|_| ()));
            }
            refused(load(&t, path, None).map(|_| ()));
        }
    }

    /// An encrypted key loads with its password (its checksum is left alone: it is
    /// encrypted with the key), and not without.
    #[test]
    fn an_encrypted_key_loads_with_its_password_only() {
        let kp = minisign::KeyPair::generate_encrypted_keypair(Some("pw".into())).unwrap();
        let text = kp.sk.to_box(None).unwrap().to_string();
        let path = Path::new("k.key");
        assert!(needs_password(&text, path).unwrap());
        assert!(load(&text, path, Some("pw")).is_ok());
        assert!(load(&text, path, Some("other")).is_err());
        assert!(load(&text, path, None).is_err());
        let plain = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        let text = plain.sk.to_box(None).unwrap().to_string();
        assert!(!needs_password(&text, path).unwrap());
        assert!(load(&text, path, None).is_ok());
    }
}
