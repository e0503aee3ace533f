//! The rendezvous server over real WebSockets on loopback: tokio-tungstenite clients against the
//! in-process server (and once against the binary). Run inside `unshare -n`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use p2panda_core::signal::*;
use p2panda_rendezvous::{Config, RateLimit, Server, Stats};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

const ROOM: Room = Room::from_bytes([1; ROOM_LEN]);
const WAIT: Duration = Duration::from_secs(5);

async fn start(config: Config) -> (Server, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::new(config);
    tokio::spawn(server.clone().serve(listener));
    (server, addr)
}

async fn client(addr: SocketAddr) -> Client {
    connect_async(format!("ws://{addr}/")).await.unwrap().0
}

async fn send(client: &mut Client, message: SignalMessage) {
    let bytes = message.encode().unwrap();
    client.send(Message::binary(bytes)).await.unwrap();
}

/// The next binary message, decoded (pings are answered by reading).
async fn recv(client: &mut Client) -> SignalMessage {
    let next = async {
        loop {
            match client.next().await {
                Some(Ok(Message::Binary(bytes))) => return SignalMessage::decode(&bytes).unwrap(),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a binary message, got {other:?}"),
            }
        }
    };
    timeout(WAIT, next).await.expect("no message within 5 s")
}

/// Read until the server closes the connection; the close code, if it sent one.
async fn closed(client: &mut Client) -> Option<CloseCode> {
    let end = async {
        loop {
            match client.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| f.code),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    };
    timeout(WAIT, end)
        .await
        .expect("connection still open after 5 s")
}

async fn join(client: &mut Client, room: Room, peer: SessionId) -> Vec<SessionId> {
    send(client, SignalMessage::Join { room, peer }).await;
    match recv(client).await {
        SignalMessage::Peers { room: r, peers } if r == room => peers,
        other => panic!("expected Peers, got {other:?}"),
    }
}

