//! The command line.

use std::net::IpAddr;
use std::str::FromStr;

use p2panda_core::hash::Hash;
use p2panda_tests::native_peer::Misbehaviour;

pub const USAGE: &str = "usage: p2panda-native-node --rendezvous ws://127.0.0.1:PORT \
(--festival HEX | --create-festival NAME [--entries N]) [--misbehave garbage|oversized|forged]";

/// What the node starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// Replicate an existing festival, starting with nothing.
    Join(Hash),
    /// Create a festival holding `entries` entries in all (the festival itself included).
    Create { name: String, entries: usize },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    pub rendezvous: String,
    pub start: Start,
    pub misbehave: Option<Misbehaviour>,
}

/// Why the command line was refused.
#[derive(Debug, thiserror::Error)]
pub enum ArgsError {
    #[error("{0} is required")]
    Missing(&'static str),
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
    #[error("give either --festival or --create-festival, not both")]
    Conflict,
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

pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, ArgsError> {
    let (mut rendezvous, mut festival, mut create, mut entries, mut misbehave) =
        (None, None, None, None, None);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Err(ArgsError::Help);
        }
        let known = [
            "--rendezvous",
            "--festival",
            "--create-festival",
            "--entries",
            "--misbehave",
        ];
        if !known.contains(&flag.as_str()) {
            return Err(ArgsError::Unknown(flag));
        }
        let value = args
            .next()
            .ok_or_else(|| ArgsError::NoValue(flag.clone()))?;
        match flag.as_str() {
            "--rendezvous" => {
                loopback_url(&value).map_err(|reason| bad("--rendezvous", &value, reason))?;
                rendezvous = Some(value);
            }
            "--festival" => {
                let id = Hash::from_str(&value).map_err(|e| bad("--festival", &value, e))?;
                festival = Some(id);
            }
            "--create-festival" => create = Some(value),
            "--entries" => {
                let n: usize = value.parse().map_err(|e| bad("--entries", &value, e))?;
                if n == 0 {
                    return Err(bad(
                        "--entries",
                        &value,
                        "counts the festival, so at least 1",
                    ));
                }
                entries = Some(n);
            }
            _ => {
                misbehave = Some(match value.as_str() {
                    "garbage" => Misbehaviour::Garbage,
                    "oversized" => Misbehaviour::Oversized,
                    "forged" => Misbehaviour::Forged,
                    _ => return Err(bad("--misbehave", &value, "garbage, oversized or forged")),
                });
            }
        }
    }
    let start = match (festival, create, entries) {
        (Some(_), Some(_), _) => return Err(ArgsError::Conflict),
        (Some(_), None, Some(_)) => return Err(ArgsError::EntriesWithoutCreate),
        (Some(id), None, None) => Start::Join(id),
        (None, Some(name), entries) => Start::Create {
            name,
            entries: entries.unwrap_or(1),
        },
        (None, None, _) => return Err(ArgsError::Missing("--festival or --create-festival")),
    };
    Ok(Args {
        rendezvous: rendezvous.ok_or(ArgsError::Missing("--rendezvous"))?,
        start,
        misbehave,
    })
}

/// Accepts only `ws://` URLs whose host is a loopback address or `localhost`: this program is
/// for tests, and its traffic stays on the machine.
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
    fn parses_both_starts() {
        let args =
            parse_line("--rendezvous ws://127.0.0.1:4040 --create-festival Fest --entries 5")
                .unwrap();
        assert_eq!(
            args.start,
            Start::Create {
                name: "Fest".into(),
                entries: 5
            }
        );
        let hex = "ab".repeat(p2panda_core::hash::HASH_LEN);
        let args = parse_line(&format!(
            "--festival {hex} --rendezvous ws://[::1]:1/ --misbehave forged"
        ))
        .unwrap();
        assert!(matches!(args.start, Start::Join(_)));
        assert_eq!(args.misbehave, Some(Misbehaviour::Forged));
    }

    #[test]
    fn refuses_bad_lines() {
        for line in [
            "--create-festival F",
            "--rendezvous ws://10.0.0.1:1 --create-festival F",
            "--rendezvous ws://example.org:1 --create-festival F",
            "--rendezvous http://127.0.0.1:1 --create-festival F",
            "--rendezvous ws://127.0.0.1:1",
            "--rendezvous ws://127.0.0.1:1 --festival nothex",
            "--rendezvous ws://127.0.0.1:1 --create-festival F --entries 0",
            "--rendezvous ws://127.0.0.1:1 --create-festival F --misbehave loud",
            "--rendezvous ws://127.0.0.1:1 --create-festival F --bogus 1",
            "--rendezvous ws://127.0.0.1:1 --create-festival",
        ] {
            assert!(parse_line(line).is_err(), "{line}");
        }
    }
}
