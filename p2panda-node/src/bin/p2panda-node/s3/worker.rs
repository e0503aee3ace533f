//! The S3 worker: one task keeping every joined festival's mailbox in step with the node, one
//! request at a time (a node's bucket traffic is small; sync with peers goes on meanwhile).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use p2panda_core::festival::Topic;
use p2panda_core::mailbox::{creation_log, MailboxKey, OneLog, PutObject};
use p2panda_core::replica::Replica;
use p2panda_node::native_peer::NativePeer;
use p2panda_node::storage::{Durable, JournalError, Ticket};
use p2panda_s3::{Mailbox, PullReport, PushReport, ReplicaAccess, S3Config, S3Error};
use serde_json::json;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::{code, Settings, Writers};
use crate::output;

/// The least time between two pushes of one festival: commits in between go in one push.
const DEBOUNCE: Duration = Duration::from_secs(1);
/// After failures the wait before the next try doubles from `--s3-interval` up to this many
/// intervals (and at most [`MAX_BACKOFF`]).
const BACKOFF_INTERVALS: u32 = 8;
const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);

/// The running worker.
pub struct S3Task {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl S3Task {
    /// Starts the worker for `peer`'s festivals (those joined now and later): it pulls each at
    /// once.
    pub fn spawn(settings: Settings, peer: NativePeer) -> Self {
        let (stop, stopped) = oneshot::channel();
        let worker = Worker {
            durable: peer.journal().subscribe(),
            peer,
            config: settings.config,
            interval: settings.interval,
            writers: settings.writers,
            festivals: BTreeMap::new(),
            check_at: Some(Instant::now()),
            last_check: None,
        };
        S3Task {
            stop,
            task: tokio::spawn(worker.run(stopped)),
        }
    }

    /// Pushes what the bucket lacks (one try each) and stops; gives up after `grace`.
    pub async fn finish(self, grace: Duration) {
        let _ = self.stop.send(());
        let mut task = self.task;
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            task.abort();
            eprintln!("p2panda-node: S3: stopped before the last push finished");
        }
    }
}

/// One festival's mailbox and what the worker knows of it.
struct Festival {
    mailbox: Mailbox,
    /// The mailboxes of keys a rotation replaced: the creation log (with the key shares) is
    /// forwarded there, for members who have not learned the newest key yet (see `OneLog`).
    forwards: Vec<Mailbox>,
    /// The festival's entries in the bucket as far as this node knows (after its last push, or
    /// a pull from a clean state); `None` before the first push.
    pushed: Option<u64>,
    /// Entries stored here since that may not be in the bucket.
    dirty: bool,
    /// Whether a pull succeeded once (the first is always reported).
    pulled: bool,
    next_pull: Instant,
    last_push: Option<Instant>,
    /// Failures in a row, and no request before `retry_at` after one.
    failures: u32,
    retry_at: Option<Instant>,
}

impl Festival {
    fn new(mailbox: Mailbox) -> Self {
        Festival {
            mailbox,
            forwards: Vec::new(),
            pushed: None,
            dirty: false,
            pulled: false,
            next_pull: Instant::now(),
            last_push: None,
            failures: 0,
            retry_at: None,
        }
    }

    fn push_due(&self) -> Option<Instant> {
        self.dirty
            .then(|| self.last_push.map_or(Instant::now(), |at| at + DEBOUNCE))
    }

    /// When this festival next has work, if it has any.
    fn next_work(&self) -> Instant {
        if let Some(retry) = self.retry_at.filter(|at| *at > Instant::now()) {
            return retry;
        }
        self.push_due()
            .map_or(self.next_pull, |push| push.min(self.next_pull))
    }
}

struct Worker {
    peer: NativePeer,
    config: S3Config,
    interval: Duration,
    /// Mailbox writer states kept across restarts (with `--data`).
    writers: Option<Writers>,
    festivals: BTreeMap<Topic, Festival>,
    durable: watch::Receiver<Durable>,
    /// When to look at what is stored again (set after a commit, at most once per
    /// [`DEBOUNCE`]).
    check_at: Option<Instant>,
    last_check: Option<Instant>,
}

/// What a pull stored through the node.
#[derive(Default)]
struct Tally {
    stored: usize,
    ticket: Option<Ticket>,
    failed: Option<JournalError>,
}

/// The node's replica as a pull sees it: read under the node's lock, written through the
/// node, so what arrives is journaled and announced to peers like entries from a peer.
struct NodeAccess<'a> {
    peer: &'a NativePeer,
    tally: &'a mut Tally,
}

