//! Restoring a replica from the store while reading it: batch by batch, with the next batch's
//! read under way while the current one is restored, and without a list of all entries.

use p2panda_core::replica::Replica;

use super::error::StoreError;
use super::reader::{Clock, ReadTimings};
use super::Store;

/// Where a [`Store::restore_into`] spent its time, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RestoreTimings {
    /// Reading: waiting for IndexedDB and copying values into wasm memory.
    pub read: ReadTimings,
    /// `Replica::restore` of every entry: decoding, checks, the store and applying to views.
    pub restore_ms: f64,
    /// Bringing the views' indexes up to date once, at the end.
    pub index_ms: f64,
}

impl Store {
    /// Restore every stored entry into `replica`, without checking signatures again: only
    /// for entries this node verified before it stored them, which is what this store holds.
    ///
    /// Each batch is restored while IndexedDB reads the next (see [`Store::read_entries`]),
    /// and the views are indexed once at the end (`Replica::bulk_restore`). An entry that does
    /// not restore (bytes that do not decode, a broken log) gives [`StoreError::Corrupt`]; what
    /// was restored before it stays in `replica`.
    pub async fn restore_into(&self, replica: &mut Replica) -> Result<RestoreTimings, StoreError> {
        let clock = Clock::new();
        let mut reader = self.read_entries()?;
        let mut restoring = replica.bulk_restore();
        let mut restore_ms = 0.0;
        while let Some(batch) = reader.next_batch().await? {
            let started = clock.now();
            for stored in batch.iter() {
                restoring
                    .restore(stored.entry, stored.payload)
                    .map_err(|e| {
                        StoreError::Corrupt(format!(
                            "stored entry (log {}, seq {}) does not restore: {e}",
                            stored.log_id, stored.seq
                        ))
                    })?;
            }
            restore_ms += clock.now() - started;
        }
        let started = clock.now();
        restoring.finish();
        Ok(RestoreTimings {
            read: reader.timings(),
            restore_ms,
            index_ms: clock.now() - started,
        })
    }
}
