//! The typed errors a caller must branch on, each of one kind ([`ExitStatus`]) of docs/contract.md
//! "Exit codes".
//!
//! Library functions return `anyhow::Result` with context naming the path, URL, part or pid;
//! the root of the chain is an [`Error`] whenever the failure is one of the kinds below, so
//! a caller can find it with [`Error::find`] and the binary exits with
//! [`Error::exit_status`] ([`ExitStatus::of`] does both).

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::exit::ExitStatus;

/// A failure of a documented kind; [`Error::exit_status`] gives its exit status.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// [`ExitStatus::Usage`]: the arguments or their values are invalid (a bad name, size or
    /// duration).
    #[error("{0}")]
    Usage(String),
    /// [`ExitStatus::Integrity`]: a checksum is missing, malformed or does not match, or
    /// release data is inconsistent (sizes that do not add up, unsafe names, an escaping
    /// archive entry).
    #[error("{0}")]
    Integrity(String),
    /// [`ExitStatus::Busy`]: a slot or lease is held by someone else (after any `--wait`).
    #[error("{what} is busy{}", holder_suffix(.holder))]
    Busy {
        /// What is held, e.g. `slot fetch-voicebox-server-cuda`.
        what: String,
        /// A one-line description of the holder (pid, command, progress), when known.
        holder: Option<String>,
    },
    /// [`ExitStatus::Refused`]: a safety guard declined, or a confirmation was needed with no
    /// TTY and no `--yes`.
    #[error("{0}")]
    Refused(String),
    /// [`ExitStatus::Lost`]: a lease was lost or a fencing token is stale.
    #[error("{0}")]
    Lost(String),
    /// [`ExitStatus::TimedOut`]: timed out waiting (port release, health, lease, slot).
    #[error("{0}")]
    TimedOut(String),
    /// [`ExitStatus::Interrupted`]: interrupted by SIGINT or SIGTERM.
    #[error("interrupted")]
    Interrupted,
}

fn holder_suffix(holder: &Option<String>) -> String {
    match holder {
        Some(h) => format!(" (held by {h})"),
        None => String::new(),
    }
}

impl Error {
    /// The first [`Error`] in an `anyhow` chain, if any.
    pub fn find(err: &anyhow::Error) -> Option<&Error> {
        err.chain().find_map(|e| {
            e.downcast_ref::<Error>().or_else(|| {
                e.downcast_ref::<WithRemedy>()
                    .and_then(|w| w.inner.downcast_ref::<Error>())
            })
        })
    }

    /// The error's kind, as an exit status: one variant per kind.
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Error::Usage(_) => ExitStatus::Usage,
            Error::Integrity(_) => ExitStatus::Integrity,
            Error::Busy { .. } => ExitStatus::Busy,
            Error::Refused(_) => ExitStatus::Refused,
            Error::Lost(_) => ExitStatus::Lost,
            Error::TimedOut(_) => ExitStatus::TimedOut,
            Error::Interrupted => ExitStatus::Interrupted,
        }
    }

    /// The error's kind as named in `--json` error documents: `usage`, `integrity`, `busy`,
    /// `refused`, `lost`, `timed_out` or `interrupted` (any other failure is `failure`);
    /// [`ExitStatus::name`] of [`Error::exit_status`].
    pub fn kind(&self) -> &'static str {
        self.exit_status().name()
    }

    /// The next step for an error of this kind when the failure names none of its own:
    /// [`Remedy::Wait`] for a busy resource, [`Remedy::Confirm`] for a refusal.
    pub fn remedy(&self) -> Option<Remedy> {
        match self {
            Error::Busy { .. } => Some(Remedy::Wait),
            Error::Refused(_) => Some(Remedy::Confirm),
            _ => None,
        }
    }
}

