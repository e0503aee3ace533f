//! Restoring a replica from the entries it verified before (its own durable store): the result
//! equals a replica that verified everything, every check but the signature still holds, and fork
//! evidence comes back as well.

use p2panda_core::festival::Outcome;
use p2panda_core::hash::Hash;
use p2panda_core::identity::KeyPair;
use p2panda_core::log::{Entry, LogError, UnsignedEntry};
use p2panda_core::operation::*;
use p2panda_core::replica::{IngestError, Replica};
use p2panda_core::store::{ForkEvidence, LogKey, StoreError};

const HOUR: Millis = 3_600_000;

fn festival_create(name: &str) -> Operation {
    Operation::FestivalCreate(FestivalCreate {
        name: name.into(),
        description: String::new(),
        parent: None,
        fork_of: None,
    })
}

fn event(festival: FestivalId, title: &str, hour: i64, resources: Vec<ResourceId>) -> Operation {
    Operation::EventCreate(EventCreate {
        festival,
        title: title.into(),
        description: "restored".into(),
        start: hour * HOUR,
        end: (hour + 1) * HOUR,
        resources,
    })
}

/// A festival with a resource, events by several authors, an update, an answer and a
/// cancellation: every kind of record the state keeps.
fn history() -> (Replica, Vec<KeyPair>, FestivalId) {
    let keys: Vec<KeyPair> = (0..4).map(|_| KeyPair::generate()).collect();
    let mut replica = Replica::new();
    let (festival, _) = replica.publish(&keys[0], &festival_create("Camp")).unwrap();
    let stage = Operation::ResourceCreate(ResourceCreate {
        festival,
        name: "Stage".into(),
        description: String::new(),
        kind: ResourceKind::Item,
        policy: PolicyKind::Manual,
    });
    let (stage, _) = replica.publish(&keys[0], &stage).unwrap();
    let mut events = Vec::new();
    for i in 0..30 {
        let author = &keys[1 + i % 3];
        let (id, _) = replica
            .publish(
                author,
                &event(festival, &format!("Talk {i}"), i as i64, vec![stage]),
            )
            .unwrap();
        events.push((id, 1 + i % 3));
    }
    let (first, author) = events[0];
    let update = Operation::EventUpdate(EventUpdate {
        festival,
        event: first,
        title: Some("Opening talk".into()),
        description: None,
        timeframe: None,
        resources: None,
    });
    let (version, _) = replica.publish(&keys[author], &update).unwrap();
    let grant = Operation::Authorization(Authorization {
        festival,
        event: first,
        event_version: version,
        resource: stage,
        decision: Decision::Grant,
        reason: None,
    });
    replica.publish(&keys[0], &grant).unwrap();
    let (second, author) = events[1];
    let cancel = Operation::EventCancel(EventCancel {
        festival,
        event: second,
    });
    replica.publish(&keys[author], &cancel).unwrap();
    (replica, keys, festival)
}

/// Every entry with its payload, as a durable store keyed by (author, log, seq) returns them.
fn saved(replica: &Replica) -> Vec<(Vec<u8>, Vec<u8>)> {
    let store = replica.store();
    let mut logs: Vec<LogKey> = store.heights().map(|(log, _)| log).collect();
    logs.sort();
    logs.into_iter()
        .flat_map(|log| store.entries_after(log, 0))
        .map(|s| (s.entry.bytes().to_vec(), s.payload.clone()))
        .collect()
}

fn restored(entries: &[(Vec<u8>, Vec<u8>)]) -> Replica {
    let mut replica = Replica::new();
    for (entry, payload) in entries {
        replica.restore(entry, payload).unwrap();
    }
    replica
}

#[test]
fn a_restored_replica_equals_the_one_that_verified_everything() {
    let (original, keys, _) = history();
    let entries = saved(&original);
    let replica = restored(&entries);
    assert_eq!(replica.store(), original.store());
    assert_eq!(replica.state().snapshot(), original.state().snapshot());
    // The store knows every author's key after one entry each.
    assert_eq!(replica.store().keys().len(), keys.len());

    // Restoring again changes nothing.
    let mut again = replica.clone();
    for (entry, payload) in &entries {
        assert_eq!(again.restore(entry, payload), Ok(Outcome::Duplicate));
    }
    assert_eq!(again.store(), original.store());
}

