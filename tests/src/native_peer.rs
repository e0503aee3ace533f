//! A native p2panda peer: one sync [`Node`] driven over WebRTC [`Link`]s, a reader and a writer
//! task per link. The node's lock is never held across an await.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use p2panda_core::festival::Topic;
use p2panda_core::hash::Hash;
use p2panda_core::identity::KeyPair;
use p2panda_core::operation::Operation;
use p2panda_core::replica::Replica;
use p2panda_core::sync::{Config, Node, PeerId, SyncError};
use tokio::sync::Notify;

use crate::webrtc_link::{connect_pair, Link, LinkError};

/// Rewrites outgoing frames: fault injection on top of the real protocol.
pub type Tamper = Arc<dyn Fn(Vec<u8>) -> Vec<u8> + Send + Sync>;

/// A link in use, and the signal that wakes its writer.
type Attached = (Arc<Link>, Arc<Notify>);

#[derive(Clone)]
pub struct NativePeer {
    inner: Arc<Inner>,
}

struct Inner {
    node: Mutex<Node>,
    links: Mutex<HashMap<PeerId, Attached>>,
    next_peer: AtomicU64,
    started: Instant,
    /// How each ended session ended.
    errors: Mutex<Vec<(PeerId, SyncError)>>,
    tamper: Mutex<Option<Tamper>>,
}

impl NativePeer {
    pub fn new(key_pair: KeyPair, replica: Replica) -> Self {
        let node = Node::new(key_pair, replica, Config::default());
        let inner = Arc::new(Inner {
            node: Mutex::new(node),
            links: Mutex::new(HashMap::new()),
            next_peer: AtomicU64::new(0),
            started: Instant::now(),
            errors: Mutex::new(Vec::new()),
            tamper: Mutex::new(None),
        });
        let peer = NativePeer { inner };
        peer.spawn_timers();
        peer
    }

    pub fn join(&self, topic: Topic) {
        self.node().join(topic);
    }

    /// Write an operation and announce it to the peers sharing its festival.
    pub fn publish(&self, operation: &Operation) -> Hash {
        let id = self.node().publish(operation).expect("valid operation").0;
        self.wake_all();
        id
    }

    /// Look at the node (its replica, peers, blocked keys).
    pub fn with_node<R>(&self, look: impl FnOnce(&Node) -> R) -> R {
        look(&self.node())
    }

    pub fn errors(&self) -> Vec<(PeerId, SyncError)> {
        self.inner.errors.lock().unwrap().clone()
    }

    /// Entries that arrived over the wire, duplicates included.
    pub fn entries_received(&self) -> u64 {
        self.node().entries_received()
    }

    pub fn set_tamper(&self, tamper: Tamper) {
        *self.inner.tamper.lock().unwrap() = Some(tamper);
    }

    /// Run the sync protocol over `link`; returns the session's peer id.
    pub fn attach(&self, link: Link) -> PeerId {
        let peer = self.inner.next_peer.fetch_add(1, Ordering::Relaxed);
        let link = Arc::new(link);
        let wake = Arc::new(Notify::new());
        let nonce: [u8; 32] = KeyPair::generate().public_key().as_bytes()[..]
            .try_into()
            .unwrap();
        self.node().connect(peer, nonce, b"", self.now());
        self.inner
            .links
            .lock()
            .unwrap()
            .insert(peer, (link.clone(), wake.clone()));
        tokio::spawn(self.clone().write(peer, link.clone(), wake.clone()));
        tokio::spawn(self.clone().read(peer, link));
        wake.notify_one();
        peer
    }

    /// Cut the connection abruptly, as a network failure would.
    pub async fn cut(&self, peer: PeerId) {
        let link = self
            .inner
            .links
            .lock()
            .unwrap()
            .get(&peer)
            .map(|(l, _)| l.clone());
        if let Some(link) = link {
            link.close().await;
        }
    }

    fn node(&self) -> std::sync::MutexGuard<'_, Node> {
        self.inner.node.lock().unwrap()
    }

    fn now(&self) -> u64 {
        self.inner.started.elapsed().as_millis() as u64
    }

    fn wake_all(&self) {
        for (_, wake) in self.inner.links.lock().unwrap().values() {
            wake.notify_one();
        }
    }

    /// Frames in, until the link closes or the session ends.
    async fn read(self, peer: PeerId, link: Arc<Link>) {
        while let Some(frame) = link.recv().await {
            let now = self.now();
            let result = self.node().receive(peer, &frame, now);
            // New entries are announced to every other peer, so every writer may have work.
            self.wake_all();
            if let Err(error) = result {
                self.inner.errors.lock().unwrap().push((peer, error));
                return; // The writer sends the Close frame and hangs up.
            }
        }
        self.node().disconnect(peer);
        let ours = self.inner.links.lock().unwrap().remove(&peer);
        // Our writer sees the session gone and ends; the others fetch what this peer was sending.
        ours.into_iter().for_each(|(_, wake)| wake.notify_one());
        self.wake_all();
    }

    /// Frames out, whenever the node has some; hangs up once the session is over.
    async fn write(self, peer: PeerId, link: Arc<Link>, wake: Arc<Notify>) {
        loop {
            wake.notified().await;
            loop {
                let frame = self.node().poll_transmit(peer);
                let Some(frame) = frame else { break };
                let tamper = self.inner.tamper.lock().unwrap().clone();
                let frame = match tamper {
                    Some(tamper) => tamper(frame),
                    None => frame,
                };
                if link.send(&frame).await.is_err() {
                    break;
                }
            }
            let ended = !self.node().has_session(peer);
            if ended || !self.inner.links.lock().unwrap().contains_key(&peer) {
                link.close().await;
                self.node().disconnect(peer);
                self.inner.links.lock().unwrap().remove(&peer);
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
                    peer.inner.errors.lock().unwrap().extend(expired);
                    peer.wake_all();
                }
            }
        });
    }
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
