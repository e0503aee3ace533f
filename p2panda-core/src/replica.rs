//! A replica: the entry store and the materialized state kept in step. It is what a node (browser,
//! native peer, simulation) holds: entries come in (from sync or local publishing), are verified,
//! checked against the schema and their log, stored, then applied.

use crate::festival::{Op, Outcome, Rejection, State};
use crate::hash::Hash;
use crate::identity::KeyPair;
use crate::log::Entry;
use crate::operation::{Operation, OperationError};
use crate::store::{Checks, ForkEvidence, Inserted, MemoryStore, Payload, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("invalid operation: {0}")]
    Operation(#[from] OperationError),
    #[error("operation does not fit its log: {0}")]
    Log(Rejection),
}

impl From<crate::log::LogError> for IngestError {
    fn from(error: crate::log::LogError) -> Self {
        IngestError::Store(StoreError::Invalid(error))
    }
}

/// An entry decoded and checked by [`Replica::prepare`], not yet stored.
#[derive(Debug, Clone)]
pub struct Prepared {
    entry: Entry,
    payload: Vec<u8>,
    op: Op,
}

impl Prepared {
    pub fn entry(&self) -> &Entry {
        &self.entry
    }

    pub fn op(&self) -> &Op {
        &self.op
    }
}

/// Entries and the state made from them.
#[derive(Debug, Clone, Default)]
pub struct Replica {
    store: MemoryStore,
    state: State,
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

    /// Take in an entry and its payload from elsewhere. On error nothing is stored or applied
    /// (except that a fork is recorded as evidence by the store).
    pub fn ingest(&mut self, entry_bytes: &[u8], payload: &[u8]) -> Result<Outcome, IngestError> {
        let prepared = self.prepare(entry_bytes, payload)?;
        self.commit(prepared)
    }

    /// The checks of [`Replica::ingest`] that need no log context: decode the entry and the
    /// operation, and check the payload and the operation's place in its log. Lets a caller (sync)
    /// look at the entry before [`Replica::commit`] stores it.
    pub fn prepare(&self, entry_bytes: &[u8], payload: &[u8]) -> Result<Prepared, IngestError> {
        let entry = Entry::decode_with_keys(entry_bytes, self.store.keys())?;
        entry.verify_payload(payload)?;
        let op = Op {
            id: entry.hash(),
            author: entry.author(),
            log_id: entry.log_id(),
            seq: entry.seq_num(),
            operation: Operation::decode(payload)?,
        };
        self.state
            .check_log_position(&op)
            .map_err(IngestError::Log)?;
        Ok(Prepared {
            entry,
            payload: payload.to_vec(),
            op,
        })
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
        let Prepared { entry, payload, op } = prepared;
        match self
            .store
            .insert_checked(entry, Payload::Owned(payload), checks)?
        {
            Inserted::Duplicate => Ok(Outcome::Duplicate),
            Inserted::New => Ok(self.state.apply(op)),
        }
    }

    /// Load an entry **this node verified earlier** and kept in its own durable store (IndexedDB
    /// in a browser), when the node starts again. Only for that: the signature is not checked,
    /// so an entry from anywhere else could be a forgery. Everything else [`Replica::ingest`]
    /// checks still is, cheaply: canonical bytes (a damaged database shows), the payload hash, the
    /// operation, the entry's place in its log (seq = height + 1), its links to the entries before
    /// it, duplicates and forks. Restore each log in order; logs in any order.
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
    pub fn publish(
        &mut self,
        key_pair: &KeyPair,
        operation: &Operation,
    ) -> Result<(Hash, Outcome), IngestError> {
        let payload = operation.encode()?;
        let author = key_pair.public_key();
        let log_id = operation
            .festival()
            .and_then(|festival| self.state.log_of(author, festival))
            .unwrap_or_else(|| self.next_log_id(key_pair));
        let entry = self.store.next_entry(key_pair, log_id, &payload)?;
        let id = entry.hash();
        let outcome = self.ingest(entry.bytes(), &payload)?;
        Ok((id, outcome))
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
