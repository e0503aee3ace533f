//! The hand-written codec against ciborium and serde, which the payloads went through before:
//! the same bytes written, and the same payloads accepted as the same operations (or refused,
//! with the same kind of error) on generated operations, re-encoded in the many ways ciborium
//! reads, and mutated byte by byte.

use ciborium::Value;
use serde::de::IgnoredAny;

use super::super::{Envelope, Operation, OperationError, OPERATION_VERSION};
use super::*;
use crate::hash::Hash;
use crate::identity::KeyPair;

/// What `Operation::decode` did before this module: two passes through ciborium.
fn decode_reference(payload: &[u8]) -> Result<Operation, OperationError> {
    fn read<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, OperationError> {
        let mut reader = bytes;
        let value = ciborium::from_reader(&mut reader)
            .map_err(|e| OperationError::Malformed(e.to_string()))?;
        if !reader.is_empty() {
            return Err(OperationError::Malformed("trailing bytes".into()));
        }
        Ok(value)
    }
    let envelope: Envelope<IgnoredAny> = read(payload)?;
    if envelope.v != OPERATION_VERSION {
        return Err(OperationError::UnknownVersion(envelope.v));
    }
    let envelope: Envelope<Operation> = read(payload)?;
    envelope.op.validate()?;
    Ok(envelope.op)
}

fn encode_reference(op: &Operation) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(
        &Envelope {
            v: OPERATION_VERSION,
            op,
        },
        &mut out,
    )
    .expect("writing to a Vec");
    out
}

fn decode_validated(payload: &[u8]) -> Result<Operation, OperationError> {
    let op = decode(payload)?;
    op.validate()?;
    Ok(op)
}

/// Both decoders give the same operation, or the same error (any `Malformed` text).
fn assert_same(payload: &[u8]) -> bool {
    let (ours, reference) = (decode_validated(payload), decode_reference(payload));
    let same = match (&ours, &reference) {
        (Err(OperationError::Malformed(_)), Err(OperationError::Malformed(_))) => true,
        _ => ours == reference,
    };
    assert!(
        same,
        "{}: ours {ours:?}, reference {reference:?}",
        hex::encode(payload)
    );
    ours.is_ok()
}

