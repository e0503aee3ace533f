//! Browser tests of the WebRTC link: real Chromium peer connections inside one page, pinned to
//! loopback. Run inside a network namespace (see `/work/notes/common.md`):
//! `unshare -n sh -c 'ip link set lo up && exec cargo test -p p2panda-wasm --target
//! wasm32-unknown-unknown --test link'`.
#![cfg(target_arch = "wasm32")]

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures::channel::mpsc;
use futures::StreamExt;
use js_sys::{Function, Promise};
use p2panda_wasm::net::link::{
    answer, binding_of, offer, Link, LinkConfig, LinkError, HIGH_WATER_MARK, LOW_WATER_MARK,
    MAX_FRAME, MAX_QUEUED_BYTES, MAX_QUEUED_SIGNALS, MAX_SIGNAL, QUEUE_LOW_WATER,
    RECV_WINDOW_FRAMES, TAG_CREDIT, TAG_FRAME, TAG_SIGNAL,
};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{
    MessageChannel, RtcDataChannel, RtcDataChannelInit, RtcDataChannelState, RtcIceGatheringState,
    RtcPeerConnection, RtcSdpType, RtcSessionDescriptionInit,
};

wasm_bindgen_test_configure!(run_in_browser);

fn config() -> LinkConfig {
    LinkConfig {
        loopback_only: true,
        ..LinkConfig::default()
    }
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn set_timeout(callback: &Function, ms: i32) {
    web_sys::window()
        .expect("a window")
        .set_timeout_with_callback_and_timeout_and_arguments_0(callback, ms)
        .expect("setTimeout");
}

async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| set_timeout(&resolve, ms));
    JsFuture::from(promise).await.expect("timer");
}

/// Polls `done` every 5 ms; false if it did not hold within `limit_ms`.
async fn wait_until(limit_ms: f64, mut done: impl FnMut() -> bool) -> bool {
    let start = now_ms();
    while !done() {
        if now_ms() - start > limit_ms {
            return false;
        }
        sleep(5).await;
    }
    true
}

/// The reason and time of a link's `on_close`, once it fired.
type CloseSeen = Rc<RefCell<Option<(LinkError, f64)>>>;
/// Frames or signals handed to a callback, in order.
type Seen = Rc<RefCell<Vec<Vec<u8>>>>;

/// Records the reason and time of a link's `on_close`.
fn watch_close(link: &Link) -> CloseSeen {
    let seen = Rc::new(RefCell::new(None));
    let record = seen.clone();
    link.on_close(move |reason| *record.borrow_mut() = Some((reason, now_ms())));
    seen
}

/// Collects every frame (or signal) handed to a callback.
fn collector() -> (Seen, impl FnMut(Vec<u8>)) {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let push = seen.clone();
    (seen, move |item| push.borrow_mut().push(item))
}

struct Pair {
    a: Link,
    b: Link,
    offer_sdp: String,
    answer_sdp: String,
}

/// Offerer `a` and answerer `b`, connected in this page.
async fn pair() -> Pair {
    let start = now_ms();
    let pending = offer(&config()).await.expect("offer");
    let offer_sdp = pending.local_sdp().to_string();
    let (answering, answer_sdp) = answer(&config(), &offer_sdp).await.expect("answer");
    let (a, b) = futures::join!(pending.accept_answer(&answer_sdp), answering.open());
    console_log!("link open after {:.0} ms", now_ms() - start);
    Pair {
        a: a.expect("offerer opens"),
        b: b.expect("answerer opens"),
        offer_sdp,
        answer_sdp,
    }
}

/// Frame `i` of a test stream: its index, then a pattern that depends on it.
fn frame(i: u32, len: usize) -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..len)
        .map(|j| (j as u32).wrapping_mul(31).wrapping_add(i) as u8)
        .collect();
    let n = len.min(4);
    bytes[..n].copy_from_slice(&i.to_le_bytes()[..n]);
    bytes
}

