//! Helpers for native multi-peer tests of p2panda.

pub mod sim;
pub mod workload;

use p2panda_core::replica::{IngestError, Replica};

/// Copy into `to` every entry of `from` that `to` lacks, log by log and in order, as a sync
/// session would. Returns how many entries were new to `to`.
pub fn pull(to: &mut Replica, from: &Replica) -> Result<usize, IngestError> {
    let mut copied = 0;
    let logs: Vec<_> = from.store().heights().collect();
    for (log, _) in logs {
        let have = to.store().height(log);
        for stored in from.store().entries_after(log, have) {
            to.ingest(stored.entry.bytes(), &stored.payload)?;
            copied += 1;
        }
    }
    Ok(copied)
}
