//! The payload's CBOR, written and read by hand.
//!
//! Payloads used to go through serde and ciborium; the derived code instantiated ciborium's
//! deserializer once per operation type, which made it the largest part of the WebAssembly
//! module. This module writes the same bytes ciborium wrote and accepts exactly the payloads that
//! reading with ciborium accepted, to the same operations (`cbor/tests.rs` compares the two on
//! generated and mutated payloads). Error messages are this module's own.
//!
//! What "the same" means, from ciborium 0.2 and serde's derived code:
//! - encoding: maps and strings of definite length, integers in their shortest form, floats in
//!   the narrowest width that holds them exactly, `None` fields left out, unit variants as text
//!   and newtype variants as one-entry maps;
//! - decoding is lenient: tags are skipped (tags 2 and 3 are big integers), integers and simple
//!   values may use longer forms than needed, strings may be indefinite (nested chunks too),
//!   map keys may be text or byte strings, unknown envelope keys are skipped (any well-formed
//!   item up to 256 levels deep), and a unit variant written as a map leaves its value to be
//!   read as whatever comes next;
//! - decoding is two passes, as before: the envelope with `op` skipped (so the version decides
//!   first), then the operation.

use super::{
    Authorization, Decision, EventCancel, EventCreate, EventUpdate, FestivalCreate, FestivalUpdate,
    ForkOf, FrontierLog, Geo, Location, Operation, OperationError, PolicyKind, ProfileSet,
    ResourceCreate, ResourceDelete, ResourceKind, ResourceUpdate, Timeframe, OPERATION_VERSION,
};
use crate::cbor::Writer;
use crate::hash::Hash;
use crate::identity::PublicKey;

#[cfg(test)]
mod tests;

/// Why bytes are not a payload: the text of [`OperationError::Malformed`].
type Read<T> = Result<T, &'static str>;

/// ciborium's scratch buffer: the longest key or variant name it reads, and the longest byte
/// string a hash or key may come in.
const SCRATCH: usize = 4096;
/// ciborium's recursion limit (maps, arrays, enums and skipped tags each take a level).
const DEPTH: usize = 256;

const EOF: &str = "the payload ends early";
const SYNTAX: &str = "invalid CBOR";
const UTF8: &str = "text is not UTF-8";
const UNEXPECTED: &str = "an item of another type than the field's";
const TOO_LARGE: &str = "integer out of range";
const UNKNOWN: &str = "unknown field or variant";
const REPEATED: &str = "repeated field";
const MISSING: &str = "missing field";
const TOO_DEEP: &str = "nested too deep";

/// Decode a payload: the envelope (version first), then the operation. Not validated.
pub(super) fn decode(payload: &[u8]) -> Result<Operation, OperationError> {
    let malformed = |reason: &str| OperationError::Malformed(reason.into());
    let (version, ()) = read_all(payload, |r| r.envelope(Reader::skip)).map_err(malformed)?;
    if version != OPERATION_VERSION {
        return Err(OperationError::UnknownVersion(version));
    }
    let (_, op) = read_all(payload, |r| r.envelope(operation)).map_err(malformed)?;
    Ok(op)
}

/// Read one item that must span all of `payload`.
fn read_all<T>(payload: &[u8], read: impl FnOnce(&mut Reader) -> Read<T>) -> Read<T> {
    let mut reader = Reader {
        input: payload,
        pushed: None,
        depth: DEPTH,
    };
    let value = read(&mut reader)?;
    if !reader.input.is_empty() {
        return Err("bytes after the operation");
    }
    Ok(value)
}

/// One CBOR item head, as ciborium-ll reads it.
#[derive(Debug, Clone, Copy)]
enum Header {
    Positive(u64),
    Negative(u64),
    Bytes(Option<usize>),
    Text(Option<usize>),
    Array(Option<usize>),
    Map(Option<usize>),
    Tag(u64),
    Simple(u8),
    Float(f64),
    Break,
}

const NULL: u8 = 22;
const UNDEFINED: u8 = 23;
const BIG_POSITIVE: u64 = 2;
const BIG_NEGATIVE: u64 = 3;

