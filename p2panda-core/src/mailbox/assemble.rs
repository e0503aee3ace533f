//! Taking downloaded bundles into a replica: each log in order, whatever order bundles arrive
//! in; a bundle that starts past what the replica holds waits for the bundles before it.

use std::collections::BTreeMap;

use crate::festival::{Outcome, Topic};
use crate::hash::Hash;
use crate::replica::{IngestError, Replica};
use crate::store::LogKey;

use super::codec::Bundle;
use super::logs::LocalLogs;

/// Why an entry from a bundle was not stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    /// Verification failed (forged, broken chain, bad operation, fork): as from any peer.
    #[error(transparent)]
    Invalid(#[from] IngestError),
    /// A valid entry of another festival: a mailbox carries its own festival only, as sync does.
    #[error("the entry belongs to another festival than the mailbox's")]
    OutsideFestival,
    /// The bundle says the entry is at another place (log, sequence number) than it is.
    #[error("the entry is not where its bundle puts it")]
    Misplaced,
}

/// An entry refused, and where it claimed to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub log: LogKey,
    pub seq: u64,
    pub error: EntryError,
}

/// What [`Assembler::ingest`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ingested {
    /// Entries stored (applied, waiting for what they refer to, or kept as rejected operations),
    /// by hash: a node that keeps entries elsewhere too (a browser's IndexedDB) saves these.
    pub stored: Vec<Hash>,
    /// Entries the replica had already.
    pub duplicates: usize,
    /// Entries refused; the rest of their bundle is skipped, since it cannot follow them.
    pub rejected: Vec<Rejected>,
}

/// Downloaded bundles not yet taken in.
#[derive(Debug)]
pub struct Assembler {
    topic: Topic,
    /// By log and first sequence number (and arrival, as two bundles may start at one place).
    pending: BTreeMap<(LogKey, u64, u64), Bundle>,
    arrivals: u64,
}

impl Assembler {
    /// For the mailbox of `topic`: entries of other festivals are refused.
    pub fn new(topic: Topic) -> Self {
        Assembler {
            topic,
            pending: BTreeMap::new(),
            arrivals: 0,
        }
    }

    /// A downloaded bundle, to be taken in by the next [`ingest`](Self::ingest) that can.
    pub fn add(&mut self, bundle: Bundle) {
        self.arrivals += 1;
        self.pending
            .insert((bundle.log, bundle.first, self.arrivals), bundle);
    }

    /// Bundles waiting for the ones before them.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Ingest every bundle that continues what `replica` holds, log by log in sequence order.
    /// Each entry is verified by [`Replica::ingest`]'s checks; one refused ends its bundle.
    pub fn ingest(&mut self, replica: &mut Replica) -> Ingested {
        let mut done = Ingested::default();
        while let Some(bundle) = self.next_ready(replica) {
            let one = ingest_bundle(replica, self.topic, &bundle);
            done.stored.extend(one.stored);
            done.duplicates += one.duplicates;
            done.rejected.extend(one.rejected);
        }
        done
    }

    /// Take out the first bundle (by log, then sequence number) that continues what `logs`
    /// hold, for [`ingest_bundle`] where the replica is elsewhere. `None`: every bundle left
    /// waits for one before it.
    pub fn next_ready(&mut self, logs: &impl LocalLogs) -> Option<Bundle> {
        let key = *self
            .pending
            .keys()
            .find(|(log, first, _)| *first <= logs.height(*log) + 1)?;
        self.pending.remove(&key)
    }
}

/// Ingest `bundle` (of the mailbox of `topic`) into `replica`: the entries past what it holds,
/// each verified by [`Replica::ingest`]'s checks; one refused ends the bundle.
pub fn ingest_bundle(replica: &mut Replica, topic: Topic, bundle: &Bundle) -> Ingested {
    let mut done = Ingested::default();
    let (log, height) = (bundle.log, replica.store().height(bundle.log));
    for (seq, (entry, payload)) in (bundle.first..).zip(&bundle.entries) {
        // Entries held already are skipped unread: overlap is rare (plans skip it), and a fork
        // is found by sync, which compares heads.
        if seq <= height {
            continue;
        }
        match ingest_one(replica, topic, log, seq, entry, payload) {
            Ok((Outcome::Duplicate, _)) => done.duplicates += 1,
            Ok((_, id)) => done.stored.push(id),
            Err(error) => {
                done.rejected.push(Rejected { log, seq, error });
                break;
            }
        }
    }
    done
}

fn ingest_one(
    replica: &mut Replica,
    topic: Topic,
    log: LogKey,
    seq: u64,
    entry: &[u8],
    payload: &[u8],
) -> Result<(Outcome, Hash), EntryError> {
    let prepared = replica.prepare(entry, payload)?;
    let id = prepared.entry().hash();
    if (prepared.log(), prepared.seq()) != (log, seq) {
        return Err(EntryError::Misplaced);
    }
    let found = replica.topic_of_prepared(&prepared);
    if found.is_some_and(|t| t != topic) {
        // A forged festival creation names a festival no one wrote: report the forgery.
        prepared
            .entry()
            .verify_signature()
            .map_err(IngestError::from)?;
        return Err(EntryError::OutsideFestival);
    }
    Ok((replica.commit(prepared)?, id))
}
