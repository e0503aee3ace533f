//! A replica: the entry store and the materialized state kept in step. It is what a node (browser,
//! native peer, simulation) holds: entries come in (from sync or local publishing), are verified,
//! checked against the schema and their log, stored, then applied.

use crate::festival::{Missing, Op, Outcome, Rejection, State, Topic};
use crate::hash::Hash;
use crate::identity::{KeyPair, PublicKey};
use crate::log::Entry;
use crate::operation::{FestivalCreate, Operation, OperationError};
use crate::private::{
    self, previous_aad, sealed_aad, wrap, Envelope, KeyShare, PrivateError, PrivateState, Sealed,
    MAX_WRAPS, PREVIOUS_LEN,
};
use crate::secret::{KeyId, SecretKey};
use crate::store::{Checks, ForkEvidence, Inserted, LogKey, MemoryStore, Payload, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("invalid operation: {0}")]
    Operation(#[from] OperationError),
    #[error("operation does not fit its log: {0}")]
    Log(Rejection),
    #[error(transparent)]
    Private(#[from] PrivateError),
}

impl From<crate::log::LogError> for IngestError {
    fn from(error: crate::log::LogError) -> Self {
        IngestError::Store(StoreError::Invalid(error))
    }
}

/// What an entry's payload holds, as far as this node can read it.
// Short-lived (one per entry on its way in), and nearly always an operation: not worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Content {
    /// An operation: a public one, or a sealed one this node opened.
    Operation(Op),
    /// An operation of private festival `topic`, sealed with a key this node does not have.
    Sealed { topic: Topic, key: KeyId },
    /// A private festival's key shared with its members.
    Keys(KeyShare),
}

/// An entry decoded and checked by [`Replica::prepare`], not yet stored.
#[derive(Debug, Clone)]
pub struct Prepared {
    entry: Entry,
    payload: Vec<u8>,
    content: Content,
    /// The topic a private payload's envelope names.
    private_topic: Option<Topic>,
}

impl Prepared {
    pub fn entry(&self) -> &Entry {
        &self.entry
    }

    pub fn content(&self) -> &Content {
        &self.content
    }

    /// The operation, when this node can read it.
    pub fn op(&self) -> Option<&Op> {
        match &self.content {
            Content::Operation(op) => Some(op),
            _ => None,
        }
    }

    pub fn id(&self) -> Hash {
        self.entry.hash()
    }

    pub fn log(&self) -> LogKey {
        LogKey {
            author: self.entry.author(),
            log_id: self.entry.log_id(),
        }
    }

    pub fn seq(&self) -> u64 {
        self.entry.seq_num()
    }
}

/// Entries and the state made from them.
#[derive(Debug, Clone, Default)]
pub struct Replica {
    store: MemoryStore,
    state: State,
    private: PrivateState,
}

/// How an operation about to be published is written.
enum Sealing {
    Public,
    /// Sealed with the current key of a private festival.
    In(Topic, SecretKey),
    /// Sealed with `key`, which becomes the key of the topic the operation opens.
    NewTopic(SecretKey),
}

impl Replica {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn store(&self) -> &MemoryStore {
        &self.store
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// Private festivals' keys, and what waits for them.
    pub fn private(&self) -> &PrivateState {
        &self.private
    }

    /// Take in an entry and its payload from elsewhere. On error nothing is stored or applied
    /// (except that a fork is recorded as evidence by the store).
    pub fn ingest(&mut self, entry_bytes: &[u8], payload: &[u8]) -> Result<Outcome, IngestError> {
        let prepared = self.prepare(entry_bytes, payload)?;
        self.commit(prepared)
    }