struct Reader<'a> {
    input: &'a [u8],
    /// A head read ahead and put back (ciborium peeks this way).
    pushed: Option<Header>,
    /// Levels of nesting left.
    depth: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Read<&'a [u8]> {
        if self.input.len() < len {
            return Err(EOF);
        }
        let (head, rest) = self.input.split_at(len);
        self.input = rest;
        Ok(head)
    }

    fn pull(&mut self) -> Read<Header> {
        if let Some(header) = self.pushed.take() {
            return Ok(header);
        }
        let first = self.take(1)?[0];
        let info = first & 0x1f;
        let argument = match info {
            0..=23 => Some(u64::from(info)),
            24..=27 => Some(
                self.take(1 << (info - 24))?
                    .iter()
                    .fold(0, |value, &byte| value << 8 | u64::from(byte)),
            ),
            31 => None,
            _ => return Err(SYNTAX),
        };
        let number = || argument.ok_or(SYNTAX);
        // A length that does not fit in memory cannot be followed by that many bytes.
        let len = || {
            argument
                .map(|len| usize::try_from(len).map_err(|_| EOF))
                .transpose()
        };
        Ok(match first >> 5 {
            0 => Header::Positive(number()?),
            1 => Header::Negative(number()?),
            2 => Header::Bytes(len()?),
            3 => Header::Text(len()?),
            4 => Header::Array(len()?),
            5 => Header::Map(len()?),
            6 => Header::Tag(number()?),
            _ => match (info, argument) {
                (31, _) => Header::Break,
                (25, Some(bits)) => Header::Float(f16_to_f64(bits as u16)),
                (26, Some(bits)) => Header::Float(f64::from(f32::from_bits(bits as u32))),
                (27, Some(bits)) => Header::Float(f64::from_bits(bits)),
                // Simple values, in one byte or two.
                (_, bits) => Header::Simple(bits.unwrap_or_default() as u8),
            },
        })
    }

    fn push(&mut self, header: Header) {
        self.pushed = Some(header);
    }

    /// The next head that is not a tag.
    fn untagged(&mut self) -> Read<Header> {
        loop {
            match self.pull()? {
                Header::Tag(_) => continue,
                header => return Ok(header),
            }
        }
    }

    /// Run `read` one level deeper.
    fn nested<T>(&mut self, read: impl FnOnce(&mut Self) -> Read<T>) -> Read<T> {
        if self.depth == 0 {
            return Err(TOO_DEEP);
        }
        self.depth -= 1;
        let value = read(self);
        self.depth += 1;
        value
    }

    /// Whether a map or array of `len` items (`None`: until a break) has another one.
    fn more(&mut self, len: &mut Option<usize>) -> Read<bool> {
        match len {
            Some(0) => Ok(false),
            Some(left) => {
                *left -= 1;
                Ok(true)
            }
            None => match self.pull()? {
                Header::Break => Ok(false),
                header => {
                    self.push(header);
                    Ok(true)
                }
            },
        }
    }

    /// The chunks of a byte or text string whose head was just read: one for a definite length,
    /// the definite chunks of an indefinite one (ciborium also flattens nested indefinite
    /// chunks). Text chunks must each be UTF-8.
    fn chunks(&mut self, len: Option<usize>, text: bool, mut each: impl FnMut(&[u8])) -> Read<()> {
        let Some(len) = len else {
            let mut open = 1;
            loop {
                match (self.pull()?, text) {
                    (Header::Break, _) => {
                        open -= 1;
                        if open == 0 {
                            return Ok(());
                        }
                    }
                    (Header::Text(None), true) | (Header::Bytes(None), false) => open += 1,
                    (Header::Text(Some(len)), true) | (Header::Bytes(Some(len)), false) => {
                        each(self.chunk(len, text)?)
                    }
                    _ => return Err(SYNTAX),
                }
            }
        };
        each(self.chunk(len, text)?);
        Ok(())
    }

    fn chunk(&mut self, len: usize, text: bool) -> Read<&'a [u8]> {
        let bytes = self.take(len)?;
        if text && std::str::from_utf8(bytes).is_err() {
            return Err(UTF8);
        }
        Ok(bytes)
    }

    /// An integer, or a big integer (tag 2 or 3 on a byte string): whether it is negative and
    /// the CBOR argument (the value is `-1 - n` for negative ones).
    fn integer(&mut self) -> Read<(bool, u128)> {
        match self.untagged_but_big()? {
            Header::Positive(value) => Ok((false, value.into())),
            Header::Negative(value) => Ok((true, value.into())),
            Header::Tag(tag) => Ok((tag == BIG_NEGATIVE, self.big()?)),
            _ => Err(UNEXPECTED),
        }
    }

    /// The byte string of a big integer: big-endian, at most 16 bytes after leading zeros.
    fn big(&mut self) -> Read<u128> {
        let Header::Bytes(len) = self.pull()? else {
            return Err(UNEXPECTED);
        };
        let (mut value, mut digits, mut too_large) = (0u128, 0, false);
        self.chunks(len, false, |chunk| {
            for &byte in chunk {
                if digits == 16 {
                    too_large = true;
                } else if digits > 0 || byte != 0 {
                    value = value << 8 | u128::from(byte);
                    digits += 1;
                }
            }
        })?;
        if too_large {
            return Err(TOO_LARGE);
        }
        Ok(value)
    }

    /// The next head that is not a tag, except the tags of big integers.
    fn untagged_but_big(&mut self) -> Read<Header> {
        loop {
            match self.pull()? {
                Header::Tag(tag @ (BIG_POSITIVE | BIG_NEGATIVE)) => return Ok(Header::Tag(tag)),
                Header::Tag(_) => continue,
                header => return Ok(header),
            }
        }
    }

    fn u64(&mut self) -> Read<u64> {
        match self.integer()? {
            (false, value) => u64::try_from(value).map_err(|_| TOO_LARGE),
            (true, _) => Err(TOO_LARGE),
        }
    }

    fn i64(&mut self) -> Read<i64> {
        let (negative, value) = self.integer()?;
        let value = i64::try_from(value).map_err(|_| TOO_LARGE)?;
        Ok(if negative { value ^ !0 } else { value })
    }

    fn f64(&mut self) -> Read<f64> {
        match self.untagged()? {
            Header::Float(value) => Ok(value),
            _ => Err(UNEXPECTED),
        }
    }

    fn string(&mut self) -> Read<String> {
        match self.untagged()? {
            Header::Text(Some(len)) => std::str::from_utf8(self.take(len)?)
                .map(str::to_owned)
                .map_err(|_| UTF8),
            Header::Text(None) => {
                let mut text = Vec::new();
                self.chunks(None, true, |chunk| text.extend_from_slice(chunk))?;
                String::from_utf8(text).map_err(|_| UTF8)
            }
            _ => Err(UNEXPECTED),
        }
    }

    /// A byte string read in one piece (how hashes and keys are read).
    fn bytes(&mut self) -> Read<&'a [u8]> {
        match self.untagged()? {
            Header::Bytes(Some(len)) if len <= SCRATCH => self.take(len),
            _ => Err(UNEXPECTED),
        }
    }

    fn hash(&mut self) -> Read<Hash> {
        Hash::from_bytes(self.bytes()?).map_err(|_| "a hash is 64 bytes")
    }

    fn public_key(&mut self) -> Read<PublicKey> {
        PublicKey::from_bytes(self.bytes()?).map_err(|_| "not an ed25519 public key")
    }

    /// A field or variant name: text or a byte string, of definite length.
    fn name(&mut self) -> Read<&'a [u8]> {
        match self.untagged()? {
            Header::Text(Some(len)) if len <= SCRATCH => self.chunk(len, true),
            Header::Bytes(Some(len)) if len <= SCRATCH => self.take(len),
            _ => Err(UNEXPECTED),
        }
    }

    /// `None` for null or undefined (a tag before them does not count).
    fn option<T>(&mut self, read: impl FnOnce(&mut Self) -> Read<T>) -> Read<Option<T>> {
        match self.pull()? {
            Header::Simple(NULL | UNDEFINED) => Ok(None),
            header => {
                self.push(header);
                read(self).map(Some)
            }
        }
    }

    /// A list; an empty byte string also reads as an empty list (and a non-empty one is refused:
    /// bytes are no hashes or logs).
    fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> Read<T>) -> Read<Vec<T>> {
        match self.untagged()? {
            Header::Array(mut len) => self.nested(|r| {
                let mut items = Vec::new();
                while r.more(&mut len)? {
                    items.push(item(r)?);
                }
                Ok(items)
            }),
            Header::Bytes(len) => {
                let mut empty = true;
                self.chunks(len, false, |chunk| empty &= chunk.is_empty())?;
                if empty {
                    Ok(Vec::new())
                } else {
                    Err(UNEXPECTED)
                }
            }
            _ => Err(UNEXPECTED),
        }
    }

    /// A struct: a map whose keys are `names`, each at most once; `field` reads the value of
    /// the name at the given index. Unknown keys are refused, as all operation types do.
    fn fields(
        &mut self,
        names: &[&str],
        mut field: impl FnMut(&mut Self, usize) -> Read<()>,
    ) -> Read<()> {
        let Header::Map(mut len) = self.untagged()? else {
            return Err(UNEXPECTED);
        };
        self.nested(|r| {
            let mut seen = 0u32;
            while r.more(&mut len)? {
                let name = r.name()?;
                let index = names
                    .iter()
                    .position(|n| n.as_bytes() == name)
                    .ok_or(UNKNOWN)?;
                if seen & 1 << index != 0 {
                    return Err(REPEATED);
                }
                seen |= 1 << index;
                field(r, index)?;
            }
            Ok(())
        })
    }

    /// An enum: a variant name as text (unit variants), or a one-entry map from the name to the
    /// value. `variant` reads the value, if the variant has one, from what follows the name.
    fn variant<T>(&mut self, variant: impl FnOnce(&mut Self, &[u8]) -> Read<T>) -> Read<T> {
        match self.untagged()? {
            Header::Map(Some(1)) => {}
            header @ Header::Text(_) => self.push(header),
            _ => return Err(UNEXPECTED),
        }
        self.nested(|r| {
            let name = r.name()?;
            variant(r, name)
        })
    }

    /// `{"v": version, "op": ...}` in any order, other keys skipped; `op` read by `op`.
    fn envelope<T>(&mut self, mut op: impl FnMut(&mut Self) -> Read<T>) -> Read<(u64, T)> {
        let Header::Map(mut len) = self.untagged()? else {
            return Err(UNEXPECTED);
        };
        let (mut version, mut operation) = (None, None);
        self.nested(|r| {
            while r.more(&mut len)? {
                match r.name()? {
                    b"v" if version.is_some() => return Err(REPEATED),
                    b"v" => version = Some(r.u64()?),
                    b"op" if operation.is_some() => return Err(REPEATED),
                    b"op" => operation = Some(op(r)?),
                    _ => r.skip()?,
                }
            }
            Ok(())
        })?;
        Ok((version.ok_or(MISSING)?, operation.ok_or(MISSING)?))
    }

    /// Skip one well-formed item, as ciborium reads an ignored value.
    fn skip(&mut self) -> Read<()> {
        match self.pull()? {
            Header::Positive(_) | Header::Negative(_) | Header::Float(_) => Ok(()),
            Header::Simple(20..=23) => Ok(()),
            Header::Simple(_) | Header::Break => Err(UNEXPECTED),
            Header::Bytes(len) => self.chunks(len, false, |_| ()),
            Header::Text(len) => self.chunks(len, true, |_| ()),
            Header::Array(mut len) => self.nested(|r| {
                while r.more(&mut len)? {
                    r.skip()?;
                }
                Ok(())
            }),
            Header::Map(mut len) => self.nested(|r| {
                while r.more(&mut len)? {
                    r.skip()?;
                    r.skip()?;
                }
                Ok(())
            }),
            Header::Tag(tag) => {
                let next = self.pull()?;
                self.push(next);
                match next {
                    // A big integer (it must fit in an i128 when negative).
                    Header::Bytes(Some(len))
                        if len <= 16 && (tag == BIG_POSITIVE || tag == BIG_NEGATIVE) =>
                    {
                        let value = self.big()?;
                        if tag == BIG_NEGATIVE && value > i128::MAX as u128 {
                            return Err(TOO_LARGE);
                        }
                        Ok(())
                    }
                    _ => self.nested(Reader::skip),
                }
            }
        }
    }
}

