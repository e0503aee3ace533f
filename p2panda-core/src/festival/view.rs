//! One materialized context: a root festival (or a fork) with its sub-festivals, and for a fork
//! what it inherited from its source. Operations may arrive in any order; each one waits for what
//! it refers to, then is applied or rejected by rules that depend only on immutable facts
//! (creators, owners, where things live), so the result is a function of the set of operations.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

pub(crate) use super::intervals::Intervals;
use super::{Missing, Op, OrderKey, Outcome, Rejection};
use crate::hash::Hash;
use crate::identity::PublicKey;
use crate::operation::*;
use crate::small_map::SmallSet;

#[derive(Debug, Clone)]
pub(crate) struct FestivalRec {
    pub creator: PublicKey,
    pub parent: Option<FestivalId>,
    pub fork_of: Option<FestivalId>,
    pub children: SmallSet<FestivalId>,
    pub create: FestivalCreate,
    pub updates: BTreeMap<OrderKey, FestivalUpdate>,
}

impl FestivalRec {
    pub fn name_and_description(&self) -> (String, String) {
        let mut fields = (self.create.name.clone(), self.create.description.clone());
        for update in self.updates.values() {
            if let Some(name) = &update.name {
                fields.0 = name.clone();
            }
            if let Some(description) = &update.description {
                fields.1 = description.clone();
            }
        }
        fields
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResourceFields {
    pub name: String,
    pub description: String,
    pub kind: ResourceKind,
    pub policy: PolicyKind,
}

#[derive(Debug, Clone)]
pub(crate) struct ResourceRec {
    pub festival: FestivalId,
    pub owner: PublicKey,
    pub create: ResourceCreate,
    pub updates: BTreeMap<OrderKey, ResourceUpdate>,
    pub deleted: bool,
    pub current: ResourceFields,
}

impl ResourceRec {
    fn refold(&mut self) {
        let c = &self.create;
        let mut fields = ResourceFields {
            name: c.name.clone(),
            description: c.description.clone(),
            kind: c.kind.clone(),
            policy: c.policy.clone(),
        };
        for u in self.updates.values() {
            set(&mut fields.name, &u.name);
            set(&mut fields.description, &u.description);
            set(&mut fields.kind, &u.kind);
            set(&mut fields.policy, &u.policy);
        }
        self.current = fields;
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EventFields {
    pub title: String,
    pub description: String,
    pub start: Millis,
    pub end: Millis,
    pub resources: Vec<ResourceId>,
}

/// What the owner last said about one resource for the event's current version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RequestStatus {
    Pending,
    Granted,
    Denied {
        reason: Option<String>,
    },
    /// The resource was deleted by its owner.
    ResourceDeleted,
}

/// A request's state without its details: what the request indexes are kept by, and what
/// [`FestivalQuery::requests_by_status`](super::FestivalQuery::requests_by_status) asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StatusKind {
    Pending,
    Granted,
    Denied,
    ResourceDeleted,
}

impl StatusKind {
    pub const ALL: [StatusKind; 4] = [
        StatusKind::Pending,
        StatusKind::Granted,
        StatusKind::Denied,
        StatusKind::ResourceDeleted,
    ];
}

impl RequestStatus {
    pub fn kind(&self) -> StatusKind {
        match self {
            RequestStatus::Pending => StatusKind::Pending,
            RequestStatus::Granted => StatusKind::Granted,
            RequestStatus::Denied { .. } => StatusKind::Denied,
            RequestStatus::ResourceDeleted => StatusKind::ResourceDeleted,
        }
    }
}

/// One of the indexes in [`View::buckets`], each kept per festival (of the event, or for
/// [`Bucket::Owned`] of the resource), so a query reads only the festivals it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Bucket {
    /// Events with a request in this state.
    Status(StatusKind),
    /// Events whose request for the resource is in this state.
    Resource(ResourceId, StatusKind),
    /// Events with a request for one of the owner's resources in this state.
    Owner(PublicKey, StatusKind),
    /// The owner's resources (not deleted), as points `(0, id)`.
    Owned(PublicKey),
    /// Events with a pending request for one of the owner's resources, as points at their
    /// arrival `(arrived, id)`: the owner's inbox, in the order requests reached this node.
    Inbox(PublicKey),
}

#[derive(Debug, Clone)]
pub(crate) struct EventRec {
    /// The `event.create` operation, shared with the state's record of it (not copied).
    op: Arc<Op>,
    /// The `event.update` operations, in the creator's order.
    updates: Ordered,
    pub cancelled: bool,
    /// The current version and its fields once an update is current; `None` while the create's
    /// fields are (most events never change, so they carry no second copy of their text).
    changed: Option<Box<(OperationId, EventFields)>>,
    /// When the current version reached this node (local arrival order, for policies).
    pub arrived: u64,
    /// The resource statuses as indexed (empty while not indexed).
    statuses: Vec<(ResourceId, RequestStatus)>,
    /// The start and arrival as indexed, to remove the entries again.
    indexed: Option<(Millis, u64)>,
    /// Listed in the view's `deferred`, waiting to be indexed.
    deferred: bool,
}

/// An event's fields, borrowed from the operation that set them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CurrentFields<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub start: Millis,
    pub end: Millis,
    pub resources: &'a [ResourceId],
}

