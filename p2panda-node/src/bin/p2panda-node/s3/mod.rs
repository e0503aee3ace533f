//! Store-and-forward through an S3-compatible bucket (`--s3-*`): every joined festival has a
//! mailbox there (crate `p2panda-s3`), so peers that are never online together still converge.
//!
//! - Each festival's mailbox is keyed by the festival's current secret key when this node holds
//!   it (a private festival: only members read it), else by its id.
//! - After group commits that stored entries of a festival the node pushes what the bucket
//!   lacks (at most once a second per festival), and only entries that are durable here.
//! - It pulls every festival at the start and every `--s3-interval`; what it pulls is stored as
//!   entries from a peer are (journaled, announced to connected peers), and reported once
//!   durable.
//! - A failure never stops the node and loses nothing local: it is reported and retried later,
//!   backing off. On quit the node pushes what is left (boundedly).
//!
//! The credentials come from the environment ([`ACCESS_KEY_VAR`], [`SECRET_KEY_VAR`]), never
//! the command line, which every local user can read (`ps`, `/proc/PID/cmdline`) and which
//! shells keep in their history.

mod worker;
mod writers;

pub use writers::Writers;

use std::ffi::OsString;
use std::net::IpAddr;
use std::time::Duration;

use p2panda_core::hash::Hash;
use p2panda_core::mailbox::MailboxKey;
use p2panda_s3::{Mailbox, S3Config, S3Error};

use crate::args::S3Args;

pub use worker::S3Task;

/// The environment variable holding the access key id.
pub const ACCESS_KEY_VAR: &str = "P2PANDA_S3_ACCESS_KEY";
/// The environment variable holding the secret access key.
pub const SECRET_KEY_VAR: &str = "P2PANDA_S3_SECRET_KEY";

/// Why the S3 settings were refused (before anything starts).
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{0} is not set: with --s3-endpoint the S3 credentials come from the environment ({ACCESS_KEY_VAR} and {SECRET_KEY_VAR}), never from the command line")]
    Missing(&'static str),
    #[error("{0} is empty or not valid UTF-8")]
    Invalid(&'static str),
    #[error("--s3-endpoint: {0}")]
    Client(S3Error),
}

/// What the S3 worker needs: the bucket and how often to pull.
#[derive(Debug, Clone)]
pub struct Settings {
    pub config: S3Config,
    pub interval: Duration,
    /// Where mailbox writer states are kept (with `--data`), so a restart goes on as the same
    /// writer.
    pub writers: Option<writers::Writers>,
}

/// Checks the `--s3-*` flags and the credentials in the environment (`env` looks a variable up)
/// and builds a client once, so a bad setting shows now and not at the first push.
pub fn settings(
    args: &S3Args,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<Settings, SettingsError> {
    let credential = |name: &'static str| -> Result<String, SettingsError> {
        let value = env(name).ok_or(SettingsError::Missing(name))?;
        match value.into_string() {
            Ok(value) if !value.trim().is_empty() => Ok(value),
            _ => Err(SettingsError::Invalid(name)),
        }
    };
    let (access, secret) = (credential(ACCESS_KEY_VAR)?, credential(SECRET_KEY_VAR)?);
    let mut config = S3Config::new(&args.endpoint, &args.bucket, &access, &secret);
    if let Some(prefix) = &args.prefix {
        config = config.with_prefix(prefix);
    }
    if let Some(region) = &args.region {
        config.region = region.clone();
    }
    // Any festival will do: this only builds the client, which checks the endpoint.
    let probe = MailboxKey::public(Hash::digest(b"p2panda-node settings check"));
    Mailbox::new(config.clone(), probe).map_err(SettingsError::Client)?;
    Ok(Settings {
        config,
        interval: args.interval,
        writers: None,
    })
}

/// A warning for an endpoint that is plain HTTP off this machine: objects are sealed, but
/// names, sizes and timing travel in the clear and a middlebox could drop or replay requests.
pub fn warning(args: &S3Args) -> Option<String> {
    let rest = args.endpoint.strip_prefix("http://")?;
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    let local = host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    (!local).then(|| {
        format!(
            "warning: {} is plain HTTP: use https:// for a bucket off this machine",
            args.endpoint
        )
    })
}

/// A stable code for an S3 failure, for `s3-error` lines and scripts.
pub fn code(error: &S3Error) -> &'static str {
    match error {
        S3Error::Config(_) => "S3_CONFIG",
        S3Error::WrongCredentials => "S3_WRONG_CREDENTIALS",
        S3Error::AccessDenied(_) => "S3_ACCESS_DENIED",
        S3Error::NoSuchBucket => "S3_NO_SUCH_BUCKET",
        S3Error::Corrupted { .. } => "S3_CORRUPTED",
        S3Error::Network(_) => "S3_NETWORK",
        S3Error::Server(_) => "S3_SERVER",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(endpoint: &str) -> S3Args {
        S3Args {
            endpoint: endpoint.into(),
            bucket: "festivals".into(),
            prefix: Some("lake".into()),
            region: None,
            interval: Duration::from_secs(30),
        }
    }

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let vars: Vec<(String, OsString)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn credentials_come_from_the_environment() {
        let both = env(&[(ACCESS_KEY_VAR, "access"), (SECRET_KEY_VAR, "secret")]);
        let settings = settings(&args("https://s3.example.org"), both).unwrap();
        assert_eq!(settings.config.access_key, "access");
        assert_eq!(settings.config.prefix, "lake");
        assert!(matches!(
            super::settings(&args("https://h"), env(&[(ACCESS_KEY_VAR, "a")])),
            Err(SettingsError::Missing(SECRET_KEY_VAR))
        ));
        assert!(matches!(
            super::settings(
                &args("https://h"),
                env(&[(ACCESS_KEY_VAR, " "), (SECRET_KEY_VAR, "s")])
            ),
            Err(SettingsError::Invalid(ACCESS_KEY_VAR))
        ));
    }

    #[test]
    fn plain_http_off_this_machine_is_warned_about() {
        assert!(warning(&args("http://10.0.0.5:9000")).is_some());
        assert!(warning(&args("http://127.0.0.1:9000")).is_none());
        assert!(warning(&args("http://[::1]:9000")).is_none());
        assert!(warning(&args("https://s3.example.org")).is_none());
    }
}
