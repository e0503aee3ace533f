//! Native peers syncing over real WebRTC data channels (the `webrtc` crate, loopback only, mDNS
//! off). `scripts/test.sh` runs these inside a fresh network namespace (`unshare -n`), where only
//! loopback exists.

use std::time::Duration;

use p2panda_core::festival::Topic;
use p2panda_core::identity::KeyPair;
use p2panda_core::log::LogError;
use p2panda_core::operation::*;
use p2panda_core::replica::{IngestError, Replica};
use p2panda_core::store::StoreError;
use p2panda_core::sync::wire::Message;
use p2panda_core::sync::SyncError;
use p2panda_node::native_peer::{connect, wait_until, NativePeer};

const PATIENCE: Duration = Duration::from_secs(60);

fn peer() -> NativePeer {
    NativePeer::new(KeyPair::generate(), Replica::new())
}

fn create_festival(peer: &NativePeer, name: &str) -> Topic {
    peer.publish(&Operation::FestivalCreate(FestivalCreate {
        name: name.into(),
        description: String::new(),
        parent: None,
        fork_of: None,
    }))
}

fn write_events(peer: &NativePeer, festival: Topic, count: usize) {
    for i in 0..count {
        peer.publish(&Operation::EventCreate(EventCreate {
            festival,
            title: format!("session {i}"),
            description: "Bring a cup.".into(),
            start: i as i64 * 3_600_000,
            end: i as i64 * 3_600_000 + 1_800_000,
            resources: vec![],
        }));
    }
}

fn entries(peer: &NativePeer) -> usize {
    peer.with_node(|n| n.replica().store().len())
}

