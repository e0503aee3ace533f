//! An established (or opening) link: the data channel's events, the send queue with its credit
//! and buffered-amount gates, and delivery of received frames and signals to callbacks.
//!
//! Everything runs on one thread's event loop. State lives in `RefCell`s that are never borrowed
//! while application code runs: callbacks are taken out of their slot for the call, so they may
//! call back into the link (send, pause, close, replace themselves).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::rc::{Rc, Weak};

use futures::channel::oneshot;
use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::spawn_local;
use web_sys::{
    MessageEvent, RtcDataChannel, RtcDataChannelEvent, RtcDataChannelState, RtcDataChannelType,
    RtcPeerConnection, RtcPeerConnectionState,
};

use super::wire::{self, Incoming, CREDIT_BATCH, MAX_FRAME, MAX_SIGNAL, RECV_WINDOW_FRAMES};
use super::{
    js_message, LinkError, HIGH_WATER_MARK, LABEL, LOW_WATER_MARK, MAX_QUEUED_BYTES,
    MAX_QUEUED_SIGNALS, QUEUE_LOW_WATER, TAG_FRAME, TAG_SIGNAL,
};

/// A JS event handler. Each captures only a `Weak` of the link, so handlers never keep it alive.
type Handler = Closure<dyn FnMut(JsValue)>;

/// Resolves once the data channel is open, or with the reason the link closed before that.
pub(crate) type Opened = oneshot::Receiver<Result<(), LinkError>>;

#[derive(Default)]
struct Callbacks {
    on_frame: Option<Box<dyn FnMut(Vec<u8>)>>,
    on_signal: Option<Box<dyn FnMut(Vec<u8>)>>,
    on_writable: Option<Box<dyn FnMut()>>,
    on_close: Option<Box<dyn FnOnce(LinkError)>>,
}

struct State {
    /// Why the link closed; `Some` once it has.
    closed: Option<LinkError>,
    /// Encoded messages (tag included) not yet handed to the channel. Signals go first and need
    /// no credit.
    signals_out: VecDeque<Vec<u8>>,
    frames_out: VecDeque<Vec<u8>>,
    /// Body bytes in each of the two queues above. Only frames count against
    /// `MAX_QUEUED_BYTES`, so a full frame queue never holds signals back.
    frame_bytes: usize,
    signal_bytes: usize,
    /// Frames the remote end has room for.
    send_credit: u32,
    /// Set when a send left the queue at or above `QUEUE_LOW_WATER`: `on_writable` fires once it
    /// falls below.
    writable_armed: bool,
    /// Frames the remote end may still send before it needs more credit from us.
    recv_credit: u32,
    /// Received, not yet taken by the application (at most `RECV_WINDOW_FRAMES`).
    frames_in: VecDeque<Vec<u8>>,
    signals_in: VecDeque<Vec<u8>>,
    /// Frames taken whose credit has not been returned yet.
    taken: u32,
    paused: bool,
}

impl State {
    fn new() -> Self {
        Self {
            closed: None,
            signals_out: VecDeque::new(),
            frames_out: VecDeque::new(),
            frame_bytes: 0,
            signal_bytes: 0,
            send_credit: RECV_WINDOW_FRAMES,
            writable_armed: false,
            recv_credit: RECV_WINDOW_FRAMES,
            frames_in: VecDeque::new(),
            signals_in: VecDeque::new(),
            taken: 0,
            paused: false,
        }
    }

    fn queued_bytes(&self) -> usize {
        self.frame_bytes + self.signal_bytes
    }

    /// The next message the gates allow, taken off its queue.
    fn next_outgoing(&mut self) -> Option<Vec<u8>> {
        if let Some(signal) = self.signals_out.pop_front() {
            self.signal_bytes -= signal.len() - 1;
            return Some(signal);
        }
        if self.send_credit == 0 {
            return None;
        }
        let frame = self.frames_out.pop_front()?;
        self.send_credit -= 1;
        self.frame_bytes -= frame.len() - 1;
        Some(frame)
    }
}

