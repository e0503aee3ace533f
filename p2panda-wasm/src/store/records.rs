//! Conversion between JS values read from IndexedDB and Rust bytes.
//!
//! Every value here came from the database and is checked before use: a wrong type, length or
//! order gives [`StoreError::Corrupt`], never a panic (`copy_to` is only called with matching
//! lengths).

use js_sys::{Array, ArrayBuffer, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use super::codec;
use super::error::StoreError;
use super::StoredEntry;

/// Bytes gathered on the JS side before one copy into wasm memory. Copying value by value
/// costs a JS view per record (measured 3x slower); one copy of everything would grow the
/// wasm heap, which never shrinks, by the size of the whole store (batches are smaller anyway).
const CHUNK_BYTES: usize = 4 << 20;

/// Copy stored bytes (a `Uint8Array`, or an `ArrayBuffer`, as binary keys come back) that must
/// be exactly `N` long.
pub(crate) fn fixed<const N: usize>(value: &JsValue, what: &str) -> Result<[u8; N], StoreError> {
    let view = if let Some(array) = value.dyn_ref::<Uint8Array>() {
        array.clone()
    } else if let Some(buffer) = value.dyn_ref::<ArrayBuffer>() {
        Uint8Array::new(buffer)
    } else {
        return Err(StoreError::Corrupt(format!("{what} is not binary")));
    };
    let len = view.length() as usize;
    if len != N {
        return Err(StoreError::Corrupt(format!(
            "{what} has {len} bytes, expected {N}"
        )));
    }
    let mut out = [0u8; N];
    view.copy_to(&mut out);
    Ok(out)
}

/// A result that must be a JS array (from `getAll` / `getAllKeys`).
pub(crate) fn array(value: JsValue, what: &str) -> Result<Array, StoreError> {
    value
        .dyn_into::<Array>()
        .map_err(|_| StoreError::Corrupt(format!("{what} is not an array")))
}

/// The key of the last value of a `getAll` on `entries` (its first 48 bytes), as a view.
pub(crate) fn last_key(values: &Array) -> Result<Option<Uint8Array>, StoreError> {
    let Some(last) = values.length().checked_sub(1) else {
        return Ok(None);
    };
    let value = values
        .get(last)
        .dyn_into::<Uint8Array>()
        .map_err(|_| StoreError::Corrupt("stored entry value is not a Uint8Array".into()))?;
    if (value.byte_length() as usize) < codec::KEY_LEN {
        return Err(StoreError::Corrupt(
            "stored entry value is too short".into(),
        ));
    }
    Ok(Some(value.subarray(0, codec::KEY_LEN as u32)))
}

/// Copy the bytes of the values of a `getAll` (each a `Uint8Array`) to the start of `bytes`, and
/// their lengths to `lengths`; returns how many bytes were written. `bytes` only grows (what is
/// past the returned length is left over from earlier use), so a buffer used batch after batch
/// is not zeroed again each time.
pub(crate) fn gather(
    values: &Array,
    bytes: &mut Vec<u8>,
    lengths: &mut Vec<u32>,
) -> Result<usize, StoreError> {
    let count = values.length();
    let mut used = 0;
    let mut chunk: Vec<(Uint8Array, u32)> = Vec::new();
    let mut next = 0;
    while next < count {
        // Gather values until the chunk is full (at least one value per chunk).
        chunk.clear();
        let mut total = 0usize;
        while next < count && total < CHUNK_BYTES {
            let value = values.get(next).dyn_into::<Uint8Array>().map_err(|_| {
                StoreError::Corrupt("stored entry value is not a Uint8Array".into())
            })?;
            let len = value.byte_length();
            total += len as usize;
            lengths.push(len);
            chunk.push((value, len));
            next += 1;
        }
        let total_u32 = u32::try_from(total)
            .map_err(|_| StoreError::Corrupt(format!("stored entry of {total} bytes")))?;
        let gathered = Uint8Array::new_with_length(total_u32);
        let mut offset = 0u32;
        for (value, len) in &chunk {
            gathered.set(value, offset);
            offset += len;
        }
        let end = used + total;
        if bytes.len() < end {
            bytes.resize(end, 0);
        }
        gathered.copy_to(&mut bytes[used..end]);
        used = end;
    }
    Ok(used)
}

/// Decode the values of a `getAll` on `fork_evidence` and append them to `out`, checking that
/// (position, entry bytes) strictly increase (`getAll` returns key order, and the key is the
/// position and the entry, so values out of order do not match their keys).
pub(crate) fn append_fork_evidence(
    values: &Array,
    out: &mut Vec<StoredEntry>,
) -> Result<(), StoreError> {
    let mut bytes = Vec::new();
    let mut lengths = Vec::with_capacity(values.length() as usize);
    let used = gather(values, &mut bytes, &mut lengths)?;
    out.reserve(lengths.len());
    let mut rest = &bytes[..used];
    for len in lengths {
        let (Some(value), Some(tail)) = (rest.get(..len as usize), rest.get(len as usize..)) else {
            return Err(StoreError::Corrupt(
                "stored values changed while reading".into(),
            ));
        };
        rest = tail;
        let record = codec::decode_value(value)?;
        let stored = StoredEntry {
            author: record.position.author,
            log_id: record.position.log_id,
            seq: record.position.seq,
            entry: record.entry.to_vec(),
            payload: record.payload.to_vec(),
        };
        if let Some(previous) = out.last() {
            check_order(previous, &stored)?;
        }
        out.push(stored);
    }
    Ok(())
}

fn check_order(previous: &StoredEntry, next: &StoredEntry) -> Result<(), StoreError> {
    let key = |e: &StoredEntry| (e.author, e.log_id, e.seq);
    let key_and_entry = |e| (key(e), &e.entry);
    if key_and_entry(previous) < key_and_entry(next) {
        Ok(())
    } else {
        Err(StoreError::Corrupt(format!(
            "stored fork evidence (log {}, seq {}) does not match its key",
            next.log_id, next.seq
        )))
    }
}
