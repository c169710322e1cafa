//! The state dir (docs/contract.md "State dir"): `$VOXCTL_STATE_DIR`, else
//! `$XDG_STATE_HOME/voxctl`, else `~/.local/state/voxctl` (`%LOCALAPPDATA%\voxctl\state` on
//! Windows).
//!
//! It is created with mode 0700, and refused when another user owns it or when it is group-
//! or world-writable (Unix), since its lock files and records steer which processes get
//! signalled.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::checked_open::{self, Rule};
use crate::error::{with_remedy, Error, Remedy};

/// A validated state dir.
#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
}

impl StateDir {
    /// The default location when no `--state-dir`/`VOXCTL_STATE_DIR` is given.
    pub fn default_path() -> Result<PathBuf> {
        if let Some(d) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
            return Ok(PathBuf::from(d).join("voxctl"));
        }
        let base = directories::BaseDirs::new().ok_or_else(|| {
            with_remedy(
                anyhow::anyhow!("cannot find the home directory, so there is no default state dir"),
                Remedy::NameStateDir,
            )
        })?;
        if cfg!(windows) {
            return Ok(base.data_local_dir().join("voxctl").join("state"));
        }
        Ok(base.home_dir().join(".local/state/voxctl"))
    }

    /// Opens (creating with mode 0700 if needed) the state dir at `root`, or at the default
    /// location. Errors when the directory is owned by another user or is group/world
    /// writable (exit 5, refused).
    pub fn open(root: Option<&Path>) -> Result<StateDir> {
        let root = match root {
            Some(r) => r.to_path_buf(),
            None => Self::default_path()?,
        };
        crate::platform::create_dir(&root, 0o700, true)
            .or_else(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists if root.is_dir() => Ok(()),
                _ => Err(e),
            })
            .with_context(|| format!("cannot create state dir {}", root.display()))?;
        let dir = crate::platform::open_dir(&root)
            .with_context(|| format!("cannot read state dir {}", root.display()))?;
        let meta = dir
            .metadata()
            .with_context(|| format!("cannot read state dir {}", root.display()))?;
        if !meta.is_dir() {
            anyhow::bail!("state dir {} is not a directory", root.display());
        }
        if let Some(why) = crate::platform::foreign_owner(&dir)
            .with_context(|| format!("cannot read the owner of state dir {}", root.display()))?
        {
            return Err(with_remedy(
                Error::Refused(format!("state dir {} is {why}", root.display())),
                Remedy::OwnStateDir,
            ));
        }
        if let Some(mode) = crate::platform::mode_bits(&meta).filter(|m| m & 0o022 != 0) {
            return Err(with_remedy(
                Error::Refused(format!(
                    "state dir {} is group or world writable (mode {mode:o})",
                    root.display(),
                )),
                Remedy::RestrictStateDir { path: root },
            ));
        }
        Ok(StateDir { root })
    }

    /// The state dir itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A subdirectory (`slots`, `leases`, `logs`), created 0700 on first use and checked
    /// like the state dir on an opened handle (`checked_open::check_dir`): a symlink,
    /// a non-directory, another owner or a group/world-writable mode is refused with
    /// [`Error::Refused`] (exit 5) naming the path.
    pub fn subdir(&self, name: &str) -> Result<PathBuf> {
        let dir = self.root.join(name);
        checked_open::ensure_dir(&dir, 0o700, false, Rule::Private)?;
        Ok(dir)
    }

    /// A subdirectory for a reader that must not create it (`status`, `lease list`): checked
    /// as [`StateDir::subdir`] checks it (a symlink, a non-directory, another owner or a
    /// group/world-writable mode is [`Error::Refused`], exit 5) but never created; a missing
    /// one is returned as is, and its listings are empty.
    pub fn existing_subdir(&self, name: &str) -> Result<PathBuf> {
        let dir = self.root.join(name);
        match std::fs::symlink_metadata(&dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(dir),
            _ => {
                checked_open::check_dir(&dir, Rule::Private)?;
                Ok(dir)
            }
        }
    }

    /// `backend.json`: the running backend's record (read with
    /// `checked_open::read_record`).
    pub fn backend_record(&self) -> PathBuf {
        self.root.join("backend.json")
    }

    /// `relaunch-marker.json`: the updater's record of the app instance it replaces
    /// (`reap mark`), consumed once by `reap`. Only `reap mark` writes it.
    pub fn relaunch_marker(&self) -> PathBuf {
        self.root.join("relaunch-marker.json")
    }

    /// `restart-marker.json`: `restart`'s record of the backend instance it is about to stop,
    /// in the relaunch marker's format (for `reap --pidfile PIDFILE --marker` this file). Kept
    /// apart from the relaunch marker so that a restart never replaces the updater's.
    pub fn restart_marker(&self) -> PathBuf {
        self.root.join("restart-marker.json")
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn creates_private_dir_and_refuses_world_writable() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("state");
        let sd = StateDir::open(Some(&root)).unwrap();
        let mode = std::fs::metadata(sd.root()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = StateDir::open(Some(&root)).unwrap_err();
        assert!(
            matches!(Error::find(&err), Some(Error::Refused(_))),
            "{err:#}"
        );
    }
}