/// A half-precision float, as the `half` crate widens it.
fn f16_to_f64(bits: u16) -> f64 {
    let bits = u64::from(bits);
    let (sign, exponent, mantissa) = ((bits & 0x8000) << 48, bits & 0x7c00, bits & 0x3ff);
    f64::from_bits(match (exponent, mantissa) {
        (0, 0) => sign,
        (0x7c00, 0) => sign | 0x7ff0_0000_0000_0000,
        (0x7c00, _) => sign | 0x7ff8_0000_0000_0000 | mantissa << 42,
        // Subnormal: normalize.
        (0, _) => {
            let shift = u64::from((mantissa as u16).leading_zeros()) - 6;
            sign | (1023 - 15 - shift) << 52 | (mantissa << (43 + shift)) & 0xf_ffff_ffff_ffff
        }
        _ => sign | ((exponent >> 10) + 1023 - 15) << 52 | mantissa << 42,
    })
}

// ---- the operation types ----

fn operation(r: &mut Reader) -> Read<Operation> {
    r.variant(|r, name| {
        Ok(match name {
            b"festival.create" => Operation::FestivalCreate(festival_create(r)?),
            b"festival.update" => Operation::FestivalUpdate(festival_update(r)?),
            b"resource.create" => Operation::ResourceCreate(resource_create(r)?),
            b"resource.update" => Operation::ResourceUpdate(resource_update(r)?),
            b"resource.delete" => Operation::ResourceDelete(resource_delete(r)?),
            b"event.create" => Operation::EventCreate(event_create(r)?),
            b"event.update" => Operation::EventUpdate(event_update(r)?),
            b"event.cancel" => Operation::EventCancel(event_cancel(r)?),
            b"authorization" => Operation::Authorization(authorization(r)?),
            b"profile.set" => Operation::ProfileSet(profile_set(r)?),
            _ => return Err(UNKNOWN),
        })
    })
}

