//! A node: one replica synced with any number of peers, one session each. It decides what to
//! fetch from whom (one fetch per log at a time, so an entry crosses to a node once) and announces
//! what it gains to every other peer sharing the festival.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::festival::{Outcome, Topic};
use crate::hash::Hash;
use crate::identity::{KeyPair, PublicKey};
use crate::operation::Operation;
use crate::replica::{IngestError, Replica};
use crate::small_map::{SmallMap, SmallSet};
use crate::store::{LogKey, StoreError};

use super::error::{CloseReason, SyncError};
use super::session::{head_of, Phase, Range, Session};
use super::wire::{Have, Message, Nonce, Want};

/// The caller's name for a connection.
pub type PeerId = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Bytes a peer may send before this node returns credit: the most this node buffers per peer.
    pub window: u64,
    /// How long a peer may stay silent while this node waits for it, in ms.
    pub idle_timeout: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            window: 256 * 1024,
            idle_timeout: 30_000,
        }
    }
}

/// What happened while handling a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The peer proved its key; `shared` topics will be exchanged.
    Authenticated {
        peer: PeerId,
        key: PublicKey,
        shared: usize,
    },
    /// A new entry was stored and its operation applied.
    Stored { id: Hash, outcome: Outcome },
    /// An author signed two entries at one place of a log: the evidence is in the store and the
    /// log is frozen there.
    Fork { log: LogKey, seq: u64 },
    /// This node holds everything the peer announced when the session began.
    CaughtUp { peer: PeerId },
}

/// One peer as the app sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerStatus {
    pub peer: PeerId,
    pub key: Option<PublicKey>,
    pub shared_topics: usize,
    /// Entries the peer announced that this node does not hold yet.
    pub missing: u64,
    pub caught_up: bool,
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

/// A replica and its sync sessions. Bytes and time in, bytes out.
pub struct Node {
    key_pair: KeyPair,
    replica: Replica,
    config: Config,
    topics: SmallSet<Topic>,
    sessions: SmallMap<PeerId, Session>,
    /// Which peer each log is being fetched from.
    fetching: HashMap<LogKey, PeerId>,
    /// Peers that sent invalid data or broke the protocol.
    blocked: HashSet<PublicKey>,
    /// Logs whose festival is not known yet, so it is not known whom to announce them to.
    unclassified: BTreeSet<LogKey>,
    /// Entries that arrived from any peer, duplicates included.
    entries_received: u64,
}

impl Node {
    pub fn new(key_pair: KeyPair, mut replica: Replica, config: Config) -> Self {
        // Private festivals' keys shared with this node's user open with its key pair.
        replica.set_identity(key_pair.clone());
        Node {
            key_pair,
            replica,
            config,
            topics: SmallSet::new(),
            sessions: SmallMap::new(),
            fetching: HashMap::new(),
            blocked: HashSet::new(),
            unclassified: BTreeSet::new(),
            entries_received: 0,
        }
    }

    pub fn replica(&self) -> &Replica {
        &self.replica
    }

    pub fn key_pair(&self) -> &KeyPair {
        &self.key_pair
    }

    pub fn topics(&self) -> &SmallSet<Topic> {
        &self.topics
    }

    /// Replicate a festival (the id of a root festival or a fork) with peers that want it too.
    /// Takes effect for sessions that start from now on.
    pub fn join(&mut self, topic: Topic) {
        self.topics.insert(topic);
    }

    /// Stop replicating a festival. What is stored stays; sessions that start from now on no
    /// longer offer or ask for it.
    pub fn leave(&mut self, topic: Topic) {
        self.topics.remove(&topic);
    }

    /// Entries that arrived from peers so far, duplicates included: compared with what was stored,
    /// it shows how much crossed twice.
    pub fn entries_received(&self) -> u64 {
        self.entries_received
    }

    /// Whether a session with `peer` is still on (a driver hangs up once it is not).
    pub fn has_session(&self, peer: PeerId) -> bool {
        self.sessions.contains_key(&peer)
    }

