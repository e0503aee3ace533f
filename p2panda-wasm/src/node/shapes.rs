//! The shapes of data crossing to and from JavaScript: plain objects with camelCase fields, ids
//! and keys as lowercase hex strings, times as milliseconds since the epoch. `index.d.ts`
//! declares the same shapes for TypeScript.
//!
//! Each shape converts itself by hand ([`FromJs`] for arguments, [`ToJs`] for results; helpers
//! in `shapes/js.rs`): far less WebAssembly than serde. The serde attributes, compiled in test
//! builds only, describe the shapes as serde-wasm-bindgen read and wrote them; `shapes/tests.rs`
//! checks the hand-written conversions against them.

use p2panda_core::festival::{
    Booking, Conflict, Cursor, EventInfo, FestivalInfo, Profile, RejectedInfo, Request,
    RequestInfo, RequestStatus, ResourceInfo, StatusKind,
};
use p2panda_core::hash::Hash;
use p2panda_core::identity::PublicKey;
use p2panda_core::operation::{self, Geo, Millis, PolicyKind, ResourceKind};
use p2panda_core::sync::PeerStatus;

use wasm_bindgen::JsValue;

use super::NodeError;

mod js;
#[cfg(all(test, target_arch = "wasm32"))]
mod tests;

use js::{nullable, set};
pub(crate) use js::{object, string, Fields, FromJs, ToJs};

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
#[derive(Debug, Clone)]
#[cfg_attr(test, derive(PartialEq, serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    test,
    serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)
)]
pub(crate) enum KindJs {
    Location {
        #[cfg_attr(test, serde(default, skip_serializing_if = "Option::is_none"))]
        address: Option<String>,
        #[cfg_attr(test, serde(default, skip_serializing_if = "Option::is_none"))]
        geo: Option<GeoJs>,
        #[cfg_attr(test, serde(default, skip_serializing_if = "Option::is_none"))]
        url: Option<String>,
    },
    Item,
    Skill,
}

#[derive(Debug, Clone, Copy)]
#[cfg_attr(test, derive(PartialEq, serde::Serialize, serde::Deserialize))]
#[cfg_attr(test, serde(deny_unknown_fields))]
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

/// Read as a map (own properties): the `type` tag, then for a location only its three fields.
/// Other properties are refused for a location and ignored for an item or skill.
impl FromJs for KindJs {
    fn from_js(value: JsValue) -> Result<Self, String> {
        let mut tag = None;
        let mut fields = Vec::new();
        for (key, value) in js::entries(&value, "a resource kind object")? {
            if key == "type" {
                tag = Some(value);
            } else {
                fields.push((key, value));
            }
        }
        let tag = tag.ok_or("missing field `type`")?;
        match tag.as_string().as_deref() {
            Some("location") => {
                let (mut address, mut geo, mut url) = (None, None, None);
                for (key, value) in fields {
                    match key.as_str() {
                        "address" => address = FromJs::from_js(value)?,
                        "geo" => geo = FromJs::from_js(value)?,
                        "url" => url = FromJs::from_js(value)?,
                        _ => return Err(js::unknown_field(&key, "`address`, `geo`, `url`")),
                    }
                }
                Ok(KindJs::Location { address, geo, url })
            }
            Some("item") => Ok(KindJs::Item),
            Some("skill") => Ok(KindJs::Skill),
            Some(other) => Err(format!(
                "unknown variant `{other}`, expected one of `location`, `item`, `skill`"
            )),
            None => Err(js::invalid(&tag, "a string")),
        }
    }
}

impl ToJs for KindJs {
    fn to_js(&self) -> JsValue {
        match self {
            KindJs::Location { address, geo, url } => {
                let kind = object(&[("type", string("location"))]);
                if let Some(address) = address {
                    set(&kind, "address", &string(address));
                }
                if let Some(geo) = geo {
                    let geo = object(&[("lat", geo.lat.into()), ("lon", geo.lon.into())]);
                    set(&kind, "geo", &geo);
                }
                if let Some(url) = url {
                    set(&kind, "url", &string(url));
                }
                kind
            }
            KindJs::Item => object(&[("type", string("item"))]),
            KindJs::Skill => object(&[("type", string("skill"))]),
        }
    }
}

