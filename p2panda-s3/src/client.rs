//! Pushing to and pulling from a bucket: the core's plans, carried out over S3.

use std::collections::HashSet;
use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use p2panda_core::mailbox::{
    Assembler, GetObject, ListedObject, LocalLogs, MailboxError, MailboxKey, MailboxState,
    PutObject, Rejected, MAX_OBJECT_SIZE,
};
use p2panda_core::replica::Replica;

use crate::config::S3Config;
use crate::error::S3Error;

/// What a push did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushReport {
    /// Bundles uploaded, the entries in them and their bytes (sealed and padded).
    pub bundles: usize,
    pub entries: usize,
    pub bytes: u64,
    /// Whether this writer's index was uploaded (it is when bundles were).
    pub index: bool,
    /// Other writers' indexes read first, so what they uploaded is not uploaded again.
    pub indexes_read: usize,
}

/// What a pull did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PullReport {
    /// Indexes downloaded (new or changed since the last read).
    pub indexes_read: usize,
    /// Whether every bundle name was listed (not only those indexes name).
    pub listed: bool,
    /// Bundles downloaded and their bytes.
    pub bundles: usize,
    pub bytes: u64,
    /// Entries stored, and entries downloaded that this node had already.
    pub entries: usize,
    pub duplicates: usize,
    /// Bundles an index names that the bucket does not hold (deleted by someone).
    pub missing: usize,
    /// Objects refused (corrupted, wrong key, too large, malformed): nothing of them was used.
    pub rejected_objects: Vec<MailboxError>,
    /// Of those, damaged bundles deleted from the bucket (when the credentials allow): their
    /// writers find them gone at their next full listing and upload those entries again.
    pub removed: usize,
    /// Entries refused by verification (forged, another festival's), as from any peer.
    pub rejected_entries: Vec<Rejected>,
}

impl PullReport {
    /// The report, or [`S3Error::Corrupted`] naming the first object refused.
    pub fn check(self) -> Result<Self, S3Error> {
        match self.rejected_objects.first() {
            Some(error) => Err(S3Error::Corrupted {
                name: error.name().to_string(),
                source: error.clone(),
            }),
            None => Ok(self),
        }
    }
}

/// A replica that a pull borrows only between requests, never across one: a node whose replica
/// sits behind a lock shared with live sync sessions pulls without holding the lock while it
/// waits for the network, and stores what arrives its own way (journaled, announced to peers).
pub trait ReplicaAccess {
    /// Runs `look` on the replica as it is now.
    fn read<R>(&mut self, look: impl FnOnce(&Replica) -> R) -> R;
    /// Runs `change`, which stores downloaded entries, on the replica.
    fn write<R>(&mut self, change: impl FnOnce(&mut Replica) -> R) -> R;
}

impl ReplicaAccess for &mut Replica {
    fn read<R>(&mut self, look: impl FnOnce(&Replica) -> R) -> R {
        look(self)
    }

    fn write<R>(&mut self, change: impl FnOnce(&mut Replica) -> R) -> R {
        change(self)
    }
}

/// One festival's mailbox in one bucket, as one writer and reader.
pub struct Mailbox {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    key: MailboxKey,
    state: MailboxState,
    concurrency: usize,
    list_every: u64,
    pulls: u64,
}

impl Mailbox {
    /// A mailbox client; nothing is sent until the first push or pull.
    pub fn new(config: S3Config, key: MailboxKey) -> Result<Self, S3Error> {
        Ok(Mailbox {
            store: config.store()?,
            prefix: config.prefix.clone(),
            key,
            state: MailboxState::new(),
            concurrency: config.concurrency.max(1),
            list_every: config.list_every,
            pulls: 0,
        })
    }

    /// The same, with a state of your own (say, smaller bundles).
    pub fn with_state(mut self, state: MailboxState) -> Self {
        self.state = state;
        self
    }

    /// The festival's mailbox key.
    pub fn key(&self) -> &MailboxKey {
        &self.key
    }

    /// What this client knows of the bucket.
    pub fn state(&self) -> &MailboxState {
        &self.state
    }

    fn path(&self, name: &str) -> Path {
        match self.prefix.is_empty() {
            true => Path::from(name),
            false => Path::from(format!("{}/{name}", self.prefix)),
        }
    }

    /// LIST names under `prefix` (a name prefix ending in `/`), relative to the mailbox prefix.
    async fn list(&self, prefix: &str) -> Result<Vec<ListedObject>, S3Error> {
        let dir = self.path(prefix.trim_end_matches('/'));
        let strip = match self.prefix.is_empty() {
            true => String::new(),
            false => format!("{}/", self.prefix),
        };
        let metas: Vec<_> = self.store.list(Some(&dir)).try_collect().await?;
        Ok(metas
            .into_iter()
            .filter_map(|meta| {
                let name = meta.location.as_ref().strip_prefix(strip.as_str())?;
                Some(ListedObject {
                    name: name.to_string(),
                    etag: meta.e_tag,
                })
            })
            .collect())
    }

