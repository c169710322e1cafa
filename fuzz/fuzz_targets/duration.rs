//! Durations (every `--*-timeout`, `--ttl`, `--retry-delay`, ...): an accepted duration is at
//! most `duration::MAX`, and writing it back as decimal seconds or in humantime's units gives
//! the same duration; `parse_positive` refuses exactly the zero ones.
#![no_main]
use libfuzzer_sys::fuzz_target;
use voxctl::duration::{parse, parse_positive, MAX};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let got = parse(text);
    assert_eq!(
        parse_positive(text).ok(),
        got.as_ref().ok().copied().filter(|d| !d.is_zero())
    );
    let Ok(d) = got else {
        return;
    };
    assert!(d <= MAX);
    let secs = format!("{}.{:09}", d.as_secs(), d.subsec_nanos());
    assert_eq!(parse(&secs).expect("decimal seconds read back"), d);
    let human = humantime::format_duration(d).to_string();
    assert_eq!(parse(&human).expect("humantime's form reads back"), d);
});
