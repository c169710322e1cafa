//! SHA-256 digests and the checksum-file formats of GNU `sha256sum` (text `HEX  NAME`, binary
//! `HEX *NAME`, escaped lines starting with `\`) and BSD tags (`SHA256 (NAME) = HEX`, as
//! written by `sha256sum --tag` and `shasum -a 256 --tag`).
//!
//! [`CheckReader`] reads the lines of a sums file for `verify -c` exactly as GNU coreutils'
//! `sha256sum -c` does (its `split_3` and `bsd_split_3`, coreutils 9.1), byte for byte, names
//! included (they need not be UTF-8); tests/it/verify.rs checks it differentially against the
//! real `sha256sum -c`. [`parse_line`] is the stricter reader of the one-line `S.sha256` files
//! of a release.

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

/// Reads the single digest of a one-file `.sha256` (layouts 2-4 of docs/contract.md "Release
/// layouts": one sha256sum line `HEX  NAME` for the whole file). A bare 64-hex-digit line is
/// accepted too. Errors with [`Error::Integrity`] when there is no line, more than one, or a
/// malformed one.
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

/// What one line of a sums file is, as `sha256sum -c` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckLine {
    /// A `#` comment (first byte) or an empty line: not counted.
    Skip,
    /// An improperly formatted line (GNU counts and, with `--warn`, reports it).
    Malformed,
    /// A checksum line.
    Sum {
        /// The expected digest.
        sha256: Sha256,
        /// The file name as bytes, unescaped (any bytes but NUL; may be empty).
        name: Vec<u8>,
        /// The form the line was written in.
        form: LineForm,
    },
}

/// Reads sums-file lines as GNU `sha256sum -c` does. It keeps GNU's one piece of state: once a
/// line in "BSD reversed" form (`HEX NAME`, one blank, a name that starts with neither a
/// blank nor `*`) has been seen, later lines are read in that form, and once a line in the
/// standard form has been seen, reversed lines are malformed (GNU's guard against mixing the
/// two to smuggle leading spaces into names). As in GNU, the state lasts for the whole run,
/// across sums files.
#[derive(Debug, Clone, Default)]
pub struct CheckReader {
    bsd_reversed: Option<bool>,
}

/// GNU's `ISWHITE`: a blank or a tab.
fn is_white(b: Option<&u8>) -> bool {
    matches!(b, Some(b' ' | b'\t'))
}

/// The length of a file name that GNU sees as a C string: up to the first NUL.
fn c_str(bytes: &[u8]) -> &[u8] {
    bytes.split(|&b| b == 0).next().unwrap_or(bytes)
}

/// GNU's `hex_digits`: 64 hex digits, then the end (or a NUL, where C sees the end).
fn gnu_hex(bytes: &[u8]) -> Option<Sha256> {
    let hex = bytes.get(..64)?;
    if !matches!(bytes.get(64), None | Some(0)) {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex, &mut out).ok()?;
    Some(Sha256(out))
}

/// GNU's `filename_unescape`: `\\`, `\n` and `\r` only; a lone trailing `\` or a NUL is
/// invalid.
fn gnu_unescape(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut it = bytes.iter();
    while let Some(&b) = it.next() {
        match b {
            b'\\' => out.push(match it.next()? {
                b'\\' => b'\\',
                b'n' => b'\n',
                b'r' => b'\r',
                _ => return None,
            }),
            0 => return None,
            _ => out.push(b),
        }
    }
    Some(out)
}

impl CheckReader {
    /// A reader in GNU's initial state.
    pub fn new() -> CheckReader {
        CheckReader::default()
    }

    /// Reads one line, without its `\n` (one trailing `\r` is dropped here, as GNU does).
    /// `from_stdin` makes the name `-` malformed, as GNU does when the sums come from stdin.
    pub fn line(&mut self, line: &[u8], from_stdin: bool) -> CheckLine {
        if line.first() == Some(&b'#') {
            return CheckLine::Skip;
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return CheckLine::Skip;
        }
        match self.split(line) {
            Some((_, name, _)) if from_stdin && name == b"-" => CheckLine::Malformed,
            Some((sha256, name, form)) => CheckLine::Sum { sha256, name, form },
            None => CheckLine::Malformed,
        }
    }

