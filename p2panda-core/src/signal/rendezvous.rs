//! The rendezvous's room logic, sans-IO: bytes from a connection in, messages for connections out.
//! It holds current membership and nothing else; a disconnect erases every trace of a connection.

use std::fmt::Debug;

use crate::small_map::SmallMap;

use super::{
    ErrorCode, Room, SessionId, SignalMessage, MAX_PEERS_LISTED, MAX_PEERS_PER_ROOM,
    MAX_ROOMS_PER_CONNECTION, MAX_SIGNAL_SIZE,
};

/// What handling one incoming message produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled<C> {
    /// Encoded messages to send, each to its connection, in order: replies to the sender and
    /// forwarded signals.
    pub out: Vec<(C, Vec<u8>)>,
    /// Set when the message was refused (the sender also gets an `Error` with this code in
    /// `out`). See [`ErrorCode::is_abuse`] for which refusals justify closing the connection.
    pub refused: Option<ErrorCode>,
}

impl<C> Handled<C> {
    /// Whether the sender broke the protocol (malformed or oversized message).
    pub fn is_abuse(&self) -> bool {
        self.refused.is_some_and(ErrorCode::is_abuse)
    }
}

/// Room membership and signal forwarding, generic over a connection handle `C` (a socket id in
/// the server, a link id in a browser node that relays for its neighbours).
///
/// Rules: a connection joins a room under one session id; a session id appears once per room;
/// `Signal.from` must be the sender's own session in that room and `Signal.to` a member there.
/// Re-sending the same `Join` is allowed and just lists the peers again.
#[derive(Debug, Clone)]
pub struct Rendezvous<C> {
    // Sorted vectors (`small_map`), also on a server: it holds at most its connection limit of
    // connections in at most `MAX_ROOMS_PER_CONNECTION` rooms each, so a new room or connection
    // shifts at most a few megabytes; B-trees here cost every browser node ~6 KB gzipped.
    rooms: SmallMap<Room, Members<C>>,
    /// The rooms each connection is in, with its session there. Only connections in a room.
    connections: SmallMap<C, SmallMap<Room, SessionId>>,
    /// Orders joins within a room; says nothing about who joined.
    next_join: u64,
}

#[derive(Debug, Clone)]
struct Members<C> {
    by_peer: SmallMap<SessionId, (C, u64)>,
    by_join: SmallMap<u64, SessionId>,
}

impl<C: Copy + Ord + Debug> Default for Rendezvous<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: Copy + Ord + Debug> Rendezvous<C> {
    pub fn new() -> Self {
        Rendezvous {
            rooms: SmallMap::new(),
            connections: SmallMap::new(),
            next_join: 0,
        }
    }

    /// Handle one message from `conn`. Never fails: a refused message yields an `Error` reply to
    /// `conn` and sets [`Handled::refused`].
    pub fn handle(&mut self, conn: C, bytes: &[u8]) -> Handled<C> {
        if bytes.len() > MAX_SIGNAL_SIZE {
            return refuse(conn, ErrorCode::TooLarge);
        }
        let message = match SignalMessage::decode(bytes) {
            Ok(message) => message,
            Err(e) => return refuse(conn, e.code()),
        };
        let result = match message {
            SignalMessage::Join { room, peer } => self.join(conn, room, peer),
            SignalMessage::Leave { room } => self.leave(conn, room),
            SignalMessage::Signal { room, to, from, .. } => self
                .route(conn, room, to, from)
                // Forwarded as received: the bytes were checked to be the canonical encoding.
                .map(|target| vec![(target, bytes.to_vec())]),
            SignalMessage::Peers { .. } | SignalMessage::Error { .. } => Err(ErrorCode::Malformed),
        };
        match result {
            Ok(out) => Handled { out, refused: None },
            Err(code) => refuse(conn, code),
        }
    }

    /// Forget `conn`: it leaves every room, and nothing about it remains.
    pub fn disconnect(&mut self, conn: C) {
        for (room, peer) in self.connections.remove(&conn).unwrap_or_default() {
            self.remove_member(room, peer);
        }
    }

    /// The rooms that have members, in byte order.
    pub fn rooms(&self) -> Vec<Room> {
        self.rooms.keys().copied().collect()
    }

    /// The members of `room`, most recently joined first.
    pub fn members(&self, room: &Room) -> Vec<SessionId> {
        self.rooms
            .get(room)
            .map(|m| m.by_join.values().rev().copied().collect())
            .unwrap_or_default()
    }