    pub fn is_blocked(&self, key: &PublicKey) -> bool {
        self.blocked.contains(key)
    }

    /// Write an operation as this node's user and announce it to the peers sharing its festival.
    pub fn publish(&mut self, operation: &Operation) -> Result<(Hash, Outcome), IngestError> {
        let (id, outcome) = self.replica.publish(&self.key_pair, operation)?;
        if let Operation::FestivalCreate(create) = operation {
            if create.parent.is_none() {
                self.topics.insert(id);
            }
        }
        self.changed_by_hash(id);
        Ok((id, outcome))
    }

    /// Change the replica by other means (e.g. an owner's policy answering requests) and announce
    /// whatever it wrote.
    pub fn update<R>(&mut self, change: impl FnOnce(&mut Replica, &KeyPair) -> R) -> R {
        let before: HashMap<_, _> = self.replica.store().heights().collect();
        let result = change(&mut self.replica, &self.key_pair);
        let grown: Vec<_> = self
            .replica
            .store()
            .heights()
            .filter(|(log, height)| before.get(log) != Some(height))
            .map(|(log, _)| log)
            .collect();
        grown.into_iter().for_each(|log| self.changed(log));
        result
    }

    /// Start a session over a new connection. `nonce` must be fresh random bytes; `binding` names
    /// the connection (e.g. both DTLS fingerprints) so a key proof cannot be relayed, or is empty.
    pub fn connect(&mut self, peer: PeerId, nonce: Nonce, binding: &[u8], now: u64) {
        let session = Session::new(nonce, binding, self.config.window, now);
        self.sessions.insert(peer, session);
    }

    /// The connection is gone. What was being fetched over it is fetched from other peers.
    pub fn disconnect(&mut self, peer: PeerId) {
        if self.sessions.remove(&peer).is_some() {
            self.release_fetches(peer);
        }
    }

    /// End a session on this side: the peer gets a `Close` frame as the session's last.
    pub fn close(&mut self, peer: PeerId) {
        if let Some(session) = self.sessions.get_mut(&peer) {
            session.close(Message::Close(CloseReason::Goodbye));
            self.release_fetches(peer);
        }
    }

    /// Handle one received frame. On error the session is ending: send what
    /// [`Node::poll_transmit`] still gives (a `Close` frame), then close the connection.
    pub fn receive(
        &mut self,
        peer: PeerId,
        frame: &[u8],
        now: u64,
    ) -> Result<Vec<Event>, SyncError> {
        let session = self.sessions.get_mut(&peer).ok_or(SyncError::UnknownPeer)?;
        if session.phase == Phase::Closing {
            return Ok(Vec::new());
        }
        session.last_heard = now;
        session.bytes_received += frame.len() as u64;
        let mut events = Vec::new();
        match self.handle(peer, frame, &mut events) {
            Ok(()) => Ok(events),
            Err(error) => {
                self.fail(peer, &error);
                Err(error)
            }
        }
    }

    /// The next frame to send to `peer`, or `None` when nothing is ready (call again after the
    /// next received frame or local change).
    pub fn poll_transmit(&mut self, peer: PeerId) -> Option<Vec<u8>> {
        let session = self.sessions.get_mut(&peer)?;
        let frame = session.next_frame(self.replica.store());
        if session.phase == Phase::Closing && frame.is_none() {
            self.sessions.remove(&peer);
        }
        frame
    }

    /// End sessions whose peer has been silent too long while this node waited for it. Returns
    /// them with their error; each still has its `Close` frame to send.
    pub fn handle_timeout(&mut self, now: u64) -> Vec<(PeerId, SyncError)> {
        let expired: Vec<_> = self
            .sessions
            .iter()
            .filter(|(_, s)| {
                let waiting = s.phase != Phase::Live || !s.requests.is_empty();
                waiting
                    && s.phase != Phase::Closing
                    && now.saturating_sub(s.last_heard) > self.config.idle_timeout
            })
            .map(|(peer, s)| (*peer, SyncError::Timeout(now.saturating_sub(s.last_heard))))
            .collect();
        for (peer, error) in &expired {
            self.fail(*peer, error);
        }
        expired
    }

