//! The festival keys a node knows, by topic, and the key shares that may give it more.

use crate::festival::Topic;
use crate::identity::KeyPair;
use crate::secret::{KeyId, SecretKey};
use crate::small_map::{SmallMap, SmallSet};

use super::envelope::KeyShare;
use super::wrap::unwrap;

/// Festival keys by id and by topic. A topic with a key is a private festival this node reads.
/// (A node is in a handful of festivals: small sorted maps.)
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    keys: SmallMap<KeyId, SecretKey>,
    topics: SmallMap<Topic, TopicKeys>,
    /// Shares seen, by topic: a key learned later may open a share's previous key.
    shares: SmallMap<Topic, Vec<Share>>,
    /// Whose wraps this node can open.
    identity: Option<KeyPair>,
}

#[derive(Debug, Clone, Default)]
struct TopicKeys {
    keys: SmallSet<KeyId>,
    /// Keys a share replaced; the current key is a known one not replaced.
    replaced: SmallSet<KeyId>,
}

#[derive(Debug, Clone)]
struct Share {
    share: KeyShare,
    /// Whether its wraps were tried with this node's identity already.
    unwrapped: bool,
}

impl Keyring {
    /// Open key shares' wraps as `identity` from now on (shares seen earlier are tried again).
    pub fn set_identity(&mut self, identity: KeyPair) -> Vec<KeyId> {
        self.identity = Some(identity);
        self.shares
            .values_mut()
            .flatten()
            .for_each(|s| s.unwrapped = false);
        let topics: Vec<Topic> = self.shares.keys().copied().collect();
        topics.into_iter().flat_map(|t| self.settle(t)).collect()
    }

    /// Learn `key` for `topic` (from an invite link, or this node's own store). Returns the keys
    /// that are new, including older ones it opened through shares.
    pub fn add(&mut self, topic: Topic, key: SecretKey) -> Vec<KeyId> {
        let mut added = Vec::new();
        if self.insert(topic, key, &mut added) {
            added.extend(self.settle(topic));
        }
        added
    }

    /// Take in a share (its author was checked to be the topic's creator). Returns new keys.
    pub fn accept(&mut self, share: KeyShare) -> Vec<KeyId> {
        let topic = share.topic;
        if let Some((old, _)) = share.previous {
            self.topics
                .get_or_insert_with(topic, TopicKeys::default)
                .replaced
                .insert(old);
        }
        self.shares.get_or_insert_with(topic, Vec::new).push(Share {
            share,
            unwrapped: false,
        });
        self.settle(topic)
    }

    pub fn get(&self, id: &KeyId) -> Option<&SecretKey> {
        self.keys.get(id)
    }

    /// The key new operations in `topic` are sealed with: the newest known (one no share
    /// replaced; of several, the greatest id, so every member picks the same).
    pub fn current(&self, topic: &Topic) -> Option<&SecretKey> {
        let keys = self.topics.get(topic)?;
        let newest = keys
            .keys
            .iter()
            .rev()
            .find(|id| !keys.replaced.contains(*id));
        let id = newest.or_else(|| keys.keys.iter().next_back())?;
        self.keys.get(id)
    }

    /// The keys of `topic` other than the current one: those rotations replaced.
    pub fn older(&self, topic: &Topic) -> Vec<&SecretKey> {
        let current = self.current(topic).map(SecretKey::id);
        self.topics.get(topic).map_or(Vec::new(), |keys| {
            keys.keys
                .iter()
                .filter(|id| Some(**id) != current)
                .filter_map(|id| self.keys.get(id))
                .collect()
        })
    }

    /// Whether this node holds a key of `topic` (reads it as a private festival).
    pub fn is_private(&self, topic: &Topic) -> bool {
        self.topics.get(topic).is_some_and(|t| !t.keys.is_empty())
    }

    /// Every key by topic, for a node to keep in its own store.
    pub fn export(&self) -> Vec<(Topic, SecretKey)> {
        let mut all = Vec::new();
        for (topic, keys) in self.topics.iter() {
            all.extend(
                keys.keys
                    .iter()
                    .filter_map(|id| Some((*topic, self.keys.get(id)?.clone()))),
            );
        }
        all
    }

    fn insert(&mut self, topic: Topic, key: SecretKey, added: &mut Vec<KeyId>) -> bool {
        let id = key.id();
        let new_for_topic = self
            .topics
            .get_or_insert_with(topic, TopicKeys::default)
            .keys
            .insert(id);
        if !self.keys.contains_key(&id) {
            self.keys.insert(id, key);
            added.push(id);
        }
        new_for_topic
    }

    /// Open what the topic's shares give until nothing new comes out.
    fn settle(&mut self, topic: Topic) -> Vec<KeyId> {
        let mut added = Vec::new();
        loop {
            let mut found = Vec::new();
            for share in self.shares.get_mut(&topic).into_iter().flatten() {
                if !share.unwrapped {
                    if let Some(identity) = &self.identity {
                        let context = share.share.topic.as_bytes();
                        found.extend(
                            share
                                .share
                                .wraps
                                .iter()
                                .filter_map(|w| unwrap(w, identity, context))
                                .filter(|key| key.id() == share.share.key),
                        );
                        share.unwrapped = true;
                    }
                }
                let Some((old, sealed)) = &share.share.previous else {
                    continue;
                };
                if let (Some(new), false) =
                    (self.keys.get(&share.share.key), self.keys.contains_key(old))
                {
                    let opened = new.open(&previous_aad(&topic), sealed).ok();
                    let key = opened
                        .and_then(|bytes| Some(SecretKey::from_bytes(bytes.try_into().ok()?)));
                    found.extend(key.filter(|key| key.id() == *old));
                }
            }
            let mut progressed = false;
            for key in found {
                progressed |= self.insert(topic, key, &mut added);
            }
            if !progressed {
                return added;
            }
        }
    }
}

/// The associated data of a previous key sealed under its successor.
pub fn previous_aad(topic: &Topic) -> Vec<u8> {
    let mut aad = b"p2panda previous key".to_vec();
    aad.extend_from_slice(topic.as_bytes());
    aad
}
