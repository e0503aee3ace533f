//! Meeting peers and opening links, as the browser's overlay does (`p2panda-wasm`'s
//! `net/overlay.rs`), so the two interoperate:
//!
//! - The node joins the room of each festival it replicates on the rendezvous; each `Peers`
//!   reply lists who is there, and the newcomer offers to each. Offers addressed to this node in
//!   any of its rooms are answered.
//! - `Signal.data` is one kind byte (0 offer, 1 answer) and the complete SDP (non-trickle).
//! - Both offered at once: the offer from the smaller session id wins.
//! - Every link is also a signaling path. Over each new link the node sends `Join` for each of
//!   its rooms, so the neighbour's relay lists its own neighbours; and it runs a [`Rendezvous`]
//!   for its neighbours, so they can meet each other through it.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use p2panda_core::signal::{Rendezvous, Room, SessionId, SignalError, SignalMessage};
use p2panda_core::sync::PeerId;
use p2panda_node::native_peer::NativePeer;
use p2panda_node::webrtc_link::{self, Link, LinkError};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use crate::output;

/// Offer or answer, as the first byte of a `Signal`'s data.
const OFFER: u8 = 0;
const ANSWER: u8 = 1;
/// How long a dial may wait for its answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(20);
/// Links (open and being dialed) this node holds at most.
const MAX_LINKS: usize = 32;

/// Where a signaling message goes or came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    Server,
    Relay(PeerId),
}

impl Path {
    fn name(self) -> &'static str {
        match self {
            Path::Server => "rendezvous",
            Path::Relay(_) => "relay",
        }
    }
}

/// Why a dial or an answer did not give a link.
#[derive(Debug, thiserror::Error)]
pub enum DialError {
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error("signaling message refused: {0}")]
    Signal(#[from] SignalError),
    #[error("no answer within {ANSWER_TIMEOUT:?}")]
    Timeout,
    #[error("given up: the remote end's own offer won")]
    Abandoned,
    #[error("the signaling path is gone")]
    PathGone,
}

/// A finished dial or answer, reported to the main loop.
pub struct Dialed {
    remote: SessionId,
    attempt: u64,
    path: Path,
    role: &'static str,
    result: Result<Link, DialError>,
}

/// Sends signaling messages on paths; cheap to clone into dial tasks.
#[derive(Clone)]
struct Signaler {
    server: Option<mpsc::Sender<Vec<u8>>>,
    peer: NativePeer,
}

impl Signaler {
    async fn send(&self, path: Path, message: &SignalMessage) -> Result<(), DialError> {
        let bytes = message.encode()?;
        match path {
            Path::Server => {
                let server = self.server.as_ref().ok_or(DialError::PathGone)?;
                server.send(bytes).await.map_err(|_| DialError::PathGone)
            }
            Path::Relay(peer) => Ok(self.peer.send_signal(peer, &bytes).await?),
        }
    }
}

struct Dialing {
    attempt: u64,
    /// Where the answer goes; `None` once the remote end's offer won.
    answer: Option<oneshot::Sender<String>>,
}

/// The node's signaling state. Lives in the main loop; dials run as tasks and report back.
pub struct Overlay {
    me: SessionId,
    rooms: BTreeSet<Room>,
    peer: NativePeer,
    signaler: Signaler,
    dialing: HashMap<SessionId, Dialing>,
    next_attempt: u64,
    /// Open links and the remote session of each.
    links: HashMap<PeerId, SessionId>,
    relay: Rendezvous<PeerId>,
    results: mpsc::Sender<Dialed>,
}

impl Overlay {
    /// An overlay in no room yet; `server` carries messages to the rendezvous.
    pub fn new(
        me: SessionId,
        peer: NativePeer,
        server: mpsc::Sender<Vec<u8>>,
        results: mpsc::Sender<Dialed>,
    ) -> Self {
        Overlay {
            me,
            rooms: BTreeSet::new(),
            signaler: Signaler {
                server: Some(server),
                peer: peer.clone(),
            },
            peer,
            dialing: HashMap::new(),
            next_attempt: 0,
            links: HashMap::new(),
            relay: Rendezvous::new(),
            results,
        }
    }

    /// Open links.
    pub fn link_count(&self) -> usize {
        self.links.len()
    }

