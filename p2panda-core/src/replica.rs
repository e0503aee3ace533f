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
