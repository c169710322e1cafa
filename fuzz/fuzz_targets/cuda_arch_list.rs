//! `TORCH_CUDA_ARCH_LIST` values (`requires.cuda_arch_list` of a manifest, `split
//! --cuda-arch-list`): an accepted list names at least one arch, shows as the text given,
//! reads back from its entries written out (names expanded) to the same archs, and each arch
//! runs on its own capability.
#![no_main]
use libfuzzer_sys::fuzz_target;
use voxctl::gpu::CudaArchList;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(list) = text.parse::<CudaArchList>() else {
        return;
    };
    assert!(!list.archs.is_empty());
    assert_eq!(list.to_string(), text.trim());
    let entries: Vec<String> = list.archs.iter().map(ToString::to_string).collect();
    let again: CudaArchList = entries
        .join(";")
        .parse()
        .expect("written entries read back");
    assert_eq!(again.archs, list.archs);
    let shown: CudaArchList = list.to_string().parse().expect("the shown text reads back");
    assert_eq!(shown, list);
    for a in &list.archs {
        assert!(a.runs_on(a.cap), "{a} runs on its own capability");
        assert!(list.runs_on(a.cap));
    }
    // In a manifest it is a JSON string.
    let json = serde_json::to_string(&list).expect("serializes");
    assert_eq!(
        serde_json::from_str::<CudaArchList>(&json).expect("reads back"),
        list
    );
});
