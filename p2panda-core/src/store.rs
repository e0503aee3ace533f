//! An in-memory entry store: every log's verified entries and payloads, with the look-ups sync
//! needs (heights, entries after a sequence number, entries by hash, certificate paths).
//!
//! Entries arrive in order per log (p2panda replicates whole logs). Each one is verified against
//! its backlink and lipmaa entry before it is kept; nothing is kept half-way. Two different entries
//! at one (author, log, seq) are a fork: both are kept as evidence and the log is frozen.

use std::collections::HashMap;

use crate::hash::Hash;
use crate::identity::{KeyPair, PublicKey};
use crate::log::{Entry, LogError};

/// One author's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogKey {
    pub author: PublicKey,
    pub log_id: u64,
}

/// A verified entry with its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    pub entry: Entry,
    pub payload: Vec<u8>,
}

/// Proof that an author signed two different entries at one position of a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForkEvidence {
    pub log: LogKey,
    pub seq_num: u64,
    /// The entry this store had first.
    pub kept: Hash,
    /// The conflicting entry's canonical bytes (its signature verifies).
    pub conflicting: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Invalid(#[from] LogError),
    #[error("entry {got} does not follow this log's height {height}")]
    SeqGap { height: u64, got: u64 },
    #[error("fork: the author signed two different entries at seq {seq_num}; the log is frozen")]
    Fork { seq_num: u64 },
    #[error("log is frozen at seq {0} after a fork")]
    Frozen(u64),
}

/// What [`MemoryStore::insert`] did with a valid entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New,
    /// Already stored: costs nothing.
    Duplicate,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Log {
    /// `entries[i]` has seq `i + 1`.
    entries: Vec<StoredEntry>,
    /// The seq of the first fork seen; no entry is accepted past it.
    frozen_at: Option<u64>,
}

/// Verified entries of many logs, in memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryStore {
    logs: HashMap<LogKey, Log>,
    by_hash: HashMap<Hash, (LogKey, u64)>,
    forks: Vec<ForkEvidence>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decode, verify and store an entry with its payload. On any error nothing changes, except
    /// that fork evidence is recorded (and the log frozen) when the error is [`StoreError::Fork`].
    pub fn insert(&mut self, entry_bytes: &[u8], payload: &[u8]) -> Result<Inserted, StoreError> {
        let entry = Entry::decode(entry_bytes)?;
        self.insert_entry(entry, payload)
    }

    /// As [`MemoryStore::insert`], for an entry already decoded.
    pub fn insert_entry(&mut self, entry: Entry, payload: &[u8]) -> Result<Inserted, StoreError> {
        let key = LogKey {
            author: entry.author(),
            log_id: entry.log_id(),
        };
        let seq = entry.seq_num();
        let log = self.logs.get(&key);
        let height = log.map_or(0, |l| l.entries.len() as u64);
        if let Some(existing) = log.and_then(|l| l.entries.get(index_of(seq)?)) {
            if existing.entry.hash() == entry.hash() {
                return Ok(Inserted::Duplicate);
            }
            // Only a validly signed conflicting entry is evidence; anything else is just invalid.
            entry.verify_signature()?;
            let kept = existing.entry.hash();
            self.record_fork(key, seq, kept, entry.bytes().to_vec());
            return Err(StoreError::Fork { seq_num: seq });
        }
        if let Some(frozen_at) = log.and_then(|l| l.frozen_at) {
            return Err(StoreError::Frozen(frozen_at));
        }
        if seq != height + 1 {
            return Err(StoreError::SeqGap { height, got: seq });
        }
        let backlink = self.entry_at(key, seq - 1);
        let lipmaa = self.entry_at(key, entry.lipmaa_seq());
        entry.verify(Some(payload), backlink, lipmaa)?;

        self.by_hash.insert(entry.hash(), (key, seq));
        self.logs.entry(key).or_default().entries.push(StoredEntry {
            entry,
            payload: payload.to_vec(),
        });
        Ok(Inserted::New)
    }

    /// Sign `payload` as the next entry of `key_pair`'s log `log_id`, without storing it.
    pub fn next_entry(
        &self,
        key_pair: &KeyPair,
        log_id: u64,
        payload: &[u8],
    ) -> Result<Entry, StoreError> {
        let key = LogKey {
            author: key_pair.public_key(),
            log_id,
        };
        if let Some(frozen_at) = self.frozen_at(key) {
            return Err(StoreError::Frozen(frozen_at));
        }
        let height = self.height(key);
        let previous = self.entry_at(key, height);
        let lipmaa = self.entry_at(key, crate::log::lipmaa_seq(height + 1));
        Ok(Entry::publish(key_pair, log_id, payload, previous, lipmaa)?)
    }

    /// Publish `payload` as the next entry of `key_pair`'s log `log_id`, and store it.
    pub fn publish(
        &mut self,
        key_pair: &KeyPair,
        log_id: u64,
        payload: &[u8],
    ) -> Result<Entry, StoreError> {
        let entry = self.next_entry(key_pair, log_id, payload)?;
        self.insert_entry(entry.clone(), payload)?;
        Ok(entry)
    }

    fn record_fork(&mut self, log: LogKey, seq_num: u64, kept: Hash, conflicting: Vec<u8>) {
        let frozen = &mut self.logs.entry(log).or_default().frozen_at;
        *frozen = Some(frozen.map_or(seq_num, |f| f.min(seq_num)));
        if !self.forks.iter().any(|f| f.conflicting == conflicting) {
            self.forks.push(ForkEvidence {
                log,
                seq_num,
                kept,
                conflicting,
            });
        }
    }

    fn entry_at(&self, key: LogKey, seq: u64) -> Option<&Entry> {
        let index = index_of(seq)?;
        Some(&self.logs.get(&key)?.entries.get(index)?.entry)
    }

    /// The latest sequence number of a log (0 when empty or unknown).
    pub fn height(&self, key: LogKey) -> u64 {
        self.logs.get(&key).map_or(0, |l| l.entries.len() as u64)
    }

    /// Every known log and its height.
    pub fn heights(&self) -> impl Iterator<Item = (LogKey, u64)> + '_ {
        self.logs
            .iter()
            .map(|(key, log)| (*key, log.entries.len() as u64))
    }

    /// The entries of a log after sequence number `seq`, in order.
    pub fn entries_after(&self, key: LogKey, seq: u64) -> &[StoredEntry] {
        self.logs
            .get(&key)
            .and_then(|l| l.entries.get(usize::try_from(seq).ok()?..))
            .unwrap_or(&[])
    }

    /// The entry at a position of a log.
    pub fn get(&self, key: LogKey, seq: u64) -> Option<&StoredEntry> {
        let index = index_of(seq)?;
        self.logs.get(&key)?.entries.get(index)
    }

    pub fn get_by_hash(&self, hash: &Hash) -> Option<&StoredEntry> {
        let (key, seq) = self.by_hash.get(hash)?;
        self.get(*key, *seq)
    }

    /// The sequence numbers of the entries that link `seq` back to the log's first entry along
    /// lipmaa links (Bamboo's certificate path), from `seq` down to 1: O(log seq) entries that let
    /// a partial replica verify entry `seq` against the start of the log.
    pub fn certificate_path(&self, key: LogKey, seq: u64) -> Option<Vec<u64>> {
        if seq == 0 || seq > self.height(key) {
            return None;
        }
        let mut path = vec![seq];
        let mut current = seq;
        while current > 1 {
            current = crate::log::lipmaa_seq(current);
            path.push(current);
        }
        Some(path)
    }

    /// Evidence of every fork seen.
    pub fn forks(&self) -> &[ForkEvidence] {
        &self.forks
    }

    /// Whether a log was frozen by a fork, and where.
    pub fn frozen_at(&self, key: LogKey) -> Option<u64> {
        self.logs.get(&key)?.frozen_at
    }

    /// Number of stored entries.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }
}

