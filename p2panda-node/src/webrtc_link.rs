//! A small native WebRTC transport for multi-peer tests: one reliable, ordered data channel
//! carrying whole binary frames, between two in-process peer connections ([`connect_pair`]) or
//! with an external peer such as a browser ([`offer`] and [`answer`], SDP exchanged as strings,
//! non-trickle ICE). It speaks the browser link's wire protocol (`p2panda-wasm`'s
//! `net/link/wire.rs`), so a native node and a browser node can link.
//!
//! Built on `webrtc` 0.21 (the async layer over the sans-IO `rtc` crate). Every connection is
//! pinned to loopback by construction: its only socket is bound to `127.0.0.1`, it has no ICE
//! servers (no STUN/TURN), mDNS is off (with it on, building a connection joins a multicast
//! group, and fails with ENODEV inside a network namespace), and every description, local or
//! remote, that offers a candidate whose address is not loopback is refused. Tests that open
//! links are still meant to run inside `unshare -n` (see `tests/tests/webrtc_link.rs`).
//!
//! Each link knows both session descriptions and the channel binding the sync handshake signs
//! ([`Link::binding`], computed by `p2panda_core::signal::binding_of`, as the browser does).
//!
//! # Flow control
//!
//! - Sending: [`Link::send`] waits while the channel's buffered amount is at or above
//!   [`HIGH_WATER_MARK`] and resumes once it has fallen to [`LOW_WATER_MARK`], so a sender never
//!   holds more than `HIGH_WATER_MARK + MAX_FRAME` bytes unacknowledged.
//! - Receiving: the receiver grants the sender credit for [`RECV_WINDOW_FRAMES`] frames and
//!   grants more as [`Link::recv`] takes them, so a slow reader holds at most that many frames
//!   (512 KiB) and a sender that runs out of credit waits in `send`.
//!
//! The credits are needed because SCTP's own flow control recovers badly in `rtc-sctp` 0.21.1.
//! Left to it, a slow reader lets the `webrtc` driver stop draining SCTP, the receive window
//! (1 MiB) fills and new DATA is dropped. Reading later empties the queue but schedules no SACK,
//! so the peer learns that the window reopened only when its zero-window probe is retransmitted,
//! after the retransmission timeout: at least 1 s (`RTO_MIN`, not configurable) and doubling on
//! each further timeout. Measured here without credits, 50 MiB to a slow reader: two stalls of
//! 1.9–2.0 s. With credits the receive queue always has room, the driver always drains SCTP,
//! and its window never closes (a full credit window is half of it): no stall over 20 ms.
//!
//! On the wire each data-channel message is one tag byte and its body: [`TAG_FRAME`] and a
//! frame, [`TAG_CREDIT`] and a little-endian `u32` count of further frames the sender may send, or
//! [`TAG_SIGNAL`] and one signaling message relayed over the overlay (not paid for with credit;
//! received ones wait in a small queue of their own, see [`Link::recv_signal`]).

use std::future::Future;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use p2panda_core::signal::binding_of;
use rtc::ice::mdns::MulticastDnsMode;
use tokio::sync::{mpsc, oneshot, Mutex, Notify};
use webrtc::data_channel::{DataChannel, DataChannelEvent, RTCDataChannelInit};
use webrtc::error::Error as RtcError;
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCConfigurationBuilder,
    RTCIceGatheringState, RTCPeerConnectionState, RTCSessionDescription, SettingEngineBuilder,
};

