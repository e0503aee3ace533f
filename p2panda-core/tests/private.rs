//! Private festivals: members read, relays store and pass on what they cannot read, a rotated
//! key shuts a removed member out of what comes after, and bad private payloads are refused.

use p2panda_core::festival::{Missing, Outcome};
use p2panda_core::identity::KeyPair;
use p2panda_core::operation::*;
use p2panda_core::private::{PrivateError, Sealed};
use p2panda_core::replica::{IngestError, Replica};
use p2panda_core::secret::SecretKey;
use p2panda_core::sync::{Config, Node, PeerId};

fn create(name: &str) -> FestivalCreate {
    FestivalCreate {
        name: name.into(),
        description: "the secret line-up".into(),
        parent: None,
        fork_of: None,
    }
}

fn event(festival: FestivalId, title: &str) -> Operation {
    Operation::EventCreate(EventCreate {
        festival,
        title: title.into(),
        description: String::new(),
        start: 0,
        end: 1,
        resources: vec![],
    })
}

/// Every stored entry and payload, logs in order.
fn entries(replica: &Replica) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut logs: Vec<_> = replica.store().heights().map(|(log, _)| log).collect();
    logs.sort();
    logs.into_iter()
        .flat_map(|log| replica.store().entries_after(log, 0))
        .map(|s| (s.entry.bytes().to_vec(), s.payload.clone()))
        .collect()
}

fn copy_all(from: &Replica, to: &mut Replica) {
    for (entry, payload) in entries(from) {
        to.ingest(&entry, &payload).expect("valid entry");
    }
}

fn titles(replica: &Replica, festival: FestivalId) -> Vec<String> {
    let mut titles: Vec<String> = replica
        .state()
        .festival(festival)
        .map(|f| f.events_in_range(i64::MIN, i64::MAX))
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.title)
        .collect();
    titles.sort();
    titles
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn members_read_a_private_festival_and_a_relay_stores_it_without_reading() {
    let alice = KeyPair::generate();
    let mut owner = Replica::new();
    let (festival, _) = owner
        .publish_private_festival(&alice, create("Secret camp"))
        .unwrap();
    owner
        .publish(&alice, &event(festival, "Midnight rave"))
        .unwrap();
    let key = owner.private().keyring.current(&festival).unwrap().clone();
    assert!(owner.is_private(&festival));

    // The relay verifies and stores every entry, and reads nothing.
    let mut relay = Replica::new();
    copy_all(&owner, &mut relay);
    assert_eq!(relay.store().len(), 2);
    assert!(relay.state().festival(festival).is_none());
    assert_eq!(relay.private().unreadable(), 2);
    for (entry, payload) in entries(&relay) {
        for secret in [&b"Secret camp"[..], b"Midnight rave", b"secret line-up"] {
            assert!(!contains(&payload, secret) && !contains(&entry, secret));
        }
    }

    // A member with the invite key, fed only by the relay, reads all of it.
    let mut member = Replica::new();
    member.add_festival_key(festival, key.clone());
    copy_all(&relay, &mut member);
    assert_eq!(
        member.state().festival(festival).unwrap().info().name,
        "Secret camp"
    );
    assert_eq!(titles(&member, festival), ["Midnight rave"]);

    // The key can also come after the entries: they wait for it, then apply.
    let mut late = Replica::new();
    copy_all(&relay, &mut late);
    assert_eq!(late.add_festival_key(festival, key), 2);
    assert_eq!(late.state().snapshot(), member.state().snapshot());
    assert_eq!(late.state().snapshot(), owner.state().snapshot());
}

#[test]
fn a_relay_without_the_key_passes_a_private_festival_between_members_over_sync() {
    let (alice, bob, carol) = (
        KeyPair::generate(),
        KeyPair::generate(),
        KeyPair::generate(),
    );
    let mut a = Node::new(alice, Replica::new(), Config::default());
    let (festival, _) = a
        .update(|replica, me| replica.publish_private_festival(me, create("Secret camp")))
        .unwrap();
    a.join(festival);
    a.publish(&event(festival, "from alice")).unwrap();
    let key = a
        .replica()
        .private()
        .keyring
        .current(&festival)
        .unwrap()
        .clone();

    let mut relay = Node::new(carol, Replica::new(), Config::default());
    relay.join(festival);
    let mut b = Node::new(bob, Replica::new(), Config::default());
    b.update(|replica, _| replica.add_festival_key(festival, key));
    b.join(festival);

    // Alice and Bob are never connected; the relay carries everything both ways.
    sync(&mut a, 1, &mut relay, 0);
    sync(&mut relay, 2, &mut b, 1);
    b.publish(&event(festival, "from bob")).unwrap();
    sync(&mut relay, 2, &mut b, 1);
    sync(&mut a, 1, &mut relay, 0);

    assert_eq!(titles(a.replica(), festival), ["from alice", "from bob"]);
    assert_eq!(titles(b.replica(), festival), ["from alice", "from bob"]);
    assert_eq!(relay.replica().store().len(), 3);
    assert!(relay.replica().state().festival(festival).is_none());
    assert_eq!(relay.replica().private().unreadable(), 3);
}

