//! Sizes spelled as GNU `split -b` reads them (docs/contract.md "Conventions"), so that the same
//! `N` in `voxctl split --part-size N` and `split -b N` always cuts the same parts.
//!
//! The grammar is coreutils' `xstrtoumax` with split's suffix set `bEGKkMmPTYZ0`: optional
//! leading whitespace and `+`, decimal digits (none means 1: `K` is 1024), then at most one
//! unit: `b` = 512; `K`/`k`, `M`/`m`, `G`, `T`, `P`, `E`, `Z`, `Y` (and `R`, `Q` of newer
//! coreutils) alone or with `iB` = powers of 1024, with `B` (or the obsolescent `D`) = powers
//! of 1000. Nothing else: no decimals, no trailing space, no lowercase `g`/`t`.
//!
//! The parse-size crate does not fit: it reads `K` as 1000 (or, in binary mode, `KB` as
//! 1024 too), accepts decimals and `B` for bytes, and has no `b` = 512. So the grammar is
//! written out here, with a table test pinned against GNU split's behaviour
//! (tests/it/split.rs checks it against the real `split -b`).
//!
//! The other way, [`iec`] formats a byte count for people: the one formatter of every size
//! voxctl shows a person (messages, errors, tables, progress bars), in IEC units.

use crate::Error;

/// Parses `text` as GNU `split -b` does and returns the number of bytes (0 if the text says
/// 0; the caller checks the range).
///
/// Errors with [`Error::Usage`] naming the text: for a decimal number the message says so
/// and [`decimal_hint`] spells the same size in whole units; anything else not in the
/// grammar, or above `u64::MAX`, is invalid.
pub fn parse(text: &str) -> Result<u64, Error> {
    let invalid = || {
        Error::Usage(format!(
            "invalid size {text:?}: expected digits and an optional unit as GNU split -b \
             reads them (K, M, G = 1024 powers; KB, MB, GB = 1000 powers; KiB, MiB, GiB; \
             b = 512)"
        ))
    };
    let t = text.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let t = t.strip_prefix('+').unwrap_or(t);
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, suffix) = t.split_at(digits_end);
    if suffix.starts_with('.') {
        return Err(Error::Usage(match decimal_hint(text) {
            Some(whole) => format!(
                "invalid size {text:?}: sizes are whole numbers (as for GNU split -b); \
                 write {whole}"
            ),
            None => format!("invalid size {text:?}: sizes are whole numbers"),
        }));
    }
    let n: u64 = if digits.is_empty() {
        // As xstrtol: no digits but a valid unit means one of that unit.
        if suffix.is_empty() {
            return Err(invalid());
        }
        1
    } else {
        digits.parse().map_err(|_| invalid())?
    };
    let multiplier = unit(suffix).ok_or_else(invalid)?;
    // Checked: the largest count (u64::MAX) times the largest unit (1024^10) exceeds even
    // u128, and a wrapped product (`268435456Q` = 2^128) would read as 0.
    let bytes = u128::from(n).checked_mul(multiplier);
    bytes.and_then(|b| u64::try_from(b).ok()).ok_or_else(|| {
        Error::Usage(format!(
            "invalid size {text:?}: too large (over {} bytes)",
            u64::MAX
        ))
    })
}

/// The multiplier of a unit suffix (the text after the digits), `None` if GNU split refuses
/// it. In `u128`, which holds the largest (1000^10 and 1024^10), so that any count of units
/// beyond `u64` (`Z`, `Y`, ...) overflows as it does in GNU.
fn unit(suffix: &str) -> Option<u128> {
    let mut chars = suffix.chars();
    let Some(first) = chars.next() else {
        return Some(1);
    };
    let rest = chars.as_str();
    if first == 'b' {
        return rest.is_empty().then_some(512);
    }
    let power = match first {
        'k' | 'K' => 1,
        'm' | 'M' => 2,
        'G' => 3,
        'T' => 4,
        'P' => 5,
        'E' => 6,
        'Z' => 7,
        'Y' => 8,
        'R' => 9,
        'Q' => 10,
        _ => return None,
    };
    let base: u128 = match rest {
        "" | "iB" => 1024,
        "B" | "D" => 1000,
        _ => return None,
    };
    Some(base.pow(power))
}