pub(crate) struct Inner {
    pc: RtcPeerConnection,
    /// Set at once on the offering side, from `ondatachannel` on the answering side.
    dc: RefCell<Option<RtcDataChannel>>,
    state: RefCell<State>,
    callbacks: RefCell<Callbacks>,
    handlers: RefCell<Vec<Handler>>,
    opened: RefCell<Option<oneshot::Sender<Result<(), LinkError>>>>,
    binding: RefCell<Vec<u8>>,
    /// Re-entrancy guards: a callback that resumes delivery must not start a nested loop.
    delivering_frames: Cell<bool>,
    delivering_signals: Cell<bool>,
}

impl Inner {
    /// Wraps a fresh peer connection and watches its state from now on, so a failure during
    /// setup is seen too.
    pub(crate) fn new(pc: RtcPeerConnection) -> (Rc<Self>, Opened) {
        let (opened_tx, opened) = oneshot::channel();
        let inner = Rc::new(Self {
            pc,
            dc: RefCell::new(None),
            state: RefCell::new(State::new()),
            callbacks: RefCell::new(Callbacks::default()),
            handlers: RefCell::new(Vec::new()),
            opened: RefCell::new(Some(opened_tx)),
            binding: RefCell::new(Vec::new()),
            delivering_frames: Cell::new(false),
            delivering_signals: Cell::new(false),
        });
        let on_state = inner.handler(|inner, _| inner.on_connection_state());
        inner
            .pc
            .set_onconnectionstatechange(Some(on_state.as_ref().unchecked_ref()));
        inner.handlers.borrow_mut().push(on_state);
        (inner, opened)
    }

    pub(crate) fn pc(&self) -> &RtcPeerConnection {
        &self.pc
    }

    pub(crate) fn set_binding(&self, binding: Vec<u8>) {
        *self.binding.borrow_mut() = binding;
    }

    fn handler(self: &Rc<Self>, f: impl Fn(&Rc<Inner>, JsValue) + 'static) -> Handler {
        let weak: Weak<Inner> = Rc::downgrade(self);
        Closure::new(move |event: JsValue| {
            if let Some(inner) = weak.upgrade() {
                f(&inner, event);
            }
        })
    }

    /// Answering side: take the channel the remote end opens.
    pub(crate) fn accept_channel(self: &Rc<Self>) {
        let on_channel = self.handler(|inner, event| inner.on_data_channel(event));
        self.pc
            .set_ondatachannel(Some(on_channel.as_ref().unchecked_ref()));
        self.handlers.borrow_mut().push(on_channel);
    }

    /// Installs the channel's handlers. Done before the channel opens, so no event is missed.
    pub(crate) fn attach(self: &Rc<Self>, dc: RtcDataChannel) {
        dc.set_binary_type(RtcDataChannelType::Arraybuffer);
        dc.set_buffered_amount_low_threshold(LOW_WATER_MARK as u32);
        let handlers = [
            self.handler(|inner, _| inner.on_open()),
            self.handler(|inner, event| inner.on_message(event)),
            self.handler(|inner, _| inner.shutdown(LinkError::Closed)),
            self.handler(|inner, event| inner.on_channel_error(event)),
            self.handler(|inner, _| {
                inner.pump();
                inner.notify_writable();
            }),
        ];
        let [open, message, close, error, low] = &handlers;
        dc.set_onopen(Some(open.as_ref().unchecked_ref()));
        dc.set_onmessage(Some(message.as_ref().unchecked_ref()));
        dc.set_onclose(Some(close.as_ref().unchecked_ref()));
        dc.set_onerror(Some(error.as_ref().unchecked_ref()));
        dc.set_onbufferedamountlow(Some(low.as_ref().unchecked_ref()));
        self.handlers.borrow_mut().extend(handlers);
        let already_open = dc.ready_state() == RtcDataChannelState::Open;
        *self.dc.borrow_mut() = Some(dc);
        if already_open {
            self.on_open();
        }
    }

    fn on_data_channel(self: &Rc<Self>, event: JsValue) {
        let Ok(event) = event.dyn_into::<RtcDataChannelEvent>() else {
            return;
        };
        let dc = event.channel();
        if self.dc.borrow().is_some() || dc.label() != LABEL {
            let label = dc.label();
            dc.close();
            self.violation(format!("an unexpected data channel \"{label}\""));
            return;
        }
        self.attach(dc);
    }