/// Largest frame [`Link::send`] accepts.
pub const MAX_FRAME: usize = 16 * 1024;
/// Largest signaling message [`Link::send_signal`] accepts and a link takes from its remote end.
pub const MAX_SIGNAL: usize = 16 * 1024;
/// `send` waits once this many bytes are buffered (handed to SCTP but not yet acknowledged).
///
/// Not more: a burst of 64 KiB is about 55 datagrams, which fit the kernel's default UDP receive
/// buffer (`net.core.rmem_default`, 208 KiB counted with per-packet overhead). At 128 KiB the
/// receiving socket overflowed (556 `RcvbufErrors` moving 160 MiB) and every loss cost an SCTP
/// retransmission timeout of at least 1 s: throughput fell from ≈125 to 8–14 MiB/s.
pub const HIGH_WATER_MARK: usize = 64 * 1024;
/// A waiting `send` resumes when the buffered amount has fallen to this.
pub const LOW_WATER_MARK: usize = 16 * 1024;
/// How many frames a sender may have sent that the receiving application has not yet taken
/// with [`Link::recv`]; also the capacity of the receive queue.
pub const RECV_WINDOW_FRAMES: usize = 32;
/// Received signaling messages a link holds until [`Link::recv_signal`] takes them. Signaling is
/// not paid for with credit, so when the queue is full further ones are dropped (their senders
/// retry or time out) rather than stalling frames.
pub const SIGNAL_QUEUE: usize = 32;

/// Tag of a message carrying one frame.
pub const TAG_FRAME: u8 = 0;
/// Tag of a message granting the remote sender credit for more frames.
pub const TAG_CREDIT: u8 = 1;
/// Tag of a message carrying one signaling message relayed over the overlay.
pub const TAG_SIGNAL: u8 = 2;

/// The data channel's label, as the browser link names it.
pub const LABEL: &str = "frames";

/// The receiver returns credit in batches of this many frames, not one message per frame.
const CREDIT_BATCH: usize = 8;
/// SCTP receive buffer (advertised window); the `rtc` default, set explicitly because the credit
/// window is sized against it.
const SCTP_RECEIVE_BUFFER: u32 = 1024 * 1024;
// Even a full credit window sitting in SCTP's queue must leave its window well open.
const _: () = assert!(RECV_WINDOW_FRAMES * (1 + MAX_FRAME) <= SCTP_RECEIVE_BUFFER as usize * 3 / 4);
/// Hard cap the `webrtc` crate enforces itself, should our gate ever be bypassed (its default is
/// unbounded).
const CRATE_SEND_BUFFER_LIMIT: usize = 256 * 1024;
/// How long `send` waits for the buffered-amount-low event before looking again: a liveness
/// backstop for a missed event, not the way it normally resumes.
const LOW_EVENT_BACKSTOP: Duration = Duration::from_millis(50);
/// ICE connectivity checks every 20 ms instead of 200 ms: the controlling side nominates the
/// pair on its next check, so this takes about 180 ms off every connection. Only while checking.
const ICE_CHECK_INTERVAL: Duration = Duration::from_millis(20);
/// Checks per candidate pair before it counts as failed: 70 × 20 ms keeps the default 1.4 s.
const ICE_MAX_CHECKS: u16 = 70;
/// How long each setup step waits: ICE gathering, the remote channel, the channel opening.
const SETUP_TIMEOUT: Duration = Duration::from_secs(15);

/// Why a link could not be set up or used.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// Building, signalling or opening the connection failed.
    #[error("WebRTC setup failed: {0}")]
    Setup(String),
    /// The link has been closed, locally or by the remote end, or its connection failed.
    #[error("link closed")]
    Closed,
    /// The frame is larger than [`MAX_FRAME`].
    #[error("frame of {0} bytes exceeds the {MAX_FRAME}-byte limit")]
    FrameTooLarge(usize),
    /// The signaling message is larger than [`MAX_SIGNAL`].
    #[error("signaling message of {0} bytes exceeds the {MAX_SIGNAL}-byte limit")]
    SignalTooLarge(usize),
    /// The `webrtc` crate refused a send for a reason other than closure.
    #[error("WebRTC send failed: {0}")]
    Send(String),
}

fn setup(context: &str, error: impl std::fmt::Display) -> LinkError {
    LinkError::Setup(format!("{context}: {error}"))
}

fn send_error(error: RtcError) -> LinkError {
    match error {
        RtcError::ErrDataChannelClosed => LinkError::Closed,
        other => LinkError::Send(other.to_string()),
    }
}

