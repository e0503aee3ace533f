//! Materialized festival state: a pure function of the set of valid operations, whatever order
//! they arrive in, answering the app's questions through indexes.
//!
//! Festivals group into *contexts*. A root festival and its sub-festivals share one context; a fork
//! starts a new context holding what it inherited from its source (the source's operations up to
//! the fork's frontier) plus its own. Every operation is delivered to its home context and to each
//! fork that inherits it, where a [`View`](view::View) applies it.

mod intervals;
mod kv;
mod query;
mod snapshot;
mod view;

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

pub use kv::{Cursor, KvError, Page, PageRequest, RequestInfo};
pub use query::{
    Booking, EventInfo, FestivalInfo, FestivalQuery, Profile, RejectedInfo, Request, ResourceInfo,
};
pub use snapshot::Snapshot;
pub use view::{Conflict, RequestStatus, StatusKind};

use crate::hash::Hash;
use crate::identity::PublicKey;
use crate::operation::{FestivalId, Operation, OperationId};
use crate::store::LogKey;
use view::View;

/// What sync exchanges as a whole: the id of a context's root (a root festival, or a fork), which
/// covers its sub-festivals.
pub type Topic = FestivalId;

/// An operation with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    pub id: OperationId,
    pub author: PublicKey,
    pub log_id: u64,
    pub seq: u64,
    pub operation: Operation,
}

impl Op {
    fn log(&self) -> LogKey {
        LogKey {
            author: self.author,
            log_id: self.log_id,
        }
    }
}

/// An operation in a set keyed by its id: a slot is one pointer, where a map from id to operation
/// would spend 64 more bytes on a second copy of the id.
#[derive(Debug, Clone)]
struct ById(Arc<Op>);

impl PartialEq for ById {
    fn eq(&self, other: &Self) -> bool {
        self.0.id == other.0.id
    }
}

impl Eq for ById {}

// Hashes as the id itself, as `Borrow` requires, so the set is searched by id.
impl std::hash::Hash for ById {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.id.hash(state)
    }
}

impl Borrow<OperationId> for ById {
    fn borrow(&self) -> &OperationId {
        &self.0.id
    }
}

/// Orders one author's changes to one thing: by fork generation (a fork's changes come after what
/// it inherited), then log position. The log id and id only break ties that honest authors never
/// produce, so the order is total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct OrderKey {
    generation: u32,
    seq: u64,
    log_id: u64,
    id: OperationId,
}

/// What applying an operation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// Kept, and applied as soon as what it refers to arrives.
    Waiting(Missing),
    /// Kept as a record, never applied.
    Rejected(Rejection),
    /// Seen before.
    Duplicate,
}

/// What a waiting operation refers to but this node has not seen (yet).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Missing {
    Festival(FestivalId),
    Resource(Hash),
    Event(Hash),
    EventVersion(OperationId),
    /// The first entry of the operation's log, which names the log's festival.
    LogStart(LogKey),
    /// The key of the private festival the entry is sealed for (it is stored, and read once the
    /// key is known; see [`crate::private`]).
    Key(crate::secret::KeyId),
}

impl Missing {
    fn id(&self) -> Hash {
        match self {
            Missing::Festival(id)
            | Missing::Resource(id)
            | Missing::Event(id)
            | Missing::EventVersion(id) => *id,
            // Log starts are tracked by the router, keys by the replica, not by hash.
            Missing::LogStart(_) | Missing::Key(_) => Hash::MIN,
        }
    }
}

/// Why an operation was rejected.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, thiserror::Error)]
pub enum Rejection {
    #[error("only the creator may change this")]
    NotCreator,
    #[error("only the resource's owner may do this")]
    NotOwner,
    #[error("written in another festival than the one the thing belongs to")]
    WrongFestival,
    #[error(
        "resource {0:?} belongs to a festival outside this event's festival and those above it"
    )]
    ResourceOutOfScope(Hash),
    #[error("the named version belongs to another event")]
    VersionOfOtherEvent,
    #[error("that version of the event does not request this resource")]
    ResourceNotRequested,
    #[error("festival.create must be the first entry of a new log")]
    CreateNotFirstInLog,
    #[error("the operation names another festival than its log")]
    LogFestivalMismatch,
}

#[derive(Debug, Clone)]
struct Context {
    view: View,
    /// Fork depth: 0 for a root festival's context.
    depth: u32,
    /// For a fork: its source festival and frontier.
    source: Option<(FestivalId, HashMap<LogKey, u64>)>,
    forks: Vec<FestivalId>,
}

