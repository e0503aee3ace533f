//! The node's data directory (`--data DIR`): everything it stored survives restarts and crashes.
//!
//! ```text
//! DIR/lock          flock'd while a node runs in DIR: a second one is refused
//! DIR/secret-key    the node's key, 64 hex characters, mode 0600
//! DIR/journal       append-only records: entries, fork evidence, joined and left festivals
//! DIR/journal.cut-* damaged tails cut off at a restart, kept for inspection
//! ```
//!
//! Every entry the node stores is appended to the journal ([`Recorder`]) and counts as stored
//! only once the journal is durable up to it ([`Journal::wait`]): group-committed, then
//! `fdatasync`ed. On start the journal is read back ([`restore::replay`]); a torn or damaged
//! tail (a crash mid-write, a flipped byte) is cut off at the last sound record, and what was
//! cut is reported and saved aside.

pub mod identity;
pub mod journal;
pub mod lock;
pub mod mirror;
pub mod reader;
pub mod record;
pub mod recorder;
pub mod restore;

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Seek, SeekFrom, Write};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use p2panda_core::festival::Topic;
use p2panda_core::identity::KeyPair;
use p2panda_core::replica::Replica;

pub use journal::{Durable, Journal, JournalError, Ticket};
pub use mirror::{Committed, Mirror};
pub use reader::{Damage, JournalReader, ReadError};
pub use record::Record;
pub use recorder::Recorder;
pub use restore::RestoreReport;

/// The journal's file name in the data directory.
pub const JOURNAL_FILE: &str = "journal";

/// Why the data directory could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error(
        "{} is in use by another p2panda-node (process {holder}); stop it first, or use another --data directory",
        dir.display()
    )]
    Locked { dir: PathBuf, holder: String },
    #[error("{}: {reason}", path.display())]
    Key { path: PathBuf, reason: String },
    #[error("{}: {source}", path.display())]
    Journal { path: PathBuf, source: ReadError },
}

impl StorageError {
    /// A stable code for the `ready` line and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            StorageError::Io { .. } => "STORAGE_IO",
            StorageError::Locked { .. } => "DATA_DIR_LOCKED",
            StorageError::Key { .. } => "BAD_KEY_FILE",
            StorageError::Journal { .. } => "BAD_JOURNAL",
        }
    }
}

pub(crate) fn io_error(what: &'static str, path: &Path, source: io::Error) -> StorageError {
    StorageError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// Makes a directory entry (a new, renamed or truncated file) durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error("syncing the directory", dir, e))
}

/// What a node starts with.
pub struct Opened {
    pub key_pair: KeyPair,
    /// Whether the key was made now (a new data directory).
    pub new_key: bool,
    pub replica: Replica,
    /// The festivals the node replicates.
    pub festivals: BTreeSet<Topic>,
    pub journal: Journal,
    /// Knows that everything in `replica` is in the journal.
    pub recorder: Recorder,
    pub report: RestoreReport,
}

/// A node that keeps nothing: a fresh key, an empty replica and a journal that only counts.
pub fn in_memory() -> Opened {
    let replica = Replica::new();
    Opened {
        key_pair: KeyPair::generate(),
        new_key: true,
        recorder: Recorder::new(&replica),
        replica,
        festivals: BTreeSet::new(),
        journal: Journal::memory(0),
        report: RestoreReport::default(),
    }
}

/// Opens (creating if needed) the data directory `dir`: takes its lock, reads or makes the key,
/// restores the journal (cutting off a damaged tail) and starts the journal's writer, which
/// hands each group commit to `mirror` too.
pub fn open(dir: &Path, mirror: Option<Box<dyn Mirror>>) -> Result<Opened, StorageError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| io_error("creating the data directory", dir, e))?;
    let lock = lock::acquire(dir)?;
    let (key_pair, new_key) = identity::load_or_create(dir)?;

    let path = dir.join(JOURNAL_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| io_error("opening the journal", &path, e))?;
    let journal_error = |source| StorageError::Journal {
        path: path.clone(),
        source,
    };
    let reader =
        JournalReader::new(BufReader::with_capacity(1 << 20, &file)).map_err(journal_error)?;
    let restore::Replayed {
        replica,
        festivals,
        mut report,
    } = restore::replay(reader).map_err(journal_error)?;

    let file_len = file
        .metadata()
        .map_err(|e| io_error("reading the journal's size", &path, e))?
        .len();
    let sound = report.journal_len;
    if sound < file_len {
        report.dropped_bytes = file_len - sound;
        if sound > 0 {
            report.saved_to = Some(save_tail(&mut file, sound, dir)?);
        }
        file.set_len(sound)
            .and_then(|()| file.sync_all())
            .map_err(|e| io_error("cutting off the journal's damaged tail", &path, e))?;
    }
    if sound == 0 {
        // New, or the magic itself was torn: start the file afresh.
        file.set_len(0)
            .and_then(|()| file.write_all(record::MAGIC))
            .and_then(|()| file.sync_all())
            .map_err(|e| io_error("starting the journal", &path, e))?;
        sync_dir(dir)?;
        report.journal_len = record::MAGIC.len() as u64;
    }
    let offset = file
        .seek(SeekFrom::End(0))
        .map_err(|e| io_error("seeking the journal's end", &path, e))?;
    let journal = Journal::disk(file, offset, replica.store().len() as u64, lock, mirror)
        .map_err(|e| io_error("starting the journal's writer", &path, e))?;
    Ok(Opened {
        key_pair,
        new_key,
        recorder: Recorder::new(&replica),
        replica,
        festivals,
        journal,
        report,
    })
}

/// Copies the journal from `from` to its end into `DIR/journal.cut-<unix ms>`, synced.
fn save_tail(file: &mut File, from: u64, dir: &Path) -> Result<PathBuf, StorageError> {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let path = dir.join(format!("{JOURNAL_FILE}.cut-{millis}"));
    let mut copy = || -> io::Result<()> {
        let mut tail = File::create(&path)?;
        file.seek(SeekFrom::Start(from))?;
        io::copy(file, &mut tail)?;
        tail.sync_all()
    };
    copy().map_err(|e| io_error("saving the journal's damaged tail", &path, e))?;
    Ok(path)
}

#[cfg(test)]
mod tests;
