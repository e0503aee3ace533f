//! Identities: ed25519 key pairs made on the user's own device.
//!
//! A [`KeyPair`] can only be made from a secret key (freshly generated or imported). There is
//! deliberately no constructor taking a separate public key: signing with a mismatched public key
//! is the "double public key" signing-oracle bug class.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use rand_core::OsRng;

/// Length in bytes of a secret key, a public key and a signature.
pub const SECRET_KEY_LEN: usize = 32;
pub const PUBLIC_KEY_LEN: usize = 32;
pub const SIGNATURE_LEN: usize = 64;

/// Errors of this module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("a secret key is {SECRET_KEY_LEN} bytes (64 hex characters), got {0} bytes")]
    SecretKeyLength(usize),
    #[error("a public key is {PUBLIC_KEY_LEN} bytes (64 hex characters), got {0} bytes")]
    PublicKeyLength(usize),
    #[error("not hexadecimal: {0}")]
    NotHex(String),
    #[error("bytes are not a valid ed25519 public key")]
    InvalidPublicKey,
    #[error("signature does not verify")]
    BadSignature,
}

/// An author's ed25519 key pair. The secret half never leaves it except through
/// [`KeyPair::export_secret`].
#[derive(Clone)]
pub struct KeyPair {
    signing: SigningKey,
}

impl KeyPair {
    /// A new key pair from the operating system's (or the browser's) secure random source.
    pub fn generate() -> Self {
        Self {
            signing: SigningKey::generate(&mut OsRng),
        }
    }

    /// Restore a key pair from a secret key exported by [`KeyPair::export_secret`]. The public key
    /// is always derived from the secret, never taken from the caller.
    pub fn from_secret_bytes(secret: &[u8]) -> Result<Self, IdentityError> {
        let bytes: [u8; SECRET_KEY_LEN] = secret
            .try_into()
            .map_err(|_| IdentityError::SecretKeyLength(secret.len()))?;
        Ok(Self {
            signing: SigningKey::from_bytes(&bytes),
        })
    }

    /// Restore a key pair from the hex form of its secret key.
    pub fn from_secret_hex(secret: &str) -> Result<Self, IdentityError> {
        let bytes = hex::decode(secret.trim()).map_err(|e| IdentityError::NotHex(e.to_string()))?;
        Self::from_secret_bytes(&bytes)
    }

    /// The secret key, for a backup the user asked for.
    pub fn export_secret(&self) -> [u8; SECRET_KEY_LEN] {
        self.signing.to_bytes()
    }

    /// The secret key as 64 hex characters.
    pub fn export_secret_hex(&self) -> String {
        hex::encode(self.signing.to_bytes())
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.signing.verifying_key().to_bytes())
    }

    /// Sign a message (deterministic ed25519).
    /// This key's secret as an X25519 scalar, so keys can be sealed to it (see
    /// [`crate::private`]). The same key for signing and key exchange is sound for an
    /// X25519-based KEM (eprint 2021/509); it spares users a second key to back up.
    pub(crate) fn x25519_secret(&self) -> [u8; 32] {
        self.signing.to_scalar_bytes()
    }

    pub fn sign(&self, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        self.signing.sign(message).to_bytes()
    }
}

impl fmt::Debug for KeyPair {
    // Never print the secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("public", &self.public_key())
            .finish_non_exhaustive()
    }
}

/// An author's public key. Displays (and parses) as 64 lowercase hex characters.
///
/// Holds only the 32 compressed bytes, so copies are cheap (every entry, log key and operation
/// carries one). The bytes are always a valid curve point: every constructor checks that. The
/// decompressed point that verifying needs is made on demand, or kept per author in a
/// [`KeyCache`] where many signatures of one author are checked.
#[derive(Clone, Copy)]
pub struct PublicKey([u8; PUBLIC_KEY_LEN]);

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        crate::hash::eq_words(&self.0, &other.0)
    }
}

impl Eq for PublicKey {}

impl PartialOrd for PublicKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The order of the bytes.
impl Ord for PublicKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        crate::hash::cmp_words(&self.0, &other.0)
    }
}

// Eight bytes of a key place it in a table as well as all 32 (equality compares them all): an
// attacker would need a key with a chosen 8-byte prefix, 2^64 tries, to crowd a slot of the
// table's keyed hasher.
impl std::hash::Hash for PublicKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let mut prefix = [0; 8];
        prefix.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(prefix));
    }
}

impl PublicKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, IdentityError> {
        let bytes: [u8; PUBLIC_KEY_LEN] = bytes
            .try_into()
            .map_err(|_| IdentityError::PublicKeyLength(bytes.len()))?;
        decompress(&bytes)?;
        Ok(PublicKey(bytes))
    }

    /// A key from bytes already known to be a valid point (checked earlier, or found in a
    /// [`KeyCache`]).
    pub(crate) const fn from_valid_bytes(bytes: [u8; PUBLIC_KEY_LEN]) -> Self {
        PublicKey(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LEN] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.as_bytes())
    }

    /// This key as an X25519 public key (the birational map of the ed25519 point).
    pub(crate) fn x25519(&self) -> [u8; 32] {
        // Cannot fail: the bytes were checked when this key was made.
        decompress(&self.0)
            .map(|point| point.to_montgomery().to_bytes())
            .unwrap_or_default()
    }

    /// Strict ed25519 verification: rejects small-order keys and non-canonical signatures, so a
    /// third party cannot produce a second valid signature over the same message.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), IdentityError> {
        // Cannot fail: the bytes were checked when this key was made.
        let point = decompress(&self.0).map_err(|_| IdentityError::BadSignature)?;
        verify_strict(&point, message, signature)
    }
}

