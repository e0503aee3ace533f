//! `p2panda-node --data DIR` survives being killed mid-write: real processes, real WebRTC on
//! loopback, `SIGKILL` at random moments while the node stores entries both ways (received from
//! a peer and published on command), and damaged journal tails.
//!
//! Opens WebRTC connections, so run it inside a loopback-only network namespace (as root),
//! after building outside it:
//!
//! ```sh
//! cargo test -p p2panda-node --test persistence --no-run
//! unshare -n sh -c 'ip link set lo up && exec cargo test --offline -p p2panda-node --test persistence'
//! ```

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{args, rendezvous, NodeProcess};
use p2panda_core::hash::Hash;
use p2panda_core::replica::Replica;
use p2panda_node::storage::{JournalReader, ReadError, Record, JOURNAL_FILE};
use serde_json::{json, Value};

/// One test at a time: each runs several WebRTC processes on a 2-core machine.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Entries in each festival the peer holds.
const FESTIVAL_ENTRIES: u64 = 2_000;
/// Kill cycles.
const KILLS: usize = 5;

/// SplitMix64, seeded from the clock (printed, so a failing run can be looked into).
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The sound records of a journal file, each with its start offset, and the file's length.
fn read_journal(path: &Path) -> (Vec<(u64, Record)>, u64, u64) {
    let bytes = std::fs::read(path).expect("read the journal");
    let mut reader = JournalReader::new(&bytes[..]).expect("a journal");
    let mut records = Vec::new();
    loop {
        let offset = reader.offset();
        match reader.next_record() {
            Ok(Some(record)) => records.push((offset, record)),
            Ok(None) | Err(ReadError::Damaged(_)) => break,
            Err(other) => panic!("reading the journal: {other}"),
        }
    }
    (records, reader.offset(), bytes.len() as u64)
}

/// What the node must come back with: every sound record's entry, verified afresh (signatures
/// included) and applied in journal order.
struct Expected {
    replica: Replica,
    festivals: BTreeSet<String>,
    /// Bytes after the last sound record.
    dropped: u64,
}

fn expected_from(path: &Path) -> Expected {
    let (records, sound, len) = read_journal(path);
    let mut replica = Replica::new();
    let mut festivals = BTreeSet::new();
    for (_, record) in records {
        match record {
            Record::Entry { entry, payload } => {
                replica
                    .ingest(&entry, &payload)
                    .expect("every journal entry verifies");
            }
            Record::Join(f) => {
                festivals.insert(f.to_hex());
            }
            Record::Leave(f) => {
                festivals.remove(&f.to_hex());
            }
            Record::Fork(_) => panic!("no fork expected"),
        }
    }
    Expected {
        replica,
        festivals,
        dropped: len - sound,
    }
}

fn state_digest(replica: &Replica) -> String {
    let snapshot = format!("{:?}", replica.state().snapshot());
    Hash::digest(snapshot.as_bytes()).to_hex()
}

/// Damages the journal's last record: cuts it in the middle, or flips one of its bytes.
/// Returns where that record starts and the entry hash it held, if it was an entry.
fn damage_last_record(path: &Path, how: &str, random: &mut Random) -> (u64, Option<Hash>) {
    let (records, sound, _) = read_journal(path);
    let (start, record) = records.last().cloned().expect("a record to damage");
    let mut bytes = std::fs::read(path).expect("read");
    bytes.truncate(sound as usize); // Start from a sound journal.
    let len = sound - start;
    match how {
        "torn" => bytes.truncate((start + 1 + random.below(len - 1)) as usize),
        _ => {
            let at = (start + random.below(len)) as usize;
            bytes[at] ^= 1 << random.below(8);
        }
    }
    std::fs::write(path, &bytes).expect("write the damaged journal");
    let lost = match record {
        Record::Entry { entry, .. } => p2panda_core::log::Entry::decode(&entry)
            .ok()
            .map(|e| e.hash()),
        _ => None,
    };
    (start, lost)
}

