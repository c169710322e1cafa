//! The exit-code table of `voxctl --help`, the man pages and README.md: what each documented
//! [`ExitStatus`] means, in the command's words (its flags). The numbers are the library's
//! ([`ExitStatus::code`]); the words are the command line's.

use std::sync::LazyLock;

use voxctl::exit::ExitStatus;

/// What `status` means, as the tables print it (README.md, `--help`, man pages).
pub const fn meaning(status: ExitStatus) -> &'static str {
    match status {
        ExitStatus::Success => "success (including \"already installed\", \"nothing to reap\")",
        ExitStatus::Failure => "failure not listed below",
        ExitStatus::Usage => "usage error",
        ExitStatus::Integrity => "integrity: a checksum is missing, malformed or does not match",
        ExitStatus::NotRunning => {
            "status only: the recorded backend is not running (as systemctl status)"
        }
        ExitStatus::Busy => "busy: a slot or lease is held by someone else (after any --wait)",
        ExitStatus::Refused => {
            "refused: a safety guard declined, or a confirmation was needed without a TTY \
             or --yes"
        }
        ExitStatus::Lost => "lost: a lease was lost or a fencing token is stale",
        ExitStatus::TimedOut => "timed out waiting (port release, health, lease)",
        ExitStatus::Interrupted => {
            "interrupted (SIGINT/SIGTERM); partial downloads are kept for resume"
        }
        ExitStatus::CommandNotExecutable => "the command cannot be executed",
        ExitStatus::CommandNotFound => "the command was not found",
        ExitStatus::Child(_) => "the command's exit status",
    }
}

/// The line under the table: `lease run` alone exits with its command's status.
const LEASE_RUN_NOTE: &str =
    "`lease run` exits with its command's status (128+N if it was killed by signal N).";

/// The exit-code table shown at the end of `voxctl --help`, built once from
/// [`ExitStatus::DOCUMENTED`].
pub fn help() -> &'static str {
    static HELP: LazyLock<String> = LazyLock::new(|| {
        let mut out = String::from("Exit codes:\n");
        for status in ExitStatus::DOCUMENTED {
            out.push_str(&format!("  {:>3}    {}\n", status.code(), meaning(status)));
        }
        out.push_str(LEASE_RUN_NOTE);
        out
    });
    &HELP
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_help_table_is_pinned() {
        assert_eq!(
            help(),
            "\
Exit codes:
    0    success (including \"already installed\", \"nothing to reap\")
    1    failure not listed below
    2    usage error
    3    integrity: a checksum is missing, malformed or does not match
    3    status only: the recorded backend is not running (as systemctl status)
    4    busy: a slot or lease is held by someone else (after any --wait)
    5    refused: a safety guard declined, or a confirmation was needed without a TTY or --yes
    6    lost: a lease was lost or a fencing token is stale
    7    timed out waiting (port release, health, lease)
  130    interrupted (SIGINT/SIGTERM); partial downloads are kept for resume
`lease run` exits with its command's status (128+N if it was killed by signal N)."
        );
    }
}