fn festival_create(r: &mut Reader) -> Read<FestivalCreate> {
    let (mut name, mut description, mut parent, mut fork_of) = (None, None, None, None);
    r.fields(&["name", "description", "parent", "fork_of"], |r, field| {
        match field {
            0 => name = Some(r.string()?),
            1 => description = Some(r.string()?),
            2 => parent = r.option(Reader::hash)?,
            _ => fork_of = r.option(self::fork_of)?,
        }
        Ok(())
    })?;
    Ok(FestivalCreate {
        name: name.ok_or(MISSING)?,
        description: description.unwrap_or_default(),
        parent,
        fork_of,
    })
}

fn fork_of(r: &mut Reader) -> Read<ForkOf> {
    let (mut festival, mut frontier) = (None, None);
    r.fields(&["festival", "frontier"], |r, field| {
        match field {
            0 => festival = Some(r.hash()?),
            _ => frontier = Some(r.list(frontier_log)?),
        }
        Ok(())
    })?;
    Ok(ForkOf {
        festival: festival.ok_or(MISSING)?,
        frontier: frontier.ok_or(MISSING)?,
    })
}

fn frontier_log(r: &mut Reader) -> Read<FrontierLog> {
    let (mut author, mut log_id, mut seq) = (None, None, None);
    r.fields(&["author", "log_id", "seq"], |r, field| {
        match field {
            0 => author = Some(r.public_key()?),
            1 => log_id = Some(r.u64()?),
            _ => seq = Some(r.u64()?),
        }
        Ok(())
    })?;
    Ok(FrontierLog {
        author: author.ok_or(MISSING)?,
        log_id: log_id.ok_or(MISSING)?,
        seq: seq.ok_or(MISSING)?,
    })
}

