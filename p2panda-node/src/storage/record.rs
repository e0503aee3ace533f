//! What the journal holds, and its bytes on disk.
//!
//! The file starts with [`MAGIC`]; then come records, each a frame
//!
//! ```text
//! body length: u32 LE | CRC-32C: u32 LE (over the length's 4 bytes and the body) | body
//! ```
//!
//! and the body is one kind byte and its fields:
//!
//! | kind | record | fields |
//! |---|---|---|
//! | 1 | entry | entry length u32 LE, entry bytes, payload bytes (the rest) |
//! | 2 | fork evidence | author (32), log id u64 LE, seq u64 LE, kept hash (64), conflicting entry (the rest) |
//! | 3 | joined a festival | festival id (64) |
//! | 4 | left a festival | festival id (64) |
//!
//! The checksum covers the length too, so a damaged length cannot pass for a shorter record.

use p2panda_core::festival::Topic;
use p2panda_core::hash::{Hash, HashError, HASH_LEN};
use p2panda_core::identity::{IdentityError, PublicKey, PUBLIC_KEY_LEN};
use p2panda_core::store::{ForkEvidence, LogKey};

/// The first bytes of a journal file: names the format and its version.
pub const MAGIC: &[u8; 8] = b"P2PJNL01";
/// Length and checksum in front of every body.
pub const FRAME_HEADER: usize = 8;
/// The largest body a record may have. Entries and payloads are far smaller (a sync frame is
/// 16 KiB); a larger length can only be damage.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

const ENTRY: u8 = 1;
const FORK: u8 = 2;
const JOIN: u8 = 3;
const LEAVE: u8 = 4;

/// CRC-32C: hardware-accelerated on common CPUs, and good at catching torn and flipped bytes.
const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);

/// One thing the node made durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// An entry (published here or received) and its payload, as stored.
    Entry { entry: Vec<u8>, payload: Vec<u8> },
    /// Proof that an author forked a log; the log stays frozen after a restart.
    Fork(ForkEvidence),
    /// The node replicates this festival (from now on, and after restarts).
    Join(Topic),
    /// The node stopped replicating this festival.
    Leave(Topic),
}

/// Why a record's body could not be read (its checksum held, so the writer wrote it like that:
/// a bug or a newer format, not damage).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("empty record")]
    Empty,
    #[error("unknown record kind {0}")]
    UnknownKind(u8),
    #[error("record of kind {kind} is {got} bytes, shorter than its fixed fields")]
    Short { kind: u8, got: usize },
    #[error("bad author key: {0}")]
    Key(#[from] IdentityError),
    #[error("bad hash: {0}")]
    Hash(#[from] HashError),
}

impl Record {
    /// Appends the record's frame (header and body) to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&[0; FRAME_HEADER]);
        match self {
            Record::Entry { entry, payload } => {
                out.push(ENTRY);
                // Entries are bounded by the sync frame size, far below u32::MAX.
                out.extend_from_slice(&(entry.len() as u32).to_le_bytes());
                out.extend_from_slice(entry);
                out.extend_from_slice(payload);
            }
            Record::Fork(evidence) => {
                out.push(FORK);
                out.extend_from_slice(evidence.log.author.as_bytes());
                out.extend_from_slice(&evidence.log.log_id.to_le_bytes());
                out.extend_from_slice(&evidence.seq_num.to_le_bytes());
                out.extend_from_slice(evidence.kept.as_bytes());
                out.extend_from_slice(&evidence.conflicting);
            }
            Record::Join(topic) => {
                out.push(JOIN);
                out.extend_from_slice(topic.as_bytes());
            }
            Record::Leave(topic) => {
                out.push(LEAVE);
                out.extend_from_slice(topic.as_bytes());
            }
        }
        let body_len = (out.len() - start - FRAME_HEADER) as u32;
        let len = body_len.to_le_bytes();
        let crc = checksum(&len, &out[start + FRAME_HEADER..]);
        out[start..start + 4].copy_from_slice(&len);
        out[start + 4..start + FRAME_HEADER].copy_from_slice(&crc.to_le_bytes());
    }

    /// The record's frame as bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    /// Reads a body whose checksum held.
    pub fn decode_body(body: &[u8]) -> Result<Record, DecodeError> {
        let (&kind, fields) = body.split_first().ok_or(DecodeError::Empty)?;
        let short = || DecodeError::Short {
            kind,
            got: body.len(),
        };
        match kind {
            ENTRY => {
                let (len, rest) = fields.split_first_chunk::<4>().ok_or_else(short)?;
                let len = u32::from_le_bytes(*len) as usize;
                if rest.len() < len {
                    return Err(short());
                }
                let (entry, payload) = rest.split_at(len);
                Ok(Record::Entry {
                    entry: entry.to_vec(),
                    payload: payload.to_vec(),
                })
            }
            FORK => {
                let (author, rest) = fields
                    .split_first_chunk::<PUBLIC_KEY_LEN>()
                    .ok_or_else(short)?;
                let (log_id, rest) = rest.split_first_chunk::<8>().ok_or_else(short)?;
                let (seq, rest) = rest.split_first_chunk::<8>().ok_or_else(short)?;
                let (kept, conflicting) = rest.split_first_chunk::<HASH_LEN>().ok_or_else(short)?;
                Ok(Record::Fork(ForkEvidence {
                    log: LogKey {
                        author: PublicKey::from_bytes(author)?,
                        log_id: u64::from_le_bytes(*log_id),
                    },
                    seq_num: u64::from_le_bytes(*seq),
                    kept: Hash::from_bytes(kept)?,
                    conflicting: conflicting.to_vec(),
                }))
            }
            JOIN | LEAVE => {
                if fields.len() != HASH_LEN {
                    return Err(short());
                }
                let topic = Hash::from_bytes(fields)?;
                Ok(if kind == JOIN {
                    Record::Join(topic)
                } else {
                    Record::Leave(topic)
                })
            }
            other => Err(DecodeError::UnknownKind(other)),
        }
    }
}

