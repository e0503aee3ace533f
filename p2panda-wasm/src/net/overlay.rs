//! The overlay: which peers this node connects to, and how it meets them.
//!
//! Peers meet in rooms (one per replicated festival, `signal::room_of`) on signaling paths: the
//! WebSocket rendezvous servers, a BroadcastChannel between tabs of this origin, and every open
//! link, since each node also runs a small rendezvous for its neighbours. So after the first
//! connection the servers are no longer needed: a newcomer asks its neighbours who else is in
//! its rooms and sends its offers through them.
//!
//! The newcomer offers; the node listed answers. When two nodes offer to each other at once, the
//! offer from the smaller session id wins. Once `target` links are open the node leaves the
//! rooms on the servers and the BroadcastChannel (it stops announcing itself), and it never
//! holds more than `max` links.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use futures::channel::oneshot;
use p2panda_core::signal::{Rendezvous, Room, SessionId, SignalMessage};
use p2panda_core::small_map::{SmallMap, SmallSet};
use p2panda_core::sync::PeerId;

use super::link::{self, Link, LinkConfig};
use super::signaling::{Broadcast, Path, Server};
use super::Callbacks;

/// How long a dial may take, from offer to open channel.
const DIAL_TIMEOUT_MS: i32 = 20_000;
/// After a failed dial, how long until the path is asked for the room's peers again.
const REDIAL_MS: i32 = 3_000;

/// A hang-up waits up to this many 20 ms checks for the link's queue to empty.
const HANGUP_FLUSH_CHECKS: u32 = 100;

/// Offer or answer, as the opaque `data` of a `Signal`.
const OFFER: u8 = 0;
const ANSWER: u8 = 1;

#[derive(Debug, Clone)]
pub struct Limits {
    /// Links this node keeps at most.
    pub max: usize,
    /// Links after which the node stops announcing itself.
    pub target: usize,
}

/// How a link was made, for the app's peer list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Rendezvous,
    Broadcast,
    Relay,
    Invite,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Rendezvous => "rendezvous",
            Via::Broadcast => "broadcast",
            Via::Relay => "relay",
            Via::Invite => "invite",
        }
    }

    fn of(path: &Path) -> Via {
        match path {
            Path::Server(_) => Via::Rendezvous,
            Path::Broadcast => Via::Broadcast,
            Path::Relay(_) => Via::Relay,
        }
    }
}

pub(crate) struct Connected {
    pub link: Link,
    pub remote: Option<SessionId>,
    pub via: Via,
}

pub(crate) struct State {
    pub me: SessionId,
    pub link_config: LinkConfig,
    pub limits: Limits,
    pub rooms: SmallSet<Room>,
    pub links: SmallMap<PeerId, Connected>,
    /// Dials in progress, by remote session; an offer we sent waits for its answer here.
    pub dialing: SmallMap<SessionId, Option<oneshot::Sender<String>>>,
    pub servers: Vec<Server>,
    pub broadcast: Option<Broadcast>,
    /// The rendezvous this node runs for its neighbours.
    pub relay: Rendezvous<PeerId>,
    pub announcing: bool,
    pub next_peer: PeerId,
    pub callbacks: Callbacks,
    /// An invite code made by this node, waiting for its answer code.
    pub pending_invite: Option<link::PendingLink>,
    pub closed: bool,
}

/// Shared handle on the overlay; signaling paths hold a [`Weak`] one.
#[derive(Clone)]
pub struct Overlay(pub(crate) Rc<RefCell<State>>);

impl Overlay {
    pub fn downgrade(&self) -> Weak<RefCell<State>> {
        Rc::downgrade(&self.0)
    }

    pub fn upgrade(weak: &Weak<RefCell<State>>) -> Option<Overlay> {
        weak.upgrade().map(Overlay)
    }

    pub fn me(&self) -> SessionId {
        self.0.borrow().me
    }

    fn capacity_left(&self) -> usize {
        let state = self.0.borrow();
        state
            .limits
            .max
            .saturating_sub(state.links.len() + state.dialing.len())
    }

    fn knows(&self, remote: &SessionId) -> bool {
        let state = self.0.borrow();
        state.dialing.contains_key(remote)
            || state
                .links
                .values()
                .any(|c| c.remote.as_ref() == Some(remote))
    }

    // ---- rooms and announcing ----

