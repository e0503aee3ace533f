//! The two payload kinds of private festivals, beside the CBOR operations of public ones. They are
//! fixed binary layouts (a CBOR operation payload starts with a map head, never with these
//! magic bytes), and say in the clear only what relays need to route them: the topic, and which
//! key opens them.
//!
//! ```text
//! sealed:  "P2S1" | 0 or 1 | topic (64, if 1) | key id (8) | box (nonce 24 | ciphertext | tag 16)
//! keys:    "P2K1" | topic (64) | key id (8) | 0 or 1 | previous key id (8) | previous box (72)
//!          (the last two if 1) | wrap count (u16, big endian) | wraps (104 each)
//! ```

use crate::festival::Topic;
use crate::hash::{Hash, HASH_LEN};
use crate::identity::PublicKey;
use crate::secret::{KeyId, KEY_ID_LEN, KEY_LEN, SEAL_OVERHEAD};

use super::wrap::WRAP_LEN;
use super::PrivateError;

const SEALED_MAGIC: &[u8; 4] = b"P2S1";
const KEYS_MAGIC: &[u8; 4] = b"P2K1";
/// A previous key sealed under the new one.
pub const PREVIOUS_LEN: usize = KEY_LEN + SEAL_OVERHEAD;
/// How many members one key share may address.
pub const MAX_WRAPS: usize = 1024;

/// An operation sealed with a festival key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The topic (context) the operation belongs to; `None` for the operation that opens a new
    /// one (a private festival's or a fork's creation), whose topic is its own id.
    pub topic: Option<Topic>,
    pub key: KeyId,
    pub sealed: Vec<u8>,
}

/// A festival key shared with members: sealed to each of them, and (when it replaces a key)
/// carrying the key it replaces, sealed under the new one, so the new key reads the history too.
/// Only the topic's creator may publish one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyShare {
    pub topic: Topic,
    pub key: KeyId,
    pub previous: Option<(KeyId, [u8; PREVIOUS_LEN])>,
    pub wraps: Vec<[u8; WRAP_LEN]>,
}

/// A private payload of either kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Envelope {
    Sealed(Sealed),
    Keys(KeyShare),
}

/// Whether a payload is a private one (and should be read by this module).
pub fn is_private(payload: &[u8]) -> bool {
    payload.starts_with(SEALED_MAGIC) || payload.starts_with(KEYS_MAGIC)
}

/// Read a private payload of either kind.
pub fn decode(payload: &[u8]) -> Result<Envelope, PrivateError> {
    if payload.starts_with(KEYS_MAGIC) {
        KeyShare::decode(payload).map(Envelope::Keys)
    } else {
        Sealed::decode(payload).map(Envelope::Sealed)
    }
}

/// The associated data of a sealed operation: it can only be opened as written by `author`, in
/// `topic`, so a copy in another log or topic does not open.
pub fn sealed_aad(author: &PublicKey, topic: Option<&Topic>) -> Vec<u8> {
    let mut aad = Vec::with_capacity(14 + 32 + HASH_LEN);
    aad.extend_from_slice(b"p2panda sealed");
    aad.extend_from_slice(author.as_bytes());
    aad.extend_from_slice(topic.map_or(&[0; HASH_LEN], |topic| topic.as_bytes()));
    aad
}

impl Sealed {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(5 + HASH_LEN + KEY_ID_LEN + self.sealed.len());
        out.extend_from_slice(SEALED_MAGIC);
        match &self.topic {
            Some(topic) => {
                out.push(1);
                out.extend_from_slice(topic.as_bytes());
            }
            None => out.push(0),
        }
        out.extend_from_slice(&self.key.0);
        out.extend_from_slice(&self.sealed);
        out
    }

    pub fn decode(payload: &[u8]) -> Result<Self, PrivateError> {
        let mut input = Input(payload);
        if input.take(4)? != SEALED_MAGIC {
            return Err(PrivateError::Malformed("not a sealed operation"));
        }
        let topic = input.optional(Input::hash)?;
        let key = input.key_id()?;
        if input.0.len() < SEAL_OVERHEAD {
            return Err(PrivateError::Malformed("the sealed box is too short"));
        }
        Ok(Sealed {
            topic,
            key,
            sealed: input.0.to_vec(),
        })
    }
}

