//! Festival scenarios through the public API: publishing, policies, nesting, forks, conflicts and
//! rejected operations.

use p2panda_core::festival::{Missing, Outcome, Rejection, RequestStatus};
use p2panda_core::hash::Hash;
use p2panda_core::identity::{KeyPair, PublicKey};
use p2panda_core::operation::*;
use p2panda_core::policy::{respond, Policies};
use p2panda_core::replica::{IngestError, Replica};

const HOUR: Millis = 3_600_000;

fn festival(name: &str, parent: Option<Hash>) -> Operation {
    Operation::FestivalCreate(FestivalCreate {
        name: name.into(),
        description: String::new(),
        parent,
        fork_of: None,
    })
}

fn location(festival: Hash, name: &str, policy: PolicyKind) -> Operation {
    Operation::ResourceCreate(ResourceCreate {
        festival,
        name: name.into(),
        description: String::new(),
        kind: ResourceKind::Location(Location {
            address: Some("Field 3".into()),
            ..Location::default()
        }),
        policy,
    })
}

fn event(
    festival: Hash,
    title: &str,
    start: Millis,
    end: Millis,
    resources: Vec<Hash>,
) -> Operation {
    Operation::EventCreate(EventCreate {
        festival,
        title: title.into(),
        description: String::new(),
        start,
        end,
        resources,
    })
}

fn publish(replica: &mut Replica, who: &KeyPair, op: Operation) -> Hash {
    let (id, outcome) = replica.publish(who, &op).unwrap();
    assert_eq!(outcome, Outcome::Applied, "{op:?}");
    id
}

fn status(replica: &Replica, festival: Hash, event: Hash) -> Vec<RequestStatus> {
    let info = replica
        .state()
        .festival(festival)
        .unwrap()
        .event(event)
        .unwrap();
    info.resources.into_iter().map(|(_, s)| s).collect()
}

#[test]
fn first_come_first_served_grants_free_slots_and_denies_overlaps() {
    let (a, b) = (KeyPair::generate(), KeyPair::generate());
    let mut replica = Replica::new();
    let fest = publish(&mut replica, &a, festival("Fusion", None));
    let stage = publish(&mut replica, &a, location(fest, "Stage", PolicyKind::Fcfs));
    let talk = publish(
        &mut replica,
        &b,
        event(fest, "Talk", 10 * HOUR, 12 * HOUR, vec![stage]),
    );
    let clash = publish(
        &mut replica,
        &b,
        event(fest, "Clash", 11 * HOUR, 13 * HOUR, vec![stage]),
    );
    let later = publish(
        &mut replica,
        &b,
        event(fest, "Later", 12 * HOUR, 13 * HOUR, vec![stage]),
    );

    let pending = replica
        .state()
        .festival(fest)
        .unwrap()
        .pending_requests(a.public_key());
    assert_eq!(
        pending.iter().map(|r| r.event).collect::<Vec<_>>(),
        vec![talk, clash, later]
    );

    let answers = respond(&mut replica, &a, fest, &mut Policies::new()).unwrap();
    assert_eq!(answers.len(), 3);
    assert_eq!(status(&replica, fest, talk), vec![RequestStatus::Granted]);
    assert!(
        matches!(&status(&replica, fest, clash)[0], RequestStatus::Denied { reason: Some(r) } if r.contains("Talk"))
    );
    assert_eq!(status(&replica, fest, later), vec![RequestStatus::Granted]);
    let query = replica.state().festival(fest).unwrap();
    assert!(query.pending_requests(a.public_key()).is_empty());
    assert!(query.conflicts().is_empty());
    assert_eq!(query.resource_timeline(stage).len(), 3);
    assert_eq!(query.events_in_range(10 * HOUR, 11 * HOUR).len(), 1);
    assert_eq!(query.owned_by(a.public_key()).len(), 1);
}

#[test]
fn manual_requests_wait_for_the_owner_and_updates_re_request() {
    let (a, b) = (KeyPair::generate(), KeyPair::generate());
    let mut replica = Replica::new();
    let fest = publish(&mut replica, &a, festival("Camp", None));
    let van = publish(&mut replica, &a, location(fest, "Van", PolicyKind::Manual));
    let trip = publish(&mut replica, &b, event(fest, "Trip", 0, HOUR, vec![van]));
    assert!(respond(&mut replica, &a, fest, &mut Policies::new())
        .unwrap()
        .is_empty());
    let request = replica
        .state()
        .festival(fest)
        .unwrap()
        .pending_requests(a.public_key())[0]
        .clone();
    publish(
        &mut replica,
        &a,
        Operation::Authorization(Authorization {
            festival: fest,
            event: trip,
            event_version: request.event_version,
            resource: van,
            decision: Decision::Grant,
            reason: None,
        }),
    );
    assert_eq!(status(&replica, fest, trip), vec![RequestStatus::Granted]);

    // A new timeframe is a new version: the grant was for the old one.
    publish(
        &mut replica,
        &b,
        Operation::EventUpdate(EventUpdate {
            festival: fest,
            event: trip,
            title: None,
            description: None,
            timeframe: Some(Timeframe {
                start: HOUR,
                end: 2 * HOUR,
            }),
            resources: None,
        }),
    );
    assert_eq!(status(&replica, fest, trip), vec![RequestStatus::Pending]);
    assert_eq!(
        replica
            .state()
            .festival(fest)
            .unwrap()
            .pending_requests(a.public_key())
            .len(),
        1
    );
}

