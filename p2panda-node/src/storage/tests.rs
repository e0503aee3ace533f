//! The data directory end to end, in process: what is recorded comes back, damage is cut off.

use p2panda_core::hash::Hash;
use p2panda_core::identity::KeyPair;
use p2panda_core::operation::*;
use p2panda_core::replica::IngestError;
use p2panda_core::store::{LogKey, StoreError};

use super::*;

/// A festival of `n` entries by two authors, recorded into `opened`'s journal as it grows.
async fn write_festival(opened: &mut Opened, n: usize) -> Hash {
    let other = KeyPair::generate();
    let create = Operation::FestivalCreate(FestivalCreate {
        name: "Fair".into(),
        description: String::new(),
        parent: None,
        fork_of: None,
    });
    let (festival, _) = opened
        .replica
        .publish(&opened.key_pair, &create)
        .expect("create");
    for i in 1..n {
        let op = Operation::ResourceCreate(ResourceCreate {
            festival,
            name: format!("Thing {i}"),
            description: String::new(),
            kind: ResourceKind::Item,
            policy: PolicyKind::Fcfs,
        });
        let author = if i % 2 == 0 { &opened.key_pair } else { &other };
        opened.replica.publish(author, &op).expect("publish");
    }
    let last = opened
        .recorder
        .catch_up(&opened.replica, &opened.journal)
        .expect("recorded")
        .expect("something new");
    let joined = opened
        .journal
        .append(Record::Join(festival))
        .expect("join recorded");
    assert!(joined > last);
    opened.journal.wait(joined).await.expect("durable");
    festival
}

fn journal_path(dir: &Path) -> PathBuf {
    dir.join(JOURNAL_FILE)
}

#[tokio::test]
async fn what_was_recorded_comes_back_with_the_same_key_state_and_festivals() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut opened = open(dir.path(), None).expect("open");
    assert!(opened.new_key);
    let festival = write_festival(&mut opened, 200).await;
    assert_eq!(opened.journal.durable().entries, 200);
    opened.journal.close().await.expect("closed");
    let (key, replica) = (opened.key_pair.public_key(), opened.replica.clone());
    drop(opened);

    let again = open(dir.path(), None).expect("reopen");
    assert!(!again.new_key);
    assert_eq!(again.key_pair.public_key(), key);
    assert_eq!(again.replica.store(), replica.store());
    assert_eq!(again.replica.state().snapshot(), replica.state().snapshot());
    assert_eq!(again.festivals, BTreeSet::from([festival]));
    assert_eq!(again.report.entries, 200);
    assert_eq!((again.report.dropped_bytes, again.report.refused), (0, 0));
    assert_eq!(again.journal.durable().entries, 200);
}

#[tokio::test]
async fn a_torn_last_record_is_cut_off_and_saved_aside() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut opened = open(dir.path(), None).expect("open");
    write_festival(&mut opened, 50).await;
    opened.journal.close().await.expect("closed");
    drop(opened);
    let path = journal_path(dir.path());
    let full = fs::read(&path).expect("read");
    // The last record is the join (8 + 1 + 64 bytes): cut it in the middle.
    let cut = full.len() - 40;
    fs::write(&path, &full[..cut]).expect("tear");

    let again = open(dir.path(), None).expect("reopen");
    assert!(matches!(again.report.damage, Some(Damage::Torn { .. })));
    assert_eq!(again.report.dropped_bytes, (73 - 40) as u64);
    assert_eq!(again.report.entries, 50, "every entry before it is kept");
    assert!(again.festivals.is_empty(), "the torn join is gone");
    let saved = again.report.saved_to.clone().expect("saved");
    assert_eq!(
        fs::read(saved).expect("saved tail"),
        full[full.len() - 73..cut]
    );
    assert_eq!(
        fs::metadata(&path).expect("journal").len(),
        (full.len() - 73) as u64,
        "cut to the last sound record"
    );
}

