//! IndexedDB persistence of a browser node: the durable copy of its in-memory replica.
//!
//! One database `p2panda:<name>` per node holds its secret key, log entries with payloads,
//! fork evidence and joined festivals. Opening takes the exclusive Web Lock `p2panda:<name>`
//! first, so two tabs of one origin never write one author's log (which would fork it).
//! Works in windows and dedicated workers (it only uses `globalThis.indexedDB` and
//! `globalThis.navigator.locks`).

mod codec;
mod error;
mod idb;
mod lock;
mod reader;
mod records;
mod restore;
mod schema;

use std::cell::Cell;
use std::rc::Rc;

use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;
use web_sys::{IdbDatabase, IdbObjectStore, IdbTransaction, IdbTransactionMode};

#[doc(hidden)]
pub use error::from_dom_error;
pub use error::StoreError;
pub(crate) use reader::Clock;
pub use reader::{EntryBatch, EntryReader, EntryRef, ReadTimings, LOAD_BATCH};
pub use restore::RestoreTimings;

use codec::Position;
use error::is_named;
use lock::{LockGuard, Wait};
use schema::{ENTRIES, FESTIVALS, FESTIVAL_KEYS, FORK_EVIDENCE, META, SECRET_KEY};

/// Length of a festival (topic) id: a BLAKE2b-512 hash of the entry that created it.
pub const FESTIVAL_ID_LEN: usize = 64;

/// One log entry as stored: its position, its encoded bytes and its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    /// Public key of the author.
    pub author: [u8; 32],
    /// Log of the author this entry belongs to.
    pub log_id: u64,
    /// Sequence number in that log.
    pub seq: u64,
    /// The encoded entry.
    pub entry: Vec<u8>,
    /// The payload (may be empty when not known).
    pub payload: Vec<u8>,
}

impl StoredEntry {
    fn position(&self) -> Position {
        Position {
            author: self.author,
            log_id: self.log_id,
            seq: self.seq,
        }
    }
}

/// How hard the browser tries to put a committed write on disk before reporting `complete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// The browser's default (Chromium: same as `Relaxed`).
    Default,
    /// Complete once the write reached the OS; may be lost on power loss, not on a crash.
    Relaxed,
    /// Complete only after the data was flushed to disk.
    Strict,
}

impl Durability {
    /// The value of IndexedDB's `durability` transaction option.
    fn as_str(self) -> &'static str {
        match self {
            Durability::Default => "default",
            Durability::Relaxed => "relaxed",
            Durability::Strict => "strict",
        }
    }
}

/// An open store; holds the database connection and the store's Web Lock until
/// [`Store::close`] or drop.
pub struct Store {
    db: IdbDatabase,
    /// Set when the connection was closed under us (`versionchange` or the browser).
    closed: Rc<Cell<bool>>,
    durability: Durability,
    /// Kept alive while registered as `onversionchange` / `onclose`.
    _on_versionchange: Closure<dyn FnMut()>,
    _on_close: Closure<dyn FnMut()>,
    lock: LockGuard,
}

impl Store {
    /// Open the store `name` (database and lock `p2panda:<name>`), creating it on first use.
    ///
    /// Fails with [`StoreError::InUse`] when another tab or worker holds it,
    /// [`StoreError::Blocked`] when an older connection elsewhere prevents the schema upgrade,
    /// and [`StoreError::Unavailable`] without IndexedDB or Web Locks.
    pub async fn open(name: &str) -> Result<Store, StoreError> {
        Self::open_with(name, Wait::IfAvailable).await
    }

    /// Like [`Store::open`], but waits until the other holder of the lock lets it go instead of
    /// failing with [`StoreError::InUse`] (for "use here" after the user closed the other tab).
    /// Dropping the future gives the lock back should it be granted later.
    pub async fn open_waiting(name: &str) -> Result<Store, StoreError> {
        Self::open_with(name, Wait::Queue).await
    }

    async fn open_with(name: &str, wait: Wait) -> Result<Store, StoreError> {
        let full_name = full_name(name);
        let factory = idb::factory()?;
        let lock = lock::acquire(&full_name, wait).await?;
        let db = idb::open(
            &factory,
            &full_name,
            schema::SCHEMA_VERSION,
            schema::upgrade,
        )
        .await?;
        Ok(Store::from_connection(db, lock))
    }

