//! The hand-written codec against the ciborium one it replaced: the same bytes written, and the
//! same result (the same message, or the same error) for generated messages, for messages
//! re-encoded in the many ways CBOR allows, for arbitrary CBOR, and for mutated bytes.

use ciborium::value::Value;

use super::super::{fixed, ErrorCode, Room, SessionId, SignalMessage};
use super::*;

/// What `SignalMessage::decode` was before this module: ciborium into a `Value`, then the fields.
fn decode_reference(bytes: &[u8]) -> Result<SignalMessage, SignalError> {
    if bytes.len() > MAX_SIGNAL_SIZE {
        return Err(SignalError::TooLarge(bytes.len()));
    }
    let mut reader = bytes;
    let value: Value = ciborium::de::from_reader_with_recursion_limit(&mut reader, MAX_DEPTH)
        .map_err(|e| match e {
            ciborium::de::Error::Io(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                SignalError::Truncated
            }
            ciborium::de::Error::RecursionLimitExceeded => SignalError::Shape("nested too deep"),
            _ => SignalError::NotCbor,
        })?;
    if !reader.is_empty() {
        return Err(SignalError::TrailingBytes(reader.len()));
    }
    let message = from_value(value)?;
    if write_reference(&to_value(&message)) != bytes {
        return Err(SignalError::NonCanonical);
    }
    Ok(message)
}

fn write_reference(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).expect("writing to a Vec");
    out
}

/// The message as the old codec's `Value` (no limits checked, so oversized lists can be built).
fn to_value(message: &SignalMessage) -> Value {
    let bytes = |b: &[u8]| Value::Bytes(b.to_vec());
    let kind = |k: u64| Value::Integer(k.into());
    Value::Array(match message {
        SignalMessage::Join { room, peer } => {
            vec![kind(JOIN), bytes(room.as_bytes()), bytes(peer.as_bytes())]
        }
        SignalMessage::Leave { room } => vec![kind(LEAVE), bytes(room.as_bytes())],
        SignalMessage::Signal {
            room,
            to,
            from,
            data,
        } => vec![
            kind(SIGNAL),
            bytes(room.as_bytes()),
            bytes(to.as_bytes()),
            bytes(from.as_bytes()),
            bytes(data),
        ],
        SignalMessage::Peers { room, peers } => vec![
            kind(PEERS),
            bytes(room.as_bytes()),
            Value::Array(peers.iter().map(|p| bytes(p.as_bytes())).collect()),
        ],
        SignalMessage::Error { code } => vec![kind(ERROR), kind(code.to_wire())],
    })
}

fn from_value(value: Value) -> Result<SignalMessage, SignalError> {
    let Value::Array(fields) = value else {
        return Err(SignalError::Shape("not an array"));
    };
    let mut fields = fields.into_iter();
    let mut next = || fields.next().ok_or(SignalError::Shape("too few fields"));
    let uint = |v: Value| match v {
        Value::Integer(i) => {
            u64::try_from(i).map_err(|_| SignalError::Shape("negative or huge integer"))
        }
        _ => Err(SignalError::Shape("expected an unsigned integer")),
    };
    let bytes = |v: Value| match v {
        Value::Bytes(b) => Ok(b),
        _ => Err(SignalError::Shape("expected a byte string")),
    };
    let message = match uint(next()?)? {
        JOIN => SignalMessage::Join {
            room: Room(fixed("room", &bytes(next()?)?)?),
            peer: SessionId(fixed("peer", &bytes(next()?)?)?),
        },
        LEAVE => SignalMessage::Leave {
            room: Room(fixed("room", &bytes(next()?)?)?),
        },
        SIGNAL => SignalMessage::Signal {
            room: Room(fixed("room", &bytes(next()?)?)?),
            to: SessionId(fixed("to", &bytes(next()?)?)?),
            from: SessionId(fixed("from", &bytes(next()?)?)?),
            data: bytes(next()?)?,
        },
        PEERS => {
            let room = Room(fixed("room", &bytes(next()?)?)?);
            let Value::Array(list) = next()? else {
                return Err(SignalError::Shape("peers is not an array"));
            };
            if list.len() > MAX_PEERS_LISTED {
                return Err(SignalError::TooManyPeers(list.len()));
            }
            let peers = list
                .into_iter()
                .map(|peer| match peer {
                    Value::Bytes(b) => SessionId::try_from(b.as_slice()),
                    _ => Err(SignalError::Shape("a peer is not a byte string")),
                })
                .collect::<Result<_, _>>()?;
            SignalMessage::Peers { room, peers }
        }
        ERROR => {
            let number = uint(next()?)?;
            SignalMessage::Error {
                code: ErrorCode::from_wire(number).ok_or(SignalError::UnknownErrorCode(number))?,
            }
        }
        other => return Err(SignalError::UnknownKind(other)),
    };
    if fields.next().is_some() {
        return Err(SignalError::Shape("too many fields"));
    }
    Ok(message)
}