#[test]
fn a_restored_replica_goes_on_publishing_and_verifying() {
    let (original, keys, festival) = history();
    let mut replica = restored(&saved(&original));
    let mut peer = original.clone();
    // Written after the restore, by the restored node and by a peer: each takes the other's in.
    let (mine, _) = replica
        .publish(&keys[2], &event(festival, "Late talk", 50, vec![]))
        .unwrap();
    let (theirs, _) = peer
        .publish(&keys[3], &event(festival, "Later talk", 51, vec![]))
        .unwrap();
    let from_peer = peer.store().get_by_hash(&theirs).unwrap().clone();
    assert_eq!(
        replica.ingest(from_peer.entry.bytes(), &from_peer.payload),
        Ok(Outcome::Applied)
    );
    let from_me = replica.store().get_by_hash(&mine).unwrap().clone();
    assert_eq!(
        peer.ingest(from_me.entry.bytes(), &from_me.payload),
        Ok(Outcome::Applied)
    );
    assert_eq!(replica.state().snapshot(), peer.state().snapshot());

    // A forged entry of an author whose key the restored store caches is still refused.
    let (next, _) = peer
        .publish(&keys[3], &event(festival, "Forged later", 52, vec![]))
        .unwrap();
    let next = peer.store().get_by_hash(&next).unwrap().clone();
    let mut forged = next.entry.bytes().to_vec();
    let end = forged.len() - 1;
    forged[end] ^= 1;
    let before = replica.store().clone();
    assert_eq!(
        replica.ingest(&forged, &next.payload),
        Err(LogError::BadSignature.into())
    );
    assert_eq!(*replica.store(), before);
}

#[test]
fn restore_skips_only_the_signature() {
    let (original, _, _) = history();
    let entries = saved(&original);
    let (last_entry, last_payload) = entries.last().unwrap().clone();
    let mut replica = restored(&entries[..entries.len() - 1]);
    let before = replica.clone();

    // Each of these is refused, and leaves the replica as it was.
    let mut trailing = last_entry.clone();
    trailing.push(0);
    let mut tag = last_entry.clone();
    tag[0] = 7;
    let mut payload = last_payload.clone();
    payload[0] ^= 1;
    let cases: Vec<(Vec<u8>, Vec<u8>, IngestError)> = vec![
        (
            trailing,
            last_payload.clone(),
            LogError::NonCanonical.into(),
        ),
        (tag, last_payload.clone(), LogError::NonCanonical.into()),
        (
            last_entry.clone(),
            payload,
            LogError::PayloadHashMismatch.into(),
        ),
    ];
    for (entry, payload, expected) in cases {
        assert_eq!(replica.restore(&entry, &payload), Err(expected));
        assert_eq!(replica.store(), before.store());
    }
    // A gap: the log's next entry is the last one, not the one after it.
    let decoded = Entry::decode(&last_entry).unwrap();
    let log_entries: Vec<_> = entries
        .iter()
        .filter(|(e, _)| {
            let e = Entry::decode(e).unwrap();
            e.author() == decoded.author() && e.log_id() == decoded.log_id()
        })
        .collect();
    let (second, second_payload) = log_entries[1];
    let mut fresh = Replica::new();
    assert_eq!(
        fresh.restore(second, second_payload),
        Err(StoreError::SeqGap { height: 0, got: 2 }.into())
    );
    assert!(fresh.store().is_empty());

    // A bad signature is not noticed: that is the point (and why restore is only for entries this
    // node verified itself). Ingesting the same bytes refuses them.
    let mut bad_signature = last_entry.clone();
    let end = bad_signature.len() - 1;
    bad_signature[end] ^= 1;
    let mut verifying = before.clone();
    assert_eq!(
        verifying.ingest(&bad_signature, &last_payload),
        Err(LogError::BadSignature.into())
    );
    assert!(replica.restore(&bad_signature, &last_payload).is_ok());
}

#[test]
fn restore_still_checks_links() {
    // A damaged store whose entry does not link to the one before it shows on restore.
    let key_pair = KeyPair::generate();
    let mut replica = Replica::new();
    let (festival, _) = replica
        .publish(&key_pair, &festival_create("Links"))
        .unwrap();
    let payload = event(festival, "Talk", 1, vec![]).encode().unwrap();
    let first = replica
        .store()
        .get_by_hash(&festival)
        .unwrap()
        .entry
        .clone();
    let wrong = Entry::sign(
        &key_pair,
        &UnsignedEntry {
            log_id: first.log_id(),
            seq_num: 2,
            backlink: Some(Hash::digest(b"not the first entry")),
            lipmaa_link: None,
            payload_hash: Hash::digest(&payload),
            payload_size: payload.len() as u64,
            is_end_of_feed: false,
        },
    )
    .unwrap();
    let mut restoring = Replica::new();
    restoring
        .restore(first.bytes(), &festival_create("Links").encode().unwrap())
        .unwrap();
    assert_eq!(
        restoring.restore(wrong.bytes(), &payload),
        Err(LogError::BacklinkMismatch.into())
    );
    assert_eq!(restoring.store().len(), 1);
}