    fn from_connection(db: IdbDatabase, lock: LockGuard) -> Store {
        let closed = Rc::new(Cell::new(false));
        // A newer app version in another tab wants to upgrade: step aside so it is not blocked.
        // We keep the lock, so that tab cannot write our logs; it will get InUse until we close.
        let on_versionchange = {
            let (db, closed) = (db.clone(), closed.clone());
            Closure::<dyn FnMut()>::new(move || {
                closed.set(true);
                db.close();
            })
        };
        let on_close = {
            let closed = closed.clone();
            Closure::<dyn FnMut()>::new(move || closed.set(true))
        };
        db.set_onversionchange(Some(on_versionchange.as_ref().unchecked_ref()));
        db.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Store {
            db,
            closed,
            durability: Durability::Relaxed,
            _on_versionchange: on_versionchange,
            _on_close: on_close,
            lock,
        }
    }

    /// Delete the database of store `name` (tests, "forget me"). Fails with
    /// [`StoreError::InUse`] while a store of that name is open anywhere, so close it first.
    pub async fn delete(name: &str) -> Result<(), StoreError> {
        let full_name = full_name(name);
        let factory = idb::factory()?;
        let _lock = lock::acquire(&full_name, Wait::IfAvailable).await?;
        idb::delete(&factory, &full_name).await
    }

    /// Close the connection and release the lock. Idempotent; takes `&self` so a shared
    /// (`Rc`) store can be closed too. Later operations fail with [`StoreError::Closed`].
    pub fn close(&self) {
        // Unhook our handlers (their closures are freed with `self`), close, then unlock.
        self.db.set_onversionchange(None);
        self.db.set_onclose(None);
        self.closed.set(true);
        self.db.close();
        self.lock.release();
    }

    /// As [`Store::close`], resolving only once the browser released the lock, so that a
    /// store of this name opened next (in a new worker, say) is not refused with
    /// [`StoreError::InUse`].
    pub async fn close_and_unlock(&self) {
        self.close();
        self.lock.released().await;
    }

    /// True once the connection was closed under us; every operation then fails with
    /// [`StoreError::Closed`].
    pub fn is_closed(&self) -> bool {
        self.closed.get()
    }

    /// Durability of the write transactions (default: [`Durability::Relaxed`]).
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// Set the durability of later write transactions.
    pub fn set_durability(&mut self, durability: Durability) {
        self.durability = durability;
    }

    /// The node's secret key bytes (the key pair derives from them), if one was saved.
    pub async fn key_pair(&self) -> Result<Option<[u8; 32]>, StoreError> {
        let (_tx, store) = self.store(META, IdbTransactionMode::Readonly)?;
        let value = idb::request(&req(store.get(&SECRET_KEY.into()))?).await?;
        if value.is_undefined() {
            return Ok(None);
        }
        records::fixed::<32>(&value, "secret key").map(Some)
    }

    /// Save (or replace) the node's secret key bytes; resolves once committed.
    pub async fn save_key_pair(&self, secret: &[u8; 32]) -> Result<(), StoreError> {
        let (tx, store) = self.store(META, IdbTransactionMode::Readwrite)?;
        let value = Uint8Array::from(&secret[..]);
        self.write(&tx, store.put_with_key(&value, &SECRET_KEY.into()))
            .await
    }

    /// Every stored entry with its payload, ordered by (author, log_id, seq). Holds them all
    /// in memory at once: to restore a node, [`Store::read_entries`] reads them batch by batch.
    pub async fn entries(&self) -> Result<Vec<StoredEntry>, StoreError> {
        let mut reader = self.read_entries()?;
        let mut out = Vec::new();
        while let Some(batch) = reader.next_batch().await? {
            out.extend(batch.iter().map(|e| StoredEntry {
                author: *e.author,
                log_id: e.log_id,
                seq: e.seq,
                entry: e.entry.to_vec(),
                payload: e.payload.to_vec(),
            }));
        }
        Ok(out)
    }