    /// The checks of [`Replica::ingest`] that need no log context: decode the entry and the
    /// operation (opening it, if it is sealed and the key is known), and check the payload and
    /// the operation's place in its log. Lets a caller (sync) look at the entry before
    /// [`Replica::commit`] stores it.
    pub fn prepare(&self, entry_bytes: &[u8], payload: &[u8]) -> Result<Prepared, IngestError> {
        let entry = Entry::decode_with_keys(entry_bytes, self.store.keys())?;
        entry.verify_payload(payload)?;
        let (content, private_topic) = if private::is_private(payload) {
            let (content, topic) = self.read_private(&entry, payload)?;
            (content, Some(topic))
        } else {
            (
                Content::Operation(op_of(&entry, Operation::decode(payload)?)),
                None,
            )
        };
        if let Content::Operation(op) = &content {
            self.state
                .check_log_position(op)
                .map_err(IngestError::Log)?;
        }
        let prepared = Prepared {
            entry,
            payload: payload.to_vec(),
            content,
            private_topic,
        };
        let known = self.private.topic_of_log(&prepared.log());
        if private_topic.is_some_and(|topic| known.is_some_and(|known| known != topic)) {
            return Err(PrivateError::TopicMismatch.into());
        }
        Ok(prepared)
    }

    /// Read a sealed operation or a key share, and the topic it belongs to.
    fn read_private(&self, entry: &Entry, payload: &[u8]) -> Result<(Content, Topic), IngestError> {
        match private::decode(payload)? {
            Envelope::Sealed(sealed) => {
                let topic = sealed.topic.unwrap_or(entry.hash());
                let Some(key) = self.private.keyring.get(&sealed.key) else {
                    let content = Content::Sealed {
                        topic,
                        key: sealed.key,
                    };
                    return Ok((content, topic));
                };
                let operation = self.open(key, entry, &sealed)?;
                Ok((Content::Operation(op_of(entry, operation)), topic))
            }
            Envelope::Keys(share) => {
                // Only the log that starts with the topic's creation may carry its keys.
                let start = self.store.get(
                    LogKey {
                        author: entry.author(),
                        log_id: entry.log_id(),
                    },
                    1,
                );
                if start.is_none_or(|s| s.entry.hash() != share.topic) {
                    return Err(PrivateError::NotCreator.into());
                }
                let topic = share.topic;
                Ok((Content::Keys(share), topic))
            }
        }
    }

    /// Open a sealed operation and check it belongs where its envelope says.
    fn open(
        &self,
        key: &SecretKey,
        entry: &Entry,
        sealed: &Sealed,
    ) -> Result<Operation, IngestError> {
        let aad = sealed_aad(&entry.author(), sealed.topic.as_ref());
        let plain = key
            .open(&aad, &sealed.sealed)
            .map_err(|_| PrivateError::Open)?;
        let operation = Operation::decode(&plain)?;
        let named = match &operation {
            // A root festival or a fork opens its own topic: the envelope names none.
            Operation::FestivalCreate(FestivalCreate { parent: None, .. }) => None,
            Operation::FestivalCreate(create) => create.parent,
            other => other.festival(),
        };
        let fits = match (named, sealed.topic) {
            (None, None) => true,
            (Some(festival), Some(topic)) => self
                .state
                .topic_of_festival(festival)
                .is_none_or(|known| known == topic),
            _ => false,
        };
        if !fits {
            return Err(PrivateError::TopicMismatch.into());
        }
        Ok(operation)
    }

    /// Verify a prepared entry against its log, store it and apply its operation.
    pub fn commit(&mut self, prepared: Prepared) -> Result<Outcome, IngestError> {
        self.store_and_apply(prepared, Checks::AllButPayload)
    }

    fn store_and_apply(
        &mut self,
        prepared: Prepared,
        checks: Checks,
    ) -> Result<Outcome, IngestError> {
        let log = prepared.log();
        let Prepared {
            entry,
            payload,
            content,
            private_topic,
        } = prepared;
        let id = entry.hash();
        if let Inserted::Duplicate =
            self.store
                .insert_checked(entry, Payload::Owned(payload), checks)?
        {
            return Ok(Outcome::Duplicate);
        }
        if let Some(topic) = private_topic {
            self.private.set_log_topic(log, topic);
        }
        Ok(match content {
            Content::Operation(op) => self.state.apply(op),
            Content::Sealed { key, .. } => {
                self.private.wait_for(key, id);
                Outcome::Waiting(Missing::Key(key))
            }
            Content::Keys(share) => {
                let added = self.private.keyring.accept(share);
                self.unlock(&added);
                Outcome::Applied
            }
        })
    }

