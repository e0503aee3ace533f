//! Each mailbox's writer state (`MailboxState::writer_state`) kept in the data directory, so a
//! restarted node goes on as the same writer: it adds to its one index object in the bucket
//! instead of leaving a new one at every start (which every reader would then read).
//!
//! One file per mailbox, named by its opaque directory; written to a temporary file and renamed,
//! so a crash leaves the old state or the new. Losing or damaging one costs an index object,
//! nothing else: the state is a hint, like the index it describes.

use std::path::{Path, PathBuf};

use p2panda_core::mailbox::{MailboxKey, MailboxState};

/// Where writer states live: `<data>/mailbox-writers/`.
#[derive(Debug, Clone)]
pub struct Writers {
    dir: PathBuf,
}

impl Writers {
    pub fn new(data: &Path) -> Self {
        Writers {
            dir: data.join("mailbox-writers"),
        }
    }

    fn file(&self, key: &MailboxKey) -> PathBuf {
        self.dir.join(key.dir())
    }

    /// The state to start `key`'s mailbox with: the saved writer if there is a readable one.
    pub fn load(&self, key: &MailboxKey) -> MailboxState {
        let fresh = MailboxState::new();
        match std::fs::read(self.file(key)) {
            Ok(saved) => fresh.clone().with_writer_state(&saved).unwrap_or(fresh),
            Err(_) => fresh,
        }
    }

    /// Keep `state`'s writer for the next start. Failures are reported and otherwise ignored.
    pub fn save(&self, key: &MailboxKey, state: &MailboxState) {
        let file = self.file(key);
        let temporary = file.with_extension("new");
        let result = std::fs::create_dir_all(&self.dir)
            .and_then(|()| std::fs::write(&temporary, state.writer_state()))
            .and_then(|()| std::fs::rename(&temporary, &file));
        if let Err(error) = result {
            eprintln!("p2panda-node: S3: the mailbox writer state could not be kept: {error}");
        }
    }
}