fn node_args(addr: SocketAddr, dir: &Path, join: &[String]) -> Vec<String> {
    let mut list = args(&[
        "--rendezvous",
        &format!("ws://{addr}"),
        "--data",
        &dir.display().to_string(),
    ]);
    for festival in join {
        list.extend(args(&["--join", festival]));
    }
    list
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_write_the_node_loses_nothing_it_acknowledged() {
    let _serial = SERIAL.lock().await;
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(7, |d| d.as_nanos() as u64);
    eprintln!("seed {seed}");
    let mut random = Random(seed);
    let (_server, addr) = rendezvous().await;
    let data = tempfile::tempdir().expect("temp dir");
    let journal = data.path().join(JOURNAL_FILE);

    let mut identity: Option<Value> = None;
    let mut expected: Option<Expected> = None;
    // Every publish acknowledged so far, and the entry hashes deliberately destroyed.
    let mut acknowledged: Vec<String> = Vec::new();
    let mut festivals: Vec<String> = Vec::new();
    let mut peer: Option<NodeProcess> = None;
    let mut report = Vec::new();
    // Kills that left publishes unanswered: the node was writing when it died.
    let mut killed_mid_write = 0;

    for cycle in 0..=KILLS {
        // The peer this cycle: a fresh festival of FESTIVAL_ENTRIES entries to receive. The
        // last round rejoins the previous one's festival, which is still running.
        if cycle < KILLS {
            if let Some(old) = peer.take() {
                old.quit().await;
            }
            let name = format!("Fest {cycle}");
            let entries = FESTIVAL_ENTRIES.to_string();
            let list = args(&[
                "--rendezvous",
                &format!("ws://{addr}"),
                "--create-festival",
                &name,
                "--entries",
                &entries,
            ]);
            let started = NodeProcess::start(&format!("peer {cycle}"), &list).await;
            festivals.push(started.festival());
            peer = Some(started);
        }
        let festival = festivals.last().cloned().expect("a festival");

        let started = Instant::now();
        let mut node = NodeProcess::start(
            &format!("node {cycle}"),
            &node_args(addr, data.path(), std::slice::from_ref(&festival)),
        )
        .await;
        let restart = started.elapsed();

        // The restart: same key, every festival joined before, exactly the journal's state.
        match &identity {
            None => identity = Some(node.ready["publicKey"].clone()),
            Some(key) => assert_eq!(&node.ready["publicKey"], key, "identity kept"),
        }
        let joined: BTreeSet<String> = node.ready["festivals"]
            .as_array()
            .expect("festivals")
            .iter()
            .map(|f| f.as_str().expect("hex").to_owned())
            .collect();
        assert_eq!(
            joined,
            festivals.iter().cloned().collect(),
            "festivals kept"
        );
        if let Some(expected) = expected.take() {
            let restored = node.ready["restored"].clone();
            assert_eq!(
                restored["droppedBytes"], expected.dropped,
                "cycle {cycle}: {restored}"
            );
            if expected.dropped > 0 {
                assert!(
                    node.stderr()
                        .contains(&format!("dropped {} bytes", expected.dropped)),
                    "stderr: {}",
                    node.stderr()
                );
            }
            assert_eq!(node.ready["entries"], expected.replica.store().len() as u64);
            let has = node
                .command(json!({ "cmd": "has", "ids": acknowledged }))
                .await;
            assert_eq!(
                has["missing"],
                json!([]),
                "cycle {cycle}: acknowledged entries lost"
            );
            let digest = node.command(json!({ "cmd": "digest" })).await;
            assert_eq!(digest["entries"], expected.replica.store().len() as u64);
            assert_eq!(
                digest["state"],
                state_digest(&expected.replica),
                "cycle {cycle}: the restored state is the journal's"
            );
            let mut joined_before: BTreeSet<String> = expected.festivals;
            joined_before.insert(festival.clone());
            assert_eq!(joined, joined_before);
            report.push(format!(
                "restart {cycle}: {} entries in {restart:?} (restore {} ms), {} bytes cut",
                expected.replica.store().len(),
                restored["ms"],
                expected.dropped
            ));
        }

        if cycle == KILLS {
            // It resumes syncing: catches up with the peer and what it writes reaches the peer,
            // without a fork (nothing unacknowledged of its own log ever left it).
            let peer = peer.as_mut().expect("the last peer");
            let mine = node
                .command(json!({ "cmd": "publish-resource", "name": "After the last kill", "festival": festival }))
                .await;
            assert_eq!(mine["ok"], true, "{mine}");
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let ours = node
                    .command(json!({ "cmd": "status", "festival": festival }))
                    .await;
                let theirs = peer.command(json!({ "cmd": "status" })).await;
                let names = |s: &Value| -> BTreeSet<String> {
                    s["resources"]
                        .as_array()
                        .expect("resources")
                        .iter()
                        .map(|n| n.as_str().expect("name").to_owned())
                        .collect()
                };
                if names(&ours) == names(&theirs) && names(&ours).contains("After the last kill") {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "no convergence: {ours}\n{theirs}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            for process in [&mut node, peer] {
                let forks = process
                    .take_ready_lines()
                    .iter()
                    .filter(|l| l["event"] == "fork")
                    .count();
                assert_eq!(forks, 0, "{}: no fork", process.name);
            }
            node.quit().await;
            break;
        }

        // Store continuously: the festival streams in from the peer while commands publish.
        let before: u64 = node.ready["entries"].as_u64().expect("entries");
        node.stored(before + 1).await;
        let kill_after = Duration::from_millis(50 + random.below(1_500));
        let publishing = Instant::now();
        let mut sent = 0u32;
        loop {
            // Bursts with a little pacing, so replies and received entries interleave with the
            // commands; the last burst goes right before the kill, so writes are in flight.
            let last = publishing.elapsed() >= kill_after;
            for _ in 0..if last { 64 } else { 8 } {
                node.send(json!({
                    "cmd": "publish-resource",
                    "name": format!("Cycle {cycle} item {sent}"),
                    "festival": festival,
                }))
                .await;
                sent += 1;
            }
            if last {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        node.kill().await;
        let lines = node.drain().await.to_vec();
        let acked: Vec<String> = lines
            .iter()
            .filter(|l| l["reply"] == "publish-resource" && l["ok"] == true)
            .map(|l| l["resource"].as_str().expect("id").to_owned())
            .collect();
        let stored_max = lines
            .iter()
            .filter(|l| l["event"] == "stored")
            .filter_map(|l| l["count"].as_u64())
            .max()
            .unwrap_or(0);
        acknowledged.extend(acked.iter().cloned());
        if acked.len() < sent as usize {
            killed_mid_write += 1;
        }

        // What the journal holds covers everything acknowledged.
        let sound = expected_from(&journal);
        assert!(
            sound.replica.store().len() as u64 >= stored_max,
            "cycle {cycle}: {} entries in the journal, {stored_max} reported stored",
            sound.replica.store().len()
        );
        for id in &acknowledged {
            let hash: Hash = id.parse().expect("hex");
            assert!(
                sound.replica.store().get_by_hash(&hash).is_some(),
                "cycle {cycle}: acknowledged {id} is not in the journal"
            );
        }
        // Tear or flip the last record on some rounds, as a crash in the middle of a write or
        // a bad sector would.
        let damage = match cycle {
            1 => Some("torn"),
            3 => Some("flipped"),
            _ => None,
        };
        let damaged_at = damage.map(|how| {
            let (start, lost) = damage_last_record(&journal, how, &mut random);
            if let Some(lost) = lost {
                // Destroyed on purpose: it can no longer be expected back.
                acknowledged.retain(|id| *id != lost.to_hex());
            }
            start
        });
        let now = expected_from(&journal);
        if let Some(start) = damaged_at {
            let len = std::fs::metadata(&journal).expect("journal").len();
            assert_eq!(
                now.dropped,
                len - start,
                "exactly the damaged record is cut"
            );
        }
        report.push(format!(
            "kill {cycle} after {kill_after:?}: {sent} publishes sent, {} acknowledged, \
             {} entries in the journal{}",
            acked.len(),
            now.replica.store().len(),
            damage.map_or(String::new(), |d| format!(", last record {d}"))
        ));
        expected = Some(now);
    }
    for line in report {
        eprintln!("{line}");
    }
    assert!(
        killed_mid_write > 0,
        "no kill landed while publishes were in flight"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_the_identity_and_the_festivals() {
    let _serial = SERIAL.lock().await;
    let data = tempfile::tempdir().expect("temp dir");
    let dir = data.path().join("node");
    let (f1, f2, f3) = (
        Hash::digest(b"one").to_hex(),
        Hash::digest(b"two").to_hex(),
        Hash::digest(b"three").to_hex(),
    );
    let serve = |extra: &[&str]| {
        let mut list = args(&[
            "--data",
            &dir.display().to_string(),
            "--listen",
            "127.0.0.1:0",
        ]);
        list.extend(args(extra));
        list
    };
    let node = NodeProcess::start("first", &serve(&["--join", &f1, "--join", &f2])).await;
    let key = node.ready["publicKey"].clone();
    let mode = std::fs::metadata(dir.join("secret-key"))
        .expect("key file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the key is the owner's only");
    node.quit().await;

    let mut node = NodeProcess::start("second", &serve(&[])).await;
    assert_eq!(node.ready["publicKey"], key);
    let mut expected = vec![f1.clone(), f2.clone()];
    expected.sort();
    assert_eq!(node.ready["festivals"], json!(expected));
    let left = node
        .command(json!({ "cmd": "leave", "festival": f2 }))
        .await;
    assert_eq!(left["ok"], true, "{left}");
    let joined = node.command(json!({ "cmd": "join", "festival": f3 })).await;
    assert_eq!(
        (joined["ok"].clone(), joined["new"].clone()),
        (json!(true), json!(true))
    );
    // SIGTERM stops it cleanly too.
    node.terminate();
    assert!(node.exit().await.success());

    let node = NodeProcess::start("third", &serve(&[])).await;
    assert_eq!(node.ready["publicKey"], key);
    let mut expected = vec![f1, f3];
    expected.sort();
    assert_eq!(node.ready["festivals"], json!(expected));
    node.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_process_on_the_same_directory_is_refused() {
    let _serial = SERIAL.lock().await;
    let data = tempfile::tempdir().expect("temp dir");
    let dir = data.path().display().to_string();
    let list = args(&["--data", &dir, "--listen", "127.0.0.1:0"]);
    let first = NodeProcess::start("first", &list).await;

    let mut second = NodeProcess::spawn("second", &list);
    let refused = second.expect(|l| l.get("ready").is_some()).await;
    assert_eq!(refused["ready"], false);
    assert_eq!(refused["code"], "DATA_DIR_LOCKED", "{refused}");
    assert_eq!(second.exit().await.code(), Some(1));
    assert!(
        second.stderr().contains("in use by another p2panda-node"),
        "{}",
        second.stderr()
    );

    first.quit().await;
    NodeProcess::start("third", &list).await.quit().await;
}