    /// Apply the stored entries that the newly known `keys` open. Returns how many.
    fn unlock(&mut self, keys: &[KeyId]) -> usize {
        let mut opened = 0;
        for id in keys {
            let Some(key) = self.private.keyring.get(id).cloned() else {
                continue;
            };
            for hash in self.private.take_waiting(id) {
                let Some(stored) = self.store.get_by_hash(&hash) else {
                    continue;
                };
                let Ok(Envelope::Sealed(sealed)) = private::decode(&stored.payload) else {
                    continue;
                };
                // One that does not open (its author sealed garbage) stays stored, unread.
                if let Ok(operation) = self.open(&key, &stored.entry, &sealed) {
                    let op = op_of(&stored.entry, operation);
                    self.state.apply(op);
                    opened += 1;
                }
            }
        }
        opened
    }

    /// Open key shares addressed to `identity` (this node's own key pair), including those
    /// stored already. Returns how many stored entries became readable.
    pub fn set_identity(&mut self, identity: KeyPair) -> usize {
        let added = self.private.keyring.set_identity(identity);
        self.unlock(&added)
    }

    /// Learn a private festival's key (from an invite link, or the node's own store). Returns
    /// how many stored entries became readable.
    pub fn add_festival_key(&mut self, topic: Topic, key: SecretKey) -> usize {
        let added = self.private.keyring.add(topic, key);
        self.unlock(&added)
    }

    /// Whether this node reads `topic` as a private festival (it holds a key for it).
    pub fn is_private(&self, topic: &Topic) -> bool {
        self.private.keyring.is_private(topic)
    }

    /// The topic a log belongs to: from its operations, or for a private festival this node
    /// cannot read, from its envelopes. `None` while unknown.
    pub fn topic_of_log(&self, log: LogKey) -> Option<Topic> {
        self.state
            .topic_of_log(log)
            .or_else(|| self.private.topic_of_log(&log))
    }

    /// The topic a prepared entry belongs to, when it can be known before it is stored.
    pub fn topic_of_prepared(&self, prepared: &Prepared) -> Option<Topic> {
        if let Some(topic) = prepared.private_topic {
            return Some(topic);
        }
        match (&prepared.content, prepared.seq()) {
            (Content::Operation(op), 1) => self.state.topic_of_first(op),
            _ => self.topic_of_log(prepared.log()),
        }
    }

    /// Everyone who has written in `topic`.
    pub fn topic_authors(&self, topic: Topic) -> Vec<PublicKey> {
        let mut authors: Vec<PublicKey> = Vec::new();
        for (log, _) in self.store.heights() {
            if self.topic_of_log(log) == Some(topic) && !authors.contains(&log.author) {
                authors.push(log.author);
            }
        }
        authors
    }

    /// Load an entry **this node verified earlier** and kept in its own durable store (IndexedDB
    /// in a browser), when the node starts again. Only for that: the signature is not checked,
    /// so an entry from anywhere else could be a forgery. Everything else [`Replica::ingest`]
    /// checks still is, cheaply: canonical bytes (a damaged database shows), the payload hash, the
    /// operation, the entry's place in its log (seq = height + 1), its links to the entries before
    /// it, duplicates and forks. Restore each log in order; logs in any order. Restore private
    /// festivals' keys first ([`Replica::add_festival_key`], [`Replica::set_identity`]).
    ///
    /// The author's key is decompressed once per author (the store caches it), not per entry.
    pub fn restore(&mut self, entry_bytes: &[u8], payload: &[u8]) -> Result<Outcome, IngestError> {
        let prepared = self.prepare(entry_bytes, payload)?;
        self.store_and_apply(prepared, Checks::Restored)
    }