#[test]
fn sub_festivals_are_in_their_parents_scope_and_use_its_resources() {
    let (a, b) = (KeyPair::generate(), KeyPair::generate());
    let mut replica = Replica::new();
    let fest = publish(&mut replica, &a, festival("Main", None));
    let stage = publish(&mut replica, &a, location(fest, "Stage", PolicyKind::Fcfs));
    let kids = publish(&mut replica, &b, festival("Kids area", Some(fest)));
    let show = publish(
        &mut replica,
        &b,
        event(kids, "Puppets", 0, HOUR, vec![stage]),
    );
    let state = replica.state();
    assert_eq!(state.festival(fest).unwrap().sub_festivals(), vec![kids]);
    assert!(state.festival(fest).unwrap().event(show).is_some());
    assert!(state.festival(kids).unwrap().event(show).is_some());
    // The parent's query sees the child's event; the child doesn't see sibling scopes.
    assert_eq!(
        state.festival(fest).unwrap().events_in_range(0, HOUR).len(),
        1
    );

    // A resource of a sub-festival can't be requested from the parent.
    let tent = publish(&mut replica, &b, location(kids, "Tent", PolicyKind::Fcfs));
    let (id, outcome) = replica
        .publish(&a, &event(fest, "Parade", 0, HOUR, vec![tent]))
        .unwrap();
    assert_eq!(
        outcome,
        Outcome::Rejected(Rejection::ResourceOutOfScope(tent))
    );
    assert_eq!(
        replica.state().rejection(id),
        Some(&Rejection::ResourceOutOfScope(tent))
    );
}

#[test]
fn a_fork_starts_from_the_frontier_and_diverges_without_touching_the_source() {
    let (a, b) = (KeyPair::generate(), KeyPair::generate());
    let mut replica = Replica::new();
    let fest = publish(&mut replica, &a, festival("2026", None));
    let stage = publish(&mut replica, &a, location(fest, "Stage", PolicyKind::Fcfs));
    let gig = publish(&mut replica, &b, event(fest, "Gig", 0, HOUR, vec![stage]));
    let frontier: Vec<FrontierLog> = replica
        .store()
        .heights()
        .map(|(log, seq)| FrontierLog {
            author: log.author,
            log_id: log.log_id,
            seq,
        })
        .collect();
    // After the frontier: not inherited.
    let late = publish(
        &mut replica,
        &b,
        event(fest, "Late", HOUR, 2 * HOUR, vec![stage]),
    );

    let fork = publish(
        &mut replica,
        &b,
        Operation::FestivalCreate(FestivalCreate {
            name: "2027".into(),
            description: String::new(),
            parent: None,
            fork_of: Some(ForkOf {
                festival: fest,
                frontier,
            }),
        }),
    );
    let state = replica.state();
    let forked = state.festival(fork).unwrap();
    assert!(forked.event(gig).is_some());
    assert!(forked.event(late).is_none());
    assert!(forked.resource(stage).is_some());

    // Cancelling the inherited event in the fork leaves the source alone.
    publish(
        &mut replica,
        &b,
        Operation::EventCancel(EventCancel {
            festival: fork,
            event: gig,
        }),
    );
    let state = replica.state();
    assert!(state.festival(fork).unwrap().event(gig).unwrap().cancelled);
    assert!(!state.festival(fest).unwrap().event(gig).unwrap().cancelled);
    // Changes to inherited things are written in the fork, not the source.
    let (_, outcome) = replica
        .publish(
            &a,
            &Operation::ResourceDelete(ResourceDelete {
                festival: fest,
                resource: stage,
            }),
        )
        .unwrap();
    assert_eq!(outcome, Outcome::Applied);
    assert!(
        replica
            .state()
            .festival(fest)
            .unwrap()
            .resource(stage)
            .unwrap()
            .deleted
    );
    assert!(
        !replica
            .state()
            .festival(fork)
            .unwrap()
            .resource(stage)
            .unwrap()
            .deleted
    );
}