    /// Read every stored entry in (author, log_id, seq) order, [`LOAD_BATCH`] at a time: each
    /// `getAll` of the next batch is under way while the caller works on the current one.
    pub fn read_entries(&self) -> Result<EntryReader<'_>, StoreError> {
        self.read_entries_in(LOAD_BATCH)
    }

    /// As [`Store::read_entries`], with `batch` values per `getAll` (at least 1).
    pub fn read_entries_in(&self, batch: u32) -> Result<EntryReader<'_>, StoreError> {
        EntryReader::new(self, batch)
    }

    /// Store a batch of entries in ONE transaction; resolves only after it committed.
    ///
    /// Entries are added, never overwritten: if any position (author, log_id, seq) is already
    /// stored, or the write fails otherwise (quota: [`StoreError::Quota`]), the transaction
    /// aborts, nothing of the batch is stored and earlier entries are untouched. A second,
    /// different entry at a stored position belongs in [`Store::put_fork_evidence`].
    pub async fn put_entries(&self, batch: &[StoredEntry]) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        // Encode the whole batch in wasm memory and copy it to JS at once; each record is then
        // one `slice` (a copy: a view would make IndexedDB store the whole batch buffer).
        let mut encoded = Vec::new();
        let mut ends = Vec::with_capacity(batch.len());
        for stored in batch {
            codec::encode_value(
                &stored.position(),
                &stored.entry,
                &stored.payload,
                &mut encoded,
            )?;
            ends.push(encoded.len());
        }
        // Offsets below fit in u32 once the total does.
        u32::try_from(encoded.len()).map_err(|_| {
            StoreError::Transaction(format!("batch of {} bytes is too large", encoded.len()))
        })?;
        let all = Uint8Array::from(&encoded[..]);
        let (tx, store) = self.store(ENTRIES, IdbTransactionMode::Readwrite)?;
        let mut start = 0u32;
        for end in ends {
            let end = end as u32;
            let value = all.slice(start, end);
            // Keys are copied out of the view when converted, so a view suffices here.
            let key = all.subarray(start, start + codec::KEY_LEN as u32);
            start = end;
            if let Err(error) = store.add_with_key(&value, &key) {
                let _ = tx.abort();
                return Err(self.map_error(&error));
            }
        }
        idb::committed(&tx).await
    }

    /// Keep an entry that forks a log (evidence against its author). Storing the same entry
    /// twice is a no-op; several different forks at one position are all kept.
    pub async fn put_fork_evidence(&self, evidence: &StoredEntry) -> Result<(), StoreError> {
        let position = evidence.position();
        let mut value = Vec::new();
        codec::encode_value(&position, &evidence.entry, &evidence.payload, &mut value)?;
        let mut key = codec::encode_key(&position).to_vec();
        key.extend_from_slice(&evidence.entry);
        let (tx, store) = self.store(FORK_EVIDENCE, IdbTransactionMode::Readwrite)?;
        let put = store.put_with_key(&Uint8Array::from(&value[..]), &Uint8Array::from(&key[..]));
        self.write(&tx, put).await
    }

    /// All fork evidence, ordered by (author, log_id, seq, entry bytes).
    pub async fn fork_evidence(&self) -> Result<Vec<StoredEntry>, StoreError> {
        let (_tx, store) = self.store(FORK_EVIDENCE, IdbTransactionMode::Readonly)?;
        let values = records::array(idb::request(&req(store.get_all())?).await?, "values")?;
        let mut out = Vec::new();
        records::append_fork_evidence(&values, &mut out)?;
        Ok(out)
    }

    /// Ids of the joined festivals (topics), in byte order.
    pub async fn festivals(&self) -> Result<Vec<[u8; FESTIVAL_ID_LEN]>, StoreError> {
        let (_tx, store) = self.store(FESTIVALS, IdbTransactionMode::Readonly)?;
        let keys = idb::request(&req(store.get_all_keys())?).await?;
        let keys = records::array(keys, "festival keys")?;
        keys.iter()
            .map(|key| records::fixed::<FESTIVAL_ID_LEN>(&key, "festival id"))
            .collect()
    }

    /// Remember a joined festival (idempotent).
    pub async fn save_festival(&self, id: &[u8; FESTIVAL_ID_LEN]) -> Result<(), StoreError> {
        let (tx, store) = self.store(FESTIVALS, IdbTransactionMode::Readwrite)?;
        let put = store.put_with_key(&JsValue::TRUE, &Uint8Array::from(&id[..]));
        self.write(&tx, put).await
    }

    /// The private festivals' keys saved with [`Store::save_festival_key`]: (topic, key).
    pub async fn festival_keys(
        &self,
    ) -> Result<Vec<([u8; FESTIVAL_ID_LEN], [u8; 32])>, StoreError> {
        let (_tx, store) = self.store(META, IdbTransactionMode::Readonly)?;
        let value = idb::request(&req(store.get(&FESTIVAL_KEYS.into()))?).await?;
        if value.is_undefined() {
            return Ok(Vec::new());
        }
        let bytes = value
            .dyn_into::<Uint8Array>()
            .map_err(|_| StoreError::Corrupt("festival keys are not binary".into()))?
            .to_vec();
        if bytes.len() % (FESTIVAL_ID_LEN + 32) != 0 {
            return Err(StoreError::Corrupt(
                "festival keys have a partial record".into(),
            ));
        }
        Ok(bytes
            .chunks_exact(FESTIVAL_ID_LEN + 32)
            .map(|record| {
                let (topic, key) = record.split_at(FESTIVAL_ID_LEN);
                let mut pair = ([0; FESTIVAL_ID_LEN], [0; 32]);
                pair.0.copy_from_slice(topic);
                pair.1.copy_from_slice(key);
                pair
            })
            .collect())
    }

    /// Keep a private festival's key (idempotent); resolves once committed.
    pub async fn save_festival_key(
        &self,
        topic: &[u8; FESTIVAL_ID_LEN],
        key: &[u8; 32],
    ) -> Result<(), StoreError> {
        let mut all = self.festival_keys().await?;
        if all.iter().any(|(t, k)| t == topic && k == key) {
            return Ok(());
        }
        all.push((*topic, *key));
        let bytes: Vec<u8> = all
            .iter()
            .flat_map(|(t, k)| t.iter().chain(k))
            .copied()
            .collect();
        let (tx, store) = self.store(META, IdbTransactionMode::Readwrite)?;
        let value = Uint8Array::from(&bytes[..]);
        self.write(&tx, store.put_with_key(&value, &FESTIVAL_KEYS.into()))
            .await
    }

    /// Forget a festival (idempotent).
    pub async fn forget_festival(&self, id: &[u8; FESTIVAL_ID_LEN]) -> Result<(), StoreError> {
        let (tx, store) = self.store(FESTIVALS, IdbTransactionMode::Readwrite)?;
        let delete = store.delete(&Uint8Array::from(&id[..]));
        self.write(&tx, delete).await
    }

    /// A transaction on one object store (writes use the configured durability).
    fn store(
        &self,
        name: &str,
        mode: IdbTransactionMode,
    ) -> Result<(IdbTransaction, IdbObjectStore), StoreError> {
        if self.closed.get() {
            return Err(StoreError::Closed);
        }
        let tx = if mode == IdbTransactionMode::Readwrite {
            idb::write_transaction(&self.db, name, self.durability.as_str())
        } else {
            self.db.transaction_with_str_and_mode(name, mode)
        }
        .map_err(|e| self.map_error(&e))?;
        let store = tx.object_store(name).map_err(|e| self.map_error(&e))?;
        Ok((tx, store))
    }

    /// Wait for a single-request write transaction to commit; abort it if queuing failed.
    async fn write(
        &self,
        tx: &IdbTransaction,
        queued: Result<web_sys::IdbRequest, JsValue>,
    ) -> Result<(), StoreError> {
        if let Err(error) = queued {
            let _ = tx.abort();
            return Err(self.map_error(&error));
        }
        idb::committed(tx).await
    }

    /// Map a synchronous IndexedDB exception; `InvalidStateError` on a closed connection is
    /// [`StoreError::Closed`].
    fn map_error(&self, error: &JsValue) -> StoreError {
        if self.closed.get() || is_named(error, "InvalidStateError") {
            self.closed.set(true);
            StoreError::Closed
        } else {
            from_dom_error(error)
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.close();
    }
}

/// Database and lock name of store `name`.
fn full_name(name: &str) -> String {
    format!("p2panda:{name}")
}

/// Map the synchronous failure of issuing a read request.
fn req(request: Result<web_sys::IdbRequest, JsValue>) -> Result<web_sys::IdbRequest, StoreError> {
    request.map_err(|e| from_dom_error(&e))
}