    /// The festivals to meet peers for changed.
    pub fn set_rooms(&self, rooms: SmallSet<Room>) {
        let (added, removed, announcing) = {
            let mut state = self.0.borrow_mut();
            let added: Vec<Room> = rooms.difference(&state.rooms).copied().collect();
            let removed: Vec<Room> = state.rooms.difference(&rooms).copied().collect();
            state.rooms = rooms;
            (added, removed, state.announcing)
        };
        let me = self.me();
        for room in &added {
            let join = SignalMessage::Join {
                room: *room,
                peer: me,
            };
            self.to_neighbours(&join);
            if announcing {
                self.to_announce_paths(&join);
            }
        }
        for room in removed {
            let leave = SignalMessage::Leave { room };
            self.to_neighbours(&leave);
            self.to_announce_paths(&leave);
        }
    }

    /// Announce in the rooms (on servers and the BroadcastChannel) while below target; leave
    /// them once there.
    pub fn update_announcing(&self) {
        let (want, changed, rooms) = {
            let mut state = self.0.borrow_mut();
            let want = !state.closed && state.links.len() < state.limits.target;
            let changed = want != state.announcing;
            state.announcing = want;
            (want, changed, state.rooms.clone())
        };
        if !changed {
            return;
        }
        let me = self.me();
        for room in rooms {
            if want {
                self.to_announce_paths(&SignalMessage::Join { room, peer: me });
            } else {
                self.to_announce_paths(&SignalMessage::Leave { room });
            }
        }
    }

    /// A server (re)connected: join its rooms if announcing.
    pub fn server_ready(&self, index: usize) {
        let (announcing, rooms, me) = {
            let state = self.0.borrow();
            (state.announcing, state.rooms.clone(), state.me)
        };
        if announcing {
            for room in rooms {
                self.send(
                    &Path::Server(index),
                    &SignalMessage::Join { room, peer: me },
                );
            }
        }
    }

    fn to_announce_paths(&self, message: &SignalMessage) {
        let servers = self.0.borrow().servers.len();
        for index in 0..servers {
            self.send(&Path::Server(index), message);
        }
        self.send(&Path::Broadcast, message);
    }

    fn to_neighbours(&self, message: &SignalMessage) {
        let peers: Vec<PeerId> = self.0.borrow().links.keys().copied().collect();
        for peer in peers {
            self.send(&Path::Relay(peer), message);
        }
    }

    /// Send a signaling message on a path; failures are ignored (the path is gone or down, and
    /// dials time out).
    pub fn send(&self, path: &Path, message: &SignalMessage) {
        let Ok(bytes) = message.encode() else {
            return;
        };
        let state = self.0.borrow();
        match path {
            Path::Server(index) => {
                if let Some(server) = state.servers.get(*index) {
                    server.send(&bytes);
                }
            }
            Path::Broadcast => {
                if let Some(broadcast) = &state.broadcast {
                    broadcast.send(None, &bytes);
                }
            }
            Path::Relay(peer) => {
                if let Some(connected) = state.links.get(peer) {
                    let _ = connected.link.send_signal(&bytes);
                }
            }
        }
    }

    // ---- signaling, as a client ----

    /// A message for this node arrived on `path` (a server, the BroadcastChannel or a relay).
    pub fn handle_signal(&self, path: Path, message: SignalMessage) {
        let me = self.me();
        match message {
            SignalMessage::Peers { room, peers } => {
                for remote in peers {
                    if remote != me
                        && !self.knows(&remote)
                        && self.capacity_left() > 0
                        && self.0.borrow().rooms.contains(&room)
                    {
                        self.dial(path.clone(), room, remote);
                    }
                }
            }
            SignalMessage::Signal {
                room,
                to,
                from,
                data,
            } if to == me => match data.split_first() {
                Some((&OFFER, sdp)) => {
                    let sdp = String::from_utf8_lossy(sdp).into_owned();
                    self.answer(path, room, from, sdp);
                }
                Some((&ANSWER, sdp)) => {
                    let sdp = String::from_utf8_lossy(sdp).into_owned();
                    let waiting = self
                        .0
                        .borrow_mut()
                        .dialing
                        .get_mut(&from)
                        .and_then(Option::take);
                    if let Some(waiting) = waiting {
                        let _ = waiting.send(sdp);
                    }
                }
                _ => {}
            },
            // Refusals (a peer left meanwhile, a limit) need no action: dials time out.
            _ => {}
        }
    }