/// The materialized state of every festival this node holds.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// Every operation seen.
    ops: HashSet<ById>,
    log_festival: HashMap<LogKey, FestivalId>,
    /// Author and festival to the author's log for it.
    festival_log: HashMap<(PublicKey, FestivalId), u64>,
    /// Festival to the id of its context's root.
    context_of: HashMap<FestivalId, FestivalId>,
    contexts: HashMap<FestivalId, Context>,
    waiting_for_log: HashMap<LogKey, Vec<Arc<Op>>>,
    waiting_for_festival: HashMap<FestivalId, Vec<Arc<Op>>>,
    /// Rejections made before an operation reaches a context (log structure).
    rejected: HashMap<OperationId, Rejection>,
    /// Whether the views defer their indexing (see [`State::defer_indexing`]).
    deferring: bool,
}

impl State {
    pub fn new() -> Self {
        Self::default()
    }

    /// Check an operation against the log it is written in, before it is stored: `festival.create`
    /// opens a new log, and every other entry of that log names the same festival. Returns `Ok`
    /// when the log's first entry is not known here.
    pub fn check_log_position(&self, op: &Op) -> Result<(), Rejection> {
        let is_create = matches!(op.operation, Operation::FestivalCreate(_));
        if is_create && op.seq != 1 {
            return Err(Rejection::CreateNotFirstInLog);
        }
        match self.log_festival.get(&op.log()) {
            Some(festival) if op.seq > 1 && op.operation.festival() != Some(*festival) => {
                Err(Rejection::LogFestivalMismatch)
            }
            _ => Ok(()),
        }
    }

    /// Apply a valid operation. Applying the same set of operations in any order gives the same
    /// state.
    pub fn apply(&mut self, op: Op) -> Outcome {
        if self.ops.contains(&op.id) {
            return Outcome::Duplicate;
        }
        let op = Arc::new(op);
        self.ops.insert(ById(op.clone()));
        self.place_in_log(op)
    }

    fn place_in_log(&mut self, op: Arc<Op>) -> Outcome {
        if let Err(rejection) = self.check_log_position(&op) {
            self.rejected.insert(op.id, rejection.clone());
            return Outcome::Rejected(rejection);
        }
        let log = op.log();
        if op.seq == 1 {
            let festival = op.operation.festival().unwrap_or(op.id);
            self.log_festival.insert(log, festival);
            self.festival_log.insert((op.author, festival), op.log_id);
            let outcome = self.route(op);
            for waiting in self.waiting_for_log.remove(&log).unwrap_or_default() {
                self.place_in_log(waiting);
            }
            return outcome;
        }
        if !self.log_festival.contains_key(&log) {
            self.waiting_for_log.entry(log).or_default().push(op);
            return Outcome::Waiting(Missing::LogStart(log));
        }
        self.route(op)
    }

    /// Deliver an operation to its home context (and the forks inheriting it), or wait for the
    /// festival that decides which context that is.
    fn route(&mut self, op: Arc<Op>) -> Outcome {
        let (festival, new_context) = match &op.operation {
            Operation::FestivalCreate(create) => match (&create.parent, &create.fork_of) {
                (Some(parent), _) => (*parent, None),
                (None, Some(fork)) => (fork.festival, Some(op.id)),
                (None, None) => {
                    self.open_context(op.id, 0, None);
                    (op.id, None)
                }
            },
            other => (other.festival().unwrap_or(op.id), None),
        };
        let Some(&home) = self.context_of.get(&festival) else {
            self.waiting_for_festival
                .entry(festival)
                .or_default()
                .push(op);
            return Outcome::Waiting(Missing::Festival(festival));
        };
        let outcome = match (new_context, &op.operation) {
            (Some(fork), Operation::FestivalCreate(create)) => {
                let frontier = create.fork_of.iter().flat_map(|f| &f.frontier);
                let frontier = frontier
                    .map(|l| {
                        (
                            LogKey {
                                author: l.author,
                                log_id: l.log_id,
                            },
                            l.seq,
                        )
                    })
                    .collect();
                let depth = self.contexts[&home].depth + 1;
                self.open_context(fork, depth, Some((festival, frontier)));
                if let Some(context) = self.contexts.get_mut(&home) {
                    context.forks.push(fork);
                }
                let outcome = self.deliver(fork, op.clone());
                self.replay_into_fork(home, fork);
                outcome
            }
            _ => {
                if let Operation::FestivalCreate(_) = op.operation {
                    self.context_of.insert(op.id, home);
                }
                self.deliver(home, op.clone())
            }
        };
        if let Operation::FestivalCreate(_) = op.operation {
            for waiting in self.waiting_for_festival.remove(&op.id).unwrap_or_default() {
                self.route(waiting);
            }
        }
        outcome
    }

    /// Let the views update their indexes once, at [`State::index_deferred`], instead of after
    /// every operation: for applying many operations at once (a node restoring its store).
    /// Queries see stale indexes until then.
    pub(crate) fn defer_indexing(&mut self) {
        self.deferring = true;
        for context in self.contexts.values_mut() {
            context.view.defer_indexing();
        }
    }

    /// Bring the indexes deferred since [`State::defer_indexing`] up to date, and index after
    /// every operation again.
    pub(crate) fn index_deferred(&mut self) {
        self.deferring = false;
        for context in self.contexts.values_mut() {
            context.view.index_deferred();
        }
    }

