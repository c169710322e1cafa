//! Minisign signatures (`.minisig`) and Tauri's base64 of one (`.sig`): what
//! `SignatureFile::decode` accepts decodes the same (key id, prehash, trusted comment) in the
//! other form; against a fixed trusted key and file, the in-memory check (minisign-verify) and
//! the streamed check (ed25519-compact) agree: the streamed one never accepts what the other
//! refuses (and for legacy signatures they are the same check).
#![no_main]
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use voxctl::signature::{Keyring, SignatureFile};

const PUBKEY: &str = include_str!("../keys/fuzz.pub");
const DATA: &[u8] = include_bytes!("../keys/data");

fuzz_target!(|data: &[u8]| {
    let Ok(sig) = SignatureFile::decode(data, "fuzz.minisig") else {
        return;
    };
    let text = std::str::from_utf8(data).expect("accepted signatures are text");
    let other = if sig.tauri {
        let inner = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .expect("a Tauri signature is base64");
        SignatureFile::decode(&inner, "inner.minisig").expect("the wrapped signature decodes")
    } else {
        let wrapped = base64::engine::general_purpose::STANDARD.encode(text);
        SignatureFile::decode(wrapped.as_bytes(), "fuzz.sig").expect("its Tauri form decodes")
    };
    assert_eq!(other.tauri, !sig.tauri);
    assert_eq!(other.key_id, sig.key_id);
    assert_eq!(other.prehashed, sig.prehashed);
    assert_eq!(other.trusted_comment(), sig.trusted_comment());

    let mut ring = Keyring::new();
    ring.add_text(PUBKEY, "fuzz.pub")
        .expect("the fixed key loads");
    let in_memory = ring.verify_bytes(DATA, "data", &sig);
    let streamed = ring.verify_stream(&sig, "data", DATA.len() as u64, |sink| {
        for piece in DATA.chunks(5) {
            sink(piece);
        }
        Ok(())
    });
    if streamed.is_ok() {
        assert!(
            in_memory.is_ok(),
            "streamed accepts what minisign-verify refuses"
        );
    }
    if !sig.prehashed {
        assert_eq!(streamed.is_ok(), in_memory.is_ok());
    }
    if let (Ok(a), Ok(b)) = (&in_memory, &streamed) {
        assert_eq!(a, b);
        assert_eq!(a.trusted_comment, sig.trusted_comment());
    }
});