/// Read as a map with exactly `lat` and `lon`.
impl FromJs for GeoJs {
    fn from_js(value: JsValue) -> Result<Self, String> {
        let (mut lat, mut lon) = (None, None);
        for (key, value) in js::entries(&value, "{ lat, lon }")? {
            match key.as_str() {
                "lat" => lat = Some(f64::from_js(value)?),
                "lon" => lon = Some(f64::from_js(value)?),
                _ => return Err(js::unknown_field(&key, "`lat`, `lon`")),
            }
        }
        Ok(GeoJs {
            lat: lat.ok_or("missing field `lat`")?,
            lon: lon.ok_or("missing field `lon`")?,
        })
    }
}

/// `"fcfs"`, `"manual"` or `{ custom: "name" }` (a policy registered with `registerPolicy`).
#[derive(Debug, Clone)]
#[cfg_attr(test, derive(PartialEq, serde::Serialize, serde::Deserialize))]
#[cfg_attr(test, serde(untagged))]
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

/// A string, or an object whose own `custom` property is a string (others are ignored).
impl FromJs for PolicyJs {
    fn from_js(value: JsValue) -> Result<Self, String> {
        if let Some(name) = value.as_string() {
            return Ok(PolicyJs::Builtin(name));
        }
        js::entries(&value, "")
            .ok()
            .and_then(|entries| entries.into_iter().find(|(key, _)| key == "custom"))
            .and_then(|(_, custom)| custom.as_string())
            .map(|custom| PolicyJs::Custom { custom })
            .ok_or_else(|| "a policy is \"fcfs\", \"manual\" or { custom: name }".into())
    }
}

impl ToJs for PolicyJs {
    fn to_js(&self) -> JsValue {
        match self {
            PolicyJs::Builtin(name) => string(name),
            PolicyJs::Custom { custom } => object(&[("custom", string(custom))]),
        }
    }
}

#[derive(Debug)]
#[cfg_attr(test, derive(PartialEq, serde::Deserialize))]
#[cfg_attr(test, serde(deny_unknown_fields))]
pub(crate) struct FestivalInput {
    pub name: String,
    #[cfg_attr(test, serde(default))]
    pub description: String,
    #[cfg_attr(test, serde(default))]
    pub parent: Option<String>,
    /// A private festival (end-to-end encrypted); only for root festivals.
    #[cfg_attr(test, serde(default))]
    pub private: bool,
}

impl FromJs for FestivalInput {
    fn from_js(value: JsValue) -> Result<Self, String> {
        let fields = Fields::of(value, "a festival object")?;
        Ok(FestivalInput {
            name: fields.required("name")?,
            description: fields.optional("description")?.unwrap_or_default(),
            parent: fields.optional("parent")?.flatten(),
            private: fields.optional("private")?.unwrap_or(false),
        })
    }
}

#[derive(Debug)]
#[cfg_attr(test, derive(PartialEq, serde::Deserialize))]
#[cfg_attr(test, serde(deny_unknown_fields))]
pub(crate) struct ForkInput {
    pub name: String,
    #[cfg_attr(test, serde(default))]
    pub description: String,
}

impl FromJs for ForkInput {
    fn from_js(value: JsValue) -> Result<Self, String> {
        let fields = Fields::of(value, "a fork object")?;
        Ok(ForkInput {
            name: fields.required("name")?,
            description: fields.optional("description")?.unwrap_or_default(),
        })
    }
}

#[derive(Debug, Default)]
#[cfg_attr(test, derive(PartialEq, serde::Deserialize))]
#[cfg_attr(test, serde(deny_unknown_fields))]
pub(crate) struct FestivalChanges {
    pub name: Option<String>,
    pub description: Option<String>,
}

impl FromJs for FestivalChanges {
    fn from_js(value: JsValue) -> Result<Self, String> {
        let fields = Fields::of(value, "an object of changes")?;
        Ok(FestivalChanges {
            name: fields.optional("name")?.flatten(),
            description: fields.optional("description")?.flatten(),
        })
    }
}

#[derive(Debug)]
#[cfg_attr(test, derive(PartialEq, serde::Deserialize))]
#[cfg_attr(test, serde(deny_unknown_fields))]
pub(crate) struct ResourceInput {
    pub name: String,
    #[cfg_attr(test, serde(default))]
    pub description: String,
    pub kind: KindJs,
    #[cfg_attr(test, serde(default))]
    pub policy: Option<PolicyJs>,
}

