//! A native p2panda peer: one sync [`Node`] driven over WebRTC [`Link`]s, a reader and a writer
//! task per link. The node's lock is never held across an await.
//!
//! Besides syncing, a peer reports what happens ([`NativePeer::events`]), hands the signaling
//! messages its neighbours send over links to whoever asked for them ([`NativePeer::signals`]),
//! and can be made to misbehave on purpose ([`NativePeer::misbehave`]) for fault-injection tests.
//!
//! Everything the node stores (received or published), its fork evidence and the festivals it
//! joins are appended to its [`Journal`] while the node is locked, so the journal holds them in
//! the order they were stored ([`NativePeer::with_journal`]; a memory journal otherwise). The
//! node's own entries are held back from every link until the journal made them durable: a
//! crash can then only lose own entries nobody has seen, and a restart that writes that seq
//! again forks nothing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use p2panda_core::festival::Topic;
use p2panda_core::hash::Hash;
use p2panda_core::identity::KeyPair;
use p2panda_core::operation::Operation;
use p2panda_core::replica::{IngestError, Replica};
use p2panda_core::sync::wire::Message;
use p2panda_core::sync::{Config, Event, Node, PeerId, SyncError, MAX_FRAME};
use tokio::sync::{mpsc, Notify};

use crate::storage::{Journal, JournalError, Record, Recorder, Ticket};
use crate::webrtc_link::{connect_pair, Link, LinkError};

/// Rewrites outgoing frames: fault injection on top of the real protocol.
pub type Tamper = Arc<dyn Fn(Vec<u8>) -> Vec<u8> + Send + Sync>;

/// Signaling messages from links waiting for the [`NativePeer::signals`] reader; a link's reader
/// waits when they are full, and the link's own queue then drops the excess.
const SIGNAL_SINK: usize = 64;
/// A hang-up waits up to this many 20 ms checks for the link's buffer to empty, so the session's
/// last frame (its `Close`) reaches the remote end before the connection goes.
const HANGUP_FLUSH_CHECKS: u32 = 100;

/// A link in use, and the signal that wakes its writer.
type Attached = (Arc<Link>, Arc<Notify>);
/// Where links' signaling messages go, with the peer id of the link each came over.
type SignalSink = mpsc::Sender<(PeerId, Vec<u8>)>;

/// What a [`NativePeer`] reports to [`NativePeer::events`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerEvent {
    /// A link was attached; its session starts.
    Attached { peer: PeerId },
    /// Something happened in `peer`'s session (the node's own [`Event`]s).
    Sync { peer: PeerId, event: Event },
    /// The link to `peer` is closed. `error` is why its session ended, if it failed (a `Close`
    /// from the remote end shows as [`SyncError::Closed`]); `None` when the link just closed.
    Ended {
        peer: PeerId,
        error: Option<SyncError>,
    },
}

/// Ways a peer can break the protocol on purpose, after the handshake (its `Hello` and `Auth`
/// frames are always honest, so the remote end gets as far as syncing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misbehaviour {
    /// Every later frame is replaced by random bytes that are no sync message.
    Garbage,
    /// The first later frame is padded to 1 KiB over [`MAX_FRAME`], past the link's limit.
    Oversized,
    /// Every entry sent has its signature flipped: structurally valid, but forged. Only shows
    /// when the remote end asks for entries, i.e. this peer holds some that it lacks.
    Forged,
}

