//! A deterministic simulation of p2panda peers syncing over a faulty network.
//!
//! Everything random comes from one seed: keys, nonces, latencies, what each peer writes, and the
//! faults. The network delivers frames in order per connection with per-connection latency (so
//! frames of different connections overtake each other), drops connections with frames still in
//! flight, partitions and heals, and crashes peers, which restart later from what they had
//! persisted. Peers write operations throughout. After the faults stop and the network heals,
//! [`run`] checks that every peer holds the same entries and the same festival state, and that no
//! entry an author stored was lost.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};

use p2panda_core::festival::Topic;
use p2panda_core::identity::KeyPair;
use p2panda_core::operation::*;
use p2panda_core::policy::{respond, Policies};
use p2panda_core::replica::Replica;
use p2panda_core::store::LogKey;
use p2panda_core::sync::{self, CloseReason, Node, SyncError};

/// The shape of one simulated run.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub peers: usize,
    /// How long peers write and faults happen, in simulated ms; then the network heals.
    pub duration: u64,
    /// Operations each peer writes, on average.
    pub writes_per_peer: u64,
    /// Connections a peer opens at most (it may accept more).
    pub max_connections: usize,
    /// Print every step.
    pub trace: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            peers: 8,
            duration: 20_000,
            writes_per_peer: 12,
            max_connections: 3,
            trace: false,
        }
    }
}

/// What happened in a run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub entries: usize,
    pub frames: u64,
    pub bytes: u64,
    pub connections: u64,
    pub dropped_connections: u64,
    pub frames_lost: u64,
    pub partitions: u64,
    pub crashes: u64,
    pub timeouts: u64,
    /// Simulated ms from healing until every peer held everything.
    pub converged_after: u64,
}

/// SplitMix64: small, fast and fully determined by its seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5eed_0f9a_4da5)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high - low + 1)
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        for chunk in out.chunks_mut(8) {
            chunk.copy_from_slice(&self.next_u64().to_le_bytes()[..chunk.len()]);
        }
        out
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len() as u64) as usize])
    }
}

#[derive(Debug)]
enum Step {
    /// A frame arrives at one end of a connection.
    Deliver {
        conn: u64,
        to: usize,
        frame: Vec<u8>,
    },
    /// The transport tells a peer its connection is gone.
    Gone {
        conn: u64,
        to: usize,
    },
    Write {
        peer: usize,
    },
    Persist {
        peer: usize,
    },
    Restart {
        peer: usize,
    },
    Timers {
        peer: usize,
    },
    Fault,
    Heal,
}

struct Scheduled {
    at: u64,
    order: u64,
    step: Step,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.order) == (other.at, other.order)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.order).cmp(&(other.at, other.order))
    }
}

struct Connection {
    ends: [usize; 2],
    open: bool,
    latency: u64,
    /// When the last frame in each direction arrives: frames of one connection stay in order.
    last_arrival: [u64; 2],
}

struct Peer {
    key: KeyPair,
    topics: Vec<Topic>,
    /// `None` while crashed.
    node: Option<Node>,
    /// While crashed: what it restarts from.
    disk: Option<Replica>,
    /// Log heights on disk: what survives a crash. Own entries are persisted before they are
    /// announced; received ones when the peer next persists.
    persisted: HashMap<LogKey, u64>,
    policies: Policies,
}

struct Sim {
    config: SimConfig,
    rng: Rng,
    now: u64,
    order: u64,
    queue: BinaryHeap<Reverse<Scheduled>>,
    peers: Vec<Peer>,
    conns: BTreeMap<u64, Connection>,
    next_conn: u64,
    /// Side of each peer while the network is partitioned.
    partition: Option<Vec<bool>>,
    faults_over: bool,
    /// Every entry an author stored: (log, seq) → entry hash.
    written: BTreeMap<(LogKey, u64), p2panda_core::hash::Hash>,
    report: Report,
    failure: Option<String>,
}

