//! Networking on the page's thread: WebRTC links (`link`), the overlay that decides whom to link
//! with (`overlay`), the signaling paths (`signaling`) and invite codes (`invite`). Frames go to
//! and come from the node in the Worker through [`Callbacks`].

mod invite;
pub mod link;
mod overlay;
mod signaling;

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Reflect, Uint8Array};
use p2panda_core::hash::Hash;
use p2panda_core::signal::{room_of, Rendezvous, SessionId};
use p2panda_core::small_map::{SmallMap, SmallSet};
use p2panda_core::sync::PeerId;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::node::shapes::{Fields, FromJs};
use overlay::{Limits, Overlay, State};
use signaling::{Broadcast, Server};

/// The JS functions the network reports to (`index.js` forwards them to the Worker).
pub(crate) struct Callbacks {
    link_opened: Function,
    frame: Function,
    link_closed: Function,
}

impl Callbacks {
    fn from_js(object: &JsValue) -> Result<Callbacks, JsValue> {
        let get = |name: &str| -> Result<Function, JsValue> {
            Reflect::get(object, &name.into())?
                .dyn_into::<Function>()
                .map_err(|_| JsValue::from_str(&format!("callbacks.{name} must be a function")))
        };
        Ok(Callbacks {
            link_opened: get("linkOpened")?,
            frame: get("frame")?,
            link_closed: get("linkClosed")?,
        })
    }

    pub fn link_opened(&self, peer: PeerId, binding: &[u8]) {
        let _ = self.link_opened.call2(
            &JsValue::NULL,
            &(peer as f64).into(),
            &Uint8Array::from(binding),
        );
    }

    pub fn frame(&self, peer: PeerId, frame: &[u8]) {
        let _ = self.frame.call2(
            &JsValue::NULL,
            &(peer as f64).into(),
            &Uint8Array::from(frame),
        );
    }

    pub fn link_closed(&self, peer: PeerId) {
        let _ = self
            .link_closed
            .call1(&JsValue::NULL, &(peer as f64).into());
    }
}

/// The options of `new Network(options, callbacks)` (index.js fills them from `openNode`'s).
struct NetworkOptions {
    rendezvous: Vec<String>,
    broadcast_channel: bool,
    /// STUN/TURN server URLs.
    ice_servers: Vec<String>,
    max_connections: usize,
    target_connections: usize,
    loopback_only: bool,
    /// Where peer numbers start: a network made after another one (back online) continues the
    /// numbering, so the node never sees one number for two links.
    first_peer: u64,
}

impl NetworkOptions {
    fn from_js(value: JsValue) -> Result<NetworkOptions, String> {
        let fields = Fields::of(value, "an options object")?;
        let count = |key: &str, default: u32| -> Result<usize, String> {
            Ok(fields.optional::<u32>(key)?.unwrap_or(default) as usize)
        };
        let servers: Vec<JsValue> = fields.optional("iceServers")?.unwrap_or_default();
        let mut ice_servers = Vec::new();
        for server in servers {
            // A URL, or `{ urls: URL | URL[] }` as in RTCConfiguration.
            let urls = match server.as_string() {
                Some(url) => vec![url],
                None => {
                    let urls: JsValue = Fields::of(server, "an ICE server")?.required("urls")?;
                    match urls.as_string() {
                        Some(url) => vec![url],
                        None => Vec::<String>::from_js(urls).map_err(|e| format!("urls: {e}"))?,
                    }
                }
            };
            ice_servers.extend(urls);
        }
        Ok(NetworkOptions {
            rendezvous: fields.optional("rendezvous")?.unwrap_or_default(),
            broadcast_channel: fields.optional("broadcastChannel")?.unwrap_or(true),
            ice_servers,
            max_connections: count("maxConnections", 8)?,
            target_connections: count("targetConnections", 4)?,
            loopback_only: fields.optional("loopbackOnly")?.unwrap_or(false),
            first_peer: fields.optional::<u32>("firstPeer")?.unwrap_or(1).into(),
        })
    }
}

/// The page's side of a node's networking. Made by `index.js`; apps use `Node` instead.
#[wasm_bindgen]
pub struct Network {
    overlay: Overlay,
}

