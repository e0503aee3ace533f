//! The IndexedDB store against real IndexedDB and Web Locks in headless Chromium.
//!
//! Run: `unshare -n sh -c 'ip link set lo up && exec cargo test -p p2panda-wasm
//! --target wasm32-unknown-unknown --test store'` (the timing figures are printed to the
//! console by `timing_figures` and `value_format_comparison`).

#![cfg(target_arch = "wasm32")]

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;

use futures::future::{select, Either};
use js_sys::{Array, Promise, Reflect, Uint8Array};
use p2panda_core::identity::KeyPair;
use p2panda_core::operation::*;
use p2panda_core::replica::Replica;
use p2panda_wasm::store::{from_dom_error, Durability, Store, StoreError, StoredEntry, LOAD_BATCH};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{DomException, IdbDatabase, IdbFactory, IdbOpenDbRequest, IdbTransactionMode};

wasm_bindgen_test_configure!(run_in_browser);

// ---------------------------------------------------------------------------------------------
// Helpers

fn log(message: &str) {
    web_sys::console::log_1(&message.into());
}

fn now_ms() -> f64 {
    Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
        .map(|p| p.now())
        .unwrap_or_else(js_sys::Date::now)
}

async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        let set_timeout: js_sys::Function = Reflect::get(&js_sys::global(), &"setTimeout".into())
            .expect("setTimeout")
            .unchecked_into();
        set_timeout
            .call2(&JsValue::NULL, &resolve, &ms.into())
            .expect("setTimeout call");
    });
    JsFuture::from(promise).await.expect("timer");
}

/// `Some(output)` if `fut` finishes within `ms`, else `None`.
async fn within<T>(ms: i32, fut: impl Future<Output = T>) -> Option<T> {
    match select(Box::pin(fut), Box::pin(sleep(ms))).await {
        Either::Left((out, _)) => Some(out),
        Either::Right(_) => None,
    }
}

/// A deterministic entry of ~150 entry bytes and ~100 payload bytes, derived from its
/// position by a small PRNG so the bytes are as incompressible as real hashes and signatures.
fn entry(author: u8, log_id: u64, seq: u64) -> StoredEntry {
    let mut state = (u64::from(author) << 56) ^ (log_id << 40) ^ seq ^ 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as u8
    };
    StoredEntry {
        author: [author; 32],
        log_id,
        seq,
        entry: (0..150).map(|_| next()).collect(),
        payload: (0..100).map(|_| next()).collect(),
    }
}

fn sorted(mut entries: Vec<StoredEntry>) -> Vec<StoredEntry> {
    entries.sort_by_key(|e| (e.author, e.log_id, e.seq));
    entries
}

async fn fresh(name: &str) {
    Store::delete(name).await.expect("delete before test");
}

fn factory() -> IdbFactory {
    Reflect::get(&js_sys::global(), &"indexedDB".into())
        .expect("indexedDB")
        .unchecked_into()
}

/// Raw `indexedDB.open(name, version)` that registers no `versionchange` handler, like an old
/// app version would. `Err` names the event that ended it ("blocked", "error").
async fn raw_open(name: &str, version: u32) -> Result<IdbDatabase, String> {
    let req: IdbOpenDbRequest = factory().open_with_u32(name, version).expect("open");
    let done = Promise::new(&mut |resolve, reject| {
        req.set_onsuccess(Some(&resolve));
        req.set_onerror(Some(&reject));
        req.set_onblocked(Some(&reject));
    });
    match JsFuture::from(done).await {
        Ok(_) => Ok(req.result().expect("result").unchecked_into()),
        Err(event) => Err(event.unchecked_into::<web_sys::Event>().type_()),
    }
}

/// Empty one of the store's object stores.
async fn raw_clear(db: &IdbDatabase, store: &str) {
    let tx = db
        .transaction_with_str_and_mode(store, IdbTransactionMode::Readwrite)
        .expect("tx");
    tx.object_store(store)
        .expect("store")
        .clear()
        .expect("clear");
    let done = Promise::new(&mut |resolve, reject| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onabort(Some(&reject));
    });
    JsFuture::from(done).await.expect("raw clear committed");
}

