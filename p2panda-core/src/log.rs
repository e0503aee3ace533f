//! Bamboo logs: publish, decode and verify single-writer append-only log entries.
//!
//! Encoding and decoding go through `bamboo-rs-core` (YAMF BLAKE2b-512 hashes, sequence numbers
//! from 1, backlinks, lipmaa links, end-of-feed). On top of it this module:
//! - accepts only canonical bytes: `bamboo-rs-core`'s decoder is lenient (any tag byte other than 1
//!   reads as "not end of feed", YAMF length bytes are not checked, trailing bytes are ignored), so
//!   look-alike encodings of one entry would otherwise verify under a different hash;
//! - verifies signatures strictly with ed25519-dalek 2 (no malleable second signatures);
//! - bounds the payload size ([`MAX_PAYLOAD_SIZE`]).

use bamboo_rs_core::entry::is_lipmaa_required;
use bamboo_rs_core::{lipmaa, Signature as BambooSignature, YamfHash};
use ed25519_dalek_v1::PublicKey as BambooPublicKey;

use crate::hash::{Hash, HASH_LEN};
use crate::identity::{KeyPair, PublicKey, SIGNATURE_LEN};

/// The largest operation payload an entry may carry, in bytes. Chosen so that an entry and its
/// payload always fit in one 16 KiB sync frame with room to spare.
pub const MAX_PAYLOAD_SIZE: usize = 8 * 1024;

/// The largest encoded entry (without payload), from the Bamboo format.
pub const MAX_ENTRY_SIZE: usize = bamboo_rs_core::entry::MAX_ENTRY_SIZE;

/// Why an entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    #[error("entry is {0} bytes, more than the {MAX_ENTRY_SIZE} an entry can have")]
    EntryTooLarge(usize),
    #[error("entry bytes do not decode: {0}")]
    Malformed(String),
    #[error("entry bytes are not the canonical encoding of the entry they decode to")]
    NonCanonical,
    #[error("payload size {0} exceeds the limit of {MAX_PAYLOAD_SIZE} bytes")]
    PayloadTooLarge(u64),
    #[error("payload is {actual} bytes but the entry says {claimed}")]
    PayloadSizeMismatch { claimed: u64, actual: u64 },
    #[error("payload does not match the entry's payload hash")]
    PayloadHashMismatch,
    #[error("signature does not verify")]
    BadSignature,
    #[error("entry {seq} needs its backlink entry {} to be verified", seq - 1)]
    MissingBacklink { seq: u64 },
    #[error("entry {seq} needs its lipmaa entry {lipmaa} to be verified")]
    MissingLipmaa { seq: u64, lipmaa: u64 },
    #[error("backlink does not match the previous entry of this log")]
    BacklinkMismatch,
    #[error("lipmaa link does not match the lipmaa entry of this log")]
    LipmaaMismatch,
    #[error("link entry belongs to another author or log")]
    LinkFromOtherLog,
    #[error("entry was published after its log's end-of-feed entry")]
    AfterEndOfFeed,
    #[error("links do not match Bamboo's layout for this sequence number (none at seq 1, a backlink after, a lipmaa link only where required)")]
    UnexpectedLink,
}

/// A decoded, canonical Bamboo entry with its hash. Verification against its links and payload is
/// a separate step ([`Entry::verify`]), since it needs other entries of the log.
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    author: PublicKey,
    log_id: u64,
    seq_num: u64,
    backlink: Option<Hash>,
    lipmaa_link: Option<Hash>,
    payload_hash: Hash,
    payload_size: u64,
    is_end_of_feed: bool,
    bytes: Vec<u8>,
    hash: Hash,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("author", &self.author)
            .field("log_id", &self.log_id)
            .field("seq_num", &self.seq_num)
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

/// The fields of an entry before it is signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsignedEntry {
    pub log_id: u64,
    pub seq_num: u64,
    pub backlink: Option<Hash>,
    pub lipmaa_link: Option<Hash>,
    pub payload_hash: Hash,
    pub payload_size: u64,
    pub is_end_of_feed: bool,
}

