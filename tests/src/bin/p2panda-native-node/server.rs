//! The WebSocket connection to the rendezvous: binary messages out and in, one task owning it.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use p2panda_core::signal::MAX_SIGNAL_SIZE;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

/// Messages waiting to be written to the rendezvous; more are dropped (dials time out).
const OUTBOX: usize = 64;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What the connection task reports.
#[derive(Debug)]
pub enum FromServer {
    /// One binary message (an encoded `SignalMessage`, not checked yet).
    Message(Vec<u8>),
    /// The connection is gone; why.
    Closed(String),
}

/// Connects to the rendezvous at `url` and spawns the task that owns the connection. Returns
/// where to put outgoing messages and where incoming ones (and the end) are reported.
pub async fn connect(
    url: &str,
) -> Result<(mpsc::Sender<Vec<u8>>, mpsc::Receiver<FromServer>), String> {
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
    tokio::spawn(async move {
        let (mut sink, mut stream) = socket.split();
        let end = loop {
            tokio::select! {
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
    Ok((outbox, inbox))
}
