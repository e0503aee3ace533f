//! The `p2panda-node` program, as browser tests use it: real processes that meet through a
//! real rendezvous (in-process here, on 127.0.0.1) and sync over real WebRTC, driven by JSON
//! lines on stdin and read back from stdout.
//!
//! Opens WebRTC connections, so run it inside a loopback-only network namespace (as root),
//! after building outside it:
//!
//! ```sh
//! cargo test -p p2panda-node --test native_node --no-run
//! unshare -n sh -c 'ip link set lo up && exec cargo test --offline -p p2panda-node --test native_node'
//! ```

mod common;

use std::net::SocketAddr;
use std::time::Instant;

use common::{rendezvous, NodeProcess, BINARY};
use serde_json::{json, Value};
use tokio::process::Command;

/// One test at a time: each runs several WebRTC processes on a 2-core machine.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Starts a node that meets peers through the rendezvous at `addr`.
async fn start(name: &str, addr: SocketAddr, extra: &[&str]) -> NodeProcess {
    let mut args = vec!["--rendezvous".to_owned(), format!("ws://{addr}")];
    args.extend(extra.iter().map(|s| s.to_string()));
    NodeProcess::start(name, &args).await
}

fn names(status: &Value) -> Vec<String> {
    status["resources"]
        .as_array()
        .expect("resources list")
        .iter()
        .map(|n| n.as_str().expect("a name").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_meet_through_the_rendezvous_and_sync_a_festival_both_ways() {
    let _serial = SERIAL.lock().await;
    let (server, addr) = rendezvous().await;
    const ENTRIES: u64 = 1_000;

    let started = Instant::now();
    let mut a = start(
        "a",
        addr,
        &[
            "--create-festival",
            "Meadow fest",
            "--entries",
            &ENTRIES.to_string(),
        ],
    )
    .await;
    assert_eq!(a.ready["entries"], ENTRIES);
    let festival = a.festival().to_owned();
    let mut b = start("b", addr, &["--festival", &festival]).await;
    assert_eq!(b.ready["entries"], 0);
    assert_eq!(b.ready["room"], a.ready["room"], "one festival, one room");
    let both_ready = started.elapsed();

    // b is the newcomer: it offers, a answers, and each learns the other's key.
    let link = b.expect(|l| l["event"] == "link").await;
    assert_eq!(
        (link["role"].clone(), link["via"].clone()),
        (json!("offer"), json!("rendezvous"))
    );
    assert_eq!(link["session"], a.ready["session"]);
    let link = a.expect(|l| l["event"] == "link").await;
    assert_eq!(link["role"], "answer");
    let met = b.expect(|l| l["event"] == "peer").await;
    assert_eq!(met["publicKey"], a.ready["publicKey"]);
    assert_eq!(met["sharedTopics"], 1);
    let met = a.expect(|l| l["event"] == "peer").await;
    assert_eq!(met["publicKey"], b.ready["publicKey"]);
    let linked = started.elapsed();
    assert_eq!(server.stats().members, 2);

    // a's festival reaches b…
    b.stored(ENTRIES).await;
    let synced = started.elapsed();
    let status_b = b.command(json!({ "cmd": "status" })).await;
    assert_eq!(status_b["entries"], ENTRIES);
    assert_eq!(status_b["festivalKnown"], true);

    // …and what each then writes reaches the other.
    let reply = b
        .command(json!({ "cmd": "publish-resource", "name": "Tent from b" }))
        .await;
    assert_eq!(reply["ok"], true, "{reply}");
    a.stored(ENTRIES + 1).await;
    let reply = a
        .command(json!({ "cmd": "publish-resource", "name": "Stage from a" }))
        .await;
    assert_eq!(reply["ok"], true, "{reply}");
    b.stored(ENTRIES + 2).await;
    let live = started.elapsed();

    let status_a = a.command(json!({ "cmd": "status", "marker": "m1" })).await;
    assert_eq!(status_a["marker"], "m1", "replies echo the marker");
    let status_b = b.command(json!({ "cmd": "status" })).await;
    for status in [&status_a, &status_b] {
        assert_eq!(status["entries"], ENTRIES + 2);
        assert_eq!(status["links"], 1);
        let names = names(status);
        assert!(names.contains(&"Tent from b".to_owned()), "{names:?}");
        assert!(names.contains(&"Stage from a".to_owned()), "{names:?}");
    }
    assert_eq!(names(&status_a), names(&status_b));
    // Every tenth generated entry is a resource, plus the two written live.
    assert_eq!(names(&status_a).len() as u64, (ENTRIES - 1) / 10 + 2);

    // A command the program does not know is refused, not fatal.
    let reply = a.command(json!({ "cmd": "dance" })).await;
    assert_eq!(reply["code"], "UNKNOWN_COMMAND");

    b.quit().await;
    // b said goodbye before hanging up.
    let dropped = a.expect(|l| l["event"] == "dropped").await;
    assert_eq!(dropped["closeReason"], "GOODBYE", "{dropped}");
    a.quit().await;
    eprintln!(
        "both ready after {both_ready:?}, linked and authenticated after {linked:?}, \
         {ENTRIES} entries synced after {synced:?}, live writes both ways after {live:?}"
    );
}

/// `--misbehave MODE`: what the misbehaving node (holding 20 entries the honest one lacks) and
/// the honest one each report, and that the honest one stored nothing.
async fn misbehaving_node_is_dropped(
    addr: SocketAddr,
    mode: &str,
    honest_code: &str,
    misbehaving_saw: (&str, Option<&str>),
) {
    let started = Instant::now();
    let mut bad = start(
        "misbehaving",
        addr,
        &[
            "--create-festival",
            mode,
            "--entries",
            "20",
            "--misbehave",
            mode,
        ],
    )
    .await;
    let festival = bad.festival().to_owned();
    let mut honest = start("honest", addr, &["--festival", &festival]).await;

    let dropped = honest.expect(|l| l["event"] == "dropped").await;
    assert_eq!(dropped["code"], honest_code, "{mode}: {dropped}");
    let dropped_bad = bad.expect(|l| l["event"] == "dropped").await;
    assert_eq!(
        dropped_bad["code"], misbehaving_saw.0,
        "{mode}: {dropped_bad}"
    );
    if let Some(reason) = misbehaving_saw.1 {
        assert_eq!(dropped_bad["closeReason"], reason, "{mode}: {dropped_bad}");
    }
    let took = started.elapsed();

    let status = honest.command(json!({ "cmd": "status" })).await;
    assert_eq!(status["entries"], 0, "{mode}: nothing it sent is stored");
    assert_eq!(status["links"], 0);
    eprintln!("--misbehave {mode}: dropped {took:?} after start; honest saw {dropped}");
    honest.quit().await;
    bad.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misbehaving_nodes_are_dropped_and_nothing_they_send_is_stored() {
    let _serial = SERIAL.lock().await;
    let (_server, addr) = rendezvous().await;
    // Garbage after the handshake: the honest side cannot decode it, says so and hangs up.
    misbehaving_node_is_dropped(
        addr,
        "garbage",
        "SYNC_MALFORMED",
        ("SYNC_CLOSED", Some("PROTOCOL_VIOLATION")),
    )
    .await;
    // A frame over 16 KiB breaks the link protocol: the link is closed under the session.
    misbehaving_node_is_dropped(addr, "oversized", "LINK_CLOSED", ("LINK_CLOSED", None)).await;
    // Entries with forged signatures are refused and the sender told why.
    misbehaving_node_is_dropped(
        addr,
        "forged",
        "SYNC_INVALID_ENTRY",
        ("SYNC_CLOSED", Some("INVALID_ENTRY")),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_command_lines_are_refused_with_a_usage_error() {
    for args in [
        vec!["--entries", "5"],
        vec![
            "--rendezvous",
            "ws://example.invalid:4040",
            "--create-festival",
            "F",
        ],
        vec!["--rendezvous", "ws://127.0.0.1:1", "--festival", "zz"],
    ] {
        let output = Command::new(BINARY)
            .args(&args)
            .output()
            .await
            .expect("run p2panda-node");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}
