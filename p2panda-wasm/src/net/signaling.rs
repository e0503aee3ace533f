//! Signaling paths besides the links themselves: WebSocket rendezvous servers and a
//! BroadcastChannel between tabs of one origin. Each carries `SignalMessage`s as binary
//! messages; what arrives goes to [`Overlay::handle_signal`].

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use js_sys::{ArrayBuffer, Uint8Array};
use p2panda_core::signal::{Room, SessionId, SignalMessage, SESSION_ID_LEN};
use p2panda_core::sync::PeerId;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, BroadcastChannel, MessageEvent, WebSocket};

use super::overlay::{Overlay, State};

/// Where a signaling message goes or came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Path {
    /// The rendezvous server with this index.
    Server(usize),
    Broadcast,
    /// A neighbour, relaying.
    Relay(PeerId),
}

/// Waits before reconnecting to a server, doubling from the first to the last.
const RECONNECT_MS: (i32, i32) = (1_000, 30_000);

/// A WebSocket rendezvous server, reconnected with backoff while the node runs.
pub struct Server {
    inner: Rc<ServerInner>,
}

struct ServerInner {
    url: String,
    index: usize,
    overlay: Weak<RefCell<State>>,
    socket: RefCell<Option<WebSocket>>,
    backoff: Cell<i32>,
    closed: Cell<bool>,
}

impl Server {
    pub fn start(url: String, index: usize, overlay: Weak<RefCell<State>>) -> Server {
        let inner = Rc::new(ServerInner {
            url,
            index,
            overlay,
            socket: RefCell::new(None),
            backoff: Cell::new(RECONNECT_MS.0),
            closed: Cell::new(false),
        });
        ServerInner::connect(&inner);
        Server { inner }
    }

    pub fn send(&self, bytes: &[u8]) {
        if let Some(socket) = self.inner.socket.borrow().as_ref() {
            if socket.ready_state() == WebSocket::OPEN {
                let _ = socket.send_with_u8_array(bytes);
            }
        }
    }

    pub fn close(&self) {
        self.inner.closed.set(true);
        if let Some(socket) = self.inner.socket.borrow_mut().take() {
            let _ = socket.close();
        }
    }
}

impl ServerInner {
    fn connect(this: &Rc<Self>) {
        if this.closed.get() {
            return;
        }
        let socket = match WebSocket::new(&this.url) {
            Ok(socket) => socket,
            Err(_) => {
                // A malformed URL never gets better.
                web_sys::console::warn_1(
                    &format!(
                        "p2panda: rendezvous URL {} is not a WebSocket URL",
                        this.url
                    )
                    .into(),
                );
                return;
            }
        };
        socket.set_binary_type(BinaryType::Arraybuffer);

        let weak = Rc::downgrade(this);
        let on_open = Closure::<dyn FnMut()>::new(move || {
            let Some(this) = weak.upgrade() else { return };
            this.backoff.set(RECONNECT_MS.0);
            if let Some(overlay) = Overlay::upgrade(&this.overlay) {
                overlay.server_ready(this.index);
            }
        });
        let weak = Rc::downgrade(this);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(this) = weak.upgrade() else { return };
            let Ok(buffer) = event.data().dyn_into::<ArrayBuffer>() else {
                return;
            };
            let bytes = Uint8Array::new(&buffer).to_vec();
            if let (Ok(message), Some(overlay)) = (
                SignalMessage::decode(&bytes),
                Overlay::upgrade(&this.overlay),
            ) {
                overlay.handle_signal(Path::Server(this.index), message);
            }
        });
        let weak = Rc::downgrade(this);
        let on_close = Closure::<dyn FnMut()>::new(move || {
            let Some(this) = weak.upgrade() else { return };
            this.socket.borrow_mut().take();
            let wait = this.backoff.get();
            this.backoff.set((wait * 2).min(RECONNECT_MS.1));
            let weak = Rc::downgrade(&this);
            wasm_bindgen_futures::spawn_local(async move {
                crate::time::sleep(wait).await;
                if let Some(this) = weak.upgrade() {
                    ServerInner::connect(&this);
                }
            });
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        // One set per socket; they end with it (the socket is dropped on close).
        on_open.forget();
        on_message.forget();
        on_close.forget();
        *this.socket.borrow_mut() = Some(socket);
    }
}

/// The BroadcastChannel shared by this origin's tabs. There is no server on it, so each node
/// answers a `Join` in its rooms with a `Peers` naming itself, addressed to the joiner.
///
/// Envelope: 16 bytes addressee (zeros: everyone), 16 bytes sender, then the message.
pub struct Broadcast {
    channel: BroadcastChannel,
    me: SessionId,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
}

const CHANNEL_NAME: &str = "p2panda-signaling";

impl Broadcast {
    pub fn start(me: SessionId, overlay: Weak<RefCell<State>>) -> Option<Broadcast> {
        let channel = BroadcastChannel::new(CHANNEL_NAME).ok()?;
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Ok(bytes) = event.data().dyn_into::<Uint8Array>() else {
                return;
            };
            if let Some(overlay) = Overlay::upgrade(&overlay) {
                receive(&overlay, &bytes.to_vec());
            }
        });
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        Some(Broadcast {
            channel,
            me,
            _on_message: on_message,
        })
    }

    pub fn send(&self, to: Option<SessionId>, bytes: &[u8]) {
        let mut envelope = Vec::with_capacity(2 * SESSION_ID_LEN + bytes.len());
        match to {
            Some(to) => envelope.extend_from_slice(to.as_bytes()),
            None => envelope.extend_from_slice(&[0; SESSION_ID_LEN]),
        }
        envelope.extend_from_slice(self.me.as_bytes());
        envelope.extend_from_slice(bytes);
        let _ = self
            .channel
            .post_message(&Uint8Array::from(envelope.as_slice()));
    }

    pub fn close(self) {
        self.channel.set_onmessage(None);
        self.channel.close();
    }
}

fn receive(overlay: &Overlay, envelope: &[u8]) {
    if envelope.len() < 2 * SESSION_ID_LEN {
        return;
    }
    let (to, rest) = envelope.split_at(SESSION_ID_LEN);
    let me = overlay.me();
    if to != [0; SESSION_ID_LEN] && to != me.as_bytes() {
        return;
    }
    let Ok(message) = SignalMessage::decode(&rest[SESSION_ID_LEN..]) else {
        return;
    };
    match message {
        SignalMessage::Join { room, peer } => answer_join(overlay, room, peer),
        SignalMessage::Leave { .. } => {}
        other => overlay.handle_signal(Path::Broadcast, other),
    }
}

/// Someone joined a room on the channel: if this node is announcing in it, name itself.
fn answer_join(overlay: &Overlay, room: Room, joiner: SessionId) {
    let state = overlay.0.borrow();
    if !state.announcing || !state.rooms.contains(&room) || joiner == state.me {
        return;
    }
    let reply = SignalMessage::Peers {
        room,
        peers: vec![state.me],
    };
    if let (Some(broadcast), Ok(bytes)) = (&state.broadcast, reply.encode()) {
        broadcast.send(Some(joiner), &bytes);
    }
}