/// State shared by a [`Link`], the task taking its channel's events and its connection's handler.
struct Shared {
    /// Set once the link is unusable: closed locally, by the remote end, or the connection failed.
    closed: AtomicBool,
    closed_notify: Notify,
    /// Set by the first caller of the teardown, so it runs once.
    teardown_started: AtomicBool,
    /// Woken on every buffered-amount-low event.
    low: Notify,
    /// Frames the remote end has room for; woken (`granted`) when it grants more.
    credit: AtomicUsize,
    granted: Notify,
    /// Frames taken by `recv` whose credit has not been returned yet; `credit_due` asks the
    /// event task to return it.
    consumed: AtomicUsize,
    credit_due: Notify,
}

impl Shared {
    fn new() -> Self {
        Self {
            closed: AtomicBool::new(false),
            closed_notify: Notify::new(),
            teardown_started: AtomicBool::new(false),
            low: Notify::new(),
            credit: AtomicUsize::new(RECV_WINDOW_FRAMES),
            granted: Notify::new(),
            consumed: AtomicUsize::new(0),
            credit_due: Notify::new(),
        }
    }

    fn mark_closed(&self) {
        self.closed.store(true, Ordering::Release);
        self.closed_notify.notify_waiters();
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Resolves once the link is closed.
    async fn wait_closed(&self) {
        loop {
            // Registered before the check, so a close in between is not missed.
            let notified = self.closed_notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_closed() {
                return;
            }
            notified.await;
        }
    }
}

/// Receives the connection's events. Its methods run on the connection's driver task, so they
/// only hand things over and never wait.
struct Handler {
    shared: Arc<Shared>,
    gathered: mpsc::Sender<()>,
    /// The channel the remote end opened (used on the answering side only).
    incoming: mpsc::Sender<Arc<dyn DataChannel>>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.gathered.try_send(());
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        // `Disconnected` can recover, so only the terminal states end the link.
        if matches!(
            state,
            RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed
        ) {
            self.shared.mark_closed();
        }
    }

    async fn on_data_channel(&self, data_channel: Arc<dyn DataChannel>) {
        let _ = self.incoming.try_send(data_channel);
    }
}

/// Closes a half-built connection when dropped, unless disarmed: a connection dropped unclosed
/// keeps its driver running.
struct CloseOnDrop(Option<Arc<dyn PeerConnection>>);

impl CloseOnDrop {
    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        let Some(pc) = self.0.take() else { return };
        // Outside a runtime there is nothing left to drive the connection either.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = pc.close().await;
            });
        }
    }
}

/// One peer connection before its channel is open.
struct Peer {
    pc: Arc<dyn PeerConnection>,
    shared: Arc<Shared>,
    gathered: mpsc::Receiver<()>,
    incoming: mpsc::Receiver<Arc<dyn DataChannel>>,
    /// Closes the connection if setup is abandoned; disarmed once a [`Link`] owns it.
    guard: CloseOnDrop,
}

impl Peer {
    async fn new() -> Result<Self, LinkError> {
        let shared = Arc::new(Shared::new());
        let (gathered_tx, gathered) = mpsc::channel(1);
        let (incoming_tx, incoming) = mpsc::channel(1);
        let settings = SettingEngineBuilder::new()
            .with_multicast_dns_mode(MulticastDnsMode::Disabled)
            .with_sctp_max_receive_buffer_size(SCTP_RECEIVE_BUFFER)
            .with_ice_connection_attempts(Some(ICE_CHECK_INTERVAL), Some(ICE_MAX_CHECKS))
            .build();
        let pc = PeerConnectionBuilder::new()
            // No ICE servers: never any STUN/TURN traffic.
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_setting_engine(settings)
            .with_handler(Arc::new(Handler {
                shared: shared.clone(),
                gathered: gathered_tx,
                incoming: incoming_tx,
            }))
            // A concrete loopback address; a wildcard would bind every interface but loopback.
            .with_udp_addrs(vec!["127.0.0.1:0"])
            .with_data_channel_send_buffer_limit(CRATE_SEND_BUFFER_LIMIT)
            .build()
            .await
            .map_err(|e| setup("building a peer connection", e))?;
        let pc: Arc<dyn PeerConnection> = Arc::new(pc);
        Ok(Self {
            guard: CloseOnDrop(Some(pc.clone())),
            pc,
            shared,
            gathered,
            incoming,
        })
    }

