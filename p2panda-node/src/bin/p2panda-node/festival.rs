//! `--create-festival`: a generated festival to sync, for tests and demos.

use p2panda_core::festival::Topic;
use p2panda_core::identity::KeyPair;
use p2panda_core::operation::*;
use p2panda_core::replica::{IngestError, Replica};

/// Authors writing a created festival's entries (this node's key is the first).
const AUTHORS: usize = 3;

/// Writes into `replica` a festival of `entries` entries in all: the festival (by `key`), then
/// resources (every tenth) and events, written by [`AUTHORS`] authors in turn.
pub fn create(
    replica: &mut Replica,
    key: &KeyPair,
    name: &str,
    entries: usize,
) -> Result<Topic, IngestError> {
    let mut authors = vec![key.clone()];
    authors.extend((1..AUTHORS).map(|_| KeyPair::generate()));
    let create = Operation::FestivalCreate(FestivalCreate {
        name: name.into(),
        description: String::new(),
        parent: None,
        fork_of: None,
    });
    let (festival, _) = replica.publish(key, &create)?;
    for i in 1..entries {
        let operation = if i % 10 == 0 {
            Operation::ResourceCreate(ResourceCreate {
                festival,
                name: format!("Resource {i}"),
                description: "Made by p2panda-node.".into(),
                kind: ResourceKind::Item,
                policy: PolicyKind::Fcfs,
            })
        } else {
            let hour = (i as i64 % 500) * 3_600_000;
            Operation::EventCreate(EventCreate {
                festival,
                title: format!("Workshop {i}"),
                description: "Bring your own tools; we share the rest.".into(),
                start: hour,
                end: hour + 5_400_000,
                resources: vec![],
            })
        };
        replica.publish(&authors[i % AUTHORS], &operation)?;
    }
    Ok(festival)
}