impl FromJs for ResourceInput {
    fn from_js(value: JsValue) -> Result<Self, String> {
        let fields = Fields::of(value, "a resource object")?;
        Ok(ResourceInput {
            name: fields.required("name")?,
            description: fields.optional("description")?.unwrap_or_default(),
            kind: fields.required("kind")?,
            policy: fields.optional("policy")?.flatten(),
        })
    }
}

#[derive(Debug, Default)]
#[cfg_attr(test, derive(PartialEq, serde::Deserialize))]
#[cfg_attr(test, serde(deny_unknown_fields))]
pub(crate) struct ResourceChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub kind: Option<KindJs>,
    pub policy: Option<PolicyJs>,
}

impl FromJs for ResourceChanges {
    fn from_js(value: JsValue) -> Result<Self, String> {
        let fields = Fields::of(value, "an object of changes")?;
        Ok(ResourceChanges {
            name: fields.optional("name")?.flatten(),
            description: fields.optional("description")?.flatten(),
            kind: fields.optional("kind")?.flatten(),
            policy: fields.optional("policy")?.flatten(),
        })
    }
}

#[derive(Debug)]
#[cfg_attr(test, derive(PartialEq, serde::Deserialize))]
#[cfg_attr(test, serde(deny_unknown_fields))]
pub(crate) struct EventInput {
    pub title: String,
    #[cfg_attr(test, serde(default))]
    pub description: String,
    pub start: Millis,
    pub end: Millis,
    #[cfg_attr(test, serde(default))]
    pub resources: Vec<String>,
}

impl FromJs for EventInput {
    fn from_js(value: JsValue) -> Result<Self, String> {
        let fields = Fields::of(value, "an event object")?;
        Ok(EventInput {
            title: fields.required("title")?,
            description: fields.optional("description")?.unwrap_or_default(),
            start: fields.required("start")?,
            end: fields.required("end")?,
            resources: fields.optional("resources")?.unwrap_or_default(),
        })
    }
}

#[derive(Debug, Default)]
#[cfg_attr(test, derive(PartialEq, serde::Deserialize))]
#[cfg_attr(test, serde(deny_unknown_fields))]
pub(crate) struct EventChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub start: Option<Millis>,
    pub end: Option<Millis>,
    pub resources: Option<Vec<String>>,
}

impl FromJs for EventChanges {
    fn from_js(value: JsValue) -> Result<Self, String> {
        let fields = Fields::of(value, "an object of changes")?;
        Ok(EventChanges {
            title: fields.optional("title")?.flatten(),
            description: fields.optional("description")?.flatten(),
            start: fields.optional("start")?.flatten(),
            end: fields.optional("end")?.flatten(),
            resources: fields.optional("resources")?.flatten(),
        })
    }
}

#[derive(Debug)]
#[cfg_attr(test, derive(PartialEq, serde::Deserialize))]
#[cfg_attr(test, serde(deny_unknown_fields, rename_all = "camelCase"))]
pub(crate) struct AuthorizationInput {
    pub event: String,
    pub resource: String,
    pub decision: DecisionJs,
    #[cfg_attr(test, serde(default))]
    pub reason: Option<String>,
    /// The event version answered; the current one when left out.
    #[cfg_attr(test, serde(default))]
    pub event_version: Option<String>,
}

impl FromJs for AuthorizationInput {
    fn from_js(value: JsValue) -> Result<Self, String> {
        let fields = Fields::of(value, "an answer object")?;
        Ok(AuthorizationInput {
            event: fields.required("event")?,
            resource: fields.required("resource")?,
            decision: fields.required("decision")?,
            reason: fields.optional("reason")?.flatten(),
            event_version: fields.optional("eventVersion")?.flatten(),
        })
    }
}

#[derive(Debug, Clone, Copy)]
#[cfg_attr(test, derive(PartialEq, serde::Serialize, serde::Deserialize))]
#[cfg_attr(test, serde(rename_all = "lowercase"))]
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

impl FromJs for DecisionJs {
    fn from_js(value: JsValue) -> Result<Self, String> {
        match value.as_string().as_deref() {
            Some("grant") => Ok(DecisionJs::Grant),
            Some("deny") => Ok(DecisionJs::Deny),
            Some(other) => Err(format!(
                "unknown variant `{other}`, expected `grant` or `deny`"
            )),
            None => Err(js::invalid(&value, "\"grant\" or \"deny\"")),
        }
    }
}