    /// Restore many entries (as [`Replica::restore`] does one) through the returned guard,
    /// with the views' indexes brought up to date once, when the guard is dropped or
    /// [`BulkRestore::finish`]ed, instead of after every entry: an event is indexed once
    /// however many answers and updates it has. The resulting state is the same. Use it when a
    /// node starts and restores its whole store.
    pub fn bulk_restore(&mut self) -> BulkRestore<'_> {
        self.state.defer_indexing();
        BulkRestore { replica: self }
    }

    /// Record fork evidence again that this node saved from [`MemoryStore::forks`]: the log is
    /// frozen at that position, as when the fork was first seen. Call it after restoring the
    /// log's entries. See [`MemoryStore::restore_fork`].
    pub fn restore_fork_evidence(&mut self, evidence: &ForkEvidence) -> Result<(), IngestError> {
        Ok(self.store.restore_fork(evidence)?)
    }

    /// Write an operation as `key_pair`: into the author's log for the operation's festival (a new
    /// log for a new festival), then apply it. Returns the operation's id (its entry's hash).
    ///
    /// In a private festival (this node holds its key) the operation is sealed with the current
    /// key; so are sub-festivals and forks of a private festival, which stay private.
    pub fn publish(
        &mut self,
        key_pair: &KeyPair,
        operation: &Operation,
    ) -> Result<(Hash, Outcome), IngestError> {
        let outgoing = self.outgoing(key_pair, operation, false)?;
        self.publish_outgoing(key_pair, outgoing)
    }

    /// Create a private festival: a new key is made, and every operation in it is sealed. The
    /// key is [`Replica::private`]'s current key of the returned festival id (for invite links).
    pub fn publish_private_festival(
        &mut self,
        key_pair: &KeyPair,
        create: FestivalCreate,
    ) -> Result<(Hash, Outcome), IngestError> {
        let outgoing = self.outgoing(key_pair, &Operation::FestivalCreate(create), true)?;
        self.publish_outgoing(key_pair, outgoing)
    }

    /// Replace private festival `topic`'s key (after removing a member): a new key, sealed to
    /// each of `members` and to the creator, carrying the old key for the history. Only the
    /// festival's creator may. Returns the share's entry id.
    pub fn rotate_festival_key(
        &mut self,
        key_pair: &KeyPair,
        topic: Topic,
        members: &[PublicKey],
    ) -> Result<Hash, IngestError> {
        let outgoing = self.outgoing_key_share(key_pair, topic, members, true)?;
        Ok(self.publish_outgoing(key_pair, outgoing)?.0)
    }

    /// Seal private festival `topic`'s current key to `members` (adding them without a link).
    /// Only the festival's creator may. Returns the share's entry id.
    pub fn share_festival_key(
        &mut self,
        key_pair: &KeyPair,
        topic: Topic,
        members: &[PublicKey],
    ) -> Result<Hash, IngestError> {
        let outgoing = self.outgoing_key_share(key_pair, topic, members, false)?;
        Ok(self.publish_outgoing(key_pair, outgoing)?.0)
    }

    /// Sign, learn and ingest what [`Replica::outgoing`] or [`Replica::outgoing_key_share`]
    /// made. Returns the entry's id.
    pub fn publish_outgoing(
        &mut self,
        key_pair: &KeyPair,
        outgoing: Outgoing,
    ) -> Result<(Hash, Outcome), IngestError> {
        let entry = self
            .store
            .next_entry(key_pair, outgoing.log_id, &outgoing.payload)?;
        let id = entry.hash();
        self.learn_outgoing_key(id, &outgoing);
        let outcome = self.ingest(entry.bytes(), &outgoing.payload)?;
        Ok((id, outcome))
    }

