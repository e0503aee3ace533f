//! The mailbox key of a festival, object names, and sealing objects under their names.

use std::fmt;

use rand_core::{OsRng, RngCore};

use crate::festival::Topic;
use crate::secret::{KeyId, SecretKey, KEY_ID_LEN, KEY_LEN};

use super::{MailboxError, MAX_OBJECT_SIZE};

/// How long the random ids in object names are: 128 bits never collide by chance.
pub const ID_LEN: usize = 16;

/// The first byte of every object: the layout version.
const VERSION: u8 = 1;
/// Version byte and key id before the sealed box.
pub(super) const HEADER_LEN: usize = 1 + KEY_ID_LEN;

/// The key of one festival's mailbox: it names the festival's directory and seals its objects.
/// Anyone who knows the festival (its id if public, its secret key if private) makes the same
/// key; the provider, who knows neither, reads nothing and cannot link names to people.
#[derive(Clone, PartialEq, Eq)]
pub struct MailboxKey {
    topic: Topic,
    seal: SecretKey,
    dir: String,
}

/// A mailbox object, by what its name says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectName {
    /// Entries of one log, written once.
    Bundle([u8; ID_LEN]),
    /// A writer's list of its bundles, overwritten by that writer only.
    Index([u8; ID_LEN]),
}

/// A name no one has used: 16 random bytes.
pub(super) fn random_id() -> [u8; ID_LEN] {
    let mut id = [0; ID_LEN];
    OsRng.fill_bytes(&mut id);
    id
}

impl MailboxKey {
    /// The mailbox of a private festival: from the festival's secret key, so only members read it.
    pub fn private(topic: Topic, festival_key: &SecretKey) -> Self {
        Self::from_base(topic, festival_key.derive(b"p2panda mailbox"))
    }

    /// The mailbox of a public festival: from its id, which every reader knows and a provider
    /// that only sees the bucket does not.
    pub fn public(topic: Topic) -> Self {
        let digest = crate::blake2b::Params::new()
            .hash_length(KEY_LEN)
            .personal(b"p2panda mbox pub")
            .hash(topic.as_bytes());
        let mut base = [0; KEY_LEN];
        base.copy_from_slice(digest.as_bytes());
        Self::from_base(topic, SecretKey::from_bytes(base))
    }

    fn from_base(topic: Topic, base: SecretKey) -> Self {
        // Separate keys for naming and sealing, so a name says nothing about the sealing key.
        let names = base.derive(b"names");
        let dir = crate::blake2b::Params::new()
            .hash_length(ID_LEN)
            .key(names.as_bytes())
            .personal(b"p2panda mbox dir")
            .hash(topic.as_bytes());
        MailboxKey {
            topic,
            seal: base.derive(b"seal"),
            dir: hex::encode(dir.as_bytes()),
        }
    }

    /// The festival (sync topic) this mailbox carries.
    pub fn topic(&self) -> Topic {
        self.topic
    }

    /// The public name of the sealing key, written in front of every object.
    pub fn key_id(&self) -> KeyId {
        self.seal.id()
    }

    /// This festival's directory: every object name starts with it and a `/`.
    pub fn dir(&self) -> &str {
        &self.dir
    }

    /// What bundle names start with (to list them).
    pub fn bundles_prefix(&self) -> String {
        format!("{}/b/", self.dir)
    }

    /// What index names start with (to list them).
    pub fn indexes_prefix(&self) -> String {
        format!("{}/i/", self.dir)
    }

    /// An object's name, relative to the mailbox's prefix in the bucket.
    pub fn name(&self, object: ObjectName) -> String {
        match object {
            ObjectName::Bundle(id) => format!("{}{}", self.bundles_prefix(), hex::encode(id)),
            ObjectName::Index(id) => format!("{}{}", self.indexes_prefix(), hex::encode(id)),
        }
    }

    /// What a name is, if it is one of this mailbox's: anything else in the bucket is ignored.
    pub fn parse_name(&self, name: &str) -> Option<ObjectName> {
        let rest = name.strip_prefix(self.dir.as_str())?.strip_prefix('/')?;
        let (kind, id) = rest.split_at_checked(2)?;
        let mut bytes = [0; ID_LEN];
        if id.len() != ID_LEN * 2 || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        hex::decode_to_slice(id, &mut bytes).ok()?;
        match kind {
            "b/" => Some(ObjectName::Bundle(bytes)),
            "i/" => Some(ObjectName::Index(bytes)),
            _ => None,
        }
    }