impl Entry {
    /// Decode entry bytes, accepting only their canonical encoding.
    pub fn decode(bytes: &[u8]) -> Result<Entry, LogError> {
        if bytes.len() > MAX_ENTRY_SIZE {
            return Err(LogError::EntryTooLarge(bytes.len()));
        }
        let decoded =
            bamboo_rs_core::decode(bytes).map_err(|e| LogError::Malformed(e.to_string()))?;
        let mut canonical = [0u8; MAX_ENTRY_SIZE];
        let len = decoded
            .encode(&mut canonical)
            .map_err(|e| LogError::Malformed(e.to_string()))?;
        if canonical[..len] != *bytes {
            return Err(LogError::NonCanonical);
        }
        if decoded.payload_size > MAX_PAYLOAD_SIZE as u64 {
            return Err(LogError::PayloadTooLarge(decoded.payload_size));
        }
        let author = PublicKey::from_bytes(decoded.author.as_bytes())
            .map_err(|e| LogError::Malformed(e.to_string()))?;
        Ok(Entry {
            author,
            log_id: decoded.log_id,
            seq_num: decoded.seq_num,
            backlink: decoded.backlink.as_ref().map(yamf_to_hash).transpose()?,
            lipmaa_link: decoded.lipmaa_link.as_ref().map(yamf_to_hash).transpose()?,
            payload_hash: yamf_to_hash(&decoded.payload_hash)?,
            payload_size: decoded.payload_size,
            is_end_of_feed: decoded.is_end_of_feed,
            bytes: bytes.to_vec(),
            hash: Hash::digest(bytes),
        })
    }

    /// Sign `unsigned` as `key_pair` and encode it.
    pub fn sign(key_pair: &KeyPair, unsigned: &UnsignedEntry) -> Result<Entry, LogError> {
        if unsigned.payload_size > MAX_PAYLOAD_SIZE as u64 {
            return Err(LogError::PayloadTooLarge(unsigned.payload_size));
        }
        // Bamboo's layout: no links at seq 1; later a backlink, plus a lipmaa link exactly when
        // it would differ from the backlink. Anything else would not encode what was asked.
        let seq = unsigned.seq_num;
        let layout_ok = match seq {
            0 => false,
            1 => unsigned.backlink.is_none() && unsigned.lipmaa_link.is_none(),
            _ => {
                unsigned.backlink.is_some()
                    && unsigned.lipmaa_link.is_some() == is_lipmaa_required(seq)
            }
        };
        if !layout_ok {
            return Err(LogError::UnexpectedLink);
        }
        let author = BambooPublicKey::from_bytes(key_pair.public_key().as_bytes())
            .map_err(|e| LogError::Malformed(e.to_string()))?;
        let payload_hash = YamfHash::Blake2b(&unsigned.payload_hash.as_bytes()[..]);
        let backlink = unsigned
            .backlink
            .as_ref()
            .map(|h| YamfHash::Blake2b(&h.as_bytes()[..]));
        let lipmaa_link = unsigned
            .lipmaa_link
            .as_ref()
            .map(|h| YamfHash::Blake2b(&h.as_bytes()[..]));
        let mut entry = bamboo_rs_core::Entry::<&[u8], &[u8]> {
            log_id: unsigned.log_id,
            is_end_of_feed: unsigned.is_end_of_feed,
            payload_hash,
            payload_size: unsigned.payload_size,
            author,
            seq_num: unsigned.seq_num,
            backlink,
            lipmaa_link,
            sig: None,
        };
        let mut out = [0u8; MAX_ENTRY_SIZE];
        let len = entry
            .encode_for_signing(&mut out)
            .map_err(|e| LogError::Malformed(e.to_string()))?;
        let signature = key_pair.sign(&out[..len]);
        entry.sig = Some(BambooSignature(&signature[..]));
        let len = entry
            .encode(&mut out)
            .map_err(|e| LogError::Malformed(e.to_string()))?;
        Entry::decode(&out[..len])
    }

    /// Publish the next entry of a log: `previous` is the log's latest entry (`None` for the first
    /// entry) and `lipmaa` the entry at `lipmaa(seq)` (only read when Bamboo requires that link).
    pub fn publish(
        key_pair: &KeyPair,
        log_id: u64,
        payload: &[u8],
        previous: Option<&Entry>,
        lipmaa: Option<&Entry>,
    ) -> Result<Entry, LogError> {
        let seq_num = match previous {
            None => 1,
            Some(p) => p.seq_num.checked_add(1).ok_or(LogError::AfterEndOfFeed)?,
        };
        let mut unsigned = UnsignedEntry {
            log_id,
            seq_num,
            backlink: None,
            lipmaa_link: None,
            payload_hash: Hash::digest(payload),
            payload_size: payload.len() as u64,
            is_end_of_feed: false,
        };
        if let Some(previous) = previous {
            if previous.is_end_of_feed {
                return Err(LogError::AfterEndOfFeed);
            }
            if previous.author != key_pair.public_key() || previous.log_id != log_id {
                return Err(LogError::LinkFromOtherLog);
            }
            if lipmaa.is_some_and(|l| l.author != previous.author || l.log_id != log_id) {
                return Err(LogError::LinkFromOtherLog);
            }
            unsigned.backlink = Some(previous.hash);
            if is_lipmaa_required(seq_num) {
                let lipmaa = lipmaa.ok_or(LogError::MissingLipmaa {
                    seq: seq_num,
                    lipmaa: lipmaa_seq(seq_num),
                })?;
                if lipmaa.seq_num != lipmaa_seq(seq_num) || lipmaa.author != previous.author {
                    return Err(LogError::LipmaaMismatch);
                }
                unsigned.lipmaa_link = Some(lipmaa.hash);
            }
        }
        Entry::sign(key_pair, &unsigned)
    }

