//! Signaling: the wire format's round trips and strictness, and the rendezvous's room logic.

use std::collections::BTreeMap;

use ciborium::value::Value;
use p2panda_core::hash::Hash;
use p2panda_core::signal::*;
use proptest::prelude::*;

const ROOM: Room = Room::from_bytes([7; ROOM_LEN]);
const OTHER_ROOM: Room = Room::from_bytes([8; ROOM_LEN]);

fn session(n: u8) -> SessionId {
    SessionId::from_bytes([n; SESSION_ID_LEN])
}

fn room(n: u32) -> Room {
    let mut bytes = [0; ROOM_LEN];
    bytes[..4].copy_from_slice(&n.to_be_bytes());
    Room::from_bytes(bytes)
}

fn cbor(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).unwrap();
    out
}

fn uint(n: u64) -> Value {
    Value::Integer(n.into())
}

fn bytes(b: &[u8]) -> Value {
    Value::Bytes(b.to_vec())
}

fn encode(message: SignalMessage) -> Vec<u8> {
    message.encode().unwrap()
}

fn join(room: Room, peer: SessionId) -> Vec<u8> {
    encode(SignalMessage::Join { room, peer })
}

fn leave(room: Room) -> Vec<u8> {
    encode(SignalMessage::Leave { room })
}

fn signal(room: Room, from: SessionId, to: SessionId, data: &[u8]) -> Vec<u8> {
    encode(SignalMessage::Signal {
        room,
        to,
        from,
        data: data.to_vec(),
    })
}

fn error(code: ErrorCode) -> Vec<u8> {
    encode(SignalMessage::Error { code })
}

fn peers_in(reply: &[u8]) -> Vec<SessionId> {
    match SignalMessage::decode(reply) {
        Ok(SignalMessage::Peers { peers, .. }) => peers,
        other => panic!("expected Peers, got {other:?}"),
    }
}

// ---------------------------------------------------------------- rooms and ids

#[test]
fn room_is_blake2b_256_of_domain_and_festival_id() {
    // Python: blake2b(b"p2panda-room-v1" + blake2b(b"festival").digest(), digest_size=32)
    let room = room_of(&Hash::digest(b"festival"));
    assert_eq!(
        room.to_string(),
        "e34493ffa9ba7444f6066b3e1ea4caad0a7aebd0d3d23b166ca8686cf3bb4223"
    );
    assert_ne!(room_of(&Hash::digest(b"festival 2")), room);
    // The room does not contain the festival id's bytes.
    let id = Hash::digest(b"festival");
    assert_ne!(&room.as_bytes()[..], &id.as_bytes()[..ROOM_LEN]);
}

#[test]
fn ids_convert_from_slices_of_exactly_their_length() {
    assert_eq!(
        Room::try_from(&[1u8; 32][..]),
        Ok(Room::from_bytes([1; 32]))
    );
    assert_eq!(
        Room::try_from(&[1u8; 31][..]),
        Err(SignalError::Length {
            field: "room",
            expected: 32,
            got: 31
        })
    );
    assert_eq!(
        SessionId::try_from(&[1u8; 17][..]),
        Err(SignalError::Length {
            field: "session id",
            expected: 16,
            got: 17
        })
    );
    assert_ne!(SessionId::random(), SessionId::random());
}

#[test]
fn error_codes_round_trip_through_their_wire_numbers() {
    for (number, code) in ErrorCode::ALL.into_iter().enumerate() {
        assert_eq!(code.to_wire(), number as u64);
        assert_eq!(ErrorCode::from_wire(number as u64), Some(code));
    }
    assert_eq!(ErrorCode::from_wire(ErrorCode::ALL.len() as u64), None);
}

// ---------------------------------------------------------------- codec

fn arb_room() -> impl Strategy<Value = Room> {
    any::<[u8; ROOM_LEN]>().prop_map(Room::from_bytes)
}

