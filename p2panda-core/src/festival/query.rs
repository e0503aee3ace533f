//! Read access to one festival's materialized state. Every query goes through an index; none
//! walks the whole festival.

use std::cmp::Ordering;

use super::view::{EventRec, RequestStatus, ResourceRec, View};
use super::{Conflict, OrderKey, Rejection};
use crate::identity::PublicKey;
use crate::operation::{
    EventId, FestivalId, Millis, OperationId, PolicyKind, ResourceId, ResourceKind,
};

#[derive(Debug, Clone, PartialEq)]
pub struct FestivalInfo {
    pub id: FestivalId,
    pub name: String,
    pub description: String,
    pub creator: PublicKey,
    pub parent: Option<FestivalId>,
    pub fork_of: Option<FestivalId>,
    pub sub_festivals: Vec<FestivalId>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResourceInfo {
    pub id: ResourceId,
    pub festival: FestivalId,
    pub owner: PublicKey,
    pub name: String,
    pub description: String,
    pub kind: ResourceKind,
    pub policy: PolicyKind,
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventInfo {
    pub id: EventId,
    pub festival: FestivalId,
    pub creator: PublicKey,
    /// The operation that made the current version (authorizations name it).
    pub version: OperationId,
    pub title: String,
    pub description: String,
    pub start: Millis,
    pub end: Millis,
    pub cancelled: bool,
    /// Each requested resource and what its owner said.
    pub resources: Vec<(ResourceId, RequestStatus)>,
}

impl EventInfo {
    /// Share of requested resources granted (1.0 when it requests none).
    pub fn confirmed(&self) -> f64 {
        if self.resources.is_empty() {
            return 1.0;
        }
        let granted = self
            .resources
            .iter()
            .filter(|(_, s)| *s == RequestStatus::Granted)
            .count();
        granted as f64 / self.resources.len() as f64
    }
}

/// One event's use of a resource, on the resource's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub event: EventId,
    pub start: Millis,
    pub end: Millis,
    pub status: RequestStatus,
}

/// A request awaiting its resource owner's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub event: EventId,
    pub event_version: OperationId,
    pub resource: ResourceId,
    pub start: Millis,
    pub end: Millis,
}

/// A member's display name (`profile.set`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub author: PublicKey,
    pub name: String,
}

/// An operation that was refused when applied; kept so it can be shown, never applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedInfo {
    pub id: OperationId,
    pub author: PublicKey,
    /// The festival it was written in.
    pub festival: FestivalId,
    pub rejection: Rejection,
}

/// Queries over one festival, its sub-festivals and (for a fork) what it inherited.
pub struct FestivalQuery<'a> {
    view: &'a View,
    id: FestivalId,
    scope: Vec<FestivalId>,
}

impl<'a> FestivalQuery<'a> {
    pub(crate) fn new(view: &'a View, id: FestivalId) -> Self {
        let scope = view.scope(id);
        Self { view, id, scope }
    }

    /// The view the queries read (for the paged queries in `kv.rs`).
    pub(super) fn view(&self) -> &'a View {
        self.view
    }

    pub fn info(&self) -> FestivalInfo {
        self.festival_info(self.id)
            .expect("a query exists only for a known festival")
    }

    /// A festival in this one's scope.
    pub fn festival_info(&self, id: FestivalId) -> Option<FestivalInfo> {
        let rec = self.view.festivals.get(&id).filter(|_| self.in_scope(id))?;
        let (name, description) = rec.name_and_description();
        Some(FestivalInfo {
            id,
            name,
            description,
            creator: rec.creator,
            parent: rec.parent,
            fork_of: rec.fork_of,
            sub_festivals: rec.children.iter().copied().collect(),
        })
    }

    /// This festival and every festival below it (and for a fork, its inherited source).
    pub fn scope(&self) -> &[FestivalId] {
        &self.scope
    }

    fn in_scope(&self, festival: FestivalId) -> bool {
        self.scope.contains(&festival)
    }

    pub fn event(&self, id: EventId) -> Option<EventInfo> {
        let rec = self
            .view
            .events
            .get(&id)
            .filter(|e| self.in_scope(e.festival()))?;
        Some(event_info(self.view, id, rec))
    }

    pub fn resource(&self, id: ResourceId) -> Option<ResourceInfo> {
        let rec = self
            .view
            .resources
            .get(&id)
            .filter(|r| self.in_scope(r.festival))?;
        Some(resource_info(id, rec))
    }

    /// Events (not cancelled) overlapping `[from, to)`, by start time.
    pub fn events_in_range(&self, from: Millis, to: Millis) -> Vec<EventInfo> {
        // One page holding everything (the paged queries merge the festivals' indexes).
        let all = super::PageRequest::first(usize::MAX);
        self.events_by_time(from..to, &all).items
    }

    /// Every event requesting `resource` (not cancelled), by start time, with its status.
    pub fn resource_timeline(&self, resource: ResourceId) -> Vec<Booking> {
        self.timeline_between(resource, Millis::MIN, Millis::MAX)
    }

    /// Bookings of `resource` overlapping `[from, to)`.
    pub fn timeline_between(&self, resource: ResourceId, from: Millis, to: Millis) -> Vec<Booking> {
        self.bookings(resource, from..to)
    }

    /// Granted bookings of `resource` overlapping `[from, to)`.
    pub fn granted_between(&self, resource: ResourceId, from: Millis, to: Millis) -> Vec<EventId> {
        self.view
            .grants
            .get(&resource)
            .map(|g| g.overlapping(from, to).map(|(_, _, e)| e).collect())
            .unwrap_or_default()
    }

    /// Requests awaiting `owner`'s answer, in the order they reached this node.
    pub fn pending_requests(&self, owner: PublicKey) -> Vec<Request> {
        self.inbox(owner)
    }

    /// Resources `user` owns (not deleted).
    pub fn owned_by(&self, user: PublicKey) -> Vec<ResourceInfo> {
        let Some(owned) = self.view.owned.get(&user) else {
            return Vec::new();
        };
        owned.iter().filter_map(|id| self.resource(*id)).collect()
    }

    /// Every resource in scope, deleted ones included (marked), by name, then id.
    pub fn resources(&self) -> Vec<ResourceInfo> {
        let found: Vec<(&ResourceId, &ResourceRec)> = self
            .view
            .resources
            .iter()
            .filter(|(_, r)| self.in_scope(r.festival))
            .collect();
        let key = |i: usize| (&found[i].1.current.name, found[i].0);
        sorted_order(found.len(), &|a, b| key(a).cmp(&key(b)))
            .into_iter()
            .map(|i| resource_info(*found[i].0, found[i].1))
            .collect()
    }

    /// Where changes to a thing living in festival `home` are written: in `home` itself, or, in a
    /// fork, in the fork for what it inherited.
    pub fn written_in(&self, home: FestivalId) -> FestivalId {
        match self.view.fork_root {
            Some(root) if !self.view.is_within(home, root) => root,
            _ => home,
        }
    }

    /// Direct sub-festivals.
    pub fn sub_festivals(&self) -> Vec<FestivalId> {
        self.info().sub_festivals
    }

    /// Double bookings by owners, within scope.
    pub fn conflicts(&self) -> Vec<Conflict> {
        self.view
            .conflicts
            .iter()
            .filter(|c| {
                self.view
                    .resources
                    .get(&c.resource)
                    .is_some_and(|r| self.in_scope(r.festival))
            })
            .copied()
            .collect()
    }
}

