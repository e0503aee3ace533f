//! What a mailbox reads of the local logs: a [`Replica`], or a [`LogSnapshot`] of one handed
//! over (a browser's mailbox module runs apart from the node that holds the replica).

use crate::festival::Topic;
use crate::replica::Replica;
use crate::store::LogKey;

/// The local side of a mailbox's festival.
pub trait LocalLogs {
    /// The logs of `topic` held here, with their heights. A private festival's logs count even
    /// when this node cannot read them: it forwards them.
    fn logs_of(&self, topic: Topic) -> Vec<(LogKey, u64)>;
    /// The sequence number of the last entry of `log` held here (0: none).
    fn height(&self, log: LogKey) -> u64;
    /// The entries of `log` after `seq`, with their payloads, in order.
    fn entries_after(&self, log: LogKey, seq: u64) -> Vec<(&[u8], &[u8])>;
}

impl LocalLogs for Replica {
    fn logs_of(&self, topic: Topic) -> Vec<(LogKey, u64)> {
        self.store()
            .heights()
            .filter(|(log, _)| self.topic_of_log(*log) == Some(topic))
            .collect()
    }

    fn height(&self, log: LogKey) -> u64 {
        self.store().height(log)
    }

    fn entries_after(&self, log: LogKey, seq: u64) -> Vec<(&[u8], &[u8])> {
        self.store()
            .entries_after(log, seq)
            .iter()
            .map(|s| (s.entry.bytes(), s.payload.as_slice()))
            .collect()
    }
}

/// Entries with their payloads, in log order.
type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// One festival's logs as another part of the program described them: heights, and the entries
/// it was asked for ([`MailboxState::upload_needs`](super::MailboxState::upload_needs)).
#[derive(Debug, Clone, Default)]
pub struct LogSnapshot {
    heights: Vec<(LogKey, u64)>,
    /// Per log: the sequence number the entries follow, and the entries with payloads.
    entries: Vec<(LogKey, u64, Entries)>,
}

impl LogSnapshot {
    /// The festival's logs and their heights.
    pub fn new(heights: Vec<(LogKey, u64)>) -> Self {
        LogSnapshot {
            heights,
            entries: Vec::new(),
        }
    }

    /// The entries of `log` after `seq` (with payloads, in order).
    pub fn add_entries(&mut self, log: LogKey, seq: u64, entries: Entries) {
        self.entries.push((log, seq, entries));
    }

    /// `log` is held up to `height` now (say, after the node stored a downloaded bundle).
    pub fn set_height(&mut self, log: LogKey, height: u64) {
        match self.heights.iter_mut().find(|(l, _)| *l == log) {
            Some((_, h)) => *h = height,
            None => self.heights.push((log, height)),
        }
    }

    /// Drop the entries added, keeping the heights (once a push has sealed them).
    pub fn forget_entries(&mut self) {
        self.entries.clear();
    }
}

impl LocalLogs for LogSnapshot {
    fn logs_of(&self, _topic: Topic) -> Vec<(LogKey, u64)> {
        self.heights.clone()
    }

    fn height(&self, log: LogKey) -> u64 {
        self.heights
            .iter()
            .find(|(l, _)| *l == log)
            .map_or(0, |(_, height)| *height)
    }

    fn entries_after(&self, log: LogKey, seq: u64) -> Vec<(&[u8], &[u8])> {
        let Some((_, after, entries)) = self
            .entries
            .iter()
            .find(|(l, after, _)| *l == log && *after <= seq)
        else {
            return Vec::new();
        };
        let skip = usize::try_from(seq - after).unwrap_or(usize::MAX);
        entries
            .iter()
            .skip(skip)
            .map(|(entry, payload)| (entry.as_slice(), payload.as_slice()))
            .collect()
    }
}

/// The log that starts with the festival's creation: where its creator writes, and the only log
/// that may carry key shares (the keys of a private festival after a rotation).
pub fn creation_log(replica: &Replica, topic: Topic) -> Option<LogKey> {
    let created = replica.store().get_by_hash(&topic)?;
    Some(LogKey {
        author: created.entry.author(),
        log_id: created.entry.log_id(),
    })
}

/// One log of `logs`, as if it were the festival's only one.
///
/// For the mailboxes of a private festival's *older* keys: members who have not learned the
/// newest key yet still read those, so writers forward the creation log there (it carries the
/// key shares sealed to each member); once a member opens its share, it moves to the newest
/// key's mailbox. Other logs are not forwarded: a member removed by the rotation reads the old
/// mailboxes too, and learns no more from them than that the creator wrote (sealed) entries.
pub struct OneLog<'a, L> {
    pub logs: &'a L,
    pub log: LogKey,
}

impl<L: LocalLogs> LocalLogs for OneLog<'_, L> {
    fn logs_of(&self, topic: Topic) -> Vec<(LogKey, u64)> {
        self.logs
            .logs_of(topic)
            .into_iter()
            .filter(|(log, _)| *log == self.log)
            .collect()
    }

    fn height(&self, log: LogKey) -> u64 {
        self.logs.height(log)
    }

    fn entries_after(&self, log: LogKey, seq: u64) -> Vec<(&[u8], &[u8])> {
        self.logs.entries_after(log, seq)
    }
}