/// Idle timeout of the simulated nodes.
const IDLE_TIMEOUT: u64 = 5_000;

/// Run one seeded simulation; `Err` says what diverged or went wrong.
pub fn run(seed: u64, config: &SimConfig) -> Result<Report, String> {
    let mut sim = Sim::new(seed, config.clone());
    sim.run()?;
    sim.check()?;
    sim.report.entries = sim.written.len();
    Ok(sim.report)
}

impl Sim {
    fn new(seed: u64, config: SimConfig) -> Self {
        let mut rng = Rng::new(seed);
        let sync_config = node_config();
        let mut peers: Vec<Peer> = (0..config.peers)
            .map(|_| {
                let key = KeyPair::from_secret_bytes(&rng.bytes::<32>()).expect("32 bytes");
                Peer {
                    node: Some(Node::new(key.clone(), Replica::new(), sync_config)),
                    key,
                    topics: Vec::new(),
                    disk: None,
                    persisted: HashMap::new(),
                    policies: Policies::new(),
                }
            })
            .collect();
        let mut sim = Sim {
            config,
            rng,
            now: 0,
            order: 0,
            queue: BinaryHeap::new(),
            peers: Vec::new(),
            conns: BTreeMap::new(),
            next_conn: 0,
            partition: None,
            faults_over: false,
            written: BTreeMap::new(),
            report: Report::default(),
            failure: None,
        };
        // Two festivals: every peer joins the first (as through an invite link), about half the
        // second, which must never reach the others.
        let open = Self::create_festival(&mut peers[0], "open");
        let closed = Self::create_festival(&mut peers[1], "closed");
        for (i, peer) in peers.iter_mut().enumerate() {
            peer.topics.push(open);
            if i % 2 == 1 {
                peer.topics.push(closed);
            }
            let node = peer.node.as_mut().expect("running");
            peer.topics.iter().for_each(|t| node.join(*t));
        }
        sim.peers = peers;
        for peer in 0..sim.peers.len() {
            sim.persist(peer);
            sim.record_written(peer);
            let writes = sim.config.duration / sim.config.writes_per_peer.max(1);
            let first = sim.rng.below(writes);
            sim.schedule(first, Step::Write { peer });
            let persist = sim.rng.between(100, 600);
            sim.schedule(persist, Step::Persist { peer });
            sim.schedule(1_000, Step::Timers { peer });
        }
        sim.schedule(0, Step::Fault);
        sim
    }

    fn create_festival(peer: &mut Peer, name: &str) -> Topic {
        let node = peer.node.as_mut().expect("running");
        let create = Operation::FestivalCreate(FestivalCreate {
            name: name.into(),
            description: String::new(),
            parent: None,
            fork_of: None,
        });
        node.publish(&create).expect("valid").0
    }

    fn schedule(&mut self, after: u64, step: Step) {
        self.order += 1;
        self.queue.push(Reverse(Scheduled {
            at: self.now + after,
            order: self.order,
            step,
        }));
    }

    fn trace(&self, what: impl FnOnce() -> String) {
        if self.config.trace {
            eprintln!("{:>7} ms  {}", self.now, what());
        }
    }

    fn fail(&mut self, what: String) {
        self.failure.get_or_insert(what);
    }

    fn run(&mut self) -> Result<(), String> {
        // After healing, everything must settle within this time.
        let deadline = self.config.duration + 120_000;
        loop {
            if self.faults_over && self.is_settled() {
                self.report.converged_after = self.now - self.config.duration;
                break;
            }
            let Some(Reverse(next)) = self.queue.pop() else {
                break;
            };
            self.now = next.at;
            if !self.faults_over && self.now >= self.config.duration {
                self.heal_everything();
            }
            if self.now > deadline {
                return Err(format!(
                    "no convergence {} ms after healing",
                    deadline - self.config.duration
                ));
            }
            self.step(next.step);
            if let Some(failure) = self.failure.take() {
                return Err(format!("at {} ms: {failure}", self.now));
            }
        }
        Ok(())
    }