/// SplitMix64, driven by proptest's seed.
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
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn text(&mut self) -> String {
        const PIECES: [&str; 8] = ["a", "Fest", " ", "é", "🐼", "\n", "\u{0}", "stage 3"];
        let len = match self.below(10) {
            0 => 0,
            1 => 150 + self.below(80),
            _ => self.below(6),
        };
        (0..len).map(|_| PIECES[self.below(8) as usize]).collect()
    }
    fn opt_text(&mut self) -> Option<String> {
        self.chance(50).then(|| self.text())
    }
    fn hash(&mut self) -> Hash {
        Hash::digest(&self.below(6).to_le_bytes())
    }
    fn int(&mut self) -> i64 {
        match self.below(5) {
            0 => self.next() as i64,
            1 => -(self.below(1000) as i64),
            2 => i64::MIN + self.below(3) as i64,
            _ => self.below(100_000) as i64,
        }
    }
    fn float(&mut self) -> f64 {
        match self.below(6) {
            0 => self.below(181) as f64 - 90.0,
            1 => (self.below(1 << 20) as f64 - 524_288.0) / 4096.0,
            2 => f64::from_bits(self.next()),
            3 => f64::from_bits(self.below(1 << 20)),
            4 => -0.0,
            _ => (self.below(360) as f64 - 180.0) * 0.1,
        }
    }
    fn kind(&mut self) -> ResourceKind {
        match self.below(3) {
            0 => ResourceKind::Location(Location {
                address: self.opt_text(),
                geo: self.chance(60).then(|| Geo {
                    lat: self.float(),
                    lon: self.float(),
                }),
                url: self.opt_text(),
            }),
            1 => ResourceKind::Item,
            _ => ResourceKind::Skill,
        }
    }
    fn policy(&mut self) -> PolicyKind {
        match self.below(3) {
            0 => PolicyKind::Fcfs,
            1 => PolicyKind::Manual,
            _ => PolicyKind::Custom(self.text()),
        }
    }
    fn hashes(&mut self) -> Vec<Hash> {
        (0..self.below(4)).map(|_| self.hash()).collect()
    }
    fn operation(&mut self, keys: &[KeyPair]) -> Operation {
        let festival = self.hash();
        match self.below(10) {
            0 => Operation::FestivalCreate(FestivalCreate {
                name: self.text(),
                description: self.text(),
                parent: self.chance(30).then(|| self.hash()),
                fork_of: self.chance(30).then(|| ForkOf {
                    festival,
                    frontier: (0..self.below(3))
                        .map(|i| FrontierLog {
                            author: keys[i as usize % keys.len()].public_key(),
                            log_id: self.int() as u64,
                            seq: self.int() as u64,
                        })
                        .collect(),
                }),
            }),
            1 => Operation::FestivalUpdate(FestivalUpdate {
                festival,
                name: self.opt_text(),
                description: self.opt_text(),
            }),
            2 => Operation::ResourceCreate(ResourceCreate {
                festival,
                name: self.text(),
                description: self.text(),
                kind: self.kind(),
                policy: self.policy(),
            }),
            3 => Operation::ResourceUpdate(ResourceUpdate {
                festival,
                resource: self.hash(),
                name: self.opt_text(),
                description: self.opt_text(),
                kind: self.chance(50).then(|| self.kind()),
                policy: self.chance(50).then(|| self.policy()),
            }),
            4 => Operation::ResourceDelete(ResourceDelete {
                festival,
                resource: self.hash(),
            }),
            5 => Operation::EventCreate(EventCreate {
                festival,
                title: self.text(),
                description: self.text(),
                start: self.int(),
                end: self.int(),
                resources: self.hashes(),
            }),
            6 => Operation::EventUpdate(EventUpdate {
                festival,
                event: self.hash(),
                title: self.opt_text(),
                description: self.opt_text(),
                timeframe: self.chance(50).then(|| Timeframe {
                    start: self.int(),
                    end: self.int(),
                }),
                resources: self.chance(50).then(|| self.hashes()),
            }),
            7 => Operation::EventCancel(EventCancel {
                festival,
                event: self.hash(),
            }),
            8 => Operation::Authorization(Authorization {
                festival,
                event: self.hash(),
                event_version: self.hash(),
                resource: self.hash(),
                decision: if self.chance(50) {
                    Decision::Grant
                } else {
                    Decision::Deny
                },
                reason: self.opt_text(),
            }),
            _ => Operation::ProfileSet(ProfileSet {
                festival,
                name: self.text(),
            }),
        }
    }
}

fn keys() -> Vec<KeyPair> {
    (0..3).map(|_| KeyPair::generate()).collect()
}

/// CBOR written the many ways ciborium reads it: longer integer heads, big integers, tags,
/// indefinite lengths, chunked strings, byte-string keys, wider floats, two-byte simple values,
/// reordered, repeated, added and dropped map entries, enums in the other form.
struct Variants<'r> {
    rng: &'r mut Rng,
    /// Percent chance of each change at each item.
    rate: u64,
}

