//! The festival schema: operations are the payloads of log entries, CBOR-encoded and versioned.
//!
//! A payload is the CBOR map `{"v": 1, "op": {"<type>": {...fields}}}`. Decoding checks the version
//! first, then the shape, then everything that can be checked from the operation alone (text
//! lengths, timeframes, coordinates). What depends on other operations (who owns a resource, whether
//! a festival exists) is checked when the operation is applied to a festival's state.
//!
//! Every operation except `festival.create` names the festival it is written in. An author writes
//! one log per festival, so all operations of a log name the same festival.

use serde::{Deserialize, Serialize};

use crate::hash::Hash;
use crate::identity::PublicKey;

mod cbor;

/// The schema version this code writes and reads.
pub const OPERATION_VERSION: u64 = 1;

/// Limits on the free-text fields, in bytes of UTF-8.
pub const MAX_NAME_LEN: usize = 200;
pub const MAX_DESCRIPTION_LEN: usize = 4000;
pub const MAX_URL_LEN: usize = 2000;
/// How many resources one event may request.
pub const MAX_EVENT_RESOURCES: usize = 32;

pub type FestivalId = Hash;
pub type ResourceId = Hash;
pub type EventId = Hash;
/// The id of an operation: the hash of the entry carrying it.
pub type OperationId = Hash;
/// UTC milliseconds since the Unix epoch.
pub type Millis = i64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperationError {
    #[error("payload is not a CBOR operation: {0}")]
    Malformed(String),
    #[error("unknown operation version {0} (this node reads version {OPERATION_VERSION})")]
    UnknownVersion(u64),
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("{field} is longer than {max} bytes")]
    TooLong { field: &'static str, max: usize },
    #[error("an event must end after it starts (start {start}, end {end})")]
    InvalidTimeframe { start: Millis, end: Millis },
    #[error("an event may request at most {MAX_EVENT_RESOURCES} resources")]
    TooManyResources,
    #[error("an event requests the same resource twice")]
    DuplicateResource,
    #[error("coordinates out of range (latitude -90..90, longitude -180..180)")]
    InvalidCoordinates,
    #[error("a festival can be a sub-festival or a fork, not both")]
    ForkWithParent,
    #[error("an update must change something")]
    EmptyUpdate,
}

/// One change to a festival. Field names are the wire names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Operation {
    #[serde(rename = "festival.create")]
    FestivalCreate(FestivalCreate),
    #[serde(rename = "festival.update")]
    FestivalUpdate(FestivalUpdate),
    #[serde(rename = "resource.create")]
    ResourceCreate(ResourceCreate),
    #[serde(rename = "resource.update")]
    ResourceUpdate(ResourceUpdate),
    #[serde(rename = "resource.delete")]
    ResourceDelete(ResourceDelete),
    #[serde(rename = "event.create")]
    EventCreate(EventCreate),
    #[serde(rename = "event.update")]
    EventUpdate(EventUpdate),
    #[serde(rename = "event.cancel")]
    EventCancel(EventCancel),
    #[serde(rename = "authorization")]
    Authorization(Authorization),
    #[serde(rename = "profile.set")]
    ProfileSet(ProfileSet),
}

/// Create a festival: a root festival, a sub-festival (`parent`) or a fork (`fork_of`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FestivalCreate {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<FestivalId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fork_of: Option<ForkOf>,
}

