//! The node's JS API, one method per call: arguments come as a JS array, results go back as
//! plain JS values (see `shapes.rs`). `index.js` forwards its methods here through the Worker.

use p2panda_core::festival::{FestivalQuery, KvError, PageRequest, RequestInfo};
use p2panda_core::hash::Hash;
use p2panda_core::identity::PublicKey;
use p2panda_core::operation::{
    EventCancel, EventCreate, EventUpdate, FestivalCreate, FestivalUpdate, ForkOf, FrontierLog,
    Millis, Operation, PolicyKind, ProfileSet, ResourceCreate, ResourceDelete, ResourceUpdate,
    Timeframe,
};
use p2panda_core::secret::SecretKey;
use wasm_bindgen::JsValue;

use super::shapes::*;
use super::{BrowserNode, NodeError};

/// Arguments of one call, taken in order.
pub(super) struct Args {
    values: Vec<JsValue>,
    next: usize,
}

impl Args {
    pub(super) fn take<T: FromJs>(&mut self, name: &str) -> Result<T, NodeError> {
        let value = self
            .values
            .get(self.next)
            .cloned()
            .unwrap_or(JsValue::UNDEFINED);
        self.next += 1;
        T::from_js(value).map_err(|e| NodeError::InvalidArgument(format!("{name}: {e}")))
    }

    pub(super) fn id(&mut self, name: &str) -> Result<Hash, NodeError> {
        let hex: String = self.take(name)?;
        hash_arg(name, &hex)
    }
}

/// A result as a JS value (`Result` so call arms can return it directly).
fn to_js<T: ToJs>(value: &T) -> Result<JsValue, NodeError> {
    Ok(value.to_js())
}

fn requests_js(requests: &[RequestInfo]) -> JsValue {
    requests
        .iter()
        .map(RequestJs::from)
        .collect::<Vec<_>>()
        .to_js()
}

fn ids_of(hexes: Option<Vec<String>>, name: &str) -> Result<Option<Vec<Hash>>, NodeError> {
    hexes
        .map(|hexes| hexes.iter().map(|hex| hash_arg(name, hex)).collect())
        .transpose()
}

