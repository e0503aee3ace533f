//! One WebRTC data-channel link between two nodes, wire-compatible with the native link in
//! `tests/src/webrtc_link.rs`.
//!
//! # Setup
//!
//! The offering side calls [`offer`], sends [`PendingLink::local_sdp`] to the remote end, and
//! passes the answer to [`PendingLink::accept_answer`]. The answering side calls [`answer`],
//! sends the returned SDP back, and awaits [`PendingAnswer::open`]. ICE is non-trickle: each
//! description is sent once, complete. The offerer creates one ordered, reliable channel
//! labelled [`LABEL`]; the answerer takes it from `ondatachannel`.
//!
//! # Wire
//!
//! Each data-channel message is one tag byte and a body: [`TAG_FRAME`] and a frame of at most
//! [`MAX_FRAME`] bytes, [`TAG_CREDIT`] and a little-endian `u32` count of further frames the
//! receiver has room for, or [`TAG_SIGNAL`] and an opaque signaling message of at most
//! [`MAX_SIGNAL`] bytes.
//!
//! # Flow control
//!
//! - Credit: each end may send [`RECV_WINDOW_FRAMES`] frames before it hears anything, and the
//!   receiver returns credit in batches of [`CREDIT_BATCH`] as its application takes frames
//!   (an `on_frame` call returns; see [`Link::pause_frames`] to hold them). A remote end that
//!   sends beyond its credit, grants more than the window, or sends anything malformed breaks
//!   the protocol and the link closes with [`LinkError::Protocol`]. Signals use no credit, but
//!   more than [`MAX_QUEUED_SIGNALS`] undelivered ones close the link the same way.
//! - Back-pressure: nothing more is handed to the channel while its `bufferedAmount` is at or
//!   above [`HIGH_WATER_MARK`]; the `bufferedamountlow` event ([`LOW_WATER_MARK`]) resumes it.
//!   Unsent messages wait in the link's queue, capped at [`MAX_QUEUED_BYTES`].
//!
//! # Binding
//!
//! [`Link::binding`] and [`binding_of`] give the bytes both ends compute identically from the
//! two DTLS fingerprints; the sync handshake signs them so a key proof cannot be relayed onto
//! another connection.

mod channel;
mod sdp;
mod setup;
mod timer;
mod wire;

use wasm_bindgen::{JsCast, JsValue};

pub use channel::Link;
/// The rule lives in the core so the native link computes the very same bytes.
pub use p2panda_core::signal::binding_of;
pub use setup::{answer, offer, PendingAnswer, PendingLink};
pub use wire::{
    CREDIT_BATCH, MAX_FRAME, MAX_SIGNAL, RECV_WINDOW_FRAMES, TAG_CREDIT, TAG_FRAME, TAG_SIGNAL,
};

/// Label of the one data channel of a link.
pub const LABEL: &str = "frames";
/// Nothing more is handed to the channel while its `bufferedAmount` is at or above this.
///
/// With 1 MiB Chromium ↔ Chromium stalled for seconds; 64 KiB moved 14–18 MiB/s steadily (see
/// `/work/shared/TOOLING.md`). The native link uses the same mark.
pub const HIGH_WATER_MARK: usize = 64 * 1024;
/// The channel's `bufferedAmountLowThreshold`: sending resumes when the buffer falls to this.
pub const LOW_WATER_MARK: usize = 16 * 1024;
/// Most frame bytes a link queues before [`LinkError::QueueFull`]. The sync protocol bounds what
/// it sends by its own window; this only stops a bug from eating memory.
pub const MAX_QUEUED_BYTES: usize = 1024 * 1024;
/// [`Link::on_writable`] fires when the queue falls below this after reaching it.
pub const QUEUE_LOW_WATER: usize = 64 * 1024;
/// Most signals waiting in either direction (sent but not yet handed to the channel, or
/// received but not yet delivered).
pub const MAX_QUEUED_SIGNALS: usize = 64;
/// Default of [`LinkConfig::open_timeout_ms`].
pub const DEFAULT_OPEN_TIMEOUT_MS: u32 = 15_000;

/// How to build a link's peer connection.
#[derive(Debug, Clone)]
pub struct LinkConfig {
    /// STUN/TURN server URLs. Empty (the default): host candidates only, loopback or LAN.
    pub ice_servers: Vec<String>,
    /// Refuse ([`LinkError::Setup`]) a local or remote description with any ICE candidate that
    /// is not a loopback address, or with none. For tests.
    pub loopback_only: bool,
    /// How long ICE gathering, and then opening the channel, may each take.
    pub open_timeout_ms: u32,
}

impl Default for LinkConfig {
    fn default() -> Self {
        Self {
            ice_servers: Vec::new(),
            loopback_only: false,
            open_timeout_ms: DEFAULT_OPEN_TIMEOUT_MS,
        }
    }
}

/// Why a link could not be set up or used, or why it closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Building, signaling or opening the connection failed.
    #[error("WebRTC setup failed: {0}")]
    Setup(String),
    /// ICE gathering or opening the channel took too long.
    #[error("WebRTC setup timed out")]
    Timeout,
    /// The link was closed, by this end or the remote end.
    #[error("link closed")]
    Closed,
    /// The connection failed or was lost (ICE, DTLS or SCTP), or the channel refused a send.
    #[error("link failed: {0}")]
    Failed(String),
    /// A frame or signal larger than [`MAX_FRAME`] / [`MAX_SIGNAL`].
    #[error("message of {0} bytes exceeds the {MAX_FRAME}-byte limit")]
    FrameTooLarge(usize),
    /// The send queue would exceed [`MAX_QUEUED_BYTES`] (or [`MAX_QUEUED_SIGNALS`] signals).
    #[error("link send queue is full")]
    QueueFull,
    /// The remote end broke the link protocol; the link is closed.
    #[error("link protocol violation: {0}")]
    Protocol(String),
}

impl crate::error::ErrorCode for LinkError {
    fn code(&self) -> &'static str {
        match self {
            LinkError::Setup(_) => "LINK_SETUP",
            LinkError::Timeout => "LINK_TIMEOUT",
            LinkError::Closed => "LINK_CLOSED",
            LinkError::Failed(_) => "LINK_FAILED",
            LinkError::FrameTooLarge(_) => "FRAME_TOO_LARGE",
            LinkError::QueueFull => "LINK_QUEUE_FULL",
            LinkError::Protocol(_) => "LINK_PROTOCOL",
        }
    }
}

/// The message of a thrown JS value, for error text.
fn js_message(value: &JsValue) -> String {
    if let Some(error) = value.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    crate::error::js_text(value)
}
