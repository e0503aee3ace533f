//! Property tests of the materialized state:
//! - order independence: a festival's state is a function of its set of operations;
//! - the first-come-first-served invariant.

use p2panda_core::festival::{Op, RequestStatus, State};
use p2panda_core::hash::Hash;
use p2panda_core::identity::KeyPair;
use p2panda_core::operation::*;
use p2panda_core::policy::{respond, Policies};
use p2panda_core::replica::Replica;
use proptest::prelude::*;

const HOUR: Millis = 3_600_000;

/// SplitMix64: a tiny deterministic generator driven by proptest's seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<T: Clone>(&mut self, items: &[T]) -> Option<T> {
        (!items.is_empty()).then(|| items[self.below(items.len())].clone())
    }
}

/// Write a random but plausible festival history: `n` operations by `authors`, mostly valid, some
/// unauthorized, some referring to things nobody has.
fn random_history(seed: u64, authors: usize, n: usize) -> Replica {
    let mut rng = Rng(seed);
    let keys: Vec<KeyPair> = (0..authors).map(|_| KeyPair::generate()).collect();
    let mut replica = Replica::new();
    let mut festivals = Vec::new();
    let root = Operation::FestivalCreate(FestivalCreate {
        name: "Root".into(),
        description: String::new(),
        parent: None,
        fork_of: None,
    });
    festivals.push(replica.publish(&keys[0], &root).unwrap().0);
    let mut written = 1;
    while written < n {
        let who = &keys[rng.below(authors)];
        let festival = rng.pick(&festivals).unwrap();
        let Some(query) = replica.state().festival(festival) else {
            continue;
        };
        let events = query.events_in_range(Millis::MIN, Millis::MAX);
        let resources: Vec<_> = query
            .resources()
            .into_iter()
            .filter(|r| !r.deleted)
            .collect();
        let requestable: Vec<Hash> = resources
            .iter()
            .filter(|r| query.scope().contains(&r.festival))
            .map(|r| r.id)
            .collect();
        let slot = |rng: &mut Rng| {
            let start = rng.below(24) as Millis * HOUR;
            (start, start + (1 + rng.below(3) as Millis) * HOUR)
        };
        let op = match rng.below(100) {
            0..=4 => Operation::FestivalCreate(FestivalCreate {
                name: format!("Sub {written}"),
                description: String::new(),
                parent: Some(festival),
                fork_of: None,
            }),
            5..=7 => {
                let frontier = replica
                    .store()
                    .heights()
                    .map(|(log, height)| FrontierLog {
                        author: log.author,
                        log_id: log.log_id,
                        seq: 1 + rng.below(height as usize) as u64,
                    })
                    .collect();
                Operation::FestivalCreate(FestivalCreate {
                    name: format!("Fork {written}"),
                    description: String::new(),
                    parent: None,
                    fork_of: Some(ForkOf { festival, frontier }),
                })
            }
            8..=9 => Operation::FestivalUpdate(FestivalUpdate {
                festival,
                name: Some(format!("Renamed {written}")),
                description: None,
            }),
            10..=22 => Operation::ResourceCreate(ResourceCreate {
                festival,
                name: format!("Resource {written}"),
                description: String::new(),
                kind: ResourceKind::Item,
                policy: if rng.chance(50) {
                    PolicyKind::Fcfs
                } else {
                    PolicyKind::Manual
                },
            }),
            23..=27 => {
                let Some(resource) = rng.pick(&resources) else {
                    continue;
                };
                let policy = if rng.chance(50) {
                    PolicyKind::Fcfs
                } else {
                    PolicyKind::Manual
                };
                Operation::ResourceUpdate(ResourceUpdate {
                    festival: query.written_in(resource.festival),
                    resource: resource.id,
                    name: None,
                    description: Some(format!("changed {written}")),
                    kind: None,
                    policy: Some(policy),
                })
            }
            28..=29 => {
                let Some(resource) = rng.pick(&resources) else {
                    continue;
                };
                Operation::ResourceDelete(ResourceDelete {
                    festival: query.written_in(resource.festival),
                    resource: resource.id,
                })
            }
            30..=54 => {
                let (start, end) = slot(&mut rng);
                let mut wanted: Vec<Hash> = (0..rng.below(3))
                    .filter_map(|_| rng.pick(&requestable))
                    .collect();
                if rng.chance(3) {
                    wanted.push(Hash::digest(&rng.next().to_le_bytes()));
                }
                wanted.sort();
                wanted.dedup();
                Operation::EventCreate(EventCreate {
                    festival,
                    title: format!("Event {written}"),
                    description: String::new(),
                    start,
                    end,
                    resources: wanted,
                })
            }
            55..=64 => {
                let Some(event) = rng.pick(&events) else {
                    continue;
                };
                let (start, end) = slot(&mut rng);
                Operation::EventUpdate(EventUpdate {
                    festival: query.written_in(event.festival),
                    event: event.id,
                    title: rng.chance(50).then(|| format!("Moved {written}")),
                    description: None,
                    timeframe: Some(Timeframe { start, end }),
                    resources: None,
                })
            }
            65..=69 => {
                let Some(event) = rng.pick(&events) else {
                    continue;
                };
                Operation::EventCancel(EventCancel {
                    festival: query.written_in(event.festival),
                    event: event.id,
                })
            }
            70..=89 => {
                let Some(event) = rng.pick(&events) else {
                    continue;
                };
                let Some((resource, _)) = rng.pick(&event.resources) else {
                    continue;
                };
                let Some(info) = query.resource(resource) else {
                    continue;
                };
                Operation::Authorization(Authorization {
                    festival: query.written_in(info.festival),
                    event: event.id,
                    event_version: event.version,
                    resource,
                    decision: if rng.chance(60) {
                        Decision::Grant
                    } else {
                        Decision::Deny
                    },
                    reason: rng.chance(30).then(|| "because".to_string()),
                })
            }
            90..=92 => Operation::ProfileSet(ProfileSet {
                festival,
                name: format!("Name {written}"),
            }),
            _ => {
                // An owner answering its inbox with the resources' policies.
                let before = replica.state().len();
                respond(&mut replica, who, festival, &mut Policies::new()).unwrap();
                written += replica.state().len() - before;
                continue;
            }
        };
        // Operations by whoever is picked: some are unauthorized, and must be rejected.
        if replica.publish(who, &op).is_ok() {
            written += 1;
        }
    }
    replica
}

