//! Signaling: how peers that share a festival find each other and exchange the offers and answers
//! that open a WebRTC connection.
//!
//! Peers meet in **rooms**. A room is a hash of a festival id ([`room_of`]), so whoever relays
//! signaling (a rendezvous server, or any peer relaying over the overlay) never learns which
//! festival a room belongs to. Each running node picks a random [`SessionId`] instead of showing
//! its public key; keys are proven later, inside the encrypted channel.
//!
//! [`SignalMessage`] is the wire format (CBOR, strictly decoded) and [`Rendezvous`] the room logic:
//! sans-IO and generic over a connection handle, so the same code runs in the native rendezvous
//! server and in every browser node that relays signaling to its neighbours.
//!
//! ```
//! use p2panda_core::hash::Hash;
//! use p2panda_core::signal::{room_of, Rendezvous, SessionId, SignalMessage};
//!
//! let room = room_of(&Hash::digest(b"a festival"));
//! let (alice, bob) = (SessionId::random(), SessionId::random());
//! let mut rendezvous = Rendezvous::<u32>::new();
//! let join = |peer| SignalMessage::Join { room, peer }.encode();
//! rendezvous.handle(1, &join(alice)?);
//! let reply = rendezvous.handle(2, &join(bob)?);
//! // Bob learns that Alice is in the room…
//! let peers = SignalMessage::decode(&reply.out[0].1)?;
//! assert_eq!(peers, SignalMessage::Peers { room, peers: vec![alice] });
//! // …and sends her an offer, which the rendezvous forwards to her connection unchanged.
//! let offer = SignalMessage::Signal { room, to: alice, from: bob, data: b"sdp".to_vec() };
//! let sent = rendezvous.handle(2, &offer.encode()?);
//! assert_eq!(sent.out, vec![(1, offer.encode()?)]);
//! # Ok::<(), p2panda_core::signal::SignalError>(())
//! ```

mod binding;
mod codec;
mod rendezvous;

use std::fmt;

use rand_core::{OsRng, RngCore};

use crate::blake2b::Params;
use crate::festival::Topic;

pub use binding::binding_of;
pub use codec::SignalError;
pub use rendezvous::{Handled, Rendezvous};

/// Length of a [`Room`] in bytes.
pub const ROOM_LEN: usize = 32;
/// Length of a [`SessionId`] in bytes.
pub const SESSION_ID_LEN: usize = 16;
/// The largest encoded signaling message: fits one data-channel message in every browser, so the
/// same messages can be relayed over the overlay.
pub const MAX_SIGNAL_SIZE: usize = 16 * 1024;
/// The largest `data` of a [`SignalMessage::Signal`]: what remains of [`MAX_SIGNAL_SIZE`] after the
/// fixed fields (73 bytes of CBOR framing, room and session ids).
pub const MAX_SIGNAL_DATA: usize = MAX_SIGNAL_SIZE - 73;
/// At most this many peers are listed in a [`SignalMessage::Peers`] reply.
pub const MAX_PEERS_LISTED: usize = 32;
/// A connection is a member of at most this many rooms at once.
pub const MAX_ROOMS_PER_CONNECTION: usize = 32;
/// A room holds at most this many peers.
pub const MAX_PEERS_PER_ROOM: usize = 1024;

/// Domain separation for [`room_of`]: a room hash is never mistaken for any other hash.
const ROOM_DOMAIN: &[u8] = b"p2panda-room-v1";

/// An opaque meeting place: BLAKE2b-256 of a domain string and a festival id (see [`room_of`]).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Room([u8; ROOM_LEN]);

/// The room of a festival (topic): BLAKE2b-256 of `"p2panda-room-v1"` followed by the festival
/// id's bytes. Peers who know the festival id meet there; the relay learns only the hash.
pub fn room_of(topic: &Topic) -> Room {
    let hash = Params::new()
        .hash_length(ROOM_LEN)
        .to_state()
        .update(ROOM_DOMAIN)
        .update(topic.as_bytes())
        .finalize();
    let mut room = [0; ROOM_LEN];
    room.copy_from_slice(hash.as_bytes());
    Room(room)
}

impl Room {
    pub const fn from_bytes(bytes: [u8; ROOM_LEN]) -> Self {
        Room(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; ROOM_LEN] {
        &self.0
    }
}

/// A running node's random, per-run name in signaling. Not its public key: relays learn no
/// identities.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId([u8; SESSION_ID_LEN]);

impl SessionId {
    /// A fresh random session id (from the operating system's, or the browser's, generator).
    pub fn random() -> Self {
        let mut bytes = [0; SESSION_ID_LEN];
        OsRng.fill_bytes(&mut bytes);
        SessionId(bytes)
    }

    pub const fn from_bytes(bytes: [u8; SESSION_ID_LEN]) -> Self {
        SessionId(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; SESSION_ID_LEN] {
        &self.0
    }
}

impl TryFrom<&[u8]> for Room {
    type Error = SignalError;

    fn try_from(bytes: &[u8]) -> Result<Self, SignalError> {
        fixed("room", bytes).map(Room)
    }
}

impl TryFrom<&[u8]> for SessionId {
    type Error = SignalError;