/// A replica that saw its owner sign two different second entries, and the other one's payload.
fn forked() -> (Replica, ForkEvidence, Vec<u8>) {
    let owner = KeyPair::generate();
    let mut node = Replica::new();
    let (festival, _) = node.publish(&owner, &festival_create("Forked")).unwrap();
    let mut elsewhere = node.clone();
    node.publish(&owner, &event(festival, "Here", 1, vec![]))
        .unwrap();
    let (other, _) = elsewhere
        .publish(&owner, &event(festival, "There", 2, vec![]))
        .unwrap();
    let other = elsewhere.store().get_by_hash(&other).unwrap().clone();
    assert_eq!(
        node.ingest(other.entry.bytes(), &other.payload),
        Err(StoreError::Fork { seq_num: 2 }.into())
    );
    let evidence = node.store().forks()[0].clone();
    assert_eq!(evidence.conflicting, other.entry.bytes());
    (node, evidence, other.payload)
}

#[test]
fn saved_fork_evidence_freezes_the_restored_log_again() {
    let (node, evidence, _) = forked();
    let entries = saved(&node);
    let mut replica = restored(&entries);
    assert_eq!(replica.store().frozen_at(evidence.log), None);
    replica.restore_fork_evidence(&evidence).unwrap();
    assert_eq!(replica.store().frozen_at(evidence.log), Some(2));
    assert_eq!(replica.store(), node.store());
    // Twice is once.
    replica.restore_fork_evidence(&evidence).unwrap();
    assert_eq!(replica.store().forks().len(), 1);
    assert_eq!(replica.store(), node.store());
}

#[test]
fn fork_evidence_coming_in_again_after_a_restore_is_recorded_again() {
    // The normal path: the conflicting entry arrives again (from a peer, or re-ingested from
    // what the node saved with its payload).
    let (node, evidence, payload) = forked();
    let mut replica = restored(&saved(&node));
    assert_eq!(
        replica.ingest(&evidence.conflicting, &payload),
        Err(StoreError::Fork { seq_num: 2 }.into())
    );
    assert_eq!(replica.store().forks(), node.store().forks());
    assert_eq!(replica.store().frozen_at(evidence.log), Some(2));
    // Restoring it as well as an entry is refused as the fork it is.
    let mut again = restored(&saved(&node));
    assert_eq!(
        again.restore(&evidence.conflicting, &payload),
        Err(StoreError::Fork { seq_num: 2 }.into())
    );
    assert_eq!(again.store(), node.store());
}

#[test]
fn fork_evidence_that_does_not_fit_is_refused() {
    let (node, evidence, _) = forked();
    let entries = saved(&node);
    let mut replica = restored(&entries);
    let before = replica.store().clone();
    let not_evidence =
        |e: &IngestError| matches!(e, IngestError::Store(StoreError::NotEvidence(_)));

    let wrong_kept = ForkEvidence {
        kept: Hash::digest(b"never held"),
        ..evidence.clone()
    };
    assert!(not_evidence(
        &replica.restore_fork_evidence(&wrong_kept).unwrap_err()
    ));
    let wrong_seq = ForkEvidence {
        seq_num: 3,
        ..evidence.clone()
    };
    assert!(not_evidence(
        &replica.restore_fork_evidence(&wrong_seq).unwrap_err()
    ));
    let kept = node
        .store()
        .get(evidence.log, 2)
        .unwrap()
        .entry
        .bytes()
        .to_vec();
    let same = ForkEvidence {
        conflicting: kept,
        ..evidence.clone()
    };
    assert!(not_evidence(
        &replica.restore_fork_evidence(&same).unwrap_err()
    ));
    let mut forged = evidence.clone();
    let end = forged.conflicting.len() - 1;
    forged.conflicting[end] ^= 1;
    assert_eq!(
        replica.restore_fork_evidence(&forged),
        Err(LogError::BadSignature.into())
    );
    assert_eq!(*replica.store(), before);
}
