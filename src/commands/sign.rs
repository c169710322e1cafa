//! `voxctl sign FILE...`, and the key handling that fetch, verify and split share: the
//! trusted public keys from every source (flags, `VOXCTL_PUBKEY`, Tauri configs) into one
//! [`Keyring`], and a secret key opened with the password from `VOXCTL_SIGN_PASSWORD` or a
//! prompt on a terminal (never an argument: it would show in `ps`).

use std::io::IsTerminal;
use std::path::Path;
use voxctl::exit::ExitStatus;

use anyhow::Result;
use voxctl::signature::sign::{self, SecretKey, SignReport};
use voxctl::signature::Keyring;
use voxctl::Error;

use crate::cli::{KeyArgs, SignArgs};
use crate::output::Printer;

/// The environment variable holding more trusted public keys (any form `--pubkey` takes;
/// several separated by white space or commas).
pub const PUBKEY_ENV: &str = "VOXCTL_PUBKEY";
/// The environment variable holding the secret key's password.
pub const PASSWORD_ENV: &str = "VOXCTL_SIGN_PASSWORD";

/// Every trusted key: `--pubkey`, `--pubkey-file`, `--tauri-conf` and `VOXCTL_PUBKEY`.
pub fn keyring(args: &KeyArgs) -> Result<Keyring> {
    let mut keys = Keyring::new();
    for k in &args.pubkey {
        if names_no_key(k) {
            return Err(Error::Usage(format!(
                "--pubkey {k:?} names no key: it is empty or only separators"
            ))
            .into());
        }
        keys.add_text(k, "--pubkey")?;
    }
    for p in &args.pubkey_file {
        keys.add_file(p)?;
    }
    for p in &args.tauri_conf {
        keys.add_tauri_conf(p)?;
    }
    // An empty VOXCTL_PUBKEY is unset, as for most variables. A non-empty one that names no
    // key (`","`, what `"$K1,$K2"` gives with both unset) is a mistake that would otherwise
    // switch signature checking off: a usage error.
    match std::env::var(PUBKEY_ENV) {
        Ok(env) if !env.is_empty() => {
            if names_no_key(&env) {
                return Err(crate::hint::hinted(
                    Error::Usage(format!(
                        "{PUBKEY_ENV}={env:?} names no key: it holds only separators"
                    )),
                    format!("set {PUBKEY_ENV} to one or more keys, or unset it"),
                ));
            }
            for k in env.split(is_key_separator) {
                if !k.is_empty() {
                    keys.add_text(k, PUBKEY_ENV)?;
                }
            }
        }
        Ok(_) => {}
        Err(std::env::VarError::NotPresent) => {}
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(Error::Usage(format!("{PUBKEY_ENV} is not valid UTF-8")).into());
        }
    }
    Ok(keys)
}

/// What separates keys in `VOXCTL_PUBKEY`: white space and commas.
fn is_key_separator(c: char) -> bool {
    c.is_whitespace() || c == ','
}

/// Whether `text` holds no key at all: empty, or only separators.
fn names_no_key(text: &str) -> bool {
    text.chars().all(is_key_separator)
}

/// Whether any key option was given on the command line or in the environment.
pub fn any_key_option(args: &KeyArgs) -> bool {
    !(args.pubkey.is_empty() && args.pubkey_file.is_empty() && args.tauri_conf.is_empty())
        || std::env::var_os(PUBKEY_ENV).is_some_and(|v| !v.is_empty())
}

/// Opens the secret key at `path`, asking for its password if it is encrypted: from
/// `VOXCTL_SIGN_PASSWORD`, else a prompt on the terminal; with neither, a refusal (exit 5).
pub fn secret_key(path: &Path) -> Result<SecretKey> {
    let text = sign::read_key_file(path)?;
    let password = if sign::needs_password(&text, path)? {
        Some(match std::env::var(PASSWORD_ENV) {
            Ok(p) => p,
            Err(_) if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() => {
                rpassword::prompt_password(format!("password for {}: ", path.display()))
                    .map_err(|e| anyhow::anyhow!("cannot read the password: {e}"))?
            }
            Err(_) => {
                return Err(crate::hint::hinted(
                    Error::Refused(format!(
                        "{} is encrypted and there is no terminal to ask for its password",
                        path.display()
                    )),
                    format!("set {PASSWORD_ENV}"),
                ))
            }
        })
    } else {
        None
    };
    sign::load(&text, path, password.as_deref())
}

/// `voxctl sign`.
pub fn run(args: SignArgs, printer: &Printer) -> Result<ExitStatus> {
    let key = secret_key(&args.key)?;
    let mut signed = Vec::new();
    for file in &args.files {
        let s = sign::sign_file(&key, file, args.tauri_sig)?;
        if !printer.json() {
            printer.data(s.minisig.display());
            if let Some(t) = &s.tauri_sig {
                printer.data(t.display());
            }
        }
        signed.push(s);
    }
    if printer.json() {
        // Through a `serde_json::Value`, whose keys are sorted, as this document has always
        // been printed.
        let report = SignReport {
            key_id: key.id,
            signed,
        };
        printer.json_doc(&serde_json::to_value(report)?)?;
    } else {
        printer.message(format!(
            "signed {} file(s) with key {} ({})",
            signed.len(),
            key.id,
            args.key.display()
        ));
    }
    Ok(ExitStatus::Success)
}