    /// When [`Node::handle_timeout`] next has something to do, if ever.
    pub fn next_timeout(&self) -> Option<u64> {
        self.sessions
            .values()
            .filter(|s| s.phase != Phase::Live || !s.requests.is_empty())
            .map(|s| s.last_heard + self.config.idle_timeout + 1)
            .min()
    }

    pub fn peers(&self) -> Vec<PeerStatus> {
        let store = self.replica.store();
        self.sessions
            .iter()
            .map(|(peer, s)| PeerStatus {
                peer: *peer,
                key: s.remote_key,
                shared_topics: s.shared.len(),
                missing: s
                    .remote_heights
                    .iter()
                    .map(|(log, h)| h.saturating_sub(store.height(*log)))
                    .sum(),
                caught_up: s.caught_up,
                bytes_sent: s.bytes_sent,
                bytes_received: s.bytes_received,
            })
            .collect()
    }

    fn fail(&mut self, peer: PeerId, error: &SyncError) {
        let Some(session) = self.sessions.get_mut(&peer) else {
            return;
        };
        if let (true, Some(key)) = (error.blames_peer(), session.remote_key) {
            self.blocked.insert(key);
        }
        match error.close_reason() {
            Some(reason) => session.close(Message::Close(reason)),
            None => {
                self.sessions.remove(&peer);
            }
        }
        self.release_fetches(peer);
    }

    fn handle(
        &mut self,
        peer: PeerId,
        frame: &[u8],
        events: &mut Vec<Event>,
    ) -> Result<(), SyncError> {
        let message = Message::decode(frame)?;
        // Borrow the field only, so the node's key and topics stay readable.
        let session = self.sessions.get_mut(&peer).expect("receive checked it");
        let paid = message.costs_credit();
        if paid {
            session.charge(frame.len())?;
        }
        match (session.phase, message) {
            (_, Message::Close(reason)) => return Err(SyncError::Closed(reason)),
            (Phase::AwaitHello, Message::Hello { version, nonce }) => {
                session.on_hello(version, nonce, &self.key_pair, &self.topics)?
            }
            (
                Phase::AwaitAuth { remote_nonce },
                Message::Auth {
                    key,
                    signature,
                    window,
                    topics,
                },
            ) => {
                if self.blocked.contains(&key) {
                    return Err(SyncError::Blocked(key));
                }
                if key == self.key_pair.public_key() {
                    return Err(SyncError::SelfConnection);
                }
                session.on_auth(remote_nonce, key, &signature, window, &topics, &self.topics)?;
                self.begin(peer);
                events.push(Event::Authenticated {
                    peer,
                    key,
                    shared: self.session(peer).shared.len(),
                });
            }
            (Phase::Live, Message::Credit(bytes)) => session.on_credit(bytes)?,
            (Phase::Live, Message::Have { complete, logs }) => {
                self.on_have(peer, &logs)?;
                self.session(peer).remote_announced_all |= complete;
            }
            (Phase::Live, Message::Want(wants)) => self.on_want(peer, &wants)?,
            (Phase::Live, Message::Entries(entries)) => {
                for (entry, payload) in entries {
                    self.on_entry(peer, entry, payload, events)?;
                }
                self.classify_waiting_logs();
            }
            (_, message) => return Err(SyncError::OutOfTurn(message.kind())),
        }
        if paid {
            self.session(peer).handled(frame.len());
        }
        self.check_caught_up(peer, events);
        Ok(())
    }

    fn session(&mut self, peer: PeerId) -> &mut Session {
        self.sessions
            .get_mut(&peer)
            .expect("caller checked the session exists")
    }

    /// The session is authenticated: announce every log of the shared topics.
    fn begin(&mut self, peer: PeerId) {
        let replica = &self.replica;
        let session = self.sessions.get_mut(&peer).expect("session exists");
        for (log, _) in replica.store().heights() {
            if replica
                .topic_of_log(log)
                .is_some_and(|t| session.shared.contains(&t))
            {
                session.announce.insert(log);
            }
        }
    }

