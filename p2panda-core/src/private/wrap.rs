//! Sealing a festival key to one member's public key: an ephemeral X25519 key agreement with the
//! member's key (its ed25519 key in Montgomery form), a BLAKE2b key derivation, and a
//! [`SecretKey`] seal. A wrap names no recipient, so whoever relays it learns only how many
//! there are; members try each wrap with their own key.

use curve25519_dalek::montgomery::MontgomeryPoint;
use rand_core::{OsRng, RngCore};

use crate::identity::{KeyPair, PublicKey};
use crate::secret::{SecretKey, KEY_LEN, SEAL_OVERHEAD};

/// Bytes of one wrap: the ephemeral public key, then the sealed festival key.
pub const WRAP_LEN: usize = 32 + KEY_LEN + SEAL_OVERHEAD;

/// Seal `key` so that only `member` can open it. `context` (the festival's topic) is bound in.
pub fn wrap(key: &SecretKey, member: &PublicKey, context: &[u8]) -> [u8; WRAP_LEN] {
    let mut ephemeral = [0; 32];
    OsRng.fill_bytes(&mut ephemeral);
    let ephemeral_public = MontgomeryPoint::mul_base_clamped(ephemeral);
    let recipient = MontgomeryPoint(member.x25519());
    let shared = recipient.mul_clamped(ephemeral);
    let wrapping = wrapping_key(&shared, &ephemeral_public, &recipient);
    let sealed = wrapping.seal(context, key.as_bytes());
    let mut out = [0; WRAP_LEN];
    out[..32].copy_from_slice(ephemeral_public.as_bytes());
    out[32..].copy_from_slice(&sealed);
    out
}

/// Open a wrap with `own` key pair; `None` when it is not addressed to it (or was changed).
pub fn unwrap(wrapped: &[u8; WRAP_LEN], own: &KeyPair, context: &[u8]) -> Option<SecretKey> {
    let mut ephemeral_public = [0; 32];
    ephemeral_public.copy_from_slice(&wrapped[..32]);
    let ephemeral_public = MontgomeryPoint(ephemeral_public);
    let shared = ephemeral_public.mul_clamped(own.x25519_secret());
    // A low-order ephemeral key gives an all-zero secret anyone could compute: refuse it.
    if shared.as_bytes() == &[0; 32] {
        return None;
    }
    let recipient = MontgomeryPoint(own.public_key().x25519());
    let wrapping = wrapping_key(&shared, &ephemeral_public, &recipient);
    let bytes = wrapping.open(context, &wrapped[32..]).ok()?;
    let bytes: [u8; KEY_LEN] = bytes.try_into().ok()?;
    Some(SecretKey::from_bytes(bytes))
}

fn wrapping_key(
    shared: &MontgomeryPoint,
    ephemeral: &MontgomeryPoint,
    recipient: &MontgomeryPoint,
) -> SecretKey {
    let digest = crate::blake2b::Params::new()
        .hash_length(KEY_LEN)
        .personal(b"p2panda wrap")
        .to_state()
        .update(shared.as_bytes())
        .update(ephemeral.as_bytes())
        .update(recipient.as_bytes())
        .finalize();
    let mut key = [0; KEY_LEN];
    key.copy_from_slice(digest.as_bytes());
    SecretKey::from_bytes(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_member_opens_its_wrap_in_its_context() {
        let (member, other) = (KeyPair::generate(), KeyPair::generate());
        let key = SecretKey::generate();
        let wrapped = wrap(&key, &member.public_key(), b"festival");
        assert_eq!(unwrap(&wrapped, &member, b"festival"), Some(key));
        assert_eq!(unwrap(&wrapped, &other, b"festival"), None);
        assert_eq!(unwrap(&wrapped, &member, b"another festival"), None);
    }

    #[test]
    fn changed_or_low_order_wraps_do_not_open() {
        let member = KeyPair::generate();
        let key = SecretKey::generate();
        let wrapped = wrap(&key, &member.public_key(), b"");
        for byte in [0, 31, 32, 60, WRAP_LEN - 1] {
            let mut changed = wrapped;
            changed[byte] ^= 0x40;
            assert_eq!(unwrap(&changed, &member, b""), None, "byte {byte}");
        }
        let mut low_order = wrapped;
        low_order[..32].fill(0);
        assert_eq!(unwrap(&low_order, &member, b""), None);
    }
}
