//! Bamboo logs: publish, decode and verify single-writer append-only log entries.
//!
//! The format is Bamboo's (YAMF BLAKE2b-512 hashes, sequence numbers from 1, backlinks, lipmaa
//! links, end-of-feed), byte for byte as the reference implementation `bamboo-rs-core` writes it
//! (its tests and the conformance vectors check this). On top of the format this module:
//! - accepts only canonical bytes: `bamboo-rs-core`'s decoder is lenient (any tag byte other than 1
//!   reads as "not end of feed", YAMF length bytes are not checked, trailing bytes are ignored), so
//!   look-alike encodings of one entry would otherwise verify under a different hash;
//! - verifies signatures strictly with ed25519-dalek 2 (no malleable second signatures);
//! - bounds the payload size ([`MAX_PAYLOAD_SIZE`]).
//!
//! Decoding reads the canonical layout in one pass and decompresses the author key at most once
//! (not at all when a [`KeyCache`] knows it). Only input that pass refuses is read again the
//! lenient way `bamboo-rs-core` reads it (`lenient.rs`), to name the error exactly as that
//! decoder did. `bamboo-rs-core` itself is only a dev-dependency: the reference the tests compare
//! against.

use crate::hash::{Hash, HASH_LEN};
use crate::identity::{KeyCache, KeyPair, PublicKey, PUBLIC_KEY_LEN, SIGNATURE_LEN};

mod lenient;

/// The largest operation payload an entry may carry, in bytes. Chosen so that an entry and its
/// payload always fit in one 16 KiB sync frame with room to spare.
pub const MAX_PAYLOAD_SIZE: usize = 8 * 1024;