/// Both decoders give the same result; returns whether the bytes were accepted.
fn assert_same(bytes: &[u8]) -> bool {
    let (ours, reference) = (SignalMessage::decode(bytes), decode_reference(bytes));
    assert_eq!(ours, reference, "bytes {}", hex::encode(bytes));
    ours.is_ok()
}

/// SplitMix64: deterministic, so a failure names its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

const CODES: [ErrorCode; 2] = [ErrorCode::TooLarge, ErrorCode::Malformed];
const DATA_LENGTHS: [usize; 9] = [0, 1, 23, 24, 255, 256, 4096, 4097, MAX_SIGNAL_DATA];

fn message(rng: &mut Rng) -> SignalMessage {
    let room = |rng: &mut Rng| Room(rng.bytes(32).try_into().unwrap());
    let session = |rng: &mut Rng| SessionId(rng.bytes(16).try_into().unwrap());
    match rng.below(5) {
        0 => SignalMessage::Join {
            room: room(rng),
            peer: session(rng),
        },
        1 => SignalMessage::Leave { room: room(rng) },
        2 => {
            let len = match rng.below(3) {
                0 => rng.pick(&DATA_LENGTHS),
                _ => rng.below(300) as usize,
            };
            SignalMessage::Signal {
                room: room(rng),
                to: session(rng),
                from: session(rng),
                data: rng.bytes(len),
            }
        }
        3 => SignalMessage::Peers {
            room: room(rng),
            peers: (0..rng.below(MAX_PEERS_LISTED as u64 + 3))
                .map(|_| session(rng))
                .collect(),
        },
        _ => SignalMessage::Error {
            code: rng.pick(&CODES),
        },
    }
}

#[test]
fn encodes_the_same_bytes() {
    let mut rng = Rng(1);
    for _ in 0..2000 {
        let message = message(&mut rng);
        let reference = write_reference(&to_value(&message));
        match message.encode() {
            Ok(bytes) => {
                assert_eq!(bytes, reference);
                assert!(assert_same(&bytes));
            }
            // Only lists over the limit are refused; the old codec refused them the same way.
            Err(e) => {
                assert!(matches!(e, SignalError::TooManyPeers(_)), "{e:?}");
                assert_same(&reference);
            }
        }
    }
}

/// Bytes that are each byte replaced, each bit flipped, cut at each length, and extended.
#[test]
fn mutated_messages_are_refused_the_same_way() {
    let mut rng = Rng(2);
    let mut accepted = 0;
    for round in 0..150 {
        let mut message = message(&mut rng);
        if let SignalMessage::Signal { data, .. } = &mut message {
            data.truncate(if round % 10 == 0 { 5000 } else { 40 });
        }
        let bytes = write_reference(&to_value(&message));
        for i in 0..bytes.len() {
            let mut mutated = bytes.clone();
            for bit in 0..8 {
                mutated[i] = bytes[i] ^ 1 << bit;
                accepted += usize::from(assert_same(&mutated));
            }
            for value in [
                0x00, 0x17, 0x18, 0x1f, 0x40, 0x5f, 0x7f, 0x9f, 0xc2, 0xc3, 0xff,
            ] {
                mutated[i] = value;
                accepted += usize::from(assert_same(&mutated));
            }
        }
        for len in 0..bytes.len() {
            assert!(!assert_same(&bytes[..len]) || len == bytes.len());
        }
        for extra in [0x00, 0xff, 0x80] {
            let mut longer = bytes.clone();
            longer.push(extra);
            assert!(!assert_same(&longer));
            longer.insert(rng.below(bytes.len() as u64) as usize, extra);
            assert_same(&longer);
        }
    }
    // Flipping bits inside ids and data gives other valid messages: the check sees both sides.
    assert!(accepted > 0);
}