fn decompress(bytes: &[u8; PUBLIC_KEY_LEN]) -> Result<VerifyingKey, IdentityError> {
    VerifyingKey::from_bytes(bytes).map_err(|_| IdentityError::InvalidPublicKey)
}

fn verify_strict(
    point: &VerifyingKey,
    message: &[u8],
    signature: &[u8],
) -> Result<(), IdentityError> {
    let signature =
        ed25519_dalek::Signature::from_slice(signature).map_err(|_| IdentityError::BadSignature)?;
    point
        .verify_strict(message, &signature)
        .map_err(|_| IdentityError::BadSignature)
}

/// Decompressed public keys of known authors, so that checking many entries of one author
/// decompresses its key once (a decompression costs several µs, a good part of a signature
/// check).
///
/// Keys get in only through [`KeyCache::insert`]; a store adds an author once it holds one of its
/// entries, so the cache grows with the authors stored, not with whatever peers send.
#[derive(Clone, Default)]
pub struct KeyCache {
    keys: HashMap<PublicKey, VerifyingKey>,
}

impl KeyCache {
    /// An empty cache (allocates nothing until a key is inserted).
    pub fn new() -> Self {
        Self::default()
    }

    /// The key with these bytes when it is cached: known valid, so nothing is decompressed.
    pub fn get(&self, bytes: &[u8; PUBLIC_KEY_LEN]) -> Option<PublicKey> {
        let key = PublicKey(*bytes);
        self.keys.contains_key(&key).then_some(key)
    }

    /// Keep `key`'s decompressed point (decompressing it unless it is cached already).
    pub fn insert(&mut self, key: PublicKey) {
        if let std::collections::hash_map::Entry::Vacant(slot) = self.keys.entry(key) {
            // A `PublicKey` is always a valid point, so this always succeeds.
            if let Ok(point) = decompress(&key.0) {
                slot.insert(point);
            }
        }
    }

    /// As [`PublicKey::verify`], with the cached point when there is one.
    pub fn verify(
        &self,
        key: &PublicKey,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), IdentityError> {
        match self.keys.get(key) {
            Some(point) => verify_strict(point, message, signature),
            None => key.verify(message, signature),
        }
    }

    /// How many keys are cached.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is cached.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyCache")
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", &self.to_hex()[..16])
    }
}

impl FromStr for PublicKey {
    type Err = IdentityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = hex::decode(s.trim()).map_err(|e| IdentityError::NotHex(e.to_string()))?;
        Self::from_bytes(&bytes)
    }
}

// CBOR carries public keys as 32-byte strings.
impl serde::Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.as_bytes())
    }
}

impl<'de> serde::Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = PublicKey;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a {PUBLIC_KEY_LEN}-byte ed25519 public key")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<PublicKey, E> {
                PublicKey::from_bytes(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_bytes(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_then_import_gives_the_same_identity() {
        let key_pair = KeyPair::generate();
        let restored = KeyPair::from_secret_hex(&key_pair.export_secret_hex()).unwrap();
        assert_eq!(key_pair.public_key(), restored.public_key());
        assert_eq!(key_pair.sign(b"festival"), restored.sign(b"festival"));
    }

    #[test]
    fn two_generated_key_pairs_differ() {
        assert_ne!(
            KeyPair::generate().public_key(),
            KeyPair::generate().public_key()
        );
    }

    #[test]
    fn signatures_verify_only_for_their_message_and_key() {
        let key_pair = KeyPair::generate();
        let signature = key_pair.sign(b"hello");
        let public = key_pair.public_key();
        assert!(public.verify(b"hello", &signature).is_ok());
        assert_eq!(
            public.verify(b"hellO", &signature),
            Err(IdentityError::BadSignature)
        );
        assert_eq!(
            KeyPair::generate()
                .public_key()
                .verify(b"hello", &signature),
            Err(IdentityError::BadSignature)
        );
        assert_eq!(
            public.verify(b"hello", &signature[..63]),
            Err(IdentityError::BadSignature)
        );
    }

    #[test]
    fn public_key_round_trips_through_hex() {
        let public = KeyPair::generate().public_key();
        assert_eq!(public.to_string().parse::<PublicKey>().unwrap(), public);
    }

    #[test]
    fn malformed_keys_are_typed_errors() {
        assert_eq!(
            KeyPair::from_secret_bytes(&[0; 31]).unwrap_err(),
            IdentityError::SecretKeyLength(31)
        );
        assert!(matches!(
            KeyPair::from_secret_hex("zz"),
            Err(IdentityError::NotHex(_))
        ));
        assert_eq!(
            "00".parse::<PublicKey>().unwrap_err(),
            IdentityError::PublicKeyLength(1)
        );
    }

    #[test]
    fn debug_output_never_contains_the_secret() {
        let key_pair = KeyPair::generate();
        assert!(!format!("{key_pair:?}").contains(&key_pair.export_secret_hex()));
    }
}