/// Put a raw value under a raw key into one of the store's object stores.
async fn raw_put(db: &IdbDatabase, store: &str, key: &JsValue, value: &JsValue) {
    let tx = db
        .transaction_with_str_and_mode(store, IdbTransactionMode::Readwrite)
        .expect("tx");
    tx.object_store(store)
        .expect("store")
        .put_with_key(value, key)
        .expect("put");
    let done = Promise::new(&mut |resolve, reject| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onabort(Some(&reject));
    });
    JsFuture::from(done).await.expect("raw put committed");
}

// ---------------------------------------------------------------------------------------------
// Behaviour

#[wasm_bindgen_test]
async fn round_trip_survives_reopen_in_order() {
    fresh("rt").await;
    let store = Store::open("rt").await.expect("open");
    assert_eq!(store.key_pair().await, Ok(None));
    assert_eq!(store.entries().await, Ok(vec![]));
    assert_eq!(store.festivals().await, Ok(vec![]));

    store.save_key_pair(&[7; 32]).await.expect("save key");
    // Several authors and logs, written out of order; a seq above 2^53 keeps all its bits.
    let batches = [
        vec![entry(2, 1, 2), entry(1, 0, 1)],
        vec![entry(1, 0, 0), entry(2, 1, 1), entry(1, 3, 0)],
        vec![entry(1, 0, (1 << 60) + 1), entry(2, 0, 5), entry(1, 0, 2)],
    ];
    for batch in &batches {
        store.put_entries(batch).await.expect("put batch");
    }
    store.put_entries(&[]).await.expect("empty batch");
    for id in [[9u8; 64], [3; 64], [5; 64]] {
        store.save_festival(&id).await.expect("save festival");
    }
    store.save_festival(&[3; 64]).await.expect("save again");
    store.forget_festival(&[5; 64]).await.expect("forget");
    store
        .forget_festival(&[6; 64])
        .await
        .expect("forget unknown");

    let mut fork_a = entry(2, 1, 2);
    fork_a.entry[0] ^= 1;
    let mut fork_b = entry(2, 1, 2);
    fork_b.entry[1] ^= 1;
    store.put_fork_evidence(&fork_b).await.expect("fork b");
    store.put_fork_evidence(&fork_a).await.expect("fork a");
    store
        .put_fork_evidence(&fork_a)
        .await
        .expect("fork a again");
    store.close();

    let store = Store::open("rt").await.expect("reopen");
    assert_eq!(store.key_pair().await, Ok(Some([7; 32])));
    let expected = sorted(batches.concat());
    assert_eq!(store.entries().await, Ok(expected));
    assert_eq!(store.festivals().await, Ok(vec![[3; 64], [9; 64]]));
    let mut forks = vec![fork_a, fork_b];
    forks.sort_by(|a, b| a.entry.cmp(&b.entry));
    assert_eq!(store.fork_evidence().await, Ok(forks));
    store.close();
    Store::delete("rt").await.expect("delete");
}

#[wasm_bindgen_test]
async fn a_failing_batch_stores_nothing() {
    fresh("atomic").await;
    let store = Store::open("atomic").await.expect("open");
    let first = vec![entry(1, 0, 0), entry(1, 0, 1), entry(1, 0, 2)];
    store.put_entries(&first).await.expect("first batch");

    // A different entry at a stored position: IndexedDB's `add` fails with ConstraintError in
    // the middle of the batch, and the whole transaction aborts.
    let mut clash = entry(1, 0, 1);
    clash.entry[0] ^= 0xff;
    let bad = vec![entry(1, 0, 3), entry(1, 0, 4), clash, entry(1, 0, 5)];
    match store.put_entries(&bad).await {
        Err(StoreError::Transaction(message)) => {
            assert!(message.contains("ConstraintError"), "{message}")
        }
        other => panic!("expected a transaction error, got {other:?}"),
    }
    assert_eq!(
        store.entries().await,
        Ok(first.clone()),
        "nothing of the batch is visible"
    );

    // The store stays usable; the good entries go through on their own.
    let good = vec![entry(1, 0, 3), entry(1, 0, 4), entry(1, 0, 5)];
    store.put_entries(&good).await.expect("good batch");
    assert_eq!(store.entries().await, Ok([first, good].concat()));
    store.close();

    // Nothing half-written survives a reopen either.
    let store = Store::open("atomic").await.expect("reopen");
    assert_eq!(store.entries().await.map(|e| e.len()), Ok(6));
    store.close();
}