/// Run one session between `x` (peer `x_id` at `y`) and `y` (peer `y_id` at `x`) until quiet.
fn sync(x: &mut Node, x_id: PeerId, y: &mut Node, y_id: PeerId) {
    x.connect(y_id, [x_id as u8 + 10; 32], b"", 0);
    y.connect(x_id, [y_id as u8 + 20; 32], b"", 0);
    loop {
        let mut moved = false;
        while let Some(frame) = x.poll_transmit(y_id) {
            y.receive(x_id, &frame, 0).unwrap();
            moved = true;
        }
        while let Some(frame) = y.poll_transmit(x_id) {
            x.receive(y_id, &frame, 0).unwrap();
            moved = true;
        }
        if !moved {
            break;
        }
    }
    x.disconnect(y_id);
    y.disconnect(x_id);
}

#[test]
fn a_rotated_key_shuts_out_the_removed_member_and_reaches_the_others() {
    let (alice, bob, eve) = (
        KeyPair::generate(),
        KeyPair::generate(),
        KeyPair::generate(),
    );
    let mut owner = Replica::new();
    owner.set_identity(alice.clone());
    let (festival, _) = owner
        .publish_private_festival(&alice, create("Camp"))
        .unwrap();
    owner.publish(&alice, &event(festival, "before")).unwrap();
    let old_key = owner.private().keyring.current(&festival).unwrap().clone();

    // Eve is removed: the new key is sealed to Bob only (and to Alice).
    owner
        .rotate_festival_key(&alice, festival, &[bob.public_key()])
        .unwrap();
    owner.publish(&alice, &event(festival, "after")).unwrap();
    let new_key = owner.private().keyring.current(&festival).unwrap().clone();
    assert_ne!(new_key, old_key);

    let mut eves = Replica::new();
    eves.set_identity(eve.clone());
    eves.add_festival_key(festival, old_key.clone());
    copy_all(&owner, &mut eves);
    assert_eq!(titles(&eves, festival), ["before"]);
    assert_eq!(eves.private().unreadable(), 1);

    // Bob had the old key from a link; the share gives him the new one.
    let mut bobs = Replica::new();
    bobs.set_identity(bob.clone());
    bobs.add_festival_key(festival, old_key);
    copy_all(&owner, &mut bobs);
    assert_eq!(titles(&bobs, festival), ["after", "before"]);

    // A newcomer with only the new key reads the history too (the share carries the old key).
    let mut newcomer = Replica::new();
    newcomer.add_festival_key(festival, new_key.clone());
    copy_all(&owner, &mut newcomer);
    assert_eq!(titles(&newcomer, festival), ["after", "before"]);
    assert_eq!(newcomer.state().snapshot(), owner.state().snapshot());

    // And Bob, sent the key by share alone (no link), reads everything as well.
    let mut shared = Replica::new();
    shared.set_identity(bob);
    copy_all(&owner, &mut shared);
    assert_eq!(titles(&shared, festival), ["after", "before"]);
    assert_eq!(shared.private().keyring.current(&festival), Some(&new_key));
}

