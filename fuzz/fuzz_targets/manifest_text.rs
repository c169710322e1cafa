//! `S.manifest` (voicebox v1 text manifest): accepted names are plain, unique and non-empty;
//! formatting them back gives a manifest that parses to the same names.
#![no_main]
use libfuzzer_sys::fuzz_target;
use voxctl::manifest::{format_text_manifest, parse_text_manifest};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(names) = parse_text_manifest(text) else {
        return;
    };
    assert!(!names.is_empty());
    let mut seen = std::collections::HashSet::new();
    for n in &names {
        assert!(!n.is_empty() && !n.contains('/') && !n.contains('\n') && n != "." && n != "..");
        assert_eq!(n.trim(), n, "names are trimmed");
        assert!(seen.insert(n), "names are unique");
    }
    let written = format_text_manifest(names.iter().map(String::as_str));
    assert_eq!(parse_text_manifest(&written).expect("reads back"), names);
});