    fn step(&mut self, step: Step) {
        match step {
            Step::Deliver { conn, to, frame } => self.deliver(conn, to, &frame),
            Step::Gone { conn, to } => {
                if let Some(node) = self.peers[to].node.as_mut() {
                    node.disconnect(conn);
                    self.flush(to);
                }
            }
            Step::Write { peer } => {
                if !self.faults_over {
                    self.write(peer);
                    let mean = self.config.duration / self.config.writes_per_peer.max(1);
                    let next = self.rng.between(1, 2 * mean);
                    self.schedule(next, Step::Write { peer });
                }
            }
            Step::Persist { peer } => {
                self.persist(peer);
                let next = self.rng.between(100, 600);
                self.schedule(next, Step::Persist { peer });
            }
            Step::Restart { peer } => self.restart(peer),
            Step::Timers { peer } => {
                if self.faults_over {
                    self.trace(|| self.unsettled(peer));
                }
                self.timers(peer);
                self.schedule(1_000, Step::Timers { peer });
            }
            Step::Fault => {
                if !self.faults_over {
                    self.fault();
                    let next = self.rng.between(50, 400);
                    self.schedule(next, Step::Fault);
                }
            }
            Step::Heal => self.partition = None,
        }
    }

    /// The run is over when no frame is in flight, nobody waits for anything and every festival's
    /// members are connected. A late notice of a connection long dead changes nothing.
    fn is_settled(&self) -> bool {
        let in_flight = self
            .queue
            .iter()
            .any(|Reverse(s)| matches!(s.step, Step::Deliver { .. } | Step::Restart { .. }));
        !in_flight
            && self.peers.iter().all(|p| {
                p.node
                    .as_ref()
                    .is_some_and(|n| n.peers().iter().all(|s| s.key.is_some() && s.missing == 0))
            })
            && self.all_connected()
    }

    /// What a peer is still waiting for, for traces.
    fn unsettled(&self, peer: usize) -> String {
        let Some(node) = &self.peers[peer].node else {
            return format!("peer {peer} is down");
        };
        let waiting: Vec<_> = node
            .peers()
            .into_iter()
            .filter(|s| s.key.is_none() || s.missing > 0)
            .map(|s| format!("conn {} (missing {})", s.peer, s.missing))
            .collect();
        format!(
            "peer {peer} waits for {waiting:?}; festivals connected: {}",
            self.all_connected()
        )
    }

    /// Whether the members of every festival are connected through members (only they relay it).
    fn all_connected(&self) -> bool {
        self.festivals().iter().all(|members| {
            let mut reached = vec![members[0]];
            let mut todo = vec![members[0]];
            while let Some(p) = todo.pop() {
                for conn in self
                    .conns
                    .values()
                    .filter(|c| c.open && c.ends.contains(&p))
                {
                    let other = conn.ends[usize::from(conn.ends[0] == p)];
                    if members.contains(&other) && !reached.contains(&other) {
                        reached.push(other);
                        todo.push(other);
                    }
                }
            }
            reached.len() == members.len()
        })
    }

    /// The members of each festival.
    fn festivals(&self) -> Vec<Vec<usize>> {
        let topics: BTreeSet<Topic> = self.peers.iter().flat_map(|p| p.topics.clone()).collect();
        topics
            .into_iter()
            .map(|t| {
                (0..self.peers.len())
                    .filter(|p| self.peers[*p].topics.contains(&t))
                    .collect()
            })
            .collect()
    }

    fn deliver(&mut self, conn: u64, to: usize, frame: &[u8]) {
        if !self.conns.get(&conn).is_some_and(|c| c.open) {
            self.report.frames_lost += 1;
            return;
        }
        let Some(node) = self.peers[to].node.as_mut() else {
            self.report.frames_lost += 1;
            return;
        };
        match node.receive(conn, frame, self.now) {
            Ok(_) => self.flush(to),
            Err(error) => {
                self.trace(|| format!("peer {to} conn {conn}: {error}"));
                let expected = matches!(
                    error,
                    SyncError::Closed(CloseReason::Timeout | CloseReason::Goodbye)
                );
                if !expected {
                    self.fail(format!("peer {to} on connection {conn}: {error}"));
                }
                self.flush(to);
                self.hang_up(to, conn);
            }
        }
    }