impl EventRec {
    /// Only for an `event.create` operation (`None` otherwise).
    fn new(op: &Arc<Op>, arrived: u64) -> Option<Self> {
        matches!(op.operation, Operation::EventCreate(_)).then(|| EventRec {
            op: op.clone(),
            updates: Ordered::default(),
            cancelled: false,
            changed: None,
            arrived,
            statuses: Vec::new(),
            indexed: None,
            deferred: false,
        })
    }

    pub fn create(&self) -> &EventCreate {
        match &self.op.operation {
            Operation::EventCreate(create) => create,
            _ => unreachable!("EventRec::new takes only event.create operations"),
        }
    }

    pub fn festival(&self) -> FestivalId {
        self.create().festival
    }

    pub fn creator(&self) -> PublicKey {
        self.op.author
    }

    /// Each requested resource's status, as the indexes hold it (empty while not indexed).
    pub fn indexed_statuses(&self) -> &[(ResourceId, RequestStatus)] {
        &self.statuses
    }

    /// The operation that made the current version (the create or an update).
    pub fn current_version(&self) -> OperationId {
        self.changed
            .as_ref()
            .map_or(self.op.id, |changed| changed.0)
    }

    pub fn current(&self) -> CurrentFields<'_> {
        match &self.changed {
            Some(changed) => {
                let f = &changed.1;
                CurrentFields {
                    title: &f.title,
                    description: &f.description,
                    start: f.start,
                    end: f.end,
                    resources: &f.resources,
                }
            }
            None => {
                let c = self.create();
                CurrentFields {
                    title: &c.title,
                    description: &c.description,
                    start: c.start,
                    end: c.end,
                    resources: &c.resources,
                }
            }
        }
    }

    /// The event's fields as of `version` (its create or an update).
    pub fn fields_at(&self, id: EventId, version: OperationId) -> Option<EventFields> {
        let c = self.create();
        let mut fields = EventFields {
            title: c.title.clone(),
            description: c.description.clone(),
            start: c.start,
            end: c.end,
            resources: c.resources.clone(),
        };
        if version == id {
            return Some(fields);
        }
        for (version_id, u) in self.updates.event_updates() {
            set(&mut fields.title, &u.title);
            set(&mut fields.description, &u.description);
            if let Some(t) = u.timeframe {
                (fields.start, fields.end) = (t.start, t.end);
            }
            set(&mut fields.resources, &u.resources);
            if version_id == version {
                return Some(fields);
            }
        }
        None
    }

    /// Whether `version` asks for `resource`, without building the version's fields.
    fn requests_at(
        &self,
        id: EventId,
        version: OperationId,
        resource: &ResourceId,
    ) -> Option<bool> {
        let mut resources = &self.create().resources;
        if version == id {
            return Some(resources.contains(resource));
        }
        for (version_id, u) in self.updates.event_updates() {
            if let Some(r) = &u.resources {
                resources = r;
            }
            if version_id == version {
                return Some(resources.contains(resource));
            }
        }
        None
    }
}

fn set<T: Clone>(field: &mut T, value: &Option<T>) {
    if let Some(value) = value {
        *field = value.clone();
    }
}

/// Operations on one thing (an event's updates, the answers to one request) in the order
/// [`OrderKey`] gives them. A sorted vector, not a map: most hold one or two, where a B-tree would
/// allocate a node of eleven slots each.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ordered(Vec<(OrderKey, Arc<Op>)>);