/// The largest encoded entry (without payload), from the Bamboo format: tag byte, 64-byte
/// signature, 32-byte key, three YAMF hashes of 66 bytes and three varu64s of at most 9 bytes.
pub const MAX_ENTRY_SIZE: usize = 1 + SIGNATURE_LEN + PUBLIC_KEY_LEN + 3 * (2 + HASH_LEN) + 3 * 9;

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
///
/// Only the canonical bytes, the hash and the numbers are kept: the author, the links and the
/// payload hash are read from the bytes when asked for, so a stored entry costs little more than
/// its encoding.
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    bytes: Box<[u8]>,
    hash: Hash,
    log_id: u64,
    seq_num: u64,
    payload_size: u64,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("author", &self.author())
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
        Self::decode_inner(bytes, None)
    }

    /// As [`Entry::decode`], taking the author's key from `keys` when it is there instead of
    /// decompressing it again to check it. Accepts and refuses exactly what `decode` does.
    pub fn decode_with_keys(bytes: &[u8], keys: &KeyCache) -> Result<Entry, LogError> {
        Self::decode_inner(bytes, Some(keys))
    }

    fn decode_inner(bytes: &[u8], keys: Option<&KeyCache>) -> Result<Entry, LogError> {
        if bytes.len() > MAX_ENTRY_SIZE {
            return Err(LogError::EntryTooLarge(bytes.len()));
        }
        let Some(layout) = canonical::parse(bytes) else {
            return lenient::decode(bytes);
        };
        let author = layout.author;
        let known = keys.and_then(|keys| keys.get(&author)).is_some();
        if !known && PublicKey::from_bytes(&author).is_err() {
            return lenient::decode(bytes);
        }
        if layout.payload_size > MAX_PAYLOAD_SIZE as u64 {
            return Err(LogError::PayloadTooLarge(layout.payload_size));
        }
        Ok(Entry {
            bytes: bytes.into(),
            hash: Hash::digest(bytes),
            log_id: layout.log_id,
            seq_num: layout.seq_num,
            payload_size: layout.payload_size,
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
        let mut bytes = canonical::encode_for_signing(key_pair.public_key().as_bytes(), unsigned);
        let signature = key_pair.sign(&bytes);
        bytes.extend_from_slice(&signature);
        let hash = Hash::digest(&bytes);
        Ok(Entry {
            bytes: bytes.into_boxed_slice(),
            hash,
            log_id: unsigned.log_id,
            seq_num: unsigned.seq_num,
            payload_size: unsigned.payload_size,
        })
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
            if previous.is_end_of_feed() {
                return Err(LogError::AfterEndOfFeed);
            }
            if previous.author() != key_pair.public_key() || previous.log_id != log_id {
                return Err(LogError::LinkFromOtherLog);
            }
            if lipmaa.is_some_and(|l| l.author() != previous.author() || l.log_id != log_id) {
                return Err(LogError::LinkFromOtherLog);
            }
            unsigned.backlink = Some(previous.hash);
            if is_lipmaa_required(seq_num) {
                let lipmaa = lipmaa.ok_or(LogError::MissingLipmaa {
                    seq: seq_num,
                    lipmaa: lipmaa_seq(seq_num),
                })?;
                if lipmaa.seq_num != lipmaa_seq(seq_num) || lipmaa.author() != previous.author() {
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
        self.verify_with_keys(payload, backlink, lipmaa, &KeyCache::new())
    }

    /// As [`Entry::verify`], with the author's decompressed key from `keys` when it is there.
    pub fn verify_with_keys(
        &self,
        payload: Option<&[u8]>,
        backlink: Option<&Entry>,
        lipmaa: Option<&Entry>,
        keys: &KeyCache,
    ) -> Result<(), LogError> {
        if let Some(payload) = payload {
            self.verify_payload(payload)?;
        }
        self.verify_links(backlink, lipmaa)?;
        self.verify_signature_with_keys(keys)
    }

    pub fn verify_signature(&self) -> Result<(), LogError> {
        self.verify_signature_with_keys(&KeyCache::new())
    }

    /// As [`Entry::verify_signature`], with the author's decompressed key from `keys` when it is
    /// there.
    pub fn verify_signature_with_keys(&self, keys: &KeyCache) -> Result<(), LogError> {
        // Canonical bytes end in the raw 64-byte signature over everything before it.
        let (signed, signature) = self.bytes.split_at(self.bytes.len() - SIGNATURE_LEN);
        keys.verify(&self.author(), signed, signature)
            .map_err(|_| LogError::BadSignature)
    }

    pub fn verify_payload(&self, payload: &[u8]) -> Result<(), LogError> {
        if payload.len() as u64 != self.payload_size {
            return Err(LogError::PayloadSizeMismatch {
                claimed: self.payload_size,
                actual: payload.len() as u64,
            });
        }
        if Hash::digest(payload) != self.payload_hash() {
            return Err(LogError::PayloadHashMismatch);
        }
        Ok(())
    }

    /// Check the links to the backlink and lipmaa entries (no signature, no payload).
    pub fn verify_links(
        &self,
        backlink: Option<&Entry>,
        lipmaa: Option<&Entry>,
    ) -> Result<(), LogError> {
        if self.seq_num == 1 {
            return match (self.backlink(), self.lipmaa_link()) {
                (None, None) => Ok(()),
                _ => Err(LogError::UnexpectedLink),
            };
        }
        let backlink = backlink.ok_or(LogError::MissingBacklink { seq: self.seq_num })?;
        self.check_same_log(backlink)?;
        // seq_num is at least 2 here, so this cannot underflow.
        if backlink.seq_num != self.seq_num - 1 || Some(backlink.hash) != self.backlink() {
            return Err(LogError::BacklinkMismatch);
        }
        if backlink.is_end_of_feed() {
            return Err(LogError::AfterEndOfFeed);
        }
        if let Some(link) = self.lipmaa_link() {
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
        if other.author_bytes() == self.author_bytes() && other.log_id == self.log_id {
            Ok(())
        } else {
            Err(LogError::LinkFromOtherLog)
        }
    }

    fn author_bytes(&self) -> &[u8] {
        &self.bytes[1..1 + PUBLIC_KEY_LEN]
    }

    /// The 64-byte hash of the YAMF hash starting at `at` (after its two header bytes).
    fn yamf_at(&self, at: usize) -> Hash {
        let mut hash = [0; HASH_LEN];
        hash.copy_from_slice(&self.bytes[at + 2..at + canonical::YAMF_LEN]);
        Hash::from_array(hash)
    }

    /// Where the links start: after tag, author, log id and sequence number.
    fn links_at(&self) -> usize {
        1 + PUBLIC_KEY_LEN
            + canonical::varu64_len(self.log_id)
            + canonical::varu64_len(self.seq_num)
    }

    pub fn author(&self) -> PublicKey {
        let mut author = [0; PUBLIC_KEY_LEN];
        author.copy_from_slice(self.author_bytes());
        // Checked when the entry was decoded or signed.
        PublicKey::from_valid_bytes(author)
    }
    pub fn log_id(&self) -> u64 {
        self.log_id
    }
    pub fn seq_num(&self) -> u64 {
        self.seq_num
    }
    pub fn backlink(&self) -> Option<Hash> {
        if self.seq_num < 2 {
            return None;
        }
        let skip = if self.needs_lipmaa_entry() {
            canonical::YAMF_LEN
        } else {
            0
        };
        Some(self.yamf_at(self.links_at() + skip))
    }
    pub fn lipmaa_link(&self) -> Option<Hash> {
        self.needs_lipmaa_entry()
            .then(|| self.yamf_at(self.links_at()))
    }
    pub fn payload_hash(&self) -> Hash {
        self.yamf_at(self.bytes.len() - SIGNATURE_LEN - canonical::YAMF_LEN)
    }
    pub fn payload_size(&self) -> u64 {
        self.payload_size
    }
    pub fn is_end_of_feed(&self) -> bool {
        self.bytes[0] == 1
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
        self.seq_num > 1 && is_lipmaa_required(self.seq_num)
    }
}

/// The sequence number the lipmaa link of entry `seq` points to (0 for seq 1, and for 0).
///
/// Bamboo's `lipmaa` in u64 arithmetic: the reference (the `lipmaa-link` crate, which the tests
/// compare with) divides u128s, and the software divider that needs costs the browser package.
/// With m_k = (3^k - 1) / 2 = 1, 4, 13, 40, … the smallest one at least `seq`: when `seq` is m_k
/// the link jumps back 3^(k-1); otherwise `seq` is reduced modulo m_(k-1), m_(k-2), … until
/// nothing is left, and the last modulus is the jump.
pub fn lipmaa_seq(seq: u64) -> u64 {
    let mut m: u64 = 1;
    while m < seq {
        match m.checked_mul(3).and_then(|m| m.checked_add(1)) {
            Some(next) => m = next,
            // m_42 does not fit a u64: `seq` is above m_41, which is m now.
            None => break,
        }
    }
    if m == seq {
        return seq - (2 * ((m - 1) / 3) + 1);
    }
    if m > seq {
        m = (m - 1) / 3;
    }
    if m == 0 {
        return 0;
    }
    let mut rest = seq % m;
    while rest != 0 {
        m = (m - 1) / 3;
        rest %= m;
    }
    seq - m
}

/// Whether entry `seq` (at least 1) carries a lipmaa link besides its backlink: Bamboo leaves it
/// out when it would point at the same entry.
fn is_lipmaa_required(seq: u64) -> bool {
    lipmaa_seq(seq) != seq - 1
}

/// Bamboo's layout, read and written directly: tag byte (0, or 1 for end of feed), author key,
/// log id and sequence number as varu64, the lipmaa link where required and the backlink after
/// seq 1 (each a YAMF BLAKE2b hash: type 0, length 64, digest), payload size as varu64, payload
/// hash as YAMF, and the 64-byte signature over everything before it.
mod canonical {
    use super::*;

    /// A YAMF BLAKE2b-512 hash: two header bytes and the digest.
    pub const YAMF_LEN: usize = 2 + HASH_LEN;
    const YAMF_HEADER: [u8; 2] = [0, HASH_LEN as u8];

    /// What [`parse`] reads besides the parts later read from the bytes themselves.
    pub struct Layout {
        pub author: [u8; PUBLIC_KEY_LEN],
        pub log_id: u64,
        pub seq_num: u64,
        pub payload_size: u64,
    }

    /// Read `input` as the canonical encoding of an entry: tag 0 or 1, minimal varu64s, YAMF
    /// headers of BLAKE2b-512, the links Bamboo's layout has at this sequence number, nothing
    /// after the signature. The author key is not checked here. `None` for anything else.
    pub fn parse(input: &[u8]) -> Option<Layout> {
        let mut bytes = input;
        if take(&mut bytes, 1)?[0] > 1 {
            return None;
        }
        let mut author = [0; PUBLIC_KEY_LEN];
        author.copy_from_slice(take(&mut bytes, PUBLIC_KEY_LEN)?);
        let log_id = varu64(&mut bytes)?;
        let seq_num = varu64(&mut bytes)?;
        let links = match seq_num {
            0 => return None,
            1 => 0,
            _ if is_lipmaa_required(seq_num) => 2,
            _ => 1,
        };
        for _ in 0..links {
            yamf(&mut bytes)?;
        }
        let payload_size = varu64(&mut bytes)?;
        yamf(&mut bytes)?;
        take(&mut bytes, SIGNATURE_LEN)?;
        bytes.is_empty().then_some(Layout {
            author,
            log_id,
            seq_num,
            payload_size,
        })
    }

    fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        if bytes.len() < n {
            return None;
        }
        let (head, tail) = bytes.split_at(n);
        *bytes = tail;
        Some(head)
    }

    /// A varu64 in its one canonical form: values below 248 in the first byte; otherwise
    /// `247 + n` then the value in `n` big-endian bytes, as few as it needs, and at least 248.
    /// (Varu64 has no other valid form: the lenient reader uses this too.)
    pub fn varu64(bytes: &mut &[u8]) -> Option<u64> {
        let first = take(bytes, 1)?[0];
        if first < 248 {
            return Some(u64::from(first));
        }
        let rest = take(bytes, usize::from(first - 247))?;
        if rest[0] == 0 {
            return None;
        }
        let value = rest.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b));
        (value >= 248).then_some(value)
    }

    fn yamf(bytes: &mut &[u8]) -> Option<()> {
        (take(bytes, YAMF_LEN)?[..2] == YAMF_HEADER).then_some(())
    }

    pub fn varu64_len(value: u64) -> usize {
        if value < 248 {
            1
        } else {
            1 + 8 - value.leading_zeros() as usize / 8
        }
    }

    fn put_varu64(out: &mut Vec<u8>, value: u64) {
        let len = varu64_len(value);
        if len == 1 {
            out.push(value as u8);
        } else {
            out.push(247 + (len - 1) as u8);
            out.extend_from_slice(&value.to_be_bytes()[9 - len..]);
        }
    }

    fn put_yamf(out: &mut Vec<u8>, hash: &Hash) {
        out.extend_from_slice(&YAMF_HEADER);
        out.extend_from_slice(hash.as_bytes());
    }

    /// The bytes an author signs: the encoding up to the signature. The caller has checked the
    /// links against the layout.
    pub fn encode_for_signing(author: &[u8; PUBLIC_KEY_LEN], unsigned: &UnsignedEntry) -> Vec<u8> {
        let mut out = Vec::with_capacity(MAX_ENTRY_SIZE);
        out.push(u8::from(unsigned.is_end_of_feed));
        out.extend_from_slice(author);
        put_varu64(&mut out, unsigned.log_id);
        put_varu64(&mut out, unsigned.seq_num);
        if let Some(lipmaa) = &unsigned.lipmaa_link {
            put_yamf(&mut out, lipmaa);
        }
        if let Some(backlink) = &unsigned.backlink {
            put_yamf(&mut out, backlink);
        }
        put_varu64(&mut out, unsigned.payload_size);
        put_yamf(&mut out, &unsigned.payload_hash);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bamboo_rs_core::YamfHash;

    /// The reference: what this module did before it read entries itself. `bamboo-rs-core`'s
    /// lenient decode, then a re-encoding that must equal the input.
    fn decode_reference(bytes: &[u8]) -> Result<Entry, LogError> {
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
        PublicKey::from_bytes(decoded.author.as_bytes())
            .map_err(|e| LogError::Malformed(e.to_string()))?;
        for link in [&decoded.backlink, &decoded.lipmaa_link]
            .into_iter()
            .flatten()
        {
            yamf_to_hash(link)?;
        }
        yamf_to_hash(&decoded.payload_hash)?;
        Ok(Entry {
            bytes: bytes.into(),
            hash: Hash::digest(bytes),
            log_id: decoded.log_id,
            seq_num: decoded.seq_num,
            payload_size: decoded.payload_size,
        })
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

    #[test]
    fn constants_and_links_match_bamboo_rs_core() {
        assert_eq!(MAX_ENTRY_SIZE, bamboo_rs_core::entry::MAX_ENTRY_SIZE);
        for seq in (1..2_000).chain([u64::MAX / 3, u64::MAX - 1, u64::MAX]) {
            assert_eq!(lipmaa_seq(seq), bamboo_rs_core::lipmaa(seq));
            assert_eq!(
                is_lipmaa_required(seq),
                bamboo_rs_core::entry::is_lipmaa_required(seq)
            );
        }
    }

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

    /// Every single-bit flip, truncation and appended byte of `bytes`.
    fn mutants(bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut all: Vec<Vec<u8>> = (0..bytes.len() * 8)
            .map(|bit| {
                let mut mutant = bytes.to_vec();
                mutant[bit / 8] ^= 1 << (bit % 8);
                mutant
            })
            .collect();
        all.extend((0..bytes.len()).map(|len| bytes[..len].to_vec()));
        for extra in [0u8, 1, 0xff] {
            let mut longer = bytes.to_vec();
            longer.push(extra);
            all.push(longer);
        }
        all
    }

    #[test]
    fn the_one_pass_decoder_agrees_with_the_reference_decoder() {
        let key_pair = KeyPair::generate();
        let mut keys = KeyCache::new();
        keys.insert(key_pair.public_key());
        // Seq 1 (no links), 2 (backlink only), 4 (both links), 300 (two-byte varu64), and a log
        // id of several bytes.
        let log = chain(&key_pair, 300);
        let big_log = Entry::publish(&key_pair, 1 << 40, b"far", None, None).unwrap();
        let samples = [&log[0].0, &log[1].0, &log[3].0, &log[299].0, &big_log];
        let (mut accepted, mut refused) = (0, 0);
        for entry in samples {
            for mutant in mutants(entry.bytes()) {
                let reference = decode_reference(&mutant);
                assert_eq!(
                    Entry::decode(&mutant),
                    reference,
                    "{}",
                    hex::encode(&mutant)
                );
                assert_eq!(lenient::decode(&mutant), reference);
                assert_eq!(Entry::decode_with_keys(&mutant, &keys), reference);
                match reference {
                    Ok(_) => accepted += 1,
                    Err(_) => refused += 1,
                }
            }
        }
        // Flips of the signature and of hash digests still decode (they fail verification).
        assert!(accepted > 0 && refused > 0);
    }

    #[test]
    fn encoding_matches_bamboo_rs_core_for_large_numbers() {
        let key_pair = KeyPair::generate();
        for value in [247, 248, 255, 256, 65_535, 65_536, 1 << 40, u64::MAX] {
            let unsigned = UnsignedEntry {
                log_id: value,
                seq_num: 1,
                backlink: None,
                lipmaa_link: None,
                payload_hash: Hash::digest(b"x"),
                payload_size: value.min(MAX_PAYLOAD_SIZE as u64),
                is_end_of_feed: value == u64::MAX,
            };
            let entry = Entry::sign(&key_pair, &unsigned).unwrap();
            let decoded = bamboo_rs_core::decode(entry.bytes()).unwrap();
            let mut out = [0u8; MAX_ENTRY_SIZE];
            let len = decoded.encode(&mut out).unwrap();
            assert_eq!(&out[..len], entry.bytes());
            assert_eq!(decoded.log_id, value);
            assert_eq!(Entry::decode(entry.bytes()).unwrap(), entry);
            assert_eq!(entry.is_end_of_feed(), value == u64::MAX);
        }
    }

    #[test]
    fn fields_read_from_the_bytes_match_what_was_signed() {
        let key_pair = KeyPair::generate();
        let log = chain(&key_pair, 300);
        for (i, (entry, payload)) in log.iter().enumerate() {
            let seq = i as u64 + 1;
            let lipmaa = lipmaa_seq(seq);
            assert_eq!(entry.author(), key_pair.public_key());
            assert_eq!(entry.backlink(), i.checked_sub(1).map(|b| log[b].0.hash()));
            let expected_lipmaa =
                (seq > 1 && lipmaa != seq - 1).then(|| log[lipmaa as usize - 1].0.hash());
            assert_eq!(entry.lipmaa_link(), expected_lipmaa);
            assert_eq!(entry.payload_hash(), Hash::digest(payload));
        }
    }

    #[test]
    fn lipmaa_seq_is_the_reference_lipmaa() {
        for seq in 1..=200_000 {
            assert_eq!(lipmaa_seq(seq), lipmaa_link::lipmaa(seq), "seq {seq}");
        }
        // Around each m_k = (3^k - 1) / 2 and 3^k, up to the top of the u64 range (past m_41 the
        // next m_k no longer fits a u64).
        let mut edges = vec![u64::MAX];
        let mut m = Some(1u64);
        while let Some(k) = m {
            edges.push(k);
            m = k.checked_mul(3).and_then(|m| m.checked_add(1));
        }
        let mut power = Some(1u64);
        while let Some(p) = power {
            edges.push(p);
            power = p.checked_mul(3);
        }
        assert!(edges.contains(&18_236_498_188_585_393_201), "m_41");
        for seq in edges
            .into_iter()
            .flat_map(|e| e.saturating_sub(2)..=e.saturating_add(2))
        {
            if seq > 0 {
                assert_eq!(lipmaa_seq(seq), lipmaa_link::lipmaa(seq), "seq {seq}");
            }
        }
        assert_eq!(lipmaa_seq(0), 0);
    }

    proptest::proptest! {
        #[test]
        fn lipmaa_seq_is_the_reference_lipmaa_anywhere(seq in 1u64..) {
            proptest::prop_assert_eq!(lipmaa_seq(seq), lipmaa_link::lipmaa(seq));
        }

        #[test]
        fn random_bytes_decode_as_the_reference_decodes_them(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400),
        ) {
            proptest::prop_assert_eq!(Entry::decode(&bytes), decode_reference(&bytes));
        }

        #[test]
        fn edited_entries_decode_as_the_reference_decodes_them(
            seq in 0usize..8,
            edits in proptest::collection::vec(
                (0usize..300, proptest::prelude::any::<u8>()), 0..4),
            cut in 0usize..300,
            tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..70),
        ) {
            let entries = fixture();
            let mut bytes = entries[seq % entries.len()].bytes().to_vec();
            for (at, value) in edits {
                let at = at % bytes.len();
                bytes[at] = value;
            }
            bytes.truncate(bytes.len() - cut % bytes.len());
            bytes.extend_from_slice(&tail);
            let reference = decode_reference(&bytes);
            proptest::prop_assert_eq!(lenient::decode(&bytes), reference.clone());
            proptest::prop_assert_eq!(Entry::decode(&bytes), reference);
        }

        #[test]
        fn replaced_bytes_decode_as_the_reference_decodes_them(
            at in 0usize..300,
            value in proptest::prelude::any::<u8>(),
            seq in 0usize..8,
        ) {
            let entries = fixture();
            let mut bytes = entries[seq % entries.len()].bytes().to_vec();
            let at = at % bytes.len();
            bytes[at] = value;
            proptest::prop_assert_eq!(Entry::decode(&bytes), decode_reference(&bytes));
        }
    }

    fn fixture() -> &'static [Entry] {
        static ENTRIES: std::sync::OnceLock<Vec<Entry>> = std::sync::OnceLock::new();
        ENTRIES.get_or_init(|| {
            chain(&KeyPair::generate(), 8)
                .into_iter()
                .map(|(e, _)| e)
                .collect()
        })
    }
}
