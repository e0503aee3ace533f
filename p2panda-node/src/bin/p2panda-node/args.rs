//! The command line.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use p2panda_core::hash::Hash;
use p2panda_node::native_peer::Misbehaviour;

/// Where the node serves the app and its rendezvous unless told otherwise: this machine only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// How often the node pulls from the S3 bucket unless told otherwise.
pub const DEFAULT_S3_INTERVAL: Duration = Duration::from_secs(30);

pub const USAGE: &str = "\
usage: p2panda-node [--data DIR] [--listen ADDR] [--app DIR] [--join FESTIVAL_HEX]... [S3]
       p2panda-node --rendezvous ws://127.0.0.1:PORT[/PATH] [--data DIR] [--join FESTIVAL_HEX]... [S3]

  --data DIR          keep the key, entries and joined festivals in DIR (created if missing);
                      without it the node keeps nothing
  --listen ADDR       serve HTTP on ADDR (default 127.0.0.1:8080): the app and the rendezvous
                      WebSocket at /rendezvous
  --app DIR           the static app to serve (e.g. www/dist)
  --join HEX          replicate this festival (remembered with --data); may be repeated
  --rendezvous URL    use that (loopback) rendezvous instead of serving one; no HTTP server
  --festival HEX      the same as --join
store-and-forward through an S3-compatible bucket (S3):
  --s3-endpoint URL   the server, https://HOST[:PORT] (http:// for one on your own network)
  --s3-bucket NAME    the bucket; every joined festival gets an opaque mailbox in it
  --s3-prefix P       where in the bucket (default: at the top)
  --s3-region R       the bucket's region (default us-east-1; most servers take any)
  --s3-interval SECS  pull every SECS seconds (default 30); pushes follow what is stored
  credentials come from the environment, P2PANDA_S3_ACCESS_KEY and P2PANDA_S3_SECRET_KEY,
  never from the command line (which every local user can read in ps and /proc)
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
    /// Store-and-forward through an S3 bucket (the credentials come from the environment).
    pub s3: Option<S3Args>,
}

/// The `--s3-*` flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Args {
    pub endpoint: String,
    pub bucket: String,
    pub prefix: Option<String>,
    pub region: Option<String>,
    /// Between two pulls of a festival's mailbox.
    pub interval: Duration,
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
    #[error("{0} needs --s3-endpoint and --s3-bucket")]
    S3Incomplete(&'static str),
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

const FLAGS: [&str; 14] = [
    "--data",
    "--listen",
    "--app",
    "--join",
    "--festival",
    "--rendezvous",
    "--create-festival",
    "--entries",
    "--misbehave",
    "--s3-endpoint",
    "--s3-bucket",
    "--s3-prefix",
    "--s3-region",
    "--s3-interval",
];

/// The longest `--s3-interval`: a day.
const MAX_S3_INTERVAL: u64 = 86_400;

pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, ArgsError> {
    let (mut data, mut listen, mut app, mut rendezvous) = (None, None, None, None);
    let (mut create, mut entries, mut misbehave) = (None, None, None);
    let mut join = Vec::new();
    let (mut endpoint, mut bucket, mut prefix, mut region, mut interval) =
        (None, None, None, None, None);
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
            "--s3-endpoint" => {
                s3_endpoint(&value).map_err(|reason| bad(flag, &value, reason))?;
                once(&mut endpoint, flag, value)?;
            }
            "--s3-bucket" => {
                bucket_name(&value).map_err(|reason| bad(flag, &value, reason))?;
                once(&mut bucket, flag, value)?;
            }
            "--s3-prefix" => {
                let trimmed = value.trim_matches('/');
                if trimmed
                    .split('/')
                    .any(|part| part.is_empty() || part == "..")
                {
                    return Err(bad(flag, &value, "path segments may not be empty or .."));
                }
                once(&mut prefix, flag, trimmed.to_owned())?;
            }
            "--s3-region" => {
                if value.is_empty() || !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                {
                    return Err(bad(flag, &value, "letters, digits and - only"));
                }
                once(&mut region, flag, value)?;
            }
            "--s3-interval" => {
                let secs: u64 = value.parse().map_err(|e| bad(flag, &value, e))?;
                if !(1..=MAX_S3_INTERVAL).contains(&secs) {
                    return Err(bad(flag, &value, "between 1 and 86400 seconds"));
                }
                once(&mut interval, flag, Duration::from_secs(secs))?;
            }
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
    let s3 = match (endpoint, bucket) {
        (Some(endpoint), Some(bucket)) => Some(S3Args {
            endpoint,
            bucket,
            prefix,
            region,
            interval: interval.unwrap_or(DEFAULT_S3_INTERVAL),
        }),
        (Some(_), None) => return Err(ArgsError::S3Incomplete("--s3-endpoint")),
        (None, Some(_)) => return Err(ArgsError::S3Incomplete("--s3-bucket")),
        (None, None) => {
            let stray = [
                ("--s3-prefix", prefix.is_some()),
                ("--s3-region", region.is_some()),
                ("--s3-interval", interval.is_some()),
            ];
            if let Some((flag, _)) = stray.iter().find(|(_, given)| *given) {
                return Err(ArgsError::S3Incomplete(flag));
            }
            None
        }
    };
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
        s3,
    })
}