    /// What a driver does when a session ends: after its last frame, it drops the connection.
    fn hang_up(&mut self, peer: usize, conn: u64) {
        if let Some(node) = self.peers[peer].node.as_mut() {
            node.disconnect(conn);
        }
        self.close(conn);
    }

    /// Send everything `peer`'s node has ready, on every connection.
    fn flush(&mut self, peer: usize) {
        let conns = self.open_connections(peer);
        for id in conns {
            while let Some(frame) = self.peers[peer]
                .node
                .as_mut()
                .and_then(|n| n.poll_transmit(id))
            {
                let conn = self.conns.get_mut(&id).expect("listed");
                let side = usize::from(conn.ends[0] == peer);
                let jitter = self.rng.below(conn.latency / 2 + 1);
                let at = (self.now + conn.latency + jitter).max(conn.last_arrival[side]);
                conn.last_arrival[side] = at;
                let to = conn.ends[side];
                self.report.frames += 1;
                self.report.bytes += frame.len() as u64;
                self.order += 1;
                self.queue.push(Reverse(Scheduled {
                    at,
                    order: self.order,
                    step: Step::Deliver {
                        conn: id,
                        to,
                        frame,
                    },
                }));
            }
        }
    }

    fn open_connection(&mut self, a: usize, b: usize) {
        let id = self.next_conn;
        self.next_conn += 1;
        let latency = self.rng.between(1, 60);
        self.conns.insert(
            id,
            Connection {
                ends: [a, b],
                open: true,
                latency,
                last_arrival: [0, 0],
            },
        );
        self.report.connections += 1;
        self.trace(|| format!("connect {a} - {b} as {id}"));
        for peer in [a, b] {
            let nonce = self.rng.bytes::<32>();
            if let Some(node) = self.peers[peer].node.as_mut() {
                node.connect(id, nonce, b"", self.now);
            }
        }
        self.flush(a);
        self.flush(b);
    }

