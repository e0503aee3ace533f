//! Runs [`p2panda_s3::test_server::TestServer`] for the browser tests: serves the directory given
//! with `--root` (or a new temporary one) on 127.0.0.1 and prints one JSON line,
//! `{"endpoint", "bucket", "accessKeyId", "secretAccessKey", "root"}`, then runs until killed.

use p2panda_s3::test_server::{TestServer, ACCESS_KEY, BUCKET, SECRET_KEY};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let root = match (args.next().as_deref(), args.next()) {
        (Some("--root"), Some(dir)) => std::path::PathBuf::from(dir),
        (None, _) => std::env::temp_dir().join(format!("p2panda-s3-{}", std::process::id())),
        _ => {
            eprintln!("usage: p2panda-s3-test-server [--root DIR]");
            std::process::exit(2);
        }
    };
    let server = match TestServer::start(root).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("p2panda-s3-test-server: {error}");
            std::process::exit(1);
        }
    };
    println!(
        "{{\"endpoint\":\"{}\",\"bucket\":\"{BUCKET}\",\"accessKeyId\":\"{ACCESS_KEY}\",\"secretAccessKey\":\"{SECRET_KEY}\",\"root\":{:?}}}",
        server.endpoint(),
        server.root.display().to_string(),
    );
    std::future::pending::<()>().await;
}