#[wasm_bindgen_test]
async fn frames_flow_both_ways_in_order_and_bindings_agree() {
    let Pair {
        a,
        b,
        offer_sdp,
        answer_sdp,
    } = pair().await;

    let binding = a.binding();
    assert!(!binding.is_empty());
    assert_eq!(binding, b.binding());
    assert_eq!(Some(binding.clone()), binding_of(&offer_sdp, &answer_sdp));
    assert_eq!(Some(binding.clone()), binding_of(&answer_sdp, &offer_sdp));
    let text = String::from_utf8(binding).expect("fingerprints are text");
    assert_eq!(text.lines().count(), 2, "two fingerprints: {text}");

    let sizes = [0usize, 1, 4, 100, 1024, MAX_FRAME - 1, MAX_FRAME];
    let stream = |from: u32| -> Vec<Vec<u8>> {
        (0..200u32)
            .map(|i| frame(from + i, sizes[i as usize % sizes.len()]))
            .collect()
    };
    let (to_a, to_b) = (stream(1_000), stream(5_000));
    let (at_a, on_a) = collector();
    let (at_b, on_b) = collector();
    a.on_frame(on_a);
    b.on_frame(on_b);
    // 200 frames of up to 16 KiB are more than the queue cap allows at once: pump by queue size.
    let (mut next_a, mut next_b) = (0, 0);
    let all_in = wait_until(10_000.0, || {
        while next_a < to_b.len() && a.queued_bytes() < QUEUE_LOW_WATER {
            a.send_frame(&to_b[next_a]).expect("a sends");
            next_a += 1;
        }
        while next_b < to_a.len() && b.queued_bytes() < QUEUE_LOW_WATER {
            b.send_frame(&to_a[next_b]).expect("b sends");
            next_b += 1;
        }
        at_a.borrow().len() == to_a.len() && at_b.borrow().len() == to_b.len()
    })
    .await;
    assert!(
        all_in,
        "a got {}, b got {}",
        at_a.borrow().len(),
        at_b.borrow().len()
    );
    assert!(
        *at_a.borrow() == to_a,
        "frames to a arrive intact and in order"
    );
    assert!(
        *at_b.borrow() == to_b,
        "frames to b arrive intact and in order"
    );

    assert_eq!(
        a.send_frame(&vec![0; MAX_FRAME + 1]),
        Err(LinkError::FrameTooLarge(MAX_FRAME + 1))
    );
    assert!(!a.is_closed() && !b.is_closed());
    a.close();
    b.close();
}

/// Sends `count` frames of `len` bytes from `from` as fast as the link takes them (refilling
/// the queue on `on_writable`), recording the largest buffered amount seen after a send.
/// Returns how often it had to wait for `on_writable`.
async fn produce(from: &Link, count: u32, len: usize, peak: Rc<Cell<u32>>) -> u32 {
    let (writable_tx, mut writable) = mpsc::unbounded();
    from.on_writable(move || {
        let _ = writable_tx.unbounded_send(());
    });
    let (mut next, mut waits) = (0, 0);
    while next < count {
        while next < count && from.queued_bytes() < QUEUE_LOW_WATER {
            from.send_frame(&frame(next, len)).expect("send");
            peak.set(peak.get().max(from.buffered_amount()));
            next += 1;
        }
        if next < count {
            writable.next().await.expect("writable fires");
            waits += 1;
        }
    }
    waits
}

const BUFFER_BOUND: u32 = (HIGH_WATER_MARK + LOW_WATER_MARK + 1 + MAX_FRAME) as u32;

