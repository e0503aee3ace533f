//! Paged range queries over a festival's indexes: events by time and by resource, resources by
//! owner, requests by state (in a festival, for a resource, or to an owner).
//!
//! A page is at most `limit` items and a [`Cursor`]: the index key of its last item. The next
//! page is read from the indexes at that key on (a tree search), never by counting items from the
//! start, so each page costs about the same wherever it is, and changes to the state between
//! pages move nothing already returned: items whose keys lie past the cursor show up as they are
//! when their page is read.
//!
//! Every index is kept per festival (the event's, or the resource's for [`resources_by_owner`]);
//! a query reads the indexes of the festivals it covers (the festival, its sub-festivals and for
//! a fork what it inherited) and merges them. Costs below count `k`, those festivals, and `N`,
//! the entries of one index. Each index is an interval tree ([`Intervals`]): one step of an
//! overlap query is O(log N), however long or many the intervals that do not overlap.
//! [`events_in_range`](FestivalQuery::events_in_range), `timeline_between` and
//! `pending_requests` read the same indexes, unpaged.
//!
//! [`resources_by_owner`]: FestivalQuery::resources_by_owner

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use super::intervals::{Intervals, Overlapping};
use super::query::{Booking, EventInfo, FestivalQuery, Request, ResourceInfo};
use super::view::{Bucket, RequestStatus, StatusKind, View};
use crate::hash::{Hash, HASH_LEN};
use crate::identity::PublicKey;
use crate::operation::{EventId, Millis, ResourceId};

/// Where a page ended: the index key of its last item (start, event, and for requests the
/// resource; for resources by owner the resource). Pass it back to get the page after it.
///
/// Its text form (`Display` / `FromStr`) is for apps that keep it in a URL or pass it through
/// JS; treat it as opaque.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor {
    start: Millis,
    id: Hash,
    /// The resource of a request; [`Hash::MIN`] otherwise.
    sub: Hash,
}

impl Cursor {
    fn at(start: Millis, id: Hash) -> Self {
        Cursor {
            start,
            id,
            sub: Hash::MIN,
        }
    }
}

/// The key's bytes in hex: the start (8 bytes, big-endian, sign bit flipped so the text sorts
/// like the key), the id, and a request's resource.
impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = ((self.start as u64) ^ SIGN).to_be_bytes().to_vec();
        bytes.extend_from_slice(self.id.as_bytes());
        if self.sub != Hash::MIN {
            bytes.extend_from_slice(self.sub.as_bytes());
        }
        f.write_str(&hex::encode(bytes))
    }
}

const SIGN: u64 = 1 << 63;

/// Why a query's arguments were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    #[error("not a cursor of this festival's queries (pass back a page's `next` as it is)")]
    BadCursor,
}

impl FromStr for Cursor {
    type Err = KvError;

    fn from_str(text: &str) -> Result<Self, KvError> {
        let bytes = hex::decode(text).map_err(|_| KvError::BadCursor)?;
        let (start, ids) = bytes.split_first_chunk::<8>().ok_or(KvError::BadCursor)?;
        let (id, sub) = match ids.len() {
            HASH_LEN => (ids, &[0; HASH_LEN][..]),
            TWO_IDS => ids.split_at(HASH_LEN),
            _ => return Err(KvError::BadCursor),
        };
        let hash = |bytes: &[u8]| Hash::from_bytes(bytes).map_err(|_| KvError::BadCursor);
        Ok(Cursor {
            start: (u64::from_be_bytes(*start) ^ SIGN) as Millis,
            id: hash(id)?,
            sub: hash(sub)?,
        })
    }
}

const TWO_IDS: usize = 2 * HASH_LEN;

/// Which page to read: at most `limit` items (at least one is asked for, whatever `limit`
/// says), after `after` (from the first item when `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// The first page.
    pub fn first(limit: usize) -> Self {
        PageRequest { limit, after: None }
    }

    /// The page after `cursor` (a page's `next`).
    pub fn after(limit: usize, cursor: Cursor) -> Self {
        PageRequest {
            limit,
            after: Some(cursor),
        }
    }
}

