//! The mailbox without I/O: a map stands in for the bucket, with LIST by prefix and ETags.

use std::collections::{BTreeMap, HashSet};

use crate::festival::Topic;
use crate::hash::Hash;
use crate::identity::KeyPair;
use crate::operation::*;
use crate::replica::Replica;
use crate::secret::SecretKey;

use super::*;

/// A bucket: names to bytes and an ETag that changes on every write.
#[derive(Default)]
struct Bucket {
    objects: BTreeMap<String, (Vec<u8>, u64)>,
    writes: u64,
}

impl Bucket {
    fn put(&mut self, put: &PutObject) {
        self.writes += 1;
        self.objects
            .insert(put.name.clone(), (put.bytes.clone(), self.writes));
    }

    fn list(&self, prefix: &str) -> Vec<ListedObject> {
        self.objects
            .iter()
            .filter(|(name, _)| name.starts_with(prefix))
            .map(|(name, (_, etag))| ListedObject {
                name: name.clone(),
                etag: Some(etag.to_string()),
            })
            .collect()
    }

    fn get(&self, name: &str) -> Option<&Vec<u8>> {
        self.objects.get(name).map(|(bytes, _)| bytes)
    }
}

/// Read the indexes that changed; the refused ones are returned.
fn read_indexes(state: &mut MailboxState, key: &MailboxKey, bucket: &Bucket) -> Vec<MailboxError> {
    let mut refused = Vec::new();
    let indexes = bucket.list(&key.indexes_prefix());
    for get in state.plan_index_reads(key, &indexes) {
        let etag = bucket.objects.get(&get.name).map(|(_, e)| e.to_string());
        let bytes = bucket.get(&get.name).cloned().unwrap_or_default();
        if let Err(error) = state.accept_index(key, &get, etag, &bytes) {
            refused.push(error);
        }
    }
    refused
}

/// Read the indexes, upload everything new, then the index, as a client does.
fn push(
    state: &mut MailboxState,
    key: &MailboxKey,
    logs: &impl LocalLogs,
    bucket: &mut Bucket,
) -> usize {
    read_indexes(state, key, bucket);
    let puts = state.plan_upload(key, logs);
    for put in &puts {
        bucket.put(put);
        state.uploaded(put);
    }
    if let Some(index) = state.plan_index(key, false) {
        bucket.put(&index);
        state.index_uploaded(&index);
    }
    puts.iter().map(|p| p.entries).sum()
}

/// What one pull did: objects downloaded, entries stored, objects refused.
#[derive(Debug, Default)]
struct Pulled {
    gets: usize,
    ingested: Ingested,
    refused: Vec<MailboxError>,
}

/// Read changed indexes, then bundles until nothing more can be planned; with `list_bundles`,
/// bundles no index names too.
fn pull(
    state: &mut MailboxState,
    key: &MailboxKey,
    replica: &mut Replica,
    bucket: &Bucket,
    list_bundles: bool,
) -> Pulled {
    let mut pulled = Pulled {
        refused: read_indexes(state, key, bucket),
        ..Pulled::default()
    };
    let listed = match list_bundles {
        true => bucket.list(&key.bundles_prefix()),
        false => Vec::new(),
    };
    let mut tried = HashSet::new();
    let mut assembler = Assembler::new(key.topic());
    loop {
        let gets = state.plan_download(key, &*replica, &listed, &tried);
        if gets.is_empty() {
            break;
        }
        for get in gets {
            tried.insert(get.object);
            pulled.gets += 1;
            let Some(bytes) = bucket.get(&get.name) else {
                state.mark_bad(&get);
                continue;
            };
            match state.accept_bundle(key, &get, bytes) {
                Ok(bundle) => assembler.add(bundle),
                Err(error) => pulled.refused.push(error),
            }
        }
        let ingested = assembler.ingest(replica);
        pulled.ingested.stored.extend(ingested.stored);
        pulled.ingested.duplicates += ingested.duplicates;
        pulled.ingested.rejected.extend(ingested.rejected);
    }
    pulled
}

