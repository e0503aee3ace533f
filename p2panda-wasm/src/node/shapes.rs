//! The shapes of data crossing to and from JavaScript: plain objects with camelCase fields, ids
//! and keys as lowercase hex strings, times as milliseconds since the epoch. `index.d.ts`
//! declares the same shapes for TypeScript.

use p2panda_core::festival::{
    Booking, Conflict, EventInfo, FestivalInfo, Request, RequestStatus, ResourceInfo,
};
use p2panda_core::hash::Hash;
use p2panda_core::operation::{self, Geo, Millis, PolicyKind, ResourceKind};
use p2panda_core::sync::PeerStatus;
use serde::{Deserialize, Serialize};

use super::NodeError;

pub(crate) fn hash_arg(what: &str, hex: &str) -> Result<Hash, NodeError> {
    hex.parse()
        .map_err(|_| NodeError::InvalidArgument(format!("{what} must be a 128-character hex id")))
}

fn hex_of(hash: &Hash) -> String {
    hash.to_hex()
}

// ---- input ----

/// A resource's kind as JS gives it: `{ type: "location", address?, geo?, url? }`,
/// `{ type: "item" }` or `{ type: "skill" }`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub(crate) enum KindJs {
    Location {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        geo: Option<GeoJs>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
    },
    Item,
    Skill,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GeoJs {
    lat: f64,
    lon: f64,
}

impl From<KindJs> for ResourceKind {
    fn from(kind: KindJs) -> Self {
        match kind {
            KindJs::Location { address, geo, url } => ResourceKind::Location(operation::Location {
                address,
                geo: geo.map(|g| Geo {
                    lat: g.lat,
                    lon: g.lon,
                }),
                url,
            }),
            KindJs::Item => ResourceKind::Item,
            KindJs::Skill => ResourceKind::Skill,
        }
    }
}

impl From<&ResourceKind> for KindJs {
    fn from(kind: &ResourceKind) -> Self {
        match kind {
            ResourceKind::Location(l) => KindJs::Location {
                address: l.address.clone(),
                geo: l.geo.map(|g| GeoJs {
                    lat: g.lat,
                    lon: g.lon,
                }),
                url: l.url.clone(),
            },
            ResourceKind::Item => KindJs::Item,
            ResourceKind::Skill => KindJs::Skill,
        }
    }
}

/// `"fcfs"`, `"manual"` or `{ custom: "name" }` (a policy registered with `registerPolicy`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum PolicyJs {
    Builtin(String),
    Custom { custom: String },
}

impl TryFrom<PolicyJs> for PolicyKind {
    type Error = NodeError;
    fn try_from(policy: PolicyJs) -> Result<Self, NodeError> {
        match policy {
            PolicyJs::Builtin(name) if name == "fcfs" => Ok(PolicyKind::Fcfs),
            PolicyJs::Builtin(name) if name == "manual" => Ok(PolicyKind::Manual),
            PolicyJs::Builtin(name) => Err(NodeError::InvalidArgument(format!(
                "unknown policy \"{name}\": use \"fcfs\", \"manual\" or {{ custom: name }}"
            ))),
            PolicyJs::Custom { custom } => Ok(PolicyKind::Custom(custom)),
        }
    }
}

