//! One command serves everything: `p2panda-node --listen ... --app DIR` serves the app's files
//! with the right types, refuses to leave the app directory, and its rendezvous (on the same
//! port) lets peers meet, the node itself among them.
//!
//! Opens WebRTC connections, so run it inside a loopback-only network namespace (as root),
//! after building outside it:
//!
//! ```sh
//! cargo test -p p2panda-node --test serving --no-run
//! unshare -n sh -c 'ip link set lo up && exec cargo test --offline -p p2panda-node --test serving'
//! ```

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{args, NodeProcess};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A response: status, headers (names lowercased) and body.
struct Reply {
    status: u16,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

/// Sends `request` as raw bytes (the path exactly as given, nothing normalised) on a new
/// connection and reads the response until the server closes it.
async fn raw(addr: &str, request: &str) -> Reply {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send request");
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await.expect("read response");
    parse(&bytes)
}

fn parse(bytes: &[u8]) -> Reply {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = std::str::from_utf8(&bytes[..end]).expect("text head");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: bytes[end + 4..].to_vec(),
    }
}

async fn get(addr: &str, path: &str) -> Reply {
    raw(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )
    .await
}

/// An app directory with one file of each kind, next to a secret that must not be served.
fn app(root: &Path) -> std::path::PathBuf {
    let app = root.join("app");
    std::fs::create_dir_all(app.join("assets")).expect("app dir");
    std::fs::write(root.join("secret.txt"), "TOP SECRET").expect("secret");
    std::fs::write(app.join("index.html"), "<!doctype html><title>app</title>").expect("html");
    std::fs::write(app.join("assets/app.wasm"), b"\0asm\x01\0\0\0").expect("wasm");
    std::fs::write(app.join("assets/index.js"), "export {};").expect("js");
    std::fs::write(app.join("assets/style.css"), "body{}").expect("css");
    std::fs::write(app.join("icon.svg"), "<svg/>").expect("svg");
    std::fs::write(app.join("manifest.json"), "{}").expect("json");
    std::os::unix::fs::symlink(root.join("secret.txt"), app.join("link-out")).expect("symlink");
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_command_serves_the_app_and_a_rendezvous_where_peers_meet() {
    let temp = tempfile::tempdir().expect("temp dir");
    let app = app(temp.path());
    let data = temp.path().join("data");
    let mut node = NodeProcess::start(
        "server",
        &args(&[
            "--data",
            &data.display().to_string(),
            "--listen",
            "127.0.0.1:0",
            "--app",
            &app.display().to_string(),
        ]),
    )
    .await;
    let addr = node.ready["listen"].as_str().expect("listen").to_owned();
    assert_eq!(node.ready["url"], format!("http://{addr}/"));

    // The bare address sends the app to this node's rendezvous.
    let root = get(&addr, "/").await;
    assert_eq!(root.status, 302);
    let expected = format!(
        "/?rendezvous=ws%3A%2F%2F{}%2Frendezvous",
        addr.replace(':', "%3A")
    );
    assert_eq!(root.headers["location"], expected);

    for (path, kind, body) in [
        (
            "/?rendezvous=x",
            "text/html; charset=utf-8",
            &b"<!doctype html><title>app</title>"[..],
        ),
        (
            "/index.html",
            "text/html; charset=utf-8",
            b"<!doctype html><title>app</title>",
        ),
        ("/assets/app.wasm", "application/wasm", b"\0asm\x01\0\0\0"),
        (
            "/assets/index.js",
            "text/javascript; charset=utf-8",
            b"export {};",
        ),
        ("/assets/style.css", "text/css; charset=utf-8", b"body{}"),
        ("/icon.svg", "image/svg+xml", b"<svg/>"),
        ("/manifest.json", "application/json", b"{}"),
        ("/assets/", "text/html; charset=utf-8", b""),
    ] {
        let reply = get(&addr, path).await;
        if path == "/assets/" {
            assert_eq!(reply.status, 404, "a directory without index.html");
            continue;
        }
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(reply.headers["content-type"], kind, "{path}");
        assert_eq!(reply.body, body, "{path}");
        assert_eq!(reply.headers["content-length"], body.len().to_string());
    }

    // HEAD: the length, no body. Two requests on one kept-alive connection.
    let head = raw(
        &addr,
        &format!("HEAD /assets/app.wasm HTTP/1.1\r\nHost: {addr}\r\n\r\nGET /icon.svg HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert_eq!(head.status, 200);
    assert_eq!(head.headers["content-length"], "8");
    assert!(
        head.body.starts_with(b"HTTP/1.1 200"),
        "the second response follows at once"
    );
    assert!(head.body.ends_with(b"<svg/>"));

    // Nothing outside the app directory, however it is asked for.
    for path in [
        "/../secret.txt",
        "/assets/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/assets/%2E%2E%2F%2E%2E%2Fsecret.txt",
        "/..%5csecret.txt",
        "/link-out",
        "/nope.html",
        "/%zz",
    ] {
        let reply = get(&addr, path).await;
        assert_eq!(reply.status, 404, "{path}");
        assert!(
            !String::from_utf8_lossy(&reply.body).contains("SECRET"),
            "{path}"
        );
    }
    let post = raw(
        &addr,
        &format!("POST /index.html HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert_eq!(post.status, 405);
    assert_eq!(
        get(&addr, "/rendezvous").await.status,
        426,
        "WebSocket only"
    );
    let garbage = raw(&addr, "\x16\x03\x01 not http\r\n\r\n").await;
    assert_eq!(garbage.status, 400);

    // Two peers meet through the rendezvous on the same port and sync.
    let rendezvous = format!("ws://{addr}/rendezvous");
    let mut maker = NodeProcess::start(
        "maker",
        &args(&[
            "--rendezvous",
            &rendezvous,
            "--create-festival",
            "Meet",
            "--entries",
            "50",
        ]),
    )
    .await;
    let festival = maker.festival();
    let mut joiner = NodeProcess::start(
        "joiner",
        &args(&["--rendezvous", &rendezvous, "--festival", &festival]),
    )
    .await;
    let link = joiner.expect(|l| l["event"] == "link").await;
    assert_eq!(link["via"], "rendezvous");
    joiner.stored(50).await;

    // The node meets them through its own rendezvous once it joins, and keeps what it gets.
    let joined = node
        .command(json!({ "cmd": "join", "festival": festival }))
        .await;
    assert_eq!(joined["ok"], true, "{joined}");
    node.stored(50).await;
    let status = node
        .command(json!({ "cmd": "status", "festival": festival }))
        .await;
    assert_eq!(status["entries"], 50);
    assert_eq!(status["festivalKnown"], true);
    let made = maker
        .command(json!({ "cmd": "publish-resource", "name": "Late tent" }))
        .await;
    assert_eq!(made["ok"], true);
    node.stored(51).await;
    joiner.quit().await;
    maker.quit().await;
    node.quit().await;

    // And it still has all of it after a restart.
    let again = NodeProcess::start(
        "server again",
        &args(&[
            "--data",
            &data.display().to_string(),
            "--listen",
            "127.0.0.1:0",
        ]),
    )
    .await;
    assert_eq!(again.ready["entries"], 51);
    assert_eq!(again.ready["festival"], festival.as_str());
    again.quit().await;
}
