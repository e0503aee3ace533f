//! A canonical, comparable picture of a whole [`State`]: every thing, status, index entry,
//! conflict, rejection and waiting operation, in sorted order. Two nodes that hold the same
//! operations must produce equal snapshots.

use std::collections::{BTreeMap, BTreeSet};

use super::view::View;
use super::{FestivalQuery, Missing, Rejection, State};
use crate::hash::Hash;
use crate::operation::{FestivalId, Millis};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot {
    pub contexts: BTreeMap<FestivalId, ContextSnapshot>,
    pub rejected: BTreeMap<Hash, Rejection>,
    pub waiting_for_log: BTreeSet<Hash>,
    pub waiting_for_festival: BTreeSet<Hash>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContextSnapshot {
    /// Each festival, resource and event as its query answer (`{:?}`: the kinds hold floats).
    pub festivals: BTreeMap<Hash, String>,
    pub resources: BTreeMap<Hash, String>,
    pub events: BTreeMap<Hash, String>,
    /// Index entries: (festival or resource, start, end, event).
    pub events_by_festival: BTreeSet<(Hash, Millis, Millis, Hash)>,
    pub timelines: BTreeSet<(Hash, Millis, Millis, Hash)>,
    pub grants: BTreeSet<(Hash, Millis, Millis, Hash)>,
    /// (owner, event, resource): arrival order is local, so it is left out.
    pub pending: BTreeSet<(String, Hash, Hash)>,
    pub owned: BTreeSet<(String, Hash)>,
    /// (author, display name).
    pub profiles: BTreeSet<(String, String)>,
    pub conflicts: BTreeSet<(Hash, Hash, Hash)>,
    pub rejected: BTreeMap<Hash, Rejection>,
    pub waiting: BTreeMap<Hash, Missing>,
}

impl Snapshot {
    pub(crate) fn of(state: &State) -> Snapshot {
        Snapshot {
            contexts: state
                .contexts
                .iter()
                .map(|(root, context)| (*root, ContextSnapshot::of(&context.view)))
                .collect(),
            rejected: state
                .rejected
                .iter()
                .map(|(k, v)| (*k, v.clone()))
                .collect(),
            waiting_for_log: state
                .waiting_for_log
                .values()
                .flatten()
                .map(|op| op.id)
                .collect(),
            waiting_for_festival: state
                .waiting_for_festival
                .values()
                .flatten()
                .map(|op| op.id)
                .collect(),
        }
    }
}

fn intervals<'a>(
    index: impl Iterator<Item = (&'a Hash, &'a super::view::Intervals)>,
) -> BTreeSet<(Hash, Millis, Millis, Hash)> {
    index
        .flat_map(|(key, intervals)| {
            intervals
                .iter()
                .map(|(start, end, event)| (*key, start, end, event))
        })
        .collect()
}

impl ContextSnapshot {
    fn of(view: &View) -> ContextSnapshot {
        let mut snapshot = ContextSnapshot::default();
        for id in view.festivals.keys() {
            let query = FestivalQuery::new(view, *id);
            snapshot
                .festivals
                .insert(*id, format!("{:?}", query.info()));
            for resource in query.resources().into_iter().filter(|r| r.festival == *id) {
                snapshot
                    .resources
                    .insert(resource.id, format!("{resource:?}"));
            }
        }
        for (id, event) in &view.events {
            if let Some(info) = FestivalQuery::new(view, event.festival()).event(*id) {
                snapshot.events.insert(*id, format!("{info:?}"));
            }
        }
        snapshot.events_by_festival = intervals(view.events_by_festival.iter());
        snapshot.timelines = intervals(view.timelines());
        snapshot.grants = intervals(view.grants.iter());
        snapshot.pending = view
            .inbox()
            .into_iter()
            .map(|(owner, e, r)| (owner.to_hex(), e, r))
            .collect();
        snapshot.owned = view
            .owned
            .iter()
            .flat_map(|(owner, set)| set.iter().map(move |r| (owner.to_hex(), *r)))
            .collect();
        snapshot.profiles = view
            .profiles
            .iter()
            .map(|(author, (_, name))| (author.to_hex(), name.clone()))
            .collect();
        snapshot.conflicts = view
            .conflicts
            .iter()
            .map(|c| (c.resource, c.first, c.second))
            .collect();
        snapshot.rejected = view.rejected.iter().map(|(k, v)| (*k, v.clone())).collect();
        snapshot.waiting = view
            .waiting_on
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        snapshot
    }
}