impl Variants<'_> {
    fn head(&mut self, out: &mut Vec<u8>, major: u8, value: u64) {
        let needed = match value {
            0..=23 => 0,
            24..=0xff => 1,
            0x100..=0xffff => 2,
            0x1_0000..=0xffff_ffff => 3,
            _ => 4,
        };
        let width = if self.rng.chance(self.rate) {
            needed + self.rng.below(5 - needed)
        } else {
            needed
        };
        match width {
            0 => out.push(major << 5 | value as u8),
            _ => {
                out.push(major << 5 | (23 + width as u8));
                let bytes = 1usize << (width - 1);
                out.extend_from_slice(&value.to_be_bytes()[8 - bytes..]);
            }
        }
    }

    fn text(&mut self, out: &mut Vec<u8>, text: &str, major: u8) {
        if !self.rng.chance(self.rate) {
            self.head(out, major, text.len() as u64);
            out.extend_from_slice(text.as_bytes());
            return;
        }
        // Indefinite: chunks at character boundaries (or anywhere, which breaks UTF-8), maybe
        // nested.
        out.push(major << 5 | 31);
        let mut rest = text;
        while !rest.is_empty() {
            let mut cut = 1 + self.rng.below(rest.len() as u64) as usize;
            while !rest.is_char_boundary(cut) && !self.rng.chance(5) {
                cut += 1;
            }
            let cut = cut.min(rest.len());
            let (chunk, tail) = rest.as_bytes().split_at(cut);
            if self.rng.chance(10) {
                out.push(major << 5 | 31);
                self.head(out, major, chunk.len() as u64);
                out.extend_from_slice(chunk);
                out.push(0xff);
            } else {
                self.head(out, major, chunk.len() as u64);
                out.extend_from_slice(chunk);
            }
            rest = std::str::from_utf8(tail).unwrap_or_default();
        }
        out.push(0xff);
    }

    fn value(&mut self, out: &mut Vec<u8>, value: &Value) {
        if self.rng.chance(self.rate / 2) {
            let tag = [0, 2, 3, 24, 55_799, 1 << 40][self.rng.below(6) as usize];
            self.head(out, 6, tag);
        }
        match value {
            Value::Integer(integer) => {
                let integer = i128::from(*integer);
                let (major, raw) = if integer < 0 {
                    (1, (-1 - integer) as u128)
                } else {
                    (0, integer as u128)
                };
                if raw <= u128::from(u64::MAX) && !self.rng.chance(self.rate / 2) {
                    self.head(out, major, raw as u64);
                } else {
                    self.head(out, 6, 2 + u64::from(major));
                    let zeros = self.rng.below(3) as usize;
                    let mut bytes = vec![0u8; zeros];
                    bytes.extend(raw.to_be_bytes().iter().skip_while(|b| **b == 0));
                    self.head(out, 2, bytes.len() as u64);
                    out.extend(bytes);
                }
            }
            Value::Bytes(bytes) => {
                if self.rng.chance(self.rate / 2) {
                    out.push(0x5f);
                    for chunk in bytes.chunks(1 + self.rng.below(64) as usize) {
                        self.head(out, 2, chunk.len() as u64);
                        out.extend_from_slice(chunk);
                    }
                    out.push(0xff);
                } else {
                    self.head(out, 2, bytes.len() as u64);
                    out.extend_from_slice(bytes);
                }
            }
            Value::Text(text) => {
                let major = if self.rng.chance(self.rate / 3) { 2 } else { 3 };
                self.text(out, text, major);
            }
            Value::Float(float) => {
                let float = *float;
                match self.rng.below(3) {
                    0 if self.rng.chance(self.rate) => {
                        out.push(0xfb);
                        out.extend(float.to_bits().to_be_bytes());
                    }
                    1 if self.rng.chance(self.rate)
                        && f64::from(float as f32).to_bits() == float.to_bits() =>
                    {
                        out.push(0xfa);
                        out.extend((float as f32).to_bits().to_be_bytes());
                    }
                    _ => out.extend(cbor_of(&Value::Float(float))),
                }
            }
            Value::Null => {
                if self.rng.chance(self.rate) {
                    out.extend([0xf8, 22 + self.rng.below(2) as u8]);
                } else {
                    out.push(0xf6);
                }
            }
            Value::Array(items) => {
                let indefinite = self.rng.chance(self.rate);
                if indefinite {
                    out.push(0x9f);
                } else {
                    self.head(out, 4, items.len() as u64);
                }
                for item in items {
                    self.value(out, item);
                }
                if indefinite {
                    out.push(0xff);
                }
            }
            Value::Map(entries) => self.map(out, entries),
            other => out.extend(cbor_of(other)),
        }
    }

    fn map(&mut self, out: &mut Vec<u8>, entries: &[(Value, Value)]) {
        let mut entries = entries.to_vec();
        // A one-entry map with a text key may be an enum: write a unit variant as a map (its
        // value then read as what follows) or a newtype variant as text (its value following).
        if entries.len() == 1 && self.rng.chance(self.rate) {
            if let (Value::Text(_), value) = &entries[0] {
                let value = value.clone();
                self.value(out, &entries[0].0);
                self.value(out, &value);
                return;
            }
        }
        if self.rng.chance(self.rate) {
            let at = self.rng.below(entries.len() as u64 + 1) as usize;
            let entry = match self.rng.below(3) {
                0 if !entries.is_empty() => {
                    entries[self.rng.below(entries.len() as u64) as usize].clone()
                }
                1 => (Value::Text("x".into()), Value::Array(vec![Value::Null])),
                _ => (Value::Text("v".into()), Value::Integer(1.into())),
            };
            entries.insert(at, entry);
        }
        if self.rng.chance(self.rate) && !entries.is_empty() {
            entries.remove(self.rng.below(entries.len() as u64) as usize);
        }
        if self.rng.chance(self.rate) {
            for i in (1..entries.len()).rev() {
                entries.swap(i, self.rng.below(i as u64 + 1) as usize);
            }
        }
        let indefinite = self.rng.chance(self.rate);
        if indefinite {
            out.push(0xbf);
        } else {
            self.head(out, 5, entries.len() as u64);
        }
        for (key, value) in &entries {
            self.value(out, key);
            self.value(out, value);
        }
        if indefinite {
            out.push(0xff);
        }
    }
}

