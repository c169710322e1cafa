//! SHA-256 digests and the checksum-file formats of GNU `sha256sum` (text `HEX  NAME`, binary
//! `HEX *NAME`, escaped lines starting with `\`) and BSD tags (`SHA256 (NAME) = HEX`, as
//! written by `sha256sum --tag` and `shasum -a 256 --tag`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Error;

/// A SHA-256 digest (32 bytes), shown as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha256(pub [u8; 32]);

impl Sha256 {
    /// Parses 64 hex digits (either case). Errors with [`Error::Integrity`] otherwise, since a
    /// malformed checksum is an integrity failure (exit 3).
    pub fn parse(hex_text: &str) -> Result<Sha256, Error> {
        let t = hex_text.trim();
        let mut out = [0u8; 32];
        if t.len() != 64 || hex::decode_to_slice(t, &mut out).is_err() {
            return Err(Error::Integrity(format!(
                "malformed SHA-256 {:?}: expected 64 hex digits",
                truncate(t, 80)
            )));
        }
        Ok(Sha256(out))
    }

    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Sha256 {
        use sha2::Digest;
        Sha256(sha2::Sha256::digest(bytes).into())
    }

    /// The lowercase hex form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256({})", self.to_hex())
    }
}

impl FromStr for Sha256 {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Sha256::parse(s)
    }
}

impl Serialize for Sha256 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Sha256 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Sha256::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// How a checksum line was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LineForm {
    /// `HEX  NAME` (sha256sum's default).
    Text,
    /// `HEX *NAME` (sha256sum -b).
    Binary,
    /// `SHA256 (NAME) = HEX` (BSD tag).
    Tag,
}

/// One parsed checksum line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SumLine {
    /// The expected digest.
    pub sha256: Sha256,
    /// The file name as written (unescaped), relative to the sums file's directory.
    pub name: String,
    /// The form the line was written in.
    pub form: LineForm,
}

/// Formats one line exactly as GNU `sha256sum` prints it in text mode: `HEX  NAME\n`.
/// Names with a backslash or newline get sha256sum's escaping (a leading `\`).
pub fn format_line(sha256: &Sha256, name: &str) -> String {
    if name.contains('\\') || name.contains('\n') || name.contains('\r') {
        let escaped = name
            .replace('\\', "\\\\")
            .replace('\n', "\\n")
            .replace('\r', "\\r");
        format!("\\{sha256}  {escaped}\n")
    } else {
        format!("{sha256}  {name}\n")
    }
}

/// Parses one line of a checksum file in any of the three forms. Returns `Ok(None)` for blank
/// lines and `#` comments, and [`Error::Integrity`] for a malformed line.
pub fn parse_line(line: &str) -> Result<Option<SumLine>, Error> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.trim().is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let (escaped, body) = match line.strip_prefix('\\') {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    let malformed =
        || Error::Integrity(format!("malformed checksum line {:?}", truncate(line, 120)));
    let (sha256, raw_name, form) = if let Some(rest) = body.strip_prefix("SHA256 (") {
        let (name, hex_text) = rest.rsplit_once(") = ").ok_or_else(malformed)?;
        (
            Sha256::parse(hex_text).map_err(|_| malformed())?,
            name,
            LineForm::Tag,
        )
    } else {
        let (hex_text, rest) = body.split_at_checked(64).ok_or_else(malformed)?;
        let sha256 = Sha256::parse(hex_text).map_err(|_| malformed())?;
        if let Some(name) = rest.strip_prefix("  ") {
            (sha256, name, LineForm::Text)
        } else if let Some(name) = rest.strip_prefix(" *") {
            (sha256, name, LineForm::Binary)
        } else {
            return Err(malformed());
        }
    };
    if raw_name.is_empty() {
        return Err(malformed());
    }
    let name = if escaped {
        unescape(raw_name).ok_or_else(malformed)?
    } else {
        raw_name.to_string()
    };
    Ok(Some(SumLine { sha256, name, form }))
}

fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next()? {
                '\\' => out.push('\\'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// Reads the single digest of a one-file `.sha256` (DESIGN.md layouts 2-4: one sha256sum line
/// `HEX  NAME` for the whole file). A bare 64-hex-digit line is accepted too. Errors with
/// [`Error::Integrity`] when there is no line, more than one, or a malformed one.
pub fn parse_single(text: &str) -> Result<SumLine, Error> {
    let mut found = None;
    for line in text.lines() {
        let parsed = match parse_line(line) {
            Ok(p) => p,
            Err(e) => match Sha256::parse(line) {
                Ok(sha256) => Some(SumLine {
                    sha256,
                    name: String::new(),
                    form: LineForm::Text,
                }),
                Err(_) => return Err(e),
            },
        };
        if let Some(p) = parsed {
            if found.is_some() {
                return Err(Error::Integrity(
                    "checksum file has more than one line; expected one".into(),
                ));
            }
            found = Some(p);
        }
    }
    found.ok_or_else(|| Error::Integrity("checksum file is empty".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn all_forms() {
        let cases = [
            (format!("{H}  a b.exe"), "a b.exe", LineForm::Text),
            (format!("{H} *bin"), "bin", LineForm::Binary),
            (format!("SHA256 (x (1)) = {H}"), "x (1)", LineForm::Tag),
            (
                format!("\\{H}  back\\\\slash\\nnl"),
                "back\\slash\nnl",
                LineForm::Text,
            ),
            (format!("{}  up", H.to_uppercase()), "up", LineForm::Text),
        ];
        for (line, name, form) in cases {
            let p = parse_line(&line).unwrap().unwrap();
            assert_eq!((p.name.as_str(), p.form), (name, form), "{line}");
            assert_eq!(p.sha256, Sha256::of(b""));
        }
        assert_eq!(parse_line("").unwrap(), None);
        assert_eq!(parse_line("# c").unwrap(), None);
        for bad in [
            "nope",
            &format!("{H} x"),
            &format!("{}  x", &H[1..]),
            &format!("{H}  "),
        ] {
            assert!(parse_line(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn format_round_trips() {
        let d = Sha256::of(b"x");
        for name in ["plain", "sp ace", "back\\slash", "new\nline"] {
            let line = format_line(&d, name);
            let p = parse_line(line.trim_end_matches('\n')).unwrap().unwrap();
            assert_eq!(p.name, name);
        }
        assert_eq!(format_line(&Sha256::of(b""), "f"), format!("{H}  f\n"));
    }
}