fn arb_session() -> impl Strategy<Value = SessionId> {
    any::<[u8; SESSION_ID_LEN]>().prop_map(SessionId::from_bytes)
}

fn arb_message() -> impl Strategy<Value = SignalMessage> {
    prop_oneof![
        (arb_room(), arb_session()).prop_map(|(room, peer)| SignalMessage::Join { room, peer }),
        arb_room().prop_map(|room| SignalMessage::Leave { room }),
        (
            arb_room(),
            arb_session(),
            arb_session(),
            // Mostly small, sometimes around the 23/24, 255/256 length-header boundaries and the
            // largest allowed.
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..300),
                proptest::collection::vec(any::<u8>(), MAX_SIGNAL_DATA - 8..=MAX_SIGNAL_DATA),
            ],
        )
            .prop_map(|(room, to, from, data)| SignalMessage::Signal {
                room,
                to,
                from,
                data
            }),
        (
            arb_room(),
            proptest::collection::vec(arb_session(), 0..=MAX_PEERS_LISTED)
        )
            .prop_map(|(room, peers)| SignalMessage::Peers { room, peers }),
        proptest::sample::select(ErrorCode::ALL.to_vec())
            .prop_map(|code| SignalMessage::Error { code }),
    ]
}

proptest! {
    #[test]
    fn messages_round_trip(message in arb_message()) {
        let bytes = message.encode().unwrap();
        prop_assert!(bytes.len() <= MAX_SIGNAL_SIZE);
        prop_assert_eq!(SignalMessage::decode(&bytes), Ok(message));
    }

    #[test]
    fn trailing_bytes_are_refused(message in arb_message(), extra in proptest::collection::vec(any::<u8>(), 1..8)) {
        let mut bytes = message.encode().unwrap();
        bytes.extend(&extra);
        let result = SignalMessage::decode(&bytes);
        if bytes.len() > MAX_SIGNAL_SIZE {
            prop_assert_eq!(result, Err(SignalError::TooLarge(bytes.len())));
        } else {
            prop_assert_eq!(result, Err(SignalError::TrailingBytes(extra.len())));
        }
    }

    #[test]
    fn every_prefix_is_truncated(message in arb_message(), cut in any::<prop::sample::Index>()) {
        let bytes = message.encode().unwrap();
        let len = cut.index(bytes.len());
        prop_assert_eq!(SignalMessage::decode(&bytes[..len]), Err(SignalError::Truncated));
    }

    /// Garbage never panics, and whatever decodes has exactly one encoding: these bytes.
    #[test]
    fn arbitrary_bytes_decode_only_canonically(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(message) = SignalMessage::decode(&bytes) {
            prop_assert_eq!(message.encode().unwrap(), bytes);
        }
    }

    /// Flipping any bit of a valid message either is refused or yields another valid message
    /// (e.g. a different id), never a panic or a non-canonical acceptance.
    #[test]
    fn bit_flips_are_refused_or_canonical(message in arb_message(), bit in any::<prop::sample::Index>()) {
        let mut bytes = message.encode().unwrap();
        let bit = bit.index(bytes.len() * 8);
        bytes[bit / 8] ^= 1 << (bit % 8);
        if let Ok(decoded) = SignalMessage::decode(&bytes) {
            prop_assert_eq!(decoded.encode().unwrap(), bytes);
        }
    }
}

#[test]
fn oversized_input_is_refused_before_parsing() {
    let bytes = vec![0u8; MAX_SIGNAL_SIZE + 1];
    assert_eq!(
        SignalMessage::decode(&bytes),
        Err(SignalError::TooLarge(MAX_SIGNAL_SIZE + 1))
    );
    let too_much = SignalMessage::Signal {
        room: ROOM,
        to: session(1),
        from: session(2),
        data: vec![0; MAX_SIGNAL_DATA + 1],
    };
    assert_eq!(
        too_much.encode(),
        Err(SignalError::TooLarge(MAX_SIGNAL_SIZE + 1))
    );
    assert_eq!(SignalError::TooLarge(0).code(), ErrorCode::TooLarge);
}