/// Every stored operation of a replica, as the state applies them.
fn operations(replica: &Replica) -> Vec<Op> {
    let store = replica.store();
    store
        .heights()
        .flat_map(|(log, _)| store.entries_after(log, 0))
        .map(|stored| Op {
            id: stored.entry.hash(),
            author: stored.entry.author(),
            log_id: stored.entry.log_id(),
            seq: stored.entry.seq_num(),
            operation: Operation::decode(&stored.payload).unwrap(),
        })
        .collect()
}

fn shuffle<T>(items: &mut [T], rng: &mut Rng) {
    for i in (1..items.len()).rev() {
        items.swap(i, rng.below(i + 1));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn state_does_not_depend_on_delivery_order(seed in any::<u64>(), authors in 3usize..6) {
        let replica = random_history(seed, authors, 200);
        let ops = operations(&replica);
        prop_assert!(ops.len() >= 200);
        let expected = replica.state().snapshot();
        // The history exercises what it should.
        let contexts = expected.contexts.values();
        prop_assert!(contexts.clone().map(|c| c.events.len()).sum::<usize>() > 10);
        let mut rng = Rng(seed ^ 0xA5A5);
        for _ in 0..100 {
            let mut order = ops.clone();
            shuffle(&mut order, &mut rng);
            let mut state = State::new();
            for op in order {
                state.apply(op);
            }
            let diff = state.snapshot().diff(&expected);
            prop_assert!(diff.is_empty(), "{} differences:\n{}", diff.len(), diff.join("\n"));
        }
    }

    #[test]
    fn fcfs_never_double_books_and_grants_every_free_request(seed in any::<u64>()) {
        let mut rng = Rng(seed);
        let owner = KeyPair::generate();
        let guests: Vec<KeyPair> = (0..3).map(|_| KeyPair::generate()).collect();
        let mut replica = Replica::new();
        let root = Operation::FestivalCreate(FestivalCreate {
            name: "F".into(), description: String::new(), parent: None, fork_of: None,
        });
        let fest = replica.publish(&owner, &root).unwrap().0;
        let resources: Vec<Hash> = (0..1 + rng.below(3)).map(|i| {
            replica.publish(&owner, &Operation::ResourceCreate(ResourceCreate {
                festival: fest, name: format!("R{i}"), description: String::new(),
                kind: ResourceKind::Skill, policy: PolicyKind::Fcfs,
            })).unwrap().0
        }).collect();
        // The model: what the owner granted, per resource, as (start, end, event).
        let mut granted: Vec<Vec<(Millis, Millis, Hash)>> = vec![Vec::new(); resources.len()];
        let mut queue: Vec<(Hash, usize, Millis, Millis)> = Vec::new();
        for step in 0..60 {
            let guest = &guests[rng.below(guests.len())];
            if rng.chance(15) {
                // A guest cancels one of their events: its grant frees the slot.
                let mine: Vec<(usize, Hash)> = granted.iter().enumerate()
                    .flat_map(|(r, g)| g.iter().map(move |(_, _, e)| (r, *e))).collect();
                if let Some((r, event)) = rng.pick(&mine) {
                    let creator = guests.iter().find(|g| {
                        replica.state().festival(fest).unwrap().event(event).unwrap().creator == g.public_key()
                    }).unwrap();
                    replica.publish(creator, &Operation::EventCancel(EventCancel { festival: fest, event })).unwrap();
                    granted[r].retain(|(_, _, e)| *e != event);
                }
            } else {
                let r = rng.below(resources.len());
                let start = rng.below(48) as Millis * HOUR / 2;
                let end = start + (1 + rng.below(6)) as Millis * HOUR / 2;
                let event = replica.publish(guest, &Operation::EventCreate(EventCreate {
                    festival: fest, title: format!("E{step}"), description: String::new(),
                    start, end, resources: vec![resources[r]],
                })).unwrap().0;
                queue.push((event, r, start, end));
            }
            if rng.chance(40) {
                respond(&mut replica, &owner, fest, &mut Policies::new()).unwrap();
                // Requests are answered in arrival order against what was granted before them.
                for (event, r, start, end) in queue.drain(..) {
                    let free = granted[r].iter().all(|(s, e, _)| *e <= start || end <= *s);
                    let query = replica.state().festival(fest).unwrap();
                    let status = query.event(event).unwrap().resources[0].1.clone();
                    if free {
                        prop_assert_eq!(status, RequestStatus::Granted);
                        granted[r].push((start, end, event));
                    } else {
                        let denied = matches!(status, RequestStatus::Denied { .. });
                        prop_assert!(denied, "an overlapping request was not denied: {:?}", status);
                    }
                }
            }
        }
        let query = replica.state().festival(fest).unwrap();
        prop_assert!(query.conflicts().is_empty());
        for resource in &resources {
            let grants: Vec<_> = query.resource_timeline(*resource).into_iter()
                .filter(|b| b.status == RequestStatus::Granted).collect();
            for (i, a) in grants.iter().enumerate() {
                for b in &grants[i + 1..] {
                    prop_assert!(a.end <= b.start || b.end <= a.start, "overlapping grants");
                }
            }
        }
    }
}
