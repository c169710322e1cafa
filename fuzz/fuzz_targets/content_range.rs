//! `Content-Range` of a 206 answer: the start read is the decimal number between `bytes ` and
//! the first `-` (nothing else is accepted), and every well-formed header built from it reads
//! back the same start.
#![no_main]
use libfuzzer_sys::fuzz_target;
use voxctl::fuzzing::content_range_start;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some(start) = content_range_start(text) else {
        return;
    };
    let first = text
        .strip_prefix("bytes ")
        .expect("starts with `bytes `")
        .split('-')
        .next()
        .unwrap()
        .trim();
    assert!(first
        .trim_start_matches('+')
        .bytes()
        .all(|b| b.is_ascii_digit()));
    assert_eq!(first.parse::<u64>().ok(), Some(start));
    for header in [
        format!("bytes {start}-{}/{}", start.saturating_add(9), u64::MAX),
        format!("bytes {start}-{start}/*"),
    ] {
        assert_eq!(content_range_start(&header), Some(start));
    }
});
