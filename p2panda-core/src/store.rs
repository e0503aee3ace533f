//! An in-memory entry store: every log's verified entries and payloads, with the look-ups sync
//! needs (heights, entries after a sequence number, entries by hash, certificate paths).
//!
//! Entries arrive in order per log (p2panda replicates whole logs). Each one is verified against
//! its backlink and lipmaa entry before it is kept; nothing is kept half-way. Two different entries
//! at one (author, log, seq) are a fork: both are kept as evidence and the log is frozen.
//!
//! Entries this node verified before and kept in its own durable store come back through
//! [`MemoryStore::restore`], which checks everything except the signature.

use std::collections::hash_map::Entry as Slot;
use std::collections::HashMap;

use crate::hash::Hash;
use crate::identity::{KeyCache, KeyPair, PublicKey};
use crate::log::{Entry, LogError};

/// One author's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogKey {
    pub author: PublicKey,
    pub log_id: u64,
}

/// `log <id> of <author hex>`, for error messages.
impl std::fmt::Display for LogKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "log {} of {}", self.log_id, self.author)
    }
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
    #[error("fork evidence does not fit this store: {0}")]
    NotEvidence(&'static str),
    #[error("the store holds as many logs, or a log as many entries, as it can index")]
    Full,
}

/// What [`MemoryStore::insert`] did with a valid entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New,
    /// Already stored: costs nothing.
    Duplicate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Log {
    key: LogKey,
    /// `entries[i]` has seq `i + 1`.
    entries: Vec<StoredEntry>,
    /// The seq of the first fork seen; no entry is accepted past it.
    frozen_at: Option<u64>,
}

/// Where an entry is: its log's place in `logs` and its own in the log. Half the size of
/// `(usize, usize)` on 64-bit targets, and there is one per entry.
#[derive(Debug, Clone, Copy)]
struct Loc {
    log: u32,
    index: u32,
}

/// Which checks an entry gets on its way in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Checks {
    /// From elsewhere: payload, links and signature.
    All,
    /// The caller checked the payload already (as [`crate::replica::Replica`] does).
    AllButPayload,
    /// Verified when it first arrived, now read back from this node's own durable store: links
    /// only (the caller checked the payload).
    Restored,
}

/// A payload on its way into the store: borrowed ones are copied, owned ones moved in.
pub(crate) enum Payload<'a> {
    Borrowed(&'a [u8]),
    Owned(Vec<u8>),
}

impl Payload<'_> {
    fn as_slice(&self) -> &[u8] {
        match self {
            Payload::Borrowed(payload) => payload,
            Payload::Owned(payload) => payload,
        }
    }

    fn into_vec(self) -> Vec<u8> {
        match self {
            Payload::Borrowed(payload) => payload.to_vec(),
            Payload::Owned(payload) => payload,
        }
    }
}

/// Verified entries of many logs, in memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    /// Logs in the order this store first saw them.
    logs: Vec<Log>,
    log_index: HashMap<LogKey, u32>,
    /// Entries by the first eight bytes of their hash: 16 bytes a slot instead of the 100+ of a
    /// full hash and log key. An entry whose prefix is taken already goes to `by_hash_rest`
    /// (never by chance in practice, but an author can grind for it).
    by_hash: HashMap<u64, Loc>,
    by_hash_rest: HashMap<Hash, Loc>,
    forks: Vec<ForkEvidence>,
    /// Decompressed keys of the authors stored here.
    keys: KeyCache,
    len: usize,
}

// What is stored, not how it is indexed or in which order logs arrived.
impl PartialEq for MemoryStore {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len
            && self.forks == other.forks
            && self.logs.len() == other.logs.len()
            && self.logs.iter().all(|log| other.log(log.key) == Some(log))
    }
}