fn festival_update(r: &mut Reader) -> Read<FestivalUpdate> {
    let (mut festival, mut name, mut description) = (None, None, None);
    r.fields(&["festival", "name", "description"], |r, field| {
        match field {
            0 => festival = Some(r.hash()?),
            1 => name = r.option(Reader::string)?,
            _ => description = r.option(Reader::string)?,
        }
        Ok(())
    })?;
    Ok(FestivalUpdate {
        festival: festival.ok_or(MISSING)?,
        name,
        description,
    })
}

fn resource_kind(r: &mut Reader) -> Read<ResourceKind> {
    r.variant(|r, name| match name {
        b"location" => Ok(ResourceKind::Location(location(r)?)),
        b"item" => Ok(ResourceKind::Item),
        b"skill" => Ok(ResourceKind::Skill),
        _ => Err(UNKNOWN),
    })
}

fn location(r: &mut Reader) -> Read<Location> {
    let mut location = Location::default();
    r.fields(&["address", "geo", "url"], |r, field| {
        match field {
            0 => location.address = r.option(Reader::string)?,
            1 => location.geo = r.option(geo)?,
            _ => location.url = r.option(Reader::string)?,
        }
        Ok(())
    })?;
    Ok(location)
}

fn geo(r: &mut Reader) -> Read<Geo> {
    let (mut lat, mut lon) = (None, None);
    r.fields(&["lat", "lon"], |r, field| {
        match field {
            0 => lat = Some(r.f64()?),
            _ => lon = Some(r.f64()?),
        }
        Ok(())
    })?;
    Ok(Geo {
        lat: lat.ok_or(MISSING)?,
        lon: lon.ok_or(MISSING)?,
    })
}

fn policy(r: &mut Reader) -> Read<PolicyKind> {
    r.variant(|r, name| match name {
        b"fcfs" => Ok(PolicyKind::Fcfs),
        b"manual" => Ok(PolicyKind::Manual),
        b"custom" => Ok(PolicyKind::Custom(r.string()?)),
        _ => Err(UNKNOWN),
    })
}

fn resource_create(r: &mut Reader) -> Read<ResourceCreate> {
    let (mut festival, mut name, mut description, mut kind, mut policy) =
        (None, None, None, None, None);
    r.fields(
        &["festival", "name", "description", "kind", "policy"],
        |r, field| {
            match field {
                0 => festival = Some(r.hash()?),
                1 => name = Some(r.string()?),
                2 => description = Some(r.string()?),
                3 => kind = Some(resource_kind(r)?),
                _ => policy = Some(self::policy(r)?),
            }
            Ok(())
        },
    )?;
    Ok(ResourceCreate {
        festival: festival.ok_or(MISSING)?,
        name: name.ok_or(MISSING)?,
        description: description.unwrap_or_default(),
        kind: kind.ok_or(MISSING)?,
        policy: policy.ok_or(MISSING)?,
    })
}