/// The checksum of a frame: over its length bytes, then its body.
pub fn checksum(len: &[u8; 4], body: &[u8]) -> u32 {
    let mut digest = CRC.digest();
    digest.update(len);
    digest.update(body);
    digest.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use p2panda_core::identity::KeyPair;

    fn samples() -> Vec<Record> {
        let key = KeyPair::generate();
        vec![
            Record::Entry {
                entry: vec![1, 2, 3],
                payload: vec![9; 40],
            },
            Record::Entry {
                entry: vec![7],
                payload: vec![],
            },
            Record::Fork(ForkEvidence {
                log: LogKey {
                    author: key.public_key(),
                    log_id: 3,
                },
                seq_num: 17,
                kept: Hash::digest(b"kept"),
                conflicting: vec![5; 100],
            }),
            Record::Join(Hash::digest(b"festival")),
            Record::Leave(Hash::digest(b"other")),
        ]
    }

    #[test]
    fn records_round_trip_and_their_checksums_hold() {
        for record in samples() {
            let bytes = record.encode();
            let len: [u8; 4] = bytes[..4].try_into().unwrap();
            let crc = u32::from_le_bytes(bytes[4..8].try_into().unwrap());
            assert_eq!(u32::from_le_bytes(len) as usize, bytes.len() - FRAME_HEADER);
            assert_eq!(checksum(&len, &bytes[FRAME_HEADER..]), crc);
            assert_eq!(Record::decode_body(&bytes[FRAME_HEADER..]), Ok(record));
        }
    }

    #[test]
    fn every_flipped_bit_of_a_frame_breaks_its_checksum() {
        let bytes = samples()[0].encode();
        for bit in 0..bytes.len() * 8 {
            let mut damaged = bytes.clone();
            damaged[bit / 8] ^= 1 << (bit % 8);
            let len: [u8; 4] = damaged[..4].try_into().unwrap();
            let crc = u32::from_le_bytes(damaged[4..8].try_into().unwrap());
            let body_len = u32::from_le_bytes(len) as usize;
            let fits = damaged.len() - FRAME_HEADER == body_len;
            assert!(
                !fits || checksum(&len, &damaged[FRAME_HEADER..]) != crc,
                "bit {bit}"
            );
        }
    }

    #[test]
    fn malformed_bodies_are_typed_errors() {
        assert_eq!(Record::decode_body(&[]), Err(DecodeError::Empty));
        assert_eq!(Record::decode_body(&[9]), Err(DecodeError::UnknownKind(9)));
        assert!(matches!(
            Record::decode_body(&[ENTRY, 5, 0, 0, 0, 1]),
            Err(DecodeError::Short { kind: ENTRY, .. })
        ));
        assert!(matches!(
            Record::decode_body(&[JOIN, 1, 2]),
            Err(DecodeError::Short { kind: JOIN, .. })
        ));
        assert!(matches!(
            Record::decode_body(&[FORK; 20]),
            Err(DecodeError::Short { kind: FORK, .. })
        ));
    }
}
