//! Thin async helpers over the raw IndexedDB API (web-sys), usable in windows and workers.
//!
//! Requests and transactions are turned into promises by handing the promise's resolve/reject
//! functions to the `success`/`error` (`complete`/`abort`) handlers, so no Rust closure has to
//! outlive a dropped future.

use js_sys::{Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    IdbDatabase, IdbFactory, IdbOpenDbRequest, IdbRequest, IdbTransaction, IdbVersionChangeEvent,
};

use super::error::{describe, from_dom_error, StoreError};

#[wasm_bindgen]
extern "C" {
    /// `db.transaction(store, "readwrite", { durability })`, bound by hand because web-sys
    /// gates the options dictionary behind its unstable-API flag.
    type RawDatabase;

    #[wasm_bindgen(method, catch, js_name = transaction)]
    fn transaction_with_options(
        this: &RawDatabase,
        store: &str,
        mode: &str,
        options: &JsValue,
    ) -> Result<IdbTransaction, JsValue>;
}

/// A read-write transaction on one object store with the given `durability`
/// (`"default"`, `"relaxed"` or `"strict"`).
pub(crate) fn write_transaction(
    db: &IdbDatabase,
    store: &str,
    durability: &str,
) -> Result<IdbTransaction, JsValue> {
    let options = js_sys::Object::new();
    Reflect::set(&options, &"durability".into(), &durability.into())?;
    db.unchecked_ref::<RawDatabase>()
        .transaction_with_options(store, "readwrite", &options)
}

/// `indexedDB` of the current global (window or worker).
pub(crate) fn factory() -> Result<IdbFactory, StoreError> {
    Reflect::get(&js_sys::global(), &"indexedDB".into())
        .ok()
        .and_then(|f| f.dyn_into::<IdbFactory>().ok())
        .ok_or_else(|| StoreError::Unavailable("indexedDB is missing".into()))
}

/// Wait for a request's `success` and return its result; an `error` event gives its error.
pub(crate) async fn request(req: &IdbRequest) -> Result<JsValue, StoreError> {
    let done = Promise::new(&mut |resolve, reject| {
        req.set_onsuccess(Some(&resolve));
        req.set_onerror(Some(&reject));
    });
    let outcome = JsFuture::from(done).await;
    req.set_onsuccess(None);
    req.set_onerror(None);
    match outcome {
        Ok(_) => req.result().map_err(|e| from_dom_error(&e)),
        Err(_) => Err(request_error(req)),
    }
}

/// The error of a failed request.
fn request_error(req: &IdbRequest) -> StoreError {
    match req.error() {
        Ok(Some(exception)) => from_dom_error(&exception),
        Ok(None) => StoreError::Transaction("request failed without an error".into()),
        Err(e) => from_dom_error(&e),
    }
}

/// Wait until a transaction commits (`complete`). An aborted transaction gives its error
/// (e.g. `QuotaExceededError` → [`StoreError::Quota`]); nothing of it was stored.
pub(crate) async fn committed(tx: &IdbTransaction) -> Result<(), StoreError> {
    let done = Promise::new(&mut |resolve, reject| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onabort(Some(&reject));
    });
    let outcome = JsFuture::from(done).await;
    tx.set_oncomplete(None);
    tx.set_onabort(None);
    match outcome {
        Ok(_) => Ok(()),
        Err(_) => Err(match tx.error() {
            Some(exception) => from_dom_error(&exception),
            None => StoreError::Transaction("transaction aborted".into()),
        }),
    }
}

/// Open (and create or upgrade) the database `name` at `version`.
///
/// `upgrade(db, old_version)` runs inside the `upgradeneeded` event; an error from it aborts the
/// upgrade. If an old connection elsewhere does not close on `versionchange`, the `blocked` event
/// gives [`StoreError::Blocked`] instead of waiting forever; should the open still succeed later,
/// that late connection is closed at once.
pub(crate) async fn open(
    factory: &IdbFactory,
    name: &str,
    version: u32,
    upgrade: fn(&IdbDatabase, f64) -> Result<(), JsValue>,
) -> Result<IdbDatabase, StoreError> {
    let req = factory
        .open_with_u32(name, version)
        .map_err(|e| StoreError::Unavailable(describe(&e)))?;

    // Runs once at most; `once_into_js` frees it after the call (a never-fired one stays tiny).
    let on_upgrade = Closure::once_into_js(move |event: IdbVersionChangeEvent| {
        let Some(req) = event
            .target()
            .and_then(|t| t.dyn_into::<IdbOpenDbRequest>().ok())
        else {
            return;
        };
        let db = req
            .result()
            .ok()
            .and_then(|d| d.dyn_into::<IdbDatabase>().ok());
        let ok = db.is_some_and(|db| upgrade(&db, event.old_version()).is_ok());
        if !ok {
            if let Some(tx) = req.transaction() {
                let _ = tx.abort();
            }
        }
    });
    req.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));

    match settle(&req).await {
        Settled::Success => {
            let db = req
                .result()
                .map_err(|e| from_dom_error(&e))?
                .dyn_into::<IdbDatabase>()
                .map_err(|_| StoreError::Unavailable("open gave no database".into()))?;
            Ok(db)
        }
        Settled::Blocked => {
            // Nobody awaits this open any more: close the connection if it arrives after all.
            let close_late = Closure::once_into_js(move |event: web_sys::Event| {
                if let Some(db) = event
                    .target()
                    .and_then(|t| t.dyn_into::<IdbRequest>().ok())
                    .and_then(|r| r.result().ok())
                    .and_then(|d| d.dyn_into::<IdbDatabase>().ok())
                {
                    db.close();
                }
            });
            req.set_onsuccess(Some(close_late.unchecked_ref()));
            Err(StoreError::Blocked)
        }
        Settled::Failed => Err(open_error(&req)),
    }
}

/// Delete the database `name`. Gives [`StoreError::Blocked`] if a connection elsewhere does not
/// close; the browser then deletes it once that connection closes.
pub(crate) async fn delete(factory: &IdbFactory, name: &str) -> Result<(), StoreError> {
    let req = factory
        .delete_database(name)
        .map_err(|e| StoreError::Unavailable(describe(&e)))?;
    match settle(&req).await {
        Settled::Success => Ok(()),
        Settled::Blocked => Err(StoreError::Blocked),
        Settled::Failed => Err(open_error(&req)),
    }
}

enum Settled {
    Success,
    Blocked,
    Failed,
}

/// Wait for the first of `success`, `error`, `blocked` on an open or delete request.
async fn settle(req: &IdbOpenDbRequest) -> Settled {
    let done = Promise::new(&mut |resolve, reject| {
        req.set_onsuccess(Some(&resolve));
        req.set_onerror(Some(&reject));
        req.set_onblocked(Some(&reject));
    });
    let outcome = JsFuture::from(done).await;
    req.set_onsuccess(None);
    req.set_onerror(None);
    req.set_onblocked(None);
    match outcome {
        Ok(_) => Settled::Success,
        Err(event) => {
            let kind = event
                .dyn_ref::<web_sys::Event>()
                .map(|e| e.type_())
                .unwrap_or_default();
            if kind == "blocked" {
                Settled::Blocked
            } else {
                Settled::Failed
            }
        }
    }
}

/// Error of a failed open/delete: quota stays quota, the rest means storage is unusable here
/// (e.g. `VersionError` when a newer app version already upgraded the database).
fn open_error(req: &IdbOpenDbRequest) -> StoreError {
    match request_error(req) {
        StoreError::Transaction(message) => StoreError::Unavailable(message),
        other => other,
    }
}
