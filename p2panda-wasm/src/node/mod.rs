//! The browser node: a `p2panda_core::sync::Node` kept durable in IndexedDB. It runs in a Worker
//! (see `worker.rs`); the page's thread owns the WebRTC links and passes their frames in.
//!
//! Durability rules:
//! - Own writes go to disk first: an entry is signed, its IndexedDB transaction commits, and only
//!   then does it enter the replica and get announced. A failed write changes nothing, and a
//!   crash can never make this node sign two different entries at one place of its log.
//! - Received entries enter the replica at once (so sync goes on) and are saved in batches: while
//!   one transaction commits, the next batch gathers. `changed` notifications and the `stored`
//!   count follow commits, so what the app is told is stored, is stored. Entries lost to a crash
//!   before their commit are simply fetched again.

mod calls;
mod error;
mod mailbox;
mod policy;
mod restore;
pub(crate) mod shapes;

use std::cell::RefCell;
use std::rc::Rc;

use futures::lock::Mutex;
use p2panda_core::festival::{Outcome, Topic};
use p2panda_core::hash::Hash;
use p2panda_core::identity::KeyPair;
use p2panda_core::identity::PublicKey;
use p2panda_core::log::Entry;
use p2panda_core::operation::{FestivalId, Operation};
use p2panda_core::replica::{Outgoing, Replica};
use p2panda_core::secret::SecretKey;
use p2panda_core::small_map::SmallSet;
use p2panda_core::store::{ForkEvidence, LogKey};
use p2panda_core::sync::{self, Event, PeerId, SyncError};

use crate::store::{Store, StoredEntry};

pub use error::NodeError;

/// After a failed save of received entries (a full disk, usually), the next try comes after
/// this long, doubling up to the maximum.
const SAVE_RETRY_FIRST_MS: i32 = 500;
const SAVE_RETRY_MAX_MS: i32 = 30_000;

/// What the node tells the page's thread.
#[derive(Debug)]
pub enum Out {
    /// Frames for a peer's link, in order.
    Send { peer: PeerId, frames: Vec<Vec<u8>> },
    /// The session with a peer has ended (its last frames were sent before this): hang up.
    Hangup {
        peer: PeerId,
        code: &'static str,
        message: String,
    },
    /// These festivals changed; everything behind the change is committed to disk.
    Changed { festivals: Vec<FestivalId> },
    /// The festivals this node replicates (to meet peers in their rooms).
    Topics { topics: Vec<Topic> },
    /// Peers or sync progress changed.
    Peers,
    /// Ask the app's policy callback about a request.
    Decide {
        id: u32,
        policy: String,
        festival: FestivalId,
        request: shapes::RequestJs,
    },
    /// Something failed in the background (not in answer to a call).
    Error { code: &'static str, message: String },
}

/// Where [`Out`] messages go.
pub type Outbox = Rc<dyn Fn(Out)>;

/// The clock, in ms. Only differences matter to the sync node.
fn now() -> u64 {
    js_sys::Date::now() as u64
}

struct Core {
    node: sync::Node,
    /// Open links, by the page's link id.
    links: SmallSet<PeerId>,
    /// Received entries waiting for the next transaction.
    unsaved: Vec<StoredEntry>,
    unsaved_festivals: SmallSet<FestivalId>,
    saving: bool,
    /// Received entries whose transaction committed.
    entries_stored: u64,
    policy: policy::Responder,
    closed: bool,
}

impl Core {
    /// Save the stored entry `id` with the next batch of received entries.
    fn queue_save(&mut self, id: &Hash) {
        let Some(stored) = self.node.replica().store().get_by_hash(id) else {
            return;
        };
        let record = stored_entry(&stored.entry, &stored.payload);
        let log = LogKey {
            author: stored.entry.author(),
            log_id: stored.entry.log_id(),
        };
        if let Some(festival) = self.node.replica().state().festival_of_log(log) {
            self.unsaved_festivals.insert(festival);
        }
        self.unsaved.push(record);
    }
}

/// A handle on the node; clones share it.
#[derive(Clone)]
pub struct BrowserNode {
    core: Rc<RefCell<Core>>,
    store: Rc<Store>,
    out: Outbox,
    /// One own write at a time: each signs the next entry of its log from what is on disk.
    write_turn: Rc<Mutex<()>>,
}

impl BrowserNode {
    /// Open the node stored under `name`: take the store's lock, load the key pair (or, for a
    /// new store, take `secret` or make one), and restore every stored entry without verifying
    /// it again.
    pub async fn open(
        name: &str,
        secret: Option<KeyPair>,
        out: Outbox,
    ) -> Result<BrowserNode, NodeError> {
        let mut timer = restore::OpenTimer::start();
        let store = Store::open(name).await?;
        let key_pair = match store.key_pair().await? {
            Some(stored) => {
                let key_pair = KeyPair::from_secret_bytes(&stored).map_err(corrupt)?;
                let other = secret.is_some_and(|s| s.public_key() != key_pair.public_key());
                if other {
                    return Err(NodeError::IdentityMismatch);
                }
                key_pair
            }
            None => {
                let key_pair = secret.unwrap_or_else(KeyPair::generate);
                store.save_key_pair(&key_pair.export_secret()).await?;
                key_pair
            }
        };
        timer.lap("store");
        let mut replica = Replica::new();
        restore::entries(&store, &mut replica, &mut timer).await?;
        // Logs frozen by a fork stay frozen across reloads.
        for saved in store.fork_evidence().await? {
            let evidence = fork_evidence(&replica, saved)?;
            replica.restore_fork_evidence(&evidence).map_err(corrupt)?;
        }
        // Keys after the entries: what waits for them opens now (and shares open in Node::new).
        for (topic, key) in store.festival_keys().await? {
            let topic = Hash::from_bytes(&topic).map_err(corrupt)?;
            replica.add_festival_key(topic, SecretKey::from_bytes(key));
        }
        let mut node = sync::Node::new(key_pair, replica, sync::Config::default());
        for topic in store.festivals().await? {
            node.join(Hash::from_bytes(&topic).map_err(corrupt)?);
        }
        timer.lap("forksAndFestivals");
        let core = Core {
            node,
            links: SmallSet::new(),
            unsaved: Vec::new(),
            unsaved_festivals: SmallSet::new(),
            saving: false,
            entries_stored: 0,
            policy: policy::Responder::default(),
            closed: false,
        };
        let node = BrowserNode {
            core: Rc::new(RefCell::new(core)),
            store: Rc::new(store),
            out,
            write_turn: Rc::new(Mutex::new(())),
        };
        node.announce_topics();
        timer.finish();
        Ok(node)
    }