impl BrowserNode {
    /// Run the method `method` with `args` (a JS array).
    pub async fn call(&self, method: &str, args: Vec<JsValue>) -> Result<JsValue, NodeError> {
        self.check_open()?;
        let mut args = Args {
            values: args,
            next: 0,
        };
        let args = &mut args;
        match method {
            // ---- festivals ----
            "createFestival" => {
                let input: FestivalInput = args.take("festival")?;
                let parent = input
                    .parent
                    .map(|hex| hash_arg("parent", &hex))
                    .transpose()?;
                let op = Operation::FestivalCreate(FestivalCreate {
                    name: input.name,
                    description: input.description,
                    parent,
                    fork_of: None,
                });
                if input.private && op.festival().is_some() {
                    return Err(NodeError::InvalidArgument(
                        "a sub-festival is private exactly when its parent is".into(),
                    ));
                }
                let id = self.publish_as(op, input.private).await?;
                Ok(JsValue::from_str(&id.to_hex()))
            }
            "forkFestival" => {
                let source = args.id("source")?;
                let input: ForkInput = args.take("fork")?;
                let frontier = self.frontier_of(source)?;
                let op = Operation::FestivalCreate(FestivalCreate {
                    name: input.name,
                    description: input.description,
                    parent: None,
                    fork_of: Some(ForkOf {
                        festival: source,
                        frontier,
                    }),
                });
                self.write(op).await
            }
            "updateFestival" => {
                let festival = args.id("festival")?;
                let changes: FestivalChanges = args.take("changes")?;
                self.write(Operation::FestivalUpdate(FestivalUpdate {
                    festival,
                    name: changes.name,
                    description: changes.description,
                }))
                .await
            }
            "joinFestival" => {
                let festival = args.id("festival")?;
                let key: Option<String> = args.take("key")?;
                if let Some(key) = key {
                    let key = SecretKey::from_hex(&key)
                        .map_err(|e| NodeError::InvalidArgument(format!("key: {e}")))?;
                    self.add_festival_key(festival, key).await?;
                }
                self.join(festival).await?;
                Ok(JsValue::UNDEFINED)
            }
            "festivalKey" => {
                let festival = args.id("festival")?;
                let core = self.core.borrow();
                let replica = core.node.replica();
                let topic = replica
                    .state()
                    .topic_of_festival(festival)
                    .unwrap_or(festival);
                Ok(replica
                    .private()
                    .keyring
                    .current(&topic)
                    .map_or(JsValue::NULL, |key| JsValue::from_str(&key.to_hex())))
            }
            "addMember" | "removeMember" => {
                let festival = args.id("festival")?;
                let member = self.key_arg(args, "member")?;
                let remove = method == "removeMember";
                let (topic, members) = {
                    let core = self.core.borrow();
                    let replica = core.node.replica();
                    let topic = replica
                        .state()
                        .topic_of_festival(festival)
                        .unwrap_or(festival);
                    let me = core.node.key_pair().public_key();
                    let members: Vec<PublicKey> = if remove {
                        replica
                            .topic_authors(topic)
                            .into_iter()
                            .filter(|author| *author != member && *author != me)
                            .collect()
                    } else {
                        vec![member]
                    };
                    (topic, members)
                };
                let id = self.share_key(topic, &members, remove).await?;
                Ok(JsValue::from_str(&id.to_hex()))
            }
            "leaveFestival" => {
                let festival = args.id("festival")?;
                self.leave(festival).await?;
                Ok(JsValue::UNDEFINED)
            }
            "festival" => {
                let id = args.id("festival")?;
                let core = self.core.borrow();
                let joined = core.node.topics().contains(&id);
                let replica = core.node.replica();
                let private = replica.is_private(&root_of(replica.state(), id));
                match replica.state().festival(id) {
                    Some(query) => to_js(&FestivalJs::new(query.info(), joined, private)),
                    None => Ok(JsValue::NULL),
                }
            }
            "festivals" => {
                let core = self.core.borrow();
                let replica = core.node.replica();
                let state = replica.state();
                let topics = core.node.topics();
                let mut list: Vec<FestivalJs> = state
                    .festival_ids()
                    .filter_map(|id| state.festival(id))
                    .map(|q| {
                        let info = q.info();
                        let joined = topics.contains(&info.id);
                        let private = replica.is_private(&root_of(state, info.id));
                        FestivalJs::new(info, joined, private)
                    })
                    .collect();
                // Joined festivals not received yet still show, so the app can say "waiting".
                for topic in topics.iter().filter(|t| state.festival(**t).is_none()) {
                    list.push(FestivalJs::placeholder(*topic, replica.is_private(topic)));
                }
                to_js(&list)
            }

            // ---- resources ----
            "createResource" => {
                let festival = args.id("festival")?;
                let input: ResourceInput = args.take("resource")?;
                let policy = input
                    .policy
                    .map(PolicyKind::try_from)
                    .transpose()?
                    .unwrap_or(PolicyKind::Manual);
                self.write(Operation::ResourceCreate(ResourceCreate {
                    festival,
                    name: input.name,
                    description: input.description,
                    kind: input.kind.into(),
                    policy,
                }))
                .await
            }
            "updateResource" | "setPolicy" => {
                let festival = args.id("festival")?;
                let resource = args.id("resource")?;
                let changes = if method == "setPolicy" {
                    ResourceChanges {
                        policy: Some(args.take("policy")?),
                        ..Default::default()
                    }
                } else {
                    args.take("changes")?
                };
                let home = self.home_of_resource(festival, resource)?;
                self.write(Operation::ResourceUpdate(ResourceUpdate {
                    festival: home,
                    resource,
                    name: changes.name,
                    description: changes.description,
                    kind: changes.kind.map(Into::into),
                    policy: changes.policy.map(PolicyKind::try_from).transpose()?,
                }))
                .await
            }
            "deleteResource" => {
                let festival = args.id("festival")?;
                let resource = args.id("resource")?;
                let home = self.home_of_resource(festival, resource)?;
                self.write(Operation::ResourceDelete(ResourceDelete {
                    festival: home,
                    resource,
                }))
                .await
            }
            "resource" => {
                let festival = args.id("festival")?;
                let id = args.id("resource")?;
                self.query(festival, |q| to_js(&q.resource(id).map(ResourceJs::from)))
            }
            "resources" => {
                let festival = args.id("festival")?;
                self.query(festival, |q| {
                    to_js(
                        &q.resources()
                            .into_iter()
                            .map(ResourceJs::from)
                            .collect::<Vec<_>>(),
                    )
                })
            }
            "ownedBy" => {
                let festival = args.id("festival")?;
                let owner = self.key_arg(args, "owner")?;
                self.query(festival, |q| {
                    to_js(
                        &q.owned_by(owner)
                            .into_iter()
                            .map(ResourceJs::from)
                            .collect::<Vec<_>>(),
                    )
                })
            }
            "resourceTimeline" => {
                let festival = args.id("festival")?;
                let resource = args.id("resource")?;
                let from: Option<Millis> = args.take("from")?;
                let to: Option<Millis> = args.take("to")?;
                self.query(festival, |q| {
                    let bookings = match (from, to) {
                        (Some(from), Some(to)) => q.timeline_between(resource, from, to),
                        _ => q.resource_timeline(resource),
                    };
                    to_js(
                        &bookings
                            .into_iter()
                            .map(BookingJs::from)
                            .collect::<Vec<_>>(),
                    )
                })
            }

            // ---- events ----
            "createEvent" => {
                let festival = args.id("festival")?;
                let input: EventInput = args.take("event")?;
                let resources = input
                    .resources
                    .iter()
                    .map(|hex| hash_arg("resources", hex))
                    .collect::<Result<_, _>>()?;
                self.write(Operation::EventCreate(EventCreate {
                    festival,
                    title: input.title,
                    description: input.description,
                    start: input.start,
                    end: input.end,
                    resources,
                }))
                .await
            }
            "updateEvent" => {
                let festival = args.id("festival")?;
                let event = args.id("event")?;
                let changes: EventChanges = args.take("changes")?;
                let timeframe = match (changes.start, changes.end) {
                    (None, None) => None,
                    (start, end) => {
                        let current = self.query(festival, |q| {
                            q.event(event)
                                .ok_or_else(|| NodeError::NotFound(format!("event {event}")))
                        })?;
                        Some(Timeframe {
                            start: start.unwrap_or(current.start),
                            end: end.unwrap_or(current.end),
                        })
                    }
                };
                let home = self.home_of_event(festival, event)?;
                self.write(Operation::EventUpdate(EventUpdate {
                    festival: home,
                    event,
                    title: changes.title,
                    description: changes.description,
                    timeframe,
                    resources: ids_of(changes.resources, "resources")?,
                }))
                .await
            }
            "cancelEvent" => {
                let festival = args.id("festival")?;
                let event = args.id("event")?;
                let home = self.home_of_event(festival, event)?;
                self.write(Operation::EventCancel(EventCancel {
                    festival: home,
                    event,
                }))
                .await
            }
            "event" => {
                let festival = args.id("festival")?;
                let id = args.id("event")?;
                self.query(festival, |q| to_js(&q.event(id).map(EventJs::from)))
            }
            "eventsInRange" => {
                let festival = args.id("festival")?;
                let from: Millis = args.take("from")?;
                let to: Millis = args.take("to")?;
                self.query(festival, |q| {
                    to_js(
                        &q.events_in_range(from, to)
                            .into_iter()
                            .map(EventJs::from)
                            .collect::<Vec<_>>(),
                    )
                })
            }

            "query" => {
                let festival = args.id("festival")?;
                let input: QueryInput = args.take("query")?;
                self.paged_query(festival, input)
            }

            // ---- authorization ----
            "authorize" => {
                let festival = args.id("festival")?;
                let input: AuthorizationInput = args.take("answer")?;
                let event = hash_arg("event", &input.event)?;
                let resource = hash_arg("resource", &input.resource)?;
                let (home, version) = self.query(festival, |q| {
                    let info = q
                        .event(event)
                        .ok_or_else(|| NodeError::NotFound(format!("event {event}")))?;
                    let owned = q
                        .resource(resource)
                        .ok_or_else(|| NodeError::NotFound(format!("resource {resource}")))?;
                    Ok((q.written_in(owned.festival), info.version))
                })?;
                let event_version = match input.event_version {
                    Some(hex) => hash_arg("eventVersion", &hex)?,
                    None => version,
                };
                self.write(Operation::Authorization(
                    p2panda_core::operation::Authorization {
                        festival: home,
                        event,
                        event_version,
                        resource,
                        decision: input.decision.into(),
                        reason: input.reason,
                    },
                ))
                .await
            }
            "pendingRequests" => {
                let festival = args.id("festival")?;
                let owner = match args.take::<Option<String>>("owner")? {
                    Some(hex) => parse_key(&hex)?,
                    None => self.core.borrow().node.key_pair().public_key(),
                };
                self.query(festival, |q| {
                    to_js(
                        &q.pending_requests(owner)
                            .iter()
                            .map(RequestJs::from)
                            .collect::<Vec<_>>(),
                    )
                })
            }
            "conflicts" => {
                let festival = args.id("festival")?;
                self.query(festival, |q| {
                    to_js(
                        &q.conflicts()
                            .into_iter()
                            .map(ConflictJs::from)
                            .collect::<Vec<_>>(),
                    )
                })
            }
            "registerPolicy" => {
                self.register_policy(args.take("name")?);
                // Requests waiting for this policy are asked now.
                let festivals: Vec<Hash> = self
                    .core
                    .borrow()
                    .node
                    .replica()
                    .state()
                    .festival_ids()
                    .collect();
                festivals.into_iter().for_each(|f| self.respond_later(f));
                Ok(JsValue::UNDEFINED)
            }
            "unregisterPolicy" => {
                let name: String = args.take("name")?;
                self.unregister_policy(&name);
                Ok(JsValue::UNDEFINED)
            }
            "decided" => {
                let id: u32 = args.take("id")?;
                let verdict: Option<VerdictJs> = args.take("verdict")?;
                self.decided(id, verdict);
                Ok(JsValue::UNDEFINED)
            }

            // ---- members and problems ----
            "setProfile" => {
                let festival = args.id("festival")?;
                let input: ProfileInput = args.take("profile")?;
                self.write(Operation::ProfileSet(ProfileSet {
                    festival,
                    name: input.name,
                }))
                .await
            }
            "profiles" => {
                let festival = args.id("festival")?;
                self.query(festival, |q| {
                    to_js(&q.profiles().iter().map(ProfileJs::from).collect::<Vec<_>>())
                })
            }
            "problems" => {
                let festival = args.id("festival")?;
                to_js(&self.problems(festival)?)
            }
            "exportSecretKey" => Ok(JsValue::from_str(&hex::encode(self.export_secret()))),

            // ---- peers and sync ----
            "peers" => {
                let peers: Vec<PeerJs> = self
                    .core
                    .borrow()
                    .node
                    .peers()
                    .into_iter()
                    .map(PeerJs::from)
                    .collect();
                to_js(&peers)
            }
            "progress" => to_js(&self.progress()),
            "publicKey" => Ok(JsValue::from_str(&self.public_key())),
            "entryCount" => Ok(JsValue::from_f64(
                self.core.borrow().node.replica().store().len() as f64,
            )),
            m if m.starts_with("mailbox") => self.mailbox_call(m, args),
            _ => Err(NodeError::UnknownMethod(method.to_string())),
        }
    }