    fn open_context(
        &mut self,
        root: FestivalId,
        depth: u32,
        source: Option<(FestivalId, HashMap<LogKey, u64>)>,
    ) {
        let fork_root = source.as_ref().map(|_| root);
        self.context_of.insert(root, root);
        let mut view = View::new(fork_root);
        if self.deferring {
            view.defer_indexing();
        }
        self.contexts.insert(
            root,
            Context {
                view,
                depth,
                source,
                forks: Vec::new(),
            },
        );
    }

    /// Apply in `context`, then in every fork that inherits the operation.
    fn deliver(&mut self, context: FestivalId, op: Arc<Op>) -> Outcome {
        let generation = self.generation(&op);
        let Some(ctx) = self.contexts.get_mut(&context) else {
            return Outcome::Waiting(Missing::Festival(context));
        };
        let outcome = ctx.view.apply(op.clone(), generation);
        for fork in ctx.forks.clone() {
            if self.fork_inherits(context, fork, &op) {
                self.deliver(fork, op.clone());
            }
        }
        outcome
    }

    /// A new fork inherits what its source's context already holds within the frontier.
    fn replay_into_fork(&mut self, source_context: FestivalId, fork: FestivalId) {
        let delivered = self.contexts[&source_context].view.delivered.clone();
        for op in delivered {
            if self.fork_inherits(source_context, fork, &op) {
                self.deliver(fork, op);
            }
        }
    }

    fn fork_inherits(&self, source_context: FestivalId, fork: FestivalId, op: &Op) -> bool {
        let Some((source, frontier)) = self.contexts.get(&fork).and_then(|c| c.source.as_ref())
        else {
            return false;
        };
        let within_frontier = frontier.get(&op.log()).is_some_and(|seq| op.seq <= *seq);
        let festival = match &op.operation {
            Operation::FestivalCreate(create) => create.parent.unwrap_or(op.id),
            other => other.festival().unwrap_or(op.id),
        };
        within_frontier
            && op.id != fork
            && self.contexts[&source_context]
                .view
                .in_scope(festival, *source)
    }

    /// The fork depth of the context an operation was written in.
    fn generation(&self, op: &Op) -> u32 {
        self.log_festival
            .get(&op.log())
            .and_then(|f| self.context_of.get(f))
            .and_then(|c| self.contexts.get(c))
            .map_or(0, |c| c.depth)
    }

    /// Ask about one festival (with its sub-festivals, and for a fork what it inherited).
    pub fn festival(&self, id: FestivalId) -> Option<FestivalQuery<'_>> {
        let context = self.context_of.get(&id)?;
        let view = &self.contexts.get(context)?.view;
        view.festivals
            .contains_key(&id)
            .then(|| FestivalQuery::new(view, id))
    }

    /// Every festival this node holds.
    pub fn festival_ids(&self) -> impl Iterator<Item = FestivalId> + '_ {
        self.context_of
            .keys()
            .copied()
            .filter(|id| self.festival(*id).is_some())
    }

    /// The log `author` writes `festival`'s operations in, if it has one.
    pub fn log_of(&self, author: PublicKey, festival: FestivalId) -> Option<u64> {
        self.festival_log.get(&(author, festival)).copied()
    }

    /// The festival a log belongs to.
    pub fn festival_of_log(&self, log: LogKey) -> Option<FestivalId> {
        self.log_festival.get(&log).copied()
    }

    /// The *topic* of a log: the root of the context its festival lives in (a root festival, or a
    /// fork). Sync exchanges whole topics. `None` while the festival it names is not known here.
    pub fn topic_of_log(&self, log: LogKey) -> Option<Topic> {
        self.context_of.get(self.log_festival.get(&log)?).copied()
    }

    /// The topic (context root) `festival` lives in, if this state knows the festival.
    pub fn topic_of_festival(&self, festival: FestivalId) -> Option<Topic> {
        self.context_of.get(&festival).copied()
    }

    /// The topic a log would have whose first operation is `op`, when that can be known already.
    pub fn topic_of_first(&self, op: &Op) -> Option<Topic> {
        match &op.operation {
            Operation::FestivalCreate(create) => match create.parent {
                Some(parent) => self.context_of.get(&parent).copied(),
                // A root festival or a fork opens its own context.
                None => Some(op.id),
            },
            other => self.context_of.get(&other.festival()?).copied(),
        }
    }

    /// Why an operation was rejected, if it was.
    pub fn rejection(&self, id: OperationId) -> Option<&Rejection> {
        self.rejected.get(&id).or_else(|| {
            self.contexts
                .values()
                .find_map(|c| c.view.rejected.get(&id))
        })
    }

    /// How many operations this state has seen.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Every fact of the state in a canonical form, for comparing states.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::of(self)
    }
}
