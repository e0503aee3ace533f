//! What to upload and what to download: a writer's and reader's memory of the bucket, and the
//! plans made from it and a replica. The caller moves the bytes and reports back.

use std::collections::{HashMap, HashSet};

use crate::store::LogKey;

use super::codec::{self, Bundle, BundleRef, BUNDLE_HEAD, PER_ENTRY};
use super::key::{random_id, MailboxKey, ObjectName, HEADER_LEN, ID_LEN};
use super::logs::LocalLogs;
use super::{MailboxError, MAX_OBJECT_SIZE};
use crate::secret::SEAL_OVERHEAD;

/// How large a writer's bundles are by default, sealed: about 500 entries of a festival, one
/// request instead of hundreds. A size bucket, so full bundles need no padding.
pub const DEFAULT_BUNDLE_SIZE: usize = 256 * 1024;

/// When an instance's index lists this many bundles it is complete, and the instance goes on
/// under a new index name: an index stays well within [`MAX_OBJECT_SIZE`] even after a large push.
pub const MAX_INDEX_BUNDLES: usize = 16_384;

/// An object to upload. Report success with [`MailboxState::uploaded`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutObject {
    /// Relative to the mailbox's prefix in the bucket.
    pub name: String,
    /// What the name says it is.
    pub object: ObjectName,
    /// The sealed object, padded.
    pub bytes: Vec<u8>,
    /// For a bundle: what it holds, recorded in the writer's index once it is stored.
    pub holds: Option<BundleRef>,
    /// Entries in it (0 for an index).
    pub entries: usize,
}

/// An object to download; hand its bytes to [`MailboxState::accept_bundle`] or
/// [`MailboxState::accept_index`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetObject {
    /// Relative to the mailbox's prefix in the bucket.
    pub name: String,
    /// What the name says it is.
    pub object: ObjectName,
}

/// An object as a LIST of the bucket shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedObject {
    /// Relative to the mailbox's prefix in the bucket.
    pub name: String,
    /// The ETag, which changes when an index is overwritten.
    pub etag: Option<String>,
}

/// What one writer and reader of one mailbox knows about it. Fresh state is always correct (it
/// costs downloads and re-uploads of what is there already); keep it for as long as the node runs.
#[derive(Debug, Clone)]
pub struct MailboxState {
    /// This instance's index: random, so no other writer (not even one with the same identity
    /// on another device) ever overwrites it.
    writer: [u8; ID_LEN],
    /// What this instance uploaded: the content of its index.
    own: Vec<BundleRef>,
    /// Bumped at every index upload; readers ignore an index older than one they read.
    generation: u64,
    index_stale: bool,
    /// Whether this instance's index is in the bucket (so its absence means the bucket lost it).
    index_stored: bool,
    /// Every bundle known to be in the bucket: from indexes, own uploads and bundles read.
    known: HashMap<[u8; ID_LEN], BundleRef>,
    /// Bundles that failed to open or are gone: they count for nothing.
    bad: HashSet<[u8; ID_LEN]>,
    /// Each index read: its ETag, generation and the bundles it named.
    indexes: HashMap<[u8; ID_LEN], IndexSeen>,
    bundle_size: usize,
    /// [`MAX_INDEX_BUNDLES`], smaller in tests.
    index_limit: usize,
}

#[derive(Debug, Clone)]
struct IndexSeen {
    etag: Option<String>,
    generation: u64,
    bundles: Vec<[u8; ID_LEN]>,
}

impl Default for MailboxState {
    fn default() -> Self {
        Self::new()
    }
}

impl MailboxState {
    /// A new writer instance, knowing nothing of the bucket yet.
    pub fn new() -> Self {
        MailboxState {
            writer: random_id(),
            own: Vec::new(),
            generation: 0,
            index_stale: false,
            index_stored: false,
            known: HashMap::new(),
            bad: HashSet::new(),
            indexes: HashMap::new(),
            bundle_size: DEFAULT_BUNDLE_SIZE,
            index_limit: MAX_INDEX_BUNDLES,
        }
    }