#[tokio::test]
async fn a_flipped_byte_in_the_last_entry_drops_that_entry_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut opened = open(dir.path(), None).expect("open");
    write_festival(&mut opened, 30).await;
    opened.journal.close().await.expect("closed");
    let before = opened.replica.clone();
    drop(opened);
    let path = journal_path(dir.path());
    let mut bytes = fs::read(&path).expect("read");
    bytes.truncate(bytes.len() - 73); // Drop the join record: the last record is an entry.
    let last = bytes.len() - 5;
    bytes[last] ^= 0x01;
    fs::write(&path, &bytes).expect("flip");

    let again = open(dir.path(), None).expect("reopen");
    assert!(matches!(again.report.damage, Some(Damage::Checksum { .. })));
    assert_eq!(again.report.entries, 29);
    let mut expected = Replica::new();
    let mut logs: Vec<_> = before.store().heights().collect();
    logs.sort_unstable();
    assert_eq!(before.store().len(), 30);
    // Everything but the newest entry (the one whose record was damaged), verified afresh.
    for (log, _) in logs {
        for stored in before.store().entries_after(log, 0) {
            if again
                .replica
                .store()
                .get_by_hash(&stored.entry.hash())
                .is_some()
            {
                expected
                    .ingest(stored.entry.bytes(), &stored.payload)
                    .expect("valid");
            }
        }
    }
    assert_eq!(expected.store().len(), 29);
    assert_eq!(again.replica.store(), expected.store());
    assert_eq!(
        again.replica.state().snapshot(),
        expected.state().snapshot()
    );
}

#[tokio::test]
async fn a_foreign_file_is_refused_not_overwritten() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = journal_path(dir.path());
    fs::write(&path, b"these are someone else's bytes").expect("write");
    match open(dir.path(), None) {
        Err(error @ StorageError::Journal { .. }) => assert_eq!(error.code(), "BAD_JOURNAL"),
        Err(other) => panic!("expected a journal error, got {other}"),
        Ok(_) => panic!("expected a journal error"),
    }
    assert_eq!(
        fs::read(&path).expect("read"),
        b"these are someone else's bytes"
    );
}

#[tokio::test]
async fn a_second_open_of_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = open(dir.path(), None).expect("open");
    match open(dir.path(), None) {
        Err(error @ StorageError::Locked { .. }) => {
            assert_eq!(error.code(), "DATA_DIR_LOCKED");
            assert!(error.to_string().contains("in use by another p2panda-node"));
        }
        Err(other) => panic!("expected Locked, got {other}"),
        Ok(_) => panic!("expected Locked"),
    }
    first.journal.close().await.expect("closed");
    drop(first);
    open(dir.path(), None).expect("free after the first closed");
}

#[tokio::test]
async fn fork_evidence_comes_back_and_the_log_stays_frozen() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut opened = open(dir.path(), None).expect("open");
    let festival = write_festival(&mut opened, 3).await;
    let key = opened.key_pair.clone();
    let log = LogKey {
        author: key.public_key(),
        log_id: opened
            .replica
            .state()
            .log_of(key.public_key(), festival)
            .expect("the key's log"),
    };
    let payload = |name: &str| {
        Operation::ResourceCreate(ResourceCreate {
            festival,
            name: name.into(),
            description: String::new(),
            kind: ResourceKind::Item,
            policy: PolicyKind::Fcfs,
        })
        .encode()
        .expect("encodes")
    };
    // Two different entries signed for the same place of the key's log: a fork.
    let (one, two) = (payload("One"), payload("Two"));
    let store = opened.replica.store();
    let first = store.next_entry(&key, log.log_id, &one).expect("entry");
    let second = store.next_entry(&key, log.log_id, &two).expect("entry");
    opened
        .replica
        .ingest(first.bytes(), &one)
        .expect("the first is stored");
    let forked = opened.replica.ingest(second.bytes(), &two);
    assert!(matches!(
        forked,
        Err(IngestError::Store(StoreError::Fork { .. }))
    ));
    let seq = first.seq_num();
    assert_eq!(opened.replica.store().frozen_at(log), Some(seq));
    let last = opened
        .recorder
        .catch_up(&opened.replica, &opened.journal)
        .expect("recorded")
        .expect("new records");
    opened.journal.wait(last).await.expect("durable");
    opened.journal.close().await.expect("closed");
    let before = opened.replica.clone();
    drop(opened);

    let again = open(dir.path(), None).expect("reopen");
    assert_eq!(again.report.forks, 1);
    assert_eq!(again.replica.store().forks(), before.store().forks());
    assert_eq!(again.replica.store().frozen_at(log), Some(seq));
    assert_eq!(again.replica.store(), before.store());
}