impl Ordered {
    /// Insert `op` at `key`, replacing what was there (as a map would).
    fn insert(&mut self, key: OrderKey, op: Arc<Op>) {
        match self.0.binary_search_by(|(k, _)| k.cmp(&key)) {
            Ok(at) => self.0[at].1 = op,
            Err(at) => {
                if self.0.capacity() == 0 {
                    self.0.reserve_exact(1);
                }
                self.0.insert(at, (key, op));
            }
        }
    }

    /// The `event.update`s among the operations, with their ids.
    fn event_updates(&self) -> impl DoubleEndedIterator<Item = (OperationId, &EventUpdate)> {
        self.0.iter().filter_map(|(_, op)| match &op.operation {
            Operation::EventUpdate(update) => Some((op.id, update)),
            _ => None,
        })
    }

    /// The `authorization`s among the operations.
    fn authorizations(&self) -> impl DoubleEndedIterator<Item = &Authorization> {
        self.0.iter().filter_map(|(_, op)| match &op.operation {
            Operation::Authorization(auth) => Some(auth),
            _ => None,
        })
    }
}

/// Two granted events of one resource whose timeframes overlap: the owner double-booked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Conflict {
    pub resource: ResourceId,
    pub first: EventId,
    pub second: EventId,
}

/// The materialized state of one context.
#[derive(Debug, Clone, Default)]
pub(crate) struct View {
    pub fork_root: Option<FestivalId>,
    /// Every operation delivered here, in arrival order (to replay into forks).
    pub delivered: Vec<Arc<Op>>,
    pub festivals: HashMap<FestivalId, FestivalRec>,
    pub resources: HashMap<ResourceId, ResourceRec>,
    pub events: HashMap<EventId, EventRec>,
    /// Event update (a version other than the create) to its event. A create is its own
    /// event's first version and found in `events`.
    versions: HashMap<OperationId, EventId>,
    /// The owner's answers to each request.
    auths: HashMap<(EventId, ResourceId), Ordered>,
    waiting: HashMap<Hash, Vec<(Arc<Op>, u32)>>,
    pub waiting_on: HashMap<OperationId, Missing>,
    pub rejected: HashMap<OperationId, Rejection>,
    /// The rejected operations themselves, in the order they were rejected (to show them).
    pub rejected_ops: Vec<Arc<Op>>,
    /// Each author's display name, with the key of the operation that set it (latest wins).
    pub profiles: HashMap<PublicKey, (OrderKey, String)>,
    arrivals: u64,
    // Indexes.
    pub events_by_festival: HashMap<FestivalId, Intervals>,
    pub grants: HashMap<ResourceId, Intervals>,
    pub owned: HashMap<PublicKey, SmallSet<ResourceId>>,
    pub conflicts: BTreeSet<Conflict>,
    /// Requests by state (per festival, resource and owner), owners' inboxes and owners'
    /// resources, each per festival: the indexes of the paged queries (see `kv.rs`).
    pub buckets: HashMap<(Bucket, FestivalId), Intervals>,
    /// While indexing is deferred (see [`View::defer_indexing`]): the events whose indexes are
    /// out of date, each once.
    deferred: Option<Vec<EventId>>,
}

impl View {
    pub fn new(fork_root: Option<FestivalId>) -> Self {
        Self {
            fork_root,
            ..Self::default()
        }
    }

    /// Apply an operation of generation `generation` (fork depth of the context it was written
    /// in), then everything that was waiting for it. Returns what happened to `op` itself.
    pub fn apply(&mut self, op: Arc<Op>, generation: u32) -> Outcome {
        self.delivered.push(op.clone());
        let mut first = None;
        // What waited for an applied operation; empty (no allocation) in the common case.
        let mut queue = Vec::new();
        let mut next = Some((op, generation));
        while let Some((op, generation)) = next.take().or_else(|| queue.pop()) {
            self.waiting_on.remove(&op.id);
            let outcome = self.try_apply(&op, generation);
            match &outcome {
                Outcome::Applied => queue.extend(self.waiting.remove(&op.id).unwrap_or_default()),
                Outcome::Waiting(missing) => {
                    self.waiting_on.insert(op.id, missing.clone());
                    let waiting = self.waiting.entry(missing.id()).or_default();
                    waiting.push((op, generation));
                }
                Outcome::Rejected(rejection) => {
                    self.rejected.insert(op.id, rejection.clone());
                    self.rejected_ops.push(op.clone());
                }
                Outcome::Duplicate => {}
            }
            first.get_or_insert(outcome);
        }
        first.unwrap_or(Outcome::Duplicate)
    }

