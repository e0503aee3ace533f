//! One client connection: the WebSocket handshake, then a loop that reads (rate-limited), writes
//! what the rendezvous sends this client, pings, and closes idle or abusive connections.

use std::fmt;
use std::sync::Arc;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use p2panda_core::signal::{ErrorCode, SignalMessage};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{interval_at, sleep, sleep_until, timeout, Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

use crate::rate::Bucket;
use crate::{ConnId, OpenGuard, Shared};

type Sink = SplitSink<WebSocketStream<TcpStream>, Message>;
type Stream = SplitStream<WebSocketStream<TcpStream>>;

/// Why a connection ended (logged; says nothing about what the client sent).
enum End {
    ClosedByClient,
    Gone,
    Idle,
    Oversized,
    Abuse,
    WriteTimeout,
    Failed(WsError),
}

impl fmt::Display for End {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            End::ClosedByClient => f.write_str("closed by client"),
            End::Gone => f.write_str("connection lost"),
            End::Idle => f.write_str("idle"),
            End::Oversized => f.write_str("oversized message"),
            End::Abuse => f.write_str("too many malformed messages"),
            End::WriteTimeout => f.write_str("client not reading"),
            End::Failed(e) => write!(f, "{e}"),
        }
    }
}

pub(crate) async fn run(shared: Arc<Shared>, stream: TcpStream, id: ConnId, _open: OpenGuard) {
    // Signaling messages are small and latency matters more than packing.
    let _ = stream.set_nodelay(true);
    let handshake =
        tokio_tungstenite::accept_async_with_config(stream, Some(Shared::websocket_config()));
    let websocket = match timeout(shared.config.io_timeout, handshake).await {
        Ok(Ok(websocket)) => websocket,
        Ok(Err(e)) => return eprintln!("handshake failed #{id}: {e}"),
        Err(_) => return eprintln!("handshake failed #{id}: timed out"),
    };
    let (outbox, inbox) = mpsc::channel(shared.config.queue_len.max(1));
    let open = {
        let mut state = shared.lock();
        state.outboxes.insert(id, outbox);
        state.outboxes.len()
    };
    eprintln!("connect #{id} ({open} open)");

    let end = serve(&shared, id, websocket, inbox).await;

    let open = {
        let mut state = shared.lock();
        state.rendezvous.disconnect(id);
        state.outboxes.remove(&id);
        state.outboxes.len()
    };
    eprintln!("disconnect #{id}: {end} ({open} open)");
}

async fn serve(
    shared: &Shared,
    id: ConnId,
    websocket: WebSocketStream<TcpStream>,
    mut inbox: mpsc::Receiver<Vec<u8>>,
) -> End {
    let config = &shared.config;
    let (mut sink, mut stream): (Sink, Stream) = websocket.split();
    let mut bucket = Bucket::new(config.rate_limit, Instant::now());
    let mut ping = interval_at(Instant::now() + config.ping_interval, config.ping_interval);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_seen = Instant::now();
    let mut abuse = 0u32;

    loop {
        let wait = bucket.wait(Instant::now());
        let frame = tokio::select! {
            frame = stream.next(), if wait.is_zero() => frame,
            () = sleep(wait), if !wait.is_zero() => continue,
            Some(bytes) = inbox.recv() => {
                if let Err(end) = send(config.io_timeout, &mut sink, Message::binary(bytes)).await {
                    return end;
                }
                continue;
            }
            _ = ping.tick() => {
                if let Err(end) = send(config.io_timeout, &mut sink, Message::Ping(Default::default())).await {
                    return end;
                }
                continue;
            }
            () = sleep_until(last_seen + config.idle_timeout) => {
                close(config.io_timeout, &mut sink, CloseCode::Away, "idle").await;
                return End::Idle;
            }
        };
        last_seen = Instant::now();
        bucket.take();

        let (replies, abusive) = match frame {
            None => return End::Gone,
            Some(Err(WsError::Capacity(_))) => {
                close(
                    config.io_timeout,
                    &mut sink,
                    CloseCode::Size,
                    "message too large",
                )
                .await;
                return End::Oversized;
            }
            Some(Err(WsError::ConnectionClosed)) => return End::ClosedByClient,
            Some(Err(e)) => return End::Failed(e),
            Some(Ok(Message::Close(_))) => {
                // Flushes tungstenite's reply to the client's close frame.
                let _ = timeout(config.io_timeout, sink.close()).await;
                return End::ClosedByClient;
            }
            Some(Ok(Message::Binary(bytes))) => handle(shared, id, &bytes),
            Some(Ok(Message::Text(_))) => {
                // Only binary messages carry signaling.
                let error = SignalMessage::Error {
                    code: ErrorCode::Malformed,
                };
                (error.encode().into_iter().collect(), true)
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
        };
        for reply in replies {
            if let Err(end) = send(config.io_timeout, &mut sink, Message::binary(reply)).await {
                return end;
            }
        }
        if abusive {
            abuse += 1;
            if abuse >= config.max_abuse {
                close(
                    config.io_timeout,
                    &mut sink,
                    CloseCode::Policy,
                    "malformed messages",
                )
                .await;
                return End::Abuse;
            }
        }
    }
}

/// Run one message through the rendezvous: queue what goes to other connections, return what
/// goes back to this one, and whether the message broke the protocol.
fn handle(shared: &Shared, id: ConnId, bytes: &[u8]) -> (Vec<Vec<u8>>, bool) {
    let mut state = shared.lock();
    let handled = state.rendezvous.handle(id, bytes);
    let abusive = handled.is_abuse();
    let mut own = Vec::new();
    for (target, message) in handled.out {
        if target == id {
            own.push(message);
        } else if let Some(outbox) = state.outboxes.get(&target) {
            // A full queue means a client that does not read: its signal is dropped, and the
            // peers retry.
            let _ = outbox.try_send(message);
        }
    }
    (own, abusive)
}

async fn send(
    io_timeout: std::time::Duration,
    sink: &mut Sink,
    message: Message,
) -> Result<(), End> {
    match timeout(io_timeout, sink.send(message)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(End::Failed(e)),
        Err(_) => Err(End::WriteTimeout),
    }
}

async fn close(io_timeout: std::time::Duration, sink: &mut Sink, code: CloseCode, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = timeout(io_timeout, sink.send(Message::Close(Some(frame)))).await;
}