    /// The channel failed. An SCTP "User-Initiated Abort" (cause 12) is how the remote end's
    /// `close()` of its connection arrives, so that counts as an orderly close.
    fn on_channel_error(self: &Rc<Self>, event: JsValue) {
        const SCTP_USER_INITIATED_ABORT: f64 = 12.0;
        let error = js_sys::Reflect::get(&event, &JsValue::from_str("error")).ok();
        let cause = error
            .as_ref()
            .and_then(|e| js_sys::Reflect::get(e, &JsValue::from_str("sctpCauseCode")).ok())
            .and_then(|c| c.as_f64());
        if cause == Some(SCTP_USER_INITIATED_ABORT) {
            return self.shutdown(LinkError::Closed);
        }
        let detail = error.map(|e| js_message(&e)).unwrap_or_default();
        self.shutdown(LinkError::Failed(format!("data channel error: {detail}")));
    }

    fn on_open(self: &Rc<Self>) {
        if let Some(opened) = self.opened.borrow_mut().take() {
            let _ = opened.send(Ok(()));
        }
        self.pump();
    }

    fn on_connection_state(self: &Rc<Self>) {
        let state = self.pc.connection_state();
        // Disconnected could recover, but for a link a lost path means the node should redial.
        if matches!(
            state,
            RtcPeerConnectionState::Failed
                | RtcPeerConnectionState::Disconnected
                | RtcPeerConnectionState::Closed
        ) {
            let state = match state {
                RtcPeerConnectionState::Failed => "failed",
                RtcPeerConnectionState::Disconnected => "disconnected",
                _ => "closed",
            };
            self.shutdown(LinkError::Failed(format!("connection {state}")));
        }
    }

    fn on_message(self: &Rc<Self>, event: JsValue) {
        let Ok(event) = event.dyn_into::<MessageEvent>() else {
            return;
        };
        let Ok(buffer) = event.data().dyn_into::<ArrayBuffer>() else {
            return self.violation("a message that is not binary".into());
        };
        // Checked before copying, so an oversized message costs nothing.
        let len = buffer.byte_length() as usize;
        if len > 1 + MAX_FRAME.max(MAX_SIGNAL) {
            return self.violation(format!("a message of {len} bytes"));
        }
        match wire::decode(Uint8Array::new(&buffer).to_vec()) {
            Err(violation) => self.violation(violation),
            Ok(Incoming::Frame(frame)) => {
                {
                    let mut state = self.state.borrow_mut();
                    if state.closed.is_some() {
                        return;
                    }
                    if state.recv_credit == 0 {
                        drop(state);
                        return self.violation("a frame beyond the granted credit".into());
                    }
                    state.recv_credit -= 1;
                    state.frames_in.push_back(frame);
                }
                self.deliver_frames();
            }
            Ok(Incoming::Credit(count)) => {
                let granted = {
                    let mut state = self.state.borrow_mut();
                    let total = state
                        .send_credit
                        .checked_add(count)
                        .filter(|total| *total <= RECV_WINDOW_FRAMES);
                    if let Some(total) = total {
                        state.send_credit = total;
                    }
                    total.is_some()
                };
                if !granted {
                    return self.violation(format!("credit for {count} frames beyond the window"));
                }
                self.pump();
                self.notify_writable();
            }
            Ok(Incoming::Signal(signal)) => {
                {
                    let mut state = self.state.borrow_mut();
                    if state.closed.is_some() {
                        return;
                    }
                    if state.signals_in.len() >= MAX_QUEUED_SIGNALS {
                        drop(state);
                        return self.violation("too many undelivered signals".into());
                    }
                    state.signals_in.push_back(signal);
                }
                self.deliver_signals();
            }
        }
    }

    fn violation(self: &Rc<Self>, what: String) {
        self.shutdown(LinkError::Protocol(format!("the remote end sent {what}")));
    }

    /// Calls the callback in `slot` with no borrow held, then puts it back unless the link
    /// closed or the callback installed a replacement meanwhile. `false` if there was none.
    fn call<C: ?Sized>(
        &self,
        slot: fn(&mut Callbacks) -> &mut Option<Box<C>>,
        f: impl FnOnce(&mut C),
    ) -> bool {
        let Some(mut callback) = slot(&mut self.callbacks.borrow_mut()).take() else {
            return false;
        };
        f(&mut callback);
        if self.state.borrow().closed.is_none() {
            let mut callbacks = self.callbacks.borrow_mut();
            let slot = slot(&mut callbacks);
            if slot.is_none() {
                *slot = Some(callback);
            }
        }
        true
    }