/// What a JS policy callback answers: a decision with an optional reason, or `null` to leave the
/// request for the owner to answer by hand.
#[derive(Debug)]
#[cfg_attr(test, derive(PartialEq, serde::Deserialize))]
#[cfg_attr(test, serde(deny_unknown_fields))]
pub(crate) struct VerdictJs {
    pub decision: DecisionJs,
    #[cfg_attr(test, serde(default))]
    pub reason: Option<String>,
}

impl FromJs for VerdictJs {
    fn from_js(value: JsValue) -> Result<Self, String> {
        let fields = Fields::of(value, "a verdict object")?;
        Ok(VerdictJs {
            decision: fields.required("decision")?,
            reason: fields.optional("reason")?.flatten(),
        })
    }
}

/// The argument of `query`: which index to page through, and where.
#[derive(Debug)]
#[cfg_attr(test, derive(PartialEq, serde::Deserialize))]
#[cfg_attr(test, serde(deny_unknown_fields))]
pub(crate) struct QueryInput {
    /// `"time"`, `"resource"`, `"owner"` or `"status"`.
    pub by: String,
    #[cfg_attr(test, serde(default))]
    pub from: Option<Millis>,
    #[cfg_attr(test, serde(default))]
    pub to: Option<Millis>,
    #[cfg_attr(test, serde(default))]
    pub resource: Option<String>,
    #[cfg_attr(test, serde(default))]
    pub owner: Option<String>,
    #[cfg_attr(test, serde(default))]
    pub status: Option<String>,
    #[cfg_attr(test, serde(default))]
    pub limit: Option<u32>,
    /// A page's `next`.
    #[cfg_attr(test, serde(default))]
    pub after: Option<String>,
}

impl FromJs for QueryInput {
    fn from_js(value: JsValue) -> Result<Self, String> {
        let fields = Fields::of(value, "a query object")?;
        // One reader per type, called per field (less code than a call inlined per field).
        let text = |key| fields.optional::<Option<String>>(key).map(Option::flatten);
        let time = |key| fields.optional::<Option<Millis>>(key).map(Option::flatten);
        Ok(QueryInput {
            by: fields.required("by")?,
            from: time("from")?,
            to: time("to")?,
            resource: text("resource")?,
            owner: text("owner")?,
            status: text("status")?,
            limit: fields.optional("limit")?.flatten(),
            after: text("after")?,
        })
    }
}

/// A request state by its name in [`StatusJs`].
pub(crate) fn status_arg(name: &str) -> Result<StatusKind, NodeError> {
    match name {
        "pending" => Ok(StatusKind::Pending),
        "granted" => Ok(StatusKind::Granted),
        "denied" => Ok(StatusKind::Denied),
        "resourceDeleted" => Ok(StatusKind::ResourceDeleted),
        _ => Err(NodeError::InvalidArgument(format!(
            "status: unknown \"{name}\", expected \"pending\", \"granted\", \"denied\" or \"resourceDeleted\""
        ))),
    }
}

// ---- output ----

/// A page of `query`: `{ items, next }`, `next` being `null` on the last page.
pub(crate) fn page_js(items: JsValue, next: Option<Cursor>) -> JsValue {
    object(&[
        ("items", items),
        ("next", nullable(&next.map(|c| c.to_string()))),
    ])
}

/// A time or count as a JS number.
fn number(value: i64) -> JsValue {
    JsValue::from_f64(value as f64)
}

#[cfg_attr(test, derive(serde::Serialize))]
#[cfg_attr(test, serde(rename_all = "camelCase"))]
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
    /// End-to-end encrypted: its operations are sealed with a key only members have.
    private: bool,
}

impl FestivalJs {
    pub fn new(info: FestivalInfo, joined: bool, private: bool) -> Self {
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
            private,
        }
    }

    /// A joined festival whose creation has not arrived yet (or, when `private`, whose key is
    /// known but nothing readable has arrived).
    pub fn placeholder(id: Hash, private: bool) -> Self {
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
            private,
        }
    }
}

