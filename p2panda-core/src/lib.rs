//! p2panda-core: the pure-Rust heart of p2panda. No I/O, no clock, no async runtime: callers pass
//! bytes and time in and take bytes out, so the same code runs in browsers, native peers and
//! deterministic simulations.

pub mod festival;
pub mod hash;
pub mod identity;
pub mod log;
pub mod operation;
pub mod policy;
pub mod replica;
pub mod store;

/// The version of this crate, as shown to users and peers.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
