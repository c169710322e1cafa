//! Who holds the app's profile lock: a Chromium/CEF `SingletonLock` symlink, its Windows
//! counterpart the profile's `lockfile`, or a pidfile.
//!
//! Chromium's `SingletonLock` is a symlink whose target is `<hostname>-<pid>` (it never points
//! at a real file). Host names may contain dashes, so the target is split at the *last* `-`.
//! A pidfile holds one decimal pid (surrounding whitespace allowed) and names no host: it is
//! local by construction.
//!
//! On Windows a Chromium/CEF browser keeps its profile's `lockfile` open without sharing it for
//! as long as it runs, and writes no pid anywhere: the lock is held while opening the file
//! fails with a sharing violation. Since it names nobody, a held `lockfile`'s holder is taken
//! to be the process the relaunch marker names; the decision then still requires that process
//! alive with the marker's creation time ([`super::decision`]), so a held `lockfile` alone, or
//! a marker alone, never reaps anything. Without a marker a held `lockfile` is a healthy
//! instance (skip, `no_marker`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// Where the holder of the app's lock is read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "path", rename_all = "snake_case")]
pub enum LockSource {
    /// A `SingletonLock` symlink whose target is `<hostname>-<pid>`.
    SingletonLock(PathBuf),
    /// A pidfile holding one decimal pid.
    Pidfile(PathBuf),
    /// A Chromium/CEF profile's `lockfile` (Windows), held open without sharing by a live
    /// browser; it names no pid (see the module docs).
    Lockfile(PathBuf),
}

impl LockSource {
    /// The lock's path.
    pub fn path(&self) -> &Path {
        match self {
            LockSource::SingletonLock(p) | LockSource::Pidfile(p) | LockSource::Lockfile(p) => p,
        }
    }

    /// Checks that the lock or pidfile exists (a `SingletonLock` is a dangling symlink, so
    /// the link itself is looked at). A path that does not exist is far more often a wrong
    /// `--lock`/`--pidfile` (or a wrong profile dir) than a free lock, so it is
    /// [`crate::Error::Refused`] (exit 5) naming the path, before any marker is consumed.
    pub fn check_exists(&self) -> Result<()> {
        let path = self.path();
        match std::fs::symlink_metadata(path) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let pidfile = matches!(self, LockSource::Pidfile(_));
                let what = self.kind();
                Err(crate::error::with_remedy(
                    crate::Error::Refused(format!(
                        "{what} {} does not exist; nothing was reaped and the relaunch marker \
                         was left in place",
                        path.display()
                    )),
                    crate::error::Remedy::CheckLockPath { pidfile },
                ))
            }
            Err(e) => Err(anyhow::Error::from(e).context(format!(
                "cannot look at the {} {}",
                self.kind(),
                path.display()
            ))),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            LockSource::SingletonLock(_) => "lock",
            LockSource::Pidfile(_) => "pidfile",
            LockSource::Lockfile(_) => "lockfile",
        }
    }

    /// Reads the current holder; `Ok(None)` when the lock or pidfile does not exist or a
    /// pidfile is empty (nobody holds it: the holder released it, once [`Self::check_exists`]
    /// saw it). Errors name the path when it exists but cannot be read or parsed. A
    /// `lockfile` names no holder: see [`Self::read_presuming`].
    pub fn read(&self) -> Result<Option<LockHolder>> {
        self.read_presuming(None)
    }

    /// [`Self::read`], where a held `lockfile` (which names nobody) is taken to be held by
    /// `presumed` (the relaunch marker's pid): `Ok(None)` when it is not held or nothing is
    /// presumed. The other sources name their holder and ignore `presumed`. Errors: a
    /// `lockfile` anywhere but on Windows is [`crate::Error::Usage`] (Unix has no sharing
    /// modes; Chromium's lock there is the `SingletonLock` symlink).
    pub fn read_presuming(&self, presumed: Option<i32>) -> Result<Option<LockHolder>> {
        match self {
            LockSource::Lockfile(path) => {
                let held = self.lockfile_held(path)?;
                Ok(presumed
                    .filter(|_| held)
                    .map(|pid| LockHolder { host: None, pid }))
            }
            LockSource::SingletonLock(path) => {
                let target = match std::fs::read_link(path) {
                    Ok(t) => t,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => {
                        return Err(anyhow::Error::from(e).context(format!(
                            "cannot read the lock symlink {} (is it a symlink?)",
                            path.display()
                        )))
                    }
                };
                let target = target.to_str().with_context(|| {
                    format!("lock {} points at a non-UTF-8 target", path.display())
                })?;
                parse_singleton_target(target)
                    .map(Some)
                    .with_context(|| format!("malformed lock {}", path.display()))
            }
            LockSource::Pidfile(path) => {
                // A regular file only (a FIFO must not block reap, `/dev/zero` must not fill
                // memory), at most RECORD_CAP bytes.
                let bytes = crate::checked_open::read_foreign(
                    path,
                    crate::checked_open::RECORD_CAP,
                    crate::Error::Refused,
                    None,
                )
                .with_context(|| format!("cannot read pidfile {}", path.display()))?;
                let Some(bytes) = bytes else {
                    return Ok(None);
                };
                let text = String::from_utf8(bytes)
                    .with_context(|| format!("pidfile {} is not UTF-8 text", path.display()))?;
                let trimmed = text.trim();
                if trimmed.is_empty() {
                    return Ok(None);
                }
                let pid = parse_pid(trimmed)
                    .with_context(|| format!("malformed pidfile {}", path.display()))?;
                Ok(Some(LockHolder { host: None, pid }))
            }
        }
    }
}