#[test]
fn an_owner_granting_overlapping_events_is_a_visible_conflict() {
    let (a, b) = (KeyPair::generate(), KeyPair::generate());
    let mut replica = Replica::new();
    let fest = publish(&mut replica, &a, festival("F", None));
    let stage = publish(
        &mut replica,
        &a,
        location(fest, "Stage", PolicyKind::Manual),
    );
    let grant = |replica: &mut Replica, event: Hash| {
        let version = replica
            .state()
            .festival(fest)
            .unwrap()
            .event(event)
            .unwrap()
            .version;
        publish(
            replica,
            &a,
            Operation::Authorization(Authorization {
                festival: fest,
                event,
                event_version: version,
                resource: stage,
                decision: Decision::Grant,
                reason: None,
            }),
        );
    };
    let one = publish(
        &mut replica,
        &b,
        event(fest, "One", 0, 2 * HOUR, vec![stage]),
    );
    let two = publish(
        &mut replica,
        &b,
        event(fest, "Two", HOUR, 3 * HOUR, vec![stage]),
    );
    grant(&mut replica, one);
    grant(&mut replica, two);
    let conflicts = replica.state().festival(fest).unwrap().conflicts();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(
        (
            conflicts[0].resource,
            [conflicts[0].first, conflicts[0].second].contains(&one)
        ),
        (stage, true)
    );
    // Cancelling one resolves it.
    publish(
        &mut replica,
        &b,
        Operation::EventCancel(EventCancel {
            festival: fest,
            event: two,
        }),
    );
    assert!(replica
        .state()
        .festival(fest)
        .unwrap()
        .conflicts()
        .is_empty());
}

#[test]
fn unauthorized_and_dangling_operations_are_recorded_and_change_nothing() {
    let (a, b) = (KeyPair::generate(), KeyPair::generate());
    let mut replica = Replica::new();
    let fest = publish(&mut replica, &a, festival("F", None));
    let stage = publish(
        &mut replica,
        &a,
        location(fest, "Stage", PolicyKind::Manual),
    );
    let talk = publish(&mut replica, &b, event(fest, "Talk", 0, HOUR, vec![stage]));
    let before = replica.state().snapshot();
    let version = replica
        .state()
        .festival(fest)
        .unwrap()
        .event(talk)
        .unwrap()
        .version;

    // Authorization by someone who doesn't own the resource.
    let (id, outcome) = replica
        .publish(
            &b,
            &Operation::Authorization(Authorization {
                festival: fest,
                event: talk,
                event_version: version,
                resource: stage,
                decision: Decision::Grant,
                reason: None,
            }),
        )
        .unwrap();
    assert_eq!(outcome, Outcome::Rejected(Rejection::NotOwner));
    assert_eq!(replica.state().rejection(id), Some(&Rejection::NotOwner));
    // Update by someone who didn't create the event.
    let (_, outcome) = replica
        .publish(
            &a,
            &Operation::EventUpdate(EventUpdate {
                festival: fest,
                event: talk,
                title: Some("Mine now".into()),
                description: None,
                timeframe: None,
                resources: None,
            }),
        )
        .unwrap();
    assert_eq!(outcome, Outcome::Rejected(Rejection::NotCreator));
    // References to an unknown festival and resource wait for them, visibly.
    let nowhere = Hash::digest(b"nowhere");
    let (_, outcome) = replica
        .publish(&b, &event(nowhere, "Lost", 0, HOUR, vec![]))
        .unwrap();
    assert_eq!(outcome, Outcome::Waiting(Missing::Festival(nowhere)));
    let (_, outcome) = replica
        .publish(&b, &event(fest, "Ghost", 0, HOUR, vec![nowhere]))
        .unwrap();
    assert_eq!(outcome, Outcome::Waiting(Missing::Resource(nowhere)));
    // An event ending before it starts never gets written.
    assert!(matches!(
        replica.publish(&b, &event(fest, "Backwards", HOUR, 0, vec![])),
        Err(IngestError::Operation(
            OperationError::InvalidTimeframe { .. }
        ))
    ));

    let after = replica.state().snapshot();
    let context = |s: &p2panda_core::festival::Snapshot| {
        let c = &s.contexts[&fest];
        (
            c.festivals.clone(),
            c.resources.clone(),
            c.events.clone(),
            c.timelines.clone(),
            c.pending.clone(),
        )
    };
    assert_eq!(context(&before), context(&after));
}