/// An `http(s)://host[:port][/]` URL: the S3 client adds the bucket and object paths itself.
fn s3_endpoint(url: &str) -> Result<(), &'static str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("must start with https:// (or http://)")?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    if !path.is_empty() {
        return Err("only scheme, host and port: the bucket goes in --s3-bucket");
    }
    if authority.is_empty() || authority.contains(['@', '?', '#', ' ']) {
        return Err("needs a host (and no user, query or fragment)");
    }
    Ok(())
}

/// S3's rules for bucket names: 3 to 63 lowercase letters, digits, dots and hyphens, starting
/// and ending with a letter or digit.
fn bucket_name(name: &str) -> Result<(), &'static str> {
    let valid = (3..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    match valid {
        true => Ok(()),
        false => Err("3 to 63 lowercase letters, digits, . and -, starting and ending with a letter or digit"),
    }
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
    fn parses_the_s3_flags() {
        let args = parse_line(
            "--s3-endpoint https://s3.example.org --s3-bucket festivals --s3-prefix /lake/ \
             --s3-region eu-central-1 --s3-interval 5",
        )
        .unwrap();
        assert_eq!(
            args.s3,
            Some(S3Args {
                endpoint: "https://s3.example.org".into(),
                bucket: "festivals".into(),
                prefix: Some("lake".into()),
                region: Some("eu-central-1".into()),
                interval: Duration::from_secs(5),
            })
        );
        let args = parse_line("--s3-endpoint http://127.0.0.1:9000/ --s3-bucket a-b.c").unwrap();
        assert_eq!(args.s3.map(|s| s.interval), Some(DEFAULT_S3_INTERVAL));
        assert_eq!(parse_line("--data d").unwrap().s3, None);
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
            "--s3-endpoint http://127.0.0.1:9000",
            "--s3-bucket festivals",
            "--s3-prefix p",
            "--s3-interval 5",
            "--s3-endpoint ftp://host --s3-bucket festivals",
            "--s3-endpoint http://host/bucket --s3-bucket festivals",
            "--s3-endpoint https:// --s3-bucket festivals",
            "--s3-endpoint https://h --s3-bucket Festivals",
            "--s3-endpoint https://h --s3-bucket ab",
            "--s3-endpoint https://h --s3-bucket festivals --s3-interval 0",
            "--s3-endpoint https://h --s3-bucket festivals --s3-interval soon",
            "--s3-endpoint https://h --s3-bucket festivals --s3-prefix a//b",
            "--s3-endpoint https://h --s3-bucket festivals --s3-region eu_west",
        ] {
            assert!(parse_line(line).is_err(), "{line}");
        }
    }
}