/// A festival with a resource and events by two authors: (replica, topic, authors).
fn festival(events: usize) -> (Replica, Topic, [KeyPair; 2]) {
    let (owner, guest) = (KeyPair::generate(), KeyPair::generate());
    let mut replica = Replica::new();
    let create = Operation::FestivalCreate(FestivalCreate {
        name: "Summer camp".into(),
        description: String::new(),
        parent: None,
        fork_of: None,
    });
    let (festival, _) = replica.publish(&owner, &create).unwrap();
    let stage = Operation::ResourceCreate(ResourceCreate {
        festival,
        name: "Stage".into(),
        description: String::new(),
        kind: ResourceKind::Location(Location::default()),
        policy: PolicyKind::Fcfs,
    });
    let (stage, _) = replica.publish(&owner, &stage).unwrap();
    for i in 0..events {
        add_event(&mut replica, &guest, festival, stage, i);
    }
    (replica, festival, [owner, guest])
}

fn add_event(replica: &mut Replica, author: &KeyPair, festival: Topic, stage: Hash, i: usize) {
    let event = Operation::EventCreate(EventCreate {
        festival,
        title: format!("Talk {i}"),
        description: "Bring a friend".into(),
        start: i as i64 * 3_600_000,
        end: i as i64 * 3_600_000 + 1_800_000,
        resources: vec![stage],
    });
    replica.publish(author, &event).unwrap();
}

fn stage_of(replica: &Replica, topic: Topic) -> Hash {
    let festival = replica.state().festival(topic).unwrap();
    festival.resources()[0].id
}

#[test]
fn two_peers_converge_through_the_bucket_incrementally() {
    let (mut a, topic, [_, guest]) = festival(50);
    let key = MailboxKey::private(topic, &SecretKey::generate());
    let mut bucket = Bucket::default();
    let mut a_state = MailboxState::new().with_bundle_size(2_000);
    assert_eq!(push(&mut a_state, &key, &a, &mut bucket), 52);
    assert!(bucket.objects.len() > 3, "bundles of 2 KB: several");
    // Nothing new: nothing to upload, and the index is not rewritten.
    assert_eq!(push(&mut a_state, &key, &a, &mut bucket), 0);
    assert_eq!(bucket.writes as usize, bucket.objects.len());

    let mut b = Replica::new();
    let mut b_state = MailboxState::new();
    let pulled = pull(&mut b_state, &key, &mut b, &bucket, false);
    assert_eq!(pulled.ingested.stored.len(), 52);
    assert!(pulled.refused.is_empty());
    assert_eq!(b.state().snapshot(), a.state().snapshot());
    // B writes; B's push uploads only B's new entry, not what it read from A.
    let stage = stage_of(&b, topic);
    add_event(&mut b, &guest, topic, stage, 99);
    assert_eq!(push(&mut b_state, &key, &b, &mut bucket), 1);
    // A reads only the new bundle.
    let pulled = pull(&mut a_state, &key, &mut a, &bucket, false);
    assert_eq!((pulled.gets, pulled.ingested.stored.len()), (1, 1));
    assert_eq!(a.state().snapshot(), b.state().snapshot());
    assert_eq!(pull(&mut a_state, &key, &mut a, &bucket, false).gets, 0);
}

#[test]
fn a_lost_or_stale_index_is_made_up_for_by_listing() {
    let (a, topic, _) = festival(20);
    let key = MailboxKey::public(topic);
    let mut bucket = Bucket::default();
    let mut a_state = MailboxState::new().with_bundle_size(1_000);
    push(&mut a_state, &key, &a, &mut bucket);
    // The index is lost.
    bucket
        .objects
        .retain(|name, _| !name.starts_with(&key.indexes_prefix()));
    let mut b = Replica::new();
    let mut b_state = MailboxState::new();
    assert_eq!(pull(&mut b_state, &key, &mut b, &bucket, false).gets, 0);
    let pulled = pull(&mut b_state, &key, &mut b, &bucket, true);
    assert_eq!(pulled.ingested.stored.len(), 22);
    assert_eq!(b.state().snapshot(), a.state().snapshot());
    // Bundles now known by their content are not fetched again.
    assert_eq!(pull(&mut b_state, &key, &mut b, &bucket, true).gets, 0);
}

