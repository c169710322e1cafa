//! Checking what is installed against its install record: `verify --installed`,
//! `doctor`, `restart`'s refusal of a damaged variant and `fetch --repair` all start here.
//!
//! Two depths: the **quick** check compares each recorded file's existence, type and size
//! (a truncated binary or a deleted library is found in microseconds, without reading
//! gigabytes); the **deep** check re-hashes every file against the SHA-256 recorded at
//! install time (a flipped byte is found too). A single-file install is checked as one file
//! (the asset's SHA-256 is the file's); an archive install as each file and symlink
//! extracted from it ([`InstalledFile`], which `fetch` records; a record
//! written without that list can only be checked for the executable).
//!
//! Outcomes are [`Check`]s, the type `verify -c` reports, so the output is the same.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::installs::{InstallRecord, InstalledFile};
use crate::verify::{self, Check, Job, Status};

/// How thoroughly to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// Existence, type and size only.
    Quick,
    /// Re-hash every file.
    Deep,
}

/// What to check for one record: regular files (hashed when deep) and symlinks.
enum Item {
    File(Job),
    Link {
        name: String,
        path: PathBuf,
        target: PathBuf,
    },
    /// A file recorded without a digest: its size only.
    SizeOnly(Job),
    /// An archive install recorded without its file list: only the executable.
    Executable {
        name: String,
        path: PathBuf,
    },
}

/// The name an archive file is shown under: `{install dir name}/{path}` (`cuda/lib/x.so`).
fn shown(record: &InstallRecord, rel: &Path) -> String {
    let dir = record
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Path::new(&dir).join(rel).display().to_string()
}

fn items(record: &InstallRecord) -> Vec<Item> {
    if record.layout != crate::manifest::Layout::Archive {
        return vec![Item::File(Job {
            raw_name: None,
            name: record.asset.clone(),
            path: record.path.clone(),
            sha256: record.sha256,
            size: Some(record.size),
        })];
    }
    let Some(files) = &record.files else {
        return vec![Item::Executable {
            name: shown(record, Path::new(&record.asset)),
            path: record.path.join(&record.asset),
        }];
    };
    files
        .iter()
        .map(|f: &InstalledFile| match (&f.link, f.sha256) {
            (Some(target), _) => Item::Link {
                name: shown(record, &f.path),
                path: record.path.join(&f.path),
                target: target.clone(),
            },
            (None, Some(sha256)) => Item::File(Job {
                raw_name: None,
                name: shown(record, &f.path),
                path: record.path.join(&f.path),
                sha256,
                size: Some(f.size),
            }),
            // A file entry without a digest cannot be checked beyond its size.
            (None, None) => Item::SizeOnly(Job {
                raw_name: None,
                name: shown(record, &f.path),
                path: record.path.join(&f.path),
                sha256: crate::checksum::Sha256([0; 32]),
                size: Some(f.size),
            }),
        })
        .collect()
}