    /// Upload every entry of the festival that the bucket is not known to hold: other writers'
    /// indexes are read first; bundles go up concurrently, then this writer's index. If an upload
    /// fails, the index still records the bundles that made it, and the error is returned.
    ///
    /// The same as [`push_prepare`](Self::push_prepare), [`push_plan`](Self::push_plan) and
    /// [`push_upload`](Self::push_upload) in turn, for a caller that can lend the replica only
    /// between requests.
    pub async fn push(&mut self, replica: &Replica) -> Result<PushReport, S3Error> {
        let indexes_read = self.push_prepare().await?;
        let puts = self.push_plan(replica);
        let mut report = self.push_upload(puts).await?;
        report.indexes_read = indexes_read;
        Ok(report)
    }

    /// A push's first step: read the other writers' indexes that changed, so what they uploaded
    /// is not uploaded again. Returns how many were read.
    pub async fn push_prepare(&mut self) -> Result<usize, S3Error> {
        self.read_indexes(&mut Vec::new()).await
    }

    /// A push's second step, no I/O: the sealed bundles of every entry of the festival in
    /// `logs` (a replica, or [`OneLog`](p2panda_core::mailbox::OneLog) of one) that the bucket
    /// is not known to hold.
    pub fn push_plan(&self, logs: &impl LocalLogs) -> Vec<PutObject> {
        self.state.plan_upload(&self.key, logs)
    }

    /// A push's last step: upload `puts` (from [`push_plan`](Self::push_plan)) concurrently,
    /// then this writer's index. If an upload fails, the index still records the bundles that
    /// made it, and the error is returned.
    pub async fn push_upload(&mut self, puts: Vec<PutObject>) -> Result<PushReport, S3Error> {
        let mut report = PushReport::default();
        let store = self.store.clone();
        let uploads = futures::stream::iter(puts.into_iter().map(|put| {
            let (store, path) = (store.clone(), self.path(&put.name));
            async move {
                let payload = PutPayload::from(put.bytes.clone());
                // A plain PUT: names are fresh and random, so no condition is needed (and some
                // S3-compatible servers refuse or ignore conditional ones).
                let result = store.put(&path, payload).await;
                (put, result)
            }
        }))
        .buffer_unordered(self.concurrency);
        let results: Vec<(PutObject, _)> = uploads.collect().await;
        let mut failure = None;
        for (put, result) in results {
            match result {
                Ok(_) => {
                    self.state.uploaded(&put);
                    report.bundles += 1;
                    report.entries += put.entries;
                    report.bytes += put.bytes.len() as u64;
                }
                Err(error) => failure = failure.or(Some(S3Error::from(error))),
            }
        }
        if let Some(index) = self.state.plan_index(&self.key, false) {
            self.store
                .put(&self.path(&index.name), index.bytes.clone().into())
                .await?;
            self.state.index_uploaded(&index);
            report.index = true;
        }
        match failure {
            Some(error) => Err(error),
            None => Ok(report),
        }
    }

    /// Read the indexes that changed since last time. Refused ones go to `rejected`.
    async fn read_indexes(&mut self, rejected: &mut Vec<MailboxError>) -> Result<usize, S3Error> {
        let listed = self.list(&self.key.indexes_prefix()).await?;
        let gets = self.state.plan_index_reads(&self.key, &listed);
        let count = gets.len();
        let fetched: Vec<_> = self.fetch(gets).collect().await;
        for (get, result) in fetched {
            match result? {
                Fetched::Bytes(bytes, etag) => {
                    if let Err(error) = self.state.accept_index(&self.key, &get, etag, &bytes) {
                        rejected.push(error);
                    }
                }
                // Removed since the LIST: its writer's bundles are found by listing.
                Fetched::Missing => {}
                Fetched::TooLarge(size) => rejected.push(too_large(&get, size)),
            }
        }
        Ok(count)
    }