    fn try_apply(&mut self, op: &Arc<Op>, generation: u32) -> Outcome {
        let key = OrderKey {
            generation,
            seq: op.seq,
            log_id: op.log_id,
            id: op.id,
        };
        match self.check_and_apply(op, key) {
            Ok(()) => Outcome::Applied,
            Err(Check::Wait(missing)) => Outcome::Waiting(*missing),
            Err(Check::Reject(rejection)) => Outcome::Rejected(rejection),
        }
    }

    fn check_and_apply(&mut self, op: &Arc<Op>, key: OrderKey) -> Result<(), Check> {
        match &op.operation {
            Operation::FestivalCreate(create) => {
                if let Some(parent) = create.parent {
                    self.festival(parent)?;
                }
                self.festivals.insert(
                    op.id,
                    FestivalRec {
                        creator: op.author,
                        parent: create.parent,
                        fork_of: create.fork_of.as_ref().map(|f| f.festival),
                        children: SmallSet::new(),
                        create: create.clone(),
                        updates: BTreeMap::new(),
                    },
                );
                if let Some(parent) = create.parent.and_then(|p| self.festivals.get_mut(&p)) {
                    parent.children.insert(op.id);
                }
            }
            Operation::FestivalUpdate(update) => {
                let festival = self.festival(update.festival)?;
                require(festival.creator == op.author, Rejection::NotCreator)?;
                let festival = self
                    .festivals
                    .get_mut(&update.festival)
                    .ok_or(Check::missing_festival(update.festival))?;
                festival.updates.insert(key, update.clone());
            }
            Operation::ResourceCreate(create) => {
                self.festival(create.festival)?;
                let mut resource = ResourceRec {
                    festival: create.festival,
                    owner: op.author,
                    create: create.clone(),
                    updates: BTreeMap::new(),
                    deleted: false,
                    current: ResourceFields {
                        name: String::new(),
                        description: String::new(),
                        kind: ResourceKind::Item,
                        policy: PolicyKind::Manual,
                    },
                };
                resource.refold();
                self.resources.insert(op.id, resource);
                self.owned.entry(op.author).or_default().insert(op.id);
                self.buckets
                    .entry((Bucket::Owned(op.author), create.festival))
                    .or_default()
                    .insert(0, 1, op.id);
            }
            Operation::ResourceUpdate(update) => {
                self.check_owner(op, update.festival, update.resource)?;
                let resource = self
                    .resources
                    .get_mut(&update.resource)
                    .ok_or(Check::wait(Missing::Resource(update.resource)))?;
                resource.updates.insert(key, update.clone());
                resource.refold();
            }
            Operation::ResourceDelete(delete) => {
                self.check_owner(op, delete.festival, delete.resource)?;
                if let Some(resource) = self.resources.get_mut(&delete.resource) {
                    resource.deleted = true;
                    let owned = (Bucket::Owned(op.author), resource.festival);
                    if let Some(owned) = self.buckets.get_mut(&owned) {
                        owned.remove(0, delete.resource);
                    }
                }
                if let Some(owned) = self.owned.get_mut(&op.author) {
                    owned.remove(&delete.resource);
                }
                // The events requesting it, in any state and festival.
                let mut requesting: Vec<EventId> = Vec::new();
                for festival in self.festivals.keys() {
                    for kind in StatusKind::ALL {
                        let bucket = (Bucket::Resource(delete.resource, kind), *festival);
                        if let Some(index) = self.buckets.get(&bucket) {
                            requesting.extend(index.iter().map(|(_, _, event)| event));
                        }
                    }
                }
                for event in requesting {
                    self.reindex(event);
                }
            }
            Operation::EventCreate(create) => {
                self.festival(create.festival)?;
                self.check_requestable(create.festival, &create.resources)?;
                self.arrivals += 1;
                if let Some(event) = EventRec::new(op, self.arrivals) {
                    self.events.insert(op.id, event);
                }
                self.reindex(op.id);
            }
            Operation::EventUpdate(update) => {
                let event = self.event(update.event)?;
                require(event.creator() == op.author, Rejection::NotCreator)?;
                let home = event.festival();
                self.check_writes_in(update.festival, home)?;
                if let Some(resources) = &update.resources {
                    self.check_requestable(home, resources)?;
                }
                let event = self
                    .events
                    .get_mut(&update.event)
                    .ok_or(Check::wait(Missing::Event(update.event)))?;
                event.updates.insert(key, op.clone());
                self.versions.insert(op.id, update.event);
                self.refold_event(update.event);
            }
            Operation::EventCancel(cancel) => {
                let event = self.event(cancel.event)?;
                require(event.creator() == op.author, Rejection::NotCreator)?;
                self.check_writes_in(cancel.festival, event.festival())?;
                if let Some(event) = self.events.get_mut(&cancel.event) {
                    event.cancelled = true;
                }
                self.reindex(cancel.event);
            }
            Operation::Authorization(auth) => {
                self.check_owner(op, auth.festival, auth.resource)?;
                let event = self.event(auth.event)?;
                let version = auth.event_version;
                let versioned = if self.events.contains_key(&version) {
                    version
                } else {
                    *self
                        .versions
                        .get(&version)
                        .ok_or(Check::wait(Missing::EventVersion(version)))?
                };
                require(versioned == auth.event, Rejection::VersionOfOtherEvent)?;
                let requested = event
                    .requests_at(auth.event, version, &auth.resource)
                    .ok_or(Check::wait(Missing::EventVersion(version)))?;
                require(requested, Rejection::ResourceNotRequested)?;
                self.auths
                    .entry((auth.event, auth.resource))
                    .or_default()
                    .insert(key, op.clone());
                self.reindex(auth.event);
            }
            Operation::ProfileSet(profile) => {
                self.festival(profile.festival)?;
                let newer = self.profiles.get(&op.author).is_none_or(|(k, _)| key > *k);
                if newer {
                    self.profiles.insert(op.author, (key, profile.name.clone()));
                }
            }
        }
        Ok(())
    }