async fn wait_for(server: &Server, expected: Stats) {
    let start = Instant::now();
    while server.stats() != expected {
        assert!(
            start.elapsed() < WAIT,
            "stats {:?}, expected {expected:?}",
            server.stats()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn session(n: u8) -> SessionId {
    SessionId::from_bytes([n; SESSION_ID_LEN])
}

#[tokio::test]
async fn two_clients_meet_and_exchange_signals() {
    let (server, addr) = start(Config::default()).await;
    let (mut alice, mut bob) = (client(addr).await, client(addr).await);
    let (a, b) = (SessionId::random(), SessionId::random());
    assert_eq!(join(&mut alice, ROOM, a).await, vec![]);
    assert_eq!(join(&mut bob, ROOM, b).await, vec![a]);
    wait_for(
        &server,
        Stats {
            connections: 2,
            rooms: 1,
            members: 2,
        },
    )
    .await;

    let offer = SignalMessage::Signal {
        room: ROOM,
        to: a,
        from: b,
        data: b"offer".to_vec(),
    };
    send(&mut bob, offer.clone()).await;
    assert_eq!(recv(&mut alice).await, offer);
    let answer = SignalMessage::Signal {
        room: ROOM,
        to: b,
        from: a,
        data: vec![7; MAX_SIGNAL_DATA],
    };
    send(&mut alice, answer.clone()).await;
    assert_eq!(recv(&mut bob).await, answer);

    // Bob cannot speak as Alice, nor reach someone who is not there.
    let spoofed = SignalMessage::Signal {
        room: ROOM,
        to: b,
        from: a,
        data: vec![],
    };
    send(&mut bob, spoofed).await;
    assert_eq!(
        recv(&mut bob).await,
        SignalMessage::Error {
            code: ErrorCode::NotInRoom
        }
    );
    let nobody = SignalMessage::Signal {
        room: ROOM,
        to: session(9),
        from: b,
        data: vec![],
    };
    send(&mut bob, nobody).await;
    assert_eq!(
        recv(&mut bob).await,
        SignalMessage::Error {
            code: ErrorCode::UnknownPeer
        }
    );
}

#[tokio::test]
async fn oversized_message_closes_only_that_connection() {
    let (server, addr) = start(Config::default()).await;
    let (mut alice, mut bob, mut mallory) =
        (client(addr).await, client(addr).await, client(addr).await);
    join(&mut alice, ROOM, session(1)).await;
    join(&mut bob, ROOM, session(2)).await;
    join(&mut mallory, ROOM, session(3)).await;

    mallory
        .send(Message::binary(vec![0u8; MAX_SIGNAL_SIZE + 1]))
        .await
        .unwrap();
    let code = closed(&mut mallory).await;
    assert!(matches!(code, None | Some(CloseCode::Size)), "{code:?}");
    wait_for(
        &server,
        Stats {
            connections: 2,
            rooms: 1,
            members: 2,
        },
    )
    .await;

    // The others carry on, and newcomers no longer see the closed connection's session.
    let hello = SignalMessage::Signal {
        room: ROOM,
        to: session(1),
        from: session(2),
        data: b"hi".to_vec(),
    };
    send(&mut bob, hello.clone()).await;
    assert_eq!(recv(&mut alice).await, hello);
    let mut carol = client(addr).await;
    assert_eq!(
        join(&mut carol, ROOM, session(4)).await,
        vec![session(2), session(1)]
    );
}

#[tokio::test]
async fn malformed_messages_get_error_replies_then_a_close() {
    let (server, addr) = start(Config::default()).await;
    let mut client = client(addr).await;
    let malformed = SignalMessage::Error {
        code: ErrorCode::Malformed,
    };

    client
        .send(Message::binary(vec![0xff, 0x00, 0x01]))
        .await
        .unwrap();
    assert_eq!(recv(&mut client).await, malformed);
    client.send(Message::text("{\"join\": 1}")).await.unwrap();
    assert_eq!(recv(&mut client).await, malformed);
    // Still served after two mistakes.
    assert_eq!(join(&mut client, ROOM, session(1)).await, vec![]);

    // A third one closes the connection (and frees its room).
    send(
        &mut client,
        SignalMessage::Peers {
            room: ROOM,
            peers: vec![],
        },
    )
    .await;
    assert_eq!(recv(&mut client).await, malformed);
    assert_eq!(closed(&mut client).await, Some(CloseCode::Policy));
    wait_for(&server, Stats::default()).await;
}

#[tokio::test]
async fn server_holds_nothing_after_clients_go() {
    let (server, addr) = start(Config::default()).await;
    let (mut alice, mut bob) = (client(addr).await, client(addr).await);
    for n in 0..5 {
        let room = Room::from_bytes([n; ROOM_LEN]);
        join(&mut alice, room, session(1)).await;
        join(&mut bob, room, session(2)).await;
    }
    wait_for(
        &server,
        Stats {
            connections: 2,
            rooms: 5,
            members: 2,
        },
    )
    .await;

    // One leaves politely, the other just drops its TCP connection.
    alice.close(None).await.unwrap();
    wait_for(
        &server,
        Stats {
            connections: 1,
            rooms: 5,
            members: 1,
        },
    )
    .await;
    drop(bob);
    wait_for(&server, Stats::default()).await;

    // A new client finds empty rooms.
    let mut carol = client(addr).await;
    assert_eq!(
        join(&mut carol, Room::from_bytes([0; ROOM_LEN]), session(1)).await,
        vec![]
    );
}

#[tokio::test]
async fn idle_connections_are_closed_and_free_their_slots() {
    let config = Config {
        idle_timeout: Duration::from_millis(400),
        ping_interval: Duration::from_millis(100),
        ..Config::default()
    };
    let (server, addr) = start(config).await;
    let (mut sleepy, mut awake) = (client(addr).await, client(addr).await);
    join(&mut sleepy, ROOM, session(1)).await;
    join(&mut awake, ROOM, session(2)).await;

    // `awake` keeps reading, so it answers the server's pings; `sleepy` does not read at all.
    let until = tokio::time::Instant::now() + Duration::from_millis(1200);
    let mut pings = 0;
    while let Ok(frame) = tokio::time::timeout_at(until, awake.next()).await {
        match frame {
            Some(Ok(Message::Ping(_))) => pings += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(pings >= 5, "{pings} pings");
    wait_for(
        &server,
        Stats {
            connections: 1,
            rooms: 1,
            members: 1,
        },
    )
    .await;
    assert_eq!(join(&mut awake, ROOM, session(2)).await, vec![]);
    // Its close frame may be lost: the client's late pongs meet a closed socket and reset it.
    let code = closed(&mut sleepy).await;
    assert!(matches!(code, None | Some(CloseCode::Away)), "{code:?}");
}

#[tokio::test]
async fn rate_limit_slows_a_flooding_client_without_dropping() {
    let limited = Config {
        rate_limit: Some(RateLimit {
            per_second: 20,
            burst: 5,
        }),
        ..Config::default()
    };
    let unlimited = Config {
        rate_limit: None,
        ..Config::default()
    };
    let mut elapsed = Vec::new();
    for config in [limited, unlimited] {
        let (_server, addr) = start(config).await;
        let mut client = client(addr).await;
        let start = Instant::now();
        for _ in 0..25 {
            send(
                &mut client,
                SignalMessage::Join {
                    room: ROOM,
                    peer: session(1),
                },
            )
            .await;
        }
        for _ in 0..25 {
            assert!(matches!(
                recv(&mut client).await,
                SignalMessage::Peers { .. }
            ));
        }
        elapsed.push(start.elapsed());
    }
    // 20 messages beyond the burst at 20 per second: about one second.
    assert!(elapsed[0] >= Duration::from_millis(900), "{elapsed:?}");
    assert!(elapsed[1] < Duration::from_millis(500), "{elapsed:?}");
}

#[tokio::test]
async fn connections_beyond_the_limit_are_refused() {
    let config = Config {
        max_connections: 1,
        ..Config::default()
    };
    let (server, addr) = start(config).await;
    let first = client(addr).await;
    wait_for(
        &server,
        Stats {
            connections: 1,
            rooms: 0,
            members: 0,
        },
    )
    .await;
    assert!(connect_async(format!("ws://{addr}/")).await.is_err());
    drop(first);
    wait_for(&server, Stats::default()).await;
    let mut again = client(addr).await;
    assert_eq!(join(&mut again, ROOM, session(1)).await, vec![]);
}

#[tokio::test]
async fn the_binary_prints_its_port_and_logs_no_contents() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_p2panda-rendezvous"))
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {line:?}"))
        .parse()
        .unwrap();
    assert_ne!(addr.port(), 0);

    let room = room_of(&p2panda_core::hash::Hash::digest(b"a festival"));
    let (mut alice, mut bob) = (client(addr).await, client(addr).await);
    join(&mut alice, room, session(1)).await;
    assert_eq!(join(&mut bob, room, session(2)).await, vec![session(1)]);
    alice.close(None).await.unwrap();
    bob.close(None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    child.kill().unwrap();
    child.wait().unwrap();

    let log: Vec<String> = BufReader::new(child.stderr.take().unwrap())
        .lines()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(log.len(), 4, "{log:#?}");
    assert_eq!(log.iter().filter(|l| l.starts_with("connect #")).count(), 2);
    assert_eq!(
        log.iter().filter(|l| l.starts_with("disconnect #")).count(),
        2
    );
    let room_hex = room.to_string();
    assert!(log
        .iter()
        .all(|l| !l.contains(&room_hex[..8]) && !l.contains("127.0.0.1")));
}
