//! Errors of the IndexedDB store and their stable JS codes.

use js_sys::Reflect;
use wasm_bindgen::JsValue;

use crate::error::ErrorCode;

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Another tab or worker of this origin holds the store's lock (it is writing these logs).
    #[error("the store is open in another tab or worker")]
    InUse,
    /// An older connection in another tab does not close, so the database cannot be upgraded.
    #[error("the database upgrade is blocked by another tab of this app; close it and retry")]
    Blocked,
    /// The browser refused the write: the origin's storage quota is used up.
    #[error("storage quota exceeded")]
    Quota,
    /// A transaction or request failed; nothing of it was stored.
    #[error("storage transaction failed: {0}")]
    Transaction(String),
    /// IndexedDB or Web Locks are missing or refused (private mode, sandboxed frame, old browser).
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A stored value does not decode.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// Our connection was closed: a newer version of the app upgrades the database in another
    /// tab, or the browser cleared the site's storage. Reload to continue.
    #[error("the database connection was closed by a newer version of the app or the browser")]
    Closed,
}

impl ErrorCode for StoreError {
    fn code(&self) -> &'static str {
        match self {
            StoreError::InUse => "STORE_IN_USE",
            StoreError::Blocked => "STORE_BLOCKED",
            StoreError::Quota => "STORE_QUOTA",
            StoreError::Transaction(_) => "STORE_TRANSACTION",
            StoreError::Unavailable(_) => "STORE_UNAVAILABLE",
            StoreError::Corrupt(_) => "STORE_CORRUPT",
            StoreError::Closed => "STORE_CLOSED",
        }
    }
}

impl StoreError {
    /// The stable code JavaScript sees for this error (`STORE_IN_USE`, ...).
    pub fn code(&self) -> &'static str {
        ErrorCode::code(self)
    }
}

/// Map an error thrown or reported by IndexedDB (usually a `DOMException`) to a [`StoreError`]:
/// an error named `QuotaExceededError` becomes [`StoreError::Quota`], anything else
/// [`StoreError::Transaction`] with the error's name and message. Public (hidden) so the browser
/// tests can check the mapping with a real `DOMException`.
#[doc(hidden)]
pub fn from_dom_error(error: &JsValue) -> StoreError {
    let (name, message) = name_and_message(error);
    if name == "QuotaExceededError" {
        StoreError::Quota
    } else {
        StoreError::Transaction(format!("{name}: {message}"))
    }
}

/// The `name` and `message` of a JS error object, or its debug text for anything else.
pub(crate) fn name_and_message(error: &JsValue) -> (String, String) {
    if !error.is_object() {
        return ("Error".into(), crate::error::js_text(error));
    }
    let field = |key: &str| {
        Reflect::get(error, &JsValue::from_str(key))
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    (field("name"), field("message"))
}

/// True when `error` is a `DOMException` (or Error) with the given name.
pub(crate) fn is_named(error: &JsValue, name: &str) -> bool {
    error.is_object() && name_and_message(error).0 == name
}

/// Text of any JS value for an error message.
pub(crate) fn describe(error: &JsValue) -> String {
    let (name, message) = name_and_message(error);
    if message.is_empty() {
        name
    } else {
        format!("{name}: {message}")
    }
}
