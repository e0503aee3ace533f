//! The journal handle: records go in from any thread, a writer thread appends them to the file
//! and makes them durable in groups (one `fdatasync` for everything that queued up while the
//! previous one ran), and [`Journal::wait`] resolves once a record is durable.
//!
//! A journal without a file ([`Journal::memory`]) counts records as durable at once, so the
//! node runs the same code with and without `--data`.

use std::fs::File;
use std::io::Write;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use tokio::sync::watch;

use super::mirror::{Committed, Mirror};
use super::record::Record;

/// Names a record appended in this run: record `n` (from 1) is durable once
/// [`Durable::records`] reaches `n`.
pub type Ticket = u64;

/// A group commit takes at most this many bytes of records; the rest wait for the next.
const MAX_BATCH: usize = 4 * 1024 * 1024;

/// How far the journal is durable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Durable {
    /// Records of this run that are durable.
    pub records: Ticket,
    /// Entries durable in all: those restored at the start and those appended since.
    pub entries: u64,
    /// Why the journal stopped, if writing or syncing failed. Nothing after that is durable.
    pub failed: Option<String>,
}

/// Why a record was not made durable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JournalError {
    #[error("the journal is closed")]
    Closed,
    #[error("the journal cannot be written: {0}")]
    Failed(String),
}

/// Appends records and tells when they are durable. Cloning gives another handle to the same
/// journal.
#[derive(Clone)]
pub struct Journal {
    shared: Arc<Shared>,
}

struct Shared {
    appender: Mutex<Appender>,
    durable: watch::Sender<Durable>,
    writer: Mutex<Option<JoinHandle<()>>>,
    /// The data directory's lock, held for as long as the journal lives.
    _lock: Option<File>,
}

struct Appender {
    appended: Ticket,
    sink: Sink,
}

enum Sink {
    Memory,
    Disk(Sender<Record>),
    Closed,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks; the data stays consistent if something did.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Journal {
    /// A journal that keeps nothing: every record counts as durable at once. `entries` is what
    /// the node holds at the start.
    pub fn memory(entries: u64) -> Self {
        Self::with_sink(Sink::Memory, entries, None)
    }

    /// A journal appending to `file` (positioned at its end, `offset`), holding `lock`.
    pub(crate) fn disk(
        file: File,
        offset: u64,
        entries: u64,
        lock: File,
        mut mirror: Option<Box<dyn Mirror>>,
    ) -> std::io::Result<Self> {
        let (sender, receiver) = mpsc::channel();
        let journal = Self::with_sink(Sink::Disk(sender), entries, Some(lock));
        let durable = journal.shared.durable.clone();
        if let Some(mirror) = mirror.as_mut() {
            mirror.started(offset);
        }
        let handle = std::thread::Builder::new()
            .name("journal-writer".into())
            .spawn(move || write_loop(file, offset, receiver, durable, mirror))?;
        *lock_writer(&journal.shared) = Some(handle);
        Ok(journal)
    }

    fn with_sink(sink: Sink, entries: u64, lock_file: Option<File>) -> Self {
        let (durable, _) = watch::channel(Durable {
            entries,
            ..Durable::default()
        });
        Journal {
            shared: Arc::new(Shared {
                appender: Mutex::new(Appender { appended: 0, sink }),
                durable,
                writer: Mutex::new(None),
                _lock: lock_file,
            }),
        }
    }

    /// Whether records go to a file (else they are only counted).
    pub fn is_persistent(&self) -> bool {
        matches!(lock(&self.shared.appender).sink, Sink::Disk(_))
    }

    /// Queues a record; it is durable once [`Journal::wait`] on the ticket returns. Records are
    /// written in the order of their tickets.
    pub fn append(&self, record: Record) -> Result<Ticket, JournalError> {
        let is_entry = matches!(record, Record::Entry { .. });
        self.append_with(is_entry, || record)
    }

    /// As [`Journal::append`], building the record only if it is written anywhere (a memory
    /// journal only counts it).
    pub fn append_with(
        &self,
        is_entry: bool,
        record: impl FnOnce() -> Record,
    ) -> Result<Ticket, JournalError> {
        if let Some(why) = &self.shared.durable.borrow().failed {
            return Err(JournalError::Failed(why.clone()));
        }
        let mut appender = lock(&self.shared.appender);
        let ticket = appender.appended + 1;
        match &appender.sink {
            Sink::Memory => self.shared.durable.send_modify(|durable| {
                durable.records = ticket;
                durable.entries += u64::from(is_entry);
            }),
            Sink::Disk(sender) => {
                if sender.send(record()).is_err() {
                    // The writer stopped: it failed (and said why) or the journal was closed.
                    let why = self.shared.durable.borrow().failed.clone();
                    return Err(why.map_or(JournalError::Closed, JournalError::Failed));
                }
            }
            Sink::Closed => return Err(JournalError::Closed),
        }
        appender.appended = ticket;
        Ok(ticket)
    }

    /// The last ticket handed out.
    pub fn appended(&self) -> Ticket {
        lock(&self.shared.appender).appended
    }

    /// How far the journal is durable now.
    pub fn durable(&self) -> Durable {
        self.shared.durable.borrow().clone()
    }

    /// Whether every record up to `ticket` is durable.
    pub fn is_durable(&self, ticket: Ticket) -> bool {
        self.shared.durable.borrow().records >= ticket
    }

    /// Changes of [`Journal::durable`] from now on.
    pub fn subscribe(&self) -> watch::Receiver<Durable> {
        self.shared.durable.subscribe()
    }

    /// Resolves once the record of `ticket` (and every one before it) is durable, or with the
    /// reason it never will be.
    pub async fn wait(&self, ticket: Ticket) -> Result<(), JournalError> {
        let mut durable = self.subscribe();
        let durable = durable
            .wait_for(|d| d.records >= ticket || d.failed.is_some())
            .await
            .map_err(|_| JournalError::Closed)?;
        match &durable.failed {
            _ if durable.records >= ticket => Ok(()),
            Some(why) => Err(JournalError::Failed(why.clone())),
            None => Err(JournalError::Closed),
        }
    }

    /// Takes no more records, lets the writer finish what is queued and waits for it.
    pub async fn close(&self) -> Result<(), JournalError> {
        lock(&self.shared.appender).sink = Sink::Closed;
        let writer = lock_writer(&self.shared).take();
        if let Some(writer) = writer {
            // The writer ends once its queue is empty and every sender is gone.
            let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        }
        match self.durable().failed {
            Some(why) => Err(JournalError::Failed(why)),
            None => Ok(()),
        }
    }
}

fn lock_writer(shared: &Shared) -> MutexGuard<'_, Option<JoinHandle<()>>> {
    lock(&shared.writer)
}

