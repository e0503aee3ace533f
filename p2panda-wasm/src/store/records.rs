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
/// wasm heap, which never shrinks, by the size of the whole store.
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

/// How consecutive records must be ordered (`getAll` returns key order, and the key is
/// repeated in the value, so out-of-order values mean the record does not match its key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// `entries`: positions strictly increase.
    Positions,
    /// `fork_evidence`: (position, entry bytes) strictly increase.
    PositionsThenEntries,
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

/// Decode the values of a `getAll` on `entries` or `fork_evidence` and append them to `out`,
/// checking that they continue its order.
pub(crate) fn append_stored_entries(
    values: &Array,
    order: Order,
    out: &mut Vec<StoredEntry>,
) -> Result<(), StoreError> {
    let count = values.length();
    out.reserve(count as usize);
    let mut chunk: Vec<(Uint8Array, u32)> = Vec::new();
    let mut scratch: Vec<u8> = Vec::new();
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
        scratch.resize(total, 0);
        gathered.copy_to(&mut scratch);

        let mut rest = &scratch[..];
        for (_, len) in &chunk {
            let len = *len as usize;
            let (Some(bytes), Some(tail)) = (rest.get(..len), rest.get(len..)) else {
                return Err(StoreError::Corrupt(
                    "stored values changed while reading".into(),
                ));
            };
            rest = tail;
            let record = codec::decode_value(bytes)?;
            let stored = StoredEntry {
                author: record.position.author,
                log_id: record.position.log_id,
                seq: record.position.seq,
                entry: record.entry.to_vec(),
                payload: record.payload.to_vec(),
            };
            if let Some(previous) = out.last() {
                check_order(previous, &stored, order)?;
            }
            out.push(stored);
        }
    }
    Ok(())
}

fn check_order(previous: &StoredEntry, next: &StoredEntry, order: Order) -> Result<(), StoreError> {
    let position = |e: &StoredEntry| (e.author, e.log_id, e.seq);
    let in_order = match order {
        Order::Positions => position(previous) < position(next),
        Order::PositionsThenEntries => {
            (position(previous), &previous.entry) < (position(next), &next.entry)
        }
    };
    if in_order {
        Ok(())
    } else {
        Err(StoreError::Corrupt(format!(
            "stored entry (log {}, seq {}) does not match its key",
            next.log_id, next.seq
        )))
    }
}