    /// Applies `local` and returns the complete description once ICE gathering has finished
    /// (non-trickle: every candidate is in the SDP).
    async fn complete_local_description(
        &mut self,
        local: RTCSessionDescription,
    ) -> Result<String, LinkError> {
        self.pc
            .set_local_description(local)
            .await
            .map_err(|e| setup("setting the local description", e))?;
        within(SETUP_TIMEOUT, "ICE gathering", self.gathered.recv()).await?;
        let sdp = self
            .pc
            .local_description()
            .await
            .ok_or_else(|| setup("after gathering", "no local description"))?
            .sdp;
        loopback_only("local", &sdp)?;
        Ok(sdp)
    }

    /// Wraps the open-to-be channel in a [`Link`] and waits for it to open.
    async fn open(
        mut self,
        dc: Arc<dyn DataChannel>,
        descriptions: Descriptions,
    ) -> Result<Link, LinkError> {
        // From here the link owns the connection: dropping it (on failure below) closes it.
        self.guard.disarm();
        let (link, open) = Link::start(self.pc, self.shared, dc, descriptions);
        within(SETUP_TIMEOUT, "opening the data channel", async {
            open.await.ok()
        })
        .await?;
        link.dc
            .set_buffered_amount_low_threshold(LOW_WATER_MARK as u32)
            .await
            .map_err(|e| setup("setting the low-water mark", e))?;
        Ok(link)
    }
}

/// Refuses a description that offers any ICE candidate whose address is not loopback
/// (`127.0.0.0/8`, `::1`), or no candidate at all, so neither a change in the crate's gathering
/// nor a remote end can take a test off loopback unnoticed. mDNS (`*.local`) candidates are
/// refused too: their address is not known to be loopback.
fn loopback_only(which: &str, sdp: &str) -> Result<(), LinkError> {
    let mut candidates = 0;
    for line in sdp.lines().filter(|l| l.starts_with("a=candidate:")) {
        // candidate:<foundation> <component> <transport> <priority> <address> <port> typ ...
        let address = line.split_whitespace().nth(4);
        let loopback = address
            .and_then(|a| a.parse::<IpAddr>().ok())
            .is_some_and(|ip| ip.is_loopback());
        if !loopback {
            return Err(setup(&format!("{which} description"), line));
        }
        candidates += 1;
    }
    if candidates == 0 {
        return Err(setup(&format!("{which} description"), "no ICE candidate"));
    }
    Ok(())
}

async fn within<T>(
    limit: Duration,
    what: &str,
    future: impl Future<Output = Option<T>>,
) -> Result<T, LinkError> {
    match tokio::time::timeout(limit, future).await {
        Ok(Some(value)) => Ok(value),
        Ok(None) => Err(setup(what, "the connection went away")),
        Err(_) => Err(setup(what, format!("no result within {limit:?}"))),
    }
}

/// Both session descriptions of a link, as exchanged, and the binding computed from them.
#[derive(Clone)]
struct Descriptions {
    local: String,
    remote: String,
    binding: Vec<u8>,
}

impl Descriptions {
    fn new(local: String, remote: String) -> Result<Self, LinkError> {
        let binding = binding_of(&local, &remote).ok_or_else(|| {
            setup(
                "channel binding",
                "a description lacks a single, well-formed DTLS fingerprint",
            )
        })?;
        Ok(Self {
            local,
            remote,
            binding,
        })
    }
}

/// The offering side of a link, waiting for the answer. Dropping it closes the connection.
pub struct PendingOffer {
    peer: Peer,
    channel: Arc<dyn DataChannel>,
    local_sdp: String,
}

