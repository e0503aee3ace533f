//! Commands on stdin, one JSON object a line, each answered with one `{"reply": ...}` line.
//! A command's `marker` and `id` fields, if any, are echoed in its reply, so a caller can match
//! replies to requests. Commands that write (publish, join, leave) are answered only once what
//! they wrote is durable.

use std::str::FromStr;
use std::time::Duration;

use p2panda_core::festival::Topic;
use p2panda_core::hash::Hash;
use p2panda_core::operation::{Operation, PolicyKind, ResourceCreate, ResourceKind};
use p2panda_core::signal::room_of;
use p2panda_node::native_peer::{NativePeer, PublishError};
use p2panda_node::storage::Ticket;
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

/// A reply held back until the journal is durable up to `ticket`.
pub struct Ack {
    pub ticket: Ticket,
    pub command: Value,
    pub reply: Value,
}

/// What commands work on.
pub struct Context<'a> {
    pub peer: &'a NativePeer,
    pub overlay: &'a mut Overlay,
    /// The festival commands default to (the one created or first joined).
    pub primary: Option<Topic>,
    /// Replies waiting for durability, in ticket order.
    pub acks: &'a mut Vec<Ack>,
}

/// Fields echoed from a command into its reply.
const ECHOED: [&str; 2] = ["marker", "id"];