    pub fn server_closed(&mut self) {
        self.signaler.server = None;
    }

    /// Enter `room`: on the rendezvous and at every neighbour's relay. Returns whether it is new.
    pub fn join_room(&mut self, room: Room) -> bool {
        if !self.rooms.insert(room) {
            return false;
        }
        let join = SignalMessage::Join {
            room,
            peer: self.me,
        };
        let mut paths = vec![Path::Server];
        paths.extend(self.links.keys().map(|peer| Path::Relay(*peer)));
        for path in paths {
            self.send(path, join.clone());
        }
        true
    }

    /// Leave `room` on the rendezvous and at every neighbour's relay.
    pub fn leave_room(&mut self, room: Room) {
        if !self.rooms.remove(&room) {
            return;
        }
        let mut paths = vec![Path::Server];
        paths.extend(self.links.keys().map(|peer| Path::Relay(*peer)));
        for path in paths {
            self.send(path, SignalMessage::Leave { room });
        }
    }

    /// Sends `message` on `path` from a task of its own (the main loop never waits on a path).
    fn send(&self, path: Path, message: SignalMessage) {
        let signaler = self.signaler.clone();
        tokio::spawn(async move {
            let _ = signaler.send(path, &message).await;
        });
    }

    fn knows(&self, remote: &SessionId) -> bool {
        self.dialing.contains_key(remote) || self.links.values().any(|r| r == remote)
    }

    fn capacity_left(&self) -> usize {
        MAX_LINKS.saturating_sub(self.links.len() + self.dialing.len())
    }

    /// A message from the rendezvous.
    pub fn server_message(&mut self, bytes: &[u8]) {
        match SignalMessage::decode(bytes) {
            Ok(message) => self.handle_signal(Path::Server, message),
            Err(error) => output::event(
                "signal-error",
                json!({ "via": "rendezvous", "code": error.as_str() }),
            ),
        }
    }

    /// A message for this node as a client, from the rendezvous or a neighbour's relay.
    fn handle_signal(&mut self, path: Path, message: SignalMessage) {
        match message {
            SignalMessage::Peers { room, peers } if self.rooms.contains(&room) => {
                for remote in peers {
                    if remote != self.me && !self.knows(&remote) && self.capacity_left() > 0 {
                        self.dial(path, room, remote);
                    }
                }
            }
            SignalMessage::Signal {
                room,
                to,
                from,
                data,
            } if to == self.me && self.rooms.contains(&room) => match data.split_first() {
                Some((&OFFER, sdp)) => {
                    let sdp = String::from_utf8_lossy(sdp).into_owned();
                    self.answer(path, room, from, sdp);
                }
                Some((&ANSWER, sdp)) => {
                    let waiting = self.dialing.get_mut(&from).and_then(|d| d.answer.take());
                    if let Some(waiting) = waiting {
                        let _ = waiting.send(String::from_utf8_lossy(sdp).into_owned());
                    }
                }
                _ => {}
            },
            SignalMessage::Error { code } => output::event(
                "signal-error",
                json!({ "via": path.name(), "code": code.as_str() }),
            ),
            // Other rooms, or addressed to someone else: not for this node.
            _ => {}
        }
    }

    fn start_attempt(&mut self, remote: SessionId, answer: Option<oneshot::Sender<String>>) -> u64 {
        let attempt = self.next_attempt;
        self.next_attempt += 1;
        self.dialing.insert(remote, Dialing { attempt, answer });
        attempt
    }

    /// Offer a link to `remote`, met in `room`, through `path`.
    fn dial(&mut self, path: Path, room: Room, remote: SessionId) {
        let (sender, receiver) = oneshot::channel();
        let attempt = self.start_attempt(remote, Some(sender));
        let (signaler, results) = (self.signaler.clone(), self.results.clone());
        let me = self.me;
        tokio::spawn(async move {
            let result = async {
                let (pending, sdp) = webrtc_link::offer().await?;
                let mut data = vec![OFFER];
                data.extend_from_slice(sdp.as_bytes());
                let offer = SignalMessage::Signal {
                    room,
                    to: remote,
                    from: me,
                    data,
                };
                signaler.send(path, &offer).await?;
                let answer = match tokio::time::timeout(ANSWER_TIMEOUT, receiver).await {
                    Ok(Ok(answer)) => answer,
                    Ok(Err(_)) => return Err(DialError::Abandoned),
                    Err(_) => return Err(DialError::Timeout),
                };
                Ok(pending.accept(&answer).await?)
            }
            .await;
            let _ = results
                .send(Dialed {
                    remote,
                    attempt,
                    path,
                    role: "offer",
                    result,
                })
                .await;
        });
    }

