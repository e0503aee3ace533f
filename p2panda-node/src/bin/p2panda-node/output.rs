//! JSON lines on stdout: `{"event": ...}` as things happen, `{"reply": ...}` for each command.

use std::io::Write;

use p2panda_core::sync::{CloseReason, SyncError};
use serde_json::{json, Value};

/// Writes one JSON object as a line and flushes, so a reader sees it at once. A closed stdout
/// is ignored: the node keeps serving its peers.
pub fn emit(value: Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{value}");
    let _ = out.flush();
}

/// An event line: `{"event": kind, ...fields}`.
pub fn event(kind: &str, fields: Value) {
    let mut line = serde_json::Map::new();
    line.insert("event".into(), kind.into());
    if let Value::Object(fields) = fields {
        line.extend(fields);
    }
    emit(Value::Object(line));
}

/// The `dropped` event for a link that closed, with why its session ended.
pub fn dropped(peer: u64, error: Option<&SyncError>) {
    let (code, by) = match error {
        None => ("LINK_CLOSED", "link"),
        Some(SyncError::Closed(_)) => ("SYNC_CLOSED", "peer"),
        Some(error) => (SyncError::code(error), "self"),
    };
    let mut fields = json!({ "peer": peer, "code": code, "by": by });
    if let Some(SyncError::Closed(reason)) = error {
        fields["closeReason"] = close_reason(*reason).into();
    }
    if let Some(error) = error {
        fields["reason"] = error.to_string().into();
    }
    event("dropped", fields);
}

/// The reason in a `Close` frame from the remote end.
fn close_reason(reason: CloseReason) -> &'static str {
    match reason {
        CloseReason::Goodbye => "GOODBYE",
        CloseReason::ProtocolViolation => "PROTOCOL_VIOLATION",
        CloseReason::InvalidEntry => "INVALID_ENTRY",
        CloseReason::UnsupportedVersion => "UNSUPPORTED_VERSION",
        CloseReason::BadProof => "BAD_PROOF",
        CloseReason::Blocked => "BLOCKED",
        CloseReason::Timeout => "TIMEOUT",
        CloseReason::Unknown => "UNKNOWN",
    }
}
