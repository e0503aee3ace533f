//! p2panda-rendezvous: a small WebSocket server where p2panda peers enter the network. Peers join
//! opaque rooms (hashes of festival ids) under random session ids, learn who else is there, and
//! exchange the offers and answers that open direct WebRTC connections. Then they leave: the
//! rendezvous is only needed to enter.
//!
//! The room logic is [`p2panda_core::signal::Rendezvous`], the same sans-IO code browser nodes run
//! to relay signaling to their neighbours; this crate adds sockets, timeouts and limits. It keeps
//! current room membership in memory and nothing else, and logs only connects and disconnects.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let server = p2panda_rendezvous::Server::new(p2panda_rendezvous::Config::default());
//! tokio::spawn(server.clone().serve(listener));
//! assert_eq!(server.stats().rooms, 0);
//! # Ok(()) }
//! ```

mod connection;
mod rate;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use p2panda_core::signal::{Rendezvous, MAX_SIGNAL_SIZE};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

pub use rate::RateLimit;

/// The address the binary listens on unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4040";

/// Limits and timeouts. The defaults suit a public server.
#[derive(Debug, Clone)]
pub struct Config {
    /// A connection that sends nothing (not even a pong) for this long is closed, so dead
    /// connections do not hold room slots.
    pub idle_timeout: Duration,
    /// How often the server pings each client (browsers answer pings on their own).
    pub ping_interval: Duration,
    /// Time allowed for the WebSocket handshake, and for writing one message to a client.
    pub io_timeout: Duration,
    /// Messages per second a connection may send; `None` for no limit. Over it, the server reads
    /// more slowly (TCP pushes back), it does not drop.
    pub rate_limit: Option<RateLimit>,
    /// A connection that sends this many malformed or oversized messages is closed.
    pub max_abuse: u32,
    /// Connections beyond this are refused before the handshake.
    pub max_connections: usize,
    /// Messages waiting to be written to one client. Signals for a client whose queue is full are
    /// dropped (signaling is retried by peers), so one slow reader cannot stall the others.
    pub queue_len: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            idle_timeout: Duration::from_secs(60),
            ping_interval: Duration::from_secs(20),
            io_timeout: Duration::from_secs(10),
            rate_limit: Some(RateLimit {
                per_second: 50,
                burst: 100,
            }),
            max_abuse: 3,
            max_connections: 10_000,
            queue_len: 64,
        }
    }
}

/// What the server holds right now (counts only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Open WebSocket connections.
    pub connections: usize,
    /// Rooms with at least one member.
    pub rooms: usize,
    /// Connections that are in at least one room.
    pub members: usize,
}

/// A rendezvous server. Cloning gives another handle to the same server.
#[derive(Clone)]
pub struct Server {
    shared: Arc<Shared>,
}

type ConnId = u64;

struct Shared {
    config: Config,
    state: Mutex<State>,
    next_id: AtomicU64,
    /// TCP connections being handled, including those still in the handshake.
    open: AtomicUsize,
}

struct State {
    rendezvous: Rendezvous<ConnId>,
    outboxes: BTreeMap<ConnId, mpsc::Sender<Vec<u8>>>,
}

impl Server {
    pub fn new(config: Config) -> Self {
        Server {
            shared: Arc::new(Shared {
                config,
                state: Mutex::new(State {
                    rendezvous: Rendezvous::new(),
                    outboxes: BTreeMap::new(),
                }),
                next_id: AtomicU64::new(0),
                open: AtomicUsize::new(0),
            }),
        }
    }

    pub fn stats(&self) -> Stats {
        let state = self.shared.lock();
        Stats {
            connections: state.outboxes.len(),
            rooms: state.rendezvous.rooms().len(),
            members: state.rendezvous.len(),
        }
    }

    /// Accept connections on `listener` until the task is dropped. Accept errors (e.g. out of
    /// file descriptors) are logged and retried after a pause, never fatal.
    pub async fn serve(self, listener: TcpListener) {
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    eprintln!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
            let guard = OpenGuard::enter(self.shared.clone());
            if guard.count > self.shared.config.max_connections {
                eprintln!("refused #{id}: {} connections open", guard.count - 1);
                continue;
            }
            tokio::spawn(connection::run(self.shared.clone(), stream, id, guard));
        }
    }
}

/// Serve with the default [`Config`] until the task is dropped.
pub async fn serve(listener: TcpListener) {
    Server::new(Config::default()).serve(listener).await
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; if something did, the membership data is
        // still consistent enough to keep serving.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn websocket_config() -> WebSocketConfig {
        WebSocketConfig::default()
            .max_message_size(Some(MAX_SIGNAL_SIZE))
            .max_frame_size(Some(MAX_SIGNAL_SIZE))
            .read_buffer_size(8 * 1024)
    }
}

/// Counts a TCP connection as open for as long as it lives.
struct OpenGuard {
    shared: Arc<Shared>,
    /// Open connections, this one included, when it was accepted.
    count: usize,
}

impl OpenGuard {
    fn enter(shared: Arc<Shared>) -> Self {
        let count = shared.open.fetch_add(1, Ordering::Relaxed) + 1;
        OpenGuard { shared, count }
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.shared.open.fetch_sub(1, Ordering::Relaxed);
    }
}
