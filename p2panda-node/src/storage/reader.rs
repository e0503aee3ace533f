//! Reading a journal back: records in order, until the end or the first damaged frame.

use std::io::{self, Read};

use super::record::{checksum, DecodeError, Record, FRAME_HEADER, MAGIC, MAX_BODY};

/// Where and how a journal stops being readable. Everything before `offset` is sound.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Damage {
    /// The file ends inside a frame: a write that did not finish (a crash mid-write).
    #[error("torn record at byte {offset}: the file ends {missing} bytes short of it")]
    Torn { offset: u64, missing: u64 },
    /// The frame's checksum does not match its bytes.
    #[error("checksum mismatch in the record at byte {offset}")]
    Checksum { offset: u64 },
    /// The frame claims a body larger than any record can be.
    #[error("impossible record length {len} at byte {offset}")]
    Length { offset: u64, len: u64 },
    /// The checksum held but the body is not a record this program knows.
    #[error("unreadable record at byte {offset}: {error}")]
    Body { offset: u64, error: DecodeError },
}

impl Damage {
    /// Where the damaged frame starts: the journal's sound length.
    pub fn offset(&self) -> u64 {
        match self {
            Damage::Torn { offset, .. }
            | Damage::Checksum { offset }
            | Damage::Length { offset, .. }
            | Damage::Body { offset, .. } => *offset,
        }
    }
}

/// Why a journal could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("reading the journal: {0}")]
    Io(#[from] io::Error),
    #[error("not a p2panda-node journal (its first bytes are not {MAGIC:?})")]
    NotAJournal,
    #[error(transparent)]
    Damaged(#[from] Damage),
}

/// Reads records one by one from a journal's bytes (see [`super::record`] for the format).
pub struct JournalReader<R> {
    input: R,
    /// End of the last sound record: where the next one starts.
    offset: u64,
}

impl<R: Read> JournalReader<R> {
    /// Checks the file's magic bytes and stands before its first record. An empty input, or one
    /// that holds only the start of the magic (a crash while creating the file), reads as a
    /// journal with no records whose [`JournalReader::offset`] is 0.
    pub fn new(mut input: R) -> Result<Self, ReadError> {
        let mut magic = [0; MAGIC.len()];
        let got = read_full(&mut input, &mut magic)?;
        if magic[..got] != MAGIC[..got] {
            return Err(ReadError::NotAJournal);
        }
        let offset = if got == MAGIC.len() { got as u64 } else { 0 };
        Ok(JournalReader { input, offset })
    }

    /// Where the sound part of the journal ends so far (just past the last record read, or past
    /// the magic; 0 if the magic is incomplete).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next record; `None` at a clean end of the file.
    pub fn next_record(&mut self) -> Result<Option<Record>, ReadError> {
        if self.offset == 0 {
            return Ok(None); // The magic itself was torn: nothing follows it.
        }
        let offset = self.offset;
        let mut header = [0; FRAME_HEADER];
        let got = read_full(&mut self.input, &mut header)?;
        if got == 0 {
            return Ok(None);
        }
        if got < FRAME_HEADER {
            let missing = (FRAME_HEADER - got) as u64;
            return Err(Damage::Torn { offset, missing }.into());
        }
        let len_bytes = [header[0], header[1], header[2], header[3]];
        let len = u32::from_le_bytes(len_bytes) as usize;
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        if len > MAX_BODY {
            let len = len as u64;
            return Err(Damage::Length { offset, len }.into());
        }
        let mut body = vec![0; len];
        let got = read_full(&mut self.input, &mut body)?;
        if got < len {
            let missing = (len - got) as u64;
            return Err(Damage::Torn { offset, missing }.into());
        }
        if checksum(&len_bytes, &body) != crc {
            return Err(Damage::Checksum { offset }.into());
        }
        let record = Record::decode_body(&body).map_err(|error| Damage::Body { offset, error })?;
        self.offset += (FRAME_HEADER + len) as u64;
        Ok(Some(record))
    }
}

/// Reads until `buf` is full or the input ends; how many bytes were read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use p2panda_core::hash::Hash;

    fn journal(records: &[Record]) -> Vec<u8> {
        let mut bytes = MAGIC.to_vec();
        for record in records {
            record.encode_into(&mut bytes);
        }
        bytes
    }

    fn read_all(bytes: &[u8]) -> (Vec<Record>, u64, Option<Damage>) {
        let mut reader = JournalReader::new(bytes).expect("a journal");
        let mut records = Vec::new();
        loop {
            match reader.next_record() {
                Ok(Some(record)) => records.push(record),
                Ok(None) => return (records, reader.offset(), None),
                Err(ReadError::Damaged(damage)) => return (records, reader.offset(), Some(damage)),
                Err(other) => panic!("{other}"),
            }
        }
    }

    fn records() -> Vec<Record> {
        (0..3u8)
            .map(|i| Record::Entry {
                entry: vec![i; 30],
                payload: vec![i; 50],
            })
            .chain([Record::Join(Hash::digest(b"f"))])
            .collect()
    }

    #[test]
    fn a_sound_journal_reads_back_whole() {
        let bytes = journal(&records());
        let (read, offset, damage) = read_all(&bytes);
        assert_eq!(read, records());
        assert_eq!(offset, bytes.len() as u64);
        assert_eq!(damage, None);
    }

    #[test]
    fn every_cut_inside_the_last_record_is_a_torn_tail_at_its_start() {
        let bytes = journal(&records());
        let last_start = journal(&records()[..3]).len();
        for cut in last_start + 1..bytes.len() {
            let (read, offset, damage) = read_all(&bytes[..cut]);
            assert_eq!(read, records()[..3], "cut at {cut}");
            assert_eq!(offset, last_start as u64);
            assert!(matches!(damage, Some(Damage::Torn { .. })), "cut at {cut}");
        }
        // Cut exactly between records: a clean, shorter journal.
        let (read, _, damage) = read_all(&bytes[..last_start]);
        assert_eq!((read.len(), damage), (3, None));
    }

    #[test]
    fn a_flipped_byte_stops_reading_at_its_record() {
        let bytes = journal(&records());
        let second = journal(&records()[..1]).len();
        let third = journal(&records()[..2]).len();
        for at in second..third {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x40;
            let (read, offset, damage) = read_all(&damaged);
            assert_eq!(read, records()[..1], "flip at {at}");
            assert_eq!(offset, second as u64);
            assert_eq!(damage.map(|d| d.offset()), Some(second as u64));
        }
    }

    #[test]
    fn a_torn_or_foreign_start() {
        assert_eq!(read_all(&MAGIC[..3]).1, 0);
        assert_eq!(read_all(&[]).1, 0);
        assert!(matches!(
            JournalReader::new(&b"SQLite format 3\0"[..]),
            Err(ReadError::NotAJournal)
        ));
        let mut huge = MAGIC.to_vec();
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        huge.extend_from_slice(&[0; 4]);
        assert!(matches!(read_all(&huge).2, Some(Damage::Length { .. })));
    }
}
