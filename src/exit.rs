//! Exit codes (DESIGN.md "Exit codes"), and the mapping from an error to its code.
//!
//! Every subcommand uses these; `lease run` alone exits with its child's status instead.
//! The numbers are part of voxctl's interface: they are pinned by the tests below and listed
//! in README.md and in `voxctl --help` ([`HELP`]).

use voxctl::Error;

/// success (including "already installed", "nothing to reap").
pub const SUCCESS: u8 = 0;
/// failure not listed below.
pub const FAILURE: u8 = 1;
/// usage error.
pub const USAGE: u8 = 2;
/// integrity: a checksum is missing, malformed or does not match.
pub const INTEGRITY: u8 = 3;
/// busy: a slot or lease is held by someone else (after any `--wait`).
pub const BUSY: u8 = 4;
/// refused: a safety guard declined, or a confirmation was needed with no TTY and no `--yes`.
pub const REFUSED: u8 = 5;
/// lost: a lease was lost or a fencing token is stale.
pub const LOST: u8 = 6;
/// timed out waiting (port release, health, lease).
pub const TIMED_OUT: u8 = 7;
/// interrupted (SIGINT/SIGTERM); partial downloads are kept for resume.
pub const INTERRUPTED: u8 = 130;

/// The exit codes and their meanings, for the man pages' EXIT STATUS table.
pub const CODES: [(u8, &str); 9] = [
    (
        SUCCESS,
        "success (including \"already installed\", \"nothing to reap\")",
    ),
    (FAILURE, "failure not listed below"),
    (USAGE, "usage error"),
    (
        INTEGRITY,
        "integrity: a checksum is missing, malformed or does not match",
    ),
    (
        BUSY,
        "busy: a slot or lease is held by someone else (after any --wait)",
    ),
    (
        REFUSED,
        "refused: a safety guard declined, or a confirmation was needed without a TTY or --yes",
    ),
    (LOST, "lost: a lease was lost or a fencing token is stale"),
    (TIMED_OUT, "timed out waiting (port release, health, lease)"),
    (
        INTERRUPTED,
        "interrupted (SIGINT/SIGTERM); partial downloads are kept for resume",
    ),
];

/// The exit-code table shown at the end of `voxctl --help`.
pub const HELP: &str = "\
Exit codes:
    0    success (including \"already installed\", \"nothing to reap\")
    1    failure not listed below
    2    usage error
    3    integrity: a checksum is missing, malformed or does not match
    4    busy: a slot or lease is held by someone else (after any --wait)
    5    refused: a safety guard declined, or a confirmation was needed without a TTY or --yes
    6    lost: a lease was lost or a fencing token is stale
    7    timed out waiting (port release, health, lease)
  130    interrupted (SIGINT/SIGTERM); partial downloads are kept for resume
`lease run` exits with its command's status (128+N if it was killed by signal N).";

/// The exit code for a typed error.
pub fn for_kind(err: &Error) -> u8 {
    match err {
        Error::Usage(_) => USAGE,
        Error::Integrity(_) => INTEGRITY,
        Error::Busy { .. } => BUSY,
        Error::Refused(_) => REFUSED,
        Error::Lost(_) => LOST,
        Error::TimedOut(_) => TIMED_OUT,
        Error::Interrupted => INTERRUPTED,
    }
}

/// The exit code for any error: that of the first [`Error`] in its chain, else 1.
pub fn for_error(err: &anyhow::Error) -> u8 {
    if crate::signals::received() || voxctl::interrupt::requested() {
        return INTERRUPTED;
    }
    Error::find(err).map_or(FAILURE, for_kind)
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
            assert_eq!(for_kind(&err), code, "{err:?}");
            let wrapped = anyhow::Error::from(err).context("outer context");
            assert_eq!(for_error(&wrapped), code);
        }
        assert_eq!(for_error(&anyhow::anyhow!("plain")), 1);
        assert_eq!((SUCCESS, FAILURE), (0, 1));
        let hinted = voxctl::error::hinted(Error::Usage("x".into()), "do y");
        assert_eq!(for_error(&hinted.context("ctx")), 2);
    }

    #[test]
    fn the_man_table_says_what_help_says() {
        for (code, meaning) in CODES {
            assert!(
                HELP.lines()
                    .any(|l| l.trim_start().starts_with(&format!("{code} "))
                        && l.trim_end().ends_with(meaning)),
                "{code} {meaning:?} differs from HELP"
            );
        }
    }

    #[test]
    fn help_lists_every_code() {
        for code in [0, 1, 2, 3, 4, 5, 6, 7, 130] {
            assert!(
                HELP.lines()
                    .any(|l| l.trim_start().starts_with(&format!("{code} "))),
                "{code} missing from the help table"
            );
        }
    }
}