    /// Seal a plaintext (already padded) as the object `name`.
    pub(super) fn seal(&self, object: ObjectName, plaintext: &[u8]) -> Vec<u8> {
        let name = self.name(object);
        let sealed = self.seal.seal(name.as_bytes(), plaintext);
        let mut bytes = Vec::with_capacity(HEADER_LEN + sealed.len());
        bytes.push(VERSION);
        bytes.extend_from_slice(&self.key_id().0);
        bytes.extend_from_slice(&sealed);
        bytes
    }

    /// Open the object stored as `name`: refused when it is too large, of another version or
    /// key, or changed in any bit (or moved from another name).
    pub(super) fn open(&self, object: ObjectName, bytes: &[u8]) -> Result<Vec<u8>, MailboxError> {
        let name = || self.name(object);
        if bytes.len() > MAX_OBJECT_SIZE {
            return Err(MailboxError::TooLarge {
                name: name(),
                size: bytes.len(),
                max: MAX_OBJECT_SIZE,
            });
        }
        let corrupted = |reason| MailboxError::Corrupted {
            name: name(),
            reason,
        };
        let (header, sealed) = bytes
            .split_at_checked(HEADER_LEN)
            .ok_or_else(|| corrupted("shorter than its header"))?;
        if header[0] != VERSION {
            return Err(corrupted("unknown layout version"));
        }
        if header[1..] != self.key_id().0 {
            return Err(MailboxError::WrongKey { name: name() });
        }
        self.seal
            .open(name().as_bytes(), sealed)
            .map_err(|_| corrupted("the sealed box does not open (changed bytes or moved object)"))
    }
}

impl fmt::Debug for MailboxKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MailboxKey({})", self.dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::Hash;

    #[test]
    fn names_round_trip_and_foreign_names_are_ignored() {
        let key = MailboxKey::public(Hash::digest(b"festival"));
        let id = [7; ID_LEN];
        for object in [ObjectName::Bundle(id), ObjectName::Index(id)] {
            assert_eq!(key.parse_name(&key.name(object)), Some(object));
        }
        let other = MailboxKey::public(Hash::digest(b"another festival"));
        assert_ne!(key.dir(), other.dir());
        assert_eq!(other.parse_name(&key.name(ObjectName::Bundle(id))), None);
        let bundle = key.name(ObjectName::Bundle(id));
        for bad in [
            "",
            key.dir(),
            &format!("{}/x/{}", key.dir(), hex::encode(id)),
            &bundle[..bundle.len() - 1],
            &bundle.to_uppercase(),
            &format!("{bundle}0"),
        ] {
            assert_eq!(key.parse_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn public_and_private_keys_differ_and_are_deterministic() {
        let topic = Hash::digest(b"festival");
        let secret = SecretKey::generate();
        let private = MailboxKey::private(topic, &secret);
        assert_eq!(private, MailboxKey::private(topic, &secret));
        assert_eq!(MailboxKey::public(topic), MailboxKey::public(topic));
        assert_ne!(private.dir(), MailboxKey::public(topic).dir());
        assert_ne!(private.key_id(), MailboxKey::public(topic).key_id());
        // The directory is not the topic in any recognisable form.
        assert!(!topic.to_hex().contains(private.dir()));
    }

    #[test]
    fn objects_open_only_under_their_name_and_key() {
        let topic = Hash::digest(b"festival");
        let key = MailboxKey::private(topic, &SecretKey::generate());
        let object = ObjectName::Bundle([1; ID_LEN]);
        let sealed = key.seal(object, b"entries");
        assert_eq!(key.open(object, &sealed).unwrap(), b"entries");
        let moved = key.open(ObjectName::Bundle([2; ID_LEN]), &sealed);
        assert!(matches!(moved, Err(MailboxError::Corrupted { .. })));
        let other = MailboxKey::private(topic, &SecretKey::generate());
        assert!(matches!(
            other.open(object, &sealed),
            Err(MailboxError::WrongKey { .. })
        ));
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(matches!(
            key.open(object, &flipped),
            Err(MailboxError::Corrupted { .. })
        ));
        assert!(matches!(
            key.open(object, &sealed[..3]),
            Err(MailboxError::Corrupted { .. })
        ));
        let huge = vec![0; MAX_OBJECT_SIZE + 1];
        assert!(matches!(
            key.open(object, &huge),
            Err(MailboxError::TooLarge { .. })
        ));
    }
}