    pub fn public_key(&self) -> String {
        self.core.borrow().node.key_pair().public_key().to_hex()
    }

    fn send(&self, message: Out) {
        (self.out)(message)
    }

    fn announce_topics(&self) {
        let topics = self.core.borrow().node.topics().iter().copied().collect();
        self.send(Out::Topics { topics });
    }

    // ---- writing ----

    /// Write an operation as this node's user: to disk, then into the replica, then to peers.
    pub(crate) async fn publish(&self, operation: Operation) -> Result<Hash, NodeError> {
        self.publish_as(operation, false).await
    }

    /// Publish `operation`; with `private`, a root festival's creation makes a private festival
    /// (sealed with a new key). Operations in a private festival are sealed in any case.
    pub(crate) async fn publish_as(
        &self,
        operation: Operation,
        private: bool,
    ) -> Result<Hash, NodeError> {
        let _turn = self.write_turn.lock().await;
        self.check_open()?;
        operation.validate()?;
        let outgoing = {
            let core = self.core.borrow();
            core.node
                .replica()
                .outgoing(core.node.key_pair(), &operation, private)?
        };
        let (entry, outcome) = self.write_outgoing(outgoing).await?;
        let id = entry.hash();
        if let Operation::FestivalCreate(create) = &operation {
            if create.parent.is_none() {
                self.join(id).await?;
            }
        }
        self.pump();
        if let Some(festival) = self.festival_of(&entry) {
            self.send(Out::Changed {
                festivals: self.with_ancestors([festival]),
            });
            if !matches!(operation, Operation::Authorization(_)) {
                self.respond_later(festival);
            }
        }
        match outcome {
            Outcome::Rejected(rejection) => Err(NodeError::Rejected(rejection)),
            _ => Ok(id),
        }
    }