    fn try_from(bytes: &[u8]) -> Result<Self, SignalError> {
        fixed("session id", bytes).map(SessionId)
    }
}

fn fixed<const N: usize>(field: &'static str, bytes: &[u8]) -> Result<[u8; N], SignalError> {
    bytes.try_into().map_err(|_| SignalError::Length {
        field,
        expected: N,
        got: bytes.len(),
    })
}

impl fmt::Debug for Room {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Room({})", hex::encode(&self.0[..6]))
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Session({})", hex::encode(&self.0[..6]))
    }
}

impl fmt::Display for Room {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// One signaling message. Clients send `Join`, `Leave` and `Signal`; a rendezvous answers with
/// `Peers` and `Error` and forwards `Signal`s unchanged.
///
/// Wire format (CBOR, canonical: shortest integers, definite lengths, nothing after the message):
/// a flat array whose first element is the kind.
///
/// | message  | CBOR                                                    |
/// |----------|---------------------------------------------------------|
/// | `Join`   | `[0, room: bstr .size 32, peer: bstr .size 16]`         |
/// | `Leave`  | `[1, room]`                                             |
/// | `Signal` | `[2, room, to: bstr .size 16, from: bstr .size 16, data: bstr]` |
/// | `Peers`  | `[3, room, [* bstr .size 16]]` (at most [`MAX_PEERS_LISTED`]) |
/// | `Error`  | `[4, code: uint]` (see [`ErrorCode`])                   |
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignalMessage {
    /// Client → rendezvous: "I am `peer`, put me in `room`". Answered with `Peers`.
    Join { room: Room, peer: SessionId },
    /// Rendezvous → client: up to [`MAX_PEERS_LISTED`] other members of `room`, most recently
    /// joined first; never the joiner itself.
    Peers { room: Room, peers: Vec<SessionId> },
    /// Client → rendezvous: take me out of `room`; signals to me there fail from now on.
    Leave { room: Room },
    /// Opaque `data` (an SDP offer or answer) from `from` to `to`, both members of `room`. The
    /// sender's `from` must be the session its connection joined the room with.
    Signal {
        room: Room,
        to: SessionId,
        from: SessionId,
        data: Vec<u8>,
    },
    /// Rendezvous → client: the last message was refused.
    Error { code: ErrorCode },
}

impl SignalMessage {
    /// A short name of the message kind, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            SignalMessage::Join { .. } => "join",
            SignalMessage::Peers { .. } => "peers",
            SignalMessage::Leave { .. } => "leave",
            SignalMessage::Signal { .. } => "signal",
            SignalMessage::Error { .. } => "error",
        }
    }
}

/// Why a rendezvous refused a message. On the wire, the number in parentheses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, thiserror::Error)]
pub enum ErrorCode {
    /// (0) Not a valid client message: bad CBOR, wrong shape or lengths, or a kind only a
    /// rendezvous sends.
    #[error("malformed signaling message")]
    Malformed,
    /// (1) Over [`MAX_SIGNAL_SIZE`].
    #[error("signaling message too large")]
    TooLarge,
    /// (2) The sender's connection is not in that room under that session (`Leave`, or the `from`
    /// of a `Signal`).
    #[error("not in that room")]
    NotInRoom,
    /// (3) The `to` of a `Signal` is not in that room (it left, or never joined).
    #[error("no such peer in that room")]
    UnknownPeer,
    /// (4) The connection is already in [`MAX_ROOMS_PER_CONNECTION`] rooms.
    #[error("too many rooms on one connection")]
    TooManyRooms,
    /// (5) That session id is already in the room from another connection, or this connection is
    /// already in the room under another session id.
    #[error("session already in the room")]
    DuplicatePeer,
    /// (6) The room already holds [`MAX_PEERS_PER_ROOM`] peers.
    #[error("room is full")]
    RoomFull,
}

impl ErrorCode {
    /// Every code, in wire order.
    pub const ALL: [ErrorCode; 7] = [
        ErrorCode::Malformed,
        ErrorCode::TooLarge,
        ErrorCode::NotInRoom,
        ErrorCode::UnknownPeer,
        ErrorCode::TooManyRooms,
        ErrorCode::DuplicatePeer,
        ErrorCode::RoomFull,
    ];

    /// The number that stands for this code on the wire.
    pub fn to_wire(self) -> u64 {
        match self {
            ErrorCode::Malformed => 0,
            ErrorCode::TooLarge => 1,
            ErrorCode::NotInRoom => 2,
            ErrorCode::UnknownPeer => 3,
            ErrorCode::TooManyRooms => 4,
            ErrorCode::DuplicatePeer => 5,
            ErrorCode::RoomFull => 6,
        }
    }

    /// The code a wire number stands for, if any.
    pub fn from_wire(number: u64) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.to_wire() == number)
    }

    /// A stable SCREAMING_SNAKE name, for JS errors and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Malformed => "MALFORMED",
            ErrorCode::TooLarge => "TOO_LARGE",
            ErrorCode::NotInRoom => "NOT_IN_ROOM",
            ErrorCode::UnknownPeer => "UNKNOWN_PEER",
            ErrorCode::TooManyRooms => "TOO_MANY_ROOMS",
            ErrorCode::DuplicatePeer => "DUPLICATE_PEER",
            ErrorCode::RoomFull => "ROOM_FULL",
        }
    }

    /// Whether the sender broke the protocol (rather than losing a race, e.g. with a peer that
    /// left). A server may close connections that keep doing this.
    pub fn is_abuse(self) -> bool {
        matches!(self, ErrorCode::Malformed | ErrorCode::TooLarge)
    }
}
