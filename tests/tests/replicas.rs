//! Several replicas writing on their own and exchanging entries converge on one festival state,
//! owners' policy answers included; forged entries are refused and change nothing.

use p2panda_core::festival::RequestStatus;
use p2panda_core::identity::KeyPair;
use p2panda_core::log::{Entry, LogError};
use p2panda_core::operation::*;
use p2panda_core::policy::{respond, Policies};
use p2panda_core::replica::{IngestError, Replica};
use p2panda_core::store::StoreError;
use p2panda_tests::pull;

const HOUR: Millis = 3_600_000;

fn event(festival: FestivalId, title: &str, start: Millis, resource: ResourceId) -> Operation {
    Operation::EventCreate(EventCreate {
        festival,
        title: title.into(),
        description: String::new(),
        start,
        end: start + 2 * HOUR,
        resources: vec![resource],
    })
}

#[test]
fn three_replicas_converge_with_the_owners_answers() {
    let keys: Vec<KeyPair> = (0..3).map(|_| KeyPair::generate()).collect();
    let mut peers: Vec<Replica> = (0..3).map(|_| Replica::new()).collect();
    let (owner, b, c) = (&keys[0], &keys[1], &keys[2]);

    let create = Operation::FestivalCreate(FestivalCreate {
        name: "Gathering".into(),
        description: String::new(),
        parent: None,
        fork_of: None,
    });
    let fest = peers[0].publish(owner, &create).unwrap().0;
    let hall = peers[0]
        .publish(
            owner,
            &Operation::ResourceCreate(ResourceCreate {
                festival: fest,
                name: "Hall".into(),
                description: String::new(),
                kind: ResourceKind::Location(Location::default()),
                policy: PolicyKind::Fcfs,
            }),
        )
        .unwrap()
        .0;
    for i in 1..3 {
        let (left, right) = peers.split_at_mut(i);
        pull(&mut right[0], &left[0]).unwrap();
    }
    // B and C request the hall for overlapping times, each on their own replica.
    let talk = peers[1]
        .publish(b, &event(fest, "Talk", 10 * HOUR, hall))
        .unwrap()
        .0;
    let jam = peers[2]
        .publish(c, &event(fest, "Jam", 11 * HOUR, hall))
        .unwrap()
        .0;
    // The owner hears of B's request first, answers, then of C's.
    let from_b = peers[1].clone();
    pull(&mut peers[0], &from_b).unwrap();
    respond(&mut peers[0], owner, fest, &mut Policies::new()).unwrap();
    let from_c = peers[2].clone();
    pull(&mut peers[0], &from_c).unwrap();
    respond(&mut peers[0], owner, fest, &mut Policies::new()).unwrap();
    // Everyone exchanges with everyone.
    for _ in 0..2 {
        for i in 0..3 {
            for j in 0..3 {
                if i != j {
                    let from = peers[j].clone();
                    pull(&mut peers[i], &from).unwrap();
                }
            }
        }
    }
    let expected = peers[0].state().snapshot();
    for peer in &peers[1..] {
        let diff = peer.state().snapshot().diff(&expected);
        assert!(diff.is_empty(), "{}", diff.join("\n"));
        assert_eq!(peer.store(), peers[0].store());
    }
    let query = peers[2].state().festival(fest).unwrap();
    assert_eq!(
        query.event(talk).unwrap().resources[0].1,
        RequestStatus::Granted
    );
    assert!(matches!(
        query.event(jam).unwrap().resources[0].1,
        RequestStatus::Denied { .. }
    ));
}

#[test]
fn a_forged_entry_is_refused_and_the_replica_is_unchanged() {
    let author = KeyPair::generate();
    let mut honest = Replica::new();
    let create = Operation::FestivalCreate(FestivalCreate {
        name: "F".into(),
        description: String::new(),
        parent: None,
        fork_of: None,
    });
    honest.publish(&author, &create).unwrap();
    let mut receiver = Replica::new();
    pull(&mut receiver, &honest).unwrap();
    let before = (receiver.store().clone(), receiver.state().snapshot());

    // A relay re-signs the author's next operation with its own key but claims the author's log.
    let payload = Operation::FestivalUpdate(FestivalUpdate {
        festival: receiver.state().festival_ids().next().unwrap(),
        name: Some("Hijacked".into()),
        description: None,
    })
    .encode()
    .unwrap();
    let log = honest.store().heights().next().unwrap().0;
    let forger = KeyPair::generate();
    let forged = Entry::publish(&forger, log.log_id, &payload, None, None).unwrap();
    let mut bytes = forged.bytes().to_vec();
    bytes[1..33].copy_from_slice(author.public_key().as_bytes());
    let result = receiver.ingest(&bytes, &payload);
    assert_eq!(
        result,
        Err(IngestError::Store(StoreError::Invalid(
            LogError::BadSignature
        )))
    );
    assert!(
        receiver.store().forks().is_empty(),
        "a bad signature is no evidence of a fork"
    );
    assert_eq!(
        (receiver.store().clone(), receiver.state().snapshot()),
        before
    );
}