    /// Sign what the replica made ready, keep the key it brings and the entry (in that order:
    /// an entry on disk without its key would be unreadable after a reload), then ingest it.
    async fn write_outgoing(&self, outgoing: Outgoing) -> Result<(Entry, Outcome), NodeError> {
        let entry = {
            let core = self.core.borrow();
            core.node
                .replica()
                .store()
                .next_entry(core.node.key_pair(), outgoing.log_id, &outgoing.payload)
                .map_err(|e| NodeError::from(p2panda_core::replica::IngestError::Store(e)))?
        };
        let id = entry.hash();
        if let Some((topic, key)) = outgoing.new_key(id) {
            self.store
                .save_festival_key(topic.as_bytes(), key.as_bytes())
                .await?;
        }
        self.store
            .put_entries(&[stored_entry(&entry, &outgoing.payload)])
            .await?;
        let outcome = self.core.borrow_mut().node.update(|replica, _| {
            replica.learn_outgoing_key(id, &outgoing);
            replica.ingest(entry.bytes(), &outgoing.payload)
        })?;
        Ok((entry, outcome))
    }

    /// Share a private festival's key with `members` (`rotate`: a new key, for removing someone
    /// not among them). Only its creator may.
    pub(crate) async fn share_key(
        &self,
        topic: Topic,
        members: &[PublicKey],
        rotate: bool,
    ) -> Result<Hash, NodeError> {
        let _turn = self.write_turn.lock().await;
        self.check_open()?;
        let outgoing = {
            let core = self.core.borrow();
            core.node
                .replica()
                .outgoing_key_share(core.node.key_pair(), topic, members, rotate)?
        };
        let (entry, _) = self.write_outgoing(outgoing).await?;
        self.pump();
        self.send(Out::Changed {
            festivals: self.with_ancestors([topic]),
        });
        Ok(entry.hash())
    }

    /// Learn a private festival's key (from an invite link) and keep it.
    pub(crate) async fn add_festival_key(
        &self,
        topic: Topic,
        key: SecretKey,
    ) -> Result<(), NodeError> {
        self.store
            .save_festival_key(topic.as_bytes(), key.as_bytes())
            .await?;
        let opened = self
            .core
            .borrow_mut()
            .node
            .update(|replica, _| replica.add_festival_key(topic, key));
        if opened > 0 {
            self.send(Out::Changed {
                festivals: self.with_ancestors([topic]),
            });
        }
        Ok(())
    }

    /// Replicate a festival (a root festival or a fork) from now on, and remember that.
    pub(crate) async fn join(&self, topic: Topic) -> Result<(), NodeError> {
        if self.core.borrow().node.topics().contains(&topic) {
            return Ok(());
        }
        self.store.save_festival(topic.as_bytes()).await?;
        self.core.borrow_mut().node.join(topic);
        self.announce_topics();
        Ok(())
    }

    /// Stop replicating a festival, and forget that it was joined.
    pub(crate) async fn leave(&self, topic: Topic) -> Result<(), NodeError> {
        self.store.forget_festival(topic.as_bytes()).await?;
        self.core.borrow_mut().node.leave(topic);
        self.announce_topics();
        Ok(())
    }

    /// The secret key, for a backup.
    pub(crate) fn export_secret(&self) -> [u8; 32] {
        self.core.borrow().node.key_pair().export_secret()
    }

    fn check_open(&self) -> Result<(), NodeError> {
        if self.core.borrow().closed {
            return Err(NodeError::Closed);
        }
        Ok(())
    }

    // ---- links ----

    /// A link to a peer opened: start a sync session over it.
    pub fn link_opened(&self, peer: PeerId, binding: &[u8]) {
        let mut nonce = [0u8; sync::wire::NONCE_LEN];
        if getrandom::getrandom(&mut nonce).is_err() {
            self.send(Out::Hangup {
                peer,
                code: "NO_RANDOMNESS",
                message: "the browser gave no random bytes for the session nonce".into(),
            });
            return;
        }
        {
            let mut core = self.core.borrow_mut();
            if core.closed {
                return;
            }
            core.links.insert(peer);
            core.node.connect(peer, nonce, binding, now());
        }
        self.pump();
    }

    /// A link closed (either side, or it failed).
    pub fn link_closed(&self, peer: PeerId) {
        let mut core = self.core.borrow_mut();
        core.links.remove(&peer);
        core.node.disconnect(peer);
        drop(core);
        self.send(Out::Peers);
        // Fetches over that link move to other peers.
        self.pump();
    }

    /// A frame arrived on a link.
    pub fn frame(&self, peer: PeerId, frame: &[u8]) {
        let result = {
            let mut core = self.core.borrow_mut();
            if core.closed {
                return;
            }
            core.node.receive(peer, frame, now())
        };
        match result {
            Ok(events) => self.handle_events(events),
            Err(error) => self.session_failed(peer, &error),
        }
        self.pump();
        self.save_later();
    }