fn cbor_of(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).expect("writing to a Vec");
    out
}

/// Single-byte changes, truncations and appended bytes of `payload`, a few of each.
fn mutants(payload: &[u8], rng: &mut Rng) -> Vec<Vec<u8>> {
    let mut all = Vec::new();
    for _ in 0..8 {
        let mut mutant = payload.to_vec();
        let at = rng.below(payload.len() as u64) as usize;
        match rng.below(4) {
            0 => mutant[at] ^= 1 << rng.below(8),
            1 => mutant[at] = rng.next() as u8,
            2 => {
                mutant.remove(at);
            }
            _ => mutant.insert(at, rng.next() as u8),
        }
        all.push(mutant);
    }
    all.push(payload[..rng.below(payload.len() as u64) as usize].to_vec());
    let mut longer = payload.to_vec();
    longer.push(rng.next() as u8);
    all.push(longer);
    all
}

#[test]
fn half_floats_widen_as_ciborium_widens_them() {
    for bits in 0..=u16::MAX {
        let payload = [0xf9, (bits >> 8) as u8, bits as u8];
        let theirs: f64 = ciborium::from_reader(&payload[..]).expect("a float");
        let mut reader = Reader {
            input: &payload,
            pushed: None,
            depth: DEPTH,
        };
        let ours = reader.f64().expect("a float");
        assert_eq!(ours.to_bits(), theirs.to_bits(), "{bits:#06x}");
    }
}

#[test]
fn floats_are_written_as_ciborium_writes_them() {
    let mut rng = Rng(7);
    let specials = [
        0.0, -0.0, 1.0, 65504.0, 65520.0, 6.0e-8, 5.96e-8, 1e-300, 1e300,
    ];
    let values = (0..20_000).map(|_| rng.float()).chain(specials);
    let values = values.chain((0..=u16::MAX).map(f16_to_f64).filter(|f| !f.is_nan()));
    for value in values.chain((0..5_000).map(|i| f64::from(f32::from_bits(i * 858_993)))) {
        let op = Operation::ResourceCreate(ResourceCreate {
            festival: Hash::digest(b"f"),
            name: "n".into(),
            description: String::new(),
            kind: ResourceKind::Location(Location {
                geo: Some(Geo {
                    lat: value,
                    lon: -value,
                }),
                ..Location::default()
            }),
            policy: PolicyKind::Fcfs,
        });
        if value.is_nan() {
            continue;
        }
        assert_eq!(encode(&op), encode_reference(&op), "{value:e}");
    }
}

