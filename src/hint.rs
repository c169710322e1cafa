//! The `hint:` line under an error: the library's typed [`Remedy`] worded in this command's
//! flags, or a hint the command line attached itself ([`Hinted`]).
//!
//! The library never names a flag; every flag a hint names is written here or beside the
//! flag's own code in this crate.

use std::fmt;

use voxctl::error::{Remedy, SourceProblem, WithRemedy};
use voxctl::exit::ExitStatus;
use voxctl::Error;

/// An error with a next step worded by the command line itself (a value parser's hint, an
/// error only a command can meet). Its `Display` and `source` are the inner error's, so the
/// message chain is unchanged; [`status`] looks inside it for the exit code.
#[derive(Debug)]
pub struct Hinted {
    /// The error itself.
    pub inner: anyhow::Error,
    /// The `hint:` line's text.
    pub hint: String,
}

impl fmt::Display for Hinted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.inner, f)
    }
}

impl std::error::Error for Hinted {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source()
    }
}

/// `err` with `hint` as its `hint:` line.
pub fn hinted(err: impl Into<anyhow::Error>, hint: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Hinted {
        inner: err.into(),
        hint: hint.into(),
    })
}

/// The exit status of `err`: that of the first [`Error`] in its chain, looking inside a
/// [`Hinted`] too.
pub fn status(err: &anyhow::Error) -> ExitStatus {
    match Error::find(err) {
        Some(e) => e.exit_status(),
        None => err
            .chain()
            .find_map(|e| e.downcast_ref::<Hinted>())
            .map_or(ExitStatus::Failure, |h| status(&h.inner)),
    }
}

/// The hint for `err`: the first one attached in its chain (a [`Hinted`] or a library
/// [`Remedy`]), else the remedy of its kind. `waited` says that a `--wait` was given, so a
/// busy resource is not answered with "pass --wait".
pub fn of(err: &anyhow::Error, waited: bool) -> Option<String> {
    let attached = err.chain().find_map(|e| {
        if let Some(h) = e.downcast_ref::<Hinted>() {
            Some(h.hint.clone())
        } else {
            e.downcast_ref::<WithRemedy>()
                .and_then(|w| text(&w.remedy, waited))
        }
    });
    attached.or_else(|| {
        Error::find(err)
            .and_then(Error::remedy)
            .and_then(|r| text(&r, waited))
    })
}

