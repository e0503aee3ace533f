//! Private festivals: operations sealed with a festival key before they are signed.
//!
//! - A private festival's every operation is a [`Sealed`] payload: the plain CBOR operation
//!   sealed with the festival's current key (XChaCha20-Poly1305, see [`crate::secret`]), bound
//!   to its author and topic. In the clear are only the topic (so relays know where it belongs)
//!   and the key's public id.
//! - The key reaches members in the invite link's URL fragment, or sealed to their public keys in
//!   a [`KeyShare`] that only the festival's creator may publish (the entry must be in the log
//!   that starts with the festival's creation).
//! - Removing a member: the creator rotates the key with a share for everyone else. The share
//!   also carries the old key sealed under the new one, so whoever holds the newest key reads
//!   the whole history; the removed member cannot read anything written after.
//! - Peers without a key verify, store and relay sealed entries like any other, and read
//!   nothing: they are kept as waiting for their key, and applied if it ever arrives.
//!
//! Limits, on purpose: a member who learned a key through a link can not be told apart from one
//! who was sent a share, so a rotation reaches the members the creator names (usually everyone
//! who has written in the festival); others need a new link. A removed member keeps what it
//! could read before.

mod envelope;
mod keyring;
mod wrap;

pub use envelope::{
    decode, is_private, sealed_aad, Envelope, KeyShare, Sealed, MAX_WRAPS, PREVIOUS_LEN,
};
pub use keyring::{previous_aad, Keyring};
pub use wrap::{unwrap, wrap, WRAP_LEN};

use crate::festival::Topic;
use crate::hash::Hash;
use crate::secret::KeyId;
use crate::small_map::SmallMap;
use crate::store::LogKey;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrivateError {
    #[error("malformed private payload: {0}")]
    Malformed(&'static str),
    #[error("the sealed operation does not open with the festival key it names")]
    Open,
    #[error("the sealed operation belongs to another festival than its envelope says")]
    TopicMismatch,
    #[error("only the festival's creator may share or rotate its key")]
    NotCreator,
    #[error("this festival is not private here: no key is known for it")]
    NotPrivate,
    #[error("a key share is sealed to at most {MAX_WRAPS} members")]
    TooManyMembers,
}

/// What a node knows about private festivals besides their keys: which logs belong to which
/// topic (the envelopes say so even where nothing can be read), and which stored entries wait for
/// a key.
#[derive(Debug, Clone, Default)]
pub struct PrivateState {
    pub keyring: Keyring,
    /// Sorted maps: a log's topic is looked up per entry, and set once per log.
    log_topics: SmallMap<LogKey, Topic>,
    waiting: SmallMap<KeyId, Vec<Hash>>,
}

impl PrivateState {
    /// The topic a private log's envelopes name.
    pub fn topic_of_log(&self, log: &LogKey) -> Option<Topic> {
        self.log_topics.get(log).copied()
    }

    pub(crate) fn set_log_topic(&mut self, log: LogKey, topic: Topic) {
        self.log_topics.insert(log, topic);
    }

    /// Remember a stored entry that `key` would open.
    pub(crate) fn wait_for(&mut self, key: KeyId, entry: Hash) {
        self.waiting.get_or_insert_with(key, Vec::new).push(entry);
    }

    /// The entries waiting for `key`, now that it is known.
    pub(crate) fn take_waiting(&mut self, key: &KeyId) -> Vec<Hash> {
        self.waiting.remove(key).unwrap_or_default()
    }

    /// How many stored entries no key opens here yet.
    pub fn unreadable(&self) -> usize {
        self.waiting.values().map(Vec::len).sum()
    }
}
