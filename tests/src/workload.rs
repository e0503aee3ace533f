//! Festivals of a given size for benchmarks.

use p2panda_core::identity::KeyPair;
use p2panda_core::operation::*;
use p2panda_core::replica::Replica;

/// One festival of `entries` entries written by `authors` authors in turn, each payload about
/// 230 bytes (an event with a title and a one-line description).
pub fn festival(entries: usize, authors: usize) -> (Replica, FestivalId) {
    let authors: Vec<_> = (0..authors).map(|_| KeyPair::generate()).collect();
    let mut replica = Replica::new();
    let create = Operation::FestivalCreate(FestivalCreate {
        name: "Bench fest".into(),
        description: String::new(),
        parent: None,
        fork_of: None,
    });
    let (festival, _) = replica.publish(&authors[0], &create).expect("valid");
    for i in 1..entries {
        let hour = (i as i64 % 500) * 3_600_000;
        let event = Operation::EventCreate(EventCreate {
            festival,
            title: format!("Workshop {i}"),
            description: "Bring your own tools; we share the rest. Soldering, sewing, repair."
                .into(),
            start: hour,
            end: hour + 5_400_000,
            resources: vec![],
        });
        replica
            .publish(&authors[i % authors.len()], &event)
            .expect("valid");
    }
    (replica, festival)
}

/// How many entries a sync bench moves: `SYNC_ENTRIES`, else 100k, or 2k when the bench only runs
/// as a test (`cargo test --benches` passes `--test`).
pub fn bench_size() -> usize {
    let quick = std::env::args().any(|a| a == "--test" || a == "--list");
    std::env::var("SYNC_ENTRIES")
        .ok()
        .map(|n| n.parse().expect("SYNC_ENTRIES is a number"))
        .unwrap_or(if quick { 2_000 } else { 100_000 })
}

/// The bytes of every entry and payload: what a sync must move at the least.
pub fn raw_bytes(replica: &Replica) -> u64 {
    let store = replica.store();
    store
        .heights()
        .flat_map(|(log, _)| store.entries_after(log, 0))
        .map(|s| (s.entry.bytes().len() + s.payload.len()) as u64)
        .sum()
}