impl Eq for MemoryStore {}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decode, verify and store an entry with its payload. On any error nothing changes, except
    /// that fork evidence is recorded (and the log frozen) when the error is [`StoreError::Fork`].
    pub fn insert(&mut self, entry_bytes: &[u8], payload: &[u8]) -> Result<Inserted, StoreError> {
        let entry = Entry::decode_with_keys(entry_bytes, &self.keys)?;
        self.insert_entry(entry, payload)
    }

    /// As [`MemoryStore::insert`], for an entry already decoded.
    pub fn insert_entry(&mut self, entry: Entry, payload: &[u8]) -> Result<Inserted, StoreError> {
        self.insert_checked(entry, Payload::Borrowed(payload), Checks::All)
    }

    /// Store an entry **this node verified earlier** and kept in its own durable store (say,
    /// IndexedDB), when the node starts again. Everything [`MemoryStore::insert`] checks is
    /// checked (canonical bytes, payload, position in its log, links, forks) except the
    /// signature, the expensive part. Never use it for entries from anywhere else: a forged
    /// entry would be stored.
    pub fn restore(&mut self, entry_bytes: &[u8], payload: &[u8]) -> Result<Inserted, StoreError> {
        let entry = Entry::decode_with_keys(entry_bytes, &self.keys)?;
        entry.verify_payload(payload)?;
        self.insert_checked(entry, Payload::Borrowed(payload), Checks::Restored)
    }

    /// Record fork evidence again that this store recorded before (saved from
    /// [`MemoryStore::forks`]), freezing its log at that position. Restore the log's entries
    /// first: entries past a frozen position are refused. The evidence's signature is checked
    /// (forks are rare; evidence must be sound), and it must name the entry this store holds at
    /// that position, if it holds one. Recording the same evidence twice changes nothing.
    pub fn restore_fork(&mut self, evidence: &ForkEvidence) -> Result<(), StoreError> {
        let entry = Entry::decode_with_keys(&evidence.conflicting, &self.keys)?;
        let key = LogKey {
            author: entry.author(),
            log_id: entry.log_id(),
        };
        if key != evidence.log || entry.seq_num() != evidence.seq_num {
            return Err(StoreError::NotEvidence(
                "the entry is not at the position the evidence names",
            ));
        }
        if entry.hash() == evidence.kept {
            return Err(StoreError::NotEvidence(
                "the conflicting entry is the kept one",
            ));
        }
        if let Some(held) = self.get(key, entry.seq_num()) {
            if held.entry.hash() != evidence.kept {
                return Err(StoreError::NotEvidence(
                    "this store holds another entry than the kept one there",
                ));
            }
        }
        entry.verify_signature_with_keys(&self.keys)?;
        self.record_fork(
            key,
            evidence.seq_num,
            evidence.kept,
            evidence.conflicting.clone(),
        )
    }

    /// Store a decoded entry after the checks `checks` names, and those every entry gets: its
    /// position in its log, duplicates and forks.
    pub(crate) fn insert_checked(
        &mut self,
        entry: Entry,
        payload: Payload<'_>,
        checks: Checks,
    ) -> Result<Inserted, StoreError> {
        let key = LogKey {
            author: entry.author(),
            log_id: entry.log_id(),
        };
        let seq = entry.seq_num();
        // One look-up of the log serves every check below.
        let known = self.log_index.get(&key).copied();
        let log = known.and_then(|index| self.logs.get(index as usize));
        let entries = log.map_or(&[][..], |l| &l.entries[..]);
        let at = |seq: u64| Some(&entries.get(index_of(seq)?)?.entry);
        let height = entries.len() as u64;
        if let Some(existing) = index_of(seq).and_then(|i| entries.get(i)) {
            if existing.entry.hash() == entry.hash() {
                return Ok(Inserted::Duplicate);
            }
            // Only a validly signed conflicting entry is evidence; anything else is just invalid.
            entry.verify_signature_with_keys(&self.keys)?;
            let kept = existing.entry.hash();
            self.record_fork(key, seq, kept, entry.bytes().to_vec())?;
            return Err(StoreError::Fork { seq_num: seq });
        }
        if let Some(frozen_at) = log.and_then(|l| l.frozen_at) {
            return Err(StoreError::Frozen(frozen_at));
        }
        if seq != height + 1 {
            return Err(StoreError::SeqGap { height, got: seq });
        }
        let index = u32::try_from(height).map_err(|_| StoreError::Full)?;
        let (backlink, lipmaa) = (at(seq - 1), at(entry.lipmaa_seq()));
        match checks {
            Checks::All => {
                entry.verify_with_keys(Some(payload.as_slice()), backlink, lipmaa, &self.keys)?;
            }
            Checks::AllButPayload => {
                entry.verify_with_keys(None, backlink, lipmaa, &self.keys)?;
            }
            // Comparing two hashes costs nothing, and a damaged store shows here.
            Checks::Restored => entry.verify_links(backlink, lipmaa)?,
        }

        let log = match known {
            Some(log) => log,
            None => {
                // The author's first entry in this log; its other logs may be known already.
                self.keys.insert(key.author);
                self.log_slot(key)?
            }
        };
        let hash = entry.hash();
        self.logs[log as usize].entries.push(StoredEntry {
            entry,
            payload: payload.into_vec(),
        });
        self.len += 1;
        self.index_hash(hash, Loc { log, index });
        Ok(Inserted::New)
    }

    fn index_hash(&mut self, hash: Hash, loc: Loc) {
        match self.by_hash.entry(hash.prefix()) {
            Slot::Vacant(slot) => {
                slot.insert(loc);
            }
            Slot::Occupied(_) => {
                self.by_hash_rest.insert(hash, loc);
            }
        }
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

    fn record_fork(
        &mut self,
        log: LogKey,
        seq_num: u64,
        kept: Hash,
        conflicting: Vec<u8>,
    ) -> Result<(), StoreError> {
        let index = self.log_slot(log)?;
        let frozen = &mut self.logs[index as usize].frozen_at;
        *frozen = Some(frozen.map_or(seq_num, |f| f.min(seq_num)));
        if !self.forks.iter().any(|f| f.conflicting == conflicting) {
            self.forks.push(ForkEvidence {
                log,
                seq_num,
                kept,
                conflicting,
            });
        }
        Ok(())
    }

    fn log(&self, key: LogKey) -> Option<&Log> {
        let index = *self.log_index.get(&key)?;
        self.logs.get(index as usize)
    }

    /// The place of `key`'s log in `logs`, made when it is new.
    fn log_slot(&mut self, key: LogKey) -> Result<u32, StoreError> {
        if let Some(index) = self.log_index.get(&key) {
            return Ok(*index);
        }
        let index = u32::try_from(self.logs.len()).map_err(|_| StoreError::Full)?;
        self.logs.push(Log {
            key,
            entries: Vec::new(),
            frozen_at: None,
        });
        self.log_index.insert(key, index);
        Ok(index)
    }

    fn entry_at(&self, key: LogKey, seq: u64) -> Option<&Entry> {
        Some(&self.get(key, seq)?.entry)
    }

    fn at(&self, loc: Loc) -> Option<&StoredEntry> {
        self.logs
            .get(loc.log as usize)?
            .entries
            .get(loc.index as usize)
    }

    /// The decompressed keys of the authors stored here, for decoding and verifying their next
    /// entries without decompressing their keys again.
    pub fn keys(&self) -> &KeyCache {
        &self.keys
    }

    /// The latest sequence number of a log (0 when empty or unknown).
    pub fn height(&self, key: LogKey) -> u64 {
        self.log(key).map_or(0, |l| l.entries.len() as u64)
    }

    /// Every known log and its height, in the order this store first saw them.
    pub fn heights(&self) -> impl Iterator<Item = (LogKey, u64)> + '_ {
        self.logs
            .iter()
            .map(|log| (log.key, log.entries.len() as u64))
    }

    /// The entries of a log after sequence number `seq`, in order.
    pub fn entries_after(&self, key: LogKey, seq: u64) -> &[StoredEntry] {
        self.log(key)
            .and_then(|l| l.entries.get(usize::try_from(seq).ok()?..))
            .unwrap_or(&[])
    }

    /// The entry at a position of a log.
    pub fn get(&self, key: LogKey, seq: u64) -> Option<&StoredEntry> {
        self.log(key)?.entries.get(index_of(seq)?)
    }

    pub fn get_by_hash(&self, hash: &Hash) -> Option<&StoredEntry> {
        if let Some(stored) = self.by_hash.get(&hash.prefix()).and_then(|l| self.at(*l)) {
            if stored.entry.hash() == *hash {
                return Some(stored);
            }
        }
        self.at(*self.by_hash_rest.get(hash)?)
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
        self.log(key)?.frozen_at
    }

    /// Number of stored entries.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
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
    fn entries_whose_hash_prefix_is_taken_are_still_found() {
        let key_pair = KeyPair::generate();
        let mut store = MemoryStore::new();
        let first = store.publish(&key_pair, 0, b"first").unwrap().hash();
        let second = store.publish(&key_pair, 0, b"second").unwrap().hash();
        let first_loc = store.by_hash[&first.prefix()];
        let second_loc = store.by_hash[&second.prefix()];
        // As if another entry (here: `second`) held `first`'s prefix already, as an author
        // grinding for it could arrange: `first` goes to the overflow map.
        store.by_hash.clear();
        store.by_hash.insert(first.prefix(), second_loc);
        store.index_hash(first, first_loc);
        store.index_hash(second, second_loc);
        assert_eq!(store.by_hash_rest.len(), 1);
        assert_eq!(store.get_by_hash(&first).unwrap().payload, b"first");
        assert_eq!(store.get_by_hash(&second).unwrap().payload, b"second");
        let mut same_prefix = *first.as_bytes();
        same_prefix[63] ^= 1;
        assert!(store.get_by_hash(&Hash::from_array(same_prefix)).is_none());
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