/// Starts a link as the offering side: builds the connection and its ordered, reliable
/// [`LABEL`] channel and gathers ICE candidates. Returns the pending link and the complete offer
/// (SDP) to send to the remote end; pass its answer to [`PendingOffer::accept`].
pub async fn offer() -> Result<(PendingOffer, String), LinkError> {
    let mut peer = Peer::new().await?;
    // Created before the offer so the offer carries the SCTP section.
    let channel = peer
        .pc
        .create_data_channel(
            LABEL,
            Some(RTCDataChannelInit {
                ordered: true,
                ..Default::default()
            }),
        )
        .await
        .map_err(|e| setup("creating the data channel", e))?;
    let offer = peer
        .pc
        .create_offer(None)
        .await
        .map_err(|e| setup("creating the offer", e))?;
    let local_sdp = peer.complete_local_description(offer).await?;
    let pending = PendingOffer {
        peer,
        channel,
        local_sdp: local_sdp.clone(),
    };
    Ok((pending, local_sdp))
}

impl PendingOffer {
    /// The complete offer, as returned by [`offer`].
    pub fn local_sdp(&self) -> &str {
        &self.local_sdp
    }

    /// Applies the remote end's answer (loopback candidates only, one DTLS fingerprint) and
    /// resolves once the channel is open. On failure the connection is closed.
    pub async fn accept(self, answer_sdp: &str) -> Result<Link, LinkError> {
        let Self {
            peer,
            channel,
            local_sdp,
        } = self;
        loopback_only("remote", answer_sdp)?;
        let descriptions = Descriptions::new(local_sdp, answer_sdp.to_owned())?;
        let answer = RTCSessionDescription::answer(answer_sdp.to_owned())
            .map_err(|e| setup("parsing the answer", e))?;
        peer.pc
            .set_remote_description(answer)
            .await
            .map_err(|e| setup("applying the answer", e))?;
        // The offering side's channel opens when the remote end acknowledges it.
        peer.open(channel, descriptions).await
    }
}

/// The answering side of a link, its answer made, waiting for the remote end's channel. Dropping
/// it closes the connection.
pub struct PendingAnswer {
    peer: Peer,
    descriptions: Descriptions,
}

/// Answers a remote offer (loopback candidates only, one DTLS fingerprint): returns the pending
/// link and the complete answer (SDP) to send back. [`PendingAnswer::open`] then waits for the
/// channel the offering side created.
pub async fn answer(offer_sdp: &str) -> Result<(PendingAnswer, String), LinkError> {
    loopback_only("remote", offer_sdp)?;
    let mut peer = Peer::new().await?;
    let offer = RTCSessionDescription::offer(offer_sdp.to_owned())
        .map_err(|e| setup("parsing the offer", e))?;
    peer.pc
        .set_remote_description(offer)
        .await
        .map_err(|e| setup("applying the offer", e))?;
    let answer = peer
        .pc
        .create_answer(None)
        .await
        .map_err(|e| setup("creating the answer", e))?;
    let answer_sdp = peer.complete_local_description(answer).await?;
    let descriptions = Descriptions::new(answer_sdp.clone(), offer_sdp.to_owned())?;
    Ok((PendingAnswer { peer, descriptions }, answer_sdp))
}

impl PendingAnswer {
    /// The complete answer, as returned by [`answer`].
    pub fn local_sdp(&self) -> &str {
        &self.descriptions.local
    }

    /// Resolves once the remote end's channel has arrived and is open. On failure the
    /// connection is closed.
    pub async fn open(self) -> Result<Link, LinkError> {
        let Self {
            mut peer,
            descriptions,
        } = self;
        // Handed over (already open) through `on_data_channel`.
        let channel = within(
            SETUP_TIMEOUT,
            "waiting for the remote data channel",
            peer.incoming.recv(),
        )
        .await?;
        peer.open(channel, descriptions).await
    }
}