    /// Answer an offer from `remote` in `room` that came through `path`.
    fn answer(&mut self, path: Path, room: Room, remote: SessionId, offer: String) {
        if self.links.values().any(|r| *r == remote) {
            return;
        }
        let glare = self.dialing.contains_key(&remote);
        if glare && self.me < remote {
            return; // Both offered; ours wins and theirs is dropped.
        }
        if !glare && self.capacity_left() == 0 {
            return;
        }
        // Theirs wins: our own dial to them gives up (dropping its answer sender ends it).
        let attempt = self.start_attempt(remote, None);
        let (signaler, results) = (self.signaler.clone(), self.results.clone());
        let me = self.me;
        tokio::spawn(async move {
            let result = async {
                let (pending, sdp) = webrtc_link::answer(&offer).await?;
                let mut data = vec![ANSWER];
                data.extend_from_slice(sdp.as_bytes());
                let answer = SignalMessage::Signal {
                    room,
                    to: remote,
                    from: me,
                    data,
                };
                signaler.send(path, &answer).await?;
                Ok(pending.open().await?)
            }
            .await;
            let _ = results
                .send(Dialed {
                    remote,
                    attempt,
                    path,
                    role: "answer",
                    result,
                })
                .await;
        });
    }

    /// A dial or answer finished: attach the link, or report why not.
    pub fn dialed(&mut self, dialed: Dialed) {
        let Dialed {
            remote,
            attempt,
            path,
            role,
            result,
        } = dialed;
        if self
            .dialing
            .get(&remote)
            .is_some_and(|d| d.attempt == attempt)
        {
            self.dialing.remove(&remote);
        }
        let link = match result {
            Ok(link) => link,
            Err(DialError::Abandoned) => return,
            Err(error) => {
                let fields =
                    json!({ "role": role, "via": path.name(), "error": error.to_string() });
                return output::event("dial-failed", fields);
            }
        };
        if self.links.values().any(|r| *r == remote) {
            return; // A second link to the same node (a lost race): dropping it closes it.
        }
        let peer = self.peer.attach(link);
        self.links.insert(peer, remote);
        output::event(
            "link",
            json!({
                "peer": peer,
                "role": role,
                "via": path.name(),
                "session": hex::encode(remote.as_bytes()),
            }),
        );
        // Ask the neighbour's relay who else is in each room.
        for room in &self.rooms {
            let join = SignalMessage::Join {
                room: *room,
                peer: self.me,
            };
            self.send(Path::Relay(peer), join);
        }
    }

    /// A link closed.
    pub fn ended(&mut self, peer: PeerId) {
        self.links.remove(&peer);
        self.relay.disconnect(peer);
    }

    /// A signaling message from a neighbour: for this node as a client (replies to its joins,
    /// signals addressed to it), or for the rendezvous it runs for its neighbours.
    pub fn link_message(&mut self, peer: PeerId, bytes: &[u8]) {
        let Ok(message) = SignalMessage::decode(bytes) else {
            // As broken as garbage frames would be.
            return self.hang_up(peer);
        };
        let for_me = match &message {
            SignalMessage::Peers { .. } | SignalMessage::Error { .. } => true,
            SignalMessage::Signal { to, .. } => *to == self.me,
            SignalMessage::Join { .. } | SignalMessage::Leave { .. } => false,
        };
        if for_me {
            return self.handle_signal(Path::Relay(peer), message);
        }
        let handled = self.relay.handle(peer, bytes);
        let abuse = handled.is_abuse();
        for (to, bytes) in handled.out {
            let node = self.peer.clone();
            tokio::spawn(async move {
                let _ = node.send_signal(to, &bytes).await;
            });
        }
        if abuse {
            self.hang_up(peer);
        }
    }

    fn hang_up(&self, peer: PeerId) {
        let node = self.peer.clone();
        tokio::spawn(async move { node.cut(peer).await });
    }
}
