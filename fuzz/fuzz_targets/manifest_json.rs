//! `S.manifest.json` (layout 1): what `Manifest::from_json` accepts is valid (contiguous
//! parts from 0, adding up to the size, plain unique names, parts under 2 GiB), and writing
//! it back gives a document that reads back the same.
#![no_main]
use libfuzzer_sys::fuzz_target;
use voxctl::manifest::{Manifest, GITHUB_ASSET_LIMIT};

fuzz_target!(|data: &[u8]| {
    let Ok(m) = Manifest::from_json(data) else {
        return;
    };
    assert!(!m.parts.is_empty());
    let mut offset = 0u64;
    for p in &m.parts {
        assert_eq!(p.offset, offset, "parts are contiguous");
        assert!(p.size < GITHUB_ASSET_LIMIT);
        assert!(!p.name.contains('/') && p.name != m.asset);
        offset += p.size;
    }
    assert_eq!(offset, m.size, "parts add up to the asset");
    let written = serde_json::to_vec(&m).expect("a manifest serializes");
    let again = Manifest::from_json(&written).expect("a written manifest reads back");
    assert_eq!(again, m);
    let pretty = serde_json::to_vec_pretty(&m).expect("a manifest serializes");
    assert_eq!(Manifest::from_json(&pretty).expect("reads back"), m);
});