/// What the user (or the app embedding the library) can do about a failure: a typed next
/// step, so that each front end words it in its own terms. The command line renders each as
/// the `hint:` line under the error, naming its flags (`Remedy::Wait` is "pass --wait"); an
/// app may offer a button instead.
///
/// Serialized with its name under `action` and its fields beside it, in snake case:
/// `{"action": "repair", "variant": "cuda"}`. Find the one an error carries with
/// [`remedy_of`], or take the whole [`Report`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Remedy {
    /// A slot or lease is held: wait for its holder to let go.
    Wait,
    /// A wait for a slot ran out: wait longer, or without a limit.
    WaitLonger,
    /// The holder, process `pid`, is stopped (SIGSTOP); resuming it (SIGCONT) lets it finish.
    ResumeStopped {
        /// The stopped holder.
        pid: i32,
    },
    /// The lease store's lock was held for over `patience_secs` seconds, by `pid` when known;
    /// if that process is stopped, resume it.
    StoreLockStuck {
        /// The process that holds the lock, when the system says.
        pid: Option<i32>,
        /// How long the lock was waited for, in seconds.
        patience_secs: u64,
    },
    /// The action needs the user's consent, which was not given.
    Confirm,
    /// The state dir is not the user's own: use one that is.
    OwnStateDir,
    /// The state dir `path` is writable by others: make it private (mode 0700).
    RestrictStateDir {
        /// The state dir.
        path: PathBuf,
    },
    /// `path` in the state dir is not what voxctl wrote there: remove it if nobody else put it
    /// there; voxctl recreates it.
    RemoveForeignFile {
        /// The refused file.
        path: PathBuf,
    },
    /// A lease record is corrupt: remove it once no holder of that lease can still be running.
    RemoveCorruptLeaseRecord,
    /// The etcd lease store did not answer: check that etcd runs and that the store's URLs are
    /// its client URLs.
    CheckLeaseStore,
    /// The path given for a lock file or pidfile does not exist: check it.
    CheckLockPath {
        /// The path given was a pidfile's (not a lock's).
        pidfile: bool,
    },
    /// A part size outside what `split -b` reads, or out of range: give one from 1 byte to
    /// under 2 GiB; `whole` is the whole-number spelling of a decimal that was given.
    PartSize {
        /// The size written as a whole number (`1900MB` for `1.9GB`), when a decimal was given.
        whole: Option<String>,
    },
    /// The input would need too many parts: use larger parts.
    LargerParts,
    /// The input would need too many content-defined chunks: use a larger average chunk size,
    /// or no chunk index.
    LargerChunks,
    /// Outputs already exist: allow replacing them, or write elsewhere.
    ReplaceOutputs,
    /// A stopped download kept its data in `kept`: the same fetch again resumes from it.
    Resume {
        /// The partial download's directory.
        kept: PathBuf,
    },
    /// The partial download vanished under a running fetch: the same fetch again starts from
    /// the beginning (a partial download is removed safely with `remove --partial-only`).
    FetchAgain,
    /// The filesystem of `dir` lacks `bytes` bytes: free them, or use a data dir elsewhere.
    FreeSpace {
        /// The directory that needs the space.
        dir: PathBuf,
        /// How many more bytes it needs.
        bytes: u64,
    },
    /// The release server could not be reached: check the network and the server, or use
    /// another source.
    CheckNetwork,
    /// The release source is wrong in a way that retrying cannot fix.
    CheckSource {
        /// What is wrong with it.
        problem: SourceProblem,
    },
    /// The variant cannot run on this host's GPU: take the cpu variant, or skip the check to
    /// download `asset` anyway.
    SkipCompatCheck {
        /// The asset that was refused.
        asset: String,
    },
    /// The release is older than what is installed: allow the downgrade explicitly.
    AllowDowngrade,
    /// An archive expands past its cap: raise the cap to the release's expanded size.
    RaiseMaxSize,
    /// Bytes came from a mirror that may have served them wrong: fetch without mirrors.
    WithoutMirrors,
    /// The installed `variant` is damaged: repair it.
    Repair {
        /// The damaged variant.
        variant: String,
    },
    /// Reinstall `variant` (replacing what is installed) from the release as it is now;
    /// `inspect` names a record to look at first when the install is not simply outdated.
    Reinstall {
        /// The variant, when the record names one.
        variant: Option<String>,
        /// A record that disagrees with the install, to inspect before reinstalling.
        inspect: Option<PathBuf>,
    },
    /// No usable binary of `variant` is installed (nothing was stopped): install it, or (when
    /// `fallback` is true) allow the fallback to cpu.
    Install {
        /// The variant asked for.
        variant: String,
        /// Whether a fallback to cpu could start instead.
        fallback: bool,
    },
    /// The backend's port is still in use: stop what holds it, use another port, or allow a
    /// longer stop.
    FreePort,
    /// The backend stopped but something else holds its port: find it.
    FindPortHolder,
    /// The `variant` to remove is the running backend: stop it first, or force.
    StopFirst {
        /// The variant asked to be removed.
        variant: String,
    },
    /// The new backend failed; the reason is in its log, shown above the error.
    SeeBackendLog,
    /// The new backend and the rollback both failed; nothing runs: see the log, then start
    /// `variant` again.
    StartAgain {
        /// The variant that ran before.
        variant: String,
    },
    /// An interrupted restart sent SIGTERM to the backend `pid`, which stays recorded, and
    /// started nothing: a restart again finishes.
    FinishRestart {
        /// The backend that was sent SIGTERM.
        pid: i32,
    },
    /// An interrupted restart stopped the previous backend and started nothing: a restart
    /// again starts one.
    RestartAgain,
    /// An interrupted restart started backend `pid` (`variant`), which is recorded: the status
    /// shows whether it becomes healthy.
    WatchStatus {
        /// The new backend.
        pid: i32,
        /// Its variant.
        variant: String,
    },
    /// Restart the backend as `variant` (it runs something older, or runs badly).
    Restart {
        /// The variant to run.
        variant: String,
    },
    /// A partial download of `variant` is kept in `dir`: fetch `variant` again to resume it, or
    /// delete the directory to free its space.
    ResumeOrDiscard {
        /// The variant the partial download is of (`VARIANT` when its asset name does not
        /// say).
        variant: String,
        /// The partial download's directory.
        dir: PathBuf,
    },
    /// The home directory is unknown, so there is no default data dir: name one.
    NameDataDir,
    /// The home directory is unknown, so there is no default state dir: name one.
    NameStateDir,
    /// A Chromium-style profile lockfile is read on Windows only: on Unix, name the
    /// profile's `SingletonLock` (a symlink naming the holder) instead.
    UseSingletonLock,
    /// `path` could not be read as expected: look at it (its entries, owners and modes).
    Inspect {
        /// The directory or file.
        path: PathBuf,
    },
    /// The GPU probe `tool` (`nvidia-smi`) did not answer: run it by hand to see why.
    RunProbe {
        /// The probe's command.
        tool: String,
    },
    /// `path` is in the way (a file where a directory belongs): move it aside, to
    /// `PATH.bad`.
    MoveAside {
        /// What is in the way.
        path: PathBuf,
    },
    /// `path` belongs to another user: make it this user's (recursively).
    TakeOwnership {
        /// The directory.
        path: PathBuf,
    },
    /// `path` is writable by others: set its mode to `mode` (the same bits, without the
    /// others' write).
    SetMode {
        /// The directory.
        path: PathBuf,
        /// The mode to set, as `chmod` reads it in octal (`0o755`).
        mode: u32,
    },
}