    /// Bundles of at most `bytes`, sealed (but at least one entry each). Pick a size bucket
    /// (see [`padded_len`](super::padded_len)): 2^k or 1.5·2^k bytes.
    pub fn with_bundle_size(mut self, bytes: usize) -> Self {
        // Whatever the caller asks, a reader must accept what this writer makes, even a bundle
        // of the largest size with one more entry that did not fit.
        self.bundle_size = bytes.clamp(1, MAX_OBJECT_SIZE / 2);
        self
    }

    /// This writer's own part (its index name, generation and what it uploaded), to keep across
    /// restarts: going on as the same writer adds to one index instead of leaving a new index
    /// object in the bucket at every start (which every reader then reads).
    pub fn writer_state(&self) -> Vec<u8> {
        let mut out = self.writer.to_vec();
        out.push(u8::from(self.index_stored));
        out.extend(codec::encode_index(self.generation, &self.own));
        out
    }

    /// Go on as the writer that `saved` ([`writer_state`](Self::writer_state)) describes. What
    /// it uploaded counts as in the bucket until the bucket shows otherwise (its index gone, or
    /// a full listing without its bundles). Keep one writer state per running instance: two
    /// instances writing one index would overwrite each other's. The error says what is wrong.
    pub fn with_writer_state(mut self, saved: &[u8]) -> Result<Self, &'static str> {
        let (writer, rest) = saved.split_first_chunk::<ID_LEN>().ok_or("too short")?;
        let (&stored, index) = rest.split_first().ok_or("too short")?;
        let (generation, own) = codec::decode_index(index)?;
        self.writer = *writer;
        self.index_stored = stored == 1;
        self.generation = generation;
        self.index_stale = !self.index_stored && !own.is_empty();
        for r in &own {
            self.known.insert(r.id, *r);
        }
        self.own = own;
        Ok(self)
    }

    #[cfg(test)]
    pub(super) fn with_index_limit(mut self, bundles: usize) -> Self {
        self.index_limit = bundles;
        self
    }

    /// This instance's index object.
    pub fn index_name(&self) -> ObjectName {
        ObjectName::Index(self.writer)
    }

    /// How far from its start each log is in the bucket without a gap, by what this state knows.
    fn coverage(&self) -> HashMap<LogKey, u64> {
        let mut by_log: HashMap<LogKey, Vec<(u64, u64)>> = HashMap::new();
        for r in self.known.values().filter(|r| !self.bad.contains(&r.id)) {
            by_log.entry(r.log).or_default().push((r.first, r.last()));
        }
        by_log
            .into_iter()
            .map(|(log, mut ranges)| {
                ranges.sort_unstable();
                let mut covered = 0;
                for (first, last) in ranges {
                    if first > covered + 1 {
                        break;
                    }
                    covered = covered.max(last);
                }
                (log, covered)
            })
            .collect()
    }

    /// Bundles of every entry of the mailbox's festival that the bucket is not known to hold.
    /// Upload them (in any order, concurrently if you like), report each with
    /// [`uploaded`](Self::uploaded), then upload [`plan_index`](Self::plan_index).
    pub fn plan_upload(&self, key: &MailboxKey, logs: &impl LocalLogs) -> Vec<PutObject> {
        // What the entries may take so that the sealed bundle stays within `bundle_size`.
        let budget = self
            .bundle_size
            .saturating_sub(BUNDLE_HEAD + HEADER_LEN + SEAL_OVERHEAD);
        let mut puts = Vec::new();
        for (log, covered) in self.upload_needs(key, logs) {
            let entries = logs.entries_after(log, covered);
            let mut first = covered + 1;
            let mut start = 0;
            while start < entries.len() {
                // At least one entry per bundle, then as many as fit.
                let mut size = 0;
                let mut end = start;
                while let Some(stored) = entries.get(end) {
                    let more = stored.0.len() + stored.1.len() + PER_ENTRY;
                    if end > start && size + more > budget {
                        break;
                    }
                    size += more;
                    end += 1;
                }
                let bundle = Bundle {
                    log,
                    first,
                    entries: entries[start..end]
                        .iter()
                        .map(|(entry, payload)| (entry.to_vec(), payload.to_vec()))
                        .collect(),
                };
                let id = random_id();
                let object = ObjectName::Bundle(id);
                puts.push(PutObject {
                    name: key.name(object),
                    object,
                    bytes: key.seal(object, &codec::encode_bundle(&bundle)),
                    holds: Some(BundleRef {
                        id,
                        log,
                        first,
                        count: (end - start) as u32,
                    }),
                    entries: end - start,
                });
                first += (end - start) as u64;
                start = end;
            }
        }
        puts
    }

    /// The logs of the mailbox's festival with entries the bucket is not known to hold, and
    /// how far the bucket holds each: [`plan_upload`](Self::plan_upload) reads the entries of
    /// each log after that.
    pub fn upload_needs(&self, key: &MailboxKey, logs: &impl LocalLogs) -> Vec<(LogKey, u64)> {
        let coverage = self.coverage();
        logs.logs_of(key.topic())
            .into_iter()
            .filter_map(|(log, height)| {
                let covered = coverage.get(&log).copied().unwrap_or(0);
                (height > covered).then_some((log, covered))
            })
            .collect()
    }

    /// `put` (a bundle) is stored in the bucket: record it for this writer's index.
    pub fn uploaded(&mut self, put: &PutObject) {
        if let Some(holds) = put.holds {
            self.own.push(holds);
            self.known.insert(holds.id, holds);
            self.index_stale = true;
        }
    }

    /// This instance's index, when it lists less than what the instance uploaded (or always,
    /// with `force`). Upload it after the bundles it lists, so an index never names a missing
    /// bundle (except one deleted later).
    pub fn plan_index(&mut self, key: &MailboxKey, force: bool) -> Option<PutObject> {
        if !self.index_stale && !force {
            return None;
        }
        self.generation += 1;
        let object = self.index_name();
        let plain = codec::encode_index(self.generation, &self.own);
        Some(PutObject {
            name: key.name(object),
            object,
            bytes: key.seal(object, &plain),
            holds: None,
            entries: 0,
        })
    }

    /// The index `put` is stored: it lists everything uploaded before it was planned.
    pub fn index_uploaded(&mut self, put: &PutObject) {
        if put.object != self.index_name() {
            return;
        }
        self.index_stale = false;
        self.index_stored = true;
        if self.own.len() >= self.index_limit {
            // Full: it stays as it is, read (and watched for loss) like another writer's.
            let full = IndexSeen {
                etag: None,
                generation: self.generation,
                bundles: self.own.drain(..).map(|r| r.id).collect(),
            };
            self.indexes.insert(self.writer, full);
            self.writer = random_id();
            self.generation = 0;
            self.index_stored = false;
        }
    }

    /// Which indexes to download, from a LIST of [`MailboxKey::indexes_prefix`]: those not read
    /// yet or changed since (by ETag), except this instance's own.
    ///
    /// Indexes read before and missing now are forgotten with the bundles they named, and so
    /// are this instance's uploads if its own index is missing: the bucket lost them (emptied,
    /// or made anew), and whoever holds their entries uploads them again.
    pub fn plan_index_reads(
        &mut self,
        key: &MailboxKey,
        listed: &[ListedObject],
    ) -> Vec<GetObject> {
        let present: HashSet<ObjectName> = listed
            .iter()
            .filter_map(|l| key.parse_name(&l.name))
            .collect();
        let gone: Vec<[u8; ID_LEN]> = self
            .indexes
            .keys()
            .filter(|id| !present.contains(&ObjectName::Index(**id)))
            .copied()
            .collect();
        for id in gone {
            if let Some(seen) = self.indexes.remove(&id) {
                for bundle in seen.bundles {
                    self.known.remove(&bundle);
                }
            }
        }
        if self.index_stored && !present.contains(&self.index_name()) {
            for r in self.own.drain(..) {
                self.known.remove(&r.id);
            }
            self.index_stored = false;
            self.index_stale = false;
        }
        listed
            .iter()
            .filter_map(|l| match key.parse_name(&l.name)? {
                ObjectName::Index(id) if id != self.writer => {
                    let unchanged = l.etag.is_some()
                        && self.indexes.get(&id).map(|seen| &seen.etag) == Some(&l.etag);
                    (!unchanged).then(|| GetObject {
                        name: l.name.clone(),
                        object: ObjectName::Index(id),
                    })
                }
                _ => None,
            })
            .collect()
    }

    /// Take in an index: the bundles it lists become known. Returns how many were new. An index
    /// older than one read before under its name (a provider replaying it) adds nothing.
    pub fn accept_index(
        &mut self,
        key: &MailboxKey,
        get: &GetObject,
        etag: Option<String>,
        bytes: &[u8],
    ) -> Result<usize, MailboxError> {
        let ObjectName::Index(id) = get.object else {
            return Err(MailboxError::WrongName(get.name.clone()));
        };
        let plain = key.open(get.object, bytes)?;
        let (generation, refs) =
            codec::decode_index(&plain).map_err(|reason| MailboxError::Malformed {
                name: get.name.clone(),
                reason,
            })?;
        let seen = self.indexes.entry(id).or_insert(IndexSeen {
            etag: None,
            generation: 0,
            bundles: Vec::new(),
        });
        seen.etag = etag;
        if generation < seen.generation {
            return Ok(0);
        }
        seen.generation = generation;
        let listed: Vec<[u8; ID_LEN]> = refs.iter().map(|r| r.id).collect();
        // What the writer no longer lists (it found it gone) is forgotten here too.
        for dropped in std::mem::replace(&mut seen.bundles, listed) {
            if !refs.iter().any(|r| r.id == dropped) {
                self.known.remove(&dropped);
            }
        }
        let before = self.known.len();
        for r in refs {
            self.known.entry(r.id).or_insert(r);
        }
        Ok(self.known.len() - before)
    }

    /// Bundles to download so that `store` gets every entry the bucket is known to hold, and,
    /// with `listed` (a LIST of [`MailboxKey::bundles_prefix`]), every bundle no index names
    /// (whose content is unknown until it is read). Per log, a chain of known bundles that
    /// each continue the one before from the local height, preferring the longest reach, so
    /// overlapping uploads are not fetched twice. Bundles in `skip` are not planned (the caller's
    /// record of what it tried in this round, so a round ends).
    pub fn plan_download(
        &self,
        key: &MailboxKey,
        logs: &impl LocalLogs,
        listed: &[ListedObject],
        skip: &HashSet<ObjectName>,
    ) -> Vec<GetObject> {
        let wanted = |object: &ObjectName| !skip.contains(object);
        let mut gets: Vec<GetObject> = listed
            .iter()
            .filter_map(|l| match key.parse_name(&l.name)? {
                ObjectName::Bundle(id) if !self.known.contains_key(&id) => {
                    Some(ObjectName::Bundle(id))
                }
                _ => None,
            })
            .filter(|o| !self.is_bad(o) && wanted(o))
            .map(|object| GetObject {
                name: key.name(object),
                object,
            })
            .collect();
        let mut by_log: HashMap<LogKey, Vec<BundleRef>> = HashMap::new();
        for r in self.known.values() {
            let object = ObjectName::Bundle(r.id);
            if !self.bad.contains(&r.id) && wanted(&object) && r.last() > logs.height(r.log) {
                by_log.entry(r.log).or_default().push(*r);
            }
        }
        let mut by_log: Vec<_> = by_log.into_iter().collect();
        by_log.sort_by_key(|(log, _)| *log);
        let mut chains: Vec<std::vec::IntoIter<[u8; ID_LEN]>> = Vec::new();
        for (log, refs) in by_log {
            let mut chain = Vec::new();
            let mut reach = logs.height(log);
            // Ties go to the smaller id, so the plan does not depend on the map's order.
            while let Some(next) = refs
                .iter()
                .filter(|r| r.first <= reach + 1 && r.last() > reach)
                .max_by_key(|r| (r.last(), std::cmp::Reverse(r.id)))
            {
                reach = next.last();
                chain.push(next.id);
            }
            chains.push(chain.into_iter());
        }
        // Logs take turns, so every log's first entries (a festival's creation, its resources)
        // come early and what arrives is usable at once, as sync does.
        while !chains.is_empty() {
            chains.retain_mut(|chain| match chain.next() {
                Some(id) => {
                    let object = ObjectName::Bundle(id);
                    gets.push(GetObject {
                        name: key.name(object),
                        object,
                    });
                    true
                }
                None => false,
            });
        }
        gets
    }

    /// After a full LIST of [`MailboxKey::bundles_prefix`]: bundles known but not listed are
    /// gone, and count for nothing from now on.
    pub fn forget_unlisted(&mut self, key: &MailboxKey, listed: &[ListedObject]) {
        let present: HashSet<ObjectName> = listed
            .iter()
            .filter_map(|l| key.parse_name(&l.name))
            .collect();
        self.known
            .retain(|id, _| present.contains(&ObjectName::Bundle(*id)));
        let own = self.own.len();
        self.own
            .retain(|r| present.contains(&ObjectName::Bundle(r.id)));
        self.index_stale |= self.own.len() != own;
    }

    fn is_bad(&self, object: &ObjectName) -> bool {
        matches!(object, ObjectName::Bundle(id) if self.bad.contains(id))
    }

    /// Open a downloaded bundle. A bundle that does not open, or holds something other than its
    /// index said, is remembered as bad: it covers nothing from then on, so a writer holding its
    /// entries uploads them again.
    pub fn accept_bundle(
        &mut self,
        key: &MailboxKey,
        get: &GetObject,
        bytes: &[u8],
    ) -> Result<Bundle, MailboxError> {
        let ObjectName::Bundle(id) = get.object else {
            return Err(MailboxError::WrongName(get.name.clone()));
        };
        let name = || get.name.clone();
        let opened = key.open(get.object, bytes).and_then(|plain| {
            let bundle =
                codec::decode_bundle(&plain).map_err(|reason| MailboxError::Malformed {
                    name: name(),
                    reason,
                })?;
            let holds = BundleRef {
                id,
                log: bundle.log,
                first: bundle.first,
                count: bundle.entries.len() as u32,
            };
            match self.known.get(&id) {
                _ if bundle.entries.is_empty() => Err("no entries"),
                Some(listed) if *listed != holds => Err("holds other entries than its index says"),
                _ => Ok((bundle, holds)),
            }
            .map_err(|reason| MailboxError::Malformed {
                name: name(),
                reason,
            })
        });
        match opened {
            Ok((bundle, holds)) => {
                self.known.insert(id, holds);
                Ok(bundle)
            }
            Err(error) => {
                self.mark_bad(get);
                Err(error)
            }
        }
    }

    /// A bundle an index names is not in the bucket (deleted by someone) or cannot be used: it
    /// covers nothing from now on, so it is neither planned again nor trusted as uploaded.
    pub fn mark_bad(&mut self, get: &GetObject) {
        if let ObjectName::Bundle(id) = get.object {
            self.bad.insert(id);
        }
    }

    /// How many bundles this state knows in the bucket (good ones).
    pub fn known_bundles(&self) -> usize {
        self.known
            .keys()
            .filter(|id| !self.bad.contains(*id))
            .count()
    }
}
