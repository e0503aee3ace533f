//! Sync of a whole festival from one node to an empty one, in memory: entries per second against
//! the rate of just verifying those entries, bytes on the wire against the entries' own bytes, and
//! the receiver's memory beyond what it stores.
//!
//! `cargo bench -p p2panda-tests --bench sync_memory` (100k entries); `SYNC_ENTRIES=20000` for
//! another size.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use p2panda_core::identity::KeyPair;
use p2panda_core::log::Entry;
use p2panda_core::operation::FestivalId;
use p2panda_core::replica::Replica;
use p2panda_core::sync::{Config, Node};
use p2panda_tests::workload::{bench_size, festival, raw_bytes};

/// Counts live heap bytes and their peak, so the receiver's memory can be read.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const AUTHORS: usize = 50;

/// Seconds to decode and fully verify every entry (signature, payload, links) once: the work no
/// receiver can skip.
fn verify_only(source: &Replica) -> f64 {
    let store = source.store();
    let logs: Vec<_> = store.heights().collect();
    let started = Instant::now();
    for (log, _) in &logs {
        let entries = store.entries_after(*log, 0);
        for (i, stored) in entries.iter().enumerate() {
            let entry = Entry::decode(stored.entry.bytes()).unwrap();
            let backlink = i.checked_sub(1).map(|b| &entries[b].entry);
            let lipmaa = store.get(*log, entry.lipmaa_seq()).map(|s| &s.entry);
            entry
                .verify(Some(&stored.payload), backlink, lipmaa)
                .unwrap();
        }
    }
    started.elapsed().as_secs_f64()
}

struct Run {
    seconds: f64,
    wire_bytes: u64,
    max_in_flight: usize,
    peak_extra: usize,
    /// What the receiver holds at the end: store and state.
    receiver_heap: usize,
}

/// Sync `source` into an empty node; frames queue between them as on a network, each side
/// sending until its credit runs out.
fn sync(source: &Replica, festival: FestivalId) -> (Run, Node) {
    let mut sender = Node::new(KeyPair::generate(), source.clone(), Config::default());
    sender.join(festival);
    let baseline = LIVE.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);
    // The sender's sessions are tiny next to the receiver's store: count all growth as the receiver's.
    let mut receiver = Node::new(KeyPair::generate(), Replica::new(), Config::default());
    receiver.join(festival);
    sender.connect(0, [1; 32], b"", 0);
    receiver.connect(0, [2; 32], b"", 0);

    let started = Instant::now();
    let (mut wire_bytes, mut max_in_flight) = (0, 0);
    let mut to_receiver: VecDeque<Vec<u8>> = VecDeque::new();
    loop {
        while let Some(frame) = sender.poll_transmit(0) {
            to_receiver.push_back(frame);
        }
        max_in_flight = max_in_flight.max(to_receiver.iter().map(Vec::len).sum());
        let mut moved = !to_receiver.is_empty();
        while let Some(frame) = to_receiver.pop_front() {
            wire_bytes += frame.len() as u64;
            receiver.receive(0, &frame, 0).unwrap();
        }
        while let Some(frame) = receiver.poll_transmit(0) {
            wire_bytes += frame.len() as u64;
            sender.receive(0, &frame, 0).unwrap();
            moved = true;
        }
        if !moved {
            break;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    // The heap at its peak beyond what it holds at the end: the receiver's store and state are
    // in both, so this is what syncing needed in passing.
    let peak_extra = PEAK.load(Ordering::Relaxed) - LIVE.load(Ordering::Relaxed);
    let receiver_heap = LIVE.load(Ordering::Relaxed) - baseline;
    let run = Run {
        receiver_heap,
        seconds,
        wire_bytes,
        max_in_flight,
        peak_extra,
    };
    (run, receiver)
}

fn main() {
    let entries = bench_size();
    println!("building a festival of {entries} entries by {AUTHORS} authors...");
    let (source, festival) = festival(entries, AUTHORS);
    let raw = raw_bytes(&source);
    let avg_payload = source
        .store()
        .heights()
        .flat_map(|(log, _)| source.store().entries_after(log, 0))
        .map(|s| s.payload.len())
        .sum::<usize>()
        / entries;

    let verify = (0..3)
        .map(|_| verify_only(&source))
        .fold(f64::MAX, f64::min);
    let mut runs: Vec<Run> = (0..3)
        .map(|_| {
            let (run, receiver) = sync(&source, festival);
            assert_eq!(receiver.replica().store().len(), entries);
            assert_eq!(
                receiver.replica().state().snapshot(),
                source.state().snapshot()
            );
            run
        })
        .collect();
    runs.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
    let median = &runs[runs.len() / 2];

    let sync_rate = entries as f64 / median.seconds;
    let verify_rate = entries as f64 / verify;
    println!(
        "entries: {entries}, average payload {avg_payload} bytes, entries + payloads {raw} bytes"
    );
    println!("verify only (decode + verify, one core): {verify_rate:.0} entries/s");
    println!(
        "sync in memory (median of 3): {:.2} s, {sync_rate:.0} entries/s = {:.0}% of the verify rate (target >= 80%)",
        median.seconds,
        100.0 * sync_rate / verify_rate
    );
    println!(
        "bytes on the wire / entries + payloads: {:.4} (target <= 1.10)",
        median.wire_bytes as f64 / raw as f64
    );
    println!(
        "receiver: at most {} KiB of frames queued for it (window {} KiB); heap at its peak minus heap at the end: {} KiB; heap per stored entry: {} bytes",
        median.max_in_flight / 1024,
        Config::default().window / 1024,
        median.peak_extra / 1024,
        median.receiver_heap / entries
    );
}
