//! The lenient reading of Bamboo entries that `bamboo-rs-core` 0.1 does, kept to refuse input
//! exactly as this module did when it decoded through that crate: the same error for the same
//! bytes, messages included.
//!
//! Only input the one-pass reader refused comes here, so speed does not matter. The reading is
//! lenient (any tag byte, any YAMF length byte, trailing bytes); what it reads is then accepted
//! only when it was also the canonical encoding, as the re-encoding check did.

use super::canonical::{varu64, YAMF_LEN};
use super::{is_lipmaa_required, Entry, LogError, MAX_ENTRY_SIZE, MAX_PAYLOAD_SIZE};
use crate::hash::{Hash, HASH_LEN};
use crate::identity::{PublicKey, PUBLIC_KEY_LEN, SIGNATURE_LEN};

/// What [`read`] found, and whether the bytes were the canonical encoding of it.
struct Read {
    log_id: u64,
    seq_num: u64,
    payload_size: u64,
    canonical: bool,
}

/// Decode `bytes` as `bamboo-rs-core`'s decoder followed by the canonical-bytes check did.
pub(super) fn decode(bytes: &[u8]) -> Result<Entry, LogError> {
    if bytes.len() > MAX_ENTRY_SIZE {
        return Err(LogError::EntryTooLarge(bytes.len()));
    }
    let read = read(bytes).map_err(|message| LogError::Malformed(message.into()))?;
    if !read.canonical {
        return Err(LogError::NonCanonical);
    }
    if read.payload_size > MAX_PAYLOAD_SIZE as u64 {
        return Err(LogError::PayloadTooLarge(read.payload_size));
    }
    Ok(Entry {
        bytes: bytes.into(),
        hash: Hash::digest(bytes),
        log_id: read.log_id,
        seq_num: read.seq_num,
        payload_size: read.payload_size,
    })
}

// The messages of `bamboo-rs-core`'s decode errors (snafu displays a variant without a message as
// its name, hence "DecodeError").
const EMPTY: &str = "Bytes to decode had length of 0";
const AUTHOR: &str = "Could not decode author public key from bytes";
const LOG_ID: &str = "Could not decode log_id, error with varu64 encoding";
const SEQ: &str = "Could not decode entry sequence number, error with varu64 encoding";
const SEQ_ZERO: &str = "Entry sequence must be larger than 0 but was 0";
const PAYLOAD_SIZE: &str = "Could not decode payload size, error with varu64 encoding";
const SIGNATURE: &str = "Could not decode signature: DecodeError";
/// For each YAMF hash: the message when its type is not a varu64, and when it is not BLAKE2b
/// followed by at least 65 bytes.
const LIPMAA: [&str; 2] = [
    "Could not decode lipmaa link yamf hash DecodeVaru64Error",
    "Could not decode lipmaa link yamf hash DecodeError",
];
const BACKLINK: [&str; 2] = [
    "Could not decode backlink yamf hash: DecodeVaru64Error",
    "Could not decode backlink yamf hash: DecodeError",
];
const PAYLOAD_HASH: [&str; 2] = [
    "Could not decode payload hash DecodeVaru64Error",
    "Could not decode payload hash DecodeError",
];

fn read(input: &[u8]) -> Result<Read, &'static str> {
    let (&tag, rest) = input.split_first().ok_or(EMPTY)?;
    // Any tag other than 1 reads as "not end of feed", but only 0 and 1 are written.
    let mut canonical = tag <= 1;
    let author = rest.get(..PUBLIC_KEY_LEN).ok_or(AUTHOR)?;
    PublicKey::from_bytes(author).map_err(|_| AUTHOR)?;
    let mut bytes = &rest[PUBLIC_KEY_LEN..];
    let log_id = varu64(&mut bytes).ok_or(LOG_ID)?;
    let seq_num = varu64(&mut bytes).ok_or(SEQ)?;
    if seq_num == 0 {
        return Err(SEQ_ZERO);
    }
    if seq_num > 1 {
        if is_lipmaa_required(seq_num) {
            yamf(&mut bytes, &mut canonical, LIPMAA)?;
        }
        yamf(&mut bytes, &mut canonical, BACKLINK)?;
    }
    let payload_size = varu64(&mut bytes).ok_or(PAYLOAD_SIZE)?;
    yamf(&mut bytes, &mut canonical, PAYLOAD_HASH)?;
    if bytes.len() < SIGNATURE_LEN {
        return Err(SIGNATURE);
    }
    // Bytes after the signature are ignored by the lenient reading, and never written.
    canonical &= bytes.len() == SIGNATURE_LEN;
    Ok(Read {
        log_id,
        seq_num,
        payload_size,
        canonical,
    })
}

/// A YAMF hash read leniently: a varu64 type that must be 0 (BLAKE2b), then a length byte that is
/// skipped unchecked (canonical only when it is 64), then the 64-byte digest.
fn yamf(
    bytes: &mut &[u8],
    canonical: &mut bool,
    [bad_type, bad_hash]: [&'static str; 2],
) -> Result<(), &'static str> {
    match varu64(bytes) {
        None => Err(bad_type),
        Some(0) if bytes.len() > HASH_LEN => {
            *canonical &= bytes[0] == HASH_LEN as u8;
            *bytes = &bytes[YAMF_LEN - 1..];
            Ok(())
        }
        Some(_) => Err(bad_hash),
    }
}
