//! The node's side of the Worker: turns messages from the page into node calls and node output
//! into messages to the page. `worker.js` calls [`run_worker`]; `index.js` is the other end.
//!
//! Page → worker: `{kind: "open", id, name}`, `{kind: "call", id, method, args}`,
//! `{kind: "link-open", peer, binding}`, `{kind: "frame", peer, frame}`,
//! `{kind: "link-closed", peer}`, `{kind: "close", id}`.
//! Worker → page: `{kind: "reply", id, value}` or `{kind: "reply", id, error: {code, message}}`,
//! and the node's [`Out`] messages (`send`, `hangup`, `changed`, `topics`, `peers`, `decide`,
//! `error`).

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::error::ErrorCode;
use crate::node::shapes::{object, ToJs};
use crate::node::{BrowserNode, NodeError, Out};

/// How often sessions are checked for silent peers, in ms.
const TICK_MS: i32 = 1_000;

fn field(message: &JsValue, name: &str) -> JsValue {
    Reflect::get(message, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

fn error_value(error: &NodeError) -> JsValue {
    object(&[
        ("code", error.code().into()),
        ("message", error.to_string().into()),
    ])
}

fn hex_list(ids: &[p2panda_core::hash::Hash]) -> JsValue {
    ids.iter()
        .map(|id| JsValue::from_str(&id.to_hex()))
        .collect::<Array>()
        .into()
}

/// Post a message, handing over the buffers in `transfer`.
fn post(scope: &DedicatedWorkerGlobalScope, message: &JsValue, transfer: &Array) {
    if scope.post_message_with_transfer(message, transfer).is_err() {
        web_sys::console::error_1(&"p2panda worker: a message could not be posted".into());
    }
}

fn post_out(scope: &DedicatedWorkerGlobalScope, out: Out) {
    let transfer = Array::new();
    let message = match out {
        Out::Send { peer, frames } => {
            let list = Array::new();
            for frame in frames {
                let bytes = Uint8Array::from(frame.as_slice());
                transfer.push(&bytes.buffer());
                list.push(&bytes);
            }
            object(&[
                ("kind", "send".into()),
                ("peer", (peer as f64).into()),
                ("frames", list.into()),
            ])
        }
        Out::Hangup {
            peer,
            code,
            message,
        } => object(&[
            ("kind", "hangup".into()),
            ("peer", (peer as f64).into()),
            ("code", code.into()),
            ("message", message.into()),
        ]),
        Out::Changed { festivals } => object(&[
            ("kind", "changed".into()),
            ("festivals", hex_list(&festivals)),
        ]),
        Out::Topics { topics } => {
            object(&[("kind", "topics".into()), ("topics", hex_list(&topics))])
        }
        Out::Peers => object(&[("kind", "peers".into())]),
        Out::Decide {
            id,
            policy,
            festival,
            request,
        } => object(&[
            ("kind", "decide".into()),
            ("id", id.into()),
            ("policy", policy.into()),
            ("festival", festival.to_hex().into()),
            ("request", request.to_js()),
        ]),
        Out::Error { code, message } => object(&[
            ("kind", "error".into()),
            ("code", code.into()),
            ("message", message.into()),
        ]),
    };
    post(scope, &message, &transfer);
}

/// Start serving the page from this Worker. Call once, from `worker.js`.
#[wasm_bindgen(js_name = runWorker)]
pub fn run_worker() -> Result<(), JsValue> {
    let scope: DedicatedWorkerGlobalScope = js_sys::global()
        .dyn_into()
        .map_err(|_| JsValue::from_str("runWorker must be called inside a dedicated Worker"))?;
    let node: Rc<RefCell<Option<BrowserNode>>> = Rc::new(RefCell::new(None));

    let on_message = {
        let scope = scope.clone();
        let node = node.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            handle(&scope, &node, event.data());
        })
    };
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // Lives as long as the worker.
    on_message.forget();

    let tick = {
        let node = node.clone();
        Closure::<dyn FnMut()>::new(move || {
            if let Some(node) = node.borrow().clone() {
                node.tick();
            }
        })
    };
    scope.set_interval_with_callback_and_timeout_and_arguments_0(
        tick.as_ref().unchecked_ref(),
        TICK_MS,
    )?;
    tick.forget();
    Ok(())
}

