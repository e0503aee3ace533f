//! The paged queries against answers computed without the indexes (from each event's own
//! fields and answers), page by page with the state changing in between, and what a page costs
//! as the festival grows.

use std::ops::Range;

use proptest::prelude::*;

use super::*;
use crate::festival::intervals::visits;
use crate::festival::{Op, Outcome, State};
use crate::identity::KeyPair;
use crate::operation::*;

/// A state built from operations without signatures: each in a log of its own.
struct World {
    state: State,
    authors: Vec<PublicKey>,
    ops: u64,
    festivals: Vec<FestivalId>,
    /// Resources with their festival and owner (an index into `authors`).
    resources: Vec<(ResourceId, FestivalId, usize)>,
    /// Events with their festival and creator.
    events: Vec<(EventId, FestivalId, usize)>,
}

impl World {
    /// A root festival, two sub-festivals and one below the first.
    fn new(authors: usize) -> Self {
        let mut world = World {
            state: State::new(),
            authors: (0..authors)
                .map(|i| {
                    KeyPair::from_secret_bytes(&[i as u8 + 1; 32])
                        .expect("32 bytes are a secret key")
                        .public_key()
                })
                .collect(),
            ops: 0,
            festivals: Vec::new(),
            resources: Vec::new(),
            events: Vec::new(),
        };
        for parent in [None, Some(0), Some(0), Some(1)] {
            let parent = parent.map(|p| world.festivals[p]);
            let id = world.apply(
                0,
                Operation::FestivalCreate(FestivalCreate {
                    name: "F".into(),
                    description: String::new(),
                    parent,
                    fork_of: None,
                }),
            );
            world.festivals.push(id);
        }
        world
    }

    fn apply(&mut self, author: usize, operation: Operation) -> Hash {
        self.ops += 1;
        let id = Hash::digest(&self.ops.to_le_bytes());
        let outcome = self.state.apply(Op {
            id,
            author: self.authors[author],
            log_id: self.ops,
            seq: 1,
            operation,
        });
        assert_eq!(outcome, Outcome::Applied);
        id
    }

    fn resource(&mut self, festival: usize, owner: usize) -> ResourceId {
        let festival = self.festivals[festival];
        let id = self.apply(
            owner,
            Operation::ResourceCreate(ResourceCreate {
                festival,
                name: "R".into(),
                description: String::new(),
                kind: ResourceKind::Item,
                policy: PolicyKind::Manual,
            }),
        );
        self.resources.push((id, festival, owner));
        id
    }

    /// An event in festival `festival` requesting those of `wanted` (bits, into `resources`)
    /// it may request.
    fn event(&mut self, author: usize, festival: usize, start: Millis, len: Millis, wanted: u32) {
        let festival = self.festivals[festival];
        let lineage: Vec<FestivalId> = self.lineage(festival);
        let resources = (self.resources.iter().enumerate())
            .filter(|(i, (_, home, _))| wanted >> (i % 32) & 1 == 1 && lineage.contains(home))
            .map(|(_, (id, _, _))| *id)
            .take(MAX_EVENT_RESOURCES)
            .collect();
        let id = self.apply(
            author,
            Operation::EventCreate(EventCreate {
                festival,
                title: "E".into(),
                description: String::new(),
                start,
                end: start + len,
                resources,
            }),
        );
        self.events.push((id, festival, author));
    }

    fn lineage(&self, festival: FestivalId) -> Vec<FestivalId> {
        let root = self.festivals[0];
        let query = self.state.festival(root).expect("the root festival");
        std::iter::successors(Some(festival), |f| query.festival_info(*f)?.parent).collect()
    }

    /// The current state of an event (in the root festival's scope, which covers all).
    fn info(&self, event: EventId) -> Option<EventInfo> {
        self.state.festival(self.festivals[0])?.event(event)
    }

