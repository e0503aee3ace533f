//! `p2panda-node --s3-*`: store-and-forward through a real S3 server (s3s-fs: SigV4 auth,
//! objects as files, run in this test process on 127.0.0.1) between real node processes that
//! are never online together.
//!
//! The last test opens WebRTC connections, so run these inside a loopback-only network
//! namespace (as root), after building outside it:
//!
//! ```sh
//! cargo test -p p2panda-node --test s3 --no-run
//! unshare -n sh -c 'ip link set lo up && exec cargo test --offline -p p2panda-node --test s3'
//! ```

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use common::{args, NodeProcess};
use p2panda_core::hash::Hash;
use p2panda_core::identity::{KeyPair, PublicKey};
use p2panda_core::mailbox::MailboxKey;
use p2panda_core::operation::{EventCreate, FestivalCreate, Operation};
use p2panda_core::replica::Replica;
use p2panda_core::secret::SecretKey;
use p2panda_s3::test_server::{TestServer, ACCESS_KEY, BUCKET, SECRET_KEY};
use p2panda_s3::{Mailbox, S3Config};
use serde_json::{json, Value};

/// One test at a time: each runs node processes on a 2-core machine.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const PREFIX: &str = "festivals";

/// p2panda-s3's test server (s3s-fs on 127.0.0.1, one empty bucket) in a directory of its own.
struct S3Server {
    server: TestServer,
    _dir: tempfile::TempDir,
}

impl S3Server {
    async fn start() -> S3Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let server = TestServer::start(dir.path().to_path_buf())
            .await
            .expect("s3 test server");
        S3Server { server, _dir: dir }
    }

    /// The node flags for this bucket, pulling every second.
    fn flags(&self) -> Vec<String> {
        args(&[
            "--s3-endpoint",
            &self.server.endpoint(),
            "--s3-bucket",
            BUCKET,
            "--s3-prefix",
            PREFIX,
            "--s3-interval",
            "1",
        ])
    }

    /// A client of the same mailboxes, for the test itself.
    fn config(&self) -> S3Config {
        self.server.config().with_prefix(PREFIX)
    }

    /// The object files in the bucket and their bytes.
    fn objects(&self) -> Vec<(PathBuf, Vec<u8>)> {
        TestServer::files_in(&self.server.bucket_dir())
    }
}

const CREDENTIALS: [(&str, &str); 2] = [
    ("P2PANDA_S3_ACCESS_KEY", ACCESS_KEY),
    ("P2PANDA_S3_SECRET_KEY", SECRET_KEY),
];

/// A node serving its own rendezvous on a free port (so it meets no one) with the bucket.
async fn start_node(name: &str, data: &Path, s3: &S3Server, extra: &[&str]) -> NodeProcess {
    start_node_with(name, data, s3, extra, &CREDENTIALS).await
}

async fn start_node_with(
    name: &str,
    data: &Path,
    s3: &S3Server,
    extra: &[&str],
    env: &[(&str, &str)],
) -> NodeProcess {
    let mut line = args(&["--data", &data.display().to_string()]);
    line.extend(args(&["--listen", "127.0.0.1:0"]));
    line.extend(s3.flags());
    line.extend(args(extra));
    NodeProcess::start_with_env(name, &line, env).await
}

/// What a node holds, to compare: entries, forks, each log's height and the state's hash.
async fn digest(node: &mut NodeProcess) -> Value {
    let mut digest = node.command(json!({ "cmd": "digest" })).await;
    assert_eq!(digest["ok"], true);
    for echoed in ["id", "reply", "ok"] {
        digest.as_object_mut().map(|d| d.remove(echoed));
    }
    digest
}

fn is_event(line: &Value, event: &str, festival: &str) -> bool {
    line["event"] == event && line["festival"] == festival
}