#[wasm_bindgen_test]
async fn the_lock_keeps_a_second_opener_out() {
    fresh("x").await;
    let first = Store::open("x").await.expect("first open");
    assert_eq!(Store::open("x").await.err(), Some(StoreError::InUse));
    assert_eq!(Store::delete("x").await, Err(StoreError::InUse));
    first.close();
    assert_eq!(first.entries().await, Err(StoreError::Closed));

    let second = Store::open("x").await.expect("open after close");

    // A waiting open that is given up must not keep the lock when it is granted later.
    assert!(within(200, Store::open_waiting("x")).await.is_none());

    // A waiting open resolves once the holder closes, not before.
    let resolved = Rc::new(Cell::new(false));
    let flag = resolved.clone();
    let waiting = async move {
        let store = Store::open_waiting("x").await;
        flag.set(true);
        store
    };
    let waiting = Box::pin(waiting);
    let (waiting, holder) = match select(waiting, Box::pin(sleep(300))).await {
        Either::Left(_) => panic!("open_waiting resolved while the lock was held"),
        Either::Right((_, waiting)) => (waiting, second),
    };
    assert!(!resolved.get());
    holder.close();
    let third = within(5_000, waiting)
        .await
        .expect("open_waiting resolves after close")
        .expect("open_waiting");
    assert_eq!(Store::open("x").await.err(), Some(StoreError::InUse));
    drop(third); // dropping releases the lock as well
    Store::open("x").await.expect("open after drop").close();
}

#[wasm_bindgen_test]
async fn an_old_connection_blocks_the_upgrade_with_an_error() {
    fresh("y").await;
    let old = raw_open("p2panda:y", 1).await.expect("raw open v1");
    let outcome = within(5_000, Store::open("y")).await;
    assert!(
        matches!(outcome, Some(Err(StoreError::Blocked))),
        "expected Blocked within 5 s"
    );
    old.close();
    // Once the old connection is gone, opening works (the late open closed itself).
    let store = within(5_000, Store::open("y"))
        .await
        .expect("open in time")
        .expect("open after the old connection closed");
    store.close();
    Store::delete("y").await.expect("delete");
}

#[wasm_bindgen_test]
async fn our_connection_gives_way_to_a_newer_version() {
    fresh("vc").await;
    let store = Store::open("vc").await.expect("open");
    store.put_entries(&[entry(1, 0, 0)]).await.expect("put");
    let newer = within(5_000, raw_open("p2panda:vc", 50))
        .await
        .expect("the newer version opens in time")
        .expect("not blocked by our connection");
    assert!(store.is_closed());
    assert_eq!(store.entries().await, Err(StoreError::Closed));
    newer.close();
    store.close();

    // This app version cannot open a database a newer version upgraded.
    match Store::open("vc").await {
        Err(StoreError::Unavailable(message)) => {
            assert!(message.contains("VersionError"), "{message}")
        }
        other => panic!("expected Unavailable(VersionError), got {:?}", other.err()),
    }
    Store::delete("vc").await.expect("delete");
}

