//! Reloading a node: rebuilding a [`Replica`] from the entries it verified before and kept (as a
//! browser node does from IndexedDB when a page opens), against taking the same entries in from a
//! peer.
//!
//! `cargo bench -p p2panda-core --bench restore` (100k entries; `RESTORE_ENTRIES=20000` for
//! another size; `cargo test --benches` runs it once on 2k; a criterion filter matching nothing,
//! as in `-- summary`, prints only the summary; `RESTORE_RUNS` sets how many runs it takes the
//! fastest of, 3 by default; `RESTORE_PROFILE=restore` or `bulk_restore` runs just that once,
//! for a profiler). Besides criterion's figures it prints
//! µs per entry for decoding, restoring and ingesting (full verification), and the heap a restored
//! replica holds per entry (store and state), counted by the allocator below.
//!
//! The festival is shaped like `benches/festival.rs`'s big one (200 resources, events with
//! updates, cancellations and owners' answers, 50 authors), but made of real signed entries, and
//! entries come in the order a store keyed by (author, log, seq) returns them.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use criterion::{Criterion, Throughput};
use p2panda_core::festival::{Op, State};
use p2panda_core::hash::Hash;
use p2panda_core::identity::{KeyCache, KeyPair};
use p2panda_core::log::{lipmaa_seq, Entry};
use p2panda_core::operation::*;
use p2panda_core::replica::Replica;
use p2panda_core::store::MemoryStore;

/// Counts live heap bytes (one relaxed atomic add per allocation: cheap next to what is timed).
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const HOUR: Millis = 3_600_000;
const AUTHORS: usize = 50;

/// Signed entries of one festival, with their payloads.
struct Festival {
    authors: Vec<KeyPair>,
    /// Each author's one log (log id 0): `logs[a][i]` has seq i + 1.
    logs: Vec<Vec<(Entry, Vec<u8>)>>,
    rng: u64,
    len: usize,
}

impl Festival {
    fn random(&mut self, n: u64) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng % n
    }

    /// Sign `operation` as the next entry of `author`'s log; returns its id.
    fn push(&mut self, author: usize, operation: Operation) -> Hash {
        let payload = operation.encode().expect("valid benchmark operation");
        let log = &self.logs[author];
        let seq = log.len() as u64 + 1;
        let lipmaa = (lipmaa_seq(seq) as usize).checked_sub(1).map(|i| &log[i].0);
        let entry = Entry::publish(
            &self.authors[author],
            0,
            &payload,
            log.last().map(|(e, _)| e),
            lipmaa,
        )
        .expect("valid benchmark entry");
        let id = entry.hash();
        self.logs[author].push((entry, payload));
        self.len += 1;
        id
    }

    fn build(size: usize) -> Festival {
        let mut f = Festival {
            authors: (0..AUTHORS).map(|_| KeyPair::generate()).collect(),
            logs: vec![Vec::new(); AUTHORS],
            rng: 0x2545_F491_4F6C_DD1D,
            len: 0,
        };
        let root = f.push(
            0,
            Operation::FestivalCreate(FestivalCreate {
                name: "Big".into(),
                description: String::new(),
                parent: None,
                fork_of: None,
            }),
        );
        // Owners are authors 0..5; everyone writes in the root festival.
        let resources: Vec<(Hash, usize)> = (0..200)
            .map(|i| {
                let owner = i % 5;
                let policy = if i % 2 == 0 {
                    PolicyKind::Fcfs
                } else {
                    PolicyKind::Manual
                };
                let resource = ResourceCreate {
                    festival: root,
                    name: format!("Resource {i}"),
                    description: String::new(),
                    kind: ResourceKind::Item,
                    policy,
                };
                (f.push(owner, Operation::ResourceCreate(resource)), owner)
            })
            .collect();
        // (event, creator, version, requested resource)
        let mut events: Vec<(Hash, usize, Hash, Option<usize>)> = Vec::new();
        while f.len < size {
            let roll = f.random(100);
            if roll < 70 || events.is_empty() {
                let creator = 5 + f.random(45) as usize;
                let start = f.random(30 * 24) as Millis * HOUR;
                let resource = (f.random(3) > 0).then(|| f.random(200) as usize);
                let end = start + HOUR * (1 + f.random(3) as Millis);
                let event = EventCreate {
                    festival: root,
                    title: format!("Event {}", f.len),
                    description: "Bring your own tools; we share the rest. Soldering, sewing."
                        .into(),
                    start,
                    end,
                    resources: resource.map(|r| resources[r].0).into_iter().collect(),
                };
                let id = f.push(creator, Operation::EventCreate(event));
                events.push((id, creator, id, resource));
                continue;
            }
            let index = f.random(events.len() as u64) as usize;
            let (event, creator, version, resource) = events[index];
            if roll < 85 {
                let Some(r) = resource else { continue };
                let (resource, owner) = resources[r];
                let decision = if f.random(4) > 0 {
                    Decision::Grant
                } else {
                    Decision::Deny
                };
                let answer = Authorization {
                    festival: root,
                    event,
                    event_version: version,
                    resource,
                    decision,
                    reason: None,
                };
                f.push(owner, Operation::Authorization(answer));
            } else if roll < 95 {
                let start = f.random(30 * 24) as Millis * HOUR;
                let update = EventUpdate {
                    festival: root,
                    event,
                    title: None,
                    description: None,
                    timeframe: Some(Timeframe {
                        start,
                        end: start + HOUR,
                    }),
                    resources: None,
                };
                events[index].2 = f.push(creator, Operation::EventUpdate(update));
            } else {
                let cancel = EventCancel {
                    festival: root,
                    event,
                };
                f.push(creator, Operation::EventCancel(cancel));
            }
        }
        f
    }

    /// Entry bytes and payloads as a store keyed by (author, log, seq) returns them.
    fn stored(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut logs: Vec<&Vec<(Entry, Vec<u8>)>> = self.logs.iter().collect();
        logs.sort_by_key(|log| log.first().map(|(e, _)| e.author()));
        logs.into_iter()
            .flatten()
            .map(|(entry, payload)| (entry.bytes().to_vec(), payload.clone()))
            .collect()
    }
}