impl ReplicaAccess for NodeAccess<'_> {
    fn read<R>(&mut self, look: impl FnOnce(&Replica) -> R) -> R {
        self.peer.with_node(|node| look(node.replica()))
    }

    fn write<R>(&mut self, change: impl FnOnce(&mut Replica) -> R) -> R {
        let ((result, stored), recorded) = self.peer.ingest_with(|replica| {
            let before = replica.store().len();
            let result = change(replica);
            (result, replica.store().len().saturating_sub(before))
        });
        self.tally.stored += stored;
        match recorded {
            Ok(ticket) => self.tally.ticket = ticket.or(self.tally.ticket),
            Err(error) => self.tally.failed = Some(error),
        }
        result
    }
}

/// The mailbox key of `topic`: from its current secret key when the node holds it.
fn mailbox_key(replica: &Replica, topic: Topic) -> MailboxKey {
    match replica.private().keyring.current(&topic) {
        Some(key) => MailboxKey::private(topic, key),
        None => MailboxKey::public(topic),
    }
}

/// How many entries of each of `topics` the replica holds.
fn counts(replica: &Replica, topics: &[Topic]) -> HashMap<Topic, u64> {
    let mut counts: HashMap<Topic, u64> = topics.iter().map(|t| (*t, 0)).collect();
    for (log, height) in replica.store().heights() {
        if let Some(count) = replica
            .topic_of_log(log)
            .and_then(|topic| counts.get_mut(&topic))
        {
            *count += height;
        }
    }
    counts
}

fn count_of(replica: &Replica, topic: Topic) -> u64 {
    counts(replica, &[topic]).get(&topic).copied().unwrap_or(0)
}

impl Worker {
    async fn run(mut self, mut stop: oneshot::Receiver<()>) {
        loop {
            let now = Instant::now();
            if self.check_at.is_some_and(|at| at <= now) {
                self.check(now);
            }
            if self.work().await.is_err() {
                return; // The journal failed: the node is stopping.
            }
            let wake = self
                .festivals
                .values()
                .map(Festival::next_work)
                .chain(self.check_at)
                .min()
                .unwrap_or_else(|| Instant::now() + self.interval);
            tokio::select! {
                changed = self.durable.changed() => {
                    if changed.is_err() {
                        return; // The journal is gone.
                    }
                    self.committed();
                }
                _ = tokio::time::sleep_until(wake) => {}
                _ = &mut stop => {
                    self.flush().await;
                    return;
                }
            }
        }
    }

    /// The journal made something durable: look again soon (festivals joined or left, entries
    /// stored).
    fn committed(&mut self) {
        if self.check_at.is_none() {
            let earliest = self.last_check.map_or(Instant::now(), |at| at + DEBOUNCE);
            self.check_at = Some(earliest.max(Instant::now()));
        }
    }

    /// Brings the mailboxes in line with the joined festivals and their keys, and marks
    /// festivals holding entries not pushed yet.
    fn check(&mut self, now: Instant) {
        self.check_at = None;
        self.last_check = Some(now);
        let joined: Vec<(Topic, MailboxKey, u64, Vec<MailboxKey>)> = self.peer.with_node(|node| {
            let topics: Vec<Topic> = node.topics().iter().copied().collect();
            let counts = counts(node.replica(), &topics);
            topics
                .iter()
                .map(|t| {
                    let key = mailbox_key(node.replica(), *t);
                    let keyring = &node.replica().private().keyring;
                    let older = keyring.older(t);
                    let older = older.into_iter().map(|k| MailboxKey::private(*t, k));
                    (
                        *t,
                        key,
                        counts.get(t).copied().unwrap_or(0),
                        older.collect(),
                    )
                })
                .collect()
        });
        self.festivals
            .retain(|topic, _| joined.iter().any(|(t, ..)| t == topic));
        for (topic, key, count, older) in joined {
            let current = self.festivals.get(&topic).map(|f| f.mailbox.key() == &key);
            if current != Some(true) {
                // New here, or its key changed (learned or rotated): a fresh mailbox.
                let state = self.writers.as_ref().map(|w| w.load(&key));
                match Mailbox::new(self.config.clone(), key) {
                    Ok(mailbox) => {
                        let mailbox = match state {
                            Some(state) => mailbox.with_state(state),
                            None => mailbox,
                        };
                        self.festivals.insert(topic, Festival::new(mailbox));
                    }
                    Err(error) => {
                        error_event(&topic, "open", &error, 0, None);
                        continue;
                    }
                }
            }
            if let Some(festival) = self.festivals.get_mut(&topic) {
                festival.dirty = festival.pushed.map_or(count > 0, |pushed| count > pushed);
                festival.forwards.retain(|m| older.contains(m.key()));
                for key in older {
                    if festival.forwards.iter().all(|m| m.key() != &key) {
                        if let Ok(mailbox) = Mailbox::new(self.config.clone(), key) {
                            festival.forwards.push(mailbox);
                        }
                    }
                }
            }
        }
    }

