//! [`SignalMessage`]'s CBOR encoding. Decoding is strict: one canonical message that spans the
//! input exactly, with fixed-length ids and bounded lists, so every accepted message has one
//! encoding and a relay can forward the bytes it checked.
//!
//! Written by hand, so the WebAssembly module links no serde deserializer. It refuses exactly
//! what reading into a `ciborium::Value` (recursion limit [`MAX_DEPTH`]) and then checking the
//! fields refused, with the same errors: a parse error first, then trailing bytes, then the
//! fields, then the canonical form (`codec/against_ciborium.rs` compares the two).

#[cfg(test)]
mod against_ciborium;
mod reader;

use reader::{Fault, Item, Reader};

use crate::cbor::Writer;

use super::{
    fixed, ErrorCode, Room, SessionId, SignalMessage, MAX_PEERS_LISTED, MAX_SIGNAL_DATA,
    MAX_SIGNAL_SIZE,
};

const JOIN: u64 = 0;
const LEAVE: u64 = 1;
const SIGNAL: u64 = 2;
const PEERS: u64 = 3;
const ERROR: u64 = 4;

/// The deepest nesting a message has: `Peers` holds an array in an array. Anything deeper is
/// refused before it can use stack.
const MAX_DEPTH: usize = 2;

/// Why a signaling message could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignalError {
    #[error("message of {0} bytes is over the {MAX_SIGNAL_SIZE}-byte limit")]
    TooLarge(usize),
    #[error("message ends early")]
    Truncated,
    #[error("not valid CBOR")]
    NotCbor,
    #[error("{0} bytes after the end of the message")]
    TrailingBytes(usize),
    #[error("not the canonical encoding of the message")]
    NonCanonical,
    #[error("unknown message kind {0}")]
    UnknownKind(u64),
    #[error("unknown error code {0}")]
    UnknownErrorCode(u64),
    #[error("not a signaling message: {0}")]
    Shape(&'static str),
    #[error("{field} is {expected} bytes, got {got}")]
    Length {
        field: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("{0} peers listed, at most {MAX_PEERS_LISTED} allowed")]
    TooManyPeers(usize),
}

impl SignalError {
    /// The code a rendezvous answers this error with.
    pub fn code(&self) -> ErrorCode {
        match self {
            SignalError::TooLarge(_) => ErrorCode::TooLarge,
            _ => ErrorCode::Malformed,
        }
    }

    /// A stable SCREAMING_SNAKE name, for JS errors.
    pub fn as_str(&self) -> &'static str {
        match self {
            SignalError::TooLarge(_) => "SIGNAL_TOO_LARGE",
            SignalError::Truncated => "SIGNAL_TRUNCATED",
            SignalError::NotCbor => "SIGNAL_NOT_CBOR",
            SignalError::TrailingBytes(_) => "SIGNAL_TRAILING_BYTES",
            SignalError::NonCanonical => "SIGNAL_NON_CANONICAL",
            SignalError::UnknownKind(_) => "SIGNAL_UNKNOWN_KIND",
            SignalError::UnknownErrorCode(_) => "SIGNAL_UNKNOWN_ERROR_CODE",
            SignalError::Shape(_) => "SIGNAL_MALFORMED",
            SignalError::Length { .. } => "SIGNAL_BAD_LENGTH",
            SignalError::TooManyPeers(_) => "SIGNAL_TOO_MANY_PEERS",
        }
    }
}

impl SignalMessage {
    /// Encode, refusing messages a peer would refuse: over [`MAX_SIGNAL_SIZE`] (a `Signal`'s data
    /// may be up to [`MAX_SIGNAL_DATA`] bytes) or listing more than [`MAX_PEERS_LISTED`] peers.
    pub fn encode(&self) -> Result<Vec<u8>, SignalError> {
        match self {
            SignalMessage::Signal { data, .. } if data.len() > MAX_SIGNAL_DATA => {
                // Checked before copying the data: the caller learns the size it would have had.
                return Err(SignalError::TooLarge(
                    data.len().saturating_add(MAX_SIGNAL_SIZE - MAX_SIGNAL_DATA),
                ));
            }
            SignalMessage::Peers { peers, .. } if peers.len() > MAX_PEERS_LISTED => {
                return Err(SignalError::TooManyPeers(peers.len()));
            }
            _ => {}
        }
        let bytes = write(self);
        if bytes.len() > MAX_SIGNAL_SIZE {
            return Err(SignalError::TooLarge(bytes.len()));
        }
        Ok(bytes)
    }

    /// Decode exactly one message that spans all of `bytes`, in its canonical encoding.
    pub fn decode(bytes: &[u8]) -> Result<SignalMessage, SignalError> {
        if bytes.len() > MAX_SIGNAL_SIZE {
            return Err(SignalError::TooLarge(bytes.len()));
        }
        let mut reader = Reader::new(bytes, MAX_DEPTH);
        let parsed = reader.item().map_err(|fault| match fault {
            Fault::Eof => SignalError::Truncated,
            Fault::TooDeep => SignalError::Shape("nested too deep"),
            Fault::Invalid => SignalError::NotCbor,
        })?;
        if reader.left() > 0 {
            return Err(SignalError::TrailingBytes(reader.left()));
        }
        let message = from_item(parsed)?;
        // Re-encoding is cheap at this size, and rules out every non-canonical form at once:
        // long-form integers and lengths, indefinite lengths, tags.
        if write(&message) != bytes {
            return Err(SignalError::NonCanonical);
        }
        Ok(message)
    }
}