async fn publish(node: &mut NodeProcess, name: &str) {
    let reply = node
        .command(json!({ "cmd": "publish-resource", "name": name }))
        .await;
    assert_eq!(reply["ok"], true, "{reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_never_online_together_converge_through_the_bucket() {
    let _serial = SERIAL.lock().await;
    let s3 = S3Server::start().await;
    let dirs = tempfile::tempdir().expect("temp dir");
    let (dir_a, dir_b) = (dirs.path().join("a"), dirs.path().join("b"));
    const ENTRIES: u64 = 120;
    let started = Instant::now();

    // A creates a festival, pushes it all, and stops.
    let mut a = start_node(
        "a",
        &dir_a,
        &s3,
        &[
            "--create-festival",
            "Lakeside Gathering",
            "--entries",
            &ENTRIES.to_string(),
        ],
    )
    .await;
    let festival = a.festival();
    let first = a.expect(|l| is_event(l, "s3-pull", &festival)).await;
    assert_eq!(first["entries"], 0, "the bucket starts empty: {first}");
    let pushed = a.expect(|l| is_event(l, "s3-push", &festival)).await;
    assert_eq!(pushed["entries"], ENTRIES, "{pushed}");
    assert!(
        pushed["objects"].as_u64() >= Some(2),
        "bundles and an index"
    );
    let a_digest = digest(&mut a).await;
    assert_eq!(a_digest["entries"], ENTRIES);
    a.quit().await;
    let objects = s3.objects();
    assert!(!objects.is_empty());
    for (path, bytes) in &objects {
        let plain = [&b"Lakeside"[..], b"Workshop", festival.as_bytes()];
        for needle in plain {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle)
                    && !path.to_string_lossy().contains(&festival),
                "{} shows plaintext",
                path.display()
            );
        }
    }
    println!(
        "A: created and pushed {ENTRIES} entries in {} objects ({} bytes) in {} ms",
        pushed["objects"], pushed["bytes"], pushed["ms"]
    );

    // B knows only the festival's id and the bucket: it pulls exactly what A had.
    let mut b = start_node("b", &dir_b, &s3, &["--join", &festival]).await;
    assert_eq!(b.ready["entries"], 0);
    let pulled = b.expect(|l| is_event(l, "s3-pull", &festival)).await;
    assert_eq!(pulled["entries"], ENTRIES, "{pulled}");
    assert_eq!(
        digest(&mut b).await,
        a_digest,
        "B holds exactly A's entries"
    );
    println!("B: pulled {ENTRIES} entries in {} ms", pulled["ms"]);

    // B writes; its pushes carry only the new entries. The last one is pushed before quit
    // returns (on quit at the latest).
    publish(&mut b, "Canoe").await;
    publish(&mut b, "Tent").await;
    let mut pushed_by_b = 0;
    while pushed_by_b < 2 {
        let push = b.expect(|l| is_event(l, "s3-push", &festival)).await;
        pushed_by_b += push["entries"].as_u64().expect("entries");
    }
    assert_eq!(pushed_by_b, 2, "only B's new entries");
    publish(&mut b, "Campfire").await;
    let b_digest = digest(&mut b).await;
    assert_eq!(b_digest["entries"], ENTRIES + 3);
    let reply = b.command(json!({ "cmd": "quit" })).await;
    assert_eq!(reply["ok"], true);
    assert!(b.exit().await.success());
    let last = b
        .seen
        .iter()
        .rev()
        .find(|l| is_event(l, "s3-push", &festival))
        .cloned();
    assert_eq!(
        last.as_ref().map(|l| l["entries"].clone()),
        Some(json!(1)),
        "the entry written last is pushed on quit: {last:?}"
    );

    // A comes back (its own data directory, the festival remembered) and gets B's entries.
    let mut a = start_node("a again", &dir_a, &s3, &[]).await;
    assert_eq!(a.ready["entries"], ENTRIES);
    let pulled = a.expect(|l| is_event(l, "s3-pull", &festival)).await;
    assert_eq!(pulled["entries"], 3, "{pulled}");
    assert_eq!(
        digest(&mut a).await,
        b_digest,
        "A holds exactly B's entries"
    );
    let status = a
        .command(json!({ "cmd": "status", "festival": festival }))
        .await;
    let names = status["resources"].to_string();
    for name in ["Canoe", "Tent", "Campfire"] {
        assert!(names.contains(name), "{name} in {names}");
    }
    a.quit().await;
    println!("converged in {} ms", started.elapsed().as_millis());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_reported_retried_and_lose_nothing() {
    let _serial = SERIAL.lock().await;
    let s3 = S3Server::start().await;
    let dirs = tempfile::tempdir().expect("temp dir");
    let dir = dirs.path().join("node");
    let wrong = [
        ("P2PANDA_S3_ACCESS_KEY", ACCESS_KEY),
        ("P2PANDA_S3_SECRET_KEY", "not-the-secret-key"),
    ];
    let extra = ["--create-festival", "Hillside", "--entries", "30"];
    let mut node = start_node_with("wrong", &dir, &s3, &extra, &wrong).await;
    let festival = node.festival();

    let failed = node.expect(|l| is_event(l, "s3-error", &festival)).await;
    assert_eq!(failed["code"], "S3_WRONG_CREDENTIALS", "{failed}");
    assert_eq!(failed["failures"], 1);
    // Retried later, backing off; the node keeps running and writing meanwhile.
    publish(&mut node, "Lantern").await;
    let again = node.expect(|l| is_event(l, "s3-error", &festival)).await;
    assert_eq!(again["code"], "S3_WRONG_CREDENTIALS");
    assert_eq!(again["failures"], 2);
    assert!(again["retryInMs"].as_u64() > failed["retryInMs"].as_u64());
    let held = digest(&mut node).await;
    assert_eq!(held["entries"], 31);
    node.quit().await;
    assert!(s3.objects().is_empty(), "nothing reached the bucket");

    // With the right credentials everything local goes up.
    let mut node = start_node("right", &dir, &s3, &[]).await;
    let pushed = node.expect(|l| is_event(l, "s3-push", &festival)).await;
    assert_eq!(pushed["entries"], 31, "{pushed}");
    assert_eq!(digest(&mut node).await, held);
    node.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_s3_settings_stop_the_node_before_it_starts() {
    let _serial = SERIAL.lock().await;
    let dirs = tempfile::tempdir().expect("temp dir");
    let data = dirs.path().join("never");
    let base = [
        "--data",
        data.to_str().expect("utf-8 path"),
        "--listen",
        "127.0.0.1:0",
    ];
    let s3 = ["--s3-endpoint", "http://127.0.0.1:9", "--s3-bucket", BUCKET];
    let only_access = [("P2PANDA_S3_ACCESS_KEY", ACCESS_KEY)];
    // The command line, the environment, and what the error must name.
    type Case<'a> = (Vec<&'a str>, &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 5] = [
        ([&base[..], &s3[..]].concat(), &[], "P2PANDA_S3_ACCESS_KEY"),
        (
            [&base[..], &s3[..]].concat(),
            &only_access,
            "P2PANDA_S3_SECRET_KEY",
        ),
        (
            [
                &base[..],
                &["--s3-endpoint", "ftp://h", "--s3-bucket", BUCKET],
            ]
            .concat(),
            &CREDENTIALS,
            "--s3-endpoint",
        ),
        (
            [&base[..], &["--s3-bucket", BUCKET]].concat(),
            &CREDENTIALS,
            "--s3-endpoint",
        ),
        (
            [&base[..], &s3[..], &["--s3-interval", "0"]].concat(),
            &CREDENTIALS,
            "--s3-interval",
        ),
    ];
    for (line, env, named) in cases {
        let mut node = NodeProcess::spawn_with_env("bad", &args(&line), env);
        let status = node.exit().await;
        assert_eq!(status.code(), Some(2), "{line:?}: {}", node.stderr());
        assert!(node.drain().await.is_empty(), "nothing on stdout");
        // stderr is read by a task of its own: give it a moment to catch up.
        let deadline = Instant::now() + std::time::Duration::from_secs(5);
        while !node.stderr().contains(named) && Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(node.stderr().contains(named), "{}", node.stderr());
        assert!(!data.exists(), "nothing started: no data directory");
    }
}