impl LockSource {
    /// Whether the lock is held by a process it does not name: a held `lockfile`. Always
    /// `false` for the sources that name their holder.
    pub fn held_unnamed(&self) -> Result<bool> {
        match self {
            LockSource::Lockfile(path) => self.lockfile_held(path),
            LockSource::SingletonLock(_) | LockSource::Pidfile(_) => Ok(false),
        }
    }

    fn lockfile_held(&self, path: &Path) -> Result<bool> {
        crate::platform::held_without_sharing(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::Unsupported {
                crate::error::with_remedy(
                    crate::Error::Usage(format!(
                        "{}: a profile lockfile is read on Windows only",
                        path.display()
                    )),
                    crate::error::Remedy::UseSingletonLock,
                )
            } else {
                anyhow::Error::from(e)
                    .context(format!("cannot look at the lockfile {}", path.display()))
            }
        })
    }
}

/// The holder named by a lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHolder {
    /// The host the lock names; `None` for a pidfile (which is local by construction).
    pub host: Option<String>,
    /// The holder's pid (always > 0).
    pub pid: i32,
}

/// Parses a `SingletonLock` target `<hostname>-<pid>`, split at the last `-`.
///
/// Errors when there is no `-`, the host part is empty, or the pid is not a positive decimal.
pub fn parse_singleton_target(target: &str) -> Result<LockHolder> {
    let (host, pid) = target
        .rsplit_once('-')
        .with_context(|| format!("target {target:?} is not <hostname>-<pid>"))?;
    if host.is_empty() {
        anyhow::bail!("target {target:?} names no host");
    }
    Ok(LockHolder {
        host: Some(host.to_string()),
        pid: parse_pid(pid).with_context(|| format!("target {target:?}"))?,
    })
}

fn parse_pid(s: &str) -> Result<i32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        anyhow::bail!("{s:?} is not a pid");
    }
    match s.parse::<i32>() {
        Ok(pid) if pid > 0 => Ok(pid),
        _ => anyhow::bail!("{s:?} is not a valid pid"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn singleton_targets() {
        let table: &[(&str, Option<(&str, i32)>)] = &[
            ("myhost-123", Some(("myhost", 123))),
            (
                "my-dashed-host.local-4567",
                Some(("my-dashed-host.local", 4567)),
            ),
            ("host--9", Some(("host-", 9))),
            ("host-", None),
            ("-12", None),
            ("host", None),
            ("host-12a", None),
            ("host-+12", None),
            ("host-0", None),
            ("host-99999999999", None),
        ];
        for (target, want) in table {
            let got = parse_singleton_target(target).ok();
            let want = want.map(|(h, p)| LockHolder {
                host: Some(h.to_string()),
                pid: p,
            });
            assert_eq!(got, want, "{target}");
        }
    }

    #[test]
    fn reads_symlink_and_pidfile() {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join("SingletonLock");
        let src = LockSource::SingletonLock(lock.clone());
        assert_eq!(src.read().unwrap(), None);
        // Chromium makes its SingletonLock symlink only on Unix.
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("a-b-42", &lock).unwrap();
            assert_eq!(
                src.read().unwrap(),
                Some(LockHolder {
                    host: Some("a-b".into()),
                    pid: 42
                })
            );
        }
        let pidfile = dir.path().join("app.pid");
        let src = LockSource::Pidfile(pidfile.clone());
        assert_eq!(src.read().unwrap(), None);
        std::fs::write(&pidfile, "77\n").unwrap();
        assert_eq!(src.read().unwrap().map(|h| h.pid), Some(77));
        std::fs::write(&pidfile, "x\n").unwrap();
        let err = src.read().unwrap_err();
        assert!(format!("{err:#}").contains("app.pid"), "{err:#}");
    }
}
