//! p2panda-node: a native p2panda peer, as a library and as the `p2panda-node` program.
//!
//! - [`native_peer`]: a sync node of p2panda-core driven over WebRTC links, reporting what
//!   happens, and recording what it stores in a [`storage::Journal`].
//! - [`webrtc_link`]: data-channel links (the `webrtc` crate) pinned to loopback, speaking the
//!   browser link's wire protocol.
//! - [`storage`]: the data directory: lock, key, the append-only journal with group commit and
//!   `fdatasync`, and the restore that cuts off a damaged tail.
//! - [`web`]: the static app files and the rendezvous WebSocket on one HTTP port.
//!
//! The program (`src/bin/p2panda-node`) puts them together; see its documentation for the
//! command line and the JSON-lines protocol on stdin and stdout.

pub mod native_peer;
pub mod storage;
pub mod web;
pub mod webrtc_link;