impl ToJs for FestivalJs {
    fn to_js(&self) -> JsValue {
        object(&[
            ("id", string(&self.id)),
            ("name", string(&self.name)),
            ("description", string(&self.description)),
            ("creator", string(&self.creator)),
            ("parent", nullable(&self.parent)),
            ("forkOf", nullable(&self.fork_of)),
            ("subFestivals", self.sub_festivals.to_js()),
            ("joined", self.joined.into()),
            ("pending", self.pending.into()),
            ("private", self.private.into()),
        ])
    }
}

#[cfg_attr(test, derive(serde::Serialize))]
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

impl ToJs for ResourceJs {
    fn to_js(&self) -> JsValue {
        object(&[
            ("id", string(&self.id)),
            ("festival", string(&self.festival)),
            ("owner", string(&self.owner)),
            ("name", string(&self.name)),
            ("description", string(&self.description)),
            ("kind", self.kind.to_js()),
            ("policy", self.policy.to_js()),
            ("deleted", self.deleted.into()),
        ])
    }
}

#[derive(Debug, Clone)]
#[cfg_attr(test, derive(serde::Serialize))]
pub(crate) struct StatusJs {
    status: &'static str,
    #[cfg_attr(test, serde(skip_serializing_if = "Option::is_none"))]
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

impl StatusJs {
    /// Add `status` (and `reason` when there is one) to a result object.
    fn add_to(&self, object: &JsValue) {
        set(object, "status", &string(self.status));
        if let Some(reason) = &self.reason {
            set(object, "reason", &string(reason));
        }
    }
}

#[cfg_attr(test, derive(serde::Serialize))]
pub(crate) struct RequestedJs {
    resource: String,
    #[cfg_attr(test, serde(flatten))]
    status: StatusJs,
}

impl ToJs for RequestedJs {
    fn to_js(&self) -> JsValue {
        let requested = object(&[("resource", string(&self.resource))]);
        self.status.add_to(&requested);
        requested
    }
}

#[cfg_attr(test, derive(serde::Serialize))]
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

impl ToJs for EventJs {
    fn to_js(&self) -> JsValue {
        object(&[
            ("id", string(&self.id)),
            ("festival", string(&self.festival)),
            ("creator", string(&self.creator)),
            ("version", string(&self.version)),
            ("title", string(&self.title)),
            ("description", string(&self.description)),
            ("start", number(self.start)),
            ("end", number(self.end)),
            ("cancelled", self.cancelled.into()),
            ("confirmed", self.confirmed.into()),
            ("resources", self.resources.to_js()),
        ])
    }
}

#[cfg_attr(test, derive(serde::Serialize))]
pub(crate) struct BookingJs {
    event: String,
    start: Millis,
    end: Millis,
    #[cfg_attr(test, serde(flatten))]
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

impl ToJs for BookingJs {
    fn to_js(&self) -> JsValue {
        let booking = object(&[
            ("event", string(&self.event)),
            ("start", number(self.start)),
            ("end", number(self.end)),
        ]);
        self.status.add_to(&booking);
        booking
    }
}

#[derive(Debug, Clone)]
#[cfg_attr(test, derive(serde::Serialize))]
#[cfg_attr(test, serde(rename_all = "camelCase"))]
pub(crate) struct RequestJs {
    event: String,
    event_version: String,
    resource: String,
    start: Millis,
    end: Millis,
    /// What the owner said, for `query` (pending requests leave it out).
    #[cfg_attr(test, serde(flatten, skip_serializing_if = "Option::is_none"))]
    status: Option<StatusJs>,
}

impl From<&Request> for RequestJs {
    fn from(request: &Request) -> Self {
        RequestJs {
            event: hex_of(&request.event),
            event_version: hex_of(&request.event_version),
            resource: hex_of(&request.resource),
            start: request.start,
            end: request.end,
            status: None,
        }
    }
}

impl From<&RequestInfo> for RequestJs {
    fn from(info: &RequestInfo) -> Self {
        RequestJs {
            status: Some((&info.status).into()),
            ..RequestJs::from(&info.request)
        }
    }
}

impl ToJs for RequestJs {
    fn to_js(&self) -> JsValue {
        let request = object(&[
            ("event", string(&self.event)),
            ("eventVersion", string(&self.event_version)),
            ("resource", string(&self.resource)),
            ("start", number(self.start)),
            ("end", number(self.end)),
        ]);
        if let Some(status) = &self.status {
            status.add_to(&request);
        }
        request
    }
}

#[cfg_attr(test, derive(serde::Serialize))]
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

impl ToJs for ConflictJs {
    fn to_js(&self) -> JsValue {
        object(&[
            ("resource", string(&self.resource)),
            ("first", string(&self.first)),
            ("second", string(&self.second)),
        ])
    }
}

#[derive(Debug)]
#[cfg_attr(test, derive(PartialEq, serde::Deserialize))]
#[cfg_attr(test, serde(deny_unknown_fields))]
pub(crate) struct ProfileInput {
    pub name: String,
}

impl FromJs for ProfileInput {
    fn from_js(value: JsValue) -> Result<Self, String> {
        let fields = Fields::of(value, "a profile object")?;
        Ok(ProfileInput {
            name: fields.required("name")?,
        })
    }
}

#[cfg_attr(test, derive(serde::Serialize))]
pub(crate) struct ProfileJs {
    author: String,
    name: String,
}

impl From<&Profile> for ProfileJs {
    fn from(profile: &Profile) -> Self {
        ProfileJs {
            author: profile.author.to_hex(),
            name: profile.name.clone(),
        }
    }
}

impl ToJs for ProfileJs {
    fn to_js(&self) -> JsValue {
        object(&[
            ("author", string(&self.author)),
            ("name", string(&self.name)),
        ])
    }
}

/// Something the app must show, not hide: a forked log or a rejected operation.
#[cfg_attr(test, derive(serde::Serialize))]
#[cfg_attr(test, serde(tag = "kind", rename_all = "lowercase"))]
pub(crate) enum ProblemJs {
    Fork {
        author: String,
        festival: String,
        seq: f64,
    },
    Rejected {
        author: String,
        festival: String,
        operation: String,
        reason: String,
    },
}

impl ProblemJs {
    pub fn fork(author: PublicKey, festival: Hash, seq: u64) -> Self {
        ProblemJs::Fork {
            author: author.to_hex(),
            festival: hex_of(&festival),
            seq: seq as f64,
        }
    }