#[test]
fn a_reader_fetches_only_bundles_past_its_height_and_not_overlaps_twice() {
    let (a, topic, _) = festival(40);
    let key = MailboxKey::public(topic);
    let mut bucket = Bucket::default();
    // Two writers upload the same entries at once (neither saw the other's index).
    let (mut one, mut two) = (
        MailboxState::new().with_bundle_size(3_000),
        MailboxState::new().with_bundle_size(5_000),
    );
    let plans = [one.plan_upload(&key, &a), two.plan_upload(&key, &a)];
    for (state, puts) in [(&mut one, &plans[0]), (&mut two, &plans[1])] {
        for put in puts {
            bucket.put(put);
            state.uploaded(put);
        }
        let index = state.plan_index(&key, false).unwrap();
        bucket.put(&index);
    }
    let bundles = bucket.list(&key.bundles_prefix()).len();
    let mut b = Replica::new();
    let pulled = pull(&mut MailboxState::new(), &key, &mut b, &bucket, false);
    assert_eq!(pulled.ingested.stored.len(), 42);
    assert_eq!(pulled.ingested.duplicates, 0);
    assert!(
        pulled.gets < bundles / 2 + 2,
        "{} of {bundles}",
        pulled.gets
    );
}

#[test]
fn a_corrupted_bundle_is_refused_by_name_and_uploaded_again_by_a_holder() {
    let (a, topic, _) = festival(30);
    let key = MailboxKey::public(topic);
    let mut bucket = Bucket::default();
    let mut a_state = MailboxState::new().with_bundle_size(1_500);
    push(&mut a_state, &key, &a, &mut bucket);
    // Damage the first bundle of the guest's log (the owner's log is one bundle).
    let bundles = bucket.list(&key.bundles_prefix());
    let victim = bundles[bundles.len() / 2].name.clone();
    if let Some((bytes, _)) = bucket.objects.get_mut(&victim) {
        bytes[100] ^= 0x40;
    }
    let mut b = Replica::new();
    let mut b_state = MailboxState::new();
    let pulled = pull(&mut b_state, &key, &mut b, &bucket, false);
    assert_eq!(pulled.refused.len(), 1);
    assert_eq!(pulled.refused[0].name(), victim);
    assert!(matches!(pulled.refused[0], MailboxError::Corrupted { .. }));
    assert!(!pulled.ingested.stored.is_empty() && pulled.ingested.stored.len() < 32);
    let held = b.store().len();
    // B holds part: it uploads nothing the bucket already has, and loses nothing it holds.
    assert_eq!(push(&mut b_state, &key, &b, &mut bucket), 0);
    assert_eq!(b.store().len(), held);
    // Later B gets everything from A (by sync): having seen the damage, it uploads that range.
    for (log, _) in a.store().heights() {
        for stored in a.store().entries_after(log, 0) {
            b.ingest(stored.entry.bytes(), &stored.payload).unwrap();
        }
    }
    assert!(push(&mut b_state, &key, &b, &mut bucket) > 0);
    // A new reader gets everything, past the damaged bundle.
    let mut c = Replica::new();
    let pulled = pull(&mut MailboxState::new(), &key, &mut c, &bucket, false);
    assert_eq!(c.state().snapshot(), a.state().snapshot());
    assert!(pulled.refused.len() <= 1);
}

#[test]
fn two_instances_of_one_writer_keep_both_uploads() {
    let (a, topic, [owner, _]) = festival(5);
    let key = MailboxKey::public(topic);
    let mut bucket = Bucket::default();
    // Two devices with the same identity, each writing its own log of the festival.
    let (mut one, mut two) = (a.clone(), a.clone());
    let stage = stage_of(&a, topic);
    add_event(&mut one, &owner, topic, stage, 100);
    let other_device = KeyPair::generate();
    add_event(&mut two, &other_device, topic, stage, 200);
    let (mut s1, mut s2) = (MailboxState::new(), MailboxState::new());
    push(&mut s1, &key, &one, &mut bucket);
    push(&mut s2, &key, &two, &mut bucket);
    assert_ne!(s1.index_name(), s2.index_name());
    assert_eq!(bucket.list(&key.indexes_prefix()).len(), 2);
    let mut reader = Replica::new();
    pull(&mut MailboxState::new(), &key, &mut reader, &bucket, false);
    assert_eq!(reader.store().len(), a.store().len() + 2);
}