#[wasm_bindgen_test]
fn dom_exceptions_map_to_store_errors() {
    let quota = DomException::new_with_message_and_name("disk full", "QuotaExceededError")
        .expect("DOMException");
    assert_eq!(from_dom_error(&quota), StoreError::Quota);
    assert_eq!(StoreError::Quota.code(), "STORE_QUOTA");

    let constraint = DomException::new_with_message_and_name("key exists", "ConstraintError")
        .expect("DOMException");
    assert_eq!(
        from_dom_error(&constraint),
        StoreError::Transaction("ConstraintError: key exists".into())
    );
    assert!(matches!(
        from_dom_error(&JsValue::from(5)),
        StoreError::Transaction(_)
    ));

    let codes = [
        (StoreError::InUse, "STORE_IN_USE"),
        (StoreError::Blocked, "STORE_BLOCKED"),
        (StoreError::Transaction(String::new()), "STORE_TRANSACTION"),
        (StoreError::Unavailable(String::new()), "STORE_UNAVAILABLE"),
        (StoreError::Corrupt(String::new()), "STORE_CORRUPT"),
        (StoreError::Closed, "STORE_CLOSED"),
    ];
    for (error, code) in codes {
        assert_eq!(error.code(), code);
    }
}

#[wasm_bindgen_test]
async fn corrupt_records_give_errors_not_panics() {
    fresh("bad").await;
    Store::open("bad").await.expect("create").close();
    let good = {
        // A well-formed value as the store writes it: key ‖ entry length ‖ entry ‖ payload.
        let mut v = vec![2u8; 48];
        v.extend_from_slice(&3u32.to_le_bytes());
        v.extend_from_slice(b"abcpayload");
        v
    };
    let key = |b: u8| Uint8Array::from(&[b; 48][..]);
    let lying: Vec<u8> = [&good[..48], &200u32.to_le_bytes()[..], b"abc"].concat();
    let mut earlier = good.clone();
    earlier[..48].copy_from_slice(&[1; 48]);
    let cases: Vec<(&str, Vec<(Uint8Array, JsValue)>)> = vec![
        ("a number", vec![(key(2), JsValue::from(1e9))]),
        ("an array", vec![(key(2), Array::new().into())]),
        (
            "an ArrayBuffer",
            vec![(key(2), Uint8Array::from(&good[..]).buffer().into())],
        ),
        (
            "too short",
            vec![(key(2), Uint8Array::from(&good[..40]).into())],
        ),
        (
            "a lying length",
            vec![(key(2), Uint8Array::from(&lying[..]).into())],
        ),
        (
            "out of key order",
            vec![
                (key(2), Uint8Array::from(&good[..]).into()),
                (key(3), Uint8Array::from(&earlier[..]).into()),
            ],
        ),
    ];
    for (what, records) in cases {
        let raw = raw_open("p2panda:bad", 2).await.expect("raw open");
        raw_clear(&raw, "entries").await;
        for (k, v) in &records {
            raw_put(&raw, "entries", k, v).await;
        }
        raw.close();
        let store = Store::open("bad").await.expect("open");
        assert!(
            matches!(store.entries().await, Err(StoreError::Corrupt(_))),
            "a value that is {what} must read as Corrupt"
        );
        store.close();
    }

    // The well-formed value itself reads fine (the cases above fail for their flaw alone).
    let raw = raw_open("p2panda:bad", 2).await.expect("raw open");
    raw_clear(&raw, "entries").await;
    raw_put(
        &raw,
        "entries",
        &key(2),
        &Uint8Array::from(&good[..]).into(),
    )
    .await;
    raw_put(
        &raw,
        "meta",
        &"secret_key".into(),
        &Uint8Array::from(&[1u8; 31][..]).into(),
    )
    .await;
    raw_put(
        &raw,
        "festivals",
        &Uint8Array::from(&[1u8; 3][..]),
        &JsValue::TRUE,
    )
    .await;
    raw.close();
    let store = Store::open("bad").await.expect("open");
    let read = store.entries().await.expect("well-formed value");
    assert_eq!(
        (read.len(), &read[0].entry[..], &read[0].payload[..]),
        (1, &b"abc"[..], &b"payload"[..])
    );
    assert!(matches!(
        store.key_pair().await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        store.festivals().await,
        Err(StoreError::Corrupt(_))
    ));
    store.close();
    Store::delete("bad").await.expect("delete");
}