fn resource_update(r: &mut Reader) -> Read<ResourceUpdate> {
    let (mut festival, mut resource) = (None, None);
    let (mut name, mut description, mut kind, mut policy) = (None, None, None, None);
    r.fields(
        &[
            "festival",
            "resource",
            "name",
            "description",
            "kind",
            "policy",
        ],
        |r, field| {
            match field {
                0 => festival = Some(r.hash()?),
                1 => resource = Some(r.hash()?),
                2 => name = r.option(Reader::string)?,
                3 => description = r.option(Reader::string)?,
                4 => kind = r.option(resource_kind)?,
                _ => policy = r.option(self::policy)?,
            }
            Ok(())
        },
    )?;
    Ok(ResourceUpdate {
        festival: festival.ok_or(MISSING)?,
        resource: resource.ok_or(MISSING)?,
        name,
        description,
        kind,
        policy,
    })
}

/// A struct of two hashes (`resource.delete`, `event.cancel`).
fn two_hashes(r: &mut Reader, names: &[&str; 2]) -> Read<(Hash, Hash)> {
    let (mut first, mut second) = (None, None);
    r.fields(names, |r, field| {
        match field {
            0 => first = Some(r.hash()?),
            _ => second = Some(r.hash()?),
        }
        Ok(())
    })?;
    Ok((first.ok_or(MISSING)?, second.ok_or(MISSING)?))
}

fn resource_delete(r: &mut Reader) -> Read<ResourceDelete> {
    let (festival, resource) = two_hashes(r, &["festival", "resource"])?;
    Ok(ResourceDelete { festival, resource })
}

fn event_cancel(r: &mut Reader) -> Read<EventCancel> {
    let (festival, event) = two_hashes(r, &["festival", "event"])?;
    Ok(EventCancel { festival, event })
}

fn event_create(r: &mut Reader) -> Read<EventCreate> {
    let (mut festival, mut title, mut description) = (None, None, None);
    let (mut start, mut end, mut resources) = (None, None, None);
    r.fields(
        &[
            "festival",
            "title",
            "description",
            "start",
            "end",
            "resources",
        ],
        |r, field| {
            match field {
                0 => festival = Some(r.hash()?),
                1 => title = Some(r.string()?),
                2 => description = Some(r.string()?),
                3 => start = Some(r.i64()?),
                4 => end = Some(r.i64()?),
                _ => resources = Some(r.list(Reader::hash)?),
            }
            Ok(())
        },
    )?;
    Ok(EventCreate {
        festival: festival.ok_or(MISSING)?,
        title: title.ok_or(MISSING)?,
        description: description.unwrap_or_default(),
        start: start.ok_or(MISSING)?,
        end: end.ok_or(MISSING)?,
        resources: resources.unwrap_or_default(),
    })
}

fn event_update(r: &mut Reader) -> Read<EventUpdate> {
    let (mut festival, mut event, mut title) = (None, None, None);
    let (mut description, mut timeframe, mut resources) = (None, None, None);
    r.fields(
        &[
            "festival",
            "event",
            "title",
            "description",
            "timeframe",
            "resources",
        ],
        |r, field| {
            match field {
                0 => festival = Some(r.hash()?),
                1 => event = Some(r.hash()?),
                2 => title = r.option(Reader::string)?,
                3 => description = r.option(Reader::string)?,
                4 => timeframe = r.option(self::timeframe)?,
                _ => resources = r.option(|r| r.list(Reader::hash))?,
            }
            Ok(())
        },
    )?;
    Ok(EventUpdate {
        festival: festival.ok_or(MISSING)?,
        event: event.ok_or(MISSING)?,
        title,
        description,
        timeframe,
        resources,
    })
}

fn timeframe(r: &mut Reader) -> Read<Timeframe> {
    let (mut start, mut end) = (None, None);
    r.fields(&["start", "end"], |r, field| {
        match field {
            0 => start = Some(r.i64()?),
            _ => end = Some(r.i64()?),
        }
        Ok(())
    })?;
    Ok(Timeframe {
        start: start.ok_or(MISSING)?,
        end: end.ok_or(MISSING)?,
    })
}

fn decision(r: &mut Reader) -> Read<Decision> {
    r.variant(|_, name| match name {
        b"grant" => Ok(Decision::Grant),
        b"deny" => Ok(Decision::Deny),
        _ => Err(UNKNOWN),
    })
}

fn authorization(r: &mut Reader) -> Read<Authorization> {
    let (mut festival, mut event, mut event_version) = (None, None, None);
    let (mut resource, mut decision, mut reason) = (None, None, None);
    r.fields(
        &[
            "festival",
            "event",
            "event_version",
            "resource",
            "decision",
            "reason",
        ],
        |r, field| {
            match field {
                0 => festival = Some(r.hash()?),
                1 => event = Some(r.hash()?),
                2 => event_version = Some(r.hash()?),
                3 => resource = Some(r.hash()?),
                4 => decision = Some(self::decision(r)?),
                _ => reason = r.option(Reader::string)?,
            }
            Ok(())
        },
    )?;
    Ok(Authorization {
        festival: festival.ok_or(MISSING)?,
        event: event.ok_or(MISSING)?,
        event_version: event_version.ok_or(MISSING)?,
        resource: resource.ok_or(MISSING)?,
        decision: decision.ok_or(MISSING)?,
        reason,
    })
}