impl Snapshot {
    /// Human-readable differences from `other` (empty when equal), for test failures.
    pub fn diff(&self, other: &Snapshot) -> Vec<String> {
        let mut out = Vec::new();
        diff_maps(
            "context",
            &self.contexts,
            &other.contexts,
            &mut out,
            |root, a, b, out| {
                let name = format!("context {root:?}");
                diff_maps(
                    &format!("{name} festival"),
                    &a.festivals,
                    &b.festivals,
                    out,
                    value_diff,
                );
                diff_maps(
                    &format!("{name} resource"),
                    &a.resources,
                    &b.resources,
                    out,
                    value_diff,
                );
                diff_maps(
                    &format!("{name} event"),
                    &a.events,
                    &b.events,
                    out,
                    value_diff,
                );
                diff_maps(
                    &format!("{name} rejected"),
                    &a.rejected,
                    &b.rejected,
                    out,
                    value_diff,
                );
                diff_maps(
                    &format!("{name} waiting"),
                    &a.waiting,
                    &b.waiting,
                    out,
                    value_diff,
                );
                diff_sets(
                    &format!("{name} by festival"),
                    &a.events_by_festival,
                    &b.events_by_festival,
                    out,
                );
                diff_sets(&format!("{name} timeline"), &a.timelines, &b.timelines, out);
                diff_sets(&format!("{name} grant"), &a.grants, &b.grants, out);
                diff_sets(&format!("{name} pending"), &a.pending, &b.pending, out);
                diff_sets(&format!("{name} owned"), &a.owned, &b.owned, out);
                diff_sets(&format!("{name} profile"), &a.profiles, &b.profiles, out);
                diff_sets(&format!("{name} conflict"), &a.conflicts, &b.conflicts, out);
            },
        );
        diff_maps(
            "rejected",
            &self.rejected,
            &other.rejected,
            &mut out,
            value_diff,
        );
        diff_sets(
            "waiting for log",
            &self.waiting_for_log,
            &other.waiting_for_log,
            &mut out,
        );
        diff_sets(
            "waiting for festival",
            &self.waiting_for_festival,
            &other.waiting_for_festival,
            &mut out,
        );
        out
    }
}

fn value_diff<K: std::fmt::Debug, V: std::fmt::Debug + PartialEq>(
    key: &K,
    a: &V,
    b: &V,
    out: &mut Vec<String>,
) {
    if a != b {
        out.push(format!("{key:?}: {a:?} != {b:?}"));
    }
}

fn diff_maps<K: Ord + std::fmt::Debug, V>(
    what: &str,
    a: &BTreeMap<K, V>,
    b: &BTreeMap<K, V>,
    out: &mut Vec<String>,
    both: impl Fn(&K, &V, &V, &mut Vec<String>),
) {
    for (key, value) in a {
        match b.get(key) {
            Some(other) => both(key, value, other, out),
            None => out.push(format!("{what} {key:?} only on the left")),
        }
    }
    for key in b.keys().filter(|k| !a.contains_key(k)) {
        out.push(format!("{what} {key:?} only on the right"));
    }
}

fn diff_sets<T: Ord + std::fmt::Debug>(
    what: &str,
    a: &BTreeSet<T>,
    b: &BTreeSet<T>,
    out: &mut Vec<String>,
) {
    for x in a.difference(b) {
        out.push(format!("{what} {x:?} only on the left"));
    }
    for x in b.difference(a) {
        out.push(format!("{what} {x:?} only on the right"));
    }
}