/// Make two in-process peer connections, signal them to each other directly (offer and answer
/// SDP passed in memory as text, non-trickle), open one reliable ordered data channel, and
/// return both ends once the channel is open on both sides.
pub async fn connect_pair() -> Result<(Link, Link), LinkError> {
    let (pending_offer, offer_sdp) = offer().await?;
    let (pending_answer, answer_sdp) = answer(&offer_sdp).await?;
    // If either side fails, the other's pending link or link is dropped, which closes it.
    tokio::try_join!(pending_offer.accept(&answer_sdp), pending_answer.open())
}

/// One end of a reliable, ordered WebRTC data channel carrying whole binary frames (each at most
/// [`MAX_FRAME`] bytes) and, beside them, signaling messages.
///
/// Dropping a `Link` closes it as [`close`](Self::close) would (from its event task, so not
/// awaited): the remote end sees the closure rather than waiting for ICE to time out (≈30 s).
pub struct Link {
    pc: Arc<dyn PeerConnection>,
    dc: Arc<dyn DataChannel>,
    shared: Arc<Shared>,
    /// Behind a lock so `recv` can take `&self`: one `Link` can then send and receive at the same
    /// time (from `join!`, or shared through an `Arc`).
    frames: Mutex<mpsc::Receiver<Vec<u8>>>,
    signals: Mutex<mpsc::Receiver<Vec<u8>>>,
    /// Serialises senders, so that checking credit and the buffered amount and then sending is
    /// one step: concurrent callers cannot each add a frame past the limits.
    send_turn: Mutex<()>,
    descriptions: Descriptions,
}

impl Link {
    /// Wraps an established connection and spawns the task that takes the channel's events.
    /// The returned receiver fires once the channel is open.
    fn start(
        pc: Arc<dyn PeerConnection>,
        shared: Arc<Shared>,
        dc: Arc<dyn DataChannel>,
        descriptions: Descriptions,
    ) -> (Self, oneshot::Receiver<()>) {
        let (frames_tx, frames) = mpsc::channel(RECV_WINDOW_FRAMES);
        let (signals_tx, signals) = mpsc::channel(SIGNAL_QUEUE);
        let (open_tx, open_rx) = oneshot::channel();
        tokio::spawn(take_events(
            pc.clone(),
            dc.clone(),
            shared.clone(),
            Queues {
                frames: frames_tx,
                signals: signals_tx,
            },
            open_tx,
        ));
        let link = Self {
            pc,
            dc,
            shared,
            frames: Mutex::new(frames),
            signals: Mutex::new(signals),
            send_turn: Mutex::new(()),
            descriptions,
        };
        (link, open_rx)
    }

    /// The channel binding the sync handshake signs: `binding_of(local_sdp, remote_sdp)`, the
    /// same bytes at both ends (pass it to `Node::connect`).
    pub fn binding(&self) -> &[u8] {
        &self.descriptions.binding
    }

    /// This end's complete session description, as sent.
    pub fn local_sdp(&self) -> &str {
        &self.descriptions.local
    }

    /// The remote end's complete session description, as received.
    pub fn remote_sdp(&self) -> &str {
        &self.descriptions.remote
    }

    /// Sends one frame. Waits while the remote end has no room for another frame, and while the
    /// channel's buffered amount is at or above [`HIGH_WATER_MARK`] (until it has fallen to
    /// [`LOW_WATER_MARK`]), so a fast sender never buffers without bound. Returns
    /// [`LinkError::Closed`] once the link is closed.
    pub async fn send(&self, frame: &[u8]) -> Result<(), LinkError> {
        if frame.len() > MAX_FRAME {
            return Err(LinkError::FrameTooLarge(frame.len()));
        }
        self.send_frame(frame).await
    }

    /// Fault injection: [`send`](Self::send) without the [`MAX_FRAME`] check, so a test can
    /// play a peer that breaks the link protocol (the remote end is expected to hang up).
    pub async fn send_unchecked(&self, frame: &[u8]) -> Result<(), LinkError> {
        self.send_frame(frame).await
    }