    fn handle_events(&self, events: Vec<Event>) {
        let mut peers_changed = false;
        let mut core = self.core.borrow_mut();
        for event in events {
            match event {
                Event::Stored { id, .. } => core.queue_save(&id),
                Event::Fork { log, seq } => {
                    let evidence = core
                        .node
                        .replica()
                        .store()
                        .forks()
                        .iter()
                        .find(|f| f.log == log && f.seq_num == seq)
                        .map(|f| StoredEntry {
                            author: *log.author.as_bytes(),
                            log_id: log.log_id,
                            seq,
                            entry: f.conflicting.clone(),
                            payload: Vec::new(),
                        });
                    if let Some(evidence) = evidence {
                        self.save_fork_evidence(evidence);
                    }
                    let message = format!(
                        "{} signed two different entries at seq {seq} of log {}; the log is frozen there",
                        log.author, log.log_id
                    );
                    drop(core);
                    self.send(Out::Error {
                        code: "FORK",
                        message,
                    });
                    core = self.core.borrow_mut();
                }
                Event::Authenticated { .. } | Event::CaughtUp { .. } => peers_changed = true,
            }
        }
        drop(core);
        if peers_changed {
            self.send(Out::Peers);
        }
    }

    /// The session with `peer` ended with `error`: send its `Close` frame, then hang up.
    fn session_failed(&self, peer: PeerId, error: &SyncError) {
        self.pump_peer(peer);
        self.core.borrow_mut().links.remove(&peer);
        self.send(Out::Hangup {
            peer,
            code: error.code(),
            message: error.to_string(),
        });
        self.send(Out::Peers);
    }

    /// Hand every ready frame to the page's thread. The sync protocol's credit window bounds
    /// how much can be ready per peer.
    pub(crate) fn pump(&self) {
        let links: Vec<PeerId> = self.core.borrow().links.iter().copied().collect();
        for peer in links {
            self.pump_peer(peer);
            let ended = !self.core.borrow().node.has_session(peer);
            if ended {
                self.core.borrow_mut().links.remove(&peer);
                self.send(Out::Hangup {
                    peer,
                    code: "SESSION_ENDED",
                    message: "the sync session ended".into(),
                });
            }
        }
    }

    fn pump_peer(&self, peer: PeerId) {
        let frames: Vec<Vec<u8>> = {
            let mut core = self.core.borrow_mut();
            std::iter::from_fn(|| core.node.poll_transmit(peer)).collect()
        };
        if !frames.is_empty() {
            self.send(Out::Send { peer, frames });
        }
    }

    /// End sessions with peers that went silent while this node waited for them.
    pub fn tick(&self) {
        let expired = self.core.borrow_mut().node.handle_timeout(now());
        for (peer, error) in expired {
            self.session_failed(peer, &error);
        }
    }

    // ---- saving what arrived ----

    fn save_later(&self) {
        let mut core = self.core.borrow_mut();
        if core.saving || core.unsaved.is_empty() {
            return;
        }
        core.saving = true;
        drop(core);
        let node = self.clone();
        wasm_bindgen_futures::spawn_local(async move { node.save_loop().await });
    }

    /// Commit received entries batch by batch until none are waiting.
    async fn save_loop(&self) {
        let mut retry_ms = SAVE_RETRY_FIRST_MS;
        loop {
            let (batch, festivals) = {
                let mut core = self.core.borrow_mut();
                if core.unsaved.is_empty() || core.closed {
                    core.saving = false;
                    return;
                }
                (
                    std::mem::take(&mut core.unsaved),
                    std::mem::take(&mut core.unsaved_festivals),
                )
            };
            match self.store.put_entries(&batch).await {
                Ok(()) => {
                    retry_ms = SAVE_RETRY_FIRST_MS;
                    self.core.borrow_mut().entries_stored += batch.len() as u64;
                    self.send(Out::Changed {
                        festivals: self.with_ancestors(festivals.iter().copied()),
                    });
                    self.send(Out::Peers);
                    for festival in festivals {
                        self.respond_later(festival);
                    }
                }
                Err(error) => {
                    self.send(Out::Error {
                        code: error.code(),
                        message: format!(
                            "{} received entries could not be saved yet (retrying): {error}",
                            batch.len()
                        ),
                    });
                    // They stay in memory and sync on. They go back in front of what arrived
                    // since: nothing later may be stored without them, or a log on disk would
                    // have a gap (and the store would not reopen).
                    {
                        let mut core = self.core.borrow_mut();
                        let newer = std::mem::replace(&mut core.unsaved, batch);
                        core.unsaved.extend(newer);
                        core.unsaved_festivals.extend(festivals);
                    }
                    crate::time::sleep(retry_ms).await;
                    retry_ms = (retry_ms * 2).min(SAVE_RETRY_MAX_MS);
                }
            }
        }
    }