#[test]
fn a_replayed_older_index_adds_nothing() {
    let (mut a, topic, [_, guest]) = festival(3);
    let key = MailboxKey::public(topic);
    let mut bucket = Bucket::default();
    let mut state = MailboxState::new();
    push(&mut state, &key, &a, &mut bucket);
    let index = key.name(state.index_name());
    let old = bucket.objects[&index].clone();
    let stage = stage_of(&a, topic);
    add_event(&mut a, &guest, topic, stage, 7);
    push(&mut state, &key, &a, &mut bucket);
    let mut reader = MailboxState::new();
    let get = GetObject {
        name: index.clone(),
        object: state.index_name(),
    };
    let new = bucket.objects[&index].clone();
    let known = reader.accept_index(&key, &get, Some("2".into()), &new.0);
    assert_eq!(known, Ok(3));
    assert_eq!(
        reader.accept_index(&key, &get, Some("1".into()), &old.0),
        Ok(0)
    );
}

#[test]
fn forged_and_foreign_entries_in_a_bundle_are_refused() {
    let (a, topic, _) = festival(3);
    let (other, other_topic, _) = festival(1);
    let key = MailboxKey::public(topic);
    // A key holder uploads another festival's entries into this mailbox.
    let mut bucket = Bucket::default();
    let foreign = MailboxKey::public(other_topic);
    for mut put in MailboxState::new().plan_upload(&foreign, &other) {
        let holds = put.holds.unwrap();
        let bundle = codec::decode_bundle(&foreign.open(put.object, &put.bytes).unwrap()).unwrap();
        put.name = key.name(put.object);
        put.bytes = key.seal(put.object, &codec::encode_bundle(&bundle));
        assert_eq!(holds.count as usize, bundle.entries.len());
        bucket.put(&put);
    }
    let mut b = a.clone();
    let pulled = pull(&mut MailboxState::new(), &key, &mut b, &bucket, true);
    assert!(!pulled.ingested.rejected.is_empty());
    assert!(pulled
        .ingested
        .rejected
        .iter()
        .all(|r| r.error == EntryError::OutsideFestival));
    // The other festival does not come in. (Its guest's event, which names a festival unknown
    // here, is kept waiting as sync keeps it: it could be this festival's, its start not in yet.)
    assert!(b.state().festival(other_topic).is_none());
    assert!(b.store().len() <= a.store().len() + 1);

    // A bundle whose entry bytes were changed by a key holder: verification refuses it.
    let mut bucket = Bucket::default();
    for mut put in MailboxState::new().plan_upload(&key, &a) {
        let mut bundle = codec::decode_bundle(&key.open(put.object, &put.bytes).unwrap()).unwrap();
        let last = bundle.entries[0].0.len() - 1;
        bundle.entries[0].0[last] ^= 1;
        put.bytes = key.seal(put.object, &codec::encode_bundle(&bundle));
        bucket.put(&put);
    }
    let mut c = Replica::new();
    let pulled = pull(&mut MailboxState::new(), &key, &mut c, &bucket, true);
    assert!(
        pulled
            .ingested
            .rejected
            .iter()
            .all(|r| matches!(r.error, EntryError::Invalid(_))),
        "{:?}",
        pulled.ingested.rejected
    );
    assert!(!pulled.ingested.rejected.is_empty());
    assert_eq!(c.store().len(), 0);
}

#[test]
fn bundles_arriving_out_of_order_wait_for_their_predecessors() {
    let (a, topic, _) = festival(30);
    let key = MailboxKey::public(topic);
    let mut puts = MailboxState::new()
        .with_bundle_size(800)
        .plan_upload(&key, &a);
    assert!(puts.len() > 5);
    puts.reverse();
    let mut state = MailboxState::new();
    let mut assembler = Assembler::new(topic);
    let mut b = Replica::new();
    for put in &puts {
        let get = GetObject {
            name: put.name.clone(),
            object: put.object,
        };
        assembler.add(state.accept_bundle(&key, &get, &put.bytes).unwrap());
        // Nothing of the guest's log can go in before its first bundle arrives.
        assembler.ingest(&mut b);
    }
    assert_eq!(assembler.pending(), 0);
    assert_eq!(b.state().snapshot(), a.state().snapshot());
}

