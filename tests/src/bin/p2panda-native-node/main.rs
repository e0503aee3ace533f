//! `p2panda-native-node`: a native p2panda node that browsers (and other native nodes) meet
//! through the WebSocket rendezvous and sync with over real WebRTC. For tests: everything stays
//! on loopback (the rendezvous URL must be a loopback one; links refuse other candidates).
//!
//! ```text
//! p2panda-native-node --rendezvous ws://127.0.0.1:PORT
//!     (--festival HEX | --create-festival NAME [--entries N])
//!     [--misbehave garbage|oversized|forged]
//! ```
//!
//! stdout, one JSON object a line: first `{"ready": true, "publicKey", "festival", "entries",
//! "session", "room"}`, then events: `{"event": "link" | "peer" | "stored" | "caught-up" |
//! "fork" | "dropped" | "dial-failed" | "signal-error" | "rendezvous-closed", ...}`, and one
//! `{"reply": ...}` per command. stdin, one JSON command a line: `{"cmd": "publish-resource",
//! "name": "..."}`, `{"cmd": "status"}`, `{"cmd": "quit"}` (end of input quits too).
//! Diagnostics go to stderr. Exit status: 0 after quit, 1 when setup fails, 2 on a bad command
//! line.

mod args;
mod commands;
mod output;
mod overlay;
mod server;

use std::process::ExitCode;
use std::time::Duration;

use p2panda_core::festival::Topic;
use p2panda_core::identity::KeyPair;
use p2panda_core::operation::*;
use p2panda_core::replica::{IngestError, Replica};
use p2panda_core::signal::{room_of, SessionId, SignalMessage};
use p2panda_core::sync::Event;
use p2panda_tests::native_peer::{NativePeer, PeerEvent};
use serde_json::json;
use tokio::io::AsyncBufReadExt;
use tokio::sync::mpsc;

use args::{Args, ArgsError, Start};
use overlay::Overlay;
use server::FromServer;

/// How long the rendezvous has to answer the first `Join`.
const JOIN_TIMEOUT: Duration = Duration::from_secs(10);
/// Authors writing a created festival's entries (this node's key is the first).
const AUTHORS: usize = 3;

