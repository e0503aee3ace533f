//! Sync of a whole festival from one native peer to an empty one over a real WebRTC data channel
//! on loopback: entries per second, bytes on the wire against the entries' own bytes, and memory.
//!
//! Run it inside a loopback-only namespace, like the WebRTC tests:
//! `unshare -n sh -c 'ip link set lo up && exec cargo bench -p p2panda-tests --bench sync_webrtc'`
//! (100k entries; `SYNC_ENTRIES=20000` for another size).

use std::time::{Duration, Instant};

use p2panda_core::identity::KeyPair;
use p2panda_core::replica::Replica;
use p2panda_node::native_peer::{connect, wait_until, NativePeer};
use p2panda_tests::workload::{bench_size, festival, raw_bytes};

const AUTHORS: usize = 50;

/// The process's peak resident memory so far, in KiB (Linux).
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let entries = bench_size();
    println!("building a festival of {entries} entries by {AUTHORS} authors...");
    let (replica, festival) = festival(entries, AUTHORS);
    let raw = raw_bytes(&replica);
    let source = NativePeer::new(KeyPair::generate(), replica);
    let receiver = NativePeer::new(KeyPair::generate(), Replica::new());
    source.join(festival);
    receiver.join(festival);
    let rss_before = peak_rss_kib();

    let started = Instant::now();
    connect(&source, &receiver)
        .await
        .expect("WebRTC connection");
    let connected = started.elapsed();
    wait_until(
        "the receiver to hold everything",
        Duration::from_secs(600),
        || receiver.with_node(|n| n.replica().store().len()) == entries,
    )
    .await
    .unwrap();
    let took = started.elapsed();
    let wire: u64 = receiver.with_node(|n| {
        n.peers()
            .iter()
            .map(|p| p.bytes_received + p.bytes_sent)
            .sum()
    });
    assert!(receiver.errors().is_empty(), "{:?}", receiver.errors());

    println!("entries: {entries}, entries + payloads {raw} bytes");
    println!(
        "sync over WebRTC (loopback): {:.2} s including {:.0} ms to connect, {:.0} entries/s",
        took.as_secs_f64(),
        connected.as_secs_f64() * 1000.0,
        entries as f64 / took.as_secs_f64()
    );
    println!(
        "bytes on the wire (sync frames, both ways) / entries + payloads: {:.4} (target <= 1.10)",
        wire as f64 / raw as f64
    );
    println!(
        "process peak RSS: {} MiB before syncing (source built), {} MiB after",
        rss_before / 1024,
        peak_rss_kib() / 1024
    );
}
