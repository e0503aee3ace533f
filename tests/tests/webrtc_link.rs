//! The native WebRTC link: frames arrive intact and in order, closing (or dropping) one end
//! ends the other promptly, a slow receiver holds the sender at the high-water mark and within
//! the receive window, and the throughput of one link is printed.
//!
//! These tests open real WebRTC connections. They are meant to run inside a loopback-only
//! network namespace (as root), after building outside it:
//!
//! ```sh
//! cargo test -p p2panda-tests --no-run
//! unshare -n sh -c 'ip link set lo up && exec cargo test --offline -p p2panda-tests --test webrtc_link'
//! ```
//!
//! Outside a namespace they still use loopback only, by construction: one socket bound to
//! 127.0.0.1, no ICE servers, mDNS off, and `connect_pair` fails on any candidate that is not
//! 127.0.0.1. Add `-- --nocapture` to see the measured times.

use std::hash::{DefaultHasher, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use p2panda_node::webrtc_link::{
    connect_pair, Link, LinkError, HIGH_WATER_MARK, MAX_FRAME, RECV_WINDOW_FRAMES,
};

/// One WebRTC test at a time: they measure timings on a 2-core machine, and SCTP in webrtc-rs
/// is known to stall for seconds when several connections compete for the CPU.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Upper bound for each test, so a stalled link fails the test instead of hanging it.
const TEST_LIMIT: Duration = Duration::from_secs(120);

const MIB: f64 = 1024.0 * 1024.0;

/// SplitMix64: a seeded generator, so each receiver can recompute what its sender sent.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// `len` random bytes.
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(len + 8);
        while bytes.len() < len {
            bytes.extend_from_slice(&self.next().to_le_bytes());
        }
        bytes.truncate(len);
        bytes
    }

    /// A frame of random content and a random size in `1..=MAX_FRAME`.
    fn frame(&mut self) -> Vec<u8> {
        let len = 1 + (self.next() % MAX_FRAME as u64) as usize;
        self.bytes(len)
    }
}

fn digest(frame: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    hasher.write(frame);
    hasher.finish()
}

fn digests(seed: u64, count: usize) -> Vec<u64> {
    let mut rng = Rng(seed);
    (0..count).map(|_| digest(&rng.frame())).collect()
}

fn mib_per_s(bytes: usize, elapsed: Duration) -> f64 {
    bytes as f64 / MIB / elapsed.as_secs_f64()
}

/// Says so when the test is not isolated in a network namespace; it still only uses loopback.
fn note_if_not_namespaced() {
    // Not /sys/class/net: `unshare -n` keeps the host's sysfs mounted, which still lists the
    // host's interfaces; /proc/self/net/dev shows this process's namespace.
    let others: Vec<String> = std::fs::read_to_string("/proc/self/net/dev")
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(name, _)| name.trim().to_owned())
        .filter(|name| name != "lo")
        .collect();
    if !others.is_empty() {
        eprintln!(
            "note: not inside a network namespace (interfaces {others:?}); the link still binds \
             127.0.0.1 only. Meant to run under `unshare -n`, see the file header."
        );
    }
}

async fn connected_pair() -> (Link, Link) {
    note_if_not_namespaced();
    let started = Instant::now();
    let pair = connect_pair().await.expect("connect_pair");
    eprintln!(
        "connect_pair: open on both ends after {:?}",
        started.elapsed()
    );
    pair
}