    /// Every pull and push that is due, festival by festival.
    async fn work(&mut self) -> Result<(), JournalError> {
        let topics: Vec<Topic> = self.festivals.keys().copied().collect();
        for topic in topics {
            let now = Instant::now();
            let waiting = |f: &Festival| f.retry_at.is_some_and(|at| at > Instant::now());
            let Some(festival) = self.festivals.get(&topic) else {
                continue;
            };
            if waiting(festival) {
                continue;
            }
            if festival.next_pull <= now {
                self.pull(topic).await?;
            }
            // Not right after a failed pull: the push waits for the retry too.
            let push = self.festivals.get(&topic).is_some_and(|f| {
                !waiting(f) && f.push_due().is_some_and(|at| at <= Instant::now())
            });
            if push {
                self.push(topic).await?;
            }
        }
        Ok(())
    }

    /// Pushes every festival holding entries that may not be in the bucket, once each.
    async fn flush(&mut self) {
        self.check(Instant::now());
        let dirty: Vec<Topic> = self
            .festivals
            .iter()
            .filter(|(_, f)| f.dirty)
            .map(|(t, _)| *t)
            .collect();
        for topic in dirty {
            if self.push(topic).await.is_err() {
                return;
            }
        }
    }

    async fn pull(&mut self, topic: Topic) -> Result<(), JournalError> {
        let started = Instant::now();
        let interval = self.interval;
        let before = self.peer.with_node(|node| count_of(node.replica(), topic));
        let Some(festival) = self.festivals.get_mut(&topic) else {
            return Ok(());
        };
        let mut tally = Tally::default();
        let access = NodeAccess {
            peer: &self.peer,
            tally: &mut tally,
        };
        let result = festival.mailbox.pull(access).await;
        // Reported only once what it stored is durable, as a peer's entries are acknowledged.
        if let Some(error) = tally.failed {
            return Err(error);
        }
        if let Some(ticket) = tally.ticket {
            self.peer.journal().wait(ticket).await?;
        }
        match result {
            Ok(report) => {
                festival.failures = 0;
                festival.retry_at = None;
                festival.next_pull = Instant::now() + interval;
                // What came from the bucket is there already.
                if festival.pushed == Some(before) {
                    festival.pushed = Some(before + report.entries as u64);
                }
                let first = !festival.pulled;
                festival.pulled = true;
                pull_event(&topic, &report, first, started);
            }
            Err(error) => fail(festival, interval, &topic, "pull", &error, tally.stored),
        }
        Ok(())
    }

    async fn push(&mut self, topic: Topic) -> Result<(), JournalError> {
        let started = Instant::now();
        let interval = self.interval;
        let Some(festival) = self.festivals.get_mut(&topic) else {
            return Ok(());
        };
        festival.last_push = Some(started);
        let pushed = push_through(&self.peer, &mut festival.mailbox, |mailbox, replica| {
            (mailbox.push_plan(replica), count_of(replica, topic))
        })
        .await?;
        match pushed {
            Ok((report, count)) => {
                festival.failures = 0;
                festival.retry_at = None;
                festival.pushed = Some(count);
                festival.dirty = false;
                if let (Some(writers), true) = (&self.writers, report.index) {
                    writers.save(festival.mailbox.key(), festival.mailbox.state());
                }
                push_event(&topic, &report, started);
            }
            Err(error) => {
                fail(festival, interval, &topic, "push", &error, 0);
                return Ok(());
            }
        }
        // After a rotation: the creation log (with the key shares) to the older keys' mailboxes.
        let mut failure = None;
        for mailbox in &mut festival.forwards {
            let forwarded = push_through(&self.peer, mailbox, |mailbox, replica| {
                let puts = creation_log(replica, topic).map_or_else(Vec::new, |log| {
                    mailbox.push_plan(&OneLog { logs: replica, log })
                });
                (puts, ())
            })
            .await?;
            if let Err(error) = forwarded {
                failure = Some(error);
                break;
            }
        }
        if let Some(error) = failure {
            fail(festival, interval, &topic, "forward", &error, 0);
        }
        Ok(())
    }
}

