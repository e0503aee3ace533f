//! Reading the `entries` object store batch by batch, so a node restores one batch while
//! IndexedDB reads the next.
//!
//! Each batch is one `getAll` of up to [`LOAD_BATCH`] values. The request for the next batch is
//! made as soon as the current one arrived (values repeat their key, see `codec`, so its last
//! key is known), before the caller works on the current one: the browser reads from disk while
//! wasm restores. The values of a batch are copied into one wasm buffer and handed out as
//! borrowed [`EntryRef`]s, so nothing is allocated per entry.

use js_sys::{Array, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{IdbKeyRange, IdbObjectStore, IdbRequest, IdbTransactionMode, Performance};

use super::codec::{self, Position};
use super::error::{from_dom_error, is_named, StoreError};
use super::records;
use super::schema::ENTRIES;
use super::{idb, Store};

/// Values per `getAll` request when reading entries: small enough that restoring one batch
/// overlaps reading the next and that the JS memory of a batch stays small, large enough that
/// the requests' fixed cost does not add up (measured in headless Chromium, see `bench/`).
pub const LOAD_BATCH: u32 = 4_000;

/// One stored entry, borrowed from the batch it was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryRef<'a> {
    /// Public key of the author.
    pub author: &'a [u8; 32],
    /// Log of the author this entry belongs to.
    pub log_id: u64,
    /// Sequence number in that log.
    pub seq: u64,
    /// The encoded entry.
    pub entry: &'a [u8],
    /// The payload (may be empty when not known).
    pub payload: &'a [u8],
}

/// Where one record of a batch lies in the batch's bytes.
#[derive(Debug, Clone, Copy)]
struct Span {
    position: Position,
    entry_start: usize,
    payload_start: usize,
    end: usize,
}

/// The entries of one `getAll`, in key order.
#[derive(Debug, Default)]
pub struct EntryBatch {
    /// The values, one after the other, in the first `used` bytes (the buffer is reused).
    bytes: Vec<u8>,
    used: usize,
    spans: Vec<Span>,
}

impl EntryBatch {
    /// The entries of this batch, ordered by (author, log_id, seq).
    pub fn iter(&self) -> impl ExactSizeIterator<Item = EntryRef<'_>> + '_ {
        self.spans.iter().map(|span| EntryRef {
            author: &span.position.author,
            log_id: span.position.log_id,
            seq: span.position.seq,
            // Spans were checked against `bytes` when they were made.
            entry: &self.bytes[span.entry_start..span.payload_start],
            payload: &self.bytes[span.payload_start..span.end],
        })
    }

    /// Number of entries in this batch.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True for a batch without entries.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Replace the contents with the values of a `getAll`, checking each value's layout and
    /// that the positions strictly increase after `previous`.
    fn fill(&mut self, values: &Array, previous: Option<Position>) -> Result<(), StoreError> {
        self.spans.clear();
        let mut lengths = Vec::with_capacity(values.length() as usize);
        self.used = records::gather(values, &mut self.bytes, &mut lengths)?;
        self.spans.reserve(lengths.len());
        let mut previous = previous;
        let mut start = 0usize;
        for len in lengths {
            let end = start + len as usize;
            let value = self.bytes[..self.used]
                .get(start..end)
                .ok_or_else(|| StoreError::Corrupt("stored values changed while reading".into()))?;
            let record = codec::decode_value(value)?;
            if previous.is_some_and(|p| p >= record.position) {
                return Err(StoreError::Corrupt(format!(
                    "stored entry (log {}, seq {}) does not match its key",
                    record.position.log_id, record.position.seq
                )));
            }
            previous = Some(record.position);
            let payload_start = end - record.payload.len();
            self.spans.push(Span {
                position: record.position,
                entry_start: payload_start - record.entry.len(),
                payload_start,
                end,
            });
            start = end;
        }
        Ok(())
    }
}

/// Time spent inside the reader, in milliseconds (see [`EntryReader::timings`]).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ReadTimings {
    /// Waiting for IndexedDB: the part of reading that restoring did not hide.
    pub wait_ms: f64,
    /// Copying the values into wasm memory and checking their layout and order.
    pub copy_ms: f64,
    /// Batches read.
    pub batches: u32,
    /// Entries read.
    pub entries: u64,
    /// Bytes read (keys, entries and payloads).
    pub bytes: u64,
}

