//! A real S3 server for the tests: s3s-fs (SigV4 auth, objects as files) in-process on
//! 127.0.0.1, with an optional hook that sees every request first (for fault injection).

#![allow(dead_code)] // Each test file uses a part.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::service::Service as HyperService;
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use p2panda_core::identity::KeyPair;
use p2panda_core::operation::*;
use p2panda_core::policy::{respond, Policies};
use p2panda_core::replica::Replica;
use p2panda_s3::S3Config;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;

pub const ACCESS_KEY: &str = "festival-access";
pub const SECRET_KEY: &str = "festival-secret-key-0123456789";
pub const BUCKET: &str = "mailbox";

/// Sees each request's method and path before the server does.
pub type Hook = Arc<dyn Fn(&str, &str) + Send + Sync>;

pub struct Server {
    pub addr: SocketAddr,
    /// Where s3s-fs keeps buckets (directories) and objects (files).
    pub root: PathBuf,
    _dir: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// A server with one empty bucket.
    pub async fn start(hook: Option<Hook>) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().to_path_buf();
        std::fs::create_dir(root.join(BUCKET)).expect("bucket dir");
        let fs = s3s_fs::FileSystem::new(&root).expect("s3s-fs");
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (service, hook) = (service.clone(), hook.clone());
                let handler = hyper::service::service_fn(move |request: Request<Incoming>| {
                    if let Some(hook) = &hook {
                        hook(request.method().as_str(), request.uri().path());
                    }
                    let service = service.clone();
                    async move { HyperService::call(&service, request).await }
                });
                tokio::spawn(async move {
                    let _ = Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(socket), handler)
                        .await;
                });
            }
        });
        Server {
            addr,
            root,
            _dir: dir,
            task,
        }
    }

    pub fn config(&self) -> S3Config {
        S3Config::new(
            &format!("http://{}", self.addr),
            BUCKET,
            ACCESS_KEY,
            SECRET_KEY,
        )
        .with_prefix("festivals")
    }

    pub fn bucket_dir(&self) -> PathBuf {
        self.root.join(BUCKET)
    }

    /// Every file the server keeps (objects and its own metadata), with its path.
    pub fn files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut files = Vec::new();
        walk(&self.root, &mut files);
        files
    }

    /// The object files of the bucket whose names contain `part`.
    pub fn objects_containing(&self, part: &str) -> Vec<PathBuf> {
        let mut files = Vec::new();
        walk(&self.bucket_dir(), &mut files);
        files
            .into_iter()
            .map(|(path, _)| path)
            .filter(|path| path.to_string_lossy().contains(part))
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn walk(dir: &Path, files: &mut Vec<(PathBuf, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, files);
        } else if let Ok(bytes) = std::fs::read(&path) {
            files.push((path, bytes));
        }
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
