//! Timers through the global `setTimeout`, so the link works in a window and in a worker.

use std::future::Future;

use futures::future::{select, Either};
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::LinkError;

/// Resolves after `ms` milliseconds. Dropping it early is harmless: the timer then resolves a
/// promise nobody waits for.
pub(crate) fn sleep(ms: u32) -> JsFuture {
    let promise = Promise::new(&mut |resolve, _reject| set_timeout(&resolve, ms));
    JsFuture::from(promise)
}

fn set_timeout(callback: &Function, ms: u32) {
    let global = js_sys::global();
    let Ok(set_timeout) = Reflect::get(&global, &JsValue::from_str("setTimeout")) else {
        return;
    };
    if let Some(set_timeout) = set_timeout.dyn_ref::<Function>() {
        let _ = set_timeout.call2(&global, callback, &JsValue::from(ms));
    }
}

/// `future`'s output, or [`LinkError::Timeout`] after `ms` milliseconds.
pub(crate) async fn within<T>(ms: u32, future: impl Future<Output = T>) -> Result<T, LinkError> {
    let future = std::pin::pin!(future);
    let timer = std::pin::pin!(sleep(ms));
    match select(future, timer).await {
        Either::Left((value, _)) => Ok(value),
        Either::Right(_) => Err(LinkError::Timeout),
    }
}
