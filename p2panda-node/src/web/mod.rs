//! The node's one public port: the static app files over HTTP, and the rendezvous as a
//! WebSocket under [`RENDEZVOUS_PATH`] on the same port.
//!
//! The rendezvous itself ([`p2panda_rendezvous::Server`]) runs in this process on a private
//! loopback port; a WebSocket upgrade to [`RENDEZVOUS_PATH`] is handed to it byte for byte (the
//! request head already read included), so browsers need only the one address.
//!
//! `GET /` without a query string redirects to `/?rendezvous=ws://HOST/rendezvous` (`wss` when
//! a proxy in front says `X-Forwarded-Proto: https`), so the app finds this rendezvous wherever
//! the node is reached from.

pub mod files;
pub mod http;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use http::{read_request, HttpError, Request, Response};

/// Where the rendezvous WebSocket is served.
pub const RENDEZVOUS_PATH: &str = "/rendezvous";
/// A connection idle this long between requests is closed.
const IDLE: Duration = Duration::from_secs(30);
/// Connections served at once (rendezvous WebSockets included); more are closed at once, so a
/// flood cannot take every file descriptor.
const MAX_CONNECTIONS: usize = 4096;

/// What the web server serves.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The app's directory (canonical), if any: without one only the rendezvous is served.
    pub app: Option<PathBuf>,
    /// The in-process rendezvous to hand WebSocket upgrades to, if any.
    pub rendezvous: Option<SocketAddr>,
}