/// `remedy` in words, naming the flags that apply it. `None` for a remedy this build does
/// not know (the library's list may grow before the command line's does).
pub fn text(remedy: &Remedy, waited: bool) -> Option<String> {
    let text = match remedy {
        Remedy::Wait if waited => "it was still held when the wait ran out: wait longer, or see \
                                   who holds it with `voxctl status`"
            .to_string(),
        Remedy::Wait => "wait for the holder, or pass --wait".to_string(),
        Remedy::WaitLonger => {
            "pass a longer --wait, or --wait alone to wait for as long as it takes".to_string()
        }
        Remedy::ResumeStopped { pid } => {
            format!("pid {pid} is stopped: `kill -CONT {pid}` resumes it")
        }
        Remedy::StoreLockStuck {
            pid: Some(pid),
            patience_secs,
        } => format!(
            "pid {pid} has held it for over {patience_secs}s; if it is stopped, `kill -CONT` it"
        ),
        Remedy::StoreLockStuck { pid: None, .. } => {
            "another process is stuck inside a lease operation".to_string()
        }
        Remedy::Confirm => "pass --yes to confirm without a terminal".to_string(),
        Remedy::OwnStateDir => "use a state dir of your own with --state-dir".to_string(),
        Remedy::RestrictStateDir { path } => format!("chmod 700 {}", path.display()),
        Remedy::RemoveForeignFile { path } => format!(
            "remove {} if you did not put it there; voxctl recreates it",
            path.display()
        ),
        Remedy::RemoveCorruptLeaseRecord => {
            "if no holder of this lease can still be running, remove the record".to_string()
        }
        Remedy::CheckLeaseStore => "check that etcd is running and that --store (or \
                                    VOXCTL_LEASE_STORE) lists its client URLs (etcd's \
                                    --advertise-client-urls)"
            .to_string(),
        Remedy::CheckLockPath { pidfile } => format!(
            "check the path given to {}",
            if *pidfile { "--pidfile" } else { "--lock" }
        ),
        Remedy::PartSize { whole: Some(whole) } => {
            format!("write {whole}: sizes are whole numbers, as for GNU split -b")
        }
        Remedy::PartSize { whole: None } => {
            "give a size from 1 byte to under 2 GiB as GNU split -b reads it, e.g. 1900000000, \
             1900MB (1000 powers) or 1GiB (1024 powers)"
                .to_string()
        }
        Remedy::LargerParts => "pass a larger --part-size".to_string(),
        Remedy::LargerChunks => {
            "give a larger average chunk size (--avg-size), or --no-index".to_string()
        }
        Remedy::ReplaceOutputs => {
            "pass --force to replace the existing outputs, or choose another --out".to_string()
        }
        Remedy::Resume { kept } => format!(
            "what was downloaded is kept in {}: run the same command again to resume",
            kept.display()
        ),
        Remedy::FetchAgain => "run the same fetch again to download from the start; `voxctl \
                               remove --partial-only` clears a partial download without \
                               breaking a running fetch"
            .to_string(),
        Remedy::FreeSpace { dir, bytes } => format!(
            "free {} in {}, or fetch into a data dir on a roomier filesystem (--data-dir DIR)",
            voxctl::size::iec(*bytes),
            dir.display()
        ),
        Remedy::CheckNetwork => {
            "check the network and the release server, or pass --source URL|DIR".to_string()
        }
        Remedy::CheckSource { problem } => source_text(problem)?,
        Remedy::SkipCompatCheck { asset } => format!(
            "fetch --variant cpu instead, or pass --skip-compat-check to download {asset} anyway"
        ),
        Remedy::AllowDowngrade => {
            "to install the older release anyway, pass --allow-downgrade".to_string()
        }
        Remedy::RaiseMaxSize => {
            "if the release really is that large, pass --max-size with its expanded size"
                .to_string()
        }
        Remedy::WithoutMirrors => "run again without --mirror (or VOXCTL_MIRRORS) to fetch \
                                   every byte from --source"
            .to_string(),
        Remedy::Repair { variant } => {
            format!("repair it with `voxctl fetch --repair --variant {variant}`")
        }
        Remedy::Reinstall { variant, inspect } => {
            let variant = variant.as_deref().unwrap_or("VARIANT");
            match inspect {
                Some(record) => format!(
                    "if the data dir was moved, reinstall with `voxctl fetch --force --variant \
                     {variant}`; otherwise inspect {}",
                    record.display()
                ),
                None => format!(
                    "reinstall from the release as it is now with `voxctl fetch --force \
                     --variant {variant}`"
                ),
            }
        }
        Remedy::Install {
            variant,
            fallback: true,
        } => format!(
            "nothing was stopped; install it with `voxctl fetch --variant {variant}`, or pass \
             --fallback cpu to start cpu instead"
        ),
        Remedy::Install {
            variant,
            fallback: false,
        } => format!("nothing was stopped; install it with `voxctl fetch --variant {variant}`"),
        Remedy::FreePort => {
            "stop whatever holds the port, or pass --port / --stop-timeout".to_string()
        }
        Remedy::FindPortHolder if cfg!(windows) => {
            "something else holds the port: see `netstat -ano`".to_string()
        }
        Remedy::FindPortHolder => "something else holds the port: see `ss -ltnp`".to_string(),
        Remedy::StopFirst { variant } => format!(
            "stop it first with `voxctl stop`, or pass --force to stop it and remove {variant}"
        ),
        Remedy::SeeBackendLog => "see the log lines above".to_string(),
        Remedy::StartAgain { variant } => format!(
            "see the log lines above; `voxctl status` shows what runs, `voxctl restart \
             --variant {variant}` starts it again"
        ),
        Remedy::FinishRestart { pid } => format!(
            "backend pid {pid} was sent SIGTERM and stays recorded; nothing new was started: \
             run `voxctl restart` again to finish"
        ),
        Remedy::RestartAgain => "the previous backend is stopped and nothing was started: run \
                                 `voxctl restart` again"
            .to_string(),
        Remedy::WatchStatus { pid, variant } => format!(
            "backend pid {pid} ({variant}) was started and is recorded; `voxctl status` shows \
             whether it becomes healthy"
        ),
        Remedy::Restart { variant } => {
            format!("restart it with `voxctl restart --variant {variant}`")
        }
        Remedy::NameDataDir => "pass --data-dir or set VOXCTL_DATA_DIR".to_string(),
        Remedy::NameStateDir => "pass --state-dir or set VOXCTL_STATE_DIR".to_string(),
        Remedy::UseSingletonLock => "on Unix give --lock the profile's SingletonLock".to_string(),
        _ => return command(remedy),
    };
    Some(text)
}