fn reply(scope: &DedicatedWorkerGlobalScope, id: &JsValue, result: Result<JsValue, NodeError>) {
    let message = match result {
        Ok(value) => object(&[
            ("kind", "reply".into()),
            ("id", id.clone()),
            ("value", value),
        ]),
        Err(error) => object(&[
            ("kind", "reply".into()),
            ("id", id.clone()),
            ("error", error_value(&error)),
        ]),
    };
    post(scope, &message, &Array::new());
}

/// The secret key given to `openNode`, if any (64 hex characters). Anything else given is an
/// error, never quietly a new identity.
fn parse_secret(value: &JsValue) -> Result<Option<p2panda_core::identity::KeyPair>, NodeError> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value
        .as_string()
        .and_then(|hex| p2panda_core::identity::KeyPair::from_secret_hex(&hex).ok())
        .map(Some)
        .ok_or_else(|| {
            NodeError::InvalidArgument("secretKey: a secret key is 64 hex characters".into())
        })
}

fn peer_of(message: &JsValue) -> Option<u64> {
    field(message, "peer")
        .as_f64()
        .filter(|p| *p >= 0.0 && p.fract() == 0.0)
        .map(|p| p as u64)
}

fn bytes_of(message: &JsValue, name: &str) -> Option<Vec<u8>> {
    field(message, name)
        .dyn_into::<Uint8Array>()
        .ok()
        .map(|bytes| bytes.to_vec())
}

fn handle(
    scope: &DedicatedWorkerGlobalScope,
    node: &Rc<RefCell<Option<BrowserNode>>>,
    message: JsValue,
) {
    let kind = field(&message, "kind").as_string().unwrap_or_default();
    let id = field(&message, "id");
    let current = node.borrow().clone();
    match (kind.as_str(), current) {
        ("open", None) => {
            let name = field(&message, "name")
                .as_string()
                .unwrap_or_else(|| "default".into());
            let secret = match parse_secret(&field(&message, "secretKey")) {
                Ok(secret) => secret,
                Err(error) => return reply(scope, &id, Err(error)),
            };
            let scope = scope.clone();
            let node = node.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let out_scope = scope.clone();
                let outbox: crate::node::Outbox = Rc::new(move |out| post_out(&out_scope, out));
                let result = BrowserNode::open(&name, secret, outbox)
                    .await
                    .map(|opened| {
                        let public_key = opened.public_key();
                        *node.borrow_mut() = Some(opened);
                        object(&[("publicKey", public_key.into())])
                    });
                reply(&scope, &id, result);
            });
        }
        ("open", Some(_)) => reply(
            scope,
            &id,
            Err(NodeError::InvalidArgument(
                "this worker's node is already open".into(),
            )),
        ),
        ("call", Some(node)) => {
            let method = field(&message, "method").as_string().unwrap_or_default();
            let args: Vec<JsValue> = field(&message, "args")
                .dyn_into::<Array>()
                .map(|a| a.iter().collect())
                .unwrap_or_default();
            let scope = scope.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let result = node.call(&method, args).await;
                reply(&scope, &id, result);
            });
        }
        ("link-open", Some(node)) => {
            if let (Some(peer), Some(binding)) = (peer_of(&message), bytes_of(&message, "binding"))
            {
                node.link_opened(peer, &binding);
            }
        }
        ("frame", Some(node)) => {
            if let (Some(peer), Some(frame)) = (peer_of(&message), bytes_of(&message, "frame")) {
                node.frame(peer, &frame);
            }
        }
        ("link-closed", Some(node)) => {
            if let Some(peer) = peer_of(&message) {
                node.link_closed(peer);
            }
        }
        ("close", Some(open)) => {
            open.close();
            *node.borrow_mut() = None;
            // Answer once the store's lock is released: a node opened right after must not
            // find it still held (STORE_IN_USE).
            let scope = scope.clone();
            wasm_bindgen_futures::spawn_local(async move {
                open.close_and_unlock().await;
                reply(&scope, &id, Ok(JsValue::UNDEFINED));
            });
        }
        ("close", None) => reply(scope, &id, Ok(JsValue::UNDEFINED)),
        (_, None) if !id.is_undefined() => reply(scope, &id, Err(NodeError::Closed)),
        _ => {}
    }
}
