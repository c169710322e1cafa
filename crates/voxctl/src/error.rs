//! The typed errors a caller must branch on, each of one kind ([`ExitStatus`]) of docs/contract.md
//! "Exit codes".
//!
//! Library functions return `anyhow::Result` with context naming the path, URL, part or pid;
//! the root of the chain is an [`Error`] whenever the failure is one of the kinds below, so
//! a caller can find it with [`Error::find`] and the binary exits with
//! [`Error::exit_status`] ([`ExitStatus::of`] does both).

use std::fmt;

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
                e.downcast_ref::<WithHint>()
                    .and_then(|h| h.inner.downcast_ref::<Error>())
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

    /// A short next step for the user, printed as `hint:` under the error.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Busy { .. } => Some("wait for the holder, or pass --wait".into()),
            Error::Refused(_) => Some("pass --yes to confirm without a terminal".into()),
            _ => None,
        }
    }
}

/// An error with a next step for the user, printed as a `hint:` line under the message.
///
/// Its `Display` and `source` are the inner error's, so the message chain is unchanged;
/// [`Error::find`] looks inside it for the exit code. Build one with [`hinted`].
#[derive(Debug)]
pub struct WithHint {
    /// The error itself.
    pub inner: anyhow::Error,
    /// The next step.
    pub hint: String,
}

impl fmt::Display for WithHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.inner, f)
    }
}

impl std::error::Error for WithHint {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source()
    }
}

/// Attaches a hint to an error (see [`WithHint`]).
pub fn hinted(err: impl Into<anyhow::Error>, hint: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(WithHint {
        inner: err.into(),
        hint: hint.into(),
    })
}

/// The hint to show for an error chain: an explicit [`WithHint`], else the [`Error`]'s own.
pub fn hint_for(err: &anyhow::Error) -> Option<String> {
    err.chain()
        .find_map(|e| e.downcast_ref::<WithHint>().map(|h| h.hint.clone()))
        .or_else(|| Error::find(err).and_then(Error::hint))
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
        let hinted = crate::error::hinted(Error::Usage("x".into()), "do y");
        assert_eq!(ExitStatus::of(&hinted.context("ctx")), ExitStatus::Usage);
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
}
