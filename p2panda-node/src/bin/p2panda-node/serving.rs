//! Serving mode: the rendezvous in this process on a private loopback port, and the public HTTP
//! port with the app and the rendezvous WebSocket (see [`p2panda_node::web`]).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use p2panda_node::web::{self, WebConfig, RENDEZVOUS_PATH};
use tokio::net::TcpListener;

/// Why serving could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("--app {}: {reason}", path.display())]
    App { path: PathBuf, reason: String },
}

/// What is being served.
pub struct Served {
    /// The public HTTP address (with the real port when `--listen` asked for port 0).
    pub listen: SocketAddr,
    /// Where the node itself reaches the rendezvous (directly, not through the HTTP port).
    pub rendezvous_url: String,
    /// The app's directory, if one is served.
    pub app: Option<PathBuf>,
}

impl Served {
    /// The page to open in a browser: this machine's address when listening on all interfaces.
    pub fn url(&self) -> String {
        let mut shown = self.listen;
        if shown.ip().is_unspecified() {
            shown.set_ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
        }
        format!("http://{shown}/")
    }

    /// The rendezvous URL browsers use.
    pub fn public_rendezvous(&self) -> String {
        let url = self.url();
        format!("ws{}{}", &url["http".len()..url.len() - 1], RENDEZVOUS_PATH)
    }
}

fn listen_error(addr: SocketAddr) -> impl FnOnce(std::io::Error) -> ServeError {
    move |source| ServeError::Listen { addr, source }
}

/// Checks `app` is a readable directory and returns its canonical path.
fn app_dir(app: &Path) -> Result<PathBuf, ServeError> {
    let refuse = |reason: String| ServeError::App {
        path: app.to_path_buf(),
        reason,
    };
    let real = std::fs::canonicalize(app).map_err(|e| refuse(e.to_string()))?;
    if !real.is_dir() {
        return Err(refuse("not a directory".into()));
    }
    if !real.join("index.html").is_file() {
        eprintln!(
            "p2panda-node: warning: {} has no index.html (build the app first: ./scripts/build-www.sh)",
            real.display()
        );
    }
    Ok(real)
}

/// Starts the in-process rendezvous and the HTTP server on `listen`; both run until the
/// process ends.
pub async fn start(listen: SocketAddr, app: Option<&Path>) -> Result<Served, ServeError> {
    let app = app.map(app_dir).transpose()?;
    let private = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let inner = TcpListener::bind(private)
        .await
        .map_err(listen_error(private))?;
    let inner_addr = inner.local_addr().map_err(listen_error(private))?;
    let public = TcpListener::bind(listen)
        .await
        .map_err(listen_error(listen))?;
    let listen = public.local_addr().map_err(listen_error(listen))?;
    let server = p2panda_rendezvous::Server::new(p2panda_rendezvous::Config::default());
    tokio::spawn(server.serve(inner));
    let config = WebConfig {
        app: app.clone(),
        rendezvous: Some(inner_addr),
    };
    tokio::spawn(web::serve(public, config));
    Ok(Served {
        listen,
        rendezvous_url: format!("ws://{inner_addr}"),
        app,
    })
}