#[wasm_bindgen_test]
async fn slow_receiver_holds_the_sender_back() {
    const COUNT: u32 = 5_000;
    let Pair { a, b, .. } = pair().await;
    let peak = Rc::new(Cell::new(0u32));
    let received = Rc::new(Cell::new(0u32));
    let in_order = Rc::new(Cell::new(true));
    let credit_ran_out = Rc::new(Cell::new(false));
    let max_credit = Rc::new(Cell::new(0u32));
    // Resumes delivery from a timer. Each timer is set from a MessageChannel task, not from the
    // previous timer's task, so Chromium's 4 ms clamp for nested timers never applies.
    let resume = Closure::<dyn FnMut()>::new({
        let receiver = b.clone();
        move || receiver.resume_frames()
    });
    let channel = MessageChannel::new().expect("MessageChannel");
    let schedule = Closure::<dyn FnMut()>::new(move || {
        set_timeout(resume.as_ref().unchecked_ref(), 0);
    });
    channel
        .port1()
        .set_onmessage(Some(schedule.as_ref().unchecked_ref()));
    {
        // Takes one frame, then pauses delivery until the timer fires: credit returns slowly.
        let (receiver, received, in_order) = (b.clone(), received.clone(), in_order.clone());
        let (sender, peak, credit_ran_out) = (a.clone(), peak.clone(), credit_ran_out.clone());
        let max_credit = max_credit.clone();
        let port = channel.port2();
        b.on_frame(move |f| {
            let expected = frame(received.get(), 1024);
            in_order.set(in_order.get() && f == expected);
            received.set(received.get() + 1);
            peak.set(peak.get().max(sender.buffered_amount()));
            max_credit.set(max_credit.get().max(sender.send_credit()));
            credit_ran_out.set(credit_ran_out.get() || sender.send_credit() == 0);
            receiver.pause_frames();
            port.post_message(&JsValue::NULL).expect("postMessage");
        });
    }
    let start = now_ms();
    let waits = produce(&a, COUNT, 1024, peak.clone()).await;
    assert!(wait_until(30_000.0, || received.get() == COUNT).await);
    let elapsed = now_ms() - start;
    console_log!(
        "slow receiver: {COUNT} x 1 KiB in {elapsed:.0} ms ({:.2} MiB/s), peak bufferedAmount {} B (bound {BUFFER_BOUND}), producer waited {waits} times",
        f64::from(COUNT) / 1024.0 / (elapsed / 1000.0),
        peak.get(),
    );
    assert!(in_order.get(), "frames arrive intact and in order");
    assert!(credit_ran_out.get(), "the sender ran out of credit");
    assert!(waits > 0, "the sender's queue filled up");
    assert!(max_credit.get() <= RECV_WINDOW_FRAMES);
    assert!(peak.get() <= BUFFER_BOUND, "peak {}", peak.get());
    a.close();
}

#[wasm_bindgen_test]
async fn fast_receiver_throughput() {
    for (count, len) in [(10_000u32, 1024usize), (2_000, MAX_FRAME)] {
        let Pair { a, b, .. } = pair().await;
        let peak = Rc::new(Cell::new(0u32));
        let received = Rc::new(Cell::new(0u32));
        let in_order = Rc::new(Cell::new(true));
        {
            let (received, in_order) = (received.clone(), in_order.clone());
            b.on_frame(move |f| {
                let index = f
                    .get(..4)
                    .map(|i| u32::from_le_bytes([i[0], i[1], i[2], i[3]]));
                in_order.set(in_order.get() && index == Some(received.get()) && f.len() == len);
                received.set(received.get() + 1);
            });
        }
        let start = now_ms();
        let _ = produce(&a, count, len, peak.clone()).await;
        assert!(wait_until(30_000.0, || received.get() == count).await);
        let elapsed = now_ms() - start;
        let mib = f64::from(count) * len as f64 / (1024.0 * 1024.0);
        console_log!(
            "fast receiver: {count} x {len} B in {elapsed:.0} ms = {:.1} MiB/s, peak bufferedAmount {} B",
            mib / (elapsed / 1000.0),
            peak.get()
        );
        assert!(in_order.get());
        assert!(peak.get() <= BUFFER_BOUND, "peak {}", peak.get());
        a.close();
    }
}

