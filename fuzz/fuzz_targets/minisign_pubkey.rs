//! Minisign public keys as every key source gives them (`--pubkey`, `VOXCTL_PUBKEY`, a
//! `.pub` file, Tauri's base64 of that file): a key that `Keyring::add_text` accepts is
//! accepted in all three forms with the same key id, and the keyring holds it once.
#![no_main]
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use voxctl::fuzzing::pubkey_line;
use voxctl::signature::Keyring;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut ring = Keyring::new();
    let Ok(id) = ring.add_text(text, "fuzz") else {
        assert!(ring.is_empty(), "a refused key is not added");
        return;
    };
    assert_eq!(ring.keys().len(), 1);
    let line = pubkey_line(text.trim())
        .or_else(|| {
            let inner = base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .ok()?;
            pubkey_line(String::from_utf8(inner).ok()?.trim())
        })
        .expect("an accepted key has a key line");
    let file = format!("untrusted comment: minisign public key {id}\n{line}\n");
    for form in [line.clone(), file.clone(), b64(file.as_bytes())] {
        let again = ring
            .add_text(&form, "fuzz again")
            .unwrap_or_else(|e| panic!("{form:?} refused: {e:#}"));
        assert_eq!(again, id);
    }
    assert_eq!(ring.keys().len(), 1, "the same key is held once");
});