    /// Hands queued frames to `on_frame`, in order, while not paused; returns credit for them.
    fn deliver_frames(self: &Rc<Self>) {
        if self.delivering_frames.replace(true) {
            return;
        }
        loop {
            let frame = {
                let mut state = self.state.borrow_mut();
                if state.closed.is_some()
                    || state.paused
                    || self.callbacks.borrow().on_frame.is_none()
                {
                    break;
                }
                state.frames_in.pop_front()
            };
            let Some(frame) = frame else { break };
            self.call(|c| &mut c.on_frame, |f| f(frame));
            self.took_frame();
        }
        self.delivering_frames.set(false);
    }

    fn deliver_signals(self: &Rc<Self>) {
        if self.delivering_signals.replace(true) {
            return;
        }
        loop {
            let signal = {
                let mut state = self.state.borrow_mut();
                if state.closed.is_some() || self.callbacks.borrow().on_signal.is_none() {
                    break;
                }
                state.signals_in.pop_front()
            };
            let Some(signal) = signal else { break };
            self.call(|c| &mut c.on_signal, |f| f(signal));
        }
        self.delivering_signals.set(false);
    }

    /// The application took a frame: return credit once a batch is due.
    fn took_frame(self: &Rc<Self>) {
        let count = {
            let mut state = self.state.borrow_mut();
            if state.closed.is_some() {
                return;
            }
            state.taken += 1;
            if state.taken < CREDIT_BATCH {
                return;
            }
            let count = std::mem::take(&mut state.taken);
            state.recv_credit += count;
            count
        };
        // Bypasses both gates: 5 bytes, and it is what lets the remote end's data flow.
        if let Some(dc) = self.channel() {
            self.send_now(&dc, &wire::encode_credit(count));
        }
    }

    fn channel(&self) -> Option<RtcDataChannel> {
        self.dc.borrow().clone()
    }

    /// Hands one message to the channel; a refusal closes the link.
    fn send_now(self: &Rc<Self>, dc: &RtcDataChannel, message: &[u8]) -> bool {
        match dc.send_with_u8_array(message) {
            Ok(()) => true,
            Err(error) => {
                let reason = format!("the data channel refused a send: {}", js_message(&error));
                self.shutdown(LinkError::Failed(reason));
                false
            }
        }
    }

    /// Hands queued messages to the channel while the buffered amount is below the high-water
    /// mark (and, for frames, while the remote end has credit). The `bufferedamountlow` event
    /// and incoming credit call it again.
    fn pump(self: &Rc<Self>) {
        let Some(dc) = self.channel() else { return };
        if dc.ready_state() != RtcDataChannelState::Open {
            return;
        }
        while (dc.buffered_amount() as usize) < HIGH_WATER_MARK {
            let message = {
                let mut state = self.state.borrow_mut();
                if state.closed.is_some() {
                    return;
                }
                state.next_outgoing()
            };
            let Some(message) = message else { return };
            if !self.send_now(&dc, &message) {
                return;
            }
        }
    }

    /// Fires `on_writable` if a send left the queue at or above `QUEUE_LOW_WATER` and it has
    /// fallen below. Only called from channel events, never from inside a send.
    fn notify_writable(self: &Rc<Self>) {
        {
            let mut state = self.state.borrow_mut();
            if state.closed.is_some()
                || !state.writable_armed
                || state.queued_bytes() >= QUEUE_LOW_WATER
            {
                return;
            }
            state.writable_armed = false;
        }
        self.call(|c| &mut c.on_writable, |f| f());
    }

    fn enqueue(self: &Rc<Self>, tag: u8, body: &[u8]) -> Result<(), LinkError> {
        let limit = if tag == TAG_FRAME {
            MAX_FRAME
        } else {
            MAX_SIGNAL
        };
        if body.len() > limit {
            return Err(LinkError::FrameTooLarge(body.len()));
        }
        {
            let mut state = self.state.borrow_mut();
            if state.closed.is_some() {
                return Err(LinkError::Closed);
            }
            let full = if tag == TAG_FRAME {
                state.frame_bytes + body.len() > MAX_QUEUED_BYTES
            } else {
                state.signals_out.len() >= MAX_QUEUED_SIGNALS
            };
            if full {
                return Err(LinkError::QueueFull);
            }
            let message = wire::encode(tag, body);
            if tag == TAG_FRAME {
                state.frames_out.push_back(message);
                state.frame_bytes += body.len();
            } else {
                state.signals_out.push_back(message);
                state.signal_bytes += body.len();
            }
        }
        self.pump();
        let mut state = self.state.borrow_mut();
        if state.closed.is_some() {
            return Err(LinkError::Closed);
        }
        if state.queued_bytes() >= QUEUE_LOW_WATER {
            state.writable_armed = true;
        }
        Ok(())
    }