/// A hand-built Chromium peer that offers the `"frames"` channel and speaks raw bytes on it,
/// connected to a real link (the answering side).
async fn raw_peer() -> (RtcPeerConnection, RtcDataChannel, Link) {
    let pc = RtcPeerConnection::new().expect("peer connection");
    let init = RtcDataChannelInit::new();
    init.set_ordered(true);
    let dc = pc.create_data_channel_with_data_channel_dict("frames", &init);
    let offer_desc = JsFuture::from(pc.create_offer()).await.expect("offer");
    JsFuture::from(pc.set_local_description(offer_desc.unchecked_ref()))
        .await
        .expect("set local");
    assert!(
        wait_until(5_000.0, || pc.ice_gathering_state()
            == RtcIceGatheringState::Complete)
        .await
    );
    let offer_sdp = pc.local_description().expect("local description").sdp();
    let (pending, answer_sdp) = answer(&config(), &offer_sdp).await.expect("answer");
    let description = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
    description.set_sdp(&answer_sdp);
    JsFuture::from(pc.set_remote_description(&description))
        .await
        .expect("set remote");
    let link = pending.open().await.expect("link opens");
    assert!(wait_until(5_000.0, || dc.ready_state() == RtcDataChannelState::Open).await);
    (pc, dc, link)
}

fn send_raw(dc: &RtcDataChannel, bytes: &[u8]) {
    dc.send_with_u8_array(bytes).expect("raw send");
}

/// Waits for the link to close with a protocol violation; also checks the raw peer notices.
async fn expect_protocol_close(case: &str, link: &Link, closed: &CloseSeen, dc: &RtcDataChannel) {
    assert!(
        wait_until(2_000.0, || closed.borrow().is_some()).await,
        "{case}: link did not close"
    );
    let reason = closed.borrow().as_ref().map(|(reason, _)| reason.clone());
    assert!(
        matches!(reason, Some(LinkError::Protocol(_))),
        "{case}: closed with {reason:?}"
    );
    console_log!("{case}: {reason:?}");
    assert!(link.is_closed());
    assert_eq!(link.send_frame(b"x"), Err(LinkError::Closed));
    assert!(
        wait_until(2_000.0, || dc.ready_state() == RtcDataChannelState::Closed).await,
        "{case}: the raw peer did not see the close"
    );
}

#[wasm_bindgen_test]
async fn protocol_violations_close_the_link() {
    let mut oversized = vec![TAG_FRAME];
    oversized.extend(vec![7u8; MAX_FRAME + 1]);
    let mut oversized_signal = vec![TAG_SIGNAL];
    oversized_signal.extend(vec![7u8; MAX_SIGNAL + 1]);
    let single: [(&str, Vec<u8>); 6] = [
        ("unknown tag", vec![9, 1, 2, 3]),
        ("empty message", vec![]),
        ("frame over 16 KiB", oversized),
        ("signal over 16 KiB", oversized_signal),
        ("short credit", vec![TAG_CREDIT, 1, 0]),
        ("credit beyond the window", vec![TAG_CREDIT, 1, 0, 0, 0]),
    ];
    for (case, message) in single {
        let (pc, dc, link) = raw_peer().await;
        let closed = watch_close(&link);
        send_raw(&dc, &message);
        expect_protocol_close(case, &link, &closed, &dc).await;
        pc.close();
    }

    {
        let (pc, dc, link) = raw_peer().await;
        let closed = watch_close(&link);
        dc.send_with_str("text").expect("raw send");
        expect_protocol_close("text message", &link, &closed, &dc).await;
        pc.close();
    }

    {
        // No `on_frame`: nothing is taken, so no credit comes back. The window is exactly full
        // after 32 frames; 8 more overrun it.
        let (pc, dc, link) = raw_peer().await;
        let closed = watch_close(&link);
        for i in 0..RECV_WINDOW_FRAMES {
            send_raw(&dc, &[TAG_FRAME, i as u8]);
        }
        sleep(300).await;
        assert!(!link.is_closed(), "a full window is allowed");
        for i in RECV_WINDOW_FRAMES..40 {
            send_raw(&dc, &[TAG_FRAME, i as u8]);
        }
        expect_protocol_close("40 frames without credit", &link, &closed, &dc).await;
        pc.close();
    }

    {
        // Signals need no credit but are bounded while nobody takes them.
        let (pc, dc, link) = raw_peer().await;
        let closed = watch_close(&link);
        for _ in 0..MAX_QUEUED_SIGNALS {
            send_raw(&dc, &[TAG_SIGNAL, 1]);
        }
        sleep(300).await;
        assert!(
            !link.is_closed(),
            "{MAX_QUEUED_SIGNALS} waiting signals are allowed"
        );
        send_raw(&dc, &[TAG_SIGNAL, 1]);
        expect_protocol_close("too many undelivered signals", &link, &closed, &dc).await;
        pc.close();
    }
}