#[test]
fn wrong_lengths_are_refused_by_field() {
    let cases = [
        (
            Value::Array(vec![uint(0), bytes(&[0; 31]), bytes(&[0; 16])]),
            ("room", 32, 31),
        ),
        (
            Value::Array(vec![uint(0), bytes(&[0; 32]), bytes(&[0; 17])]),
            ("peer", 16, 17),
        ),
        (
            Value::Array(vec![uint(1), bytes(&[0; 33])]),
            ("room", 32, 33),
        ),
        (
            Value::Array(vec![
                uint(2),
                bytes(&[0; 32]),
                bytes(&[0; 15]),
                bytes(&[0; 16]),
                bytes(b""),
            ]),
            ("to", 16, 15),
        ),
        (
            Value::Array(vec![
                uint(2),
                bytes(&[0; 32]),
                bytes(&[0; 16]),
                bytes(&[]),
                bytes(b""),
            ]),
            ("from", 16, 0),
        ),
        (
            Value::Array(vec![
                uint(3),
                bytes(&[0; 32]),
                Value::Array(vec![bytes(&[0; 16]), bytes(&[0; 8])]),
            ]),
            ("session id", 16, 8),
        ),
    ];
    for (value, (field, expected, got)) in cases {
        let error = SignalMessage::decode(&cbor(&value)).unwrap_err();
        assert_eq!(
            error,
            SignalError::Length {
                field,
                expected,
                got
            }
        );
        assert_eq!(error.code(), ErrorCode::Malformed);
    }
}

#[test]
fn unknown_kinds_codes_and_shapes_are_refused() {
    let room = bytes(&[0; 32]);
    let peer = bytes(&[0; 16]);
    let cases: Vec<(Value, SignalError)> = vec![
        (
            Value::Array(vec![uint(5), room.clone()]),
            SignalError::UnknownKind(5),
        ),
        (
            Value::Array(vec![uint(4), uint(7)]),
            SignalError::UnknownErrorCode(7),
        ),
        (
            Value::Array(vec![
                uint(3),
                room.clone(),
                Value::Array(vec![peer.clone(); MAX_PEERS_LISTED + 1]),
            ]),
            SignalError::TooManyPeers(MAX_PEERS_LISTED + 1),
        ),
        (
            Value::Array(vec![uint(1), room.clone(), uint(0)]),
            SignalError::Shape("too many fields"),
        ),
        (
            Value::Array(vec![uint(0), room.clone()]),
            SignalError::Shape("too few fields"),
        ),
        (
            Value::Array(vec![uint(0), Value::Text("room".into()), peer.clone()]),
            SignalError::Shape("expected a byte string"),
        ),
        (
            Value::Array(vec![Value::Integer((-1).into()), room.clone()]),
            SignalError::Shape("negative or huge integer"),
        ),
        (
            Value::Map(vec![(uint(0), room.clone())]),
            SignalError::Shape("not an array"),
        ),
        (
            Value::Array(vec![uint(3), room.clone(), peer.clone()]),
            SignalError::Shape("peers is not an array"),
        ),
        (
            Value::Array(vec![
                uint(3),
                room.clone(),
                Value::Array(vec![Value::Array(vec![])]),
            ]),
            SignalError::Shape("nested too deep"),
        ),
    ];
    for (value, expected) in cases {
        assert_eq!(SignalMessage::decode(&cbor(&value)), Err(expected));
    }
    assert_eq!(SignalMessage::decode(&[0xff]), Err(SignalError::NotCbor));
    assert_eq!(SignalMessage::decode(&[]), Err(SignalError::Truncated));
}