    /// GNU's `split_3`.
    fn split(&mut self, s: &[u8]) -> Option<(Sha256, Vec<u8>, LineForm)> {
        let mut i = s.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
        let escaped = s.get(i) == Some(&b'\\');
        if escaped {
            i += 1;
        }
        if s[i..].starts_with(b"SHA256") {
            i += 6;
            if s.get(i) == Some(&b' ') {
                i += 1;
            }
            if s.get(i) != Some(&b'(') {
                return None;
            }
            return bsd_split(&s[i + 1..], escaped);
        }
        // At least 64 hex digits, a blank and a one-byte name.
        let min = 64 + 2 + usize::from(s.get(i) == Some(&b'\\'));
        if s.len() - i < min {
            return None;
        }
        let hex = &s[i..i + 64];
        i += 64;
        if !is_white(s.get(i)) {
            return None;
        }
        i += 1;
        let sha256 = gnu_hex(hex)?;
        let mut form = LineForm::Text;
        if s.len() - i == 1 || (s[i] != b' ' && s[i] != b'*') {
            if self.bsd_reversed == Some(false) {
                return None;
            }
            self.bsd_reversed = Some(true);
        } else if self.bsd_reversed != Some(true) {
            self.bsd_reversed = Some(false);
            if s[i] == b'*' {
                form = LineForm::Binary;
            }
            i += 1;
        }
        let name = if escaped {
            gnu_unescape(&s[i..])?
        } else {
            c_str(&s[i..]).to_vec()
        };
        Some((sha256, name, form))
    }
}

/// GNU's `bsd_split_3`, on what follows `SHA256 (` or `SHA256(`: the name runs to the last
/// `)`, then blanks, `=`, blanks and exactly 64 hex digits.
fn bsd_split(s: &[u8], escaped: bool) -> Option<(Sha256, Vec<u8>, LineForm)> {
    let close = s.iter().rposition(|&b| b == b')')?;
    let raw = &s[..close];
    let name = if escaped {
        gnu_unescape(raw)?
    } else {
        c_str(raw).to_vec()
    };
    let rest = &s[close + 1..];
    let rest = &rest[rest.iter().take_while(|&&b| is_white(Some(&b))).count()..];
    let rest = rest.strip_prefix(b"=")?;
    let rest = &rest[rest.iter().take_while(|&&b| is_white(Some(&b))).count()..];
    Some((gnu_hex(rest)?, name, LineForm::Tag))
}

/// How `sha256sum -c` prints a name in its `NAME: OK` lines: as is, unless it holds a
/// newline; then a leading `\` and `\\`, `\n`, `\r` escaped (so each result is one line).
pub fn check_output_name(name: &[u8]) -> Vec<u8> {
    if !name.contains(&b'\n') {
        return name.to_vec();
    }
    let mut out = vec![b'\\'];
    out.extend(escape_newlines(name));
    out
}

