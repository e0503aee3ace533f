//! Which of a replica's entries and fork evidence are in the journal, and appending the rest in
//! the order the replica holds them (each log from its lowest seq up), so the journal always
//! reads back log by log in order.

use std::collections::HashMap;

use p2panda_core::hash::Hash;
use p2panda_core::replica::Replica;
use p2panda_core::store::LogKey;
use p2panda_core::sync::Event;

use super::journal::{Journal, JournalError, Ticket};
use super::record::Record;

/// What of a replica the journal holds. Call it with the replica locked (as the node's lock
/// does), so nothing is stored between looking and appending.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    heights: HashMap<LogKey, u64>,
    entries: usize,
    forks: usize,
}

impl Recorder {
    /// Everything `replica` holds counts as recorded (it was just restored from the journal).
    pub fn new(replica: &Replica) -> Self {
        let store = replica.store();
        Recorder {
            heights: store.heights().collect(),
            entries: store.len(),
            forks: store.forks().len(),
        }
    }

    /// Entries recorded so far.
    pub fn entries(&self) -> usize {
        self.entries
    }

    /// Appends `log`'s entries above what is recorded of it; the last ticket, if any.
    pub fn log(
        &mut self,
        replica: &Replica,
        log: LogKey,
        journal: &Journal,
    ) -> Result<Option<Ticket>, JournalError> {
        let recorded = self.heights.get(&log).copied().unwrap_or(0);
        let mut last = None;
        for stored in replica.store().entries_after(log, recorded) {
            let ticket = journal.append_with(true, || Record::Entry {
                entry: stored.entry.bytes().to_vec(),
                payload: stored.payload.clone(),
            })?;
            last = Some(ticket);
            self.heights.insert(log, stored.entry.seq_num());
            self.entries += 1;
        }
        Ok(last)
    }

    /// Appends what the events of one received frame stored, then anything else not recorded
    /// (a frame that failed half-way stores its first entries without reporting them).
    pub fn after_events(
        &mut self,
        replica: &Replica,
        events: &[Event],
        journal: &Journal,
    ) -> Result<Option<Ticket>, JournalError> {
        let mut last = None;
        for event in events {
            if let Event::Stored { id, .. } = event {
                last = self.stored(replica, id, journal)?.or(last);
            }
        }
        Ok(self.catch_up(replica, journal)?.or(last))
    }

    /// Appends the entry `id` (just stored) and whatever precedes it in its log unrecorded.
    pub fn stored(
        &mut self,
        replica: &Replica,
        id: &Hash,
        journal: &Journal,
    ) -> Result<Option<Ticket>, JournalError> {
        match replica.store().get_by_hash(id) {
            Some(stored) => {
                let log = LogKey {
                    author: stored.entry.author(),
                    log_id: stored.entry.log_id(),
                };
                self.log(replica, log, journal)
            }
            None => Ok(None),
        }
    }

    /// Appends every entry and fork evidence of `replica` that is not recorded yet. Cheap when
    /// there is nothing to do; walks the logs otherwise.
    pub fn catch_up(
        &mut self,
        replica: &Replica,
        journal: &Journal,
    ) -> Result<Option<Ticket>, JournalError> {
        let store = replica.store();
        let mut last = None;
        if self.entries != store.len() {
            let grown: Vec<LogKey> = store
                .heights()
                .filter(|(log, height)| self.heights.get(log).copied().unwrap_or(0) < *height)
                .map(|(log, _)| log)
                .collect();
            for log in grown {
                last = self.log(replica, log, journal)?.or(last);
            }
        }
        for evidence in store.forks().iter().skip(self.forks) {
            last = Some(journal.append(Record::Fork(evidence.clone()))?);
            self.forks += 1;
        }
        Ok(last)
    }
}