    /// The owner answers the event's request for its `pick`th resource.
    fn answer(&mut self, event: EventId, pick: usize, grant: bool) {
        let Some(info) = self.info(event) else { return };
        if info.cancelled || info.resources.is_empty() {
            return;
        }
        let resource = info.resources[pick % info.resources.len()].0;
        let Some(&(_, home, owner)) = self.resources.iter().find(|r| r.0 == resource) else {
            return;
        };
        if self.info(event).is_some_and(|i| {
            i.resources
                .iter()
                .all(|(r, s)| *r != resource || *s == RequestStatus::ResourceDeleted)
        }) {
            return;
        }
        self.apply(
            owner,
            Operation::Authorization(Authorization {
                festival: home,
                event,
                event_version: info.version,
                resource,
                decision: if grant {
                    Decision::Grant
                } else {
                    Decision::Deny
                },
                reason: None,
            }),
        );
    }

    fn move_event(&mut self, event: EventId, start: Millis, len: Millis) {
        let Some(&(_, home, creator)) = self.events.iter().find(|e| e.0 == event) else {
            return;
        };
        self.apply(
            creator,
            Operation::EventUpdate(EventUpdate {
                festival: home,
                event,
                title: None,
                description: None,
                timeframe: Some(Timeframe {
                    start,
                    end: start + len,
                }),
                resources: None,
            }),
        );
    }

    fn cancel(&mut self, event: EventId) {
        let Some(&(_, home, creator)) = self.events.iter().find(|e| e.0 == event) else {
            return;
        };
        if self.info(event).is_some_and(|i| !i.cancelled) {
            self.apply(
                creator,
                Operation::EventCancel(EventCancel {
                    festival: home,
                    event,
                }),
            );
        }
    }

    fn delete(&mut self, pick: usize) {
        let Some(&(resource, home, owner)) = self.resources.get(pick % self.resources.len().max(1))
        else {
            return;
        };
        let deleted = self
            .state
            .festival(self.festivals[0])
            .and_then(|q| q.resource(resource));
        if deleted.is_some_and(|r| !r.deleted) {
            self.apply(
                owner,
                Operation::ResourceDelete(ResourceDelete {
                    festival: home,
                    resource,
                }),
            );
        }
    }
}

/// One of the paged queries.
#[derive(Debug, Clone)]
enum Ask {
    Time(Range<Millis>),
    Resource(usize, Range<Millis>),
    Owned(usize),
    Owner(usize, StatusKind, Range<Millis>),
    Status(StatusKind, Option<usize>, Range<Millis>),
}

/// An item as the tests compare them: its key and what it says.
#[derive(Debug, Clone, PartialEq)]
struct Item {
    key: (Millis, Hash, Hash),
    shown: String,
}

fn event_item(e: &EventInfo) -> Item {
    Item {
        key: (e.start, e.id, Hash::MIN),
        shown: format!("{e:?}"),
    }
}

fn request_item(r: &RequestInfo) -> Item {
    Item {
        key: (r.request.start, r.request.event, r.request.resource),
        shown: format!("{r:?}"),
    }
}

impl Ask {
    /// One page, read through the indexes.
    fn page(&self, world: &World, festival: FestivalId, page: &PageRequest) -> Page<Item> {
        let q = world.state.festival(festival).expect("a known festival");
        let (items, next) = match self {
            Ask::Time(range) => {
                let p = q.events_by_time(range.clone(), page);
                (p.items.iter().map(event_item).collect(), p.next)
            }
            Ask::Resource(r, range) => {
                let p = q.events_by_resource(world.resources[*r].0, range.clone(), page);
                (p.items.iter().map(event_item).collect(), p.next)
            }
            Ask::Owned(owner) => {
                let p = q.resources_by_owner(world.authors[*owner], page);
                let items = p.items.iter().map(|r| Item {
                    key: (0, r.id, Hash::MIN),
                    shown: format!("{r:?}"),
                });
                (items.collect(), p.next)
            }
            Ask::Owner(owner, kind, range) => {
                let p = q.requests_by_owner(world.authors[*owner], *kind, range.clone(), page);
                (p.items.iter().map(request_item).collect(), p.next)
            }
            Ask::Status(kind, resource, range) => {
                let resource = resource.map(|r| world.resources[r].0);
                let p = q.requests_by_status(*kind, resource, range.clone(), page);
                (p.items.iter().map(request_item).collect(), p.next)
            }
        };
        Page { items, next }
    }

