//! An exclusive Web Lock held for as long as a store is open.
//!
//! Two tabs of one origin writing the same author's log would fork it, so only the holder of the
//! lock `p2panda:<name>` may open the store. The lock is held by a pending promise returned from
//! the lock callback; releasing resolves that promise. If the worker dies, the browser releases
//! the lock by itself.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use futures::channel::oneshot;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::error::{describe, StoreError};

#[wasm_bindgen]
extern "C" {
    /// `navigator.locks`, bound by hand so the callback can be an untyped JS function.
    type LockManager;

    #[wasm_bindgen(method, catch)]
    fn request(
        this: &LockManager,
        name: &str,
        options: &JsValue,
        callback: &JsValue,
    ) -> Result<Promise, JsValue>;

    /// The promise `navigator.locks.request` returns.
    type LockRequest;

    /// `promise.catch(fn)` with a plain JS function (js-sys wants a `Closure`).
    #[wasm_bindgen(method, js_name = catch)]
    fn catch_with(this: &LockRequest, on_rejected: &JsValue) -> Promise;
}

/// Whether to fail at once when the lock is taken, or queue for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    IfAvailable,
    Queue,
}

thread_local! {
    /// Locks this context let go of, with the promise of their request, which settles only
    /// after the browser released the lock. Releasing is asynchronous: an `ifAvailable` request
    /// made right after `close()` would otherwise still find our own lock held.
    static RELEASING: RefCell<HashMap<String, Promise>> = RefCell::new(HashMap::new());
}

/// The held lock; dropping it releases the lock.
pub(crate) struct LockGuard {
    name: String,
    release: Function,
    /// Settles once the lock is released.
    request: Promise,
}

impl LockGuard {
    /// Release the lock (idempotent: resolving a settled promise does nothing).
    pub(crate) fn release(&self) {
        let _ = self.release.call0(&JsValue::UNDEFINED);
        RELEASING.with(|r| {
            r.borrow_mut()
                .insert(self.name.clone(), self.request.clone())
        });
    }
}

impl LockGuard {
    /// Resolves once the browser released the lock (after [`LockGuard::release`]).
    pub(crate) async fn released(&self) {
        // Rejection is fine too: either way the lock is no longer ours.
        let _ = JsFuture::from(self.request.clone()).await;
    }
}

/// Wait until a release of `name` by this context has gone through.
async fn released_here(name: &str) {
    let pending = RELEASING.with(|r| r.borrow_mut().remove(name));
    if let Some(request) = pending {
        // Rejection is fine too: either way the lock is no longer ours.
        let _ = JsFuture::from(request).await;
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        self.release();
    }
}

/// What the lock request reported first.
type Outcome = Result<bool, JsValue>;

/// Take the exclusive lock `name`. With [`Wait::IfAvailable`] a lock held elsewhere gives
/// [`StoreError::InUse`]; with [`Wait::Queue`] this waits until it is free. Dropping the returned
/// future before it resolves gives the lock back as soon as it is granted.
pub(crate) async fn acquire(name: &str, wait: Wait) -> Result<LockGuard, StoreError> {
    let locks = lock_manager()?;
    released_here(name).await;

    // The lock lasts until this promise resolves; its resolver is the guard's release function.
    let mut resolver: Option<Function> = None;
    let held = Promise::new(&mut |resolve, _reject| resolver = Some(resolve));
    let release =
        resolver.ok_or_else(|| StoreError::Unavailable("Promise executor did not run".into()))?;

    let (sender, receiver) = oneshot::channel::<Outcome>();
    let sender = Rc::new(RefCell::new(Some(sender)));

    let granted_sender = sender.clone();
    let callback = Closure::once_into_js(move |lock: JsValue| -> Promise {
        let granted = !lock.is_null() && !lock.is_undefined();
        let delivered = granted_sender
            .borrow_mut()
            .take()
            .map(|s| s.send(Ok(granted)).is_ok())
            .unwrap_or(false);
        if granted && delivered {
            held
        } else {
            // Not granted, or nobody waits any more: let the lock go right away.
            Promise::resolve(&JsValue::UNDEFINED)
        }
    });

    let options = js_sys::Object::new();
    let _ = Reflect::set(&options, &"mode".into(), &"exclusive".into());
    if wait == Wait::IfAvailable {
        let _ = Reflect::set(&options, &"ifAvailable".into(), &JsValue::TRUE);
    }
    let request = locks
        .request(name, &options, &callback)
        .map_err(|e| StoreError::Unavailable(format!("Web Locks: {}", describe(&e))))?;
    // A request that fails before the callback runs (e.g. SecurityError) rejects this promise.
    let on_reject = Closure::once_into_js(move |error: JsValue| {
        if let Some(s) = sender.borrow_mut().take() {
            let _ = s.send(Err(error));
        }
    });
    // `catch` also gives a promise that never rejects, for `released_here`.
    let request = request
        .unchecked_ref::<LockRequest>()
        .catch_with(&on_reject);

    match receiver.await {
        Ok(Ok(true)) => Ok(LockGuard {
            name: name.to_owned(),
            release,
            request,
        }),
        Ok(Ok(false)) => Err(StoreError::InUse),
        Ok(Err(error)) => Err(StoreError::Unavailable(format!(
            "Web Locks: {}",
            describe(&error)
        ))),
        Err(_) => Err(StoreError::Unavailable(
            "Web Locks request was dropped".into(),
        )),
    }
}

/// `navigator.locks` of the current global (window or worker).
fn lock_manager() -> Result<LockManager, StoreError> {
    let navigator =
        Reflect::get(&js_sys::global(), &"navigator".into()).unwrap_or(JsValue::UNDEFINED);
    let locks = if navigator.is_object() {
        Reflect::get(&navigator, &"locks".into()).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    };
    if locks.is_object() {
        Ok(locks.unchecked_into())
    } else {
        Err(StoreError::Unavailable(
            "navigator.locks is missing (Web Locks need a secure context)".into(),
        ))
    }
}
