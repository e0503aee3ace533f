//! One sync session: the handshake, the credit accounting of both directions, and what is queued
//! to send. The [`Node`](super::Node) decides what to fetch and what to store; a session only
//! keeps the books and builds frames.

use std::collections::{BTreeSet, HashMap, VecDeque};

use crate::small_map::SmallSet;

use crate::blake2b::Params;

use crate::festival::Topic;
use crate::identity::{KeyPair, PublicKey};
use crate::store::{LogKey, MemoryStore};

use super::error::SyncError;
use super::wire::{
    single_entry_frame_len, Blinded, EntriesFrame, Have, Head, Message, Nonce, Want, BLINDED_LEN,
    HEAD_LEN, MAX_FRAME,
};

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    AwaitHello,
    AwaitAuth {
        remote_nonce: Nonce,
    },
    Live,
    /// A `Close` frame is queued; the session ends once it is sent.
    Closing,
}

/// Entries `after < seq <= until` of one log, asked for by one side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Range {
    pub after: u64,
    pub until: u64,
}

impl Range {
    pub fn contains(&self, seq: u64) -> bool {
        self.after < seq && seq <= self.until
    }
}

#[derive(Debug)]
pub(super) struct Session {
    pub phase: Phase,
    local_nonce: Nonce,
    binding: Vec<u8>,
    pub remote_key: Option<PublicKey>,
    /// Topics both sides want; nothing else is exchanged.
    pub shared: SmallSet<Topic>,
    /// What the remote holds (as it announced, or as this side sent it).
    pub remote_heights: HashMap<LogKey, u64>,
    /// The remote has finished its first announcement.
    pub remote_announced_all: bool,
    pub caught_up: bool,
    /// What this side asked for and has not fully received.
    pub requests: HashMap<LogKey, Range>,
    /// What the remote asked for and this side has not fully sent, in order of asking.
    serving: VecDeque<(LogKey, Range)>,
    /// Logs to announce (with their height when the frame is built).
    pub announce: BTreeSet<LogKey>,
    /// The first announcement is not finished (its last frame carries `complete`).
    first_announcement: bool,
    pub wants: VecDeque<Want>,
    /// Handshake and close frames: free, and sent first (then any credit owed).
    control: VecDeque<Vec<u8>>,
    window: u64,
    /// Bytes this side may still send, and at most.
    send_credit: u64,
    remote_window: u64,
    /// Bytes the remote may still send.
    recv_credit: u64,
    /// Bytes received and handled since credit was last returned.
    unreturned: u64,
    pub last_heard: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

impl Session {
    pub fn new(local_nonce: Nonce, binding: &[u8], window: u64, now: u64) -> Self {
        let mut session = Session {
            phase: Phase::AwaitHello,
            local_nonce,
            binding: binding.to_vec(),
            remote_key: None,
            shared: SmallSet::new(),
            remote_heights: HashMap::new(),
            remote_announced_all: false,
            caught_up: false,
            requests: HashMap::new(),
            serving: VecDeque::new(),
            announce: BTreeSet::new(),
            first_announcement: true,
            wants: VecDeque::new(),
            control: VecDeque::new(),
            window,
            send_credit: 0,
            remote_window: 0,
            recv_credit: window,
            unreturned: 0,
            last_heard: now,
            bytes_sent: 0,
            bytes_received: 0,
        };
        session.push_control(Message::Hello {
            version: super::PROTOCOL_VERSION,
            nonce: local_nonce,
        });
        session
    }

    fn push_control(&mut self, message: Message) {
        self.control.push_back(message.encode());
    }

    /// Answer the remote's hello: prove our key over its nonce and name our topics, blinded.
    pub fn on_hello(
        &mut self,
        version: u64,
        remote_nonce: Nonce,
        key_pair: &KeyPair,
        topics: &SmallSet<Topic>,
    ) -> Result<(), SyncError> {
        if version != super::PROTOCOL_VERSION {
            return Err(SyncError::UnsupportedVersion(version));
        }
        if remote_nonce == self.local_nonce {
            return Err(SyncError::NonceReuse);
        }
        let proof = proof_message(
            &remote_nonce,
            &self.local_nonce,
            &key_pair.public_key(),
            &self.binding,
        );
        let topics = topics
            .iter()
            .map(|topic| blind(topic, &self.local_nonce, &remote_nonce))
            .collect();
        self.push_control(Message::Auth {
            key: key_pair.public_key(),
            signature: key_pair.sign(&proof),
            window: self.window,
            topics,
        });
        self.phase = Phase::AwaitAuth { remote_nonce };
        Ok(())
    }