/// The canonical CBOR of a message: definite lengths, shortest heads.
fn write(message: &SignalMessage) -> Vec<u8> {
    const UINT: u8 = 0;
    const ARRAY: u8 = 4;
    let mut w = Writer::default();
    match message {
        SignalMessage::Join { room, peer } => {
            w.head(ARRAY, 3);
            w.head(UINT, JOIN);
            w.bytes(room.as_bytes());
            w.bytes(peer.as_bytes());
        }
        SignalMessage::Leave { room } => {
            w.head(ARRAY, 2);
            w.head(UINT, LEAVE);
            w.bytes(room.as_bytes());
        }
        SignalMessage::Signal {
            room,
            to,
            from,
            data,
        } => {
            w.head(ARRAY, 5);
            w.head(UINT, SIGNAL);
            w.bytes(room.as_bytes());
            w.bytes(to.as_bytes());
            w.bytes(from.as_bytes());
            w.bytes(data);
        }
        SignalMessage::Peers { room, peers } => {
            w.head(ARRAY, 3);
            w.head(UINT, PEERS);
            w.bytes(room.as_bytes());
            w.head(ARRAY, peers.len() as u64);
            for peer in peers {
                w.bytes(peer.as_bytes());
            }
        }
        SignalMessage::Error { code } => {
            w.head(ARRAY, 2);
            w.head(UINT, ERROR);
            w.head(UINT, code.to_wire());
        }
    }
    w.0
}

fn from_item(parsed: Item) -> Result<SignalMessage, SignalError> {
    let Item::Array(fields) = parsed else {
        return Err(SignalError::Shape("not an array"));
    };
    let mut fields = Fields(fields.into_iter());
    let message = match fields.uint()? {
        JOIN => SignalMessage::Join {
            room: fields.room()?,
            peer: fields.session("peer")?,
        },
        LEAVE => SignalMessage::Leave {
            room: fields.room()?,
        },
        SIGNAL => SignalMessage::Signal {
            room: fields.room()?,
            to: fields.session("to")?,
            from: fields.session("from")?,
            data: fields.bytes()?,
        },
        PEERS => {
            let room = fields.room()?;
            let Item::Array(list) = fields.next()? else {
                return Err(SignalError::Shape("peers is not an array"));
            };
            if list.len() > MAX_PEERS_LISTED {
                return Err(SignalError::TooManyPeers(list.len()));
            }
            let peers = list
                .into_iter()
                .map(|peer| match peer {
                    Item::Bytes(b) => SessionId::try_from(b.as_slice()),
                    _ => Err(SignalError::Shape("a peer is not a byte string")),
                })
                .collect::<Result<_, _>>()?;
            SignalMessage::Peers { room, peers }
        }
        ERROR => {
            let number = fields.uint()?;
            SignalMessage::Error {
                code: ErrorCode::from_wire(number).ok_or(SignalError::UnknownErrorCode(number))?,
            }
        }
        other => return Err(SignalError::UnknownKind(other)),
    };
    if fields.0.next().is_some() {
        return Err(SignalError::Shape("too many fields"));
    }
    Ok(message)
}

/// The fields of a message, read in order.
struct Fields(std::vec::IntoIter<Item>);

impl Fields {
    fn next(&mut self) -> Result<Item, SignalError> {
        self.0.next().ok_or(SignalError::Shape("too few fields"))
    }

    fn uint(&mut self) -> Result<u64, SignalError> {
        match self.next()? {
            Item::Uint(n) => Ok(n),
            Item::Negative => Err(SignalError::Shape("negative or huge integer")),
            _ => Err(SignalError::Shape("expected an unsigned integer")),
        }
    }

    fn bytes(&mut self) -> Result<Vec<u8>, SignalError> {
        match self.next()? {
            Item::Bytes(b) => Ok(b),
            _ => Err(SignalError::Shape("expected a byte string")),
        }
    }

    fn room(&mut self) -> Result<Room, SignalError> {
        fixed("room", &self.bytes()?).map(Room)
    }

    fn session(&mut self, field: &'static str) -> Result<SessionId, SignalError> {
        fixed(field, &self.bytes()?).map(SessionId)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_signal_fills_the_limit_exactly() {
        let message = |len| SignalMessage::Signal {
            room: Room([1; 32]),
            to: SessionId([2; 16]),
            from: SessionId([3; 16]),
            data: vec![0; len],
        };
        let bytes = message(MAX_SIGNAL_DATA).encode().unwrap();
        assert_eq!(bytes.len(), MAX_SIGNAL_SIZE);
        assert_eq!(
            SignalMessage::decode(&bytes).unwrap(),
            message(MAX_SIGNAL_DATA)
        );
        assert_eq!(
            message(MAX_SIGNAL_DATA + 1).encode(),
            Err(SignalError::TooLarge(MAX_SIGNAL_SIZE + 1))
        );
    }

    #[test]
    fn join_is_a_flat_array() {
        let bytes = SignalMessage::Join {
            room: Room([0xaa; 32]),
            peer: SessionId([0xbb; 16]),
        }
        .encode()
        .unwrap();
        // array(3), 0, bytes(32) room, bytes(16) peer
        let mut expected = vec![0x83, 0x00, 0x58, 0x20];
        expected.extend([0xaa; 32]);
        expected.push(0x50);
        expected.extend([0xbb; 16]);
        assert_eq!(bytes, expected);
    }
}