fn snapshot(peer: &NativePeer) -> p2panda_core::festival::Snapshot {
    peer.with_node(|n| n.replica().state().snapshot())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_peers_in_a_line_converge_on_one_festival() {
    let peers: Vec<_> = (0..5).map(|_| peer()).collect();
    let festival = create_festival(&peers[0], "Line fest");
    peers.iter().for_each(|p| p.join(festival));
    // Each only knows its neighbours.
    for pair in peers.windows(2) {
        connect(&pair[0], &pair[1]).await.expect("connection");
    }
    // Everyone writes, while the festival is still spreading; those who have not received it
    // yet write once it arrives.
    for p in &peers {
        wait_until("the festival to arrive", PATIENCE, || {
            p.with_node(|n| n.replica().state().festival(festival).is_some())
        })
        .await
        .unwrap();
        write_events(p, festival, 20);
    }
    let took = wait_until("all five to hold everything", PATIENCE, || {
        peers.iter().all(|p| entries(p) == 1 + 5 * 20)
    })
    .await
    .unwrap();
    eprintln!("line of 5 converged {took:?} after the last write");
    let first = snapshot(&peers[0]);
    for p in &peers[1..] {
        assert_eq!(snapshot(p), first);
        assert!(p.errors().is_empty(), "{:?}", p.errors());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_joiner_catches_up_and_a_cut_sync_resumes_without_gaps_or_duplicates() {
    let (source, relay, late) = (peer(), peer(), peer());
    let festival = create_festival(&source, "Big fest");
    write_events(&source, festival, 3_000);
    [&source, &relay, &late]
        .iter()
        .for_each(|p| p.join(festival));

    // Cut the first connection mid-sync, then reconnect: the relay resumes where it stopped.
    let (_, at_relay) = connect(&source, &relay).await.unwrap();
    wait_until("part of the festival", PATIENCE, || entries(&relay) > 300)
        .await
        .unwrap();
    relay.cut(at_relay).await;
    let held_at_cut = entries(&relay);
    assert!(
        held_at_cut < 3_001,
        "the cut came too late to test resuming"
    );
    connect(&source, &relay).await.unwrap();
    wait_until("the relay to catch up", PATIENCE, || {
        entries(&relay) == 3_001
    })
    .await
    .unwrap();
    // Every entry crossed once: none lost to the cut had to be sent twice, except those in
    // flight when it happened (they never arrived, so they are not counted).
    assert_eq!(relay.entries_received(), 3_001);
    eprintln!("cut after {held_at_cut} entries; resumed and completed without duplicates");

    // A peer that joins late, knowing only the relay, catches up, and gets live writes too.
    connect(&relay, &late).await.unwrap();
    write_events(&source, festival, 5);
    wait_until("the late peer to catch up", PATIENCE, || {
        entries(&late) == 3_006
    })
    .await
    .unwrap();
    assert_eq!(late.entries_received(), 3_006);
    assert_eq!(snapshot(&late), snapshot(&source));
    for p in [&source, &relay, &late] {
        assert!(p.errors().is_empty(), "{:?}", p.errors());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_sending_forged_entries_is_disconnected_and_nothing_it_sent_is_stored() {
    let (honest, forger) = (peer(), peer());
    let festival = create_festival(&forger, "Forged fest");
    write_events(&forger, festival, 50);
    honest.join(festival);
    // The forger flips a bit in the signature of every entry it sends.
    forger.set_tamper(std::sync::Arc::new(|frame: Vec<u8>| {
        let Ok(Message::Entries(entries)) = Message::decode(&frame) else {
            return frame;
        };
        let forged: Vec<(Vec<u8>, Vec<u8>)> = entries
            .iter()
            .map(|(entry, payload)| {
                let mut entry = entry.to_vec();
                *entry.last_mut().unwrap() ^= 1;
                (entry, payload.to_vec())
            })
            .collect();
        let forged = forged.iter().map(|(e, p)| (&e[..], &p[..])).collect();
        Message::Entries(forged).encode()
    }));
    let (at_forger, _) = connect(&honest, &forger).await.unwrap();
    wait_until("the honest peer to drop the forger", PATIENCE, || {
        !honest.errors().is_empty()
    })
    .await
    .unwrap();
    let errors = honest.errors();
    assert_eq!(
        errors,
        vec![(
            at_forger,
            SyncError::InvalidEntry(IngestError::Store(StoreError::Invalid(
                LogError::BadSignature
            )))
        )]
    );
    assert_eq!(entries(&honest), 0, "nothing the forger sent is stored");
    let forger_key = forger.with_node(|n| n.key_pair().public_key());
    assert!(honest.with_node(|n| n.is_blocked(&forger_key)));
    // The forger is told and hung up on.
    wait_until("the forger to be hung up on", PATIENCE, || {
        forger.with_node(|n| n.peers().is_empty())
    })
    .await
    .unwrap();
    // And it is refused when it comes back.
    connect(&honest, &forger).await.unwrap();
    wait_until("the second refusal", PATIENCE, || {
        honest.errors().len() == 2
    })
    .await
    .unwrap();
    assert_eq!(honest.errors()[1].1, SyncError::Blocked(forger_key));
    assert_eq!(entries(&honest), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_sharing_one_festival_of_three_exchange_only_that_one() {
    let (a, b) = (peer(), peer());
    let shared = create_festival(&a, "Shared");
    let a_only: Vec<_> = (0..2)
        .map(|i| create_festival(&a, &format!("A {i}")))
        .collect();
    let b_only: Vec<_> = (0..2)
        .map(|i| create_festival(&b, &format!("B {i}")))
        .collect();
    b.join(shared);
    for (peer, festivals) in [(&a, &a_only), (&b, &b_only)] {
        for festival in festivals {
            write_events(peer, *festival, 10);
        }
    }
    write_events(&a, shared, 10);
    let (a_before, b_before) = (entries(&a), entries(&b));
    connect(&a, &b).await.unwrap();
    wait_until("the shared festival to arrive", PATIENCE, || {
        entries(&b) == b_before + 11
    })
    .await
    .unwrap();
    // Live writes in the private festivals do not cross either.
    write_events(&a, a_only[0], 3);
    write_events(&b, b_only[0], 3);
    write_events(&b, shared, 2);
    wait_until("b's shared writes to arrive", PATIENCE, || {
        entries(&a) == a_before + 3 + 2
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(entries(&b), b_before + 11 + 3 + 2);
    b.with_node(|n| {
        for festival in &a_only {
            assert!(n.replica().state().festival(*festival).is_none());
        }
    });
    a.with_node(|n| {
        for festival in &b_only {
            assert!(n.replica().state().festival(*festival).is_none());
        }
        assert_eq!(n.peers()[0].shared_topics, 1);
    });
    assert_eq!(
        snapshot(&a).contexts.get(&shared),
        snapshot(&b).contexts.get(&shared)
    );
}