fn main() -> ExitCode {
    let args = match args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(ArgsError::Help) => {
            println!("{}", args::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("{error}\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("p2panda-native-node: {error}");
            output::emit(json!({ "ready": false, "error": error.to_string() }));
            ExitCode::FAILURE
        }
    }
}

/// Why the node could not start.
#[derive(Debug, thiserror::Error)]
enum StartError {
    #[error("creating the festival: {0}")]
    Create(#[from] IngestError),
    #[error("rendezvous: {0}")]
    Rendezvous(String),
}

/// A festival of `entries` entries in all: the festival (by `key`), then resources (every tenth)
/// and events, written by [`AUTHORS`] authors in turn.
fn create_festival(
    key: &KeyPair,
    name: &str,
    entries: usize,
) -> Result<(Replica, Topic), IngestError> {
    let mut authors = vec![key.clone()];
    authors.extend((1..AUTHORS).map(|_| KeyPair::generate()));
    let mut replica = Replica::new();
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
                description: "Made by p2panda-native-node.".into(),
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
    Ok((replica, festival))
}

async fn run(args: Args) -> Result<(), StartError> {
    let key = KeyPair::generate();
    let (replica, festival) = match &args.start {
        Start::Join(festival) => (Replica::new(), *festival),
        Start::Create { name, entries } => create_festival(&key, name, *entries)?,
    };
    let public_key = key.public_key();
    let peer = NativePeer::new(key, replica);
    peer.join(festival);
    if let Some(how) = args.misbehave {
        peer.misbehave(how);
    }
    // Set before any link is attached, so none of their reports is missed.
    let mut events = peer.events();
    let mut signals = peer.signals();

    let (server, mut from_server, closer) = server::connect(&args.rendezvous)
        .await
        .map_err(StartError::Rendezvous)?;
    let (me, room) = (SessionId::random(), room_of(&festival));
    let join = SignalMessage::Join { room, peer: me }
        .encode()
        .map_err(|e| StartError::Rendezvous(e.to_string()))?;
    server
        .send(join)
        .await
        .map_err(|_| StartError::Rendezvous("connection lost".into()))?;
    let first = match tokio::time::timeout(JOIN_TIMEOUT, from_server.recv()).await {
        Ok(Some(FromServer::Message(bytes))) => bytes,
        Ok(Some(FromServer::Closed(why))) => return Err(StartError::Rendezvous(why)),
        Ok(None) => return Err(StartError::Rendezvous("connection lost".into())),
        Err(_) => return Err(StartError::Rendezvous("no reply to Join".into())),
    };
    match SignalMessage::decode(&first) {
        Ok(SignalMessage::Peers { .. }) => {}
        Ok(other) => {
            let what = format!("Join answered with {other:?}");
            return Err(StartError::Rendezvous(what));
        }
        Err(e) => return Err(StartError::Rendezvous(e.to_string())),
    }

    let entries = peer.with_node(|n| n.replica().store().len());
    output::emit(json!({
        "ready": true,
        "publicKey": public_key.to_hex(),
        "festival": festival.to_hex(),
        "entries": entries,
        "session": hex::encode(me.as_bytes()),
        "room": hex::encode(room.as_bytes()),
    }));

    let (results_tx, mut results) = mpsc::channel(16);
    let mut overlay = Overlay::new(me, room, peer.clone(), server, results_tx);
    overlay.server_message(&first);
    let mut stdin = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut server_open = true;
    let mut stored = entries;
    loop {
        tokio::select! {
            line = stdin.next_line() => {
                let line = match line {
                    Ok(Some(line)) => line,
                    // End of input (or unreadable input): as `quit`.
                    Ok(None) | Err(_) => r#"{"cmd":"quit"}"#.to_owned(),
                };
                if let commands::Flow::Quit(command) = commands::handle(&line, &peer, festival, &overlay) {
                    commands::quit(&peer).await;
                    closer.close().await;
                    commands::quitted(&command);
                    return Ok(());
                }
            }
            message = from_server.recv(), if server_open => match message {
                Some(FromServer::Message(bytes)) => overlay.server_message(&bytes),
                Some(FromServer::Closed(why)) => {
                    server_open = false;
                    overlay.server_closed();
                    output::event("rendezvous-closed", json!({ "reason": why }));
                }
                None => {
                    server_open = false;
                    overlay.server_closed();
                }
            },
            Some(dialed) = results.recv() => overlay.dialed(dialed),
            Some((from, bytes)) = signals.recv() => overlay.link_message(from, &bytes),
            Some(first) = events.recv() => {
                // Everything already queued, so a burst of stored entries is one line.
                let mut batch = vec![first];
                while let Ok(next) = events.try_recv() {
                    batch.push(next);
                }
                for event in batch {
                    report(event, &mut overlay);
                }
                let now = peer.with_node(|n| n.replica().store().len());
                if now != stored {
                    stored = now;
                    output::event("stored", json!({ "count": now }));
                }
            }
        }
    }
}

fn report(event: PeerEvent, overlay: &mut Overlay) {
    match event {
        PeerEvent::Attached { .. } => {}
        PeerEvent::Sync { peer, event } => match event {
            Event::Authenticated { key, shared, .. } => output::event(
                "peer",
                json!({ "peer": peer, "publicKey": key.to_hex(), "sharedTopics": shared }),
            ),
            Event::CaughtUp { .. } => output::event("caught-up", json!({ "peer": peer })),
            Event::Fork { log, seq } => output::event(
                "fork",
                json!({ "peer": peer, "log": format!("{log:?}"), "seq": seq }),
            ),
            Event::Stored { .. } => {}
        },
        PeerEvent::Ended { peer, error } => {
            overlay.ended(peer);
            output::dropped(peer, error.as_ref());
        }
    }
}
