//! Durations as every voxctl option takes them (docs/contract.md "Conventions"): humantime's units
//! (`500ms`, `30s`, `5m`, `1h 30m`) and, as `flock -w 10` and `timeout 10` read it, a bare
//! number meaning seconds (`10`, `2.5`, `0`).
//!
//! humantime alone refuses a bare number ("time unit needed"), and the crates that accept one
//! (duration-str, ...) bring a parser framework for one extra rule, so the bare-number case is
//! handled here, exactly (no floating point: `0.1` is 100 ms), and the rest is humantime's.

use std::time::{Duration, Instant};

use crate::Error;

/// `start + d`, saturating: when the sum is past what an [`Instant`] can hold, the latest
/// instant of the form `start + d / 2^k` that it can (centuries away), so a huge timeout or
/// TTL means "not in this run", never an overflow panic.
pub fn after(start: Instant, d: Duration) -> Instant {
    let mut d = d;
    loop {
        if let Some(t) = start.checked_add(d) {
            return t;
        }
        d /= 2;
    }
}

/// The instant `d` from now, saturating as [`after`] does: the deadline of a timeout.
pub fn deadline(d: Duration) -> Instant {
    after(Instant::now(), d)
}

/// The longest duration [`parse`] accepts: 100 years (of 365.25 days). Every timeout and wait
/// is added to the current instant, which a longer one could overflow; no option needs more.
pub const MAX: Duration = Duration::from_secs(100 * 31_557_600);

/// Parses a duration: a bare decimal number of seconds (`10`, `2.5`, `.5`, `0`; up to nine
/// fractional digits) or humantime syntax (`500ms`, `30s`, `5m`, `1h 30m`), at most [`MAX`].
/// Leading and trailing whitespace is ignored.
///
/// Errors with [`Error::Usage`] naming the text, for anything else (including a sign).
pub fn parse(text: &str) -> Result<Duration, Error> {
    let t = text.trim();
    let too_long = || {
        Error::Usage(format!(
            "invalid duration {text:?}: too long (at most 100 years)"
        ))
    };
    let d = match parse_seconds(t) {
        Some(d) => d.ok_or_else(too_long)?,
        None => humantime::parse_duration(t).map_err(|e| {
            Error::Usage(format!(
                "invalid duration {text:?}: {e} (examples: 10 (seconds), 500ms, 30s, 5m)"
            ))
        })?,
    };
    if d > MAX {
        return Err(too_long());
    }
    Ok(d)
}

/// [`parse`] for a duration that must be more than zero: a timeout or a grace period that
/// nothing could meet if it were 0.
///
/// Errors with [`Error::Usage`] naming the text for `0` (`0s`, `0.0`, ...) and for what
/// [`parse`] refuses.
pub fn parse_positive(text: &str) -> Result<Duration, Error> {
    match parse(text)? {
        d if d.is_zero() => Err(Error::Usage(format!(
            "invalid duration {text:?}: must be more than 0"
        ))),
        d => Ok(d),
    }
}

/// A bare `DIGITS[.DIGITS]` or `.DIGITS` as seconds: `None` if `t` has another shape,
/// `Some(None)` if it overflows.
fn parse_seconds(t: &str) -> Option<Option<Duration>> {
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) || frac.len() > 9 {
        return None;
    }
    let secs = if whole.is_empty() {
        Some(0)
    } else {
        whole.parse::<u64>().ok()
    };
    // Scale the fraction to nanoseconds: "5" -> 500_000_000.
    let nanos = if frac.is_empty() {
        0
    } else {
        // At most 9 digits, so this fits in a u32 and the power is at most 10^8.
        frac.parse::<u32>().ok()? * 10u32.pow(9 - frac.len() as u32)
    };
    Some(secs.map(|s| Duration::new(s, nanos)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_numbers_are_seconds_and_units_are_humantimes() {
        let ok = [
            ("10", Duration::from_secs(10)),
            (" 3 ", Duration::from_secs(3)),
            ("0", Duration::ZERO),
            ("2.5", Duration::from_millis(2500)),
            ("0.1", Duration::from_millis(100)),
            (".5", Duration::from_millis(500)),
            ("7.", Duration::from_secs(7)),
            ("0.000000001", Duration::from_nanos(1)),
            ("500ms", Duration::from_millis(500)),
            ("30s", Duration::from_secs(30)),
            ("5m", Duration::from_secs(300)),
            ("1h 30m", Duration::from_secs(5400)),
            ("3155760000", MAX),
        ];
        for (text, want) in ok {
            assert_eq!(parse(text).unwrap(), want, "{text:?}");
        }
        for bad in [
            "",
            ".",
            "-1",
            "+1",
            "1.2.3",
            "1e3",
            "0x10",
            "0.0000000001",
            "abc",
            "99999999999999999999",
            "3155760001",
            "101y",
            "10 s x",
        ] {
            let err = parse(bad).unwrap_err();
            assert!(matches!(err, Error::Usage(_)), "{bad:?}");
            assert!(err.to_string().contains(&format!("{bad:?}")), "{bad:?}");
        }
    }
}

#[cfg(test)]
mod deadline_tests {
    use super::*;

    #[test]
    fn deadlines_saturate_instead_of_overflowing() {
        let now = Instant::now();
        assert_eq!(
            after(now, Duration::from_secs(5)),
            now + Duration::from_secs(5)
        );
        let far = after(now, Duration::MAX);
        assert!(
            far > now + MAX,
            "a saturated deadline is still centuries away"
        );
        assert!(deadline(Duration::MAX) > Instant::now() + MAX);
    }
}

#[cfg(test)]
mod positive_tests {
    use super::*;

    #[test]
    fn positive_durations_refuse_zero_only() {
        assert_eq!(parse_positive("1ms").unwrap(), Duration::from_millis(1));
        assert_eq!(parse_positive("0.5").unwrap(), Duration::from_millis(500));
        for zero in ["0", "0s", "0.0", "0ms", " 0 "] {
            let err = parse_positive(zero).unwrap_err();
            assert!(
                err.to_string().contains("must be more than 0"),
                "{zero:?}: {err}"
            );
        }
        assert!(parse_positive("-1").is_err());
    }
}