/// `remedy` as doctor's `fix:`: the one command to run where there is one, else the hint's
/// words.
pub fn fix(remedy: &Remedy) -> Option<String> {
    let text = match remedy {
        Remedy::Install { variant, .. } => format!("voxctl fetch --variant {variant}"),
        Remedy::Restart { variant } => format!("voxctl restart --variant {variant}"),
        Remedy::Repair { variant } => format!("voxctl fetch --repair --variant {variant}"),
        Remedy::RemoveForeignFile { path } => format!("rm {}", path.display()),
        Remedy::FreeSpace { dir, bytes } => format!(
            "free at least {} on the filesystem of {}",
            voxctl::size::iec(*bytes),
            dir.display()
        ),
        _ => return command(remedy).or_else(|| text(remedy, false)),
    };
    Some(text)
}

/// The remedies that only doctor gives, as the command that applies each.
fn command(remedy: &Remedy) -> Option<String> {
    let text = match remedy {
        Remedy::ResumeOrDiscard { variant, dir } => format!(
            "voxctl fetch --variant {variant} (resumes it), or rm -r {}",
            dir.display()
        ),
        #[cfg(unix)]
        Remedy::TakeOwnership { path } => {
            format!("chown -R {} {}", nix::unistd::geteuid(), path.display())
        }
        #[cfg(windows)]
        Remedy::TakeOwnership { path } => format!("takeown /f {} /r", path.display()),
        Remedy::SetMode { path, mode } => format!("chmod {mode:o} {}", path.display()),
        Remedy::MoveAside { path } => {
            format!("mv {} {}.bad", path.display(), path.display())
        }
        Remedy::Inspect { path } => format!("ls -la {}", path.display()),
        Remedy::RunProbe { tool } => tool.clone(),
        _ => return None,
    };
    Some(text)
}