    fn festival(&self, id: FestivalId) -> Result<&FestivalRec, Check> {
        self.festivals.get(&id).ok_or(Check::missing_festival(id))
    }

    fn event(&self, id: EventId) -> Result<&EventRec, Check> {
        self.events.get(&id).ok_or(Check::wait(Missing::Event(id)))
    }

    fn check_owner(
        &self,
        op: &Op,
        written_in: FestivalId,
        resource: ResourceId,
    ) -> Result<(), Check> {
        let resource = self
            .resources
            .get(&resource)
            .ok_or(Check::wait(Missing::Resource(resource)))?;
        require(resource.owner == op.author, Rejection::NotOwner)?;
        self.check_writes_in(written_in, resource.festival)
    }

    /// Changes to a thing are written in the festival it lives in; in a fork, changes to what the
    /// fork inherited are written in the fork itself. One log per thing and generation keeps the
    /// creator's changes totally ordered.
    fn check_writes_in(&self, written_in: FestivalId, home: FestivalId) -> Result<(), Check> {
        let inherited_by_fork =
            Some(written_in) == self.fork_root && !self.is_within(home, written_in);
        require(
            written_in == home || inherited_by_fork,
            Rejection::WrongFestival,
        )
    }

    /// Resources an event may request: those of its festival and of the festivals above it
    /// (following a fork to its source).
    fn check_requestable(
        &self,
        festival: FestivalId,
        resources: &[ResourceId],
    ) -> Result<(), Check> {
        for resource in resources {
            let rec = self
                .resources
                .get(resource)
                .ok_or(Check::wait(Missing::Resource(*resource)))?;
            require(
                self.lineage(festival).any(|f| f == rec.festival),
                Rejection::ResourceOutOfScope(*resource),
            )?;
        }
        Ok(())
    }