    /// The rooms `conn` is in, with its session id in each.
    pub fn memberships(&self, conn: C) -> Vec<(Room, SessionId)> {
        self.connections
            .get(&conn)
            .map(|rooms| rooms.iter().map(|(r, p)| (*r, *p)).collect())
            .unwrap_or_default()
    }

    /// How many connections are in at least one room.
    pub fn len(&self) -> usize {
        self.connections.len()
    }

    /// Whether no connection is in any room.
    pub fn is_empty(&self) -> bool {
        self.connections.is_empty()
    }

    fn join(
        &mut self,
        conn: C,
        room: Room,
        peer: SessionId,
    ) -> Result<Vec<(C, Vec<u8>)>, ErrorCode> {
        let joined = self.connections.get(&conn);
        match joined.and_then(|rooms| rooms.get(&room)) {
            Some(own) if *own == peer => return Ok(vec![(conn, self.peers(room, peer))]),
            Some(_) => return Err(ErrorCode::DuplicatePeer),
            None => {}
        }
        if joined.map_or(0, SmallMap::len) >= MAX_ROOMS_PER_CONNECTION {
            return Err(ErrorCode::TooManyRooms);
        }
        if let Some(members) = self.rooms.get(&room) {
            if members.by_peer.contains_key(&peer) {
                return Err(ErrorCode::DuplicatePeer);
            }
            if members.by_peer.len() >= MAX_PEERS_PER_ROOM {
                return Err(ErrorCode::RoomFull);
            }
        }
        // Listed before adding the joiner, so it never sees itself.
        let reply = self.peers(room, peer);
        let order = self.next_join;
        self.next_join += 1;
        let members = self.rooms.get_or_insert_with(room, || Members {
            by_peer: SmallMap::new(),
            by_join: SmallMap::new(),
        });
        members.by_peer.insert(peer, (conn, order));
        members.by_join.insert(order, peer);
        self.connections
            .get_or_insert_with(conn, SmallMap::new)
            .insert(room, peer);
        Ok(vec![(conn, reply)])
    }

    fn leave(&mut self, conn: C, room: Room) -> Result<Vec<(C, Vec<u8>)>, ErrorCode> {
        let rooms = self
            .connections
            .get_mut(&conn)
            .ok_or(ErrorCode::NotInRoom)?;
        let peer = rooms.remove(&room).ok_or(ErrorCode::NotInRoom)?;
        if rooms.is_empty() {
            self.connections.remove(&conn);
        }
        self.remove_member(room, peer);
        Ok(Vec::new())
    }

    /// The connection a signal goes to, if the sender may send it.
    fn route(&self, conn: C, room: Room, to: SessionId, from: SessionId) -> Result<C, ErrorCode> {
        let own = self
            .connections
            .get(&conn)
            .and_then(|rooms| rooms.get(&room));
        if own != Some(&from) {
            return Err(ErrorCode::NotInRoom);
        }
        self.rooms
            .get(&room)
            .and_then(|members| members.by_peer.get(&to))
            .map(|(target, _)| *target)
            .ok_or(ErrorCode::UnknownPeer)
    }

    /// The encoded `Peers` reply for `joiner`: other members, most recent first.
    fn peers(&self, room: Room, joiner: SessionId) -> Vec<u8> {
        let peers = self
            .rooms
            .get(&room)
            .into_iter()
            .flat_map(|members| members.by_join.values().rev())
            .filter(|peer| **peer != joiner)
            .take(MAX_PEERS_LISTED)
            .copied()
            .collect();
        encode(&SignalMessage::Peers { room, peers })
    }

    fn remove_member(&mut self, room: Room, peer: SessionId) {
        if let Some(members) = self.rooms.get_mut(&room) {
            if let Some((_, order)) = members.by_peer.remove(&peer) {
                members.by_join.remove(&order);
            }
            if members.by_peer.is_empty() {
                self.rooms.remove(&room);
            }
        }
    }
}

fn refuse<C>(conn: C, code: ErrorCode) -> Handled<C> {
    Handled {
        out: vec![(conn, encode(&SignalMessage::Error { code }))],
        refused: Some(code),
    }
}

/// Encode a reply built here. They are within every limit (at most `MAX_PEERS_LISTED` peers, no
/// data), so encoding cannot fail.
fn encode(message: &SignalMessage) -> Vec<u8> {
    // Not `expect`: that would bring the error's Debug code into the browser package.
    match message.encode() {
        Ok(bytes) => bytes,
        Err(_) => unreachable!("rendezvous replies are within the limits"),
    }
}