    pub fn rejected(info: &RejectedInfo) -> Self {
        ProblemJs::Rejected {
            author: info.author.to_hex(),
            festival: hex_of(&info.festival),
            operation: hex_of(&info.id),
            reason: info.rejection.to_string(),
        }
    }
}

impl ToJs for ProblemJs {
    fn to_js(&self) -> JsValue {
        match self {
            ProblemJs::Fork {
                author,
                festival,
                seq,
            } => object(&[
                ("kind", string("fork")),
                ("author", string(author)),
                ("festival", string(festival)),
                ("seq", (*seq).into()),
            ]),
            ProblemJs::Rejected {
                author,
                festival,
                operation,
                reason,
            } => object(&[
                ("kind", string("rejected")),
                ("author", string(author)),
                ("festival", string(festival)),
                ("operation", string(operation)),
                ("reason", string(reason)),
            ]),
        }
    }
}

#[cfg_attr(test, derive(serde::Serialize))]
#[cfg_attr(test, serde(rename_all = "camelCase"))]
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

impl ToJs for PeerJs {
    fn to_js(&self) -> JsValue {
        object(&[
            ("peer", self.peer.into()),
            ("publicKey", nullable(&self.public_key)),
            ("sharedFestivals", (self.shared_festivals as f64).into()),
            ("missing", self.missing.into()),
            ("caughtUp", self.caught_up.into()),
            ("bytesSent", self.bytes_sent.into()),
            ("bytesReceived", self.bytes_received.into()),
        ])
    }
}

/// Totals across all peers, for a progress bar.
#[cfg_attr(test, derive(serde::Serialize))]
#[cfg_attr(test, serde(rename_all = "camelCase"))]
pub(crate) struct ProgressJs {
    pub peers: usize,
    pub missing: f64,
    pub entries_received: f64,
    pub entries_stored: f64,
    pub caught_up: bool,
}

impl ToJs for ProgressJs {
    fn to_js(&self) -> JsValue {
        object(&[
            ("peers", (self.peers as f64).into()),
            ("missing", self.missing.into()),
            ("entriesReceived", self.entries_received.into()),
            ("entriesStored", self.entries_stored.into()),
            ("caughtUp", self.caught_up.into()),
        ])
    }
}