/// The writer thread: takes whatever is queued (up to [`MAX_BATCH`]), appends it with one write
/// and one `fdatasync`, then reports it durable. Stops at the first failure: after a failed
/// sync the kernel may have dropped the pages, so nothing later could be trusted.
fn write_loop(
    mut file: File,
    mut offset: u64,
    records: Receiver<Record>,
    durable: watch::Sender<Durable>,
    mut mirror: Option<Box<dyn Mirror>>,
) {
    let mut batch = Vec::with_capacity(64 * 1024);
    while let Ok(first) = records.recv() {
        batch.clear();
        let (mut count, mut entries) = (0u64, 0u64);
        let mut add = |record: Record, batch: &mut Vec<u8>| {
            entries += u64::from(matches!(record, Record::Entry { .. }));
            count += 1;
            record.encode_into(batch);
        };
        add(first, &mut batch);
        while batch.len() < MAX_BATCH {
            match records.try_recv() {
                Ok(record) => add(record, &mut batch),
                Err(_) => break,
            }
        }
        if let Err(error) = file.write_all(&batch).and_then(|()| file.sync_data()) {
            durable.send_modify(|d| d.failed = Some(error.to_string()));
            return;
        }
        durable.send_modify(|d| {
            d.records += count;
            d.entries += entries;
        });
        if let Some(mirror) = mirror.as_mut() {
            mirror.committed(Committed {
                offset,
                bytes: &batch,
                records: count,
            });
        }
        offset += batch.len() as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::reader::JournalReader;
    use crate::storage::record::MAGIC;
    use p2panda_core::hash::Hash;

    #[tokio::test]
    async fn a_memory_journal_is_durable_at_once() {
        let journal = Journal::memory(5);
        let ticket = journal
            .append_with(true, || unreachable!("a memory journal builds no record"))
            .expect("appended");
        assert_eq!(ticket, 1);
        journal.wait(ticket).await.expect("durable");
        assert_eq!(journal.durable().entries, 6);
        journal.close().await.expect("closed");
        assert_eq!(
            journal.append(Record::Join(Hash::digest(b"f"))),
            Err(JournalError::Closed)
        );
    }

    struct Seen(std::sync::Arc<Mutex<Vec<(u64, usize, u64)>>>);

    impl Mirror for Seen {
        fn started(&mut self, journal_len: u64) {
            lock(&self.0).push((journal_len, 0, 0));
        }
        fn committed(&mut self, batch: Committed<'_>) {
            lock(&self.0).push((batch.offset, batch.bytes.len(), batch.records));
        }
    }

    #[tokio::test]
    async fn records_reach_the_file_in_ticket_order_and_the_mirror_sees_each_commit() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("journal");
        std::fs::write(&path, MAGIC).expect("write magic");
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        let lock_file = File::create(dir.path().join("lock")).expect("lock file");
        let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
        let mirror: Box<dyn Mirror> = Box::new(Seen(seen.clone()));
        let journal =
            Journal::disk(file, MAGIC.len() as u64, 0, lock_file, Some(mirror)).expect("journal");
        let records: Vec<Record> = (0..500u32)
            .map(|i| Record::Entry {
                entry: i.to_le_bytes().to_vec(),
                payload: vec![1; 100],
            })
            .collect();
        let mut last = 0;
        for record in &records {
            last = journal.append(record.clone()).expect("appended");
        }
        journal.wait(last).await.expect("durable");
        assert_eq!(journal.durable().entries, 500);
        journal.close().await.expect("closed");

        let bytes = std::fs::read(&path).expect("read");
        let mut reader = JournalReader::new(&bytes[..]).expect("journal");
        let mut read = Vec::new();
        while let Some(record) = reader.next_record().expect("sound") {
            read.push(record);
        }
        assert_eq!(read, records);
        let seen = lock(&seen).clone();
        assert_eq!(seen[0], (MAGIC.len() as u64, 0, 0));
        let commits = &seen[1..];
        assert_eq!(commits.iter().map(|c| c.2).sum::<u64>(), 500);
        let mut offset = MAGIC.len() as u64;
        for (start, len, _) in commits {
            assert_eq!(*start, offset, "commits are contiguous");
            offset += *len as u64;
        }
        assert_eq!(offset, bytes.len() as u64);
    }
}
