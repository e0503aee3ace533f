//! Byte layout of keys and values in the `entries` and `fork_evidence` object stores.
//!
//! Keys are 48-byte binary keys: `author (32) ‖ log_id (u64 big-endian) ‖ seq (u64 big-endian)`.
//! IndexedDB orders binary keys bytewise, and big-endian integers sort like the numbers, so one
//! `getAll` returns entries ordered by (author, log_id, seq). We chose this over an array key
//! `[author, log_id, seq]` because it keeps the full u64 range (a JS Number is exact only up to
//! 2^53, so array keys would need a range check and a second error path), costs one JS object
//! per key instead of three, and stores compactly.
//!
//! Values are one `Uint8Array`: `key (48) ‖ entry length (u32 little-endian) ‖ entry ‖ payload`.
//! Repeating the key in the value lets a load use `getAll` alone instead of `getAllKeys` +
//! `getAll`: measured in headless Chromium, `getAllKeys` adds 20-40 % to the load, the 48 extra
//! bytes per value (~16 %) less. As a `Uint8Array` the value loads as fast as an `ArrayBuffer`
//! and ~1.5x faster than an object of separate arrays holding the same bytes
//! (`value_format_comparison` in `tests/store.rs`).
//!
//! Everything decoded here comes from the database and is treated as outside input: malformed
//! bytes give [`StoreError::Corrupt`], never a panic.

use super::error::StoreError;

/// Length of an entry key.
pub(crate) const KEY_LEN: usize = 48;
/// Key and entry-length prefix at the start of every value.
const HEADER_LEN: usize = KEY_LEN + 4;

/// Position of an entry: which log of which author, and where in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Position {
    pub author: [u8; 32],
    pub log_id: u64,
    pub seq: u64,
}

/// Encode a position as a binary key that sorts by (author, log_id, seq).
pub(crate) fn encode_key(position: &Position) -> [u8; KEY_LEN] {
    let mut key = [0u8; KEY_LEN];
    key[..32].copy_from_slice(&position.author);
    key[32..40].copy_from_slice(&position.log_id.to_be_bytes());
    key[40..48].copy_from_slice(&position.seq.to_be_bytes());
    key
}

/// Decode a 48-byte key.
pub(crate) fn decode_key(key: &[u8; KEY_LEN]) -> Position {
    let mut author = [0u8; 32];
    let mut log_id = [0u8; 8];
    let mut seq = [0u8; 8];
    author.copy_from_slice(&key[..32]);
    log_id.copy_from_slice(&key[32..40]);
    seq.copy_from_slice(&key[40..48]);
    Position {
        author,
        log_id: u64::from_be_bytes(log_id),
        seq: u64::from_be_bytes(seq),
    }
}

/// Append the value of an entry (`key ‖ entry length ‖ entry ‖ payload`) to `out`.
///
/// Fails only for an entry longer than 4 GiB, which IndexedDB could not store anyway.
pub(crate) fn encode_value(
    position: &Position,
    entry: &[u8],
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), StoreError> {
    let entry_len = u32::try_from(entry.len()).map_err(|_| {
        StoreError::Transaction(format!("entry of {} bytes is too large", entry.len()))
    })?;
    out.reserve(HEADER_LEN + entry.len() + payload.len());
    out.extend_from_slice(&encode_key(position));
    out.extend_from_slice(&entry_len.to_le_bytes());
    out.extend_from_slice(entry);
    out.extend_from_slice(payload);
    Ok(())
}

/// A decoded value: the position it claims and slices of its entry and payload.
pub(crate) struct Record<'a> {
    pub position: Position,
    pub entry: &'a [u8],
    pub payload: &'a [u8],
}

/// Split a stored value into position, entry and payload.
pub(crate) fn decode_value(value: &[u8]) -> Result<Record<'_>, StoreError> {
    let corrupt = || {
        StoreError::Corrupt(format!(
            "stored value of {} bytes is malformed",
            value.len()
        ))
    };
    let key: &[u8; KEY_LEN] = value
        .get(..KEY_LEN)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(corrupt)?;
    let prefix: [u8; 4] = value
        .get(KEY_LEN..HEADER_LEN)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(corrupt)?;
    let entry_len = usize::try_from(u32::from_le_bytes(prefix)).map_err(|_| corrupt())?;
    let rest = value.get(HEADER_LEN..).ok_or_else(corrupt)?;
    if entry_len > rest.len() {
        return Err(corrupt());
    }
    let (entry, payload) = rest.split_at(entry_len);
    Ok(Record {
        position: decode_key(key),
        entry,
        payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_round_trip_and_order() {
        let a = Position {
            author: [1; 32],
            log_id: 2,
            seq: u64::MAX,
        };
        let b = Position {
            author: [1; 32],
            log_id: 3,
            seq: 0,
        };
        assert_eq!(decode_key(&encode_key(&a)), a);
        assert!(encode_key(&a) < encode_key(&b));
    }

    #[test]
    fn value_round_trip_and_corruption() {
        let position = Position {
            author: [9; 32],
            log_id: 1,
            seq: 2,
        };
        let mut value = Vec::new();
        assert!(encode_value(&position, b"entry", b"payload", &mut value).is_ok());
        let record = decode_value(&value);
        assert!(
            matches!(record, Ok(Record { position: p, entry: b"entry", payload: b"payload" }) if p == position)
        );
        let mut empty = Vec::new();
        assert!(encode_value(&position, b"", b"", &mut empty).is_ok());
        assert!(matches!(
            decode_value(&empty),
            Ok(Record {
                entry: b"",
                payload: b"",
                ..
            })
        ));

        assert!(decode_value(&[]).is_err());
        assert!(decode_value(&value[..KEY_LEN + 3]).is_err());
        let mut lying = value.clone();
        lying[KEY_LEN] = 200;
        assert!(decode_value(&lying).is_err());
        lying[KEY_LEN..HEADER_LEN].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_value(&lying).is_err());
    }
}