fn check_link(name: &str, path: &Path, target: &Path) -> Check {
    let mut c = Check::new(name, path, Status::Failed);
    match std::fs::read_link(path) {
        Ok(t) if t == target => c.status = Status::Ok,
        Ok(t) => {
            c.detail = Some(format!(
                "symlink to {}, expected {}",
                t.display(),
                target.display()
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => c.status = Status::Missing,
        Err(e) => c.detail = Some(format!("not the recorded symlink: {e}")),
    }
    c
}

fn check_executable(name: &str, path: &Path) -> Check {
    let mut c = Check::new(name, path, Status::Failed);
    match std::fs::metadata(path) {
        // Windows has no execute bit: a regular file there is executable by its name.
        Ok(m) if m.is_file() && crate::platform::mode_bits(&m).is_none_or(|m| m & 0o100 != 0) => {
            c.status = Status::Present;
            c.size = Some(m.len());
            c.detail = Some(
                "installed by an older voxctl, without a per-file record: only the executable \
                 is checked (a forced reinstall records every file)"
                    .into(),
            );
        }
        Ok(_) => c.detail = Some("not an executable file".into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => c.status = Status::Missing,
        Err(e) => c.detail = Some(format!("cannot stat: {e}")),
    }
    c
}

/// The quick check of one file: exists, is a regular file, has the recorded size.
fn check_size(job: &Job) -> Check {
    let mut c = Check::new(&job.name, &job.path, Status::Failed);
    c.expected_size = job.size;
    c.expected_sha256 = Some(job.sha256);
    match std::fs::metadata(&job.path) {
        Ok(m) if !m.is_file() => c.detail = Some("not a regular file".into()),
        Ok(m) => {
            c.size = Some(m.len());
            match job.size {
                Some(want) if want != m.len() => {
                    c.detail = Some(format!("size is {} bytes, expected {want}", m.len()))
                }
                _ => c.status = Status::Ok,
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => c.status = Status::Missing,
        Err(e) => c.detail = Some(format!("cannot stat: {e}")),
    }
    c
}

/// Checks the install of `record` at `depth`, in record order. A deep check hashes up to
/// `threads` files at a time and reports each [`verify::Event::Hashed`] to `on_event` (the
/// checks themselves are the result). Errors only with
/// [`crate::Error::Interrupted`] once `cancel` is cancelled; everything about the files is in the [`Check`]s.
pub fn check(
    record: &InstallRecord,
    depth: Depth,
    threads: usize,
    on_event: &(dyn Fn(&verify::Event) + Sync),
    cancel: &crate::cancel::Cancel,
) -> Result<Vec<Check>> {
    let items = items(record);
    let mut out: Vec<Option<Check>> = Vec::with_capacity(items.len());
    let mut jobs = Vec::new();
    let mut slots = Vec::new();
    for item in &items {
        match item {
            Item::File(job) if depth == Depth::Deep => {
                slots.push(out.len());
                out.push(None);
                jobs.push(job.clone());
            }
            Item::File(job) | Item::SizeOnly(job) => out.push(Some(check_size(job))),
            Item::Link { name, path, target } => out.push(Some(check_link(name, path, target))),
            Item::Executable { name, path } => out.push(Some(check_executable(name, path))),
        }
    }
    if !jobs.is_empty() {
        let settings = verify::Settings {
            threads,
            cancel: cancel.clone(),
        };
        let hashed = |e: &verify::Event| {
            if let verify::Event::Hashed { .. } = e {
                on_event(e)
            }
        };
        for (i, c) in slots
            .into_iter()
            .zip(verify::check_files(&jobs, &settings, &hashed)?)
        {
            out[i] = Some(c);
        }
    }
    Ok(out.into_iter().flatten().collect())
}

/// Whether every check passed.
pub fn all_passed(checks: &[Check]) -> bool {
    checks.iter().all(|c| c.status.passed())
}

/// A one-line summary of the failures, e.g. `cuda/lib/libx.so: MISSING; cuda/voicebox-server-cuda: FAILED (size is 3 bytes, expected 9)`.
pub fn describe_failures(checks: &[Check]) -> String {
    checks
        .iter()
        .filter(|c| !c.status.passed())
        .map(|c| match &c.detail {
            Some(d) => format!("{}: {} ({d})", c.name, c.status.word()),
            None => format!("{}: {}", c.name, c.status.word()),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(path: &Path, size: u64) -> Job {
        Job {
            raw_name: None,
            name: "x".into(),
            path: path.to_path_buf(),
            sha256: crate::checksum::Sha256([0; 32]),
            size: Some(size),
        }
    }

    /// A path whose parent is a regular file: stat fails with ENOTDIR (Windows: the path is
    /// not found), which must not read as MISSING on Unix.
    #[cfg(unix)]
    fn under_a_file(dir: &Path) -> PathBuf {
        std::fs::write(dir.join("plain"), b"x").unwrap();
        dir.join("plain").join("child")
    }

    #[test]
    fn quick_size_check_tells_missing_from_wrong_type_and_size() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"12345").unwrap();
        assert_eq!(check_size(&job(&file, 5)).status, Status::Ok);
        let short = check_size(&job(&file, 6));
        assert_eq!(short.status, Status::Failed);
        assert_eq!(short.detail.as_deref(), Some("size is 5 bytes, expected 6"));
        assert_eq!(
            check_size(&job(&dir.path().join("gone"), 5)).status,
            Status::Missing
        );
        // A directory of exactly the recorded size is still not the file.
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let len = std::fs::metadata(&sub).unwrap().len();
        let c = check_size(&job(&sub, len));
        assert_eq!(c.status, Status::Failed);
        assert_eq!(c.detail.as_deref(), Some("not a regular file"));
        #[cfg(unix)]
        {
            let c = check_size(&job(&under_a_file(dir.path()), 1));
            assert_eq!(c.status, Status::Failed);
            assert!(c.detail.unwrap().starts_with("cannot stat: "));
        }
    }

    #[test]
    fn legacy_executable_check_tells_missing_from_not_executable() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("server");
        std::fs::write(&exe, b"#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let set = |mode| {
                std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(mode)).unwrap()
            };
            for (mode, want) in [
                (0o644, Status::Failed),
                (0o654, Status::Failed),
                (0o744, Status::Present),
                (0o700, Status::Present),
            ] {
                set(mode);
                assert_eq!(check_executable("s", &exe).status, want, "{mode:o}");
            }
            let c = check_executable("s", &under_a_file(dir.path()));
            assert_eq!(c.status, Status::Failed);
            assert!(c.detail.unwrap().starts_with("cannot stat: "));
        }
        let c = check_executable("s", &exe);
        assert_eq!(c.status, Status::Present);
        assert_eq!(c.size, Some(10));
        assert_eq!(
            check_executable("s", &dir.path().join("gone")).status,
            Status::Missing
        );
        let c = check_executable("s", dir.path());
        assert_eq!(c.status, Status::Failed);
        assert_eq!(c.detail.as_deref(), Some("not an executable file"));
    }

    #[cfg(unix)]
    #[test]
    fn link_check_tells_missing_from_replaced_and_retargeted() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("lib.so");
        std::os::unix::fs::symlink("lib.so.1", &link).unwrap();
        let want = Path::new("lib.so.1");
        assert_eq!(check_link("l", &link, want).status, Status::Ok);
        let c = check_link("l", &link, Path::new("lib.so.2"));
        assert_eq!(c.status, Status::Failed);
        assert_eq!(
            c.detail.as_deref(),
            Some("symlink to lib.so.1, expected lib.so.2")
        );
        assert_eq!(
            check_link("l", &dir.path().join("gone"), want).status,
            Status::Missing
        );
        std::fs::remove_file(&link).unwrap();
        std::fs::write(&link, b"x").unwrap();
        let c = check_link("l", &link, want);
        assert_eq!(c.status, Status::Failed);
        assert!(c.detail.unwrap().starts_with("not the recorded symlink: "));
    }
}
