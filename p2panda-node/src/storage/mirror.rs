//! The hook for a second copy of the journal somewhere else (a backup of the file's bytes). The
//! node runs without one: its S3 store-and-forward works per festival on the replica instead
//! (the program's `s3` module), so it runs without `--data` too.

/// A group commit that just became durable on disk.
#[derive(Debug, Clone, Copy)]
pub struct Committed<'a> {
    /// Where `bytes` start in the journal file.
    pub offset: u64,
    /// Whole records, exactly as appended to the journal (see [`super::record`]).
    pub bytes: &'a [u8],
    /// How many records `bytes` hold.
    pub records: u64,
}

/// Receives what the journal made durable, in order. Its methods run on the journal's writer
/// thread, so they must return quickly (queue the bytes and upload them elsewhere): the next
/// group commit waits for them.
pub trait Mirror: Send {
    /// Called once, before any commit, with the journal's sound length after the restart (a
    /// damaged tail cut off). A mirror holding more than that can drop the rest, one holding
    /// less can catch up from the file.
    fn started(&mut self, journal_len: u64) {
        let _ = journal_len;
    }

    /// Called after each group commit, once its bytes are on disk.
    fn committed(&mut self, batch: Committed<'_>);
}