    /// A festival and the ones above it: parents, and a fork's source.
    pub fn lineage(&self, festival: FestivalId) -> impl Iterator<Item = FestivalId> + '_ {
        std::iter::successors(Some(festival), |f| {
            let rec = self.festivals.get(f)?;
            rec.parent.or(rec.fork_of)
        })
    }

    /// Whether `festival` is `ancestor` or below it, following parents only.
    pub fn is_within(&self, festival: FestivalId, ancestor: FestivalId) -> bool {
        std::iter::successors(Some(festival), |f| self.festivals.get(f)?.parent)
            .any(|f| f == ancestor)
    }

    /// Whether `festival` is in the scope of `of`: within it, or within what `of` inherited as a
    /// fork (following forks of forks).
    pub fn in_scope(&self, festival: FestivalId, of: FestivalId) -> bool {
        std::iter::successors(Some(of), |f| self.festivals.get(f)?.fork_of)
            .any(|root| self.is_within(festival, root))
    }

    /// The festivals a query of `festival` covers: it, its sub-festivals, and for a fork what it
    /// inherited from its source.
    pub fn scope(&self, festival: FestivalId) -> Vec<FestivalId> {
        let mut scope = Vec::new();
        let mut stack: Vec<FestivalId> =
            std::iter::successors(Some(festival), |f| self.festivals.get(f)?.fork_of).collect();
        while let Some(f) = stack.pop() {
            if let Some(rec) = self.festivals.get(&f) {
                scope.push(f);
                stack.extend(rec.children.iter().copied());
            }
        }
        scope
    }

    fn refold_event(&mut self, id: EventId) {
        let Some(event) = self.events.get_mut(&id) else {
            return;
        };
        let version = event
            .updates
            .event_updates()
            .next_back()
            .map_or(id, |(v, _)| v);
        if let Some(fields) = event.fields_at(id, version) {
            if version != event.current_version() {
                self.arrivals += 1;
                event.arrived = self.arrivals;
            }
            event.changed = (version != id).then(|| Box::new((version, fields)));
        }
        self.reindex(id);
    }

    /// The status of each requested resource for the event's current version.
    pub fn statuses(&self, id: EventId, event: &EventRec) -> Vec<(ResourceId, RequestStatus)> {
        let current_version = event.current_version();
        event
            .current()
            .resources
            .iter()
            .map(|resource| {
                let deleted = self.resources.get(resource).is_none_or(|r| r.deleted);
                let status = if deleted {
                    RequestStatus::ResourceDeleted
                } else {
                    self.auths
                        .get(&(id, *resource))
                        .and_then(|auths| {
                            auths
                                .authorizations()
                                .rev()
                                .find(|a| a.event_version == current_version)
                        })
                        .map_or(RequestStatus::Pending, |a| match a.decision {
                            Decision::Grant => RequestStatus::Granted,
                            Decision::Deny => RequestStatus::Denied {
                                reason: a.reason.clone(),
                            },
                        })
                };
                (*resource, status)
            })
            .collect()
    }

    /// Stop updating the indexes as operations apply, until [`View::index_deferred`]. Every
    /// index entry of an event is computed from the event's current state alone, so indexing
    /// each changed event once at the end gives the indexes immediate updates give, for less
    /// work: an event with answers or updates is indexed once instead of once per change. For
    /// restoring many operations at once. Nothing in applying an operation reads the indexes
    /// except a resource deletion, which only marks the events requesting it for reindexing.
    pub fn defer_indexing(&mut self) {
        self.deferred.get_or_insert_with(Vec::new);
    }

    /// Index every event that changed since [`View::defer_indexing`], and index immediately
    /// again from now on.
    pub fn index_deferred(&mut self) {
        let Some(changed) = self.deferred.take() else {
            return;
        };
        for id in changed {
            if let Some(event) = self.events.get_mut(&id) {
                event.deferred = false;
            }
            self.reindex(id);
        }
    }

    /// Bring every index up to date with one event's current state (or note that it is out of
    /// date, while indexing is deferred).
    fn reindex(&mut self, id: EventId) {
        if let Some(deferred) = &mut self.deferred {
            // An event not (yet) known has no index entries to update.
            if let Some(event) = self.events.get_mut(&id).filter(|e| !e.deferred) {
                event.deferred = true;
                deferred.push(id);
            }
            return;
        }
        self.unindex(id);
        let Some(event) = self.events.get(&id) else {
            return;
        };
        if event.cancelled {
            return;
        }
        let statuses = self.statuses(id, event);
        let current = event.current();
        let (festival, start, end, arrived) =
            (event.festival(), current.start, current.end, event.arrived);
        self.events_by_festival
            .entry(festival)
            .or_default()
            .insert(start, end, id);
        for (resource, status) in &statuses {
            for bucket in self
                .request_buckets(*resource, status.kind())
                .into_iter()
                .flatten()
            {
                self.buckets
                    .entry((bucket, festival))
                    .or_default()
                    .insert(start, end, id);
            }
            match status {
                RequestStatus::Pending => {
                    if let Some(owner) = self.resources.get(resource).map(|r| r.owner) {
                        let arrived = arrived as Millis;
                        self.buckets
                            .entry((Bucket::Inbox(owner), festival))
                            .or_default()
                            .insert(arrived, arrived + 1, id);
                    }
                }
                RequestStatus::Granted => {
                    let grants = self.grants.entry(*resource).or_default();
                    for (_, _, other) in grants.overlapping(start, end) {
                        let (first, second) = if other < id { (other, id) } else { (id, other) };
                        self.conflicts.insert(Conflict {
                            resource: *resource,
                            first,
                            second,
                        });
                    }
                    grants.insert(start, end, id);
                }
                RequestStatus::Denied { .. } | RequestStatus::ResourceDeleted => {}
            }
        }
        if let Some(event) = self.events.get_mut(&id) {
            event.statuses = statuses;
            event.indexed = Some((start, arrived));
        }
    }

    /// Each resource's timeline: the request index of each of its states in each festival.
    pub fn timelines(&self) -> impl Iterator<Item = (&ResourceId, &Intervals)> {
        self.buckets
            .iter()
            .filter_map(|((bucket, _), index)| match bucket {
                Bucket::Resource(resource, _) => Some((resource, index)),
                _ => None,
            })
    }

    /// Every pending request as the owners' inboxes list it: `(owner, event, resource)`.
    pub fn inbox(&self) -> Vec<(PublicKey, EventId, ResourceId)> {
        let mut found = Vec::new();
        for ((bucket, _), index) in &self.buckets {
            let Bucket::Inbox(owner) = bucket else {
                continue;
            };
            for (_, _, event) in index.iter() {
                let statuses = self.events.get(&event).map_or(&[][..], |e| &e.statuses);
                for (resource, status) in statuses {
                    let owned = self.resources.get(resource).map(|r| r.owner) == Some(*owner);
                    if owned && *status == RequestStatus::Pending {
                        found.push((*owner, event, *resource));
                    }
                }
            }
        }
        found
    }

    /// The request indexes an event's request for `resource` in state `kind` is listed in.
    fn request_buckets(&self, resource: ResourceId, kind: StatusKind) -> [Option<Bucket>; 3] {
        let owner = self.resources.get(&resource).map(|r| r.owner);
        [
            Some(Bucket::Status(kind)),
            Some(Bucket::Resource(resource, kind)),
            owner.map(|owner| Bucket::Owner(owner, kind)),
        ]
    }

    fn unindex(&mut self, id: EventId) {
        let Some(event) = self.events.get_mut(&id) else {
            return;
        };
        let Some((start, arrived)) = event.indexed.take() else {
            return;
        };
        let festival = event.festival();
        let statuses = std::mem::take(&mut event.statuses);
        if let Some(index) = self.events_by_festival.get_mut(&festival) {
            index.remove(start, id);
        }
        for (resource, status) in statuses {
            for bucket in self
                .request_buckets(resource, status.kind())
                .into_iter()
                .flatten()
            {
                // An event with two such requests is one entry, removed at the first.
                if let Some(index) = self.buckets.get_mut(&(bucket, festival)) {
                    index.remove(start, id);
                }
            }
            match status {
                RequestStatus::Pending => {
                    if let Some(owner) = self.resources.get(&resource).map(|r| r.owner) {
                        if let Some(inbox) = self.buckets.get_mut(&(Bucket::Inbox(owner), festival))
                        {
                            inbox.remove(arrived as Millis, id);
                        }
                    }
                }
                RequestStatus::Granted => {
                    let Some(grants) = self.grants.get_mut(&resource) else {
                        continue;
                    };
                    // The event's conflicts are with the grants overlapping it (each was
                    // recorded when the later of the two was indexed, and is removed when the
                    // first of the two is unindexed): no scan of every conflict.
                    if let Some(end) = grants.remove(start, id) {
                        for (_, _, other) in grants.overlapping(start, end) {
                            let (first, second) =
                                if other < id { (other, id) } else { (id, other) };
                            self.conflicts.remove(&Conflict {
                                resource,
                                first,
                                second,
                            });
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// Why an operation could not be applied now.
enum Check {
    // Boxed: a missing log key is large, and waiting is the rare path.
    Wait(Box<Missing>),
    Reject(Rejection),
}

impl Check {
    fn wait(missing: Missing) -> Check {
        Check::Wait(Box::new(missing))
    }

    fn missing_festival(id: FestivalId) -> Check {
        Check::wait(Missing::Festival(id))
    }
}

fn require(condition: bool, rejection: Rejection) -> Result<(), Check> {
    if condition {
        Ok(())
    } else {
        Err(Check::Reject(rejection))
    }
}