    /// Every item, computed from each event's fields and answers, not from the indexes.
    fn expected(&self, world: &World, festival: FestivalId) -> Vec<Item> {
        let q = world.state.festival(festival).expect("a known festival");
        let view = q.view();
        let overlaps =
            |e: &EventInfo, range: &Range<Millis>| e.start < range.end && e.end > range.start;
        let events: Vec<EventInfo> = world
            .events
            .iter()
            .filter_map(|(id, _, _)| q.event(*id))
            .filter(|e| !e.cancelled)
            .collect();
        let requests = |wanted: &dyn Fn(&ResourceId, &RequestStatus) -> bool,
                        range: &Range<Millis>| {
            let mut items = Vec::new();
            for e in events.iter().filter(|e| overlaps(e, range)) {
                for (resource, status) in &e.resources {
                    if wanted(resource, status) {
                        let request = Request {
                            event: e.id,
                            event_version: e.version,
                            resource: *resource,
                            start: e.start,
                            end: e.end,
                        };
                        let status = status.clone();
                        items.push(request_item(&RequestInfo { request, status }));
                    }
                }
            }
            items
        };
        let owner_of = |r: &ResourceId| view.resources.get(r).map(|r| r.owner);
        let mut items: Vec<Item> = match self {
            Ask::Time(range) => events
                .iter()
                .filter(|e| overlaps(e, range))
                .map(event_item)
                .collect(),
            Ask::Resource(r, range) => {
                let resource = world.resources[*r].0;
                let requests = |e: &&EventInfo| e.resources.iter().any(|(r, _)| *r == resource);
                let found = events
                    .iter()
                    .filter(|e| overlaps(e, range))
                    .filter(requests);
                found.map(event_item).collect()
            }
            Ask::Owned(owner) => world
                .resources
                .iter()
                .filter_map(|(id, _, _)| q.resource(*id))
                .filter(|r| r.owner == world.authors[*owner] && !r.deleted)
                .map(|r| Item {
                    key: (0, r.id, Hash::MIN),
                    shown: format!("{r:?}"),
                })
                .collect(),
            Ask::Owner(owner, kind, range) => {
                let owner = world.authors[*owner];
                let wanted = |r: &ResourceId, s: &RequestStatus| {
                    s.kind() == *kind && owner_of(r) == Some(owner)
                };
                requests(&wanted, range)
            }
            Ask::Status(kind, resource, range) => {
                let resource = resource.map(|r| world.resources[r].0);
                let wanted = |r: &ResourceId, s: &RequestStatus| {
                    s.kind() == *kind && resource.is_none_or(|x| x == *r)
                };
                requests(&wanted, range)
            }
        };
        items.sort_by_key(|a| a.key);
        items.dedup_by(|a, b| a.key == b.key);
        items
    }

    /// Whether the order is by time (changes past a cursor's start are past the cursor).
    fn by_time(&self) -> bool {
        !matches!(self, Ask::Owned(_))
    }
}

/// A change to make between two pages.
#[derive(Debug, Clone)]
enum Change {
    Event {
        author: usize,
        festival: usize,
        start: Millis,
        len: Millis,
        wanted: u32,
    },
    Answer {
        pick: usize,
        resource: usize,
        grant: bool,
    },
    Move {
        pick: usize,
        start: Millis,
        len: Millis,
    },
    Cancel {
        pick: usize,
    },
    Delete {
        pick: usize,
    },
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        4 => (0usize..3, 0usize..4, 0i64..100, 1i64..40, any::<u32>()).prop_map(
            |(author, festival, start, len, wanted)| Change::Event { author, festival, start, len, wanted }
        ),
        4 => (any::<usize>(), any::<usize>(), any::<bool>())
            .prop_map(|(pick, resource, grant)| Change::Answer { pick, resource, grant }),
        1 => (any::<usize>(), 0i64..100, 1i64..40)
            .prop_map(|(pick, start, len)| Change::Move { pick, start, len }),
        1 => any::<usize>().prop_map(|pick| Change::Cancel { pick }),
        1 => any::<usize>().prop_map(|pick| Change::Delete { pick }),
    ]
}

