//! `p2panda-node`: an always-on native p2panda peer. It keeps everything it stores in a data
//! directory, serves the festival app and a rendezvous on one HTTP port, and syncs with the
//! browsers (and other nodes) it meets there over WebRTC.
//!
//! ```text
//! p2panda-node --data DIR [--listen 127.0.0.1:8080] [--app www/dist] [--join FESTIVAL_HEX]...
//! p2panda-node --rendezvous ws://127.0.0.1:PORT [--data DIR] [--join HEX]...
//!     [--create-festival NAME [--entries N]] [--misbehave garbage|oversized|forged]
//! ```
//!
//! With `--s3-endpoint URL --s3-bucket NAME [--s3-prefix P] [--s3-region R] [--s3-interval
//! SECS]` (credentials in the environment: `P2PANDA_S3_ACCESS_KEY`, `P2PANDA_S3_SECRET_KEY`)
//! every joined festival is also stored and forwarded through that bucket (see [`s3`]).
//!
//! Without `--rendezvous` the node serves: the app's files (`--app`) and the rendezvous
//! WebSocket at `/rendezvous` on `--listen` (default 127.0.0.1:8080, this machine only), and it
//! meets peers through that rendezvous itself. With `--rendezvous` (as the browser tests start
//! it) it serves nothing and meets peers there. WebRTC links are pinned to loopback
//! ([`p2panda_node::webrtc_link`]).
//!
//! With `--data DIR` every entry, fork and joined festival goes to `DIR/journal` and counts as
//! stored only once it is on disk ([`p2panda_node::storage`]); the key is `DIR/secret-key`. A
//! restart on the same directory restores all of it and rejoins the festivals; a second process
//! on it is refused.
//!
//! stdout, one JSON object a line: first `{"ready": true, "publicKey", "festival", "festivals",
//! "entries", "session", "room", "listen", "url", "data", "restored"}` (or `{"ready": false,
//! "code", "error"}`), then events: `{"event": "link" | "peer" | "stored" | "caught-up" |
//! "fork" | "dropped" | "dial-failed" | "signal-error" | "rendezvous-closed" |
//! "storage-failed" | "s3-push" | "s3-pull" | "s3-error", ...}`; `stored` carries the count of
//! entries durably stored. `s3-push` and `s3-pull` carry `festival`, `objects`, `entries` (new
//! ones) and `ms`; `s3-error` carries `festival`, `op` (`push` or `pull`), `code`
//! (`S3_WRONG_CREDENTIALS`, `S3_ACCESS_DENIED`, `S3_NO_SUCH_BUCKET`, `S3_NETWORK`, ...),
//! `error`, `failures` and `retryInMs`. One
//! `{"reply": ...}` per command. stdin, one JSON command a line: `{"cmd": "publish-resource",
//! "name", "festival"?}`, `{"cmd": "status", "festival"?}`, `{"cmd": "join" | "leave",
//! "festival"}`, `{"cmd": "digest"}`, `{"cmd": "has", "ids": [...]}`, `{"cmd": "quit"}`.
//! Writing commands are answered once durable. With `--rendezvous`, the end of stdin quits too;
//! when serving, the node runs until `quit`, SIGTERM or SIGINT. Diagnostics go to stderr. Exit
//! status: 0 after quit or a signal, 1 when setup or the disk fails, 2 on a bad command line
//! (or bad S3 settings).

mod args;
mod commands;
mod festival;
mod output;
mod overlay;
mod s3;
mod server;
mod serving;

use std::collections::BTreeSet;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use p2panda_core::festival::Topic;
use p2panda_core::hash::Hash;
use p2panda_core::replica::IngestError;
use p2panda_core::signal::{room_of, Room, SessionId, SignalMessage};
use p2panda_core::sync::{Event, PeerId};
use p2panda_node::native_peer::{NativePeer, PeerEvent};
use p2panda_node::storage::{self, Durable, JournalError, Mirror, StorageError};
use serde_json::{json, Value};
use tokio::io::AsyncBufReadExt;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, watch};

use args::{Args, ArgsError, Meet};
use commands::{Ack, Context};
use overlay::{Dialed, Overlay};
use server::{Closer, FromServer};
use serving::{ServeError, Served};

/// How long the rendezvous has to answer the first `Join`s.
const JOIN_TIMEOUT: Duration = Duration::from_secs(10);
/// How long quitting waits for the last push to the S3 bucket.
const S3_QUIT_GRACE: Duration = Duration::from_secs(5);

