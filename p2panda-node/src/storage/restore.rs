//! Rebuilding the node's replica and festivals from its journal.
//!
//! Entries come back through [`Replica::bulk_restore`]: this node verified them when they
//! arrived and their checksums hold, so signatures are not checked again (the links, payload
//! hashes and log positions still are). Fork evidence is applied after the entries, in order.

use std::collections::BTreeSet;
use std::fmt;
use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use p2panda_core::festival::Topic;
use p2panda_core::replica::Replica;
use p2panda_core::store::ForkEvidence;

use super::reader::{Damage, JournalReader, ReadError};
use super::record::Record;

/// What a restart found in the journal.
#[derive(Debug, Clone, Default)]
pub struct RestoreReport {
    /// Sound records read.
    pub records: u64,
    /// Entries the replica holds after the restore.
    pub entries: usize,
    /// Entry or fork records the replica refused (a sound record that does not fit, e.g. after
    /// a log it continues was lost); they are left in the file but not used.
    pub refused: u64,
    /// Why the first refused record was refused.
    pub first_refusal: Option<String>,
    /// Fork evidence records applied.
    pub forks: usize,
    /// Where and how the journal was damaged, if it was.
    pub damage: Option<Damage>,
    /// Bytes cut off the end of the journal (the damaged record and everything after it).
    pub dropped_bytes: u64,
    /// Where the cut-off bytes were saved, for inspection.
    pub saved_to: Option<PathBuf>,
    /// The journal's sound length after the restore.
    pub journal_len: u64,
    /// How long reading and restoring took.
    pub elapsed: Duration,
}

impl fmt::Display for RestoreReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "restored {} entries from {} records ({} bytes) in {} ms",
            self.entries,
            self.records,
            self.journal_len,
            self.elapsed.as_millis()
        )?;
        if self.forks > 0 {
            write!(f, ", {} forked logs", self.forks)?;
        }
        if let Some(damage) = &self.damage {
            write!(
                f,
                "; {damage}: dropped {} bytes from the end",
                self.dropped_bytes
            )?;
            if let Some(saved) = &self.saved_to {
                write!(f, " (saved to {})", saved.display())?;
            }
        }
        if self.refused > 0 {
            let why = self.first_refusal.as_deref().unwrap_or("?");
            write!(f, "; {} records refused (first: {why})", self.refused)?;
        }
        Ok(())
    }
}

/// The state read back from a journal.
pub struct Replayed {
    /// Every sound entry and fork evidence, restored.
    pub replica: Replica,
    /// The festivals joined and not left since.
    pub festivals: BTreeSet<Topic>,
    /// What was read, refused and found damaged.
    pub report: RestoreReport,
}

fn refuse(report: &mut RestoreReport, why: String) {
    report.refused += 1;
    report.first_refusal.get_or_insert(why);
}

/// Reads every sound record of `reader` into a new replica and festival set. A damaged frame
/// ends the reading: it and what follows are reported in [`RestoreReport::damage`] (the caller
/// cuts them off). I/O errors and a foreign file are errors.
pub fn replay<R: Read>(mut reader: JournalReader<R>) -> Result<Replayed, ReadError> {
    let started = Instant::now();
    let mut replica = Replica::new();
    let mut festivals = BTreeSet::new();
    let mut forks: Vec<ForkEvidence> = Vec::new();
    let mut report = RestoreReport::default();
    {
        let mut restoring = replica.bulk_restore();
        loop {
            let record = match reader.next_record() {
                Ok(Some(record)) => record,
                Ok(None) => break,
                Err(ReadError::Damaged(damage)) => {
                    report.damage = Some(damage);
                    break;
                }
                Err(other) => return Err(other),
            };
            report.records += 1;
            match record {
                Record::Entry { entry, payload } => {
                    if let Err(error) = restoring.restore(&entry, &payload) {
                        refuse(&mut report, error.to_string());
                    }
                }
                Record::Fork(evidence) => forks.push(evidence),
                Record::Join(topic) => {
                    festivals.insert(topic);
                }
                Record::Leave(topic) => {
                    festivals.remove(&topic);
                }
            }
        }
        restoring.finish();
    }
    for evidence in &forks {
        match replica.restore_fork_evidence(evidence) {
            Ok(()) => report.forks += 1,
            Err(error) => refuse(&mut report, error.to_string()),
        }
    }
    report.entries = replica.store().len();
    report.journal_len = reader.offset();
    report.elapsed = started.elapsed();
    Ok(Replayed {
        replica,
        festivals,
        report,
    })
}