impl KeyShare {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            4 + HASH_LEN + KEY_ID_LEN + 1 + 80 + 2 + WRAP_LEN * self.wraps.len(),
        );
        out.extend_from_slice(KEYS_MAGIC);
        out.extend_from_slice(self.topic.as_bytes());
        out.extend_from_slice(&self.key.0);
        match &self.previous {
            Some((id, sealed)) => {
                out.push(1);
                out.extend_from_slice(&id.0);
                out.extend_from_slice(sealed);
            }
            None => out.push(0),
        }
        // At most MAX_WRAPS, checked when the share is made.
        out.extend_from_slice(&(self.wraps.len() as u16).to_be_bytes());
        for wrap in &self.wraps {
            out.extend_from_slice(wrap);
        }
        out
    }

    pub fn decode(payload: &[u8]) -> Result<Self, PrivateError> {
        let mut input = Input(payload);
        if input.take(4)? != KEYS_MAGIC {
            return Err(PrivateError::Malformed("not a key share"));
        }
        let topic = input.hash()?;
        let key = input.key_id()?;
        let previous = input.optional(|input| Ok((input.key_id()?, input.array()?)))?;
        let count = u16::from_be_bytes(input.array()?) as usize;
        if count == 0 || count > MAX_WRAPS {
            return Err(PrivateError::Malformed("a key share has 1 to 1024 wraps"));
        }
        let wraps = (0..count)
            .map(|_| input.array())
            .collect::<Result<Vec<_>, _>>()?;
        if !input.0.is_empty() {
            return Err(PrivateError::Malformed("bytes after the key share"));
        }
        Ok(KeyShare {
            topic,
            key,
            previous,
            wraps,
        })
    }
}

/// Bytes still to read.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], PrivateError> {
        if self.0.len() < len {
            return Err(PrivateError::Malformed("the payload ends early"));
        }
        let (head, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], PrivateError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn hash(&mut self) -> Result<Hash, PrivateError> {
        Ok(Hash::from_array(self.array()?))
    }

    fn key_id(&mut self) -> Result<KeyId, PrivateError> {
        Ok(KeyId(self.array()?))
    }

    /// A flag byte (0 or 1), and the value when it is 1.
    fn optional<T>(
        &mut self,
        read: impl FnOnce(&mut Self) -> Result<T, PrivateError>,
    ) -> Result<Option<T>, PrivateError> {
        match self.take(1)?[0] {
            0 => Ok(None),
            1 => read(self).map(Some),
            _ => Err(PrivateError::Malformed("a flag byte is 0 or 1")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share() -> KeyShare {
        KeyShare {
            topic: Hash::digest(b"festival"),
            key: KeyId([7; KEY_ID_LEN]),
            previous: Some((KeyId([3; KEY_ID_LEN]), [9; PREVIOUS_LEN])),
            wraps: vec![[1; WRAP_LEN], [2; WRAP_LEN]],
        }
    }

    #[test]
    fn payloads_round_trip_and_every_truncation_is_refused() {
        let sealed = Sealed {
            topic: Some(Hash::digest(b"t")),
            key: KeyId([5; KEY_ID_LEN]),
            sealed: vec![4; SEAL_OVERHEAD + 10],
        };
        let bytes = sealed.encode();
        assert!(is_private(&bytes));
        assert_eq!(Sealed::decode(&bytes).unwrap(), sealed);
        let root = Sealed {
            topic: None,
            ..sealed
        };
        assert_eq!(Sealed::decode(&root.encode()).unwrap(), root);

        let bytes = share().encode();
        assert!(is_private(&bytes));
        assert_eq!(KeyShare::decode(&bytes).unwrap(), share());
        for len in 0..bytes.len() {
            assert!(KeyShare::decode(&bytes[..len]).is_err(), "length {len}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(KeyShare::decode(&longer).is_err());
    }

    #[test]
    fn bad_flags_counts_and_magic_are_refused() {
        let mut bytes = share().encode();
        bytes[4 + HASH_LEN + KEY_ID_LEN] = 2;
        assert!(KeyShare::decode(&bytes).is_err());
        let none = KeyShare {
            wraps: Vec::new(),
            ..share()
        };
        assert!(KeyShare::decode(&none.encode()).is_err());
        assert!(Sealed::decode(&share().encode()).is_err());
        assert!(!is_private(&[0xa2, 0x61, 0x76]));
    }
}