#[test]
fn only_the_creator_shares_keys_and_tampered_or_misplaced_payloads_are_refused() {
    let (alice, mallory) = (KeyPair::generate(), KeyPair::generate());
    let mut owner = Replica::new();
    let (festival, _) = owner
        .publish_private_festival(&alice, create("Camp"))
        .unwrap();
    let key = owner.private().keyring.current(&festival).unwrap().clone();

    // Mallory, a member, writes in the festival, then tries to publish a key share.
    let mut malloc = Replica::new();
    malloc.add_festival_key(festival, key.clone());
    copy_all(&owner, &mut malloc);
    malloc.publish(&mallory, &event(festival, "mine")).unwrap();
    assert_eq!(
        malloc.share_festival_key(&mallory, festival, &[]),
        Err(IngestError::Private(PrivateError::NotCreator))
    );

    // A sealed box its author filled with garbage: members refuse it, nothing is stored.
    let garbage = Sealed {
        topic: Some(festival),
        key: key.id(),
        sealed: key.seal(b"wrong associated data", b"not an operation"),
    }
    .encode();
    let log_id = malloc
        .state()
        .log_of(mallory.public_key(), festival)
        .unwrap();
    let entry = malloc
        .store()
        .next_entry(&mallory, log_id, &garbage)
        .unwrap();
    let before = malloc.store().len();
    assert_eq!(
        malloc.ingest(entry.bytes(), &garbage),
        Err(IngestError::Private(PrivateError::Open))
    );
    assert_eq!(malloc.store().len(), before);

    // An operation of this festival sealed under another festival's topic is refused.
    let (other, _) = malloc
        .publish_private_festival(&mallory, create("Other"))
        .unwrap();
    let plain = event(festival, "misplaced").encode().unwrap();
    let misplaced = Sealed {
        topic: Some(other),
        key: key.id(),
        sealed: key.seal(
            &p2panda_core::private::sealed_aad(&mallory.public_key(), Some(&other)),
            &plain,
        ),
    }
    .encode();
    let entry = malloc
        .store()
        .next_entry(&mallory, log_id, &misplaced)
        .unwrap();
    assert_eq!(
        malloc.ingest(entry.bytes(), &misplaced),
        Err(IngestError::Private(PrivateError::TopicMismatch))
    );

    // A relay stores the honest entries and waits for the key.
    let mut relay = Replica::new();
    let outcome = relay
        .ingest(&entries(&owner)[0].0, &entries(&owner)[0].1)
        .unwrap();
    assert_eq!(outcome, Outcome::Waiting(Missing::Key(key.id())));
}

#[test]
fn sub_festivals_and_forks_of_a_private_festival_are_private_and_public_ones_stay_readable() {
    let alice = KeyPair::generate();
    let mut owner = Replica::new();
    let (festival, _) = owner
        .publish_private_festival(&alice, create("Camp"))
        .unwrap();
    let sub = FestivalCreate {
        parent: Some(festival),
        ..create("Workshop tent")
    };
    let (sub, _) = owner
        .publish(&alice, &Operation::FestivalCreate(sub))
        .unwrap();
    owner.publish(&alice, &event(sub, "Knots")).unwrap();
    let fork = FestivalCreate {
        fork_of: Some(ForkOf {
            festival,
            frontier: vec![],
        }),
        ..create("Camp, the other one")
    };
    let (fork, _) = owner
        .publish(&alice, &Operation::FestivalCreate(fork))
        .unwrap();
    assert!(owner.is_private(&fork));
    let (public, _) = owner
        .publish(&alice, &Operation::FestivalCreate(create("Open day")))
        .unwrap();
    owner
        .publish(&alice, &event(public, "Everyone welcome"))
        .unwrap();

    let mut relay = Replica::new();
    copy_all(&owner, &mut relay);
    assert!(relay.state().festival(sub).is_none() && relay.state().festival(fork).is_none());
    assert_eq!(titles(&relay, public), ["Everyone welcome"]);
    assert_eq!(relay.private().unreadable(), 4);
    // The relay still knows where every sealed log belongs, for sync.
    for (log, _) in owner.store().heights() {
        assert_eq!(relay.topic_of_log(log), owner.topic_of_log(log));
    }

    let key = owner.private().keyring.current(&festival).unwrap().clone();
    assert_eq!(relay.add_festival_key(festival, key), 4);
    assert_eq!(titles(&relay, sub), ["Knots"]);
    assert_eq!(relay.state().snapshot(), owner.state().snapshot());
}

#[test]
fn malformed_private_payloads_get_typed_errors() {
    let alice = KeyPair::generate();
    let mut replica = Replica::new();
    for payload in [
        &b"P2S1"[..],
        b"P2S1\x02",
        b"P2K1\x00",
        b"P2S1\x00abcdefgh-too-short",
    ] {
        let entry = replica.store().next_entry(&alice, 0, payload).unwrap();
        assert!(
            matches!(
                replica.ingest(entry.bytes(), payload),
                Err(IngestError::Private(PrivateError::Malformed(_)))
            ),
            "{payload:?}"
        );
    }
    // A key share as a log's first entry can not be its festival's creator's.
    let key = SecretKey::generate();
    let share = p2panda_core::private::KeyShare {
        topic: p2panda_core::hash::Hash::digest(b"x"),
        key: key.id(),
        previous: None,
        wraps: vec![p2panda_core::private::wrap(&key, &alice.public_key(), b"x")],
    }
    .encode();
    let entry = replica.store().next_entry(&alice, 0, &share).unwrap();
    assert_eq!(
        replica.ingest(entry.bytes(), &share),
        Err(IngestError::Private(PrivateError::NotCreator))
    );
    assert_eq!(replica.store().len(), 0);
}