/// What is wrong with a release source, for [`Remedy::CheckSource`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SourceProblem {
    /// The host name does not resolve.
    UnknownHost,
    /// The server's TLS certificate was refused (the Mozilla root store is trusted; the check
    /// is never skipped).
    Certificate,
    /// The server answered in plain HTTP, not TLS.
    NotTls,
    /// Nothing accepts connections at the host and port.
    ConnectionRefused,
    /// The server has none of the release's files at that location and tag.
    NoRelease,
    /// The release directory holds none of the release's files.
    NoReleaseInDir,
    /// The release directory does not exist; `server` is the `http://` URL it probably meant
    /// (it reads as HOST:PORT).
    NoSuchDir {
        /// `http://TEXT` when the path looks like a server's address.
        server: Option<String>,
    },
}

/// An error with a next step for the user (see [`Remedy`]).
///
/// Its `Display` and `source` are the inner error's, so the message chain is unchanged;
/// [`Error::find`] looks inside it for the exit code. Build one with [`with_remedy`].
#[derive(Debug)]
pub struct WithRemedy {
    /// The error itself.
    pub inner: anyhow::Error,
    /// The next step.
    pub remedy: Remedy,
}

impl fmt::Display for WithRemedy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.inner, f)
    }
}

impl std::error::Error for WithRemedy {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source()
    }
}