#[wasm_bindgen_test]
async fn reading_in_batches_gives_every_entry_once_in_order() {
    fresh("batches").await;
    let store = Store::open("batches").await.expect("open");
    let all = sorted((0..50).map(|i| entry((i % 3) as u8, i % 2, i)).collect());
    store.put_entries(&all).await.expect("put");
    // 50 values: batches of 7 end on a partial batch, batches of 10 on a full one, and a batch
    // larger than the store reads everything at once.
    for (size, batches) in [(1, 50), (7, 8), (10, 5), (50, 1), (LOAD_BATCH, 1)] {
        let mut reader = store.read_entries_in(size).expect("reader");
        let mut read = Vec::new();
        let mut count = 0;
        while let Some(batch) = reader.next_batch().await.expect("batch") {
            assert!(!batch.is_empty() && batch.len() <= size as usize);
            count += 1;
            read.extend(batch.iter().map(|e| StoredEntry {
                author: *e.author,
                log_id: e.log_id,
                seq: e.seq,
                entry: e.entry.to_vec(),
                payload: e.payload.to_vec(),
            }));
        }
        assert_eq!(read, all, "batches of {size}");
        assert_eq!((count, reader.timings().batches), (batches, batches));
        assert_eq!(reader.timings().entries, 50);
        // Done stays done.
        assert!(matches!(reader.next_batch().await, Ok(None)));
    }
    store.close();
    Store::delete("batches").await.expect("delete");
}

/// Signed entries of a festival: resources, events in two authors' logs, answers that grant
/// overlapping bookings (conflicts) or deny, updates, cancellations. At least `n` entries.
fn signed_festival(n: usize) -> Replica {
    const HOUR: Millis = 3_600_000;
    let (alice, bob, carol) = (
        KeyPair::generate(),
        KeyPair::generate(),
        KeyPair::generate(),
    );
    let mut replica = Replica::new();
    let mut publish =
        |key: &KeyPair, op: Operation| replica.publish(key, &op).expect("valid operation").0;
    let root = publish(
        &alice,
        Operation::FestivalCreate(FestivalCreate {
            name: "Fair".into(),
            description: String::new(),
            parent: None,
            fork_of: None,
        }),
    );
    let resources: Vec<_> = (0..20)
        .map(|i| {
            let resource = ResourceCreate {
                festival: root,
                name: format!("Resource {i}"),
                description: String::new(),
                kind: ResourceKind::Item,
                policy: PolicyKind::Manual,
            };
            publish(&alice, Operation::ResourceCreate(resource))
        })
        .collect();
    let mut written = 21;
    let mut i = 0i64;
    while written < n {
        let creator = if i % 2 == 0 { &bob } else { &carol };
        let resource = resources[(i % 20) as usize];
        let event = EventCreate {
            festival: root,
            title: format!("Event {i}"),
            description: "Bring tools".into(),
            start: (i % 37) * HOUR,
            end: (i % 37) * HOUR + 2 * HOUR,
            resources: vec![resource],
        };
        let event = publish(creator, Operation::EventCreate(event));
        let decision = if i % 4 == 3 {
            Decision::Deny
        } else {
            Decision::Grant
        };
        let answer = Authorization {
            festival: root,
            event,
            event_version: event,
            resource,
            decision,
            reason: None,
        };
        publish(&alice, Operation::Authorization(answer));
        written += 2;
        if i % 9 == 0 {
            let update = EventUpdate {
                festival: root,
                event,
                title: Some("Moved".into()),
                description: None,
                timeframe: Some(Timeframe {
                    start: 40 * HOUR,
                    end: 41 * HOUR,
                }),
                resources: None,
            };
            publish(creator, Operation::EventUpdate(update));
            written += 1;
        } else if i % 13 == 0 {
            let cancel = EventCancel {
                festival: root,
                event,
            };
            publish(creator, Operation::EventCancel(cancel));
            written += 1;
        }
        i += 1;
    }
    replica
}