    /// Check the remote's key proof and find the topics both sides want.
    pub fn on_auth(
        &mut self,
        remote_nonce: Nonce,
        key: PublicKey,
        signature: &[u8],
        window: u64,
        remote_topics: &[Blinded],
        topics: &SmallSet<Topic>,
    ) -> Result<(), SyncError> {
        let proof = proof_message(&self.local_nonce, &remote_nonce, &key, &self.binding);
        key.verify(&proof, signature)
            .map_err(|_| SyncError::BadProof)?;
        self.shared = topics
            .iter()
            .filter(|topic| remote_topics.contains(&blind(topic, &self.local_nonce, &remote_nonce)))
            .copied()
            .collect();
        self.remote_key = Some(key);
        self.send_credit = window;
        self.remote_window = window;
        self.phase = Phase::Live;
        Ok(())
    }

    /// Pay for a received frame out of the window this side granted.
    pub fn charge(&mut self, len: usize) -> Result<(), SyncError> {
        if len as u64 > self.recv_credit {
            return Err(SyncError::CreditExceeded {
                sent: len,
                credit: self.recv_credit,
            });
        }
        self.recv_credit -= len as u64;
        Ok(())
    }

    /// A paid frame has been handled: its bytes are free again. They are returned once a quarter
    /// window has gathered (so credit frames stay rare; a sender stuck waiting for credit always
    /// has more than that outstanding), and count as returned only when the frame is sent.
    pub fn handled(&mut self, len: usize) {
        self.unreturned += len as u64;
    }

    fn credit_frame(&mut self) -> Option<Vec<u8>> {
        if self.phase != Phase::Live || self.unreturned < self.window / 4 {
            return None;
        }
        let bytes = std::mem::take(&mut self.unreturned);
        self.recv_credit += bytes;
        Some(Message::Credit(bytes).encode())
    }

    pub fn on_credit(&mut self, bytes: u64) -> Result<(), SyncError> {
        // An honest remote never grants more than the window it announced.
        let credit = self.send_credit.saturating_add(bytes);
        if credit > self.remote_window {
            return Err(SyncError::OutOfTurn("credit"));
        }
        self.send_credit = credit;
        Ok(())
    }

    /// Remember that the remote asked for a range; one request per log at a time.
    pub fn serve(&mut self, log: LogKey, range: Range) -> Result<(), SyncError> {
        if self.serving.iter().any(|(l, _)| *l == log) {
            return Err(SyncError::OutOfTurn("want"));
        }
        self.serving.push_back((log, range));
        Ok(())
    }

    /// End the session: only a `Close` frame is sent from now on.
    pub fn close(&mut self, message: Message) {
        self.control.clear();
        self.push_control(message);
        self.phase = Phase::Closing;
    }

    /// The next frame to send, if any is ready and paid for.
    pub fn next_frame(&mut self, store: &MemoryStore) -> Option<Vec<u8>> {
        let frame = self
            .control
            .pop_front()
            .or_else(|| self.credit_frame())
            .or_else(|| {
                if self.phase != Phase::Live {
                    return None;
                }
                let budget = usize::try_from(self.send_credit)
                    .unwrap_or(usize::MAX)
                    .min(MAX_FRAME);
                let frame = self
                    .have_frame(store, budget)
                    .or_else(|| self.want_frame(budget))
                    .or_else(|| self.entries_frame(store, budget))?;
                self.send_credit -= frame.len() as u64;
                Some(frame)
            })?;
        self.bytes_sent += frame.len() as u64;
        Some(frame)
    }