/// One page of a query's results, in the query's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Where to go on from; `None` when this is the last page.
    pub next: Option<Cursor>,
}

/// A request (one event asking for one resource) and what its owner said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInfo {
    pub request: Request,
    pub status: RequestStatus,
}

impl<'v> FestivalQuery<'v> {
    /// Events (not cancelled) overlapping `range`, by start then id: a page of
    /// [`events_in_range`](FestivalQuery::events_in_range).
    ///
    /// Cost: O(k·log N + limit·(k + log N)).
    pub fn events_by_time(&self, range: Range<Millis>, page: &PageRequest) -> Page<EventInfo> {
        let view = self.view();
        let scope = self.scope().iter();
        let indexes = scope
            .filter_map(|f| view.events_by_festival.get(f))
            .collect();
        let (keys, next) = page_keys(view, indexes, range, page, None);
        self.events_page(keys, next)
    }

    /// Events (not cancelled) requesting `resource` and overlapping `range`, by start then id:
    /// a page of the resource's timeline. Each event's status for the resource is in its
    /// [`EventInfo::resources`].
    ///
    /// Cost: O(k·log N + limit·(k + log N)), reading the resource's four request indexes
    /// (one per [`StatusKind`]) of each festival.
    pub fn events_by_resource(
        &self,
        resource: ResourceId,
        range: Range<Millis>,
        page: &PageRequest,
    ) -> Page<EventInfo> {
        let buckets = StatusKind::ALL.map(|kind| Bucket::Resource(resource, kind));
        let (keys, next) = page_keys(self.view(), self.indexes(&buckets), range, page, None);
        self.events_page(keys, next)
    }

    /// Resources `owner` owns (not deleted), by id: a page of
    /// [`owned_by`](FestivalQuery::owned_by).
    ///
    /// Cost: O(k·log N + limit·(k + log N)).
    pub fn resources_by_owner(&self, owner: PublicKey, page: &PageRequest) -> Page<ResourceInfo> {
        let indexes = self.indexes(&[Bucket::Owned(owner)]);
        // Resources are indexed as points at 0 (see `Bucket::Owned`).
        let (keys, next) = page_keys(self.view(), indexes, Millis::MIN..Millis::MAX, page, None);
        let mut items = Vec::with_capacity(keys.len());
        for key in keys {
            items.extend(self.resource(key.id));
        }
        Page { items, next }
    }

    /// Requests for `owner`'s resources in state `status` whose events (not cancelled) overlap
    /// `range`, by the event's start, then event id, then resource id: an owner's inbox (or
    /// record of answers).
    ///
    /// Cost: O(k·log N + limit·(k + log N + r)), r ≤ 32 being the resources an event requests.
    pub fn requests_by_owner(
        &self,
        owner: PublicKey,
        status: StatusKind,
        range: Range<Millis>,
        page: &PageRequest,
    ) -> Page<RequestInfo> {
        let view = self.view();
        let owns = |r: &ResourceId| view.resources.get(r).is_some_and(|r| r.owner == owner);
        let indexes = self.indexes(&[Bucket::Owner(owner, status)]);
        requests_page(view, indexes, range, page, status, &owns)
    }

    /// Requests in state `status` (for `resource` only, when given) whose events (not
    /// cancelled) overlap `range`, by the event's start, then event id, then resource id.
    ///
    /// Cost: O(k·log N + limit·(k + log N + r)), r ≤ 32 being the resources an event requests.
    pub fn requests_by_status(
        &self,
        status: StatusKind,
        resource: Option<ResourceId>,
        range: Range<Millis>,
        page: &PageRequest,
    ) -> Page<RequestInfo> {
        let bucket = match resource {
            Some(resource) => Bucket::Resource(resource, status),
            None => Bucket::Status(status),
        };
        let wanted = |r: &ResourceId| resource.is_none_or(|resource| *r == resource);
        let indexes = self.indexes(&[bucket]);
        requests_page(self.view(), indexes, range, page, status, &wanted)
    }