/// Where entry `seq` sits in a log's vector; `None` for 0 and for sequence numbers beyond the
/// address space (on wasm32, `usize` is 32 bits).
fn index_of(seq: u64) -> Option<usize> {
    usize::try_from(seq).ok()?.checked_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_store_and_look_up() {
        let key_pair = KeyPair::generate();
        let mut store = MemoryStore::new();
        let mut hashes = Vec::new();
        for i in 0..20u8 {
            hashes.push(store.publish(&key_pair, 3, &[i; 10]).unwrap().hash());
        }
        let key = LogKey {
            author: key_pair.public_key(),
            log_id: 3,
        };
        assert_eq!(store.height(key), 20);
        assert_eq!(store.entries_after(key, 17).len(), 3);
        assert_eq!(store.entries_after(key, 17)[0].entry.seq_num(), 18);
        assert_eq!(store.get_by_hash(&hashes[4]).unwrap().payload, vec![4; 10]);
        // Each step of the path is the link its predecessor names, down to the first entry.
        let path = store.certificate_path(key, 20).unwrap();
        assert_eq!(path, vec![20, 19, 18, 17, 13, 4, 1]);
        for pair in path.windows(2) {
            let from = &store.get(key, pair[0]).unwrap().entry;
            let to = store.get(key, pair[1]).unwrap().entry.hash();
            assert_eq!(from.lipmaa_link().or(from.backlink()), Some(to));
        }
        assert_eq!(store.certificate_path(key, 21), None);
    }

    #[test]
    fn replaying_a_log_into_another_store_verifies_and_deduplicates() {
        let key_pair = KeyPair::generate();
        let mut source = MemoryStore::new();
        for i in 0..10u8 {
            source.publish(&key_pair, 0, &[i]).unwrap();
        }
        let key = LogKey {
            author: key_pair.public_key(),
            log_id: 0,
        };
        let mut replica = MemoryStore::new();
        for stored in source.entries_after(key, 0) {
            let inserted = replica.insert(stored.entry.bytes(), &stored.payload);
            assert_eq!(inserted, Ok(Inserted::New));
        }
        let first = source.get(key, 1).unwrap();
        assert_eq!(
            replica.insert(first.entry.bytes(), &first.payload),
            Ok(Inserted::Duplicate)
        );
        assert_eq!(replica, source);
    }
}