/// Writes items in any of the forms CBOR allows: long heads, indefinite lengths, tags.
struct Writer<'r> {
    rng: &'r mut Rng,
    out: Vec<u8>,
}

impl Writer<'_> {
    fn head(&mut self, major: u8, value: u64) {
        let major = major << 5;
        let width = match self.rng.below(6) {
            0 if value < 24 => None,
            0 | 1 if value <= 0xff => Some(0),
            2 if value <= 0xffff => Some(1),
            3 if value <= 0xffff_ffff => Some(2),
            4 => Some(3),
            _ => None,
        };
        match width {
            Some(w) => {
                self.out.push(major | (24 + w as u8));
                self.out.extend(&value.to_be_bytes()[8 - (1usize << w)..]);
            }
            None => {
                let mut canonical = super::Writer::default();
                canonical.head(major >> 5, value);
                self.out.extend(canonical.0);
            }
        }
    }

    fn maybe_tag(&mut self) {
        if self.rng.below(12) == 0 {
            let tag = self.rng.pick(&[0, 2, 3, 24, 55799]);
            self.head(6, tag);
        }
    }

    fn uint(&mut self, value: u64) {
        self.maybe_tag();
        match self.rng.below(8) {
            // As a big integer, with leading zeros.
            0 => {
                self.head(6, 2);
                let zeros = self.rng.below(10) as usize;
                let mut digits = vec![0; zeros];
                digits.extend(value.to_be_bytes());
                digits.truncate(self.rng.pick(&[digits.len(), 16, 17]).min(digits.len()));
                self.bytes(&digits);
            }
            _ => self.head(0, value),
        }
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.maybe_tag();
        if self.rng.below(5) == 0 {
            self.out.push(0x5f);
            let mut rest = bytes;
            while !rest.is_empty() {
                let cut = (self.rng.below(rest.len() as u64) + 1) as usize;
                if self.rng.below(6) == 0 {
                    self.out.push(0x5f);
                    self.head(2, cut as u64);
                    self.out.extend(&rest[..cut]);
                    self.out.push(0xff);
                } else {
                    self.head(2, cut as u64);
                    self.out.extend(&rest[..cut]);
                }
                rest = &rest[cut..];
            }
            self.out.push(0xff);
        } else {
            self.head(2, bytes.len() as u64);
            self.out.extend(bytes);
        }
    }

    fn value(&mut self, value: &Value) {
        match value {
            Value::Integer(i) => self.uint(u64::try_from(*i).unwrap()),
            Value::Bytes(b) => self.bytes(b),
            Value::Array(items) => {
                self.maybe_tag();
                let indefinite = self.rng.below(5) == 0;
                if indefinite {
                    self.out.push(0x9f);
                } else {
                    self.head(4, items.len() as u64);
                }
                for item in items {
                    self.value(item);
                }
                if indefinite {
                    self.out.push(0xff);
                }
            }
            _ => unreachable!("messages hold integers, bytes and arrays"),
        }
    }
}

#[test]
fn messages_in_other_encodings_are_refused_the_same_way() {
    let mut rng = Rng(3);
    for _ in 0..3000 {
        let message = message(&mut rng);
        let value = to_value(&message);
        let mut seed = Rng(rng.next());
        let mut writer = Writer {
            rng: &mut seed,
            out: Vec::new(),
        };
        writer.value(&value);
        let bytes = writer.out;
        assert_same(&bytes);
        for _ in 0..4 {
            let cut = rng.below(bytes.len() as u64 + 1) as usize;
            assert_same(&bytes[..cut]);
        }
    }
}

