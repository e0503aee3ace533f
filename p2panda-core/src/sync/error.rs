//! Why a session ends.

use crate::identity::PublicKey;
use crate::replica::IngestError;
use crate::store::LogKey;

use super::wire::WireError;

/// Everything that ends a sync session. The session is gone when one is returned; the caller
/// closes the connection after sending the session's last frame (a `Close`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    #[error("malformed frame: {0}")]
    Malformed(#[from] WireError),
    #[error("peer speaks sync protocol version {0}, this node version {v}", v = super::PROTOCOL_VERSION)]
    UnsupportedVersion(u64),
    #[error("peer's key proof does not verify")]
    BadProof,
    #[error("peer reused this side's nonce")]
    NonceReuse,
    #[error("peer uses this node's own key")]
    SelfConnection,
    #[error("peer {0} was disconnected earlier for sending invalid data")]
    Blocked(PublicKey),
    #[error("{0} message out of turn")]
    OutOfTurn(&'static str),
    #[error("peer sent {sent} bytes with {credit} bytes of credit")]
    CreditExceeded { sent: usize, credit: u64 },
    #[error("peer sent entries of {log} that were not asked for")]
    Unrequested { log: LogKey },
    #[error("peer asked for {log}, which it was not offered")]
    NotOffered { log: LogKey },
    #[error("peer sent an entry of a festival this session does not share")]
    OutsideTopics { log: LogKey },
    #[error("peer sent an invalid entry: {0}")]
    InvalidEntry(IngestError),
    #[error("peer sent nothing for {0} ms while this node waited for it")]
    Timeout(u64),
    #[error("peer closed the session: {0}")]
    Closed(CloseReason),
    #[error("no session with this peer")]
    UnknownPeer,
}

impl SyncError {
    /// A stable SCREAMING_SNAKE name of the error, for apps and logs (the browser node and the
    /// native node report the same codes).
    pub fn code(&self) -> &'static str {
        match self {
            SyncError::Malformed(_) => "SYNC_MALFORMED",
            SyncError::UnsupportedVersion(_) => "SYNC_UNSUPPORTED_VERSION",
            SyncError::BadProof => "SYNC_BAD_PROOF",
            SyncError::NonceReuse => "SYNC_NONCE_REUSE",
            SyncError::SelfConnection => "SYNC_SELF_CONNECTION",
            SyncError::Blocked(_) => "SYNC_BLOCKED",
            SyncError::OutOfTurn(_) => "SYNC_OUT_OF_TURN",
            SyncError::CreditExceeded { .. } => "SYNC_CREDIT_EXCEEDED",
            SyncError::Unrequested { .. } => "SYNC_UNREQUESTED",
            SyncError::NotOffered { .. } => "SYNC_NOT_OFFERED",
            SyncError::OutsideTopics { .. } => "SYNC_OUTSIDE_TOPICS",
            SyncError::InvalidEntry(_) => "SYNC_INVALID_ENTRY",
            SyncError::Timeout(_) => "SYNC_TIMEOUT",
            SyncError::Closed(_) => "SYNC_CLOSED",
            SyncError::UnknownPeer => "SYNC_UNKNOWN_PEER",
        }
    }

    /// What the peer is told in the `Close` frame, or `None` when there is nobody to tell.
    pub fn close_reason(&self) -> Option<CloseReason> {
        Some(match self {
            SyncError::Malformed(_)
            | SyncError::OutOfTurn(_)
            | SyncError::NonceReuse
            | SyncError::CreditExceeded { .. }
            | SyncError::Unrequested { .. }
            | SyncError::NotOffered { .. }
            | SyncError::OutsideTopics { .. } => CloseReason::ProtocolViolation,
            SyncError::UnsupportedVersion(_) => CloseReason::UnsupportedVersion,
            SyncError::BadProof | SyncError::SelfConnection => CloseReason::BadProof,
            SyncError::Blocked(_) => CloseReason::Blocked,
            SyncError::InvalidEntry(_) => CloseReason::InvalidEntry,
            SyncError::Timeout(_) => CloseReason::Timeout,
            SyncError::Closed(_) | SyncError::UnknownPeer => return None,
        })
    }

    /// Whether the peer is to blame, so its key is refused from now on. A peer that merely speaks
    /// another version, is slow, or closes is not.
    pub fn blames_peer(&self) -> bool {
        matches!(
            self.close_reason(),
            Some(CloseReason::ProtocolViolation | CloseReason::InvalidEntry)
        )
    }
}

/// The reason carried by a `Close` frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[repr(u8)]
pub enum CloseReason {
    #[error("goodbye")]
    Goodbye = 0,
    #[error("protocol violation")]
    ProtocolViolation = 1,
    #[error("invalid entry")]
    InvalidEntry = 2,
    #[error("unsupported protocol version")]
    UnsupportedVersion = 3,
    #[error("key proof refused")]
    BadProof = 4,
    #[error("blocked")]
    Blocked = 5,
    #[error("timeout")]
    Timeout = 6,
    /// A reason this version does not know (sent by a newer peer).
    #[error("unknown reason")]
    Unknown = 255,
}

impl CloseReason {
    pub fn from_code(code: u8) -> Self {
        use CloseReason::*;
        [
            Goodbye,
            ProtocolViolation,
            InvalidEntry,
            UnsupportedVersion,
            BadProof,
            Blocked,
            Timeout,
        ]
        .into_iter()
        .find(|reason| *reason as u8 == code)
        .unwrap_or(Unknown)
    }
}