/// A writer outside the node: pulls the festival's public mailbox, writes an event, pushes.
async fn write_through_bucket(config: S3Config, festival: Hash, replica: &mut Replica) -> Hash {
    let mut mailbox = Mailbox::new(config, MailboxKey::public(festival)).expect("client");
    mailbox.pull(&mut *replica).await.expect("pull");
    let event = Operation::EventCreate(EventCreate {
        festival,
        title: "Night swim".into(),
        description: "From the jetty".into(),
        start: 0,
        end: 3_600_000,
        resources: vec![],
    });
    let (id, _) = replica
        .publish(&KeyPair::generate(), &event)
        .expect("valid");
    mailbox.push(replica).await.expect("push");
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pulled_entries_are_durable_and_reach_connected_peers() {
    let _serial = SERIAL.lock().await;
    let s3 = S3Server::start().await;
    let dirs = tempfile::tempdir().expect("temp dir");
    let dir = dirs.path().join("node");

    // Someone else started the festival and left it in the bucket.
    let mut replica = Replica::new();
    let create = Operation::FestivalCreate(FestivalCreate {
        name: "Harbour days".into(),
        description: String::new(),
        parent: None,
        fork_of: None,
    });
    let (festival, _) = replica
        .publish(&KeyPair::generate(), &create)
        .expect("valid");
    write_through_bucket(s3.config(), festival, &mut replica).await;
    let hex = festival.to_hex();

    let mut node = start_node("node", &dir, &s3, &["--join", &hex]).await;
    let pulled = node.expect(|l| is_event(l, "s3-pull", &hex)).await;
    assert_eq!(pulled["entries"], 2);
    // A peer connected over WebRTC (no bucket of its own) syncs from the node.
    let listen = node.ready["listen"].as_str().expect("listen");
    let rendezvous = format!("ws://{listen}/rendezvous");
    let mut peer = NodeProcess::start(
        "peer",
        &args(&["--rendezvous", &rendezvous, "--join", &hex]),
    )
    .await;
    peer.stored(2).await;

    // A new entry in the bucket: the node pulls it and announces it to the peer.
    let id = write_through_bucket(s3.config(), festival, &mut replica).await;
    let pulled = node
        .expect(|l| is_event(l, "s3-pull", &hex) && l["entries"] == 1)
        .await;
    peer.stored(3).await;
    let has = peer
        .command(json!({ "cmd": "has", "ids": [id.to_hex()] }))
        .await;
    assert_eq!(has["missing"], json!([]), "{has}");
    peer.quit().await;
    println!("pulled and announced in {} ms", pulled["ms"]);

    // Reported only once durable: a SIGKILL right after the report loses nothing.
    let id = write_through_bucket(s3.config(), festival, &mut replica).await;
    node.expect(|l| is_event(l, "s3-pull", &hex) && l["entries"] == 1)
        .await;
    node.kill().await;
    let mut node = NodeProcess::start(
        "node again",
        &args(&[
            "--data",
            dir.to_str().expect("utf-8"),
            "--listen",
            "127.0.0.1:0",
        ]),
    )
    .await;
    assert_eq!(node.ready["entries"], 4, "{}", node.ready);
    let has = node
        .command(json!({ "cmd": "has", "ids": [id.to_hex()] }))
        .await;
    assert_eq!(has["missing"], json!([]));
    node.quit().await;
}

/// A private festival written by an organiser outside the node, and a node started to join it
/// (not yet a member: it holds no key).
struct PrivateSetup {
    organiser: KeyPair,
    replica: Replica,
    festival: Hash,
    /// The festival's first key.
    key: SecretKey,
    node: NodeProcess,
    node_key: PublicKey,
    _dirs: tempfile::TempDir,
}

async fn private_festival_and_node(s3: &S3Server, name: &str) -> PrivateSetup {
    let dirs = tempfile::tempdir().expect("temp dir");
    let organiser = KeyPair::generate();
    let mut replica = Replica::new();
    replica.set_identity(organiser.clone());
    let create = FestivalCreate {
        name: name.into(),
        description: String::new(),
        parent: None,
        fork_of: None,
    };
    let (festival, _) = replica
        .publish_private_festival(&organiser, create)
        .expect("valid");
    let key = replica
        .private()
        .keyring
        .current(&festival)
        .cloned()
        .expect("the creator holds the key");
    let hex = festival.to_hex();
    let node = start_node(
        "member node",
        &dirs.path().join("node"),
        s3,
        &["--join", &hex],
    )
    .await;
    let node_key = node.ready["publicKey"]
        .as_str()
        .and_then(|k| k.parse().ok())
        .expect("the node's public key");
    PrivateSetup {
        organiser,
        replica,
        festival,
        key,
        node,
        node_key,
        _dirs: dirs,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_node_carries_a_private_festival_to_the_members_mailbox() {
    let _serial = SERIAL.lock().await;
    let s3 = S3Server::start().await;
    let PrivateSetup {
        organiser,
        mut replica,
        festival,
        key,
        node,
        node_key,
        _dirs,
    } = private_festival_and_node(&s3, "Closed workshop").await;

    // The organiser makes the node a member and writes; a keyless relay would leave these
    // sealed entries in the festival's keyless mailbox, where the node (keyless so far) looks.
    replica
        .share_festival_key(&organiser, festival, &[node_key])
        .expect("share");
    let event = Operation::EventCreate(EventCreate {
        festival,
        title: "Soldering for beginners".into(),
        description: String::new(),
        start: 0,
        end: 3_600_000,
        resources: vec![],
    });
    replica.publish(&organiser, &event).expect("valid");
    let mut relay_box = Mailbox::new(s3.config(), MailboxKey::public(festival)).expect("client");
    assert_eq!(relay_box.push(&replica).await.expect("push").entries, 3);

    // The node opens its share and moves the festival to the members' mailbox: a member who is
    // never online with anyone reads everything there.
    let mut member = Replica::new();
    member.add_festival_key(festival, key.clone());
    let mut member_box =
        Mailbox::new(s3.config(), MailboxKey::private(festival, &key)).expect("client");
    let deadline = Instant::now() + std::time::Duration::from_secs(30);
    while member.store().len() < 3 {
        assert!(
            Instant::now() < deadline,
            "the members' mailbox stayed short"
        );
        member_box.pull_full(&mut member).await.expect("pull");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let read = member.state().festival(festival).expect("readable");
    assert_eq!(read.info().name, "Closed workshop");
    let events = read.events_in_range(0, 3_600_000);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].title, "Soldering for beginners");
    node.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_goes_on_as_the_same_mailbox_writer() {
    let _serial = SERIAL.lock().await;
    let s3 = S3Server::start().await;
    let dirs = tempfile::tempdir().expect("temp dir");
    let dir = dirs.path().join("node");
    let create = ["--create-festival", "Reed weaving", "--entries", "5"];
    let mut node = start_node("writer", &dir, &s3, &create).await;
    let hex = node.ready["festival"]
        .as_str()
        .expect("festival")
        .to_string();
    node.expect(|l| is_event(l, "s3-push", &hex) && l["entries"] == 5)
        .await;
    node.quit().await;
    let indexes = || {
        s3.objects()
            .iter()
            .filter(|(path, _)| path.to_string_lossy().contains("/i/"))
            .count()
    };
    assert_eq!(indexes(), 1);
    for round in 0..2 {
        let mut node = start_node("writer again", &dir, &s3, &[]).await;
        publish(&mut node, &format!("Loom {round}")).await;
        node.expect(|l| is_event(l, "s3-push", &hex) && l["entries"] == 1)
            .await;
        node.quit().await;
        assert_eq!(
            indexes(),
            1,
            "one index object, however often the node starts"
        );
    }
    // A reader finds everything through that one index.
    let mut reader = Replica::new();
    let mut mailbox =
        Mailbox::new(s3.config(), MailboxKey::public(festival_of(&hex))).expect("client");
    assert_eq!(mailbox.pull(&mut reader).await.expect("pull").entries, 7);
}

fn festival_of(hex: &str) -> Hash {
    hex.parse().expect("festival id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_rotation_a_node_forwards_the_key_shares_to_the_old_mailbox() {
    let _serial = SERIAL.lock().await;
    let s3 = S3Server::start().await;
    let bob = KeyPair::generate();
    let PrivateSetup {
        organiser,
        mut replica,
        festival,
        key: old_key,
        node,
        node_key,
        _dirs,
    } = private_festival_and_node(&s3, "Rotating camp").await;

    // The node and Bob are members; then the key rotates (someone else left) and the organiser
    // writes under the new key. All of it reaches the node through the keyless mailbox.
    let members = [node_key, bob.public_key()];
    replica
        .share_festival_key(&organiser, festival, &members)
        .expect("share");
    replica
        .rotate_festival_key(&organiser, festival, &members)
        .expect("rotate");
    let event = Operation::EventCreate(EventCreate {
        festival,
        title: "After the rotation".into(),
        description: String::new(),
        start: 0,
        end: 1,
        resources: vec![],
    });
    replica.publish(&organiser, &event).expect("valid");
    let new_key = replica
        .private()
        .keyring
        .current(&festival)
        .cloned()
        .expect("key");
    let mut relay_box = Mailbox::new(s3.config(), MailboxKey::public(festival)).expect("client");
    relay_box.push(&replica).await.expect("push");

    // Bob holds only the old key (an old invite link) and meets no one: the node forwarded the
    // creation log, with his share of the new key, to the old key's mailbox.
    let mut bobs = Replica::new();
    bobs.set_identity(bob);
    bobs.add_festival_key(festival, old_key.clone());
    let mut old_box =
        Mailbox::new(s3.config(), MailboxKey::private(festival, &old_key)).expect("client");
    let deadline = Instant::now() + std::time::Duration::from_secs(30);
    while bobs.private().keyring.current(&festival) != Some(&new_key) {
        assert!(
            Instant::now() < deadline,
            "the old mailbox never led Bob to the new key"
        );
        old_box.pull_full(&mut bobs).await.expect("pull");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let mut new_box =
        Mailbox::new(s3.config(), MailboxKey::private(festival, &new_key)).expect("client");
    while bobs.store().len() < replica.store().len() {
        assert!(Instant::now() < deadline, "the new mailbox stayed short");
        new_box.pull_full(&mut bobs).await.expect("pull");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let read = bobs.state().festival(festival).expect("readable");
    assert_eq!(read.events_in_range(0, 1)[0].title, "After the rotation");
    node.quit().await;
}