#[wasm_bindgen_test]
async fn a_restore_from_many_batches_gives_identical_state() {
    fresh("restore").await;
    let original = signed_festival(LOAD_BATCH as usize + 700);
    let mut stored = Vec::new();
    for (log, _) in original.store().heights() {
        for e in original.store().entries_after(log, 0) {
            stored.push(StoredEntry {
                author: *log.author.as_bytes(),
                log_id: log.log_id,
                seq: e.entry.seq_num(),
                entry: e.entry.bytes().to_vec(),
                payload: e.payload.clone(),
            });
        }
    }
    assert!(stored.len() > LOAD_BATCH as usize);
    let store = Store::open("restore").await.expect("open");
    for chunk in stored.chunks(1000) {
        store.put_entries(chunk).await.expect("put");
    }
    store.close();

    let store = Store::open("restore").await.expect("reopen");
    let mut restored = Replica::new();
    let timings = store.restore_into(&mut restored).await.expect("restore");
    assert_eq!(timings.read.entries, stored.len() as u64);
    assert_eq!(timings.read.batches, 2);
    assert_eq!(restored.store(), original.store());
    let snapshot = original.state().snapshot();
    assert!(snapshot.contexts.values().any(|c| !c.conflicts.is_empty()));
    assert_eq!(restored.state().snapshot(), snapshot);
    log(&format!(
        "store figures: restored {} signed entries in {} batches: waiting {:.0} ms, copying \
         {:.0} ms, restoring {:.0} ms, indexing {:.0} ms",
        stored.len(),
        timings.read.batches,
        timings.read.wait_ms,
        timings.read.copy_ms,
        timings.restore_ms,
        timings.index_ms
    ));

    // An entry that does not restore is corruption, not a panic: here one of the second
    // batch's entries carries another entry's payload.
    let (position, other) = (stored.len() - 10, stored.len() - 11);
    let mut damaged = stored[position].clone();
    damaged.payload = stored[other].payload.clone();
    store.close();
    let raw = raw_open("p2panda:restore", 2).await.expect("raw open");
    raw_clear(&raw, "entries").await;
    raw.close();
    let store = Store::open("restore").await.expect("reopen");
    let mut with_damage = stored.clone();
    with_damage[position] = damaged;
    store.put_entries(&with_damage).await.expect("put");
    assert!(matches!(
        store.restore_into(&mut Replica::new()).await,
        Err(StoreError::Corrupt(_))
    ));
    store.close();
    Store::delete("restore").await.expect("delete");
}

#[wasm_bindgen_test]
async fn close_and_unlock_resolves_once_the_lock_is_free() {
    fresh("unlock").await;
    let held = || async {
        let locks = Reflect::get(&js_sys::global(), &"navigator".into())
            .and_then(|n| Reflect::get(&n, &"locks".into()))
            .expect("navigator.locks");
        let query: js_sys::Function = Reflect::get(&locks, &"query".into())
            .expect("query")
            .unchecked_into();
        let state = JsFuture::from(Promise::from(query.call0(&locks).expect("query()")))
            .await
            .expect("lock state");
        let held: Array = Reflect::get(&state, &"held".into())
            .expect("held")
            .unchecked_into();
        held.iter()
            .any(|lock| Reflect::get(&lock, &"name".into()).ok() == Some("p2panda:unlock".into()))
    };
    for _ in 0..3 {
        let store = Store::open("unlock").await.expect("open");
        assert!(held().await);
        store.close_and_unlock().await;
        assert!(
            !held().await,
            "the lock is released when close_and_unlock resolves"
        );
    }
    Store::delete("unlock").await.expect("delete");
}

// ---------------------------------------------------------------------------------------------
// Figures (printed to the console; assertions only on correctness)

/// Number of entries `timing_figures` loads. 30,000 by default (more than one `LOAD_BATCH`), so the test stays cheap (writing
/// is the slow part: ~1 s per 10k); for the 100k figure build the test with
/// `STORE_BENCH_ENTRIES=100000 cargo test ... --test store -- --nocapture timing_figures`.
const BENCH_ENTRIES: &str = match option_env!("STORE_BENCH_ENTRIES") {
    Some(n) => n,
    None => "30000",
};

