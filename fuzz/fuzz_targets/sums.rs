//! Sums-file lines: `parse_line` (the `S.sha256` reader) round trips what it accepts through
//! `format_line`; `parse_single` agrees with it; `CheckReader` (sha256sum -c's reader) reads
//! every line of the input without panicking, and a line that `format_line` writes is read
//! back by it with the same digest and name (names without NUL, which GNU cannot hold).
#![no_main]
use libfuzzer_sys::fuzz_target;
use voxctl::checksum::{format_line, parse_line, parse_single, CheckLine, CheckReader, LineForm};

fuzz_target!(|data: &[u8]| {
    let mut reader = CheckReader::new();
    for line in data.split(|&b| b == b'\n') {
        let _ = reader.line(line, data.first() == Some(&b'-'));
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for line in text.lines() {
        let Ok(Some(sum)) = parse_line(line) else {
            continue;
        };
        assert!(!sum.name.is_empty());
        let written = format_line(&sum.sha256, &sum.name);
        let back = parse_line(written.strip_suffix('\n').expect("newline terminated"))
            .expect("a written line parses")
            .expect("a written line is not blank");
        assert_eq!(
            (back.sha256, &back.name, back.form),
            (sum.sha256, &sum.name, LineForm::Text)
        );
        if sum.name.contains('\0') {
            // sha256sum reads names as C strings: a NUL ends them (GNU's behaviour too).
            continue;
        }
        let line_bytes = written.strip_suffix('\n').unwrap().as_bytes();
        match CheckReader::new().line(line_bytes, false) {
            CheckLine::Sum { sha256, name, .. } => {
                assert_eq!(sha256, sum.sha256);
                assert_eq!(name, sum.name.as_bytes());
            }
            other => panic!("sha256sum -c reader refuses {written:?}: {other:?}"),
        }
    }
    if let Ok(single) = parse_single(text) {
        let listed = text
            .lines()
            .filter(|l| matches!(parse_line(l), Ok(Some(_))))
            .count();
        assert!(listed <= 1, "parse_single accepted {listed} lines");
        let _ = single;
    }
});
