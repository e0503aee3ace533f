//! Symmetric secrets: 32-byte keys that seal bytes with XChaCha20-Poly1305.
//!
//! Every seal draws a fresh random 24-byte nonce (XChaCha's nonce is long enough that random
//! nonces never collide in practice), so callers never manage nonces. A sealed box is
//! `nonce || ciphertext || tag`, [`SEAL_OVERHEAD`] bytes longer than what it hides. The
//! associated data binds a box to its context (which festival, which log position): a box moved
//! elsewhere fails to open instead of being read in the wrong place.

use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand_core::{OsRng, RngCore};
use zeroize::Zeroize;

pub const KEY_LEN: usize = 32;
pub const NONCE_LEN: usize = 24;
pub const TAG_LEN: usize = 16;
/// How much longer a sealed box is than its plaintext.
pub const SEAL_OVERHEAD: usize = NONCE_LEN + TAG_LEN;
/// How long a [`KeyId`] is.
pub const KEY_ID_LEN: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("a secret key is {KEY_LEN} bytes ({} hex characters)", KEY_LEN * 2)]
    KeyLength,
    #[error("a secret key is written in hexadecimal")]
    NotHex,
    #[error("a sealed box is at least {SEAL_OVERHEAD} bytes, got {0}")]
    TooShort(usize),
    #[error("the sealed box does not open with this key (wrong key, or the bytes were changed)")]
    Open,
}

/// A secret key. Its bytes are wiped when it is dropped; `{:?}` shows only its [`KeyId`].
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey([u8; KEY_LEN]);

/// A public name for a key: a hash of it, so peers can say which key a box needs without
/// revealing the key.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(pub [u8; KEY_ID_LEN]);

impl SecretKey {
    /// A new random key from the operating system's generator.
    pub fn generate() -> Self {
        let mut bytes = [0; KEY_LEN];
        OsRng.fill_bytes(&mut bytes);
        SecretKey(bytes)
    }

    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        SecretKey(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// 64 lowercase hex characters, as carried in invite links.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(text: &str) -> Result<Self, SecretError> {
        let mut bytes = [0; KEY_LEN];
        if text.len() != KEY_LEN * 2 {
            return Err(SecretError::KeyLength);
        }
        hex::decode_to_slice(text, &mut bytes).map_err(|_| SecretError::NotHex)?;
        Ok(SecretKey(bytes))
    }

    /// This key's public name.
    pub fn id(&self) -> KeyId {
        let digest = crate::blake2b::Params::new()
            .hash_length(KEY_ID_LEN)
            .personal(b"p2panda key id")
            .hash(&self.0);
        let mut id = [0; KEY_ID_LEN];
        id.copy_from_slice(digest.as_bytes());
        KeyId(id)
    }

    /// An independent key for one `purpose` (a short ASCII label such as `b"mailbox"`): knowing
    /// the derived key tells nothing about this one or about keys for other purposes.
    pub fn derive(&self, purpose: &[u8]) -> SecretKey {
        let digest = crate::blake2b::Params::new()
            .hash_length(KEY_LEN)
            .key(&self.0)
            .personal(b"p2panda derive")
            .hash(purpose);
        let mut key = [0; KEY_LEN];
        key.copy_from_slice(digest.as_bytes());
        SecretKey(key)
    }

    /// Seal `plaintext`, bound to `aad` (authenticated, not hidden, not included in the box).
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        self.seal_with_nonce(&nonce, aad, plaintext)
    }

    fn seal_with_nonce(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let payload = Payload {
            msg: plaintext,
            aad,
        };
        // Encryption fails only for messages over 256 GiB, far past any frame or object here.
        let ciphertext = cipher
            .encrypt(XNonce::from_slice(nonce), payload)
            .unwrap_or_default();
        let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    /// Open a box [`seal`](Self::seal)ed with this key and the same `aad`.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, SecretError> {
        if sealed.len() < SEAL_OVERHEAD {
            return Err(SecretError::TooShort(sealed.len()));
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let payload = Payload {
            msg: ciphertext,
            aad,
        };
        cipher
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| SecretError::Open)
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({:?})", self.id())
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", hex::encode(self.0))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", hex::encode(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_box_opens_with_its_key_and_aad_only() {
        let key = SecretKey::generate();
        let sealed = key.seal(b"festival 1", b"the line-up");
        assert_eq!(sealed.len(), b"the line-up".len() + SEAL_OVERHEAD);
        assert_eq!(key.open(b"festival 1", &sealed).unwrap(), b"the line-up");
        assert_eq!(key.open(b"festival 2", &sealed), Err(SecretError::Open));
        let other = SecretKey::generate();
        assert_eq!(other.open(b"festival 1", &sealed), Err(SecretError::Open));
    }

    #[test]
    fn every_changed_bit_is_refused() {
        let key = SecretKey::generate();
        let sealed = key.seal(b"", b"hello");
        for byte in 0..sealed.len() {
            let mut changed = sealed.clone();
            changed[byte] ^= 1;
            assert_eq!(
                key.open(b"", &changed),
                Err(SecretError::Open),
                "byte {byte}"
            );
        }
        assert_eq!(key.open(b"", &sealed[..10]), Err(SecretError::TooShort(10)));
    }

    #[test]
    fn seals_differ_each_time_and_keys_round_trip_through_hex() {
        let key = SecretKey::generate();
        assert_ne!(key.seal(b"", b"x"), key.seal(b"", b"x"));
        let again = SecretKey::from_hex(&key.to_hex()).unwrap();
        assert_eq!(again, key);
        assert_eq!(again.id(), key.id());
        assert_eq!(SecretKey::from_hex("abc"), Err(SecretError::KeyLength));
        assert_eq!(
            SecretKey::from_hex(&"zz".repeat(32)),
            Err(SecretError::NotHex)
        );
    }

    #[test]
    fn derived_keys_are_independent_per_purpose() {
        let key = SecretKey::generate();
        let mailbox = key.derive(b"mailbox");
        assert_eq!(mailbox, key.derive(b"mailbox"));
        assert_ne!(mailbox, key.derive(b"other"));
        assert_ne!(mailbox, key);
        assert_ne!(mailbox.id(), key.id());
    }

    #[test]
    fn matches_the_xchacha20_poly1305_test_vector() {
        // draft-irtf-cfrg-xchacha-03, appendix A.3.1.
        let key =
            SecretKey::from_hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
                .unwrap();
        let nonce: [u8; NONCE_LEN] =
            hex::decode("404142434445464748494a4b4c4d4e4f5051525354555657")
                .unwrap()
                .try_into()
                .unwrap();
        let aad = hex::decode("50515253c0c1c2c3c4c5c6c7").unwrap();
        let plaintext = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let sealed = key.seal_with_nonce(&nonce, &aad, plaintext);
        let expected_tag = "c0875924c1c7987947deafd8780acf49";
        assert_eq!(hex::encode(&sealed[sealed.len() - TAG_LEN..]), expected_tag);
        assert!(hex::encode(&sealed[NONCE_LEN..]).starts_with("bd6d179d3e83d43b9576579493c0e939"));
        assert_eq!(key.open(&aad, &sealed).unwrap(), plaintext);
    }
}