fn main() -> ExitCode {
    let args = match args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(ArgsError::Help) => {
            // A closed stdout (`| head`) is no error worth a panic.
            let _ = writeln!(std::io::stdout(), "{}", args::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("{error}\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    // Checked before anything starts, like the command line.
    let s3 = match args
        .s3
        .as_ref()
        .map(|s3| s3::settings(s3, |name| std::env::var_os(name)))
    {
        None => None,
        Some(Ok(mut settings)) => {
            settings.writers = args.data.as_deref().map(s3::Writers::new);
            Some(settings)
        }
        Some(Err(error)) => {
            eprintln!("p2panda-node: {error}");
            return ExitCode::from(2);
        }
    };
    if let Some(warning) = args.s3.as_ref().and_then(s3::warning) {
        eprintln!("p2panda-node: {warning}");
    }
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
    let result = runtime.block_on(async {
        let running = start(args, s3).await.map_err(RunError::Start)?;
        running.run().await
    });
    // A read of stdin blocks a thread of the runtime's pool; don't wait for it to return.
    runtime.shutdown_timeout(Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(RunError::Start(error)) => {
            eprintln!("p2panda-node: {error}");
            output::emit(
                json!({ "ready": false, "code": error.code(), "error": error.to_string() }),
            );
            ExitCode::FAILURE
        }
        Err(RunError::Storage(error)) => {
            eprintln!("p2panda-node: stopped: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Why the node could not start.
#[derive(Debug, thiserror::Error)]
enum StartError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("creating the festival: {0}")]
    Create(#[from] IngestError),
    #[error("the journal: {0}")]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error("signals: {0}")]
    Signals(std::io::Error),
    #[error("rendezvous: {0}")]
    Rendezvous(String),
}

impl StartError {
    fn code(&self) -> &'static str {
        match self {
            StartError::Storage(error) => error.code(),
            StartError::Create(_) => "CREATE_FAILED",
            StartError::Journal(_) => "STORAGE_FAILED",
            StartError::Serve(ServeError::Listen { .. }) => "LISTEN_FAILED",
            StartError::Serve(ServeError::App { .. }) => "BAD_APP_DIR",
            StartError::Signals(_) => "SIGNALS",
            StartError::Rendezvous(_) => "RENDEZVOUS",
        }
    }
}

/// Why the node stopped with a failure.
enum RunError {
    Start(StartError),
    /// The journal could not be written: nothing more can be acknowledged.
    Storage(String),
}

/// A started node and everything its main loop listens to.
struct Running {
    peer: NativePeer,
    overlay: Overlay,
    primary: Option<Topic>,
    events: mpsc::UnboundedReceiver<PeerEvent>,
    signals: mpsc::Receiver<(PeerId, Vec<u8>)>,
    from_server: mpsc::Receiver<FromServer>,
    closer: Closer,
    results: mpsc::Receiver<Dialed>,
    durable: watch::Receiver<Durable>,
    /// Store-and-forward through the S3 bucket, if configured.
    s3: Option<s3::S3Task>,
    /// The end of stdin quits (test mode) or only stops reading commands (serving).
    stdin_end_quits: bool,
}

/// What the main loop woke up for.
enum Step {
    Line(Option<String>),
    Signal,
    Durable,
    Server(Option<FromServer>),
    Dialed(Dialed),
    LinkSignal(PeerId, Vec<u8>),
    Events(PeerEvent),
}

async fn start(args: Args, s3: Option<s3::Settings>) -> Result<Running, StartError> {
    // No journal mirror: the S3 store-and-forward (`s3`) works per festival, on the replica,
    // following the journal's durable watch, so it runs with and without `--data`.
    let mirror: Option<Box<dyn Mirror>> = None;
    let opened = match &args.data {
        Some(dir) => {
            let opened = storage::open(dir, mirror)?;
            eprintln!("p2panda-node: {}: {}", dir.display(), opened.report);
            opened
        }
        None => storage::in_memory(),
    };
    let storage::Opened {
        key_pair,
        mut replica,
        festivals: persisted,
        journal,
        mut recorder,
        report,
        ..
    } = opened;
    let public_key = key_pair.public_key();

    let mut primary = None;
    if let Some((name, entries)) = &args.create {
        primary = Some(festival::create(&mut replica, &key_pair, name, *entries)?);
        // Durable before any link can see them, as every own entry must be.
        if let Some(last) = recorder.catch_up(&replica, &journal)? {
            journal.wait(last).await?;
        }
    }
    let peer = NativePeer::with_journal(key_pair, replica, journal.clone(), recorder);
    for festival in persisted.iter().chain(primary.iter()).chain(&args.join) {
        peer.join_recorded(*festival)?;
    }
    let primary = primary
        .or(args.join.first().copied())
        .or(persisted.first().copied());
    if let Some(how) = args.misbehave {
        peer.misbehave(how);
    }
    // Set before any link is attached, so none of their reports is missed.
    let events = peer.events();
    let signals = peer.signals();

    let served = match &args.meet {
        Meet::Serve { listen, app } => Some(serving::start(*listen, app.as_deref()).await?),
        Meet::Rendezvous(_) => None,
    };
    let url = match (&args.meet, &served) {
        (_, Some(served)) => served.rendezvous_url.clone(),
        (Meet::Rendezvous(url), None) => url.clone(),
        (Meet::Serve { .. }, None) => return Err(StartError::Rendezvous("not started".into())),
    };
    let (server, mut from_server, closer) = server::connect(&url)
        .await
        .map_err(StartError::Rendezvous)?;
    let (results_tx, results) = mpsc::channel(16);
    let me = SessionId::random();
    let mut overlay = Overlay::new(me, peer.clone(), server, results_tx);
    let festivals: BTreeSet<Topic> = peer.with_node(|n| n.topics().iter().copied().collect());
    let mut waiting: BTreeSet<Room> = festivals.iter().map(room_of).collect();
    for room in &waiting {
        overlay.join_room(*room);
    }
    // In every room before saying ready, so a peer started next finds this one.
    let deadline = tokio::time::Instant::now() + JOIN_TIMEOUT;
    while !waiting.is_empty() {
        let bytes = match tokio::time::timeout_at(deadline, from_server.recv()).await {
            Ok(Some(FromServer::Message(bytes))) => bytes,
            Ok(Some(FromServer::Closed(why))) => return Err(StartError::Rendezvous(why)),
            Ok(None) => return Err(StartError::Rendezvous("connection lost".into())),
            Err(_) => return Err(StartError::Rendezvous("no reply to Join".into())),
        };
        match SignalMessage::decode(&bytes) {
            Ok(SignalMessage::Peers { room, .. }) => {
                waiting.remove(&room);
            }
            Ok(SignalMessage::Error { code }) => {
                return Err(StartError::Rendezvous(format!("Join refused: {code}")))
            }
            Ok(_) => {}
            Err(e) => return Err(StartError::Rendezvous(e.to_string())),
        }
        overlay.server_message(&bytes);
    }
    journal.wait(journal.appended()).await?;

    let entries = peer.with_node(|n| n.replica().store().len());
    let festival_list: Vec<String> = festivals.iter().map(Hash::to_hex).collect();
    output::emit(json!({
        "ready": true,
        "publicKey": public_key.to_hex(),
        "festival": primary.map(|f| f.to_hex()),
        "festivals": festival_list,
        "entries": entries,
        "session": hex::encode(me.as_bytes()),
        "room": primary.map(|f| hex::encode(room_of(&f).as_bytes())),
        "listen": served.as_ref().map(|s| s.listen.to_string()),
        "url": served.as_ref().map(Served::url),
        "data": args.data.as_ref().map(|d| d.display().to_string()),
        "restored": {
            "entries": report.entries,
            "records": report.records,
            "droppedBytes": report.dropped_bytes,
            "damage": report.damage.as_ref().map(|d| d.to_string()),
            "refused": report.refused,
            "ms": report.elapsed.as_millis() as u64,
        },
    }));
    if let Some(served) = &served {
        let what = match &served.app {
            Some(app) => format!("{} and the rendezvous", app.display()),
            None => "the rendezvous (no --app)".into(),
        };
        eprintln!(
            "p2panda-node: serving {what} on {}; browsers use the rendezvous {}",
            served.url(),
            served.public_rendezvous()
        );
        if args.data.is_none() {
            eprintln!("p2panda-node: warning: no --data: nothing is kept after this process");
        }
    }
    // After `ready`, so its lines follow it; it pulls every festival at once.
    let s3 = s3.map(|settings| s3::S3Task::spawn(settings, peer.clone()));
    Ok(Running {
        s3,
        peer,
        overlay,
        primary,
        events,
        signals,
        from_server,
        closer,
        results,
        durable: journal.subscribe(),
        stdin_end_quits: matches!(args.meet, Meet::Rendezvous(_)),
    })
}

impl Running {
    async fn run(mut self) -> Result<(), RunError> {
        let mut terminate =
            signal(SignalKind::terminate()).map_err(|e| RunError::Start(StartError::Signals(e)))?;
        let mut interrupt =
            signal(SignalKind::interrupt()).map_err(|e| RunError::Start(StartError::Signals(e)))?;
        let mut stdin = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        let (mut stdin_open, mut server_open) = (true, true);
        let mut acks: Vec<Ack> = Vec::new();
        let mut stored = self.durable.borrow_and_update().entries;
        loop {
            let step = tokio::select! {
                line = stdin.next_line(), if stdin_open => Step::Line(line.ok().flatten()),
                _ = terminate.recv() => Step::Signal,
                _ = interrupt.recv() => Step::Signal,
                changed = self.durable.changed() => match changed {
                    Ok(()) => Step::Durable,
                    Err(_) => Step::Signal, // The journal is gone: nothing left to do.
                },
                message = self.from_server.recv(), if server_open => Step::Server(message),
                Some(dialed) = self.results.recv() => Step::Dialed(dialed),
                Some((from, bytes)) = self.signals.recv() => Step::LinkSignal(from, bytes),
                Some(event) = self.events.recv() => Step::Events(event),
            };
            match step {
                Step::Line(Some(line)) => {
                    let mut cx = Context {
                        peer: &self.peer,
                        overlay: &mut self.overlay,
                        primary: self.primary,
                        acks: &mut acks,
                    };
                    if let commands::Flow::Quit(command) = commands::handle(&line, &mut cx) {
                        return self.quit(acks, Some(command)).await;
                    }
                    commands::flush_acks(&mut acks, self.durable.borrow().records);
                }
                Step::Line(None) if self.stdin_end_quits => {
                    return self.quit(acks, Some(json!({ "cmd": "quit" }))).await;
                }
                Step::Line(None) => stdin_open = false,
                Step::Signal => return self.quit(acks, None).await,
                Step::Durable => {
                    let durable = self.durable.borrow_and_update().clone();
                    if let Some(why) = durable.failed {
                        output::event("storage-failed", json!({ "error": why }));
                        return Err(RunError::Storage(why));
                    }
                    if durable.entries != stored {
                        stored = durable.entries;
                        output::event("stored", json!({ "count": stored }));
                    }
                    commands::flush_acks(&mut acks, durable.records);
                }
                Step::Server(Some(FromServer::Message(bytes))) => {
                    self.overlay.server_message(&bytes)
                }
                Step::Server(Some(FromServer::Closed(why))) => {
                    server_open = false;
                    self.overlay.server_closed();
                    output::event("rendezvous-closed", json!({ "reason": why }));
                }
                Step::Server(None) => {
                    server_open = false;
                    self.overlay.server_closed();
                }
                Step::Dialed(dialed) => self.overlay.dialed(dialed),
                Step::LinkSignal(from, bytes) => self.overlay.link_message(from, &bytes),
                Step::Events(first) => {
                    report(first, &mut self.overlay);
                    // Everything already queued, in one go.
                    while let Ok(next) = self.events.try_recv() {
                        report(next, &mut self.overlay);
                    }
                }
            }
        }
    }

    /// Says goodbye to every peer, leaves the rendezvous, makes everything durable and sends
    /// the replies still waiting for that, then the reply to `command` (if a command quit).
    async fn quit(self, mut acks: Vec<Ack>, command: Option<Value>) -> Result<(), RunError> {
        commands::quit(&self.peer).await;
        self.closer.close().await;
        // While the journal still takes what a pull stores, and own entries can become durable.
        if let Some(s3) = self.s3 {
            s3.finish(S3_QUIT_GRACE).await;
        }
        let journal = self.peer.journal();
        let closed = journal.close().await;
        commands::flush_acks(&mut acks, journal.durable().records);
        if let Err(error) = closed {
            return Err(RunError::Storage(error.to_string()));
        }
        if let Some(command) = command {
            commands::quitted(&command);
        }
        Ok(())
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