/// `\\`, `\n` and `\r` escaped as in an escaped sums-file name, if `bytes` holds a newline
/// (else unchanged): for anything printed on a `NAME: WORD` line besides the name.
pub fn escape_newlines(bytes: &[u8]) -> Vec<u8> {
    if !bytes.contains(&b'\n') {
        return bytes.to_vec();
    }
    let mut out = Vec::with_capacity(bytes.len() + 8);
    for &b in bytes {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
    out
}

/// A file name as GNU coreutils quote it in diagnostics (`sha256sum: NAME: No such file or
/// directory`): gnulib's `quotef`, that is `shell_escape_quoting_style` with `:` quoted too,
/// as in a UTF-8 locale. A name with nothing a shell would mind stays as it is; else it is
/// put in single quotes, a `'` written `'\''` (or, when the name needs no more than that, the
/// whole name in double quotes), and control characters and bytes that are not UTF-8 written
/// as `$'\n'`, `$'\377'`. Valid UTF-8 other than control characters (Rust's `is_control`,
/// where gnulib asks the C library's `iswprint`) is printed as it is.
///
/// Ported from gnulib's `quotearg_buffer_restyled` rather than taken from a crate: uutils'
/// `uucore` has these styles, but would bring clap and its own tree into the library.
pub fn gnu_quote(name: &[u8]) -> String {
    /// One character of the name: an ASCII byte, a printable non-ASCII character, or bytes
    /// to escape (a non-printable character's UTF-8, or one byte that is not UTF-8).
    enum Unit<'a> {
        Ascii(u8),
        Wide(&'a str),
        Escaped(&'a [u8]),
    }
    let mut units = Vec::with_capacity(name.len());
    for chunk in name.utf8_chunks() {
        let valid = chunk.valid();
        for (i, c) in valid.char_indices() {
            let bytes = &valid[i..i + c.len_utf8()];
            units.push(match c {
                c if c.is_ascii() => Unit::Ascii(c as u8),
                c if c.is_control() => Unit::Escaped(bytes.as_bytes()),
                _ => Unit::Wide(bytes),
            });
        }
        units.extend(chunk.invalid().chunks(1).map(Unit::Escaped));
    }
    let letter = |b: u8| match b {
        0x07 => Some('a'),
        0x08 => Some('b'),
        0x0c => Some('f'),
        b'\n' => Some('n'),
        b'\r' => Some('r'),
        b'\t' => Some('t'),
        0x0b => Some('v'),
        _ => None,
    };
    // The first pass: does anything need quoting? (`#` and `~` only at the start, a brace
    // only alone, `:` because of the colon variant.)
    let mut at = 0;
    let mut quote = name.is_empty();
    for unit in &units {
        quote |= match *unit {
            Unit::Ascii(b) => match b {
                0..=0x1f | 0x7f => true,
                b'#' | b'~' => at == 0,
                b'{' | b'}' => name.len() == 1,
                b'?' | b'\\' | b'\'' | b' ' | b'!' | b'"' | b'$' | b'&' | b'(' | b')' | b'*'
                | b';' | b'<' | b'=' | b'>' | b'[' | b'^' | b'`' | b'|' | b':' => true,
                _ => false,
            },
            Unit::Wide(_) => false,
            Unit::Escaped(_) => true,
        };
        at += match unit {
            Unit::Ascii(_) => 1,
            Unit::Wide(s) => s.len(),
            Unit::Escaped(b) => b.len(),
        };
    }
    let raw = || String::from_utf8_lossy(name).into_owned();
    if !quote {
        return raw();
    }
    // The second pass, in single quotes. `plain` stays true while every character is one
    // that double quotes show as it is: then a name whose only trouble is a `'` is shown
    // in double quotes.
    let mut out = String::from("'");
    let (mut pending, mut plain, mut single) = (false, true, false);
    let mut at = 0;
    // `$'...'` is open (`pending`): an escape goes on in it, anything else closes it first.
    let escape = |out: &mut String, pending: &mut bool, text: &str| {
        if !*pending {
            out.push_str("'$'");
            *pending = true;
        }
        out.push('\\');
        out.push_str(text);
    };
    let literal = |out: &mut String, pending: &mut bool, text: &str| {
        if *pending {
            out.push_str("''");
            *pending = false;
        }
        out.push_str(text);
    };
    for unit in &units {
        match *unit {
            Unit::Ascii(b'\'') => {
                single = true;
                out.push_str("'\\''");
                pending = false;
            }
            Unit::Ascii(b) if b < 0x20 || b == 0x7f => {
                plain = false;
                match letter(b) {
                    Some(l) => escape(&mut out, &mut pending, &l.to_string()),
                    None => escape(&mut out, &mut pending, &format!("{b:03o}")),
                }
            }
            Unit::Ascii(b) => {
                plain &= match b {
                    b' ' | b'@' | b']' | b'%' | b'+' | b',' | b'-' | b'.' | b'/' | b':' | b'_' => {
                        true
                    }
                    b'#' | b'~' => at == 0,
                    b'{' | b'}' => name.len() == 1,
                    _ => b.is_ascii_alphanumeric(),
                };
                literal(&mut out, &mut pending, &(b as char).to_string());
            }
            Unit::Wide(s) => literal(&mut out, &mut pending, s),
            Unit::Escaped(bytes) => {
                plain = false;
                for b in bytes {
                    escape(&mut out, &mut pending, &format!("{b:03o}"));
                }
            }
        }
        at += match unit {
            Unit::Ascii(_) => 1,
            Unit::Wide(s) => s.len(),
            Unit::Escaped(b) => b.len(),
        };
    }
    if single && plain {
        return format!("\"{}\"", raw());
    }
    out.push('\'');
    out
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

    /// GNU's line rules, as seen with coreutils 9.1's `sha256sum -c` (the differential test in
    /// tests/it/verify.rs covers them against the real tool).
    #[test]
    fn check_lines_as_gnu_reads_them() {
        let sum = |name: &[u8], form| CheckLine::Sum {
            sha256: Sha256::of(b""),
            name: name.to_vec(),
            form,
        };
        let fresh = |line: &str| CheckReader::new().line(line.as_bytes(), false);
        use LineForm::*;
        let table: Vec<(String, CheckLine)> = vec![
            (format!("{H}  a"), sum(b"a", Text)),
            (format!("{H} *a"), sum(b"a", Binary)),
            (format!("{H} a"), sum(b"a", Text)),
            (format!("{H}\ta"), sum(b"a", Text)),
            (format!("{H} \ta"), sum(b"\ta", Text)),
            (format!(" \t{H}  a"), sum(b"a", Text)),
            (format!("{H}  a \r"), sum(b"a ", Text)),
            (format!("{H}  a\r\r"), sum(b"a\r", Text)),
            (format!("{H}   a"), sum(b" a", Text)),
            (format!("{H}  "), sum(b" ", Text)),
            (format!("{H} "), CheckLine::Malformed),
            (format!("{}  a", H.to_uppercase()), sum(b"a", Text)),
            (format!("{H}0  a"), CheckLine::Malformed),
            (format!("{H}  a\0b"), sum(b"a", Text)),
            (format!("SHA256 (a) = {H}"), sum(b"a", Tag)),
            (format!("SHA256(a)= {H}"), sum(b"a", Tag)),
            (format!("SHA256(a)={H}"), sum(b"a", Tag)),
            (format!("SHA256 (a)\t=\t{H}"), sum(b"a", Tag)),
            (format!("SHA256 (a)) = {H}"), sum(b"a)", Tag)),
            (format!("SHA256 () = {H}"), sum(b"", Tag)),
            (format!("SHA256  (a) = {H}"), CheckLine::Malformed),
            (format!("SHA256 (a) = {H} "), CheckLine::Malformed),
            (format!("SHA256 (a) = {H}0"), CheckLine::Malformed),
            (format!("sha256 (a) = {H}"), CheckLine::Malformed),
            (format!("SHA2-256(a)= {H}"), CheckLine::Malformed),
            (format!("SHA256 a = {H}"), CheckLine::Malformed),
            (format!("\\SHA256 (b\\\\c) = {H}"), sum(b"b\\c", Tag)),
            (format!("\\{H}  b\\\\c\\n\\r"), sum(b"b\\c\n\r", Text)),
            (format!("\\{H}  b\\xc"), CheckLine::Malformed),
            (format!("\\{H}  a\\"), CheckLine::Malformed),
            (format!("{H}  b\\\\c"), sum(b"b\\\\c", Text)),
            (format!(" \\{H}  a"), sum(b"a", Text)),
            (format!("\\ {H}  a"), CheckLine::Malformed),
            (format!("{H}  -"), sum(b"-", Text)),
            ("#x".into(), CheckLine::Skip),
            (" #x".into(), CheckLine::Malformed),
            ("".into(), CheckLine::Skip),
            ("\r".into(), CheckLine::Skip),
            ("   ".into(), CheckLine::Malformed),
        ];
        for (line, want) in table {
            assert_eq!(fresh(&line), want, "{line:?}");
        }
        let mut stdin = CheckReader::new();
        assert_eq!(
            stdin.line(format!("{H}  -").as_bytes(), true),
            CheckLine::Malformed
        );
        // The BSD-reversed state: after a standard line, reversed lines are malformed...
        let mut r = CheckReader::new();
        assert_eq!(r.line(format!("{H}  a").as_bytes(), false), sum(b"a", Text));
        assert_eq!(
            r.line(format!("{H} a").as_bytes(), false),
            CheckLine::Malformed
        );
        // ...and after a reversed line, standard lines keep their blank or star in the name.
        let mut r = CheckReader::new();
        assert_eq!(r.line(format!("{H} a").as_bytes(), false), sum(b"a", Text));
        assert_eq!(
            r.line(format!("{H}  a").as_bytes(), false),
            sum(b" a", Text)
        );
        assert_eq!(
            r.line(format!("{H} *a").as_bytes(), false),
            sum(b"*a", Text)
        );
    }

    /// What GNU coreutils 9.1's `sha256sum` printed for these names in
    /// `sha256sum: NAME: No such file or directory` (LANG=C.UTF-8).
    #[test]
    fn names_are_quoted_as_gnu_quotes_them() {
        let table: &[(&[u8], &str)] = &[
            (b"plain", "plain"),
            (b"%+,-./_", "%+,-./_"),
            (b"a b", "'a b'"),
            (b"a'b", "\"a'b\""),
            (b"a'b c", "\"a'b c\""),
            (b"a'b!", r"'a'\''b!'"),
            (b"a:b", "'a:b'"),
            (b"", "''"),
            (b"#x", "'#x'"),
            (b"x#", "x#"),
            (b"~x", "'~x'"),
            (b"x~", "x~"),
            (b"{", "'{'"),
            (b"{}", "{}"),
            (b"x{", "x{"),
            (b"?", "'?'"),
            (b"a?b", "'a?b'"),
            (br"a\b", r"'a\b'"),
            (b"a\"b", "'a\"b'"),
            (b"a$b", "'a$b'"),
            (b"@x", "@x"),
            (b"]x", "]x"),
            (b"a=b", "'a=b'"),
            (b"a^b", "'a^b'"),
            (b"a|b", "'a|b'"),
            ("\u{e9}".as_bytes(), "\u{e9}"),
            (b"a\nb", r"'a'$'\n''b'"),
            (b"a\n", r"'a'$'\n'"),
            (b"\tx", r"''$'\t''x'"),
            (b"a\x7f", r"'a'$'\177'"),
            (b"a\xffb", r"'a'$'\377''b'"),
            (b"a\x01b", r"'a'$'\001''b'"),
            (b"a'\nb", r"'a'\'''$'\n''b'"),
            (b"standard input", "'standard input'"),
            (b"\xc3", r"''$'\303'"),
            (b"\xc3\xa9\xff", "'\u{e9}'$'\\377'"),
            (b"a\x1b[0m", r"'a'$'\033''[0m'"),
            (b"a\r\\b", r"'a'$'\r''\b'"),
        ];
        for (name, want) in table {
            assert_eq!(
                gnu_quote(name),
                *want,
                "{:?}",
                String::from_utf8_lossy(name)
            );
        }
    }

    #[test]
    fn check_output_names_escape_only_newlines() {
        assert_eq!(check_output_name(b"a\\b\rc"), b"a\\b\rc");
        assert_eq!(check_output_name(b"n\nl\rx\\y"), b"\\n\\nl\\rx\\\\y");
    }
}