#[test]
fn bundles_stay_within_their_size_and_objects_are_padded() {
    let (a, topic, _) = festival(200);
    let key = MailboxKey::public(topic);
    let puts = MailboxState::new()
        .with_bundle_size(8192)
        .plan_upload(&key, &a);
    for put in &puts {
        assert_eq!(put.bytes.len(), padded_len(put.bytes.len() - 49));
        assert!(put.bytes.len() <= 8192);
    }
    // Full bundles fill their bucket: all but the last of each log are 8 KiB exactly.
    assert!(puts.iter().filter(|p| p.bytes.len() == 8192).count() >= puts.len() - 2);
    let entries: usize = puts.iter().map(|p| p.entries).sum();
    assert_eq!(entries, 202);
    // Consecutive and complete per log.
    let mut refs: Vec<BundleRef> = puts.iter().filter_map(|p| p.holds).collect();
    refs.sort_by_key(|r| (r.log, r.first));
    for pair in refs.windows(2) {
        if pair[0].log == pair[1].log {
            assert_eq!(pair[0].last() + 1, pair[1].first);
        }
    }
}

#[test]
fn wrong_key_and_wrong_kind_are_typed_errors() {
    let (a, topic, _) = festival(1);
    let key = MailboxKey::public(topic);
    let private = MailboxKey::private(topic, &SecretKey::generate());
    let put = &MailboxState::new().plan_upload(&key, &a)[0];
    let get = GetObject {
        name: put.name.clone(),
        object: put.object,
    };
    let mut state = MailboxState::new();
    assert!(matches!(
        state.accept_bundle(&private, &get, &put.bytes),
        Err(MailboxError::WrongKey { .. })
    ));
    assert!(matches!(
        state.accept_index(&key, &get, None, &put.bytes),
        Err(MailboxError::WrongName(_))
    ));
}

#[test]
fn what_the_bucket_lost_is_uploaded_again() {
    let (a, topic, _) = festival(20);
    let key = MailboxKey::public(topic);
    let mut bucket = Bucket::default();
    let mut writer = MailboxState::new().with_bundle_size(2_000);
    assert_eq!(push(&mut writer, &key, &a, &mut bucket), 22);
    let mut reader = MailboxState::new();
    let mut b = Replica::new();
    pull(&mut reader, &key, &mut b, &bucket, false);
    assert_eq!(push(&mut reader, &key, &b, &mut bucket), 0);
    // The bucket is emptied: both notice at their next LIST of indexes and upload again.
    bucket.objects.clear();
    assert_eq!(push(&mut writer, &key, &a, &mut bucket), 22);
    bucket.objects.clear();
    assert_eq!(push(&mut reader, &key, &b, &mut bucket), 22);
    // Bundles deleted one by one show in a full LIST: only their entries go up again.
    let bundles = bucket.list(&key.bundles_prefix());
    bucket.objects.remove(&bundles[0].name);
    let mut writer = MailboxState::new();
    assert_eq!(push(&mut writer, &key, &a, &mut bucket), 0);
    writer.forget_unlisted(&key, &bucket.list(&key.bundles_prefix()));
    let again = push(&mut writer, &key, &a, &mut bucket);
    assert!(again > 0 && again < 22, "{again}");
}

#[test]
fn a_full_index_is_kept_and_the_writer_goes_on_under_a_new_one() {
    let (mut a, topic, [_, guest]) = festival(10);
    let key = MailboxKey::public(topic);
    let mut bucket = Bucket::default();
    let mut writer = MailboxState::new().with_bundle_size(1).with_index_limit(5);
    let first = writer.index_name();
    assert_eq!(push(&mut writer, &key, &a, &mut bucket), 12);
    assert_ne!(writer.index_name(), first);
    let stage = stage_of(&a, topic);
    add_event(&mut a, &guest, topic, stage, 50);
    assert_eq!(push(&mut writer, &key, &a, &mut bucket), 1);
    assert_eq!(bucket.list(&key.indexes_prefix()).len(), 2);
    let mut b = Replica::new();
    pull(&mut MailboxState::new(), &key, &mut b, &bucket, false);
    assert_eq!(b.state().snapshot(), a.state().snapshot());
    // The full index is watched like any: when it is gone, its bundles go up again (and the
    // guest's later entry, which follows the gap).
    bucket.objects.remove(&key.name(first));
    assert_eq!(push(&mut writer, &key, &a, &mut bucket), 13);
}

