//! The sync protocol between two or three nodes, frames passed by hand.

use p2panda_core::identity::KeyPair;
use p2panda_core::operation::*;
use p2panda_core::replica::Replica;
use p2panda_core::sync::{Config, Event, Node, PeerId};

fn node() -> Node {
    Node::new(KeyPair::generate(), Replica::new(), Config::default())
}

fn festival(node: &mut Node, name: &str) -> FestivalId {
    let create = Operation::FestivalCreate(FestivalCreate {
        name: name.into(),
        description: String::new(),
        parent: None,
        fork_of: None,
    });
    node.publish(&create).unwrap().0
}

fn event(node: &mut Node, festival: FestivalId, title: &str) {
    let op = Operation::EventCreate(EventCreate {
        festival,
        title: title.into(),
        description: String::new(),
        start: 0,
        end: 1,
        resources: vec![],
    });
    node.publish(&op).unwrap();
}

/// Connect `a` (as peer 1 of b) and `b` (as peer 0 of a) and move frames until both are quiet.
fn connect(a: &mut Node, b: &mut Node) {
    a.connect(0, [1; 32], b"", 0);
    b.connect(1, [2; 32], b"", 0);
}

fn pump(a: &mut Node, a_id: PeerId, b: &mut Node, b_id: PeerId) -> Vec<Event> {
    let mut events = vec![];
    loop {
        let mut moved = false;
        while let Some(frame) = a.poll_transmit(b_id) {
            events.extend(b.receive(a_id, &frame, 0).unwrap());
            moved = true;
        }
        while let Some(frame) = b.poll_transmit(a_id) {
            events.extend(a.receive(b_id, &frame, 0).unwrap());
            moved = true;
        }
        if !moved {
            return events;
        }
    }
}

#[test]
fn two_nodes_exchange_a_shared_festival_both_ways() {
    let (mut a, mut b) = (node(), node());
    let f = festival(&mut a, "camp");
    b.join(f);
    for i in 0..300 {
        event(&mut a, f, &format!("talk {i}"));
    }
    connect(&mut a, &mut b);
    let events = pump(&mut a, 1, &mut b, 0);
    assert!(events.contains(&Event::CaughtUp { peer: 0 }));
    assert_eq!(b.replica().store().len(), 301);
    assert_eq!(
        a.replica().state().snapshot(),
        b.replica().state().snapshot()
    );

    // Live, the other way.
    event(&mut b, f, "from b");
    pump(&mut a, 1, &mut b, 0);
    assert_eq!(a.replica().store().len(), 302);
    assert_eq!(
        a.replica().state().snapshot(),
        b.replica().state().snapshot()
    );
}

#[test]
fn only_festivals_both_want_cross() {
    let (mut a, mut b) = (node(), node());
    let shared = festival(&mut a, "shared");
    let _a_only = festival(&mut a, "a only");
    b.join(shared);
    let b_only = festival(&mut b, "b only");
    event(&mut b, b_only, "secret");
    connect(&mut a, &mut b);
    pump(&mut a, 1, &mut b, 0);
    assert_eq!(b.replica().store().len(), 1 + 2);
    assert_eq!(a.replica().store().len(), 2);
    assert!(b.replica().state().festival(shared).is_some());
}

#[test]
fn logs_take_turns_so_every_log_starts_arriving_early() {
    // Two authors with 1,000 entries each in one festival; a newcomer syncs from one of them.
    let (mut a, mut c, mut b) = (node(), node(), node());
    let f = festival(&mut a, "camp");
    c.join(f);
    connect(&mut a, &mut c);
    pump(&mut a, 1, &mut c, 0);
    for i in 0..1000 {
        event(&mut a, f, &format!("a {i}"));
        event(&mut c, f, &format!("c {i}"));
    }
    pump(&mut a, 1, &mut c, 0);
    assert_eq!(a.replica().store().len(), 2001);

    b.join(f);
    a.connect(2, [3; 32], b"", 0);
    b.connect(0, [4; 32], b"", 0);
    let stored: Vec<_> = pump(&mut a, 0, &mut b, 2)
        .into_iter()
        .filter_map(|e| match e {
            Event::Stored { id, .. } => Some(id),
            _ => None,
        })
        .collect();
    assert_eq!(stored.len(), 2001);
    // The festival's creation (a's first entry) and c's first entry both come before either
    // log is through: served log by log, one of them would wait behind the other's 1,000.
    let first_of_c = b
        .replica()
        .store()
        .heights()
        .find(|(log, _)| log.author == c.key_pair().public_key())
        .and_then(|(log, _)| b.replica().store().get(log, 1))
        .map(|stored| stored.entry.hash())
        .unwrap();
    let position = |id| stored.iter().position(|s| *s == id).unwrap();
    assert!(
        position(f) < 1000,
        "festival creation arrived at {}",
        position(f)
    );
    assert!(
        position(first_of_c) < 1000,
        "c's first entry arrived at {}",
        position(first_of_c)
    );
}