/// Why a publish did not give a stored, recorded entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// The replica refused the operation.
    #[error(transparent)]
    Invalid(#[from] IngestError),
    /// The entry is stored in memory but cannot be made durable; it is never sent to anyone.
    #[error(transparent)]
    Journal(#[from] JournalError),
}

/// A sync node driven over WebRTC links. Cloning gives another handle to the same peer.
#[derive(Clone)]
pub struct NativePeer {
    inner: Arc<Inner>,
}

struct Inner {
    node: Mutex<Node>,
    journal: Journal,
    /// What of the node's replica is in the journal. Locked only while `node` is.
    recorder: Mutex<Recorder>,
    /// The journal ticket of this node's newest own entry: no frame goes out before it is
    /// durable. Changed and read with `node` locked.
    own_pending: AtomicU64,
    links: Mutex<HashMap<PeerId, Attached>>,
    next_peer: AtomicU64,
    started: Instant,
    /// How each ended session ended.
    errors: Mutex<Vec<(PeerId, SyncError)>>,
    /// Why each session that failed but whose link is not closed yet failed.
    failures: Mutex<HashMap<PeerId, SyncError>>,
    tamper: Mutex<Option<Tamper>>,
    /// Frames go out without the link's size check (set by [`Misbehaviour::Oversized`]).
    unchecked: AtomicBool,
    events: Mutex<Option<mpsc::UnboundedSender<PeerEvent>>>,
    signals: Mutex<Option<SignalSink>>,
}

/// Locks a mutex; a panic elsewhere does not make the data unusable for a test helper.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl NativePeer {
    /// A peer holding `replica`, writing as `key_pair`, keeping nothing on disk. Must be called
    /// inside a tokio runtime (it spawns the timer that ends silent sessions).
    pub fn new(key_pair: KeyPair, replica: Replica) -> Self {
        let journal = Journal::memory(replica.store().len() as u64);
        let recorder = Recorder::new(&replica);
        Self::with_journal(key_pair, replica, journal, recorder)
    }

    /// A peer holding `replica` whose changes go to `journal`; `recorder` knows what of
    /// `replica` the journal holds already. Must be called inside a tokio runtime.
    pub fn with_journal(
        key_pair: KeyPair,
        replica: Replica,
        journal: Journal,
        recorder: Recorder,
    ) -> Self {
        let node = Node::new(key_pair, replica, Config::default());
        let inner = Arc::new(Inner {
            node: Mutex::new(node),
            journal,
            recorder: Mutex::new(recorder),
            own_pending: AtomicU64::new(0),
            links: Mutex::new(HashMap::new()),
            next_peer: AtomicU64::new(0),
            started: Instant::now(),
            errors: Mutex::new(Vec::new()),
            failures: Mutex::new(HashMap::new()),
            tamper: Mutex::new(None),
            unchecked: AtomicBool::new(false),
            events: Mutex::new(None),
            signals: Mutex::new(None),
        });
        let peer = NativePeer { inner };
        peer.spawn_timers();
        peer
    }

    /// Replicate `topic` with peers that want it too (sessions started from now on). A journal
    /// failure shows in [`Journal::durable`]; see [`NativePeer::join_recorded`].
    pub fn join(&self, topic: Topic) {
        let _ = self.join_recorded(topic);
    }

    /// As [`NativePeer::join`]; the ticket of the journal record, if the festival is new here.
    pub fn join_recorded(&self, topic: Topic) -> Result<Option<Ticket>, JournalError> {
        let mut node = self.node();
        if node.topics().contains(&topic) {
            return Ok(None);
        }
        node.join(topic);
        self.inner.journal.append(Record::Join(topic)).map(Some)
    }

    /// Stop replicating `topic` (sessions started from now on); what is stored stays. The
    /// ticket of the journal record, if the festival was joined.
    pub fn leave(&self, topic: Topic) -> Result<Option<Ticket>, JournalError> {
        let mut node = self.node();
        if !node.topics().contains(&topic) {
            return Ok(None);
        }
        node.leave(topic);
        self.inner.journal.append(Record::Leave(topic)).map(Some)
    }

    /// The journal this peer records into.
    pub fn journal(&self) -> &Journal {
        &self.inner.journal
    }

    /// Write an operation and announce it to the peers sharing its festival. Panics on an
    /// invalid operation: for tests that write operations they built themselves.
    pub fn publish(&self, operation: &Operation) -> Hash {
        match self.try_publish(operation) {
            Ok(id) => id,
            Err(error) => panic!("invalid operation {operation:?}: {error}"),
        }
    }

    /// Write an operation and announce it to the peers sharing its festival (once it is
    /// durable); the replica's refusal if it is not valid here.
    pub fn try_publish(&self, operation: &Operation) -> Result<Hash, PublishError> {
        self.publish_recorded(operation).map(|(id, _)| id)
    }

    /// As [`NativePeer::try_publish`], with the journal ticket after which the entry is durable
    /// (and goes out to peers): acknowledge it to whoever asked only after
    /// [`Journal::wait`] on it.
    pub fn publish_recorded(&self, operation: &Operation) -> Result<(Hash, Ticket), PublishError> {
        let (id, ticket) = {
            let mut node = self.node();
            let (id, _) = node.publish(operation)?;
            let recorded = {
                let mut recorder = lock(&self.inner.recorder);
                recorder
                    .stored(node.replica(), &id, &self.inner.journal)
                    .and_then(|t| {
                        Ok(recorder
                            .catch_up(node.replica(), &self.inner.journal)?
                            .or(t))
                    })
            };
            match recorded {
                Ok(ticket) => {
                    let ticket = ticket.unwrap_or_else(|| self.inner.journal.appended());
                    self.inner.own_pending.store(ticket, Ordering::Release);
                    (id, ticket)
                }
                Err(error) => {
                    // Stored in memory, never durable: it must never leave this node.
                    self.inner.own_pending.store(u64::MAX, Ordering::Release);
                    return Err(error.into());
                }
            }
        };
        self.wake_all();
        Ok((id, ticket))
    }

    /// Look at the node (its replica, peers, blocked keys).
    pub fn with_node<R>(&self, look: impl FnOnce(&Node) -> R) -> R {
        look(&self.node())
    }

    /// Store entries that came by other means than sync (say, downloaded from a mailbox):
    /// `change` runs on the replica with the node locked, then whatever it stored is appended to
    /// the journal and announced to every peer sharing its festival, as entries received from a
    /// peer are. Returns what `change` returned and the journal ticket after which the new
    /// entries are durable (`None` if it stored nothing), or why they cannot be.
    pub fn ingest_with<R>(
        &self,
        change: impl FnOnce(&mut Replica) -> R,
    ) -> (R, Result<Option<Ticket>, JournalError>) {
        let result = {
            let mut node = self.node();
            let result = node.update(|replica, _| change(replica));
            let recorded = lock(&self.inner.recorder).catch_up(node.replica(), &self.inner.journal);
            (result, recorded)
        };
        self.wake_all();
        result
    }

    /// Runs `look` on the replica once every entry of this node's own in it is durable (waiting
    /// for the journal if need be), so that what `look` takes may leave the node: an own entry
    /// that a crash could still lose must never be seen elsewhere, or the node would write its
    /// seq again and fork its own log.
    pub async fn read_durable<R>(
        &self,
        look: impl FnOnce(&Replica) -> R,
    ) -> Result<R, JournalError> {
        loop {
            let pending = {
                let node = self.node();
                let pending = self.inner.own_pending.load(Ordering::Acquire);
                if self.inner.journal.is_durable(pending) {
                    return Ok(look(node.replica()));
                }
                pending
            };
            self.inner.journal.wait(pending).await?;
        }
    }

    pub fn errors(&self) -> Vec<(PeerId, SyncError)> {
        lock(&self.inner.errors).clone()
    }

    /// Entries that arrived over the wire, duplicates included.
    pub fn entries_received(&self) -> u64 {
        self.node().entries_received()
    }

    pub fn set_tamper(&self, tamper: Tamper) {
        *lock(&self.inner.tamper) = Some(tamper);
    }

    /// Break the protocol on every link from now on, as `how` says.
    pub fn misbehave(&self, how: Misbehaviour) {
        if how == Misbehaviour::Oversized {
            self.inner.unchecked.store(true, Ordering::Release);
        }
        self.set_tamper(tamper_for(how));
    }

    /// Reports from now on (replacing an earlier receiver). Unbounded: one `Stored` per entry.
    pub fn events(&self) -> mpsc::UnboundedReceiver<PeerEvent> {
        let (sender, receiver) = mpsc::unbounded_channel();
        *lock(&self.inner.events) = Some(sender);
        receiver
    }

    /// Signaling messages that neighbours send over links attached from now on (replacing an
    /// earlier receiver), with the link's peer id; undecoded. Without a receiver they are
    /// dropped.
    pub fn signals(&self) -> mpsc::Receiver<(PeerId, Vec<u8>)> {
        let (sender, receiver) = mpsc::channel(SIGNAL_SINK);
        *lock(&self.inner.signals) = Some(sender);
        receiver
    }

    /// Send a signaling message over `peer`'s link.
    pub async fn send_signal(&self, peer: PeerId, message: &[u8]) -> Result<(), LinkError> {
        let link = lock(&self.inner.links).get(&peer).map(|(l, _)| l.clone());
        match link {
            Some(link) => link.send_signal(message).await,
            None => Err(LinkError::Closed),
        }
    }

    /// Run the sync protocol over `link`, its channel binding signed in the handshake; returns
    /// the session's peer id.
    pub fn attach(&self, link: Link) -> PeerId {
        let peer = self.inner.next_peer.fetch_add(1, Ordering::Relaxed);
        let link = Arc::new(link);
        let wake = Arc::new(Notify::new());
        // A fresh key's bytes: unique per session, which is what the nonce must be.
        let nonce: [u8; 32] = *KeyPair::generate().public_key().as_bytes();
        self.node().connect(peer, nonce, link.binding(), self.now());
        lock(&self.inner.links).insert(peer, (link.clone(), wake.clone()));
        self.report(PeerEvent::Attached { peer });
        tokio::spawn(self.clone().write(peer, link.clone(), wake.clone()));
        if let Some(sink) = lock(&self.inner.signals).clone() {
            tokio::spawn(forward_signals(peer, link.clone(), sink));
        }
        tokio::spawn(self.clone().read(peer, link));
        wake.notify_one();
        peer
    }

    /// End the session with `peer` politely: it is sent a `Close` (goodbye), then hung up on.
    pub fn close(&self, peer: PeerId) {
        self.node().close(peer);
        self.wake_all();
    }

    /// The peer ids of the attached links.
    pub fn linked(&self) -> Vec<PeerId> {
        lock(&self.inner.links).keys().copied().collect()
    }

    /// Cut the connection abruptly, as a network failure would.
    pub async fn cut(&self, peer: PeerId) {
        let link = lock(&self.inner.links).get(&peer).map(|(l, _)| l.clone());
        if let Some(link) = link {
            link.close().await;
        }
    }

    fn node(&self) -> MutexGuard<'_, Node> {
        lock(&self.inner.node)
    }

    fn now(&self) -> u64 {
        self.inner.started.elapsed().as_millis() as u64
    }

    fn wake_all(&self) {
        for (_, wake) in lock(&self.inner.links).values() {
            wake.notify_one();
        }
    }

    fn report(&self, event: PeerEvent) {
        if let Some(events) = lock(&self.inner.events).as_ref() {
            let _ = events.send(event);
        }
    }

    /// A session failed: remembered for the report when its link closes.
    fn failed(&self, peer: PeerId, error: SyncError) {
        lock(&self.inner.errors).push((peer, error.clone()));
        lock(&self.inner.failures).entry(peer).or_insert(error);
    }

    /// Frames in, until the link closes; after the session ends, frames are only drained.
    async fn read(self, peer: PeerId, link: Arc<Link>) {
        let mut ended = false;
        while let Some(frame) = link.recv().await {
            if ended {
                continue; // Waiting for the writer (or the remote end) to hang up.
            }
            let now = self.now();
            let result = {
                let mut node = self.node();
                let result = node.receive(peer, &frame, now);
                let events: &[Event] = result.as_deref().unwrap_or(&[]);
                // A journal failure shows in `Journal::durable`; the owner stops the node.
                let _ = lock(&self.inner.recorder).after_events(
                    node.replica(),
                    events,
                    &self.inner.journal,
                );
                result
            };
            // New entries are announced to every other peer, so every writer may have work.
            self.wake_all();
            match result {
                Ok(events) => {
                    for event in events {
                        self.report(PeerEvent::Sync { peer, event });
                    }
                }
                Err(error) => {
                    // The writer sends the Close frame and hangs up.
                    self.failed(peer, error);
                    ended = true;
                }
            }
        }
        self.node().disconnect(peer);
        let ours = lock(&self.inner.links).remove(&peer);
        // Our writer sees the session gone and ends; the others fetch what this peer was sending.
        ours.into_iter().for_each(|(_, wake)| wake.notify_one());
        self.wake_all();
        let error = lock(&self.inner.failures).remove(&peer);
        self.report(PeerEvent::Ended { peer, error });
    }

    /// The next frame for `peer`, or the ticket of an own entry that must be durable first.
    fn next_frame(&self, peer: PeerId) -> Result<Option<Vec<u8>>, Ticket> {
        let mut node = self.node();
        let pending = self.inner.own_pending.load(Ordering::Acquire);
        if !self.inner.journal.is_durable(pending) {
            return Err(pending);
        }
        Ok(node.poll_transmit(peer))
    }

    /// Frames out, whenever the node has some; hangs up once the session is over.
    async fn write(self, peer: PeerId, link: Arc<Link>, wake: Arc<Notify>) {
        loop {
            wake.notified().await;
            let mut failed = false;
            loop {
                let frame = match self.next_frame(peer) {
                    Ok(Some(frame)) => frame,
                    Ok(None) => break,
                    Err(pending) => {
                        if self.inner.journal.wait(pending).await.is_err() {
                            failed = true; // Own entries can never be sent: stop talking.
                            break;
                        }
                        continue;
                    }
                };
                let tamper = lock(&self.inner.tamper).clone();
                let frame = match tamper {
                    Some(tamper) => tamper(frame),
                    None => frame,
                };
                let sent = if self.inner.unchecked.load(Ordering::Acquire) {
                    link.send_unchecked(&frame).await
                } else {
                    link.send(&frame).await
                };
                if sent.is_err() {
                    break;
                }
            }
            let ended = failed || !self.node().has_session(peer);
            if ended || !lock(&self.inner.links).contains_key(&peer) {
                flush(&link).await;
                link.close().await;
                self.node().disconnect(peer);
                lock(&self.inner.links).remove(&peer);
                self.wake_all();
                return;
            }
        }
    }

    fn spawn_timers(&self) {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let Some(inner) = weak.upgrade() else { return };
                let peer = NativePeer { inner };
                let now = peer.now();
                let expired = peer.node().handle_timeout(now);
                if !expired.is_empty() {
                    for (id, error) in expired {
                        peer.failed(id, error);
                    }
                    peer.wake_all();
                }
            }
        });
    }
}

