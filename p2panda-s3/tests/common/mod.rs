//! A real S3 server for the tests: s3s-fs (SigV4 auth, objects as files) in-process on
//! 127.0.0.1, with an optional hook that sees every request first (for fault injection).

#![allow(dead_code)] // Each test file uses a part.

use std::net::SocketAddr;
use std::path::PathBuf;

use p2panda_core::identity::KeyPair;
use p2panda_core::operation::*;
use p2panda_core::policy::{respond, Policies};
use p2panda_core::replica::Replica;
use p2panda_s3::test_server::TestServer;
use p2panda_s3::S3Config;

pub use p2panda_s3::test_server::Hook;

/// The crate's test server in a temporary directory of its own.
pub struct Server {
    pub addr: SocketAddr,
    /// Where s3s-fs keeps buckets (directories) and objects (files).
    pub root: PathBuf,
    server: TestServer,
    _dir: tempfile::TempDir,
}

impl Server {
    /// A server with one empty bucket.
    pub async fn start(hook: Option<Hook>) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let server = TestServer::start_with_hook(dir.path().to_path_buf(), hook)
            .await
            .expect("s3 test server");
        Server {
            addr: server.addr,
            root: server.root.clone(),
            server,
            _dir: dir,
        }
    }

    pub fn config(&self) -> S3Config {
        self.server.config().with_prefix("festivals")
    }

    pub fn bucket_dir(&self) -> PathBuf {
        self.server.bucket_dir()
    }

    /// Every file the server keeps (objects and its own metadata), with its path.
    pub fn files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        TestServer::files_in(&self.root)
    }

    /// The object files of the bucket whose names contain `part`.
    pub fn objects_containing(&self, part: &str) -> Vec<PathBuf> {
        TestServer::files_in(&self.bucket_dir())
            .into_iter()
            .map(|(path, _)| path)
            .filter(|path| path.to_string_lossy().contains(part))
            .collect()
    }
}

/// A festival: its owner, a stage with a first-come policy, and `events` events asking for the
/// stage by `guests` guests, granted by the owner. (replica, festival, owner, guests)
pub fn festival(
    name: &str,
    events: usize,
    guests: usize,
) -> (Replica, FestivalId, KeyPair, Vec<KeyPair>) {
    let owner = KeyPair::generate();
    let guests: Vec<KeyPair> = (0..guests).map(|_| KeyPair::generate()).collect();
    let mut replica = Replica::new();
    let create = Operation::FestivalCreate(FestivalCreate {
        name: name.into(),
        description: "Three days of workshops by the lake".into(),
        parent: None,
        fork_of: None,
    });
    let (festival, _) = replica.publish(&owner, &create).expect("valid");
    let stage = Operation::ResourceCreate(ResourceCreate {
        festival,
        name: "Lakeside stage".into(),
        description: String::new(),
        kind: ResourceKind::Location(Location::default()),
        policy: PolicyKind::Fcfs,
    });
    replica.publish(&owner, &stage).expect("valid");
    for i in 0..events {
        write_event(&mut replica, &guests[i % guests.len()], festival, i);
    }
    respond(&mut replica, &owner, festival, &mut Policies::new()).expect("respond");
    (replica, festival, owner, guests)
}

/// An event titled `Workshop <i>`, asking for the festival's first resource.
pub fn write_event(replica: &mut Replica, author: &KeyPair, festival: FestivalId, i: usize) {
    let stage = replica
        .state()
        .festival(festival)
        .and_then(|f| f.resources().first().map(|r| r.id));
    let hour = (i as i64 % 500) * 3_600_000;
    let event = Operation::EventCreate(EventCreate {
        festival,
        title: format!("Workshop {i}"),
        description: "Bring your own tools; we share the rest. Soldering, sewing, repair.".into(),
        start: hour,
        end: hour + 1_800_000,
        resources: stage.into_iter().collect(),
    });
    replica.publish(author, &event).expect("valid");
}

/// The bytes of every entry and payload: what a mailbox must carry at the least.
pub fn raw_bytes(replica: &Replica) -> u64 {
    let store = replica.store();
    store
        .heights()
        .flat_map(|(log, _)| store.entries_after(log, 0))
        .map(|s| (s.entry.bytes().len() + s.payload.len()) as u64)
        .sum()
}