#[test]
fn a_unit_variant_written_as_a_map_reads_as_before() {
    // ciborium leaves the value of `{"item": value}` unread, so it is read as the next key;
    // `"custom"` as text reads its name from the item after it. Both passes then line up.
    let h = Value::Bytes(Hash::digest(b"f").as_bytes().to_vec());
    let t = |s: &str| Value::Text(s.into());
    let mut op = Vec::new();
    op.push(0xa5);
    for item in [
        t("festival"),
        h,
        t("name"),
        t("N"),
        t("description"),
        t("D"),
        t("kind"),
    ] {
        op.extend(cbor_of(&item));
    }
    op.push(0xa1);
    for item in [t("item"), t("policy"), t("custom"), t("lottery")] {
        op.extend(cbor_of(&item));
    }
    let mut payload = cbor_of(&Value::Map(vec![(t("v"), Value::Integer(1.into()))]));
    payload[0] = 0xa2;
    payload.extend(cbor_of(&t("op")));
    payload.push(0xa1);
    payload.extend(cbor_of(&t("resource.create")));
    payload.extend(op);
    assert!(assert_same(&payload), "the reference accepts it");
    assert!(matches!(
        decode(&payload),
        Ok(Operation::ResourceCreate(ResourceCreate {
            kind: ResourceKind::Item,
            policy: PolicyKind::Custom(_),
            ..
        }))
    ));
}

#[test]
fn an_operation_named_as_text_is_refused_as_before() {
    // `"op": "festival.create"` followed by the fields: the operation would read, but the
    // envelope pass sees the fields as a key.
    let t = |s: &str| Value::Text(s.into());
    let mut payload = vec![0xa2];
    for item in [
        t("v"),
        Value::Integer(1.into()),
        t("op"),
        t("festival.create"),
    ] {
        payload.extend(cbor_of(&item));
    }
    payload.extend(cbor_of(&Value::Map(vec![(t("name"), t("F"))])));
    assert_same(&payload);
    assert!(matches!(
        decode(&payload),
        Err(OperationError::Malformed(_))
    ));
}

#[test]
fn deep_nesting_in_skipped_keys_is_refused_as_before() {
    let t = |s: &str| Value::Text(s.into());
    for depth in [250, 253, 254, 255, 256, 300] {
        let mut payload = vec![0xa3];
        payload.extend(cbor_of(&t("x")));
        payload.extend(std::iter::repeat_n(0x81, depth));
        payload.push(0x00);
        for item in [t("v"), Value::Integer(1.into()), t("op")] {
            payload.extend(cbor_of(&item));
        }
        payload.extend(
            &encode(&Operation::EventCancel(EventCancel {
                festival: Hash::digest(b"f"),
                event: Hash::digest(b"e"),
            }))[7..],
        );
        assert_same(&payload);
    }
}

proptest::proptest! {
    #[test]
    fn operations_are_written_as_ciborium_writes_them(seed: u64) {
        let (mut rng, keys) = (Rng(seed), keys());
        for _ in 0..20 {
            let op = rng.operation(&keys);
            proptest::prop_assert_eq!(encode(&op), encode_reference(&op));
            assert_same(&encode(&op));
        }
    }

    #[test]
    fn payloads_written_other_ways_read_as_before(seed: u64) {
        let (mut rng, keys) = (Rng(seed), keys());
        let (mut accepted, mut total) = (0, 0);
        for _ in 0..10 {
            let op = rng.operation(&keys);
            let value: Value = ciborium::from_reader(&encode(&op)[..]).expect("CBOR");
            for rate in [2, 5, 15, 40] {
                let mut payload = Vec::new();
                Variants { rng: &mut rng, rate }.value(&mut payload, &value);
                accepted += usize::from(assert_same(&payload));
                total += 1;
                for mutant in mutants(&payload, &mut rng) {
                    assert_same(&mutant);
                }
            }
        }
        proptest::prop_assert!(total > 0 && accepted <= total);
    }

    #[test]
    fn random_bytes_read_as_before(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
        assert_same(&bytes);
        let mut with_envelope = vec![0xa2, 0x61, b'v', 0x01, 0x62, b'o', b'p'];
        with_envelope.extend(&bytes);
        assert_same(&with_envelope);
    }
}
