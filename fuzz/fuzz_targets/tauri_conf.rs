//! `tauri.conf.json`'s updater key: the text found is the string at
//! `plugins.updater.pubkey` (Tauri v2), else at `tauri.updater.pubkey` (v1); a config with
//! neither is refused; what is found goes through the key parser without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;
use voxctl::fuzzing::tauri_conf_pubkey;
use voxctl::signature::Keyring;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let conf: Option<serde_json::Value> = serde_json::from_str(text).ok();
    let want = conf.as_ref().and_then(|c| {
        c.pointer("/plugins/updater/pubkey")
            .or_else(|| c.pointer("/tauri/updater/pubkey"))
            .and_then(|v| v.as_str())
    });
    match (tauri_conf_pubkey(text), want) {
        (Ok(key), Some(want)) => {
            assert_eq!(key, want);
            let _ = Keyring::new().add_text(&key, "tauri.conf.json");
        }
        (Err(_), None) => {}
        (got, want) => panic!("found {got:?}, expected {want:?}"),
    }
});
