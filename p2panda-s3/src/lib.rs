//! Store-and-forward for p2panda festivals through any S3-compatible bucket, from a native node.
//!
//! The layout, sealing and planning live in [`p2panda_core::mailbox`] (no I/O, shared with the
//! browser); this crate moves the bytes with `object_store`'s S3 client (SigV4, retries, TLS).
//!
//! ```no_run
//! # async fn run(replica: &mut p2panda_core::replica::Replica, topic: p2panda_core::festival::Topic)
//! # -> Result<(), p2panda_s3::S3Error> {
//! use p2panda_core::mailbox::MailboxKey;
//! use p2panda_s3::{Mailbox, S3Config};
//!
//! let config = S3Config::new("https://s3.example.org", "festivals", "AKIA…", "secret");
//! let mut mailbox = Mailbox::new(config, MailboxKey::public(topic))?;
//! let pushed = mailbox.push(replica).await?; // upload what the bucket lacks
//! let pulled = mailbox.pull(replica).await?; // download and verify what this node lacks
//! # Ok(()) }
//! ```

mod client;
mod config;
mod error;
#[cfg(feature = "test-server")]
pub mod test_server;

pub use client::{Mailbox, PullReport, PushReport, ReplicaAccess};
pub use config::S3Config;
pub use error::S3Error;
