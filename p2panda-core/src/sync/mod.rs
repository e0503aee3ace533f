//! Replication: the sync protocol as a state machine. It owns no socket, clock or randomness:
//! frames, the time and fresh nonces go in, frames come out. The same code runs over WebRTC in a
//! browser, over the `webrtc` crate natively, and in deterministic simulations.
//!
//! A session between two peers, symmetric (neither side leads):
//! 1. **Hello**: each side sends the protocol version and a fresh nonce.
//! 2. **Auth**: each side signs the other's nonce (and the transport's binding) to prove its key,
//!    grants the other a receive window, and names the festivals (topics) it wants, each *blinded*
//!    by hashing it with both nonces. A side can only recognise topics it knows itself, so neither
//!    learns the other's other festivals; only topics both want are exchanged.
//! 3. **Reconcile**: each side announces its logs of the shared topics (`Have`: height and head
//!    hash); the other asks for what it lacks (`Want`), and the entries stream in order per log, in
//!    frames under 16 KiB. The node fetches each log from one peer at a time, so an entry reaches a
//!    node once; a peer that already has an entry is sent at most its announcement.
//! 4. **Live**: whatever a node gains, by writing or from any peer, it announces to every peer
//!    sharing the topic, which asks for it as above.
//!
//! Flow control is credit-based: every `Have`, `Want` and `Entries` frame is paid for out of the
//! window the receiver granted, and the receiver returns credit once it has handled the frame, so
//! neither side ever holds more than a window of the other's data. Every entry is verified and
//! checked against the schema before it is stored; anything invalid or unasked for ends the session
//! with a typed [`SyncError`] (and a `Close` frame telling the peer why), and a peer to blame is
//! refused from then on. Two entries at one place of a log are a fork: the evidence is stored, the
//! log is frozen there, and [`Event::Fork`] reports it; the peer relaying it is not to blame.

// A `SyncError` can hold a public key, which keeps its decompressed point (for fast verifying),
// so it is large; it ends a session, so it is rare and its size costs nothing that matters.
#![allow(clippy::result_large_err)]

mod error;
mod node;
mod session;
pub mod wire;

pub use error::{CloseReason, SyncError};
pub use node::{Config, Event, Node, PeerId, PeerStatus};
pub use wire::{WireError, MAX_FRAME};

/// The protocol version this node speaks, sent in `Hello`.
pub const PROTOCOL_VERSION: u64 = 1;
