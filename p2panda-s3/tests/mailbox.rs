//! Store-and-forward through a real S3 server (s3s-fs on 127.0.0.1, started by each test).
//! Run inside `unshare -n sh -c 'ip link set lo up && exec cargo test -p p2panda-s3'`.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{festival, write_event, Server};
use p2panda_core::identity::KeyPair;
use p2panda_core::mailbox::{MailboxError, MailboxKey, MailboxState};
use p2panda_core::policy::{respond, Policies};
use p2panda_core::replica::Replica;
use p2panda_core::secret::SecretKey;
use p2panda_s3::{Mailbox, S3Error};

/// Small bundles, so a few dozen entries make several objects.
fn small() -> MailboxState {
    MailboxState::new().with_bundle_size(4_000)
}

fn same(a: &Replica, b: &Replica) -> bool {
    a.store().len() == b.store().len() && a.state().snapshot() == b.state().snapshot()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_peers_never_online_together_converge_through_the_bucket() {
    let server = Server::start(None).await;
    let (mut a, topic, owner, guests) = festival("Lakeside Gathering", 40, 3);
    let key = MailboxKey::private(topic, &SecretKey::generate());

    // A writes and goes offline.
    let mut a_box = Mailbox::new(server.config(), key.clone())
        .unwrap()
        .with_state(small());
    let pushed = a_box.push(&a).await.unwrap();
    assert_eq!(pushed.entries, a.store().len());
    assert!(pushed.bundles > 3 && pushed.index);
    // A second push with nothing new uploads nothing.
    let again = a_box.push(&a).await.unwrap();
    assert_eq!((again.bundles, again.index), (0, false));

    // B starts later, with nothing: pulls, writes (an event asking for the stage), pushes.
    let mut b = Replica::new();
    let mut b_box = Mailbox::new(server.config(), key.clone()).unwrap();
    let pulled = b_box.pull(&mut b).await.unwrap().check().unwrap();
    assert_eq!(pulled.entries, a.store().len());
    assert!(same(&a, &b));
    let b_author = KeyPair::generate();
    // Hours 400 and 401: the stage is free then (the festival's events take hours 0..40).
    write_event(&mut b, &b_author, topic, 400);
    write_event(&mut b, &guests[0], topic, 401);
    let pushed = b_box.push(&b).await.unwrap();
    assert_eq!(pushed.entries, 2, "only B's new entries");
    drop(b_box);

    // A comes back: gets B's entries only, grants B's requests and writes more; B reads them.
    let pulled = a_box.pull(&mut a).await.unwrap().check().unwrap();
    assert_eq!((pulled.entries, pulled.bundles), (2, 2));
    assert!(same(&a, &b));
    let granted = respond(&mut a, &owner, topic, &mut Policies::new()).unwrap();
    assert_eq!(granted.len(), 2);
    write_event(&mut a, &guests[1], topic, 450);
    let pushed = a_box.push(&a).await.unwrap();
    assert_eq!(
        pushed.entries, 3,
        "incremental: the answers and the new event"
    );

    let mut b_box = Mailbox::new(server.config(), key).unwrap();
    let pulled = b_box.pull(&mut b).await.unwrap().check().unwrap();
    assert_eq!(pulled.entries, 3);
    assert!(same(&a, &b));
    let festival = b.state().festival(topic).unwrap();
    let events = festival.events_in_range(i64::MIN, i64::MAX);
    for title in ["Workshop 400", "Workshop 401"] {
        let event = events.iter().find(|e| e.title == title).unwrap();
        assert_eq!(event.resources.len(), 1);
        let (_, status) = &event.resources[0];
        assert_eq!(*status, p2panda_core::festival::RequestStatus::Granted);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_with_one_key_lose_nothing() {
    let server = Server::start(None).await;
    let (base, topic, _, _) = festival("Concurrent camp", 5, 1);
    let key = MailboxKey::public(topic);
    let (mut one, mut two) = (base.clone(), base.clone());
    // Two devices of one person share the mailbox; each writes its own log.
    let (author_one, author_two) = (KeyPair::generate(), KeyPair::generate());
    let mut box_one = Mailbox::new(server.config(), key.clone())
        .unwrap()
        .with_state(small());
    let mut box_two = Mailbox::new(server.config(), key.clone())
        .unwrap()
        .with_state(small());
    for round in 0..6 {
        for i in 0..7 {
            write_event(&mut one, &author_one, topic, round * 100 + i);
            write_event(&mut two, &author_two, topic, 10_000 + round * 100 + i);
        }
        let (r1, r2) = tokio::join!(box_one.push(&one), box_two.push(&two));
        r1.unwrap();
        r2.unwrap();
        // Every other round they also read each other's, concurrently with the next writes.
        if round % 2 == 1 {
            let (p1, p2) = tokio::join!(box_one.pull(&mut one), box_two.pull(&mut two));
            p1.unwrap().check().unwrap();
            p2.unwrap().check().unwrap();
        }
    }
    let (p1, p2) = tokio::join!(box_one.pull(&mut one), box_two.pull(&mut two));
    p1.unwrap();
    p2.unwrap();
    assert!(same(&one, &two));
    assert_eq!(one.store().len(), base.store().len() + 2 * 6 * 7);
    // A newcomer gets all of it, through the indexes alone and through listing alone.
    let mut reader = Replica::new();
    let mut indexes_only = server.config();
    indexes_only.list_every = 0;
    let report = Mailbox::new(indexes_only, key.clone())
        .unwrap()
        .pull(&mut reader)
        .await
        .unwrap();
    assert!(!report.listed);
    assert!(same(&reader, &one), "{report:?}");
    let indexes = server.objects_containing(&format!("{}/i/", key.dir()));
    assert_eq!(indexes.len(), 2, "one index per writer instance");
    for index in indexes {
        std::fs::remove_file(index).unwrap();
    }
    let mut reader = Replica::new();
    Mailbox::new(server.config(), key)
        .unwrap()
        .pull_full(&mut reader)
        .await
        .unwrap();
    assert!(same(&reader, &one));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_a_typed_error_and_change_nothing() {
    let server = Server::start(None).await;
    let (a, topic, _, _) = festival("Credentials fest", 10, 2);
    let key = MailboxKey::public(topic);
    Mailbox::new(server.config(), key.clone())
        .unwrap()
        .push(&a)
        .await
        .unwrap();
    let mut wrong_secret = server.config();
    wrong_secret.secret_key = "not-the-secret".into();
    let mut wrong_access = server.config();
    wrong_access.access_key = "nobody".into();
    for config in [wrong_secret, wrong_access] {
        let mut mailbox = Mailbox::new(config, key.clone()).unwrap();
        let mut local = a.clone();
        write_event(&mut local, &KeyPair::generate(), topic, 77);
        let before = local.clone();
        assert_eq!(mailbox.push(&local).await, Err(S3Error::WrongCredentials));
        assert_eq!(
            mailbox.pull(&mut local).await,
            Err(S3Error::WrongCredentials)
        );
        assert!(same(&local, &before));
        let mut empty = Replica::new();
        assert_eq!(
            mailbox.pull(&mut empty).await,
            Err(S3Error::WrongCredentials)
        );
        assert!(empty.store().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_deleted_mid_pull_is_a_typed_error_and_keeps_what_came_in() {
    // The provider deletes the bucket (its directory) when the fifth bundle is asked for.
    let bundle_gets = Arc::new(AtomicUsize::new(0));
    let root = Arc::new(std::sync::Mutex::new(None::<std::path::PathBuf>));
    let hook: common::Hook = {
        let (gets, root) = (bundle_gets.clone(), root.clone());
        Arc::new(move |method: &str, path: &str| {
            if method == "GET" && path.contains("/b/") && gets.fetch_add(1, Ordering::SeqCst) == 4 {
                if let Some(dir) = root.lock().ok().and_then(|r| r.clone()) {
                    let _ = std::fs::remove_dir_all(dir);
                }
            }
        })
    };
    let server = Server::start(Some(hook)).await;
    *root.lock().unwrap() = Some(server.bucket_dir());
    let (a, topic, _, _) = festival("Vanishing fest", 60, 1);
    let key = MailboxKey::public(topic);
    let pushed = Mailbox::new(server.config(), key.clone())
        .unwrap()
        .with_state(MailboxState::new().with_bundle_size(1_500))
        .push(&a)
        .await
        .unwrap();
    assert!(pushed.bundles > 10);

    let mut b = Replica::new();
    let mut config = server.config();
    config.concurrency = 1; // one GET at a time, so the deletion falls mid-way
    let mut b_box = Mailbox::new(config, key.clone()).unwrap();
    assert_eq!(b_box.pull(&mut b).await, Err(S3Error::NoSuchBucket));
    let kept = b.store().len();
    assert!(kept > 0 && kept < a.store().len(), "kept {kept}");
    // Everything that came in is valid and stays; later calls fail the same way, losing nothing.
    let before = b.clone();
    assert_eq!(b_box.pull(&mut b).await, Err(S3Error::NoSuchBucket));
    assert_eq!(b_box.push(&b).await, Err(S3Error::NoSuchBucket));
    assert!(same(&b, &before));
    // The bucket is back (empty): B uploads what it has, and a newcomer gets it.
    std::fs::create_dir(server.bucket_dir()).unwrap();
    assert_eq!(b_box.push(&b).await.unwrap().entries, kept);
    let mut c = Replica::new();
    Mailbox::new(server.config(), key)
        .unwrap()
        .pull(&mut c)
        .await
        .unwrap();
    assert!(same(&c, &b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_objects_are_refused_by_name_and_the_rest_comes_in() {
    let server = Server::start(None).await;
    let (a, topic, _, _) = festival("Bitrot fest", 60, 2);
    let key = MailboxKey::public(topic);
    let mut a_box = Mailbox::new(server.config(), key.clone())
        .unwrap()
        .with_state(small());
    a_box.push(&a).await.unwrap();
    let bundles = server.objects_containing(&format!("{}/b/", key.dir()));
    assert!(bundles.len() > 4);
    // Flip a byte of one bundle on the server's disk...
    let victim = &bundles[bundles.len() / 2];
    let mut bytes = std::fs::read(victim).unwrap();
    bytes[200] ^= 0x01;
    std::fs::write(victim, bytes).unwrap();
    let victim_name = victim.file_name().unwrap().to_string_lossy().to_string();
    // ...and put garbage under a mailbox name no index lists.
    let garbage = format!("festivals/{}{}", key.bundles_prefix(), "ab".repeat(16));
    let garbage_path = server.bucket_dir().join(&garbage);
    std::fs::write(&garbage_path, b"not a sealed bundle at all").unwrap();

    let mut b = Replica::new();
    let mut b_box = Mailbox::new(server.config(), key.clone()).unwrap();
    let report = b_box.pull(&mut b).await.unwrap();
    assert!(report.listed, "the first pull lists");
    let mut refused: Vec<&MailboxError> = report.rejected_objects.iter().collect();
    refused.sort_by_key(|e| e.name().to_string());
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(refused
        .iter()
        .all(|e| matches!(e, MailboxError::Corrupted { .. })));
    assert!(refused.iter().any(|e| e.name().ends_with(&victim_name)));
    assert!(refused.iter().any(|e| e.name().ends_with(&"ab".repeat(16))));
    match report.clone().check() {
        Err(S3Error::Corrupted { name, .. }) => assert!(name.starts_with(key.dir())),
        other => panic!("{other:?}"),
    }
    // Every log came in whole but the damaged bundle's, which came in up to that bundle.
    assert!(b.store().len() < a.store().len());
    assert_eq!(report.entries, b.store().len());
    let short = a
        .store()
        .heights()
        .filter(|(log, height)| b.store().height(*log) != *height)
        .count();
    assert_eq!(short, 1);
    // The reader deleted both; the writer finds its bundle gone at its next full listing and
    // uploads those entries again, so the reader gets everything.
    assert_eq!(report.removed, 2);
    assert!(!victim.exists() && !garbage_path.exists());
    let mut a = a;
    assert_eq!(a_box.pull_full(&mut a).await.unwrap().entries, 0);
    assert!(a_box.push(&a).await.unwrap().entries > 0);
    let again = b_box.pull_full(&mut b).await.unwrap();
    assert!(again.rejected_objects.is_empty(), "{again:?}");
    assert_eq!(b.store().len(), a.store().len());
    // A damaged index is refused too, and the reader lists bundle names instead; nothing local
    // is lost.
    let indexes = server.objects_containing(&format!("{}/i/", key.dir()));
    let mut index = std::fs::read(&indexes[0]).unwrap();
    let last = index.len() - 1;
    index[last] ^= 0x80;
    std::fs::write(&indexes[0], index).unwrap();
    let held = b.store().len();
    let mut c_box = Mailbox::new(server.config(), key.clone()).unwrap();
    c_box.pull(&mut b).await.unwrap();
    let report = c_box.pull(&mut b).await.unwrap();
    assert!(report.listed);
    assert!(report
        .rejected_objects
        .iter()
        .any(|e| e.name().contains("/i/")));
    assert_eq!(b.store().len(), held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_provider_sees_no_plaintext() {
    let server = Server::start(None).await;
    let name = "Secret Orchard Festival";
    let (a, topic, owner, guests) = festival(name, 30, 2);
    let keys = [
        MailboxKey::public(topic),
        MailboxKey::private(topic, &SecretKey::generate()),
    ];
    for key in &keys {
        let mut mailbox = Mailbox::new(server.config(), key.clone()).unwrap();
        mailbox.push(&a).await.unwrap();
        let mut b = Replica::new();
        mailbox.pull(&mut b).await.unwrap();
    }
    let mut needles: Vec<(String, Vec<u8>)> = vec![
        ("festival name".into(), name.as_bytes().to_vec()),
        ("resource name".into(), b"Lakeside stage".to_vec()),
        ("description".into(), b"Soldering, sewing".to_vec()),
        ("topic hex".into(), topic.to_hex().into_bytes()),
        ("topic bytes".into(), topic.as_bytes()[..16].to_vec()),
    ];
    for i in 0..30 {
        needles.push((format!("title {i}"), format!("Workshop {i}").into_bytes()));
    }
    for (who, key) in std::iter::once(&owner).chain(&guests).enumerate() {
        let public = key.public_key();
        needles.push((format!("key {who} hex"), public.to_hex().into_bytes()));
        needles.push((format!("key {who} bytes"), public.as_bytes().to_vec()));
        // A prefix too: the provider must not find a fragment of a key.
        needles.push((format!("key {who} prefix"), public.to_hex()[..16].into()));
    }
    let files = server.files();
    assert!(files.len() > 6, "objects were stored");
    for (path, bytes) in &files {
        let path_text = path.to_string_lossy();
        for (what, needle) in &needles {
            assert!(
                !contains(bytes, needle) && !contains(path_text.as_bytes(), needle),
                "{what} found in {path_text}"
            );
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
