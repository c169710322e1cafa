//! Names that become file names: an asset's stem and part suffix (from which every release
//! file's name is made), and the validation of slot and lease names chosen by users, and part
//! and asset names read from a release (untrusted input, docs/contract.md
//! "Names and sizes read from a release").

use crate::Error;

/// Checks a slot or lease name: 1 to 128 characters from `[A-Za-z0-9._-]`, not starting
/// with `.` (so never `.` or `..`) and with no path separator. Errors with
/// [`Error::Usage`] naming the offending name.
pub fn validate_resource_name(kind: &str, name: &str) -> Result<(), Error> {
    let ok_chars = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if name.is_empty() || name.len() > 128 || !ok_chars || name.starts_with('.') {
        return Err(Error::Usage(format!(
            "invalid {kind} name {name:?}: use 1-128 characters from A-Z a-z 0-9 . _ - \
             (no separators, not starting with '.')"
        )));
    }
    Ok(())
}

/// Checks a file name read from a release (a part or an asset): non-empty, at most 255 bytes,
/// no `/`, `\`, NUL or control characters, not `.` or `..`. Errors with
/// [`Error::Integrity`] naming the offending name, since such a name is bad release data.
pub fn validate_file_name(kind: &str, name: &str) -> Result<(), Error> {
    let bad = name.is_empty()
        || name.len() > 255
        || name == "."
        || name == ".."
        || name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control());
    if bad {
        return Err(Error::Integrity(format!(
            "unsafe {kind} name {name:?}: must be a plain file name"
        )));
    }
    Ok(())
}

/// The Windows executable suffix that part names carry over (`X.part00.exe`).
const EXE: &str = ".exe";

/// The stem `S` of asset `A`: `A` without a trailing `.exe`.
pub fn stem(asset: &str) -> &str {
    asset.strip_suffix(EXE).unwrap_or(asset)
}

/// The suffix that part names carry: `.exe` if the asset has it, else empty.
pub fn part_suffix(asset: &str) -> &str {
    if asset.ends_with(EXE) && asset.len() > EXE.len() {
        EXE
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_names() {
        for good in ["fetch-voicebox-server-cuda", "a", "L", "x.y_z-1"] {
            assert!(validate_resource_name("slot", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            ".hidden",
            "a/b",
            "a\\b",
            "a b",
            "a\0b",
            &"x".repeat(129),
        ] {
            assert!(validate_resource_name("slot", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn file_names() {
        for good in ["voicebox-server-cuda.part00.exe", "a b", "x..y"] {
            assert!(validate_file_name("part", good).is_ok(), "{good}");
        }
        for bad in ["", ".", "..", "../x", "a/b", "/abs", "a\\b", "a\0b", "a\nb"] {
            assert!(validate_file_name("part", bad).is_err(), "{bad:?}");
        }
    }
}