/// For a decimal size such as `1.9GB`, the same number of bytes in the largest whole unit of
/// the same family (`1900MB`); if no unit holds it exactly, the whole bytes below it
/// (`1.9G` -> `2040109465`). `None` if `text` is not a decimal in the grammar.
pub fn decimal_hint(text: &str) -> Option<String> {
    let t = text.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let t = t.strip_prefix('+').unwrap_or(t);
    let (whole, rest) = t.split_once('.')?;
    let frac_end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (frac, suffix) = rest.split_at(frac_end);
    if whole.is_empty() && frac.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if frac.len() > 18 {
        return None;
    }
    let multiplier = unit(suffix)?;
    // value = (whole * 10^len + frac) / 10^len units, computed exactly in u128.
    let scale = 10u128.pow(frac.len() as u32);
    let numerator = (format!("{whole}{frac}").parse::<u128>().ok()?).checked_mul(multiplier)?;
    // Units of the same family as the one written, largest first: (multiplier, spelling).
    let family: Vec<(u128, String)> = {
        // The unit's letter is ASCII (unit() accepted it), so the tail starts at byte 1.
        let tail = suffix.get(1..).unwrap_or("");
        let base: u128 = if tail == "B" || tail == "D" {
            1000
        } else {
            1024
        };
        let letters = ['K', 'M', 'G', 'T', 'P', 'E'];
        let mut units: Vec<(u128, String)> = letters
            .iter()
            .enumerate()
            .map(|(i, l)| (base.pow(i as u32 + 1), format!("{l}{tail}")))
            .filter(|(m, _)| *m < multiplier)
            .collect();
        units.reverse();
        units
    };
    for (m, spelling) in &family {
        if numerator % (scale * m) == 0 {
            return Some(format!("{}{spelling}", numerator / (scale * m)));
        }
    }
    Some(format!("{}", numerator / scale))
}

/// Formats `bytes` for people in IEC units (powers of 1024), as the humansize crate's
/// `BINARY` style writes them: `15 B`, `1.46 KiB`, `2.44 GiB`, and a whole number of units
/// without decimals (`256 MiB`). Every human size voxctl prints goes through here, so one
/// unit system is used everywhere; JSON carries bytes instead.
pub fn iec(bytes: u64) -> String {
    humansize::format_size(bytes, humansize::BINARY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iec_formats_powers_of_1024() {
        for (n, want) in [
            (0, "0 B"),
            (15, "15 B"),
            (1023, "1023 B"),
            (1024, "1 KiB"),
            (1_500, "1.46 KiB"),
            (2_500, "2.44 KiB"),
            (3 << 20, "3 MiB"),
            (1_572_864, "1.50 MiB"),
            (2_400_000_000, "2.24 GiB"),
            (2 << 30, "2 GiB"),
            (u64::MAX, "16 EiB"),
        ] {
            assert_eq!(iec(n), want, "{n}");
        }
    }

    /// Every spelling GNU split 9.1 accepts or refuses, as seen with `split -b X /dev/null`.
    #[test]
    fn gnu_split_grammar() {
        const K: u64 = 1024;
        let ok: &[(&str, u64)] = &[
            ("1", 1),
            ("0", 0),
            ("007", 7),
            ("3b", 3 * 512),
            ("b", 512),
            ("3k", 3 * K),
            ("3K", 3 * K),
            ("K", K),
            ("3kiB", 3 * K),
            ("3KiB", 3 * K),
            ("3kB", 3000),
            ("3KB", 3000),
            ("KB", 1000),
            ("3KD", 3000),
            ("3m", 3 * K * K),
            ("3M", 3 * K * K),
            ("3MiB", 3 * K * K),
            ("3miB", 3 * K * K),
            ("3MB", 3_000_000),
            ("3mB", 3_000_000),
            ("3MD", 3_000_000),
            ("1G", K * K * K),
            ("1GiB", K * K * K),
            ("1GB", 1_000_000_000),
            ("1T", K.pow(4)),
            ("1TB", 1000u64.pow(4)),
            ("1P", K.pow(5)),
            ("1E", K.pow(6)),
            ("1EB", 1000u64.pow(6)),
            (" 5", 5),
            ("\t+5", 5),
            ("+5K", 5 * K),
        ];
        for (text, want) in ok {
            assert_eq!(parse(text).unwrap(), *want, "{text:?}");
        }
        for bad in [
            "",
            " ",
            "3B",
            "3c",
            "3w",
            "3g",
            "3t",
            "3Ki",
            "3Mi",
            "3gB",
            "3bB",
            "3biB",
            "3Kb",
            "3KBx",
            "3 5",
            "3+5",
            "0x10",
            "-1",
            "- 5",
            "5 ",
            "1e3",
            "iB",
            "B",
            "3kib",
            "3KIB",
            "3 K",
            "1Z",
            "1Y",
            "268435456Q",
            "18446744073709551615Q",
            "18446744073709551615R",
            "4294967296Q",
            "16E",
            "99999999999999999999",
        ] {
            assert!(
                matches!(parse(bad), Err(Error::Usage(_))),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn decimals_are_refused_with_whole_spelling() {
        let table = [
            ("1.9GB", "1900MB"),
            ("1.5GiB", "1536MiB"),
            ("1.5G", "1536M"),
            ("0.5MB", "500KB"),
            ("1.5b", "768"),
            ("2.5kB", "2500"),
            ("1.9G", "2040109465"),
            ("1.25M", "1280K"),
            ("1.5", "1"),
        ];
        for (text, whole) in table {
            assert_eq!(decimal_hint(text).as_deref(), Some(whole), "{text}");
            let err = parse(text).unwrap_err();
            assert!(matches!(err, Error::Usage(_)), "{text}");
            assert!(err.to_string().contains(whole), "{text}: {err}");
        }
    }
}