/// Accepts connections on `listener` until the task is dropped; each is served on its own task.
pub async fn serve(listener: TcpListener, config: WebConfig) {
    let config = Arc::new(config);
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                // Over the limit the connection is dropped (closed) unanswered.
                if let Ok(slot) = slots.clone().try_acquire_owned() {
                    let config = config.clone();
                    tokio::spawn(async move {
                        connection(stream, config).await;
                        drop(slot);
                    });
                }
            }
            Err(e) => {
                // Out of file descriptors and the like: pause, then go on.
                eprintln!("p2panda-node: accepting an HTTP connection: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Serves requests on one connection until it closes, idles or asks for the rendezvous.
async fn connection(mut stream: TcpStream, config: Arc<WebConfig>) {
    let mut buffer = Vec::new();
    loop {
        let request = match tokio::time::timeout(IDLE, read_request(&mut stream, &mut buffer)).await
        {
            Ok(Ok(Some(request))) => request,
            Ok(Ok(None)) | Err(_) | Ok(Err(HttpError::Io(_) | HttpError::Truncated)) => return,
            Ok(Err(HttpError::TooLarge)) => {
                let response = Response::text(413, "request head too large");
                let _ = response.write(&mut stream, false, false).await;
                return;
            }
            Ok(Err(HttpError::Malformed(_))) => {
                let response = Response::text(400, "malformed request");
                let _ = response.write(&mut stream, false, false).await;
                return;
            }
        };
        if request.path == RENDEZVOUS_PATH {
            return upgrade(stream, &request, buffer, &config).await;
        }
        let keep_alive = request.keep_alive() && !request.has_body();
        let response = respond(&request, &config).await;
        let head_only = request.method == "HEAD";
        if response
            .write(&mut stream, head_only, keep_alive)
            .await
            .is_err()
            || !keep_alive
        {
            return;
        }
    }
}

/// Hands a WebSocket upgrade to the in-process rendezvous, replaying the request's bytes.
async fn upgrade(mut stream: TcpStream, request: &Request, rest: Vec<u8>, config: &WebConfig) {
    let Some(rendezvous) = config.rendezvous else {
        let _ = Response::text(404, "no rendezvous here")
            .write(&mut stream, false, false)
            .await;
        return;
    };
    if !request.header_has("upgrade", "websocket") {
        let mut response = Response::text(426, "the rendezvous speaks WebSocket");
        response.headers.push(("upgrade", "websocket".into()));
        let _ = response.write(&mut stream, false, false).await;
        return;
    }
    let Ok(mut upstream) = TcpStream::connect(rendezvous).await else {
        let _ = Response::text(502, "the rendezvous is not running")
            .write(&mut stream, false, false)
            .await;
        return;
    };
    let _ = upstream.set_nodelay(true);
    let _ = stream.set_nodelay(true);
    if upstream.write_all(&head_bytes(request)).await.is_err()
        || upstream.write_all(&rest).await.is_err()
    {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut stream, &mut upstream).await;
}

/// The request head again, as the rendezvous expects to read it.
fn head_bytes(request: &Request) -> Vec<u8> {
    let target = match &request.query {
        Some(query) => format!("{}?{query}", request.path),
        None => request.path.clone(),
    };
    let mut head = format!("{} {target} HTTP/1.{}\r\n", request.method, request.version);
    for (name, value) in &request.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// The response to a request for a file.
async fn respond(request: &Request, config: &WebConfig) -> Response {
    if request.method != "GET" && request.method != "HEAD" {
        let mut response = Response::text(405, "only GET and HEAD");
        response.headers.push(("allow", "GET, HEAD".into()));
        return response;
    }
    let Some(root) = &config.app else {
        return Response::text(404, "no app is served here");
    };
    if request.path == "/" && request.query.is_none() && config.rendezvous.is_some() {
        if let Some(location) = app_location(request) {
            let mut response = Response::text(302, "the app, with this node's rendezvous");
            response.headers.push(("location", location));
            return response;
        }
    }
    let not_found = || Response::text(404, "not found");
    let Ok(mut path) = files::resolve(root, &request.path) else {
        return not_found();
    };
    if tokio::fs::metadata(&path).await.is_ok_and(|m| m.is_dir()) {
        path.push("index.html");
    }
    // Resolve symbolic links and check the target is still under the app directory.
    let Ok(real) = tokio::fs::canonicalize(&path).await else {
        return not_found();
    };
    if !real.starts_with(root) {
        return not_found();
    }
    match tokio::fs::read(&real).await {
        Ok(body) => Response {
            status: 200,
            headers: vec![
                ("content-type", files::content_type(&real).into()),
                // The app is rebuilt in place; revalidating costs little on a node like this.
                ("cache-control", "no-cache".into()),
            ],
            body,
        },
        Err(_) => not_found(),
    }
}

/// `/?rendezvous=ws://HOST/rendezvous` for the host the client used, if it is a plain host
/// name or address (anything else gets the page without the redirect).
fn app_location(request: &Request) -> Option<String> {
    let host = request.header("host")?;
    let plain = !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    if !plain {
        return None;
    }
    let secure = request
        .header("x-forwarded-proto")
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    let scheme = if secure { "wss" } else { "ws" };
    let url = format!("{scheme}://{host}{RENDEZVOUS_PATH}");
    Some(format!("/?rendezvous={}", query_escape(&url)))
}

/// Escapes a query value (only what a `ws://host:port/path` URL contains needs it).
fn query_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3 / 2);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str, headers: &[(&str, &str)]) -> Request {
        Request {
            method: "GET".into(),
            path: path.into(),
            query: None,
            version: 1,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn the_redirect_names_this_host_s_rendezvous() {
        let request = get("/", &[("host", "127.0.0.1:8080")]);
        assert_eq!(
            app_location(&request).as_deref(),
            Some("/?rendezvous=ws%3A%2F%2F127.0.0.1%3A8080%2Frendezvous")
        );
        let proxied = get(
            "/",
            &[("host", "fest.example"), ("x-forwarded-proto", "https")],
        );
        assert_eq!(
            app_location(&proxied).as_deref(),
            Some("/?rendezvous=wss%3A%2F%2Ffest.example%2Frendezvous")
        );
        assert_eq!(app_location(&get("/", &[("host", "a\"b")])), None);
        assert_eq!(app_location(&get("/", &[])), None);
    }

    #[test]
    fn the_upgrade_request_is_replayed_as_it_came() {
        let mut request = get(
            "/rendezvous",
            &[
                ("host", "h"),
                ("upgrade", "websocket"),
                ("connection", "Upgrade"),
            ],
        );
        request.query = Some("a=1".into());
        let head = String::from_utf8(head_bytes(&request)).expect("text");
        assert_eq!(
            head,
            "GET /rendezvous?a=1 HTTP/1.1\r\nhost: h\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n"
        );
    }
}