impl FestivalQuery<'_> {
    /// Display names of the authors who set one in this festival's context, by author.
    pub fn profiles(&self) -> Vec<Profile> {
        let found: Vec<(&PublicKey, &(OrderKey, String))> = self.view.profiles.iter().collect();
        sorted_order(found.len(), &|a, b| found[a].0.cmp(found[b].0))
            .into_iter()
            .map(|i| Profile {
                author: *found[i].0,
                name: found[i].1 .1.clone(),
            })
            .collect()
    }

    /// Operations written in this festival's scope that were rejected, oldest first.
    pub fn rejected(&self) -> Vec<RejectedInfo> {
        self.view
            .rejected_ops
            .iter()
            .filter_map(|op| {
                let festival = op.operation.festival().unwrap_or(op.id);
                let rejection = self.view.rejected.get(&op.id)?;
                self.in_scope(festival).then(|| RejectedInfo {
                    id: op.id,
                    author: op.author,
                    festival,
                    rejection: rejection.clone(),
                })
            })
            .collect()
    }
}

/// The positions `0..len` in the stable order `cmp` gives them (a bottom-up merge sort). One
/// non-generic function instead of a `slice::sort_by` instantiated per element type and key,
/// whose code costs the browser package several kilobytes.
fn sorted_order(len: usize, cmp: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    let mut merged = vec![0; len];
    let mut width = 1;
    while width < len {
        for start in (0..len).step_by(2 * width) {
            let mid = (start + width).min(len);
            let end = (start + 2 * width).min(len);
            let (mut left, mut right) = (start, mid);
            for slot in &mut merged[start..end] {
                // Ties take from the left run: stable.
                let take_left =
                    right == end || (left < mid && cmp(order[left], order[right]).is_le());
                let from = if take_left { &mut left } else { &mut right };
                *slot = order[*from];
                *from += 1;
            }
        }
        std::mem::swap(&mut order, &mut merged);
        width *= 2;
    }
    order
}

fn event_info(view: &View, id: EventId, rec: &EventRec) -> EventInfo {
    let current = rec.current();
    EventInfo {
        id,
        festival: rec.festival(),
        creator: rec.creator(),
        version: rec.current_version(),
        title: current.title.to_owned(),
        description: current.description.to_owned(),
        start: current.start,
        end: current.end,
        cancelled: rec.cancelled,
        resources: view.statuses(id, rec),
    }
}

fn resource_info(id: ResourceId, rec: &ResourceRec) -> ResourceInfo {
    ResourceInfo {
        id,
        festival: rec.festival,
        owner: rec.owner,
        name: rec.current.name.clone(),
        description: rec.current.description.clone(),
        kind: rec.current.kind.clone(),
        policy: rec.current.policy.clone(),
        deleted: rec.deleted,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::sorted_order;

    proptest! {
        /// The same order as the standard library's stable sort, ties included.
        #[test]
        fn sorted_order_is_a_stable_sort(keys in prop::collection::vec(0u8..8, 0..300)) {
            let mut expected: Vec<usize> = (0..keys.len()).collect();
            expected.sort_by_key(|&i| keys[i]);
            prop_assert_eq!(sorted_order(keys.len(), &|a, b| keys[a].cmp(&keys[b])), expected);
        }
    }
}