/// Attaches a remedy to an error (see [`WithRemedy`]).
pub fn with_remedy(err: impl Into<anyhow::Error>, remedy: Remedy) -> anyhow::Error {
    anyhow::Error::new(WithRemedy {
        inner: err.into(),
        remedy,
    })
}

/// The next step for an error chain: the first attached [`Remedy`] (the one closest to
/// where the failure was seen), else that of its [`Error`]'s kind ([`Error::remedy`]).
pub fn remedy_of(err: &anyhow::Error) -> Option<Remedy> {
    err.chain()
        .find_map(|e| e.downcast_ref::<WithRemedy>().map(|w| w.remedy.clone()))
        .or_else(|| Error::find(err).and_then(Error::remedy))
}

/// A failure as an app shows or stores it, with no `anyhow` in sight: its exit status and
/// kind, the message with its cause chain, and the next step. Serializes as
/// `{"code": 4, "kind": "busy", "message": "...", "remedy": {"action": "wait"}}` (`remedy`
/// null when there is none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Report {
    /// The exit status of the failure (in JSON its code, a number).
    pub code: ExitStatus,
    /// [`ExitStatus::name`] of `code`: `usage`, `integrity`, `busy`, `refused`, `lost`,
    /// `timed_out`, `interrupted` or `failure`.
    pub kind: String,
    /// The message with its cause chain, outermost first, joined by `: `.
    pub message: String,
    /// The next step, when there is one.
    pub remedy: Option<Remedy>,
}

impl Report {
    /// The report of any error a library call returned.
    pub fn of(err: &anyhow::Error) -> Report {
        let code = ExitStatus::of(err);
        Report {
            code,
            kind: code.name().to_string(),
            message: format!("{err:#}"),
            remedy: remedy_of(err),
        }
    }
}

/// The `--json` error document (docs/contract.md "Output"): what a command prints on stdout when it
/// fails, `{"error": {"code", "kind", "message", "hint"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDoc {
    /// The error.
    pub error: ErrorBody,
}

/// The error object of [`ErrorDoc`], of [`Failed`] and of documents that add context beside
/// it (restart's [`crate::backend::select::NoUsableBinaryDoc`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The exit status (in JSON its code, a number).
    pub code: ExitStatus,
    /// [`ExitStatus::name`] of `code`: `usage`, `integrity`, `busy`, `refused`, `lost`,
    /// `timed_out`, `interrupted` or `failure`.
    pub kind: String,
    /// The message with its cause chain, as on stderr.
    pub message: String,
    /// The next step, or null.
    pub hint: Option<String>,
}

impl ErrorBody {
    /// The body for an error of status `code` (its `kind` is [`ExitStatus::name`]).
    pub fn new(code: ExitStatus, message: impl Into<String>, hint: Option<String>) -> ErrorBody {
        ErrorBody {
            code,
            kind: code.name().to_string(),
            message: message.into(),
            hint,
        }
    }
}

/// The last line of an event stream that failed (`fetch --json`):
/// `{"error": {...}, "event": "failed"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "FailedLine", from = "FailedLine")]
pub struct Failed {
    /// The error, as in [`ErrorDoc`].
    pub error: ErrorBody,
}

/// [`Failed`] as serde sees it: a one-event tagged enum, so that reading checks the tag.
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum FailedLine {
    Failed { error: ErrorBody },
}

impl From<Failed> for FailedLine {
    fn from(f: Failed) -> FailedLine {
        FailedLine::Failed { error: f.error }
    }
}

impl From<FailedLine> for Failed {
    fn from(FailedLine::Failed { error }: FailedLine) -> Failed {
        Failed { error }
    }
}