#[test]
fn non_canonical_encodings_are_refused() {
    let canonical = join(ROOM, session(1));
    // Kind 0 as a one-byte-extended integer (0x18 0x00) instead of 0x00.
    let mut long_int = vec![0x83, 0x18, 0x00];
    long_int.extend(&canonical[2..]);
    // The array as indefinite-length (0x9f ... 0xff).
    let mut indefinite = vec![0x9f];
    indefinite.extend(&canonical[1..]);
    indefinite.push(0xff);
    // The data of a signal as an indefinite-length byte string of two chunks.
    let canonical_signal = signal(ROOM, session(1), session(2), b"ab");
    let mut chunked = canonical_signal[..canonical_signal.len() - 3].to_vec();
    chunked.extend([0x5f, 0x41, b'a', 0x41, b'b', 0xff]);
    for bytes in [long_int, indefinite, chunked] {
        assert_eq!(
            SignalMessage::decode(&bytes),
            Err(SignalError::NonCanonical),
            "{bytes:02x?}"
        );
    }
    // A tag (6.64) before the room is not a byte string.
    let mut tagged = canonical[..2].to_vec();
    tagged.extend([0xd8, 0x40]);
    tagged.extend(&canonical[2..]);
    assert_eq!(
        SignalMessage::decode(&tagged),
        Err(SignalError::Shape("expected a byte string"))
    );
}

// ---------------------------------------------------------------- rendezvous

#[test]
fn join_lists_other_members_most_recent_first() {
    let mut rv = Rendezvous::<u32>::new();
    let first = rv.handle(1, &join(ROOM, session(1)));
    assert_eq!(first.refused, None);
    assert_eq!(first.out.len(), 1);
    assert_eq!(first.out[0].0, 1);
    assert_eq!(peers_in(&first.out[0].1), vec![]);

    rv.handle(2, &join(ROOM, session(2)));
    let third = rv.handle(3, &join(ROOM, session(3)));
    assert_eq!(third.out[0].0, 3);
    assert_eq!(peers_in(&third.out[0].1), vec![session(2), session(1)]);
    // Existing members are not told; the joiner reaches out.
    assert_eq!(third.out.len(), 1);

    // Re-sending the same join lists again, without the joiner and without moving it.
    let again = rv.handle(1, &join(ROOM, session(1)));
    assert_eq!(again.refused, None);
    assert_eq!(peers_in(&again.out[0].1), vec![session(3), session(2)]);
    assert_eq!(rv.members(&ROOM), vec![session(3), session(2), session(1)]);
}

#[test]
fn at_most_32_peers_are_listed_the_newest() {
    let mut rv = Rendezvous::<u32>::new();
    for n in 0..40u8 {
        rv.handle(u32::from(n), &join(ROOM, session(n)));
    }
    let reply = rv.handle(99, &join(ROOM, session(99)));
    let listed = peers_in(&reply.out[0].1);
    assert_eq!(listed.len(), MAX_PEERS_LISTED);
    assert_eq!(listed, (8..40u8).rev().map(session).collect::<Vec<_>>());
}