impl From<&PolicyKind> for PolicyJs {
    fn from(policy: &PolicyKind) -> Self {
        match policy {
            PolicyKind::Fcfs => PolicyJs::Builtin("fcfs".into()),
            PolicyKind::Manual => PolicyJs::Builtin("manual".into()),
            PolicyKind::Custom(name) => PolicyJs::Custom {
                custom: name.clone(),
            },
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FestivalInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub parent: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ForkInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FestivalChanges {
    pub name: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResourceInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub kind: KindJs,
    #[serde(default)]
    pub policy: Option<PolicyJs>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResourceChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub kind: Option<KindJs>,
    pub policy: Option<PolicyJs>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventInput {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub start: Millis,
    pub end: Millis,
    #[serde(default)]
    pub resources: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub start: Option<Millis>,
    pub end: Option<Millis>,
    pub resources: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct AuthorizationInput {
    pub event: String,
    pub resource: String,
    pub decision: DecisionJs,
    #[serde(default)]
    pub reason: Option<String>,
    /// The event version answered; the current one when left out.
    #[serde(default)]
    pub event_version: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DecisionJs {
    Grant,
    Deny,
}

impl From<DecisionJs> for operation::Decision {
    fn from(decision: DecisionJs) -> Self {
        match decision {
            DecisionJs::Grant => operation::Decision::Grant,
            DecisionJs::Deny => operation::Decision::Deny,
        }
    }
}

/// What a JS policy callback answers: a decision with an optional reason, or `null` to leave the
/// request for the owner to answer by hand.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VerdictJs {
    pub decision: DecisionJs,
    #[serde(default)]
    pub reason: Option<String>,
}

// ---- output ----

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FestivalJs {
    id: String,
    name: String,
    description: String,
    creator: String,
    parent: Option<String>,
    fork_of: Option<String>,
    sub_festivals: Vec<String>,
    joined: bool,
    /// Joined but not received from any peer yet: only the id is known.
    pending: bool,
}

impl FestivalJs {
    pub fn new(info: FestivalInfo, joined: bool) -> Self {
        FestivalJs {
            id: hex_of(&info.id),
            name: info.name,
            description: info.description,
            creator: info.creator.to_hex(),
            parent: info.parent.as_ref().map(hex_of),
            fork_of: info.fork_of.as_ref().map(hex_of),
            sub_festivals: info.sub_festivals.iter().map(hex_of).collect(),
            joined,
            pending: false,
        }
    }

    /// A joined festival whose creation has not arrived yet.
    pub fn placeholder(id: Hash) -> Self {
        FestivalJs {
            id: hex_of(&id),
            name: String::new(),
            description: String::new(),
            creator: String::new(),
            parent: None,
            fork_of: None,
            sub_festivals: Vec::new(),
            joined: true,
            pending: true,
        }
    }
}

#[derive(Serialize)]
pub(crate) struct ResourceJs {
    id: String,
    festival: String,
    owner: String,
    name: String,
    description: String,
    kind: KindJs,
    policy: PolicyJs,
    deleted: bool,
}

impl From<ResourceInfo> for ResourceJs {
    fn from(info: ResourceInfo) -> Self {
        ResourceJs {
            id: hex_of(&info.id),
            festival: hex_of(&info.festival),
            owner: info.owner.to_hex(),
            kind: KindJs::from(&info.kind),
            policy: PolicyJs::from(&info.policy),
            name: info.name,
            description: info.description,
            deleted: info.deleted,
        }
    }
}

#[derive(Serialize)]
pub(crate) struct StatusJs {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

impl From<&RequestStatus> for StatusJs {
    fn from(status: &RequestStatus) -> Self {
        let (status, reason) = match status {
            RequestStatus::Pending => ("pending", None),
            RequestStatus::Granted => ("granted", None),
            RequestStatus::Denied { reason } => ("denied", reason.clone()),
            RequestStatus::ResourceDeleted => ("resourceDeleted", None),
        };
        StatusJs { status, reason }
    }
}

#[derive(Serialize)]
pub(crate) struct RequestedJs {
    resource: String,
    #[serde(flatten)]
    status: StatusJs,
}

#[derive(Serialize)]
pub(crate) struct EventJs {
    id: String,
    festival: String,
    creator: String,
    version: String,
    title: String,
    description: String,
    start: Millis,
    end: Millis,
    cancelled: bool,
    /// Share of requested resources granted (1 when it requests none).
    confirmed: f64,
    resources: Vec<RequestedJs>,
}

impl From<EventInfo> for EventJs {
    fn from(info: EventInfo) -> Self {
        EventJs {
            confirmed: info.confirmed(),
            id: hex_of(&info.id),
            festival: hex_of(&info.festival),
            creator: info.creator.to_hex(),
            version: hex_of(&info.version),
            title: info.title,
            description: info.description,
            start: info.start,
            end: info.end,
            cancelled: info.cancelled,
            resources: info
                .resources
                .iter()
                .map(|(resource, status)| RequestedJs {
                    resource: hex_of(resource),
                    status: status.into(),
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
pub(crate) struct BookingJs {
    event: String,
    start: Millis,
    end: Millis,
    #[serde(flatten)]
    status: StatusJs,
}

impl From<Booking> for BookingJs {
    fn from(booking: Booking) -> Self {
        BookingJs {
            event: hex_of(&booking.event),
            start: booking.start,
            end: booking.end,
            status: (&booking.status).into(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RequestJs {
    event: String,
    event_version: String,
    resource: String,
    start: Millis,
    end: Millis,
}

impl From<&Request> for RequestJs {
    fn from(request: &Request) -> Self {
        RequestJs {
            event: hex_of(&request.event),
            event_version: hex_of(&request.event_version),
            resource: hex_of(&request.resource),
            start: request.start,
            end: request.end,
        }
    }
}

#[derive(Serialize)]
pub(crate) struct ConflictJs {
    resource: String,
    first: String,
    second: String,
}

impl From<Conflict> for ConflictJs {
    fn from(conflict: Conflict) -> Self {
        ConflictJs {
            resource: hex_of(&conflict.resource),
            first: hex_of(&conflict.first),
            second: hex_of(&conflict.second),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PeerJs {
    peer: f64,
    public_key: Option<String>,
    shared_festivals: usize,
    /// Entries the peer announced that this node does not hold yet.
    missing: f64,
    caught_up: bool,
    bytes_sent: f64,
    bytes_received: f64,
}

impl From<PeerStatus> for PeerJs {
    fn from(status: PeerStatus) -> Self {
        PeerJs {
            peer: status.peer as f64,
            public_key: status.key.map(|k| k.to_hex()),
            shared_festivals: status.shared_topics,
            missing: status.missing as f64,
            caught_up: status.caught_up,
            bytes_sent: status.bytes_sent as f64,
            bytes_received: status.bytes_received as f64,
        }
    }
}

/// Totals across all peers, for a progress bar.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProgressJs {
    pub peers: usize,
    pub missing: f64,
    pub entries_received: f64,
    pub entries_stored: f64,
    pub caught_up: bool,
}
