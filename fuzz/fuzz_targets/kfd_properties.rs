//! kfd topology `properties` files (`/sys/class/kfd/kfd/topology/nodes/N/properties`): a node
//! is a GPU exactly when its first `gfx_target_version` line has a non-zero number, named as
//! `gfx_name` names it; a name of a realistic version (major < 100, minor and stepping < 16) is
//! one that a release's `rocm_gfx` list can hold.
#![no_main]
use libfuzzer_sys::fuzz_target;
use voxctl::fuzzing::kfd_gfx;
use voxctl::gpu::{gfx_name, GfxList};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let version = text.lines().find_map(|l| {
        l.strip_prefix("gfx_target_version ")
            .and_then(|v| v.trim().parse::<u64>().ok())
    });
    let got = kfd_gfx(text);
    assert_eq!(got, version.filter(|v| *v != 0).map(gfx_name));
    let (Some(gfx), Some(v)) = (got, version) else {
        return;
    };
    assert!(gfx.starts_with("gfx") && gfx.len() > 3);
    if v / 10000 < 100 && (v / 100) % 100 < 16 && v % 100 < 16 {
        let list: GfxList = gfx.parse().expect("a real ISA name is a valid target");
        assert_eq!(list.0, vec![gfx]);
    }
});