/// Waits (boundedly) until what was sent on `link` has been acknowledged.
async fn flush(link: &Link) {
    for _ in 0..HANGUP_FLUSH_CHECKS {
        if link.is_closed() || link.buffered_amount().await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Hands `link`'s signaling messages to `sink` until either is gone.
async fn forward_signals(peer: PeerId, link: Arc<Link>, sink: SignalSink) {
    while let Some(message) = link.recv_signal().await {
        if sink.send((peer, message)).await.is_err() {
            return;
        }
    }
}

/// Whether a frame is part of the handshake, which misbehaving peers still do honestly.
fn is_handshake(frame: &[u8]) -> bool {
    matches!(
        Message::decode(frame),
        Ok(Message::Hello { .. } | Message::Auth { .. })
    )
}

fn tamper_for(how: Misbehaviour) -> Tamper {
    match how {
        Misbehaviour::Garbage => {
            let mut seed = [0; 8];
            seed.copy_from_slice(&KeyPair::generate().public_key().as_bytes()[..8]);
            let state = Arc::new(Mutex::new(u64::from_le_bytes(seed)));
            Arc::new(move |frame: Vec<u8>| {
                if is_handshake(&frame) {
                    return frame;
                }
                let mut state = lock(&state);
                let len = 1 + (split_mix(&mut state) % 256) as usize;
                let mut garbage: Vec<u8> = (0..len).map(|_| split_mix(&mut state) as u8).collect();
                // A kind byte no message has (kinds are 1..=7), so it is never a valid frame.
                garbage[0] |= 0x80;
                garbage
            })
        }
        Misbehaviour::Oversized => {
            let done = Arc::new(AtomicBool::new(false));
            Arc::new(move |mut frame: Vec<u8>| {
                if is_handshake(&frame) || done.swap(true, Ordering::AcqRel) {
                    return frame;
                }
                frame.resize(MAX_FRAME + 1024, 0);
                frame
            })
        }
        Misbehaviour::Forged => Arc::new(|frame: Vec<u8>| {
            let Ok(Message::Entries(entries)) = Message::decode(&frame) else {
                return frame;
            };
            // An entry ends with its 64-byte signature: flipping its last bit keeps the entry
            // well-formed but makes the signature false.
            let forged: Vec<(Vec<u8>, Vec<u8>)> = entries
                .iter()
                .map(|(entry, payload)| {
                    let mut entry = entry.to_vec();
                    if let Some(last) = entry.last_mut() {
                        *last ^= 1;
                    }
                    (entry, payload.to_vec())
                })
                .collect();
            let forged = forged.iter().map(|(e, p)| (&e[..], &p[..])).collect();
            Message::Entries(forged).encode()
        }),
    }
}

/// SplitMix64: enough randomness for garbage.
fn split_mix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Connect two peers over a fresh WebRTC connection; returns each side's id for the other.
pub async fn connect(a: &NativePeer, b: &NativePeer) -> Result<(PeerId, PeerId), LinkError> {
    let (link_a, link_b) = connect_pair().await?;
    Ok((a.attach(link_a), b.attach(link_b)))
}

/// Wait until `done` holds, checking every 20 ms; `Err` after `timeout`.
pub async fn wait_until(
    what: &str,
    timeout: Duration,
    mut done: impl FnMut() -> bool,
) -> Result<Duration, String> {
    let started = Instant::now();
    while !done() {
        if started.elapsed() > timeout {
            return Err(format!("timed out after {timeout:?} waiting for {what}"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(started.elapsed())
}