    /// Whether `log` may travel in this session, as far as this node can tell.
    fn check_topic(
        &self,
        peer: PeerId,
        log: LogKey,
        topic: Option<Topic>,
    ) -> Result<(), SyncError> {
        match topic {
            Some(topic) if !self.sessions[&peer].shared.contains(&topic) => {
                Err(SyncError::OutsideTopics { log })
            }
            _ => Ok(()),
        }
    }

    fn on_have(&mut self, peer: PeerId, logs: &[Have]) -> Result<(), SyncError> {
        for have in logs {
            let log = have.log;
            self.check_topic(peer, log, self.replica.topic_of_log(log))?;
            let store = self.replica.store();
            let local = store.height(log);
            let diverged = have.height > 0
                && have.height <= local
                && head_of(store, log, have.height) != have.head;
            let session = self.session(peer);
            let known = session.remote_heights.entry(log).or_default();
            *known = (*known).max(have.height);
            if diverged && !session.requests.contains_key(&log) {
                // Same position, different entry: fetch the remote's as evidence of a fork.
                let range = Range {
                    after: have.height - 1,
                    until: have.height,
                };
                self.request(peer, log, range);
            } else if have.height > local {
                self.fetch(log);
            }
        }
        Ok(())
    }

    fn on_want(&mut self, peer: PeerId, wants: &[Want]) -> Result<(), SyncError> {
        for want in wants {
            let log = want.log;
            let store = self.replica.store();
            let offered = self.replica.topic_of_log(log);
            if !offered.is_some_and(|t| self.sessions[&peer].shared.contains(&t))
                || want.after >= want.until
                || want.until > store.height(log)
            {
                return Err(SyncError::NotOffered { log });
            }
            let range = if want.after > 0 && head_of(store, log, want.after) != want.head {
                // The remote's entry at `after` differs from ours: send ours, the fork evidence,
                // instead of entries that would not link to what the remote holds.
                Range {
                    after: want.after - 1,
                    until: want.after,
                }
            } else {
                Range {
                    after: want.after,
                    until: want.until,
                }
            };
            self.session(peer).serve(log, range)?;
        }
        Ok(())
    }

    fn on_entry(
        &mut self,
        peer: PeerId,
        entry: &[u8],
        payload: &[u8],
        events: &mut Vec<Event>,
    ) -> Result<(), SyncError> {
        self.entries_received += 1;
        let prepared = self
            .replica
            .prepare(entry, payload)
            .map_err(SyncError::InvalidEntry)?;
        let (log, seq) = (prepared.log(), prepared.seq());
        let range = self.sessions[&peer].requests.get(&log).copied();
        // Instead of a range, the peer may answer with its entry at `after`: its head differs
        // from ours there, and this entry is the evidence of a fork.
        let evidence = range.is_some_and(|r| r.after > 0 && seq == r.after);
        if !range.is_some_and(|r| r.contains(seq)) && !evidence {
            return Err(SyncError::Unrequested { log });
        }
        let topic = self.replica.topic_of_prepared(&prepared);
        if let Err(error) = self.check_topic(peer, log, topic) {
            // A forged entry names a festival no one wrote: report the forgery, not the topic.
            prepared
                .entry()
                .verify_signature()
                .map_err(|e| SyncError::InvalidEntry(e.into()))?;
            return Err(error);
        }

        // Entries of a log frozen by a fork (perhaps found mid-stream) are not the peer's fault.
        if self.replica.store().frozen_at(log).is_none() {
            let id = prepared.id();
            match self.replica.commit(prepared) {
                Ok(Outcome::Duplicate) => {}
                Ok(outcome) => {
                    events.push(Event::Stored { id, outcome });
                    self.changed(log);
                }
                Err(IngestError::Store(StoreError::Fork { seq_num })) => {
                    events.push(Event::Fork { log, seq: seq_num });
                }
                Err(error) => return Err(SyncError::InvalidEntry(error)),
            }
        }
        let session = self.session(peer);
        let known = session.remote_heights.entry(log).or_default();
        *known = (*known).max(seq);
        if evidence || range.is_some_and(|r| r.until == seq) {
            session.requests.remove(&log);
            if self.fetching.get(&log) == Some(&peer) {
                self.fetching.remove(&log);
                self.fetch(log);
            }
        }
        Ok(())
    }