impl Change {
    /// Make the change; with `past`, only where it moves keys whose start is after `past`.
    fn make(&self, world: &mut World, past: Option<Millis>) {
        let after = |start: Millis| past.is_none_or(|p| start > p);
        // An event that may change: one all of whose keys lie past the cursor.
        let pick = |world: &World, pick: usize| {
            let open: Vec<EventId> = (world.events.iter())
                .filter(|(id, _, _)| world.info(*id).is_some_and(|e| after(e.start)))
                .map(|(id, _, _)| *id)
                .collect();
            (!open.is_empty()).then(|| open[pick % open.len()])
        };
        match *self {
            Change::Event {
                author,
                festival,
                start,
                len,
                wanted,
            } => {
                let start = past.map_or(start, |p| p + 1 + start);
                world.event(author, festival, start, len, wanted);
            }
            Change::Answer {
                pick: p,
                resource,
                grant,
            } => {
                if let Some(event) = pick(world, p) {
                    world.answer(event, resource, grant);
                }
            }
            Change::Move {
                pick: p,
                start,
                len,
            } => {
                if let Some(event) = pick(world, p) {
                    world.move_event(event, past.map_or(start, |p| p + 1 + start), len);
                }
            }
            Change::Cancel { pick: p } => {
                if let Some(event) = pick(world, p) {
                    world.cancel(event);
                }
            }
            // Deleting changes the statuses of every event requesting the resource.
            Change::Delete { pick } => {
                if past.is_none() {
                    world.delete(pick);
                }
            }
        }
    }
}

fn range() -> impl Strategy<Value = Range<Millis>> {
    prop_oneof![
        Just(Millis::MIN..Millis::MAX),
        (-10i64..150, 0i64..100).prop_map(|(from, len)| from..from + len),
    ]
}

fn kind() -> impl Strategy<Value = StatusKind> {
    prop::sample::select(StatusKind::ALL.to_vec())
}

fn ask() -> impl Strategy<Value = Ask> {
    prop_oneof![
        range().prop_map(Ask::Time),
        (0usize..6, range()).prop_map(|(r, range)| Ask::Resource(r, range)),
        (0usize..3).prop_map(Ask::Owned),
        (0usize..3, kind(), range()).prop_map(|(o, k, range)| Ask::Owner(o, k, range)),
        (kind(), prop::option::of(0usize..6), range())
            .prop_map(|(k, r, range)| Ask::Status(k, r, range)),
    ]
}