    fn have_frame(&mut self, store: &MemoryStore, budget: usize) -> Option<Vec<u8>> {
        if self.announce.is_empty() && !self.first_announcement {
            return None;
        }
        // kind, complete flag, a count of up to 3 bytes, then logs of at most 68 bytes each.
        const HAVE_LEN: usize = 32 + 10 + 10 + HEAD_LEN;
        let room = budget.checked_sub(5)? / HAVE_LEN;
        if room == 0 {
            return None;
        }
        let mut logs = Vec::new();
        while logs.len() < room {
            let Some(log) = self.announce.pop_first() else {
                break;
            };
            let height = store.height(log);
            // Skip what the remote has, except in the first announcement: there the head lets
            // the remote spot a fork even when both hold as much.
            let known = self.remote_heights.get(&log).is_some_and(|h| *h >= height);
            if known && !self.first_announcement {
                continue;
            }
            logs.push(Have {
                log,
                height,
                head: head_of(store, log, height),
            });
        }
        let complete = self.first_announcement && self.announce.is_empty();
        if logs.is_empty() && !complete {
            return None;
        }
        self.first_announcement &= !complete;
        Some(Message::Have { complete, logs }.encode())
    }

    fn want_frame(&mut self, budget: usize) -> Option<Vec<u8>> {
        const WANT_LEN: usize = 32 + 10 + 10 + 10 + HEAD_LEN;
        let room = budget.checked_sub(4)? / WANT_LEN;
        let take = room.min(self.wants.len());
        if take == 0 {
            return None;
        }
        Some(Message::Want(self.wants.drain(..take).collect()).encode())
    }

    /// Entries the remote asked for, as many as fit the budget, in order per log. Logs take turns
    /// frame by frame, so the first entries of every log (a festival's creation, its resources)
    /// arrive early instead of waiting behind another log's whole history.
    fn entries_frame(&mut self, store: &MemoryStore, budget: usize) -> Option<Vec<u8>> {
        let mut frame = EntriesFrame::new(budget);
        while let Some((log, range)) = self.serving.front_mut() {
            let (log, seq) = (*log, range.after + 1);
            let Some(stored) = store.get(log, seq) else {
                // Only asked-for entries this side holds are served; the store never shrinks.
                self.serving.pop_front();
                continue;
            };
            let (entry, payload) = (stored.entry.bytes(), &stored.payload[..]);
            if !frame.push(entry, payload) {
                debug_assert!(single_entry_frame_len(entry, payload) <= MAX_FRAME);
                self.serving.rotate_left(1);
                break;
            }
            range.after = seq;
            if range.after >= range.until {
                self.serving.pop_front();
            }
            let known = self.remote_heights.entry(log).or_default();
            *known = (*known).max(seq);
        }
        (!frame.is_empty()).then(|| frame.into_bytes())
    }
}

/// The first bytes of the hash of a log's entry at `seq`; zeros for seq 0.
pub(super) fn head_of(store: &MemoryStore, log: LogKey, seq: u64) -> Head {
    let mut head = [0; HEAD_LEN];
    if let Some(stored) = store.get(log, seq) {
        head.copy_from_slice(&stored.entry.hash().as_bytes()[..HEAD_LEN]);
    }
    head
}

/// What a side signs to prove its key: bound to both nonces (fresh per session, so a proof cannot
/// be replayed) and to the transport's binding (e.g. DTLS fingerprints, so it cannot be relayed).
fn proof_message(verifier: &Nonce, prover: &Nonce, key: &PublicKey, binding: &[u8]) -> Vec<u8> {
    let domain = b"p2panda sync v1 key proof";
    [domain, &verifier[..], &prover[..], key.as_bytes(), binding].concat()
}

/// A topic as sent: salted with both nonces, so it names only festivals the other side already
/// knows the id of, and cannot be linked across sessions.
fn blind(topic: &Topic, a: &Nonce, b: &Nonce) -> Blinded {
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    let hash = Params::new()
        .hash_length(BLINDED_LEN)
        .personal(b"p2panda-topic-v1")
        .to_state()
        .update(low)
        .update(high)
        .update(topic.as_bytes())
        .finalize();
    hash.as_bytes().try_into().expect("BLINDED_LEN bytes")
}