#[test]
fn signals_are_forwarded_unchanged_both_ways() {
    let mut rv = Rendezvous::<u32>::new();
    rv.handle(10, &join(ROOM, session(1)));
    rv.handle(20, &join(ROOM, session(2)));

    let offer = signal(ROOM, session(2), session(1), b"offer");
    let handled = rv.handle(20, &offer);
    assert_eq!(handled.refused, None);
    assert_eq!(handled.out, vec![(10, offer)]);

    let answer = signal(ROOM, session(1), session(2), b"answer");
    assert_eq!(rv.handle(10, &answer).out, vec![(20, answer.clone())]);
    match SignalMessage::decode(&answer) {
        Ok(SignalMessage::Signal { from, to, data, .. }) => {
            assert_eq!(
                (from, to, data.as_slice()),
                (session(1), session(2), &b"answer"[..])
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn signals_to_non_members_or_with_spoofed_from_are_refused() {
    let mut rv = Rendezvous::<u32>::new();
    rv.handle(1, &join(ROOM, session(1)));
    rv.handle(2, &join(ROOM, session(2)));
    rv.handle(3, &join(OTHER_ROOM, session(3)));

    let refused = |rv: &mut Rendezvous<u32>, conn, bytes: Vec<u8>, code| {
        let handled = rv.handle(conn, &bytes);
        assert_eq!(handled.refused, Some(code));
        assert_eq!(handled.out, vec![(conn, error(code))]);
        assert!(!handled.is_abuse());
    };
    // To someone who is in another room only.
    refused(
        &mut rv,
        1,
        signal(ROOM, session(1), session(3), b"x"),
        ErrorCode::UnknownPeer,
    );
    // To nobody.
    refused(
        &mut rv,
        1,
        signal(ROOM, session(1), session(9), b"x"),
        ErrorCode::UnknownPeer,
    );
    // Connection 1 claiming to be session 2.
    refused(
        &mut rv,
        1,
        signal(ROOM, session(2), session(1), b"x"),
        ErrorCode::NotInRoom,
    );
    // Connection 3 is not in ROOM at all, even with a made-up member session.
    refused(
        &mut rv,
        3,
        signal(ROOM, session(3), session(1), b"x"),
        ErrorCode::NotInRoom,
    );
    // Session 1 exists, but in ROOM, not OTHER_ROOM.
    refused(
        &mut rv,
        1,
        signal(OTHER_ROOM, session(1), session(3), b"x"),
        ErrorCode::NotInRoom,
    );

    // After leaving, signals to and from the leaver fail.
    assert_eq!(rv.handle(2, &leave(ROOM)).out, vec![]);
    refused(
        &mut rv,
        1,
        signal(ROOM, session(1), session(2), b"x"),
        ErrorCode::UnknownPeer,
    );
    refused(
        &mut rv,
        2,
        signal(ROOM, session(2), session(1), b"x"),
        ErrorCode::NotInRoom,
    );
    refused(&mut rv, 2, leave(ROOM), ErrorCode::NotInRoom);
}

#[test]
fn duplicate_sessions_are_refused() {
    let mut rv = Rendezvous::<u32>::new();
    rv.handle(1, &join(ROOM, session(1)));
    // Another connection with the same session id in the same room.
    assert_eq!(
        rv.handle(2, &join(ROOM, session(1))).refused,
        Some(ErrorCode::DuplicatePeer)
    );
    // The same connection under a second session id in the same room.
    assert_eq!(
        rv.handle(1, &join(ROOM, session(2))).refused,
        Some(ErrorCode::DuplicatePeer)
    );
    // The same session id in another room is fine.
    assert_eq!(rv.handle(2, &join(OTHER_ROOM, session(1))).refused, None);
    assert_eq!(rv.members(&ROOM), vec![session(1)]);
    assert_eq!(rv.memberships(1), vec![(ROOM, session(1))]);
}

#[test]
fn disconnect_forgets_everything() {
    let mut rv = Rendezvous::<u32>::new();
    for room_n in 0..5 {
        rv.handle(1, &join(room(room_n), session(1)));
        rv.handle(2, &join(room(room_n), session(2)));
    }
    assert_eq!((rv.rooms().len(), rv.len()), (5, 2));
    rv.disconnect(1);
    assert_eq!(rv.members(&room(0)), vec![session(2)]);
    assert!(rv.memberships(1).is_empty());
    // Signals to the gone connection's session fail.
    assert_eq!(
        rv.handle(2, &signal(room(0), session(2), session(1), b"x"))
            .refused,
        Some(ErrorCode::UnknownPeer)
    );
    rv.disconnect(2);
    rv.disconnect(3); // unknown: nothing happens
    assert!(rv.rooms().is_empty());
    assert!(rv.is_empty());
    // A new connection may reuse everything.
    assert_eq!(rv.handle(1, &join(room(0), session(2))).refused, None);
}

#[test]
fn leaving_the_last_room_forgets_the_connection() {
    let mut rv = Rendezvous::<u32>::new();
    rv.handle(1, &join(ROOM, session(1)));
    rv.handle(1, &leave(ROOM));
    assert!(rv.is_empty());
    assert!(rv.rooms().is_empty());
}

#[test]
fn a_connection_is_in_at_most_32_rooms() {
    let mut rv = Rendezvous::<u32>::new();
    for n in 0..MAX_ROOMS_PER_CONNECTION as u32 {
        assert_eq!(rv.handle(1, &join(room(n), session(1))).refused, None);
    }
    let over = rv.handle(1, &join(room(1000), session(1)));
    assert_eq!(over.refused, Some(ErrorCode::TooManyRooms));
    assert_eq!(over.out, vec![(1, error(ErrorCode::TooManyRooms))]);
    assert_eq!(rv.members(&room(1000)), vec![]);
    // Re-joining one it is in still works, and leaving one frees a slot.
    assert_eq!(rv.handle(1, &join(room(0), session(1))).refused, None);
    rv.handle(1, &leave(room(0)));
    assert_eq!(rv.handle(1, &join(room(1000), session(1))).refused, None);
}

#[test]
fn a_room_holds_at_most_1024_peers() {
    let mut rv = Rendezvous::<u32>::new();
    let id = |n: u32| {
        let mut bytes = [0; SESSION_ID_LEN];
        bytes[..4].copy_from_slice(&n.to_be_bytes());
        SessionId::from_bytes(bytes)
    };
    for n in 0..MAX_PEERS_PER_ROOM as u32 {
        assert_eq!(rv.handle(n, &join(ROOM, id(n))).refused, None);
    }
    let full = rv.handle(5000, &join(ROOM, id(5000)));
    assert_eq!(full.refused, Some(ErrorCode::RoomFull));
    assert_eq!(rv.members(&ROOM).len(), MAX_PEERS_PER_ROOM);
    rv.disconnect(0);
    assert_eq!(rv.handle(5000, &join(ROOM, id(5000))).refused, None);
}

#[test]
fn bad_input_gets_an_error_reply_and_counts_as_abuse() {
    let mut rv = Rendezvous::<u32>::new();
    rv.handle(1, &join(ROOM, session(1)));
    let cases = [
        (vec![0xff, 0x00], ErrorCode::Malformed),
        (vec![0; MAX_SIGNAL_SIZE + 1], ErrorCode::TooLarge),
        // Kinds only a rendezvous sends.
        (error(ErrorCode::RoomFull), ErrorCode::Malformed),
        (
            encode(SignalMessage::Peers {
                room: ROOM,
                peers: vec![],
            }),
            ErrorCode::Malformed,
        ),
    ];
    for (bytes, code) in cases {
        let handled = rv.handle(2, &bytes);
        assert_eq!(handled.refused, Some(code));
        assert!(handled.is_abuse());
        assert_eq!(handled.out, vec![(2, error(code))]);
    }
    // Refused messages leave no trace.
    assert_eq!(rv.len(), 1);
}

// ---------------------------------------------------------------- model check

#[derive(Debug, Clone)]
enum Op {
    Join(u32, u8, u8),
    Leave(u32, u8),
    Signal(u32, u8, u8, u8),
    Disconnect(u32),
    Garbage(u32, Vec<u8>),
}

fn arb_op() -> impl Strategy<Value = Op> {
    let conn = 0..4u32;
    let room_n = 0..3u8;
    let peer = 0..5u8;
    prop_oneof![
        4 => (conn.clone(), room_n.clone(), peer.clone()).prop_map(|(c, r, p)| Op::Join(c, r, p)),
        1 => (conn.clone(), room_n.clone()).prop_map(|(c, r)| Op::Leave(c, r)),
        4 => (conn.clone(), room_n.clone(), peer.clone(), peer).prop_map(|(c, r, f, t)| Op::Signal(c, r, f, t)),
        1 => conn.clone().prop_map(Op::Disconnect),
        1 => (conn, proptest::collection::vec(any::<u8>(), 0..40)).prop_map(|(c, b)| Op::Garbage(c, b)),
    ]
}

/// The rules, restated as plainly as possible: (conn, room) → session.
#[derive(Default)]
struct Model(BTreeMap<(u32, u8), u8>);

impl Model {
    fn session_of(&self, conn: u32, room: u8) -> Option<u8> {
        self.0.get(&(conn, room)).copied()
    }

    fn conn_of(&self, room: u8, peer: u8) -> Option<u32> {
        self.0
            .iter()
            .find(|((_, r), p)| *r == room && **p == peer)
            .map(|((c, _), _)| *c)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn rendezvous_matches_a_model(ops in proptest::collection::vec(arb_op(), 0..80)) {
        let mut rv = Rendezvous::<u32>::new();
        let mut model = Model::default();
        for op in ops {
            match op {
                Op::Join(c, r, p) => {
                    let handled = rv.handle(c, &join(room(r.into()), session(p)));
                    let expected = match (model.session_of(c, r), model.conn_of(r, p)) {
                        (Some(own), _) if own == p => None,
                        (Some(_), _) | (None, Some(_)) => Some(ErrorCode::DuplicatePeer),
                        (None, None) => {
                            model.0.insert((c, r), p);
                            None
                        }
                    };
                    prop_assert_eq!(handled.refused, expected);
                    if expected.is_none() {
                        let listed = peers_in(&handled.out[0].1);
                        let mut others: Vec<_> = model.0.iter()
                            .filter(|((_, room_n), peer)| *room_n == r && **peer != p)
                            .map(|(_, peer)| session(*peer)).collect();
                        let mut listed_sorted = listed.clone();
                        listed_sorted.sort();
                        others.sort();
                        prop_assert_eq!(listed_sorted, others);
                    }
                }
                Op::Leave(c, r) => {
                    let handled = rv.handle(c, &leave(room(r.into())));
                    let expected = match model.0.remove(&(c, r)) {
                        Some(_) => None,
                        None => Some(ErrorCode::NotInRoom),
                    };
                    prop_assert_eq!(handled.refused, expected);
                }
                Op::Signal(c, r, f, t) => {
                    let bytes = signal(room(r.into()), session(f), session(t), &[c as u8]);
                    let handled = rv.handle(c, &bytes);
                    let expected = if model.session_of(c, r) != Some(f) {
                        Err(ErrorCode::NotInRoom)
                    } else {
                        model.conn_of(r, t).ok_or(ErrorCode::UnknownPeer)
                    };
                    match expected {
                        Ok(target) => {
                            prop_assert_eq!(handled.refused, None);
                            prop_assert_eq!(handled.out, vec![(target, bytes)]);
                        }
                        Err(code) => prop_assert_eq!(handled.refused, Some(code)),
                    }
                }
                Op::Disconnect(c) => {
                    rv.disconnect(c);
                    model.0.retain(|(conn, _), _| *conn != c);
                }
                Op::Garbage(c, bytes) => {
                    let handled = rv.handle(c, &bytes);
                    if SignalMessage::decode(&bytes).is_err() {
                        prop_assert_eq!(handled.refused, Some(ErrorCode::Malformed));
                    }
                }
            }
            let rooms: std::collections::BTreeSet<Room> =
                model.0.keys().map(|(_, r)| room((*r).into())).collect();
            prop_assert_eq!(rv.rooms(), rooms.into_iter().collect::<Vec<_>>());
            let conns: std::collections::BTreeSet<u32> = model.0.keys().map(|(c, _)| *c).collect();
            prop_assert_eq!(rv.len(), conns.len());
        }
        for c in 0..4 {
            rv.disconnect(c);
        }
        prop_assert!(rv.is_empty());
        prop_assert!(rv.rooms().is_empty());
    }
}