/// A world with six resources (in the root and the two sub-festivals, of three owners) and
/// `changes` made.
fn world(changes: &[Change]) -> World {
    let mut world = World::new(3);
    for i in 0..6 {
        world.resource(i % 3, i / 2);
    }
    for change in changes {
        change.make(&mut world, None);
    }
    world
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// All pages, of any size, are the whole answer in order, each item once; also when the
    /// state changes between pages past the cursor.
    #[test]
    fn pages_add_up_to_the_answer(
        setup in prop::collection::vec(change(), 0..50),
        asks in prop::collection::vec(ask(), 1..6),
        limit in 1usize..8,
        festival in 0usize..4,
        between in prop::collection::vec(change(), 0..12),
    ) {
        for ask in &asks {
            let mut world = world(&setup);
            let festival = world.festivals[festival];
            // A page as large as the answer is the answer.
            let whole = ask.page(&world, festival, &PageRequest::first(usize::MAX));
            prop_assert_eq!(whole.next, None);
            prop_assert_eq!(&whole.items, &ask.expected(&world, festival));

            let mut read = Vec::new();
            let mut page = PageRequest::first(limit);
            let mut changes = between.iter();
            loop {
                let got = ask.page(&world, festival, &page);
                prop_assert!(got.items.len() <= limit);
                read.extend(got.items.iter().cloned());
                let Some(next) = got.next else { break };
                prop_assert_eq!(got.items.len(), limit, "only the last page is short");
                prop_assert_eq!(read.last().map(|i| i.key.0), Some(next.start));
                page = PageRequest::after(limit, next);
                if let Some(change) = changes.next().filter(|_| ask.by_time()) {
                    change.make(&mut world, Some(next.start));
                }
            }
            prop_assert_eq!(read, ask.expected(&world, festival));
        }
    }

    /// The unpaged queries the indexes now answer: an owner's pending requests (what policies
    /// answer) in the order they arrived, and a resource's timeline.
    #[test]
    fn inboxes_and_timelines_read_the_indexes(
        setup in prop::collection::vec(change(), 0..60),
        festival in 0usize..4,
        range in range(),
    ) {
        let world = world(&setup);
        let q = world.state.festival(world.festivals[festival]).expect("a known festival");
        let view = q.view();
        for (resource, _, _) in &world.resources {
            let mut expected: Vec<Booking> = Vec::new();
            for (id, _, _) in &world.events {
                let Some(e) = q.event(*id).filter(|e| !e.cancelled) else { continue };
                let Some((_, status)) = e.resources.iter().find(|(r, _)| r == resource) else {
                    continue;
                };
                if e.start < range.end && e.end > range.start {
                    let (event, start, end, status) = (e.id, e.start, e.end, status.clone());
                    expected.push(Booking { event, start, end, status });
                }
            }
            expected.sort_by_key(|b| (b.start, b.event));
            prop_assert_eq!(q.timeline_between(*resource, range.start, range.end), expected);
        }
        for owner in &world.authors {
            let mut expected = Vec::new();
            for (id, _, _) in &world.events {
                let Some(e) = q.event(*id).filter(|e| !e.cancelled) else { continue };
                let arrived = view.events[id].arrived;
                for (resource, status) in &e.resources {
                    let owned = view.resources.get(resource).is_some_and(|r| r.owner == *owner);
                    if owned && *status == RequestStatus::Pending {
                        expected.push((arrived, e.id, *resource, e.version, e.start, e.end));
                    }
                }
            }
            expected.sort_by_key(|r| (r.0, r.1, r.2));
            let expected: Vec<Request> = expected
                .into_iter()
                .map(|(_, event, resource, event_version, start, end)| Request {
                    event,
                    event_version,
                    resource,
                    start,
                    end,
                })
                .collect();
            prop_assert_eq!(q.pending_requests(*owner), expected);
        }
    }

    #[test]
    fn cursors_read_back_from_text(start in any::<i64>(), id in any::<[u8; 8]>(), sub in any::<bool>()) {
        let cursor = Cursor {
            start,
            id: Hash::digest(&id),
            sub: if sub { Hash::digest(b"resource") } else { Hash::MIN },
        };
        prop_assert_eq!(cursor.to_string().parse::<Cursor>(), Ok(cursor));
    }
}

#[test]
fn text_that_is_no_cursor_is_refused() {
    let id = Hash::digest(b"e").to_hex();
    for text in [
        String::new(),
        "00".into(),
        format!("800000000000000{id}"),
        format!("8000000000000000{}", &id[2..]),
        format!("8000000000000000{id}zz"),
        format!("8000000000000000{id}{id}00"),
        format!("8000000000000000{id}{id}{id}"),
        format!("x000000000000000{id}"),
    ] {
        assert_eq!(text.parse::<Cursor>(), Err(KvError::BadCursor), "{text}");
    }
    // The text sorts like the keys.
    let cursor = |start| Cursor::at(start, Hash::digest(b"e")).to_string();
    assert!(cursor(-1) < cursor(0) && cursor(0) < cursor(1) && cursor(i64::MIN) < cursor(-1));
}