#[wasm_bindgen_test]
async fn close_is_noticed_by_the_other_end_quickly() {
    let Pair { a, b, .. } = pair().await;
    let closed_a = watch_close(&a);
    let closed_b = watch_close(&b);
    let start = now_ms();
    a.close();
    a.close(); // idempotent
    assert_eq!(a.send_frame(b"late"), Err(LinkError::Closed));
    assert!(wait_until(3_000.0, || closed_b.borrow().is_some()).await);
    let (reason, at) = closed_b.borrow().clone().expect("closed");
    console_log!(
        "remote close noticed after {:.0} ms: {reason:?}",
        at - start
    );
    assert!(at - start < 1_000.0, "noticed after {} ms", at - start);
    assert_eq!(reason, LinkError::Closed, "an orderly close, not a failure");
    assert!(b.is_closed());
    assert_eq!(b.send_signal(b"late"), Err(LinkError::Closed));
    // The closing end's own callback fires too, once, as `Closed`.
    assert!(wait_until(1_000.0, || closed_a.borrow().is_some()).await);
    assert_eq!(
        closed_a.borrow().as_ref().map(|(r, _)| r.clone()),
        Some(LinkError::Closed)
    );
    // Registered after the close, it still fires.
    let late = watch_close(&a);
    assert!(wait_until(1_000.0, || late.borrow().is_some()).await);

    // Dropping the last handle closes the connection as well.
    let Pair { a, b, .. } = pair().await;
    let closed_a = watch_close(&a);
    let start = now_ms();
    drop(b);
    assert!(wait_until(3_000.0, || closed_a.borrow().is_some()).await);
    console_log!("dropped handle noticed after {:.0} ms", now_ms() - start);
}

