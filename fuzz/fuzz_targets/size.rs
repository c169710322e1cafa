//! Sizes as GNU `split -b` reads them (`--part-size`, `--max-size`, ...): `size::parse` gives
//! exactly what an independent checked computation of digits x unit gives, and refuses
//! (never wraps) a size above `u64::MAX`; an accepted size reads back from its digits.
#![no_main]
use libfuzzer_sys::fuzz_target;
use voxctl::size::parse;

/// The unit's multiplier, as the module documents it: `None` for an unknown suffix.
fn unit(suffix: &str) -> Option<u128> {
    if suffix.is_empty() {
        return Some(1);
    }
    if suffix == "b" {
        return Some(512);
    }
    let mut chars = suffix.chars();
    let power = "KMGTPEZYRQ"
        .find(chars.next()?.to_ascii_uppercase())
        .filter(|_| !suffix.starts_with(['g', 't', 'p', 'e', 'z', 'y', 'r', 'q']))?
        as u32
        + 1;
    let base: u128 = match chars.as_str() {
        "" | "iB" => 1024,
        "B" | "D" => 1000,
        _ => return None,
    };
    Some(base.pow(power))
}

/// The reference: `Some(bytes)` for a size in the grammar that fits `u64`, `None` otherwise.
fn reference(text: &str) -> Option<u64> {
    let t = text.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let t = t.strip_prefix('+').unwrap_or(t);
    let end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, suffix) = t.split_at(end);
    if digits.is_empty() && suffix.is_empty() {
        return None;
    }
    let n: u128 = if digits.is_empty() {
        1
    } else {
        u64::try_from(digits.parse::<u128>().ok()?).ok()?.into()
    };
    u64::try_from(n.checked_mul(unit(suffix)?)?).ok()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let got = parse(text).ok();
    assert_eq!(got, reference(text), "size {text:?}");
    if let Some(n) = got {
        assert_eq!(parse(&n.to_string()).ok(), Some(n));
    }
});