#[test]
fn a_cursor_resumes_just_after_its_key() {
    assert_eq!(just_before(5, Hash::MIN).map(|k| k.0), Some(4));
    assert_eq!(just_before(Millis::MIN, Hash::MIN), None);
    let mut bytes = [0; 64];
    bytes[63] = 1;
    assert_eq!(
        just_before(5, Hash::from_array(bytes)),
        Some((5, Hash::MIN))
    );
    bytes[62] = 1;
    bytes[63] = 0;
    let mut before = [0; 64];
    before[63] = 0xff;
    assert_eq!(
        just_before(5, Hash::from_array(bytes)),
        Some((5, Hash::from_array(before)))
    );
}

/// A festival of `n` events, one per 10 ms, each 30 ms long and requesting one of ten
/// resources of one owner, a third of them granted and a third denied; plus one event across
/// the whole festival.
fn big_world(n: usize) -> World {
    let mut world = World::new(1);
    for _ in 0..10 {
        world.resource(0, 0);
    }
    for i in 0..n {
        world.event(0, 0, 10 * i as Millis, 30, 1 << (i % 10));
        let event = world.events[i].0;
        if i % 3 > 0 {
            world.answer(event, 0, i % 3 == 1);
        }
    }
    world.event(0, 0, 0, 10 * n as Millis, 1);
    world
}

/// Tree nodes visited reading one page from a quarter into the festival on, per query: the
/// long event overlaps it, and everything before it ends before it.
fn page_costs(world: &World, n: usize) -> Vec<(&'static str, u64)> {
    let q = world
        .state
        .festival(world.festivals[0])
        .expect("the festival");
    let later = 10 * (n as Millis / 4)..Millis::MAX;
    let owner = world.authors[0];
    let resource = world.resources[3].0;
    let page = |limit: usize, read: &dyn Fn(&PageRequest) -> Option<Cursor>| {
        let cursor = read(&PageRequest::first(1));
        visits::take();
        let next = read(&PageRequest {
            limit,
            after: cursor,
        });
        assert!(next.is_some(), "a full page");
        visits::take()
    };
    let (q, later) = (&q, &later);
    let status = |kind, resource| {
        move |p: &PageRequest| q.requests_by_status(kind, resource, later.clone(), p).next
    };
    vec![
        (
            "time",
            page(50, &|p| q.events_by_time(later.clone(), p).next),
        ),
        (
            "resource",
            page(50, &|p| {
                q.events_by_resource(resource, later.clone(), p).next
            }),
        ),
        ("granted", page(50, &status(StatusKind::Granted, None))),
        (
            "denied for a resource",
            page(10, &status(StatusKind::Denied, Some(resource))),
        ),
        (
            "pending for an owner",
            page(50, &|p| {
                q.requests_by_owner(owner, StatusKind::Pending, later.clone(), p)
                    .next
            }),
        ),
        ("owned", page(5, &|p| q.resources_by_owner(owner, p).next)),
    ]
}

/// A page costs O(log N) per item: 100 times the events, not 100 times the work.
#[test]
fn a_page_costs_the_same_in_a_large_festival() {
    let small = page_costs(&big_world(1_000), 1_000);
    let large = page_costs(&big_world(100_000), 100_000);
    for ((name, small), (_, large)) in small.iter().zip(&large) {
        eprintln!("{name}: {small} nodes visited at 1k events, {large} at 100k");
        // A scan would grow a hundredfold; O(log N) per item grows with the trees' heights
        // (of the smaller per-resource indexes most: 33 entries to 3,333).
        assert!(*large < 3 * small, "{name}: {small} at 1k, {large} at 100k");
        // About one search from the root (log2 of 100k is 17) per item.
        assert!(*large < 50 * 2 * 17, "{name}: {large}");
    }
}