    async fn send_frame(&self, frame: &[u8]) -> Result<(), LinkError> {
        let _turn = self.send_turn.lock().await;
        self.wait_for_credit().await?;
        self.wait_below_high_water().await?;
        if self.shared.is_closed() {
            return Err(LinkError::Closed);
        }
        let mut message = BytesMut::with_capacity(1 + frame.len());
        message.put_u8(TAG_FRAME);
        message.extend_from_slice(frame);
        // Spent before sending: if this call is cancelled mid-send, a credit is lost (harmless),
        // never used twice (which would overrun the receiver).
        self.shared.credit.fetch_sub(1, Ordering::AcqRel);
        self.dc.send(message).await.map_err(send_error)
    }

    /// Sends one signaling message (an encoded `SignalMessage`) beside the frames. Not paid for
    /// with credit and not held at the high-water mark: signaling is small and rare, and must
    /// get through while frames wait.
    pub async fn send_signal(&self, message: &[u8]) -> Result<(), LinkError> {
        if message.len() > MAX_SIGNAL {
            return Err(LinkError::SignalTooLarge(message.len()));
        }
        if self.shared.is_closed() {
            return Err(LinkError::Closed);
        }
        let mut bytes = BytesMut::with_capacity(1 + message.len());
        bytes.put_u8(TAG_SIGNAL);
        bytes.extend_from_slice(message);
        self.dc.send(bytes).await.map_err(send_error)
    }

    async fn wait_for_credit(&self) -> Result<(), LinkError> {
        loop {
            // Registered before the check, so a grant in between is not missed.
            let granted = self.shared.granted.notified();
            tokio::pin!(granted);
            granted.as_mut().enable();
            if self.shared.is_closed() {
                return Err(LinkError::Closed);
            }
            if self.shared.credit.load(Ordering::Acquire) > 0 {
                return Ok(());
            }
            tokio::select! {
                _ = granted => {}
                _ = self.shared.wait_closed() => return Err(LinkError::Closed),
            }
        }
    }

    async fn wait_below_high_water(&self) -> Result<(), LinkError> {
        if self.buffered().await? < HIGH_WATER_MARK {
            return Ok(());
        }
        loop {
            // Registered before the check, so an event in between is not missed.
            let low = self.shared.low.notified();
            tokio::pin!(low);
            low.as_mut().enable();
            if self.shared.is_closed() {
                return Err(LinkError::Closed);
            }
            if self.buffered().await? <= LOW_WATER_MARK {
                return Ok(());
            }
            tokio::select! {
                _ = low => {}
                _ = self.shared.wait_closed() => return Err(LinkError::Closed),
                _ = tokio::time::sleep(LOW_EVENT_BACKSTOP) => {}
            }
        }
    }

    async fn buffered(&self) -> Result<usize, LinkError> {
        self.dc.outstanding_bytes().await.map_err(send_error)
    }

    /// Bytes handed to [`send`](Self::send) that the remote has not acknowledged yet (the
    /// crate's `outstanding_bytes`, which unlike SCTP's `bufferedAmount` also counts bytes not
    /// yet split into packets). 0 once the link is closed.
    pub async fn buffered_amount(&self) -> usize {
        self.buffered().await.unwrap_or(0)
    }

    /// Next received frame; `None` once the channel or the connection has closed (locally, by
    /// the remote end closing or dropping its `Link`, or because the connection failed) and the
    /// frames received before that have been read. Cancel-safe.
    pub async fn recv(&self) -> Option<Vec<u8>> {
        let frame = self.frames.lock().await.recv().await?;
        if self.shared.consumed.fetch_add(1, Ordering::AcqRel) + 1 >= CREDIT_BATCH {
            // The event task sends the credit, so this call never waits on the network.
            self.shared.credit_due.notify_one();
        }
        Some(frame)
    }

    /// Next received signaling message (the body of a [`TAG_SIGNAL`] message, not checked
    /// further); `None` once the link has closed and the queue is empty. At most
    /// [`SIGNAL_QUEUE`] wait here; more are dropped. Cancel-safe.
    pub async fn recv_signal(&self) -> Option<Vec<u8>> {
        self.signals.lock().await.recv().await
    }