    fn events_page(&self, keys: Vec<Cursor>, next: Option<Cursor>) -> Page<EventInfo> {
        let mut items = Vec::with_capacity(keys.len());
        for key in keys {
            items.extend(self.event(key.id));
        }
        Page { items, next }
    }

    /// Every booking of `resource` overlapping `range`, by start then event id.
    pub(super) fn bookings(&self, resource: ResourceId, range: Range<Millis>) -> Vec<Booking> {
        let view = self.view();
        let buckets = StatusKind::ALL.map(|kind| Bucket::Resource(resource, kind));
        let all = PageRequest::first(usize::MAX);
        let (keys, _) = page_keys(view, self.indexes(&buckets), range, &all, None);
        let mut bookings = Vec::with_capacity(keys.len());
        for key in keys {
            let Some(event) = view.events.get(&key.id) else {
                continue;
            };
            let statuses = event.indexed_statuses();
            if let Some((_, status)) = statuses.iter().find(|(r, _)| *r == resource) {
                let current = event.current();
                bookings.push(Booking {
                    event: key.id,
                    start: current.start,
                    end: current.end,
                    status: status.clone(),
                });
            }
        }
        bookings
    }

    /// Requests awaiting `owner`'s answer, in the order they reached this node (by arrival,
    /// then event id, then resource id).
    pub(super) fn inbox(&self, owner: PublicKey) -> Vec<Request> {
        let view = self.view();
        let owns = |r: &ResourceId| view.resources.get(r).is_some_and(|r| r.owner == owner);
        let indexes = self.indexes(&[Bucket::Inbox(owner)]);
        let all = PageRequest::first(usize::MAX);
        let filter = Some((StatusKind::Pending, &owns as &dyn Fn(&ResourceId) -> bool));
        let (keys, _) = page_keys(view, indexes, Millis::MIN..Millis::MAX, &all, filter);
        let mut requests = Vec::with_capacity(keys.len());
        for key in keys {
            requests.extend(request_info(view, &key).map(|info| info.request));
        }
        requests
    }

    /// The indexes of `buckets` in every festival of the scope.
    fn indexes(&self, buckets: &[Bucket]) -> Vec<&'v Intervals> {
        let view = self.view();
        let mut indexes = Vec::new();
        for bucket in buckets {
            for festival in self.scope() {
                indexes.extend(view.buckets.get(&(*bucket, *festival)));
            }
        }
        indexes
    }
}

/// Which requests of each event a page lists: those in this state for which the function holds.
type RequestFilter<'f> = (StatusKind, &'f dyn Fn(&ResourceId) -> bool);

fn requests_page(
    view: &View,
    indexes: Vec<&Intervals>,
    range: Range<Millis>,
    page: &PageRequest,
    status: StatusKind,
    wanted: &dyn Fn(&ResourceId) -> bool,
) -> Page<RequestInfo> {
    let (keys, next) = page_keys(view, indexes, range, page, Some((status, wanted)));
    let mut items = Vec::with_capacity(keys.len());
    for key in keys {
        items.extend(request_info(view, &key));
    }
    Page { items, next }
}

