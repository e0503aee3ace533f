//! Browser tests of the JS API, run in headless Chromium by `wasm-bindgen-test-runner`:
//! `cargo test -p p2panda-wasm --target wasm32-unknown-unknown` (see `.cargo/config.toml`).
#![cfg(target_arch = "wasm32")]

use js_sys::{Error, Reflect};
use p2panda_wasm::{verify_signature, version, KeyPair};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The `code` property of a thrown value, after checking it really is a JS `Error`.
fn error_code(thrown: JsValue) -> String {
    let error: Error = thrown
        .dyn_into()
        .expect("the thrown value is a JS Error (instanceof Error)");
    Reflect::get(&error, &JsValue::from_str("code"))
        .expect("reading `code`")
        .as_string()
        .expect("`code` is a string")
}

#[wasm_bindgen_test]
fn version_is_the_core_version() {
    assert_eq!(version(), p2panda_core::VERSION);
    assert!(!version().is_empty());
}

#[wasm_bindgen_test]
fn generated_key_pairs_are_distinct() {
    let a = KeyPair::new();
    let b = KeyPair::new();
    assert_eq!(a.public_key().len(), 64);
    assert_ne!(a.public_key(), b.public_key());
    assert_ne!(a.export_secret(), b.export_secret());
}

#[wasm_bindgen_test]
fn export_then_import_round_trips() {
    let original = KeyPair::new();
    let restored = KeyPair::from_secret(&original.export_secret()).expect("valid secret");
    assert_eq!(restored.public_key(), original.public_key());
    assert_eq!(restored.export_secret(), original.export_secret());
    // ed25519 signatures are deterministic: same key, same message, same signature.
    assert_eq!(restored.sign(b"festival"), original.sign(b"festival"));
}

#[wasm_bindgen_test]
fn signatures_verify_and_tampering_is_detected() {
    let key_pair = KeyPair::new();
    let message = b"lend the big tent on saturday";
    let signature = key_pair.sign(message);
    assert_eq!(signature.len(), 64);

    assert_eq!(
        verify_signature(&key_pair.public_key(), message, &signature),
        Ok(true)
    );

    let mut tampered = message.to_vec();
    tampered[0] ^= 1;
    assert_eq!(
        verify_signature(&key_pair.public_key(), &tampered, &signature),
        Ok(false)
    );

    let other = KeyPair::new();
    assert_eq!(
        verify_signature(&other.public_key(), message, &signature),
        Ok(false)
    );
    assert_eq!(
        verify_signature(&key_pair.public_key(), message, &signature[..63]),
        Ok(false)
    );
}

#[wasm_bindgen_test]
fn bad_secret_keys_throw_errors_with_stable_codes() {
    let thrown = KeyPair::from_secret("abcd")
        .err()
        .expect("a short secret is refused");
    assert_eq!(error_code(thrown), "SECRET_KEY_LENGTH");

    let thrown = KeyPair::from_secret("not hex at all")
        .err()
        .expect("non-hex is refused");
    assert_eq!(error_code(thrown), "NOT_HEX");
}

#[wasm_bindgen_test]
fn malformed_public_keys_throw_errors_with_stable_codes() {
    let signature = KeyPair::new().sign(b"x");
    let thrown = verify_signature("00", b"x", &signature).expect_err("a 1-byte key is refused");
    assert_eq!(error_code(thrown), "PUBLIC_KEY_LENGTH");

    let thrown = verify_signature("zz", b"x", &signature).expect_err("non-hex is refused");
    assert_eq!(error_code(thrown), "NOT_HEX");
}