fn profile_set(r: &mut Reader) -> Read<ProfileSet> {
    let (mut festival, mut name) = (None, None);
    r.fields(&["festival", "name"], |r, field| {
        match field {
            0 => festival = Some(r.hash()?),
            _ => name = Some(r.string()?),
        }
        Ok(())
    })?;
    Ok(ProfileSet {
        festival: festival.ok_or(MISSING)?,
        name: name.ok_or(MISSING)?,
    })
}

// ---- writing ----

/// Encode `{"v": OPERATION_VERSION, "op": op}` as ciborium wrote it.
pub(super) fn encode(op: &Operation) -> Vec<u8> {
    let mut w = Writer(Vec::new());
    w.map(2);
    w.text("v");
    w.head(0, OPERATION_VERSION);
    w.text("op");
    w.operation(op);
    w.0
}

impl Writer {
    fn hash(&mut self, hash: &Hash) {
        self.bytes(hash.as_bytes());
    }

    fn i64(&mut self, value: i64) {
        if value < 0 {
            self.head(1, value as u64 ^ !0);
        } else {
            self.head(0, value as u64);
        }
    }

    /// The narrowest float that holds `value` exactly.
    fn f64(&mut self, value: f64) {
        if let Some(half) = f64_to_f16_exactly(value) {
            self.0.push(0xf9);
            self.0.extend(half.to_be_bytes());
        } else if f64::from(value as f32).to_bits() == value.to_bits() {
            self.0.push(0xfa);
            self.0.extend((value as f32).to_bits().to_be_bytes());
        } else {
            self.0.push(0xfb);
            self.0.extend(value.to_bits().to_be_bytes());
        }
    }

    /// A struct's field count: `always` fields plus the `Some` ones of `optional`.
    fn fields(&mut self, always: usize, optional: &[bool]) {
        self.map(always + optional.iter().filter(|some| **some).count());
    }

    fn list(&mut self, hashes: &[Hash]) {
        self.head(4, hashes.len() as u64);
        for hash in hashes {
            self.hash(hash);
        }
    }

    /// A newtype variant: `{name: value}` (the value follows).
    fn variant(&mut self, name: &str) {
        self.map(1);
        self.text(name);
    }

    fn optional_text(&mut self, name: &str, value: &Option<String>) {
        if let Some(value) = value {
            self.text(name);
            self.text(value);
        }
    }