/// One push through `mailbox`: read the other writers' indexes, plan (`plan`, which also
/// returns what else it reads) from durable entries only — a crash must not lose an own entry
/// that already left the node — under the node's lock, and upload after it is released.
async fn push_through<R>(
    peer: &NativePeer,
    mailbox: &mut Mailbox,
    plan: impl FnOnce(&Mailbox, &Replica) -> (Vec<PutObject>, R),
) -> Result<Result<(PushReport, R), S3Error>, JournalError> {
    let indexes_read = match mailbox.push_prepare().await {
        Ok(read) => read,
        Err(error) => return Ok(Err(error)),
    };
    let planner = &*mailbox;
    let (puts, extra) = peer.read_durable(|replica| plan(planner, replica)).await?;
    Ok(mailbox.push_upload(puts).await.map(|mut report| {
        report.indexes_read = indexes_read;
        (report, extra)
    }))
}

/// A failed request: reported, and the festival waits before its next one, longer each time.
fn fail(
    festival: &mut Festival,
    interval: Duration,
    topic: &Topic,
    op: &str,
    error: &S3Error,
    stored: usize,
) {
    festival.failures = festival.failures.saturating_add(1);
    let delay = backoff(interval, festival.failures);
    festival.retry_at = Some(Instant::now() + delay);
    let mut line = error_event_fields(topic, op, error, stored);
    line["failures"] = festival.failures.into();
    line["retryInMs"] = (delay.as_millis() as u64).into();
    output::event("s3-error", line);
}

/// `interval` doubled for each failure after the first, up to [`BACKOFF_INTERVALS`] intervals
/// or [`MAX_BACKOFF`] (but never less than one interval).
fn backoff(interval: Duration, failures: u32) -> Duration {
    let factor = 1u32 << failures.saturating_sub(1).min(16);
    let cap = (interval * BACKOFF_INTERVALS)
        .min(MAX_BACKOFF)
        .max(interval);
    (interval * factor.min(BACKOFF_INTERVALS)).min(cap)
}

fn error_event_fields(
    topic: &Topic,
    op: &str,
    error: &S3Error,
    stored: usize,
) -> serde_json::Value {
    json!({
        "festival": topic.to_hex(),
        "op": op,
        "code": code(error),
        "error": error.to_string(),
        "entries": stored,
    })
}

fn error_event(topic: &Topic, op: &str, error: &S3Error, stored: usize, extra: Option<usize>) {
    let mut line = error_event_fields(topic, op, error, stored);
    if let Some(objects) = extra {
        line["objects"] = objects.into();
    }
    output::event("s3-error", line);
}

fn push_event(topic: &Topic, report: &PushReport, started: Instant) {
    output::event(
        "s3-push",
        json!({
            "festival": topic.to_hex(),
            "objects": report.bundles + usize::from(report.index),
            "entries": report.entries,
            "bytes": report.bytes,
            "indexesRead": report.indexes_read,
            "ms": started.elapsed().as_millis() as u64,
        }),
    );
}

/// Reports a pull: always the first of a mailbox, later ones when they fetched something.
/// Objects refused (corrupted, another key) are reported as an `s3-error` too; the rest of the
/// pull counts.
fn pull_event(topic: &Topic, report: &PullReport, first: bool, started: Instant) {
    let rejected = report.rejected_objects.len();
    if first || report.bundles > 0 || report.entries > 0 || rejected > 0 {
        output::event(
            "s3-pull",
            json!({
                "festival": topic.to_hex(),
                "objects": report.bundles,
                "entries": report.entries,
                "duplicates": report.duplicates,
                "bytes": report.bytes,
                "indexesRead": report.indexes_read,
                "listed": report.listed,
                "missing": report.missing,
                "rejectedObjects": rejected,
                "rejectedEntries": report.rejected_entries.len(),
                "ms": started.elapsed().as_millis() as u64,
            }),
        );
    }
    if let Err(error) = report.clone().check() {
        error_event(topic, "pull", &error, report.entries, Some(rejected));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        let s = Duration::from_secs;
        let waits: Vec<Duration> = (1..=6).map(|n| backoff(s(30), n)).collect();
        assert_eq!(waits, [s(30), s(60), s(120), s(240), s(240), s(240)]);
        assert_eq!(backoff(s(3600), 3), MAX_BACKOFF.max(s(3600)));
        assert_eq!(backoff(s(1), 40), s(8));
    }
}