    /// Keep the proof of a fork, so the log stays frozen after a reload.
    fn save_fork_evidence(&self, evidence: StoredEntry) {
        let node = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(error) = node.store.put_fork_evidence(&evidence).await {
                node.send(Out::Error {
                    code: error.code(),
                    message: format!("fork evidence could not be saved: {error}"),
                });
            }
        });
    }

    // ---- reading ----

    fn festival_of(&self, entry: &Entry) -> Option<FestivalId> {
        let log = LogKey {
            author: entry.author(),
            log_id: entry.log_id(),
        };
        self.core
            .borrow()
            .node
            .replica()
            .state()
            .festival_of_log(log)
    }

    /// The festivals and every festival above them (a change shows in a parent's views too).
    fn with_ancestors(&self, festivals: impl IntoIterator<Item = FestivalId>) -> Vec<FestivalId> {
        let core = self.core.borrow();
        let state = core.node.replica().state();
        let mut all = SmallSet::new();
        for mut festival in festivals {
            while all.insert(festival) {
                match state.festival(festival).and_then(|q| q.info().parent) {
                    Some(parent) => festival = parent,
                    None => break,
                }
            }
        }
        all.into_iter().collect()
    }

    fn progress(&self) -> shapes::ProgressJs {
        let core = self.core.borrow();
        let peers = core.node.peers();
        shapes::ProgressJs {
            peers: peers.len(),
            missing: peers.iter().map(|p| p.missing).sum::<u64>() as f64,
            caught_up: peers.iter().all(|p| p.caught_up),
            entries_received: core.node.entries_received() as f64,
            entries_stored: core.entries_stored as f64,
        }
    }

    /// Close the node: end sessions, release the store (and its lock).
    pub fn close(&self) {
        let links: Vec<PeerId> = {
            let mut core = self.core.borrow_mut();
            core.closed = true;
            core.links.iter().copied().collect()
        };
        for peer in links {
            self.core.borrow_mut().node.close(peer);
            self.pump_peer(peer);
            self.send(Out::Hangup {
                peer,
                code: "NODE_CLOSED",
                message: "the node was closed".into(),
            });
        }
        self.core.borrow_mut().links.clear();
        self.store.close();
    }

    /// [`BrowserNode::close`], resolving only once the browser released the store's lock, so
    /// the node can be opened again right away (in this worker or another).
    pub async fn close_and_unlock(&self) {
        self.close();
        self.store.close_and_unlock().await;
    }

    fn decided(&self, id: u32, verdict: Option<shapes::VerdictJs>) {
        self.core.borrow_mut().policy.answer(id, verdict);
    }
}

/// A stored record that does not decode: the database was damaged.
fn corrupt(error: impl std::fmt::Display) -> NodeError {
    NodeError::Store(crate::store::StoreError::Corrupt(error.to_string()))
}

/// Saved fork evidence as the core records it, next to the entry this node kept.
fn fork_evidence(replica: &Replica, saved: StoredEntry) -> Result<ForkEvidence, NodeError> {
    let log = LogKey {
        author: PublicKey::from_bytes(&saved.author).map_err(corrupt)?,
        log_id: saved.log_id,
    };
    let kept = replica
        .store()
        .get(log, saved.seq)
        .ok_or_else(|| corrupt("fork evidence for an entry that is not stored"))?
        .entry
        .hash();
    Ok(ForkEvidence {
        log,
        seq_num: saved.seq,
        kept,
        conflicting: saved.entry,
    })
}

fn stored_entry(entry: &Entry, payload: &[u8]) -> StoredEntry {
    StoredEntry {
        author: *entry.author().as_bytes(),
        log_id: entry.log_id(),
        seq: entry.seq_num(),
        entry: entry.bytes().to_vec(),
        payload: payload.to_vec(),
    }
}
