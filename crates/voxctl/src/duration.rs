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
        None => match parse_terms(t) {
            Ok(Some(d)) => d,
            Ok(None) => return Err(too_long()),
            Err(e) => {
                return Err(Error::Usage(format!(
                    "invalid duration {text:?}: {e} (examples: 10 (seconds), 500ms, 30s, 5m)"
                )))
            }
        },
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

/// humantime syntax, one term (`NUMBER[.FRACTION] UNIT`) at a time: `Ok(None)` as soon as the
/// sum passes [`MAX`], humantime's error for the first term it refuses.
///
/// Handing humantime the whole text is not safe: humantime 2.4 sums the terms in a `Duration`
/// and carries a whole second of nanoseconds with `Duration::new`, which panics when the
/// seconds are already `u64::MAX` (`18446744073709551615s 0.5s 0.5s`). A single term starts
/// from zero and never carries, and summing here stops long before `u64::MAX`.
///
/// A term ends where a digit follows its unit's letters (whitespace between them allowed), as
/// in humantime's grammar; anything else stays inside the term, so humantime sees and refuses
/// it there. Its error is taken from the text up to the end of that term, so its offsets count
/// from the start of the text, and every term before it summed to at most [`MAX`].
fn parse_terms(t: &str) -> Result<Option<Duration>, humantime::DurationError> {
    let mut total = Duration::ZERO;
    let mut start = 0;
    let mut after_unit = false;
    let ends = t
        .char_indices()
        .filter_map(|(i, c)| {
            let boundary = after_unit && c.is_ascii_digit();
            if c.is_ascii_alphabetic() || c == 'µ' {
                after_unit = true;
            } else if !c.is_whitespace() {
                after_unit = false;
            }
            boundary.then_some(i)
        })
        .chain([t.len()]);
    for end in ends {
        // humantime takes a lone "0" without a unit, as a whole text only: here it is the
        // last term of a longer one ("1h 0"), which humantime refuses.
        let term = match &t[start..end] {
            "0" => None,
            piece => humantime::parse_duration(piece).ok(),
        };
        let term = term.ok_or_else(|| humantime::parse_duration(&t[..end]).unwrap_err())?;
        total = match total.checked_add(term) {
            Some(sum) if sum <= MAX => sum,
            _ => return Ok(None),
        };
        start = end;
    }
    Ok(Some(total))
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
            ("1h30m", Duration::from_secs(5400)),
            ("2h 37min 0.5s", Duration::from_millis(9_420_500)),
            (" 1 h  30 m ", Duration::from_secs(5400)),
            ("1.5h", Duration::from_secs(5400)),
            ("100y", MAX),
            ("99y 365.25d", MAX),
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
            // humantime 2.4 alone panics on these: seconds at u64::MAX, then a carry.
            "18446744073709551615s 0.5s 0.5s",
            "00018446744073709551615sec0.1s000.9sec2.1sec",
        ] {
            let err = parse(bad).unwrap_err();
            assert!(matches!(err, Error::Usage(_)), "{bad:?}");
            assert!(err.to_string().contains(&format!("{bad:?}")), "{bad:?}");
        }
    }
}

#[cfg(test)]
mod term_tests {
    use super::*;

    /// Term by term, the errors are humantime's own for the whole text, offsets included.
    #[test]
    fn a_refused_term_gets_humantimes_error_for_the_whole_text() {
        for bad in [
            "1h 30x",
            "1h 30m 5",
            "1h 30m 5 s x",
            "1h30m.5s",
            "5s -1s",
            "1h 18446744073709551616s",
            "2m 3m 4",
            "1µs 2xs",
            "1h 0",
        ] {
            let want = humantime::parse_duration(bad).unwrap_err().to_string();
            let got = parse(bad).unwrap_err().to_string();
            assert!(got.contains(&want), "{bad:?}: {got} (humantime: {want})");
        }
    }

    #[test]
    fn terms_sum_to_humantimes_duration() {
        for good in [
            "1h30m",
            "1h 30m",
            "2h 37min 0.5s",
            "1µs 2ns",
            "1y 1M 1w 1d",
            "0s 0ms",
        ] {
            assert_eq!(
                parse(good).unwrap(),
                humantime::parse_duration(good).unwrap(),
                "{good:?}"
            );
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