#[wasm_bindgen]
impl Network {
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, callbacks: JsValue) -> Result<Network, JsValue> {
        let options = NetworkOptions::from_js(options)
            .map_err(|e| crate::error::invalid_argument(&format!("network options: {e}")))?;
        let callbacks = Callbacks::from_js(&callbacks)?;
        let ice_servers = options.ice_servers;
        let max = options.max_connections.max(1);
        let state = State {
            me: SessionId::random(),
            link_config: link::LinkConfig {
                ice_servers,
                loopback_only: options.loopback_only,
                ..Default::default()
            },
            limits: Limits {
                max,
                target: options.target_connections.clamp(1, max),
            },
            rooms: SmallSet::new(),
            links: SmallMap::new(),
            dialing: SmallMap::new(),
            servers: Vec::new(),
            broadcast: None,
            relay: Rendezvous::new(),
            announcing: true,
            next_peer: options.first_peer.max(1),
            callbacks,
            pending_invite: None,
            closed: false,
        };
        let overlay = Overlay(Rc::new(RefCell::new(state)));
        let weak = overlay.downgrade();
        let servers = options
            .rendezvous
            .into_iter()
            .enumerate()
            .map(|(index, url)| Server::start(url, index, weak.clone()))
            .collect();
        overlay.0.borrow_mut().servers = servers;
        if options.broadcast_channel {
            let me = overlay.me();
            overlay.0.borrow_mut().broadcast = Broadcast::start(me, weak);
        }
        Ok(Network { overlay })
    }

    /// The festivals (hex ids) the node replicates: it meets peers in their rooms.
    #[wasm_bindgen(js_name = setTopics)]
    pub fn set_topics(&self, topics: Vec<String>) -> Result<(), JsValue> {
        let rooms = topics
            .iter()
            .map(|hex| hex.parse::<Hash>().map(|topic| room_of(&topic)))
            .collect::<Result<SmallSet<_>, _>>()
            .map_err(|e| crate::error::invalid_argument(&format!("topics: {e}")))?;
        self.overlay.set_rooms(rooms);
        Ok(())
    }

    /// Frames from the node for a peer's link.
    pub fn send(&self, peer: f64, frames: Array) {
        let frames = frames
            .iter()
            .filter_map(|f| f.dyn_into::<Uint8Array>().ok())
            .map(|f| f.to_vec())
            .collect();
        self.overlay.send_frames(peer as PeerId, frames);
    }

    /// The node ended the session with `peer`: close the link once its last frames are out.
    pub fn hangup(&self, peer: f64) {
        self.overlay.hangup(peer as PeerId);
    }

    /// Open links: `[{ peer, via }]`.
    pub fn connections(&self) -> Array {
        self.overlay
            .0
            .borrow()
            .links
            .iter()
            .map(|(peer, c)| -> JsValue {
                crate::node::shapes::object(&[
                    ("peer", (*peer as f64).into()),
                    ("via", c.via.as_str().into()),
                ])
            })
            .collect()
    }

    /// The number the next link will get (for `firstPeer` of a network that follows this one).
    #[wasm_bindgen(js_name = nextPeer)]
    pub fn next_peer(&self) -> f64 {
        self.overlay.0.borrow().next_peer as f64
    }

    /// This node's random session id on signaling paths (hex), for diagnostics.
    #[wasm_bindgen(js_name = sessionId)]
    pub fn session_id(&self) -> String {
        self.overlay.me().to_string()
    }

    #[wasm_bindgen(js_name = createInvite)]
    pub async fn create_invite(&self) -> Result<String, JsValue> {
        invite::create(&self.overlay).await
    }

    #[wasm_bindgen(js_name = acceptInvite)]
    pub async fn accept_invite(&self, code: String) -> Result<String, JsValue> {
        invite::accept(&self.overlay, &code).await
    }

    #[wasm_bindgen(js_name = completeInvite)]
    pub async fn complete_invite(&self, answer: String) -> Result<(), JsValue> {
        invite::complete(&self.overlay, &answer).await
    }

    pub fn close(&self) {
        self.overlay.close();
    }
}