/// Reads every stored entry in (author, log_id, seq) order, a batch at a time; see
/// [`Store::read_entries`].
pub struct EntryReader<'a> {
    store: &'a Store,
    object_store: IdbObjectStore,
    /// The `getAll` of the next batch, if there is one.
    pending: Option<IdbRequest>,
    batch: EntryBatch,
    /// Position of the last entry handed out, to check the order across batches.
    last: Option<Position>,
    limit: u32,
    clock: Clock,
    timings: ReadTimings,
}

impl<'a> EntryReader<'a> {
    pub(super) fn new(store: &'a Store, limit: u32) -> Result<EntryReader<'a>, StoreError> {
        let limit = limit.max(1);
        let (_tx, object_store) = store.store(ENTRIES, IdbTransactionMode::Readonly)?;
        let first = object_store
            .get_all_with_key_and_limit(&JsValue::UNDEFINED, limit)
            .map_err(|e| store.map_error(&e))?;
        Ok(EntryReader {
            store,
            object_store,
            pending: Some(first),
            batch: EntryBatch::default(),
            last: None,
            limit,
            clock: Clock::new(),
            timings: ReadTimings::default(),
        })
    }

    /// The next batch (never empty), or `None` once every entry was read. The batch after it
    /// is already requested when this returns, so work on the batch overlaps the read of the
    /// next.
    pub async fn next_batch(&mut self) -> Result<Option<&EntryBatch>, StoreError> {
        let Some(request) = self.pending.take() else {
            return Ok(None);
        };
        let started = self.clock.now();
        let values = records::array(idb::request(&request).await?, "values")?;
        let arrived = self.clock.now();
        self.timings.wait_ms += arrived - started;
        // After a full batch that happened to be the last one.
        if values.length() == 0 {
            return Ok(None);
        }
        if values.length() == self.limit {
            if let Some(last) = records::last_key(&values)? {
                self.pending = Some(self.request_after(&last)?);
            }
        }
        self.batch.fill(&values, self.last)?;
        // Give the JS values back to the garbage collector before the caller's work.
        drop(values);
        self.last = self.batch.spans.last().map(|s| s.position).or(self.last);
        self.timings.copy_ms += self.clock.now() - arrived;
        self.timings.batches += 1;
        self.timings.entries += self.batch.len() as u64;
        self.timings.bytes += self.batch.used as u64;
        Ok(Some(&self.batch))
    }

    /// Where the time went so far.
    pub fn timings(&self) -> ReadTimings {
        self.timings
    }

    /// Request the batch after the key `last`.
    fn request_after(&mut self, last: &js_sys::Uint8Array) -> Result<IdbRequest, StoreError> {
        let after =
            IdbKeyRange::lower_bound_with_open(last, true).map_err(|e| from_dom_error(&e))?;
        match self
            .object_store
            .get_all_with_key_and_limit(&after, self.limit)
        {
            Ok(request) => Ok(request),
            // The read transaction ends once no request is pending at a task's end; should it
            // have ended between batches, go on in a new one: we hold the lock, so only our
            // own writes can interleave, and they only add entries.
            Err(e) if is_named(&e, "TransactionInactiveError") => {
                self.object_store = self.store.store(ENTRIES, IdbTransactionMode::Readonly)?.1;
                self.object_store
                    .get_all_with_key_and_limit(&after, self.limit)
                    .map_err(|e| self.store.map_error(&e))
            }
            Err(e) => Err(self.store.map_error(&e)),
        }
    }
}

/// `performance.now()` of the current global (window or worker), or 0 without one.
pub(crate) struct Clock(Option<Performance>);

impl Clock {
    pub(crate) fn new() -> Clock {
        let performance = Reflect::get(&js_sys::global(), &"performance".into())
            .ok()
            .and_then(|p| p.dyn_into::<Performance>().ok());
        Clock(performance)
    }

    /// Milliseconds since the context started.
    pub(crate) fn now(&self) -> f64 {
        self.0.as_ref().map_or(0.0, Performance::now)
    }
}
