//! The command line.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;

use p2panda_core::hash::Hash;
use p2panda_node::native_peer::Misbehaviour;

/// Where the node serves the app and its rendezvous unless told otherwise: this machine only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

pub const USAGE: &str = "\
usage: p2panda-node [--data DIR] [--listen ADDR] [--app DIR] [--join FESTIVAL_HEX]...
       p2panda-node --rendezvous ws://127.0.0.1:PORT[/PATH] [--data DIR] [--join FESTIVAL_HEX]...

  --data DIR          keep the key, entries and joined festivals in DIR (created if missing);
                      without it the node keeps nothing
  --listen ADDR       serve HTTP on ADDR (default 127.0.0.1:8080): the app and the rendezvous
                      WebSocket at /rendezvous
  --app DIR           the static app to serve (e.g. www/dist)
  --join HEX          replicate this festival (remembered with --data); may be repeated
  --rendezvous URL    use that (loopback) rendezvous instead of serving one; no HTTP server
  --festival HEX      the same as --join
test flags:
  --create-festival NAME [--entries N]   start with a new festival of N entries (default 1)
  --misbehave garbage|oversized|forged   break the sync protocol on purpose";

/// Where the node meets its peers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Meet {
    /// Serve HTTP (the app, if any, and the rendezvous) on this address, and meet there.
    Serve {
        listen: SocketAddr,
        app: Option<PathBuf>,
    },
    /// Meet through this rendezvous URL; serve nothing.
    Rendezvous(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    pub data: Option<PathBuf>,
    pub meet: Meet,
    /// Festivals to join, in the order given.
    pub join: Vec<Hash>,
    /// A festival to create: its name and how many entries it holds in all.
    pub create: Option<(String, usize)>,
    pub misbehave: Option<Misbehaviour>,
}

/// Why the command line was refused.
#[derive(Debug, thiserror::Error)]
pub enum ArgsError {
    #[error("unknown argument {0}")]
    Unknown(String),
    #[error("{0} needs a value")]
    NoValue(String),
    #[error("{flag} {value}: {reason}")]
    BadValue {
        flag: &'static str,
        value: String,
        reason: String,
    },
    #[error("{0} given twice")]
    Twice(&'static str),
    #[error("--rendezvous uses another rendezvous: it does not go with --listen or --app")]
    ServeAndRendezvous,
    #[error("--entries only goes with --create-festival")]
    EntriesWithoutCreate,
    #[error("help requested")]
    Help,
}

fn bad(flag: &'static str, value: &str, reason: impl ToString) -> ArgsError {
    ArgsError::BadValue {
        flag,
        value: value.to_owned(),
        reason: reason.to_string(),
    }
}

fn once<T>(slot: &mut Option<T>, flag: &'static str, value: T) -> Result<(), ArgsError> {
    match slot.replace(value) {
        Some(_) => Err(ArgsError::Twice(flag)),
        None => Ok(()),
    }
}

const FLAGS: [&str; 9] = [
    "--data",
    "--listen",
    "--app",
    "--join",
    "--festival",
    "--rendezvous",
    "--create-festival",
    "--entries",
    "--misbehave",
];

pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, ArgsError> {
    let (mut data, mut listen, mut app, mut rendezvous) = (None, None, None, None);
    let (mut create, mut entries, mut misbehave) = (None, None, None);
    let mut join = Vec::new();
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Err(ArgsError::Help);
        }
        let Some(&flag) = FLAGS.iter().find(|f| **f == flag) else {
            return Err(ArgsError::Unknown(flag));
        };
        let value = args.next().ok_or_else(|| ArgsError::NoValue(flag.into()))?;
        match flag {
            "--data" => once(&mut data, flag, PathBuf::from(&value))?,
            "--listen" => {
                let addr = SocketAddr::from_str(&value).map_err(|e| bad(flag, &value, e))?;
                once(&mut listen, flag, addr)?;
            }
            "--app" => once(&mut app, flag, PathBuf::from(&value))?,
            "--join" | "--festival" => {
                let id = Hash::from_str(&value).map_err(|e| bad("--join", &value, e))?;
                if !join.contains(&id) {
                    join.push(id);
                }
            }
            "--rendezvous" => {
                loopback_url(&value).map_err(|reason| bad(flag, &value, reason))?;
                once(&mut rendezvous, flag, value)?;
            }
            "--create-festival" => once(&mut create, flag, value)?,
            "--entries" => {
                let n: usize = value.parse().map_err(|e| bad(flag, &value, e))?;
                if n == 0 {
                    return Err(bad(flag, &value, "counts the festival, so at least 1"));
                }
                once(&mut entries, flag, n)?;
            }
            _ => {
                let how = match value.as_str() {
                    "garbage" => Misbehaviour::Garbage,
                    "oversized" => Misbehaviour::Oversized,
                    "forged" => Misbehaviour::Forged,
                    _ => return Err(bad(flag, &value, "garbage, oversized or forged")),
                };
                once(&mut misbehave, flag, how)?;
            }
        }
    }
    if entries.is_some() && create.is_none() {
        return Err(ArgsError::EntriesWithoutCreate);
    }
    let meet = match rendezvous {
        Some(_) if listen.is_some() || app.is_some() => return Err(ArgsError::ServeAndRendezvous),
        Some(url) => Meet::Rendezvous(url),
        None => Meet::Serve {
            listen: match listen {
                Some(listen) => listen,
                None => SocketAddr::from_str(DEFAULT_LISTEN)
                    .map_err(|e| bad("--listen", DEFAULT_LISTEN, e))?,
            },
            app,
        },
    };
    Ok(Args {
        data,
        meet,
        join,
        create: create.map(|name| (name, entries.unwrap_or(1))),
        misbehave,
    })
}