#[wasm_bindgen_test]
async fn setup_refuses_bad_descriptions_and_times_out() {
    let pending = offer(&config()).await.expect("offer");
    let offer_sdp = pending.local_sdp().to_string();

    // A candidate off loopback is refused before anything is applied.
    let lan = offer_sdp.replace(" 127.0.0.1 ", " 192.168.1.2 ");
    assert_ne!(lan, offer_sdp);
    let refused = answer(&config(), &lan).await;
    assert!(matches!(refused, Err(LinkError::Setup(_))), "{refused:?}");
    // A description without a fingerprint gives no binding, so no link.
    let unbound: String = offer_sdp
        .lines()
        .filter(|l| !l.starts_with("a=fingerprint:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    let refused = answer(&config(), &unbound).await;
    assert!(matches!(refused, Err(LinkError::Setup(_))), "{refused:?}");

    // The answering end goes away before connecting: the offerer gives up in time.
    let quick = LinkConfig {
        open_timeout_ms: 1_500,
        ..config()
    };
    let pending = offer(&quick).await.expect("offer");
    let (gone, answer_sdp) = answer(&quick, pending.local_sdp()).await.expect("answer");
    drop(gone);
    let start = now_ms();
    let result = pending.accept_answer(&answer_sdp).await;
    console_log!(
        "abandoned setup ended after {:.0} ms: {result:?}",
        now_ms() - start
    );
    assert!(
        matches!(result, Err(LinkError::Timeout | LinkError::Failed(_))),
        "{result:?}"
    );
    assert!(now_ms() - start < 3_000.0);
}

#[wasm_bindgen_test]
async fn signals_pass_both_ways_without_frame_credit() {
    let Pair { a, b, .. } = pair().await;
    // Signals sent before anyone listens wait (up to the bound) and are delivered on `on_signal`.
    a.send_signal(b"early").expect("signal");
    sleep(50).await;
    let (signals_at_b, on_b) = collector();
    b.on_signal(on_b);
    let (signals_at_a, on_a) = collector();
    a.on_signal(on_a);

    // b takes no frames: a spends its whole credit and the rest of its frames wait.
    let (frames_at_b, on_frames) = collector();
    b.on_frame(on_frames);
    b.pause_frames();
    for i in 0..40 {
        a.send_frame(&frame(i, 64)).expect("frame");
    }
    assert_eq!(a.send_credit(), 0);
    assert!(a.queued_bytes() > 0);

    a.send_signal(b"from a").expect("signal");
    b.send_signal(b"from b").expect("signal");
    let big = vec![5u8; MAX_SIGNAL];
    b.send_signal(&big).expect("largest signal");
    assert_eq!(
        b.send_signal(&vec![5u8; MAX_SIGNAL + 1]),
        Err(LinkError::FrameTooLarge(MAX_SIGNAL + 1))
    );
    assert!(
        wait_until(3_000.0, || signals_at_b.borrow().len() == 2
            && signals_at_a.borrow().len() == 2)
        .await
    );
    assert_eq!(
        *signals_at_b.borrow(),
        vec![b"early".to_vec(), b"from a".to_vec()]
    );
    assert_eq!(*signals_at_a.borrow(), vec![b"from b".to_vec(), big]);
    assert_eq!(a.send_credit(), 0, "signals spent no credit");
    assert!(frames_at_b.borrow().is_empty());
    assert_eq!(b.send_credit(), RECV_WINDOW_FRAMES);

    b.resume_frames();
    assert!(wait_until(3_000.0, || frames_at_b.borrow().len() == 40).await);
    let expected: Vec<Vec<u8>> = (0..40).map(|i| frame(i, 64)).collect();
    assert!(*frames_at_b.borrow() == expected);
    a.close();
    b.close();
}

#[wasm_bindgen_test]
async fn full_queue_refuses_frames_but_not_signals() {
    let Pair { a, b, .. } = pair().await;
    let (frames_at_b, on_frames) = collector();
    b.on_frame(on_frames);
    b.pause_frames();
    let (signals_at_b, on_signals) = collector();
    b.on_signal(on_signals);

    // b takes nothing, so a's credit runs out and its queue fills to the cap.
    let mut sent = 0u32;
    let refused = loop {
        match a.send_frame(&frame(sent, MAX_FRAME)) {
            Ok(()) => sent += 1,
            Err(error) => break error,
        }
        assert!(sent < 1_000, "the queue never filled");
    };
    assert_eq!(refused, LinkError::QueueFull);
    assert!(a.queued_bytes() <= MAX_QUEUED_BYTES);
    assert!(a.queued_bytes() + MAX_FRAME > MAX_QUEUED_BYTES);
    console_log!("queue full after {sent} frames of 16 KiB");

    a.send_signal(b"still through")
        .expect("signals are not held back");
    assert!(wait_until(3_000.0, || signals_at_b.borrow().len() == 1).await);
    assert!(frames_at_b.borrow().is_empty());

    b.resume_frames();
    assert!(wait_until(10_000.0, || frames_at_b.borrow().len() == sent as usize).await);
    let in_order = frames_at_b
        .borrow()
        .iter()
        .enumerate()
        .all(|(i, f)| *f == frame(i as u32, MAX_FRAME));
    assert!(in_order);
    assert_eq!(a.queued_bytes(), 0);
    a.close();
}
