//! Content addresses: BLAKE2b-512, the hash Bamboo uses (as a YAMF hash) for entries and payloads.
//! An entry's hash is its identity: ids of festivals, resources and events are the hashes of the
//! entries that created them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub const HASH_LEN: usize = 64;

/// A BLAKE2b-512 digest. Displays as 128 hex characters; `{:?}` shows a short prefix.
#[derive(Clone, Copy)]
pub struct Hash([u8; HASH_LEN]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    #[error("a hash is {HASH_LEN} bytes, got {0} bytes")]
    Length(usize),
    #[error("not hexadecimal: {0}")]
    NotHex(String),
}

impl Hash {
    /// The smallest hash, as a lower bound in ordered ranges.
    pub const MIN: Hash = Hash([0; HASH_LEN]);

    /// The BLAKE2b-512 digest of `bytes`.
    pub fn digest(bytes: &[u8]) -> Self {
        let digest = crate::blake2b::Params::new()
            .hash_length(HASH_LEN)
            .hash(bytes);
        let mut out = [0; HASH_LEN];
        out.copy_from_slice(digest.as_bytes());
        Hash(out)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, HashError> {
        bytes
            .try_into()
            .map(Hash)
            .map_err(|_| HashError::Length(bytes.len()))
    }

    /// A hash from its bytes, when they are already an array of the right length.
    pub const fn from_array(bytes: [u8; HASH_LEN]) -> Self {
        Hash(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; HASH_LEN] {
        &self.0
    }

    /// The first eight bytes: a digest is uniformly distributed, so they place it in a table as
    /// well as all sixty-four do.
    pub(crate) fn prefix(&self) -> u64 {
        let mut prefix = [0; 8];
        prefix.copy_from_slice(&self.0[..8]);
        u64::from_le_bytes(prefix)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

// Hashes are compared all the time (every map and index of the state is keyed by them): eight
// word compares instead of a call to `memcmp`, which on wasm32 is a byte loop.
impl PartialEq for Hash {
    fn eq(&self, other: &Self) -> bool {
        eq_words(&self.0, &other.0)
    }
}

impl Eq for Hash {}

impl PartialOrd for Hash {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The order of the bytes (as `[u8]` compares them).
impl Ord for Hash {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        cmp_words(&self.0, &other.0)
    }
}

/// Whether two byte arrays are equal, compared eight bytes at a time.
#[inline(always)]
pub(crate) fn eq_words<const N: usize>(a: &[u8; N], b: &[u8; N]) -> bool {
    let mut diff = 0;
    let mut i = 0;
    while i < N {
        diff |= load(a, i) ^ load(b, i);
        i += 8;
    }
    diff == 0
}

/// Byte arrays in lexicographic order, compared eight bytes at a time.
#[inline(always)]
pub(crate) fn cmp_words<const N: usize>(a: &[u8; N], b: &[u8; N]) -> std::cmp::Ordering {
    let mut i = 0;
    while i < N {
        let (x, y) = (load(a, i), load(b, i));
        if x != y {
            return x.cmp(&y);
        }
        i += 8;
    }
    std::cmp::Ordering::Equal
}

/// Eight bytes from `i` as a big-endian word, zero-padded past the end (which keeps the order
/// lexicographic). Index loops, not iterator adapters: at opt-level "z" those were not inlined
/// and comparing hashes took ~15% of a reopen.
#[inline(always)]
fn load(bytes: &[u8], i: usize) -> u64 {
    let mut w = 0u64;
    let mut k = 0;
    while k < 8 {
        let byte = if i + k < bytes.len() { bytes[i + k] } else { 0 };
        w = (w << 8) | u64::from(byte);
        k += 1;
    }
    w
}

// A digest is uniformly distributed, so eight of its bytes place it in a hash table as well as all
// sixty-four (equality still compares all of them); the table's keyed hasher still resists
// flooding.
impl std::hash::Hash for Hash {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.prefix());
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", &self.to_hex()[..12])
    }
}

impl FromStr for Hash {
    type Err = HashError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = hex::decode(s.trim()).map_err(|e| HashError::NotHex(e.to_string()))?;
        Self::from_bytes(&bytes)
    }
}

// CBOR carries hashes as byte strings (not arrays of numbers): compact and unambiguous.
impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Hash;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a {HASH_LEN}-byte hash")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Hash, E> {
                Hash::from_bytes(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_bytes(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_blake2b_512() {
        // BLAKE2b-512("") from RFC 7693's reference implementation.
        assert!(Hash::digest(b"")
            .to_hex()
            .starts_with("786a02f742015903c6c6fd852552d272"));
    }

    #[test]
    fn order_and_equality_are_those_of_the_bytes() {
        let hashes: Vec<Hash> = (0..200u32)
            .map(|i| {
                let mut bytes = *Hash::digest(&i.to_le_bytes()).as_bytes();
                // Long shared prefixes, so later words decide too.
                let shared = (i % 9) as usize * 8;
                bytes[..shared].fill(0);
                Hash::from_array(bytes)
            })
            .collect();
        for a in &hashes {
            for b in &hashes {
                assert_eq!(a.cmp(b), a.as_bytes()[..].cmp(&b.as_bytes()[..]));
                assert_eq!(a == b, a.as_bytes() == b.as_bytes());
            }
        }
    }

    #[test]
    fn hex_round_trip_and_errors() {
        let hash = Hash::digest(b"panda");
        assert_eq!(hash.to_string().parse::<Hash>().unwrap(), hash);
        assert_eq!("abcd".parse::<Hash>(), Err(HashError::Length(2)));
    }
}
