//! The typed errors a caller must branch on, each of one kind ([`ExitStatus`]) of DESIGN.md.
//!
//! Library functions return `anyhow::Result` with context naming the path, URL, part or pid;
//! the root of the chain is an [`Error`] whenever the failure is one of the kinds below, so
//! a caller can find it with [`Error::find`] and the binary exits with
//! [`Error::exit_status`] ([`ExitStatus::of`] does both).

use std::fmt;

use crate::exit::ExitStatus;

/// A failure of a documented kind; [`Error::exit_status`] gives its exit status.
#[derive(Debug, thiserror::Error)]
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