    /// Verify this entry: its signature, its payload (when given) and its links to the backlink
    /// and lipmaa entries of the same log. Links are required for every entry after the first:
    /// p2panda replicates whole logs, so they are always at hand.
    pub fn verify(
        &self,
        payload: Option<&[u8]>,
        backlink: Option<&Entry>,
        lipmaa: Option<&Entry>,
    ) -> Result<(), LogError> {
        if let Some(payload) = payload {
            self.verify_payload(payload)?;
        }
        self.verify_links(backlink, lipmaa)?;
        self.verify_signature()
    }

    pub fn verify_signature(&self) -> Result<(), LogError> {
        // Canonical bytes end in the raw 64-byte signature over everything before it.
        let (signed, signature) = self.bytes.split_at(self.bytes.len() - SIGNATURE_LEN);
        self.author
            .verify(signed, signature)
            .map_err(|_| LogError::BadSignature)
    }

    pub fn verify_payload(&self, payload: &[u8]) -> Result<(), LogError> {
        if payload.len() as u64 != self.payload_size {
            return Err(LogError::PayloadSizeMismatch {
                claimed: self.payload_size,
                actual: payload.len() as u64,
            });
        }
        if Hash::digest(payload) != self.payload_hash {
            return Err(LogError::PayloadHashMismatch);
        }
        Ok(())
    }

    fn verify_links(
        &self,
        backlink: Option<&Entry>,
        lipmaa: Option<&Entry>,
    ) -> Result<(), LogError> {
        if self.seq_num == 1 {
            return match (self.backlink, self.lipmaa_link) {
                (None, None) => Ok(()),
                _ => Err(LogError::UnexpectedLink),
            };
        }
        let backlink = backlink.ok_or(LogError::MissingBacklink { seq: self.seq_num })?;
        self.check_same_log(backlink)?;
        // seq_num is at least 2 here, so this cannot underflow.
        if backlink.seq_num != self.seq_num - 1 || Some(backlink.hash) != self.backlink {
            return Err(LogError::BacklinkMismatch);
        }
        if backlink.is_end_of_feed {
            return Err(LogError::AfterEndOfFeed);
        }
        if let Some(link) = self.lipmaa_link {
            let lipmaa_seq = lipmaa_seq(self.seq_num);
            let lipmaa = lipmaa.ok_or(LogError::MissingLipmaa {
                seq: self.seq_num,
                lipmaa: lipmaa_seq,
            })?;
            self.check_same_log(lipmaa)?;
            if lipmaa.seq_num != lipmaa_seq || lipmaa.hash != link {
                return Err(LogError::LipmaaMismatch);
            }
        }
        Ok(())
    }

    fn check_same_log(&self, other: &Entry) -> Result<(), LogError> {
        if other.author == self.author && other.log_id == self.log_id {
            Ok(())
        } else {
            Err(LogError::LinkFromOtherLog)
        }
    }

    pub fn author(&self) -> PublicKey {
        self.author
    }
    pub fn log_id(&self) -> u64 {
        self.log_id
    }
    pub fn seq_num(&self) -> u64 {
        self.seq_num
    }
    pub fn backlink(&self) -> Option<Hash> {
        self.backlink
    }
    pub fn lipmaa_link(&self) -> Option<Hash> {
        self.lipmaa_link
    }
    pub fn payload_hash(&self) -> Hash {
        self.payload_hash
    }
    pub fn payload_size(&self) -> u64 {
        self.payload_size
    }
    pub fn is_end_of_feed(&self) -> bool {
        self.is_end_of_feed
    }
    /// The canonical encoded bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    /// The entry's hash: its identity.
    pub fn hash(&self) -> Hash {
        self.hash
    }
    /// The sequence number this entry's lipmaa link points to (equal to the backlink's when Bamboo
    /// omits the lipmaa link; 0 for the first entry).
    pub fn lipmaa_seq(&self) -> u64 {
        lipmaa_seq(self.seq_num)
    }
    /// Whether this entry carries a lipmaa link distinct from its backlink.
    pub fn needs_lipmaa_entry(&self) -> bool {
        self.lipmaa_link.is_some()
    }
}

/// The sequence number the lipmaa link of entry `seq` points to.
pub fn lipmaa_seq(seq: u64) -> u64 {
    lipmaa(seq)
}

