//! `p2panda-rendezvous [--listen ADDR]`: run the rendezvous server. The first line on stdout is
//! `listening on ADDR` (with the real port when ADDR ends in `:0`); connects and disconnects are
//! logged to stderr.

use std::process::ExitCode;

use p2panda_rendezvous::{Config, Server, DEFAULT_LISTEN};

const USAGE: &str = "usage: p2panda-rendezvous [--listen ADDR]   (default 127.0.0.1:4040)";

fn main() -> ExitCode {
    let mut listen = DEFAULT_LISTEN.to_string();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--listen", Some(addr)) => listen = addr,
            ("--help" | "-h", _) => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let listener = match tokio::net::TcpListener::bind(&listen).await {
            Ok(listener) => listener,
            Err(e) => {
                eprintln!("cannot listen on {listen}: {e}");
                return ExitCode::FAILURE;
            }
        };
        match listener.local_addr() {
            Ok(addr) => println!("listening on {addr}"),
            Err(e) => {
                eprintln!("cannot read the listening address: {e}");
                return ExitCode::FAILURE;
            }
        }
        Server::new(Config::default()).serve(listener).await;
        ExitCode::SUCCESS
    })
}