/// What to check about a release source, naming `--source` and `--tag`.
fn source_text(problem: &SourceProblem) -> Option<String> {
    let text = match problem {
        SourceProblem::UnknownHost => {
            "the host name does not resolve (not retried): check the URL in --source"
        }
        SourceProblem::Certificate => {
            "the server's TLS certificate was refused (not retried): check the URL; voxctl \
             trusts the Mozilla root store and never skips the check"
        }
        SourceProblem::NotTls => {
            "the server answered in plain HTTP, not TLS (not retried): use http:// instead of \
             https:// in --source"
        }
        SourceProblem::ConnectionRefused => {
            "nothing accepts connections there (not retried): check the host and port in \
             --source, and that the server is running"
        }
        SourceProblem::NoRelease => {
            "check the release location and tag (--source, --tag): the server has none of these \
             files there; a local directory is a path or a file:/// URL (three slashes)"
        }
        SourceProblem::NoReleaseInDir => "check --source: the directory holds none of these files",
        SourceProblem::NoSuchDir {
            server: Some(server),
        } => {
            return Some(format!(
                "a --source without a scheme is a directory; for a server, pass --source {server}"
            ))
        }
        SourceProblem::NoSuchDir { server: None } => {
            "pass an existing directory, or an http(s):// or file:// URL"
        }
        _ => return None,
    };
    Some(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hint_of_the_command_line_or_of_the_library_is_found_inside_context() {
        let lib = voxctl::error::with_remedy(Error::Usage("x".into()), Remedy::LargerParts)
            .context("outer");
        assert_eq!(
            of(&lib, false).as_deref(),
            Some("pass a larger --part-size")
        );
        assert_eq!(status(&lib), ExitStatus::Usage);
        let own = hinted(Error::Integrity("y".into()), "do z").context("outer");
        assert_eq!(of(&own, false).as_deref(), Some("do z"));
        assert_eq!(status(&own), ExitStatus::Integrity);
        assert_eq!(status(&anyhow::anyhow!("plain")), ExitStatus::Failure);
        // The outermost attached hint wins over the one of the kind.
        let busy = Error::Busy {
            what: "slot s".into(),
            holder: None,
        };
        assert_eq!(
            of(&anyhow::Error::from(busy), false).as_deref(),
            Some("wait for the holder, or pass --wait")
        );
        let busy = Error::Busy {
            what: "slot s".into(),
            holder: None,
        };
        let waited = of(&anyhow::Error::from(busy), true).unwrap();
        assert!(waited.starts_with("it was still held"), "{waited}");
    }

    /// Doctor's fixes are commands to paste; a remedy with no command of its own reads as
    /// its hint.
    #[test]
    fn doctor_fixes_are_the_commands_that_apply_each_remedy() {
        let p = std::path::PathBuf::from("/d/x");
        let cases = [
            (
                Remedy::ResumeOrDiscard {
                    variant: "cuda".into(),
                    dir: p.clone(),
                },
                "voxctl fetch --variant cuda (resumes it), or rm -r /d/x",
            ),
            (
                Remedy::SetMode {
                    path: p.clone(),
                    mode: 0o755,
                },
                "chmod 755 /d/x",
            ),
            (Remedy::MoveAside { path: p.clone() }, "mv /d/x /d/x.bad"),
            (Remedy::Inspect { path: p.clone() }, "ls -la /d/x"),
            (
                Remedy::RunProbe {
                    tool: "nvidia-smi".into(),
                },
                "nvidia-smi",
            ),
            (Remedy::RemoveForeignFile { path: p.clone() }, "rm /d/x"),
            (
                Remedy::FreeSpace {
                    dir: p.clone(),
                    bytes: 3 << 30,
                },
                "free at least 3 GiB on the filesystem of /d/x",
            ),
            (
                Remedy::Restart {
                    variant: "cpu".into(),
                },
                "voxctl restart --variant cpu",
            ),
            (Remedy::LargerParts, "pass a larger --part-size"),
            (
                Remedy::NameDataDir,
                "pass --data-dir or set VOXCTL_DATA_DIR",
            ),
            (
                Remedy::NameStateDir,
                "pass --state-dir or set VOXCTL_STATE_DIR",
            ),
            (
                Remedy::UseSingletonLock,
                "on Unix give --lock the profile's SingletonLock",
            ),
        ];
        for (remedy, want) in cases {
            assert_eq!(fix(&remedy).as_deref(), Some(want), "{remedy:?}");
        }
        #[cfg(unix)]
        assert_eq!(
            fix(&Remedy::TakeOwnership { path: p }),
            Some(format!("chown -R {} /d/x", nix::unistd::geteuid()))
        );
    }
}