    /// Close a connection: what is in flight is lost; each end learns it soon (or never, if
    /// crashed).
    fn close(&mut self, id: u64) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        if !conn.open {
            return;
        }
        conn.open = false;
        let ends = conn.ends;
        for to in ends {
            let after = self.rng.between(0, 200);
            self.schedule(after, Step::Gone { conn: id, to });
        }
    }

    fn connected(&self, a: usize, b: usize) -> bool {
        self.conns
            .values()
            .any(|c| c.open && (c.ends == [a, b] || c.ends == [b, a]))
    }

    fn open_connections(&self, peer: usize) -> Vec<u64> {
        self.conns
            .iter()
            .filter(|(_, c)| c.open && c.ends.contains(&peer))
            .map(|(id, _)| *id)
            .collect()
    }

    fn may_connect(&self, a: usize, b: usize) -> bool {
        let alive = |p: usize| self.peers[p].node.is_some();
        let same_side = self
            .partition
            .as_ref()
            .is_none_or(|side| side[a] == side[b]);
        a != b && alive(a) && alive(b) && same_side && !self.connected(a, b)
    }

    /// One random fault, or a new connection.
    fn fault(&mut self) {
        let n = self.peers.len() as u64;
        let roll = self.rng.below(100);
        if roll < 45 {
            let (a, b) = (self.rng.below(n) as usize, self.rng.below(n) as usize);
            if self.may_connect(a, b)
                && self.open_connections(a).len() < self.config.max_connections
            {
                self.open_connection(a, b);
            }
        } else if roll < 75 {
            let open: Vec<u64> = self
                .conns
                .iter()
                .filter(|(_, c)| c.open)
                .map(|(id, _)| *id)
                .collect();
            if let Some(id) = self.rng.pick(&open).copied() {
                self.trace(|| format!("drop connection {id}"));
                self.report.dropped_connections += 1;
                self.close(id);
            }
        } else if roll < 82 {
            if self.partition.is_none() {
                let side: Vec<bool> = (0..n).map(|_| self.rng.chance(50)).collect();
                self.trace(|| format!("partition {side:?}"));
                let across: Vec<u64> = self
                    .conns
                    .iter()
                    .filter(|(_, c)| c.open && side[c.ends[0]] != side[c.ends[1]])
                    .map(|(id, _)| *id)
                    .collect();
                across.into_iter().for_each(|id| self.close(id));
                self.partition = Some(side);
                self.report.partitions += 1;
                let heal_after = self.rng.between(500, 4_000);
                self.schedule(heal_after, Step::Heal);
            }
        } else if roll < 88 {
            let peer = self.rng.below(n) as usize;
            let crashed = self.peers.iter().filter(|p| p.node.is_none()).count();
            if self.peers[peer].node.is_some() && crashed < 2 {
                self.crash(peer);
            }
        }
    }

    /// The peer stops at once: its sessions, its unsent frames and whatever it had not persisted
    /// are lost. Its connections die without a word; the other ends notice later, or time out.
    fn crash(&mut self, peer: usize) {
        self.trace(|| format!("crash {peer}"));
        self.report.crashes += 1;
        let node = self.peers[peer].node.take().expect("running");
        self.peers[peer].disk = Some(restore(node.replica(), &self.peers[peer].persisted));
        let conns = self.open_connections(peer);
        for id in conns {
            let conn = self.conns.get_mut(&id).expect("listed");
            conn.open = false;
            let other = conn.ends[usize::from(conn.ends[0] == peer)];
            // The transport notices a vanished peer late; a peer waiting on it times out first.
            let after = self.rng.between(500, 30_000);
            self.schedule(
                after,
                Step::Gone {
                    conn: id,
                    to: other,
                },
            );
        }
        let down = self.rng.between(200, 3_000);
        self.schedule(down, Step::Restart { peer });
    }

    fn restart(&mut self, peer: usize) {
        let Some(disk) = self.peers[peer].disk.take() else {
            return;
        };
        self.trace(|| format!("restart {peer}"));
        let p = &mut self.peers[peer];
        let mut node = Node::new(p.key.clone(), disk, node_config());
        p.topics.iter().for_each(|t| node.join(*t));
        p.node = Some(node);
    }

    /// Everything the peer holds now survives a crash.
    fn persist(&mut self, peer: usize) {
        if let Some(node) = &self.peers[peer].node {
            self.peers[peer].persisted = node.replica().store().heights().collect();
        }
    }

    /// Remember what the peer's author stored, which no peer may lose.
    fn record_written(&mut self, peer: usize) {
        let Some(node) = &self.peers[peer].node else {
            return;
        };
        let author = self.peers[peer].key.public_key();
        let store = node.replica().store();
        for (log, _) in store.heights().filter(|(log, _)| log.author == author) {
            for stored in store.entries_after(log, 0) {
                let key = (log, stored.entry.seq_num());
                let hash = stored.entry.hash();
                if let Some(old) = self.written.insert(key, hash) {
                    if old != hash {
                        self.failure
                            .get_or_insert(format!("author {peer} rewrote {key:?}: a fork"));
                    }
                }
            }
        }
    }

    fn timers(&mut self, peer: usize) {
        let Some(node) = self.peers[peer].node.as_mut() else {
            return;
        };
        let expired = node.handle_timeout(self.now);
        for (conn, error) in &expired {
            self.trace(|| format!("peer {peer} conn {conn}: {error}"));
        }
        self.report.timeouts += expired.len() as u64;
        self.flush(peer);
        for (conn, _) in expired {
            self.hang_up(peer, conn);
        }
    }

    /// Write something in one of the peer's festivals, as its user would.
    fn write(&mut self, peer: usize) {
        let Some(node) = self.peers[peer].node.as_ref() else {
            return;
        };
        let me = self.peers[peer].key.public_key();
        let topic = *self.rng.pick(&self.peers[peer].topics).expect("joined one");
        let Some(query) = node.replica().state().festival(topic) else {
            return; // Not received yet.
        };
        let mut festivals = vec![topic];
        festivals.extend(query.sub_festivals());
        let festival = *self.rng.pick(&festivals).expect("not empty");
        let resources: Vec<_> = query
            .resources()
            .into_iter()
            .filter(|r| !r.deleted)
            .collect();
        let own_events: Vec<_> = query
            .events_in_range(Millis::MIN, Millis::MAX)
            .into_iter()
            .filter(|e| e.creator == me && !e.cancelled)
            .collect();
        let own_resources: Vec<_> = resources
            .iter()
            .filter(|r| r.owner == me)
            .cloned()
            .collect();
        let rng = &mut self.rng;
        let timeframe = |rng: &mut Rng| {
            // Half-hour slots over two days, one to three hours long: overlaps are common.
            let start = rng.below(96) as Millis * 1_800_000;
            (start, start + rng.between(2, 6) as Millis * 1_800_000)
        };
        let roll = rng.below(100);
        let operation = if roll < 20 {
            Operation::ResourceCreate(ResourceCreate {
                festival,
                name: format!("resource {}", rng.below(1000)),
                description: String::new(),
                kind: if rng.chance(50) {
                    ResourceKind::Location(Location::default())
                } else {
                    ResourceKind::Item
                },
                policy: if rng.chance(70) {
                    PolicyKind::Fcfs
                } else {
                    PolicyKind::Manual
                },
            })
        } else if roll < 60 || own_events.is_empty() {
            let (start, end) = timeframe(rng);
            let wanted = rng.below(3) as usize;
            let mut requested = BTreeSet::new();
            for _ in 0..wanted {
                if let Some(r) = rng.pick(&resources) {
                    requested.insert(r.id);
                }
            }
            Operation::EventCreate(EventCreate {
                festival,
                title: format!("event {}", rng.below(1000)),
                description: String::new(),
                start,
                end,
                resources: requested.into_iter().collect(),
            })
        } else if roll < 72 {
            let event = rng.pick(&own_events).expect("not empty");
            let (start, end) = timeframe(rng);
            Operation::EventUpdate(EventUpdate {
                festival: event.festival,
                event: event.id,
                title: None,
                description: None,
                timeframe: Some(Timeframe { start, end }),
                resources: None,
            })
        } else if roll < 77 {
            let event = rng.pick(&own_events).expect("not empty");
            Operation::EventCancel(EventCancel {
                festival: event.festival,
                event: event.id,
            })
        } else if roll < 82 && !own_resources.is_empty() {
            let resource = rng.pick(&own_resources).expect("not empty");
            Operation::ResourceUpdate(ResourceUpdate {
                festival: resource.festival,
                resource: resource.id,
                name: None,
                description: None,
                kind: None,
                policy: Some(if resource.policy == PolicyKind::Fcfs {
                    PolicyKind::Manual
                } else {
                    PolicyKind::Fcfs
                }),
            })
        } else if roll < 86 {
            Operation::FestivalCreate(FestivalCreate {
                name: format!("stage {}", rng.below(1000)),
                description: String::new(),
                parent: Some(topic),
                fork_of: None,
            })
        } else {
            // The owner's node answers requests by policy.
            let p = &mut self.peers[peer];
            let node = p.node.as_mut().expect("running");
            let policies = &mut p.policies;
            if let Err(error) = node.update(|replica, key| respond(replica, key, topic, policies)) {
                self.fail(format!("peer {peer} could not answer requests: {error}"));
            }
            return self.after_write(peer);
        };
        let node = self.peers[peer].node.as_mut().expect("running");
        if let Err(error) = node.publish(&operation) {
            self.fail(format!(
                "peer {peer} could not write {operation:?}: {error}"
            ));
        }
        self.after_write(peer);
    }

    /// A node persists its own entries before announcing them.
    fn after_write(&mut self, peer: usize) {
        self.persist(peer);
        self.record_written(peer);
        self.flush(peer);
    }

    /// Faults stop: the partition heals, crashed peers come back, and the members of each
    /// festival connect in a line, as a rendezvous per festival would bring them together.
    fn heal_everything(&mut self) {
        self.trace(|| "heal everything".into());
        self.faults_over = true;
        self.partition = None;
        for peer in 0..self.peers.len() {
            self.restart(peer);
        }
        for members in self.festivals() {
            for pair in members.windows(2) {
                if !self.connected(pair[0], pair[1]) {
                    self.open_connection(pair[0], pair[1]);
                }
            }
        }
    }

    /// Every peer holds every entry of its festivals (and none of others), and peers with the
    /// same festivals have the same state.
    fn check(&self) -> Result<(), String> {
        let nodes: Vec<&Node> = self
            .peers
            .iter()
            .map(|p| p.node.as_ref().expect("restarted"))
            .collect();
        for ((log, seq), hash) in &self.written {
            for (i, node) in nodes.iter().enumerate() {
                let topic = nodes
                    .iter()
                    .find_map(|n| n.replica().state().topic_of_log(*log))
                    .ok_or_else(|| format!("log {log:?} has no festival anywhere"))?;
                let member = self.peers[i].topics.contains(&topic);
                let held = node
                    .replica()
                    .store()
                    .get(*log, *seq)
                    .map(|s| s.entry.hash());
                match (member, held) {
                    (true, Some(h)) if h == *hash => {}
                    (true, other) => {
                        return Err(format!(
                            "peer {i} lacks or changed entry {seq} of {log:?}: {other:?}"
                        ))
                    }
                    (false, None) => {}
                    (false, Some(_)) => {
                        return Err(format!(
                            "peer {i} holds {log:?} of a festival it never joined"
                        ))
                    }
                }
            }
        }
        for (i, node) in nodes.iter().enumerate() {
            let twin = (0..i).find(|j| self.peers[*j].topics == self.peers[i].topics);
            if let Some(j) = twin {
                let (a, b) = (nodes[j].replica(), node.replica());
                if a.store().len() != b.store().len() {
                    return Err(format!("peers {j} and {i} hold different entries"));
                }
                if a.state().snapshot() != b.state().snapshot() {
                    let diff = a.state().snapshot().diff(&b.state().snapshot());
                    return Err(format!("peers {j} and {i} diverge: {diff:#?}"));
                }
            }
            if let Some(fork) = node.replica().store().forks().first() {
                return Err(format!("peer {i} saw a fork: {fork:?}"));
            }
        }
        let open = self.peers[0].topics[0];
        let first = nodes[0]
            .replica()
            .state()
            .snapshot()
            .contexts
            .get(&open)
            .cloned();
        for (i, node) in nodes.iter().enumerate() {
            if node.replica().state().snapshot().contexts.get(&open) != first.as_ref() {
                return Err(format!(
                    "peers 0 and {i} diverge on the festival all joined"
                ));
            }
        }
        Ok(())
    }
}

fn node_config() -> sync::Config {
    sync::Config {
        window: 64 * 1024,
        idle_timeout: IDLE_TIMEOUT,
    }
}

/// The replica as it was on disk: each log up to its persisted height.
fn restore(replica: &Replica, persisted: &HashMap<LogKey, u64>) -> Replica {
    let mut disk = Replica::new();
    let mut logs: Vec<_> = persisted.iter().collect();
    logs.sort();
    for (log, height) in logs {
        for stored in replica
            .store()
            .entries_after(*log, 0)
            .iter()
            .take(*height as usize)
        {
            disk.ingest(stored.entry.bytes(), &stored.payload)
                .expect("persisted entries are valid");
        }
    }
    disk
}