    /// An operation's payload and log, as [`Replica::publish`] writes them (sealed in a private
    /// festival), for a node that signs and stores the entry itself before ingesting it.
    /// `private` makes a root festival's creation that of a new private festival.
    pub fn outgoing(
        &self,
        key_pair: &KeyPair,
        operation: &Operation,
        private: bool,
    ) -> Result<Outgoing, IngestError> {
        let plain = operation.encode()?;
        let author = key_pair.public_key();
        let log_id = operation
            .festival()
            .and_then(|festival| self.state.log_of(author, festival))
            .unwrap_or_else(|| self.next_log_id(key_pair));
        let seal = |topic: Option<Topic>, key: &SecretKey| {
            let sealed = Sealed {
                topic,
                key: key.id(),
                sealed: key.seal(&sealed_aad(&author, topic.as_ref()), &plain),
            };
            sealed.encode()
        };
        let (payload, key) = match self.sealing_for(operation) {
            // A new private festival, or a private fork (a sub-festival lives in its parent's
            // topic, so it is private exactly when the parent is).
            Sealing::Public
                if private
                    && matches!(operation, Operation::FestivalCreate(c) if c.parent.is_none()) =>
            {
                let key = SecretKey::generate();
                (seal(None, &key), Some((None, key)))
            }
            Sealing::Public => (plain, None),
            Sealing::In(topic, key) => (seal(Some(topic), &key), None),
            Sealing::NewTopic(key) => (seal(None, &key), Some((None, key))),
        };
        Ok(Outgoing {
            payload,
            log_id,
            key,
        })
    }

    /// A key share of private festival `topic` for `members` (and its creator, `key_pair`), with
    /// a new key when `rotate`. Only the festival's creator may.
    pub fn outgoing_key_share(
        &self,
        key_pair: &KeyPair,
        topic: Topic,
        members: &[PublicKey],
        rotate: bool,
    ) -> Result<Outgoing, IngestError> {
        let author = key_pair.public_key();
        let start = self
            .store
            .get_by_hash(&topic)
            .filter(|s| s.entry.author() == author && s.entry.seq_num() == 1)
            .ok_or(PrivateError::NotCreator)?;
        let current = self
            .private
            .keyring
            .current(&topic)
            .cloned()
            .ok_or(PrivateError::NotPrivate)?;
        let (key, previous) = if rotate {
            let new = SecretKey::generate();
            let sealed_old: [u8; PREVIOUS_LEN] = new
                .seal(&previous_aad(&topic), current.as_bytes())
                .try_into()
                .map_err(|_| PrivateError::Malformed("a sealed key is 72 bytes"))?;
            (new, Some((current.id(), sealed_old)))
        } else {
            (current, None)
        };
        let mut recipients = vec![author];
        for member in members {
            if !recipients.contains(member) {
                recipients.push(*member);
            }
        }
        if recipients.len() > MAX_WRAPS {
            return Err(PrivateError::TooManyMembers.into());
        }
        let share = KeyShare {
            topic,
            key: key.id(),
            previous,
            wraps: recipients
                .iter()
                .map(|member| wrap(&key, member, topic.as_bytes()))
                .collect(),
        };
        Ok(Outgoing {
            payload: share.encode(),
            log_id: start.entry.log_id(),
            key: Some((Some(topic), key)),
        })
    }

    /// Learn the key an outgoing entry with id `id` brings (before ingesting the entry).
    pub fn learn_outgoing_key(&mut self, id: Hash, outgoing: &Outgoing) {
        if let Some((topic, key)) = outgoing.new_key(id) {
            self.private.keyring.add(topic, key.clone());
        }
    }

    fn sealing_for(&self, operation: &Operation) -> Sealing {
        let current = |topic: Option<Topic>| {
            let topic = topic?;
            Some((topic, self.private.keyring.current(&topic)?.clone()))
        };
        let festival = match operation {
            Operation::FestivalCreate(create) => match (&create.parent, &create.fork_of) {
                (Some(parent), _) => Some(*parent),
                (None, Some(fork)) => {
                    let topic = self.state.topic_of_festival(fork.festival);
                    return current(topic)
                        .map_or(Sealing::Public, |(_, key)| Sealing::NewTopic(key));
                }
                (None, None) => None,
            },
            other => other.festival(),
        };
        match current(festival.and_then(|f| self.state.topic_of_festival(f))) {
            Some((topic, key)) => Sealing::In(topic, key),
            None => Sealing::Public,
        }
    }