/// The keys of one page, and the last one's when more follow: the events the merged indexes
/// hold after the cursor, or with `requests`, those events' requests in that state for which
/// the filter holds. One non-generic walk for every query (the browser package's size).
fn page_keys(
    view: &View,
    indexes: Vec<&Intervals>,
    range: Range<Millis>,
    page: &PageRequest,
    requests: Option<RequestFilter<'_>>,
) -> (Vec<Cursor>, Option<Cursor>) {
    let limit = page.limit.max(1);
    let after = match requests {
        // The cursor's event may have requests left after the cursor's resource: start at it.
        Some(_) => page.after.and_then(|c| just_before(c.start, c.id)),
        None => page.after.map(|c| (c.start, c.id)),
    };
    let mut keys = Vec::new();
    let mut merged = Merged::new(indexes, after, range);
    // One key more than the page holds tells whether another page follows.
    while keys.len() <= limit {
        let Some((start, _, id)) = merged.next() else {
            break;
        };
        let Some((status, wanted)) = requests else {
            keys.push(Cursor::at(start, id));
            continue;
        };
        let statuses = view
            .events
            .get(&id)
            .map_or(&[][..], |e| e.indexed_statuses());
        // Only within the cursor's own event do the resources start after the cursor's.
        let mut last = page
            .after
            .filter(|c| (c.start, c.id) == (start, id))
            .map(|c| c.sub);
        // The event's matching requests in resource order (min after min: an event requests
        // at most 32 resources).
        while keys.len() <= limit {
            let mut next: Option<&ResourceId> = None;
            for (r, s) in statuses {
                let later = last.is_none_or(|l| before((0, &l), (0, r)));
                let first = next.is_none_or(|n| before((0, r), (0, n)));
                if later && first && s.kind() == status && wanted(r) {
                    next = Some(r);
                }
            }
            let Some(&resource) = next else {
                break;
            };
            keys.push(Cursor {
                start,
                id,
                sub: resource,
            });
            last = Some(resource);
        }
    }
    let more = keys.len() > limit;
    keys.truncate(limit);
    let next = more.then(|| keys.last().copied()).flatten();
    (keys, next)
}

fn request_info(view: &View, key: &Cursor) -> Option<RequestInfo> {
    let event = view.events.get(&key.id)?;
    let status = event
        .indexed_statuses()
        .iter()
        .find(|(r, _)| *r == key.sub)?
        .1
        .clone();
    let current = event.current();
    Some(RequestInfo {
        request: Request {
            event: key.id,
            event_version: event.current_version(),
            resource: key.sub,
            start: current.start,
            end: current.end,
        },
        status,
    })
}

/// The largest key before `(start, id)`, so a search after it finds `(start, id)` itself;
/// `None` before the smallest key.
fn just_before(start: Millis, id: Hash) -> Option<(Millis, Hash)> {
    let mut bytes = *id.as_bytes();
    // Subtract one from the id as a big-endian number.
    for byte in bytes.iter_mut().rev() {
        if *byte > 0 {
            *byte -= 1;
            return Some((start, Hash::from_array(bytes)));
        }
        *byte = u8::MAX;
    }
    Some((start.checked_sub(1)?, Hash::from_array([u8::MAX; HASH_LEN])))
}

/// An index entry: `(start, end, id)`.
type Entry = (Millis, Millis, EventId);

/// The union of overlap queries on several indexes, by key.
struct Merged<'a> {
    /// Each index's next entry, and the query for the ones after it.
    heads: Vec<(Option<Entry>, Overlapping<'a>)>,
}

impl<'a> Merged<'a> {
    fn new(
        indexes: Vec<&'a Intervals>,
        after: Option<(Millis, EventId)>,
        range: Range<Millis>,
    ) -> Self {
        let mut heads = Vec::with_capacity(indexes.len());
        for index in indexes {
            let mut query = index.overlapping_after(after, range.start, range.end);
            heads.push((query.next(), query));
        }
        Merged { heads }
    }
}

impl Iterator for Merged<'_> {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        let mut first: Option<Entry> = None;
        for (head, _) in &self.heads {
            if let Some(head) = head {
                if first.is_none_or(|f| before((head.0, &head.2), (f.0, &f.2))) {
                    first = Some(*head);
                }
            }
        }
        let first = first?;
        // Advance every index at that key: an event listed twice is returned once.
        for (head, query) in &mut self.heads {
            if head.is_some_and(|h| (h.0, h.2) == (first.0, first.2)) {
                *head = query.next();
            }
        }
        Some(first)
    }
}

/// Whether key `a` comes before key `b`. Not inlined: a 64-byte comparison is long code, and
/// the browser package has a size budget.
#[inline(never)]
fn before(a: (Millis, &Hash), b: (Millis, &Hash)) -> bool {
    a < b
}

#[cfg(test)]
mod tests;