/// Accepts only `ws://` URLs whose host is a loopback address or `localhost`: this node's links
/// are pinned to loopback, so a rendezvous elsewhere could introduce no one it can reach.
fn loopback_url(url: &str) -> Result<(), &'static str> {
    let rest = url.strip_prefix("ws://").ok_or("must start with ws://")?;
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        // [::1]:port
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host),
    };
    let loopback = host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok(())
    } else {
        Err("the rendezvous must be on loopback (127.0.0.0/8, ::1 or localhost)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_line(line: &str) -> Result<Args, ArgsError> {
        parse(line.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn parses_the_test_lines() {
        let args =
            parse_line("--rendezvous ws://127.0.0.1:4040 --create-festival Fest --entries 5")
                .unwrap();
        assert_eq!(args.create, Some(("Fest".into(), 5)));
        assert_eq!(args.meet, Meet::Rendezvous("ws://127.0.0.1:4040".into()));
        let hex = "ab".repeat(p2panda_core::hash::HASH_LEN);
        let args = parse_line(&format!(
            "--festival {hex} --rendezvous ws://[::1]:1/ --misbehave forged"
        ))
        .unwrap();
        assert_eq!(args.join.len(), 1);
        assert_eq!(args.misbehave, Some(Misbehaviour::Forged));
        assert_eq!(args.data, None);
    }

    #[test]
    fn parses_the_serving_line() {
        let (a, b) = (
            "ab".repeat(p2panda_core::hash::HASH_LEN),
            "cd".repeat(p2panda_core::hash::HASH_LEN),
        );
        let args = parse_line(&format!(
            "--data ./node-data --app www/dist --join {a} --join {b} --festival {a}"
        ))
        .unwrap();
        assert_eq!(args.data, Some(PathBuf::from("./node-data")));
        assert_eq!(args.join.len(), 2, "a festival given twice is joined once");
        assert_eq!(
            args.meet,
            Meet::Serve {
                listen: DEFAULT_LISTEN.parse().unwrap(),
                app: Some("www/dist".into())
            }
        );
        let args = parse_line("--listen 0.0.0.0:0").unwrap();
        assert!(matches!(args.meet, Meet::Serve { listen, app: None } if listen.port() == 0));
    }

    #[test]
    fn refuses_bad_lines() {
        for line in [
            "--rendezvous ws://10.0.0.1:1 --create-festival F",
            "--rendezvous ws://example.org:1 --create-festival F",
            "--rendezvous http://127.0.0.1:1 --create-festival F",
            "--rendezvous ws://127.0.0.1:1 --festival nothex",
            "--rendezvous ws://127.0.0.1:1 --create-festival F --entries 0",
            "--rendezvous ws://127.0.0.1:1 --create-festival F --misbehave loud",
            "--rendezvous ws://127.0.0.1:1 --create-festival F --bogus 1",
            "--rendezvous ws://127.0.0.1:1 --create-festival",
            "--rendezvous ws://127.0.0.1:1 --listen 127.0.0.1:1",
            "--rendezvous ws://127.0.0.1:1 --app www/dist",
            "--entries 3",
            "--listen nowhere",
            "--data a --data b",
        ] {
            assert!(parse_line(line).is_err(), "{line}");
        }
    }
}