    /// Runs `deliver` for this link from a microtask, so registering a callback or resuming
    /// never calls application code from inside the application's own call.
    fn deliver_later(self: &Rc<Self>, deliver: fn(&Rc<Inner>)) {
        let weak = Rc::downgrade(self);
        spawn_local(async move {
            if let Some(inner) = weak.upgrade() {
                deliver(&inner);
            }
        });
    }

    /// Removes every handler from the channel and connection and closes both.
    fn detach_and_close(&self) {
        if let Some(dc) = self.dc.borrow().as_ref() {
            dc.set_onopen(None);
            dc.set_onmessage(None);
            dc.set_onclose(None);
            dc.set_onerror(None);
            dc.set_onbufferedamountlow(None);
            dc.close();
        }
        self.pc.set_onconnectionstatechange(None);
        self.pc.set_ondatachannel(None);
        self.pc.close();
    }

    /// Closes the link once, for `reason`: tears down channel and connection, fails a pending
    /// open, drops queued data and fires `on_close` (from a microtask).
    pub(crate) fn shutdown(self: &Rc<Self>, reason: LinkError) {
        {
            let mut state = self.state.borrow_mut();
            if state.closed.is_some() {
                return;
            }
            state.closed = Some(reason.clone());
            state.signals_out.clear();
            state.frames_out.clear();
            state.frame_bytes = 0;
            state.signal_bytes = 0;
            state.frames_in.clear();
            state.signals_in.clear();
        }
        self.detach_and_close();
        if let Some(opened) = self.opened.borrow_mut().take() {
            let _ = opened.send(Err(reason.clone()));
        }
        // One of these handlers may be running right now: drop them after it has returned.
        let handlers = std::mem::take(&mut *self.handlers.borrow_mut());
        // Also breaks cycles through callbacks that hold a `Link`.
        let callbacks = std::mem::take(&mut *self.callbacks.borrow_mut());
        spawn_local(async move {
            drop(handlers);
            let Callbacks { on_close, .. } = callbacks;
            if let Some(on_close) = on_close {
                on_close(reason);
            }
        });
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The last handle went away without `close()`: close anyway, quietly.
        if self.state.get_mut().closed.is_none() {
            self.detach_and_close();
        }
        let handlers = std::mem::take(self.handlers.get_mut());
        if !handlers.is_empty() {
            spawn_local(async move { drop(handlers) });
        }
    }
}

/// One end of a WebRTC data channel carrying whole frames (each at most [`MAX_FRAME`] bytes)
/// and signaling messages, with the credit and back-pressure rules of the native link.
///
/// A cheap handle: clones share the link. Everything is callback-driven on the current
/// thread's event loop; nothing blocks. Dropping the last handle closes the connection without
/// firing `on_close`. Callbacks that hold a `Link` keep it alive until it closes (closing drops
/// all callbacks).
#[derive(Clone)]
pub struct Link {
    inner: Rc<Inner>,
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state.borrow();
        f.debug_struct("Link")
            .field("closed", &state.closed)
            .field("queued_bytes", &state.queued_bytes())
            .field("send_credit", &state.send_credit)
            .finish_non_exhaustive()
    }
}

impl Link {
    pub(crate) fn new(inner: Rc<Inner>) -> Self {
        Self { inner }
    }

    /// Queues one frame and hands what the gates allow to the channel; never blocks.
    ///
    /// Errors: [`LinkError::FrameTooLarge`] above [`MAX_FRAME`], [`LinkError::QueueFull`] when
    /// queued frames would exceed [`MAX_QUEUED_BYTES`](super::MAX_QUEUED_BYTES),
    /// [`LinkError::Closed`] once the link is closed.
    pub fn send_frame(&self, frame: &[u8]) -> Result<(), LinkError> {
        self.inner.enqueue(TAG_FRAME, frame)
    }

