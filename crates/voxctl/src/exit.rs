//! Exit statuses (docs/contract.md "Exit codes"): [`ExitStatus`] is the one place where a number is
//! chosen for an outcome.
//!
//! It lives in the library, not in the binary, because library types carry it: a reap
//! [`Report`](crate::reap::report::Report) serializes the status its decision calls for, a
//! [`Reason`](crate::reap::decision::Reason) maps to one, `lease run` mirrors its command's
//! status through [`ExitStatus::of_child`], and an error's kind is a status
//! (`Error::exit_status`, and `ExitStatus::of` for any error, in the `error` module). The binary turns it into the process's exit code; an embedder can branch on
//! the same kinds. The numbers are part of voxctl's interface: they are pinned by the tests
//! below; what each means, in the command's words, is the command line's own table (its
//! `--help`, man pages and README.md list [`ExitStatus::DOCUMENTED`]).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How a voxctl command ended. [`ExitStatus::code`] is the process exit code.
///
/// Serializes as its code (a JSON number); deserializing a code gives the documented status
/// with that code, else [`ExitStatus::Child`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExitStatus {
    /// 0: success (including "already installed", "nothing to reap").
    Success,
    /// 1: a failure of no kind below.
    Failure,
    /// 2: usage error.
    Usage,
    /// 3: integrity: a checksum is missing, malformed or does not match.
    Integrity,
    /// 3 from `status` alone: the recorded backend is not running (as `systemctl status`
    /// exits 3 for an inactive unit). It shares integrity's number, so a code read back
    /// ([`ExitStatus::from_code`]) gives [`ExitStatus::Integrity`].
    NotRunning,
    /// 4: busy: a slot or lease is held by someone else (after any `--wait`).
    Busy,
    /// 5: refused: a safety guard declined, or a confirmation was needed with no TTY and no
    /// `--yes`.
    Refused,
    /// 6: lost: a lease was lost or a fencing token is stale.
    Lost,
    /// 7: timed out waiting (port release, health, lease).
    TimedOut,
    /// 130: interrupted (SIGINT/SIGTERM); partial downloads are kept for resume.
    Interrupted,
    /// 126, as in the shell: `lease run`'s command exists but cannot be executed.
    CommandNotExecutable,
    /// 127, as in the shell: `lease run`'s command was not found.
    CommandNotFound,
    /// The status of `lease run`'s command, mirrored (see [`ExitStatus::of_child`]).
    Child(u8),
}

impl ExitStatus {
    /// The statuses every subcommand uses, in the order of the tables (README.md, `--help`,
    /// the man pages' EXIT STATUS).
    pub const DOCUMENTED: [ExitStatus; 10] = [
        ExitStatus::Success,
        ExitStatus::Failure,
        ExitStatus::Usage,
        ExitStatus::Integrity,
        ExitStatus::NotRunning,
        ExitStatus::Busy,
        ExitStatus::Refused,
        ExitStatus::Lost,
        ExitStatus::TimedOut,
        ExitStatus::Interrupted,
    ];

    /// The process exit code. This match is the only place voxctl picks an exit number.
    pub const fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Usage => 2,
            ExitStatus::Integrity | ExitStatus::NotRunning => 3,
            ExitStatus::Busy => 4,
            ExitStatus::Refused => 5,
            ExitStatus::Lost => 6,
            ExitStatus::TimedOut => 7,
            ExitStatus::Interrupted => 130,
            ExitStatus::CommandNotExecutable => 126,
            ExitStatus::CommandNotFound => 127,
            ExitStatus::Child(code) => code,
        }
    }

    /// The status with this code: the first documented one that has it (3 is
    /// [`ExitStatus::Integrity`]), else [`ExitStatus::Child`].
    pub fn from_code(code: u8) -> ExitStatus {
        ExitStatus::DOCUMENTED
            .into_iter()
            .find(|s| s.code() == code)
            .unwrap_or(ExitStatus::Child(code))
    }

    /// The status that mirrors a child's: its exit code, or 128+N if it was killed by
    /// signal N (as a shell reports it); [`ExitStatus::Failure`] if it has neither.
    pub fn of_child(status: &std::process::ExitStatus) -> ExitStatus {
        match (status.code(), crate::platform::exit_signal(status)) {
            // Only the low 8 bits reach the parent, as with exit(3).
            (Some(code), _) => ExitStatus::Child(code as u8),
            (None, Some(sig)) => ExitStatus::Child(128u8.saturating_add(sig as u8)),
            (None, None) => ExitStatus::Failure,
        }
    }

    /// The name used as `kind` in `--json` error documents: `failure`, `usage`, `integrity`,
    /// `busy`, `refused`, `lost`, `timed_out` or `interrupted` (`success`, `not_running` and
    /// `child` for the others).
    pub const fn name(self) -> &'static str {
        match self {
            ExitStatus::Success => "success",
            ExitStatus::Failure => "failure",
            ExitStatus::Usage => "usage",
            ExitStatus::Integrity => "integrity",
            ExitStatus::NotRunning => "not_running",
            ExitStatus::Busy => "busy",
            ExitStatus::Refused => "refused",
            ExitStatus::Lost => "lost",
            ExitStatus::TimedOut => "timed_out",
            ExitStatus::Interrupted => "interrupted",
            ExitStatus::CommandNotExecutable
            | ExitStatus::CommandNotFound
            | ExitStatus::Child(_) => "child",
        }
    }

    /// Whether this is [`ExitStatus::Success`] (or a child's status 0).
    pub const fn is_success(self) -> bool {
        self.code() == 0
    }
}

impl fmt::Display for ExitStatus {
    /// The code, as a number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        std::process::ExitCode::from(status.code())
    }
}

impl Serialize for ExitStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.code())
    }
}

impl<'de> Deserialize<'de> for ExitStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        u8::deserialize(d).map(ExitStatus::from_code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_serialize_as_numbers() {
        for s in ExitStatus::DOCUMENTED {
            // `status`'s 3 reads back as the 3 every other command means.
            let back = if s == ExitStatus::NotRunning {
                ExitStatus::Integrity
            } else {
                s
            };
            assert_eq!(ExitStatus::from_code(s.code()), back);
            assert_eq!(serde_json::to_string(&s).unwrap(), s.code().to_string());
            let read: ExitStatus = serde_json::from_str(&s.code().to_string()).unwrap();
            assert_eq!(read, back);
        }
        assert_eq!(ExitStatus::from_code(9), ExitStatus::Child(9));
        assert_eq!(ExitStatus::Child(42).to_string(), "42");
    }

    #[test]
    #[cfg(unix)]
    fn child_statuses_are_mirrored() {
        use std::os::unix::process::ExitStatusExt;
        let table = [
            (std::process::ExitStatus::from_raw(0), 0),
            (std::process::ExitStatus::from_raw(3 << 8), 3),
            (std::process::ExitStatus::from_raw(255 << 8), 255),
            (std::process::ExitStatus::from_raw(9), 137),
            (std::process::ExitStatus::from_raw(15), 143),
        ];
        for (status, code) in table {
            assert_eq!(ExitStatus::of_child(&status).code(), code, "{status:?}");
        }
    }
}