/// Writes the reply to `command`, with its echoed fields.
pub fn reply(command: &Value, mut reply: Value) {
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
pub fn handle(line: &str, cx: &mut Context<'_>) -> Flow {
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
    let Some(name) = command.get("cmd").and_then(Value::as_str) else {
        error_reply(&command, "error", "BAD_COMMAND", "no \"cmd\" string");
        return Flow::Continue;
    };
    let done = match name {
        "publish-resource" => publish_resource(&command, cx),
        "status" => status(&command, cx),
        "join" => join(&command, cx),
        "leave" => leave(&command, cx),
        "digest" => {
            digest(&command, cx.peer);
            Ok(())
        }
        "has" => has(&command, cx.peer),
        "quit" => return Flow::Quit(command.clone()),
        other => Err((
            "UNKNOWN_COMMAND",
            format!("{other}: try publish-resource, status, join, leave, digest, has or quit"),
        )),
    };
    if let Err((code, error)) = done {
        error_reply(&command, name, code, error);
    }
    Flow::Continue
}

/// A command's failure: its code and message.
type Refusal = (&'static str, String);

/// The festival a command names in `festival`, or the default one.
fn festival_of(command: &Value, primary: Option<Topic>) -> Result<Topic, Refusal> {
    match command.get("festival") {
        Some(Value::String(hex)) => {
            Hash::from_str(hex).map_err(|e| ("BAD_COMMAND", format!("festival: {e}")))
        }
        Some(_) => Err(("BAD_COMMAND", "festival: not a hex string".into())),
        None => primary.ok_or(("BAD_COMMAND", "no festival given, and none joined".into())),
    }
}

fn publish_resource(command: &Value, cx: &mut Context<'_>) -> Result<(), Refusal> {
    let Some(name) = command.get("name").and_then(Value::as_str) else {
        return Err(("BAD_COMMAND", "no \"name\" string".into()));
    };
    let festival = festival_of(command, cx.primary)?;
    let operation = Operation::ResourceCreate(ResourceCreate {
        festival,
        name: name.to_owned(),
        description: String::new(),
        kind: ResourceKind::Item,
        policy: PolicyKind::Fcfs,
    });
    match cx.peer.publish_recorded(&operation) {
        Ok((id, ticket)) => {
            let reply = json!({
                "reply": "publish-resource",
                "ok": true,
                "resource": id.to_hex(),
                "entries": cx.peer.with_node(|n| n.replica().store().len()),
            });
            cx.acks.push(Ack {
                ticket,
                command: command.clone(),
                reply,
            });
            Ok(())
        }
        Err(PublishError::Invalid(e)) => Err(("INVALID_OPERATION", e.to_string())),
        Err(PublishError::Journal(e)) => Err(("STORAGE_FAILED", e.to_string())),
    }
}

fn join(command: &Value, cx: &mut Context<'_>) -> Result<(), Refusal> {
    if command.get("festival").is_none() {
        return Err(("BAD_COMMAND", "no \"festival\" to join".into()));
    }
    let festival = festival_of(command, None)?;
    let ticket = cx
        .peer
        .join_recorded(festival)
        .map_err(|e| ("STORAGE_FAILED", e.to_string()))?;
    cx.overlay.join_room(room_of(&festival));
    cx.acks.push(Ack {
        ticket: ticket.unwrap_or(0),
        command: command.clone(),
        reply: json!({
            "reply": "join",
            "ok": true,
            "festival": festival.to_hex(),
            "new": ticket.is_some(),
        }),
    });
    Ok(())
}

fn leave(command: &Value, cx: &mut Context<'_>) -> Result<(), Refusal> {
    if command.get("festival").is_none() {
        return Err(("BAD_COMMAND", "no \"festival\" to leave".into()));
    }
    let festival = festival_of(command, None)?;
    let ticket = cx
        .peer
        .leave(festival)
        .map_err(|e| ("STORAGE_FAILED", e.to_string()))?;
    cx.overlay.leave_room(room_of(&festival));
    cx.acks.push(Ack {
        ticket: ticket.unwrap_or(0),
        command: command.clone(),
        reply: json!({ "reply": "leave", "ok": true, "festival": festival.to_hex() }),
    });
    Ok(())
}

fn status(command: &Value, cx: &mut Context<'_>) -> Result<(), Refusal> {
    let festival = match command.get("festival") {
        Some(_) => Some(festival_of(command, None)?),
        None => cx.primary,
    };
    let links = cx.overlay.link_count();
    let status = cx.peer.with_node(|node| {
        let state = node.replica().state();
        let view = festival.and_then(|f| state.festival(f));
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
        let festivals: Vec<String> = node.topics().iter().map(Hash::to_hex).collect();
        json!({
            "reply": "status",
            "ok": true,
            "publicKey": node.key_pair().public_key().to_hex(),
            "festival": festival.map(|f| f.to_hex()),
            "festivalKnown": view.is_some(),
            "festivals": festivals,
            "entries": node.replica().store().len(),
            "resources": resources,
            "peers": peers,
            "links": links,
        })
    });
    reply(command, status);
    Ok(())
}

/// What the replica holds, in a form to compare with another replica: the entry count, each
/// log's height and a hash of the state's canonical snapshot.
fn digest(command: &Value, peer: &NativePeer) {
    let digest = peer.with_node(|node| {
        let store = node.replica().store();
        let mut logs: Vec<String> = store
            .heights()
            .map(|(log, height)| format!("{}:{}:{height}", log.author.to_hex(), log.log_id))
            .collect();
        logs.sort_unstable();
        let snapshot = format!("{:?}", node.replica().state().snapshot());
        json!({
            "reply": "digest",
            "ok": true,
            "entries": store.len(),
            "forks": store.forks().len(),
            "logs": logs,
            "state": Hash::digest(snapshot.as_bytes()).to_hex(),
        })
    });
    reply(command, digest);
}

/// Which of the entries `ids` (hex hashes) the replica lacks.
fn has(command: &Value, peer: &NativePeer) -> Result<(), Refusal> {
    let Some(ids) = command.get("ids").and_then(Value::as_array) else {
        return Err(("BAD_COMMAND", "no \"ids\" list".into()));
    };
    let ids = ids
        .iter()
        .map(|id| {
            id.as_str()
                .ok_or_else(|| "not a string".to_owned())
                .and_then(|hex| Hash::from_str(hex).map_err(|e| e.to_string()))
        })
        .collect::<Result<Vec<Hash>, String>>()
        .map_err(|e| ("BAD_COMMAND", format!("ids: {e}")))?;
    let missing: Vec<String> = peer.with_node(|node| {
        let store = node.replica().store();
        ids.iter()
            .filter(|id| store.get_by_hash(id).is_none())
            .map(Hash::to_hex)
            .collect()
    });
    reply(
        command,
        json!({ "reply": "has", "ok": true, "asked": ids.len(), "missing": missing }),
    );
    Ok(())
}

/// Sends the replies whose records are durable (all of them once `durable` is past their
/// tickets), in order.
pub fn flush_acks(acks: &mut Vec<Ack>, durable: Ticket) {
    let ready = acks.iter().take_while(|a| a.ticket <= durable).count();
    for ack in acks.drain(..ready) {
        reply(&ack.command, ack.reply);
    }
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
