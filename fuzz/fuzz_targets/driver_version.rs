//! NVIDIA driver versions (`requires.min_driver`, `nvidia-smi`'s answer): an accepted version
//! shows as the text given (trimmed), reads back equal, compares equal to itself and in
//! numeric order against a fixed version, and round trips through JSON.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::cmp::Ordering;
use voxctl::gpu::DriverVersion;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(v) = text.parse::<DriverVersion>() else {
        return;
    };
    assert_eq!(v.to_string(), text.trim());
    let again: DriverVersion = v.to_string().parse().expect("reads back");
    assert_eq!(again, v);
    assert_eq!(v.cmp(&again), Ordering::Equal);
    let fixed: DriverVersion = "535.104.05".parse().unwrap();
    assert_eq!(v.cmp(&fixed), fixed.cmp(&v).reverse());
    let json = serde_json::to_string(&v).expect("serializes");
    assert_eq!(
        serde_json::from_str::<DriverVersion>(&json).expect("reads back"),
        v
    );
});