    async fn write(&self, operation: Operation) -> Result<JsValue, NodeError> {
        let id = self.publish(operation).await?;
        Ok(JsValue::from_str(&id.to_hex()))
    }

    fn query<T>(
        &self,
        festival: Hash,
        look: impl FnOnce(&FestivalQuery<'_>) -> Result<T, NodeError>,
    ) -> Result<T, NodeError> {
        let core = self.core.borrow();
        let query = core
            .node
            .replica()
            .state()
            .festival(festival)
            .ok_or_else(|| NodeError::NotFound(format!("festival {festival}")))?;
        look(&query)
    }

    /// One page of `query` (see `QueryInput`); `index.d.ts` documents the arguments.
    fn paged_query(&self, festival: Hash, input: QueryInput) -> Result<JsValue, NodeError> {
        let bad = |message: &str| NodeError::InvalidArgument(message.into());
        let limit = input.limit.unwrap_or(50);
        if !(1..=1000).contains(&limit) {
            return Err(bad("limit: from 1 to 1000"));
        }
        let after = input.after.as_deref().map(str::parse).transpose();
        let page = PageRequest {
            limit: limit as usize,
            after: after.map_err(|e: KvError| NodeError::InvalidArgument(format!("after: {e}")))?,
        };
        let range = input.from.unwrap_or(Millis::MIN)..input.to.unwrap_or(Millis::MAX);
        if range.is_empty() && range.start > range.end {
            return Err(bad("from is after to"));
        }
        let status = input.status.as_deref().map(status_arg).transpose()?;
        let resource = input.resource.as_deref();
        let resource = resource.map(|hex| hash_arg("resource", hex)).transpose()?;
        let owner = match input.owner.as_deref() {
            Some(hex) => parse_key(hex)?,
            None => self.core.borrow().node.key_pair().public_key(),
        };
        self.query(festival, |q| {
            let (items, next) = match (input.by.as_str(), resource, status) {
                ("time", ..) => {
                    let p = q.events_by_time(range, &page);
                    let items = p.items.into_iter().map(EventJs::from).collect::<Vec<_>>();
                    (items.to_js(), p.next)
                }
                ("resource", Some(resource), _) => {
                    let p = q.events_by_resource(resource, range, &page);
                    let items = p.items.into_iter().map(EventJs::from).collect::<Vec<_>>();
                    (items.to_js(), p.next)
                }
                ("owner", _, None) => {
                    let p = q.resources_by_owner(owner, &page);
                    let items = p
                        .items
                        .into_iter()
                        .map(ResourceJs::from)
                        .collect::<Vec<_>>();
                    (items.to_js(), p.next)
                }
                ("owner", _, Some(status)) => {
                    let p = q.requests_by_owner(owner, status, range, &page);
                    (requests_js(&p.items), p.next)
                }
                ("status", resource, Some(status)) => {
                    let p = q.requests_by_status(status, resource, range, &page);
                    (requests_js(&p.items), p.next)
                }
                ("resource", ..) => return Err(bad("resource: required with by: \"resource\"")),
                ("status", ..) => return Err(bad("status: required with by: \"status\"")),
                _ => {
                    return Err(bad(
                        "by: expected \"time\", \"resource\", \"owner\" or \"status\"",
                    ))
                }
            };
            Ok(page_js(items, next))
        })
    }

    /// The festival a change to `resource`, seen from `festival`, is written in.
    fn home_of_resource(&self, festival: Hash, resource: Hash) -> Result<Hash, NodeError> {
        self.query(festival, |q| {
            let info = q
                .resource(resource)
                .ok_or_else(|| NodeError::NotFound(format!("resource {resource}")))?;
            Ok(q.written_in(info.festival))
        })
    }

    fn home_of_event(&self, festival: Hash, event: Hash) -> Result<Hash, NodeError> {
        self.query(festival, |q| {
            let info = q
                .event(event)
                .ok_or_else(|| NodeError::NotFound(format!("event {event}")))?;
            Ok(q.written_in(info.festival))
        })
    }

    /// The latest entry of every log of `source`'s context: where a fork of it starts.
    fn frontier_of(&self, source: Hash) -> Result<Vec<FrontierLog>, NodeError> {
        let core = self.core.borrow();
        let replica = core.node.replica();
        let state = replica.state();
        if state.festival(source).is_none() {
            return Err(NodeError::NotFound(format!("festival {source}")));
        }
        // The source's context and, when it is a fork itself, the contexts it inherits from.
        let mut lineage = Vec::new();
        let mut next = Some(source);
        while let Some(festival) = next {
            let topic = root_of(state, festival);
            if lineage.contains(&topic) {
                break;
            }
            lineage.push(topic);
            next = state.festival(topic).and_then(|q| q.info().fork_of);
        }
        Ok(replica
            .store()
            .heights()
            .filter(|(log, _)| {
                state
                    .topic_of_log(*log)
                    .is_some_and(|t| lineage.contains(&t))
            })
            .map(|(log, seq)| FrontierLog {
                author: log.author,
                log_id: log.log_id,
                seq,
            })
            .collect())
    }

    /// Forked logs and rejected operations in `festival`'s scope, forks first.
    fn problems(&self, festival: Hash) -> Result<Vec<ProblemJs>, NodeError> {
        let core = self.core.borrow();
        let replica = core.node.replica();
        let state = replica.state();
        let query = state
            .festival(festival)
            .ok_or_else(|| NodeError::NotFound(format!("festival {festival}")))?;
        let mut problems: Vec<ProblemJs> = replica
            .store()
            .forks()
            .iter()
            .filter_map(|fork| {
                let home = state.festival_of_log(fork.log)?;
                query
                    .scope()
                    .contains(&home)
                    .then(|| ProblemJs::fork(fork.log.author, home, fork.seq_num))
            })
            .collect();
        problems.extend(query.rejected().iter().map(ProblemJs::rejected));
        Ok(problems)
    }

    fn key_arg(&self, args: &mut Args, name: &str) -> Result<PublicKey, NodeError> {
        let hex: String = args.take(name)?;
        parse_key(&hex)
    }
}

pub(super) fn parse_key(hex: &str) -> Result<PublicKey, NodeError> {
    hex.parse()
        .map_err(|_| NodeError::InvalidArgument("a public key is 64 hex characters".into()))
}

/// The festival at the top of `festival`'s parents: the topic it is replicated under.
pub(crate) fn root_of(state: &p2panda_core::festival::State, festival: Hash) -> Hash {
    let mut root = festival;
    while let Some(parent) = state.festival(root).and_then(|q| q.info().parent) {
        root = parent;
    }
    root
}