// `ExitStatus::of` lives beside `Error` so that the exit statuses need not know the errors.
impl ExitStatus {
    /// The status for any error: that of the first [`Error`] in its chain, else
    /// [`ExitStatus::Failure`].
    pub fn of(err: &anyhow::Error) -> ExitStatus {
        Error::find(err).map_or(ExitStatus::Failure, Error::exit_status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_pinned() {
        let table = [
            (Error::Usage(String::new()), 2),
            (Error::Integrity(String::new()), 3),
            (
                Error::Busy {
                    what: String::new(),
                    holder: None,
                },
                4,
            ),
            (Error::Refused(String::new()), 5),
            (Error::Lost(String::new()), 6),
            (Error::TimedOut(String::new()), 7),
            (Error::Interrupted, 130),
        ];
        for (err, code) in table {
            assert_eq!(err.exit_status().code(), code, "{err:?}");
            assert_eq!(err.kind(), err.exit_status().name());
            let wrapped = anyhow::Error::from(err).context("outer context");
            assert_eq!(ExitStatus::of(&wrapped).code(), code);
        }
        assert_eq!(ExitStatus::of(&anyhow::anyhow!("plain")).code(), 1);
        assert_eq!(
            (ExitStatus::Success.code(), ExitStatus::Failure.code()),
            (0, 1)
        );
        assert_eq!(
            (
                ExitStatus::CommandNotExecutable.code(),
                ExitStatus::CommandNotFound.code()
            ),
            (126, 127)
        );
        let remedied = with_remedy(Error::Usage("x".into()), Remedy::LargerParts);
        assert_eq!(ExitStatus::of(&remedied.context("ctx")), ExitStatus::Usage);
    }

    fn body() -> ErrorBody {
        ErrorBody::new(
            ExitStatus::Busy,
            "slot fetch-x is busy",
            Some("wait for the holder, or pass --wait".into()),
        )
    }

    /// The documents' shape, pinned: a change of a name or of the order fails here.
    #[test]
    fn error_documents_serialize_as_documented_and_read_back() {
        let doc = ErrorDoc { error: body() };
        let text = serde_json::to_string(&doc).unwrap();
        assert_eq!(
            text,
            r#"{"error":{"code":4,"kind":"busy","message":"slot fetch-x is busy","hint":"wait for the holder, or pass --wait"}}"#
        );
        assert_eq!(serde_json::from_str::<ErrorDoc>(&text).unwrap(), doc);
        let failed = Failed { error: body() };
        let text = serde_json::to_string(&failed).unwrap();
        assert_eq!(
            text,
            r#"{"event":"failed","error":{"code":4,"kind":"busy","message":"slot fetch-x is busy","hint":"wait for the holder, or pass --wait"}}"#
        );
        assert_eq!(serde_json::from_str::<Failed>(&text).unwrap(), failed);
        let other = text.replace(r#""event":"failed""#, r#""event":"done""#);
        assert!(serde_json::from_str::<Failed>(&other).is_err(), "{other}");
        let no_hint = ErrorBody::new(ExitStatus::Failure, "boom", None);
        assert_eq!(
            serde_json::to_string(&no_hint).unwrap(),
            r#"{"code":1,"kind":"failure","message":"boom","hint":null}"#
        );
    }

    /// The remedy's and the report's shapes, pinned: an app stores or forwards them.
    #[test]
    fn remedies_and_reports_serialize_as_documented_and_read_back() {
        let repair = Remedy::Repair {
            variant: "cuda".into(),
        };
        let text = serde_json::to_string(&repair).unwrap();
        assert_eq!(text, r#"{"action":"repair","variant":"cuda"}"#);
        assert_eq!(serde_json::from_str::<Remedy>(&text).unwrap(), repair);
        let source = Remedy::CheckSource {
            problem: SourceProblem::NoSuchDir {
                server: Some("http://h:1".into()),
            },
        };
        let text = serde_json::to_string(&source).unwrap();
        assert_eq!(
            text,
            r#"{"action":"check_source","problem":{"problem":"no_such_dir","server":"http://h:1"}}"#
        );
        assert_eq!(serde_json::from_str::<Remedy>(&text).unwrap(), source);

        // An attached remedy is found under context; else the kind's own; else none.
        let err = with_remedy(
            Error::Busy {
                what: "slot s".into(),
                holder: None,
            },
            Remedy::WaitLonger,
        )
        .context("still held");
        let report = Report::of(&err);
        assert_eq!(
            serde_json::to_string(&report).unwrap(),
            r#"{"code":4,"kind":"busy","message":"still held: slot s is busy","remedy":{"action":"wait_longer"}}"#
        );
        let plain = anyhow::Error::from(Error::Refused("no".into()));
        assert_eq!(remedy_of(&plain), Some(Remedy::Confirm));
        let plain = anyhow::Error::from(Error::Integrity("bad".into()));
        assert_eq!(Report::of(&plain).remedy, None);
        assert_eq!(Report::of(&plain).code, ExitStatus::Integrity);
    }
}
