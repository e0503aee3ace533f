//! A real S3-compatible server for tests (feature `test-server`): s3s-fs (SigV4 auth, objects as
//! files) on 127.0.0.1, with one empty bucket, answering browsers' CORS requests the way a bucket
//! with a CORS rule for every origin does (s3s does not implement bucket CORS rules itself).
//! The binary `p2panda-s3-test-server` runs it for the browser tests.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, ORIGIN};
use hyper::service::Service as HyperService;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;

/// The access key the server accepts.
pub const ACCESS_KEY: &str = "festival-access";
/// Its secret.
pub const SECRET_KEY: &str = "festival-secret-key-0123456789";
/// The bucket made at start.
pub const BUCKET: &str = "mailbox";

/// Sees each request's method and path before the server does (for fault injection).
pub type Hook = Arc<dyn Fn(&str, &str) + Send + Sync>;

type Body = http_body_util::combinators::BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// A running server; it stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    /// Where s3s-fs keeps buckets (directories) and objects (files).
    pub root: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// Serve `root` (made if missing, with the bucket [`BUCKET`] in it) on 127.0.0.1.
    pub async fn start(root: PathBuf) -> std::io::Result<TestServer> {
        Self::start_with_hook(root, None).await
    }

    /// The same, with `hook` shown every request first.
    pub async fn start_with_hook(root: PathBuf, hook: Option<Hook>) -> std::io::Result<TestServer> {
        std::fs::create_dir_all(root.join(BUCKET))?;
        let fs =
            s3s_fs::FileSystem::new(&root).map_err(|e| std::io::Error::other(format!("{e:?}")))?;
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (service, hook) = (service.clone(), hook.clone());
                let handler = hyper::service::service_fn(move |request: Request<Incoming>| {
                    if let Some(hook) = &hook {
                        hook(request.method().as_str(), request.uri().path());
                    }
                    let service = service.clone();
                    async move { Ok::<_, Infallible>(with_cors(&service, request).await) }
                });
                tokio::spawn(async move {
                    let _ = Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(socket), handler)
                        .await;
                });
            }
        });
        Ok(TestServer { addr, root, task })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A client configuration for the bucket, with the accepted credentials.
    pub fn config(&self) -> crate::S3Config {
        crate::S3Config::new(&self.endpoint(), BUCKET, ACCESS_KEY, SECRET_KEY)
    }

    /// The bucket's directory.
    pub fn bucket_dir(&self) -> PathBuf {
        self.root.join(BUCKET)
    }

    /// Every file under `dir` (objects and s3s-fs's own metadata) with its bytes.
    pub fn files_in(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut files = Vec::new();
        walk(dir, &mut files);
        files
    }
}

fn walk(dir: &Path, files: &mut Vec<(PathBuf, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, files);
        } else if let Ok(bytes) = std::fs::read(&path) {
            files.push((path, bytes));
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Answer a preflight, or pass the request on and allow the origin to read the answer.
async fn with_cors(
    service: &s3s::service::S3Service,
    request: Request<Incoming>,
) -> Response<Body> {
    let origin = request.headers().get(ORIGIN).cloned();
    let requested = request
        .headers()
        .get("access-control-request-headers")
        .cloned();
    let mut response = if request.method() == Method::OPTIONS && origin.is_some() {
        let mut response = Response::new(empty());
        *response.status_mut() = StatusCode::NO_CONTENT;
        let headers = response.headers_mut();
        headers.insert(
            "access-control-allow-methods",
            HeaderValue::from_static("GET, PUT, HEAD, DELETE"),
        );
        if let Some(requested) = requested {
            headers.insert("access-control-allow-headers", requested);
        }
        headers.insert("access-control-max-age", HeaderValue::from_static("600"));
        response
    } else {
        match HyperService::call(service, request).await {
            Ok(response) => response.map(|body| body.map_err(Into::into).boxed()),
            Err(error) => {
                let mut response = Response::new(
                    Full::new(Bytes::from(format!("{error:?}")))
                        .map_err(Into::into)
                        .boxed(),
                );
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                response
            }
        }
    };
    if let Some(origin) = origin {
        let headers = response.headers_mut();
        headers.insert("access-control-allow-origin", origin);
        headers.insert(
            "access-control-expose-headers",
            HeaderValue::from_static("ETag"),
        );
    }
    response
}

fn empty() -> Body {
    Full::new(Bytes::new()).map_err(Into::into).boxed()
}