fn yamf_to_hash<H: std::borrow::Borrow<[u8]>>(yamf: &YamfHash<H>) -> Result<Hash, LogError> {
    let YamfHash::Blake2b(bytes) = yamf;
    let bytes = bytes.borrow();
    if bytes.len() != HASH_LEN {
        return Err(LogError::Malformed(format!(
            "hash of {} bytes",
            bytes.len()
        )));
    }
    Hash::from_bytes(bytes).map_err(|e| LogError::Malformed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(key_pair: &KeyPair, n: usize) -> Vec<(Entry, Vec<u8>)> {
        let mut log: Vec<(Entry, Vec<u8>)> = Vec::new();
        for i in 0..n {
            let payload = format!("message {i}").into_bytes();
            let previous = log.last().map(|(e, _)| e);
            let lipmaa = previous.map(|p| &log[lipmaa_seq(p.seq_num() + 1) as usize - 1].0);
            let entry = Entry::publish(key_pair, 7, &payload, previous, lipmaa).unwrap();
            log.push((entry, payload));
        }
        log
    }

    #[test]
    fn a_published_chain_verifies_entry_by_entry() {
        let key_pair = KeyPair::generate();
        let log = chain(&key_pair, 40);
        for (i, (entry, payload)) in log.iter().enumerate() {
            assert_eq!(entry.seq_num(), i as u64 + 1);
            let backlink = i.checked_sub(1).map(|b| &log[b].0);
            let lipmaa = (entry.lipmaa_seq() as usize)
                .checked_sub(1)
                .map(|l| &log[l].0);
            entry.verify(Some(payload), backlink, lipmaa).unwrap();
            assert_eq!(Entry::decode(entry.bytes()).unwrap(), *entry);
        }
    }

    #[test]
    fn a_missing_or_wrong_backlink_is_refused() {
        let key_pair = KeyPair::generate();
        let log = chain(&key_pair, 3);
        let (third, payload) = &log[2];
        assert_eq!(
            third.verify(Some(payload), None, None),
            Err(LogError::MissingBacklink { seq: 3 })
        );
        assert_eq!(
            third.verify(Some(payload), Some(&log[0].0), Some(&log[0].0)),
            Err(LogError::BacklinkMismatch)
        );
    }

    #[test]
    fn oversized_payloads_are_refused_on_both_sides() {
        let key_pair = KeyPair::generate();
        let payload = vec![0u8; MAX_PAYLOAD_SIZE + 1];
        assert_eq!(
            Entry::publish(&key_pair, 0, &payload, None, None),
            Err(LogError::PayloadTooLarge(MAX_PAYLOAD_SIZE as u64 + 1))
        );
    }

    #[test]
    fn non_canonical_bytes_are_refused() {
        let key_pair = KeyPair::generate();
        let (entry, _) = chain(&key_pair, 1).remove(0);
        let mut trailing = entry.bytes().to_vec();
        trailing.push(0);
        assert_eq!(Entry::decode(&trailing), Err(LogError::NonCanonical));
        let mut tag = entry.bytes().to_vec();
        tag[0] = 7;
        assert_eq!(Entry::decode(&tag), Err(LogError::NonCanonical));
    }

    #[test]
    fn signing_refuses_links_that_break_the_layout() {
        let key_pair = KeyPair::generate();
        let unsigned = |seq_num, backlink: Option<Hash>, lipmaa_link: Option<Hash>| UnsignedEntry {
            log_id: 0,
            seq_num,
            backlink,
            lipmaa_link,
            payload_hash: Hash::digest(b""),
            payload_size: 0,
            is_end_of_feed: false,
        };
        let link = Some(Hash::digest(b"x"));
        for bad in [
            unsigned(0, None, None),
            unsigned(1, link, None),
            unsigned(2, None, None),
            unsigned(2, link, link),
        ] {
            assert_eq!(Entry::sign(&key_pair, &bad), Err(LogError::UnexpectedLink));
        }
        // Seq 4 needs its lipmaa link (to 1) besides the backlink.
        assert_eq!(
            Entry::sign(&key_pair, &unsigned(4, link, None)),
            Err(LogError::UnexpectedLink)
        );
        assert!(Entry::sign(&key_pair, &unsigned(4, link, link)).is_ok());
    }

    #[test]
    fn publishing_refuses_a_lipmaa_entry_of_another_log() {
        let key_pair = KeyPair::generate();
        let log = chain(&key_pair, 3);
        let other = Entry::publish(&key_pair, 8, b"other log", None, None).unwrap();
        assert_eq!(
            Entry::publish(&key_pair, 7, b"next", Some(&log[2].0), Some(&other)),
            Err(LogError::LinkFromOtherLog)
        );
    }
}
