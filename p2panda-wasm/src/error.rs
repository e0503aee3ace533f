//! The one place where Rust errors become JavaScript errors.
//!
//! Every error that crosses the boundary is a JS `Error` whose `message` is the human-readable
//! text and whose `code` property is a stable, SCREAMING_SNAKE_CASE string that callers can
//! branch on (`if (e.code === "SECRET_KEY_LENGTH") ...`). Messages may change; codes may not.

use js_sys::{Error, Reflect};
use p2panda_core::identity::IdentityError;
use wasm_bindgen::JsValue;

/// An error with a stable code for JavaScript.
pub(crate) trait ErrorCode: std::fmt::Display {
    fn code(&self) -> &'static str;
}

impl ErrorCode for IdentityError {
    fn code(&self) -> &'static str {
        // Exhaustive on purpose: a new core error variant must be given a code here.
        match self {
            IdentityError::SecretKeyLength(_) => "SECRET_KEY_LENGTH",
            IdentityError::PublicKeyLength(_) => "PUBLIC_KEY_LENGTH",
            IdentityError::NotHex(_) => "NOT_HEX",
            IdentityError::InvalidPublicKey => "INVALID_PUBLIC_KEY",
            IdentityError::BadSignature => "BAD_SIGNATURE",
        }
    }
}

/// Build the JS `Error` (with its `code`) for a Rust error.
pub(crate) fn to_js_error<E: ErrorCode>(error: E) -> JsValue {
    let js_error = Error::new(&error.to_string());
    // Setting a property on a fresh, extensible Error object cannot fail.
    let _ = Reflect::set(
        &js_error,
        &JsValue::from_str("code"),
        &JsValue::from_str(error.code()),
    );
    js_error.into()
}

/// Result type of every fallible exported function: the error is already a JS `Error`.
pub(crate) type JsResult<T> = Result<T, JsValue>;

/// `.map_err(to_js_error)` for any error with a code.
pub(crate) trait IntoJsResult<T> {
    fn js(self) -> JsResult<T>;
}

impl<T, E: ErrorCode> IntoJsResult<T> for Result<T, E> {
    fn js(self) -> JsResult<T> {
        self.map_err(to_js_error)
    }
}

/// A JS `Error` with code `INVALID_ARGUMENT`, for bad input from JS outside any typed error.
pub(crate) fn invalid_argument(message: &str) -> JsValue {
    let js_error = Error::new(message);
    let _ = Reflect::set(
        &js_error,
        &JsValue::from_str("code"),
        &JsValue::from_str("INVALID_ARGUMENT"),
    );
    js_error.into()
}

/// Text for a thrown JS value that is not an `Error` (a string as it is, anything else as
/// `String(value)`). Not `{:?}`: `JsValue`'s `Debug` brings a debug printer into the glue.
pub(crate) fn js_text(value: &JsValue) -> String {
    value.as_string().unwrap_or_else(|| string_of(value))
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// JavaScript's `String(value)`.
    #[wasm_bindgen(js_name = String)]
    fn string_of(value: &JsValue) -> String;
}