fn restore(stored: &[(Vec<u8>, Vec<u8>)]) -> Replica {
    let mut replica = Replica::new();
    for (entry, payload) in stored {
        replica.restore(entry, payload).expect("restores");
    }
    replica
}

/// As `restore`, indexing the views once at the end (what a browser node does when it opens).
fn bulk_restore(stored: &[(Vec<u8>, Vec<u8>)]) -> Replica {
    let mut replica = Replica::new();
    let mut restoring = replica.bulk_restore();
    for (entry, payload) in stored {
        restoring.restore(entry, payload).expect("restores");
    }
    restoring.finish();
    replica
}

fn ingest(stored: &[(Vec<u8>, Vec<u8>)]) -> Replica {
    let mut replica = Replica::new();
    for (entry, payload) in stored {
        replica.ingest(entry, payload).expect("verifies");
    }
    replica
}

fn decode(stored: &[(Vec<u8>, Vec<u8>)], keys: Option<&KeyCache>) -> usize {
    stored
        .iter()
        .map(|(bytes, _)| match keys {
            Some(keys) => Entry::decode_with_keys(bytes, keys),
            None => Entry::decode(bytes),
        })
        .map(|entry| entry.expect("decodes").seq_num() as usize)
        .sum()
}

/// The fastest of `runs` timed runs, in µs per entry (dropping what `f` built is not timed).
fn micros_per_entry<T>(runs: usize, entries: usize, mut f: impl FnMut() -> T) -> f64 {
    (0..runs)
        .map(|_| {
            let started = Instant::now();
            let built = black_box(f());
            let elapsed = started.elapsed().as_secs_f64();
            drop(built);
            elapsed
        })
        .fold(f64::INFINITY, f64::min)
        * 1e6
        / entries as f64
}

