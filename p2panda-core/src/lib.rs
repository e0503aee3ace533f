//! p2panda-core: the pure-Rust heart of p2panda. No I/O, no clock, no async runtime: callers pass
//! bytes and time in and take bytes out, so the same code runs in browsers, native peers and
//! deterministic simulations.
//!
//! ```
//! use p2panda_core::{identity::KeyPair, operation::*, policy::{respond, Policies}, replica::Replica};
//! use p2panda_core::festival::RequestStatus;
//!
//! let (owner, guest) = (KeyPair::generate(), KeyPair::generate());
//! let mut node = Replica::new();
//! let create = Operation::FestivalCreate(FestivalCreate {
//!     name: "Summer camp".into(), description: String::new(), parent: None, fork_of: None,
//! });
//! let (festival, _) = node.publish(&owner, &create)?;
//! let stage = Operation::ResourceCreate(ResourceCreate {
//!     festival, name: "Stage".into(), description: String::new(),
//!     kind: ResourceKind::Location(Location::default()), policy: PolicyKind::Fcfs,
//! });
//! let (stage, _) = node.publish(&owner, &stage)?;
//! let talk = Operation::EventCreate(EventCreate {
//!     festival, title: "Talk".into(), description: String::new(),
//!     start: 36_000_000, end: 43_200_000, resources: vec![stage],
//! });
//! let (talk, _) = node.publish(&guest, &talk)?;
//! respond(&mut node, &owner, festival, &mut Policies::new())?; // the owner's node grants it
//! let event = node.state().festival(festival).unwrap().event(talk).unwrap();
//! assert_eq!(event.resources, vec![(stage, RequestStatus::Granted)]);
//! # Ok::<(), p2panda_core::replica::IngestError>(())
//! ```

mod blake2b;
mod cbor;
pub mod festival;
pub mod hash;
pub mod identity;
pub mod log;
pub mod mailbox;
pub mod operation;
pub mod policy;
pub mod private;
pub mod replica;
pub mod secret;
pub mod signal;
pub mod small_map;
pub mod store;
pub mod sync;

/// The version of this crate, as shown to users and peers.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