    fn next_log_id(&self, key_pair: &KeyPair) -> u64 {
        let author = key_pair.public_key();
        self.store
            .heights()
            .filter(|(key, _)| key.author == author)
            .map(|(key, _)| key.log_id + 1)
            .max()
            .unwrap_or(0)
    }
}

/// A payload made by [`Replica::outgoing`] or [`Replica::outgoing_key_share`], to be signed as
/// the next entry of log `log_id`.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub payload: Vec<u8>,
    pub log_id: u64,
    /// A key the entry brings: of its topic (`None`: the topic the entry opens, its own id).
    key: Option<(Option<Topic>, SecretKey)>,
}

impl Outgoing {
    /// The key this entry brings and the topic it is for, once the entry's id is known.
    pub fn new_key(&self, id: Hash) -> Option<(Topic, &SecretKey)> {
        self.key
            .as_ref()
            .map(|(topic, key)| (topic.unwrap_or(id), key))
    }
}

/// The operation of an entry.
fn op_of(entry: &Entry, operation: Operation) -> Op {
    Op {
        id: entry.hash(),
        author: entry.author(),
        log_id: entry.log_id(),
        seq: entry.seq_num(),
        operation,
    }
}

/// Restores many entries into a [`Replica`], indexing once at the end; see
/// [`Replica::bulk_restore`]. Dropping it (also on an early return) brings the indexes up to
/// date.
pub struct BulkRestore<'a> {
    replica: &'a mut Replica,
}

impl BulkRestore<'_> {
    /// [`Replica::restore`] one entry.
    pub fn restore(&mut self, entry_bytes: &[u8], payload: &[u8]) -> Result<Outcome, IngestError> {
        self.replica.restore(entry_bytes, payload)
    }

    /// Bring the indexes up to date (what dropping the guard does).
    pub fn finish(self) {}
}

