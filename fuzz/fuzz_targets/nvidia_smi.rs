//! `nvidia-smi --query-gpu=name,compute_cap,driver_version --format=csv,noheader` output (the
//! first byte picks the query with or without `compute_cap`): one GPU per non-blank line, and
//! the GPUs written back as nvidia-smi lines read back the same.
#![no_main]
use libfuzzer_sys::fuzz_target;
use voxctl::gpu::parse_nvidia_csv;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let with_cap = first & 1 == 0;
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let Ok(gpus) = parse_nvidia_csv(text, with_cap) else {
        return;
    };
    assert_eq!(
        gpus.len(),
        text.lines().filter(|l| !l.trim().is_empty()).count()
    );
    let na = || "[N/A]".to_string();
    let written: String = gpus
        .iter()
        .map(|g| {
            let driver = g.driver.as_ref().map_or_else(na, ToString::to_string);
            if with_cap {
                let cap = g.compute_cap.map_or_else(na, |c| c.to_string());
                format!("{}, {cap}, {driver}\n", g.name)
            } else {
                format!("{}, {driver}\n", g.name)
            }
        })
        .collect();
    let back = parse_nvidia_csv(&written, with_cap).expect("written lines read back");
    assert_eq!(back, gpus);
});
