//! Answering requests for this user's resources by each resource's policy: first-come-first-
//! served and manual confirmation built in, or a callback the app registered by name.
//!
//! The decisions mirror `p2panda_core::policy::respond`, but every answer is an own write, so it
//! goes through [`BrowserNode::publish`] (disk first) and each is applied before the next request
//! is decided.

use std::collections::{BTreeSet, HashMap};

use p2panda_core::small_map::SmallSet;

use futures::channel::oneshot;
use p2panda_core::festival::{Request, RequestStatus};
use p2panda_core::hash::Hash;
use p2panda_core::operation::{Authorization, FestivalId, Operation, PolicyKind};
use p2panda_core::policy::{AuthorizationPolicy, FirstComeFirstServed, Verdict};

use super::shapes::{RequestJs, VerdictJs};
use super::{BrowserNode, Out};

/// How long a JS policy callback may take before its request is left for the owner.
const CALLBACK_TIMEOUT_MS: i32 = 10_000;

#[derive(Default)]
pub(crate) struct Responder {
    /// Custom policies the app registered a callback for.
    registered: SmallSet<String>,
    /// Requests (event version, resource) already put to a callback: not asked twice.
    asked: BTreeSet<(Hash, Hash)>,
    waiting: HashMap<u32, oneshot::Sender<Option<VerdictJs>>>,
    next_id: u32,
    /// Festivals with a pass running, and whether another pass is due after it.
    running: HashMap<FestivalId, bool>,
}

impl Responder {
    pub fn register(&mut self, name: String) {
        self.registered.insert(name);
    }

    pub fn unregister(&mut self, name: &str) {
        self.registered.remove(name);
    }

    pub fn answer(&mut self, id: u32, verdict: Option<VerdictJs>) {
        if let Some(waiting) = self.waiting.remove(&id) {
            let _ = waiting.send(verdict);
        }
    }
}

/// What to do about one request, decided while the state is borrowed.
enum Step {
    Answer(Authorization),
    Ask(String, Request, FestivalId),
    Skip,
}

impl BrowserNode {
    pub(crate) fn register_policy(&self, name: String) {
        self.core.borrow_mut().policy.register(name);
    }

    pub(crate) fn unregister_policy(&self, name: &str) {
        self.core.borrow_mut().policy.unregister(name);
    }

    /// Answer pending requests for own resources in `festival`, soon.
    pub(crate) fn respond_later(&self, festival: FestivalId) {
        {
            let mut core = self.core.borrow_mut();
            if let Some(again) = core.policy.running.get_mut(&festival) {
                *again = true;
                return;
            }
            core.policy.running.insert(festival, false);
        }
        let node = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            loop {
                node.respond(festival).await;
                let mut core = node.core.borrow_mut();
                match core.policy.running.get_mut(&festival) {
                    Some(again) if *again => *again = false,
                    _ => {
                        core.policy.running.remove(&festival);
                        return;
                    }
                }
            }
        });
    }

    async fn respond(&self, festival: FestivalId) {
        let pending = {
            let core = self.core.borrow();
            let me = core.node.key_pair().public_key();
            match core.node.replica().state().festival(festival) {
                Some(query) => query.pending_requests(me),
                None => return,
            }
        };
        for request in pending {
            let answer = match self.step(festival, &request) {
                Step::Answer(authorization) => Some(authorization),
                Step::Ask(policy, request, home) => self.ask(policy, request, home).await,
                Step::Skip => None,
            };
            if let Some(authorization) = answer {
                if let Err(error) = self.publish(Operation::Authorization(authorization)).await {
                    use crate::error::ErrorCode;
                    self.send(Out::Error {
                        code: error.code(),
                        message: format!("could not answer a request by policy: {error}"),
                    });
                    return;
                }
            }
        }
    }

    fn step(&self, festival: FestivalId, request: &Request) -> Step {
        let mut core = self.core.borrow_mut();
        let core = &mut *core;
        let Some(query) = core.node.replica().state().festival(festival) else {
            return Step::Skip;
        };
        // Answered or changed meanwhile (by hand, or by an earlier pass)? Looked up through the
        // event, not the owner's whole inbox: a pass over N requests stays O(N).
        let still_pending = query.event(request.event).is_some_and(|event| {
            event.version == request.event_version
                && event
                    .resources
                    .iter()
                    .any(|(r, status)| *r == request.resource && *status == RequestStatus::Pending)
        });
        if !still_pending {
            return Step::Skip;
        }
        let Some(resource) = query.resource(request.resource) else {
            return Step::Skip;
        };
        let home = query.written_in(resource.festival);
        let verdict = match &resource.policy {
            PolicyKind::Fcfs => FirstComeFirstServed.decide(request, &query),
            PolicyKind::Manual => None,
            PolicyKind::Custom(name) => {
                let responder = &mut core.policy;
                let key = (request.event_version, request.resource);
                if responder.registered.contains(name) && responder.asked.insert(key) {
                    return Step::Ask(name.clone(), request.clone(), home);
                }
                None
            }
        };
        match verdict {
            Some(verdict) => Step::Answer(authorization(home, request, verdict)),
            None => Step::Skip,
        }
    }

    /// Put a request to the app's callback; `None` when it leaves it to the owner or times out.
    async fn ask(
        &self,
        policy: String,
        request: Request,
        home: FestivalId,
    ) -> Option<Authorization> {
        let (sender, receiver) = oneshot::channel();
        let id = {
            let mut core = self.core.borrow_mut();
            let id = core.policy.next_id;
            core.policy.next_id = id.wrapping_add(1);
            core.policy.waiting.insert(id, sender);
            id
        };
        self.send(Out::Decide {
            id,
            policy,
            festival: home,
            request: RequestJs::from(&request),
        });
        let verdict =
            futures::future::select(receiver, Box::pin(crate::time::sleep(CALLBACK_TIMEOUT_MS)))
                .await;
        let verdict = match verdict {
            futures::future::Either::Left((Ok(verdict), _)) => verdict?,
            _ => {
                self.core.borrow_mut().policy.waiting.remove(&id);
                return None;
            }
        };
        Some(authorization(
            home,
            &request,
            Verdict {
                decision: verdict.decision.into(),
                reason: verdict.reason,
            },
        ))
    }
}

fn authorization(home: FestivalId, request: &Request, verdict: Verdict) -> Authorization {
    Authorization {
        festival: home,
        event: request.event,
        event_version: request.event_version,
        resource: request.resource,
        decision: verdict.decision,
        reason: verdict.reason,
    }
}