impl Drop for BulkRestore<'_> {
    fn drop(&mut self) {
        self.replica.state.index_deferred();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operation::*;

    const HOUR: Millis = 3_600_000;

    fn publish(replica: &mut Replica, key: &KeyPair, op: Operation) -> Hash {
        let (id, outcome) = replica.publish(key, &op).expect("valid operation");
        assert!(matches!(outcome, Outcome::Applied), "{op:?}: {outcome:?}");
        id
    }

    /// A festival with what moves the indexes: granted overlapping bookings (conflicts), a
    /// denial, an update that re-requests, answers to the new version, a cancellation, a
    /// deleted resource, a sub-festival and a fork made after all that.
    fn festival() -> Replica {
        let (alice, bob, carol) = (
            KeyPair::generate(),
            KeyPair::generate(),
            KeyPair::generate(),
        );
        let mut replica = Replica::new();
        let root = publish(
            &mut replica,
            &alice,
            Operation::FestivalCreate(FestivalCreate {
                name: "Fair".into(),
                description: String::new(),
                parent: None,
                fork_of: None,
            }),
        );
        let resource = |name: &str| {
            Operation::ResourceCreate(ResourceCreate {
                festival: root,
                name: name.into(),
                description: String::new(),
                kind: ResourceKind::Item,
                policy: PolicyKind::Manual,
            })
        };
        let (stage, tent) = (
            publish(&mut replica, &alice, resource("Stage")),
            publish(&mut replica, &alice, resource("Tent")),
        );
        let mut events = Vec::new();
        for i in 0..6 {
            let event = EventCreate {
                festival: root,
                title: format!("Event {i}"),
                description: String::new(),
                start: i * HOUR / 2,
                end: i * HOUR / 2 + HOUR,
                resources: vec![stage, tent],
            };
            events.push(publish(&mut replica, &bob, Operation::EventCreate(event)));
        }
        let answer = |event, version, resource, decision| {
            Operation::Authorization(Authorization {
                festival: root,
                event,
                event_version: version,
                resource,
                decision,
                reason: None,
            })
        };
        for (i, event) in events.iter().enumerate() {
            let decision = if i == 3 {
                Decision::Deny
            } else {
                Decision::Grant
            };
            publish(
                &mut replica,
                &alice,
                answer(*event, *event, stage, decision),
            );
        }
        let update = Operation::EventUpdate(EventUpdate {
            festival: root,
            event: events[1],
            title: None,
            description: None,
            timeframe: Some(Timeframe {
                start: 10 * HOUR,
                end: 11 * HOUR,
            }),
            resources: None,
        });
        let version = publish(&mut replica, &bob, update);
        publish(
            &mut replica,
            &alice,
            answer(events[1], version, stage, Decision::Grant),
        );
        publish(
            &mut replica,
            &alice,
            answer(events[1], version, tent, Decision::Grant),
        );
        let cancel = EventCancel {
            festival: root,
            event: events[2],
        };
        publish(&mut replica, &bob, Operation::EventCancel(cancel));
        let delete = ResourceDelete {
            festival: root,
            resource: tent,
        };
        publish(&mut replica, &alice, Operation::ResourceDelete(delete));
        let sub = FestivalCreate {
            name: "Workshops".into(),
            description: String::new(),
            parent: Some(root),
            fork_of: None,
        };
        publish(&mut replica, &carol, Operation::FestivalCreate(sub));
        let frontier = replica
            .store()
            .heights()
            .map(|(log, seq)| FrontierLog {
                author: log.author,
                log_id: log.log_id,
                seq,
            })
            .collect();
        let fork = FestivalCreate {
            name: "Fair, the other one".into(),
            description: String::new(),
            parent: None,
            fork_of: Some(ForkOf {
                festival: root,
                frontier,
            }),
        };
        publish(&mut replica, &carol, Operation::FestivalCreate(fork));
        replica
    }

    /// Entries and payloads in the order a store keyed by (author, log, seq) returns them.
    fn stored(replica: &Replica) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut logs: Vec<_> = replica.store().heights().map(|(log, _)| log).collect();
        logs.sort();
        logs.into_iter()
            .flat_map(|log| replica.store().entries_after(log, 0))
            .map(|s| (s.entry.bytes().to_vec(), s.payload.clone()))
            .collect()
    }

    #[test]
    fn a_bulk_restore_gives_the_state_of_one_by_one() {
        let original = festival();
        let snapshot = original.state().snapshot();
        assert!(!snapshot.contexts.values().all(|c| c.conflicts.is_empty()));
        let entries = stored(&original);

        let mut one_by_one = Replica::new();
        for (entry, payload) in &entries {
            one_by_one.restore(entry, payload).expect("restores");
        }
        let mut bulk = Replica::new();
        let mut restoring = bulk.bulk_restore();
        for (entry, payload) in &entries {
            restoring.restore(entry, payload).expect("restores");
        }
        restoring.finish();
        assert_eq!(one_by_one.state().snapshot(), snapshot);
        assert_eq!(bulk.state().snapshot(), snapshot);
        assert_eq!(bulk.store(), original.store());

        // Applying goes on with immediate indexing after a bulk restore.
        let mut again = Replica::new();
        let (head, tail) = entries.split_at(entries.len() / 2);
        {
            let mut restoring = again.bulk_restore();
            for (entry, payload) in head {
                restoring.restore(entry, payload).expect("restores");
            }
        }
        for (entry, payload) in tail {
            again.restore(entry, payload).expect("restores");
        }
        assert_eq!(again.state().snapshot(), snapshot);
    }

    #[test]
    fn a_bulk_restore_that_fails_half_way_leaves_consistent_indexes() {
        let entries = stored(&festival());
        let cut = entries.len() * 2 / 3;
        let mut expected = Replica::new();
        for (entry, payload) in &entries[..cut] {
            expected.restore(entry, payload).expect("restores");
        }
        let mut bulk = Replica::new();
        let failed = (|| {
            let mut restoring = bulk.bulk_restore();
            for (i, (entry, payload)) in entries.iter().enumerate() {
                let mut payload = payload.clone();
                if i == cut {
                    payload[0] ^= 1;
                }
                restoring.restore(entry, &payload)?;
            }
            Ok::<(), IngestError>(())
        })();
        assert!(failed.is_err());
        assert_eq!(bulk.state().snapshot(), expected.state().snapshot());
    }
}
