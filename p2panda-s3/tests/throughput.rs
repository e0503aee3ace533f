//! Push and pull throughput through s3s-fs on loopback, and the size overhead of bundling,
//! sealing and padding. Prints its figures (`-- --nocapture`); `MAILBOX_ENTRIES` sets the size
//! (default 5,000). For real figures run it in release:
//! `cargo test -p p2panda-s3 --release --test throughput -- --nocapture`.

mod common;

use std::time::Instant;

use common::{raw_bytes, Server};
use p2panda_core::mailbox::MailboxKey;
use p2panda_core::replica::Replica;
use p2panda_s3::Mailbox;
use p2panda_tests::workload::festival;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_and_pull_throughput_and_size_overhead() {
    let entries: usize = std::env::var("MAILBOX_ENTRIES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5_000);
    let server = Server::start(None).await;
    let (a, topic) = festival(entries, 4);
    let raw = raw_bytes(&a);
    let key = MailboxKey::public(topic);

    let started = Instant::now();
    let pushed = Mailbox::new(server.config(), key.clone())
        .unwrap()
        .push(&a)
        .await
        .unwrap();
    let push_time = started.elapsed();
    assert_eq!(pushed.entries, entries);

    let mut b = Replica::new();
    let started = Instant::now();
    let pulled = Mailbox::new(server.config(), key)
        .unwrap()
        .pull(&mut b)
        .await
        .unwrap()
        .check()
        .unwrap();
    let pull_time = started.elapsed();
    assert_eq!(pulled.entries, entries);
    assert_eq!(b.state().snapshot(), a.state().snapshot());

    let overhead = pushed.bytes as f64 / raw as f64;
    println!(
        "mailbox: {entries} entries, {raw} raw bytes; push {} bundles, {} bytes (x{overhead:.3}) \
         in {:.2} s = {:.0} entries/s, {:.1} MiB/s; pull {} bundles in {:.2} s = {:.0} entries/s \
         (verifying every entry)",
        pushed.bundles,
        pushed.bytes,
        push_time.as_secs_f64(),
        entries as f64 / push_time.as_secs_f64(),
        pushed.bytes as f64 / push_time.as_secs_f64() / 1_048_576.0,
        pulled.bundles,
        pull_time.as_secs_f64(),
        entries as f64 / pull_time.as_secs_f64(),
    );
    // Full bundles nearly fill their bucket: the overhead stays small.
    assert!(overhead < 1.25, "overhead x{overhead:.3}");
}