    /// Fetch what this node lacks of `log` from the peer announcing the most of it, unless a fetch
    /// is under way (it is continued when that one ends).
    fn fetch(&mut self, log: LogKey) {
        let store = self.replica.store();
        if self.fetching.contains_key(&log) || store.frozen_at(log).is_some() {
            return;
        }
        let local = store.height(log);
        let best = self
            .sessions
            .iter()
            .filter(|(_, s)| s.phase == Phase::Live && !s.requests.contains_key(&log))
            .filter_map(|(peer, s)| Some((*s.remote_heights.get(&log)?, *peer)))
            .filter(|(height, _)| *height > local)
            .max();
        if let Some((until, peer)) = best {
            self.fetching.insert(log, peer);
            self.request(
                peer,
                log,
                Range {
                    after: local,
                    until,
                },
            );
        }
    }

    fn request(&mut self, peer: PeerId, log: LogKey, range: Range) {
        let head = head_of(self.replica.store(), log, range.after);
        let session = self.session(peer);
        session.requests.insert(log, range);
        session.wants.push_back(Want {
            log,
            after: range.after,
            until: range.until,
            head,
        });
    }

    /// A peer is gone: what it was sending is fetched from others.
    fn release_fetches(&mut self, peer: PeerId) {
        // In a fixed order, so a run is reproducible from its inputs. (Inserted one by one:
        // collecting would sort, and a sort brings its own code into the browser package.)
        let mut logs = BTreeSet::new();
        for (log, _) in self.fetching.iter().filter(|(_, p)| **p == peer) {
            logs.insert(*log);
        }
        for log in logs {
            self.fetching.remove(&log);
            self.fetch(log);
        }
    }

    fn changed_by_hash(&mut self, id: Hash) {
        if let Some(stored) = self.replica.store().get_by_hash(&id) {
            let entry = &stored.entry;
            self.changed(LogKey {
                author: entry.author(),
                log_id: entry.log_id(),
            });
        }
    }

    /// `log` grew: announce it to every peer sharing its topic that does not have it yet.
    fn changed(&mut self, log: LogKey) {
        let Some(topic) = self.replica.topic_of_log(log) else {
            self.unclassified.insert(log);
            return;
        };
        let height = self.replica.store().height(log);
        for session in self.sessions.values_mut() {
            let behind = session.remote_heights.get(&log).is_none_or(|h| *h < height);
            if session.phase == Phase::Live && behind && session.shared.contains(&topic) {
                session.announce.insert(log);
            }
        }
    }

    /// Logs whose festival arrived after them can be announced now.
    fn classify_waiting_logs(&mut self) {
        let replica = &self.replica;
        let known: Vec<_> = self
            .unclassified
            .iter()
            .filter(|log| replica.topic_of_log(**log).is_some())
            .copied()
            .collect();
        for log in known {
            self.unclassified.remove(&log);
            self.changed(log);
        }
    }

    fn check_caught_up(&mut self, peer: PeerId, events: &mut Vec<Event>) {
        let store = self.replica.store();
        let Some(session) = self.sessions.get_mut(&peer) else {
            return;
        };
        if session.caught_up || !session.remote_announced_all {
            return;
        }
        let holds_all = session
            .remote_heights
            .iter()
            .all(|(log, h)| store.height(*log) >= *h || store.frozen_at(*log).is_some());
        if holds_all {
            session.caught_up = true;
            events.push(Event::CaughtUp { peer });
        }
    }
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("key", &self.key_pair.public_key())
            .field("entries", &self.replica.store().len())
            .field("topics", &self.topics.len())
            .field("sessions", &self.sessions.len())
            .finish()
    }
}
