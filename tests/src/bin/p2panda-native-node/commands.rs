//! Commands on stdin, one JSON object a line, each answered with one `{"reply": ...}` line.
//! A command's `marker` and `id` fields, if any, are echoed in its reply, so a caller can match
//! replies to requests.

use std::time::Duration;

use p2panda_core::festival::Topic;
use p2panda_core::operation::{Operation, PolicyKind, ResourceCreate, ResourceKind};
use p2panda_tests::native_peer::NativePeer;
use serde_json::{json, Value};

use crate::output;
use crate::overlay::Overlay;

/// How long `quit` waits for the goodbyes to go out.
const QUIT_GRACE: Duration = Duration::from_secs(2);

/// Whether to go on after a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// Quit, then answer this command with [`quitted`].
    Quit(Value),
}

/// Fields echoed from a command into its reply.
const ECHOED: [&str; 2] = ["marker", "id"];

/// Writes the reply to `command`, with its echoed fields.
fn reply(command: &Value, mut reply: Value) {
    if let Some(fields) = reply.as_object_mut() {
        for name in ECHOED {
            if let Some(value) = command.get(name) {
                fields.insert(name.into(), value.clone());
            }
        }
    }
    output::emit(reply);
}

fn error_reply(command: &Value, name: &str, code: &str, error: impl ToString) {
    reply(
        command,
        json!({
            "reply": name,
            "ok": false,
            "code": code,
            "error": error.to_string(),
        }),
    );
}

/// Runs one command line.
pub fn handle(line: &str, peer: &NativePeer, festival: Topic, overlay: &Overlay) -> Flow {
    let line = line.trim();
    if line.is_empty() {
        return Flow::Continue;
    }
    let command: Value = match serde_json::from_str(line) {
        Ok(command) => command,
        Err(e) => {
            error_reply(
                &Value::Null,
                "error",
                "BAD_COMMAND",
                format!("not JSON: {e}"),
            );
            return Flow::Continue;
        }
    };
    match command.get("cmd").and_then(Value::as_str) {
        Some("publish-resource") => publish_resource(&command, peer, festival),
        Some("status") => status(&command, peer, festival, overlay),
        Some("quit") => return Flow::Quit(command.clone()),
        Some(other) => error_reply(
            &command,
            other,
            "UNKNOWN_COMMAND",
            "try publish-resource, status or quit",
        ),
        None => error_reply(&command, "error", "BAD_COMMAND", "no \"cmd\" string"),
    }
    Flow::Continue
}

fn publish_resource(command: &Value, peer: &NativePeer, festival: Topic) {
    let Some(name) = command.get("name").and_then(Value::as_str) else {
        return error_reply(
            command,
            "publish-resource",
            "BAD_COMMAND",
            "no \"name\" string",
        );
    };
    let operation = Operation::ResourceCreate(ResourceCreate {
        festival,
        name: name.to_owned(),
        description: String::new(),
        kind: ResourceKind::Item,
        policy: PolicyKind::Fcfs,
    });
    match peer.try_publish(&operation) {
        Ok(id) => reply(
            command,
            json!({
                "reply": "publish-resource",
                "ok": true,
                "resource": id.to_hex(),
                "entries": peer.with_node(|n| n.replica().store().len()),
            }),
        ),
        Err(e) => error_reply(command, "publish-resource", "INVALID_OPERATION", e),
    }
}

fn status(command: &Value, peer: &NativePeer, festival: Topic, overlay: &Overlay) {
    let status = peer.with_node(|node| {
        let state = node.replica().state();
        let view = state.festival(festival);
        let resources: Vec<String> = view
            .as_ref()
            .map(|f| {
                f.resources()
                    .into_iter()
                    .filter(|r| !r.deleted)
                    .map(|r| r.name)
                    .collect()
            })
            .unwrap_or_default();
        let peers: Vec<Value> = node
            .peers()
            .into_iter()
            .map(|p| {
                json!({
                    "peer": p.peer,
                    "publicKey": p.key.map(|k| k.to_hex()),
                    "caughtUp": p.caught_up,
                    "missing": p.missing,
                })
            })
            .collect();
        json!({
            "reply": "status",
            "ok": true,
            "publicKey": node.key_pair().public_key().to_hex(),
            "festival": festival.to_hex(),
            "festivalKnown": view.is_some(),
            "entries": node.replica().store().len(),
            "resources": resources,
            "peers": peers,
            "links": overlay.link_count(),
        })
    });
    reply(command, status);
}

/// The reply to `quit`, once the node has said goodbye and left the rendezvous.
pub fn quitted(command: &Value) {
    reply(command, json!({ "reply": "quit", "ok": true }));
}

/// Says goodbye on every link and waits (boundedly) for the links to close. The caller replies.
pub async fn quit(peer: &NativePeer) {
    for id in peer.linked() {
        peer.close(id);
    }
    let deadline = tokio::time::Instant::now() + QUIT_GRACE;
    while !peer.linked().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
