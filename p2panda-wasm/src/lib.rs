//! p2panda-wasm: the JavaScript API of p2panda, a thin layer of wasm-bindgen bindings over
//! `p2panda-core`.
//!
//! Conventions: names are JS-shaped (`camelCase`), keys travel as lowercase hex strings, bytes as
//! `Uint8Array`, and every failure is thrown as a JS `Error` with a stable `code` property (see
//! the `error` module). Nothing here panics on input that came from JavaScript.

mod error;
pub mod net;
mod node;
pub mod store;
mod time;
mod worker;

use error::{IntoJsResult, JsResult};

/// Talc in place of Rust's default dlmalloc: less code in the package, and faster (its own
/// WebAssembly benchmarks; ours are in the closing note of the change that brought it).
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
use p2panda_core::identity::{self, IdentityError, PublicKey};
use wasm_bindgen::prelude::*;

/// The version of p2panda (the Rust core this module was built from).
#[wasm_bindgen]
pub fn version() -> String {
    p2panda_core::VERSION.to_string()
}

/// An ed25519 key pair made on this device. `new KeyPair()` generates a fresh one from the
/// browser's secure random source (`crypto.getRandomValues`).
#[wasm_bindgen]
pub struct KeyPair(identity::KeyPair);

#[wasm_bindgen]
impl KeyPair {
    /// Generate a new key pair.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> KeyPair {
        KeyPair(identity::KeyPair::generate())
    }

    /// Restore a key pair from a secret key exported with `exportSecret()` (64 hex characters).
    /// Throws `Error` with `code` `NOT_HEX` or `SECRET_KEY_LENGTH`.
    #[wasm_bindgen(js_name = fromSecret)]
    pub fn from_secret(#[wasm_bindgen(js_name = secretHex)] secret_hex: &str) -> JsResult<KeyPair> {
        identity::KeyPair::from_secret_hex(secret_hex)
            .map(KeyPair)
            .js()
    }

    /// The public key as 64 lowercase hex characters.
    #[wasm_bindgen(js_name = publicKey)]
    pub fn public_key(&self) -> String {
        self.0.public_key().to_hex()
    }

    /// The secret key as 64 hex characters, for a backup the user asked for. Keep it secret.
    #[wasm_bindgen(js_name = exportSecret)]
    pub fn export_secret(&self) -> String {
        self.0.export_secret_hex()
    }

    /// Sign `message`; returns the 64-byte ed25519 signature.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.0.sign(message).to_vec()
    }
}

/// Check an ed25519 `signature` of `message` by the author `publicKeyHex`.
///
/// Returns `false` when the signature does not verify (wrong key, altered message, malformed
/// signature). Throws `Error` with `code` `NOT_HEX`, `PUBLIC_KEY_LENGTH` or `INVALID_PUBLIC_KEY`
/// when the public key itself is malformed, since that is a caller bug rather than a bad signature.
#[wasm_bindgen(js_name = verifySignature)]
pub fn verify_signature(
    #[wasm_bindgen(js_name = publicKeyHex)] public_key_hex: &str,
    message: &[u8],
    signature: &[u8],
) -> JsResult<bool> {
    let public_key: PublicKey = public_key_hex.parse().js()?;
    match public_key.verify(message, signature) {
        Ok(()) => Ok(true),
        Err(IdentityError::BadSignature) => Ok(false),
        Err(other) => Err(other).js(),
    }
}