/// Heap held by what `f` builds, per entry.
fn heap_per_entry<T>(entries: usize, f: impl FnOnce() -> T) -> (usize, T) {
    let before = LIVE.load(Ordering::Relaxed);
    let built = f();
    let after = LIVE.load(Ordering::Relaxed);
    (after.saturating_sub(before) / entries, built)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not (criterion then tests).
    let args: Vec<String> = std::env::args().collect();
    let quick =
        !args.iter().any(|a| a == "--bench") || args.iter().any(|a| a == "--test" || a == "--list");
    let size = std::env::var("RESTORE_ENTRIES")
        .ok()
        .map(|n| n.parse().expect("RESTORE_ENTRIES is a number"))
        .unwrap_or(if quick { 2_000 } else { 100_000 });
    let started = Instant::now();
    let festival = Festival::build(size);
    let stored = festival.stored();
    drop(festival);
    let n = stored.len();
    let raw: usize = stored.iter().map(|(e, p)| e.len() + p.len()).sum();
    println!(
        "festival of {n} signed entries by {AUTHORS} authors built in {:.1} s; entries + payloads {} bytes per entry",
        started.elapsed().as_secs_f64(),
        raw / n
    );
    // Every entry is taken in exactly once, from a store's order.
    let check = restore(&stored);
    assert_eq!(check.store().len(), n);
    assert_eq!(check.state().len(), n);
    assert_eq!(check.state().snapshot(), ingest(&stored).state().snapshot());
    assert_eq!(
        check.state().snapshot(),
        bulk_restore(&stored).state().snapshot()
    );
    let keys = check.store().keys().clone();
    drop(check);
    // One run of one part, for a profiler (`valgrind --tool=callgrind
    // --toggle-collect='*restore::bulk_restore*'` counts instructions, which load on the
    // machine does not change).
    if let Ok(part) = std::env::var("RESTORE_PROFILE") {
        let built = match part.as_str() {
            "restore" => restore(&stored),
            "bulk_restore" => bulk_restore(&stored),
            other => panic!("RESTORE_PROFILE is restore or bulk_restore, not {other}"),
        };
        println!("{part}: {} entries", black_box(built).store().len());
        return;
    }

    let mut c = Criterion::default().configure_from_args().sample_size(10);
    let mut group = c.benchmark_group("restore");
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function("decode", |b| b.iter(|| decode(&stored, None)));
    group.bench_function("decode, keys cached", |b| {
        b.iter(|| decode(&stored, Some(&keys)))
    });
    group.bench_function("restore", |b| b.iter(|| restore(&stored)));
    group.bench_function("bulk restore", |b| b.iter(|| bulk_restore(&stored)));
    group.bench_function("ingest (full verification)", |b| b.iter(|| ingest(&stored)));
    group.finish();
    c.final_summary();

    if quick {
        return;
    }
    let runs = std::env::var("RESTORE_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    println!("\n{n} entries, fastest of {runs} runs, µs per entry:");
    let decode_us = micros_per_entry(runs, n, || decode(&stored, None));
    let cached_us = micros_per_entry(runs, n, || decode(&stored, Some(&keys)));
    let restore_us = micros_per_entry(runs, n, || restore(&stored));
    let bulk_us = micros_per_entry(runs, n, || bulk_restore(&stored));
    let ingest_us = micros_per_entry(runs, n, || ingest(&stored));
    // Where a restore's time goes: the store's part, the operations' CBOR, the state's part.
    let store_us = micros_per_entry(runs, n, || {
        let mut store = MemoryStore::new();
        for (entry, payload) in &stored {
            store.restore(entry, payload).expect("restores");
        }
        store
    });
    let cbor_us = micros_per_entry(runs, n, || {
        stored
            .iter()
            .filter(|(_, payload)| Operation::decode(payload).is_ok())
            .count()
    });
    let ops: Vec<Op> = stored
        .iter()
        .map(|(entry, payload)| {
            let entry = Entry::decode(entry).expect("decodes");
            Op {
                id: entry.hash(),
                author: entry.author(),
                log_id: entry.log_id(),
                seq: entry.seq_num(),
                operation: Operation::decode(payload).expect("valid"),
            }
        })
        .collect();
    let state_us = (0..runs)
        .map(|_| {
            let ops = ops.clone();
            let started = Instant::now();
            let mut state = State::new();
            for op in ops {
                state.apply(op);
            }
            let elapsed = started.elapsed().as_secs_f64();
            drop(black_box(state));
            elapsed
        })
        .fold(f64::INFINITY, f64::min)
        * 1e6
        / n as f64;
    println!("  decode                      {decode_us:8.2}");
    println!("  decode, author keys cached  {cached_us:8.2}");
    println!("  restore                     {restore_us:8.2}");
    println!("    of which: store {store_us:.2}, operation CBOR {cbor_us:.2}, state {state_us:.2}");
    println!("  bulk restore (index once)   {bulk_us:8.2}");
    println!("  ingest (full verification)  {ingest_us:8.2}");
    let (store_heap, store) = heap_per_entry(n, || {
        let mut store = MemoryStore::new();
        for (entry, payload) in &stored {
            store.restore(entry, payload).expect("restores");
        }
        store
    });
    drop(store);
    let (replica_heap, replica) = heap_per_entry(n, || restore(&stored));
    drop(replica);
    println!(
        "heap per entry of a restored replica: {replica_heap} bytes (store {store_heap}, state {})",
        replica_heap.saturating_sub(store_heap)
    );
}