    /// Offer a link to `remote` through `path`.
    fn dial(&self, path: Path, room: Room, remote: SessionId) {
        let (sender, receiver) = oneshot::channel();
        self.0.borrow_mut().dialing.insert(remote, Some(sender));
        let overlay = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let result = overlay.run_dial(&path, room, remote, receiver).await;
            overlay.0.borrow_mut().dialing.remove(&remote);
            match result {
                Ok(link) => overlay.register(link, Some(remote), Via::of(&path)),
                Err(error) => {
                    overlay.report_dial_failure(&error);
                    overlay.ask_again_later(path, room);
                }
            }
        });
    }

    /// A dial failed (a loaded machine can miss a handshake): ask `path` for the room's peers
    /// again a little later, so a peer still there gets another try. Without this, two peers
    /// whose only dial failed would never meet until someone else joined.
    fn ask_again_later(&self, path: Path, room: Room) {
        let overlay = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            crate::time::sleep(REDIAL_MS).await;
            let ask = {
                let state = overlay.0.borrow();
                let announced = matches!(path, Path::Relay(_)) || state.announcing;
                !state.closed && announced && state.rooms.contains(&room)
            };
            if ask && overlay.capacity_left() > 0 {
                let join = SignalMessage::Join {
                    room,
                    peer: overlay.me(),
                };
                overlay.send(&path, &join);
            }
        });
    }

    async fn run_dial(
        &self,
        path: &Path,
        room: Room,
        remote: SessionId,
        answer: oneshot::Receiver<String>,
    ) -> Result<Link, link::LinkError> {
        let config = self.0.borrow().link_config.clone();
        let pending = link::offer(&config).await?;
        let mut data = vec![OFFER];
        data.extend_from_slice(pending.local_sdp().as_bytes());
        let me = self.me();
        self.send(
            path,
            &SignalMessage::Signal {
                room,
                to: remote,
                from: me,
                data,
            },
        );
        let answer = with_timeout(answer, DIAL_TIMEOUT_MS)
            .await
            .ok_or(link::LinkError::Timeout)?;
        pending.accept_answer(&answer).await
    }

    /// Answer an offer from `remote` that came through `path`.
    fn answer(&self, path: Path, room: Room, remote: SessionId, offer: String) {
        if self
            .0
            .borrow()
            .links
            .values()
            .any(|c| c.remote == Some(remote))
        {
            return;
        }
        let glare = self.0.borrow().dialing.contains_key(&remote);
        if glare && self.me() < remote {
            // Both offered; ours wins and theirs is dropped.
            return;
        }
        if !glare && self.capacity_left() == 0 {
            return;
        }
        // Theirs wins: our own dial to them gives up (its answer never comes).
        self.0.borrow_mut().dialing.insert(remote, None);
        let overlay = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let config = overlay.0.borrow().link_config.clone();
            let result = async {
                let (pending, answer_sdp) = link::answer(&config, &offer).await?;
                let mut data = vec![ANSWER];
                data.extend_from_slice(answer_sdp.as_bytes());
                let me = overlay.me();
                overlay.send(
                    &path,
                    &SignalMessage::Signal {
                        room,
                        to: remote,
                        from: me,
                        data,
                    },
                );
                pending.open().await
            }
            .await;
            overlay.0.borrow_mut().dialing.remove(&remote);
            match result {
                Ok(link) => overlay.register(link, Some(remote), Via::of(&path)),
                Err(error) => overlay.report_dial_failure(&error),
            }
        });
    }

    fn report_dial_failure(&self, error: &link::LinkError) {
        // Expected now and then (a peer left, a glare loser): not the app's concern unless
        // nothing connects at all, which the peer list shows.
        web_sys::console::debug_1(&format!("p2panda: a connection attempt failed: {error}").into());
    }

    // ---- links ----

    /// A link is open: hand it to the node, and meet this neighbour's neighbours.
    pub fn register(&self, link: Link, remote: Option<SessionId>, via: Via) {
        if self.0.borrow().closed {
            link.close();
            return;
        }
        let peer = {
            let mut state = self.0.borrow_mut();
            let peer = state.next_peer;
            state.next_peer += 1;
            peer
        };
        let weak = self.downgrade();
        link.on_frame({
            let weak = weak.clone();
            move |frame| {
                if let Some(overlay) = Overlay::upgrade(&weak) {
                    overlay.0.borrow().callbacks.frame(peer, &frame);
                }
            }
        });
        link.on_signal({
            let weak = weak.clone();
            move |bytes| {
                if let Some(overlay) = Overlay::upgrade(&weak) {
                    overlay.link_signal(peer, &bytes);
                }
            }
        });
        link.on_close(move |_| {
            if let Some(overlay) = Overlay::upgrade(&weak) {
                overlay.unregister(peer);
            }
        });
        let binding = link.binding();
        self.0
            .borrow_mut()
            .links
            .insert(peer, Connected { link, remote, via });
        self.0.borrow().callbacks.link_opened(peer, &binding);
        let (rooms, me) = {
            let state = self.0.borrow();
            (state.rooms.clone(), state.me)
        };
        for room in rooms {
            self.send(&Path::Relay(peer), &SignalMessage::Join { room, peer: me });
        }
        self.update_announcing();
    }

    fn unregister(&self, peer: PeerId) {
        let removed = {
            let mut state = self.0.borrow_mut();
            state.relay.disconnect(peer);
            state.links.remove(&peer)
        };
        if removed.is_some() {
            self.0.borrow().callbacks.link_closed(peer);
            self.update_announcing();
        }
    }

    /// A signaling message from a neighbour: for this node (answers to its own joins, signals
    /// addressed to it) or for the rendezvous it runs for its neighbours.
    fn link_signal(&self, peer: PeerId, bytes: &[u8]) {
        let Ok(message) = SignalMessage::decode(bytes) else {
            // A neighbour that sends garbage here is as broken as one that sends it as frames.
            self.hangup(peer);
            return;
        };
        if let SignalMessage::Join { peer: remote, .. } = &message {
            // A neighbour joins under its session id: now it is known even if the link was
            // made by invite, so it is not dialled a second time through someone else.
            if let Some(connected) = self.0.borrow_mut().links.get_mut(&peer) {
                connected.remote.get_or_insert(*remote);
            }
        }
        let me = self.me();
        let for_me = match &message {
            SignalMessage::Peers { .. } | SignalMessage::Error { .. } => true,
            SignalMessage::Signal { to, .. } => *to == me,
            SignalMessage::Join { .. } | SignalMessage::Leave { .. } => false,
        };
        if for_me {
            self.handle_signal(Path::Relay(peer), message);
            return;
        }
        let handled = self.0.borrow_mut().relay.handle(peer, bytes);
        let abuse = handled.is_abuse();
        for (to, bytes) in handled.out {
            if let Some(connected) = self.0.borrow().links.get(&to) {
                let _ = connected.link.send_signal(&bytes);
            }
        }
        if abuse {
            self.hangup(peer);
        }
    }

    /// Close a link once what is queued for it has gone out (its last frame is usually the
    /// session's `Close`).
    pub fn hangup(&self, peer: PeerId) {
        let link = self.0.borrow().links.get(&peer).map(|c| c.link.clone());
        if let Some(link) = link {
            wasm_bindgen_futures::spawn_local(async move {
                for _ in 0..HANGUP_FLUSH_CHECKS {
                    if link.queued_bytes() == 0 && link.buffered_amount() == 0 {
                        break;
                    }
                    crate::time::sleep(20).await;
                }
                link.close();
            });
        }
    }

    pub fn send_frames(&self, peer: PeerId, frames: Vec<Vec<u8>>) {
        let state = self.0.borrow();
        let Some(connected) = state.links.get(&peer) else {
            return;
        };
        for frame in frames {
            if connected.link.send_frame(&frame).is_err() {
                // The link is closing; `on_close` tells the node.
                return;
            }
        }
    }

    pub fn close(&self) {
        let links: Vec<Link> = {
            let mut state = self.0.borrow_mut();
            state.closed = true;
            state.servers.iter().for_each(Server::close);
            if let Some(broadcast) = state.broadcast.take() {
                broadcast.close();
            }
            std::mem::take(&mut state.links)
                .into_values()
                .map(|c| c.link)
                .collect()
        };
        links.iter().for_each(Link::close);
    }
}

/// `receiver`'s value, or `None` after `ms` or if the sender is dropped.
pub(crate) async fn with_timeout<T>(receiver: oneshot::Receiver<T>, ms: i32) -> Option<T> {
    use futures::future::{select, Either};
    match select(receiver, Box::pin(crate::time::sleep(ms))).await {
        Either::Left((Ok(value), _)) => Some(value),
        _ => None,
    }
}