    /// GET objects, `concurrency` at once, in order.
    fn fetch(
        &self,
        gets: Vec<GetObject>,
    ) -> impl futures::Stream<Item = (GetObject, Result<Fetched, S3Error>)> + 'static {
        let store = self.store.clone();
        let paths: Vec<Path> = gets.iter().map(|g| self.path(&g.name)).collect();
        futures::stream::iter(gets.into_iter().zip(paths).map(move |(get, path)| {
            let store = store.clone();
            async move {
                let result = get_object(&*store, &path).await;
                (get, result)
            }
        }))
        .buffered(self.concurrency)
    }

    /// Download and verify what this node lacks: changed indexes, the bundles past what
    /// `replica` holds, and now and then (see [`S3Config::list_every`]) every bundle no index
    /// names. Entries are stored as they arrive: when the pull fails half-way, every entry
    /// taken in stays, and the next pull continues. Refused objects and entries are in the
    /// report ([`PullReport::check`] turns them into an error).
    ///
    /// `replica` is a `&mut Replica`, or any [`ReplicaAccess`] that lends one between requests.
    pub async fn pull(&mut self, replica: impl ReplicaAccess) -> Result<PullReport, S3Error> {
        let full = self.list_every != 0 && self.pulls % self.list_every == 0;
        self.pull_inner(replica, full).await
    }

    /// A pull that lists every bundle name, for when indexes may be missing or stale.
    pub async fn pull_full(&mut self, replica: impl ReplicaAccess) -> Result<PullReport, S3Error> {
        self.pull_inner(replica, true).await
    }

    async fn pull_inner(
        &mut self,
        mut replica: impl ReplicaAccess,
        mut full: bool,
    ) -> Result<PullReport, S3Error> {
        let mut report = PullReport::default();
        report.indexes_read = self.read_indexes(&mut report.rejected_objects).await?;
        // An index that cannot be read hides its writer's bundles: find them by listing.
        full |= !report.rejected_objects.is_empty();
        let listed = match full {
            true => self.list(&self.key.bundles_prefix()).await?,
            false => Vec::new(),
        };
        if full {
            self.state.forget_unlisted(&self.key, &listed);
        }
        report.listed = full;
        let mut assembler = Assembler::new(self.key.topic());
        let mut tried = HashSet::new();
        loop {
            let gets = replica.read(|replica| {
                self.state
                    .plan_download(&self.key, replica, &listed, &tried)
            });
            if gets.is_empty() {
                break;
            }
            tried.extend(gets.iter().map(|g| g.object));
            let mut fetched = self.fetch(gets);
            while let Some((get, result)) = fetched.next().await {
                match result? {
                    Fetched::Bytes(bytes, _) => {
                        report.bundles += 1;
                        report.bytes += bytes.len() as u64;
                        match self.state.accept_bundle(&self.key, &get, &bytes) {
                            Ok(bundle) => assembler.add(bundle),
                            Err(error) => {
                                if is_damage(&error) && self.remove(&get.name).await {
                                    report.removed += 1;
                                }
                                report.rejected_objects.push(error);
                            }
                        }
                    }
                    Fetched::Missing => {
                        self.state.mark_bad(&get);
                        report.missing += 1;
                    }
                    Fetched::TooLarge(size) => {
                        self.state.mark_bad(&get);
                        report.rejected_objects.push(too_large(&get, size));
                    }
                }
                if assembler.pending() == 0 {
                    continue;
                }
                // Store as soon as a bundle connects, so a failure later keeps it.
                let ingested = replica.write(|replica| assembler.ingest(replica));
                report.entries += ingested.stored.len();
                report.duplicates += ingested.duplicates;
                report.rejected_entries.extend(ingested.rejected);
            }
        }
        // Some servers answer a GET in a deleted bucket with "no such key": tell that apart
        // from a few deleted objects before anyone concludes they are merely gone.
        if report.missing > 0 {
            self.list(&self.key.indexes_prefix()).await?;
        }
        self.pulls += 1;
        Ok(report)
    }
}

impl Mailbox {
    /// Delete a damaged bundle, best effort (a key may not be allowed to delete).
    async fn remove(&self, name: &str) -> bool {
        self.store.delete(&self.path(name)).await.is_ok()
    }
}

/// A bundle that is damaged (or forged by a key holder) helps no one: it is deleted, so that
/// whoever holds its entries uploads them again. One sealed with another key is left alone.
fn is_damage(error: &MailboxError) -> bool {
    matches!(
        error,
        MailboxError::Corrupted { .. } | MailboxError::Malformed { .. }
    )
}

enum Fetched {
    Bytes(bytes::Bytes, Option<String>),
    Missing,
    TooLarge(u64),
}

fn too_large(get: &GetObject, size: u64) -> MailboxError {
    MailboxError::TooLarge {
        name: get.name.clone(),
        size: usize::try_from(size).unwrap_or(usize::MAX),
        max: MAX_OBJECT_SIZE,
    }
}

/// One GET; the body is read only when its announced size is within bounds.
async fn get_object(store: &dyn ObjectStore, path: &Path) -> Result<Fetched, S3Error> {
    let result = match store.get(path).await {
        Ok(result) => result,
        Err(error) => {
            let not_found = matches!(error, object_store::Error::NotFound { .. });
            return match S3Error::from(error) {
                // A 404 is the object's absence, unless the whole bucket is gone.
                S3Error::NoSuchBucket => Err(S3Error::NoSuchBucket),
                _ if not_found => Ok(Fetched::Missing),
                error => Err(error),
            };
        }
    };
    if result.meta.size > MAX_OBJECT_SIZE as u64 {
        return Ok(Fetched::TooLarge(result.meta.size));
    }
    let etag = result.meta.e_tag.clone();
    Ok(Fetched::Bytes(result.bytes().await?, etag))
}