/// Time to reopen and load the whole store, and write rates for batches of 1, 100 and 1000
/// under each durability (interleaved over rounds, median per batch, to even out noise).
#[wasm_bindgen_test]
async fn timing_figures() {
    let total: u64 = BENCH_ENTRIES
        .parse()
        .expect("STORE_BENCH_ENTRIES is a number");
    fresh("perf").await;
    let store = Store::open("perf").await.expect("open");
    let all: Vec<StoredEntry> = (0..total)
        .map(|i| entry((i % 20) as u8, i % 7, i))
        .collect();
    let start = now_ms();
    for chunk in all.chunks(10_000) {
        store.put_entries(chunk).await.expect("bulk put");
    }
    let bulk = now_ms() - start;
    store.close();

    let mut loads = Vec::new();
    for _ in 0..3 {
        let start = now_ms();
        let store = Store::open("perf").await.expect("reopen");
        let opened = now_ms() - start;
        let loaded = store.entries().await.expect("entries");
        loads.push((opened, now_ms() - start));
        assert_eq!(loaded.len(), total as usize);
        assert!(loaded
            .windows(2)
            .all(|w| (w[0].author, w[0].log_id, w[0].seq) < (w[1].author, w[1].log_id, w[1].seq)));
        store.close();
    }
    log(&format!(
        "store figures: {total} entries written in 10k batches in {bulk:.0} ms ({:.0}/s); \
         reopen + entries() (open part): {}",
        total as f64 / (bulk / 1000.0),
        loads
            .iter()
            .map(|(open, all)| format!("{all:.0} ms ({open:.0})"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Store::delete("perf").await.expect("delete");

    fresh("rate").await;
    let mut store = Store::open("rate").await.expect("open");
    let mut next_seq = 0u64;
    let durabilities = [Durability::Default, Durability::Relaxed, Durability::Strict];
    for (batch_size, batches) in [(1u64, 20usize), (100, 3), (1000, 1)] {
        let mut per_batch: Vec<Vec<f64>> = vec![Vec::new(); durabilities.len()];
        for _round in 0..5 {
            for (d, durability) in durabilities.iter().enumerate() {
                store.set_durability(*durability);
                for _ in 0..batches {
                    let batch: Vec<_> =
                        (0..batch_size).map(|i| entry(1, 0, next_seq + i)).collect();
                    next_seq += batch_size;
                    let start = now_ms();
                    store.put_entries(&batch).await.expect("put");
                    per_batch[d].push(now_ms() - start);
                }
            }
        }
        for (d, durability) in durabilities.iter().enumerate() {
            let times = &mut per_batch[d];
            times.sort_by(f64::total_cmp);
            let median = times[times.len() / 2];
            log(&format!(
                "store figures: batch {batch_size}, durability {durability:?}: median {median:.2} ms \
                 per batch = {:.0} entries/s (n={})",
                batch_size as f64 / (median / 1000.0),
                times.len()
            ));
        }
    }
    store.close();
    Store::delete("rate").await.expect("delete");
}

/// How fast the same 10,000 entries load (`getAll`, then gathering the bytes into one buffer
/// as `entries()` does) when each value is one `Uint8Array` (the store's layout), an
/// `ArrayBuffer`, or an object `{k, e, p}` of three `Uint8Array`s; and what a `getAllKeys` adds.
/// Each format goes into its own object store of a scratch database (raw IndexedDB); the
/// formats are read in turns over 5 rounds and the medians printed.
#[wasm_bindgen_test]
async fn value_format_comparison() {
    const COUNT: u64 = 10_000;
    const FORMATS: [(&str, &str); 3] = [
        ("Uint8Array", "entries"),
        ("ArrayBuffer", "fork_evidence"),
        ("object", "festivals"),
    ];
    fresh("formats").await;
    Store::open("formats").await.expect("create").close();
    let raw = raw_open("p2panda:formats", 2).await.expect("raw");
    let entries: Vec<StoredEntry> = (0..COUNT)
        .map(|i| entry((i % 20) as u8, i % 7, i))
        .collect();
    for (format, object_store) in FORMATS {
        let tx = raw
            .transaction_with_str_and_mode(object_store, IdbTransactionMode::Readwrite)
            .expect("tx");
        let os = tx.object_store(object_store).expect("store");
        for (i, e) in entries.iter().enumerate() {
            let key = Uint8Array::from(&(i as u64).to_be_bytes()[..]);
            let bytes = [&[0u8; 52][..], &e.entry, &e.payload].concat();
            let value: JsValue = match format {
                "Uint8Array" => Uint8Array::from(&bytes[..]).into(),
                "ArrayBuffer" => Uint8Array::from(&bytes[..]).buffer().into(),
                _ => {
                    // Same bytes as the other formats: the 52-byte header in its own field.
                    let object = js_sys::Object::new();
                    let _ = Reflect::set(&object, &"k".into(), &Uint8Array::from(&[0u8; 52][..]));
                    let _ = Reflect::set(&object, &"e".into(), &Uint8Array::from(&e.entry[..]));
                    let _ = Reflect::set(&object, &"p".into(), &Uint8Array::from(&e.payload[..]));
                    object.into()
                }
            };
            os.put_with_key(&value, &key).expect("put");
        }
        let done = Promise::new(&mut |resolve, _| tx.set_oncomplete(Some(&resolve)));
        JsFuture::from(done).await.expect("committed");
    }

    let mut times: Vec<Vec<(f64, f64)>> = vec![Vec::new(); FORMATS.len()];
    for _round in 0..5 {
        for (f, (format, object_store)) in FORMATS.iter().enumerate() {
            let os = raw
                .transaction_with_str(object_store)
                .expect("tx")
                .object_store(object_store)
                .expect("store");
            let start = now_ms();
            let values: Array = request_result(os.get_all().expect("getAll"))
                .await
                .unchecked_into();
            let parts: Vec<Uint8Array> = values
                .iter()
                .flat_map(|v| match *format {
                    "Uint8Array" => vec![v.unchecked_into::<Uint8Array>()],
                    "ArrayBuffer" => vec![Uint8Array::new(&v)],
                    _ => ["k", "e", "p"]
                        .iter()
                        .map(|k| {
                            Reflect::get(&v, &(*k).into())
                                .expect("field")
                                .unchecked_into()
                        })
                        .collect(),
                })
                .collect();
            let total: u32 = parts.iter().map(|p| p.byte_length()).sum();
            let gathered = Uint8Array::new_with_length(total);
            let mut offset = 0;
            for part in &parts {
                gathered.set(part, offset);
                offset += part.byte_length();
            }
            assert_eq!(gathered.to_vec().len(), total as usize);
            let loaded = now_ms() - start;
            let keys = request_result(os.get_all_keys().expect("getAllKeys")).await;
            let keys_ms = now_ms() - start - loaded;
            assert_eq!(keys.unchecked_into::<Array>().length(), COUNT as u32);
            times[f].push((loaded, keys_ms));
        }
    }
    for (f, (format, _)) in FORMATS.iter().enumerate() {
        let median = |pick: fn(&(f64, f64)) -> f64| {
            let mut v: Vec<f64> = times[f].iter().map(pick).collect();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        log(&format!(
            "store figures: load {COUNT} values as {format}: median {:.0} ms \
             (+ getAllKeys {:.0} ms)",
            median(|t| t.0),
            median(|t| t.1)
        ));
    }
    raw.close();
    Store::delete("formats").await.expect("delete");
}

async fn request_result(req: web_sys::IdbRequest) -> JsValue {
    let done = Promise::new(&mut |resolve, _| req.set_onsuccess(Some(&resolve)));
    JsFuture::from(done).await.expect("request");
    req.result().expect("result")
}