    /// Whether the link is closed (locally, by the remote end, or because the connection failed).
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }

    /// Closes the data channel and the peer connection. The remote end learns at once (SCTP
    /// ABORT and DTLS close_notify) and its `recv` returns `None` soon after. Idempotent.
    pub async fn close(&self) {
        teardown(&self.pc, &self.dc, &self.shared).await;
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        // The event task sees this and tears the connection down; without that the crate's
        // driver would keep running after every handle is gone.
        self.shared.mark_closed();
    }
}

async fn teardown(pc: &Arc<dyn PeerConnection>, dc: &Arc<dyn DataChannel>, shared: &Shared) {
    shared.mark_closed();
    if shared.teardown_started.swap(true, Ordering::AcqRel) {
        return;
    }
    // Errors only say the channel or connection is already gone, which is the goal.
    let _ = dc.close().await;
    let _ = pc.close().await;
}

/// Where the event task puts what arrives.
struct Queues {
    frames: mpsc::Sender<Vec<u8>>,
    signals: mpsc::Sender<Vec<u8>>,
}

/// Takes the data channel's events: reports the open, wakes waiting senders on the
/// buffered-amount-low event and on credit from the remote end, queues received frames for
/// `recv` and signaling messages for `recv_signal`, and returns credit for frames `recv` has
/// taken.
///
/// Never waits for the application: the credit window guarantees the receive queue has room, so
/// the `webrtc` driver can always deliver and keep draining SCTP. A remote end that sends beyond
/// its credit, a frame or signaling message over its limit, or an unknown message breaks the
/// protocol and closes the link.
///
/// Ends, which ends the receive queues, when the channel or connection closes; a closure not
/// started by this end is completed by tearing this end down too.
async fn take_events(
    pc: Arc<dyn PeerConnection>,
    dc: Arc<dyn DataChannel>,
    shared: Arc<Shared>,
    queues: Queues,
    open: oneshot::Sender<()>,
) {
    let mut open = Some(open);
    loop {
        let event = tokio::select! {
            event = dc.poll() => event,
            _ = shared.credit_due.notified() => {
                let count = shared.consumed.swap(0, Ordering::AcqRel) as u32;
                let mut message = BytesMut::with_capacity(5);
                message.put_u8(TAG_CREDIT);
                message.put_u32_le(count);
                // Bypasses the high-water gate: 5 bytes, and it is what lets data flow.
                if dc.send(message).await.is_err() {
                    break;
                }
                continue;
            }
            _ = shared.wait_closed() => break,
        };
        match event {
            Some(DataChannelEvent::OnOpen) => {
                if let Some(open) = open.take() {
                    let _ = open.send(());
                }
            }
            Some(DataChannelEvent::OnBufferedAmountLow) => shared.low.notify_waiters(),
            Some(DataChannelEvent::OnMessage(message)) => match message.data.split_first() {
                Some((&TAG_FRAME, frame)) if frame.len() <= MAX_FRAME => {
                    // Full: the remote sent beyond its credit. Closed: the `Link` is gone.
                    if queues.frames.try_send(frame.to_vec()).is_err() {
                        break;
                    }
                }
                Some((&TAG_CREDIT, count)) => {
                    let Ok(count) = <[u8; 4]>::try_from(count) else {
                        break;
                    };
                    let count = u32::from_le_bytes(count);
                    shared.credit.fetch_add(count as usize, Ordering::AcqRel);
                    shared.granted.notify_waiters();
                }
                Some((&TAG_SIGNAL, signal)) if signal.len() <= MAX_SIGNAL => {
                    // Full or nobody reading: dropped, see `SIGNAL_QUEUE`.
                    let _ = queues.signals.try_send(signal.to_vec());
                }
                _ => break,
            },
            Some(DataChannelEvent::OnClose) | None => break,
            Some(_) => {}
        }
    }
    // Closed before the queues end, so a `send` after `recv` returned `None` fails.
    shared.mark_closed();
    drop(queues);
    teardown(&pc, &dc, &shared).await;
}