    /// Queues one signaling message (at most [`MAX_SIGNAL`] bytes). Signals go ahead of queued
    /// frames, use no frame credit and are not held back by a full frame queue; at most
    /// [`MAX_QUEUED_SIGNALS`](super::MAX_QUEUED_SIGNALS) may wait ([`LinkError::QueueFull`]).
    /// Other errors as for `send_frame`.
    pub fn send_signal(&self, signal: &[u8]) -> Result<(), LinkError> {
        self.inner.enqueue(TAG_SIGNAL, signal)
    }

    /// Bytes (frames and signals) waiting in this link's own queue, not yet handed to the
    /// channel.
    pub fn queued_bytes(&self) -> usize {
        self.inner.state.borrow().queued_bytes()
    }

    /// The channel's `bufferedAmount`: bytes handed to it but not yet sent.
    pub fn buffered_amount(&self) -> u32 {
        self.inner.channel().map_or(0, |dc| dc.buffered_amount())
    }

    /// Frames the remote end currently has room for (our send credit).
    pub fn send_credit(&self) -> u32 {
        self.inner.state.borrow().send_credit
    }

    /// Received frames are handed to `f` in order. Credit for a frame is counted as returned
    /// once `f` has returned. Frames that arrived before a callback was set are delivered from
    /// a microtask.
    pub fn on_frame(&self, f: impl FnMut(Vec<u8>) + 'static) {
        if self.is_closed() {
            return;
        }
        self.inner.callbacks.borrow_mut().on_frame = Some(Box::new(f));
        self.inner.deliver_later(Inner::deliver_frames);
    }

    /// Received signaling messages are handed to `f` in order. Until one is set, up to
    /// [`MAX_QUEUED_SIGNALS`](super::MAX_QUEUED_SIGNALS) wait; one more closes the link.
    pub fn on_signal(&self, f: impl FnMut(Vec<u8>) + 'static) {
        if self.is_closed() {
            return;
        }
        self.inner.callbacks.borrow_mut().on_signal = Some(Box::new(f));
        self.inner.deliver_later(Inner::deliver_signals);
    }

    /// `f` fires when the queue falls below [`QUEUE_LOW_WATER`](super::QUEUE_LOW_WATER) bytes
    /// after a send left it at or above that. A producer sends until `queued_bytes()` reaches
    /// it, then waits for this.
    pub fn on_writable(&self, f: impl FnMut() + 'static) {
        if self.is_closed() {
            return;
        }
        self.inner.callbacks.borrow_mut().on_writable = Some(Box::new(f));
    }

    /// `f` fires once when the link closes, with the reason: [`LinkError::Closed`] when either
    /// end closed it, [`LinkError::Failed`] when the connection failed or was lost,
    /// [`LinkError::Protocol`] when the remote end broke the protocol. Set after the link
    /// closed, it fires at once (from a microtask).
    pub fn on_close(&self, f: impl FnOnce(LinkError) + 'static) {
        let closed = self.inner.state.borrow().closed.clone();
        match closed {
            Some(reason) => spawn_local(async move { f(reason) }),
            None => self.inner.callbacks.borrow_mut().on_close = Some(Box::new(f)),
        }
    }

    /// Stops handing frames to `on_frame`. Up to [`RECV_WINDOW_FRAMES`] wait; since their
    /// credit is not returned, the remote end stops sending. For an application that is busy
    /// (e.g. writing to storage) with what it has.
    pub fn pause_frames(&self) {
        self.inner.state.borrow_mut().paused = true;
    }

    /// Resumes delivery after [`pause_frames`](Self::pause_frames) (from a microtask).
    pub fn resume_frames(&self) {
        self.inner.state.borrow_mut().paused = false;
        self.inner.deliver_later(Inner::deliver_frames);
    }

    /// Whether the link has closed, for any reason.
    pub fn is_closed(&self) -> bool {
        self.inner.state.borrow().closed.is_some()
    }

    /// The channel binding (see [`binding_of`](super::binding_of)); identical on both ends.
    pub fn binding(&self) -> Vec<u8> {
        self.inner.binding.borrow().clone()
    }

    /// Closes the channel and the connection; the remote end notices within moments.
    /// Idempotent. Queued and undelivered data is dropped.
    pub fn close(&self) {
        self.inner.shutdown(LinkError::Closed);
    }
}
