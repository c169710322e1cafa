//! Instants in JSON: RFC 3339 UTC strings (docs/contract.md "Output": instants as RFC 3339,
//! durations as `*_ms` integers). The fields stay integers in Rust; these serde helpers write
//! the string and read either form, so records written by an older voxctl (integers) still
//! load. humantime does the formatting and parsing.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serializer};

#[derive(Deserialize)]
#[serde(untagged)]
enum Either {
    Number(u64),
    Text(String),
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

    /// Writes `2026-12-01T05:15:45Z`.
    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        let t = UNIX_EPOCH + Duration::from_secs(*v);
        s.serialize_str(&humantime::format_rfc3339_seconds(t).to_string())
    }

    /// Reads the string, or the integer older records hold.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        match parse(d)? {
            Either::Number(n) => Ok(n),
            Either::Text(t) => Ok(since_epoch::<D::Error>(&t)?.as_secs()),
        }
    }
}

/// Milliseconds since the Unix epoch as an RFC 3339 UTC string (`2026-12-01T05:15:45.123Z`).
pub mod millis {
    use super::*;

    /// Writes `2026-12-01T05:15:45.123Z`.
    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        let t = UNIX_EPOCH + Duration::from_millis(*v);
        s.serialize_str(&humantime::format_rfc3339_millis(t).to_string())
    }

    /// Reads the string, or the integer older records hold.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        match parse(d)? {
            Either::Number(n) => Ok(n),
            Either::Text(t) => Ok(since_epoch::<D::Error>(&t)?.as_millis() as u64),
        }
    }
}

/// `t` as an RFC 3339 UTC string to the second.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
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
}