/// Where a fork starts: the source festival's state as it was at `frontier`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForkOf {
    pub festival: FestivalId,
    /// The latest sequence number taken from each log of the source; logs not named are left out.
    pub frontier: Vec<FrontierLog>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontierLog {
    pub author: PublicKey,
    pub log_id: u64,
    pub seq: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FestivalUpdate {
    pub festival: FestivalId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceKind {
    Location(Location),
    Item,
    Skill,
}

/// A place: a street address, coordinates, or a URL for a virtual place.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo: Option<Geo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Geo {
    pub lat: f64,
    pub lon: f64,
}

/// How a resource's owner answers requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyKind {
    /// First come, first served: granted automatically when the timeframe is free.
    Fcfs,
    /// The owner confirms or denies each request by hand.
    Manual,
    /// An application-defined policy, by name.
    Custom(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceCreate {
    pub festival: FestivalId,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub kind: ResourceKind,
    pub policy: PolicyKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceUpdate {
    pub festival: FestivalId,
    pub resource: ResourceId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ResourceKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyKind>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceDelete {
    pub festival: FestivalId,
    pub resource: ResourceId,
}

/// Create an event; this requests its resources for `[start, end)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventCreate {
    pub festival: FestivalId,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub start: Millis,
    pub end: Millis,
    #[serde(default)]
    pub resources: Vec<ResourceId>,
}

/// Change an event. A new timeframe or resource list re-requests the resources: authorizations
/// name the event version they answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventUpdate {
    pub festival: FestivalId,
    pub event: EventId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Start and end change together, so a timeframe can be checked on its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeframe: Option<Timeframe>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Vec<ResourceId>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timeframe {
    pub start: Millis,
    pub end: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventCancel {
    pub festival: FestivalId,
    pub event: EventId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Grant,
    Deny,
}

/// The owner's answer to an event's request for a resource, for one version of the event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authorization {
    pub festival: FestivalId,
    pub event: EventId,
    pub event_version: OperationId,
    pub resource: ResourceId,
    pub decision: Decision,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The author's display name among the festival's members (its context: the festival, its
/// sub-festivals and parents). The latest one an author wrote wins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSet {
    pub festival: FestivalId,
    pub name: String,
}

/// The payload's envelope as serde reads and writes it: what `operation/cbor.rs` is tested
/// against (the types' serde derives stay the reference for the wire format).
#[cfg(test)]
#[derive(Serialize, Deserialize)]
struct Envelope<Op> {
    v: u64,
    op: Op,
}

impl Operation {
    /// Encode as a payload (`{"v": 1, "op": ...}`), after checking it is valid.
    pub fn encode(&self) -> Result<Vec<u8>, OperationError> {
        self.validate()?;
        Ok(cbor::encode(self))
    }

    /// Decode and validate a payload.
    pub fn decode(payload: &[u8]) -> Result<Operation, OperationError> {
        // The version is read first (with the operation skipped), since it decides how to read
        // the rest; then the operation. See `operation/cbor.rs`.
        let op = cbor::decode(payload)?;
        op.validate()?;
        Ok(op)
    }

    /// The festival this operation is written in (for `festival.create`: `None`, it makes one).
    pub fn festival(&self) -> Option<FestivalId> {
        match self {
            Operation::FestivalCreate(_) => None,
            Operation::FestivalUpdate(op) => Some(op.festival),
            Operation::ResourceCreate(op) => Some(op.festival),
            Operation::ResourceUpdate(op) => Some(op.festival),
            Operation::ResourceDelete(op) => Some(op.festival),
            Operation::EventCreate(op) => Some(op.festival),
            Operation::EventUpdate(op) => Some(op.festival),
            Operation::EventCancel(op) => Some(op.festival),
            Operation::Authorization(op) => Some(op.festival),
            Operation::ProfileSet(op) => Some(op.festival),
        }
    }

    /// Everything that can be checked without other operations.
    pub fn validate(&self) -> Result<(), OperationError> {
        match self {
            Operation::FestivalCreate(op) => {
                name("name", &op.name)?;
                text("description", &op.description, MAX_DESCRIPTION_LEN)?;
                if op.parent.is_some() && op.fork_of.is_some() {
                    return Err(OperationError::ForkWithParent);
                }
            }
            Operation::FestivalUpdate(op) => {
                some_change(&[op.name.is_some(), op.description.is_some()])?;
                option(&op.name, |n| name("name", n))?;
                option(&op.description, |d| {
                    text("description", d, MAX_DESCRIPTION_LEN)
                })?;
            }
            Operation::ResourceCreate(op) => {
                name("name", &op.name)?;
                text("description", &op.description, MAX_DESCRIPTION_LEN)?;
                kind(&op.kind)?;
                policy(&op.policy)?;
            }
            Operation::ResourceUpdate(op) => {
                some_change(&[
                    op.name.is_some(),
                    op.description.is_some(),
                    op.kind.is_some(),
                    op.policy.is_some(),
                ])?;
                option(&op.name, |n| name("name", n))?;
                option(&op.description, |d| {
                    text("description", d, MAX_DESCRIPTION_LEN)
                })?;
                option(&op.kind, kind)?;
                option(&op.policy, policy)?;
            }
            Operation::EventCreate(op) => {
                name("title", &op.title)?;
                text("description", &op.description, MAX_DESCRIPTION_LEN)?;
                timeframe(op.start, op.end)?;
                resources(&op.resources)?;
            }
            Operation::EventUpdate(op) => {
                some_change(&[
                    op.title.is_some(),
                    op.description.is_some(),
                    op.timeframe.is_some(),
                    op.resources.is_some(),
                ])?;
                option(&op.title, |t| name("title", t))?;
                option(&op.description, |d| {
                    text("description", d, MAX_DESCRIPTION_LEN)
                })?;
                option(&op.timeframe, |t| timeframe(t.start, t.end))?;
                option(&op.resources, |r| resources(r))?;
            }
            Operation::Authorization(op) => {
                option(&op.reason, |r| text("reason", r, MAX_DESCRIPTION_LEN))?;
            }
            Operation::ProfileSet(op) => name("name", &op.name)?,
            Operation::ResourceDelete(_) | Operation::EventCancel(_) => {}
        }
        Ok(())
    }
}

fn option<T>(
    value: &Option<T>,
    check: impl FnOnce(&T) -> Result<(), OperationError>,
) -> Result<(), OperationError> {
    value.as_ref().map_or(Ok(()), check)
}

fn some_change(fields: &[bool]) -> Result<(), OperationError> {
    if fields.iter().any(|f| *f) {
        Ok(())
    } else {
        Err(OperationError::EmptyUpdate)
    }
}

fn name(field: &'static str, value: &str) -> Result<(), OperationError> {
    if value.trim().is_empty() {
        return Err(OperationError::Empty { field });
    }
    text(field, value, MAX_NAME_LEN)
}

fn text(field: &'static str, value: &str, max: usize) -> Result<(), OperationError> {
    if value.len() > max {
        return Err(OperationError::TooLong { field, max });
    }
    Ok(())
}

fn timeframe(start: Millis, end: Millis) -> Result<(), OperationError> {
    if end <= start {
        return Err(OperationError::InvalidTimeframe { start, end });
    }
    Ok(())
}

fn resources(resources: &[ResourceId]) -> Result<(), OperationError> {
    if resources.len() > MAX_EVENT_RESOURCES {
        return Err(OperationError::TooManyResources);
    }
    // At most 32 ids: comparing pairs is quick, and needs no sort code in the browser package.
    let repeated = (1..resources.len()).any(|i| resources[..i].contains(&resources[i]));
    if repeated {
        return Err(OperationError::DuplicateResource);
    }
    Ok(())
}

fn kind(kind: &ResourceKind) -> Result<(), OperationError> {
    if let ResourceKind::Location(location) = kind {
        option(&location.address, |a| {
            text("address", a, MAX_DESCRIPTION_LEN)
        })?;
        option(&location.url, |u| text("url", u, MAX_URL_LEN))?;
        if let Some(geo) = location.geo {
            let valid = (-90.0..=90.0).contains(&geo.lat) && (-180.0..=180.0).contains(&geo.lon);
            if !valid {
                return Err(OperationError::InvalidCoordinates);
            }
        }
    }
    Ok(())
}

fn policy(policy: &PolicyKind) -> Result<(), OperationError> {
    if let PolicyKind::Custom(custom) = policy {
        name("policy name", custom)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(start: Millis, end: Millis) -> Operation {
        Operation::EventCreate(EventCreate {
            festival: Hash::digest(b"festival"),
            title: "Workshop".into(),
            description: String::new(),
            start,
            end,
            resources: vec![Hash::digest(b"stage")],
        })
    }

    #[test]
    fn every_kind_of_operation_round_trips() {
        let festival = Hash::digest(b"f");
        let ops = vec![
            Operation::FestivalCreate(FestivalCreate {
                name: "Fusion".into(),
                description: "summer".into(),
                parent: None,
                fork_of: Some(ForkOf {
                    festival,
                    frontier: vec![FrontierLog {
                        author: crate::identity::KeyPair::generate().public_key(),
                        log_id: 2,
                        seq: 9,
                    }],
                }),
            }),
            Operation::ResourceCreate(ResourceCreate {
                festival,
                name: "Main stage".into(),
                description: String::new(),
                kind: ResourceKind::Location(Location {
                    address: Some("Field 3".into()),
                    geo: Some(Geo {
                        lat: 53.1,
                        lon: 12.9,
                    }),
                    url: None,
                }),
                policy: PolicyKind::Custom("lottery".into()),
            }),
            event(0, 3_600_000),
            Operation::EventUpdate(EventUpdate {
                festival,
                event: Hash::digest(b"e"),
                title: None,
                description: None,
                timeframe: Some(Timeframe { start: 5, end: 6 }),
                resources: Some(vec![]),
            }),
            Operation::Authorization(Authorization {
                festival,
                event: Hash::digest(b"e"),
                event_version: Hash::digest(b"v"),
                resource: Hash::digest(b"r"),
                decision: Decision::Deny,
                reason: Some("taken".into()),
            }),
            Operation::EventCancel(EventCancel {
                festival,
                event: Hash::digest(b"e"),
            }),
            Operation::ProfileSet(ProfileSet {
                festival,
                name: "Ada".into(),
            }),
        ];
        for op in ops {
            assert_eq!(Operation::decode(&op.encode().unwrap()).unwrap(), op);
        }
    }

    #[test]
    fn invalid_operations_get_typed_errors() {
        assert_eq!(
            event(10, 10).encode(),
            Err(OperationError::InvalidTimeframe { start: 10, end: 10 })
        );
        assert!(matches!(
            Operation::decode(&[0xff, 0x00]),
            Err(OperationError::Malformed(_))
        ));
        let mut payload = event(1, 2).encode().unwrap();
        payload.push(0);
        assert!(matches!(
            Operation::decode(&payload),
            Err(OperationError::Malformed(_))
        ));
    }

    #[test]
    fn an_unknown_version_is_named_as_such() {
        let mut out = Vec::new();
        ciborium::into_writer(
            &Envelope {
                v: 2,
                op: "from the future",
            },
            &mut out,
        )
        .unwrap();
        assert_eq!(
            Operation::decode(&out),
            Err(OperationError::UnknownVersion(2))
        );
    }

    /// Envelopes `encode` does not write are read (or refused) as before the one-pass reader.
    #[test]
    fn other_envelope_shapes_decode_as_before() {
        use ciborium::Value;
        let op = event(1, 2);
        let op_value = Value::serialized(&op).unwrap();
        let cbor = |value: Value| {
            let mut out = Vec::new();
            ciborium::into_writer(&value, &mut out).unwrap();
            out
        };
        let key = |k: &str| Value::Text(k.into());
        let map = |entries: Vec<(Value, Value)>| cbor(Value::Map(entries));
        let v = |n: u64| Value::Integer(n.into());
        // `op` before `v`, and an unknown key, are accepted.
        let op_first = map(vec![(key("op"), op_value.clone()), (key("v"), v(1))]);
        assert_eq!(Operation::decode(&op_first), Ok(op.clone()));
        let extra = map(vec![
            (key("v"), v(1)),
            (key("op"), op_value.clone()),
            (key("x"), v(0)),
        ]);
        assert_eq!(Operation::decode(&extra), Ok(op.clone()));
        // Another version after the operation is still named as such.
        let later = map(vec![(key("op"), op_value.clone()), (key("v"), v(2))]);
        assert_eq!(
            Operation::decode(&later),
            Err(OperationError::UnknownVersion(2))
        );
        // A repeated key is malformed.
        let twice = map(vec![
            (key("v"), v(1)),
            (key("op"), op_value.clone()),
            (key("op"), op_value),
        ]);
        assert!(matches!(
            Operation::decode(&twice),
            Err(OperationError::Malformed(_))
        ));
        // An invalid operation in the usual shape fails validation, not decoding.
        let invalid = map(vec![
            (key("v"), v(1)),
            (key("op"), Value::serialized(&event(2, 1)).unwrap()),
        ]);
        assert_eq!(
            Operation::decode(&invalid),
            Err(OperationError::InvalidTimeframe { start: 2, end: 1 })
        );
    }
}
