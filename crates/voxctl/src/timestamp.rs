//! Instants in JSON: RFC 3339 UTC strings (docs/contract.md "Output": instants as RFC 3339,
//! durations as `*_ms` integers). The fields stay integers in Rust; these serde helpers write
//! the string and read either form, so records written by an older voxctl (integers) still
//! load. humantime does the formatting and parsing.
//!
//! Every time a record holds is bounded by [`MAX_SECS`] (9999-12-31T23:59:59Z, the last second
//! RFC 3339 can write): a record beyond it, as integer or text, fails to load with an error
//! naming the value, so a poisoned record is refused as corrupt instead of overflowing the
//! arithmetic and formatting done on it later. Times computed for display (now plus a TTL)
//! saturate at the bound instead ([`format_millis`]).

use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serializer};

#[derive(Deserialize)]
#[serde(untagged)]
enum Either {
    Number(u64),
    Text(String),
}

/// The latest time a record may hold, in seconds since the Unix epoch:
/// 9999-12-31T23:59:59Z, the last second an RFC 3339 timestamp can write.
pub const MAX_SECS: u64 = 253_402_300_799;

/// [`MAX_SECS`] in milliseconds (9999-12-31T23:59:59.999Z).
pub const MAX_MILLIS: u64 = MAX_SECS * 1000 + 999;

/// The error for a time of `value` `unit` past [`MAX_SECS`].
fn beyond<E: serde::de::Error>(value: u64, unit: &str) -> E {
    E::custom(format!(
        "time {value} {unit} since 1970 is beyond 9999-12-31T23:59:59Z (corrupt record)"
    ))
}

fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Either, D::Error> {
    Either::deserialize(d)
}

fn since_epoch<E: serde::de::Error>(text: &str) -> Result<Duration, E> {
    let t = humantime::parse_rfc3339_weak(text)
        .map_err(|e| E::custom(format!("invalid RFC 3339 time {text:?}: {e}")))?;
    t.duration_since(UNIX_EPOCH)
        .map_err(|_| E::custom(format!("time {text:?} is before 1970")))
}

/// Seconds since the Unix epoch as an RFC 3339 UTC string (`2026-12-01T05:15:45Z`).
pub mod secs {
    use super::*;

    /// Writes `2026-12-01T05:15:45Z`. Errors (never panics) for a time past [`MAX_SECS`].
    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        if *v > MAX_SECS {
            return Err(serde::ser::Error::custom(format!(
                "time {v} s since 1970 is beyond 9999-12-31T23:59:59Z"
            )));
        }
        let t = UNIX_EPOCH + Duration::from_secs(*v);
        s.serialize_str(&humantime::format_rfc3339_seconds(t).to_string())
    }

    /// Reads the string, or the integer older records hold.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        match parse(d)? {
            Either::Number(n) if n > MAX_SECS => Err(beyond(n, "s")),
            Either::Number(n) => Ok(n),
            Either::Text(t) => Ok(since_epoch::<D::Error>(&t)?.as_secs()),
        }
    }
}

/// Milliseconds since the Unix epoch as an RFC 3339 UTC string (`2026-12-01T05:15:45.123Z`).
pub mod millis {
    use super::*;

    /// Writes `2026-12-01T05:15:45.123Z`. Errors (never panics) for a time past
    /// [`MAX_MILLIS`].
    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        if *v > MAX_MILLIS {
            return Err(serde::ser::Error::custom(format!(
                "time {v} ms since 1970 is beyond 9999-12-31T23:59:59Z"
            )));
        }
        s.serialize_str(&format_millis(*v))
    }

    /// Reads the string, or the integer older records hold.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        match parse(d)? {
            Either::Number(n) if n > MAX_MILLIS => Err(beyond(n, "ms")),
            Either::Number(n) => Ok(n),
            Either::Text(t) => Ok(since_epoch::<D::Error>(&t)?.as_millis() as u64),
        }
    }
}

/// Milliseconds since the Unix epoch that stay integers in a record (boot-clock times, wall
/// times kept as numbers, durations in ms), read with the same bound: at most
/// [`MAX_MILLIS`], else the record fails to load as corrupt. Written as the plain integer.
pub mod bounded_millis {
    use super::*;

    /// Writes the integer.
    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(*v)
    }

    /// Reads an integer of at most [`MAX_MILLIS`].
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        match u64::deserialize(d)? {
            n if n > MAX_MILLIS => Err(beyond(n, "ms")),
            n => Ok(n),
        }
    }
}

/// `ms` milliseconds since the epoch as RFC 3339 UTC with milliseconds; a time past
/// [`MAX_MILLIS`] (a computed "now + TTL" can be) is written as 9999-12-31T23:59:59.999Z.
pub fn format_millis(ms: u64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(ms.min(MAX_MILLIS));
    humantime::format_rfc3339_millis(t).to_string()
}

#[cfg(test)]
mod tests {
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct R {
        #[serde(with = "super::secs")]
        at: u64,
        #[serde(with = "super::millis")]
        ms: u64,
    }

    #[test]
    fn writes_rfc3339_and_reads_both_forms() {
        let r = R {
            at: 1_700_000_000,
            ms: 1_700_000_000_123,
        };
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(
            json,
            r#"{"at":"2023-11-14T22:13:20Z","ms":"2023-11-14T22:13:20.123Z"}"#
        );
        assert_eq!(serde_json::from_str::<R>(&json).unwrap(), r);
        let old = r#"{"at":1700000000,"ms":1700000000123}"#;
        assert_eq!(serde_json::from_str::<R>(old).unwrap(), r);
    }

    #[test]
    fn times_past_year_9999_are_refused_and_display_saturates() {
        let last = r#"{"at":253402300799,"ms":253402300799999}"#;
        let r = serde_json::from_str::<R>(last).unwrap();
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"at":"9999-12-31T23:59:59Z","ms":"9999-12-31T23:59:59.999Z"}"#
        );
        for bad in [
            r#"{"at":253402300800,"ms":0}"#,
            r#"{"at":0,"ms":253402300800000}"#,
            r#"{"at":18446744073709551615,"ms":0}"#,
            r#"{"at":"10000-01-01T00:00:00Z","ms":0}"#,
        ] {
            let err = serde_json::from_str::<R>(bad).unwrap_err().to_string();
            assert!(
                err.contains("9999") || err.contains("RFC 3339"),
                "{bad}: {err}"
            );
        }
        let too_late = R {
            at: u64::MAX,
            ms: 0,
        };
        assert!(serde_json::to_string(&too_late).is_err());
        assert_eq!(super::format_millis(u64::MAX), "9999-12-31T23:59:59.999Z");
    }
}