/// The browser's way: the planner sees only a [`LogSnapshot`] (heights, and the entries it asks
/// for), and bundles go into the replica one by one through [`ingest_bundle`].
#[test]
fn a_planner_apart_from_the_replica_uploads_and_downloads_the_same() {
    let (a, topic, _) = festival(30);
    let key = MailboxKey::public(topic);
    let mut bucket = Bucket::default();
    let mut writer = MailboxState::new().with_bundle_size(2_000);
    let heights = a.logs_of(topic);
    let mut snapshot = LogSnapshot::new(heights.clone());
    assert!(
        writer.plan_upload(&key, &snapshot).is_empty(),
        "no entries given yet"
    );
    for (log, after) in writer.upload_needs(&key, &snapshot) {
        let entries = a.entries_after(log, after);
        let owned = entries
            .iter()
            .map(|(e, p)| (e.to_vec(), p.to_vec()))
            .collect();
        snapshot.add_entries(log, after, owned);
    }
    let puts = writer.plan_upload(&key, &snapshot);
    assert_eq!(puts.iter().map(|p| p.entries).sum::<usize>(), 32);
    for put in &puts {
        bucket.put(put);
        writer.uploaded(put);
    }
    assert!(writer.upload_needs(&key, &snapshot).is_empty());

    let mut b = Replica::new();
    let (mut reader, mut assembler) = (MailboxState::new(), Assembler::new(topic));
    let listed = bucket.list(&key.bundles_prefix());
    let mut view = LogSnapshot::new(Vec::new());
    let gets = reader.plan_download(&key, &view, &listed, &HashSet::new());
    assert_eq!(gets.len(), puts.len());
    // Arriving in reverse, bundles wait for the ones before them.
    for get in gets.iter().rev() {
        let bytes = bucket.get(&get.name).unwrap();
        assembler.add(reader.accept_bundle(&key, get, bytes).unwrap());
    }
    let mut stored = 0;
    while let Some(bundle) = assembler.next_ready(&view) {
        stored += ingest_bundle(&mut b, topic, &bundle).stored.len();
        view = LogSnapshot::new(b.logs_of(topic));
    }
    assert_eq!((stored, assembler.pending()), (32, 0));
    assert_eq!(b.state().snapshot(), a.state().snapshot());
}

/// A writer that goes on from its saved state adds to its one index: no index object per start.
#[test]
fn a_writer_resumed_from_its_state_keeps_one_index() {
    let (mut a, topic, [_, guest]) = festival(20);
    let key = MailboxKey::public(topic);
    let mut bucket = Bucket::default();
    let mut first = MailboxState::new().with_bundle_size(2_000);
    assert_eq!(push(&mut first, &key, &a, &mut bucket), 22);
    let saved = first.writer_state();
    let stage = stage_of(&a, topic);
    add_event(&mut a, &guest, topic, stage, 50);

    let mut resumed = MailboxState::new().with_writer_state(&saved).unwrap();
    assert_eq!(resumed.index_name(), first.index_name());
    assert_eq!(
        push(&mut resumed, &key, &a, &mut bucket),
        1,
        "only the new entry"
    );
    assert_eq!(bucket.list(&key.indexes_prefix()).len(), 1);
    let mut b = Replica::new();
    let pulled = pull(&mut MailboxState::new(), &key, &mut b, &bucket, false);
    assert_eq!(pulled.ingested.stored.len(), 23);

    // A saved state whose bucket lost everything uploads everything again.
    let mut empty = Bucket::default();
    let mut resumed = MailboxState::new().with_writer_state(&saved).unwrap();
    assert_eq!(push(&mut resumed, &key, &a, &mut empty), 23);
    // Damaged state is refused, not half taken.
    assert!(MailboxState::new().with_writer_state(&saved[..10]).is_err());
    // Cut inside the first bundle reference (after id, flag, kind, generation, group count,
    // log key and its count).
    assert!(MailboxState::new().with_writer_state(&saved[..84]).is_err());
}

