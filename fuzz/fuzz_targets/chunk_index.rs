//! The chunk index (`S.chunks`): what `Index::parse` accepts is consistent (valid params,
//! chunks of 1..=max bytes, only the last under min, covering the size exactly) and
//! `to_bytes` gives back exactly the input. Memory stays bounded by the input (run with
//! -rss_limit_mb).
#![no_main]
use libfuzzer_sys::fuzz_target;
use voxctl::chunks::{Index, ENTRY_LEN, HEADER_LEN};

fuzz_target!(|data: &[u8]| {
    let Ok(index) = Index::parse(data) else {
        return;
    };
    index.params.validate().expect("accepted params are valid");
    assert_eq!(data.len(), HEADER_LEN + index.chunks.len() * ENTRY_LEN);
    let mut offset = 0u64;
    let n = index.chunks.len();
    for (i, c) in index.chunks.iter().enumerate() {
        assert_eq!(c.offset, offset);
        assert!(c.len >= 1 && c.len <= index.params.max);
        assert!(c.len >= index.params.min || i + 1 == n);
        offset += u64::from(c.len);
    }
    assert_eq!(offset, index.size);
    assert_eq!(index.to_bytes(), data, "an index writes back byte for byte");
});
