//! The WebSocket connection to the rendezvous: binary messages out and in, one task owning it.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use p2panda_core::signal::MAX_SIGNAL_SIZE;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

/// Messages waiting to be written to the rendezvous; more are dropped (dials time out).
const OUTBOX: usize = 64;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long closing waits for the rendezvous to confirm.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// What the connection task reports.
#[derive(Debug)]
pub enum FromServer {
    /// One binary message (an encoded `SignalMessage`, not checked yet).
    Message(Vec<u8>),
    /// The connection is gone; why.
    Closed(String),
}

/// Ends the connection with a WebSocket close handshake.
pub struct Closer {
    close: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Closer {
    /// Sends the close frame and waits (boundedly) for the connection task to finish.
    pub async fn close(self) {
        let _ = self.close.send(());
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, self.task).await;
    }
}

/// Connects to the rendezvous at `url` and spawns the task that owns the connection. Returns
/// where to put outgoing messages, where incoming ones (and the end) are reported, and the
/// handle that closes it.
pub async fn connect(
    url: &str,
) -> Result<(mpsc::Sender<Vec<u8>>, mpsc::Receiver<FromServer>, Closer), String> {
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_SIGNAL_SIZE))
        .max_frame_size(Some(MAX_SIGNAL_SIZE));
    let connecting = tokio_tungstenite::connect_async_with_config(url, Some(config), true);
    let (socket, _) = tokio::time::timeout(CONNECT_TIMEOUT, connecting)
        .await
        .map_err(|_| format!("no connection within {CONNECT_TIMEOUT:?}"))?
        .map_err(|e| e.to_string())?;
    let (outbox, mut outgoing) = mpsc::channel::<Vec<u8>>(OUTBOX);
    let (incoming, inbox) = mpsc::channel(OUTBOX);
    let (close, mut closing) = oneshot::channel();
    let task = tokio::spawn(async move {
        let (mut sink, mut stream) = socket.split();
        let end = loop {
            tokio::select! {
                _ = &mut closing => {
                    let _ = sink.close().await;
                    // Read until the rendezvous confirms, so the handshake completes.
                    while let Some(Ok(message)) = stream.next().await {
                        if message.is_close() {
                            break;
                        }
                    }
                    break "closed by this node".to_owned();
                }
                message = outgoing.recv() => {
                    let Some(message) = message else {
                        let _ = sink.close().await;
                        break "closed by this node".to_owned();
                    };
                    if let Err(e) = sink.send(Message::binary(message)).await {
                        break e.to_string();
                    }
                }
                message = stream.next() => match message {
                    Some(Ok(Message::Binary(bytes))) => {
                        if incoming.send(FromServer::Message(bytes.to_vec())).await.is_err() {
                            break "nobody reading".to_owned();
                        }
                    }
                    // Pings are answered by the library as it reads.
                    Some(Ok(Message::Close(_))) | None => break "closed by the rendezvous".to_owned(),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => break e.to_string(),
                },
            }
        };
        let _ = incoming.send(FromServer::Closed(end)).await;
    });
    Ok((outbox, inbox, Closer { close, task }))
}
