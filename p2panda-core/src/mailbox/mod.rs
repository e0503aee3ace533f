//! Store-and-forward through an object store (any S3-compatible bucket): peers that are never
//! online together converge by uploading what they have and downloading what they lack. This
//! module is the sans-IO half: it names, seals, opens and plans objects; a client (native, or in a
//! browser) moves the bytes.
//!
//! **Layout.** Every name is opaque, relative to a prefix the user picks:
//! - `<dir>/b/<id>`: a *bundle*, consecutive entries (with payloads) of one log, sealed. `<dir>` is
//!   a keyed hash of the festival's topic, `<id>` 16 random bytes: names say nothing about
//!   authors, logs or sequence numbers, and two festivals' directories are unlinkable.
//! - `<dir>/i/<writer>`: a writer's *index*, sealed: which bundles it uploaded, for which log and
//!   sequence range, so readers download only bundles that extend what they hold.
//!
//! **Sealing.** Objects are `version || key id || seal(aad = name, plaintext padded to a size
//! bucket)`. The provider sees sizes in coarse buckets and upload times, nothing else; a box moved
//! to another name does not open.
//!
//! **Concurrency.** Correctness never rests on conditional writes (not atomic on every server):
//! bundles are written once under fresh random names, and each writer *instance* (a
//! [`MailboxState`]) has its own random index name that only it overwrites, so two devices with
//! one identity, or two pushes racing, cannot erase each other. Indexes are hints:
//! - a reader that lists bundle names ([`MailboxState::plan_download`] with a listing) also
//!   fetches bundles no index names (a writer that stopped before writing its index);
//! - what is found gone (an index no longer listed, a bundle missing or damaged, or absent from a
//!   full listing) counts as not uploaded, so whoever holds those entries uploads them again;
//!   clients delete bundles they find damaged, so their writers (who never read their own
//!   bundles) find them gone at their next full listing.
//!
//! **The round trip.** Push: LIST `<dir>/i/`, [`MailboxState::plan_index_reads`], GET and
//! [`accept_index`](MailboxState::accept_index) each, [`plan_upload`](MailboxState::plan_upload),
//! PUT each and report it [`uploaded`](MailboxState::uploaded), then PUT
//! [`plan_index`](MailboxState::plan_index). Pull: the same index reads, now and then a LIST of
//! `<dir>/b/`, then [`plan_download`](MailboxState::plan_download), GET,
//! [`accept_bundle`](MailboxState::accept_bundle) and [`Assembler::ingest`] until nothing is
//! left to plan.
//!
//! **Rotation.** A private festival's mailbox follows its current key. Members who have not
//! learned a new key yet still read the old key's mailbox, so writers also push the festival's
//! creation log there ([`OneLog`], [`creation_log`]): it carries the key shares, and a member
//! who opens its share moves on to the new mailbox.
//!
//! **Trust.** Whoever holds the key can write objects; what comes out of one still goes through
//! [`Replica::ingest`](crate::replica::Replica::ingest) (signatures, links, schema), so a forged
//! entry in a bucket is refused like one from any peer.

mod assemble;
mod codec;
mod key;
mod logs;
mod plan;

pub use assemble::{ingest_bundle, Assembler, EntryError, Ingested, Rejected};
pub use codec::{padded_len, Bundle, BundleRef};
pub use key::{MailboxKey, ObjectName, ID_LEN};
pub use logs::{creation_log, LocalLogs, LogSnapshot, OneLog};
pub use plan::{
    GetObject, ListedObject, MailboxState, PutObject, DEFAULT_BUNDLE_SIZE, MAX_INDEX_BUNDLES,
};

/// The largest object a reader downloads: a bundle of the largest size a writer makes (half of
/// this) with an entry of the largest size that did not fit, padded; an index of ~37,000
/// bundles (a writer starts a new index after [`MAX_INDEX_BUNDLES`]).
pub const MAX_OBJECT_SIZE: usize = 1024 * 1024;

/// Why an object of a mailbox was refused. Nothing local changes when one is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailboxError {
    #[error("{0} is not the name of an object of this mailbox")]
    WrongName(String),
    #[error("object {name} is {size} bytes, more than the {max} a mailbox object may have")]
    TooLarge {
        name: String,
        size: usize,
        max: usize,
    },
    #[error("object {name} is sealed with another key (another festival's mailbox)")]
    WrongKey { name: String },
    #[error("object {name} is corrupted: {reason}")]
    Corrupted { name: String, reason: &'static str },
    #[error("object {name} opens but is malformed: {reason}")]
    Malformed { name: String, reason: &'static str },
}

impl MailboxError {
    /// The name of the object refused.
    pub fn name(&self) -> &str {
        match self {
            MailboxError::WrongName(name)
            | MailboxError::TooLarge { name, .. }
            | MailboxError::WrongKey { name }
            | MailboxError::Corrupted { name, .. }
            | MailboxError::Malformed { name, .. } => name,
        }
    }
}

#[cfg(test)]
mod tests;
