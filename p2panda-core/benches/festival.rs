//! Festival state benchmarks: materializing a festival from already-verified entries (CBOR decode
//! and apply), and applying one more operation to festivals of different sizes.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use p2panda_core::festival::{Op, State};
use p2panda_core::hash::Hash;
use p2panda_core::identity::{KeyPair, PublicKey};
use p2panda_core::operation::*;

const HOUR: Millis = 3_600_000;

/// A festival history shaped like a big real one: sub-festivals, 200 resources, and events with
/// updates, cancellations and owners' answers. Entries count as verified, so ids are stand-ins.
struct History {
    authors: Vec<PublicKey>,
    seqs: Vec<u64>,
    counter: u64,
    rng: u64,
    entries: Vec<(Op, Vec<u8>)>,
}

impl History {
    fn random(&mut self, n: u64) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng % n
    }

    fn push(&mut self, author: usize, operation: Operation) -> Hash {
        self.counter += 1;
        self.seqs[author] += 1;
        let id = Hash::digest(&self.counter.to_le_bytes());
        let payload = operation.encode().expect("valid benchmark operation");
        let op = Op {
            id,
            author: self.authors[author],
            log_id: 0,
            seq: self.seqs[author],
            operation,
        };
        self.entries.push((op, payload));
        id
    }

    fn build(size: usize) -> History {
        let authors: Vec<PublicKey> = (0..50).map(|_| KeyPair::generate().public_key()).collect();
        let mut h = History {
            seqs: vec![0; authors.len()],
            authors,
            counter: 0,
            rng: 0x2545_F491_4F6C_DD1D,
            entries: Vec::with_capacity(size),
        };
        let root = h.push(
            0,
            Operation::FestivalCreate(FestivalCreate {
                name: "Big".into(),
                description: String::new(),
                parent: None,
                fork_of: None,
            }),
        );
        // Every other author writes in the root festival's log; owners are authors 0..5.
        let resources: Vec<(Hash, usize)> = (0..200)
            .map(|i| {
                let owner = i % 5;
                let policy = if i % 2 == 0 {
                    PolicyKind::Fcfs
                } else {
                    PolicyKind::Manual
                };
                let id = h.push(
                    owner,
                    Operation::ResourceCreate(ResourceCreate {
                        festival: root,
                        name: format!("Resource {i}"),
                        description: String::new(),
                        kind: ResourceKind::Item,
                        policy,
                    }),
                );
                (id, owner)
            })
            .collect();
        // (event, creator, version, requested resource)
        let mut events: Vec<(Hash, usize, Hash, Option<usize>)> = Vec::new();
        while h.entries.len() < size {
            let roll = h.random(100);
            if roll < 70 || events.is_empty() {
                let creator = 5 + h.random(45) as usize;
                let start = h.random(30 * 24) as Millis * HOUR;
                let resource = (h.random(3) > 0).then(|| h.random(200) as usize);
                let end = start + HOUR * (1 + h.random(3) as Millis);
                let title = format!("Event {}", h.counter);
                let id = h.push(
                    creator,
                    Operation::EventCreate(EventCreate {
                        festival: root,
                        title,
                        description: "An event of a big festival".into(),
                        start,
                        end,
                        resources: resource.map(|r| resources[r].0).into_iter().collect(),
                    }),
                );
                events.push((id, creator, id, resource));
            } else {
                let index = h.random(events.len() as u64) as usize;
                let (event, creator, version, resource) = events[index];
                if roll < 85 {
                    let Some(r) = resource else { continue };
                    let (resource, owner) = resources[r];
                    let decision = if h.random(4) > 0 {
                        Decision::Grant
                    } else {
                        Decision::Deny
                    };
                    h.push(
                        owner,
                        Operation::Authorization(Authorization {
                            festival: root,
                            event,
                            event_version: version,
                            resource,
                            decision,
                            reason: None,
                        }),
                    );
                } else if roll < 95 {
                    let start = h.random(30 * 24) as Millis * HOUR;
                    let update = h.push(
                        creator,
                        Operation::EventUpdate(EventUpdate {
                            festival: root,
                            event,
                            title: None,
                            description: None,
                            timeframe: Some(Timeframe {
                                start,
                                end: start + HOUR,
                            }),
                            resources: None,
                        }),
                    );
                    events[index].2 = update;
                } else {
                    h.push(
                        creator,
                        Operation::EventCancel(EventCancel {
                            festival: root,
                            event,
                        }),
                    );
                }
            }
        }
        h
    }

    fn state(&self) -> State {
        let mut state = State::new();
        for (op, _) in &self.entries {
            state.apply(op.clone());
        }
        state
    }

    /// The `n`th extra event requesting a resource, as the next entry of author 7.
    fn extra_event(&self, n: u64) -> Op {
        let root = self.entries[0].0.id;
        let resource = self.entries[1 + (n % 200) as usize].0.id;
        let start = (n % (30 * 24)) as Millis * HOUR;
        Op {
            id: Hash::digest(format!("extra {n}").as_bytes()),
            author: self.authors[7],
            log_id: 0,
            seq: self.seqs[7] + 1 + n,
            operation: Operation::EventCreate(EventCreate {
                festival: root,
                title: "One more".into(),
                description: String::new(),
                start,
                end: start + HOUR,
                resources: vec![resource],
            }),
        }
    }
}

fn materialize(c: &mut Criterion) {
    let history = History::build(100_000);
    let mut group = c.benchmark_group("materialize");
    group.sample_size(10);
    group.bench_function("100k operations (decode + apply)", |b| {
        b.iter(|| {
            let mut state = State::new();
            for (op, payload) in &history.entries {
                let operation = Operation::decode(payload).expect("valid");
                let (id, author, log_id, seq) = (op.id, op.author, op.log_id, op.seq);
                state.apply(Op {
                    id,
                    author,
                    log_id,
                    seq,
                    operation,
                });
            }
            state
        })
    });
    group.finish();
}

fn apply_one(c: &mut Criterion) {
    let mut group = c.benchmark_group("apply one operation");
    for size in [1_000, 100_000] {
        let history = History::build(size);
        let base = history.state();
        let ops: Vec<Op> = (0..size as u64 / 10)
            .map(|n| history.extra_event(n))
            .collect();
        let mut state = base.clone();
        let mut applied = 0;
        group.bench_function(format!("festival of {size}"), |b| {
            // Amortized cost of one new event (index upkeep, growth included), on a festival that
            // grows at most 10% before it is reset outside the timed part.
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    if applied == ops.len() {
                        state = base.clone();
                        applied = 0;
                    }
                    let op = ops[applied].clone();
                    let started = Instant::now();
                    state.apply(op);
                    total += started.elapsed();
                    applied += 1;
                }
                total
            })
        });
    }
    group.finish();
}

criterion_group!(benches, materialize, apply_one);
criterion_main!(benches);