/// Titles of a festival's events, sorted (empty if it cannot be read).
fn titles(replica: &Replica, festival: Topic) -> Vec<String> {
    let Some(query) = replica.state().festival(festival) else {
        return Vec::new();
    };
    let mut titles: Vec<String> = query
        .events_in_range(Millis::MIN, Millis::MAX)
        .into_iter()
        .map(|e| e.title)
        .collect();
    titles.sort();
    titles
}

/// After a rotation, members who only meet through the bucket and hold only the old key find
/// the new one: writers forward the creation log (with the key shares) to the old key's
/// mailbox. The removed member reads that mailbox too, and nothing new in it.
#[test]
fn after_a_rotation_the_old_mailbox_leads_members_to_the_new_key() {
    let (alice, bob, eve) = (
        KeyPair::generate(),
        KeyPair::generate(),
        KeyPair::generate(),
    );
    let mut owner = Replica::new();
    owner.set_identity(alice.clone());
    let create = FestivalCreate {
        name: "Camp".into(),
        description: String::new(),
        parent: None,
        fork_of: None,
    };
    let (festival, _) = owner.publish_private_festival(&alice, create).unwrap();
    let talk = |title: &str| {
        Operation::EventCreate(EventCreate {
            festival,
            title: title.into(),
            description: String::new(),
            start: 0,
            end: 1,
            resources: vec![],
        })
    };
    owner.publish(&alice, &talk("before")).unwrap();
    let old_key = owner.private().keyring.current(&festival).unwrap().clone();
    let old_box = MailboxKey::private(festival, &old_key);
    let mut bucket = Bucket::default();
    let mut old_writer = MailboxState::new();
    push(&mut old_writer, &old_box, &owner, &mut bucket);

    // Eve is removed; Alice writes on under the new key, into the new key's mailbox.
    owner
        .rotate_festival_key(&alice, festival, &[bob.public_key()])
        .unwrap();
    owner.publish(&alice, &talk("after")).unwrap();
    let new_key = owner.private().keyring.current(&festival).unwrap().clone();
    assert_eq!(owner.private().keyring.older(&festival), [&old_key]);
    let new_box = MailboxKey::private(festival, &new_key);
    push(&mut MailboxState::new(), &new_box, &owner, &mut bucket);
    let only_new = |bucket: &Bucket| {
        let mut bob_alone = Replica::new();
        bob_alone.set_identity(bob.clone());
        bob_alone.add_festival_key(festival, old_key.clone());
        pull(
            &mut MailboxState::new(),
            &old_box,
            &mut bob_alone,
            bucket,
            true,
        );
        bob_alone.private().keyring.current(&festival) == Some(&new_key)
    };
    assert!(
        !only_new(&bucket),
        "without forwarding, the old mailbox never tells Bob"
    );

    // Forwarded: the creation log only (the rotation's share is in it).
    let creation = creation_log(&owner, festival).unwrap();
    let forwarded = push(
        &mut old_writer,
        &old_box,
        &OneLog {
            logs: &owner,
            log: creation,
        },
        &mut bucket,
    );
    assert_eq!(
        forwarded, 2,
        "the share and the new event, both in the creation log"
    );

    let mut bobs = Replica::new();
    bobs.set_identity(bob.clone());
    bobs.add_festival_key(festival, old_key.clone());
    pull(&mut MailboxState::new(), &old_box, &mut bobs, &bucket, true);
    assert_eq!(bobs.private().keyring.current(&festival), Some(&new_key));
    pull(&mut MailboxState::new(), &new_box, &mut bobs, &bucket, true);
    assert_eq!(titles(&bobs, festival), ["after", "before"]);

    let mut eves = Replica::new();
    eves.set_identity(eve);
    eves.add_festival_key(festival, old_key);
    pull(&mut MailboxState::new(), &old_box, &mut eves, &bucket, true);
    assert_eq!(titles(&eves, festival), ["before"]);
}