    fn operation(&mut self, op: &Operation) {
        match op {
            Operation::FestivalCreate(op) => {
                self.variant("festival.create");
                self.fields(2, &[op.parent.is_some(), op.fork_of.is_some()]);
                self.text("name");
                self.text(&op.name);
                self.text("description");
                self.text(&op.description);
                if let Some(parent) = &op.parent {
                    self.text("parent");
                    self.hash(parent);
                }
                if let Some(fork_of) = &op.fork_of {
                    self.text("fork_of");
                    self.map(2);
                    self.text("festival");
                    self.hash(&fork_of.festival);
                    self.text("frontier");
                    self.head(4, fork_of.frontier.len() as u64);
                    for log in &fork_of.frontier {
                        self.map(3);
                        self.text("author");
                        self.bytes(log.author.as_bytes());
                        self.text("log_id");
                        self.head(0, log.log_id);
                        self.text("seq");
                        self.head(0, log.seq);
                    }
                }
            }
            Operation::FestivalUpdate(op) => {
                self.variant("festival.update");
                self.fields(1, &[op.name.is_some(), op.description.is_some()]);
                self.text("festival");
                self.hash(&op.festival);
                self.optional_text("name", &op.name);
                self.optional_text("description", &op.description);
            }
            Operation::ResourceCreate(op) => {
                self.variant("resource.create");
                self.map(5);
                self.text("festival");
                self.hash(&op.festival);
                self.text("name");
                self.text(&op.name);
                self.text("description");
                self.text(&op.description);
                self.text("kind");
                self.resource_kind(&op.kind);
                self.text("policy");
                self.policy(&op.policy);
            }
            Operation::ResourceUpdate(op) => {
                self.variant("resource.update");
                let optional = [
                    op.name.is_some(),
                    op.description.is_some(),
                    op.kind.is_some(),
                    op.policy.is_some(),
                ];
                self.fields(2, &optional);
                self.text("festival");
                self.hash(&op.festival);
                self.text("resource");
                self.hash(&op.resource);
                self.optional_text("name", &op.name);
                self.optional_text("description", &op.description);
                if let Some(kind) = &op.kind {
                    self.text("kind");
                    self.resource_kind(kind);
                }
                if let Some(policy) = &op.policy {
                    self.text("policy");
                    self.policy(policy);
                }
            }
            Operation::ResourceDelete(op) => {
                self.variant("resource.delete");
                self.map(2);
                self.text("festival");
                self.hash(&op.festival);
                self.text("resource");
                self.hash(&op.resource);
            }
            Operation::EventCreate(op) => {
                self.variant("event.create");
                self.map(6);
                self.text("festival");
                self.hash(&op.festival);
                self.text("title");
                self.text(&op.title);
                self.text("description");
                self.text(&op.description);
                self.text("start");
                self.i64(op.start);
                self.text("end");
                self.i64(op.end);
                self.text("resources");
                self.list(&op.resources);
            }
            Operation::EventUpdate(op) => {
                self.variant("event.update");
                let optional = [
                    op.title.is_some(),
                    op.description.is_some(),
                    op.timeframe.is_some(),
                    op.resources.is_some(),
                ];
                self.fields(2, &optional);
                self.text("festival");
                self.hash(&op.festival);
                self.text("event");
                self.hash(&op.event);
                self.optional_text("title", &op.title);
                self.optional_text("description", &op.description);
                if let Some(timeframe) = &op.timeframe {
                    self.text("timeframe");
                    self.map(2);
                    self.text("start");
                    self.i64(timeframe.start);
                    self.text("end");
                    self.i64(timeframe.end);
                }
                if let Some(resources) = &op.resources {
                    self.text("resources");
                    self.list(resources);
                }
            }
            Operation::EventCancel(op) => {
                self.variant("event.cancel");
                self.map(2);
                self.text("festival");
                self.hash(&op.festival);
                self.text("event");
                self.hash(&op.event);
            }
            Operation::Authorization(op) => {
                self.variant("authorization");
                self.fields(5, &[op.reason.is_some()]);
                self.text("festival");
                self.hash(&op.festival);
                self.text("event");
                self.hash(&op.event);
                self.text("event_version");
                self.hash(&op.event_version);
                self.text("resource");
                self.hash(&op.resource);
                self.text("decision");
                self.text(match op.decision {
                    Decision::Grant => "grant",
                    Decision::Deny => "deny",
                });
                self.optional_text("reason", &op.reason);
            }
            Operation::ProfileSet(op) => {
                self.variant("profile.set");
                self.map(2);
                self.text("festival");
                self.hash(&op.festival);
                self.text("name");
                self.text(&op.name);
            }
        }
    }

    fn resource_kind(&mut self, kind: &ResourceKind) {
        match kind {
            ResourceKind::Location(location) => {
                self.variant("location");
                let Location { address, geo, url } = location;
                self.fields(0, &[address.is_some(), geo.is_some(), url.is_some()]);
                self.optional_text("address", address);
                if let Some(geo) = geo {
                    self.text("geo");
                    self.map(2);
                    self.text("lat");
                    self.f64(geo.lat);
                    self.text("lon");
                    self.f64(geo.lon);
                }
                self.optional_text("url", url);
            }
            ResourceKind::Item => self.text("item"),
            ResourceKind::Skill => self.text("skill"),
        }
    }

    fn policy(&mut self, policy: &PolicyKind) {
        match policy {
            PolicyKind::Fcfs => self.text("fcfs"),
            PolicyKind::Manual => self.text("manual"),
            PolicyKind::Custom(name) => {
                self.variant("custom");
                self.text(name);
            }
        }
    }
}

/// The half-precision bits of `value` when it has them exactly (never for NaN).
fn f64_to_f16_exactly(value: f64) -> Option<u16> {
    let bits = value.to_bits();
    let sign = ((bits >> 48) & 0x8000) as u16;
    if value == 0.0 {
        return Some(sign);
    }
    if value.is_infinite() {
        return Some(sign | 0x7c00);
    }
    let exponent = ((bits >> 52) & 0x7ff) as i32 - 1023;
    let significand = (bits & 0xf_ffff_ffff_ffff) | 1 << 52;
    match exponent {
        // Normal: 10 mantissa bits.
        -14..=15 if bits.trailing_zeros() >= 42 => {
            Some(sign | ((exponent + 15) as u16) << 10 | ((bits >> 42) & 0x3ff) as u16)
        }
        // Subnormal: a multiple of 2^-24 below 2^-14.
        -24..=-15 => {
            let shift = (28 - exponent) as u32;
            (significand.trailing_zeros() >= shift).then_some(sign | (significand >> shift) as u16)
        }
        _ => None,
    }
}
