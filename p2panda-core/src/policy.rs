//! Authorization policies: how a resource's owner answers requests.
//!
//! The owner's own node runs the policy when requests reach it, in the order they arrived, and
//! writes each answer as an `authorization` operation into the owner's log. The log is the single
//! source of truth, so every peer converges on the owner's answers, whatever order they see them in.

use std::collections::HashMap;

use crate::festival::{FestivalQuery, Request};
use crate::hash::Hash;
use crate::identity::KeyPair;
use crate::operation::{Authorization, Decision, FestivalId, Operation, PolicyKind};
use crate::replica::{IngestError, Replica};

/// An owner's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub decision: Decision,
    pub reason: Option<String>,
}

/// Decides requests for a resource. `None` leaves the request to the owner.
pub trait AuthorizationPolicy {
    fn decide(&mut self, request: &Request, festival: &FestivalQuery<'_>) -> Option<Verdict>;
}

/// Grants a request when no granted event overlaps its timeframe, denies it otherwise.
#[derive(Debug, Clone, Copy, Default)]
pub struct FirstComeFirstServed;

impl AuthorizationPolicy for FirstComeFirstServed {
    fn decide(&mut self, request: &Request, festival: &FestivalQuery<'_>) -> Option<Verdict> {
        let taken_by = festival
            .granted_between(request.resource, request.start, request.end)
            .into_iter()
            .find(|event| *event != request.event);
        Some(match taken_by {
            None => Verdict {
                decision: Decision::Grant,
                reason: None,
            },
            Some(event) => {
                let title = festival
                    .event(event)
                    .map_or_else(|| "another event".into(), |e| format!("“{}”", e.title));
                Verdict {
                    decision: Decision::Deny,
                    reason: Some(format!("already granted to {title} at that time")),
                }
            }
        })
    }
}

/// Leaves every request for the owner to confirm or deny by hand.
#[derive(Debug, Clone, Copy, Default)]
pub struct ManualConfirmation;

impl AuthorizationPolicy for ManualConfirmation {
    fn decide(&mut self, _: &Request, _: &FestivalQuery<'_>) -> Option<Verdict> {
        None
    }
}

/// The policies a node runs: the built-in ones plus custom ones by name.
#[derive(Default)]
pub struct Policies {
    fcfs: FirstComeFirstServed,
    manual: ManualConfirmation,
    custom: HashMap<String, Box<dyn AuthorizationPolicy>>,
}

impl Policies {
    pub fn new() -> Self {
        Self::default()
    }

    /// Register the policy that resources naming `custom(name)` use.
    pub fn register(&mut self, name: impl Into<String>, policy: Box<dyn AuthorizationPolicy>) {
        self.custom.insert(name.into(), policy);
    }

    /// The policy for a kind; an unknown custom policy leaves requests to the owner.
    fn for_kind(&mut self, kind: &PolicyKind) -> &mut dyn AuthorizationPolicy {
        match kind {
            PolicyKind::Fcfs => &mut self.fcfs,
            PolicyKind::Manual => &mut self.manual,
            PolicyKind::Custom(name) => match self.custom.get_mut(name) {
                Some(policy) => policy.as_mut(),
                None => &mut self.manual,
            },
        }
    }
}

/// The owner-side step: answer `owner`'s pending requests in `festival` (oldest first) with each
/// resource's policy, publishing one `authorization` per answer. Returns the new operations' ids.
pub fn respond(
    replica: &mut Replica,
    owner: &KeyPair,
    festival: FestivalId,
    policies: &mut Policies,
) -> Result<Vec<Hash>, IngestError> {
    let pending = match replica.state().festival(festival) {
        Some(query) => query.pending_requests(owner.public_key()),
        None => return Ok(Vec::new()),
    };
    let mut published = Vec::new();
    for request in pending {
        // Each answer is applied before the next request is decided, so the policy sees it.
        let Some(query) = replica.state().festival(festival) else {
            break;
        };
        let Some(resource) = query.resource(request.resource) else {
            continue;
        };
        let Some(verdict) = policies.for_kind(&resource.policy).decide(&request, &query) else {
            continue;
        };
        let operation = Operation::Authorization(Authorization {
            festival: query.written_in(resource.festival),
            event: request.event,
            event_version: request.event_version,
            resource: request.resource,
            decision: verdict.decision,
            reason: verdict.reason,
        });
        let (id, _) = replica.publish(owner, &operation)?;
        published.push(id);
    }
    Ok(published)
}
