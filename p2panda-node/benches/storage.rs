//! The data directory's costs: how fast entries become durable (group commit and `fdatasync`),
//! and how long a restart takes.
//!
//! ```sh
//! cargo bench -p p2panda-node --bench storage            # 20,000 entries
//! ENTRIES=100000 cargo bench -p p2panda-node --bench storage
//! ```

use std::time::Instant;

use p2panda_core::identity::KeyPair;
use p2panda_core::operation::*;
use p2panda_core::replica::Replica;
use p2panda_node::storage::{self, Record};

/// A festival of `n` entries by four authors, events with some text, as a node would receive.
fn festival(n: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let authors: Vec<KeyPair> = (0..4).map(|_| KeyPair::generate()).collect();
    let mut replica = Replica::new();
    let create = Operation::FestivalCreate(FestivalCreate {
        name: "Bench fest".into(),
        description: String::new(),
        parent: None,
        fork_of: None,
    });
    let (festival, _) = replica.publish(&authors[0], &create).expect("create");
    for i in 1..n {
        let hour = (i as i64 % 500) * 3_600_000;
        let event = Operation::EventCreate(EventCreate {
            festival,
            title: format!("Workshop {i}"),
            description: "Bring your own tools; we share the rest.".into(),
            start: hour,
            end: hour + 5_400_000,
            resources: vec![],
        });
        replica.publish(&authors[i % 4], &event).expect("event");
    }
    let store = replica.store();
    let mut logs: Vec<_> = store.heights().map(|(log, _)| log).collect();
    logs.sort_unstable();
    logs.into_iter()
        .flat_map(|log| store.entries_after(log, 0))
        .map(|s| (s.entry.bytes().to_vec(), s.payload.clone()))
        .collect()
}

fn per_second(n: usize, seconds: f64) -> String {
    format!("{:.0} entries/s", n as f64 / seconds)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::var("ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let entries = festival(n);
    let bytes: usize = entries.iter().map(|(e, p)| e.len() + p.len()).sum();
    println!("{n} entries, {bytes} bytes of entries and payloads");

    // 1. Received entries as the node stores them: verified (ingest), recorded, group-committed.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut opened = storage::open(dir.path(), None).expect("open");
    let started = Instant::now();
    for (entry, payload) in &entries {
        opened.replica.ingest(entry, payload).expect("valid");
        opened
            .recorder
            .catch_up(&opened.replica, &opened.journal)
            .expect("recorded");
    }
    let last = opened.journal.appended();
    let stored = started.elapsed();
    opened.journal.wait(last).await.expect("durable");
    let durable = started.elapsed();
    println!(
        "ingest + journal, group commit: {} ({} in memory; last durable {:?} after)",
        per_second(n, durable.as_secs_f64()),
        per_second(n, stored.as_secs_f64()),
        durable - stored
    );
    opened.journal.close().await.expect("closed");
    drop(opened);

    // 2. The journal alone: every record queued at once, then one wait.
    let dir2 = tempfile::tempdir().expect("temp dir");
    let opened2 = storage::open(dir2.path(), None).expect("open");
    let started = Instant::now();
    let mut last = 0;
    for (entry, payload) in &entries {
        last = opened2
            .journal
            .append(Record::Entry {
                entry: entry.clone(),
                payload: payload.clone(),
            })
            .expect("appended");
    }
    opened2.journal.wait(last).await.expect("durable");
    let took = started.elapsed();
    println!(
        "journal only, group commit: {}",
        per_second(n, took.as_secs_f64())
    );

    // 3. One at a time: each record waited for before the next (one fsync per entry).
    let one_by_one = n.min(5_000);
    let started = Instant::now();
    for (entry, payload) in entries.iter().take(one_by_one) {
        let ticket = opened2
            .journal
            .append(Record::Entry {
                entry: entry.clone(),
                payload: payload.clone(),
            })
            .expect("appended");
        opened2.journal.wait(ticket).await.expect("durable");
    }
    let took = started.elapsed();
    println!(
        "journal only, one fsync per entry ({one_by_one}): {} ({:.0} µs each)",
        per_second(one_by_one, took.as_secs_f64()),
        took.as_secs_f64() * 1e6 / one_by_one as f64
    );
    opened2.journal.close().await.expect("closed");
    drop(opened2);

    // 4. A restart on the first directory: lock, key, read and restore everything.
    for round in 0..3 {
        let started = Instant::now();
        let again = storage::open(dir.path(), None).expect("reopen");
        let took = started.elapsed();
        assert_eq!(again.replica.store().len(), n);
        println!(
            "restart {round}: {n} entries in {took:?} (restore {:?}, journal {} bytes)",
            again.report.elapsed, again.report.journal_len
        );
        again.journal.close().await.expect("closed");
    }
}