/// Arbitrary CBOR: every major type, simple values, floats, text (some not UTF-8, some longer
/// than ciborium's 4 KiB window), big integers, deep nesting.
fn arbitrary(rng: &mut Rng, out: &mut Vec<u8>, depth: u32) {
    let head = |rng: &mut Rng, out: &mut Vec<u8>, major: u8, value: u64| {
        let mut w = Writer {
            rng,
            out: std::mem::take(out),
        };
        w.head(major, value);
        *out = w.out;
    };
    let small = |rng: &mut Rng| rng.pick(&[0u64, 1, 2, 3, 4, 5, 16, 17, 23, 24, 32, 33, 255]);
    match rng.below(if depth > 3 { 8 } else { 11 }) {
        0 => {
            let value = small(rng);
            head(rng, out, 0, value)
        }
        1 => {
            let value = rng.pick(&[0, 1, u64::MAX, 1 << 63]);
            head(rng, out, 1, value)
        }
        2 => {
            let len = small(rng) as usize;
            head(rng, out, 2, len as u64);
            out.extend(rng.bytes(len));
        }
        3 => {
            let len = rng.pick(&[0usize, 1, 3, 4, 10, 4094, 4095, 4096, 4097, 9000]);
            let mut text = vec![b'a'; len];
            for _ in 0..rng.below(3) {
                if len > 0 {
                    let at = rng.below(len as u64) as usize;
                    text[at] = rng.pick(&[0xc3, 0xa9, 0xe2, 0xff, 0x80, 0xf0]);
                }
            }
            if rng.below(3) == 0 {
                out.push(0x7f);
                head(rng, out, 3, len as u64);
                out.extend(text);
                out.push(rng.pick(&[0xff, 0x60, 0x40]));
                out.push(0xff);
            } else {
                head(rng, out, 3, len as u64);
                out.extend(text);
            }
        }
        4 => {
            let tag = rng.pick(&[2, 3, 2, 3, 0, 1, 32]);
            head(rng, out, 6, tag);
            if rng.below(2) == 0 {
                let len = rng.pick(&[0usize, 1, 8, 9, 15, 16, 17]);
                head(rng, out, 2, len as u64);
                let mut digits = rng.bytes(len);
                if let Some(first) = digits.first_mut() {
                    *first = rng.pick(&[0, 0x7f, 0x80, 0xff]);
                }
                out.extend(digits);
            } else {
                arbitrary(rng, out, depth + 1);
            }
        }
        5 => {
            let simple = rng.pick(&[0xf4u8, 0xf5, 0xf6, 0xf7, 0xf0, 0xf8, 0xfc, 0xff]);
            out.push(simple);
            if simple == 0xf8 {
                out.push(rng.pick(&[0, 20, 22, 32, 255]));
            }
        }
        6 => {
            let float = rng.pick(&[0xf9u8, 0xfa, 0xfb]);
            out.push(float);
            let len = 1usize << (float - 0xf8);
            out.extend(rng.bytes(len));
        }
        7 => out.push(rng.next() as u8),
        8 | 9 => {
            let len = rng.below(4);
            let indefinite = rng.below(4) == 0;
            if indefinite {
                out.push(0x9f);
            } else {
                head(rng, out, 4, len);
            }
            for _ in 0..len {
                arbitrary(rng, out, depth + 1);
            }
            if indefinite {
                out.push(0xff);
            }
        }
        _ => {
            let len = rng.below(3);
            head(rng, out, 5, len);
            for _ in 0..len * 2 {
                arbitrary(rng, out, depth + 1);
            }
        }
    }
}

#[test]
fn arbitrary_cbor_is_refused_the_same_way() {
    let mut rng = Rng(4);
    for _ in 0..20_000 {
        let mut bytes = Vec::new();
        arbitrary(&mut rng, &mut bytes, 0);
        assert_same(&bytes);
        let cut = rng.below(bytes.len() as u64 + 1) as usize;
        assert_same(&bytes[..cut]);
    }
}

/// Long text segments: bad UTF-8 in the first 4 KiB window wins over the input ending early;
/// bad UTF-8 after it does not.
#[test]
fn long_text_is_checked_window_by_window() {
    let cases = [
        (10, 5000),
        (4050, 5000),
        (4092, 5000),
        (4093, 5000),
        (4095, 5000),
        (5000, 6000),
    ];
    for (bad_at, cut) in cases {
        let mut bytes = vec![0x82, 0x79, 0x27, 0x10];
        let mut text = vec![b'a'; 10_000];
        text[bad_at] = 0xff;
        bytes.extend(text);
        bytes.truncate(cut);
        assert_same(&bytes);
    }
}