/// Sends `count` frames from `seed` while receiving `count` frames, and returns the digests of
/// the frames received, in order.
async fn exchange(link: &Link, seed: u64, count: usize) -> Vec<u64> {
    let send = async {
        let mut rng = Rng(seed);
        for _ in 0..count {
            link.send(&rng.frame()).await.expect("send");
        }
    };
    let receive = async {
        let mut received = Vec::with_capacity(count);
        while received.len() < count {
            match link.recv().await {
                Some(frame) => received.push(digest(&frame)),
                None => break,
            }
        }
        received
    };
    tokio::join!(send, receive).1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_arrive_intact_and_in_order_both_ways() {
    let _serial = SERIAL.lock().await;
    tokio::time::timeout(TEST_LIMIT, async {
        const FRAMES: usize = 2_000;
        let (a, b) = connected_pair().await;
        let started = Instant::now();
        let (at_a, at_b) = tokio::join!(exchange(&a, 1, FRAMES), exchange(&b, 2, FRAMES));
        eprintln!(
            "exchanged {FRAMES} random-size frames each way in {:?}",
            started.elapsed()
        );

        // Compared as whole lists: a lost, corrupted or reordered frame shows as a mismatch.
        for (end, received, seed) in [("b", &at_b, 1), ("a", &at_a, 2)] {
            let expected = digests(seed, FRAMES);
            let first_wrong = received.iter().zip(&expected).position(|(r, e)| r != e);
            assert_eq!(
                (received.len(), first_wrong),
                (FRAMES, None),
                "frames received at {end}"
            );
        }
        a.close().await;
        b.close().await;
    })
    .await
    .expect("test took too long");
}

/// Measures how long after `closed_at` the still-open end `other` sees the closure: its `recv`
/// returns `None` and its `send` fails with `Closed`.
async fn assert_other_end_sees_closure(other: &Link, closed_at: Instant) {
    const BOUND: Duration = Duration::from_secs(10);
    let received = tokio::time::timeout(BOUND, other.recv()).await;
    let recv_ended = closed_at.elapsed();
    assert!(
        matches!(received, Ok(None)),
        "recv at the other end: {received:?}"
    );
    let sent = other.send(b"after close").await;
    let send_failed = closed_at.elapsed();
    assert!(matches!(sent, Err(LinkError::Closed)), "send: {sent:?}");
    eprintln!(
        "other end: recv() -> None after {recv_ended:?}, send() -> Closed after {send_failed:?}"
    );
    assert!(recv_ended < BOUND, "took {recv_ended:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_ends_the_other_end_promptly() {
    let _serial = SERIAL.lock().await;
    tokio::time::timeout(TEST_LIMIT, async {
        let (a, b) = connected_pair().await;
        // Something in flight both ways first, so closure is not tested on an idle channel only.
        a.send(b"hello").await.expect("send");
        assert_eq!(b.recv().await.as_deref(), Some(&b"hello"[..]));
        b.send(b"").await.expect("send an empty frame");
        assert_eq!(a.recv().await.as_deref(), Some(&b""[..]));
        assert!(matches!(
            b.send(&vec![0; MAX_FRAME + 1]).await,
            Err(LinkError::FrameTooLarge(_))
        ));

        let closed_at = Instant::now();
        a.close().await;
        eprintln!("close() returned after {:?}", closed_at.elapsed());
        assert!(matches!(a.send(b"x").await, Err(LinkError::Closed)));
        assert_eq!(a.recv().await, None);
        a.close().await; // idempotent
        assert_other_end_sees_closure(&b, closed_at).await;
    })
    .await
    .expect("test took too long");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_one_end_ends_the_other_promptly() {
    let _serial = SERIAL.lock().await;
    tokio::time::timeout(TEST_LIMIT, async {
        let (a, b) = connected_pair().await;
        a.send(b"hello").await.expect("send");
        assert_eq!(b.recv().await.as_deref(), Some(&b"hello"[..]));

        let dropped_at = Instant::now();
        drop(a);
        assert_other_end_sees_closure(&b, dropped_at).await;
    })
    .await
    .expect("test took too long");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_receiver_bounds_what_the_sender_buffers_and_sends_ahead() {
    let _serial = SERIAL.lock().await;
    tokio::time::timeout(TEST_LIMIT, async {
        const FRAMES: usize = 50 * 1024 * 1024 / MAX_FRAME; // 50 MiB
        let (a, b) = connected_pair().await;
        let taken = AtomicUsize::new(0); // frames the receiving application has taken
        let started = Instant::now();

        let send = async {
            let mut rng = Rng(3);
            let (mut most_buffered, mut most_ahead) = (0, 0);
            for sent in 1..=FRAMES {
                if a.send(&rng.bytes(MAX_FRAME)).await.is_err() {
                    break; // the receiver gave up; its assertion says why
                }
                // Sampled right after each send, where both peak.
                most_buffered = most_buffered.max(a.buffered_amount().await);
                most_ahead = most_ahead.max(sent - taken.load(Ordering::Acquire));
            }
            (most_buffered, most_ahead, started.elapsed())
        };
        let receive = async {
            let mut rng = Rng(3);
            let mut intact = 0;
            while intact < FRAMES {
                if b.recv().await != Some(rng.bytes(MAX_FRAME)) {
                    b.close().await; // releases the sender
                    break;
                }
                intact += 1;
                taken.store(intact, Ordering::Release);
                // At most 16 MiB/s, slower than the link.
                if intact % 2 == 0 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
            (intact, started.elapsed())
        };
        let ((most_buffered, most_ahead, send_took), (intact, receive_took)) =
            tokio::join!(send, receive);

        let bytes = FRAMES * MAX_FRAME;
        eprintln!(
            "slow receiver: 50 MiB sent in {send_took:?}, received in {receive_took:?} \
             ({:.1} MiB/s); sender's buffered amount peaked at {most_buffered} bytes \
             (high-water mark {HIGH_WATER_MARK}, frame {MAX_FRAME}); sender at most \
             {most_ahead} frames ahead of the reader (window {RECV_WINDOW_FRAMES})",
            mib_per_s(bytes, receive_took)
        );
        assert_eq!(intact, FRAMES, "frames received intact and in order");
        assert!(
            most_ahead <= RECV_WINDOW_FRAMES,
            "sender ran {most_ahead} frames ahead of the reader"
        );
        assert!(
            most_buffered <= HIGH_WATER_MARK + MAX_FRAME,
            "sender buffered {most_buffered} bytes"
        );
        // The receiver was the bottleneck, so the sender must have reached the mark and waited.
        assert!(
            most_buffered >= HIGH_WATER_MARK,
            "never reached the high-water mark: {most_buffered}"
        );
        a.close().await;
        b.close().await;
    })
    .await
    .expect("test took too long");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throughput_of_full_frames_one_way() {
    let _serial = SERIAL.lock().await;
    tokio::time::timeout(TEST_LIMIT, async {
        const FRAMES: usize = 10_000;
        let (a, b) = connected_pair().await;
        let a = Arc::new(a);
        let frame = vec![0x5a; MAX_FRAME];
        let started = Instant::now();
        let sender = {
            let a = a.clone();
            tokio::spawn(async move {
                for _ in 0..FRAMES {
                    a.send(&frame).await.expect("send");
                }
            })
        };
        let mut bytes = 0;
        for _ in 0..FRAMES {
            bytes += b.recv().await.expect("frame").len();
        }
        let took = started.elapsed();
        sender.await.expect("sender task");
        assert_eq!(bytes, FRAMES * MAX_FRAME);
        eprintln!(
            "throughput: {FRAMES} x {MAX_FRAME} bytes one way in {took:?} = {:.1} MiB/s",
            mib_per_s(bytes, took)
        );
        a.close().await;
        b.close().await;
    })
    .await
    .expect("test took too long");
}