#[test]
fn display_names_follow_the_latest_profile_and_rejections_are_listed() {
    let (a, b) = (KeyPair::generate(), KeyPair::generate());
    let mut replica = Replica::new();
    let fest = publish(&mut replica, &a, festival("F", None));
    let sub = publish(&mut replica, &b, festival("Sub", Some(fest)));
    let profile = |festival, name: &str| {
        Operation::ProfileSet(ProfileSet {
            festival,
            name: name.into(),
        })
    };
    publish(&mut replica, &a, profile(fest, "Ada"));
    publish(&mut replica, &a, profile(fest, "Ada L."));
    publish(&mut replica, &b, profile(sub, "Bo"));
    let names = |festival| {
        let mut names: Vec<(PublicKey, String)> = replica
            .state()
            .festival(festival)
            .unwrap()
            .profiles()
            .into_iter()
            .map(|p| (p.author, p.name))
            .collect();
        names.sort();
        names
    };
    let mut expected = vec![
        (a.public_key(), "Ada L.".to_string()),
        (b.public_key(), "Bo".to_string()),
    ];
    expected.sort();
    // One context: the root and its sub-festival share members' names.
    assert_eq!(names(fest), expected);
    assert_eq!(names(sub), expected);
    assert!(matches!(
        profile(fest, " ").encode(),
        Err(OperationError::Empty { .. })
    ));

    // B renames A's festival: rejected, and listed where it was written.
    let (id, _) = replica
        .publish(
            &b,
            &Operation::FestivalUpdate(FestivalUpdate {
                festival: fest,
                name: Some("Mine".into()),
                description: None,
            }),
        )
        .unwrap();
    let rejected = replica.state().festival(fest).unwrap().rejected();
    assert_eq!(rejected.len(), 1);
    assert_eq!(
        (rejected[0].id, rejected[0].author, rejected[0].festival),
        (id, b.public_key(), fest)
    );
    assert_eq!(rejected[0].rejection, Rejection::NotCreator);
    assert!(replica.state().festival(sub).unwrap().rejected().is_empty());
}

#[test]
fn resources_come_by_name_then_id_and_profiles_by_author() {
    let owner = KeyPair::generate();
    let mut replica = Replica::new();
    let fest = publish(&mut replica, &owner, festival("F", None));
    let sub = publish(&mut replica, &owner, festival("Sub", Some(fest)));
    // 37 resources (an odd count, past several merge widths), names repeating so ids break ties,
    // some in the sub-festival; one deleted resource keeps its place.
    let names = ["Stage", "Bar", "Tent", "Àtrium", "bar", "Stage 2", "Z"];
    let mut ids = Vec::new();
    for i in 0..37 {
        let home = if i % 3 == 0 { sub } else { fest };
        let name = names[(i * 5) % names.len()];
        let id = publish(&mut replica, &owner, location(home, name, PolicyKind::Fcfs));
        ids.push((name.to_string(), id, home));
    }
    let deleted = ids[4].1;
    publish(
        &mut replica,
        &owner,
        Operation::ResourceDelete(ResourceDelete {
            festival: ids[4].2,
            resource: deleted,
        }),
    );
    let profile = |festival, name: &str| {
        Operation::ProfileSet(ProfileSet {
            festival,
            name: name.into(),
        })
    };
    let members: Vec<KeyPair> = (0..21).map(|_| KeyPair::generate()).collect();
    for (i, member) in members.iter().enumerate() {
        publish(&mut replica, member, profile(fest, &format!("member {i}")));
    }

    let query = replica.state().festival(fest).unwrap();
    let listed: Vec<(String, Hash, bool)> = query
        .resources()
        .into_iter()
        .map(|r| (r.name, r.id, r.deleted))
        .collect();
    let mut expected: Vec<(String, Hash, bool)> = ids
        .iter()
        .map(|(name, id, _)| (name.clone(), *id, *id == deleted))
        .collect();
    expected.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    assert_eq!(listed, expected);
    // The sub-festival's scope holds only its own resources, in the same order.
    let in_sub: Vec<Hash> = replica
        .state()
        .festival(sub)
        .unwrap()
        .resources()
        .into_iter()
        .map(|r| r.id)
        .collect();
    let expected_sub: Vec<Hash> = expected
        .iter()
        .filter(|(_, id, _)| ids.iter().any(|(_, i, home)| i == id && *home == sub))
        .map(|(_, id, _)| *id)
        .collect();
    assert_eq!(in_sub, expected_sub);

    let authors: Vec<PublicKey> = query.profiles().into_iter().map(|p| p.author).collect();
    let mut expected_authors: Vec<PublicKey> = members.iter().map(|m| m.public_key()).collect();
    expected_authors.sort();
    assert_eq!(authors, expected_authors);
}
